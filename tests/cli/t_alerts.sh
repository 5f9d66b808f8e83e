# Alerts and the jobs that keep them (askue job stale, askue job lifecycle),
# through the command line over a real ledger and a lastseen.db written in
# the ingestor's exact schema (docs/ingestor.md). No broker here: its port
# is closed, so the jobs must do their ledger work and say that publishing
# failed (tests/integration/t_stale.sh has the broker and the ingestor).

LASTSEEN_SQL="CREATE TABLE IF NOT EXISTS lastseen(meter TEXT PRIMARY KEY, ts INTEGER NOT NULL,
 arrived INTEGER NOT NULL, heard INTEGER NOT NULL) WITHOUT ROWID;"

# fleet_config [CONFIG LINES for [stale]..]
fleet_config() {
	{
		echo "[askue]"
		echo "timezone = Europe/Moscow"
		echo "[mqtt]"
		echo "port = 1"
		echo "[stale]"
		echo "outage_min_meters = 3"
		echo "status_wait_ms = 0"
		for line in "$@"; do echo "$line"; done
	} >"$ASKUE_HOME/askue.conf"
	sqlite3 "$ASKUE_HOME/lastseen.db" "PRAGMA journal_mode=WAL; $LASTSEEN_SQL" >/dev/null
}

# installed SERIAL SUBSTATION [INSTALL_DATE]: a subscriber with a meter
installed() {
	local acc
	acc=$(askue subscriber add --name "Sub $1" --address "Street $1" --district North \
		--substation "$2" --date 2026-01-01) || return 1
	askue meter add --serial "$1" --model CE102 --commissioned 2025-06-01 --service-life 16 \
		>/dev/null || return 1
	askue meter install "$1" "$acc" --date "${3:-2026-01-10}" >/dev/null
}

# seen SERIAL 'YYYY-MM-DD HH:MM' (UTC): its newest reading, as the ingestor notes it
seen() {
	sqlite3 "$ASKUE_HOME/lastseen.db" "INSERT INTO lastseen VALUES('$1', strftime('%s','$2'),
	 strftime('%s','$2'), strftime('%s','$2')) ON CONFLICT(meter) DO UPDATE SET
	 ts = max(ts, excluded.ts), arrived = excluded.arrived, heard = excluded.heard"
}

stale() { ok askue --json job stale --date "$1"; }
n_alerts() { askue --json alerts "$@" | jq length; }

test_silent_meter_alert_opens_once_and_closes_by_itself() {
	fleet_config
	installed M1 PS-1 && installed M2 PS-1 && installed M3 PS-2 || return 1
	seen M1 '2026-11-20 10:00' && seen M2 '2026-11-27 10:00' && seen M3 '2026-11-27 12:00'
	stale 2026-11-27 || return 1
	jqeq '.alerts_opened' 1 && jqeq '.opened[0].subject' M1 && jqeq '.opened[0].kind' silent || return 1
	jqeq '.opened[0].last_reading' 2026-11-20T10:00:00Z || return 1
	jqeq '.publish_error | test("cannot connect")' true || return 1
	ok askue --json alerts --open || return 1
	jqeq 'length' 1 && jqeq '.[0].meters | join(",")' M1 && jqeq '.[0].status' open || return 1
	jqeq '.[0].details.silent_h' 179 || return 1
	# hourly runs change nothing
	for d in 2026-11-27 2026-11-27 2026-11-28; do stale $d || return 1; done
	jqeq '.alerts_opened + .alerts_closed + .alerts_reopened' 0 || return 1
	eq 1 "$(n_alerts)" "alerts after four runs" || return 1
	# data back: closed by itself, with the gap
	seen M1 '2026-11-28 18:00'
	stale 2026-11-28 || return 1
	jqeq '.closed[0].subject' M1 && jqeq '.closed[0].gap_h' 200 || return 1
	ok askue --json alerts || return 1
	jqeq '.[0].status' resolved && jqeq '.[0].closed_by' job && jqeq '.[0].outcome' "data came back" || return 1
	eq 0 "$(n_alerts --open)" "open alerts" || return 1
	ok askue --json events --type alert_closed && jqeq 'length' 1 || return 1
	ok askue --json events --type alert_opened && jqeq 'length' 1
}

test_meter_without_readings_counts_from_installation() {
	fleet_config
	installed M1 PS-1 2026-11-26 || return 1
	stale 2026-11-27 && jqeq '.silent' 0 || return 1
	stale 2026-11-28 && jqeq '.opened[0].subject' M1 && jqeq '.opened[0].last_reading' null
}

test_per_model_interval() {
	fleet_config "models = CE102=1/2, Other=24/24"
	installed M1 PS-1 || return 1
	seen M1 '2026-11-27 17:30'
	# the job's moment is the end of 2026-11-27, 21:00 UTC: 3.5 h > 1 + 2
	stale 2026-11-27 && jqeq '.opened[0].after_h' 3 || return 1
	fleet_config "models = CE102=1"
	fails 78 "models: 'CE102=1' is not MODEL=INTERVAL_H/GRACE_H" askue job stale --date 2026-11-27
}

test_whole_substation_silent_gives_one_grouped_alert() {
	fleet_config
	for i in 1 2 3 4 5; do installed "P$i" PS-7 || return 1; seen "P$i" '2026-11-20 00:00'; done
	installed Q1 PS-8 && seen Q1 '2026-11-20 00:00' || return 1
	installed Q2 PS-8 && seen Q2 '2026-11-27 00:00' || return 1
	stale 2026-11-27 || return 1
	jqeq '.alerts_opened' 2 && jqeq '.substations_out' 1 && jqeq '.in_outages' 5 || return 1
	ok askue --json alerts --kind outage_substation || return 1
	jqeq 'length' 1 && jqeq '.[0].subject' PS-7 && jqeq '.[0].meters | join(",")' P1,P2,P3,P4,P5 || return 1
	eq 0 "$(askue --json alerts --open | jq '[.[] | select((.kind | startswith("silent")) and (.subject | startswith("P")))] | length')" \
		"per-meter alerts of the substation" || return 1
	ok askue --json alerts --kind silent && jqeq '.[0].subject' Q1 || return 1
	# idempotent; resolved by a person while still out: not opened again at once
	stale 2026-11-27 && jqeq '.alerts_opened' 0 || return 1
	id=$(askue --json alerts --kind outage_substation | jq '.[0].id')
	ok askue alert resolve "$id" --outcome "power cut, crew sent" || return 1
	stale 2026-11-27 && jqeq '.alerts_opened' 0 && jqeq '.silent_resolved_by_operator' 1 || return 1
	eq 0 "$(askue --json alerts --open | jq '[.[] | select(.subject | startswith("P"))] | length')" \
		"alerts of PS-7 after it was resolved" || return 1
	# then most come back: the one still silent gets its own
	for i in 1 2 3 4; do seen "P$i" '2026-11-28 10:00'; done
	stale 2026-11-28 || return 1
	jqeq '.opened[0].subject' P5 || return 1
}

test_dismantled_meter_never_alerts_and_its_alerts_close() {
	fleet_config
	installed M1 PS-1 && installed M2 PS-1 || return 1
	seen M1 '2026-11-01 00:00' && seen M2 '2026-11-01 00:00'
	askue meter dismantle M2 --date 2026-11-02 >/dev/null || return 1
	stale 2026-11-27 && jqeq '.installed' 1 && jqeq '[.opened[].subject] | join(",")' M1 || return 1
	askue meter dismantle M1 --date 2026-11-28 >/dev/null || return 1
	stale 2026-11-28 && jqeq '.closed[0].outcome' "meter no longer installed" || return 1
	eq 0 "$(n_alerts --open)" "open alerts"
}

test_flapping_meter_does_not_flood() {
	fleet_config
	installed M1 PS-1 || return 1
	seen M1 '2026-11-20 00:00'
	stale 2026-11-23 || return 1
	seen M1 '2026-11-24 12:00'
	stale 2026-11-24 && jqeq '.alerts_closed' 1 || return 1
	stale 2026-11-26 && jqeq '.alerts_reopened' 1 || return 1
	seen M1 '2026-11-27 06:00'
	stale 2026-11-27 && jqeq '.alerts_closed' 1 || return 1
	stale 2026-11-29 && jqeq '.alerts_reopened' 1 || return 1
	eq 1 "$(n_alerts)" "alerts of a flapping meter" || return 1
	ok askue --json alerts && jqeq '.[0].details.flaps' 2 && jqeq '.[0].status' open
}

test_resolved_silence_is_not_reopened_every_hour() {
	fleet_config
	installed M1 PS-1 || return 1
	seen M1 '2026-11-20 00:00'
	stale 2026-11-23 || return 1
	ok askue alert assign 1 petrov && ok askue alert resolve 1 --outcome "subscriber away until spring" || return 1
	stale 2026-11-24 && jqeq '.alerts_opened' 0 && jqeq '.silent_resolved_by_operator' 1 || return 1
	fails 65 "resolved already" askue alert resolve 1 --outcome again || return 1
	fails 65 "is resolved" askue alert assign 1 sidorov || return 1
	ok askue --json events --subject M1 || return 1
	jqeq '[.[].type | select(startswith("alert_"))] | join(",")' "alert_opened,alert_assigned,alert_resolved" || return 1
	# data back, silent again later: a new episode, a new alert
	seen M1 '2026-11-25 00:00'
	stale 2026-11-28 && jqeq '.alerts_opened' 1
}

test_dry_run_writes_nothing() {
	fleet_config
	installed M1 PS-1 || return 1
	seen M1 '2026-11-20 00:00'
	before=$(sqlite3 "$ASKUE_HOME/askue.db" 'SELECT count(*) FROM event')
	ok askue --json job stale --date 2026-11-27 --dry-run || return 1
	jqeq '.dry_run' true && jqeq '.alerts_opened' 1 && jqeq '.opened[0].id' null || return 1
	ok askue --json job lifecycle --date 2041-06-01 --dry-run && jqeq '.alerts_opened' 2 || return 1
	eq 0 "$(n_alerts)" "alerts after dry runs" || return 1
	eq "$before" "$(sqlite3 "$ASKUE_HOME/askue.db" 'SELECT count(*) FROM event')" "events"
}

test_alert_commands_refuse_bad_input() {
	fleet_config
	fails 66 "alert 9: no such alert" askue alert assign 9 petrov || return 1
	fails 65 "alert id 'x'" askue alert assign x petrov || return 1
	fails 64 "outcome is required" askue alert resolve 1 || return 1
	fails 64 "unknown job 'nope'" askue job nope || return 1
	fails 65 "date" askue job stale --date 2026-02-30 || return 1
	fails 74 "lastseen" sh -c "rm '$ASKUE_HOME/lastseen.db'; '$ASKUE_BUILD/askue' job stale"
}

test_lifecycle_opens_each_due_item_once() {
	fleet_config
	acc=$(askue subscriber add --name A --address B --date 2026-01-01) || return 1
	askue meter add --serial L1 --model CE102 --commissioned 2020-03-01 --service-life 16 \
		--verification-interval 8 --warranty-card W1 --warranty-until 2028-03-15 >/dev/null || return 1
	askue meter install L1 "$acc" --date 2026-01-10 >/dev/null || return 1
	askue meter add --serial L2 --model CE102 --commissioned 2010-01-01 --service-life 16 \
		--verification-interval 16 >/dev/null || return 1
	askue meter add --serial L3 --model CE102 --commissioned 2010-01-01 --service-life 16 >/dev/null || return 1
	acc3=$(askue subscriber add --name E --address F --date 2020-01-01) || return 1
	askue meter install L3 "$acc3" --date 2020-01-10 >/dev/null || return 1
	askue meter dismantle L3 --date 2025-01-01 >/dev/null || return 1
	ok askue --json job lifecycle --date 2028-02-20 || return 1
	# L1: verification 2028-03-01 and warranty 2028-03-15 within 30 days; L2 in stock: life ended 2026
	jqeq '[.opened[] | "\(.subject):\(.kind):\(.due)"] | sort | join(" ")' \
		"L1:verification_due:2028-03-01 L1:warranty_ending:2028-03-15 L2:end_of_service_life:2026-01-01 L2:verification_due:2026-01-01" || return 1
	ok askue --json job lifecycle --date 2028-02-21 && jqeq '.alerts_opened' 0 || return 1
	# resolved by an operator: not opened again for the same due date
	id=$(askue --json alerts --kind warranty_ending | jq '.[0].id')
	ok askue alert resolve "$id" --outcome "claim filed" || return 1
	ok askue --json job lifecycle --date 2028-03-20 && jqeq '.alerts_opened' 0 || return 1
	# verified: the old item closes by itself; the next is years away
	ok askue meter verify L1 --date 2028-03-25 || return 1
	ok askue --json job lifecycle --date 2028-03-26 || return 1
	jqeq '.closed[0].subject' L1 && jqeq '.closed[0].outcome' "no longer due" || return 1
	# dismantled: its items close, none open
	askue meter dismantle L1 --date 2028-04-01 >/dev/null || return 1
	ok askue --json job lifecycle --date 2028-04-02 || return 1
	eq 0 "$(askue --json alerts --open | jq '[.[] | select(.subject == "L1")] | length')" "L1 open"
}

test_outage_closes_by_itself_and_grows() {
	fleet_config
	for i in 1 2 3 4; do installed "K$i" PS-9 || return 1; seen "K$i" '2026-11-20 00:00'; done
	installed K5 PS-9 && seen K5 '2026-11-27 00:00' || return 1
	stale 2026-11-27 && jqeq '.opened[0].kind' outage_substation && jqeq '.opened[0].meters' 4 || return 1
	# K5 falls silent too: it joins the outage's list, no alert of its own
	stale 2026-11-29 && jqeq '.grown[0].meters_added' 1 && jqeq '.alerts_opened' 0 || return 1
	ok askue --json alerts --open && jqeq 'length' 1 && jqeq '.[0].meters | length' 5 || return 1
	for i in 1 2 3 4 5; do seen "K$i" '2026-11-30 10:00'; done
	stale 2026-11-30 && jqeq '.closed[0].kind' outage_substation && jqeq '.alerts_opened' 0 || return 1
	eq 0 "$(n_alerts --open)" "open alerts"
}
