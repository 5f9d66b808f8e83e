/* import | export: the card file as CSV (lib/cardfile.c does the work). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cardfile.h"
#include "cli.h"

struct import_ctx {
	cJSON *errors;
};

static void on_error(const char *msg, void *arg)
{
	struct import_ctx *ctx = arg;
	if (ctx->errors)
		cJSON_AddItemToArray(ctx->errors, cJSON_CreateString(msg));
	fprintf(stderr, "%s\n", msg);
}

int cmd_import(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 3)
		return cli_usage(cli, "expected subscribers|meters|installations FILE.csv");
	enum askue_cardfile_kind kind;
	enum askue_err err = askue_cardfile_kind_parse(argv[1], &kind);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct import_ctx ctx = {.errors = cli->json ? cJSON_CreateArray() : NULL};
	struct askue_cardfile_report report = {.on_error = on_error, .arg = &ctx};
	err = askue_cardfile_import(l, kind, argv[2], &report);
	if (err) {
		cJSON_Delete(ctx.errors);
		return cli_fail(cli, err);
	}
	cJSON_Delete(ctx.errors);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", argv[1]);
		cJSON_AddNumberToObject(o, "rows", (double)report.rows);
		cJSON_AddNumberToObject(o, "imported", (double)report.written);
		return cli_print_json(o);
	}
	printf("%s: %lld %s imported\n", argv[2], (long long)report.written, argv[1]);
	return 0;
}

int cmd_export(struct askue_cli *cli, int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		return cli_usage(cli, "expected subscribers|meters|installations [FILE.csv]");
	enum askue_cardfile_kind kind;
	enum askue_err err = askue_cardfile_kind_parse(argv[1], &kind);
	if (err)
		return cli_fail(cli, err);
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	if (argc == 2 && cli->json)
		return cli_usage(cli, "with --json, give a FILE (stdout carries the JSON answer)");
	FILE *out = stdout;
	char tmp[ASKUE_PATH_MAX + 8];
	if (argc == 3) {
		/* Write beside, then rename: a half-written export never has the
		 * file's name. */
		snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
		out = fopen(tmp, "w");
		if (!out)
			return cli_fail(cli, askue_err_set(ASKUE_ERR_IO, "%s: cannot create: %s", tmp,
			                                   strerror(errno)));
	}
	int64_t rows = 0;
	err = askue_cardfile_export(l, kind, out, &rows);
	if (out != stdout) {
		if (fclose(out) != 0 && !err)
			err = askue_err_set(ASKUE_ERR_IO, "%s: %s", tmp, strerror(errno));
		if (!err && rename(tmp, argv[2]) != 0)
			err = askue_err_set(ASKUE_ERR_IO, "%s: %s", argv[2], strerror(errno));
		if (err)
			remove(tmp);
	}
	if (err)
		return cli_fail(cli, err);
	if (out != stdout && !cli->json)
		printf("%s: %lld %s exported\n", argv[2], (long long)rows, argv[1]);
	if (out != stdout && cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", argv[1]);
		cJSON_AddStringToObject(o, "file", argv[2]);
		cJSON_AddNumberToObject(o, "rows", (double)rows);
		return cli_print_json(o);
	}
	return 0;
}
