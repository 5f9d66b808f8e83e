/* meter credentials | concentrator add | bind | unbind | show | credentials |
 * service credentials | revoke | list — the MQTT identities of the broker
 * plugin.
 *
 * A password is printed once, on stdout (alone, or with --json as
 * {"serial"|"concentrator"|"name", "username", "password"}); the ledger keeps
 * only its salted hash. The broker picks a change up within its reload
 * interval (plugin_opt_reload_s), without a restart.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "concentrator.h"
#include "credentials.h"

/* Print the issued password (and wipe it). key/value names the entity. */
static int print_password(struct askue_cli *cli, const char *key, const char *value,
                          const char *role, char password[ASKUE_SECRET_TEXT_BUF])
{
	int rc = 0;
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, key, value);
		if (role)
			cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "username", value);
		cJSON_AddStringToObject(o, "password", password);
		rc = cli_print_json(o);
	} else {
		printf("%s\n", password);
	}
	fflush(stdout);
	sodium_memzero(password, ASKUE_SECRET_TEXT_BUF);
	return rc;
}

static int no_options(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return cli_bad_option(cli, c, argv);
	return 0;
}

int cmd_meter_credentials(struct askue_cli *cli, int argc, char **argv)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected SERIAL");
	const char *serial = argv[optind];
	enum askue_err err;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char password[ASKUE_SECRET_TEXT_BUF];
	if ((err = askue_cred_init()) || (err = askue_cred_issue_meter(l, serial, password)))
		return cli_fail(cli, err);
	return print_password(cli, "serial", serial, NULL, password);
}

int cmd_concentrator_add(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"substation", required_argument, 0, 's'},
	                                     {"date", required_argument, 0, 'd'},
	                                     {0, 0, 0, 0}};
	const char *substation = "", *date = NULL;
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 's')
			substation = optarg;
		else if (c == 'd')
			date = optarg;
		else
			return cli_bad_option(cli, c, argv);
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected ID");
	const char *ident = argv[optind];
	struct askue_date d = askue_date_today();
	enum askue_err err;
	if (date && (err = cli_date("--date", date, &d)))
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char ds[ASKUE_DATE_BUF];
	struct askue_concentrator conc;
	if ((err = askue_concentrator_add(l, ident, substation, askue_date_format(d, ds))) ||
	    (err = askue_concentrator_get(l, ident, &conc)))
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "concentrator", conc.ident);
		cJSON_AddStringToObject(o, "substation", conc.substation);
		cJSON_AddStringToObject(o, "created", conc.created);
		return cli_print_json(o);
	}
	printf("%s\n", conc.ident);
	return 0;
}

static int bind_or_unbind(struct askue_cli *cli, int argc, char **argv, int bind)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	int first = optind + (bind ? 1 : 0);
	if (argc - first < 1)
		return cli_usage(cli, bind ? "expected ID SERIAL.." : "expected SERIAL..");
	const char *ident = bind ? argv[optind] : NULL;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = askue_concentrator_bind(l, ident, argv + first, argc - first);
	if (err)
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *a = cJSON_AddArrayToObject(o, "meters");
		if (ident)
			cJSON_AddStringToObject(o, "concentrator", ident);
		else
			cJSON_AddNullToObject(o, "concentrator");
		for (int i = first; i < argc; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
		return cli_print_json(o);
	}
	if (ident)
		printf("%d meter%s bound to concentrator %s\n", argc - first, argc - first == 1 ? "" : "s",
		       ident);
	else
		printf("%d meter%s unbound\n", argc - first, argc - first == 1 ? "" : "s");
	return 0;
}

int cmd_concentrator_bind(struct askue_cli *cli, int argc, char **argv)
{
	return bind_or_unbind(cli, argc, argv, 1);
}

int cmd_concentrator_unbind(struct askue_cli *cli, int argc, char **argv)
{
	return bind_or_unbind(cli, argc, argv, 0);
}

static int add_meter(const char *serial, const char *status, void *arg)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "serial", serial);
	cJSON_AddStringToObject(m, "status", status);
	cJSON_AddItemToArray(arg, m);
	return 0;
}

int cmd_concentrator_show(struct askue_cli *cli, int argc, char **argv)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected ID");
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_concentrator conc;
	enum askue_err err = askue_concentrator_get(l, argv[optind], &conc);
	if (err)
		return cli_fail(cli, err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "concentrator", conc.ident);
	cJSON_AddStringToObject(o, "substation", conc.substation);
	cJSON_AddStringToObject(o, "created", conc.created);
	cJSON_AddBoolToObject(o, "credentials", conc.has_secret);
	cJSON *a = cJSON_AddArrayToObject(o, "meters");
	if ((err = askue_concentrator_meters(l, conc.ident, add_meter, a))) {
		cJSON_Delete(o);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(o);
	printf("concentrator  %s\nsubstation    %s\ncreated       %s\ncredentials   %s\n",
	       conc.ident, conc.substation[0] ? conc.substation : "-", conc.created,
	       conc.has_secret ? "issued" : "none");
	for (cJSON *m = a->child; m; m = m->next)
		printf("meter         %s (%s)\n", cJSON_GetObjectItem(m, "serial")->valuestring,
		       cJSON_GetObjectItem(m, "status")->valuestring);
	cJSON_Delete(o);
	return 0;
}

int cmd_concentrator_credentials(struct askue_cli *cli, int argc, char **argv)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected ID");
	const char *ident = argv[optind];
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char password[ASKUE_SECRET_TEXT_BUF];
	enum askue_err err;
	if ((err = askue_cred_init()) || (err = askue_cred_issue_concentrator(l, ident, password)))
		return cli_fail(cli, err);
	return print_password(cli, "concentrator", ident, NULL, password);
}

int cmd_service_credentials(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"name", NULL};
	const char *name;
	int rc = cli_string_options(cli, argc, argv, names, &name);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected ROLE (ingestor | relay | jobs | stale | events)");
	enum askue_role role;
	enum askue_err err;
	if ((err = askue_role_parse(argv[optind], &role)))
		return cli_fail(cli, err);
	/* The default name is the one the programs' configuration defaults to
	 * (ingestor.username = askue-ingestor). */
	char def[ASKUE_SERVICE_NAME_BYTES_MAX + 1];
	snprintf(def, sizeof def, "askue-%s", askue_role_name(role));
	if (!name)
		name = def;
	if ((err = askue_service_name_check(name)))
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char password[ASKUE_SECRET_TEXT_BUF];
	if ((err = askue_cred_init()) || (err = askue_cred_issue_service(l, role, name, password)))
		return cli_fail(cli, err);
	return print_password(cli, "name", name, askue_role_name(role), password);
}

int cmd_service_revoke(struct askue_cli *cli, int argc, char **argv)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "expected NAME");
	const char *name = argv[optind];
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = askue_cred_revoke_service(l, name);
	if (err)
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddBoolToObject(o, "revoked", 1);
		return cli_print_json(o);
	}
	printf("service account %s revoked\n", name);
	return 0;
}

static void add_time(cJSON *o, const char *key, int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;
	if (t > 0 && gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		cJSON_AddStringToObject(o, key, buf);
	else
		cJSON_AddNullToObject(o, key);
}

static int add_account(const struct askue_service_account *a, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "role", a->role);
	add_time(o, "issued", a->issued);
	add_time(o, "created", a->created);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

int cmd_service_list(struct askue_cli *cli, int argc, char **argv)
{
	int rc = no_options(cli, argc, argv);
	if (rc)
		return rc;
	if (argc - optind != 0)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	cJSON *a = cJSON_CreateArray();
	enum askue_err err = askue_service_each(l, add_account, a);
	if (err) {
		cJSON_Delete(a);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(a);
	for (cJSON *o = a->child; o; o = o->next) {
		const char *issued = cJSON_GetStringValue(cJSON_GetObjectItem(o, "issued"));
		printf("%-24s %-10s issued %s\n", cJSON_GetObjectItem(o, "name")->valuestring,
		       cJSON_GetObjectItem(o, "role")->valuestring, issued ? issued : "-");
	}
	cJSON_Delete(a);
	return 0;
}
