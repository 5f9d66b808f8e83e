/* account — personal account numbers (лицевой счёт).
 *
 * askue generates 10-digit numbers: a 9-digit sequence number and a check
 * digit by the Damm algorithm, which catches every single mistyped digit and
 * every swap of two neighbouring digits (its quasigroup is weakly totally
 * anti-symmetric). Numbers kept from an old card file need not carry one.
 */
#ifndef ASKUE_ACCOUNT_H
#define ASKUE_ACCOUNT_H

#include <stdint.h>
#include "err.h"

#define ASKUE_ACCOUNT_BUF 24
#define ASKUE_ACCOUNT_DIGITS 10
#define ASKUE_ACCOUNT_SEQ_MAX 999999999

/* The check digit of a string of digits. */
int askue_account_check_digit(const char *digits, int n);
/* The account number of sequence number seq (1..ASKUE_ACCOUNT_SEQ_MAX). */
ASKUE_MUST enum askue_err askue_account_make(int64_t seq, char *out);
/* 1 when s is 1..20 digits (a number askue or an old card file could have). */
int askue_account_well_formed(const char *s);
/* 1 when s is a well-formed askue number whose check digit matches. */
int askue_account_checks(const char *s);

#endif
