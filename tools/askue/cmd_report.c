/* report completeness --date D [--csv FILE] [--missing-csv FILE] — for the
 * tariff department: of the meters installed on day D (local), the share
 * with at least one reading stamped that day (InfluxDB `reading`), in all,
 * by district and by substation, and the list of the missing ones.
 *
 * Shares are per cent with two decimals, rounded half up, computed in
 * integers. --csv writes the shares (level,district,substation,installed,
 * with_reading,share_pct; level = total | district | substation);
 * --missing-csv the missing meters (serial,account,district,substation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "cli.h"
#include "influx.h"
#include "strmap.h"

struct tally {
	char district[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char substation[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	int64_t installed, with;
};

struct report {
	struct askue_strmap *seen; /* serial -> readings that day */
	struct tally total, district, sub;
	cJSON *districts, *subs, *missing;
	FILE *csv, *missing_csv;
};

/* "97.50" */
static char *share(const struct tally *t, char *buf, size_t size)
{
	int64_t bp = t->installed ? (t->with * 20000 / t->installed + 1) / 2 : 10000;
	snprintf(buf, size, "%lld.%02lld", (long long)(bp / 100), (long long)(bp % 100));
	return buf;
}

/* A CSV field, always quoted, quotes doubled (libcsv). */
static void csv_text(FILE *f, const char *s)
{
	csv_fwrite(f, s, strlen(s));
}

static void emit(struct report *r, const char *level, const struct tally *t, cJSON *into)
{
	char pct[16];
	share(t, pct, sizeof pct);
	if (into) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "district", t->district);
		if (!strcmp(level, "substation"))
			cJSON_AddStringToObject(o, "substation", t->substation);
		cJSON_AddNumberToObject(o, "installed", (double)t->installed);
		cJSON_AddNumberToObject(o, "with_reading", (double)t->with);
		cJSON_AddItemToObject(o, "share_pct", cJSON_CreateRaw(pct));
		cJSON_AddItemToArray(into, o);
	}
	if (r->csv) {
		fprintf(r->csv, "%s,", level);
		csv_text(r->csv, t->district);
		fputc(',', r->csv);
		csv_text(r->csv, t->substation);
		fprintf(r->csv, ",%lld,%lld,%s\n", (long long)t->installed, (long long)t->with, pct);
	}
}

static enum askue_err load_seen(const struct askue_config *cfg, int64_t start, int64_t end,
                                struct askue_strmap *seen)
{
	char q[256], *json = NULL;
	snprintf(q, sizeof q,
	         "SELECT count(ai_wh) FROM reading WHERE time >= %llds AND time < %llds GROUP BY meter",
	         (long long)start, (long long)end);
	struct askue_influx *ix;
	enum askue_err err = askue_influx_open(cfg, &ix);
	if (!err) {
		err = askue_influx_query(ix, q, &json);
		askue_influx_close(ix);
	}
	if (err) {
		askue_err_prefix("readings of the day: ");
		return err;
	}
	cJSON *root = cJSON_Parse(json);
	free(json);
	if (!root)
		return askue_err_set(ASKUE_ERR_IO, "InfluxDB: an answer that is not JSON");
	const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "results"), 0);
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(res, "series"))
	{
		const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "tags"), "meter");
		const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "values"), 0);
		const cJSON *n = cJSON_GetArrayItem(row, 1);
		if (cJSON_IsString(m) && cJSON_IsNumber(n) && n->valuedouble > 0 &&
		    (err = askue_strmap_put(seen, m->valuestring, (int64_t)n->valuedouble)))
			break;
	}
	cJSON_Delete(root);
	return err;
}

static void add_missing(struct report *r, sqlite3_stmt *st)
{
	const char *serial = askue_column_text(st, 0), *account = askue_column_text(st, 1);
	const char *district = askue_column_text(st, 2), *substation = askue_column_text(st, 3);
	if (r->missing) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "serial", serial);
		cJSON_AddStringToObject(o, "account", account);
		cJSON_AddStringToObject(o, "district", district);
		cJSON_AddStringToObject(o, "substation", substation);
		cJSON_AddItemToArray(r->missing, o);
	}
	if (r->missing_csv) {
		csv_text(r->missing_csv, serial);
		fprintf(r->missing_csv, ",%s,", account);
		csv_text(r->missing_csv, district);
		fputc(',', r->missing_csv);
		csv_text(r->missing_csv, substation);
		fputc('\n', r->missing_csv);
	}
}

/* Installed meters ordered by district and substation: the tallies close
 * as the groups end. */
static enum askue_err walk(struct askue_ledger *l, const char *day, struct report *r)
{
	static const char sql[] =
		"SELECT m.serial, s.account, s.district, s.substation"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE i.installed <= ?1 AND (i.removed IS NULL OR i.removed > ?1)"
		" ORDER BY s.district, s.substation, m.serial";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	int rc, first = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *district = askue_column_text(st, 2), *substation = askue_column_text(st, 3);
		int new_district = first || strcmp(district, r->district.district) != 0;
		if (!first && (new_district || strcmp(substation, r->sub.substation) != 0))
			emit(r, "substation", &r->sub, r->subs);
		if (!first && new_district)
			emit(r, "district", &r->district, r->districts);
		if (new_district) {
			memset(&r->district, 0, sizeof r->district);
			snprintf(r->district.district, sizeof r->district.district, "%s", district);
		}
		if (new_district || strcmp(substation, r->sub.substation) != 0) {
			memset(&r->sub, 0, sizeof r->sub);
			snprintf(r->sub.district, sizeof r->sub.district, "%s", district);
			snprintf(r->sub.substation, sizeof r->sub.substation, "%s", substation);
		}
		first = 0;
		int64_t n;
		int with = askue_strmap_get(r->seen, askue_column_text(st, 0), &n);
		r->total.installed++, r->district.installed++, r->sub.installed++;
		r->total.with += with, r->district.with += with, r->sub.with += with;
		if (!with)
			add_missing(r, st);
	}
	if (rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "installed meters");
	sqlite3_reset(st);
	if (!err && !first) {
		emit(r, "substation", &r->sub, r->subs);
		emit(r, "district", &r->district, r->districts);
	}
	return err;
}

static enum askue_err open_csv(const char *path, const char *header, FILE **out)
{
	if (!path)
		return ASKUE_OK;
	FILE *f = fopen(path, "w");
	if (!f)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	fprintf(f, "%s\n", header);
	*out = f;
	return ASKUE_OK;
}

static void print_text(const char *day, struct report *r)
{
	char pct[16];
	printf("completeness %s: %lld of %lld installed meters with a reading (%s %%)\n", day,
	       (long long)r->total.with, (long long)r->total.installed,
	       share(&r->total, pct, sizeof pct));
	const cJSON *o;
	cJSON_ArrayForEach(o, r->subs)
		printf("  %-24s %-24s %8d of %8d  %s %%\n",
		       cJSON_GetObjectItem(o, "district")->valuestring,
		       cJSON_GetObjectItem(o, "substation")->valuestring,
		       (int)cJSON_GetObjectItem(o, "with_reading")->valuedouble,
		       (int)cJSON_GetObjectItem(o, "installed")->valuedouble,
		       cJSON_GetObjectItem(o, "share_pct")->valuestring);
	printf("missing: %d\n", cJSON_GetArraySize(r->missing));
	cJSON_ArrayForEach(o, r->missing)
		printf("  %s %s\n", cJSON_GetObjectItem(o, "serial")->valuestring,
		       cJSON_GetObjectItem(o, "account")->valuestring);
}

static cJSON *as_json(const char *day, struct report *r)
{
	char pct[16];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "date", day);
	cJSON_AddNumberToObject(o, "installed", (double)r->total.installed);
	cJSON_AddNumberToObject(o, "with_reading", (double)r->total.with);
	cJSON_AddItemToObject(o, "share_pct", cJSON_CreateRaw(share(&r->total, pct, sizeof pct)));
	cJSON_AddItemToObject(o, "districts", r->districts);
	cJSON_AddItemToObject(o, "substations", r->subs);
	cJSON_AddItemToObject(o, "missing", r->missing);
	r->districts = r->subs = r->missing = NULL;
	return o;
}

int cmd_report_completeness(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"date", required_argument, 0, 'd'},
	                                     {"csv", required_argument, 0, 'c'},
	                                     {"missing-csv", required_argument, 0, 'm'},
	                                     {0, 0, 0, 0}};
	const char *date = NULL, *csv = NULL, *missing_csv = NULL;
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': date = optarg; break;
		case 'c': csv = optarg; break;
		case 'm': missing_csv = optarg; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (optind < argc || !date)
		return cli_usage(cli, "expected --date D");
	struct askue_date d;
	int64_t start, end;
	char day[ASKUE_DATE_BUF];
	struct report r = {.districts = cJSON_CreateArray(), .subs = cJSON_CreateArray(),
	                   .missing = cJSON_CreateArray()};
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = cli_date("--date", date, &d);
	if (!err && !(err = askue_date_start(d, &start)))
		err = askue_date_start(askue_date_add_days(d, 1), &end);
	askue_date_format(d, day);
	if (!err)
		err = askue_strmap_new(1024, &r.seen);
	if (!err)
		err = load_seen(&cli->cfg, start, end, r.seen);
	if (!err)
		err = open_csv(csv, "level,district,substation,installed,with_reading,share_pct", &r.csv);
	if (!err)
		err = open_csv(missing_csv, "serial,account,district,substation", &r.missing_csv);
	if (!err)
		err = walk(l, day, &r);
	if (!err && r.csv)
		emit(&r, "total", &r.total, NULL);
	if (r.csv && fclose(r.csv) && !err)
		err = askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", csv, strerror(errno));
	if (r.missing_csv && fclose(r.missing_csv) && !err)
		err = askue_err_set(ASKUE_ERR_IO, "%s: cannot write: %s", missing_csv, strerror(errno));
	askue_strmap_free(r.seen);
	int rc = 0;
	if (err)
		rc = cli_fail(cli, err);
	else if (cli->json)
		rc = cli_print_json(as_json(day, &r));
	else
		print_text(day, &r);
	cJSON_Delete(r.districts);
	cJSON_Delete(r.subs);
	cJSON_Delete(r.missing);
	return rc;
}
