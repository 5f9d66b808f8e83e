/* fieldcheck — see fieldcheck.h. */
#include "fieldcheck.h"

struct askue_sample askue_fieldcheck_at(struct askue_sample a, struct askue_sample b, int64_t t)
{
	struct askue_sample r = {.has = 0, .ts = t};
	if (a.has && a.ts == t)
		return (struct askue_sample){1, t, a.wh};
	if (b.has && b.ts == t)
		return (struct askue_sample){1, t, b.wh};
	if (!a.has || !b.has || b.ts <= a.ts)
		return r;
	__int128 num = (__int128)(b.wh - a.wh) * (t - a.ts);
	__int128 den = b.ts - a.ts;
	/* half up, also for a register that went backwards (num < 0) */
	__int128 q = num >= 0 ? (2 * num + den) / (2 * den) : -((-2 * num + den - 1) / (2 * den));
	r.has = 1;
	r.wh = a.wh + (int64_t)q;
	return r;
}

struct askue_fieldcheck askue_fieldcheck_judge(struct askue_sample lo, struct askue_sample hi,
                                               struct askue_sample before,
                                               struct askue_sample after, int64_t seen_wh,
                                               int64_t tolerance_wh)
{
	struct askue_fieldcheck f = {0};
	if (!lo.has && before.has)
		lo = (struct askue_sample){1, before.ts, before.wh};
	if (!hi.has && after.has)
		hi = (struct askue_sample){1, after.ts, after.wh};
	f.has_lo = lo.has, f.lo_wh = lo.wh;
	f.has_hi = hi.has, f.hi_wh = hi.wh;
	f.comparable = lo.has || hi.has;
	if (lo.has && seen_wh < lo.wh)
		f.diff_wh = seen_wh - lo.wh;
	else if (hi.has && seen_wh > hi.wh)
		f.diff_wh = seen_wh - hi.wh;
	int64_t mag = f.diff_wh < 0 ? -f.diff_wh : f.diff_wh;
	f.beyond = f.comparable && mag > tolerance_wh;
	return f;
}
