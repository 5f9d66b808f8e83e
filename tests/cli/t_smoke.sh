# Smoke: the command answers and refuses an unknown command.
test_help() {
	ok askue --help && printf '%s' "$OUT" | grep -q 'subscriber add'
}
test_unknown_command() {
	fails 64 "unknown command" askue frobnicate
}
