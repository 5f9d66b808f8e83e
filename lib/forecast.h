/* forecast — the load forecast of a group of meters (a substation, a
 * district, the whole utility), as pure functions: no I/O, no ledger, no
 * InfluxDB. Floating point is fine here: this is energy for analysts,
 * never money.
 *
 * The method is double seasonal exponential smoothing (Taylor 2003,
 * additive, without trend), with an AR(1) term on the one-step error:
 *   e_t = x_t - (l + d[t mod 48] + w[t mod 336])
 *   l   = alpha (x_t - d - w) + (1 - alpha) l
 *   d   = delta (x_t - l - w) + (1 - delta) d      (day seasonality)
 *   w   = omega (x_t - l - d) + (1 - omega) w      (week seasonality)
 *   forecast k ahead: l + d[(t+k) mod 48] + w[(t+k) mod 336] + phi^k e_t
 * The parameters are fitted by a small grid search (600 points) on the
 * squared errors of the day-ahead forecasts the model would have made from
 * each midnight of the history (the first week initialises the state and
 * is not scored). Scoring the one-step errors instead (Taylor's choice)
 * picks a tiny alpha and leans on the AR term, which is gone by the next
 * day: on the team's data that doubled the day-ahead error (bench/forecast,
 * bench/RESULTS.md). The prediction interval of horizon day h is the 5th..95th
 * percentile of the errors the fitted model made forecasting h days ahead
 * from every midnight of the history (empirical, no normality assumed).
 *
 * The series is half-hourly energy in Wh, 48 slots a local day, starting at
 * a local midnight; a missing half-hour is NaN (no update there; the
 * forecast stands in). The peak of a day is its half-hour of highest
 * forecast energy.
 *
 * askue_load_spread splits a register increment over the half-hours its
 * interval covers (the rollup's `load` measurement, docs/rollup.md).
 */
#ifndef ASKUE_FORECAST_H
#define ASKUE_FORECAST_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define ASKUE_FORECAST_SLOTS_DAY 48
#define ASKUE_FORECAST_SLOTS_WEEK (7 * ASKUE_FORECAST_SLOTS_DAY)
/* The shortest history a group is forecast from: one week initialises the
 * week seasonality, one more is needed to score the parameters. */
#define ASKUE_FORECAST_MIN_DAYS 14
/* The longest history fitted (a year): bounds the memory and the grid. */
#define ASKUE_FORECAST_HISTORY_DAYS_MAX 366
#define ASKUE_FORECAST_HORIZON_DAYS_MAX 14

struct askue_forecast_params {
	double alpha, delta, omega, phi;
};

/* A fitted model: the parameters, the state at the end of the history and
 * the errors per horizon day that give the intervals. */
struct askue_forecast_model {
	struct askue_forecast_params p;
	double level;
	double day[ASKUE_FORECAST_SLOTS_DAY];
	double week[ASKUE_FORECAST_SLOTS_WEEK];
	double last_err; /* e_t at the last slot with a value */
	size_t slots;    /* history length (slots); the next slot is slots */
	size_t since_value; /* slots from the last value to the end */
	double rmse_wh;  /* one-step, over the history after its first week */
	double lo_err[ASKUE_FORECAST_HORIZON_DAYS_MAX], hi_err[ASKUE_FORECAST_HORIZON_DAYS_MAX];
	int horizon_days; /* intervals known for days 1..horizon_days */
};

/* One forecast day: energy per half-hour, its interval, and the peak. */
struct askue_forecast_day {
	double wh[ASKUE_FORECAST_SLOTS_DAY];
	double lo_wh[ASKUE_FORECAST_SLOTS_DAY], hi_wh[ASKUE_FORECAST_SLOTS_DAY];
	int peak_slot;  /* 0..47: the half-hour starting at midnight + slot * 30 min */
	double peak_wh; /* its energy; the mean power over it is 2 * peak_wh W */
};

/* Fit on x[0..n): n a whole number of days, at least
 * ASKUE_FORECAST_MIN_DAYS and at most ASKUE_FORECAST_HISTORY_DAYS_MAX of
 * them, and at least half of every week present (not NaN); otherwise
 * ASKUE_ERR_RANGE with what is missing. horizon_days (1..14) is how far
 * the intervals are measured. */
ASKUE_MUST enum askue_err askue_forecast_fit(const double *x, size_t n, int horizon_days,
                                             struct askue_forecast_model *out);

/* Run the model with fixed parameters over x (as _fit, without the search):
 * for the benchmarks and tests. */
ASKUE_MUST enum askue_err askue_forecast_fit_with(const double *x, size_t n, int horizon_days,
                                                  struct askue_forecast_params p,
                                                  struct askue_forecast_model *out);

/* The next days (1..m->horizon_days) after the history: out[0] is the day
 * after it. A forecast below zero is 0 (a load is never negative). */
void askue_forecast_predict(const struct askue_forecast_model *m, int days,
                            struct askue_forecast_day *out);

/* The half-hour of highest energy of wh[0..48): the first when tied. */
int askue_forecast_peak_slot(const double *wh);

/* Split inc_wh, the register increment over (t0, t1], over the half-hours
 * of [day_start, day_start + slots * 1800) it covers, in proportion to
 * time, as integers summing to inc_wh exactly (cumulative rounding).
 * The part of the interval before day_start is moved to day_start (the
 * rollup's rule: a day's increments, spread, sum to its `daily` wh). out
 * is added to. Returns the first slot touched, or -1 when none (t1 <= t0
 * or t1 outside the day). *last_slot gets the last slot touched. */
int askue_load_spread(int64_t t0, int64_t t1, int64_t inc_wh, int64_t day_start, int slots,
                      int64_t *out, int *last_slot);

#endif
