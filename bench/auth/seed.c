/* auth-seed — a ledger with N meters, each with credentials issued the way
 * `askue meter credentials` issues them (lib/credentials.c), for the auth
 * benchmark. Writes "serial password" lines to USERS_FILE.
 *
 * usage: auth-seed LEDGER N USERS_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "registry.h"

int main(int argc, char **argv)
{
	if (argc != 4 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: auth-seed LEDGER N USERS_FILE\n");
		return 64;
	}
	int n = atoi(argv[2]);
	struct askue_ledger *l;
	enum askue_err err = askue_cred_init();
	if (!err)
		err = askue_ledger_open(argv[1], 30000, "bench", &l);
	if (err) {
		fprintf(stderr, "auth-seed: %s\n", askue_err_msg());
		return 1;
	}
	/* a benchmark's scratch ledger: no fsync per transaction */
	if ((err = askue_ledger_exec(l, "PRAGMA synchronous = OFF"))) {
		fprintf(stderr, "auth-seed: %s\n", askue_err_msg());
		return 1;
	}
	FILE *out = fopen(argv[3], "w");
	if (!out) {
		perror(argv[3]);
		return 1;
	}
	for (int i = 0; i < n && !err; i++) {
		struct askue_meter m;
		char pw[ASKUE_SECRET_TEXT_BUF];
		memset(&m, 0, sizeof m);
		snprintf(m.serial, sizeof m.serial, "B%08d", i);
		strcpy(m.model, "bench");
		m.commissioned = askue_date_today();
		m.service_life_years = 30;
		if (!(err = askue_meter_add(l, &m)) && !(err = askue_cred_issue_meter(l, m.serial, pw)))
			fprintf(out, "%s %s\n", m.serial, pw);
	}
	if (err)
		fprintf(stderr, "auth-seed: %s\n", askue_err_msg());
	fclose(out);
	askue_ledger_close(l);
	return err ? 1 : 0;
}
