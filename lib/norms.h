/* norms — the consumption norms (нормативы потребления) of household
 * electricity, as data: deploy/rules/norms.csv, one row per (settlement,
 * stove, rooms, residents) and effective date, in kWh per person per month,
 * each row with its source. Billing estimates by the norm once the average
 * may no longer be used (ПП 354 п. 59-60), and bills a subscriber without a
 * meter by it. The regional values are set by each region's authority: the
 * shipped table is an example to be replaced (rows marked VERIFY).
 *
 * Keys: rooms 1..4 (4 = four or more), residents 1..5 (5 = five or more);
 * a subscriber with 0 registered residents is looked up as 1 (ПП 354
 * п. 56(2): then the owners count; VERIFY). The monthly norm of a
 * subscriber = the row's kWh per person x residents (at least 1), in Wh.
 */
#ifndef ASKUE_NORMS_H
#define ASKUE_NORMS_H

#include <stdint.h>
#include "date.h"
#include "err.h"

#define ASKUE_NORM_ROOMS_MAX 4     /* "4 rooms or more" */
#define ASKUE_NORM_RESIDENTS_MAX 5 /* "5 persons or more" */

struct askue_norms;

struct askue_norm_key {
	int residents;      /* 0..99 as registered */
	int rooms;          /* 1..99 */
	int electric_stove; /* 0 = gas, 1 = electric */
	int rural;          /* 0 = urban, 1 = rural */
};

/* Read the norms CSV (header
 * "from,settlement,stove,rooms,residents,kwh_per_person,source"); a bad row
 * is refused as "FILE:LINE: field: ...". Rows of one key ascend by from. */
ASKUE_MUST enum askue_err askue_norms_load(const char *path, struct askue_norms **out);
void askue_norms_free(struct askue_norms *n); /* NULL is a no-op */

/* The subscriber's norm in force on day `on`, Wh per month;
 * ASKUE_ERR_NOT_FOUND when no row for that key is in force then. */
ASKUE_MUST enum askue_err askue_norms_month_wh(const struct askue_norms *n,
                                               const struct askue_norm_key *k,
                                               struct askue_date on, int64_t *wh);

/* "urban"/"rural", "gas"/"electric" -> 0/1; ASKUE_ERR_INVALID otherwise. */
ASKUE_MUST enum askue_err askue_norms_settlement_parse(const char *s, int *rural);
ASKUE_MUST enum askue_err askue_norms_stove_parse(const char *s, int *electric);

#endif
