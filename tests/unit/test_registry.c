/* Unit tests: lib/subscriber.c, meter.c, tariff.c, journal.c and
 * ledger.c against a real SQLite file — every registry rule and refusal,
 * and that a refusal writes nothing (no row, no event). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "registry.h"

#include "tmpdir.h"

static char path[600];

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static int64_t count(struct askue_ledger *l, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(l), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static struct askue_ledger *open_fresh(void)
{
	static int n;
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, n++);
	struct askue_ledger *l;
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	return l;
}

static void add_sub(struct askue_ledger *l, const char *name, const char *date, char *account)
{
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "%s", name);
	snprintf(s.address, sizeof s.address, "ул. Садовая, д. %d", (int)strlen(name));
	s.registered = D(date);
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_OK);
	strcpy(account, s.account);
}

static void add_meter(struct askue_ledger *l, const char *serial, int zones)
{
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	snprintf(m.serial, sizeof m.serial, "%s", serial);
	strcpy(m.model, "Меркурий 201.8");
	m.commissioned = D("2025-01-01");
	m.service_life_years = 30;
	m.zones = zones;
	assert_int_equal(askue_meter_add(l, &m), ASKUE_OK);
}

static void migrations_and_wal(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	assert_int_equal(askue_ledger_schema_version(l), askue_schema_count);
	askue_ledger_close(l);
	/* Opening again applies nothing twice. */
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	assert_int_equal(askue_ledger_schema_version(l), askue_schema_count);
	assert_int_equal(count(l, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	assert_int_equal(count(l, "PRAGMA foreign_keys"), 1);
	askue_ledger_close(l);
	askue_ledger_close(NULL);
}

static void subscriber_rules(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char a1[ASKUE_ACCOUNT_BUF], a2[ASKUE_ACCOUNT_BUF];
	add_sub(l, "Иванов Пётр", "2025-01-10", a1);
	add_sub(l, "Петрова Мария", "2025-01-11", a2);
	assert_true(askue_account_checks(a1));
	assert_string_not_equal(a1, a2);
	struct askue_subscriber s;
	assert_int_equal(askue_subscriber_get(l, a1, &s), ASKUE_OK);
	assert_string_equal(s.name, "Иванов Пётр");
	assert_string_equal(s.category, "household");
	/* A mistyped account: one digit changed. */
	char typo[ASKUE_ACCOUNT_BUF];
	strcpy(typo, a1);
	typo[3] = typo[3] == '9' ? '0' : (char)(typo[3] + 1);
	assert_int_equal(askue_subscriber_get(l, typo, &s), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "mistyped"));
	assert_int_equal(askue_subscriber_get(l, "12a", &s), ASKUE_ERR_INVALID);
	/* Refusals write nothing. */
	int64_t events = count(l, "SELECT count(*) FROM event");
	memset(&s, 0, sizeof s);
	strcpy(s.name, "X");
	strcpy(s.address, "Y");
	strcpy(s.category, "vip");
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_ERR_INVALID);
	strcpy(s.category, "other");
	strcpy(s.email, "not-an-email");
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_ERR_INVALID);
	s.email[0] = '\0';
	strcpy(s.account, a1); /* an old card file's number that is taken */
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_ERR_EXISTS);
	assert_int_equal(count(l, "SELECT count(*) FROM event"), events);
	assert_int_equal(count(l, "SELECT count(*) FROM subscriber"), 2);
	assert_int_equal(count(l, "SELECT count(*) FROM subscriber_fts"), 2);
	askue_ledger_close(l);
}

struct found {
	int n;
	char first[ASKUE_ACCOUNT_BUF];
};

static int on_found(const struct askue_subscriber *s, void *arg)
{
	struct found *f = arg;
	if (!f->n++)
		strcpy(f->first, s->account);
	return 0;
}

static void find(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char a1[ASKUE_ACCOUNT_BUF], a2[ASKUE_ACCOUNT_BUF];
	add_sub(l, "Иванов Пётр Сергеевич", "2025-01-10", a1);
	add_sub(l, "Smith John", "2025-01-11", a2);
	struct found f = {0};
	assert_int_equal(askue_subscriber_find(l, "ПЕТР", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.first, a1);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "сергеев", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 1);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "smi", 10, on_found, &f), ASKUE_OK);
	assert_string_equal(f.first, a2);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "садовая", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 2);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "ив петр", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 1); /* a short word is filtered, not indexed */
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, a2, 10, on_found, &f), ASKUE_OK);
	assert_string_equal(f.first, a2);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "nobody", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 0);
	memset(&f, 0, sizeof f);
	assert_int_equal(askue_subscriber_find(l, "\"quoted\" AND OR", 10, on_found, &f), ASKUE_OK);
	assert_int_equal(f.n, 0);
	askue_ledger_close(l);
}

static void install_rules(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char a1[ASKUE_ACCOUNT_BUF], a2[ASKUE_ACCOUNT_BUF];
	add_sub(l, "Иванов", "2025-01-10", a1);
	add_sub(l, "Петров", "2025-01-10", a2);
	add_meter(l, "M1", 1);
	add_meter(l, "M2", 2);
	struct askue_registers r;
	assert_int_equal(askue_registers_parse("100.5", 1, &r), ASKUE_OK);
	assert_int_equal(r.wh[0], 100500);
	assert_int_equal(askue_registers_parse("1,2", 1, &r), ASKUE_ERR_INVALID);
	assert_int_equal(askue_registers_parse("1", 2, &r), ASKUE_ERR_INVALID);
	assert_int_equal(askue_registers_parse("1.5,2.25", 2, &r), ASKUE_OK);
	assert_int_equal(r.wh[0], 3750);
	assert_int_equal(r.wh[2], 2250);

	int64_t events = count(l, "SELECT count(*) FROM event");
	/* Dismantling a meter that is not installed. */
	assert_int_equal(askue_meter_dismantle(l, "M1", D("2025-02-01"), NULL), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "not installed"));
	/* Before commissioning, before registration. */
	assert_int_equal(askue_meter_install(l, "M1", a1, D("2024-12-31"), NULL), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_meter_install(l, "M1", a1, D("2025-01-09"), NULL), ASKUE_ERR_CONFLICT);
	assert_int_equal(count(l, "SELECT count(*) FROM event"), events);

	assert_int_equal(askue_meter_install(l, "M1", a1, D("2025-02-01"), NULL), ASKUE_OK);
	/* The same meter on a second subscriber at once. */
	assert_int_equal(askue_meter_install(l, "M1", a2, D("2025-02-02"), NULL), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "already installed"));
	/* A second meter on the same subscriber. */
	assert_int_equal(askue_meter_install(l, "M2", a1, D("2025-02-02"), NULL), ASKUE_ERR_CONFLICT);
	/* A reading with the wrong number of zones. */
	assert_int_equal(askue_registers_parse("1", 1, &r), ASKUE_OK);
	assert_int_equal(askue_meter_install(l, "M2", a2, D("2025-02-02"), &r), ASKUE_ERR_INVALID);
	/* Exchange: dismantle M1, install M2 the same day. */
	assert_int_equal(askue_meter_dismantle(l, "M1", D("2025-01-31"), NULL), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_registers_parse("350.25", 1, &r), ASKUE_OK);
	assert_int_equal(askue_meter_dismantle(l, "M1", D("2025-06-01"), &r), ASKUE_OK);
	struct askue_meter m;
	assert_int_equal(askue_meter_get(l, "M1", &m), ASKUE_OK);
	assert_string_equal(m.status, "dismantled");
	assert_true(m.has_decommissioned);
	assert_int_equal(m.decommissioned.days, D("2025-06-01").days);
	assert_int_equal(askue_registers_parse("1.5,2.25", 2, &r), ASKUE_OK);
	assert_int_equal(askue_meter_install(l, "M2", a1, D("2025-06-01"), &r), ASKUE_OK);
	/* Installing a dismantled meter; dismantling twice. */
	assert_int_equal(askue_meter_install(l, "M1", a2, D("2025-07-01"), NULL), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "dismantled"));
	assert_int_equal(askue_meter_dismantle(l, "M1", D("2025-07-01"), NULL), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_meter_install(l, "NOPE", a2, D("2025-07-01"), NULL), ASKUE_ERR_NOT_FOUND);
	/* The journal has exactly the accepted changes. */
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'meter_connected'"), 2);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'meter_dismantled'"), 1);
	assert_int_equal(count(l, "SELECT count(*) FROM installation WHERE removed IS NULL"), 1);
	askue_ledger_close(l);
}

static void tariff_rules(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char a1[ASKUE_ACCOUNT_BUF];
	add_sub(l, "Иванов", "2025-01-10", a1);
	struct askue_tariff t;
	assert_int_equal(askue_tariff_zones_parse("day=07-23,night=23-07", &t), ASKUE_OK);
	assert_int_equal(t.n_zones, 2);
	assert_int_equal(askue_tariff_zones_parse("peak=07-10+17-21,half=10-17+21-23,night=23-07", &t),
	                 ASKUE_OK);
	assert_int_equal(t.n_zones, 3);
	assert_int_equal(askue_tariff_zones_parse("day=07-23,night=22-07", &t), ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_zones_parse("day=07-23,night=23-06", &t), ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_zones_parse("day=07-23", &t), ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_zones_parse("Day=07-23,night=23-07", &t), ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_zones_parse("a=00-06,b=06-12,c=12-18,d=18-24", &t),
	                 ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_zones_parse("day=7-23,night=23-07", &t), ASKUE_ERR_INVALID);

	assert_int_equal(askue_tariff_add(l, "Одноставочный", NULL, D("2025-01-01")), ASKUE_OK);
	assert_int_equal(askue_tariff_add(l, "Одноставочный", NULL, D("2025-01-01")), ASKUE_ERR_EXISTS);
	assert_int_equal(askue_tariff_add(l, "Двухзонный", "day=07-23,night=23-07", D("2025-01-01")),
	                 ASKUE_OK);
	struct askue_zone_price p[2] = {{"day", {6120000}}, {"night", {3400000}}};
	assert_int_equal(askue_tariff_price(l, "Двухзонный", D("2025-07-01"), p, 2), ASKUE_OK);
	/* Two prices for the same zone from the same date. */
	assert_int_equal(askue_tariff_price(l, "Двухзонный", D("2025-07-01"), p, 1), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "already has a price"));
	struct askue_zone_price twice[2] = {{"day", {1}}, {"day", {2}}};
	assert_int_equal(askue_tariff_price(l, "Двухзонный", D("2025-08-01"), twice, 2),
	                 ASKUE_ERR_INVALID);
	struct askue_zone_price bad[1] = {{"evening", {1}}};
	assert_int_equal(askue_tariff_price(l, "Двухзонный", D("2025-08-01"), bad, 1), ASKUE_ERR_INVALID);
	assert_int_equal(askue_tariff_price(l, "Нет", D("2025-08-01"), p, 1), ASKUE_ERR_NOT_FOUND);
	/* A later price is history, not a conflict. */
	assert_int_equal(askue_tariff_price(l, "Двухзонный", D("2026-01-01"), p, 2), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM tariff_price"), 4);

	assert_int_equal(askue_tariff_choose(l, a1, "Двухзонный", D("2025-01-10")), ASKUE_OK);
	assert_int_equal(askue_tariff_choose(l, a1, "Двухзонный", D("2025-01-10")), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_tariff_choose(l, a1, "Одноставочный", D("2025-01-09")),
	                 ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_tariff_choose(l, a1, "Одноставочный", D("2026-01-01")), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'tariff_chosen'"), 2);
	askue_ledger_close(l);
}

static void journal_is_append_only(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char a1[ASKUE_ACCOUNT_BUF];
	add_sub(l, "Иванов", "2025-01-10", a1);
	assert_int_equal(askue_ledger_exec(l, "UPDATE event SET subject = 'x'"), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_ledger_exec(l, "DELETE FROM event"), ASKUE_ERR_CONFLICT);
	/* Outside a transaction the journal refuses: events ride with changes. */
	assert_int_equal(askue_journal_append(l, "x", "y", NULL), ASKUE_ERR_DB);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'subscriber_registered'"
	                          " AND subject = (SELECT account FROM subscriber)"
	                          " AND operator = 'tester'"
	                          " AND json_extract(details, '$.date') = '2025-01-10'"),
	                 1);
	askue_ledger_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrations_and_wal), cmocka_unit_test(subscriber_rules),
		cmocka_unit_test(find),               cmocka_unit_test(install_rules),
		cmocka_unit_test(tariff_rules),       cmocka_unit_test(journal_is_append_only),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
