/* Unit tests: lib/user.c (console users) against a real SQLite ledger —
 * adding users (names and passwords checked, a name taken twice), the
 * password kept only as an Argon2id string, sign-in (right, wrong, unknown
 * name, disabled, locked after ASKUE_USER_FAILED_MAX failures in a row,
 * unlocked by a new password), every failure counted and journaled, and
 * the table of what each role may do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "user.h"

#include "tmpdir.h"

static char path[600];
static int n_db;

static struct askue_ledger *open_ledger(void)
{
	struct askue_ledger *l;
	snprintf(path, sizeof path, "%s/user%d.db", dir, ++n_db);
	assert_int_equal(askue_ledger_open(path, 1000, "admin-cli", &l), ASKUE_OK);
	return l;
}

static int64_t q(struct askue_ledger *l, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(l), sql, -1, &st, NULL), SQLITE_OK);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

static void test_add_and_get(void **state)
{
	(void)state;
	struct askue_ledger *l = open_ledger();
	struct askue_user u;
	assert_int_equal(askue_user_add(l, "ivanova", ASKUE_USER_ACCOUNTING, "secret-123"), ASKUE_OK);
	assert_int_equal(askue_user_get(l, "ivanova", &u), ASKUE_OK);
	assert_string_equal(u.name, "ivanova");
	assert_int_equal(u.role, ASKUE_USER_ACCOUNTING);
	assert_int_equal(u.disabled, 0);
	assert_int_equal(u.last_signin, 0);
	/* Only the Argon2id string is stored, never the password. */
	assert_int_equal(q(l, "SELECT count(*) FROM console_user WHERE pwhash LIKE '$argon2id$%'"), 1);
	assert_int_equal(q(l, "SELECT count(*) FROM console_user WHERE pwhash LIKE '%secret-123%'"),
	                 0);
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_user_added'"
	                      " AND subject = 'ivanova' AND operator = 'admin-cli'"),
	                 1);
	assert_int_equal(askue_user_add(l, "ivanova", ASKUE_USER_ADMIN, "another-1"),
	                 ASKUE_ERR_EXISTS);
	assert_int_equal(askue_user_get(l, "petrov", &u), ASKUE_ERR_NOT_FOUND);
	assert_non_null(strstr(askue_err_msg(), "petrov"));
	askue_ledger_close(l);
}

static void test_refused_input(void **state)
{
	(void)state;
	struct askue_ledger *l = open_ledger();
	assert_int_equal(askue_user_add(l, "", ASKUE_USER_ADMIN, "secret-123"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_user_add(l, "иванова", ASKUE_USER_ADMIN, "secret-123"),
	                 ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "character 1"));
	assert_int_equal(askue_user_add(l, "a b", ASKUE_USER_ADMIN, "secret-123"), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "character 2"));
	assert_int_equal(askue_user_add(l, "ok", ASKUE_USER_ADMIN, "short"), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "shorter than 8"));
	char longpw[ASKUE_USER_PASSWORD_BYTES_MAX + 2];
	memset(longpw, 'x', sizeof longpw - 1);
	longpw[sizeof longpw - 1] = 0;
	assert_int_equal(askue_user_add(l, "ok", ASKUE_USER_ADMIN, longpw), ASKUE_ERR_INVALID);
	assert_int_equal(askue_user_add(l, "ok", ASKUE_USER_ADMIN, "tab\there-ok"), ASKUE_OK);
	assert_int_equal(askue_user_add(l, "ok2", ASKUE_USER_ADMIN, "bell\a-not-ok"),
	                 ASKUE_ERR_INVALID);
	enum askue_user_role r;
	assert_int_equal(askue_user_role_parse("accounting", &r), ASKUE_OK);
	assert_int_equal(r, ASKUE_USER_ACCOUNTING);
	assert_int_equal(askue_user_role_parse("boss", &r), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "'boss'"));
	/* Nothing refused was written. */
	assert_int_equal(q(l, "SELECT count(*) FROM console_user"), 1);
	askue_ledger_close(l);
}

static void test_signin(void **state)
{
	(void)state;
	struct askue_ledger *l = open_ledger();
	struct askue_user u;
	assert_int_equal(askue_user_add(l, "ops1", ASKUE_USER_OPERATIONS, "right-horse"), ASKUE_OK);
	assert_int_equal(askue_user_signin(l, "ops1", "wrong-horse", 1000, &u), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "wrong user name or password");
	assert_int_equal(askue_user_signin(l, "nobody", "wrong-horse", 1000, &u), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "wrong user name or password");
	assert_int_equal(askue_user_get(l, "ops1", &u), ASKUE_OK);
	assert_int_equal(u.failed, 1);
	/* A password too short to be anyone's is a wrong one, counted. */
	assert_int_equal(askue_user_signin(l, "ops1", "short", 1000, &u), ASKUE_ERR_INVALID);
	assert_string_equal(askue_err_msg(), "wrong user name or password");
	assert_int_equal(askue_user_get(l, "ops1", &u), ASKUE_OK);
	assert_int_equal(u.failed, 2);
	assert_int_equal(askue_user_signin(l, "ops1", "right-horse", 2000, &u), ASKUE_OK);
	assert_int_equal(u.failed, 0);
	assert_int_equal(u.failed_total, 2);
	assert_int_equal(u.last_signin, 2000);
	assert_int_equal(u.role, ASKUE_USER_OPERATIONS);
	/* Three failures journaled (the unknown name as "?"), one success. */
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_signin_failed'"), 3);
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_signin_failed'"
	                      " AND subject = '?' AND details ->> 'reason' = 'unknown user'"),
	                 1);
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_signed_in'"
	                      " AND subject = 'ops1'"),
	                 1);
	askue_ledger_close(l);
}

static void test_lock_and_unlock(void **state)
{
	(void)state;
	struct askue_ledger *l = open_ledger();
	struct askue_user u;
	assert_int_equal(askue_user_add(l, "acc", ASKUE_USER_ACCOUNTING, "right-horse"), ASKUE_OK);
	for (int i = 0; i < ASKUE_USER_FAILED_MAX; i++)
		assert_int_equal(askue_user_signin(l, "acc", "guess-0000", 10, &u), ASKUE_ERR_INVALID);
	/* Locked: the right password is refused too, and that is counted. */
	assert_int_equal(askue_user_signin(l, "acc", "right-horse", 20, &u), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "locked"));
	assert_int_equal(askue_user_get(l, "acc", &u), ASKUE_OK);
	assert_int_equal(u.failed, ASKUE_USER_FAILED_MAX + 1);
	assert_int_equal(askue_user_passwd(l, "acc", "new-horse-1"), ASKUE_OK);
	assert_int_equal(askue_user_signin(l, "acc", "right-horse", 30, &u), ASKUE_ERR_INVALID);
	assert_int_equal(askue_user_signin(l, "acc", "new-horse-1", 40, &u), ASKUE_OK);
	assert_int_equal(u.failed_total, ASKUE_USER_FAILED_MAX + 2);
	askue_ledger_close(l);
}

static void test_disabled(void **state)
{
	(void)state;
	struct askue_ledger *l = open_ledger();
	struct askue_user u;
	assert_int_equal(askue_user_add(l, "tar", ASKUE_USER_TARIFF, "right-horse"), ASKUE_OK);
	assert_int_equal(askue_user_disable(l, "tar"), ASKUE_OK);
	assert_int_equal(askue_user_disable(l, "tar"), ASKUE_OK); /* no-op, no second event */
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_user_disabled'"), 1);
	assert_int_equal(askue_user_signin(l, "tar", "right-horse", 10, &u), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "disabled"));
	assert_int_equal(q(l, "SELECT count(*) FROM event WHERE type = 'console_signin_failed'"
	                      " AND subject = 'tar' AND details ->> 'reason' = 'disabled'"),
	                 1);
	assert_int_equal(askue_user_disable(l, "nobody"), ASKUE_ERR_NOT_FOUND);
	askue_ledger_close(l);
}

static void test_roles(void **state)
{
	(void)state;
	/* Operations work alerts, not payments; accounting the reverse; tariff
	 * neither; admin all; everyone sees a card. */
	assert_true(askue_user_may(ASKUE_USER_OPERATIONS, ASKUE_ACT_ALERT_WORK));
	assert_false(askue_user_may(ASKUE_USER_OPERATIONS, ASKUE_ACT_PAYMENT_WORK));
	assert_false(askue_user_may(ASKUE_USER_OPERATIONS, ASKUE_ACT_DEBTORS));
	assert_true(askue_user_may(ASKUE_USER_ACCOUNTING, ASKUE_ACT_PAYMENT_WORK));
	assert_false(askue_user_may(ASKUE_USER_ACCOUNTING, ASKUE_ACT_ALERT_WORK));
	assert_false(askue_user_may(ASKUE_USER_TARIFF, ASKUE_ACT_ALERT_WORK));
	assert_false(askue_user_may(ASKUE_USER_TARIFF, ASKUE_ACT_PAYMENT_WORK));
	assert_true(askue_user_may(ASKUE_USER_TARIFF, ASKUE_ACT_TARIFFS));
	for (int a = 0; a < ASKUE_ACT_COUNT; a++) {
		assert_true(askue_user_may(ASKUE_USER_ADMIN, (enum askue_user_action)a));
	}
	for (int r = 0; r < ASKUE_USER_ROLE_COUNT; r++)
		assert_true(askue_user_may((enum askue_user_role)r, ASKUE_ACT_CARD));
	assert_false(askue_user_may(ASKUE_USER_ROLE_COUNT, ASKUE_ACT_CARD));
	struct askue_user u = {.name = "ops1", .role = ASKUE_USER_OPERATIONS};
	assert_int_equal(askue_user_check(&u, ASKUE_ACT_PAYMENT_WORK, "assign payments"),
	                 ASKUE_ERR_CONFLICT);
	assert_string_equal(askue_err_msg(), "ops1 (role operations) may not assign payments");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_get), cmocka_unit_test(test_refused_input),
		cmocka_unit_test(test_signin),      cmocka_unit_test(test_lock_and_unlock),
		cmocka_unit_test(test_disabled),    cmocka_unit_test(test_roles),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
