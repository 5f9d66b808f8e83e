/* Unit tests: lib/credentials.c and lib/concentrator.c — the secret's
 * form, the salted hash and its constant-time check, and issuing against a
 * real SQLite ledger: who gets credentials, who is refused, what is stored
 * (never the secret) and journaled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concentrator.h"
#include "credentials.h"
#include "journal.h"
#include "registry.h"

#include "tmpdir.h"


static struct askue_ledger *open_fresh(void)
{
	static int n;
	char path[600];
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, n++);
	struct askue_ledger *l;
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	return l;
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

/* The stored credential of a meter / concentrator / service account. */
static int stored(struct askue_ledger *l, const char *sql, const char *key,
                  struct askue_credential *out)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(askue_ledger_db(l), sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16 &&
	            sqlite3_column_bytes(st, 1) == 32;
	if (found) {
		memcpy(out->salt, sqlite3_column_blob(st, 0), 16);
		memcpy(out->hash, sqlite3_column_blob(st, 1), 32);
	}
	sqlite3_finalize(st);
	return found;
}
#define METER_CRED "SELECT secret_salt, secret_hash FROM meter WHERE serial = ?"
#define CONC_CRED "SELECT secret_salt, secret_hash FROM concentrator WHERE ident = ?"
#define SERVICE_CRED "SELECT secret_salt, secret_hash FROM service_account WHERE name = ?"

static void add_meter(struct askue_ledger *l, const char *serial)
{
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	snprintf(m.serial, sizeof m.serial, "%s", serial);
	strcpy(m.model, "Меркурий 201.8");
	assert_int_equal(askue_date_parse("2025-01-01", &m.commissioned), ASKUE_OK);
	m.service_life_years = 30;
	assert_int_equal(askue_meter_add(l, &m), ASKUE_OK);
}

static void base32_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10, lower case, no padding */
	static const struct {
		const char *in, *out;
	} v[] = {{"", ""},          {"f", "my"},          {"fo", "mzxq"},         {"foo", "mzxw6"},
	         {"foob", "mzxw6yq"}, {"fooba", "mzxw6ytb"}, {"foobar", "mzxw6ytboi"}};
	char out[64];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		askue_cred_base32((const uint8_t *)v[i].in, strlen(v[i].in), out, sizeof out);
		assert_string_equal(out, v[i].out);
	}
	/* a short buffer is cut, never overrun */
	askue_cred_base32((const uint8_t *)"foobar", 6, out, 4);
	assert_string_equal(out, "mzx");
}

static void new_secret_form_and_verify(void **state)
{
	(void)state;
	char a[ASKUE_SECRET_TEXT_BUF], b[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential ca, cb;
	assert_int_equal(askue_cred_new(a, &ca), ASKUE_OK);
	assert_int_equal(askue_cred_new(b, &cb), ASKUE_OK);
	assert_int_equal(strlen(a), ASKUE_SECRET_TEXT_LEN);
	assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz234567"), ASKUE_SECRET_TEXT_LEN);
	assert_true(ASKUE_SECRET_TEXT_LEN * 5 >= ASKUE_SECRET_BYTES * 8);
	assert_true(ASKUE_SECRET_BYTES * 8 >= 128);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(ca.salt, cb.salt, sizeof ca.salt);

	assert_true(askue_cred_verify(&ca, a, strlen(a)));
	assert_true(askue_cred_verify(&cb, b, strlen(b)));
	assert_false(askue_cred_verify(&ca, b, strlen(b)));
	char wrong[ASKUE_SECRET_TEXT_BUF];
	memcpy(wrong, a, sizeof wrong);
	wrong[ASKUE_SECRET_TEXT_LEN - 1] = wrong[ASKUE_SECRET_TEXT_LEN - 1] == 'a' ? 'b' : 'a';
	assert_false(askue_cred_verify(&ca, wrong, strlen(wrong)));
	assert_false(askue_cred_verify(&ca, a, strlen(a) - 1));     /* a prefix */
	assert_false(askue_cred_verify(&ca, "", 0));
	assert_false(askue_cred_verify(&ca, NULL, 0));
	assert_false(askue_cred_verify(NULL, a, strlen(a)));
	static char huge[ASKUE_CRED_PASSWORD_BYTES_MAX + 2];
	memset(huge, 'a', sizeof huge - 1);
	assert_false(askue_cred_verify(&ca, huge, strlen(huge)));
}

static void hash_is_salted_and_stable(void **state)
{
	(void)state;
	uint8_t s1[ASKUE_CRED_SALT_BYTES] = {1}, s2[ASKUE_CRED_SALT_BYTES] = {2};
	uint8_t h1[32], h1again[32], h2[32];
	askue_cred_hash(s1, "secret", 6, h1);
	askue_cred_hash(s1, "secret", 6, h1again);
	askue_cred_hash(s2, "secret", 6, h2);
	assert_memory_equal(h1, h1again, 32);
	assert_memory_not_equal(h1, h2, 32);
	struct askue_credential c = {.salt = {1}};
	askue_cred_hash(c.salt, "secret", 6, c.hash);
	assert_true(askue_cred_verify(&c, "secret", 6));
}

static void roles_and_names(void **state)
{
	(void)state;
	enum askue_role r;
	const char *names[] = {"ingestor", "relay", "jobs", "stale", "events"};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(askue_role_parse(names[i], &r), ASKUE_OK);
		assert_string_equal(askue_role_name(r), names[i]);
	}
	assert_int_equal(askue_role_parse("admin", &r), ASKUE_ERR_INVALID);
	assert_int_equal(askue_role_parse(NULL, &r), ASKUE_ERR_INVALID);
	assert_null(askue_role_name(ASKUE_ROLE_COUNT));
	assert_int_equal(askue_service_name_check("askue-ingestor.2_b"), ASKUE_OK);
	assert_int_equal(askue_service_name_check(""), ASKUE_ERR_INVALID);
	assert_int_equal(askue_service_name_check("a b"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_service_name_check("a/b"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_service_name_check("сервис"), ASKUE_ERR_INVALID);
	char longname[70];
	memset(longname, 'x', 65);
	longname[65] = '\0';
	assert_int_equal(askue_service_name_check(longname), ASKUE_ERR_INVALID);
	assert_int_equal(askue_concentrator_ident_check("УСПД-1"), ASKUE_OK);
	assert_int_equal(askue_concentrator_ident_check("a/b"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_concentrator_ident_check("a+"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_concentrator_ident_check(" a"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_concentrator_ident_check(""), ASKUE_ERR_INVALID);
}

static void issue_meter(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char pw[ASKUE_SECRET_TEXT_BUF], pw2[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	add_meter(l, "0001 Ж");
	assert_int_equal(askue_cred_issue_meter(l, "0001 Ж", pw), ASKUE_OK);
	assert_true(stored(l, METER_CRED, "0001 Ж", &c));
	assert_true(askue_cred_verify(&c, pw, strlen(pw)));
	/* the secret itself is nowhere in the ledger */
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM event WHERE instr(details, '%s') > 0", pw);
	assert_int_equal(count(l, sql), 0);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'meter_credentials_issued'"
	                          " AND subject = '0001 Ж' AND json_extract(details, '$.replaced') = 0"),
	                 1);
	assert_int_equal(count(l, "SELECT count(*) FROM meter WHERE secret_issued > 0"), 1);

	/* a new issue replaces the old secret */
	assert_int_equal(askue_cred_issue_meter(l, "0001 Ж", pw2), ASKUE_OK);
	assert_true(stored(l, METER_CRED, "0001 Ж", &c));
	assert_false(askue_cred_verify(&c, pw, strlen(pw)));
	assert_true(askue_cred_verify(&c, pw2, strlen(pw2)));
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'meter_credentials_issued'"
	                          " AND json_extract(details, '$.replaced') = 1"),
	                 1);

	/* unknown: refused, nothing written */
	int64_t events = count(l, "SELECT count(*) FROM event");
	memset(pw, 'x', sizeof pw);
	assert_int_equal(askue_cred_issue_meter(l, "NOPE", pw), ASKUE_ERR_NOT_FOUND);
	assert_non_null(strstr(askue_err_msg(), "NOPE"));
	assert_int_equal(pw[0], 'x'); /* out-parameter untouched */
	assert_int_equal(askue_cred_issue_meter(l, "", pw), ASKUE_ERR_INVALID);
	assert_int_equal(count(l, "SELECT count(*) FROM event"), events);

	/* dismantled: refused */
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	strcpy(s.name, "Сидоров");
	strcpy(s.address, "ул. Мира, 3");
	assert_int_equal(askue_date_parse("2025-01-01", &s.registered), ASKUE_OK);
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_OK);
	struct askue_date d1, d2;
	assert_int_equal(askue_date_parse("2025-02-01", &d1), ASKUE_OK);
	assert_int_equal(askue_date_parse("2025-03-01", &d2), ASKUE_OK);
	assert_int_equal(askue_meter_install(l, "0001 Ж", s.account, d1, NULL), ASKUE_OK);
	assert_int_equal(askue_meter_dismantle(l, "0001 Ж", d2, NULL), ASKUE_OK);
	assert_int_equal(askue_cred_issue_meter(l, "0001 Ж", pw), ASKUE_ERR_CONFLICT);
	assert_non_null(strstr(askue_err_msg(), "dismantled"));
	askue_ledger_close(l);
}

static void issue_concentrator_and_bind(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char pw[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	add_meter(l, "M1");
	add_meter(l, "M2");
	assert_int_equal(askue_cred_issue_concentrator(l, "C1", pw), ASKUE_ERR_NOT_FOUND);
	assert_int_equal(askue_concentrator_add(l, "C1", "ПС-12", "2025-01-01"), ASKUE_OK);
	assert_int_equal(askue_concentrator_add(l, "C1", "", "2025-01-01"), ASKUE_ERR_EXISTS);
	assert_int_equal(askue_concentrator_add(l, "M1", "", "2025-01-01"), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_concentrator_add(l, "a/b", "", "2025-01-01"), ASKUE_ERR_INVALID);
	assert_int_equal(askue_cred_issue_concentrator(l, "C1", pw), ASKUE_OK);
	assert_true(stored(l, CONC_CRED, "C1", &c));
	assert_true(askue_cred_verify(&c, pw, strlen(pw)));

	char *both[] = {"M1", "M2"}, *bad[] = {"M1", "NOPE"};
	assert_int_equal(askue_concentrator_bind(l, "C1", both, 2), ASKUE_OK);
	struct askue_concentrator conc;
	assert_int_equal(askue_concentrator_get(l, "C1", &conc), ASKUE_OK);
	assert_int_equal(conc.meters, 2);
	assert_true(conc.has_secret);
	assert_string_equal(conc.substation, "ПС-12");
	/* all or nothing: an unknown meter undoes the whole bind */
	assert_int_equal(askue_concentrator_add(l, "C2", NULL, "2025-01-01"), ASKUE_OK);
	assert_int_equal(askue_concentrator_bind(l, "C2", bad, 2), ASKUE_ERR_NOT_FOUND);
	assert_int_equal(askue_concentrator_get(l, "C2", &conc), ASKUE_OK);
	assert_int_equal(conc.meters, 0);
	assert_int_equal(askue_concentrator_bind(l, "NOPE", both, 2), ASKUE_ERR_NOT_FOUND);
	/* binding again changes and journals nothing */
	int64_t events = count(l, "SELECT count(*) FROM event");
	assert_int_equal(askue_concentrator_bind(l, "C1", both, 2), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM event"), events);
	/* moving one, then unbinding it */
	assert_int_equal(askue_concentrator_bind(l, "C2", both, 1), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'concentrator_bound'"
	                          " AND subject = 'C2' AND json_extract(details, '$.previous') = 'C1'"),
	                 1);
	assert_int_equal(askue_concentrator_bind(l, NULL, both, 1), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM meter WHERE concentrator_id IS NULL"), 1);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'concentrator_unbound'"), 1);
	assert_int_equal(count(l, "SELECT count(*) FROM event"
	                          " WHERE type = 'concentrator_credentials_issued'"),
	                 1);
	askue_ledger_close(l);
}

static void issue_service(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	char pw[ASKUE_SECRET_TEXT_BUF], pw2[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	add_meter(l, "M1");
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_INGESTOR, "askue-ingestor", pw),
	                 ASKUE_OK);
	assert_true(stored(l, SERVICE_CRED, "askue-ingestor", &c));
	assert_true(askue_cred_verify(&c, pw, strlen(pw)));
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_INGESTOR, "askue-ingestor", pw2),
	                 ASKUE_OK);
	assert_true(stored(l, SERVICE_CRED, "askue-ingestor", &c));
	assert_true(askue_cred_verify(&c, pw2, strlen(pw2)));
	assert_false(askue_cred_verify(&c, pw, strlen(pw)));
	/* a name keeps its role */
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_RELAY, "askue-ingestor", pw),
	                 ASKUE_ERR_CONFLICT);
	/* one username namespace with meters and concentrators */
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_RELAY, "M1", pw), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_RELAY, "bad name", pw),
	                 ASKUE_ERR_INVALID);
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_COUNT, "x", pw), ASKUE_ERR_INVALID);
	assert_int_equal(count(l, "SELECT count(*) FROM service_account"), 1);
	/* revoking removes the account and journals it; a second time is refused */
	assert_int_equal(askue_cred_revoke_service(l, "askue-ingestor"), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM service_account"), 0);
	assert_int_equal(askue_cred_revoke_service(l, "askue-ingestor"), ASKUE_ERR_NOT_FOUND);
	assert_int_equal(askue_cred_revoke_service(l, "a b"), ASKUE_ERR_INVALID);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'service_credentials_revoked'"
	                          " AND json_extract(details, '$.role') = 'ingestor'"),
	                 1);
	/* the name is free again, for any role */
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_STALE, "askue-ingestor", pw), ASKUE_OK);
	assert_int_equal(count(l, "SELECT count(*) FROM event WHERE type = 'service_credentials_issued'"
	                          " AND json_extract(details, '$.role') = 'ingestor'"),
	                 2);
	/* migration 3 lets the ledger keep the events role */
	assert_int_equal(askue_cred_issue_service(l, ASKUE_ROLE_EVENTS, "portal", pw), ASKUE_OK);
	askue_ledger_close(l);
}

static int setup(void **state)
{
	(void)state;
	if (askue_cred_init() != ASKUE_OK)
		return -1;
	return tmpdir_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base32_vectors),
		cmocka_unit_test(new_secret_form_and_verify),
		cmocka_unit_test(hash_is_salted_and_stable),
		cmocka_unit_test(roles_and_names),
		cmocka_unit_test(issue_meter),
		cmocka_unit_test(issue_concentrator_and_bind),
		cmocka_unit_test(issue_service),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
