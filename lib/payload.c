/* payload — see payload.h. Order of checks: size, UTF-8, nesting depth (all
 * on raw bytes), then cJSON, then topic and meter, then each reading. */
#include "payload.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <float.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* cJSON allocates every value and key on its own: hundreds of malloc and
 * free a message, a fifth of the ingestor's parsing time. A message's tree
 * lives only inside askue_payload_parse, so while a thread parses, its cJSON
 * allocations come from an arena of its own (ARENA_BYTES, 16-byte aligned,
 * a poisoned gap after each under ASan), dropped whole when the parse ends.
 * cJSON's hooks are process-wide: outside a parse (other threads, other
 * uses of cJSON) and past the arena's end they are plain malloc and free. */
#define ARENA_BYTES (512u * 1024u)
#define ARENA_ALIGN 16u
struct arena {
	char *base;
	size_t used;
	int active;
};
static _Thread_local struct arena arena;
static pthread_key_t arena_key;
static int arena_key_ok;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static int in_arena(const void *p)
{
	uintptr_t b = (uintptr_t)arena.base, q = (uintptr_t)p;
	return arena.base && q >= b && q < b + ARENA_BYTES;
}

static void *arena_malloc(size_t n)
{
	size_t need = (n + 2 * ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); /* + a gap */
	if (!arena.active || need < n || need > ARENA_BYTES - arena.used)
		return malloc(n);
	char *p = arena.base + arena.used;
	arena.used += need;
	UNPOISON(p, n);
	return p;
}

static void arena_free(void *p)
{
	if (!in_arena(p))
		free(p);
}

static void arena_drop(void *base)
{
	UNPOISON(base, ARENA_BYTES);
	free(base);
}

static void arena_hooks(void)
{
	cJSON_Hooks hooks = {arena_malloc, arena_free};
	cJSON_InitHooks(&hooks);
	arena_key_ok = pthread_key_create(&arena_key, arena_drop) == 0;
}

/* Start a parse on this thread's arena (made at its first parse; freed at
 * the thread's exit); without memory for it cJSON uses malloc. */
static void arena_begin(void)
{
	pthread_once(&arena_once, arena_hooks);
	if (!arena.base) {
		arena.base = malloc(ARENA_BYTES);
		if (!arena.base)
			return;
		POISON(arena.base, ARENA_BYTES);
		if (arena_key_ok)
			pthread_setspecific(arena_key, arena.base);
	}
	arena.used = 0;
	arena.active = 1;
}

static void arena_end(void)
{
	arena.active = 0;
	if (arena.base)
		POISON(arena.base, arena.used);
	arena.used = 0;
}

static const char *const reason_names[ASKUE_REASON_COUNT] = {
	[ASKUE_REASON_OK] = "ok",
	[ASKUE_REASON_TOO_BIG] = "too_big",
	[ASKUE_REASON_BAD_UTF8] = "bad_utf8",
	[ASKUE_REASON_TOO_DEEP] = "too_deep",
	[ASKUE_REASON_BAD_JSON] = "bad_json",
	[ASKUE_REASON_NOT_OBJECT] = "not_object",
	[ASKUE_REASON_BAD_TOPIC] = "bad_topic",
	[ASKUE_REASON_BAD_SERIAL] = "bad_serial",
	[ASKUE_REASON_BAD_METER] = "bad_meter",
	[ASKUE_REASON_METER_MISMATCH] = "meter_mismatch",
	[ASKUE_REASON_BAD_READINGS] = "bad_readings",
	[ASKUE_REASON_TOO_MANY_READINGS] = "too_many_readings",
	[ASKUE_REASON_UNKNOWN_FIELD] = "unknown_field",
	[ASKUE_REASON_READING_NOT_OBJECT] = "reading_not_object",
	[ASKUE_REASON_BAD_TS] = "bad_ts",
	[ASKUE_REASON_TS_FUTURE] = "ts_future",
	[ASKUE_REASON_NO_IMPORT_TOTAL] = "no_import_total",
	[ASKUE_REASON_BAD_VALUE] = "bad_value",
	[ASKUE_REASON_TOO_MANY_DECIMALS] = "too_many_decimals",
	[ASKUE_REASON_UNKNOWN_REGISTER] = "unknown_register",
	[ASKUE_REASON_DUPLICATE_KEY] = "duplicate_key",
	[ASKUE_REASON_INFLUX_REFUSED] = "influx_refused",
};

const char *askue_reason_name(enum askue_reason r)
{
	if ((unsigned)r >= ASKUE_REASON_COUNT)
		return "unknown";
	return reason_names[r];
}

/* OBIS short codes of the contract, by field. */
static const char *const obis[ASKUE_F_COUNT] = {
	"1.8.0", "1.8.1", "1.8.2", "1.8.3", "1.8.4", "2.8.0", "1.7.0", "32.7.0",
};

/* 1 when none of the 8 bytes at p is 0 or >= 0x80 (plain ASCII, no NUL). */
static int ascii8(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	return !(v & highs) && !((v - ones) & ~v & highs);
}

int askue_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s, *end = p + n;
	while (p < end) {
		if (end - p >= 8 && ascii8(p)) {
			p += 8;
			continue;
		}
		unsigned c = *p;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		unsigned cp, min;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < len)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += len;
	}
	return 1;
}

int askue_json_depth(const char *s, size_t n, int limit)
{
	int depth = 0, deepest = 0, in_string = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				return limit + 1;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

enum askue_reason askue_kwh_to_wh(double kwh, int64_t *wh)
{
	if (!isfinite(kwh) || kwh < 0 || kwh > ASKUE_REGISTER_VALUE_MAX)
		return ASKUE_REASON_BAD_VALUE;
	double scaled = kwh * 1000.0;
	double nearest = nearbyint(scaled);
	/* The double for 10.001 is 10.000999..., so scaled is a hair from an
	 * integer: allow the rounding error of the parse and the product (a few
	 * ulps), nothing like a fourth decimal (>= 0.1 away). */
	double tolerance = 1e-6 + 8 * DBL_EPSILON * scaled;
	if (fabs(scaled - nearest) > tolerance)
		return ASKUE_REASON_TOO_MANY_DECIMALS;
	*wh = (int64_t)nearest;
	return ASKUE_REASON_OK;
}

void askue_excerpt(const void *s, size_t n, char *out, size_t out_size)
{
	const unsigned char *p = s;
	size_t o = 0;
	if (out_size < 8) {
		if (out_size)
			out[0] = 0;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t need = (c >= 0x20 && c < 0x7F && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
		if (o + need + 4 > out_size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			out[o++] = (char)c;
		else if (need == 2)
			out[o++] = '\\', out[o++] = '\\';
		else {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\', out[o++] = 'x';
			out[o++] = hex[c >> 4], out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
}

/* topic meters/{serial}/readings -> serial (validated) in out. */
static enum askue_reason topic_serial(const char *topic, char *out)
{
	static const char prefix[] = "meters/", suffix[] = "/readings";
	size_t n = topic ? strlen(topic) : 0;
	size_t pn = sizeof prefix - 1, sn = sizeof suffix - 1;
	if (n <= pn + sn || memcmp(topic, prefix, pn) || memcmp(topic + n - sn, suffix, sn))
		return ASKUE_REASON_BAD_TOPIC;
	const char *serial = topic + pn;
	size_t len = n - pn - sn;
	if (memchr(serial, '/', len))
		return ASKUE_REASON_BAD_TOPIC;
	if (len > ASKUE_SERIAL_BYTES_MAX || !askue_utf8_valid(serial, len))
		return ASKUE_REASON_BAD_SERIAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)serial[i] < 0x20 || serial[i] == 0x7F)
			return ASKUE_REASON_BAD_SERIAL;
	if (!askue_lineproto_tag_ok(serial, len))
		return ASKUE_REASON_BAD_SERIAL;
	memcpy(out, serial, len);
	out[len] = 0;
	return ASKUE_REASON_OK;
}

static void reject_reading(struct askue_payload *p, size_t index, const cJSON *item,
                           enum askue_reason reason)
{
	struct askue_reading_reject *r = &p->rejects[p->n_rejects++];
	r->index = index;
	r->reason = reason;
	r->excerpt[0] = 0;
	char *text = cJSON_PrintUnformatted(item);
	if (text) {
		askue_excerpt(text, strlen(text), r->excerpt, sizeof r->excerpt);
		cJSON_free(text);
	}
}

static int field_of(const char *key)
{
	for (int f = 0; f < ASKUE_F_COUNT; f++)
		if (!strcmp(key, obis[f]))
			return f;
	return -1;
}

static enum askue_reason parse_ts(const cJSON *v, int64_t now_s, int64_t tolerance_s,
                                  int64_t *ts)
{
	if (!cJSON_IsNumber(v))
		return ASKUE_REASON_BAD_TS;
	double d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)ASKUE_READING_TS_MIN || d > 1e12)
		return ASKUE_REASON_BAD_TS;
	int64_t t = (int64_t)d;
	if (t > now_s + tolerance_s)
		return ASKUE_REASON_TS_FUTURE;
	*ts = t;
	return ASKUE_REASON_OK;
}

static enum askue_reason parse_value(const cJSON *v, int field, struct askue_reading *r)
{
	if (!cJSON_IsNumber(v))
		return ASKUE_REASON_BAD_VALUE;
	int64_t wh;
	enum askue_reason why = askue_kwh_to_wh(v->valuedouble, &wh);
	if (why)
		return why;
	if (field < ASKUE_F_REGISTERS)
		r->wh[field] = wh;
	else if (field == ASKUE_F_P)
		r->p_kw = (double)wh / 1000.0;
	else
		r->u_v = (double)wh / 1000.0;
	return ASKUE_REASON_OK;
}

/* One element of "readings" -> *r, or the reason it is refused. */
static enum askue_reason parse_reading(const cJSON *item, int64_t now_s, int64_t tolerance_s,
                                       struct askue_reading *r)
{
	if (!cJSON_IsObject(item))
		return ASKUE_REASON_READING_NOT_OBJECT;
	memset(r, 0, sizeof *r);
	int have_ts = 0;
	/* Every key is looked at, in order, so duplicates and unknown keys are
	 * seen; the first fault in a reading is its reason. */
	for (const cJSON *v = item->child; v; v = v->next) {
		const char *key = v->string ? v->string : "";
		if (!strcmp(key, "ts")) {
			if (have_ts)
				return ASKUE_REASON_DUPLICATE_KEY;
			have_ts = 1;
			enum askue_reason why = parse_ts(v, now_s, tolerance_s, &r->ts);
			if (why)
				return why;
			continue;
		}
		int f = field_of(key);
		if (f < 0)
			return ASKUE_REASON_UNKNOWN_REGISTER;
		if (r->have & (1u << f))
			return ASKUE_REASON_DUPLICATE_KEY;
		r->have |= 1u << f;
		enum askue_reason why = parse_value(v, f, r);
		if (why)
			return why;
	}
	if (!have_ts)
		return ASKUE_REASON_BAD_TS;
	if (!(r->have & (1u << ASKUE_F_AI)))
		return ASKUE_REASON_NO_IMPORT_TOTAL;
	return ASKUE_REASON_OK;
}

/* The object's top level: meter and readings, nothing else. */
static enum askue_reason check_top(const cJSON *root, const char *serial,
                                   const cJSON **readings)
{
	const cJSON *meter = NULL;
	*readings = NULL;
	for (const cJSON *v = root->child; v; v = v->next) {
		const char *key = v->string ? v->string : "";
		int is_meter = !strcmp(key, "meter"), is_readings = !strcmp(key, "readings");
		if ((is_meter && meter) || (is_readings && *readings))
			return ASKUE_REASON_DUPLICATE_KEY;
		if (is_meter)
			meter = v;
		else if (is_readings)
			*readings = v;
		else
			return ASKUE_REASON_UNKNOWN_FIELD;
	}
	if (!meter || !cJSON_IsString(meter) || !meter->valuestring)
		return ASKUE_REASON_BAD_METER;
	if (strcmp(meter->valuestring, serial) != 0)
		return ASKUE_REASON_METER_MISMATCH;
	if (!*readings || !cJSON_IsArray(*readings) || !(*readings)->child)
		return ASKUE_REASON_BAD_READINGS;
	if (cJSON_GetArraySize(*readings) > ASKUE_PAYLOAD_READINGS_MAX)
		return ASKUE_REASON_TOO_MANY_READINGS;
	return ASKUE_REASON_OK;
}

static enum askue_reason parse_readings(const cJSON *readings, int64_t now_s,
                                        int64_t tolerance_s, struct askue_payload *out)
{
	size_t n = (size_t)cJSON_GetArraySize(readings);
	out->readings = calloc(n, sizeof *out->readings);
	out->rejects = calloc(n, sizeof *out->rejects);
	if (!out->readings || !out->rejects)
		return ASKUE_REASON_BAD_JSON;
	size_t index = 0;
	for (const cJSON *item = readings->child; item; item = item->next, index++) {
		struct askue_reading *r = &out->readings[out->n_readings];
		enum askue_reason why = parse_reading(item, now_s, tolerance_s, r);
		if (why) {
			reject_reading(out, index, item, why);
			continue;
		}
		if (r->ts > out->ts_max)
			out->ts_max = r->ts;
		out->n_readings++;
	}
	return ASKUE_REASON_OK;
}

enum askue_reason askue_payload_parse(const char *topic, const void *payload, size_t len,
                                      int64_t now_s, int64_t future_tolerance_s,
                                      struct askue_payload *out)
{
	memset(out, 0, sizeof *out);
	if (len > ASKUE_PAYLOAD_BYTES_MAX)
		return ASKUE_REASON_TOO_BIG;
	if (!askue_utf8_valid(payload, len))
		return ASKUE_REASON_BAD_UTF8;
	if (askue_json_depth(payload, len, ASKUE_PAYLOAD_DEPTH_MAX) > ASKUE_PAYLOAD_DEPTH_MAX)
		return ASKUE_REASON_TOO_DEEP;
	enum askue_reason why = topic_serial(topic, out->meter);
	if (why)
		return why;
	/* No NUL inside (UTF-8 check), so length-bounded parsing sees it all. */
	const char *end = NULL;
	arena_begin();
	cJSON *root = cJSON_ParseWithLengthOpts(payload, len, &end, 0);
	if (!root) {
		arena_end();
		return ASKUE_REASON_BAD_JSON;
	}
	const char *p = end, *stop = (const char *)payload + len;
	while (p < stop && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	const cJSON *readings;
	if (p != stop)
		why = ASKUE_REASON_BAD_JSON; /* trailing garbage */
	else if (!cJSON_IsObject(root))
		why = ASKUE_REASON_NOT_OBJECT;
	else if (!(why = check_top(root, out->meter, &readings)))
		why = parse_readings(readings, now_s, future_tolerance_s, out);
	cJSON_Delete(root);
	arena_end();
	return why;
}

void askue_payload_free(struct askue_payload *p)
{
	if (!p)
		return;
	free(p->readings);
	free(p->rejects);
	p->readings = NULL;
	p->rejects = NULL;
	p->n_readings = p->n_rejects = 0;
}
