/* job — what the batch jobs share: `askue job NAME [--period P] [--date D]
 * [--dry-run]` finds NAME in the table of jobs (jobs/job.c) and runs it
 * with a context.
 *
 * --date D runs a job as if today were D with day D itself counted as
 * passed: its moment (now) is the end of D (local midnight that starts
 * D + 1); without it, the clock. A job does its work in one ledger
 * transaction; --dry-run rolls it back and publishes nothing, and the
 * report says what the run would have done. A job records what it did in
 * its report (printed at the end: JSON with --json) and exits 0 when it
 * did its work, with its exceptions reported there; non-zero only when it
 * could not.
 */
#ifndef ASKUE_JOB_H
#define ASKUE_JOB_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../tools/askue/cli.h" /* the askue command line the jobs run in */
#include "date.h"

struct job_ctx {
	struct askue_cli *cli;
	struct askue_ledger *l;
	const char *name;
	struct askue_date today; /* --date, else the local date of the clock */
	int has_date;
	int64_t now; /* UTC s */
	int has_period;
	struct askue_period period;
	int dry_run;
	cJSON *report; /* {"job", "date", "dry_run", ...}: the job adds to it */
};

struct job {
	const char *name;
	int (*run)(struct job_ctx *ctx);
	const char *what;
};

int job_stale(struct job_ctx *ctx);
int job_lifecycle(struct job_ctx *ctx);
int job_billing(struct job_ctx *ctx);
int job_penalties(struct job_ctx *ctx);
int job_payments(struct job_ctx *ctx);
int job_forecast(struct job_ctx *ctx);
int job_anomalies(struct job_ctx *ctx);

/* Publish every alert not yet published as it is (opened or closed since)
 * on askue/alerts/{kind}, QoS 1, with the [jobs] role's credentials, and
 * mark what the broker took. Adds "published" (count) to the report, and
 * "publish_error" when the broker could not be reached or did not take
 * everything: what is left goes with the next run. Never fails the job.
 * Does nothing under --dry-run but count what it would publish. */
void job_publish_alerts(struct job_ctx *ctx);

/* An action the job took (or would take, --dry-run), into report[key]:
 * {"id", "kind", "subject", ...what}. what is taken (may be NULL). */
void job_note(struct job_ctx *ctx, const char *key, int64_t id, const char *kind,
              const char *subject, cJSON *what);

/* The retained meters/{serial}/status messages, serial -> 1 online, 0
 * offline, collected for [stale] status_wait_ms with the stale role's
 * credentials. ASKUE_ERR_IO when the broker cannot be reached or refuses
 * (the message says why); *out is then untouched. */
struct askue_strmap;
ASKUE_MUST enum askue_err job_meter_status(const struct askue_config *cfg, size_t expected,
                                           struct askue_strmap **out);

#endif
