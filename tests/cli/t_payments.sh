# Payments through the command line: askue pay, balance, payments import,
# the suspense list (assign, reject). Invoices are inserted into the ledger
# with sqlite3 (an invoice row and its posting, as the billing job writes
# them). Every expected figure is computed by hand in the comments.

two_subscribers() {
	A=$(askue subscriber add --name "Иванов Пётр" --address "ул. Ленина, 1" --date 2026-01-01) &&
		B=$(askue subscriber add --name "Петрова Анна" --address "ул. Ленина, 2" --date 2026-01-01)
}

# The account number with its check digit changed: a mistyped number.
mistyped() {
	local last=${1: -1}
	echo "${1%?}$(((last + 1) % 10))"
}

test_pay_goes_to_the_oldest_debt_first() {
	two_subscribers || return 1
	invoice "$A" 2026-01 100000 2026-02-15 2026-02-01 # 1000.00
	invoice "$A" 2026-02 80000 2026-03-15 2026-03-01  # 800.00
	ok askue --json balance "$A" && jqeq .balance 1800.00 && jqeq '.open_charges | length' 2 || return 1
	# 1200.00: 1000.00 settle January (paid), 200.00 February
	ok askue --json pay "$A" 1200.00 --date 2026-03-05 --ref SB-1 || return 1
	jqeq .account "$A" && jqeq .amount 1200.00 && jqeq .date 2026-03-05 && jqeq .ref SB-1 || return 1
	jqeq '[.allocations[] | .period + "=" + .amount] | join(",")' "2026-01=1000.00,2026-02=200.00" || return 1
	jqeq .unallocated 0.00 && jqeq .balance 600.00 || return 1
	eq paid "$(sql "SELECT status FROM invoice WHERE period = '2026-01'")" "January" || return 1
	eq current "$(sql "SELECT status FROM invoice WHERE period = '2026-02'")" "February" || return 1
	ok askue --json balance "$A" || return 1
	jqeq .balance 600.00 && jqeq '.open_charges[0].period' 2026-02 && jqeq '.open_charges[0].open' 600.00 || return 1
	# 900.00: 600.00 settle February, 300.00 stay credit
	ok askue --json pay "$A" 900 --date 2026-03-10 --ref SB-2 && jqeq .unallocated 300.00 && jqeq .balance -300.00 || return 1
	ok askue --json balance "$A" && jqeq .balance -300.00 && jqeq .credit 300.00 && jqeq '.open_charges | length' 0 || return 1
	ok askue --json events --type invoice_paid && jqeq length 2 && jqeq '.[1].subject' "$A" || return 1
	ok askue --json events --type payment_taken && jqeq length 2 || return 1
	ok askue --json payments list "$A" && jqeq length 2 && jqeq '.[1].allocations[0].amount' 600.00 || return 1
	ok askue payments list "$B" && eq "no payments" "$OUT"
}

test_pay_refuses_duplicates_and_bad_input() {
	two_subscribers || return 1
	ok askue pay "$A" 100.00 --date 2026-02-01 --ref CASH-7 || return 1
	fails 65 "CASH-7.*duplicate" askue pay "$A" 100.00 --date 2026-02-01 --ref CASH-7 || return 1
	fails 65 "CASH-7.*duplicate" askue pay "$B" 55.00 --date 2026-02-02 --ref CASH-7 || return 1
	fails 65 "more than zero" askue pay "$A" 0 --date 2026-02-01 || return 1
	fails 65 "more than zero" askue pay --date 2026-02-01 -- "$A" -5.00 || return 1
	fails 65 "amount" askue pay "$A" 12.345 --date 2026-02-01 || return 1
	fails 65 "amount" askue pay "$A" 1e3 --date 2026-02-01 || return 1
	fails 65 "future" askue pay "$A" 10 --date 2099-01-01 || return 1
	fails 65 "check digit" askue pay "$(mistyped "$A")" 10 --date 2026-02-01 || return 1
	fails 66 "no such subscriber" askue pay 12345678901 10 --date 2026-02-01 || return 1
	fails 64 "expected ACCOUNT AMOUNT" askue pay "$A" || return 1
	eq 1 "$(sql 'SELECT count(*) FROM payment')" "payments" || return 1
	eq -10000 "$(sql 'SELECT sum(amount_kop) FROM posting')" "postings"
}

# The bank file of the import tests. A owes 1000.00 (January).
bank_file() {
	cat >"$T_TMP/bank.csv" <<-EOF
		account,amount,date,ref
		$A,600.00,2026-02-05,BANK-001
		$A,600.00,2026-02-05,BANK-001
		$B,250.50,2026-02-06,BANK-002
		$A,700.00,2026-02-07,BANK-003
		$(mistyped "$A"),100.00,2026-02-07,BANK-004
		12345678901,75.25,2026-02-07,BANK-005
		$B,12.3.4,2026-02-07,BANK-006
		$B,40.00,2026-02-31,BANK-007
		$B,15.00,2026-02-07,
	EOF
}

test_import_loses_nothing_and_posts_nothing_twice() {
	two_subscribers || return 1
	invoice "$A" 2026-01 100000 2026-02-15 2026-02-01
	bank_file
	ok askue --json payments import "$T_TMP/bank.csv" || return 1
	# posted 600.00 + 250.50 + 700.00 = 1550.50; the second BANK-001 is a
	# duplicate (600.00); suspended: mistyped 100.00, unknown 75.25, bad
	# amount (none), bad date 40.00, no ref 15.00 = 230.25; the file's
	# amounts 2380.75 = 1550.50 + 600.00 + 230.25
	jqeq .rows 9 && jqeq .posted 3 && jqeq .duplicates 1 && jqeq .suspended 5 || return 1
	jqeq .total 2380.75 && jqeq .posted_total 1550.50 && jqeq .duplicates_total 600.00 || return 1
	jqeq .suspended_total 230.25 || return 1
	jqeq '[.not_posted[] | .message | capture(":(?<l>[0-9]+): ").l] | join(",")' "3,6,7,8,9,10" || return 1
	jqeq '.not_posted[] | select(.message | test(":6: ")) | .message | test("check digit")' true || return 1
	jqeq '.not_posted[] | select(.message | test(":7: ")) | .message | test("no such subscriber")' true || return 1
	jqeq '.not_posted[] | select(.message | test(":8: ")) | .message | test("amount")' true || return 1
	jqeq '.not_posted[] | select(.message | test(":10: ")) | .message | test("ref missing")' true || return 1
	# A: 1000.00 - 600.00 - 700.00 = -300.00 (an overpayment: credit); B: -250.50
	ok askue --json balance "$A" && jqeq .balance -300.00 && jqeq .credit 300.00 || return 1
	ok askue --json balance "$B" && jqeq .balance -250.50 || return 1
	eq paid "$(sql "SELECT status FROM invoice")" "January" || return 1
	ok askue --json payments suspense && jqeq length 5 || return 1
	jqeq '.[0].file' bank.csv && jqeq '.[0].line' 6 && jqeq '.[0].amount' 100.00 && jqeq '.[0].ref' BANK-004 || return 1
	jqeq ".[0].raw" "$(mistyped "$A"),100.00,2026-02-07,BANK-004" || return 1
	jqeq '.[2].amount' null && jqeq '.[4].ref' null || return 1
	# the same file again: nothing posted, nothing suspended twice
	ok askue --json payments import "$T_TMP/bank.csv" || return 1
	jqeq .posted 0 && jqeq .duplicates 4 && jqeq .suspended 0 && jqeq .already_suspended 5 || return 1
	jqeq .duplicates_total 2150.50 && jqeq .already_suspended_total 230.25 && jqeq .total 2380.75 || return 1
	eq 3 "$(sql 'SELECT count(*) FROM payment')" "payments" || return 1
	eq 5 "$(sql 'SELECT count(*) FROM payment_suspense')" "suspense rows" || return 1
	eq 3 "$(sql "SELECT count(*) FROM event WHERE type = 'payment_taken'")" "payment_taken" || return 1
	eq 5 "$(sql "SELECT count(*) FROM event WHERE type = 'payment_suspended'")" "payment_suspended" || return 1
	# text report: the counts and the totals in roubles
	ok askue payments import "$T_TMP/bank.csv" || return 1
	printf '%s\n' "$OUT" | grep -q "9 rows: 0 posted (0.00), 4 duplicates (2150.50), 0 suspended (0.00), 5 in suspense already (230.25); file total 2380.75" ||
		die "text report: $OUT"
}

test_import_semicolons_bom_and_decimal_comma() {
	two_subscribers || return 1
	printf '\357\273\277Account; Amount ;Date;Ref\r\n%s;1 234,56;2026-02-05;X-1\r\n%s;99,90;2026-02-05;X-2\r\n' \
		"$A" "$B" >"$T_TMP/semi.csv"
	ok askue --json payments import "$T_TMP/semi.csv" || return 1
	# "1 234,56" (a thousands space) is not a sum askue guesses at: suspense
	jqeq .posted 1 && jqeq .suspended 1 && jqeq .posted_total 99.90 || return 1
	ok askue --json balance "$B" && jqeq .balance -99.90
}

test_import_refuses_a_file_without_the_columns() {
	two_subscribers || return 1
	printf 'account,amount,date\n%s,10.00,2026-02-05\n' "$A" >"$T_TMP/nocol.csv"
	fails 65 "nocol.csv:1: header: column 'ref' missing" askue payments import "$T_TMP/nocol.csv" || return 1
	fails 74 "absent.csv: cannot open" askue payments import "$T_TMP/absent.csv" || return 1
	eq "0 0" "$(sql 'SELECT count(*) FROM payment') $(sql 'SELECT count(*) FROM payment_suspense')" "rows"
}

test_suspense_assign_and_reject() {
	two_subscribers || return 1
	bank_file
	ok askue payments import "$T_TMP/bank.csv" || return 1
	ok askue --json payments suspense || return 1
	unknown=$(printf '%s' "$OUT" | jq -r '.[] | select(.ref == "BANK-005") | .id')
	badamount=$(printf '%s' "$OUT" | jq -r '.[] | select(.ref == "BANK-006") | .id')
	noref=$(printf '%s' "$OUT" | jq -r '.[] | select(.ref == null) | .id')
	baddate=$(printf '%s' "$OUT" | jq -r '.[] | select(.ref == "BANK-007") | .id')
	# the unknown account's 75.25 belongs to B: B has -250.50 - 75.25 = -325.75
	ok askue --json payments assign "$unknown" "$B" || return 1
	jqeq .account "$B" && jqeq .amount 75.25 && jqeq .ref BANK-005 && jqeq .date 2026-02-07 && jqeq .balance -325.75 || return 1
	fails 65 "assigned already" askue payments assign "$unknown" "$A" || return 1
	fails 65 "no valid amount: give --amount" askue payments assign "$badamount" "$B" || return 1
	ok askue --json payments assign "$badamount" "$B" --amount 12.34 && jqeq .amount 12.34 && jqeq .balance -338.09 || return 1
	ok askue --json payments assign "$noref" "$B" && jqeq .ref null && jqeq .amount 15.00 || return 1
	fails 64 "reason" askue payments reject "$baddate" || return 1
	ok askue --json payments reject "$baddate" --reason "returned to the bank: no 31 February" || return 1
	jqeq .status rejected && jqeq .note "returned to the bank: no 31 February" || return 1
	fails 65 "rejected already" askue payments assign "$baddate" "$B" --date 2026-02-28 || return 1
	ok askue --json payments suspense && jqeq length 1 && jqeq '.[0].ref' BANK-004 || return 1
	ok askue --json payments suspense --all && jqeq length 5 || return 1
	jqeq "[.[] | select(.ref == \"BANK-005\") | .status, .note] | join(\"|\")" \
		"assigned|posted to $B as payment 4 (suspense $unknown (bank.csv:7))" || return 1
	ok askue --json events --type payment_assigned && jqeq length 3 || return 1
	ok askue --json events --type payment_rejected && jqeq length 1 || return 1
	# the file again: the assigned and rejected rows are neither posted nor suspended again
	ok askue --json payments import "$T_TMP/bank.csv" || return 1
	jqeq .posted 0 && jqeq .suspended 0 && jqeq .duplicates 4 && jqeq .already_suspended 5 || return 1
	eq 6 "$(sql 'SELECT count(*) FROM payment')" "payments"
}

# A good row whose ref waits in suspense (a corrected file from the bank)
# is posted, and closes the suspense row as assigned.
test_corrected_row_closes_its_suspense() {
	two_subscribers || return 1
	printf 'account,amount,date,ref\n%s,abc,2026-02-05,R-9\n' "$A" >"$T_TMP/first.csv"
	printf 'account,amount,date,ref\n%s,45.00,2026-02-05,R-9\n' "$A" >"$T_TMP/second.csv"
	ok askue --json payments import "$T_TMP/first.csv" && jqeq .suspended 1 || return 1
	ok askue --json payments import "$T_TMP/second.csv" && jqeq .posted 1 || return 1
	ok askue --json payments suspense && jqeq length 0 || return 1
	ok askue --json payments suspense --all && jqeq '.[0].status' assigned && jqeq '.[0].payment' 1
}

posted_at_least() { [ "$(sql 'SELECT count(*) FROM payment' 2>/dev/null || echo 0)" -ge "$1" ]; }

# Killed with SIGKILL in the middle of a file: whole rows posted (a payment,
# its posting and its event together), none half; the rerun posts the rest
# and the file's total is on the accounts exactly once.
test_import_killed_midway_then_rerun_completes() {
	{
		echo "name,address,date"
		for i in $(seq 1 20); do echo "Абонент $i,ул. Тестовая $i,2026-01-01"; done
	} >"$T_TMP/subs.csv"
	ok askue import subscribers "$T_TMP/subs.csv" || return 1
	sql "SELECT account FROM subscriber ORDER BY id" >"$T_TMP/accounts"
	awk 'NR == FNR { acc[n++] = $1; next }
	     END { print "account,amount,date,ref";
	           for (i = 0; i < 6000; i++) printf "%s,%d.%02d,2026-02-%02d,K-%05d\n", acc[i % n], 1 + i % 997, i % 100, 1 + i % 28, i }' \
		"$T_TMP/accounts" /dev/null >"$T_TMP/big.csv"
	# sum of amounts, computed apart from askue: kopecks of each row
	want=$(awk -F, 'NR > 1 { split($2, a, "."); s += a[1] * 100 + a[2] } END { print s }' "$T_TMP/big.csv")
	"$ASKUE_BUILD/askue" payments import "$T_TMP/big.csv" >/dev/null 2>&1 &
	pid=$!
	wait_for 60 posted_at_least 1000 ||
		die "the import posted nothing in 60 s"
	kill -9 $pid
	wait $pid 2>/dev/null
	n=$(sql 'SELECT count(*) FROM payment')
	[ "$n" -lt 6000 ] || die "the import finished before it was killed ($n rows)"
	eq 0 $((n % 500)) "payments after the kill ($n) in whole batches" || return 1
	eq "$n" "$(sql "SELECT count(*) FROM posting WHERE kind = 'payment'")" "postings" || return 1
	eq "$n" "$(sql "SELECT count(*) FROM event WHERE type = 'payment_taken'")" "events" || return 1
	ok askue --json payments import "$T_TMP/big.csv" || return 1
	jqeq .posted $((6000 - n)) && jqeq .duplicates "$n" && jqeq .suspended 0 || return 1
	eq 6000 "$(sql 'SELECT count(*) FROM payment')" "payments" || return 1
	eq "-$want" "$(sql 'SELECT sum(amount_kop) FROM posting')" "the accounts' total"
}

# askue job payments: the inbox's registries posted and moved to done/, a
# file without the columns to failed/; --dry-run posts and moves nothing;
# a second run finds an empty inbox.
test_job_payments_takes_the_inbox() {
	two_subscribers || return 1
	mkdir -p "$ASKUE_HOME/payments/inbox"
	printf 'account,amount,date,ref\n%s,100.00,2026-02-05,J-1\n%s,bad,2026-02-05,J-2\n' "$A" "$B" \
		>"$ASKUE_HOME/payments/inbox/2026-02-05.csv"
	printf 'account;amount;date;ref\n%s;50,50;2026-02-06;J-3\n%s;100.00;2026-02-05;J-1\n' "$B" "$A" \
		>"$ASKUE_HOME/payments/inbox/2026-02-06.csv"
	printf 'account,sum\n%s,1\n' "$A" >"$ASKUE_HOME/payments/inbox/broken.csv"
	ok askue --json job payments --dry-run --date 2026-02-07 || return 1
	# each file as if alone: J-1 of the second file is not yet a duplicate
	jqeq '.files | length' 3 && jqeq .posted 3 && jqeq .duplicates 0 && jqeq .suspended 1 || return 1
	eq "0 0" "$(sql 'SELECT count(*) FROM payment') $(sql 'SELECT count(*) FROM payment_suspense')" "after --dry-run" || return 1
	eq 3 "$(ls "$ASKUE_HOME/payments/inbox" | wc -l)" "files in the inbox after --dry-run" || return 1
	ok askue --json job payments --date 2026-02-07 || return 1
	# posted 100.00 + 50.50; J-1 again a duplicate (100.00); 'bad' suspended
	jqeq .posted 2 && jqeq .posted_total 150.50 && jqeq .duplicates_total 100.00 && jqeq .suspended 1 || return 1
	jqeq '.files[2].error | test("broken.csv:1: header: column .amount. missing")' true || return 1
	eq "2026-02-05.csv 2026-02-06.csv" "$(ls "$ASKUE_HOME/payments/done" | xargs)" "done" || return 1
	eq "broken.csv" "$(ls "$ASKUE_HOME/payments/failed")" "failed" || return 1
	ok askue --json balance "$B" && jqeq .balance -50.50 || return 1
	ok askue --json job payments && jqeq '.files | length' 0 && jqeq .posted 0
}
