/* job payments — the bank registries of the inbox, posted.
 *
 * Every *.csv in $ASKUE_HOME/payments/inbox, in name order, goes through
 * askue_payments_import (lib/payment.h: good rows posted, duplicates
 * counted, the rest in suspense) and is then moved to payments/done/; a file
 * refused whole (no header, unreadable) to payments/failed/, its error in the
 * report. A crash between the import and the move is harmless: the rerun
 * finds every row a duplicate and moves the file. --dry-run imports each
 * file in a transaction it rolls back (so each as if alone: a ref repeated
 * in a later file is not counted a duplicate) and moves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "job.h"
#include "journal.h"
#include "limits.h"
#include "payment.h"

/* Files a run takes from the inbox; the rest wait for the next run. */
#define PAYMENTS_JOB_FILES_MAX 1000
/* done/NAME.2 .. done/NAME.99 when a file of the same name was done before. */
#define PAYMENTS_JOB_SUFFIX_MAX 99

static int is_csv(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 4 && !strcasecmp(d->d_name + n - 4, ".csv");
}

static enum askue_err make_dir(const char *path)
{
	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
	return ASKUE_OK;
}

/* Move dir/inbox/name to dir/to/name (or name.N when taken). */
static enum askue_err move_to(const char *base, const char *name, const char *to, char *dest,
                              size_t size)
{
	char from[ASKUE_PATH_MAX + 300], folder[ASKUE_PATH_MAX + 16];
	snprintf(from, sizeof from, "%s/inbox/%s", base, name);
	snprintf(folder, sizeof folder, "%s/%s", base, to);
	enum askue_err err = make_dir(folder);
	if (err)
		return err;
	struct stat st;
	snprintf(dest, size, "%s/%s", folder, name);
	for (int n = 2; stat(dest, &st) == 0; n++) {
		if (n > PAYMENTS_JOB_SUFFIX_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "%s: taken %d times", dest, n - 1);
		snprintf(dest, size, "%s/%s.%d", folder, name, n);
	}
	if (rename(from, dest) != 0)
		return askue_err_set(ASKUE_ERR_IO, "%s -> %s: %s", from, dest, strerror(errno));
	return ASKUE_OK;
}

static void add_counts(cJSON *o, const struct askue_import_report *r)
{
	static const char *const counts[] = {"posted", "duplicates", "suspended",
	                                     "already_suspended"};
	static const char *const totals[] = {"posted_total", "duplicates_total", "suspended_total",
	                                     "already_suspended_total"};
	askue_json_add_int(o, "rows", r->rows);
	for (int i = 0; i < 4; i++)
		askue_json_add_int(o, counts[i], r->count[i]);
	cli_json_add_money(o, "total", r->total);
	for (int i = 0; i < 4; i++)
		cli_json_add_money(o, totals[i], r->amount[i]);
}

/* One file: imported, then moved. An error of the file itself (its form)
 * goes in the report; an error of the ledger stops the job. */
static enum askue_err one_file(struct job_ctx *ctx, const char *base, const char *name,
                               cJSON *files, struct askue_import_report *sum)
{
	char path[ASKUE_PATH_MAX + 300], dest[ASKUE_PATH_MAX + 400];
	snprintf(path, sizeof path, "%s/inbox/%s", base, name);
	struct askue_import_report r = {.dry_run = ctx->dry_run};
	enum askue_err err = askue_payments_import(ctx->l, path, ctx->today, &r);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToArray(files, o);
	cJSON_AddStringToObject(o, "file", name);
	if (err && err != ASKUE_ERR_INVALID && err != ASKUE_ERR_IO && err != ASKUE_ERR_LIMIT)
		return err;
	if (err)
		cJSON_AddStringToObject(o, "error", askue_err_msg());
	else
		add_counts(o, &r);
	sum->rows += r.rows;
	for (int i = 0; i < 4; i++) {
		sum->count[i] += r.count[i];
		sum->amount[i].kop += r.amount[i].kop;
	}
	sum->total.kop += r.total.kop;
	if (ctx->dry_run)
		return ASKUE_OK;
	enum askue_err moved = move_to(base, name, err ? "failed" : "done", dest, sizeof dest);
	if (moved)
		return moved;
	cJSON_AddStringToObject(o, "moved_to", dest);
	return ASKUE_OK;
}

int job_payments(struct job_ctx *ctx)
{
	char base[ASKUE_PATH_MAX + 16], inbox[ASKUE_PATH_MAX + 32];
	snprintf(base, sizeof base, "%s/payments", ctx->cli->cfg.home);
	snprintf(inbox, sizeof inbox, "%s/inbox", base);
	enum askue_err err = ctx->dry_run ? ASKUE_OK : make_dir(base);
	if (!err && !ctx->dry_run)
		err = make_dir(inbox);
	if (err)
		return cli_fail(ctx->cli, err);
	struct dirent **names = NULL;
	int n = scandir(inbox, &names, is_csv, alphasort);
	if (n < 0 && errno != ENOENT)
		return cli_fail(ctx->cli, askue_err_set(ASKUE_ERR_IO, "%s: %s", inbox, strerror(errno)));
	cJSON_AddStringToObject(ctx->report, "inbox", inbox);
	cJSON *files = cJSON_AddArrayToObject(ctx->report, "files");
	struct askue_import_report sum = {0};
	for (int i = 0; i < n; i++) {
		if (!err && i < PAYMENTS_JOB_FILES_MAX)
			err = one_file(ctx, base, names[i]->d_name, files, &sum);
		free(names[i]);
	}
	free(names);
	if (err)
		return cli_fail(ctx->cli, err);
	add_counts(ctx->report, &sum);
	if (n > PAYMENTS_JOB_FILES_MAX)
		askue_json_add_int(ctx->report, "files_left", n - PAYMENTS_JOB_FILES_MAX);
	return 0;
}
