# askue invoice pdf without a server: the command's usage, an invoice that
# does not exist, and the utility's details in [utility] checked before
# anything is read, each bad one named by its key. The rendering of a real
# invoice issued by the billing job (InfluxDB needed) is in
# tests/integration/t_invoice_pdf.sh; the renderer alone in
# tests/unit/test_invoice_pdf.c.

# utility KEY=VALUE..: an askue.conf with a real-looking [utility] (the
# standard's example bank: BIC 044525225, its correspondent account) and
# the lines given after it.
utility() {
	{
		echo "[utility]"
		echo "name = АО «Тверьэнергосбыт-Тест»"
		echo "inn = 7707083893"
		echo "kpp = 695001001"
		echo "bank = ПАО Сбербанк"
		echo "bic = 044525225"
		echo "correspondent_account = 30101810400000000225"
		echo "settlement_account = 40702810138250123017"
		for kv in "$@"; do echo "$kv"; done
	} >"$ASKUE_HOME/askue.conf"
}

test_invoice_pdf_usage_and_not_found() {
	fails 64 "expected NUMBER" askue invoice pdf || return 1
	fails 64 "expected NUMBER" askue invoice pdf 1 2 || return 1
	fails 64 "unknown option" askue invoice pdf 1 --bogus x || return 1
	fails 64 "option '--out' needs a value" askue invoice pdf 1 --out || return 1
	fails 64 "no file name" askue invoice pdf ../x || return 1
	fails 64 "expected --period P --dir DIR" askue invoice pdf --period 2026-11 || return 1
	fails 64 "expected --period P --dir DIR" askue invoice pdf --dir d || return 1
	fails 64 "expected --period P --dir DIR" askue invoice pdf N --period 2026-11 --dir d ||
		return 1
	fails 64 "expected --period P --dir DIR" askue invoice pdf --period 2026-11 --dir d \
		--out f || return 1
	fails 64 "--period: .*2026-13" askue invoice pdf --period 2026-13 --dir d || return 1
	# a period without invoices: nothing written, not an error
	ok askue --json invoice pdf --period 2026-11 --dir out || return 1
	jqeq '.written' 0 && jqeq '.failed' 0 && jqeq '.period' 2026-11 || return 1
	[ -d out ] && [ -z "$(ls out)" ] || fail "out/ not an empty folder" || return 1
	: >not-a-dir
	fails 74 "not-a-dir" askue invoice pdf --period 2026-11 --dir not-a-dir/x || return 1
	fails 66 "invoice 202611-0000000013 not found" askue invoice pdf 202611-0000000013 ||
		return 1
	[ ! -e 202611-0000000013.pdf ] || fail "a file for no invoice" || return 1
	# the example's defaults are the demonstration details: they pass the checks
	utility
	fails 66 "not found" askue invoice pdf 202611-0000000013 || return 1
	: >"$ASKUE_HOME/askue.conf"
	fails 66 "not found" askue invoice pdf 202611-0000000013 || return 1
}

# One digit wrong in each number: caught by its check digit, named by key.
test_invoice_pdf_bad_utility_details() {
	utility "bic = 04452522"
	fails 78 "\[utility\] bic: BIC '04452522': not 9 digits" askue invoice pdf X || return 1
	utility "settlement_account = 40702810138250123016"
	fails 78 "\[utility\] settlement_account: PersonalAcc '40702810138250123016': wrong check digit for BIC 044525225" \
		askue invoice pdf X || return 1
	utility "correspondent_account = 30101810400000000226"
	fails 78 "\[utility\] correspondent_account: CorrespAcc .* wrong check digit" \
		askue invoice pdf X || return 1
	utility "inn = 7707083894"
	fails 78 "\[utility\] inn: PayeeINN '7707083894': wrong check digit" askue invoice pdf X ||
		return 1
	utility "inn = 770708389"
	fails 78 "\[utility\] inn: PayeeINN '770708389': not 10 or 12 digits" askue invoice pdf X ||
		return 1
	utility "kpp = 69500100"
	fails 78 "\[utility\] kpp: KPP" askue invoice pdf X || return 1
	utility "name = Энерго|сбыт"
	fails 78 "\[utility\] name: Name 'Энерго\|сбыт': holds '\|'" askue invoice pdf X || return 1
	utility "bank = Публичное акционерное общество «Сбербанк России», Москва"
	fails 78 "\[utility\] bank: BankName .* at most 45" askue invoice pdf X || return 1
	utility "bank ="
	fails 78 "\[utility\] bank: BankName: empty" askue invoice pdf X || return 1
	# the file named, and nothing written
	fails 78 "askue.conf: \[utility\]" askue invoice pdf X || return 1
	[ ! -e X.pdf ] || fail "a file for bad details" || return 1
}
