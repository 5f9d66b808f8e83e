/* payload — parse and validate one MQTT readings message (DESIGN.md, MQTT).
 *
 * A pure function from (topic, payload bytes, now, tolerance) to the meter's
 * serial, its good readings (registers in integer Wh, rounded to nearest)
 * and the reasons its bad readings were refused. A whole-message refusal
 * (size, UTF-8, nesting, JSON, topic, meter) is the return value; a bad
 * reading only adds an entry to rejects[] and the good readings of the same
 * message are kept. The nesting depth is checked on the raw bytes before
 * cJSON sees them, so a nesting bomb never reaches its recursive parser.
 * Reasons are a fixed enum with stable snake_case names: they are the keys
 * operators count and grep rejects by.
 */
#ifndef ASKUE_PAYLOAD_H
#define ASKUE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "limits.h"

enum askue_reason {
	ASKUE_REASON_OK = 0,
	/* whole message */
	ASKUE_REASON_TOO_BIG,          /* payload over ASKUE_PAYLOAD_BYTES_MAX */
	ASKUE_REASON_BAD_UTF8,         /* not well-formed UTF-8 (or a NUL byte) */
	ASKUE_REASON_TOO_DEEP,         /* JSON nested deeper than ASKUE_PAYLOAD_DEPTH_MAX */
	ASKUE_REASON_BAD_JSON,         /* not JSON */
	ASKUE_REASON_NOT_OBJECT,       /* JSON, but not an object */
	ASKUE_REASON_BAD_TOPIC,        /* not meters/{serial}/readings */
	ASKUE_REASON_BAD_SERIAL,       /* serial empty, too long, control chars, or
	                                  not representable as an InfluxDB tag */
	ASKUE_REASON_BAD_METER,        /* "meter" missing or not a string */
	ASKUE_REASON_METER_MISMATCH,   /* "meter" differs from the topic's serial */
	ASKUE_REASON_BAD_READINGS,     /* "readings" missing, not an array, or empty */
	ASKUE_REASON_TOO_MANY_READINGS,/* over ASKUE_PAYLOAD_READINGS_MAX */
	ASKUE_REASON_UNKNOWN_FIELD,    /* a top-level key other than meter, readings */
	/* one reading */
	ASKUE_REASON_READING_NOT_OBJECT,
	ASKUE_REASON_BAD_TS,           /* ts missing, not an integer, before 2000 */
	ASKUE_REASON_TS_FUTURE,        /* ts later than now + tolerance */
	ASKUE_REASON_NO_IMPORT_TOTAL,  /* register 1.8.0 missing */
	ASKUE_REASON_BAD_VALUE,        /* not a number, negative, or too large */
	ASKUE_REASON_TOO_MANY_DECIMALS,/* more than 3 decimals */
	ASKUE_REASON_UNKNOWN_REGISTER, /* a key that is not ts or a known OBIS code */
	ASKUE_REASON_DUPLICATE_KEY,    /* the same key twice in one reading */
	/* after validation (set by the ingestor, not by the parser) */
	ASKUE_REASON_INFLUX_REFUSED,   /* InfluxDB refused the point (quarantined) */
	ASKUE_REASON_COUNT
};

/* The reason's stable name ("too_big", "ts_future", ...). */
const char *askue_reason_name(enum askue_reason r);

/* Fields of a reading, in line-protocol order. Registers are integer Wh;
 * power and voltage stay floats (3 decimals at most). */
enum askue_field {
	ASKUE_F_AI,  /* 1.8.0 -> ai_wh */
	ASKUE_F_T1,  /* 1.8.1 -> t1_wh */
	ASKUE_F_T2,
	ASKUE_F_T3,
	ASKUE_F_T4,
	ASKUE_F_AE,  /* 2.8.0 -> ae_wh */
	ASKUE_F_P,   /* 1.7.0 -> p_kw (float) */
	ASKUE_F_U,   /* 32.7.0 -> u_v (float) */
	ASKUE_F_COUNT
};
#define ASKUE_F_REGISTERS 6 /* the first six are integer Wh */

struct askue_reading {
	int64_t ts;                    /* Unix seconds, the meter's clock */
	unsigned have;                 /* bit (1u << field) when present */
	int64_t wh[ASKUE_F_REGISTERS]; /* when present */
	double p_kw, u_v;              /* when present */
};

/* One refused reading: its index in "readings" and a printable excerpt of
 * its JSON (control characters and non-ASCII escaped, cut to fit). */
#define ASKUE_EXCERPT_BYTES 160
struct askue_reading_reject {
	size_t index;
	enum askue_reason reason;
	char excerpt[ASKUE_EXCERPT_BYTES];
};

struct askue_payload {
	char meter[ASKUE_SERIAL_BYTES_MAX + 1];
	size_t n_readings, n_rejects;
	struct askue_reading *readings;          /* n_readings, owned */
	struct askue_reading_reject *rejects;    /* n_rejects, owned */
	int64_t ts_max;                          /* newest good reading, 0 when none */
};

/* Parse and validate one message. out is always initialised and must be
 * released with askue_payload_free, whatever is returned. Returns
 * ASKUE_REASON_OK when the message as a whole was acceptable (it may still
 * carry rejected readings, and then possibly no good one), or the reason the
 * whole message was refused. ASKUE_REASON_BAD_JSON is also returned when
 * memory ran out (the caller cannot tell a bomb from a shortage). */
enum askue_reason askue_payload_parse(const char *topic, const void *payload, size_t len,
                                      int64_t now_s, int64_t future_tolerance_s,
                                      struct askue_payload *out);
void askue_payload_free(struct askue_payload *p);

/* Helpers, exposed for the tests and the rejects file. */
/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF
 * or NUL). */
int askue_utf8_valid(const void *s, size_t n);
/* Deepest nesting of [ and { in JSON text, strings skipped; stops counting
 * (returns limit + 1) once past limit. */
int askue_json_depth(const char *s, size_t n, int limit);
/* kWh as JSON gave it -> Wh rounded to nearest; 0 when exact to 3
 * decimals, else the reason (bad_value, too_many_decimals). */
enum askue_reason askue_kwh_to_wh(double kwh, int64_t *wh);
/* Printable excerpt of bytes: ASCII printable kept, the rest \xNN, cut with
 * "..." to fit out_size. */
void askue_excerpt(const void *s, size_t n, char *out, size_t out_size);

#endif
