/* lifecycle — `askue job lifecycle` (daily): work items for what falls due
 * for a meter within [lifecycle] horizon_days or is past (lib/lifecycle.c):
 * verification_due, end_of_service_life, warranty_ending.
 *
 * Each item is opened once per meter, kind and due date (the alert's ref):
 * an operator's resolving it does not make it come back tomorrow; a new due
 * date (the meter was verified) is a new item. An active item whose due
 * date moved, or whose meter was dismantled, is closed by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "job.h"
#include "lifecycle.h"
#include "strmap.h"

struct lc {
	struct job_ctx *ctx;
	struct askue_strmap *any;    /* "kind|serial|ref" -> id, any status */
	struct askue_strmap *active; /* "kind|serial" -> index into act */
	struct {
		int64_t id;
		char kind[ASKUE_ALERT_KIND_BYTES_MAX + 1];
		char serial[ASKUE_ALERT_SUBJECT_BYTES_MAX + 1];
		char ref[ASKUE_ALERT_REF_BYTES_MAX + 1];
		int keep;
	} *act;
	size_t n_act, cap_act;
	size_t meters, opened, closed;
};

static void key3(char *buf, size_t size, const char *kind, const char *serial, const char *ref)
{
	snprintf(buf, size, "%s\x1f%s\x1f%s", kind, serial, ref);
}

static enum askue_err load_alerts(struct lc *c)
{
	static const char sql[] =
		"SELECT id, kind, subject, ref, status FROM alert WHERE kind IN"
		" ('verification_due','end_of_service_life','warranty_ending') ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(c->ctx->l, sql, &st);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char key[300];
		const char *kind = askue_column_text(st, 1), *serial = askue_column_text(st, 2),
		           *ref = askue_column_text(st, 3);
		key3(key, sizeof key, kind, serial, ref);
		if ((err = askue_strmap_put(c->any, key, sqlite3_column_int64(st, 0))))
			break;
		if (!strcmp(askue_column_text(st, 4), "resolved"))
			continue;
		if (c->n_act == c->cap_act) {
			size_t cap = c->cap_act ? c->cap_act * 2 : 256;
			void *p = realloc(c->act, cap * sizeof *c->act);
			if (!p) {
				err = askue_err_set(ASKUE_ERR_NOMEM, "lifecycle: out of memory");
				break;
			}
			c->act = p;
			c->cap_act = cap;
		}
		memset(&c->act[c->n_act], 0, sizeof c->act[0]);
		c->act[c->n_act].id = sqlite3_column_int64(st, 0);
		snprintf(c->act[c->n_act].kind, sizeof c->act[0].kind, "%s", kind);
		snprintf(c->act[c->n_act].serial, sizeof c->act[0].serial, "%s", serial);
		snprintf(c->act[c->n_act].ref, sizeof c->act[0].ref, "%s", ref);
		key3(key, sizeof key, kind, serial, "");
		err = askue_strmap_put(c->active, key, (int64_t)c->n_act++);
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(c->ctx->l, rc, "lifecycle alerts");
	sqlite3_reset(st);
	return err;
}

static enum askue_err close_active(struct lc *c, size_t i, const char *outcome)
{
	cJSON *p = cJSON_CreateObject();
	enum askue_err err = askue_alert_close_tx(c->ctx->l, c->act[i].id, c->ctx->now, outcome, p);
	if (!err) {
		cJSON_AddStringToObject(p, "outcome", outcome);
		cJSON_AddStringToObject(p, "due", c->act[i].ref);
		job_note(c->ctx, "closed", c->act[i].id, c->act[i].kind, c->act[i].serial, p);
		c->closed++;
	} else {
		cJSON_Delete(p);
	}
	return err;
}

static enum askue_err item(struct lc *c, const struct askue_meter *m,
                           const struct askue_lifecycle_item *it)
{
	char due[ASKUE_DATE_BUF], key[300];
	askue_date_format(it->due, due);
	int64_t v;
	key3(key, sizeof key, it->kind, m->serial, due);
	int exists = askue_strmap_get(c->any, key, &v);
	key3(key, sizeof key, it->kind, m->serial, "");
	int64_t ai;
	enum askue_err err = ASKUE_OK;
	if (askue_strmap_get(c->active, key, &ai)) {
		if (!strcmp(c->act[ai].ref, due)) {
			c->act[ai].keep = 1;
			return ASKUE_OK;
		}
		char why[96];
		snprintf(why, sizeof why, "no longer due on %s: now due on %s", c->act[ai].ref, due);
		c->act[ai].keep = 1;
		if ((err = close_active(c, (size_t)ai, why)))
			return err;
	}
	if (exists)
		return ASKUE_OK; /* opened once already for this due date */
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "due", due);
	cJSON_AddNumberToObject(d, "days_left", it->days_left);
	cJSON_AddStringToObject(d, "meter_status", m->status);
	cJSON_AddStringToObject(d, "model", m->model);
	const char *serials[1] = {m->serial};
	int64_t id;
	err = askue_alert_open_tx(c->ctx->l, it->kind, m->serial, due, c->ctx->now, d, serials, 1,
	                          &id);
	if (err) {
		cJSON_Delete(d);
		return err;
	}
	c->opened++;
	job_note(c->ctx, "opened", c->ctx->dry_run ? 0 : id, it->kind, m->serial, d);
	return ASKUE_OK;
}

static void read_meter(sqlite3_stmt *st, struct askue_meter *m)
{
	memset(m, 0, sizeof *m);
	snprintf(m->serial, sizeof m->serial, "%s", askue_column_text(st, 0));
	snprintf(m->model, sizeof m->model, "%s", askue_column_text(st, 1));
	snprintf(m->status, sizeof m->status, "%s", askue_column_text(st, 2));
	(void)!askue_date_parse(askue_column_text(st, 3), &m->commissioned);
	m->service_life_years = sqlite3_column_int(st, 4);
	m->verification_interval_years = sqlite3_column_int(st, 5);
	m->has_last_verified = !askue_date_parse(askue_column_text(st, 6), &m->last_verified);
	m->has_warranty_until = !askue_date_parse(askue_column_text(st, 7), &m->warranty_until);
}

static enum askue_err each_meter(struct lc *c, int horizon)
{
	static const char sql[] =
		"SELECT serial, model, status, commissioned, service_life_years,"
		" verification_interval_years, last_verified, warranty_until FROM meter"
		" WHERE status != 'dismantled' ORDER BY serial";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(c->ctx->l, sql, &st);
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_meter m;
		struct askue_lifecycle_item items[ASKUE_LIFECYCLE_ITEMS_MAX];
		read_meter(st, &m);
		c->meters++;
		int n = askue_lifecycle_due(&m, c->ctx->today, horizon, items);
		for (int i = 0; i < n && !err; i++)
			err = item(c, &m, &items[i]);
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(c->ctx->l, rc, "meters");
	sqlite3_reset(st);
	return err;
}

/* Active items nothing keeps: the meter was dismantled, or verified. */
static enum askue_err close_rest(struct lc *c)
{
	static const char sql[] = "SELECT status FROM meter WHERE serial = ?";
	enum askue_err err = ASKUE_OK;
	for (size_t i = 0; i < c->n_act && !err; i++) {
		if (c->act[i].keep)
			continue;
		sqlite3_stmt *st;
		if ((err = askue_ledger_stmt(c->ctx->l, sql, &st)))
			break;
		sqlite3_bind_text(st, 1, c->act[i].serial, -1, SQLITE_STATIC);
		int dismantled = sqlite3_step(st) != SQLITE_ROW ||
		                 !strcmp(askue_column_text(st, 0), "dismantled");
		sqlite3_reset(st);
		err = close_active(c, i, dismantled ? "meter dismantled" : "no longer due");
	}
	return err;
}

int job_lifecycle(struct job_ctx *ctx)
{
	struct lc c = {.ctx = ctx};
	int horizon = (int)ctx->cli->cfg.lifecycle_horizon_days;
	enum askue_err err = askue_strmap_new(1024, &c.any);
	if (!err)
		err = askue_strmap_new(1024, &c.active);
	if (!err && !(err = askue_ledger_begin(ctx->l))) {
		if (!(err = load_alerts(&c)) && !(err = each_meter(&c, horizon)))
			err = close_rest(&c);
		if (!err && !ctx->dry_run)
			err = askue_ledger_commit(ctx->l);
		else
			askue_ledger_rollback(ctx->l);
	}
	if (!err) {
		cJSON_AddNumberToObject(ctx->report, "horizon_days", horizon);
		cJSON_AddNumberToObject(ctx->report, "meters", (double)c.meters);
		cJSON_AddNumberToObject(ctx->report, "alerts_opened", (double)c.opened);
		cJSON_AddNumberToObject(ctx->report, "alerts_closed", (double)c.closed);
		job_publish_alerts(ctx);
	}
	askue_strmap_free(c.any);
	askue_strmap_free(c.active);
	free(c.act);
	return err ? cli_fail(ctx->cli, err) : 0;
}
