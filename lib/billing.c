/* billing — see billing.h. The steps, in order: check the input; find the
 * usual consumption and the estimation method from history; per segment
 * and register the start and end values (determinants) and the
 * consumption; split each consumption over the tariff versions; sum per
 * version and zone; merge equal neighbours; cut into volume bands; price
 * each line. Everything is integer; every division says how it rounds. */
#include "billing.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define NREG ASKUE_BILL_REGISTERS
#define NVER ASKUE_BILL_VERSIONS_MAX
/* Parts of the period, each with lines of its own: 0 the meters' days
 * (and the days between two meters), 1 the days without a meter before
 * the first, 2 those after the last. */
#define NPART 3

/* What one segment contributes, per register. */
struct reg_use {
	int64_t wh;                /* billed consumption of the segment */
	int64_t part[NVER];        /* wh split over the versions */
	int billed;                /* a determinant was found (else no readings) */
	int prorata;               /* the split was by days */
	enum askue_bill_how how;   /* MEASURED, or the estimation method */
	int verification;
};

/* The work of one call: the input, the method and the result being built. */
struct calc {
	const struct askue_bill_input *in;
	struct askue_bill_result *out;
	/* usual consumption: sum_wh over sum_days of the measured history used */
	int n_measured;
	int64_t sum_wh, sum_days;
	int64_t share[NREG];       /* per register, for splitting an estimate */
	enum askue_bill_how method; /* when an end value is missing */
	int32_t month_days;
	int last_version;          /* the version in force on the last day */
	/* per part, version and register: the sums of the segments */
	int64_t wh[NPART][NVER][NREG];
	int prorata[NPART][NVER][NREG];
	enum askue_bill_how how[NPART][NVER][NREG];
	int verification[NPART][NVER][NREG];
	int used[NPART];           /* the part has something billed */
	struct askue_date part_first[NPART], part_end[NPART]; /* its days, [first, end) */
	int32_t billed_days;       /* the days billed, for the band limits */
	unsigned need;             /* registers the versions bill from */
	int billed;                /* some register of some segment (or the norm) was billed */
};

static const char *const how_names[] = {"measured", "average", "norm"};
static const char *const source_names[] = {"reading",      "interpolated", "last_reading",
                                           "installation", "removal",      "previous",
                                           "estimated"};
static const char *const exception_names[] = {
	"no_readings", "estimated_average", "estimated_norm", "no_norm", "backwards",
	"rollover",    "high",              "verification",   "no_tariff", "no_meter"};

const char *askue_bill_how_name(enum askue_bill_how h)
{
	return (unsigned)h < 3 ? how_names[h] : "?";
}

const char *askue_bill_source_name(enum askue_bill_source s)
{
	return (unsigned)s < 7 ? source_names[s] : "?";
}

const char *askue_bill_exception_name(enum askue_bill_exception_kind k)
{
	return (unsigned)k < 10 ? exception_names[k] : "?";
}

enum askue_err askue_bill_how_parse(const char *s, enum askue_bill_how *out)
{
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, how_names[i]) == 0) {
			*out = (enum askue_bill_how)i;
			return ASKUE_OK;
		}
	return askue_err_set(ASKUE_ERR_INVALID, "billing how '%s': expected measured|average|norm",
	                     s ? s : "");
}

enum askue_err askue_bill_source_parse(const char *s, enum askue_bill_source *out)
{
	for (int i = 0; i < 7; i++)
		if (s && strcmp(s, source_names[i]) == 0) {
			*out = (enum askue_bill_source)i;
			return ASKUE_OK;
		}
	return askue_err_set(ASKUE_ERR_INVALID, "reading source '%s': unknown", s ? s : "");
}

void askue_bill_params_default(struct askue_bill_params *p)
{
	*p = (struct askue_bill_params){
		.average_periods_max = 6,
		.average_periods_min = 3,
		.estimated_periods_max = 3,
		.high_factor = 3,
		.end_gap_max_s = 86400,
		.split_gap_max_s = 2 * 86400,
		.rollover_wh_per_day_max = 1000000,
	};
}

void askue_bill_params_from_config(const struct askue_config *c, struct askue_bill_params *p)
{
	*p = (struct askue_bill_params){
		.average_periods_max = (int)c->billing_average_periods,
		.average_periods_min = (int)(c->billing_average_periods_min < c->billing_average_periods
		                                     ? c->billing_average_periods_min
		                                     : c->billing_average_periods),
		.estimated_periods_max = (int)c->billing_estimated_periods_max,
		.high_factor = (int)c->billing_high_factor,
		.end_gap_max_s = c->billing_end_gap_h * 3600,
		.split_gap_max_s = c->billing_split_gap_h * 3600,
		.rollover_wh_per_day_max = c->billing_rollover_kwh_per_day * 1000,
	};
}

/* ---- small arithmetic ---------------------------------------------------- */

/* a * b / d, d > 0, half up; the inputs are bounded by the checks so the
 * result fits (askue_muldiv reports it if not). */
static enum askue_err mul_div(int64_t a, int64_t b, int64_t d, int64_t *out)
{
	return askue_muldiv(a, b, d, ASKUE_ROUND_HALF_UP, out);
}

/* Split total over n parts by weights (>= 0, sum > 0), largest remainder:
 * each part is floor(total * w / W), and the Wh left over go one each to
 * the largest remainders (the lower index first on a tie). The parts sum
 * to total exactly; a negative total is split as its magnitude. */
static void apportion(int64_t total, const int64_t *w, int n, int64_t *part)
{
	int negative = total < 0;
	unsigned __int128 t = (unsigned __int128)(negative ? -total : total);
	unsigned __int128 wsum = 0, rem[NVER * NREG] = {0};
	for (int i = 0; i < n; i++)
		wsum += (unsigned __int128)w[i];
	int64_t given = 0;
	for (int i = 0; i < n; i++) {
		unsigned __int128 x = t * (unsigned __int128)w[i];
		part[i] = (int64_t)(x / wsum);
		rem[i] = x % wsum;
		given += part[i];
	}
	for (int64_t left = (int64_t)t - given; left > 0; left--) {
		int best = -1;
		for (int i = 0; i < n; i++)
			if (w[i] > 0 && (best < 0 || rem[i] > rem[best]))
				best = i;
		part[best]++;
		rem[best] = 0;
	}
	if (negative)
		for (int i = 0; i < n; i++)
			part[i] = -part[i];
}

static void note_add(char *buf, size_t size, const char *text)
{
	size_t len = strlen(buf);
	if (strstr(buf, text))
		return;
	snprintf(buf + len, size - len, "%s%s", len ? "; " : "", text);
}

static void exception(struct calc *c, enum askue_bill_exception_kind kind, const char *serial,
                      int zone_idx, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void exception(struct calc *c, enum askue_bill_exception_kind kind, const char *serial,
                      int zone_idx, const char *fmt, ...)
{
	struct askue_bill_result *o = c->out;
	if (o->n_ex == ASKUE_BILL_EXCEPTIONS_MAX)
		return; /* the first ones tell the story; the limit is far above real cases */
	struct askue_bill_exception *e = &o->ex[o->n_ex++];
	e->kind = kind;
	snprintf(e->serial, sizeof e->serial, "%s", serial ? serial : "");
	e->zone_idx = zone_idx;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

static char *kwh(int64_t wh, char *buf)
{
	return askue_energy_format_kwh((struct askue_energy){wh}, buf);
}

/* ---- input checks: the job's mistakes are errors, not exceptions ------- */

static int wh_ok(int64_t v)
{
	return v >= 0 && v <= ASKUE_ENERGY_WH_MAX;
}

/* Registers beyond the meter's zones (a one-zone meter that also sends
 * T1) are ignored, not refused: find_point only asks for the meter's. */
static enum askue_err check_reading(const struct askue_bill_reading *r, const char *what)
{
	if (r->mask & ~((1u << NREG) - 1))
		return askue_err_set(ASKUE_ERR_INVALID, "%s: register mask 0x%x", what, r->mask);
	for (int i = 0; i < NREG; i++)
		if ((r->mask >> i & 1) && !wh_ok(r->wh[i]))
			return askue_err_set(ASKUE_ERR_INVALID, "%s: register %d value %" PRId64
			                     " Wh out of range", what, i, r->wh[i]);
	return ASKUE_OK;
}

static enum askue_err check_segment(const struct askue_bill_input *in, int i)
{
	const struct askue_bill_segment *s = &in->segments[i];
	char what[ASKUE_SERIAL_BYTES_MAX + 64];
	enum askue_err err;
	snprintf(what, sizeof what, "segment %d (%s)", i + 1, s->serial);
	if (s->zones < 1 || s->zones > ASKUE_ZONES_MAX || s->capacity_wh <= 0 ||
	    s->capacity_wh > ASKUE_ENERGY_WH_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: zones %d or capacity %" PRId64 " Wh",
		                     what, s->zones, s->capacity_wh);
	if (s->installed_ts >= in->end_ts || (s->has_removed && s->removed_ts <= in->start_ts) ||
	    (s->has_removed && s->removed_ts < s->installed_ts))
		return askue_err_set(ASKUE_ERR_INVALID, "%s: does not serve inside the period", what);
	if ((err = check_reading(&s->at_install, what)) || (err = check_reading(&s->at_removal, what)) ||
	    (err = check_reading(&s->previous, what)))
		return err;
	if (s->n_readings < 0 || (s->n_readings > 0 && !s->readings))
		return askue_err_set(ASKUE_ERR_INVALID, "%s: readings", what);
	for (int k = 0; k < s->n_readings; k++) {
		if ((err = check_reading(&s->readings[k], what)))
			return err;
		if (k && s->readings[k].ts <= s->readings[k - 1].ts)
			return askue_err_set(ASKUE_ERR_INVALID, "%s: reading %d not after the one before",
			                     what, k + 1);
	}
	return ASKUE_OK;
}

static enum askue_err check_version(const struct askue_bill_input *in, int i)
{
	const struct askue_bill_version *v = &in->versions[i];
	if (i && v->from.days <= in->versions[i - 1].from.days)
		return askue_err_set(ASKUE_ERR_INVALID, "version %d: from not after the one before", i + 1);
	if (v->from.days >= in->end.days)
		return askue_err_set(ASKUE_ERR_INVALID, "version %d: starts after the period", i + 1);
	if (v->n_zones < 1 || v->n_zones > ASKUE_ZONES_MAX || v->n_bands < 0 ||
	    v->n_bands == 1 || v->n_bands > ASKUE_BILL_BANDS_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "version %d: %d zones, %d bands", i + 1,
		                     v->n_zones, v->n_bands);
	for (int z = 0; z < v->n_zones; z++) {
		int want = v->n_zones == 1 && v->zones[0].idx == 0 ? 0 : z + 1;
		if (v->zones[z].idx != want)
			return askue_err_set(ASKUE_ERR_INVALID, "version %d: zone %d has register %d, "
			                     "expected %d", i + 1, z + 1, v->zones[z].idx, want);
		for (int b = 0; b < (v->n_bands ? v->n_bands : 1); b++)
			if (v->price[z][b].micro_rub < 0 || v->price[z][b].micro_rub > ASKUE_PRICE_MAX)
				return askue_err_set(ASKUE_ERR_INVALID, "version %d: price out of range", i + 1);
	}
	for (int b = 0; b + 1 < v->n_bands; b++)
		if (v->band_upto_wh[b] <= (b ? v->band_upto_wh[b - 1] : 0) ||
		    !wh_ok(v->band_upto_wh[b]))
			return askue_err_set(ASKUE_ERR_INVALID, "version %d: band %d limit not ascending",
			                     i + 1, b + 1);
	return ASKUE_OK;
}

static enum askue_err check_input(const struct askue_bill_input *in)
{
	const struct askue_bill_params *p = &in->params;
	enum askue_err err;
	if (in->end.days <= in->first.days || in->end.days - in->first.days > 31 ||
	    in->end_ts <= in->start_ts)
		return askue_err_set(ASKUE_ERR_INVALID, "billing period: end not 1..31 days after start");
	if (in->n_segments < 0 || in->n_segments > ASKUE_BILL_SEGMENTS_MAX ||
	    in->n_versions < 0 || in->n_versions > ASKUE_BILL_VERSIONS_MAX ||
	    in->n_history < 0 || in->n_history > ASKUE_BILL_HISTORY_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "billing: %d segments (max %d), %d versions "
		                     "(max %d), %d periods of history (max %d)", in->n_segments,
		                     ASKUE_BILL_SEGMENTS_MAX, in->n_versions, ASKUE_BILL_VERSIONS_MAX,
		                     in->n_history, ASKUE_BILL_HISTORY_MAX);
	if (p->average_periods_min < 1 || p->average_periods_max < p->average_periods_min ||
	    p->estimated_periods_max < 0 || p->high_factor < 0 || p->end_gap_max_s < 0 ||
	    p->split_gap_max_s < 0 || p->rollover_wh_per_day_max < 0)
		return askue_err_set(ASKUE_ERR_INVALID, "billing parameters out of range");
	if (in->norm_wh_month < -1 || in->norm_wh_month > ASKUE_ENERGY_WH_MAX)
		return askue_err_set(ASKUE_ERR_INVALID, "norm %" PRId64 " Wh", in->norm_wh_month);
	if (in->has_served && (in->served_first.days < in->first.days ||
	                       in->served_end.days < in->served_first.days ||
	                       in->served_end.days > in->end.days))
		return askue_err_set(ASKUE_ERR_INVALID, "served days: not inside the period");
	for (int i = 0; i < in->n_segments; i++)
		if ((err = check_segment(in, i)))
			return err;
	for (int i = 0; i < in->n_versions; i++)
		if ((err = check_version(in, i)))
			return err;
	for (int i = 0; i < in->n_history; i++) {
		const struct askue_bill_history *h = &in->history[i];
		if (h->days < 0 || h->days > 31 || (unsigned)h->how > ASKUE_BILL_NORM)
			return askue_err_set(ASKUE_ERR_INVALID, "history %d: %d days", i + 1, h->days);
		for (int r = 0; r < NREG; r++)
			if (h->wh[r] < -ASKUE_ENERGY_WH_MAX || h->wh[r] > ASKUE_ENERGY_WH_MAX)
				return askue_err_set(ASKUE_ERR_INVALID, "history %d: wh out of range", i + 1);
	}
	return ASKUE_OK;
}

/* ---- the usual consumption and the method for a missing end ------------ */

/* The last up to average_periods_max measured periods give the usual daily
 * consumption (sum_wh / sum_days) and the zone shares; the trailing run
 * of estimated periods and their count decide average or norm. */
static void find_method(struct calc *c)
{
	const struct askue_bill_input *in = c->in;
	const struct askue_bill_params *p = &in->params;
	for (int i = in->n_history - 1; i >= 0 && c->n_measured < p->average_periods_max; i--) {
		const struct askue_bill_history *h = &in->history[i];
		if (h->how != ASKUE_BILL_MEASURED || h->days == 0)
			continue; /* 0 days: a period billed without days known, no average */
		c->n_measured++;
		c->sum_days += h->days;
		for (int r = 0; r < NREG; r++) {
			c->sum_wh += h->wh[r];
			c->share[r] += h->wh[r] > 0 ? h->wh[r] : 0;
		}
	}
	if (c->sum_wh < 0)
		c->sum_wh = 0;
	int estimated_run = 0;
	for (int i = in->n_history - 1; i >= 0 && in->history[i].how != ASKUE_BILL_MEASURED; i--)
		estimated_run++;
	c->method = c->n_measured >= p->average_periods_min && estimated_run < p->estimated_periods_max
	                    ? ASKUE_BILL_AVERAGE
	                    : ASKUE_BILL_NORM;
	if (c->n_measured) {
		c->out->usual_wh_day_num = c->sum_wh;
		c->out->usual_wh_day_den = c->sum_days;
	} else {
		c->out->usual_wh_day_num = 0;
		c->out->usual_wh_day_den = 1;
	}
}

/* The estimate for `days` days by the method; -1 when there is no norm. */
static enum askue_err estimate(const struct calc *c, int32_t days, int64_t *wh)
{
	if (c->method == ASKUE_BILL_AVERAGE)
		return mul_div(c->sum_wh, days, c->sum_days, wh);
	if (c->in->norm_wh_month < 0) {
		*wh = -1;
		return ASKUE_OK;
	}
	return mul_div(c->in->norm_wh_month, days, c->month_days, wh);
}

/* Split an estimate over the registers of mask by the history's shares;
 * all to the lowest register when history has none of them. */
static void split_estimate(const struct calc *c, int64_t total, unsigned mask, int64_t *per_reg)
{
	int64_t w[NREG] = {0}, part[NREG] = {0};
	int lowest = -1;
	int64_t wsum = 0;
	for (int r = 0; r < NREG; r++)
		if (mask >> r & 1) {
			w[r] = c->share[r];
			wsum += w[r];
			if (lowest < 0)
				lowest = r;
		}
	if (lowest < 0)
		return;
	if (wsum == 0)
		w[lowest] = 1;
	apportion(total, w, NREG, part);
	for (int r = 0; r < NREG; r++)
		if (mask >> r & 1)
			per_reg[r] = part[r];
}

/* ---- register values at an instant ------------------------------------ */

struct point {
	int64_t ts, wh;
	int found;
};

/* Is p a better candidate than best for direction dir (-1: the latest
 * before t, 0: exactly t, +1: the earliest after t)? */
static void consider(struct point *best, int64_t ts, int64_t wh, int64_t t, int dir)
{
	if ((dir == 0 && ts != t) || (dir < 0 && ts >= t) || (dir > 0 && ts <= t))
		return;
	if (best->found && (dir < 0 ? ts <= best->ts : ts >= best->ts))
		return;
	*best = (struct point){ts, wh, 1};
}

/* The first reading at or after t (readings ascend): binary search. */
static int lower_bound(const struct askue_bill_segment *s, int64_t t)
{
	int lo = 0, hi = s->n_readings;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->readings[mid].ts < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int usable(const struct askue_bill_segment *s, const struct askue_bill_reading *x,
                  unsigned bit)
{
	return (x->mask & bit) && x->ts >= s->installed_ts && (!s->has_removed || x->ts <= s->removed_ts);
}

/* The readings of register r the segment's meter gave while it served the
 * subscriber, with its installation and removal readings among them. */
static struct point find_point(const struct askue_bill_segment *s, int r, int64_t t, int dir)
{
	struct point best = {0};
	unsigned bit = 1u << r;
	if (s->at_install.mask & bit)
		consider(&best, s->installed_ts, s->at_install.wh[r], t, dir);
	if (s->has_removed && (s->at_removal.mask & bit))
		consider(&best, s->removed_ts, s->at_removal.wh[r], t, dir);
	int k = lower_bound(s, t);
	if (dir == 0) {
		if (k < s->n_readings && s->readings[k].ts == t && usable(s, &s->readings[k], bit))
			consider(&best, t, s->readings[k].wh[r], t, dir);
		return best;
	}
	if (dir > 0 && k < s->n_readings && s->readings[k].ts == t)
		k++;
	for (int step = dir < 0 ? -1 : 1, i = dir < 0 ? k - 1 : k; i >= 0 && i < s->n_readings;
	     i += step)
		if (usable(s, &s->readings[i], bit)) {
			consider(&best, s->readings[i].ts, s->readings[i].wh[r], t, dir);
			break;
		}
	return best;
}

/* A wrap of the register between two values (to < from) is plausible when
 * the consumption across it is shorter than the way back (from - to) and
 * at most rollover_wh_per_day_max per day (at least one day). */
static int wrap_plausible(const struct calc *c, const struct askue_bill_segment *s, int64_t from,
                          int64_t to, int64_t seconds)
{
	int64_t days = seconds / 86400 + 1;
	if (from > s->capacity_wh)
		return 0;
	int64_t across = s->capacity_wh - from + to;
	return across < from - to &&
	       (__int128)across <= (__int128)c->in->params.rollover_wh_per_day_max * days;
}

/* The value at t from a reading exactly then, or interpolated between the
 * nearest before and after (half up, across a plausible wrap); gap_max_s
 * > 0 asks that both lie within it of t. */
static int value_at(const struct calc *c, const struct askue_bill_segment *s, int r, int64_t t,
                    int64_t gap_max_s, int64_t *wh, enum askue_bill_source *how)
{
	struct point x = find_point(s, r, t, 0);
	if (x.found) {
		*wh = x.wh;
		*how = ASKUE_BILL_SRC_READING;
		return 1;
	}
	struct point a = find_point(s, r, t, -1), b = find_point(s, r, t, +1);
	if (!a.found || !b.found)
		return 0;
	if (gap_max_s > 0 && (t - a.ts > gap_max_s || b.ts - t > gap_max_s))
		return 0;
	int64_t delta = b.wh - a.wh;
	if (delta < 0) {
		if (!wrap_plausible(c, s, a.wh, b.wh, b.ts - a.ts))
			return 0;
		delta += s->capacity_wh;
	}
	int64_t add;
	if (mul_div(delta, t - a.ts, b.ts - a.ts, &add))
		return 0;
	*wh = (a.wh + add) % s->capacity_wh;
	*how = ASKUE_BILL_SRC_INTERPOLATED;
	return 1;
}

/* ---- one segment: determinants and consumption per register ----------- */

struct seg_ctx {
	const struct askue_bill_segment *s;
	struct askue_date first, end; /* the local days it served in the period */
	int64_t start_ts, end_ts;     /* the same as instants */
	int32_t days;
	int removed_inside;
};

static struct seg_ctx seg_ctx_of(const struct calc *c, const struct askue_bill_segment *s)
{
	const struct askue_bill_input *in = c->in;
	struct seg_ctx x = {.s = s, .first = in->first, .end = in->end, .start_ts = in->start_ts,
	                    .end_ts = in->end_ts};
	if (s->installed_ts > in->start_ts) {
		x.first = s->installed;
		x.start_ts = s->installed_ts;
	}
	if (s->has_removed && s->removed_ts < in->end_ts) {
		x.end = s->removed;
		x.end_ts = s->removed_ts;
		x.removed_inside = 1;
	}
	x.days = x.end.days - x.first.days;
	if (x.days < 0)
		x.days = 0;
	return x;
}

/* The start value of register r (0: none). */
static int start_value(const struct calc *c, const struct seg_ctx *x, int r,
                       struct askue_bill_determinant *d, int *trueup)
{
	const struct askue_bill_segment *s = x->s;
	unsigned bit = 1u << r;
	*trueup = 0;
	/* the previous invoice's end, unless the meter came (back) after it */
	if (s->has_previous && (s->previous.mask & bit) && s->previous.ts >= s->installed_ts) {
		d->start_ts = s->previous.ts;
		d->start_wh = s->previous.wh[r];
		d->start_how = ASKUE_BILL_SRC_PREVIOUS;
		*trueup = s->previous_estimated;
		return 1;
	}
	if (s->installed_ts >= c->in->start_ts && (s->at_install.mask & bit)) {
		d->start_ts = s->installed_ts;
		d->start_wh = s->at_install.wh[r];
		d->start_how = ASKUE_BILL_SRC_INSTALLATION;
		return 1;
	}
	d->start_ts = x->start_ts;
	if (value_at(c, s, r, x->start_ts, 0, &d->start_wh, &d->start_how))
		return 1;
	struct point p = find_point(s, r, x->start_ts, -1);
	if (!p.found)
		return 0;
	d->start_ts = p.ts; /* nothing after the start: the last value known */
	d->start_wh = p.wh;
	d->start_how = ASKUE_BILL_SRC_LAST_READING;
	return 1;
}

/* The end value of register r (0: none; the caller estimates). */
static int end_value(const struct calc *c, const struct seg_ctx *x, int r,
                     struct askue_bill_determinant *d)
{
	const struct askue_bill_segment *s = x->s;
	d->end_ts = x->end_ts;
	if (x->removed_inside && (s->at_removal.mask & (1u << r))) {
		d->end_wh = s->at_removal.wh[r];
		d->end_how = ASKUE_BILL_SRC_REMOVAL;
		return 1;
	}
	if (value_at(c, s, r, x->end_ts, 0, &d->end_wh, &d->end_how))
		return 1;
	struct point p = find_point(s, r, x->end_ts, -1);
	if (p.found && x->end_ts - p.ts <= c->in->params.end_gap_max_s && p.ts >= d->start_ts) {
		d->end_ts = p.ts;
		d->end_wh = p.wh;
		d->end_how = ASKUE_BILL_SRC_LAST_READING;
		return 1;
	}
	return 0;
}

/* end - start of a measured register: a true-up may be negative; a wrap
 * is billed across the capacity when plausible; else it went backwards
 * and is billed 0. */
static void measured_wh(struct calc *c, const struct seg_ctx *x, int trueup,
                        struct askue_bill_determinant *d)
{
	char b1[ASKUE_NUM_BUF], b2[ASKUE_NUM_BUF];
	d->wh = d->end_wh - d->start_wh;
	if (d->wh >= 0)
		return;
	if (trueup) {
		snprintf(d->note, sizeof d->note, "true-up of the estimate: %s kWh", kwh(d->wh, b1));
		return;
	}
	if (wrap_plausible(c, x->s, d->start_wh, d->end_wh, d->end_ts - d->start_ts)) {
		d->wh += x->s->capacity_wh;
		snprintf(d->note, sizeof d->note, "rollover at %s kWh", kwh(x->s->capacity_wh, b1));
		exception(c, ASKUE_BILL_EX_ROLLOVER, x->s->serial, d->zone_idx,
		          "register %d rolled over at %s kWh: %s kWh billed", d->zone_idx,
		          kwh(x->s->capacity_wh, b1), kwh(d->wh, b2));
		return;
	}
	snprintf(d->note, sizeof d->note, "went backwards by %s kWh: not billed", kwh(-d->wh, b1));
	exception(c, ASKUE_BILL_EX_BACKWARDS, x->s->serial, d->zone_idx,
	          "register %d went backwards from %s to %s kWh: not billed", d->zone_idx,
	          kwh(d->start_wh, b1), kwh(d->end_wh, b2));
	d->wh = 0;
}

static enum askue_err add_determinant(struct calc *c, const struct askue_bill_determinant *d)
{
	struct askue_bill_result *o = c->out;
	if (o->n_determinants == ASKUE_BILL_DETERMINANTS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "billing: more than %d determinants",
		                     ASKUE_BILL_DETERMINANTS_MAX);
	o->determinants[o->n_determinants++] = *d;
	return ASKUE_OK;
}

/* The registers of mask without an end value get start + their share of
 * the estimate for the segment's days (1.8.0 and T1..T3 each get the whole
 * estimate: they are two views of the same energy). */
static enum askue_err estimate_ends(struct calc *c, const struct seg_ctx *x, unsigned pending,
                                    struct askue_bill_determinant *d, struct reg_use *use)
{
	char b1[ASKUE_NUM_BUF], b2[ASKUE_NUM_BUF];
	int64_t total, per_reg[NREG] = {0};
	enum askue_err err = estimate(c, x->days, &total);
	if (err)
		return err;
	if (total < 0) {
		exception(c, ASKUE_BILL_EX_NO_NORM, x->s->serial, -1,
		          "no readings at the end, too little history and no norm: not billed");
		return ASKUE_OK;
	}
	split_estimate(c, total, pending & 1u, per_reg);
	split_estimate(c, total, pending & ~1u, per_reg);
	for (int r = 0; r < NREG; r++) {
		if (!(pending >> r & 1))
			continue;
		d[r].end_ts = x->end_ts;
		d[r].end_wh = d[r].start_wh + per_reg[r];
		d[r].end_how = ASKUE_BILL_SRC_ESTIMATED;
		d[r].wh = per_reg[r];
		use[r].billed = 1;
		use[r].how = c->method;
	}
	if (c->method == ASKUE_BILL_AVERAGE)
		exception(c, ASKUE_BILL_EX_ESTIMATED_AVERAGE, x->s->serial, -1,
		          "no reading at the end: estimated %s kWh, the average of %d periods "
		          "(%s kWh in %" PRId64 " days) for %d days", kwh(total, b1), c->n_measured,
		          kwh(c->sum_wh, b2), c->sum_days, x->days);
	else
		exception(c, ASKUE_BILL_EX_ESTIMATED_NORM, x->s->serial, -1,
		          "no reading at the end: estimated %s kWh by the norm (%s kWh a month) for "
		          "%d of %d days", kwh(total, b1), kwh(c->in->norm_wh_month, b2), x->days,
		          c->month_days);
	return ASKUE_OK;
}

/* Determinants and consumption of every register the tariff needs. */
static enum askue_err do_segment(struct calc *c, const struct seg_ctx *x, struct reg_use *use)
{
	const struct askue_bill_segment *s = x->s;
	unsigned has = s->zones > 1 ? (2u << s->zones) - 1 : 1u, pending = 0;
	struct askue_bill_determinant d[NREG];
	int trueup[NREG] = {0};
	enum askue_err err;
	for (int r = 0; r < NREG; r++) {
		use[r] = (struct reg_use){.verification = s->verification_overdue};
		if (!(c->need >> r & 1))
			continue;
		d[r] = (struct askue_bill_determinant){.zone_idx = r};
		snprintf(d[r].serial, sizeof d[r].serial, "%s", s->serial);
		if (!(has >> r & 1) || !start_value(c, x, r, &d[r], &trueup[r])) {
			exception(c, ASKUE_BILL_EX_NO_READINGS, s->serial, r,
			          (has >> r & 1) ? "register %d: no start value: not billed"
			                         : "register %d: the meter does not have it: not billed", r);
			continue;
		}
		if (!end_value(c, x, r, &d[r])) {
			pending |= 1u << r;
			continue;
		}
		measured_wh(c, x, trueup[r], &d[r]);
		use[r].billed = 1;
	}
	if (pending && (err = estimate_ends(c, x, pending, d, use)))
		return err;
	for (int r = 0; r < NREG; r++) {
		if (!use[r].billed)
			continue;
		use[r].wh = d[r].wh;
		if ((err = add_determinant(c, &d[r])))
			return err;
	}
	if (s->verification_overdue)
		exception(c, ASKUE_BILL_EX_VERIFICATION, s->serial, -1,
		          "the meter is past its verification");
	return ASKUE_OK;
}

/* ---- splitting over the tariff versions -------------------------------- */

/* Days of [a, b) that version v covers (the first version reaches back
 * before its from, the last forward without end). */
static int32_t version_days(const struct askue_bill_input *in, int v, struct askue_date a,
                            struct askue_date b)
{
	int32_t from = v ? in->versions[v].from.days : a.days;
	int32_t to = v + 1 < in->n_versions ? in->versions[v + 1].from.days : b.days;
	if (from < a.days)
		from = a.days;
	if (to > b.days)
		to = b.days;
	return to > from ? to - from : 0;
}

/* Register values at each version cut inside the segment, from readings
 * close on both sides; 0 when any is missing or they do not climb from the
 * start to the end. */
static int split_by_values(const struct calc *c, const struct seg_ctx *x,
                           const struct askue_bill_determinant *d, const int32_t *days,
                           int64_t *part)
{
	const struct askue_bill_input *in = c->in;
	int64_t prev = d->start_wh;
	int last = -1;
	if (d->end_how == ASKUE_BILL_SRC_ESTIMATED || d->wh != d->end_wh - d->start_wh || d->wh < 0)
		return 0;
	for (int v = 0; v < in->n_versions; v++) {
		if (!days[v])
			continue;
		if (last >= 0) {
			int64_t at;
			enum askue_bill_source how;
			if (!value_at(c, x->s, d->zone_idx, in->versions[v].from_ts,
			              in->params.split_gap_max_s, &at, &how) ||
			    at < prev || at > d->end_wh)
				return 0;
			part[last] = at - prev;
			prev = at;
		}
		last = v;
	}
	part[last] = d->end_wh - prev;
	return 1;
}

/* Split the register's consumption over the versions of the segment's
 * days: by the register values at the cuts, else pro rata by days. */
static void split_segment(struct calc *c, const struct seg_ctx *x,
                          const struct askue_bill_determinant *d, struct reg_use *u)
{
	const struct askue_bill_input *in = c->in;
	int32_t days[NVER] = {0};
	int64_t w[NVER] = {0}, wsum = 0;
	int overlapping = 0, first_v = -1;
	for (int v = 0; v < in->n_versions; v++) {
		days[v] = version_days(in, v, x->first, x->end);
		w[v] = days[v];
		wsum += w[v];
		if (days[v]) {
			overlapping++;
			if (first_v < 0)
				first_v = v;
		}
	}
	if (overlapping <= 1) { /* one version (or a segment of no whole day) */
		if (first_v < 0)
			for (first_v = 0; first_v + 1 < in->n_versions &&
			                  in->versions[first_v + 1].from.days <= x->first.days;)
				first_v++;
		u->part[first_v] = u->wh;
		return;
	}
	if (split_by_values(c, x, d, days, u->part))
		return;
	apportion(u->wh, w, in->n_versions, u->part);
	u->prorata = wsum > 0;
}

/* ---- from segments to lines -------------------------------------------- */

static void accumulate(struct calc *c, int p, const struct seg_ctx *x, const struct reg_use *use)
{
	const struct askue_bill_input *in = c->in;
	for (int r = 0; r < NREG; r++) {
		if (!use[r].billed)
			continue;
		c->billed = 1;
		c->used[p] = 1;
		for (int v = 0; v < in->n_versions; v++) {
			c->wh[p][v][r] += use[r].part[v];
			if (!version_days(in, v, x->first, x->end) && !use[r].part[v])
				continue;
			c->prorata[p][v][r] |= use[r].prorata;
			c->verification[p][v][r] |= use[r].verification;
			if (use[r].how > c->how[p][v][r])
				c->how[p][v][r] = use[r].how;
		}
	}
}

static void mark_days(const struct calc *c, struct askue_date from, struct askue_date end,
                      uint32_t *days_mask)
{
	for (int32_t day = from.days; day < end.days; day++)
		*days_mask |= 1u << (day - c->in->first.days);
}

/* Days [from, end) with no meter (part 1: before the first meter or with
 * none at all, 2: after the last): the norm for those days, norm x days /
 * days of the month, half up (ПП 354 п. 42), split over the zones as an
 * estimate is and over the versions by days. */
static enum askue_err bill_no_meter(struct calc *c, int part, struct askue_date from,
                                    struct askue_date end, uint32_t *days_mask)
{
	const struct askue_bill_input *in = c->in;
	char b1[ASKUE_NUM_BUF], b2[ASKUE_NUM_BUF], d1[ASKUE_DATE_BUF], d2[ASKUE_DATE_BUF];
	int32_t days = end.days - from.days;
	if (days <= 0)
		return ASKUE_OK;
	askue_date_format(from, d1);
	askue_date_format(askue_date_add_days(end, -1), d2);
	if (in->norm_wh_month < 0) {
		exception(c, ASKUE_BILL_EX_NO_METER, "", -1,
		          "no meter on %d days (%s to %s) and no norm: not billed", days, d1, d2);
		return ASKUE_OK;
	}
	int64_t total, per_reg[NREG] = {0}, w[NVER] = {0};
	enum askue_err err = mul_div(in->norm_wh_month, days, c->month_days, &total);
	if (err)
		return err;
	split_estimate(c, total, c->need & 1u, per_reg);
	split_estimate(c, total, c->need & ~1u, per_reg);
	for (int v = 0; v < in->n_versions; v++)
		w[v] = version_days(in, v, from, end);
	struct seg_ctx x = {.first = from, .end = end};
	struct reg_use use[NREG] = {0};
	for (int r = 0; r < NREG; r++)
		if (c->need >> r & 1) {
			use[r] = (struct reg_use){.billed = 1, .wh = per_reg[r], .how = ASKUE_BILL_NORM};
			apportion(per_reg[r], w, in->n_versions, use[r].part);
		}
	accumulate(c, part, &x, use);
	c->part_first[part] = from;
	c->part_end[part] = end;
	mark_days(c, from, end, days_mask);
	exception(c, ASKUE_BILL_EX_NO_METER, "", -1,
	          "no meter on %d days (%s to %s): billed by the norm, %s kWh a month x %d / %d "
	          "days = %s kWh", days, d1, d2, kwh(in->norm_wh_month, b1), days, c->month_days,
	          kwh(total, b2));
	return ASKUE_OK;
}

static int same_prices(const struct askue_bill_version *a, int za,
                       const struct askue_bill_version *b, int zb)
{
	if (strcmp(a->tariff, b->tariff) || strcmp(a->zones[za].name, b->zones[zb].name) ||
	    a->n_bands != b->n_bands || a->price_from[za].days != b->price_from[zb].days)
		return 0;
	for (int k = 0; k < (a->n_bands ? a->n_bands : 1); k++)
		if (a->price[za][k].micro_rub != b->price[zb][k].micro_rub ||
		    (k + 1 < a->n_bands && a->band_upto_wh[k] != b->band_upto_wh[k]))
			return 0;
	return 1;
}

static void line_notes(const struct calc *c, int p, int v, int r, struct askue_bill_line *l)
{
	char text[96], b1[ASKUE_NUM_BUF];
	if (p) {
		snprintf(text, sizeof text, "no meter on %d of %d days: norm %s kWh a month",
		         c->part_end[p].days - c->part_first[p].days, c->month_days,
		         kwh(c->in->norm_wh_month, b1));
		note_add(l->note, sizeof l->note, text);
	} else if (c->how[p][v][r] == ASKUE_BILL_AVERAGE) {
		snprintf(text, sizeof text, "estimated: average of %d periods", c->n_measured);
		note_add(l->note, sizeof l->note, text);
	} else if (c->how[p][v][r] == ASKUE_BILL_NORM) {
		note_add(l->note, sizeof l->note, "estimated: norm");
	}
	if (c->prorata[p][v][r])
		note_add(l->note, sizeof l->note, "pro rata by days");
	if (c->verification[p][v][r])
		note_add(l->note, sizeof l->note, "meter past its verification");
	if (c->how[p][v][r] > l->how)
		l->how = c->how[p][v][r];
}

static int has_wh(const struct calc *c, int p, int v)
{
	for (int r = 0; r < NREG; r++)
		if (c->wh[p][v][r])
			return 1;
	return 0;
}

/* Part p's lines, one per version with days in the part (or energy) and
 * zone, from line n on; a zone whose price is the same as in the version
 * before continues that line. The days shown are the part's. */
static int part_lines(struct calc *c, int p, struct askue_bill_line *lines, int *line_v, int n)
{
	const struct askue_bill_input *in = c->in;
	struct askue_date pf = c->part_first[p], pe = c->part_end[p];
	int prev_v = -1;
	int open[NREG] = {-1, -1, -1, -1}, open_v[NREG] = {0}, open_z[NREG] = {0};
	for (int v = 0; v < in->n_versions; v++) {
		if (!version_days(in, v, pf, pe) && !has_wh(c, p, v))
			continue;
		const struct askue_bill_version *ver = &in->versions[v];
		/* the first version reaches back to the period's first day */
		struct askue_date from = v && ver->from.days > pf.days ? ver->from : pf;
		struct askue_date to = askue_date_add_days(
			v + 1 < in->n_versions && in->versions[v + 1].from.days < pe.days
				? in->versions[v + 1].from
				: pe,
			-1);
		if (to.days < from.days)
			to = from;
		for (int z = 0; z < ver->n_zones; z++) {
			int r = ver->zones[z].idx;
			struct askue_bill_line *l;
			if (open[r] >= 0 && open_v[r] == prev_v &&
			    same_prices(&in->versions[open_v[r]], open_z[r], ver, z)) {
				l = &lines[open[r]];
			} else {
				open[r] = n;
				l = &lines[n];
				line_v[n++] = v;
				*l = (struct askue_bill_line){.zone_idx = r, .price_from = ver->price_from[z],
				                              .days_from = from, .price = ver->price[z][0]};
				snprintf(l->zone, sizeof l->zone, "%s", ver->zones[z].name);
				snprintf(l->tariff, sizeof l->tariff, "%s", ver->tariff);
			}
			open_v[r] = v;
			open_z[r] = z;
			l->wh += c->wh[p][v][r];
			l->days_to = to;
			line_notes(c, p, v, r, l);
		}
		prev_v = v;
	}
	return n;
}

static int base_lines(struct calc *c, struct askue_bill_line *lines, int *line_v)
{
	int n = 0;
	for (int p = 0; p < NPART; p++)
		if (c->used[p])
			n = part_lines(c, p, lines, line_v, n);
	return n;
}

/* ---- volume bands and prices ------------------------------------------- */

static int zone_pos(const struct askue_bill_version *v, int idx)
{
	for (int z = 0; z < v->n_zones; z++)
		if (v->zones[z].idx == idx)
			return z;
	return 0;
}

static enum askue_err emit(struct calc *c, const struct askue_bill_line *base, int v, int band,
                           int64_t wh)
{
	struct askue_bill_result *o = c->out;
	if (o->n_lines == ASKUE_BILL_LINES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "billing: more than %d lines",
		                     ASKUE_BILL_LINES_MAX);
	const struct askue_bill_version *ver = &c->in->versions[v];
	struct askue_bill_line *l = &o->lines[o->n_lines++];
	*l = *base;
	l->wh = wh;
	l->band = band;
	int nb = ver->n_bands ? ver->n_bands : 1;
	int b = band > nb ? nb - 1 : (band ? band - 1 : 0);
	l->price = ver->price[zone_pos(ver, base->zone_idx)][b];
	return askue_money_of((struct askue_energy){wh}, l->price, ASKUE_ROUND_HALF_UP, &l->amount);
}

/* The band volumes of the month's total T by the limits of version v,
 * each limit x days / month_days (half up, in Wh) when fewer days than
 * the month's were billed. */
static enum askue_err band_volumes(const struct askue_bill_version *v, int64_t total,
                                   int32_t days, int32_t month_days, int64_t *vol)
{
	int64_t lower = 0;
	for (int b = 0; b < v->n_bands; b++) {
		int64_t upper = b + 1 < v->n_bands ? v->band_upto_wh[b] : INT64_MAX;
		enum askue_err err;
		if (upper != INT64_MAX && days < month_days &&
		    (err = mul_div(upper, days, month_days, &upper)))
			return err;
		int64_t in = total < lower ? lower : total > upper ? upper : total;
		vol[b] = in - lower;
		lower = upper;
	}
	return ASKUE_OK;
}

/* Lines in order take their shares of what is left of each band (see
 * billing.h); each line's parts sum to its wh, each band's to its volume. */
static enum askue_err band_lines(struct calc *c, const struct askue_bill_line *base,
                                 const int *base_v, int n, int last_v)
{
	const struct askue_bill_version *lv = &c->in->versions[last_v];
	int64_t total = 0, left[ASKUE_BILL_BANDS_MAX] = {0};
	int negative = 0;
	enum askue_err err;
	for (int i = 0; i < n; i++) {
		total += base[i].wh;
		negative |= base[i].wh < 0;
	}
	if (lv->n_bands < 2 || negative || total <= 0) {
		for (int i = 0; i < n; i++)
			if ((err = emit(c, &base[i], base_v[i], lv->n_bands < 2 ? 0 : 1, base[i].wh)))
				return err;
		return ASKUE_OK;
	}
	int first_line = c->out->n_lines;
	if ((err = band_volumes(lv, total, c->billed_days, c->month_days, left)))
		return err;
	for (int i = 0; i < n; i++) {
		int64_t part[ASKUE_BILL_BANDS_MAX] = {0};
		if (i + 1 == n)
			memcpy(part, left, sizeof part);
		else if (base[i].wh > 0)
			apportion(base[i].wh, left, lv->n_bands, part);
		int emitted = 0;
		for (int b = 0; b < lv->n_bands; b++) {
			left[b] -= part[b];
			if (part[b] == 0)
				continue;
			if ((err = emit(c, &base[i], base_v[i], b + 1, part[b])))
				return err;
			emitted = 1;
		}
		if (!emitted && (err = emit(c, &base[i], base_v[i], 1, 0)))
			return err;
	}
	if (c->billed_days < c->month_days) {
		char text[64];
		snprintf(text, sizeof text, "band limits pro rata: %d of %d days", c->billed_days,
		         c->month_days);
		for (int i = first_line; i < c->out->n_lines; i++)
			note_add(c->out->lines[i].note, sizeof c->out->lines[i].note, text);
	}
	return ASKUE_OK;
}

/* ---- the whole ---------------------------------------------------------- */

static enum askue_err finish(struct calc *c, uint32_t days_mask)
{
	struct askue_bill_result *o = c->out;
	char b1[ASKUE_NUM_BUF], b2[ASKUE_NUM_BUF];
	enum askue_err err;
	for (int i = 0; i < o->n_lines; i++) {
		if ((err = askue_money_add(o->charges, o->lines[i].amount, &o->charges)))
			return err;
		o->wh += o->lines[i].wh; /* lines <= 72, each <= ASKUE_ENERGY_WH_MAX x 4 */
		if (o->lines[i].how > o->how)
			o->how = o->lines[i].how;
	}
	o->estimated = o->how != ASKUE_BILL_MEASURED;
	o->days = __builtin_popcount(days_mask);
	const struct askue_bill_params *p = &c->in->params;
	if (!o->estimated && c->n_measured && p->high_factor && c->sum_days &&
	    (__int128)o->wh * c->sum_days > (__int128)p->high_factor * c->sum_wh * o->days)
		exception(c, ASKUE_BILL_EX_HIGH, "", -1,
		          "consumption %s kWh in %d days is above %d x the usual %s kWh in %" PRId64
		          " days", kwh(o->wh, b1), o->days, p->high_factor, kwh(c->sum_wh, b2),
		          c->sum_days);
	return ASKUE_OK;
}

/* Days between two meters (one dismantled, the next installed days later)
 * are estimated as a silent meter's are: by the average, or the norm
 * (ПП 354 п. 59 "б": a meter out of service; VERIFY). Days before the first
 * meter and after the last are not: the subscriber may not have been one. */
static enum askue_err bill_gap(struct calc *c, uint32_t *days_mask)
{
	const struct askue_bill_input *in = c->in;
	int lo = __builtin_ctz(*days_mask), hi = 31 - __builtin_clz(*days_mask), gap = 0;
	int64_t per_v[NVER] = {0}, total, per_reg[NREG] = {0};
	char b1[ASKUE_NUM_BUF];
	for (int d = lo; d <= hi; d++) {
		if (*days_mask >> d & 1)
			continue;
		int v = 0;
		while (v + 1 < in->n_versions && in->versions[v + 1].from.days <= in->first.days + d)
			v++;
		per_v[v]++;
		gap++;
	}
	if (!gap)
		return ASKUE_OK;
	enum askue_err err = estimate(c, gap, &total);
	if (err)
		return err;
	if (total < 0) {
		exception(c, ASKUE_BILL_EX_NO_NORM, "", -1,
		          "no meter on %d days between two meters, too little history and no norm: "
		          "those days not billed", gap);
		return ASKUE_OK;
	}
	split_estimate(c, total, c->need & 1u, per_reg);
	split_estimate(c, total, c->need & ~1u, per_reg);
	struct seg_ctx x = {.first = askue_date_add_days(in->first, lo),
	                    .end = askue_date_add_days(in->first, hi + 1)};
	struct reg_use use[NREG] = {0};
	for (int r = 0; r < NREG; r++)
		if (c->need >> r & 1) {
			use[r] = (struct reg_use){.billed = 1, .wh = per_reg[r], .how = c->method};
			apportion(per_reg[r], per_v, in->n_versions, use[r].part);
		}
	accumulate(c, 0, &x, use);
	exception(c, c->method == ASKUE_BILL_AVERAGE ? ASKUE_BILL_EX_ESTIMATED_AVERAGE
	                                             : ASKUE_BILL_EX_ESTIMATED_NORM,
	          "", -1, "no meter on %d days between two meters: estimated %s kWh by the %s",
	          gap, kwh(total, b1), c->method == ASKUE_BILL_AVERAGE ? "average" : "norm");
	*days_mask |= ((hi == 31 ? 0u : 2u << hi) - 1u) & ~((1u << lo) - 1u);
	return ASKUE_OK;
}

/* By zone, then by date: a zone's lines stand together on the invoice. */
static void sort_lines(struct askue_bill_line *l, int *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && (l[k - 1].zone_idx > l[k].zone_idx ||
		                          (l[k - 1].zone_idx == l[k].zone_idx &&
		                           l[k - 1].days_from.days > l[k].days_from.days));
		     k--) {
			struct askue_bill_line t = l[k];
			int tv = v[k];
			l[k] = l[k - 1], v[k] = v[k - 1];
			l[k - 1] = t, v[k - 1] = tv;
		}
}

/* Every segment: determinants, consumption split over the versions;
 * the days the meters served are marked and span part 0. */
static enum askue_err bill_segments(struct calc *c, uint32_t *days_mask)
{
	const struct askue_bill_input *in = c->in;
	enum askue_err err;
	c->part_first[0] = in->end;
	c->part_end[0] = in->first;
	for (int i = 0; i < in->n_segments; i++) {
		struct seg_ctx x = seg_ctx_of(c, &in->segments[i]);
		struct reg_use use[NREG];
		int first_det = c->out->n_determinants;
		if ((err = do_segment(c, &x, use)))
			return err;
		for (int k = first_det; k < c->out->n_determinants; k++) {
			const struct askue_bill_determinant *d = &c->out->determinants[k];
			split_segment(c, &x, d, &use[d->zone_idx]);
		}
		accumulate(c, 0, &x, use);
		mark_days(c, x.first, x.end, days_mask);
		if (x.first.days < c->part_first[0].days)
			c->part_first[0] = x.first;
		if (x.end.days > c->part_end[0].days)
			c->part_end[0] = x.end;
	}
	if (in->n_segments > 1 && *days_mask && (err = bill_gap(c, days_mask)))
		return err;
	return ASKUE_OK;
}

/* The served days without any meter: before the first, after the last, or
 * all of them when there is none (billed whole without has_served). */
static enum askue_err bill_unmetered(struct calc *c, uint32_t *days_mask)
{
	const struct askue_bill_input *in = c->in;
	struct askue_date sf = in->has_served ? in->served_first : in->first;
	struct askue_date se = in->has_served ? in->served_end : in->end;
	enum askue_err err;
	if (in->n_segments == 0)
		return bill_no_meter(c, 1, sf, se, days_mask);
	if (!in->has_served || c->part_end[0].days <= c->part_first[0].days)
		return ASKUE_OK;
	if (c->part_first[0].days > sf.days &&
	    (err = bill_no_meter(c, 1, sf, c->part_first[0], days_mask)))
		return err;
	if (c->part_end[0].days < se.days &&
	    (err = bill_no_meter(c, 2, c->part_end[0], se, days_mask)))
		return err;
	return ASKUE_OK;
}

static enum askue_err compute(struct calc *c)
{
	const struct askue_bill_input *in = c->in;
	enum askue_err err;
	uint32_t days_mask = 0;
	for (int v = 0; v < in->n_versions; v++)
		for (int z = 0; z < in->versions[v].n_zones; z++)
			c->need |= 1u << in->versions[v].zones[z].idx;
	find_method(c);
	if ((err = bill_segments(c, &days_mask)) || (err = bill_unmetered(c, &days_mask)))
		return err;
	if (!c->billed) /* nothing measured or estimated: no invoice, the exceptions say why */
		return finish(c, days_mask);
	c->billed_days = __builtin_popcount(days_mask);
	struct askue_bill_line base[ASKUE_BILL_LINES_MAX];
	int base_v[ASKUE_BILL_LINES_MAX];
	int n = base_lines(c, base, base_v), last_v = 0;
	sort_lines(base, base_v, n);
	for (int v = 0; v < in->n_versions; v++)
		if (version_days(in, v, in->first, in->end))
			last_v = v;
	if ((err = band_lines(c, base, base_v, n, last_v)))
		return err;
	return finish(c, days_mask);
}

enum askue_err askue_bill_compute(const struct askue_bill_input *in, struct askue_bill_result *out)
{
	static const struct askue_bill_result empty;
	enum askue_err err = check_input(in);
	if (err)
		return err;
	struct calc c = {.in = in, .month_days = in->end.days - in->first.days};
	struct askue_bill_result *o = out;
	/* built in place, so on an error out is reset rather than left half */
	*o = empty;
	c.out = o;
	if (in->n_versions == 0) {
		exception(&c, ASKUE_BILL_EX_NO_TARIFF, "", -1, "no tariff in force: not billed");
		return ASKUE_OK;
	}
	if ((err = compute(&c))) {
		*o = empty;
		return err;
	}
	return ASKUE_OK;
}
