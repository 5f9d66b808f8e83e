/* lifecycle — see lifecycle.h. */
#include "lifecycle.h"

#include <string.h>

#include "alert.h"

struct askue_date askue_lifecycle_verification_due(const struct askue_meter *m)
{
	struct askue_date base = m->has_last_verified ? m->last_verified : m->commissioned;
	return askue_date_add_years(base, m->verification_interval_years);
}

int askue_lifecycle_verification_overdue(const struct askue_meter *m, struct askue_date day)
{
	return askue_lifecycle_verification_due(m).days <= day.days;
}

static int add(struct askue_lifecycle_item *out, int n, const char *kind, struct askue_date due,
               struct askue_date today, int horizon_days)
{
	int32_t left = due.days - today.days;
	if (left > horizon_days)
		return n;
	out[n] = (struct askue_lifecycle_item){.kind = kind, .due = due, .days_left = left};
	return n + 1;
}

int askue_lifecycle_due(const struct askue_meter *m, struct askue_date today, int horizon_days,
                        struct askue_lifecycle_item out[ASKUE_LIFECYCLE_ITEMS_MAX])
{
	int installed = !strcmp(m->status, "installed");
	if (!installed && strcmp(m->status, "stock") != 0)
		return 0;
	int n = 0;
	n = add(out, n, ASKUE_ALERT_VERIFICATION_DUE, askue_lifecycle_verification_due(m), today,
	        horizon_days);
	n = add(out, n, ASKUE_ALERT_END_OF_LIFE,
	        askue_date_add_years(m->commissioned, m->service_life_years), today, horizon_days);
	if (installed && m->has_warranty_until)
		n = add(out, n, ASKUE_ALERT_WARRANTY_ENDING, m->warranty_until, today, horizon_days);
	return n;
}
