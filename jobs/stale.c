/* stale — `askue job stale` (hourly): silent meters and outages.
 *
 * Reads the installed meters from the ledger and the newest reading of each
 * from the ingestor's lastseen.db, judges each meter (lib/silence.c), finds
 * the substations and concentrators that are out (most of their meters
 * silent together: one grouped alert, not one per meter), tells meters
 * whose status topic says online from offline ones (the retained
 * meters/+/status, read with the stale role), and then in one transaction
 * opens, re-opens (a flapping meter within the hold-down) and closes alerts
 * so that each silent meter or out group has exactly one. After commit it
 * publishes what changed on askue/alerts/{kind}.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "job.h"
#include "log.h"
#include "silence.h"
#include "strmap.h"

struct meter_row {
	char *serial;
	int32_t sub, conc; /* group indexes; -1 none */
	int64_t after_s, last_ts, silent_s;
	uint8_t has_last, silent, covered;
};

/* A group: a substation or a concentrator. */
struct group {
	char *name;
	size_t total, silent;
	int out;
};

struct groups {
	struct askue_strmap *index; /* name -> idx */
	struct group *g;
	size_t n, cap;
};

/* An active (or recently closed) alert of the stale family. */
struct known {
	struct askue_strmap *meter, *sub, *conc;        /* active: subject -> row */
	struct askue_strmap *meter_closed, *sub_closed, *conc_closed; /* -> alert id */
	int64_t *id, *last_ts;
	uint8_t *has_last, *seen;
	char **kind, **subject;
	size_t n, cap;
};

struct stale {
	struct job_ctx *ctx;
	const struct askue_config *cfg;
	struct askue_stale_rules rules;
	struct askue_strmap *lastseen; /* serial -> newest reading ts */
	struct askue_strmap *dates;    /* 'YYYY-MM-DD' -> local midnight */
	struct meter_row *m;
	size_t n, cap;
	struct askue_strmap *by_serial; /* serial -> row */
	struct groups subs, concs;
	struct known k;
	struct askue_strmap *status; /* serial -> 1 online / 0 offline; NULL unknown */
	size_t opened, reopened, closed, handled;
};

static enum askue_err oom(void) { return askue_err_set(ASKUE_ERR_NOMEM, "stale: out of memory"); }

static enum askue_err grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return ASKUE_OK;
	size_t c = *cap ? *cap * 2 : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return oom();
	*p = q;
	*cap = c;
	return ASKUE_OK;
}

/* The index of group name in gs (added when new); -1 for "". */
static enum askue_err group_of(struct groups *gs, const char *name, int32_t *out)
{
	int64_t idx;
	if (!*name) {
		*out = -1;
		return ASKUE_OK;
	}
	if (askue_strmap_get(gs->index, name, &idx)) {
		*out = (int32_t)idx;
		return ASKUE_OK;
	}
	enum askue_err err = grow((void **)&gs->g, &gs->cap, gs->n + 1, sizeof *gs->g);
	if (err)
		return err;
	gs->g[gs->n] = (struct group){.name = strdup(name)};
	if (!gs->g[gs->n].name)
		return oom();
	if ((err = askue_strmap_put(gs->index, name, (int64_t)gs->n)))
		return err;
	*out = (int32_t)gs->n++;
	return ASKUE_OK;
}

/* lastseen.db, the ingestor's (docs/ingestor.md): serial -> ts. */
static enum askue_err load_lastseen(struct stale *s)
{
	const char *path = s->cfg->ingestor_lastseen_path;
	if (access(path, R_OK) != 0)
		return askue_err_set(ASKUE_ERR_IO,
		                     "%s: cannot read the ingestor's last-seen store ([ingestor] "
		                     "lastseen_path): without it no meter can be judged",
		                     path);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	enum askue_err err = ASKUE_OK;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_prepare_v2(db, "SELECT meter, ts FROM lastseen", -1, &st, NULL);
	}
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		const char *serial = (const char *)sqlite3_column_text(st, 0);
		if (serial && (err = askue_strmap_put(s->lastseen, serial, sqlite3_column_int64(st, 1))))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_err_set(ASKUE_ERR_IO, "%s: %s", path,
		                    db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return err;
}

static enum askue_err day_start(struct stale *s, const char *day, int64_t *out)
{
	if (askue_strmap_get(s->dates, day, out))
		return ASKUE_OK;
	struct askue_date d;
	enum askue_err err = askue_date_parse(day, &d);
	if (!err)
		err = askue_date_start(d, out);
	if (!err)
		err = askue_strmap_put(s->dates, day, *out);
	return err;
}

static enum askue_err add_meter(struct stale *s, sqlite3_stmt *st)
{
	enum askue_err err = grow((void **)&s->m, &s->cap, s->n + 1, sizeof *s->m);
	if (err)
		return err;
	struct meter_row *r = &s->m[s->n];
	memset(r, 0, sizeof *r);
	if (!(r->serial = strdup(askue_column_text(st, 0))))
		return oom();
	s->n++;
	int64_t installed_s;
	if ((err = day_start(s, askue_column_text(st, 2), &installed_s)) ||
	    (err = group_of(&s->subs, askue_column_text(st, 3), &r->sub)) ||
	    (err = group_of(&s->concs, askue_column_text(st, 4), &r->conc)) ||
	    (err = askue_strmap_put(s->by_serial, r->serial, (int64_t)(s->n - 1))))
		return err;
	r->after_s = askue_stale_after_s(&s->rules, askue_column_text(st, 1));
	r->has_last = (uint8_t)askue_strmap_get(s->lastseen, r->serial, &r->last_ts);
	r->silent = (uint8_t)askue_silence_judge(s->ctx->now, r->has_last, r->last_ts, installed_s,
	                                         r->after_s, &r->silent_s);
	if (r->sub >= 0) {
		s->subs.g[r->sub].total++;
		s->subs.g[r->sub].silent += r->silent;
	}
	if (r->conc >= 0) {
		s->concs.g[r->conc].total++;
		s->concs.g[r->conc].silent += r->silent;
	}
	return ASKUE_OK;
}

static enum askue_err load_meters(struct stale *s)
{
	static const char sql[] =
		"SELECT m.serial, m.model, i.installed, s.substation, coalesce(c.ident, '')"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" LEFT JOIN concentrator c ON c.id = m.concentrator_id"
		" WHERE i.removed IS NULL AND m.status = 'installed' AND i.installed <= ?1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(s->ctx->l, sql, &st);
	if (err)
		return err;
	char day[ASKUE_DATE_BUF];
	sqlite3_bind_text(st, 1, askue_date_format(s->ctx->today, day), -1, SQLITE_TRANSIENT);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = add_meter(s, st);
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(s->ctx->l, rc, "installed meters");
	sqlite3_reset(st);
	return err;
}

/* Groups out: substations first (a power cut takes the concentrators down
 * with it); a concentrator counts only its meters no substation outage
 * covers. */
static void find_outages(struct stale *s)
{
	const struct askue_config *c = s->cfg;
	for (size_t i = 0; i < s->subs.n; i++)
		s->subs.g[i].out = askue_outage(s->subs.g[i].total, s->subs.g[i].silent,
		                                c->stale_outage_share_pct, c->stale_outage_min_meters);
	for (size_t i = 0; i < s->concs.n; i++)
		s->concs.g[i].total = s->concs.g[i].silent = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct meter_row *r = &s->m[i];
		if (r->sub >= 0 && s->subs.g[r->sub].out) {
			r->covered = r->silent;
			continue;
		}
		if (r->conc >= 0) {
			s->concs.g[r->conc].total++;
			s->concs.g[r->conc].silent += r->silent;
		}
	}
	for (size_t i = 0; i < s->concs.n; i++)
		s->concs.g[i].out = askue_outage(s->concs.g[i].total, s->concs.g[i].silent,
		                                 c->stale_outage_share_pct, c->stale_outage_min_meters);
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].conc >= 0 && s->concs.g[s->m[i].conc].out)
			s->m[i].covered |= s->m[i].silent;
}

static struct askue_strmap *active_map(struct known *k, const char *kind)
{
	if (!strcmp(kind, ASKUE_ALERT_OUTAGE_SUBSTATION))
		return k->sub;
	if (!strcmp(kind, ASKUE_ALERT_OUTAGE_CONCENTRATOR))
		return k->conc;
	return k->meter;
}

static enum askue_err add_known(struct known *k, sqlite3_stmt *st)
{
	size_t cap = k->cap;
	enum askue_err err = grow((void **)&k->id, &cap, k->n + 1, sizeof *k->id);
	if (!err && cap != k->cap) {
		k->last_ts = realloc(k->last_ts, cap * sizeof *k->last_ts);
		k->has_last = realloc(k->has_last, cap);
		k->seen = realloc(k->seen, cap);
		k->kind = realloc(k->kind, cap * sizeof *k->kind);
		k->subject = realloc(k->subject, cap * sizeof *k->subject);
		k->cap = cap;
		if (!k->last_ts || !k->has_last || !k->seen || !k->kind || !k->subject)
			return oom();
	}
	if (err)
		return err;
	size_t i = k->n;
	k->id[i] = sqlite3_column_int64(st, 0);
	k->kind[i] = strdup(askue_column_text(st, 1));
	k->subject[i] = strdup(askue_column_text(st, 2));
	k->has_last[i] = sqlite3_column_type(st, 3) != SQLITE_NULL;
	k->last_ts[i] = sqlite3_column_int64(st, 3);
	k->seen[i] = 0;
	if (!k->kind[i] || !k->subject[i])
		return oom();
	k->n++;
	return askue_strmap_put(active_map(k, k->kind[i]), k->subject[i], (int64_t)i);
}

static enum askue_err load_alerts(struct stale *s)
{
	static const char active_sql[] =
		"SELECT id, kind, subject, json_extract(details, '$.last_ts') FROM alert"
		" WHERE status != 'resolved' AND kind IN ('silent','silent_online','silent_offline',"
		"'outage_substation','outage_concentrator') ORDER BY id";
	static const char closed_sql[] =
		"SELECT id, kind, subject FROM alert WHERE status = 'resolved' AND closed_by = 'job'"
		" AND closed >= ?1 AND kind IN ('silent','silent_online','silent_offline',"
		"'outage_substation','outage_concentrator') ORDER BY closed, id";
	struct known *k = &s->k;
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(s->ctx->l, active_sql, &st);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = add_known(k, st);
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(s->ctx->l, rc, "alerts");
	sqlite3_reset(st);
	if (err || (err = askue_ledger_stmt(s->ctx->l, closed_sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, s->ctx->now - s->cfg->stale_holddown_h * 3600);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = askue_column_text(st, 1);
		struct askue_strmap *m = !strcmp(kind, ASKUE_ALERT_OUTAGE_SUBSTATION)     ? k->sub_closed
		                         : !strcmp(kind, ASKUE_ALERT_OUTAGE_CONCENTRATOR) ? k->conc_closed
		                                                                          : k->meter_closed;
		err = askue_strmap_put(m, askue_column_text(st, 2), sqlite3_column_int64(st, 0));
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(s->ctx->l, rc, "closed alerts");
	sqlite3_reset(st);
	return err;
}

static void add_stamp(cJSON *o, const char *key, int has, int64_t t)
{
	char stamp[ASKUE_UTC_STAMP_BUF];
	if (has)
		cJSON_AddStringToObject(o, key, askue_utc_stamp(t, stamp));
	else
		cJSON_AddNullToObject(o, key);
}

static const char *silent_kind(const struct stale *s, const char *serial)
{
	int64_t online;
	if (!s->status)
		return ASKUE_ALERT_SILENT;
	if (!askue_strmap_get(s->status, serial, &online))
		return ASKUE_ALERT_SILENT;
	return online ? ASKUE_ALERT_SILENT_ONLINE : ASKUE_ALERT_SILENT_OFFLINE;
}

/* What a silent meter's alert says: how long, the last reading. */
static cJSON *silent_details(const struct stale *s, const struct meter_row *r)
{
	cJSON *d = cJSON_CreateObject();
	add_stamp(d, "last_reading", r->has_last, r->last_ts);
	if (r->has_last)
		cJSON_AddNumberToObject(d, "last_ts", (double)r->last_ts);
	cJSON_AddNumberToObject(d, "silent_h", (double)(r->silent_s / 3600));
	cJSON_AddNumberToObject(d, "after_h", (double)(r->after_s / 3600));
	if (r->sub >= 0)
		cJSON_AddStringToObject(d, "substation", s->subs.g[r->sub].name);
	if (r->conc >= 0)
		cJSON_AddStringToObject(d, "concentrator", s->concs.g[r->conc].name);
	return d;
}

static const char *const silent_kinds[] = {ASKUE_ALERT_SILENT, ASKUE_ALERT_SILENT_ONLINE,
                                            ASKUE_ALERT_SILENT_OFFLINE};

/* A silence is one episode from the last reading on: its alert's ref is
 * that reading's time ("-" for none since installation), so an episode an
 * operator resolved (subscriber away ...) does not come back every hour. */
static void episode(const struct meter_row *r, char *buf, size_t size)
{
	if (r->has_last)
		snprintf(buf, size, "%lld", (long long)r->last_ts);
	else
		snprintf(buf, size, "-");
}

static enum askue_err open_meter(struct stale *s, const struct meter_row *r, int64_t closed_id)
{
	struct job_ctx *ctx = s->ctx;
	char ref[32];
	episode(r, ref, sizeof ref);
	int handled;
	enum askue_err err = askue_alert_handled(ctx->l, silent_kinds, 3, r->serial, ref, &handled);
	if (err || handled) {
		s->handled += (size_t)handled;
		return err;
	}
	cJSON *d = silent_details(s, r);
	const char *serials[1] = {r->serial};
	int64_t id = closed_id;
	if (closed_id) {
		err = askue_alert_reopen_tx(ctx->l, closed_id, ref, ctx->now, d);
		s->reopened++;
	} else {
		err = askue_alert_open_tx(ctx->l, silent_kind(s, r->serial), r->serial, ref, ctx->now,
		                          d, serials, 1, &id);
		s->opened++;
	}
	struct askue_alert a = {0};
	snprintf(a.kind, sizeof a.kind, "%s", silent_kind(s, r->serial));
	if (!err && closed_id)
		err = askue_alert_get(ctx->l, closed_id, &a);
	if (!err)
		job_note(ctx, closed_id ? "reopened" : "opened", ctx->dry_run ? 0 : id, a.kind,
		         r->serial, d);
	else
		cJSON_Delete(d);
	return err;
}

static enum askue_err close_one(struct stale *s, size_t ki, const char *outcome, cJSON *patch)
{
	struct known *k = &s->k;
	enum askue_err err = askue_alert_close_tx(s->ctx->l, k->id[ki], s->ctx->now, outcome, patch);
	if (!err) {
		cJSON_AddStringToObject(patch, "outcome", outcome);
		job_note(s->ctx, "closed", k->id[ki], k->kind[ki], k->subject[ki], patch);
		s->closed++;
	} else {
		cJSON_Delete(patch);
	}
	return err;
}

/* One meter: open, re-open, close or nothing. */
static enum askue_err judge_meter(struct stale *s, struct meter_row *r)
{
	int64_t ki = -1, closed_id = 0;
	int has_active = askue_strmap_get(s->k.meter, r->serial, &ki);
	int recent = askue_strmap_get(s->k.meter_closed, r->serial, &closed_id);
	if (has_active)
		s->k.seen[ki] = 1;
	switch (askue_stale_decide(r->silent, r->covered, has_active, recent)) {
	case ASKUE_STALE_OPEN: return open_meter(s, r, 0);
	case ASKUE_STALE_REOPEN: return open_meter(s, r, closed_id);
	case ASKUE_STALE_CLOSE: {
		cJSON *p = cJSON_CreateObject();
		add_stamp(p, "back", r->has_last, r->last_ts);
		if (r->has_last && s->k.has_last[ki])
			cJSON_AddNumberToObject(p, "gap_h",
			                        (double)((r->last_ts - s->k.last_ts[ki]) / 3600));
		return close_one(s, (size_t)ki, "data came back", p);
	}
	case ASKUE_STALE_NONE: break;
	}
	return ASKUE_OK;
}

/* The silent meters of group gi (of substations or concentrators). */
static enum askue_err group_members(struct stale *s, int is_sub, int32_t gi, const char ***out,
                                    size_t *n_out)
{
	const struct group *g = is_sub ? &s->subs.g[gi] : &s->concs.g[gi];
	const char **list = malloc((g->silent + 1) * sizeof *list);
	if (!list)
		return oom();
	size_t n = 0;
	for (size_t i = 0; i < s->n && n < g->silent; i++) {
		const struct meter_row *r = &s->m[i];
		if (r->silent && r->covered && (is_sub ? r->sub : r->conc) == gi)
			list[n++] = r->serial;
	}
	*out = list;
	*n_out = n;
	return ASKUE_OK;
}

/* An outage a person resolved within the hold-down while the group is
 * still out (power cut known, crew sent) is not opened again at once. */
static enum askue_err group_handled(struct stale *s, const char *kind, const char *name,
                                    int *out)
{
	static const char sql[] =
		"SELECT 1 FROM alert WHERE kind = ?1 AND subject = ?2 AND closed_by = 'operator'"
		" AND closed >= ?3 LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(s->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->ctx->now - s->cfg->stale_holddown_h * 3600);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(s->ctx->l, rc, "outages handled");
	*out = rc == SQLITE_ROW;
	return ASKUE_OK;
}

static enum askue_err judge_group(struct stale *s, int is_sub, int32_t gi)
{
	struct job_ctx *ctx = s->ctx;
	const struct group *g = is_sub ? &s->subs.g[gi] : &s->concs.g[gi];
	const char *kind = is_sub ? ASKUE_ALERT_OUTAGE_SUBSTATION : ASKUE_ALERT_OUTAGE_CONCENTRATOR;
	int64_t ki = -1, closed_id = 0, id;
	int has_active = askue_strmap_get(is_sub ? s->k.sub : s->k.conc, g->name, &ki);
	int recent = askue_strmap_get(is_sub ? s->k.sub_closed : s->k.conc_closed, g->name,
	                              &closed_id);
	if (has_active)
		s->k.seen[ki] = 1;
	enum askue_stale_action act = askue_stale_decide(g->out, 0, has_active, recent);
	if (act == ASKUE_STALE_CLOSE)
		return close_one(s, (size_t)ki, "most meters report again", cJSON_CreateObject());
	if (!g->out)
		return ASKUE_OK;
	int handled = 0;
	enum askue_err herr = act == ASKUE_STALE_OPEN ? group_handled(s, kind, g->name, &handled)
	                                              : ASKUE_OK;
	if (herr || handled) {
		s->handled += (size_t)handled;
		return herr;
	}
	const char **members = NULL;
	size_t n = 0, added = 0;
	enum askue_err err = group_members(s, is_sub, gi, &members, &n);
	if (err)
		return err;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "meters_installed", (double)g->total);
	cJSON_AddNumberToObject(d, "meters_silent", (double)g->silent);
	if (act == ASKUE_STALE_OPEN) {
		err = askue_alert_open_tx(ctx->l, kind, g->name, "", ctx->now, d, members, n, &id);
		s->opened++;
	} else if (act == ASKUE_STALE_REOPEN) {
		id = closed_id;
		if (!(err = askue_alert_reopen_tx(ctx->l, id, NULL, ctx->now, d)))
			err = askue_alert_add_meters_tx(ctx->l, id, members, n, NULL);
		s->reopened++;
	} else {
		id = s->k.id[ki]; /* still out: meters newly silent join it */
		err = askue_alert_add_meters_tx(ctx->l, id, members, n, &added);
	}
	free(members);
	if (!err && act != ASKUE_STALE_NONE) {
		cJSON_AddNumberToObject(d, "meters", (double)n);
		job_note(ctx, act == ASKUE_STALE_OPEN ? "opened" : "reopened", ctx->dry_run ? 0 : id,
		         kind, g->name, d);
		return ASKUE_OK;
	}
	if (!err && added) {
		cJSON_AddNumberToObject(d, "meters_added", (double)added);
		job_note(ctx, "grown", id, kind, g->name, d);
		return ASKUE_OK;
	}
	cJSON_Delete(d);
	return err;
}

/* Alerts of meters no longer installed, and of groups no longer known. */
static enum askue_err close_unseen(struct stale *s)
{
	enum askue_err err = ASKUE_OK;
	for (size_t i = 0; i < s->k.n && !err; i++)
		if (!s->k.seen[i])
			err = close_one(s, i,
			                strncmp(s->k.kind[i], "outage_", 7) == 0
			                        ? "no installed meter left in the group"
			                        : "meter no longer installed",
			                cJSON_CreateObject());
	return err;
}

static enum askue_err apply(struct stale *s)
{
	enum askue_err err = ASKUE_OK;
	for (int32_t i = 0; i < (int32_t)s->subs.n && !err; i++)
		err = judge_group(s, 1, i);
	for (int32_t i = 0; i < (int32_t)s->concs.n && !err; i++)
		err = judge_group(s, 0, i);
	for (size_t i = 0; i < s->n && !err; i++)
		err = judge_meter(s, &s->m[i]);
	if (!err)
		err = close_unseen(s);
	return err;
}

/* Does any silent meter need a new alert (and so a kind)? */
static int needs_status(const struct stale *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int64_t v;
		if (s->m[i].silent && !s->m[i].covered && !askue_strmap_get(s->k.meter, s->m[i].serial, &v) &&
		    !askue_strmap_get(s->k.meter_closed, s->m[i].serial, &v))
			return 1;
	}
	return 0;
}

static void read_status(struct stale *s)
{
	cJSON *r = s->ctx->report;
	if (!s->cfg->stale_status_wait_ms) {
		cJSON_AddStringToObject(r, "status", "not asked ([stale] status_wait_ms = 0)");
		return;
	}
	if (!needs_status(s))
		return;
	enum askue_err err = job_meter_status(s->cfg, s->n, &s->status);
	if (err) {
		char msg[600];
		snprintf(msg, sizeof msg, "unknown (%s): new alerts are of kind 'silent'",
		         askue_err_msg());
		cJSON_AddStringToObject(r, "status", msg);
		log_warnx("job", "stale: meter status not read: %s", askue_err_msg());
		return;
	}
	cJSON_AddNumberToObject(r, "status_known", (double)askue_strmap_count(s->status));
}

static enum askue_err setup(struct stale *s)
{
	const struct askue_config *c = s->cfg;
	enum askue_err err = askue_stale_rules_parse(c->stale_models, c->stale_default_interval_h,
	                                             c->stale_default_grace_h, &s->rules);
	if (!err)
		err = askue_strmap_new(1024, &s->lastseen);
	if (!err)
		err = askue_strmap_new(1024, &s->dates);
	if (!err)
		err = askue_strmap_new(1024, &s->by_serial);
	if (!err)
		err = askue_strmap_new(64, &s->subs.index);
	if (!err)
		err = askue_strmap_new(64, &s->concs.index);
	struct askue_strmap **maps[] = {&s->k.meter, &s->k.sub, &s->k.conc,
	                                &s->k.meter_closed, &s->k.sub_closed, &s->k.conc_closed};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0] && !err; i++)
		err = askue_strmap_new(64, maps[i]);
	return err;
}

static void teardown(struct stale *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].serial);
	free(s->m);
	for (size_t i = 0; i < s->subs.n; i++)
		free(s->subs.g[i].name);
	for (size_t i = 0; i < s->concs.n; i++)
		free(s->concs.g[i].name);
	free(s->subs.g);
	free(s->concs.g);
	for (size_t i = 0; i < s->k.n; i++) {
		free(s->k.kind[i]);
		free(s->k.subject[i]);
	}
	free(s->k.id), free(s->k.last_ts), free(s->k.has_last), free(s->k.seen);
	free(s->k.kind), free(s->k.subject);
	struct askue_strmap *maps[] = {s->lastseen,  s->dates,          s->by_serial,
	                               s->subs.index, s->concs.index,   s->k.meter,
	                               s->k.sub,      s->k.conc,         s->k.meter_closed,
	                               s->k.sub_closed, s->k.conc_closed, s->status};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		askue_strmap_free(maps[i]);
}

static void report_counts(struct stale *s)
{
	size_t silent = 0, covered = 0, subs_out = 0, concs_out = 0;
	for (size_t i = 0; i < s->n; i++)
		silent += s->m[i].silent, covered += s->m[i].covered;
	for (size_t i = 0; i < s->subs.n; i++)
		subs_out += (size_t)s->subs.g[i].out;
	for (size_t i = 0; i < s->concs.n; i++)
		concs_out += (size_t)s->concs.g[i].out;
	cJSON *r = s->ctx->report;
	cJSON_AddNumberToObject(r, "installed", (double)s->n);
	cJSON_AddNumberToObject(r, "silent", (double)silent);
	cJSON_AddNumberToObject(r, "in_outages", (double)covered);
	cJSON_AddNumberToObject(r, "substations_out", (double)subs_out);
	cJSON_AddNumberToObject(r, "concentrators_out", (double)concs_out);
	cJSON_AddNumberToObject(r, "alerts_opened", (double)s->opened);
	cJSON_AddNumberToObject(r, "alerts_reopened", (double)s->reopened);
	cJSON_AddNumberToObject(r, "alerts_closed", (double)s->closed);
	cJSON_AddNumberToObject(r, "silent_resolved_by_operator", (double)s->handled);
}

/* Forget the alerts read, to read them again inside the transaction. */
static enum askue_err known_reset(struct known *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->kind[i]);
		free(k->subject[i]);
	}
	k->n = 0;
	struct askue_strmap **maps[] = {&k->meter, &k->sub, &k->conc,
	                                &k->meter_closed, &k->sub_closed, &k->conc_closed};
	enum askue_err err = ASKUE_OK;
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
		askue_strmap_free(*maps[i]);
		*maps[i] = NULL;
		if (!err)
			err = askue_strmap_new(64, maps[i]);
	}
	return err;
}

int job_stale(struct job_ctx *ctx)
{
	static struct stale s; /* holds the rules table: not on the stack */
	memset(&s, 0, sizeof s);
	s.ctx = ctx;
	s.cfg = &ctx->cli->cfg;
	enum askue_err err = setup(&s);
	if (!err)
		err = load_lastseen(&s);
	if (!err)
		err = load_meters(&s);
	if (!err)
		err = load_alerts(&s);
	if (!err) {
		find_outages(&s);
		read_status(&s); /* MQTT, outside any transaction */
		err = known_reset(&s.k);
	}
	/* The alerts are read again and changed in one transaction: nobody
	 * changes them between what this run saw and what it does. */
	if (!err && !(err = askue_ledger_begin(ctx->l))) {
		if (!(err = load_alerts(&s)))
			err = apply(&s);
		if (!err && !ctx->dry_run)
			err = askue_ledger_commit(ctx->l);
		else
			askue_ledger_rollback(ctx->l);
	}
	if (!err) {
		report_counts(&s);
		job_publish_alerts(ctx);
	}
	teardown(&s);
	return err ? cli_fail(ctx->cli, err) : 0;
}
