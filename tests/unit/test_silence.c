/* Unit tests: the pure cores of issue 6 — lib/silence.c (silent meters,
 * outages, what the stale job does), lib/lifecycle.c (what falls due) and
 * lib/fieldcheck.c (a field reading against the stored ones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alert.h"
#include "fieldcheck.h"
#include "lifecycle.h"
#include "silence.h"

static void rules(void **state)
{
	(void)state;
	struct askue_stale_rules r;
	assert_int_equal(askue_stale_rules_parse("", 24, 24, &r), ASKUE_OK);
	assert_int_equal(askue_stale_after_s(&r, "CE102"), 48 * 3600);
	assert_int_equal(askue_stale_rules_parse(" CE102M = 1/2 , Mercury 230=24/0,", 24, 24, &r),
	                 ASKUE_OK);
	assert_int_equal(r.n_models, 2);
	assert_int_equal(askue_stale_after_s(&r, "CE102M"), 3 * 3600);
	assert_int_equal(askue_stale_after_s(&r, "Mercury 230"), 24 * 3600);
	assert_int_equal(askue_stale_after_s(&r, "other"), 48 * 3600);
	assert_int_equal(askue_stale_rules_parse("A=1", 24, 24, &r), ASKUE_ERR_CONFIG);
	assert_int_equal(askue_stale_rules_parse("A=0/1", 24, 24, &r), ASKUE_ERR_CONFIG);
	assert_int_equal(askue_stale_rules_parse("=1/1", 24, 24, &r), ASKUE_ERR_CONFIG);
	assert_int_equal(askue_stale_rules_parse("A=1/1,A=2/2", 24, 24, &r), ASKUE_ERR_CONFIG);
	assert_int_equal(askue_stale_rules_parse("A=x/1", 24, 24, &r), ASKUE_ERR_CONFIG);
}

static void judge(void **state)
{
	(void)state;
	int64_t s;
	/* last reading 48 h ago: not yet; 48 h + 1 s: silent */
	assert_false(askue_silence_judge(200000, 1, 200000 - 172800, 0, 172800, &s));
	assert_int_equal(s, 0);
	assert_true(askue_silence_judge(200001, 1, 200000 - 172800, 0, 172800, &s));
	assert_int_equal(s, 172801);
	/* no reading: from the installation; a reading older than it: the same */
	assert_false(askue_silence_judge(100000, 0, 0, 50000, 172800, &s));
	assert_true(askue_silence_judge(300000, 1, 10, 100000, 172800, &s));
	assert_int_equal(s, 200000);
}

static void outage(void **state)
{
	(void)state;
	assert_true(askue_outage(10, 8, 80, 3));
	assert_false(askue_outage(10, 7, 80, 3));
	assert_false(askue_outage(2, 2, 80, 3)); /* too few to call it an outage */
	assert_false(askue_outage(0, 0, 80, 1));
	assert_true(askue_outage(500000, 400000, 80, 10));
}

static void decide(void **state)
{
	(void)state;
	assert_int_equal(askue_stale_decide(1, 0, 0, 0), ASKUE_STALE_OPEN);
	assert_int_equal(askue_stale_decide(1, 0, 1, 0), ASKUE_STALE_NONE);
	assert_int_equal(askue_stale_decide(1, 0, 0, 1), ASKUE_STALE_REOPEN);
	assert_int_equal(askue_stale_decide(1, 1, 0, 0), ASKUE_STALE_NONE); /* in an outage */
	assert_int_equal(askue_stale_decide(0, 0, 1, 0), ASKUE_STALE_CLOSE);
	assert_int_equal(askue_stale_decide(0, 0, 0, 1), ASKUE_STALE_NONE);
}

static struct askue_meter meter(const char *status)
{
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	strcpy(m.status, status);
	m.commissioned = askue_date_from_ymd(2020, 3, 1);
	m.service_life_years = 16;
	m.verification_interval_years = 8;
	m.has_warranty_until = 1;
	m.warranty_until = askue_date_from_ymd(2028, 3, 15);
	return m;
}

static void lifecycle(void **state)
{
	(void)state;
	struct askue_lifecycle_item it[ASKUE_LIFECYCLE_ITEMS_MAX];
	struct askue_meter m = meter("installed");
	assert_int_equal(askue_lifecycle_due(&m, askue_date_from_ymd(2028, 1, 30), 30, it), 0);
	assert_int_equal(askue_lifecycle_due(&m, askue_date_from_ymd(2028, 1, 31), 30, it), 1);
	assert_string_equal(it[0].kind, ASKUE_ALERT_VERIFICATION_DUE);
	assert_int_equal(it[0].days_left, 30);
	assert_int_equal(askue_lifecycle_due(&m, askue_date_from_ymd(2036, 6, 1), 30, it), 3);
	assert_true(it[1].days_left < 0);
	m.has_last_verified = 1;
	m.last_verified = askue_date_from_ymd(2028, 2, 1);
	assert_int_equal(askue_lifecycle_due(&m, askue_date_from_ymd(2028, 3, 1), 30, it), 1);
	assert_string_equal(it[0].kind, ASKUE_ALERT_WARRANTY_ENDING);
	assert_false(askue_lifecycle_verification_overdue(&m, askue_date_from_ymd(2036, 1, 31)));
	assert_true(askue_lifecycle_verification_overdue(&m, askue_date_from_ymd(2036, 2, 1)));
	struct askue_meter stock = meter("stock");
	assert_int_equal(askue_lifecycle_due(&stock, askue_date_from_ymd(2028, 3, 1), 30, it), 1);
	assert_string_equal(it[0].kind, ASKUE_ALERT_VERIFICATION_DUE);
	struct askue_meter gone = meter("dismantled");
	assert_int_equal(askue_lifecycle_due(&gone, askue_date_from_ymd(2040, 1, 1), 30, it), 0);
}

static void fieldcheck(void **state)
{
	(void)state;
	struct askue_sample a = {1, 1000, 1000000}, b = {1, 2000, 1024000}, none = {0};
	assert_int_equal(askue_fieldcheck_at(a, b, 1500).wh, 1012000);
	assert_int_equal(askue_fieldcheck_at(a, b, 1000).wh, 1000000);
	/* half up: 1 Wh over 2 s, at 1 s: 0.5 -> 1 */
	struct askue_sample c = {1, 0, 0}, d = {1, 2, 1};
	assert_int_equal(askue_fieldcheck_at(c, d, 1).wh, 1);
	assert_false(askue_fieldcheck_at(a, none, 1500).has);
	struct askue_sample lo = askue_fieldcheck_at(a, b, 1500);
	struct askue_fieldcheck f = askue_fieldcheck_judge(lo, lo, a, b, 1012400, 500);
	assert_true(f.comparable);
	assert_false(f.beyond);
	assert_int_equal(f.diff_wh, 400);
	f = askue_fieldcheck_judge(lo, lo, a, b, 1011000, 500);
	assert_true(f.beyond);
	assert_int_equal(f.diff_wh, -1000);
	/* after the last reading: a lower bound only */
	f = askue_fieldcheck_judge(none, none, b, none, 2000000, 500);
	assert_false(f.beyond);
	f = askue_fieldcheck_judge(none, none, none, none, 5, 500);
	assert_false(f.comparable);
	assert_false(f.beyond);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules),     cmocka_unit_test(judge),     cmocka_unit_test(outage),
		cmocka_unit_test(decide),    cmocka_unit_test(lifecycle), cmocka_unit_test(fieldcheck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
