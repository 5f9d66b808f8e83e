/* reloader — see reloader.h. */
#include "reloader.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How long a build waits for the ledger's locks (WAL readers rarely wait). */
#define LEDGER_BUSY_MS 5000
#define MSG_BYTES 512

struct reloader {
	char *path;
	int reload_s;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	int stop, force;
	struct auth_table *pending;
	struct auth_revoked revoked; /* since the table the broker has */
	char msg[MSG_BYTES];
	/* the thread's own (and reloader_start's, before the thread runs) */
	sqlite3 *db;
	dev_t dev;
	ino_t ino;
	int64_t version; /* data_version the current table was built at; -1 none */
	int failing;     /* the last attempt failed: report only changes */
	struct auth_table *last; /* a reference to the newest table built */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_db(struct reloader *r)
{
	sqlite3_close(r->db);
	r->db = NULL;
	r->version = -1;
}

/* Open the ledger read-only if it is not open, or reopen it when the file
 * at path is another one now. 0 ok, else a message in msg. */
static int ensure_open(struct reloader *r, char *msg, size_t size)
{
	struct stat sb;
	if (stat(r->path, &sb) != 0) {
		snprintf(msg, size, "ledger %s: cannot stat it (not created yet?)", r->path);
		return -1;
	}
	if (r->db && (sb.st_dev != r->dev || sb.st_ino != r->ino))
		close_db(r); /* replaced (a restore): read the new file */
	if (r->db)
		return 0;
	int rc = sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(msg, size, "ledger %s: cannot open it read-only: %s", r->path,
		         r->db ? sqlite3_errmsg(r->db) : "out of memory");
		close_db(r);
		return -1;
	}
	sqlite3_busy_timeout(r->db, LEDGER_BUSY_MS);
	r->dev = sb.st_dev;
	r->ino = sb.st_ino;
	r->version = -1;
	return 0;
}

static int64_t data_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

/* A new table when the ledger changed (or force), else NULL; msg says what
 * happened when there is news. */
static struct auth_table *check(struct reloader *r, int force, char *msg, size_t size)
{
	msg[0] = '\0';
	char why[MSG_BYTES - 128] = "";
	if (ensure_open(r, why, sizeof why)) {
		if (!r->failing)
			snprintf(msg, size, "%s; keeping the credentials loaded before", why);
		r->failing = 1;
		return NULL;
	}
	int64_t v = data_version(r->db);
	if (v < 0) {
		if (!r->failing)
			snprintf(msg, size, "ledger %s: cannot read it (%s); keeping the credentials "
			         "loaded before", r->path, sqlite3_errmsg(r->db));
		r->failing = 1;
		close_db(r);
		return NULL;
	}
	if (!force && v == r->version)
		return NULL;
	int64_t t0 = now_ms();
	struct auth_table *t = NULL;
	int rc = auth_table_load(r->db, &t, why, sizeof why);
	if (rc) {
		if (!r->failing)
			snprintf(msg, size, "ledger %s: reading credentials failed (%s); keeping those "
			         "loaded before", r->path, why);
		r->failing = 1;
		close_db(r); /* start afresh next time */
		return NULL;
	}
	r->failing = 0;
	r->version = v;
	struct auth_counts c = auth_table_counts(t);
	char extra[128] = "";
	if (c.conflicts || c.bad_rows)
		snprintf(extra, sizeof extra, "; refused: %lld usernames used twice, %lld damaged rows",
		         (long long)c.conflicts, (long long)c.bad_rows);
	snprintf(msg, size, "loaded %lld meters, %lld concentrators, %lld service accounts from %s "
	         "in %lld ms%s%s%s",
	         (long long)c.meters, (long long)c.concentrators, (long long)c.services, r->path,
	         (long long)(now_ms() - t0), extra, why[0] ? "; " : "", why);
	return t;
}

static void *run(void *arg)
{
	struct reloader *r = arg;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += r->reload_s;
		while (!r->stop && !r->force)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0)
				break; /* the interval is over */
		if (r->stop)
			break;
		int force = r->force;
		r->force = 0;
		pthread_mutex_unlock(&r->mu);
		char msg[MSG_BYTES];
		struct auth_table *t = check(r, force, msg, sizeof msg);
		struct auth_revoked revoked = {0};
		if (t && auth_table_revoked(r->last, t, &revoked)) {
			auth_table_free(t); /* out of memory: build again next time */
			t = NULL;
			r->version = -1;
		}
		if (t) {
			auth_table_free(r->last);
			r->last = auth_table_retain(t);
		}
		pthread_mutex_lock(&r->mu);
		if (t) {
			auth_table_free(r->pending); /* never taken: this one is newer */
			r->pending = t;
			if (auth_revoked_merge(&r->revoked, &revoked))
				r->revoked.cut = 1;
		}
		auth_revoked_clear(&revoked);
		if (msg[0])
			snprintf(r->msg, sizeof r->msg, "%s", msg);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int reloader_start(const char *ledger_path, int reload_s, struct auth_table **first, char *msg,
                   size_t msg_size, struct reloader **out)
{
	struct reloader *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(ledger_path))) {
		free(r);
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	r->reload_s = reload_s;
	r->version = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	struct auth_table *t = check(r, 1, msg, msg_size);
	if (!t && !(t = auth_table_new_empty())) {
		reloader_stop(r);
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	r->last = auth_table_retain(t);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		auth_table_free(t);
		reloader_stop(r);
		snprintf(msg, msg_size, "cannot start the reload thread");
		return -1;
	}
	r->started = 1;
	*first = t;
	*out = r;
	return 0;
}

struct auth_table *reloader_take(struct reloader *r, char *msg, size_t msg_size,
                                 struct auth_revoked *revoked)
{
	struct auth_table *t = NULL;
	if (msg_size)
		msg[0] = '\0';
	memset(revoked, 0, sizeof *revoked);
	if (!r || pthread_mutex_trylock(&r->mu) != 0)
		return NULL; /* the thread is handing over: next tick */
	t = r->pending;
	r->pending = NULL;
	if (t) {
		*revoked = r->revoked;
		memset(&r->revoked, 0, sizeof r->revoked);
	}
	if (r->msg[0]) {
		snprintf(msg, msg_size, "%s", r->msg);
		r->msg[0] = '\0';
	}
	pthread_mutex_unlock(&r->mu);
	return t;
}

void reloader_force(struct reloader *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->force = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void reloader_stop(struct reloader *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	auth_table_free(r->pending);
	auth_table_free(r->last);
	auth_revoked_clear(&r->revoked);
	close_db(r);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->path);
	free(r);
}
