/* Unit tests: lib/penalty.c — golden cases computed from the statute
 * (ЖК РФ ст. 155 ч. 14, ФЗ-35 ст. 37 п. 2, ПП 474/329, ПП 424, ГК РФ ст. 193). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "penalty.h"

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static struct askue_rate_change rates[8];
static struct askue_rate_cap caps[1];
static struct askue_date_span moratoria[1];
static struct askue_date holidays[2];
static struct askue_penalty_rules rules, rules_nocap;

static int setup(void **state)
{
	(void)state;
	rates[0] = (struct askue_rate_change){D("2020-02-10"), 600};
	rates[1] = (struct askue_rate_change){D("2021-03-22"), 450};
	rates[2] = (struct askue_rate_change){D("2024-10-28"), 2100};
	rates[3] = (struct askue_rate_change){D("2025-06-09"), 2000};
	rates[4] = (struct askue_rate_change){D("2025-10-27"), 1650};
	caps[0] = (struct askue_rate_cap){D("2022-02-28"), D("2026-12-31"), 950};
	moratoria[0] = (struct askue_date_span){D("2020-04-06"), D("2020-12-31")};
	holidays[0] = D("2026-05-01");
	holidays[1] = D("2026-05-11");
	rules = (struct askue_penalty_rules){.rates = rates, .n_rates = 5, .caps = caps, .n_caps = 1,
	                                     .moratoria = moratoria, .n_moratoria = 1,
	                                     .holidays = holidays, .n_holidays = 2};
	rules_nocap = rules;
	rules_nocap.n_caps = 0;
	return 0;
}

static int64_t pen(const struct askue_penalty_rules *r, enum askue_penalty_category c,
                   int64_t base, const char *due, const char *paid)
{
	struct askue_penalty_result res;
	struct askue_payment_part p = {D(paid), {base}};
	assert_int_equal(askue_penalty_compute(r, c, (struct askue_money){base}, D(due), &p, 1,
	                                       D(paid), &res),
	                 ASKUE_OK);
	return res.total.kop;
}

/* The worked example: 1,000.00 due 10.02.2026, paid 30.06.2026, 9.5 %:
 * 60 days at 1/300 + 50 days at 1/130 = 19.00 + 36.54 = 55.54. */
static void statute_example(void **state)
{
	(void)state;
	struct askue_penalty_result res;
	struct askue_payment_part p = {D("2026-06-30"), {100000}};
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD,
	                                       (struct askue_money){100000}, D("2026-02-10"), &p, 1,
	                                       D("2026-06-30"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.total.kop, 5554);
	assert_int_equal(res.clock_start.days, D("2026-02-11").days);
	assert_int_equal(res.n_lines, 3);
	assert_string_equal(res.lines[0].note, "grace");
	assert_int_equal(res.lines[0].day_until, 30);
	assert_int_equal(res.lines[1].divisor, 300);
	assert_int_equal(res.lines[1].from.days, D("2026-03-13").days);
	assert_int_equal(res.lines[1].until.days, D("2026-05-11").days);
	assert_int_equal(res.lines[1].amount.kop, 1900);
	assert_int_equal(res.lines[1].rate_bp, 950);
	assert_int_equal(res.lines[2].divisor, 130);
	assert_int_equal(res.lines[2].from.days, D("2026-05-12").days);
	assert_int_equal(res.lines[2].day_until - res.lines[2].day_from + 1, 50);
	assert_int_equal(res.lines[2].amount.kop, 3654);
	/* Without the cap, at the key rate of the day of payment (16.5 %). */
	assert_int_equal(pen(&rules_nocap, ASKUE_PENALTY_HOUSEHOLD, 100000, "2026-02-10", "2026-06-30"),
	                 9646); /* 16.5 %: 33.00 + 63.4615 = 96.46 */
}

/* The days around the steps: paid on day 30, 31, 90 and 91. */
static void day_boundaries(void **state)
{
	(void)state;
	const char *due = "2026-02-10"; /* day 1 = 11.02 */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, due, "2026-03-12"), 0);  /* day 30 */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, due, "2026-03-13"), 32); /* day 31: 0.3167 */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, due, "2026-05-11"), 1900); /* day 90 */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, due, "2026-05-12"), 1973); /* day 91: +0.7308 */
	/* Paid before the due date, or on it: nothing. */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, due, "2026-02-10"), 0);
}

/* 400.00 paid on day 45, the other 600.00 on 30.06.2026:
 * 400 x 9.5 % x 15/300 = 1.90; 600 x 9.5 % x (60/300 + 50/130) = 11.40 + 21.923...
 * = 35.2230... -> 35.22 (rounded once, not 1.90 + 11.40 + 21.92 line by line). */
static void partial_payment_day_45(void **state)
{
	(void)state;
	struct askue_penalty_result res;
	struct askue_payment_part p[2] = {{D("2026-03-27"), {40000}}, {D("2026-06-30"), {60000}}};
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD,
	                                       (struct askue_money){100000}, D("2026-02-10"), p, 2,
	                                       D("2026-06-30"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.total.kop, 3522);
	/* Unpaid rest counted to the calculation day: on 31.05.2026 only the
	 * 400 paid so far is settled, 600 still owed. */
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD,
	                                       (struct askue_money){100000}, D("2026-02-10"), p, 2,
	                                       D("2026-05-31"), &res),
	                 ASKUE_OK);
	/* 1.90 + 600 x 9.5 % x (60/300 + 20/130) = 1.90 + 11.40 + 8.769... = 22.07 */
	assert_int_equal(res.total.kop, 2207);
}

/* Two periods overdue at once: each has its own clock and base. */
static void two_periods(void **state)
{
	(void)state;
	int64_t jan = pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100000, "2026-02-10", "2026-06-30");
	int64_t feb = pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 50000, "2026-03-10", "2026-06-30");
	assert_int_equal(jan, 5554);
	/* Feb: day 1 = 11.03; day 31 = 10.04; day 90 = 08.06; 09.06..30.06 = 22 days.
	 * 500 x 9.5 % x (60/300 + 22/130) = 9.50 + 8.0385 = 17.54 */
	assert_int_equal(feb, 1754);
}

/* A moratorium inside the range (ПП 424: 06.04.2020 - 31.12.2020): those
 * days accrue nothing, the day count runs on. 1,000.00 due 10.03.2020,
 * paid 01.03.2021 at 4.25 %... the table says 6.00 % until 21.03.2021:
 * days 31.. fall in the moratorium; 01.01..01.03.2021 = 60 days at 1/130:
 * 1000 x 6 % x 60/130 = 27.69. */
static void moratorium(void **state)
{
	(void)state;
	struct askue_penalty_result res;
	struct askue_payment_part p = {D("2021-03-01"), {100000}};
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD,
	                                       (struct askue_money){100000}, D("2020-03-10"), &p, 1,
	                                       D("2021-03-01"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.total.kop, 2769);
	int mora = 0;
	for (int i = 0; i < res.n_lines; i++)
		if (res.lines[i].note && !strcmp(res.lines[i].note, "moratorium"))
			mora++;
	assert_int_equal(mora, 1);
}

/* A legal entity (ФЗ-35): 1/130 from the first day. 100,000.00 due
 * 18.03.2026, paid 17.04.2026: 30 days, 100000 x 9.5 % x 30/130 = 2,192.31. */
static void legal_entity(void **state)
{
	(void)state;
	assert_int_equal(pen(&rules, ASKUE_PENALTY_OTHER, 10000000, "2026-03-18", "2026-04-17"), 219231);
}

/* The rate is the one in force on the day of payment: a change inside the
 * range does not split it. Without the cap: paid 10.06.2025, 20 % for all
 * days; paid 08.06.2025, 21 %. */
static void rate_table_changes(void **state)
{
	(void)state;
	int32_t r;
	assert_int_equal(askue_penalty_rate(&rules_nocap, D("2025-06-08"), &r), ASKUE_OK);
	assert_int_equal(r, 2100);
	assert_int_equal(askue_penalty_rate(&rules_nocap, D("2025-06-09"), &r), ASKUE_OK);
	assert_int_equal(r, 2000);
	assert_int_equal(askue_penalty_rate(&rules, D("2025-06-09"), &r), ASKUE_OK);
	assert_int_equal(r, 950); /* the cap */
	assert_int_equal(askue_penalty_rate(&rules, D("2027-01-01"), &r), ASKUE_OK);
	assert_int_equal(r, 1650); /* the cap has ended */
	assert_int_equal(askue_penalty_rate(&rules, D("2019-01-01"), &r), ASKUE_ERR_NOT_FOUND);
	/* 1,000.00 due 10.02.2025 (day 1 = 11.02), other consumer, paid 08.06 /
	 * 10.06.2025 (118 / 120 days). */
	assert_int_equal(pen(&rules_nocap, ASKUE_PENALTY_OTHER, 100000, "2025-02-10", "2025-06-08"),
	                 19062); /* 1000 x 21 % x 118/130 = 190.615 */
	assert_int_equal(pen(&rules_nocap, ASKUE_PENALTY_OTHER, 100000, "2025-02-10", "2025-06-10"),
	                 18462); /* 1000 x 20 % x 120/130 = 184.615 */
}

/* ГК РФ ст. 193: due on Sunday 15.03.2026 -> the clock starts after Monday. */
static void non_working_due_date(void **state)
{
	(void)state;
	struct askue_penalty_result res;
	struct askue_payment_part p = {D("2026-04-20"), {100000}};
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_OTHER, (struct askue_money){100000},
	                                       D("2026-03-15"), &p, 1, D("2026-04-20"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.clock_start.days, D("2026-03-17").days);
	/* 17.03..20.04 = 35 days: 1000 x 9.5 % x 35/130 = 25.58 */
	assert_int_equal(res.total.kop, 2558);
	/* A holiday on a weekday: due 01.05.2026 (Friday, holiday) -> Monday 04.05. */
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_OTHER, (struct askue_money){100000},
	                                       D("2026-05-01"), &p, 1, D("2026-04-20"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.clock_start.days, D("2026-05-05").days);
	assert_true(askue_penalty_working_day(&rules, D("2026-05-04")));
	assert_false(askue_penalty_working_day(&rules, D("2026-05-11")));
}

/* The rounding rule: each part exact, the sum rounded once, half up. */
static void rounding_rule(void **state)
{
	(void)state;
	/* 0.005 kop steps: 1.00 RUB x 9.5 % x 1/300 = 0.0317 kop a day. 16 days
	 * -> 0.5067 kop -> 1 kop; 15 days -> 0.475 -> 0. */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100, "2026-02-10", "2026-03-28"), 1); /* day 46: 16 days */
	assert_int_equal(pen(&rules, ASKUE_PENALTY_HOUSEHOLD, 100, "2026-02-10", "2026-03-27"), 0); /* 15 days */
	/* Refusals: payments above the debt, out of order, not positive. */
	struct askue_penalty_result res;
	struct askue_payment_part p[2] = {{D("2026-03-01"), {600}}, {D("2026-02-01"), {100}}};
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD, (struct askue_money){500},
	                                       D("2026-02-10"), p, 1, D("2026-06-30"), &res),
	                 ASKUE_ERR_INVALID);
	p[0].amount.kop = 100;
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD, (struct askue_money){500},
	                                       D("2026-02-10"), p, 2, D("2026-06-30"), &res),
	                 ASKUE_ERR_INVALID);
	p[0].amount.kop = 0;
	assert_int_equal(askue_penalty_compute(&rules, ASKUE_PENALTY_HOUSEHOLD, (struct askue_money){500},
	                                       D("2026-02-10"), p, 1, D("2026-06-30"), &res),
	                 ASKUE_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statute_example),    cmocka_unit_test(day_boundaries),
		cmocka_unit_test(partial_payment_day_45), cmocka_unit_test(two_periods),
		cmocka_unit_test(moratorium),         cmocka_unit_test(legal_entity),
		cmocka_unit_test(rate_table_changes), cmocka_unit_test(non_working_due_date),
		cmocka_unit_test(rounding_rule),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
