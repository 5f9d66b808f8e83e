/* meter — meters and their installations at subscribers (registry.h).
 *
 * Rules kept here, each refused with a message that names the meter:
 *  - a meter measures at most one subscriber at a time, and a subscriber has
 *    at most one meter at a time (an exchange is dismantle + install);
 *  - a dismantled meter is decommissioned and never installed again;
 *  - a meter past its service life is not installed;
 *  - installations of a meter never overlap and never precede its
 *    commissioning or the subscriber's registration;
 *  - register values have one value per zone of the meter.
 * The partial unique indexes of the schema back the first rule up.
 */
#include "registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "text.h"

enum askue_err askue_registers_parse(const char *s, int zones, struct askue_registers *out)
{
	struct askue_registers r = {.zones = zones};
	if (zones < 1 || zones > ASKUE_ZONES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "meter zones %d: expected 1..%d", zones,
		                     ASKUE_ZONES_MAX);
	char buf[256];
	if (!s || strlen(s) >= sizeof buf)
		return askue_err_set(ASKUE_ERR_INVALID, "reading: empty or too long");
	snprintf(buf, sizeof buf, "%s", s);
	int n = 0;
	char *p = buf;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (n == (zones == 1 ? 1 : zones))
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "reading '%s': a %d-zone meter takes %d value%s", s, zones,
			                     zones == 1 ? 1 : zones, zones == 1 ? " (1.8.0)" : "s (T1..Tn)");
		struct askue_energy e;
		enum askue_err err = askue_energy_parse_kwh(p, &e);
		if (err) {
			askue_err_prefix("reading: ");
			return err;
		}
		r.wh[zones == 1 ? 0 : n + 1] = e.wh;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (n != (zones == 1 ? 1 : zones))
		return askue_err_set(ASKUE_ERR_INVALID, "reading '%s': a %d-zone meter takes %d values "
		                     "(T1..T%d)", s, zones, zones, zones);
	if (zones > 1) {
		r.wh[0] = 0;
		for (int z = 1; z <= zones; z++)
			r.wh[0] += r.wh[z];
	}
	*out = r;
	return ASKUE_OK;
}

char *askue_registers_format(const struct askue_registers *r, char *buf, size_t size)
{
	char num[ASKUE_NUM_BUF];
	buf[0] = '\0';
	if (r->zones <= 1) {
		snprintf(buf, size, "%s", askue_energy_format_kwh((struct askue_energy){r->wh[0]}, num));
		return buf;
	}
	size_t o = 0;
	for (int z = 1; z <= r->zones && o < size; z++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", z > 1 ? "," : "",
		                      askue_energy_format_kwh((struct askue_energy){r->wh[z]}, num));
	return buf;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* A date column: 1 and *out when it holds a date, else 0 and day 0. */
static int column_date(sqlite3_stmt *st, int col, struct askue_date *out)
{
	out->days = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	return askue_date_parse(askue_column_text(st, col), out) == ASKUE_OK;
}

static void bind_date(sqlite3_stmt *st, int idx, int has, struct askue_date d)
{
	char buf[ASKUE_DATE_BUF];
	if (has)
		sqlite3_bind_text(st, idx, askue_date_format(d, buf), -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

static enum askue_err check_serial(const char *serial)
{
	enum askue_err err = askue_text_check("serial", serial, ASKUE_SERIAL_BYTES_MAX, 1);
	if (err)
		return err;
	/* The serial is an MQTT topic level and username: no wildcards, no
	 * level separator, no spaces at the ends. */
	if (strpbrk(serial, "/+#") || serial[0] == ' ' || serial[strlen(serial) - 1] == ' ')
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "serial '%s': must not contain / + # or end in spaces", serial);
	return ASKUE_OK;
}

enum askue_err askue_meter_add_tx(struct askue_ledger *l, struct askue_meter *m)
{
	static const char sql[] =
		"INSERT INTO meter(serial, model, commissioned, service_life_years, warranty_card,"
		" warranty_until, verification_interval_years, last_verified, zones, capacity_wh)"
		" VALUES (?,?,?,?,?,?,?,?,?,?)";
	enum askue_err err;
	if ((err = check_serial(m->serial)) ||
	    (err = askue_text_check("model", m->model, ASKUE_SHORT_TEXT_BYTES_MAX, 1)) ||
	    (err = askue_text_check("warranty card", m->warranty_card, ASKUE_SHORT_TEXT_BYTES_MAX, 0)))
		return err;
	if (!m->zones)
		m->zones = 1;
	if (!m->verification_interval_years)
		m->verification_interval_years = 16;
	if (!m->capacity_wh)
		m->capacity_wh = INT64_C(1000000000);
	if (m->zones < 1 || m->zones > ASKUE_ZONES_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: zones %d, expected 1..%d", m->serial,
		                     m->zones, ASKUE_ZONES_MAX);
	if (m->service_life_years < 1 || m->service_life_years > 60)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: service life %d years, expected 1..60",
		                     m->serial, m->service_life_years);
	if (m->verification_interval_years < 1 || m->verification_interval_years > 60)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "meter %s: verification interval %d years, expected 1..60",
		                     m->serial, m->verification_interval_years);
	if (m->capacity_wh < 1000 || m->capacity_wh > ASKUE_ENERGY_WH_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: register capacity out of range",
		                     m->serial);
	if (m->has_warranty_until && m->warranty_until.days < m->commissioned.days)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: warranty ends before commissioning",
		                     m->serial);
	if (m->has_warranty_until != (m->warranty_card[0] != 0))
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "meter %s: a warranty card needs both its number and its end date",
		                     m->serial);
	if (m->has_last_verified && m->last_verified.days < m->commissioned.days - 3 * 365)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "meter %s: last verification long before commissioning", m->serial);

	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		return err;
	char com[ASKUE_DATE_BUF];
	sqlite3_bind_text(st, 1, m->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, askue_date_format(m->commissioned, com), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, m->service_life_years);
	askue_bind_text(st, 5, m->warranty_card[0] ? m->warranty_card : NULL);
	bind_date(st, 6, m->has_warranty_until, m->warranty_until);
	sqlite3_bind_int(st, 7, m->verification_interval_years);
	bind_date(st, 8, m->has_last_verified, m->last_verified);
	sqlite3_bind_int(st, 9, m->zones);
	sqlite3_bind_int64(st, 10, m->capacity_wh);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return askue_err_set(ASKUE_ERR_EXISTS, "meter %s: already registered", m->serial);
		return askue_ledger_fail(l, rc, "meter");
	}
	m->id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	snprintf(m->status, sizeof m->status, "stock");

	cJSON *d = cJSON_CreateObject();
	if (!d)
		return askue_err_set(ASKUE_ERR_NOMEM, "meter: out of memory");
	cJSON_AddStringToObject(d, "model", m->model);
	cJSON_AddStringToObject(d, "commissioned", com);
	askue_json_add_int(d, "zones", m->zones);
	askue_json_add_int(d, "service_life_years", m->service_life_years);
	err = askue_journal_append(l, ASKUE_EV_METER_ADDED, m->serial, d);
	cJSON_Delete(d);
	return err;
}

enum askue_err askue_meter_add(struct askue_ledger *l, struct askue_meter *m)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if ((err = askue_meter_add_tx(l, m)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_meter_get(struct askue_ledger *l, const char *serial, struct askue_meter *out)
{
	static const char sql[] =
		"SELECT m.id, m.serial, m.model, m.commissioned, m.service_life_years, m.decommissioned,"
		" m.warranty_card, m.warranty_until, m.verification_interval_years, m.last_verified,"
		" m.zones, m.capacity_wh, m.status, c.ident, s.account, i.installed"
		" FROM meter m LEFT JOIN concentrator c ON c.id = m.concentrator_id"
		" LEFT JOIN installation i ON i.meter_id = m.id AND i.removed IS NULL"
		" LEFT JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE m.serial = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_row(l, sql, serial, &st);
	if (err == ASKUE_ERR_NOT_FOUND)
		return askue_err_set(err, "meter %s: no such meter", serial ? serial : "");
	if (err)
		return err;
	struct askue_meter *m = out;
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	copy_text(m->serial, sizeof m->serial, askue_column_text(st, 1));
	copy_text(m->model, sizeof m->model, askue_column_text(st, 2));
	column_date(st, 3, &m->commissioned);
	m->service_life_years = sqlite3_column_int(st, 4);
	m->has_decommissioned = column_date(st, 5, &m->decommissioned);
	copy_text(m->warranty_card, sizeof m->warranty_card, askue_column_text(st, 6));
	m->has_warranty_until = column_date(st, 7, &m->warranty_until);
	m->verification_interval_years = sqlite3_column_int(st, 8);
	m->has_last_verified = column_date(st, 9, &m->last_verified);
	m->zones = sqlite3_column_int(st, 10);
	m->capacity_wh = sqlite3_column_int64(st, 11);
	copy_text(m->status, sizeof m->status, askue_column_text(st, 12));
	copy_text(m->concentrator, sizeof m->concentrator, askue_column_text(st, 13));
	copy_text(m->account, sizeof m->account, askue_column_text(st, 14));
	m->has_installed = column_date(st, 15, &m->installed);
	sqlite3_reset(st);
	return ASKUE_OK;
}

static cJSON *registers_json(const struct askue_registers *r)
{
	char buf[128];
	return cJSON_CreateString(askue_registers_format(r, buf, sizeof buf));
}

/* Register values given at an installation or a removal fit the meter:
 * one per zone, each below the register's capacity. NULL or zones 0: none
 * given. */
static enum askue_err check_registers(const struct askue_meter *m,
                                      const struct askue_registers *regs)
{
	if (!regs || !regs->zones)
		return ASKUE_OK;
	if (regs->zones != m->zones)
		return askue_err_set(ASKUE_ERR_INVALID, "meter %s: has %d zone%s, reading has %d",
		                     m->serial, m->zones, m->zones == 1 ? "" : "s", regs->zones);
	for (int z = 0; z <= m->zones; z++)
		if (regs->wh[z] >= m->capacity_wh)
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "meter %s: reading above the register's capacity", m->serial);
	return ASKUE_OK;
}

/* The newest removal date of the meter's earlier installations. */
static enum askue_err last_removal(struct askue_ledger *l, int64_t meter_id, int *has,
                                   struct askue_date *out)
{
	static const char sql[] = "SELECT max(removed) FROM installation WHERE meter_id = ?";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, meter_id);
	*has = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*has = column_date(st, 0, out);
	sqlite3_reset(st);
	return ASKUE_OK;
}

enum askue_err askue_meter_install_tx(struct askue_ledger *l, const char *serial,
                                      const char *account, struct askue_date date,
                                      const struct askue_registers *regs)
{
	static const char sql[] =
		"INSERT INTO installation(meter_id, subscriber_id, installed, in_r0_wh, in_r1_wh,"
		" in_r2_wh, in_r3_wh) VALUES (?,?,?,?,?,?,?)";
	static const char set_status[] = "UPDATE meter SET status = 'installed' WHERE id = ?";
	static const char busy_sub[] =
		"SELECT m.serial FROM installation i JOIN meter m ON m.id = i.meter_id"
		" WHERE i.subscriber_id = ? AND i.removed IS NULL";
	struct askue_meter m;
	struct askue_subscriber s;
	char d[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	enum askue_err err;
	if ((err = askue_meter_get(l, serial, &m)) || (err = askue_subscriber_get(l, account, &s)))
		return err;
	askue_date_format(date, d);
	if (!strcmp(m.status, "dismantled"))
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "meter %s: dismantled on %s (decommissioned), cannot be installed",
		                     serial, askue_date_format(m.decommissioned, d2));
	if (!strcmp(m.status, "installed"))
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "meter %s: already installed at account %s since %s; a meter "
		                     "measures one subscriber at a time",
		                     serial, m.account, askue_date_format(m.installed, d2));
	if (strcmp(s.status, "closed") == 0)
		return askue_err_set(ASKUE_ERR_CONFLICT, "account %s: closed", account);
	if (date.days < m.commissioned.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: installation %s before commissioning %s",
		                     serial, d, askue_date_format(m.commissioned, d2));
	struct askue_date end_of_life = askue_date_add_years(m.commissioned, m.service_life_years);
	if (date.days >= end_of_life.days)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "meter %s: service life ended %s, it must not be installed", serial,
		                     askue_date_format(end_of_life, d2));
	if (date.days < s.registered.days)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "account %s: installation %s before registration %s", account, d,
		                     askue_date_format(s.registered, d2));
	int has_prev;
	struct askue_date prev;
	if ((err = last_removal(l, m.id, &has_prev, &prev)))
		return err;
	if (has_prev && date.days < prev.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: installation %s before its removal %s",
		                     serial, d, askue_date_format(prev, d2));
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, busy_sub, &st)))
		return err;
	sqlite3_bind_int64(st, 1, s.id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char other[ASKUE_SERIAL_BYTES_MAX + 1];
		copy_text(other, sizeof other, askue_column_text(st, 0));
		sqlite3_reset(st);
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "account %s: meter %s is installed; dismantle it first (an exchange "
		                     "is dismantle + install)", account, other);
	}
	sqlite3_reset(st);

	struct askue_registers r = {.zones = m.zones};
	if ((err = check_registers(&m, regs)))
		return err;
	if (regs && regs->zones)
		r = *regs;
	if ((err = askue_ledger_stmt(l, sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, m.id);
	sqlite3_bind_int64(st, 2, s.id);
	sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r.wh[0]);
	for (int z = 1; z <= 3; z++)
		if (z <= m.zones && m.zones > 1)
			sqlite3_bind_int64(st, 4 + z, r.wh[z]);
	if ((err = askue_ledger_step_done(l, st, "installation")))
		return err;
	if ((err = askue_ledger_stmt(l, set_status, &st)))
		return err;
	sqlite3_bind_int64(st, 1, m.id);
	if ((err = askue_ledger_step_done(l, st, "meter status")))
		return err;

	cJSON *dj = cJSON_CreateObject();
	if (!dj)
		return askue_err_set(ASKUE_ERR_NOMEM, "meter: out of memory");
	cJSON_AddStringToObject(dj, "account", account);
	cJSON_AddStringToObject(dj, "date", d);
	cJSON_AddItemToObject(dj, "reading", registers_json(&r));
	err = askue_journal_append(l, ASKUE_EV_METER_CONNECTED, serial, dj);
	cJSON_Delete(dj);
	return err;
}

enum askue_err askue_meter_install(struct askue_ledger *l, const char *serial, const char *account,
                                   struct askue_date date, const struct askue_registers *regs)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if ((err = askue_meter_install_tx(l, serial, account, date, regs)) ||
	    (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_meter_dismantle_tx(struct askue_ledger *l, const char *serial,
                                   struct askue_date date, const struct askue_registers *regs)
{
	static const char find[] =
		"SELECT i.id, i.installed, s.account FROM installation i"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE i.meter_id = ? AND i.removed IS NULL";
	static const char close_inst[] =
		"UPDATE installation SET removed = ?, out_r0_wh = ?, out_r1_wh = ?, out_r2_wh = ?,"
		" out_r3_wh = ? WHERE id = ?";
	static const char set_meter[] =
		"UPDATE meter SET status = 'dismantled', decommissioned = ? WHERE id = ?";
	struct askue_meter m;
	enum askue_err err = askue_meter_get(l, serial, &m);
	if (err)
		return err;
	char d[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	askue_date_format(date, d);
	if (!strcmp(m.status, "dismantled"))
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: already dismantled on %s", serial,
		                     askue_date_format(m.decommissioned, d2));
	if (strcmp(m.status, "installed") != 0)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: not installed, nothing to dismantle",
		                     serial);
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, find, &st)))
		return err;
	sqlite3_bind_int64(st, 1, m.id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return askue_err_set(ASKUE_ERR_DB, "meter %s: installed but no open installation",
		                     serial);
	}
	int64_t inst_id = sqlite3_column_int64(st, 0);
	struct askue_date installed;
	column_date(st, 1, &installed); /* NOT NULL in the schema */
	char account[ASKUE_ACCOUNT_BUF];
	copy_text(account, sizeof account, askue_column_text(st, 2));
	sqlite3_reset(st);
	if (date.days < installed.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: removal %s before installation %s",
		                     serial, d, askue_date_format(installed, d2));
	if ((err = check_registers(&m, regs)))
		return err;

	if ((err = askue_ledger_stmt(l, close_inst, &st)))
		return err;
	sqlite3_bind_text(st, 1, d, -1, SQLITE_STATIC);
	if (regs && regs->zones) {
		sqlite3_bind_int64(st, 2, regs->wh[0]);
		for (int z = 1; z <= 3; z++)
			if (z <= m.zones && m.zones > 1)
				sqlite3_bind_int64(st, 2 + z, regs->wh[z]);
	}
	sqlite3_bind_int64(st, 6, inst_id);
	if ((err = askue_ledger_step_done(l, st, "installation")))
		return err;
	if ((err = askue_ledger_stmt(l, set_meter, &st)))
		return err;
	sqlite3_bind_text(st, 1, d, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m.id);
	if ((err = askue_ledger_step_done(l, st, "meter")))
		return err;

	cJSON *dj = cJSON_CreateObject();
	if (!dj)
		return askue_err_set(ASKUE_ERR_NOMEM, "meter: out of memory");
	cJSON_AddStringToObject(dj, "account", account);
	cJSON_AddStringToObject(dj, "date", d);
	if (regs && regs->zones)
		cJSON_AddItemToObject(dj, "reading", registers_json(regs));
	else
		cJSON_AddNullToObject(dj, "reading");
	err = askue_journal_append(l, ASKUE_EV_METER_DISMANTLED, serial, dj);
	cJSON_Delete(dj);
	return err;
}

enum askue_err askue_meter_dismantle(struct askue_ledger *l, const char *serial,
                                     struct askue_date date, const struct askue_registers *regs)
{
	enum askue_err err = askue_ledger_begin(l);
	if (err)
		return err;
	if ((err = askue_meter_dismantle_tx(l, serial, date, regs)) || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

static void read_registers(sqlite3_stmt *st, int col, int zones, struct askue_registers *r)
{
	memset(r, 0, sizeof *r);
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return;
	r->zones = zones;
	r->wh[0] = sqlite3_column_int64(st, col);
	for (int z = 1; z <= 3 && zones > 1; z++)
		r->wh[z] = sqlite3_column_int64(st, col + z);
}

enum askue_err askue_installation_each(struct askue_ledger *l, const char *serial,
                                       const char *account,
                                       int (*fn)(const struct askue_installation *, void *),
                                       void *arg)
{
	static const char sql[] =
		"SELECT i.id, m.serial, s.account, i.installed, i.removed, m.zones,"
		" i.in_r0_wh, i.in_r1_wh, i.in_r2_wh, i.in_r3_wh,"
		" i.out_r0_wh, i.out_r1_wh, i.out_r2_wh, i.out_r3_wh"
		" FROM installation i JOIN meter m ON m.id = i.meter_id"
		" JOIN subscriber s ON s.id = i.subscriber_id"
		" WHERE (?1 IS NULL OR m.serial = ?1) AND (?2 IS NULL OR s.account = ?2)"
		" ORDER BY i.installed, i.id";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, serial);
	askue_bind_text(st, 2, account);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct askue_installation in;
		memset(&in, 0, sizeof in);
		in.id = sqlite3_column_int64(st, 0);
		copy_text(in.serial, sizeof in.serial, askue_column_text(st, 1));
		copy_text(in.account, sizeof in.account, askue_column_text(st, 2));
		column_date(st, 3, &in.installed);
		in.has_removed = column_date(st, 4, &in.removed);
		int zones = sqlite3_column_int(st, 5);
		read_registers(st, 6, zones, &in.in);
		read_registers(st, 10, zones, &in.out);
		if (fn(&in, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = askue_ledger_fail(l, rc, "installations");
	sqlite3_reset(st);
	return err;
}

enum askue_err askue_meter_verified(struct askue_ledger *l, const char *serial,
                                    struct askue_date date)
{
	static const char upd[] = "UPDATE meter SET last_verified = ? WHERE id = ?";
	struct askue_meter m;
	enum askue_err err = askue_meter_get(l, serial, &m);
	if (err)
		return err;
	char d[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	askue_date_format(date, d);
	if (!strcmp(m.status, "dismantled"))
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: dismantled, not verified", serial);
	if (date.days < m.commissioned.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "meter %s: verification %s before commissioning %s",
		                     serial, d, askue_date_format(m.commissioned, d2));
	if (m.has_last_verified && date.days <= m.last_verified.days)
		return askue_err_set(ASKUE_ERR_CONFLICT,
		                     "meter %s: verification %s not after the last one, %s", serial, d,
		                     askue_date_format(m.last_verified, d2));
	if ((err = askue_ledger_begin(l)))
		return err;
	sqlite3_stmt *st;
	if (!(err = askue_ledger_stmt(l, upd, &st))) {
		sqlite3_bind_text(st, 1, d, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, m.id);
		err = askue_ledger_step_done(l, st, "meter");
	}
	if (!err) {
		cJSON *dj = cJSON_CreateObject();
		cJSON_AddStringToObject(dj, "date", d);
		cJSON_AddStringToObject(dj, "next_due",
		                        askue_date_format(askue_date_add_years(date,
		                                          m.verification_interval_years), d2));
		err = askue_journal_append(l, ASKUE_EV_METER_VERIFIED, serial, dj);
		cJSON_Delete(dj);
	}
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}
