/* norms — see norms.h. The table is read once, checked row by row (a bad
 * row is "FILE:LINE: field: ..."), and looked up by key and date. */
#include "norms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "money.h"

#define NORM_ROWS_MAX 10000 /* 2 x 2 x 4 x 5 keys x decades of decisions */
#define NORM_HEADER "from,settlement,stove,rooms,residents,kwh_per_person,source"
#define NORM_FIELDS 7

struct norm_row {
	struct askue_date from;
	int rural, electric, rooms, residents;
	int64_t wh_per_person; /* a month */
};

struct askue_norms {
	struct norm_row *rows;
	int n;
};

struct load {
	const char *path;
	struct askue_norms *norms;
	int records;
};

enum askue_err askue_norms_settlement_parse(const char *s, int *rural)
{
	if (s && !strcmp(s, "urban"))
		*rural = 0;
	else if (s && !strcmp(s, "rural"))
		*rural = 1;
	else
		return askue_err_set(ASKUE_ERR_INVALID, "settlement '%s': expected urban or rural",
		                     s ? s : "");
	return ASKUE_OK;
}

enum askue_err askue_norms_stove_parse(const char *s, int *electric)
{
	if (s && !strcmp(s, "gas"))
		*electric = 0;
	else if (s && !strcmp(s, "electric"))
		*electric = 1;
	else
		return askue_err_set(ASKUE_ERR_INVALID, "stove '%s': expected gas or electric",
		                     s ? s : "");
	return ASKUE_OK;
}

static enum askue_err small_int(const char *name, const char *s, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 1 || v > max)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': expected 1..%d", name, s, max);
	*out = (int)v;
	return ASKUE_OK;
}

static int same_key(const struct norm_row *a, const struct norm_row *b)
{
	return a->rural == b->rural && a->electric == b->electric && a->rooms == b->rooms &&
	       a->residents == b->residents;
}

static enum askue_err parse_row(char **f, struct norm_row *r)
{
	enum askue_err err;
	if ((err = askue_date_parse(f[0], &r->from))) {
		askue_err_prefix("from: ");
		return err;
	}
	if ((err = askue_norms_settlement_parse(f[1], &r->rural)) ||
	    (err = askue_norms_stove_parse(f[2], &r->electric)) ||
	    (err = small_int("rooms", f[3], ASKUE_NORM_ROOMS_MAX, &r->rooms)) ||
	    (err = small_int("residents", f[4], ASKUE_NORM_RESIDENTS_MAX, &r->residents)) ||
	    (err = askue_fixed_parse(f[5], 3, 0, 100000000, "kwh_per_person", &r->wh_per_person)))
		return err;
	if (r->wh_per_person == 0)
		return askue_err_set(ASKUE_ERR_INVALID, "kwh_per_person: must be above 0");
	if (!*f[6])
		return askue_err_set(ASKUE_ERR_INVALID, "source: empty (say where the value comes from)");
	return ASKUE_OK;
}

static enum askue_err add_row(struct askue_norms *n, const struct norm_row *r)
{
	for (int i = n->n - 1; i >= 0; i--)
		if (same_key(&n->rows[i], r)) {
			if (n->rows[i].from.days >= r->from.days)
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "from: not after the earlier row of the same key");
			break;
		}
	if (n->n >= NORM_ROWS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "more than %d rows", NORM_ROWS_MAX);
	if ((n->n & (n->n - 1)) == 0) { /* 0, 1, 2, 4 ...: double */
		void *p = realloc(n->rows, (size_t)(n->n ? n->n * 2 : 8) * sizeof *r);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
		n->rows = p;
	}
	n->rows[n->n++] = *r;
	return ASKUE_OK;
}

static enum askue_err on_row(const struct askue_csv_row *row, void *arg)
{
	struct load *ld = arg;
	if (row->overflow || row->n != NORM_FIELDS)
		return askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: %d fields, expected %d (%s)",
		                     ld->path, (long long)row->line, row->n, NORM_FIELDS, NORM_HEADER);
	if (ld->records++ == 0) {
		char got[512] = "";
		for (int i = 0; i < row->n; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
			         row->fields[i]);
		if (strcmp(got, NORM_HEADER))
			return askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: header '%s', expected '%s'",
			                     ld->path, (long long)row->line, got, NORM_HEADER);
		return ASKUE_OK;
	}
	struct norm_row r;
	enum askue_err err = parse_row(row->fields, &r);
	if (!err)
		err = add_row(ld->norms, &r);
	if (err)
		askue_err_prefix("%s:%lld: ", ld->path, (long long)row->line);
	return err;
}

void askue_norms_free(struct askue_norms *n)
{
	if (!n)
		return;
	free(n->rows);
	free(n);
}

enum askue_err askue_norms_load(const char *path, struct askue_norms **out)
{
	struct askue_norms *n = calloc(1, sizeof *n);
	if (!n)
		return askue_err_set(ASKUE_ERR_NOMEM, "norms: out of memory");
	struct load ld = {path, n, 0};
	enum askue_err err = askue_csv_each(path, on_row, &ld);
	if (!err && n->n == 0)
		err = askue_err_set(ASKUE_ERR_INVALID, "%s: no norms", path);
	if (err) {
		askue_norms_free(n);
		return err;
	}
	*out = n;
	return ASKUE_OK;
}

enum askue_err askue_norms_month_wh(const struct askue_norms *n, const struct askue_norm_key *k,
                                    struct askue_date on, int64_t *wh)
{
	int persons = k->residents < 1 ? 1 : k->residents;
	struct norm_row key = {
		.rural = k->rural != 0,
		.electric = k->electric_stove != 0,
		.rooms = k->rooms < 1 ? 1 : k->rooms > ASKUE_NORM_ROOMS_MAX ? ASKUE_NORM_ROOMS_MAX : k->rooms,
		.residents = persons > ASKUE_NORM_RESIDENTS_MAX ? ASKUE_NORM_RESIDENTS_MAX : persons,
	};
	const struct norm_row *found = NULL;
	for (int i = 0; i < n->n; i++)
		if (same_key(&n->rows[i], &key) && n->rows[i].from.days <= on.days)
			found = &n->rows[i]; /* rows of a key ascend: the last one in force */
	if (!found) {
		char buf[ASKUE_DATE_BUF];
		return askue_err_set(ASKUE_ERR_NOT_FOUND,
		                     "no norm for %s, %s stove, %d rooms, %d residents on %s",
		                     key.rural ? "rural" : "urban", key.electric ? "electric" : "gas",
		                     key.rooms, key.residents, askue_date_format(on, buf));
	}
	*wh = found->wh_per_person * persons;
	return ASKUE_OK;
}
