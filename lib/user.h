/* user — the people who sign in to askue-console, and what each may do.
 *
 * A console user has a name, a role (operations, tariff, accounting,
 * admin) and a password kept only as libsodium's crypto_pwhash_str
 * (Argon2id with a random salt; the string carries its own parameters).
 * Users are made and changed with `askue user add|list|passwd|disable`;
 * they are never deleted (the journal names them as actors), only
 * disabled. A sign-in that fails is counted on the user (consecutive and
 * in total) and journaled; after ASKUE_USER_FAILED_MAX failures in a row
 * the user is locked until an admin sets a new password. What a role may
 * do is askue_user_may: the console asks it before every action, not only
 * when it draws a menu. Each change here is journaled in its transaction.
 */
#ifndef ASKUE_USER_H
#define ASKUE_USER_H

#include <stdint.h>
#include "err.h"
#include "ledger.h"

/* A user name: letters, digits, '.', '_' and '-' (it is typed at a
 * sign-in prompt and printed as the journal's actor). */
#define ASKUE_USER_NAME_BYTES_MAX 64
/* Passwords: 8 bytes is the least anyone should type; 128 is more than
 * any passphrase and bounds what we hash. */
#define ASKUE_USER_PASSWORD_BYTES_MIN 8
#define ASKUE_USER_PASSWORD_BYTES_MAX 128
/* Failed sign-ins in a row before the user is locked: enough for typos,
 * too few to guess a password of eight characters. */
#define ASKUE_USER_FAILED_MAX 5
/* crypto_pwhash_STRBYTES (128) and room. */
#define ASKUE_USER_HASH_BUF 128

/* Events (subject: the user's name). */
#define ASKUE_EV_USER_ADDED "console_user_added"
#define ASKUE_EV_USER_PASSWORD "console_user_password_set"
#define ASKUE_EV_USER_DISABLED "console_user_disabled"
#define ASKUE_EV_USER_SIGNED_IN "console_signed_in"
#define ASKUE_EV_USER_SIGNIN_FAILED "console_signin_failed"
#define ASKUE_EV_USER_SIGNED_OUT "console_signed_out"

enum askue_user_role {
	ASKUE_USER_OPERATIONS,
	ASKUE_USER_TARIFF,
	ASKUE_USER_ACCOUNTING,
	ASKUE_USER_ADMIN,
	ASKUE_USER_ROLE_COUNT
};

/* What the console does on a user's behalf. */
enum askue_user_action {
	ASKUE_ACT_CARD,         /* find subscribers, see a card, an invoice, a balance */
	ASKUE_ACT_ALERTS,       /* see the alert queue */
	ASKUE_ACT_ALERT_WORK,   /* assign and resolve alerts */
	ASKUE_ACT_SUSPENSE,     /* see payments in suspense */
	ASKUE_ACT_PAYMENT_WORK, /* assign or reject a payment in suspense */
	ASKUE_ACT_DEBTORS,      /* the debtors list */
	ASKUE_ACT_TARIFFS,      /* tariffs, zones, price history */
	ASKUE_ACT_COMPLETENESS, /* the data completeness report */
	ASKUE_ACT_COUNT
};

struct askue_user {
	int64_t id;
	char name[ASKUE_USER_NAME_BYTES_MAX + 1];
	enum askue_user_role role;
	int disabled;
	int64_t failed;       /* failed sign-ins since the last good one */
	int64_t failed_total; /* ever */
	int64_t last_signin;  /* UTC s, 0 = never */
	int64_t created;      /* UTC s */
};

const char *askue_user_role_name(enum askue_user_role r);
ASKUE_MUST enum askue_err askue_user_role_parse(const char *s, enum askue_user_role *out);
/* 1 when role r may do a. */
int askue_user_may(enum askue_user_role r, enum askue_user_action a);
/* ASKUE_OK when u may do a, else ASKUE_ERR_CONFLICT with a message naming
 * the user, the role and what was refused (what: "assign payments"). */
ASKUE_MUST enum askue_err askue_user_check(const struct askue_user *u, enum askue_user_action a,
                                           const char *what);

/* Checks of what a person types (the message names the field). */
ASKUE_MUST enum askue_err askue_user_name_check(const char *name);
ASKUE_MUST enum askue_err askue_user_password_check(const char *password);

/* Add a user (ASKUE_ERR_EXISTS when the name is taken). */
ASKUE_MUST enum askue_err askue_user_add(struct askue_ledger *l, const char *name,
                                         enum askue_user_role role, const char *password);
/* A new password; also unlocks (failed back to 0) and enables the user. */
ASKUE_MUST enum askue_err askue_user_passwd(struct askue_ledger *l, const char *name,
                                            const char *password);
/* Disable: the user can no longer sign in (a second time is a no-op). */
ASKUE_MUST enum askue_err askue_user_disable(struct askue_ledger *l, const char *name);
ASKUE_MUST enum askue_err askue_user_get(struct askue_ledger *l, const char *name,
                                         struct askue_user *out);
/* Every user, by name; fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_user_each(struct askue_ledger *l,
                                          int (*fn)(const struct askue_user *u, void *arg),
                                          void *arg);

/* Sign in: ASKUE_OK and *out when the user exists, is enabled, is not
 * locked and the password matches (failed reset to 0, journaled
 * console_signed_in). Otherwise ASKUE_ERR_INVALID ("wrong user name or
 * password", the same for an unknown name) or ASKUE_ERR_CONFLICT (disabled,
 * locked); the failure is counted and journaled console_signin_failed with
 * its reason, committed before the function returns. */
ASKUE_MUST enum askue_err askue_user_signin(struct askue_ledger *l, const char *name,
                                            const char *password, int64_t now,
                                            struct askue_user *out);

/* Journal the end of a console session (reason: "quit", "idle" ...). */
ASKUE_MUST enum askue_err askue_user_signout(struct askue_ledger *l, const char *name,
                                             const char *reason);

#endif
