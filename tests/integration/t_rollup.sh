# askue job rollup against a real InfluxDB: a local day (Europe/Moscow,
# UTC+3) of readings into meter_day and the `daily` measurement, the rerun
# that changes nothing, and the day's one journal event. Every expected
# value is computed by hand in the comment beside it.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

msk() { TZ=Europe/Moscow date -d "$1" +%s; }

db() { sqlite3 "$ASKUE_HOME/askue.db" "$1"; }

write_lines() {
	curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
}

# R1 (one zone) at North/PS-1 on tariff Один; R2 (two zones) at South on
# Двухзонный; R3 installed but silent; X9 reports but is not in the card file.
ru_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n' "$INFLUX_URL" >"$ASKUE_HOME/askue.conf"
	A=$(askue subscriber add --name A --address a --district North --substation PS-1 --date 2026-01-01) || die sub
	B=$(askue subscriber add --name B --address b --district South --date 2026-01-01) || die sub
	C=$(askue subscriber add --name C --address c --date 2026-01-01) || die sub
	askue tariff add Один --date 2026-01-01 >/dev/null || die tariff
	askue tariff add Двухзонный --zones day=07-23,night=23-07 --date 2026-01-01 >/dev/null || die tariff
	askue tariff choose "$A" Один --from 2026-01-01 >/dev/null || die choose
	askue tariff choose "$B" Двухзонный --from 2026-01-01 >/dev/null || die choose
	askue meter add --serial R1 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die meter
	askue meter add --serial R2 --model CE301 --commissioned 2025-01-01 --service-life 16 --zones 2 >/dev/null || die meter
	askue meter add --serial R3 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die meter
	askue meter install R1 "$A" --date 2026-01-10 >/dev/null || die install
	askue meter install R2 "$B" --date 2026-01-10 >/dev/null || die install
	askue meter install R3 "$C" --date 2026-01-10 >/dev/null || die install
	D0=$(msk '2026-11-10 00:00')
	D1=$(msk '2026-11-11 00:00')
	# R1: 09.11 20:00 1000.000 | 10.11 01:00 (UTC still 09.11) 1001.500,
	# 12:00 1005.000, 23:30 1010.250 | 11.11 02:00 (UTC still 10.11) 1011.000
	# R2: exactly at the midnights: 10.11 00:00 T1 100.000 T2 50.000,
	# 11.11 00:00 T1 103.000 T2 51.500
	write_lines <<EOF
reading,meter=R1 ai_wh=1000000i $(msk '2026-11-09 20:00')
reading,meter=R1 ai_wh=1001500i $(msk '2026-11-10 01:00')
reading,meter=R1 ai_wh=1005000i $(msk '2026-11-10 12:00')
reading,meter=R1 ai_wh=1010250i $(msk '2026-11-10 23:30')
reading,meter=R1 ai_wh=1011000i $(msk '2026-11-11 02:00')
reading,meter=R2 ai_wh=150000i,t1_wh=100000i,t2_wh=50000i $D0
reading,meter=R2 ai_wh=154500i,t1_wh=103000i,t2_wh=51500i $D1
reading,meter=X9 ai_wh=7i $(msk '2026-11-10 10:00')
EOF
}

daily_of() {
	influx_query "SELECT wh, t1_wh, t2_wh, estimated, readings, account, tariff, district, substation FROM daily WHERE meter = '$1'"
}

test_rollup_day_boundaries_meter_day_and_daily() {
	ru_up
	ok askue --json job rollup --date 2026-11-09 || return 1
	ok askue --json job rollup --date 2026-11-10 || return 1
	jqeq '.rollup_days[0].day' 2026-11-10 && jqeq '.rollup_days[0].meters_with_data' 3 || return 1
	# R1 3 + R2 1 (its 11.11 00:00 reading belongs to 11.11) + X9 1
	jqeq '.rollup_days[0].readings' 5 && jqeq '.rollup_days[0].installed' 3 || return 1
	jqeq '.rollup_days[0].installed_without_data' 1 && jqeq '.rollup_days[0].not_installed' 1 || return 1
	# meter_day: the local day, not the UTC one
	eq "3|$(msk '2026-11-10 01:00')|1001500|$(msk '2026-11-10 23:30')|1010250" \
		"$(db "SELECT readings, first_ts, first_r0_wh, last_ts, last_r0_wh FROM meter_day WHERE serial='R1' AND day='2026-11-10'")" \
		"R1 meter_day" || return 1
	eq "1|$D0|150000|100000|50000||$D0" \
		"$(db "SELECT readings, first_ts, first_r0_wh, first_r1_wh, first_r2_wh, first_r3_wh, last_ts FROM meter_day WHERE serial='R2' AND day='2026-11-10'")" \
		"R2 meter_day" || return 1
	eq "1|$(msk '2026-11-09 20:00')" \
		"$(db "SELECT readings, last_ts FROM meter_day WHERE serial='R1' AND day='2026-11-09'")" "R1 09.11" || return 1
	eq "" "$(db "SELECT serial FROM meter_day WHERE serial='R3'")" "R3 has no rows" || return 1
	# daily R1 on 10.11: the newest reading at or before each midnight:
	# 1010.250 (23:30) - 1000.000 (09.11 20:00) = 10,250 Wh
	OUT=$(daily_of R1)
	jqeq ".results[0].series[0].values | map(select(.[0] == $D0))[0] | .[1:] | map(tostring) | join(\" \")" \
		"10250 null null false 3 $A Один North PS-1" || return 1
	# R2: both midnights exact: total 154.5 - 150 = 4,500, T1 3,000, T2 1,500
	OUT=$(daily_of R2)
	jqeq ".results[0].series[0].values | map(select(.[0] == $D0))[0] | .[1:6] | map(tostring) | join(\" \")" \
		"4500 3000 1500 false 1" || return 1
	jqeq ".results[0].series[0].values | map(select(.[0] == $D0))[0][7]" Двухзонный || return 1
	# the day is journaled once, with its counts
	ok askue --json events --type meter_data_received --subject 2026-11-10 || return 1
	jqeq 'length' 1 && jqeq '.[0].details.meters_with_data' 3 && jqeq '.[0].details.installed_without_data' 1 || return 1
}

test_rollup_rerun_is_idempotent() {
	ru_up
	ok askue job rollup --date 2026-11-09 && ok askue job rollup --date 2026-11-10 || return 1
	before=$(db "SELECT * FROM meter_day ORDER BY serial, day; SELECT count(*) FROM event; SELECT day, meters, readings FROM rollup_day ORDER BY day")
	daily1=$(influx_query "SELECT * FROM daily")
	ok askue --json job rollup --date 2026-11-10 || return 1
	after=$(db "SELECT * FROM meter_day ORDER BY serial, day; SELECT count(*) FROM event; SELECT day, meters, readings FROM rollup_day ORDER BY day")
	eq "$before" "$after" "ledger after a rerun" || return 1
	eq "$daily1" "$(influx_query "SELECT * FROM daily")" "daily after a rerun" || return 1
	ok askue --json events --type meter_data_received && jqeq 'length' 2 || return 1
}

test_rollup_dry_run_writes_nothing() {
	ru_up
	ok askue --json job rollup --date 2026-11-10 --dry-run || return 1
	jqeq '.dry_run' true && jqeq '.rollup_days[0].daily_points' 3 || return 1
	eq "0 0" "$(db "SELECT count(*) FROM meter_day") $(db "SELECT count(*) FROM rollup_day")" "ledger" || return 1
	eq '{"results":[{"statement_id":0}]}' "$(influx_query "SELECT * FROM daily")" "no daily points" || return 1
	ok askue --json events --type meter_data_received && jqeq 'length' 0
}

test_rollup_period_and_prune() {
	ru_up
	printf '[rollup]\nkeep_days = 2\n' >>"$ASKUE_HOME/askue.conf"
	# --period: every day of the month up to --date; keep_days counts back from --date
	ok askue --json job rollup --period 2026-11 --date 2026-11-12 || return 1
	jqeq '.rollup_days | length' 12 || return 1
	eq 12 "$(db "SELECT count(*) FROM rollup_day")" "days recorded" || return 1
	# the plain run at 2026-11-12: nothing before 10.11 kept
	ok askue --json job rollup --date 2026-11-12 || return 1
	jqeq '.kept_from' 2026-11-10 || return 1
	eq "2026-11-10 2026-11-11 2026-11-12" "$(db "SELECT group_concat(day, ' ') FROM (SELECT day FROM rollup_day ORDER BY day)")" "rollup_day" || return 1
	eq 0 "$(db "SELECT count(*) FROM meter_day WHERE day < '2026-11-10'")" "pruned" || return 1
}

test_rollup_refuses_when_influx_is_down() {
	ru_up
	servers_stop_all
	fails 74 "rollup 2026-11-10: readings" askue job rollup --date 2026-11-10 || return 1
	eq 0 "$(db "SELECT count(*) FROM rollup_day")" "nothing recorded"
}

# A late reading for a day already rolled up: redoing that day marks the
# next one (whose start value it is) for a redo.
test_rollup_redo_marks_the_next_day() {
	ru_up
	ok askue job rollup --date 2026-11-09 && ok askue job rollup --date 2026-11-10 || return 1
	printf 'reading,meter=R1 ai_wh=1000800i %s\n' "$(msk '2026-11-09 23:00')" | write_lines
	ok askue job rollup --date 2026-11-09 || return 1
	eq 0 "$(db "SELECT done FROM rollup_day WHERE day = '2026-11-10'")" "10.11 marked" || return 1
	# a redo that changes no last reading marks nothing
	db "UPDATE rollup_day SET done = 1 WHERE day = '2026-11-10'"
	ok askue job rollup --date 2026-11-09 || return 1
	eq 1 "$(db "SELECT done FROM rollup_day WHERE day = '2026-11-10'")" "10.11 not marked" || return 1
	# 10.11 again: 1010.250 - 1000.800 = 9,450 Wh
	ok askue job rollup --date 2026-11-10 || return 1
	OUT=$(daily_of R1)
	jqeq ".results[0].series[0].values | map(select(.[0] == $D0))[0][1]" 9450 || return 1
	# 09.11: from its first reading (nothing before): 1000.800 - 1000.000, estimated
	jqeq ".results[0].series[0].values | map(select(.[0] == $D0 - 86400))[0] | .[1], .[4]" "800
true"
}

# A point InfluxDB refuses (a field type conflict) is counted and named; the
# other points and the ledger are written.
test_rollup_counts_a_refused_daily_point() {
	ru_up
	# t1_wh as a float: only R2's point (two zones) carries t1_wh
	printf 'daily,meter=Z1 t1_wh=1.5 %s\n' "$D0" | write_lines
	ok askue --json job rollup --date 2026-11-10 || return 1
	jqeq '.daily_refused' 1 && jqeq '.rollup_days[0].daily_points' 3 || return 1
	grep -q 'daily,meter=R2' "$T_TMP/stderr" || { fail "refused point not named: $(cat "$T_TMP/stderr")"; return 1; }
	# R1 written (09.11 not rolled up: from its first reading of the day,
	# 1010.250 - 1001.500 = 8,750 Wh, estimated)
	OUT=$(daily_of R1)
	jqeq '.results[0].series[0].values[0] | "\(.[1]) \(.[4])"' "8750 true" || return 1
	eq 3 "$(db "SELECT count(*) FROM meter_day WHERE day = '2026-11-10'")" "meter_day rows"
}

# An answer of several chunks (10,000 rows each), the two meters' rows
# interleaved by time and each series split across chunks: every row counted.
test_rollup_streams_an_answer_of_many_chunks() {
	ru_up
	# R1 and R3 every 6 s from 00:00:03 to 23:59:57 local: 14,400 readings
	# each, R1 +1 Wh, R3 +2 Wh per reading
	awk -v d0="$D0" 'BEGIN { for (i = 0; i < 14400; i++) {
		printf "reading,meter=R1 ai_wh=%di %d\n", 2000000 + i, d0 + 3 + 6 * i
		printf "reading,meter=R3 ai_wh=%di %d\n", 5000000 + 2 * i, d0 + 3 + 6 * i } }' >"$T_TMP/many"
	split -l 5000 "$T_TMP/many" "$T_TMP/many."
	for f in "$T_TMP"/many.*; do write_lines <"$f"; done
	ok askue --json job rollup --date 2026-11-10 || return 1
	# R1: its 3 readings of the set-up besides, R2 1, X9 1, R3 14,400
	jqeq '.rollup_days[0].readings' $((14403 + 14400 + 2)) || return 1
	eq "14400|$((D0 + 3))|5000000|$((D0 + 86397))|5028798" \
		"$(db "SELECT readings, first_ts, first_r0_wh, last_ts, last_r0_wh FROM meter_day WHERE serial='R3' AND day='2026-11-10'")" \
		"R3 meter_day" || return 1
	eq 14403 "$(db "SELECT readings FROM meter_day WHERE serial='R1' AND day='2026-11-10'")" "R1 readings"
}

# The `load` measurement: each meter's register increments spread over the
# half-hours of the day and summed per substation, district and utility.
# A group's name is the tag named after its level (load_of substation PS-1:
# WHERE substation = 'PS-1', as an analyst writes it); the utility's
# (load_of all) has none.
load_of() {
	local where="level = 'all'"
	[ "$1" = all ] || where="$1 = '$2'"
	influx_query "SELECT wh, meters FROM \"load\" WHERE $where AND time >= ${D0}s AND time < ${D1}s"
}

test_rollup_load_sums_per_group() {
	ru_up
	ok askue job rollup --date 2026-11-09 || return 1
	ok askue --json job rollup --date 2026-11-10 || return 1
	# groups: all, PS-1 (R1), North (R1), South (R2); 48 half-hours each
	jqeq '.rollup_days[0].load_groups' 4 && jqeq '.rollup_days[0].load_points' 192 || return 1
	# R1: 1,500 Wh from 09.11 20:00 to 01:00 (counted from midnight: 750 +
	# 750 in slots 0, 1); 3,500 over 01:00-12:00 (22 slots, 159.09 each);
	# 5,250 over 12:00-23:30 (23 slots); nothing in 23:30-24:00 (the next
	# reading is at 02:00 on 11.11). Sum 10,250 = its daily wh.
	OUT=$(load_of substation PS-1)
	jqeq '.results[0].series[0].values | length' 48 || return 1
	jqeq '.results[0].series[0].values | map(.[1]) | add' 10250 || return 1
	jqeq '.results[0].series[0].values[0:3] | map("\(.[1])/\(.[2])") | join(" ")' "750/1 750/1 159/1" || return 1
	jqeq '.results[0].series[0].values[47] | "\(.[1])/\(.[2])"' "0/0" || return 1
	OUT=$(load_of district North)
	jqeq '.results[0].series[0].values | map(.[1]) | add' 10250 || return 1
	# R2: 4,500 over the whole day, 93.75 a half-hour, rounded cumulatively:
	# 94, 94 (188 - 94), 93 (281 - 188) ...
	OUT=$(load_of district South)
	jqeq '.results[0].series[0].values | map(.[1]) | add' 4500 || return 1
	jqeq '.results[0].series[0].values[0:3] | map(.[1]) | join(" ")' "94 94 93" || return 1
	# the utility: 10,250 + 4,500 = 14,750 (X9 has one reading and nothing
	# before it: no increment); slot 2 = 159 + 93; slot 47: R2 alone
	OUT=$(load_of all)
	jqeq '.results[0].series[0].values | map(.[1]) | add' 14750 || return 1
	jqeq '.results[0].series[0].values[2] | "\(.[1])/\(.[2])"' "252/2" || return 1
	jqeq '.results[0].series[0].values[47][2]' 1 || return 1
	# a rerun rewrites the same points, no more
	load1=$(influx_query "SELECT * FROM \"load\"")
	ok askue job rollup --date 2026-11-10 || return 1
	eq "$load1" "$(influx_query "SELECT * FROM \"load\"")" "load after a rerun"
}

# The group tags of `load`: each kind carries its own (substation=..,
# district=..), the utility neither, and no `name`; a name with spaces, a
# comma, '=' and Cyrillic goes through line protocol's escaping and back.
test_rollup_load_group_tags_are_named_after_the_level() {
	ru_up
	E=$(askue subscriber add --name E --address e --district 'Юг, ближний' \
		--substation 'ТП 7, ряд=2' --date 2026-01-01) || die sub
	askue meter add --serial R4 --model CE102 --commissioned 2025-01-01 --service-life 16 >/dev/null || die meter
	askue meter install R4 "$E" --date 2026-01-10 >/dev/null || die install
	# R4: 200.000 kWh at midnight 10.11, 202.400 at midnight 11.11: 2,400 Wh
	# over the 48 half-hours, 50 each
	write_lines <<EOF
reading,meter=R4 ai_wh=200000i $D0
reading,meter=R4 ai_wh=202400i $D1
EOF
	ok askue job rollup --date 2026-11-09 || return 1
	ok askue --json job rollup --date 2026-11-10 || return 1
	# all, PS-1, North, South (R2 has no substation), ТП 7.., Юг..
	jqeq '.rollup_days[0].load_groups' 6 || return 1
	eq "district level substation" \
		"$(influx_query 'SHOW TAG KEYS FROM "load"' | jq -r '[.results[0].series[0].values[][0]] | join(" ")')" \
		"the tag keys of load" || return 1
	OUT=$(influx_query "SELECT count(wh) FROM \"load\" WHERE time >= ${D0}s AND time < ${D1}s GROUP BY level, substation, district")
	jqeq '[.results[0].series[].tags | "\(.level)/\(.substation)/\(.district)"] | sort | join(" ")' \
		"all// district//North district//South district//Юг, ближний substation/PS-1/ substation/ТП 7, ряд=2/" || return 1
	OUT=$(load_of substation 'ТП 7, ряд=2')
	jqeq '.results[0].series | length' 1 && jqeq '.results[0].series[0].values | length' 48 || return 1
	jqeq '.results[0].series[0].values | map("\(.[1])/\(.[2])") | unique | join(" ")' "50/1" || return 1
	OUT=$(load_of district 'Юг, ближний')
	jqeq '.results[0].series[0].values | map(.[1]) | add' 2400 || return 1
	# the utility: R1 10,250 + R2 4,500 + R4 2,400
	OUT=$(load_of all)
	jqeq '.results[0].series[0].values | map(.[1]) | add' 17150
}
