/* Unit tests: the broker plugin's auth table and ACL (broker-plugins/
 * authtable.c, acl.c — compiled in here, they need no broker), loaded from
 * a real ledger the way the plugin loads it: read-only, in one read
 * transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../broker-plugins/acl.c"
#include "../../broker-plugins/authtable.c"

#include "concentrator.h"
#include "registry.h"

#include "tmpdir.h"

static char path[600];
static char pw_m1[ASKUE_SECRET_TEXT_BUF], pw_c1[ASKUE_SECRET_TEXT_BUF];

static void add_meter(struct askue_ledger *l, const char *serial)
{
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	snprintf(m.serial, sizeof m.serial, "%s", serial);
	strcpy(m.model, "Нева 101");
	assert_int_equal(askue_date_parse("2025-01-01", &m.commissioned), ASKUE_OK);
	m.service_life_years = 30;
	assert_int_equal(askue_meter_add(l, &m), ASKUE_OK);
}

/* M1 (own secret), M2 (own secret, bound to C1), M3 (no secret, bound to
 * C1), M4 (secret, bound to C1, then dismantled), M5 (no secret, unbound),
 * C1 (secret), C2 (no secret), one account per service role. */
static void make_ledger(void)
{
	struct askue_ledger *l;
	char pw[ASKUE_SECRET_TEXT_BUF];
	snprintf(path, sizeof path, "%s/ledger.db", dir);
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	const char *meters[] = {"M1", "M2", "M3", "M4", "M5"};
	for (int i = 0; i < 5; i++)
		add_meter(l, meters[i]);
	assert_int_equal(askue_cred_issue_meter(l, "M1", pw_m1), ASKUE_OK);
	assert_int_equal(askue_cred_issue_meter(l, "M2", pw), ASKUE_OK);
	assert_int_equal(askue_cred_issue_meter(l, "M4", pw), ASKUE_OK);
	assert_int_equal(askue_concentrator_add(l, "C1", "", "2025-01-01"), ASKUE_OK);
	assert_int_equal(askue_concentrator_add(l, "C2", "", "2025-01-01"), ASKUE_OK);
	assert_int_equal(askue_cred_issue_concentrator(l, "C1", pw_c1), ASKUE_OK);
	char *bound[] = {"M2", "M3", "M4"};
	assert_int_equal(askue_concentrator_bind(l, "C1", bound, 3), ASKUE_OK);
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	strcpy(s.name, "Кузнецова");
	strcpy(s.address, "пр. Победы, 5");
	assert_int_equal(askue_date_parse("2025-01-01", &s.registered), ASKUE_OK);
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_OK);
	struct askue_date d1, d2;
	assert_int_equal(askue_date_parse("2025-02-01", &d1), ASKUE_OK);
	assert_int_equal(askue_date_parse("2025-03-01", &d2), ASKUE_OK);
	assert_int_equal(askue_meter_install(l, "M4", s.account, d1, NULL), ASKUE_OK);
	assert_int_equal(askue_meter_dismantle(l, "M4", d2, NULL), ASKUE_OK);
	const char *names[] = {"askue-ingestor", "askue-relay", "askue-jobs", "askue-stale",
	                       "askue-events"};
	for (int r = 0; r < ASKUE_ROLE_COUNT; r++)
		assert_int_equal(askue_cred_issue_service(l, (enum askue_role)r, names[r], pw), ASKUE_OK);
	askue_ledger_close(l);
}

static struct auth_table *load(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	struct auth_table *t = NULL;
	char warn[256];
	assert_int_equal(auth_table_load(db, &t, warn, sizeof warn), 0);
	assert_string_equal(warn, "");
	sqlite3_close(db);
	return t;
}

static void table_contents(void **state)
{
	(void)state;
	struct auth_table *t = load();
	struct auth_counts c = auth_table_counts(t);
	assert_int_equal(c.meters, 3); /* M1, M2, M3; not M4 (dismantled), not M5 */
	assert_int_equal(c.concentrators, 2);
	assert_int_equal(c.services, 5);
	assert_int_equal(c.conflicts, 0);
	const struct auth_entry *e = auth_table_find(t, "M1", 2);
	assert_non_null(e);
	assert_int_equal(e->kind, AUTH_METER);
	assert_true(e->has_secret);
	assert_true(askue_cred_verify(&e->cred, pw_m1, strlen(pw_m1)));
	assert_false(askue_cred_verify(&e->cred, pw_c1, strlen(pw_c1)));
	assert_string_equal(auth_table_name(t, e), "M1");
	assert_null(auth_table_find(t, "M4", 2));
	assert_null(auth_table_find(t, "M5", 2));
	assert_null(auth_table_find(t, "M", 1));
	assert_null(auth_table_find(t, "M10", 3));
	assert_null(auth_table_find(t, "", 0));
	assert_null(auth_table_find(NULL, "M1", 2));
	e = auth_table_find(t, "M3", 2);
	assert_non_null(e);
	assert_false(e->has_secret);
	e = auth_table_find(t, "askue-stale", 11);
	assert_non_null(e);
	assert_int_equal(e->kind, AUTH_SERVICE);
	assert_int_equal(e->role, ASKUE_ROLE_STALE);
	auth_table_free(t);
	auth_table_free(NULL);
	/* the empty table lets nobody in */
	t = auth_table_new_empty();
	assert_null(auth_table_find(t, "M1", 2));
	assert_false(acl_allows(t, "M1", ACL_WRITE, "meters/M1/readings"));
	auth_table_free(t);
}

static void filter_cover(void **state)
{
	(void)state;
	assert_true(acl_filter_covers("meters/+/readings", "meters/+/readings"));
	assert_true(acl_filter_covers("meters/+/readings", "meters/M1/readings"));
	assert_false(acl_filter_covers("meters/+/readings", "meters/#"));
	assert_false(acl_filter_covers("meters/+/readings", "#"));
	assert_false(acl_filter_covers("meters/+/readings", "meters/+/+"));
	assert_false(acl_filter_covers("meters/+/readings", "meters/M1/readings/x"));
	assert_false(acl_filter_covers("meters/+/readings", "meters/M1"));
	assert_false(acl_filter_covers("meters/+/readings", "meters"));
	assert_false(acl_filter_covers("meters/+/readings", ""));
	assert_true(acl_filter_covers("askue/events/#", "askue/events"));
	assert_true(acl_filter_covers("askue/events/#", "askue/events/a/b"));
	assert_true(acl_filter_covers("askue/events/#", "askue/events/+"));
	assert_false(acl_filter_covers("askue/events/#", "askue/eventsx"));
	assert_false(acl_filter_covers("askue/events/#", "askue/alerts/x"));
	assert_false(acl_filter_covers("askue/events/#", "askue/+/x"));
	assert_true(acl_filter_covers("$share/ingest/meters/+/readings",
	                              "$share/ingest/meters/+/readings"));
	assert_false(acl_filter_covers("$share/ingest/meters/+/readings",
	                               "$share/other/meters/+/readings"));
	assert_true(acl_filter_covers("$share/+/meters/+/readings", "$share/b/meters/+/readings"));
	assert_false(acl_filter_covers("$share/+/meters/+/readings", "$share/b/meters/#"));
}

static void acl_rules(void **state)
{
	(void)state;
	struct auth_table *t = load();
	const int W = ACL_WRITE, R = ACL_READ, S = ACL_SUBSCRIBE;
	/* a meter: its own two topics, for writing only */
	assert_true(acl_allows(t, "M1", W, "meters/M1/readings"));
	assert_true(acl_allows(t, "M1", W, "meters/M1/status"));
	assert_false(acl_allows(t, "M1", W, "meters/M2/readings"));
	assert_false(acl_allows(t, "M1", W, "meters/M1/other"));
	assert_false(acl_allows(t, "M1", W, "meters/M1/readings/x"));
	assert_false(acl_allows(t, "M1", W, "meters/M1"));
	assert_false(acl_allows(t, "M1", W, "meters/M10/readings"));
	assert_false(acl_allows(t, "M1", W, "meters/M/readings"));
	assert_false(acl_allows(t, "M1", W, "askue/events/x"));
	assert_false(acl_allows(t, "M1", R, "meters/M1/readings"));
	assert_false(acl_allows(t, "M1", S, "meters/M1/readings"));
	assert_true(acl_allows(t, "M1", ACL_UNSUBSCRIBE, "meters/M1/readings"));
	/* a meter that cannot log in gets nothing */
	assert_false(acl_allows(t, "M3", W, "meters/M3/readings"));
	assert_false(acl_allows(t, "M4", W, "meters/M4/readings"));
	/* a concentrator: for its bound, live meters */
	assert_true(acl_allows(t, "C1", W, "meters/M2/readings"));
	assert_true(acl_allows(t, "C1", W, "meters/M3/readings"));
	assert_true(acl_allows(t, "C1", W, "meters/M3/status"));
	assert_false(acl_allows(t, "C1", W, "meters/M4/readings")); /* dismantled */
	assert_false(acl_allows(t, "C1", W, "meters/M1/readings")); /* not bound */
	assert_false(acl_allows(t, "C1", W, "meters/M5/readings"));
	assert_false(acl_allows(t, "C1", W, "meters/C1/readings"));
	assert_false(acl_allows(t, "C1", S, "meters/+/readings"));
	assert_false(acl_allows(t, "C2", W, "meters/M2/readings")); /* no secret */
	/* services */
	assert_true(acl_allows(t, "askue-ingestor", S, "$share/ingest/meters/+/readings"));
	assert_true(acl_allows(t, "askue-ingestor", S, "meters/+/readings"));
	assert_true(acl_allows(t, "askue-ingestor", R, "meters/M1/readings"));
	assert_false(acl_allows(t, "askue-ingestor", S, "meters/#"));
	assert_false(acl_allows(t, "askue-ingestor", S, "$share/ingest/#"));
	assert_true(acl_allows(t, "askue-ingestor", S, "$share/ingest-b/meters/+/readings"));
	assert_false(acl_allows(t, "askue-ingestor", S, "$share/ingest/meters/+/status"));
	assert_false(acl_allows(t, "askue-stale", S, "$share/ingest/meters/+/readings"));
	assert_false(acl_allows(t, "askue-ingestor", R, "meters/M1/status"));
	assert_false(acl_allows(t, "askue-ingestor", W, "meters/M1/readings"));
	assert_true(acl_allows(t, "askue-relay", W, "askue/events/meter_added"));
	assert_false(acl_allows(t, "askue-relay", W, "askue/alerts/x"));
	assert_false(acl_allows(t, "askue-relay", S, "askue/events/#"));
	assert_true(acl_allows(t, "askue-jobs", W, "askue/alerts/silent_meter"));
	assert_false(acl_allows(t, "askue-jobs", W, "askue/events/x"));
	assert_true(acl_allows(t, "askue-stale", S, "meters/+/status"));
	assert_true(acl_allows(t, "askue-stale", R, "meters/M9/status"));
	assert_false(acl_allows(t, "askue-stale", R, "meters/M9/readings"));
	assert_false(acl_allows(t, "askue-stale", W, "meters/M9/status"));
	assert_true(acl_allows(t, "askue-events", S, "askue/events/#"));
	assert_true(acl_allows(t, "askue-events", S, "askue/events/invoice_paid"));
	assert_true(acl_allows(t, "askue-events", R, "askue/events/meter_added"));
	assert_false(acl_allows(t, "askue-events", W, "askue/events/meter_added"));
	assert_false(acl_allows(t, "askue-events", S, "askue/#"));
	assert_true(acl_allows(t, "askue-events", S, "askue/alerts/#"));
	assert_true(acl_allows(t, "askue-events", R, "askue/alerts/silent_offline"));
	assert_false(acl_allows(t, "askue-events", W, "askue/alerts/silent_offline"));
	assert_false(acl_allows(t, "askue-events", R, "meters/M1/readings"));
	/* nobody else */
	assert_false(acl_allows(t, "nobody", W, "meters/nobody/readings"));
	assert_false(acl_allows(t, NULL, W, "meters/M1/readings"));
	assert_false(acl_allows(t, "M1", W, NULL));
	assert_false(acl_allows(t, "M1", 0x40, "meters/M1/readings"));
	auth_table_free(t);
}

static void username_used_twice_is_refused(void **state)
{
	(void)state;
	/* meter add does not look at other kinds: a meter whose serial is a
	 * service's name makes both unusable */
	struct askue_ledger *l;
	char pw[ASKUE_SECRET_TEXT_BUF];
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	add_meter(l, "askue-relay");
	assert_int_equal(askue_cred_issue_meter(l, "askue-relay", pw), ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_ledger_exec(l, "UPDATE meter SET secret_salt = zeroblob(16),"
	                                      " secret_hash = zeroblob(32) WHERE serial = 'askue-relay';"
	                                      "UPDATE meter SET secret_hash = x'00' WHERE serial = 'M2'"),
	                 ASKUE_OK);
	askue_ledger_close(l);
	struct auth_table *t = load();
	struct auth_counts c = auth_table_counts(t);
	assert_int_equal(c.conflicts, 1);
	assert_int_equal(c.bad_rows, 1); /* M2's damaged hash */
	const struct auth_entry *e = auth_table_find(t, "askue-relay", 11);
	assert_non_null(e);
	assert_true(e->conflict);
	assert_false(acl_allows(t, "askue-relay", ACL_WRITE, "askue/events/x"));
	assert_false(acl_allows(t, "askue-relay", ACL_WRITE, "meters/askue-relay/readings"));
	e = auth_table_find(t, "M2", 2);
	assert_non_null(e);
	assert_false(e->has_secret);
	assert_false(acl_allows(t, "M2", ACL_WRITE, "meters/M2/readings"));
	assert_true(acl_allows(t, "C1", ACL_WRITE, "meters/M2/readings")); /* still bound */
	auth_table_free(t);
}

static int has_name(const struct auth_revoked *r, const char *name)
{
	for (size_t off = 0; off < r->bytes; off += strlen(r->names + off) + 1)
		if (!strcmp(r->names + off, name))
			return 1;
	return 0;
}

static void revoked_between_tables(void **state)
{
	(void)state;
	struct auth_table *before = load(), *same = load();
	struct auth_revoked r;
	/* another load of the same ledger (another hash key) revokes nothing */
	assert_int_equal(auth_table_revoked(before, same, &r), 0);
	assert_int_equal(r.count, 0);
	assert_null(r.names);
	auth_table_free(same);
	/* a renewed password, a new meter, a removed service account */
	struct askue_ledger *l;
	char pw[ASKUE_SECRET_TEXT_BUF];
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	assert_int_equal(askue_cred_issue_meter(l, "M1", pw), ASKUE_OK);
	assert_int_equal(askue_cred_issue_meter(l, "M5", pw), ASKUE_OK);
	assert_int_equal(askue_ledger_exec(l, "DELETE FROM service_account WHERE name = 'askue-stale'"),
	                 ASKUE_OK);
	askue_ledger_close(l);
	struct auth_table *now = load();
	assert_int_equal(auth_table_revoked(before, now, &r), 0);
	assert_true(has_name(&r, "M1"));  /* new secret */
	assert_true(has_name(&r, "askue-stale")); /* gone */
	assert_false(has_name(&r, "M5")); /* new: nobody to disconnect */
	assert_false(has_name(&r, "C1"));
	assert_false(has_name(&r, "M3")); /* never had a secret */
	/* merging keeps both lists */
	struct auth_revoked more = {0};
	assert_int_equal(auth_table_revoked(now, before, &more), 0);
	assert_true(has_name(&more, "M1"));
	assert_false(has_name(&more, "askue-stale")); /* back: nobody logged in as it */
	size_t n = r.count + more.count;
	assert_int_equal(auth_revoked_merge(&r, &more), 0);
	assert_int_equal(r.count, n);
	assert_int_equal(more.count, 0);
	auth_revoked_clear(&r);
	assert_int_equal(auth_table_revoked(NULL, now, &r), 0);
	assert_int_equal(r.count, 0);
	/* shared references */
	assert_ptr_equal(auth_table_retain(now), now);
	auth_table_free(now);
	assert_non_null(auth_table_find(now, "M1", 2));
	auth_table_free(now);
	auth_table_free(before);
}

static void older_schema_loads_what_it_has(void **state)
{
	(void)state;
	char old[700];
	snprintf(old, sizeof old, "%s/old.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, askue_schema_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	struct auth_table *t = NULL;
	char warn[256];
	assert_int_equal(auth_table_load(db, &t, warn, sizeof warn), 0);
	assert_non_null(strstr(warn, "no such table: service_account"));
	assert_int_equal(auth_table_counts(t).services, 0);
	auth_table_free(t);
	sqlite3_close(db);
}

static int setup(void **state)
{
	(void)state;
	if (askue_cred_init() != ASKUE_OK || tmpdir_setup(state) != 0)
		return -1;
	make_ledger();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_contents),
		cmocka_unit_test(filter_cover),
		cmocka_unit_test(acl_rules),
		cmocka_unit_test(username_used_twice_is_refused),
		cmocka_unit_test(revoked_between_tables),
		cmocka_unit_test(older_schema_loads_what_it_has),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
