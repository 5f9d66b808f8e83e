# The fault test of issue 3: 200,000 readings published by askue-sim
# through a real Mosquitto with the askue_auth plugin, taken by the ASan
# ingestor (spool_fsync on, its defaults otherwise) into a real InfluxDB,
# while the ingestor is killed with SIGKILL at random moments (at least 5
# times while the simulator publishes, restarted each time) and InfluxDB is
# stopped for 30 s in the middle. InfluxDB must end with exactly the
# readings the simulator's manifest lists — count, and every reading's
# values compared one by one — and the rejects must be empty.
#
# FAULT_SEED=N replays the same kill moments (the seed is printed).
# FAULT_DAYS=N makes the stream longer (400 meters x N readings; `make
# soak` runs 3,600 days: 1,440,000 readings, about 7 minutes of kills).

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

F_METERS=400          # 4 concentrators of 100 meters
F_DAYS=${FAULT_DAYS:-500} # daily readings: 400 x 500 = 200,000
F_BACKLOG=50          # readings per message: 4,000 messages
F_RATE=70             # messages/s: about 57 s of publishing
F_OUTAGE_AT=15        # InfluxDB stopped this many seconds into the stream..
F_OUTAGE_S=30         # ..for this long

ING_PID=""
SIM_PID=""
fault_cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	[ -n "$ING_PID" ] && kill -9 "$ING_PID" 2>/dev/null
	servers_stop_all
}

# The ledger: meters F000001.., every third with two zones, bound to
# concentrators C-1..C-4; the simulator's CSV concentrator,password,serial,zones.
fault_fleet() {
	local i c per=$((F_METERS / 4))
	{
		echo "serial,model,commissioned,service-life,zones,verification-interval"
		for i in $(seq 1 $F_METERS); do
			printf 'F%06d,T-1,2020-01-01,16,%d,16\n' "$i" $((i % 3 == 0 ? 2 : 1))
		done
	} >"$T_TMP/meters.csv"
	askue import meters "$T_TMP/meters.csv" >/dev/null || die "import meters"
	echo "concentrator,password,serial,zones" >"$T_TMP/conc.csv"
	for c in 1 2 3 4; do
		askue concentrator add "C-$c" >/dev/null || die "concentrator add"
		askue concentrator bind "C-$c" $(seq -f 'F%06g' $(((c - 1) * per + 1)) $((c * per))) \
			>/dev/null || die "concentrator bind"
		local pw
		pw=$(askue concentrator credentials "C-$c") || die "concentrator credentials"
		for i in $(seq $(((c - 1) * per + 1)) $((c * per))); do
			printf 'C-%d,%s,F%06d,%d\n' "$c" "$pw" "$i" $((i % 3 == 0 ? 2 : 1))
		done >>"$T_TMP/conc.csv"
	done
}

ING_LOG=""
CONNECTS=0
ingestor_start() {
	ING_LOG=$T_TMP/ingestor.log
	"$ASKUE_BUILD/askue-ingestor" >>"$ING_LOG" 2>&1 &
	ING_PID=$!
	local i n
	for i in $(seq 1 200); do
		n=$(grep -c 'mqtt: connected' "$ING_LOG")
		[ "$n" -gt "$CONNECTS" ] && break
		sleep 0.05
	done
	CONNECTS=$n
	[ "$CONNECTS" -gt 0 ] || { tail -20 "$ING_LOG" >&2; die "ingestor did not connect"; }
}

q1() {
	influx_query "$1" | jq -r '.results[0].series[0].values[0][1] // 0'
}

stored() { q1 'SELECT count(ai_wh) FROM reading'; }

test_200k_readings_sigkill_and_influx_outage_nothing_lost() {
	trap fault_cleanup EXIT
	local seed=${FAULT_SEED:-$((($$ * 7919 + $(date +%s)) % 32768))}
	RANDOM=$seed
	echo "seed $seed (FAULT_SEED=$seed replays the kill moments)"
	fault_fleet
	local pw_ing
	pw_ing=$(askue service credentials ingestor) || die "ingestor credentials"
	mosquitto_start "$T_TMP/mq" "user root" "plugin $ASKUE_BUILD/askue_auth.so" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "plugin_opt_reload_s 1" || die "mosquitto"
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	{
		echo "[mqtt]"
		echo "port = $MQTT_PORT"
		echo "keepalive_s = 5"
		echo "[influx]"
		echo "url = $INFLUX_URL"
		echo "timeout_ms = 2000"
		echo "[ingestor]"
		echo "username = askue-ingestor"
		echo "password = $pw_ing"
		echo "health_interval_s = 2"
	} >"$ASKUE_HOME/askue.conf"
	ingestor_start
	for _ in $(seq 1 100); do
		grep -q 'subscribed to' "$ING_LOG" && break
		sleep 0.1
	done
	grep -q 'subscribed to' "$ING_LOG" || die "ingestor did not subscribe"

	"$ASKUE_BUILD/askue-sim" --credentials "$T_TMP/conc.csv" --meters $F_METERS \
		--days $F_DAYS --interval 1d --backlog 1 --backlog-size $F_BACKLOG --rate $F_RATE \
		--port "$MQTT_PORT" --manifest "$T_TMP/manifest.json" \
		--readings-out "$T_TMP/want.csv" >"$T_TMP/sim.log" 2>&1 &
	SIM_PID=$!
	local t0 now kills=0 mid=0 outage=0 back=0 n
	t0=$(date +%s)
	# Kill at random moments 1.5-6.5 s apart while the simulator runs, and
	# once more after it finished (the spool and the broker's queue full).
	while :; do
		sleep "$((1 + RANDOM % 5)).$((RANDOM % 10))"
		now=$(($(date +%s) - t0))
		if [ $outage = 0 ] && [ "$now" -ge $F_OUTAGE_AT ]; then
			influxd_stop
			outage=$(date +%s)
			echo "t=${now}s: InfluxDB stopped"
		fi
		if [ $outage != 0 ] && [ $back = 0 ] && [ $(($(date +%s) - outage)) -ge $F_OUTAGE_S ]; then
			influxd_resume || die "influxd did not come back"
			back=1
			echo "t=${now}s: InfluxDB back after $(($(date +%s) - outage)) s"
		fi
		local running=0
		kill -0 "$SIM_PID" 2>/dev/null && running=1
		kill -9 "$ING_PID"
		wait "$ING_PID" 2>/dev/null
		ING_PID=""
		kills=$((kills + 1))
		[ $running = 1 ] && mid=$((mid + 1))
		n=$([ $back = 1 ] || [ $outage = 0 ] && stored || echo '(InfluxDB down)')
		echo "t=${now}s: SIGKILL $kills (simulator running: $running), stored $n"
		ingestor_start
		[ $running = 1 ] || [ $back = 0 ] || break
	done
	wait "$SIM_PID"
	local rc=$?
	SIM_PID=""
	[ $rc = 0 ] || { cat "$T_TMP/sim.log" >&2; die "askue-sim exited $rc"; }
	[ $mid -ge 5 ] || die "only $mid kills while the simulator published (want 5)"
	local want want_sum
	want=$(jq .readings "$T_TMP/manifest.json")
	want_sum=$(jq .ai_wh_sum "$T_TMP/manifest.json")
	eq $((F_METERS * F_DAYS)) "$want" "readings the simulator published" || exit 1
	eq "$(jq .messages "$T_TMP/manifest.json")" "$(jq .messages_acked "$T_TMP/manifest.json")" \
		"messages the broker acknowledged" || exit 1
	eq 0 "$(jq .refused "$T_TMP/manifest.json")" "refused connections" || exit 1
	echo "$kills kills ($mid while publishing); $(cat "$T_TMP/sim.log")"

	# Everything ends up in InfluxDB: wait until the count stops moving.
	local got last=-1 still=0
	for _ in $(seq 1 120); do
		got=$(stored)
		[ "$got" = "$want" ] && break
		if [ "$got" = "$last" ]; then still=$((still + 1)); else still=0; fi
		[ $still -ge 40 ] && break # 20 s without progress
		last=$got
		sleep 0.5
	done
	# Every reading, one by one: serial,ts,ai_wh,t1_wh,t2_wh
	influx_query 'SELECT ai_wh, t1_wh, t2_wh FROM reading GROUP BY meter' |
		jq -r '.results[0].series[]? | .tags.meter as $m | .values[] |
			"\($m),\(.[0]),\(.[1] // 0),\(.[2] // 0),\(.[3] // 0)"' |
		sort >"$T_TMP/got.csv"
	sort "$T_TMP/want.csv" >"$T_TMP/want.sorted"
	comm -23 "$T_TMP/want.sorted" "$T_TMP/got.csv" >"$T_TMP/missing.csv"
	comm -13 "$T_TMP/want.sorted" "$T_TMP/got.csv" >"$T_TMP/extra.csv"
	if [ -s "$T_TMP/missing.csv" ] || [ -s "$T_TMP/extra.csv" ]; then
		echo "    missing or different in InfluxDB: $(wc -l <"$T_TMP/missing.csv") of $want (serial,ts,ai_wh,t1_wh,t2_wh):" >&2
		head -20 "$T_TMP/missing.csv" | sed 's/^/      /' >&2
		echo "    in InfluxDB but not published: $(wc -l <"$T_TMP/extra.csv"):" >&2
		head -20 "$T_TMP/extra.csv" | sed 's/^/      /' >&2
		tail -5 "$ING_LOG" >&2
		die "InfluxDB holds $got readings, the simulator published $want"
	fi
	eq "$want" "$(stored)" "count(ai_wh)" || exit 1
	eq "$want_sum" "$(q1 'SELECT sum(ai_wh) FROM reading')" "sum(ai_wh)" || exit 1
	eq "$want" "$(wc -l <"$T_TMP/got.csv")" "distinct points" || exit 1
	# Nothing refused, nothing quarantined.
	local rej
	rej=$(cat "$ASKUE_HOME"/rejects/*.log 2>/dev/null | wc -l)
	[ "$rej" = 0 ] || { head -5 "$ASKUE_HOME"/rejects/*.log >&2; die "$rej rejects"; }
	# The kills were real crashes and the spool replayed after them.
	grep -q 'retrying (the spool keeps the points)' "$ING_LOG" || die "the outage was not seen"
	if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$ING_LOG"; then
		grep -m5 'ERROR: AddressSanitizer\|runtime error:' "$ING_LOG" >&2
		die "sanitizer report in the ingestor's log"
	fi
	kill "$ING_PID"
	wait "$ING_PID" || die "ingestor exit status on SIGTERM"
	ING_PID=""
}
