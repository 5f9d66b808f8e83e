/* ledger — the SQLite ledger: opening, migrations, transactions and the
 * cache of prepared statements.
 *
 * WAL mode, foreign keys on, a busy timeout so that the console, the jobs
 * and the command line can work at the same time. The schema is the list of
 * numbered migrations in schema.c, applied in order when the ledger is
 * opened (PRAGMA user_version holds the number applied). Only prepared
 * statements touch the database; askue_ledger_stmt caches them per SQL text.
 * Every write happens inside askue_ledger_begin .. _commit (BEGIN
 * IMMEDIATE: a writer takes the lock before it reads what it will change).
 */
#ifndef ASKUE_LEDGER_H
#define ASKUE_LEDGER_H

#include <sqlite3.h>
#include <stdint.h>
#include "date.h"
#include "err.h"

struct askue_ledger;

/* Opens (creating the file and its directory's last level if needed) and
 * migrates. operator_name is who the journal says acted. */
ASKUE_MUST enum askue_err askue_ledger_open(const char *path, int64_t busy_timeout_ms,
                                            const char *operator_name,
                                            struct askue_ledger **out);
void askue_ledger_close(struct askue_ledger *l); /* NULL is a no-op */

sqlite3 *askue_ledger_db(struct askue_ledger *l);
const char *askue_ledger_operator(const struct askue_ledger *l);
int askue_ledger_schema_version(struct askue_ledger *l);

ASKUE_MUST enum askue_err askue_ledger_begin(struct askue_ledger *l);
ASKUE_MUST enum askue_err askue_ledger_commit(struct askue_ledger *l);
void askue_ledger_rollback(struct askue_ledger *l); /* safe outside a transaction */

/* A cached prepared statement for sql (reset, bindings cleared). The ledger
 * owns it; do not finalize. sql must be a string literal (cached by text). */
ASKUE_MUST enum askue_err askue_ledger_stmt(struct askue_ledger *l, const char *sql,
                                            sqlite3_stmt **out);
/* Run a statement that returns no rows (or ignore them). Binds nothing. */
ASKUE_MUST enum askue_err askue_ledger_exec(struct askue_ledger *l, const char *sql);

/* Turn a failed sqlite3 result into an askue error with a message: a
 * constraint becomes ASKUE_ERR_CONFLICT, BUSY becomes ASKUE_ERR_BUSY. */
enum askue_err askue_ledger_fail(struct askue_ledger *l, int rc, const char *what);

/* Step a statement expected to finish (INSERT/UPDATE/DELETE). */
ASKUE_MUST enum askue_err askue_ledger_step_done(struct askue_ledger *l, sqlite3_stmt *st,
                                                 const char *what);

/* Look a row up by one text key: binds key as ?1 to the cached statement
 * of sql and steps. ASKUE_OK: *out is on the row (read it, then
 * sqlite3_reset it). ASKUE_ERR_NOT_FOUND: no row, and no message — the
 * caller says what was not found. Other errors carry the ledger's message. */
ASKUE_MUST enum askue_err askue_ledger_row(struct askue_ledger *l, const char *sql,
                                           const char *key, sqlite3_stmt **out);

/* Bind helpers: NULL text binds SQL NULL. Index is 1-based. */
void askue_bind_text(sqlite3_stmt *st, int idx, const char *s);
const char *askue_column_text(sqlite3_stmt *st, int col); /* "" for NULL */
/* A business date as 'YYYY-MM-DD', a period as 'YYYY-MM' (the ledger's text). */
void askue_bind_date(sqlite3_stmt *st, int idx, struct askue_date d);
void askue_bind_period(sqlite3_stmt *st, int idx, struct askue_period p);

/* The migrations (schema.c). */
extern const char *const askue_schema_migrations[];
extern const int askue_schema_count;

#endif
