/* accrual — see accrual.h. Reads the posting, invoice, allocation and
 * penalty_accrual tables; writes penalty_charge, penalty_accrual,
 * invoice_overdue, penalty postings and the journal, inside the caller's
 * transaction. The charge and its calculation first, the daily run last. */
#include "accrual.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "payment.h"

struct askue_date askue_accrual_effective_due(const struct askue_penalty_rules *r,
                                              struct askue_date due)
{
	/* penalty.c refuses a calendar with a month of non-working days; here
	 * the same bound keeps a broken calendar from looping. */
	for (int guard = 0; guard <= 30 && !askue_penalty_working_day(r, due); guard++)
		due = askue_date_add_days(due, 1);
	return due;
}

static enum askue_err column_date(sqlite3_stmt *st, int col, const char *what,
                                  struct askue_date *out)
{
	enum askue_err err = askue_date_parse(askue_column_text(st, col), out);
	if (err)
		askue_err_prefix("ledger %s: ", what);
	return err;
}

static enum askue_err column_period(sqlite3_stmt *st, int col, struct askue_period *out)
{
	enum askue_err err = askue_period_parse(askue_column_text(st, col), out);
	if (err)
		askue_err_prefix("ledger posting period: ");
	return err;
}

/* The due date of a charge posting: its invoice's; a debit correction's is
 * that of the period it was made in. */
static enum askue_err charge_due(const struct askue_rules *rules, sqlite3_stmt *st, int kind_col,
                                 int date_col, int due_col, struct askue_date *due)
{
	if (!strcmp(askue_column_text(st, kind_col), "invoice"))
		return column_date(st, due_col, "invoice due", due);
	struct askue_date made;
	enum askue_err err = column_date(st, date_col, "posting date", &made);
	return err ? err : askue_rules_due_date(rules, askue_period_of(made), due);
}

static enum askue_err cursor_get(struct askue_ledger *l, int64_t *cursor)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		l, "SELECT value FROM counter WHERE name = 'penalty_posting_cursor'", &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return askue_ledger_fail(l, rc, "penalty posting cursor");
	}
	*cursor = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ASKUE_OK;
}

static enum askue_err cursor_set(struct askue_ledger *l, int64_t cursor)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		l, "UPDATE counter SET value = ? WHERE name = 'penalty_posting_cursor'", &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, cursor);
	return askue_ledger_step_done(l, st, "penalty posting cursor");
}

static enum askue_err sync_one(struct askue_ledger *l, const struct askue_rules *rules,
                               sqlite3_stmt *st)
{
	struct askue_date due;
	enum askue_err err = charge_due(rules, st, 2, 3, 6, &due);
	if (err)
		return err;
	sqlite3_stmt *ins;
	if ((err = askue_ledger_stmt(l,
	                             "INSERT INTO penalty_charge(charge_posting_id, subscriber_id,"
	                             " invoice_id, period, due, base_kop) VALUES (?,?,?,?,?,?)",
	                             &ins)))
		return err;
	char buf[ASKUE_DATE_BUF];
	sqlite3_bind_int64(ins, 1, sqlite3_column_int64(st, 0));
	sqlite3_bind_int64(ins, 2, sqlite3_column_int64(st, 1));
	if (!strcmp(askue_column_text(st, 2), "invoice"))
		sqlite3_bind_int64(ins, 3, sqlite3_column_int64(st, 5));
	askue_bind_text(ins, 4, askue_column_text(st, 4));
	askue_bind_text(ins, 5, askue_date_format(due, buf));
	sqlite3_bind_int64(ins, 6, sqlite3_column_int64(st, 7));
	return askue_ledger_step_done(l, ins, "penalty charge");
}

enum askue_err askue_accrual_sync_tx(struct askue_ledger *l, const struct askue_rules *rules,
                                     int64_t *added)
{
	static const char sql[] =
		"SELECT p.id, p.subscriber_id, p.kind, p.date, p.period, p.invoice_id, i.due,"
		" p.amount_kop FROM posting p LEFT JOIN invoice i ON i.id = p.invoice_id"
		" WHERE p.id > ? AND p.kind IN ('invoice','correction') AND p.amount_kop > 0"
		" AND p.period IS NOT NULL ORDER BY p.id";
	int64_t cursor = 0, n = 0;
	enum askue_err err = cursor_get(l, &cursor);
	sqlite3_stmt *st, *top;
	if (err || (err = askue_ledger_stmt(l, sql, &st)))
		return err;
	/* The cursor moves to the newest posting, charge or not, so that the
	 * payments and penalties after the last charge are not read again. */
	if ((err = askue_ledger_stmt(l, "SELECT coalesce(max(id), 0) FROM posting", &top)))
		return err;
	int rc = sqlite3_step(top);
	int64_t newest = rc == SQLITE_ROW ? sqlite3_column_int64(top, 0) : cursor;
	sqlite3_reset(top);
	sqlite3_bind_int64(st, 1, cursor);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !err) {
		err = sync_one(l, rules, st);
		n++;
	}
	if (!err && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = askue_ledger_fail(l, rc, "charges");
	sqlite3_reset(st);
	if (!err && newest > cursor)
		err = cursor_set(l, newest);
	if (!err)
		*added = n;
	return err;
}

static enum askue_err load_head(struct askue_ledger *l, const struct askue_rules *rules,
                                int64_t posting_id, struct askue_accrual_charge *c)
{
	static const char sql[] =
		"SELECT p.subscriber_id, p.kind, p.period, p.amount_kop, p.date, p.invoice_id, i.due,"
		" s.account, s.category, o.date, o.unpaid_kop, o.withdrawn"
		" FROM posting p JOIN subscriber s ON s.id = p.subscriber_id"
		" LEFT JOIN invoice i ON i.id = p.invoice_id"
		" LEFT JOIN invoice_overdue o ON o.invoice_id = i.id AND p.kind = 'invoice'"
		" WHERE p.id = ? AND p.kind IN ('invoice','correction') AND p.amount_kop > 0"
		" AND p.period IS NOT NULL";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, posting_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return askue_err_set(ASKUE_ERR_NOT_FOUND, "posting %lld is no charge",
			                     (long long)posting_id);
		return askue_ledger_fail(l, rc, "charge");
	}
	c->posting_id = posting_id;
	c->subscriber_id = sqlite3_column_int64(st, 0);
	int is_invoice = !strcmp(askue_column_text(st, 1), "invoice");
	c->base.kop = sqlite3_column_int64(st, 3);
	c->invoice_id = is_invoice ? sqlite3_column_int64(st, 5) : 0;
	snprintf(c->account, sizeof c->account, "%s", askue_column_text(st, 7));
	c->category = strcmp(askue_column_text(st, 8), "household") ? ASKUE_PENALTY_OTHER
	                                                            : ASKUE_PENALTY_HOUSEHOLD;
	if (!(err = column_period(st, 2, &c->period)))
		err = charge_due(rules, st, 1, 4, 6, &c->due);
	if (!err && sqlite3_column_type(st, 9) != SQLITE_NULL) {
		c->overdue = ASKUE_OVERDUE_JOURNALED;
		c->overdue_unpaid.kop = sqlite3_column_int64(st, 10);
		err = column_date(st, 9, "overdue date", &c->overdue_date);
	}
	if (!err && sqlite3_column_type(st, 11) != SQLITE_NULL) {
		c->overdue = ASKUE_OVERDUE_WITHDRAWN;
		err = column_date(st, 11, "overdue withdrawn", &c->overdue_withdrawn);
	}
	sqlite3_reset(st);
	return err;
}

/* Allocations as parts, merged per date; a credit correction's part is
 * dated on the due date (no penalty day on it). */
static enum askue_err load_parts(struct askue_ledger *l, struct askue_date upto,
                                 struct askue_accrual_charge *c)
{
	static const char sql[] =
		"SELECT CASE WHEN cp.kind = 'correction' THEN ?3 ELSE a.date END AS d,"
		" sum(a.amount_kop) FROM allocation a JOIN posting cp ON cp.id = a.credit_posting_id"
		" WHERE a.charge_posting_id = ?1 AND a.date <= ?2 GROUP BY d ORDER BY d";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	char upto_s[ASKUE_DATE_BUF], due_s[ASKUE_DATE_BUF];
	sqlite3_bind_int64(st, 1, c->posting_id);
	askue_bind_text(st, 2, askue_date_format(upto, upto_s));
	askue_bind_text(st, 3, askue_date_format(c->due, due_s));
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n_parts == ASKUE_ACCRUAL_PARTS_MAX) {
			err = askue_err_set(ASKUE_ERR_LIMIT, "charge %lld: more than %d settled parts",
			                    (long long)c->posting_id, ASKUE_ACCRUAL_PARTS_MAX);
			break;
		}
		struct askue_payment_part *p = &c->parts[c->n_parts];
		if ((err = column_date(st, 0, "allocation date", &p->date)))
			break;
		p->amount.kop = sqlite3_column_int64(st, 1);
		c->settled.kop += p->amount.kop;
		c->last_settled = p->date;
		c->n_parts++;
	}
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "allocations");
	sqlite3_reset(st);
	if (!err && c->settled.kop > c->base.kop)
		err = askue_err_set(ASKUE_ERR_INVALID, "charge %lld: allocations %lld exceed it (%lld)",
		                    (long long)c->posting_id, (long long)c->settled.kop,
		                    (long long)c->base.kop);
	return err;
}

static enum askue_err load_last_accrual(struct askue_ledger *l, struct askue_accrual_charge *c)
{
	static const char sql[] = "SELECT through, cumulative_kop FROM penalty_accrual"
	                          " WHERE charge_posting_id = ? ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, c->posting_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->has_accrual = 1;
		c->posted.kop = sqlite3_column_int64(st, 1);
		err = column_date(st, 0, "accrual through", &c->through);
	} else if (rc != SQLITE_DONE) {
		err = askue_ledger_fail(l, rc, "penalty accrual");
	}
	sqlite3_reset(st);
	return err;
}

enum askue_err askue_accrual_load(struct askue_ledger *l, const struct askue_rules *rules,
                                  int64_t posting_id, struct askue_date upto,
                                  struct askue_accrual_charge *out)
{
	memset(out, 0, offsetof(struct askue_accrual_charge, parts));
	enum askue_err err = load_head(l, rules, posting_id, out);
	if (!err)
		err = load_parts(l, upto, out);
	if (!err)
		err = load_last_accrual(l, out);
	return err;
}

enum askue_err askue_accrual_charges_of(struct askue_ledger *l, int64_t subscriber_id,
                                        int (*fn)(int64_t posting_id, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id FROM posting WHERE subscriber_id = ? AND kind IN ('invoice','correction')"
		" AND amount_kop > 0 AND period IS NOT NULL ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	/* Collect first: fn may use the ledger's cached statements. */
	int64_t *ids = malloc(ASKUE_ACCRUAL_CHARGES_MAX * sizeof *ids);
	if (!ids) {
		sqlite3_reset(st);
		return askue_err_set(ASKUE_ERR_NOMEM, "charges: out of memory");
	}
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < ASKUE_ACCRUAL_CHARGES_MAX)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		err = askue_err_set(ASKUE_ERR_LIMIT, "more than %d charges on one account",
		                    ASKUE_ACCRUAL_CHARGES_MAX);
	else if (rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "charges");
	for (int i = 0; !err && i < n; i++)
		if (fn(ids[i], arg))
			break;
	free(ids);
	return err;
}

enum askue_err askue_accrual_compute(const struct askue_rules *rules,
                                     const struct askue_accrual_charge *c,
                                     struct askue_date through, struct askue_penalty_result *out)
{
	enum askue_err err = askue_penalty_compute(askue_rules_penalty(rules), c->category, c->base,
	                                           c->due, c->parts, c->n_parts, through, out);
	if (err)
		askue_err_prefix("account %s, period charge %lld: ", c->account,
		                 (long long)c->posting_id);
	return err;
}

static void add_rate(cJSON *o, const char *key, int32_t bp)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%d.%02d", bp / 100, bp % 100);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_money(cJSON *o, const char *key, struct askue_money m)
{
	char buf[ASKUE_NUM_BUF];
	cJSON_AddStringToObject(o, key, askue_money_format(m, buf));
}

static void add_date(cJSON *o, const char *key, struct askue_date d)
{
	char buf[ASKUE_DATE_BUF];
	cJSON_AddStringToObject(o, key, askue_date_format(d, buf));
}

static cJSON *line_json(const struct askue_penalty_line *ln)
{
	cJSON *o = cJSON_CreateObject();
	add_date(o, "from", ln->from);
	add_date(o, "until", ln->until);
	askue_json_add_int(o, "day_from", ln->day_from);
	askue_json_add_int(o, "day_until", ln->day_until);
	add_money(o, "base", ln->base);
	if (ln->divisor) {
		char f[8];
		snprintf(f, sizeof f, "1/%d", ln->divisor);
		cJSON_AddStringToObject(o, "fraction", f);
	} else {
		cJSON_AddNullToObject(o, "fraction");
	}
	add_rate(o, "rate", ln->rate_bp);
	add_date(o, "rate_date", ln->rate_date);
	add_money(o, "amount", ln->amount);
	if (ln->note)
		cJSON_AddStringToObject(o, "note", ln->note);
	return o;
}

cJSON *askue_accrual_json(const struct askue_accrual_charge *c,
                          const struct askue_penalty_result *res)
{
	cJSON *o = cJSON_CreateObject();
	char per[16];
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "period", askue_period_format(c->period, per));
	add_money(o, "charge", c->base);
	add_date(o, "due", c->due);
	add_date(o, "clock_start", res->clock_start);
	add_money(o, "penalty", res->total);
	cJSON *lines = cJSON_AddArrayToObject(o, "lines");
	for (int i = 0; lines && i < res->n_lines; i++)
		cJSON_AddItemToArray(lines, line_json(&res->lines[i]));
	return o;
}

static enum askue_err insert_accrual(struct askue_ledger *l, const struct askue_accrual_charge *c,
                                     const struct askue_penalty_result *res,
                                     struct askue_date through, int64_t delta, int64_t created,
                                     int64_t *id)
{
	static const char sql[] =
		"INSERT INTO penalty_accrual(subscriber_id, charge_posting_id, through, cumulative_kop,"
		" posted_kop, details, created) VALUES (?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	cJSON *d = askue_accrual_json(c, res);
	char *text = d ? cJSON_PrintUnformatted(d) : NULL;
	cJSON_Delete(d);
	if (!text)
		return askue_err_set(ASKUE_ERR_NOMEM, "penalty accrual: out of memory");
	char buf[ASKUE_DATE_BUF];
	sqlite3_bind_int64(st, 1, c->subscriber_id);
	sqlite3_bind_int64(st, 2, c->posting_id);
	askue_bind_text(st, 3, askue_date_format(through, buf));
	sqlite3_bind_int64(st, 4, res->total.kop);
	sqlite3_bind_int64(st, 5, delta);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, created);
	cJSON_free(text);
	if (!(err = askue_ledger_step_done(l, st, "penalty accrual")))
		*id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	return err;
}

enum askue_err askue_accrual_post_tx(struct askue_ledger *l, const struct askue_accrual_charge *c,
                                     const struct askue_penalty_result *res,
                                     struct askue_date through, int64_t created,
                                     struct askue_money *delta)
{
	int64_t diff = res->total.kop - c->posted.kop, accrual_id = 0;
	if (diff == 0) {
		delta->kop = 0;
		return ASKUE_OK;
	}
	enum askue_err err = insert_accrual(l, c, res, through, diff, created, &accrual_id);
	sqlite3_stmt *st;
	if (err || (err = askue_ledger_stmt(l,
	                                    "INSERT INTO posting(subscriber_id, kind, date, period,"
	                                    " amount_kop, accrual_id, created)"
	                                    " VALUES (?, 'penalty', ?, ?, ?, ?, ?)",
	                                    &st)))
		return err;
	char day[ASKUE_DATE_BUF], per[16];
	sqlite3_bind_int64(st, 1, c->subscriber_id);
	askue_bind_text(st, 2, askue_date_format(through, day));
	askue_bind_text(st, 3, askue_period_format(c->period, per));
	sqlite3_bind_int64(st, 4, diff);
	sqlite3_bind_int64(st, 5, accrual_id);
	sqlite3_bind_int64(st, 6, created);
	if (!(err = askue_ledger_step_done(l, st, "penalty posting")))
		delta->kop = diff;
	return err;
}

/* *inserted: 1 when the invoice was not recorded overdue before; number
 * (at least 64 bytes) gets the invoice's number. */
static enum askue_err overdue_insert(struct askue_ledger *l, const struct askue_accrual_charge *c,
                                     struct askue_date today, int64_t unpaid, char *number,
                                     int *inserted)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		l, "INSERT INTO invoice_overdue(invoice_id, date, unpaid_kop) VALUES (?,?,?)"
		   " ON CONFLICT(invoice_id) DO UPDATE SET date = excluded.date,"
		   " unpaid_kop = excluded.unpaid_kop, withdrawn = NULL WHERE withdrawn IS NOT NULL",
		&st);
	if (err)
		return err;
	char buf[ASKUE_DATE_BUF];
	sqlite3_bind_int64(st, 1, c->invoice_id);
	askue_bind_text(st, 2, askue_date_format(today, buf));
	sqlite3_bind_int64(st, 3, unpaid);
	if ((err = askue_ledger_step_done(l, st, "invoice overdue")))
		return err;
	*inserted = sqlite3_changes(askue_ledger_db(l)) > 0;
	if (!*inserted)
		return ASKUE_OK;
	if ((err = askue_ledger_stmt(l, "SELECT number FROM invoice WHERE id = ?", &st)))
		return err;
	sqlite3_bind_int64(st, 1, c->invoice_id);
	int rc = sqlite3_step(st);
	snprintf(number, 64, "%s", rc == SQLITE_ROW ? askue_column_text(st, 0) : "");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(l, rc, "overdue invoice");
}

int64_t askue_accrual_unpaid_at_due(const struct askue_rules *rules,
                                    const struct askue_accrual_charge *c)
{
	struct askue_date eff = askue_accrual_effective_due(askue_rules_penalty(rules), c->due);
	int64_t unpaid = c->base.kop;
	for (int i = 0; i < c->n_parts && c->parts[i].date.days <= eff.days; i++)
		unpaid -= c->parts[i].amount.kop;
	return unpaid;
}

/* The details an overdue event and its withdrawal share. */
static cJSON *overdue_details(const struct askue_accrual_charge *c, const char *number,
                              struct askue_money unpaid)
{
	cJSON *d = cJSON_CreateObject();
	char per[16];
	cJSON_AddStringToObject(d, "invoice", number);
	cJSON_AddStringToObject(d, "period", askue_period_format(c->period, per));
	add_date(d, "due", c->due);
	add_money(d, "charge", c->base);
	add_money(d, "unpaid", unpaid);
	return d;
}

enum askue_err askue_accrual_overdue_tx(struct askue_ledger *l, const struct askue_rules *rules,
                                        const struct askue_accrual_charge *c,
                                        struct askue_date today, int *journaled)
{
	*journaled = 0;
	struct askue_date eff = askue_accrual_effective_due(askue_rules_penalty(rules), c->due);
	if (!c->invoice_id || today.days <= eff.days)
		return ASKUE_OK;
	int64_t unpaid = askue_accrual_unpaid_at_due(rules, c);
	if (unpaid <= 0)
		return ASKUE_OK;
	char number[64];
	int inserted;
	enum askue_err err = overdue_insert(l, c, today, unpaid, number, &inserted);
	if (err || !inserted)
		return err; /* journaled before */
	cJSON *d = overdue_details(c, number, (struct askue_money){unpaid});
	add_date(d, "date", today);
	err = askue_journal_append(l, ASKUE_EV_INVOICE_OVERDUE, c->account, d);
	cJSON_Delete(d);
	if (!err)
		*journaled = 1;
	return err;
}

enum askue_err askue_accrual_overdue_withdraw_tx(struct askue_ledger *l,
                                                 const struct askue_rules *rules,
                                                 const struct askue_accrual_charge *c,
                                                 struct askue_date today, int *withdrawn)
{
	*withdrawn = 0;
	if (!c->invoice_id || c->overdue != ASKUE_OVERDUE_JOURNALED ||
	    askue_accrual_unpaid_at_due(rules, c) > 0)
		return ASKUE_OK;
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		l, "UPDATE invoice_overdue SET withdrawn = ? WHERE invoice_id = ? AND withdrawn IS NULL"
		   " RETURNING (SELECT number FROM invoice WHERE id = invoice_id)",
		&st);
	if (err)
		return err;
	char number[64] = "";
	askue_bind_date(st, 1, today);
	sqlite3_bind_int64(st, 2, c->invoice_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(number, sizeof number, "%s", askue_column_text(st, 0));
	int done = rc == SQLITE_ROW ? sqlite3_step(st) : rc;
	sqlite3_reset(st);
	if (done != SQLITE_DONE)
		return askue_ledger_fail(l, done, "overdue withdrawal");
	if (rc != SQLITE_ROW)
		return ASKUE_OK; /* withdrawn before */
	cJSON *d = overdue_details(c, number, c->overdue_unpaid);
	add_date(d, "overdue", c->overdue_date);
	add_date(d, "date", today);
	err = askue_journal_append(l, ASKUE_EV_INVOICE_OVERDUE_WITHDRAWN, c->account, d);
	cJSON_Delete(d);
	if (!err)
		*withdrawn = 1;
	return err;
}

enum askue_err askue_accrual_close_tx(struct askue_ledger *l, int64_t posting_id,
                                      struct askue_date through)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(
		l, "UPDATE penalty_charge SET closed = ? WHERE charge_posting_id = ?", &st);
	if (err)
		return err;
	char buf[ASKUE_DATE_BUF];
	askue_bind_text(st, 1, askue_date_format(through, buf));
	sqlite3_bind_int64(st, 2, posting_id);
	return askue_ledger_step_done(l, st, "penalty charge");
}

/* The run (askue_accrual_run_tx): the working set, read whole before
 * anything is written (the run closes charges as it goes), by account. */
/* An open charge past due as the working set gives it, with what was
 * posted for it: all a run needs but the allocations. */
struct open_charge {
	int64_t posting_id, subscriber_id, invoice_id;
	char account[ASKUE_ACCOUNT_BUF];
	enum askue_penalty_category category;
	struct askue_period period;
	struct askue_date due;
	struct askue_money base;
	int has_accrual;
	struct askue_date through;
	struct askue_money posted;
	int overdue_done; /* journaled before, or no invoice */
	enum askue_accrual_overdue overdue; /* its record */
	struct askue_date overdue_date;
	struct askue_money overdue_unpaid;
};

struct run_state {
	struct askue_ledger *l;
	const struct askue_rules *rules;
	struct askue_accrual_run *run;
	struct open_charge *open;
	size_t n_open, cap_open;
	struct askue_accrual_charge charge;
	struct askue_penalty_result res;
	int64_t subscriber_id;           /* the account being accrued */
	char account[ASKUE_ACCOUNT_BUF];
	int64_t account_delta_kop;
	int account_settle; /* a correcting entry, or a charge settled with a new penalty */
	cJSON *account_charges;
};

static enum askue_err open_push(struct run_state *s, sqlite3_stmt *st)
{
	if (s->n_open == s->cap_open) {
		size_t cap = s->cap_open ? s->cap_open * 2 : 4096;
		void *v = realloc(s->open, cap * sizeof *s->open);
		if (!v)
			return askue_err_set(ASKUE_ERR_NOMEM, "penalties: out of memory");
		s->open = v;
		s->cap_open = cap;
	}
	struct open_charge *oc = &s->open[s->n_open];
	memset(oc, 0, sizeof *oc);
	oc->posting_id = sqlite3_column_int64(st, 0);
	oc->subscriber_id = sqlite3_column_int64(st, 1);
	oc->invoice_id = sqlite3_column_int64(st, 2);
	enum askue_err err = column_period(st, 3, &oc->period);
	if (!err)
		err = column_date(st, 4, "charge due", &oc->due);
	oc->base.kop = sqlite3_column_int64(st, 5);
	snprintf(oc->account, sizeof oc->account, "%s", askue_column_text(st, 6));
	oc->category = strcmp(askue_column_text(st, 7), "household") ? ASKUE_PENALTY_OTHER
	                                                             : ASKUE_PENALTY_HOUSEHOLD;
	oc->overdue_done = sqlite3_column_int(st, 8);
	if (!err && sqlite3_column_type(st, 11) != SQLITE_NULL) {
		oc->overdue = sqlite3_column_type(st, 13) == SQLITE_NULL ? ASKUE_OVERDUE_JOURNALED
		                                                        : ASKUE_OVERDUE_WITHDRAWN;
		oc->overdue_unpaid.kop = sqlite3_column_int64(st, 12);
		err = column_date(st, 11, "overdue date", &oc->overdue_date);
	}
	if (!err && sqlite3_column_type(st, 9) != SQLITE_NULL) {
		oc->has_accrual = 1;
		oc->posted.kop = sqlite3_column_int64(st, 10);
		err = column_date(st, 9, "accrual through", &oc->through);
	}
	if (!err)
		s->n_open++;
	return err;
}

static enum askue_err load_open(struct run_state *s)
{
	static const char sql[] =
		"SELECT c.charge_posting_id, c.subscriber_id, coalesce(c.invoice_id, 0), c.period,"
		" c.due, c.base_kop, s.account, s.category,"
		" c.invoice_id IS NULL OR (o.invoice_id IS NOT NULL AND o.withdrawn IS NULL),"
		" a.through, a.cumulative_kop, o.date, o.unpaid_kop, o.withdrawn"
		" FROM penalty_charge c JOIN subscriber s ON s.id = c.subscriber_id"
		" LEFT JOIN invoice_overdue o ON o.invoice_id = c.invoice_id"
		" LEFT JOIN penalty_accrual a ON a.id = (SELECT max(id) FROM penalty_accrual"
		"  WHERE charge_posting_id = c.charge_posting_id)"
		" WHERE c.closed IS NULL AND c.due < ? ORDER BY c.subscriber_id, c.charge_posting_id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(s->l, sql, &st);
	if (err)
		return err;
	char day[ASKUE_DATE_BUF];
	askue_bind_text(st, 1, askue_date_format(s->run->today, day));
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = open_push(s, st);
	if (!err && rc != SQLITE_DONE)
		err = askue_ledger_fail(s->l, rc, "open charges");
	sqlite3_reset(st);
	return err;
}

/* The account's penalty_accrued event, when anything was posted for it,
 * and the settling of its account (lib/payment.c) when it can change
 * anything: a correcting entry is a credit for the penalties; a penalty
 * posted on a charge settled in full may find open credit (an overpayment).
 * While an energy charge is unsettled the account holds no open credit. */
static enum askue_err flush_account(struct run_state *s)
{
	enum askue_err err = ASKUE_OK;
	cJSON *charges = s->account_charges;
	int settle = s->account_settle;
	s->account_charges = NULL;
	s->account_settle = 0;
	if (charges && settle && (err = askue_account_settle_tx(s->l, s->subscriber_id))) {
		cJSON_Delete(charges);
		return err;
	}
	if (charges) {
		cJSON *d = cJSON_CreateObject();
		char num[ASKUE_NUM_BUF];
		add_date(d, "date", s->run->today);
		cJSON_AddStringToObject(
			d, "amount", askue_money_format((struct askue_money){s->account_delta_kop}, num));
		cJSON_AddItemToObject(d, "charges", charges);
		err = askue_journal_append(s->l, ASKUE_EV_PENALTY_ACCRUED, s->account, d);
		if (!err)
			s->run->accounts++;
		if (!err && s->run->on_account)
			s->run->on_account(s->account, d, s->run->arg);
		else
			cJSON_Delete(d);
	}
	s->account_delta_kop = 0;
	return err;
}

static void note_charge(struct run_state *s, struct askue_money delta)
{
	if (!s->account_charges)
		s->account_charges = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();
	char per[16], num[ASKUE_NUM_BUF];
	cJSON_AddStringToObject(o, "period", askue_period_format(s->charge.period, per));
	cJSON_AddStringToObject(o, "penalty", askue_money_format(s->res.total, num));
	cJSON_AddStringToObject(o, "posted", askue_money_format(delta, num));
	cJSON_AddItemToArray(s->account_charges, o);
	s->account_delta_kop += delta.kop;
	if (delta.kop > 0)
		s->run->accrued.kop += delta.kop;
	else
		s->run->corrected.kop += delta.kop;
}

/* The charge of an open row with its allocations up to today. */
static enum askue_err load_open_charge(struct run_state *s, const struct open_charge *oc)
{
	struct askue_accrual_charge *c = &s->charge;
	memset(c, 0, offsetof(struct askue_accrual_charge, parts));
	c->posting_id = oc->posting_id;
	c->subscriber_id = oc->subscriber_id;
	c->invoice_id = oc->invoice_id;
	snprintf(c->account, sizeof c->account, "%s", oc->account);
	c->category = oc->category;
	c->period = oc->period;
	c->due = oc->due;
	c->base = oc->base;
	c->has_accrual = oc->has_accrual;
	c->through = oc->through;
	c->posted = oc->posted;
	c->overdue = oc->overdue;
	c->overdue_date = oc->overdue_date;
	c->overdue_unpaid = oc->overdue_unpaid;
	return load_parts(s->l, s->run->today, c);
}

static enum askue_err run_charge(struct run_state *s, const struct open_charge *oc)
{
	int64_t posting_id = oc->posting_id;
	struct askue_accrual_run *run = s->run;
	struct askue_accrual_charge *c = &s->charge;
	if (oc->has_accrual && oc->through.days > run->today.days) {
		run->behind++;
		return ASKUE_OK;
	}
	enum askue_err err = load_open_charge(s, oc);
	if (err)
		return err;
	snprintf(s->account, sizeof s->account, "%s", c->account);
	run->visited++;
	int journaled = 0, withdrawn = 0;
	if (!oc->overdue_done &&
	    (err = askue_accrual_overdue_tx(s->l, s->rules, c, run->today, &journaled)))
		return err;
	if (!journaled &&
	    (err = askue_accrual_overdue_withdraw_tx(s->l, s->rules, c, run->today, &withdrawn)))
		return err;
	run->overdue += journaled;
	run->withdrawn += withdrawn;
	if ((err = askue_accrual_compute(s->rules, c, run->today, &s->res)))
		return err;
	struct askue_money delta;
	if ((err = askue_accrual_post_tx(s->l, c, &s->res, run->today, run->created, &delta)))
		return err;
	if (delta.kop)
		note_charge(s, delta);
	if (delta.kop < 0 || (delta.kop > 0 && c->settled.kop == c->base.kop))
		s->account_settle = 1;
	if (c->settled.kop == c->base.kop) {
		run->closed++;
		err = askue_accrual_close_tx(s->l, posting_id, run->today);
	}
	return err;
}

static enum askue_err run_all(struct run_state *s)
{
	enum askue_err err = askue_accrual_sync_tx(s->l, s->rules, &s->run->added);
	if (!err)
		err = load_open(s);
	for (size_t i = 0; i < s->n_open && !err; i++) {
		if (s->open[i].subscriber_id != s->subscriber_id) {
			if ((err = flush_account(s)))
				break;
			s->subscriber_id = s->open[i].subscriber_id;
		}
		err = run_charge(s, &s->open[i]);
		if (err == ASKUE_ERR_INVALID || err == ASKUE_ERR_LIMIT || err == ASKUE_ERR_NOT_FOUND ||
		    err == ASKUE_ERR_RANGE) {
			s->run->exceptions++;
			if (s->run->on_exception)
				s->run->on_exception(s->open[i].account, s->open[i].posting_id,
				                     askue_err_msg(), s->run->arg);
			err = ASKUE_OK;
		}
	}
	if (!err)
		err = flush_account(s);
	return err;
}

enum askue_err askue_accrual_run_tx(struct askue_ledger *l, const struct askue_rules *rules,
                                    struct askue_accrual_run *run)
{
	struct run_state *s = calloc(1, sizeof *s); /* a charge and a calculation: large */
	if (!s)
		return askue_err_set(ASKUE_ERR_NOMEM, "penalties: out of memory");
	s->l = l;
	s->rules = rules;
	s->run = run;
	enum askue_err err = run_all(s);
	cJSON_Delete(s->account_charges);
	free(s->open);
	free(s);
	return err;
}
