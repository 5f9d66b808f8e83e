/* askue — the admin command line (DESIGN.md, "The operating surface").
 *
 *   askue [--config FILE] [--json] COMMAND ...
 *
 * main parses the global options, loads the configuration, finds the
 * command in the table below and runs it. Exit status 0 only on success;
 * errors go to stderr with sysexits.h codes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "log.h"

static const struct cli_command commands[] = {
	{"subscriber", "add", cmd_subscriber_add,
	 "--name N --address A [--district D] [--substation S] [--category household|other]"
	 " [--date D] [--phone P] [--email E]"},
	{"subscriber", "show", cmd_subscriber_show, "ACCOUNT"},
	{"subscriber", "find", cmd_subscriber_find, "TEXT [--limit N]"},
	{"subscriber", "set", cmd_subscriber_set,
	 "ACCOUNT [--name N] [--address A] [--district D] [--substation S] [--category C]"
	 " [--phone P] [--email E] [--status active|suspended|closed]"},
	{"meter", "add", cmd_meter_add,
	 "--serial S --model M --commissioned D --service-life YEARS [--zones 1|2|3]"
	 " [--warranty-card W --warranty-until D] [--verification-interval YEARS]"
	 " [--verified D] [--capacity KWH]"},
	{"meter", "show", cmd_meter_show, "SERIAL"},
	{"meter", "install", cmd_meter_install, "SERIAL ACCOUNT --date D [--reading KWH[,KWH..]]"},
	{"meter", "verify", cmd_meter_verify, "SERIAL --date D   (a verification passed)"},
	{"meter", "dismantle", cmd_meter_dismantle, "SERIAL --date D [--reading KWH[,KWH..]]"},
	{"meter", "credentials", cmd_meter_credentials, "SERIAL (prints a new MQTT password once)"},
	{"concentrator", "add", cmd_concentrator_add, "ID [--substation S] [--date D]"},
	{"concentrator", "bind", cmd_concentrator_bind, "ID SERIAL.."},
	{"concentrator", "unbind", cmd_concentrator_unbind, "SERIAL.."},
	{"concentrator", "show", cmd_concentrator_show, "ID"},
	{"concentrator", "credentials", cmd_concentrator_credentials,
	 "ID (prints a new MQTT password once)"},
	{"service", "credentials", cmd_service_credentials,
	 "ingestor|relay|jobs|stale|events [--name NAME] (prints a new MQTT password once)"},
	{"service", "revoke", cmd_service_revoke, "NAME (its clients are disconnected)"},
	{"service", "list", cmd_service_list, ""},
	{"tariff", "add", cmd_tariff_add, "NAME [--zones day=07-23,night=23-07] [--date D]"},
	{"tariff", "price", cmd_tariff_price, "NAME --from D ZONE=RUB_PER_KWH.."},
	{"tariff", "choose", cmd_tariff_choose, "ACCOUNT NAME --from D"},
	{"tariff", "show", cmd_tariff_show, "NAME"},
	{"tariff", "band", cmd_tariff_band, "NAME [--from D (--upto KWH[,KWH] ZONE=P1/P2[/P3].. | --none)]"},
	{NULL, "events", cmd_events, "[--type T] [--subject X] [--since D] [--after-id N] [--limit N]"},
	{NULL, "import", cmd_import, "subscribers|meters|installations FILE.csv"},
	{NULL, "export", cmd_export, "subscribers|meters|installations [FILE.csv]"},
	{NULL, "alerts", cmd_alerts, "[--open] [--kind K] [--subject S]"},
	{NULL, "anomalies", cmd_anomalies, "[--date D] [--kind K] [--csv]   (what job anomalies found on D)"},
	{"alert", "assign", cmd_alert_assign, "ID PERSON"},
	{"alert", "resolve", cmd_alert_resolve, "ID --outcome TEXT"},
	{NULL, "job", cmd_job,
	 "stale|lifecycle|rollup|billing|penalties|payments|anomalies|forecast [--period P] [--date D] [--dry-run]"},
	{"meter", "check", cmd_meter_check,
	 "SERIAL --date D [--time HH:MM] --reading KWH[,KWH..]   (a field check)"},
	{"reading", "add", cmd_reading_add,
	 "SERIAL --date D [--time HH:MM] --reading KWH[,KWH..] --source subscriber|controller"
	 " [--reason TEXT]   (a manual reading; at the instant of a stored one: a correction)"},
	{"reading", "list", cmd_reading_list, "SERIAL [--from D] [--to D]   (stored, with their source)"},
	{"forecast", "show", cmd_forecast_show,
	 "[--level all|district|substation] [--name N] [--date D]   (the coming days' energy and peak)"},
	{"report", "completeness", cmd_report_completeness,
	 "--date D [--csv FILE] [--missing-csv FILE]"},
	{"invoice", "list", cmd_invoice_list, "ACCOUNT"},
	{"invoice", "show", cmd_invoice_show, "NUMBER   (explains every number)"},
	{"invoice", "correct", cmd_invoice_correct,
	 "ACCOUNT --period P --reason TEXT [--date D] [--dry-run]   (a correction document)"},
	{"billing", "recalculate", cmd_billing_recalculate,
	 "--period P --reason TEXT [--date D] [--dry-run]   (differences, then corrections)"},
	{"billing", "exceptions", cmd_billing_exceptions,
	 "--period P [--csv FILE]   (not billed, estimated ...)"},
	{"invoice", "pdf", cmd_invoice_pdf,
	 "NUMBER [--out FILE] | --period P --dir DIR   (the documents to pay, with QR codes)"},
	{NULL, "pay", cmd_pay, "ACCOUNT AMOUNT [--date D] [--ref R]   (roubles: 1234.56)"},
	{NULL, "balance", cmd_balance, "ACCOUNT   (positive: owes; negative: credit)"},
	{"payments", "import", cmd_payments_import, "FILE.csv   (account,amount,date,ref)"},
	{"payments", "list", cmd_payments_list, "ACCOUNT"},
	{"payments", "suspense", cmd_payments_suspense, "[--all]"},
	{"payments", "assign", cmd_payments_assign, "SUSPENSE_ID ACCOUNT [--amount A] [--date D]"},
	{"payments", "reject", cmd_payments_reject, "SUSPENSE_ID --reason TEXT"},
	{"penalty", "show", cmd_penalty_show, "ACCOUNT [--date D]   (the day-by-day penalty calculation)"},
	{NULL, "debtors", cmd_debtors, "[--date D] [--csv FILE] [--restriction]   (aged debt, notices)"},
	{"config", "example", cmd_config_example, "(prints every setting with its default)"},
	{NULL, "user", cmd_user, "add NAME --role R | list | passwd NAME | disable NAME   (console users; password on stdin)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* The usage lines of the commands of GROUP (or of the one command CMD). */
static int group_usage(FILE *out, const char *group, const struct cli_command *cmd)
{
	int n = 0;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct cli_command *c = &commands[i];
		if (cmd ? c != cmd : (!c->group || strcmp(c->group, group)))
			continue;
		fprintf(out, "%s askue %s%s%s %s\n", n++ ? "      " : "usage:", c->group ? c->group : "",
		        c->group ? " " : "", c->name, c->usage);
	}
	return n;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: askue [--config FILE] [--json] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %s%s%s %s\n", commands[i].group ? commands[i].group : "",
		        commands[i].group ? " " : "", commands[i].name, commands[i].usage);
}

int main(int argc, char **argv)
{
	struct askue_cli cli = {0};
	const char *config_path = NULL;
	int i = 1;
	askue_log_init("askue");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			cli.json = 1;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "askue: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	const struct cli_command *cmd = NULL;
	for (size_t c = 0; c < N_COMMANDS && !cmd; c++) {
		if (commands[c].group) {
			if (!strcmp(argv[i], commands[c].group) && i + 1 < argc &&
			    !strcmp(argv[i + 1], commands[c].name))
				cmd = &commands[c];
		} else if (!strcmp(argv[i], commands[c].name)) {
			cmd = &commands[c];
		}
	}
	if (!cmd) {
		/* "askue invoice" or "askue invoice --help": the group's commands */
		int help = i + 1 < argc && is_help(argv[i + 1]);
		if ((i + 1 >= argc || help) && group_usage(help ? stdout : stderr, argv[i], NULL))
			return help ? 0 : EX_USAGE;
		fprintf(stderr, "askue: unknown command '%s%s%s'\n", argv[i], i + 1 < argc ? " " : "",
		        i + 1 < argc ? argv[i + 1] : "");
		usage(stderr);
		return EX_USAGE;
	}
	/* "askue COMMAND ... --help": its usage, nothing run (before "--") */
	for (int a = i + (cmd->group ? 2 : 1); a < argc && strcmp(argv[a], "--"); a++) {
		if (is_help(argv[a])) {
			group_usage(stdout, NULL, cmd);
			return 0;
		}
	}
	char command[64];
	snprintf(command, sizeof command, "%s%s%s", cmd->group ? cmd->group : "",
	         cmd->group ? " " : "", cmd->name);
	cli.command = command;
	if (cmd->group)
		i++;

	enum askue_err err = askue_config_load(config_path, &cli.cfg);
	if (!err)
		err = askue_config_apply(&cli.cfg);
	if (err) {
		fprintf(stderr, "askue: %s\n", askue_err_msg());
		return askue_err_exit_code(err);
	}
	int rc = cmd->run(&cli, argc - i, argv + i);
	askue_ledger_close(cli.ledger);
	return rc;
}
