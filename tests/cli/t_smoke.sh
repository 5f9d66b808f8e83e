# Smoke: the command answers and refuses an unknown command.
test_help() {
	ok askue --help && printf '%s' "$OUT" | grep -q 'subscriber add'
}
test_unknown_command() {
	fails 64 "unknown command" askue frobnicate
}

# A command's own --help prints its usage and runs nothing; a group alone
# (or with --help) lists the group's commands; an unknown one still fails.
test_command_help() {
	ok askue user add --help || return 1
	eq "usage: askue user add NAME --role R | list | passwd NAME | disable NAME   (console users; password on stdin)" \
		"$OUT" "user add --help" || return 1
	ok askue payments assign 7 --help || return 1
	printf '%s' "$OUT" | grep -q '^usage: askue payments assign SUSPENSE_ID ACCOUNT' || fail "payments assign: $OUT" || return 1
	ok askue invoice -h || return 1
	eq 4 "$(printf '%s\n' "$OUT" | grep -c 'askue invoice ')" "invoice's commands" || return 1
	ok askue job --help || return 1
	printf '%s' "$OUT" | grep -q 'anomalies|forecast' || fail "job: $OUT" || return 1
	fails 64 'askue invoice list ACCOUNT' askue invoice || return 1
	fails 64 "unknown command 'bogus --help'" askue bogus --help || return 1
	# after "--" it is an argument, not a request for help
	fails 64 . askue reading add X -- --help || return 1
	[ ! -e "$ASKUE_HOME/askue.db" ] || fail "a --help opened the ledger" || return 1
}
