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
 * written in one transaction every lastseen_interval_s by a thread of its
 * own (two tables: the writer fills one while the other is written), so
 * the writer waits for SQLite only when both tables are full and the store
 * works; while it fails, updates past the bound are dropped (and logged). The table only ever
 * moves forward (max), so replays and several ingestors sharing the file
 * are harmless. A store that cannot be opened or written is retried later;
 * ingestion goes on without it.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingestor.h"
#include "limits.h"
#include "log.h"

struct entry {
	char meter[ASKUE_SERIAL_BYTES_MAX + 1];
	int used;
	int64_t ts, arrived, heard;
};

struct table {
	struct entry *e; /* open addressing */
	size_t cap, n;
};

struct lastseen {
	char path[ASKUE_PATH_MAX];
	sqlite3 *db;
	sqlite3_stmt *upsert;
	int warned;
	pthread_mutex_t mu;
	pthread_cond_t cv, room;
	pthread_t thread;
	int failing;      /* the last write failed: notes are dropped, not waited */
	int started, stop;
	int64_t interval_ms;
	struct table t[2];
	int active;       /* the table lastseen_note fills */
	uint64_t dropped; /* notes dropped: both tables full and the store down */
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

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Write a table in one transaction; 0 and the table emptied on success. */
static int flush_table(struct lastseen *ls, struct table *t)
{
	if (t->n == 0)
		return 0;
	if (db_open(ls) != 0)
		return -1;
	int rc = sqlite3_exec(ls->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (size_t i = 0; i < t->cap && rc == SQLITE_OK; i++) {
		struct entry *e = &t->e[i];
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
		if (!ls->warned++)
			log_warnx("lastseen", "%s: %s (kept in memory, retried)", ls->path,
			          sqlite3_errmsg(ls->db));
		sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
		db_close(ls);
		return -1;
	}
	ls->warned = 0;
	for (size_t i = 0; i < t->cap; i++) /* only touched pages are written */
		if (t->e[i].used)
			t->e[i].used = 0;
	t->n = 0;
	return 0;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L)
		ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

/* The flusher: swap the tables when the other one is empty, write the
 * full one outside the lock. */
static void *run(void *arg)
{
	struct lastseen *ls = arg;
	pthread_mutex_lock(&ls->mu);
	while (!ls->stop) {
		struct timespec until;
		deadline_in(&until, ls->interval_ms);
		/* the interval, or less when the table is half full; a failing
		 * store is retried once per interval, not in a loop */
		while (!ls->stop &&
		       (ls->failing || ls->t[ls->active].n < ASKUE_LASTSEEN_PENDING_MAX / 2) &&
		       pthread_cond_timedwait(&ls->cv, &ls->mu, &until) == 0)
			;
		int other = 1 - ls->active;
		if (ls->t[other].n == 0) {
			ls->active = other; /* the writer fills the empty one now */
			pthread_cond_broadcast(&ls->room);
		}
		struct table *full = &ls->t[1 - ls->active];
		uint64_t dropped = ls->dropped;
		ls->dropped = 0;
		pthread_mutex_unlock(&ls->mu);
		if (dropped)
			log_warnx("lastseen", "%llu updates dropped while the store was behind; they "
			          "come back with the meters' next readings", (unsigned long long)dropped);
		int rc = flush_table(ls, full);
		pthread_mutex_lock(&ls->mu);
		ls->failing = rc != 0;
		pthread_cond_broadcast(&ls->room);
	}
	pthread_mutex_unlock(&ls->mu);
	return NULL;
}

struct lastseen *lastseen_open(const char *path, int64_t interval_s)
{
	struct lastseen *ls = calloc(1, sizeof *ls);
	if (!ls)
		return NULL;
	snprintf(ls->path, sizeof ls->path, "%s", path);
	ls->interval_ms = interval_s * 1000;
	for (int i = 0; i < 2; i++) {
		ls->t[i].cap = ASKUE_LASTSEEN_PENDING_MAX + ASKUE_LASTSEEN_PENDING_MAX / 2;
		ls->t[i].e = calloc(ls->t[i].cap, sizeof *ls->t[i].e);
	}
	pthread_mutex_init(&ls->mu, NULL);
	pthread_cond_init(&ls->cv, NULL);
	pthread_cond_init(&ls->room, NULL);
	db_open(ls); /* before the thread: it owns the connection from then on */
	if (!ls->t[0].e || !ls->t[1].e || pthread_create(&ls->thread, NULL, run, ls) != 0) {
		lastseen_close(ls);
		return NULL;
	}
	ls->started = 1;
	return ls;
}

void lastseen_close(struct lastseen *ls)
{
	if (!ls)
		return;
	if (ls->started) {
		pthread_mutex_lock(&ls->mu);
		ls->stop = 1;
		pthread_cond_signal(&ls->cv);
		pthread_mutex_unlock(&ls->mu);
		pthread_join(ls->thread, NULL);
	}
	/* what is left, older table first (the values only move forward anyway) */
	flush_table(ls, &ls->t[1 - ls->active]);
	flush_table(ls, &ls->t[ls->active]);
	db_close(ls);
	pthread_mutex_destroy(&ls->mu);
	pthread_cond_destroy(&ls->cv);
	pthread_cond_destroy(&ls->room);
	free(ls->t[0].e);
	free(ls->t[1].e);
	free(ls);
}

void lastseen_note(struct lastseen *ls, const char *meter, int64_t ts, int64_t arrived)
{
	if (!ls)
		return;
	uint64_t h = hash(meter);
	pthread_mutex_lock(&ls->mu);
	for (;;) {
		struct table *t = &ls->t[ls->active];
		size_t i = (size_t)(h % t->cap);
		while (t->e[i].used && strcmp(t->e[i].meter, meter) != 0)
			i = (i + 1) % t->cap;
		struct entry *e = &t->e[i];
		if (e->used) {
			if (ts > e->ts)
				e->ts = ts, e->arrived = arrived;
			if (arrived > e->heard)
				e->heard = arrived;
			break;
		}
		if (t->n < ASKUE_LASTSEEN_PENDING_MAX) {
			snprintf(e->meter, sizeof e->meter, "%s", meter);
			e->used = 1;
			e->ts = ts, e->arrived = arrived, e->heard = arrived;
			if (++t->n == ASKUE_LASTSEEN_PENDING_MAX / 2)
				pthread_cond_signal(&ls->cv);
			break;
		}
		/* Both tables full. While the store works, wait for it (SQLite
		 * slower than InfluxDB holds the writer back a little); while it
		 * fails, drop: ingestion must not depend on it. */
		if (ls->failing || ls->stop) {
			ls->dropped++;
			break;
		}
		pthread_cond_signal(&ls->cv);
		pthread_cond_wait(&ls->room, &ls->mu);
	}
	pthread_mutex_unlock(&ls->mu);
}
