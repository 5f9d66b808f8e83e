/* meter check SERIAL --date D [--time HH:MM] --reading KWH[,KWH..] — a
 * field check: the reading an operator saw on the meter, against the stored
 * readings at that moment (InfluxDB `reading`, lib/fieldcheck.c). Beyond
 * [fieldcheck] tolerance_wh an alert of kind field_check opens (clock
 * error, tampering, wrong meter); every check is journaled (meter_checked).
 * The alert is published on askue/alerts/field_check by the next job run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "cli.h"
#include "fieldcheck.h"
#include "influx.h"
#include "journal.h"

#define ASKUE_EV_METER_CHECKED "meter_checked"

/* The first value of the answer's first series: [time, value]. */
static enum askue_err sample_of(const char *json, struct askue_sample *out)
{
	cJSON *root = cJSON_Parse(json);
	if (!root)
		return askue_err_set(ASKUE_ERR_IO, "InfluxDB: an answer that is not JSON");
	const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "results"), 0);
	const cJSON *ser = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "series"), 0);
	const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(ser, "values"), 0);
	const cJSON *t = cJSON_GetArrayItem(row, 0), *v = cJSON_GetArrayItem(row, 1);
	*out = (struct askue_sample){0};
	if (cJSON_IsNumber(t) && cJSON_IsNumber(v))
		*out = (struct askue_sample){1, (int64_t)t->valuedouble, (int64_t)v->valuedouble};
	cJSON_Delete(root);
	return ASKUE_OK;
}

/* The reading of serial just before (at or before) or after (at or after) t. */
static enum askue_err nearest(struct askue_influx *ix, const char *serial, int64_t t, int after,
                              struct askue_sample *out)
{
	char q[512], esc[2 * ASKUE_SERIAL_BYTES_MAX + 1];
	size_t o = 0;
	for (const char *p = serial; *p && o + 2 < sizeof esc; p++) {
		if (*p == '\'' || *p == '\\')
			esc[o++] = '\\';
		esc[o++] = *p;
	}
	esc[o] = '\0';
	snprintf(q, sizeof q,
	         after ? "SELECT first(ai_wh) FROM reading WHERE meter = '%s' AND time >= %llds"
	               : "SELECT last(ai_wh) FROM reading WHERE meter = '%s' AND time <= %llds",
	         esc, (long long)t);
	char *json = NULL;
	enum askue_err err = askue_influx_query(ix, q, &json);
	if (!err)
		err = sample_of(json, out);
	free(json);
	return err;
}

struct window {
	int64_t start, end; /* the same for a known moment */
	char ref[ASKUE_ALERT_REF_BYTES_MAX + 1];
};

static enum askue_err stored(const struct askue_config *cfg, const char *serial,
                             const struct window *w, struct askue_sample s[4])
{
	struct askue_influx *ix;
	enum askue_err err = askue_influx_open(cfg, &ix);
	if (err)
		return err;
	if (!(err = nearest(ix, serial, w->start, 0, &s[0])) &&
	    !(err = nearest(ix, serial, w->start, 1, &s[1])) &&
	    !(err = nearest(ix, serial, w->end, 0, &s[2])))
		err = nearest(ix, serial, w->end, 1, &s[3]);
	askue_influx_close(ix);
	if (err)
		askue_err_prefix("stored readings of %s: ", serial);
	return err;
}

static void add_kwh(cJSON *o, const char *key, int has, int64_t wh)
{
	if (has)
		cli_json_add_kwh(o, key, (struct askue_energy){wh});
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *result_json(const char *serial, const struct window *w, int64_t seen_wh,
                          const struct askue_fieldcheck *f, int64_t tol_wh)
{
	cJSON *d = cJSON_CreateObject();
	char stamp[ASKUE_UTC_STAMP_BUF];
	cJSON_AddStringToObject(d, "serial", serial);
	cJSON_AddStringToObject(d, "visit", w->ref);
	cJSON_AddStringToObject(d, "from", askue_utc_stamp(w->start, stamp));
	cJSON_AddStringToObject(d, "to", askue_utc_stamp(w->end, stamp));
	cli_json_add_kwh(d, "reading_kwh", (struct askue_energy){seen_wh});
	add_kwh(d, "stored_from_kwh", f->has_lo, f->lo_wh);
	add_kwh(d, "stored_to_kwh", f->has_hi, f->hi_wh);
	cJSON_AddBoolToObject(d, "compared", f->comparable);
	cli_json_add_kwh(d, "difference_kwh", (struct askue_energy){f->diff_wh});
	cli_json_add_kwh(d, "tolerance_kwh", (struct askue_energy){tol_wh});
	cJSON_AddBoolToObject(d, "beyond_tolerance", f->beyond);
	return d;
}

/* Journal the check, and open the alert when beyond the tolerance (unless
 * one is open for the meter already). */
static enum askue_err record(struct askue_ledger *l, const char *serial, const struct window *w,
                             cJSON *d, int beyond, int64_t now, int64_t *alert_id)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if (!(err = askue_journal_append(l, ASKUE_EV_METER_CHECKED, serial, d)) && beyond) {
		const char *meters[1] = {serial};
		err = askue_alert_open_tx(l, ASKUE_ALERT_FIELD_CHECK, serial, w->ref, now, d, meters, 1,
		                          alert_id);
		if (err == ASKUE_ERR_EXISTS) {
			err = ASKUE_OK; /* one open for the meter: the operators have it */
			*alert_id = -1;
		}
	}
	if (!err)
		return askue_ledger_commit(l);
	askue_ledger_rollback(l);
	return err;
}

static enum askue_err parse_window(const char *date, const char *time_s, struct window *w)
{
	struct askue_date d;
	enum askue_err err = cli_date("--date", date, &d);
	if (err)
		return err;
	if ((err = askue_date_start(d, &w->start)))
		return err;
	if (!time_s) {
		snprintf(w->ref, sizeof w->ref, "%s", date);
		return askue_date_start(askue_date_add_days(d, 1), &w->end);
	}
	int hh, mm;
	char extra;
	if (sscanf(time_s, "%2d:%2d%c", &hh, &mm, &extra) != 2 || hh > 23 || mm > 59 || hh < 0 ||
	    mm < 0 || strlen(time_s) != 5)
		return askue_err_set(ASKUE_ERR_INVALID, "--time '%s': expected HH:MM (local)", time_s);
	/* local wall time: the day's start plus the hours (a DST change inside
	 * the day would shift it by an hour; Russia keeps none) */
	w->start += hh * 3600 + mm * 60;
	w->end = w->start;
	snprintf(w->ref, sizeof w->ref, "%s %s", date, time_s);
	return ASKUE_OK;
}

static int print_result(struct askue_cli *cli, cJSON *d, int64_t alert_id)
{
	if (alert_id > 0)
		cJSON_AddNumberToObject(d, "alert", (double)alert_id);
	else
		cJSON_AddNullToObject(d, "alert");
	if (cli->json)
		return cli_print_json(d);
	const cJSON *diff = cJSON_GetObjectItem(d, "difference_kwh");
	if (!cJSON_IsTrue(cJSON_GetObjectItem(d, "compared")))
		printf("no stored readings around the visit: nothing to compare\n");
	else if (alert_id > 0)
		printf("difference %s kWh beyond tolerance: alert %lld opened\n", diff->valuestring,
		       (long long)alert_id);
	else if (alert_id < 0)
		printf("difference %s kWh beyond tolerance: a field_check alert is open already\n",
		       diff->valuestring);
	else
		printf("within tolerance (difference %s kWh)\n", diff->valuestring);
	cJSON_Delete(d);
	return 0;
}

int cmd_meter_check(struct askue_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"date", required_argument, 0, 'd'},
	                                     {"time", required_argument, 0, 't'},
	                                     {"reading", required_argument, 0, 'r'},
	                                     {0, 0, 0, 0}};
	const char *date = NULL, *time_s = NULL, *reading = NULL;
	int c;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': date = optarg; break;
		case 't': time_s = optarg; break;
		case 'r': reading = optarg; break;
		default: return cli_bad_option(cli, c, argv);
		}
	}
	if (optind + 1 != argc || !date || !reading)
		return cli_usage(cli, "expected SERIAL --date D --reading KWH");
	const char *serial = argv[optind];
	struct window w;
	struct askue_meter m = {0};
	struct askue_registers regs;
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	enum askue_err err = parse_window(date, time_s, &w);
	if (!err)
		err = askue_meter_get(l, serial, &m);
	if (!err)
		err = askue_registers_parse(reading, m.zones, &regs);
	struct askue_sample s[4];
	if (!err)
		err = stored(&cli->cfg, serial, &w, s);
	if (err)
		return cli_fail(cli, err);
	struct askue_sample lo = askue_fieldcheck_at(s[0], s[1], w.start);
	struct askue_sample hi = askue_fieldcheck_at(s[2], s[3], w.end);
	int64_t tol = cli->cfg.fieldcheck_tolerance_wh;
	struct askue_fieldcheck f = askue_fieldcheck_judge(lo, hi, s[0], s[3], regs.wh[0], tol);
	cJSON *d = result_json(serial, &w, regs.wh[0], &f, tol);
	int64_t alert_id = 0;
	if ((err = record(l, serial, &w, d, f.beyond, (int64_t)time(NULL), &alert_id))) {
		cJSON_Delete(d);
		return cli_fail(cli, err);
	}
	return print_result(cli, d, alert_id);
}
