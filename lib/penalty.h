/* penalty — the late-payment penalty (пени) of one period's unpaid charge,
 * computed exactly, day by day, as a pure function of values.
 *
 * Households (ЖК РФ ст. 155 ч. 14): nothing for days 1..30 after the due
 * date, 1/300 of the rate per day for days 31..90, 1/130 from day 91.
 * Others (ФЗ-35 ст. 37 п. 2): 1/130 from day 1. Day n is the n-th day after
 * the due date; a due date on a non-working day moves the start of the
 * clock to the next working day (ГК РФ ст. 193), the invoice keeps its date.
 *
 * A payment counts on its own day and reduces the base from the next day;
 * the days to the end are counted up to and including the day of payment,
 * or the calculation day for what is still unpaid. The rate of a part of
 * the debt is the rate in force on the day that part was paid (for the
 * unpaid rest, on the calculation day): the key rate from the rate table,
 * capped by any override in force that day (ПП 474 / ПП 329: the lower of
 * the key rate and 9.5 % until 01.01.2027). No penalty accrues on a
 * moratorium day (ПП 424: 06.04.2020 - 31.12.2020).
 *
 * Rounding (written down once, here): every part is kept as an exact
 * fraction of a kopeck with the common denominator 39,000,000
 * (= 10,000 for a rate in hundredths of a percent x 3,900 for 1/300 and
 * 1/130); the sum for the period is rounded once, half up, to the kopeck.
 * Day-by-day lines show their own amounts rounded the same way for reading;
 * the total is the rounded exact sum, not the sum of the rounded lines.
 */
#ifndef ASKUE_PENALTY_H
#define ASKUE_PENALTY_H

#include <stdint.h>
#include "date.h"
#include "err.h"
#include "money.h"

/* A rate in hundredths of a percent: 9.5 % = 950. */
struct askue_rate_change {
	struct askue_date from;
	int32_t rate_bp;
};

/* A cap on the rate: from..until inclusive, the lower of the key rate and
 * cap_bp applies. */
struct askue_rate_cap {
	struct askue_date from, until;
	int32_t cap_bp;
};

struct askue_date_span {
	struct askue_date from, until; /* inclusive */
};

struct askue_penalty_rules {
	const struct askue_rate_change *rates; /* ascending by from */
	int n_rates;
	const struct askue_rate_cap *caps;
	int n_caps;
	const struct askue_date_span *moratoria;
	int n_moratoria;
	/* Non-working days besides Saturdays and Sundays, and working Saturdays
	 * or Sundays (transfers), both ascending. */
	const struct askue_date *holidays;
	int n_holidays;
	const struct askue_date *workdays;
	int n_workdays;
};

enum askue_penalty_category { ASKUE_PENALTY_HOUSEHOLD, ASKUE_PENALTY_OTHER };

struct askue_payment_part {
	struct askue_date date;
	struct askue_money amount; /* > 0, the part of this period's debt paid */
};

/* One line of the day-by-day calculation: a run of days with the same base,
 * fraction and rate. */
struct askue_penalty_line {
	struct askue_date from, until; /* inclusive */
	int32_t day_from, day_until;   /* day numbers after the due date */
	struct askue_money base;
	int divisor;                   /* 300 or 130; 0 = no penalty (grace, moratorium) */
	int32_t rate_bp;
	struct askue_date rate_date;   /* the day whose rate applies */
	struct askue_money amount;     /* rounded, for reading */
	const char *note;              /* "grace", "moratorium", NULL */
};

#define ASKUE_PENALTY_LINES_MAX 512

struct askue_penalty_result {
	struct askue_date clock_start; /* day 1 */
	struct askue_money total;      /* rounded once */
	__int128 exact_num;            /* total x 39,000,000 */
	int n_lines;
	struct askue_penalty_line lines[ASKUE_PENALTY_LINES_MAX];
};

#define ASKUE_PENALTY_DENOMINATOR 39000000

/* 1 when d is a working day under the rules' calendar. */
int askue_penalty_working_day(const struct askue_penalty_rules *r, struct askue_date d);
/* The rate that applies for a debt part settled (or calculated) on d;
 * ASKUE_ERR_NOT_FOUND when the table does not reach back to d. */
ASKUE_MUST enum askue_err askue_penalty_rate(const struct askue_penalty_rules *r,
                                             struct askue_date d, int32_t *rate_bp);

/* The penalty on `base` due on `due`, with payments (ascending by date,
 * their sum at most base) and the unpaid rest counted up to `calc_date`
 * inclusive. Payments after calc_date are ignored. */
ASKUE_MUST enum askue_err askue_penalty_compute(const struct askue_penalty_rules *r,
                                                enum askue_penalty_category category,
                                                struct askue_money base, struct askue_date due,
                                                const struct askue_payment_part *payments,
                                                int n_payments, struct askue_date calc_date,
                                                struct askue_penalty_result *out);

#endif
