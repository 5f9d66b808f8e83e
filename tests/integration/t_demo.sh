# deploy/demo, the README's first command, end to end on free ports with
# the test's ASKUE_HOME and 40 meters: the stack comes up, a month of
# half-hourly readings lands in InfluxDB, the month is billed, the night's
# anomalies and forecast jobs run, console users are made; a second run
# changes nothing. (`make demo` is deploy/demo after the build.)
. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

DEMO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/demo"
STACK="$(dirname "$DEMO")/stack"

test_demo_runs_the_month_end_to_end() {
	ASKUE_MQTT_PORT=$(free_port) || return 1
	ASKUE_INFLUX_PORT=$(free_port) || return 1
	export ASKUE_MQTT_PORT ASKUE_INFLUX_PORT ASKUE_DEMO_METERS=40
	trap '"$STACK" down >/dev/null 2>&1' EXIT
	ok "$DEMO" || return 1
	local out=$OUT
	# 40 meters x the month's days x 48 half-hours, all stored
	local start days want
	start=$(cat "$ASKUE_HOME/demo/month")
	days=$(( ($(date -ud "$start +1 month" +%s) - $(date -ud "$start" +%s)) / 86400 ))
	want=$((40 * days * 48))
	printf '%s' "$out" | grep -q "InfluxDB holds $want of the $want readings" ||
		fail "readings: $(printf '%s' "$out" | grep holds)" || return 1
	printf '%s' "$out" | grep -q "issued 40 invoices" || fail "billing: $out" || return 1
	printf '%s' "$out" | grep -q "did not complete" && fail "a job failed: $out" && return 1
	printf '%s' "$out" | grep -q "not published" && fail "alerts not published: $out" && return 1
	ls "$ASKUE_HOME"/demo/invoice-*.pdf >/dev/null 2>&1 || fail "no invoice PDF" || return 1
	# the forecast of the days after the month, for the whole utility
	local last
	last=$(date -d "$start +1 month -1 day" +%F)
	ok askue --json forecast show --level all --date "$last" || return 1
	[ "$(printf '%s' "$OUT" | jq '[.. | objects | select(has("peak_kw") and .kwh > 0)] | length')" -eq 7 ] ||
		fail "forecast show: $OUT" || return 1
	ok askue --json anomalies --date "$last" || return 1
	# one console user per role, passwords only in the demo folder (0600)
	ok askue --json user list || return 1
	jqeq '[.[].role] | sort | join(",")' "accounting,admin,operations,tariff" || return 1
	eq 600 "$(stat -c %a "$ASKUE_HOME/demo/console-users.txt")" "users file mode" || return 1
	# the second run publishes again (the same readings) and bills nothing new
	ok "$DEMO" || return 1
	printf '%s' "$OUT" | grep -q "issued" && fail "second run billed again: $OUT" && return 1
	ok askue --json user list || return 1
	jqeq length 4 || return 1
	"$STACK" down >/dev/null 2>&1
	trap - EXIT
}
