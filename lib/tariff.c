/* tariff — tariffs, their zones, price history and subscribers' choices
 * (registry.h).
 *
 * A tariff has one zone 'all' (billed from register 1.8.0) or two or three
 * named zones, the n-th billed from register Tn (OBIS 1.8.n), each with the
 * hours of the day it covers; together the zones cover the 24 hours of the
 * day exactly once. A price holds for a zone from its valid-from date until
 * the next one; a zone has at most one price per date.
 */
#include "registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "text.h"

static int parse_hour(const char *s, int len, int *out)
{
	if (len != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= 24 ? 0 : -1;
}

/* Mark the hours of spans "07-10+17-21" in covered[]; -1 on a bad span. */
static enum askue_err mark_spans(const char *zone, const char *spans, int covered[24])
{
	const char *p = spans;
	int n = 0;
	while (*p) {
		const char *plus = strchr(p, '+');
		int len = plus ? (int)(plus - p) : (int)strlen(p);
		int from, to;
		if (len != 5 || p[2] != '-' || parse_hour(p, 2, &from) || parse_hour(p + 3, 2, &to) ||
		    from == 24 || from == to)
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "zone %s: span '%.*s': expected HH-HH, e.g. 07-23 or 23-07",
			                     zone, len, p);
		if (++n > ASKUE_ZONE_SPANS_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "zone %s: more than %d spans", zone,
			                     ASKUE_ZONE_SPANS_MAX);
		int hours = (to % 24 - from + 24) % 24;
		if (hours == 0)
			hours = 24; /* 00-24 */
		for (int k = 0; k < hours; k++) {
			int h = (from + k) % 24;
			if (covered[h])
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "zone %s: hour %02d-%02d is already in another span or zone",
				                     zone, h, h + 1);
			covered[h] = 1;
		}
		p += len;
		if (*p == '+')
			p++;
	}
	if (!n)
		return askue_err_set(ASKUE_ERR_INVALID, "zone %s: no hours given", zone);
	return ASKUE_OK;
}

enum askue_err askue_tariff_zones_parse(const char *spec, struct askue_tariff *out)
{
	int covered[24] = {0};
	out->n_zones = 0;
	if (!spec) {
		out->n_zones = 1;
		out->zones[0] = (struct askue_tariff_zone){.idx = 0, .name = "all", .spans = "00-24"};
		return ASKUE_OK;
	}
	char buf[256];
	if (strlen(spec) >= sizeof buf)
		return askue_err_set(ASKUE_ERR_INVALID, "zones: too long");
	snprintf(buf, sizeof buf, "%s", spec);
	char *save = NULL;
	for (char *z = strtok_r(buf, ",", &save); z; z = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(z, '=');
		if (!eq || eq == z)
			return askue_err_set(ASKUE_ERR_INVALID, "zones: '%s': expected NAME=HH-HH", z);
		*eq = '\0';
		if (strlen(z) >= sizeof out->zones[0].name)
			return askue_err_set(ASKUE_ERR_INVALID, "zone name '%s': too long", z);
		for (const char *c = z; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "zone name '%s': lower-case letters, digits and _ only", z);
		if (out->n_zones == ASKUE_ZONES_MAX)
			return askue_err_set(ASKUE_ERR_INVALID, "zones: at most %d (registers T1..T%d)",
			                     ASKUE_ZONES_MAX, ASKUE_ZONES_MAX);
		for (int i = 0; i < out->n_zones; i++)
			if (!strcmp(out->zones[i].name, z))
				return askue_err_set(ASKUE_ERR_INVALID, "zone %s: named twice", z);
		enum askue_err err = mark_spans(z, eq + 1, covered);
		if (err)
			return err;
		struct askue_tariff_zone *tz = &out->zones[out->n_zones];
		tz->idx = out->n_zones + 1;
		snprintf(tz->name, sizeof tz->name, "%s", z);
		snprintf(tz->spans, sizeof tz->spans, "%s", eq + 1);
		out->n_zones++;
	}
	if (out->n_zones == 1)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "zones: a zoned tariff has 2 or 3 zones (omit --zones for one)");
	for (int h = 0; h < 24; h++)
		if (!covered[h])
			return askue_err_set(ASKUE_ERR_INVALID, "zones: hour %02d-%02d is in no zone", h,
			                     h + 1);
	return ASKUE_OK;
}

enum askue_err askue_tariff_add(struct askue_ledger *l, const char *name, const char *zones_spec,
                                struct askue_date created)
{
	static const char ins[] = "INSERT INTO tariff(name, created) VALUES (?, ?)";
	static const char ins_zone[] =
		"INSERT INTO tariff_zone(tariff_id, idx, name, spans) VALUES (?,?,?,?)";
	struct askue_tariff t;
	enum askue_err err = askue_text_check("tariff name", name, ASKUE_SHORT_TEXT_BYTES_MAX, 1);
	if (err || (err = askue_tariff_zones_parse(zones_spec, &t)))
		return err;
	if ((err = askue_ledger_begin(l)))
		return err;
	char d[ASKUE_DATE_BUF];
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, ins, &st)))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, askue_date_format(created, d), -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = (rc & 0xff) == SQLITE_CONSTRAINT
		              ? askue_err_set(ASKUE_ERR_EXISTS, "tariff %s: already exists", name)
		              : askue_ledger_fail(l, rc, "tariff");
		goto out;
	}
	int64_t id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	cJSON *d_json = cJSON_CreateObject(), *zones = cJSON_AddObjectToObject(d_json, "zones");
	for (int i = 0; i < t.n_zones && !err; i++) {
		if ((err = askue_ledger_stmt(l, ins_zone, &st)))
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, t.zones[i].idx);
		sqlite3_bind_text(st, 3, t.zones[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, t.zones[i].spans, -1, SQLITE_STATIC);
		err = askue_ledger_step_done(l, st, "tariff zone");
		cJSON_AddStringToObject(zones, t.zones[i].name, t.zones[i].spans);
	}
	if (!err)
		err = askue_journal_append(l, ASKUE_EV_TARIFF_ADDED, name, d_json);
	cJSON_Delete(d_json);
out:
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_tariff_get(struct askue_ledger *l, const char *name, struct askue_tariff *out)
{
	static const char sql[] =
		"SELECT t.id, t.created, z.idx, z.name, z.spans FROM tariff t"
		" JOIN tariff_zone z ON z.tariff_id = t.id WHERE t.name = ? ORDER BY z.idx";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, name ? name : "");
	memset(out, 0, sizeof *out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n_zones < ASKUE_ZONES_MAX) {
		out->id = sqlite3_column_int64(st, 0);
		if (askue_date_parse(askue_column_text(st, 1), &out->created))
			out->created.days = 0;
		struct askue_tariff_zone *z = &out->zones[out->n_zones++];
		z->idx = sqlite3_column_int(st, 2);
		snprintf(z->name, sizeof z->name, "%s", askue_column_text(st, 3));
		snprintf(z->spans, sizeof z->spans, "%s", askue_column_text(st, 4));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff");
	if (!out->n_zones)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "tariff %s: no such tariff", name ? name : "");
	snprintf(out->name, sizeof out->name, "%s", name);
	return ASKUE_OK;
}

enum askue_err askue_tariff_price(struct askue_ledger *l, const char *name, struct askue_date from,
                                  const struct askue_zone_price *prices, int n)
{
	static const char ins[] =
		"INSERT INTO tariff_price(tariff_id, zone_idx, valid_from, price_micro_rub)"
		" VALUES (?,?,?,?)";
	struct askue_tariff t;
	enum askue_err err = askue_tariff_get(l, name, &t);
	if (err)
		return err;
	if (n < 1)
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no prices given (ZONE=RUB_PER_KWH)",
		                     name);
	int idx[ASKUE_ZONES_MAX * 2];
	if (n > (int)(sizeof idx / sizeof idx[0]))
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: too many prices", name);
	for (int i = 0; i < n; i++) {
		idx[i] = -1;
		for (int z = 0; z < t.n_zones; z++)
			if (!strcmp(t.zones[z].name, prices[i].zone))
				idx[i] = t.zones[z].idx;
		if (idx[i] < 0)
			return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no zone '%s'", name,
			                     prices[i].zone);
		for (int j = 0; j < i; j++)
			if (idx[j] == idx[i])
				return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: zone %s priced twice", name,
				                     prices[i].zone);
	}
	if ((err = askue_ledger_begin(l)))
		return err;
	char d[ASKUE_DATE_BUF], num[ASKUE_NUM_BUF];
	askue_date_format(from, d);
	cJSON *dj = cJSON_CreateObject();
	cJSON_AddStringToObject(dj, "from", d);
	cJSON *pj = cJSON_AddObjectToObject(dj, "prices");
	for (int i = 0; i < n && !err; i++) {
		sqlite3_stmt *st;
		if ((err = askue_ledger_stmt(l, ins, &st)))
			break;
		sqlite3_bind_int64(st, 1, t.id);
		sqlite3_bind_int(st, 2, idx[i]);
		sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, prices[i].price.micro_rub);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			err = (rc & 0xff) == SQLITE_CONSTRAINT
			              ? askue_err_set(ASKUE_ERR_CONFLICT,
			                              "tariff %s: zone %s already has a price from %s", name,
			                              prices[i].zone, d)
			              : askue_ledger_fail(l, rc, "tariff price");
		cJSON_AddStringToObject(pj, prices[i].zone, askue_price_format(prices[i].price, num));
	}
	if (!err)
		err = askue_journal_append(l, ASKUE_EV_TARIFF_PRICE_SET, name, dj);
	cJSON_Delete(dj);
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_tariff_choose(struct askue_ledger *l, const char *account, const char *name,
                                   struct askue_date from)
{
	static const char ins[] =
		"INSERT INTO subscriber_tariff(subscriber_id, tariff_id, valid_from) VALUES (?,?,?)";
	struct askue_subscriber s;
	struct askue_tariff t;
	enum askue_err err;
	if ((err = askue_subscriber_get(l, account, &s)) || (err = askue_tariff_get(l, name, &t)))
		return err;
	char d[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	askue_date_format(from, d);
	if (from.days < s.registered.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "account %s: tariff from %s before registration %s",
		                     account, d, askue_date_format(s.registered, d2));
	if ((err = askue_ledger_begin(l)))
		return err;
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, ins, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, s.id);
	sqlite3_bind_int64(st, 2, t.id);
	sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = (rc & 0xff) == SQLITE_CONSTRAINT
		              ? askue_err_set(ASKUE_ERR_CONFLICT,
		                              "account %s: already has a tariff choice from %s", account, d)
		              : askue_ledger_fail(l, rc, "tariff choice");
		goto out;
	}
	cJSON *dj = cJSON_CreateObject();
	cJSON_AddStringToObject(dj, "tariff", name);
	cJSON_AddStringToObject(dj, "from", d);
	err = askue_journal_append(l, ASKUE_EV_TARIFF_CHOSEN, account, dj);
	cJSON_Delete(dj);
out:
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

/* ---- volume bands ------------------------------------------------------- */

static enum askue_err band_rows(struct askue_ledger *l, const struct askue_tariff *t,
                                const char *d, const int64_t *upto_wh, int n_limits,
                                const struct askue_band_prices *prices, const int *idx,
                                int n_prices)
{
	static const char ins_set[] =
		"INSERT INTO tariff_band_set(tariff_id, valid_from, bands, upto1_wh, upto2_wh)"
		" VALUES (?,?,?,?,?)";
	static const char ins_price[] =
		"INSERT INTO tariff_band_price(tariff_id, valid_from, band, zone_idx, price_micro_rub)"
		" VALUES (?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, ins_set, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_text(st, 2, d, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, n_limits ? n_limits + 1 : 0);
	for (int i = 0; i < 2; i++)
		if (i < n_limits)
			sqlite3_bind_int64(st, 4 + i, upto_wh[i]);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc & 0xff) == SQLITE_CONSTRAINT
		               ? askue_err_set(ASKUE_ERR_CONFLICT, "tariff %s: already has bands from %s",
		                               t->name, d)
		               : askue_ledger_fail(l, rc, "tariff bands");
	for (int i = 0; i < n_prices && !err; i++)
		for (int b = 0; b <= n_limits && !err; b++) {
			if ((err = askue_ledger_stmt(l, ins_price, &st)))
				break;
			sqlite3_bind_int64(st, 1, t->id);
			sqlite3_bind_text(st, 2, d, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, b + 1);
			sqlite3_bind_int(st, 4, idx[i]);
			sqlite3_bind_int64(st, 5, prices[i].price[b].micro_rub);
			err = askue_ledger_step_done(l, st, "tariff band price");
		}
	return err;
}

static cJSON *band_json(const char *d, const int64_t *upto_wh, int n_limits,
                        const struct askue_band_prices *prices, int n_prices)
{
	char num[ASKUE_NUM_BUF];
	cJSON *dj = cJSON_CreateObject();
	cJSON_AddStringToObject(dj, "from", d);
	cJSON *lj = cJSON_AddArrayToObject(dj, "bands_upto_kwh");
	for (int i = 0; i < n_limits; i++)
		cJSON_AddItemToArray(lj, cJSON_CreateString(askue_energy_format_kwh(
						 (struct askue_energy){upto_wh[i]}, num)));
	cJSON *pj = cJSON_AddObjectToObject(dj, "band_prices");
	for (int i = 0; i < n_prices; i++) {
		cJSON *zj = cJSON_AddArrayToObject(pj, prices[i].zone);
		for (int b = 0; b <= n_limits; b++)
			cJSON_AddItemToArray(zj, cJSON_CreateString(askue_price_format(prices[i].price[b], num)));
	}
	return dj;
}

/* Every zone priced once, limits ascending; idx[i]: the zone of prices[i]. */
static enum askue_err band_check(const struct askue_tariff *t, const int64_t *upto_wh,
                                 int n_limits, const struct askue_band_prices *prices,
                                 int n_prices, int *idx)
{
	if (n_limits < 0 || n_limits > ASKUE_BILL_BANDS_MAX - 1)
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: 1 or %d band limits (or none)",
		                     t->name, ASKUE_BILL_BANDS_MAX - 1);
	for (int i = 0; i < n_limits; i++)
		if (upto_wh[i] <= (i ? upto_wh[i - 1] : 0))
			return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: band limits must ascend above 0",
			                     t->name);
	if (n_limits == 0 && n_prices == 0)
		return ASKUE_OK;
	if (n_prices != t->n_zones)
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: bands need a price for each of its "
		                     "%d zones", t->name, t->n_zones);
	for (int i = 0; i < n_prices; i++) {
		idx[i] = -1;
		for (int z = 0; z < t->n_zones; z++)
			if (!strcmp(t->zones[z].name, prices[i].zone))
				idx[i] = t->zones[z].idx;
		if (idx[i] < 0)
			return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no zone '%s'", t->name,
			                     prices[i].zone);
		for (int j = 0; j < i; j++)
			if (idx[j] == idx[i])
				return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: zone %s priced twice",
				                     t->name, prices[i].zone);
	}
	return ASKUE_OK;
}

enum askue_err askue_tariff_band(struct askue_ledger *l, const char *name, struct askue_date from,
                                 const int64_t *upto_wh, int n_limits,
                                 const struct askue_band_prices *prices, int n_prices)
{
	struct askue_tariff t;
	int idx[ASKUE_ZONES_MAX] = {0};
	enum askue_err err = askue_tariff_get(l, name, &t);
	if (err || (err = band_check(&t, upto_wh, n_limits, prices, n_prices, idx)))
		return err;
	if (n_limits == 0 && n_prices)
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no band limits: no band prices",
		                     name);
	if ((err = askue_ledger_begin(l)))
		return err;
	char d[ASKUE_DATE_BUF];
	askue_date_format(from, d);
	err = band_rows(l, &t, d, upto_wh, n_limits, prices, idx, n_prices);
	if (!err) {
		cJSON *dj = band_json(d, upto_wh, n_limits, prices, n_prices);
		err = askue_journal_append(l, ASKUE_EV_TARIFF_PRICE_SET, name, dj);
		cJSON_Delete(dj);
	}
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

/* ---- the versions billing needs ---------------------------------------- */

struct choice {
	struct askue_date from;
	int64_t tariff_id;
	char name[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
};

/* The subscriber's choices in force in [first, end): the last one from on
 * or before first, and every later one before end. */
static enum askue_err load_choices(struct askue_ledger *l, int64_t sid, struct askue_date first,
                                   struct askue_date end, struct choice *out, int max, int *n)
{
	static const char sql[] =
		"SELECT st.valid_from, t.id, t.name FROM subscriber_tariff st"
		" JOIN tariff t ON t.id = st.tariff_id"
		" WHERE st.subscriber_id = ? AND st.valid_from < ? ORDER BY st.valid_from";
	sqlite3_stmt *st;
	char d[ASKUE_DATE_BUF];
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_text(st, 2, askue_date_format(end, d), -1, SQLITE_TRANSIENT);
	int rc, k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct choice c = {.tariff_id = sqlite3_column_int64(st, 1)};
		if (askue_date_parse(askue_column_text(st, 0), &c.from))
			continue;
		snprintf(c.name, sizeof c.name, "%s", askue_column_text(st, 2));
		if (c.from.days <= first.days)
			k = 0; /* a later choice on or before first replaces the one before */
		if (k == max) {
			sqlite3_reset(st);
			return askue_err_set(ASKUE_ERR_LIMIT, "more than %d tariff choices in a period", max);
		}
		out[k++] = c;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff choices");
	*n = k;
	return ASKUE_OK;
}

/* The dates in (from, to) on which a price or the bands of the tariff change. */
static enum askue_err change_dates(struct askue_ledger *l, int64_t tid, struct askue_date from,
                                   struct askue_date to, struct askue_date *out, int max, int *n)
{
	static const char sql[] =
		"SELECT valid_from FROM tariff_price WHERE tariff_id = ?1 AND valid_from > ?2"
		" AND valid_from < ?3 UNION SELECT valid_from FROM tariff_band_set"
		" WHERE tariff_id = ?1 AND valid_from > ?2 AND valid_from < ?3 ORDER BY 1";
	sqlite3_stmt *st;
	char a[ASKUE_DATE_BUF], b[ASKUE_DATE_BUF];
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_bind_text(st, 2, askue_date_format(from, a), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, askue_date_format(to, b), -1, SQLITE_TRANSIENT);
	int rc, k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max)
		if (!askue_date_parse(askue_column_text(st, 0), &out[k]))
			k++;
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return askue_err_set(ASKUE_ERR_LIMIT, "more than %d price changes in a period", max);
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff price dates");
	*n = k;
	return ASKUE_OK;
}

/* The band set in force on d (bands 0 when none). */
static enum askue_err band_set_at(struct askue_ledger *l, int64_t tid, const char *d,
                                  struct askue_bill_version *v, char *set_from)
{
	static const char sql[] =
		"SELECT valid_from, bands, upto1_wh, upto2_wh FROM tariff_band_set"
		" WHERE tariff_id = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_bind_text(st, 2, d, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	v->n_bands = 0;
	if (rc == SQLITE_ROW) {
		snprintf(set_from, ASKUE_DATE_BUF, "%s", askue_column_text(st, 0));
		v->n_bands = sqlite3_column_int(st, 1);
		v->band_upto_wh[0] = sqlite3_column_int64(st, 2);
		v->band_upto_wh[1] = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff bands");
	return ASKUE_OK;
}

/* The prices of every zone on d: the band prices while bands are in
 * force, else the tariff_price in force. ASKUE_ERR_NOT_FOUND: a zone has none. */
static enum askue_err prices_at(struct askue_ledger *l, int64_t tid, struct askue_date day,
                                struct askue_bill_version *v)
{
	static const char price_sql[] =
		"SELECT valid_from, price_micro_rub FROM tariff_price WHERE tariff_id = ?"
		" AND zone_idx = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1";
	static const char band_sql[] =
		"SELECT price_micro_rub FROM tariff_band_price WHERE tariff_id = ? AND valid_from = ?"
		" AND zone_idx = ? AND band = ?";
	char d[ASKUE_DATE_BUF], set_from[ASKUE_DATE_BUF] = "";
	askue_date_format(day, d);
	enum askue_err err = band_set_at(l, tid, d, v, set_from);
	for (int z = 0; z < v->n_zones && !err; z++) {
		sqlite3_stmt *st;
		int bands = v->n_bands ? v->n_bands : 1, found = 0;
		for (int b = 0; b < bands && !err; b++) {
			if ((err = askue_ledger_stmt(l, v->n_bands ? band_sql : price_sql, &st)))
				break;
			sqlite3_bind_int64(st, 1, tid);
			if (v->n_bands) {
				sqlite3_bind_text(st, 2, set_from, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int(st, 3, v->zones[z].idx);
				sqlite3_bind_int(st, 4, b + 1);
			} else {
				sqlite3_bind_int(st, 2, v->zones[z].idx);
				sqlite3_bind_text(st, 3, d, -1, SQLITE_TRANSIENT);
			}
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				found++;
				v->price[z][b].micro_rub = sqlite3_column_int64(st, v->n_bands ? 0 : 1);
				if (askue_date_parse(v->n_bands ? set_from : askue_column_text(st, 0),
				                     &v->price_from[z]))
					v->price_from[z] = day;
			} else if (rc != SQLITE_DONE) {
				err = askue_ledger_fail(l, rc, "tariff price");
			}
			sqlite3_reset(st);
		}
		if (!err && found < bands)
			err = askue_err_set(ASKUE_ERR_NOT_FOUND, "tariff %s: zone %s has no price on %s",
			                    v->tariff, v->zones[z].name, d);
	}
	return err;
}

static enum askue_err version_of(struct askue_ledger *l, const struct choice *c,
                                 struct askue_date from, struct askue_bill_version *v)
{
	static const char zones_sql[] =
		"SELECT idx, name FROM tariff_zone WHERE tariff_id = ? ORDER BY idx";
	sqlite3_stmt *st;
	*v = (struct askue_bill_version){.from = from};
	snprintf(v->tariff, sizeof v->tariff, "%s", c->name);
	enum askue_err err = askue_date_start(from, &v->from_ts);
	if (err || (err = askue_ledger_stmt(l, zones_sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, c->tariff_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && v->n_zones < ASKUE_ZONES_MAX) {
		struct askue_bill_zone *z = &v->zones[v->n_zones++];
		z->idx = sqlite3_column_int(st, 0);
		snprintf(z->name, sizeof z->name, "%s", askue_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff zones");
	return prices_at(l, c->tariff_id, from, v);
}

/* The versions of one tariff choice over [from, to): its state on from,
 * then one more at every price or band change inside. */
static enum askue_err choice_versions(struct askue_ledger *l, const struct choice *c,
                                      struct askue_date from, struct askue_date to,
                                      struct askue_bill_version *out, int max, int *n)
{
	struct askue_date dates[ASKUE_BILL_VERSIONS_MAX];
	int n_dates = 0, k = 0;
	enum askue_err err = version_of(l, c, from, &out[k]);
	if (err || (err = change_dates(l, c->tariff_id, from, to, dates, ASKUE_BILL_VERSIONS_MAX,
	                               &n_dates)))
		return err;
	for (k = 1; k - 1 < n_dates; k++) {
		if (k == max)
			return askue_err_set(ASKUE_ERR_LIMIT, "more than %d tariff versions in a period",
			                     max);
		if ((err = version_of(l, c, dates[k - 1], &out[k])))
			return err;
	}
	*n = k;
	return ASKUE_OK;
}

/* A billing run's memory of choice_versions, by tariff and span. */
#define TARIFF_CACHE_MAX 256 /* distinct (tariff, from, to) spans of one period */
struct cached_span {
	int64_t tariff_id;
	int32_t from, to;
	enum askue_err err; /* ASKUE_OK or ASKUE_ERR_NOT_FOUND */
	int n;
	struct askue_bill_version v[ASKUE_BILL_VERSIONS_MAX];
};
struct askue_tariff_cache {
	int n;
	struct cached_span spans[TARIFF_CACHE_MAX];
};

enum askue_err askue_tariff_cache_new(struct askue_tariff_cache **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? ASKUE_OK : askue_err_set(ASKUE_ERR_NOMEM, "tariff cache: out of memory");
}

void askue_tariff_cache_free(struct askue_tariff_cache *c)
{
	free(c);
}

static enum askue_err cached_versions(struct askue_ledger *l, struct askue_tariff_cache *cache,
                                      const struct choice *c, struct askue_date from,
                                      struct askue_date to, struct askue_bill_version *out,
                                      int max, int *n)
{
	struct cached_span *hit = NULL;
	for (int i = 0; cache && i < cache->n && !hit; i++)
		if (cache->spans[i].tariff_id == c->tariff_id && cache->spans[i].from == from.days &&
		    cache->spans[i].to == to.days)
			hit = &cache->spans[i];
	if (!hit && cache && cache->n < TARIFF_CACHE_MAX) {
		struct cached_span *sp = &cache->spans[cache->n];
		*sp = (struct cached_span){.tariff_id = c->tariff_id, .from = from.days, .to = to.days};
		sp->err = choice_versions(l, c, from, to, sp->v, ASKUE_BILL_VERSIONS_MAX, &sp->n);
		if (sp->err && sp->err != ASKUE_ERR_NOT_FOUND)
			return sp->err; /* not kept: a limit or the ledger failing */
		cache->n++;
		hit = sp;
	} else if (hit && hit->err) {
		askue_err_set(hit->err, "tariff %s: a zone has no price in force on %d days of the period",
		              c->name, to.days - from.days);
	}
	if (!hit)
		return choice_versions(l, c, from, to, out, max, n);
	if (hit->err)
		return hit->err;
	if (hit->n > max)
		return askue_err_set(ASKUE_ERR_LIMIT, "more than %d tariff versions in a period", max);
	memcpy(out, hit->v, (size_t)hit->n * sizeof *out);
	*n = hit->n;
	return ASKUE_OK;
}

enum askue_err askue_tariff_load_for_billing_cached(struct askue_ledger *l,
                                                    struct askue_tariff_cache *cache,
                                                    int64_t subscriber_id, struct askue_date first,
                                                    struct askue_date end,
                                                    struct askue_bill_version *out, int max, int *n)
{
	struct choice ch[ASKUE_BILL_VERSIONS_MAX];
	int n_ch = 0, k = 0;
	enum askue_err err = load_choices(l, subscriber_id, first, end, ch, ASKUE_BILL_VERSIONS_MAX,
	                                  &n_ch);
	for (int i = 0; i < n_ch && !err; i++) {
		struct askue_date from = ch[i].from.days < first.days ? first : ch[i].from;
		struct askue_date to = i + 1 < n_ch ? ch[i + 1].from : end;
		int got = 0;
		if (k == max)
			return askue_err_set(ASKUE_ERR_LIMIT, "more than %d tariff versions in a period", max);
		if (!(err = cached_versions(l, cache, &ch[i], from, to, out + k, max - k, &got)))
			k += got;
	}
	if (err == ASKUE_ERR_NOT_FOUND && k == 0) {
		*n = 0; /* no price in force on first: the caller reports it */
		return ASKUE_OK;
	}
	if (err)
		return err;
	*n = k;
	return ASKUE_OK;
}

enum askue_err askue_tariff_load_for_billing(struct askue_ledger *l, int64_t subscriber_id,
                                             struct askue_date first, struct askue_date end,
                                             struct askue_bill_version *out, int max, int *n)
{
	return askue_tariff_load_for_billing_cached(l, NULL, subscriber_id, first, end, out, max, n);
}
