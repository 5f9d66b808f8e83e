/* Unit tests: lib/lineproto.c — reading and ingest points, tag escaping for
 * any serial, and a buffer that never overflows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lineproto.h"
#include "payload.h"

static void escaping(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{"M1", "M1"},
		{"a b", "a\\ b"},
		{"a,b", "a\\,b"},
		{"a=b", "a\\=b"},
		{"a\"b", "a\"b"},
		{"a\\b", "a\\b"},
		{"x\\\\y", "x\\\\y"},
		{"Счётчик 7", "Счётчик\\ 7"},
		{" ,=", "\\ \\,\\="},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		size_t n = askue_lineproto_escape_tag(cases[i].in, strlen(cases[i].in), out, sizeof out);
		assert_int_equal(n, strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		assert_true(askue_lineproto_tag_ok(cases[i].in, strlen(cases[i].in)));
	}
	/* what InfluxDB 1.x cannot read back exactly */
	static const char *const bad[] = {"", "tail\\", "a\\ b", "a\\,b", "a\\=b", "a\nb",
	                                  "a\rb", "\x7f", "x\\\\"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[64];
		assert_false(askue_lineproto_tag_ok(bad[i], strlen(bad[i])));
		assert_int_equal(askue_lineproto_escape_tag(bad[i], strlen(bad[i]), out, sizeof out),
		                 (size_t)-1);
	}
	char small[4];
	assert_int_equal(askue_lineproto_escape_tag("a b", 3, small, sizeof small), (size_t)-1);
	assert_int_equal(askue_lineproto_escape_tag("abc", 3, small, sizeof small), 3);
}

static void reading_line(void **state)
{
	(void)state;
	char buf[512];
	struct askue_linebuf lb = {buf, 0, sizeof buf};
	struct askue_reading r = {0};
	r.ts = 1764288000;
	r.have = (1u << ASKUE_F_AI) | (1u << ASKUE_F_T1) | (1u << ASKUE_F_T2);
	r.wh[ASKUE_F_AI] = 12345678;
	r.wh[ASKUE_F_T1] = 8000100;
	r.wh[ASKUE_F_T2] = 4345578;
	assert_int_equal(askue_lineproto_reading(&lb, "M1", &r), ASKUE_OK);
	assert_string_equal(buf, "reading,meter=M1 ai_wh=12345678i,t1_wh=8000100i,"
	                         "t2_wh=4345578i 1764288000\n");
	lb.len = 0;
	r.have = (1u << ASKUE_F_COUNT) - 1;
	r.wh[ASKUE_F_T3] = 1;
	r.wh[ASKUE_F_T4] = 0;
	r.wh[ASKUE_F_AE] = 3000;
	r.p_kw = 1.25;
	r.u_v = 230.1;
	assert_int_equal(askue_lineproto_reading(&lb, "a b,c=d\"ж", &r), ASKUE_OK);
	assert_string_equal(buf, "reading,meter=a\\ b\\,c\\=d\"ж ai_wh=12345678i,t1_wh=8000100i,"
	                         "t2_wh=4345578i,t3_wh=1i,t4_wh=0i,ae_wh=3000i,p_kw=1.250,"
	                         "u_v=230.100 1764288000\n");
	assert_int_equal(askue_lineproto_count(buf, lb.len), 1);
}

/* The whole path: JSON in, line out, 10.001 kWh is 10001 Wh. */
static void from_payload(void **state)
{
	(void)state;
	struct askue_payload p;
	const char *j = "{\"meter\":\"M\",\"readings\":[{\"ts\":1764288000,\"1.8.0\":10.001},"
	                "{\"ts\":1764287000,\"1.8.0\":0.3,\"2.8.0\":2.675}]}";
	assert_int_equal(askue_payload_parse("meters/M/readings", j, strlen(j), 1764288000, 0, &p),
	                 ASKUE_REASON_OK);
	char buf[512];
	struct askue_linebuf lb = {buf, 0, sizeof buf};
	for (size_t i = 0; i < p.n_readings; i++)
		assert_int_equal(askue_lineproto_reading(&lb, p.meter, &p.readings[i]), ASKUE_OK);
	assert_string_equal(buf, "reading,meter=M ai_wh=10001i 1764288000\n"
	                         "reading,meter=M ai_wh=300i,ae_wh=2675i 1764287000\n");
	assert_int_equal(askue_lineproto_count(buf, lb.len), 2);
	askue_payload_free(&p);
}

static void full_buffer_left_as_it_was(void **state)
{
	(void)state;
	char buf[60];
	struct askue_linebuf lb = {buf, 0, sizeof buf};
	struct askue_reading r = {.ts = 1764288000, .have = 1u << ASKUE_F_AI};
	r.wh[0] = 1;
	assert_int_equal(askue_lineproto_reading(&lb, "M", &r), ASKUE_OK);
	size_t len = lb.len;
	assert_int_equal(askue_lineproto_reading(&lb, "M", &r), ASKUE_ERR_LIMIT);
	assert_int_equal(lb.len, len);
	assert_int_equal(strlen(buf), len);
	/* no fields, unwritable tag */
	struct askue_reading none = {.ts = 1};
	lb.len = 0;
	assert_int_equal(askue_lineproto_reading(&lb, "M", &none), ASKUE_ERR_INVALID);
	assert_int_equal(lb.len, 0);
	assert_int_equal(askue_lineproto_reading(&lb, "bad\\", &r), ASKUE_ERR_INVALID);
	assert_int_equal(lb.len, 0);
}

static void ingest_point(void **state)
{
	(void)state;
	char buf[512];
	struct askue_linebuf lb = {buf, 0, sizeof buf};
	const char *tags[] = {"client", "askue ingestor,1", "host", "vm", "empty", ""};
	assert_int_equal(askue_lineproto_begin(&lb, "ingest", tags, 6), ASKUE_OK);
	assert_int_equal(askue_lineproto_end(&lb, 5), ASKUE_ERR_INVALID); /* no field yet */
	assert_int_equal(askue_lineproto_int(&lb, "messages", 42), ASKUE_OK);
	assert_int_equal(askue_lineproto_float(&lb, "readings_per_s", 1234.5678), ASKUE_OK);
	assert_int_equal(askue_lineproto_int(&lb, "rej_bad_ts", 0), ASKUE_OK);
	assert_int_equal(askue_lineproto_end(&lb, 1764288000), ASKUE_OK);
	assert_string_equal(buf, "ingest,client=askue\\ ingestor\\,1,host=vm messages=42i,"
	                         "readings_per_s=1234.568,rej_bad_ts=0i 1764288000\n");
	/* a second point after the first */
	assert_int_equal(askue_lineproto_begin(&lb, "ingest", NULL, 0), ASKUE_OK);
	assert_int_equal(askue_lineproto_int(&lb, "x", -1), ASKUE_OK);
	assert_int_equal(askue_lineproto_end(&lb, 1), ASKUE_OK);
	assert_int_equal(askue_lineproto_count(buf, lb.len), 2);
	assert_non_null(strstr(buf, "\ningest x=-1i 1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping),
		cmocka_unit_test(reading_line),
		cmocka_unit_test(from_payload),
		cmocka_unit_test(full_buffer_left_as_it_was),
		cmocka_unit_test(ingest_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
