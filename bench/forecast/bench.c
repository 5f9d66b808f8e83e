/* bench/forecast — the accuracy of lib/forecast on real half-hourly demand,
 * by rolling origin, against the seasonal naive forecast (the same
 * half-hour a week before).
 *
 * Input on stdin: lines "series,value" in time order, 48 values a day from
 * a local midnight (bench/forecast/run makes them from the data files).
 * For each series and each origin (every STEP days from HISTORY days in,
 * while 7 days follow it) the model is fitted on the HISTORY days before
 * the origin and forecasts the 7 days after it. For horizons 1 and 7:
 *   MAPE of the daily energy, MAPE of the daily peak half-hour's value,
 *   mean absolute error of the peak's time (minutes), and the share of
 *   half-hours inside the 90 % interval.
 * Usage: bench HISTORY_DAYS STEP_DAYS < series.csv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast.h"

#define SD ASKUE_FORECAST_SLOTS_DAY
#define MAXN (1000 * SD)

struct acc {
	double e_day, e_peak, e_at, inside, slots;
	int n;
};

static void score_day(struct acc *a, const double *f, const double *lo, const double *hi,
                      const double *x)
{
	double sf = 0, sx = 0;
	for (int k = 0; k < SD; k++) {
		sf += f[k];
		sx += x[k];
		if (lo && x[k] >= lo[k] && x[k] <= hi[k])
			a->inside++;
	}
	int pf = askue_forecast_peak_slot(f), px = askue_forecast_peak_slot(x);
	a->e_day += fabs(sf - sx) / sx;
	a->e_peak += fabs(f[pf] - x[px]) / x[px];
	a->e_at += 30.0 * abs(pf - px);
	a->slots += lo ? SD : 0;
	a->n++;
}

static void print_acc(const char *name, const char *method, int h, const struct acc *a)
{
	char inside[16] = "-";
	if (a->slots)
		snprintf(inside, sizeof inside, "%.0f %%", 100 * a->inside / a->slots);
	printf("| %s | %s | %d | %d | %.2f | %.2f | %.0f | %s |\n", name, method, h, a->n,
	       100 * a->e_day / a->n, 100 * a->e_peak / a->n, a->e_at / a->n, inside);
}

static struct acc total[2][2]; /* [model|naive][h1|h7] */
static double fit_s;
static int fits;

static void run_series(const char *name, const double *x, size_t n, int hist, int step)
{
	struct acc a[2][2] = {{{0}}};
	size_t days = n / SD;
	for (size_t o = (size_t)hist; o + 7 <= days; o += (size_t)step) {
		struct askue_forecast_model m;
		clock_t c0 = clock();
		if (askue_forecast_fit(x + (o - (size_t)hist) * SD, (size_t)hist * SD, 7, &m)) {
			fprintf(stderr, "%s: origin %zu: %s\n", name, o, askue_err_msg());
			continue;
		}
		fit_s += (double)(clock() - c0) / CLOCKS_PER_SEC;
		fits++;
		struct askue_forecast_day d[7];
		askue_forecast_predict(&m, 7, d);
		for (int i = 0; i < 2; i++) {
			int h = i ? 7 : 1;
			const double *actual = x + (o + (size_t)h - 1) * SD;
			score_day(&a[0][i], d[h - 1].wh, d[h - 1].lo_wh, d[h - 1].hi_wh, actual);
			score_day(&a[1][i], actual - 7 * SD, NULL, NULL, actual);
		}
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++) {
			print_acc(name, k ? "seasonal naive" : "double seasonal ES", i ? 7 : 1, &a[k][i]);
			struct acc *t = &total[k][i];
			t->e_day += a[k][i].e_day;
			t->e_peak += a[k][i].e_peak;
			t->e_at += a[k][i].e_at;
			t->inside += a[k][i].inside;
			t->slots += a[k][i].slots;
			t->n += a[k][i].n;
		}
}

int main(int argc, char **argv)
{
	int hist = argc > 1 ? atoi(argv[1]) : 56, step = argc > 2 ? atoi(argv[2]) : 1;
	static double x[MAXN];
	char line[256], name[128] = "", cur[128] = "";
	size_t n = 0;
	printf("| series | method | horizon (days) | origins | daily energy MAPE %% | "
	       "peak MAPE %% | peak time error (min) | inside 90 %% interval |\n"
	       "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (;;) {
		int eof = !fgets(line, sizeof line, stdin);
		char *comma = eof ? NULL : strrchr(line, ',');
		if (comma) {
			*comma = '\0';
			snprintf(name, sizeof name, "%s", line);
		}
		if (eof || (strcmp(name, cur) && n)) {
			run_series(cur, x, n - n % SD, hist, step);
			n = 0;
		}
		if (eof)
			break;
		snprintf(cur, sizeof cur, "%s", name);
		if (comma && n < MAXN)
			x[n++] = atof(comma + 1);
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			print_acc("**all**", k ? "seasonal naive" : "double seasonal ES", i ? 7 : 1,
			          &total[k][i]);
	printf("\n%d fits of %d days each, %.3f s per fit (grid of 600)\n", fits, hist,
	       fits ? fit_s / fits : 0);
	return 0;
}
