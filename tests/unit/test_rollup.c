/* Unit tests: lib/rollup.c — register values at an instant, rollover,
 * a meter's day. Every expected value is computed by hand in the comment
 * beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rollup.h"

#define CAP INT64_C(1000000000) /* 1,000,000 kWh: a six-digit register */

static struct askue_rollup_sample S(int64_t ts, int64_t wh)
{
	return (struct askue_rollup_sample){1, ts, wh};
}
static const struct askue_rollup_sample NONE = {0};

static void step_rule(void **state)
{
	(void)state;
	int64_t wh = -1;
	assert_int_equal(askue_rollup_step(100, 250, CAP, &wh), ASKUE_STEP_FORWARD);
	assert_int_equal(wh, 150);
	assert_int_equal(askue_rollup_step(100, 100, CAP, &wh), ASKUE_STEP_FORWARD);
	assert_int_equal(wh, 0);
	/* 999,990 kWh -> 10 kWh: 10,000 Wh to the top + 10,000 Wh after = 20 kWh */
	assert_int_equal(askue_rollup_step(999990000, 10000, CAP, &wh), ASKUE_STEP_ROLLOVER);
	assert_int_equal(wh, 20000);
	/* 600 kWh -> 400 kWh would imply 999,800 kWh: backwards */
	wh = -1;
	assert_int_equal(askue_rollup_step(600000, 400000, CAP, &wh), ASKUE_STEP_BACKWARDS);
	assert_int_equal(wh, -1);
	/* the edge, capacity 1000: implied 499 is a rollover, 500 is not */
	assert_int_equal(askue_rollup_step(600, 99, 1000, &wh), ASKUE_STEP_ROLLOVER);
	assert_int_equal(wh, 499);
	assert_int_equal(askue_rollup_step(600, 100, 1000, &wh), ASKUE_STEP_BACKWARDS);
}

static void exact_and_missing(void **state)
{
	(void)state;
	int64_t wh = -1;
	assert_int_equal(askue_rollup_value_at(S(1000, 5000), S(2000, 7000), 1000, CAP, &wh),
	                 ASKUE_AT_EXACT);
	assert_int_equal(wh, 5000);
	assert_int_equal(askue_rollup_value_at(S(1000, 5000), S(2000, 7000), 2000, CAP, &wh),
	                 ASKUE_AT_EXACT);
	assert_int_equal(wh, 7000);
	/* exact even with the other side missing */
	assert_int_equal(askue_rollup_value_at(NONE, S(2000, 7000), 2000, CAP, &wh), ASKUE_AT_EXACT);
	assert_int_equal(askue_rollup_value_at(S(2000, 7000), NONE, 2000, CAP, &wh), ASKUE_AT_EXACT);
	wh = -1;
	assert_int_equal(askue_rollup_value_at(NONE, S(2000, 7000), 1500, CAP, &wh),
	                 ASKUE_AT_NONE_BEFORE);
	assert_int_equal(askue_rollup_value_at(S(1000, 5000), NONE, 1500, CAP, &wh),
	                 ASKUE_AT_NONE_AFTER);
	assert_int_equal(askue_rollup_value_at(NONE, NONE, 1500, CAP, &wh), ASKUE_AT_NONE);
	assert_int_equal(wh, -1); /* untouched */
}

static void interpolation(void **state)
{
	(void)state;
	int64_t wh = -1;
	/* 5000 + 2000 * 250/1000 = 5500 */
	assert_int_equal(askue_rollup_value_at(S(1000, 5000), S(2000, 7000), 1250, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 5500);
	/* 0 + 1 * 1/2 = 0.5 -> 1 (half up) */
	assert_int_equal(askue_rollup_value_at(S(0, 0), S(2, 1), 1, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 1);
	/* 100 + 10 * 1/3 = 103.33 -> 103; 100 + 10 * 2/3 = 106.67 -> 107 */
	assert_int_equal(askue_rollup_value_at(S(0, 100), S(3, 110), 1, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 103);
	assert_int_equal(askue_rollup_value_at(S(0, 100), S(3, 110), 2, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 107);
	/* a day at midnight: readings 23:00 (12,345,678 Wh) and 01:00 (12,346,679):
	 * 1001 Wh over 7200 s, at 3600 s: 500.5 -> 501: 12,346,179 */
	int64_t t0 = 1764277200; /* 2025-11-27 21:00 UTC */
	assert_int_equal(askue_rollup_value_at(S(t0, 12345678), S(t0 + 7200, 12346679), t0 + 3600,
	                                       CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 12346179);
	/* big values stay exact: 10^12 Wh capacity, 999,999,999,000 -> 1,000 over
	 * 10 s rolled over (2,000 Wh): at 5 s 999,999,999,000 + 1,000 = 10^12 ->
	 * wraps to 0 */
	int64_t big = INT64_C(1000000000000);
	assert_int_equal(askue_rollup_value_at(S(0, big - 1000), S(10, 1000), 5, big, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 0);
	/* at 6 s: 999,999,999,000 + 1,200 - 10^12 = 200 */
	assert_int_equal(askue_rollup_value_at(S(0, big - 1000), S(10, 1000), 6, big, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 200);
}

static void rollover_and_backwards(void **state)
{
	(void)state;
	int64_t wh = -1;
	/* 999,999,000 -> 3,000 over 4000 s: 4,000 Wh; at 1000 s +1000 = 10^9 -> 0 */
	assert_int_equal(askue_rollup_value_at(S(0, 999999000), S(4000, 3000), 1000, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 0);
	/* at 3000 s: +3000 -> 1,000,002,000 - 10^9 = 2,000 */
	assert_int_equal(askue_rollup_value_at(S(0, 999999000), S(4000, 3000), 3000, CAP, &wh),
	                 ASKUE_AT_INTERPOLATED);
	assert_int_equal(wh, 2000);
	wh = -1;
	assert_int_equal(askue_rollup_value_at(S(0, 600000), S(4000, 400000), 3000, CAP, &wh),
	                 ASKUE_AT_BACKWARDS);
	assert_int_equal(wh, -1);
	/* but an exact reading wins over the pair */
	assert_int_equal(askue_rollup_value_at(S(0, 600000), S(4000, 400000), 4000, CAP, &wh),
	                 ASKUE_AT_EXACT);
	assert_int_equal(wh, 400000);
}

static struct askue_rollup_regs R(int64_t ts, int64_t r0, int64_t r1, int64_t r2)
{
	struct askue_rollup_regs r = {.ts = ts, .mask = 1, .wh = {r0, r1, r2, 0}};
	if (r1 >= 0)
		r.mask |= 2u | 4u;
	return r;
}

static void fold_day(void **state)
{
	(void)state;
	struct askue_rollup_day d = {0};
	struct askue_rollup_regs a = R(300, 30, -1, -1), b = R(100, 10, -1, -1), c = R(200, 20, -1, -1);
	askue_rollup_fold(&d, &a);
	askue_rollup_fold(&d, &b);
	askue_rollup_fold(&d, &c);
	assert_int_equal(d.readings, 3);
	assert_int_equal(d.first.ts, 100);
	assert_int_equal(d.first.wh[0], 10);
	assert_int_equal(d.last.ts, 300);
	assert_int_equal(d.last.wh[0], 30);
	/* one reading: first = last */
	struct askue_rollup_day e = {0};
	askue_rollup_fold(&e, &c);
	assert_int_equal(e.readings, 1);
	assert_int_equal(e.first.ts, 200);
	assert_int_equal(e.last.ts, 200);
}

static void consumption(void **state)
{
	(void)state;
	/* two-zone: total 1000 -> 1500, T1 700 -> 1000, T2 300 -> 500 */
	struct askue_rollup_regs s = R(0, 1000, 700, 300), e = R(86400, 1500, 1000, 500);
	struct askue_rollup_consumption c = askue_rollup_consumed(&s, &e, CAP);
	assert_int_equal(c.mask, 7u);
	assert_int_equal(c.backwards_mask, 0u);
	assert_int_equal(c.wh[0], 500);
	assert_int_equal(c.wh[1], 300);
	assert_int_equal(c.wh[2], 200);
	/* T2 keyed in wrong (went backwards): left out and flagged */
	e = R(86400, 1400, 1000, 400 - 200);
	c = askue_rollup_consumed(&s, &e, CAP);
	assert_int_equal(c.mask, 3u);
	assert_int_equal(c.backwards_mask, 4u);
	assert_int_equal(c.wh[0], 400);
	/* a register only at one end: not computed */
	struct askue_rollup_regs one = R(86400, 1500, -1, -1);
	c = askue_rollup_consumed(&s, &one, CAP);
	assert_int_equal(c.mask, 1u);
	assert_int_equal(c.wh[0], 500);
}

/* Day [86400, 172800). */
static void daily_rule(void **state)
{
	(void)state;
	const int64_t S = 86400;
	struct askue_rollup_day d = {0};
	struct askue_rollup_regs r1 = R(S + 3600, 1500, -1, -1), r2 = R(S + 80000, 4000, -1, -1);
	askue_rollup_fold(&d, &r1);
	askue_rollup_fold(&d, &r2);
	struct askue_rollup_regs prev = R(S - 600, 1000, -1, -1);
	/* newest at or before each midnight: 4000 (last) - 1000 (prev) = 3000 */
	struct askue_rollup_daily x = askue_rollup_daily(&d, &prev, NULL, S, CAP);
	assert_int_equal(x.c.mask, 1u);
	assert_int_equal(x.c.wh[0], 3000);
	assert_false(x.estimated);
	/* a reading at exactly the next midnight ends the day: 4100 - 1000 */
	struct askue_rollup_regs end = R(2 * S, 4100, -1, -1);
	x = askue_rollup_daily(&d, &prev, &end, S, CAP);
	assert_int_equal(x.c.wh[0], 3100);
	/* no reading before the day: from its first, estimated: 4000 - 1500 */
	x = askue_rollup_daily(&d, NULL, NULL, S, CAP);
	assert_int_equal(x.c.wh[0], 2500);
	assert_true(x.estimated);
	/* a reading at exactly midnight starts the day, prev or not: 4100 - 1200 */
	struct askue_rollup_day m = {0};
	struct askue_rollup_regs r0 = R(S, 1200, -1, -1);
	askue_rollup_fold(&m, &r0);
	x = askue_rollup_daily(&m, NULL, &end, S, CAP);
	assert_int_equal(x.c.wh[0], 2900);
	assert_false(x.estimated);
	/* no reading inside the day, only at its end: 4100 - 1000 */
	struct askue_rollup_day empty = {0};
	x = askue_rollup_daily(&empty, &prev, &end, S, CAP);
	assert_int_equal(x.c.wh[0], 3100);
	assert_false(x.estimated);
	/* went backwards (prev 5000, last 4000): left out, estimated */
	struct askue_rollup_regs high = R(S - 600, 5000, -1, -1);
	x = askue_rollup_daily(&d, &high, NULL, S, CAP);
	assert_int_equal(x.c.mask, 0u);
	assert_int_equal(x.c.backwards_mask, 1u);
	assert_true(x.estimated);
	/* rollover across the day: 999,999,000 -> 4,000 = 5,000 Wh */
	struct askue_rollup_regs top = R(S - 600, 999999000, -1, -1);
	x = askue_rollup_daily(&d, &top, NULL, S, CAP);
	assert_int_equal(x.c.wh[0], 5000);
	assert_false(x.estimated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(step_rule),          cmocka_unit_test(exact_and_missing),
		cmocka_unit_test(interpolation),      cmocka_unit_test(rollover_and_backwards),
		cmocka_unit_test(fold_day),           cmocka_unit_test(consumption),
		cmocka_unit_test(daily_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
