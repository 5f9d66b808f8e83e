# askue meter check against a real InfluxDB: the reading an operator saw,
# against the stored readings around the visit (interpolated), and the
# field_check alert beyond the tolerance.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

# Readings of meter F1 as the ingestor writes them (DESIGN.md `reading`):
# 2026-11-10 00:00 MSK 1000.000 kWh, 2026-11-11 00:00 MSK 1024.000 kWh.
fc_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n[fieldcheck]\ntolerance_wh = 500\n' "$INFLUX_URL" >"$ASKUE_HOME/askue.conf"
	t0=$(TZ=Europe/Moscow date -d '2026-11-10 00:00' +%s)
	t1=$(TZ=Europe/Moscow date -d '2026-11-11 00:00' +%s)
	printf 'reading,meter=F1 ai_wh=1000000i %s\nreading,meter=F1 ai_wh=1024000i %s\n' "$t0" "$t1" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
	askue meter add --serial F1 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die "meter"
}

test_field_check_within_and_beyond_tolerance() {
	fc_up
	# at 12:00 the stored value is 1012.000 kWh (interpolated)
	ok askue --json meter check F1 --date 2026-11-10 --time 12:00 --reading 1012.3 || return 1
	jqeq '.stored_from_kwh' 1012 && jqeq '.beyond_tolerance' false && jqeq '.alert' null || return 1
	# a date only: anywhere within the day's readings is right
	ok askue --json meter check F1 --date 2026-11-10 --reading 1020 || return 1
	jqeq '.beyond_tolerance' false && jqeq '.difference_kwh' 0 || return 1
	# beyond: an alert opens, once
	ok askue --json meter check F1 --date 2026-11-10 --time 12:00 --reading 1013.5 || return 1
	jqeq '.beyond_tolerance' true && jqeq '.difference_kwh' 1.5 || return 1
	id=$(printf '%s' "$OUT" | jq .alert)
	[ "$id" != null ] || { fail "no alert"; return 1; }
	ok askue --json meter check F1 --date 2026-11-10 --time 12:00 --reading 1013.5 && jqeq '.alert' null || return 1
	ok askue --json alerts --kind field_check || return 1
	jqeq 'length' 1 && jqeq '.[0].subject' F1 && jqeq '.[0].details.difference_kwh' 1.5 || return 1
	ok askue --json events --type meter_checked && jqeq 'length' 4 || return 1
	# after the last reading the meter went on counting: only a lower bound
	ok askue --json meter check F1 --date 2026-11-20 --reading 1100 && jqeq '.beyond_tolerance' false || return 1
	ok askue --json meter check F1 --date 2026-11-20 --reading 900 && jqeq '.difference_kwh' -124 || return 1
}

test_field_check_refuses_bad_input() {
	fc_up
	fails 66 "F9" askue meter check F9 --date 2026-11-10 --reading 1 || return 1
	fails 65 "--time '25:00'" askue meter check F1 --date 2026-11-10 --time 25:00 --reading 1 || return 1
	fails 65 "reading" askue meter check F1 --date 2026-11-10 --reading abc || return 1
	fails 64 "expected SERIAL" askue meter check F1 --reading 1 || return 1
	servers_stop_all
	fails 74 "stored readings of F1" askue meter check F1 --date 2026-11-10 --reading 1
}

# report completeness: of the meters installed on the day, those with a
# reading stamped that day (local), by district and substation.
test_completeness_by_district_and_substation() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n' "$INFLUX_URL" >"$ASKUE_HOME/askue.conf"
	local i acc
	for i in 1 2 3 4 5; do
		acc=$(askue subscriber add --name "H$i" --address "A$i" --district "$([ $i -le 3 ] && echo North || echo South)" \
			--substation "PS-$i$([ $i -le 2 ] && echo x)" --date 2026-01-01) || return 1
		[ $i -le 2 ] && acc_x=$acc
		askue meter add --serial "C$i" --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || return 1
		askue meter install "C$i" "$acc" --date 2026-01-10 >/dev/null || return 1
	done
	# C5 was dismantled before the day: it does not count
	askue meter dismantle C5 --date 2026-01-20 >/dev/null || return 1
	day_start=$(TZ=Europe/Moscow date -d '2026-11-10 00:00' +%s)
	# C1 and C3 report on the day (C3 at 23:59 local); C2 the day before (23:59 local)
	printf 'reading,meter=C1 ai_wh=1i %s\nreading,meter=C3 ai_wh=1i %s\nreading,meter=C2 ai_wh=1i %s\n' \
		"$((day_start + 3600))" "$((day_start + 86399))" "$((day_start - 1))" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
	ok askue --json report completeness --date 2026-11-10 --csv "$T_TMP/c.csv" --missing-csv "$T_TMP/m.csv" || return 1
	jqeq '.installed' 4 && jqeq '.with_reading' 2 && jqeq '.share_pct' 50 || return 1
	jqeq '[.districts[] | "\(.district):\(.with_reading)/\(.installed)"] | join(" ")' "North:2/3 South:0/1" || return 1
	jqeq '[.missing[].serial] | join(",")' C2,C4 || return 1
	jqeq '.substations | length' 4 || return 1
	grep -qx 'district,"North","",3,2,66.67' "$T_TMP/c.csv" || { fail "csv: $(cat "$T_TMP/c.csv")"; return 1; }
	grep -qx 'total,"","",4,2,50.00' "$T_TMP/c.csv" || { fail "csv total: $(cat "$T_TMP/c.csv")"; return 1; }
	eq 3 "$(wc -l <"$T_TMP/m.csv")" "missing csv lines" || return 1
	ok askue report completeness --date 2026-11-10 && printf '%s' "$OUT" | grep -q '2 of 4 installed meters'
}
