/* journal — see journal.h. */
#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cJSON *askue_json_add_int(cJSON *obj, const char *key, int64_t v)
{
	char num[24];
	snprintf(num, sizeof num, "%lld", (long long)v);
	cJSON *item = cJSON_CreateRaw(num);
	if (item && !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

enum askue_err askue_journal_append(struct askue_ledger *l, const char *type, const char *subject,
                                    const cJSON *details)
{
	static const char sql[] =
		"INSERT INTO event(type, time, subject, operator, details) VALUES (?,?,?,?,?)";
	if (sqlite3_get_autocommit(askue_ledger_db(l)))
		return askue_err_set(ASKUE_ERR_DB, "journal: event %s outside a transaction", type);
	char *json = details ? cJSON_PrintUnformatted(details) : NULL;
	if (details && !json)
		return askue_err_set(ASKUE_ERR_NOMEM, "journal: out of memory");
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (!err) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)ts.tv_sec);
		sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, askue_ledger_operator(l), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, json ? json : "{}", -1, SQLITE_STATIC);
		err = askue_ledger_step_done(l, st, "journal");
	}
	free(json);
	return err;
}

enum askue_err askue_journal_each(struct askue_ledger *l, const struct askue_journal_filter *f,
                                  int (*fn)(const struct askue_event *ev, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id, type, time, subject, operator, details FROM event"
		" WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR subject = ?2)"
		" AND time >= ?3 AND id > ?4 ORDER BY id LIMIT ?5";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, f->type);
	askue_bind_text(st, 2, f->subject);
	sqlite3_bind_int64(st, 3, f->since);
	sqlite3_bind_int64(st, 4, f->after_id);
	sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_event ev = {.id = sqlite3_column_int64(st, 0),
		                         .time = sqlite3_column_int64(st, 2),
		                         .details = askue_column_text(st, 5)};
		snprintf(ev.type, sizeof ev.type, "%s", askue_column_text(st, 1));
		snprintf(ev.subject, sizeof ev.subject, "%s", askue_column_text(st, 3));
		snprintf(ev.operator_name, sizeof ev.operator_name, "%s", askue_column_text(st, 4));
		if (fn(&ev, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "journal");
	sqlite3_reset(st);
	return err;
}
