/* Unit tests: lib/invoice_pdf.c — an invoice rendered from a hand-made
 * document: its text read back with pdftotext, its QR code decoded with
 * zbarimg (poppler-utils, zbar-tools), the same input giving the same
 * bytes, and the refusals (sums that do not add up, bad bank details, too
 * many rows) leaving no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "invoice_pdf.h"
#include "tmpdir.h"

static const struct askue_invoice_pdf_utility utility = {
	.name = "АО «Энергосбыт-Демо»",
	.inn = "9999000006",
	.kpp = "999901001",
	.bank = "ДЕМО-БАНК",
	.bic = "049999999",
	.correspondent_account = "30101810300000000999",
	.settlement_account = "40702810600000000001",
	.address = "г. Демо, ул. Примерная, д. 1",
	.phone = "+7 000 000-00-00",
};

/* Two zones; day: 150.000 kWh x 6.12 = 918.00, night: 80.500 kWh x 3.40 =
 * 273.70; charges 1191.70. Debt 500.00, paid 500.00, penalties 12.34,
 * correction -10.00: total 500 - 500 + 12.34 - 10 + 1191.70 = 1194.04. */
static const struct askue_invoice_pdf_reading readings[] = {
	{"CE-001", "день", 1793480400, 1796072400, {1000000}, {1150000}, {150000}, "reading",
	 "interpolated", NULL},
	{"CE-001", "ночь", 1793480400, 1796072400, {500000}, {580500}, {80500}, "reading", "reading",
	 NULL},
};
static const struct askue_invoice_pdf_line lines[] = {
	{"день", {20758}, {20787}, {150000}, {6120000}, {91800}, "measured", "", 0},
	{"ночь", {20758}, {20787}, {80500}, {3400000}, {27370}, "measured", "", 0},
};

static struct askue_invoice_pdf doc(void)
{
	return (struct askue_invoice_pdf){
		.number = "202611-0000000013",
		.account = "0000000013",
		.name = "Иванов Пётр Сергеевич",
		.address = "г. Тверь, ул. Ленина, 5-12",
		.period = {2026, 11},
		.issued = askue_date_from_ymd(2026, 12, 1),
		.due = askue_date_from_ymd(2026, 12, 15),
		.previous = {50000}, .payments = {50000}, .penalties = {1234},
		.corrections = {-1000}, .charges = {119170}, .total = {119404},
		.n_readings = 2, .readings = readings,
		.n_lines = 2, .lines = lines,
	};
}

/* The standard output of a shell command, whole, or NULL. */
static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0)
		n += got;
	pclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void text_and_qr(void **state)
{
	(void)state;
	char path[512], cmd[1200];
	snprintf(path, sizeof path, "%s/a.pdf", dir);
	struct askue_invoice_pdf d = doc();
	int64_t bytes = 0;
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, &bytes), ASKUE_OK);
	assert_true(bytes > 1000);
	snprintf(cmd, sizeof cmd, "pdftotext -layout %s - 2>/dev/null", path);
	char *text = run(cmd);
	assert_non_null(text);
	const char *want[] = {
		"АО «Энергосбыт-Демо»", "Счёт № 202611-0000000013 от 01.12.2026",
		"ноябрь 2026 г. (01.11.2026 – 30.11.2026)", "Лицевой счёт: 0000000013",
		"Иванов Пётр Сергеевич", "CE-001", "1 000,000", "1 150,000", "150,000", "580,500",
		"01.11.2026 00:00", "01.12.2026 00:00", "интерполировано", "6,12", "3,40", "918,00",
		"273,70", "1 191,70", "12,34", "-10,00", "Итого к оплате: 1 194,04 руб.",
		"Оплатить до 15.12.2026", "Р/с 40702810600000000001 в ДЕМО-БАНК", "ГОСТ Р 56042-2014",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!strstr(text, want[i]))
			fail_msg("'%s' not in the PDF's text:\n%s", want[i], text);
	}
	assert_null(strstr(text, "ОБРАЗЕЦ"));
	free(text);
	snprintf(cmd, sizeof cmd, "pdftoppm -r 200 -png %s %s/a 2>/dev/null && "
	         "zbarimg --raw -q %s/a-1.png 2>/dev/null", path, dir, dir);
	char *qr = run(cmd);
	assert_non_null(qr);
	char want_qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	assert_int_equal(askue_invoice_pdf_qr_text(&utility, &d, want_qr, sizeof want_qr), ASKUE_OK);
	qr[strcspn(qr, "\n")] = '\0';
	assert_string_equal(qr, want_qr);
	assert_non_null(strstr(qr, "|Sum=119404|"));
	assert_non_null(strstr(qr, "|PersAcc=0000000013|"));
	free(qr);
}

/* Nothing to pay: the page says so, the QR code has no Sum; the demo
 * utility is marked as a sample. */
static void credit(void **state)
{
	(void)state;
	char path[512], cmd[1200];
	snprintf(path, sizeof path, "%s/c.pdf", dir);
	struct askue_invoice_pdf d = doc();
	d.payments.kop = 200000; /* 500 - 2000 + 12.34 - 10 + 1191.70 = -305.96 */
	d.total.kop = -30596;
	struct askue_invoice_pdf_utility u = utility;
	u.demo = 1;
	assert_int_equal(askue_invoice_pdf_write(&u, &d, NULL, NULL, path, NULL), ASKUE_OK);
	snprintf(cmd, sizeof cmd, "pdftotext %s - 2>/dev/null", path);
	char *text = run(cmd);
	assert_non_null(text);
	assert_non_null(strstr(text, "К оплате: 0,00 руб. Оплачивать не требуется."));
	assert_non_null(strstr(text, "Переплата 305,96 руб. будет учтена в следующем счёте."));
	assert_non_null(strstr(text, "ОБРАЗЕЦ"));
	assert_null(strstr(text, "Итого к оплате"));
	free(text);
	char qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	assert_int_equal(askue_invoice_pdf_qr_text(&u, &d, qr, sizeof qr), ASKUE_OK);
	assert_null(strstr(qr, "Sum="));
	/* exactly nothing to pay: no credit line, no Sum */
	d.payments.kop = 50000 + 119404;
	d.total.kop = 0;
	assert_int_equal(askue_invoice_pdf_write(&u, &d, NULL, NULL, path, NULL), ASKUE_OK);
	text = run(cmd);
	assert_non_null(text);
	assert_non_null(strstr(text, "К оплате: 0,00 руб. Оплачивать не требуется."));
	assert_null(strstr(text, "Переплата"));
	free(text);
	assert_int_equal(askue_invoice_pdf_qr_text(&u, &d, qr, sizeof qr), ASKUE_OK);
	assert_null(strstr(qr, "Sum="));
	/* the card file's address with the separator in it still gives a code */
	d.address = "ул. Ленина|5\tкв. 1";
	assert_int_equal(askue_invoice_pdf_qr_text(&u, &d, qr, sizeof qr), ASKUE_OK);
	assert_non_null(strstr(qr, "|PayerAddress=ул. Ленина/5 кв. 1|"));
}

/* The billing core's notes and how-words, in Russian under their rows. */
static void notes(void **state)
{
	(void)state;
	char path[512], cmd[1100];
	snprintf(path, sizeof path, "%s/n.pdf", dir);
	struct askue_invoice_pdf_reading r[2] = {readings[0], readings[1]};
	struct askue_invoice_pdf_line l[2] = {lines[0], lines[1]};
	r[0].start_how = "installation";
	r[0].end_how = "last_reading";
	r[1].note = "rollover at 99999.999 kWh";
	r[1].start_how = "previous";
	l[0].how = "average";
	l[0].note = "estimated: average of 4 periods; pro rata by days";
	l[1].band = 2;
	l[1].how = "norm";
	l[1].note = "no meter on 10 of 31 days: norm 139.000 kWh a month; band limits pro rata: "
	            "21 of 31 days; some new remark";
	struct askue_invoice_pdf d = doc();
	d.readings = r;
	d.lines = l;
	d.estimated = 1;
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL), ASKUE_OK);
	snprintf(cmd, sizeof cmd, "pdftotext %s - 2>/dev/null", path);
	char *text = run(cmd);
	assert_non_null(text);
	for (char *c = text; *c; c++) /* a wrapped note reads on */
		if (*c == '\n')
			*c = ' ';
	const char *want[] = {
		"начальные: при установке; конечные: последнее показание",
		"начальные: из предыдущего счёта; переход счётчика через ноль (разрядность "
		"99999,999 кВт·ч)",
		"расчётно: по среднему за 4 мес.; распределено пропорционально дням",
		"диапазон объёма 2; без прибора учёта 10 из 31 дн.: по нормативу 139,000 кВт·ч в "
		"месяц; границы диапазонов объёма пропорционально дням: 21 из 31; some new remark",
		"Часть расхода определена расчётным способом",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(text, want[i]))
			fail_msg("'%s' not in the PDF's text:\n%s", want[i], text);
	free(text);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* 100 charge lines flow over pages. Line i (1..100) is zone "Z-i", i kWh
 * at 1.00 = i roubles; every tenth has a note wrapped onto two lines.
 * Charges 1 + 2 + ... + 100 = 5,050.00; total 500 - 500 + 12.34 - 10 +
 * 5,050.00 = 5,052.34. Rows are 11 points (20 with such a note): about 40
 * fit under the first page's title and readings, about 50 under a next
 * page's header (700 points less the header, 560 for rows); the last ten
 * and the account with the QR code (about 190 points) make page 3. Each page
 * repeats the utility's header, says "стр. N из 3"; pages 2 and 3 repeat
 * the table's column titles; every line appears once, in order; the
 * totals and the QR code only on the last page, which decodes to the
 * document's text. */
static void many_pages(void **state)
{
	(void)state;
	static struct askue_invoice_pdf_line l[100];
	static char zone[100][16];
	const char *note = "estimated: norm; some remark that is long enough to wrap onto a second "
	                   "line under its row and then onto a third line as well, since it goes "
	                   "on and on about the estimate";
	for (int i = 0; i < 100; i++) {
		snprintf(zone[i], sizeof zone[i], "Z-%03d", i + 1);
		l[i] = lines[0];
		l[i].zone = zone[i];
		l[i].energy.wh = (i + 1) * 1000;
		l[i].price.micro_rub = 1000000;
		l[i].amount.kop = (i + 1) * 100;
		l[i].note = i % 10 == 9 ? note : "";
	}
	struct askue_invoice_pdf d = doc();
	d.lines = l, d.n_lines = 100;
	d.charges.kop = 505000, d.total.kop = 505234;
	char path[512], cmd[1400];
	snprintf(path, sizeof path, "%s/m.pdf", dir);
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL), ASKUE_OK);
	snprintf(cmd, sizeof cmd, "pdfinfo %s 2>/dev/null | sed -n 's/^Pages: *//p'", path);
	char *pages = run(cmd);
	assert_non_null(pages);
	assert_int_equal(atoi(pages), 3);
	free(pages);
	int next = 1; /* the next line expected, in order over the pages */
	for (int pg = 1; pg <= 3; pg++) {
		snprintf(cmd, sizeof cmd, "pdftotext -f %d -l %d %s - 2>/dev/null", pg, pg, path);
		char *text = run(cmd), want[64];
		assert_non_null(text);
		snprintf(want, sizeof want, "стр. %d из 3", pg);
		if (!strstr(text, want) || !strstr(text, "АО «Энергосбыт-Демо»") ||
		    !strstr(text, "ИНН 9999000006"))
			fail_msg("page %d: no header or '%s':\n%s", pg, want, text);
		if (pg > 1 && (!strstr(text, "Счёт № 202611-0000000013 от 01.12.2026, лицевой счёт "
		                               "0000000013 (продолжение)") ||
		               !strstr(text, "Тариф, руб./кВт·ч")))
			fail_msg("page %d: no continued title or column titles:\n%s", pg, text);
		int last = pg == 3;
		assert_int_equal(!!strstr(text, "Итого к оплате: 5 052,34 руб."), last);
		assert_int_equal(!!strstr(text, "ГОСТ Р 56042-2014"), last);
		assert_int_equal(count_of(text, "Начислено за период"), last ? 2 : 0);
		int here = count_of(text, "Z-");
		if (!(here > 0 || last))
			fail_msg("page %d: no line", pg);
		for (int k = 0; k < here; k++, next++) {
			snprintf(want, sizeof want, "Z-%03d", next);
			if (count_of(text, want) != 1)
				fail_msg("page %d: %s not once", pg, want);
		}
		free(text);
	}
	assert_int_equal(next, 101);
	snprintf(cmd, sizeof cmd, "pdftoppm -r 200 -f 3 -l 3 -png %s %s/m 2>/dev/null && "
	         "zbarimg --raw -q %s/m-3.png 2>/dev/null", path, dir, dir);
	char *qr = run(cmd);
	assert_non_null(qr);
	char want_qr[ASKUE_QR_GOST_BYTES_MAX + 1];
	assert_int_equal(askue_invoice_pdf_qr_text(&utility, &d, want_qr, sizeof want_qr), ASKUE_OK);
	qr[strcspn(qr, "\n")] = '\0';
	assert_string_equal(qr, want_qr);
	assert_non_null(strstr(qr, "|Sum=505234|"));
	free(qr);
}

/* The same document twice: the same bytes. */
static void same_bytes(void **state)
{
	(void)state;
	char a[512], b[512], cmd[1100];
	snprintf(a, sizeof a, "%s/s1.pdf", dir);
	snprintf(b, sizeof b, "%s/s2.pdf", dir);
	struct askue_invoice_pdf d = doc();
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, a, NULL), ASKUE_OK);
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, b, NULL), ASKUE_OK);
	snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
	assert_int_equal(system(cmd), 0);
}

static void refused(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/r.pdf", dir);
	struct askue_invoice_pdf d = doc();
	d.total.kop += 1;
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL),
	                 ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "its total is 119405"));
	d = doc();
	d.charges.kop += 1;
	d.total.kop += 1;
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL),
	                 ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "lines add up to 119170"));
	d = doc();
	struct askue_invoice_pdf_utility u = utility;
	u.settlement_account = "40702810600000000002";
	assert_int_equal(askue_invoice_pdf_write(&u, &d, NULL, NULL, path, NULL), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "PersonalAcc"));
	static struct askue_invoice_pdf_reading many[ASKUE_INVOICE_PDF_ROWS_MAX];
	for (int i = 0; i < ASKUE_INVOICE_PDF_ROWS_MAX; i++)
		many[i] = readings[0];
	d.readings = many;
	d.n_readings = ASKUE_INVOICE_PDF_ROWS_MAX - 1; /* + 2 lines: one row too many */
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL),
	                 ASKUE_ERR_LIMIT);
	assert_non_null(strstr(askue_err_msg(), "a document holds 256 rows"));
	d = doc();
	d.period.month = 0;
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, path, NULL),
	                 ASKUE_ERR_INVALID);
	d = doc();
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, "/nonexistent/font.ttf", NULL, path,
	                                         NULL), ASKUE_ERR_IO);
	assert_int_equal(access(path, F_OK), -1);
	char tmp[520];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	/* an unwritable place */
	assert_int_equal(askue_invoice_pdf_write(&utility, &d, NULL, NULL, "/nonexistent/x.pdf",
	                                         NULL), ASKUE_ERR_IO);
}

int main(void)
{
	if (askue_tz_set("Europe/Moscow"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_and_qr),
		cmocka_unit_test(credit),
		cmocka_unit_test(notes),
		cmocka_unit_test(many_pages),
		cmocka_unit_test(same_bytes),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
