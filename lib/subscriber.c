/* subscriber — registering, reading and finding subscribers (registry.h).
 *
 * Owns the subscriber table, the account counter and the folded search index
 * subscriber_fts (trigram FTS5 over lower-cased name and address, rowid =
 * subscriber.id), which it keeps in the same transaction as the row.
 */
#include "registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "text.h"

#define SUBSCRIBER_COLUMNS \
	"s.id, s.account, s.name, s.address, s.district, s.substation, s.category," \
	" s.registered, s.phone, s.email, s.status, s.residents, s.rooms, s.stove, s.settlement"

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void read_row(sqlite3_stmt *st, struct askue_subscriber *s)
{
	memset(s, 0, sizeof *s);
	s->id = sqlite3_column_int64(st, 0);
	copy_text(s->account, sizeof s->account, askue_column_text(st, 1));
	copy_text(s->name, sizeof s->name, askue_column_text(st, 2));
	copy_text(s->address, sizeof s->address, askue_column_text(st, 3));
	copy_text(s->district, sizeof s->district, askue_column_text(st, 4));
	copy_text(s->substation, sizeof s->substation, askue_column_text(st, 5));
	copy_text(s->category, sizeof s->category, askue_column_text(st, 6));
	if (askue_date_parse(askue_column_text(st, 7), &s->registered))
		s->registered.days = 0; /* the schema keeps it valid */
	copy_text(s->phone, sizeof s->phone, askue_column_text(st, 8));
	copy_text(s->email, sizeof s->email, askue_column_text(st, 9));
	copy_text(s->status, sizeof s->status, askue_column_text(st, 10));
	s->residents = sqlite3_column_int(st, 11);
	s->rooms = sqlite3_column_int(st, 12);
	copy_text(s->stove, sizeof s->stove, askue_column_text(st, 13));
	copy_text(s->settlement, sizeof s->settlement, askue_column_text(st, 14));
}

/* The norm determinants (norms.h): rooms 0 = residents and rooms not given. */
static enum askue_err check_norm_fields(struct askue_subscriber *s)
{
	if (s->rooms == 0) {
		s->residents = 1;
		s->rooms = 1;
	}
	if (!s->stove[0])
		snprintf(s->stove, sizeof s->stove, "gas");
	if (!s->settlement[0])
		snprintf(s->settlement, sizeof s->settlement, "urban");
	if (s->residents < 0 || s->residents > 99)
		return askue_err_set(ASKUE_ERR_INVALID, "residents %d: expected 0..99", s->residents);
	if (s->rooms < 1 || s->rooms > 99)
		return askue_err_set(ASKUE_ERR_INVALID, "rooms %d: expected 1..99", s->rooms);
	if (strcmp(s->stove, "gas") && strcmp(s->stove, "electric"))
		return askue_err_set(ASKUE_ERR_INVALID, "stove '%s': expected gas or electric", s->stove);
	if (strcmp(s->settlement, "urban") && strcmp(s->settlement, "rural"))
		return askue_err_set(ASKUE_ERR_INVALID, "settlement '%s': expected urban or rural",
		                     s->settlement);
	return ASKUE_OK;
}

static enum askue_err check_fields(struct askue_subscriber *s)
{
	enum askue_err err;
	if ((err = askue_text_check("name", s->name, ASKUE_NAME_BYTES_MAX, 1)) ||
	    (err = askue_text_check("address", s->address, ASKUE_ADDRESS_BYTES_MAX, 1)) ||
	    (err = askue_text_check("district", s->district, ASKUE_SHORT_TEXT_BYTES_MAX, 0)) ||
	    (err = askue_text_check("substation", s->substation, ASKUE_SHORT_TEXT_BYTES_MAX, 0)) ||
	    (err = askue_text_check("phone", s->phone, ASKUE_SHORT_TEXT_BYTES_MAX, 0)) ||
	    (err = askue_text_check("email", s->email, ASKUE_SHORT_TEXT_BYTES_MAX, 0)))
		return err;
	if (!s->category[0])
		snprintf(s->category, sizeof s->category, "household");
	if (strcmp(s->category, "household") && strcmp(s->category, "other"))
		return askue_err_set(ASKUE_ERR_INVALID, "category '%s': expected household or other",
		                     s->category);
	if (s->phone[0]) {
		for (const char *p = s->phone; *p; p++)
			if (!strchr("0123456789+-() ", *p))
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "phone '%s': only digits, spaces and + - ( )", s->phone);
	}
	if (s->email[0]) {
		const char *at = strchr(s->email, '@');
		if (!at || at == s->email || !strchr(at, '.') || strchr(s->email, ' '))
			return askue_err_set(ASKUE_ERR_INVALID, "email '%s': not an e-mail address",
			                     s->email);
	}
	if (s->account[0] && !askue_account_well_formed(s->account))
		return askue_err_set(ASKUE_ERR_INVALID, "account '%s': 1 to 20 digits expected",
		                     s->account);
	return check_norm_fields(s);
}

static enum askue_err next_account(struct askue_ledger *l, char *out)
{
	static const char bump[] =
		"UPDATE counter SET value = value + 1 WHERE name = 'account' RETURNING value";
	static const char taken[] = "SELECT 1 FROM subscriber WHERE account = ?";
	/* An old card file's numbers may collide with generated ones: skip. */
	for (;;) {
		sqlite3_stmt *st;
		enum askue_err err = askue_ledger_stmt(l, bump, &st);
		if (err)
			return err;
		if (sqlite3_step(st) != SQLITE_ROW)
			return askue_ledger_fail(l, sqlite3_errcode(askue_ledger_db(l)), "account counter");
		int64_t seq = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if ((err = askue_account_make(seq, out)))
			return err;
		if ((err = askue_ledger_stmt(l, taken, &st)))
			return err;
		sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return ASKUE_OK;
		if (rc != SQLITE_ROW)
			return askue_ledger_fail(l, rc, "account counter");
	}
}

static enum askue_err index_subscriber(struct askue_ledger *l, const struct askue_subscriber *s)
{
	static const char sql[] = "INSERT INTO subscriber_fts(rowid, name, address) VALUES (?,?,?)";
	char name[sizeof s->name], addr[sizeof s->address + sizeof s->district + 4];
	char full[sizeof addr];
	askue_text_fold(s->name, name, sizeof name);
	snprintf(full, sizeof full, "%s %s", s->address, s->district);
	askue_text_fold(full, addr, sizeof addr);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, addr, -1, SQLITE_STATIC);
	return askue_ledger_step_done(l, st, "search index");
}

enum askue_err askue_subscriber_index_from(struct askue_ledger *l, int64_t after_id)
{
	static const char sql[] =
		"INSERT INTO subscriber_fts(rowid, name, address)"
		" SELECT id, askue_fold(name), askue_fold(address || ' ' || district)"
		" FROM subscriber WHERE id > ? ORDER BY id";
	/* FTS5 flushes its pending terms to a new segment every 1 MiB by
	 * default: 64 MiB makes a bulk load write (and merge) far fewer
	 * segments — a quarter less time at 500,000 subscribers. */
	static const char hashsize[] =
		"INSERT INTO subscriber_fts(subscriber_fts, rank) VALUES ('hashsize', 67108864)";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, hashsize, &st);
	if (!err)
		err = askue_ledger_step_done(l, st, "search index");
	if (!err)
		err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, after_id);
	return askue_ledger_step_done(l, st, "search index");
}

enum askue_err askue_subscriber_add_tx(struct askue_ledger *l, struct askue_subscriber *s)
{
	return askue_subscriber_insert_tx(l, s, 1);
}

enum askue_err askue_subscriber_insert_tx(struct askue_ledger *l, struct askue_subscriber *s,
                                          int index_now)
{
	static const char sql[] =
		"INSERT INTO subscriber(account, name, address, district, substation, category,"
		" registered, phone, email, residents, rooms, stove, settlement)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
	enum askue_err err = check_fields(s);
	if (err)
		return err;
	if (!s->account[0] && (err = next_account(l, s->account)))
		return err;
	char date[ASKUE_DATE_BUF];
	askue_date_format(s->registered, date);
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		return err;
	sqlite3_bind_text(st, 1, s->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->district, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, s->substation, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, s->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, date, -1, SQLITE_STATIC);
	askue_bind_text(st, 8, s->phone[0] ? s->phone : NULL);
	askue_bind_text(st, 9, s->email[0] ? s->email : NULL);
	sqlite3_bind_int(st, 10, s->residents);
	sqlite3_bind_int(st, 11, s->rooms);
	sqlite3_bind_text(st, 12, s->stove, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, s->settlement, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return askue_err_set(ASKUE_ERR_EXISTS, "account %s: already registered",
			                     s->account);
		return askue_ledger_fail(l, rc, "subscriber");
	}
	s->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	snprintf(s->status, sizeof s->status, "active");
	if (index_now && (err = index_subscriber(l, s)))
		return err;

	cJSON *d = cJSON_CreateObject();
	if (!d)
		return askue_err_set(ASKUE_ERR_NOMEM, "subscriber: out of memory");
	cJSON_AddStringToObject(d, "name", s->name);
	cJSON_AddStringToObject(d, "address", s->address);
	cJSON_AddStringToObject(d, "district", s->district);
	cJSON_AddStringToObject(d, "substation", s->substation);
	cJSON_AddStringToObject(d, "category", s->category);
	cJSON_AddNumberToObject(d, "residents", s->residents);
	cJSON_AddNumberToObject(d, "rooms", s->rooms);
	cJSON_AddStringToObject(d, "stove", s->stove);
	cJSON_AddStringToObject(d, "settlement", s->settlement);
	cJSON_AddStringToObject(d, "date", date);
	err = askue_journal_append(l, ASKUE_EV_SUBSCRIBER_REGISTERED, s->account, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_subscriber_add(struct askue_ledger *l, struct askue_subscriber *s)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if ((err = askue_subscriber_add_tx(l, s)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_subscriber_get(struct askue_ledger *l, const char *account,
                                    struct askue_subscriber *out)
{
	static const char sql[] = "SELECT " SUBSCRIBER_COLUMNS " FROM subscriber s WHERE account = ?";
	if (!account || !askue_account_well_formed(account))
		return askue_err_set(ASKUE_ERR_INVALID, "account '%s': an account number is digits only",
		                     account ? account : "");
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, out);
		sqlite3_reset(st);
		return ASKUE_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "subscriber");
	if (strlen(account) == ASKUE_ACCOUNT_DIGITS && !askue_account_checks(account))
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "account %s: check digit does not match - mistyped?", account);
	return askue_err_set(ASKUE_ERR_NOT_FOUND, "account %s: no such subscriber", account);
}

/* Split folded text into tokens; every trigram of a token of 3+ characters
 * goes into the FTS5 query (AND), and every token is also checked with
 * instr() on the folded columns — which both makes the match exact (the
 * index has no positions) and covers short tokens, which have no trigram. */

/* Append the trigrams of word to query as quoted terms joined by AND. */
static int add_trigrams(char *query, size_t size, const char *word, int *n_terms)
{
	size_t q = strlen(query);
	const char *p = word;
	for (;;) {
		const char *end = p;
		for (int c = 0; c < 3 && *end; c++)
			do
				end++;
			while ((*end & 0xc0) == 0x80);
		if (askue_text_chars(p) < 3)
			return 0;
		size_t need = (size_t)(end - p) * 2 + 8;
		if (q + need >= size)
			return -1;
		if ((*n_terms)++)
			q += (size_t)snprintf(query + q, size - q, " AND ");
		query[q++] = '"';
		for (const char *c = p; c < end; c++) {
			if (*c == '"')
				query[q++] = '"';
			query[q++] = *c;
		}
		query[q++] = '"';
		query[q] = '\0';
		do
			p++;
		while ((*p & 0xc0) == 0x80);
	}
}

#define FIND_TOKENS_MAX 8

static enum askue_err find_by_text(struct askue_ledger *l, const char *folded, int limit,
                                   int (*fn)(const struct askue_subscriber *, void *), void *arg)
{
	char buf[512], query[4096] = "";
	const char *tokens[FIND_TOKENS_MAX];
	int n = 0, n_long = 0;
	snprintf(buf, sizeof buf, "%s", folded);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == FIND_TOKENS_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "find: at most %d words", FIND_TOKENS_MAX);
		tokens[n++] = t;
		if (askue_text_chars(t) >= 3 && add_trigrams(query, sizeof query, t, &n_long))
			return askue_err_set(ASKUE_ERR_LIMIT, "find: search text too long");
	}
	if (n == 0)
		return ASKUE_OK;
	/* One statement text per shape: with or without the index, and the
	 * instr() filters bound as up to FIND_TOKENS_MAX parameters (NULL = no
	 * filter). */
#define FIND_SQL(first_condition) \
	"SELECT " SUBSCRIBER_COLUMNS " FROM subscriber_fts f JOIN subscriber s ON s.id = f.rowid" \
	" WHERE " first_condition \
	" AND (?2 IS NULL OR instr(f.name || ' ' || f.address, ?2))" \
	" AND (?3 IS NULL OR instr(f.name || ' ' || f.address, ?3))" \
	" AND (?4 IS NULL OR instr(f.name || ' ' || f.address, ?4))" \
	" AND (?5 IS NULL OR instr(f.name || ' ' || f.address, ?5))" \
	" AND (?6 IS NULL OR instr(f.name || ' ' || f.address, ?6))" \
	" AND (?7 IS NULL OR instr(f.name || ' ' || f.address, ?7))" \
	" AND (?8 IS NULL OR instr(f.name || ' ' || f.address, ?8))" \
	" AND (?9 IS NULL OR instr(f.name || ' ' || f.address, ?9))" \
	" ORDER BY f.rowid LIMIT ?10"
	static const char with_index[] = FIND_SQL("subscriber_fts MATCH ?1");
	static const char scan[] = FIND_SQL("?1 IS NULL");
#undef FIND_SQL
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, n_long ? with_index : scan, &st);
	if (err)
		return err;
	if (n_long)
		sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, 2 + i, tokens[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_subscriber s;
		read_row(st, &s);
		if (fn(&s, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "find");
	sqlite3_reset(st);
	return err;
}

enum askue_err askue_subscriber_find(struct askue_ledger *l, const char *text, int limit,
                                     int (*fn)(const struct askue_subscriber *, void *), void *arg)
{
	enum askue_err err = askue_text_check("search text", text, 400, 1);
	if (err)
		return err;
	if (limit <= 0 || limit > ASKUE_FIND_ROWS_MAX)
		return askue_err_set(ASKUE_ERR_RANGE, "limit %d: expected 1..%d", limit,
		                     ASKUE_FIND_ROWS_MAX);
	char folded[512];
	askue_text_fold(text, folded, sizeof folded);
	if (askue_account_well_formed(folded)) {
		struct askue_subscriber s;
		err = askue_subscriber_get(l, folded, &s);
		if (!err) {
			fn(&s, arg);
			return ASKUE_OK;
		}
		if (err != ASKUE_ERR_NOT_FOUND && err != ASKUE_ERR_INVALID)
			return err;
		/* Not an account: digits may be part of an address. */
	}
	return find_by_text(l, folded, limit, fn, arg);
}

/* Change a subscriber's card: every field but the account number and the
 * registration date. The journal keeps the old and the new values. */
static void diff_field(cJSON *d, const char *key, const char *old, const char *new_value)
{
	if (!strcmp(old, new_value))
		return;
	cJSON *o = cJSON_AddObjectToObject(d, key);
	cJSON_AddStringToObject(o, "old", old);
	cJSON_AddStringToObject(o, "new", new_value);
}

enum askue_err askue_subscriber_update(struct askue_ledger *l, const struct askue_subscriber *s)
{
	static const char upd[] =
		"UPDATE subscriber SET name = ?, address = ?, district = ?, substation = ?,"
		" category = ?, phone = ?, email = ?, status = ?, residents = ?, rooms = ?, stove = ?,"
		" settlement = ? WHERE id = ?";
	static const char unindex[] = "DELETE FROM subscriber_fts WHERE rowid = ?";
	struct askue_subscriber cur, next = *s;
	enum askue_err err = askue_subscriber_get(l, s->account, &cur);
	if (err)
		return err;
	char keep_account[sizeof next.account];
	memcpy(keep_account, next.account, sizeof keep_account);
	next.account[0] = '\0'; /* check_fields would take it for an old card file's */
	if ((err = check_fields(&next)))
		return err;
	memcpy(next.account, keep_account, sizeof keep_account);
	if (strcmp(next.status, "active") && strcmp(next.status, "suspended") &&
	    strcmp(next.status, "closed"))
		return askue_err_set(ASKUE_ERR_INVALID, "status '%s': expected active, suspended or closed",
		                     next.status);
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return askue_err_set(ASKUE_ERR_NOMEM, "subscriber: out of memory");
	diff_field(d, "name", cur.name, next.name);
	diff_field(d, "address", cur.address, next.address);
	diff_field(d, "district", cur.district, next.district);
	diff_field(d, "substation", cur.substation, next.substation);
	diff_field(d, "category", cur.category, next.category);
	diff_field(d, "phone", cur.phone, next.phone);
	diff_field(d, "email", cur.email, next.email);
	diff_field(d, "status", cur.status, next.status);
	char old_n[16], new_n[16];
	snprintf(old_n, sizeof old_n, "%d", cur.residents);
	snprintf(new_n, sizeof new_n, "%d", next.residents);
	diff_field(d, "residents", old_n, new_n);
	snprintf(old_n, sizeof old_n, "%d", cur.rooms);
	snprintf(new_n, sizeof new_n, "%d", next.rooms);
	diff_field(d, "rooms", old_n, new_n);
	diff_field(d, "stove", cur.stove, next.stove);
	diff_field(d, "settlement", cur.settlement, next.settlement);
	if (!d->child) {
		cJSON_Delete(d);
		return ASKUE_OK; /* nothing changes, nothing is journaled */
	}
	if ((err = askue_ledger_begin(l))) {
		cJSON_Delete(d);
		return err;
	}
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, upd, &st))) {
		sqlite3_bind_text(st, 1, next.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, next.address, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, next.district, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, next.substation, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, next.category, -1, SQLITE_STATIC);
		askue_bind_text(st, 6, next.phone[0] ? next.phone : NULL);
		askue_bind_text(st, 7, next.email[0] ? next.email : NULL);
		sqlite3_bind_text(st, 8, next.status, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 9, next.residents);
		sqlite3_bind_int(st, 10, next.rooms);
		sqlite3_bind_text(st, 11, next.stove, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, next.settlement, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 13, cur.id);
		err = askue_ledger_step_done(l, st, "subscriber");
	}
	if (!err && !(err = askue_ledger_stmt(l, unindex, &st))) {
		sqlite3_bind_int64(st, 1, cur.id);
		err = askue_ledger_step_done(l, st, "search index");
	}
	next.id = cur.id;
	if (!err)
		err = index_subscriber(l, &next);
	if (!err)
		err = askue_journal_append(l, ASKUE_EV_SUBSCRIBER_CHANGED, cur.account, d);
	cJSON_Delete(d);
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}
