# Command-line tests: the subscriber's norm determinants (residents, rooms,
# stove, settlement) on add, set, show, import and export; a tariff's
# volume bands (askue tariff band).

test_subscriber_norm_fields() {
	ok askue --json subscriber add --name "Иванов" --address "ул. Мира 1" --date 2025-01-10 \
		--residents 3 --stove electric || return 1
	jqeq .residents 3 && jqeq .rooms 1 && jqeq .stove electric && jqeq .settlement urban || return 1
	a=$(printf '%s' "$OUT" | jq -r .account)
	ok askue --json subscriber add --name "Петров" --address "ул. Мира 2" --date 2025-01-10 || return 1
	jqeq .residents 1 && jqeq .rooms 1 && jqeq .stove gas || return 1
	ok askue --json subscriber set "$a" --rooms 2 --settlement rural --residents 0 || return 1
	jqeq .rooms 2 && jqeq .settlement rural && jqeq .residents 0 || return 1
	ok askue subscriber show "$a" || return 1
	printf '%s' "$OUT" | grep -q "^rooms       2$" || die "show: rooms 2 not in: $OUT"
	ok askue --json events --type subscriber_changed && jqeq '.[0].details.rooms.new' 2 || return 1
	fails 65 "stove 'coal': expected gas or electric" askue subscriber set "$a" --stove coal || return 1
	fails 65 "settlement 'town'" askue subscriber add --name X --address Y --settlement town || return 1
	fails - "--rooms" askue subscriber add --name X --address Y --rooms 0 || return 1
	fails - "--residents" askue subscriber add --name X --address Y --residents 100 || return 1
}

test_norm_columns_import_export() {
	cat >subs.csv <<CSV
name,address,residents,rooms,stove,settlement
Козлов,ул. Мира 4,4,3,electric,rural
Орлова,ул. Мира 5,,,,
CSV
	ok askue import subscribers subs.csv || return 1
	ok askue export subscribers out.csv || return 1
	head -1 out.csv | grep -q ',residents,rooms,stove,settlement$' || die "header: $(head -1 out.csv)"
	grep -q '"Козлов".*"4","3","electric","rural"$' out.csv || die "Козлов: $(cat out.csv)"
	grep -q '"Орлова".*"1","1","gas","urban"$' out.csv || die "Орлова: $(cat out.csv)"
	printf 'name,address,residents\nX,Y,many\n' >bad.csv
	fails 65 "bad.csv:2: .*residents" askue import subscribers bad.csv || return 1
}

test_tariff_bands() {
	ok askue tariff add Двухзонный --zones day=07-23,night=23-07 --date 2025-01-01 || return 1
	ok askue --json tariff band Двухзонный --from 2026-01-01 --upto 3900,6000 \
		day=6.12/7.30/9.80 night=3.40/4.05/5.45 || return 1
	jqeq '.[0].from' 2026-01-01 && jqeq '.[0].bands' 3 && jqeq '.[0].upto_kwh[1]' 6000 || return 1
	ok askue tariff band Двухзонный --from 2026-07-01 --none || return 1
	ok askue --json tariff band Двухзонный && jqeq 'length' 2 && jqeq '.[1].bands' 0 || return 1
	ok askue --json events --type tariff_price_set && jqeq '.[0].details.band_prices.night[2]' 5.45 || return 1
	fails 65 "already has bands from 2026-01-01" askue tariff band Двухзонный --from 2026-01-01 --none || return 1
	fails 65 "a price for each of its 2 zones" askue tariff band Двухзонный --from 2026-08-01 --upto 3900 day=1/2 || return 1
	fails 65 "limits must ascend" askue tariff band Двухзонный --from 2026-08-01 --upto 6000,3900 day=1/2/3 night=1/2/3 || return 1
	fails 64 "zone day: 2 prices expected" askue tariff band Двухзонный --from 2026-08-01 --upto 3900 day=1/2/3 night=1/2 || return 1
	fails 64 "either --upto" askue tariff band Двухзонный --from 2026-08-01 || return 1
	fails 66 "no such tariff" askue tariff band Нет --from 2026-08-01 --none || return 1
}
