/* lineproto — see lineproto.h. */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

static const char *const field_keys[ASKUE_F_COUNT] = {
	"ai_wh", "t1_wh", "t2_wh", "t3_wh", "t4_wh", "ae_wh", "p_kw", "u_v",
};

static int needs_escape(char c)
{
	return c == ' ' || c == ',' || c == '=';
}

int askue_lineproto_tag_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return 0;
		if (c == '\\' && (i + 1 == n || needs_escape(s[i + 1])))
			return 0;
	}
	return 1;
}

size_t askue_lineproto_escape_tag(const char *s, size_t n, char *out, size_t out_size)
{
	if (!askue_lineproto_tag_ok(s, n))
		return (size_t)-1;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (needs_escape(s[i])) {
			if (o + 1 >= out_size)
				return (size_t)-1;
			out[o++] = '\\';
		}
		if (o + 1 >= out_size)
			return (size_t)-1;
		out[o++] = s[i];
	}
	out[o] = 0;
	return o;
}

static enum askue_err put(struct askue_linebuf *lb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum askue_err put(struct askue_linebuf *lb, const char *fmt, ...)
{
	size_t room = lb->cap - lb->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(lb->buf + lb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		if (room)
			lb->buf[lb->len] = 0;
		return askue_err_set(ASKUE_ERR_LIMIT, "line protocol: buffer of %zu bytes full",
		                     lb->cap);
	}
	lb->len += (size_t)n;
	return ASKUE_OK;
}

/* The hot path of the ingestor (every reading of every message): plain
 * copies and a hand-made integer conversion instead of vsnprintf. */
static int put_raw(struct askue_linebuf *lb, const char *s, size_t n)
{
	if (lb->cap - lb->len <= n)
		return -1;
	memcpy(lb->buf + lb->len, s, n);
	lb->len += n;
	return 0;
}

static int put_i64(struct askue_linebuf *lb, int64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	return put_raw(lb, tmp + i, sizeof tmp - i);
}

static int put_field(struct askue_linebuf *lb, char sep, int f, const struct askue_reading *r)
{
	const char *key = field_keys[f];
	if (put_raw(lb, &sep, 1) || put_raw(lb, key, strlen(key)) || put_raw(lb, "=", 1))
		return -1;
	if (f < ASKUE_F_REGISTERS)
		return put_i64(lb, r->wh[f]) || put_raw(lb, "i", 1);
	return put(lb, "%.3f", f == ASKUE_F_P ? r->p_kw : r->u_v) ? -1 : 0;
}

static enum askue_err put_tag(struct askue_linebuf *lb, const char *s)
{
	char esc[3 * 256 + 1];
	size_t n = strlen(s), e;
	if (n > 256 || (e = askue_lineproto_escape_tag(s, n, esc, sizeof esc)) == (size_t)-1)
		return askue_err_set(ASKUE_ERR_INVALID, "line protocol: tag '%.64s' cannot be written",
		                     s);
	if (put_raw(lb, esc, e))
		return askue_err_set(ASKUE_ERR_LIMIT, "line protocol: buffer of %zu bytes full",
		                     lb->cap);
	return ASKUE_OK;
}

enum askue_err askue_lineproto_reading(struct askue_linebuf *lb, const char *meter,
                                       const struct askue_reading *r)
{
	static const char head[] = "reading,meter=";
	size_t start = lb->len;
	enum askue_err err = ASKUE_OK;
	if (put_raw(lb, head, sizeof head - 1))
		err = ASKUE_ERR_LIMIT;
	if (!err)
		err = put_tag(lb, meter);
	char sep = ' ';
	for (int f = 0; f < ASKUE_F_COUNT && !err; f++) {
		if (!(r->have & (1u << f)))
			continue;
		if (put_field(lb, sep, f, r))
			err = ASKUE_ERR_LIMIT;
		sep = ',';
	}
	if (!err && sep == ' ')
		err = askue_err_set(ASKUE_ERR_INVALID, "line protocol: a reading without fields");
	if (!err && (put_raw(lb, " ", 1) || put_i64(lb, r->ts) || put_raw(lb, "\n", 1)))
		err = ASKUE_ERR_LIMIT;
	if (err == ASKUE_ERR_LIMIT)
		askue_err_set(ASKUE_ERR_LIMIT, "line protocol: buffer of %zu bytes full", lb->cap);
	if (err) {
		lb->len = start;
		if (lb->cap)
			lb->buf[start] = 0;
	} else if (lb->len < lb->cap) {
		lb->buf[lb->len] = 0;
	}
	return err;
}

/* The `ingest` builder keeps its state in the buffer: after begin the line
 * ends with the tags; the first field is preceded by a space, later ones by
 * a comma. fields_started is found by looking back for the space. */
static size_t line_start(const struct askue_linebuf *lb)
{
	size_t i = lb->len;
	while (i > 0 && lb->buf[i - 1] != '\n')
		i--;
	return i;
}

static int line_has_fields(const struct askue_linebuf *lb)
{
	int escaped = 0;
	for (size_t i = line_start(lb); i < lb->len; i++) {
		if (escaped) {
			escaped = 0;
			continue;
		}
		if (lb->buf[i] == '\\')
			escaped = 1;
		else if (lb->buf[i] == ' ')
			return 1;
	}
	return 0;
}

enum askue_err askue_lineproto_begin(struct askue_linebuf *lb, const char *measurement,
                                     const char *const *tags, size_t n_tags)
{
	size_t start = lb->len;
	enum askue_err err = put_tag(lb, measurement);
	for (size_t i = 0; i + 1 < n_tags && !err; i += 2) {
		if (!tags[i + 1] || !tags[i + 1][0])
			continue; /* an empty tag value is left out */
		err = put(lb, ",");
		if (!err)
			err = put_tag(lb, tags[i]);
		if (!err)
			err = put(lb, "=");
		if (!err)
			err = put_tag(lb, tags[i + 1]);
	}
	if (err)
		lb->len = start;
	return err;
}

enum askue_err askue_lineproto_int(struct askue_linebuf *lb, const char *key, int64_t v)
{
	return put(lb, "%c%s=%" PRId64 "i", line_has_fields(lb) ? ',' : ' ', key, v);
}

enum askue_err askue_lineproto_float(struct askue_linebuf *lb, const char *key, double v)
{
	if (!isfinite(v))
		v = 0;
	return put(lb, "%c%s=%.3f", line_has_fields(lb) ? ',' : ' ', key, v);
}

enum askue_err askue_lineproto_end(struct askue_linebuf *lb, int64_t time_s)
{
	if (!line_has_fields(lb))
		return askue_err_set(ASKUE_ERR_INVALID, "line protocol: a point without fields");
	return put(lb, " %" PRId64 "\n", time_s);
}

size_t askue_lineproto_count(const char *text, size_t n)
{
	size_t count = 0;
	for (const char *p = text; (p = memchr(p, '\n', n - (size_t)(p - text))) != NULL; p++)
		count++;
	return count;
}
