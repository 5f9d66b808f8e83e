# The event relay (askue-relay, ASan build) between a real ledger and a real
# Mosquitto with the askue_auth plugin: every journaled event reaches
# askue/events/{type} once and in order with its payload; SIGKILL in the
# middle of a backlog loses nothing; a broker that goes down and comes back
# gets everything; a publish the broker refuses never moves the cursor.
#
# Another system follows the events as the docs say: a service account of
# role events (askue service credentials events --name portal), QoS 1,
# a persistent session. Its messages go to $T_TMP/events.out, one
# "TOPIC PAYLOAD" line each.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

RELAY_PID=""
SUB_PID=""
# At the end of every test: nothing left running, and no sanitizer report
# from any relay run (every run logs to relay.log or the test's own file).
stop_all() {
	[ -n "$RELAY_PID" ] && kill -9 "$RELAY_PID" 2>/dev/null
	[ -n "$SUB_PID" ] && kill "$SUB_PID" 2>/dev/null
	servers_stop_all
	if cat "$T_TMP"/*.log 2>/dev/null | grep -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer"; then
		echo "    FAILED: sanitizer report from askue-relay" >&2
		exit 1
	fi
}

broker_start() {
	mosquitto_start "$T_TMP/mqtt" "user $(id -un)" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_reload_s 1" \
		"plugin_opt_clientid_prefix true" ${BROKER_EXTRA:+"$BROKER_EXTRA"}
}

# setup [RELAY CONFIG LINES..]: credentials, config, broker with the plugin.
setup() {
	trap stop_all EXIT
	PW_RELAY=$(askue service credentials relay) || die "relay credentials"
	PW_PORTAL=$(askue service credentials events --name portal) || die "events credentials"
	# a second try: on a busy machine another test may take the free port first
	broker_start || broker_start || die "mosquitto"
	{
		echo "[mqtt]"
		echo "port = $MQTT_PORT"
		echo "keepalive_s = 5"
		echo "[relay]"
		echo "password = $PW_RELAY"
		echo "poll_ms = 50"
		echo "cursor_interval_ms = 100"
		for line in "$@"; do echo "$line"; done
	} >"$ASKUE_HOME/askue.conf"
}

SUBACKS=0
subacks() { grep -c 'Subscribed (mid' "$T_TMP/sub.out" 2>/dev/null; }
subacks_above() { [ "$(subacks)" -gt "$1" ]; }

# sub_start: the portal's persistent QoS 1 session on askue/events/#
sub_start() {
	stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u portal -P "$PW_PORTAL" -i portal -c \
		-q 1 -t 'askue/events/#' -v -d >>"$T_TMP/sub.out" 2>&1 &
	SUB_PID=$!
	wait_for 10 subacks_above "$SUBACKS" || die "no SUBACK for the portal"
	SUBACKS=$(subacks)
	grep -q 'Subscribed (mid: [0-9]*): 1$' "$T_TMP/sub.out" || die "portal's subscription refused"
}
sub_stop() {
	kill "$SUB_PID" 2>/dev/null
	wait "$SUB_PID" 2>/dev/null
	SUB_PID=""
}

# The messages received so far, "TOPIC PAYLOAD" per line.
received() { grep '^askue/events/' "$T_TMP/sub.out"; }
received_ids() { received | cut -d' ' -f2- | jq -r .id; }
n_distinct() { received_ids | sort -un | wc -l; }
distinct_at_least() { [ "$(n_distinct)" -ge "$1" ]; }
wait_distinct() {
	wait_for "${2:-20}" distinct_at_least "$1" ||
		die "$(n_distinct) distinct events received, expected $1"
}

relay_start() {
	"$ASKUE_BUILD/askue-relay" >>"$T_TMP/relay.log" 2>&1 &
	RELAY_PID=$!
}
# relay_stop: SIGTERM, and it must exit 0
relay_stop() {
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID"
	local rc=$?
	RELAY_PID=""
	[ $rc -eq 0 ] || die "askue-relay exited $rc on SIGTERM: $(tail -3 "$T_TMP/relay.log")"
}

cursor() {
	sqlite3 "$ASKUE_HOME/askue.db" "SELECT coalesce(max(event_id), 0) FROM outbox_cursor WHERE reader = 'mqtt-relay'"
}
cursor_is() { [ "$(cursor)" -eq "$1" ]; }
last_id() { sqlite3 "$ASKUE_HOME/askue.db" "SELECT coalesce(max(id), 0) FROM event"; }

# Every id 1..N was received; ids go up by one except where a restarted
# relay went back to its cursor (then the run repeats what followed it).
check_complete_in_order() {
	local n=$1
	eq "$n" "$(n_distinct)" "distinct events" || exit 1
	eq "1 $n" "$(received_ids | sort -n | sed -n '1p;$p' | paste -sd' ')" "first and last id" || exit 1
	received_ids | awk 'NR > 1 && $1 != prev + 1 && $1 > prev { print "gap after " prev ": " $1; bad = 1 }
		{ prev = $1 } END { exit bad }' || die "events out of order"
	! grep -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer" "$T_TMP/relay.log" ||
		die "sanitizer report from the relay"
}

register_some() {
	askue tariff add Одноставочный >/dev/null || die "tariff add"
	ACCT=$(askue subscriber add --name "Петрова А. С." --address 'ул. Мира, 7, кв. "3"' \
		--district Центральный --date 2025-01-10) || die "subscriber add"
	askue meter add --serial "Нева 001" --model "Нева 101" --commissioned 2024-06-01 \
		--service-life 16 >/dev/null || die "meter add"
	askue meter install "Нева 001" "$ACCT" --date 2025-01-15 --reading 12.5 >/dev/null ||
		die "meter install"
	askue tariff choose "$ACCT" Одноставочный --from 2025-01-15 >/dev/null || die "tariff choose"
}

test_every_event_once_in_order_with_its_payload() {
	register_some
	setup
	sub_start
	"$ASKUE_BUILD/askue-relay" --once --timeout 20 >>"$T_TMP/relay.log" 2>&1 ||
		die "--once exited $?: $(tail -3 "$T_TMP/relay.log")"
	local n
	n=$(last_id)
	[ "$n" -ge 7 ] || die "only $n events in the journal"
	wait_distinct "$n"
	eq "$n" "$(received | wc -l)" "messages (each event once)" || exit 1
	eq "$n" "$(cursor)" "cursor" || exit 1
	check_complete_in_order "$n"
	# Each message is the journal's event: topic by type; id, type, subject,
	# operator and details as `askue events` has them; time in UTC = ts.
	askue --json events | jq -c '.[] | {id, type, subject, operator, details}' >"$T_TMP/want"
	received | cut -d' ' -f2- | jq -c '{id, type, subject, operator, details}' >"$T_TMP/got"
	cmp -s "$T_TMP/want" "$T_TMP/got" || die "payloads differ: $(diff "$T_TMP/want" "$T_TMP/got")"
	received | awk '{ split($1, t, "/"); print t[3] }' >"$T_TMP/topics"
	received | cut -d' ' -f2- | jq -r .type >"$T_TMP/types"
	cmp -s "$T_TMP/topics" "$T_TMP/types" || die "topic is not askue/events/{type}"
	received | cut -d' ' -f2- | jq -r '"\(.time) \(.ts | todate)"' |
		awk '$1 != $2 { print; bad = 1 } END { exit bad }' || die "time is not ts in UTC"
	received | grep -q '^askue/events/meter_connected {.*"subject":"Нева 001"' ||
		die "meter_connected of Нева 001 missing"
	received | grep -q '^askue/events/subscriber_registered .*"operator":"tester"' ||
		die "operator missing"
	# Nothing pending: the second run publishes nothing.
	"$ASKUE_BUILD/askue-relay" --once >>"$T_TMP/relay.log" 2>&1 || die "second --once"
	grep -q 'nothing pending' "$T_TMP/relay.log" || die "second --once did not find the cursor"
	# The daemon publishes a new event within a poll, and stops cleanly.
	relay_start
	askue subscriber add --name "Сидоров" --address "ул. Мира, 9" >/dev/null || die "subscriber add"
	wait_distinct $((n + 1)) 10
	relay_stop
	eq $((n + 1)) "$(cursor)" "cursor after SIGTERM" || exit 1
	eq $((n + 1)) "$(received | wc -l)" "messages" || exit 1
	received | tail -1 | grep -q '^askue/events/subscriber_registered ' || die "last event"
	# Not retained: a late subscriber gets nothing old.
	timeout 2 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u portal -P "$PW_PORTAL" -i portal-late \
		-t 'askue/events/#' -v -d -W 1 >"$T_TMP/late.out" 2>&1
	grep -q 'Subscribed (mid: 1): 0' "$T_TMP/late.out" || die "late subscriber: $(cat "$T_TMP/late.out")"
	! grep -q '^askue/events/' "$T_TMP/late.out" || die "retained events: $(cat "$T_TMP/late.out")"
}

# A backlog far larger than a batch; the relay is killed with SIGKILL five
# times while it publishes, then restarted: every event arrives (repeats
# allowed), in order within each run, and the cursor ends at the last id.
test_sigkill_in_a_backlog_loses_nothing() {
	setup "batch_max = 200" "inflight_max = 50"
	backlog 20000
	local n kills=0 mid=0 i c
	n=$(last_id)
	sub_start
	for i in 1 2 3 4 5; do
		relay_start
		sleep 0.$((RANDOM % 5 + 3))
		kill -9 "$RELAY_PID"
		wait "$RELAY_PID" 2>/dev/null
		RELAY_PID=""
		kills=$((kills + 1))
		c=$(cursor)
		echo "kill $i: cursor $c of $n, $(received | wc -l) received" >&2
		[ "$c" -lt "$n" ] && mid=$((mid + 1))
	done
	[ "$mid" -ge 1 ] || die "no kill landed in the backlog (too fast?)"
	relay_start
	wait_distinct "$n" 60
	wait_for 10 cursor_is "$n" || die "cursor $(cursor), expected $n"
	relay_stop
	check_complete_in_order "$n"
	echo "$(received | wc -l) messages for $n events after $kills kills" >&2
}

# The broker goes away and comes back: the relay retries with backoff and
# publishes what was journaled meanwhile; the portal's persistent session
# gets it.
test_broker_down_then_up_relay_catches_up() {
	setup
	sub_start
	relay_start
	askue subscriber add --name "Иванов" --address "ул. Ленина, 1" >/dev/null || die "add"
	wait_distinct 3
	sub_stop
	mosquitto_stop
	local i
	for i in 1 2 3 4 5; do
		askue subscriber add --name "Абонент $i" --address "ул. Ленина, $i" >/dev/null || die "add $i"
	done
	wait_for 10 grep -q 'cannot connect' "$T_TMP/relay.log" || die "the relay did not notice"
	sleep 1
	mosquitto_resume || die "mosquitto did not come back"
	sub_start
	local n
	n=$(last_id)
	wait_distinct "$n" 40
	wait_for 10 cursor_is "$n" || die "cursor $(cursor), expected $n"
	relay_stop
	check_complete_in_order "$n"
	grep -c 'connected to 127.0.0.1' "$T_TMP/relay.log" | grep -qx 2 || die "expected 2 connections"
}

# A publish the broker refuses (v5 PUBACK "not authorized": here the relay
# logs in with the portal's account, which may only read) is not counted as
# delivered: the cursor stays, --once gives up with EX_TEMPFAIL.
test_refused_publish_keeps_the_cursor() {
	setup
	sed -i 's/^password = .*/username = portal\nclient_id = portal\npassword = '"$PW_PORTAL"'/' \
		"$ASKUE_HOME/askue.conf"
	"$ASKUE_BUILD/askue-relay" --once --timeout 3 >>"$T_TMP/relay.log" 2>&1
	eq 75 $? "exit status" || exit 1
	eq 0 "$(cursor)" "cursor" || exit 1
	grep -q 'refused an event (Not authorized)' "$T_TMP/relay.log" ||
		die "no refusal in the log: $(cat "$T_TMP/relay.log")"
}

# One relay per reader: a second daemon is refused, a --once leaves the
# work to the daemon; a wrong password is refused at CONNECT and logged.
test_one_relay_per_reader_and_bad_password() {
	setup
	relay_start
	wait_for 10 grep -q 'connected to' "$T_TMP/relay.log" || die "not connected"
	"$ASKUE_BUILD/askue-relay" >"$T_TMP/second.log" 2>&1
	eq 75 $? "second daemon's exit status" || exit 1
	grep -q 'another askue-relay already publishes for reader mqtt-relay' "$T_TMP/second.log" ||
		die "$(cat "$T_TMP/second.log")"
	"$ASKUE_BUILD/askue-relay" --once >"$T_TMP/once.log" 2>&1 || die "--once beside the daemon"
	relay_stop
	askue subscriber add --name "Иванов" --address "ул. Ленина, 1" >/dev/null || die "add"
	sed -i 's/^password = .*/password = wrong/' "$ASKUE_HOME/askue.conf"
	"$ASKUE_BUILD/askue-relay" --once --timeout 2 >"$T_TMP/bad.log" 2>&1
	eq 75 $? "exit status with a wrong password" || exit 1
	grep -q 'refused the relay' "$T_TMP/bad.log" || die "$(cat "$T_TMP/bad.log")"
}

# backlog N: N events journaled at once (as a rollup would), straight into
# the ledger's journal table
backlog() {
	sqlite3 "$ASKUE_HOME/askue.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		INSERT INTO event(type, time, subject, operator, details)
		SELECT 'meter_data_received', 1764288000 + i, 'M' || (i % 97), 'rollup', json_object('day', i, 'wh', i * 7) FROM n" ||
		die "backlog"
}

# The relay never stands in the way of the ledger's writers, and a writer
# holding the ledger does not stop it: while another connection holds the
# write lock for 3 s, the relay goes on publishing (WAL reads) and retries
# its cursor; the command line writes while the relay works through a
# backlog.
test_ledger_writers_and_the_relay_do_not_block_each_other() {
	setup "batch_max = 200" "[ledger]" "busy_timeout_ms = 300"
	backlog 10000
	sub_start
	relay_start
	wait_distinct 100
	local t0 t1
	t0=$(date +%s%N)
	askue subscriber add --name "Кузнецов" --address "ул. Мира, 3" >/dev/null || die "CLI blocked"
	t1=$(date +%s%N)
	echo "CLI write during the backlog: $(((t1 - t0) / 1000000)) ms" >&2
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] || die "the CLI waited $(((t1 - t0) / 1000000)) ms"
	local before
	before=$(n_distinct)
	sqlite3 "$ASKUE_HOME/askue.db" "BEGIN IMMEDIATE;" ".shell sleep 3" "COMMIT;" || die "lock holder"
	grep -q 'cursor not written (kept in memory, retried)' "$T_TMP/relay.log" ||
		echo "note: the relay wrote no cursor while the lock was held" >&2
	[ "$(n_distinct)" -gt "$before" ] || die "nothing published while a writer held the ledger"
	local n
	n=$(last_id)
	wait_distinct "$n" 60
	wait_for 10 cursor_is "$n" || die "cursor $(cursor), expected $n"
	relay_stop
	check_complete_in_order "$n"
}

# SIGHUP reopens [relay] log_file (log rotation).
test_sighup_reopens_the_log() {
	setup "log_file = $T_TMP/relay-file.log"
	relay_start
	wait_for 10 grep -q 'connected to' "$T_TMP/relay-file.log" || die "not connected"
	mv "$T_TMP/relay-file.log" "$T_TMP/relay-file.log.1"
	kill -HUP "$RELAY_PID"
	wait_for 5 grep -q 'SIGHUP: log reopened' "$T_TMP/relay-file.log" || die "log not reopened"
	relay_stop
	grep -q 'stopped' "$T_TMP/relay-file.log" || die "the new file does not get the log"
}

# An event larger than the broker's maximum packet size goes out without
# its details (marked details_omitted) instead of blocking the ones after it.
test_an_event_larger_than_the_broker_takes_goes_without_details() {
	BROKER_EXTRA="max_packet_size 2048"
	setup
	sqlite3 "$ASKUE_HOME/askue.db" "INSERT INTO event(type, time, subject, operator, details)
		VALUES ('cardfile_imported', 1764288000, 'subscribers', 'tester',
		        json_object('file', printf('%.4000c', 'x')))" || die "big event"
	askue subscriber add --name "Иванов" --address "ул. Ленина, 1" >/dev/null || die "add"
	sub_start
	"$ASKUE_BUILD/askue-relay" --once --timeout 20 >>"$T_TMP/relay.log" 2>&1 ||
		die "--once exited $?: $(tail -3 "$T_TMP/relay.log")"
	wait_distinct 4
	check_complete_in_order 4
	received | grep -q '^askue/events/cardfile_imported {"id":3,.*"details":{},"details_omitted":true}$' ||
		die "big event: $(received | grep cardfile)"
	received | grep -q '^askue/events/subscriber_registered {"id":4,.*"details":{"name":"Иванов"' ||
		die "the event after it"
	grep -q 'more than the broker takes' "$T_TMP/relay.log" || die "not logged"
}
