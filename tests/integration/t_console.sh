# askue-console against a real InfluxDB: the completeness screen of the
# tariff department (the figures of `askue report completeness`), driven in
# tmux as tests/cli/t_console.sh drives the rest of the console.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

. "$(dirname "${BASH_SOURCE[0]}")/../lib/console.sh"

# Three meters in two districts; M1 and M2 report on 2026-11-27 (local),
# M3 only the day before (23:59 MSK).
test_console_completeness_screen() {
	trap 'console_stop; servers_stop_all' EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[askue]\ntimezone = Europe/Moscow\n[influx]\nurl = %s\n' "$INFLUX_URL" \
		>"$ASKUE_HOME/askue.conf"
	local i acc district
	for i in 1 2 3; do
		district=$([ $i -le 2 ] && echo Заречный || echo Центральный)
		acc=$(askue subscriber add --name "Абонент $i" --address "ул. Мира, $i" \
			--district "$district" --substation "ТП-$i" --date 2026-01-01) || return 1
		askue meter add --serial "M$i" --model CE102 --commissioned 2025-01-01 \
			--service-life 16 >/dev/null || return 1
		askue meter install "M$i" "$acc" --date 2026-01-10 >/dev/null || return 1
	done
	day=$(TZ=Europe/Moscow date -d '2026-11-27 00:00' +%s)
	printf 'reading,meter=M1 ai_wh=1i %s\nreading,meter=M2 ai_wh=1i %s\nreading,meter=M3 ai_wh=1i %s\n' \
		"$((day + 60))" "$((day + 86399))" "$((day - 1))" |
		curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- || die "write"
	askue user add tar --role tariff <<<pass-word-1 >/dev/null || return 1

	console_start || return 1
	sign_in tar || return 1
	keys 7 && wait_screen "date (YYYY-MM-DD, empty: today)" 20 || return 1
	text 2026-11-27 && keys Enter || return 1
	# 2 of 3: 66.67 %; Заречный 2 of 2, Центральный 0 of 1; M3 is missing.
	wait_screen "Data completeness on 2026-11-27: 2 of 3 meters with a reading (66.67%)" 20 || return 1
	screen | grep -qE "^Заречный +2 +2 +100$" && screen | grep -qE "^Центральный +1 +0 +0$" || {
		screen >&2
		fail "the districts"
		return 1
	}
	wait_screen "M3  account 0000000037  Центральный ТП-3" 20 || return 1
	# Enter on the missing meter: its subscriber's card.
	keys End Enter && wait_screen "Card 0000000037 Абонент 3" 20 || return 1
	console_quit
}
