/* Unit tests: lib/tariff.c — volume bands and askue_tariff_load_for_billing
 * against a real SQLite ledger: the versions in force for a subscriber in a
 * period, cut at every tariff choice, price change and band change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#include "tmpdir.h"

static struct askue_date D(const char *s)
{
	struct askue_date d;
	assert_int_equal(askue_date_parse(s, &d), ASKUE_OK);
	return d;
}

static struct askue_ledger *open_fresh(void)
{
	static int n;
	char path[600];
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, n++);
	struct askue_ledger *l;
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	return l;
}

static int64_t add_sub(struct askue_ledger *l, char *account)
{
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "Петров");
	snprintf(s.address, sizeof s.address, "ул. Садовая, 1");
	s.registered = D("2025-01-01");
	assert_int_equal(askue_subscriber_add(l, &s), ASKUE_OK);
	strcpy(account, s.account);
	return s.id;
}

static void price(struct askue_ledger *l, const char *t, const char *from, const char *zone,
                  int64_t micro)
{
	struct askue_zone_price p = {.price = {micro}};
	snprintf(p.zone, sizeof p.zone, "%s", zone);
	assert_int_equal(askue_tariff_price(l, t, D(from), &p, 1), ASKUE_OK);
}

/* A (one zone): 5.00 from 2025-07-01, 6.00 from 2026-03-16.
 * B (day/night): 6.12 / 3.40 from 2025-07-01; bands 3,900 / 6,000 kWh from
 * 2026-03-20 at day 6/8/10, night 3/4/5.
 * The subscriber takes A from 2025-08-01 and B from 2026-03-10. March 2026:
 * A from 1 March (5.00; A's rise on the 16th is after the switch), B from
 * the 10th (6.12 / 3.40), B with bands from the 20th. */
static void versions_of_a_period(void **state)
{
	(void)state;
	assert_int_equal(askue_tz_set("Europe/Moscow"), ASKUE_OK);
	struct askue_ledger *l = open_fresh();
	char acc[32], acc2[32];
	int64_t sid = add_sub(l, acc), sid2 = add_sub(l, acc2);
	assert_int_equal(askue_tariff_add(l, "A", NULL, D("2025-01-01")), ASKUE_OK);
	assert_int_equal(askue_tariff_add(l, "B", "day=07-23,night=23-07", D("2025-01-01")),
	                 ASKUE_OK);
	price(l, "A", "2025-07-01", "all", 5000000);
	price(l, "A", "2026-03-16", "all", 6000000);
	price(l, "B", "2025-07-01", "day", 6120000);
	price(l, "B", "2025-07-01", "night", 3400000);
	int64_t upto[] = {3900000, 6000000};
	struct askue_band_prices bp[] = {{"day", {{6000000}, {8000000}, {10000000}}},
	                                 {"night", {{3000000}, {4000000}, {5000000}}}};
	assert_int_equal(askue_tariff_band(l, "B", D("2026-03-20"), upto, 2, bp, 2), ASKUE_OK);
	assert_int_equal(askue_tariff_band(l, "B", D("2026-03-20"), NULL, 0, NULL, 0),
	                 ASKUE_ERR_CONFLICT);
	assert_int_equal(askue_tariff_band(l, "B", D("2026-04-01"), upto, 2, bp, 1),
	                 ASKUE_ERR_INVALID); /* a zone without band prices */
	assert_int_equal(askue_tariff_choose(l, acc, "A", D("2025-08-01")), ASKUE_OK);
	assert_int_equal(askue_tariff_choose(l, acc, "B", D("2026-03-10")), ASKUE_OK);

	struct askue_bill_version v[ASKUE_BILL_VERSIONS_MAX];
	int n = -1;
	assert_int_equal(askue_tariff_load_for_billing(l, sid, D("2026-03-01"), D("2026-04-01"), v,
	                                               ASKUE_BILL_VERSIONS_MAX, &n),
	                 ASKUE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].tariff, "A");
	assert_int_equal(v[0].from.days, D("2026-03-01").days);
	assert_int_equal(v[0].from_ts, (int64_t)D("2026-03-01").days * 86400 - 3 * 3600);
	assert_int_equal(v[0].n_zones, 1);
	assert_int_equal(v[0].zones[0].idx, 0);
	assert_int_equal(v[0].price[0][0].micro_rub, 5000000);
	assert_int_equal(v[0].price_from[0].days, D("2025-07-01").days);
	assert_int_equal(v[0].n_bands, 0);
	assert_string_equal(v[1].tariff, "B");
	assert_int_equal(v[1].from.days, D("2026-03-10").days);
	assert_int_equal(v[1].n_zones, 2);
	assert_string_equal(v[1].zones[1].name, "night");
	assert_int_equal(v[1].zones[1].idx, 2);
	assert_int_equal(v[1].price[1][0].micro_rub, 3400000);
	assert_int_equal(v[2].from.days, D("2026-03-20").days);
	assert_int_equal(v[2].n_bands, 3);
	assert_int_equal(v[2].band_upto_wh[1], 6000000);
	assert_int_equal(v[2].price[0][2].micro_rub, 10000000);
	assert_int_equal(v[2].price[1][1].micro_rub, 4000000);
	assert_int_equal(v[2].price_from[0].days, D("2026-03-20").days);

	/* The cached loader gives the same, from the ledger once and from its
	 * memory after. */
	struct askue_tariff_cache *cache;
	assert_int_equal(askue_tariff_cache_new(&cache), ASKUE_OK);
	for (int round = 0; round < 2; round++) {
		struct askue_bill_version w[ASKUE_BILL_VERSIONS_MAX];
		int m = -1;
		assert_int_equal(askue_tariff_load_for_billing_cached(l, cache, sid, D("2026-03-01"),
		                                                      D("2026-04-01"), w,
		                                                      ASKUE_BILL_VERSIONS_MAX, &m),
		                 ASKUE_OK);
		assert_int_equal(m, 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(w[i].from.days, v[i].from.days);
			assert_int_equal(w[i].from_ts, v[i].from_ts);
			assert_string_equal(w[i].tariff, v[i].tariff);
			assert_int_equal(w[i].n_zones, v[i].n_zones);
			assert_int_equal(w[i].n_bands, v[i].n_bands);
			assert_memory_equal(w[i].price, v[i].price, sizeof w[i].price);
			assert_memory_equal(w[i].band_upto_wh, v[i].band_upto_wh, sizeof w[i].band_upto_wh);
		}
	}
	askue_tariff_cache_free(cache);
	askue_tariff_cache_free(NULL);

	/* April: bands end on the 15th; B's zone prices apply again. */
	assert_int_equal(askue_tariff_band(l, "B", D("2026-04-15"), NULL, 0, NULL, 0), ASKUE_OK);
	assert_int_equal(askue_tariff_load_for_billing(l, sid, D("2026-04-01"), D("2026-05-01"), v,
	                                               ASKUE_BILL_VERSIONS_MAX, &n),
	                 ASKUE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].n_bands, 3);
	assert_int_equal(v[1].n_bands, 0);
	assert_int_equal(v[1].price[0][0].micro_rub, 6120000);

	/* No choice at all; a choice of a tariff with no price: none in force. */
	assert_int_equal(askue_tariff_load_for_billing(l, sid2, D("2026-03-01"), D("2026-04-01"), v,
	                                               ASKUE_BILL_VERSIONS_MAX, &n),
	                 ASKUE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(askue_tariff_add(l, "C", NULL, D("2025-01-01")), ASKUE_OK);
	assert_int_equal(askue_tariff_choose(l, acc2, "C", D("2025-02-01")), ASKUE_OK);
	n = -1;
	assert_int_equal(askue_tariff_load_for_billing(l, sid2, D("2026-03-01"), D("2026-04-01"), v,
	                                               ASKUE_BILL_VERSIONS_MAX, &n),
	                 ASKUE_OK);
	assert_int_equal(n, 0);
	/* Too many versions for the caller's array. */
	assert_int_equal(askue_tariff_load_for_billing(l, sid, D("2026-03-01"), D("2026-04-01"), v,
	                                               2, &n),
	                 ASKUE_ERR_LIMIT);
	askue_ledger_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(versions_of_a_period),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
