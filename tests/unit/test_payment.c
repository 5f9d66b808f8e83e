/* Unit tests: lib/payment.c against a real SQLite file — allocation of
 * payments to charges (oldest due first, partial payments, overpayment
 * carried as credit and applied when the next invoice is posted, credit
 * corrections to their own period, penalties last), invoices becoming
 * paid (journaled once; superseded stays superseded), duplicate refs,
 * refusals that write nothing, and the bank-registry import with its
 * suspense list. Invoices are inserted with SQL (invoice + posting rows),
 * as the billing job writes them. Expected figures are computed by hand in
 * the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "payment.h"
#include "registry.h"

#include "tmpdir.h"

static char path[600];

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static int64_t q(struct askue_ledger *l, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(l), sql, -1, &st, NULL), SQLITE_OK);
	int rc = sqlite3_step(st);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

static void exec(struct askue_ledger *l, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	char *msg = NULL;
	int rc = sqlite3_exec(askue_ledger_db(l), sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

struct fixture {
	struct askue_ledger *l;
	int64_t sid;
	char account[ASKUE_ACCOUNT_BUF];
};

static struct fixture open_fresh(void)
{
	static int n;
	struct fixture f = {0};
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, n++);
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &f.l), ASKUE_OK);
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	strcpy(s.name, "Иванов Пётр");
	strcpy(s.address, "ул. Садовая, 1");
	s.registered = D("2025-12-01");
	assert_int_equal(askue_subscriber_add(f.l, &s), ASKUE_OK);
	f.sid = s.id;
	strcpy(f.account, s.account);
	return f;
}

/* An issued invoice for period P ("2026-01") of kop, due DUE, posted on
 * POSTED, then settled as the billing job does. Returns the posting id. */
static int64_t invoice(struct fixture *f, const char *period, int64_t kop, const char *due,
                       const char *posted)
{
	exec(f->l,
	     "INSERT INTO invoice(number, subscriber_id, period, issued, due, previous_kop,"
	     " charges_kop, total_kop) VALUES ('%s-%lld', %lld, '%s', '%s', '%s', 0, %lld, %lld)",
	     period, (long long)f->sid, (long long)f->sid, period, posted, due, (long long)kop,
	     (long long)kop);
	int64_t inv = q(f->l, "SELECT last_insert_rowid()");
	exec(f->l,
	     "INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, invoice_id, created)"
	     " VALUES (%lld, 'invoice', '%s', '%s', %lld, %lld, 0)",
	     (long long)f->sid, posted, period, (long long)kop, (long long)inv);
	int64_t id = q(f->l, "SELECT last_insert_rowid()");
	assert_int_equal(askue_ledger_begin(f->l), ASKUE_OK);
	assert_int_equal(askue_account_settle_tx(f->l, f->sid), ASKUE_OK);
	assert_int_equal(askue_ledger_commit(f->l), ASKUE_OK);
	return id;
}

static int64_t posting(struct fixture *f, const char *kind, int64_t kop, const char *date,
                       const char *period)
{
	int64_t correction = 0;
	if (!strcmp(kind, "correction")) {
		exec(f->l,
		     "INSERT INTO correction(number, subscriber_id, invoice_id, period, date,"
		     " amount_kop, reason) SELECT 'K-' || id, subscriber_id, id, period, '%s', %lld,"
		     " 'meter misread' FROM invoice WHERE subscriber_id = %lld AND period = '%s'",
		     date, (long long)kop, (long long)f->sid, period);
		correction = q(f->l, "SELECT last_insert_rowid()");
	}
	exec(f->l,
	     "INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, correction_id,"
	     " created) VALUES (%lld, '%s', '%s', '%s', %lld, %s, 0)",
	     (long long)f->sid, kind, date, period, (long long)kop,
	     correction ? "last_insert_rowid()" : "NULL");
	int64_t id = q(f->l, "SELECT last_insert_rowid()");
	assert_int_equal(askue_ledger_begin(f->l), ASKUE_OK);
	assert_int_equal(askue_account_settle_tx(f->l, f->sid), ASKUE_OK);
	assert_int_equal(askue_ledger_commit(f->l), ASKUE_OK);
	return id;
}

static enum askue_err pay(struct fixture *f, int64_t kop, const char *date, const char *ref,
                          struct askue_payment *out)
{
	struct askue_payment_in in = {.account = f->account, .amount = {kop}, .date = D(date),
	                              .ref = ref, .source = "test", .today = D("2026-12-31")};
	return askue_payment_post(f->l, &in, out);
}

static int64_t allocated(struct fixture *f, int64_t charge, const char *date)
{
	return q(f->l,
	         "SELECT COALESCE(sum(amount_kop), 0) FROM allocation WHERE charge_posting_id = %lld"
	         " AND ('%s' = '' OR date = '%s')",
	         (long long)charge, date, date);
}

static int64_t balance(struct fixture *f)
{
	struct askue_money m;
	assert_int_equal(askue_account_balance(f->l, f->sid, &m), ASKUE_OK);
	return m.kop;
}

static int64_t paid_events(struct fixture *f)
{
	return q(f->l, "SELECT count(*) FROM event WHERE type = 'invoice_paid'");
}

static const char *status(struct fixture *f, const char *period)
{
	static char buf[32];
	sqlite3_stmt *st;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT status FROM invoice WHERE period = '%s'", period);
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(f->l), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* January 1000.00 due 15 Feb, February 800.00 due 15 Mar. 1200.00 paid on
 * 1 Mar: 1000.00 settle January (paid), 200.00 February; then 600.00 on
 * 20 Mar settle the rest of February (paid). Balance 1800 - 1200 - 600 = 0. */
static void oldest_first_and_partial(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	int64_t jan = invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	int64_t feb = invoice(&f, "2026-02", 80000, "2026-03-15", "2026-03-01");
	assert_int_equal(balance(&f), 180000);
	struct askue_payment p;
	assert_int_equal(pay(&f, 120000, "2026-03-01", "B-1", &p), ASKUE_OK);
	assert_int_equal(p.unallocated.kop, 0);
	assert_int_equal(allocated(&f, jan, "2026-03-01"), 100000);
	assert_int_equal(allocated(&f, feb, "2026-03-01"), 20000);
	assert_string_equal(status(&f, "2026-01"), "paid");
	assert_string_equal(status(&f, "2026-02"), "current");
	assert_int_equal(paid_events(&f), 1);
	assert_int_equal(balance(&f), 60000);
	assert_int_equal(pay(&f, 60000, "2026-03-20", "B-2", NULL), ASKUE_OK);
	assert_int_equal(allocated(&f, feb, "2026-03-20"), 60000);
	assert_string_equal(status(&f, "2026-02"), "paid");
	assert_int_equal(paid_events(&f), 2);
	assert_int_equal(balance(&f), 0);
	/* invoice_paid names the invoice and the day it was settled */
	assert_int_equal(q(f.l, "SELECT count(*) FROM event WHERE type = 'invoice_paid' AND subject"
	                        " = '%s' AND details ->> 'period' = '2026-02' AND details ->> 'paid'"
	                        " = '2026-03-20'", f.account), 1);
	askue_ledger_close(f.l);
}

static int count_fn(const struct askue_open_charge *c, void *arg)
{
	int *n = arg;
	assert_int_equal(c->open.kop, 30000);
	assert_string_equal(c->period, "2026-03");
	(*n)++;
	return 0;
}

/* 1500.00 on a 1000.00 invoice: 500.00 credit (balance -500.00). The March
 * invoice of 800.00 posted on 1 Apr takes the credit on 1 Apr (the day it
 * was posted, not the payment's day); 300.00 stay open. */
static void overpayment_is_credit_for_the_next_invoice(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	int64_t jan = invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	struct askue_payment p;
	assert_int_equal(pay(&f, 150000, "2026-02-10", "B-1", &p), ASKUE_OK);
	assert_int_equal(p.unallocated.kop, 50000);
	assert_int_equal(allocated(&f, jan, "2026-02-10"), 100000);
	assert_int_equal(balance(&f), -50000);
	int64_t mar = invoice(&f, "2026-03", 80000, "2026-04-15", "2026-04-01");
	assert_int_equal(allocated(&f, mar, "2026-04-01"), 50000);
	assert_int_equal(allocated(&f, mar, ""), 50000);
	assert_int_equal(askue_payment_get(f.l, p.id, &p), ASKUE_OK);
	assert_int_equal(p.unallocated.kop, 0);
	assert_int_equal(balance(&f), 30000);
	assert_string_equal(status(&f, "2026-03"), "current");
	struct askue_money credit = {-1};
	int n = 0;
	assert_int_equal(askue_account_open(f.l, f.sid, count_fn, &n, &credit), ASKUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(credit.kop, 0);
	askue_ledger_close(f.l);
}

/* Credit that covers the next invoice whole: paid at issue, journaled once,
 * and settling again changes nothing. */
static void paid_journaled_once(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	assert_int_equal(pay(&f, 100000, "2026-01-20", NULL, NULL), ASKUE_OK);
	invoice(&f, "2026-01", 70000, "2026-02-15", "2026-02-01");
	assert_string_equal(status(&f, "2026-01"), "paid");
	assert_int_equal(paid_events(&f), 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(askue_ledger_begin(f.l), ASKUE_OK);
		assert_int_equal(askue_account_settle_tx(f.l, f.sid), ASKUE_OK);
		assert_int_equal(askue_ledger_commit(f.l), ASKUE_OK);
	}
	assert_int_equal(paid_events(&f), 1);
	assert_int_equal(q(f.l, "SELECT count(*) FROM allocation"), 1);
	assert_int_equal(balance(&f), -30000);
	askue_ledger_close(f.l);
}

/* A superseded invoice stays superseded; the current one is paid only when
 * its own charge and the older one are both settled. */
static void superseded_stays(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	invoice(&f, "2026-02", 80000, "2026-03-15", "2026-03-01");
	exec(f.l, "UPDATE invoice SET status = 'superseded' WHERE period = '2026-01'");
	assert_int_equal(pay(&f, 80000, "2026-03-05", "B-1", NULL), ASKUE_OK);
	/* oldest first: the 800.00 go to January, February is untouched */
	assert_string_equal(status(&f, "2026-02"), "current");
	assert_int_equal(paid_events(&f), 0);
	assert_int_equal(pay(&f, 100000, "2026-03-06", "B-2", NULL), ASKUE_OK);
	assert_string_equal(status(&f, "2026-01"), "superseded");
	assert_string_equal(status(&f, "2026-02"), "paid");
	assert_int_equal(paid_events(&f), 1);
	askue_ledger_close(f.l);
}

/* A credit correction of February settles February first, though January
 * is older; a penalty is settled after every energy charge. */
static void correction_home_and_penalty_last(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	int64_t jan = invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	int64_t feb = invoice(&f, "2026-02", 80000, "2026-03-15", "2026-03-01");
	int64_t pen = posting(&f, "penalty", 5000, "2026-03-20", "2026-01");
	int64_t corr = posting(&f, "correction", -10000, "2026-03-10", "2026-02");
	assert_int_equal(allocated(&f, feb, "2026-03-10"), 10000);
	assert_int_equal(allocated(&f, jan, ""), 0);
	assert_int_equal(q(f.l, "SELECT count(*) FROM allocation WHERE credit_posting_id = %lld"
	                        " AND payment_id IS NULL", (long long)corr), 1);
	/* owed: 1000 + 800 + 50 - 100 = 1750.00; pay 1720.00: January 1000,
	 * February 700 (its rest), the penalty 20 */
	assert_int_equal(balance(&f), 175000);
	assert_int_equal(pay(&f, 172000, "2026-03-25", "B-1", NULL), ASKUE_OK);
	assert_int_equal(allocated(&f, jan, "2026-03-25"), 100000);
	assert_int_equal(allocated(&f, feb, "2026-03-25"), 70000);
	assert_int_equal(allocated(&f, pen, "2026-03-25"), 2000);
	assert_string_equal(status(&f, "2026-02"), "paid"); /* energy settled */
	assert_int_equal(balance(&f), 3000);
	askue_ledger_close(f.l);
}

/* A debit correction is an energy charge of its invoice's period, due on
 * that invoice's due date: before the later invoice. */
static void debit_correction_due_with_its_invoice(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	int64_t feb = invoice(&f, "2026-02", 80000, "2026-03-15", "2026-03-01");
	int64_t corr = posting(&f, "correction", 15000, "2026-03-10", "2026-01");
	assert_int_equal(pay(&f, 110000, "2026-03-12", "B-1", NULL), ASKUE_OK);
	assert_int_equal(allocated(&f, corr, "2026-03-12"), 10000); /* 1000 to Jan, 100 here */
	assert_int_equal(allocated(&f, feb, ""), 0);
	assert_string_equal(status(&f, "2026-01"), "current");
	askue_ledger_close(f.l);
}

/* A ref is posted once: the second time is ASKUE_ERR_EXISTS, nothing
 * posted; refusals write nothing. */
static void duplicates_and_refusals(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	assert_int_equal(pay(&f, 30000, "2026-02-03", "SB-77", NULL), ASKUE_OK);
	assert_int_equal(pay(&f, 30000, "2026-02-03", "SB-77", NULL), ASKUE_ERR_EXISTS);
	assert_non_null(strstr(askue_err_msg(), "SB-77"));
	assert_int_equal(pay(&f, 45000, "2026-02-04", "SB-77", NULL), ASKUE_ERR_EXISTS);
	assert_int_equal(pay(&f, 0, "2026-02-03", "X-1", NULL), ASKUE_ERR_INVALID);
	assert_int_equal(pay(&f, -100, "2026-02-03", "X-2", NULL), ASKUE_ERR_INVALID);
	struct askue_payment_in in = {.account = f.account, .amount = {100}, .date = D("2026-03-02"),
	                              .ref = "X-3", .today = D("2026-03-01")};
	assert_int_equal(askue_payment_post(f.l, &in, NULL), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "future"));
	char wrong[ASKUE_ACCOUNT_BUF];
	strcpy(wrong, f.account);
	wrong[9] = wrong[9] == '9' ? '0' : (char)(wrong[9] + 1); /* a mistyped check digit */
	in = (struct askue_payment_in){.account = wrong, .amount = {100}, .date = D("2026-02-03"),
	                               .today = D("2026-03-01")};
	assert_int_equal(askue_payment_post(f.l, &in, NULL), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "check digit"));
	in.account = "0000000019";
	assert_int_not_equal(askue_payment_post(f.l, &in, NULL), ASKUE_OK);
	assert_int_equal(q(f.l, "SELECT count(*) FROM payment"), 1);
	assert_int_equal(q(f.l, "SELECT count(*) FROM posting WHERE kind = 'payment'"), 1);
	assert_int_equal(q(f.l, "SELECT count(*) FROM event WHERE type = 'payment_taken'"), 1);
	assert_int_equal(balance(&f), 70000);
	askue_ledger_close(f.l);
}

/* A penalty's correcting entry (a reversal) settles penalties first; a
 * credit correction of a period already paid settles the oldest open debt. */
static void reversal_to_penalties_and_correction_of_a_paid_period(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	int64_t jan = invoice(&f, "2026-01", 100000, "2026-02-15", "2026-02-01");
	int64_t pen = posting(&f, "penalty", 5000, "2026-04-01", "2026-01");
	posting(&f, "penalty", -2000, "2026-04-05", "2026-01");
	assert_int_equal(allocated(&f, pen, "2026-04-05"), 2000);
	assert_int_equal(allocated(&f, jan, ""), 0);
	/* 1000 + 50 - 20 = 1030.00 owed; 1030.00 paid: January 1000, penalty 30 */
	assert_int_equal(balance(&f), 103000);
	assert_int_equal(pay(&f, 103000, "2026-04-10", "B-1", NULL), ASKUE_OK);
	assert_int_equal(allocated(&f, jan, "2026-04-10"), 100000);
	assert_int_equal(allocated(&f, pen, "2026-04-10"), 3000);
	assert_string_equal(status(&f, "2026-01"), "paid");
	int64_t feb = invoice(&f, "2026-02", 80000, "2026-03-15", "2026-04-12");
	/* January was paid in full: its credit correction of 100.00 settles
	 * February, the oldest open debt, on the correction's date */
	posting(&f, "correction", -10000, "2026-04-20", "2026-01");
	assert_int_equal(allocated(&f, feb, "2026-04-20"), 10000);
	assert_int_equal(balance(&f), 70000);
	assert_int_equal(paid_events(&f), 1);
	askue_ledger_close(f.l);
}

static void write_file(const char *name, const char *text, char *out)
{
	snprintf(out, 600, "%s/%s", dir, name);
	FILE *fp = fopen(out, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The import through the library: outcomes and totals; a suspended ref paid
 * at the cash desk later closes its suspense row, which can then be neither
 * assigned nor rejected. */
static void import_and_suspense(void **state)
{
	(void)state;
	struct fixture f = open_fresh();
	char text[512], file[600];
	snprintf(text, sizeof text,
	         "account,amount,date,ref\n"
	         "%s,10.00,2026-02-01,A-1\n"
	         "%s,ten,2026-02-01,A-2\n"
	         "%s,5.50,2026-02-01,A-1\n"
	         "%s,7.25,2026-02-01,A-3\n",
	         f.account, f.account, f.account, "99999999999");
	write_file("reg.csv", text, file);
	struct askue_import_report r = {0};
	assert_int_equal(askue_payments_import(f.l, file, D("2026-03-01"), &r), ASKUE_OK);
	assert_int_equal(r.rows, 4);
	assert_int_equal(r.count[ASKUE_IMPORT_POSTED], 1);
	assert_int_equal(r.count[ASKUE_IMPORT_DUPLICATE], 0);
	/* ten: unreadable; A-1 again with 5.50: a different payment under a
	 * used ref; 99999999999: no such subscriber */
	assert_int_equal(r.count[ASKUE_IMPORT_SUSPENDED], 3);
	assert_int_equal(r.total.kop, 1000 + 550 + 725);
	assert_int_equal(r.amount[ASKUE_IMPORT_SUSPENDED].kop, 550 + 725);
	struct askue_suspense s;
	assert_int_equal(askue_suspense_get(f.l, 1, &s), ASKUE_OK);
	assert_string_equal(s.ref, "A-2");
	assert_int_equal(s.has_amount, 0);
	assert_int_equal(pay(&f, 1000, "2026-02-01", "A-2", NULL), ASKUE_OK);
	assert_int_equal(askue_suspense_get(f.l, 1, &s), ASKUE_OK);
	assert_string_equal(s.status, "assigned");
	assert_int_equal(s.payment_id, 2);
	struct askue_suspense_assign a = {.id = 1, .account = f.account, .today = D("2026-03-01"),
	                                  .has_amount = 1, .amount = {1000}};
	assert_int_equal(askue_suspense_assign(f.l, &a, NULL), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_suspense_reject(f.l, 1, "x"), ASKUE_ERR_CONFLICT);
	/* the used-ref row cannot be assigned: its ref is posted */
	a.id = 2;
	assert_int_equal(askue_suspense_assign(f.l, &a, NULL), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "reject this row"));
	assert_int_equal(askue_suspense_reject(f.l, 2, ""), ASKUE_ERR_INVALID);
	assert_int_equal(askue_suspense_reject(f.l, 2, "the bank's error"), ASKUE_OK);
	assert_int_equal(q(f.l, "SELECT count(*) FROM event WHERE type = 'payment_rejected'"), 1);
	/* the same file again: nothing new */
	memset(&r, 0, sizeof r);
	assert_int_equal(askue_payments_import(f.l, file, D("2026-03-01"), &r), ASKUE_OK);
	assert_int_equal(r.count[ASKUE_IMPORT_POSTED], 0);
	assert_int_equal(r.count[ASKUE_IMPORT_SUSPENDED], 0);
	assert_int_equal(r.count[ASKUE_IMPORT_DUPLICATE], 1);
	assert_int_equal(r.count[ASKUE_IMPORT_ALREADY_SUSPENDED], 3);
	assert_int_equal(q(f.l, "SELECT count(*) FROM payment_suspense"), 3);
	assert_int_equal(balance(&f), -2000);
	askue_ledger_close(f.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oldest_first_and_partial),
		cmocka_unit_test(overpayment_is_credit_for_the_next_invoice),
		cmocka_unit_test(paid_journaled_once),
		cmocka_unit_test(superseded_stays),
		cmocka_unit_test(correction_home_and_penalty_last),
		cmocka_unit_test(debit_correction_due_with_its_invoice),
		cmocka_unit_test(duplicates_and_refusals),
		cmocka_unit_test(reversal_to_penalties_and_correction_of_a_paid_period),
		cmocka_unit_test(import_and_suspense),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
