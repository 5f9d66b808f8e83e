# askue-console against a real InfluxDB: the completeness screen of the
# tariff department (the figures of `askue report completeness`), driven in
# tmux as tests/cli/t_console.sh drives the rest of the console.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

SOCK=""
cscreen() { tmux -S "$SOCK" capture-pane -p; }
cseen() { cscreen | grep -qF -- "$1"; }
ckeys() { tmux -S "$SOCK" send-keys "$@"; }
ctext() { tmux -S "$SOCK" send-keys -l -- "$1"; }
cwait() {
	wait_for 20 cseen "$1" || {
		cscreen >&2
		fail "the screen never showed '$1'"
		return 1
	}
}
cstop() {
	[ -n "$SOCK" ] && tmux -S "$SOCK" kill-server 2>/dev/null
	SOCK=""
	servers_stop_all
}

# Three meters in two districts; M1 and M2 report on 2026-11-27 (local),
# M3 only the day before (23:59 MSK).
test_console_completeness_screen() {
	trap cstop EXIT
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

	SOCK="$T_TMP/tmux.sock"
	tmux -S "$SOCK" -f /dev/null new-session -d -x 120 -y 40 \
		"env LANG=C.UTF-8 '$ASKUE_BUILD/askue-console' 2>>'$T_TMP/console.err';
		 echo \$? >'$T_TMP/console.rc'; sleep 30" || return 1
	cwait "Sign in" && ctext tar && ckeys Enter && ctext pass-word-1 && ckeys Enter || return 1
	cwait "tar (tariff)" || return 1
	ckeys 7 && cwait "date (YYYY-MM-DD, empty: today)" || return 1
	ctext 2026-11-27 && ckeys Enter || return 1
	# 2 of 3: 66.67 %; Заречный 2 of 2, Центральный 0 of 1; M3 is missing.
	cwait "Data completeness on 2026-11-27: 2 of 3 meters with a reading (66.67%)" || return 1
	cscreen | grep -qE "^Заречный +2 +2 +100$" && cscreen | grep -qE "^Центральный +1 +0 +0$" || {
		cscreen >&2
		fail "the districts"
		return 1
	}
	cwait "M3  account 0000000037  Центральный ТП-3" || return 1
	# Enter on the missing meter: its subscriber's card.
	ckeys End Enter && cwait "Card 0000000037 Абонент 3" || return 1
	ckeys q q q && wait_for 10 test -s "$T_TMP/console.rc" || fail "the console did not end" ||
		return 1
	eq 0 "$(cat "$T_TMP/console.rc")" "exit status" || return 1
	! grep -E 'Sanitizer|runtime error' "$T_TMP/console.err" >&2 || fail "sanitizer report"
}
