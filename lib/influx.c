/* influx — see influx.h. */
#include "influx.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "limits.h"

struct askue_influx {
	CURL *curl;
	char base[256];
	char db_escaped[200];
	char db[64];
	char *reply;      /* ASKUE_INFLUX_REPLY_BYTES_MAX + 1 */
	size_t reply_len;
	char errbuf[CURL_ERROR_SIZE];
	long timeout_ms; /* one request's ([influx] timeout_ms) */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct askue_influx *ix = user;
	size_t n = size * nmemb;
	size_t room = ASKUE_INFLUX_REPLY_BYTES_MAX - ix->reply_len;
	size_t take = n < room ? n : room; /* the rest is read and dropped */
	memcpy(ix->reply + ix->reply_len, data, take);
	ix->reply_len += take;
	ix->reply[ix->reply_len] = 0;
	return n;
}

enum askue_err askue_influx_open(const struct askue_config *cfg, struct askue_influx **out)
{
	pthread_once(&curl_once, curl_init_once);
	struct askue_influx *ix = calloc(1, sizeof *ix);
	if (!ix)
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	ix->reply = malloc(ASKUE_INFLUX_REPLY_BYTES_MAX + 1);
	ix->curl = curl_easy_init();
	if (!ix->reply || !ix->curl) {
		askue_influx_close(ix);
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: cannot set up libcurl");
	}
	size_t n = strlen(cfg->influx_url);
	while (n > 0 && cfg->influx_url[n - 1] == '/')
		n--;
	snprintf(ix->base, sizeof ix->base, "%.*s", (int)n, cfg->influx_url);
	snprintf(ix->db, sizeof ix->db, "%s", cfg->influx_database);
	char *esc = curl_easy_escape(ix->curl, cfg->influx_database, 0);
	if (!esc) {
		askue_influx_close(ix);
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	}
	snprintf(ix->db_escaped, sizeof ix->db_escaped, "%s", esc);
	curl_free(esc);
	CURL *c = ix->curl;
	long timeout = (long)cfg->influx_timeout_ms;
	ix->timeout_ms = timeout;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 5000 ? timeout : 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ix);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ix->errbuf);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cfg->influx_username[0]) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->influx_username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->influx_password);
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	*out = ix;
	return ASKUE_OK;
}

void askue_influx_close(struct askue_influx *ix)
{
	if (!ix)
		return;
	if (ix->curl)
		curl_easy_cleanup(ix->curl);
	free(ix->reply);
	free(ix);
}

/* One request; body NULL means GET. Returns the HTTP status, 0 when no
 * answer came (the reason in errbuf). */
static long request(struct askue_influx *ix, const char *url, const char *body, size_t len)
{
	CURL *c = ix->curl;
	ix->reply_len = 0;
	ix->reply[0] = 0;
	ix->errbuf[0] = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (!ix->errbuf[0])
			snprintf(ix->errbuf, sizeof ix->errbuf, "%s", curl_easy_strerror(rc));
		return 0;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* Trim InfluxDB's JSON error to its text for the message. */
static const char *reply_text(struct askue_influx *ix)
{
	char *e = strstr(ix->reply, "\"error\":\"");
	if (e) {
		e += 9;
		size_t n = strlen(e);
		if (n >= 2 && e[n - 1] == '\n')
			e[--n] = 0;
		if (n >= 2 && e[n - 1] == '}' && e[n - 2] == '"')
			e[n - 2] = 0;
		return e;
	}
	return ix->reply;
}

enum askue_err askue_influx_write(struct askue_influx *ix, const char *lines, size_t len,
                                  long *http_status)
{
	char url[512];
	snprintf(url, sizeof url, "%s/write?db=%s&precision=s", ix->base, ix->db_escaped);
	long status = request(ix, url, lines, len);
	if (http_status)
		*http_status = status;
	if (status == 204 || status == 200)
		return ASKUE_OK;
	if (status == 0)
		return askue_err_set(ASKUE_ERR_IO, "influx: %s: %s", ix->base, ix->errbuf);
	if (status == 400 || status == 413)
		return askue_err_set(ASKUE_ERR_INVALID, "influx: write refused (HTTP %ld): %.512s",
		                     status, reply_text(ix));
	return askue_err_set(ASKUE_ERR_IO, "influx: write failed (HTTP %ld): %.512s", status,
	                     reply_text(ix));
}

/* Split point: the line boundary nearest the middle. */
static size_t middle_line(const char *lines, size_t len)
{
	size_t mid = len / 2;
	const char *nl = memchr(lines + mid, '\n', len - mid);
	size_t cut = nl ? (size_t)(nl - lines) + 1 : len;
	if (cut >= len) {
		/* no line break after the middle: look before it */
		size_t i = mid;
		while (i > 0 && lines[i - 1] != '\n')
			i--;
		cut = i;
	}
	return cut;
}

enum askue_err askue_influx_write_split(struct askue_influx *ix, const char *lines,
                                        size_t len, askue_influx_refused_fn *refused,
                                        void *ctx, size_t *requests)
{
	if (len == 0)
		return ASKUE_OK;
	if (requests)
		(*requests)++;
	enum askue_err err = askue_influx_write(ix, lines, len, NULL);
	if (err != ASKUE_ERR_INVALID)
		return err;
	size_t cut = middle_line(lines, len);
	if (cut == 0 || cut >= len) {
		/* a single line: this is the refused point */
		size_t n = len;
		if (n && lines[n - 1] == '\n')
			n--;
		refused(lines, n, askue_err_msg(), ctx);
		return ASKUE_OK;
	}
	err = askue_influx_write_split(ix, lines, cut, refused, ctx, requests);
	if (!err)
		err = askue_influx_write_split(ix, lines + cut, len - cut, refused, ctx, requests);
	return err;
}

enum askue_err askue_influx_query(struct askue_influx *ix, const char *q, char **json_out)
{
	char *qe = curl_easy_escape(ix->curl, q, 0);
	if (!qe)
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	size_t ulen = strlen(ix->base) + strlen(ix->db_escaped) + strlen(qe) + 64;
	char *url = malloc(ulen);
	if (!url) {
		curl_free(qe);
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	}
	int read_only = !strncasecmp(q, "SELECT", 6) || !strncasecmp(q, "SHOW", 4);
	snprintf(url, ulen, "%s/query?db=%s&epoch=s&q=%s", ix->base, ix->db_escaped, qe);
	curl_free(qe);
	long status = request(ix, url, read_only ? NULL : "", 0);
	free(url);
	if (status == 0)
		return askue_err_set(ASKUE_ERR_IO, "influx: %s: %s", ix->base, ix->errbuf);
	if (status != 200)
		return askue_err_set(status >= 500 ? ASKUE_ERR_IO : ASKUE_ERR_INVALID,
		                     "influx: query failed (HTTP %ld): %.512s", status,
		                     reply_text(ix));
	if (strstr(ix->reply, "\"error\":"))
		return askue_err_set(ASKUE_ERR_INVALID, "influx: query: %.512s", reply_text(ix));
	if (json_out) {
		char *copy = strdup(ix->reply);
		if (!copy)
			return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
		*json_out = copy;
	}
	return ASKUE_OK;
}

enum askue_err askue_influx_create_database(struct askue_influx *ix)
{
	char q[128];
	snprintf(q, sizeof q, "CREATE DATABASE \"%s\"", ix->db);
	return askue_influx_query(ix, q, NULL);
}

enum askue_err askue_influx_ping(struct askue_influx *ix)
{
	char url[512];
	snprintf(url, sizeof url, "%s/ping", ix->base);
	long status = request(ix, url, NULL, 0);
	if (status == 204 || status == 200)
		return ASKUE_OK;
	return askue_err_set(ASKUE_ERR_IO, "influx: %s/ping: %s", ix->base,
	                     status ? "unexpected status" : ix->errbuf);
}

/* The state of a streamed query: bytes of the chunk still arriving. */
struct stream {
	struct askue_influx *ix;
	askue_influx_series_fn *fn;
	void *ctx;
	char *buf;
	size_t len, cap;
	enum askue_err err; /* the first error: stops the transfer */
};

static enum askue_err stream_series(struct stream *s, const cJSON *series)
{
	const cJSON *name = cJSON_GetObjectItem(series, "name");
	const cJSON *cols = cJSON_GetObjectItem(series, "columns");
	const cJSON *vals = cJSON_GetObjectItem(series, "values");
	if (!cJSON_IsArray(cols) || !cJSON_IsArray(vals))
		return askue_err_set(ASKUE_ERR_IO, "influx: a series without columns or values");
	return s->fn(cJSON_IsString(name) ? name->valuestring : "",
	             cJSON_GetObjectItem(series, "tags"), cols, vals, s->ctx);
}

/* One chunk: {"results":[{"statement_id":0,"series":[...],"partial":true}]} */
static enum askue_err stream_chunk(struct stream *s, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (!root)
		return askue_err_set(ASKUE_ERR_IO, "influx: a chunk of the answer is not JSON");
	enum askue_err err = ASKUE_OK;
	const cJSON *e = cJSON_GetObjectItem(root, "error"), *res;
	if (cJSON_IsString(e))
		err = askue_err_set(ASKUE_ERR_INVALID, "influx: query: %.512s", e->valuestring);
	cJSON_ArrayForEach(res, cJSON_GetObjectItem(root, "results"))
	{
		if (err)
			break;
		e = cJSON_GetObjectItem(res, "error");
		if (cJSON_IsString(e)) {
			err = askue_err_set(ASKUE_ERR_INVALID, "influx: query: %.512s", e->valuestring);
			break;
		}
		const cJSON *series;
		cJSON_ArrayForEach(series, cJSON_GetObjectItem(res, "series"))
		{
			if ((err = stream_series(s, series)))
				break;
		}
	}
	cJSON_Delete(root);
	return err;
}

/* Take the complete lines of the buffer; keep the incomplete rest. */
static enum askue_err stream_lines(struct stream *s)
{
	size_t start = 0;
	char *nl;
	while ((nl = memchr(s->buf + start, '\n', s->len - start))) {
		size_t n = (size_t)(nl - (s->buf + start));
		enum askue_err err = n ? stream_chunk(s, s->buf + start, n) : ASKUE_OK;
		if (err)
			return err;
		start += n + 1;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return ASKUE_OK;
}

static size_t on_stream_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct stream *s = user;
	size_t n = size * nmemb;
	if (s->err)
		return 0;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 1 << 20;
		while (cap < s->len + n)
			cap *= 2;
		if (cap > ASKUE_INFLUX_CHUNK_BYTES_MAX) {
			s->err = askue_err_set(ASKUE_ERR_LIMIT, "influx: a chunk of the answer is over %d "
			                       "bytes", ASKUE_INFLUX_CHUNK_BYTES_MAX);
			return 0;
		}
		char *p = realloc(s->buf, cap);
		if (!p) {
			s->err = askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
			return 0;
		}
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->err = stream_lines(s);
	return s->err ? 0 : n;
}

/* A streamed answer may take minutes whole: no overall timeout, but fail
 * when nothing arrives for STREAM_STALL_S (or timeout_ms if longer). */
#define STREAM_STALL_S 120
static void stream_timeouts(struct askue_influx *ix, int on)
{
	long stall_s = ix->timeout_ms / 1000 > STREAM_STALL_S ? ix->timeout_ms / 1000 : STREAM_STALL_S;
	curl_easy_setopt(ix->curl, CURLOPT_TIMEOUT_MS, on ? 0L : ix->timeout_ms);
	curl_easy_setopt(ix->curl, CURLOPT_LOW_SPEED_LIMIT, on ? 1L : 0L);
	curl_easy_setopt(ix->curl, CURLOPT_LOW_SPEED_TIME, on ? stall_s : 0L);
}

static char *stream_url(struct askue_influx *ix, const char *q, int chunk_size)
{
	char *qe = curl_easy_escape(ix->curl, q, 0);
	if (!qe)
		return NULL;
	size_t ulen = strlen(ix->base) + strlen(ix->db_escaped) + strlen(qe) + 96;
	char *url = malloc(ulen);
	if (url)
		snprintf(url, ulen, "%s/query?db=%s&epoch=s&chunked=true&chunk_size=%d&q=%s", ix->base,
		         ix->db_escaped, chunk_size, qe);
	curl_free(qe);
	return url;
}

enum askue_err askue_influx_query_stream(struct askue_influx *ix, const char *q,
                                         int chunk_size, askue_influx_series_fn *fn, void *ctx)
{
	struct stream s = {.ix = ix, .fn = fn, .ctx = ctx};
	char *url = stream_url(ix, q, chunk_size > 0 ? chunk_size : 10000);
	if (!url)
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	curl_easy_setopt(ix->curl, CURLOPT_WRITEFUNCTION, on_stream_body);
	curl_easy_setopt(ix->curl, CURLOPT_WRITEDATA, &s);
	stream_timeouts(ix, 1);
	long status = request(ix, url, NULL, 0);
	stream_timeouts(ix, 0);
	curl_easy_setopt(ix->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(ix->curl, CURLOPT_WRITEDATA, ix);
	free(url);
	enum askue_err err = s.err;
	if (!err && status == 0)
		err = askue_err_set(ASKUE_ERR_IO, "influx: %s: %s", ix->base, ix->errbuf);
	else if (!err && status != 200)
		err = askue_err_set(status >= 500 ? ASKUE_ERR_IO : ASKUE_ERR_INVALID,
		                    "influx: query failed (HTTP %ld): %.200s", status,
		                    s.len ? s.buf : "");
	else if (!err && s.len) /* a last chunk without its newline */
		err = stream_chunk(&s, s.buf, s.len);
	free(s.buf);
	return err;
}

#define WRITER_QUEUE_MAX 64
#define WRITER_THREADS_MAX 8

struct askue_influx_writer {
	struct askue_influx *ix[WRITER_THREADS_MAX];
	pthread_t thread[WRITER_THREADS_MAX];
	int threads, next_ix;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	char *buf[WRITER_QUEUE_MAX];
	size_t len[WRITER_QUEUE_MAX];
	int head, count, queue_max;
	int busy; /* batches being written */
	int closing;
	enum askue_err err;
	char msg[512];
	int64_t refused;
};

static void writer_refused(const char *line, size_t len, const char *error, void *ctx)
{
	struct askue_influx_writer *w = ctx;
	pthread_mutex_lock(&w->mu);
	w->refused++;
	pthread_mutex_unlock(&w->mu);
	fprintf(stderr, "influx: a point refused: %s: %.*s\n", error, (int)(len > 200 ? 200 : len),
	        line);
}

static void *writer_main(void *arg)
{
	struct askue_influx_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	struct askue_influx *ix = w->ix[w->next_ix++];
	for (;;) {
		while (!w->count && !w->closing)
			pthread_cond_wait(&w->changed, &w->mu);
		if (!w->count)
			break;
		char *buf = w->buf[w->head];
		size_t len = w->len[w->head];
		int failed = w->err != ASKUE_OK;
		w->head = (w->head + 1) % WRITER_QUEUE_MAX;
		w->count--;
		w->busy++;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->mu);
		enum askue_err err =
			failed ? ASKUE_OK : askue_influx_write_split(ix, buf, len, writer_refused, w, NULL);
		free(buf);
		pthread_mutex_lock(&w->mu);
		if (err && !w->err) {
			w->err = err;
			snprintf(w->msg, sizeof w->msg, "%s", askue_err_msg());
		}
		w->busy--;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void writer_free(struct askue_influx_writer *w)
{
	for (int i = 0; i < WRITER_THREADS_MAX; i++)
		askue_influx_close(w->ix[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->changed);
	free(w);
}

enum askue_err askue_influx_writer_open(const struct askue_config *cfg, int threads,
                                        int queue_max, struct askue_influx_writer **out)
{
	struct askue_influx_writer *w = calloc(1, sizeof *w);
	if (!w)
		return askue_err_set(ASKUE_ERR_NOMEM, "influx: out of memory");
	w->queue_max = queue_max < 1 ? 1 : queue_max > WRITER_QUEUE_MAX ? WRITER_QUEUE_MAX : queue_max;
	threads = threads < 1 ? 1 : threads > WRITER_THREADS_MAX ? WRITER_THREADS_MAX : threads;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->changed, NULL);
	enum askue_err err = ASKUE_OK;
	for (int i = 0; i < threads && !err; i++)
		err = askue_influx_open(cfg, &w->ix[i]);
	if (err) {
		writer_free(w);
		return err;
	}
	for (; w->threads < threads; w->threads++) {
		if (pthread_create(&w->thread[w->threads], NULL, writer_main, w)) {
			enum askue_err ignored = askue_influx_writer_close(w, NULL);
			(void)ignored; /* nothing was handed over yet */
			return askue_err_set(ASKUE_ERR_NOMEM, "influx: cannot start a writer thread");
		}
	}
	*out = w;
	return ASKUE_OK;
}

enum askue_err askue_influx_writer_put_take(struct askue_influx_writer *w, char *lines,
                                            size_t len)
{
	pthread_mutex_lock(&w->mu);
	while (w->count == w->queue_max && !w->err)
		pthread_cond_wait(&w->changed, &w->mu);
	enum askue_err err = w->err;
	if (err) {
		askue_err_set(err, "%s", w->msg);
		free(lines);
	} else {
		int tail = (w->head + w->count) % WRITER_QUEUE_MAX;
		w->buf[tail] = lines;
		w->len[tail] = len;
		w->count++;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->mu);
	return err;
}

enum askue_err askue_influx_writer_close(struct askue_influx_writer *w, int64_t *refused)
{
	if (!w)
		return ASKUE_OK;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->threads; i++)
		pthread_join(w->thread[i], NULL);
	enum askue_err err = w->err;
	if (err)
		askue_err_set(err, "%s", w->msg);
	if (refused)
		*refused = w->refused;
	writer_free(w);
	return err;
}
