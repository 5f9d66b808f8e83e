/* fieldcheck — a reading an operator saw on the meter, against the stored
 * readings around the moment (InfluxDB `reading`, 1.8.0 in Wh). Pure: the
 * command (tools/askue/cmd_fieldcheck.c) queries and writes.
 *
 * The stored value at a moment is interpolated linearly between the
 * readings just before and just after it. A visit recorded with its date
 * only may have been at any time of that day: the value seen must then lie
 * between the stored values at the day's start and end. A side with no
 * stored reading leaves that bound open (the meter went on counting after
 * its last report).
 */
#ifndef ASKUE_FIELDCHECK_H
#define ASKUE_FIELDCHECK_H

#include <stdint.h>

struct askue_sample {
	int has;
	int64_t ts; /* UTC s */
	int64_t wh;
};

/* The value at t, between a (a.ts <= t) and b (b.ts >= t), each possibly
 * missing: both -> interpolated, rounded half up to the Wh; one -> that
 * one's value, when it is exactly at t; else *has 0 (open). */
struct askue_sample askue_fieldcheck_at(struct askue_sample a, struct askue_sample b, int64_t t);

struct askue_fieldcheck {
	int comparable;       /* at least one bound known */
	int has_lo, has_hi;
	int64_t lo_wh, hi_wh; /* the stored values the reading should lie between */
	int64_t diff_wh;      /* seen - nearest bound; 0 inside */
	int beyond;           /* |diff| > tolerance */
};

/* lo and hi: the stored values at the window's start and end
 * (askue_fieldcheck_at); with a known moment they are the same. A bound
 * with no value of its own is taken from the readings that are there: the
 * last before the window bounds it from below, the first after from above. */
struct askue_fieldcheck askue_fieldcheck_judge(struct askue_sample lo, struct askue_sample hi,
                                               struct askue_sample before,
                                               struct askue_sample after, int64_t seen_wh,
                                               int64_t tolerance_wh);

#endif
