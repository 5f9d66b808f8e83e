/* cardfile — see cardfile.h.
 *
 * lib/csvfile.c reads the file row by row with line numbers (at most
 * ASKUE_CSV_FIELDS_MAX fields, ASKUE_CSV_ROW_BYTES_MAX bytes a row); the
 * header row maps column names to fields, and each data row goes through
 * the registry's *_tx functions, which check every rule before they write,
 * so a refused row leaves nothing behind; the import reports it and carries
 * on checking the rest against the rows before it, and at the end the whole
 * transaction commits only if no row was bad. (A savepoint per row would
 * copy every page a row touches to the statement journal: several times
 * slower at 500,000 rows, for nothing the final rollback does not undo.)
 * New subscribers enter the search index in one statement at the end.
 */
#include "cardfile.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvfile.h"
#include "journal.h"
#include "limits.h"
#include "registry.h"
#include "text.h"

#define COLUMNS_MAX ASKUE_CSV_FIELDS_MAX

enum askue_err askue_cardfile_kind_parse(const char *s, enum askue_cardfile_kind *out)
{
	if (!strcmp(s, "subscribers"))
		*out = ASKUE_CARDFILE_SUBSCRIBERS;
	else if (!strcmp(s, "meters"))
		*out = ASKUE_CARDFILE_METERS;
	else if (!strcmp(s, "installations"))
		*out = ASKUE_CARDFILE_INSTALLATIONS;
	else
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "'%s': expected subscribers, meters or installations", s);
	return ASKUE_OK;
}

/* The columns of each kind; the first `required` are required. */
static const char *const subscriber_cols[] = {
	"name",    "address", "district",  "substation", "category", "date",       "phone",
	"email",   "account", "residents", "rooms",      "stove",    "settlement", NULL};
static const char *const meter_cols[] = {"serial",         "model",
                                         "commissioned",   "service-life",
                                         "zones",          "warranty-card",
                                         "warranty-until", "verification-interval",
                                         "verified",       "capacity",
                                         NULL};
static const char *const installation_cols[] = {"serial",  "account", "date", "reading",
                                                "removed", "removed-reading", NULL};

static const char *const *kind_columns(enum askue_cardfile_kind kind, int *required)
{
	switch (kind) {
	case ASKUE_CARDFILE_SUBSCRIBERS: *required = 2; return subscriber_cols;
	case ASKUE_CARDFILE_METERS: *required = 4; return meter_cols;
	case ASKUE_CARDFILE_INSTALLATIONS: *required = 3; return installation_cols;
	}
	*required = 0;
	return subscriber_cols;
}

struct import {
	struct askue_ledger *l;
	enum askue_cardfile_kind kind;
	const char *path;
	struct askue_cardfile_report *report;
	int64_t line;
	/* the record being read (valid during process_row) */
	char **fields;
	int n_fields;
	int row_overflow; /* too many fields or bytes */
	/* header: column index of each known column, -1 when absent */
	int have_header;
	int col_of[COLUMNS_MAX];
	const char *const *cols;
	enum askue_err fatal; /* an error that stops the import (I/O, ledger) */
	int64_t first_new_id; /* subscribers above this id are indexed at the end */
	struct askue_date today;
};

static void report_bad(struct import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report_bad(struct import *im, const char *fmt, ...)
{
	struct askue_cardfile_report *r = im->report;
	if (r->bad++ >= ASKUE_IMPORT_ERRORS_SHOWN_MAX)
		return;
	char msg[1200], what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s:%lld: %s", im->path, (long long)im->line, what);
	if (r->on_error)
		r->on_error(msg, r->arg);
	else
		fprintf(stderr, "%s\n", msg);
}

/* The value of column `name` in the current row, "" when absent. */
static const char *col(struct import *im, const char *name)
{
	for (int c = 0; im->cols[c]; c++)
		if (!strcmp(im->cols[c], name)) {
			int idx = im->col_of[c];
			return idx >= 0 && idx < im->n_fields ? im->fields[idx] : "";
		}
	return "";
}

static int read_header(struct import *im)
{
	int required;
	im->cols = kind_columns(im->kind, &required);
	for (int c = 0; c < COLUMNS_MAX; c++)
		im->col_of[c] = -1;
	int ok = 1;
	for (int f = 0; f < im->n_fields; f++) {
		const char *name = im->fields[f];
		int found = -1;
		for (int c = 0; im->cols[c]; c++)
			if (!strcmp(im->cols[c], name))
				found = c;
		if (found < 0) {
			report_bad(im, "header: unknown column '%s'", name);
			ok = 0;
		} else if (im->col_of[found] >= 0) {
			report_bad(im, "header: column '%s' twice", name);
			ok = 0;
		} else {
			im->col_of[found] = f;
		}
	}
	for (int c = 0; c < required; c++)
		if (im->col_of[c] < 0) {
			report_bad(im, "header: required column '%s' missing", im->cols[c]);
			ok = 0;
		}
	return ok;
}

/* Copy a field into a fixed buffer; 0 when it does not fit. */
static int take(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return 0;
	memcpy(dst, src, n + 1);
	return 1;
}

static enum askue_err field_date(const char *column, const char *s, int *has,
                                 struct askue_date *out)
{
	*has = 0;
	if (!*s)
		return ASKUE_OK;
	enum askue_err err = askue_date_parse(s, out);
	if (err)
		askue_err_prefix("%s: ", column);
	else
		*has = 1;
	return err;
}

static enum askue_err field_int(const char *column, const char *s, int lo, int hi, int *out)
{
	if (!*s)
		return ASKUE_OK;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: '%s' is not a whole number %d..%d", column,
		                     s, lo, hi);
	*out = (int)v;
	return ASKUE_OK;
}

/* The optional norm columns; an empty field keeps the default (residents
 * 1, rooms 1, gas, urban; subscriber.c checks the words). */
static enum askue_err norm_fields(struct import *im, struct askue_subscriber *s)
{
	s->residents = -1;
	enum askue_err err;
	if ((err = field_int("residents", col(im, "residents"), 0, 99, &s->residents)) ||
	    (err = field_int("rooms", col(im, "rooms"), 1, 99, &s->rooms)))
		return err;
	if (s->residents >= 0 || s->rooms) { /* rooms 0 would mean neither was given */
		if (s->residents < 0)
			s->residents = 1;
		if (!s->rooms)
			s->rooms = 1;
	} else {
		s->residents = 0;
	}
	if (!take(s->stove, sizeof s->stove, col(im, "stove")) ||
	    !take(s->settlement, sizeof s->settlement, col(im, "settlement")))
		return askue_err_set(ASKUE_ERR_INVALID, "stove or settlement: too long");
	return ASKUE_OK;
}

static enum askue_err row_subscriber(struct import *im)
{
	struct askue_subscriber s;
	memset(&s, 0, sizeof s);
	int has_date;
	if (!take(s.name, sizeof s.name, col(im, "name")))
		return askue_err_set(ASKUE_ERR_INVALID, "name: longer than %d bytes", ASKUE_NAME_BYTES_MAX);
	if (!take(s.address, sizeof s.address, col(im, "address")))
		return askue_err_set(ASKUE_ERR_INVALID, "address: too long");
	if (!take(s.district, sizeof s.district, col(im, "district")) ||
	    !take(s.substation, sizeof s.substation, col(im, "substation")) ||
	    !take(s.category, sizeof s.category, col(im, "category")) ||
	    !take(s.phone, sizeof s.phone, col(im, "phone")) ||
	    !take(s.email, sizeof s.email, col(im, "email")) ||
	    !take(s.account, sizeof s.account, col(im, "account")))
		return askue_err_set(ASKUE_ERR_INVALID, "a field is too long");
	enum askue_err err = field_date("date", col(im, "date"), &has_date, &s.registered);
	if (err)
		return err;
	if (!has_date)
		s.registered = im->today;
	if ((err = norm_fields(im, &s)))
		return err;
	return askue_subscriber_insert_tx(im->l, &s, 0);
}

static enum askue_err row_meter(struct import *im)
{
	struct askue_meter m;
	memset(&m, 0, sizeof m);
	int has_com;
	enum askue_err err;
	if (!take(m.serial, sizeof m.serial, col(im, "serial")))
		return askue_err_set(ASKUE_ERR_INVALID, "serial: longer than %d bytes",
		                     ASKUE_SERIAL_BYTES_MAX);
	if (!take(m.model, sizeof m.model, col(im, "model")) ||
	    !take(m.warranty_card, sizeof m.warranty_card, col(im, "warranty-card")))
		return askue_err_set(ASKUE_ERR_INVALID, "a field is too long");
	if ((err = field_date("commissioned", col(im, "commissioned"), &has_com, &m.commissioned)) ||
	    (err = field_date("warranty-until", col(im, "warranty-until"), &m.has_warranty_until,
	                      &m.warranty_until)) ||
	    (err = field_date("verified", col(im, "verified"), &m.has_last_verified,
	                      &m.last_verified)) ||
	    (err = field_int("service-life", col(im, "service-life"), 1, 60, &m.service_life_years)) ||
	    (err = field_int("zones", col(im, "zones"), 1, 3, &m.zones)) ||
	    (err = field_int("verification-interval", col(im, "verification-interval"), 1, 60,
	                     &m.verification_interval_years)))
		return err;
	if (!has_com)
		return askue_err_set(ASKUE_ERR_INVALID, "commissioned: required");
	if (!m.service_life_years)
		return askue_err_set(ASKUE_ERR_INVALID, "service-life: required");
	const char *cap = col(im, "capacity");
	if (*cap) {
		struct askue_energy e;
		if ((err = askue_energy_parse_kwh(cap, &e))) {
			askue_err_prefix("capacity: ");
			return err;
		}
		m.capacity_wh = e.wh;
	}
	return askue_meter_add_tx(im->l, &m);
}

static enum askue_err row_installation(struct import *im)
{
	const char *serial = col(im, "serial"), *account = col(im, "account");
	const char *reading = col(im, "reading"), *removed = col(im, "removed");
	const char *removed_reading = col(im, "removed-reading");
	struct askue_date date, rdate;
	int has_date, has_removed;
	enum askue_err err;
	if (!*serial)
		return askue_err_set(ASKUE_ERR_INVALID, "serial: required");
	if (!*account)
		return askue_err_set(ASKUE_ERR_INVALID, "account: required");
	if ((err = field_date("date", col(im, "date"), &has_date, &date)) ||
	    (err = field_date("removed", removed, &has_removed, &rdate)))
		return err;
	if (!has_date)
		return askue_err_set(ASKUE_ERR_INVALID, "date: required");
	if (*removed_reading && !has_removed)
		return askue_err_set(ASKUE_ERR_INVALID, "removed-reading: given without removed");
	struct askue_meter m;
	if ((err = askue_meter_get(im->l, serial, &m)))
		return err;
	struct askue_registers in = {0}, out = {0};
	if (*reading && (err = askue_registers_parse(reading, m.zones, &in))) {
		askue_err_prefix("reading: ");
		return err;
	}
	if (*removed_reading && (err = askue_registers_parse(removed_reading, m.zones, &out))) {
		askue_err_prefix("removed-reading: ");
		return err;
	}
	if ((err = askue_meter_install_tx(im->l, serial, account, date, &in)))
		return err;
	if (has_removed)
		err = askue_meter_dismantle_tx(im->l, serial, rdate, &out);
	return err;
}

static void process_row(struct import *im);

static enum askue_err on_row(const struct askue_csv_row *row, void *arg)
{
	struct import *im = arg;
	im->fields = row->fields;
	im->n_fields = row->n;
	im->row_overflow = row->overflow;
	im->line = row->line;
	process_row(im);
	/* A fatal error stops the reading; bad rows do not. */
	return im->fatal;
}

static void process_row(struct import *im)
{
	if (im->fatal)
		return;
	if (im->row_overflow) {
		report_bad(im, "row has more than %d fields or %d bytes", COLUMNS_MAX,
		           ASKUE_CSV_ROW_BYTES_MAX);
		im->report->rows += im->have_header;
		im->have_header = 1;
		return;
	}
	if (!im->have_header) {
		im->have_header = 1;
		if (!read_header(im))
			im->fatal = ASKUE_ERR_INVALID;
		return;
	}
	im->report->rows++;
	for (int f = 0; f < im->n_fields; f++) {
		if (!askue_text_valid(im->fields[f], strlen(im->fields[f]))) {
			report_bad(im, "field %d: not valid UTF-8 text", f + 1);
			return;
		}
	}
	enum askue_err err = ASKUE_OK;
	switch (im->kind) {
	case ASKUE_CARDFILE_SUBSCRIBERS: err = row_subscriber(im); break;
	case ASKUE_CARDFILE_METERS: err = row_meter(im); break;
	case ASKUE_CARDFILE_INSTALLATIONS: err = row_installation(im); break;
	}
	if (err == ASKUE_ERR_NOMEM || err == ASKUE_ERR_IO || err == ASKUE_ERR_BUSY ||
	    err == ASKUE_ERR_DB) {
		askue_err_prefix("%s:%lld: ", im->path, (long long)im->line);
		im->fatal = err;
		return;
	}
	if (err)
		report_bad(im, "%s", askue_err_msg());
	else if (im->report->bad == 0)
		im->report->written++;
}

/* Bulk mode for a large file: secondary indexes of the journal and of the
 * registry's tables are dropped inside the import's transaction and
 * built again, sorted, before it commits — inserting 500,000 rows into
 * them one by one in random key order costs more than the rows themselves.
 * Only the indexes named below, which no rule or lookup of the import
 * uses: the unique ones (the rules) and those the import reads stay. Readers
 * never see the difference: it all happens before COMMIT. */
#define BULK_FILE_BYTES (4 * 1024 * 1024)
#define BULK_INDEXES_MAX 16

struct saved_indexes {
	int n;
	char *sql[BULK_INDEXES_MAX];
};

static void saved_free(struct saved_indexes *si)
{
	for (int i = 0; i < si->n; i++)
		sqlite3_free(si->sql[i]);
	si->n = 0;
}

static enum askue_err drop_secondary_indexes(struct askue_ledger *l, struct saved_indexes *si)
{
	static const char sql[] =
		"SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND name IN"
		" ('event_type_time', 'event_subject', 'subscriber_district', 'subscriber_substation',"
		"  'meter_concentrator', 'installation_subscriber')";
	char names[BULK_INDEXES_MAX][64];
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	while (si->n < BULK_INDEXES_MAX && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(names[si->n], sizeof names[0], "%s", askue_column_text(st, 0));
		si->sql[si->n] = sqlite3_mprintf("%s", askue_column_text(st, 1));
		if (!si->sql[si->n]) {
			sqlite3_reset(st);
			return askue_err_set(ASKUE_ERR_NOMEM, "import: out of memory");
		}
		si->n++;
	}
	sqlite3_reset(st);
	for (int i = 0; i < si->n && !err; i++) {
		char drop[128];
		snprintf(drop, sizeof drop, "DROP INDEX \"%s\"", names[i]);
		err = askue_ledger_exec(l, drop);
	}
	return err;
}

static enum askue_err restore_indexes(struct askue_ledger *l, struct saved_indexes *si)
{
	enum askue_err err = ASKUE_OK;
	for (int i = 0; i < si->n && !err; i++)
		err = askue_ledger_exec(l, si->sql[i]);
	return err;
}

static enum askue_err max_subscriber_id(struct askue_ledger *l, int64_t *out)
{
	static const char sql[] = "SELECT coalesce(max(id), 0) FROM subscriber";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ASKUE_OK : askue_ledger_fail(l, rc, "import");
}

enum askue_err askue_cardfile_import(struct askue_ledger *l, enum askue_cardfile_kind kind,
                                     const char *path, struct askue_cardfile_report *report)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return askue_err_set(ASKUE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	report->rows = report->written = report->bad = 0;
	struct stat sb;
	int bulk = fstat(fileno(f), &sb) == 0 && sb.st_size > BULK_FILE_BYTES;
	struct saved_indexes saved = {0};
	struct import im = {.l = l, .kind = kind, .path = path, .report = report,
	                    .today = askue_date_today()};
	/* A whole file is one transaction: give it a page cache that holds the
	 * tables and indexes it grows, so pages are not spilled to the WAL and
	 * rewritten row after row (256 MiB at most; the default is 2 MiB). */
	enum askue_err err = askue_ledger_exec(l, "PRAGMA cache_size = -262144");
	if (!err)
		err = askue_ledger_begin(l);
	if (!err && kind == ASKUE_CARDFILE_SUBSCRIBERS)
		err = max_subscriber_id(l, &im.first_new_id);
	if (!err && bulk)
		err = drop_secondary_indexes(l, &saved);
	fclose(f);
	if (!err) {
		err = askue_csv_each(path, on_row, &im);
		if (err == ASKUE_ERR_INVALID && !im.fatal) /* CSV syntax: count it as a bad row */
			report_bad(&im, "%s", askue_err_msg());
		if (!err && !im.have_header) {
			report_bad(&im, "empty file: a header row is required");
			err = ASKUE_ERR_INVALID;
		}
	}
	if (!err && !report->bad && kind == ASKUE_CARDFILE_SUBSCRIBERS)
		err = askue_subscriber_index_from(l, im.first_new_id);
	if (!err && !report->bad)
		err = restore_indexes(l, &saved);
	saved_free(&saved);
	if ((!err || err == ASKUE_ERR_INVALID) && report->bad)
		err = askue_err_set(ASKUE_ERR_INVALID, "%s: %lld bad row%s of %lld; nothing imported",
		                    path, (long long)report->bad, report->bad == 1 ? "" : "s",
		                    (long long)report->rows);
	if (!err) {
		static const char *const names[] = {"subscribers", "meters", "installations"};
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "kind", names[kind]);
		cJSON_AddStringToObject(d, "file", path);
		askue_json_add_int(d, "rows", report->written);
		err = askue_journal_append(l, ASKUE_EV_CARDFILE_IMPORTED, names[kind], d);
		cJSON_Delete(d);
	}
	if (!err)
		err = askue_ledger_commit(l);
	if (err) {
		askue_ledger_rollback(l);
		report->written = 0;
	}
	return err;
}

/* Export: one query per kind, columns in the import's order. */
static void put_field(FILE *out, const char *s, int last)
{
	if (*s)
		csv_fwrite(out, s, strlen(s));
	fputc(last ? '\n' : ',', out);
}

enum askue_err askue_cardfile_export(struct askue_ledger *l, enum askue_cardfile_kind kind,
                                     FILE *out, int64_t *rows)
{
	static const char subs_sql[] =
		"SELECT name, address, district, substation, category, registered,"
		" coalesce(phone, ''), coalesce(email, ''), account, residents, rooms, stove,"
		" settlement FROM subscriber ORDER BY id";
	static const char meters_sql[] =
		"SELECT serial, model, commissioned, service_life_years, zones,"
		" coalesce(warranty_card, ''), coalesce(warranty_until, ''),"
		" verification_interval_years, coalesce(last_verified, ''), capacity_wh"
		" FROM meter ORDER BY id";
	static const char inst_sql[] =
		"SELECT m.serial, s.account, i.installed, m.zones,"
		" i.in_r0_wh, i.in_r1_wh, i.in_r2_wh, i.in_r3_wh, coalesce(i.removed, ''),"
		" i.out_r0_wh, i.out_r1_wh, i.out_r2_wh, i.out_r3_wh"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id ORDER BY i.installed, i.id";
	const char *sql = kind == ASKUE_CARDFILE_SUBSCRIBERS ? subs_sql
	                  : kind == ASKUE_CARDFILE_METERS    ? meters_sql
	                                                     : inst_sql;
	int required;
	const char *const *cols = kind_columns(kind, &required);
	for (int c = 0; cols[c]; c++)
		fprintf(out, "%s%c", cols[c], cols[c + 1] ? ',' : '\n');
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	int rc;
	*rows = 0;
	char num[ASKUE_NUM_BUF], regs[128];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(*rows)++;
		if (kind == ASKUE_CARDFILE_SUBSCRIBERS) {
			for (int c = 0; c < 13; c++)
				put_field(out, askue_column_text(st, c), c == 12);
		} else if (kind == ASKUE_CARDFILE_METERS) {
			for (int c = 0; c < 9; c++)
				put_field(out, askue_column_text(st, c), 0);
			put_field(out,
			          askue_energy_format_kwh((struct askue_energy){sqlite3_column_int64(st, 9)},
			                                  num),
			          1);
		} else {
			int zones = sqlite3_column_int(st, 3);
			put_field(out, askue_column_text(st, 0), 0);
			put_field(out, askue_column_text(st, 1), 0);
			put_field(out, askue_column_text(st, 2), 0);
			for (int side = 0; side < 2; side++) {
				int base = side ? 9 : 4;
				struct askue_registers r = {0};
				if (sqlite3_column_type(st, base) != SQLITE_NULL) {
					r.zones = zones;
					for (int z = 0; z <= 3; z++)
						r.wh[z] = sqlite3_column_int64(st, base + z);
				}
				if (side)
					put_field(out, askue_column_text(st, 8), 0);
				put_field(out, r.zones ? askue_registers_format(&r, regs, sizeof regs) : "",
				          side == 1);
			}
		}
	}
	if (rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "export");
	sqlite3_reset(st);
	if (!err && (fflush(out) != 0 || ferror(out)))
		err = askue_err_set(ASKUE_ERR_IO, "export: write error: %s", strerror(errno));
	return err;
}
