/* job — `askue job NAME [--period P] [--date D] [--dry-run]` (job.h): the
 * table of jobs and the run around each: options, the moment, the ledger
 * transaction, the report. Later jobs (rollup, billing, penalties ...)
 * plug in by a line in jobs[]. */
#include "job.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "rollup.h"

static const struct job jobs[] = {
	{"stale", job_stale, "hourly: silent meters and outages -> alerts"},
	{"lifecycle", job_lifecycle, "daily: due verifications, end of service life, warranty"},
	{"billing", job_billing, "monthly: invoices of --period (default: last month)"},
	{"rollup", job_rollup, "daily: readings per meter and day -> meter_day, InfluxDB daily"},
	{"penalties", job_penalties, "daily: overdue invoices, penalties (пени) through --date"},
	{"payments", job_payments, "hourly: the bank registries of $ASKUE_HOME/payments/inbox"},
	{"forecast", job_forecast, "daily: the next days' load and peaks per group -> InfluxDB forecast"},
	{"anomalies", job_anomalies, "daily: meter and consumption anomalies of yesterday -> alerts, InfluxDB anomaly"},
};
#define N_JOBS (sizeof jobs / sizeof jobs[0])

void job_note(struct job_ctx *ctx, const char *key, int64_t id, const char *kind,
              const char *subject, cJSON *what)
{
	cJSON *arr = cJSON_GetObjectItem(ctx->report, key);
	if (!arr)
		arr = cJSON_AddArrayToObject(ctx->report, key);
	cJSON *o = cJSON_CreateObject();
	if (id > 0)
		cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "subject", subject);
	if (what) {
		cJSON *it = what->child;
		while (it) {
			cJSON *next = it->next;
			cJSON_AddItemToObject(o, it->string, cJSON_DetachItemViaPointer(what, it));
			it = next;
		}
		cJSON_Delete(what);
	}
	cJSON_AddItemToArray(arr, o);
}

/* Text form of the report: one line per action, then the counts. */
static void print_text(const cJSON *report)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, report)
	{
		if (cJSON_IsArray(it)) {
			const cJSON *a;
			cJSON_ArrayForEach(a, it)
			{
				char *s = cJSON_PrintUnformatted(a);
				printf("%s: %s\n", it->string, s ? s : "?");
				cJSON_free(s);
			}
		}
	}
	cJSON_ArrayForEach(it, report)
	{
		if (cJSON_IsArray(it))
			printf("%s %d\n", it->string, cJSON_GetArraySize(it));
		else if (cJSON_IsString(it))
			printf("%s: %s\n", it->string, it->valuestring);
		else if (cJSON_IsNumber(it))
			printf("%s %lld\n", it->string, (long long)it->valuedouble);
		else if (cJSON_IsBool(it))
			printf("%s %s\n", it->string, cJSON_IsTrue(it) ? "yes" : "no");
	}
}

static int usage_jobs(struct askue_cli *cli, const char *name)
{
	fprintf(stderr, "askue: job: unknown job '%s'; jobs:\n", name);
	for (size_t i = 0; i < N_JOBS; i++)
		fprintf(stderr, "  %-10s %s\n", jobs[i].name, jobs[i].what);
	(void)cli;
	return EX_USAGE;
}

static int parse_options(struct job_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"date", required_argument, 0, 'd'},
	                                     {"period", required_argument, 0, 'p'},
	                                     {"dry-run", no_argument, 0, 'n'},
	                                     {0, 0, 0, 0}};
	int c;
	enum askue_err err = ASKUE_OK;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1 && !err) {
		switch (c) {
		case 'd':
			ctx->has_date = 1;
			err = cli_date("--date", optarg, &ctx->today);
			break;
		case 'p':
			ctx->has_period = 1;
			if ((err = askue_period_parse(optarg, &ctx->period)))
				askue_err_prefix("--period: ");
			break;
		case 'n': ctx->dry_run = 1; break;
		default: return cli_bad_option(ctx->cli, c, argv);
		}
	}
	if (err)
		return cli_fail(ctx->cli, err);
	if (optind < argc)
		return cli_usage(ctx->cli, "unexpected argument '%s'", argv[optind]);
	if (ctx->has_date) {
		if ((err = askue_date_start(askue_date_add_days(ctx->today, 1), &ctx->now)))
			return cli_fail(ctx->cli, err);
	} else {
		ctx->now = (int64_t)time(NULL);
		ctx->today = askue_date_of(ctx->now);
	}
	return 0;
}

int cmd_job(struct askue_cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, "expected a job name");
	const struct job *job = NULL;
	for (size_t i = 0; i < N_JOBS; i++)
		if (!strcmp(argv[1], jobs[i].name))
			job = &jobs[i];
	if (!job)
		return usage_jobs(cli, argv[1]);
	char command[64];
	snprintf(command, sizeof command, "job %s", job->name);
	cli->command = command;
	struct job_ctx ctx = {.cli = cli, .name = job->name};
	int rc = parse_options(&ctx, argc - 1, argv + 1);
	if (rc)
		return rc;
	if (!(ctx.l = cli_ledger(cli)))
		return EX_SOFTWARE;
	char day[ASKUE_DATE_BUF], stamp[ASKUE_UTC_STAMP_BUF];
	ctx.report = cJSON_CreateObject();
	cJSON_AddStringToObject(ctx.report, "job", job->name);
	cJSON_AddStringToObject(ctx.report, "date", askue_date_format(ctx.today, day));
	cJSON_AddStringToObject(ctx.report, "now", askue_utc_stamp(ctx.now, stamp));
	cJSON_AddBoolToObject(ctx.report, "dry_run", ctx.dry_run);
	rc = job->run(&ctx);
	if (rc) {
		cJSON_Delete(ctx.report);
		return rc;
	}
	if (cli->json)
		return cli_print_json(ctx.report);
	print_text(ctx.report);
	cJSON_Delete(ctx.report);
	return 0;
}
