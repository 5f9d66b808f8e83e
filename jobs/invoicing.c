/* invoicing — see invoicing.h: the fetches around the pure core, and the
 * writing of its result as an invoice or a correction document.
 *
 * Reads only the ledger: boundary readings come from the rollup's cache
 * meter_day (per meter and local day, the first and last reading), never
 * from whole-fleet InfluxDB queries (shared/notes/perf-baselines.md); the
 * job has the rollup fill the days it needs first. Every statement is a
 * cached prepared one, so one subscriber costs a handful of index lookups.
 */
#include "invoicing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "lifecycle.h"
#include "norms.h"
#include "payment.h"
#include "registry.h"
#include "rules.h"

_Static_assert(ASKUE_BILL_LINES_MAX <= ASKUE_INVOICE_LINES_MAX,
               "an invoice holds every line the billing core can give");

struct billing {
	struct askue_ledger *l;
	struct askue_rules *rules;
	struct askue_norms *norms; /* NULL: no norms table (estimation by average only) */
	struct askue_tariff_cache *tariffs; /* each tariff's versions, read once a run */
	struct askue_bill_params params;
	struct askue_bill_segment seg[ASKUE_BILL_SEGMENTS_MAX];
	struct askue_bill_reading readings[ASKUE_BILL_SEGMENTS_MAX][BILLING_READINGS_MAX];
	struct askue_bill_version versions[ASKUE_BILL_VERSIONS_MAX];
	struct askue_bill_history history[ASKUE_BILL_HISTORY_MAX];
};

enum askue_err billing_open(const struct askue_config *cfg, struct askue_ledger *l,
                            struct billing **out)
{
	struct billing *b = calloc(1, sizeof *b);
	if (!b)
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	b->l = l;
	askue_bill_params_from_config(cfg, &b->params);
	enum askue_err err = askue_rules_load(cfg->billing_rules_dir, &b->rules);
	if (err) {
		askue_err_prefix("[billing] rules_dir: ");
		free(b);
		return err;
	}
	if ((err = askue_tariff_cache_new(&b->tariffs))) {
		billing_close(b);
		return err;
	}
	char path[ASKUE_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/norms.csv", cfg->billing_rules_dir);
	if (access(path, F_OK) == 0 && (err = askue_norms_load(path, &b->norms))) {
		billing_close(b);
		return err;
	}
	*out = b;
	return ASKUE_OK;
}

enum askue_err billing_due(const struct billing *b, struct askue_period period,
                           struct askue_date *out)
{
	return askue_rules_due_date(b->rules, period, out);
}

void billing_close(struct billing *b)
{
	if (!b)
		return;
	askue_rules_free(b->rules);
	askue_norms_free(b->norms);
	askue_tariff_cache_free(b->tariffs);
	free(b);
}

static struct askue_date col_date(sqlite3_stmt *st, int col)
{
	struct askue_date d = {0};
	if (askue_date_parse(askue_column_text(st, col), &d))
		d.days = 0;
	return d;
}

/* The account, the norm key, the registration date and whether the
 * account is closed. */
static enum askue_err load_subscriber(struct billing *b, int64_t id, struct billing_doc *doc,
                                      struct askue_norm_key *key, struct askue_date *registered,
                                      int *closed)
{
	static const char sql[] = "SELECT account, residents, rooms, stove, settlement, registered,"
	                          " status = 'closed' FROM subscriber WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(doc->account, sizeof doc->account, "%s", askue_column_text(st, 0));
		key->residents = sqlite3_column_int(st, 1);
		key->rooms = sqlite3_column_int(st, 2);
		key->electric_stove = !strcmp(askue_column_text(st, 3), "electric");
		key->rural = !strcmp(askue_column_text(st, 4), "rural");
		*registered = col_date(st, 5);
		*closed = sqlite3_column_int(st, 6);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "subscriber %lld not found", (long long)id);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(b->l, rc, "subscriber");
}

/* Registers from columns col..col+3 (r0..r3; NULL = absent). */
static struct askue_bill_reading col_registers(sqlite3_stmt *st, int col, int64_t ts)
{
	struct askue_bill_reading r = {.ts = ts};
	for (int i = 0; i < ASKUE_BILL_REGISTERS; i++) {
		if (sqlite3_column_type(st, col + i) != SQLITE_NULL) {
			r.wh[i] = sqlite3_column_int64(st, col + i);
			r.mask |= 1u << i;
		}
	}
	return r;
}

/* Append r unless it is not after the last one (ascending, no two at one
 * instant); 1 when the array is full (a month gives at most 64). */
static int push_reading(struct askue_bill_reading *arr, int *n, struct askue_bill_reading r)
{
	if (*n > 0 && arr[*n - 1].ts >= r.ts)
		return 0;
	if (*n == BILLING_READINGS_MAX)
		return 1;
	arr[(*n)++] = r;
	return 0;
}

#define DAY_COLUMNS                                                                        \
	"day, first_ts, first_r0_wh, first_r1_wh, first_r2_wh, first_r3_wh, last_ts, last_r0_wh," \
	" last_r1_wh, last_r2_wh, last_r3_wh FROM meter_day WHERE serial = ?1"

/* The readings of a meter around and inside [first, end), in one indexed
 * range of meter_day: the last reading of the nearest day before, the
 * first and last of every day inside, the first of the nearest day after. */
static enum askue_err load_readings(struct billing *b, const char *serial,
                                    struct askue_date first, struct askue_date end,
                                    struct askue_bill_reading *arr, int *n)
{
	static const char sql[] =
		"SELECT " DAY_COLUMNS
		" AND day >= coalesce((SELECT max(day) FROM meter_day WHERE serial = ?1 AND day < ?2), ?2)"
		" AND day <= coalesce((SELECT min(day) FROM meter_day WHERE serial = ?1 AND day >= ?3), ?3)"
		" ORDER BY day";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	char f[ASKUE_DATE_BUF], e[ASKUE_DATE_BUF];
	askue_date_format(first, f);
	askue_date_format(end, e);
	askue_bind_text(st, 1, serial);
	sqlite3_bind_text(st, 2, f, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e, -1, SQLITE_STATIC);
	*n = 0;
	int rc, full = 0;
	while (!full && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *day = askue_column_text(st, 0);
		if (strcmp(day, f) >= 0) /* inside or after: its first reading */
			full |= push_reading(arr, n, col_registers(st, 2, sqlite3_column_int64(st, 1)));
		if (strcmp(day, e) < 0) /* before or inside: its last reading */
			full |= push_reading(arr, n, col_registers(st, 7, sqlite3_column_int64(st, 6)));
	}
	sqlite3_reset(st);
	if (full)
		return askue_err_set(ASKUE_ERR_LIMIT, "meter %s: more than %d readings in a period",
		                     serial, BILLING_READINGS_MAX);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(b->l, rc, "meter days");
}

/* The end values of the meter on the subscriber's latest earlier invoice
 * that has it (usually the previous period's): periods chain without a gap
 * even when a period was not invoiced (its energy then counts in this one,
 * not lost). The core ignores values older than the meter's installation. */
static enum askue_err load_previous(struct billing *b, int64_t sid, struct askue_period period,
                                    struct askue_bill_segment *s)
{
	static const char sql[] =
		"SELECT r.zone_idx, r.end_ts, r.end_wh, r.end_how FROM invoice_reading r"
		" JOIN invoice i ON i.id = r.invoice_id"
		" WHERE i.subscriber_id = ?1 AND r.serial = ?3 AND i.period = ("
		"  SELECT max(i2.period) FROM invoice i2 JOIN invoice_reading r2 ON r2.invoice_id = i2.id"
		"  WHERE i2.subscriber_id = ?1 AND i2.period < ?2 AND r2.serial = ?3)"
		" ORDER BY r.seq";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	askue_bind_period(st, 2, period);
	askue_bind_text(st, 3, s->serial);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int z = sqlite3_column_int(st, 0);
		if (z < 0 || z >= ASKUE_BILL_REGISTERS)
			continue;
		s->previous.ts = sqlite3_column_int64(st, 1);
		s->previous.wh[z] = sqlite3_column_int64(st, 2);
		s->previous.mask |= 1u << z;
		if (!strcmp(askue_column_text(st, 3), "estimated"))
			s->previous_estimated = 1;
	}
	sqlite3_reset(st);
	s->has_previous = s->previous.mask != 0;
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(b->l, rc, "previous invoice");
}

/* Fill segment s from the installation row st is on. */
static enum askue_err segment_of(sqlite3_stmt *st, const struct askue_bill_input *in,
                                 struct askue_bill_segment *s)
{
	memset(s, 0, sizeof *s);
	s->installed = col_date(st, 0);
	s->has_removed = sqlite3_column_type(st, 1) != SQLITE_NULL;
	s->removed = col_date(st, 1);
	snprintf(s->serial, sizeof s->serial, "%s", askue_column_text(st, 10));
	s->zones = sqlite3_column_int(st, 11);
	s->capacity_wh = sqlite3_column_int64(st, 12);
	enum askue_err err = askue_date_start(s->installed, &s->installed_ts);
	if (!err && s->has_removed)
		err = askue_date_start(s->removed, &s->removed_ts);
	if (err)
		return err;
	s->at_install = col_registers(st, 2, s->installed_ts);
	if (s->has_removed)
		s->at_removal = col_registers(st, 6, s->removed_ts);
	struct askue_meter m = {.verification_interval_years = sqlite3_column_int(st, 15)};
	m.commissioned = col_date(st, 13);
	m.has_last_verified = sqlite3_column_type(st, 14) != SQLITE_NULL;
	m.last_verified = col_date(st, 14);
	struct askue_date last = askue_date_add_days(in->end, -1);
	if (s->has_removed && s->removed.days <= last.days)
		last = s->removed;
	s->verification_overdue = askue_lifecycle_verification_overdue(&m, last);
	return ASKUE_OK;
}

static enum askue_err load_segments(struct billing *b, int64_t sid, struct askue_bill_input *in)
{
	static const char sql[] =
		"SELECT i.installed, i.removed, i.in_r0_wh, i.in_r1_wh, i.in_r2_wh, i.in_r3_wh,"
		" i.out_r0_wh, i.out_r1_wh, i.out_r2_wh, i.out_r3_wh, m.serial, m.zones,"
		" m.capacity_wh, m.commissioned, m.last_verified, m.verification_interval_years"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" WHERE i.subscriber_id = ?1 AND i.installed < ?3 AND (i.removed IS NULL OR i.removed > ?2)"
		" ORDER BY i.installed, i.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	askue_bind_date(st, 2, in->first);
	askue_bind_date(st, 3, in->end);
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !err) {
		if (n == ASKUE_BILL_SEGMENTS_MAX) {
			err = askue_err_set(ASKUE_ERR_LIMIT, "more than %d meters in the period",
			                    ASKUE_BILL_SEGMENTS_MAX);
			break;
		}
		err = segment_of(st, in, &b->seg[n++]);
	}
	sqlite3_reset(st);
	if (!err && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = askue_ledger_fail(b->l, rc, "installations");
	for (int i = 0; !err && i < n; i++) {
		struct askue_bill_segment *s = &b->seg[i];
		int nr = 0;
		if (!(err = load_readings(b, s->serial, in->first, in->end, b->readings[i], &nr)))
			err = load_previous(b, sid, in->period, s);
		s->readings = b->readings[i];
		s->n_readings = nr;
	}
	in->segments = b->seg;
	in->n_segments = n;
	return err;
}

/* The billed periods before this one (up to ASKUE_BILL_HISTORY_MAX),
 * oldest first, from the invoices' lines. */
static enum askue_err load_history(struct billing *b, int64_t sid, struct askue_bill_input *in)
{
	static const char sql[] =
		"SELECT i.period, coalesce(json_extract(i.details, '$.days'), 0),"
		" coalesce(json_extract(i.details, '$.how'), 'measured'), l.zone_idx, sum(l.wh)"
		" FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id"
		" WHERE i.subscriber_id = ?1 AND i.period < ?2 AND i.period >= ?3"
		" GROUP BY i.period, l.zone_idx ORDER BY i.period, l.zone_idx";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	askue_bind_period(st, 2, in->period);
	askue_bind_period(st, 3, askue_period_add(in->period, -ASKUE_BILL_HISTORY_MAX));
	int rc, n = 0;
	char last[16] = "";
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = askue_column_text(st, 0);
		if (strcmp(p, last) != 0) {
			if (n == ASKUE_BILL_HISTORY_MAX)
				break;
			struct askue_bill_history *h = &b->history[n++];
			memset(h, 0, sizeof *h);
			snprintf(last, sizeof last, "%s", p);
			if (askue_period_parse(p, &h->period) ||
			    askue_bill_how_parse(askue_column_text(st, 2), &h->how))
				h->how = ASKUE_BILL_MEASURED;
			h->days = sqlite3_column_int(st, 1);
		}
		int z = sqlite3_column_int(st, 3);
		if (z >= 0 && z < ASKUE_BILL_REGISTERS)
			b->history[n - 1].wh[z] += sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	in->history = b->history;
	in->n_history = n;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(b->l, rc, "history");
}

/* The subscriber's days in the period: from the registration; a closed
 * account's end with its last meter's (it has no closing date; without a
 * meter it has none in the period). */
static void served_days(struct askue_bill_input *in, struct askue_date registered, int closed)
{
	in->has_served = 1;
	in->served_first = registered.days > in->first.days ? registered : in->first;
	if (in->served_first.days > in->end.days)
		in->served_first = in->end;
	in->served_end = in->end;
	if (!closed)
		return;
	in->served_end = in->served_first;
	for (int i = 0; i < in->n_segments; i++) {
		const struct askue_bill_segment *s = &in->segments[i];
		struct askue_date e = s->has_removed && s->removed.days < in->end.days ? s->removed : in->end;
		if (e.days > in->served_end.days)
			in->served_end = e;
	}
}

static int64_t norm_of(struct billing *b, const struct askue_norm_key *key, struct askue_date on)
{
	int64_t wh;
	if (!b->norms || askue_norms_month_wh(b->norms, key, on, &wh))
		return -1;
	return wh;
}

enum askue_err billing_compute(struct billing *b, int64_t subscriber_id,
                               struct askue_period period, struct billing_doc *doc)
{
	memset(doc, 0, sizeof *doc);
	doc->subscriber_id = subscriber_id;
	doc->period = period;
	struct askue_norm_key key = {0};
	struct askue_bill_input in = {.period = period, .params = b->params};
	struct askue_date registered = {0};
	int closed = 0;
	in.first = askue_period_first(period);
	in.end = askue_period_end(period);
	enum askue_err err = load_subscriber(b, subscriber_id, doc, &key, &registered, &closed);
	if (!err)
		err = askue_date_start(in.first, &in.start_ts);
	if (!err)
		err = askue_date_start(in.end, &in.end_ts);
	if (!err)
		err = askue_rules_due_date(b->rules, period, &doc->due);
	if (!err)
		err = load_segments(b, subscriber_id, &in);
	if (!err)
		err = load_history(b, subscriber_id, &in);
	int nv = 0;
	if (!err)
		err = askue_tariff_load_for_billing_cached(b->l, b->tariffs, subscriber_id, in.first,
		                                           in.end, b->versions, ASKUE_BILL_VERSIONS_MAX,
		                                           &nv);
	if (err) {
		askue_err_prefix("account %s: ", doc->account);
		return err;
	}
	in.versions = b->versions;
	in.n_versions = nv;
	served_days(&in, registered, closed);
	in.norm_wh_month = norm_of(b, &key, in.first);
	if ((err = askue_bill_compute(&in, &doc->res))) {
		askue_err_prefix("account %s: ", doc->account);
		return err;
	}
	doc->billed = doc->res.n_lines > 0;
	return ASKUE_OK;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static cJSON *exception_json(const struct billing_doc *doc, const struct askue_bill_exception *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "account", doc->account);
	cJSON_AddStringToObject(o, "kind", askue_bill_exception_name(e->kind));
	if (e->serial[0])
		cJSON_AddStringToObject(o, "serial", e->serial);
	if (e->zone_idx >= 0)
		askue_json_add_int(o, "register", e->zone_idx);
	cJSON_AddStringToObject(o, "text", e->text);
	return o;
}

void billing_exceptions_json(const struct billing_doc *doc, cJSON *arr)
{
	for (int i = 0; i < doc->res.n_ex; i++)
		cJSON_AddItemToArray(arr, exception_json(doc, &doc->res.ex[i]));
}

/* What the invoice keeps besides its columns: how it was computed. No
 * clock, no run: the same inputs give the same text. */
static char *details_of(const struct billing_doc *doc)
{
	const struct askue_bill_result *r = &doc->res;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "how", askue_bill_how_name(r->how));
	askue_json_add_int(d, "days", r->days);
	askue_json_add_int(d, "wh", r->wh);
	if (r->usual_wh_day_den > 0 && r->usual_wh_day_num > 0) {
		askue_json_add_int(d, "usual_wh_day_num", r->usual_wh_day_num);
		askue_json_add_int(d, "usual_wh_day_den", r->usual_wh_day_den);
	}
	cJSON *ex = cJSON_AddArrayToObject(d, "exceptions");
	for (int i = 0; i < r->n_ex; i++) {
		cJSON *o = exception_json(doc, &r->ex[i]);
		cJSON_DeleteItemFromObject(o, "account");
		cJSON_AddItemToArray(ex, o);
	}
	char *s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return s;
}

static void fill_lines(const struct askue_bill_result *r, struct askue_invoice_line *out)
{
	for (int i = 0; i < r->n_lines; i++) {
		const struct askue_bill_line *s = &r->lines[i];
		struct askue_invoice_line *d = &out[i];
		memset(d, 0, sizeof *d);
		d->line_no = i + 1;
		copy(d->zone, sizeof d->zone, s->zone);
		d->zone_idx = s->zone_idx;
		d->energy.wh = s->wh;
		d->price = s->price;
		d->amount = s->amount;
		copy(d->tariff, sizeof d->tariff, s->tariff);
		d->price_from = s->price_from;
		d->days_from = s->days_from;
		d->days_to = s->days_to;
		d->band = s->band;
		copy(d->how, sizeof d->how, askue_bill_how_name(s->how));
		copy(d->note, sizeof d->note, s->note);
	}
}

static void fill_readings(const struct askue_bill_result *r, struct askue_invoice_reading *out)
{
	for (int i = 0; i < r->n_determinants; i++) {
		const struct askue_bill_determinant *s = &r->determinants[i];
		struct askue_invoice_reading *d = &out[i];
		memset(d, 0, sizeof *d);
		d->seq = i + 1;
		copy(d->serial, sizeof d->serial, s->serial);
		d->zone_idx = s->zone_idx;
		d->start_ts = s->start_ts;
		d->start.wh = s->start_wh;
		copy(d->start_how, sizeof d->start_how, askue_bill_source_name(s->start_how));
		d->end_ts = s->end_ts;
		d->end.wh = s->end_wh;
		copy(d->end_how, sizeof d->end_how, askue_bill_source_name(s->end_how));
		d->energy.wh = s->wh;
		copy(d->note, sizeof d->note, s->note);
	}
}

static enum askue_err journal_money(struct askue_ledger *l, const char *type, const char *subject,
                                    cJSON *d)
{
	enum askue_err err = d ? askue_journal_append(l, type, subject, d)
	                       : askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	cJSON_Delete(d);
	return err;
}

/* The previous invoice, still current (unpaid), stops being current: its
 * balance is the new invoice's debt. */
static enum askue_err supersede(struct askue_ledger *l, const struct askue_account_since *since,
                                const char *account, const char *by)
{
	if (!since->last_invoice_id || strcmp(since->last_status, "current") != 0)
		return ASKUE_OK;
	static const char sql[] = "SELECT number FROM invoice WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, since->last_invoice_id);
	char number[ASKUE_INVOICE_NUMBER_BUF] = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		copy(number, sizeof number, askue_column_text(st, 0));
	sqlite3_reset(st);
	if ((err = askue_invoice_set_status_tx(l, since->last_invoice_id, "superseded")))
		return err;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "number", number);
	cJSON_AddStringToObject(d, "by", by);
	char num[ASKUE_NUM_BUF]; /* money in details: roubles (docs/events.md) */
	cJSON_AddStringToObject(d, "debt", askue_money_format(since->balance, num));
	return journal_money(l, ASKUE_EV_INVOICE_SUPERSEDED, account, d);
}

static enum askue_err post_invoice(struct askue_ledger *l, const struct askue_invoice *inv,
                                   int64_t now)
{
	struct askue_posting p = {.subscriber_id = inv->subscriber_id,
	                          .date = inv->issued,
	                          .has_period = 1,
	                          .period = inv->period,
	                          .amount = inv->charges,
	                          .invoice_id = inv->id,
	                          .created = now};
	copy(p.kind, sizeof p.kind, "invoice");
	enum askue_err err = askue_posting_add_tx(l, &p);
	if (err)
		return err;
	char period[16], num[ASKUE_NUM_BUF], due[ASKUE_DATE_BUF];
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "number", inv->number);
	cJSON_AddStringToObject(d, "period", askue_period_format(inv->period, period));
	cJSON_AddStringToObject(d, "due", askue_date_format(inv->due, due));
	cJSON_AddStringToObject(d, "charges", askue_money_format(inv->charges, num));
	cJSON_AddStringToObject(d, "total", askue_money_format(inv->total, num));
	cJSON_AddBoolToObject(d, "estimated", inv->estimated);
	return journal_money(l, ASKUE_EV_INVOICE_ISSUED, inv->account, d);
}

static enum askue_err money_sum(struct askue_money a, struct askue_money b, struct askue_money *out)
{
	enum askue_err err = askue_money_add(a, b, out);
	return err ? askue_err_set(ASKUE_ERR_RANGE, "invoice total out of range") : ASKUE_OK;
}

/* The document's money from the account: total = previous - payments +
 * penalties + corrections + charges, which is the balance after posting. */
static enum askue_err fill_money(const struct askue_account_since *since,
                                 const struct billing_doc *doc, struct askue_invoice *inv)
{
	inv->previous = since->previous;
	inv->payments = since->payments;
	inv->penalties = since->penalties;
	inv->corrections = since->corrections;
	inv->charges = doc->res.charges;
	struct askue_money before = {since->previous.kop - since->payments.kop +
	                             since->penalties.kop + since->corrections.kop};
	/* Every posting since the last invoice is one of the three kinds. */
	if (before.kop != since->balance.kop)
		return askue_err_set(ASKUE_ERR_DB, "account %s: postings since the last invoice do not"
		                     " add up to the balance", doc->account);
	return money_sum(before, inv->charges, &inv->total);
}

/* Periods are invoiced in order: an invoice's previous balance and its
 * start values are the last invoice's, so a period before one already
 * invoiced is refused (correct that period instead). */
static enum askue_err check_order(struct billing *b, const struct billing_doc *doc)
{
	static const char sql[] =
		"SELECT period FROM invoice WHERE subscriber_id = ? AND period > ? ORDER BY period LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(b->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, doc->subscriber_id);
	askue_bind_period(st, 2, doc->period);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = askue_err_set(ASKUE_ERR_CONFLICT, "account %s: %s is invoiced already, a later"
		                    " period: an earlier one is corrected, not issued",
		                    doc->account, askue_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		err = askue_ledger_fail(b->l, rc, "later invoices");
	sqlite3_reset(st);
	return err;
}

enum askue_err billing_issue_tx(struct billing *b, const struct billing_doc *doc,
                                struct askue_date issued, int64_t run_id, int64_t now,
                                char *number_out)
{
	struct askue_account_since since;
	enum askue_err err = check_order(b, doc);
	if (!err)
		err = askue_account_since_last_invoice(b->l, doc->subscriber_id, &since);
	if (err)
		return err;
	struct askue_invoice_line lines[ASKUE_BILL_LINES_MAX];
	struct askue_invoice_reading readings[ASKUE_BILL_DETERMINANTS_MAX];
	struct askue_invoice inv = {.subscriber_id = doc->subscriber_id,
	                            .period = doc->period,
	                            .issued = issued,
	                            .due = doc->due,
	                            .estimated = doc->res.estimated,
	                            .run_id = run_id,
	                            .n_lines = doc->res.n_lines,
	                            .lines = lines,
	                            .n_readings = doc->res.n_determinants,
	                            .readings = readings};
	askue_invoice_number(doc->period, doc->account, inv.number);
	copy(inv.account, sizeof inv.account, doc->account);
	if ((err = fill_money(&since, doc, &inv)))
		return err;
	fill_lines(&doc->res, lines);
	fill_readings(&doc->res, readings);
	if (!(inv.details = details_of(doc)))
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	err = askue_invoice_insert_tx(b->l, &inv);
	cJSON_free(inv.details);
	if (!err)
		err = post_invoice(b->l, &inv, now);
	if (!err)
		err = supersede(b->l, &since, inv.account, inv.number);
	if (!err)
		err = askue_account_settle_tx(b->l, doc->subscriber_id);
	if (!err && number_out)
		copy(number_out, ASKUE_INVOICE_NUMBER_BUF, inv.number);
	return err;
}

static cJSON *lines_json(const struct askue_bill_result *r)
{
	char num[ASKUE_NUM_BUF];
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < r->n_lines; i++) {
		const struct askue_bill_line *s = &r->lines[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "zone", s->zone);
		cJSON_AddItemToObject(o, "kwh",
		                      cJSON_CreateRaw(askue_energy_format_kwh((struct askue_energy){s->wh},
		                                                              num)));
		cJSON_AddStringToObject(o, "price", askue_price_format(s->price, num));
		cJSON_AddStringToObject(o, "amount", askue_money_format(s->amount, num));
		cJSON_AddStringToObject(o, "how", askue_bill_how_name(s->how));
		if (s->note[0])
			cJSON_AddStringToObject(o, "note", s->note);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static enum askue_err post_correction(struct billing *b, const struct askue_invoice *inv,
                                      const struct billing_doc *doc, struct askue_correction *c,
                                      int64_t now)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "lines", lines_json(&doc->res));
	cJSON_AddStringToObject(d, "how", askue_bill_how_name(doc->res.how));
	char *details = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	c->details = details;
	enum askue_err err = details ? askue_correction_add_tx(b->l, c, now)
	                             : askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	cJSON_free(details);
	c->details = NULL;
	if (err)
		return err;
	char period[16];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "number", c->number);
	cJSON_AddStringToObject(j, "invoice", inv->number);
	cJSON_AddStringToObject(j, "period", askue_period_format(c->period, period));
	char num[ASKUE_NUM_BUF];
	cJSON_AddStringToObject(j, "amount", askue_money_format(c->amount, num));
	cJSON_AddStringToObject(j, "reason", c->reason);
	if ((err = journal_money(b->l, ASKUE_EV_CORRECTION_MADE, inv->account, j)))
		return err;
	return askue_account_settle_tx(b->l, c->subscriber_id);
}

static void correction_detail(cJSON *o, const struct askue_invoice *inv, struct askue_money done,
                              struct askue_money now_charges, struct askue_money diff)
{
	if (!o)
		return;
	cJSON_AddStringToObject(o, "invoice", inv->number);
	cJSON_AddStringToObject(o, "account", inv->account);
	char num[ASKUE_NUM_BUF];
	cJSON_AddStringToObject(o, "issued", askue_money_format(inv->charges, num));
	cJSON_AddStringToObject(o, "corrected", askue_money_format(done, num));
	cJSON_AddStringToObject(o, "recomputed", askue_money_format(now_charges, num));
	cJSON_AddStringToObject(o, "difference", askue_money_format(diff, num));
}

enum askue_err billing_correct_tx(struct billing *b, int64_t subscriber_id,
                                  struct askue_period period, struct askue_date date,
                                  const char *reason, int apply, int64_t run_id, int64_t now,
                                  struct askue_money *diff_out, cJSON *detail)
{
	struct askue_invoice *inv;
	enum askue_err err = askue_invoice_get_period(b->l, subscriber_id, period, &inv);
	if (err == ASKUE_ERR_NOT_FOUND) {
		char p[16];
		return askue_err_set(err, "no invoice was issued for %s", askue_period_format(period, p));
	}
	if (err)
		return err;
	struct billing_doc *doc = malloc(sizeof *doc);
	struct askue_money corrections = {0};
	if (!doc) {
		askue_invoice_free(inv);
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	}
	err = askue_correction_sum(b->l, inv->id, &corrections);
	if (!err)
		err = billing_compute(b, subscriber_id, period, doc);
	if (!err) {
		struct askue_money done = {inv->charges.kop + corrections.kop};
		struct askue_money fresh = doc->billed ? doc->res.charges : (struct askue_money){0};
		struct askue_money diff = {fresh.kop - done.kop};
		correction_detail(detail, inv, done, fresh, diff);
		*diff_out = diff;
		if (apply && diff.kop != 0) {
			struct askue_correction c = {.subscriber_id = subscriber_id,
			                             .invoice_id = inv->id,
			                             .period = period,
			                             .date = date,
			                             .amount = diff,
			                             .run_id = run_id};
			copy(c.reason, sizeof c.reason, reason);
			err = post_correction(b, inv, doc, &c, now);
			if (!err && detail)
				cJSON_AddStringToObject(detail, "correction", c.number);
		}
	}
	free(doc);
	askue_invoice_free(inv);
	return err;
}

enum askue_err billing_invoiced_each(struct askue_ledger *l, struct askue_period period,
                                     int (*fn)(int64_t subscriber_id, void *arg), void *arg)
{
	static const char sql[] = "SELECT subscriber_id FROM invoice WHERE period = ?"
	                          " ORDER BY subscriber_id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_period(st, 1, period);
	/* Collect first: fn writes to the ledger. */
	size_t n = 0, cap = 1024;
	int64_t *ids = malloc(cap * sizeof *ids);
	if (!ids)
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *more = realloc(ids, 2 * cap * sizeof *ids);
			if (!more) {
				sqlite3_reset(st);
				free(ids);
				return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
			}
			ids = more, cap *= 2;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return askue_ledger_fail(l, rc, "invoiced subscribers");
	}
	for (size_t i = 0; i < n; i++)
		if (fn(ids[i], arg))
			break;
	free(ids);
	return ASKUE_OK;
}

enum askue_err billing_run_start(struct askue_ledger *l, struct askue_period period,
                                 const char *kind, int64_t now, int64_t *id)
{
	static const char sql[] = "INSERT INTO billing_run(period, kind, started) VALUES (?, ?, ?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_begin(l);
	if (!err && !(err = askue_ledger_stmt(l, sql, &st))) {
		askue_bind_period(st, 1, period);
		askue_bind_text(st, 2, kind);
		sqlite3_bind_int64(st, 3, now);
		err = askue_ledger_step_done(l, st, "billing run");
	}
	if (!err) {
		*id = sqlite3_last_insert_rowid(askue_ledger_db(l));
		err = askue_ledger_commit(l);
	}
	if (err)
		askue_ledger_rollback(l);
	return err;
}

enum askue_err billing_run_finish(struct askue_ledger *l, int64_t id, int64_t now,
                                  int64_t documents, const char *details)
{
	static const char sql[] = "UPDATE billing_run SET finished = ?, issued = ?, details = ?"
	                          " WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_begin(l);
	if (!err && !(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, documents);
		askue_bind_text(st, 3, details && *details ? details : "{}");
		sqlite3_bind_int64(st, 4, id);
		err = askue_ledger_step_done(l, st, "billing run");
	}
	if (!err)
		err = askue_ledger_commit(l);
	if (err)
		askue_ledger_rollback(l);
	return err;
}
