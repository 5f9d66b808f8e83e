# Credentials and concentrators on the command line: what is printed, what
# is refused and with which exit status (the broker side: tests/integration/
# t_broker.sh).

meter() { askue meter add --serial "$1" --model T-1 --commissioned 2024-01-01 --service-life 16; }

test_meter_credentials_prints_a_new_password_once() {
	ok meter M1 || return 1
	ok askue meter credentials M1 || return 1
	first=$OUT
	printf '%s' "$first" | grep -qxE '[a-z2-7]{32}' || fail "password '$first'" || return 1
	ok askue --json meter credentials M1 || return 1
	jqeq .serial M1 && jqeq .username M1 || return 1
	second=$(printf '%s' "$OUT" | jq -r .password)
	[ "$first" != "$second" ] || fail "the same password twice" || return 1
	# stored only as salt + hash
	ok askue --json events --type meter_credentials_issued --subject M1 && jqeq length 2 || return 1
	! cat "$ASKUE_HOME"/askue.db* | grep -qa "$second" || fail "the password is in the ledger"
}

test_meter_credentials_refusals() {
	ok meter M1 || return 1
	fails 66 "meter NOPE: no such meter" askue meter credentials NOPE || return 1
	fails 64 "expected SERIAL" askue meter credentials || return 1
	fails 64 "expected SERIAL" askue meter credentials M1 M2 || return 1
	fails 64 "unknown option '--force'" askue meter credentials M1 --force || return 1
	ok askue subscriber add --name "Смирнова" --address "ул. Лесная, 4" --date 2024-01-01 || return 1
	ok askue meter install M1 "$OUT" --date 2024-02-01 &&
		ok askue meter dismantle M1 --date 2025-01-01 || return 1
	fails 65 "meter M1: dismantled" askue meter credentials M1
}

test_concentrator_add_bind_show_credentials() {
	ok meter M1 && ok meter M2 && ok meter M3 || return 1
	ok askue concentrator add УСПД-1 --substation ПС-12 --date 2025-01-01 && eq УСПД-1 "$OUT" || return 1
	fails 65 "already registered" askue concentrator add УСПД-1 || return 1
	fails 65 "belongs to a meter" askue concentrator add M1 || return 1
	fails 65 "must not contain" askue concentrator add "a/b" || return 1
	fails 65 "date" askue concentrator add C2 --date 2025-13-01 || return 1
	ok askue concentrator bind УСПД-1 M1 M2 || return 1
	fails 66 "meter NOPE: no such meter" askue concentrator bind УСПД-1 M3 NOPE || return 1
	fails 66 "concentrator C9" askue concentrator bind C9 M3 || return 1
	fails 64 "expected ID SERIAL" askue concentrator bind УСПД-1 || return 1
	ok askue --json concentrator show УСПД-1 || return 1
	jqeq '[.meters[].serial] | join(",")' M1,M2 && jqeq .substation ПС-12 &&
		jqeq .credentials false || return 1
	ok askue --json concentrator credentials УСПД-1 || return 1
	jqeq .concentrator УСПД-1 && jqeq '.password | test("^[a-z2-7]{32}$")' true || return 1
	ok askue --json meter show M1 && jqeq .concentrator УСПД-1 || return 1
	ok askue concentrator unbind M1 || return 1
	ok askue --json concentrator show УСПД-1 && jqeq '[.meters[].serial] | join(",")' M2 || return 1
	fails 66 "no such concentrator" askue concentrator credentials C9
}

test_service_credentials() {
	ok askue --json service credentials ingestor || return 1
	jqeq .name askue-ingestor && jqeq .role ingestor && jqeq .username askue-ingestor || return 1
	ok askue --json service credentials relay --name relay-2 && jqeq .username relay-2 || return 1
	ok askue service credentials stale && ok askue service credentials jobs || return 1
	fails 65 "role 'admin': expected ingestor, relay, jobs, stale or events" \
		askue service credentials admin || return 1
	fails 65 "has role relay, not jobs" askue service credentials jobs --name relay-2 || return 1
	fails 65 "service name 'a b'" askue service credentials relay --name "a b" || return 1
	fails 64 "expected ROLE" askue service credentials || return 1
	ok meter M1 || return 1
	fails 65 "belongs to a meter" askue service credentials relay --name M1 || return 1
	ok askue --json events --type service_credentials_issued && jqeq length 4
}

test_service_revoke_and_list() {
	ok askue service credentials ingestor && ok askue service credentials relay --name relay-b ||
		return 1
	ok askue --json service list || return 1
	jqeq '[.[].name] | join(",")' askue-ingestor,relay-b && jqeq '.[1].role' relay &&
		jqeq '.[0].issued | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' true || return 1
	ok askue service revoke relay-b || return 1
	ok askue --json service list && jqeq length 1 || return 1
	fails 66 "service account relay-b: no such account" askue service revoke relay-b || return 1
	fails 65 "service name" askue service revoke "a b" || return 1
	fails 64 "expected NAME" askue service revoke || return 1
	ok askue --json events --type service_credentials_revoked --subject relay-b && jqeq length 1
}
