/* rollup — `askue job rollup [--date D | --period P] [--dry-run]`: the
 * readings of a local day, per meter, into the ledger's meter_day cache and
 * InfluxDB's `daily` measurement (docs/rollup.md).
 *
 * For a local day D, [local midnight D, local midnight D+1) in UTC, the job
 * streams the raw `reading` points of that window only (the one whole-fleet
 * query it makes; chunked, never held whole), folds each meter's first and
 * last reading and count into meter_day (the day's rows are replaced: a
 * rerun gives the same rows), writes one `daily` point per meter (tags
 * meter, account, tariff, district, substation of the subscriber the meter
 * was installed at on D and its tariff on D), records the day in
 * rollup_day, and journals meter_data_received ONCE per day (subject the
 * date; a rerun journals nothing new).
 *
 * Without --date or --period the job rolls up the last 7 days through
 * yesterday that need it (as job_rollup_ensure), so a missed run or late
 * readings are caught up; --date D rolls up day D, --period every day of
 * the month that has begun, again even when done already. It prunes
 * meter_day rows older than [rollup] keep_days before today.
 */
#ifndef ASKUE_JOB_ROLLUP_H
#define ASKUE_JOB_ROLLUP_H

#include "../lib/rollup.h"
#include "job.h"

int job_rollup(struct job_ctx *ctx);

/* For billing: roll up every day in [from, to] (inclusive) that is not in
 * rollup_day, or whose rollup ran (rollup_day.done, the wall clock) before
 * that day's end plus [rollup] late_hours, or that a manual reading marked
 * for a redo (done = 0). Runs INSIDE the caller's ledger transaction (the
 * caller holds askue_ledger_begin; nothing here begins or commits): the
 * meter_day and rollup_day rows and the journal event commit or roll back
 * with the caller's work. The `daily` points are written to InfluxDB as it
 * goes, before the caller commits: they are derived from the readings alone
 * and the same point is rewritten by any later run, so a rollback leaves
 * them correct (the day is not in rollup_day and is rolled up again next
 * time). Under ctx->dry_run nothing is written to InfluxDB (the caller
 * rolls the ledger back). Adds "rollup_days" to ctx->report.
 * Takes about a second per 50,000 meter-days (docs/rollup.md). */
ASKUE_MUST enum askue_err job_rollup_ensure(struct job_ctx *ctx, struct askue_date from,
                                            struct askue_date to);

/* Roll up day D unconditionally, inside the caller's transaction. */
ASKUE_MUST enum askue_err job_rollup_day(struct job_ctx *ctx, struct askue_date day);

/* A reading r of serial, on local day `day`, was written to InfluxDB after
 * that day may have been rolled up (askue reading add): fold it into the
 * day's meter_day row (counted when new_point; a correction replaces a
 * point already counted), and mark day and day + 1 (whose start value is
 * the last reading of day) for a redo (rollup_day.done = 0), so the next
 * job_rollup_ensure rewrites their `daily` points. Nothing happens for a
 * day not rolled up yet: its rollup will see the reading. Inside the
 * caller's transaction. */
ASKUE_MUST enum askue_err job_rollup_reading_added(struct askue_ledger *l, const char *serial,
                                                   struct askue_date day,
                                                   const struct askue_rollup_regs *r,
                                                   int new_point);

#endif
