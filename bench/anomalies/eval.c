/* eval — the detectors of lib/anomaly.c measured on the labelled SGSC
 * development data (../shared/data/README.md): the same C functions the job
 * calls, fed as the job feeds them.
 *
 *   eval theft  THEFT_DAILY.csv THEFT_LABELS.csv   drop / away on 80 windows
 *   eval vacancy THEFT_DAILY.csv THEFT_LABELS.csv  a subscriber away, injected
 *   eval clean  HALFHOURLY.csv                     alarms on unlabelled real data
 *   eval faults FAULTS.csv LABELS.csv EVENTS.csv   backwards / jump / stuck
 *
 * A meter's register is built from the published kWh (cumulative Wh,
 * rounded to the nearest); the job runs once a day over the window_days
 * before it, so each series is judged day by day as the timer would, and an
 * alarm is a day on which a finding appears that the day before did not
 * have (an alert opened). Optional overrides of the parameters:
 * ANOM_DROP_PCT, ANOM_AWAY_PCT, ANOM_RECENT, ANOM_BASE_MIN, ANOM_STUCK,
 * ANOM_WINDOW, ANOM_MAX_W (for tuning; the defaults are the shipped ones).
 * Prints one "key value" per line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "anomaly.h"
#include "date.h"

#define LINE_MAX_BYTES 8192
#define DAYS_MAX 1200
#define SERIES_MAX 128

static struct askue_anomaly_params P;
static int32_t days_of(int y, int m, int d);
static int peers_from(const char *path);
static int window_days = 60;

static void env_int(const char *name, int *v)
{
	const char *s = getenv(name);
	if (s && *s)
		*v = atoi(s);
}

static void params(void)
{
	askue_anomaly_params_default(&P);
	int max_w = (int)P.max_w;
	env_int("ANOM_DROP_PCT", &P.drop_pct);
	env_int("ANOM_AWAY_PCT", &P.away_pct);
	env_int("ANOM_RECENT", &P.recent_days);
	env_int("ANOM_BASE_MIN", &P.baseline_days_min);
	env_int("ANOM_STUCK", &P.stuck_days);
	env_int("ANOM_WINDOW", &window_days);
	env_int("ANOM_MAX_W", &max_w);
	env_int("ANOM_STUCK_HOURS", &P.stuck_hours);
	P.max_w = max_w;
}

/* Split line at commas in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *s = line;
	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = s;
		char *c = strchr(s, ',');
		if (!c)
			break;
		*c = '\0';
		s = c + 1;
	}
	return n;
}

/* One meter's daily series: kWh a day (NAN: missing). */
struct series {
	char id[64];
	int n;
	double kwh[DAYS_MAX];
	int theft, onset; /* onset: 0-based day */
	int32_t cal0;     /* calendar day (since 1970) of kwh[0] */
};

/* The fleet's median drop ratio per calendar day (peers), from the clean
 * half-hourly file; 0 where unknown. */
#define PEER_BASE 15000
#define PEER_DAYS 2000
static int peer_pct[PEER_DAYS];
static int use_peers;

/* The meter_day rows of a daily series: one reading at each midnight. */
static size_t rows_of(const struct series *s, struct askue_anomaly_day *rows)
{
	int64_t reg = 1000000;
	size_t n = 0;
	for (int d = 0; d < s->n; d++) {
		if (isnan(s->kwh[d]))
			continue;
		reg += (int64_t)llround(s->kwh[d] * 1000.0);
		int64_t ts = (int64_t)(20000 + d) * 86400;
		rows[n++] = (struct askue_anomaly_day){.day = 20000 + d, .readings = 1, .first_ts = ts,
		                                       .first_wh = reg, .last_ts = ts, .last_wh = reg};
	}
	return n;
}

/* The first day judged: the drop detector's first full judgement (a meter
 * with less history than the window is judged on what there is). */
static int first_day(void)
{
	return P.baseline_days_min + P.recent_days;
}

/* Judge a series day by day; found[d][k]. */
static void judge_series(const struct series *s, int (*found)[ASKUE_ANOMALY_KINDS + 1])
{
	static struct askue_anomaly_day rows[DAYS_MAX];
	size_t n = rows_of(s, rows);
	for (int d = first_day(); d < s->n; d++) {
		int32_t today = 20000 + d;
		size_t lo = 0, hi = 0;
		while (lo < n && rows[lo].day <= today - window_days)
			lo++;
		hi = lo;
		while (hi < n && rows[hi].day <= today)
			hi++;
		struct askue_anomaly_result r;
		askue_anomaly_days(&P, rows + lo, hi - lo, today, &r);
		int cal = s->cal0 + d - PEER_BASE;
		if (use_peers && cal >= 0 && cal < PEER_DAYS)
			askue_anomaly_drop_peer(&P, peer_pct[cal], &r);
		for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
			found[d][k] = r.found[k];
		found[d][ASKUE_ANOMALY_KINDS] = r.drop_judged ? r.ratio_pct : -1;
	}
}

struct tally {
	long meter_days;
	long opened[ASKUE_ANOMALY_KINDS];
};

static void count_openings(const struct series *s, int (*found)[ASKUE_ANOMALY_KINDS + 1], int upto,
                           struct tally *t)
{
	for (int d = first_day(); d < upto; d++) {
		t->meter_days++;
		for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
			if (found[d][k] && (d == first_day() || !found[d - 1][k]))
				t->opened[k]++;
	}
	(void)s;
}

static void print_rates(const char *prefix, const struct tally *t)
{
	printf("%s_meter_days %ld\n", prefix, t->meter_days);
	for (int k = 0; k < ASKUE_ANOMALY_KINDS; k++)
		printf("%s_%s_alarms %ld per_10k_meters_month %.1f\n", prefix,
		       askue_anomaly_kind_name(k), t->opened[k],
		       t->meter_days ? (double)t->opened[k] * 30.0 * 10000.0 / (double)t->meter_days
		                     : 0.0);
}

/* Ranking by the strongest suspicion (the README's scoring): ROC AUC (ties
 * count half), average precision, precision at k = the number of thefts. */
static void ranking(const struct series *s, const int *susp, int ns, int thefts)
{
	double auc = 0;
	for (int i = 0; i < ns; i++)
		for (int j = 0; j < ns; j++)
			if (s[i].theft && !s[j].theft)
				auc += susp[i] > susp[j] ? 1.0 : susp[i] == susp[j] ? 0.5 : 0.0;
	auc /= (double)thefts * (ns - thefts);
	int order[SERIES_MAX];
	for (int i = 0; i < ns; i++)
		order[i] = i;
	for (int i = 1; i < ns; i++) /* insertion sort, most suspicious first */
		for (int j = i; j > 0 && susp[order[j]] > susp[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	double ap = 0;
	int hits = 0, at_k = 0;
	for (int r = 0; r < ns; r++) {
		if (s[order[r]].theft) {
			hits++;
			ap += (double)hits / (r + 1);
		}
		if (r + 1 == thefts)
			at_k = hits;
	}
	printf("drop_rank_auc %.3f\ndrop_rank_ap %.3f\ndrop_rank_precision_at_%d %.3f\n", auc,
	       thefts ? ap / thefts : 0.0, thefts, thefts ? (double)at_k / thefts : 0.0);
}

/* The theft file's samples and their labels into s[0..*ns). */
static int load_theft(const char *daily, const char *labels, struct series *s, int *ns_out)
{
	char line[LINE_MAX_BYTES], *f[200];
	int ns = 0;
	FILE *fp = fopen(daily, "r");
	if (!fp)
		return perror(daily), 1;
	while (fgets(line, sizeof line, fp)) {
		int n = split(line, f, 200);
		if (!strcmp(f[0], "sample_id") || ns == SERIES_MAX)
			continue;
		snprintf(s[ns].id, sizeof s[ns].id, "%s", f[0]);
		int y, mo, dd;
		s[ns].cal0 = sscanf(f[2], "%d-%d-%d", &y, &mo, &dd) == 3 ? days_of(y, mo, dd) : 0;
		s[ns].n = n - 3;
		for (int d = 0; d < s[ns].n; d++)
			s[ns].kwh[d] = *f[d + 3] ? atof(f[d + 3]) : NAN;
		ns++;
	}
	fclose(fp);
	if (!(fp = fopen(labels, "r")))
		return perror(labels), 1;
	while (fgets(line, sizeof line, fp)) {
		int n = split(line, f, 16);
		for (int i = 0; i < ns && n >= 6; i++)
			if (!strcmp(s[i].id, f[0])) {
				s[i].theft = atoi(f[3]);
				s[i].onset = s[i].theft ? atoi(f[5]) - 1 : s[i].n;
			}
	}
	fclose(fp);
	*ns_out = ns;
	return 0;
}

/* A subscriber away: in each window without theft, L days from day 70 at
 * 10 % of their consumption (a fridge and a router), L = 7, 14, 21, 28;
 * how many windows get a drop alarm they did not have without it. */
static int vacancy(const char *daily, const char *labels, const char *peers)
{
	static struct series s[SERIES_MAX], v;
	static int base[DAYS_MAX][ASKUE_ANOMALY_KINDS + 1], with[DAYS_MAX][ASKUE_ANOMALY_KINDS + 1];
	int ns;
	if ((peers && peers_from(peers)) || load_theft(daily, labels, s, &ns))
		return 1;
	static const int lengths[] = {7, 14, 21, 28};
	for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
		int normal = 0, drops = 0, aways = 0;
		for (int i = 0; i < ns; i++) {
			if (s[i].theft)
				continue;
			normal++;
			v = s[i];
			for (int d = 70; d < 70 + lengths[l] && d < v.n; d++)
				v.kwh[d] *= 0.1;
			memset(base, 0, sizeof base);
			memset(with, 0, sizeof with);
			judge_series(&s[i], base);
			judge_series(&v, with);
			int drop = 0, away = 0;
			for (int d = 70; d < v.n; d++) {
				drop |= with[d][ASKUE_ANOMALY_DROP] && !base[d][ASKUE_ANOMALY_DROP];
				away |= with[d][ASKUE_ANOMALY_AWAY];
			}
			drops += drop;
			aways += away;
		}
		printf("vacancy_%d_days windows %d new_drop_alarms %d seen_as_away %d\n", lengths[l],
		       normal, drops, aways);
	}
	return 0;
}

static int theft(const char *daily, const char *labels, const char *peers)
{
	if (peers && peers_from(peers))
		return 1;
	static struct series s[SERIES_MAX];
	static int found[DAYS_MAX][ASKUE_ANOMALY_KINDS + 1];
	int ns;
	if (load_theft(daily, labels, s, &ns))
		return 1;
	int thefts = 0, tp = 0, fp_samples = 0, away_theft = 0, delay_sum = 0;
	static int susp[SERIES_MAX]; /* the strongest suspicion seen: 100 - ratio */
	struct tally normal = {0};
	for (int i = 0; i < ns; i++) {
		memset(found, 0, sizeof found);
		judge_series(&s[i], found);
		int first = -1, before = 0, away = 0;
		susp[i] = -1000;
		for (int d = first_day(); d < s[i].n; d++) {
			int ratio = found[d][ASKUE_ANOMALY_KINDS];
			if (ratio >= 0 && 100 - ratio > susp[i])
				susp[i] = 100 - ratio;
			if (found[d][ASKUE_ANOMALY_DROP] && d >= s[i].onset && first < 0)
				first = d;
			if (found[d][ASKUE_ANOMALY_DROP] && d < s[i].onset)
				before = 1;
			if (found[d][ASKUE_ANOMALY_AWAY] && d >= s[i].onset)
				away = 1;
		}
		count_openings(&s[i], found, s[i].theft ? s[i].onset : s[i].n, &normal);
		thefts += s[i].theft;
		if (s[i].theft && first >= 0) {
			tp++;
			delay_sum += first - s[i].onset;
		}
		if (s[i].theft && first < 0 && away)
			away_theft++;
		fp_samples += before || (!s[i].theft && first >= 0);
	}
	printf("theft_samples %d\nthefts %d\ndrop_found %d\n", ns, thefts, tp);
	printf("drop_false_samples %d\n", fp_samples);
	printf("drop_precision %.3f\ndrop_recall %.3f\n",
	       tp + fp_samples ? (double)tp / (tp + fp_samples) : 0.0, thefts ? (double)tp / thefts : 0.0);
	printf("drop_mean_delay_days %.1f\n", tp ? (double)delay_sum / tp : 0.0);
	printf("thefts_seen_only_as_away %d\n", away_theft);
	print_rates("theft_normal_days", &normal);
	ranking(s, susp, ns, thefts);
	return 0;
}

/* Days since 1970-01-01 of y-m-d (lib/date). */
static int32_t days_of(int y, int m, int d)
{
	return askue_date_from_ymd(y, m, d).days;
}

/* "YYYY-MM-DD HH:MM[:SS]" -> seconds (a clock label read as UTC). */
static int64_t stamp_of(const char *s)
{
	int y, mo, d, h, mi;
	if (sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5)
		return -1;
	return (int64_t)days_of(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

/* One customer's half-hours: time and kWh (NAN missing), label index. */
struct hh {
	char id[32];
	size_t n, cap;
	int64_t *ts;
	double *kwh;
	char *label; /* 0 none, 's' spike, 'z' zero_run, 't' stuck, 'r' rollback */
};

static struct hh *cust;
static size_t ncust;

static struct hh *cust_of(const char *id)
{
	if (ncust && !strcmp(cust[ncust - 1].id, id))
		return &cust[ncust - 1];
	for (size_t i = 0; i < ncust; i++)
		if (!strcmp(cust[i].id, id))
			return &cust[i];
	cust = realloc(cust, (ncust + 1) * sizeof *cust);
	memset(&cust[ncust], 0, sizeof *cust);
	snprintf(cust[ncust].id, sizeof cust[ncust].id, "%s", id);
	return &cust[ncust++];
}

static int read_halfhourly(const char *path)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return perror(path), 1;
	char line[256], *f[4];
	while (gzgets(gz, line, sizeof line)) {
		if (split(line, f, 4) < 3 || !strcmp(f[0], "customer_id"))
			continue;
		struct hh *c = cust_of(f[0]);
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->ts = realloc(c->ts, c->cap * sizeof *c->ts);
			c->kwh = realloc(c->kwh, c->cap * sizeof *c->kwh);
			c->label = realloc(c->label, c->cap);
		}
		c->ts[c->n] = stamp_of(f[1]);
		c->kwh[c->n] = *f[2] ? atof(f[2]) : NAN;
		c->label[c->n++] = 0;
	}
	gzclose(gz);
	return 0;
}

/* The daily series of a customer: the sum of a day's half-hours, missing
 * when more than 4 are missing (as the theft file was made). */
static void daily_of(const struct hh *c, struct series *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", c->id);
	int32_t d0 = (int32_t)(c->ts[0] / 86400);
	int missing[DAYS_MAX] = {0}, present[DAYS_MAX] = {0};
	s->cal0 = d0;
	for (size_t i = 0; i < c->n; i++) {
		int d = (int)(c->ts[i] / 86400 - d0);
		if (d < 0 || d >= DAYS_MAX)
			continue;
		if (d >= s->n)
			s->n = d + 1;
		if (isnan(c->kwh[i]))
			missing[d]++;
		else
			s->kwh[d] += c->kwh[i], present[d]++;
	}
	for (int d = 0; d < s->n; d++)
		if (missing[d] > 4 || present[d] == 0)
			s->kwh[d] = NAN;
}

/* Raw findings of one customer, per day: the track of each day fed with
 * the cumulative register at each half-hour; flag[i] marks the half-hour
 * whose step was backwards ('b') or a jump ('j'). */
static void track_days(const struct hh *c, char *flag, int *day_found)
{
	int64_t reg = 1000000;
	struct askue_anomaly_track t = {0};
	int32_t day = -1;
	int32_t d0 = (int32_t)(c->ts[0] / 86400);
	for (size_t i = 0; i < c->n; i++) {
		flag[i] = 0;
		if (isnan(c->kwh[i]))
			continue;
		int32_t d = (int32_t)(c->ts[i] / 86400);
		if (d != day) {
			struct askue_anomaly_track keep = t;
			memset(&t, 0, sizeof t);
			if (keep.has_prev) { /* the day starts from yesterday's last reading */
				t.has_prev = 1;
				t.prev_ts = keep.prev_ts;
				t.prev_wh = keep.prev_wh;
				t.flat_from_ts = keep.flat_from_ts;
			}
			day = d;
		}
		reg += (int64_t)llround(c->kwh[i] * 1000.0);
		int64_t b = t.backwards_n, j = t.jump_n;
		askue_anomaly_track_add(&t, &P, c->ts[i] + 1800, reg, 0, 0);
		if (t.backwards_n > b)
			flag[i] = 'b';
		else if (t.jump_n > j)
			flag[i] = 'j';
		if (flag[i] && d - d0 >= 0 && d - d0 < DAYS_MAX)
			day_found[d - d0] |= flag[i] == 'b' ? 1 : 2;
	}
}

/* Alerts opened by a finding that holds event_days: day d active when a
 * finding was on one of the days (d - event_days, d]. */
static long openings(const int *day_found, int n, int bit)
{
	long opened = 0;
	int prev = 0;
	for (int d = 0; d < n; d++) {
		int act = 0;
		for (int k = 0; k < P.event_days && d - k >= 0; k++)
			act |= (day_found[d - k] & bit) != 0;
		opened += act && !prev;
		prev = act;
	}
	return opened;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The fleet's median ratio per calendar day over the customers of path
 * (at least 5 judged that day). */
static int peers_from(const char *path)
{
	static struct series s;
	static int found[DAYS_MAX][ASKUE_ANOMALY_KINDS + 1];
	static int vals[PEER_DAYS][SERIES_MAX];
	static int nv[PEER_DAYS];
	if (!ncust && read_halfhourly(path))
		return 1;
	int keep = use_peers;
	use_peers = 0;
	for (size_t i = 0; i < ncust; i++) {
		daily_of(&cust[i], &s);
		memset(found, 0, sizeof found);
		judge_series(&s, found);
		for (int d = first_day(); d < s.n; d++) {
			int cal = s.cal0 + d - PEER_BASE;
			if (found[d][ASKUE_ANOMALY_KINDS] >= 0 && cal >= 0 && cal < PEER_DAYS &&
			    nv[cal] < SERIES_MAX)
				vals[cal][nv[cal]++] = found[d][ASKUE_ANOMALY_KINDS];
		}
	}
	for (int c = 0; c < PEER_DAYS; c++) {
		if (nv[c] < 5)
			continue;
		qsort(vals[c], (size_t)nv[c], sizeof(int), cmp_int);
		peer_pct[c] = vals[c][nv[c] / 2];
		if (peer_pct[c] > 150) /* as the job caps it (PEER_PCT_MAX) */
			peer_pct[c] = 150;
	}
	use_peers = keep;
	return 0;
}

static int clean(const char *path)
{
	static struct series s;
	static int found[DAYS_MAX][ASKUE_ANOMALY_KINDS + 1];
	if (read_halfhourly(path))
		return 1;
	if (use_peers && peers_from(path))
		return 1;
	struct tally t = {0};
	long raw_b = 0, raw_j = 0, raw_days = 0;
	for (size_t i = 0; i < ncust; i++) {
		daily_of(&cust[i], &s);
		memset(found, 0, sizeof found);
		judge_series(&s, found);
		count_openings(&s, found, s.n, &t);
		if (getenv("ANOM_VERBOSE")) {
			int o = 0, days = 0;
			for (int d = first_day(); d < s.n; d++) {
				days += found[d][ASKUE_ANOMALY_DROP];
				o += found[d][ASKUE_ANOMALY_DROP] && !found[d - 1][ASKUE_ANOMALY_DROP];
			}
			fprintf(stderr, "%s days %d drop_days %d drop_openings %d\n", s.id, s.n, days, o);
		}
		char *flag = malloc(cust[i].n);
		int day_found[DAYS_MAX] = {0};
		track_days(&cust[i], flag, day_found);
		raw_b += openings(day_found, s.n, 1);
		raw_j += openings(day_found, s.n, 2);
		raw_days += s.n;
		free(flag);
	}
	printf("clean_customers %zu\n", ncust);
	print_rates("clean", &t);
	printf("clean_raw_days %ld\n", raw_days);
	printf("clean_raw_backwards_alarms %ld per_10k_meters_month %.1f\n", raw_b,
	       (double)raw_b * 300000.0 / (double)raw_days);
	printf("clean_raw_jump_alarms %ld per_10k_meters_month %.1f\n", raw_j,
	       (double)raw_j * 300000.0 / (double)raw_days);
	return 0;
}

static char label_code(const char *l)
{
	return !strcmp(l, "spike") ? 's' : !strcmp(l, "zero_run") ? 'z' : !strcmp(l, "stuck") ? 't'
	       : !strcmp(l, "rollback") ? 'r' : '?';
}

/* The half-hour of customer c at ts (a regular grid), or -1. */
static long index_of(const struct hh *c, int64_t ts)
{
	long i = (long)((ts - c->ts[0]) / 1800);
	return i >= 0 && (size_t)i < c->n && c->ts[i] == ts ? i : -1;
}

static int read_labels(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return perror(path), 1;
	char line[256], *f[4];
	while (fgets(line, sizeof line, fp)) {
		if (split(line, f, 4) < 3 || !strcmp(f[0], "customer_id"))
			continue;
		struct hh *c = cust_of(f[0]);
		long i = c->n ? index_of(c, stamp_of(f[1])) : -1;
		if (i >= 0)
			c->label[i] = label_code(f[2]);
	}
	fclose(fp);
	return 0;
}

/* Raw flags plus 'f' on a half-hour at which the register has stood still
 * for stuck_hours (the track's flat run), when stuck_hours > 0. */
static void flag_flat(const struct hh *c, char *flag)
{
	int64_t flat_from = -1;
	double prev = -1;
	for (size_t i = 0; i < c->n && P.stuck_hours > 0; i++) {
		if (isnan(c->kwh[i]))
			continue;
		if (c->kwh[i] != 0.0 || prev < 0)
			flat_from = c->ts[i];
		else if (c->ts[i] + 1800 - flat_from >= (int64_t)P.stuck_hours * 3600 && !flag[i])
			flag[i] = 'f';
		prev = c->kwh[i];
	}
}

struct fscore {
	long flagged[3], hit_any[3], hit_target[3]; /* b, j, f */
	long labelled, labelled_found, nonmissing;
};

static int det_index(char f)
{
	return f == 'b' ? 0 : f == 'j' ? 1 : 2;
}

static void score_customer(const struct hh *c, const char *flag, struct fscore *sc)
{
	static const char target[3] = {'r', 's', 'z'};
	for (size_t i = 0; i < c->n; i++) {
		if (isnan(c->kwh[i]))
			continue;
		sc->nonmissing++;
		sc->labelled += c->label[i] != 0;
		if (!flag[i])
			continue;
		int k = det_index(flag[i]);
		sc->flagged[k]++;
		sc->hit_any[k] += c->label[i] != 0;
		sc->hit_target[k] += c->label[i] == target[k];
		sc->labelled_found += c->label[i] != 0;
	}
}

/* Event recall per type: an event found when one of its half-hours is
 * flagged (the README's scoring), with the flags of every customer. */
static int event_recall(const char *path, char **flags)
{
	static const char *const types[4] = {"spike", "zero_run", "stuck", "rollback"};
	long n[4] = {0}, hit[4] = {0};
	FILE *fp = fopen(path, "r");
	if (!fp)
		return perror(path), 1;
	char line[256], *f[6];
	while (fgets(line, sizeof line, fp)) {
		if (split(line, f, 6) < 5 || !strcmp(f[0], "customer_id"))
			continue;
		int t = 0;
		while (t < 4 && strcmp(types[t], f[1]))
			t++;
		struct hh *c = cust_of(f[0]);
		long a = index_of(c, stamp_of(f[2])), b = index_of(c, stamp_of(f[3]));
		if (t == 4 || a < 0 || b < 0)
			continue;
		n[t]++;
		int found = 0;
		for (long i = a; i <= b; i++)
			found |= flags[c - cust][i] != 0;
		hit[t] += found;
	}
	fclose(fp);
	for (int t = 0; t < 4; t++)
		printf("faults_event_recall_%s %.2f (%ld of %ld)\n", types[t],
		       n[t] ? (double)hit[t] / n[t] : 0.0, hit[t], n[t]);
	return 0;
}

static int faults(const char *data, const char *labels, const char *events)
{
	if (read_halfhourly(data) || read_labels(labels))
		return 1;
	struct fscore sc = {0};
	char **flags = calloc(ncust, sizeof *flags);
	for (size_t i = 0; i < ncust; i++) {
		int day_found[DAYS_MAX] = {0};
		flags[i] = malloc(cust[i].n);
		track_days(&cust[i], flags[i], day_found);
		flag_flat(&cust[i], flags[i]);
		score_customer(&cust[i], flags[i], &sc);
	}
	static const char *const det[3] = {"backwards", "jump", "flat"};
	long flagged = 0;
	for (int k = 0; k < 3; k++) {
		flagged += sc.flagged[k];
		printf("faults_%s_flagged %ld labelled %ld of_its_type %ld precision %.3f\n", det[k],
		       sc.flagged[k], sc.hit_any[k], sc.hit_target[k],
		       sc.flagged[k] ? (double)sc.hit_any[k] / sc.flagged[k] : 0.0);
	}
	printf("faults_halfhours %ld labelled %ld\n", sc.nonmissing, sc.labelled);
	printf("faults_precision %.3f\nfaults_recall %.3f\n",
	       flagged ? (double)sc.labelled_found / flagged : 0.0,
	       sc.labelled ? (double)sc.labelled_found / sc.labelled : 0.0);
	int rc = event_recall(events, flags);
	for (size_t i = 0; i < ncust; i++)
		free(flags[i]);
	free(flags);
	return rc;
}

int main(int argc, char **argv)
{
	params();
	env_int("ANOM_PEERS", &use_peers);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "theft"))
		return theft(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "vacancy"))
		return vacancy(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 3 && !strcmp(argv[1], "clean"))
		return clean(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "faults"))
		return faults(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: eval theft|vacancy DAILY LABELS [PEERS_HALFHOURLY] | clean HALFHOURLY | faults DATA LABELS EVENTS\n");
	return 64;
}
