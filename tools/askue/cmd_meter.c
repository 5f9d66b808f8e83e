/* meter add | show | install | dismantle */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int copy_arg(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int cmd_meter_add(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"serial", required_argument, 0, 's'},
		{"model", required_argument, 0, 'm'},
		{"commissioned", required_argument, 0, 'c'},
		{"service-life", required_argument, 0, 'l'},
		{"zones", required_argument, 0, 'z'},
		{"warranty-card", required_argument, 0, 'w'},
		{"warranty-until", required_argument, 0, 'u'},
		{"verification-interval", required_argument, 0, 'v'},
		{"verified", required_argument, 0, 'V'},
		{"capacity", required_argument, 0, 'C'},
		{0, 0, 0, 0},
	};
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	int c, have_commissioned = 0;
	enum askue_err err = ASKUE_OK;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1 && !err) {
		struct askue_energy cap;
		switch (c) {
		case 's':
			if (copy_arg(m.serial, sizeof m.serial, optarg))
				return cli_usage(cli, "--serial: longer than %d bytes", ASKUE_SERIAL_BYTES_MAX);
			break;
		case 'm':
			if (copy_arg(m.model, sizeof m.model, optarg))
				return cli_usage(cli, "--model: too long");
			break;
		case 'w':
			if (copy_arg(m.warranty_card, sizeof m.warranty_card, optarg))
				return cli_usage(cli, "--warranty-card: too long");
			break;
		case 'c': err = cli_date("--commissioned", optarg, &m.commissioned); have_commissioned = 1; break;
		case 'u': err = cli_date("--warranty-until", optarg, &m.warranty_until); m.has_warranty_until = 1; break;
		case 'V': err = cli_date("--verified", optarg, &m.last_verified); m.has_last_verified = 1; break;
		case 'l': err = cli_int("--service-life", optarg, 1, 60, &m.service_life_years); break;
		case 'z': err = cli_int("--zones", optarg, 1, 3, &m.zones); break;
		case 'v': err = cli_int("--verification-interval", optarg, 1, 60, &m.verification_interval_years); break;
		case 'C':
			if (!(err = askue_energy_parse_kwh(optarg, &cap)))
				m.capacity_wh = cap.wh;
			else
				askue_err_prefix("--capacity: ");
			break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (err)
		return cli_fail(cli, err);
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!m.serial[0] || !m.model[0] || !have_commissioned || !m.service_life_years)
		return cli_usage(cli, "--serial, --model, --commissioned and --service-life are required");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_meter_add(l, &m)))
		return cli_fail(cli, err);
	if ((err = askue_meter_get(l, m.serial, &m)))
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(cli_json_meter(&m));
	printf("%s\n", m.serial);
	return 0;
}

int cmd_meter_show(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(cli, "expected SERIAL");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_meter m;
	enum askue_err err = askue_meter_get(l, argv[1], &m);
	if (err)
		return cli_fail(cli, err);
	cJSON *o = cli_json_meter(&m);
	if (cli->json)
		return cli_print_json(o);
	/* Text: the same fields, one per line. */
	for (cJSON *it = o->child; it; it = it->next) {
		char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
		printf("%-28s %s\n", it->string,
		       cJSON_IsString(it) ? it->valuestring : cJSON_IsNull(it) ? "-" : v);
		cJSON_free(v);
	}
	cJSON_Delete(o);
	return 0;
}

/* SERIAL [ACCOUNT] --date D [--reading KWH[,KWH..]] */
static int install_or_dismantle(struct askue_cli *cli, int argc, char **argv, int install)
{
	static const char *const names[] = {"date", "reading", NULL};
	const char *v[2];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	const char *date = v[0], *reading = v[1];
	int want = install ? 2 : 1;
	if (argc - optind != want)
		return cli_usage(cli, install ? "expected SERIAL ACCOUNT" : "expected SERIAL");
	if (!date)
		return cli_usage(cli, "--date is required");
	const char *serial = argv[optind], *account = install ? argv[optind + 1] : NULL;
	struct askue_date d;
	enum askue_err err = cli_date("--date", date, &d);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_meter m;
	struct askue_registers regs = {0};
	if ((err = askue_meter_get(l, serial, &m)))
		return cli_fail(cli, err);
	if (reading && (err = askue_registers_parse(reading, m.zones, &regs))) {
		askue_err_prefix("meter %s: --reading: ", serial);
		return cli_fail(cli, err);
	}
	err = install ? askue_meter_install(l, serial, account, d, &regs)
	              : askue_meter_dismantle(l, serial, d, &regs);
	if (err)
		return cli_fail(cli, err);
	if ((err = askue_meter_get(l, serial, &m)))
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(cli_json_meter(&m));
	char ds[ASKUE_DATE_BUF];
	if (install)
		printf("meter %s installed at account %s on %s\n", serial, account,
		       askue_date_format(d, ds));
	else
		printf("meter %s dismantled on %s\n", serial, askue_date_format(d, ds));
	return 0;
}

int cmd_meter_install(struct askue_cli *cli, int argc, char **argv)
{
	return install_or_dismantle(cli, argc, argv, 1);
}

int cmd_meter_dismantle(struct askue_cli *cli, int argc, char **argv)
{
	return install_or_dismantle(cli, argc, argv, 0);
}

int cmd_meter_verify(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"date", NULL};
	const char *date;
	int rc = cli_string_options(cli, argc, argv, names, &date);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected SERIAL");
	if (!date)
		return cli_usage(cli, "--date is required");
	struct askue_date d;
	enum askue_err err = cli_date("--date", date, &d);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_meter m;
	if ((err = askue_meter_verified(l, argv[optind], d)) ||
	    (err = askue_meter_get(l, argv[optind], &m)))
		return cli_fail(cli, err);
	if (cli->json)
		return cli_print_json(cli_json_meter(&m));
	char due[ASKUE_DATE_BUF];
	printf("meter %s verified on %s; next verification due %s\n", m.serial, date,
	       askue_date_format(askue_date_add_years(d, m.verification_interval_years), due));
	return 0;
}
