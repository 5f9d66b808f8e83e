# docs/analysts.md against a real InfluxDB: every ```sql block of the
# analyst guide is run against a database this test fills the way askue
# does (the simulator's readings, the rollup's daily and load, the forecast
# job, a few ingest points); each must answer without an error and with at
# least one series, so a query in the doc that names a wrong measurement,
# field, tag or value fails here.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

DOC=$ASKUE_SRC/docs/analysts.md

# The doc's examples: CE-000001..3 at ТП-101 (Центральный), CE-000004 at
# ТП-205 (Заречный); half-hourly readings 2026-10-01 .. 10-17 local; the
# rollup through 10-17; forecasts made on 10-15 and 10-16.
an_fill() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "user $(id -un)" || die "mosquitto"
	printf '[influx]\nurl = %s\n[mqtt]\nport = %s\n' "$INFLUX_URL" "$MQTT_PORT" >"$ASKUE_HOME/askue.conf"
	local i a
	askue tariff add Один --date 2026-01-01 >/dev/null || die tariff
	for i in 1 2 3 4; do
		if [ $i -le 3 ]; then set -- Центральный ТП-101; else set -- Заречный ТП-205; fi
		a=$(askue subscriber add --name "S$i" --address "a$i" --district "$1" --substation "$2" \
			--date 2026-01-01) || die "subscriber"
		askue tariff choose "$a" Один --from 2026-01-01 >/dev/null || die choose
		askue meter add --serial "CE-00000$i" --model CE102 --commissioned 2025-01-01 \
			--service-life 16 >/dev/null || die "meter"
		askue meter install "CE-00000$i" "$a" --date 2026-01-10 >/dev/null || die "install"
	done
	"$ASKUE_BUILD/askue-sim" --no-auth --meters 4 --serial-prefix CE- --days 17 --interval 30m \
		--start 2026-10-01 --two-zone 0.5 --port "$MQTT_PORT" --quiet \
		--readings-out "$T_TMP/r.csv" >/dev/null || die "sim"
	awk -F, '{ z = ($4 + $5 > 0) ? sprintf(",t1_wh=%si,t2_wh=%si", $4, $5) : ""
		printf "reading,meter=%s ai_wh=%si%s %s\n", $1, $3, z, $2 }' "$T_TMP/r.csv" >"$T_TMP/r.lp"
	curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @"$T_TMP/r.lp" || die "write"
	askue job rollup --period 2026-10 --date 2026-10-17 >/dev/null || die "rollup"
	askue job forecast --date 2026-10-15 >/dev/null || die "forecast 15"
	askue job forecast --date 2026-10-16 >/dev/null || die "forecast 16"
	# the ingestor's health points, every 10 s over an hour of 16.10 (UTC)
	awk 'BEGIN { t0 = 1792141200; for (i = 0; i < 360; i++)
		printf "ingest,client=askue-ingestor,host=h1 messages=%di,readings=%di,readings_per_s=%.1f,points_written=%di,points_per_s=%.1f,batches=%di,batch_ms_avg=%.1f,batch_ms_max=%di,write_retries=0i,spool_bytes=%di,spool_disk_bytes=5242880i,spool_full_waits=0i,connected=2i,rejected_messages=0i,rejected_readings=%di,rej_bad_ts=%di %d\n",
			100 * i, 100 * i, 10.0, 100 * i, 10.0, i, 40.5, 120, 4096 * (i % 5), int(i / 60), int(i / 60), t0 + 10 * i }' |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "ingest"
}

# The doc's sql blocks, one query per line (comment lines dropped, the
# lines of a query joined).
doc_queries() {
	awk '/^```sql/ { inq = 1; q = ""; next }
		inq && /^```/ { inq = 0; print q; next }
		inq && !/^[[:space:]]*--/ { sub(/^[[:space:]]+/, ""); q = q (q == "" ? "" : " ") $0 }' "$DOC"
}

test_analysts_every_query_of_the_guide_answers() {
	[ -r "$DOC" ] || die "no $DOC"
	an_fill
	local n=0 q answer bad=0
	while IFS= read -r q; do
		n=$((n + 1))
		case $q in *';'*) fail "query $n holds more than one statement: $q"; bad=1; continue ;; esac
		answer=$(influx_query "$q") || { fail "query $n: HTTP error: $q"; bad=1; continue; }
		if jq -e '.results[0].error // empty' <<<"$answer" >/dev/null; then
			fail "query $n: $(jq -r '.results[0].error' <<<"$answer"): $q"
			bad=1
		elif ! jq -e '.results[0].series | length > 0' <<<"$answer" >/dev/null; then
			fail "query $n: no series: $q"
			bad=1
		fi
	done < <(doc_queries)
	[ "$bad" = 0 ] || return 1
	# the guide covers every measurement
	[ "$n" -ge 20 ] || { fail "only $n queries in the guide"; return 1; }
	local m
	for m in reading daily load forecast ingest; do
		doc_queries | grep -q "FROM \"\\?$m\"\\?\\b" || { fail "no query over $m"; return 1; }
	done
}

# The answers the guide quotes are the ones InfluxDB gives.
test_analysts_worked_examples_hold() {
	an_fill
	# the forecast made on 16.10 for 17.10 against the load of 17.10: both there
	OUT=$(influx_query "SELECT sum(wh) FROM forecast WHERE level = 'all' AND horizon_d = '1' AND time >= '2026-10-16T21:00:00Z' AND time < '2026-10-17T21:00:00Z'")
	jqeq '.results[0].series[0].values[0][1] > 0' true || return 1
	OUT=$(influx_query "SELECT count(wh) FROM \"load\" WHERE level = 'all' AND time >= '2026-10-16T21:00:00Z' AND time < '2026-10-17T21:00:00Z'")
	jqeq '.results[0].series[0].values[0][1]' 48
}
