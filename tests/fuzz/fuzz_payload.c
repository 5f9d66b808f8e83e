/* libFuzzer target: lib/payload.c and lib/lineproto.c on any bytes.
 *
 * Input: optionally "T:" + a topic + "\n", then the payload; otherwise the
 * topic is meters/M1/readings. Checks, beyond "no crash, no leak, no UB":
 * every good reading has 1.8.0 and becomes exactly one line of line
 * protocol; the counts of good and refused readings never exceed the
 * readings array; a refused message has no readings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "payload.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char topic[256] = "meters/M1/readings";
	if (size >= 2 && data[0] == 'T' && data[1] == ':') {
		const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
		if (nl) {
			size_t n = (size_t)(nl - data) - 2;
			memcpy(topic, data + 2, n);
			topic[n] = 0;
			size -= (size_t)(nl - data) + 1;
			data = nl + 1;
		}
	}
	struct askue_payload p;
	enum askue_reason why = askue_payload_parse(topic, data, size, 1764288000, 300, &p);
	CHECK(why < ASKUE_REASON_COUNT);
	if (why) {
		CHECK(p.n_readings == 0);
	} else {
		CHECK(strlen(p.meter) > 0 && strlen(p.meter) <= ASKUE_SERIAL_BYTES_MAX);
		CHECK(p.n_readings + p.n_rejects <= ASKUE_PAYLOAD_READINGS_MAX);
		static char buf[4 * 1024 * 1024];
		struct askue_linebuf lb = {buf, 0, sizeof buf};
		for (size_t i = 0; i < p.n_readings; i++) {
			const struct askue_reading *r = &p.readings[i];
			CHECK(r->have & (1u << ASKUE_F_AI));
			CHECK(r->ts <= 1764288300 && r->ts >= ASKUE_READING_TS_MIN);
			CHECK(r->ts <= p.ts_max);
			for (int f = 0; f < ASKUE_F_REGISTERS; f++)
				CHECK(!(r->have & (1u << f)) || r->wh[f] >= 0);
			CHECK(askue_lineproto_reading(&lb, p.meter, r) == ASKUE_OK);
		}
		CHECK(askue_lineproto_count(buf, lb.len) == p.n_readings);
		for (size_t i = 0; i < p.n_rejects; i++) {
			CHECK(p.rejects[i].reason != ASKUE_REASON_OK);
			CHECK(strlen(p.rejects[i].excerpt) < ASKUE_EXCERPT_BYTES);
		}
	}
	askue_payload_free(&p);
	return 0;
}
