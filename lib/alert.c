/* alert — see alert.h. The store of alerts and the journal of their steps;
 * no policy: which alerts to open or close is the jobs' (lib/silence.c,
 * lib/lifecycle.c) and the operators'. */
#include "alert.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal.h"

char *askue_utc_stamp(int64_t utc_s, char *buf)
{
	time_t t = (time_t)utc_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, ASKUE_UTC_STAMP_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* Journal one step: {id, kind, ref, ...extra}. extra (may be NULL) is
 * merged in; the caller keeps it. */
static enum askue_err journal(struct askue_ledger *l, const char *type, int64_t id,
                              const char *kind, const char *subject, const char *ref,
                              const cJSON *extra)
{
	cJSON *d = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
	if (!d)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	cJSON_AddNumberToObject(d, "id", (double)id);
	cJSON_AddStringToObject(d, "kind", kind);
	if (ref && *ref)
		cJSON_AddStringToObject(d, "ref", ref);
	enum askue_err err = askue_journal_append(l, type, subject, d);
	cJSON_Delete(d);
	return err;
}

static enum askue_err check_text(const char *what, const char *s, size_t max)
{
	if (!s || !*s)
		return askue_err_set(ASKUE_ERR_INVALID, "alert: %s is empty", what);
	if (strlen(s) > max)
		return askue_err_set(ASKUE_ERR_INVALID, "alert: %s longer than %zu bytes", what, max);
	return ASKUE_OK;
}

static enum askue_err insert_meters(struct askue_ledger *l, int64_t id, const char *const *meters,
                                    size_t n, size_t *added)
{
	static const char sql[] = "INSERT OR IGNORE INTO alert_meter(alert_id, meter) VALUES (?, ?)";
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;
		enum askue_err err = askue_ledger_stmt(l, sql, &st);
		if (err)
			return err;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, meters[i], -1, SQLITE_STATIC);
		if ((err = askue_ledger_step_done(l, st, "alert meters")))
			return err;
		count += (size_t)sqlite3_changes(askue_ledger_db(l));
	}
	if (added)
		*added = count;
	return ASKUE_OK;
}

/* The meters of an opening, for its journal event. */
static cJSON *meters_for_journal(const cJSON *details, const char *const *meters, size_t n)
{
	cJSON *d = details ? cJSON_Duplicate(details, 1) : cJSON_CreateObject();
	if (!d)
		return NULL;
	cJSON_AddNumberToObject(d, "meters_count", (double)n);
	if (n <= ASKUE_ALERT_JOURNAL_METERS_MAX) {
		cJSON *arr = cJSON_AddArrayToObject(d, "meters");
		for (size_t i = 0; i < n && arr; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(meters[i]));
	}
	return d;
}

enum askue_err askue_alert_open_tx(struct askue_ledger *l, const char *kind, const char *subject,
                                   const char *ref, int64_t opened, const cJSON *details,
                                   const char *const *meters, size_t n_meters, int64_t *id_out)
{
	static const char sql[] =
		"INSERT INTO alert(kind, subject, ref, opened, details) VALUES (?, ?, ?, ?, ?)";
	enum askue_err err;
	if ((err = check_text("kind", kind, ASKUE_ALERT_KIND_BYTES_MAX)) ||
	    (err = check_text("subject", subject, ASKUE_ALERT_SUBJECT_BYTES_MAX)))
		return err;
	if (ref && strlen(ref) > ASKUE_ALERT_REF_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "alert: ref longer than %d bytes",
		                     ASKUE_ALERT_REF_BYTES_MAX);
	char *json = details ? cJSON_PrintUnformatted(details) : NULL;
	if (details && !json)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ref ? ref : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, opened);
		sqlite3_bind_text(st, 5, json ? json : "{}", -1, SQLITE_STATIC);
		err = askue_ledger_step_done(l, st, "alert");
		if (err == ASKUE_ERR_CONFLICT)
			err = askue_err_set(ASKUE_ERR_EXISTS, "alert %s %s: one is open already", kind,
			                    subject);
	}
	cJSON_free(json);
	if (err)
		return err;
	int64_t id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	if ((err = insert_meters(l, id, meters, n_meters, NULL)))
		return err;
	cJSON *jd = meters_for_journal(details, meters, n_meters);
	if (!jd)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	err = journal(l, ASKUE_EV_ALERT_OPENED, id, kind, subject, ref, jd);
	cJSON_Delete(jd);
	if (!err && id_out)
		*id_out = id;
	return err;
}

enum askue_err askue_alert_add_meters_tx(struct askue_ledger *l, int64_t id,
                                         const char *const *meters, size_t n_meters, size_t *added)
{
	return insert_meters(l, id, meters, n_meters, added);
}

static enum askue_err get_row(struct askue_ledger *l, int64_t id, struct askue_alert *a)
{
	enum askue_err err = askue_alert_get(l, id, a);
	return err;
}

enum askue_err askue_alert_close_tx(struct askue_ledger *l, int64_t id, int64_t closed,
                                    const char *outcome, const cJSON *patch)
{
	static const char sql[] =
		"UPDATE alert SET status = 'resolved', closed = ?2, closed_by = 'job', outcome = ?3,"
		" details = json_patch(details, ?4), publish_pending = 1"
		" WHERE id = ?1 AND status != 'resolved'";
	struct askue_alert a = {0};
	enum askue_err err = get_row(l, id, &a);
	if (err)
		return err;
	if (!strcmp(a.status, "resolved"))
		return askue_err_set(ASKUE_ERR_CONFLICT, "alert %lld is resolved already",
		                     (long long)id);
	char *json = patch ? cJSON_PrintUnformatted(patch) : NULL;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, closed);
		askue_bind_text(st, 3, outcome);
		sqlite3_bind_text(st, 4, json ? json : "{}", -1, SQLITE_STATIC);
		err = askue_ledger_step_done(l, st, "alert close");
	}
	cJSON_free(json);
	if (err)
		return err;
	cJSON *jd = patch ? cJSON_Duplicate(patch, 1) : cJSON_CreateObject();
	if (!jd)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	cJSON_AddStringToObject(jd, "outcome", outcome ? outcome : "");
	err = journal(l, ASKUE_EV_ALERT_CLOSED, id, a.kind, a.subject, a.ref, jd);
	cJSON_Delete(jd);
	return err;
}

enum askue_err askue_alert_handled(struct askue_ledger *l, const char *const *kinds,
                                   size_t n_kinds, const char *subject, const char *ref, int *out)
{
	static const char sql[] =
		"SELECT 1 FROM alert WHERE kind = ? AND subject = ? AND ref = ?"
		" AND closed_by = 'operator' LIMIT 1";
	int found = 0;
	for (size_t i = 0; i < n_kinds && !found; i++) {
		sqlite3_stmt *st;
		enum askue_err err = askue_ledger_stmt(l, sql, &st);
		if (err)
			return err;
		sqlite3_bind_text(st, 1, kinds[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			found = 1;
		else if (rc != SQLITE_DONE)
			return askue_ledger_fail(l, rc, "alerts handled");
	}
	*out = found;
	return ASKUE_OK;
}

enum askue_err askue_alert_reopen_tx(struct askue_ledger *l, int64_t id, const char *ref,
                                     int64_t at, const cJSON *patch)
{
	static const char sql[] =
		"UPDATE alert SET status = 'open', closed = NULL, closed_by = NULL, outcome = NULL,"
		" ref = coalesce(?4, ref),"
		" assignee = NULL, details = json_set(json_patch(details, ?3), '$.flaps',"
		" coalesce(json_extract(details, '$.flaps'), 0) + 1, '$.reopened', ?2),"
		" publish_pending = 1 WHERE id = ?1 AND status = 'resolved' AND closed_by = 'job'";
	struct askue_alert a = {0};
	enum askue_err err = get_row(l, id, &a);
	if (err)
		return err;
	if (strcmp(a.status, "resolved") != 0 || strcmp(a.closed_by, "job") != 0)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "alert %lld: only an alert a job closed by itself is re-opened",
		                     (long long)id);
	char *json = patch ? cJSON_PrintUnformatted(patch) : NULL;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, at);
		sqlite3_bind_text(st, 3, json ? json : "{}", -1, SQLITE_STATIC);
		askue_bind_text(st, 4, ref);
		err = askue_ledger_step_done(l, st, "alert reopen");
		if (err == ASKUE_ERR_CONFLICT)
			err = askue_err_set(ASKUE_ERR_EXISTS, "alert %s %s: one is open already", a.kind,
			                    a.subject);
	}
	cJSON_free(json);
	if (err)
		return err;
	cJSON *jd = patch ? cJSON_Duplicate(patch, 1) : cJSON_CreateObject();
	if (!jd)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	cJSON_AddBoolToObject(jd, "reopened", 1);
	err = journal(l, ASKUE_EV_ALERT_OPENED, id, a.kind, a.subject, a.ref, jd);
	cJSON_Delete(jd);
	return err;
}

enum askue_err askue_alert_assign(struct askue_ledger *l, int64_t id, const char *person)
{
	static const char sql[] =
		"UPDATE alert SET status = 'assigned', assignee = ?2 WHERE id = ?1";
	enum askue_err err = check_text("person", person, ASKUE_SHORT_TEXT_BYTES_MAX);
	if (err || (err = askue_ledger_begin(l)))
		return err;
	struct askue_alert a = {0};
	if ((err = get_row(l, id, &a)))
		goto out;
	if (!strcmp(a.status, "resolved")) {
		err = askue_err_set(ASKUE_ERR_CONFLICT, "alert %lld is resolved: not assigned",
		                    (long long)id);
		goto out;
	}
	if (!strcmp(a.status, "assigned") && !strcmp(a.assignee, person))
		goto out; /* already so: nothing to do, nothing journaled */
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
	if ((err = askue_ledger_step_done(l, st, "alert assign")))
		goto out;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "assignee", person);
	if (a.assignee[0])
		cJSON_AddStringToObject(d, "previous", a.assignee);
	err = journal(l, ASKUE_EV_ALERT_ASSIGNED, id, a.kind, a.subject, a.ref, d);
	cJSON_Delete(d);
out:
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_alert_resolve(struct askue_ledger *l, int64_t id, const char *outcome,
                                   int64_t now)
{
	static const char sql[] =
		"UPDATE alert SET status = 'resolved', closed = ?2, closed_by = 'operator',"
		" outcome = ?3, publish_pending = 1 WHERE id = ?1";
	enum askue_err err = check_text("outcome", outcome, ASKUE_ALERT_OUTCOME_BYTES_MAX);
	if (err || (err = askue_ledger_begin(l)))
		return err;
	struct askue_alert a = {0};
	if ((err = get_row(l, id, &a)))
		goto out;
	if (!strcmp(a.status, "resolved")) {
		err = askue_err_set(ASKUE_ERR_CONFLICT, "alert %lld is resolved already (%s)",
		                    (long long)id, a.outcome);
		goto out;
	}
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now ? now : wall_now());
	sqlite3_bind_text(st, 3, outcome, -1, SQLITE_STATIC);
	if ((err = askue_ledger_step_done(l, st, "alert resolve")))
		goto out;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "outcome", outcome);
	if (a.assignee[0])
		cJSON_AddStringToObject(d, "assignee", a.assignee);
	err = journal(l, ASKUE_EV_ALERT_RESOLVED, id, a.kind, a.subject, a.ref, d);
	cJSON_Delete(d);
out:
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

#define ALERT_COLUMNS                                                                       \
	"id, kind, subject, ref, status, opened, closed, coalesce(closed_by, ''),"            \
	" coalesce(assignee, ''), coalesce(outcome, ''), details"

static void read_row(sqlite3_stmt *st, struct askue_alert *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	snprintf(a->kind, sizeof a->kind, "%s", askue_column_text(st, 1));
	snprintf(a->subject, sizeof a->subject, "%s", askue_column_text(st, 2));
	snprintf(a->ref, sizeof a->ref, "%s", askue_column_text(st, 3));
	snprintf(a->status, sizeof a->status, "%s", askue_column_text(st, 4));
	a->opened = sqlite3_column_int64(st, 5);
	a->has_closed = sqlite3_column_type(st, 6) != SQLITE_NULL;
	a->closed = sqlite3_column_int64(st, 6);
	snprintf(a->closed_by, sizeof a->closed_by, "%s", askue_column_text(st, 7));
	snprintf(a->assignee, sizeof a->assignee, "%s", askue_column_text(st, 8));
	snprintf(a->outcome, sizeof a->outcome, "%s", askue_column_text(st, 9));
	a->details = askue_column_text(st, 10);
}

enum askue_err askue_alert_get(struct askue_ledger *l, int64_t id, struct askue_alert *out)
{
	static const char sql[] = "SELECT " ALERT_COLUMNS " FROM alert WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "alert %lld: no such alert", (long long)id);
	if (rc != SQLITE_ROW)
		return askue_ledger_fail(l, rc, "alert");
	read_row(st, out);
	/* details outlive the statement's reset only until the next step: the
	 * caller of _get does not use them; the iterator hands them over live. */
	out->details = "{}";
	sqlite3_reset(st);
	return ASKUE_OK;
}

enum askue_err askue_alert_each(struct askue_ledger *l, const struct askue_alert_filter *f,
                                int (*fn)(const struct askue_alert *a, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT " ALERT_COLUMNS " FROM alert"
		" WHERE (?1 = 0 OR status != 'resolved') AND (?2 IS NULL OR kind = ?2)"
		" AND (?3 IS NULL OR subject = ?3) AND (?4 = 0 OR publish_pending = 1)"
		" AND (?5 = 0 OR id = ?5) ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int(st, 1, f->active_only);
	askue_bind_text(st, 2, f->kind);
	askue_bind_text(st, 3, f->subject);
	sqlite3_bind_int(st, 4, f->pending_only);
	sqlite3_bind_int64(st, 5, f->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_alert a;
		read_row(st, &a);
		if (fn(&a, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "alerts");
	sqlite3_reset(st);
	return err;
}

static enum askue_err meters_json(struct askue_ledger *l, int64_t id, cJSON *arr)
{
	static const char sql[] = "SELECT meter FROM alert_meter WHERE alert_id = ? ORDER BY meter";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, cJSON_CreateString(askue_column_text(st, 0)));
	if (rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "alert meters");
	sqlite3_reset(st);
	return err;
}

static void add_opt(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

enum askue_err askue_alert_json(struct askue_ledger *l, const struct askue_alert *a, cJSON **out)
{
	char stamp[ASKUE_UTC_STAMP_BUF];
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return askue_err_set(ASKUE_ERR_NOMEM, "alert: out of memory");
	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddStringToObject(o, "kind", a->kind);
	cJSON_AddStringToObject(o, "subject", a->subject);
	cJSON_AddStringToObject(o, "status", a->status);
	cJSON_AddStringToObject(o, "opened", askue_utc_stamp(a->opened, stamp));
	if (a->has_closed)
		cJSON_AddStringToObject(o, "closed", askue_utc_stamp(a->closed, stamp));
	else
		cJSON_AddNullToObject(o, "closed");
	add_opt(o, "ref", a->ref);
	add_opt(o, "assignee", a->assignee);
	add_opt(o, "outcome", a->outcome);
	add_opt(o, "closed_by", a->closed_by);
	cJSON *d = cJSON_Parse(a->details);
	cJSON_AddItemToObject(o, "details", d ? d : cJSON_CreateObject());
	cJSON *arr = cJSON_AddArrayToObject(o, "meters");
	enum askue_err err = meters_json(l, a->id, arr);
	if (err) {
		cJSON_Delete(o);
		return err;
	}
	*out = o;
	return ASKUE_OK;
}

enum askue_err askue_alert_mark_published_tx(struct askue_ledger *l, int64_t id,
                                             const char *status, int64_t at)
{
	static const char sql[] =
		"UPDATE alert SET publish_pending = 0, published = ?2 WHERE id = ?1 AND status = ?3";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	return askue_ledger_step_done(l, st, "alert published");
}
