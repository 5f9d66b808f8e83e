/* payment — payments, their allocation to charges, and the suspense list.
 *
 * The subscriber's account is the posting table (migration 5): the balance
 * is the sum of its amounts (+ owed, - credit). A charge is a posting with
 * amount > 0 (an invoice's energy charge, a debit correction, a penalty); a
 * credit is a posting with amount < 0 (a payment, a credit correction, a
 * penalty reversal). Settling the account allocates every credit's open
 * amount to open charges: a credit correction first to its own invoice's
 * period, a penalty reversal first to penalties, then every credit to the
 * energy charges oldest due date first (then oldest posting), penalties
 * last; what no charge takes stays credit until the next charge is posted.
 * An allocation is dated the later of the credit's and the charge's posting
 * dates (the penalties job reads them to split a period's debt by date).
 * A 'current' invoice whose charge and every older energy charge are
 * settled becomes 'paid', journaled once. docs/payments.md is the full
 * account model.
 *
 * A payment is posted once per bank reference (ref); a bank-registry row
 * that cannot be posted (malformed, unknown account) waits in
 * payment_suspense with its reason, file, line and raw text until an
 * accountant assigns it to an account or rejects it.
 */
#ifndef ASKUE_PAYMENT_H
#define ASKUE_PAYMENT_H

#include <stdint.h>
#include "account.h"
#include "date.h"
#include "err.h"
#include "ledger.h"
#include "limits.h"
#include "money.h"

/* A bank's or cash desk's reference: Russian bank registries use up to 36
 * characters (a UUID); room for any of them, and for a file's own ids. */
#define ASKUE_PAYMENT_REF_BYTES_MAX 64
/* Open charges and open credits of one account held in memory while it is
 * settled: a household has one charge a month and a few corrections and
 * penalties; 4096 is centuries of them, more is a broken ledger. */
#define ASKUE_ACCOUNT_OPEN_ITEMS_MAX 4096
/* Rows of a payments import committed together: each row is atomic
 * (payment, posting, allocations, events), a batch keeps the writer lock
 * short for the other users of the ledger. */
#define ASKUE_PAYMENT_IMPORT_BATCH_ROWS 500
/* Suspended rows the import report names one by one; the rest are counted. */
#define ASKUE_PAYMENT_IMPORT_SHOWN_MAX 100
/* A reason typed by an accountant (reject). */
#define ASKUE_PAYMENT_REASON_BYTES_MAX 400

/* Journaled when an accountant returns a suspended row to the bank. */
#define ASKUE_EV_PAYMENT_REJECTED "payment_rejected"

struct askue_payment {
	int64_t id;
	int64_t subscriber_id;
	char account[ASKUE_ACCOUNT_BUF];
	struct askue_money amount; /* > 0 */
	struct askue_date date;
	char ref[ASKUE_PAYMENT_REF_BYTES_MAX + 1]; /* "" = none */
	char source[128];                         /* manual, FILE:LINE, suspense N */
	int64_t posting_id;
	struct askue_money unallocated; /* credit still open */
};

/* One allocation: credit -> charge. */
struct askue_allocation {
	int64_t id;
	int64_t payment_id; /* 0 for a credit that is not a payment */
	int64_t credit_posting_id;
	int64_t charge_posting_id;
	char charge_kind[16]; /* invoice | correction | penalty */
	char period[8];       /* "YYYY-MM", "" when the charge has none */
	char invoice[32];     /* the invoice number of the charge's period, "" if none */
	struct askue_money amount;
	struct askue_date date;
};

/* An open charge (amount not yet settled) of an account. */
struct askue_open_charge {
	int64_t posting_id;
	char kind[16];
	char period[8];
	char invoice[32];
	struct askue_date due; /* the invoice's due date; the posting date when none */
	struct askue_money amount;
	struct askue_money open;
};

/* Allocate every unallocated credit of the subscriber (payments, credit
 * corrections) to unsettled charges, oldest due first; journal
 * invoice_paid for invoices that became paid. Inside the caller's
 * transaction. */
ASKUE_MUST enum askue_err askue_account_settle_tx(struct askue_ledger *l, int64_t subscriber_id);
/* The balance: + owed, - credit. */
ASKUE_MUST enum askue_err askue_account_balance(struct askue_ledger *l, int64_t subscriber_id,
                                                struct askue_money *out);
/* Open charges oldest first (the order credits settle them), and the open
 * credit (the unallocated part of every credit). fn returns non-zero to
 * stop; credit_out may be NULL. */
ASKUE_MUST enum askue_err askue_account_open(struct askue_ledger *l, int64_t subscriber_id,
                                             int (*fn)(const struct askue_open_charge *,
                                                       void *),
                                             void *arg, struct askue_money *credit_out);

/* What to post. account, amount and date are checked: an account that
 * exists (a mistyped check digit is named), amount > 0 and at most
 * ASKUE_MONEY_KOP_MAX, a date not after today. ref may be "" (a cash desk
 * without one); a ref posted before is ASKUE_ERR_EXISTS, nothing posted. */
struct askue_payment_in {
	const char *account;
	struct askue_money amount;
	struct askue_date date;
	const char *ref;
	const char *source;
	struct askue_date today;
};

/* Post a payment: payment row, its posting (-amount), payment_taken in the
 * journal, then settle the account. out (may be NULL) gets the payment. An
 * open suspense row with the same ref is closed as assigned to it (the
 * rerun of a file after the missing subscriber was registered). */
ASKUE_MUST enum askue_err askue_payment_post_tx(struct askue_ledger *l,
                                                const struct askue_payment_in *in,
                                                struct askue_payment *out);
ASKUE_MUST enum askue_err askue_payment_post(struct askue_ledger *l,
                                             const struct askue_payment_in *in,
                                             struct askue_payment *out);
ASKUE_MUST enum askue_err askue_payment_get(struct askue_ledger *l, int64_t id,
                                            struct askue_payment *out);
/* A subscriber's payments, oldest first. */
ASKUE_MUST enum askue_err askue_payment_each(struct askue_ledger *l, int64_t subscriber_id,
                                             int (*fn)(const struct askue_payment *, void *),
                                             void *arg);
/* The allocations of a credit posting, in the order they were made. */
ASKUE_MUST enum askue_err askue_allocation_each(struct askue_ledger *l, int64_t credit_posting_id,
                                                int (*fn)(const struct askue_allocation *,
                                                          void *),
                                                void *arg);

/* The suspense list. */
struct askue_suspense {
	int64_t id;
	char source[128]; /* the file's name */
	int64_t line;
	char raw[ASKUE_CSV_ROW_BYTES_MAX + 1];
	char account[ASKUE_ACCOUNT_BUF * 2];
	int has_amount;
	struct askue_money amount;
	char date[ASKUE_DATE_BUF]; /* as the row had it, "" if none */
	char ref[ASKUE_PAYMENT_REF_BYTES_MAX + 1];
	char reason[512];
	int64_t created;
	char status[16]; /* open | assigned | rejected */
	int64_t payment_id;
	int64_t resolved;
	char note[ASKUE_PAYMENT_REASON_BYTES_MAX + 1];
};

/* all = 0: the open ones only. Oldest first. */
ASKUE_MUST enum askue_err askue_suspense_each(struct askue_ledger *l, int all,
                                              int (*fn)(const struct askue_suspense *, void *),
                                              void *arg);
ASKUE_MUST enum askue_err askue_suspense_get(struct askue_ledger *l, int64_t id,
                                             struct askue_suspense *out);
/* Post an open suspense row to account: amount and date from the row unless
 * given (has_amount/has_date); journals payment_taken and payment_assigned.
 * out (may be NULL) gets the payment. */
struct askue_suspense_assign {
	int64_t id;
	const char *account;
	int has_amount;
	struct askue_money amount;
	int has_date;
	struct askue_date date;
	struct askue_date today;
};
ASKUE_MUST enum askue_err askue_suspense_assign(struct askue_ledger *l,
                                                const struct askue_suspense_assign *a,
                                                struct askue_payment *out);
/* Returned to the bank: kept, status rejected, with the reason. */
ASKUE_MUST enum askue_err askue_suspense_reject(struct askue_ledger *l, int64_t id,
                                                const char *reason);

/* The bank registry import: CSV account,amount,date,ref (lib/csvfile.c:
 * comma or semicolon, BOM dropped; an amount may use a decimal comma).
 * Every good row is posted (each row whole, ASKUE_PAYMENT_IMPORT_BATCH_ROWS
 * a transaction); a row whose ref was posted with the same account, amount
 * and date is a duplicate (counted); every other row that cannot be posted
 * goes to suspense with its reason, unless the same row (same ref, or the
 * same file, line and text) waits there already. */
enum askue_import_outcome {
	ASKUE_IMPORT_POSTED,
	ASKUE_IMPORT_DUPLICATE,         /* its ref is posted already: counted */
	ASKUE_IMPORT_SUSPENDED,         /* into suspense, with the reason */
	ASKUE_IMPORT_ALREADY_SUSPENDED, /* waits in suspense already (a rerun) */
};
struct askue_import_report {
	int dry_run;  /* in: the whole file in one transaction, rolled back */
	int64_t rows; /* data rows */
	int64_t count[4];             /* by enum askue_import_outcome */
	struct askue_money total;     /* every amount that parsed */
	struct askue_money amount[4]; /* by outcome (amounts that parsed) */
	/* Called for every row not posted, with "FILE:LINE: what and why";
	 * may be NULL. */
	void (*on_row)(const char *msg, enum askue_import_outcome what, void *arg);
	void *arg;
};
ASKUE_MUST enum askue_err askue_payments_import(struct askue_ledger *l, const char *path,
                                                struct askue_date today,
                                                struct askue_import_report *report);

#endif
