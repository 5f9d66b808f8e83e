/* date — see date.h. The day arithmetic is Howard Hinnant's
 * days_from_civil / civil_from_days. */
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tz_name[128] = "UTC";

enum askue_err askue_tz_set(const char *zone)
{
	if (!zone || !*zone || strlen(zone) >= sizeof tz_name || strstr(zone, ".."))
		return askue_err_set(ASKUE_ERR_CONFIG, "time zone '%s': not a zone name",
		                     zone ? zone : "");
	if (strcmp(zone, "UTC") != 0) {
		const char *dir = getenv("TZDIR");
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", zone);
		struct stat st;
		if (zone[0] == '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			return askue_err_set(ASKUE_ERR_CONFIG,
			                     "time zone '%s': not in the zone database (%s)", zone, path);
	}
	snprintf(tz_name, sizeof tz_name, "%s", zone);
	setenv("TZ", zone, 1);
	tzset();
	return ASKUE_OK;
}

const char *askue_tz_name(void)
{
	return tz_name;
}

static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void askue_date_ymd(struct askue_date date, int *y, int *m, int *d)
{
	int32_t z = date.days + 719468;
	int32_t era = (z >= 0 ? z : z - 146096) / 146097;
	int32_t doe = z - era * 146097;
	int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int32_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

int askue_date_valid_ymd(int y, int m, int d)
{
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

struct askue_date askue_date_from_ymd(int y, int m, int d)
{
	return (struct askue_date){days_from_civil(y, m, d)};
}

static int parse_digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum askue_err askue_date_parse(const char *s, struct askue_date *out)
{
	int y, m, d;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || parse_digits(s, 4, &y) ||
	    parse_digits(s + 5, 2, &m) || parse_digits(s + 8, 2, &d))
		return askue_err_set(ASKUE_ERR_INVALID, "date '%s': expected YYYY-MM-DD",
		                     s ? s : "");
	if (!askue_date_valid_ymd(y, m, d))
		return askue_err_set(ASKUE_ERR_INVALID, "date '%s': no such day", s);
	*out = askue_date_from_ymd(y, m, d);
	return ASKUE_OK;
}

char *askue_date_format(struct askue_date date, char *buf)
{
	int y, m, d;
	askue_date_ymd(date, &y, &m, &d);
	snprintf(buf, ASKUE_DATE_BUF, "%04d-%02d-%02d", y, m, d);
	return buf;
}

struct askue_date askue_date_add_days(struct askue_date d, int32_t n)
{
	return (struct askue_date){d.days + n};
}

struct askue_date askue_date_add_months(struct askue_date date, int n)
{
	int y, m, d;
	askue_date_ymd(date, &y, &m, &d);
	int idx = y * 12 + (m - 1) + n;
	y = idx / 12;
	m = idx % 12 + 1;
	int dim = days_in_month(y, m);
	return askue_date_from_ymd(y, m, d > dim ? dim : d);
}

struct askue_date askue_date_add_years(struct askue_date d, int n)
{
	return askue_date_add_months(d, 12 * n);
}

int askue_date_weekday(struct askue_date d)
{
	/* 1970-01-01 was a Thursday (3). */
	int w = (int)((d.days % 7 + 7 + 3) % 7);
	return w;
}

enum askue_err askue_date_start(struct askue_date date, int64_t *utc_s)
{
	int y, m, d;
	askue_date_ymd(date, &y, &m, &d);
	/* Midnight may not exist on a DST jump day; mktime normalises it to the
	 * first instant of the day, which is what the day's start means. */
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
	time_t t = mktime(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
		return askue_err_set(ASKUE_ERR_RANGE, "date %04d-%02d-%02d: outside the time range", y, m, d);
	*utc_s = (int64_t)t;
	return ASKUE_OK;
}

struct askue_date askue_date_of(int64_t utc_s)
{
	time_t t = (time_t)utc_s;
	struct tm tm;
	localtime_r(&t, &tm);
	return askue_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

struct askue_date askue_date_today(void)
{
	return askue_date_of((int64_t)time(NULL));
}

enum askue_err askue_period_parse(const char *s, struct askue_period *out)
{
	int y, m;
	if (!s || strlen(s) != 7 || s[4] != '-' || parse_digits(s, 4, &y) || parse_digits(s + 5, 2, &m))
		return askue_err_set(ASKUE_ERR_INVALID, "period '%s': expected YYYY-MM", s ? s : "");
	if (y < 1900 || m < 1 || m > 12)
		return askue_err_set(ASKUE_ERR_INVALID, "period '%s': no such month", s);
	out->year = y;
	out->month = m;
	return ASKUE_OK;
}

char *askue_period_format(struct askue_period p, char *buf)
{
	snprintf(buf, ASKUE_DATE_BUF, "%04d-%02d", p.year, p.month);
	return buf;
}

struct askue_date askue_period_first(struct askue_period p)
{
	return askue_date_from_ymd(p.year, p.month, 1);
}

struct askue_period askue_period_add(struct askue_period p, int months)
{
	int idx = p.year * 12 + (p.month - 1) + months;
	return (struct askue_period){idx / 12, idx % 12 + 1};
}

struct askue_date askue_period_end(struct askue_period p)
{
	return askue_period_first(askue_period_add(p, 1));
}

struct askue_period askue_period_of(struct askue_date d)
{
	int y, m, dd;
	askue_date_ymd(d, &y, &m, &dd);
	return (struct askue_period){y, m};
}
