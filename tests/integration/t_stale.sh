# The stale job over what the real pipeline wrote: askue-sim's meters (some
# of them silent, as the simulator makes them) -> Mosquitto -> the ingestor
# (ASan build) -> InfluxDB and lastseen.db; then askue job stale judges
# them, tells online from offline by the retained status topic, publishes
# its alerts on askue/alerts/{kind}, and keeps what it could not publish
# for the next run when the broker is away.
#
# Mosquitto allows anonymous clients here, so that a plain mosquitto_sub can
# watch askue/alerts/# (no role of the broker plugin may read alerts yet);
# the jobs' own credentials are the plugin's tests' part.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

check() { eq "$@" || exit 1; }

ING_PID=""
ingestor_stop() {
	[ -n "$ING_PID" ] || return 0
	kill "$ING_PID" 2>/dev/null
	wait "$ING_PID" 2>/dev/null
	ING_PID=""
}

stack_up() {
	trap 'ingestor_stop; servers_stop_all' EXIT
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "user $(id -un)" || die "mosquitto"
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	write_config
	"$ASKUE_BUILD/askue-ingestor" >>"$T_TMP/ingestor.log" 2>&1 &
	ING_PID=$!
	for _ in $(seq 1 100); do
		grep -q 'subscribed to' "$T_TMP/ingestor.log" && break
		sleep 0.1
	done
	grep -q 'subscribed to' "$T_TMP/ingestor.log" || die "ingestor did not subscribe"
}

write_config() {
	cat >"$ASKUE_HOME/askue.conf" <<CONF
[mqtt]
port = $MQTT_PORT
keepalive_s = 5
[influx]
url = $INFLUX_URL
[ingestor]
batch_ms = 100
lastseen_interval_s = 1
spool_fsync = false
[jobs]
publish_timeout_ms = 3000
[stale]
outage_min_meters = 3
status_wait_ms = 700
CONF
}

# Watch askue/alerts/#: one "topic payload" line per message.
watch_alerts() {
	stdbuf -oL mosquitto_sub -p "$MQTT_PORT" -q 1 -v -t 'askue/alerts/#' >"$T_TMP/alerts.txt" 2>&1 &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	sleep 0.3
}
alerts_received() { wc -l <"$T_TMP/alerts.txt"; }
wait_alerts() {
	for _ in $(seq 1 50); do
		[ "$(alerts_received)" -ge "$1" ] && return 0
		sleep 0.1
	done
	die "received $(alerts_received) alerts on MQTT, expected $1"
}

# register N: SIM000001..N installed, the first half at PS-A, the rest at PS-B
register() {
	local i acc serial
	for i in $(seq 1 "$1"); do
		serial=$(printf 'SIM%06d' "$i")
		acc=$(askue subscriber add --name "H $i" --address "Street $i" --district North \
			--substation "PS-$([ "$i" -le $(($1 / 2)) ] && echo A || echo B)" --date 2026-01-01) || die "subscriber"
		askue meter add --serial "$serial" --model CE102 --commissioned 2025-01-01 --service-life 16 \
			>/dev/null || die "meter add"
		askue meter install "$serial" "$acc" --date 2026-01-02 >/dev/null || die "install"
	done
}

# The serials whose newest reading (as the simulator published it) is older
# than 48 h at the end of day $1.
expected_silent() {
	local end
	end=$(TZ=Europe/Moscow date -d "$1 + 1 day" +%s)
	awk -F, -v end="$end" '{ if ($2 > last[$1]) last[$1] = $2 }
		END { for (m in last) if (end - last[m] > 48 * 3600) print m }' "$T_TMP/readings.csv" | sort
}

wait_lastseen() { # wait_lastseen COUNT: the ingestor noted COUNT meters
	for _ in $(seq 1 100); do
		[ "$(sqlite3 "$ASKUE_HOME/lastseen.db" 'SELECT count(*) FROM lastseen' 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	die "lastseen.db holds $(sqlite3 "$ASKUE_HOME/lastseen.db" 'SELECT count(*) FROM lastseen') meters, expected $1"
}

test_sim_silent_meters_open_alerts_once_publish_and_close() {
	stack_up
	register 12
	day=$(date -d 'yesterday' +%F)
	start=$(date -d '12 days ago' +%F)
	"$ASKUE_BUILD/askue-sim" --no-auth --meters 12 --start "$start" --days 12 --interval 1d \
		--silent 0.35 --seed 7 --readings-out "$T_TMP/readings.csv" --quiet \
		>"$T_TMP/sim.log" 2>&1 || die "sim: $(cat "$T_TMP/sim.log")"
	wait_lastseen 12
	expected=$(expected_silent "$day")
	n_silent=$(echo "$expected" | grep -c .)
	[ "$n_silent" -ge 2 ] || die "the simulator made $n_silent silent meters; the test needs 2"
	one=$(echo "$expected" | head -1)
	two=$(echo "$expected" | sed -n 2p)
	# one silent meter is connected (retained online), one is not
	mosquitto_pub -p "$MQTT_PORT" -q 1 -r -t "meters/$one/status" -m online || die "pub"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -r -t "meters/$two/status" -m offline || die "pub"
	watch_alerts
	ok askue --json job stale --date "$day" || die "job stale"
	check "$n_silent" "$(printf '%s' "$OUT" | jq .silent)" "silent meters"
	check null "$(printf '%s' "$OUT" | jq .publish_error)" "publish error"
	opened=$(printf '%s' "$OUT" | jq '.alerts_opened')
	check "$opened" "$(printf '%s' "$OUT" | jq .published)" "published"
	wait_alerts "$opened"
	# every silent meter is in exactly one open alert
	ok askue --json alerts --open
	check "$expected" "$(printf '%s' "$OUT" | jq -r '[.[].meters[]] | sort | .[]')" "meters in alerts"
	if ! printf '%s' "$OUT" | jq -e '.[] | select(.kind | startswith("outage"))' >/dev/null; then
		check silent_online "$(printf '%s' "$OUT" | jq -r --arg m "$one" '.[] | select(.subject == $m) | .kind')" "kind of $one"
		check silent_offline "$(printf '%s' "$OUT" | jq -r --arg m "$two" '.[] | select(.subject == $m) | .kind')" "kind of $two"
		grep -q "^askue/alerts/silent_online .*\"subject\":\"$one\"" "$T_TMP/alerts.txt" ||
			die "no message on askue/alerts/silent_online for $one"
	fi
	# the next hour: nothing new, nothing published
	ok askue --json job stale --date "$day" || die "job stale again"
	check 0 "$(printf '%s' "$OUT" | jq '.alerts_opened + .alerts_closed + .published')" "second run"
	# $one reports again (through the whole pipeline): its alert closes by itself
	now=$(date +%s)
	printf '{"meter":"%s","readings":[{"ts":%d,"1.8.0":99999.5}]}\n' "$one" "$((now - 60))" |
		mosquitto_pub -p "$MQTT_PORT" -q 1 -t "meters/$one/readings" -l || die "pub reading"
	for _ in $(seq 1 50); do
		[ "$(sqlite3 "$ASKUE_HOME/lastseen.db" "SELECT ts FROM lastseen WHERE meter = '$one'")" = "$((now - 60))" ] && break
		sleep 0.1
	done
	# the broker goes away: the ledger work is done all the same
	ingestor_stop
	servers_stop_all
	ok askue --json job stale || die "job stale without a broker"
	printf '%s' "$OUT" | jq -e '.publish_error | length > 0' >/dev/null || die "no publish error: $OUT"
	ok askue --json alerts
	[ -n "$(printf '%s' "$OUT" | jq -r --arg m "$one" '.[] | select((.meters | index($m)) and .status == "resolved")')" ] ||
		die "the alert of $one did not close: $OUT"
	# back: the next run publishes what was left
	mosquitto_start "$T_TMP/mq2" "allow_anonymous true" "user $(id -un)" || die "mosquitto again"
	write_config
	watch_alerts
	ok askue --json job stale || die "job stale after the broker came back"
	check null "$(printf '%s' "$OUT" | jq .publish_error)" "publish error after"
	[ "$(printf '%s' "$OUT" | jq .published)" -ge 1 ] || die "nothing published: $OUT"
	wait_alerts 1
	grep -q '"status":"resolved"' "$T_TMP/alerts.txt" || die "the close was not published"
}

# The jobs through the broker plugin (askue_auth, ASan build), with the
# credentials of their roles: `stale` reads the retained status a meter
# published with its own credentials, `jobs` publishes the alert; a wrong
# password is reported and the ledger work is done all the same.
test_job_roles_through_the_broker_plugin() {
	trap 'servers_stop_all' EXIT
	acc=$(askue subscriber add --name H --address A --substation PS-1 --date 2026-01-01) || die "subscriber"
	askue meter add --serial R1 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die "meter"
	askue meter install R1 "$acc" --date 2026-01-02 >/dev/null || die "install"
	pw_meter=$(askue meter credentials R1) && pw_jobs=$(askue service credentials jobs) &&
		pw_stale=$(askue service credentials stale) || die "credentials"
	mosquitto_start "$T_TMP/mq" "user $(id -un)" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_clientid_prefix true" || die "broker"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -r -u R1 -P "$pw_meter" -i R1 -t meters/R1/status -m online ||
		die "meter status"
	sqlite3 "$ASKUE_HOME/lastseen.db" "CREATE TABLE lastseen(meter TEXT PRIMARY KEY, ts INTEGER NOT NULL,
		arrived INTEGER NOT NULL, heard INTEGER NOT NULL) WITHOUT ROWID;
		INSERT INTO lastseen VALUES ('R1', strftime('%s', '2026-11-01'), 0, 0)" || die "lastseen"
	printf '[mqtt]\nport = %s\n[jobs]\npassword = %s\n[stale]\npassword = %s\nstatus_wait_ms = 500\n' \
		"$MQTT_PORT" "wrong" "$pw_stale" >"$ASKUE_HOME/askue.conf"
	ok askue --json job stale --date 2026-11-27 || die "job stale"
	check silent_online "$(printf '%s' "$OUT" | jq -r '.opened[0].kind')" "kind read with the stale role"
	printf '%s' "$OUT" | jq -e '.publish_error | test("authori[sz]")' >/dev/null ||
		die "a wrong jobs password is not reported: $OUT"
	printf '[mqtt]\nport = %s\n[jobs]\npassword = %s\n[stale]\npassword = %s\n' \
		"$MQTT_PORT" "$pw_jobs" "$pw_stale" >"$ASKUE_HOME/askue.conf"
	ok askue --json job stale --date 2026-11-27 || die "job stale again"
	check 1 "$(printf '%s' "$OUT" | jq .published)" "published with the jobs role"
	check null "$(printf '%s' "$OUT" | jq .publish_error)" "publish error"
	servers_stop_all
	! grep -E "ERROR: AddressSanitizer|runtime error" "$T_TMP/mq/mosquitto.out" || die "sanitizer report"
}

# A whole substation silent (the simulator's silent meters, registered at
# one substation after the run): one grouped alert listing them, none each.
test_sim_whole_substation_silent_one_grouped_alert() {
	stack_up
	day=$(date -d 'yesterday' +%F)
	"$ASKUE_BUILD/askue-sim" --no-auth --meters 10 --start "$(date -d '12 days ago' +%F)" --days 12 \
		--interval 1d --silent 0.5 --seed 11 --readings-out "$T_TMP/readings.csv" --quiet \
		>"$T_TMP/sim.log" 2>&1 || die "sim: $(cat "$T_TMP/sim.log")"
	wait_lastseen 10
	expected=$(expected_silent "$day")
	[ "$(echo "$expected" | grep -c .)" -ge 3 ] || die "the simulator made fewer than 3 silent meters"
	local i serial acc
	for i in $(seq 1 10); do
		serial=$(printf 'SIM%06d' "$i")
		acc=$(askue subscriber add --name "H $i" --address "Street $i" --date 2026-01-01 \
			--substation "$(echo "$expected" | grep -qx "$serial" && echo PS-DARK || echo PS-LIT)") || die "subscriber"
		askue meter add --serial "$serial" --model CE102 --commissioned 2025-01-01 --service-life 16 \
			>/dev/null || die "meter add"
		askue meter install "$serial" "$acc" --date 2026-01-02 >/dev/null || die "install"
	done
	ok askue --json job stale --date "$day" || die "job stale"
	check 1 "$(printf '%s' "$OUT" | jq .alerts_opened)" "alerts opened"
	check 1 "$(printf '%s' "$OUT" | jq .substations_out)" "substations out"
	ok askue --json alerts --open
	check outage_substation "$(printf '%s' "$OUT" | jq -r '.[0].kind')" "kind"
	check PS-DARK "$(printf '%s' "$OUT" | jq -r '.[0].subject')" "subject"
	check "$expected" "$(printf '%s' "$OUT" | jq -r '.[0].meters[]')" "meters of the outage"
}
