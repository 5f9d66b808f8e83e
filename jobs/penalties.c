/* penalties — `askue job penalties [--date D] [--dry-run]` (daily): overdue
 * invoices and the late-payment penalties (пени) of every charge past due,
 * through D, in one ledger transaction (lib/accrual.c, lib/penalty.c).
 *
 * First the charges posted since the last run join the working set
 * (penalty_charge). Then each open charge past its due date is loaded with
 * its settled parts up to D: an invoice not settled in full by its due date
 * is journaled overdue once (and withdrawn, journaled, when a late bank
 * file shows it settled by its due date after all); the penalty from the
 * due date through D is
 * computed afresh and the difference against what was posted before is
 * posted; a charge settled in full by D has its final penalty and leaves
 * the working set. One penalty_accrued event per account and run. A charge
 * whose last accrual is later than D (a run for an earlier date) is left
 * alone and counted as "behind": accruals never go back in time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accrual.h"
#include "job.h"
#include "journal.h"
#include "rules.h"

/* Accounts named one by one in the report; the rest are counted. */
#define PENALTIES_REPORT_ACCOUNTS_MAX 100

static void on_account(const char *account, cJSON *details, void *arg)
{
	struct job_ctx *ctx = arg;
	cJSON *arr = cJSON_GetObjectItem(ctx->report, "accrued");
	if (arr && cJSON_GetArraySize(arr) >= PENALTIES_REPORT_ACCOUNTS_MAX) {
		cJSON_Delete(details);
		return;
	}
	job_note(ctx, "accrued", 0, ASKUE_EV_PENALTY_ACCRUED, account, details);
}

static void on_exception(const char *account, int64_t posting_id, const char *msg, void *arg)
{
	cJSON *what = cJSON_CreateObject();
	cJSON_AddStringToObject(what, "error", msg);
	job_note(arg, "exceptions", posting_id, "charge", account, what);
}

static void report(struct job_ctx *ctx, const struct askue_accrual_run *run)
{
	cJSON *r = ctx->report;
	char num[ASKUE_NUM_BUF];
	cJSON_AddNumberToObject(r, "charges_new", (double)run->added);
	cJSON_AddNumberToObject(r, "charges_visited", (double)run->visited);
	cJSON_AddNumberToObject(r, "charges_closed", (double)run->closed);
	cJSON_AddNumberToObject(r, "charges_behind", (double)run->behind);
	cJSON_AddNumberToObject(r, "invoices_overdue", (double)run->overdue);
	cJSON_AddNumberToObject(r, "overdue_withdrawn", (double)run->withdrawn);
	cJSON_AddNumberToObject(r, "accounts_accrued", (double)run->accounts);
	cJSON_AddNumberToObject(r, "charges_failed", (double)run->exceptions);
	cJSON_AddStringToObject(r, "penalties_posted", askue_money_format(run->accrued, num));
	cJSON_AddStringToObject(r, "penalties_corrected", askue_money_format(run->corrected, num));
}

int job_penalties(struct job_ctx *ctx)
{
	struct askue_rules *rules = NULL;
	struct askue_accrual_run run = {.today = ctx->today, .created = (int64_t)time(NULL),
	                                .on_account = on_account,
	                                .on_exception = on_exception, .arg = ctx};
	enum askue_err err = askue_rules_load(ctx->cli->cfg.billing_rules_dir, &rules);
	if (err)
		askue_err_prefix("[billing] rules_dir %s: ", ctx->cli->cfg.billing_rules_dir);
	/* The run reads the open charges' allocations all over the ledger and
	 * writes a few hundred thousand rows in one transaction: a page cache
	 * that holds them (no spills to the WAL before the commit) and reads
	 * through mmap. This connection only. */
	if (!err && !(err = askue_ledger_exec(ctx->l, "PRAGMA cache_size = -262144")))
		err = askue_ledger_exec(ctx->l, "PRAGMA mmap_size = 2147418112");
	if (!err && !(err = askue_ledger_begin(ctx->l))) {
		err = askue_accrual_run_tx(ctx->l, rules, &run);
		if (!err && !ctx->dry_run)
			err = askue_ledger_commit(ctx->l);
		else
			askue_ledger_rollback(ctx->l);
	}
	if (!err)
		report(ctx, &run);
	askue_rules_free(rules);
	return err ? cli_fail(ctx->cli, err) : 0;
}
