# The registry through the operating surface (DESIGN.md): subscribers,
# meters, installations, tariffs, the journal — and every refusal.

new_sub() { # name address -> prints the account
	askue subscriber add --name "$1" --address "$2" --district "${3:-Центральный}" \
		--substation "${4:-ТП-101}" --date "${5:-2025-01-15}"
}

test_subscriber_add_show_find() {
	ok new_sub "Иванов Пётр Сергеевич" "г. Тверь, ул. Ленина, д. 5, кв. 12" || return 1
	acc=$OUT
	[ ${#acc} -eq 10 ] || fail "account '$acc' is not 10 digits" || return 1
	ok askue --json subscriber show "$acc" || return 1
	jqeq .account "$acc" && jqeq .name "Иванов Пётр Сергеевич" && jqeq .district "Центральный" &&
		jqeq .substation "ТП-101" && jqeq .category household && jqeq .status active || return 1
	ok askue --json subscriber find "ПЁТР" && jqeq '.[0].account' "$acc" || return 1
	ok askue --json subscriber find "ленина" && jqeq 'length' 1 || return 1
	ok askue --json subscriber find "иванов петр" && jqeq 'length' 1 || return 1
	ok askue --json subscriber find "$acc" && jqeq '.[0].name' "Иванов Пётр Сергеевич" || return 1
	ok askue --json subscriber find "Сидоров" && jqeq 'length' 0 || return 1
}

test_subscriber_refusals() {
	fails 65 "date '2026-02-30': no such day" askue subscriber add --name A --address B --date 2026-02-30 || return 1
	fails 65 "category 'vip'" askue subscriber add --name A --address B --category vip || return 1
	fails 64 "--name and --address are required" askue subscriber add --name A || return 1
	fails 64 "unknown option '--nmae'" askue subscriber add --nmae A --address B || return 1
	ok new_sub "Петров" "ул. Мира 1" || return 1
	acc=$OUT
	# one digit mistyped, and two neighbours swapped
	typo=$(echo "$acc" | sed 's/^\(...\)\(.\)/\1X/' | sed "s/X/$(( ($(echo "$acc" | cut -c4) + 1) % 10 ))/")
	fails 65 "check digit does not match" askue subscriber show "$typo" || return 1
	swap=$(echo "$acc" | sed 's/^\(........\)\(.\)\(.\)$/\1\3\2/')
	if [ "$swap" != "$acc" ]; then
		fails 65 "mistyped" askue subscriber show "$swap" || return 1
	fi
	fails 65 "digits only" askue subscriber show "12-34" || return 1
	# --json: the error goes to stderr, stdout stays empty
	fails 65 "no such day" askue --json subscriber add --name A --address B --date 2025-13-01 || return 1
	eq "" "$OUT" "stdout on error"
}

test_meter_lifecycle() {
	ok new_sub "Иванов" "ул. Мира 1" && a1=$OUT || return 1
	ok new_sub "Петров" "ул. Мира 2" && a2=$OUT || return 1
	ok askue --json meter add --serial "CE-001" --model "Меркурий 201.8" --commissioned 2025-01-01 \
		--service-life 30 --warranty-card W-77 --warranty-until 2028-01-01 || return 1
	jqeq .serial CE-001 && jqeq .status stock && jqeq .end_of_life 2055-01-01 &&
		jqeq .verification_due 2041-01-01 && jqeq .zones 1 || return 1
	ok askue meter add --serial "CE-002" --model "Меркурий 230" --commissioned 2025-01-01 \
		--service-life 30 --zones 2 --verification-interval 10 --verified 2025-01-01 || return 1
	ok askue --json meter install CE-001 "$a1" --date 2025-02-01 --reading 100.5 || return 1
	jqeq .status installed && jqeq .account "$a1" && jqeq .installed 2025-02-01 || return 1
	# a meter never measures two subscribers at once
	fails 65 "already installed at account $a1" askue meter install CE-001 "$a2" --date 2025-03-01 || return 1
	# a two-zone meter takes T1,T2
	fails 65 "2-zone meter takes 2 values" askue meter install CE-002 "$a2" --date 2025-03-01 --reading 5 || return 1
	ok askue meter install CE-002 "$a2" --date 2025-03-01 --reading 5.5,1.25 || return 1
	# dismantling: before installation refused, then done; a dismantled meter
	# is decommissioned and never installed again
	fails 65 "before installation" askue meter dismantle CE-001 --date 2025-01-15 || return 1
	ok askue --json meter dismantle CE-001 --date 2025-06-30 --reading 350.25 || return 1
	jqeq .status dismantled && jqeq .decommissioned 2025-06-30 || return 1
	fails 65 "dismantled on 2025-06-30" askue meter install CE-001 "$a2" --date 2025-07-01 || return 1
	fails 65 "already dismantled" askue meter dismantle CE-001 --date 2025-07-01 || return 1
	ok askue meter add --serial "CE-003" --model M --commissioned 2025-01-01 --service-life 30 || return 1
	fails 65 "not installed" askue meter dismantle CE-003 --date 2025-07-01 || return 1
	fails 66 "no such meter" askue meter install NOPE "$a1" --date 2025-07-01 || return 1
	# exchange at a1: CE-003 replaces CE-001
	ok askue meter install CE-003 "$a1" --date 2025-06-30 || return 1
	ok askue --json subscriber show "$a1" || return 1
	jqeq '.meters | length' 2 && jqeq '.meters[0].serial' CE-001 && jqeq '.meters[0].reading_out' 350.250 &&
		jqeq '.meters[1].serial' CE-003 || return 1
	fails 65 "already registered" askue meter add --serial "CE-003" --model M --commissioned 2025-01-01 --service-life 30 || return 1
	fails 65 "must not contain" askue meter add --serial "a/b" --model M --commissioned 2025-01-01 --service-life 30 || return 1
	ok askue meter add --serial CAP1 --model M --commissioned 2025-01-01 --service-life 30 --capacity 99999.999 || return 1
	ok new_sub "Сидоров" "ул. Мира 3" && a3=$OUT || return 1
	fails 65 "above the register's capacity" askue meter install CAP1 "$a3" --date 2025-07-01 --reading 99999.999 || return 1
	ok askue meter install CAP1 "$a3" --date 2025-07-01 --reading 99999.998 || return 1
	fails 65 "warranty card needs both" askue meter add --serial X9 --model M --commissioned 2025-01-01 --service-life 30 --warranty-card W || return 1
	ok askue --json events --type meter_connected && jqeq length 4 || return 1
	ok askue --json events --subject CE-001 && jqeq '[.[].type] | join(",")' "meter_added,meter_connected,meter_dismantled" || return 1
	jqeq '.[2].details.reading' 350.250 && jqeq '.[2].operator' tester || return 1
	# a follower that missed events asks for what came after the last it has
	ok askue --json events --subject CE-001 --limit 1 && first=$(printf '%s' "$OUT" | jq .[0].id) || return 1
	ok askue --json events --subject CE-001 --after-id "$first" && jqeq '[.[].type] | join(",")' "meter_connected,meter_dismantled" || return 1
	fails 65 "after-id 'x'" askue events --after-id x || return 1
}

test_tariffs() {
	ok new_sub "Иванов" "ул. Мира 1" && a1=$OUT || return 1
	ok askue tariff add Одноставочный --date 2025-01-01 || return 1
	ok askue tariff add Двухзонный --zones day=07-23,night=23-07 --date 2025-01-01 || return 1
	ok askue --json tariff price Двухзонный --from 2025-07-01 day=6.12 night=3.40 || return 1
	jqeq '.zones[0].name' day && jqeq '.zones[0].register' 1.8.1 && jqeq '.zones[1].prices[0].price' 3.40 || return 1
	ok askue tariff price Одноставочный --from 2025-07-01 all=4.3215 || return 1
	ok askue --json tariff show Одноставочный && jqeq '.zones[0].prices[0].price' 4.3215 || return 1
	fails 65 "zone day already has a price from 2025-07-01" askue tariff price Двухзонный --from 2025-07-01 day=7 || return 1
	fails 65 "no zone 'evening'" askue tariff price Двухзонный --from 2025-08-01 evening=7 || return 1
	fails 65 "at most 6 decimals" askue tariff price Двухзонный --from 2025-08-01 day=7.1234567 || return 1
	fails 65 "hour 22-23 is already" askue tariff add Bad --zones day=07-23,night=22-07 || return 1
	fails 65 "hour 06-07 is in no zone" askue tariff add Bad --zones day=07-23,night=23-06 || return 1
	fails 65 "already exists" askue tariff add Одноставочный || return 1
	ok askue tariff choose "$a1" Двухзонный --from 2025-07-01 || return 1
	fails 65 "already has a tariff choice from 2025-07-01" askue tariff choose "$a1" Одноставочный --from 2025-07-01 || return 1
	fails 65 "before registration" askue tariff choose "$a1" Одноставочный --from 2024-07-01 || return 1
	ok askue --json events --type tariff_chosen && jqeq '.[0].subject' "$a1" && jqeq '.[0].details.tariff' Двухзонный || return 1
	ok askue tariff choose "$a1" Одноставочный --from 2026-01-01 || return 1
	ok askue --json subscriber show "$a1" && jqeq '[.tariffs[] | .tariff + "@" + .from] | join(",")' \
		"Двухзонный@2025-07-01,Одноставочный@2026-01-01" || return 1
}

test_import_all_or_nothing() {
	cat >subs.csv <<CSV
name,address,district,substation,date
"Петров, Иван",ул. Мира 1,Север,ТП-1,2025-01-10
Сидорова Анна,ул. Мира 2,Север,ТП-1,2025-02-30
,ул. Мира 3,Север,ТП-2,2025-01-10
Козлов,"ул. Мира, 4",Юг,ТП-2,2025-01-10
CSV
	fails 65 "2 bad rows of 4; nothing imported" askue import subscribers subs.csv || return 1
	printf '%s' "$ERR" | grep -q "subs.csv:3: date: date '2025-02-30': no such day" || fail "row 3 not named: $ERR" || return 1
	printf '%s' "$ERR" | grep -q "subs.csv:4: name: must not be empty" || fail "row 4 not named: $ERR" || return 1
	ok askue --json subscriber find "мира" && jqeq length 0 || return 1
	ok askue --json events && jqeq length 0 || return 1
	printf 'name,adress\nA,B\n' >bad_header.csv
	fails 65 "unknown column 'adress'" askue import subscribers bad_header.csv || return 1
	printf 'name,address\n"A,B\n' >bad_quote.csv
	fails 65 "CSV" askue import subscribers bad_quote.csv || return 1
	fails 74 "cannot open" askue import subscribers nonexistent.csv || return 1
	sed -i 's/2025-02-30/2025-02-28/; s/^,ул/Лебедев,ул/' subs.csv
	ok askue --json import subscribers subs.csv && jqeq .imported 4 || return 1
	ok askue --json subscriber find "петров" && jqeq '.[0].name' "Петров, Иван" || return 1
}

test_import_export_round_trip() {
	printf 'name;address;district;substation;date;account\nИванов;ул. Мира 1;Север;ТП-1;2025-01-10;100200\nПетров;ул. Мира 2;Север;ТП-1;2025-01-10;\n' >s.csv
	ok askue import subscribers s.csv || return 1
	ok askue subscriber find петров && acc2=$(echo "$OUT" | cut -d' ' -f1) || return 1
	printf 'serial,model,commissioned,service-life,zones\nA1,Меркурий,2024-01-01,30,1\nA2,"Меркурий, 230",2024-01-01,30,2\nA3,M,2024-01-01,30,1\n' >m.csv
	ok askue import meters m.csv || return 1
	printf 'serial,account,date,reading,removed,removed-reading\nA1,100200,2025-03-01,100.5,2025-05-01,150\nA2,%s,2025-03-01,"1,2",,\nA3,100200,2025-05-01,,,\n' "$acc2" >i.csv
	ok askue import installations i.csv || return 1
	# an installation file whose second row breaks a rule: nothing written
	printf 'serial,account,date\nA1,100200,2025-06-01\nNOPE,100200,2025-06-01\n' >bad.csv
	fails 65 "nothing imported" askue import installations bad.csv || return 1
	printf '%s' "$ERR" | grep -q "bad.csv:2: meter A1: dismantled" || fail "row 2: $ERR" || return 1
	printf '%s' "$ERR" | grep -q "bad.csv:3: meter NOPE: no such meter" || fail "row 3: $ERR" || return 1
	for k in subscribers meters installations; do
		ok askue export $k $k.csv || return 1
	done
	# into a fresh ledger, and out again: the same files
	export ASKUE_HOME=$PWD/home2
	for k in subscribers meters installations; do
		ok askue import $k $k.csv || return 1
		ok askue export $k $k.2.csv || return 1
		cmp -s $k.csv $k.2.csv || fail "$k: round trip differs: $(diff $k.csv $k.2.csv)" || return 1
	done
	ok askue --json meter show A1 && jqeq .status dismantled || return 1
}

test_config_errors() {
	printf '[mqtt]\nport = 1883\nhots = x\n' >bad.conf
	fails 78 "bad.conf:3: \\[mqtt\\] hots: unknown setting" askue --config bad.conf subscriber find abc || return 1
	fails 78 "cannot open" askue --config missing.conf subscriber find abc || return 1
	ASKUE_CONFIG=missing.conf fails 78 "cannot open" askue subscriber find abc || return 1
	printf '[askue]\ntimezone = Mars/Base\n' >tz.conf
	fails 78 "Mars/Base" askue --config tz.conf subscriber find abc || return 1
	ok askue config example && printf '%s\n' "$OUT" >example.conf || return 1
	cmp -s example.conf "$ASKUE_SRC/deploy/askue.conf.example" ||
		fail "deploy/askue.conf.example is stale: run askue config example > deploy/askue.conf.example" || return 1
	# the example, uncommented, is a valid config
	sed 's/^;//' example.conf >full.conf
	ok askue --config full.conf subscriber find abc || return 1
	[ -f var/askue.db ] || fail "the example's ledger is not ./var/askue.db" || return 1
}

test_import_bulk_mode() {
	# A file over 4 MiB is imported in bulk mode (secondary indexes rebuilt at
	# the end): the same result, the indexes back, every row journaled.
	awk -v n=45000 -v dir=. -f "$ASKUE_SRC/bench/registry/gen.awk"
	[ "$(stat -c %s subscribers.csv)" -gt 4194304 ] || fail "test file too small for bulk mode" || return 1
	ok askue --json import subscribers subscribers.csv && jqeq .imported 45000 || return 1
	ok askue --json subscriber find "000012345" && jqeq '.[0].account' 000012345 || return 1
	ok askue --json subscriber find "ул. ленина" --limit 5 && jqeq length 5 || return 1
	idx=$(sqlite3 "$ASKUE_HOME/askue.db" "SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema WHERE type='index' AND tbl_name IN ('event','subscriber') AND name NOT LIKE 'sqlite_%' ORDER BY name)")
	eq "event_subject,event_type_time,subscriber_district,subscriber_substation" "$idx" "indexes after bulk import" || return 1
	eq 45000 "$(sqlite3 "$ASKUE_HOME/askue.db" "SELECT count(*) FROM event INDEXED BY event_type_time WHERE type = 'subscriber_registered'")" "events" || return 1
	eq ok "$(sqlite3 "$ASKUE_HOME/askue.db" "PRAGMA integrity_check")" "integrity" || return 1
}

test_subscriber_set_and_meter_verify() {
	ok new_sub "Иванова Анна" "ул. Мира 1" && a1=$OUT || return 1
	ok askue --json subscriber set "$a1" --name "Петрова Анна" --phone "+7 (900) 123-45-67" --status suspended || return 1
	jqeq .name "Петрова Анна" && jqeq .status suspended && jqeq .phone "+7 (900) 123-45-67" || return 1
	ok askue --json subscriber find петрова && jqeq '.[0].account' "$a1" || return 1
	ok askue --json subscriber find иванова && jqeq length 0 || return 1
	ok askue --json events --type subscriber_changed && jqeq '.[0].details.name.old' "Иванова Анна" &&
		jqeq '.[0].details.status.new' suspended || return 1
	fails 65 "status 'gone'" askue subscriber set "$a1" --status gone || return 1
	fails 65 "phone" askue subscriber set "$a1" --phone "call me" || return 1
	fails 64 "nothing to change" askue subscriber set "$a1" || return 1
	ok askue meter add --serial V1 --model M --commissioned 2025-01-01 --service-life 30 --verification-interval 8 || return 1
	ok askue --json meter verify V1 --date 2026-03-01 && jqeq .last_verified 2026-03-01 && jqeq .verification_due 2034-03-01 || return 1
	fails 65 "not after the last one" askue meter verify V1 --date 2026-02-01 || return 1
	fails 65 "before commissioning" askue meter verify V1 --date 2024-12-31 || return 1
	ok askue --json events --subject V1 --type meter_verified && jqeq '.[0].details.next_due' 2034-03-01 || return 1
}
