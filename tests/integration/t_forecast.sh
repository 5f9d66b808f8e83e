# askue job forecast against a real InfluxDB and ledger: the simulator's
# half-hourly readings of 6 meters (real household shapes) over 22 days,
# the rollup's `load` per substation, district and utility (its sums checked
# against the register values in the simulator's own readings file), then
# the forecast of the next 7 days, its rerun, its dry run, a history too
# short, and `askue forecast show`.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

sim() { "$ASKUE_BUILD/askue-sim" "$@"; }
msk() { TZ=Europe/Moscow date -d "$1" +%s; }

# F-000001..4 at North/PS-1, F-000005..6 at South/"ПС 2, ф=1" (a name
# line protocol must escape: a space, a comma, '='); 22 days from
# 2026-10-01 of readings every 30 min (the first at 00:30 on 10-01, the
# last at 00:00 on 10-23), written to InfluxDB as the ingestor would.
fc_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	mosquitto_start "$T_TMP/mq" "allow_anonymous true" "user $(id -un)" || die "mosquitto"
	printf '[influx]\nurl = %s\n[mqtt]\nport = %s\n' "$INFLUX_URL" "$MQTT_PORT" >"$ASKUE_HOME/askue.conf"
	local i a
	for i in 1 2 3 4 5 6; do
		if [ $i -le 4 ]; then set -- North PS-1; else set -- South 'ПС 2, ф=1'; fi
		a=$(askue subscriber add --name "S$i" --address "a$i" --district "$1" --substation "$2" \
			--date 2026-01-01) || die "subscriber"
		askue meter add --serial "F-00000$i" --model CE102 --commissioned 2025-01-01 \
			--service-life 16 >/dev/null || die "meter"
		askue meter install "F-00000$i" "$a" --date 2026-01-10 >/dev/null || die "install"
	done
	sim --no-auth --meters 6 --serial-prefix F- --days 22 --interval 30m --start 2026-10-01 \
		--two-zone 0 --port "$MQTT_PORT" --quiet --readings-out "$T_TMP/r.csv" >/dev/null || die "sim"
	awk -F, '{ printf "reading,meter=%s ai_wh=%si %s\n", $1, $3, $2 }' "$T_TMP/r.csv" >"$T_TMP/r.lp"
	split -l 5000 "$T_TMP/r.lp" "$T_TMP/r.lp."
	for f in "$T_TMP"/r.lp.*; do
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @"$f" || die "write"
	done
	askue job rollup --period 2026-10 --date 2026-10-22 >/dev/null || die "rollup"
}

# The register of meters matching $1 (awk regex) at instant $2 (the newest
# reading at or before it), summed: from the simulator's file, not askue.
registers_at() {
	awk -F, -v re="$1" -v t="$2" '$1 ~ re && $2 <= t && $2 >= best[$1] { best[$1] = $2; v[$1] = $3 }
		END { for (m in v) s += v[m]; printf "%d", s }' "$T_TMP/r.csv"
}

# load_sum LEVEL NAME FROM TO: a group's name is the tag named after its
# level (the utility, all, has none: NAME ignored)
load_sum() {
	local where="level = 'all'"
	[ "$1" = all ] || where="$1 = '$2'"
	influx_query "SELECT sum(wh) FROM \"load\" WHERE $where AND time >= $3s AND time < $4s" |
		jq -r '.results[0].series[0].values[0][1]'
}

test_forecast_load_sums_equal_the_registers() {
	fc_up
	local d0 d1
	d0=$(msk '2026-10-10 00:00')
	d1=$(msk '2026-10-11 00:00')
	# each group's day = its meters' registers at midnight 11.10 minus at 10.10
	eq $(($(registers_at '^F-00000[1-4]$' "$d1") - $(registers_at '^F-00000[1-4]$' "$d0"))) \
		"$(load_sum substation PS-1 "$d0" "$d1")" "PS-1 on 10.10" || return 1
	eq $(($(registers_at '^F-00000[56]$' "$d1") - $(registers_at '^F-00000[56]$' "$d0"))) \
		"$(load_sum district South "$d0" "$d1")" "South on 10.10" || return 1
	eq $(($(registers_at . "$d1") - $(registers_at . "$d0"))) \
		"$(load_sum all all "$d0" "$d1")" "the utility on 10.10" || return 1
	# ... and the sum of the `daily` wh of the day's meters
	eq "$(influx_query "SELECT sum(wh) FROM daily WHERE time = ${d0}s" | jq -r '.results[0].series[0].values[0][1]')" \
		"$(load_sum all all "$d0" "$d1")" "load = daily" || return 1
	# a half-hour of the utility counts the 6 meters
	eq 6 "$(influx_query "SELECT meters FROM \"load\" WHERE level = 'all' AND time = $((d0 + 36000))s" |
		jq -r '.results[0].series[0].values[0][1]')" "meters in 10:00-10:30"
}

test_forecast_writes_seven_days_and_rerun_changes_nothing() {
	fc_up
	# a point of the old layout (the group in a `name` tag): not a group, counted
	printf 'load,level=substation,name=OLD wh=5i,meters=1i %s\n' "$(msk '2026-10-20 12:00')" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
	# --dry-run: computed and reported, nothing written
	ok askue --json job forecast --date 2026-10-22 --dry-run || return 1
	jqeq '.groups' 5 && jqeq '.groups_forecast' 5 && jqeq '.points' $((5 * 7 * 48)) || return 1
	jqeq '.load_rows_without_group' 1 || return 1
	eq '{"results":[{"statement_id":0}]}' "$(influx_query 'SELECT * FROM forecast')" "dry run" || return 1
	ok askue --json job forecast --date 2026-10-22 || return 1
	jqeq '.history_to' 2026-10-22 && jqeq '.forecast_from' 2026-10-23 && jqeq '.forecast_to' 2026-10-29 || return 1
	# history from the first day with load: 01.10 .. 22.10
	jqeq '[.forecast[] | .history_days] | unique | join(",")' 22 || return 1
	jqeq '[.forecast[] | "\(.kind)/\(.subject)"] | sort | join(" ")' \
		"all/all district/North district/South substation/PS-1 substation/ПС 2, ф=1" || return 1
	eq 1680 "$(influx_query 'SELECT count(wh) FROM forecast' | jq -r '.results[0].series[0].values[0][1]')" "points" || return 1
	# the group tags as in `load`: named after the level, none for the utility
	eq "district horizon_d level substation" \
		"$(influx_query 'SHOW TAG KEYS FROM forecast' | jq -r '[.results[0].series[0].values[][0]] | join(" ")')" \
		"the tag keys of forecast" || return 1
	OUT=$(influx_query "SELECT count(wh) FROM forecast WHERE horizon_d = '1' GROUP BY level, substation, district")
	jqeq '[.results[0].series[] | "\(.tags | "\(.level)/\(.substation)/\(.district)")=\(.values[0][1])"] | sort | join(" ")' \
		"all//=48 district//North=48 district//South=48 substation/PS-1/=48 substation/ПС 2, ф=1/=48" || return 1
	# each day's peak is its largest half-hour (W = 2 x Wh), inside its interval
	local t
	t=$(msk '2026-10-25 00:00')
	OUT=$(influx_query "SELECT max(wh) FROM forecast WHERE level = 'all' AND horizon_d = '3' AND time >= ${t}s AND time < $((t + 86400))s")
	local maxwh
	maxwh=$(jq -r '.results[0].series[0].values[0][1]' <<<"$OUT")
	OUT=$(influx_query "SELECT peak_w, peak_lo_w, peak_hi_w, peak_at FROM forecast WHERE level = 'all' AND horizon_d = '3' AND time = ${t}s")
	jq -e --argjson m "$maxwh" --argjson t "$t" '.results[0].series[0].values[0] as $v |
		($v[1] - 2 * $m | fabs) <= 1 and $v[2] <= $v[1] and $v[1] <= $v[3] and
		$v[4] >= $t and $v[4] < $t + 86400' <<<"$OUT" >/dev/null || fail "peak of 25.10: $OUT, max wh $maxwh" || return 1
	# the forecast is of the right size: the next day within 40 % of the mean
	# day of the history (six households' real load varies, not by more)
	local mean
	mean=$(($(($(registers_at . "$(msk '2026-10-23 00:00')") - $(registers_at . "$(msk '2026-10-02 00:00')"))) / 21))
	ok askue --json forecast show || return 1 # made yesterday: nothing there
	jqeq 'length' 0 || return 1
	ok askue --json forecast show --date 2026-10-22 || return 1
	jqeq 'length' 7 && jqeq '.[0].day' 2026-10-23 && jqeq '.[6].horizon_d' 7 || return 1
	jq -e --argjson mean "$mean" '.[0].kwh * 1000 > 0.6 * $mean and .[0].kwh * 1000 < 1.4 * $mean' \
		<<<"$OUT" >/dev/null || fail "next day $(jq .[0].kwh <<<"$OUT") kWh, history's mean day $mean Wh" || return 1
	ok askue --json forecast show --level substation --name 'ПС 2, ф=1' --date 2026-10-22 || return 1
	jqeq 'length' 7 && jqeq '.[0] | has("peak_kw") and has("peak_local")' true || return 1
	ok askue forecast show --level district --name North --date 2026-10-22 || return 1
	printf '%s' "$OUT" | grep -q '^2026-10-29 ' || fail "text form: $OUT" || return 1
	# a rerun rewrites the same points
	local before
	before=$(influx_query 'SELECT * FROM forecast')
	ok askue job forecast --date 2026-10-22 || return 1
	eq "$before" "$(influx_query 'SELECT * FROM forecast')" "forecast after a rerun"
}

test_forecast_too_little_history_is_reported() {
	fc_up
	# through 12.10: 12 days of history, 14 needed: every group reported
	ok askue --json job forecast --date 2026-10-12 || return 1
	jqeq '.groups' 5 && jqeq '.groups_forecast' 0 && jqeq '.groups_too_little_history' 5 || return 1
	jqeq '.too_little_history[0] | "\(.history_days) \(.min_days)"' "12 14" && jqeq '.points' 0 || return 1
	eq '{"results":[{"statement_id":0}]}' "$(influx_query 'SELECT * FROM forecast')" "nothing written" || return 1
	# through 25.10: no load after 22.10 (the rollup stopped): not guessed
	ok askue --json job forecast --date 2026-10-25 || return 1
	jqeq '.groups_not_forecast' 5 && jqeq '.points' 0 || return 1
	jqeq '.not_forecast[0].reason' "no load after 2026-10-22: the rollup has not run since, or the group's meters are silent" || return 1
	fails 64 "needs --name" askue forecast show --level substation || return 1
	fails 64 "the utility .--level all. has no name" askue forecast show --name all || return 1
	fails 64 "expected all, district or substation" askue forecast show --level city --name X || return 1
	fails 65 "no such day" askue forecast show --date 2026-13-01 || return 1
	printf '[forecast]\nmin_days = 60\n' >>"$ASKUE_HOME/askue.conf"
	fails 78 "min_days .60. is more than history_days .56." askue job forecast --date 2026-10-12
}
