/* authtable — see authtable.h. */
#include "authtable.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

/* Usernames longer than this are not in the ledger (serials, idents and
 * service names are all at most 64 bytes). */
#define NAME_BYTES_MAX ASKUE_SERIAL_BYTES_MAX
/* Entries of one table: far above the fleet (several hundred thousand
 * meters) and below the uint32_t offsets of the arena. */
#define ENTRIES_MAX (16u * 1000u * 1000u)

struct auth_table {
	atomic_int refs;
	struct auth_entry *entries;
	size_t n, cap;
	char *arena;
	size_t arena_used, arena_cap;
	uint32_t *slots; /* entry index + 1; 0 = empty */
	size_t slots_n;  /* a power of two, at least 2 n */
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct auth_counts counts;
};

static uint64_t hash_name(const struct auth_table *t, const char *name, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;
	crypto_shorthash(out, (const unsigned char *)name, len, t->key);
	memcpy(&h, out, sizeof h);
	return h;
}

struct auth_table *auth_table_new_empty(void)
{
	struct auth_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	randombytes_buf(t->key, sizeof t->key);
	return t;
}

struct auth_table *auth_table_retain(struct auth_table *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

void auth_table_free(struct auth_table *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->entries);
	free(t->arena);
	free(t->slots);
	sodium_memzero(t, sizeof *t);
	free(t);
}

const char *auth_table_name(const struct auth_table *t, const struct auth_entry *e)
{
	return t->arena + e->name_off;
}

struct auth_counts auth_table_counts(const struct auth_table *t)
{
	return t->counts;
}

const struct auth_entry *auth_table_find(const struct auth_table *t, const char *name, size_t len)
{
	if (!t || !t->slots_n || !name || len == 0 || len > NAME_BYTES_MAX)
		return NULL;
	size_t mask = t->slots_n - 1;
	for (size_t i = (size_t)hash_name(t, name, len) & mask, probes = 0; probes < t->slots_n;
	     i = (i + 1) & mask, probes++) {
		uint32_t s = t->slots[i];
		if (!s)
			return NULL;
		const struct auth_entry *e = &t->entries[s - 1];
		if (e->name_len == len && !memcmp(t->arena + e->name_off, name, len))
			return e;
	}
	return NULL;
}

/* Append one row; 0 ok, -1 out of memory or over a limit. */
static int add_entry(struct auth_table *t, const struct auth_entry *proto, const char *name,
                     size_t len)
{
	if (t->n >= ENTRIES_MAX)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct auth_entry *e = realloc(t->entries, cap * sizeof *e);
		if (!e)
			return -1;
		t->entries = e;
		t->cap = cap;
	}
	if (t->arena_used + len + 1 > t->arena_cap) {
		size_t cap = t->arena_cap ? t->arena_cap * 2 : 16384;
		while (cap < t->arena_used + len + 1)
			cap *= 2;
		char *a = realloc(t->arena, cap);
		if (!a)
			return -1;
		t->arena = a;
		t->arena_cap = cap;
	}
	struct auth_entry *e = &t->entries[t->n++];
	*e = *proto;
	e->name_off = (uint32_t)t->arena_used;
	e->name_len = (uint32_t)len;
	memcpy(t->arena + t->arena_used, name, len);
	t->arena[t->arena_used + len] = '\0';
	t->arena_used += len + 1;
	return 0;
}

/* Build the slots; a name found twice marks both entries as a conflict. */
static int index_entries(struct auth_table *t)
{
	size_t n = 16;
	while (n < 2 * t->n)
		n *= 2;
	t->slots = calloc(n, sizeof *t->slots);
	if (!t->slots)
		return -1;
	t->slots_n = n;
	for (size_t k = 0; k < t->n; k++) {
		struct auth_entry *e = &t->entries[k];
		const char *name = t->arena + e->name_off;
		size_t i = (size_t)hash_name(t, name, e->name_len) & (n - 1);
		for (;; i = (i + 1) & (n - 1)) {
			uint32_t s = t->slots[i];
			if (!s) {
				t->slots[i] = (uint32_t)(k + 1);
				break;
			}
			struct auth_entry *o = &t->entries[s - 1];
			if (o->name_len == e->name_len && !memcmp(t->arena + o->name_off, name, e->name_len)) {
				if (!o->conflict)
					t->counts.conflicts++;
				o->conflict = e->conflict = 1;
				break;
			}
		}
	}
	return 0;
}

enum { COL_NAME, COL_SALT, COL_HASH, COL_EXTRA };

/* One row of any of the three queries into t. */
static int add_row(struct auth_table *t, sqlite3_stmt *st, enum auth_kind kind)
{
	const char *name = (const char *)sqlite3_column_text(st, COL_NAME);
	int len = sqlite3_column_bytes(st, COL_NAME);
	struct auth_entry e;
	memset(&e, 0, sizeof e);
	e.kind = (uint8_t)kind;
	if (!name || len < 1 || len > NAME_BYTES_MAX) {
		t->counts.bad_rows++;
		return 0;
	}
	if (kind == AUTH_SERVICE) {
		enum askue_role role;
		const char *r = (const char *)sqlite3_column_text(st, COL_EXTRA);
		if (askue_role_parse(r, &role) != ASKUE_OK) {
			t->counts.bad_rows++;
			return 0;
		}
		e.role = (uint8_t)role;
	} else {
		e.concentrator_id = sqlite3_column_int64(st, COL_EXTRA);
	}
	int salt_n = sqlite3_column_bytes(st, COL_SALT), hash_n = sqlite3_column_bytes(st, COL_HASH);
	const void *salt = sqlite3_column_blob(st, COL_SALT), *hash = sqlite3_column_blob(st, COL_HASH);
	if (salt && hash && salt_n == ASKUE_CRED_SALT_BYTES && hash_n == ASKUE_CRED_HASH_BYTES) {
		memcpy(e.cred.salt, salt, sizeof e.cred.salt);
		memcpy(e.cred.hash, hash, sizeof e.cred.hash);
		e.has_secret = 1;
	} else if (salt || hash) {
		t->counts.bad_rows++; /* a damaged secret: nobody logs in with it */
	}
	if (add_entry(t, &e, name, (size_t)len))
		return SQLITE_NOMEM;
	if (kind == AUTH_METER)
		t->counts.meters++;
	else if (kind == AUTH_CONCENTRATOR)
		t->counts.concentrators++;
	else
		t->counts.services++;
	return 0;
}

static void append(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);
	if (used < size)
		snprintf(buf + used, size - used, "%s%s", used ? "; " : "", s);
}

static int load_kind(sqlite3 *db, struct auth_table *t, const char *sql, enum auth_kind kind,
                     char *warn, size_t warn_size)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		const char *msg = sqlite3_errmsg(db);
		if (strstr(msg, "no such table") || strstr(msg, "no such column")) {
			append(warn, warn_size, msg); /* an older schema: nothing of this kind yet */
			return 0;
		}
		append(warn, warn_size, msg);
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = add_row(t, st, kind)) != 0)
			break;
	if (rc == SQLITE_DONE)
		rc = 0;
	else
		append(warn, warn_size, rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int auth_table_load(sqlite3 *db, struct auth_table **out, char *warn, size_t warn_size)
{
	static const char meters[] =
		"SELECT serial, secret_salt, secret_hash, coalesce(concentrator_id, 0) FROM meter"
		" WHERE status <> 'dismantled' AND (secret_hash IS NOT NULL OR concentrator_id IS NOT NULL)";
	static const char concentrators[] =
		"SELECT ident, secret_salt, secret_hash, id FROM concentrator";
	static const char services[] = "SELECT name, secret_salt, secret_hash, role FROM service_account";
	if (warn_size)
		warn[0] = '\0';
	struct auth_table *t = auth_table_new_empty();
	if (!t) {
		append(warn, warn_size, "out of memory");
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		append(warn, warn_size, sqlite3_errmsg(db));
		auth_table_free(t);
		return rc;
	}
	rc = load_kind(db, t, meters, AUTH_METER, warn, warn_size);
	if (!rc)
		rc = load_kind(db, t, concentrators, AUTH_CONCENTRATOR, warn, warn_size);
	if (!rc)
		rc = load_kind(db, t, services, AUTH_SERVICE, warn, warn_size);
	/* End the read transaction whatever happened: a snapshot left open
	 * would keep the ledger's WAL from being checkpointed. */
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (!rc && index_entries(t)) {
		append(warn, warn_size, "out of memory");
		rc = SQLITE_NOMEM;
	}
	if (rc) {
		auth_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void auth_revoked_clear(struct auth_revoked *r)
{
	free(r->names);
	memset(r, 0, sizeof *r);
}

static int revoked_add(struct auth_revoked *r, const char *name, size_t len)
{
	if (r->count >= AUTH_REVOKED_MAX) {
		r->cut = 1;
		return 0;
	}
	if (r->bytes + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		while (cap < r->bytes + len + 1)
			cap *= 2;
		char *n = realloc(r->names, cap);
		if (!n)
			return -1;
		r->names = n;
		r->cap = cap;
	}
	memcpy(r->names + r->bytes, name, len);
	r->names[r->bytes + len] = '\0';
	r->bytes += len + 1;
	r->count++;
	return 0;
}

int auth_revoked_merge(struct auth_revoked *a, struct auth_revoked *b)
{
	for (size_t off = 0; off < b->bytes;) {
		size_t len = strlen(b->names + off);
		if (revoked_add(a, b->names + off, len))
			return -1;
		off += len + 1;
	}
	a->cut |= b->cut;
	auth_revoked_clear(b);
	return 0;
}

int auth_table_revoked(const struct auth_table *before, const struct auth_table *now,
                       struct auth_revoked *out)
{
	struct auth_revoked r = {0};
	for (size_t k = 0; before && k < before->n; k++) {
		const struct auth_entry *o = &before->entries[k];
		if (!o->has_secret || o->conflict)
			continue; /* nobody could be logged in with it */
		const char *name = before->arena + o->name_off;
		const struct auth_entry *e = auth_table_find(now, name, o->name_len);
		if (e && !e->conflict && e->has_secret && e->kind == o->kind && e->role == o->role &&
		    !memcmp(&e->cred, &o->cred, sizeof e->cred))
			continue;
		if (revoked_add(&r, name, o->name_len)) {
			auth_revoked_clear(&r);
			return -1;
		}
	}
	*out = r;
	return 0;
}
