/* rollup — see rollup.h and docs/rollup.md. One day's run:
 *   load   the installations of day D (serial -> capacity and the tags of
 *          the `daily` point),
 *   stream the `reading` points of [start D, start D+1] (the reading at
 *          exactly the next midnight is the end value of D, not part of D),
 *   fold   each meter's first, last and count (lib/rollup.c),
 *   look   back for the register value each meter had at the start of D
 *          (meter_day of D-1, else the newest earlier row),
 *   write  meter_day (the day's rows replaced), the `daily` points, the
 *          rollup_day row, and the one journal event of the day.
 * On the way it sums each meter's register increments per half-hour into
 * its substation's, its district's and the utility's buckets: the `load`
 * measurement (docs/rollup.md), the history of `askue job forecast`.
 */
#include "rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast.h"
#include "influx.h"
#include "journal.h"
#include "lineproto.h"
#include "strmap.h"

#define LOOKBACK_DAYS 7        /* the plain daily run catches up this many days */
#define CHUNK_ROWS 10000       /* rows per chunk of the streamed answer */
#define BATCH_POINTS_MAX 5000  /* `daily` points per write (notes/perf-baselines.md) */
#define BATCH_BYTES_MAX (2 * 1024 * 1024)
#define TAGS_BYTES_MAX 1024    /* the escaped tags of one point */
#define WRITER_THREADS 2       /* two POSTs at a time: InfluxDB parses each on one core */
#define LOAD_SLOTS_MAX 50      /* half-hours of a local day: 46..50 across a DST change */
#define LOAD_GROUPS_MAX 100000 /* substations + districts + 1: far above any utility's */

struct mrec {
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	int64_t capacity_wh;
	char *tags; /* ",account=..,district=..": escaped, malloc'ed; NULL not installed */
	int installed;
	struct askue_rollup_day day;
	int has_end;                 /* a reading at exactly the next midnight */
	struct askue_rollup_regs end;
	int has_prev;                /* the last reading before the day */
	struct askue_rollup_regs prev;
	int32_t group[2];            /* load: substation, district (index into groups; -1 none) */
	int64_t load_ts, load_wh;    /* load: the meter's previous 1.8.0 reading of the day */
	uint64_t load_slots;         /* load: the half-hours it contributed to (bit k) */
};

/* A `load` series of the day: a substation, a district, or the utility. */
struct lgroup {
	char *tags; /* "level=all", or "level=substation,substation=.." (district
	             * likewise): escaped, malloc'ed */
	int64_t wh[LOAD_SLOTS_MAX];
	int32_t meters[LOAD_SLOTS_MAX];
};

struct run {
	struct job_ctx *ctx;
	struct askue_date day;
	char day_s[ASKUE_DATE_BUF];
	int64_t start, end; /* UTC s of local midnight D and D+1 */
	struct askue_strmap *index; /* serial -> index into m */
	struct mrec *m;
	size_t n, cap;
	int cols[6]; /* time, ai_wh, t1_wh, t2_wh, t3_wh, meter: their columns */
	/* counts for the report and the journal */
	int64_t readings, rows_without_total, meters_with_data, installed, installed_without_data,
		not_installed, points, estimated, backwards;
	char *batch;
	size_t batch_len, batch_points;
	struct askue_influx *ix;          /* the query's */
	struct askue_influx_writer *w;    /* the daily points' (NULL: --dry-run) */
	struct askue_strmap *gindex; /* "level\x1fname" -> index into g */
	struct lgroup *g;
	size_t ng, gcap;
	int slots;                   /* half-hours of the day */
	int64_t load_points, load_backwards;
	double query_s, write_s; /* time spent in InfluxDB's query and writes */
	double phase_s[3];        /* installations; readings + previous day; writing */
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->m[i].tags);
	free(r->m);
	free(r->batch);
	for (size_t i = 0; i < r->ng; i++)
		free(r->g[i].tags);
	free(r->g);
	askue_strmap_free(r->gindex);
	askue_strmap_free(r->index);
	askue_influx_close(r->ix);
}

/* The record of serial, created when create and missing; NULL otherwise. */
static enum askue_err rec_of(struct run *r, const char *serial, int create, struct mrec **out)
{
	int64_t i;
	*out = NULL;
	if (askue_strmap_get(r->index, serial, &i)) {
		*out = &r->m[i];
		return ASKUE_OK;
	}
	if (!create)
		return ASKUE_OK;
	if (strlen(serial) > ASKUE_SERIAL_BYTES_MAX)
		return ASKUE_OK; /* not a serial askue could have stored */
	if (r->n == r->cap || !r->m) {
		size_t cap = r->cap ? r->cap * 2 : 4096; /* cap 0 <=> m NULL */
		struct mrec *p = realloc(r->m, cap * sizeof *p);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
		r->m = p;
		r->cap = cap;
	}
	struct mrec *m = &r->m[r->n];
	memset(m, 0, sizeof *m);
	m->group[0] = m->group[1] = -1;
	snprintf(m->serial, sizeof m->serial, "%s", serial);
	m->capacity_wh = INT64_C(1000000000);
	enum askue_err err = askue_strmap_put(r->index, serial, (int64_t)r->n);
	if (err)
		return err;
	r->n++;
	*out = m;
	return ASKUE_OK;
}

/* Append ",key=value" (escaped) to tags when value is not empty. */
static size_t add_tag(char *tags, size_t o, const char *key, const char *value)
{
	char esc[4 * ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	size_t n = strlen(value);
	if (!n || o >= TAGS_BYTES_MAX)
		return o;
	size_t e = askue_lineproto_escape_tag(value, n, esc, sizeof esc);
	if (e == (size_t)-1)
		return o; /* a value InfluxDB cannot hold as a tag: left out */
	int w = snprintf(tags + o, TAGS_BYTES_MAX - o, ",%s=%s", key, esc);
	return w > 0 && (size_t)w < TAGS_BYTES_MAX - o ? o + (size_t)w : o;
}

/* The index of the load group (level, name), created when new; -1 for an
 * empty name or one InfluxDB cannot hold as a tag. The group's name is the
 * tag named after its level, as in `daily` (level=substation,substation=..);
 * the utility (level all) has none. */
static enum askue_err group_of(struct run *r, const char *level, const char *name,
                               int32_t *out)
{
	char key[2 * ASKUE_SHORT_TEXT_BYTES_MAX + 2], esc[4 * ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	int64_t i;
	*out = -1;
	snprintf(key, sizeof key, "%s\x1f%s", level, name);
	if (askue_strmap_get(r->gindex, key, &i)) {
		*out = (int32_t)i;
		return ASKUE_OK;
	}
	size_t e = askue_lineproto_escape_tag(name, strlen(name), esc, sizeof esc);
	if (!*name || e == (size_t)-1)
		return ASKUE_OK;
	if (r->ng == LOAD_GROUPS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "rollup: more than %d load groups",
		                     LOAD_GROUPS_MAX);
	if (r->ng == r->gcap || !r->g) {
		size_t cap = r->gcap ? r->gcap * 2 : 64;
		struct lgroup *p = realloc(r->g, cap * sizeof *p);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
		r->g = p;
		r->gcap = cap;
	}
	struct lgroup *g = &r->g[r->ng];
	memset(g, 0, sizeof *g);
	size_t n = 2 * strlen(level) + e + 16;
	if (!(g->tags = malloc(n)))
		return askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
	if (!strcmp(level, "all"))
		snprintf(g->tags, n, "level=all");
	else
		snprintf(g->tags, n, "level=%s,%s=%s", level, level, esc);
	enum askue_err err = askue_strmap_put(r->gindex, key, (int64_t)r->ng);
	if (err) {
		free(g->tags);
		return err;
	}
	*out = (int32_t)r->ng++;
	return ASKUE_OK;
}

/* The register increment (t0, t1] of a meter into the half-hours of its
 * groups and the utility's (group 0); a step that went backwards is left
 * out (counted). */
static void load_add(struct run *r, struct mrec *m, int64_t t0, int64_t wh0, int64_t t1,
                     int64_t wh1)
{
	int64_t inc, part[LOAD_SLOTS_MAX] = {0};
	if (askue_rollup_step(wh0, wh1, m->capacity_wh, &inc) == ASKUE_STEP_BACKWARDS) {
		r->load_backwards++;
		return;
	}
	int last, first = askue_load_spread(t0, t1, inc, r->start, r->slots, part, &last);
	if (first < 0)
		return;
	int32_t gs[3] = {0, m->group[0], m->group[1]};
	for (int k = first; k <= last; k++) {
		int fresh = !(m->load_slots & (UINT64_C(1) << k));
		m->load_slots |= UINT64_C(1) << k;
		for (int j = 0; j < 3; j++)
			if (gs[j] >= 0) {
				r->g[gs[j]].wh[k] += part[k];
				r->g[gs[j]].meters[k] += fresh;
			}
	}
}

/* The installations of day D: capacity and the tags of the daily point. */
static enum askue_err load_installed(struct run *r)
{
	static const char sql[] =
		"SELECT m.serial, m.capacity_wh, s.account, s.district, s.substation,"
		" (SELECT t.name FROM subscriber_tariff st JOIN tariff t ON t.id = st.tariff_id"
		"  WHERE st.subscriber_id = s.id AND st.valid_from <= ?1"
		"  ORDER BY st.valid_from DESC LIMIT 1)"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE i.installed <= ?1 AND (i.removed IS NULL OR i.removed >= ?1)"
		" ORDER BY i.installed, i.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mrec *m;
		if ((err = rec_of(r, askue_column_text(st, 0), 1, &m)))
			break;
		if (!m)
			continue;
		char tags[TAGS_BYTES_MAX];
		size_t o = 0;
		tags[0] = '\0';
		o = add_tag(tags, o, "account", askue_column_text(st, 2));
		o = add_tag(tags, o, "district", askue_column_text(st, 3));
		o = add_tag(tags, o, "substation", askue_column_text(st, 4));
		add_tag(tags, o, "tariff", askue_column_text(st, 5));
		free(m->tags);
		if (!(m->tags = strdup(tags))) {
			err = askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
			break;
		}
		m->capacity_wh = sqlite3_column_int64(st, 1);
		m->installed = 1;
		if ((err = group_of(r, "substation", askue_column_text(st, 4), &m->group[0])) ||
		    (err = group_of(r, "district", askue_column_text(st, 3), &m->group[1])))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "rollup: installations");
	sqlite3_reset(st);
	return err;
}

static void find_columns(struct run *r, const cJSON *columns)
{
	static const char *const names[6] = {"time", "ai_wh", "t1_wh", "t2_wh", "t3_wh", "meter"};
	for (int k = 0; k < 6; k++)
		r->cols[k] = -1;
	int i = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, columns)
	{
		for (int k = 0; k < 6 && i < 8; k++)
			if (cJSON_IsString(c) && !strcmp(c->valuestring, names[k]))
				r->cols[k] = i;
		i++;
	}
}

/* One row: [time, ai_wh, t1_wh, t2_wh, t3_wh, meter] in the answer's order. */
static enum askue_err take_row(struct run *r, const cJSON *row)
{
	const cJSON *cell[8] = {0};
	int i = 0;
	for (const cJSON *c = row->child; c && i < 8; c = c->next)
		cell[i++] = c;
	const cJSON *t = r->cols[0] >= 0 ? cell[r->cols[0]] : NULL;
	const cJSON *meter = r->cols[5] >= 0 ? cell[r->cols[5]] : NULL;
	if (!t || !meter || !cJSON_IsNumber(t) || !cJSON_IsString(meter))
		return askue_err_set(ASKUE_ERR_IO, "rollup: InfluxDB answered a row without time "
		                     "or meter");
	struct askue_rollup_regs reg = {.ts = (int64_t)t->valuedouble};
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++) {
		const cJSON *v = r->cols[k + 1] >= 0 ? cell[r->cols[k + 1]] : NULL;
		if (v && cJSON_IsNumber(v) && v->valuedouble >= 0) {
			reg.mask |= 1u << k;
			reg.wh[k] = (int64_t)v->valuedouble;
		}
	}
	if (!(reg.mask & 1u)) {
		r->rows_without_total++; /* no 1.8.0: not a register reading */
		return ASKUE_OK;
	}
	struct mrec *m;
	enum askue_err err = rec_of(r, meter->valuestring, 1, &m);
	if (err || !m)
		return err;
	if (m->load_ts && reg.ts > m->load_ts && (m->load_ts >= r->start || reg.ts > r->start))
		load_add(r, m, m->load_ts, m->load_wh, reg.ts, reg.wh[0]);
	if (!m->load_ts || reg.ts > m->load_ts) {
		m->load_ts = reg.ts;
		m->load_wh = reg.wh[0];
	}
	if (reg.ts >= r->end) {
		m->has_end = 1;
		m->end = reg;
		return ASKUE_OK;
	}
	askue_rollup_fold(&m->day, &reg);
	r->readings++;
	return ASKUE_OK;
}

static enum askue_err on_series(const char *name, const cJSON *tags, const cJSON *columns,
                                const cJSON *values, void *ctx)
{
	struct run *r = ctx;
	(void)name;
	(void)tags;
	find_columns(r, columns);
	const cJSON *row;
	enum askue_err err = ASKUE_OK;
	cJSON_ArrayForEach(row, values)
	{
		if ((err = take_row(r, row)))
			break;
	}
	return err;
}

static enum askue_err stream_readings(struct run *r)
{
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT ai_wh, t1_wh, t2_wh, t3_wh, meter FROM reading"
	         " WHERE time >= %llds AND time <= %llds",
	         (long long)r->start, (long long)r->end);
	double t0 = mono_s();
	enum askue_err err = askue_influx_query_stream(r->ix, q, CHUNK_ROWS, on_series, r);
	r->query_s += mono_s() - t0;
	if (err)
		askue_err_prefix("rollup %s: readings: ", r->day_s);
	return err;
}

static void regs_from(sqlite3_stmt *st, int col, struct askue_rollup_regs *out)
{
	memset(out, 0, sizeof *out);
	out->ts = sqlite3_column_int64(st, col);
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++) {
		if (sqlite3_column_type(st, col + 1 + k) != SQLITE_NULL) {
			out->mask |= 1u << k;
			out->wh[k] = sqlite3_column_int64(st, col + 1 + k);
		}
	}
}

/* The last reading of D-1 for each meter with data on D. */
static enum askue_err load_prev_day(struct run *r)
{
	static const char sql[] =
		"SELECT serial, last_ts, last_r0_wh, last_r1_wh, last_r2_wh, last_r3_wh"
		" FROM meter_day WHERE day = ?";
	char prev[ASKUE_DATE_BUF];
	askue_date_format(askue_date_add_days(r->day, -1), prev);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, prev, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mrec *m;
		if ((err = rec_of(r, askue_column_text(st, 0), 0, &m)))
			break;
		if (m && (m->day.readings || m->has_end)) {
			m->has_prev = 1;
			regs_from(st, 1, &m->prev);
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(r->ctx->l, rc, "rollup: previous day");
	sqlite3_reset(st);
	return err;
}

/* A meter with no row on D-1: its newest earlier row, if any. */
static enum askue_err look_back(struct run *r, struct mrec *m)
{
	static const char sql[] =
		"SELECT last_ts, last_r0_wh, last_r1_wh, last_r2_wh, last_r3_wh FROM meter_day"
		" WHERE serial = ? AND day < ? ORDER BY day DESC LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, m->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->day_s, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m->has_prev = 1;
		regs_from(st, 0, &m->prev);
	} else if (rc != SQLITE_DONE) {
		err = askue_ledger_fail(r->ctx->l, rc, "rollup: earlier day");
	}
	sqlite3_reset(st);
	return err;
}

/* Meters seen in the readings but not installed on D: their capacity. */
static enum askue_err capacity_of(struct run *r, struct mrec *m)
{
	static const char sql[] = "SELECT capacity_wh FROM meter WHERE serial = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(r->ctx->l, sql, m->serial, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return ASKUE_OK; /* not in the card file: the default register */
	if (err)
		return err;
	m->capacity_wh = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ASKUE_OK;
}

static void bind_regs(sqlite3_stmt *st, int col, const struct askue_rollup_regs *g)
{
	sqlite3_bind_int64(st, col, g->ts);
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++) {
		if (g->mask & (1u << k))
			sqlite3_bind_int64(st, col + 1 + k, g->wh[k]);
		else
			sqlite3_bind_null(st, col + 1 + k);
	}
}

static enum askue_err clear_day(struct run *r)
{
	static const char sql[] = "DELETE FROM meter_day WHERE day = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	return askue_ledger_step_done(r->ctx->l, st, "rollup: meter_day");
}

static enum askue_err store_day(struct run *r, const struct mrec *m)
{
	static const char sql[] =
		"INSERT INTO meter_day(serial, day, readings, first_ts, first_r0_wh, first_r1_wh,"
		" first_r2_wh, first_r3_wh, last_ts, last_r0_wh, last_r1_wh, last_r2_wh, last_r3_wh)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, m->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->day_s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, m->day.readings);
	bind_regs(st, 4, &m->day.first);
	bind_regs(st, 9, &m->day.last);
	return askue_ledger_step_done(r->ctx->l, st, "rollup: meter_day");
}

static enum askue_err delete_row(struct askue_ledger *l, const char *serial, const char *day)
{
	static const char sql[] = "DELETE FROM meter_day WHERE serial = ? AND day = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
	return askue_ledger_step_done(l, st, "rollup: meter_day");
}

/* Hand the batch to the writer (it writes while this thread goes on). */
static enum askue_err flush(struct run *r)
{
	if (!r->batch_len)
		return ASKUE_OK;
	enum askue_err err = ASKUE_OK;
	double t0 = mono_s();
	if (r->w) {
		char *next = malloc(BATCH_BYTES_MAX);
		if (!next)
			return askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
		err = askue_influx_writer_put_take(r->w, r->batch, r->batch_len);
		r->batch = next;
	}
	r->write_s += mono_s() - t0;
	r->batch_len = 0;
	r->batch_points = 0;
	if (err)
		askue_err_prefix("rollup %s: daily points: ", r->day_s);
	return err;
}

/* Append one line of line protocol to the batch, flushing a full one. */
static enum askue_err put_line(struct run *r, const char *line, size_t len)
{
	if (r->batch_len + len > BATCH_BYTES_MAX || r->batch_points == BATCH_POINTS_MAX) {
		enum askue_err err = flush(r);
		if (err)
			return err;
	}
	memcpy(r->batch + r->batch_len, line, len);
	r->batch_len += len;
	r->batch_points++;
	return ASKUE_OK;
}

static enum askue_err daily_point(struct run *r, const struct mrec *m)
{
	struct askue_rollup_daily d = askue_rollup_daily(&m->day, m->has_prev ? &m->prev : NULL,
	                                                 m->has_end ? &m->end : NULL, r->start,
	                                                 m->capacity_wh);
	struct askue_rollup_consumption c = d.c;
	int estimated = d.estimated;
	r->estimated += estimated;
	r->backwards += c.backwards_mask != 0;
	char esc[4 * ASKUE_SERIAL_BYTES_MAX + 1], line[TAGS_BYTES_MAX + 512];
	if (askue_lineproto_escape_tag(m->serial, strlen(m->serial), esc, sizeof esc) == (size_t)-1)
		return ASKUE_OK; /* cannot be a tag: the ingestor never stores such a serial */
	int o = snprintf(line, sizeof line, "daily,meter=%s%s ", esc, m->tags ? m->tags : "");
	static const char *const keys[ASKUE_ROLLUP_REGS] = {"wh", "t1_wh", "t2_wh", "t3_wh"};
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++)
		if (c.mask & (1u << k))
			o += snprintf(line + o, sizeof line - (size_t)o, "%s=%lldi,", keys[k],
			              (long long)c.wh[k]);
	o += snprintf(line + o, sizeof line - (size_t)o, "estimated=%s,readings=%lldi %lld\n",
	              estimated ? "true" : "false", (long long)m->day.readings, (long long)r->start);
	r->points++;
	return put_line(r, line, (size_t)o);
}

/* The increment from the meter's value at the start of the day (its last
 * reading before D) to its first reading in D (or the one at midnight D+1)
 * into the load: the part of the gap before midnight counts in D, as it
 * does in the `daily` wh (docs/rollup.md). */
static void load_first(struct run *r, struct mrec *m)
{
	const struct askue_rollup_regs *first = m->day.readings ? &m->day.first : &m->end;
	if (m->has_prev && (m->prev.mask & 1u) && first->ts > r->start && first->ts > m->prev.ts)
		load_add(r, m, m->prev.ts, m->prev.wh[0], first->ts, first->wh[0]);
}

/* Every half-hour of every group of the day (zeros too: a rerun rewrites
 * each point), after the day's old `load` points are deleted (a group gone
 * since leaves none behind). */
static enum askue_err load_points(struct run *r)
{
	enum askue_err err = ASKUE_OK;
	if (r->w) {
		char q[160], *answer = NULL;
		snprintf(q, sizeof q, "DELETE FROM \"load\" WHERE time >= %llds AND time < %llds",
		         (long long)r->start, (long long)r->end);
		err = askue_influx_query(r->ix, q, &answer);
		free(answer);
		if (err) {
			askue_err_prefix("rollup %s: load: ", r->day_s);
			return err;
		}
	}
	for (size_t i = 0; i < r->ng && !err; i++)
		for (int k = 0; k < r->slots && !err; k++) {
			char line[TAGS_BYTES_MAX + 128];
			int o = snprintf(line, sizeof line, "load,%s wh=%lldi,meters=%di %lld\n",
			                 r->g[i].tags, (long long)r->g[i].wh[k], r->g[i].meters[k],
			                 (long long)(r->start + (int64_t)k * 1800));
			if (o > 0 && (size_t)o < sizeof line) {
				r->load_points++;
				err = put_line(r, line, (size_t)o);
			}
		}
	return err;
}

/* A fingerprint of the day's last readings in meter_day: sums of the
 * columns (exact in a double: 500,000 x 10^9 < 2^53). */
/* A digest of the day's last readings in meter_day (FNV-1a over serial and
 * values, in serial order): exact change detection, where sums would miss
 * two meters' changes that cancel out. */
static void digest_add(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * UINT64_C(1099511628211);
}

static enum askue_err last_digest(struct run *r, uint64_t *out)
{
	static const char sql[] =
		"SELECT serial, last_ts, last_r0_wh, last_r1_wh, last_r2_wh, last_r3_wh"
		" FROM meter_day WHERE day = ? ORDER BY serial";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	uint64_t h = UINT64_C(14695981039346656037);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		digest_add(&h, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0) + 1);
		for (int i = 1; i < 6; i++) {
			int64_t v = sqlite3_column_type(st, i) == SQLITE_NULL
			                ? INT64_MIN
			                : sqlite3_column_int64(st, i);
			digest_add(&h, &v, sizeof v);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(r->ctx->l, rc, "rollup: meter_day");
	*out = h;
	return ASKUE_OK;
}

/* The next day's start values are this day's last readings: when they
 * changed (late readings, a first rollup after the next day's), the next
 * day, if rolled up, is marked for a redo. */
static enum askue_err mark_next(struct run *r, uint64_t before)
{
	static const char sql[] = "UPDATE rollup_day SET done = 0 WHERE day = ?";
	uint64_t after = 0;
	enum askue_err err = last_digest(r, &after);
	if (err || before == after)
		return err;
	char next[ASKUE_DATE_BUF];
	askue_date_format(askue_date_add_days(r->day, 1), next);
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(r->ctx->l, sql, &st)))
		return err;
	sqlite3_bind_text(st, 1, next, -1, SQLITE_TRANSIENT);
	return askue_ledger_step_done(r->ctx->l, st, "rollup: rollup_day");
}

static int by_serial(const void *a, const void *b)
{
	return strcmp(((const struct mrec *)a)->serial, ((const struct mrec *)b)->serial);
}

/* In serial order: meter_day's key is (serial, day), so the day's rows go
 * into the table (millions of rows: keep_days of the fleet) in one ordered
 * pass instead of at random pages. The index map is not used after this. */
static enum askue_err each_meter(struct run *r)
{
	uint64_t before = 0;
	if (r->n > 1)
		qsort(r->m, r->n, sizeof *r->m, by_serial);
	enum askue_err err = last_digest(r, &before);
	if (!err)
		err = clear_day(r);
	for (size_t i = 0; i < r->n && !err; i++) {
		struct mrec *m = &r->m[i];
		r->installed += m->installed;
		r->installed_without_data += m->installed && !m->day.readings;
		if (!m->day.readings && !m->has_end)
			continue; /* nothing to write */
		r->meters_with_data += m->day.readings > 0;
		if (!m->installed) {
			r->not_installed++;
			if ((err = capacity_of(r, m)))
				break;
		}
		if (!m->has_prev && !(m->day.readings && m->day.first.ts == r->start) &&
		    (err = look_back(r, m)))
			break;
		if (m->day.readings && (err = store_day(r, m)))
			break;
		load_first(r, m);
		err = daily_point(r, m);
	}
	if (!err)
		err = load_points(r);
	if (!err)
		err = flush(r);
	if (!err)
		err = mark_next(r, before);
	return err;
}

/* rollup_day, and the day's one journal event (only when there is none). */
static enum askue_err record_day(struct run *r)
{
	static const char upsert[] =
		"INSERT INTO rollup_day(day, done, meters, readings) VALUES (?,?,?,?)"
		" ON CONFLICT(day) DO UPDATE SET done = excluded.done, meters = excluded.meters,"
		" readings = excluded.readings";
	static const char seen[] = "SELECT 1 FROM event WHERE subject = ?1 AND type = ?2 LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, upsert, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	sqlite3_bind_int64(st, 3, r->meters_with_data);
	sqlite3_bind_int64(st, 4, r->readings);
	if ((err = askue_ledger_step_done(r->ctx->l, st, "rollup: rollup_day")) ||
	    (err = askue_ledger_stmt(r->ctx->l, seen, &st)))
		return err;
	sqlite3_bind_text(st, 1, r->day_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ASKUE_EV_METER_DATA_RECEIVED, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return ASKUE_OK;
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(r->ctx->l, rc, "rollup: journal");
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "day", r->day_s);
	askue_json_add_int(d, "meters_with_data", r->meters_with_data);
	askue_json_add_int(d, "readings", r->readings);
	askue_json_add_int(d, "installed_without_data", r->installed_without_data);
	err = askue_journal_append(r->ctx->l, ASKUE_EV_METER_DATA_RECEIVED, r->day_s, d);
	cJSON_Delete(d);
	return err;
}

static void report_day(struct run *r, double seconds)
{
	if (!r->ctx->report)
		return;
	cJSON *arr = cJSON_GetObjectItem(r->ctx->report, "rollup_days");
	if (!arr)
		arr = cJSON_AddArrayToObject(r->ctx->report, "rollup_days");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "day", r->day_s);
	cJSON_AddNumberToObject(o, "meters_with_data", (double)r->meters_with_data);
	cJSON_AddNumberToObject(o, "readings", (double)r->readings);
	cJSON_AddNumberToObject(o, "installed", (double)r->installed);
	cJSON_AddNumberToObject(o, "installed_without_data", (double)r->installed_without_data);
	cJSON_AddNumberToObject(o, "not_installed", (double)r->not_installed);
	cJSON_AddNumberToObject(o, "daily_points", (double)r->points);
	cJSON_AddNumberToObject(o, "estimated", (double)r->estimated);
	cJSON_AddNumberToObject(o, "went_backwards", (double)r->backwards);
	cJSON_AddNumberToObject(o, "rows_without_total", (double)r->rows_without_total);
	cJSON_AddNumberToObject(o, "load_groups", (double)r->ng);
	cJSON_AddNumberToObject(o, "load_points", (double)r->load_points);
	cJSON_AddNumberToObject(o, "load_went_backwards", (double)r->load_backwards);
	cJSON_AddNumberToObject(o, "seconds", (double)(int64_t)(seconds * 1000) / 1000.0);
	cJSON_AddNumberToObject(o, "query_seconds", (double)(int64_t)(r->query_s * 1000) / 1000.0);
	cJSON_AddNumberToObject(o, "write_seconds", (double)(int64_t)(r->write_s * 1000) / 1000.0);
	cJSON *ph = cJSON_AddArrayToObject(o, "phase_seconds");
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(ph, cJSON_CreateNumber((double)(int64_t)(r->phase_s[i] * 1000) / 1000.0));
	cJSON_AddItemToArray(arr, o);
}


/* The map's size up front: no rehashing of half a million serials. */
static size_t meters_count(struct askue_ledger *l)
{
	static const char sql[] = "SELECT count(*) FROM meter";
	sqlite3_stmt *st;
	size_t n = 1024;
	if (askue_ledger_stmt(l, sql, &st))
		return n;
	if (sqlite3_step(st) == SQLITE_ROW)
		n += (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

static enum askue_err roll_day(struct job_ctx *ctx, struct askue_date day,
                               struct askue_influx_writer *w)
{
	double t0 = mono_s();
	struct run r = {.ctx = ctx, .day = day, .w = w};
	askue_date_format(day, r.day_s);
	enum askue_err err = askue_date_start(day, &r.start);
	if (!err)
		err = askue_date_start(askue_date_add_days(day, 1), &r.end);
	if (!err && !(r.batch = malloc(BATCH_BYTES_MAX)))
		err = askue_err_set(ASKUE_ERR_NOMEM, "rollup: out of memory");
	if (!err)
		err = askue_strmap_new(meters_count(ctx->l), &r.index);
	r.slots = (int)((r.end - r.start) / 1800);
	if (r.slots > LOAD_SLOTS_MAX)
		r.slots = LOAD_SLOTS_MAX;
	int32_t all;
	if (!err && !(err = askue_strmap_new(1024, &r.gindex)))
		err = group_of(&r, "all", "all", &all); /* group 0 */
	if (!err)
		err = askue_influx_open(&ctx->cli->cfg, &r.ix);
	double t1 = mono_s(), t2 = t1, t3 = t1;
	if (!err && !(err = load_installed(&r))) {
		t1 = mono_s();
		if (!(err = stream_readings(&r)) && !(err = load_prev_day(&r))) {
			t2 = mono_s();
			if (!(err = each_meter(&r)) && !(err = record_day(&r)))
				t3 = mono_s();
		}
	}
	r.phase_s[0] = t1 - t0;
	r.phase_s[1] = t2 - t1;
	r.phase_s[2] = t3 - t2;
	if (!err)
		report_day(&r, mono_s() - t0);
	run_free(&r);
	return err;
}

/* The writer of the daily points of a run (none under --dry-run). */
static enum askue_err writer_open(struct job_ctx *ctx, struct askue_influx_writer **w)
{
	*w = NULL;
	return ctx->dry_run ? ASKUE_OK : askue_influx_writer_open(&ctx->cli->cfg, WRITER_THREADS, 4, w);
}

/* Wait for the writes; an error fails the run (the caller rolls the ledger
 * back: the days are not recorded as done). */
static enum askue_err writer_close(struct job_ctx *ctx, struct askue_influx_writer *w,
                                   enum askue_err err)
{
	double t0 = mono_s();
	int64_t refused = 0;
	enum askue_err werr = askue_influx_writer_close(w, &refused);
	if (!ctx->report)
		return err ? err : werr;
	cJSON *wait = cJSON_GetObjectItem(ctx->report, "write_drain_seconds");
	double s = (double)(int64_t)((mono_s() - t0) * 1000) / 1000.0;
	if (wait)
		cJSON_SetNumberValue(wait, wait->valuedouble + s);
	else
		cJSON_AddNumberToObject(ctx->report, "write_drain_seconds", s);
	cJSON *ref = cJSON_GetObjectItem(ctx->report, "daily_refused");
	if (ref)
		cJSON_SetNumberValue(ref, ref->valuedouble + (double)refused);
	else
		cJSON_AddNumberToObject(ctx->report, "daily_refused", (double)refused);
	if (!err && werr)
		askue_err_prefix("rollup: daily points: ");
	return err ? err : werr;
}

enum askue_err job_rollup_day(struct job_ctx *ctx, struct askue_date day)
{
	struct askue_influx_writer *w;
	enum askue_err err = writer_open(ctx, &w);
	if (!err)
		err = roll_day(ctx, day, w);
	return writer_close(ctx, w, err);
}

/* 1 when day needs a rollup: never done, marked for a redo (done 0), or
 * done before its end + late_hours. */
static enum askue_err needs_rollup(struct job_ctx *ctx, struct askue_date day, int *out)
{
	static const char sql[] = "SELECT done FROM rollup_day WHERE day = ?";
	char d[ASKUE_DATE_BUF];
	int64_t end;
	enum askue_err err = askue_date_start(askue_date_add_days(day, 1), &end);
	sqlite3_stmt *st;
	if (err || (err = askue_ledger_row(ctx->l, sql, askue_date_format(day, d), &st))) {
		*out = 1;
		return err == ASKUE_ERR_NOT_FOUND ? ASKUE_OK : err;
	}
	int64_t done = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	*out = done < end + ctx->cli->cfg.rollup_late_hours * 3600;
	return ASKUE_OK;
}

enum askue_err job_rollup_ensure(struct job_ctx *ctx, struct askue_date from,
                                 struct askue_date to)
{
	struct askue_influx_writer *w;
	enum askue_err err = writer_open(ctx, &w);
	for (struct askue_date d = from; d.days <= to.days && !err; d = askue_date_add_days(d, 1)) {
		int need;
		if (!(err = needs_rollup(ctx, d, &need)) && need)
			err = roll_day(ctx, d, w);
	}
	return writer_close(ctx, w, err);
}

/* meter_day rows (and the rollup_day rows saying they are there) older
 * than keep_days before today. */
static enum askue_err prune(struct job_ctx *ctx, struct askue_date first_done)
{
	static const char rows[] = "DELETE FROM meter_day WHERE day < ?";
	static const char days[] = "DELETE FROM rollup_day WHERE day < ?";
	char cut[ASKUE_DATE_BUF];
	struct askue_date c = askue_date_add_days(ctx->today, -(int32_t)ctx->cli->cfg.rollup_keep_days);
	askue_date_format(c.days < first_done.days ? c : first_done, cut);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(ctx->l, rows, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, cut, -1, SQLITE_STATIC);
	if ((err = askue_ledger_step_done(ctx->l, st, "rollup: prune")))
		return err;
	int64_t pruned = sqlite3_changes(askue_ledger_db(ctx->l));
	if ((err = askue_ledger_stmt(ctx->l, days, &st)))
		return err;
	sqlite3_bind_text(st, 1, cut, -1, SQLITE_STATIC);
	if ((err = askue_ledger_step_done(ctx->l, st, "rollup: prune")))
		return err;
	cJSON_AddNumberToObject(ctx->report, "meter_day_pruned", (double)pruned);
	cJSON_AddStringToObject(ctx->report, "kept_from", cut);
	return ASKUE_OK;
}

/* The days of the run: --period P (its days up to today), --date D, or the
 * last LOOKBACK_DAYS days through yesterday as they need it. */
static enum askue_err run_days(struct job_ctx *ctx, struct askue_date *first)
{
	if (!ctx->has_period && !ctx->has_date) {
		struct askue_date y = askue_date_add_days(ctx->today, -1);
		*first = askue_date_add_days(y, 1 - LOOKBACK_DAYS);
		return job_rollup_ensure(ctx, *first, y);
	}
	*first = ctx->today;
	if (!ctx->has_period)
		return job_rollup_day(ctx, ctx->today);
	enum askue_err err = ASKUE_OK;
	struct askue_date last = askue_date_add_days(askue_period_end(ctx->period), -1);
	if (last.days > ctx->today.days)
		last = ctx->today;
	*first = askue_period_first(ctx->period);
	struct askue_influx_writer *w;
	err = writer_open(ctx, &w);
	for (struct askue_date d = *first; d.days <= last.days && !err;
	     d = askue_date_add_days(d, 1))
		err = roll_day(ctx, d, w);
	return writer_close(ctx, w, err);
}

int job_rollup(struct job_ctx *ctx)
{
	enum askue_err err = askue_ledger_begin(ctx->l);
	if (!err) {
		struct askue_date first;
		if (!(err = run_days(ctx, &first)))
			err = prune(ctx, first);
		if (!err && !ctx->dry_run)
			err = askue_ledger_commit(ctx->l);
		else
			askue_ledger_rollback(ctx->l);
	}
	if (!cJSON_GetObjectItem(ctx->report, "rollup_days"))
		cJSON_AddArrayToObject(ctx->report, "rollup_days");
	return err ? cli_fail(ctx->cli, err) : 0;
}

/* The meter_day row of serial on day into *d (readings 0 when none). */
static enum askue_err day_row(struct askue_ledger *l, const char *serial, const char *day,
                              struct askue_rollup_day *d)
{
	static const char sql[] =
		"SELECT readings, first_ts, first_r0_wh, first_r1_wh, first_r2_wh, first_r3_wh,"
		" last_ts, last_r0_wh, last_r1_wh, last_r2_wh, last_r3_wh"
		" FROM meter_day WHERE serial = ?1 AND day = ?2";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
	memset(d, 0, sizeof *d);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		d->readings = sqlite3_column_int64(st, 0);
		regs_from(st, 1, &d->first);
		regs_from(st, 6, &d->last);
	} else if (rc != SQLITE_DONE) {
		err = askue_ledger_fail(l, rc, "rollup: meter_day");
	}
	sqlite3_reset(st);
	return err;
}

enum askue_err job_rollup_reading_added(struct askue_ledger *l, const char *serial,
                                        struct askue_date day,
                                        const struct askue_rollup_regs *r, int new_point)
{
	static const char done[] = "SELECT 1 FROM rollup_day WHERE day = ?";
	static const char redo[] = "UPDATE rollup_day SET done = 0 WHERE day IN (?1, ?2)";
	char d0[ASKUE_DATE_BUF], d1[ASKUE_DATE_BUF];
	askue_date_format(day, d0);
	askue_date_format(askue_date_add_days(day, 1), d1);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, done, d0, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return ASKUE_OK; /* not rolled up yet */
	if (err)
		return err;
	sqlite3_reset(st);
	struct askue_rollup_day d;
	if ((err = day_row(l, serial, d0, &d)))
		return err;
	int64_t readings = d.readings;
	askue_rollup_fold(&d, r);
	d.readings = readings + (new_point || readings == 0);
	struct run tmp = {.ctx = &(struct job_ctx){.l = l}};
	snprintf(tmp.day_s, sizeof tmp.day_s, "%s", d0);
	struct mrec m = {.day = d};
	snprintf(m.serial, sizeof m.serial, "%s", serial);
	if ((err = delete_row(l, serial, d0)) || (err = store_day(&tmp, &m)) ||
	    (err = askue_ledger_stmt(l, redo, &st)))
		return err;
	sqlite3_bind_text(st, 1, d0, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d1, -1, SQLITE_STATIC);
	return askue_ledger_step_done(l, st, "rollup: rollup_day");
}
