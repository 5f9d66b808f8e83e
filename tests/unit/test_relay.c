/* Unit tests: the event relay's window and outbox (tools/relay/window.c,
 * outbox.c — compiled in here): acknowledgements in any order never move
 * the cursor past an unacknowledged event; the message of an event; the
 * cursor only moves forward; reads stop at the batch and at the target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/relay/outbox.c"
#include "../../tools/relay/window.c"

#include "journal.h"

#include "tmpdir.h"


static struct askue_ledger *open_fresh(void)
{
	static int n;
	char path[600];
	snprintf(path, sizeof path, "%s/ledger%d.db", dir, n++);
	struct askue_ledger *l;
	assert_int_equal(askue_ledger_open(path, 1000, "tester", &l), ASKUE_OK);
	return l;
}

static void window_acks_in_any_order(void **state)
{
	(void)state;
	struct window w;
	assert_int_equal(window_init(&w, 3, 10), ASKUE_OK);
	window_push(&w, 11, 1);
	window_push(&w, 14, 2); /* ids may skip (a rolled-back insert) */
	window_push(&w, 15, 3);
	assert_true(window_full(&w));
	assert_int_equal(window_ack(&w, 2), 1);
	assert_int_equal(w.acked_upto, 10); /* 11 is not acknowledged yet */
	assert_int_equal(window_ack(&w, 2), 0); /* twice: unknown now */
	assert_int_equal(window_ack(&w, 99), 0);
	assert_int_equal(window_ack(&w, 1), 1);
	assert_int_equal(w.acked_upto, 14);
	assert_false(window_full(&w));
	window_push(&w, 16, 4); /* wraps around the ring */
	window_push(&w, 17, 5);
	assert_int_equal(window_ack(&w, 5), 1);
	assert_int_equal(window_ack(&w, 3), 1);
	assert_int_equal(w.acked_upto, 15);
	/* the connection is lost: 16 and 17 are published again after 15 */
	window_clear(&w);
	assert_int_equal(w.count, 0);
	assert_int_equal(w.last_id, 15);
	assert_int_equal(window_ack(&w, 4), 0);
	window_push(&w, 16, 1);
	assert_int_equal(window_ack(&w, 1), 1);
	assert_int_equal(w.acked_upto, 16);
	window_free(&w);
}

static cJSON *parse(const struct relay_msg *m)
{
	cJSON *o = cJSON_ParseWithLength(m->payload, m->len);
	assert_non_null(o);
	assert_int_equal(strlen(m->payload), m->len);
	return o;
}

static void message_of_an_event(void **state)
{
	(void)state;
	struct relay_event ev = {.id = 42, .type = "invoice_paid", .time = 1764288000,
	                         .subject = "0000000013", .operator_name = "Кассир \"1\"",
	                         .details = "{\"amount\":\"1234.56\",\"lines\":[1,2]}"};
	struct relay_msg m;
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	assert_string_equal(m.topic, "askue/events/invoice_paid");
	assert_int_equal(m.id, 42);
	cJSON *o = parse(&m);
	assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, 42);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "invoice_paid");
	assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring, "2025-11-28T00:00:00Z");
	assert_int_equal(cJSON_GetObjectItem(o, "ts")->valuedouble, 1764288000);
	assert_string_equal(cJSON_GetObjectItem(o, "subject")->valuestring, "0000000013");
	assert_string_equal(cJSON_GetObjectItem(o, "operator")->valuestring, "Кассир \"1\"");
	cJSON *d = cJSON_GetObjectItem(o, "details");
	assert_string_equal(cJSON_GetObjectItem(d, "amount")->valuestring, "1234.56");
	assert_null(cJSON_GetObjectItem(o, "details_omitted"));
	cJSON_Delete(o);
	free(m.payload);

	/* a type no topic level can hold; empty details */
	ev.type = "a/b+#\x01";
	ev.details = "";
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	assert_string_equal(m.topic, "askue/events/a_b___");
	o = parse(&m);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "a/b+#\x01");
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(o, "details")));
	cJSON_Delete(o);
	free(m.payload);
	ev.type = "";
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	assert_string_equal(m.topic, "askue/events/_");
	free(m.payload);

	/* malformed UTF-8 in the ledger's text goes out as '?' */
	ev.type = "meter_added";
	ev.subject = "M\xff" "1\xd0";
	ev.details = "{\"model\":\"\xd0\x9d\xd0\xb5\xd0\xb2\xd0\xb0 \xc0\xaf\"}";
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	o = parse(&m);
	assert_true(askue_utf8_valid(m.payload, m.len));
	assert_string_equal(cJSON_GetObjectItem(o, "subject")->valuestring, "M?1?");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "details"), "model")->valuestring,
	                    "Нева ??");
	cJSON_Delete(o);
	free(m.payload);
	ev.subject = "0000000013";

	/* the short form, for a broker that takes less */
	ev.type = "meter_added";
	ev.details = "{\"model\":\"Нева\"}";
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	assert_int_equal(outbox_message_shrink(&m), ASKUE_OK);
	o = parse(&m);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "details_omitted")));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "details"), "model"));
	assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, 42);
	cJSON_Delete(o);
	assert_int_equal(outbox_message_shrink(&m), ASKUE_OK); /* twice: the same */
	assert_non_null(strstr(m.payload, "\"details\":{},\"details_omitted\":true}"));
	free(m.payload);

	/* details over the limit are left out, and say so */
	size_t n = ASKUE_EVENT_DETAILS_BYTES_MAX + 16;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, "{\"s\":\"", 6);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	ev.type = "cardfile_imported";
	ev.details = big;
	assert_int_equal(outbox_message(&ev, &m), ASKUE_OK);
	assert_true(m.len < 1024);
	o = parse(&m);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "details_omitted")));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "details"), "s"));
	cJSON_Delete(o);
	free(m.payload);
	free(big);
}

static void add_events(struct askue_ledger *l, int n)
{
	assert_int_equal(askue_ledger_begin(l), ASKUE_OK);
	for (int i = 0; i < n; i++) {
		char subject[32];
		snprintf(subject, sizeof subject, "M%d", i);
		assert_int_equal(askue_journal_append(l, "meter_added", subject, NULL), ASKUE_OK);
	}
	assert_int_equal(askue_ledger_commit(l), ASKUE_OK);
}

static void cursor_moves_forward_only(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	int64_t c = -1;
	assert_int_equal(outbox_cursor_load(l, "mqtt-relay", &c), ASKUE_OK);
	assert_int_equal(c, 0);
	assert_int_equal(outbox_cursor_save(l, "mqtt-relay", 7), ASKUE_OK);
	assert_int_equal(outbox_cursor_save(l, "mqtt-relay", 5), ASKUE_OK); /* ignored */
	assert_int_equal(outbox_cursor_save(l, "other", 2), ASKUE_OK);
	assert_int_equal(outbox_cursor_load(l, "mqtt-relay", &c), ASKUE_OK);
	assert_int_equal(c, 7);
	assert_int_equal(outbox_cursor_load(l, "other", &c), ASKUE_OK);
	assert_int_equal(c, 2);
	assert_int_equal(outbox_reader_check("mqtt-relay.2_b"), ASKUE_OK);
	assert_int_equal(outbox_reader_check(""), ASKUE_ERR_CONFIG);
	assert_int_equal(outbox_reader_check("a b"), ASKUE_ERR_CONFIG);
	askue_ledger_close(l);
}

static void reads_stop_at_the_batch_and_the_target(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	struct outbox_batch b;
	assert_int_equal(outbox_batch_init(&b, 4), ASKUE_OK);
	int64_t last = -1;
	assert_int_equal(outbox_last_id(l, &last), ASKUE_OK);
	assert_int_equal(last, 0);
	assert_int_equal(outbox_read(l, 0, INT64_MAX, &b), ASKUE_OK);
	assert_int_equal(b.n, 0);
	add_events(l, 10);
	assert_int_equal(outbox_last_id(l, &last), ASKUE_OK);
	assert_int_equal(last, 10);
	assert_int_equal(outbox_read(l, 0, INT64_MAX, &b), ASKUE_OK);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.msgs[0].id, 1);
	assert_int_equal(b.msgs[3].id, 4);
	assert_string_equal(b.msgs[3].topic, "askue/events/meter_added");
	assert_non_null(strstr(b.msgs[3].payload, "\"subject\":\"M3\""));
	assert_int_equal(outbox_read(l, 4, 6, &b), ASKUE_OK);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.msgs[1].id, 6);
	assert_int_equal(outbox_read(l, 8, INT64_MAX, &b), ASKUE_OK);
	assert_int_equal(b.n, 2);
	/* the read left no transaction open: another connection can write */
	assert_int_equal(sqlite3_get_autocommit(askue_ledger_db(l)), 1);
	outbox_batch_free(&b);
	outbox_batch_free(&b); /* twice is harmless */
	askue_ledger_close(l);
}

/* The console's audit events (console_*) stay in the journal, unpublished;
 * a type merely containing "console" or with another prefix is published. */
static void console_events_are_not_published(void **state)
{
	(void)state;
	struct askue_ledger *l = open_fresh();
	struct outbox_batch b;
	assert_int_equal(outbox_batch_init(&b, 10), ASKUE_OK);
	assert_int_equal(askue_ledger_begin(l), ASKUE_OK);
	const char *types[] = {"meter_added", "console_signed_in", "console_signin_failed",
	                       "consoleX_added", "alert_opened", "console_signed_out"};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		assert_int_equal(askue_journal_append(l, types[i], "x", NULL), ASKUE_OK);
	assert_int_equal(askue_ledger_commit(l), ASKUE_OK);
	assert_int_equal(outbox_read(l, 0, INT64_MAX, &b), ASKUE_OK);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.msgs[0].id, 1);
	assert_int_equal(b.msgs[1].id, 4);
	assert_string_equal(b.msgs[1].topic, "askue/events/consoleX_added");
	assert_int_equal(b.msgs[2].id, 5);
	assert_int_equal(outbox_read(l, 5, INT64_MAX, &b), ASKUE_OK);
	assert_int_equal(b.n, 0);
	outbox_batch_free(&b);
	askue_ledger_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window_acks_in_any_order),
		cmocka_unit_test(message_of_an_event),
		cmocka_unit_test(cursor_moves_forward_only),
		cmocka_unit_test(reads_stop_at_the_batch_and_the_target),
		cmocka_unit_test(console_events_are_not_published),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
