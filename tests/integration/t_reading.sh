# askue reading add against a real InfluxDB: a manual reading stored with
# the automatic ones (exact Wh, src), journaled; its validation; a
# correction needs a reason and keeps the old value in the journal; the
# rollup sees it.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

msk() { TZ=Europe/Moscow date -d "$1" +%s; }
db() { sqlite3 "$ASKUE_HOME/askue.db" "$1"; }

# M1 (one zone, capacity 100,000 kWh) and M2 (two zones) installed at A on
# 2026-01-10; M3 in stock.
rd_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n' "$INFLUX_URL" >"$ASKUE_HOME/askue.conf"
	A=$(askue subscriber add --name A --address a --date 2026-01-01) || die sub
	B=$(askue subscriber add --name B --address b --date 2026-01-01) || die sub
	askue meter add --serial M1 --model CE102 --commissioned 2025-01-01 --service-life 16 --capacity 100000 >/dev/null || die meter
	askue meter add --serial M2 --model CE301 --commissioned 2025-01-01 --service-life 16 --zones 2 >/dev/null || die meter
	askue meter add --serial M3 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die meter
	askue meter install M1 "$A" --date 2026-01-10 >/dev/null || die install
	askue meter install M2 "$B" --date 2026-01-10 >/dev/null || die install
}

point_of() { # SERIAL TS -> "ai_wh t1_wh t2_wh src"
	influx_query "SELECT ai_wh, t1_wh, t2_wh, src FROM reading WHERE meter = '$1' AND time = ${2}s" |
		jq -r '.results[0].series[0].values[0][1:] | map(tostring) | join(" ")'
}

test_reading_add_stores_exact_wh_at_the_end_of_the_day() {
	rd_up
	ok askue --json reading add M1 --date 2026-11-10 --reading 1234.567 --source subscriber || return 1
	# the end of 10.11 local (Moscow, UTC+3): 23:59:59 = 20:59:59 UTC
	ts=$(($(msk '2026-11-11 00:00') - 1))
	jqeq '.outcome' entered && jqeq '.ts' "$ts" && jqeq '.time' 2026-11-10T20:59:59Z && jqeq '.kwh' 1234.567 || return 1
	eq "1234567 null null subscriber" "$(point_of M1 "$ts")" "the point" || return 1
	ok askue --json events --type reading_entered --subject M1 || return 1
	jqeq 'length' 1 && jqeq '.[0].details.values.ai_wh' 1234567 && jqeq '.[0].details.ts' "$ts" || return 1
	jqeq '.[0].details.source' subscriber && jqeq '.[0].details.account' "$A" && jqeq '.[0].details.operator' tester || return 1
	# two zones, at a given time: T1 + T2 = 1.8.0
	ok askue --json reading add M2 --date 2026-11-10 --time 08:30 --reading 100.001,50.002 --source controller || return 1
	jqeq '.zones_kwh | map(tostring) | join(",")' 100.001,50.002 || return 1
	eq "150003 100001 50002 controller" "$(point_of M2 "$(msk '2026-11-10 08:30')")" "two-zone point"
}

test_reading_add_refuses_bad_input_saying_what() {
	rd_up
	fails 66 "meter M9: no such meter" askue reading add M9 --date 2026-11-10 --reading 1 --source subscriber || return 1
	fails 65 "--date 2099-01-01: in the future" askue reading add M1 --date 2099-01-01 --reading 1 --source subscriber || return 1
	fails 65 "--source 'neighbour'" askue reading add M1 --date 2026-11-10 --reading 1 --source neighbour || return 1
	fails 65 "--reading: meter M1: .*1-zone meter takes 1 value" askue reading add M1 --date 2026-11-10 --reading 1,2 --source subscriber || return 1
	fails 65 "--reading: meter M2: .*takes 2 values" askue reading add M2 --date 2026-11-10 --reading 1 --source subscriber || return 1
	fails 65 "--reading: meter M1: reading: .*12.3456" askue reading add M1 --date 2026-11-10 --reading 12.3456 --source subscriber || return 1
	fails 65 "100000.000 kWh is not below the register's capacity of meter M1 \(100000.000 kWh\)" \
		askue reading add M1 --date 2026-11-10 --reading 100000 --source subscriber || return 1
	fails 65 "meter M1: not installed on 2026-01-09" askue reading add M1 --date 2026-01-09 --reading 1 --source subscriber || return 1
	fails 65 "meter M3: not installed on 2026-11-10 \(status stock\)" askue reading add M3 --date 2026-11-10 --reading 1 --source subscriber || return 1
	fails 65 "--time '24:00'" askue reading add M1 --date 2026-11-10 --time 24:00 --reading 1 --source subscriber || return 1
	fails 64 "expected SERIAL" askue reading add M1 --date 2026-11-10 --reading 1 || return 1
	eq '{"results":[{"statement_id":0}]}' "$(influx_query "SELECT * FROM reading")" "nothing written" || return 1
	ok askue --json events --type reading_entered && jqeq 'length' 0 || return 1
	# InfluxDB away: nothing journaled either
	servers_stop_all
	fails 74 "the stored reading of M1" askue reading add M1 --date 2026-11-10 --reading 1 --source subscriber || return 1
	ok askue --json events --type reading_entered && jqeq 'length' 0
}

test_reading_correction_needs_a_reason_and_keeps_the_old_value() {
	rd_up
	ts=$(msk '2026-11-10 12:00')
	# the meter's own reading at 12:00
	printf 'reading,meter=M1 ai_wh=5000000i %s\n' "$ts" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die write
	fails 65 "meter M1 has a reading at 2026-11-10T09:00:00Z already: a correction needs --reason" \
		askue reading add M1 --date 2026-11-10 --time 12:00 --reading 5001.5 --source controller || return 1
	eq "5000000 null null null" "$(point_of M1 "$ts")" "untouched" || return 1
	ok askue --json reading add M1 --date 2026-11-10 --time 12:00 --reading 5001.5 --source controller \
		--reason "the meter's clock is 2 minutes late" || return 1
	jqeq '.outcome' corrected || return 1
	eq "5001500 null null controller" "$(point_of M1 "$ts")" "corrected point" || return 1
	ok askue --json events --type reading_corrected --subject M1 || return 1
	jqeq 'length' 1 && jqeq '.[0].details.old_values.ai_wh' 5000000 && jqeq '.[0].details.old_source' meter || return 1
	jqeq '.[0].details.values.ai_wh' 5001500 && jqeq '.[0].details.reason' "the meter's clock is 2 minutes late" || return 1
	# the same command again changes nothing
	ok askue --json reading add M1 --date 2026-11-10 --time 12:00 --reading 5001.5 --source controller \
		--reason "again" && jqeq '.outcome' unchanged || return 1
	ok askue --json events --subject M1 && jqeq '[.[] | select(.type | startswith("reading_"))] | length' 1
}

# A point written without its event (a crash between the two): the same
# command again journals it.
test_reading_rerun_journals_a_point_left_without_event() {
	rd_up
	ts=$(($(msk '2026-11-11 00:00') - 1))
	printf 'reading,meter=M1 ai_wh=1000i,src="subscriber" %s\n' "$ts" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die write
	ok askue --json reading add M1 --date 2026-11-10 --reading 1 --source subscriber && jqeq '.outcome' entered || return 1
	ok askue --json events --type reading_entered && jqeq 'length' 1 && jqeq '.[0].details.values.ai_wh' 1000
}

test_rollup_sees_a_manual_reading() {
	rd_up
	printf '[rollup]\nlate_hours = 0\n' >>"$ASKUE_HOME/askue.conf"
	# yesterday (local): the plain job's window; M2 silent that day
	D=$(TZ=Europe/Moscow date -d yesterday +%F)
	d0=$(msk "$D 00:00")
	printf 'reading,meter=M1 ai_wh=2000000i %s\nreading,meter=M1 ai_wh=2003000i %s\n' \
		$((d0 - 3600)) $((d0 + 3600)) |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die write
	ok askue --json job rollup --date "$D" || return 1
	jqeq '.rollup_days[0].installed_without_data' 1 || return 1
	# M1 is phoned in for the day: 2005.5 kWh at its end
	ok askue reading add M1 --date "$D" --reading 2005.5 --source subscriber || return 1
	eq "2|$((d0 + 86399))|2005500" "$(db "SELECT readings, last_ts, last_r0_wh FROM meter_day WHERE serial='M1' AND day='$D'")" \
		"meter_day updated at once" || return 1
	eq 0 "$(db "SELECT done FROM rollup_day WHERE day='$D'")" "marked for a redo" || return 1
	# the plain run redoes the day: daily M1 = 2005.5 - 2000 = 5,500 Wh, 2 readings
	ok askue --json job rollup || return 1
	jqeq "[.rollup_days[] | select(.day == \"$D\")] | length" 1 || return 1
	OUT=$(influx_query "SELECT wh, readings, estimated FROM daily WHERE meter = 'M1' AND time = ${d0}s")
	jqeq '.results[0].series[0].values[0][1:] | map(tostring) | join(" ")' "5500 2 false" || return 1
	ok askue --json events --type meter_data_received --subject "$D" && jqeq 'length' 1 || return 1
	# nothing left to redo
	ok askue --json job rollup && jqeq "[.rollup_days[] | select(.day == \"$D\")] | length" 0
}

# InfluxDB refusing the point (here a field type conflict on src) rolls the
# ledger back: no event for a reading that is not stored.
test_reading_refused_by_influx_is_not_journaled() {
	rd_up
	printf 'reading,meter=OTHER ai_wh=1i,src=1i %s\n' "$(msk '2026-11-10 03:00')" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die write
	fails 65 "the reading of M1: influx: write refused" \
		askue reading add M1 --date 2026-11-10 --reading 1 --source subscriber || return 1
	ok askue --json events --subject M1 && jqeq '[.[] | select(.type | startswith("reading_"))] | length' 0
}

test_reading_list_shows_the_source() {
	rd_up
	printf 'reading,meter=M2 ai_wh=150000i,t1_wh=100000i,t2_wh=50000i %s\n' "$(msk '2026-11-10 00:00')" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die write
	ok askue reading add M2 --date 2026-11-10 --reading 100.5,50.25 --source controller || return 1
	ok askue --json reading list M2 --from 2026-11-10 --to 2026-11-10 || return 1
	jqeq 'map("\(.time) \(.kwh) \(.t1_kwh) \(.t2_kwh) \(.source)") | join("; ")' \
		"2026-11-09T21:00:00Z 150 100 50 meter; 2026-11-10T20:59:59Z 150.75 100.5 50.25 controller" || return 1
	ok askue --json reading list M2 --from 2026-11-11 --to 2026-11-12 && jqeq 'length' 0 || return 1
	fails 65 "--to is before --from" askue reading list M2 --from 2026-11-12 --to 2026-11-11 || return 1
	fails 66 "no such meter" askue reading list M9
}
