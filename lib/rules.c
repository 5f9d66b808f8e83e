/* rules — see rules.h. One reader per table; each checks its header, its
 * fields and the order of its rows, and grows its array. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "money.h"

#define RULE_ROWS_MAX 10000 /* rows a table may have: decades of decisions */

struct due_rule {
	struct askue_period from;
	int day;
};

struct askue_rules {
	struct askue_penalty_rules penalty;
	struct askue_rate_change *rates;
	struct askue_rate_cap *caps;
	struct askue_date_span *moratoria;
	struct askue_date *holidays, *workdays;
	struct due_rule *due;
	int n_due;
};

struct table {
	const char *path;
	const char *header; /* "a,b,c" */
	struct askue_rules *r;
	int rows;
	enum askue_err (*row)(struct table *t, char **f, int n);
};

static enum askue_err grow(void **array, int n, size_t size)
{
	if (n >= RULE_ROWS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "more than %d rows", RULE_ROWS_MAX);
	if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4 ...: double */
		void *p = realloc(*array, (size_t)(n ? n * 2 : 8) * size);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
		*array = p;
	}
	return ASKUE_OK;
}

static enum askue_err field_date(const char *name, const char *s, struct askue_date *d)
{
	enum askue_err err = askue_date_parse(s, d);
	if (err)
		askue_err_prefix("%s: ", name);
	return err;
}

static enum askue_err field_rate(const char *name, const char *s, int32_t *bp)
{
	int64_t v;
	enum askue_err err = askue_fixed_parse(s, 2, 0, 10000, name, &v);
	if (err)
		return err;
	*bp = (int32_t)v;
	return ASKUE_OK;
}

static enum askue_err rate_row(struct table *t, char **f, int n)
{
	(void)n;
	struct askue_penalty_rules *p = &t->r->penalty;
	struct askue_rate_change c;
	enum askue_err err;
	if ((err = field_date("from", f[0], &c.from)) || (err = field_rate("rate_percent", f[1], &c.rate_bp)))
		return err;
	if (p->n_rates && c.from.days <= t->r->rates[p->n_rates - 1].from.days)
		return askue_err_set(ASKUE_ERR_INVALID, "from: not after the row before");
	if ((err = grow((void **)&t->r->rates, p->n_rates, sizeof c)))
		return err;
	t->r->rates[p->n_rates++] = c;
	return ASKUE_OK;
}

static enum askue_err span(char **f, struct askue_date *from, struct askue_date *until,
                           struct askue_date prev_until, int have_prev)
{
	enum askue_err err;
	if ((err = field_date("from", f[0], from)) || (err = field_date("until", f[1], until)))
		return err;
	if (until->days < from->days)
		return askue_err_set(ASKUE_ERR_INVALID, "until: before from");
	if (have_prev && from->days <= prev_until.days)
		return askue_err_set(ASKUE_ERR_INVALID, "from: overlaps the row before");
	return ASKUE_OK;
}

static enum askue_err cap_row(struct table *t, char **f, int n)
{
	(void)n;
	struct askue_penalty_rules *p = &t->r->penalty;
	struct askue_rate_cap c = {0};
	struct askue_date prev = p->n_caps ? t->r->caps[p->n_caps - 1].until : (struct askue_date){0};
	enum askue_err err = span(f, &c.from, &c.until, prev, p->n_caps);
	if (err || (err = field_rate("cap_percent", f[2], &c.cap_bp)))
		return err;
	if ((err = grow((void **)&t->r->caps, p->n_caps, sizeof c)))
		return err;
	t->r->caps[p->n_caps++] = c;
	return ASKUE_OK;
}

static enum askue_err moratorium_row(struct table *t, char **f, int n)
{
	(void)n;
	struct askue_penalty_rules *p = &t->r->penalty;
	struct askue_date_span s = {0};
	struct askue_date prev =
		p->n_moratoria ? t->r->moratoria[p->n_moratoria - 1].until : (struct askue_date){0};
	enum askue_err err = span(f, &s.from, &s.until, prev, p->n_moratoria);
	if (err || (err = grow((void **)&t->r->moratoria, p->n_moratoria, sizeof s)))
		return err;
	t->r->moratoria[p->n_moratoria++] = s;
	return ASKUE_OK;
}

static enum askue_err calendar_row(struct table *t, char **f, int n)
{
	(void)n;
	struct askue_penalty_rules *p = &t->r->penalty;
	struct askue_date d;
	enum askue_err err = field_date("date", f[0], &d);
	if (err)
		return err;
	int wd = askue_date_weekday(d);
	if (!strcmp(f[1], "holiday")) {
		if (wd >= 5)
			return askue_err_set(ASKUE_ERR_INVALID, "date: %s is a Saturday or Sunday already", f[0]);
		if (p->n_holidays && d.days <= t->r->holidays[p->n_holidays - 1].days)
			return askue_err_set(ASKUE_ERR_INVALID, "date: holidays out of order");
		if ((err = grow((void **)&t->r->holidays, p->n_holidays, sizeof d)))
			return err;
		t->r->holidays[p->n_holidays++] = d;
	} else if (!strcmp(f[1], "workday")) {
		if (wd < 5)
			return askue_err_set(ASKUE_ERR_INVALID, "date: %s is a weekday already", f[0]);
		if (p->n_workdays && d.days <= t->r->workdays[p->n_workdays - 1].days)
			return askue_err_set(ASKUE_ERR_INVALID, "date: workdays out of order");
		if ((err = grow((void **)&t->r->workdays, p->n_workdays, sizeof d)))
			return err;
		t->r->workdays[p->n_workdays++] = d;
	} else {
		return askue_err_set(ASKUE_ERR_INVALID, "kind '%s': expected holiday or workday", f[1]);
	}
	return ASKUE_OK;
}

static enum askue_err due_row(struct table *t, char **f, int n)
{
	(void)n;
	struct due_rule d;
	enum askue_err err = askue_period_parse(f[0], &d.from);
	if (err) {
		askue_err_prefix("periods_from: ");
		return err;
	}
	char *end;
	long day = strtol(f[1], &end, 10);
	if (!*f[1] || *end || day < 1 || day > 28)
		return askue_err_set(ASKUE_ERR_INVALID, "day_of_next_month '%s': expected 1..28", f[1]);
	d.day = (int)day;
	struct askue_rules *r = t->r;
	if (r->n_due && askue_period_first(d.from).days <= askue_period_first(r->due[r->n_due - 1].from).days)
		return askue_err_set(ASKUE_ERR_INVALID, "periods_from: not after the row before");
	if ((err = grow((void **)&r->due, r->n_due, sizeof d)))
		return err;
	r->due[r->n_due++] = d;
	return ASKUE_OK;
}

static enum askue_err on_row(const struct askue_csv_row *row, void *arg)
{
	struct table *t = arg;
	int want = 1;
	for (const char *c = t->header; *c; c++)
		want += *c == ',';
	if (row->overflow || row->n != want)
		return askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: %d fields, expected %d (%s)", t->path,
		                     (long long)row->line, row->n, want, t->header);
	if (t->rows++ == 0) {
		char got[512] = "";
		for (int i = 0; i < row->n; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
			         row->fields[i]);
		if (strcmp(got, t->header))
			return askue_err_set(ASKUE_ERR_INVALID, "%s:%lld: header '%s', expected '%s'",
			                     t->path, (long long)row->line, got, t->header);
		return ASKUE_OK;
	}
	enum askue_err err = t->row(t, row->fields, row->n);
	if (err)
		askue_err_prefix("%s:%lld: ", t->path, (long long)row->line);
	return err;
}

void askue_rules_free(struct askue_rules *r)
{
	if (!r)
		return;
	free(r->rates);
	free(r->caps);
	free(r->moratoria);
	free(r->holidays);
	free(r->workdays);
	free(r->due);
	free(r);
}

enum askue_err askue_rules_load(const char *dir, struct askue_rules **out)
{
	struct askue_rules *r = calloc(1, sizeof *r);
	if (!r)
		return askue_err_set(ASKUE_ERR_NOMEM, "rules: out of memory");
	struct table tables[] = {
		{NULL, "from,rate_percent,source", r, 0, rate_row},
		{NULL, "from,until,cap_percent,source", r, 0, cap_row},
		{NULL, "from,until,source", r, 0, moratorium_row},
		{NULL, "date,kind,source", r, 0, calendar_row},
		{NULL, "periods_from,day_of_next_month,source", r, 0, due_row},
	};
	static const char *const files[] = {"key_rates.csv", "rate_caps.csv", "moratoria.csv",
	                                    "calendar.csv", "due_dates.csv"};
	enum askue_err err = ASKUE_OK;
	char path[5][600];
	for (int i = 0; i < 5 && !err; i++) {
		snprintf(path[i], sizeof path[i], "%s/%s", dir, files[i]);
		tables[i].path = path[i];
		err = askue_csv_each(path[i], on_row, &tables[i]);
	}
	if (!err && !r->penalty.n_rates)
		err = askue_err_set(ASKUE_ERR_INVALID, "%s: no key rates", path[0]);
	if (!err && !r->n_due)
		err = askue_err_set(ASKUE_ERR_INVALID, "%s: no due-date rule", path[4]);
	if (err) {
		askue_rules_free(r);
		return err;
	}
	r->penalty.rates = r->rates;
	r->penalty.caps = r->caps;
	r->penalty.moratoria = r->moratoria;
	r->penalty.holidays = r->holidays;
	r->penalty.workdays = r->workdays;
	*out = r;
	return ASKUE_OK;
}

const struct askue_penalty_rules *askue_rules_penalty(const struct askue_rules *r)
{
	return &r->penalty;
}

enum askue_err askue_rules_due_date(const struct askue_rules *r, struct askue_period period,
                                    struct askue_date *due)
{
	int found = -1;
	for (int i = 0; i < r->n_due; i++)
		if (askue_period_first(r->due[i].from).days <= askue_period_first(period).days)
			found = i;
	if (found < 0) {
		char buf[ASKUE_DATE_BUF];
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "period %s: no due-date rule reaches back to it",
		                     askue_period_format(period, buf));
	}
	struct askue_period next = askue_period_add(period, 1);
	*due = askue_date_from_ymd(next.year, next.month, r->due[found].day);
	return ASKUE_OK;
}
