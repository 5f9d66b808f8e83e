# End to end: readings in a real InfluxDB -> askue job billing -> askue pay
# (late) -> askue job penalties -> the penalty on the next invoice. Every
# figure is computed by hand in the comments (9.5 % under ПП 474 / ПП 329).

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

pn_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n[billing]\nrules_dir = %s/deploy/rules\n' "$INFLUX_URL" \
		"$ASKUE_SRC" >"$ASKUE_HOME/askue.conf"
	: >"$T_TMP/points"
}

# rd SERIAL 'YYYY-MM-DD HH:MM' (Moscow) AI_WH
rd() {
	printf 'reading,meter=%s ai_wh=%si %s\n' "$1" "$3" "$(TZ=Europe/Moscow date -d "$2" +%s)" \
		>>"$T_TMP/points"
}

flush() {
	curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @"$T_TMP/points" ||
		die "write"
	: >"$T_TMP/points"
}

# A legal entity (ФЗ-35: 1/130 from the first day after the due date) on one
# zone at 5.67 RUB/kWh. January 2026: 200 kWh = 1,134.00, due 10.02.2026
# (periods before March 2026). Paid 05.03.2026: days 11.02-05.03 = 23 at
# 1/130: 113,400 kop x 9.5 % x 23/130 = 19.0599 -> 19.06. February: 150 kWh
# = 850.50; its invoice carries the penalty: total 850.50 + 19.06 = 869.56.
test_billing_pay_late_penalty_on_the_next_invoice() {
	pn_up
	askue tariff add Один --date 2025-01-01 >/dev/null &&
		askue tariff price Один --from 2025-01-01 all=5.67 >/dev/null || die "tariff"
	acc=$(askue subscriber add --name "ООО Ромашка" --address "ул. Ленина, 1" --category other \
		--date 2025-11-01) || die "subscriber"
	askue meter add --serial S1 --model CE102 --commissioned 2025-01-01 --service-life 30 \
		>/dev/null && askue meter install S1 "$acc" --date 2025-12-15 --reading 900 >/dev/null &&
		askue tariff choose "$acc" Один --from 2025-11-01 >/dev/null || die "meter"
	rd S1 '2026-01-01 00:00' 1000000
	rd S1 '2026-02-01 00:00' 1200000
	rd S1 '2026-03-01 00:00' 1350000
	flush
	ok askue --json job billing --period 2026-01 --date 2026-02-02 || return 1
	jqeq .charges 1134.00 || return 1
	ok askue --json invoice show "202601-$acc" && jqeq .due 2026-02-10 || return 1
	# not yet due: nothing
	ok askue --json job penalties --date 2026-02-10 && jqeq .invoices_overdue 0 || return 1
	jqeq .penalties_posted 0.00 || return 1
	ok askue pay "$acc" 1134.00 --date 2026-03-05 --ref PP-1 || return 1
	ok askue --json job penalties --date 2026-03-05 || return 1
	jqeq .invoices_overdue 1 && jqeq .penalties_posted 19.06 && jqeq .charges_closed 1 || return 1
	ok askue --json balance "$acc" && jqeq .balance 19.06 || return 1
	ok askue --json penalty show "$acc" --date 2026-03-05 || return 1
	jqeq '.charges[0].lines | length' 1 && jqeq '.charges[0].lines[0].fraction' 1/130 || return 1
	jqeq '.charges[0].lines[0].day_until' 23 && jqeq .posted 19.06 || return 1
	ok askue --json job billing --period 2026-02 --date 2026-03-06 || return 1
	ok askue --json invoice show "202602-$acc" || return 1
	jqeq .previous 1134.00 && jqeq .payments 1134.00 && jqeq .penalties 19.06 || return 1
	jqeq .charges 850.50 && jqeq .total 869.56 || return 1
	# the next days post nothing for January: its penalty is final
	ok askue --json job penalties --date 2026-03-06 && jqeq .penalties_posted 0.00 || return 1
	ok askue --json events --type penalty_accrued && jqeq length 1 && jqeq '.[0].subject' "$acc"
}
