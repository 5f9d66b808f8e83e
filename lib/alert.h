/* alert — the ledger's alerts: work items for operations.
 *
 * An alert has a kind (silent_offline, outage_substation, verification_due,
 * field_check ...), a subject (a meter's serial, or the substation or
 * concentrator it groups), the meters it covers, and a status:
 *
 *   open -> assigned (to a person) -> resolved (with an outcome)
 *
 * A job may also close an alert by itself (the meter's data came back, the
 * meter was dismantled): then it is resolved with closed_by 'job'. At most
 * one alert per (kind, subject) is active (not resolved) — the schema's
 * unique partial index keeps it so, and a job that finds one open does not
 * open another. Every step is journaled (alert_opened, alert_assigned,
 * alert_resolved, alert_closed) in the transaction that makes it.
 *
 * Alerts are published on askue/alerts/{kind} by the jobs after commit; an
 * alert opened or closed since it was last published is "pending", so what
 * a run could not publish (broker away) goes out with the next run.
 */
#ifndef ASKUE_ALERT_H
#define ASKUE_ALERT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "err.h"
#include "ledger.h"
#include "limits.h"

/* Event types. */
#define ASKUE_EV_ALERT_OPENED "alert_opened"
#define ASKUE_EV_ALERT_ASSIGNED "alert_assigned"
#define ASKUE_EV_ALERT_RESOLVED "alert_resolved"
#define ASKUE_EV_ALERT_CLOSED "alert_closed"

/* Kinds. A silent meter is one of three kinds, after what its retained
 * status topic said when the job ran; they are one family (one active
 * alert per meter whatever the kind). */
#define ASKUE_ALERT_SILENT_ONLINE "silent_online"   /* connected, sends nothing */
#define ASKUE_ALERT_SILENT_OFFLINE "silent_offline" /* its status says offline */
#define ASKUE_ALERT_SILENT "silent"                 /* status unknown */
#define ASKUE_ALERT_OUTAGE_SUBSTATION "outage_substation"
#define ASKUE_ALERT_OUTAGE_CONCENTRATOR "outage_concentrator"
#define ASKUE_ALERT_VERIFICATION_DUE "verification_due"
#define ASKUE_ALERT_END_OF_LIFE "end_of_service_life"
#define ASKUE_ALERT_WARRANTY_ENDING "warranty_ending"
#define ASKUE_ALERT_FIELD_CHECK "field_check"
/* `job anomalies` (lib/anomaly.h, docs/anomalies.md): one per meter and
 * kind while the anomaly lasts. */
#define ASKUE_ALERT_ANOMALY_BACKWARDS "anomaly_backwards" /* register went back */
#define ASKUE_ALERT_ANOMALY_JUMP "anomaly_jump"           /* beyond the connection */
#define ASKUE_ALERT_ANOMALY_STUCK "anomaly_stuck"         /* no growth, reporting */
#define ASKUE_ALERT_ANOMALY_DROP "anomaly_drop"           /* fell, stays low: theft? */
#define ASKUE_ALERT_ANOMALY_REVERSE "anomaly_reverse"     /* export at a household */

#define ASKUE_ALERT_KIND_BYTES_MAX 64
#define ASKUE_ALERT_SUBJECT_BYTES_MAX 128
#define ASKUE_ALERT_REF_BYTES_MAX 32
/* An outcome typed by an operator ("replaced the modem, data back"). */
#define ASKUE_ALERT_OUTCOME_BYTES_MAX 500
/* Meters listed in a journal event of a grouped alert; beyond this the
 * event gives their count only (the alert itself lists them all). */
#define ASKUE_ALERT_JOURNAL_METERS_MAX 1000

struct askue_alert {
	int64_t id;
	char kind[ASKUE_ALERT_KIND_BYTES_MAX + 1];
	char subject[ASKUE_ALERT_SUBJECT_BYTES_MAX + 1];
	char ref[ASKUE_ALERT_REF_BYTES_MAX + 1];
	char status[16]; /* open | assigned | resolved */
	int64_t opened;  /* UTC s */
	int has_closed;
	int64_t closed;
	char closed_by[16]; /* operator | job | "" */
	char assignee[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char outcome[ASKUE_ALERT_OUTCOME_BYTES_MAX + 1];
	const char *details; /* JSON object; valid inside the callback / until the next call */
};

/* Open an alert inside the caller's transaction. details (may be NULL) and
 * meters[0..n_meters) are the caller's. ASKUE_ERR_EXISTS when an alert of
 * (kind, subject) is active already. */
ASKUE_MUST enum askue_err askue_alert_open_tx(struct askue_ledger *l, const char *kind,
                                              const char *subject, const char *ref,
                                              int64_t opened, const cJSON *details,
                                              const char *const *meters, size_t n_meters,
                                              int64_t *id_out);
/* Add meters to an active alert (those it lists already are skipped);
 * *added (may be NULL) counts the new ones. Journaled only by the caller's
 * own events: a grouped alert's list growing is not a step of its own. */
ASKUE_MUST enum askue_err askue_alert_add_meters_tx(struct askue_ledger *l, int64_t id,
                                                    const char *const *meters, size_t n_meters,
                                                    size_t *added);
/* A job closes an active alert by itself: resolved, closed_by 'job', with
 * outcome and the members of patch (may be NULL) merged into details. */
ASKUE_MUST enum askue_err askue_alert_close_tx(struct askue_ledger *l, int64_t id, int64_t closed,
                                               const char *outcome, const cJSON *patch);
/* A job re-opens an alert it closed by itself (a flapping meter): back to
 * open, with ref (NULL: kept), details merged with patch, "flaps" counted
 * up. Journaled as alert_opened with reopened: true. */
ASKUE_MUST enum askue_err askue_alert_reopen_tx(struct askue_ledger *l, int64_t id,
                                                const char *ref, int64_t at, const cJSON *patch);
/* Is there an alert of one of kinds[0..n_kinds) for subject with this ref
 * that an operator resolved? (*out 1 or 0) */
ASKUE_MUST enum askue_err askue_alert_handled(struct askue_ledger *l, const char *const *kinds,
                                              size_t n_kinds, const char *subject,
                                              const char *ref, int *out);

/* Operators (own transactions). Refused (ASKUE_ERR_CONFLICT) on a resolved
 * alert; assigning again to someone else is a new step. */
ASKUE_MUST enum askue_err askue_alert_assign(struct askue_ledger *l, int64_t id,
                                             const char *person);
ASKUE_MUST enum askue_err askue_alert_resolve(struct askue_ledger *l, int64_t id,
                                              const char *outcome, int64_t now);

ASKUE_MUST enum askue_err askue_alert_get(struct askue_ledger *l, int64_t id,
                                          struct askue_alert *out);

struct askue_alert_filter {
	int active_only;     /* open or assigned */
	const char *kind;    /* NULL = any */
	const char *subject; /* NULL = any */
	int pending_only;    /* only alerts not yet published as they are */
	int64_t id;          /* 0 = any */
};
/* Calls fn per matching alert, id order; fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_alert_each(struct askue_ledger *l,
                                           const struct askue_alert_filter *f,
                                           int (*fn)(const struct askue_alert *a, void *arg),
                                           void *arg);

/* The alert as JSON (DESIGN.md: id, kind, subject, status, opened, closed,
 * meters; plus ref, assignee, outcome, closed_by, details). Caller frees. */
ASKUE_MUST enum askue_err askue_alert_json(struct askue_ledger *l, const struct askue_alert *a,
                                           cJSON **out);

/* The alert was published with this status (inside a transaction); if it
 * has changed since, it stays pending. */
ASKUE_MUST enum askue_err askue_alert_mark_published_tx(struct askue_ledger *l, int64_t id,
                                                        const char *status, int64_t at);

/* "2026-11-28T06:00:00Z" */
#define ASKUE_UTC_STAMP_BUF 24
char *askue_utc_stamp(int64_t utc_s, char *buf);

#endif
