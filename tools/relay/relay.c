/* relay — the relay's loop (relay.h): one thread, one ledger connection,
 * one MQTT session.
 *
 * Each turn: connect if due; while the window has room, publish the next
 * event read from the journal (reading a batch of batch_max when the last
 * one is spent: at once while there is a backlog, every poll_ms once caught
 * up); run the network for a moment, which brings PUBACKs into the window;
 * write the cursor (acked_upto) when batch_max events were acknowledged
 * since the last write or cursor_interval_ms has passed. A lost connection
 * clears the window and the batch: publishing starts again after
 * acked_upto, so nothing the broker did not acknowledge is skipped (and
 * what it did acknowledge but the cursor had not yet recorded may go out
 * twice: at least once).
 *
 * Stop (SIGTERM/SIGINT): no new events; wait up to drain_timeout_s for the
 * PUBACKs of those in flight; write the cursor; DISCONNECT.
 * Once: the target is the newest event at start; done when it is
 * acknowledged and the cursor written.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "relay.h"

volatile sig_atomic_t relay_stop_requested, relay_hup_requested;

#define LOOP_MS_MAX 100          /* longest a turn waits: signals are seen this fast */
#define PROGRESS_LOG_MS 10000    /* a progress line at most this often, when moving */

struct relay {
	const struct askue_config *cfg;
	struct askue_ledger *l;
	const struct relay_opts *o;
	struct window w;
	struct outbox_batch b;
	struct session *s;
	int64_t upto;             /* INT64_MAX, or the --once target */
	int64_t saved;            /* the cursor as stored */
	int64_t saved_ms;         /* when it was last written (or tried) */
	int64_t next_read_ms;
	int64_t progress_ms, progress_id;
	uint64_t published;
	int read_failed, save_failed;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void save_cursor(struct relay *r, int64_t now)
{
	r->saved_ms = now;
	if (r->w.acked_upto <= r->saved)
		return;
	enum askue_err err = outbox_cursor_save(r->l, r->cfg->relay_reader, r->w.acked_upto);
	if (err) {
		if (!r->save_failed++)
			log_warnx("relay", "cursor not written (kept in memory, retried): %s",
			          askue_err_msg());
		else
			log_debug("relay", "cursor not written: %s", askue_err_msg());
		return;
	}
	if (r->save_failed)
		log_info("relay", "cursor written again after %d tries", r->save_failed);
	r->save_failed = 0;
	log_debug("relay", "cursor %s = %lld", r->cfg->relay_reader, (long long)r->w.acked_upto);
	r->saved = r->w.acked_upto;
}

static void maybe_save(struct relay *r, int64_t now)
{
	int64_t ahead = r->w.acked_upto - r->saved; /* ids: an upper bound of the events */
	if (ahead <= 0)
		return;
	if (ahead >= r->cfg->relay_batch_max || now - r->saved_ms >= r->cfg->relay_cursor_interval_ms)
		save_cursor(r, now);
}

/* Refill the batch from the journal when it is spent and a read is due. */
static void refill(struct relay *r, int64_t now)
{
	if (r->b.next < r->b.n || now < r->next_read_ms || r->w.last_id >= r->upto)
		return;
	enum askue_err err = outbox_read(r->l, r->w.last_id, r->upto, &r->b);
	if (err) {
		if (!r->read_failed++)
			log_warnx("relay", "journal not read (retried every poll): %s", askue_err_msg());
		r->next_read_ms = now + r->cfg->relay_poll_ms;
		return;
	}
	if (r->read_failed)
		log_info("relay", "journal readable again");
	r->read_failed = 0;
	/* A full batch means a backlog: read again as soon as it is spent. */
	r->next_read_ms = r->b.n == r->b.cap ? now : now + r->cfg->relay_poll_ms;
}

/* Publish from the batch while the window has room. */
static void publish_some(struct relay *r, int64_t now)
{
	while (session_ready(r->s) && !window_full(&r->w)) {
		refill(r, now);
		if (r->b.next >= r->b.n)
			return;
		const struct relay_msg *m = &r->b.msgs[r->b.next];
		int mid;
		enum askue_err err = session_publish(r->s, m, &mid);
		if (err == ASKUE_ERR_LIMIT) { /* outbox_message_shrink logs it */
			if (!outbox_message_shrink(&r->b.msgs[r->b.next]))
				err = session_publish(r->s, m, &mid);
		}
		if (err) {
			/* Not even the short form fits: retried after the backoff. */
			log_warnx("relay", "%s", askue_err_msg());
			if (err == ASKUE_ERR_LIMIT)
				session_abort(r->s);
			return;
		}
		window_push(&r->w, m->id, mid);
		r->b.next++;
		r->published++;
	}
}

static void progress(struct relay *r, int64_t now)
{
	if (now - r->progress_ms < PROGRESS_LOG_MS || r->w.acked_upto == r->progress_id)
		return;
	log_info("relay", "%llu published since start; acknowledged up to event %lld",
	         (unsigned long long)r->published, (long long)r->w.acked_upto);
	r->progress_ms = now;
	r->progress_id = r->w.acked_upto;
}

static void on_lost(struct relay *r)
{
	if (r->w.count)
		log_info("relay", "%zu events in flight were not acknowledged: publishing again "
		         "after event %lld", r->w.count, (long long)r->w.acked_upto);
	window_clear(&r->w);
	outbox_batch_clear(&r->b);
	r->next_read_ms = 0;
}

/* Stop asked: wait for what is in flight, at most drain_timeout_s. */
static void drain(struct relay *r)
{
	int64_t deadline = mono_ms() + r->cfg->relay_drain_timeout_s * 1000;
	while (r->w.count && session_ready(r->s) && mono_ms() < deadline) {
		session_loop(r->s, LOOP_MS_MAX);
		if (session_take_lost(r->s))
			break;
	}
	if (r->w.count)
		log_warnx("relay", "stopping with %zu events not acknowledged: they are published "
		          "again at the next start", r->w.count);
}

static int done(struct relay *r)
{
	return r->o->once && r->w.acked_upto >= r->upto;
}

static enum askue_err loop(struct relay *r)
{
	int64_t deadline = r->o->once ? mono_ms() + r->o->timeout_ms : INT64_MAX;
	while (!relay_stop_requested && !done(r)) {
		int64_t now = mono_ms();
		if (now >= deadline)
			return askue_err_set(ASKUE_ERR_BUSY, "--once: %lld ms passed with events up to "
			                     "%lld acknowledged of %lld", (long long)r->o->timeout_ms,
			                     (long long)r->w.acked_upto, (long long)r->upto);
		if (relay_hup_requested) {
			relay_hup_requested = 0;
			if (r->cfg->relay_log_file[0] && askue_log_reopen(r->cfg->relay_log_file) != 0)
				log_warn("relay", "cannot reopen %s", r->cfg->relay_log_file);
			else
				log_info("relay", "SIGHUP: log reopened");
		}
		session_tick(r->s, now);
		publish_some(r, now);
		/* Do not wait when more can be sent at once. */
		int more = session_ready(r->s) && !window_full(&r->w) &&
		           (r->b.next < r->b.n || (r->next_read_ms <= now && r->w.last_id < r->upto));
		session_loop(r->s, more ? 0 : LOOP_MS_MAX);
		if (session_take_lost(r->s))
			on_lost(r);
		now = mono_ms();
		maybe_save(r, now);
		progress(r, now);
	}
	return ASKUE_OK;
}

enum askue_err relay_run(const struct askue_config *cfg, struct askue_ledger *l,
                         const struct relay_opts *o)
{
	struct relay r = {.cfg = cfg, .l = l, .o = o, .upto = INT64_MAX};
	int64_t cursor = 0, last = 0;
	enum askue_err err = outbox_cursor_load(l, cfg->relay_reader, &cursor);
	if (!err)
		err = outbox_last_id(l, &last);
	if (err)
		return err;
	if (cursor > last)
		log_warnx("relay", "cursor %s = %lld is past the newest event %lld: was the ledger "
		          "restored without its cursor? Events up to %lld will not be published",
		          cfg->relay_reader, (long long)cursor, (long long)last, (long long)cursor);
	if (o->once) {
		r.upto = last;
		if (last <= cursor) {
			log_info("relay", "--once: nothing pending (cursor %lld)", (long long)cursor);
			return ASKUE_OK;
		}
	}
	log_info("relay", "reader %s: cursor %lld, newest event %lld (%lld pending)",
	         cfg->relay_reader, (long long)cursor, (long long)last,
	         (long long)(last > cursor ? last - cursor : 0));
	r.saved = r.progress_id = cursor;
	r.saved_ms = r.progress_ms = mono_ms();
	if ((err = window_init(&r.w, (size_t)cfg->relay_inflight_max, cursor)) ||
	    (err = outbox_batch_init(&r.b, (size_t)cfg->relay_batch_max)) ||
	    (err = session_new(cfg, &r.w, &r.s)))
		goto out;
	err = loop(&r);
	if (relay_stop_requested)
		drain(&r);
	save_cursor(&r, mono_ms());
	session_close(r.s);
	log_info("relay", "stopped: %llu published; cursor %s = %lld", (unsigned long long)r.published,
	         cfg->relay_reader, (long long)r.saved);
	if (!err && r.saved < r.w.acked_upto)
		err = askue_err_set(ASKUE_ERR_BUSY, "the cursor could not be written");
out:
	session_free(r.s);
	outbox_batch_free(&r.b);
	window_free(&r.w);
	return err;
}
