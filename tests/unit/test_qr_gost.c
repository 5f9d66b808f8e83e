/* Unit tests: lib/qr_gost.c — the ГОСТ Р 56042-2014 payment text and the
 * checks of its fields. Expected texts are written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "qr_gost.h"

/* Real, published details (the standard's own example bank, Sberbank in
 * Moscow: BIC 044525225, its correspondent account, Sberbank's INN) so
 * that the check digits are tested against numbers that exist. */
static struct askue_qr_payee payee(void)
{
	return (struct askue_qr_payee){
		.name = "АО «Энергосбыт»",
		.personal_acc = "40702810138250123017",
		.bank_name = "ПАО Сбербанк",
		.bic = "044525225",
		.corresp_acc = "30101810400000000225",
		.inn = "7707083893",
		.kpp = "773601001",
	};
}

static struct askue_qr_payment payment(void)
{
	return (struct askue_qr_payment){
		.has_sum = 1,
		.sum = {123456},
		.purpose = "Электроэнергия за ноябрь 2026, л/с 0000000013",
		.pers_acc = "0000000013",
		.payer_address = "г. Тверь, ул. Ленина, 5-12",
		.period = {2026, 11},
		.quitt_id = "202611-0000000013",
		.quitt_date = askue_date_from_ymd(2026, 12, 1),
	};
}

static void full_text(void **state)
{
	(void)state;
	struct askue_qr_payee p = payee();
	struct askue_qr_payment pay = payment();
	char buf[ASKUE_QR_GOST_BYTES_MAX + 1];
	size_t len = 0;
	assert_int_equal(askue_qr_gost_text(&p, &pay, buf, sizeof buf, &len), ASKUE_OK);
	const char *want =
		"ST00012|Name=АО «Энергосбыт»|PersonalAcc=40702810138250123017"
		"|BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225"
		"|Sum=123456|Purpose=Электроэнергия за ноябрь 2026, л/с 0000000013"
		"|PayeeINN=7707083893|KPP=773601001|PersAcc=0000000013"
		"|PayerAddress=г. Тверь, ул. Ленина, 5-12|PaymPeriod=112026"
		"|QuittId=202611-0000000013|QuittDate=01.12.2026|TechCode=02";
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

/* Nothing to pay (a credit): no Sum field, and no address when none. */
static void no_sum(void **state)
{
	(void)state;
	struct askue_qr_payee p = payee();
	struct askue_qr_payment pay = payment();
	pay.has_sum = 0;
	pay.payer_address = NULL;
	pay.period = (struct askue_period){2027, 1};
	char buf[ASKUE_QR_GOST_BYTES_MAX + 1];
	assert_int_equal(askue_qr_gost_text(&p, &pay, buf, sizeof buf, NULL), ASKUE_OK);
	assert_null(strstr(buf, "Sum="));
	assert_null(strstr(buf, "PayerAddress="));
	assert_non_null(strstr(buf, "|CorrespAcc=30101810400000000225|Purpose="));
	assert_non_null(strstr(buf, "|PaymPeriod=012027|"));
	/* a Sum asked for must be positive */
	pay.has_sum = 1;
	pay.sum.kop = 0;
	assert_int_equal(askue_qr_gost_text(&p, &pay, buf, sizeof buf, NULL), ASKUE_ERR_INVALID);
	pay.sum.kop = -100;
	assert_int_equal(askue_qr_gost_text(&p, &pay, buf, sizeof buf, NULL), ASKUE_ERR_INVALID);
}

static void check_digits(void **state)
{
	(void)state;
	assert_true(askue_qr_gost_account_ok("044525225", "40702810138250123017"));
	assert_true(askue_qr_gost_corresp_ok("044525225", "30101810400000000225"));
	/* the demonstration defaults of config [utility] */
	assert_true(askue_qr_gost_account_ok("049999999", "40702810600000000001"));
	assert_true(askue_qr_gost_corresp_ok("049999999", "30101810300000000999"));
	assert_true(askue_qr_gost_inn_ok("9999000006"));
	assert_true(askue_qr_gost_inn_ok("7707083893"));
	assert_true(askue_qr_gost_inn_ok("500100009579")); /* 12 digits, both checks */
	assert_false(askue_qr_gost_inn_ok("500100009578"));
	assert_false(askue_qr_gost_inn_ok("500100009479"));
	assert_false(askue_qr_gost_inn_ok("7707083894"));
	assert_false(askue_qr_gost_inn_ok("770708389"));
	assert_false(askue_qr_gost_inn_ok("77070838931"));
	assert_false(askue_qr_gost_inn_ok("77070838a3"));
	/* every single mistyped digit of an account is caught (the weights
	 * 7, 1, 3 are prime to 10) */
	char acc[21];
	for (int i = 0; i < 20; i++)
		for (char d = '0'; d <= '9'; d++) {
			memcpy(acc, "40702810138250123017", 21);
			if (acc[i] == d)
				continue;
			acc[i] = d;
			assert_false(askue_qr_gost_account_ok("044525225", acc));
		}
	/* an account of another bank (another BIC) fails */
	assert_false(askue_qr_gost_account_ok("044525226", "40702810138250123017"));
	assert_false(askue_qr_gost_corresp_ok("044535225", "30101810400000000225"));
}

static enum askue_err text_of(const struct askue_qr_payee *p, const struct askue_qr_payment *pay)
{
	char buf[ASKUE_QR_GOST_BYTES_MAX + 1];
	return askue_qr_gost_text(p, pay, buf, sizeof buf, NULL);
}

static void bad_payee(void **state)
{
	(void)state;
	struct askue_qr_payment pay = payment();
	struct askue_qr_payee p = payee();
	p.bic = "04452522";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "BIC '04452522': not 9 digits");
	p = payee();
	p.personal_acc = "4070281013825012301";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "PersonalAcc '4070281013825012301': not 20 digits");
	p = payee();
	p.personal_acc = "40702810138250123018";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(),
	                    "PersonalAcc '40702810138250123018': wrong check digit for BIC 044525225");
	p = payee();
	p.corresp_acc = "30101810400000000226";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	p = payee();
	p.inn = "770708389";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "PayeeINN '770708389': not 10 or 12 digits");
	p.inn = "7707083894";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "PayeeINN '7707083894': wrong check digit");
	p = payee();
	p.kpp = "77360100";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	p.kpp = "7736AB001"; /* letters are allowed in the 5th and 6th place */
	assert_int_equal(text_of(&p, &pay), ASKUE_OK);
	p.kpp = "77AB01001";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	p = payee();
	p.bank_name = "";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "BankName: empty");
}

static void bad_text(void **state)
{
	(void)state;
	struct askue_qr_payment pay = payment();
	struct askue_qr_payee p = payee();
	p.name = "Энерго|сбыт";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "Name 'Энерго|сбыт': holds '|', the field separator");
	p = payee();
	pay.purpose = "за ноябрь\nи декабрь";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	pay.purpose = "\xd0\x9f\xd0"; /* a cut UTF-8 sequence */
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	pay.purpose = "\xc0\xaf"; /* an overlong '/' */
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	pay = payment();
	pay.payer_address = "ул. Ленина|5";
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	pay = payment();
	pay.period.month = 13;
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
}

/* Lengths are characters, not bytes: 45 Cyrillic letters are a good
 * BankName (90 bytes), 46 are not; the mandatory block's 300 bytes are
 * bytes. */
static void lengths(void **state)
{
	(void)state;
	struct askue_qr_payment pay = payment();
	struct askue_qr_payee p = payee();
	char bank[2 * 46 + 1] = "";
	for (int i = 0; i < 45; i++)
		strcat(bank, "Б");
	p.bank_name = bank;
	assert_int_equal(text_of(&p, &pay), ASKUE_OK);
	strcat(bank, "Б");
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	p = payee();
	char name[2 * 161 + 1] = "";
	for (int i = 0; i < 160; i++)
		strcat(name, "a");
	p.name = name;
	assert_int_equal(text_of(&p, &pay), ASKUE_OK);
	strcat(name, "a");
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
	/* the other mandatory fields take 117 bytes with "Name=": a name of
	 * 183 bytes fills the 300 */
	name[0] = '\0';
	for (int i = 0; i < 91; i++) /* 182 bytes */
		strcat(name, "Э");
	strcat(name, "k");
	assert_int_equal(text_of(&p, &pay), ASKUE_OK);
	strcat(name, "k");
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_LIMIT);
	pay.purpose = "";
	p = payee();
	assert_int_equal(text_of(&p, &pay), ASKUE_ERR_INVALID);
}

static void small_buffer(void **state)
{
	(void)state;
	struct askue_qr_payee p = payee();
	struct askue_qr_payment pay = payment();
	char buf[64];
	memset(buf, 'x', sizeof buf);
	assert_int_equal(askue_qr_gost_text(&p, &pay, buf, sizeof buf, NULL), ASKUE_ERR_LIMIT);
	assert_int_equal(buf[0], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_text),   cmocka_unit_test(no_sum),
		cmocka_unit_test(check_digits), cmocka_unit_test(bad_payee),
		cmocka_unit_test(bad_text),    cmocka_unit_test(lengths),
		cmocka_unit_test(small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
