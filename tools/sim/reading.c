/* reading — a meter's registers and the payloads that carry them.
 *
 * Registers are integer Wh, so 1.8.0 is exactly 1.8.1 + 1.8.2 on a two-zone
 * meter and every value printed has exactly 3 decimals of kWh. Energy comes
 * from the meter's profile half-hour by half-hour; the zone of a half-hour
 * (day T1 07-23, night T2 23-07, local time of the configured zone) decides
 * which register it goes to. Payloads follow DESIGN.md's contract.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

enum askue_err sim_zones_prepare(const struct sim_options *o, uint8_t **zones_out)
{
	int64_t per_step = o->interval_s / SIM_SLOT_S;
	if (o->steps > INT32_MAX / per_step)
		return askue_err_set(ASKUE_ERR_RANGE, "run too long: %lld steps", (long long)o->steps);
	int64_t slots = o->steps * per_step;
	uint8_t *z = malloc((size_t)slots);
	if (!z)
		return askue_err_set(ASKUE_ERR_NOMEM, "zones: out of memory");
	for (int64_t s = 0; s < slots; s++) {
		time_t t = (time_t)(o->start_s + s * SIM_SLOT_S);
		struct tm tm;
		localtime_r(&t, &tm);
		z[s] = tm.tm_hour >= 7 && tm.tm_hour < 23 ? 1 : 2;
	}
	*zones_out = z;
	return ASKUE_OK;
}

/* Set the register back below the previous reading (before): by this
 * step's energy, a tenth of the register and a kWh, never below zero. */
static void go_back(struct sim_meter *m, int64_t before)
{
	int64_t drop = before / 10 + 1000;
	if (drop > before)
		drop = before;
	int64_t back = m->reg_wh[0] - before + drop;
	m->reg_wh[0] -= back;
	if (m->zones == 2) {
		int64_t b1 = back < m->reg_wh[1] ? back : m->reg_wh[1];
		m->reg_wh[1] -= b1;
		m->reg_wh[2] -= back - b1;
	}
}

int sim_meter_advance(struct sim_meter *m, const struct sim_profiles *p, const uint8_t *zones,
                      const struct sim_options *o, int64_t k)
{
	int64_t per_step = o->interval_s / SIM_SLOT_S;
	const int32_t *wh = p->wh[m->profile];
	int64_t len = p->slots[m->profile];
	int64_t before = m->reg_wh[0];
	for (int64_t s = (k - 1) * per_step; s < k * per_step; s++) {
		int64_t e = (int64_t)wh[(m->offset_slots + s) % len] * m->scale_pm + m->carry;
		m->carry = e % 1000;
		m->reg_wh[0] += e / 1000;
		if (m->zones == 2)
			m->reg_wh[zones[s]] += e / 1000;
	}
	if (k == m->backwards_at && before > 0) {
		go_back(m, before);
		return 1;
	}
	return 0;
}

/* JSON string body of s (serials are checked UTF-8 without controls). */
static int put_json_string(char *buf, size_t size, const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			if (n + 2 >= size)
				return -1;
			buf[n++] = '\\';
		} else if (n + 1 >= size) {
			return -1;
		}
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return (int)n;
}

static int put_kwh(char *buf, size_t size, const char *key, int64_t wh)
{
	return snprintf(buf, size, ", \"%s\": %lld.%03lld", key, (long long)(wh / 1000),
	                (long long)(wh % 1000));
}

/* Append with bounds: pos advances, or becomes -1 for good. */
#define APPEND(expr)                                                                     \
	do {                                                                             \
		if (pos >= 0) {                                                          \
			int w_ = (expr);                                                 \
			pos = (w_ < 0 || (size_t)w_ >= size - (size_t)pos) ? -1 : pos + w_; \
		}                                                                        \
	} while (0)

static int put_reading(char *buf, size_t size, const struct sim_meter *m,
                       const struct sim_reading *r)
{
	int pos = 0;
	APPEND(snprintf(buf + pos, size - (size_t)pos, "{\"ts\": %lld", (long long)r->ts));
	APPEND(put_kwh(buf + pos, size - (size_t)pos, "1.8.0", r->reg_wh[0]));
	if (m->zones == 2) {
		APPEND(put_kwh(buf + pos, size - (size_t)pos, "1.8.1", r->reg_wh[1]));
		APPEND(put_kwh(buf + pos, size - (size_t)pos, "1.8.2", r->reg_wh[2]));
	}
	APPEND(snprintf(buf + pos, size - (size_t)pos, "}"));
	return pos;
}

static int put_head(char *buf, size_t size, const char *serial)
{
	int pos = 0;
	APPEND(snprintf(buf, size, "{\"meter\": \""));
	APPEND(put_json_string(buf + pos, size - (size_t)pos, serial));
	APPEND(snprintf(buf + pos, size - (size_t)pos, "\", \"readings\": ["));
	return pos;
}

int sim_payload(char *buf, size_t size, const struct sim_meter *m, const struct sim_reading *r,
                int n)
{
	int pos = put_head(buf, size, m->serial);
	for (int i = 0; i < n; i++) {
		if (i)
			APPEND(snprintf(buf + pos, size - (size_t)pos, ", "));
		APPEND(put_reading(buf + pos, size - (size_t)pos, m, &r[i]));
	}
	APPEND(snprintf(buf + pos, size - (size_t)pos, "]}"));
	return pos;
}

/* Kinds of malformed payload, each refused by the contract as a whole. */
enum { BAD_TRUNCATED, BAD_OTHER_METER, BAD_TS_STRING, BAD_NEGATIVE, BAD_NO_TOTAL,
       BAD_DECIMALS, BAD_NOT_OBJECT, BAD_KINDS };

int sim_payload_malformed(char *buf, size_t size, const struct sim_meter *m,
                          const struct sim_reading *r, unsigned kind)
{
	int pos;
	long long ts = (long long)r->ts, wh = (long long)r->reg_wh[0];
	switch (kind % BAD_KINDS) {
	case BAD_TRUNCATED:
		/* Cut inside the last value: unique per reading, never JSON. */
		pos = sim_payload(buf, size, m, r, 1);
		if (pos > 4)
			buf[pos -= 4] = '\0';
		return pos;
	case BAD_OTHER_METER: {
		char other[ASKUE_SERIAL_BYTES_MAX + 8];
		snprintf(other, sizeof other, "%s-X", m->serial);
		pos = put_head(buf, size, other);
		APPEND(put_reading(buf + pos, size - (size_t)pos, m, r));
		APPEND(snprintf(buf + pos, size - (size_t)pos, "]}"));
		return pos;
	}
	case BAD_TS_STRING:
		pos = put_head(buf, size, m->serial);
		APPEND(snprintf(buf + pos, size - (size_t)pos, "{\"ts\": \"%lld\", \"1.8.0\": %lld.%03lld}]}",
		                ts, wh / 1000, wh % 1000));
		return pos;
	case BAD_NEGATIVE:
		pos = put_head(buf, size, m->serial);
		APPEND(snprintf(buf + pos, size - (size_t)pos, "{\"ts\": %lld, \"1.8.0\": -%lld.%03lld}]}",
		                ts, wh / 1000 + 1, wh % 1000));
		return pos;
	case BAD_NO_TOTAL:
		pos = put_head(buf, size, m->serial);
		APPEND(snprintf(buf + pos, size - (size_t)pos, "{\"ts\": %lld, \"32.7.0\": 229.5}]}", ts));
		return pos;
	case BAD_DECIMALS:
		pos = put_head(buf, size, m->serial);
		APPEND(snprintf(buf + pos, size - (size_t)pos, "{\"ts\": %lld, \"1.8.0\": %lld.%03lld7}]}",
		                ts, wh / 1000, wh % 1000));
		return pos;
	default:
		return snprintf(buf, size, "[\"%lld\", %lld]", ts, wh);
	}
}
