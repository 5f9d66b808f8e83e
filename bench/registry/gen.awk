# gen.awk — a synthetic card file of N subscribers, N meters and N
# installations, with Russian names and addresses, for bench/registry.
#   awk -v n=500000 -v dir=DIR -f gen.awk
BEGIN {
	split("Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв", last, " ")
	split("Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Николай Анна Мария Елена Ольга Наталья Татьяна Ирина Светлана Юлия Екатерина", first, " ")
	split("Александрович Сергеевич Дмитриевич Андреевич Алексеевич Иванович Михайлович Николаевич Петрович Викторович", patr, " ")
	split("Ленина Мира Садовая Советская Гагарина Пушкина Кирова Молодёжная Лесная Школьная Новая Центральная Набережная Заречная Полевая", street, " ")
	split("Центральный Заволжский Московский Пролетарский Калининский", district, " ")
	srand(42)
	subs = dir "/subscribers.csv"; meters = dir "/meters.csv"; inst = dir "/installations.csv"
	print "account,name,address,district,substation,date" > subs
	print "serial,model,commissioned,service-life,zones" > meters
	print "serial,account,date,reading" > inst
	for (i = 1; i <= n; i++) {
		acc = sprintf("%09d", i)
		ln = last[int(rand() * 40) + 1]; fn = first[int(rand() * 20) + 1]; pt = patr[int(rand() * 10) + 1]
		if (fn ~ /(а|я)$/) { sub(/(ов|ев|ёв|ин)$/, "&а", ln); sub(/ич$/, "на", pt) }
		d = district[int(rand() * 5) + 1]
		printf "%s,%s %s %s,\"г. Тверь, ул. %s, д. %d, кв. %d\",%s,ТП-%d,2020-%02d-%02d\n", acc, ln, fn, pt, street[int(rand() * 15) + 1], int(rand() * 120) + 1, int(rand() * 200) + 1, d, int(rand() * 800) + 1, int(rand() * 12) + 1, int(rand() * 28) + 1 > subs
		z = rand() < 0.3 ? 2 : 1
		printf "SN%08d,%s,2021-%02d-%02d,30,%d\n", i, z == 2 ? "Меркурий 230" : "Меркурий 201.8", int(rand() * 12) + 1, int(rand() * 28) + 1, z > meters
		if (z == 2) r = sprintf("\"%.3f,%.3f\"", rand() * 5000, rand() * 3000); else r = sprintf("%.3f", rand() * 8000)
		printf "SN%08d,%s,2022-%02d-%02d,%s\n", i, acc, int(rand() * 12) + 1, int(rand() * 28) + 1, r > inst
	}
}
