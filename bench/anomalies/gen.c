/* gen — meter_day rows for the anomalies benchmark: N meters (serials
 * B00000001..) x DAYS local days ending on LAST, one reading at each local
 * midnight (Europe/Moscow, UTC+3), written straight into the ledger's
 * meter_day in one transaction (the rollup writes the same rows one day at a
 * time). Consumption a day is 5-15 kWh, deterministic per meter and day;
 * of every 1,000 meters one has consumption falling to 40 % for the last
 * 28 days (a drop), one a register still for the last 10 days (stuck), one
 * a register set back 5 kWh three days before LAST (backwards), one a day
 * of 500 kWh in its last day (a jump).
 *
 *   gen LEDGER N DAYS LAST(YYYY-MM-DD)
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "date.h"

static int64_t consumption(long meter, int i, int days)
{
	int64_t c = 5000 + (int64_t)((meter * 7919 + i * 104729) % 10001);
	int kind = (int)(meter % 1000);
	if (kind == 1 && i >= days - 28)
		c = c * 40 / 100;
	if (kind == 2 && i >= days - 10)
		c = 0;
	if (kind == 3 && i == days - 3)
		c = -5000;
	if (kind == 4 && i == days - 1)
		c = 500000;
	return c;
}

int main(int argc, char **argv)
{
	int y, mo, d;
	if (argc != 5 || sscanf(argv[4], "%d-%d-%d", &y, &mo, &d) != 3) {
		fprintf(stderr, "usage: gen LEDGER N DAYS LAST\n");
		return 64;
	}
	long n = atol(argv[2]);
	int days = atoi(argv[3]);
	int32_t first = askue_date_from_ymd(y, mo, d).days - days + 1;
	sqlite3 *db;
	sqlite3_stmt *st;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", 0, 0, 0) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO meter_day(serial, day, readings, first_ts, first_r0_wh,"
	                       " last_ts, last_r0_wh) VALUES (?1, ?2, 1, ?3, ?4, ?3, ?4)",
	                       -1, &st, 0) != SQLITE_OK) {
		fprintf(stderr, "gen: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	for (long m = 1; m <= n; m++) {
		char serial[32], day[40];
		snprintf(serial, sizeof serial, "B%08ld", m);
		int64_t reg = 1000000 + m;
		for (int i = 0; i < days; i++) {
			reg += consumption(m, i, days);
			askue_date_format((struct askue_date){first + i}, day);
			sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, (int64_t)(first + i) * 86400 - 10800);
			sqlite3_bind_int64(st, 4, reg);
			if (sqlite3_step(st) != SQLITE_DONE) {
				fprintf(stderr, "gen: %s\n", sqlite3_errmsg(db));
				return 1;
			}
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", 0, 0, 0) != SQLITE_OK) {
		fprintf(stderr, "gen: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_close(db);
	return 0;
}
