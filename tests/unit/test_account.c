/* Unit tests: lib/account.c — the check digit catches every single
 * mistyped digit and every swap of neighbouring digits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "account.h"

static void make_and_check(void **state)
{
	(void)state;
	char acc[ASKUE_ACCOUNT_BUF];
	assert_int_equal(askue_account_make(1, acc), ASKUE_OK);
	assert_int_equal(strlen(acc), 10);
	assert_true(askue_account_checks(acc));
	assert_int_equal(askue_account_make(0, acc), ASKUE_ERR_RANGE);
	assert_int_equal(askue_account_make(ASKUE_ACCOUNT_SEQ_MAX + 1, acc), ASKUE_ERR_RANGE);
	assert_false(askue_account_checks("12345"));
	assert_false(askue_account_checks("12345abcde"));
	assert_false(askue_account_well_formed(""));
	assert_false(askue_account_well_formed("123 456"));
}

/* Every single-digit error and every adjacent swap, over many numbers. */
static void catches_typos(void **state)
{
	(void)state;
	char acc[ASKUE_ACCOUNT_BUF], typo[ASKUE_ACCOUNT_BUF];
	for (int64_t seq = 1; seq < 1000000000; seq = seq * 7 + 13) {
		assert_int_equal(askue_account_make(seq, acc), ASKUE_OK);
		for (int pos = 0; pos < 10; pos++)
			for (char dgt = '0'; dgt <= '9'; dgt++) {
				if (dgt == acc[pos])
					continue;
				memcpy(typo, acc, sizeof typo);
				typo[pos] = dgt;
				assert_false(askue_account_checks(typo));
			}
		for (int pos = 0; pos < 9; pos++) {
			if (acc[pos] == acc[pos + 1])
				continue;
			memcpy(typo, acc, sizeof typo);
			typo[pos] = acc[pos + 1];
			typo[pos + 1] = acc[pos];
			assert_false(askue_account_checks(typo));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(make_and_check),
		cmocka_unit_test(catches_typos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
