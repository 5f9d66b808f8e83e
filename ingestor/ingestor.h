/* ingestor — the modules of askue-ingestor, the MQTT -> InfluxDB daemon.
 *
 *   mqtt.c      libmosquitto (MQTT 5), N sessions driven in rounds by one
 *               thread: read every message there is (validate, reject or
 *               write to the spool), one fdatasync, then the PUBACKs
 *   spool.c     the durable, bounded on-disk queue between the two threads
 *   batch.c     the writer thread: spool -> batches, two sender threads
 *               -> InfluxDB /write (two in flight), retry with backoff,
 *               quarantine of refused points, cursor moved in spool order
 *   rejects.c   refused messages, readings and points, in files by day
 *   health.c    counters; the `ingest` measurement and the health log line
 *   lastseen.c  per meter: newest reading's time and arrival (SQLite)
 *   main.c      config, signals, start and orderly stop
 * See docs/ingestor.md.
 */
#ifndef ASKUE_INGESTOR_H
#define ASKUE_INGESTOR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "payload.h"

/* ---- spool ---- */
struct spool;

/* One record as the reader hands it out; pointers into the caller's buffer. */
struct spool_rec {
	const char *meter;
	int64_t ts_max, arrived;
	const char *lines;
	size_t len;
	uint32_t points;
};
/* A reader position: everything before it may be forgotten. */
struct spool_pos {
	uint64_t seg, off;
};
struct spool_stats {
	uint64_t disk_bytes;    /* all segment files */
	uint64_t pending_bytes; /* not yet committed as written */
	uint64_t appended_records;
	uint64_t full_waits;    /* times an append had to wait for room */
};

/* Open (creating) the spool in dir: finds the cursor, cuts a torn tail
 * record off the last segment, starts a new segment for appends. */
ASKUE_MUST enum askue_err spool_open(const char *dir, uint64_t bytes_max, int fsync_each,
                                     struct spool **out);
void spool_close(struct spool *sp);
/* Append one message's lines; durable (written, and fdatasync'ed when
 * fsync_each) when it returns ASKUE_OK. Waits while the spool is full.
 * ASKUE_ERR_BUSY: spool_cancel_waits was called while waiting (nothing
 * written); ASKUE_ERR_IO: the disk said no (nothing acknowledged). */
ASKUE_MUST enum askue_err spool_append(struct spool *sp, const char *meter, int64_t ts_max,
                                       int64_t arrived, const char *lines, size_t len,
                                       uint32_t points);
/* spool_append in two steps, so that one write and one fdatasync cover
 * many records: spool_write takes the record into the spool's buffer
 * (nothing is promised yet; waits while the spool is full; errors as
 * spool_append; a failed write may lose earlier records of the buffer too)
 * and gives its ticket; spool_sync returns ASKUE_OK when every record up
 * to that ticket is in the file and, when fsync_each, fdatasync'ed. */
ASKUE_MUST enum askue_err spool_write(struct spool *sp, const char *meter, int64_t ts_max,
                                      int64_t arrived, const char *lines, size_t len,
                                      uint32_t points, uint64_t *ticket);
ASKUE_MUST enum askue_err spool_sync(struct spool *sp, uint64_t ticket);
/* Make every waiting and future append return ASKUE_ERR_BUSY. */
void spool_cancel_waits(struct spool *sp);
/* Reader: the next record, waiting up to timeout_ms for one. buf must hold
 * ASKUE_SPOOL_RECORD_BYTES_MAX bytes. ASKUE_ERR_BUSY when none came. *after
 * gets the position after the record. */
ASKUE_MUST enum askue_err spool_next(struct spool *sp, char *buf, struct spool_rec *rec,
                                     struct spool_pos *after, int timeout_ms);
/* Everything before pos is in InfluxDB: save the cursor, delete spent
 * segments, wake appenders waiting for room. */
ASKUE_MUST enum askue_err spool_commit(struct spool *sp, const struct spool_pos *pos);
/* 1 when the reader has caught up with the appenders. */
int spool_caught_up(struct spool *sp);
void spool_stats(struct spool *sp, struct spool_stats *st);

/* ---- rejects ---- */
struct rejects;
ASKUE_MUST enum askue_err rejects_open(const char *dir, struct rejects **out);
void rejects_close(struct rejects *rj);
/* One line: time, reason, topic, index (-1: the whole message), excerpt
 * (raw bytes, escaped here), detail (may be NULL). Thread-safe; never
 * fails (a write error is logged once, the count still goes up). */
void rejects_write(struct rejects *rj, int64_t now_s, enum askue_reason reason,
                   const char *topic, long index, const char *excerpt, size_t excerpt_len,
                   const char *detail);

/* ---- health ---- */
struct health {
	_Atomic uint64_t messages;           /* messages received */
	_Atomic uint64_t readings;           /* good readings spooled */
	_Atomic uint64_t rejected_messages;  /* refused whole */
	_Atomic uint64_t rejected_readings;  /* refused one by one */
	_Atomic uint64_t by_reason[ASKUE_REASON_COUNT];
	_Atomic uint64_t points_written;
	_Atomic uint64_t batches;
	_Atomic uint64_t write_retries;
	_Atomic uint64_t quarantined;
	_Atomic uint64_t batch_ms_sum, batch_ms_max, batch_count_interval;
	_Atomic int connected;
	/* the last report, for rates */
	uint64_t last_readings, last_points;
	int64_t last_ms;
};
void health_reject(struct health *h, enum askue_reason r, int whole_message);
void health_batch(struct health *h, uint64_t points, uint64_t ms);
/* Append the `ingest` point to lb and log the line; resets the interval
 * figures. now_ms: CLOCK_MONOTONIC. */
struct askue_linebuf;
ASKUE_MUST enum askue_err health_report(struct health *h, const struct spool_stats *st,
                                        const char *client_id, const char *host,
                                        int64_t now_s, int64_t now_ms,
                                        struct askue_linebuf *lb);

/* ---- lastseen ---- */
struct lastseen;
/* Starts the thread that writes every interval_s. NULL only when memory
 * or a thread cannot be had; a store that cannot be opened is retried at
 * each flush (ingestion does not depend on it). */
struct lastseen *lastseen_open(const char *path, int64_t interval_s);
/* Stops the thread and writes what is left. */
void lastseen_close(struct lastseen *ls);
/* Note a stored record; thread-safe, never waits for SQLite. */
void lastseen_note(struct lastseen *ls, const char *meter, int64_t ts, int64_t arrived);

/* ---- batch (the writer thread) ---- */
struct writer;
ASKUE_MUST enum askue_err writer_start(const struct askue_config *cfg, struct spool *sp,
                                       struct rejects *rj, struct health *h,
                                       struct writer **out);
/* Stop: write what the spool holds until it is empty or deadline_s (from
 * now) passes, then join the thread. */
void writer_stop(struct writer *w, int64_t deadline_s);

/* ---- mqtt ---- */
struct mqtt;
ASKUE_MUST enum askue_err mqtt_start(const struct askue_config *cfg, struct spool *sp,
                                     struct rejects *rj, struct health *h, struct mqtt **out);
/* Disconnect (the session stays with the broker) and join the loop. */
void mqtt_stop(struct mqtt *m);

/* monotonic milliseconds */
int64_t ingestor_now_ms(void);

#endif
