/* outbox — the ledger side of the relay (relay.h): the reader's cursor in
 * outbox_cursor, the next events of the journal, and the MQTT message of an
 * event.
 *
 * Reads are one SELECT in autocommit mode, so the read transaction lasts as
 * long as that statement: the rows are copied out (as messages) and the
 * statement reset before anything is published. The cursor is written in
 * a BEGIN IMMEDIATE .. COMMIT of one statement, waiting at most the
 * ledger's busy timeout for a writer (console, job, command line) to finish.
 *
 * Why a cursor by id is enough: SQLite has one writer at a time and the
 * journal is append-only (no UPDATE, no DELETE), so once an id is visible
 * no event with a smaller id can commit later. Every event after the
 * cursor is therefore one the broker has not yet acknowledged.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "limits.h"
#include "log.h"
#include "payload.h"
#include "relay.h"

#define TOPIC_PREFIX "askue/events/"

enum askue_err outbox_reader_check(const char *reader)
{
	size_t n = strlen(reader);
	if (n == 0 || n > 63 || strspn(reader, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                       "0123456789._-") != n)
		return askue_err_set(ASKUE_ERR_CONFIG, "[relay] reader '%s': expected 1..63 of "
		                     "A-Z a-z 0-9 . _ -", reader);
	return ASKUE_OK;
}

/* askue/events/{type}: a topic level holds no '/', '+', '#' or control
 * characters; askue's types are [a-z_], anything else is made safe. */
static void make_topic(const char *type, char *out, size_t size)
{
	size_t p = (size_t)snprintf(out, size, "%s", TOPIC_PREFIX);
	size_t room = size - p - 1;
	size_t i;
	for (i = 0; i < room && i < 63 && type[i]; i++) {
		unsigned char c = (unsigned char)type[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '-' || c == '.';
		out[p + i] = ok ? (char)c : '_';
	}
	if (i == 0)
		out[p + i++] = '_';
	out[p + i] = '\0';
}

/* The message says it is UTF-8 (MQTT 5 payload format indicator), and a
 * broker may check: a byte that is not part of well-formed UTF-8 (a text
 * written into the ledger by something else) becomes '?'. JSON's own
 * characters are ASCII, so only the inside of strings can change.
 * Returns the number of bytes replaced. */
static size_t utf8_mend(char *s, size_t n)
{
	size_t bad = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (len && i + len <= n && (len == 1 || askue_utf8_valid(s + i, len))) {
			i += len;
			continue;
		}
		s[i++] = '?';
		bad++;
	}
	return bad;
}

enum askue_err outbox_message(const struct relay_event *ev, struct relay_msg *msg)
{
	char stamp[32];
	time_t t = (time_t)ev->time;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(stamp, sizeof stamp, "invalid");
	const char *details = ev->details && *ev->details ? ev->details : "{}";
	size_t details_len = strlen(details);
	int omitted = details_len > ASKUE_EVENT_DETAILS_BYTES_MAX;
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddNumberToObject(o, "id", (double)ev->id) &&
	         cJSON_AddStringToObject(o, "type", ev->type) &&
	         cJSON_AddStringToObject(o, "time", stamp) &&
	         cJSON_AddNumberToObject(o, "ts", (double)ev->time) &&
	         cJSON_AddStringToObject(o, "subject", ev->subject) &&
	         cJSON_AddStringToObject(o, "operator", ev->operator_name) &&
	         /* verbatim: the ledger's CHECK (json_valid) vouches for it */
	         cJSON_AddRawToObject(o, "details", omitted ? "{}" : details) &&
	         (!omitted || cJSON_AddTrueToObject(o, "details_omitted"));
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return askue_err_set(ASKUE_ERR_NOMEM, "relay: event %lld: out of memory",
		                     (long long)ev->id);
	if (omitted)
		log_warnx("outbox", "event %lld (%s): details of %zu bytes left out of the message "
		          "(over %d); `askue events` shows them", (long long)ev->id, ev->type,
		          details_len, ASKUE_EVENT_DETAILS_BYTES_MAX);
	msg->id = ev->id;
	make_topic(ev->type, msg->topic, sizeof msg->topic);
	msg->payload = text;
	msg->len = strlen(text);
	size_t mended = utf8_mend(text, msg->len);
	if (mended)
		log_warnx("outbox", "event %lld (%s): %zu bytes of malformed UTF-8 published as '?'",
		          (long long)ev->id, ev->type, mended);
	return ASKUE_OK;
}

enum askue_err outbox_message_shrink(struct relay_msg *msg)
{
	cJSON *o = cJSON_ParseWithLength(msg->payload, msg->len);
	char *text = NULL;
	if (o && cJSON_ReplaceItemInObject(o, "details", cJSON_CreateObject()) &&
	    (cJSON_GetObjectItem(o, "details_omitted") || cJSON_AddTrueToObject(o, "details_omitted")))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return askue_err_set(ASKUE_ERR_NOMEM, "relay: event %lld: cannot shrink the message",
		                     (long long)msg->id);
	log_warnx("outbox", "event %lld: %zu bytes are more than the broker takes: published "
	          "without its details (`askue events` shows them)", (long long)msg->id, msg->len);
	free(msg->payload);
	msg->payload = text;
	msg->len = strlen(text);
	return ASKUE_OK;
}

enum askue_err outbox_cursor_load(struct askue_ledger *l, const char *reader, int64_t *out)
{
	static const char sql[] = "SELECT event_id FROM outbox_cursor WHERE reader = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, reader, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "relay: read the cursor");
	sqlite3_reset(st);
	if (!err)
		*out = id;
	return err;
}

enum askue_err outbox_cursor_save(struct askue_ledger *l, const char *reader, int64_t id)
{
	static const char sql[] =
		"INSERT INTO outbox_cursor(reader, event_id) VALUES (?1, ?2)"
		" ON CONFLICT(reader) DO UPDATE SET event_id = excluded.event_id"
		" WHERE excluded.event_id > outbox_cursor.event_id";
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, sql, &st))) {
		sqlite3_bind_text(st, 1, reader, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
		err = askue_ledger_step_done(l, st, "relay: write the cursor");
	}
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

enum askue_err outbox_last_id(struct askue_ledger *l, int64_t *out)
{
	static const char sql[] = "SELECT coalesce(max(id), 0) FROM event";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc != SQLITE_ROW)
		err = askue_ledger_fail(l, rc, "relay: read the journal");
	sqlite3_reset(st);
	if (!err)
		*out = id;
	return err;
}

enum askue_err outbox_batch_init(struct outbox_batch *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->msgs = calloc(cap, sizeof *b->msgs);
	if (!b->msgs)
		return askue_err_set(ASKUE_ERR_NOMEM, "relay: batch of %zu: out of memory", cap);
	b->cap = cap;
	return ASKUE_OK;
}

void outbox_batch_clear(struct outbox_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->msgs[i].payload);
	b->n = b->next = b->bytes = 0;
}

void outbox_batch_free(struct outbox_batch *b)
{
	if (!b->msgs)
		return;
	outbox_batch_clear(b);
	free(b->msgs);
	b->msgs = NULL;
}

enum askue_err outbox_read(struct askue_ledger *l, int64_t after, int64_t upto,
                           struct outbox_batch *b)
{
	/* The console's sign-in and user events (console_*) are the staff's
	 * audit trail, not business events: they stay in the journal and are
	 * not published (docs/events.md). */
	static const char sql[] = "SELECT id, type, time, subject, operator, details FROM event"
	                          " WHERE id > ?1 AND id <= ?2 AND type NOT LIKE 'console\\_%' ESCAPE '\\'"
	                          " ORDER BY id LIMIT ?3";
	outbox_batch_clear(b);
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)b->cap);
	int rc = SQLITE_DONE;
	while (b->bytes < ASKUE_RELAY_PENDING_BYTES_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct relay_event ev = {
			.id = sqlite3_column_int64(st, 0),
			.type = askue_column_text(st, 1),
			.time = sqlite3_column_int64(st, 2),
			.subject = askue_column_text(st, 3),
			.operator_name = askue_column_text(st, 4),
			.details = askue_column_text(st, 5),
		};
		if ((err = outbox_message(&ev, &b->msgs[b->n])))
			break;
		b->bytes += b->msgs[b->n].len;
		b->n++;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "relay: read the journal");
	sqlite3_reset(st); /* ends the read transaction */
	if (err)
		outbox_batch_clear(b);
	return err;
}
