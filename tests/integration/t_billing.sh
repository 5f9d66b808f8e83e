# askue job billing against a real InfluxDB and a real ledger: invoices
# computed by hand from readings and tariffs (Europe/Moscow, the default
# zone), the account carried from invoice to invoice, corrections, and a
# run killed in the middle.
#
# Readings are written as the ingestor writes them (DESIGN.md `reading`,
# integer Wh); the job has the rollup put the days it needs into meter_day.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

bl_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	printf '[influx]\nurl = %s\n[billing]\nrules_dir = %s/deploy/rules\n' "$INFLUX_URL" \
		"$ASKUE_SRC" >"$ASKUE_HOME/askue.conf"
	: >"$T_TMP/points"
}

# rd SERIAL 'YYYY-MM-DD HH:MM' (Moscow) AI_WH [T1_WH T2_WH]
rd() {
	local ts
	ts=$(TZ=Europe/Moscow date -d "$2" +%s) || die "date $2"
	if [ $# -gt 3 ]; then
		printf 'reading,meter=%s ai_wh=%si,t1_wh=%si,t2_wh=%si %s\n' "$1" "$3" "$4" "$5" "$ts"
	else
		printf 'reading,meter=%s ai_wh=%si %s\n' "$1" "$3" "$ts"
	fi >>"$T_TMP/points"
}

flush() {
	curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @"$T_TMP/points" ||
		die "write"
	: >"$T_TMP/points"
}

db() { sqlite3 "$ASKUE_HOME/askue.db" "$1"; }

# sub NAME -> account; meter SERIAL ACCOUNT DATE READING [ZONES]
sub() { askue subscriber add --name "$1" --address "ул. Ленина, $1" --date 2025-11-01; }
meter() {
	askue meter add --serial "$1" --model CE102 --commissioned 2025-01-01 --service-life 30 \
		--zones "${5:-1}" >/dev/null || die "meter add $1"
	askue meter install "$1" "$2" --date "$3" --reading "$4" >/dev/null || die "install $1"
}

# One zone 'all' at 5.67 RUB/kWh from 2025-01-01.
tariff1() {
	askue tariff add Один --date 2025-01-01 >/dev/null &&
		askue tariff price Один --from 2025-01-01 all=5.67 >/dev/null || die "tariff"
}
choose() { askue tariff choose "$1" "$2" --from 2025-11-01 >/dev/null || die "choose $1"; }

bill() { ok askue --json job billing --period "$1" --date "$2"; }

# March 2026, 1,000.000 -> 1,250.500 kWh at the Moscow midnights:
# 250.5 kWh x 5.67 = 1,420.335 -> 1,420.34 RUB (half up, once).
test_single_zone_invoice_idempotent_and_reproducible() {
	bl_up
	tariff1
	acc=$(sub A) && meter S1 "$acc" 2026-01-15 900 && choose "$acc" Один
	rd S1 '2026-02-28 12:00' 990000
	rd S1 '2026-03-01 00:00' 1000000
	rd S1 '2026-03-15 00:00' 1100000
	rd S1 '2026-04-01 00:00' 1250500
	rd S1 '2026-04-01 12:00' 1255000
	flush
	fails 64 "has not ended" askue job billing --period 2026-03 --date 2026-03-31 || return 1
	ok askue --json job billing --period 2026-03 --date 2026-04-02 --dry-run || return 1
	jqeq '.issued' 1 && jqeq '.charges' 1420.34 || return 1
	eq 0 "$(db 'SELECT count(*) FROM invoice')" "dry run wrote an invoice" || return 1
	bill 2026-03 2026-04-02 || return 1
	jqeq '.issued' 1 && jqeq '.subscribers' 1 && jqeq '.charges' 1420.34 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	first=$OUT
	jqeq '.number' "202603-$acc" && jqeq '.account' "$acc" && jqeq '.period' 2026-03 || return 1
	jqeq '.due' 2026-04-15 && jqeq '.issued' 2026-04-02 && jqeq '.status' current || return 1
	jqeq '.lines | length' 1 && jqeq '.lines[0].zone' all && jqeq '.lines[0].kwh' 250.5 || return 1
	jqeq '.lines[0].price' 5.67 && jqeq '.lines[0].amount' 1420.34 || return 1
	jqeq '.previous' 0.00 && jqeq '.charges' 1420.34 && jqeq '.total' 1420.34 || return 1
	jqeq '.readings[0].start_kwh' 1000 && jqeq '.readings[0].end_kwh' 1250.5 || return 1
	jqeq '.readings[0].start_how' reading && jqeq '.readings[0].end_how' reading || return 1
	ok askue --json balance "$acc" && jqeq '.balance' 1420.34 || return 1
	ok askue --json invoice list "$acc" && jqeq 'length' 1 && jqeq '.[0].total' 1420.34 || return 1
	jqeq '.[0].lines[0].amount' 1420.34 || return 1
	ok askue invoice show "202603-$acc" || return 1
	printf '%s' "$OUT" | grep -q '250.500 kWh x 5.67 RUB/kWh = 1420.34 RUB' ||
		{ fail "show text: $OUT"; return 1; }
	# The same period again issues nothing; the invoice is the same, byte for byte.
	bill 2026-03 2026-04-03 || return 1
	jqeq '.issued' 0 && jqeq '.subscribers' 0 || return 1
	ok askue --json invoice show "202603-$acc" && eq "$first" "$OUT" "invoice changed" || return 1
	ok askue --json events --type invoice_issued && jqeq 'length' 1 && jqeq '.[0].details.total' 1420.34 || return 1
	ok askue --json events --type billing_day_came && jqeq 'length' 1 && jqeq '.[0].subject' 2026-03 || return 1
	# A second ledger with the same card file and readings: the same invoice.
	home2="$T_TMP/home2"
	mkdir -p "$home2" && cp "$ASKUE_HOME/askue.conf" "$home2/"
	(
		export ASKUE_HOME=$home2
		tariff1
		a2=$(sub A) && meter S1 "$a2" 2026-01-15 900 && choose "$a2" Один
		askue job billing --period 2026-03 --date 2026-04-02 >/dev/null || die "bill 2"
		askue --json invoice show "202603-$a2"
	) >"$T_TMP/second.json" || return 1
	eq "$first" "$(cat "$T_TMP/second.json")" "reproduced invoice" || return 1
}

# Day 200.250 kWh x 6.12 = 1,225.53; night 80.125 kWh x 3.40 = 272.425 ->
# 272.43; charges 1,497.96.
# A period left out (April 2026 not billed) loses no energy: May starts
# from March's end value. March: 1,000 -> 1,100 kWh = 100 x 5.67 = 567.00;
# May: 1,100 (March's end, 'previous') -> 1,250 kWh = 150 x 5.67 = 850.50.
test_a_skipped_period_chains_from_the_last_invoice() {
	bl_up
	tariff1
	acc=$(sub A) && meter S1 "$acc" 2026-01-15 900 && choose "$acc" Один
	rd S1 '2026-03-01 00:00' 1000000
	rd S1 '2026-04-01 00:00' 1100000
	rd S1 '2026-06-01 00:00' 1250000
	flush
	bill 2026-03 2026-04-02 && jqeq '.charges' 567.00 || return 1
	bill 2026-05 2026-06-02 || return 1
	ok askue --json invoice show "202605-$acc" || return 1
	jqeq '.lines[0].kwh' 150 && jqeq '.charges' 850.50 || return 1
	jqeq '.readings[0].start_kwh' 1100 && jqeq '.readings[0].start_how' previous || return 1
	jqeq '.previous' 567.00 && jqeq '.total' 1417.50 || return 1
}

test_two_zones() {
	bl_up
	askue tariff add Двухзонный --zones day=07-23,night=23-07 --date 2025-01-01 >/dev/null &&
		askue tariff price Двухзонный --from 2025-01-01 day=6.12 night=3.40 >/dev/null || return 1
	acc=$(sub B) && meter S2 "$acc" 2026-01-15 0,0 2 && choose "$acc" Двухзонный
	rd S2 '2026-03-01 00:00' 1000000 600000 400000
	rd S2 '2026-03-20 00:00' 1200000 750000 450000
	rd S2 '2026-04-01 00:00' 1280375 800250 480125
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '[.lines[] | "\(.zone) \(.kwh) \(.price) \(.amount)"] | join("; ")' \
		"day 200.25 6.12 1225.53; night 80.125 3.40 272.43" || return 1
	jqeq '.charges' 1497.96 && jqeq '.total' 1497.96 || return 1
}

# The old meter 500.000 -> 600.000 kWh (removed 2026-03-11), the new one
# 10.000 (installed 2026-03-11) -> 160.000: 250 kWh x 5.67 = 1,417.50.
test_meter_exchange_inside_the_period() {
	bl_up
	tariff1
	acc=$(sub C) && meter S3a "$acc" 2026-02-01 400 && choose "$acc" Один
	rd S3a '2026-03-01 00:00' 500000
	rd S3a '2026-03-05 00:00' 550000
	rd S3b '2026-03-20 00:00' 80000
	rd S3b '2026-04-01 00:00' 160000
	flush
	askue meter dismantle S3a --date 2026-03-11 --reading 600 >/dev/null || return 1
	askue meter add --serial S3b --model CE102 --commissioned 2025-01-01 --service-life 30 >/dev/null &&
		askue meter install S3b "$acc" --date 2026-03-11 --reading 10 >/dev/null || return 1
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '[.lines[].kwh] | add' 250 && jqeq '.charges' 1417.50 || return 1
	jqeq '[.readings[] | "\(.serial) \(.start_kwh) \(.start_how) \(.end_kwh) \(.end_how)"] | join("; ")' \
		"S3a 500 reading 600 removal; S3b 10 installation 160 reading" || return 1
}

# 5.00 RUB/kWh, 6.00 from 2026-03-16: 1,000 -> 1,150 kWh by 16 March
# (150 x 5.00 = 750.00), 1,150 -> 1,310 by 1 April (160 x 6.00 = 960.00).
test_price_change_inside_the_period() {
	bl_up
	askue tariff add Один --date 2025-01-01 >/dev/null &&
		askue tariff price Один --from 2025-01-01 all=5.00 >/dev/null &&
		askue tariff price Один --from 2026-03-16 all=6.00 >/dev/null || return 1
	acc=$(sub D) && meter S4 "$acc" 2026-01-15 0 && choose "$acc" Один
	rd S4 '2026-03-01 00:00' 1000000
	rd S4 '2026-03-15 00:00' 1140000
	rd S4 '2026-03-16 00:00' 1150000
	rd S4 '2026-03-17 00:00' 1160000
	rd S4 '2026-04-01 00:00' 1310000
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '[.lines[] | "\(.from) \(.to) \(.kwh) \(.price) \(.amount)"] | join("; ")' \
		"2026-03-01 2026-03-15 150 5.00 750.00; 2026-03-16 2026-03-31 160 6.00 960.00" || return 1
	jqeq '.charges' 1710.00 || return 1
}

# A meter that does not report: the subscriber phones in 1,180.000 kWh on
# 1 April 00:00 and a controller read 1,000.000 on 1 March 00:00; billed
# from them like automatic readings: 180 kWh x 5.67 = 1,020.60. A wrong
# phoned-in value is corrected by a new one with a reason; recomputed, the
# period is corrected by a document: 1,150 -> 150 kWh = 850.50, -170.10.
test_manual_readings_billed_alike() {
	bl_up
	tariff1
	acc=$(sub M) && meter SM "$acc" 2026-01-15 900 && choose "$acc" Один
	ok askue reading add SM --date 2026-03-01 --time 00:00 --reading 1000 --source controller || return 1
	ok askue reading add SM --date 2026-04-01 --time 00:00 --reading 1180 --source subscriber || return 1
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '.lines[0].kwh' 180 && jqeq '.charges' 1020.60 && jqeq '.readings[0].end_how' reading || return 1
	ok askue reading add SM --date 2026-04-01 --time 00:00 --reading 1150 --source subscriber \
		--reason "misheard on the phone" || return 1
	ok askue --json invoice correct "$acc" --period 2026-03 --reason "reading corrected" --date 2026-04-05 || return 1
	jqeq '.recomputed' 850.50 && jqeq '.difference' -170.10 || return 1
}

# Household volume bands (3,900 / 6,000 kWh a month): 7,000 kWh in March
# is 3,900 x 5.00 = 19,500.00, 2,100 x 6.00 = 12,600.00 and 1,000 x 7.00 =
# 7,000.00; charges 39,100.00.
test_volume_bands() {
	bl_up
	askue tariff add Диф --date 2025-01-01 >/dev/null &&
		askue tariff price Диф --from 2025-01-01 all=5.00 >/dev/null &&
		askue tariff band Диф --from 2025-01-01 --upto 3900,6000 all=5.00/6.00/7.00 >/dev/null || return 1
	acc=$(sub V) && meter SV "$acc" 2026-01-15 0 && choose "$acc" Диф
	rd SV '2026-03-01 00:00' 1000000
	rd SV '2026-04-01 00:00' 8000000
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '[.lines[] | "\(.band) \(.kwh) \(.price) \(.amount)"] | join("; ")' \
		"1 3900 5.00 19500.00; 2 2100 6.00 12600.00; 3 1000 7.00 7000.00" || return 1
	jqeq '.charges' 39100.00 || return 1
}

# No reading at the end boundary: 1,300 kWh at 31 March 12:00 and 1,310 at
# 1 April 12:00 give 1,305.000 at midnight; 305 kWh x 5.67 = 1,729.35.
test_missing_boundary_reading_is_interpolated() {
	bl_up
	tariff1
	acc=$(sub E) && meter S5 "$acc" 2026-01-15 0 && choose "$acc" Один
	rd S5 '2026-03-01 00:00' 1000000
	rd S5 '2026-03-31 12:00' 1300000
	rd S5 '2026-04-01 12:00' 1310000
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '.readings[0].end_kwh' 1305 && jqeq '.readings[0].end_how' interpolated || return 1
	jqeq '.lines[0].kwh' 305 && jqeq '.charges' 1729.35 || return 1
}

# December to February measured, 3 kWh a day (93, 93, 84 kWh); March
# silent: estimated at the average, 31 x 3 = 93 kWh x 5.67 = 527.31; April
# read again, 10,470 kWh on 1 May: from the estimated 10,363 that is 107
# kWh x 5.67 = 606.69 — the two months together are the 200 kWh measured.
test_silent_meter_estimated_then_trued_up() {
	bl_up
	tariff1
	acc=$(sub F) && meter S6 "$acc" 2025-11-20 9990 && choose "$acc" Один
	rd S6 '2025-12-01 00:00' 10000000
	rd S6 '2026-01-01 00:00' 10093000
	rd S6 '2026-02-01 00:00' 10186000
	rd S6 '2026-03-01 00:00' 10270000
	rd S6 '2026-04-20 12:00' 10400000
	rd S6 '2026-05-01 00:00' 10470000
	flush
	bill 2025-12 2026-01-02 && bill 2026-01 2026-02-02 && bill 2026-02 2026-03-02 || return 1
	bill 2026-03 2026-04-02 || return 1
	jqeq '.estimated' 1 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '.estimated' true && jqeq '.lines[0].kwh' 93 && jqeq '.lines[0].how' average || return 1
	jqeq '.charges' 527.31 && jqeq '.readings[0].end_how' estimated || return 1
	ok askue --json billing exceptions --period 2026-03 || return 1
	jqeq "[.[] | select(.account == \"$acc\") | .kind] | index(\"estimated_average\") != null" true || return 1
	bill 2026-04 2026-05-02 || return 1
	ok askue --json invoice show "202604-$acc" || return 1
	jqeq '.estimated' false && jqeq '.lines[0].kwh' 107 && jqeq '.charges' 606.69 || return 1
	jqeq '.readings[0].start_kwh' 10363 && jqeq '.readings[0].start_how' previous || return 1
	# November, never billed, cannot be issued after December: refused, said why
	bill 2025-11 2025-12-02 || return 1
	jqeq '.issued' 0 && jqeq '.refused' 1 || return 1
	jqeq '[.exceptions_list[] | select(.kind == "refused") | .text | test("2025-12 is invoiced already")] | .[0]' true || return 1
}

# The estimate was too high: March estimated at 93 kWh (527.31), the
# meter read again shows 50 kWh for March and April together: April is
# 50 - 93 = -43 kWh, a credit of -243.81; the account is 527.31 - 243.81 =
# 283.50 = 50 kWh x 5.67, what the meter measured.
test_true_up_credit() {
	bl_up
	tariff1
	acc=$(sub T) && meter ST "$acc" 2025-11-20 9990 && choose "$acc" Один
	rd ST '2025-12-01 00:00' 10000000
	rd ST '2026-01-01 00:00' 10093000
	rd ST '2026-02-01 00:00' 10186000
	rd ST '2026-03-01 00:00' 10270000
	rd ST '2026-05-01 00:00' 10320000
	flush
	bill 2025-12 2026-01-02 && bill 2026-01 2026-02-02 && bill 2026-02 2026-03-02 || return 1
	ok askue pay "$acc" 1530.90 --date 2026-03-05 --ref T-1 || return 1
	bill 2026-03 2026-04-02 && bill 2026-04 2026-05-02 || return 1
	ok askue --json invoice show "202604-$acc" || return 1
	jqeq '.lines[0].kwh' -43 && jqeq '.charges' -243.81 && jqeq '.previous' 527.31 && jqeq '.total' 283.50 || return 1
	ok askue --json balance "$acc" && jqeq '.balance' 283.50 || return 1
}

# February: 100 kWh = 567.00 for both; March: 50 kWh = 283.50. Y pays
# nothing: February superseded, its 567.00 the debt on March (850.50). Z
# pays 1,000.00 on 5 March: February paid, March 567.00 - 1,000.00 +
# 283.50 = -149.50, a credit; March is paid from it.
test_unpaid_invoice_superseded_and_overpayment_credit() {
	bl_up
	tariff1
	y=$(sub Y) && meter SY "$y" 2026-01-15 0 && choose "$y" Один
	z=$(sub Z) && meter SZ "$z" 2026-01-15 0 && choose "$z" Один
	for s in SY SZ; do
		rd $s '2026-02-01 00:00' 1000000
		rd $s '2026-03-01 00:00' 1100000
		rd $s '2026-04-01 00:00' 1150000
	done
	flush
	bill 2026-02 2026-03-02 || return 1
	ok askue --json invoice show "202602-$y" && jqeq '.total' 567.00 && jqeq '.due' 2026-03-10 || return 1
	ok askue pay "$z" 1000.00 --date 2026-03-05 --ref Z-1 || return 1
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$y" || return 1
	jqeq '.previous' 567.00 && jqeq '.payments' 0.00 && jqeq '.charges' 283.50 && jqeq '.total' 850.50 || return 1
	ok askue --json invoice show "202602-$y" && jqeq '.status' superseded || return 1
	ok askue --json events --type invoice_superseded && jqeq 'length' 1 && jqeq '.[0].subject' "$y" || return 1
	ok askue --json invoice show "202603-$z" || return 1
	jqeq '.previous' 567.00 && jqeq '.payments' 1000.00 && jqeq '.total' -149.50 || return 1
	jqeq '.status' paid || return 1
	ok askue --json invoice show "202602-$z" && jqeq '.status' paid || return 1
	ok askue --json balance "$z" && jqeq '.balance' -149.50 || return 1
	ok askue --json balance "$y" && jqeq '.balance' 850.50 || return 1
}

# Penalties posted since the last invoice show on the next one. February's
# 567.00, due 10 March 2026 and unpaid: day 31 is 10 April, through 1 May
# that is 22 days at 1/300 of 9.5 % (the capped rate): 567.00 x 0.095 x
# 22 / 300 = 3.9501 -> 3.95. April: 850.50 + 3.95 + 283.50 = 1,137.95.
test_penalties_since_the_last_invoice_on_the_next() {
	bl_up
	tariff1
	acc=$(sub P) && meter SP "$acc" 2026-01-15 0 && choose "$acc" Один
	rd SP '2026-02-01 00:00' 1000000
	rd SP '2026-03-01 00:00' 1100000
	rd SP '2026-04-01 00:00' 1150000
	rd SP '2026-05-01 00:00' 1200000
	flush
	bill 2026-02 2026-03-02 && bill 2026-03 2026-04-02 || return 1
	ok askue job penalties --date 2026-05-01 || return 1
	bill 2026-04 2026-05-02 || return 1
	ok askue --json invoice show "202604-$acc" || return 1
	jqeq '.previous' 850.50 && jqeq '.penalties' 3.95 && jqeq '.charges' 283.50 || return 1
	jqeq '.total' 1137.95 || return 1
	ok askue --json balance "$acc" && jqeq '.balance' 1137.95 || return 1
}

# Issued at 5.67: 250.5 kWh = 1,420.34. The right price was 5.00 from
# 1 March: 1,252.50, a credit correction of -167.84; the invoice stays.
test_correction_document() {
	bl_up
	tariff1
	acc=$(sub K) && meter SK "$acc" 2026-01-15 0 && choose "$acc" Один
	acc2=$(sub L) && meter SL "$acc2" 2026-01-15 0 && choose "$acc2" Один
	for s in SK SL; do
		rd $s '2026-03-01 00:00' 1000000
		rd $s '2026-04-01 00:00' 1250500
	done
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" && before=$OUT || return 1
	askue tariff price Один --from 2026-03-01 all=5.00 >/dev/null || return 1
	ok askue --json invoice correct "$acc" --period 2026-03 --dry-run || return 1
	jqeq '.difference' -167.84 && eq 0 "$(db 'SELECT count(*) FROM correction')" "dry run" || return 1
	fails 64 "reason" askue invoice correct "$acc" --period 2026-03 || return 1
	ok askue --json invoice correct "$acc" --period 2026-03 --reason "price of March entered late" --date 2026-04-10 || return 1
	jqeq '.difference' -167.84 && jqeq '.recomputed' 1252.50 && jqeq '.correction' "202603-$acc-K1" || return 1
	ok askue --json balance "$acc" && jqeq '.balance' 1252.50 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	eq "$(printf '%s' "$before" | jq -c 'del(.correction_documents)')" "$(printf '%s' "$OUT" | jq -c 'del(.correction_documents)')" "the invoice was edited" || return 1
	jqeq '.correction_documents[0].amount' -167.84 && jqeq '.correction_documents[0].number' "202603-$acc-K1" || return 1
	jqeq '.corrections' 0.00 || return 1
	ok askue --json events --type correction_made && jqeq 'length' 1 && jqeq '.[0].details.reason' "price of March entered late" || return 1
	jqeq '.[0].details.amount' -167.84 || return 1
	# corrected once: nothing more to correct
	ok askue --json invoice correct "$acc" --period 2026-03 --reason again && jqeq '.difference' 0.00 || return 1
	# the period-wide recalculation: the differences first, then documents
	ok askue --json billing recalculate --period 2026-03 --dry-run || return 1
	jqeq '.invoices' 2 && jqeq '.differ' 1 && jqeq '.differences[0].account' "$acc2" || return 1
	eq 1 "$(db 'SELECT count(*) FROM correction')" "dry run posted" || return 1
	ok askue --json billing recalculate --period 2026-03 --reason "March price" --date 2026-04-10 || return 1
	jqeq '.differ' 1 && jqeq '.difference' -167.84 || return 1
	eq "recalculation|1|1" "$(db "SELECT r.kind, r.issued, count(*) FROM billing_run r JOIN correction c ON c.run_id = r.id GROUP BY r.id")" "the run" || return 1
	ok askue --json balance "$acc2" && jqeq '.balance' 1252.50 || return 1
	ok askue --json billing recalculate --period 2026-03 --reason "March price" && jqeq '.differ' 0 || return 1
}

# A register of 100,000 kWh rolls over: 99,950.000 -> 30.000 kWh is 80 kWh
# (x 5.67 = 453.60). Another went backwards, 1,000 -> 900 kWh on a
# 1,000,000 kWh register (a wrap would be 999,900 kWh): billed 0, reported.
test_rollover_and_register_backwards() {
	bl_up
	tariff1
	acc=$(sub R) && choose "$acc" Один
	askue meter add --serial SR --model CE102 --commissioned 2025-01-01 --service-life 30 \
		--capacity 100000 >/dev/null && askue meter install SR "$acc" --date 2026-01-15 --reading 99000 >/dev/null || return 1
	acc2=$(sub W) && meter SW "$acc2" 2026-01-15 0 && choose "$acc2" Один
	rd SR '2026-03-01 00:00' 99950000
	rd SR '2026-04-01 00:00' 30000
	rd SW '2026-03-01 00:00' 1000000
	rd SW '2026-04-01 00:00' 900000
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '.lines[0].kwh' 80 && jqeq '.charges' 453.60 || return 1
	jqeq '[.details.exceptions[].kind] | join(",")' rollover || return 1
	ok askue --json billing exceptions --period 2026-03 || return 1
	jqeq "[.[] | select(.account == \"$acc2\") | .kind] | join(\",\")" backwards || return 1
	jqeq "[.[] | select(.account == \"$acc\") | .kind] | join(\",\")" rollover || return 1
	ok askue --json invoice show "202603-$acc2" || return 1
	jqeq '.charges' 0.00 && jqeq '.readings[0].kwh' 0 && jqeq '.readings[0].end_kwh' 900 || return 1
}

# A meter installed on 10 March that never reported: estimated by the
# norm (deploy/rules/norms.csv: urban, gas stove, 1 room, 1 resident = 139
# kWh a month) for 22 of 31 days: 139,000 x 22 / 31 = 98,645 Wh; x 5.67 =
# 559.32. The subscriber (registered in November) had no meter on 1-9
# March: the norm for those 9 days on a line of its own, 139,000 x 9 / 31 =
# 40,354.8 -> 40,355 Wh x 5.67 = 228.81; charges 788.13 (= 139 kWh x 5.67:
# the month by the norm). A subscriber with a meter and no tariff is not
# billed; the accountants' list says why.
test_exceptions_norm_and_not_billed() {
	bl_up
	tariff1
	acc=$(sub N) && meter SN "$acc" 2026-03-10 0 && choose "$acc" Один
	acc2=$(sub O) && meter SO "$acc2" 2026-01-10 0
	rd SO '2026-03-01 00:00' 1000
	rd SO '2026-04-01 00:00' 2000
	# supply restricted: what the meter measured is billed all the same
	# (1 kWh x 5.67); a closed account with a tariff and no meter is not
	acc3=$(sub Q) && meter SQ "$acc3" 2026-01-10 0 && choose "$acc3" Один
	askue subscriber set "$acc3" --status suspended >/dev/null || return 1
	rd SQ '2026-03-01 00:00' 5000
	rd SQ '2026-04-01 00:00' 6000
	acc4=$(sub U) && choose "$acc4" Один && askue subscriber set "$acc4" --status closed >/dev/null || return 1
	flush
	bill 2026-03 2026-04-02 || return 1
	jqeq '.issued' 2 && jqeq '.not_billed' 1 && jqeq '.subscribers' 3 || return 1
	ok askue --json invoice show "202603-$acc3" && jqeq '.charges' 5.67 || return 1
	ok askue --json invoice show "202603-$acc" || return 1
	jqeq '[.lines[] | "\(.from) \(.to) \(.kwh) \(.how) \(.amount)"] | join("; ")' \
		"2026-03-01 2026-03-09 40.355 norm 228.81; 2026-03-10 2026-03-31 98.645 norm 559.32" || return 1
	jqeq '.charges' 788.13 || return 1
	ok askue --json billing exceptions --period 2026-03 || return 1
	jqeq "[.[] | select(.account == \"$acc\") | .kind] | join(\",\")" estimated_norm,no_meter || return 1
	jqeq "[.[] | select(.account == \"$acc2\") | \"\\(.billed) \\(.kind)\"] | join(\",\")" "false no_tariff" || return 1
	ok askue billing exceptions --period 2026-03 --csv "$T_TMP/ex.csv" &&
		printf '%s' "$OUT" | grep -q "$acc2 NOT BILLED no_tariff" || { fail "text: $OUT"; return 1; }
	grep -q "^\"$acc2\",\"no\",\"\",\"no_tariff\"," "$T_TMP/ex.csv" || { fail "csv: $(cat "$T_TMP/ex.csv")"; return 1; }
}

# Days without a meter (issue 4's known gap), March 2026:
# - R's meter dismantled on 22 March at 1,150 kWh (1,000 on 1 March), no
#   new one: 150 kWh x 5.67 = 850.50, and 22-31 March by the norm, 139,000
#   x 10 / 31 = 44,838.7 -> 44,839 Wh x 5.67 = 254.237 -> 254.24; charges
#   1,104.74.
# - W the same, but the account closed with the dismantle: 850.50 only.
test_days_without_a_meter() {
	bl_up
	tariff1
	accr=$(sub R) && meter SR "$accr" 2026-01-10 0 && choose "$accr" Один
	accw=$(sub W) && meter SW "$accw" 2026-01-10 0 && choose "$accw" Один
	rd SR '2026-03-01 00:00' 1000000
	rd SW '2026-03-01 00:00' 1000000
	flush
	askue meter dismantle SR --date 2026-03-22 --reading 1150 >/dev/null &&
		askue meter dismantle SW --date 2026-03-22 --reading 1150 >/dev/null &&
		askue subscriber set "$accw" --status closed >/dev/null || return 1
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$accr" || return 1
	jqeq '[.lines[] | "\(.from) \(.to) \(.kwh) \(.how) \(.amount)"] | join("; ")' \
		"2026-03-01 2026-03-21 150 measured 850.50; 2026-03-22 2026-03-31 44.839 norm 254.24" || return 1
	jqeq '.charges' 1104.74 && jqeq '.lines[1].note' "no meter on 10 of 31 days: norm 139.000 kWh a month" || return 1
	ok askue --json invoice show "202603-$accw" || return 1
	jqeq '.lines | length' 1 && jqeq '.charges' 850.50 || return 1
	ok askue invoice show "202603-$accr" || return 1
	printf '%s' "$OUT" | grep -q "no meter on 10 of 31 days" || { fail "text: $OUT"; return 1; }
}

# Band limits pro rata (issue 4's known gap): P registered on 11 March
# 2026 with his meter, 21 of 31 days billed, so the limits are 3,900,000
# x 21 / 31 = 2,641,935.48 -> 2,641,935 Wh and 6,000,000 x 21 / 31 =
# 4,064,516.13 -> 4,064,516 Wh; 5,000 kWh: 2,641.935 x 5.00 = 13,209.675
# -> 13,209.68, 1,422.581 x 6.00 = 8,535.486 -> 8,535.49, 935.484 x 7.00 =
# 6,548.388 -> 6,548.39; charges 28,293.56. Q, registered before March
# with the same meter from 11 March, is billed 1-10 March by the norm: 31
# days, the limits whole.
test_band_limits_pro_rata_for_a_part_month() {
	bl_up
	askue tariff add Диф --date 2025-01-01 >/dev/null &&
		askue tariff price Диф --from 2025-01-01 all=5.00 >/dev/null &&
		askue tariff band Диф --from 2025-01-01 --upto 3900,6000 all=5.00/6.00/7.00 >/dev/null || return 1
	accp=$(askue subscriber add --name P --address "ул. Ленина, P" --date 2026-03-11) || return 1
	meter SP "$accp" 2026-03-11 0 && askue tariff choose "$accp" Диф --from 2026-03-11 >/dev/null || return 1
	accq=$(sub Q) && meter SQ "$accq" 2026-03-11 0 && choose "$accq" Диф
	rd SP '2026-04-01 00:00' 5000000
	rd SQ '2026-04-01 00:00' 5000000
	flush
	bill 2026-03 2026-04-02 || return 1
	ok askue --json invoice show "202603-$accp" || return 1
	jqeq '[.lines[] | "\(.band) \(.kwh) \(.price) \(.amount)"] | join("; ")' \
		"1 2641.935 5.00 13209.68; 2 1422.581 6.00 8535.49; 3 935.484 7.00 6548.39" || return 1
	jqeq '.charges' 28293.56 && jqeq '.details.days' 21 || return 1
	jqeq '[.lines[].note] | unique | join(",")' 'band limits pro rata: 21 of 31 days' || return 1
	ok askue --json invoice show "202603-$accq" || return 1
	jqeq '.details.days' 31 && jqeq '[.lines[].note // "" | select(test("band limits"))] | length' 0 || return 1
}

# A few thousand subscribers, the job killed with SIGKILL in the middle:
# each subscriber has its invoice, lines, determinants and posting whole or
# nothing; the rerun bills exactly the rest.
test_sigkill_mid_period_all_or_nothing_then_rerun() {
	bl_up
	tariff1
	local n=4000 i
	{
		echo name,address,date
		for i in $(seq 1 $n); do echo "K$i,Street $i,2025-11-01"; done
	} >"$T_TMP/subs.csv"
	ok askue import subscribers "$T_TMP/subs.csv" || return 1
	{
		echo serial,model,commissioned,service-life
		for i in $(seq 1 $n); do echo "M$i,CE102,2025-01-01,30"; done
	} >"$T_TMP/meters.csv"
	ok askue import meters "$T_TMP/meters.csv" || return 1
	db "SELECT 'M' || id || ',' || account || ',2026-01-15,0' FROM subscriber ORDER BY id" |
		{ echo serial,account,date,reading; cat; } >"$T_TMP/inst.csv"
	ok askue import installations "$T_TMP/inst.csv" || return 1
	# tariff choice in bulk (the card-file import has no tariff column)
	db "INSERT INTO subscriber_tariff SELECT id, (SELECT id FROM tariff), '2025-11-01' FROM subscriber" || return 1
	local t0 t1
	t0=$(TZ=Europe/Moscow date -d '2026-03-01 00:00' +%s)
	t1=$(TZ=Europe/Moscow date -d '2026-04-01 00:00' +%s)
	for i in $(seq 1 $n); do
		printf 'reading,meter=M%s ai_wh=%si %s\nreading,meter=M%s ai_wh=%si %s\n' \
			"$i" 1000000 "$t0" "$i" $((1000000 + i * 1000)) "$t1"
	done >"$T_TMP/points"
	flush
	# the rollup first, so that the kill lands in the billing itself
	ok askue job rollup --date 2026-03-01 && ok askue job rollup --date 2026-04-01 || return 1
	ok askue job rollup --date 2026-02-28 || return 1
	"$ASKUE_BUILD/askue" job billing --period 2026-03 --date 2026-04-02 >"$T_TMP/run1" 2>&1 &
	local pid=$! k=0
	while [ "$(db 'SELECT count(*) FROM invoice' 2>/dev/null || echo 0)" -lt 1 ] && [ $k -lt 600 ]; do
		sleep 0.05
		k=$((k + 1))
	done
	sleep 0.3
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	local issued
	issued=$(db 'SELECT count(*) FROM invoice')
	[ "$issued" -gt 0 ] && [ "$issued" -lt $n ] ||
		{ fail "the kill did not land mid-way: $issued of $n invoiced"; return 1; }
	# all or nothing per subscriber
	eq 0 "$(db "SELECT count(*) FROM invoice i WHERE NOT EXISTS (SELECT 1 FROM posting p WHERE p.invoice_id = i.id AND p.kind = 'invoice')
		OR NOT EXISTS (SELECT 1 FROM invoice_line l WHERE l.invoice_id = i.id)
		OR NOT EXISTS (SELECT 1 FROM invoice_reading r WHERE r.invoice_id = i.id)")" "half-written invoices" || return 1
	eq "$issued" "$(db "SELECT count(*) FROM posting WHERE kind = 'invoice'")" "postings" || return 1
	eq "$issued" "$(db "SELECT count(*) FROM event WHERE type = 'invoice_issued'")" "events" || return 1
	# a dry run now (the killed run's rollup is committed: batch by batch,
	# each rolled back) says what the rerun will issue, and writes nothing
	ok askue --json job billing --period 2026-03 --date 2026-04-02 --dry-run || return 1
	jqeq '.issued' $((n - issued)) && jqeq '.rollup_days | length' 0 || return 1
	eq "$issued" "$(db 'SELECT count(*) FROM invoice')" "the dry run wrote" || return 1
	bill 2026-03 2026-04-02 || return 1
	jqeq '.issued' $((n - issued)) || return 1
	eq $n "$(db 'SELECT count(*) FROM invoice')" "invoices after the rerun" || return 1
	eq $n "$(db "SELECT count(*) FROM event WHERE type = 'invoice_issued'")" "events after" || return 1
	# subscriber i consumed i kWh: sum = n(n+1)/2 kWh, each line rounded
	eq $((n * (n + 1) / 2)) "$(db 'SELECT sum(wh) / 1000 FROM invoice_line')" "kWh billed" || return 1
}

# A job that cannot do its work fails, saying why (a bad period is bad
# data, 65); one that did its work with exceptions exits 0 (above).
test_job_fails_without_its_rules() {
	printf '[billing]\nrules_dir = %s/none\n' "$T_TMP" >"$ASKUE_HOME/askue.conf"
	fails 74 "rules_dir: .*none/" askue job billing --period 2026-03 --date 2026-04-02 || return 1
	fails 65 "no such month" askue job billing --period 2026-13 --date 2026-04-02
}
