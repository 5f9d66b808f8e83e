/* credentials — the MQTT secrets of meters, concentrators and askue's own
 * services: issuing, storing and verifying them.
 *
 * askue makes every secret itself: ASKUE_SECRET_BYTES random bytes
 * (randombytes_buf), shown once as ASKUE_SECRET_TEXT_LEN characters of
 * lower-case base32 (a-z, 2-7: no 0/O or 1/l to mistake). The ledger keeps
 * only a per-entity random salt and BLAKE2b(salt, personal, password text)
 * (crypto_generichash); verification hashes what the client sent and
 * compares in constant time (sodium_memcmp). A slow password hash is not
 * needed for 160 random bits and would not keep up with a reconnect storm
 * (shared notes, "Hashing meter credentials fast enough").
 *
 * One MQTT username namespace: a meter connects as its serial, a
 * concentrator as its ident, a service account as its name. Issuing refuses
 * a name that another kind of entity already uses; the broker plugin refuses
 * any username it finds twice.
 *
 * Each issue replaces the previous secret of that entity and journals its
 * event in the same transaction; the secret itself is never journaled.
 */
#ifndef ASKUE_CREDENTIALS_H
#define ASKUE_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "ledger.h"

#define ASKUE_SECRET_BYTES 20     /* 160 random bits; >= 128 makes guessing hopeless */
#define ASKUE_SECRET_TEXT_LEN 32  /* base32: 5 bits a character */
#define ASKUE_SECRET_TEXT_BUF (ASKUE_SECRET_TEXT_LEN + 1)
#define ASKUE_CRED_SALT_BYTES 16  /* BLAKE2b's salt size */
#define ASKUE_CRED_HASH_BYTES 32
/* A password longer than this is refused unhashed: no secret askue issues
 * is that long, and it bounds the work an attacker can ask for. */
#define ASKUE_CRED_PASSWORD_BYTES_MAX 256
/* A service account name: [A-Za-z0-9._-], like a Unix user name. */
#define ASKUE_SERVICE_NAME_BYTES_MAX 64

struct askue_credential {
	uint8_t salt[ASKUE_CRED_SALT_BYTES];
	uint8_t hash[ASKUE_CRED_HASH_BYTES];
};

/* askue's services and what each may do on the broker (the plugin's ACL). */
enum askue_role {
	ASKUE_ROLE_INGESTOR, /* subscribe/read meters/+/readings (also $share/ingest/...) */
	ASKUE_ROLE_RELAY,    /* publish askue/events/# */
	ASKUE_ROLE_JOBS,     /* publish askue/alerts/# */
	ASKUE_ROLE_STALE,    /* subscribe/read meters/+/status */
	ASKUE_ROLE_EVENTS,   /* subscribe/read askue/events/#: another system following askue */
	ASKUE_ROLE_COUNT
};

/* "ingestor" ... ; NULL for a value out of range. */
const char *askue_role_name(enum askue_role role);
/* Parse a role name; ASKUE_ERR_INVALID names the choices. */
ASKUE_MUST enum askue_err askue_role_parse(const char *s, enum askue_role *out);

/* libsodium's start-up; call once before anything below (thread-safe,
 * repeatable). */
ASKUE_MUST enum askue_err askue_cred_init(void);

/* Pure core. */
/* A new random secret: its text (once, for the person issuing it) and the
 * salted hash to store. */
ASKUE_MUST enum askue_err askue_cred_new(char text[ASKUE_SECRET_TEXT_BUF],
                                         struct askue_credential *out);
/* Base32 text of n bytes into out (size >= (n * 8 + 4) / 5 + 1). */
void askue_cred_base32(const uint8_t *bytes, size_t n, char *out, size_t out_size);
/* hash = BLAKE2b-256(password, salt, personal "askue.mqtt.v1"). */
void askue_cred_hash(const uint8_t salt[ASKUE_CRED_SALT_BYTES], const char *password,
                     size_t password_len, uint8_t hash[ASKUE_CRED_HASH_BYTES]);
/* 1 when password (len bytes, not NUL-terminated necessarily) matches, in
 * time independent of where it differs; 0 otherwise, also for NULL or an
 * over-long password. */
int askue_cred_verify(const struct askue_credential *c, const char *password,
                      size_t password_len);

/* Ledger: each issues a new secret, stores its salt and hash, journals the
 * event, commits, and only then writes the text to password. */
/* A registered meter that is not dismantled. */
ASKUE_MUST enum askue_err askue_cred_issue_meter(struct askue_ledger *l, const char *serial,
                                                 char password[ASKUE_SECRET_TEXT_BUF]);
/* A registered concentrator. */
ASKUE_MUST enum askue_err askue_cred_issue_concentrator(struct askue_ledger *l, const char *ident,
                                                        char password[ASKUE_SECRET_TEXT_BUF]);
/* A service account, created on first issue; an existing name keeps its
 * role (asking for another role is refused). */
ASKUE_MUST enum askue_err askue_cred_issue_service(struct askue_ledger *l, enum askue_role role,
                                                   const char *name,
                                                   char password[ASKUE_SECRET_TEXT_BUF]);
/* Remove a service account (journaled); the broker then refuses it and
 * disconnects its clients. */
ASKUE_MUST enum askue_err askue_cred_revoke_service(struct askue_ledger *l, const char *name);
struct askue_service_account {
	char name[ASKUE_SERVICE_NAME_BYTES_MAX + 1];
	char role[16];
	int64_t issued, created; /* UTC seconds */
};
/* Every service account in name order; fn returns non-zero to stop. */
ASKUE_MUST enum askue_err askue_service_each(struct askue_ledger *l,
                                             int (*fn)(const struct askue_service_account *,
                                                       void *),
                                             void *arg);
/* Check a service account name: 1..64 of [A-Za-z0-9._-]. */
ASKUE_MUST enum askue_err askue_service_name_check(const char *name);
/* Which kind of entity uses name as its MQTT username: "meter",
 * "concentrator", "service", or NULL when none. except_kind is skipped. */
ASKUE_MUST enum askue_err askue_cred_username_owner(struct askue_ledger *l, const char *name,
                                                    const char *except_kind, const char **owner);

#endif
