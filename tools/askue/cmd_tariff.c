/* tariff add | price | choose | show */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_tariff_add(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"zones", "date", NULL};
	const char *v[2];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	const char *zones = v[0], *date = v[1];
	if (argc - optind != 1)
		return cli_usage(cli, "expected NAME");
	struct askue_date d = askue_date_today();
	enum askue_err err;
	if (date && (err = cli_date("--date", date, &d)))
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_tariff_add(l, argv[optind], zones, d)))
		return cli_fail(cli, err);
	if (cli->json) {
		char *show_argv[] = {"show", argv[optind], NULL};
		return cmd_tariff_show(cli, 2, show_argv);
	}
	printf("tariff %s added\n", argv[optind]);
	return 0;
}

int cmd_tariff_price(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"from", NULL};
	const char *from;
	int rc = cli_string_options(cli, argc, argv, names, &from);
	if (rc)
		return rc;
	if (argc - optind < 2)
		return cli_usage(cli, "expected NAME ZONE=RUB_PER_KWH..");
	if (!from)
		return cli_usage(cli, "--from is required");
	struct askue_date d;
	enum askue_err err = cli_date("--from", from, &d);
	if (err)
		return cli_fail(cli, err);
	struct askue_zone_price prices[ASKUE_ZONES_MAX * 2];
	int n = 0;
	for (int i = optind + 1; i < argc; i++) {
		if (n == (int)(sizeof prices / sizeof prices[0]))
			return cli_usage(cli, "too many prices");
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof prices[n].zone)
			return cli_usage(cli, "'%s': expected ZONE=RUB_PER_KWH, e.g. day=6.12", argv[i]);
		snprintf(prices[n].zone, sizeof prices[n].zone, "%.*s", (int)(eq - argv[i]), argv[i]);
		if ((err = askue_price_parse(eq + 1, &prices[n].price))) {
			askue_err_prefix("zone %s: ", prices[n].zone);
			return cli_fail(cli, err);
		}
		n++;
	}
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_tariff_price(l, argv[optind], d, prices, n)))
		return cli_fail(cli, err);
	if (cli->json) {
		char *show_argv[] = {"show", argv[optind], NULL};
		return cmd_tariff_show(cli, 2, show_argv);
	}
	printf("tariff %s: %d price%s from %s\n", argv[optind], n, n == 1 ? "" : "s", from);
	return 0;
}

int cmd_tariff_choose(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"from", NULL};
	const char *from;
	int rc = cli_string_options(cli, argc, argv, names, &from);
	if (rc)
		return rc;
	if (argc - optind != 2)
		return cli_usage(cli, "expected ACCOUNT NAME");
	if (!from)
		return cli_usage(cli, "--from is required");
	struct askue_date d;
	enum askue_err err = cli_date("--from", from, &d);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_tariff_choose(l, argv[optind], argv[optind + 1], d)))
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "account", argv[optind]);
		cJSON_AddStringToObject(o, "tariff", argv[optind + 1]);
		cli_json_add_date(o, "from", 1, d);
		return cli_print_json(o);
	}
	printf("account %s: tariff %s from %s\n", argv[optind], argv[optind + 1], from);
	return 0;
}

int cmd_tariff_show(struct askue_cli *cli, int argc, char **argv)
{
	static const char prices_sql[] =
		"SELECT valid_from, price_micro_rub FROM tariff_price"
		" WHERE tariff_id = ? AND zone_idx = ? ORDER BY valid_from";
	if (argc != 2)
		return cli_usage(cli, "expected NAME");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_tariff t;
	enum askue_err err = askue_tariff_get(l, argv[1], &t);
	if (err)
		return cli_fail(cli, err);
	cJSON *o = cJSON_CreateObject(), *zones = NULL;
	cJSON_AddStringToObject(o, "name", t.name);
	cli_json_add_date(o, "created", 1, t.created);
	zones = cJSON_AddArrayToObject(o, "zones");
	if (!cli->json)
		printf("tariff %s\n", t.name);
	for (int z = 0; z < t.n_zones; z++) {
		cJSON *zo = cJSON_CreateObject();
		cJSON_AddStringToObject(zo, "name", t.zones[z].name);
		cJSON_AddStringToObject(zo, "hours", t.zones[z].spans);
		char reg[16];
		snprintf(reg, sizeof reg, "1.8.%d", t.zones[z].idx);
		cJSON_AddStringToObject(zo, "register", reg);
		cJSON *hist = cJSON_AddArrayToObject(zo, "prices");
		if (!cli->json)
			printf("  zone %-8s hours %-12s register %s\n", t.zones[z].name, t.zones[z].spans,
			       reg);
		sqlite3_stmt *st;
		if ((err = askue_ledger_stmt(l, prices_sql, &st))) {
			cJSON_Delete(o);
			return cli_fail(cli, err);
		}
		sqlite3_bind_int64(st, 1, t.id);
		sqlite3_bind_int(st, 2, t.zones[z].idx);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char num[ASKUE_NUM_BUF];
			struct askue_price p = {sqlite3_column_int64(st, 1)};
			cJSON *po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "from", askue_column_text(st, 0));
			cJSON_AddStringToObject(po, "price", askue_price_format(p, num));
			cJSON_AddItemToArray(hist, po);
			if (!cli->json)
				printf("    from %s  %s RUB/kWh\n", askue_column_text(st, 0), num);
		}
		sqlite3_reset(st);
		cJSON_AddItemToArray(zones, zo);
	}
	if (cli->json)
		return cli_print_json(o);
	cJSON_Delete(o);
	return 0;
}
