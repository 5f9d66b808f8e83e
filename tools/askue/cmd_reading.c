/* reading add SERIAL --date D [--time HH:MM] --reading KWH[,KWH..]
 *             --source subscriber|controller [--reason TEXT]
 *
 * A manual reading — phoned in by the subscriber or taken by a controller
 * for a meter that does not report or is not replaced yet — stored WITH
 * the automatic ones: a point of InfluxDB `reading` (tag meter, integer Wh
 * fields ai_wh and t1_wh.. as DESIGN.md says, plus a string field src =
 * the source), so billing treats both alike; and journaled
 * (reading_entered), the ledger being the audit trail.
 *
 * The instant: local D HH:MM:00 with --time; without it the end of day D,
 * 23:59:59 local (the reading "as of the day": the last reading of day D,
 * one second before the next day's midnight, so a reading for the last day
 * of a month closes that month); for today, the current moment if that is
 * earlier (a reading is never in the future).
 *
 * A point already at that instant makes the reading a CORRECTION: it needs
 * --reason; the old values are read first and journaled with the new ones
 * (reading_corrected); the write replaces the point's register fields.
 * The same values again change nothing (a retried command is harmless).
 *
 * Order: the ledger transaction is opened (BEGIN IMMEDIATE), the event and
 * the rollup cache (meter_day, redo marks) are written in it, then the
 * point goes to InfluxDB, then the transaction commits. InfluxDB refusing
 * or unreachable rolls everything back: no event without its point. A
 * crash between the write and the commit leaves a point without its event;
 * running the same command again finds the point with the same values and
 * no event for it, and journals it then (docs/rollup.md).
 *
 * reading list SERIAL [--from D] [--to D] shows a meter's stored readings
 * with their source (meter, subscriber, controller): what to correct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../jobs/rollup.h"
#include "alert.h"
#include "cli.h"
#include "influx.h"
#include "journal.h"
#include "lineproto.h"
#include "text.h"

#define REASON_BYTES_MAX 400

struct manual {
	const char *serial;
	struct askue_meter meter;
	char account[ASKUE_ACCOUNT_BUF];
	struct askue_date day;
	int64_t ts;
	struct askue_registers regs;
	const char *source, *reason;
	int has_old; /* a point at ts */
	struct askue_rollup_regs old;
	char old_src[32];
};

static enum askue_err parse_time(struct manual *m, const char *date, const char *time_s)
{
	enum askue_err err = cli_date("--date", date, &m->day);
	struct askue_date today = askue_date_today();
	if (err)
		return err;
	if (m->day.days > today.days)
		return askue_err_set(ASKUE_ERR_INVALID, "--date %s: in the future (today is %s)", date,
		                     askue_date_format(today, (char[ASKUE_DATE_BUF]){0}));
	int64_t now = (int64_t)time(NULL);
	if (!time_s) {
		if ((err = askue_date_start(askue_date_add_days(m->day, 1), &m->ts)))
			return err;
		m->ts -= 1;
		if (m->ts > now)
			m->ts = now;
		return ASKUE_OK;
	}
	int hh, mm;
	char extra;
	if (strlen(time_s) != 5 || sscanf(time_s, "%2d:%2d%c", &hh, &mm, &extra) != 2 || hh < 0 ||
	    hh > 23 || mm < 0 || mm > 59)
		return askue_err_set(ASKUE_ERR_INVALID, "--time '%s': expected HH:MM (local)", time_s);
	if ((err = askue_date_start(m->day, &m->ts)))
		return err;
	m->ts += hh * 3600 + mm * 60; /* Russia keeps no summer time: no gap inside a day */
	if (m->ts > now)
		return askue_err_set(ASKUE_ERR_INVALID, "--date %s --time %s: in the future", date,
		                     time_s);
	return ASKUE_OK;
}

/* The subscriber the meter was installed at on D; refused when none. */
static enum askue_err installed_on(struct askue_ledger *l, struct manual *m)
{
	static const char sql[] =
		"SELECT s.account FROM installation i JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE i.meter_id = ?1 AND i.installed <= ?2 AND (i.removed IS NULL OR i.removed >= ?2)"
		" ORDER BY i.installed DESC LIMIT 1";
	char d[ASKUE_DATE_BUF];
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, m->meter.id);
	sqlite3_bind_text(st, 2, askue_date_format(m->day, d), -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(m->account, sizeof m->account, "%s", askue_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return ASKUE_OK;
	if (rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "installation");
	return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: not installed on %s (status %s)",
	                     m->serial, d, m->meter.status);
}

static enum askue_err check_values(const struct manual *m)
{
	for (int z = 0; z <= m->regs.zones; z++)
		if (m->regs.wh[z] >= m->meter.capacity_wh)
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "--reading: %s kWh is not below the register's capacity of "
			                     "meter %s (%s kWh)",
			                     askue_energy_format_kwh((struct askue_energy){m->regs.wh[z]},
			                                             (char[ASKUE_NUM_BUF]){0}),
			                     m->serial,
			                     askue_energy_format_kwh(
			                         (struct askue_energy){m->meter.capacity_wh},
			                         (char[ASKUE_NUM_BUF]){0}));
	return ASKUE_OK;
}

static enum askue_err check_args(struct manual *m)
{
	if (strcmp(m->source, "subscriber") && strcmp(m->source, "controller"))
		return askue_err_set(ASKUE_ERR_INVALID, "--source '%s': expected subscriber or "
		                     "controller", m->source);
	if (m->reason && (!*m->reason || strlen(m->reason) > REASON_BYTES_MAX ||
	                  !askue_text_valid(m->reason, strlen(m->reason))))
		return askue_err_set(ASKUE_ERR_INVALID, "--reason: expected 1..%d bytes of UTF-8 text",
		                     REASON_BYTES_MAX);
	return ASKUE_OK;
}

/* The registers as askue_rollup_regs: 1.8.0 and, multi-zone, T1..Tn. */
static struct askue_rollup_regs regs_of(const struct manual *m)
{
	struct askue_rollup_regs r = {.ts = m->ts, .mask = 1, .wh = {m->regs.wh[0]}};
	for (int z = 1; m->regs.zones > 1 && z <= m->regs.zones; z++) {
		r.mask |= 1u << z;
		r.wh[z] = m->regs.wh[z];
	}
	return r;
}

static void old_point(struct manual *m, const cJSON *row)
{
	m->old = (struct askue_rollup_regs){.ts = m->ts};
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++) {
		const cJSON *v = cJSON_GetArrayItem(row, k + 1);
		if (cJSON_IsNumber(v)) {
			m->old.mask |= 1u << k;
			m->old.wh[k] = (int64_t)v->valuedouble;
		}
	}
	const cJSON *src = cJSON_GetArrayItem(row, 5);
	snprintf(m->old_src, sizeof m->old_src, "%s",
	         cJSON_IsString(src) ? src->valuestring : "meter");
	m->has_old = m->old.mask != 0;
}

/* s as the inside of an InfluxQL string literal ('...'). */
static void influxql_string(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = s; *p && o + 2 < size; p++) {
		if (*p == '\'' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o] = '\0';
}

/* The point already at ts, if any. */
static enum askue_err read_old(struct askue_influx *ix, struct manual *m)
{
	char q[512], esc[2 * ASKUE_SERIAL_BYTES_MAX + 1];
	influxql_string(m->serial, esc, sizeof esc);
	snprintf(q, sizeof q,
	         "SELECT ai_wh, t1_wh, t2_wh, t3_wh, src FROM reading WHERE meter = '%s'"
	         " AND time = %llds",
	         esc, (long long)m->ts);
	char *json = NULL;
	enum askue_err err = askue_influx_query(ix, q, &json);
	if (err) {
		askue_err_prefix("the stored reading of %s: ", m->serial);
		return err;
	}
	cJSON *root = cJSON_Parse(json);
	free(json);
	const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "results"), 0);
	const cJSON *ser = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "series"), 0);
	const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(ser, "values"), 0);
	m->has_old = 0;
	if (cJSON_IsArray(row))
		old_point(m, row);
	cJSON_Delete(root);
	return ASKUE_OK;
}

static enum askue_err write_point(struct askue_influx *ix, const struct manual *m)
{
	char esc[4 * ASKUE_SERIAL_BYTES_MAX + 1], line[1024];
	if (askue_lineproto_escape_tag(m->serial, strlen(m->serial), esc, sizeof esc) == (size_t)-1)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: a serial InfluxDB cannot hold as a "
		                     "tag", m->serial);
	int o = snprintf(line, sizeof line, "reading,meter=%s ai_wh=%lldi", esc,
	                 (long long)m->regs.wh[0]);
	for (int z = 1; m->regs.zones > 1 && z <= m->regs.zones; z++)
		o += snprintf(line + o, sizeof line - (size_t)o, ",t%d_wh=%lldi", z,
		              (long long)m->regs.wh[z]);
	o += snprintf(line + o, sizeof line - (size_t)o, ",src=\"%s\" %lld\n", m->source,
	              (long long)m->ts);
	enum askue_err err = askue_influx_write(ix, line, (size_t)o, NULL);
	if (err)
		askue_err_prefix("the reading of %s: ", m->serial);
	return err;
}

static cJSON *values_json(const struct askue_rollup_regs *r)
{
	static const char *const keys[ASKUE_ROLLUP_REGS] = {"ai_wh", "t1_wh", "t2_wh", "t3_wh"};
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++)
		if (r->mask & (1u << k))
			askue_json_add_int(o, keys[k], r->wh[k]);
	return o;
}

static cJSON *details_json(struct askue_ledger *l, const struct manual *m)
{
	char stamp[ASKUE_UTC_STAMP_BUF], d[ASKUE_DATE_BUF], buf[128];
	struct askue_rollup_regs now = regs_of(m);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "serial", m->serial);
	cJSON_AddStringToObject(o, "account", m->account);
	cJSON_AddStringToObject(o, "date", askue_date_format(m->day, d));
	askue_json_add_int(o, "ts", m->ts);
	cJSON_AddStringToObject(o, "time", askue_utc_stamp(m->ts, stamp));
	cJSON_AddStringToObject(o, "reading", askue_registers_format(&m->regs, buf, sizeof buf));
	cJSON_AddItemToObject(o, "values", values_json(&now));
	cJSON_AddStringToObject(o, "source", m->source);
	cJSON_AddStringToObject(o, "operator", askue_ledger_operator(l));
	if (m->has_old) {
		cJSON_AddItemToObject(o, "old_values", values_json(&m->old));
		cJSON_AddStringToObject(o, "old_source", m->old_src);
	}
	if (m->reason)
		cJSON_AddStringToObject(o, "reason", m->reason);
	return o;
}

static int same_values(const struct manual *m)
{
	struct askue_rollup_regs r = regs_of(m);
	if (r.mask != m->old.mask || strcmp(m->old_src, m->source))
		return 0;
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++)
		if ((r.mask & (1u << k)) && r.wh[k] != m->old.wh[k])
			return 0;
	return 1;
}

/* 1 when the journal has an event of this reading (serial, ts, values). */
static enum askue_err journaled(struct askue_ledger *l, const struct manual *m, int *out)
{
	static const char sql[] =
		"SELECT details FROM event WHERE subject = ?1 AND type IN (?2, ?3)"
		" AND json_extract(details, '$.ts') = ?4 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_text(st, 1, m->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ASKUE_EV_READING_ENTERED, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ASKUE_EV_READING_CORRECTED, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, m->ts);
	*out = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *d = cJSON_Parse(askue_column_text(st, 0));
		char *mine = cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "values"));
		struct askue_rollup_regs r = regs_of(m);
		cJSON *want = values_json(&r);
		char *w = cJSON_PrintUnformatted(want);
		*out = mine && w && !strcmp(mine, w);
		cJSON_free(w);
		cJSON_Delete(want);
		cJSON_free(mine);
		cJSON_Delete(d);
	}
	sqlite3_reset(st);
	return ASKUE_OK;
}

/* Journal, cache, write, commit (see the top of this file). *outcome:
 * "entered", "corrected" or "unchanged". */
static enum askue_err record(struct askue_ledger *l, struct askue_influx *ix, struct manual *m,
                             const char **outcome)
{
	int repair = 0;
	if (m->has_old && same_values(m)) {
		enum askue_err err = journaled(l, m, &repair);
		if (err || repair) {
			*outcome = "unchanged";
			return err;
		}
		m->has_old = 0; /* our own point, never journaled: journal it now */
	}
	if (m->has_old && !m->reason)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "meter %s has a reading at %s already: a correction needs "
		                     "--reason",
		                     m->serial, askue_utc_stamp(m->ts, (char[ASKUE_UTC_STAMP_BUF]){0}));
	*outcome = m->has_old ? "corrected" : "entered";
	cJSON *d = details_json(l, m);
	struct askue_rollup_regs r = regs_of(m);
	enum askue_err err = askue_ledger_begin(l);
	if (!err)
		err = askue_journal_append(l, m->has_old ? ASKUE_EV_READING_CORRECTED
		                                         : ASKUE_EV_READING_ENTERED,
		                           m->serial, d);
	if (!err)
		err = job_rollup_reading_added(l, m->serial, m->day, &r, !m->has_old);
	if (!err)
		err = write_point(ix, m);
	if (!err)
		err = askue_ledger_commit(l);
	if (err)
		askue_ledger_rollback(l);
	cJSON_Delete(d);
	return err;
}

static int print_result(struct askue_cli *cli, const struct manual *m, const char *outcome)
{
	char stamp[ASKUE_UTC_STAMP_BUF], buf[128];
	if (!cli->json) {
		printf("%s: meter %s at %s: %s kWh\n", outcome, m->serial,
		       askue_utc_stamp(m->ts, stamp), askue_registers_format(&m->regs, buf, sizeof buf));
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "outcome", outcome);
	cJSON_AddStringToObject(o, "serial", m->serial);
	cJSON_AddStringToObject(o, "account", m->account);
	askue_json_add_int(o, "ts", m->ts);
	cJSON_AddStringToObject(o, "time", askue_utc_stamp(m->ts, stamp));
	cli_json_add_kwh(o, "kwh", (struct askue_energy){m->regs.wh[0]});
	cJSON *zones = cJSON_AddArrayToObject(o, "zones_kwh");
	for (int z = 1; m->regs.zones > 1 && z <= m->regs.zones; z++) {
		char num[ASKUE_NUM_BUF];
		askue_energy_format_kwh((struct askue_energy){m->regs.wh[z]}, num);
		cJSON_AddItemToArray(zones, cJSON_CreateRaw(num));
	}
	cJSON_AddStringToObject(o, "source", m->source);
	return cli_print_json(o);
}

static enum askue_err prepare(struct askue_cli *cli, struct askue_ledger *l, struct manual *m,
                              const char *const *v)
{
	enum askue_err err = check_args(m);
	if (!err)
		err = parse_time(m, v[0], v[1]);
	if (!err)
		err = askue_meter_get(l, m->serial, &m->meter);
	if (!err && (err = askue_registers_parse(v[2], m->meter.zones, &m->regs)))
		askue_err_prefix("--reading: meter %s: ", m->serial);
	if (!err)
		err = check_values(m);
	if (!err)
		err = installed_on(l, m);
	(void)cli;
	return err;
}

int cmd_reading_add(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"date", "time", "reading", "source", "reason", NULL};
	const char *v[5];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 1 != argc || !v[0] || !v[2] || !v[3])
		return cli_usage(cli, "expected SERIAL --date D --reading KWH[,KWH..] --source "
		                      "subscriber|controller");
	struct manual m = {.serial = argv[optind], .source = v[3], .reason = v[4]};
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_influx *ix = NULL;
	const char *outcome = "";
	enum askue_err err = prepare(cli, l, &m, v);
	if (!err)
		err = askue_influx_open(&cli->cfg, &ix);
	if (!err)
		err = read_old(ix, &m);
	if (!err)
		err = record(l, ix, &m, &outcome);
	askue_influx_close(ix);
	if (err)
		return cli_fail(cli, err);
	return print_result(cli, &m, outcome);
}

/* reading list SERIAL [--from D] [--to D]: the stored readings of a meter,
 * automatic and manual (source: meter, subscriber, controller), oldest
 * first; default the last 31 days through today. */
struct listing {
	struct askue_cli *cli;
	cJSON *arr;
	int64_t n;
};

#define LIST_ROWS_MAX 100000 /* a year of half-hourly readings is 17,520 */

static void list_row(struct listing *li, const cJSON *row)
{
	static const char *const keys[ASKUE_ROLLUP_REGS] = {"kwh", "t1_kwh", "t2_kwh", "t3_kwh"};
	char stamp[ASKUE_UTC_STAMP_BUF];
	const cJSON *t = cJSON_GetArrayItem(row, 0), *src = cJSON_GetArrayItem(row, 5);
	cJSON *o = cJSON_CreateObject();
	int64_t ts = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0;
	askue_json_add_int(o, "ts", ts);
	cJSON_AddStringToObject(o, "time", askue_utc_stamp(ts, stamp));
	for (int k = 0; k < ASKUE_ROLLUP_REGS; k++) {
		const cJSON *v = cJSON_GetArrayItem(row, k + 1);
		if (v && cJSON_IsNumber(v))
			cli_json_add_kwh(o, keys[k], (struct askue_energy){(int64_t)v->valuedouble});
	}
	cJSON_AddStringToObject(o, "source",
	                        src && cJSON_IsString(src) ? src->valuestring : "meter");
	cJSON_AddItemToArray(li->arr, o);
	li->n++;
}

static enum askue_err on_list(const char *name, const cJSON *tags, const cJSON *columns,
                              const cJSON *values, void *ctx)
{
	struct listing *li = ctx;
	const cJSON *row;
	(void)name;
	(void)tags;
	(void)columns;
	cJSON_ArrayForEach(row, values)
	{
		if (li->n == LIST_ROWS_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "more than %d readings: narrow --from/--to",
			                     LIST_ROWS_MAX);
		list_row(li, row);
	}
	return ASKUE_OK;
}

static enum askue_err list_range(const char *from_s, const char *to_s, int64_t *from,
                                 int64_t *to)
{
	struct askue_date today = askue_date_today(), f = askue_date_add_days(today, -30), t = today;
	enum askue_err err = ASKUE_OK;
	if (from_s)
		err = cli_date("--from", from_s, &f);
	if (!err && to_s)
		err = cli_date("--to", to_s, &t);
	if (!err && t.days < f.days)
		err = askue_err_set(ASKUE_ERR_INVALID, "--to is before --from");
	if (!err)
		err = askue_date_start(f, from);
	if (!err)
		err = askue_date_start(askue_date_add_days(t, 1), to);
	return err;
}

static void print_list(const cJSON *arr)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		const cJSON *kwh = cJSON_GetObjectItem(o, "kwh");
		printf("%s  %s kWh  %s\n", cJSON_GetObjectItem(o, "time")->valuestring,
		       kwh && cJSON_IsRaw(kwh) ? kwh->valuestring : "-",
		       cJSON_GetObjectItem(o, "source")->valuestring);
	}
}

int cmd_reading_list(struct askue_cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"from", "to", NULL};
	const char *v[2];
	int rc = cli_string_options(cli, argc, argv, names, v);
	if (rc)
		return rc;
	if (optind + 1 != argc)
		return cli_usage(cli, "expected SERIAL [--from D] [--to D]");
	const char *serial = argv[optind];
	struct askue_ledger *l = cli_ledger(cli);
	if (!l)
		return EX_SOFTWARE;
	struct askue_meter m;
	int64_t from, to;
	enum askue_err err = list_range(v[0], v[1], &from, &to);
	if (!err)
		err = askue_meter_get(l, serial, &m);
	struct listing li = {.cli = cli, .arr = cJSON_CreateArray()};
	struct askue_influx *ix = NULL;
	if (!err && !(err = askue_influx_open(&cli->cfg, &ix))) {
		char q[512], esc[2 * ASKUE_SERIAL_BYTES_MAX + 1];
		influxql_string(serial, esc, sizeof esc);
		snprintf(q, sizeof q,
		         "SELECT ai_wh, t1_wh, t2_wh, t3_wh, src FROM reading WHERE meter = '%s'"
		         " AND time >= %llds AND time < %llds",
		         esc, (long long)from, (long long)to);
		if ((err = askue_influx_query_stream(ix, q, 10000, on_list, &li)))
			askue_err_prefix("the readings of %s: ", serial);
	}
	askue_influx_close(ix);
	if (err) {
		cJSON_Delete(li.arr);
		return cli_fail(cli, err);
	}
	if (cli->json)
		return cli_print_json(li.arr);
	print_list(li.arr);
	cJSON_Delete(li.arr);
	return 0;
}
