/* Unit tests: lib/money.c — exact parsing, formatting and rounding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "money.h"

static void parse_money(void **state)
{
	(void)state;
	struct askue_money m;
	assert_int_equal(askue_money_parse("1234.56", &m), ASKUE_OK);
	assert_int_equal(m.kop, 123456);
	assert_int_equal(askue_money_parse("0.5", &m), ASKUE_OK);
	assert_int_equal(m.kop, 50);
	assert_int_equal(askue_money_parse("-7", &m), ASKUE_OK);
	assert_int_equal(m.kop, -700);
	assert_int_equal(askue_money_parse("1.234", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse("", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse("12a", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse("1.", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse(".5", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse("1e3", &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_money_parse("99999999999999999999999", &m), ASKUE_ERR_RANGE);
}

static void parse_energy_and_price(void **state)
{
	(void)state;
	struct askue_energy e;
	struct askue_price p;
	assert_int_equal(askue_energy_parse_kwh("12345.678", &e), ASKUE_OK);
	assert_int_equal(e.wh, 12345678);
	assert_int_equal(askue_energy_parse_kwh("10.001", &e), ASKUE_OK);
	assert_int_equal(e.wh, 10001); /* exact, no double */
	assert_int_equal(askue_energy_parse_kwh("1.2345", &e), ASKUE_ERR_INVALID);
	assert_int_equal(askue_energy_parse_kwh("-1", &e), ASKUE_ERR_INVALID);
	assert_int_equal(askue_price_parse("4.3215", &p), ASKUE_OK);
	assert_int_equal(p.micro_rub, 4321500);
	assert_int_equal(askue_price_parse("5.67", &p), ASKUE_OK);
	assert_int_equal(p.micro_rub, 5670000);
	assert_int_equal(askue_price_parse("0.1234567", &p), ASKUE_ERR_INVALID);
}

static void format(void **state)
{
	(void)state;
	char buf[ASKUE_NUM_BUF];
	assert_string_equal(askue_money_format((struct askue_money){123456}, buf), "1234.56");
	assert_string_equal(askue_money_format((struct askue_money){-5}, buf), "-0.05");
	assert_string_equal(askue_money_format((struct askue_money){0}, buf), "0.00");
	assert_string_equal(askue_energy_format_kwh((struct askue_energy){10001}, buf), "10.001");
	assert_string_equal(askue_price_format((struct askue_price){4321500}, buf), "4.3215");
	assert_string_equal(askue_price_format((struct askue_price){5670000}, buf), "5.67");
	assert_string_equal(askue_price_format((struct askue_price){5000000}, buf), "5.00");
}

static void rounding(void **state)
{
	(void)state;
	int64_t r;
	assert_int_equal(askue_muldiv(5, 1, 10, ASKUE_ROUND_HALF_UP, &r), ASKUE_OK);
	assert_int_equal(r, 1);
	assert_int_equal(askue_muldiv(-5, 1, 10, ASKUE_ROUND_HALF_UP, &r), ASKUE_OK);
	assert_int_equal(r, -1);
	assert_int_equal(askue_muldiv(4, 1, 10, ASKUE_ROUND_HALF_UP, &r), ASKUE_OK);
	assert_int_equal(r, 0);
	assert_int_equal(askue_muldiv(25, 1, 10, ASKUE_ROUND_HALF_EVEN, &r), ASKUE_OK);
	assert_int_equal(r, 2);
	assert_int_equal(askue_muldiv(35, 1, 10, ASKUE_ROUND_HALF_EVEN, &r), ASKUE_OK);
	assert_int_equal(r, 4);
	assert_int_equal(askue_muldiv(19, 1, 10, ASKUE_ROUND_DOWN, &r), ASKUE_OK);
	assert_int_equal(r, 1);
	assert_int_equal(askue_muldiv(INT64_MAX, INT64_MAX, 1, ASKUE_ROUND_DOWN, &r), ASKUE_ERR_RANGE);
	assert_int_equal(askue_muldiv(1, 1, 0, ASKUE_ROUND_DOWN, &r), ASKUE_ERR_RANGE);
}

static void line_amount(void **state)
{
	(void)state;
	struct askue_money m;
	/* 123.456 kWh x 5.67 RUB = 699.99552 RUB -> 700.00 */
	assert_int_equal(askue_money_of((struct askue_energy){123456}, (struct askue_price){5670000},
	                                ASKUE_ROUND_HALF_UP, &m), ASKUE_OK);
	assert_int_equal(m.kop, 70000);
	/* 1 Wh x 4.3215 = 0.0043215 RUB -> 0.00 */
	assert_int_equal(askue_money_of((struct askue_energy){1}, (struct askue_price){4321500},
	                                ASKUE_ROUND_HALF_UP, &m), ASKUE_OK);
	assert_int_equal(m.kop, 0);
	/* 1000 kWh x 4.3215 = 4321.50 exactly */
	assert_int_equal(askue_money_of((struct askue_energy){1000000}, (struct askue_price){4321500},
	                                ASKUE_ROUND_HALF_UP, &m), ASKUE_OK);
	assert_int_equal(m.kop, 432150);
	/* the half: 0.5 kop rounds up */
	assert_int_equal(askue_money_of((struct askue_energy){1}, (struct askue_price){50000},
	                                ASKUE_ROUND_HALF_UP, &m), ASKUE_OK);
	assert_int_equal(m.kop, 0); /* 1 Wh x 0.05 = 0.00005 RUB = 0.005 kop */
	assert_int_equal(askue_money_of((struct askue_energy){100}, (struct askue_price){50000},
	                                ASKUE_ROUND_HALF_UP, &m), ASKUE_OK);
	assert_int_equal(m.kop, 1); /* 0.5 kop -> 1 */
}

static void checked_sums(void **state)
{
	(void)state;
	struct askue_money m;
	assert_int_equal(askue_money_add((struct askue_money){INT64_MAX}, (struct askue_money){1}, &m),
	                 ASKUE_ERR_RANGE);
	assert_int_equal(askue_money_sub((struct askue_money){5}, (struct askue_money){7}, &m), ASKUE_OK);
	assert_int_equal(m.kop, -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_money),    cmocka_unit_test(parse_energy_and_price),
		cmocka_unit_test(format),         cmocka_unit_test(rounding),
		cmocka_unit_test(line_amount),    cmocka_unit_test(checked_sums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
