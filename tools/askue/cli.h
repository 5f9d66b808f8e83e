/* cli — what every `askue` command shares: the configuration, the ledger
 * (opened on first use), --json output and error reporting.
 *
 * A command is a function (struct askue_cli *, argc, argv) -> exit status;
 * argv[0] is the command's last word. It reports an error once, with
 * cli_fail, which prints "askue: COMMAND: message" on stderr and returns
 * the sysexits code.
 */
#ifndef ASKUE_CLI_H
#define ASKUE_CLI_H

#include <cjson/cJSON.h>
#include <getopt.h>
#include <sysexits.h>

#include "config.h"
#include "date.h"
#include "err.h"
#include "ledger.h"
#include "registry.h"

struct askue_cli {
	struct askue_config cfg;
	struct askue_ledger *ledger;
	int json;
	const char *command; /* "subscriber add" */
};

struct cli_command {
	const char *group; /* "subscriber"; NULL for one-word commands */
	const char *name;  /* "add" */
	int (*run)(struct askue_cli *cli, int argc, char **argv);
	const char *usage;
};

/* The ledger, opened on first use; NULL after cli_fail was reported. */
struct askue_ledger *cli_ledger(struct askue_cli *cli);
/* Report err (askue_err_msg) and return its exit code. */
int cli_fail(struct askue_cli *cli, enum askue_err err);
/* Report a usage error and return EX_USAGE. */
int cli_usage(struct askue_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a JSON value on stdout (takes it) and return 0. */
int cli_print_json(cJSON *value);

/* Parse an option's date (YYYY-MM-DD) / a date that defaults to today. */
ASKUE_MUST enum askue_err cli_date(const char *option, const char *text, struct askue_date *out);
/* Parse a positive integer option within lo..hi. */
ASKUE_MUST enum askue_err cli_int(const char *option, const char *text, int lo, int hi, int *out);
/* A row id (alert, suspense ...): a whole number >= 1; what names it in the
 * message ("alert id 'x': expected a number"). */
ASKUE_MUST enum askue_err cli_id(const char *what, const char *text, int64_t *out);
/* Reset getopt for a command's own options (argv[0] is the command). */
void cli_getopt_reset(void);
/* Parse a command's string options, all of the form --NAME VALUE:
 * names[] ends with NULL, values[i] gets the value of names[i] (NULL when
 * not given). Returns 0 with optind at the first operand, or the exit
 * status of a usage error it reported. At most 8 names. */
int cli_string_options(struct askue_cli *cli, int argc, char **argv, const char *const *names,
                       const char **values);
/* Standard unknown/missing-argument handling for getopt_long's '?' and ':'. */
int cli_bad_option(struct askue_cli *cli, int c, char **argv);

/* JSON helpers */
cJSON *cli_json_subscriber(const struct askue_subscriber *s);
cJSON *cli_json_meter(const struct askue_meter *m);
void cli_json_add_date(cJSON *obj, const char *key, int has, struct askue_date d);
/* Energy as an exact JSON number of kWh; money as a string of roubles. */
void cli_json_add_kwh(cJSON *obj, const char *key, struct askue_energy e);
void cli_json_add_money(cJSON *obj, const char *key, struct askue_money m);

/* Commands, one file per noun. */
int cmd_subscriber_add(struct askue_cli *, int, char **);
int cmd_subscriber_show(struct askue_cli *, int, char **);
int cmd_subscriber_find(struct askue_cli *, int, char **);
int cmd_subscriber_set(struct askue_cli *, int, char **);
int cmd_meter_verify(struct askue_cli *, int, char **);
int cmd_meter_add(struct askue_cli *, int, char **);
int cmd_meter_show(struct askue_cli *, int, char **);
int cmd_meter_install(struct askue_cli *, int, char **);
int cmd_meter_dismantle(struct askue_cli *, int, char **);
int cmd_meter_credentials(struct askue_cli *, int, char **);
int cmd_concentrator_add(struct askue_cli *, int, char **);
int cmd_concentrator_bind(struct askue_cli *, int, char **);
int cmd_concentrator_unbind(struct askue_cli *, int, char **);
int cmd_concentrator_show(struct askue_cli *, int, char **);
int cmd_concentrator_credentials(struct askue_cli *, int, char **);
int cmd_service_credentials(struct askue_cli *, int, char **);
int cmd_service_revoke(struct askue_cli *, int, char **);
int cmd_service_list(struct askue_cli *, int, char **);
int cmd_tariff_add(struct askue_cli *, int, char **);
int cmd_tariff_price(struct askue_cli *, int, char **);
int cmd_tariff_choose(struct askue_cli *, int, char **);
int cmd_tariff_show(struct askue_cli *, int, char **);
int cmd_tariff_band(struct askue_cli *, int, char **);
int cmd_events(struct askue_cli *, int, char **);
int cmd_import(struct askue_cli *, int, char **);
int cmd_export(struct askue_cli *, int, char **);
int cmd_config_example(struct askue_cli *, int, char **);
int cmd_alerts(struct askue_cli *, int, char **);
int cmd_anomalies(struct askue_cli *, int, char **);
int cmd_alert_assign(struct askue_cli *, int, char **);
int cmd_alert_resolve(struct askue_cli *, int, char **);
int cmd_job(struct askue_cli *, int, char **);
int cmd_meter_check(struct askue_cli *, int, char **);
int cmd_reading_add(struct askue_cli *, int, char **);
int cmd_reading_list(struct askue_cli *, int, char **);
int cmd_forecast_show(struct askue_cli *cli, int argc, char **argv);
int cmd_report_completeness(struct askue_cli *, int, char **);
int cmd_pay(struct askue_cli *, int, char **);
int cmd_balance(struct askue_cli *, int, char **);
int cmd_payments_import(struct askue_cli *, int, char **);
int cmd_payments_list(struct askue_cli *, int, char **);
int cmd_payments_suspense(struct askue_cli *, int, char **);
int cmd_payments_assign(struct askue_cli *, int, char **);
int cmd_payments_reject(struct askue_cli *, int, char **);
int cmd_penalty_show(struct askue_cli *, int, char **);
int cmd_debtors(struct askue_cli *, int, char **);
int cmd_invoice_list(struct askue_cli *, int, char **);
int cmd_invoice_show(struct askue_cli *, int, char **);
int cmd_invoice_correct(struct askue_cli *, int, char **);
int cmd_billing_recalculate(struct askue_cli *, int, char **);
int cmd_billing_exceptions(struct askue_cli *, int, char **);
int cmd_invoice_pdf(struct askue_cli *, int, char **);
int cmd_user(struct askue_cli *, int, char **);
/* An invoice whole as JSON (DESIGN.md: number, account, period, due, total,
 * lines ...), for invoice show and whoever prints one. */
struct askue_invoice;
cJSON *cli_json_invoice(const struct askue_invoice *inv);

#endif
