/* money — integer money, energy and prices, with checked arithmetic.
 *
 * Money is kopecks, energy is watt-hours, a price is millionths of a rouble
 * per kWh (4.3215 RUB/kWh = 4321500), enough for any real tariff. The types
 * are one-member structs so the compiler will not mix them. Products go
 * through 128-bit intermediates; rounding happens once, with the mode named
 * by the caller (Russian invoices: half up, to the kopeck, once per line).
 * No floating point touches money here.
 */
#ifndef ASKUE_MONEY_H
#define ASKUE_MONEY_H

#include <stdint.h>
#include "err.h"

struct askue_money { int64_t kop; };
struct askue_energy { int64_t wh; };
struct askue_price { int64_t micro_rub; }; /* per kWh */

#define ASKUE_PRICE_SCALE 1000000 /* micro-roubles in a rouble */
#define ASKUE_PRICE_DECIMALS 6
/* Large enough for any single amount askue handles (1e13 RUB), small enough
 * that sums of many stay far from INT64_MAX. */
#define ASKUE_MONEY_KOP_MAX  (INT64_C(1000000000000000))
#define ASKUE_ENERGY_WH_MAX  (INT64_C(1000000000000000))
#define ASKUE_PRICE_MAX      (INT64_C(100000) * ASKUE_PRICE_SCALE)

enum askue_round {
	ASKUE_ROUND_HALF_UP,   /* half away from zero: 0.5 -> 1, -0.5 -> -1 */
	ASKUE_ROUND_DOWN,      /* toward zero */
	ASKUE_ROUND_HALF_EVEN, /* banker's */
};

/* Decimal text <-> values. Parsing is exact (no doubles) and strict: an
 * optional '-' (money only), digits, optionally '.' and at most the unit's
 * decimals (2 for roubles, 3 for kWh, 6 for prices); anything else is an
 * ASKUE_ERR_INVALID whose message quotes the text. */
ASKUE_MUST enum askue_err askue_money_parse(const char *s, struct askue_money *out);
ASKUE_MUST enum askue_err askue_energy_parse_kwh(const char *s, struct askue_energy *out);
ASKUE_MUST enum askue_err askue_price_parse(const char *s, struct askue_price *out);

/* The parser under the three above: [-]digits[.decimals] with at most
 * `decimals` decimals, scaled by 10^decimals, at most max; `what` names the
 * value in the message ("rate", "kWh" ...). */
ASKUE_MUST enum askue_err askue_fixed_parse(const char *s, int decimals, int allow_negative,
                                            int64_t max, const char *what, int64_t *out);

/* Format into buf (at least ASKUE_NUM_BUF bytes); returns buf.
 * money: "1234.56"; energy: "12345.678"; price: at least 2 decimals, "4.3215". */
#define ASKUE_NUM_BUF 32
char *askue_money_format(struct askue_money m, char *buf);
char *askue_energy_format_kwh(struct askue_energy e, char *buf);
char *askue_price_format(struct askue_price p, char *buf);

ASKUE_MUST enum askue_err askue_money_add(struct askue_money a, struct askue_money b,
                                          struct askue_money *out);
ASKUE_MUST enum askue_err askue_money_sub(struct askue_money a, struct askue_money b,
                                          struct askue_money *out);
ASKUE_MUST enum askue_err askue_energy_add(struct askue_energy a, struct askue_energy b,
                                           struct askue_energy *out);

/* a * b / d rounded by mode, d > 0; ASKUE_ERR_RANGE when the result does
 * not fit in int64. The one primitive under every money product. */
ASKUE_MUST enum askue_err askue_muldiv(int64_t a, int64_t b, int64_t d, enum askue_round mode,
                                       int64_t *out);

/* The amount of a line: energy x price, rounded once to the kopeck. */
ASKUE_MUST enum askue_err askue_money_of(struct askue_energy e, struct askue_price p,
                                         enum askue_round mode, struct askue_money *out);

#endif
