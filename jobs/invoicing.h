/* invoicing — the billing job's I/O around the pure core (lib/billing.h):
 * for one subscriber and period, fetch what the core needs from the
 * ledger (installations, the previous invoice's end values, the rollup's
 * meter_day readings around every boundary, the history of billed
 * periods, tariff versions, the norm), call askue_bill_compute, and turn
 * the result into an invoice document (lib/invoice.h). The job
 * (`askue job billing`), `invoice correct` and `billing recalculate` all
 * compute through billing_compute, so a recomputation is the same
 * arithmetic as the issue.
 */
#ifndef ASKUE_JOBS_INVOICING_H
#define ASKUE_JOBS_INVOICING_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "billing.h"
#include "config.h"
#include "date.h"
#include "err.h"
#include "invoice.h"
#include "ledger.h"

/* Subscribers per ledger transaction of the job: each subscriber's
 * invoice, lines, determinants, posting and events are in one transaction
 * (all or nothing after a crash); a batch keeps the writer lock to about a
 * second so the console and the payments import can work meanwhile. */
#define BILLING_BATCH_SUBSCRIBERS 1000
/* Exceptions the job's report and a run's record name one by one; the rest
 * are counted (the invoices keep their own). */
#define BILLING_EXCEPTIONS_SHOWN_MAX 10000
/* Readings of one meter for one period: the first and last of each of 31
 * days, the nearest before and after, with room. */
#define BILLING_READINGS_MAX 80

struct billing;

/* Rules (due dates), norms and the core's parameters, from cfg. */
ASKUE_MUST enum askue_err billing_open(const struct askue_config *cfg, struct askue_ledger *l,
                                       struct billing **out);
void billing_close(struct billing *b); /* NULL is a no-op */
/* The due date of the invoices of period (the due-date rule in force). */
ASKUE_MUST enum askue_err billing_due(const struct billing *b, struct askue_period period,
                                      struct askue_date *out);

/* One subscriber's period as computed now. */
struct billing_doc {
	int64_t subscriber_id;
	char account[ASKUE_ACCOUNT_BUF];
	struct askue_period period;
	struct askue_date due;
	int billed; /* 0: nothing to invoice (no tariff, no readings ...): see res.ex */
	struct askue_bill_result res;
};

/* Compute (no writes). ASKUE_ERR_NOT_FOUND: no such subscriber. */
ASKUE_MUST enum askue_err billing_compute(struct billing *b, int64_t subscriber_id,
                                          struct askue_period period, struct billing_doc *doc);

/* Issue doc as an invoice inside the caller's transaction: invoice, lines,
 * determinants, posting (kind invoice), invoice_issued, the previous
 * unpaid invoice superseded, then the account settled. inv_out (may be
 * NULL) gets the number. ASKUE_ERR_EXISTS: one was issued already. */
ASKUE_MUST enum askue_err billing_issue_tx(struct billing *b, const struct billing_doc *doc,
                                           struct askue_date issued, int64_t run_id,
                                           int64_t now, char *number_out);

/* The exceptions of doc as JSON objects {account, kind, serial?, text}
 * appended to arr. */
void billing_exceptions_json(const struct billing_doc *doc, cJSON *arr);

/* Recompute an issued period of one subscriber; when the charges differ
 * from what was issued plus its corrections so far, post a correction of
 * the difference (apply) with reason. *diff_out: the difference (0: none).
 * ASKUE_ERR_NOT_FOUND when the period was not invoiced. detail (may be
 * NULL) gets {number, account, issued, corrected, recomputed, difference}. */
ASKUE_MUST enum askue_err billing_correct_tx(struct billing *b, int64_t subscriber_id,
                                             struct askue_period period, struct askue_date date,
                                             const char *reason, int apply, int64_t run_id,
                                             int64_t now, struct askue_money *diff_out,
                                             cJSON *detail);

/* A run of kind 'billing' or 'recalculation' recorded in billing_run (own
 * transaction): started now; _finish sets finished, the count of
 * documents and details (a JSON object text, may be NULL). */
ASKUE_MUST enum askue_err billing_run_start(struct askue_ledger *l, struct askue_period period,
                                            const char *kind, int64_t now, int64_t *id);
ASKUE_MUST enum askue_err billing_run_finish(struct askue_ledger *l, int64_t id, int64_t now,
                                             int64_t documents, const char *details);

/* The subscribers with an invoice for period, by id (for recalculation). */
ASKUE_MUST enum askue_err billing_invoiced_each(struct askue_ledger *l, struct askue_period period,
                                                int (*fn)(int64_t subscriber_id, void *arg),
                                                void *arg);

#endif
