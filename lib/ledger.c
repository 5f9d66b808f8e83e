/* ledger — see ledger.h. */
#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "text.h"

#define STMT_CACHE_SLOTS 256 /* distinct SQL texts a program uses; more is a bug */

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct askue_ledger {
	sqlite3 *db;
	char operator_name[128];
	int in_tx;
	struct stmt_slot cache[STMT_CACHE_SLOTS];
};

sqlite3 *askue_ledger_db(struct askue_ledger *l)
{
	return l->db;
}

const char *askue_ledger_operator(const struct askue_ledger *l)
{
	return l->operator_name;
}

enum askue_err askue_ledger_fail(struct askue_ledger *l, int rc, const char *what)
{
	const char *msg = sqlite3_errmsg(l->db);
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return askue_err_set(ASKUE_ERR_CONFLICT, "%s: %s", what, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return askue_err_set(ASKUE_ERR_BUSY, "%s: the ledger is busy (%s)", what, msg);
	case SQLITE_NOMEM:
		return askue_err_set(ASKUE_ERR_NOMEM, "%s: out of memory", what);
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		return askue_err_set(ASKUE_ERR_IO, "%s: %s", what, msg);
	default:
		return askue_err_set(ASKUE_ERR_DB, "%s: %s", what, msg);
	}
}

enum askue_err askue_ledger_exec(struct askue_ledger *l, const char *sql)
{
	char *errmsg = NULL;
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, &errmsg);
	if (rc != SQLITE_OK) {
		enum askue_err err = askue_ledger_fail(l, rc, "ledger");
		sqlite3_free(errmsg);
		return err;
	}
	return ASKUE_OK;
}

int askue_ledger_schema_version(struct askue_ledger *l)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(l->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static enum askue_err migrate(struct askue_ledger *l, const char *path)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	int have = askue_ledger_schema_version(l);
	if (have < 0 || have > askue_schema_count) {
		askue_ledger_rollback(l);
		return askue_err_set(ASKUE_ERR_DB,
		                     "%s: schema version %d is newer than this program knows (%d)",
		                     path, have, askue_schema_count);
	}
	for (int v = have; v < askue_schema_count; v++) {
		err = askue_ledger_exec(l, askue_schema_migrations[v]);
		if (err) {
			askue_err_prefix("%s: migration %d: ", path, v + 1);
			askue_ledger_rollback(l);
			return err;
		}
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if ((err = askue_ledger_exec(l, pragma))) {
			askue_ledger_rollback(l);
			return err;
		}
		log_debug("ledger", "%s: migration %d applied", path, v + 1);
	}
	return askue_ledger_commit(l);
}

/* askue_fold(text): the search folding of text.h, for bulk indexing. */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	if (!s) {
		sqlite3_result_null(ctx);
		return;
	}
	size_t n = strlen(s) + 1;
	char *out = sqlite3_malloc64(n);
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	askue_text_fold(s, out, n);
	sqlite3_result_text(ctx, out, -1, sqlite3_free);
}

enum askue_err askue_ledger_open(const char *path, int64_t busy_timeout_ms,
                                 const char *operator_name, struct askue_ledger **out)
{
	struct askue_ledger *l = calloc(1, sizeof *l);
	if (!l)
		return askue_err_set(ASKUE_ERR_NOMEM, "ledger: out of memory");
	snprintf(l->operator_name, sizeof l->operator_name, "%s",
	         operator_name && *operator_name ? operator_name : "system");

	/* Create the state directory (one level) so a fresh ASKUE_HOME works. */
	char dir[512];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			enum askue_err err = askue_err_set(ASKUE_ERR_IO, "%s: cannot create: %s", dir,
			                                   strerror(errno));
			free(l);
			return err;
		}
	}
	int rc = sqlite3_open_v2(path, &l->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		enum askue_err err = askue_err_set(ASKUE_ERR_IO, "%s: cannot open the ledger: %s",
		                                   path, l->db ? sqlite3_errmsg(l->db) : "no memory");
		sqlite3_close(l->db);
		free(l);
		return err;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_create_function(l->db, "askue_fold", 1,
	                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                        sql_fold, NULL, NULL);
	sqlite3_busy_timeout(l->db, (int)busy_timeout_ms);
	enum askue_err err = askue_ledger_exec(l, "PRAGMA journal_mode = WAL;"
	                                          "PRAGMA synchronous = NORMAL;"
	                                          "PRAGMA foreign_keys = ON;");
	if (!err)
		err = migrate(l, path);
	if (err) {
		askue_ledger_close(l);
		return err;
	}
	*out = l;
	return ASKUE_OK;
}

void askue_ledger_close(struct askue_ledger *l)
{
	if (!l)
		return;
	for (int i = 0; i < STMT_CACHE_SLOTS; i++)
		if (l->cache[i].st)
			sqlite3_finalize(l->cache[i].st);
	if (l->in_tx)
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(l->db);
	free(l);
}

enum askue_err askue_ledger_begin(struct askue_ledger *l)
{
	int rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return askue_ledger_fail(l, rc, "begin");
	l->in_tx = 1;
	return ASKUE_OK;
}

enum askue_err askue_ledger_commit(struct askue_ledger *l)
{
	int rc = sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		enum askue_err err = askue_ledger_fail(l, rc, "commit");
		askue_ledger_rollback(l);
		return err;
	}
	l->in_tx = 0;
	return ASKUE_OK;
}

void askue_ledger_rollback(struct askue_ledger *l)
{
	if (l->in_tx || !sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	l->in_tx = 0;
}

enum askue_err askue_ledger_stmt(struct askue_ledger *l, const char *sql, sqlite3_stmt **out)
{
	uintptr_t h = (uintptr_t)sql;
	size_t slot = (size_t)((h >> 3) ^ (h >> 11)) % STMT_CACHE_SLOTS;
	for (size_t probe = 0; probe < STMT_CACHE_SLOTS; probe++) {
		struct stmt_slot *s = &l->cache[(slot + probe) % STMT_CACHE_SLOTS];
		if (s->sql == sql) {
			sqlite3_reset(s->st);
			sqlite3_clear_bindings(s->st);
			*out = s->st;
			return ASKUE_OK;
		}
		if (!s->sql) {
			int rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st,
			                            NULL);
			if (rc != SQLITE_OK)
				return askue_err_set(ASKUE_ERR_DB, "prepare: %s: %s", sqlite3_errmsg(l->db),
				                     sql);
			s->sql = sql;
			*out = s->st;
			return ASKUE_OK;
		}
	}
	return askue_err_set(ASKUE_ERR_LIMIT, "statement cache full (%d)", STMT_CACHE_SLOTS);
}

enum askue_err askue_ledger_step_done(struct askue_ledger *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return ASKUE_OK;
	}
	enum askue_err err = askue_ledger_fail(l, rc, what);
	sqlite3_reset(st);
	return err;
}

enum askue_err askue_ledger_row(struct askue_ledger *l, const char *sql, const char *key,
                                sqlite3_stmt **out)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, key ? key : "");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = st;
		return ASKUE_OK;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ASKUE_ERR_NOT_FOUND : askue_ledger_fail(l, rc, "lookup");
}

void askue_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

void askue_bind_date(sqlite3_stmt *st, int idx, struct askue_date d)
{
	char buf[ASKUE_DATE_BUF];
	sqlite3_bind_text(st, idx, askue_date_format(d, buf), -1, SQLITE_TRANSIENT);
}

void askue_bind_period(sqlite3_stmt *st, int idx, struct askue_period p)
{
	char buf[16];
	sqlite3_bind_text(st, idx, askue_period_format(p, buf), -1, SQLITE_TRANSIENT);
}

const char *askue_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}
