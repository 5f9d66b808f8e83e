/* Unit tests: lib/forecast.c — the double seasonal model on synthetic
 * series whose answer is known, its refusals, the peak, and the split of a
 * register increment over half-hours (expected values by hand in the
 * comments). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "forecast.h"

#define SD ASKUE_FORECAST_SLOTS_DAY
#define SW ASKUE_FORECAST_SLOTS_WEEK

/* A load with a daily shape (peak at slot 37, 18:30) and weekends lower:
 * periodic with a week, so its future is its past. */
static double seasonal(size_t t)
{
	size_t k = t % SD, dow = (t / SD) % 7;
	double v = 1000 + 300 * sin(2 * M_PI * (double)k / SD) + (k == 37 ? 900 : 0);
	return v - (dow >= 5 ? 150 : 0) + (dow == 2 ? 40 : 0);
}

static double *series(size_t days, double (*f)(size_t))
{
	double *x = malloc(days * SD * sizeof *x);
	assert_non_null(x);
	for (size_t t = 0; t < days * SD; t++)
		x[t] = f(t);
	return x;
}

static void pure_seasonal_exact(void **state)
{
	(void)state;
	double *x = series(21, seasonal);
	struct askue_forecast_model m;
	assert_int_equal(askue_forecast_fit(x, 21 * SD, 7, &m), ASKUE_OK);
	struct askue_forecast_day d[7];
	askue_forecast_predict(&m, 7, d);
	for (int h = 0; h < 7; h++) {
		for (int k = 0; k < SD; k++) {
			double want = seasonal((size_t)(21 + h) * SD + (size_t)k);
			assert_true(fabs(d[h].wh[k] - want) < 1e-6);
			/* no error anywhere in the history: an interval of width 0 */
			assert_true(fabs(d[h].hi_wh[k] - d[h].lo_wh[k]) < 1e-6);
		}
		/* 1000 + 300 sin(2pi 37/48) + 900 = 1602.6 > 1300 (slot 12) */
		assert_int_equal(d[h].peak_slot, 37);
	}
	/* day 21 is a Sunday-like day 0 of the week again: dow 0, no weekend */
	assert_true(fabs(d[0].peak_wh - seasonal(37)) < 1e-6);
	assert_true(m.rmse_wh < 1e-6);
	free(x);
}

/* The seasonal load, plus 500 Wh every half-hour from day 21 on. */
static double shifted(size_t t)
{
	return seasonal(t) + (t >= 21 * SD ? 500 : 0);
}

static void level_shift_followed(void **state)
{
	(void)state;
	double *x = series(35, shifted);
	struct askue_forecast_model m;
	assert_int_equal(askue_forecast_fit(x, 35 * SD, 7, &m), ASKUE_OK);
	struct askue_forecast_day d[7];
	askue_forecast_predict(&m, 7, d);
	/* two weeks after the shift the forecast is on the new level: each
	 * day's energy within 1 % of the truth (48 x ~1500 Wh = ~72 kWh);
	 * the old level would be 48 x 500 = 24 kWh (33 %) too low */
	for (int h = 0; h < 7; h++) {
		double got = 0, want = 0;
		for (int k = 0; k < SD; k++) {
			got += d[h].wh[k];
			want += shifted((size_t)(35 + h) * SD + (size_t)k);
		}
		assert_true(fabs(got - want) < 0.01 * want);
	}
	free(x);
}

static double noisy(size_t t)
{
	/* a fixed pseudo-random noise of +-100 Wh (an LCG on t) */
	uint32_t r = (uint32_t)t * 1103515245u + 12345u;
	return seasonal(t) + (double)(r >> 16 & 0x7fff) / 32767.0 * 200 - 100;
}

static void intervals_hold_the_forecast(void **state)
{
	(void)state;
	double *x = series(42, noisy);
	struct askue_forecast_model m;
	assert_int_equal(askue_forecast_fit(x, 42 * SD, 7, &m), ASKUE_OK);
	struct askue_forecast_day d[7];
	askue_forecast_predict(&m, 7, d);
	for (int h = 0; h < 7; h++)
		for (int k = 0; k < SD; k++) {
			assert_true(d[h].lo_wh[k] <= d[h].wh[k]);
			assert_true(d[h].wh[k] <= d[h].hi_wh[k]);
			/* the noise is +-100: a 90 % interval is some 100..400 Wh wide */
			assert_true(d[h].hi_wh[k] - d[h].lo_wh[k] > 100);
			assert_true(d[h].hi_wh[k] - d[h].lo_wh[k] < 400);
		}
	free(x);
}

static void missing_values_tolerated(void **state)
{
	(void)state;
	double *x = series(21, seasonal);
	for (size_t t = 9 * SD; t < 10 * SD; t++)
		x[t] = NAN; /* a whole day lost */
	x[20 * SD + 5] = NAN;
	struct askue_forecast_model m;
	assert_int_equal(askue_forecast_fit(x, 21 * SD, 7, &m), ASKUE_OK);
	struct askue_forecast_day d[1];
	askue_forecast_predict(&m, 1, d);
	for (int k = 0; k < SD; k++)
		assert_true(fabs(d[0].wh[k] - seasonal(21 * SD + (size_t)k)) < 1e-6);
	free(x);
}

static void too_little_history_refused(void **state)
{
	(void)state;
	double *x = series(21, seasonal);
	struct askue_forecast_model m;
	assert_int_equal(askue_forecast_fit(x, 13 * SD, 7, &m), ASKUE_ERR_RANGE);
	assert_int_equal(askue_forecast_fit(x, 14 * SD + 1, 7, &m), ASKUE_ERR_INVALID);
	assert_int_equal(askue_forecast_fit(x, 14 * SD, 15, &m), ASKUE_ERR_RANGE);
	/* a week with fewer than half its half-hours: refused */
	for (size_t t = 7 * SD; t < 7 * SD + SW / 2 + 1; t++)
		x[t] = NAN;
	assert_int_equal(askue_forecast_fit(x, 21 * SD, 7, &m), ASKUE_ERR_RANGE);
	free(x);
}

static void peak_first_of_ties(void **state)
{
	(void)state;
	double wh[SD] = {0};
	wh[10] = 5;
	wh[40] = 5;
	assert_int_equal(askue_forecast_peak_slot(wh), 10);
	wh[47] = 6;
	assert_int_equal(askue_forecast_peak_slot(wh), 47);
}

static void spread_over_half_hours(void **state)
{
	(void)state;
	int64_t out[SD] = {0};
	int last = -1;
	/* 100 Wh over (00:00, 00:30]: all in slot 0 */
	assert_int_equal(askue_load_spread(0, 1800, 100, 0, SD, out, &last), 0);
	assert_int_equal(out[0], 100);
	assert_int_equal(last, 0);
	/* 100 Wh over (00:15, 01:15]: a quarter, half, quarter = 25, 50, 25 */
	out[0] = 0;
	assert_int_equal(askue_load_spread(900, 4500, 100, 0, SD, out, &last), 0);
	assert_int_equal(out[0], 25);
	assert_int_equal(out[1], 50);
	assert_int_equal(out[2], 25);
	assert_int_equal(last, 2);
	/* 10 Wh over three half-hours: 3.33 -> 3, 6.67 -> 7 (cumulative), 10:
	 * 3, 4, 3, summing to 10 */
	int64_t o2[SD] = {0};
	assert_int_equal(askue_load_spread(3600, 9000, 10, 0, SD, o2, &last), 2);
	assert_int_equal(o2[2], 3);
	assert_int_equal(o2[3], 4);
	assert_int_equal(o2[4], 3);
	/* from the day before (t0 < day start): moved to the day's start;
	 * 60 Wh over (day start, 01:00] = 30 + 30 */
	int64_t o3[SD] = {0};
	assert_int_equal(askue_load_spread(-7200, 3600, 60, 0, SD, o3, &last), 0);
	assert_int_equal(o3[0], 30);
	assert_int_equal(o3[1], 30);
	/* a reading at the day's start closes the day before: nothing here */
	assert_int_equal(askue_load_spread(-1800, 0, 60, 0, SD, o3, &last), -1);
	/* the reading at the next midnight is the day's last */
	assert_int_equal(askue_load_spread(SD * 1800 - 1800, SD * 1800, 7, 0, SD, o3, &last), 47);
	assert_int_equal(o3[47], 7);
	assert_int_equal(askue_load_spread(SD * 1800, SD * 1800 + 1, 7, 0, SD, o3, &last), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pure_seasonal_exact),
		cmocka_unit_test(level_shift_followed),
		cmocka_unit_test(intervals_hold_the_forecast),
		cmocka_unit_test(missing_values_tolerated),
		cmocka_unit_test(too_little_history_refused),
		cmocka_unit_test(peak_first_of_ties),
		cmocka_unit_test(spread_over_half_hours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
