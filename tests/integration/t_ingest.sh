# The ingestor (ASan build) between a real Mosquitto and a real InfluxDB:
# readings land exactly; bad payloads are refused with their reasons while
# the good readings beside them are kept; nothing is lost while InfluxDB is
# down or when the ingestor is killed with SIGKILL mid-stream.
#
# Mosquitto runs with allow_anonymous in most tests; one runs the askue
# broker plugin, the ingestor logging in with its role's credentials
# (askue service credentials ingestor).

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

# check EXPECTED ACTUAL WHAT: eq that ends the test when it fails
check() {
	eq "$@" || exit 1
}

# ingest_up [CONFIG LINES for [ingestor]..]: broker, InfluxDB, config, ingestor.
ingest_up() {
	trap 'ingestor_stop; servers_stop_all' EXIT
	# run as root: Mosquitto started by root drops to user mosquitto, which
	# cannot write its persistence file into the test's directory
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "user root" || die "mosquitto"
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	{
		echo "[mqtt]"
		echo "port = $MQTT_PORT"
		echo "keepalive_s = 5"
		echo "[influx]"
		echo "url = $INFLUX_URL"
		echo "timeout_ms = 2000"
		echo "[ingestor]"
		echo "batch_ms = 100"
		echo "health_interval_s = 1"
		echo "lastseen_interval_s = 1"
		echo "spool_fsync = false"
		for line in "$@"; do echo "$line"; done
	} >"$ASKUE_HOME/askue.conf"
	ingestor_start
}

ING_PID=""
ING_LOG=""
ingestor_start() {
	: "${ING_LOG:=$T_TMP/ingestor.log}"
	"$ASKUE_BUILD/askue-ingestor" >>"$T_TMP/ingestor.log" 2>&1 &
	ING_PID=$!
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'mqtt: connected' "$ING_LOG" 2>/dev/null)" -gt "${CONNECTS:-0}" ] && break
		sleep 0.1
	done
	CONNECTS=$(grep -c 'mqtt: connected' "$ING_LOG")
	[ "$CONNECTS" -gt 0 ] || { cat "$ING_LOG" >&2; die "ingestor did not connect"; }
	# the first start subscribes; wait for the SUBACK
	for i in $(seq 1 50); do
		grep -q 'subscribed to' "$ING_LOG" && return 0
		sleep 0.1
	done
	die "ingestor did not subscribe"
}

ingestor_stop() {
	[ -n "$ING_PID" ] || return 0
	kill "$ING_PID" 2>/dev/null
	wait "$ING_PID"
	local rc=$?
	ING_PID=""
	return $rc
}

# Lines of messages on stdin -> QoS 1 publishes to meters/$1/readings.
publish() {
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "meters/$1/readings" -l || die "mosquitto_pub"
}

# paced: copy stdin to stdout, 50 lines every 0.1 s
paced() {
	local n=0 line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		n=$((n + 1))
		[ $((n % 50)) -ne 0 ] || sleep 0.1
	done
}

# messages METER FIRST COUNT: one reading each, ts = T0 - i, 1.8.0 = i.ddd kWh
T0=$(($(date +%s) - 100000))
messages() {
	awk -v m="$1" -v a="$2" -v n="$3" -v t0="$T0" 'BEGIN {
		for (i = a; i < a + n; i++)
			printf "{\"meter\":\"%s\",\"readings\":[{\"ts\":%d,\"1.8.0\":%d.%03d,\"1.8.1\":%d.5}]}\n",
			       m, t0 - i, i, i % 1000, i
	}'
}

# Wh sum of 1.8.0 over messages FIRST..FIRST+COUNT-1
expected_sum() {
	awk -v a="$1" -v n="$2" 'BEGIN { s = 0; for (i = a; i < a + n; i++) s += i * 1000 + i % 1000; printf "%.0f", s }'
}

q1() { # q1 QUERY: the first value of the first series
	influx_query "$1" | jq -r '.results[0].series[0].values[0][1] // 0'
}

# wait_count N [SECONDS]: until InfluxDB holds N readings
wait_count() {
	local n=$1 secs=${2:-30} i got=0
	for i in $(seq 1 $((secs * 5))); do
		got=$(q1 'SELECT count(ai_wh) FROM reading')
		[ "$got" = "$n" ] && return 0
		sleep 0.2
	done
	die "InfluxDB holds $got readings, expected $n"
}

test_readings_land_exactly() {
	ingest_up
	for m in A B C; do messages "$m" 0 300 | publish "$m"; done
	# a backlog of 48 readings in one message, in no order
	awk -v t0="$T0" 'BEGIN { printf "{\"meter\":\"D\",\"readings\":["
		for (k = 0; k < 48; k++) { i = (k * 29) % 48
			printf "%s{\"ts\":%d,\"1.8.0\":%d.001,\"2.8.0\":0.25,\"1.7.0\":1.5,\"32.7.0\":229.9}", k ? "," : "", t0 - i * 1800, 100 + i }
		printf "]}\n" }' | publish D
	wait_count $((900 + 48))
	for m in A B C; do
		check "$(expected_sum 0 300)" "$(q1 "SELECT sum(ai_wh) FROM reading WHERE meter = '$m'")" "sum $m"
		check "$(awk 'BEGIN{s=0; for (i=0;i<300;i++) s+=i*1000+500; printf "%.0f", s}')" \
			"$(q1 "SELECT sum(t1_wh) FROM reading WHERE meter = '$m'")" "t1 $m"
	done
	check 48 "$(q1 "SELECT count(ae_wh) FROM reading WHERE meter = 'D'")" "D ae count"
	check 250 "$(q1 "SELECT max(ae_wh) FROM reading WHERE meter = 'D'")" "ae_wh"
	check 229.9 "$(q1 "SELECT max(u_v) FROM reading WHERE meter = 'D'")" "u_v"
	check 100001 "$(q1 "SELECT min(ai_wh) FROM reading WHERE meter = 'D'")" "10x.001 kWh in Wh"
	# integer fields are integers in InfluxDB
	influx_query 'SHOW FIELD KEYS FROM reading' | jq -c '.results[0].series[0].values' |
		grep -q '\["ai_wh","integer"\]' || die "ai_wh is not an integer field"
	# last seen, per meter
	sleep 1.5
	check "$T0|3" "$(sqlite3 "$ASKUE_HOME/lastseen.db" "SELECT ts, count(*) FROM lastseen WHERE meter IN ('A','B','C') GROUP BY ts")" "lastseen"
	# SIGTERM: drains and exits 0 with an empty spool
	ingestor_stop || die "ingestor exited non-zero on SIGTERM"
	grep -q 'the spool is empty' "$T_TMP/ingestor.log" || die "no drain message"
}

test_serials_escaped_right() {
	ingest_up
	local s
	for s in 'a b' 'c,d' 'e=f' 'g"h' 'i\j' 'Счётчик №5'; do
		js=$(printf '%s' "$s" | sed 's/\\/\\\\/g; s/"/\\"/g')
		echo "{\"meter\":\"$js\",\"readings\":[{\"ts\":$T0,\"1.8.0\":7.007}]}" | publish "$s"
	done
	wait_count 6
	got=$(influx_query 'SHOW TAG VALUES FROM reading WITH KEY = meter' |
		jq -r '.results[0].series[0].values[][1]' | sort | tr '\n' '|')
	want=$(printf '%s\n' 'a b' 'c,d' 'e=f' 'g"h' 'i\j' 'Счётчик №5' | sort | tr '\n' '|')
	check "$want" "$got" "serials as tags"
	check 7007 "$(q1 "SELECT ai_wh FROM reading WHERE meter = 'Счётчик №5'")" "Cyrillic serial"
}

test_rejects_with_reasons_good_kept() {
	ingest_up
	local now
	now=$(date +%s)
	{
		echo 'not json at all'
		echo '{"meter":"OTHER","readings":[{"ts":'$T0',"1.8.0":1}]}'
		echo '[1,2,3]'
		echo '{"meter":"R","readings":[{"ts":'$T0',"1.8.0":1.001},{"ts":'$T0',"1.8.0":-5},{"ts":'$((now + 3600))',"1.8.0":2},{"ts":'$((T0 + 1))',"1.8.0":1.0001},{"ts":'$((T0 + 2))',"1.8.1":4},{"ts":'$((T0 + 3))',"1.8.0":3.003}]}'
	} | publish R
	printf '{"meter":"R\xff","readings":[]}' >"$T_TMP/utf8"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t meters/R/readings -f "$T_TMP/utf8"
	awk 'BEGIN { for (i = 0; i < 70000; i++) printf "["; }' >"$T_TMP/deep"
	head -c 60000 "$T_TMP/deep" >"$T_TMP/deep60k"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t meters/R/readings -f "$T_TMP/deep"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t meters/R/readings -f "$T_TMP/deep60k"
	echo '{"meter":"t\\","readings":[{"ts":'$T0',"1.8.0":1}]}' | publish 't\'
	echo '{"meter":"R","readings":[{"ts":'$((T0 + 9))',"1.8.0":9}]}' | publish R
	wait_count 3
	check $((1001 + 3003 + 9000)) "$(q1 "SELECT sum(ai_wh) FROM reading WHERE meter = 'R'")" "good readings kept"
	local f="$ASKUE_HOME/rejects/rejects-$(date -u +%F).log"
	[ -f "$f" ] || die "no rejects file"
	check "bad_json:- bad_serial:- bad_utf8:- bad_value:1 meter_mismatch:- no_import_total:4 not_object:- too_big:- too_deep:- too_many_decimals:3 ts_future:2 " \
		"$(cut -f2,4 "$f" | tr '\t' ':' | sort | tr '\n' ' ')" "rejects (reason:index)"
	grep -q '"1.8.0":-5' "$f" || die "the excerpt of the bad reading is missing"
	# counted by reason in the ingest measurement
	sleep 1.5
	check 1 "$(q1 'SELECT last(rej_too_deep) FROM ingest')" "rej_too_deep"
	check 1 "$(q1 'SELECT last(rej_bad_value) FROM ingest')" "rej_bad_value"
}

test_influx_down_then_up_nothing_lost() {
	ingest_up
	messages M 0 200 | publish M
	wait_count 200
	influxd_stop
	messages M 200 500 | publish M
	sleep 3
	kill -0 "$ING_PID" || die "ingestor died while InfluxDB was down"
	grep -q 'retrying (the spool keeps the points)' "$T_TMP/ingestor.log" || die "no retry logged"
	influxd_resume || die "influxd did not come back"
	wait_count 700 40
	check "$(expected_sum 0 700)" "$(q1 "SELECT sum(ai_wh) FROM reading")" "sum"
}

test_sigkill_mid_stream_nothing_lost() {
	ingest_up "spool_fsync = true"
	messages K 0 6000 >"$T_TMP/k.txt"
	# Paced (50 messages every 0.1 s, about 12 s in all) so that the five
	# kills land mid-stream on a fast machine as on a slow one.
	paced <"$T_TMP/k.txt" | publish K &
	local pub=$! k stored
	for k in 1 2 3 4 5; do
		sleep 0.8
		kill -9 "$ING_PID"
		wait "$ING_PID" 2>/dev/null
		ING_PID=""
		stored=$(q1 'SELECT count(ai_wh) FROM reading')
		echo "kill $k: $stored readings stored"
		ingestor_start
	done
	wait $pub || die "publisher failed"
	[ "$stored" -lt 6000 ] || die "the stream was over before the last kill: not a mid-stream test"
	wait_count 6000 60
	check "$(expected_sum 0 6000)" "$(q1 "SELECT sum(ai_wh) FROM reading")" "sum"
	grep -q 'session resumed' "$T_TMP/ingestor.log" || die "the session was not resumed"
}

# Nothing is acknowledged before it is durable, seen in the system calls:
# the ingestor runs under strace, and every PUBACK (a socket write whose
# first byte is 0x40) must follow a finished fdatasync that began after a
# spool write (a write starting with a record's magic, ASQ1) that came
# after the read of its message (libmosquitto reads a packet's first byte
# alone: 0x32 for a QoS 1 PUBLISH). Counted: PUBACKs never outnumber the
# messages made durable that way. The backlog queued for the four sessions
# while the ingestor was away comes in rounds: far fewer fdatasyncs than
# messages.
test_puback_only_after_fdatasync() {
	command -v strace >/dev/null || die "strace is needed (deploy/packages.txt)"
	ingest_up "spool_fsync = true" "connections = 4"
	ingestor_stop || die "first stop"
	messages S 0 2000 | publish S
	# (LeakSanitizer does not work under ptrace)
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -xx -s 8 \
		-e trace=read,writev,fdatasync,sendto,write -o "$T_TMP/trace" \
		"$ASKUE_BUILD/askue-ingestor" >>"$T_TMP/ingestor.log" 2>&1 &
	local st=$! pid i
	for i in $(seq 1 50); do
		pid=$(pgrep -P "$st" -x askue-ingestor) && break
		sleep 0.1
	done
	[ -n "$pid" ] || die "the ingestor did not start under strace"
	wait_count 2000 90
	sleep 0.5
	kill "$pid"
	wait "$st" || die "the ingestor (under strace) exited non-zero"
	# fields: messages read, spool writes, fdatasyncs, PUBACKs, PUBACKs
	# beyond the messages made durable
	local r
	r=$(awk '
		/read(\([0-9]+, | resumed>)"\\x32", 1\) += 1$/ { received++ }
		/write/ && /"\\x41\\x53\\x51\\x31/ && !/resumed/ { writes++; spooled = received }
		/fdatasync\(/ && !/resumed/ { at[$1] = spooled }
		/fdatasync/ && / = 0$/ { durable = at[$1]; syncs++ }
		/(sendto|write)\([0-9]+, "\\x40/ { acks++; if (acks > durable) early++ }
		END { printf "%d %d %d %d %d", received, writes, syncs, acks, early }' "$T_TMP/trace")
	echo "messages read, spool writes, fdatasyncs, PUBACKs, early PUBACKs: $r"
	set -- $r
	[ "$1" -ge 2000 ] || die "only $1 messages read in the trace"
	[ "$2" -ge 1 ] || die "no spool write traced"
	[ "$4" -ge 2000 ] || die "only $4 PUBACKs traced"
	check 0 "$5" "PUBACKs sent before their messages were synced"
	[ "$3" -lt 500 ] || die "$3 fdatasyncs for 2000 messages: no group commit"
}

test_sighup_reopens_log() {
	ING_LOG=$T_TMP/ing-file.log
	ingest_up "log_file = $T_TMP/ing-file.log"
	sleep 0.5
	mv "$T_TMP/ing-file.log" "$T_TMP/ing-file.log.1"
	kill -HUP "$ING_PID"
	sleep 0.5
	grep -q 'SIGHUP: log reopened' "$T_TMP/ing-file.log" || die "log not reopened"
	ingestor_stop || die "exit status"
}

# InfluxDB refuses one point (its shard has ai_wh as a float): that point
# goes to the rejects, the rest of its batch and message is stored.
test_refused_point_quarantined_rest_stored() {
	ingest_up
	curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" \
		--data-binary 'reading,meter=F ai_wh=1.5 978307200' || die "pre-write"
	{
		messages Q1 0 20
		echo "{\"meter\":\"Q1\",\"readings\":[{\"ts\":$((T0 + 5)),\"1.8.0\":5},{\"ts\":978307260,\"1.8.0\":6},{\"ts\":$((T0 + 7)),\"1.8.0\":7}]}"
		messages Q1 20 20
	} | publish Q1
	wait_count $((1 + 40 + 2))
	check $(($(expected_sum 0 40) + 12000)) \
		"$(q1 "SELECT sum(ai_wh) FROM reading WHERE meter = 'Q1'")" "stored beside the refused point"
	local f="$ASKUE_HOME/rejects/rejects-$(date -u +%F).log"
	grep -q "influx_refused.*978307260.*field type conflict" "$f" || { cat "$f" >&2; die "not quarantined"; }
	sleep 1.5
	check 1 "$(q1 'SELECT last(rej_influx_refused) FROM ingest')" "counted"
}

# The broker keeps the ingestor's session (and the messages for it) across
# its own restart; the ingestor reconnects by itself.
test_broker_restart_nothing_lost() {
	ingest_up "connections = 4"
	messages B 0 200 | publish B
	wait_count 200
	ingestor_stop || die "exit status"
	messages B 200 300 | publish B
	mosquitto_restart || die "mosquitto did not come back"
	ingestor_start
	wait_count 500
	local before i
	before=$(grep -c 'mqtt: connected' "$T_TMP/ingestor.log")
	mosquitto_restart || die "mosquitto did not come back"
	# all four sessions back
	for i in $(seq 1 100); do
		[ "$(grep -c 'mqtt: connected' "$T_TMP/ingestor.log")" -ge $((before + 4)) ] && break
		sleep 0.1
	done
	messages B 500 100 | publish B
	wait_count 600
	check "$(expected_sum 0 600)" "$(q1 "SELECT sum(ai_wh) FROM reading")" "sum"
	check 8 "$(grep -c 'session resumed' "$T_TMP/ingestor.log")" "sessions resumed"
}

# Started before the broker: it keeps trying and gets there.
test_broker_late() {
	trap 'ingestor_stop; servers_stop_all' EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	local port
	port=$(free_port)
	printf '[mqtt]\nport = %s\n[influx]\nurl = %s\n[ingestor]\nbatch_ms = 100\nspool_fsync = false\n' \
		"$port" "$INFLUX_URL" >"$ASKUE_HOME/askue.conf"
	"$ASKUE_BUILD/askue-ingestor" >>"$T_TMP/ingestor.log" 2>&1 &
	ING_PID=$!
	sleep 1.5
	kill -0 "$ING_PID" || die "ingestor gave up without a broker"
	mkdir -p "$T_TMP/mq"
	printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$T_TMP/mq/mosquitto.conf"
	mosquitto -c "$T_TMP/mq/mosquitto.conf" >"$T_TMP/mq/out" 2>&1 &
	MQTT_PID=$!
	MQTT_PORT=$port
	SERVERS_PIDS="$SERVERS_PIDS $MQTT_PID"
	wait_port "$port" || die "mosquitto"
	local i
	for i in $(seq 1 100); do
		grep -q 'subscribed to' "$T_TMP/ingestor.log" && break
		sleep 0.1
	done
	messages L 0 10 | publish L
	wait_count 10
	ingestor_stop || die "exit status"
}

# Readings published while the broker has just restarted and the ingestor
# has not reconnected yet. Mosquitto 2.0.11 restores a persisted session
# without its $share subscription, so with share_group (the default) those
# are dropped by the broker; with a plain subscription (share_group empty,
# one ingestor) the restored session keeps them. This test pins the plain
# case; docs/ingestor.md says which to choose.
test_broker_restart_window_plain_subscription() {
	ingest_up "share_group =" "connections = 1"
	messages W 0 100 | publish W
	wait_count 100
	mosquitto_restart || die "mosquitto did not come back"
	messages W 100 100 | publish W
	wait_count 200
	check "$(expected_sum 0 200)" "$(q1 "SELECT sum(ai_wh) FROM reading")" "sum"
	grep -q 'subscribed to meters/+/readings' "$T_TMP/ingestor.log" || die "not a plain subscription"
}

# InfluxDB down long enough for the spool to fill: intake pauses (nothing
# acknowledged that is not spooled, the broker keeps the rest) and resumes;
# every reading ends up in InfluxDB.
# big_backlog: 340 messages x 500 readings with every register for meter
# S: ~62 KB of line protocol each, 21 MB in all, more than a 16 MiB spool
big_backlog() {
	awk -v t0="$T0" 'BEGIN {
		for (m = 0; m < 340; m++) {
			printf "{\"meter\":\"S\",\"readings\":["
			for (k = 0; k < 500; k++)
				printf "%s{\"ts\":%d,\"1.8.0\":%d.125,\"1.8.1\":1.5,\"1.8.2\":2.5,\"1.8.3\":3.5,\"1.8.4\":4.5,\"2.8.0\":0.001,\"1.7.0\":0.5,\"32.7.0\":230}", k ? "," : "", t0 - (m * 500 + k) * 60, k
			printf "]}\n"
		}
	}' | publish S
	local i
	for i in $(seq 1 100); do
		grep -q 'spool: full' "$T_TMP/ingestor.log" && break
		sleep 0.1
	done
	grep -q 'spool: full' "$T_TMP/ingestor.log" || die "the spool never filled"
	du -sb "$ASKUE_HOME/spool" | awk '{ if ($1 > 16777216 + 2097152 + 2 * 1048576) exit 1 }' ||
		die "spool over its bound: $(du -sb "$ASKUE_HOME/spool")"
}

test_spool_full_pauses_intake_nothing_lost() {
	ingest_up "spool_bytes_max = 16777216"
	influxd_stop
	big_backlog
	influxd_resume || die "influxd did not come back"
	wait_count $((340 * 500)) 120
	check $((340 * 500 * 4500)) "$(q1 'SELECT sum(t4_wh) FROM reading')" "t4 sum"
	grep -q 'intake resumed' "$T_TMP/ingestor.log" || die "intake did not resume"
}

# SIGTERM while the spool is full and InfluxDB down: the message waiting for
# room is not acknowledged (the connection is dropped first), the process
# exits 0, and after a restart everything arrives.
test_sigterm_while_full_nothing_lost() {
	ingest_up "spool_bytes_max = 16777216" "drain_timeout_s = 1"
	influxd_stop
	big_backlog
	ingestor_stop || die "exit status on SIGTERM while full"
	influxd_resume || die "influxd did not come back"
	ingestor_start
	wait_count $((340 * 500)) 120
	check $((340 * 500 * 4500)) "$(q1 'SELECT sum(t4_wh) FROM reading')" "t4 sum"
}

# A broker that goes silent (SIGSTOP) is noticed by the keep-alive (5 s
# here): the ingestor drops the dead connection, and reconnects and takes
# readings again once the broker answers.
test_silent_broker_noticed() {
	ingest_up "connections = 1"
	messages Z 0 10 | publish Z
	wait_count 10
	kill -STOP "$MQTT_PID"
	local i
	for i in $(seq 1 150); do
		grep -q 'disconnected' "$T_TMP/ingestor.log" && break
		sleep 0.1
	done
	kill -CONT "$MQTT_PID"
	grep -q 'disconnected' "$T_TMP/ingestor.log" || die "a silent broker went unnoticed"
	for i in $(seq 1 150); do
		[ "$(grep -c 'mqtt: connected' "$T_TMP/ingestor.log")" -ge 2 ] && break
		sleep 0.1
	done
	messages Z 10 10 | publish Z
	wait_count 20
}

# With the askue broker plugin: the ingestor logs in with its role's
# credentials (askue service credentials ingestor); a meter's readings
# arrive, and what it tries to publish as another meter does not.
test_with_the_plugin_and_role_credentials() {
	trap 'ingestor_stop; servers_stop_all' EXIT
	askue meter add --serial P1 --model T-1 --commissioned 2024-01-01 --service-life 16 \
		>/dev/null || die "meter add"
	askue meter add --serial P2 --model T-1 --commissioned 2024-01-01 --service-life 16 \
		>/dev/null || die "meter add"
	local pw1 pw_ing
	pw1=$(askue meter credentials P1) && askue meter credentials P2 >/dev/null || die "meter credentials"
	pw_ing=$(askue service credentials ingestor) || die "ingestor credentials"
	mosquitto_start "$T_TMP/mq" "user root" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_reload_s 1" || die "mosquitto"
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[mqtt]\nport = %s\n[influx]\nurl = %s\n[ingestor]\nusername = askue-ingestor\npassword = %s\nbatch_ms = 100\nspool_fsync = false\n' \
		"$MQTT_PORT" "$INFLUX_URL" "$pw_ing" >"$ASKUE_HOME/askue.conf"
	ingestor_start
	messages P1 0 5 | mosquitto_pub -p "$MQTT_PORT" -q 1 -u P1 -P "$pw1" -i P1 \
		-t meters/P1/readings -l || die "P1 publish"
	echo "{\"meter\":\"P2\",\"readings\":[{\"ts\":$T0,\"1.8.0\":1}]}" |
		mosquitto_pub -p "$MQTT_PORT" -q 1 -u P1 -P "$pw1" -i P1 -t meters/P2/readings -l
	messages P1 5 5 | mosquitto_pub -p "$MQTT_PORT" -q 1 -u P1 -P "$pw1" -i P1 \
		-t meters/P1/readings -l || die "P1 publish"
	wait_count 10
	check 0 "$(q1 "SELECT count(ai_wh) FROM reading WHERE meter = 'P2'")" "P1 as P2"
	# a wrong ingestor password is refused and said so
	ingestor_stop || die "exit status"
	sed -i 's/^password = .*/password = wrong/' "$ASKUE_HOME/askue.conf"
	"$ASKUE_BUILD/askue-ingestor" >"$T_TMP/wrong.log" 2>&1 &
	ING_PID=$!
	local i
	for i in $(seq 1 50); do
		grep -q 'refused the connection' "$T_TMP/wrong.log" && break
		sleep 0.1
	done
	grep -q 'refused the connection' "$T_TMP/wrong.log" || die "wrong password not reported"
}
