/* health — the ingestor's counters, the `ingest` measurement and its log
 * line. Counters are cumulative since start (use non_negative_derivative in
 * InfluxQL); rates and batch latency are over the last interval. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ingestor.h"
#include "lineproto.h"
#include "log.h"

void health_reject(struct health *h, enum askue_reason r, int whole_message)
{
	if ((unsigned)r < ASKUE_REASON_COUNT)
		atomic_fetch_add(&h->by_reason[r], 1);
	atomic_fetch_add(whole_message ? &h->rejected_messages : &h->rejected_readings, 1);
}

void health_batch(struct health *h, uint64_t points, uint64_t ms)
{
	atomic_fetch_add(&h->points_written, points);
	atomic_fetch_add(&h->batches, 1);
	atomic_fetch_add(&h->batch_ms_sum, ms);
	atomic_fetch_add(&h->batch_count_interval, 1);
	uint64_t old = atomic_load(&h->batch_ms_max);
	while (ms > old && !atomic_compare_exchange_weak(&h->batch_ms_max, &old, ms))
		;
}

enum askue_err health_report(struct health *h, const struct spool_stats *st,
                             const char *client_id, const char *host, int64_t now_s,
                             int64_t now_ms, struct askue_linebuf *lb)
{
	uint64_t readings = atomic_load(&h->readings);
	uint64_t points = atomic_load(&h->points_written);
	uint64_t nb = atomic_exchange(&h->batch_count_interval, 0);
	uint64_t sum = atomic_exchange(&h->batch_ms_sum, 0);
	uint64_t bmax = atomic_exchange(&h->batch_ms_max, 0);
	double secs = h->last_ms ? (double)(now_ms - h->last_ms) / 1000.0 : 0;
	double rps = secs > 0 ? (double)(readings - h->last_readings) / secs : 0;
	double wps = secs > 0 ? (double)(points - h->last_points) / secs : 0;
	double bavg = nb ? (double)sum / (double)nb : 0;
	h->last_readings = readings;
	h->last_points = points;
	h->last_ms = now_ms;

	uint64_t rej_total = 0;
	char by[512] = "";
	size_t o = 0;
	for (int r = 1; r < ASKUE_REASON_COUNT; r++) {
		uint64_t n = atomic_load(&h->by_reason[r]);
		rej_total += n;
		if (n && o < sizeof by)
			o += (size_t)snprintf(by + o, sizeof by - o, "%s%s %" PRIu64, o ? ", " : "",
			                      askue_reason_name((enum askue_reason)r), n);
	}
	log_info("health", "%.0f readings/s in, %.0f points/s written, batches %.0f ms avg %"
	         PRIu64 " ms max, spool %" PRIu64 " bytes pending (%" PRIu64 " on disk), "
	         "%s, rejects %" PRIu64 "%s%s%s", rps, wps, bavg, bmax, st->pending_bytes,
	         st->disk_bytes, atomic_load(&h->connected) ? "connected" : "NOT connected",
	         rej_total, o ? " (" : "", by, o ? ")" : "");

	const char *tags[] = {"client", client_id, "host", host};
	enum askue_err err = askue_lineproto_begin(lb, "ingest", tags, 4);
	if (!err) err = askue_lineproto_int(lb, "messages", (int64_t)atomic_load(&h->messages));
	if (!err) err = askue_lineproto_int(lb, "readings", (int64_t)readings);
	if (!err) err = askue_lineproto_float(lb, "readings_per_s", rps);
	if (!err) err = askue_lineproto_int(lb, "points_written", (int64_t)points);
	if (!err) err = askue_lineproto_float(lb, "points_per_s", wps);
	if (!err) err = askue_lineproto_int(lb, "batches", (int64_t)atomic_load(&h->batches));
	if (!err) err = askue_lineproto_float(lb, "batch_ms_avg", bavg);
	if (!err) err = askue_lineproto_int(lb, "batch_ms_max", (int64_t)bmax);
	if (!err) err = askue_lineproto_int(lb, "write_retries",
	                                    (int64_t)atomic_load(&h->write_retries));
	if (!err) err = askue_lineproto_int(lb, "spool_bytes", (int64_t)st->pending_bytes);
	if (!err) err = askue_lineproto_int(lb, "spool_disk_bytes", (int64_t)st->disk_bytes);
	if (!err) err = askue_lineproto_int(lb, "spool_full_waits", (int64_t)st->full_waits);
	if (!err) err = askue_lineproto_int(lb, "connected", atomic_load(&h->connected) ? 1 : 0);
	if (!err) err = askue_lineproto_int(lb, "rejected_messages",
	                                    (int64_t)atomic_load(&h->rejected_messages));
	if (!err) err = askue_lineproto_int(lb, "rejected_readings",
	                                    (int64_t)atomic_load(&h->rejected_readings));
	for (int r = 1; r < ASKUE_REASON_COUNT && !err; r++) {
		char key[64];
		snprintf(key, sizeof key, "rej_%s", askue_reason_name((enum askue_reason)r));
		err = askue_lineproto_int(lb, key, (int64_t)atomic_load(&h->by_reason[r]));
	}
	if (!err)
		err = askue_lineproto_end(lb, now_s);
	return err;
}
