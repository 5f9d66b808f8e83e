/* concentrator — data concentrators: registering them and binding meters.
 *
 * A concentrator publishes over MQTT for the meters bound to it
 * (meter.concentrator_id), with its own credentials (credentials.h); its
 * ident is its MQTT username. A meter is bound to at most one concentrator;
 * binding it to another moves it. Each change journals its event in the
 * same transaction; a bind of several meters writes all or nothing.
 */
#ifndef ASKUE_CONCENTRATOR_H
#define ASKUE_CONCENTRATOR_H

#include <stdint.h>
#include "err.h"
#include "ledger.h"
#include "limits.h"

struct askue_concentrator {
	int64_t id;
	char ident[ASKUE_SERIAL_BYTES_MAX + 1];
	char substation[ASKUE_SHORT_TEXT_BYTES_MAX + 1];
	char created[16]; /* YYYY-MM-DD */
	int has_secret;
	int64_t secret_issued; /* UTC seconds; 0 when none */
	int64_t meters;        /* meters bound (not dismantled) */
};

/* The ident is an MQTT username: 1..64 bytes of UTF-8, no / + #, no spaces
 * at the ends. */
ASKUE_MUST enum askue_err askue_concentrator_ident_check(const char *ident);
/* substation may be NULL or "". created: YYYY-MM-DD. */
ASKUE_MUST enum askue_err askue_concentrator_add(struct askue_ledger *l, const char *ident,
                                                 const char *substation, const char *created);
ASKUE_MUST enum askue_err askue_concentrator_get(struct askue_ledger *l, const char *ident,
                                                 struct askue_concentrator *out);
/* Bind (ident != NULL) or unbind (ident == NULL) n meters. Unknown or
 * dismantled meters are refused, naming each. */
ASKUE_MUST enum askue_err askue_concentrator_bind(struct askue_ledger *l, const char *ident,
                                                  char *const *serials, int n);
/* Meters bound to ident, in serial order; fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_concentrator_meters(struct askue_ledger *l, const char *ident,
                                                    int (*fn)(const char *serial,
                                                              const char *status, void *arg),
                                                    void *arg);

#endif
