/* anomalies — `askue job anomalies` (daily, after the rollup): meter and
 * consumption anomalies of one local day for operations and analysts.
 *
 * The judged day is --date D, else yesterday (the rollup's 01:00 run has
 * just written it). For every meter installed that day the job reads its
 * meter_day rows of the last [anomalies] window_days (one ordered pass over
 * the ledger table) and, with [anomalies] raw, the day's raw readings from
 * InfluxDB (one streamed query bounded to the day, in time order), and
 * hands them to the detectors of lib/anomaly.c. A drop is judged against
 * what the fleet did meanwhile (the median ratio of all judged meters).
 * Backwards and jumps hold event_days after they were seen.
 *
 * Then, in one transaction: the day's rows of the ledger table `anomaly`
 * are replaced with what was found, and alerts anomaly_{kind} are opened
 * once per (kind, meter) and closed by themselves when the anomaly is no
 * longer seen; an episode an operator resolved (the alert's ref = the day
 * it began) is not opened again while it lasts. New drop alerts are
 * capped per run (drop_alerts_max, the strongest first): the rest wait in
 * the list. After commit: the alerts are published and the day's
 * `anomaly` points are rewritten in InfluxDB. A rerun of a day changes
 * nothing.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "anomaly.h"
#include "influx.h"
#include "job.h"
#include "lineproto.h"
#include "strmap.h"

#define CHUNK_ROWS 10000
/* The fleet's median ratio is used when at least this many meters were
 * judged for a drop; a peer ratio is clamped to PEER_PCT_MAX, so a meter
 * whose own ratio is above drop_pct * PEER_PCT_MAX / 100 can never be a
 * drop and needs no room in memory. */
#define PEERS_MIN 30
#define PEER_PCT_MAX 150
#define RATIO_PCT_MAX 1000
/* One InfluxDB write: the anomalies of a day are few; batches of 5,000. */
/* Rows of the ledger table `anomaly` older than this are pruned by the run
 * (a year: a meter's history of episodes for an inspector; InfluxDB keeps
 * the points). At fleet scale a day has some 10,000-30,000 rows (drops and
 * absences last weeks). */
#define ROWS_KEEP_DAYS 366
#define POINTS_BATCH 5000
#define LINE_BYTES_MAX 1024

/* What was found about one meter. */
struct finding {
	struct askue_anomaly_result r;
	int32_t since[ASKUE_ANOMALY_KINDS];
	char *held[ASKUE_ANOMALY_KINDS]; /* details of an event held from an earlier day */
};

struct meter {
	char *serial, *account, *substation;
	int household;
	struct finding *f; /* NULL: nothing to say */
};

struct run {
	struct job_ctx *ctx;
	struct askue_anomaly_params p;
	struct askue_date day;
	char day_s[ASKUE_DATE_BUF];
	int64_t start, end; /* UTC bounds of the day */
	struct meter *m;
	size_t n, cap;
	struct askue_strmap *index;  /* serial -> meter */
	struct askue_strmap *active; /* "kind\x1fserial" -> alert id (anomaly_*) */
	struct askue_strmap *kept;   /* "kind\x1fserial" of active alerts still seen */
	int64_t ratio_hist[RATIO_PCT_MAX + 1];
	int64_t n_ratio;
	int peer_pct;
	/* the raw pass */
	struct askue_anomaly_track *tr; /* per meter, while the raw pass runs */
	int cols[4];                     /* time, ai_wh, ae_wh, meter */
	/* figures */
	int64_t judged, rows, raw_meters, raw_readings, found[ASKUE_ANOMALY_KINDS];
	int64_t opened, closed, handled, drop_waiting, points;
	double t_days, t_raw, t_write;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void params_of(const struct askue_config *c, struct askue_anomaly_params *p)
{
	askue_anomaly_params_default(p);
	p->max_w = c->anomalies_max_kw * 1000;
	p->event_days = (int)c->anomalies_event_days;
	p->stuck_days = (int)c->anomalies_stuck_days;
	p->recent_days = (int)c->anomalies_recent_days;
	p->baseline_days_min = (int)c->anomalies_baseline_days_min;
	p->drop_pct = (int)c->anomalies_drop_pct;
	p->away_pct = (int)c->anomalies_away_pct;
	p->reverse_wh_min = c->anomalies_reverse_wh_min;
}

static char *dup_text(const char *s)
{
	char *d = strdup(s ? s : "");
	return d;
}

static enum askue_err add_meter(struct run *r, sqlite3_stmt *st)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		void *p = realloc(r->m, cap * sizeof *r->m);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
		r->m = p;
		r->cap = cap;
	}
	struct meter *m = &r->m[r->n];
	memset(m, 0, sizeof *m);
	m->serial = dup_text(askue_column_text(st, 0));
	m->account = dup_text(askue_column_text(st, 1));
	m->substation = dup_text(askue_column_text(st, 2));
	m->household = !strcmp(askue_column_text(st, 3), "household");
	if (!m->serial || !m->account || !m->substation) {
		free(m->serial), free(m->account), free(m->substation);
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	}
	return askue_strmap_put(r->index, m->serial, (int64_t)r->n++);
}

/* The meters installed on the day, with their subscriber's tags. */
static enum askue_err load_installed(struct run *r)
{
	static const char sql[] =
		"SELECT m.serial, s.account, s.substation, s.category"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE i.installed <= ?1 AND (i.removed IS NULL OR i.removed >= ?1)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ignored;
		if (askue_strmap_get(r->index, askue_column_text(st, 0), &ignored))
			continue; /* removed and installed again that day */
		if ((err = add_meter(r, st)))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "anomalies: installations");
	sqlite3_reset(st);
	return err;
}

static struct finding *finding_of(struct meter *m)
{
	if (!m->f)
		m->f = calloc(1, sizeof *m->f);
	return m->f;
}

/* Judge one meter's days; keep what may matter. */
static enum askue_err judge_meter(struct run *r, size_t i, const struct askue_anomaly_day *d,
                                  size_t n)
{
	struct askue_anomaly_result res;
	int found = askue_anomaly_days(&r->p, d, n, r->day.days, &res);
	r->judged++;
	int candidate = 0;
	if (res.drop_judged) {
		int pct = res.ratio_pct < RATIO_PCT_MAX ? res.ratio_pct : RATIO_PCT_MAX;
		r->ratio_hist[pct < 0 ? 0 : pct]++;
		r->n_ratio++;
		candidate = res.ratio_pct * 100 <= r->p.drop_pct * PEER_PCT_MAX;
	}
	if (!found && !candidate)
		return ASKUE_OK;
	struct finding *f = finding_of(&r->m[i]);
	if (!f)
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	f->r = res;
	return ASKUE_OK;
}

static int32_t day_of_text(const char *s)
{
	struct askue_date d;
	return askue_date_parse(s, &d) ? INT32_MIN : d.days;
}

struct days_buf {
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	struct askue_anomaly_day d[ASKUE_ANOMALY_WINDOW_DAYS_MAX];
	size_t n;
};

static enum askue_err flush_days(struct run *r, struct days_buf *b)
{
	int64_t i;
	enum askue_err err = ASKUE_OK;
	if (b->n && askue_strmap_get(r->index, b->serial, &i))
		err = judge_meter(r, (size_t)i, b->d, b->n);
	b->n = 0;
	return err;
}

/* One ordered pass over meter_day (its primary key: serial, day) for the
 * window's days. The unary + keeps SQLite off the day index: through it the
 * rows would need a sort of the whole window (12 times slower measured). */
static enum askue_err read_days(struct run *r, int window_days)
{
	static const char sql[] =
		"SELECT serial, day, readings, first_ts, first_r0_wh, last_ts, last_r0_wh"
		" FROM meter_day WHERE +day >= ?1 AND +day <= ?2 ORDER BY serial, day";
	char from[ASKUE_DATE_BUF];
	askue_date_format(askue_date_add_days(r->day, -(window_days - 1)), from);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	struct days_buf *b = calloc(1, sizeof *b);
	if (!b)
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->day_s, -1, SQLITE_STATIC);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *serial = askue_column_text(st, 0);
		if (strcmp(serial, b->serial)) {
			err = flush_days(r, b);
			snprintf(b->serial, sizeof b->serial, "%s", serial);
		}
		int32_t day = day_of_text(askue_column_text(st, 1));
		if (day == INT32_MIN || b->n == ASKUE_ANOMALY_WINDOW_DAYS_MAX)
			continue;
		b->d[b->n++] = (struct askue_anomaly_day){
			day, sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
			sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
			sqlite3_column_int64(st, 6)};
		r->rows++;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "anomalies: meter_day");
	if (!err)
		err = flush_days(r, b);
	sqlite3_reset(st);
	free(b);
	return err;
}

/* The raw pass: one query of the day's readings, in time order (without
 * GROUP BY: with it InfluxDB 1.6 took 52 s for 500,000 meters, measured),
 * each reading fed to its meter's track; then each track judged. */
static enum askue_err finish_track(struct run *r, size_t i)
{
	struct meter *m = &r->m[i];
	struct askue_anomaly_track *t = &r->tr[i];
	if (!m->household)
		t->has_ae = 0; /* reverse energy is judged at households only */
	struct askue_anomaly_result probe;
	memset(&probe, 0, sizeof probe);
	if (!askue_anomaly_track_judge(t, &r->p, r->day.days, &probe))
		return ASKUE_OK;
	struct finding *f = finding_of(m);
	if (!f)
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	askue_anomaly_track_judge(t, &r->p, r->day.days, &f->r);
	return ASKUE_OK;
}

static void raw_columns(struct run *r, const cJSON *columns)
{
	static const char *const names[4] = {"time", "ai_wh", "ae_wh", "meter"};
	int i = 0;
	const cJSON *c;
	for (int k = 0; k < 4; k++)
		r->cols[k] = -1;
	cJSON_ArrayForEach(c, columns)
	{
		for (int k = 0; k < 4; k++)
			if (cJSON_IsString(c) && !strcmp(c->valuestring, names[k]))
				r->cols[k] = i;
		i++;
	}
}

static void raw_row(struct run *r, const cJSON *row)
{
	const cJSON *cell[4] = {0}, *c = row->child;
	for (int col = 0; c; c = c->next, col++)
		for (int k = 0; k < 4; k++)
			if (r->cols[k] == col)
				cell[k] = c;
	int64_t i;
	if (!cell[0] || !cell[1] || !cell[3] || !cJSON_IsNumber(cell[0]) ||
	    !cJSON_IsNumber(cell[1]) || cell[1]->valuedouble < 0 ||
	    !cJSON_IsString(cell[3]) || !askue_strmap_get(r->index, cell[3]->valuestring, &i))
		return; /* no 1.8.0 (not a register reading), or not installed that day */
	int has_ae = cJSON_IsNumber(cell[2]) && cell[2]->valuedouble >= 0;
	if (!r->tr[i].readings)
		r->raw_meters++;
	askue_anomaly_track_add(&r->tr[i], &r->p, (int64_t)cell[0]->valuedouble,
	                        (int64_t)cell[1]->valuedouble, has_ae,
	                        has_ae ? (int64_t)cell[2]->valuedouble : 0);
	r->raw_readings++;
}

static enum askue_err on_raw(const char *name, const cJSON *tags, const cJSON *columns,
                             const cJSON *values, void *ctx)
{
	struct run *r = ctx;
	(void)name;
	(void)tags;
	raw_columns(r, columns);
	const cJSON *row;
	cJSON_ArrayForEach(row, values)
	{
		raw_row(r, row);
	}
	return ASKUE_OK;
}

static enum askue_err read_raw(struct run *r)
{
	struct askue_influx *ix;
	enum askue_err err = askue_influx_open(&r->ctx->cli->cfg, &ix);
	if (err)
		return err;
	if (!(r->tr = calloc(r->n ? r->n : 1, sizeof *r->tr))) {
		askue_influx_close(ix);
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	}
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT ai_wh, ae_wh, meter FROM reading WHERE time >= %llds AND time < %llds",
	         (long long)r->start, (long long)r->end);
	err = askue_influx_query_stream(ix, q, CHUNK_ROWS, on_raw, r);
	for (size_t i = 0; i < r->n && !err; i++)
		if (r->tr[i].readings)
			err = finish_track(r, i);
	if (err)
		askue_err_prefix("anomalies %s: readings: ", r->day_s);
	askue_influx_close(ix);
	free(r->tr);
	r->tr = NULL;
	return err;
}

/* The fleet's median drop ratio, and every drop judged against it. */
static void judge_peers(struct run *r)
{
	r->peer_pct = 0;
	if (r->n_ratio < PEERS_MIN)
		return;
	int64_t half = (r->n_ratio + 1) / 2, seen = 0;
	int pct = 0;
	while (pct < RATIO_PCT_MAX && seen + r->ratio_hist[pct] < half)
		seen += r->ratio_hist[pct++];
	r->peer_pct = pct < PEER_PCT_MAX ? pct : PEER_PCT_MAX;
	for (size_t i = 0; i < r->n; i++)
		if (r->m[i].f)
			askue_anomaly_drop_peer(&r->p, r->peer_pct, &r->m[i].f->r);
}

static void key2(char *buf, size_t size, const char *kind, const char *serial)
{
	snprintf(buf, size, "%s\x1f%s", kind, serial);
}

static enum askue_err prepare(struct run *r, const char *sql, sqlite3_stmt **st, int32_t from)
{
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, st);
	if (err)
		return err;
	askue_bind_date(*st, 1, (struct askue_date){from});
	sqlite3_bind_text(*st, 2, r->day_s, -1, SQLITE_STATIC);
	return ASKUE_OK;
}

/* Events seen on the days before (within event_days) still hold today. */
static enum askue_err hold_events(struct run *r)
{
	static const char sql[] =
		"SELECT serial, kind, since, score, details FROM anomaly"
		" WHERE day >= ?1 AND day < ?2 AND since >= ?1"
		" AND kind IN ('backwards','jump','reverse') ORDER BY day";
	sqlite3_stmt *st;
	enum askue_err err = prepare(r, sql, &st, r->day.days - r->p.event_days + 1);
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i;
		int k = askue_anomaly_kind_of(askue_column_text(st, 1));
		if (k < 0 || !askue_strmap_get(r->index, askue_column_text(st, 0), &i))
			continue;
		struct finding *f = finding_of(&r->m[i]);
		if (!f) {
			err = askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
			break;
		}
		if (f->r.found[k])
			continue;
		f->r.found[k] = 1;
		f->r.score[k] = sqlite3_column_double(st, 3);
		f->since[k] = day_of_text(askue_column_text(st, 2));
		free(f->held[k]);
		f->held[k] = dup_text(askue_column_text(st, 4));
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "anomalies: earlier events");
	sqlite3_reset(st);
	return err;
}

/* The day each finding began: an event's own day; a stuck register's
 * first day without growth; a drop's (or an absence's) first day, carried
 * on from the newest row of the kind within event_days (a missed run does
 * not start a new episode). */
static enum askue_err set_since(struct run *r)
{
	static const char sql[] =
		"SELECT serial, kind, since, max(day) FROM anomaly WHERE day >= ?1 AND day < ?2"
		" AND kind IN ('drop','away') GROUP BY serial, kind";
	for (size_t i = 0; i < r->n; i++) {
		struct finding *f = r->m[i].f;
		for (int k = 0; f && k < ASKUE_ANOMALY_KINDS; k++)
			if (f->r.found[k] && !f->held[k])
				f->since[k] = k == ASKUE_ANOMALY_BACKWARDS ? f->r.backwards_day
				              : k == ASKUE_ANOMALY_JUMP    ? f->r.jump_day
				              : k == ASKUE_ANOMALY_STUCK ? r->day.days - f->r.stuck_days + 1
				                                         : r->day.days;
	}
	sqlite3_stmt *st;
	enum askue_err err = prepare(r, sql, &st, r->day.days - r->p.event_days);
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i;
		int k = askue_anomaly_kind_of(askue_column_text(st, 1));
		if (k < 0 || !askue_strmap_get(r->index, askue_column_text(st, 0), &i))
			continue;
		struct finding *f = r->m[i].f;
		int32_t since = day_of_text(askue_column_text(st, 2));
		if (f && f->r.found[k] && since != INT32_MIN && since < f->since[k])
			f->since[k] = since;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "anomalies: earlier episodes");
	sqlite3_reset(st);
	return err;
}

static void add_kwh(cJSON *o, const char *key, int64_t wh)
{
	cJSON_AddNumberToObject(o, key, (double)wh / 1000.0);
}

static void add_day(cJSON *o, const char *key, int32_t days)
{
	char d[ASKUE_DATE_BUF];
	cJSON_AddStringToObject(o, key, askue_date_format((struct askue_date){days}, d));
}

/* The figures that explain a finding (energy in kWh). Caller frees. */
static cJSON *details_of(const struct finding *f, int k)
{
	if (f->held[k]) {
		cJSON *h = cJSON_Parse(f->held[k]);
		return h ? h : cJSON_CreateObject();
	}
	const struct askue_anomaly_result *r = &f->r;
	cJSON *o = cJSON_CreateObject();
	add_day(o, "since", f->since[k]);
	switch ((enum askue_anomaly_kind)k) {
	case ASKUE_ANOMALY_BACKWARDS: add_kwh(o, "back_kwh", r->backwards_wh); break;
	case ASKUE_ANOMALY_JUMP:
		add_kwh(o, "step_kwh", r->jump_wh);
		cJSON_AddNumberToObject(o, "seconds", (double)r->jump_s);
		cJSON_AddNumberToObject(o, "kw", (double)r->jump_w / 1000.0);
		break;
	case ASKUE_ANOMALY_STUCK:
		cJSON_AddNumberToObject(o, "days", r->stuck_days);
		add_kwh(o, "register_kwh", r->stuck_wh);
		if (r->flat_s)
			cJSON_AddNumberToObject(o, "flat_hours", (double)r->flat_s / 3600.0);
		break;
	case ASKUE_ANOMALY_DROP:
	case ASKUE_ANOMALY_AWAY:
		add_kwh(o, "baseline_kwh_day", r->baseline_wh);
		add_kwh(o, "recent_kwh_day", r->recent_wh);
		cJSON_AddNumberToObject(o, "ratio_pct", r->ratio_pct);
		cJSON_AddNumberToObject(o, "fleet_ratio_pct", r->peer_pct);
		cJSON_AddNumberToObject(o, "recent_days", r->recent_n);
		cJSON_AddNumberToObject(o, "baseline_days", r->baseline_n);
		break;
	case ASKUE_ANOMALY_REVERSE: add_kwh(o, "export_kwh", r->reverse_wh); break;
	default: break;
	}
	return o;
}

static enum askue_err insert_row(struct run *r, const struct meter *m, int k)
{
	static const char sql[] =
		"INSERT INTO anomaly(day, serial, kind, since, score, details) VALUES (?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	cJSON *d = details_of(m->f, k);
	char *text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	if (!text)
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, askue_anomaly_kind_name(k), -1, SQLITE_STATIC);
	askue_bind_date(st, 4, (struct askue_date){m->f->since[k]});
	sqlite3_bind_double(st, 5, m->f->r.score[k]);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_TRANSIENT);
	err = askue_ledger_step_done(r->ctx->l, st, "anomalies: a row");
	cJSON_free(text);
	return err;
}

/* The day's rows of the ledger table, replaced whole; rows older than
 * ROWS_KEEP_DAYS pruned. */
static enum askue_err write_rows(struct run *r)
{
	static const char del[] = "DELETE FROM anomaly WHERE day = ?1 OR day < ?2";
	char old[ASKUE_DATE_BUF];
	askue_date_format(askue_date_add_days(r->day, -ROWS_KEEP_DAYS), old);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, del, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, old, -1, SQLITE_TRANSIENT);
	if ((err = askue_ledger_step_done(r->ctx->l, st, "anomalies: the day's rows")))
		return err;
	for (size_t i = 0; i < r->n && !err; i++)
		for (int k = 0; r->m[i].f && k < ASKUE_ANOMALY_KINDS && !err; k++)
			if (r->m[i].f->r.found[k]) {
				r->found[k]++;
				err = insert_row(r, &r->m[i], k);
			}
	return err;
}

/* The active anomaly_* alerts. */
struct actives {
	int64_t *id;
	char **key; /* "kind\x1fserial" */
	size_t n, cap;
};

static enum askue_err load_active(struct run *r, struct actives *a)
{
	static const char sql[] =
		"SELECT id, kind, subject FROM alert WHERE status != 'resolved' AND kind IN"
		" ('anomaly_backwards','anomaly_jump','anomaly_stuck','anomaly_drop','anomaly_reverse')";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char key[ASKUE_ALERT_KIND_BYTES_MAX + ASKUE_ALERT_SUBJECT_BYTES_MAX + 2];
		key2(key, sizeof key, askue_column_text(st, 1), askue_column_text(st, 2));
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 256;
			int64_t *ids = realloc(a->id, cap * sizeof *ids);
			if (ids)
				a->id = ids;
			char **keys = ids ? realloc(a->key, cap * sizeof *keys) : NULL;
			if (!keys) {
				err = askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
				break;
			}
			a->key = keys;
			a->cap = cap;
		}
		a->id[a->n] = sqlite3_column_int64(st, 0);
		if (!(a->key[a->n] = strdup(key))) {
			err = askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
			break;
		}
		err = askue_strmap_put(r->active, key, (int64_t)a->n++);
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "anomalies: alerts");
	sqlite3_reset(st);
	return err;
}

static void actives_free(struct actives *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->key[i]);
	free(a->key);
	free(a->id);
}

static enum askue_err open_alert(struct run *r, const struct meter *m, int k)
{
	const char *kind = askue_anomaly_alert_kind(k);
	char ref[ASKUE_DATE_BUF];
	askue_date_format((struct askue_date){m->f->since[k]}, ref);
	cJSON *d = details_of(m->f, k);
	cJSON_AddStringToObject(d, "day", r->day_s);
	cJSON_AddStringToObject(d, "account", m->account);
	cJSON_AddStringToObject(d, "substation", m->substation);
	cJSON_AddNumberToObject(d, "score", m->f->r.score[k]);
	const char *serials[1] = {m->serial};
	int64_t id;
	enum askue_err err =
		askue_alert_open_tx(r->ctx->l, kind, m->serial, ref, r->ctx->now, d, serials, 1, &id);
	if (err) {
		cJSON_Delete(d);
		return err;
	}
	r->opened++;
	job_note(r->ctx, "opened", r->ctx->dry_run ? 0 : id, kind, m->serial, d);
	return ASKUE_OK;
}

/* A drop waiting for its alert: the meter and its score. */
struct drop_wait {
	size_t i;
	double score;
};

static int by_score(const void *a, const void *b)
{
	double x = ((const struct drop_wait *)a)->score, y = ((const struct drop_wait *)b)->score;
	return (x < y) - (x > y);
}

/* One finding that has an alert kind: kept, handled, waiting or opened. */
static enum askue_err alert_finding(struct run *r, size_t i, int k, struct drop_wait *waits,
                                    size_t *n_waits)
{
	const struct meter *m = &r->m[i];
	const char *kind = askue_anomaly_alert_kind(k);
	char key[ASKUE_ALERT_KIND_BYTES_MAX + ASKUE_ALERT_SUBJECT_BYTES_MAX + 2];
	int64_t v;
	key2(key, sizeof key, kind, m->serial);
	if (askue_strmap_get(r->active, key, &v))
		return askue_strmap_put(r->kept, key, 1);
	char ref[ASKUE_DATE_BUF];
	askue_date_format((struct askue_date){m->f->since[k]}, ref);
	int handled = 0;
	const char *kinds[1] = {kind};
	enum askue_err err = askue_alert_handled(r->ctx->l, kinds, 1, m->serial, ref, &handled);
	if (err || handled) {
		r->handled += handled;
		return err;
	}
	if (k != ASKUE_ANOMALY_DROP)
		return open_alert(r, m, k);
	waits[(*n_waits)++] = (struct drop_wait){i, m->f->r.score[k]};
	return ASKUE_OK;
}

/* New drop alerts the run may still open for its day: drop_alerts_max
 * less those opened for the same day already (a rerun opens no more). */
static enum askue_err drop_quota(struct run *r, size_t *out)
{
	static const char sql[] = "SELECT count(*) FROM alert WHERE kind = 'anomaly_drop'"
	                          " AND json_extract(details, '$.day') = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t done = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return askue_ledger_fail(r->ctx->l, rc, "anomalies: drop alerts of the day");
	int64_t max = r->ctx->cli->cfg.anomalies_drop_alerts_max;
	*out = done < max ? (size_t)(max - done) : 0;
	return ASKUE_OK;
}

static enum askue_err open_alerts(struct run *r)
{
	struct drop_wait *waits = malloc((r->n ? r->n : 1) * sizeof *waits);
	if (!waits)
		return askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	size_t n_waits = 0;
	enum askue_err err = ASKUE_OK;
	for (size_t i = 0; i < r->n && !err; i++)
		for (int k = 0; r->m[i].f && k < ASKUE_ANOMALY_KINDS && !err; k++)
			if (r->m[i].f->r.found[k] && askue_anomaly_alert_kind(k))
				err = alert_finding(r, i, k, waits, &n_waits);
	qsort(waits, n_waits, sizeof *waits, by_score);
	size_t max = 0;
	if (!err)
		err = drop_quota(r, &max);
	for (size_t w = 0; w < n_waits && !err; w++) {
		if (w < max)
			err = open_alert(r, &r->m[waits[w].i], ASKUE_ANOMALY_DROP);
		else
			r->drop_waiting++;
	}
	free(waits);
	return err;
}

/* Active alerts whose anomaly is no longer seen close by themselves. */
static enum askue_err close_alerts(struct run *r, const struct actives *a)
{
	enum askue_err err = ASKUE_OK;
	for (size_t j = 0; j < a->n && !err; j++) {
		int64_t v;
		if (askue_strmap_get(r->kept, a->key[j], &v))
			continue;
		const char *serial = strchr(a->key[j], '\x1f') + 1;
		int installed = askue_strmap_get(r->index, serial, &v);
		const char *outcome = installed ? "no longer seen" : "meter no longer installed";
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "closed_day", r->day_s);
		if ((err = askue_alert_close_tx(r->ctx->l, a->id[j], r->ctx->now, outcome, p))) {
			cJSON_Delete(p);
			break;
		}
		cJSON_AddStringToObject(p, "outcome", outcome);
		char kind[ASKUE_ALERT_KIND_BYTES_MAX + 1];
		snprintf(kind, sizeof kind, "%.*s", (int)(serial - 1 - a->key[j]), a->key[j]);
		job_note(r->ctx, "closed", a->id[j], kind, serial, p);
		r->closed++;
	}
	return err;
}

static enum askue_err write_ledger(struct run *r)
{
	struct actives a = {0};
	enum askue_err err = askue_ledger_begin(r->ctx->l);
	if (err)
		return err;
	if (!(err = write_rows(r)) && !(err = load_active(r, &a)) && !(err = open_alerts(r)))
		err = close_alerts(r, &a);
	if (!err && !r->ctx->dry_run)
		err = askue_ledger_commit(r->ctx->l);
	else
		askue_ledger_rollback(r->ctx->l);
	actives_free(&a);
	return err;
}

/* One `anomaly` point: tags meter, account, substation, kind; fields score
 * and the figures (integers: Wh, W, s, days, per cent). */
static enum askue_err point(struct run *r, const struct meter *m, int k,
                            struct askue_linebuf *lb)
{
	const struct askue_anomaly_result *x = &m->f->r;
	const char *tags[8] = {"meter",      m->serial, "account", m->account, "substation",
	                       m->substation, "kind",     askue_anomaly_kind_name(k)};
	enum askue_err err = askue_lineproto_begin(lb, "anomaly", tags, 8);
	if (!err)
		err = askue_lineproto_float(lb, "score", x->score[k]);
	if (!err)
		err = askue_lineproto_int(lb, "since_days", r->day.days - m->f->since[k]);
	if (!err && m->f->held[k])
		err = askue_lineproto_int(lb, "held", 1);
	else if (!err && (k == ASKUE_ANOMALY_BACKWARDS))
		err = askue_lineproto_int(lb, "back_wh", x->backwards_wh);
	else if (!err && k == ASKUE_ANOMALY_JUMP) {
		if (!(err = askue_lineproto_int(lb, "step_wh", x->jump_wh)))
			err = askue_lineproto_int(lb, "w", x->jump_w);
	} else if (!err && k == ASKUE_ANOMALY_STUCK)
		err = askue_lineproto_int(lb, "stuck_days", x->stuck_days);
	else if (!err && (k == ASKUE_ANOMALY_DROP || k == ASKUE_ANOMALY_AWAY)) {
		if (!(err = askue_lineproto_int(lb, "baseline_wh", x->baseline_wh)) &&
		    !(err = askue_lineproto_int(lb, "recent_wh", x->recent_wh)))
			err = askue_lineproto_int(lb, "ratio_pct", x->ratio_pct);
	} else if (!err && k == ASKUE_ANOMALY_REVERSE)
		err = askue_lineproto_int(lb, "export_wh", x->reverse_wh);
	if (!err)
		err = askue_lineproto_end(lb, r->start);
	return err;
}

static enum askue_err flush_points(struct askue_influx *ix, struct askue_linebuf *lb)
{
	enum askue_err err = ASKUE_OK;
	if (lb->len)
		err = askue_influx_write_split(ix, lb->buf, lb->len, NULL, NULL, NULL);
	lb->len = 0;
	return err;
}

/* The day's points, replaced: those of an earlier run of the day are
 * deleted first (a rerun that finds less leaves nothing behind). */
static enum askue_err write_points(struct run *r)
{
	struct askue_influx *ix;
	enum askue_err err = askue_influx_open(&r->ctx->cli->cfg, &ix);
	if (err)
		return err;
	char q[160], *js = NULL;
	snprintf(q, sizeof q, "DELETE FROM anomaly WHERE time >= %llds AND time < %llds",
	         (long long)r->start, (long long)r->end);
	err = askue_influx_query(ix, q, &js);
	free(js);
	struct askue_linebuf lb = {.cap = (size_t)POINTS_BATCH * LINE_BYTES_MAX};
	if (!err && !(lb.buf = malloc(lb.cap)))
		err = askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory");
	size_t in_batch = 0;
	for (size_t i = 0; i < r->n && !err; i++)
		for (int k = 0; r->m[i].f && k < ASKUE_ANOMALY_KINDS && !err; k++) {
			if (!r->m[i].f->r.found[k])
				continue;
			if (!(err = point(r, &r->m[i], k, &lb)))
				r->points++;
			if (!err && ++in_batch == POINTS_BATCH) {
				err = flush_points(ix, &lb);
				in_batch = 0;
			}
		}
	if (!err)
		err = flush_points(ix, &lb);
	if (err)
		askue_err_prefix("anomalies %s: the anomaly points: ", r->day_s);
	free(lb.buf);
	askue_influx_close(ix);
	return err;
}

static void report(struct run *r, int window_days)
{
	cJSON *o = r->ctx->report;
	cJSON_AddStringToObject(o, "day", r->day_s);
	cJSON_AddNumberToObject(o, "window_days", window_days);
	cJSON_AddNumberToObject(o, "drop_recent_days", r->p.recent_days);
	cJSON_AddNumberToObject(o, "installed", (double)r->n);
	cJSON_AddNumberToObject(o, "meters_with_days", (double)r->judged);
	cJSON_AddNumberToObject(o, "meter_days", (double)r->rows);
	cJSON_AddNumberToObject(o, "raw_meters", (double)r->raw_meters);
	cJSON_AddNumberToObject(o, "raw_readings", (double)r->raw_readings);
	cJSON_AddNumberToObject(o, "fleet_ratio_pct", r->peer_pct);
	cJSON *f = cJSON_AddObjectToObject(o, "found");
	for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
		cJSON_AddNumberToObject(f, askue_anomaly_kind_name(k), (double)r->found[k]);
	cJSON_AddNumberToObject(o, "alerts_opened", (double)r->opened);
	cJSON_AddNumberToObject(o, "alerts_closed", (double)r->closed);
	cJSON_AddNumberToObject(o, "resolved_by_operator", (double)r->handled);
	cJSON_AddNumberToObject(o, "drop_alerts_waiting", (double)r->drop_waiting);
	cJSON_AddNumberToObject(o, r->ctx->dry_run ? "would_write_points" : "points",
	                        (double)(r->ctx->dry_run ? 0 : r->points));
	cJSON *s = cJSON_AddArrayToObject(o, "phase_seconds");
	cJSON_AddItemToArray(s, cJSON_CreateNumber(r->t_days));
	cJSON_AddItemToArray(s, cJSON_CreateNumber(r->t_raw));
	cJSON_AddItemToArray(s, cJSON_CreateNumber(r->t_write));
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->m[i].serial);
		free(r->m[i].account);
		free(r->m[i].substation);
		if (r->m[i].f)
			for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
				free(r->m[i].f->held[k]);
		free(r->m[i].f);
	}
	free(r->m);
	askue_strmap_free(r->index);
	askue_strmap_free(r->active);
	askue_strmap_free(r->kept);
}

/* Read and judge (no writes). */
static enum askue_err judge(struct run *r, int window_days)
{
	double t0 = mono_s();
	enum askue_err err = load_installed(r);
	if (!err)
		err = read_days(r, window_days);
	double t1 = mono_s();
	r->t_days = t1 - t0;
	if (!err && r->ctx->cli->cfg.anomalies_raw)
		err = read_raw(r);
	r->t_raw = mono_s() - t1;
	if (!err) {
		judge_peers(r);
		err = hold_events(r);
	}
	if (!err)
		err = set_since(r);
	return err;
}

/* The days of meter_day there are: window_days, or fewer when the rollup
 * keeps fewer ([rollup] keep_days, 45 by default). The drop's recent days
 * then shrink to leave its baseline baseline_days_min (measured with 45
 * days: recent 23, recall 0.79, precision 0.63, docs/anomalies.md). */
static int fit_history(struct askue_anomaly_params *p, const struct askue_config *cfg)
{
	int64_t keep = cfg->rollup_keep_days;
	int history = (int)(cfg->anomalies_window_days < keep ? cfg->anomalies_window_days : keep);
	int room = history - 1 - p->baseline_days_min;
	if (p->recent_days > room)
		p->recent_days = room > 7 ? room : 7;
	return history;
}

int job_anomalies(struct job_ctx *ctx)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r)
		return cli_fail(ctx->cli, askue_err_set(ASKUE_ERR_NOMEM, "anomalies: out of memory"));
	r->ctx = ctx;
	params_of(&ctx->cli->cfg, &r->p);
	int window_days = fit_history(&r->p, &ctx->cli->cfg);
	r->day = ctx->has_date ? ctx->today : askue_date_add_days(ctx->today, -1);
	askue_date_format(r->day, r->day_s);
	enum askue_err err = askue_date_start(r->day, &r->start);
	if (!err)
		err = askue_date_start(askue_date_add_days(r->day, 1), &r->end);
	if (!err && !(err = askue_strmap_new(1024, &r->index)) &&
	    !(err = askue_strmap_new(256, &r->active)))
		err = askue_strmap_new(256, &r->kept);
	if (!err)
		err = judge(r, window_days);
	double t0 = mono_s();
	if (!err)
		err = write_ledger(r);
	if (!err) {
		job_publish_alerts(ctx);
		if (!ctx->dry_run)
			err = write_points(r);
	}
	r->t_write = mono_s() - t0;
	if (!err)
		report(r, window_days);
	run_free(r);
	free(r);
	return err ? cli_fail(ctx->cli, err) : 0;
}
