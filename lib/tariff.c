/* tariff — tariffs, their zones, price history and subscribers' choices
 * (registry.h).
 *
 * A tariff has one zone 'all' (billed from register 1.8.0) or two or three
 * named zones, the n-th billed from register Tn (OBIS 1.8.n), each with the
 * hours of the day it covers; together the zones cover the 24 hours of the
 * day exactly once. A price holds for a zone from its valid-from date until
 * the next one; a zone has at most one price per date.
 */
#include "registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "text.h"

static int parse_hour(const char *s, int len, int *out)
{
	if (len != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= 24 ? 0 : -1;
}

/* Mark the hours of spans "07-10+17-21" in covered[]; -1 on a bad span. */
static enum askue_err mark_spans(const char *zone, const char *spans, int covered[24])
{
	const char *p = spans;
	int n = 0;
	while (*p) {
		const char *plus = strchr(p, '+');
		int len = plus ? (int)(plus - p) : (int)strlen(p);
		int from, to;
		if (len != 5 || p[2] != '-' || parse_hour(p, 2, &from) || parse_hour(p + 3, 2, &to) ||
		    from == 24 || from == to)
			return askue_err_set(ASKUE_ERR_INVALID,
			                     "zone %s: span '%.*s': expected HH-HH, e.g. 07-23 or 23-07",
			                     zone, len, p);
		if (++n > ASKUE_ZONE_SPANS_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "zone %s: more than %d spans", zone,
			                     ASKUE_ZONE_SPANS_MAX);
		int hours = (to % 24 - from + 24) % 24;
		if (hours == 0)
			hours = 24; /* 00-24 */
		for (int k = 0; k < hours; k++) {
			int h = (from + k) % 24;
			if (covered[h])
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "zone %s: hour %02d-%02d is already in another span or zone",
				                     zone, h, h + 1);
			covered[h] = 1;
		}
		p += len;
		if (*p == '+')
			p++;
	}
	if (!n)
		return askue_err_set(ASKUE_ERR_INVALID, "zone %s: no hours given", zone);
	return ASKUE_OK;
}

enum askue_err askue_tariff_zones_parse(const char *spec, struct askue_tariff *out)
{
	int covered[24] = {0};
	out->n_zones = 0;
	if (!spec) {
		out->n_zones = 1;
		out->zones[0] = (struct askue_tariff_zone){.idx = 0, .name = "all", .spans = "00-24"};
		return ASKUE_OK;
	}
	char buf[256];
	if (strlen(spec) >= sizeof buf)
		return askue_err_set(ASKUE_ERR_INVALID, "zones: too long");
	snprintf(buf, sizeof buf, "%s", spec);
	char *save = NULL;
	for (char *z = strtok_r(buf, ",", &save); z; z = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(z, '=');
		if (!eq || eq == z)
			return askue_err_set(ASKUE_ERR_INVALID, "zones: '%s': expected NAME=HH-HH", z);
		*eq = '\0';
		if (strlen(z) >= sizeof out->zones[0].name)
			return askue_err_set(ASKUE_ERR_INVALID, "zone name '%s': too long", z);
		for (const char *c = z; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "zone name '%s': lower-case letters, digits and _ only", z);
		if (out->n_zones == ASKUE_ZONES_MAX)
			return askue_err_set(ASKUE_ERR_INVALID, "zones: at most %d (registers T1..T%d)",
			                     ASKUE_ZONES_MAX, ASKUE_ZONES_MAX);
		for (int i = 0; i < out->n_zones; i++)
			if (!strcmp(out->zones[i].name, z))
				return askue_err_set(ASKUE_ERR_INVALID, "zone %s: named twice", z);
		enum askue_err err = mark_spans(z, eq + 1, covered);
		if (err)
			return err;
		struct askue_tariff_zone *tz = &out->zones[out->n_zones];
		tz->idx = out->n_zones + 1;
		snprintf(tz->name, sizeof tz->name, "%s", z);
		snprintf(tz->spans, sizeof tz->spans, "%s", eq + 1);
		out->n_zones++;
	}
	if (out->n_zones == 1)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "zones: a zoned tariff has 2 or 3 zones (omit --zones for one)");
	for (int h = 0; h < 24; h++)
		if (!covered[h])
			return askue_err_set(ASKUE_ERR_INVALID, "zones: hour %02d-%02d is in no zone", h,
			                     h + 1);
	return ASKUE_OK;
}

enum askue_err askue_tariff_add(struct askue_ledger *l, const char *name, const char *zones_spec,
                                struct askue_date created)
{
	static const char ins[] = "INSERT INTO tariff(name, created) VALUES (?, ?)";
	static const char ins_zone[] =
		"INSERT INTO tariff_zone(tariff_id, idx, name, spans) VALUES (?,?,?,?)";
	struct askue_tariff t;
	enum askue_err err = askue_text_check("tariff name", name, ASKUE_SHORT_TEXT_BYTES_MAX, 1);
	if (err || (err = askue_tariff_zones_parse(zones_spec, &t)))
		return err;
	if ((err = askue_ledger_begin(l)))
		return err;
	char d[ASKUE_DATE_BUF];
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, ins, &st)))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, askue_date_format(created, d), -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = (rc & 0xff) == SQLITE_CONSTRAINT
		              ? askue_err_set(ASKUE_ERR_EXISTS, "tariff %s: already exists", name)
		              : askue_ledger_fail(l, rc, "tariff");
		goto out;
	}
	int64_t id = sqlite3_last_insert_rowid(askue_ledger_db(l));
	cJSON *d_json = cJSON_CreateObject(), *zones = cJSON_AddObjectToObject(d_json, "zones");
	for (int i = 0; i < t.n_zones && !err; i++) {
		if ((err = askue_ledger_stmt(l, ins_zone, &st)))
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, t.zones[i].idx);
		sqlite3_bind_text(st, 3, t.zones[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, t.zones[i].spans, -1, SQLITE_STATIC);
		err = askue_ledger_step_done(l, st, "tariff zone");
		cJSON_AddStringToObject(zones, t.zones[i].name, t.zones[i].spans);
	}
	if (!err)
		err = askue_journal_append(l, ASKUE_EV_TARIFF_ADDED, name, d_json);
	cJSON_Delete(d_json);
out:
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_tariff_get(struct askue_ledger *l, const char *name, struct askue_tariff *out)
{
	static const char sql[] =
		"SELECT t.id, t.created, z.idx, z.name, z.spans FROM tariff t"
		" JOIN tariff_zone z ON z.tariff_id = t.id WHERE t.name = ? ORDER BY z.idx";
	sqlite3_stmt *st;
	enum askue_err err = askue_ledger_stmt(l, sql, &st);
	if (err)
		return err;
	askue_bind_text(st, 1, name ? name : "");
	memset(out, 0, sizeof *out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n_zones < ASKUE_ZONES_MAX) {
		out->id = sqlite3_column_int64(st, 0);
		if (askue_date_parse(askue_column_text(st, 1), &out->created))
			out->created.days = 0;
		struct askue_tariff_zone *z = &out->zones[out->n_zones++];
		z->idx = sqlite3_column_int(st, 2);
		snprintf(z->name, sizeof z->name, "%s", askue_column_text(st, 3));
		snprintf(z->spans, sizeof z->spans, "%s", askue_column_text(st, 4));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return askue_ledger_fail(l, rc, "tariff");
	if (!out->n_zones)
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "tariff %s: no such tariff", name ? name : "");
	snprintf(out->name, sizeof out->name, "%s", name);
	return ASKUE_OK;
}

enum askue_err askue_tariff_price(struct askue_ledger *l, const char *name, struct askue_date from,
                                  const struct askue_zone_price *prices, int n)
{
	static const char ins[] =
		"INSERT INTO tariff_price(tariff_id, zone_idx, valid_from, price_micro_rub)"
		" VALUES (?,?,?,?)";
	struct askue_tariff t;
	enum askue_err err = askue_tariff_get(l, name, &t);
	if (err)
		return err;
	if (n < 1)
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no prices given (ZONE=RUB_PER_KWH)",
		                     name);
	int idx[ASKUE_ZONES_MAX * 2];
	if (n > (int)(sizeof idx / sizeof idx[0]))
		return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: too many prices", name);
	for (int i = 0; i < n; i++) {
		idx[i] = -1;
		for (int z = 0; z < t.n_zones; z++)
			if (!strcmp(t.zones[z].name, prices[i].zone))
				idx[i] = t.zones[z].idx;
		if (idx[i] < 0)
			return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: no zone '%s'", name,
			                     prices[i].zone);
		for (int j = 0; j < i; j++)
			if (idx[j] == idx[i])
				return askue_err_set(ASKUE_ERR_INVALID, "tariff %s: zone %s priced twice", name,
				                     prices[i].zone);
	}
	if ((err = askue_ledger_begin(l)))
		return err;
	char d[ASKUE_DATE_BUF], num[ASKUE_NUM_BUF];
	askue_date_format(from, d);
	cJSON *dj = cJSON_CreateObject();
	cJSON_AddStringToObject(dj, "from", d);
	cJSON *pj = cJSON_AddObjectToObject(dj, "prices");
	for (int i = 0; i < n && !err; i++) {
		sqlite3_stmt *st;
		if ((err = askue_ledger_stmt(l, ins, &st)))
			break;
		sqlite3_bind_int64(st, 1, t.id);
		sqlite3_bind_int(st, 2, idx[i]);
		sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, prices[i].price.micro_rub);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			err = (rc & 0xff) == SQLITE_CONSTRAINT
			              ? askue_err_set(ASKUE_ERR_CONFLICT,
			                              "tariff %s: zone %s already has a price from %s", name,
			                              prices[i].zone, d)
			              : askue_ledger_fail(l, rc, "tariff price");
		cJSON_AddStringToObject(pj, prices[i].zone, askue_price_format(prices[i].price, num));
	}
	if (!err)
		err = askue_journal_append(l, ASKUE_EV_TARIFF_PRICE_SET, name, dj);
	cJSON_Delete(dj);
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}

enum askue_err askue_tariff_choose(struct askue_ledger *l, const char *account, const char *name,
                                   struct askue_date from)
{
	static const char ins[] =
		"INSERT INTO subscriber_tariff(subscriber_id, tariff_id, valid_from) VALUES (?,?,?)";
	struct askue_subscriber s;
	struct askue_tariff t;
	enum askue_err err;
	if ((err = askue_subscriber_get(l, account, &s)) || (err = askue_tariff_get(l, name, &t)))
		return err;
	char d[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	askue_date_format(from, d);
	if (from.days < s.registered.days)
		return askue_err_set(ASKUE_ERR_CONFLICT, "account %s: tariff from %s before registration %s",
		                     account, d, askue_date_format(s.registered, d2));
	if ((err = askue_ledger_begin(l)))
		return err;
	sqlite3_stmt *st;
	if ((err = askue_ledger_stmt(l, ins, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, s.id);
	sqlite3_bind_int64(st, 2, t.id);
	sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = (rc & 0xff) == SQLITE_CONSTRAINT
		              ? askue_err_set(ASKUE_ERR_CONFLICT,
		                              "account %s: already has a tariff choice from %s", account, d)
		              : askue_ledger_fail(l, rc, "tariff choice");
		goto out;
	}
	cJSON *dj = cJSON_CreateObject();
	cJSON_AddStringToObject(dj, "tariff", name);
	cJSON_AddStringToObject(dj, "from", d);
	err = askue_journal_append(l, ASKUE_EV_TARIFF_CHOSEN, account, dj);
	cJSON_Delete(dj);
out:
	if (err || (err = askue_ledger_commit(l)))
		askue_ledger_rollback(l);
	return err;
}
