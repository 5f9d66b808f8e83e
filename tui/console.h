/* console — the console's session and everything it shows and does,
 * without a terminal: the signed-in user, the ledger opened as the CLI
 * opens it (lib/config), the loaders that fill a screen's table from lib/
 * (the same functions the `askue` commands call) and the actions, each of
 * which checks the user's role itself (lib/user.h askue_user_may) before
 * it validates its form and calls lib/. The screens (app.c) only draw
 * tables and forms and call these; the unit tests call them directly.
 *
 * Three reports whose logic lives in the command line rather than lib/
 * (debtors with aging, data completeness, a tariff's price history) and
 * the explained invoice are taken from `askue --json ...` / `askue invoice
 * show` run beside the console (runner.c), so there is one implementation.
 *
 * The ledger is held with a short busy timeout ([console] busy_ms) and no
 * transaction between keys: every action is one transaction of lib/, committed before the
 * console waits again; a ledger busy with a job says so on the status line.
 */
#ifndef ASKUE_TUI_CONSOLE_H
#define ASKUE_TUI_CONSOLE_H

#include "config.h"
#include "date.h"
#include "err.h"
#include "ledger.h"
#include "table.h"
#include "user.h"

/* Rows of a subscriber search: more than a screen pages through easily;
 * a fragment that matches more should be longer. */
#define CONSOLE_FIND_ROWS_MAX 500
/* Invoices and payments a card lists (the latest). */
#define CONSOLE_CARD_LAST 6
/* Output of `askue` read for a report: a debtors list of 500,000 accounts
 * in JSON is about 100 MiB; a screen's worth is far less. */
#define CONSOLE_REPORT_BYTES_MAX (256 * 1024 * 1024)

struct console {
	struct askue_config cfg;
	char config_path[ASKUE_PATH_MAX]; /* --config as given, "" = the usual lookup */
	char askue_bin[ASKUE_PATH_MAX];   /* the askue command line for reports */
	struct askue_ledger *ledger;
	int signed_in;
	struct askue_user user;
};

/* Load the configuration (config_path may be NULL), apply it, open the
 * ledger (as operator "console" until someone signs in). */
ASKUE_MUST enum askue_err console_open(struct console *c, const char *config_path);
void console_close(struct console *c);

/* Sign in. On success the ledger is reopened with the user as the
 * journal's actor. *field gets the form field at fault (0 name, 1 password). */
ASKUE_MUST enum askue_err console_signin(struct console *c, const char *name,
                                         const char *password, int *field);
/* End the session (journaled console_signed_out with reason); the ledger
 * is the console's again, nobody signed in. */
ASKUE_MUST enum askue_err console_signout(struct console *c, const char *reason);
/* May the signed-in user do a? (for menus; the actions check again). */
int console_may(const struct console *c, enum askue_user_action a);

/* Screens' data. Each clears t and fills it (title, heads, rows). */
ASKUE_MUST enum askue_err console_find(struct console *c, const char *text, struct table *t);
ASKUE_MUST enum askue_err console_card(struct console *c, const char *account,
                                       struct askue_date today, struct table *t);
ASKUE_MUST enum askue_err console_invoice(struct console *c, const char *number, struct table *t);
/* kind: "" = any; state: "active" (open or assigned), "open", "assigned",
 * "resolved", "" = all. */
ASKUE_MUST enum askue_err console_alerts(struct console *c, const char *kind, const char *state,
                                         struct table *t);
ASKUE_MUST enum askue_err console_suspense(struct console *c, struct table *t);
/* One alert whole (details, every meter of a grouped one); one suspense
 * row whole (the bank's raw line, the reason). */
ASKUE_MUST enum askue_err console_alert_detail(struct console *c, int64_t id, struct table *t);
ASKUE_MUST enum askue_err console_suspense_detail(struct console *c, int64_t id, struct table *t);
/* date: YYYY-MM-DD as typed ("" = today). */
ASKUE_MUST enum askue_err console_debtors(struct console *c, const char *date, struct table *t);
ASKUE_MUST enum askue_err console_tariffs(struct console *c, struct table *t);
ASKUE_MUST enum askue_err console_tariff(struct console *c, const char *name, struct table *t);
ASKUE_MUST enum askue_err console_completeness(struct console *c, const char *date,
                                               struct table *t);

/* Actions: the role first, then the fields (*field: the one at fault, or
 * -1), then lib/, journaled with the user as actor. */
ASKUE_MUST enum askue_err console_alert_assign(struct console *c, int64_t id, const char *person,
                                               int *field);
ASKUE_MUST enum askue_err console_alert_resolve(struct console *c, int64_t id,
                                                const char *outcome, int *field);
/* Check a suspense row can go to account: the row is open, the account
 * well formed, its check digit right, the subscriber exists, and amount
 * and date (as typed, "" = the row's own; fields 1 and 2) parse; *who
 * gets "ACCOUNT name, address" for the confirmation. Nothing is written. */
ASKUE_MUST enum askue_err console_suspense_check(struct console *c, int64_t id,
                                                 const char *account, const char *amount,
                                                 const char *date, struct askue_date today,
                                                 char *who, size_t who_size, int *field);
/* The same checks, then the payment posted from the row (journaled). */
ASKUE_MUST enum askue_err console_suspense_assign(struct console *c, int64_t id,
                                                  const char *account, const char *amount,
                                                  const char *date, struct askue_date today,
                                                  int *field);
ASKUE_MUST enum askue_err console_suspense_reject(struct console *c, int64_t id,
                                                  const char *reason, int *field);

/* For the loaders: the role check they start with, and a busy ledger's
 * error said plainly (other errors pass unchanged). */
ASKUE_MUST enum askue_err console_check(const struct console *c, enum askue_user_action a,
                                        const char *what);
enum askue_err console_busy(enum askue_err err);

/* Validate a date typed in a form ("" = today). */
ASKUE_MUST enum askue_err console_date(const char *what, const char *text, struct askue_date today,
                                       struct askue_date *out);

/* runner.c: run `askue [--config F] [--json] args..`; *out gets its
 * standard output (NUL-terminated, caller frees). A non-zero exit is an
 * error with the command's own message. */
ASKUE_MUST enum askue_err console_run_askue(const struct console *c, int json,
                                            const char *const *args, char **out);

#endif
