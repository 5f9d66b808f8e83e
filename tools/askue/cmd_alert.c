/* alerts [--open] [--kind K] [--subject S]; alert assign ID PERSON;
 * alert resolve ID --outcome TEXT — operations' work list (lib/alert.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "cli.h"

struct list_ctx {
	struct askue_ledger *l;
	cJSON *list; /* --json */
	enum askue_err err;
	size_t n;
};

static int print_alert(const struct askue_alert *a, void *arg)
{
	struct list_ctx *ctx = arg;
	cJSON *o;
	if ((ctx->err = askue_alert_json(ctx->l, a, &o)))
		return 1;
	ctx->n++;
	if (ctx->list) {
		cJSON_AddItemToArray(ctx->list, o);
		return 0;
	}
	const cJSON *closed = cJSON_GetObjectItem(o, "closed");
	int n_meters = cJSON_GetArraySize(cJSON_GetObjectItem(o, "meters"));
	printf("%-6lld %-20s %-24s %-9s %s %s  meters %d%s%s%s%s\n", (long long)a->id, a->kind,
	       a->subject, a->status, cJSON_GetObjectItem(o, "opened")->valuestring,
	       cJSON_IsString(closed) ? closed->valuestring : "-", n_meters,
	       a->assignee[0] ? "  @" : "", a->assignee, a->outcome[0] ? "  " : "", a->outcome);
	cJSON_Delete(o);
	return 0;
}

int cmd_alerts(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"open", no_argument, 0, 'o'},
	                                     {"kind", required_argument, 0, 'k'},
	                                     {"subject", required_argument, 0, 's'},
	                                     {0, 0, 0, 0}};
	struct askue_alert_filter f = {0};
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'o': f.active_only = 1; break;
		case 'k': f.kind = optarg; break;
		case 's': f.subject = optarg; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct list_ctx ctx = {.l = l, .list = cli->json ? cJSON_CreateArray() : NULL};
	enum askue_err err = askue_alert_each(l, &f, print_alert, &ctx);
	if (!err)
		err = ctx.err;
	if (err) {
		cJSON_Delete(ctx.list);
		return cli_fail(cli, err);
	}
	if (ctx.list)
		return cli_print_json(ctx.list);
	if (!ctx.n)
		printf("no alerts\n");
	return 0;
}

static int show_result(struct askue_cli *cli, struct askue_ledger *l, int64_t id)
{
	struct list_ctx ctx = {.l = l, .list = cJSON_CreateArray()};
	struct askue_alert_filter f = {.id = id};
	enum askue_err err = askue_alert_each(l, &f, print_alert, &ctx);
	if (!err)
		err = ctx.err;
	if (err) {
		cJSON_Delete(ctx.list);
		return cli_fail(cli, err);
	}
	cJSON *one = cJSON_DetachItemFromArray(ctx.list, 0);
	cJSON_Delete(ctx.list);
	return cli_print_json(one);
}

int cmd_alert_assign(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 3)
		return cli_usage(cli, "expected ID PERSON");
	int64_t id;
	enum askue_err err = cli_id("alert id", argv[1], &id);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_alert_assign(l, id, argv[2])))
		return cli_fail(cli, err);
	if (!cli->json) {
		printf("alert %lld assigned to %s\n", (long long)id, argv[2]);
		return 0;
	}
	return show_result(cli, l, id);
}

int cmd_alert_resolve(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"outcome", required_argument, 0, 'o'}, {0, 0, 0, 0}};
	const char *outcome = NULL;
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'o')
			outcome = optarg;
		else
			return cli_bad_option(cli, c, argv);
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "expected ID --outcome TEXT");
	if (!outcome)
		return cli_usage(cli, "--outcome is required (what was found and done)");
	int64_t id;
	enum askue_err err = cli_id("alert id", argv[optind], &id);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if ((err = askue_alert_resolve(l, id, outcome, 0)))
		return cli_fail(cli, err);
	if (!cli->json) {
		printf("alert %lld resolved\n", (long long)id);
		return 0;
	}
	return show_result(cli, l, id);
}
