/* cli — see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

struct askue_ledger *cli_ledger(struct askue_cli *cli)
{
	if (cli->ledger)
		return cli->ledger;
	enum askue_err err = askue_ledger_open(cli->cfg.ledger_path, cli->cfg.ledger_busy_timeout_ms,
	                                       cli->cfg.operator_name, &cli->ledger);
	if (err) {
		cli_fail(cli, err);
		return NULL;
	}
	return cli->ledger;
}

int cli_fail(struct askue_cli *cli, enum askue_err err)
{
	fprintf(stderr, "askue: %s: %s\n", cli->command, askue_err_msg());
	return askue_err_exit_code(err);
}

int cli_usage(struct askue_cli *cli, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "askue: %s: %s (see askue --help)\n", cli->command, msg);
	return EX_USAGE;
}

int cli_print_json(cJSON *value)
{
	char *s = value ? cJSON_PrintUnformatted(value) : NULL;
	cJSON_Delete(value);
	if (!s) {
		fprintf(stderr, "askue: out of memory\n");
		return EX_OSERR;
	}
	puts(s);
	free(s);
	return 0;
}

enum askue_err cli_date(const char *option, const char *text, struct askue_date *out)
{
	enum askue_err err = askue_date_parse(text, out);
	if (err)
		askue_err_prefix("%s: ", option);
	return err;
}

enum askue_err cli_int(const char *option, const char *text, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || v < lo || v > hi)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': expected a whole number %d..%d", option,
		                     text, lo, hi);
	*out = (int)v;
	return ASKUE_OK;
}

enum askue_err cli_id(const char *what, const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (!*text || *end || v < 1 || errno == ERANGE)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': expected a number", what, text);
	*out = v;
	return ASKUE_OK;
}

void cli_getopt_reset(void)
{
	optind = 0; /* GNU: re-initialise, permuting options after operands */
	opterr = 0;
}

int cli_string_options(struct askue_cli *cli, int argc, char **argv, const char *const *names,
                       const char **values)
{
	struct option opts[9] = {{0, 0, 0, 0}};
	int n = 0;
	for (; names[n]; n++) {
		if (n == 8)
			return cli_usage(cli, "internal: too many options");
		opts[n] = (struct option){names[n], required_argument, 0, 'A' + n};
		values[n] = NULL;
	}
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c < 'A' || c >= 'A' + n)
			return cli_bad_option(cli, c, argv);
		values[c - 'A'] = optarg;
	}
	return 0;
}

int cli_bad_option(struct askue_cli *cli, int c, char **argv)
{
	if (c == ':')
		return cli_usage(cli, "option '%s' needs a value", argv[optind - 1]);
	return cli_usage(cli, "unknown option '%s'", argv[optind - 1]);
}

void cli_json_add_date(cJSON *obj, const char *key, int has, struct askue_date d)
{
	char buf[ASKUE_DATE_BUF];
	if (has)
		cJSON_AddStringToObject(obj, key, askue_date_format(d, buf));
	else
		cJSON_AddNullToObject(obj, key);
}

void cli_json_add_kwh(cJSON *obj, const char *key, struct askue_energy e)
{
	char num[ASKUE_NUM_BUF];
	/* Raw, so the number is the exact decimal, not a double's nearest. */
	cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(askue_energy_format_kwh(e, num)));
}

void cli_json_add_money(cJSON *obj, const char *key, struct askue_money m)
{
	char num[ASKUE_NUM_BUF];
	cJSON_AddStringToObject(obj, key, askue_money_format(m, num));
}

static void add_opt_string(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *cli_json_subscriber(const struct askue_subscriber *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "account", s->account);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "address", s->address);
	cJSON_AddStringToObject(o, "district", s->district);
	cJSON_AddStringToObject(o, "substation", s->substation);
	cJSON_AddStringToObject(o, "category", s->category);
	cli_json_add_date(o, "registered", 1, s->registered);
	add_opt_string(o, "phone", s->phone);
	add_opt_string(o, "email", s->email);
	cJSON_AddStringToObject(o, "status", s->status);
	return o;
}

cJSON *cli_json_meter(const struct askue_meter *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "serial", m->serial);
	cJSON_AddStringToObject(o, "model", m->model);
	cJSON_AddStringToObject(o, "status", m->status);
	cli_json_add_date(o, "commissioned", 1, m->commissioned);
	cJSON_AddNumberToObject(o, "service_life_years", m->service_life_years);
	cli_json_add_date(o, "end_of_life", 1,
	                  askue_date_add_years(m->commissioned, m->service_life_years));
	cli_json_add_date(o, "decommissioned", m->has_decommissioned, m->decommissioned);
	add_opt_string(o, "warranty_card", m->warranty_card);
	cli_json_add_date(o, "warranty_until", m->has_warranty_until, m->warranty_until);
	cJSON_AddNumberToObject(o, "verification_interval_years", m->verification_interval_years);
	cli_json_add_date(o, "last_verified", m->has_last_verified, m->last_verified);
	struct askue_date base = m->has_last_verified ? m->last_verified : m->commissioned;
	cli_json_add_date(o, "verification_due", 1,
	                  askue_date_add_years(base, m->verification_interval_years));
	cJSON_AddNumberToObject(o, "zones", m->zones);
	cli_json_add_kwh(o, "capacity_kwh", (struct askue_energy){m->capacity_wh});
	add_opt_string(o, "concentrator", m->concentrator);
	add_opt_string(o, "account", m->account);
	cli_json_add_date(o, "installed", m->has_installed, m->installed);
	return o;
}
