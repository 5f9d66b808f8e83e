/* cmd_forecast — `askue forecast show [--level L] [--name N] [--date D]`:
 * the coming days' energy and peak of one group as `askue job forecast`
 * made them on day D (default: yesterday, the timer's), read back from
 * InfluxDB's `forecast` measurement (docs/analysts.md), where the group is
 * its level and the tag named after it (substation=N, district=N; the
 * utility, level all, has none). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "cli.h"
#include "influx.h"

#define SHOW_DAYS_MAX 14

struct fday {
	double wh;
	int slots, has_peak;
	double peak_w, lo_w, hi_w;
	int64_t peak_at;
};

struct show {
	int64_t starts[SHOW_DAYS_MAX + 1];
	int days;
	struct fday d[SHOW_DAYS_MAX];
};

static int col_of(const cJSON *columns, const char *name)
{
	int i = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, columns)
	{
		if (cJSON_IsString(c) && !strcmp(c->valuestring, name))
			return i;
		i++;
	}
	return -1;
}

static double num(const cJSON *row, int col, int *has)
{
	const cJSON *v = col >= 0 ? cJSON_GetArrayItem(row, col) : NULL;
	*has = v && cJSON_IsNumber(v);
	return *has ? v->valuedouble : 0;
}

/* Rows [time, wh, peak_w, peak_lo_w, peak_hi_w, peak_at, horizon_d]: only
 * those made on D (horizon_d = days from D to the row's day). */
static void take(struct show *s, const cJSON *columns, const cJSON *values)
{
	int c[7];
	static const char *const names[7] = {"time",      "wh",      "peak_w",   "peak_lo_w",
	                                     "peak_hi_w", "peak_at", "horizon_d"};
	for (int k = 0; k < 7; k++)
		c[k] = col_of(columns, names[k]);
	const cJSON *row;
	cJSON_ArrayForEach(row, values)
	{
		int has, hp;
		int64_t t = (int64_t)num(row, c[0], &has);
		const cJSON *h = c[6] >= 0 ? cJSON_GetArrayItem(row, c[6]) : NULL;
		int i = 0;
		while (i < s->days && t >= s->starts[i + 1])
			i++;
		if (!has || i >= s->days || !cJSON_IsString(h) || atoi(h->valuestring) != i + 1)
			continue;
		struct fday *d = &s->d[i];
		d->wh += num(row, c[1], &has);
		d->slots += has;
		double pw = num(row, c[2], &hp);
		if (hp) {
			d->has_peak = 1;
			d->peak_w = pw;
			d->lo_w = num(row, c[3], &has);
			d->hi_w = num(row, c[4], &has);
			d->peak_at = (int64_t)num(row, c[5], &has);
		}
	}
}

/* level is all, district or substation (checked); name is the group's. */
static enum askue_err query(struct askue_cli *cli, const char *level, const char *name,
                            struct show *s)
{
	char esc[1024], group[1100] = "", q[1500];
	size_t o = 0;
	for (const char *p = name; *p && o + 2 < sizeof esc; p++) {
		if (*p == '\'' || *p == '\\')
			esc[o++] = '\\';
		esc[o++] = *p;
	}
	esc[o] = '\0';
	if (strcmp(level, "all"))
		snprintf(group, sizeof group, " AND \"%s\" = '%s'", level, esc);
	snprintf(q, sizeof q,
	         "SELECT wh, peak_w, peak_lo_w, peak_hi_w, peak_at, horizon_d FROM forecast"
	         " WHERE level = '%s'%s AND time >= %llds AND time < %llds",
	         level, group, (long long)s->starts[0], (long long)s->starts[s->days]);
	struct askue_influx *ix;
	char *json = NULL;
	enum askue_err err = askue_influx_open(&cli->cfg, &ix);
	if (!err)
		err = askue_influx_query(ix, q, &json);
	askue_influx_close(ix);
	if (err)
		return err;
	cJSON *root = cJSON_Parse(json);
	free(json);
	const cJSON *series = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "results"), 0),
		                    "series"),
		0);
	if (series)
		take(s, cJSON_GetObjectItem(series, "columns"), cJSON_GetObjectItem(series, "values"));
	cJSON_Delete(root);
	return ASKUE_OK;
}

static void local_hhmm(int64_t t, char out[8])
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	snprintf(out, 8, "%02d:%02d", tm.tm_hour % 100, tm.tm_min % 100);
}

static int print(struct askue_cli *cli, const char *level, const char *name,
                 struct askue_date made, const struct show *s)
{
	cJSON *arr = cli->json ? cJSON_CreateArray() : NULL;
	char day[ASKUE_DATE_BUF], hhmm[8], stamp[ASKUE_UTC_STAMP_BUF];
	if (!arr)
		printf("forecast of %s %s made on %s\n%-10s %12s %10s %5s  %s\n", level, name,
		       askue_date_format(made, day), "day", "kWh", "peak kW", "at",
		       "peak 90 % interval kW");
	for (int i = 0; i < s->days; i++) {
		const struct fday *d = &s->d[i];
		if (!d->slots)
			continue;
		askue_date_format(askue_date_add_days(made, i + 1), day);
		local_hhmm(d->peak_at, hhmm);
		if (!arr) {
			printf("%-10s %12.3f %10.3f %5s  %.3f .. %.3f\n", day, d->wh / 1000,
			       d->peak_w / 1000, d->has_peak ? hhmm : "-", d->lo_w / 1000, d->hi_w / 1000);
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "day", day);
		cJSON_AddNumberToObject(o, "horizon_d", i + 1);
		cJSON_AddNumberToObject(o, "kwh", round(d->wh) / 1000);
		if (d->has_peak) {
			cJSON_AddNumberToObject(o, "peak_kw", round(d->peak_w) / 1000);
			cJSON_AddNumberToObject(o, "peak_lo_kw", round(d->lo_w) / 1000);
			cJSON_AddNumberToObject(o, "peak_hi_kw", round(d->hi_w) / 1000);
			cJSON_AddStringToObject(o, "peak_at", askue_utc_stamp(d->peak_at, stamp));
			cJSON_AddStringToObject(o, "peak_local", hhmm);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr ? cli_print_json(arr) : 0;
}

int cmd_forecast_show(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"level", "name", "date", NULL};
	const char *v[3];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	const char *level = v[0] ? v[0] : "all", *name = v[1];
	if (strcmp(level, "all") && strcmp(level, "district") && strcmp(level, "substation"))
		return cli_usage(cli, "--level '%s': expected all, district or substation", level);
	if (!name && strcmp(level, "all"))
		return cli_usage(cli, "--level %s needs --name", level);
	if (name && !strcmp(level, "all"))
		return cli_usage(cli, "--name: the utility (--level all) has no name; use --level "
		                 "substation or district");
	if (!name)
		name = "all";
	if (strlen(name) > 256)
		return cli_usage(cli, "--name: longer than 256 bytes");
	struct askue_date made = askue_date_add_days(askue_date_today(), -1);
	enum askue_err err = v[2] ? cli_date("--date", v[2], &made) : ASKUE_OK;
	struct show s = {.days = (int)cli->cfg.forecast_horizon_days};
	for (int i = 0; !err && i <= s.days; i++)
		err = askue_date_start(askue_date_add_days(made, i + 1), &s.starts[i]);
	if (!err)
		err = query(cli, level, name, &s);
	return err ? cli_fail(cli, err) : print(cli, level, name, made, &s);
}
