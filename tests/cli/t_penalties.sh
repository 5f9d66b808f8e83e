# Penalties through the command line: askue job penalties, penalty show,
# debtors. Invoices are inserted with sqlite3 (an invoice row and its
# posting, as the billing job writes them); payments go through `askue pay`,
# whose allocations the job reads. The rules are the shipped deploy/rules
# (9.5 % under ПП 474 / ПП 329 in 2026). Every expected figure is computed
# by hand in the comments.

setup() {
	{
		echo "[askue]"
		echo "timezone = Europe/Moscow"
		echo "[billing]"
		echo "rules_dir = $ASKUE_SRC/deploy/rules"
	} >"$ASKUE_HOME/askue.conf"
}

subscriber() {
	askue subscriber add --name "$1" --address "ул. Ленина, $2" --date 2026-01-01 ${3:+--category "$3"}
}

# 1,000.00 for January 2026, due 10.02.2026, paid 30.06.2026: day 1 = 11.02,
# days 31-90 = 13.03-11.05 at 1/300 (19.00), days 91-140 = 12.05-30.06 at
# 1/130 (36.54): 55.54.
test_statute_example_through_pay_and_job() {
	setup
	A=$(subscriber "Иванов Пётр" 1) || return 1
	invoice "$A" 2026-01 100000 2026-02-10 2026-02-01
	ok askue pay "$A" 1000.00 --date 2026-06-30 --ref SB-1 || return 1
	ok askue --json job penalties --date 2026-06-30 || return 1
	jqeq .penalties_posted 55.54 && jqeq .invoices_overdue 1 && jqeq .accounts_accrued 1 || return 1
	jqeq '.accrued[0].subject' "$A" && jqeq '.accrued[0].amount' 55.54 || return 1
	ok askue --json balance "$A" && jqeq .balance 55.54 || return 1
	eq 5554 "$(sql "SELECT amount_kop FROM posting WHERE kind = 'penalty' AND period = '2026-01'")" || return 1
	ok askue --json events --type invoice_overdue && jqeq length 1 && jqeq '.[0].subject' "$A" || return 1
	ok askue --json events --type penalty_accrued && jqeq length 1 || return 1
	# the same date again: nothing new
	ok askue --json job penalties --date 2026-06-30 && jqeq .penalties_posted 0.00 || return 1
	jqeq .accounts_accrued 0 && jqeq .invoices_overdue 0 || return 1
	ok askue --json events --type penalty_accrued && jqeq length 1 || return 1
	eq 1 "$(sql "SELECT count(*) FROM posting WHERE kind = 'penalty'")" "penalty postings"
}

test_penalty_show_prints_the_day_ranges() {
	setup
	A=$(subscriber "Иванов Пётр" 1) || return 1
	invoice "$A" 2026-01 100000 2026-02-10 2026-02-01
	invoice "$A" 2026-06 90000 2026-07-15 2026-07-01 # not yet due on 30.06
	ok askue penalty show "$A" --date 2026-06-30 || return 1
	printf '%s\n' "$OUT" | grep -q "period 2026-01: charge 1000.00 due 2026-02-10, day 1 = 2026-02-11" ||
		die "no period header: $OUT"
	printf '%s\n' "$OUT" | grep -qE "2026-02-11\.\.2026-03-12 +days 1-30 +base +1000.00 +grace +0.00" ||
		die "no grace line: $OUT"
	printf '%s\n' "$OUT" | grep -qE "2026-03-13\.\.2026-05-11 +days 31-90 +base +1000.00 +1/300 x 9.50% \(rate of 2026-06-30\) +19.00" ||
		die "no 1/300 line: $OUT"
	printf '%s\n' "$OUT" | grep -qE "2026-05-12\.\.2026-06-30 +days 91-140 +base +1000.00 +1/130 x 9.50% \(rate of 2026-06-30\) +36.54" ||
		die "no 1/130 line: $OUT"
	printf '%s\n' "$OUT" | grep -q "penalty 55.54 .*nothing posted yet" || die "no total: $OUT"
	printf '%s\n' "$OUT" | grep -q "^(1 charge paid in time or not yet due: no penalty)" ||
		die "the June charge: $OUT"
	ok askue --json penalty show "$A" --date 2026-06-30 || return 1
	jqeq .total 55.54 && jqeq .posted 0.00 && jqeq '.charges[0].lines | length' 3 || return 1
	jqeq '.charges | length' 2 && jqeq '.charges[1].penalty' 0.00 || return 1
	jqeq '.charges[0].lines[1].fraction' 1/300 && jqeq '.charges[0].lines[1].day_from' 31 || return 1
	jqeq '.charges[0].lines[2].day_until' 140 && jqeq '.charges[0].lines[2].rate' 9.50 || return 1
	# show is read-only; after the job, it says what was posted
	eq 0 "$(sql "SELECT count(*) FROM posting WHERE kind = 'penalty'")" "postings after show" || return 1
	ok askue job penalties --date 2026-06-30 || return 1
	ok askue --json penalty show "$A" --date 2026-06-30 && jqeq .posted 55.54 || return 1
	jqeq '.charges[0].posted_through' 2026-06-30 || return 1
	fails 66 "" askue penalty show 0000000000 --date 2026-06-30 || return 1
	fails 64 "" askue penalty show
}

test_dry_run_writes_nothing() {
	setup
	A=$(subscriber "Иванов Пётр" 1) || return 1
	invoice "$A" 2026-01 100000 2026-02-10 2026-02-01
	ok askue --json job penalties --date 2026-06-30 --dry-run || return 1
	jqeq .dry_run true && jqeq .penalties_posted 55.54 && jqeq .invoices_overdue 1 || return 1
	ok askue --json balance "$A" && jqeq .balance 1000.00 || return 1
	ok askue --json events --type invoice_overdue && jqeq length 0 || return 1
	eq 0 "$(sql "SELECT count(*) FROM penalty_accrual")" "accruals"
}

# Accrued 55.54 through 30.06 on an unpaid debt; a bank file then brings a
# payment dated 11.05 (day 90): 60 days at 1/300 = 19.00, so the next run
# posts -36.54 and the account owes 19.00.
test_late_payment_is_a_correcting_entry() {
	setup
	A=$(subscriber "Иванов Пётр" 1) || return 1
	invoice "$A" 2026-01 100000 2026-02-10 2026-02-01
	ok askue job penalties --date 2026-06-30 || return 1
	ok askue pay "$A" 1000.00 --date 2026-05-11 --ref LATE-1 || return 1
	ok askue --json job penalties --date 2026-07-01 || return 1
	jqeq .penalties_corrected -36.54 && jqeq .penalties_posted 0.00 && jqeq .charges_closed 1 || return 1
	ok askue --json balance "$A" && jqeq .balance 19.00 || return 1
	eq "5554,-3654" "$(sql "SELECT group_concat(amount_kop) FROM posting WHERE kind = 'penalty'")"
}

# A late bank file withdraws an overdue (issue 5's known gap). A legal
# entity's 1,000.00 due 10.02.2026 is journaled overdue on 20.02 with
# 1,000 x 9.5 % x 10 / 130 = 7.3077 -> 7.31 (days 11.02-20.02 at 1/130).
# The bank's file then brings the payment, dated 10.02: at once debtors
# lists nobody and penalty show says 0.00, paid by its due date, to be
# withdrawn; the next run posts -7.31 and journals
# invoice_overdue_withdrawn once; penalty show then says withdrawn.
test_late_bank_file_withdraws_the_overdue() {
	setup
	B=$(subscriber "ООО Ромашка" 2 other) || return 1
	invoice "$B" 2026-01 100000 2026-02-10 2026-02-01
	ok askue --json job penalties --date 2026-02-20 || return 1
	jqeq .invoices_overdue 1 && jqeq .penalties_posted 7.31 && jqeq .overdue_withdrawn 0 || return 1
	ok askue --json debtors --date 2026-02-20 && jqeq '.debtors | length' 1 || return 1
	printf 'account,amount,date,ref\n%s,1000.00,2026-02-10,BANK-77\n' "$B" >"$T_TMP/bank.csv"
	ok askue payments import "$T_TMP/bank.csv" || return 1
	ok askue --json debtors --date 2026-02-21 && jqeq '.debtors | length' 0 || return 1
	ok askue --json penalty show "$B" --date 2026-02-21 || return 1
	jqeq .total 0.00 && jqeq .posted 7.31 && jqeq '.charges[0].overdue.paid_by_due' true || return 1
	jqeq '.charges[0].overdue.withdrawn' null && jqeq '.charges[0].overdue.unpaid' 1000.00 || return 1
	ok askue --json job penalties --date 2026-02-21 || return 1
	jqeq .overdue_withdrawn 1 && jqeq .penalties_corrected -7.31 && jqeq .invoices_overdue 0 || return 1
	ok askue --json events --type invoice_overdue_withdrawn || return 1
	jqeq length 1 && jqeq '.[0].subject' "$B" || return 1
	jqeq '.[0].details.unpaid' 1000.00 && jqeq '.[0].details.overdue' 2026-02-20 || return 1
	jqeq '.[0].details.date' 2026-02-21 && jqeq '.[0].details.due' 2026-02-10 || return 1
	eq 2026-02-21 "$(sql "SELECT withdrawn FROM invoice_overdue")" "withdrawn" || return 1
	ok askue --json penalty show "$B" --date 2026-02-21 || return 1
	jqeq .total 0.00 && jqeq .posted 0.00 && jqeq '.charges[0].overdue.withdrawn' 2026-02-21 || return 1
	ok askue penalty show "$B" --date 2026-02-21 || return 1
	printf '%s\n' "$OUT" | grep -q "overdue: journaled on 2026-02-20, 1000.00 unpaid at the due date; withdrawn on 2026-02-21: paid by its due date" ||
		die "no overdue line: $OUT"
	ok askue --json balance "$B" && jqeq .balance 0.00 || return 1
	ok askue --json job penalties --date 2026-02-22 && jqeq .overdue_withdrawn 0 || return 1
	ok askue --json events --type invoice_overdue_withdrawn && jqeq length 1
}

# A legal entity (ФЗ-35): 100,000.00 due 18.03.2026, paid 17.04.2026: 30 days
# at 1/130 from the first day = 2,192.31.
test_legal_entity() {
	setup
	A=$(subscriber "ООО Ромашка" 9 other) || return 1
	invoice "$A" 2026-02 10000000 2026-03-18 2026-03-01
	ok askue pay "$A" 100000.00 --date 2026-04-17 --ref PP-77 || return 1
	ok askue --json job penalties --date 2026-04-30 && jqeq .penalties_posted 2192.31
}

# On 30.06.2026:
#   A: January 1,000.00 due 10.02 (140 days), February 1,000.00 due 10.03
#      (112 days), March 1,000.00 due 15.04 (76 days), nothing paid:
#      31-90: 1,000.00, over 90: 2,000.00; penalties 55.54 + (19.00 +
#      22 days at 1/130 = 16.077: 35.08) + (46 days at 1/300 = 14.57) = 105.19.
#   B: May 500.00 due 15.06 (15 days): 0-30: 500.00, no penalty (grace).
#   C: March 300.00 due 15.04, 100.00 paid 10.04: 31-90: 200.00; penalty 46
#      days at 1/300 on 200.00 = 2.91.
#   Totals: 500.00, 1,200.00, 2,000.00 = 3,700.00; penalties 108.10.
#   Restriction: A owes 3,000.00 > 2 x 1,000.00 (its average invoice);
#   B 500.00 <= 1,000.00; C 200.00 <= 600.00.
debtors_ledger() {
	A=$(subscriber "Иванов Пётр" 1) && B=$(subscriber "Петрова Анна" 2) &&
		C=$(subscriber "Сидоров Иван" 3) || return 1
	invoice "$A" 2026-01 100000 2026-02-10 2026-02-01
	invoice "$A" 2026-02 100000 2026-03-10 2026-03-01
	invoice "$A" 2026-03 100000 2026-04-15 2026-04-01
	invoice "$B" 2026-05 50000 2026-06-15 2026-06-01
	invoice "$C" 2026-03 30000 2026-04-15 2026-04-01
	askue pay "$C" 100.00 --date 2026-04-10 --ref C-1 >/dev/null || return 1
	askue job penalties --date 2026-06-30 >/dev/null
}

test_debtors_aging_buckets_and_totals() {
	setup
	debtors_ledger || return 1
	ok askue --json debtors --date 2026-06-30 || return 1
	jqeq '.debtors | length' 3 && jqeq '.totals.accounts' 3 || return 1
	jqeq ".debtors[] | select(.account == \"$A\") | [.days_0_30, .days_31_90, .days_over_90, .debt, .penalties, .oldest_days] | join(\",\")" \
		"0.00,1000.00,2000.00,3000.00,105.19,140" || return 1
	jqeq ".debtors[] | select(.account == \"$B\") | [.days_0_30, .days_31_90, .days_over_90, .penalties] | join(\",\")" \
		"500.00,0.00,0.00,0.00" || return 1
	jqeq ".debtors[] | select(.account == \"$C\") | [.days_31_90, .debt, .penalties] | join(\",\")" \
		"200.00,200.00,2.91" || return 1
	jqeq '[.totals.days_0_30, .totals.days_31_90, .totals.days_over_90, .totals.debt, .totals.penalties] | join(",")' \
		"500.00,1200.00,2000.00,3700.00,108.10" || return 1
	# before any due date nobody is a debtor
	ok askue --json debtors --date 2026-02-10 && jqeq '.debtors | length' 0 && jqeq .totals.debt 0.00 || return 1
	ok askue debtors --date 2026-06-30 || return 1
	printf '%s\n' "$OUT" | grep -qE "^total +500.00 +1200.00 +2000.00 +3700.00 +108.10" || die "no totals: $OUT"
}

# The restriction threshold: two months of the norm (deploy/rules/norms.csv:
# a one-room flat, gas stove, one resident: 139 kWh) at the tariff's price
# (5.67): 139 x 5.67 = 788.13, x 2 = 1,576.26, for A and for D, who chose
# the tariff; B and C have none: two average invoices (1,000.00, 600.00).
# D owes May's 3,000.00 (15 days): over 1,576.26, though not over two of
# its average invoices (6,000.00). A owes 3,000.00: listed.
test_debtors_restriction_and_csv() {
	setup
	debtors_ledger || return 1
	D=$(subscriber "Кузнецов Олег" 4) || return 1
	invoice "$D" 2026-05 300000 2026-06-15 2026-06-01
	askue tariff add Один --date 2025-01-01 >/dev/null &&
		askue tariff price Один --from 2025-01-01 all=5.67 >/dev/null || return 1
	for acc in "$A" "$D"; do askue tariff choose "$acc" Один --from 2026-01-01 >/dev/null || return 1; done
	ok askue --json debtors --date 2026-06-30 --restriction || return 1
	jqeq '[.debtors[].account] | join(",")' "$A,$D" && jqeq .norms loaded || return 1
	jqeq '[.debtors[] | .threshold + " " + .threshold_basis] | join(",")' \
		"1576.26 norm,1576.26 norm" || return 1
	ok askue debtors --date 2026-06-30 --csv "$T_TMP/d.csv" || return 1
	eq 6 "$(wc -l <"$T_TMP/d.csv")" "CSV lines" || return 1
	eq "account,name,address,category,days_0_30,days_31_90,days_over_90,debt,penalties,oldest_days,threshold,threshold_basis" \
		"$(head -1 "$T_TMP/d.csv")" || return 1
	eq "\"$B\",\"Петрова Анна\",\"ул. Ленина, 2\",household,500.00,0.00,0.00,500.00,0.00,15,1000.00,average_invoiced_charge" \
		"$(grep "^\"$B\"" "$T_TMP/d.csv")" || return 1
	eq "\"$D\",\"Кузнецов Олег\",\"ул. Ленина, 4\",household,3000.00,0.00,0.00,3000.00,0.00,15,1576.26,norm" \
		"$(grep "^\"$D\"" "$T_TMP/d.csv")" || return 1
	eq "\"total\",\"\",\"\",,3500.00,1200.00,2000.00,6700.00,108.10,0,," "$(tail -1 "$T_TMP/d.csv")" || return 1
	fails 64 "" askue debtors --bogus
}

test_missing_rules_are_a_clear_error() {
	setup
	echo "rules_dir = $T_TMP/nowhere" >>"$ASKUE_HOME/askue.conf"
	fails - "rules_dir" askue job penalties --date 2026-06-30
}
