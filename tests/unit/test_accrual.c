/* Unit tests: lib/accrual.c — the penalties job's ledger side over a real
 * SQLite ledger with the shipped rules (deploy/rules), charges, payments and
 * allocations written with SQL as billing and payments write them. Every
 * expected amount is computed by hand from the statute (ЖК РФ ст. 155
 * ч. 14; ФЗ-35 ст. 37 п. 2; 9.5 % under ПП 474 / ПП 329). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "accrual.h"
#include "ledger.h"
#include "rules.h"
#include "tmpdir.h"

static struct askue_rules *rules;
static struct askue_ledger *L;
static int ledger_no;

static int setup(void **state)
{
	(void)state;
	return askue_rules_load("deploy/rules", &rules) == ASKUE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	askue_rules_free(rules);
	return tmpdir_teardown(state);
}

static struct askue_ledger *new_ledger(void)
{
	char path[256];
	struct askue_ledger *l;
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, ++ledger_no);
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	return l;
}

static int open_one(void **state)
{
	(void)state;
	L = new_ledger();
	return 0;
}

static int close_one(void **state)
{
	(void)state;
	askue_ledger_close(L);
	L = NULL;
	return 0;
}

static void sql(struct askue_ledger *l, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *msg = NULL;
	int rc = sqlite3_exec(askue_ledger_db(l), buf, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", buf, msg ? msg : "?");
}

static int64_t one_int(struct askue_ledger *l, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(l), buf, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A subscriber; returns its id. */
static int64_t subscriber(struct askue_ledger *l, const char *account, const char *category)
{
	sql(l,
	    "INSERT INTO subscriber(account, name, address, category, registered)"
	    " VALUES ('%s', 'Sub %s', 'Street %s', '%s', '2025-01-01')",
	    account, account, account, category);
	return sqlite3_last_insert_rowid(askue_ledger_db(l));
}

/* An invoice of `period` due `due` for charge_kop, and its posting
 * (issued on the 1st of the month after the period); returns the posting. */
static int64_t invoice(struct askue_ledger *l, int64_t sub, const char *period, const char *due,
                       int64_t charge_kop)
{
	sql(l,
	    "INSERT INTO invoice(number, subscriber_id, period, issued, due, previous_kop,"
	    " charges_kop, total_kop) VALUES ('%s-%lld', %lld, '%s',"
	    " date('%s-01', '+1 month'), '%s', 0, %lld, %lld)",
	    period, (long long)sub, (long long)sub, period, period, due, (long long)charge_kop,
	    (long long)charge_kop);
	int64_t inv = sqlite3_last_insert_rowid(askue_ledger_db(l));
	sql(l,
	    "INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, invoice_id, created)"
	    " VALUES (%lld, 'invoice', date('%s-01', '+1 month'), '%s', %lld, %lld, 0)",
	    (long long)sub, period, period, (long long)charge_kop, (long long)inv);
	return sqlite3_last_insert_rowid(askue_ledger_db(l));
}

/* A payment on `date` settling amount_kop of the charge posting. */
static void pay(struct askue_ledger *l, int64_t sub, int64_t charge, int64_t amount_kop,
                const char *date)
{
	sql(l,
	    "INSERT INTO payment(subscriber_id, amount_kop, date, source, created)"
	    " VALUES (%lld, %lld, '%s', 'test', 0)",
	    (long long)sub, (long long)amount_kop, date);
	int64_t pid = sqlite3_last_insert_rowid(askue_ledger_db(l));
	sql(l,
	    "INSERT INTO posting(subscriber_id, kind, date, amount_kop, payment_id, created)"
	    " VALUES (%lld, 'payment', '%s', %lld, %lld, 0)",
	    (long long)sub, date, (long long)-amount_kop, (long long)pid);
	int64_t credit = sqlite3_last_insert_rowid(askue_ledger_db(l));
	sql(l,
	    "INSERT INTO allocation(payment_id, credit_posting_id, charge_posting_id, amount_kop,"
	    " date) VALUES (%lld, %lld, %lld, %lld, '%s')",
	    (long long)pid, (long long)credit, (long long)charge, (long long)amount_kop, date);
}

static struct askue_accrual_run run_on(struct askue_ledger *l, const char *day)
{
	struct askue_accrual_run run = {.created = 1};
	assert_int_equal(askue_date_parse(day, &run.today), ASKUE_OK);
	assert_int_equal(askue_ledger_begin(l), ASKUE_OK);
	assert_int_equal(askue_accrual_run_tx(l, rules, &run), ASKUE_OK);
	assert_int_equal(askue_ledger_commit(l), ASKUE_OK);
	return run;
}

static int64_t penalties_posted(struct askue_ledger *l, int64_t sub)
{
	return one_int(l,
	               "SELECT coalesce(sum(amount_kop), 0) FROM posting"
	               " WHERE kind = 'penalty' AND subscriber_id = %lld",
	               (long long)sub);
}

static int64_t events(struct askue_ledger *l, const char *type)
{
	return one_int(l, "SELECT count(*) FROM event WHERE type = '%s'", type);
}

/* 1,000.00 due 10.02.2026, paid 30.06.2026: 60 days at 1/300 + 50 days at
 * 1/130 of 9.5 % = 19.00 + 36.54 = 55.54; a second run of the same day
 * posts nothing. */
static void statute_example_and_rerun(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000001", "household");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	pay(L, sub, ch, 100000, "2026-06-30");
	struct askue_accrual_run r = run_on(L, "2026-06-30");
	assert_int_equal(r.added, 1);
	assert_int_equal(r.visited, 1);
	assert_int_equal(r.accrued.kop, 5554);
	assert_int_equal(r.accounts, 1);
	assert_int_equal(r.closed, 1);
	assert_int_equal(penalties_posted(L, sub), 5554);
	assert_int_equal(one_int(L, "SELECT cumulative_kop FROM penalty_accrual"), 5554);
	assert_int_equal(one_int(L, "SELECT count(*) FROM posting WHERE kind = 'penalty'"
	                            " AND period = '2026-01' AND date = '2026-06-30'"
	                            " AND accrual_id IS NOT NULL"),
	                 1);
	assert_int_equal(events(L, "penalty_accrued"), 1);

	r = run_on(L, "2026-06-30");
	assert_int_equal(r.added, 0);
	assert_int_equal(r.visited, 0); /* closed: settled in full, penalty final */
	assert_int_equal(r.accounts, 0);
	assert_int_equal(penalties_posted(L, sub), 5554);
	assert_int_equal(one_int(L, "SELECT count(*) FROM posting WHERE kind = 'penalty'"), 1);
	assert_int_equal(events(L, "penalty_accrued"), 1);
}

/* Unpaid debt: the same date twice posts nothing even while it is open. */
static void idempotent_open_debt(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000002", "household");
	invoice(L, sub, "2026-01", "2026-02-10", 100000);
	run_on(L, "2026-06-30");
	assert_int_equal(penalties_posted(L, sub), 5554);
	struct askue_accrual_run r = run_on(L, "2026-06-30");
	assert_int_equal(r.visited, 1);
	assert_int_equal(r.accrued.kop, 0);
	assert_int_equal(r.accounts, 0);
	assert_int_equal(one_int(L, "SELECT count(*) FROM posting WHERE kind = 'penalty'"), 1);
	/* an earlier date is behind: accruals never go back in time */
	r = run_on(L, "2026-06-01");
	assert_int_equal(r.behind, 1);
	assert_int_equal(penalties_posted(L, sub), 5554);
}

/* Unpaid 1,000.00 due 10.02.2026 through 15.07.2026: 60 days at 1/300
 * (19.00) + 65 days at 1/130 (12.05..15.07: 47.50) = 66.50, whether the
 * job ran every day or twice with a gap. */
static void catch_up_equals_daily(void **state)
{
	(void)state;
	struct askue_ledger *daily = new_ledger(), *gap = new_ledger();
	int64_t s1 = subscriber(daily, "0000000003", "household");
	int64_t s2 = subscriber(gap, "0000000003", "household");
	invoice(daily, s1, "2026-01", "2026-02-10", 100000);
	invoice(gap, s2, "2026-01", "2026-02-10", 100000);
	struct askue_date d, end;
	assert_int_equal(askue_date_parse("2026-02-01", &d), ASKUE_OK);
	assert_int_equal(askue_date_parse("2026-07-15", &end), ASKUE_OK);
	for (; d.days <= end.days; d = askue_date_add_days(d, 1)) {
		char buf[ASKUE_DATE_BUF];
		run_on(daily, askue_date_format(d, buf));
	}
	run_on(gap, "2026-03-01");
	run_on(gap, "2026-07-15");
	assert_int_equal(penalties_posted(daily, s1), 6650);
	assert_int_equal(penalties_posted(gap, s2), 6650);
	/* one posting per day with a change: days 31..156 after the due date */
	assert_int_equal(one_int(daily, "SELECT count(*) FROM posting WHERE kind = 'penalty'"),
	                 one_int(daily, "SELECT count(*) FROM penalty_accrual"));
	assert_int_equal(one_int(gap, "SELECT count(*) FROM posting WHERE kind = 'penalty'"), 1);
	/* day 30 (12.03) posts nothing yet: the grace */
	assert_int_equal(one_int(daily, "SELECT min(through) = '2026-03-13' FROM penalty_accrual"),
	                 1);
	askue_ledger_close(daily);
	askue_ledger_close(gap);
}

/* Accrued through 30.06 on an unpaid debt (55.54); then a bank file brings a
 * payment dated 11.05 (day 90): the penalty is 60 days at 1/300 = 19.00,
 * and the next run posts -36.54. */
static void late_payment_corrects(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000004", "household");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	run_on(L, "2026-06-30");
	assert_int_equal(penalties_posted(L, sub), 5554);
	pay(L, sub, ch, 100000, "2026-05-11");
	struct askue_accrual_run r = run_on(L, "2026-07-01");
	assert_int_equal(r.corrected.kop, -3654);
	assert_int_equal(r.accrued.kop, 0);
	assert_int_equal(r.closed, 1);
	assert_int_equal(penalties_posted(L, sub), 1900);
	assert_int_equal(one_int(L, "SELECT amount_kop FROM posting WHERE kind = 'penalty'"
	                            " ORDER BY id DESC LIMIT 1"),
	                 -3654);
	assert_int_equal(one_int(L, "SELECT posted_kop FROM penalty_accrual ORDER BY id DESC"),
	                 -3654);
	/* the correcting entry is a credit: settled against the penalty */
	assert_int_equal(one_int(L, "SELECT a.amount_kop FROM allocation a"
	                            " JOIN posting c ON c.id = a.credit_posting_id"
	                            " JOIN posting p ON p.id = a.charge_posting_id"
	                            " WHERE c.kind = 'penalty' AND p.kind = 'penalty'"),
	                 3654);
}

/* Two periods unpaid through 30.06.2026: January's 1,000.00 (55.54) and
 * February's 500.00 due 10.03 (day 91 = 09.06): 60 days at 1/300 (9.50)
 * + 22 days at 1/130 (8.0385) = 17.54. Each has its own posting with its
 * period; one event for the account. */
static void two_periods(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000005", "household");
	invoice(L, sub, "2026-01", "2026-02-10", 100000);
	invoice(L, sub, "2026-02", "2026-03-10", 50000);
	struct askue_accrual_run r = run_on(L, "2026-06-30");
	assert_int_equal(r.visited, 2);
	assert_int_equal(r.accounts, 1);
	assert_int_equal(r.overdue, 2);
	assert_int_equal(one_int(L, "SELECT amount_kop FROM posting WHERE kind = 'penalty'"
	                            " AND period = '2026-01'"),
	                 5554);
	assert_int_equal(one_int(L, "SELECT amount_kop FROM posting WHERE kind = 'penalty'"
	                            " AND period = '2026-02'"),
	                 1754);
	assert_int_equal(events(L, "penalty_accrued"), 1);
	assert_int_equal(events(L, "invoice_overdue"), 2);
}

/* A legal entity (ФЗ-35): 100,000.00 due 18.03.2026, paid 17.04.2026: 30
 * days at 1/130 of 9.5 % from the first day = 2,192.31. */
static void legal_entity(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000006", "other");
	int64_t ch = invoice(L, sub, "2026-02", "2026-03-18", 10000000);
	pay(L, sub, ch, 10000000, "2026-04-17");
	run_on(L, "2026-04-20");
	assert_int_equal(penalties_posted(L, sub), 219231);
}

/* 1,000.00 due 10.02.2026: 400.00 paid on day 45 (27.03) counts on its own
 * day: 15 days at 1/300 on 400 = 1.90; the other 600.00 paid 30.06: 60 days
 * at 1/300 (11.40) + 50 at 1/130 (21.923) = 35.22 in all. */
static void partial_payment_day_45(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000007", "household");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	pay(L, sub, ch, 40000, "2026-03-27");
	pay(L, sub, ch, 60000, "2026-06-30");
	run_on(L, "2026-07-05");
	assert_int_equal(penalties_posted(L, sub), 3522);
}

/* Overdue is journaled once, with the amount unpaid at the due date; an
 * invoice paid in time is neither overdue nor penalised, and leaves the
 * working set on the first run past its due date. */
static void overdue_once(void **state)
{
	(void)state;
	int64_t late = subscriber(L, "0000000008", "household");
	int64_t ontime = subscriber(L, "0000000009", "household");
	int64_t ch = invoice(L, late, "2026-03", "2026-04-15", 80000);
	pay(L, late, ch, 30000, "2026-04-15"); /* on the due date: on time for its part */
	int64_t ch2 = invoice(L, ontime, "2026-03", "2026-04-15", 80000);
	pay(L, ontime, ch2, 80000, "2026-04-14");
	struct askue_accrual_run r = run_on(L, "2026-04-15");
	assert_int_equal(r.overdue, 0); /* not past the due date yet */
	r = run_on(L, "2026-04-16");
	assert_int_equal(r.overdue, 1);
	assert_int_equal(r.closed, 1);
	run_on(L, "2026-04-17");
	run_on(L, "2026-06-01");
	assert_int_equal(events(L, "invoice_overdue"), 1);
	assert_int_equal(one_int(L, "SELECT unpaid_kop FROM invoice_overdue"), 50000);
	assert_int_equal(one_int(L, "SELECT count(*) FROM event WHERE type = 'invoice_overdue'"
	                            " AND subject = '0000000008'"),
	                 1);
	assert_int_equal(penalties_posted(L, ontime), 0);
	assert_int_equal(one_int(L, "SELECT count(*) FROM penalty_charge WHERE closed IS NULL"), 1);
}

/* A late bank file: a legal entity's 1,000.00 due 10.02.2026 (a Tuesday)
 * is journaled overdue on 20.02 with 1,000 x 9.5 % x 10 / 130 = 7.3077 ->
 * 7.31 of penalty (days 11.02-20.02 at 1/130); then the bank's payment
 * dated 10.02 arrives. The next run corrects the penalty to 0 (-7.31) and
 * withdraws the overdue, once, journaled with what was journaled. A
 * household's 400.00 of 1,000.00 paid on time the same way leaves it
 * overdue (600.00 still unpaid at the due date). Taken back (its
 * allocation gone), the first invoice is overdue again: journaled afresh,
 * 13 days at 1/130 = 9.50. */
static void overdue_withdrawn_by_a_late_file(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000010", "other");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	int64_t part = subscriber(L, "0000000011", "household");
	int64_t ch2 = invoice(L, part, "2026-01", "2026-02-10", 100000);
	struct askue_accrual_run r = run_on(L, "2026-02-20");
	assert_int_equal(r.overdue, 2);
	assert_int_equal(penalties_posted(L, sub), 731);
	pay(L, sub, ch, 100000, "2026-02-10");
	pay(L, part, ch2, 40000, "2026-02-09");
	struct askue_accrual_charge *c = test_malloc(sizeof *c);
	struct askue_date day;
	assert_int_equal(askue_date_parse("2026-02-20", &day), ASKUE_OK);
	assert_int_equal(askue_accrual_load(L, rules, ch, day, c), ASKUE_OK);
	assert_int_equal(c->overdue, ASKUE_OVERDUE_JOURNALED);
	assert_int_equal(c->overdue_unpaid.kop, 100000);
	assert_int_equal(askue_accrual_unpaid_at_due(rules, c), 0);
	r = run_on(L, "2026-02-21");
	assert_int_equal(r.withdrawn, 1);
	assert_int_equal(r.overdue, 0);
	assert_int_equal(r.corrected.kop, -731);
	assert_int_equal(penalties_posted(L, sub), 0);
	assert_int_equal(events(L, "invoice_overdue_withdrawn"), 1);
	assert_int_equal(one_int(L, "SELECT count(*) FROM event WHERE type = "
	                            "'invoice_overdue_withdrawn' AND subject = '0000000010'"
	                            " AND json_extract(details, '$.unpaid') = '1000.00'"
	                            " AND json_extract(details, '$.overdue') = '2026-02-20'"
	                            " AND json_extract(details, '$.date') = '2026-02-21'"
	                            " AND json_extract(details, '$.invoice') = '2026-01-%lld'",
	                            (long long)sub),
	                 1);
	assert_int_equal(one_int(L, "SELECT count(*) FROM invoice_overdue WHERE withdrawn ="
	                            " '2026-02-21'"),
	                 1);
	assert_int_equal(askue_accrual_load(L, rules, ch, day, c), ASKUE_OK);
	assert_int_equal(c->overdue, ASKUE_OVERDUE_WITHDRAWN);
	assert_int_equal(c->overdue_withdrawn.days, askue_date_from_ymd(2026, 2, 21).days);
	r = run_on(L, "2026-02-22");
	assert_int_equal(r.withdrawn + r.overdue, 0);
	assert_int_equal(events(L, "invoice_overdue_withdrawn"), 1);
	/* the payment taken back */
	sql(L, "DELETE FROM allocation WHERE charge_posting_id = %lld", (long long)ch);
	sql(L, "UPDATE penalty_charge SET closed = NULL WHERE charge_posting_id = %lld",
	    (long long)ch);
	r = run_on(L, "2026-02-23");
	assert_int_equal(r.overdue, 1);
	assert_int_equal(events(L, "invoice_overdue"), 3);
	assert_int_equal(one_int(L, "SELECT count(*) FROM invoice_overdue WHERE withdrawn IS NULL"
	                            " AND date = '2026-02-23' AND unpaid_kop = 100000"),
	                 1);
	assert_int_equal(penalties_posted(L, sub), 950);
	test_free(c);
}

/* A due date on a non-working day: 10.05.2026 is a Sunday and 11.05 a
 * holiday, so day 1 is 13.05 and paying on 12.05 is on time. */
static void due_on_holiday(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000010", "other");
	int64_t ch = invoice(L, sub, "2026-02", "2026-05-10", 100000);
	pay(L, sub, ch, 100000, "2026-05-12");
	struct askue_accrual_run r = run_on(L, "2026-05-20");
	assert_int_equal(r.overdue, 0);
	assert_int_equal(penalties_posted(L, sub), 0);
}

/* Paid late with 1,100.00 (100.00 over): the penalty of 55.54 posted on the
 * settled charge is paid from the open credit at once (lib/payment.c). */
static void overpayment_pays_the_penalty(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000011", "household");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	pay(L, sub, ch, 100000, "2026-06-30");
	sql(L, "INSERT INTO payment(subscriber_id, amount_kop, date, source, created)"
	       " VALUES (%lld, 10000, '2026-06-30', 'test', 0)", (long long)sub);
	sql(L, "INSERT INTO posting(subscriber_id, kind, date, amount_kop, payment_id, created)"
	       " VALUES (%lld, 'payment', '2026-06-30', -10000, last_insert_rowid(), 0)",
	    (long long)sub);
	run_on(L, "2026-07-01");
	assert_int_equal(penalties_posted(L, sub), 5554);
	assert_int_equal(one_int(L, "SELECT a.amount_kop FROM allocation a"
	                            " JOIN posting p ON p.id = a.charge_posting_id"
	                            " WHERE p.kind = 'penalty'"),
	                 5554);
	assert_int_equal(one_int(L, "SELECT sum(amount_kop) FROM posting WHERE subscriber_id = %lld",
	                         (long long)sub),
	                 100000 + 5554 - 110000);
}

/* A correction posting of `period` made on `date`; returns the posting. */
static int64_t correction(struct askue_ledger *l, int64_t sub, const char *period,
                          int64_t amount_kop, const char *date)
{
	sql(l,
	    "INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, created)"
	    " VALUES (%lld, 'correction', '%s', '%s', %lld, 0)",
	    (long long)sub, date, period, (long long)amount_kop);
	return sqlite3_last_insert_rowid(askue_ledger_db(l));
}

/* A debit correction of January (200.00) made on 20.03.2026 is due as
 * March's invoice: 15.04 (day 1 = 16.04). Unpaid on 30.06 (day 76): 46 days
 * at 1/300 = 2.91, posted with period 2026-01 beside January's 55.54. */
static void debit_correction_due_as_its_month(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000015", "household");
	invoice(L, sub, "2026-01", "2026-02-10", 100000);
	correction(L, sub, "2026-01", 20000, "2026-03-20");
	struct askue_accrual_run r = run_on(L, "2026-06-30");
	assert_int_equal(r.visited, 2);
	assert_int_equal(r.overdue, 1); /* the invoice; a correction is no invoice */
	assert_int_equal(penalties_posted(L, sub), 5554 + 291);
	assert_int_equal(one_int(L, "SELECT count(*) FROM posting WHERE kind = 'penalty'"
	                            " AND period = '2026-01'"),
	                 2);
	assert_int_equal(one_int(L, "SELECT due = '2026-04-15' FROM penalty_charge"
	                            " WHERE invoice_id IS NULL"),
	                 1);
}

/* A credit correction of 200.00 allocated to January's 1,000.00 on 01.05:
 * that part was never owed, so no day of penalty on it; 800.00 through
 * 30.06: 800 x 9.5 % x (60/300 + 50/130) = 44.43. */
static void credit_correction_from_the_start(void **state)
{
	(void)state;
	int64_t sub = subscriber(L, "0000000016", "household");
	int64_t ch = invoice(L, sub, "2026-01", "2026-02-10", 100000);
	int64_t credit = correction(L, sub, "2026-01", -20000, "2026-05-01");
	sql(L,
	    "INSERT INTO allocation(credit_posting_id, charge_posting_id, amount_kop, date)"
	    " VALUES (%lld, %lld, 20000, '2026-05-01')",
	    (long long)credit, (long long)ch);
	run_on(L, "2026-06-30");
	assert_int_equal(penalties_posted(L, sub), 4443);
}

/* A broken row (allocations over the charge) is an exception of that charge;
 * the other accounts are accrued. */
static void broken_charge_is_an_exception(void **state)
{
	(void)state;
	int64_t bad = subscriber(L, "0000000012", "household");
	int64_t good = subscriber(L, "0000000014", "household");
	int64_t ch = invoice(L, bad, "2026-01", "2026-02-10", 100000);
	pay(L, bad, ch, 60000, "2026-03-01");
	pay(L, bad, ch, 60000, "2026-03-02");
	invoice(L, good, "2026-01", "2026-02-10", 100000);
	struct askue_accrual_run r = run_on(L, "2026-06-30");
	assert_int_equal(r.exceptions, 1);
	assert_int_equal(r.accounts, 1);
	assert_int_equal(penalties_posted(L, good), 5554);
	assert_int_equal(penalties_posted(L, bad), 0);
	assert_int_equal(one_int(L, "SELECT closed IS NULL FROM penalty_charge"
	                            " WHERE charge_posting_id = %lld", (long long)ch),
	                 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(statute_example_and_rerun, open_one, close_one),
		cmocka_unit_test_setup_teardown(idempotent_open_debt, open_one, close_one),
		cmocka_unit_test(catch_up_equals_daily),
		cmocka_unit_test_setup_teardown(late_payment_corrects, open_one, close_one),
		cmocka_unit_test_setup_teardown(two_periods, open_one, close_one),
		cmocka_unit_test_setup_teardown(legal_entity, open_one, close_one),
		cmocka_unit_test_setup_teardown(partial_payment_day_45, open_one, close_one),
		cmocka_unit_test_setup_teardown(overdue_once, open_one, close_one),
		cmocka_unit_test_setup_teardown(overdue_withdrawn_by_a_late_file, open_one, close_one),
		cmocka_unit_test_setup_teardown(due_on_holiday, open_one, close_one),
		cmocka_unit_test_setup_teardown(overpayment_pays_the_penalty, open_one, close_one),
		cmocka_unit_test_setup_teardown(broken_charge_is_an_exception, open_one, close_one),
		cmocka_unit_test_setup_teardown(debit_correction_due_as_its_month, open_one, close_one),
		cmocka_unit_test_setup_teardown(credit_correction_from_the_start, open_one, close_one),
	};
	int rc = tmpdir_setup(NULL);
	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, setup, teardown);
}
