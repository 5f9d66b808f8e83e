/* lineproto — InfluxDB line protocol for askue's measurements.
 *
 * `reading` (DESIGN.md, InfluxDB schema): tag meter; integer fields ai_wh,
 * t1_wh..t4_wh, ae_wh (suffix i); floats p_kw, u_v; time in seconds (write
 * with precision=s). `ingest`: the ingestor's health, built field by field.
 *
 * Escaping, as InfluxDB 1.x parses it (checked against 1.6.7): in a tag
 * value a space, comma and equals sign are written with a backslash before
 * them; a quote and non-ASCII text (Cyrillic) go as they are; a backslash
 * goes as it is, because InfluxDB keeps "\\" as two characters. A backslash
 * at the end of a value or just before a space, comma or equals sign cannot
 * be written at all (InfluxDB would read the escape differently), nor can a
 * control character: askue_lineproto_tag_ok says no to such values and the
 * payload parser refuses those serials (reason bad_serial).
 *
 * The builders append to a caller's buffer of fixed size and never write
 * past it: on overflow they return ASKUE_ERR_LIMIT and leave the buffer as
 * it was before the call.
 */
#ifndef ASKUE_LINEPROTO_H
#define ASKUE_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

struct askue_reading;

/* A growing-in-place line buffer with a fixed capacity (caller's memory). */
struct askue_linebuf {
	char *buf;
	size_t len, cap;
};

/* 1 when s[0..n) can be written exactly as a tag value (see above). */
int askue_lineproto_tag_ok(const char *s, size_t n);
/* Escape a tag value (or key) into out (NUL-terminated); returns the length
 * written, or (size_t)-1 when it does not fit or is not representable. */
size_t askue_lineproto_escape_tag(const char *s, size_t n, char *out, size_t out_size);

/* Append one `reading` line (with its '\n') for meter. */
ASKUE_MUST enum askue_err askue_lineproto_reading(struct askue_linebuf *lb, const char *meter,
                                                  const struct askue_reading *r);

/* The `ingest` line, built in steps: begin (measurement and tags), then
 * fields, then end with the time in seconds. */
ASKUE_MUST enum askue_err askue_lineproto_begin(struct askue_linebuf *lb, const char *measurement,
                                                const char *const *tags, size_t n_tags);
ASKUE_MUST enum askue_err askue_lineproto_int(struct askue_linebuf *lb, const char *key,
                                              int64_t v);
ASKUE_MUST enum askue_err askue_lineproto_float(struct askue_linebuf *lb, const char *key,
                                                double v);
ASKUE_MUST enum askue_err askue_lineproto_end(struct askue_linebuf *lb, int64_t time_s);

/* Number of lines (points) in text[0..n): the count of '\n'. */
size_t askue_lineproto_count(const char *text, size_t n);

#endif
