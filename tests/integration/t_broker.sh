# The broker plugin (broker-plugins/askue_auth.so, the ASan build) in the
# real Mosquitto: per-meter credentials from the ledger, the topic ACL of
# each identity, and ledger changes taken up without a restart.
#
# "Not delivered" is shown by order: a client publishes the forbidden
# message first and an allowed marker after it; once the marker has arrived
# at the ingestor's subscription, the forbidden one would have been before it.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

# At the end of a test: the broker stops cleanly (the plugin's cleanup
# joins its thread) and the sanitizers said nothing.
broker_down() {
	servers_stop_all
	! grep -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer" "$T_TMP/mqtt/mosquitto.out" ||
		die "sanitizer report from the broker with the plugin"
}

# broker_up [LEDGER]: Mosquitto with the plugin, checking the ledger every second.
broker_up() {
	trap broker_down EXIT
	# As root, Mosquitto drops to its own user unless told to stay.
	mosquitto_start "$T_TMP/mqtt" "user $(id -un)" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger ${1:-$ASKUE_HOME/askue.db}" "plugin_opt_reload_s 1" || die "at line $LINENO"
	MQTT_LOG=$T_TMP/mqtt/mosquitto.log
}

meter_new() {
	askue meter add --serial "$1" --model T-1 --commissioned 2024-01-01 --service-life 16 \
		>/dev/null || die "meter add $1"
}

# pub USER PASSWORD TOPIC PAYLOAD [options..]: one QoS 1 message
pub() {
	local user=$1 pass=$2 topic=$3 payload=$4
	shift 4
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -u "$user" -P "$pass" -i "$user" \
		-t "$topic" -m "$payload" "$@" 2>>"$T_TMP/pub.err"
}

# connects USER PASSWORD: the broker accepts the CONNECT
connects() {
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -u "$1" -P "$2" -i "$1" -t "meters/$1/status" \
		-m online -q 1 2>>"$T_TMP/pub.err"
}

# The ingestor role's credentials (before the broker starts) and its
# shared subscription; what it receives goes to ingest.out.
ingest_creds() { PW_ING=$(askue service credentials ingestor) || die "ingestor credentials"; }
ingest_start() {
	stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u askue-ingestor -P "$PW_ING" \
		-i askue-ingestor-1 -t '$share/ingest/meters/+/readings' -v -q 1 -d \
		>"$T_TMP/ingest.out" 2>&1 &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	wait_for 10 grep -q 'received SUBACK' "$T_TMP/ingest.out" || die "no SUBACK for the ingestor"
	grep -q 'Subscribed (mid: 1): 1' "$T_TMP/ingest.out" || die "ingestor subscription refused"
}

received() { grep -qxF "$1" "$T_TMP/ingest.out"; }
wait_received() { wait_for "${2:-10}" received "$1" || die "not received: $1"; }
logged() { grep -qF "$1" "$MQTT_LOG"; }
wait_logged() { wait_for "${2:-10}" logged "$1" || die "not in the broker log: $1"; }

test_meter_publishes_to_its_own_topics_only() {
	meter_new M1 && meter_new M2
	PW1=$(askue meter credentials M1) && askue meter credentials M2 >/dev/null || die "at line $LINENO"
	ingest_creds
	broker_up && ingest_start || die "at line $LINENO"
	pub M1 "$PW1" meters/M2/readings forged
	pub M1 "$PW1" meters/M1/status online -r
	pub M1 "$PW1" meters/M1/other x
	pub M1 "$PW1" meters/M1/readings mine || die "publish refused"
	wait_received "meters/M1/readings mine" || die "at line $LINENO"
	! received "meters/M2/readings forged" || die "M1 published as M2"
	logged "denied publish on 'meters/M2/readings' for client 'M1' user 'M1'" || die "no denial log"
	logged "denied publish on 'meters/M1/other'" || die "no denial of meters/M1/other"
	! logged "denied publish on 'meters/M1/status'" || die "status denied"
}

test_wrong_password_unknown_and_dismantled_meters_are_refused() {
	meter_new M1 && meter_new M2 && meter_new M3 && meter_new NOCRED
	PW1=$(askue meter credentials M1) && PW3=$(askue meter credentials M3) || die "at line $LINENO"
	PW2=$(askue meter credentials M2) || die "at line $LINENO"
	acct=$(askue subscriber add --name "Иванов И. И." --address "ул. Ленина, 1" --date 2024-01-01)
	askue meter install M3 "$acct" --date 2024-02-01 >/dev/null &&
		askue meter dismantle M3 --date 2025-02-01 >/dev/null || die "at line $LINENO"
	broker_up || die "at line $LINENO"
	connects M1 "$PW1" || die "M1 with its password refused"
	! connects M1 "$PW2" || die "M1 with M2's password let in"
	# the password with its last character changed (to x, or y when it is x)
	bad=${PW1%?}x
	[ "$bad" != "$PW1" ] || bad=${PW1%?}y
	! connects M1 "$bad" || die "M1 with a wrong password let in"
	! connects M1 "" || die "M1 without a password let in"
	! connects NOPE "$PW1" || die "unknown meter let in"
	! connects NOCRED "$PW1" || die "meter without credentials let in"
	! connects M3 "$PW3" || die "dismantled meter let in"
	wait_logged "refused client 'M1' user 'M1' from 127.0.0.1: wrong password"
	logged "user 'NOPE' from 127.0.0.1: unknown username" || die "unknown meter not logged"
	logged "user 'M3' from 127.0.0.1: unknown username" || die "dismantled meter not logged"
	! mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t meters/M1/readings -m anon 2>/dev/null ||
		die "anonymous client let in"
}

test_meter_cannot_subscribe() {
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	broker_up || die "at line $LINENO"
	for filter in 'meters/+/readings' 'meters/M1/readings' '#' '$share/ingest/meters/+/readings'; do
		out=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u M1 -P "$PW1" -i M1 -t "$filter" \
			-C 1 -W 5 2>&1)
		printf '%s' "$out" | grep -q 'All subscription requests were denied' ||
			die "M1 subscribed to $filter: $out"
		logged "denied subscribe on '$filter' for client 'M1' user 'M1'" ||
			die "denial of $filter not logged"
	done
}

test_concentrator_publishes_for_its_bound_meters_only() {
	meter_new M1 && meter_new M2 && meter_new M3
	askue concentrator add C-7 --substation PS-12 >/dev/null &&
		askue concentrator bind C-7 M1 M2 >/dev/null || die "at line $LINENO"
	PWC=$(askue concentrator credentials C-7) || die "at line $LINENO"
	ingest_creds
	broker_up && ingest_start || die "at line $LINENO"
	pub C-7 "$PWC" meters/M3/readings forged
	pub C-7 "$PWC" meters/M1/readings m1
	pub C-7 "$PWC" meters/M2/readings m2
	wait_received "meters/M2/readings m2" && received "meters/M1/readings m1" || die "at line $LINENO"
	! received "meters/M3/readings forged" || die "C-7 published for an unbound meter"
	logged "denied publish on 'meters/M3/readings' for client 'C-7' user 'C-7'" ||
		die "no denial log"
	out=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u C-7 -P "$PWC" -i C-7 \
		-t 'meters/+/readings' -C 1 -W 5 2>&1)
	printf '%s' "$out" | grep -q 'All subscription requests were denied' ||
		die "the concentrator subscribed: $out"
}

test_service_roles_have_exactly_their_topics() {
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	PWR=$(askue service credentials relay) && PWJ=$(askue service credentials jobs) &&
		PWS=$(askue service credentials stale) || die "at line $LINENO"
	ingest_creds
	broker_up && ingest_start || die "at line $LINENO"
	pub M1 "$PW1" meters/M1/status online -r
	pub askue-relay "$PWR" askue/events/meter_added '{}'
	pub askue-relay "$PWR" askue/alerts/silent x
	pub askue-jobs "$PWJ" askue/alerts/silent_meter '{}'
	pub askue-jobs "$PWJ" askue/events/invoice_paid x
	pub askue-ingestor "$PW_ING" meters/M1/readings forged
	pub M1 "$PW1" meters/M1/readings marker
	wait_received "meters/M1/readings marker" || die "at line $LINENO"
	! received "meters/M1/readings forged" || die "the ingestor published a reading"
	logged "denied publish on 'askue/alerts/silent' for client 'askue-relay'" || die "relay alert"
	logged "denied publish on 'askue/events/invoice_paid' for client 'askue-jobs'" || die "jobs event"
	logged "denied publish on 'meters/M1/readings' for client 'askue-ingestor'" || die "ingestor pub"
	! logged "denied publish on 'askue/events/meter_added'" || die "relay refused its events"
	! logged "denied publish on 'askue/alerts/silent_meter'" || die "jobs refused their alerts"
	# stale reads statuses (the retained one arrives), not readings
	out=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u askue-stale -P "$PWS" -i askue-stale \
		-t 'meters/+/status' -v -C 1 -W 5 2>&1)
	eq "meters/M1/status online" "$out" "stale's status subscription" || die "at line $LINENO"
	out=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u askue-stale -P "$PWS" -i askue-stale \
		-t 'meters/+/readings' -C 1 -W 5 2>&1)
	printf '%s' "$out" | grep -q 'All subscription requests were denied' ||
		die "stale subscribed to readings: $out"
	out=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u askue-ingestor -P "$PW_ING" -i ing-2 \
		-t '#' -C 1 -W 5 2>&1)
	printf '%s' "$out" | grep -q 'All subscription requests were denied' ||
		die "the ingestor subscribed to #: $out"
}

test_ledger_changes_take_effect_without_restart() {
	meter_new M1 && meter_new M2 && meter_new M9
	PW1=$(askue meter credentials M1) && PW2=$(askue meter credentials M2) || die "at line $LINENO"
	askue concentrator add C1 >/dev/null && askue concentrator bind C1 M1 >/dev/null &&
		PWC=$(askue concentrator credentials C1) || die "at line $LINENO"
	acct=$(askue subscriber add --name "Петров" --address "ул. Мира, 2" --date 2024-01-01)
	askue meter install M1 "$acct" --date 2024-02-01 >/dev/null || die "at line $LINENO"
	ingest_creds
	broker_up && ingest_start || die "at line $LINENO"
	pid=$MQTT_PID
	! connects M9 whatever || die "M9 let in before it had credentials"
	# a new meter's credentials
	PW9=$(askue meter credentials M9) || die "at line $LINENO"
	start=$(date +%s)
	wait_for 10 connects M9 "$PW9" || die "M9's new credentials not taken up within 10 s"
	echo "M9 let in after $(($(date +%s) - start)) s"
	# a new binding: C1 may now publish for M2
	pub C1 "$PWC" meters/M2/readings before
	askue concentrator bind C1 M2 >/dev/null || die "at line $LINENO"
	for i in $(seq 1 50); do
		pub C1 "$PWC" meters/M2/readings after
		wait_for 1 received "meters/M2/readings after" && break
	done
	received "meters/M2/readings after" || die "the binding not taken up within 50 s"
	! received "meters/M2/readings before" || die "C1 published for M2 before the binding"
	# a renewed password replaces the old one, and a session opened with
	# the old one is cut off
	mkfifo "$T_TMP/m2-lines"
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -u M2 -P "$PW2" -i M2 -t meters/M2/readings \
		-q 1 -l <"$T_TMP/m2-lines" >"$T_TMP/m2-session.out" 2>&1 &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	exec 3>"$T_TMP/m2-lines"
	wait_logged "as M2 (p2" || die "at line $LINENO"
	old=$PW2
	PW2=$(askue meter credentials M2) || die "at line $LINENO"
	wait_logged "Client M2 been disconnected by administrative action" ||
		die "the session with the old password was not cut off"
	exec 3>&-
	! connects M2 "$old" || die "M2's old password still works"
	connects M2 "$PW2" || die "M2's new password refused"
	# a dismantled meter is shut out
	askue meter dismantle M1 --date 2025-01-01 >/dev/null || die "at line $LINENO"
	wait_for 10 eval '! connects M1 "$PW1"' || die "dismantled M1 still let in after 10 s"
	eq "$pid" "$MQTT_PID" "broker pid" && kill -0 "$pid" || die "the broker restarted or died"
	true
}

test_broker_starts_before_the_ledger_exists() {
	broker_up "$ASKUE_HOME/askue.db" || die "at line $LINENO"
	wait_logged "cannot stat it" || die "at line $LINENO"
	! connects M1 anything || die "let in with no ledger"
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	wait_for 10 connects M1 "$PW1" || die "M1 not let in once the ledger exists"
}

test_bad_plugin_options_stop_the_broker() {
	for opts in "plugin_opt_reload_s 0" "plugin_opt_reload_s 1x" "plugin_opt_hold_s -1" \
		"plugin_opt_hold_s 3601" "plugin_opt_colour blue"; do
		dir=$T_TMP/bad-$RANDOM
		mkdir -p "$dir"
		printf '%s\n' "listener $(free_port) 127.0.0.1" "user $(id -un)" "log_dest stderr" \
			"plugin $ASKUE_BUILD/askue_auth.so" "plugin_opt_ledger $dir/x.db" "$opts" \
			>"$dir/mosquitto.conf"
		LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
			timeout 10 mosquitto -c "$dir/mosquitto.conf" >"$dir/out" 2>&1
		rc=$?
		[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || die "'$opts': broker exit $rc"
		grep -q "askue_auth: plugin_opt_" "$dir/out" || die "'$opts': no message: $(cat "$dir/out")"
	done
	dir=$T_TMP/noledger
	mkdir -p "$dir"
	printf '%s\n' "listener $(free_port) 127.0.0.1" "user $(id -un)" "log_dest stderr" \
		"plugin $ASKUE_BUILD/askue_auth.so" >"$dir/mosquitto.conf"
	LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
		timeout 10 mosquitto -c "$dir/mosquitto.conf" >"$dir/out" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || die "no ledger option: broker exit $rc"
	grep -q "plugin_opt_ledger PATH is required" "$dir/out" || die "no message: $(cat "$dir/out")"
}

test_a_locked_ledger_fails_closed_without_stalling_the_broker() {
	meter_new M1 && meter_new M2
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	# Another program holds the ledger for itself for 15 s (exclusive
	# locking mode: not even WAL readers get in) while the broker starts.
	{
		echo "PRAGMA locking_mode = EXCLUSIVE;"
		echo "BEGIN EXCLUSIVE;"
		echo "UPDATE meter SET model = 'T-2' WHERE serial = 'M2';"
		sleep 15
		echo "COMMIT;"
	} | sqlite3 "$ASKUE_HOME/askue.db" >"$T_TMP/locker.out" 2>&1 &
	locker=$!
	sleep 0.5
	broker_up || die "at line $LINENO"
	logged "cannot read it" || die "the locked ledger was not logged"
	# The reload thread keeps waiting for the lock (5 s at a time); the
	# broker answers at once, and lets nobody in. (Were it waiting for
	# SQLite, each refusal would take 5 s.)
	start=$(date +%s%N)
	for i in $(seq 1 10); do
		! connects M1 "$PW1" || die "M1 let in with no credentials loaded (try $i)"
	done
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "10 refusals in $ms ms while the ledger was locked"
	[ "$ms" -lt 8000 ] || die "10 refusals took $ms ms: the broker waited for SQLite"
	kill -0 "$locker" || die "the lock ended too early for the test to mean anything: $(cat "$T_TMP/locker.out")"
	wait "$locker"
	wait_for 15 connects M1 "$PW1" || die "M1 not let in after the lock ended"
}

test_production_config_with_tls() {
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	ingest_creds
	# Certificates as docs/broker.md makes them (an ECDSA broker key).
	cd "$T_TMP" || die "at line $LINENO"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 2 -nodes \
		-keyout askue-ca.key -out askue-ca.crt -subj "/O=test/CN=askue MQTT CA" 2>/dev/null &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes \
			-keyout broker.key -out broker.csr -subj "/O=test/CN=localhost" 2>/dev/null &&
		printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' \
			>broker.ext &&
		openssl x509 -req -in broker.csr -CA askue-ca.crt -CAkey askue-ca.key -CAcreateserial \
			-days 2 -sha256 -extfile broker.ext -out broker.crt 2>/dev/null &&
		openssl verify -CAfile askue-ca.crt broker.crt >/dev/null || die "making certificates"
	# deploy/mosquitto.conf with this test's paths and ports
	tls_port=$(free_port) && MQTT_PORT=$(free_port) || die "at line $LINENO"
	mkdir -p mqtt
	sed -e "s|/etc/mosquitto/certs|$T_TMP|" -e "s|^listener 8883$|listener $tls_port|" \
		-e "s|^listener 1883 127.0.0.1$|listener $MQTT_PORT 127.0.0.1|" \
		-e "s|^plugin .*|plugin $ASKUE_BUILD/askue_auth.so|" \
		-e "s|^plugin_opt_ledger .*|plugin_opt_ledger $ASKUE_HOME/askue.db|" \
		-e "s|^persistence_location .*|persistence_location $T_TMP/mqtt/|" \
		-e "s|^log_dest syslog|log_dest file $T_TMP/mqtt/mosquitto.log|" \
		"$(dirname "${BASH_SOURCE[0]}")/../../deploy/mosquitto.conf" >mqtt/mosquitto.conf
	echo "user $(id -un)" >>mqtt/mosquitto.conf
	grep -q "^listener $tls_port$" mqtt/mosquitto.conf && grep -q "asan/askue_auth.so" mqtt/mosquitto.conf ||
		die "deploy/mosquitto.conf did not take the test's paths"
	trap broker_down EXIT
	LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
		mosquitto -c mqtt/mosquitto.conf >>mqtt/mosquitto.out 2>&1 &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	MQTT_LOG=$T_TMP/mqtt/mosquitto.log
	wait_port "$tls_port" && wait_port "$MQTT_PORT" || die "the broker did not start: $(cat mqtt/*.out)"
	tls() { mosquitto_pub -h "$1" -p "$tls_port" --cafile askue-ca.crt -q 1 "${@:2}" 2>>pub.err; }
	# plugin_opt_hold_s 60: a meter is held (closed, no CONNACK) until an
	# ingestor has subscribed, so no reading goes to a topic nobody takes
	! tls 127.0.0.1 -u M1 -P "$PW1" -i M1 -t meters/M1/readings -m early ||
		die "a meter was let in before any ingestor subscribed"
	wait_logged "held client 'M1' user 'M1'" || die "at line $LINENO"
	ingest_start
	wait_logged "subscribed to the readings: meters and concentrators are let in" || die "at line $LINENO"
	tls 127.0.0.1 -u M1 -P "$PW1" -i M1 -t meters/M1/readings -m over-tls || die "TLS publish refused"
	tls localhost -u M1 -P "$PW1" -i M1-2 -t meters/M1/readings -m by-name || die "TLS by host name"
	wait_received "meters/M1/readings by-name" && received "meters/M1/readings over-tls" ||
		die "at line $LINENO"
	! tls 127.0.0.1 -u M1 -P "$PW1" -i someone-else -t meters/M1/readings -m x ||
		die "a client id not starting with the username was let in"
	logged "client id does not start with the username" || die "client id refusal not logged"
	! timeout 10 mosquitto_pub -h 127.0.0.1 -p "$tls_port" -u M1 -P "$PW1" -i M1 \
		-t meters/M1/readings -m plain 2>/dev/null || die "plain MQTT on the TLS port"
	! mosquitto_pub -h 127.0.0.1 -p "$tls_port" --cafile /etc/ssl/certs/ca-certificates.crt \
		-u M1 -P "$PW1" -i M1 -t meters/M1/readings -m x 2>/dev/null ||
		die "a client that does not trust askue's CA connected"
}

# The hold ends by itself after plugin_opt_hold_s when no ingestor comes
# (nothing would take the readings then either); services are never held.
test_meters_held_until_an_ingestor_subscribes_or_the_hold_ends() {
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	PWJ=$(askue service credentials jobs) || die "at line $LINENO"
	trap broker_down EXIT
	mosquitto_start "$T_TMP/mqtt" "user $(id -un)" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_hold_s 3" || die "at line $LINENO"
	MQTT_LOG=$T_TMP/mqtt/mosquitto.log
	local t0=$SECONDS
	! connects M1 "$PW1" || die "a meter was let in at once"
	connects askue-jobs "$PWJ" || die "a service was held"
	wait_for 10 connects M1 "$PW1" || die "still held after the hold ended"
	[ $((SECONDS - t0)) -ge 2 ] || die "let in after $((SECONDS - t0)) s, before the hold ended"
	logged "held client 'M1'" || die "the hold was not logged"
}

# A broker restart with the real ingestor in its default $share group:
# Mosquitto 2.0.11 restores the ingestor's sessions without their shared
# subscription, so a reading a meter publishes before the ingestor has
# subscribed again would be dropped. With plugin_opt_hold_s the meter,
# retrying as meters do, gets in only after the ingestor is back: every
# reading arrives in InfluxDB.
test_broker_restart_with_the_hold_loses_no_reading() {
	meter_new M1
	PW1=$(askue meter credentials M1) || die "at line $LINENO"
	ingest_creds
	trap 'kill "$ING_PID" 2>/dev/null; wait "$ING_PID" 2>/dev/null; broker_down' EXIT
	mosquitto_start "$T_TMP/mqtt" "user $(id -un)" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_hold_s 30" || die "at line $LINENO"
	MQTT_LOG=$T_TMP/mqtt/mosquitto.log
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[mqtt]\nport = %s\n[influx]\nurl = %s\n[ingestor]\nusername = askue-ingestor\npassword = %s\nconnections = 2\nbatch_ms = 100\n' \
		"$MQTT_PORT" "$INFLUX_URL" "$PW_ING" >"$ASKUE_HOME/askue.conf"
	"$ASKUE_BUILD/askue-ingestor" >>"$T_TMP/ingestor.log" 2>&1 &
	ING_PID=$!
	wait_for 10 grep -q 'subscribed to \$share/ingest' "$T_TMP/ingestor.log" || die "ingestor"
	local now
	now=$(date +%s)
	# meter_pub TS KWH: publish until the broker takes it (a meter retries)
	meter_pub() {
		local i
		for i in $(seq 1 300); do
			pub M1 "$PW1" meters/M1/readings "{\"meter\":\"M1\",\"readings\":[{\"ts\":$1,\"1.8.0\":$2}]}" &&
				return 0
			sleep 0.1
		done
		return 1
	}
	stored() { [ "$(influx_query 'SELECT count(ai_wh) FROM reading' | jq -r '.results[0].series[0].values[0][1] // 0')" = "$1" ]; }
	meter_pub $((now - 120)) 1.5 || die "first reading"
	wait_for 20 stored 1 || die "the first reading was not stored"
	# a graceful restart: the broker saves the sessions and comes back at once
	mosquitto_restart || die "the broker did not come back"
	meter_pub $((now - 60)) 2.5 || die "the meter never got in again"
	wait_for 20 stored 2 || die "the reading after the restart was lost"
	logged "held client 'M1'" || die "the meter was not held after the restart"
	grep -q 'subscribed to the readings: meters and concentrators are let in' "$MQTT_LOG" ||
		die "at line $LINENO"
}
