/* Unit tests: lib/payload.c — the readings contract of DESIGN.md: what is
 * kept, what is refused and why, and the bombs refused without harm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "payload.h"

#define NOW 1764288000
#define TOL 300

static enum askue_reason parse(const char *topic, const char *json, struct askue_payload *p)
{
	return askue_payload_parse(topic, json, strlen(json), NOW, TOL, p);
}

static void good_message(void **state)
{
	(void)state;
	struct askue_payload p;
	const char *j = "{\"meter\": \"M1\", \"readings\": [{\"ts\": 1764288000, \"1.8.0\": "
	                "12345.678, \"1.8.1\": 8000.1, \"1.8.2\": 4345.578}]}";
	assert_int_equal(parse("meters/M1/readings", j, &p), ASKUE_REASON_OK);
	assert_string_equal(p.meter, "M1");
	assert_int_equal(p.n_readings, 1);
	assert_int_equal(p.n_rejects, 0);
	const struct askue_reading *r = &p.readings[0];
	assert_int_equal(r->ts, 1764288000);
	assert_int_equal(r->wh[ASKUE_F_AI], 12345678);
	assert_int_equal(r->wh[ASKUE_F_T1], 8000100);
	assert_int_equal(r->wh[ASKUE_F_T2], 4345578);
	assert_int_equal(r->have, (1u << ASKUE_F_AI) | (1u << ASKUE_F_T1) | (1u << ASKUE_F_T2));
	assert_int_equal(p.ts_max, 1764288000);
	askue_payload_free(&p);
}

static void every_register(void **state)
{
	(void)state;
	struct askue_payload p;
	const char *j = "{\"readings\":[{\"32.7.0\":230.1,\"1.7.0\":1.25,\"2.8.0\":3,"
	                "\"1.8.4\":4,\"1.8.3\":3.5,\"1.8.2\":2,\"1.8.1\":1,\"1.8.0\":10.5,"
	                "\"ts\":1764287000}],\"meter\":\"X\"}";
	assert_int_equal(parse("meters/X/readings", j, &p), ASKUE_REASON_OK);
	assert_int_equal(p.n_readings, 1);
	const struct askue_reading *r = &p.readings[0];
	assert_int_equal(r->have, (1u << ASKUE_F_COUNT) - 1);
	assert_int_equal(r->wh[ASKUE_F_AI], 10500);
	assert_int_equal(r->wh[ASKUE_F_T3], 3500);
	assert_int_equal(r->wh[ASKUE_F_T4], 4000);
	assert_int_equal(r->wh[ASKUE_F_AE], 3000);
	assert_true(r->p_kw == 1.25);
	assert_true(r->u_v > 230.0999 && r->u_v < 230.1001);
	askue_payload_free(&p);
}

/* 10.001 is 10.000999... as a double: rounding to nearest gives 10001 Wh. */
static void rounding_to_nearest(void **state)
{
	(void)state;
	static const struct { double kwh; int64_t wh; } cases[] = {
		{10.001, 10001}, {0.001, 1}, {0.1, 100}, {0.3, 300}, {1.005, 1005},
		{2.675, 2675}, {4.35, 4350}, {123456.789, 123456789}, {999999.999, 999999999},
		{0, 0}, {1e9, 1000000000000}, {0.007, 7}, {8000.1, 8000100},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t wh = -1;
		assert_int_equal(askue_kwh_to_wh(cases[i].kwh, &wh), ASKUE_REASON_OK);
		assert_int_equal(wh, cases[i].wh);
	}
	/* every value with three decimals up to 100 kWh rounds back exactly */
	for (int64_t wh = 0; wh <= 100000; wh++) {
		char text[32];
		snprintf(text, sizeof text, "%lld.%03lld", (long long)(wh / 1000),
		         (long long)(wh % 1000));
		int64_t got = -1;
		assert_int_equal(askue_kwh_to_wh(strtod(text, NULL), &got), ASKUE_REASON_OK);
		assert_int_equal(got, wh);
	}
	int64_t wh;
	assert_int_equal(askue_kwh_to_wh(10.0001, &wh), ASKUE_REASON_TOO_MANY_DECIMALS);
	assert_int_equal(askue_kwh_to_wh(10.0015, &wh), ASKUE_REASON_TOO_MANY_DECIMALS);
	assert_int_equal(askue_kwh_to_wh(0.0005, &wh), ASKUE_REASON_TOO_MANY_DECIMALS);
	assert_int_equal(askue_kwh_to_wh(-0.001, &wh), ASKUE_REASON_BAD_VALUE);
	assert_int_equal(askue_kwh_to_wh(1e10, &wh), ASKUE_REASON_BAD_VALUE);
}

static void bad_readings_beside_good(void **state)
{
	(void)state;
	struct askue_payload p;
	const char *j =
		"{\"meter\":\"M1\",\"readings\":["
		"{\"ts\":1764280000,\"1.8.0\":1.001},"                 /* 0 good */
		"{\"ts\":1764280001,\"1.8.0\":-1},"                    /* 1 bad_value */
		"{\"ts\":1764280002,\"1.8.0\":1.0001},"                /* 2 too_many_decimals */
		"{\"ts\":1764289000,\"1.8.0\":1},"                     /* 3 ts_future */
		"{\"ts\":1764280003.5,\"1.8.0\":1},"                   /* 4 bad_ts */
		"{\"1.8.0\":1},"                                       /* 5 bad_ts (missing) */
		"{\"ts\":1764280004,\"1.8.1\":1},"                     /* 6 no_import_total */
		"{\"ts\":1764280005,\"1.8.0\":1,\"9.9.9\":1},"         /* 7 unknown_register */
		"{\"ts\":1764280006,\"1.8.0\":1,\"1.8.0\":2},"         /* 8 duplicate_key */
		"[1,2],"                                               /* 9 reading_not_object */
		"{\"ts\":\"1764280007\",\"1.8.0\":1},"                 /* 10 bad_ts (string) */
		"{\"ts\":1764280008,\"1.8.0\":\"5\"},"                 /* 11 bad_value (string) */
		"{\"ts\":1764280009,\"1.8.0\":true},"                  /* 12 bad_value */
		"{\"ts\":900000000,\"1.8.0\":1},"                      /* 13 bad_ts (1998) */
		"{\"ts\":1764288300,\"1.8.0\":7}"                      /* 14 good: now + tolerance */
		"]}";
	assert_int_equal(parse("meters/M1/readings", j, &p), ASKUE_REASON_OK);
	assert_int_equal(p.n_readings, 2);
	assert_int_equal(p.readings[0].wh[ASKUE_F_AI], 1001);
	assert_int_equal(p.readings[1].wh[ASKUE_F_AI], 7000);
	assert_int_equal(p.ts_max, 1764288300);
	static const struct { size_t index; enum askue_reason reason; } want[] = {
		{1, ASKUE_REASON_BAD_VALUE}, {2, ASKUE_REASON_TOO_MANY_DECIMALS},
		{3, ASKUE_REASON_TS_FUTURE}, {4, ASKUE_REASON_BAD_TS}, {5, ASKUE_REASON_BAD_TS},
		{6, ASKUE_REASON_NO_IMPORT_TOTAL}, {7, ASKUE_REASON_UNKNOWN_REGISTER},
		{8, ASKUE_REASON_DUPLICATE_KEY}, {9, ASKUE_REASON_READING_NOT_OBJECT},
		{10, ASKUE_REASON_BAD_TS}, {11, ASKUE_REASON_BAD_VALUE}, {12, ASKUE_REASON_BAD_VALUE},
		{13, ASKUE_REASON_BAD_TS},
	};
	assert_int_equal(p.n_rejects, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < p.n_rejects; i++) {
		assert_int_equal(p.rejects[i].index, want[i].index);
		assert_string_equal(askue_reason_name(p.rejects[i].reason),
		                    askue_reason_name(want[i].reason));
	}
	assert_non_null(strstr(p.rejects[0].excerpt, "-1"));
	askue_payload_free(&p);
}

static void any_order_and_backlog(void **state)
{
	(void)state;
	char j[60000];
	size_t o = (size_t)snprintf(j, sizeof j, "{\"meter\":\"M\",\"readings\":[");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(j + o, sizeof j - o, "%s{\"ts\":%d,\"1.8.0\":%d.%03d}",
		                      i ? "," : "", NOW - (i * 7919) % 100000, i, i);
	snprintf(j + o, sizeof j - o, "]}");
	struct askue_payload p;
	assert_int_equal(parse("meters/M/readings", j, &p), ASKUE_REASON_OK);
	assert_int_equal(p.n_readings, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(p.readings[i].wh[ASKUE_F_AI], i * 1000 + i);
	assert_int_equal(p.ts_max, NOW);
	askue_payload_free(&p);
}

static void whole_message_refusals(void **state)
{
	(void)state;
	static const struct { const char *topic, *json; enum askue_reason why; } cases[] = {
		{"meters/M/readings", "", ASKUE_REASON_BAD_JSON},
		{"meters/M/readings", "not json", ASKUE_REASON_BAD_JSON},
		{"meters/M/readings", "{\"meter\":\"M\",\"readings\":[]} x", ASKUE_REASON_BAD_JSON},
		{"meters/M/readings", "{\"meter\":\"M\",", ASKUE_REASON_BAD_JSON},
		{"meters/M/readings", "[1]", ASKUE_REASON_NOT_OBJECT},
		{"meters/M/readings", "42", ASKUE_REASON_NOT_OBJECT},
		{"meters/M/readings", "\"str\"", ASKUE_REASON_NOT_OBJECT},
		{"meters/M/readings", "{\"readings\":[{}]}", ASKUE_REASON_BAD_METER},
		{"meters/M/readings", "{\"meter\":5,\"readings\":[{}]}", ASKUE_REASON_BAD_METER},
		{"meters/M/readings", "{\"meter\":\"N\",\"readings\":[{}]}",
		 ASKUE_REASON_METER_MISMATCH},
		{"meters/M/readings", "{\"meter\":\"m\",\"readings\":[{}]}",
		 ASKUE_REASON_METER_MISMATCH},
		{"meters/M/readings", "{\"meter\":\"M\"}", ASKUE_REASON_BAD_READINGS},
		{"meters/M/readings", "{\"meter\":\"M\",\"readings\":[]}", ASKUE_REASON_BAD_READINGS},
		{"meters/M/readings", "{\"meter\":\"M\",\"readings\":{}}", ASKUE_REASON_BAD_READINGS},
		{"meters/M/readings", "{\"meter\":\"M\",\"readings\":[{}],\"x\":1}",
		 ASKUE_REASON_UNKNOWN_FIELD},
		{"meters/M/readings", "{\"meter\":\"M\",\"meter\":\"M\",\"readings\":[{}]}",
		 ASKUE_REASON_DUPLICATE_KEY},
		{"meters/M/status", "{}", ASKUE_REASON_BAD_TOPIC},
		{"meters//readings", "{}", ASKUE_REASON_BAD_TOPIC},
		{"meters/a/b/readings", "{}", ASKUE_REASON_BAD_TOPIC},
		{"x/M/readings", "{}", ASKUE_REASON_BAD_TOPIC},
		{"meters/bad\\/readings", "{}", ASKUE_REASON_BAD_SERIAL},
		{"meters/a\\ b/readings", "{}", ASKUE_REASON_BAD_SERIAL},
		{"meters/a\tb/readings", "{}", ASKUE_REASON_BAD_SERIAL},
		{"meters/0123456789012345678901234567890123456789012345678901234567890123X/readings",
		 "{}", ASKUE_REASON_BAD_SERIAL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct askue_payload p;
		enum askue_reason got = parse(cases[i].topic, cases[i].json, &p);
		if (got != cases[i].why)
			fail_msg("case %zu (%s %s): got %s, want %s", i, cases[i].topic, cases[i].json,
			         askue_reason_name(got), askue_reason_name(cases[i].why));
		assert_int_equal(p.n_readings, 0);
		askue_payload_free(&p);
	}
	struct askue_payload p;
	assert_int_equal(askue_payload_parse(NULL, "{}", 2, NOW, TOL, &p), ASKUE_REASON_BAD_TOPIC);
	askue_payload_free(&p);
}

static void serials_of_every_kind(void **state)
{
	(void)state;
	static const char *const serials[] = {
		"a b", "a,b", "a=b", "a\"b", "a\\b", "x\\\\y", "Счётчик-7", "=", " lead", "trail ",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	for (size_t i = 0; i < sizeof serials / sizeof serials[0]; i++) {
		char topic[200], json[400], esc[200];
		size_t o = 0;
		for (const char *s = serials[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				esc[o++] = '\\';
			esc[o++] = *s;
		}
		esc[o] = 0;
		snprintf(topic, sizeof topic, "meters/%s/readings", serials[i]);
		snprintf(json, sizeof json, "{\"meter\":\"%s\",\"readings\":[{\"ts\":%d,\"1.8.0\":1}]}",
		         esc, NOW);
		struct askue_payload p;
		enum askue_reason got = parse(topic, json, &p);
		if (got)
			fail_msg("serial '%s': %s", serials[i], askue_reason_name(got));
		assert_string_equal(p.meter, serials[i]);
		assert_int_equal(p.n_readings, 1);
		askue_payload_free(&p);
	}
}

static void size_limit(void **state)
{
	(void)state;
	size_t n = ASKUE_PAYLOAD_BYTES_MAX + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	struct askue_payload p;
	assert_int_equal(askue_payload_parse("meters/M/readings", big, n, NOW, TOL, &p),
	                 ASKUE_REASON_TOO_BIG);
	askue_payload_free(&p);
	/* exactly at the limit: parsed (and refused for its content only) */
	assert_int_equal(askue_payload_parse("meters/M/readings", big, n - 1, NOW, TOL, &p),
	                 ASKUE_REASON_BAD_JSON);
	askue_payload_free(&p);
	free(big);
}

static void utf8(void **state)
{
	(void)state;
	static const struct { const char *s; size_t n; int ok; } cases[] = {
		{"plain", 5, 1}, {"Счётчик", 14, 1}, {"\xe2\x82\xac", 3, 1},
		{"\xf0\x9f\x92\xa1", 4, 1}, {"\xc3\x28", 2, 0}, {"\xc0\xaf", 2, 0},
		{"\xe0\x80\xaf", 3, 0}, {"\xed\xa0\x80", 3, 0}, {"\xf4\x90\x80\x80", 4, 0},
		{"\xff", 1, 0}, {"\xe2\x82", 2, 0}, {"a\0b", 3, 0}, {"\x80", 1, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(askue_utf8_valid(cases[i].s, cases[i].n), cases[i].ok);
	struct askue_payload p;
	const char bad[] = "{\"meter\":\"M\xff\",\"readings\":[]}";
	assert_int_equal(askue_payload_parse("meters/M/readings", bad, sizeof bad - 1, NOW, TOL, &p),
	                 ASKUE_REASON_BAD_UTF8);
	askue_payload_free(&p);
	const char nul[] = "{\"meter\":\"M\"}\0{}";
	assert_int_equal(askue_payload_parse("meters/M/readings", nul, sizeof nul - 1, NOW, TOL, &p),
	                 ASKUE_REASON_BAD_UTF8);
	askue_payload_free(&p);
}

static void nesting_bombs(void **state)
{
	(void)state;
	size_t n = ASKUE_PAYLOAD_BYTES_MAX;
	char *bomb = malloc(n);
	assert_non_null(bomb);
	memset(bomb, '[', n);
	struct askue_payload p;
	assert_int_equal(askue_payload_parse("meters/M/readings", bomb, n, NOW, TOL, &p),
	                 ASKUE_REASON_TOO_DEEP);
	askue_payload_free(&p);
	for (size_t i = 0; i < n; i++)
		bomb[i] = i % 5 == 0 ? '{' : "\"a\":"[i % 5 - 1];
	assert_int_equal(askue_payload_parse("meters/M/readings", bomb, n, NOW, TOL, &p),
	                 ASKUE_REASON_TOO_DEEP);
	askue_payload_free(&p);
	free(bomb);
	/* brackets inside strings do not count */
	const char *j = "{\"meter\":\"M\",\"readings\":[{\"ts\":1764288000,\"1.8.0\":1}],"
	                "\"x\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}";
	assert_int_equal(parse("meters/M/readings", j, &p), ASKUE_REASON_UNKNOWN_FIELD);
	askue_payload_free(&p);
	assert_int_equal(askue_json_depth("[[[]]]", 6, 8), 3);
	assert_int_equal(askue_json_depth("\"[[[\"", 5, 8), 0);
	assert_int_equal(askue_json_depth("[[[[[[[[[[", 10, 8), 9);
	/* a depth of exactly the limit is fine for the depth check */
	assert_int_equal(parse("meters/M/readings", "[[[[[[[[]]]]]]]]", &p), ASKUE_REASON_NOT_OBJECT);
	askue_payload_free(&p);
	assert_int_equal(parse("meters/M/readings", "[[[[[[[[[]]]]]]]]]", &p), ASKUE_REASON_TOO_DEEP);
	askue_payload_free(&p);
}

static void too_many_readings(void **state)
{
	(void)state;
	size_t cap = ASKUE_PAYLOAD_BYTES_MAX;
	char *j = malloc(cap);
	assert_non_null(j);
	size_t o = (size_t)snprintf(j, cap, "{\"meter\":\"M\",\"readings\":[");
	for (int i = 0; i <= ASKUE_PAYLOAD_READINGS_MAX; i++)
		o += (size_t)snprintf(j + o, cap - o, "%s1", i ? "," : "");
	o += (size_t)snprintf(j + o, cap - o, "]}");
	struct askue_payload p;
	assert_int_equal(askue_payload_parse("meters/M/readings", j, o, NOW, TOL, &p),
	                 ASKUE_REASON_TOO_MANY_READINGS);
	askue_payload_free(&p);
	free(j);
}

static void reason_names(void **state)
{
	(void)state;
	for (int r = 0; r < ASKUE_REASON_COUNT; r++) {
		const char *name = askue_reason_name((enum askue_reason)r);
		assert_non_null(name);
		assert_true(strlen(name) > 0);
		for (const char *c = name; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_' || (*c >= '0' && *c <= '9'));
		for (int q = 0; q < r; q++)
			assert_string_not_equal(name, askue_reason_name((enum askue_reason)q));
	}
	assert_string_equal(askue_reason_name(ASKUE_REASON_COUNT), "unknown");
}

static void excerpts(void **state)
{
	(void)state;
	char out[16];
	askue_excerpt("ab\tc\\\xd0\xb6", 7, out, sizeof out);
	assert_string_equal(out, "ab\\x09c\\\\...");
	askue_excerpt("short", 5, out, sizeof out);
	assert_string_equal(out, "short");
	askue_excerpt("0123456789abcdefghij", 20, out, sizeof out);
	assert_int_equal(strlen(out), 15);
	assert_string_equal(out + 12, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_message),
		cmocka_unit_test(every_register),
		cmocka_unit_test(rounding_to_nearest),
		cmocka_unit_test(bad_readings_beside_good),
		cmocka_unit_test(any_order_and_backlog),
		cmocka_unit_test(whole_message_refusals),
		cmocka_unit_test(serials_of_every_kind),
		cmocka_unit_test(size_limit),
		cmocka_unit_test(utf8),
		cmocka_unit_test(nesting_bombs),
		cmocka_unit_test(too_many_readings),
		cmocka_unit_test(reason_names),
		cmocka_unit_test(excerpts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
