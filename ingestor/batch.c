/* batch — the writer thread: spool -> batches -> InfluxDB /write.
 *
 * A batch closes when it holds batch_points_max points (whole records: a
 * record is never split, so one message's readings may take a batch past
 * the figure), when its first record has waited batch_ms, or when no new
 * record came for BATCH_IDLE_MS (the stream ended or paused). It is written
 * with askue_influx_write_split: points InfluxDB refuses are found by
 * halving and quarantined to the rejects (reason influx_refused), never
 * allowed to block or drop the rest. While InfluxDB cannot be reached the
 * same batch is retried with a doubling delay capped at
 * ASKUE_RETRY_DELAY_MS_MAX; the spool fills meanwhile, and when it is full
 * intake pauses. Only after a batch is stored does the spool cursor move
 * and the meters' last-seen times change (written by lastseen's own
 * thread). The health point is written from here too, between batches.
 *
 * Batches are pipelined: this thread fills them into WRITER_SLOTS slots in
 * spool order and WRITER_SENDERS sender threads, each with its own
 * connection, write them, so the next batch is built while one is in
 * flight and InfluxDB gets two at once (one connection keeps it on one
 * core). The cursor still moves in spool order: a batch is committed only
 * when it and every batch filled before it are stored; one given up at a
 * stop keeps itself and every later one in the spool.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "influx.h"
#include "ingestor.h"
#include "lineproto.h"
#include "log.h"

/* A batch that has points is written once nothing new came for this long:
 * the end of a stream (or a pause in it) does not wait batch_ms. While
 * messages keep coming, batches still close at batch_points_max or
 * batch_ms; a trickle makes at most 1000 / BATCH_IDLE_MS requests a second. */
#define BATCH_IDLE_MS 20
/* batches written at once (each sender its own connection), and slots:
 * one more, so the next batch fills while WRITER_SENDERS are in flight */
#define WRITER_SENDERS 2
#define WRITER_SLOTS (WRITER_SENDERS + 1)

struct meta {
	char meter[ASKUE_SERIAL_BYTES_MAX + 1];
	int64_t ts_max, arrived;
};

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_SENDING, SLOT_STORED, SLOT_GAVE_UP };

struct batch {
	char *buf;
	size_t len, points;
	struct meta *metas;
	size_t n_metas;
	struct spool_pos after; /* position after the batch's last record */
	enum slot_state state;  /* under writer.mu */
};

struct sender {
	struct writer *w;
	struct askue_influx *ix;
	pthread_t thread;
	int started;
};

struct writer {
	const struct askue_config *cfg;
	struct spool *sp;
	struct rejects *rj;
	struct health *h;
	struct askue_influx *ix;
	struct lastseen *ls;
	pthread_t thread;
	_Atomic int stopping;
	_Atomic int64_t deadline_ms; /* when stopping: give up writing then */
	char host[128];
	/* the record being placed */
	char *recbuf;        /* one record, ASKUE_SPOOL_RECORD_BYTES_MAX */
	int held;            /* recbuf holds a record the last batch had no room for */
	struct spool_rec rec;
	struct spool_pos rec_after;
	/* the pipeline: batch number n lives in slots[n % WRITER_SLOTS];
	 * committed <= sent <= filled */
	struct batch slots[WRITER_SLOTS];
	size_t cap, metas_cap;
	uint64_t filled, sent, committed;
	int quit; /* senders: no more batches */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sender senders[WRITER_SENDERS];
	_Atomic int db_ok;
	int64_t next_health_ms;
};

int64_t ingestor_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_refused(const char *line, size_t len, const char *error, void *ctx)
{
	struct writer *w = ctx;
	atomic_fetch_add(&w->h->quarantined, 1);
	health_reject(w->h, ASKUE_REASON_INFLUX_REFUSED, 0);
	log_warnx("writer", "InfluxDB refused a point; quarantined to the rejects: %.200s", error);
	rejects_write(w->rj, (int64_t)time(NULL), ASKUE_REASON_INFLUX_REFUSED, "influx", -1,
	              line, len, error);
}

static int stop_now(struct writer *w)
{
	return atomic_load(&w->stopping) && ingestor_now_ms() >= atomic_load(&w->deadline_ms);
}

/* Sleep ms in small steps, waking early when the stop deadline passes. */
static void nap(struct writer *w, int64_t ms)
{
	int64_t until = ingestor_now_ms() + ms;
	while (!stop_now(w) && ingestor_now_ms() < until)
		usleep(20000);
}

static void periodic(struct writer *w, int force)
{
	int64_t now = ingestor_now_ms();
	if (force || now >= w->next_health_ms) {
		w->next_health_ms = now + w->cfg->ingestor_health_interval_s * 1000;
		struct spool_stats st;
		spool_stats(w->sp, &st);
		char line[4096];
		struct askue_linebuf lb = {line, 0, sizeof line};
		if (health_report(w->h, &st, w->cfg->ingestor_client_id, w->host, (int64_t)time(NULL),
		                  now, &lb) == ASKUE_OK &&
		    askue_influx_write(w->ix, lb.buf, lb.len, NULL) != ASKUE_OK)
			log_debug("writer", "health point not written: %s", askue_err_msg());
	}
}

static int add_record(struct writer *w, struct batch *b)
{
	if (b->len + w->rec.len > w->cap || b->n_metas == w->metas_cap)
		return 0;
	memcpy(b->buf + b->len, w->rec.lines, w->rec.len);
	b->len += w->rec.len;
	b->points += w->rec.points;
	struct meta *m = &b->metas[b->n_metas++];
	snprintf(m->meter, sizeof m->meter, "%s", w->rec.meter);
	m->ts_max = w->rec.ts_max;
	m->arrived = w->rec.arrived;
	b->after = w->rec_after;
	return 1;
}

static void commit_stored(struct writer *w);

/* Fill batch b; returns 1 when it holds something to write. */
static int fill(struct writer *w, struct batch *b)
{
	b->len = b->points = b->n_metas = 0;
	int64_t first_ms = 0;
	for (;;) {
		if (w->held) {
			if (!add_record(w, b))
				return 1; /* no room: goes first into the next batch */
			w->held = 0;
			if (!first_ms)
				first_ms = ingestor_now_ms();
			if (b->points >= (size_t)w->cfg->ingestor_batch_points_max)
				return 1;
		}
		int64_t wait = 200;
		if (first_ms) {
			wait = first_ms + w->cfg->ingestor_batch_ms - ingestor_now_ms();
			if (wait <= 0)
				return 1;
			if (wait > BATCH_IDLE_MS)
				wait = BATCH_IDLE_MS;
		}
		if (atomic_load(&w->stopping) && spool_caught_up(w->sp))
			return b->len > 0;
		if (spool_next(w->sp, w->recbuf, &w->rec, &w->rec_after, (int)wait) == ASKUE_OK) {
			w->held = 1;
			continue;
		}
		if (first_ms)
			return 1; /* the stream paused: no reason to wait for more */
		commit_stored(w); /* batches stored while the spool is quiet */
		periodic(w, 0);
		if (atomic_load(&w->stopping))
			return 0;
	}
}

/* Write b over ix until stored (1) or a stop gives up (0). Runs in a
 * sender thread: touches only b, ix and thread-safe things. */
static int write_batch(struct writer *w, struct askue_influx *ix, struct batch *b)
{
	int64_t delay = 100, start = ingestor_now_ms();
	int failing = 0;
	for (;;) {
		/* once InfluxDB answers, whatever it says (a user without admin
		 * rights gets a refusal: the database is then the operator's) */
		if (!atomic_load(&w->db_ok) && askue_influx_create_database(ix) != ASKUE_ERR_IO)
			atomic_store(&w->db_ok, 1);
		size_t requests = 0;
		enum askue_err err = askue_influx_write_split(ix, b->buf, b->len, on_refused, w,
		                                              &requests);
		if (!err)
			break;
		atomic_fetch_add(&w->h->write_retries, 1);
		if (!failing++)
			log_warnx("writer", "%s; retrying (the spool keeps the points)", askue_err_msg());
		if (stop_now(w)) {
			log_warnx("writer", "stopping with %zu points unwritten: they stay in the spool "
			          "for the next start", b->points);
			return 0;
		}
		nap(w, delay);
		delay = delay * 2 > ASKUE_RETRY_DELAY_MS_MAX ? ASKUE_RETRY_DELAY_MS_MAX : delay * 2;
	}
	if (failing)
		log_info("writer", "InfluxDB takes writes again after %d retries", failing);
	health_batch(w->h, b->points, (uint64_t)(ingestor_now_ms() - start));
	return 1;
}

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	struct writer *w = s->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->quit && w->sent == w->filled)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->sent == w->filled)
			break; /* quit, nothing left */
		struct batch *b = &w->slots[w->sent++ % WRITER_SLOTS];
		b->state = SLOT_SENDING;
		pthread_mutex_unlock(&w->mu);
		int stored = write_batch(w, s->ix, b);
		pthread_mutex_lock(&w->mu);
		b->state = stored ? SLOT_STORED : SLOT_GAVE_UP;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Commit, in spool order, the oldest batches that are stored: the cursor
 * moves past them and their meters' last-seen times are noted. Stops at
 * the first batch not stored (in flight, or given up). Writer thread. */
static void commit_stored(struct writer *w)
{
	for (;;) {
		pthread_mutex_lock(&w->mu);
		struct batch *b = &w->slots[w->committed % WRITER_SLOTS];
		int ready = w->committed < w->filled && b->state == SLOT_STORED;
		pthread_mutex_unlock(&w->mu);
		if (!ready)
			return;
		if (spool_commit(w->sp, &b->after) != ASKUE_OK)
			log_warnx("writer", "%s", askue_err_msg());
		for (size_t i = 0; i < b->n_metas; i++)
			lastseen_note(w->ls, b->metas[i].meter, b->metas[i].ts_max, b->metas[i].arrived);
		pthread_mutex_lock(&w->mu);
		b->state = SLOT_FREE;
		w->committed++;
		pthread_mutex_unlock(&w->mu);
	}
}

/* Wait until a slot is free (all: every batch filled is stored or given
 * up), committing what is stored meanwhile. Without all it also returns
 * when the stop deadline has passed, a slot free or not. */
static void wait_slots(struct writer *w, int all)
{
	for (;;) {
		commit_stored(w);
		pthread_mutex_lock(&w->mu);
		int done;
		if (all) {
			done = w->sent == w->filled;
			for (uint64_t n = w->committed; done && n < w->filled; n++)
				done = w->slots[n % WRITER_SLOTS].state >= SLOT_STORED;
		} else {
			/* or a stop that gives up: a slot given up is never freed */
			done = w->filled - w->committed < WRITER_SLOTS || stop_now(w);
		}
		if (!done) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 200 * 1000000L;
			if (until.tv_nsec >= 1000000000L)
				until.tv_sec++, until.tv_nsec -= 1000000000L;
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
		}
		pthread_mutex_unlock(&w->mu);
		if (done)
			return;
		periodic(w, 0);
	}
}

static void *run(void *arg)
{
	struct writer *w = arg;
	for (;;) {
		wait_slots(w, 0);
		if (w->filled - w->committed >= WRITER_SLOTS)
			break; /* the stop deadline passed with every slot taken */
		struct batch *b = &w->slots[w->filled % WRITER_SLOTS];
		if (fill(w, b)) {
			pthread_mutex_lock(&w->mu);
			b->state = SLOT_READY;
			w->filled++;
			pthread_cond_broadcast(&w->cv);
			pthread_mutex_unlock(&w->mu);
		}
		commit_stored(w);
		periodic(w, 0);
		if (atomic_load(&w->stopping) && (stop_now(w) || (!w->held && spool_caught_up(w->sp))))
			break;
	}
	wait_slots(w, 1);
	commit_stored(w);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	periodic(w, 1);
	return NULL;
}

/* Stop and join the senders (the writer thread has set quit, or never ran). */
static void senders_join(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < WRITER_SENDERS; i++)
		if (w->senders[i].started)
			pthread_join(w->senders[i].thread, NULL);
}

static void writer_free(struct writer *w)
{
	senders_join(w);
	for (int i = 0; i < WRITER_SENDERS; i++)
		askue_influx_close(w->senders[i].ix);
	askue_influx_close(w->ix);
	lastseen_close(w->ls);
	free(w->recbuf);
	for (int i = 0; i < WRITER_SLOTS; i++) {
		free(w->slots[i].buf);
		free(w->slots[i].metas);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Buffers, connections and threads of the pipeline. */
static enum askue_err pipeline_open(struct writer *w)
{
	for (int i = 0; i < WRITER_SLOTS; i++) {
		w->slots[i].buf = malloc(w->cap);
		w->slots[i].metas = calloc(w->metas_cap, sizeof *w->slots[i].metas);
		if (!w->slots[i].buf || !w->slots[i].metas)
			return askue_err_set(ASKUE_ERR_NOMEM, "writer: out of memory");
	}
	for (int i = 0; i < WRITER_SENDERS; i++) {
		struct sender *s = &w->senders[i];
		s->w = w;
		enum askue_err err = askue_influx_open(w->cfg, &s->ix);
		if (err)
			return err;
		if (pthread_create(&s->thread, NULL, send_loop, s) != 0)
			return askue_err_set(ASKUE_ERR_NOMEM, "writer: cannot start a sender thread");
		s->started = 1;
	}
	return ASKUE_OK;
}

enum askue_err writer_start(const struct askue_config *cfg, struct spool *sp,
                            struct rejects *rj, struct health *h, struct writer **out)
{
	struct writer *w = calloc(1, sizeof *w);
	if (!w)
		return askue_err_set(ASKUE_ERR_NOMEM, "writer: out of memory");
	w->cfg = cfg, w->sp = sp, w->rj = rj, w->h = h;
	size_t pmax = (size_t)cfg->ingestor_batch_points_max;
	w->cap = pmax * 256 + ASKUE_SPOOL_RECORD_BYTES_MAX;
	w->metas_cap = pmax + 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->recbuf = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	enum askue_err err = askue_influx_open(cfg, &w->ix);
	if (!err && !w->recbuf)
		err = askue_err_set(ASKUE_ERR_NOMEM, "writer: out of memory");
	if (!err)
		err = pipeline_open(w);
	if (err) {
		writer_free(w);
		return err;
	}
	w->ls = lastseen_open(cfg->ingestor_lastseen_path, cfg->ingestor_lastseen_interval_s);
	if (!w->ls)
		log_warnx("writer", "no memory or thread for last-seen times: not kept");
	if (gethostname(w->host, sizeof w->host) != 0)
		snprintf(w->host, sizeof w->host, "unknown");
	w->next_health_ms = ingestor_now_ms() + cfg->ingestor_health_interval_s * 1000;
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		writer_free(w);
		return askue_err_set(ASKUE_ERR_NOMEM, "writer: cannot start the thread");
	}
	*out = w;
	return ASKUE_OK;
}

void writer_stop(struct writer *w, int64_t deadline_s)
{
	if (!w)
		return;
	atomic_store(&w->deadline_ms, ingestor_now_ms() + deadline_s * 1000);
	atomic_store(&w->stopping, 1);
	pthread_join(w->thread, NULL);
	struct spool_stats st;
	spool_stats(w->sp, &st);
	if (st.pending_bytes)
		log_warnx("writer", "stopped with %" PRIu64 " bytes still in the spool (written at "
		          "the next start)", st.pending_bytes);
	else
		log_info("writer", "stopped: the spool is empty");
	writer_free(w);
}
