/* app — see app.h. */
#include "app.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "alert.h"
#include "payment.h"
#include "term.h"

/* Screens deep: menu, search, card, invoice is four; room for more. */
#define APP_DEPTH_MAX 8
/* A key is waited for this long before the loop looks at signals. */
#define APP_TICK_MS 250
/* A work queue (alerts, suspense) left on screen is read again this often,
 * so what a job opened meanwhile shows without a key. */
#define APP_REFRESH_S 30

enum scr {
	SCR_ANY = -1,
	SCR_MENU,
	SCR_FIND,
	SCR_CARD,
	SCR_INVOICE,
	SCR_ALERTS,
	SCR_SUSPENSE,
	SCR_DEBTORS,
	SCR_TARIFFS,
	SCR_TARIFF,
	SCR_COMPLETENESS,
	SCR_ALERT,        /* one alert whole */
	SCR_SUSPENSE_ROW, /* one suspense row whole */
};

struct screen {
	enum scr id;
	struct table *t;
	char arg[256];  /* search text, account, invoice, tariff, date, alert kind */
	char arg2[32];  /* alerts: state */
	int64_t id_arg; /* an alert's or a suspense row's id */
};

struct app {
	struct console *c;
	volatile int *stop;
	struct screen st[APP_DEPTH_MAX];
	int depth;
	char status[600];
	int status_err;
	int quit;
	int idle_out;     /* signed out for want of a key */
	int64_t last_key; /* monotonic s */
	char user_line[200];
};

/* Handler results. */
enum { H_NONE = 0, H_RELOAD = 1 };

static void say(struct app *a, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct app *a, int error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->status, sizeof a->status, fmt, ap);
	va_end(ap);
	a->status_err = error;
}

static struct screen *top(struct app *a)
{
	return &a->st[a->depth - 1];
}

static int64_t monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Signed in and no key for [console] idle_s: time to sign out. */
static int idle_expired(struct app *a)
{
	int64_t idle_s = a->c->cfg.console_idle_s;
	if (a->c->signed_in && idle_s && monotonic_s() - a->last_key >= idle_s)
		a->idle_out = 1;
	return a->idle_out;
}

/* ---- drawing ---- */

static const char *hints_of(struct app *a, enum scr id, char *buf, size_t size);

static void draw(struct app *a)
{
	char hints[400];
	term_clear();
	term_table(top(a)->t, a->user_line);
	term_hints(hints_of(a, top(a)->id, hints, sizeof hints));
	term_status(a->status, a->status_err);
}

/* ---- forms ---- */

/* Run f over the current screen until Enter in its last field (1) or Esc
 * (0); the status line says why a key was refused. */
static int run_form(struct app *a, struct form *f)
{
	for (;;) {
		draw(a);
		term_form(f);
		term_status(f->note[0] ? f->note : a->status, f->note[0] || a->status_err);
		term_form(f); /* the cursor back in its field */
		term_refresh(1);
		struct term_key k;
		if (!term_key(&k, APP_TICK_MS)) {
			if (*a->stop || idle_expired(a))
				return 0;
			continue;
		}
		a->last_key = monotonic_s();
		if (k.is_key && k.ch == KEY_RESIZE)
			continue;
		enum form_key fk;
		wchar_t ch;
		if (!term_form_key(&k, &fk, &ch))
			continue;
		enum form_result r = form_key(f, fk, ch);
		if (r != FORM_EDITING)
			return r == FORM_SUBMIT;
	}
}

static int confirm(struct app *a, const char *question)
{
	say(a, 0, "y/n? %s", question); /* the answer first: a long question is cut */
	for (;;) {
		draw(a);
		term_refresh(0);
		struct term_key k;
		if (!term_key(&k, APP_TICK_MS)) {
			if (*a->stop || idle_expired(a))
				return 0;
			continue;
		}
		a->last_key = monotonic_s();
		if (!k.is_key && (k.ch == 'y' || k.ch == 'Y'))
			return 1;
		if (!k.is_key && (k.ch == 'n' || k.ch == 'N' || k.ch == 27))
			return 0;
	}
}

/* ---- loading screens ---- */

static enum askue_err load(struct app *a, struct screen *s)
{
	struct console *c = a->c;
	struct askue_date today = askue_date_today();
	switch (s->id) {
	case SCR_MENU: return ASKUE_OK;
	case SCR_FIND: return console_find(c, s->arg, s->t);
	case SCR_CARD: return console_card(c, s->arg, today, s->t);
	case SCR_INVOICE: return console_invoice(c, s->arg, s->t);
	case SCR_ALERTS: return console_alerts(c, s->arg, s->arg2, s->t);
	case SCR_SUSPENSE: return console_suspense(c, s->t);
	case SCR_DEBTORS: return console_debtors(c, s->arg, s->t);
	case SCR_TARIFFS: return console_tariffs(c, s->t);
	case SCR_TARIFF: return console_tariff(c, s->arg, s->t);
	case SCR_COMPLETENESS: return console_completeness(c, s->arg, s->t);
	case SCR_ALERT: return console_alert_detail(c, s->id_arg, s->t);
	case SCR_SUSPENSE_ROW: return console_suspense_detail(c, s->id_arg, s->t);
	case SCR_ANY: break;
	}
	return ASKUE_OK;
}

/* Reload keeping the selection where it was (as far as rows allow). */
static void reload(struct app *a, struct screen *s)
{
	int sel = s->t->sel, first = s->t->top, was_err = a->status_err;
	char was[sizeof a->status];
	snprintf(was, sizeof was, "%s", a->status);
	say(a, 0, "working...");
	draw(a);
	term_refresh(0);
	enum askue_err err = load(a, s);
	if (err) {
		say(a, 1, "%s", askue_err_msg());
		return;
	}
	s->t->sel = sel < s->t->n_rows ? sel : s->t->n_rows - 1;
	s->t->top = first;
	table_move(s->t, 0, term_body_rows());
	say(a, was_err, "%s", was);
}

/* Push a screen and load it; on failure it is not pushed. */
static void push(struct app *a, enum scr id, const char *arg, const char *arg2, int64_t id_arg)
{
	if (a->depth >= APP_DEPTH_MAX) {
		say(a, 1, "too many screens open: go back (q) first");
		return;
	}
	struct screen *s = &a->st[a->depth];
	struct table *t = s->t;
	memset(s, 0, sizeof *s);
	s->t = t;
	s->id = id;
	snprintf(s->arg, sizeof s->arg, "%s", arg ? arg : "");
	snprintf(s->arg2, sizeof s->arg2, "%s", arg2 ? arg2 : "");
	s->id_arg = id_arg;
	table_clear(t);
	a->depth++;
	say(a, 0, "working...");
	draw(a);
	term_refresh(0);
	if (load(a, s)) {
		say(a, 1, "%s", askue_err_msg());
		a->depth--;
		return;
	}
	say(a, 0, "%s", "");
	table_home(s->t, term_body_rows());
}

/* ---- the menu ---- */

struct menu_item {
	char key;
	const char *label;
	enum askue_user_action need;
	enum scr id;
};

static const struct menu_item menu[] = {
	{'1', "Find a subscriber (account, name or address)", ASKUE_ACT_CARD, SCR_FIND},
	{'2', "Alert queue", ASKUE_ACT_ALERTS, SCR_ALERTS},
	{'3', "Payments in suspense", ASKUE_ACT_SUSPENSE, SCR_SUSPENSE},
	{'4', "Debtors with aging", ASKUE_ACT_DEBTORS, SCR_DEBTORS},
	{'5', "An account's balance and card", ASKUE_ACT_CARD, SCR_CARD},
	{'6', "Tariffs, zones and price history", ASKUE_ACT_TARIFFS, SCR_TARIFFS},
	{'7', "Data completeness report", ASKUE_ACT_COMPLETENESS, SCR_COMPLETENESS},
};
#define N_MENU (int)(sizeof menu / sizeof menu[0])

static enum askue_err fill_menu(struct app *a, struct table *t)
{
	static const char *const heads[] = {"key", ""};
	table_clear(t);
	snprintf(t->title, sizeof t->title, "askue console");
	t->n_cols = 2;
	t->heads[0] = heads[0];
	t->heads[1] = heads[1];
	t->widths[0] = 5;
	t->widths[1] = 0;
	enum askue_err err = ASKUE_OK;
	for (int i = 0; i < N_MENU && !err; i++)
		if (console_may(a->c, menu[i].need))
			err = table_addf(t, ROW_PLAIN, i, NULL, "%c\t%s", menu[i].key, menu[i].label);
	return err;
}

/* Ask for what a screen needs (search text, account, date), then open it. */
static void open_item(struct app *a, const struct menu_item *m)
{
	struct form f;
	switch (m->id) {
	case SCR_FIND:
		form_init(&f, "Find a subscriber");
		form_add(&f, "account, or part of name/address", 200, 0, NULL);
		break;
	case SCR_CARD:
		form_init(&f, "An account");
		form_add(&f, "account number", 20, 0, NULL);
		break;
	case SCR_DEBTORS:
	case SCR_COMPLETENESS:
		form_init(&f, m->label);
		form_add(&f, "date (YYYY-MM-DD, empty: today)", 10, 0, NULL);
		break;
	case SCR_ALERTS: push(a, SCR_ALERTS, "", "active", 0); return;
	default: push(a, m->id, NULL, NULL, 0); return;
	}
	while (run_form(a, &f)) {
		int before = a->depth;
		push(a, m->id, form_text(&f, 0), NULL, 0);
		if (a->depth > before)
			return;
		/* refused: the status says why; the text stays to be corrected */
	}
	say(a, 0, "%s", "");
}

static int act_menu(struct app *a, struct screen *s)
{
	const struct table_row *r = table_selected(s->t);
	if (r)
		open_item(a, &menu[r->id]);
	return H_NONE;
}

/* ---- actions ---- */

static int act_find(struct app *a, struct screen *s)
{
	(void)s;
	open_item(a, &menu[0]);
	return H_NONE;
}

static int act_card(struct app *a, struct screen *s)
{
	const struct table_row *r = table_selected(s->t);
	if (!r || !r->key[0])
		say(a, 1, "choose a row with an account");
	else
		push(a, SCR_CARD, r->key, NULL, 0);
	return H_NONE;
}

static int act_invoice(struct app *a, struct screen *s)
{
	const struct table_row *r = table_selected(s->t);
	if (r && r->key[0]) /* only the invoices of a card have a key */
		push(a, SCR_INVOICE, r->key, NULL, 0);
	else if (r && r->id) /* and only its alerts an id */
		push(a, SCR_ALERT, NULL, NULL, r->id);
	else
		say(a, 1, "choose an invoice to see it explained, or an alert to see it whole");
	return H_NONE;
}

/* The chosen row whole, on a screen of its own. */
static int act_detail(struct app *a, struct screen *s)
{
	const struct table_row *r = table_selected(s->t);
	if (!r || !r->id)
		return H_NONE;
	push(a, s->id == SCR_ALERTS ? SCR_ALERT : SCR_SUSPENSE_ROW, NULL, NULL, r->id);
	return H_NONE;
}

static int act_tariff(struct app *a, struct screen *s)
{
	const struct table_row *r = table_selected(s->t);
	if (r && r->key[0])
		push(a, SCR_TARIFF, r->key, NULL, 0);
	return H_NONE;
}

static const struct table_row *chosen(struct app *a, struct screen *s, const char *what)
{
	const struct table_row *r = table_selected(s->t);
	if (!r || !r->id) {
		say(a, 1, "choose %s first", what);
		return NULL;
	}
	return r;
}

/* An action on the chosen row that takes one field of text: the form
 * until the action takes it (then the screen is read again) or Esc. */
struct one_field {
	const char *what;  /* "an alert" */
	const char *title; /* "Assign alert %lld" */
	const char *label;
	size_t max_bytes;
	const char *initial;
	enum askue_err (*fn)(struct console *c, int64_t id, const char *text, int *field);
	const char *done; /* "alert %lld assigned" */
	const char *ask;  /* a question before a step that cannot be undone, NULL = none */
};

static int one_field_action(struct app *a, struct screen *s, const struct one_field *x)
{
	const struct table_row *r = chosen(a, s, x->what);
	if (!r)
		return H_NONE;
	int64_t id = r->id;
	struct form f;
	char title[120];
	snprintf(title, sizeof title, x->title, (long long)id);
	form_init(&f, title);
	form_add(&f, x->label, x->max_bytes, 0, x->initial);
	while (run_form(a, &f)) {
		int field;
		char q[160];
		snprintf(q, sizeof q, x->ask ? x->ask : "", (long long)id);
		/* An empty field is refused by the action at once, unasked. */
		if (x->ask && *form_text(&f, 0) && !confirm(a, q)) {
			say(a, 0, "nothing done");
			continue;
		}
		if (!x->fn(a->c, id, form_text(&f, 0), &field)) {
			say(a, 0, x->done, (long long)id);
			return H_RELOAD;
		}
		say(a, 1, "%s", askue_err_msg());
		if (field < 0) /* not the field: the row (resolved by someone else ...) */
			return H_RELOAD;
		form_focus(&f, field);
	}
	say(a, 0, "%s", "");
	return H_NONE;
}

static int act_alert_assign(struct app *a, struct screen *s)
{
	const struct one_field x = {"an alert", "Assign alert %lld", "to whom",
	                            ASKUE_SHORT_TEXT_BYTES_MAX, a->c->user.name,
	                            console_alert_assign, "alert %lld assigned", NULL};
	return one_field_action(a, s, &x);
}

static int act_alert_resolve(struct app *a, struct screen *s)
{
	const struct one_field x = {"an alert", "Resolve alert %lld",
	                            "outcome (what was found and done)",
	                            ASKUE_ALERT_OUTCOME_BYTES_MAX, NULL, console_alert_resolve,
	                            "alert %lld resolved",
	                            "Resolve alert %lld? A resolved alert is final"};
	return one_field_action(a, s, &x);
}

static int act_suspense_reject(struct app *a, struct screen *s)
{
	const struct one_field x = {"a payment in suspense", "Reject payment %lld (back to the bank)",
	                            "reason", ASKUE_PAYMENT_REASON_BYTES_MAX, NULL,
	                            console_suspense_reject, "suspense %lld rejected",
	                            "Return payment %lld to the bank? It cannot be posted after"};
	return one_field_action(a, s, &x);
}

static int act_alert_filter(struct app *a, struct screen *s)
{
	struct form f;
	form_init(&f, "Filter the alerts");
	form_add(&f, "kind (empty: any)", ASKUE_ALERT_KIND_BYTES_MAX, 0, s->arg);
	form_add(&f, "state: active, open, assigned, resolved (empty: all)", 16, 0, s->arg2);
	while (run_form(a, &f)) {
		struct screen old = *s;
		snprintf(s->arg, sizeof s->arg, "%s", form_text(&f, 0));
		snprintf(s->arg2, sizeof s->arg2, "%s", form_text(&f, 1));
		if (!load(a, s)) {
			table_home(s->t, term_body_rows());
			say(a, 0, "%s", "");
			return H_NONE;
		}
		say(a, 1, "%s", askue_err_msg());
		form_focus(&f, strstr(askue_err_msg(), "state") ? 1 : 0);
		snprintf(s->arg, sizeof s->arg, "%s", old.arg);
		snprintf(s->arg2, sizeof s->arg2, "%s", old.arg2);
		if (load(a, s))
			say(a, 1, "%s", askue_err_msg());
	}
	say(a, 0, "%s", "");
	return H_NONE;
}

static int act_suspense_assign(struct app *a, struct screen *s)
{
	const struct table_row *r = chosen(a, s, "a payment in suspense");
	if (!r)
		return H_NONE;
	int64_t id = r->id;
	struct form f;
	char title[80], who[800];
	snprintf(title, sizeof title, "Assign payment %lld (suspense) to an account", (long long)id);
	form_init(&f, title);
	form_add(&f, "account", 20, 0, askue_account_well_formed(r->key) ? r->key : NULL);
	form_add(&f, "amount (empty: as the bank's row)", 20, 0, NULL);
	form_add(&f, "date (empty: as the bank's row)", 10, 0, NULL);
	while (run_form(a, &f)) {
		int field;
		const char *acc = form_text(&f, 0);
		enum askue_err err =
			console_suspense_check(a->c, id, acc, form_text(&f, 1), form_text(&f, 2),
			                       askue_date_today(), who, sizeof who, &field);
		if (!err) {
			char q[900];
			snprintf(q, sizeof q, "Post suspense %lld to %s?", (long long)id, who);
			if (!confirm(a, q)) {
				say(a, 0, "not posted");
				continue;
			}
			err = console_suspense_assign(a->c, id, acc, form_text(&f, 1), form_text(&f, 2),
			                              askue_date_today(), &field);
		}
		if (!err) {
			say(a, 0, "suspense %lld posted to account %s", (long long)id, acc);
			return H_RELOAD;
		}
		say(a, 1, "%s", askue_err_msg());
		form_focus(&f, field);
	}
	say(a, 0, "%s", "");
	return H_NONE;
}

static int act_date(struct app *a, struct screen *s)
{
	struct form f;
	form_init(&f, "Another date");
	form_add(&f, "date (YYYY-MM-DD, empty: today)", 10, 0, s->arg);
	while (run_form(a, &f)) {
		char old[sizeof s->arg];
		snprintf(old, sizeof old, "%s", s->arg);
		snprintf(s->arg, sizeof s->arg, "%s", form_text(&f, 0));
		if (!load(a, s)) {
			table_home(s->t, term_body_rows());
			say(a, 0, "%s", "");
			return H_NONE;
		}
		say(a, 1, "%s", askue_err_msg());
		snprintf(s->arg, sizeof s->arg, "%s", old);
	}
	say(a, 0, "%s", "");
	return H_NONE;
}

/* ---- key bindings ---- */

#define ENTER '\r'
struct binding {
	enum scr scr;
	int key;
	const char *hint;
	enum askue_user_action need; /* the hint shows only when allowed */
	int (*fn)(struct app *a, struct screen *s);
};

static const struct binding bindings[] = {
	{SCR_MENU, ENTER, "Enter open", ASKUE_ACT_CARD, act_menu},
	{SCR_FIND, ENTER, "Enter card", ASKUE_ACT_CARD, act_card},
	{SCR_DEBTORS, ENTER, "Enter card", ASKUE_ACT_CARD, act_card},
	{SCR_CARD, ENTER, "Enter invoice explained / alert", ASKUE_ACT_CARD, act_invoice},
	{SCR_COMPLETENESS, ENTER, "Enter card", ASKUE_ACT_CARD, act_card},
	{SCR_TARIFFS, ENTER, "Enter price history", ASKUE_ACT_TARIFFS, act_tariff},
	{SCR_ALERTS, ENTER, "Enter details", ASKUE_ACT_ALERTS, act_detail},
	{SCR_SUSPENSE, ENTER, "Enter details", ASKUE_ACT_SUSPENSE, act_detail},
	{SCR_ALERTS, 'a', "a assign", ASKUE_ACT_ALERT_WORK, act_alert_assign},
	{SCR_ALERTS, 'r', "r resolve", ASKUE_ACT_ALERT_WORK, act_alert_resolve},
	{SCR_ALERTS, 'f', "f filter", ASKUE_ACT_ALERTS, act_alert_filter},
	{SCR_SUSPENSE, 'a', "a assign to account", ASKUE_ACT_PAYMENT_WORK, act_suspense_assign},
	{SCR_SUSPENSE, 'x', "x reject", ASKUE_ACT_PAYMENT_WORK, act_suspense_reject},
	{SCR_DEBTORS, 'd', "d date", ASKUE_ACT_DEBTORS, act_date},
	{SCR_COMPLETENESS, 'd', "d date", ASKUE_ACT_COMPLETENESS, act_date},
	{SCR_ANY, '/', "/ find", ASKUE_ACT_CARD, act_find},
};
#define N_BINDINGS (sizeof bindings / sizeof bindings[0])

static const char *hints_of(struct app *a, enum scr id, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
	if (!a->c->signed_in)
		return buf;
	for (size_t i = 0; i < N_BINDINGS; i++)
		if ((bindings[i].scr == id || bindings[i].scr == SCR_ANY) &&
		    console_may(a->c, bindings[i].need))
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s   ", bindings[i].hint);
	snprintf(buf + (n < size ? n : size - 1), n < size ? size - n : 1, "%s",
	         id == SCR_MENU ? "1-7 choose   q quit"
	                        : "↑↓ PgUp PgDn Home End move   F5 reload   q back");
	return buf;
}

/* Movement and the keys every screen has; 1 when handled. */
static int common_key(struct app *a, struct screen *s, const struct term_key *k)
{
	int body = term_body_rows();
	if (k->is_key) {
		switch (k->ch) {
		case KEY_UP: table_move(s->t, -1, body); return 1;
		case KEY_DOWN: table_move(s->t, 1, body); return 1;
		case KEY_PPAGE: table_move(s->t, -body, body); return 1;
		case KEY_NPAGE: table_move(s->t, body, body); return 1;
		case KEY_HOME: table_home(s->t, body); return 1;
		case KEY_END: table_move(s->t, s->t->n_rows, body); return 1;
		case KEY_F(5): reload(a, s); return 1;
		case KEY_RESIZE: table_move(s->t, 0, body); return 1;
		default: return 0;
		}
	}
	if (k->ch == 'q' || k->ch == 27) {
		if (a->depth > 1)
			a->depth--;
		else
			a->quit = 1;
		say(a, 0, "%s", "");
		return 1;
	}
	if (k->ch == 18) { /* ^R */
		reload(a, s);
		return 1;
	}
	if (s->id == SCR_MENU && k->ch >= '1' && k->ch < '1' + N_MENU) {
		open_item(a, &menu[k->ch - '1']);
		return 1;
	}
	return 0;
}

static void dispatch(struct app *a, const struct term_key *k)
{
	struct screen *s = top(a);
	if (common_key(a, s, k))
		return;
	int key = !k->is_key && (k->ch == '\n' || k->ch == '\r') ? ENTER
	          : k->is_key && k->ch == KEY_ENTER                ? ENTER
	          : k->is_key                                      ? -1
	                                                           : (int)k->ch;
	for (size_t i = 0; i < N_BINDINGS; i++)
		if ((bindings[i].scr == s->id || bindings[i].scr == SCR_ANY) && bindings[i].key == key) {
			/* The action checks the role itself: a hidden key refused says why. */
			if (bindings[i].fn(a, s) == H_RELOAD && a->depth && top(a) == s)
				reload(a, s);
			return;
		}
}

/* ---- sign-in ---- */

static int sign_in(struct app *a)
{
	struct form f;
	form_init(&f, "Sign in");
	form_add(&f, "user", ASKUE_USER_NAME_BYTES_MAX, 0, NULL);
	form_add(&f, "password", ASKUE_USER_PASSWORD_BYTES_MAX, 1, NULL);
	for (;;) {
		struct table *t = top(a)->t;
		table_clear(t);
		snprintf(t->title, sizeof t->title, "askue console: ledger %s", a->c->cfg.ledger_path);
		if (!run_form(a, &f)) {
			form_wipe(&f);
			return 0;
		}
		int field;
		say(a, 0, "checking...");
		draw(a);
		term_refresh(0);
		enum askue_err err = console_signin(a->c, form_text(&f, 0), form_text(&f, 1), &field);
		if (!err) {
			form_wipe(&f);
			return 1;
		}
		say(a, 1, "%s", askue_err_msg());
		/* The password is typed again; the name stays. */
		f.f[1].text[0] = 0;
		f.f[1].len = f.f[1].cur = 0;
		form_focus(&f, field >= 0 ? field : 1);
	}
}

/* The tick: an idle work queue is read again. */
static void on_tick(struct app *a, int64_t *last)
{
	struct screen *s = top(a);
	if ((s->id == SCR_ALERTS || s->id == SCR_SUSPENSE) && monotonic_s() - *last >= APP_REFRESH_S) {
		reload(a, s);
		*last = monotonic_s();
	}
}

static void loop(struct app *a)
{
	int64_t last = monotonic_s();
	a->last_key = last;
	while (!a->quit && !*a->stop && !idle_expired(a)) {
		draw(a);
		term_refresh(0);
		struct term_key k;
		if (term_key(&k, APP_TICK_MS)) {
			a->last_key = last = monotonic_s();
			dispatch(a, &k);
		} else {
			on_tick(a, &last);
		}
	}
}

/* One user's session: sign in, the screens, sign out. 1 when it ended
 * for want of a key (the sign-in comes back), 0 to end the console. */
static int session(struct app *a)
{
	a->depth = 1;
	a->st[0].id = SCR_MENU;
	a->idle_out = 0;
	if (!sign_in(a))
		return 0;
	struct console *c = a->c;
	snprintf(a->user_line, sizeof a->user_line, " %s (%s) ", c->user.name,
	         askue_user_role_name(c->user.role));
	if (fill_menu(a, a->st[0].t))
		say(a, 1, "%s", askue_err_msg());
	else
		say(a, 0, "signed in as %s", c->user.name);
	loop(a);
	for (int i = 0; i < APP_DEPTH_MAX; i++) /* nothing of it left for the next user */
		table_clear(a->st[i].t);
	int idle = a->idle_out && !*a->stop;
	a->user_line[0] = 0;
	if (console_signout(c, idle ? "idle" : *a->stop ? "signal" : "quit"))
		say(a, 1, "%s", askue_err_msg());
	else if (idle)
		say(a, 0, "signed out after %lld s without a key", (long long)c->cfg.console_idle_s);
	return idle;
}

int app_run(struct console *c, volatile int *stop)
{
	struct app *a = calloc(1, sizeof *a);
	if (!a) {
		fprintf(stderr, "askue-console: out of memory\n");
		return 71;
	}
	a->c = c;
	a->stop = stop;
	int rc = 0;
	for (int i = 0; i < APP_DEPTH_MAX && !rc; i++)
		if (table_new(1, &a->st[i].t))
			rc = 71;
	if (!rc && term_open())
		rc = 74;
	if (!rc) {
		while (session(a))
			;
		term_close();
	}
	for (int i = 0; i < APP_DEPTH_MAX; i++)
		table_free(a->st[i].t);
	free(a);
	return rc;
}
