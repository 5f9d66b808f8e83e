/* Unit tests: lib/date.c — strict dates, periods and the time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "date.h"

static void parse_strict(void **state)
{
	(void)state;
	struct askue_date d;
	char buf[ASKUE_DATE_BUF];
	assert_int_equal(askue_date_parse("2026-02-28", &d), ASKUE_OK);
	assert_string_equal(askue_date_format(d, buf), "2026-02-28");
	assert_int_equal(askue_date_parse("2026-02-29", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("2024-02-29", &d), ASKUE_OK);
	assert_int_equal(askue_date_parse("1900-02-29", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("2000-02-29", &d), ASKUE_OK);
	assert_int_equal(askue_date_parse("2026-04-31", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("2026-13-01", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("2026-1-01", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("2026-01-01x", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("", &d), ASKUE_ERR_INVALID);
	assert_int_equal(askue_date_parse("1970-01-01", &d), ASKUE_OK);
	assert_int_equal(d.days, 0);
}

static void arithmetic(void **state)
{
	(void)state;
	struct askue_date d;
	char buf[ASKUE_DATE_BUF];
	assert_int_equal(askue_date_parse("2026-01-31", &d), ASKUE_OK);
	assert_string_equal(askue_date_format(askue_date_add_months(d, 1), buf), "2026-02-28");
	assert_string_equal(askue_date_format(askue_date_add_days(d, 1), buf), "2026-02-01");
	assert_int_equal(askue_date_parse("2024-02-29", &d), ASKUE_OK);
	assert_string_equal(askue_date_format(askue_date_add_years(d, 1), buf), "2025-02-28");
	assert_int_equal(askue_date_parse("2026-11-28", &d), ASKUE_OK);
	assert_int_equal(askue_date_weekday(d), 5); /* a Saturday */
}

static void periods(void **state)
{
	(void)state;
	struct askue_period p;
	char buf[ASKUE_DATE_BUF];
	assert_int_equal(askue_period_parse("2026-12", &p), ASKUE_OK);
	assert_string_equal(askue_date_format(askue_period_end(p), buf), "2027-01-01");
	assert_string_equal(askue_period_format(askue_period_add(p, -12), buf), "2025-12");
	assert_int_equal(askue_period_parse("2026-13", &p), ASKUE_ERR_INVALID);
	assert_int_equal(askue_period_parse("2026-1", &p), ASKUE_ERR_INVALID);
}

static void zone(void **state)
{
	(void)state;
	struct askue_date d;
	int64_t t;
	assert_int_equal(askue_tz_set("Europe/Moscow"), ASKUE_OK);
	assert_int_equal(askue_date_parse("2026-01-01", &d), ASKUE_OK);
	assert_int_equal(askue_date_start(d, &t), ASKUE_OK);
	assert_int_equal(t, 1767214800); /* 2025-12-31T21:00:00Z */
	assert_int_equal(askue_date_of(t).days, d.days);
	assert_int_equal(askue_date_of(t - 1).days, d.days - 1);
	assert_int_equal(askue_tz_set("Asia/Vladivostok"), ASKUE_OK);
	assert_int_equal(askue_date_start(d, &t), ASKUE_OK);
	assert_int_equal(t, 1767189600); /* UTC+10 */
	assert_int_equal(askue_tz_set("Mars/Olympus"), ASKUE_ERR_CONFIG);
	assert_int_equal(askue_tz_set("../../etc/passwd"), ASKUE_ERR_CONFIG);
	/* A zone with DST: Europe/Berlin, the spring-forward day is 23 hours. */
	assert_int_equal(askue_tz_set("Europe/Berlin"), ASKUE_OK);
	int64_t a, b;
	assert_int_equal(askue_date_parse("2026-03-29", &d), ASKUE_OK);
	assert_int_equal(askue_date_start(d, &a), ASKUE_OK);
	assert_int_equal(askue_date_start(askue_date_add_days(d, 1), &b), ASKUE_OK);
	assert_int_equal(b - a, 23 * 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_strict),
		cmocka_unit_test(arithmetic),
		cmocka_unit_test(periods),
		cmocka_unit_test(zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
