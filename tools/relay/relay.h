/* relay — the modules of askue-relay, the transactional outbox of the event
 * journal: every committed event goes to MQTT askue/events/{type}, at least
 * once, in id order (docs/events.md).
 *
 *   window.c   the in-flight window: events published and not yet
 *              acknowledged, in id order; the highest id up to which every
 *              event is acknowledged (pure, no I/O)
 *   outbox.c   the ledger side: the reader's cursor (outbox_cursor), short
 *              reads of the next events, the message of an event
 *   session.c  the MQTT 5 session (libmosquitto, one thread, no network
 *              thread): connect with capped backoff, publish QoS 1, PUBACKs
 *              into the window
 *   relay.c    the loop that joins them: read, publish, acknowledge, write
 *              the cursor in small batches; --once; the drain on stop
 *   main.c     options, config, the lock, signals
 *
 * Invariant: the cursor stored in the ledger never passes an event the
 * broker has not acknowledged (PUBACK with a success code), so whatever
 * happens to the process, the next start publishes every event after it.
 */
#ifndef ASKUE_RELAY_H
#define ASKUE_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "ledger.h"

/* ---- window ---- */
struct window_slot {
	int64_t id;
	int mid;
	int acked;
};
struct window {
	struct window_slot *slots;
	size_t cap, head, count;
	int64_t last_id;    /* the newest id pushed (acked_upto when empty) */
	int64_t acked_upto; /* every event with an id up to this is acknowledged */
};
/* cap slots; acked_upto: the cursor the relay starts from. */
ASKUE_MUST enum askue_err window_init(struct window *w, size_t cap, int64_t acked_upto);
void window_free(struct window *w);
int window_full(const struct window *w);
/* Record a published event: ids strictly increase, the window is not full. */
void window_push(struct window *w, int64_t id, int mid);
/* The broker acknowledged mid: 1 when it was in the window, 0 otherwise.
 * Moves acked_upto over every acknowledged event at the head. */
int window_ack(struct window *w, int mid);
/* The connection is gone: forget what was in flight (it is published
 * again from acked_upto). */
void window_clear(struct window *w);

/* ---- outbox ---- */
/* One event ready to publish. The outbox owns topic and payload. */
struct relay_msg {
	int64_t id;
	char topic[96];
	char *payload;
	size_t len;
};
struct relay_event {
	int64_t id;
	const char *type;
	int64_t time; /* UTC seconds */
	const char *subject;
	const char *operator_name;
	const char *details; /* JSON text, valid as the ledger's CHECK says */
};
/* The message of an event: topic askue/events/{type} (a type with
 * characters a topic level cannot hold has them replaced by '_'), payload
 * {"id","type","time","ts","subject","operator","details"}; time is ISO
 * 8601 UTC, ts the same instant in Unix seconds. Details over
 * ASKUE_EVENT_DETAILS_BYTES_MAX are left out: "details": {} and
 * "details_omitted": true. The caller frees msg->payload. */
ASKUE_MUST enum askue_err outbox_message(const struct relay_event *ev, struct relay_msg *msg);

/* The same message with its details left out ("details": {},
 * "details_omitted": true), for a broker whose packets are smaller than the
 * message; replaces msg->payload. */
ASKUE_MUST enum askue_err outbox_message_shrink(struct relay_msg *msg);

/* 1..63 of [A-Za-z0-9._-]. */
ASKUE_MUST enum askue_err outbox_reader_check(const char *reader);
/* The reader's cursor: the last event id the broker acknowledged (0: none). */
ASKUE_MUST enum askue_err outbox_cursor_load(struct askue_ledger *l, const char *reader,
                                             int64_t *out);
/* Store the cursor in one small write transaction; it never moves back. */
ASKUE_MUST enum askue_err outbox_cursor_save(struct askue_ledger *l, const char *reader,
                                             int64_t id);
/* The newest event id (0 when the journal is empty). */
ASKUE_MUST enum askue_err outbox_last_id(struct askue_ledger *l, int64_t *out);

/* Events read and waiting to be published, in id order. */
struct outbox_batch {
	struct relay_msg *msgs;
	size_t cap, n, next; /* next: the first not yet published */
	size_t bytes;
};
ASKUE_MUST enum askue_err outbox_batch_init(struct outbox_batch *b, size_t cap);
void outbox_batch_clear(struct outbox_batch *b);
void outbox_batch_free(struct outbox_batch *b);
/* Read (one statement, so one short read transaction) the events with
 * after < id <= upto, at most b->cap of them and about
 * ASKUE_RELAY_PENDING_BYTES_MAX bytes, into the empty batch b. */
ASKUE_MUST enum askue_err outbox_read(struct askue_ledger *l, int64_t after, int64_t upto,
                                      struct outbox_batch *b);

/* ---- session ---- */
struct session;
/* The window receives the PUBACKs; the caller keeps cfg and w. */
ASKUE_MUST enum askue_err session_new(const struct askue_config *cfg, struct window *w,
                                      struct session **out);
void session_free(struct session *s); /* NULL is a no-op */
/* Connect when not connected and the backoff has passed. */
void session_tick(struct session *s, int64_t now_ms);
/* 1 when the broker accepted the connection (CONNACK success). */
int session_ready(const struct session *s);
/* 1 once after the connection was lost (what was in flight is not acknowledged). */
int session_take_lost(struct session *s);
/* Publish QoS 1; *mid identifies the PUBACK. ASKUE_ERR_LIMIT: larger than
 * the broker takes (still connected); ASKUE_ERR_IO: the connection is lost. */
ASKUE_MUST enum askue_err session_publish(struct session *s, const struct relay_msg *m, int *mid);
/* Network I/O for at most timeout_ms (sleeps when not connected). */
void session_loop(struct session *s, int timeout_ms);
/* Drop the connection now (what is in flight is published again after the
 * backoff). */
void session_abort(struct session *s);
/* Send DISCONNECT and close. */
void session_close(struct session *s);

/* ---- relay ---- */
struct relay_opts {
	int once;            /* publish what is pending at start, wait for acks, return */
	int64_t timeout_ms;  /* --once: give up after this */
};
/* Signals seen (set by main's handlers). */
extern volatile sig_atomic_t relay_stop_requested, relay_hup_requested;
/* Run until stopped (or, with once, done). ASKUE_ERR_BUSY: --once ran out
 * of time before every event was acknowledged. */
ASKUE_MUST enum askue_err relay_run(const struct askue_config *cfg, struct askue_ledger *l,
                                    const struct relay_opts *o);

#endif
