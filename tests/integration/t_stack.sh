# deploy/stack: up/status/down on free ports with the test's ASKUE_HOME,
# idempotent up, a killed part restarted, two stacks side by side, and the
# simulator's readings in InfluxDB through the whole stack.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

# A port below the ephemeral range (32768-60999 here) that no socket uses in
# any state: servers.sh's pick can collide with a client's local port under
# a load test running beside us, and the server then fails to bind.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}
STACK="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/stack"

# stack_env: free ports for this test's stack; stopped when the test ends.
stack_env() {
	ASKUE_MQTT_PORT=$(free_port)
	ASKUE_INFLUX_PORT=$(free_port)
	export ASKUE_MQTT_PORT ASKUE_INFLUX_PORT
	trap '"$STACK" down >/dev/null 2>&1' EXIT
}

pid() { cat "$ASKUE_HOME/run/$1.pid"; }
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"; }

test_stack_up_status_down() {
	stack_env
	ok "$STACK" up || return 1
	ok "$STACK" status || return 1
	printf '%s' "$OUT" | grep -q '^influxd .*running' || fail "status: $OUT" || return 1
	printf '%s' "$OUT" | grep -q '^mosquitto .*running' || fail "status: $OUT" || return 1
	grep -qx "port = $ASKUE_MQTT_PORT" "$ASKUE_HOME/askue.conf" || fail "askue.conf mqtt port" || return 1
	grep -qx "url = http://127.0.0.1:$ASKUE_INFLUX_PORT" "$ASKUE_HOME/askue.conf" || fail "influx url" || return 1
	# Every service role has its MQTT account: the jobs publish alerts, the
	# stale job reads status (they were refused before: no [jobs]/[stale]).
	local role
	for role in ingestor relay jobs stale; do
		grep -qx "\[$role\]" "$ASKUE_HOME/askue.conf" || fail "askue.conf: no [$role]" || return 1
		grep -qx "username = askue-$role" "$ASKUE_HOME/askue.conf" || fail "askue.conf: no askue-$role" || return 1
	done
	local pw
	pw=$(awk '/^\[jobs\]/ { on = 1 } on && /^password = / { print $3; exit }' "$ASKUE_HOME/askue.conf")
	ok mosquitto_pub -p "$ASKUE_MQTT_PORT" -u askue-jobs -P "$pw" -q 1 -t askue/alerts/test -m x || return 1
	fails 5 . mosquitto_pub -p "$ASKUE_MQTT_PORT" -u askue-jobs -P "${pw}x" -q 1 -t askue/alerts/test -m x || return 1
	# Every program finds the stack's askue.conf.
	ok askue config example || return 1
	curl -sf -G "http://127.0.0.1:$ASKUE_INFLUX_PORT/query" --data-urlencode "q=SHOW DATABASES" |
		grep -q '"askue"' || fail "no database askue" || return 1
	ss -Htln "sport = :$ASKUE_MQTT_PORT" | grep -q 127.0.0.1 || fail "MQTT not on loopback" || return 1
	local p1 p2
	p1=$(pid influxd)
	p2=$(pid mosquitto)
	ok "$STACK" down || return 1
	alive "$p1" && fail "influxd $p1 still runs" && return 1
	alive "$p2" && fail "mosquitto $p2 still runs" && return 1
	"$STACK" status >/dev/null
	eq 3 $? "status exit code when stopped"
}

test_stack_up_is_idempotent() {
	stack_env
	ok "$STACK" up || return 1
	local before after
	before=$(cat "$ASKUE_HOME"/run/*.pid | sort)
	ok "$STACK" up || return 1
	printf '%s' "$OUT" | grep -q 'started' && fail "second up started something: $OUT" && return 1
	after=$(cat "$ASKUE_HOME"/run/*.pid | sort)
	eq "$before" "$after" "pids after a second up"
}

test_stack_up_restarts_a_killed_part() {
	stack_env
	ok "$STACK" up || return 1
	local m i
	m=$(pid mosquitto)
	i=$(pid influxd)
	kill -KILL "$m" "$i"
	sleep 0.2
	OUT=$("$STACK" status)
	eq 3 $? "status exit code with a part down" || return 1
	printf '%s' "$OUT" | grep -q '^mosquitto *stopped' || fail "status after kill: $OUT" || return 1
	ok "$STACK" up || return 1
	printf '%s' "$OUT" | grep -q 'mosquitto: started' || fail "up did not restart mosquitto: $OUT" || return 1
	[ "$(pid mosquitto)" != "$m" ] || fail "same mosquitto pid" || return 1
	ok "$STACK" status || return 1
	# The data survived: the database is there, and so is a point written before.
	curl -sf -G "http://127.0.0.1:$ASKUE_INFLUX_PORT/query" --data-urlencode "q=SHOW DATABASES" |
		grep -q '"askue"'
}

test_stack_two_side_by_side() {
	stack_env
	local h2=$T_TMP/home2 m2 i2
	m2=$(free_port)
	i2=$(free_port)
	# $h2 is expanded now: the trap runs after this function's locals are gone.
	trap "\"\$STACK\" down >/dev/null 2>&1; ASKUE_HOME='$h2' \"\$STACK\" down >/dev/null 2>&1" EXIT
	ok "$STACK" up || return 1
	ok env ASKUE_HOME="$h2" ASKUE_MQTT_PORT="$m2" ASKUE_INFLUX_PORT="$i2" "$STACK" up || return 1
	ok "$STACK" status || return 1
	ok env ASKUE_HOME="$h2" ASKUE_MQTT_PORT="$m2" ASKUE_INFLUX_PORT="$i2" "$STACK" status || return 1
	local r1 r2
	r1=$(sed -n 's/^bind-address = "127.0.0.1:\([0-9]*\)"$/\1/p' "$ASKUE_HOME/influxdb/influxdb.conf")
	r2=$(sed -n 's/^bind-address = "127.0.0.1:\([0-9]*\)"$/\1/p' "$h2/influxdb/influxdb.conf")
	[ -n "$r1" ] && [ "$r1" != "$r2" ] || fail "RPC ports '$r1' and '$r2'" || return 1
	# A third stack on a port the first holds is refused, clearly, and
	# starts nothing.
	fails 1 "port $ASKUE_MQTT_PORT .*in use" env ASKUE_HOME="$T_TMP/home3" \
		ASKUE_INFLUX_PORT="$(free_port)" "$STACK" up || return 1
	! pgrep -f "$T_TMP/home3/" >/dev/null || fail "a refused up left a part running" || return 1
}

test_stack_refuses_bad_input() {
	fails 1 "bad port" env ASKUE_MQTT_PORT=x18 "$STACK" status || return 1
	fails 1 "both" env ASKUE_MQTT_PORT=20001 ASKUE_INFLUX_PORT=20001 "$STACK" up || return 1
	fails 64 "usage" "$STACK" restart || return 1
	# status and down on a home never used create nothing.
	fails 3 "no stack" env ASKUE_HOME="$T_TMP/none" "$STACK" status || return 1
	ok env ASKUE_HOME="$T_TMP/none" "$STACK" down || return 1
	[ ! -e "$T_TMP/none" ] || fail "down created $T_TMP/none"
}

# The whole path: meters with credentials -> broker (plugin) -> ingestor ->
# InfluxDB holds exactly what the simulator says it published.
test_stack_sim_readings_reach_influx() {
	[ -x "$ASKUE_BUILD/askue-ingestor" ] || { echo "no ingestor built: skipped"; return 0; }
	stack_env
	ok "$STACK" up || return 1
	local creds=$T_TMP/creds.csv i s
	ok askue meter add --serial E2E-1 --model M --commissioned 2026-01-01 --service-life 16 --zones 2 || return 1
	ok askue meter add --serial 'E2E 2' --model M --commissioned 2026-01-01 --service-life 16 || return 1
	echo "serial,password,zones" >"$creds"
	for s in E2E-1 'E2E 2'; do
		if [ -f "$ASKUE_BUILD/askue_auth.so" ]; then
			ok askue meter credentials "$s" || return 1
		else
			OUT=x
		fi
		echo "$s,$OUT,$([ "$s" = E2E-1 ] && echo 2 || echo 1)" >>"$creds"
	done
	[ -f "$ASKUE_BUILD/askue_auth.so" ] && "$STACK" reload && sleep 1.5
	ok "$ASKUE_BUILD/askue-sim" --credentials "$creds" --start 2026-10-01 --days 10 --interval 1h \
		--manifest "$T_TMP/m.json" --readings-out "$T_TMP/r.csv" || return 1
	local want got
	want=$(jq .readings "$T_TMP/m.json")
	eq 480 "$want" "readings published" || return 1
	for i in $(seq 1 100); do
		got=$(influx_q "SELECT count(ai_wh) FROM reading WHERE meter =~ /^E2E/" |
			jq -r '.results[0].series[0].values[0][1] // 0')
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	eq "$want" "$got" "readings in InfluxDB" || return 1
	# Values too: every (meter, ts, 1.8.0 Wh, T1, T2) as published.
	influx_q "SELECT ai_wh, t1_wh, t2_wh FROM reading WHERE meter =~ /^E2E/ GROUP BY meter" |
		jq -r '.results[0].series[] | .tags.meter as $m | .values[] |
			"\($m),\(.[0]),\(.[1]),\(.[2] // 0),\(.[3] // 0)"' | sort >"$T_TMP/influx.csv"
	sort "$T_TMP/r.csv" >"$T_TMP/published.csv"
	cmp -s "$T_TMP/influx.csv" "$T_TMP/published.csv" ||
		fail "InfluxDB differs from the manifest: $(diff "$T_TMP/published.csv" "$T_TMP/influx.csv" | head -5)"
}

influx_q() {
	curl -sf -G "http://127.0.0.1:$ASKUE_INFLUX_PORT/query" --data-urlencode db=askue \
		--data-urlencode epoch=s --data-urlencode "q=$1"
}
