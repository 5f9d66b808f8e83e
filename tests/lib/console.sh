# The operators' console driven in tmux, for the shell tests: the real
# askue-console ($ASKUE_BUILD) in a tmux server of the test's own, its
# screen read, keys typed, every wait a bounded poll (wait_for).
#   console_start              a fresh console at 120x40, at its sign-in
#   sign_in USER               through the sign-in (password pass-word-1)
#   screen | seen T | wait_screen T [SECONDS]
#   keys K.. | text STRING     keys by name, or a string typed as it is
#   console_quit               q until it ends: exit 0, no sanitizer report
#   console_stop               end the tmux server (for traps)

TMUX_SOCK=""

# console_start: the console in a fresh tmux server of its own, 120x40;
# its exit status and stderr (sanitizer reports) land in $T_TMP.
console_start() {
	# In the test's directory (nothing left behind), a new one each time:
	# the last server may still be going away from its socket.
	TMUX_N=$((${TMUX_N:-0} + 1))
	TMUX_SOCK="$T_TMP/tmux$TMUX_N.sock"
	rm -f "$T_TMP/console.rc"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 120 -y 40 \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$ASKUE_BUILD/askue-console' \
		 2>>'$T_TMP/console.err'; echo \$? >'$T_TMP/console.rc'; sleep 30" || return 1
	wait_for 10 seen "Sign in"
}

# console_stop: end our tmux server (and anything left in it).
console_stop() {
	[ -n "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	TMUX_SOCK=""
}

screen() { tmux -S "$TMUX_SOCK" capture-pane -p; }
seen() { screen | grep -qF -- "$1"; }
keys() { tmux -S "$TMUX_SOCK" send-keys "$@"; }
text() { tmux -S "$TMUX_SOCK" send-keys -l -- "$1"; }
# wait_screen TEXT [SECONDS]: the screen shows TEXT within SECONDS (10),
# else the test fails showing the screen.
wait_screen() {
	wait_for "${2:-10}" seen "$1" || {
		screen >&2
		fail "the screen never showed '$1'"
		return 1
	}
}

# sign_in USER: through the sign-in form to the menu.
sign_in() {
	text "$1" && keys Enter && text pass-word-1 && keys Enter || return 1
	wait_screen "$1 ("
}

# console_quit: q until the console ends; it must exit 0 with no
# sanitizer report.
console_quit() {
	keys q q q q
	wait_for 10 test -s "$T_TMP/console.rc" || {
		screen >&2
		fail "the console did not end"
		return 1
	}
	eq 0 "$(cat "$T_TMP/console.rc")" "the console's exit status" || return 1
	if grep -E 'Sanitizer|runtime error' "$T_TMP/console.err" >&2; then
		fail "sanitizer report"
		return 1
	fi
	console_stop
}
