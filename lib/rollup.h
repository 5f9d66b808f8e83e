/* rollup — pure arithmetic on register readings: the value of a meter's
 * register at an instant from the readings around it, the step from one
 * value to the next across a rollover, and a meter's day (first and last
 * reading, count) folded reading by reading. No I/O: the rollup job
 * (jobs/rollup.c) and billing fetch the readings and call these.
 *
 * Registers: index 0 is 1.8.0 (the total, InfluxDB ai_wh), 1..3 are the
 * tariff zones T1..T3 (t1_wh..t3_wh); each value an integer Wh below the
 * meter's capacity (a six-digit kWh register: 1,000,000 kWh = 10^9 Wh).
 *
 * Rollover rule. A register counts up to capacity - 1 and then starts at
 * 0 again. When a later value is below an earlier one, either the register
 * rolled over or something is wrong (a replaced meter keyed in as the old
 * one, a misread manual reading, a reset). askue assumes ONE rollover only
 * when the consumption it implies, capacity - before + after, is less than
 * half the capacity; otherwise the register "went backwards" and nothing is
 * computed from the pair (billing reports it, it bills nothing on it). With
 * the usual 10^9 Wh register, 999,990 kWh -> 10 kWh is a rollover (20 kWh
 * consumed), 600 kWh -> 400 kWh went backwards (it would imply 999,800
 * kWh). No household uses half a register's range between two readings.
 */
#ifndef ASKUE_ROLLUP_H
#define ASKUE_ROLLUP_H

#include <stdint.h>

#define ASKUE_ROLLUP_REGS 4 /* 1.8.0, T1, T2, T3 */

/* One register's reading: has = 0 when there is none. */
struct askue_rollup_sample {
	int has;
	int64_t ts; /* UTC s */
	int64_t wh;
};

/* One reading of all registers: bit i of mask set when register i is in it. */
struct askue_rollup_regs {
	int64_t ts; /* UTC s */
	unsigned mask;
	int64_t wh[ASKUE_ROLLUP_REGS];
};

enum askue_rollup_step {
	ASKUE_STEP_FORWARD,   /* after >= before: consumed after - before */
	ASKUE_STEP_ROLLOVER,  /* one rollover at capacity (see above) */
	ASKUE_STEP_BACKWARDS, /* after < before and no plausible rollover */
};

/* The consumption from before_wh to after_wh on a register of capacity_wh
 * (> 0; both values in [0, capacity)). *wh_out gets it unless BACKWARDS. */
enum askue_rollup_step askue_rollup_step(int64_t before_wh, int64_t after_wh,
                                         int64_t capacity_wh, int64_t *wh_out);

enum askue_rollup_at {
	ASKUE_AT_EXACT,        /* a reading is at t: its value */
	ASKUE_AT_INTERPOLATED, /* between the readings before and after t */
	ASKUE_AT_NONE_BEFORE,  /* no reading before t (only after) */
	ASKUE_AT_NONE_AFTER,   /* no reading after t (only before) */
	ASKUE_AT_NONE,         /* no reading at all */
	ASKUE_AT_BACKWARDS,    /* the register went backwards between them */
};

/* The value of one register at instant t from the nearest reading at or
 * before t (before.ts <= t) and the nearest at or after t (after.ts >= t),
 * either possibly missing (has 0). A reading exactly at t gives its value
 * (EXACT, even when the other side is missing). Otherwise, with both:
 *     v = before + round_half_up(step * (t - before.ts) / (after.ts - before.ts))
 * in integer Wh, where step is askue_rollup_step (wrapped back below the
 * capacity after a rollover). *wh_out is written only for EXACT and
 * INTERPOLATED. */
enum askue_rollup_at askue_rollup_value_at(struct askue_rollup_sample before,
                                           struct askue_rollup_sample after, int64_t t,
                                           int64_t capacity_wh, int64_t *wh_out);

/* Register i of a whole reading as a sample (has 0 when r is NULL or
 * lacks it). */
struct askue_rollup_sample askue_rollup_sample_of(const struct askue_rollup_regs *r, int i);

/* A meter's local day as the rollup keeps it (ledger table meter_day). */
struct askue_rollup_day {
	int64_t readings;
	struct askue_rollup_regs first, last;
};

/* Fold reading r into day d (d->readings 0 = empty). The earliest reading
 * is first, the newest last; two readings with the same ts (cannot come
 * from InfluxDB, where a point is series + time) keep the later folded. */
void askue_rollup_fold(struct askue_rollup_day *d, const struct askue_rollup_regs *r);

/* The consumption of a day, per register, from the register values at its
 * start and end (chosen by the caller: see docs/rollup.md). Registers in
 * both start and end are computed; a register that went backwards is left
 * out of out->mask and set in backwards_mask. */
struct askue_rollup_consumption {
	unsigned mask;
	unsigned backwards_mask;
	int64_t wh[ASKUE_ROLLUP_REGS];
};
struct askue_rollup_consumption askue_rollup_consumed(const struct askue_rollup_regs *start,
                                                      const struct askue_rollup_regs *end,
                                                      int64_t capacity_wh);

/* The consumption of local day [start, end) for the `daily` measurement
 * (docs/rollup.md): the register value at each midnight is the newest
 * reading at or before it — at the start, the day's first reading when it
 * is at exactly start, else prev (the last reading before the day, NULL
 * when unknown); at the end, at_end (a reading at exactly end, NULL when
 * none), else the day's last reading. day may be empty (readings 0) when
 * at_end is given. With no start value known, the day's own first reading
 * (or at_end) stands in and the result is estimated. A register that went
 * backwards is left out and makes it estimated too. */
struct askue_rollup_daily {
	struct askue_rollup_consumption c;
	int estimated;
};
struct askue_rollup_daily askue_rollup_daily(const struct askue_rollup_day *day,
                                             const struct askue_rollup_regs *prev,
                                             const struct askue_rollup_regs *at_end,
                                             int64_t start, int64_t capacity_wh);

#endif
