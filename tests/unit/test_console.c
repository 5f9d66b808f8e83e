/* Unit tests: the console without a terminal (tui/table.c, tui/form.c,
 * tui/console.c, tui/views.c) against a real SQLite ledger in a temporary
 * directory — display widths of Cyrillic and wide text, the form's line
 * editing (a Cyrillic letter erased whole, a full field keeps its text),
 * the table's movement past headings, sign-in and the journal's actor,
 * the search and the card, the role checks inside the actions (not only in
 * the menus), every form field validated with the field named, the
 * suspense assignment after the account's check digit, and a busy ledger
 * said plainly. The tui sources are compiled into this test (the Makefile
 * links unit tests with lib/ only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tui/console.c"
#include "../../tui/form.c"
#include "../../tui/table.c"
#include "../../tui/views.c"

#include "alert.h"
#include "journal.h"
#include "payment.h"
#include "registry.h"

#include "tmpdir.h"

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static int64_t q(struct console *c, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(c->ledger), sql, -1, &st, NULL),
	                 SQLITE_OK);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

/* Between keys the console holds no transaction and no statement open
 * (an open read would pin the WAL: checkpoints starve while a person
 * reads a screen). */
static void idle(struct console *c)
{
	sqlite3 *db = askue_ledger_db(c->ledger);
	assert_true(sqlite3_get_autocommit(db));
	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
		if (sqlite3_stmt_busy(st))
			fail_msg("a statement left open: %s", sqlite3_sql(st));
}

/* ---- widths ---- */

static void test_text_width_and_fit(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(text_width("ёлка"), 4);         /* 8 bytes, 4 columns */
	assert_int_equal(text_width("漢字"), 4);         /* two wide characters */
	assert_int_equal(text_fit("Семёнов", 4, out, sizeof out), 4);
	assert_string_equal(out, "Сем…");
	assert_int_equal(text_fit("Семёнов", 7, out, sizeof out), 7);
	assert_string_equal(out, "Семёнов");
	assert_int_equal(text_fit("漢字漢", 4, out, sizeof out), 3); /* 漢 + … : 字 would not fit */
	assert_string_equal(out, "漢…");
	assert_int_equal(text_fit("abc", 0, out, sizeof out), 0);
	assert_string_equal(out, "");
	/* A small buffer never gets half a character. */
	assert_int_equal(text_fit("ёёёёё", 5, out, 6), 2);
	assert_string_equal(out, "ё…");
	char cut[] = "ёж";
	text_cut_bytes(cut, 3); /* the 'ж' would be split: cut before it */
	assert_string_equal(cut, "ё");
}

/* ---- forms ---- */

static void type(struct form *f, const wchar_t *s)
{
	for (; *s; s++)
		assert_int_equal(form_key(f, FK_CHAR, *s), FORM_EDITING);
}

static void test_form_editing(void **state)
{
	(void)state;
	struct form f;
	form_init(&f, "t");
	assert_int_equal(form_add(&f, "name", 0, 0, NULL), 0);
	assert_int_equal(form_add(&f, "code", 4, 0, "ab"), 1);
	type(&f, L"Пётр");
	assert_string_equal(form_text(&f, 0), "Пётр");
	assert_int_equal(form_key(&f, FK_BACKSPACE, 0), FORM_EDITING);
	assert_string_equal(form_text(&f, 0), "Пёт"); /* 'р' whole: two bytes */
	form_key(&f, FK_HOME, 0);
	form_key(&f, FK_RIGHT, 0);
	form_key(&f, FK_DELETE, 0); /* the 'ё' */
	assert_string_equal(form_text(&f, 0), "Пт");
	type(&f, L"е");
	assert_string_equal(form_text(&f, 0), "Пет");
	form_key(&f, FK_CHAR, L'\a'); /* a control character is refused, said */
	assert_non_null(strstr(f.note, "control"));
	assert_string_equal(form_text(&f, 0), "Пет");
	/* Enter goes to the next field, Enter in the last submits. */
	assert_int_equal(form_key(&f, FK_ENTER, 0), FORM_EDITING);
	assert_int_equal(f.focus, 1);
	type(&f, L"ё");                           /* "abё" = 4 bytes: full */
	assert_int_equal(form_key(&f, FK_CHAR, L'x'), FORM_EDITING);
	assert_non_null(strstr(f.note, "code: full (at most 4 bytes)"));
	assert_string_equal(form_text(&f, 1), "abё");
	assert_string_equal(form_text(&f, 0), "Пет"); /* the other field untouched */
	assert_int_equal(form_key(&f, FK_ENTER, 0), FORM_SUBMIT);
	form_key(&f, FK_KILL, 0);
	assert_string_equal(form_text(&f, 1), "");
	assert_int_equal(form_key(&f, FK_CANCEL, 0), FORM_CANCEL);
	form_focus(&f, 0);
	assert_int_equal(f.focus, 0);
	form_wipe(&f);
	assert_string_equal(form_text(&f, 0), "");
}

/* ---- tables ---- */

static void test_table_movement(void **state)
{
	(void)state;
	struct table *t;
	assert_int_equal(table_new(2, &t), ASKUE_OK);
	assert_int_equal(table_addf(t, ROW_HEADING, 0, NULL, "Section"), ASKUE_OK);
	for (int i = 0; i < 30; i++)
		assert_int_equal(table_addf(t, ROW_PLAIN, i + 1, NULL, "row\t%d", i), ASKUE_OK);
	assert_int_equal(table_addf(t, ROW_NOTE, 0, NULL, "\tthe end"), ASKUE_OK);
	table_home(t, 10);
	assert_int_equal(t->sel, 1); /* the heading is skipped */
	assert_int_equal(t->top, 0);
	table_move(t, 10, 10); /* a page down */
	assert_int_equal(t->sel, 11);
	assert_int_equal(t->top, 2);
	table_move(t, 1000, 10); /* the end: the note is not selected */
	assert_int_equal(t->sel, 30);
	assert_string_equal(table_selected(t)->cells[1], "29");
	table_move(t, -1000, 10);
	assert_int_equal(t->sel, 1);
	assert_int_equal(t->top, 0);
	assert_string_equal(t->rows[0].cells[0], "Section");
	table_free(t);
}

/* ---- the console over a ledger ---- */

static struct console con;
static char acc1[ASKUE_ACCOUNT_BUF], acc2[ASKUE_ACCOUNT_BUF];
static int64_t alert_id;

static void sign(const char *name)
{
	int field;
	assert_int_equal(console_signin(&con, name, "pass-word-1", &field), ASKUE_OK);
	assert_string_equal(askue_ledger_operator(con.ledger), name);
}

static int setup(void **state)
{
	if (tmpdir_setup(state))
		return -1;
	char conf[700];
	snprintf(conf, sizeof conf, "%s/askue.conf", dir);
	FILE *f = fopen(conf, "w");
	fprintf(f, "[askue]\nhome = %s\ntimezone = Europe/Moscow\n[console]\nbusy_ms = 1000\n", dir);
	fclose(f);
	if (console_open(&con, conf))
		return -1;
	struct askue_ledger *l = con.ledger;
	struct askue_subscriber s = {0};
	snprintf(s.name, sizeof s.name, "Семёнов Пётр Ильич");
	snprintf(s.address, sizeof s.address, "г. Тверь, ул. Ленина, 5-12");
	snprintf(s.substation, sizeof s.substation, "ТП-101");
	s.registered = D("2026-01-01");
	if (askue_subscriber_add(l, &s))
		return -1;
	snprintf(acc1, sizeof acc1, "%s", s.account);
	struct askue_subscriber s2 = {0};
	snprintf(s2.name, sizeof s2.name, "Иванова Анна");
	snprintf(s2.address, sizeof s2.address, "г. Тверь, ул. Советская, 1");
	s2.registered = D("2026-01-01");
	if (askue_subscriber_add(l, &s2))
		return -1;
	snprintf(acc2, sizeof acc2, "%s", s2.account);
	struct askue_meter m = {.service_life_years = 16};
	snprintf(m.serial, sizeof m.serial, "M1");
	snprintf(m.model, sizeof m.model, "Меркурий 201.8");
	m.commissioned = D("2025-06-01");
	if (askue_meter_add(l, &m) || askue_meter_install(l, "M1", acc1, D("2026-01-10"), NULL))
		return -1;
	const char *meters[] = {"M1"};
	if (askue_ledger_begin(l) ||
	    askue_alert_open_tx(l, "silent", "M1", "", 1795000000, NULL, meters, 1, &alert_id) ||
	    askue_alert_open_tx(l, "outage_substation", "ТП-101", "", 1795000000, NULL, meters, 1,
	                        NULL) ||
	    askue_ledger_commit(l))
		return -1;
	/* A bank row for an account whose check digit is wrong: suspense. */
	char csv[700];
	snprintf(csv, sizeof csv, "%s/reestr.csv", dir);
	f = fopen(csv, "w");
	fprintf(f, "account,amount,date,ref\n0000000012,1500.00,2026-11-05,SB-1\n"
	           "0000000020,50.00,2026-11-06,SB-2\n");
	fclose(f);
	struct askue_import_report rep = {0};
	if (askue_payments_import(l, csv, D("2026-11-28"), &rep) ||
	    rep.count[ASKUE_IMPORT_SUSPENDED] != 2)
		return -1;
	if (askue_user_add(l, "ops", ASKUE_USER_OPERATIONS, "pass-word-1") ||
	    askue_user_add(l, "acc", ASKUE_USER_ACCOUNTING, "pass-word-1") ||
	    askue_user_add(l, "tar", ASKUE_USER_TARIFF, "pass-word-1"))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	console_close(&con);
	return tmpdir_teardown(state);
}

static void test_signin(void **state)
{
	(void)state;
	int field;
	struct table *t;
	assert_int_equal(table_new(1, &t), ASKUE_OK);
	con.signed_in = 0;
	/* Nothing before a sign-in. */
	assert_int_equal(console_find(&con, "ленина", t), ASKUE_ERR_CONFLICT);
	assert_string_equal(askue_err_msg(), "sign in first");
	assert_int_equal(console_signin(&con, "", "x", &field), ASKUE_ERR_INVALID);
	assert_int_equal(field, 0);
	assert_int_equal(console_signin(&con, "ops", "", &field), ASKUE_ERR_INVALID);
	assert_int_equal(field, 1);
	assert_int_equal(console_signin(&con, "ops", "wrong-one", &field), ASKUE_ERR_INVALID);
	assert_int_equal(field, 1);
	assert_false(con.signed_in);
	sign("ops");
	assert_true(console_may(&con, ASKUE_ACT_ALERT_WORK));
	assert_false(console_may(&con, ASKUE_ACT_PAYMENT_WORK));
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'console_signin_failed'"
	                         " AND subject = 'ops'"),
	                 1);
	table_free(t);
}

static int row_with(const struct table *t, const char *text)
{
	for (int r = 0; r < t->n_rows; r++)
		for (int c = 0; c < t->n_cols; c++)
			if (t->rows[r].cells[c] && strstr(t->rows[r].cells[c], text))
				return r;
	return -1;
}

static void test_find_and_card(void **state)
{
	(void)state;
	struct table *t;
	assert_int_equal(table_new(1, &t), ASKUE_OK);
	sign("tar");
	/* A Cyrillic fragment in another case, ё typed as е. */
	assert_int_equal(console_find(&con, "СЕМЕН", t), ASKUE_OK);
	idle(&con);
	assert_int_equal(t->n_rows, 1);
	assert_string_equal(t->rows[0].key, acc1);
	assert_string_equal(t->rows[0].cells[1], "Семёнов Пётр Ильич");
	assert_int_equal(console_find(&con, "нет-такого", t), ASKUE_OK);
	assert_int_equal(t->rows[0].kind, ROW_NOTE);
	assert_int_equal(console_find(&con, "", t), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "search"));
	assert_int_equal(console_card(&con, acc1, D("2026-11-28"), t), ASKUE_OK);
	idle(&con);
	assert_true(row_with(t, "Семёнов Пётр Ильич") >= 0);
	assert_true(row_with(t, "Меркурий 201.8, 1 zone(s); installed 2026-01-10") >= 0);
	assert_true(row_with(t, "no tariff or no price in force today") >= 0);
	assert_true(row_with(t, "0.00 rub (settled)") >= 0);
	assert_true(row_with(t, "silent M1") >= 0);                /* its meter's alert */
	assert_true(row_with(t, "outage_substation ТП-101") >= 0); /* its substation's */
	/* A mistyped account (last digit changed) is refused by its check digit. */
	char bad[ASKUE_ACCOUNT_BUF];
	snprintf(bad, sizeof bad, "%s", acc1);
	bad[9] = bad[9] == '9' ? '0' : (char)(bad[9] + 1);
	assert_int_not_equal(console_card(&con, bad, D("2026-11-28"), t), ASKUE_OK);
	table_free(t);
}

static void test_alert_actions_and_roles(void **state)
{
	(void)state;
	struct table *t;
	int field;
	assert_int_equal(table_new(1, &t), ASKUE_OK);
	sign("acc");
	/* Accounting cannot see nor work alerts: the action refuses by itself. */
	assert_int_equal(console_alerts(&con, "", "active", t), ASKUE_ERR_CONFLICT);
	assert_int_equal(console_alert_resolve(&con, alert_id, "done", &field), ASKUE_ERR_CONFLICT);
	assert_string_equal(askue_err_msg(), "acc (role accounting) may not resolve alerts");
	sign("ops");
	assert_int_equal(console_alerts(&con, "", "bogus", t), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "state 'bogus'"));
	assert_int_equal(console_alerts(&con, "", "active", t), ASKUE_OK);
	idle(&con);
	assert_int_equal(t->n_rows, 2);
	assert_int_equal(console_alerts(&con, "silent", "open", t), ASKUE_OK);
	assert_int_equal(t->n_rows, 1);
	assert_int_equal(t->rows[0].id, alert_id);
	assert_int_equal(console_alert_detail(&con, alert_id, t), ASKUE_OK);
	idle(&con);
	assert_true(row_with(t, "silent") >= 0);
	assert_int_equal(console_alert_detail(&con, 999, t), ASKUE_ERR_NOT_FOUND);
	assert_int_equal(console_alert_assign(&con, alert_id, "", &field), ASKUE_ERR_INVALID);
	assert_int_equal(field, 0);
	assert_int_equal(console_alert_assign(&con, alert_id, "Кузнецов", &field), ASKUE_OK);
	assert_int_equal(console_alerts(&con, "", "open", t), ASKUE_OK);
	assert_int_equal(t->n_rows, 1); /* M1's is assigned now, not open */
	assert_string_equal(t->rows[0].cells[2], "ТП-101");
	assert_int_equal(console_alerts(&con, "", "assigned", t), ASKUE_OK);
	assert_int_equal(t->n_rows, 1);
	assert_string_equal(t->rows[0].cells[5], "Кузнецов");
	assert_int_equal(console_alert_resolve(&con, alert_id, "Модем заменён", &field), ASKUE_OK);
	idle(&con);
	assert_int_equal(console_alert_resolve(&con, alert_id, "again", &field), ASKUE_ERR_CONFLICT);
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type IN"
	                         " ('alert_assigned', 'alert_resolved') AND operator = 'ops'"),
	                 2);
	table_free(t);
}

/* The suspense form with the account only; who of 800 bytes. */
static enum askue_err check_acc(int64_t id, const char *account, char *who, int *field)
{
	return console_suspense_check(&con, id, account, "", "", D("2026-11-28"), who, 800, field);
}

static void test_suspense(void **state)
{
	(void)state;
	struct table *t;
	int field;
	char who[800];
	assert_int_equal(table_new(1, &t), ASKUE_OK);
	sign("ops");
	assert_int_equal(console_suspense(&con, t), ASKUE_ERR_CONFLICT);
	assert_int_equal(console_suspense_assign(&con, 1, acc1, "", "", D("2026-11-28"), &field),
	                 ASKUE_ERR_CONFLICT);
	assert_string_equal(askue_err_msg(), "ops (role operations) may not assign payments");
	sign("acc");
	assert_int_equal(console_suspense(&con, t), ASKUE_OK);
	idle(&con);
	assert_int_equal(t->n_rows, 2);
	assert_string_equal(t->rows[0].cells[3], "1500.00");
	int64_t id = t->rows[0].id;
	assert_int_equal(console_suspense_detail(&con, id, t), ASKUE_OK);
	idle(&con);
	assert_true(row_with(t, "0000000012,1500.00,2026-11-05,SB-1") >= 0);
	assert_true(row_with(t, "check digit") >= 0);
	assert_int_equal(check_acc(id, "12ab", who, &field),
	                 ASKUE_ERR_INVALID);
	assert_int_equal(field, 0);
	assert_int_equal(check_acc(id, "0000000012", who, &field),
	                 ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "check digit"));
	assert_int_equal(field, 0);
	assert_int_equal(check_acc(id, acc2, who, &field), ASKUE_OK);
	assert_non_null(strstr(who, "Иванова Анна"));
	assert_int_equal(console_suspense_assign(&con, id, acc2, "12,3,4", "", D("2026-11-28"), &field),
	                 ASKUE_ERR_INVALID);
	assert_int_equal(field, 1);
	assert_int_equal(console_suspense_assign(&con, id, acc2, "", "2026-13-01", D("2026-11-28"),
	                                         &field),
	                 ASKUE_ERR_INVALID);
	assert_int_equal(field, 2);
	assert_non_null(strstr(askue_err_msg(), "date"));
	assert_int_equal(q(&con, "SELECT count(*) FROM payment"), 0); /* nothing refused was posted */
	assert_int_equal(console_suspense_assign(&con, id, acc2, "", "", D("2026-11-28"), &field),
	                 ASKUE_OK);
	assert_int_equal(q(&con, "SELECT amount_kop FROM payment"), 150000);
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'payment_assigned'"
	                         " AND operator = 'acc'"),
	                 1);
	assert_int_equal(check_acc(id, acc2, who, &field),
	                 ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "assigned already"));
	/* The card shows the credit: 1500.00 paid, nothing charged. */
	assert_int_equal(console_card(&con, acc2, D("2026-11-28"), t), ASKUE_OK);
	idle(&con);
	assert_true(row_with(t, "1500.00 rub credit") >= 0);
	assert_true(row_with(t, "1500.00 rub not yet used") >= 0);
	assert_true(row_with(t, "1500.00 rub, ref SB-1") >= 0);
	table_free(t);
}

static void test_suspense_reject(void **state)
{
	(void)state;
	int field;
	sign("ops");
	int64_t id = q(&con, "SELECT id FROM payment_suspense WHERE ref = 'SB-2'");
	assert_int_equal(console_suspense_reject(&con, id, "returned", &field), ASKUE_ERR_CONFLICT);
	assert_string_equal(askue_err_msg(), "ops (role operations) may not reject payments");
	sign("acc");
	assert_int_equal(console_suspense_reject(&con, id, "", &field), ASKUE_ERR_INVALID);
	assert_int_equal(field, 0);
	assert_non_null(strstr(askue_err_msg(), "reason"));
	assert_int_equal(console_suspense_reject(&con, id, "возврат в банк: счёт закрыт", &field),
	                 ASKUE_OK);
	assert_int_equal(q(&con, "SELECT count(*) FROM payment_suspense WHERE ref = 'SB-2'"
	                         " AND status = 'rejected'"),
	                 1);
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'payment_rejected'"
	                         " AND operator = 'acc'"),
	                 1);
	assert_int_equal(console_suspense_reject(&con, id, "again", &field), ASKUE_ERR_CONFLICT);
	idle(&con);
}

static void test_busy_ledger(void **state)
{
	(void)state;
	int field;
	sign("ops");
	/* Another program holds the write lock (a job's transaction). */
	sqlite3 *other;
	assert_int_equal(sqlite3_open(con.cfg.ledger_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(console_alert_assign(&con, alert_id, "Петров", &field), ASKUE_ERR_BUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(askue_err_msg(), "the ledger is busy"));
	int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 900 && ms < 3000); /* [console] busy_ms = 1000 */
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	/* Reading goes on while a writer holds the lock (WAL); nothing half-done. */
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'alert_assigned'"
	                         " AND details ->> 'assignee' = 'Петров'"),
	                 0);
}

static void test_signout(void **state)
{
	(void)state;
	struct table *t;
	assert_int_equal(table_new(1, &t), ASKUE_OK);
	sign("tar");
	assert_int_equal(console_signout(&con, "idle"), ASKUE_OK);
	assert_false(con.signed_in);
	assert_string_equal(askue_ledger_operator(con.ledger), "console");
	assert_int_equal(console_find(&con, "ленина", t), ASKUE_ERR_CONFLICT);
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'console_signed_out'"
	                         " AND subject = 'tar' AND details ->> 'reason' = 'idle'"),
	                 1);
	assert_int_equal(console_signout(&con, "quit"), ASKUE_OK); /* nobody: nothing */
	assert_int_equal(q(&con, "SELECT count(*) FROM event WHERE type = 'console_signed_out'"), 1);
	table_free(t);
}

static void test_dates(void **state)
{
	(void)state;
	struct askue_date d;
	assert_int_equal(console_date("date", "", D("2026-11-28"), &d), ASKUE_OK);
	assert_int_equal(d.days, D("2026-11-28").days);
	assert_int_equal(console_date("date", "2026-02-30", D("2026-11-28"), &d), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "date '2026-02-30': no such day");
}

int main(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_width_and_fit),
		cmocka_unit_test(test_form_editing),
		cmocka_unit_test(test_table_movement),
		cmocka_unit_test(test_signin),
		cmocka_unit_test(test_find_and_card),
		cmocka_unit_test(test_alert_actions_and_roles),
		cmocka_unit_test(test_suspense),
		cmocka_unit_test(test_suspense_reject),
		cmocka_unit_test(test_busy_ledger),
		cmocka_unit_test(test_signout),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
