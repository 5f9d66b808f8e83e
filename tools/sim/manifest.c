/* manifest — what a run published, for the tests and the benchmarks.
 *
 * The manifest is one JSON object: the counts of struct sim_counts, the
 * run's shape and its rate. `readings` is the number of distinct good
 * readings (meter, ts) published and acknowledged: exactly the points
 * InfluxDB's `reading` measurement should hold after the ingestor. The
 * optional readings file lists them: serial,ts,ai_wh,t1_wh,t2_wh.
 * `publish_start` is the wall-clock time (Unix seconds, microseconds) at
 * which the first connection began to publish: the benchmarks time a
 * consumer from there, without the simulator's start-up and connecting.
 */
#include <errno.h>
#include <string.h>

#include "sim.h"

void sim_counts_add(struct sim_counts *sum, const struct sim_counts *c)
{
	sum->messages += c->messages;
	sum->messages_acked += c->messages_acked;
	sum->readings += c->readings;
	sum->readings_sent += c->readings_sent;
	sum->duplicates += c->duplicates;
	sum->malformed += c->malformed;
	sum->backlog_messages += c->backlog_messages;
	sum->reordered += c->reordered;
	sum->backwards += c->backwards;
	sum->silent_meters += c->silent_meters;
	sum->refused += c->refused;
	sum->reconnects += c->reconnects;
	sum->ai_wh_sum += c->ai_wh_sum;
	sum->status_messages += c->status_messages;
	if (c->connect_ms > sum->connect_ms)
		sum->connect_ms = c->connect_ms;
	if (c->publish_start_ns > 0 &&
	    (sum->publish_start_ns == 0 || c->publish_start_ns < sum->publish_start_ns))
		sum->publish_start_ns = c->publish_start_ns;
}

/* The publishing phase: the run without the connection set-up. */
static double publish_s(const struct sim_counts *c, double seconds)
{
	double s = seconds - (double)c->connect_ms / 1000;
	return s > 0 ? s : seconds;
}

static double per_s(int64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

enum askue_err sim_manifest_write(const char *path, const struct sim_fleet *f,
                                  const struct sim_options *o, const struct sim_counts *c,
                                  double seconds)
{
	FILE *out = fopen(path, "w");
	if (!out)
		return askue_err_set(ASKUE_ERR_IO, "manifest %s: %s", path, strerror(errno));
	fprintf(out,
	        "{\"meters\": %d, \"connections\": %d, \"start\": %lld, \"interval_s\": %lld, "
	        "\"steps\": %lld,\n"
	        " \"messages\": %lld, \"messages_acked\": %lld, \"readings\": %lld, "
	        "\"readings_sent\": %lld,\n"
	        " \"duplicates\": %lld, \"malformed\": %lld, \"backlog_messages\": %lld, "
	        "\"reordered\": %lld, \"backwards\": %lld,\n"
	        " \"silent_meters\": %lld, \"refused\": %lld, \"reconnects\": %lld, "
	        "\"ai_wh_sum\": %lld, \"status_messages\": %lld,\n"
	        " \"seconds\": %.3f, \"connect_seconds\": %.3f, \"msgs_per_s\": %.0f, "
	        "\"readings_per_s\": %.0f, \"publish_start\": %lld.%06lld}\n",
	        f->meters_count, f->conns_count, (long long)o->start_s, (long long)o->interval_s,
	        (long long)o->steps, (long long)c->messages, (long long)c->messages_acked,
	        (long long)c->readings, (long long)c->readings_sent, (long long)c->duplicates,
	        (long long)c->malformed, (long long)c->backlog_messages, (long long)c->reordered,
	        (long long)c->backwards, (long long)c->silent_meters, (long long)c->refused,
	        (long long)c->reconnects, (long long)c->ai_wh_sum, (long long)c->status_messages,
	        seconds,
	        (double)c->connect_ms / 1000, per_s(c->messages, publish_s(c, seconds)),
	        per_s(c->readings_sent, publish_s(c, seconds)),
	        (long long)(c->publish_start_ns / 1000000000),
	        (long long)(c->publish_start_ns % 1000000000 / 1000));
	if (fclose(out) != 0)
		return askue_err_set(ASKUE_ERR_IO, "manifest %s: %s", path, strerror(errno));
	return ASKUE_OK;
}

void sim_summary_print(FILE *out, const struct sim_fleet *f, const struct sim_counts *c,
                       double seconds)
{
	fprintf(out,
	        "askue-sim: %d meters on %d connections: %lld messages (%lld acknowledged), "
	        "%lld readings",
	        f->meters_count, f->conns_count, (long long)c->messages,
	        (long long)c->messages_acked, (long long)c->readings);
	if (c->duplicates || c->malformed || c->backlog_messages || c->reordered || c->backwards ||
	    c->silent_meters)
		fprintf(out,
		        " (faults: %lld duplicates, %lld malformed, %lld backlog dumps, %lld "
		        "reordered, %lld backwards, %lld silent meters)",
		        (long long)c->duplicates, (long long)c->malformed,
		        (long long)c->backlog_messages, (long long)c->reordered,
		        (long long)c->backwards, (long long)c->silent_meters);
	if (c->refused)
		fprintf(out, ", %lld connections refused", (long long)c->refused);
	fprintf(out, " in %.3f s (connecting %.3f s); publishing: %.0f msgs/s, %.0f readings/s\n",
	        seconds, (double)c->connect_ms / 1000, per_s(c->messages, publish_s(c, seconds)),
	        per_s(c->readings_sent, publish_s(c, seconds)));
}
