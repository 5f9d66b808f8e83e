/* authtable — the broker plugin's in-memory copy of the ledger's MQTT
 * identities: meters, concentrators and service accounts, keyed by MQTT
 * username in an open-addressing hash table (SipHash with a random key per
 * table, so usernames chosen by a client cannot be aimed at one slot chain).
 *
 * A table is built from the ledger in one read transaction (auth_table_load)
 * and never changes afterwards: the reload thread builds a new one and the
 * broker thread swaps it in (reloader.h). Lookups need no lock.
 *
 * What goes in: every meter that is not dismantled and has a secret or a
 * concentrator; every concentrator; every service account. A username found
 * twice (a meter serial equal to a service name, say) is marked as a
 * conflict, and the plugin refuses it: fail closed.
 */
#ifndef ASKUE_AUTHTABLE_H
#define ASKUE_AUTHTABLE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "credentials.h"

enum auth_kind { AUTH_METER, AUTH_CONCENTRATOR, AUTH_SERVICE };

struct auth_entry {
	uint32_t name_off; /* in the table's arena, NUL-terminated */
	uint32_t name_len;
	uint8_t kind;       /* enum auth_kind */
	uint8_t role;       /* enum askue_role, for AUTH_SERVICE */
	uint8_t has_secret; /* 0: cannot log in (a bound meter without its own) */
	uint8_t conflict;   /* the username is used by two entities */
	int64_t concentrator_id; /* meter: its concentrator (0 none); concentrator: its id */
	struct askue_credential cred;
};

struct auth_table;

struct auth_counts {
	int64_t meters, concentrators, services, conflicts, bad_rows;
};

/* Build a table from db in one read transaction. Tables the ledger does
 * not have yet (an older schema) count as empty and are named in warn
 * (size warn_size, "" when none). Returns 0 or an SQLite error code, with
 * its message in warn. */
int auth_table_load(sqlite3 *db, struct auth_table **out, char *warn, size_t warn_size);
/* An empty table (nobody can log in). NULL when out of memory. */
struct auth_table *auth_table_new_empty(void);
/* Tables are shared by the broker thread and the reload thread: a new
 * table has one reference; retain adds one, free drops one and frees the
 * table with the last. Both are thread-safe; NULL is a no-op. */
struct auth_table *auth_table_retain(struct auth_table *t);
void auth_table_free(struct auth_table *t);

/* Usernames whose access `now` took away or changed since `before`: gone
 * (dismantled, deleted), conflicting, or with another secret, kind or role.
 * Their connected clients must be disconnected: rights are looked up by
 * username, so a session opened with a revoked password would go on.
 * names: "a\0b\0" (malloc'd, the caller frees; NULL when none), at most
 * AUTH_REVOKED_MAX of them; count and whether the list was cut are
 * returned. -1 when out of memory. */
#define AUTH_REVOKED_MAX 100000
struct auth_revoked {
	char *names;
	size_t bytes, cap;
	size_t count;
	int cut;
};
int auth_table_revoked(const struct auth_table *before, const struct auth_table *now,
                       struct auth_revoked *out);
/* Append b's names to a (both owned by the caller; b is emptied). */
int auth_revoked_merge(struct auth_revoked *a, struct auth_revoked *b);
void auth_revoked_clear(struct auth_revoked *r);

const struct auth_entry *auth_table_find(const struct auth_table *t, const char *name,
                                         size_t len);
const char *auth_table_name(const struct auth_table *t, const struct auth_entry *e);
struct auth_counts auth_table_counts(const struct auth_table *t);

#endif
