/* date — civil dates, billing periods and the utility's time zone.
 *
 * Inside askue time is UTC int64 seconds; the zone appears only at the edges:
 * a civil date (struct askue_date, days since 1970-01-01 in the proleptic
 * Gregorian calendar) is turned into the UTC instant of its local midnight
 * with the C library's zone database (TZ + mktime), never by hand. Periods
 * are calendar months, half-open [first day, first day of next month).
 */
#ifndef ASKUE_DATE_H
#define ASKUE_DATE_H

#include <stdint.h>
#include <time.h>
#include "err.h"

struct askue_date { int32_t days; };        /* since 1970-01-01 */
struct askue_period { int year; int month; }; /* a calendar month */

#define ASKUE_DATE_BUF 16

/* Set the zone for this process ("Europe/Moscow"); refuses a zone the
 * system's zone database does not have (glibc would fall back to UTC). */
ASKUE_MUST enum askue_err askue_tz_set(const char *zone);
const char *askue_tz_name(void);

/* "YYYY-MM-DD", strict: a date that does not exist (2026-02-30) is refused. */
ASKUE_MUST enum askue_err askue_date_parse(const char *s, struct askue_date *out);
char *askue_date_format(struct askue_date d, char *buf);
struct askue_date askue_date_from_ymd(int y, int m, int d); /* caller checked */
void askue_date_ymd(struct askue_date date, int *y, int *m, int *d);
int askue_date_valid_ymd(int y, int m, int d);
struct askue_date askue_date_add_days(struct askue_date d, int32_t n);
/* Same day of month n months later, clamped to the month's last day. */
struct askue_date askue_date_add_months(struct askue_date d, int n);
struct askue_date askue_date_add_years(struct askue_date d, int n);
int askue_date_weekday(struct askue_date d); /* 0 = Monday .. 6 = Sunday */

/* The UTC instant of the local midnight that starts day d. */
ASKUE_MUST enum askue_err askue_date_start(struct askue_date d, int64_t *utc_s);
/* The local date of a UTC instant. */
struct askue_date askue_date_of(int64_t utc_s);
struct askue_date askue_date_today(void);

ASKUE_MUST enum askue_err askue_period_parse(const char *s, struct askue_period *out);
char *askue_period_format(struct askue_period p, char *buf);
struct askue_date askue_period_first(struct askue_period p);
struct askue_date askue_period_end(struct askue_period p); /* first day of next */
struct askue_period askue_period_of(struct askue_date d);
struct askue_period askue_period_add(struct askue_period p, int months);

#endif
