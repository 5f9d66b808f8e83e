# askue-sim against a real Mosquitto: it publishes exactly what its manifest
# says (a mosquitto_sub counts and reads every message), the faults asked
# for are in the stream, per-meter credentials go through the askue_auth
# plugin and a wrong one is refused.
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

sim() { "$ASKUE_BUILD/askue-sim" "$@"; }

# As root the broker would switch to user mosquitto and lose its log in our
# private temporary directory.
AS_ME="user $(id -un)"

# broker_anon: a broker taking anonymous clients, and a subscriber writing
# "topic payload" lines to $T_TMP/sub.txt.
broker_anon() {
	trap 'servers_stop_all; [ -n "${SUB_PID:-}" ] && kill $SUB_PID 2>/dev/null' EXIT
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "log_type subscribe" "$AS_ME" || return 1
	subscribe
}

subscribe() {
	mosquitto_sub -p "$MQTT_PORT" -q 1 -v -t 'meters/+/readings' >"$T_TMP/sub.txt" 2>&1 &
	SUB_PID=$!
	# Subscribed when the broker logged it (log_type subscribe).
	for _ in $(seq 1 100); do
		grep -q 'meters/+/readings' "$T_TMP/mq/mosquitto.log" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "mosquitto_sub did not subscribe"
}

# received N: wait until the subscriber has N lines (and no more arrive).
received() {
	local n=$1 i
	for i in $(seq 1 200); do
		[ "$(wc -l <"$T_TMP/sub.txt")" -ge "$n" ] && break
		sleep 0.05
	done
	sleep 0.2
	eq "$n" "$(wc -l <"$T_TMP/sub.txt")" "messages the subscriber received"
}

# A message that keeps the contract: its meter is the topic's, every reading
# has an integer ts and a non-negative 1.8.0 with at most 3 decimals.
JQ_GOOD='def good($s): type == "object" and .meter == $s and (.readings | type) == "array" and
	all(.readings[]; (.ts | type) == "number" and (."1.8.0" | type) == "number" and
		."1.8.0" >= 0 and ((."1.8.0" * 1000) - ((."1.8.0" * 1000) | round) | fabs) < 0.01);
	def wh: . * 1000 | round;
	def messages: capture("^meters/(?<s>[^/]+)/readings (?<p>.*)$") | .s as $s |
		(.p | fromjson?) | select(good($s));'

# The good messages, one JSON line each, in arrival order.
good_messages() { jq -R -c "$JQ_GOOD messages" "$T_TMP/sub.txt"; }

# The good readings in the stream, one line each: serial,ts,ai_wh,t1_wh,t2_wh.
good_readings() {
	jq -R -r "$JQ_GOOD"' messages | .meter as $m | .readings[] |
		"\($m),\(.ts),\(."1.8.0" | wh),\((."1.8.1" // 0) | wh),\((."1.8.2" // 0) | wh)"' "$T_TMP/sub.txt"
}

test_sim_publishes_exactly_its_manifest() {
	broker_anon || return 1
	ok sim --no-auth --meters 20 --serial-prefix T1- --days 31 --start 2026-10-01 --port "$MQTT_PORT" \
		--two-zone 0.5 --manifest "$T_TMP/m.json" --readings-out "$T_TMP/r.csv" || return 1
	printf '%s' "$OUT" | grep -q '620 messages (620 acknowledged), 620 readings' ||
		fail "summary: $OUT" || return 1
	OUT=$(cat "$T_TMP/m.json")
	jqeq .messages 620 && jqeq .messages_acked 620 && jqeq .readings 620 && jqeq .meters 20 &&
		jqeq .connections 20 || return 1
	received 620 || return 1
	# Every reading in the stream is in the readings file and back.
	good_readings | sort >"$T_TMP/seen.csv"
	sort "$T_TMP/r.csv" >"$T_TMP/want.csv"
	cmp -s "$T_TMP/seen.csv" "$T_TMP/want.csv" || fail "stream differs from the readings file" || return 1
	# The contract's shape: topic serial = meter, 3 decimals, T1 + T2 = total, ts on the day.
	head -1 "$T_TMP/sub.txt" | grep -Eq '^meters/T1-[0-9]{6}/readings \{"meter": "T1-[0-9]{6}", "readings": \[\{"ts": [0-9]+, "1\.8\.0": [0-9]+\.[0-9]{3}' ||
		fail "payload shape: $(head -1 "$T_TMP/sub.txt")" || return 1
	awk -F, '$4 + $5 != 0 && $4 + $5 != $3 {bad++} END {exit bad > 0}' "$T_TMP/want.csv" ||
		fail "a two-zone reading where 1.8.1 + 1.8.2 != 1.8.0" || return 1
	grep -q ',0,0$' "$T_TMP/want.csv" && grep -qv ',0,0$' "$T_TMP/want.csv" ||
		fail "expected both one- and two-zone meters" || return 1
	# Registers never go back without the fault, and grow.
	sort -t, -k1,1 -k2,2n "$T_TMP/want.csv" |
		awk -F, '$1 == m && $3 < last {bad++} {m = $1; last = $3} END {exit bad > 0}' ||
		fail "a register went back" || return 1
	eq "$(jq .ai_wh_sum "$T_TMP/m.json")" "$(awk -F, '{s += $3} END {printf "%d", s}' "$T_TMP/want.csv")" "ai_wh_sum"
}

test_sim_faults_are_what_was_asked() {
	broker_anon || return 1
	ok sim --no-auth --meters 40 --serial-prefix T2- --days 30 --start 2026-10-01 --port "$MQTT_PORT" \
		--silent 0.2 --duplicates 0.1 --reorder 0.2 --backlog 0.2 --backlog-size 6 \
		--malformed 0.05 --backwards 0.2 --manifest "$T_TMP/m.json" --readings-out "$T_TMP/r.csv" ||
		return 1
	OUT=$(cat "$T_TMP/m.json")
	local messages readings dups bad backlog silent back reordered
	messages=$(jq .messages <<<"$OUT")
	readings=$(jq .readings <<<"$OUT")
	dups=$(jq .duplicates <<<"$OUT")
	bad=$(jq .malformed <<<"$OUT")
	backlog=$(jq .backlog_messages <<<"$OUT")
	silent=$(jq .silent_meters <<<"$OUT")
	back=$(jq .backwards <<<"$OUT")
	reordered=$(jq .reordered <<<"$OUT")
	for v in dups bad backlog silent back reordered; do
		[ "${!v}" -gt 0 ] || fail "no $v in $OUT" || return 1
	done
	received "$messages" || return 1
	# Duplicates: whole messages sent twice.
	eq "$dups" "$(good_messages | sort | uniq -d | wc -l)" "duplicate messages" || return 1
	# Malformed: messages that break the contract, all of them refused whole.
	eq "$((messages - bad))" "$(good_messages | wc -l)" "well-formed messages" || return 1
	# Backlog dumps: messages of several readings (shuffled inside).
	eq "$backlog" "$(good_messages | jq -c 'select((.readings | length) > 1)' | sort -u | wc -l)" \
		"backlog dumps" || return 1
	# The distinct good readings are exactly the readings file.
	good_readings | sort -u >"$T_TMP/seen.csv"
	sort "$T_TMP/r.csv" >"$T_TMP/want.csv"
	eq "$readings" "$(wc -l <"$T_TMP/want.csv")" "readings file" || return 1
	cmp -s "$T_TMP/seen.csv" "$T_TMP/want.csv" || fail "stream differs from the readings file" || return 1
	# Silent meters: their last reading is before the last day.
	local last
	last=$(cut -d, -f2 "$T_TMP/want.csv" | sort -n | tail -1)
	eq "$silent" "$(sort -t, -k1,1 -k2,2n "$T_TMP/want.csv" |
		awk -F, -v last="$last" '$1 != m && NR > 1 && lt < last {n++} {m = $1; lt = $2}
			END {if (lt < last) n++; print n + 0}')" "silent meters" || return 1
	# Backwards: a reading lower than the one before it (by time).
	eq "$back" "$(sort -t, -k1,1 -k2,2n "$T_TMP/want.csv" |
		awk -F, '$1 == m && $3 < v {n++} {m = $1; v = $3} END {print n + 0}')" "registers going back" || return 1
	# Out of order: some meter's readings arrive with a later ts before an earlier one.
	good_readings >"$T_TMP/order.csv"
	awk -F, '$1 in t && $2 < t[$1] {n++} {if ($2 > t[$1]) t[$1] = $2} END {exit n == 0}' "$T_TMP/order.csv" ||
		fail "no reading arrived out of order"
}

test_sim_concentrators_half_hourly() {
	broker_anon || return 1
	ok sim --no-auth --meters 30 --concentrators 3 --serial-prefix T3- --days 2 --interval 30m \
		--start @1793480400 --port "$MQTT_PORT" --rate 5000 --manifest "$T_TMP/m.json" || return 1
	OUT=$(cat "$T_TMP/m.json")
	jqeq .connections 3 && jqeq .messages 2880 && jqeq .steps 96 && jqeq .interval_s 1800 || return 1
	# Rate: 2880 messages at 5000/s take about 0.58 s.
	jq -e '.seconds > 0.5' <<<"$OUT" >/dev/null || fail "rate not kept: $OUT" || return 1
	received 2880 || return 1
	eq 30 "$(cut -d' ' -f1 "$T_TMP/sub.txt" | sort -u | wc -l)" "meters seen" || return 1
	eq 1793480400 "$(good_readings | cut -d, -f2 | sort -n | head -1 | awk '{print $1 - 1800}')" "first ts"
}

test_sim_credentials_through_the_plugin() {
	[ -f "$ASKUE_BUILD/askue_auth.so" ] || { echo "no plugin built: skipped"; return 0; }
	trap 'servers_stop_all; [ -n "${SUB_PID:-}" ] && kill $SUB_PID 2>/dev/null' EXIT
	local creds=$T_TMP/creds.csv s script
	script="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/sim/credentials.sh"
	for s in P-1 P-2 P-3; do
		ok askue meter add --serial "$s" --model M --commissioned 2026-01-01 --service-life 16 || return 1
	done
	ok "$script" P-1 P-2:1 P-3 || return 1
	printf '%s\n' "$OUT" >"$creds"
	eq 4 "$(grep -c '^P-[123],[a-z2-7]\{32\},1$\|^serial,password,zones$' "$creds")" "credentials.sh rows" || return 1
	ok askue concentrator add C-1 || return 1
	ok askue meter add --serial P-4 --model M --commissioned 2026-01-01 --service-life 16 || return 1
	ok askue meter add --serial P-5 --model M --commissioned 2026-01-01 --service-life 16 --zones 2 || return 1
	ok askue concentrator bind C-1 P-4 P-5 || return 1
	ok "$script" --concentrator C-1 || return 1
	printf '%s\n' "$OUT" >"$T_TMP/conc.csv"
	eq 2 "$(grep -c '^C-1,[a-z2-7]\{32\},P-[45],[12]$' "$T_TMP/conc.csv")" "concentrator rows" || return 1
	mosquitto_start "$T_TMP/mq" "plugin $ASKUE_BUILD/askue_auth.so" "log_type subscribe" "$AS_ME" \
		"plugin_opt_ledger $ASKUE_HOME/askue.db" "allow_anonymous false" || return 1
	ok sim --credentials "$creds" --days 5 --port "$MQTT_PORT" --manifest "$T_TMP/m.json" --status || return 1
	OUT=$(cat "$T_TMP/m.json")
	jqeq .messages_acked 21 && jqeq .status_messages 6 && jqeq .refused 0 || return 1
	# Its readings and its status are the meter's own topics: nothing denied.
	grep -q 'denied' "$T_TMP/mq/mosquitto.log" && fail "$(grep denied "$T_TMP/mq/mosquitto.log" | head -3)" && return 1
	ok sim --credentials "$T_TMP/conc.csv" --days 5 --port "$MQTT_PORT" --manifest "$T_TMP/c.json" || return 1
	OUT=$(cat "$T_TMP/c.json")
	jqeq .connections 1 && jqeq .meters 2 && jqeq .messages_acked 10 || return 1
	# A wrong password is refused, and the simulator says so.
	sed 's/^P-2,[a-z0-9]*/P-2,wrongwrongwrong/' "$creds" >"$T_TMP/bad.csv"
	fails 77 "refused" sim --credentials "$T_TMP/bad.csv" --days 2 --port "$MQTT_PORT" \
		--manifest "$T_TMP/b.json" || return 1
	OUT=$(cat "$T_TMP/b.json")
	jqeq .refused 1 && jqeq .messages 4
}

test_sim_reads_gzip_data_and_checks_input() {
	local sample
	sample=$ASKUE_SRC/../shared/data/sgsc_dev_halfhourly.csv.gz
	if [ -r "$sample" ]; then
		zcat "$sample" | head -20000 | gzip -c >"$T_TMP/p.csv.gz"
	else # no data set beside the tree: the same format, made up
		awk 'BEGIN { print "customer_id,timestamp,kwh"
			for (c = 1; c <= 3; c++) for (d = 1; d <= 3; d++) for (h = 0; h < 48; h++)
				printf "%d,2013-06-%02d %02d:%02d,%.3f\n", c, d, h / 2, (h % 2) * 30, 0.1 + (h % 7) / 20 }' |
			gzip -c >"$T_TMP/p.csv.gz"
	fi
	broker_anon || return 1
	ok sim --no-auth --meters 3 --days 1 --interval 1h --port "$MQTT_PORT" --data "$T_TMP/p.csv.gz" \
		--profiles 2 --quiet || return 1
	eq "" "$OUT" "--quiet output" || return 1
	fails 64 "give --credentials FILE or --no-auth" sim --meters 3 || return 1
	fails 64 "fraction" sim --no-auth --meters 3 --silent 1.5 || return 1
	fails 64 "multiple of 30m" sim --no-auth --meters 3 --interval 7m || return 1
	fails - "credentials .*nosuch" sim --credentials "$T_TMP/nosuch.csv" || return 1
	printf 'serial,secret\nA,b\n' >"$T_TMP/badhdr.csv"
	fails - "unknown column 'secret'" sim --credentials "$T_TMP/badhdr.csv" --port "$MQTT_PORT" || return 1
	printf 'serial,password\nmeters/x,b\n' >"$T_TMP/badserial.csv"
	fails - "cannot be in a topic" sim --credentials "$T_TMP/badserial.csv" --port "$MQTT_PORT" || return 1
	printf 'id,when,kwh\n' >"$T_TMP/bad.csv"
	fails - "expected customer_id,timestamp,kwh" sim --no-auth --meters 1 --data "$T_TMP/bad.csv" || return 1
	ASKUE_SIM_DATA=$T_TMP/bad.csv fails - "expected customer_id" sim --no-auth --meters 1
}

test_sim_status_online_offline() {
	broker_anon || return 1
	ok sim --no-auth --meters 10 --serial-prefix T5- --days 9 --port "$MQTT_PORT" --status \
		--silent 0.3 --manifest "$T_TMP/m.json" || return 1
	OUT=$(cat "$T_TMP/m.json")
	jqeq .status_messages 20 || return 1
	local silent readings
	silent=$(jq .silent_meters <<<"$OUT")
	readings=$(jq .readings <<<"$OUT")
	[ "$silent" -gt 0 ] || fail "no silent meter" || return 1
	jqeq .messages "$((readings + 20))" || return 1
	# What stays retained: every meter offline.
	mosquitto_sub -p "$MQTT_PORT" -t 'meters/+/status' -v --retained-only -W 3 >"$T_TMP/st.txt" 2>/dev/null
	eq 10 "$(grep -c ' offline$' "$T_TMP/st.txt")" "meters retained offline"
}
