/* Unit tests: lib/rules.c and lib/csvfile.c — the shipped rule tables
 * (deploy/rules) load and give the statute's answers; broken tables are
 * refused with their file, line and field. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

#include "tmpdir.h"

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static void shipped_tables(void **state)
{
	(void)state;
	struct askue_rules *r;
	assert_int_equal(askue_rules_load("deploy/rules", &r), ASKUE_OK);
	struct askue_date due;
	struct askue_period p = {2026, 1};
	assert_int_equal(askue_rules_due_date(r, p, &due), ASKUE_OK);
	assert_int_equal(due.days, D("2026-02-10").days);
	p.month = 2;
	assert_int_equal(askue_rules_due_date(r, p, &due), ASKUE_OK);
	assert_int_equal(due.days, D("2026-03-10").days); /* February 2026 still the 10th */
	p.month = 3;
	assert_int_equal(askue_rules_due_date(r, p, &due), ASKUE_OK);
	assert_int_equal(due.days, D("2026-04-15").days);
	p = (struct askue_period){2015, 6};
	assert_int_equal(askue_rules_due_date(r, p, &due), ASKUE_ERR_NOT_FOUND);

	const struct askue_penalty_rules *pr = askue_rules_penalty(r);
	int32_t bp;
	assert_int_equal(askue_penalty_rate(pr, D("2026-06-30"), &bp), ASKUE_OK);
	assert_int_equal(bp, 950); /* ПП 329 cap */
	assert_int_equal(askue_penalty_rate(pr, D("2022-03-01"), &bp), ASKUE_OK);
	assert_int_equal(bp, 950); /* ПП 474 cap over 20 % */
	assert_int_equal(askue_penalty_rate(pr, D("2021-01-15"), &bp), ASKUE_OK);
	assert_int_equal(bp, 425);
	assert_false(askue_penalty_working_day(pr, D("2026-01-09")));
	assert_false(askue_penalty_working_day(pr, D("2026-03-09")));
	assert_true(askue_penalty_working_day(pr, D("2026-03-10")));

	/* The statute example with the shipped tables: 55.54. */
	struct askue_penalty_result res;
	struct askue_payment_part pay = {D("2026-06-30"), {100000}};
	assert_int_equal(askue_penalty_compute(pr, ASKUE_PENALTY_HOUSEHOLD, (struct askue_money){100000},
	                                       D("2026-02-10"), &pay, 1, D("2026-06-30"), &res),
	                 ASKUE_OK);
	assert_int_equal(res.total.kop, 5554);
	askue_rules_free(r);
	askue_rules_free(NULL);
}


static void put(const char *name, const char *text)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void good_set(void)
{
	put("key_rates.csv", "from,rate_percent,source\n2020-01-01,6.25,x\n2021-01-01,4.5,y\n");
	put("rate_caps.csv", "from,until,cap_percent,source\n");
	put("moratoria.csv", "from,until,source\n2020-04-06,2020-12-31,z\n");
	put("calendar.csv", "date,kind,source\n2026-01-09,holiday,x\n2026-11-07,workday,y\n");
	put("due_dates.csv", "periods_from,day_of_next_month,source\n2016-01,10,a\n");
}

static void refuses(const char *name, const char *text, const char *want)
{
	good_set();
	put(name, text);
	struct askue_rules *r = NULL;
	assert_int_equal(askue_rules_load(dir, &r), ASKUE_ERR_INVALID);
	if (!strstr(askue_err_msg(), want))
		fail_msg("message '%s' lacks '%s'", askue_err_msg(), want);
	assert_null(r);
}

static void broken_tables(void **state)
{
	(void)state;
	good_set();
	struct askue_rules *r;
	assert_int_equal(askue_rules_load(dir, &r), ASKUE_OK);
	askue_rules_free(r);
	refuses("key_rates.csv", "from,rate,source\n2020-01-01,6,x\n", "key_rates.csv:1: header");
	refuses("key_rates.csv", "from,rate_percent,source\n2020-01-01,6.255,x\n",
	        "key_rates.csv:2: rate_percent '6.255': at most 2 decimals");
	refuses("key_rates.csv", "from,rate_percent,source\n2020-01-01,6,x\n2019-01-01,5,x\n",
	        "key_rates.csv:3: from: not after");
	refuses("key_rates.csv", "from,rate_percent,source\n2020-02-30,6,x\n",
	        "key_rates.csv:2: from: date '2020-02-30': no such day");
	refuses("key_rates.csv", "from,rate_percent,source\n2020-01-01,6\n", "key_rates.csv:2: 2 fields");
	refuses("key_rates.csv", "from,rate_percent,source\n", "no key rates");
	refuses("moratoria.csv", "from,until,source\n2020-04-06,2020-01-01,z\n", "until: before from");
	refuses("moratoria.csv", "from,until,source\n2020-04-06,2020-12-31,z\n2020-12-01,2021-01-31,z\n",
	        "overlaps");
	refuses("calendar.csv", "date,kind,source\n2026-01-10,holiday,x\n", "Saturday or Sunday");
	refuses("calendar.csv", "date,kind,source\n2026-01-09,vacation,x\n", "kind 'vacation'");
	refuses("due_dates.csv", "periods_from,day_of_next_month,source\n2016-01,31,a\n", "1..28");
	refuses("calendar.csv", "date,kind,source\n\"2026-01-09,holiday,x\n", "CSV");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(shipped_tables),
	                                   cmocka_unit_test(broken_tables)};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
