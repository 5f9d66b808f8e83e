/* payment — see payment.h. In order: the account's settlement (allocation
 * of credits to charges, invoices becoming paid), the posting of payments,
 * reading them back, the suspense list, and the bank-registry import (one
 * file: the last two share the posting path and its duplicate checks). */
#include "payment.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "csvfile.h"
#include "journal.h"
#include "registry.h"

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* A date column the ledger wrote itself: a bad one is a broken ledger. */
static enum askue_err column_date(sqlite3_stmt *st, int col, struct askue_date *out)
{
	const char *s = askue_column_text(st, col);
	enum askue_err err = askue_date_parse(s, out);
	if (err)
		askue_err_prefix("ledger: ");
	return err;
}

/* ---- the account: open charges and credits ------------------------------ */

/* An open charge or credit while an account is settled. */
struct item {
	int64_t posting_id;
	int64_t payment_id;  /* credits: the payment, 0 for other credits */
	int64_t invoice_id;  /* the invoice whose period it belongs to, 0 if none */
	int penalty;         /* a penalty posting (or reversal) */
	struct askue_date date;
	int64_t open_kop;    /* > 0 */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static enum askue_err items_push(struct items *it, const struct item *x)
{
	if (it->n == it->cap) {
		if (it->cap >= ASKUE_ACCOUNT_OPEN_ITEMS_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT,
			                     "account: more than %d open charges or credits",
			                     ASKUE_ACCOUNT_OPEN_ITEMS_MAX);
		size_t cap = it->cap ? it->cap * 2 : 16;
		struct item *v = realloc(it->v, cap * sizeof *v);
		if (!v)
			return askue_err_set(ASKUE_ERR_NOMEM, "account: out of memory");
		it->v = v;
		it->cap = cap;
	}
	it->v[it->n++] = *x;
	return ASKUE_OK;
}

/* Open charges in settling order: energy charges (invoices, debit
 * corrections) by due date then posting, penalties last. The due date of a
 * correction is that of the invoice it corrects. */
static const char charges_sql[] =
	"SELECT p.id, p.kind, p.date, COALESCE(p.invoice_id, c.invoice_id, 0),"
	" p.amount_kop - COALESCE((SELECT sum(a.amount_kop) FROM allocation a"
	"   WHERE a.charge_posting_id = p.id), 0) AS open,"
	" COALESCE(i.due, p.date) AS due, COALESCE(p.period, i.period, ''),"
	" COALESCE(i.number, ''), p.amount_kop"
	" FROM posting p"
	" LEFT JOIN correction c ON c.id = p.correction_id"
	" LEFT JOIN invoice i ON i.id = COALESCE(p.invoice_id, c.invoice_id)"
	" WHERE p.subscriber_id = ?1 AND p.amount_kop > 0 AND open > 0"
	" ORDER BY p.kind = 'penalty', due, p.id";

/* Open credits, oldest first. A credit correction's home is its invoice. */
static const char credits_sql[] =
	"SELECT p.id, p.kind, p.date,"
	" CASE WHEN p.kind = 'correction' THEN COALESCE(p.invoice_id, c.invoice_id, 0) ELSE 0 END,"
	" -p.amount_kop - COALESCE((SELECT sum(a.amount_kop) FROM allocation a"
	"   WHERE a.credit_posting_id = p.id), 0) AS open,"
	" COALESCE(p.payment_id, 0)"
	" FROM posting p LEFT JOIN correction c ON c.id = p.correction_id"
	" WHERE p.subscriber_id = ?1 AND p.amount_kop < 0 AND open > 0"
	" ORDER BY p.date, p.id";

static enum askue_err load_items(struct askue_ledger *l, const char *sql, int64_t sid,
                                 int credits, struct items *out)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct item x = {
			.posting_id = sqlite3_column_int64(st, 0),
			.penalty = !strcmp(askue_column_text(st, 1), "penalty"),
			.invoice_id = sqlite3_column_int64(st, 3),
			.open_kop = sqlite3_column_int64(st, 4),
			.payment_id = credits ? sqlite3_column_int64(st, 5) : 0,
		};
		if ((err = column_date(st, 2, &x.date)) || (err = items_push(out, &x))) {
			sqlite3_reset(st);
			return err;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "account");
}

static enum askue_err allocate(struct askue_ledger *l, struct item *credit, struct item *charge)
{
	static const char sql[] =
		"INSERT INTO allocation(payment_id, credit_posting_id, charge_posting_id, amount_kop,"
		" date) VALUES (?, ?, ?, ?, ?)";
	int64_t kop = credit->open_kop < charge->open_kop ? credit->open_kop : charge->open_kop;
	assert(kop > 0);
	/* Money is settled on the later of the two dates: credit waiting for
	 * a charge settles it the day the charge is posted. */
	struct askue_date date = credit->date.days > charge->date.days ? credit->date : charge->date;
	char dbuf[ASKUE_DATE_BUF];
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	if (credit->payment_id)
		sqlite3_bind_int64(st, 1, credit->payment_id);
	sqlite3_bind_int64(st, 2, credit->posting_id);
	sqlite3_bind_int64(st, 3, charge->posting_id);
	sqlite3_bind_int64(st, 4, kop);
	sqlite3_bind_text(st, 5, askue_date_format(date, dbuf), -1, SQLITE_TRANSIENT);
	if ((err = askue_ledger_step_done(l, st, "allocation")))
		return err;
	credit->open_kop -= kop;
	charge->open_kop -= kop;
	assert(credit->open_kop >= 0 && charge->open_kop >= 0);
	return ASKUE_OK;
}

/* Does the credit settle this charge on its first pass (its home)? A
 * credit correction: its own invoice's energy charges; a penalty reversal:
 * penalties. */
static int home_of(const struct item *credit, const struct item *charge)
{
	if (credit->penalty)
		return charge->penalty;
	return credit->invoice_id && !charge->penalty && charge->invoice_id == credit->invoice_id;
}

static enum askue_err settle_credit(struct askue_ledger *l, struct item *credit,
                                    struct items *charges)
{
	enum askue_err err;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < charges->n && credit->open_kop > 0; i++) {
			struct item *c = &charges->v[i];
			if (c->open_kop == 0 || (pass == 0 && !home_of(credit, c)))
				continue;
			if ((err = allocate(l, credit, c)))
				return err;
		}
	}
	return ASKUE_OK;
}

/* ---- invoices becoming paid ---------------------------------------------- */

/* A current invoice none of whose energy charges due on or before its due
 * date is open: its own charge and every older one are settled. */
static const char paid_sql[] =
	"SELECT i.id, i.number, i.period, i.due, s.account FROM invoice i"
	" JOIN subscriber s ON s.id = i.subscriber_id"
	" WHERE i.subscriber_id = ?1 AND +i.status = 'current' AND NOT EXISTS ("
	"  SELECT 1 FROM posting p"
	"  LEFT JOIN correction c ON c.id = p.correction_id"
	"  LEFT JOIN invoice pi ON pi.id = COALESCE(p.invoice_id, c.invoice_id)"
	"  WHERE p.subscriber_id = ?1 AND p.amount_kop > 0 AND p.kind IN ('invoice','correction')"
	"  AND COALESCE(pi.due, p.date) <= i.due"
	"  AND p.amount_kop > COALESCE((SELECT sum(a.amount_kop) FROM allocation a"
	"   WHERE a.charge_posting_id = p.id), 0))"
	" ORDER BY i.due, i.id LIMIT 1";

/* The day the last of those charges was settled ("" when none had any). */
static const char paid_date_sql[] =
	"SELECT max(a.date) FROM allocation a JOIN posting p ON p.id = a.charge_posting_id"
	" LEFT JOIN correction c ON c.id = p.correction_id"
	" LEFT JOIN invoice pi ON pi.id = COALESCE(p.invoice_id, c.invoice_id)"
	" WHERE p.subscriber_id = ?1 AND p.kind IN ('invoice','correction')"
	" AND COALESCE(pi.due, p.date) <= ?2";

static enum askue_err journal_paid(struct askue_ledger *l, int64_t sid, const char *account,
                                   const char *number, const char *period, const char *due)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, paid_date_sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_text(st, 2, due, -1, SQLITE_STATIC);
	char paid[ASKUE_DATE_BUF] = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(paid, sizeof paid, "%s", askue_column_text(st, 0));
	sqlite3_reset(st);
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return askue_err_set(ASKUE_ERR_NOMEM, "account: out of memory");
	cJSON_AddStringToObject(d, "invoice", number);
	cJSON_AddStringToObject(d, "period", period);
	cJSON_AddStringToObject(d, "due", due);
	if (paid[0])
		cJSON_AddStringToObject(d, "paid", paid);
	else
		cJSON_AddNullToObject(d, "paid");
	err = askue_journal_append(l, ASKUE_EV_INVOICE_PAID, account, d);
	cJSON_Delete(d);
	return err;
}

static enum askue_err mark_paid(struct askue_ledger *l, int64_t sid)
{
	static const char upd[] = "UPDATE invoice SET status = 'paid' WHERE id = ? AND status = 'current'";
	for (;;) {
		sqlite3_stmt *st;
		enum askue_err err = askue_ledger_stmt(l, paid_sql, &st);
		if (err)
			return err;
		sqlite3_bind_int64(st, 1, sid);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "invoice paid");
		}
		int64_t id = sqlite3_column_int64(st, 0);
		char number[64], period[16], due[ASKUE_DATE_BUF], account[ASKUE_ACCOUNT_BUF];
		snprintf(number, sizeof number, "%s", askue_column_text(st, 1));
		snprintf(period, sizeof period, "%s", askue_column_text(st, 2));
		snprintf(due, sizeof due, "%s", askue_column_text(st, 3));
		snprintf(account, sizeof account, "%s", askue_column_text(st, 4));
		sqlite3_reset(st);
		sqlite3_stmt *u;
		if ((err = askue_ledger_stmt(l, upd, &u)))
			return err;
		sqlite3_bind_int64(u, 1, id);
		if ((err = askue_ledger_step_done(l, u, "invoice paid")) ||
		    (err = journal_paid(l, sid, account, number, period, due)))
			return err;
	}
}

enum askue_err askue_account_settle_tx(struct askue_ledger *l, int64_t subscriber_id)
{
	struct items charges = {0}, credits = {0};
	enum askue_err err = load_items(l, credits_sql, subscriber_id, 1, &credits);
	if (!err && credits.n)
		err = load_items(l, charges_sql, subscriber_id, 0, &charges);
	for (size_t i = 0; !err && i < credits.n && charges.n; i++)
		err = settle_credit(l, &credits.v[i], &charges);
	if (!err)
		err = mark_paid(l, subscriber_id);
	free(charges.v);
	free(credits.v);
	return err;
}

enum askue_err askue_account_balance(struct askue_ledger *l, int64_t subscriber_id,
                                     struct askue_money *out)
{
	static const char sql[] =
		"SELECT COALESCE(sum(amount_kop), 0) FROM posting WHERE subscriber_id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	int rc = sqlite3_step(st);
	int64_t kop = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return askue_ledger_fail(l, rc, "balance");
	out->kop = kop;
	return ASKUE_OK;
}

static enum askue_err open_credit(struct askue_ledger *l, int64_t sid, struct askue_money *out)
{
	struct items credits = {0};
	enum askue_err err = load_items(l, credits_sql, sid, 1, &credits);
	int64_t kop = 0;
	for (size_t i = 0; i < credits.n; i++)
		kop += credits.v[i].open_kop;
	free(credits.v);
	if (!err)
		out->kop = kop;
	return err;
}

enum askue_err askue_account_open(struct askue_ledger *l, int64_t subscriber_id,
                                  int (*fn)(const struct askue_open_charge *, void *), void *arg,
                                  struct askue_money *credit_out)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, charges_sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_open_charge c = {
			.posting_id = sqlite3_column_int64(st, 0),
			.open = {sqlite3_column_int64(st, 4)},
			.amount = {sqlite3_column_int64(st, 8)},
		};
		snprintf(c.kind, sizeof c.kind, "%s", askue_column_text(st, 1));
		snprintf(c.period, sizeof c.period, "%s", askue_column_text(st, 6));
		snprintf(c.invoice, sizeof c.invoice, "%s", askue_column_text(st, 7));
		if ((err = askue_date_parse(askue_column_text(st, 5), &c.due)) || fn(&c, arg))
			break;
	}
	sqlite3_reset(st);
	if (err)
		return err;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "account");
	return credit_out ? open_credit(l, subscriber_id, credit_out) : ASKUE_OK;
}

/* ---- posting a payment ---------------------------------------------------- */

static enum askue_err check_in(const struct askue_payment_in *in)
{
	char a[ASKUE_NUM_BUF], d1[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	if (in->amount.kop <= 0 || in->amount.kop > ASKUE_MONEY_KOP_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "amount %s: a payment is more than zero%s",
		                     askue_money_format(in->amount, a),
		                     in->amount.kop > 0 ? " and at most 10^13 roubles" : "");
	if (in->date.days > in->today.days)
		return askue_err_set(ASKUE_ERR_INVALID, "date %s is in the future (today is %s)",
		                     askue_date_format(in->date, d1), askue_date_format(in->today, d2));
	if (in->ref && strlen(in->ref) > ASKUE_PAYMENT_REF_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "ref longer than %d bytes",
		                     ASKUE_PAYMENT_REF_BYTES_MAX);
	return ASKUE_OK;
}

/* The payment posted with ref, if any: ASKUE_ERR_NOT_FOUND without a message. */
static enum askue_err find_ref(struct askue_ledger *l, const char *ref, struct askue_payment *out)
{
	static const char sql[] = "SELECT id FROM payment WHERE ref = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, sql, ref, &st);
	if (err)
		return err;
	int64_t id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return askue_payment_get(l, id, out);
}

static enum askue_err duplicate(const struct askue_payment *p)
{
	char a[ASKUE_NUM_BUF], d[ASKUE_DATE_BUF];
	return askue_err_set(ASKUE_ERR_EXISTS,
	                     "ref '%s' is posted already (payment %lld: account %s, %s on %s):"
	                     " a duplicate, not posted again",
	                     p->ref, (long long)p->id, p->account, askue_money_format(p->amount, a),
	                     askue_date_format(p->date, d));
}

static enum askue_err journal_payment(struct askue_ledger *l, const struct askue_payment *p)
{
	char a[ASKUE_NUM_BUF], d[ASKUE_DATE_BUF];
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return askue_err_set(ASKUE_ERR_NOMEM, "payment: out of memory");
	askue_json_add_int(j, "payment", p->id);
	cJSON_AddStringToObject(j, "amount", askue_money_format(p->amount, a));
	cJSON_AddStringToObject(j, "date", askue_date_format(p->date, d));
	cJSON_AddStringToObject(j, "ref", p->ref);
	cJSON_AddStringToObject(j, "source", p->source);
	enum askue_err err = askue_journal_append(l, ASKUE_EV_PAYMENT_TAKEN, p->account, j);
	cJSON_Delete(j);
	return err;
}

static enum askue_err insert_payment(struct askue_ledger *l, struct askue_payment *p)
{
	static const char pay[] =
		"INSERT INTO payment(subscriber_id, amount_kop, date, ref, source, created)"
		" VALUES (?, ?, ?, ?, ?, ?)";
	static const char post[] =
		"INSERT INTO posting(subscriber_id, kind, date, amount_kop, payment_id, created)"
		" VALUES (?, 'payment', ?, ?, ?, ?)";
	char d[ASKUE_DATE_BUF];
	int64_t now = wall_now();
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, pay, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, p->subscriber_id);
	sqlite3_bind_int64(st, 2, p->amount.kop);
	sqlite3_bind_text(st, 3, askue_date_format(p->date, d), -1, SQLITE_TRANSIENT);
	askue_bind_text(st, 4, p->ref[0] ? p->ref : NULL);
	sqlite3_bind_text(st, 5, p->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if ((err = askue_ledger_step_done(l, st, "payment")))
		return err;
	p->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	if ((err = askue_ledger_stmt(l, post, &st)))
		return err;
	sqlite3_bind_int64(st, 1, p->subscriber_id);
	sqlite3_bind_text(st, 2, d, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, -p->amount.kop);
	sqlite3_bind_int64(st, 4, p->id);
	sqlite3_bind_int64(st, 5, now);
	if ((err = askue_ledger_step_done(l, st, "payment posting")))
		return err;
	p->posting_id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	return ASKUE_OK;
}

static enum askue_err journal_assigned(struct askue_ledger *l, int64_t suspense_id,
                                       const struct askue_payment *p)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return askue_err_set(ASKUE_ERR_NOMEM, "payment: out of memory");
	askue_json_add_int(j, "suspense", suspense_id);
	askue_json_add_int(j, "payment", p->id);
	enum askue_err err = askue_journal_append(l, ASKUE_EV_PAYMENT_ASSIGNED, p->account, j);
	cJSON_Delete(j);
	return err;
}

/* Close suspense row id (or, id 0, the open row with p's ref) as assigned
 * to p, and journal it. */
static enum askue_err close_suspense(struct askue_ledger *l, int64_t id,
                                     const struct askue_payment *p)
{
	static const char find[] =
		"SELECT id FROM payment_suspense WHERE ref = ? AND ref != '' AND status = 'open'";
	static const char upd[] =
		"UPDATE payment_suspense SET status = 'assigned', payment_id = ?2, resolved = ?3,"
		" note = ?4 WHERE id = ?1 AND status = 'open'";
	enum askue_err err;
	sqlite3_stmt *st;
	if (!id) {
		if (!p->ref[0])
			return ASKUE_OK;
		err = askue_ledger_row(l, find, p->ref, &st);
		if (err == ASKUE_ERR_NOT_FOUND)
			return ASKUE_OK;
		if (err)
			return err;
		id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	char note[256];
	snprintf(note, sizeof note, "posted to %s as payment %lld (%s)", p->account,
	         (long long)p->id, p->source);
	if ((err = askue_ledger_stmt(l, upd, &st)))
		return err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, p->id);
	sqlite3_bind_int64(st, 3, wall_now());
	sqlite3_bind_text(st, 4, note, -1, SQLITE_TRANSIENT);
	if ((err = askue_ledger_step_done(l, st, "suspense")))
		return err;
	if (sqlite3_changes(askue_ledger_db(l)) != 1)
		return askue_err_set(ASKUE_ERR_CONFLICT, "suspense %lld is not open", (long long)id);
	return journal_assigned(l, id, p);
}

/* Post for subscriber s (looked up already); suspense_id as close_suspense. */
static enum askue_err post_for(struct askue_ledger *l, const struct askue_subscriber *s,
                               const struct askue_payment_in *in, int64_t suspense_id,
                               struct askue_payment *out)
{
	struct askue_payment p = {.subscriber_id = s->id, .amount = in->amount, .date = in->date};
	snprintf(p.account, sizeof p.account, "%s", s->account);
	snprintf(p.ref, sizeof p.ref, "%s", in->ref ? in->ref : "");
	snprintf(p.source, sizeof p.source, "%s", in->source && *in->source ? in->source : "manual");
	struct askue_payment old = {0};
	enum askue_err err = p.ref[0] ? find_ref(l, p.ref, &old) : ASKUE_ERR_NOT_FOUND;
	if (!err)
		return duplicate(&old);
	if (err != ASKUE_ERR_NOT_FOUND)
		return err;
	if ((err = insert_payment(l, &p)) || (err = journal_payment(l, &p)) ||
	    (err = close_suspense(l, suspense_id, &p)) ||
	    (err = askue_account_settle_tx(l, p.subscriber_id)))
		return err;
	if (!out)
		return ASKUE_OK;
	return askue_payment_get(l, p.id, out);
}

enum askue_err askue_payment_post_tx(struct askue_ledger *l, const struct askue_payment_in *in,
                                     struct askue_payment *out)
{
	struct askue_subscriber s;
	enum askue_err err = check_in(in);
	if (!err)
		err = askue_subscriber_get(l, in->account, &s);
	if (err)
		return err;
	return post_for(l, &s, in, 0, out);
}

enum askue_err askue_payment_post(struct askue_ledger *l, const struct askue_payment_in *in,
                                  struct askue_payment *out)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if ((err = askue_payment_post_tx(l, in, out)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

/* ---- reading payments and allocations ------------------------------------ */

#define PAYMENT_COLUMNS                                                                     \
	"p.id, p.subscriber_id, s.account, p.amount_kop, p.date, COALESCE(p.ref, ''), p.source," \
	" t.id, -t.amount_kop - COALESCE((SELECT sum(a.amount_kop) FROM allocation a"           \
	"  WHERE a.credit_posting_id = t.id), 0)"                                                \
	" FROM payment p JOIN subscriber s ON s.id = p.subscriber_id"                          \
	" JOIN posting t ON t.payment_id = p.id AND t.kind = 'payment'"

static enum askue_err read_payment(sqlite3_stmt *st, struct askue_payment *p)
{
	memset(p, 0, sizeof *p);
	p->id = sqlite3_column_int64(st, 0);
	p->subscriber_id = sqlite3_column_int64(st, 1);
	snprintf(p->account, sizeof p->account, "%s", askue_column_text(st, 2));
	p->amount.kop = sqlite3_column_int64(st, 3);
	snprintf(p->ref, sizeof p->ref, "%s", askue_column_text(st, 5));
	snprintf(p->source, sizeof p->source, "%s", askue_column_text(st, 6));
	p->posting_id = sqlite3_column_int64(st, 7);
	p->unallocated.kop = sqlite3_column_int64(st, 8);
	return column_date(st, 4, &p->date);
}

enum askue_err askue_payment_get(struct askue_ledger *l, int64_t id, struct askue_payment *out)
{
	static const char sql[] = "SELECT " PAYMENT_COLUMNS " WHERE p.id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = read_payment(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "payment %lld: no such payment",
		                     (long long)id);
	return rc == SQLITE_ROW ? err : askue_ledger_fail(l, rc, "payment");
}

enum askue_err askue_payment_each(struct askue_ledger *l, int64_t subscriber_id,
                                  int (*fn)(const struct askue_payment *, void *), void *arg)
{
	static const char sql[] =
		"SELECT " PAYMENT_COLUMNS " WHERE p.subscriber_id = ? ORDER BY p.date, p.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	int rc;
	struct askue_payment p;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((err = read_payment(st, &p)) || fn(&p, arg))
			break;
	sqlite3_reset(st);
	if (err)
		return err;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "payments");
}

enum askue_err askue_allocation_each(struct askue_ledger *l, int64_t credit_posting_id,
                                     int (*fn)(const struct askue_allocation *, void *), void *arg)
{
	static const char sql[] =
		"SELECT a.id, COALESCE(a.payment_id, 0), a.credit_posting_id, a.charge_posting_id,"
		" p.kind, COALESCE(p.period, i.period, ''), COALESCE(i.number, ''), a.amount_kop, a.date"
		" FROM allocation a JOIN posting p ON p.id = a.charge_posting_id"
		" LEFT JOIN correction c ON c.id = p.correction_id"
		" LEFT JOIN invoice i ON i.id = COALESCE(p.invoice_id, c.invoice_id)"
		" WHERE a.credit_posting_id = ? ORDER BY a.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, credit_posting_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_allocation a = {
			.id = sqlite3_column_int64(st, 0),
			.payment_id = sqlite3_column_int64(st, 1),
			.credit_posting_id = sqlite3_column_int64(st, 2),
			.charge_posting_id = sqlite3_column_int64(st, 3),
			.amount = {sqlite3_column_int64(st, 7)},
		};
		snprintf(a.charge_kind, sizeof a.charge_kind, "%s", askue_column_text(st, 4));
		snprintf(a.period, sizeof a.period, "%s", askue_column_text(st, 5));
		snprintf(a.invoice, sizeof a.invoice, "%s", askue_column_text(st, 6));
		if ((err = column_date(st, 8, &a.date)) || fn(&a, arg))
			break;
	}
	sqlite3_reset(st);
	if (err)
		return err;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK
	                                             : askue_ledger_fail(l, rc, "allocations");
}

/* ---- the suspense list ---------------------------------------------------- */

#define SUSPENSE_COLUMNS                                                             \
	"id, source, line, raw, account, amount_kop, COALESCE(date, ''), COALESCE(ref, '')," \
	" reason, created, status, COALESCE(payment_id, 0), COALESCE(resolved, 0), note"

static void read_suspense(sqlite3_stmt *st, struct askue_suspense *s)
{
	memset(s, 0, sizeof *s);
	s->id = sqlite3_column_int64(st, 0);
	snprintf(s->source, sizeof s->source, "%s", askue_column_text(st, 1));
	s->line = sqlite3_column_int64(st, 2);
	snprintf(s->raw, sizeof s->raw, "%s", askue_column_text(st, 3));
	snprintf(s->account, sizeof s->account, "%s", askue_column_text(st, 4));
	s->has_amount = sqlite3_column_type(st, 5) != SQLITE_NULL;
	s->amount.kop = sqlite3_column_int64(st, 5);
	snprintf(s->date, sizeof s->date, "%s", askue_column_text(st, 6));
	snprintf(s->ref, sizeof s->ref, "%s", askue_column_text(st, 7));
	snprintf(s->reason, sizeof s->reason, "%s", askue_column_text(st, 8));
	s->created = sqlite3_column_int64(st, 9);
	snprintf(s->status, sizeof s->status, "%s", askue_column_text(st, 10));
	s->payment_id = sqlite3_column_int64(st, 11);
	s->resolved = sqlite3_column_int64(st, 12);
	snprintf(s->note, sizeof s->note, "%s", askue_column_text(st, 13));
}

enum askue_err askue_suspense_each(struct askue_ledger *l, int all,
                                   int (*fn)(const struct askue_suspense *, void *), void *arg)
{
	static const char sql[] = "SELECT " SUSPENSE_COLUMNS " FROM payment_suspense"
	                          " WHERE ?1 OR status = 'open' ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int(st, 1, all != 0);
	struct askue_suspense *s = calloc(1, sizeof *s);
	if (!s)
		return askue_err_set(ASKUE_ERR_NOMEM, "suspense: out of memory");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_suspense(st, s);
		if (fn(s, arg))
			break;
	}
	sqlite3_reset(st);
	free(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "suspense");
}

enum askue_err askue_suspense_get(struct askue_ledger *l, int64_t id, struct askue_suspense *out)
{
	static const char sql[] = "SELECT " SUSPENSE_COLUMNS " FROM payment_suspense WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_suspense(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "suspense %lld: no such row", (long long)id);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(l, rc, "suspense");
}

static enum askue_err get_open(struct askue_ledger *l, int64_t id, struct askue_suspense *s)
{
	enum askue_err err = askue_suspense_get(l, id, s);
	if (!err && strcmp(s->status, "open"))
		err = askue_err_set(ASKUE_ERR_CONFLICT, "suspense %lld is %s already (%s)",
		                    (long long)id, s->status, s->note);
	return err;
}

/* The payment an accountant makes of suspense row s. */
static enum askue_err assign_input(struct askue_ledger *l, const struct askue_suspense_assign *a,
                                   const struct askue_suspense *s, struct askue_payment_in *in)
{
	in->account = a->account;
	in->today = a->today;
	in->ref = s->ref;
	in->amount = a->has_amount ? a->amount : s->amount;
	if (!a->has_amount && !s->has_amount)
		return askue_err_set(ASKUE_ERR_INVALID, "suspense %lld has no valid amount: give --amount",
		                     (long long)s->id);
	in->date = a->date;
	if (!a->has_date && askue_date_parse(s->date, &in->date))
		return askue_err_set(ASKUE_ERR_INVALID, "suspense %lld has no valid date: give --date",
		                     (long long)s->id);
	struct askue_payment old = {0};
	enum askue_err err = s->ref[0] ? find_ref(l, s->ref, &old) : ASKUE_ERR_NOT_FOUND;
	if (!err)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "suspense %lld: ref '%s' is posted already as payment %lld to %s:"
		                     " reject this row instead",
		                     (long long)s->id, s->ref, (long long)old.id, old.account);
	return err == ASKUE_ERR_NOT_FOUND ? check_in(in) : err;
}

enum askue_err askue_suspense_assign(struct askue_ledger *l, const struct askue_suspense_assign *a,
                                     struct askue_payment *out)
{
	struct askue_suspense *s = calloc(1, sizeof *s);
	if (!s)
		return askue_err_set(ASKUE_ERR_NOMEM, "suspense: out of memory");
	struct askue_payment_in in = {0};
	struct askue_subscriber sub;
	char source[sizeof s->source + 64];
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		goto out;
	if ((err = get_open(l, a->id, s)) || (err = assign_input(l, a, s, &in)) ||
	    (err = askue_subscriber_get(l, a->account, &sub)))
		goto out;
	snprintf(source, sizeof source, "suspense %lld (%s:%lld)", (long long)s->id, s->source,
	         (long long)s->line);
	in.source = source;
	if ((err = post_for(l, &sub, &in, s->id, out)))
		goto out;
	err = askue_ledger_commit(l);
out:
	if (err)
		askue_ledger_rollback(l);
	free(s);
	return err;
}

static enum askue_err reject_tx(struct askue_ledger *l, const struct askue_suspense *s,
                                const char *reason)
{
	static const char upd[] =
		"UPDATE payment_suspense SET status = 'rejected', resolved = ?2, note = ?3"
		" WHERE id = ?1 AND status = 'open'";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, upd, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, wall_now());
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	if ((err = askue_ledger_step_done(l, st, "suspense")))
		return err;
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return askue_err_set(ASKUE_ERR_NOMEM, "suspense: out of memory");
	char a[ASKUE_NUM_BUF];
	askue_json_add_int(j, "suspense", s->id);
	cJSON_AddStringToObject(j, "reason", reason);
	cJSON_AddStringToObject(j, "ref", s->ref);
	if (s->has_amount)
		cJSON_AddStringToObject(j, "amount", askue_money_format(s->amount, a));
	err = askue_journal_append(l, ASKUE_EV_PAYMENT_REJECTED, s->account[0] ? s->account : s->source,
	                           j);
	cJSON_Delete(j);
	return err;
}

enum askue_err askue_suspense_reject(struct askue_ledger *l, int64_t id, const char *reason)
{
	if (!reason || !*reason)
		return askue_err_set(ASKUE_ERR_INVALID, "reject: say why (--reason)");
	if (strlen(reason) > ASKUE_PAYMENT_REASON_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "reject: reason longer than %d bytes",
		                     ASKUE_PAYMENT_REASON_BYTES_MAX);
	struct askue_suspense *s = calloc(1, sizeof *s);
	if (!s)
		return askue_err_set(ASKUE_ERR_NOMEM, "suspense: out of memory");
	enum askue_err err = askue_ledger_begin(l);
	if (!err && !(err = get_open(l, id, s)) && !(err = reject_tx(l, s, reason)))
		err = askue_ledger_commit(l);
	if (err)
		askue_ledger_rollback(l);
	free(s);
	return err;
}

/* ---- the bank-registry import --------------------------------------------- */

enum { COL_ACCOUNT, COL_AMOUNT, COL_DATE, COL_REF, N_COLS };
static const char *const col_names[N_COLS] = {"account", "amount", "date", "ref"};

struct import {
	struct askue_ledger *l;
	const char *path;
	const char *name; /* the file's name without its folder: the suspense source */
	struct askue_date today;
	struct askue_import_report *r;
	int col[N_COLS];
	int have_header;
	int in_tx;
	int batch;
};

/* One data row as read. */
struct row {
	int64_t line;
	char raw[ASKUE_CSV_ROW_BYTES_MAX + 1];
	char account[ASKUE_ACCOUNT_BUF * 2];
	char amount_text[64], date_text[64], ref[ASKUE_PAYMENT_REF_BYTES_MAX + 1];
	int has_amount, has_date;
	struct askue_money amount;
	struct askue_date date;
	struct askue_subscriber sub;
	char reason[1024];
};

static void trim_copy(char *dst, size_t size, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= size)
		n = size - 1; /* the caller checks lengths against the untrimmed field */
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static enum askue_err read_header(struct import *im, const struct askue_csv_row *row)
{
	for (int c = 0; c < N_COLS; c++)
		im->col[c] = -1;
	for (int i = 0; i < row->n; i++) {
		char name[64];
		trim_copy(name, sizeof name, row->fields[i]);
		for (int c = 0; c < N_COLS; c++)
			if (!strcasecmp(name, col_names[c]) && im->col[c] < 0)
				im->col[c] = i;
	}
	for (int c = 0; c < N_COLS; c++)
		if (im->col[c] < 0)
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "%s:%lld: header: column '%s' missing (expected"
			                     " account,amount,date,ref)",
			                     im->path, (long long)row->line, col_names[c]);
	im->have_header = 1;
	return ASKUE_OK;
}

/* The row's fields joined again with commas (quoted where needed). */
static void raw_of(const struct askue_csv_row *row, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < row->n && o + 1 < size; i++) {
		const char *f = row->fields[i];
		int quote = strpbrk(f, ",;\"\n") != NULL;
		if (i)
			buf[o++] = ',';
		if (quote && o + 1 < size)
			buf[o++] = '"';
		for (; *f && o + 2 < size; f++) {
			if (*f == '"')
				buf[o++] = '"';
			buf[o++] = *f;
		}
		if (quote && o + 1 < size)
			buf[o++] = '"';
		buf[o] = '\0';
	}
}

static void add_reason(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(struct row *r, const char *fmt, ...)
{
	size_t o = strlen(r->reason);
	if (o && o + 2 < sizeof r->reason) {
		memcpy(r->reason + o, "; ", 3);
		o += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason + o, sizeof r->reason - o, fmt, ap);
	va_end(ap);
}

static const char *field(const struct import *im, const struct askue_csv_row *row, int c)
{
	return im->col[c] < row->n ? row->fields[im->col[c]] : "";
}

static void parse_amount(struct row *r)
{
	char text[sizeof r->amount_text];
	snprintf(text, sizeof text, "%s", r->amount_text);
	char *comma = strchr(text, ',');
	if (comma && !strchr(text, '.') && !strchr(comma + 1, ','))
		*comma = '.'; /* a decimal comma, as Russian bank files write it */
	if (!text[0]) {
		add_reason(r, "amount missing");
	} else if (askue_money_parse(text, &r->amount)) {
		add_reason(r, "amount '%s' is not a sum of roubles (1234.56)", r->amount_text);
	} else {
		r->has_amount = 1;
		if (r->amount.kop <= 0)
			add_reason(r, "amount %s: a payment is more than zero", r->amount_text);
	}
}

static void parse_date(struct row *r, struct askue_date today)
{
	char d[ASKUE_DATE_BUF];
	if (!r->date_text[0]) {
		add_reason(r, "date missing");
	} else if (askue_date_parse(r->date_text, &r->date)) {
		add_reason(r, "%s", askue_err_msg());
	} else if (r->date.days > today.days) {
		add_reason(r, "date %s is in the future (today is %s)", r->date_text,
		           askue_date_format(today, d));
	} else {
		r->has_date = 1;
	}
}

/* Parse and check one row; r->reason stays "" when it can be posted. */
static enum askue_err parse_row(struct import *im, const struct askue_csv_row *row, struct row *r)
{
	r->line = row->line;
	raw_of(row, r->raw, sizeof r->raw);
	trim_copy(r->account, sizeof r->account, field(im, row, COL_ACCOUNT));
	trim_copy(r->amount_text, sizeof r->amount_text, field(im, row, COL_AMOUNT));
	trim_copy(r->date_text, sizeof r->date_text, field(im, row, COL_DATE));
	trim_copy(r->ref, sizeof r->ref, field(im, row, COL_REF));
	if (row->overflow)
		add_reason(r, "row longer than %d bytes or %d fields", ASKUE_CSV_ROW_BYTES_MAX,
		           ASKUE_CSV_FIELDS_MAX);
	parse_amount(r);
	parse_date(r, im->today);
	if (!r->ref[0])
		add_reason(r, "ref missing (the bank's reference of the payment)");
	else if (strlen(field(im, row, COL_REF)) > ASKUE_PAYMENT_REF_BYTES_MAX)
		add_reason(r, "ref longer than %d bytes", ASKUE_PAYMENT_REF_BYTES_MAX);
	if (!r->account[0]) {
		add_reason(r, "account missing");
		return ASKUE_OK;
	}
	enum askue_err err = askue_subscriber_get(im->l, r->account, &r->sub);
	if (err == ASKUE_ERR_NOT_FOUND || err == ASKUE_ERR_INVALID)
		add_reason(r, "%s", askue_err_msg());
	else if (err)
		return err;
	return ASKUE_OK;
}

static void report(struct import *im, const struct row *r, enum askue_import_outcome what,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(struct import *im, const struct row *r, enum askue_import_outcome what,
                   const char *fmt, ...)
{
	im->r->count[what]++;
	if (r->has_amount)
		im->r->amount[what].kop += r->amount.kop;
	if (!im->r->on_row || what == ASKUE_IMPORT_POSTED)
		return;
	char msg[1400];
	int n = snprintf(msg, sizeof msg, "%s:%lld: ", im->path, (long long)r->line);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof msg)
		vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	im->r->on_row(msg, what, im->r->arg);
}

/* The suspense row this one is already, if any: the open row with its ref,
 * or the row of the same file, line and text, whatever became of it. */
static enum askue_err suspended_already(struct import *im, const struct row *r, int64_t *id)
{
	static const char sql[] =
		"SELECT id FROM payment_suspense WHERE (?1 != '' AND ref = ?1 AND status = 'open')"
		" OR (source = ?2 AND line = ?3 AND raw = ?4) ORDER BY id LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(im->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, r->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, im->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->line);
	sqlite3_bind_text(st, 4, r->raw, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(im->l, rc, "suspense");
}

static enum askue_err journal_suspended(struct import *im, const struct row *r, int64_t id)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return askue_err_set(ASKUE_ERR_NOMEM, "suspense: out of memory");
	char a[ASKUE_NUM_BUF];
	askue_json_add_int(j, "suspense", id);
	cJSON_AddStringToObject(j, "file", im->name);
	askue_json_add_int(j, "line", r->line);
	cJSON_AddStringToObject(j, "reason", r->reason);
	cJSON_AddStringToObject(j, "ref", r->ref);
	if (r->has_amount)
		cJSON_AddStringToObject(j, "amount", askue_money_format(r->amount, a));
	enum askue_err err = askue_journal_append(im->l, ASKUE_EV_PAYMENT_SUSPENDED,
	                                          r->account[0] ? r->account : im->name, j);
	cJSON_Delete(j);
	return err;
}

static enum askue_err suspend(struct import *im, const struct row *r)
{
	static const char sql[] =
		"INSERT INTO payment_suspense(source, line, raw, account, amount_kop, date, ref, reason,"
		" created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	int64_t id;
	enum askue_err err = suspended_already(im, r, &id);
	if (err)
		return err;
	if (id) {
		report(im, r, ASKUE_IMPORT_ALREADY_SUSPENDED, "in suspense already (%lld): %s",
		       (long long)id, r->reason);
		return ASKUE_OK;
	}
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(im->l, sql, &st)))
		return err;
	sqlite3_bind_text(st, 1, im->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->line);
	sqlite3_bind_text(st, 3, r->raw, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->account, -1, SQLITE_STATIC);
	if (r->has_amount)
		sqlite3_bind_int64(st, 5, r->amount.kop);
	askue_bind_text(st, 6, r->date_text[0] ? r->date_text : NULL);
	askue_bind_text(st, 7, r->ref[0] ? r->ref : NULL);
	sqlite3_bind_text(st, 8, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, wall_now());
	if ((err = askue_ledger_step_done(im->l, st, "suspense")))
		return err;
	id = sqlite3_last_insert_rowid(askue_ledger_db(im->l));
	if ((err = journal_suspended(im, r, id)))
		return err;
	report(im, r, ASKUE_IMPORT_SUSPENDED, "suspense %lld: %s", (long long)id, r->reason);
	return ASKUE_OK;
}

/* Was payment p made from a suspense row of this ref (an accountant's
 * assignment, maybe with a corrected amount)? */
static enum askue_err assigned_from_suspense(struct import *im, const struct askue_payment *p,
                                             int *out)
{
	static const char sql[] =
		"SELECT 1 FROM payment_suspense WHERE payment_id = ?1 AND ref = ?2 LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(im->l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, p->ref, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	*out = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(im->l, rc, "suspense");
}

/* A good row whose ref is posted: the same payment again (a duplicate), or
 * a different payment under a used ref (suspense). */
static enum askue_err posted_ref(struct import *im, struct row *r, const struct askue_payment *p)
{
	char a[ASKUE_NUM_BUF], d[ASKUE_DATE_BUF];
	int same = p->subscriber_id == r->sub.id && p->amount.kop == r->amount.kop &&
	           p->date.days == r->date.days;
	enum askue_err err = same ? ASKUE_OK : assigned_from_suspense(im, p, &same);
	if (err)
		return err;
	if (same) {
		report(im, r, ASKUE_IMPORT_DUPLICATE, "ref '%s' is posted already (payment %lld):"
		       " a duplicate, not posted again", r->ref, (long long)p->id);
		return ASKUE_OK;
	}
	add_reason(r, "ref '%s' is posted already as payment %lld (account %s, %s on %s)"
	           " and this row differs", r->ref, (long long)p->id, p->account,
	           askue_money_format(p->amount, a), askue_date_format(p->date, d));
	return suspend(im, r);
}

static enum askue_err import_row(struct import *im, const struct askue_csv_row *row, struct row *r)
{
	memset(r, 0, sizeof *r);
	enum askue_err err = parse_row(im, row, r);
	if (err)
		return err;
	if (r->has_amount)
		im->r->total.kop += r->amount.kop;
	if (r->reason[0])
		return suspend(im, r);
	struct askue_payment old = {0};
	err = find_ref(im->l, r->ref, &old);
	if (!err)
		return posted_ref(im, r, &old);
	if (err != ASKUE_ERR_NOT_FOUND)
		return err;
	char source[sizeof old.source];
	snprintf(source, sizeof source, "%s:%lld", im->name, (long long)r->line);
	struct askue_payment_in in = {.account = r->account, .amount = r->amount, .date = r->date,
	                              .ref = r->ref, .source = source, .today = im->today};
	if ((err = post_for(im->l, &r->sub, &in, 0, NULL)))
		return err;
	report(im, r, ASKUE_IMPORT_POSTED, "posted");
	return ASKUE_OK;
}

static int blank(const struct askue_csv_row *row)
{
	for (int i = 0; i < row->n; i++)
		for (const char *p = row->fields[i]; *p; p++)
			if (*p != ' ' && *p != '\t' && *p != '\r')
				return 0;
	return 1;
}

static enum askue_err on_csv_row(const struct askue_csv_row *row, void *arg)
{
	struct import *im = arg;
	if (!im->have_header)
		return read_header(im, row);
	if (blank(row))
		return ASKUE_OK;
	enum askue_err err;
	if (!im->in_tx) {
		if ((err = askue_ledger_begin(im->l)))
			return err;
		im->in_tx = 1;
	}
	struct row *r = malloc(sizeof *r);
	if (!r)
		return askue_err_set(ASKUE_ERR_NOMEM, "import: out of memory");
	im->r->rows++;
	err = import_row(im, row, r);
	free(r);
	if (err) {
		askue_err_prefix("%s:%lld: ", im->path, (long long)row->line);
		return err;
	}
	if (++im->batch >= ASKUE_PAYMENT_IMPORT_BATCH_ROWS && !im->r->dry_run) {
		if ((err = askue_ledger_commit(im->l)))
			return err;
		im->in_tx = 0;
		im->batch = 0;
	}
	return ASKUE_OK;
}

enum askue_err askue_payments_import(struct askue_ledger *l, const char *path,
                                     struct askue_date today, struct askue_import_report *report_out)
{
	const char *slash = strrchr(path, '/');
	struct import im = {.l = l, .path = path, .name = slash ? slash + 1 : path, .today = today,
	                    .r = report_out};
	enum askue_err err = askue_csv_each(path, on_csv_row, &im);
	if (!err && !im.have_header)
		err = askue_err_set(ASKUE_ERR_INVALID, "%s: empty file: the header account,amount,date,ref"
		                    " is required", path);
	if (!err && im.in_tx && !report_out->dry_run && !(err = askue_ledger_commit(l)))
		im.in_tx = 0;
	if (im.in_tx)
		askue_ledger_rollback(l);
	return err;
}
