/* qr_gost — see qr_gost.h. The checks first, then one builder that appends
 * "|Key=value" fields to a bounded buffer. */
#include "qr_gost.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Characters of a UTF-8 value, or -1 when it is not valid UTF-8 or holds
 * a control character or the separator. *bad gets what was wrong. */
static long value_chars(const char *s, const char **bad)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	while (*p) {
		unsigned c = *p;
		int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
		        : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (len == 0 || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4)) {
			*bad = "is not valid UTF-8";
			return -1;
		}
		for (int i = 1; i < len; i++)
			if ((p[i] & 0xC0) != 0x80) {
				*bad = "is not valid UTF-8";
				return -1;
			}
		if (c < 0x20 || c == 0x7F) {
			*bad = "holds a control character";
			return -1;
		}
		if (c == '|') {
			*bad = "holds '|', the field separator";
			return -1;
		}
		p += len;
		n++;
	}
	return n;
}

static enum askue_err check_text(const char *field, const char *value, long max_chars)
{
	const char *bad = "";
	if (!value || !*value)
		return askue_err_set(ASKUE_ERR_INVALID, "%s: empty", field);
	long n = value_chars(value, &bad);
	if (n < 0)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': %s", field, value, bad);
	if (n > max_chars)
		return askue_err_set(ASKUE_ERR_INVALID, "%s '%s': %ld characters, at most %ld", field,
		                     value, n, max_chars);
	return ASKUE_OK;
}

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The Bank of Russia key of an account: the 23 digits (3 in front + 20)
 * weighted 7,1,3,7,1,3.. sum to a multiple of 10. */
static int key_ok(const char front[3], const char *account)
{
	static const int w[3] = {7, 1, 3};
	int sum = 0;
	for (int i = 0; i < 23; i++) {
		char d = i < 3 ? front[i] : account[i - 3];
		sum += (d - '0') * w[i % 3];
	}
	return sum % 10 == 0;
}

int askue_qr_gost_account_ok(const char *bic, const char *account)
{
	if (!all_digits(bic, 9) || !all_digits(account, 20))
		return 0;
	return key_ok(bic + 6, account);
}

int askue_qr_gost_corresp_ok(const char *bic, const char *account)
{
	if (!all_digits(bic, 9) || !all_digits(account, 20))
		return 0;
	char front[3] = {'0', bic[4], bic[5]};
	return key_ok(front, account);
}

static int inn_digit(const char *s, const int *w, int n)
{
	int sum = 0;
	for (int i = 0; i < n; i++)
		sum += (s[i] - '0') * w[i];
	return sum % 11 % 10;
}

int askue_qr_gost_inn_ok(const char *inn)
{
	static const int w10[9] = {2, 4, 10, 3, 5, 9, 4, 6, 8};
	static const int w11[10] = {7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
	static const int w12[11] = {3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
	if (all_digits(inn, 10))
		return inn_digit(inn, w10, 9) == inn[9] - '0';
	if (all_digits(inn, 12))
		return inn_digit(inn, w11, 10) == inn[10] - '0' &&
		       inn_digit(inn, w12, 11) == inn[11] - '0';
	return 0;
}

static int kpp_ok(const char *kpp)
{
	if (strlen(kpp) != 9)
		return 0;
	for (int i = 0; i < 9; i++) {
		char c = kpp[i];
		int digit = c >= '0' && c <= '9';
		if (!digit && !((i == 4 || i == 5) && c >= 'A' && c <= 'Z'))
			return 0;
	}
	return 1;
}

static enum askue_err check_numbers(const struct askue_qr_payee *p)
{
	if (!all_digits(p->bic, 9))
		return askue_err_set(ASKUE_ERR_INVALID, "BIC '%s': not 9 digits", p->bic);
	if (!all_digits(p->personal_acc, 20))
		return askue_err_set(ASKUE_ERR_INVALID, "PersonalAcc '%s': not 20 digits",
		                     p->personal_acc);
	if (!askue_qr_gost_account_ok(p->bic, p->personal_acc))
		return askue_err_set(ASKUE_ERR_INVALID, "PersonalAcc '%s': wrong check digit for BIC %s",
		                     p->personal_acc, p->bic);
	if (!all_digits(p->corresp_acc, 20))
		return askue_err_set(ASKUE_ERR_INVALID, "CorrespAcc '%s': not 20 digits",
		                     p->corresp_acc);
	if (!askue_qr_gost_corresp_ok(p->bic, p->corresp_acc))
		return askue_err_set(ASKUE_ERR_INVALID, "CorrespAcc '%s': wrong check digit for BIC %s",
		                     p->corresp_acc, p->bic);
	if (!all_digits(p->inn, 10) && !all_digits(p->inn, 12))
		return askue_err_set(ASKUE_ERR_INVALID, "PayeeINN '%s': not 10 or 12 digits", p->inn);
	if (!askue_qr_gost_inn_ok(p->inn))
		return askue_err_set(ASKUE_ERR_INVALID, "PayeeINN '%s': wrong check digit", p->inn);
	if (!kpp_ok(p->kpp))
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "KPP '%s': not 9 characters of the form NNNNPPNNN", p->kpp);
	return ASKUE_OK;
}

enum askue_err askue_qr_gost_check_payee(const struct askue_qr_payee *p)
{
	enum askue_err err;
	if ((err = check_text("Name", p->name, 160)) || (err = check_text("BankName", p->bank_name, 45)))
		return err;
	const char *nums[][2] = {{"BIC", p->bic}, {"PersonalAcc", p->personal_acc},
	                         {"CorrespAcc", p->corresp_acc}, {"PayeeINN", p->inn},
	                         {"KPP", p->kpp}};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (!nums[i][1] || !*nums[i][1])
			return askue_err_set(ASKUE_ERR_INVALID, "%s: empty", nums[i][0]);
	return check_numbers(p);
}

static enum askue_err check_payment(const struct askue_qr_payment *pay)
{
	enum askue_err err;
	if (pay->has_sum && (pay->sum.kop <= 0 || pay->sum.kop > ASKUE_MONEY_KOP_MAX))
		return askue_err_set(ASKUE_ERR_INVALID, "Sum %" PRId64 " kopecks: not a positive amount",
		                     pay->sum.kop);
	if ((err = check_text("Purpose", pay->purpose, 210)) ||
	    (err = check_text("PersAcc", pay->pers_acc, 30)) ||
	    (err = check_text("QuittId", pay->quitt_id, 30)))
		return err;
	if (pay->payer_address && *pay->payer_address &&
	    (err = check_text("PayerAddress", pay->payer_address, 400)))
		return err;
	if (pay->period.month < 1 || pay->period.month > 12 || pay->period.year < 1000 ||
	    pay->period.year > 9999)
		return askue_err_set(ASKUE_ERR_INVALID, "PaymPeriod: month %d of year %d",
		                     pay->period.month, pay->period.year);
	return ASKUE_OK;
}

struct out {
	char *buf;
	size_t size, len;
	int full;
};

static void put(struct out *o, const char *key, const char *value)
{
	int n = snprintf(o->buf + o->len, o->size - o->len, "%s%s%s%s", o->len ? "|" : "",
	                 key, key[0] ? "=" : "", value);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

static void put_payment(struct out *o, const struct askue_qr_payee *payee,
                        const struct askue_qr_payment *pay)
{
	char num[32];
	if (pay->has_sum) {
		snprintf(num, sizeof num, "%" PRId64, pay->sum.kop);
		put(o, "Sum", num);
	}
	put(o, "Purpose", pay->purpose);
	put(o, "PayeeINN", payee->inn);
	put(o, "KPP", payee->kpp);
	put(o, "PersAcc", pay->pers_acc);
	if (pay->payer_address && *pay->payer_address)
		put(o, "PayerAddress", pay->payer_address);
	snprintf(num, sizeof num, "%02d%04d", pay->period.month, pay->period.year);
	put(o, "PaymPeriod", num);
	put(o, "QuittId", pay->quitt_id);
	int y, m, d;
	askue_date_ymd(pay->quitt_date, &y, &m, &d);
	snprintf(num, sizeof num, "%02d.%02d.%04d", d, m, y);
	put(o, "QuittDate", num);
	put(o, "TechCode", "02");
}

enum askue_err askue_qr_gost_text(const struct askue_qr_payee *payee,
                                  const struct askue_qr_payment *pay, char *buf, size_t size,
                                  size_t *len_out)
{
	enum askue_err err;
	if ((err = askue_qr_gost_check_payee(payee)) || (err = check_payment(pay)))
		return err;
	char text[ASKUE_QR_GOST_BYTES_MAX + 1];
	struct out o = {text, sizeof text, 0, 0};
	put(&o, "", "ST00012");
	put(&o, "Name", payee->name);
	put(&o, "PersonalAcc", payee->personal_acc);
	put(&o, "BankName", payee->bank_name);
	put(&o, "BIC", payee->bic);
	put(&o, "CorrespAcc", payee->corresp_acc);
	size_t mandatory = o.len - strlen("ST00012|");
	if (!o.full && mandatory > ASKUE_QR_GOST_MANDATORY_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "the mandatory fields take %zu bytes, at most %d "
		                     "(shorten Name or BankName)", mandatory,
		                     ASKUE_QR_GOST_MANDATORY_BYTES_MAX);
	put_payment(&o, payee, pay);
	if (o.full)
		return askue_err_set(ASKUE_ERR_LIMIT, "the QR code's text is longer than %d bytes",
		                     ASKUE_QR_GOST_BYTES_MAX);
	if (o.len + 1 > size)
		return askue_err_set(ASKUE_ERR_LIMIT, "the QR code's text needs %zu bytes, the buffer "
		                     "has %zu", o.len + 1, size);
	memcpy(buf, text, o.len + 1);
	if (len_out)
		*len_out = o.len;
	return ASKUE_OK;
}
