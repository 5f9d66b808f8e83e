/* Unit tests: lib/text.c — UTF-8 checks and the search folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "text.h"

static void fold(void **state)
{
	(void)state;
	char out[128];
	assert_string_equal(askue_text_fold("ИВАНОВ Пётр", out, sizeof out), "иванов петр");
	assert_string_equal(askue_text_fold("  Ёлкин\t\tЁж  ", out, sizeof out), "елкин еж");
	assert_string_equal(askue_text_fold("ул. ЛЕНИНА, 5", out, sizeof out), "ул. ленина, 5");
	assert_string_equal(askue_text_fold("ЎІЄ", out, sizeof out), "ўіє");
	/* A buffer of exactly strlen + 1 holds the whole folded text. */
	char exact[sizeof "Петров Иван"];
	assert_string_equal(askue_text_fold("Петров Иван", exact, sizeof exact), "петров иван");
	char tiny[4];
	assert_string_equal(askue_text_fold("Петров", tiny, sizeof tiny), "п");
}

static void valid(void **state)
{
	(void)state;
	assert_true(askue_text_valid("Иванов", strlen("Иванов")));
	assert_false(askue_text_valid("\xff", 1));
	assert_false(askue_text_valid("\xc0\xaf", 2)); /* overlong */
	assert_false(askue_text_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(askue_text_valid("a\nb", 3));
	assert_true(askue_text_valid("a\tb", 3));
	assert_int_equal(askue_text_chars("Иван"), 4);
	assert_int_equal(askue_text_check("name", "", 10, 1), ASKUE_ERR_INVALID);
	assert_int_equal(askue_text_check("name", "   ", 10, 1), ASKUE_ERR_INVALID);
	assert_int_equal(askue_text_check("name", "", 10, 0), ASKUE_OK);
	assert_int_equal(askue_text_check("name", "12345678901", 10, 1), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(fold), cmocka_unit_test(valid)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
