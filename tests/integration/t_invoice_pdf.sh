# askue invoice pdf over invoices issued by askue job billing from readings
# in a real InfluxDB: the PDF's text read back with pdftotext, its payment
# QR code (ГОСТ Р 56042-2014) decoded with zbarimg from a 200 dpi raster to
# the exact fields computed here by hand. Europe/Moscow, the default zone.
#
# The subscriber: two zones, day 6.12 and night 3.40 RUB/kWh.
#   March 2026: day 600.000 -> 800.250 (200.250 kWh x 6.12 = 1,225.53),
#     night 400.000 -> 480.125 (80.125 x 3.40 = 272.425 -> 272.43):
#     charges 1,497.96, total 1,497.96.
#   1,000.00 paid on 2026-04-10.
#   April: day 800.250 -> 900.250 (100 x 6.12 = 612.00), night 480.125 ->
#     530.125 (50 x 3.40 = 170.00): charges 782.00; previous 1,497.96 -
#     payments 1,000.00 + 782.00 = 1,279.96 to pay.
#   2,000.00 paid on 2026-05-05.
#   May: day 900.250 -> 930.250 (30 x 6.12 = 183.60), night 530.125 ->
#     550.125 (20 x 3.40 = 68.00): charges 251.60; 1,279.96 - 2,000.00 +
#     251.60 = -468.44, a credit: nothing to pay.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"

# The utility: the standard's example bank (Sberbank, Moscow) and an
# account there; INN 6950000120 (check digit computed by hand: 0).
UTILITY_NAME='АО «Тверьэнергосбыт-Тест»'
QR_PAYEE="ST00012|Name=$UTILITY_NAME|PersonalAcc=40702810138250123017|BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225"

ip_up() {
	trap servers_stop_all EXIT
	influxd_start "$T_TMP/influx" >/dev/null || die "influxd"
	cat >"$ASKUE_HOME/askue.conf" <<-EOF
		[influx]
		url = $INFLUX_URL
		[billing]
		rules_dir = $ASKUE_SRC/deploy/rules
		[utility]
		name = $UTILITY_NAME
		inn = 6950000120
		kpp = 695001001
		bank = ПАО Сбербанк
		bic = 044525225
		correspondent_account = 30101810400000000225
		settlement_account = 40702810138250123017
		address = г. Тверь, ул. Советская, д. 1
		phone = +7 4822 00-00-00
	EOF
}

# rd 'YYYY-MM-DD HH:MM' (Moscow) AI_WH T1_WH T2_WH: a reading of meter P1
rd() {
	local ts
	ts=$(TZ=Europe/Moscow date -d "$1" +%s) || die "date $1"
	printf 'reading,meter=P1 ai_wh=%si,t1_wh=%si,t2_wh=%si %s\n' "$2" "$3" "$4" "$ts"
}

ip_subscriber() {
	askue tariff add Двухзонный --zones day=07-23,night=23-07 --date 2025-01-01 >/dev/null &&
		askue tariff price Двухзонный --from 2025-01-01 day=6.12 night=3.40 >/dev/null ||
		die "tariff"
	acc=$(askue subscriber add --name "Иванов Пётр Сергеевич" \
		--address "г. Тверь, ул. Ленина, 5-12" --date 2025-11-01) || die "subscriber"
	askue meter add --serial P1 --model CE102 --commissioned 2025-01-01 --service-life 30 \
		--zones 2 >/dev/null && askue meter install P1 "$acc" --date 2026-01-15 --reading 0,0 \
		>/dev/null && askue tariff choose "$acc" Двухзонный --from 2025-11-01 >/dev/null ||
		die "meter"
	{
		rd '2026-03-01 00:00' 1000000 600000 400000
		rd '2026-04-01 00:00' 1280375 800250 480125
		rd '2026-05-01 00:00' 1430375 900250 530125
		rd '2026-06-01 00:00' 1480375 930250 550125
	} | curl -sf -XPOST "$INFLUX_URL/write?db=askue&precision=s" --data-binary @- ||
		die "write"
}

# pdf_text FILE: its text (poppler's harmless CMap warning dropped)
pdf_text() { pdftotext -layout "$1" - 2>/dev/null; }
# pdf_qr FILE: the QR code's text, decoded from a 200 dpi raster
pdf_qr() {
	rm -f "$T_TMP"/qr-*.png
	pdftoppm -r 200 -png "$1" "$T_TMP/qr" 2>/dev/null || return 1
	zbarimg --raw -q "$T_TMP/qr-1.png" 2>/dev/null
}

# has TEXT STRING..: every STRING is in TEXT
has() {
	local text=$1 s
	shift
	for s in "$@"; do
		case "$text" in
		*"$s"*) ;;
		*) fail "'$s' not in the PDF's text:
$text"
			return 1 ;;
		esac
	done
}

test_invoice_pdf_of_a_billed_invoice_with_debt_and_payment() {
	ip_up
	ip_subscriber
	ok askue --json job billing --period 2026-03 --date 2026-04-02 && jqeq '.issued' 1 || return 1
	ok askue pay "$acc" 1000.00 --date 2026-04-10 --ref PDF-1 || return 1
	ok askue --json job billing --period 2026-04 --date 2026-05-02 && jqeq '.issued' 1 || return 1
	num="202604-$acc"
	ok askue --json invoice show "$num" && jqeq '.total' 1279.96 || return 1
	ok askue --json invoice pdf "$num" --out "$T_TMP/april.pdf" || return 1
	jqeq '.number' "$num" && jqeq '.file' "$T_TMP/april.pdf" || return 1
	jqeq '.bytes > 10000' true || return 1
	[ ! -s "$T_TMP/stderr" ] || fail "stderr: $(cat "$T_TMP/stderr")" || return 1
	want="$QR_PAYEE|Sum=127996|Purpose=Электроэнергия за апрель 2026, л/с $acc, счёт № $num|PayeeINN=6950000120|KPP=695001001|PersAcc=$acc|PayerAddress=г. Тверь, ул. Ленина, 5-12|PaymPeriod=042026|QuittId=$num|QuittDate=02.05.2026|TechCode=02"
	jqeq '.qr' "$want" || return 1
	eq "$want" "$(pdf_qr "$T_TMP/april.pdf")" "the decoded QR code" || return 1
	text=$(pdf_text "$T_TMP/april.pdf")
	has "$text" "$UTILITY_NAME" "ИНН 6950000120, КПП 695001001" \
		"Р/с 40702810138250123017 в ПАО Сбербанк, БИК 044525225" \
		"Счёт № $num от 02.05.2026" "апрель 2026 г." "Лицевой счёт: $acc" \
		"Абонент: Иванов Пётр Сергеевич" "Адрес: г. Тверь, ул. Ленина, 5-12" \
		"800,250" "900,250" "480,125" "530,125" "01.04.2026 00:00" "01.05.2026 00:00" \
		"100,000" "6,12" "612,00" "50,000" "3,40" "170,00" "782,00" \
		"Задолженность по предыдущему счёту" "1 497,96" "1 000,00" \
		"Итого к оплате: 1 279,96 руб." "Оплатить до 15.05.2026" || return 1
	case "$text" in *ОБРАЗЕЦ*) fail "a real utility's invoice marked as a sample"; return 1 ;; esac
	# the same invoice again: the same bytes; the default file name
	(cd "$T_TMP" && askue invoice pdf "$num" >/dev/null) || return 1
	cmp -s "$T_TMP/april.pdf" "$T_TMP/$num.pdf" || fail "not byte-identical" || return 1
	# the whole period: the same file in the folder
	ok askue --json invoice pdf --period 2026-04 --dir "$T_TMP/print" || return 1
	jqeq '.written' 1 && jqeq '.failed' 0 && jqeq '.dir' "$T_TMP/print" || return 1
	cmp -s "$T_TMP/april.pdf" "$T_TMP/print/$num.pdf" || fail "period file differs" || return 1
	# A ledger whose invoice does not add up (tampered with here) is refused,
	# reported by number, and no file is left; the run says it failed.
	sqlite3 "$ASKUE_HOME/askue.db" "UPDATE invoice SET total_kop = total_kop + 1 WHERE number = '$num'"
	fails 65 "$num: invoice $num: .* = 127996 kopecks, its total is 127997" \
		askue invoice pdf --period 2026-04 --dir "$T_TMP/print2" || return 1
	eq "2026-04: 0 invoices written to $T_TMP/print2, 1 failed" "$OUT" "summary" || return 1
	[ -z "$(ls "$T_TMP/print2")" ] || fail "a file for a refused invoice" || return 1
	fails 65 "its total is 127997" askue invoice pdf "$num" --out "$T_TMP/bad.pdf" || return 1
	[ ! -e "$T_TMP/bad.pdf" ] || fail "bad.pdf written" || return 1
}

test_invoice_pdf_credit_has_nothing_to_pay() {
	ip_up
	ip_subscriber
	ok askue job billing --period 2026-03 --date 2026-04-02 || return 1
	ok askue pay "$acc" 1000.00 --date 2026-04-10 --ref PDF-1 || return 1
	ok askue job billing --period 2026-04 --date 2026-05-02 || return 1
	ok askue pay "$acc" 2000.00 --date 2026-05-05 --ref PDF-2 || return 1
	ok askue job billing --period 2026-05 --date 2026-06-02 || return 1
	num="202605-$acc"
	ok askue --json invoice show "$num" && jqeq '.total' -468.44 || return 1
	ok askue invoice pdf "$num" --out "$T_TMP/may.pdf" || return 1
	eq "$T_TMP/may.pdf" "$OUT" "printed path" || return 1
	want="$QR_PAYEE|Purpose=Электроэнергия за май 2026, л/с $acc, счёт № $num|PayeeINN=6950000120|KPP=695001001|PersAcc=$acc|PayerAddress=г. Тверь, ул. Ленина, 5-12|PaymPeriod=052026|QuittId=$num|QuittDate=02.06.2026|TechCode=02"
	eq "$want" "$(pdf_qr "$T_TMP/may.pdf")" "the decoded QR code (no Sum)" || return 1
	text=$(pdf_text "$T_TMP/may.pdf")
	has "$text" "183,60" "68,00" "251,60" "1 279,96" "2 000,00" \
		"К оплате: 0,00 руб. Оплачивать не требуется." \
		"Переплата 468,44 руб. будет учтена в следующем счёте." || return 1
	case "$text" in *"Итого к оплате"*) fail "a credit asked to pay"; return 1 ;; esac
	# Without [utility] the demonstration details: warned and marked.
	grep -v -e '^name' -e '^inn' -e '^kpp' -e '^bank' -e '^bic' -e '_account' -e '^address' \
		-e '^phone' -e '^\[utility' "$ASKUE_HOME/askue.conf" >"$T_TMP/demo.conf"
	ok askue --config "$T_TMP/demo.conf" invoice pdf "$num" --out "$T_TMP/demo.pdf" || return 1
	grep -q "demonstration details" "$T_TMP/stderr" || fail "no warning" || return 1
	has "$(pdf_text "$T_TMP/demo.pdf")" "ОБРАЗЕЦ" "АО «Энергосбыт-Демо»" || return 1
}
