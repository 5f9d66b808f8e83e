/* silence — which meters are silent, which substations and concentrators
 * are out, and what the stale job does about each: pure functions from
 * values to values (the job, jobs/stale.c, reads and writes).
 *
 * A meter is silent when its newest accepted reading (the meter's own
 * clock, as the ingestor's lastseen.db keeps it) is older than its model's
 * reporting interval plus a grace, counted from the job's moment; a meter
 * with no reading since it was installed counts from its installation.
 */
#ifndef ASKUE_SILENCE_H
#define ASKUE_SILENCE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "limits.h"

/* Models that may have rules of their own in [stale] models. */
#define ASKUE_STALE_MODELS_MAX 64

struct askue_stale_model {
	char model[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	int64_t interval_h, grace_h;
};

struct askue_stale_rules {
	int64_t default_interval_h, default_grace_h;
	size_t n_models;
	struct askue_stale_model models[ASKUE_STALE_MODELS_MAX];
};

/* spec: "MODEL=INTERVAL_H/GRACE_H, MODEL=..." (spaces around names and
 * numbers are ignored; a model named twice is an error). "" = no model of
 * its own. The error message quotes the bad entry. */
ASKUE_MUST enum askue_err askue_stale_rules_parse(const char *spec, int64_t default_interval_h,
                                                  int64_t default_grace_h,
                                                  struct askue_stale_rules *out);
/* Seconds without a reading after which a meter of this model is silent. */
int64_t askue_stale_after_s(const struct askue_stale_rules *r, const char *model);

/* Is a meter silent at now? last_ts: its newest reading (has_last 0: none);
 * installed_s: the start of its installation day. The reference is the
 * later of the two. *silent_s gets how long it has been without data (0
 * when not silent). */
int askue_silence_judge(int64_t now, int has_last, int64_t last_ts, int64_t installed_s,
                        int64_t after_s, int64_t *silent_s);

/* A group (substation, concentrator) of `total` installed meters of which
 * `silent` are silent is out when silent >= min_meters and silent is at
 * least share_pct per cent of total. */
int askue_outage(size_t total, size_t silent, int64_t share_pct, int64_t min_meters);

/* What the job does for one subject (a meter, or an outage group). */
enum askue_stale_action {
	ASKUE_STALE_NONE,   /* nothing changes */
	ASKUE_STALE_OPEN,   /* open a new alert */
	ASKUE_STALE_REOPEN, /* re-open the alert closed within the hold-down */
	ASKUE_STALE_CLOSE,  /* close the active alert by itself */
};

/* silent: the meter is silent (for a group: the group is out); covered: a
 * silent meter counted in an outage alert instead (per meter only);
 * has_active: an alert of the family is open or assigned; recent_closed:
 * one that the job closed by itself ended within the hold-down. */
enum askue_stale_action askue_stale_decide(int silent, int covered, int has_active,
                                           int recent_closed);

#endif
