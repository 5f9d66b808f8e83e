/* lastseen — per meter, the time of its newest stored reading (the meter's
 * clock), when the message carrying it arrived, and when anything from it
 * last arrived; in a SQLite file of its own (not the ledger: ingestion must
 * not depend on the ledger being writable), so the stale-device job reads
 * 500,000 meters with one indexed scan instead of a whole-fleet InfluxQL
 * query.
 *
 *   CREATE TABLE lastseen(meter TEXT PRIMARY KEY, ts INTEGER, arrived INTEGER,
 *                         heard INTEGER) WITHOUT ROWID
 *
 * Updates are noted only after InfluxDB stored the points, gathered in a
 * hash table in memory (bounded: ASKUE_LASTSEEN_PENDING_MAX meters) and
 * written in one transaction every lastseen_interval_s. The table only ever
 * moves forward (max), so replays and several ingestors sharing the file
 * are harmless. A store that cannot be opened or written is retried later;
 * ingestion goes on without it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestor.h"
#include "limits.h"
#include "log.h"

struct entry {
	char meter[ASKUE_SERIAL_BYTES_MAX + 1];
	int64_t ts, arrived, heard;
	int used;
};

struct lastseen {
	char path[ASKUE_PATH_MAX];
	sqlite3 *db;
	sqlite3_stmt *upsert;
	struct entry *tab; /* open addressing, capacity 2 * PENDING_MAX */
	size_t cap, n;
	int warned;
	uint64_t dropped;
};

static const char schema_sql[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS lastseen("
	" meter TEXT PRIMARY KEY,"
	" ts INTEGER NOT NULL,"      /* newest reading, the meter's clock (Unix s) */
	" arrived INTEGER NOT NULL," /* when the message with that reading arrived */
	" heard INTEGER NOT NULL"    /* when any reading of the meter last arrived */
	") WITHOUT ROWID;";

static const char upsert_sql[] =
	"INSERT INTO lastseen(meter, ts, arrived, heard) VALUES(?1, ?2, ?3, ?4) "
	"ON CONFLICT(meter) DO UPDATE SET "
	" arrived = CASE WHEN excluded.ts > ts THEN excluded.arrived ELSE arrived END,"
	" ts = max(ts, excluded.ts),"
	" heard = max(heard, excluded.heard)";

static void db_close(struct lastseen *ls)
{
	sqlite3_finalize(ls->upsert);
	sqlite3_close(ls->db);
	ls->upsert = NULL;
	ls->db = NULL;
}

static int db_open(struct lastseen *ls)
{
	if (ls->db)
		return 0;
	int rc = sqlite3_open_v2(ls->path, &ls->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(ls->db, 5000);
		rc = sqlite3_exec(ls->db, schema_sql, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ls->db, upsert_sql, -1, &ls->upsert, NULL);
	if (rc != SQLITE_OK) {
		if (!ls->warned++)
			log_warnx("lastseen", "%s: %s (ingestion goes on; retried later)", ls->path,
			          ls->db ? sqlite3_errmsg(ls->db) : "cannot open");
		db_close(ls);
		return -1;
	}
	ls->warned = 0;
	return 0;
}

struct lastseen *lastseen_open(const char *path)
{
	struct lastseen *ls = calloc(1, sizeof *ls);
	if (!ls)
		return NULL;
	ls->cap = 2 * ASKUE_LASTSEEN_PENDING_MAX;
	ls->tab = calloc(ls->cap, sizeof *ls->tab);
	if (!ls->tab) {
		free(ls);
		return NULL;
	}
	snprintf(ls->path, sizeof ls->path, "%s", path);
	db_open(ls);
	return ls;
}

void lastseen_close(struct lastseen *ls)
{
	if (!ls)
		return;
	lastseen_flush(ls);
	db_close(ls);
	free(ls->tab);
	free(ls);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

void lastseen_note(struct lastseen *ls, const char *meter, int64_t ts, int64_t arrived)
{
	if (!ls)
		return;
	if (ls->n >= ASKUE_LASTSEEN_PENDING_MAX)
		lastseen_flush(ls);
	size_t i = (size_t)(hash(meter) % ls->cap);
	while (ls->tab[i].used && strcmp(ls->tab[i].meter, meter) != 0)
		i = (i + 1) % ls->cap;
	struct entry *e = &ls->tab[i];
	if (!e->used) {
		if (ls->n >= ASKUE_LASTSEEN_PENDING_MAX) {
			ls->dropped++; /* the store is down and the table is full */
			return;
		}
		snprintf(e->meter, sizeof e->meter, "%s", meter);
		e->used = 1;
		e->ts = ts, e->arrived = arrived, e->heard = arrived;
		ls->n++;
		return;
	}
	if (ts > e->ts)
		e->ts = ts, e->arrived = arrived;
	if (arrived > e->heard)
		e->heard = arrived;
}

size_t lastseen_pending(const struct lastseen *ls)
{
	return ls ? ls->n : 0;
}

void lastseen_flush(struct lastseen *ls)
{
	if (!ls || ls->n == 0 || db_open(ls) != 0)
		return;
	int rc = sqlite3_exec(ls->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (size_t i = 0; i < ls->cap && rc == SQLITE_OK; i++) {
		struct entry *e = &ls->tab[i];
		if (!e->used)
			continue;
		sqlite3_bind_text(ls->upsert, 1, e->meter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ls->upsert, 2, e->ts);
		sqlite3_bind_int64(ls->upsert, 3, e->arrived);
		sqlite3_bind_int64(ls->upsert, 4, e->heard);
		rc = sqlite3_step(ls->upsert) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(ls->upsert);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ls->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("lastseen", "%s: %s (kept in memory, retried later)", ls->path,
		          sqlite3_errmsg(ls->db));
		sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
		db_close(ls);
		return;
	}
	for (size_t i = 0; i < ls->cap; i++) /* only touched pages are written */
		if (ls->tab[i].used)
			ls->tab[i].used = 0;
	ls->n = 0;
	if (ls->dropped) {
		log_warnx("lastseen", "%llu updates were dropped while the store was down; they "
		          "come back with the meters' next readings", (unsigned long long)ls->dropped);
		ls->dropped = 0;
	}
}
