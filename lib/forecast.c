/* forecast — double seasonal exponential smoothing of half-hourly load,
 * its grid search, intervals and peaks (see forecast.h). Pure: values in,
 * values out. */
#include "forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SD ASKUE_FORECAST_SLOTS_DAY
#define SW ASKUE_FORECAST_SLOTS_WEEK

/* The grid: 6 x 5 x 5 x 4 = 600 runs over the history. */
static const double ALPHAS[] = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2};
static const double DELTAS[] = {0.0, 0.05, 0.1, 0.2, 0.4};
static const double OMEGAS[] = {0.0, 0.05, 0.1, 0.2, 0.4};
static const double PHIS[] = {0.0, 0.5, 0.8, 0.95};
#define N_OF(a) (sizeof(a) / sizeof(a)[0])

struct state {
	double level, day[SD], week[SW], err;
	size_t since_value;
};

/* The first week: level its mean, the day season each slot's mean
 * deviation from its day's mean, the week season what is left. A missing
 * slot takes the mean of its kind. */
static void init_state(const double *x, struct state *s)
{
	double sum = 0, dsum[7] = {0}, slot_sum[SD] = {0};
	int cnt = 0, dcnt[7] = {0}, slot_cnt[SD] = {0};
	for (int i = 0; i < SW; i++)
		if (!isnan(x[i])) {
			sum += x[i];
			cnt++;
			dsum[i / SD] += x[i];
			dcnt[i / SD]++;
		}
	s->level = cnt ? sum / cnt : 0;
	for (int i = 0; i < SW; i++)
		if (!isnan(x[i]) && dcnt[i / SD]) {
			slot_sum[i % SD] += x[i] - dsum[i / SD] / dcnt[i / SD];
			slot_cnt[i % SD]++;
		}
	for (int k = 0; k < SD; k++)
		s->day[k] = slot_cnt[k] ? slot_sum[k] / slot_cnt[k] : 0;
	for (int i = 0; i < SW; i++)
		s->week[i] = isnan(x[i]) ? 0 : x[i] - s->level - s->day[i % SD];
	s->err = 0;
	s->since_value = 0;
}

/* One slot: the forecast made before it, then the update (none when the
 * value is missing). Returns the one-step error, NaN when missing. */
static double step(struct state *s, const struct askue_forecast_params *p, size_t t, double x)
{
	double *d = &s->day[t % SD], *w = &s->week[t % SW];
	double base = s->level + *d + *w;
	s->since_value++;
	if (isnan(x))
		return NAN;
	double ar = s->since_value == 1 ? p->phi : pow(p->phi, (double)s->since_value);
	double e1 = x - (base + ar * s->err);
	double l = p->alpha * (x - *d - *w) + (1 - p->alpha) * s->level;
	double dn = p->delta * (x - l - *w) + (1 - p->delta) * *d;
	*w = p->omega * (x - l - *d) + (1 - p->omega) * *w;
	*d = dn;
	s->level = l;
	s->err = x - base;
	s->since_value = 0;
	return e1;
}

/* The k-step forecast (k >= 1) from the state after slot t - 1. */
static double ahead(const struct state *s, const struct askue_forecast_params *p, size_t t,
                    size_t k)
{
	size_t at = t + k - 1;
	return s->level + s->day[at % SD] + s->week[at % SW] +
	       pow(p->phi, (double)(s->since_value + k)) * s->err;
}

/* Mean squared error of the day-ahead forecasts: from each midnight after
 * the first week (which initialises the state), the next 48 half-hours. */
static double score(const double *x, size_t n, const struct askue_forecast_params *p)
{
	struct state s;
	init_state(x, &s);
	double sse = 0;
	size_t cnt = 0;
	for (size_t t = 0; t < n; t++) {
		if (t >= SW && t % SD == 0) {
			/* ahead(), unrolled: the AR term decays by phi a half-hour */
			double ar = s.err * pow(p->phi, (double)s.since_value);
			for (size_t k = 0; k < SD && t + k < n; k++) {
				ar *= p->phi;
				if (isnan(x[t + k]))
					continue;
				double e = x[t + k] - (s.level + s.day[(t + k) % SD] +
				                       s.week[(t + k) % SW] + ar);
				sse += e * e;
				cnt++;
			}
		}
		(void)step(&s, p, t, x[t]);
	}
	return cnt ? sse / (double)cnt : INFINITY;
}

static enum askue_err check_history(const double *x, size_t n)
{
	if (n % SD)
		return askue_err_set(ASKUE_ERR_INVALID, "forecast: %zu half-hours is not a whole "
		                     "number of days", n);
	if (n < (size_t)ASKUE_FORECAST_MIN_DAYS * SD)
		return askue_err_set(ASKUE_ERR_RANGE, "forecast: %zu days of history, at least %d "
		                     "needed", n / SD, ASKUE_FORECAST_MIN_DAYS);
	if (n > (size_t)ASKUE_FORECAST_HISTORY_DAYS_MAX * SD)
		return askue_err_set(ASKUE_ERR_LIMIT, "forecast: %zu days of history, at most %d",
		                     n / SD, ASKUE_FORECAST_HISTORY_DAYS_MAX);
	for (size_t wk = 0; wk + SW <= n; wk += SW) {
		size_t have = 0;
		for (size_t i = wk; i < wk + SW; i++)
			have += !isnan(x[i]);
		if (have < SW / 2)
			return askue_err_set(ASKUE_ERR_RANGE, "forecast: week %zu of the history has "
			                     "%zu of %d half-hours", wk / SW + 1, have, SW);
	}
	if (!isnan(x[n - 1]) || n < SD)
		return ASKUE_OK;
	for (size_t i = n - SD; i < n; i++)
		if (!isnan(x[i]))
			return ASKUE_OK;
	return askue_err_set(ASKUE_ERR_RANGE, "forecast: the history's last day has no value");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, cmp_double);
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/* The final run: the state at the end, the one-step RMSE, and the errors of
 * the h-day-ahead forecasts from each midnight (after the first week). */
static enum askue_err run_final(const double *x, size_t n, int horizon_days,
                                struct askue_forecast_params p, struct askue_forecast_model *m)
{
	size_t per_h = (n / SD + 1) * SD;
	double *errs = malloc((size_t)horizon_days * per_h * sizeof *errs);
	size_t cnt[ASKUE_FORECAST_HORIZON_DAYS_MAX] = {0};
	if (!errs)
		return askue_err_set(ASKUE_ERR_NOMEM, "forecast: out of memory");
	struct state s;
	init_state(x, &s);
	double sse = 0;
	size_t scored = 0;
	for (size_t t = 0; t < n; t++) {
		if (t >= SW && t % SD == 0)
			for (int h = 0; h < horizon_days; h++)
				for (size_t k = 0; k < SD; k++) {
					size_t at = t + (size_t)h * SD + k;
					if (at < n && !isnan(x[at]) && cnt[h] < per_h)
						errs[(size_t)h * per_h + cnt[h]++] =
							x[at] - ahead(&s, &p, t, (size_t)h * SD + k + 1);
				}
		double e = step(&s, &p, t, x[t]);
		if (t >= SW && !isnan(e)) {
			sse += e * e;
			scored++;
		}
	}
	memset(m, 0, sizeof *m);
	m->p = p;
	m->level = s.level;
	memcpy(m->day, s.day, sizeof m->day);
	memcpy(m->week, s.week, sizeof m->week);
	m->last_err = s.err;
	m->since_value = s.since_value;
	m->slots = n;
	m->rmse_wh = scored ? sqrt(sse / (double)scored) : 0;
	m->horizon_days = horizon_days;
	for (int h = 0; h < horizon_days; h++) {
		int from = h;
		while (from > 0 && !cnt[from])
			from--; /* too short for this horizon: the longest one measured */
		double *v = errs + (size_t)from * per_h;
		m->lo_err[h] = cnt[from] ? quantile(v, cnt[from], 0.05) : -3 * m->rmse_wh;
		m->hi_err[h] = cnt[from] ? quantile(v, cnt[from], 0.95) : 3 * m->rmse_wh;
	}
	free(errs);
	return ASKUE_OK;
}

enum askue_err askue_forecast_fit_with(const double *x, size_t n, int horizon_days,
                                       struct askue_forecast_params p,
                                       struct askue_forecast_model *out)
{
	if (horizon_days < 1 || horizon_days > ASKUE_FORECAST_HORIZON_DAYS_MAX)
		return askue_err_set(ASKUE_ERR_RANGE, "forecast: horizon of %d days, 1..%d",
		                     horizon_days, ASKUE_FORECAST_HORIZON_DAYS_MAX);
	enum askue_err err = check_history(x, n);
	return err ? err : run_final(x, n, horizon_days, p, out);
}

enum askue_err askue_forecast_fit(const double *x, size_t n, int horizon_days,
                                  struct askue_forecast_model *out)
{
	enum askue_err err = check_history(x, n);
	if (err)
		return err;
	struct askue_forecast_params best = {0.05, 0.1, 0.1, 0};
	double best_mse = INFINITY;
	for (size_t a = 0; a < N_OF(ALPHAS); a++)
		for (size_t d = 0; d < N_OF(DELTAS); d++)
			for (size_t w = 0; w < N_OF(OMEGAS); w++)
				for (size_t f = 0; f < N_OF(PHIS); f++) {
					struct askue_forecast_params p = {ALPHAS[a], DELTAS[d], OMEGAS[w],
					                                  PHIS[f]};
					double mse = score(x, n, &p);
					if (mse < best_mse) { /* strict: the first, smoothest, on a tie */
						best_mse = mse;
						best = p;
					}
				}
	return askue_forecast_fit_with(x, n, horizon_days, best, out);
}

int askue_forecast_peak_slot(const double *wh)
{
	int best = 0;
	for (int k = 1; k < SD; k++)
		if (wh[k] > wh[best])
			best = k;
	return best;
}

void askue_forecast_predict(const struct askue_forecast_model *m, int days,
                            struct askue_forecast_day *out)
{
	struct state s = {.level = m->level, .err = m->last_err, .since_value = m->since_value};
	memcpy(s.day, m->day, sizeof s.day);
	memcpy(s.week, m->week, sizeof s.week);
	if (days > m->horizon_days)
		days = m->horizon_days;
	for (int h = 0; h < days; h++) {
		struct askue_forecast_day *o = &out[h];
		for (int k = 0; k < SD; k++) {
			double f = ahead(&s, &m->p, m->slots, (size_t)(h * SD + k + 1));
			o->wh[k] = f > 0 ? f : 0;
			o->lo_wh[k] = f + m->lo_err[h] > 0 ? f + m->lo_err[h] : 0;
			o->hi_wh[k] = f + m->hi_err[h] > 0 ? f + m->hi_err[h] : 0;
		}
		o->peak_slot = askue_forecast_peak_slot(o->wh);
		o->peak_wh = o->wh[o->peak_slot];
	}
}

/* round(inc * num / den), half up, for num in [0, den]. */
static int64_t share(int64_t inc, int64_t num, int64_t den)
{
	__int128 p = (__int128)inc * num * 2 + den;
	return (int64_t)(p / (2 * (__int128)den));
}

int askue_load_spread(int64_t t0, int64_t t1, int64_t inc_wh, int64_t day_start, int slots,
                      int64_t *out, int *last_slot)
{
	int64_t end = day_start + (int64_t)slots * 1800;
	if (t1 <= t0 || t1 <= day_start || t1 > end || slots <= 0)
		return -1;
	if (t0 < day_start)
		t0 = day_start;
	int first = (int)((t0 - day_start) / 1800), last = (int)((t1 - 1 - day_start) / 1800);
	int64_t given = 0;
	for (int k = first; k <= last; k++) {
		int64_t b = day_start + (int64_t)(k + 1) * 1800;
		int64_t upto = k == last ? inc_wh : share(inc_wh, b - t0, t1 - t0);
		out[k] += upto - given;
		given = upto;
	}
	*last_slot = last;
	return first;
}
