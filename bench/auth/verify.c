/* auth-verify — the plugin's own cost of one authentication, without the
 * broker: load the auth table from the ledger as the plugin does, then look
 * up and verify every user of USERS_FILE, ROUNDS times. Prints the table's
 * load time and verifications per second on one core.
 *
 * usage: auth-verify LEDGER USERS_FILE [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../broker-plugins/authtable.c"

/* Resident memory of this process, bytes. */
static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4096;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: auth-verify LEDGER USERS_FILE [ROUNDS]\n");
		return 64;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	sqlite3 *db;
	if (askue_cred_init() || sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL)) {
		fprintf(stderr, "auth-verify: cannot open %s\n", argv[1]);
		return 66;
	}
	struct auth_table *t;
	char warn[256];
	long rss0 = rss_bytes();
	double t0 = now_s();
	if (auth_table_load(db, &t, warn, sizeof warn)) {
		fprintf(stderr, "auth-verify: %s\n", warn);
		return 1;
	}
	double load_s = now_s() - t0;
	long table_bytes = rss_bytes() - rss0;
	FILE *f = fopen(argv[2], "r");
	if (!f)
		return 66;
	size_t n = 0, cap = 1024;
	char (*names)[72] = malloc(cap * sizeof *names), (*pass)[72] = malloc(cap * sizeof *pass);
	while (names && pass && fscanf(f, "%71s %71s", names[n], pass[n]) == 2) {
		if (++n == cap) {
			cap *= 2;
			names = realloc(names, cap * sizeof *names);
			pass = realloc(pass, cap * sizeof *pass);
		}
	}
	fclose(f);
	long ok = 0, total = 0;
	t0 = now_s();
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++, total++) {
			const struct auth_entry *e = auth_table_find(t, names[i], strlen(names[i]));
			ok += e && askue_cred_verify(&e->cred, pass[i], strlen(pass[i]));
		}
	double dt = now_s() - t0;
	printf("table of %zu users loaded in %.0f ms, %.1f MB; %ld lookups+verifications (%ld ok) at "
	       "%.0f/s (%.2f us each)\n",
	       (size_t)auth_table_counts(t).meters, load_s * 1e3, (double)table_bytes / 1e6, total, ok,
	       (double)total / dt, dt / (double)total * 1e6);
	auth_table_free(t);
	sqlite3_close(db);
	free(names);
	free(pass);
	return ok == total ? 0 : 1;
}
