/* qr_gost — the payment QR code's text of ГОСТ Р 56042-2014 ("Стандарты
 * финансовых операций. Символы двумерного штрихового кода для осуществления
 * платежей физическими лицами"), the code a subscriber's banking app reads
 * to fill in a payment to the utility.
 *
 * The text is a service header and "Key=value" fields joined by '|':
 *   ST00012|Name=..|PersonalAcc=..|BankName=..|BIC=..|CorrespAcc=..|
 *   Sum=KOPECKS|Purpose=..|PayeeINN=..|KPP=..|PersAcc=..|...
 * "ST" is the format, "0001" its version, "2" the character set (UTF-8;
 * 1 would be windows-1251, 3 KOI8-R). The five mandatory fields come
 * first, in that order; the additional ones after them. askue writes:
 *   Sum         what to pay, in kopecks (left out when nothing is to pay)
 *   Purpose     the payment's purpose (up to 210 characters)
 *   PayeeINN, KPP   the utility's
 *   PersAcc     the subscriber's account with the utility (лицевой счёт)
 *   PayerAddress    the subscriber's address
 *   PaymPeriod  the billing period, MMYYYY
 *   QuittId, QuittDate  the invoice's number and date (DD.MM.YYYY)
 *   TechCode=02 housing and utility services
 * Pure: text in, text out, nothing else linked. Every value is checked
 * before anything is written: the field's length in characters, valid
 * UTF-8, no '|' (the separator) and no control characters; the account
 * numbers, the BIC and the INN also by their check digits (Bank of Russia
 * rules 579-П for the accounts' key, the tax service's for the INN), so
 * a mistyped digit in the configuration is caught before a subscriber
 * pays to a wrong account. An error names the field and the value.
 */
#ifndef ASKUE_QR_GOST_H
#define ASKUE_QR_GOST_H

#include <stddef.h>

#include "date.h"
#include "err.h"
#include "money.h"

/* The whole text: the mandatory block is at most 300 bytes by the
 * standard; with a long address and purpose the rest stays well under
 * this, and a QR code of this many bytes (version 25 or so at level M) is
 * still read from paper by a phone. */
#define ASKUE_QR_GOST_BYTES_MAX 1024
#define ASKUE_QR_GOST_MANDATORY_BYTES_MAX 300

/* The payee: the utility's details (config [utility]). */
struct askue_qr_payee {
	const char *name;        /* Name, 1..160 characters */
	const char *personal_acc; /* PersonalAcc, the settlement account, 20 digits */
	const char *bank_name;   /* BankName, 1..45 characters */
	const char *bic;         /* BIC, 9 digits */
	const char *corresp_acc; /* CorrespAcc, 20 digits */
	const char *inn;         /* PayeeINN, 10 or 12 digits */
	const char *kpp;         /* KPP, 9 characters (NNNNPPNNN, P a digit or A-Z) */
};

/* What is paid for: one invoice. */
struct askue_qr_payment {
	int has_sum;             /* 0: no Sum field (nothing to pay) */
	struct askue_money sum;  /* > 0 when has_sum */
	const char *purpose;     /* Purpose, 1..210 characters */
	const char *pers_acc;    /* PersAcc, the subscriber's account, 1..30 characters */
	const char *payer_address; /* PayerAddress, may be NULL or "" (left out) */
	struct askue_period period;  /* PaymPeriod MMYYYY */
	const char *quitt_id;    /* QuittId, the invoice number, 1..30 characters */
	struct askue_date quitt_date; /* QuittDate DD.MM.YYYY */
};

/* Check the payee's details; the error names the field ("BIC '04452522':
 * not 9 digits"). */
ASKUE_MUST enum askue_err askue_qr_gost_check_payee(const struct askue_qr_payee *payee);

/* Write the QR code's text into buf (NUL-terminated, at most
 * ASKUE_QR_GOST_BYTES_MAX + 1 bytes needed); *len_out (may be NULL) gets
 * its length in bytes. buf is untouched on error. */
ASKUE_MUST enum askue_err askue_qr_gost_text(const struct askue_qr_payee *payee,
                                             const struct askue_qr_payment *pay, char *buf,
                                             size_t size, size_t *len_out);

/* The check digits on their own (1 = good, 0 = wrong or not digits),
 * exposed for the tests. */
int askue_qr_gost_inn_ok(const char *inn);
/* A settlement account at a bank (BIC's last three digits in front). */
int askue_qr_gost_account_ok(const char *bic, const char *account);
/* A correspondent account ("0" and the BIC's 5th and 6th digits in front). */
int askue_qr_gost_corresp_ok(const char *bic, const char *account);

#endif
