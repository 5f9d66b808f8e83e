/* rules — the penalty and due-date rules as data (the CSV files of deploy/rules/):
 * key rates, rate caps, moratoria, the working-day calendar and the
 * household due-date rule, each row with its effective dates and source.
 * Loaded and checked here (dates ascending, no overlaps, rates 0..100 %
 * with two decimals); the penalty calculator takes the tables as values. */
#ifndef ASKUE_RULES_H
#define ASKUE_RULES_H

#include "date.h"
#include "err.h"
#include "penalty.h"

struct askue_rules;

/* Read every table from dir; a bad row is refused as "FILE:LINE: field: ...". */
ASKUE_MUST enum askue_err askue_rules_load(const char *dir, struct askue_rules **out);
void askue_rules_free(struct askue_rules *r); /* NULL is a no-op */

const struct askue_penalty_rules *askue_rules_penalty(const struct askue_rules *r);

/* The nominal household due date of a billing period (the invoice keeps it;
 * the penalty clock moves it past non-working days). */
ASKUE_MUST enum askue_err askue_rules_due_date(const struct askue_rules *r,
                                               struct askue_period period,
                                               struct askue_date *due);

#endif
