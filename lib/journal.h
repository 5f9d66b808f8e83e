/* journal — the append-only event journal of business events.
 *
 * An event is written inside the transaction of the change it records, so
 * both commit or neither does (the caller holds askue_ledger_begin). Each
 * has a type (subscriber_registered, meter_connected ...), the time it was
 * recorded (UTC seconds), its subject (an account number, a meter serial, a
 * tariff name), the operator, and details as a JSON object. The relay
 * publishes them to askue/events/{type} after commit.
 */
#ifndef ASKUE_JOURNAL_H
#define ASKUE_JOURNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "err.h"
#include "ledger.h"

/* Event types of the registry. */
#define ASKUE_EV_SUBSCRIBER_REGISTERED "subscriber_registered"
#define ASKUE_EV_SUBSCRIBER_CHANGED "subscriber_changed"
#define ASKUE_EV_METER_ADDED "meter_added"
#define ASKUE_EV_METER_CONNECTED "meter_connected"
#define ASKUE_EV_METER_DISMANTLED "meter_dismantled"
#define ASKUE_EV_METER_VERIFIED "meter_verified"
#define ASKUE_EV_METER_CREDENTIALS "meter_credentials_issued"
#define ASKUE_EV_TARIFF_ADDED "tariff_added"
#define ASKUE_EV_TARIFF_PRICE_SET "tariff_price_set"
#define ASKUE_EV_TARIFF_CHOSEN "tariff_chosen"
#define ASKUE_EV_CARDFILE_IMPORTED "cardfile_imported"
#define ASKUE_EV_CONCENTRATOR_ADDED "concentrator_added"
#define ASKUE_EV_CONCENTRATOR_BOUND "concentrator_bound"
#define ASKUE_EV_CONCENTRATOR_UNBOUND "concentrator_unbound"
#define ASKUE_EV_CONCENTRATOR_CREDENTIALS "concentrator_credentials_issued"
#define ASKUE_EV_SERVICE_CREDENTIALS "service_credentials_issued"
#define ASKUE_EV_SERVICE_REVOKED "service_credentials_revoked"

/* Readings, billing, payments and penalties (subject: the serial, the
 * period, or the account number). */
#define ASKUE_EV_READING_ENTERED "reading_entered"       /* a manual reading */
#define ASKUE_EV_READING_CORRECTED "reading_corrected"   /* ... replacing one */
#define ASKUE_EV_METER_DATA_RECEIVED "meter_data_received" /* rollup, per day */
#define ASKUE_EV_BILLING_DAY "billing_day_came"
#define ASKUE_EV_INVOICE_ISSUED "invoice_issued"
#define ASKUE_EV_INVOICE_SUPERSEDED "invoice_superseded"
#define ASKUE_EV_INVOICE_PAID "invoice_paid"
#define ASKUE_EV_INVOICE_OVERDUE "invoice_overdue"
/* ... withdrawn: allocations a late bank file brought show it was paid by
 * its due date (lib/accrual.c) */
#define ASKUE_EV_INVOICE_OVERDUE_WITHDRAWN "invoice_overdue_withdrawn"
#define ASKUE_EV_CORRECTION_MADE "correction_made"
#define ASKUE_EV_PAYMENT_TAKEN "payment_taken"
#define ASKUE_EV_PAYMENT_SUSPENDED "payment_suspended"   /* into suspense */
#define ASKUE_EV_PAYMENT_ASSIGNED "payment_assigned"     /* out of suspense */
#define ASKUE_EV_PENALTY_ACCRUED "penalty_accrued"

/* Add an integer to a JSON object as an exact decimal (cJSON would print
 * it through a double with sprintf and check it with sscanf: slow in bulk,
 * and inexact past 2^53). Returns the item, NULL on no memory. */
cJSON *askue_json_add_int(cJSON *obj, const char *key, int64_t v);

/* Append one event. details: a JSON object the caller keeps (NULL = {}).
 * Must be called inside a ledger transaction. */
ASKUE_MUST enum askue_err askue_journal_append(struct askue_ledger *l, const char *type,
                                               const char *subject, const cJSON *details);

struct askue_event {
	int64_t id;
	char type[64];
	int64_t time;
	char subject[128];
	char operator_name[128];
	const char *details; /* valid until the next call of the iterator */
};

struct askue_journal_filter {
	const char *type;    /* NULL = any */
	const char *subject; /* NULL = any */
	int64_t since;       /* UTC seconds; 0 = from the start */
	int64_t after_id;    /* only ids above this */
	int64_t limit;       /* 0 = no limit */
};

/* Calls fn for each matching event in id order; fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_journal_each(struct askue_ledger *l,
                                             const struct askue_journal_filter *f,
                                             int (*fn)(const struct askue_event *ev, void *arg),
                                             void *arg);

#endif
