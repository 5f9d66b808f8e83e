/* payment — see payment.h. The account's settlement (allocation of credits
 * to charges, invoices becoming paid) and the posting of payments; the
 * suspense list and the bank-registry import are in payment_import.c's
 * half below (same file: they share the posting path). */
#include "payment.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	" WHERE i.subscriber_id = ?1 AND i.status = 'current' AND NOT EXISTS ("
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
	struct askue_payment old;
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
