/* influx — a small InfluxDB client on libcurl for the v1 HTTP API, which
 * InfluxDB 1.x, 2.x (compat) and 3.x all accept: POST /write?db=&precision=s,
 * GET or POST /query, CREATE DATABASE.
 *
 * One handle per thread (it owns one curl easy handle and its connection).
 * Results of a write, as the callers must treat them:
 *   ASKUE_OK            204: every point stored.
 *   ASKUE_ERR_INVALID   400/413: InfluxDB refused some points of the batch
 *                       (a parse error, a field type conflict, a body too
 *                       large); the good ones may have been stored (1.x
 *                       writes them: "partial write"). Not worth a retry
 *                       as is: split the batch (askue_influx_write_split).
 *   ASKUE_ERR_IO        connection refused, timeout, 5xx, 401/403/404 (a
 *                       database or credential problem an operator fixes):
 *                       retry the same batch later.
 * The message (askue_err_msg) carries InfluxDB's own error text.
 */
#ifndef ASKUE_INFLUX_H
#define ASKUE_INFLUX_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

struct askue_influx;

/* Reads [influx] url, database, username, password, timeout_ms. */
ASKUE_MUST enum askue_err askue_influx_open(const struct askue_config *cfg,
                                            struct askue_influx **out);
void askue_influx_close(struct askue_influx *ix);

/* POST lines[0..len) to /write with precision=s. *http_status (may be NULL)
 * gets the HTTP status, 0 when there was no answer. */
ASKUE_MUST enum askue_err askue_influx_write(struct askue_influx *ix, const char *lines,
                                             size_t len, long *http_status);

/* Called for each line InfluxDB refuses on its own; error is InfluxDB's
 * message. line is not NUL-terminated and has no '\n'. */
typedef void askue_influx_refused_fn(const char *line, size_t len, const char *error,
                                     void *ctx);

/* Write lines (whole lines, each ending in '\n'); when InfluxDB refuses the
 * batch, split it in halves and write each, down to single lines, and hand
 * every refused single line to refused(). Returns ASKUE_OK when every line
 * is stored or handed over, ASKUE_ERR_IO when InfluxDB could not be reached
 * (then the caller retries the whole batch: points are idempotent).
 * *requests counts the HTTP requests made (may be NULL). */
ASKUE_MUST enum askue_err askue_influx_write_split(struct askue_influx *ix, const char *lines,
                                                   size_t len, askue_influx_refused_fn *refused,
                                                   void *ctx, size_t *requests);

/* Run InfluxQL q (GET /query for SELECT/SHOW, POST otherwise) with epoch=s;
 * *json_out (malloc'ed, caller frees) gets the answer. An error inside the
 * answer ("error" in the result) is ASKUE_ERR_INVALID. */
ASKUE_MUST enum askue_err askue_influx_query(struct askue_influx *ix, const char *q,
                                             char **json_out);
/* A streamed query (chunked=true): InfluxDB sends the answer as one JSON
 * object per chunk of at most chunk_size rows, newline separated; each is
 * parsed on arrival and handed over series by series, so an answer of a
 * million rows is never held whole. fn gets the series' name, its tags
 * (a JSON object, NULL without GROUP BY), its columns and the rows of this
 * chunk (JSON arrays; cJSON numbers are doubles: integers are exact up to
 * 2^53, far above any register in Wh). One series may come in several
 * chunks (fn is called once per chunk). The trees are freed after fn
 * returns. fn returns ASKUE_OK to go on, anything else stops the query and
 * is returned. An "error" in any chunk is ASKUE_ERR_INVALID; a chunk larger
 * than ASKUE_INFLUX_CHUNK_BYTES_MAX is ASKUE_ERR_LIMIT. Runs with epoch=s.
 * [influx] timeout_ms does not bound the whole answer (a fleet's day takes
 * tens of seconds): the query fails when nothing arrives for 120 s (or
 * timeout_ms, if longer). */
#define ASKUE_INFLUX_CHUNK_BYTES_MAX (64 * 1024 * 1024) /* 10k rows are ~1 MB */
struct cJSON;
typedef enum askue_err askue_influx_series_fn(const char *name, const struct cJSON *tags,
                                              const struct cJSON *columns,
                                              const struct cJSON *values, void *ctx);
ASKUE_MUST enum askue_err askue_influx_query_stream(struct askue_influx *ix, const char *q,
                                                    int chunk_size, askue_influx_series_fn *fn,
                                                    void *ctx);
/* A background writer: batches of line protocol handed over by one thread
 * are written by `threads` others (1..8), each through its own handle,
 * each batch with askue_influx_write_split (refused lines counted and
 * logged to stderr), so a job's writes overlap its reading and computing.
 * With more than one thread batches may land in any order: use it for
 * points that are independent (distinct series or times). At most
 * queue_max batches wait; _put blocks while the queue is full. The first
 * error (InfluxDB unreachable) stops the writing; _put then returns it at
 * once (the batch is dropped) and _close returns it. */
struct askue_influx_writer;
ASKUE_MUST enum askue_err askue_influx_writer_open(const struct askue_config *cfg, int threads,
                                                   int queue_max,
                                                   struct askue_influx_writer **out);
/* Hand over lines[0..len) (whole lines); the writer takes the malloc'ed
 * buffer and frees it. */
ASKUE_MUST enum askue_err askue_influx_writer_put_take(struct askue_influx_writer *w,
                                                       char *lines, size_t len);
/* Wait until every batch is written, stop the thread, free. *refused (may
 * be NULL) gets the number of lines InfluxDB refused. NULL is a no-op. */
ASKUE_MUST enum askue_err askue_influx_writer_close(struct askue_influx_writer *w,
                                                    int64_t *refused);

/* CREATE DATABASE (idempotent). */
ASKUE_MUST enum askue_err askue_influx_create_database(struct askue_influx *ix);
/* GET /ping: 0 when InfluxDB answers. */
ASKUE_MUST enum askue_err askue_influx_ping(struct askue_influx *ix);

#endif
