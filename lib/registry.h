/* registry — the card file: subscribers, meters, installations, tariffs.
 *
 * Each operation checks its rules, writes, and journals its business event
 * in one ledger transaction; a refusal writes nothing and says why, naming
 * the subscriber, meter or tariff. The *_tx variants run inside a
 * transaction the caller holds (the card-file import uses them for a whole
 * file); the plain ones open and commit their own.
 */
#ifndef ASKUE_REGISTRY_H
#define ASKUE_REGISTRY_H

#include <stdint.h>
#include "account.h"
#include "date.h"
#include "err.h"
#include "billing.h"
#include "ledger.h"
#include "limits.h"
#include "money.h"

struct askue_subscriber {
	int64_t id;
	char account[ASKUE_ACCOUNT_BUF]; /* "" on add: askue generates one */
	char name[ASKUE_NAME_BYTES_MAX + 1];
	char address[ASKUE_ADDRESS_BYTES_MAX + 1];
	char district[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char substation[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char category[16]; /* household | other; "" on add = household */
	struct askue_date registered;
	char phone[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char email[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char status[16]; /* active | suspended | closed */
	/* Norm determinants (lib/norms.h). On add, rooms 0 means residents and
	 * rooms were not given: residents 1, rooms 1; stove and settlement ""
	 * mean gas and urban. */
	int residents;      /* 0..99 */
	int rooms;          /* 1..99 */
	char stove[16];     /* gas | electric */
	char settlement[16]; /* urban | rural */
};

struct askue_meter {
	int64_t id;
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	char model[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	struct askue_date commissioned;
	int service_life_years;
	int has_decommissioned;
	struct askue_date decommissioned;
	char warranty_card[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	int has_warranty_until;
	struct askue_date warranty_until;
	int verification_interval_years; /* 0 on add = 16 */
	int has_last_verified;
	struct askue_date last_verified;
	int zones;          /* 0 on add = 1 */
	int64_t capacity_wh; /* 0 on add = 1,000,000 kWh (six-digit register) */
	char status[16];    /* stock | installed | dismantled */
	char concentrator[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	/* Where it is now (status installed). */
	char account[ASKUE_ACCOUNT_BUF];
	int has_installed;
	struct askue_date installed;
};

/* Register values at an installation or a removal: wh[0] is 1.8.0 (the
 * total); wh[1..zones] are T1..Tn for a multi-zone meter. */
struct askue_registers {
	int zones; /* 0 = not given */
	int64_t wh[ASKUE_ZONES_MAX + 1];
};

struct askue_installation {
	int64_t id;
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	char account[ASKUE_ACCOUNT_BUF];
	struct askue_date installed;
	int has_removed;
	struct askue_date removed;
	struct askue_registers in, out; /* out.zones = 0 while installed */
};

/* Parse "KWH[,KWH..]" for a meter of `zones` zones: one value (1.8.0) for a
 * one-zone meter, one per zone (T1,T2[,T3]) for a multi-zone one. */
ASKUE_MUST enum askue_err askue_registers_parse(const char *s, int zones,
                                                struct askue_registers *out);
/* "12345.678" or "8000.100,4345.578"; buf of at least 128 bytes. */
char *askue_registers_format(const struct askue_registers *r, char *buf, size_t size);

/* Subscribers. */
ASKUE_MUST enum askue_err askue_subscriber_add(struct askue_ledger *l, struct askue_subscriber *s);
ASKUE_MUST enum askue_err askue_subscriber_add_tx(struct askue_ledger *l,
                                                  struct askue_subscriber *s);
/* As _add_tx, but with index_now 0 the search index is left to a later
 * askue_subscriber_index_from (a bulk import indexes once, at the end). */
ASKUE_MUST enum askue_err askue_subscriber_insert_tx(struct askue_ledger *l,
                                                     struct askue_subscriber *s, int index_now);
/* Index every subscriber whose id is above after_id (one statement). */
ASKUE_MUST enum askue_err askue_subscriber_index_from(struct askue_ledger *l, int64_t after_id);
/* By account number; a number whose check digit is wrong is refused as
 * mistyped (unless an old card file's number matches it exactly). */
ASKUE_MUST enum askue_err askue_subscriber_get(struct askue_ledger *l, const char *account,
                                               struct askue_subscriber *out);
/* Change the card of s->account to the other fields of s (all of them:
 * read it with _get, change what you need). Journaled with old and new
 * values; no change, no event. */
ASKUE_MUST enum askue_err askue_subscriber_update(struct askue_ledger *l,
                                                  const struct askue_subscriber *s);
/* Find by account number, or by parts of the name or address in any case
 * (Cyrillic included; ё = е). Calls fn per match, at most limit. */
ASKUE_MUST enum askue_err askue_subscriber_find(struct askue_ledger *l, const char *text,
                                                int limit,
                                                int (*fn)(const struct askue_subscriber *, void *),
                                                void *arg);

/* Meters. */
ASKUE_MUST enum askue_err askue_meter_add(struct askue_ledger *l, struct askue_meter *m);
ASKUE_MUST enum askue_err askue_meter_add_tx(struct askue_ledger *l, struct askue_meter *m);
ASKUE_MUST enum askue_err askue_meter_get(struct askue_ledger *l, const char *serial,
                                          struct askue_meter *out);
/* regs may be NULL or zones 0: zero registers (a new meter). */
ASKUE_MUST enum askue_err askue_meter_install(struct askue_ledger *l, const char *serial,
                                              const char *account, struct askue_date date,
                                              const struct askue_registers *regs);
ASKUE_MUST enum askue_err askue_meter_install_tx(struct askue_ledger *l, const char *serial,
                                                 const char *account, struct askue_date date,
                                                 const struct askue_registers *regs);
ASKUE_MUST enum askue_err askue_meter_dismantle(struct askue_ledger *l, const char *serial,
                                                struct askue_date date,
                                                const struct askue_registers *regs);
ASKUE_MUST enum askue_err askue_meter_dismantle_tx(struct askue_ledger *l, const char *serial,
                                                   struct askue_date date,
                                                   const struct askue_registers *regs);
/* A verification (поверка) passed on date: the next is due an interval later. */
ASKUE_MUST enum askue_err askue_meter_verified(struct askue_ledger *l, const char *serial,
                                               struct askue_date date);
/* Installations of a meter (serial) or of a subscriber (account), oldest first. */
ASKUE_MUST enum askue_err askue_installation_each(struct askue_ledger *l, const char *serial,
                                                  const char *account,
                                                  int (*fn)(const struct askue_installation *,
                                                            void *),
                                                  void *arg);

/* Tariffs. zones_spec: NULL for one zone 'all', else "day=07-23,night=23-07". */
ASKUE_MUST enum askue_err askue_tariff_add(struct askue_ledger *l, const char *name,
                                           const char *zones_spec, struct askue_date created);
struct askue_zone_price {
	char zone[32];
	struct askue_price price;
};
ASKUE_MUST enum askue_err askue_tariff_price(struct askue_ledger *l, const char *name,
                                             struct askue_date from,
                                             const struct askue_zone_price *prices, int n);
ASKUE_MUST enum askue_err askue_tariff_choose(struct askue_ledger *l, const char *account,
                                              const char *name, struct askue_date from);

struct askue_tariff_zone {
	int idx; /* 0 = 'all' (1.8.0), 1..3 = T1..T3 */
	char name[32];
	char spans[64];
};
struct askue_tariff {
	int64_t id;
	char name[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	struct askue_date created;
	int n_zones;
	struct askue_tariff_zone zones[ASKUE_ZONES_MAX];
};
ASKUE_MUST enum askue_err askue_tariff_get(struct askue_ledger *l, const char *name,
                                           struct askue_tariff *out);
/* Validate a zone spec; fills zones (idx, name, spans). */
ASKUE_MUST enum askue_err askue_tariff_zones_parse(const char *spec, struct askue_tariff *out);

/* Volume bands of a tariff from a date on (tariff_band): n limits in kWh
 * per month (ascending; n = 0 ends the bands from that date), and per zone
 * n + 1 prices, band 1 first. */
struct askue_band_prices {
	char zone[32];
	struct askue_price price[ASKUE_BILL_BANDS_MAX];
};
ASKUE_MUST enum askue_err askue_tariff_band(struct askue_ledger *l, const char *name,
                                            struct askue_date from, const int64_t *upto_wh,
                                            int n_limits, const struct askue_band_prices *prices,
                                            int n_prices);

/* For billing: the tariff versions in force for a subscriber over the days
 * [first, end): one per change of the subscriber's tariff choice, of any
 * zone's price or of the tariff's bands, the first in force on `first`,
 * ascending (from_ts = local midnight of from, UTC, through the process's
 * zone). Writes at most max versions (ASKUE_ERR_LIMIT beyond); *n = 0
 * when no tariff or no price is in force on `first` (the caller reports it). */
ASKUE_MUST enum askue_err askue_tariff_load_for_billing(struct askue_ledger *l,
                                                        int64_t subscriber_id,
                                                        struct askue_date first,
                                                        struct askue_date end,
                                                        struct askue_bill_version *out, int max,
                                                        int *n);
/* The same with a memory of each tariff's versions over a span of days, for
 * a billing run: one query per subscriber instead of ten. The cache is
 * valid while no tariff, price or band changes (one run); NULL = none. */
struct askue_tariff_cache;
ASKUE_MUST enum askue_err askue_tariff_cache_new(struct askue_tariff_cache **out);
void askue_tariff_cache_free(struct askue_tariff_cache *c); /* NULL is a no-op */
ASKUE_MUST enum askue_err askue_tariff_load_for_billing_cached(
	struct askue_ledger *l, struct askue_tariff_cache *cache, int64_t subscriber_id,
	struct askue_date first, struct askue_date end, struct askue_bill_version *out, int max,
	int *n);

#endif
