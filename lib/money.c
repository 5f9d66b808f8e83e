/* money — see money.h. */
#include "money.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum askue_err askue_fixed_parse(const char *s, int scale_digits, int allow_negative,
                                 int64_t max, const char *what, int64_t *out)
{
	const char *p = s;
	int negative = 0;
	if (!s || !*s)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: empty value", what);
	if (*p == '-') {
		if (!allow_negative)
			return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': must not be negative", what, s);
		negative = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': not a number", what, s);
	int64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max / 10) + 1)
			return askue_err_set(ASKUE_ERR_RANGE, "%s '%s': too large", what, s);
		v = v * 10 + (*p - '0');
	}
	int decimals = 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': digits expected after '.'", what, s);
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++decimals > scale_digits)
				return askue_err_set(ASKUE_ERR_INVALID,
				                     "%s '%s': at most %d decimal%s", what, s,
				                     scale_digits, scale_digits == 1 ? "" : "s");
			v = v * 10 + (*p - '0');
		}
	}
	if (*p)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': unexpected '%c'", what, s, *p);
	for (; decimals < scale_digits; decimals++) {
		if (v > max / 10)
			return askue_err_set(ASKUE_ERR_RANGE, "%s '%s': too large", what, s);
		v *= 10;
	}
	if (v > max)
		return askue_err_set(ASKUE_ERR_RANGE, "%s '%s': too large", what, s);
	*out = negative ? -v : v;
	return ASKUE_OK;
}

enum askue_err askue_money_parse(const char *s, struct askue_money *out)
{
	int64_t v = 0;
	enum askue_err err = askue_fixed_parse(s, 2, 1, ASKUE_MONEY_KOP_MAX, "amount", &v);
	if (err)
		return err;
	out->kop = v;
	return ASKUE_OK;
}

enum askue_err askue_energy_parse_kwh(const char *s, struct askue_energy *out)
{
	int64_t v = 0;
	enum askue_err err = askue_fixed_parse(s, 3, 0, ASKUE_ENERGY_WH_MAX, "kWh", &v);
	if (err)
		return err;
	out->wh = v;
	return ASKUE_OK;
}

enum askue_err askue_price_parse(const char *s, struct askue_price *out)
{
	int64_t v = 0;
	enum askue_err err = askue_fixed_parse(s, ASKUE_PRICE_DECIMALS, 0, ASKUE_PRICE_MAX,
	                                 "price", &v);
	if (err)
		return err;
	out->micro_rub = v;
	return ASKUE_OK;
}

/* Format v / 10^scale with at least min_dec and at most scale decimals. */
static char *format_fixed(int64_t v, int scale, int min_dec, char *buf)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t div = 1;
	for (int i = 0; i < scale; i++)
		div *= 10;
	uint64_t ip = mag / div, fp = mag % div;
	char frac[24];
	snprintf(frac, sizeof frac, "%0*" PRIu64, scale, fp);
	int len = scale;
	while (len > min_dec && frac[len - 1] == '0')
		len--;
	frac[len] = '\0';
	snprintf(buf, ASKUE_NUM_BUF, "%s%" PRIu64 "%s%s", v < 0 ? "-" : "", ip,
	         len ? "." : "", frac);
	return buf;
}

char *askue_money_format(struct askue_money m, char *buf)
{
	return format_fixed(m.kop, 2, 2, buf);
}

char *askue_energy_format_kwh(struct askue_energy e, char *buf)
{
	return format_fixed(e.wh, 3, 3, buf);
}

char *askue_price_format(struct askue_price p, char *buf)
{
	return format_fixed(p.micro_rub, ASKUE_PRICE_DECIMALS, 2, buf);
}

static enum askue_err checked_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return askue_err_set(ASKUE_ERR_RANGE, "sum overflows");
	*out = r;
	return ASKUE_OK;
}

enum askue_err askue_money_add(struct askue_money a, struct askue_money b, struct askue_money *out)
{
	return checked_add(a.kop, b.kop, &out->kop);
}

enum askue_err askue_money_sub(struct askue_money a, struct askue_money b, struct askue_money *out)
{
	if (b.kop == INT64_MIN)
		return askue_err_set(ASKUE_ERR_RANGE, "difference overflows");
	return checked_add(a.kop, -b.kop, &out->kop);
}

enum askue_err askue_energy_add(struct askue_energy a, struct askue_energy b,
                                struct askue_energy *out)
{
	return checked_add(a.wh, b.wh, &out->wh);
}

enum askue_err askue_muldiv(int64_t a, int64_t b, int64_t d, enum askue_round mode, int64_t *out)
{
	if (d <= 0)
		return askue_err_set(ASKUE_ERR_RANGE, "division by a non-positive number");
	__int128 n = (__int128)a * b;
	int negative = n < 0;
	unsigned __int128 mag = negative ? (unsigned __int128)(-n) : (unsigned __int128)n;
	unsigned __int128 q = mag / (unsigned __int128)d, r = mag % (unsigned __int128)d;
	unsigned __int128 twice = r * 2;
	switch (mode) {
	case ASKUE_ROUND_DOWN:
		break;
	case ASKUE_ROUND_HALF_UP:
		if (twice >= (unsigned __int128)d)
			q++;
		break;
	case ASKUE_ROUND_HALF_EVEN:
		if (twice > (unsigned __int128)d || (twice == (unsigned __int128)d && (q & 1)))
			q++;
		break;
	}
	if (q > (unsigned __int128)INT64_MAX)
		return askue_err_set(ASKUE_ERR_RANGE, "product overflows");
	*out = negative ? -(int64_t)q : (int64_t)q;
	return ASKUE_OK;
}

enum askue_err askue_money_of(struct askue_energy e, struct askue_price p, enum askue_round mode,
                              struct askue_money *out)
{
	/* Wh x micro-RUB/kWh = 1e-9 RUB = 1e-7 kop */
	int64_t kop = 0;
	enum askue_err err = askue_muldiv(e.wh, p.micro_rub, INT64_C(10000000), mode, &kop);
	if (err)
		return err;
	out->kop = kop;
	return ASKUE_OK;
}
