/* rollup — see rollup.h. */
#include "rollup.h"

#include <assert.h>
#include <stddef.h>

#include "money.h"

enum askue_rollup_step askue_rollup_step(int64_t before_wh, int64_t after_wh,
                                         int64_t capacity_wh, int64_t *wh_out)
{
	assert(capacity_wh > 0);
	if (after_wh >= before_wh) {
		*wh_out = after_wh - before_wh;
		return ASKUE_STEP_FORWARD;
	}
	int64_t implied = capacity_wh - before_wh + after_wh;
	if (implied < capacity_wh - implied) { /* less than half the capacity */
		*wh_out = implied;
		return ASKUE_STEP_ROLLOVER;
	}
	return ASKUE_STEP_BACKWARDS;
}

enum askue_rollup_at askue_rollup_value_at(struct askue_rollup_sample before,
                                           struct askue_rollup_sample after, int64_t t,
                                           int64_t capacity_wh, int64_t *wh_out)
{
	assert(!before.has || before.ts <= t);
	assert(!after.has || after.ts >= t);
	if (before.has && before.ts == t) {
		*wh_out = before.wh;
		return ASKUE_AT_EXACT;
	}
	if (after.has && after.ts == t) {
		*wh_out = after.wh;
		return ASKUE_AT_EXACT;
	}
	if (!before.has)
		return after.has ? ASKUE_AT_NONE_BEFORE : ASKUE_AT_NONE;
	if (!after.has)
		return ASKUE_AT_NONE_AFTER;
	int64_t step;
	if (askue_rollup_step(before.wh, after.wh, capacity_wh, &step) == ASKUE_STEP_BACKWARDS)
		return ASKUE_AT_BACKWARDS;
	int64_t part;
	enum askue_err err =
		askue_muldiv(step, t - before.ts, after.ts - before.ts, ASKUE_ROUND_HALF_UP, &part);
	assert(!err && part <= step); /* part <= step < capacity: always fits */
	(void)err;
	int64_t v = before.wh + part;
	*wh_out = v >= capacity_wh ? v - capacity_wh : v;
	return ASKUE_AT_INTERPOLATED;
}

struct askue_rollup_sample askue_rollup_sample_of(const struct askue_rollup_regs *r, int i)
{
	if (!r || !(r->mask & (1u << i)))
		return (struct askue_rollup_sample){0};
	return (struct askue_rollup_sample){1, r->ts, r->wh[i]};
}

void askue_rollup_fold(struct askue_rollup_day *d, const struct askue_rollup_regs *r)
{
	if (d->readings == 0 || r->ts < d->first.ts)
		d->first = *r;
	if (d->readings == 0 || r->ts >= d->last.ts)
		d->last = *r;
	if (r->ts == d->first.ts)
		d->first = *r;
	d->readings++;
}

struct askue_rollup_consumption askue_rollup_consumed(const struct askue_rollup_regs *start,
                                                      const struct askue_rollup_regs *end,
                                                      int64_t capacity_wh)
{
	struct askue_rollup_consumption c = {0};
	for (int i = 0; i < ASKUE_ROLLUP_REGS; i++) {
		unsigned bit = 1u << i;
		if (!(start->mask & bit) || !(end->mask & bit))
			continue;
		if (askue_rollup_step(start->wh[i], end->wh[i], capacity_wh, &c.wh[i]) ==
		    ASKUE_STEP_BACKWARDS)
			c.backwards_mask |= bit;
		else
			c.mask |= bit;
	}
	return c;
}

struct askue_rollup_daily askue_rollup_daily(const struct askue_rollup_day *day,
                                             const struct askue_rollup_regs *prev,
                                             const struct askue_rollup_regs *at_end,
                                             int64_t start, int64_t capacity_wh)
{
	assert(day->readings > 0 || at_end);
	const struct askue_rollup_regs *s, *e = at_end ? at_end : &day->last;
	int known = 1;
	if (day->readings && day->first.ts == start)
		s = &day->first;
	else if (prev)
		s = prev;
	else {
		s = day->readings ? &day->first : at_end;
		known = 0;
	}
	struct askue_rollup_daily d = {.c = askue_rollup_consumed(s, e, capacity_wh)};
	d.estimated = !known || d.c.backwards_mask;
	return d;
}
