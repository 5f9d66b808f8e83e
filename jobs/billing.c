/* billing — `askue job billing [--period P] [--date D] [--dry-run]`:
 * the billing day of a period (default: the month before --date).
 *
 * Journals billing_day_came once per period, records the run
 * (billing_run), then bills every subscriber with a meter in the period,
 * or with a tariff and an account not closed, who has no invoice for it
 * yet, in id order,
 * BILLING_BATCH_SUBSCRIBERS per transaction. Each subscriber is a
 * savepoint inside the batch: its invoice, lines, determinants, posting and
 * events are all written or none, so a job killed at any moment leaves
 * each subscriber invoiced whole or not at all, and the rerun (the same
 * command) bills exactly the rest: the (subscriber, period) invoice is
 * unique and the candidates exclude the invoiced. A subscriber whose data
 * the core refuses is reported and skipped, never a reason to stop.
 *
 * --dry-run computes everything the same way and rolls each batch back:
 * counts, totals and the exceptions of what it would issue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoicing.h"
#include "job.h"
#include "journal.h"
#include "rollup.h"

struct run {
	struct job_ctx *ctx;
	struct billing *b;
	struct askue_period period;
	int64_t run_id;
	struct billing_doc *doc;
	int64_t considered, issued, not_billed, estimated, refused, existing, exceptions_n;
	int64_t wh, charges_kop;
	cJSON *exceptions; /* at most BILLING_EXCEPTIONS_SHOWN_MAX */
	cJSON *not_billed_list;
};

static enum askue_err journal_billing_day(struct run *r)
{
	static const char sql[] = "SELECT 1 FROM event WHERE subject = ? AND type = '"
	                          ASKUE_EV_BILLING_DAY "' LIMIT 1";
	char p[16];
	askue_period_format(r->period, p);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(r->ctx->l, sql, p, &st);
	if (err != ASKUE_ERR_NOT_FOUND) {
		if (!err)
			sqlite3_reset(st);
		return err; /* journaled before (or a ledger error) */
	}
	char day[ASKUE_DATE_BUF];
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "period", p);
	cJSON_AddStringToObject(d, "date", askue_date_format(r->ctx->today, day));
	err = askue_journal_append(r->ctx->l, ASKUE_EV_BILLING_DAY, p, d);
	cJSON_Delete(d);
	return err;
}

static enum askue_err start_run(struct run *r)
{
	static const char sql[] = "INSERT INTO billing_run(period, kind, started) VALUES (?, 'billing', ?)";
	struct askue_ledger *l = r->ctx->l;
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_begin(l);
	if (!err)
		err = journal_billing_day(r);
	if (!err)
		err = askue_ledger_stmt(l, sql, &st);
	if (!err) {
		askue_bind_period(st, 1, r->period);
		sqlite3_bind_int64(st, 2, r->ctx->now);
		err = askue_ledger_step_done(l, st, "billing run");
	}
	if (!err) {
		r->run_id = sqlite3_last_insert_rowid(askue_ledger_db(l));
		err = askue_ledger_commit(l);
	}
	if (err)
		askue_ledger_rollback(l);
	return err;
}

static cJSON *counts_json(const struct run *r)
{
	char num[ASKUE_NUM_BUF];
	cJSON *o = cJSON_CreateObject();
	askue_json_add_int(o, "subscribers", r->considered);
	askue_json_add_int(o, "issued", r->issued);
	askue_json_add_int(o, "not_billed", r->not_billed);
	askue_json_add_int(o, "estimated", r->estimated);
	askue_json_add_int(o, "refused", r->refused);
	askue_json_add_int(o, "issued_before", r->existing);
	askue_json_add_int(o, "exceptions", r->exceptions_n);
	cJSON_AddItemToObject(o, "kwh", cJSON_CreateRaw(askue_energy_format_kwh(
	                                    (struct askue_energy){r->wh}, num)));
	cJSON_AddStringToObject(o, "charges",
	                        askue_money_format((struct askue_money){r->charges_kop}, num));
	return o;
}

static enum askue_err finish_run(struct run *r)
{
	static const char sql[] = "UPDATE billing_run SET finished = ?, issued = ?, details = ?"
	                          " WHERE id = ?";
	struct askue_ledger *l = r->ctx->l;
	cJSON *d = counts_json(r);
	cJSON_AddItemReferenceToObject(d, "not_billed_list", r->not_billed_list);
	char *text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	if (!text)
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_begin(l);
	if (!err && !(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_int64(st, 1, r->ctx->now);
		sqlite3_bind_int64(st, 2, r->issued);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, r->run_id);
		err = askue_ledger_step_done(l, st, "billing run");
	}
	cJSON_free(text);
	if (!err)
		err = askue_ledger_commit(l);
	if (err)
		askue_ledger_rollback(l);
	return err;
}

/* The next candidates after id `after`, without an invoice for the
 * period: whoever had a meter in the period (a suspended or since closed
 * account too: what the meter measured is owed), and every account not
 * closed with a tariff chosen before its end (billed by the norm without a
 * meter). */
static enum askue_err next_batch(struct run *r, int64_t after, int64_t *ids, int *n)
{
	static const char sql[] =
		"SELECT s.id FROM subscriber s WHERE s.id > ?1"
		" AND NOT EXISTS (SELECT 1 FROM invoice i WHERE i.subscriber_id = s.id AND i.period = ?2)"
		" AND (EXISTS (SELECT 1 FROM installation n WHERE n.subscriber_id = s.id"
		"   AND n.installed < ?4 AND (n.removed IS NULL OR n.removed > ?3))"
		"  OR (s.status != 'closed' AND EXISTS (SELECT 1 FROM subscriber_tariff t"
		"   WHERE t.subscriber_id = s.id AND t.valid_from < ?4)))"
		" ORDER BY s.id LIMIT ?5";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(r->ctx->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, after);
	askue_bind_period(st, 2, r->period);
	askue_bind_date(st, 3, askue_period_first(r->period));
	askue_bind_date(st, 4, askue_period_end(r->period));
	sqlite3_bind_int(st, 5, BILLING_BATCH_SUBSCRIBERS);
	int rc;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(r->ctx->l, rc, "subscribers to bill");
}

static void note_exceptions(struct run *r, const struct billing_doc *doc)
{
	r->exceptions_n += doc->res.n_ex;
	int room = BILLING_EXCEPTIONS_SHOWN_MAX - cJSON_GetArraySize(r->exceptions);
	if (room <= 0)
		return;
	cJSON *tmp = cJSON_CreateArray();
	billing_exceptions_json(doc, tmp);
	cJSON *it;
	while ((it = cJSON_DetachItemFromArray(tmp, 0)) && room-- > 0)
		cJSON_AddItemToArray(r->exceptions, it);
	cJSON_Delete(it);
	cJSON_Delete(tmp);
}

static void add_exception(cJSON *arr, const char *account, const char *kind, const char *text)
{
	if (cJSON_GetArraySize(arr) >= BILLING_EXCEPTIONS_SHOWN_MAX)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "account", account);
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "text", text);
	cJSON_AddItemToArray(arr, o);
}

/* The core or the ledger refused this subscriber's data: not billed. */
static void note_refused(struct run *r, int64_t id, const char *what)
{
	char account[ASKUE_ACCOUNT_BUF + 16];
	if (r->doc->account[0])
		snprintf(account, sizeof account, "%s", r->doc->account);
	else
		snprintf(account, sizeof account, "id %lld", (long long)id);
	r->refused++;
	add_exception(r->exceptions, account, "refused", what);
	add_exception(r->not_billed_list, account, "refused", what);
}

static void note_not_billed(struct run *r)
{
	r->not_billed++;
	if (!r->doc->res.n_ex)
		add_exception(r->not_billed_list, r->doc->account, "nothing_to_bill",
		              "no line: no consumption to bill in the period");
	else if (cJSON_GetArraySize(r->not_billed_list) < BILLING_EXCEPTIONS_SHOWN_MAX)
		billing_exceptions_json(r->doc, r->not_billed_list);
}

/* A savepoint statement through the statement cache (sqlite3_exec would
 * parse it again for every subscriber). */
static enum askue_err savepoint(struct askue_ledger *l, const char *sql)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	return err ? err : askue_ledger_step_done(l, st, "savepoint");
}

/* One subscriber inside the batch's transaction, under a savepoint. A
 * refusal of its data is reported; only a ledger failure stops the job. */
static enum askue_err bill_one(struct run *r, int64_t id)
{
	struct askue_ledger *l = r->ctx->l;
	r->considered++;
	enum askue_err err = savepoint(l, "SAVEPOINT bill_one");
	if (err)
		return err;
	if (!(err = billing_compute(r->b, id, r->period, r->doc))) {
		note_exceptions(r, r->doc);
		if (!r->doc->billed)
			note_not_billed(r);
		else
			err = billing_issue_tx(r->b, r->doc, r->ctx->today, r->run_id, r->ctx->now, NULL);
	}
	if (!err && r->doc->billed) {
		r->issued++;
		r->estimated += r->doc->res.estimated;
		r->wh += r->doc->res.wh;
		r->charges_kop += r->doc->res.charges.kop;
	}
	if (err == ASKUE_ERR_INVALID || err == ASKUE_ERR_LIMIT || err == ASKUE_ERR_RANGE ||
	    err == ASKUE_ERR_NOT_FOUND || err == ASKUE_ERR_EXISTS || err == ASKUE_ERR_CONFLICT) {
		if (err == ASKUE_ERR_EXISTS)
			r->existing++;
		else
			note_refused(r, id, askue_err_msg());
		err = savepoint(l, "ROLLBACK TO bill_one");
	}
	enum askue_err rel = savepoint(l, "RELEASE bill_one");
	return err ? err : rel;
}

/* What ends each batch's transaction. */
enum batch_end {
	BATCH_COMMIT,   /* the run */
	BATCH_ROLLBACK, /* --dry-run, each batch rolled back */
	BATCH_NONE,     /* --dry-run inside the caller's one transaction */
};

/* Batches of candidates in id order, each its own transaction unless
 * BATCH_NONE. */
static enum askue_err run_batches(struct run *r, enum batch_end end)
{
	int64_t *ids = malloc(BILLING_BATCH_SUBSCRIBERS * sizeof *ids);
	if (!ids)
		return askue_err_set(ASKUE_ERR_NOMEM, "billing: out of memory");
	struct askue_ledger *l = r->ctx->l;
	int own = end != BATCH_NONE;
	int64_t after = 0;
	enum askue_err err = ASKUE_OK;
	for (int n = BILLING_BATCH_SUBSCRIBERS; !err && n == BILLING_BATCH_SUBSCRIBERS;) {
		if (own && (err = askue_ledger_begin(l)))
			break;
		n = 0;
		if (!(err = next_batch(r, after, ids, &n)))
			for (int i = 0; !err && i < n; i++)
				err = bill_one(r, ids[i]);
		if (!err && n > 0)
			after = ids[n - 1];
		if (end == BATCH_COMMIT && !err)
			err = askue_ledger_commit(l);
		if (own && (err || end == BATCH_ROLLBACK))
			askue_ledger_rollback(l);
	}
	free(ids);
	return err;
}

static void report(struct run *r)
{
	char p[16];
	cJSON *rep = r->ctx->report;
	cJSON_AddStringToObject(rep, "period", askue_period_format(r->period, p));
	cJSON *c = counts_json(r);
	cJSON *it;
	while ((it = c->child)) {
		cJSON_DetachItemViaPointer(c, it);
		cJSON_AddItemToObject(rep, it->string, it);
	}
	cJSON_Delete(c);
	cJSON_AddItemToObject(rep, "exceptions_list", r->exceptions);
	r->exceptions = NULL;
	struct askue_date due;
	if (!billing_due(r->b, r->period, &due) && due.days < r->ctx->today.days) {
		/* The due date is the rule's, whenever the invoice is issued: an
		 * invoice issued after it is overdue at once (penalties start 30
		 * days after the due date, not after the issue). Said loudly. */
		char d[ASKUE_DATE_BUF];
		cJSON_AddStringToObject(rep, "warning", "issued after the due date");
		cJSON_AddStringToObject(rep, "due", askue_date_format(due, d));
		if (r->issued)
			fprintf(stderr, "askue: job billing: warning: invoices of %s issued after their"
			        " due date %s\n", p, d);
	}
}

/* The rollup's meter_day must hold the days billing reads: from the day
 * before the period through the job's today (the first readings after the
 * end), at most a month past the end. Inside the caller's transaction. */
static enum askue_err prepare_readings(struct job_ctx *ctx, struct askue_period p)
{
	struct askue_date from = askue_date_add_days(askue_period_first(p), -1);
	struct askue_date to = askue_date_add_days(askue_period_end(p), 31);
	if (ctx->today.days < to.days)
		to = ctx->today;
	return to.days < from.days ? ASKUE_OK : job_rollup_ensure(ctx, from, to);
}

/* --dry-run writes nothing. When the rollup has days to do first, the
 * whole run is one transaction rolled back at the end (the bills need
 * those days); otherwise (the nightly rollup did them) each batch is
 * rolled back in turn, so the writer lock is held a batch at a time. */
static enum askue_err dry_run(struct run *r)
{
	struct askue_ledger *l = r->ctx->l;
	enum askue_err err = askue_ledger_begin(l);
	if (!err)
		err = prepare_readings(r->ctx, r->period);
	int rolled = cJSON_GetArraySize(cJSON_GetObjectItem(r->ctx->report, "rollup_days"));
	if (!err && rolled > 0)
		err = run_batches(r, BATCH_NONE);
	askue_ledger_rollback(l);
	if (!err && rolled == 0)
		err = run_batches(r, BATCH_ROLLBACK);
	return err;
}

static enum askue_err real_run(struct run *r)
{
	struct askue_ledger *l = r->ctx->l;
	enum askue_err err = askue_ledger_begin(l);
	if (!err && !(err = prepare_readings(r->ctx, r->period)))
		err = askue_ledger_commit(l);
	if (err) {
		askue_ledger_rollback(l);
		return err;
	}
	if (!(err = start_run(r)) && !(err = run_batches(r, BATCH_COMMIT)))
		err = finish_run(r);
	return err;
}

int job_billing(struct job_ctx *ctx)
{
	struct run r = {.ctx = ctx};
	r.period = ctx->has_period ? ctx->period : askue_period_add(askue_period_of(ctx->today), -1);
	if (askue_period_end(r.period).days > ctx->today.days) {
		char p[16], d[ASKUE_DATE_BUF], e[ASKUE_DATE_BUF];
		return cli_usage(ctx->cli, "period %s has not ended on %s: it is billed from %s on",
		                 askue_period_format(r.period, p), askue_date_format(ctx->today, d),
		                 askue_date_format(askue_period_end(r.period), e));
	}
	r.exceptions = cJSON_CreateArray();
	r.not_billed_list = cJSON_CreateArray();
	r.doc = malloc(sizeof *r.doc);
	enum askue_err err = r.doc ? ASKUE_OK : askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
	if (!err)
		err = billing_open(&ctx->cli->cfg, ctx->l, &r.b);
	/* The savepoint of each subscriber keeps its undo pages in memory, not
	 * in a temporary file written for every subscriber; a page cache of 64
	 * MiB holds the inner pages of the indexes a period's run writes. */
	if (!err)
		err = askue_ledger_exec(ctx->l, "PRAGMA temp_store = MEMORY;"
		                                "PRAGMA cache_size = -65536;");
	if (!err)
		err = ctx->dry_run ? dry_run(&r) : real_run(&r);
	if (!err)
		report(&r);
	billing_close(r.b);
	free(r.doc);
	cJSON_Delete(r.not_billed_list);
	if (err) {
		cJSON_Delete(r.exceptions);
		return cli_fail(ctx->cli, err);
	}
	return 0;
}
