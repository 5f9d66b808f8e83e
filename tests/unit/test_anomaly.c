/* Unit tests: lib/anomaly.c, the detectors of `askue job anomalies`, on
 * hand-made series whose answers are worked out in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "anomaly.h"

#define DAY0 20000 /* 2024-10-04, any day will do */
#define N 60

static struct askue_anomaly_params P;
static struct askue_anomaly_day D[N];

static int setup(void **state)
{
	(void)state;
	askue_anomaly_params_default(&P);
	return 0;
}

/* 60 days, one reading at each midnight, wh_a_day[d] consumed on day d
 * (the register at day d's midnight is 1,000,000 + the sum up to d). */
static void series(const int64_t *wh_a_day)
{
	int64_t reg = 1000000;
	for (int d = 0; d < N; d++) {
		reg += wh_a_day[d];
		int64_t ts = (int64_t)(DAY0 + d) * 86400;
		D[d] = (struct askue_anomaly_day){DAY0 + d, 1, ts, reg, ts, reg};
	}
}

static void flat(int64_t *w, int from, int to, int64_t wh)
{
	for (int d = from; d < to; d++)
		w[d] = wh;
}

#define TODAY (DAY0 + N - 1)

static void normal(void **state)
{
	(void)state;
	int64_t w[N];
	flat(w, 0, N, 10000);
	series(w);
	struct askue_anomaly_result r;
	assert_int_equal(askue_anomaly_days(&P, D, N, TODAY, &r), 0);
	/* day 0 has no day before it: days 1..31 are the baseline (31), days
	 * 32..59 the recent 28 */
	assert_true(r.drop_judged);
	assert_int_equal(r.baseline_n, 31);
	assert_int_equal(r.recent_n, 28);
	assert_int_equal(r.ratio_pct, 100);
	assert_int_equal(r.stuck_days, 0);
}

static void backwards(void **state)
{
	(void)state;
	int64_t w[N];
	flat(w, 0, N, 10000);
	w[57] = -5000; /* the register is set back 5 kWh on day 57 */
	series(w);
	struct askue_anomaly_result r;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_BACKWARDS]);
	assert_int_equal(r.backwards_day, DAY0 + 57);
	assert_int_equal(r.backwards_wh, 5000);
	assert_true(r.score[ASKUE_ANOMALY_BACKWARDS] > 4.99);
	/* seen on day 50: 50 + 7 = 57 <= 59, out of the 7 days it holds */
	flat(w, 0, N, 10000);
	w[52] = -5000;
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_BACKWARDS]);
	/* day 53 is the 7th day back from 59: still held */
	flat(w, 0, N, 10000);
	w[53] = -5000;
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_BACKWARDS]);
	/* a rollover is not backwards: 999,999 kWh -> 9 kWh is 10 kWh */
	flat(w, 0, N, 10000);
	series(w);
	D[58].first_wh = D[58].last_wh = 999999000;
	D[59].first_wh = D[59].last_wh = 9000;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_BACKWARDS]);
	/* within a day: the last reading below the first */
	series(w);
	D[59].first_ts -= 3600;
	D[59].first_wh += 100;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_BACKWARDS]);
	assert_int_equal(r.backwards_wh, 100);
}

static void jump(void **state)
{
	(void)state;
	int64_t w[N];
	flat(w, 0, N, 10000);
	series(w);
	/* day 59: a first reading at 01:00 20 kWh above midnight: 20 kW */
	D[59].first_ts = D[58].last_ts + 3600;
	D[59].first_wh = D[58].last_wh + 20000;
	D[59].last_wh = D[59].first_wh + 1000;
	D[59].last_ts = D[59].first_ts + 7200;
	struct askue_anomaly_result r;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_JUMP]);
	assert_int_equal(r.jump_w, 20000);
	assert_int_equal(r.jump_wh, 20000);
	assert_int_equal(r.jump_s, 3600);
	assert_int_equal(r.jump_day, DAY0 + 59);
	/* 15 kWh in the hour is the limit itself: not beyond it */
	D[59].first_wh = D[58].last_wh + 15000;
	D[59].last_wh = D[59].first_wh + 1000;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_JUMP]);
	/* 1 kWh in 2 minutes is 30 kW, but closer than jump_min_s (300 s) */
	D[59].first_ts = D[58].last_ts + 120;
	D[59].first_wh = D[58].last_wh + 1000;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_JUMP]);
}

static void stuck(void **state)
{
	(void)state;
	int64_t w[N];
	flat(w, 0, N, 10000);
	flat(w, 53, N, 0); /* days 53..59 without growth: 7 days */
	series(w);
	struct askue_anomaly_result r;
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_STUCK]);
	assert_int_equal(r.stuck_days, 7);
	assert_int_equal(r.stuck_wh, 1000000 + 53 * 10000);
	/* 6 days: not yet */
	w[53] = 10000;
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_STUCK]);
	assert_int_equal(r.stuck_days, 6);
	/* 7 flat days, but the meter has not reported today (no row for 59) */
	w[53] = 0;
	series(w);
	askue_anomaly_days(&P, D, N - 1, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_STUCK]);
	/* day 56 missing: day 57 has no day before it to compare with, so
	 * only 58 and 59 count */
	series(w);
	memmove(&D[56], &D[57], 3 * sizeof D[0]);
	askue_anomaly_days(&P, D, N - 1, TODAY, &r);
	assert_int_equal(r.stuck_days, 2);
}

static void drop(void **state)
{
	(void)state;
	int64_t w[N];
	struct askue_anomaly_result r;
	/* baseline 10 kWh, the recent 28 days 5 kWh: 50 % <= 60 % */
	flat(w, 0, 32, 10000);
	flat(w, 32, N, 5000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_DROP]);
	assert_false(r.found[ASKUE_ANOMALY_AWAY]);
	assert_int_equal(r.baseline_wh, 10000);
	assert_int_equal(r.recent_wh, 5000);
	assert_int_equal(r.ratio_pct, 50);
	assert_true(r.score[ASKUE_ANOMALY_DROP] > 0.49 && r.score[ASKUE_ANOMALY_DROP] < 0.51);
	/* 7 kWh: 70 %, not a drop */
	flat(w, 32, N, 7000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	assert_int_equal(r.ratio_pct, 70);
	/* 1 kWh (10 %, below away_pct 25 %): away, not a thief */
	flat(w, 32, N, 1000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	assert_true(r.found[ASKUE_ANOMALY_AWAY]);
	/* away 10 days of the 28, the other 18 at 5 kWh: a drop (median of
	 * the 18 days not away) */
	flat(w, 32, 42, 500);
	flat(w, 42, N, 5000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_true(r.found[ASKUE_ANOMALY_DROP]);
	assert_int_equal(r.recent_wh, 5000);
	/* away 15 days of 28, the rest normal: away, no drop */
	flat(w, 32, 47, 500);
	flat(w, 47, N, 10000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	assert_true(r.found[ASKUE_ANOMALY_AWAY]);
	/* too little history: 40 days, baseline 11 < 21 */
	flat(w, 0, 32, 10000);
	flat(w, 32, N, 5000);
	series(w);
	askue_anomaly_days(&P, D + 20, N - 20, TODAY, &r);
	assert_false(r.drop_judged);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	/* a tiny consumer (baseline 500 Wh < 1 kWh a day) is not judged */
	flat(w, 0, 32, 500);
	flat(w, 32, N, 200);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
}

/* Days missing (the meter silent) leave their consumption, and the day
 * after each gap's, unknown; rows after today are not looked at. */
static void gaps(void **state)
{
	(void)state;
	int64_t w[N];
	struct askue_anomaly_result r;
	flat(w, 0, 32, 10000);
	flat(w, 32, N, 5000);
	series(w);
	/* drop days 40..49 (10 rows): 50..59 stay, 50 without a day before it */
	memmove(&D[40], &D[50], 10 * sizeof D[0]);
	askue_anomaly_days(&P, D, N - 10, TODAY, &r);
	/* recent 32..59: known 32..39 and 51..59 = 17 >= 28 / 2 */
	assert_int_equal(r.recent_n, 17);
	assert_true(r.found[ASKUE_ANOMALY_DROP]);
	/* 20 days missing: 32..39 known only (8 < 14): not judged */
	series(w);
	askue_anomaly_days(&P, D, 40, TODAY, &r);
	assert_int_equal(r.recent_n, 8);
	assert_false(r.drop_judged);
	/* judged as of day 52, the rows after it are ignored: recent 25..52
	 * (7 days at 10 kWh, 21 at 5), baseline 1..24 */
	series(w);
	askue_anomaly_days(&P, D, N, DAY0 + 52, &r);
	assert_int_equal(r.recent_n, 28);
	assert_int_equal(r.baseline_n, 24);
	assert_int_equal(r.ratio_pct, 50);
	/* as of day 39 the baseline is 1..11: too short to judge */
	askue_anomaly_days(&P, D, N, DAY0 + 39, &r);
	assert_false(r.drop_judged);
}

static void peers(void **state)
{
	(void)state;
	int64_t w[N];
	struct askue_anomaly_result r;
	flat(w, 0, 32, 10000);
	flat(w, 32, N, 5000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	/* everyone fell to 80 %: 50 / 80 = 62 % > 60 %, no longer a drop */
	askue_anomaly_drop_peer(&P, 80, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	assert_int_equal(r.peer_pct, 80);
	/* everyone rose to 120 % and this one stayed at 70 %: 58 % */
	flat(w, 32, N, 7000);
	series(w);
	askue_anomaly_days(&P, D, N, TODAY, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
	askue_anomaly_drop_peer(&P, 120, &r);
	assert_true(r.found[ASKUE_ANOMALY_DROP]);
	/* no peers: the judgement stands */
	askue_anomaly_days(&P, D, N, TODAY, &r);
	askue_anomaly_drop_peer(&P, 0, &r);
	assert_false(r.found[ASKUE_ANOMALY_DROP]);
}

static void track(void **state)
{
	(void)state;
	struct askue_anomaly_track t = {0};
	struct askue_anomaly_result r;
	int64_t t0 = (int64_t)DAY0 * 86400;
	/* half-hourly: 500 Wh, 500, then 10,000 Wh in half an hour (20 kW),
	 * then 3,000 Wh back */
	askue_anomaly_track_add(&t, &P, t0, 100000, 1, 50);
	askue_anomaly_track_add(&t, &P, t0 + 1800, 100500, 1, 50);
	askue_anomaly_track_add(&t, &P, t0 + 3600, 101000, 1, 120);
	askue_anomaly_track_add(&t, &P, t0 + 5400, 111000, 1, 180);
	askue_anomaly_track_add(&t, &P, t0 + 7200, 108000, 1, 200);
	askue_anomaly_track_add(&t, &P, t0 + 7200, 1, 0, 0); /* not later: ignored */
	assert_int_equal(t.readings, 5);
	memset(&r, 0, sizeof r);
	assert_int_equal(askue_anomaly_track_judge(&t, &P, DAY0, &r), 3);
	assert_true(r.found[ASKUE_ANOMALY_JUMP]);
	assert_int_equal(r.jump_w, 20000);
	assert_true(r.found[ASKUE_ANOMALY_BACKWARDS]);
	assert_int_equal(r.backwards_wh, 3000);
	/* export 50 -> 200 Wh: 150 >= 100 */
	assert_true(r.found[ASKUE_ANOMALY_REVERSE]);
	assert_int_equal(r.reverse_wh, 150);
	/* export 50 -> 140: below reverse_wh_min */
	struct askue_anomaly_track u = {0};
	askue_anomaly_track_add(&u, &P, t0, 100000, 1, 50);
	askue_anomaly_track_add(&u, &P, t0 + 3600, 100000, 1, 140);
	askue_anomaly_track_add(&u, &P, t0 + 4 * 3600, 100000, 1, 140);
	memset(&r, 0, sizeof r);
	assert_int_equal(askue_anomaly_track_judge(&u, &P, DAY0, &r), 0);
	assert_int_equal(r.flat_s, 4 * 3600);
	/* flat 4 h: stuck when stuck_hours is 4, not when it is 5 */
	struct askue_anomaly_params q = P;
	q.stuck_hours = 4;
	assert_int_equal(askue_anomaly_track_judge(&u, &q, DAY0, &r), 1);
	assert_true(r.found[ASKUE_ANOMALY_STUCK]);
	memset(&r, 0, sizeof r);
	q.stuck_hours = 5;
	assert_int_equal(askue_anomaly_track_judge(&u, &q, DAY0, &r), 0);
}

static void kinds(void **state)
{
	(void)state;
	assert_string_equal(askue_anomaly_kind_name(ASKUE_ANOMALY_DROP), "drop");
	assert_string_equal(askue_anomaly_alert_kind(ASKUE_ANOMALY_STUCK), "anomaly_stuck");
	assert_null(askue_anomaly_alert_kind(ASKUE_ANOMALY_AWAY));
	assert_int_equal(askue_anomaly_kind_of("jump"), ASKUE_ANOMALY_JUMP);
	assert_int_equal(askue_anomaly_kind_of("anomaly_reverse"), ASKUE_ANOMALY_REVERSE);
	assert_int_equal(askue_anomaly_kind_of("theft"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normal), cmocka_unit_test(backwards), cmocka_unit_test(jump),
		cmocka_unit_test(stuck),  cmocka_unit_test(drop),      cmocka_unit_test(gaps),
		cmocka_unit_test(peers),
		cmocka_unit_test(track),  cmocka_unit_test(kinds),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
