/* views — the loaders of console.h: what each screen shows, read from the
 * ledger through lib/ into a table (find, card, alerts, suspense); the
 * reports are in reports.c. */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "invoice.h"
#include "money.h"
#include "payment.h"
#include "registry.h"
#include "text.h"

struct fill {
	struct console *c;
	struct table *t;
	enum askue_err err;
	int n;
};

static int found(const struct askue_subscriber *s, void *arg)
{
	struct fill *f = arg;
	const char *cells[] = {s->account, s->name, s->address, s->status};
	f->err = table_add(f->t, ROW_PLAIN, s->id, s->account, 4, cells);
	f->n++;
	return f->err != ASKUE_OK;
}

enum askue_err console_find(struct console *c, const char *text, struct table *t)
{
	static const char *const heads[] = {"account", "name", "address", "status"};
	static const int widths[] = {12, 34, 0, 10};
	enum askue_err err = console_check(c, ASKUE_ACT_CARD, "find subscribers");
	if (err || (err = askue_text_check("search", text, 200, 1)))
		return err;
	char title[300];
	snprintf(title, sizeof title, "Subscribers: %s", text);
	table_set_heads(t, title, 4, heads, widths);
	struct fill f = {.c = c, .t = t};
	if ((err = askue_subscriber_find(c->ledger, text, CONSOLE_FIND_ROWS_MAX, found, &f)) ||
	    (err = f.err))
		return console_busy(err);
	if (!f.n)
		return table_addf(t, ROW_NOTE, 0, NULL, "\tnothing found");
	if (f.n == CONSOLE_FIND_ROWS_MAX)
		return table_addf(t, ROW_NOTE, 0, NULL, "\tthe first %d: type more to narrow",
		                  CONSOLE_FIND_ROWS_MAX);
	return ASKUE_OK;
}

/* ---- the card ---- */

static enum askue_err card_subscriber(struct table *t, const struct askue_subscriber *s)
{
	char d[ASKUE_DATE_BUF];
	enum askue_err err;
	if ((err = table_addf(t, ROW_HEADING, 0, NULL, "Subscriber")) ||
	    (err = table_addf(t, ROW_PLAIN, 0, NULL, "account\t%s  (%s, %s)", s->account,
	                      s->status, s->category)) ||
	    (err = table_addf(t, ROW_PLAIN, 0, NULL, "name\t%s", s->name)) ||
	    (err = table_addf(t, ROW_PLAIN, 0, NULL, "address\t%s", s->address)) ||
	    (err = table_addf(t, ROW_PLAIN, 0, NULL, "district\t%s, substation %s",
	                      s->district[0] ? s->district : "-",
	                      s->substation[0] ? s->substation : "-")) ||
	    (err = table_addf(t, ROW_PLAIN, 0, NULL, "registered\t%s",
	                      askue_date_format(s->registered, d))))
		return err;
	if (s->phone[0] || s->email[0])
		err = table_addf(t, ROW_PLAIN, 0, NULL, "contact\t%s %s", s->phone, s->email);
	return err;
}

struct card_meters {
	struct console *c;
	struct table *t;
	enum askue_err err;
	int n;
	char serials[16][ASKUE_SERIAL_BYTES_MAX + 1]; /* installed now: their alerts */
	int n_serials;
};

static int card_installation(const struct askue_installation *in, void *arg)
{
	struct card_meters *m = arg;
	char from[ASKUE_DATE_BUF], to[ASKUE_DATE_BUF], regs[128];
	struct askue_meter mt;
	enum askue_err err = askue_meter_get(m->c->ledger, in->serial, &mt);
	if (err) {
		m->err = err;
		return 1;
	}
	askue_date_format(in->installed, from);
	if (in->has_removed)
		askue_date_format(in->removed, to);
	else if (m->n_serials < 16)
		snprintf(m->serials[m->n_serials++], sizeof m->serials[0], "%s", in->serial);
	askue_registers_format(&in->in, regs, sizeof regs);
	m->n++;
	m->err = table_addf(m->t, ROW_PLAIN, 0, NULL, "%s\t%s, %d zone(s); %s %s%s%s; in at %s kWh",
	                    in->serial, mt.model, mt.zones,
	                    in->has_removed ? "was installed" : "installed", from,
	                    in->has_removed ? " until " : "", in->has_removed ? to : "", regs);
	return m->err != ASKUE_OK;
}

static enum askue_err card_tariff(struct console *c, struct table *t,
                                  const struct askue_subscriber *s, struct askue_date today)
{
	struct askue_bill_version v[2];
	int n = 0;
	enum askue_err err = askue_tariff_load_for_billing(c->ledger, s->id, today,
	                                                   askue_date_add_days(today, 1), v, 2, &n);
	if (err || (err = table_addf(t, ROW_HEADING, 0, NULL, "Tariff today")))
		return err;
	if (!n)
		return table_addf(t, ROW_NOTE, 0, NULL, "\tno tariff or no price in force today");
	for (int z = 0; z < v[0].n_zones; z++) {
		char p[ASKUE_NUM_BUF], d[ASKUE_DATE_BUF];
		if ((err = table_addf(t, ROW_PLAIN, 0, NULL, "%s\tzone %s: %s rub/kWh from %s%s",
		                      z ? "" : v[0].tariff, v[0].zones[z].name,
		                      askue_price_format(v[0].price[z][0], p),
		                      askue_date_format(v[0].price_from[z], d),
		                      v[0].n_bands ? " (first volume band)" : "")))
			return err;
	}
	return ASKUE_OK;
}

struct last_rows {
	int n;
	char line[CONSOLE_CARD_LAST][400];
	char key[CONSOLE_CARD_LAST][64];
};

static void keep_last(struct last_rows *r, const char *key, const char *line)
{
	if (r->n == CONSOLE_CARD_LAST) {
		memmove(r->line[0], r->line[1], sizeof r->line[0] * (CONSOLE_CARD_LAST - 1));
		memmove(r->key[0], r->key[1], sizeof r->key[0] * (CONSOLE_CARD_LAST - 1));
		r->n--;
	}
	snprintf(r->line[r->n], sizeof r->line[0], "%s", line);
	snprintf(r->key[r->n], sizeof r->key[0], "%s", key);
	r->n++;
}

static int card_invoice(const struct askue_invoice *inv, void *arg)
{
	char line[400], p[16], d[ASKUE_DATE_BUF], tot[ASKUE_NUM_BUF], ch[ASKUE_NUM_BUF];
	snprintf(line, sizeof line, "%s\tperiod %s, due %s: charges %s, to pay %s, %s%s", inv->number,
	         askue_period_format(inv->period, p), askue_date_format(inv->due, d),
	         askue_money_format(inv->charges, ch), askue_money_format(inv->total, tot),
	         inv->status, inv->estimated ? ", estimated" : "");
	keep_last(arg, inv->number, line);
	return 0;
}

static int card_payment(const struct askue_payment *p, void *arg)
{
	char line[400], d[ASKUE_DATE_BUF], a[ASKUE_NUM_BUF];
	snprintf(line, sizeof line, "%s\t%s rub%s%s (%s)", askue_date_format(p->date, d),
	         askue_money_format(p->amount, a), p->ref[0] ? ", ref " : "", p->ref, p->source);
	keep_last(arg, "", line);
	return 0;
}

static enum askue_err add_last(struct table *t, const char *heading, const struct last_rows *r,
                               const char *none)
{
	enum askue_err err = table_addf(t, ROW_HEADING, 0, NULL, "%s", heading);
	if (!err && !r->n)
		err = table_addf(t, ROW_NOTE, 0, NULL, "\t%s", none);
	for (int i = 0; i < r->n && !err; i++)
		err = table_addf(t, ROW_PLAIN, 0, r->key[i], "%s", r->line[i]);
	return err;
}

static int open_charge(const struct askue_open_charge *oc, void *arg)
{
	struct fill *f = arg;
	char d[ASKUE_DATE_BUF], o[ASKUE_NUM_BUF], a[ASKUE_NUM_BUF];
	f->n++;
	f->err = table_addf(f->t, ROW_PLAIN, 0, NULL, "unpaid\t%s %s%s%s due %s: %s of %s rub",
	                    oc->kind, oc->period, oc->invoice[0] ? ", invoice " : "", oc->invoice,
	                    askue_date_format(oc->due, d), askue_money_format(oc->open, o),
	                    askue_money_format(oc->amount, a));
	return f->err != ASKUE_OK;
}

/* What is owed, charge by charge, oldest first (the order payments settle
 * them), and the credit not yet used. */
static enum askue_err card_open_charges(struct console *c, struct table *t,
                                        const struct askue_subscriber *s)
{
	struct fill f = {.c = c, .t = t};
	struct askue_money credit;
	char b[ASKUE_NUM_BUF];
	enum askue_err err = askue_account_open(c->ledger, s->id, open_charge, &f, &credit);
	if (!err)
		err = f.err;
	if (!err && credit.kop)
		err = table_addf(t, ROW_PLAIN, 0, NULL, "credit\t%s rub not yet used",
		                 askue_money_format(credit, b));
	return err;
}

static enum askue_err card_account(struct console *c, struct table *t,
                                   const struct askue_subscriber *s)
{
	struct askue_money bal;
	char b[ASKUE_NUM_BUF];
	enum askue_err err = askue_account_balance(c->ledger, s->id, &bal);
	if (err || (err = table_addf(t, ROW_HEADING, 0, NULL, "Account")))
		return err;
	struct askue_money shown = {bal.kop < 0 ? -bal.kop : bal.kop};
	if ((err = table_addf(t, ROW_PLAIN, 0, NULL, "balance\t%s rub %s", askue_money_format(shown, b),
	                      bal.kop > 0 ? "owed" : bal.kop < 0 ? "credit" : "(settled)")))
		return err;
	if ((err = card_open_charges(c, t, s)))
		return err;
	struct last_rows *r = calloc(1, sizeof *r);
	if (!r)
		return askue_err_set(ASKUE_ERR_NOMEM, "card: out of memory");
	if (!(err = askue_invoice_each(c->ledger, s->account, card_invoice, r)))
		err = add_last(t, "Invoices (Enter: explained)", r, "none issued");
	memset(r, 0, sizeof *r);
	if (!err && !(err = askue_payment_each(c->ledger, s->id, card_payment, r)))
		err = add_last(t, "Payments", r, "none");
	free(r);
	return err;
}

static int card_alert(const struct askue_alert *a, void *arg)
{
	struct fill *f = arg;
	char stamp[ASKUE_UTC_STAMP_BUF];
	f->n++;
	f->err = table_addf(f->t, ROW_PLAIN, a->id, NULL, "alert %lld\t%s %s since %s, %s%s%s",
	                    (long long)a->id, a->kind, a->subject, askue_utc_stamp(a->opened, stamp),
	                    a->status, a->assignee[0] ? " to " : "", a->assignee);
	return f->err != ASKUE_OK;
}

/* The active alerts of its installed meters, and the grouped ones of its
 * substation (an outage covers its meters). */
static enum askue_err card_alerts(struct console *c, struct table *t, const struct card_meters *m,
                                  const char *substation)
{
	enum askue_err err = table_addf(t, ROW_HEADING, 0, NULL, "Open alerts of its meters");
	struct fill f = {.c = c, .t = t};
	for (int i = 0; i <= m->n_serials && !err; i++) {
		const char *subject = i < m->n_serials ? m->serials[i] : substation;
		struct askue_alert_filter flt = {.active_only = 1, .subject = subject};
		if (*subject && !(err = askue_alert_each(c->ledger, &flt, card_alert, &f)))
			err = f.err;
	}
	if (!err && !f.n)
		err = table_addf(t, ROW_NOTE, 0, NULL, "\tnone");
	return err;
}

enum askue_err console_card(struct console *c, const char *account, struct askue_date today,
                            struct table *t)
{
	static const char *const heads[] = {"", ""};
	static const int widths[] = {20, 0};
	enum askue_err err = console_check(c, ASKUE_ACT_CARD, "see subscriber cards");
	if (err)
		return err;
	struct askue_subscriber s;
	if ((err = askue_subscriber_get(c->ledger, account, &s)))
		return console_busy(err);
	char title[300];
	snprintf(title, sizeof title, "Card %s %s", s.account, s.name);
	table_set_heads(t, title, 2, heads, widths);
	struct card_meters *m = calloc(1, sizeof *m);
	if (!m)
		return askue_err_set(ASKUE_ERR_NOMEM, "card: out of memory");
	m->c = c;
	m->t = t;
	if (!(err = card_subscriber(t, &s)) &&
	    !(err = table_addf(t, ROW_HEADING, 0, NULL, "Meters")) &&
	    !(err = askue_installation_each(c->ledger, NULL, s.account, card_installation, m)) &&
	    !(err = m->err) && !m->n)
		err = table_addf(t, ROW_NOTE, 0, NULL, "\tno meter installed ever");
	if (!err && !(err = card_tariff(c, t, &s, today)) && !(err = card_account(c, t, &s)))
		err = card_alerts(c, t, m, s.substation);
	free(m);
	return console_busy(err);
}

/* ---- alerts and suspense ---- */

struct alert_fill {
	struct table *t;
	const char *state;
	enum askue_err err;
	int n;
};

static int alert_row(const struct askue_alert *a, void *arg)
{
	struct alert_fill *f = arg;
	if (f->state[0] && strcmp(f->state, "active") && strcmp(f->state, a->status))
		return 0;
	char id[24], stamp[ASKUE_UTC_STAMP_BUF];
	snprintf(id, sizeof id, "%lld", (long long)a->id);
	const char *cells[] = {id,          a->kind,     a->subject, a->status,
	                       askue_utc_stamp(a->opened, stamp), a->assignee, a->outcome};
	f->n++;
	f->err = table_add(f->t, ROW_PLAIN, a->id, a->subject, 7, cells);
	return f->err != ASKUE_OK;
}

enum askue_err console_alerts(struct console *c, const char *kind, const char *state,
                              struct table *t)
{
	static const char *const heads[] = {"id",     "kind",     "subject", "status",
	                                    "opened", "assignee", "outcome"};
	static const int widths[] = {6, 20, 16, 9, 21, 14, 0};
	static const char *const states[] = {"", "active", "open", "assigned", "resolved"};
	enum askue_err err = console_check(c, ASKUE_ACT_ALERTS, "see the alert queue");
	if (err)
		return err;
	int ok = 0;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		ok |= !strcmp(state, states[i]);
	if (!ok)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "state '%.20s': expected active, open, assigned, resolved or "
		                     "nothing for all",
		                     askue_text_valid(state, strlen(state)) ? state : "?");
	if (*kind && (err = askue_text_check("kind", kind, ASKUE_ALERT_KIND_BYTES_MAX, 0)))
		return err;
	char title[200];
	snprintf(title, sizeof title, "Alerts: %s, %s", *kind ? kind : "every kind",
	         *state ? state : "all states");
	table_set_heads(t, title, 7, heads, widths);
	struct askue_alert_filter flt = {.active_only = !strcmp(state, "active") ||
	                                                !strcmp(state, "open") ||
	                                                !strcmp(state, "assigned"),
	                                 .kind = *kind ? kind : NULL};
	struct alert_fill f = {.t = t, .state = state};
	if ((err = askue_alert_each(c->ledger, &flt, alert_row, &f)) || (err = f.err))
		return console_busy(err);
	return f.n ? ASKUE_OK : table_addf(t, ROW_NOTE, 0, NULL, "\tno alerts");
}

static int suspense_row(const struct askue_suspense *s, void *arg)
{
	struct fill *f = arg;
	char id[24], where[160], amount[ASKUE_NUM_BUF] = "?";
	snprintf(id, sizeof id, "%lld", (long long)s->id);
	snprintf(where, sizeof where, "%s:%lld", s->source, (long long)s->line);
	if (s->has_amount)
		askue_money_format(s->amount, amount);
	const char *cells[] = {id, where, s->account, amount, s->date, s->ref, s->reason};
	f->n++;
	f->err = table_add(f->t, ROW_PLAIN, s->id, s->account, 7, cells);
	return f->err != ASKUE_OK;
}

enum askue_err console_suspense(struct console *c, struct table *t)
{
	static const char *const heads[] = {"id", "file:line", "account", "amount",
	                                    "date", "ref",       "reason"};
	static const int widths[] = {6, 22, 14, 12, 11, 14, 0};
	enum askue_err err = console_check(c, ASKUE_ACT_SUSPENSE, "see payments in suspense");
	if (err)
		return err;
	table_set_heads(t, "Payments in suspense", 7, heads, widths);
	struct fill f = {.c = c, .t = t};
	if ((err = askue_suspense_each(c->ledger, 0, suspense_row, &f)) || (err = f.err))
		return console_busy(err);
	return f.n ? ASKUE_OK : table_addf(t, ROW_NOTE, 0, NULL, "\tnothing waits in suspense");
}

/* ---- one row whole ---- */

static void detail_heads(struct table *t, const char *title)
{
	static const char *const heads[] = {"", ""};
	static const int widths[] = {14, 0};
	table_set_heads(t, title, 2, heads, widths);
}

/* A JSON value as a person reads it: null "-", an array of strings
 * joined, other values compact JSON. *out: free with cJSON_free. */
static enum askue_err json_text(const cJSON *v, char **out)
{
	const cJSON *m;
	int strings = cJSON_IsArray(v);
	cJSON_ArrayForEach(m, v) strings &= cJSON_IsString(m);
	if (strings) {
		size_t n = 1;
		cJSON_ArrayForEach(m, v) n += strlen(m->valuestring) + 2;
		if (!(*out = cJSON_malloc(n)))
			return askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
		size_t used = 0;
		cJSON_ArrayForEach(m, v) /* n counted every piece: each fits */
			used += (size_t)snprintf(*out + used, n - used, "%s%s", used ? ", " : "",
			                         m->valuestring);
		(*out)[used] = 0;
		return ASKUE_OK;
	}
	const char *plain = cJSON_IsNull(v) ? "-" : cJSON_IsString(v) ? v->valuestring : NULL;
	if (plain) {
		size_t n = strlen(plain) + 1;
		if ((*out = cJSON_malloc(n)))
			memcpy(*out, plain, n);
	} else {
		*out = cJSON_PrintUnformatted(v);
	}
	return *out ? ASKUE_OK : askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
}

/* A JSON object's members as rows "key  value"; an object member's own
 * members indented under its name (one level). */
static enum askue_err json_rows(struct table *t, const cJSON *o, const char *indent)
{
	const cJSON *m;
	enum askue_err err = ASKUE_OK;
	cJSON_ArrayForEach(m, o)
	{
		char key[128];
		snprintf(key, sizeof key, "%s%s", indent, m->string ? m->string : "");
		if (cJSON_IsObject(m) && !*indent && cJSON_GetArraySize(m)) {
			const char *cells[] = {key, ""};
			if ((err = table_add(t, ROW_PLAIN, 0, NULL, 2, cells)) ||
			    (err = json_rows(t, m, "  ")))
				break;
			continue;
		}
		char *text;
		if ((err = json_text(m, &text)))
			break;
		const char *cells[] = {key, text};
		err = table_add(t, ROW_PLAIN, 0, NULL, 2, cells);
		cJSON_free(text);
		if (err)
			break;
	}
	return err;
}

enum askue_err console_alert_detail(struct console *c, int64_t id, struct table *t)
{
	enum askue_err err = console_check(c, ASKUE_ACT_ALERTS, "see the alert queue");
	if (err)
		return err;
	struct askue_alert a;
	cJSON *o = NULL;
	if ((err = askue_alert_get(c->ledger, id, &a)) || (err = askue_alert_json(c->ledger, &a, &o)))
		return console_busy(err);
	char title[200];
	snprintf(title, sizeof title, "Alert %lld: %s %s", (long long)id, a.kind, a.subject);
	detail_heads(t, title);
	err = json_rows(t, o, "");
	const cJSON *meters = cJSON_GetObjectItemCaseSensitive(o, "meters"), *m;
	if (!err && cJSON_GetArraySize(meters) > 1) {
		err = table_addf(t, ROW_HEADING, 0, NULL, "Its %d meters", cJSON_GetArraySize(meters));
		cJSON_ArrayForEach(m, meters)
		{
			if (err || !cJSON_IsString(m) ||
			    (err = table_addf(t, ROW_PLAIN, 0, NULL, "meter\t%s", m->valuestring)))
				break;
		}
	}
	cJSON_Delete(o);
	return err;
}

enum askue_err console_suspense_detail(struct console *c, int64_t id, struct table *t)
{
	enum askue_err err = console_check(c, ASKUE_ACT_SUSPENSE, "see payments in suspense");
	if (err)
		return err;
	struct askue_suspense *r = malloc(sizeof *r);
	if (!r)
		return askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
	if ((err = askue_suspense_get(c->ledger, id, r))) {
		free(r);
		return console_busy(err);
	}
	char title[100], amount[ASKUE_NUM_BUF] = "(none that parses)";
	snprintf(title, sizeof title, "Payment %lld in suspense", (long long)id);
	detail_heads(t, title);
	if (r->has_amount)
		askue_money_format(r->amount, amount);
	if (!(err = table_addf(t, ROW_PLAIN, 0, NULL, "status\t%s", r->status)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "file, line\t%s, line %lld", r->source,
	                       (long long)r->line)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "the bank's row\t%s", r->raw)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "account\t%s", r->account)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "amount\t%s", amount)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "date\t%s", r->date)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "reference\t%s", r->ref)) &&
	    !(err = table_addf(t, ROW_PLAIN, 0, NULL, "why here\t%s", r->reason)) && r->note[0])
		err = table_addf(t, ROW_PLAIN, 0, NULL, "note\t%s", r->note);
	free(r);
	return err;
}
