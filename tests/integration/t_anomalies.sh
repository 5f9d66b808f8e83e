# askue job anomalies against the real ledger, InfluxDB and Mosquitto:
# seven meters with known behaviour (meter_day rows as the rollup writes
# them, raw readings in InfluxDB) open exactly the expected alerts, once;
# a rerun changes nothing; an operator's resolved episode does not come
# back; when the data is normal again every alert closes by itself.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

check() { eq "$@" || exit 1; }

an_up() {
	trap servers_stop_all EXIT
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "user $(id -un)" >/dev/null || die "mosquitto"
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	cat >"$ASKUE_HOME/askue.conf" <<CONF
[mqtt]
port = $MQTT_PORT
[influx]
url = $INFLUX_URL
[jobs]
publish_timeout_ms = 3000
CONF
	local s acc
	for s in ${METERS:-N1 B1 J1 S1 T1 A1 R1}; do
		acc=$(askue subscriber add --name "H $s" --address "Street $s" --district North \
			--substation PS-1 --date 2025-12-01) || die "subscriber"
		askue meter add --serial "$s" --model CE102 --commissioned 2025-01-01 --service-life 16 \
			>/dev/null || die "meter add"
		askue meter install "$s" "$acc" --date 2025-12-01 >/dev/null || die "install"
	done
}

# meter_day rows of day index FROM..TO (0 = 2026-01-01, 59 = 2026-03-01),
# one reading at each local (Moscow, UTC+3) midnight, as the rollup keeps
# them. Consumption a day: 10 kWh, except
#   B1  day 58 (2026-02-28): the register set back by 5 kWh
#   S1  days 52..59: no growth (stuck for 8 days)
#   T1  days 32..59: 4 kWh (40 % of its own past: a drop)
#   T2  days 32..59: 3 kWh (30 %: a stronger drop; only with METERS)
#   A1  days 32..59: 0.5 kWh (5 %: away)
#   J1  day 59: 21.5 kWh, its first and last raw reading (below) at 00:30
#       and 12:00
# From day 60 on every meter consumes 10 kWh a day again.
meter_days() {
	awk -v from="$1" -v to="$2" -v meters="${METERS:-N1 B1 J1 S1 T1 A1 R1}" 'BEGIN {
		nm = split(meters, m, " ")
		for (k = 1; k <= nm; k++) {
			reg = 1000000
			for (i = 0; i <= to; i++) {
				s = m[k]; c = 10000
				if (s == "B1" && i == 58) c = -5000
				if (s == "S1" && i >= 52 && i <= 59) c = 0
				if (s == "T1" && i >= 32 && i <= 59) c = 4000
				if (s == "T2" && i >= 32 && i <= 59) c = 3000
				if (s == "A1" && i >= 32 && i <= 59) c = 500
				if (s == "J1" && i == 59) c = 21500
				reg += c
				if (i < from) continue
				ts = "CAST(strftime(\"%s\", \"2026-01-01\", \"+" i " days\") AS INTEGER) - 10800"
				fts = ts; f = reg; lts = ts; l = reg
				if (s == "J1" && i == 59) { fts = ts " + 1800"; f = reg - 21000; lts = ts " + 43200" }
				printf "INSERT OR REPLACE INTO meter_day(serial, day, readings, first_ts, first_r0_wh, last_ts, last_r0_wh)" \
				       " VALUES (\"%s\", date(\"2026-01-01\", \"+%d days\"), 1, %s, %d, %s, %d);\n", s, i, fts, f, lts, l
			}
		}
	}' | sqlite3 "$ASKUE_HOME/askue.db" || die "meter_day"
}

# Raw readings of 2026-03-01 (Moscow): J1 20 kWh within one hour (20 kW,
# beyond the 15 kW of a household connection: only the raw pass sees it);
# R1 exporting 0.5 kWh (2.8.0 growing) at a household.
raw_readings() {
	local d=$(( $(TZ=Europe/Moscow date -d '2026-03-01 00:00' +%s) ))
	printf '%s\n' \
		"reading,meter=J1 ai_wh=1590500i $((d + 1800))" \
		"reading,meter=J1 ai_wh=1610500i $((d + 5400))" \
		"reading,meter=J1 ai_wh=1611500i $((d + 43200))" \
		"reading,meter=R1 ai_wh=1590000i,ae_wh=1000i $((d + 21600))" \
		"reading,meter=R1 ai_wh=1595000i,ae_wh=1500i $((d + 64800))" \
		"reading,meter=N1 ai_wh=1590000i,ae_wh=7i $((d + 3600))" \
		"reading,meter=N1 ai_wh=1595000i,ae_wh=7i $((d + 7200))" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
}

active_kinds() {
	ok askue --json alerts --open || die "alerts"
	printf '%s' "$OUT" | jq -r '[.[] | "\(.kind):\(.subject)"] | sort | join(" ")'
}

test_anomalies_open_once_hold_and_close() {
	an_up
	meter_days 0 59
	raw_readings
	stdbuf -oL mosquitto_sub -p "$MQTT_PORT" -q 1 -v -t 'askue/alerts/#' >"$T_TMP/alerts.txt" 2>&1 &
	SERVERS_PIDS="$SERVERS_PIDS $!"
	sleep 0.3
	# a dry run first: says what it would do, writes nothing
	ok askue --json job anomalies --date 2026-03-01 --dry-run || die "dry run"
	check 5 "$(printf '%s' "$OUT" | jq .alerts_opened)" "dry run: would open"
	check "0 0" "$(sql 'SELECT count(*) FROM alert') $(sql 'SELECT count(*) FROM anomaly')" "dry run wrote"

	# a row of 367 days before: pruned by the run (366 are kept)
	sql "INSERT INTO anomaly VALUES ('2025-02-27', 'N1', 'drop', '2025-02-20', 0.5, '{}')"
	ok askue --json job anomalies --date 2026-03-01 || die "job"
	check 0 "$(sql "SELECT count(*) FROM anomaly WHERE day < '2026-01-01'")" "old rows pruned"
	# the rollup keeps 60 days ([rollup] keep_days): the whole window of 60,
	# the drop's recent days as set (28)
	check "60 28" "$(printf '%s' "$OUT" | jq -r '"\(.window_days) \(.drop_recent_days)"')" "window"
	check 7 "$(printf '%s' "$OUT" | jq .installed)" "installed"
	check 7 "$(printf '%s' "$OUT" | jq .meters_with_days)" "meters with days"
	check 3 "$(printf '%s' "$OUT" | jq .raw_meters)" "meters with raw readings"
	check '{"backwards":1,"jump":1,"stuck":1,"drop":1,"reverse":1,"away":1}' \
		"$(printf '%s' "$OUT" | jq -c .found)" "found"
	check 0 "$(printf '%s' "$OUT" | jq .fleet_ratio_pct)" "fleet ratio (too few meters for peers)"
	check 5 "$(printf '%s' "$OUT" | jq .alerts_opened)" "opened"
	check 5 "$(printf '%s' "$OUT" | jq .published)" "published"
	check "anomaly_backwards:B1 anomaly_drop:T1 anomaly_jump:J1 anomaly_reverse:R1 anomaly_stuck:S1" \
		"$(active_kinds)" "alerts"
	# the figures, hand-computed
	ok askue --json alerts --open || die "alerts"
	check "5 20 20 8 4 40 0.5" "$(printf '%s' "$OUT" | jq -r '[(.[] | select(.kind == "anomaly_backwards") | .details.back_kwh),
		(.[] | select(.kind == "anomaly_jump") | .details.step_kwh, .details.kw),
		(.[] | select(.kind == "anomaly_stuck") | .details.days),
		(.[] | select(.kind == "anomaly_drop") | .details.recent_kwh_day, .details.ratio_pct),
		(.[] | select(.kind == "anomaly_reverse") | .details.export_kwh)] | map(tostring) | join(" ")')" \
		"details"
	check "2026-02-28 2026-02-22" "$(printf '%s' "$OUT" | jq -r '[(.[] | select(.kind == "anomaly_backwards") | .ref),
		(.[] | select(.kind == "anomaly_stuck") | .ref)] | join(" ")')" "refs (the day it began)"
	wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/alerts.txt') -ge 5 ]" || die "MQTT: $(cat "$T_TMP/alerts.txt")"
	grep -q '^askue/alerts/anomaly_drop .*"subject":"T1"' "$T_TMP/alerts.txt" || die "no anomaly_drop message"

	# the analysts' list and the anomaly measurement
	ok askue --json anomalies --date 2026-03-01 || die "anomalies"
	check 6 "$(printf '%s' "$OUT" | jq length)" "rows"
	check "A1 away 2026-03-01" "$(printf '%s' "$OUT" | jq -r '.[] | select(.kind == "away") | "\(.serial) \(.kind) \(.since)"')" "away"
	ok askue anomalies --date 2026-03-01 --kind drop --csv || die "csv"
	check 2 "$(printf '%s\n' "$OUT" | wc -l)" "csv lines"
	printf '%s' "$OUT" | grep -q '^"2026-03-01","T1",' || die "csv: $OUT"
	out=$(influx_query "SELECT count(score) FROM anomaly GROUP BY kind") || die "influx"
	check 6 "$(printf '%s' "$out" | jq '[.results[0].series[].values[0][1]] | add')" "anomaly points"
	out=$(influx_query "SELECT ratio_pct FROM anomaly WHERE meter = 'T1'")
	check 40 "$(printf '%s' "$out" | jq '.results[0].series[0].values[0][1]')" "T1 ratio in InfluxDB"

	# the same day again: nothing changes
	ok askue --json job anomalies --date 2026-03-01 || die "rerun"
	check "0 0 0" "$(printf '%s' "$OUT" | jq -r '"\(.alerts_opened) \(.alerts_closed) \(.published)"')" "rerun"
	check 6 "$(sql "SELECT count(*) FROM anomaly")" "rows after rerun"
	check 5 "$(sql "SELECT count(*) FROM alert")" "alerts after rerun"

	# an inspector found T1 in order: the episode does not come back
	id=$(askue --json alerts --kind anomaly_drop | jq '.[0].id')
	askue alert resolve "$id" --outcome "inspected: no interference" >/dev/null || die "resolve"
	meter_days 60 62 # 2026-03-02..04: S1 grows again, T1 still low in its 28 days
	ok askue --json job anomalies --date 2026-03-04 || die "job 03-04"
	check 1 "$(printf '%s' "$OUT" | jq .resolved_by_operator)" "the resolved drop"
	check "anomaly_backwards:B1 anomaly_jump:J1 anomaly_reverse:R1" "$(active_kinds)" "03-04: events held, stuck closed"
	check "anomaly_stuck:S1:no longer seen" "$(printf '%s' "$OUT" | jq -r '.closed[] | "\(.kind):\(.subject):\(.outcome)"')" "closed"

	# a month later everything is normal: the rest close by themselves
	meter_days 60 89
	ok askue --json job anomalies --date 2026-03-31 || die "job 03-31"
	check 3 "$(printf '%s' "$OUT" | jq .alerts_closed)" "closed on 03-31"
	check "" "$(active_kinds)" "no active alert"
	check 0 "$(sql "SELECT count(*) FROM anomaly WHERE day = '2026-03-31'")" "rows on 03-31"
	ok askue --json job anomalies --date 2026-03-31 || die "rerun 03-31"
	check "0 0" "$(printf '%s' "$OUT" | jq -r '"\(.alerts_opened) \(.alerts_closed)"')" "rerun 03-31"
	ok askue --json events --type alert_closed || die "events"
	check 4 "$(printf '%s' "$OUT" | jq length)" "alert_closed events"
}

test_anomalies_refuse_bad_input_and_need_influxdb() {
	an_up
	fails 64 "--kind 'theft'" askue anomalies --kind theft || return 1
	fails 64 "choose one" askue --json anomalies --csv || return 1
	fails 65 "--date" askue anomalies --date 2026-02-30 || return 1
	ok askue --json anomalies --date 2026-03-01 && jqeq length 0 || return 1
	meter_days 0 59
	servers_stop_all
	fails 74 "anomalies 2026-03-01: readings" askue job anomalies --date 2026-03-01 || return 1
	eq 0 "$(sql 'SELECT count(*) FROM alert')" "alerts without InfluxDB" || return 1
	# raw = false: meter_day alone (the jump of J1 and the export of R1 are not seen);
	# the points cannot be written without InfluxDB: exit 74, the ledger work done
	printf '[anomalies]\nraw = false\n' >>"$ASKUE_HOME/askue.conf"
	fails 74 "anomaly points" askue job anomalies --date 2026-03-01 || return 1
	eq "anomaly_backwards:B1 anomaly_drop:T1 anomaly_stuck:S1" "$(active_kinds)" "meter_day only" || return 1
}

# New drop alerts are capped per day, the strongest first; a rerun of the
# day opens no more (it did: each rerun opened the next ones); the next day
# has its own quota.
test_anomalies_drop_alerts_capped_per_day() {
	METERS="N1 T1 T2"
	an_up
	printf '[rollup]\nkeep_days = 60\n[anomalies]\nraw = false\ndrop_alerts_max = 1\n' >>"$ASKUE_HOME/askue.conf"
	meter_days 0 59
	ok askue --json job anomalies --date 2026-03-01 || return 1
	jqeq .window_days 60 && jqeq .drop_recent_days 28 || return 1
	jqeq .found.drop 2 && jqeq .alerts_opened 1 && jqeq .drop_alerts_waiting 1 || return 1
	jqeq '.opened[0].subject' T2 && jqeq '.opened[0].ratio_pct' 30 || return 1
	ok askue --json job anomalies --date 2026-03-01 || return 1
	jqeq .alerts_opened 0 && jqeq .drop_alerts_waiting 1 || return 1
	meter_days 60 60 # 2026-03-02: both still low in their 28 days
	ok askue --json job anomalies --date 2026-03-02 || return 1
	jqeq .alerts_opened 1 && jqeq '.opened[0].subject' T1 && jqeq .drop_alerts_waiting 0 || return 1
	eq "anomaly_drop:T1 anomaly_drop:T2" "$(active_kinds)" "drop alerts" || return 1
}
