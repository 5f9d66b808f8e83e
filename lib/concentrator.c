/* concentrator — see concentrator.h. */
#include "concentrator.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "credentials.h"
#include "journal.h"
#include "text.h"

enum askue_err askue_concentrator_ident_check(const char *ident)
{
	enum askue_err err = askue_text_check("concentrator", ident, ASKUE_SERIAL_BYTES_MAX, 1);
	if (err)
		return err;
	if (strpbrk(ident, "/+#") || ident[0] == ' ' || ident[strlen(ident) - 1] == ' ')
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "concentrator '%s': must not contain / + # or end in spaces", ident);
	return ASKUE_OK;
}

static enum askue_err add_tx(struct askue_ledger *l, const char *ident, const char *substation,
                             const char *created)
{
	static const char sql[] = "INSERT INTO concentrator(ident, substation, created) VALUES (?,?,?)";
	const char *owner;
	enum askue_err err = askue_cred_username_owner(l, ident, NULL, &owner);
	if (err)
		return err;
	if (owner && !strcmp(owner, "concentrator"))
		return askue_err_set(ASKUE_ERR_EXISTS, "concentrator %s: already registered", ident);
	if (owner)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "concentrator %s: the MQTT username '%s' belongs to a %s already",
		                     ident, ident, owner);
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		return err;
	askue_bind_text(st, 1, ident);
	askue_bind_text(st, 2, substation ? substation : "");
	askue_bind_text(st, 3, created);
	if ((err = askue_ledger_step_done(l, st, "concentrator")))
		return err;
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "substation", substation ? substation : "")) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "concentrator: out of memory");
	}
	err = askue_journal_append(l, ASKUE_EV_CONCENTRATOR_ADDED, ident, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_concentrator_add(struct askue_ledger *l, const char *ident,
                                      const char *substation, const char *created)
{
	enum askue_err err;
	if ((err = askue_concentrator_ident_check(ident)) ||
	    (err = askue_text_check("substation", substation ? substation : "",
	                            ASKUE_SHORT_TEXT_BYTES_MAX, 0)))
		return err;
	if ((err = askue_ledger_begin(l)))
		return err;
	if ((err = add_tx(l, ident, substation, created)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_concentrator_get(struct askue_ledger *l, const char *ident,
                                      struct askue_concentrator *out)
{
	static const char sql[] =
		"SELECT c.id, c.ident, c.substation, c.created, c.secret_hash IS NOT NULL,"
		" coalesce(c.secret_issued, 0),"
		" (SELECT count(*) FROM meter m WHERE m.concentrator_id = c.id"
		"  AND m.status <> 'dismantled')"
		" FROM concentrator c WHERE c.ident = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, ident ? ident : "");
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return askue_ledger_fail(l, rc, "concentrator");
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "concentrator %s: no such concentrator",
		                     ident ? ident : "");
	}
	struct askue_concentrator c;
	memset(&c, 0, sizeof c);
	c.id = sqlite3_column_int64(st, 0);
	snprintf(c.ident, sizeof c.ident, "%s", askue_column_text(st, 1));
	snprintf(c.substation, sizeof c.substation, "%s", askue_column_text(st, 2));
	snprintf(c.created, sizeof c.created, "%s", askue_column_text(st, 3));
	c.has_secret = sqlite3_column_int(st, 4);
	c.secret_issued = sqlite3_column_int64(st, 5);
	c.meters = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	*out = c;
	return ASKUE_OK;
}

/* Bind one meter to conc (NULL: unbind). */
static enum askue_err bind_one(struct askue_ledger *l, const struct askue_concentrator *conc,
                               const char *serial)
{
	static const char find[] =
		"SELECT m.id, m.status, c.ident FROM meter m"
		" LEFT JOIN concentrator c ON c.id = m.concentrator_id WHERE m.serial = ?";
	static const char set[] = "UPDATE meter SET concentrator_id = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, find, serial, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return askue_err_set(err, "meter %s: no such meter", serial);
	if (err)
		return err;
	int64_t id = sqlite3_column_int64(st, 0);
	int dismantled = !strcmp(askue_column_text(st, 1), "dismantled");
	char prev[ASKUE_SERIAL_BYTES_MAX + 1];
	snprintf(prev, sizeof prev, "%s", askue_column_text(st, 2));
	sqlite3_reset(st);
	if (dismantled && conc)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: dismantled, cannot be bound", serial);
	if (conc ? !strcmp(prev, conc->ident) : !prev[0])
		return ASKUE_OK; /* already so: nothing to change or journal */
	if ((err = askue_ledger_stmt(l, set, &st)))
		return err;
	if (conc)
		sqlite3_bind_int64(st, 1, conc->id);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, id);
	if ((err = askue_ledger_step_done(l, st, "meter")))
		return err;
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "meter", serial) ||
	    !cJSON_AddStringToObject(d, "previous", prev)) {
		cJSON_Delete(d);
		return askue_err_set(ASKUE_ERR_NOMEM, "concentrator: out of memory");
	}
	err = askue_journal_append(l, conc ? ASKUE_EV_CONCENTRATOR_BOUND : ASKUE_EV_CONCENTRATOR_UNBOUND,
	                           conc ? conc->ident : prev, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_concentrator_bind(struct askue_ledger *l, const char *ident,
                                       char *const *serials, int n)
{
	struct askue_concentrator conc = {0};
	enum askue_err err;
	if (n < 1)
		return askue_err_set(ASKUE_ERR_INVALID, "no meter named");
	if ((err = askue_ledger_begin(l)))
		return err;
	if (ident)
		err = askue_concentrator_get(l, ident, &conc);
	for (int i = 0; i < n && !err; i++)
		err = bind_one(l, ident ? &conc : NULL, serials[i]);
	if (!err)
		err = askue_ledger_commit(l);
	if (err)
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_concentrator_meters(struct askue_ledger *l, const char *ident,
                                         int (*fn)(const char *serial, const char *status,
                                                   void *arg),
                                         void *arg)
{
	static const char sql[] =
		"SELECT m.serial, m.status FROM meter m JOIN concentrator c ON c.id = m.concentrator_id"
		" WHERE c.ident = ? ORDER BY m.serial";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, ident);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(askue_column_text(st, 0), askue_column_text(st, 1), arg))
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "concentrator");
	sqlite3_reset(st);
	return err;
}
