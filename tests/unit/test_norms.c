/* Unit tests: lib/norms.c — the shipped norms table loads and answers by
 * key and date; broken tables are refused with their file, line and
 * field. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "norms.h"

#include "tmpdir.h"

#define HEADER "from,settlement,stove,rooms,residents,kwh_per_person,source\n"

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void shipped_table(void **state)
{
	(void)state;
	struct askue_norms *n;
	assert_int_equal(askue_norms_load("deploy/rules/norms.csv", &n), ASKUE_OK);
	int64_t wh;
	/* urban, gas, 1 room, 2 residents: 86 kWh a person -> 172.000 kWh */
	struct askue_norm_key k = {.residents = 2, .rooms = 1};
	assert_int_equal(askue_norms_month_wh(n, &k, D("2026-03-01"), &wh), ASKUE_OK);
	assert_int_equal(wh, 172000);
	assert_int_equal(askue_norms_month_wh(n, &k, D("2017-06-30"), &wh), ASKUE_ERR_NOT_FOUND);
	askue_norms_free(n);
	askue_norms_free(NULL);
}

/* Keys above the table's top row use it: 6 rooms as 4, 7 residents as
 * "5 or more" per person, times all 7; 0 residents as 1. */
static void lookup_by_key_and_date(void **state)
{
	(void)state;
	const char *p = write_file("n.csv", HEADER
	                           "2020-01-01,urban,gas,4,5,50,test\n"
	                           "2024-07-01,urban,gas,4,5,55.5,test\n"
	                           "2020-01-01,rural,electric,1,1,200.125,test\n");
	struct askue_norms *n;
	assert_int_equal(askue_norms_load(p, &n), ASKUE_OK);
	int64_t wh;
	struct askue_norm_key k = {.residents = 7, .rooms = 6};
	assert_int_equal(askue_norms_month_wh(n, &k, D("2024-06-30"), &wh), ASKUE_OK);
	assert_int_equal(wh, 350000); /* 50 x 7 */
	assert_int_equal(askue_norms_month_wh(n, &k, D("2024-07-01"), &wh), ASKUE_OK);
	assert_int_equal(wh, 388500); /* 55.5 x 7 */
	k = (struct askue_norm_key){.residents = 0, .rooms = 1, .electric_stove = 1, .rural = 1};
	assert_int_equal(askue_norms_month_wh(n, &k, D("2026-01-01"), &wh), ASKUE_OK);
	assert_int_equal(wh, 200125);
	k.rural = 0;
	assert_int_equal(askue_norms_month_wh(n, &k, D("2026-01-01"), &wh), ASKUE_ERR_NOT_FOUND);
	assert_non_null(strstr(askue_err_msg(), "urban, electric stove, 1 rooms, 1 residents"));
	askue_norms_free(n);
}

static void refused(const char *body, const char *want)
{
	const char *p = write_file("bad.csv", body);
	struct askue_norms *n = NULL;
	assert_int_equal(askue_norms_load(p, &n), ASKUE_ERR_INVALID);
	assert_null(n);
	if (!strstr(askue_err_msg(), want))
		fail_msg("message '%s' lacks '%s'", askue_err_msg(), want);
}

static void bad_rows_named(void **state)
{
	(void)state;
	char want[512];
	snprintf(want, sizeof want, "%s/bad.csv:3: settlement 'town'", dir);
	refused(HEADER "2020-01-01,urban,gas,1,1,100,x\n2020-01-01,town,gas,1,1,100,x\n", want);
	snprintf(want, sizeof want, "%s/bad.csv:2: stove", dir);
	refused(HEADER "2020-01-01,urban,coal,1,1,100,x\n", want);
	refused(HEADER "2020-01-01,urban,gas,0,1,100,x\n", "bad.csv:2: rooms '0'");
	refused(HEADER "2020-01-01,urban,gas,1,6,100,x\n", "bad.csv:2: residents '6'");
	refused(HEADER "2020-02-30,urban,gas,1,1,100,x\n", "bad.csv:2: from:");
	refused(HEADER "2020-01-01,urban,gas,1,1,1.2345,x\n", "bad.csv:2: kwh_per_person");
	refused(HEADER "2020-01-01,urban,gas,1,1,0,x\n", "bad.csv:2: kwh_per_person");
	refused(HEADER "2020-01-01,urban,gas,1,1,100,\n", "bad.csv:2: source");
	refused(HEADER "2020-01-01,urban,gas,1,1,100\n", "bad.csv:2: 6 fields, expected 7");
	refused(HEADER "2021-01-01,urban,gas,1,1,100,x\n2020-01-01,urban,gas,1,1,90,x\n",
	        "bad.csv:3: from: not after");
	refused("from,settlement,stove,rooms,people,kwh_per_person,source\n", "bad.csv:1: header");
	refused(HEADER, "no norms");
}

static void names(void **state)
{
	(void)state;
	int v;
	assert_int_equal(askue_norms_settlement_parse("rural", &v), ASKUE_OK);
	assert_int_equal(v, 1);
	assert_int_equal(askue_norms_stove_parse("electric", &v), ASKUE_OK);
	assert_int_equal(v, 1);
	assert_int_equal(askue_norms_stove_parse("Gas", &v), ASKUE_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_table),
		cmocka_unit_test(lookup_by_key_and_date),
		cmocka_unit_test(bad_rows_named),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
