/* credentials — see credentials.h. */
#include "credentials.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal.h"

static const char *const role_names[ASKUE_ROLE_COUNT] = {
	[ASKUE_ROLE_INGESTOR] = "ingestor",
	[ASKUE_ROLE_RELAY] = "relay",
	[ASKUE_ROLE_JOBS] = "jobs",
	[ASKUE_ROLE_STALE] = "stale",
	[ASKUE_ROLE_EVENTS] = "events",
};

/* BLAKE2b personalisation: 16 bytes, so a hash made here means nothing to
 * any other use of BLAKE2b. */
static const uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = "askue.mqtt.v1";

const char *askue_role_name(enum askue_role role)
{
	if ((int)role < 0 || role >= ASKUE_ROLE_COUNT)
		return NULL;
	return role_names[role];
}

enum askue_err askue_role_parse(const char *s, enum askue_role *out)
{
	for (int r = 0; r < ASKUE_ROLE_COUNT; r++)
		if (s && !strcmp(s, role_names[r])) {
			*out = (enum askue_role)r;
			return ASKUE_OK;
		}
	return askue_err_set(ASKUE_ERR_INVALID,
	                     "role '%s': expected ingestor, relay, jobs, stale or events", s ? s : "");
}

enum askue_err askue_cred_init(void)
{
	if (sodium_init() < 0)
		return askue_err_set(ASKUE_ERR_IO, "credentials: libsodium failed to start");
	return ASKUE_OK;
}

void askue_cred_base32(const uint8_t *bytes, size_t n, char *out, size_t out_size)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t o = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | bytes[i];
		bits += 8;
		while (bits >= 5 && o + 1 < out_size) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && o + 1 < out_size)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	if (out_size)
		out[o] = '\0';
}

void askue_cred_hash(const uint8_t salt[ASKUE_CRED_SALT_BYTES], const char *password,
                     size_t password_len, uint8_t hash[ASKUE_CRED_HASH_BYTES])
{
	crypto_generichash_blake2b_salt_personal(hash, ASKUE_CRED_HASH_BYTES,
	                                         (const unsigned char *)password, password_len, NULL,
	                                         0, salt, personal);
}

enum askue_err askue_cred_new(char text[ASKUE_SECRET_TEXT_BUF], struct askue_credential *out)
{
	uint8_t secret[ASKUE_SECRET_BYTES];
	struct askue_credential c;
	randombytes_buf(secret, sizeof secret);
	randombytes_buf(c.salt, sizeof c.salt);
	askue_cred_base32(secret, sizeof secret, text, ASKUE_SECRET_TEXT_BUF);
	sodium_memzero(secret, sizeof secret);
	askue_cred_hash(c.salt, text, ASKUE_SECRET_TEXT_LEN, c.hash);
	*out = c;
	return ASKUE_OK;
}

int askue_cred_verify(const struct askue_credential *c, const char *password, size_t password_len)
{
	if (!c || !password || password_len > ASKUE_CRED_PASSWORD_BYTES_MAX)
		return 0;
	uint8_t h[ASKUE_CRED_HASH_BYTES];
	askue_cred_hash(c->salt, password, password_len, h);
	int same = sodium_memcmp(h, c->hash, sizeof h) == 0;
	sodium_memzero(h, sizeof h);
	return same;
}

enum askue_err askue_service_name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > ASKUE_SERVICE_NAME_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "service name '%s': expected 1..%d characters",
		                     name ? name : "", ASKUE_SERVICE_NAME_BYTES_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "service name '%s': only letters, digits, '.', '_' and '-'",
			                     name);
	}
	return ASKUE_OK;
}

enum askue_err askue_cred_username_owner(struct askue_ledger *l, const char *name,
                                         const char *except_kind, const char **owner)
{
	static const char sql[] =
		"SELECT 'meter' FROM meter WHERE serial = ?1 AND status <> 'dismantled'"
		" UNION ALL SELECT 'concentrator' FROM concentrator WHERE ident = ?1"
		" UNION ALL SELECT 'service' FROM service_account WHERE name = ?1";
	static const char *const kinds[] = {"meter", "concentrator", "service"};
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, name);
	const char *found = NULL;
	int rc = SQLITE_DONE;
	while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = askue_column_text(st, 0);
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (!strcmp(k, kinds[i]) && (!except_kind || strcmp(k, except_kind)))
				found = kinds[i];
	}
	if (!found && rc != SQLITE_DONE) {
		err = askue_ledger_fail(l, rc, "username");
		sqlite3_reset(st);
		return err;
	}
	sqlite3_reset(st);
	*owner = found;
	return ASKUE_OK;
}

static enum askue_err refuse_taken(struct askue_ledger *l, const char *kind, const char *name)
{
	const char *owner = NULL;
	enum askue_err err = askue_cred_username_owner(l, name, kind, &owner);
	if (err)
		return err;
	if (owner)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "%s %s: the MQTT username '%s' belongs to a %s already; the broker "
		                     "would refuse both",
		                     kind, name, name, owner);
	return ASKUE_OK;
}

/* Store c with sql (?1 salt, ?2 hash, ?3 issued, ?4 key, ?5 extra when not
 * NULL) and journal. */
static enum askue_err store_tx(struct askue_ledger *l, const char *sql, const char *key,
                               const char *extra, const struct askue_credential *c,
                               const char *event, cJSON *details)
{
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_blob(st, 1, c->salt, sizeof c->salt, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, c->hash, sizeof c->hash, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	askue_bind_text(st, 4, key);
	if (extra)
		askue_bind_text(st, 5, extra);
	if ((err = askue_ledger_step_done(l, st, "credentials")))
		return err;
	if (sqlite3_changes(askue_ledger_db(l)) != 1)
		return askue_err_set(ASKUE_ERR_DB, "credentials of %s: row not updated", key);
	return askue_journal_append(l, event, key, details);
}

/* begin; fn; commit; then hand out the text. */
static enum askue_err finish(struct askue_ledger *l, enum askue_err err, const char *text,
                             char password[ASKUE_SECRET_TEXT_BUF])
{
	if (!err)
		err = askue_ledger_commit(l);
	if (err) {
		askue_ledger_rollback(l);
		return err;
	}
	memcpy(password, text, ASKUE_SECRET_TEXT_BUF);
	return ASKUE_OK;
}

static enum askue_err meter_tx(struct askue_ledger *l, const char *serial,
                               const struct askue_credential *c)
{
	static const char find[] = "SELECT status, secret_hash IS NOT NULL FROM meter WHERE serial = ?";
	static const char set[] =
		"UPDATE meter SET secret_salt = ?1, secret_hash = ?2, secret_issued = ?3"
		" WHERE serial = ?4 AND status <> 'dismantled'";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, find, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, serial);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return askue_ledger_fail(l, rc, "meter");
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "meter %s: no such meter", serial);
	}
	int dismantled = !strcmp(askue_column_text(st, 0), "dismantled");
	int replaced = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (dismantled)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "meter %s: dismantled; a dismantled meter gets no credentials",
		                     serial);
	if ((err = refuse_taken(l, "meter", serial)))
		return err;
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "username", serial) ||
	    !cJSON_AddBoolToObject(d, "replaced", replaced)) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
	}
	err = store_tx(l, set, serial, NULL, c, ASKUE_EV_METER_CREDENTIALS, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_cred_issue_meter(struct askue_ledger *l, const char *serial,
                                      char password[ASKUE_SECRET_TEXT_BUF])
{
	char text[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	enum askue_err err;
	if (!serial || !*serial)
		return askue_err_set(ASKUE_ERR_INVALID, "meter serial: empty");
	if ((err = askue_cred_new(text, &c)) || (err = askue_ledger_begin(l)))
		return err;
	err = finish(l, meter_tx(l, serial, &c), text, password);
	sodium_memzero(text, sizeof text);
	return err;
}

static enum askue_err concentrator_tx(struct askue_ledger *l, const char *ident,
                                      const struct askue_credential *c)
{
	static const char find[] = "SELECT secret_hash IS NOT NULL FROM concentrator WHERE ident = ?";
	static const char set[] =
		"UPDATE concentrator SET secret_salt = ?1, secret_hash = ?2, secret_issued = ?3"
		" WHERE ident = ?4";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, find, ident, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return askue_err_set(err, "concentrator %s: no such concentrator", ident);
	if (err)
		return err;
	int replaced = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if ((err = refuse_taken(l, "concentrator", ident)))
		return err;
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "username", ident) ||
	    !cJSON_AddBoolToObject(d, "replaced", replaced)) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
	}
	err = store_tx(l, set, ident, NULL, c, ASKUE_EV_CONCENTRATOR_CREDENTIALS, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_cred_issue_concentrator(struct askue_ledger *l, const char *ident,
                                             char password[ASKUE_SECRET_TEXT_BUF])
{
	char text[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	enum askue_err err;
	if (!ident || !*ident)
		return askue_err_set(ASKUE_ERR_INVALID, "concentrator ident: empty");
	if ((err = askue_cred_new(text, &c)) || (err = askue_ledger_begin(l)))
		return err;
	err = finish(l, concentrator_tx(l, ident, &c), text, password);
	sodium_memzero(text, sizeof text);
	return err;
}

static enum askue_err service_tx(struct askue_ledger *l, enum askue_role role, const char *name,
                                 const struct askue_credential *c)
{
	static const char find[] = "SELECT role FROM service_account WHERE name = ?";
	static const char insert[] =
		"INSERT INTO service_account(name, role, secret_salt, secret_hash, secret_issued, created)"
		" VALUES (?4, ?5, ?1, ?2, ?3, ?3)";
	static const char set[] =
		"UPDATE service_account SET secret_salt = ?1, secret_hash = ?2, secret_issued = ?3"
		" WHERE name = ?4";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, find, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, name);
	int rc = sqlite3_step(st), exists = rc == SQLITE_ROW;
	char have[32] = "";
	if (exists)
		snprintf(have, sizeof have, "%s", askue_column_text(st, 0));
	sqlite3_reset(st);
	if (!exists && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "service account");
	if (exists && strcmp(have, askue_role_name(role)) != 0)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "service account %s: has role %s, not %s (choose another --name)",
		                     name, have, askue_role_name(role));
	if ((err = refuse_taken(l, "service", name)))
		return err;
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "username", name) ||
	    !cJSON_AddStringToObject(d, "role", askue_role_name(role)) ||
	    !cJSON_AddBoolToObject(d, "replaced", exists)) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
	}
	if (exists)
		err = store_tx(l, set, name, NULL, c, ASKUE_EV_SERVICE_CREDENTIALS, d);
	else
		err = store_tx(l, insert, name, askue_role_name(role), c, ASKUE_EV_SERVICE_CREDENTIALS,
		               d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_cred_issue_service(struct askue_ledger *l, enum askue_role role,
                                        const char *name, char password[ASKUE_SECRET_TEXT_BUF])
{
	char text[ASKUE_SECRET_TEXT_BUF];
	struct askue_credential c;
	enum askue_err err;
	if (!askue_role_name(role))
		return askue_err_set(ASKUE_ERR_INVALID, "role %d: unknown", (int)role);
	if ((err = askue_service_name_check(name)))
		return err;
	if ((err = askue_cred_new(text, &c)) || (err = askue_ledger_begin(l)))
		return err;
	err = finish(l, service_tx(l, role, name, &c), text, password);
	sodium_memzero(text, sizeof text);
	return err;
}

static enum askue_err revoke_tx(struct askue_ledger *l, const char *name)
{
	static const char sql[] = "DELETE FROM service_account WHERE name = ? RETURNING role";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	char role[16] = "";
	if (rc == SQLITE_ROW)
		snprintf(role, sizeof role, "%s", askue_column_text(st, 0));
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "service account");
	if (!role[0])
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "service account %s: no such account", name);
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "role", role)) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
	}
	err = askue_journal_append(l, ASKUE_EV_SERVICE_REVOKED, name, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_cred_revoke_service(struct askue_ledger *l, const char *name)
{
	enum askue_err err = askue_service_name_check(name);
	if (err || (err = askue_ledger_begin(l)))
		return err;
	if ((err = revoke_tx(l, name)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_service_each(struct askue_ledger *l,
                                  int (*fn)(const struct askue_service_account *, void *),
                                  void *arg)
{
	static const char sql[] =
		"SELECT name, role, secret_issued, created FROM service_account ORDER BY name";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_service_account a = {.issued = sqlite3_column_int64(st, 2),
		                                  .created = sqlite3_column_int64(st, 3)};
		snprintf(a.name, sizeof a.name, "%s", askue_column_text(st, 0));
		snprintf(a.role, sizeof a.role, "%s", askue_column_text(st, 1));
		if (fn(&a, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "service accounts");
	sqlite3_reset(st);
	return err;
}
