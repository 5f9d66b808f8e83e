/* invoice — see invoice.h. Reading and writing invoices, their lines and
 * determinants, corrections and postings; every statement is cached by
 * the ledger. No policy here: what to bill is lib/billing.c's, when to
 * bill jobs/billing.c's. */
#include "invoice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVOICE_COLUMNS                                                                    \
	"i.id, i.number, i.subscriber_id, s.account, s.name, s.address, s.category, i.period," \
	" i.issued, i.due, i.previous_kop, i.payments_kop, i.penalties_kop, i.corrections_kop," \
	" i.charges_kop, i.total_kop, i.estimated, i.status, i.details, coalesce(i.run_id, 0)"
#define INVOICE_FROM " FROM invoice i JOIN subscriber s ON s.id = i.subscriber_id"

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static struct askue_date col_date(sqlite3_stmt *st, int col)
{
	struct askue_date d = {0};
	if (askue_date_parse(askue_column_text(st, col), &d))
		d.days = 0; /* the ledger's CHECKs keep dates well formed */
	return d;
}

static struct askue_money col_money(sqlite3_stmt *st, int col)
{
	return (struct askue_money){sqlite3_column_int64(st, col)};
}

char *askue_invoice_number(struct askue_period period, const char *account, char *buf)
{
	snprintf(buf, ASKUE_INVOICE_NUMBER_BUF, "%04d%02d-%s", period.year, period.month, account);
	return buf;
}

/* The header columns (INVOICE_COLUMNS) of the row st is on. */
static enum askue_err read_header(sqlite3_stmt *st, struct askue_invoice *inv, int with_details)
{
	memset(inv, 0, sizeof *inv);
	inv->id = sqlite3_column_int64(st, 0);
	copy(inv->number, sizeof inv->number, askue_column_text(st, 1));
	inv->subscriber_id = sqlite3_column_int64(st, 2);
	copy(inv->account, sizeof inv->account, askue_column_text(st, 3));
	copy(inv->name, sizeof inv->name, askue_column_text(st, 4));
	copy(inv->address, sizeof inv->address, askue_column_text(st, 5));
	copy(inv->category, sizeof inv->category, askue_column_text(st, 6));
	if (askue_period_parse(askue_column_text(st, 7), &inv->period))
		return askue_err_set(ASKUE_ERR_DB, "invoice %s: bad period in the ledger", inv->number);
	inv->issued = col_date(st, 8);
	inv->due = col_date(st, 9);
	inv->previous = col_money(st, 10);
	inv->payments = col_money(st, 11);
	inv->penalties = col_money(st, 12);
	inv->corrections = col_money(st, 13);
	inv->charges = col_money(st, 14);
	inv->total = col_money(st, 15);
	inv->estimated = sqlite3_column_int(st, 16);
	copy(inv->status, sizeof inv->status, askue_column_text(st, 17));
	inv->run_id = sqlite3_column_int64(st, 19);
	if (with_details && !(inv->details = strdup(askue_column_text(st, 18))))
		return askue_err_set(ASKUE_ERR_NOMEM, "invoice %s: out of memory", inv->number);
	return ASKUE_OK;
}

static enum askue_err read_lines(struct askue_ledger *l, struct askue_invoice *inv)
{
	static const char sql[] =
		"SELECT line_no, zone, zone_idx, wh, price_micro_rub, amount_kop, tariff, price_from,"
		" days_from, days_to, band, how, note FROM invoice_line WHERE invoice_id = ?"
		" ORDER BY line_no";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	if (!(inv->lines = calloc(ASKUE_INVOICE_LINES_MAX, sizeof *inv->lines)))
		return askue_err_set(ASKUE_ERR_NOMEM, "invoice %s: out of memory", inv->number);
	sqlite3_bind_int64(st, 1, inv->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && inv->n_lines < ASKUE_INVOICE_LINES_MAX) {
		struct askue_invoice_line *ln = &inv->lines[inv->n_lines++];
		ln->line_no = sqlite3_column_int(st, 0);
		copy(ln->zone, sizeof ln->zone, askue_column_text(st, 1));
		ln->zone_idx = sqlite3_column_int(st, 2);
		ln->energy.wh = sqlite3_column_int64(st, 3);
		ln->price.micro_rub = sqlite3_column_int64(st, 4);
		ln->amount.kop = sqlite3_column_int64(st, 5);
		copy(ln->tariff, sizeof ln->tariff, askue_column_text(st, 6));
		ln->price_from = col_date(st, 7);
		ln->days_from = col_date(st, 8);
		ln->days_to = col_date(st, 9);
		ln->band = sqlite3_column_int(st, 10);
		copy(ln->how, sizeof ln->how, askue_column_text(st, 11));
		copy(ln->note, sizeof ln->note, askue_column_text(st, 12));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: more than %d lines", inv->number,
		                     ASKUE_INVOICE_LINES_MAX);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "invoice lines");
}

static enum askue_err read_readings(struct askue_ledger *l, struct askue_invoice *inv)
{
	static const char sql[] =
		"SELECT seq, serial, zone_idx, start_ts, start_wh, start_how, end_ts, end_wh, end_how,"
		" wh, note FROM invoice_reading WHERE invoice_id = ? ORDER BY seq";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	if (!(inv->readings = calloc(ASKUE_INVOICE_READINGS_MAX, sizeof *inv->readings)))
		return askue_err_set(ASKUE_ERR_NOMEM, "invoice %s: out of memory", inv->number);
	sqlite3_bind_int64(st, 1, inv->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       inv->n_readings < ASKUE_INVOICE_READINGS_MAX) {
		struct askue_invoice_reading *r = &inv->readings[inv->n_readings++];
		r->seq = sqlite3_column_int(st, 0);
		copy(r->serial, sizeof r->serial, askue_column_text(st, 1));
		r->zone_idx = sqlite3_column_int(st, 2);
		r->start_ts = sqlite3_column_int64(st, 3);
		r->start.wh = sqlite3_column_int64(st, 4);
		copy(r->start_how, sizeof r->start_how, askue_column_text(st, 5));
		r->end_ts = sqlite3_column_int64(st, 6);
		r->end.wh = sqlite3_column_int64(st, 7);
		copy(r->end_how, sizeof r->end_how, askue_column_text(st, 8));
		r->energy.wh = sqlite3_column_int64(st, 9);
		copy(r->note, sizeof r->note, askue_column_text(st, 10));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: more than %d readings",
		                     inv->number, ASKUE_INVOICE_READINGS_MAX);
	return rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "invoice readings");
}

/* The row st is on (reset here), with its lines and determinants. */
static enum askue_err read_whole(struct askue_ledger *l, sqlite3_stmt *st,
                                 struct askue_invoice **out)
{
	struct askue_invoice *inv = calloc(1, sizeof *inv);
	if (!inv) {
		sqlite3_reset(st);
		return askue_err_set(ASKUE_ERR_NOMEM, "invoice: out of memory");
	}
	enum askue_err err = read_header(st, inv, 1);
	sqlite3_reset(st);
	if (!err)
		err = read_lines(l, inv);
	if (!err)
		err = read_readings(l, inv);
	if (err) {
		askue_invoice_free(inv);
		return err;
	}
	*out = inv;
	return ASKUE_OK;
}

enum askue_err askue_invoice_get(struct askue_ledger *l, const char *number,
                                 struct askue_invoice **out)
{
	static const char sql[] = "SELECT " INVOICE_COLUMNS INVOICE_FROM " WHERE i.number = ?1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, sql, number, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return askue_err_set(err, "invoice %s not found", number);
	return err ? err : read_whole(l, st, out);
}

enum askue_err askue_invoice_get_period(struct askue_ledger *l, int64_t subscriber_id,
                                        struct askue_period period, struct askue_invoice **out)
{
	static const char sql[] =
		"SELECT " INVOICE_COLUMNS INVOICE_FROM " WHERE i.subscriber_id = ? AND i.period = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	askue_bind_period(st, 2, period);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return read_whole(l, st, out);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ASKUE_ERR_NOT_FOUND : askue_ledger_fail(l, rc, "invoice");
}

void askue_invoice_free(struct askue_invoice *inv)
{
	if (!inv)
		return;
	free(inv->details);
	free(inv->lines);
	free(inv->readings);
	free(inv);
}

enum askue_err askue_invoice_each(struct askue_ledger *l, const char *account,
                                  int (*fn)(const struct askue_invoice *inv, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT " INVOICE_COLUMNS INVOICE_FROM " WHERE s.account = ? ORDER BY i.period, i.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, account);
	int rc;
	struct askue_invoice inv;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((err = read_header(st, &inv, 0)) || fn(&inv, arg))
			break;
	}
	sqlite3_reset(st);
	if (err)
		return err;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "invoices");
}

static enum askue_err insert_line(struct askue_ledger *l, int64_t invoice_id,
                                  const struct askue_invoice_line *ln)
{
	static const char sql[] =
		"INSERT INTO invoice_line(invoice_id, line_no, zone, zone_idx, wh, price_micro_rub,"
		" amount_kop, tariff, price_from, days_from, days_to, band, how, note)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, invoice_id);
	sqlite3_bind_int(st, 2, ln->line_no);
	askue_bind_text(st, 3, ln->zone);
	sqlite3_bind_int(st, 4, ln->zone_idx);
	sqlite3_bind_int64(st, 5, ln->energy.wh);
	sqlite3_bind_int64(st, 6, ln->price.micro_rub);
	sqlite3_bind_int64(st, 7, ln->amount.kop);
	askue_bind_text(st, 8, ln->tariff);
	askue_bind_date(st, 9, ln->price_from);
	askue_bind_date(st, 10, ln->days_from);
	askue_bind_date(st, 11, ln->days_to);
	sqlite3_bind_int(st, 12, ln->band);
	askue_bind_text(st, 13, ln->how[0] ? ln->how : "measured");
	askue_bind_text(st, 14, ln->note);
	return askue_ledger_step_done(l, st, "invoice line");
}

static enum askue_err insert_reading(struct askue_ledger *l, int64_t invoice_id,
                                     const struct askue_invoice_reading *r)
{
	static const char sql[] =
		"INSERT INTO invoice_reading(invoice_id, seq, serial, zone_idx, start_ts, start_wh,"
		" start_how, end_ts, end_wh, end_how, wh, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, invoice_id);
	sqlite3_bind_int(st, 2, r->seq);
	askue_bind_text(st, 3, r->serial);
	sqlite3_bind_int(st, 4, r->zone_idx);
	sqlite3_bind_int64(st, 5, r->start_ts);
	sqlite3_bind_int64(st, 6, r->start.wh);
	askue_bind_text(st, 7, r->start_how);
	sqlite3_bind_int64(st, 8, r->end_ts);
	sqlite3_bind_int64(st, 9, r->end.wh);
	askue_bind_text(st, 10, r->end_how);
	sqlite3_bind_int64(st, 11, r->energy.wh);
	askue_bind_text(st, 12, r->note);
	return askue_ledger_step_done(l, st, "invoice reading");
}

static enum askue_err insert_header(struct askue_ledger *l, struct askue_invoice *inv)
{
	static const char sql[] =
		"INSERT INTO invoice(number, subscriber_id, period, issued, due, run_id, previous_kop,"
		" payments_kop, penalties_kop, corrections_kop, charges_kop, total_kop, estimated,"
		" status, details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'current',?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, inv->number);
	sqlite3_bind_int64(st, 2, inv->subscriber_id);
	askue_bind_period(st, 3, inv->period);
	askue_bind_date(st, 4, inv->issued);
	askue_bind_date(st, 5, inv->due);
	if (inv->run_id > 0)
		sqlite3_bind_int64(st, 6, inv->run_id);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(st, 7, inv->previous.kop);
	sqlite3_bind_int64(st, 8, inv->payments.kop);
	sqlite3_bind_int64(st, 9, inv->penalties.kop);
	sqlite3_bind_int64(st, 10, inv->corrections.kop);
	sqlite3_bind_int64(st, 11, inv->charges.kop);
	sqlite3_bind_int64(st, 12, inv->total.kop);
	sqlite3_bind_int(st, 13, inv->estimated ? 1 : 0);
	askue_bind_text(st, 14, inv->details && *inv->details ? inv->details : "{}");
	if ((err = askue_ledger_step_done(l, st, "invoice")) == ASKUE_ERR_CONFLICT)
		return askue_err_set(ASKUE_ERR_EXISTS, "invoice %s exists already", inv->number);
	if (!err)
		inv->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	return err;
}

enum askue_err askue_invoice_insert_tx(struct askue_ledger *l, struct askue_invoice *inv)
{
	if (inv->n_lines > ASKUE_INVOICE_LINES_MAX || inv->n_readings > ASKUE_INVOICE_READINGS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "invoice %s: too many lines or readings",
		                     inv->number);
	/* The document must add up: the invariant of every invoice. */
	int64_t sum = 0;
	for (int i = 0; i < inv->n_lines; i++)
		sum += inv->lines[i].amount.kop;
	if (sum != inv->charges.kop ||
	    inv->previous.kop - inv->payments.kop + inv->penalties.kop + inv->corrections.kop +
	            inv->charges.kop != inv->total.kop)
		return askue_err_set(ASKUE_ERR_INVALID, "invoice %s does not add up", inv->number);
	enum askue_err err = insert_header(l, inv);
	for (int i = 0; !err && i < inv->n_lines; i++)
		err = insert_line(l, inv->id, &inv->lines[i]);
	for (int i = 0; !err && i < inv->n_readings; i++)
		err = insert_reading(l, inv->id, &inv->readings[i]);
	return err;
}

enum askue_err askue_invoice_set_status_tx(struct askue_ledger *l, int64_t invoice_id,
                                           const char *status)
{
	static const char sql[] = "UPDATE invoice SET status = ? WHERE id = ? AND status = 'current'";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, invoice_id);
	if ((err = askue_ledger_step_done(l, st, "invoice status")))
		return err;
	if (sqlite3_changes(askue_ledger_db(l)) != 1)
		return askue_err_set(ASKUE_ERR_CONFLICT, "invoice %lld is not current",
		                     (long long)invoice_id);
	return ASKUE_OK;
}

/* The last invoice's id, status and posting id (0s when none). */
static enum askue_err last_invoice(struct askue_ledger *l, int64_t subscriber_id,
                                   struct askue_account_since *out, int64_t *posting_id)
{
	static const char sql[] =
		"SELECT i.id, i.status, (SELECT max(p.id) FROM posting p WHERE p.subscriber_id = ?1"
		" AND p.invoice_id = i.id AND p.kind = 'invoice') FROM invoice i WHERE i.subscriber_id = ?1"
		" ORDER BY i.period DESC, i.id DESC LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->last_invoice_id = sqlite3_column_int64(st, 0);
		copy(out->last_status, sizeof out->last_status, askue_column_text(st, 1));
		*posting_id = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK
	                                             : askue_ledger_fail(l, rc, "last invoice");
}

enum askue_err askue_account_since_last_invoice(struct askue_ledger *l, int64_t subscriber_id,
                                                struct askue_account_since *out)
{
	static const char sql[] =
		"SELECT coalesce(sum(CASE WHEN id <= ?2 THEN amount_kop END), 0),"
		" coalesce(sum(CASE WHEN id > ?2 AND kind = 'payment' THEN -amount_kop END), 0),"
		" coalesce(sum(CASE WHEN id > ?2 AND kind = 'penalty' THEN amount_kop END), 0),"
		" coalesce(sum(CASE WHEN id > ?2 AND kind = 'correction' THEN amount_kop END), 0),"
		" coalesce(sum(CASE WHEN id > ?2 AND kind = 'invoice' THEN amount_kop END), 0),"
		" coalesce(sum(amount_kop), 0) FROM posting WHERE subscriber_id = ?1";
	struct askue_account_since a = {0};
	int64_t posting_id = 0;
	enum askue_err err = last_invoice(l, subscriber_id, &a, &posting_id);
	sqlite3_stmt *st;
	if (err || (err = askue_ledger_stmt(l, sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	sqlite3_bind_int64(st, 2, posting_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return askue_ledger_fail(l, rc, "account");
	}
	a.previous = col_money(st, 0);
	a.payments = col_money(st, 1);
	a.penalties = col_money(st, 2);
	a.corrections = col_money(st, 3);
	/* An invoice posted after the last one cannot be (the last one is the
	 * newest period); should it be, count it in the previous balance. */
	a.previous.kop += sqlite3_column_int64(st, 4);
	a.balance = col_money(st, 5);
	sqlite3_reset(st);
	*out = a;
	return ASKUE_OK;
}

enum askue_err askue_posting_add_tx(struct askue_ledger *l, struct askue_posting *p)
{
	static const char sql[] =
		"INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, invoice_id,"
		" correction_id, payment_id, accrual_id, created) VALUES (?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, p->subscriber_id);
	askue_bind_text(st, 2, p->kind);
	askue_bind_date(st, 3, p->date);
	if (p->has_period)
		askue_bind_period(st, 4, p->period);
	sqlite3_bind_int64(st, 5, p->amount.kop);
	const int64_t links[] = {p->invoice_id, p->correction_id, p->payment_id, p->accrual_id};
	for (int i = 0; i < 4; i++) {
		if (links[i] > 0)
			sqlite3_bind_int64(st, 6 + i, links[i]);
	}
	sqlite3_bind_int64(st, 10, p->created);
	if (!(err = askue_ledger_step_done(l, st, "posting")))
		p->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	return err;
}

enum askue_err askue_posting_each(struct askue_ledger *l, int64_t subscriber_id,
                                  int (*fn)(const struct askue_posting *p, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT id, kind, date, period, amount_kop, coalesce(invoice_id, 0),"
		" coalesce(correction_id, 0), coalesce(payment_id, 0), coalesce(accrual_id, 0), created"
		" FROM posting WHERE subscriber_id = ? ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, subscriber_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_posting p = {.id = sqlite3_column_int64(st, 0),
		                          .subscriber_id = subscriber_id};
		copy(p.kind, sizeof p.kind, askue_column_text(st, 1));
		p.date = col_date(st, 2);
		p.has_period = !askue_period_parse(askue_column_text(st, 3), &p.period);
		p.amount = col_money(st, 4);
		p.invoice_id = sqlite3_column_int64(st, 5);
		p.correction_id = sqlite3_column_int64(st, 6);
		p.payment_id = sqlite3_column_int64(st, 7);
		p.accrual_id = sqlite3_column_int64(st, 8);
		p.created = sqlite3_column_int64(st, 9);
		if (fn(&p, arg))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK : askue_ledger_fail(l, rc, "postings");
}

enum askue_err askue_correction_sum(struct askue_ledger *l, int64_t invoice_id,
                                    struct askue_money *out)
{
	static const char sql[] =
		"SELECT coalesce(sum(amount_kop), 0), count(*) FROM correction WHERE invoice_id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, invoice_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		out->kop = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(l, rc, "corrections");
}

static enum askue_err correction_number(struct askue_ledger *l, struct askue_correction *c)
{
	static const char sql[] =
		"SELECT i.number, (SELECT count(*) FROM correction k WHERE k.invoice_id = i.id)"
		" FROM invoice i WHERE i.id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, c->invoice_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(c->number, sizeof c->number, "%s-K%d", askue_column_text(st, 0),
		         sqlite3_column_int(st, 1) + 1);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "correction: invoice %lld not found",
		                     (long long)c->invoice_id);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(l, rc, "correction number");
}

static enum askue_err insert_correction(struct askue_ledger *l, struct askue_correction *c)
{
	static const char sql[] =
		"INSERT INTO correction(number, subscriber_id, invoice_id, period, date, amount_kop,"
		" reason, run_id, details) VALUES (?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, c->number);
	sqlite3_bind_int64(st, 2, c->subscriber_id);
	sqlite3_bind_int64(st, 3, c->invoice_id);
	askue_bind_period(st, 4, c->period);
	askue_bind_date(st, 5, c->date);
	sqlite3_bind_int64(st, 6, c->amount.kop);
	askue_bind_text(st, 7, c->reason);
	if (c->run_id > 0)
		sqlite3_bind_int64(st, 8, c->run_id);
	askue_bind_text(st, 9, c->details && *c->details ? c->details : "{}");
	if (!(err = askue_ledger_step_done(l, st, "correction")))
		c->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	return err;
}

enum askue_err askue_correction_add_tx(struct askue_ledger *l, struct askue_correction *c,
                                       int64_t created)
{
	if (c->amount.kop == 0)
		return askue_err_set(ASKUE_ERR_INVALID, "correction: the amount is zero");
	if (!c->reason[0])
		return askue_err_set(ASKUE_ERR_INVALID, "correction: a reason is required");
	enum askue_err err = correction_number(l, c);
	if (err || (err = insert_correction(l, c)))
		return err;
	struct askue_posting p = {.subscriber_id = c->subscriber_id,
	                          .date = c->date,
	                          .has_period = 1,
	                          .period = c->period,
	                          .amount = c->amount,
	                          .invoice_id = c->invoice_id,
	                          .correction_id = c->id,
	                          .created = created};
	copy(p.kind, sizeof p.kind, "correction");
	return askue_posting_add_tx(l, &p);
}

enum askue_err askue_correction_each(struct askue_ledger *l, int64_t invoice_id,
                                     int (*fn)(const struct askue_correction *c, void *arg),
                                     void *arg)
{
	static const char sql[] =
		"SELECT id, number, subscriber_id, period, date, amount_kop, reason, coalesce(run_id, 0)"
		" FROM correction WHERE invoice_id = ? ORDER BY id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, invoice_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_correction c = {.id = sqlite3_column_int64(st, 0),
		                             .subscriber_id = sqlite3_column_int64(st, 2),
		                             .invoice_id = invoice_id};
		copy(c.number, sizeof c.number, askue_column_text(st, 1));
		if (askue_period_parse(askue_column_text(st, 3), &c.period))
			c.period = (struct askue_period){0, 0};
		c.date = col_date(st, 4);
		c.amount = col_money(st, 5);
		copy(c.reason, sizeof c.reason, askue_column_text(st, 6));
		c.run_id = sqlite3_column_int64(st, 7);
		if (fn(&c, arg))
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASKUE_OK
	                                             : askue_ledger_fail(l, rc, "corrections");
}
