/* accrual — the ledger side of penalties (пени): which charges bear a
 * penalty, how each was settled and when, what was posted for it before,
 * and the posting of the difference. The arithmetic is lib/penalty.c's.
 *
 * A charge is a posting of kind invoice (a period's energy charge) or a
 * debit correction (amount > 0); never the debt carried on a later invoice,
 * never a penalty. Its due date is its invoice's; a debit correction is due
 * as the period it was made in (it appears on that period's invoice). The
 * parts of a charge settled on dates are its allocations (migration 6): a
 * payment's counts on its own day and lowers the base from the next day; a
 * credit correction's lowers the base from the start (the charge was
 * overstated, no penalty was ever owed on that part).
 *
 * Accruals are cumulative: the penalty of a charge from its due date
 * through D is computed afresh, rounded once, and the difference against
 * what was posted for that charge before is posted (kind penalty, period =
 * the charge's period) with a penalty_accrual row. The same D twice posts
 * nothing; a skipped range of dates catches up exactly; a payment dated
 * before an accrual already posted (a late bank file) makes the difference
 * negative: a correcting entry. penalty_charge (migration 7) keeps the
 * open charges so that a daily run visits only those.
 */
#ifndef ASKUE_ACCRUAL_H
#define ASKUE_ACCRUAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "account.h"
#include "date.h"
#include "err.h"
#include "ledger.h"
#include "money.h"
#include "penalty.h"
#include "rules.h"

/* Settled parts of one charge held in memory: one a month for years of
 * instalments; more is a broken ledger. */
#define ASKUE_ACCRUAL_PARTS_MAX 1024
/* Charges of one account read at once (penalty show): one a month and a
 * few corrections for centuries, as payment.h's open items. */
#define ASKUE_ACCRUAL_CHARGES_MAX 4096

struct askue_accrual_charge {
	int64_t posting_id;
	int64_t subscriber_id;
	int64_t invoice_id; /* 0 for a correction */
	char account[ASKUE_ACCOUNT_BUF];
	enum askue_penalty_category category;
	struct askue_period period;
	struct askue_date due; /* nominal: the invoice's */
	struct askue_money base;
	/* Its invoice's overdue record (invoice_overdue): none, journaled
	 * overdue on overdue_date with overdue_unpaid at the due date, or
	 * withdrawn on overdue_withdrawn (paid by the due date after all). */
	enum askue_accrual_overdue { ASKUE_OVERDUE_NONE, ASKUE_OVERDUE_JOURNALED,
	                             ASKUE_OVERDUE_WITHDRAWN } overdue;
	struct askue_date overdue_date, overdue_withdrawn;
	struct askue_money overdue_unpaid;
	/* What was posted for this charge before. */
	int has_accrual;
	struct askue_date through;       /* the last accrual's date */
	struct askue_money posted;       /* its cumulative penalty */
	/* Allocations up to the calculation date, ascending by date, merged
	 * per date; credit corrections dated on the due date. Last, so that
	 * a load clears only what is before it. */
	struct askue_money settled;      /* sum of the parts */
	struct askue_date last_settled;  /* date of the last part */
	int n_parts;
	struct askue_payment_part parts[ASKUE_ACCRUAL_PARTS_MAX];
};

/* The due date with ГК РФ ст. 193 applied: the next working day. */
struct askue_date askue_accrual_effective_due(const struct askue_penalty_rules *r,
                                              struct askue_date due);

/* Take the charges posted since the last call into penalty_charge (inside
 * the caller's transaction). *added counts them. */
ASKUE_MUST enum askue_err askue_accrual_sync_tx(struct askue_ledger *l,
                                                const struct askue_rules *rules,
                                                int64_t *added);

/* Load one charge with its allocations dated up to and including `upto`
 * and its last accrual. ASKUE_ERR_NOT_FOUND when posting_id is no charge. */
ASKUE_MUST enum askue_err askue_accrual_load(struct askue_ledger *l,
                                             const struct askue_rules *rules,
                                             int64_t posting_id, struct askue_date upto,
                                             struct askue_accrual_charge *out);

/* The charges of a subscriber (oldest first): fn gets each posting id;
 * non-zero from fn stops. */
ASKUE_MUST enum askue_err askue_accrual_charges_of(struct askue_ledger *l, int64_t subscriber_id,
                                                   int (*fn)(int64_t posting_id, void *arg),
                                                   void *arg);

/* The penalty of c from its due date through `through` (inclusive). */
ASKUE_MUST enum askue_err askue_accrual_compute(const struct askue_rules *rules,
                                                const struct askue_accrual_charge *c,
                                                struct askue_date through,
                                                struct askue_penalty_result *out);

/* The calculation as JSON: {"due", "clock_start", "base", "penalty",
 * "lines": [{"from", "until", "day_from", "day_until", "base", "fraction",
 * "rate", "rate_date", "amount", "note"}]} (money as strings of roubles,
 * rate as a percentage string). NULL on no memory. */
cJSON *askue_accrual_json(const struct askue_accrual_charge *c,
                          const struct askue_penalty_result *res);

/* Post the difference between res->total and c->posted as of `through`:
 * a penalty_accrual row (with askue_accrual_json as details) and a posting
 * of kind penalty dated `through`, whose accrual_id names the row.
 * Inside the caller's transaction; *delta gets the difference. When it is
 * zero nothing is written: nothing changed. */
ASKUE_MUST enum askue_err askue_accrual_post_tx(struct askue_ledger *l,
                                                const struct askue_accrual_charge *c,
                                                const struct askue_penalty_result *res,
                                                struct askue_date through, int64_t created,
                                                struct askue_money *delta);

/* What of c was not settled by its effective due date, by the parts
 * loaded (askue_accrual_load up to a date on or after it): > 0 makes an
 * invoice overdue once the due date is past. */
int64_t askue_accrual_unpaid_at_due(const struct askue_rules *rules,
                                    const struct askue_accrual_charge *c);

/* When c's invoice was not settled in full by its (effective) due date and
 * `today` is past it, record it overdue once (invoice_overdue) and journal
 * ASKUE_EV_INVOICE_OVERDUE; an overdue withdrawn before is recorded
 * afresh and journaled again (a payment taken back). *journaled: 1 when
 * it did now. */
ASKUE_MUST enum askue_err askue_accrual_overdue_tx(struct askue_ledger *l,
                                                   const struct askue_rules *rules,
                                                   const struct askue_accrual_charge *c,
                                                   struct askue_date today, int *journaled);

/* When c's invoice is recorded overdue (not withdrawn) and its parts now
 * settle it by its effective due date (a late bank file: a payment dated
 * on or before it, allocated after the overdue was journaled), mark the
 * record withdrawn on `today` and journal ASKUE_EV_INVOICE_OVERDUE_WITHDRAWN
 * (invoice, period, due, charge, unpaid as journaled, date). *withdrawn:
 * 1 when it did now. Inside the caller's transaction. */
ASKUE_MUST enum askue_err askue_accrual_overdue_withdraw_tx(struct askue_ledger *l,
                                                            const struct askue_rules *rules,
                                                            const struct askue_accrual_charge *c,
                                                            struct askue_date today,
                                                            int *withdrawn);

/* Close a charge settled in full whose penalty is final (its last part is
 * on or before `through` and the posted total equals the computed one). */
ASKUE_MUST enum askue_err askue_accrual_close_tx(struct askue_ledger *l, int64_t posting_id,
                                                 struct askue_date through);

/* One run of the daily job through `today`: take the new charges, then for
 * every open charge past due (by account): journal an invoice overdue once
 * (or withdraw it when it was paid by its due date after all), post the
 * penalty's difference, close what is settled in full; one
 * ASKUE_EV_PENALTY_ACCRUED per account with postings. A charge whose last
 * accrual is later than today is left alone (counted behind): accruals
 * never go back in time. Inside the caller's transaction. */
struct askue_accrual_run {
	struct askue_date today;
	int64_t created; /* UTC s stamped on the rows */
	/* Called with each account's event details after it was journaled
	 * (the callee takes them); NULL: deleted. */
	void (*on_account)(const char *account, cJSON *details, void *arg);
	/* Called for a charge the run could not compute (a broken ledger row:
	 * allocations over the charge, a limit, no key rate for a date): it is
	 * left as it was and the run goes on; NULL: only counted. */
	void (*on_exception)(const char *account, int64_t posting_id, const char *msg, void *arg);
	void *arg;
	/* Counts, filled by the run. */
	int64_t added, visited, accounts, overdue, closed, behind, exceptions;
	int64_t withdrawn; /* overdue records withdrawn */
	struct askue_money accrued, corrected; /* + posted, - corrected */
};
ASKUE_MUST enum askue_err askue_accrual_run_tx(struct askue_ledger *l,
                                               const struct askue_rules *rules,
                                               struct askue_accrual_run *run);

#endif
