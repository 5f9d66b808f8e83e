/* anomaly — the detectors of `askue job anomalies` (anomaly.h): a meter's
 * days and raw readings in, what is odd about them out. No I/O. */
#include "anomaly.h"

#include <stdlib.h>
#include <string.h>

#include "rollup.h"

static const char *const kind_names[ASKUE_ANOMALY_KINDS] = {
	"backwards", "jump", "stuck", "drop", "reverse", "away",
};
static const char *const alert_kinds[ASKUE_ANOMALY_KINDS] = {
	"anomaly_backwards", "anomaly_jump", "anomaly_stuck", "anomaly_drop", "anomaly_reverse",
	NULL,
};

const char *askue_anomaly_kind_name(enum askue_anomaly_kind k)
{
	return (unsigned)k < ASKUE_ANOMALY_KINDS ? kind_names[k] : "?";
}

const char *askue_anomaly_alert_kind(enum askue_anomaly_kind k)
{
	return (unsigned)k < ASKUE_ANOMALY_KINDS ? alert_kinds[k] : NULL;
}

int askue_anomaly_kind_of(const char *name)
{
	for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
		if (!strcmp(name, kind_names[k]) || (alert_kinds[k] && !strcmp(name, alert_kinds[k])))
			return k;
	return -1;
}

void askue_anomaly_params_default(struct askue_anomaly_params *p)
{
	memset(p, 0, sizeof *p);
	p->max_w = 15000; /* the usual household connection in Russia: 15 kW */
	p->capacity_wh = INT64_C(1000000000);
	p->jump_min_s = 300;
	p->event_days = 7;
	p->stuck_days = 7;
	p->recent_days = 28;
	p->baseline_days_min = 21;
	p->baseline_wh_min = 1000;
	p->drop_pct = 60;
	p->away_pct = 25;
	p->reverse_wh_min = 100;
	p->stuck_hours = 0;
}

/* A step between two readings: backwards (-1), a jump (1) or normal (0);
 * *wh gets the size (backwards: how far back). */
static int judge_step(const struct askue_anomaly_params *p, int64_t t0, int64_t wh0, int64_t t1,
                      int64_t wh1, int64_t *wh)
{
	int64_t d = 0;
	if (askue_rollup_step(wh0, wh1, p->capacity_wh, &d) == ASKUE_STEP_BACKWARDS) {
		*wh = wh0 - wh1;
		return -1;
	}
	*wh = d;
	int64_t dt = t1 - t0;
	if (dt >= p->jump_min_s && dt > 0 && d > 0 && (d * 3600) / dt > p->max_w)
		return 1;
	return 0;
}

static void note_step(const struct askue_anomaly_params *p, struct askue_anomaly_result *r,
                      int32_t day, int64_t t0, int64_t wh0, int64_t t1, int64_t wh1)
{
	int64_t wh;
	int s = judge_step(p, t0, wh0, t1, wh1, &wh);
	if (s < 0) {
		if (!r->found[ASKUE_ANOMALY_BACKWARDS] || day > r->backwards_day ||
		    (day == r->backwards_day && wh > r->backwards_wh)) {
			r->backwards_day = day;
			r->backwards_wh = wh;
		}
		r->found[ASKUE_ANOMALY_BACKWARDS] = 1;
	} else if (s > 0) {
		int64_t w = wh * 3600 / (t1 - t0);
		if (!r->found[ASKUE_ANOMALY_JUMP] || day > r->jump_day ||
		    (day == r->jump_day && w > r->jump_w)) {
			r->jump_day = day;
			r->jump_wh = wh;
			r->jump_s = t1 - t0;
			r->jump_w = w;
		}
		r->found[ASKUE_ANOMALY_JUMP] = 1;
	}
}

/* Backwards and jumps within the last event_days days up to today. */
static void events(const struct askue_anomaly_params *p, const struct askue_anomaly_day *d,
                   size_t n, int32_t today, struct askue_anomaly_result *r)
{
	int32_t since = today - (p->event_days > 0 ? p->event_days : 1) + 1;
	for (size_t i = 0; i < n; i++) {
		if (d[i].day < since)
			continue;
		if (i > 0)
			note_step(p, r, d[i].day, d[i - 1].last_ts, d[i - 1].last_wh, d[i].first_ts,
			          d[i].first_wh);
		note_step(p, r, d[i].day, d[i].first_ts, d[i].first_wh, d[i].last_ts, d[i].last_wh);
	}
}

/* Days without growth up to today, the meter reporting each of them: a
 * day counts when its register stood still all day and since the day
 * before. */
static void stuck(const struct askue_anomaly_params *p, const struct askue_anomaly_day *d,
                  size_t n, int32_t today, struct askue_anomaly_result *r)
{
	int run = 0;
	size_t i = n;
	while (i > 1) {
		const struct askue_anomaly_day *c = &d[i - 1], *b = &d[i - 2];
		if (c->day != today - run || b->day != c->day - 1 || c->first_wh != c->last_wh ||
		    b->last_wh != c->first_wh)
			break;
		run++;
		i--;
	}
	r->stuck_days = run;
	if (run > 0)
		r->stuck_wh = d[n - 1].last_wh;
	if (run >= p->stuck_days && p->stuck_days > 0) {
		r->found[ASKUE_ANOMALY_STUCK] = 1;
		r->score[ASKUE_ANOMALY_STUCK] = (double)run / p->stuck_days;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v), n > 0; the lower middle when even. */
static int64_t median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_i64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Consumption of each day that follows a day with a row and went forward:
 * cons[k] for d[k] (-1 when not known). */
static void consumption(const struct askue_anomaly_params *p, const struct askue_anomaly_day *d,
                        size_t n, int64_t *cons)
{
	for (size_t i = 0; i < n; i++) {
		int64_t wh = -1;
		if (i > 0 && d[i - 1].day == d[i].day - 1 &&
		    askue_rollup_step(d[i - 1].last_wh, d[i].last_wh, p->capacity_wh, &wh) ==
		            ASKUE_STEP_BACKWARDS)
			wh = -1;
		cons[i] = i > 0 && d[i - 1].day == d[i].day - 1 ? wh : -1;
	}
}

static void judge_ratio(const struct askue_anomaly_params *p, int rel_pct,
                        struct askue_anomaly_result *r)
{
	r->found[ASKUE_ANOMALY_DROP] = rel_pct <= p->drop_pct;
	r->score[ASKUE_ANOMALY_DROP] = rel_pct <= p->drop_pct ? 1.0 - rel_pct / 100.0 : 0.0;
}

/* Consumption fallen and staying low against the meter's own history:
 * the median of the recent days (those not "away": below away_pct of the
 * baseline) against the median of the days before them. More than half of
 * the recent days away: the subscriber is away, not a thief. */
static void drop(const struct askue_anomaly_params *p, const struct askue_anomaly_day *d,
                 size_t n, int32_t today, struct askue_anomaly_result *r)
{
	int64_t cons[ASKUE_ANOMALY_WINDOW_DAYS_MAX], base[ASKUE_ANOMALY_WINDOW_DAYS_MAX],
		rec[ASKUE_ANOMALY_WINDOW_DAYS_MAX];
	consumption(p, d, n, cons);
	int32_t from = today - p->recent_days + 1;
	size_t nb = 0, nr = 0;
	for (size_t i = 0; i < n; i++) {
		if (cons[i] < 0)
			continue;
		if (d[i].day < from)
			base[nb++] = cons[i];
		else
			rec[nr++] = cons[i];
	}
	r->baseline_n = (int)nb;
	r->recent_n = (int)nr;
	if ((int)nb < p->baseline_days_min || (int)nr * 2 < p->recent_days)
		return;
	int64_t mb = median(base, nb);
	r->baseline_wh = mb;
	if (mb < p->baseline_wh_min || mb <= 0)
		return;
	size_t kept = 0;
	for (size_t i = 0; i < nr; i++)
		if (rec[i] * 100 >= mb * p->away_pct)
			rec[kept++] = rec[i];
	if (kept * 2 < nr) {
		r->recent_wh = 0;
		r->ratio_pct = 0;
		r->found[ASKUE_ANOMALY_AWAY] = 1;
		r->score[ASKUE_ANOMALY_AWAY] = (double)(nr - kept) / (double)nr;
		return;
	}
	int64_t mr = median(rec, kept);
	r->recent_wh = mr;
	r->drop_judged = 1;
	r->ratio_pct = (int)(mr * 100 / mb);
	r->peer_pct = 100;
	judge_ratio(p, r->ratio_pct, r);
}

void askue_anomaly_drop_peer(const struct askue_anomaly_params *p, int peer_ratio_pct,
                             struct askue_anomaly_result *r)
{
	if (!r->drop_judged || peer_ratio_pct <= 0)
		return;
	r->peer_pct = peer_ratio_pct;
	judge_ratio(p, (int)((int64_t)r->ratio_pct * 100 / peer_ratio_pct), r);
}

static int count_found(const struct askue_anomaly_result *r)
{
	int c = 0;
	for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
		c += r->found[k] != 0;
	return c;
}

int askue_anomaly_days(const struct askue_anomaly_params *p, const struct askue_anomaly_day *days,
                       size_t n, int32_t today, struct askue_anomaly_result *out)
{
	memset(out, 0, sizeof *out);
	while (n > 0 && days[n - 1].day > today)
		n--;
	if (n > ASKUE_ANOMALY_WINDOW_DAYS_MAX) {
		days += n - ASKUE_ANOMALY_WINDOW_DAYS_MAX;
		n = ASKUE_ANOMALY_WINDOW_DAYS_MAX;
	}
	if (n == 0)
		return 0;
	events(p, days, n, today, out);
	if (out->found[ASKUE_ANOMALY_BACKWARDS])
		out->score[ASKUE_ANOMALY_BACKWARDS] = (double)out->backwards_wh / 1000.0;
	if (out->found[ASKUE_ANOMALY_JUMP])
		out->score[ASKUE_ANOMALY_JUMP] = (double)out->jump_w / (double)p->max_w;
	stuck(p, days, n, today, out);
	drop(p, days, n, today, out);
	return count_found(out);
}

void askue_anomaly_track_add(struct askue_anomaly_track *t, const struct askue_anomaly_params *p,
                             int64_t ts, int64_t wh, int has_ae, int64_t ae_wh)
{
	if (t->has_prev && ts <= t->prev_ts)
		return;
	t->readings++;
	if (has_ae) {
		if (!t->has_ae)
			t->ae_first = ae_wh;
		t->has_ae = 1;
		t->ae_last = ae_wh;
	}
	if (t->has_prev) {
		int64_t step;
		int s = judge_step(p, t->prev_ts, t->prev_wh, ts, wh, &step);
		if (s < 0) {
			t->backwards_n++;
			if (step > t->backwards_wh)
				t->backwards_wh = step;
		} else if (s > 0) {
			int64_t w = step * 3600 / (ts - t->prev_ts);
			t->jump_n++;
			if (w > t->jump_w) {
				t->jump_w = w;
				t->jump_wh = step;
				t->jump_s = ts - t->prev_ts;
			}
		}
	}
	if (!t->has_prev || wh != t->prev_wh)
		t->flat_from_ts = ts;
	else if (ts - t->flat_from_ts > t->flat_s)
		t->flat_s = ts - t->flat_from_ts;
	t->has_prev = 1;
	t->prev_ts = ts;
	t->prev_wh = wh;
}

int askue_anomaly_track_judge(const struct askue_anomaly_track *t,
                              const struct askue_anomaly_params *p, int32_t day,
                              struct askue_anomaly_result *out)
{
	int added = 0;
	if (t->backwards_n > 0) {
		added += !out->found[ASKUE_ANOMALY_BACKWARDS];
		out->found[ASKUE_ANOMALY_BACKWARDS] = 1;
		if (day >= out->backwards_day) {
			out->backwards_day = day;
			if (t->backwards_wh > out->backwards_wh)
				out->backwards_wh = t->backwards_wh;
		}
		out->score[ASKUE_ANOMALY_BACKWARDS] = (double)out->backwards_wh / 1000.0;
	}
	if (t->jump_n > 0) {
		added += !out->found[ASKUE_ANOMALY_JUMP];
		out->found[ASKUE_ANOMALY_JUMP] = 1;
		if (day > out->jump_day || t->jump_w > out->jump_w) {
			out->jump_day = day;
			out->jump_wh = t->jump_wh;
			out->jump_s = t->jump_s;
			out->jump_w = t->jump_w;
		}
		out->score[ASKUE_ANOMALY_JUMP] = (double)out->jump_w / (double)p->max_w;
	}
	out->flat_s = t->flat_s;
	if (p->stuck_hours > 0 && t->flat_s >= (int64_t)p->stuck_hours * 3600) {
		added += !out->found[ASKUE_ANOMALY_STUCK];
		out->found[ASKUE_ANOMALY_STUCK] = 1;
		if (out->score[ASKUE_ANOMALY_STUCK] <= 0)
			out->score[ASKUE_ANOMALY_STUCK] = (double)t->flat_s / (p->stuck_hours * 3600.0);
	}
	int64_t ae = t->has_ae ? t->ae_last - t->ae_first : 0;
	if (ae >= p->reverse_wh_min && ae > 0) {
		added += !out->found[ASKUE_ANOMALY_REVERSE];
		out->found[ASKUE_ANOMALY_REVERSE] = 1;
		out->reverse_wh = ae;
		out->score[ASKUE_ANOMALY_REVERSE] = (double)ae / 1000.0;
	}
	return added;
}
