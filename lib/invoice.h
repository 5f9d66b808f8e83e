/* invoice — the ledger's invoices, their lines and determinants, the
 * correction documents and the account's postings (migration 5).
 *
 * Storage only, no billing arithmetic (that is lib/billing.c): the billing
 * job writes what the core computed with askue_invoice_insert_tx and
 * askue_posting_add_tx in its own transaction; `invoice show`, the PDF
 * export and the console read an invoice back whole with askue_invoice_get.
 * An issued invoice is never edited except its status (current -> paid |
 * superseded); a mistake is corrected by a correction document and a
 * posting of kind correction. Postings are immutable (a trigger refuses
 * UPDATE and DELETE); their sum per subscriber is the balance (+ owed).
 */
#ifndef ASKUE_INVOICE_H
#define ASKUE_INVOICE_H

#include <stdint.h>

#include "account.h"
#include "date.h"
#include "err.h"
#include "ledger.h"
#include "limits.h"
#include "money.h"

/* "202603-0000000013": the period and the account, so that a rerun or a
 * reproduction of a period gives the same number. */
#define ASKUE_INVOICE_NUMBER_BUF 48
/* Lines of one invoice: as many as the billing core gives at most
 * (ASKUE_BILL_LINES_MAX: 10 spans x 3 zones x 3 bands = 90); a usual one
 * has 1 to 6. */
#define ASKUE_INVOICE_LINES_MAX 96
/* Determinants: up to 4 meters in a period (exchanges) x 4 registers. */
#define ASKUE_INVOICE_READINGS_MAX 32
#define ASKUE_INVOICE_NOTE_BYTES_MAX 256
#define ASKUE_CORRECTION_REASON_BYTES_MAX 500

/* How a register value was obtained (invoice_reading.start_how/end_how and
 * invoice_line.how): "reading", "interpolated", "installation", "removal",
 * "previous" (the previous invoice's end value), "estimated", "measured",
 * "pro_rata" ... as the billing core names them. */
#define ASKUE_HOW_BYTES_MAX 24

struct askue_invoice_line {
	int line_no; /* 1.. */
	char zone[32];
	int zone_idx; /* 0 = all (1.8.0), 1..3 = T1..T3 */
	struct askue_energy energy;
	struct askue_price price;
	struct askue_money amount; /* energy x price, rounded half up once */
	char tariff[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	struct askue_date price_from; /* the price's valid_from */
	struct askue_date days_from, days_to; /* the days this line covers, [from, to] */
	int band; /* volume band 0.. (0 = none or the first) */
	char how[ASKUE_HOW_BYTES_MAX + 1];
	char note[ASKUE_INVOICE_NOTE_BYTES_MAX + 1];
};

/* A register value at the start and the end of the span a meter served
 * in the period (one per meter and zone register). */
struct askue_invoice_reading {
	int seq; /* 1.. */
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	int zone_idx;
	int64_t start_ts; /* UTC s */
	struct askue_energy start;
	char start_how[ASKUE_HOW_BYTES_MAX + 1];
	int64_t end_ts;
	struct askue_energy end;
	char end_how[ASKUE_HOW_BYTES_MAX + 1];
	struct askue_energy energy; /* consumption billed from it */
	char note[ASKUE_INVOICE_NOTE_BYTES_MAX + 1];
};

struct askue_invoice {
	int64_t id;
	char number[ASKUE_INVOICE_NUMBER_BUF];
	int64_t subscriber_id;
	/* The subscriber's card (filled by askue_invoice_get, for documents). */
	char account[ASKUE_ACCOUNT_BUF];
	char name[ASKUE_NAME_BYTES_MAX + 1];
	char address[ASKUE_ADDRESS_BYTES_MAX + 1];
	char category[16];
	struct askue_period period;
	struct askue_date issued, due;
	/* The document: previous = the balance after the last invoice (debt +,
	 * credit -); payments = received since (a positive number); penalties
	 * and corrections posted since; charges = the sum of the lines; total
	 * = previous - payments + penalties + corrections + charges = what to
	 * pay = the balance right after this invoice was posted. */
	struct askue_money previous, payments, penalties, corrections, charges, total;
	int estimated;  /* a line or more was estimated */
	char status[16]; /* current | paid | superseded */
	int64_t run_id;  /* the billing run that issued it, 0 = none */
	char *details;   /* JSON object text (tariff version, notes ...); owned */
	int n_lines;
	struct askue_invoice_line *lines; /* owned */
	int n_readings;
	struct askue_invoice_reading *readings; /* owned */
};

/* The invoice number of a period's invoice to account (buf of
 * ASKUE_INVOICE_NUMBER_BUF). */
char *askue_invoice_number(struct askue_period period, const char *account, char *buf);

/* Read an invoice whole (card, money, lines, determinants) by its number.
 * ASKUE_ERR_NOT_FOUND with a message naming it. *out: free with
 * askue_invoice_free. */
ASKUE_MUST enum askue_err askue_invoice_get(struct askue_ledger *l, const char *number,
                                            struct askue_invoice **out);
/* The same by subscriber and period; ASKUE_ERR_NOT_FOUND (no message) when
 * none was issued. */
ASKUE_MUST enum askue_err askue_invoice_get_period(struct askue_ledger *l, int64_t subscriber_id,
                                                   struct askue_period period,
                                                   struct askue_invoice **out);
void askue_invoice_free(struct askue_invoice *inv); /* NULL is a no-op */

/* The invoices of a subscriber (account), oldest period first; inv has no
 * lines, readings or details here (n_lines 0). fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_invoice_each(struct askue_ledger *l, const char *account,
                                             int (*fn)(const struct askue_invoice *inv,
                                                       void *arg),
                                             void *arg);

/* Write an invoice with its lines and determinants (inside the caller's
 * transaction); sets inv->id. ASKUE_ERR_EXISTS when the subscriber has one
 * for the period already (the billing job skips it). No posting, no
 * journal: the caller does both in the same transaction. */
ASKUE_MUST enum askue_err askue_invoice_insert_tx(struct askue_ledger *l,
                                                  struct askue_invoice *inv);
/* current -> superseded | paid, journaled by the caller. */
ASKUE_MUST enum askue_err askue_invoice_set_status_tx(struct askue_ledger *l, int64_t invoice_id,
                                                      const char *status);

/* The account of a subscriber as the next invoice shows it: the balance
 * after the last invoice's posting, and what was posted after it. */
struct askue_account_since {
	int64_t last_invoice_id; /* 0: none yet */
	char last_status[16];
	struct askue_money previous;    /* balance after the last invoice */
	struct askue_money payments;    /* received since, positive */
	struct askue_money penalties;   /* posted since */
	struct askue_money corrections; /* posted since (+ debit, - credit) */
	struct askue_money balance;     /* now */
};
ASKUE_MUST enum askue_err askue_account_since_last_invoice(struct askue_ledger *l,
                                                           int64_t subscriber_id,
                                                           struct askue_account_since *out);

/* Postings. kind: "invoice" | "payment" | "penalty" | "correction";
 * period NULL for none; links (invoice_id, correction_id) 0 for none. */
struct askue_posting {
	int64_t id;
	int64_t subscriber_id;
	char kind[16];
	struct askue_date date;
	int has_period;
	struct askue_period period;
	struct askue_money amount;
	int64_t invoice_id, correction_id, payment_id, accrual_id;
	int64_t created; /* UTC s */
};
ASKUE_MUST enum askue_err askue_posting_add_tx(struct askue_ledger *l, struct askue_posting *p);
/* The postings of a subscriber in id order. */
ASKUE_MUST enum askue_err askue_posting_each(struct askue_ledger *l, int64_t subscriber_id,
                                             int (*fn)(const struct askue_posting *p, void *arg),
                                             void *arg);

/* A correction document of an issued period: amount + debit, - credit. */
struct askue_correction {
	int64_t id;
	char number[ASKUE_INVOICE_NUMBER_BUF + 8]; /* invoice number + "-K" + n */
	int64_t subscriber_id;
	int64_t invoice_id;
	struct askue_period period;
	struct askue_date date;
	struct askue_money amount;
	char reason[ASKUE_CORRECTION_REASON_BYTES_MAX + 1];
	int64_t run_id; /* 0: none (a single `invoice correct`) */
	const char *details; /* JSON object text (the recomputed lines), may be NULL */
};
/* Write the document and its posting (kind correction, date = c->date,
 * period = c->period), numbered after the invoice; sets id and number.
 * The caller journals ASKUE_EV_CORRECTION_MADE. */
ASKUE_MUST enum askue_err askue_correction_add_tx(struct askue_ledger *l,
                                                  struct askue_correction *c, int64_t created);
/* The corrections of an invoice, oldest first (details NULL here). */
ASKUE_MUST enum askue_err askue_correction_each(struct askue_ledger *l, int64_t invoice_id,
                                                int (*fn)(const struct askue_correction *c,
                                                          void *arg),
                                                void *arg);
/* Sum of the corrections of an invoice so far. */
ASKUE_MUST enum askue_err askue_correction_sum(struct askue_ledger *l, int64_t invoice_id,
                                               struct askue_money *out);

#endif
