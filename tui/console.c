/* console — the session, sign-in and the actions (see console.h); the
 * loaders are in views.c. */
#include "console.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "alert.h"
#include "payment.h"
#include "registry.h"
#include "text.h"

/* A busy ledger said plainly: who holds it and what to do. */
enum askue_err console_busy(enum askue_err err)
{
	if (err == ASKUE_ERR_BUSY)
		return askue_err_set(err, "the ledger is busy: another program (a job?) is writing; "
		                          "nothing was changed, try again in a moment");
	return err;
}

static enum askue_err open_ledger(struct console *c, const char *actor)
{
	askue_ledger_close(c->ledger);
	c->ledger = NULL;
	/* A person at a screen should not wait the jobs' 30 s for a lock. */
	int64_t busy = c->cfg.console_busy_ms;
	return console_busy(askue_ledger_open(c->cfg.ledger_path, busy, actor, &c->ledger));
}

enum askue_err console_open(struct console *c, const char *config_path)
{
	memset(c, 0, sizeof *c);
	if (config_path)
		snprintf(c->config_path, sizeof c->config_path, "%s", config_path);
	enum askue_err err = askue_config_load(config_path, &c->cfg);
	if (!err)
		err = askue_config_apply(&c->cfg);
	if (!err)
		err = open_ledger(c, "console");
	return err;
}

void console_close(struct console *c)
{
	askue_ledger_close(c->ledger);
	c->ledger = NULL;
	c->signed_in = 0;
}

enum askue_err console_signin(struct console *c, const char *name, const char *password,
                              int *field)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*field = 0;
	if (!*name)
		return askue_err_set(ASKUE_ERR_INVALID, "user name: empty");
	*field = 1;
	if (!*password)
		return askue_err_set(ASKUE_ERR_INVALID, "password: empty");
	struct askue_user u;
	enum askue_err err = askue_user_signin(c->ledger, name, password, (int64_t)ts.tv_sec, &u);
	if (err) {
		*field = err == ASKUE_ERR_CONFLICT ? 0 : 1;
		return console_busy(err);
	}
	if ((err = open_ledger(c, u.name)))
		return err;
	c->user = u;
	c->signed_in = 1;
	*field = -1;
	return ASKUE_OK;
}

enum askue_err console_signout(struct console *c, const char *reason)
{
	if (!c->signed_in)
		return ASKUE_OK;
	c->signed_in = 0;
	enum askue_err err = console_busy(askue_user_signout(c->ledger, c->user.name, reason));
	char msg[300];
	snprintf(msg, sizeof msg, "%s", err ? askue_err_msg() : "");
	memset(&c->user, 0, sizeof c->user);
	enum askue_err reopen = open_ledger(c, "console");
	if (reopen)
		return reopen;
	return err ? askue_err_set(err, "sign-out not journaled: %s", msg) : ASKUE_OK;
}

int console_may(const struct console *c, enum askue_user_action a)
{
	return c->signed_in && askue_user_may(c->user.role, a);
}

/* The role check every action and loader starts with. */
enum askue_err console_check(const struct console *c, enum askue_user_action a, const char *what)
{
	if (!c->signed_in)
		return askue_err_set(ASKUE_ERR_CONFLICT, "sign in first");
	return askue_user_check(&c->user, a, what);
}

enum askue_err console_date(const char *what, const char *text, struct askue_date today,
                            struct askue_date *out)
{
	if (!*text) {
		*out = today;
		return ASKUE_OK;
	}
	enum askue_err err = askue_date_parse(text, out);
	if (err && strcmp(what, "date"))
		askue_err_prefix("%s: ", what); /* lib says "date '...': ..." already */
	return err;
}

/* A person's text in a form: valid, not empty, within max bytes. */
static enum askue_err typed(const char *field, const char *s, size_t max)
{
	return askue_text_check(field, s, max, 1);
}

enum askue_err console_alert_assign(struct console *c, int64_t id, const char *person, int *field)
{
	*field = -1;
	enum askue_err err = console_check(c, ASKUE_ACT_ALERT_WORK, "assign alerts");
	if (err)
		return err;
	*field = 0;
	if ((err = typed("person", person, ASKUE_SHORT_TEXT_BYTES_MAX)))
		return err;
	*field = -1;
	return console_busy(askue_alert_assign(c->ledger, id, person));
}

enum askue_err console_alert_resolve(struct console *c, int64_t id, const char *outcome,
                                     int *field)
{
	*field = -1;
	enum askue_err err = console_check(c, ASKUE_ACT_ALERT_WORK, "resolve alerts");
	if (err)
		return err;
	*field = 0;
	if ((err = typed("outcome", outcome, ASKUE_ALERT_OUTCOME_BYTES_MAX)))
		return err;
	*field = -1;
	return console_busy(askue_alert_resolve(c->ledger, id, outcome, 0));
}

/* The account typed for a suspense row: digits, and for a number askue
 * made (ten digits) the right check digit, before the ledger is asked. */
static enum askue_err account_typed(const char *account)
{
	if (!*account)
		return askue_err_set(ASKUE_ERR_INVALID, "account: empty");
	if (!askue_account_well_formed(account))
		return askue_err_set(ASKUE_ERR_INVALID, "account '%.40s': expected up to 20 digits",
		                     askue_text_valid(account, strlen(account)) ? account : "?");
	return ASKUE_OK;
}

/* The suspense form checked into *a (and *who). */
static enum askue_err suspense_form(struct console *c, int64_t id, const char *account,
                                   const char *amount, const char *date, struct askue_date today,
                                   struct askue_suspense_assign *a, char *who, size_t who_size,
                                   int *field)
{
	*field = -1;
	enum askue_err err = console_check(c, ASKUE_ACT_PAYMENT_WORK, "assign payments");
	if (err)
		return err;
	struct askue_suspense row;
	if ((err = askue_suspense_get(c->ledger, id, &row)))
		return console_busy(err);
	if (strcmp(row.status, "open"))
		return askue_err_set(ASKUE_ERR_CONFLICT, "suspense %lld is %s already",
		                     (long long)id, row.status);
	*field = 0;
	struct askue_subscriber s;
	if ((err = account_typed(account)) || (err = askue_subscriber_get(c->ledger, account, &s)))
		return console_busy(err);
	*a = (struct askue_suspense_assign){.id = id, .account = account, .today = today};
	*field = 1;
	if (*amount) {
		if ((err = askue_money_parse(amount, &a->amount))) {
			askue_err_prefix("amount: ");
			return err;
		}
		a->has_amount = 1;
	}
	*field = 2;
	if (*date) {
		if ((err = console_date("date", date, today, &a->date)))
			return err;
		a->has_date = 1;
	}
	*field = -1;
	snprintf(who, who_size, "%s %s, %s", s.account, s.name, s.address);
	return ASKUE_OK;
}

enum askue_err console_suspense_check(struct console *c, int64_t id, const char *account,
                                      const char *amount, const char *date,
                                      struct askue_date today, char *who, size_t who_size,
                                      int *field)
{
	struct askue_suspense_assign a;
	return suspense_form(c, id, account, amount, date, today, &a, who, who_size, field);
}

enum askue_err console_suspense_assign(struct console *c, int64_t id, const char *account,
                                       const char *amount, const char *date,
                                       struct askue_date today, int *field)
{
	char who[ASKUE_NAME_BYTES_MAX + ASKUE_ADDRESS_BYTES_MAX + 64];
	struct askue_suspense_assign a;
	enum askue_err err =
		suspense_form(c, id, account, amount, date, today, &a, who, sizeof who, field);
	return err ? err : console_busy(askue_suspense_assign(c->ledger, &a, NULL));
}

enum askue_err console_suspense_reject(struct console *c, int64_t id, const char *reason,
                                       int *field)
{
	*field = -1;
	enum askue_err err = console_check(c, ASKUE_ACT_PAYMENT_WORK, "reject payments");
	if (err)
		return err;
	*field = 0;
	if ((err = typed("reason", reason, ASKUE_PAYMENT_REASON_BYTES_MAX)))
		return err;
	*field = -1;
	return console_busy(askue_suspense_reject(c->ledger, id, reason));
}
