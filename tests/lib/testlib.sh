# testlib.sh — the shell test harness of the command-line, integration and
# end-to-end tests. A test file defines functions named test_*; the runner
# (tests/lib/runner.sh) runs each in its own subshell with a fresh
# ASKUE_HOME, and counts it passed when it returns 0.
#
# Helpers:
#   askue ARGS..            run the askue under test (ASKUE_BUILD/askue)
#   ok CMD..                CMD must exit 0; its stdout is in $OUT
#   fails CODE PATTERN CMD.. CMD must exit CODE (any non-zero when CODE is -)
#                           and say PATTERN (grep -E) on stderr
#   eq EXPECTED ACTUAL [what]
#   jqeq FILTER EXPECTED    jq FILTER over $OUT must print EXPECTED
#   die MESSAGE             fail the test now (each test runs in a subshell)
#   wait_for SECONDS CMD..  until CMD succeeds, polling every 0.1 s

askue() { "$ASKUE_BUILD/askue" "$@"; }

fail() {
	echo "    FAILED: $*" >&2
	return 1
}

ok() {
	OUT=$("$@" 2>"$T_TMP/stderr") || {
		rc=$?
		fail "'$*' exited $rc: $(cat "$T_TMP/stderr")"
		return 1
	}
	return 0
}

fails() {
	want=$1
	pattern=$2
	shift 2
	OUT=$("$@" 2>"$T_TMP/stderr")
	rc=$?
	ERR=$(cat "$T_TMP/stderr")
	if [ "$rc" -eq 0 ]; then
		fail "'$*' succeeded, expected failure ($pattern)"
		return 1
	fi
	if [ "$want" != "-" ] && [ "$rc" -ne "$want" ]; then
		fail "'$*' exited $rc, expected $want: $ERR"
		return 1
	fi
	if ! printf '%s' "$ERR" | grep -qE -- "$pattern"; then
		fail "'$*' said '$ERR', expected /$pattern/"
		return 1
	fi
	return 0
}

eq() {
	[ "$1" = "$2" ] || {
		fail "${3:-value}: expected '$1', got '$2'"
		return 1
	}
}

jqeq() {
	got=$(printf '%s' "$OUT" | jq -r "$1" 2>&1) || {
		fail "jq '$1' over '$OUT': $got"
		return 1
	}
	eq "$2" "$got" "jq $1"
}

die() {
	echo "    FAILED: $*" >&2
	exit 1
}

wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# The ledger of $ASKUE_HOME: sql TEXT runs a statement with sqlite3.
sql() { sqlite3 "$ASKUE_HOME/askue.db" "$1"; }

# invoice ACCOUNT PERIOD KOPECKS DUE POSTED: an issued invoice and its
# posting inserted as the billing job writes them (for payment and penalty
# tests that need no readings).
invoice() {
	sqlite3 "$ASKUE_HOME/askue.db" "
	 INSERT INTO invoice(number, subscriber_id, period, issued, due, previous_kop, charges_kop, total_kop)
	  SELECT '$2-' || id, id, '$2', '$5', '$4', 0, $3, $3 FROM subscriber WHERE account = '$1';
	 INSERT INTO posting(subscriber_id, kind, date, period, amount_kop, invoice_id, created)
	  SELECT subscriber_id, 'invoice', '$5', '$2', $3, id, 0 FROM invoice WHERE number = '$2-' ||
	  (SELECT id FROM subscriber WHERE account = '$1');"
}
