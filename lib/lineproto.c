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

static enum askue_err put_tag(struct askue_linebuf *lb, const char *s)
{
	char esc[3 * 256 + 1];
	size_t n = strlen(s);
	if (n > 256 || askue_lineproto_escape_tag(s, n, esc, sizeof esc) == (size_t)-1)
		return askue_err_set(ASKUE_ERR_INVALID, "line protocol: tag '%.64s' cannot be written",
		                     s);
	return put(lb, "%s", esc);
}

enum askue_err askue_lineproto_reading(struct askue_linebuf *lb, const char *meter,
                                       const struct askue_reading *r)
{
	size_t start = lb->len;
	enum askue_err err = put(lb, "reading,meter=");
	if (!err)
		err = put_tag(lb, meter);
	char sep = ' ';
	for (int f = 0; f < ASKUE_F_COUNT && !err; f++) {
		if (!(r->have & (1u << f)))
			continue;
		if (f < ASKUE_F_REGISTERS)
			err = put(lb, "%c%s=%" PRId64 "i", sep, field_keys[f], r->wh[f]);
		else
			err = put(lb, "%c%s=%.3f", sep, field_keys[f], f == ASKUE_F_P ? r->p_kw : r->u_v);
		sep = ',';
	}
	if (!err && sep == ' ')
		err = askue_err_set(ASKUE_ERR_INVALID, "line protocol: a reading without fields");
	if (!err)
		err = put(lb, " %" PRId64 "\n", r->ts);
	if (err) {
		lb->len = start;
		if (lb->cap)
			lb->buf[start] = 0;
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
