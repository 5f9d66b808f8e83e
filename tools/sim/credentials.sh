#!/bin/bash
# credentials.sh — issue MQTT credentials and write the simulator's CSV.
#
#   tools/sim/credentials.sh SERIAL[:ZONES].. >meters.csv
#       serial,password,zones — one connection per meter
#   tools/sim/credentials.sh --concentrator ID.. >concentrators.csv
#       concentrator,password,serial,zones — one connection per concentrator,
#       for the meters bound to it
#   SERIAL or ID "-" reads them from stdin, one per line.
#
# Every call issues NEW secrets (`askue meter credentials`, `askue
# concentrator credentials`): the old ones stop working at the broker's
# next reload. ZONES (1..3) saves looking the meter up. Uses $ASKUE_BUILD/askue,
# else the askue next to this tree's build, else askue on PATH; ASKUE_HOME or
# ASKUE_CONFIG choose the ledger as for any askue command.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${ASKUE_BUILD:-}" ]; then
	askue_bin=$ASKUE_BUILD/askue
elif [ -x "$here/../../build/rel/askue" ]; then
	askue_bin=$here/../../build/rel/askue
else
	askue_bin=askue
fi
askue() { "$askue_bin" "$@"; }

die() {
	echo "credentials.sh: $*" >&2
	exit 1
}

zones_of() {
	askue --json meter show "$1" | jq -r '.zones // 1'
}

# A CSV field needs no quoting when it has no comma, quote or line break;
# the simulator reads plain fields only.
plain() {
	case $1 in *,* | *\"* | *$'\n'* | *$'\r'*) die "'$1' cannot go in the simulator's CSV" ;; esac
}

args() {
	if [ "$#" -eq 1 ] && [ "$1" = - ]; then
		cat
	else
		printf '%s\n' "$@"
	fi
}

meters() {
	local item serial zones password
	echo "serial,password,zones"
	while IFS= read -r item; do
		[ -n "$item" ] || continue
		serial=${item%%:*}
		zones=${item#"$serial"}
		zones=${zones#:}
		plain "$serial"
		[ -n "$zones" ] || zones=$(zones_of "$serial")
		case $zones in 1 | 2 | 3) ;; *) die "$serial: zones '$zones'" ;; esac
		password=$(askue meter credentials "$serial") || die "no credentials for meter $serial"
		echo "$serial,$password,$zones"
	done
}

concentrators() {
	local id password serial
	echo "concentrator,password,serial,zones"
	while IFS= read -r id; do
		[ -n "$id" ] || continue
		plain "$id"
		password=$(askue concentrator credentials "$id") || die "no credentials for concentrator $id"
		askue --json concentrator show "$id" |
			jq -r '.meters[] | select(.status != "dismantled") | .serial' |
			while IFS= read -r serial; do
				plain "$serial"
				echo "$id,$password,$serial,$(zones_of "$serial")"
			done
	done
}

[ "$#" -gt 0 ] || die "usage: credentials.sh SERIAL[:ZONES].. | --concentrator ID.. ('-' = stdin)"
if [ "$1" = --concentrator ]; then
	shift
	[ "$#" -gt 0 ] || die "--concentrator needs at least one ID"
	args "$@" | concentrators
else
	args "$@" | meters
fi
