/* lifecycle — what falls due for a meter: its next verification (поверка:
 * the last one, or its commissioning if never verified, plus the
 * verification interval), the end of its service life (commissioning plus
 * service life: it must be dismantled) and the end of its warranty. Pure:
 * the lifecycle job (jobs/lifecycle.c) reads the meters and keeps the
 * alerts.
 */
#ifndef ASKUE_LIFECYCLE_H
#define ASKUE_LIFECYCLE_H

#include "date.h"
#include "registry.h"

struct askue_lifecycle_item {
	const char *kind; /* ASKUE_ALERT_VERIFICATION_DUE, _END_OF_LIFE, _WARRANTY_ENDING */
	struct askue_date due;
	int days_left; /* negative: past */
};

#define ASKUE_LIFECYCLE_ITEMS_MAX 3

/* The items of meter m due on or before today + horizon_days, into
 * out[0..return). Installed meters: all three; meters in stock:
 * verification and service life (one is not installed unverified or past
 * its life); dismantled meters: none. */
int askue_lifecycle_due(const struct askue_meter *m, struct askue_date today, int horizon_days,
                        struct askue_lifecycle_item out[ASKUE_LIFECYCLE_ITEMS_MAX]);

/* The date the meter's next verification is due. */
struct askue_date askue_lifecycle_verification_due(const struct askue_meter *m);
/* Was the meter past its verification on day (its readings are stored all
 * the same; billing marks the invoice lines based on them)? */
int askue_lifecycle_verification_overdue(const struct askue_meter *m, struct askue_date day);

#endif
