/* anomalies [--date D] [--kind K] [--csv] — for analysts: what `job
 * anomalies` found active on local day D (default yesterday), from the
 * ledger table `anomaly`, most suspicious first within each kind: the meter,
 * its subscriber's account, district and substation that day, the kind,
 * the day it began (since), the score and the figures that explain it.
 * --json: an array of {day, serial, account, district, substation, kind,
 * since, score, details}; --csv: the same as CSV on stdout (details as a
 * JSON text). The same findings are in InfluxDB's `anomaly` measurement
 * (docs/anomalies.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <csv.h>

#include "anomaly.h"
#include "cli.h"

struct listing {
	int csv;
	cJSON *arr;
	size_t n;
};

static void csv_text(const char *s)
{
	csv_fwrite(stdout, s, strlen(s));
}

static void emit(struct listing *ls, sqlite3_stmt *st)
{
	static const char *const names[] = {"day",        "serial", "account", "district",
	                                    "substation", "kind",   "since"};
	double score = sqlite3_column_double(st, 7);
	const char *details = askue_column_text(st, 8);
	ls->n++;
	if (ls->arr) {
		cJSON *o = cJSON_CreateObject();
		for (int c = 0; c < 7; c++)
			cJSON_AddStringToObject(o, names[c], askue_column_text(st, c));
		cJSON_AddNumberToObject(o, "score", score);
		cJSON *d = cJSON_Parse(details);
		cJSON_AddItemToObject(o, "details", d ? d : cJSON_CreateObject());
		cJSON_AddItemToArray(ls->arr, o);
	} else if (ls->csv) {
		for (int c = 0; c < 7; c++) {
			csv_text(askue_column_text(st, c));
			putchar(',');
		}
		printf("%.3f,", score);
		csv_text(details);
		putchar('\n');
	} else {
		printf("%s %-16s %-12s %-10s since %s score %7.3f %s\n", askue_column_text(st, 0),
		       askue_column_text(st, 1), askue_column_text(st, 2), askue_column_text(st, 5),
		       askue_column_text(st, 6), score, details);
	}
}

static enum askue_err list(struct askue_ledger *l, const char *day, const char *kind,
                           struct listing *ls)
{
	static const char sql[] =
		"SELECT a.day, a.serial, coalesce(s.account, ''), coalesce(s.district, ''),"
		" coalesce(s.substation, ''), a.kind, a.since, a.score, a.details FROM anomaly a"
		" LEFT JOIN meter m ON m.serial = a.serial"
		" LEFT JOIN installation i ON i.meter_id = m.id AND i.installed <= a.day"
		"  AND (i.removed IS NULL OR i.removed >= a.day)"
		" LEFT JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE a.day = ?1 AND (?2 IS NULL OR a.kind = ?2)"
		" ORDER BY a.kind, a.score DESC, a.serial";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 2);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		emit(ls, st);
	if (rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "anomalies");
	sqlite3_reset(st);
	return err;
}

static int parse(struct askue_cli *cli, int argc, char **argv, struct askue_date *day,
                 int *kind, int *csv)
{
	static const struct option opts[] = {{"date", required_argument, 0, 'd'},
	                                     {"kind", required_argument, 0, 'k'},
	                                     {"csv", no_argument, 0, 'c'},
	                                     {0, 0, 0, 0}};
	int c;
	enum askue_err err = ASKUE_OK;
	*day = askue_date_add_days(askue_date_of((int64_t)time(NULL)), -1);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1 && !err) {
		switch (c) {
		case 'd': err = cli_date("--date", optarg, day); break;
		case 'k':
			if ((*kind = askue_anomaly_kind_of(optarg)) < 0)
				return cli_usage(cli, "--kind '%s': expected backwards, jump, stuck, drop, "
				                      "reverse or away", optarg);
			break;
		case 'c': *csv = 1; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (err)
		return cli_fail(cli, err);
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (*csv && cli->json)
		return cli_usage(cli, "--csv and --json: choose one");
	return 0;
}

int cmd_anomalies(struct askue_cli *cli, int argc, char **argv)
{
	struct askue_date day;
	int kind = -1, csv = 0;
	int rc = parse(cli, argc, argv, &day, &kind, &csv);
	if (rc)
		return rc;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	char d[ASKUE_DATE_BUF];
	askue_date_format(day, d);
	struct listing ls = {.csv = csv, .arr = cli->json ? cJSON_CreateArray() : NULL};
	if (csv)
		printf("day,serial,account,district,substation,kind,since,score,details\n");
	enum askue_err err =
		list(l, d, kind >= 0 ? askue_anomaly_kind_name((enum askue_anomaly_kind)kind) : NULL,
		     &ls);
	if (err) {
		cJSON_Delete(ls.arr);
		return cli_fail(cli, err);
	}
	if (ls.arr)
		return cli_print_json(ls.arr);
	if (!csv && !ls.n)
		printf("no anomalies on %s\n", d);
	return 0;
}
