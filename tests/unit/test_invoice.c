/* Unit tests: lib/invoice.c over a real SQLite ledger — an invoice written
 * and read back whole, the document that does not add up refused, one
 * invoice per subscriber and period, the status that only leaves
 * 'current', the account since the last invoice, correction documents
 * numbered after their invoice, postings that cannot be edited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoice.h"
#include "ledger.h"
#include "registry.h"
#include "tmpdir.h"

static struct askue_ledger *L;
static int ledger_no;

static int open_one(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, ++ledger_no);
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &L), ASKUE_OK);
	return 0;
}

static int close_one(void **state)
{
	(void)state;
	askue_ledger_close(L);
	L = NULL;
	return 0;
}

static int64_t subscriber(const char *name, char *account)
{
	struct askue_subscriber s = {0};
	snprintf(s.name, sizeof s.name, "%s", name);
	snprintf(s.address, sizeof s.address, "ул. Ленина, 1");
	s.registered = askue_date_from_ymd(2026, 1, 1);
	assert_int_equal(askue_subscriber_add(L, &s), ASKUE_OK);
	strcpy(account, s.account);
	return s.id;
}

static struct askue_date ymd(int y, int m, int d) { return askue_date_from_ymd(y, m, d); }

/* March 2026: two lines, 200.250 kWh x 6.12 = 1,225.53 and 80.125 x 3.40
 * = 272.43; charges 1,497.96 on a previous debt of 100.00. */
static void fill(struct askue_invoice *inv, int64_t sid, const char *account,
                 struct askue_invoice_line *lines, struct askue_invoice_reading *rd)
{
	memset(inv, 0, sizeof *inv);
	inv->subscriber_id = sid;
	inv->period = (struct askue_period){2026, 3};
	askue_invoice_number(inv->period, account, inv->number);
	inv->issued = ymd(2026, 4, 2);
	inv->due = ymd(2026, 4, 15);
	inv->previous.kop = 10000;
	inv->charges.kop = 122553 + 27243;
	inv->total.kop = 10000 + 149796;
	memset(lines, 0, 2 * sizeof *lines);
	lines[0] = (struct askue_invoice_line){.line_no = 1, .zone = "day", .zone_idx = 1,
	                                       .energy = {200250}, .price = {6120000},
	                                       .amount = {122553}, .tariff = "Двухзонный",
	                                       .price_from = ymd(2025, 1, 1), .days_from = ymd(2026, 3, 1),
	                                       .days_to = ymd(2026, 3, 31), .how = "measured"};
	lines[1] = lines[0];
	lines[1].line_no = 2;
	strcpy(lines[1].zone, "night");
	lines[1].zone_idx = 2;
	lines[1].energy.wh = 80125;
	lines[1].price.micro_rub = 3400000;
	lines[1].amount.kop = 27243;
	memset(rd, 0, sizeof *rd);
	*rd = (struct askue_invoice_reading){.seq = 1, .serial = "S2", .zone_idx = 1,
	                                     .start_ts = 1772312400, .start = {600000},
	                                     .start_how = "reading", .end_ts = 1774990800,
	                                     .end = {800250}, .end_how = "interpolated",
	                                     .energy = {200250}};
	inv->n_lines = 2;
	inv->lines = lines;
	inv->n_readings = 1;
	inv->readings = rd;
	inv->details = "{\"how\":\"measured\"}";
}

static void insert(struct askue_invoice *inv)
{
	assert_int_equal(askue_ledger_begin(L), ASKUE_OK);
	assert_int_equal(askue_invoice_insert_tx(L, inv), ASKUE_OK);
	assert_int_equal(askue_ledger_commit(L), ASKUE_OK);
}

static void written_and_read_back_whole(void **state)
{
	(void)state;
	char account[ASKUE_ACCOUNT_BUF];
	int64_t sid = subscriber("Иванов", account);
	struct askue_invoice inv;
	struct askue_invoice_line lines[2];
	struct askue_invoice_reading rd;
	fill(&inv, sid, account, lines, &rd);
	insert(&inv);
	assert_true(inv.id > 0);
	char number[ASKUE_INVOICE_NUMBER_BUF];
	snprintf(number, sizeof number, "202603-%s", account);
	struct askue_invoice *got;
	assert_int_equal(askue_invoice_get(L, number, &got), ASKUE_OK);
	assert_string_equal(got->account, account);
	assert_string_equal(got->name, "Иванов");
	assert_int_equal(got->period.month, 3);
	assert_int_equal(got->due.days, ymd(2026, 4, 15).days);
	assert_int_equal(got->charges.kop, 149796);
	assert_int_equal(got->total.kop, 159796);
	assert_string_equal(got->status, "current");
	assert_int_equal(got->n_lines, 2);
	assert_string_equal(got->lines[1].zone, "night");
	assert_int_equal(got->lines[1].amount.kop, 27243);
	assert_string_equal(got->lines[0].tariff, "Двухзонный");
	assert_int_equal(got->n_readings, 1);
	assert_string_equal(got->readings[0].end_how, "interpolated");
	assert_int_equal(got->readings[0].end.wh, 800250);
	assert_string_equal(got->details, "{\"how\":\"measured\"}");
	askue_invoice_free(got);
	assert_int_equal(askue_invoice_get(L, "202603-0", &got), ASKUE_ERR_NOT_FOUND);
	assert_int_equal(askue_invoice_get_period(L, sid, (struct askue_period){2026, 4}, &got),
	                 ASKUE_ERR_NOT_FOUND);
	/* one per subscriber and period */
	assert_int_equal(askue_ledger_begin(L), ASKUE_OK);
	assert_int_equal(askue_invoice_insert_tx(L, &inv), ASKUE_ERR_EXISTS);
	askue_ledger_rollback(L);
}

static void a_document_that_does_not_add_up_is_refused(void **state)
{
	(void)state;
	char account[ASKUE_ACCOUNT_BUF];
	int64_t sid = subscriber("Петров", account);
	struct askue_invoice inv;
	struct askue_invoice_line lines[2];
	struct askue_invoice_reading rd;
	fill(&inv, sid, account, lines, &rd);
	lines[1].amount.kop += 1; /* the lines no longer sum to the charges */
	assert_int_equal(askue_ledger_begin(L), ASKUE_OK);
	assert_int_equal(askue_invoice_insert_tx(L, &inv), ASKUE_ERR_INVALID);
	lines[1].amount.kop -= 1;
	inv.total.kop -= 1; /* nor the total to the rest */
	assert_int_equal(askue_invoice_insert_tx(L, &inv), ASKUE_ERR_INVALID);
	askue_ledger_rollback(L);
}

static void posting(int64_t sid, const char *kind, int64_t kop, int64_t invoice_id)
{
	struct askue_posting p = {.subscriber_id = sid, .date = ymd(2026, 4, 2),
	                          .amount = {kop}, .invoice_id = invoice_id, .created = 1};
	strcpy(p.kind, kind);
	if (!strcmp(kind, "payment"))
		p.payment_id = 1; /* the CHECK wants one; no FOREIGN KEY on it */
	assert_int_equal(askue_posting_add_tx(L, &p), ASKUE_OK);
}

/* Postings 100.00 (old charge), then the March invoice 1,497.96, then a
 * payment of 500.00, a penalty of 3.95 and a correction of -16.78: the
 * next invoice shows previous 1,597.96 (the balance after the invoice's
 * own posting), payments 500.00, penalties 3.95, corrections -16.78. */
static void the_account_since_the_last_invoice(void **state)
{
	(void)state;
	char account[ASKUE_ACCOUNT_BUF];
	int64_t sid = subscriber("Сидоров", account);
	struct askue_invoice inv;
	struct askue_invoice_line lines[2];
	struct askue_invoice_reading rd;
	fill(&inv, sid, account, lines, &rd);
	assert_int_equal(askue_ledger_begin(L), ASKUE_OK);
	posting(sid, "correction", 10000, 0);
	assert_int_equal(askue_invoice_insert_tx(L, &inv), ASKUE_OK);
	posting(sid, "invoice", 149796, inv.id);
	posting(sid, "payment", -50000, 0);
	posting(sid, "penalty", 395, 0);
	struct askue_correction c = {.subscriber_id = sid, .invoice_id = inv.id,
	                             .period = inv.period, .date = ymd(2026, 4, 10),
	                             .amount = {-1678}, .reason = "price"};
	assert_int_equal(askue_correction_add_tx(L, &c, 1), ASKUE_OK);
	char want[64];
	snprintf(want, sizeof want, "202603-%s-K1", account);
	assert_string_equal(c.number, want);
	assert_int_equal(askue_correction_add_tx(L, &c, 1), ASKUE_OK);
	snprintf(want, sizeof want, "202603-%s-K2", account);
	assert_string_equal(c.number, want);
	struct askue_money sum;
	assert_int_equal(askue_correction_sum(L, inv.id, &sum), ASKUE_OK);
	assert_int_equal(sum.kop, -3356);
	struct askue_account_since a;
	assert_int_equal(askue_account_since_last_invoice(L, sid, &a), ASKUE_OK);
	assert_int_equal(a.last_invoice_id, inv.id);
	assert_string_equal(a.last_status, "current");
	assert_int_equal(a.previous.kop, 159796);
	assert_int_equal(a.payments.kop, 50000);
	assert_int_equal(a.penalties.kop, 395);
	assert_int_equal(a.corrections.kop, -3356);
	assert_int_equal(a.balance.kop, 159796 - 50000 + 395 - 3356);
	/* an amount of zero, or no reason, is no correction */
	c.amount.kop = 0;
	assert_int_equal(askue_correction_add_tx(L, &c, 1), ASKUE_ERR_INVALID);
	c.amount.kop = 1;
	c.reason[0] = 0;
	assert_int_equal(askue_correction_add_tx(L, &c, 1), ASKUE_ERR_INVALID);
	/* the status leaves 'current' once */
	assert_int_equal(askue_invoice_set_status_tx(L, inv.id, "superseded"), ASKUE_OK);
	assert_int_equal(askue_invoice_set_status_tx(L, inv.id, "paid"), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_ledger_commit(L), ASKUE_OK);
	/* postings are immutable */
	assert_int_equal(askue_ledger_exec(L, "UPDATE posting SET amount_kop = 0"), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_ledger_exec(L, "DELETE FROM posting"), ASKUE_ERR_CONFLICT);
}

static int count;
static int count_one(const struct askue_invoice *inv, void *arg)
{
	(void)arg;
	count++;
	return inv->n_lines != 0; /* headers only */
}

static void a_subscribers_invoices_listed(void **state)
{
	(void)state;
	char account[ASKUE_ACCOUNT_BUF];
	int64_t sid = subscriber("Кузнецов", account);
	struct askue_invoice inv;
	struct askue_invoice_line lines[2];
	struct askue_invoice_reading rd;
	fill(&inv, sid, account, lines, &rd);
	insert(&inv);
	inv.period.month = 4;
	askue_invoice_number(inv.period, account, inv.number);
	insert(&inv);
	count = 0;
	assert_int_equal(askue_invoice_each(L, account, count_one, NULL), ASKUE_OK);
	assert_int_equal(count, 2);
	count = 0;
	assert_int_equal(askue_invoice_each(L, "0000000000", count_one, NULL), ASKUE_OK);
	assert_int_equal(count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(written_and_read_back_whole, open_one, close_one),
		cmocka_unit_test_setup_teardown(a_document_that_does_not_add_up_is_refused, open_one,
		                                close_one),
		cmocka_unit_test_setup_teardown(the_account_since_the_last_invoice, open_one, close_one),
		cmocka_unit_test_setup_teardown(a_subscribers_invoices_listed, open_one, close_one),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
