/* penalty — see penalty.h. The debt is cut into parts by the payments that
 * settled them (the unpaid rest is the last part, settled "on" the
 * calculation day); each part is outstanding from day 1 to its settlement
 * day inclusive, at the rate of its settlement day. Each part's days are
 * walked one by one and merged into runs of the same kind (grace, 1/300,
 * 1/130, moratorium) — a few thousand steps at most. */
#include "penalty.h"

#include <string.h>

static int in_sorted(const struct askue_date *v, int n, struct askue_date d)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (v[mid].days == d.days)
			return 1;
		if (v[mid].days < d.days)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

int askue_penalty_working_day(const struct askue_penalty_rules *r, struct askue_date d)
{
	if (in_sorted(r->workdays, r->n_workdays, d))
		return 1;
	if (askue_date_weekday(d) >= 5)
		return 0;
	return !in_sorted(r->holidays, r->n_holidays, d);
}

enum askue_err askue_penalty_rate(const struct askue_penalty_rules *r, struct askue_date d,
                                  int32_t *rate_bp)
{
	int found = -1;
	for (int i = 0; i < r->n_rates && r->rates[i].from.days <= d.days; i++)
		found = i;
	if (found < 0) {
		char buf[ASKUE_DATE_BUF];
		return askue_err_set(ASKUE_ERR_NOT_FOUND, "penalty: no key rate in force on %s",
		                     askue_date_format(d, buf));
	}
	int32_t rate = r->rates[found].rate_bp;
	for (int i = 0; i < r->n_caps; i++)
		if (r->caps[i].from.days <= d.days && d.days <= r->caps[i].until.days &&
		    r->caps[i].cap_bp < rate)
			rate = r->caps[i].cap_bp;
	*rate_bp = rate;
	return ASKUE_OK;
}

static int in_moratorium(const struct askue_penalty_rules *r, struct askue_date d)
{
	for (int i = 0; i < r->n_moratoria; i++)
		if (r->moratoria[i].from.days <= d.days && d.days <= r->moratoria[i].until.days)
			return 1;
	return 0;
}

/* The kind of day n (1-based) after the due date: its divisor (0 = none). */
static int divisor_of(enum askue_penalty_category category, int32_t n)
{
	if (category == ASKUE_PENALTY_OTHER)
		return 130;
	if (n <= 30)
		return 0;
	return n <= 90 ? 300 : 130;
}

static __int128 line_num(int64_t base_kop, int32_t rate_bp, int32_t days, int divisor)
{
	if (!divisor)
		return 0;
	/* x/300 = 13x/3900, x/130 = 30x/3900 */
	return (__int128)base_kop * rate_bp * days * (divisor == 300 ? 13 : 30);
}

static int64_t round_half_up(__int128 num)
{
	__int128 q = num / ASKUE_PENALTY_DENOMINATOR, rem = num % ASKUE_PENALTY_DENOMINATOR;
	if (rem * 2 >= ASKUE_PENALTY_DENOMINATOR)
		q++;
	return (int64_t)q;
}

static enum askue_err add_part(const struct askue_penalty_rules *r,
                               enum askue_penalty_category category, struct askue_money part,
                               struct askue_date settled, struct askue_penalty_result *out)
{
	int32_t last = settled.days - out->clock_start.days + 1; /* day number of settlement */
	if (last < 1 || part.kop == 0)
		return ASKUE_OK; /* paid on time: no penalty days */
	int32_t rate;
	enum askue_err err = askue_penalty_rate(r, settled, &rate);
	if (err)
		return err;
	struct askue_penalty_line *run = NULL;
	for (int32_t n = 1; n <= last; n++) {
		struct askue_date day = askue_date_add_days(out->clock_start, n - 1);
		int mora = in_moratorium(r, day);
		int div = mora ? 0 : divisor_of(category, n);
		const char *note = mora ? "moratorium" : div ? NULL : "grace";
		if (run && run->divisor == div && run->note == note) {
			run->until = day;
			run->day_until = n;
			continue;
		}
		if (out->n_lines == ASKUE_PENALTY_LINES_MAX)
			return askue_err_set(ASKUE_ERR_LIMIT, "penalty: more than %d lines",
			                     ASKUE_PENALTY_LINES_MAX);
		run = &out->lines[out->n_lines++];
		*run = (struct askue_penalty_line){.from = day, .until = day, .day_from = n,
		                                   .day_until = n, .base = part, .divisor = div,
		                                   .rate_bp = rate, .rate_date = settled,
		                                   .note = note};
	}
	return ASKUE_OK;
}

enum askue_err askue_penalty_compute(const struct askue_penalty_rules *r,
                                     enum askue_penalty_category category,
                                     struct askue_money base, struct askue_date due,
                                     const struct askue_payment_part *payments, int n_payments,
                                     struct askue_date calc_date, struct askue_penalty_result *out)
{
	if (base.kop < 0)
		return askue_err_set(ASKUE_ERR_INVALID, "penalty: negative base");
	memset(out, 0, sizeof *out);
	/* ГК РФ ст. 193: a due date on a non-working day moves to the next
	 * working day; day 1 is the day after. */
	struct askue_date effective = due;
	for (int guard = 0; !askue_penalty_working_day(r, effective); guard++) {
		if (guard > 30)
			return askue_err_set(ASKUE_ERR_INVALID, "penalty: no working day after the due date");
		effective = askue_date_add_days(effective, 1);
	}
	out->clock_start = askue_date_add_days(effective, 1);

	int64_t left = base.kop;
	enum askue_err err;
	for (int i = 0; i < n_payments; i++) {
		const struct askue_payment_part *p = &payments[i];
		if (p->amount.kop <= 0)
			return askue_err_set(ASKUE_ERR_INVALID, "penalty: payment %d is not positive", i + 1);
		if (i && p->date.days < payments[i - 1].date.days)
			return askue_err_set(ASKUE_ERR_INVALID, "penalty: payments out of date order");
		if (p->date.days > calc_date.days)
			break;
		if (p->amount.kop > left)
			return askue_err_set(ASKUE_ERR_INVALID, "penalty: payments exceed the debt");
		left -= p->amount.kop;
		if ((err = add_part(r, category, p->amount, p->date, out)))
			return err;
	}
	if (left > 0 && (err = add_part(r, category, (struct askue_money){left}, calc_date, out)))
		return err;

	for (int i = 0; i < out->n_lines; i++) {
		struct askue_penalty_line *ln = &out->lines[i];
		__int128 num = line_num(ln->base.kop, ln->rate_bp, ln->day_until - ln->day_from + 1,
		                        ln->divisor);
		ln->amount.kop = round_half_up(num);
		out->exact_num += num;
	}
	out->total.kop = round_half_up(out->exact_num);
	return ASKUE_OK;
}
