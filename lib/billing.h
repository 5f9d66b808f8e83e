/* billing — one subscriber's invoice lines for one period, as a pure
 * function of values: no clock, no I/O, no floating point, no global state
 * (the job turns every local date into its UTC instant before the call).
 * Same input, same output, byte for byte.
 *
 * What it computes (issue 4; notes/russian-billing-rules.md c.3):
 *
 * Segments. Each meter that served the subscriber in the period is one
 * segment: [start, end) of the period, clipped to its installation and
 * removal. Per register (r0 = 1.8.0 for a one-zone tariff, r1..r3 = T1..T3
 * for a multi-zone one: zone idx n is billed from register n):
 *  - start value: the previous invoice's end value for this meter (periods
 *    chain without a gap; an estimated end trues up by itself) unless the
 *    meter was installed (again) after that value's instant, else the
 *    installation reading when installed inside the period, else the value
 *    at the period's start;
 *  - end value: the removal reading when removed inside the period, else the
 *    value at the period's end;
 *  - the value at an instant: a reading exactly then; else linear
 *    interpolation between the nearest readings before and after (the
 *    installation and removal readings count as readings); else, at an end,
 *    the last reading before when it is at most params.end_gap_max_s old;
 *    else ESTIMATED (below). A start that cannot be found at all leaves the
 *    segment unbilled (exception NO_READINGS).
 *  - consumption = end - start. end < start on a measured start: a rollover
 *    at the meter's capacity when (capacity - start + end) is shorter than
 *    the way back (start - end) and at most params.rollover_wh_per_day_max
 *    per day of the segment (billed, noted),
 *    else the register went BACKWARDS: that register of that segment is
 *    billed 0 and reported. end < start on an ESTIMATED start (the previous
 *    invoice estimated too much) is a true-up: negative consumption, billed
 *    as a credit.
 *
 * Estimation (ПП 354 п. 59-60; the numbers are params, VERIFY): the average
 * daily consumption over the last up to params.average_periods_max
 * measured periods of history (at least params.average_periods_min of
 * them), times the days of the segment; for at most
 * params.estimated_periods_max consecutive periods (counted from history);
 * after that, or without enough measured history, the norm (lib/norms.h):
 * norm_wh_month x days of the segment / days of the month. A multi-zone
 * estimate is split over the zones by their shares in the same history
 * (all to the first zone when history has none). Rounding: half up, once,
 * on the total; the zone split by largest remainder (sums back exactly).
 *
 * Days between two meters (one dismantled, the next installed days later)
 * are estimated the same way for those days (ПП 354 п. 59 "б"; VERIFY).
 * Days of the subscriber's served span (has_served: from the registration;
 * for a closed account, until its last meter left) before the first meter
 * or after the last (dismantled, none since) are billed by the norm
 * (ПП 354 п. 42), norm_wh_month x those days / days of the month, half up,
 * once per run of days, on lines of their own ("no meter ..."); without
 * has_served such days are not billed. With no meter at all, the served
 * days (all the period without has_served) are billed the same way.
 *
 * Price versions. The period is cut at every version's start (a price
 * change, a band change, another tariff chosen). Each register's
 * consumption in a segment is split at those instants by the register
 * values there when readings exist on both sides within
 * params.split_gap_max_s of the cut (daily readings); otherwise pro rata by
 * days of the segment (largest remainder), and the line says so ("pro rata
 * by days").
 *
 * Bands. When the version in force on the last day of the period has
 * bands, the month's total consumption (every zone, every version, every
 * segment) is cut by that version's limits (3,900 / 6,000 kWh ...), each
 * prorated by days when the days billed (result.days) are fewer than the
 * month's: limit x days / days of the month, in Wh, half up (every line
 * then says "band limits pro rata: D of N days"); the
 * volume of each band is then given out to the lines in line order: each
 * line takes, of each band still open, its share proportional to what is
 * left of that band, by largest remainder. Each line's parts sum to its
 * wh and each band's parts sum to the band's volume, exactly. A line of a
 * version with fewer bands uses that version's top band price. A period
 * with any negative (true-up) line is not banded: everything in band 1.
 *
 * Lines: one per (version, zone, band), adjacent versions with the same
 * tariff, zone price and price date merged; ordered by zone, then date,
 * then band (the band allocation above runs in this order). amount = askue_money_of(wh,
 * price, ASKUE_ROUND_HALF_UP): rounded half up to the kopeck ONCE per
 * line; the charges are the exact sum of the line amounts.
 *
 * Exceptions are data (result.ex): no readings, estimated (average or
 * norm), went backwards, rollover, consumption above params.high_factor x
 * the usual, meter past its verification, no tariff. None of them is an
 * error: the function fails only on malformed input (ASKUE_ERR_INVALID,
 * saying which field) or a limit (ASKUE_ERR_LIMIT). When nothing at all
 * could be measured or estimated (no tariff, no start value, no norm),
 * the result has no lines: the subscriber is not billed, and ex says why.
 *
 * Versions: the first one given covers the period from its first day even
 * when its from is later (a first tariff chosen mid-month).
 *
 * Ownership: the caller owns every input; nothing is kept after the call.
 */
#ifndef ASKUE_BILLING_H
#define ASKUE_BILLING_H

#include <stdint.h>
#include "date.h"
#include "err.h"
#include "limits.h"
#include "money.h"

/* Meters that served one subscriber in one period (an exchange gives 2). */
#define ASKUE_BILL_SEGMENTS_MAX 4
/* Price versions inside one period (price changes, tariff choices). */
#define ASKUE_BILL_VERSIONS_MAX 8
/* Volume bands of a tariff (household ranges 1..3). */
#define ASKUE_BILL_BANDS_MAX 3
/* Lines of one invoice: every version x zone x band, the days without a
 * meter before the first and after the last cutting at most 2 more. */
#define ASKUE_BILL_LINES_MAX                                                           \
	((ASKUE_BILL_VERSIONS_MAX + 2) * ASKUE_ZONES_MAX * ASKUE_BILL_BANDS_MAX)
/* Determinants: every segment x register. */
#define ASKUE_BILL_DETERMINANTS_MAX (ASKUE_BILL_SEGMENTS_MAX * (ASKUE_ZONES_MAX + 1))
/* Exceptions of one subscriber's period. */
#define ASKUE_BILL_EXCEPTIONS_MAX 32
/* Previous periods the caller may pass as history. */
#define ASKUE_BILL_HISTORY_MAX 24
/* Registers: r0 = 1.8.0, r1..r3 = T1..T3. */
#define ASKUE_BILL_REGISTERS (ASKUE_ZONES_MAX + 1)
#define ASKUE_BILL_NOTE_BUF 96

/* A register reading: ts UTC seconds; wh[r] valid when bit r of mask is
 * set (mask 0x1 = 1.8.0 only; 0x7 = 1.8.0, T1, T2). */
struct askue_bill_reading {
	int64_t ts;
	int64_t wh[ASKUE_BILL_REGISTERS];
	unsigned mask;
};

/* One meter serving the subscriber. installed/removed are local dates,
 * *_ts their local midnights (UTC). The installation and removal readings
 * have ts = installed_ts / removed_ts. */
struct askue_bill_segment {
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	int zones;                /* the meter's zones, 1..3 */
	int64_t capacity_wh;      /* the register rolls over to 0 here (meter.capacity_wh) */
	int verification_overdue; /* the job says: past its verification in the period */
	struct askue_date installed;
	int64_t installed_ts;
	struct askue_bill_reading at_install; /* mask 0 when the ledger has none */
	int has_removed;
	struct askue_date removed;
	int64_t removed_ts;
	struct askue_bill_reading at_removal; /* mask 0 when none */
	/* The previous invoice's end values for this meter (invoice_reading
	 * end_ts, end_wh per zone_idx); previous_estimated: its end_how was
	 * "estimated" (then the start is a true-up start). */
	int has_previous;
	struct askue_bill_reading previous;
	int previous_estimated;
	/* The readings the job has for this meter, ascending by ts, no two with
	 * the same ts: at least the last before and the first after each
	 * boundary the core may need (period start and end, each version start
	 * inside the period); meter_day's first and last of every day of the
	 * period are the natural choice. The caller keeps the array. */
	const struct askue_bill_reading *readings;
	int n_readings;
};

/* One tariff version in force from `from` (a local date; from_ts its
 * midnight) until the next version's from. zones[i].idx: 0 = 'all'
 * (register 1.8.0), 1..3 = T1..T3. price[i][b]: zone i, band b (b = 0 when
 * the version has no bands); price_from[i]: the date of the tariff_price
 * (or band) row that price comes from, shown on the line. */
struct askue_bill_zone {
	int idx;
	char name[32];
};
struct askue_bill_version {
	struct askue_date from;
	int64_t from_ts;
	char tariff[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	int n_zones;
	struct askue_bill_zone zones[ASKUE_ZONES_MAX];
	int n_bands;                              /* 0 = no bands; else 2..3 */
	int64_t band_upto_wh[ASKUE_BILL_BANDS_MAX]; /* monthly upper limit of band b; the last band has none */
	struct askue_price price[ASKUE_ZONES_MAX][ASKUE_BILL_BANDS_MAX];
	struct askue_date price_from[ASKUE_ZONES_MAX];
};

enum askue_bill_how {
	ASKUE_BILL_MEASURED = 0, /* line: from readings */
	ASKUE_BILL_AVERAGE,      /* estimated by the average of earlier periods */
	ASKUE_BILL_NORM,         /* estimated by the norm */
};

/* One earlier period of this subscriber, as billed: wh per zone idx
 * (0 = 'all', 1..3 = T1..T3: the sums of its lines), days billed and how.
 * Oldest first; the last entry is the period just before this one. */
struct askue_bill_history {
	struct askue_period period;
	int32_t days;
	int64_t wh[ASKUE_BILL_REGISTERS];
	enum askue_bill_how how;
};

/* The rules that are numbers, VERIFY against ПП 354 (askue_bill_params_default). */
struct askue_bill_params {
	int average_periods_max;     /* 6: average over the last up to 6 measured periods */
	int average_periods_min;     /* 3: fewer measured periods -> the norm */
	int estimated_periods_max;   /* 3: consecutive periods by the average, then the norm */
	int high_factor;             /* 3: measured > 3 x usual is reported (0: never) */
	int64_t end_gap_max_s;       /* 86400: a last reading this close to the end is the end value */
	int64_t split_gap_max_s;     /* 172800: register values at a version cut need readings this close */
	int64_t rollover_wh_per_day_max; /* 1,000,000: a wrap adding more per day is "backwards" */
};
void askue_bill_params_default(struct askue_bill_params *p);
/* The same from the [billing] settings (average_periods, average_periods_min,
 * estimated_periods_max, high_factor, end_gap_h, split_gap_h,
 * rollover_kwh_per_day); a minimum above the maximum is lowered to it. */
struct askue_config;
void askue_bill_params_from_config(const struct askue_config *c, struct askue_bill_params *p);

struct askue_bill_input {
	struct askue_period period;
	struct askue_date first, end;  /* first day; first day of the next month */
	int64_t start_ts, end_ts;      /* their local midnights, UTC */
	const struct askue_bill_segment *segments; /* by installation, oldest first */
	int n_segments;
	const struct askue_bill_version *versions; /* ascending by from; versions[0].from <= first */
	int n_versions;
	const struct askue_bill_history *history;
	int n_history;
	int64_t norm_wh_month; /* the subscriber's norm per month (askue_norms_month_wh); -1: none */
	struct askue_bill_params params;
	/* The days the subscriber was one in the period, [served_first,
	 * served_end), inside [first, end): from the registration; for a
	 * closed account, until its last meter left. has_served 0 (a caller
	 * from before it existed): unknown, days before the first meter and
	 * after the last are not billed, a period with no meter is billed
	 * whole. */
	int has_served;
	struct askue_date served_first, served_end;
};

/* How a determinant's value was obtained (invoice_reading.start_how /
 * end_how, askue_bill_source_name). */
enum askue_bill_source {
	ASKUE_BILL_SRC_READING = 0, /* a reading at that instant */
	ASKUE_BILL_SRC_INTERPOLATED,
	ASKUE_BILL_SRC_LAST_READING, /* the last reading, at most end_gap_max_s before */
	ASKUE_BILL_SRC_INSTALLATION,
	ASKUE_BILL_SRC_REMOVAL,
	ASKUE_BILL_SRC_PREVIOUS,     /* the previous invoice's end value */
	ASKUE_BILL_SRC_ESTIMATED,
};

/* invoice_reading: per segment and register used. start_ts/end_ts: the
 * instants the values stand for: the boundary (installation, removal)
 * for a reading there or an interpolation, the reading's own ts for
 * last_reading, the previous invoice's end_ts for previous. */
struct askue_bill_determinant {
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	int zone_idx; /* = register */
	int64_t start_ts, start_wh;
	enum askue_bill_source start_how;
	int64_t end_ts, end_wh;
	enum askue_bill_source end_how;
	int64_t wh; /* billed: end - start, + capacity on a rollover, 0 when backwards */
	char note[ASKUE_BILL_NOTE_BUF]; /* "rollover at 99999.999 kWh", "went backwards", "" */
};

/* invoice_line. days_from..days_to: the local days the line covers,
 * inclusive. band: 0 without bands, else 1..n. note: "pro rata by days",
 * "estimated: average of 4 periods", "estimated: norm", "meter past its
 * verification", joined by "; ". */
struct askue_bill_line {
	char zone[32];
	int zone_idx;
	int64_t wh;
	struct askue_price price;
	struct askue_money amount;
	char tariff[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	struct askue_date price_from;
	struct askue_date days_from, days_to;
	int band;
	enum askue_bill_how how;
	char note[ASKUE_BILL_NOTE_BUF * 2];
};

enum askue_bill_exception_kind {
	ASKUE_BILL_EX_NO_READINGS,    /* a segment with no start value: not billed */
	ASKUE_BILL_EX_ESTIMATED_AVERAGE,
	ASKUE_BILL_EX_ESTIMATED_NORM,
	ASKUE_BILL_EX_NO_NORM,        /* estimation needed, no norm and no history: not billed */
	ASKUE_BILL_EX_BACKWARDS,      /* a register went backwards: that part billed 0 */
	ASKUE_BILL_EX_ROLLOVER,       /* informational: billed across the wrap */
	ASKUE_BILL_EX_HIGH,           /* measured > high_factor x usual */
	ASKUE_BILL_EX_VERIFICATION,   /* a meter past its verification */
	ASKUE_BILL_EX_NO_TARIFF,      /* no version in force: nothing billed */
	ASKUE_BILL_EX_NO_METER,       /* no segment at all: billed by the norm when known */
};
struct askue_bill_exception {
	enum askue_bill_exception_kind kind;
	char serial[ASKUE_SERIAL_BYTES_MAX + 1]; /* "" when not about one meter */
	int zone_idx;                            /* -1 when not about one register */
	char text[ASKUE_BILL_NOTE_BUF * 2];      /* for people: what and the numbers */
};

struct askue_bill_result {
	int n_lines;
	struct askue_bill_line lines[ASKUE_BILL_LINES_MAX];
	int n_determinants;
	struct askue_bill_determinant determinants[ASKUE_BILL_DETERMINANTS_MAX];
	int n_ex;
	struct askue_bill_exception ex[ASKUE_BILL_EXCEPTIONS_MAX];
	struct askue_money charges;  /* sum of line amounts */
	int64_t wh;                  /* sum of line wh */
	int32_t days;                /* days billed (union of segments, in the period) */
	enum askue_bill_how how;     /* the invoice: NORM if any line by norm, else AVERAGE if any, else MEASURED */
	int estimated;               /* how != MEASURED (invoice.estimated) */
	int64_t usual_wh_day_num, usual_wh_day_den; /* the usual daily average used (0/1: none) */
};

/* Compute one subscriber's period into out (large: allocate it, do not put
 * it on a small stack); on an error out is left zeroed. */
ASKUE_MUST enum askue_err askue_bill_compute(const struct askue_bill_input *in,
                                             struct askue_bill_result *out);

/* Names as stored in the ledger (invoice_line.how, invoice_reading.*_how,
 * the exceptions list): "measured" "average" "norm"; "reading"
 * "interpolated" "last_reading" "installation" "removal" "previous"
 * "estimated"; "no_readings" "estimated_average" ... */
const char *askue_bill_how_name(enum askue_bill_how h);
const char *askue_bill_source_name(enum askue_bill_source s);
const char *askue_bill_exception_name(enum askue_bill_exception_kind k);
/* Parse a stored how/source name back (for history and previous values). */
ASKUE_MUST enum askue_err askue_bill_how_parse(const char *s, enum askue_bill_how *out);
ASKUE_MUST enum askue_err askue_bill_source_parse(const char *s, enum askue_bill_source *out);

#endif
