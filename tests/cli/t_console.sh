# askue-console end to end: the real console (ASKUE_BUILD/askue-console,
# sanitizer build) driven in tmux over a ledger made by the askue command
# line — sign in, find a subscriber by a Cyrillic fragment, open the card
# and an invoice explained, resolve an alert, assign a payment in suspense
# after a mistyped account is refused, a role refused in the action itself,
# a resized terminal — then the ledger and the journal checked with the
# CLI. Every wait is a bounded poll of the screen (wait_for), never a
# fixed sleep. No servers are needed (the stale job's broker port is shut).

. "$(dirname "${BASH_SOURCE[0]}")/../lib/console.sh"

# The ledger: a subscriber with a Cyrillic name and a meter that fell
# silent (an alert), one with an invoice, a bank row with a mistyped
# account in suspense, and two console users.
console_ledger() {
	{
		echo "[askue]"
		echo "timezone = Europe/Moscow"
		echo "[mqtt]"
		echo "port = 1"
		echo "[stale]"
		echo "status_wait_ms = 0"
		echo "[billing]"
		echo "rules_dir = $ASKUE_SRC/deploy/rules"
		echo "[influx]"
		echo "url = http://127.0.0.1:1"
	} >"$ASKUE_HOME/askue.conf"
	ACC1=$(askue subscriber add --name "Семёнов Пётр Ильич" \
		--address "г. Тверь, ул. Ленина, д. 5, кв. 12, вход со двора, код домофона 12К, за аптекой «Здоровье», третий подъезд слева от арки, очень длинный адрес" \
		--district Центральный --substation ТП-101 --date 2026-01-01) || return 1
	ACC2=$(askue subscriber add --name "Иванова Анна" --address "г. Тверь, ул. Советская, 1" \
		--date 2026-01-01) || return 1
	askue meter add --serial M1 --model "Меркурий 201.8" --commissioned 2025-06-01 \
		--service-life 16 >/dev/null || return 1
	askue meter install M1 "$ACC1" --date 2026-01-10 >/dev/null || return 1
	sqlite3 "$ASKUE_HOME/lastseen.db" "PRAGMA journal_mode=WAL; CREATE TABLE lastseen(meter TEXT
	 PRIMARY KEY, ts INTEGER NOT NULL, arrived INTEGER NOT NULL, heard INTEGER NOT NULL) WITHOUT ROWID;
	 INSERT INTO lastseen VALUES('M1', strftime('%s','2026-11-20 10:00'),
	 strftime('%s','2026-11-20 10:00'), strftime('%s','2026-11-20 10:00'));" >/dev/null
	ok askue --json job stale --date 2026-11-27 && jqeq '.alerts_opened' 1 || return 1
	invoice "$ACC1" 2026-10 123456 2026-11-10 2026-11-01 || return 1
	printf 'account,amount,date,ref\n0000000099,1500.00,2026-11-05,SB-1\n' >"$T_TMP/reestr.csv"
	askue payments import "$T_TMP/reestr.csv" >/dev/null || return 1
	eq 1 "$(sql "SELECT count(*) FROM payment_suspense WHERE status = 'open'")" "suspense" || return 1
	echo pass-word-1 | askue user add ops --role operations >/dev/null || return 1
	echo pass-word-1 | askue user add acc --role accounting >/dev/null
}

test_console_operations_and_accounting() {
	trap console_stop EXIT
	console_ledger || return 1
	eq 0000000013 "$ACC1" "the first account" || return 1

	# Operations: a wrong password first, then in.
	console_start || return 1
	text ops && keys Enter && text not-the-one && keys Enter || return 1
	wait_screen "wrong user name or password" || return 1
	# The name stays; the password is typed again.
	text pass-word-1 && keys Enter && wait_screen "ops (operations)" || return 1
	seen "Alert queue" || fail "ops has no alert queue" || return 1
	seen "Payments in suspense" && { fail "ops is offered the suspense list"; return 1; }
	# The hidden item's key: refused by the action itself.
	keys 3 && wait_screen "ops (role operations) may not see payments in suspense" || return 1

	# Find by a Cyrillic fragment in capitals, open the card.
	keys 1 && wait_screen "Find a subscriber" || return 1
	text "ЛЕНИНА" && keys Enter || return 1
	wait_screen "Семёнов Пётр Ильич" || return 1
	keys Enter && wait_screen "Card 0000000013 Семёнов Пётр Ильич" || return 1
	seen "silent M1" && seen "Меркурий 201.8" && seen "to pay 1234.56" &&
		seen "unpaid               invoice 2026-10, invoice 2026-10-1 due 2026-11-10: 1234.56 of 1234.56 rub" || {
		screen >&2
		fail "the card lacks its alert, meter or invoice"
		return 1
	}
	# The long address is cut by display width: one line, ending in "…".
	screen | grep -q "^address .*…$" || fail "the address is not cut with …" || return 1
	# The last row is the meter's alert: Enter shows it whole.
	keys End Enter && wait_screen "Alert 1: silent M1" || return 1
	keys q && wait_screen "Card 0000000013" || return 1
	# Up once from the alert (past the headings): the invoice, explained.
	keys Up Enter && wait_screen "Invoice 2026-10-1 explained" || return 1
	wait_screen "total to pay (negative: credit)                     1234.56 RUB" || return 1
	keys q q q && wait_screen "Alert queue" || return 1

	# The alert queue: resolve with an outcome typed in Cyrillic.
	keys 2 && wait_screen "silent" || return 1
	keys Enter && wait_screen "Alert 1: silent M1" || return 1
	wait_screen "status         open" && wait_screen "meters         M1" || return 1
	keys q && wait_screen "Alerts: every kind, active" || return 1
	keys r && wait_screen "Resolve alert" || return 1
	keys Enter && wait_screen "outcome: must not be empty" || return 1
	text "Модем заменён, данные идут" && keys Enter || return 1
	wait_screen "y/n? Resolve alert 1? A resolved alert is final" || return 1
	keys n && wait_screen "nothing done" || return 1
	keys Enter && wait_screen "y/n? Resolve alert 1?" && keys y || return 1
	wait_screen "alert 1 resolved" || return 1
	# A resize redraws the whole screen at the new size.
	tmux -S "$TMUX_SOCK" resize-window -x 80 -y 24 || return 1
	wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | sed -n 23p | grep -q '^Enter details   a assign'" || {
		screen >&2
		fail "no redraw after the resize"
		return 1
	}
	# Completeness reads InfluxDB: none here, and the status line says so.
	tmux -S "$TMUX_SOCK" resize-window -x 160 -y 40 || return 1
	keys q && wait_screen "Data completeness report" || return 1
	keys 7 && wait_screen "date (YYYY-MM-DD, empty: today)" || return 1
	text 2026-11-27 && keys Enter || return 1
	wait_screen "askue: report completeness: readings of the day: influx: http://127.0.0.1:1" ||
		return 1
	keys Escape && wait_screen "1-7 choose" || return 1
	console_quit || return 1

	# Accounting: the suspense row, a mistyped account refused, then posted.
	console_start && sign_in acc || return 1
	keys 3 && wait_screen "SB-1" || return 1
	keys Enter && wait_screen "the bank's row 0000000099,1500.00,2026-11-05,SB-1" || return 1
	keys q && wait_screen "Payments in suspense" || return 1
	keys a && wait_screen "Assign payment" || return 1
	keys Enter Enter Enter && wait_screen "check digit does not match" || return 1
	# What was typed stays: the amount field still empty, the account to fix.
	keys C-u && text "$ACC2" && keys Enter && text "abc" && keys Enter Enter || return 1
	wait_screen "amount: " || return 1
	keys C-u Enter Enter && wait_screen "y/n? Post suspense 1 to $ACC2 Иванова Анна" || return 1
	keys y && wait_screen "suspense 1 posted to account $ACC2" || return 1
	wait_screen "nothing waits in suspense" || return 1
	# Debtors on 2026-12-31: the October invoice (due 2026-11-10) is 51 days
	# overdue, all of it in 31-90; no penalty posted (the job did not run).
	keys q 4 && wait_screen "Debtors with aging" || return 1
	text 2026-12-31 && keys Enter || return 1
	wait_screen "Debtors on 2026-12-31: 1 accounts" || return 1
	screen | grep -qE "^0000000013 +Семёнов Пётр Ильич +0\.00 +1234\.56 +0\.00 +0\.00 +51$" || {
		screen >&2
		fail "the debtor's row"
		return 1
	}
	keys Enter && wait_screen "Card 0000000013" || return 1
	console_quit || return 1

	# The ledger and the journal, by the command line.
	ok askue --json events --type alert_resolved || return 1
	jqeq '.[0].operator' ops && jqeq '.[0].details.outcome' "Модем заменён, данные идут" || return 1
	ok askue --json events --type payment_assigned || return 1
	jqeq '.[0].operator' acc && jqeq '.[0].subject' "$ACC2" || return 1
	ok askue --json balance "$ACC2" && jqeq '.balance' "-1500.00" || return 1
	ok askue --json events --type console_signin_failed || return 1
	jqeq 'length' 1 && jqeq '.[0].subject' ops && jqeq '.[0].details.reason' "wrong password" ||
		return 1
	ok askue --json user list || return 1
	jqeq '[.[] | .failed_total] | join(",")' "0,1" || return 1
	jqeq '.[1].last_signin != null' true
}

test_console_disabled_user_and_lockout() {
	trap console_stop EXIT
	console_ledger || return 1
	ok askue user disable acc || return 1
	console_start || return 1
	text acc && keys Enter && text pass-word-1 && keys Enter || return 1
	wait_screen "user acc is disabled" || return 1
	# Five wrong passwords in a row lock ops; the right one is refused then.
	# Refused as disabled, the cursor is back on the name; after a wrong
	# password, on the password with the name kept.
	keys C-u && text ops && keys Enter || return 1
	for i in 1 2 3 4 5; do
		text "wrong-$i-pass" && keys Enter || return 1
		wait_for 10 sh -c "[ \$(sqlite3 '$ASKUE_HOME/askue.db' \"SELECT failed FROM console_user
		 WHERE name = 'ops'\") -ge $i ]" || fail "failure $i not counted" || return 1
	done
	text pass-word-1 && keys Enter || return 1
	wait_screen "user ops is locked after 5 failed sign-ins" || return 1
	keys Escape
	wait_for 10 test -s "$T_TMP/console.rc" || fail "Esc did not end the sign-in" || return 1
	console_stop
	# An admin's new password unlocks.
	echo new-pass-word | askue user passwd ops >/dev/null || return 1
	ok askue --json user list && jqeq '.[1].locked' false && jqeq '.[1].failed_total' 6
}

test_user_commands() {
	# The password from a pipe: the first line; never on the command line.
	ok askue --json user add ivanova --role accounting <<<pass-word-1 || return 1
	jqeq '.name' ivanova && jqeq '.role' accounting && jqeq '.disabled' false || return 1
	jqeq '.last_signin' null || return 1
	eq 1 "$(sql "SELECT count(*) FROM console_user WHERE pwhash LIKE '\$argon2id\$%'")" "hash" ||
		return 1
	eq 0 "$(sql "SELECT count(*) FROM console_user WHERE pwhash LIKE '%pass-word-1%'")" "clear" ||
		return 1
	fails 65 "user ivanova: exists already" askue user add ivanova --role admin <<<pass-word-1 ||
		return 1
	fails 65 "password: shorter than 8 characters" askue user add petrov --role admin <<<short ||
		return 1
	fails 65 "role 'boss': expected operations, tariff, accounting or admin" \
		askue user add petrov --role boss </dev/null || return 1
	fails 65 "user name 'пётр'" askue user add пётр --role admin </dev/null || return 1
	fails 65 "nothing on standard input" askue user add petrov --role admin </dev/null || return 1
	fails 64 "expected NAME --role" askue user add petrov || return 1
	fails 64 "unknown subcommand 'drop'" askue user drop ivanova || return 1
	ok askue user passwd ivanova <<<new-pass-word && eq "user ivanova has a new password" "$OUT" ||
		return 1
	fails 66 "user nobody: no such user" askue user disable nobody || return 1
	ok askue user disable ivanova || return 1
	ok askue --json user list && jqeq 'length' 1 && jqeq '.[0].disabled' true || return 1
	ok askue user list && printf '%s' "$OUT" | grep -q "^ivanova .*accounting .*disabled" ||
		fail "user list: $OUT" || return 1
	# Each change journaled, by the CLI's operator.
	ok askue --json events --subject ivanova || return 1
	jqeq '[.[] | .type] | join(",")' \
		"console_user_added,console_user_password_set,console_user_disabled" || return 1
	jqeq '.[0].operator' tester
}

test_console_long_list_pages() {
	trap console_stop EXIT
	{
		echo "name,address,district,substation,date"
		for i in $(seq 1 60); do
			echo "Абонент Ёлкин $i,\"г. Тверь, улица Берёзовая, дом $i\",Северный,ТП-7,2026-01-01"
		done
	} >"$T_TMP/subs.csv"
	askue import subscribers "$T_TMP/subs.csv" >/dev/null || return 1
	askue user add tar --role tariff <<<pass-word-1 >/dev/null || return 1
	console_start && sign_in tar || return 1
	keys / && wait_screen "Find a subscriber" || return 1
	text "берЕзовая" && keys Enter || return 1
	# 40 lines: 36 rows of the list; the heads say which.
	wait_screen " 1-36 of 60 " || return 1
	keys PageDown && wait_screen " 2-37 of 60 " || return 1
	keys PageDown PageDown && wait_screen " 25-60 of 60 " || return 1
	seen "Абонент Ёлкин 60" || fail "the last row is not shown" || return 1
	keys Home && wait_screen " 1-36 of 60 " || return 1
	console_quit
}

test_console_idle_sign_out() {
	trap console_stop EXIT
	console_ledger || return 1
	printf '[console]\nidle_s = 2\n' >>"$ASKUE_HOME/askue.conf"
	console_start && sign_in ops || return 1
	keys 2 && wait_screen "silent" || return 1
	# No key for 2 s: back to the sign-in, the alert queue gone from view.
	wait_screen "signed out after 2 s without a key" || return 1
	seen "Sign in" && ! seen "silent" || fail "the screen after the sign-out" || return 1
	sign_in acc || return 1
	keys q && wait_for 10 test -s "$T_TMP/console.rc" || fail "q did not end it" || return 1
	console_stop
	ok askue --json events --type console_signed_out || return 1
	jqeq '[.[] | .subject + ":" + .details.reason] | join(",")' "ops:idle,acc:quit" || return 1
	jqeq '.[0].operator' ops
}

test_user_add_on_a_terminal_asks_twice_without_echo() {
	trap console_stop EXIT
	TMUX_SOCK="$T_TMP/tmux-a.sock"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 10 \
		"'$ASKUE_BUILD/askue' user add petrov --role tariff; echo rc=\$?; sleep 30" || return 1
	wait_screen "New password:" || return 1
	text secret-horse && keys Enter && wait_screen "Again:" || return 1
	text secret-horsf && keys Enter && wait_screen "the two entries differ" || return 1
	wait_screen "rc=65" || return 1
	seen "secret-hors" && { fail "the password was echoed"; return 1; }
	eq 0 "$(sql "SELECT count(*) FROM console_user")" "users after a mismatch" || return 1
	console_stop
	TMUX_SOCK="$T_TMP/tmux-b.sock"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 10 \
		"'$ASKUE_BUILD/askue' user add petrov --role tariff; echo rc=\$?; sleep 30" || return 1
	wait_screen "New password:" && text secret-horse && keys Enter && wait_screen "Again:" ||
		return 1
	text secret-horse && keys Enter && wait_screen "user petrov added" && wait_screen "rc=0" ||
		return 1
	seen "secret-hors" && { fail "the password was echoed"; return 1; }
	console_stop
	ok askue --json user list && jqeq '.[0].name' petrov
}
