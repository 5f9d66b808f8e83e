/* user — see user.h. */
#include "user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "text.h"

static const char *const role_names[ASKUE_USER_ROLE_COUNT] = {"operations", "tariff",
                                                               "accounting", "admin"};

/* The table of who may do what: rows are roles, columns actions. */
static const unsigned char may[ASKUE_USER_ROLE_COUNT][ASKUE_ACT_COUNT] = {
	/*                       card alerts awork susp pwork debt tariff compl */
	[ASKUE_USER_OPERATIONS] = {1, 1, 1, 0, 0, 0, 0, 1},
	[ASKUE_USER_TARIFF] = {1, 0, 0, 0, 0, 0, 1, 1},
	[ASKUE_USER_ACCOUNTING] = {1, 0, 0, 1, 1, 1, 0, 0},
	[ASKUE_USER_ADMIN] = {1, 1, 1, 1, 1, 1, 1, 1},
};

const char *askue_user_role_name(enum askue_user_role r)
{
	return (unsigned)r < ASKUE_USER_ROLE_COUNT ? role_names[r] : "?";
}

enum askue_err askue_user_role_parse(const char *s, enum askue_user_role *out)
{
	for (int r = 0; r < ASKUE_USER_ROLE_COUNT; r++)
		if (s && !strcmp(s, role_names[r])) {
			*out = (enum askue_user_role)r;
			return ASKUE_OK;
		}
	return askue_err_set(ASKUE_ERR_INVALID,
	                     "role '%s': expected operations, tariff, accounting or admin",
	                     s ? s : "");
}

int askue_user_may(enum askue_user_role r, enum askue_user_action a)
{
	if ((unsigned)r >= ASKUE_USER_ROLE_COUNT || (unsigned)a >= ASKUE_ACT_COUNT)
		return 0;
	return may[r][a];
}

enum askue_err askue_user_check(const struct askue_user *u, enum askue_user_action a,
                                const char *what)
{
	if (u && askue_user_may(u->role, a))
		return ASKUE_OK;
	return askue_err_set(ASKUE_ERR_CONFLICT, "%s (role %s) may not %s", u ? u->name : "nobody",
	                     u ? askue_user_role_name(u->role) : "none", what);
}

enum askue_err askue_user_name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!n)
		return askue_err_set(ASKUE_ERR_INVALID, "user name: empty");
	if (n > ASKUE_USER_NAME_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "user name: longer than %d characters",
		                     ASKUE_USER_NAME_BYTES_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "user name '%.64s': character %zu: only latin letters, "
			                     "digits, '.', '_' and '-'",
			                     askue_text_valid(name, n) ? name : "?", i + 1);
	}
	return ASKUE_OK;
}

enum askue_err askue_user_password_check(const char *password)
{
	size_t n = password ? strlen(password) : 0;
	if (n < ASKUE_USER_PASSWORD_BYTES_MIN)
		return askue_err_set(ASKUE_ERR_INVALID, "password: shorter than %d characters",
		                     ASKUE_USER_PASSWORD_BYTES_MIN);
	if (n > ASKUE_USER_PASSWORD_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "password: longer than %d bytes",
		                     ASKUE_USER_PASSWORD_BYTES_MAX);
	if (!askue_text_valid(password, n))
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "password: not UTF-8 text, or with control characters");
	return ASKUE_OK;
}

static enum askue_err hash_password(const char *password, char hash[ASKUE_USER_HASH_BUF])
{
	_Static_assert(crypto_pwhash_STRBYTES <= ASKUE_USER_HASH_BUF, "hash buffer");
	if (sodium_init() < 0)
		return askue_err_set(ASKUE_ERR_IO, "user: libsodium failed to start");
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE))
		return askue_err_set(ASKUE_ERR_NOMEM, "user: out of memory hashing the password");
	return ASKUE_OK;
}

static int64_t now_utc(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* Journal type for subject with details {"role": .., "reason": ..}. */
static enum askue_err journal(struct askue_ledger *l, const char *type, const char *subject,
                              const char *role, const char *reason)
{
	cJSON *d = cJSON_CreateObject();
	if (!d || (role && !cJSON_AddStringToObject(d, "role", role)) ||
	    (reason && !cJSON_AddStringToObject(d, "reason", reason))) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "user: out of memory");
	}
	enum askue_err err = askue_journal_append(l, type, subject, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_user_add(struct askue_ledger *l, const char *name, enum askue_user_role role,
                              const char *password)
{
	static const char sql[] =
		"INSERT INTO console_user(name, role, pwhash, created) VALUES (?1, ?2, ?3, ?4)";
	char hash[ASKUE_USER_HASH_BUF];
	enum askue_err err;
	if ((err = askue_user_name_check(name)) || (err = askue_user_password_check(password)))
		return err;
	if ((unsigned)role >= ASKUE_USER_ROLE_COUNT)
		return askue_err_set(ASKUE_ERR_INVALID, "user %s: no such role", name);
	if ((err = hash_password(password, hash)) || (err = askue_ledger_begin(l)))
		return err;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		askue_bind_text(st, 1, name);
		askue_bind_text(st, 2, role_names[role]);
		askue_bind_text(st, 3, hash);
		sqlite3_bind_int64(st, 4, now_utc());
		err = askue_ledger_step_done(l, st, "console user");
		if (err == ASKUE_ERR_CONFLICT)
			err = askue_err_set(ASKUE_ERR_EXISTS, "user %s: exists already", name);
	}
	sodium_memzero(hash, sizeof hash);
	if (!err)
		err = journal(l, ASKUE_EV_USER_ADDED, name, role_names[role], NULL);
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

/* Run sql (binding ?1 = name, ?2 = text2 when not NULL) and journal type,
 * in one transaction; ASKUE_ERR_NOT_FOUND when no user has the name. */
static enum askue_err update_user(struct askue_ledger *l, const char *sql, const char *name,
                                  const char *text2, const char *type)
{
	enum askue_err err;
	if ((err = askue_user_name_check(name)) || (err = askue_ledger_begin(l)))
		return err;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		askue_bind_text(st, 1, name);
		if (text2)
			askue_bind_text(st, 2, text2);
		if (!(err = askue_ledger_step_done(l, st, "console user")) &&
		    !sqlite3_changes(askue_ledger_db(l)))
			err = askue_err_set(ASKUE_ERR_NOT_FOUND, "user %s: no such user", name);
	}
	if (!err)
		err = journal(l, type, name, NULL, NULL);
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_user_passwd(struct askue_ledger *l, const char *name, const char *password)
{
	char hash[ASKUE_USER_HASH_BUF];
	enum askue_err err;
	if ((err = askue_user_name_check(name)) || (err = askue_user_password_check(password)) ||
	    (err = hash_password(password, hash)))
		return err;
	err = update_user(l,
	                  "UPDATE console_user SET pwhash = ?2, failed = 0, disabled = 0"
	                  " WHERE name = ?1",
	                  name, hash, ASKUE_EV_USER_PASSWORD);
	sodium_memzero(hash, sizeof hash);
	return err;
}

enum askue_err askue_user_disable(struct askue_ledger *l, const char *name)
{
	struct askue_user u = {0};
	enum askue_err err = askue_user_get(l, name, &u);
	if (err || u.disabled)
		return err;
	return update_user(l, "UPDATE console_user SET disabled = 1 WHERE name = ?1", name, NULL,
	                   ASKUE_EV_USER_DISABLED);
}

#define USER_COLUMNS \
	"id, name, role, disabled, failed, failed_total, coalesce(last_signin, 0), created, pwhash"

static enum askue_err user_of_row(sqlite3_stmt *st, struct askue_user *u)
{
	memset(u, 0, sizeof *u);
	u->id = sqlite3_column_int64(st, 0);
	snprintf(u->name, sizeof u->name, "%s", askue_column_text(st, 1));
	enum askue_err err = askue_user_role_parse(askue_column_text(st, 2), &u->role);
	u->disabled = sqlite3_column_int(st, 3) != 0;
	u->failed = sqlite3_column_int64(st, 4);
	u->failed_total = sqlite3_column_int64(st, 5);
	u->last_signin = sqlite3_column_int64(st, 6);
	u->created = sqlite3_column_int64(st, 7);
	if (err)
		askue_err_prefix("user %s: ", u->name);
	return err;
}

/* The user's row and password hash (hash may be NULL). */
static enum askue_err get_user(struct askue_ledger *l, const char *name, struct askue_user *out,
                               char hash[ASKUE_USER_HASH_BUF])
{
	sqlite3_stmt *st;
	enum askue_err err =
		askue_ledger_row(l, "SELECT " USER_COLUMNS " FROM console_user WHERE name = ?1", name, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return askue_err_set(err, "user %s: no such user", name);
	if (err)
		return err;
	struct askue_user u;
	if (!(err = user_of_row(st, &u))) {
		*out = u;
		if (hash)
			snprintf(hash, ASKUE_USER_HASH_BUF, "%s", askue_column_text(st, 8));
	}
	sqlite3_reset(st);
	return err;
}

enum askue_err askue_user_get(struct askue_ledger *l, const char *name, struct askue_user *out)
{
	enum askue_err err = askue_user_name_check(name);
	return err ? err : get_user(l, name, out, NULL);
}

enum askue_err askue_user_each(struct askue_ledger *l,
                               int (*fn)(const struct askue_user *u, void *arg), void *arg)
{
	sqlite3_stmt *st;
	enum askue_err err =
		askue_ledger_stmt(l, "SELECT " USER_COLUMNS " FROM console_user ORDER BY name", &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_user u;
		if ((err = user_of_row(st, &u)) || fn(&u, arg))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "console users");
	sqlite3_reset(st);
	return err;
}

/* Count a refusal on the user (when known) and journal it; committed. */
static enum askue_err record_failure(struct askue_ledger *l, const char *name, int known,
                                     const char *reason)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	sqlite3_stmt *st;
	if (known && !(err = askue_ledger_stmt(l,
	                                       "UPDATE console_user SET failed = failed + 1,"
	                                       " failed_total = failed_total + 1 WHERE name = ?1",
	                                       &st))) {
		askue_bind_text(st, 1, name);
		err = askue_ledger_step_done(l, st, "console user");
	}
	if (!err)
		err = journal(l, ASKUE_EV_USER_SIGNIN_FAILED, known ? name : "?", NULL, reason);
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

/* The refusal err (message set by the caller), after recording it. */
static enum askue_err refuse(struct askue_ledger *l, const char *name, int known,
                             const char *reason, enum askue_err err)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", askue_err_msg());
	enum askue_err rec = record_failure(l, name, known, reason);
	if (rec)
		return rec;
	return askue_err_set(err, "%s", msg);
}

static enum askue_err record_success(struct askue_ledger *l, struct askue_user *u, int64_t now)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l,
	                              "UPDATE console_user SET failed = 0, last_signin = ?2"
	                              " WHERE id = ?1",
	                              &st))) {
		sqlite3_bind_int64(st, 1, u->id);
		sqlite3_bind_int64(st, 2, now);
		err = askue_ledger_step_done(l, st, "console user");
	}
	if (!err)
		err = journal(l, ASKUE_EV_USER_SIGNED_IN, u->name, askue_user_role_name(u->role), NULL);
	if (!err && !(err = askue_ledger_commit(l))) {
		u->failed = 0;
		u->last_signin = now;
		return ASKUE_OK;
	}
	askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_user_signin(struct askue_ledger *l, const char *name, const char *password,
                                 int64_t now, struct askue_user *out)
{
	static const char wrong[] = "wrong user name or password";
	char hash[ASKUE_USER_HASH_BUF];
	struct askue_user u = {0};
	if (sodium_init() < 0)
		return askue_err_set(ASKUE_ERR_IO, "user: libsodium failed to start");
	if (askue_user_name_check(name)) {
		askue_err_set(ASKUE_ERR_INVALID, "%s", wrong);
		return refuse(l, name, 0, "malformed name", ASKUE_ERR_INVALID);
	}
	/* A password no user could have is a wrong one (counted), not a
	 * reason to skip the count. */
	int well_formed = !askue_user_password_check(password);
	enum askue_err err = get_user(l, name, &u, hash);
	if (err == ASKUE_ERR_NOT_FOUND) {
		/* The same work as for a known name: the time says nothing. */
		if (!hash_password(password, hash))
			sodium_memzero(hash, sizeof hash);
		askue_err_set(ASKUE_ERR_INVALID, "%s", wrong);
		return refuse(l, name, 0, "unknown user", ASKUE_ERR_INVALID);
	}
	if (err)
		return err;
	int good = well_formed && !crypto_pwhash_str_verify(hash, password, strlen(password));
	sodium_memzero(hash, sizeof hash);
	if (u.disabled) {
		askue_err_set(ASKUE_ERR_CONFLICT, "user %s is disabled: ask an admin", name);
		return refuse(l, name, 1, "disabled", ASKUE_ERR_CONFLICT);
	}
	if (u.failed >= ASKUE_USER_FAILED_MAX) {
		askue_err_set(ASKUE_ERR_CONFLICT,
		              "user %s is locked after %d failed sign-ins: an admin sets a new "
		              "password (askue user passwd)",
		              name, ASKUE_USER_FAILED_MAX);
		return refuse(l, name, 1, "locked", ASKUE_ERR_CONFLICT);
	}
	if (!good) {
		askue_err_set(ASKUE_ERR_INVALID, "%s", wrong);
		return refuse(l, name, 1, "wrong password", ASKUE_ERR_INVALID);
	}
	if ((err = record_success(l, &u, now)))
		return err;
	*out = u;
	return ASKUE_OK;
}

enum askue_err askue_user_signout(struct askue_ledger *l, const char *name, const char *reason)
{
	enum askue_err err = askue_user_name_check(name);
	if (err || (err = askue_ledger_begin(l)))
		return err;
	if (!(err = journal(l, ASKUE_EV_USER_SIGNED_OUT, name, NULL, reason)))
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}
