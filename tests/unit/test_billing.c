/* Unit tests: lib/billing.c — invoices computed by hand, case by case.
 *
 * Every expected number below is worked out in the comment above it from
 * the readings and prices of the case, not copied from the program.
 * Instants: the utility's zone is taken as UTC+3 (Moscow), so the local
 * midnight of day D is D 00:00 UTC minus 3 hours; the core never converts
 * itself, the job gives it instants. Money: amount = Wh x micro-RUB/kWh /
 * 10^7 kopecks, rounded half up once per line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "config.h"

#define RUB(r, k) ((int64_t)(r) * 1000000 + (int64_t)(k) * 10000) /* price r.kk RUB/kWh */

static struct askue_date day(int y, int m, int d)
{
	return askue_date_from_ymd(y, m, d);
}

/* Local (UTC+3) day y-m-d at hour h, as UTC seconds. */
static int64_t at(int y, int m, int d, int h)
{
	return (int64_t)day(y, m, d).days * 86400 - 3 * 3600 + (int64_t)h * 3600;
}

static struct askue_bill_reading R1(int64_t ts, int64_t wh)
{
	return (struct askue_bill_reading){.ts = ts, .wh = {wh}, .mask = 1};
}

static struct askue_bill_reading R2(int64_t ts, int64_t t1, int64_t t2)
{
	return (struct askue_bill_reading){.ts = ts, .wh = {t1 + t2, t1, t2}, .mask = 7};
}

static struct askue_bill_reading R3(int64_t ts, int64_t t1, int64_t t2, int64_t t3)
{
	return (struct askue_bill_reading){.ts = ts, .wh = {t1 + t2 + t3, t1, t2, t3}, .mask = 15};
}

/* The period y-m with no segments, versions or history yet. */
static struct askue_bill_input period(int y, int m)
{
	struct askue_bill_input in = {.period = {y, m}, .norm_wh_month = -1};
	in.first = day(y, m, 1);
	in.end = m == 12 ? day(y + 1, 1, 1) : day(y, m + 1, 1);
	in.start_ts = (int64_t)in.first.days * 86400 - 3 * 3600;
	in.end_ts = (int64_t)in.end.days * 86400 - 3 * 3600;
	askue_bill_params_default(&in.params);
	return in;
}

static struct askue_bill_version one_zone(struct askue_date from, int64_t price)
{
	struct askue_bill_version v = {.from = from, .tariff = "Одноставочный", .n_zones = 1};
	v.from_ts = (int64_t)from.days * 86400 - 3 * 3600;
	v.zones[0] = (struct askue_bill_zone){0, "all"};
	v.price[0][0].micro_rub = price;
	v.price_from[0] = from;
	return v;
}

static struct askue_bill_version zoned(struct askue_date from, int n, const int64_t *price)
{
	static const char *const names[] = {"day", "night", "peak"};
	struct askue_bill_version v = {.from = from, .tariff = "Зонный", .n_zones = n};
	v.from_ts = (int64_t)from.days * 86400 - 3 * 3600;
	for (int z = 0; z < n; z++) {
		v.zones[z].idx = z + 1;
		snprintf(v.zones[z].name, sizeof v.zones[z].name, "%s", names[z]);
		v.price[z][0].micro_rub = price[z];
		v.price_from[z] = from;
	}
	return v;
}

/* A meter installed on 2025-01-01 (long before) with 0 on its registers. */
static struct askue_bill_segment meter(const char *serial, int zones)
{
	struct askue_bill_segment s = {.zones = zones, .capacity_wh = INT64_C(1000000000)};
	snprintf(s.serial, sizeof s.serial, "%s", serial);
	s.installed = day(2025, 1, 1);
	s.installed_ts = at(2025, 1, 1, 0);
	s.at_install.ts = s.installed_ts;
	s.at_install.mask = zones > 1 ? (2u << zones) - 1 : 1u;
	return s;
}

static struct askue_bill_result res; /* large: not on the stack */

static void compute(const struct askue_bill_input *in)
{
	enum askue_err err = askue_bill_compute(in, &res);
	if (err)
		fail_msg("askue_bill_compute: %s", askue_err_msg());
}

static void line_is(int i, int zone_idx, int64_t wh, int64_t price, int64_t kop, int band,
                    enum askue_bill_how how)
{
	assert_true(i < res.n_lines);
	const struct askue_bill_line *l = &res.lines[i];
	assert_int_equal(l->zone_idx, zone_idx);
	assert_int_equal(l->wh, wh);
	assert_int_equal(l->price.micro_rub, price);
	assert_int_equal(l->amount.kop, kop);
	assert_int_equal(l->band, band);
	assert_int_equal(l->how, how);
}

static int has_exception(enum askue_bill_exception_kind k)
{
	for (int i = 0; i < res.n_ex; i++)
		if (res.ex[i].kind == k)
			return 1;
	return 0;
}

static const struct askue_bill_determinant *det(const char *serial, int zone_idx)
{
	for (int i = 0; i < res.n_determinants; i++)
		if (!strcmp(res.determinants[i].serial, serial) &&
		    res.determinants[i].zone_idx == zone_idx)
			return &res.determinants[i];
	fail_msg("no determinant %s/%d", serial, zone_idx);
	return NULL;
}

/* One zone, readings exactly at both midnights.
 * 1,250.500 - 1,000.000 = 250.500 kWh x 6.12 = 1,533.06 RUB. */
static void single_zone(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(6, 12));
	struct askue_bill_segment s = meter("CE-1", 1);
	struct askue_bill_reading r[] = {R1(at(2026, 2, 28, 12), 990000), R1(in.start_ts, 1000000),
	                                 R1(at(2026, 3, 15, 0), 1100000), R1(in.end_ts, 1250500)};
	s.readings = r;
	s.n_readings = 4;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	assert_int_equal(res.n_lines, 1);
	line_is(0, 0, 250500, RUB(6, 12), 153306, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.charges.kop, 153306);
	assert_int_equal(res.days, 31);
	assert_false(res.estimated);
	assert_int_equal(res.lines[0].days_from.days, day(2026, 3, 1).days);
	assert_int_equal(res.lines[0].days_to.days, day(2026, 3, 31).days);
	assert_string_equal(res.lines[0].zone, "all");
	assert_int_equal(res.n_determinants, 1);
	const struct askue_bill_determinant *d = det("CE-1", 0);
	assert_int_equal(d->start_wh, 1000000);
	assert_int_equal(d->start_ts, in.start_ts);
	assert_int_equal(d->start_how, ASKUE_BILL_SRC_READING);
	assert_int_equal(d->end_wh, 1250500);
	assert_int_equal(d->end_ts, in.end_ts);
	assert_int_equal(d->end_how, ASKUE_BILL_SRC_READING);
	assert_int_equal(res.n_ex, 0);
}

/* Two zones from T1 and T2 (1.8.0 is not billed):
 *   day   950.250 - 800.000 = 150.250 kWh x 6.12 = 919.53 RUB
 *   night 260.100 - 200.000 =  60.100 kWh x 3.40 = 204.34 RUB
 *   total 1,123.87 RUB.
 * Three zones: 100 kWh x 7.50 = 750.00; 200 kWh x 5.10 = 1,020.00;
 *   50.005 kWh x 2.30 = 115.0115 -> 115.01; total 1,885.01 RUB. */
static void multi_zone(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	int64_t p2[] = {RUB(6, 12), RUB(3, 40)};
	struct askue_bill_version v = zoned(day(2025, 7, 1), 2, p2);
	struct askue_bill_segment s = meter("CE-2", 2);
	struct askue_bill_reading r[] = {R2(in.start_ts, 800000, 200000),
	                                 R2(in.end_ts, 950250, 260100)};
	s.readings = r;
	s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	assert_int_equal(res.n_lines, 2);
	line_is(0, 1, 150250, RUB(6, 12), 91953, 0, ASKUE_BILL_MEASURED);
	line_is(1, 2, 60100, RUB(3, 40), 20434, 0, ASKUE_BILL_MEASURED);
	assert_string_equal(res.lines[0].zone, "day");
	assert_int_equal(res.charges.kop, 112387);
	assert_int_equal(res.n_determinants, 2);
	assert_int_equal(det("CE-2", 2)->wh, 60100);

	int64_t p3[] = {RUB(7, 50), RUB(5, 10), RUB(2, 30)};
	struct askue_bill_version v3 = zoned(day(2025, 7, 1), 3, p3);
	struct askue_bill_segment s3 = meter("CE-3", 3);
	struct askue_bill_reading r3[] = {R3(in.start_ts, 1000000, 2000000, 3000000),
	                                  R3(in.end_ts, 1100000, 2200000, 3050005)};
	s3.readings = r3;
	s3.n_readings = 2;
	in.segments = &s3, in.versions = &v3;
	compute(&in);
	assert_int_equal(res.n_lines, 3);
	line_is(0, 1, 100000, RUB(7, 50), 75000, 0, ASKUE_BILL_MEASURED);
	line_is(1, 2, 200000, RUB(5, 10), 102000, 0, ASKUE_BILL_MEASURED);
	line_is(2, 3, 50005, RUB(2, 30), 11501, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.charges.kop, 188501);
}

/* Meter exchange on 2026-03-11: OLD from its start value 5,000.000 to its
 * removal reading 5,120.000 = 120.000 kWh; NEW from its installation
 * reading 0.000 to 95.250 at the end = 95.250 kWh. 215.250 kWh x 6.12 =
 * 1,317.33 RUB. The days: 10 + 21 = 31. */
static void meter_exchange(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(6, 12));
	struct askue_bill_segment s[2] = {meter("OLD", 1), meter("NEW", 1)};
	struct askue_bill_reading r0[] = {R1(in.start_ts, 5000000), R1(at(2026, 3, 10, 12), 5115000)};
	s[0].readings = r0, s[0].n_readings = 2;
	s[0].has_removed = 1, s[0].removed = day(2026, 3, 11), s[0].removed_ts = at(2026, 3, 11, 0);
	s[0].at_removal = R1(s[0].removed_ts, 5120000);
	s[1].installed = day(2026, 3, 11), s[1].installed_ts = at(2026, 3, 11, 0);
	s[1].at_install = R1(s[1].installed_ts, 0);
	struct askue_bill_reading r1[] = {R1(at(2026, 3, 20, 0), 40000), R1(in.end_ts, 95250)};
	s[1].readings = r1, s[1].n_readings = 2;
	in.segments = s, in.n_segments = 2, in.versions = &v, in.n_versions = 1;
	compute(&in);
	assert_int_equal(res.n_lines, 1);
	line_is(0, 0, 215250, RUB(6, 12), 131733, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.days, 31);
	assert_int_equal(res.n_determinants, 2);
	const struct askue_bill_determinant *d = det("OLD", 0);
	assert_int_equal(d->start_how, ASKUE_BILL_SRC_READING);
	assert_int_equal(d->end_how, ASKUE_BILL_SRC_REMOVAL);
	assert_int_equal(d->end_ts, s[0].removed_ts);
	assert_int_equal(d->wh, 120000);
	d = det("NEW", 0);
	assert_int_equal(d->start_how, ASKUE_BILL_SRC_INSTALLATION);
	assert_int_equal(d->start_ts, s[1].installed_ts);
	assert_int_equal(d->end_how, ASKUE_BILL_SRC_READING);
	assert_int_equal(d->wh, 95250);

	/* NEW had served this subscriber before and was billed then: an older
	 * invoice's end value does not start the new installation. */
	s[1].has_previous = 1;
	s[1].previous = R1(at(2026, 1, 1, 0), 70000);
	compute(&in);
	assert_int_equal(det("NEW", 0)->start_how, ASKUE_BILL_SRC_INSTALLATION);
	line_is(0, 0, 215250, RUB(6, 12), 131733, 0, ASKUE_BILL_MEASURED);
}

/* The price rises from 5.00 to 6.00 RUB/kWh on 2026-03-16.
 * With daily readings: 1,148.000 at 23:00 on the 15th and 1,150.000 at
 * 01:00 on the 16th give 1,149.000 at midnight (half way). So
 *   1,149.000 - 1,000.000 = 149.000 kWh x 5.00 = 745.00 RUB (1st-15th)
 *   1,310.000 - 1,149.000 = 161.000 kWh x 6.00 = 966.00 RUB (16th-31st).
 * Without readings near the change: 100.000 kWh pro rata by 15 and 16 of
 * 31 days: 100,000 x 15 / 31 = 48,387 rem 3; 100,000 x 16 / 31 = 51,612
 * rem 28; the Wh left over goes to the larger remainder: 48,387 and 51,613.
 *   48.387 kWh x 5.00 = 241.935 -> 241.94 RUB (exactly half a kopeck: up)
 *   51.613 kWh x 6.00 = 309.678 -> 309.68 RUB. */
static void price_change(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v[2] = {one_zone(day(2025, 7, 1), RUB(5, 0)),
	                                  one_zone(day(2026, 3, 16), RUB(6, 0))};
	struct askue_bill_segment s = meter("CE-4", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 1000000), R1(at(2026, 3, 15, 23), 1148000),
	                                 R1(at(2026, 3, 16, 1), 1150000), R1(in.end_ts, 1310000)};
	s.readings = r, s.n_readings = 4;
	in.segments = &s, in.n_segments = 1, in.versions = v, in.n_versions = 2;
	compute(&in);
	assert_int_equal(res.n_lines, 2);
	line_is(0, 0, 149000, RUB(5, 0), 74500, 0, ASKUE_BILL_MEASURED);
	line_is(1, 0, 161000, RUB(6, 0), 96600, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.lines[0].days_to.days, day(2026, 3, 15).days);
	assert_int_equal(res.lines[1].days_from.days, day(2026, 3, 16).days);
	assert_int_equal(res.lines[1].price_from.days, day(2026, 3, 16).days);
	assert_null(strstr(res.lines[0].note, "pro rata"));

	struct askue_bill_reading r2[] = {R1(in.start_ts, 1000000), R1(in.end_ts, 1100000)};
	s.readings = r2, s.n_readings = 2;
	compute(&in);
	assert_int_equal(res.n_lines, 2);
	line_is(0, 0, 48387, RUB(5, 0), 24194, 0, ASKUE_BILL_MEASURED);
	line_is(1, 0, 51613, RUB(6, 0), 30968, 0, ASKUE_BILL_MEASURED);
	assert_non_null(strstr(res.lines[0].note, "pro rata by days"));
	assert_non_null(strstr(res.lines[1].note, "pro rata by days"));
	assert_int_equal(res.charges.kop, 24194 + 30968);
}

/* A zone whose price did not change continues one line: day 5.00 -> 6.00
 * on the 16th, night 3.00 all month. Pro rata (no readings near): day
 * 31.000 kWh = 15.000 + 16.000 (31,000 x 15/31, x 16/31 exactly); night
 * 10.000 kWh on one line. 15 x 5 = 75.00; 16 x 6 = 96.00; 10 x 3 = 30.00. */
static void unchanged_zone_merges(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	int64_t a[] = {RUB(5, 0), RUB(3, 0)}, b[] = {RUB(6, 0), RUB(3, 0)};
	struct askue_bill_version v[2] = {zoned(day(2025, 7, 1), 2, a), zoned(day(2026, 3, 16), 2, b)};
	v[1].price_from[1] = day(2025, 7, 1); /* the night price row is the old one */
	struct askue_bill_segment s = meter("CE-5", 2);
	struct askue_bill_reading r[] = {R2(in.start_ts, 0, 0), R2(in.end_ts, 31000, 10000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = v, in.n_versions = 2;
	compute(&in);
	assert_int_equal(res.n_lines, 3);
	line_is(0, 1, 15000, RUB(5, 0), 7500, 0, ASKUE_BILL_MEASURED);
	line_is(1, 1, 16000, RUB(6, 0), 9600, 0, ASKUE_BILL_MEASURED);
	line_is(2, 2, 10000, RUB(3, 0), 3000, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.lines[2].days_from.days, day(2026, 3, 1).days);
	assert_int_equal(res.lines[2].days_to.days, day(2026, 3, 31).days);
}

/* The subscriber moves from the one-zone tariff (5.00) to day/night (6.00
 * / 3.00) on 16 March; a two-zone meter with daily readings. Around the
 * cut: 1.8.0 280.000 / 282.000, T1 200.000 / 202.000, T2 80.000 / 80.000
 * at 23:00 and 01:00 -> at midnight 281.000, 201.000, 80.000.
 *   all   (1.8.0) 281.000 - 150.000 = 131.000 kWh x 5.00 = 655.00 (1st-15th)
 *   day   (T1)    301.000 - 201.000 = 100.000 kWh x 6.00 = 600.00 (16th-31st)
 *   night (T2)    130.000 -  80.000 =  50.000 kWh x 3.00 = 150.00
 * A first tariff chosen on the 10th covers the days before it too. */
static void tariff_switch(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	int64_t p[] = {RUB(6, 0), RUB(3, 0)};
	struct askue_bill_version v[2] = {one_zone(day(2025, 7, 1), RUB(5, 0)),
	                                  zoned(day(2026, 3, 16), 2, p)};
	struct askue_bill_segment s = meter("CE-17", 2);
	struct askue_bill_reading r[] = {R2(in.start_ts, 100000, 50000),
	                                 R2(at(2026, 3, 15, 23), 200000, 80000),
	                                 R2(at(2026, 3, 16, 1), 202000, 80000),
	                                 R2(in.end_ts, 301000, 130000)};
	s.readings = r, s.n_readings = 4;
	in.segments = &s, in.n_segments = 1, in.versions = v, in.n_versions = 2;
	compute(&in);
	assert_int_equal(res.n_lines, 3);
	line_is(0, 0, 131000, RUB(5, 0), 65500, 0, ASKUE_BILL_MEASURED);
	line_is(1, 1, 100000, RUB(6, 0), 60000, 0, ASKUE_BILL_MEASURED);
	line_is(2, 2, 50000, RUB(3, 0), 15000, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.lines[0].days_to.days, day(2026, 3, 15).days);
	assert_int_equal(res.lines[1].days_from.days, day(2026, 3, 16).days);
	assert_int_equal(res.n_determinants, 3); /* 1.8.0, T1, T2 */
	assert_int_equal(res.charges.kop, 140500);

	v[0].from = day(2026, 3, 10), v[0].from_ts = at(2026, 3, 10, 0);
	in.n_versions = 1;
	compute(&in);
	line_is(0, 0, 281000, RUB(5, 0), 140500, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(res.lines[0].days_from.days, day(2026, 3, 1).days);
}

/* No reading at the end midnight: 2,290.000 at 18:00 on the 31st (6 h
 * before) and 2,300.001 at 18:00 on 1 April (18 h after): 10.001 kWh in
 * 24 h, 6 h of it: 10,001 x 6 / 24 = 2,500.25 -> 2,500 Wh; end 2,292.500.
 * 2,292.500 - 2,000.000 = 292.500 kWh x 6.12 = 1,790.10 RUB. */
static void interpolated_end(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(6, 12));
	struct askue_bill_segment s = meter("CE-6", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 2000000), R1(at(2026, 3, 31, 18), 2290000),
	                                 R1(at(2026, 4, 1, 18), 2300001)};
	s.readings = r, s.n_readings = 3;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	line_is(0, 0, 292500, RUB(6, 12), 179010, 0, ASKUE_BILL_MEASURED);
	const struct askue_bill_determinant *d = det("CE-6", 0);
	assert_int_equal(d->end_how, ASKUE_BILL_SRC_INTERPOLATED);
	assert_int_equal(d->end_wh, 2292500);
	assert_int_equal(d->end_ts, in.end_ts);
}

/* Three measured periods: December 310.000, January 341.000 (31 days
 * each), February 252.000 kWh (28 days): 903,000 Wh in 90 days. */
static void history3(struct askue_bill_history *h)
{
	h[0] = (struct askue_bill_history){{2025, 12}, 31, {310000}, ASKUE_BILL_MEASURED};
	h[1] = (struct askue_bill_history){{2026, 1}, 31, {341000}, ASKUE_BILL_MEASURED};
	h[2] = (struct askue_bill_history){{2026, 2}, 28, {252000}, ASKUE_BILL_MEASURED};
}

/* A meter falls silent on 5 March.
 * March: no reading at or after the end: the average 903,000 Wh / 90 days
 *   x 31 days = 311,033.33 -> 311,033 Wh; end 3,000.000 + 311.033 =
 *   3,311.033 (estimated). 311.033 kWh x 5.00 = 1,555.165 -> 1,555.17 RUB.
 * April: it reports again: 3,600.000 at the end; the start is March's
 *   estimated end, so 3,600.000 - 3,311.033 = 288.967 kWh x 5.00 =
 *   1,444.835 -> 1,444.84 RUB: March is trued up by itself.
 *   Had it read 3,300.000: -11.033 kWh x 5.00 = -55.165 -> -55.17 RUB
 *   (half away from zero), a credit.
 * May, after two estimated periods: still the average.
 * June, after three: the norm, 2 residents x 86 kWh = 172.000 kWh a month,
 *   x 30/30 days = 172.000 kWh x 5.00 = 860.00 RUB. */
static void silent_meter(void **state)
{
	(void)state;
	struct askue_bill_history h[6];
	history3(h);
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-7", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 3000000), R1(at(2026, 3, 5, 0), 3050000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 3;
	compute(&in);
	line_is(0, 0, 311033, RUB(5, 0), 155517, 0, ASKUE_BILL_AVERAGE);
	assert_non_null(strstr(res.lines[0].note, "estimated: average of 3 periods"));
	assert_true(res.estimated);
	assert_true(has_exception(ASKUE_BILL_EX_ESTIMATED_AVERAGE));
	const struct askue_bill_determinant *d = det("CE-7", 0);
	assert_int_equal(d->end_how, ASKUE_BILL_SRC_ESTIMATED);
	assert_int_equal(d->end_wh, 3311033);

	h[3] = (struct askue_bill_history){{2026, 3}, 31, {311033}, ASKUE_BILL_AVERAGE};
	in = period(2026, 4);
	s.has_previous = 1, s.previous_estimated = 1;
	s.previous = R1(in.start_ts, 3311033);
	struct askue_bill_reading r4[] = {R1(at(2026, 4, 20, 0), 3500000), R1(in.end_ts, 3600000)};
	s.readings = r4, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 4;
	compute(&in);
	line_is(0, 0, 288967, RUB(5, 0), 144484, 0, ASKUE_BILL_MEASURED);
	assert_int_equal(det("CE-7", 0)->start_how, ASKUE_BILL_SRC_PREVIOUS);
	assert_false(res.estimated);
	assert_int_equal(res.n_ex, 0);

	struct askue_bill_reading r4low[] = {R1(at(2026, 4, 20, 0), 3200000), R1(in.end_ts, 3300000)};
	s.readings = r4low;
	compute(&in);
	line_is(0, 0, -11033, RUB(5, 0), -5517, 0, ASKUE_BILL_MEASURED);
	assert_false(has_exception(ASKUE_BILL_EX_BACKWARDS));
	assert_non_null(strstr(det("CE-7", 0)->note, "true-up"));

	/* May: history ends with two estimated periods -> the average. */
	h[4] = (struct askue_bill_history){{2026, 4}, 30, {300000}, ASKUE_BILL_AVERAGE};
	in = period(2026, 5);
	s.previous = R1(in.start_ts, 3900000);
	s.readings = NULL, s.n_readings = 0;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 5;
	in.norm_wh_month = 172000;
	compute(&in);
	assert_int_equal(res.lines[0].how, ASKUE_BILL_AVERAGE);

	h[5] = (struct askue_bill_history){{2026, 5}, 31, {311033}, ASKUE_BILL_AVERAGE};
	in = period(2026, 6);
	s.previous = R1(in.start_ts, 3900000);
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 6;
	in.norm_wh_month = 172000;
	compute(&in);
	line_is(0, 0, 172000, RUB(5, 0), 86000, 0, ASKUE_BILL_NORM);
	assert_non_null(strstr(res.lines[0].note, "estimated: norm"));
	assert_true(has_exception(ASKUE_BILL_EX_ESTIMATED_NORM));
	assert_int_equal(det("CE-7", 0)->end_wh, 4072000);

	/* The same without a norm: not billed, and said so. */
	in.norm_wh_month = -1;
	compute(&in);
	assert_int_equal(res.n_lines, 0);
	assert_true(has_exception(ASKUE_BILL_EX_NO_NORM));
}

/* A two-zone estimate is split by the zones' shares in history: day
 * 600.000, night 300.000 kWh in 90 days. 900,000 x 31 / 90 = 310,000 Wh;
 * day 310,000 x 600/900 = 206,666 rem 600,000, night 103,333 rem 300,000;
 * the Wh left goes to day: 206,667 + 103,333.
 * 206.667 x 6.00 = 1,240.002 -> 1,240.00; 103.333 x 3.00 = 309.999 -> 310.00. */
static void estimate_two_zones(void **state)
{
	(void)state;
	struct askue_bill_history h[3] = {
		{{2025, 12}, 31, {0, 200000, 100000}, ASKUE_BILL_MEASURED},
		{{2026, 1}, 31, {0, 200000, 100000}, ASKUE_BILL_MEASURED},
		{{2026, 2}, 28, {0, 200000, 100000}, ASKUE_BILL_MEASURED},
	};
	struct askue_bill_input in = period(2026, 3);
	int64_t p[] = {RUB(6, 0), RUB(3, 0)};
	struct askue_bill_version v = zoned(day(2025, 7, 1), 2, p);
	struct askue_bill_segment s = meter("CE-8", 2);
	struct askue_bill_reading r[] = {R2(in.start_ts, 1000000, 500000)};
	s.readings = r, s.n_readings = 1;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 3;
	compute(&in);
	line_is(0, 1, 206667, RUB(6, 0), 124000, 0, ASKUE_BILL_AVERAGE);
	line_is(1, 2, 103333, RUB(3, 0), 31000, 0, ASKUE_BILL_AVERAGE);
}

/* A new subscriber's meter installed on 11 March at 0.000, silent since:
 * no history, so the norm, 172.000 kWh a month x 21 of 31 days =
 * 3,612,000 / 31 = 116,516.13 -> 116,516 Wh x 5.00 = 582.58 RUB. */
static void new_meter_by_norm(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-9", 1);
	s.installed = day(2026, 3, 11), s.installed_ts = at(2026, 3, 11, 0);
	s.at_install = R1(s.installed_ts, 0);
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.norm_wh_month = 172000;
	compute(&in);
	line_is(0, 0, 116516, RUB(5, 0), 58258, 0, ASKUE_BILL_NORM);
	assert_int_equal(res.days, 21);
	assert_int_equal(det("CE-9", 0)->start_how, ASKUE_BILL_SRC_INSTALLATION);
}

/* Rollover: a 100,000.000 kWh register from 99,950.000 to 30.000:
 * 100,000.000 - 99,950.000 + 30.000 = 80.000 kWh x 5.00 = 400.00 RUB.
 * Backwards: 5,000.000 -> 4,990.000 on a 1,000,000 kWh register would
 * be a wrap of 999,990 kWh in 31 days, far above 1,000 kWh a day: the
 * register went backwards; billed 0, reported. */
static void rollover_and_backwards(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-10", 1);
	s.capacity_wh = 100000000;
	struct askue_bill_reading r[] = {R1(in.start_ts, 99950000), R1(in.end_ts, 30000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	line_is(0, 0, 80000, RUB(5, 0), 40000, 0, ASKUE_BILL_MEASURED);
	assert_true(has_exception(ASKUE_BILL_EX_ROLLOVER));
	assert_non_null(strstr(det("CE-10", 0)->note, "rollover"));

	s.capacity_wh = INT64_C(1000000000);
	struct askue_bill_reading b[] = {R1(in.start_ts, 5000000), R1(in.end_ts, 4990000)};
	s.readings = b;
	compute(&in);
	line_is(0, 0, 0, RUB(5, 0), 0, 0, ASKUE_BILL_MEASURED);
	assert_true(has_exception(ASKUE_BILL_EX_BACKWARDS));
	assert_false(has_exception(ASKUE_BILL_EX_ROLLOVER));
	assert_int_equal(det("CE-10", 0)->wh, 0);
	assert_non_null(strstr(det("CE-10", 0)->note, "went backwards"));
}

static struct askue_bill_version banded(struct askue_bill_version v, const int64_t p[][3])
{
	v.n_bands = 3;
	v.band_upto_wh[0] = 3900000, v.band_upto_wh[1] = 6000000;
	for (int z = 0; z < v.n_zones; z++)
		for (int b = 0; b < 3; b++)
			v.price[z][b].micro_rub = p[z][b];
	return v;
}

/* Household bands 3,900 / 6,000 kWh a month.
 * One zone, 7,000.000 kWh at 5.00 / 7.00 / 9.00:
 *   3,900 x 5.00 = 19,500.00; 2,100 x 7.00 = 14,700.00; 1,000 x 9.00 =
 *   9,000.00; total 43,200.00 RUB.
 * Two zones, day 4,000.000 + night 1,000.001 = 5,000.001 kWh: band 1
 * 3,900,000 Wh, band 2 1,100,001 Wh, band 3 0. Day (the first line) takes
 * of each band its share of what is left: 4,000,000 x 3,900,000 /
 * 5,000,001 = 3,119,999 rem 1,880,001; 4,000,000 x 1,100,001 / 5,000,001
 * = 880,000 rem 3,120,000; the Wh left over to the larger remainder (band
 * 2): 3,119,999 + 880,001. Night takes the rest: 780,001 + 220,000.
 *   day   b1 3,119.999 x 6.00 = 18,719.994 -> 18,719.99
 *   day   b2   880.001 x 8.00 =  7,040.008 ->  7,040.01
 *   night b1   780.001 x 3.00 =  2,340.003 ->  2,340.00
 *   night b2   220.000 x 4.00 =    880.00
 *   total 28,980.00 RUB. */
static void volume_bands(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	static const int64_t p1[1][3] = {{RUB(5, 0), RUB(7, 0), RUB(9, 0)}};
	struct askue_bill_version v = banded(one_zone(day(2025, 7, 1), 0), p1);
	struct askue_bill_segment s = meter("CE-11", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 0), R1(in.end_ts, 7000000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	assert_int_equal(res.n_lines, 3);
	line_is(0, 0, 3900000, RUB(5, 0), 1950000, 1, ASKUE_BILL_MEASURED);
	line_is(1, 0, 2100000, RUB(7, 0), 1470000, 2, ASKUE_BILL_MEASURED);
	line_is(2, 0, 1000000, RUB(9, 0), 900000, 3, ASKUE_BILL_MEASURED);
	assert_int_equal(res.charges.kop, 4320000);

	static const int64_t p2[2][3] = {{RUB(6, 0), RUB(8, 0), RUB(10, 0)},
	                                 {RUB(3, 0), RUB(4, 0), RUB(5, 0)}};
	int64_t unused[2] = {0, 0};
	struct askue_bill_version v2 = banded(zoned(day(2025, 7, 1), 2, unused), p2);
	struct askue_bill_segment s2 = meter("CE-12", 2);
	struct askue_bill_reading r2[] = {R2(in.start_ts, 0, 0), R2(in.end_ts, 4000000, 1000001)};
	s2.readings = r2, s2.n_readings = 2;
	in.segments = &s2, in.versions = &v2;
	compute(&in);
	assert_int_equal(res.n_lines, 4);
	line_is(0, 1, 3119999, RUB(6, 0), 1871999, 1, ASKUE_BILL_MEASURED);
	line_is(1, 1, 880001, RUB(8, 0), 704001, 2, ASKUE_BILL_MEASURED);
	line_is(2, 2, 780001, RUB(3, 0), 234000, 1, ASKUE_BILL_MEASURED);
	line_is(3, 2, 220000, RUB(4, 0), 88000, 2, ASKUE_BILL_MEASURED);
	assert_int_equal(res.charges.kop, 2898000);
	assert_int_equal(res.wh, 5000001);
}

/* Rounding once per line, half up: 1.001 kWh x 5.00 = 5.005 RUB = 500.5
 * kopecks -> 5.01; 1.001 kWh x 4.99 = 4.99499 RUB -> 4.99. */
static void half_kopeck(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-13", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 7000), R1(in.end_ts, 8001)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	compute(&in);
	line_is(0, 0, 1001, RUB(5, 0), 501, 0, ASKUE_BILL_MEASURED);
	v.price[0][0].micro_rub = RUB(4, 99);
	compute(&in);
	line_is(0, 0, 1001, RUB(4, 99), 499, 0, ASKUE_BILL_MEASURED);
}

/* Consumption above 3 x the usual: usual 900.000 kWh in 90 days; March's
 * 1,000.000 kWh in 31 days: 1,000,000 x 90 = 90,000,000 > 3 x 900,000 x
 * 31 = 83,700,000: reported. 800.000 kWh (72,000,000) is not. A meter past
 * its verification marks its lines. */
static void high_and_verification(void **state)
{
	(void)state;
	struct askue_bill_history h[3] = {
		{{2025, 12}, 30, {300000}, ASKUE_BILL_MEASURED},
		{{2026, 1}, 30, {300000}, ASKUE_BILL_MEASURED},
		{{2026, 2}, 30, {300000}, ASKUE_BILL_MEASURED},
	};
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-14", 1);
	struct askue_bill_reading r[] = {R1(in.start_ts, 0), R1(in.end_ts, 1000000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	in.history = h, in.n_history = 3;
	compute(&in);
	assert_true(has_exception(ASKUE_BILL_EX_HIGH));
	assert_int_equal(res.usual_wh_day_num, 900000);
	assert_int_equal(res.usual_wh_day_den, 90);
	r[1].wh[0] = 800000;
	s.verification_overdue = 1;
	compute(&in);
	assert_false(has_exception(ASKUE_BILL_EX_HIGH));
	assert_true(has_exception(ASKUE_BILL_EX_VERIFICATION));
	assert_non_null(strstr(res.lines[0].note, "meter past its verification"));
	line_is(0, 0, 800000, RUB(5, 0), 400000, 0, ASKUE_BILL_MEASURED);
}

/* No tariff: nothing billed, reported. No meter: the norm for the month,
 * 172.000 kWh x 5.00 = 860.00 RUB. */
static void no_tariff_no_meter(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_segment s = meter("CE-15", 1);
	in.segments = &s, in.n_segments = 1;
	compute(&in);
	assert_int_equal(res.n_lines, 0);
	assert_true(has_exception(ASKUE_BILL_EX_NO_TARIFF));

	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	in.n_segments = 0, in.versions = &v, in.n_versions = 1, in.norm_wh_month = 172000;
	compute(&in);
	line_is(0, 0, 172000, RUB(5, 0), 86000, 0, ASKUE_BILL_NORM);
	assert_true(has_exception(ASKUE_BILL_EX_NO_METER));
	assert_int_equal(res.days, 31);
}

/* The job's mistakes are errors naming the field; the same input gives
 * the same result. */
static void bad_input_and_determinism(void **state)
{
	(void)state;
	struct askue_bill_input in = period(2026, 3);
	struct askue_bill_version v = one_zone(day(2025, 7, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CE-16", 1);
	struct askue_bill_reading r[] = {R1(in.end_ts, 2000), R1(in.start_ts, 1000)};
	s.readings = r, s.n_readings = 2;
	in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
	assert_int_equal(askue_bill_compute(&in, &res), ASKUE_ERR_INVALID);
	assert_non_null(strstr(askue_err_msg(), "CE-16"));
	assert_non_null(strstr(askue_err_msg(), "reading 2"));

	r[0] = R1(in.start_ts, 1000), r[1] = R1(in.end_ts, 2000);
	r[1].mask = 0x10; /* no such register */
	assert_int_equal(askue_bill_compute(&in, &res), ASKUE_ERR_INVALID);
	r[1].mask = 3; /* T1 on a one-zone meter: ignored */
	r[1].wh[1] = 123;
	compute(&in);
	line_is(0, 0, 1000, RUB(5, 0), 500, 0, ASKUE_BILL_MEASURED);
	r[1].mask = 1;
	struct askue_bill_version two[2] = {v, v};
	in.versions = two, in.n_versions = 2; /* the same from twice */
	assert_int_equal(askue_bill_compute(&in, &res), ASKUE_ERR_INVALID);
	in.versions = &v, in.n_versions = 1;
	in.n_segments = ASKUE_BILL_SEGMENTS_MAX + 1;
	assert_int_equal(askue_bill_compute(&in, &res), ASKUE_ERR_LIMIT);
	in.n_segments = 1;

	compute(&in);
	int64_t kop = res.charges.kop;
	struct askue_bill_line first = res.lines[0];
	compute(&in);
	assert_int_equal(res.charges.kop, kop);
	assert_int_equal(res.lines[0].wh, first.wh);
	assert_string_equal(res.lines[0].note, first.note);
}

/* Two years of a meter that falls silent for spells of one to five months
 * (seeded, reproducible), billed month after month as the job does: the
 * previous invoice's end values start the next, the invoices are the
 * history. Estimates come and go, but once the meter reports at a period's
 * end, everything billed adds up exactly to the register's climb. */
static void chain_conserves_energy(void **state)
{
	(void)state;
	static struct askue_bill_reading r[2][80];
	struct askue_bill_history h[ASKUE_BILL_HISTORY_MAX];
	struct askue_bill_version v = one_zone(day(2020, 1, 1), RUB(5, 0));
	struct askue_bill_segment s = meter("CHAIN", 1);
	s.installed = day(2024, 12, 1), s.installed_ts = at(2024, 12, 1, 0);
	s.at_install = R1(s.installed_ts, 1000000);
	uint32_t seed = 12345;
	int64_t reg = 1000000, billed = 0, first_value = reg;
	int silent_left = 0, n_hist = 0, estimated_periods = 0, norm_periods = 0;
	for (int m = 0; m < 24; m++) {
		struct askue_bill_input in = period(2025 + m / 12, 1 + m % 12);
		struct askue_bill_reading *rr = r[m % 2];
		int n = 0;
		if (silent_left == 0 && m > 0 && m < 22) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 4 == 0)
				silent_left = 1 + (int)((seed >> 8) % 5);
			if (silent_left > 22 - m)
				silent_left = 22 - m; /* the last periods end measured */
		}
		for (int d = 0; d <= in.end.days - in.first.days; d++) {
			seed = seed * 1103515245u + 12345u;
			int64_t ts = in.start_ts + (int64_t)d * 86400;
			if (!silent_left || d == 0)
				rr[n++] = R1(ts, reg); /* a silent spell starts after the 1st */
			if (d < in.end.days - in.first.days)
				reg += 3000 + (seed >> 16) % 9000; /* 3..12 kWh a day */
		}
		s.readings = rr, s.n_readings = n;
		in.segments = &s, in.n_segments = 1, in.versions = &v, in.n_versions = 1;
		in.history = h + (n_hist > 12 ? n_hist - 12 : 0);
		in.n_history = n_hist > 12 ? 12 : n_hist;
		in.norm_wh_month = 150000;
		compute(&in);
		assert_int_equal(res.n_lines, 1);
		billed += res.wh;
		estimated_periods += res.estimated;
		norm_periods += res.how == ASKUE_BILL_NORM;
		const struct askue_bill_determinant *d = det("CHAIN", 0);
		s.has_previous = 1;
		s.previous = R1(d->end_ts, d->end_wh);
		s.previous_estimated = d->end_how == ASKUE_BILL_SRC_ESTIMATED;
		h[n_hist++] = (struct askue_bill_history){in.period, res.days, {res.wh}, res.how};
		if (silent_left)
			silent_left--;
	}
	/* the seed gives silent spells, one long enough for the norm */
	assert_true(estimated_periods >= 3);
	assert_true(norm_periods >= 1);
	assert_false(res.estimated);
	assert_int_equal(billed, reg - first_value);
}

/* ---- cases as data: tests/unit/billing/NAME.case -----------------------
 * One directive a line ('#' starts a comment; instants are local UTC+3):
 *   period YYYY-MM
 *   version FROM TARIFF ZONE=RUB[/RUB/RUB].. [bands KWH[,KWH]]
 *   meter SERIAL ZONES [capacity KWH] [installed DATE KWH[,..]]
 *         [removed DATE KWH[,..]|-] [overdue]
 *   reading SERIAL DATE HOUR KWH[,..]   (1.8.0; or T1,T2[,T3] on a zoned meter)
 *   previous SERIAL DATE HOUR KWH[,..] [estimated]
 *   history YYYY-MM DAYS measured|average|norm KWH[,..]  (one value: 1.8.0)
 *   norm KWH
 *   expect line ZONE KWH PRICE AMOUNT [band N] [how H]
 *   expect charges AMOUNT | expect lines N | expect exception KIND
 * Every expected number is worked out by hand in the case's comments. */

struct bcase {
	struct askue_bill_input in;
	struct askue_bill_version v[ASKUE_BILL_VERSIONS_MAX];
	struct askue_bill_segment s[ASKUE_BILL_SEGMENTS_MAX];
	struct askue_bill_reading r[ASKUE_BILL_SEGMENTS_MAX][64];
	struct askue_bill_history h[ASKUE_BILL_HISTORY_MAX];
	int computed, line;
};

static void case_fail(const char *path, int line, const char *what, const char *arg)
{
	fail_msg("%s:%d: %s '%s'", path, line, what, arg ? arg : "");
}

static int64_t kwh_of(const char *path, int line, const char *s)
{
	struct askue_energy e;
	if (!s || askue_energy_parse_kwh(s, &e))
		case_fail(path, line, "kWh", s);
	return e.wh;
}

static struct askue_date date_of(const char *path, int line, const char *s)
{
	struct askue_date d;
	if (!s || askue_date_parse(s, &d))
		case_fail(path, line, "date", s);
	return d;
}

/* "KWH" (1.8.0) or "T1,T2[,T3]" (1.8.0 = their sum). */
static struct askue_bill_reading regs_of(const char *path, int line, int64_t ts, char *s)
{
	struct askue_bill_reading r = {.ts = ts};
	if (!strcmp(s, "-"))
		return r; /* no reading written down */
	char *save = NULL;
	int n = 0;
	int64_t v[ASKUE_ZONES_MAX + 1];
	for (char *p = strtok_r(s, ",", &save); p && n <= ASKUE_ZONES_MAX; p = strtok_r(NULL, ",", &save))
		v[n++] = kwh_of(path, line, p);
	r.mask = n == 1 ? 1u : (2u << n) - 1;
	for (int i = 0; i < n; i++) {
		r.wh[n == 1 ? 0 : i + 1] = v[i];
		if (n > 1)
			r.wh[0] += v[i];
	}
	return r;
}

static struct askue_bill_segment *seg_named(struct bcase *c, const char *path, int line,
                                            const char *serial)
{
	for (int i = 0; i < c->in.n_segments; i++)
		if (!strcmp(c->s[i].serial, serial))
			return &c->s[i];
	case_fail(path, line, "no meter", serial);
	return NULL;
}

static void case_version(struct bcase *c, const char *path, int line, char **tok, int n)
{
	struct askue_bill_version *v = &c->v[c->in.n_versions++];
	v->from = date_of(path, line, tok[1]);
	v->from_ts = (int64_t)v->from.days * 86400 - 3 * 3600;
	snprintf(v->tariff, sizeof v->tariff, "%s", tok[2]);
	for (int i = 3; i < n; i++) {
		if (!strcmp(tok[i], "bands") && i + 1 < n) {
			char *save = NULL;
			v->n_bands = 1;
			for (char *p = strtok_r(tok[++i], ",", &save); p; p = strtok_r(NULL, ",", &save))
				v->band_upto_wh[v->n_bands++ - 1] = kwh_of(path, line, p);
			continue;
		}
		char *eq = strchr(tok[i], '=');
		if (!eq)
			case_fail(path, line, "expected ZONE=PRICE", tok[i]);
		*eq = '\0';
		int z = v->n_zones++;
		snprintf(v->zones[z].name, sizeof v->zones[z].name, "%s", tok[i]);
		v->zones[z].idx = strcmp(tok[i], "all") ? z + 1 : 0;
		v->price_from[z] = v->from;
		char *save = NULL;
		int b = 0;
		for (char *p = strtok_r(eq + 1, "/", &save); p && b < ASKUE_BILL_BANDS_MAX;
		     p = strtok_r(NULL, "/", &save))
			if (askue_price_parse(p, &v->price[z][b++]))
				case_fail(path, line, "price", p);
		/* as the loader does: an unchanged price keeps its row's date */
		const struct askue_bill_version *pv = v > c->v ? v - 1 : NULL;
		if (pv && z < pv->n_zones && !strcmp(pv->zones[z].name, v->zones[z].name) &&
		    !memcmp(pv->price[z], v->price[z], sizeof v->price[z]))
			v->price_from[z] = pv->price_from[z];
	}
}

static void case_meter(struct bcase *c, const char *path, int line, char **tok, int n)
{
	int i = c->in.n_segments++;
	struct askue_bill_segment *s = &c->s[i];
	snprintf(s->serial, sizeof s->serial, "%s", tok[1]);
	s->zones = atoi(tok[2]);
	s->capacity_wh = INT64_C(1000000000);
	s->installed = day(2000, 1, 1);
	s->installed_ts = (int64_t)s->installed.days * 86400 - 3 * 3600;
	s->readings = c->r[i];
	for (int k = 3; k < n; k++) {
		if (!strcmp(tok[k], "capacity") && k + 1 < n) {
			s->capacity_wh = kwh_of(path, line, tok[++k]);
		} else if (!strcmp(tok[k], "installed") && k + 2 < n) {
			s->installed = date_of(path, line, tok[++k]);
			s->installed_ts = (int64_t)s->installed.days * 86400 - 3 * 3600;
			s->at_install = regs_of(path, line, s->installed_ts, tok[++k]);
		} else if (!strcmp(tok[k], "removed") && k + 2 < n) {
			s->has_removed = 1;
			s->removed = date_of(path, line, tok[++k]);
			s->removed_ts = (int64_t)s->removed.days * 86400 - 3 * 3600;
			s->at_removal = regs_of(path, line, s->removed_ts, tok[++k]);
		} else if (!strcmp(tok[k], "overdue")) {
			s->verification_overdue = 1;
		} else {
			case_fail(path, line, "meter option", tok[k]);
		}
	}
}

static void case_expect(struct bcase *c, const char *path, int line, char **tok, int n)
{
	if (!c->computed) {
		if (askue_bill_compute(&c->in, &res))
			fail_msg("%s:%d: askue_bill_compute: %s", path, line, askue_err_msg());
		c->computed = 1;
	}
	struct askue_money m;
	if (!strcmp(tok[1], "charges")) {
		if (n < 3 || askue_money_parse(tok[2], &m) || m.kop != res.charges.kop)
			fail_msg("%s:%d: charges %" PRId64 " kop", path, line, res.charges.kop);
	} else if (!strcmp(tok[1], "lines")) {
		if (n < 3 || atoi(tok[2]) != res.n_lines)
			fail_msg("%s:%d: %d lines", path, line, res.n_lines);
	} else if (!strcmp(tok[1], "exception")) {
		int found = 0;
		for (int i = 0; i < res.n_ex; i++)
			found |= !strcmp(askue_bill_exception_name(res.ex[i].kind), tok[2]);
		if (!found)
			fail_msg("%s:%d: no exception %s", path, line, tok[2]);
	} else if (!strcmp(tok[1], "days")) {
		if (n < 3 || atoi(tok[2]) != res.days)
			fail_msg("%s:%d: %d days", path, line, res.days);
	} else if (!strcmp(tok[1], "note") && n >= 4) {
		/* expect note I TEXT..: line I's note has TEXT */
		char text[256] = "";
		for (int k = 3; k < n; k++)
			snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", k > 3 ? " " : "",
			         tok[k]);
		int i = atoi(tok[2]);
		if (i < 0 || i >= res.n_lines || !strstr(res.lines[i].note, text))
			fail_msg("%s:%d: line %d note '%s'", path, line, i,
			         i >= 0 && i < res.n_lines ? res.lines[i].note : "");
	} else if (!strcmp(tok[1], "span") && n == 5) {
		/* expect span I FROM TO: the days line I covers */
		int i = atoi(tok[2]);
		if (i < 0 || i >= res.n_lines ||
		    res.lines[i].days_from.days != date_of(path, line, tok[3]).days ||
		    res.lines[i].days_to.days != date_of(path, line, tok[4]).days)
			fail_msg("%s:%d: line %d span", path, line, i);
	} else if (!strcmp(tok[1], "line") && n >= 6) {
		struct askue_price p;
		int64_t wh = kwh_of(path, line, tok[3]);
		if (askue_price_parse(tok[4], &p) || askue_money_parse(tok[5], &m))
			case_fail(path, line, "price or amount", tok[4]);
		int band = 0;
		const char *how = "measured";
		for (int k = 6; k + 1 < n; k += 2) {
			if (!strcmp(tok[k], "band"))
				band = atoi(tok[k + 1]);
			else if (!strcmp(tok[k], "how"))
				how = tok[k + 1];
		}
		int found = 0;
		for (int i = 0; i < res.n_lines && !found; i++) {
			const struct askue_bill_line *l = &res.lines[i];
			found = !strcmp(l->zone, tok[2]) && l->wh == wh && l->price.micro_rub == p.micro_rub &&
			        l->amount.kop == m.kop && l->band == band &&
			        !strcmp(askue_bill_how_name(l->how), how);
		}
		if (!found) {
			for (int i = 0; i < res.n_lines; i++)
				print_message("  line %s %" PRId64 " Wh %" PRId64 " %" PRId64 " kop band %d %s\n",
				              res.lines[i].zone, res.lines[i].wh, res.lines[i].price.micro_rub,
				              res.lines[i].amount.kop, res.lines[i].band,
				              askue_bill_how_name(res.lines[i].how));
			fail_msg("%s:%d: no such line", path, line);
		}
	} else {
		case_fail(path, line, "expect what", tok[1]);
	}
}

static void case_directive(struct bcase *c, const char *path, int line, char **tok, int n)
{
	if (!strcmp(tok[0], "period") && n == 2) {
		struct askue_period p;
		if (askue_period_parse(tok[1], &p))
			case_fail(path, line, "period", tok[1]);
		c->in = period(p.year, p.month);
		c->in.segments = c->s, c->in.versions = c->v, c->in.history = c->h;
	} else if (!strcmp(tok[0], "version") && n >= 4) {
		case_version(c, path, line, tok, n);
	} else if (!strcmp(tok[0], "meter") && n >= 3) {
		case_meter(c, path, line, tok, n);
	} else if ((!strcmp(tok[0], "reading") || !strcmp(tok[0], "previous")) && n >= 5) {
		struct askue_bill_segment *s = seg_named(c, path, line, tok[1]);
		int64_t ts = (int64_t)date_of(path, line, tok[2]).days * 86400 - 3 * 3600 +
		             (int64_t)atoi(tok[3]) * 3600;
		struct askue_bill_reading r = regs_of(path, line, ts, tok[4]);
		if (tok[0][0] == 'p') {
			s->has_previous = 1, s->previous = r;
			s->previous_estimated = n > 5 && !strcmp(tok[5], "estimated");
		} else {
			if (s->n_readings == 64)
				case_fail(path, line, "more than 64 readings of", tok[1]);
			c->r[s - c->s][s->n_readings++] = r;
		}
	} else if (!strcmp(tok[0], "history") && n == 5) {
		struct askue_bill_history *h = &c->h[c->in.n_history++];
		struct askue_bill_reading r = regs_of(path, line, 0, tok[4]);
		if (askue_period_parse(tok[1], &h->period) || askue_bill_how_parse(tok[3], &h->how))
			case_fail(path, line, "history", tok[1]);
		h->days = atoi(tok[2]);
		for (int i = 0; i < ASKUE_BILL_REGISTERS; i++)
			h->wh[i] = (r.mask == 1 || i > 0) ? r.wh[i] : 0;
	} else if (!strcmp(tok[0], "served") && n == 3) {
		/* served FIRST END: the subscriber's days [FIRST, END) */
		c->in.has_served = 1;
		c->in.served_first = date_of(path, line, tok[1]);
		c->in.served_end = date_of(path, line, tok[2]);
	} else if (!strcmp(tok[0], "norm") && n == 2) {
		c->in.norm_wh_month = kwh_of(path, line, tok[1]);
	} else if (!strcmp(tok[0], "expect") && n >= 3) {
		case_expect(c, path, line, tok, n);
	} else {
		case_fail(path, line, "unknown directive", tok[0]);
	}
}

static void run_case(const char *path)
{
	static struct bcase c;
	memset(&c, 0, sizeof c);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[512];
	int line = 0;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		char *hash = strchr(buf, '#'), *tok[24], *save = NULL;
		if (hash)
			*hash = '\0';
		int n = 0;
		for (char *p = strtok_r(buf, " \t\r\n", &save); p && n < 24;
		     p = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = p;
		if (n)
			case_directive(&c, path, line, tok, n);
	}
	fclose(f);
	if (!c.computed)
		fail_msg("%s: expects nothing", path);
}

static void cases(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob("tests/unit/billing/*.case", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 1);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		print_message("case %s\n", g.gl_pathv[i]);
		run_case(g.gl_pathv[i]);
	}
	globfree(&g);
}

/* The [billing] settings' defaults are the rules' numbers. */
static void params_from_config(void **state)
{
	(void)state;
	static struct askue_config c;
	unsetenv("ASKUE_CONFIG");
	assert_int_equal(askue_config_load(NULL, &c), ASKUE_OK);
	struct askue_bill_params a, b;
	askue_bill_params_default(&a);
	askue_bill_params_from_config(&c, &b);
	assert_memory_equal(&a, &b, sizeof a);
	c.billing_average_periods_min = 9; /* above the maximum: lowered to it */
	askue_bill_params_from_config(&c, &b);
	assert_int_equal(b.average_periods_min, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(single_zone),
		cmocka_unit_test(multi_zone),
		cmocka_unit_test(meter_exchange),
		cmocka_unit_test(price_change),
		cmocka_unit_test(unchanged_zone_merges),
		cmocka_unit_test(tariff_switch),
		cmocka_unit_test(interpolated_end),
		cmocka_unit_test(silent_meter),
		cmocka_unit_test(estimate_two_zones),
		cmocka_unit_test(new_meter_by_norm),
		cmocka_unit_test(rollover_and_backwards),
		cmocka_unit_test(volume_bands),
		cmocka_unit_test(half_kopeck),
		cmocka_unit_test(high_and_verification),
		cmocka_unit_test(no_tariff_no_meter),
		cmocka_unit_test(bad_input_and_determinism),
		cmocka_unit_test(params_from_config),
		cmocka_unit_test(cases),
		cmocka_unit_test(chain_conserves_energy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
