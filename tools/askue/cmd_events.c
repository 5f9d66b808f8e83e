/* events [--type T] [--subject X] [--since D] [--after-id N] [--limit N]; config example */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "journal.h"

struct events_ctx {
	cJSON *list;
};

static int print_event(const struct askue_event *ev, void *arg)
{
	struct events_ctx *ctx = arg;
	char stamp[32];
	time_t t = (time_t)ev->time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &tm);
	if (ctx->list) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)ev->id);
		cJSON_AddStringToObject(o, "type", ev->type);
		cJSON_AddStringToObject(o, "time", stamp);
		cJSON_AddStringToObject(o, "subject", ev->subject);
		cJSON_AddStringToObject(o, "operator", ev->operator_name);
		cJSON *d = cJSON_Parse(ev->details);
		cJSON_AddItemToObject(o, "details", d ? d : cJSON_CreateObject());
		cJSON_AddItemToArray(ctx->list, o);
	} else {
		printf("%lld  %s  %-26s %-14s %s  %s\n", (long long)ev->id, stamp, ev->type, ev->subject,
		       ev->operator_name, ev->details);
	}
	return 0;
}

int cmd_events(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"type", required_argument, 0, 't'},  {"subject", required_argument, 0, 's'},
		{"since", required_argument, 0, 'S'}, {"limit", required_argument, 0, 'l'},
		{"after-id", required_argument, 0, 'a'}, {0, 0, 0, 0}};
	struct askue_journal_filter f = {0};
	int c, limit = 0;
	enum askue_err err = ASKUE_OK;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1 && !err) {
		struct askue_date d;
		switch (c) {
		case 't': f.type = optarg; break;
		case 's': f.subject = optarg; break;
		case 'S':
			if (!(err = cli_date("--since", optarg, &d)))
				err = askue_date_start(d, &f.since);
			break;
		case 'l': err = cli_int("--limit", optarg, 1, 1000000, &limit); break;
		case 'a': {
			char *end;
			long long id = strtoll(optarg, &end, 10);
			if (!*optarg || *end || id < 0)
				err = askue_err_set(ASKUE_ERR_INVALID,
				                    "--after-id '%s': expected an event id (0 or more)", optarg);
			f.after_id = id;
			break;
		}
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (err)
		return cli_fail(cli, err);
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	f.limit = limit;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct events_ctx ctx = {.list = cli->json ? cJSON_CreateArray() : NULL};
	if ((err = askue_journal_each(l, &f, print_event, &ctx))) {
		cJSON_Delete(ctx.list);
		return cli_fail(cli, err);
	}
	return ctx.list ? cli_print_json(ctx.list) : 0;
}

int cmd_config_example(struct askue_cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cli_usage(cli, "no arguments expected");
	askue_config_write_example(stdout);
	return 0;
}
