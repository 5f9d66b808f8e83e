/* forecast — `askue job forecast [--date D] [--dry-run]`: the next days'
 * half-hourly load and peak of every substation, district and the whole
 * utility, for analysts (docs/analysts.md).
 *
 * One run:
 *   read   the `load` history of [D - history_days + 1, D] (one bounded,
 *          streamed query, GROUP BY level, substation, district: a group
 *          is its level and the tag named after it, the utility level all),
 *          each group's series into 48 slots a day (a half-hour no meter
 *          reported is missing);
 *   fit    lib/forecast.c per group on its history from its first day with
 *          data; a group with fewer than [forecast] min_days such days, or
 *          one the model refuses (a week half empty), is reported, not
 *          guessed;
 *   write  the `forecast` points of days D+1 .. D+horizon_days: per
 *          half-hour wh, lo_wh, hi_wh; on each day's first half-hour also
 *          peak_w, peak_lo_w, peak_hi_w and peak_at (UTC s of the peak
 *          half-hour's start); tags level, the group's as in `load`
 *          (substation=.. or district=..; none for all), horizon_d (1 = the
 *          day after D). The same history gives the same points: a rerun
 *          rewrites them unchanged.
 * D is --date (counted as passed), else yesterday: the timer runs after the
 * nightly rollup wrote yesterday's `load`. The ledger is not touched.
 */
#include "job.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "forecast.h"
#include "influx.h"
#include "journal.h"
#include "lineproto.h"
#include "strmap.h"

#define SD ASKUE_FORECAST_SLOTS_DAY
#define CHUNK_ROWS 10000
#define GROUPS_MAX 100000          /* as the rollup's load groups */
#define BATCH_BYTES_MAX (1024 * 1024)
#define NAME_BYTES_MAX 256         /* a substation's or district's name */

struct fgroup {
	char level[16];
	char name[NAME_BYTES_MAX];
	double *x; /* days * SD, NaN where missing */
};

struct frun {
	struct job_ctx *ctx;
	struct askue_date first, last; /* the history */
	int days, horizon;
	int64_t *starts; /* UTC s of local midnight of first + i, i in [0, days + horizon] */
	struct askue_strmap *index; /* "level\x1fname" -> index into g */
	struct fgroup *g;
	size_t ng, gcap;
	int64_t rows, rows_without_group, points, forecast, too_little, refused;
	double read_s, fit_s, write_s; /* where the time went */
	char *batch;
	size_t batch_len;
	struct askue_influx *ix;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void frun_free(struct frun *r)
{
	for (size_t i = 0; i < r->ng; i++)
		free(r->g[i].x);
	free(r->g);
	free(r->starts);
	free(r->batch);
	askue_strmap_free(r->index);
	askue_influx_close(r->ix);
}

static enum askue_err group_of(struct frun *r, const char *level, const char *name,
                               struct fgroup **out)
{
	char key[sizeof r->g->level + NAME_BYTES_MAX + 1];
	int64_t i;
	snprintf(key, sizeof key, "%s\x1f%s", level, name);
	if (askue_strmap_get(r->index, key, &i)) {
		*out = &r->g[i];
		return ASKUE_OK;
	}
	if (strlen(level) >= sizeof r->g->level || strlen(name) >= NAME_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "forecast: load group '%s' '%s' too long",
		                     level, name);
	if (r->ng == GROUPS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "forecast: more than %d load groups", GROUPS_MAX);
	if (r->ng == r->gcap || !r->g) {
		size_t cap = r->gcap ? r->gcap * 2 : 64;
		struct fgroup *p = realloc(r->g, cap * sizeof *p);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "forecast: out of memory");
		r->g = p;
		r->gcap = cap;
	}
	struct fgroup *g = &r->g[r->ng];
	if (!(g->x = malloc((size_t)r->days * SD * sizeof *g->x)))
		return askue_err_set(ASKUE_ERR_NOMEM, "forecast: out of memory");
	for (size_t k = 0; k < (size_t)r->days * SD; k++)
		g->x[k] = NAN;
	snprintf(g->level, sizeof g->level, "%s", level);
	snprintf(g->name, sizeof g->name, "%s", name);
	enum askue_err err = askue_strmap_put(r->index, key, (int64_t)r->ng);
	if (err) {
		free(g->x);
		return err;
	}
	r->ng++;
	*out = g;
	return ASKUE_OK;
}

/* The slot of instant ts in the history, -1 outside it (or past the 48th
 * half-hour of a 25-hour day). */
static long slot_of(const struct frun *r, int64_t ts)
{
	if (ts < r->starts[0] || ts >= r->starts[r->days])
		return -1;
	long d = (long)((ts - r->starts[0]) / 86400);
	while (d > 0 && ts < r->starts[d])
		d--;
	while (d + 1 < r->days && ts >= r->starts[d + 1])
		d++;
	int64_t k = (ts - r->starts[d]) / 1800;
	return k < SD ? d * SD + (long)k : -1;
}

static const char *tag_of(const cJSON *tags, const char *key)
{
	const cJSON *v = tags ? cJSON_GetObjectItemCaseSensitive(tags, key) : NULL;
	return v && cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* The name of a `load` series' group: the tag named after its level
 * (substation=.., district=..), "all" for the utility; NULL for a level the
 * rollup does not write or a group without its tag (not forecast, counted). */
static const char *group_name(const cJSON *tags, const char *level)
{
	if (!strcmp(level, "all"))
		return "all";
	if (strcmp(level, "substation") && strcmp(level, "district"))
		return NULL;
	const char *name = tag_of(tags, level);
	return *name ? name : NULL;
}

/* One chunk of a group's rows: [time, wh, meters]. */
static enum askue_err on_series(const char *name, const cJSON *tags, const cJSON *columns,
                                const cJSON *values, void *ctx)
{
	struct frun *r = ctx;
	(void)name;
	(void)columns; /* the SELECT fixes them: time, wh, meters */
	const char *level = tag_of(tags, "level"), *group = group_name(tags, level);
	if (!group) {
		r->rows_without_group += cJSON_GetArraySize(values);
		return ASKUE_OK;
	}
	struct fgroup *g = NULL;
	enum askue_err err = group_of(r, level, group, &g);
	if (err || !g)
		return err;
	const cJSON *row;
	cJSON_ArrayForEach(row, values)
	{
		const cJSON *t = cJSON_GetArrayItem(row, 0), *wh = cJSON_GetArrayItem(row, 1),
		            *m = cJSON_GetArrayItem(row, 2);
		if (!cJSON_IsNumber(t))
			return askue_err_set(ASKUE_ERR_IO, "forecast: InfluxDB answered a load row "
			                     "without time");
		long k = slot_of(r, (int64_t)t->valuedouble);
		r->rows++;
		if (k >= 0 && cJSON_IsNumber(wh) && cJSON_IsNumber(m) && m->valuedouble > 0)
			g->x[k] = wh->valuedouble;
	}
	return ASKUE_OK;
}

static enum askue_err read_history(struct frun *r)
{
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT wh, meters FROM \"load\" WHERE time >= %llds AND time < %llds"
	         " GROUP BY \"level\", \"substation\", \"district\"",
	         (long long)r->starts[0], (long long)r->starts[r->days]);
	double t0 = mono_s();
	enum askue_err err = askue_influx_query_stream(r->ix, q, CHUNK_ROWS, on_series, r);
	r->read_s = mono_s() - t0;
	if (err)
		askue_err_prefix("forecast: load history: ");
	return err;
}

static enum askue_err flush(struct frun *r)
{
	if (!r->batch_len || r->ctx->dry_run) {
		r->batch_len = 0;
		return ASKUE_OK;
	}
	double t0 = mono_s();
	enum askue_err err = askue_influx_write_split(r->ix, r->batch, r->batch_len, NULL, NULL,
	                                              NULL);
	r->write_s += mono_s() - t0;
	r->batch_len = 0;
	if (err)
		askue_err_prefix("forecast: writing: ");
	return err;
}

static enum askue_err put(struct frun *r, const char *line, int len)
{
	if (len <= 0 || (size_t)len >= 1024)
		return askue_err_set(ASKUE_ERR_LIMIT, "forecast: a point longer than 1 KiB");
	if (r->batch_len + (size_t)len > BATCH_BYTES_MAX) {
		enum askue_err err = flush(r);
		if (err)
			return err;
	}
	memcpy(r->batch + r->batch_len, line, (size_t)len);
	r->batch_len += (size_t)len;
	r->points++;
	return ASKUE_OK;
}

static long long whole(double v)
{
	return (long long)llround(v);
}

/* The points of one forecast day h (0-based) of group g. */
static enum askue_err day_points(struct frun *r, const char *tags, int h,
                                 const struct askue_forecast_day *d)
{
	char line[1024];
	int64_t t0 = r->starts[r->days + h];
	enum askue_err err = ASKUE_OK;
	for (int k = 0; k < SD && !err; k++) {
		int o = snprintf(line, sizeof line, "forecast,%s,horizon_d=%d wh=%lldi,lo_wh=%lldi,"
		                 "hi_wh=%lldi", tags, h + 1, whole(d->wh[k]), whole(d->lo_wh[k]),
		                 whole(d->hi_wh[k]));
		if (k == 0)
			o += snprintf(line + o, sizeof line - (size_t)o,
			              ",peak_w=%lldi,peak_lo_w=%lldi,peak_hi_w=%lldi,peak_at=%lldi",
			              whole(2 * d->peak_wh), whole(2 * d->lo_wh[d->peak_slot]),
			              whole(2 * d->hi_wh[d->peak_slot]),
			              (long long)(t0 + (int64_t)d->peak_slot * 1800));
		o += snprintf(line + o, sizeof line - (size_t)o, " %lld\n",
		              (long long)(t0 + (int64_t)k * 1800));
		err = put(r, line, o);
	}
	return err;
}

static void note_model(struct frun *r, const struct fgroup *g, int days,
                       const struct askue_forecast_model *m, const struct askue_forecast_day *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "history_days", days);
	cJSON *p = cJSON_AddObjectToObject(o, "params");
	cJSON_AddNumberToObject(p, "alpha", m->p.alpha);
	cJSON_AddNumberToObject(p, "delta", m->p.delta);
	cJSON_AddNumberToObject(p, "omega", m->p.omega);
	cJSON_AddNumberToObject(p, "phi", m->p.phi);
	cJSON_AddNumberToObject(o, "rmse_wh", (double)whole(m->rmse_wh));
	double sum = 0;
	for (int k = 0; k < SD; k++)
		sum += (double)whole(d->wh[k]); /* as written: the sum of the points */
	cJSON_AddNumberToObject(o, "next_day_kwh", sum / 1000.0);
	cJSON_AddNumberToObject(o, "next_peak_kw", (double)whole(2 * d->peak_wh) / 1000.0);
	char stamp[ASKUE_UTC_STAMP_BUF];
	cJSON_AddStringToObject(o, "next_peak_at",
	                        askue_utc_stamp(r->starts[r->days] + d->peak_slot * 1800, stamp));
	job_note(r->ctx, "forecast", 0, g->level, g->name, o);
}

static int day_has_data(const struct fgroup *g, int day)
{
	for (int k = 0; k < SD; k++)
		if (!isnan(g->x[day * SD + k]))
			return 1;
	return 0;
}

static void note_not_forecast(struct frun *r, const struct fgroup *g, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason);
	job_note(r->ctx, "not_forecast", 0, g->level, g->name, o);
	r->refused++;
}

/* Fit and write one group, or report why not. */
static enum askue_err one_group(struct frun *r, const struct fgroup *g)
{
	int from = 0;
	while (from < r->days && !day_has_data(g, from))
		from++;
	if (from < r->days && !day_has_data(g, r->days - 1)) {
		int last = r->days - 1;
		while (!day_has_data(g, last))
			last--;
		char d[ASKUE_DATE_BUF], why[160];
		snprintf(why, sizeof why, "no load after %s: the rollup has not run since, or the "
		         "group's meters are silent", askue_date_format(askue_date_add_days(r->first,
		                                                                        last), d));
		note_not_forecast(r, g, why);
		return ASKUE_OK;
	}
	int days = r->days - from;
	if (days < r->ctx->cli->cfg.forecast_min_days) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "history_days", days);
		cJSON_AddNumberToObject(o, "min_days", (double)r->ctx->cli->cfg.forecast_min_days);
		job_note(r->ctx, "too_little_history", 0, g->level, g->name, o);
		r->too_little++;
		return ASKUE_OK;
	}
	struct askue_forecast_model m;
	struct askue_forecast_day d[ASKUE_FORECAST_HORIZON_DAYS_MAX];
	double t0 = mono_s();
	enum askue_err fit = askue_forecast_fit(g->x + (size_t)from * SD, (size_t)days * SD,
	                                        r->horizon, &m);
	r->fit_s += mono_s() - t0;
	if (fit) {
		note_not_forecast(r, g, askue_err_msg());
		return ASKUE_OK;
	}
	askue_forecast_predict(&m, r->horizon, d);
	char esc[4 * NAME_BYTES_MAX + 1], tags[sizeof esc + 2 * sizeof g->level + 16];
	if (askue_lineproto_escape_tag(g->name, strlen(g->name), esc, sizeof esc) == (size_t)-1)
		return askue_err_set(ASKUE_ERR_INVALID, "forecast: group '%s' cannot be a tag", g->name);
	if (!strcmp(g->level, "all")) /* level is all, substation or district (group_name) */
		snprintf(tags, sizeof tags, "level=all");
	else
		snprintf(tags, sizeof tags, "level=%s,%s=%s", g->level, g->level, esc);
	enum askue_err err = ASKUE_OK;
	for (int h = 0; h < r->horizon && !err; h++)
		err = day_points(r, tags, h, &d[h]);
	if (!err) {
		note_model(r, g, days, &m, &d[0]);
		r->forecast++;
	}
	return err;
}

static enum askue_err prepare(struct frun *r)
{
	const struct askue_config *cfg = &r->ctx->cli->cfg;
	if (cfg->forecast_min_days > cfg->forecast_history_days) {
		(void)askue_err_set(ASKUE_ERR_CONFIG, "[forecast] min_days (%lld) is more than "
		                    "history_days (%lld): no group could be forecast",
		                    (long long)cfg->forecast_min_days,
		                    (long long)cfg->forecast_history_days);
		return ASKUE_ERR_CONFIG;
	}
	r->last = r->ctx->has_date ? r->ctx->today : askue_date_add_days(r->ctx->today, -1);
	r->days = (int)cfg->forecast_history_days;
	r->horizon = (int)cfg->forecast_horizon_days;
	r->first = askue_date_add_days(r->last, 1 - r->days);
	if (!(r->starts = malloc((size_t)(r->days + r->horizon + 1) * sizeof *r->starts)) ||
	    !(r->batch = malloc(BATCH_BYTES_MAX))) {
		(void)askue_err_set(ASKUE_ERR_NOMEM, "forecast: out of memory");
		return ASKUE_ERR_NOMEM; /* said so the analyser sees starts is set after */
	}
	for (int i = 0; i <= r->days + r->horizon; i++) {
		enum askue_err err = askue_date_start(askue_date_add_days(r->first, i), &r->starts[i]);
		if (err)
			return err;
	}
	enum askue_err err = askue_strmap_new(1024, &r->index);
	return err ? err : askue_influx_open(cfg, &r->ix);
}

static void report(struct frun *r)
{
	char d[ASKUE_DATE_BUF];
	cJSON *rep = r->ctx->report;
	cJSON_AddStringToObject(rep, "history_from", askue_date_format(r->first, d));
	cJSON_AddStringToObject(rep, "history_to", askue_date_format(r->last, d));
	cJSON_AddStringToObject(rep, "forecast_from",
	                        askue_date_format(askue_date_add_days(r->last, 1), d));
	cJSON_AddStringToObject(rep, "forecast_to",
	                        askue_date_format(askue_date_add_days(r->last, r->horizon), d));
	askue_json_add_int(rep, "load_rows", r->rows);
	askue_json_add_int(rep, "load_rows_without_group", r->rows_without_group);
	askue_json_add_int(rep, "groups", (int64_t)r->ng);
	askue_json_add_int(rep, "groups_forecast", r->forecast);
	askue_json_add_int(rep, "groups_too_little_history", r->too_little);
	askue_json_add_int(rep, "groups_not_forecast", r->refused);
	askue_json_add_int(rep, "points", r->points);
	cJSON_AddNumberToObject(rep, "read_seconds", (double)(int64_t)(r->read_s * 1000) / 1000.0);
	cJSON_AddNumberToObject(rep, "fit_seconds", (double)(int64_t)(r->fit_s * 1000) / 1000.0);
	cJSON_AddNumberToObject(rep, "write_seconds", (double)(int64_t)(r->write_s * 1000) / 1000.0);
	if (!cJSON_GetObjectItem(rep, "forecast"))
		cJSON_AddArrayToObject(rep, "forecast");
}

int job_forecast(struct job_ctx *ctx)
{
	struct frun r = {.ctx = ctx};
	enum askue_err err = prepare(&r);
	if (!err)
		err = read_history(&r);
	for (size_t i = 0; i < r.ng && !err; i++)
		err = one_group(&r, &r.g[i]);
	if (!err)
		err = flush(&r);
	if (!err)
		report(&r);
	frun_free(&r);
	return err ? cli_fail(ctx->cli, err) : 0;
}
