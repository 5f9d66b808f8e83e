#!/bin/bash
# runner.sh SUITE FILE.. — run every test_* function of the given test files,
# each in a subshell with a fresh ASKUE_HOME under a temporary directory,
# and end with "N passed, N failed". TEST_FILTER=regex runs a subset.
suite=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${ASKUE_BUILD:?set ASKUE_BUILD to the build directory (build/asan)}"
export ASKUE_BUILD
ASKUE_SRC=$(cd "$here/../.." && pwd)
export ASKUE_SRC
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
root=$(mktemp -d "${TMPDIR:-/tmp}/askue-$suite.XXXXXX")
passed=0
failed=0
failures=""
for file in "$@"; do
	tests=$(bash -c ". '$here/testlib.sh'; . '$file'; declare -F" | awk '{print $3}' | grep '^test_')
	for t in $tests; do
		if [ -n "${TEST_FILTER:-}" ] && ! echo "$t" | grep -qE "$TEST_FILTER"; then
			continue
		fi
		dir="$root/$t"
		mkdir -p "$dir/home" "$dir/tmp"
		start=$(date +%s%N)
		(
			set +e
			export ASKUE_HOME="$dir/home" T_TMP="$dir/tmp" ASKUE_OPERATOR=tester
			unset ASKUE_CONFIG
			cd "$dir" || exit 1
			. "$here/testlib.sh"
			. "$file"
			"$t"
		) >"$dir/log" 2>&1
		rc=$?
		ms=$((($(date +%s%N) - start) / 1000000))
		if [ $rc -eq 0 ]; then
			passed=$((passed + 1))
			printf 'ok   %-50s %6d ms\n' "$t" "$ms"
		else
			failed=$((failed + 1))
			failures="$failures $t"
			printf 'FAIL %-50s %6d ms\n' "$t" "$ms"
			sed 's/^/     | /' "$dir/log"
		fi
	done
done
[ $failed -eq 0 ] && [ -z "${KEEP_TMP:-}" ] && rm -rf "$root"
[ $failed -ne 0 ] && echo "logs kept in $root"
echo "$suite: $passed passed, $failed failed"
[ $failed -eq 0 ]
