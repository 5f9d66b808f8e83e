/* tariff band — volume bands of a tariff (household ranges: 1 up to 3,900
 * kWh a month, 2 up to 6,000, 3 above), each band with its own price per
 * zone, from a date on:
 *   askue tariff band NAME --from D --upto 3900,6000 day=6.12/7.30/9.80 night=3.40/4.05/5.45
 *   askue tariff band NAME --from D --none      (no bands from D on)
 *   askue tariff band NAME                      (the band history)
 * While bands are in force their prices replace the tariff's zone prices. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int parse_limits(struct askue_cli *cli, const char *s, int64_t *upto, int *n)
{
	char buf[128];
	if (strlen(s) >= sizeof buf)
		return cli_usage(cli, "--upto: too long");
	snprintf(buf, sizeof buf, "%s", s);
	*n = 0;
	char *save = NULL;
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		struct askue_energy e;
		if (*n == ASKUE_BILL_BANDS_MAX - 1)
			return cli_usage(cli, "--upto: at most %d limits (%d bands)",
			                 ASKUE_BILL_BANDS_MAX - 1, ASKUE_BILL_BANDS_MAX);
		enum askue_err err = askue_energy_parse_kwh(p, &e);
		if (err) {
			askue_err_prefix("--upto: ");
			return cli_fail(cli, err);
		}
		upto[(*n)++] = e.wh;
	}
	return *n ? 0 : cli_usage(cli, "--upto: expected KWH[,KWH], e.g. 3900,6000");
}

/* "day=6.12/7.30/9.80": one price per band. */
static int parse_zone(struct askue_cli *cli, const char *arg, int bands,
                      struct askue_band_prices *out)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof out->zone)
		return cli_usage(cli, "'%s': expected ZONE=P1/P2[/P3], e.g. day=6.12/7.30/9.80", arg);
	snprintf(out->zone, sizeof out->zone, "%.*s", (int)(eq - arg), arg);
	char buf[128];
	if (strlen(eq + 1) >= sizeof buf)
		return cli_usage(cli, "'%s': too long", arg);
	snprintf(buf, sizeof buf, "%s", eq + 1);
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == bands)
			return cli_usage(cli, "zone %s: %d prices expected (one per band)", out->zone, bands);
		enum askue_err err = askue_price_parse(p, &out->price[n++]);
		if (err) {
			askue_err_prefix("zone %s: ", out->zone);
			return cli_fail(cli, err);
		}
	}
	if (n != bands)
		return cli_usage(cli, "zone %s: %d prices expected (one per band)", out->zone, bands);
	return 0;
}

static int show_bands(struct askue_cli *cli, const char *name)
{
	static const char sets_sql[] =
		"SELECT b.valid_from, b.bands, b.upto1_wh, b.upto2_wh FROM tariff_band_set b"
		" JOIN tariff t ON t.id = b.tariff_id WHERE t.name = ? ORDER BY b.valid_from";
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_tariff t;
	sqlite3_stmt *st;
	enum askue_err err = askue_tariff_get(l, name, &t);
	if (err || (err = askue_ledger_stmt(l, sets_sql, &st)))
		return cli_fail(cli, err);
	askue_bind_text(st, 1, name);
	cJSON *list = cJSON_CreateArray();
	char num[ASKUE_NUM_BUF];
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		int bands = sqlite3_column_int(st, 1);
		cJSON_AddStringToObject(o, "from", askue_column_text(st, 0));
		cJSON_AddNumberToObject(o, "bands", bands);
		cJSON *up = cJSON_AddArrayToObject(o, "upto_kwh");
		if (!cli->json)
			printf("from %s  %s", askue_column_text(st, 0), bands ? "bands up to" : "no bands");
		for (int b = 0; b + 1 < bands; b++) {
			struct askue_energy e = {sqlite3_column_int64(st, 2 + b)};
			cJSON_AddItemToArray(up, cJSON_CreateRaw(askue_energy_format_kwh(e, num)));
			if (!cli->json)
				printf(" %s", num);
		}
		if (!cli->json)
			printf("%s\n", bands ? " kWh a month" : "");
		cJSON_AddItemToArray(list, o);
	}
	sqlite3_reset(st);
	if (cli->json)
		return cli_print_json(list);
	cJSON_Delete(list);
	return 0;
}

int cmd_tariff_band(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"from", "upto", NULL};
	const char *v[2];
	int none = 0;
	for (int i = 1; i < argc; i++) /* --none is a flag; the rest are --NAME VALUE */
		if (!strcmp(argv[i], "--none")) {
			none = 1;
			for (int k = i; k + 1 <= argc; k++)
				argv[k] = argv[k + 1];
			argc--;
			break;
		}
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (argc - optind < 1)
		return cli_usage(cli, "expected NAME");
	if (!v[0]) {
		if (v[1] || none || argc - optind != 1)
			return cli_usage(cli, "--from is required");
		return show_bands(cli, argv[optind]);
	}
	struct askue_date d;
	enum askue_err err = cli_date("--from", v[0], &d);
	if (err)
		return cli_fail(cli, err);
	int64_t upto[ASKUE_BILL_BANDS_MAX] = {0};
	int n_limits = 0, n = 0;
	struct askue_band_prices prices[ASKUE_ZONES_MAX];
	if (none != !v[1])
		return cli_usage(cli, "give either --upto KWH[,KWH] with the prices, or --none");
	if (v[1] && (rc = parse_limits(cli, v[1], upto, &n_limits)))
		return rc;
	for (int i = optind + 1; i < argc; i++) {
		if (n == ASKUE_ZONES_MAX)
			return cli_usage(cli, "at most %d zones", ASKUE_ZONES_MAX);
		if ((rc = parse_zone(cli, argv[i], n_limits + 1, &prices[n++])))
			return rc;
	}
	if (none && n)
		return cli_usage(cli, "--none takes no prices");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_tariff_band(l, argv[optind], d, upto, n_limits, prices, n)))
		return cli_fail(cli, err);
	if (cli->json)
		return show_bands(cli, argv[optind]);
	printf("tariff %s: %s from %s\n", argv[optind], none ? "no bands" : "bands", v[0]);
	return 0;
}
