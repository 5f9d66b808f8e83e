/* askue_auth — the Mosquitto 2.0 plugin (v5 API) that lets in only the
 * meters, concentrators and services the ledger knows, each with its own
 * secret, and lets each publish or subscribe only where acl.h says.
 *
 *   plugin /usr/lib/askue/askue_auth.so
 *   plugin_opt_ledger /var/lib/askue/askue.db   (required)
 *   plugin_opt_reload_s 30                      (1..3600; how often the ledger is checked)
 *   plugin_opt_clientid_prefix true             (optional: a client id must be the
 *                                                username or start with it and - _ . :)
 *   plugin_opt_hold_s 60                        (0..3600, default 0 = off; after a start,
 *                                                meters and concentrators wait until an
 *                                                ingestor has subscribed, at most this long)
 *
 * The hold: Mosquitto 2.0.11 restores a persisted session after its own
 * restart without its $share subscription, and drops what is published to
 * a topic nobody subscribes to. Until the ingestor has reconnected and
 * subscribed again, every reading a meter publishes would be acknowledged
 * to the meter and lost. So after a start, a meter's or concentrator's
 * connection is closed without a CONNACK (a network error to the meter,
 * which retries) until a client of the ingestor role has subscribed to the
 * readings, or hold_s has passed (no ingestor at all: nothing would hold
 * the readings anyway). Services are never held.
 *
 * Every callback runs on the broker's only thread, so none of them touches
 * SQLite: BASIC_AUTH and ACL_CHECK look the username up in the in-memory
 * table (authtable.h), TICK swaps in a table the reload thread built
 * (reloader.h) and disconnects the clients whose username the change
 * revoked or gave a new secret, RELOAD (SIGHUP) asks for a check at once. Nothing here
 * asserts or exits: whatever goes wrong, the answer is "denied".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* This order: mosquitto_plugin.h uses a type mosquitto_broker.h declares. */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "acl.h"
#include "authtable.h"
#include "credentials.h"
#include "reloader.h"

#define RELOAD_S_DEFAULT 30
#define RELOAD_S_MAX 3600
#define HOLD_S_DEFAULT 0
#define HOLD_S_MAX 3600
/* Denials logged per second; beyond it they are counted and summed up, so
 * a misbehaving fleet cannot flood the log or slow the broker. */
#define DENIAL_LINES_PER_S 50

struct plugin {
	mosquitto_plugin_id_t *id;
	struct reloader *reloader;
	struct auth_table *table; /* the broker thread's; swapped on tick */
	int clientid_prefix;
	int hold_s;           /* plugin_opt_hold_s */
	int64_t started_s;    /* mono_s() at init */
	int readings_taken;   /* an ingestor subscribed since the start */
	int64_t log_window_s;
	int log_lines;
	long long suppressed;
	/* a constant-time stand-in for unknown users, so timing does not tell
	 * which usernames exist */
	struct askue_credential decoy;
};

static int64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* A client's string for the log: at most LOG_FIELD_BYTES - 1 bytes, control
 * characters shown as '?', so a client cannot forge or flood log lines. */
#define LOG_FIELD_BYTES 160
static const char *clean(const char *s, char buf[LOG_FIELD_BYTES])
{
	size_t i = 0;
	for (; s && s[i] && i < LOG_FIELD_BYTES - 1; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void flush_suppressed(struct plugin *p)
{
	if (p->suppressed) {
		mosquitto_log_printf(MOSQ_LOG_WARNING, "askue_auth: %lld more denials not logged",
		                     p->suppressed);
		p->suppressed = 0;
	}
}

static void deny_log(struct plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void deny_log(struct plugin *p, const char *fmt, ...)
{
	int64_t now = mono_s();
	if (now != p->log_window_s) {
		p->log_window_s = now;
		p->log_lines = 0;
		flush_suppressed(p);
	}
	if (p->log_lines >= DENIAL_LINES_PER_S) {
		p->suppressed++;
		return;
	}
	p->log_lines++;
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	mosquitto_log_printf(MOSQ_LOG_WARNING, "askue_auth: %s", line);
}

static int clientid_fits(const char *id, const char *user)
{
	size_t n = strlen(user);
	if (!id || strncmp(id, user, n) != 0)
		return 0;
	return id[n] == '\0' || (strchr("-_.:", id[n]) && id[n] != '\0');
}

/* Meters and concentrators are held after the start (see the top). */
static int held(const struct plugin *p)
{
	return !p->readings_taken && p->hold_s > 0 && mono_s() - p->started_s < p->hold_s;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *p = userdata;
	struct mosquitto_evt_basic_auth *ed = event_data;
	if (!p || !ed)
		return MOSQ_ERR_AUTH;
	const char *user = ed->username, *pass = ed->password;
	const char *id = ed->client ? mosquitto_client_id(ed->client) : NULL;
	const char *addr = ed->client ? mosquitto_client_address(ed->client) : NULL;
	const char *why = NULL;
	const struct auth_entry *e = user ? auth_table_find(p->table, user, strlen(user)) : NULL;
	size_t pass_len = pass ? strlen(pass) : 0;
	if (!user || !*user) {
		why = "no username";
	} else if (!e || !e->has_secret) {
		askue_cred_verify(&p->decoy, pass, pass_len); /* same time as a real check */
		why = e ? "no credentials issued" : "unknown username (not registered, dismantled or no "
		                                    "credentials)";
	} else if (e->conflict) {
		why = "username used by two entities in the ledger";
	} else if (!askue_cred_verify(&e->cred, pass, pass_len)) {
		why = pass ? "wrong password" : "no password";
	} else if (p->clientid_prefix && !clientid_fits(id, user)) {
		why = "client id does not start with the username";
	}
	if (why) {
		char b1[LOG_FIELD_BYTES], b2[LOG_FIELD_BYTES], b3[LOG_FIELD_BYTES];
		deny_log(p, "refused client '%s' user '%s' from %s: %s", clean(id, b1), clean(user, b2),
		         clean(addr, b3), why);
		return MOSQ_ERR_AUTH;
	}
	if (e->kind != AUTH_SERVICE && held(p)) {
		char b1[LOG_FIELD_BYTES], b2[LOG_FIELD_BYTES];
		deny_log(p, "held client '%s' user '%s': no ingestor has subscribed since the broker "
		         "started (its readings would be dropped); it is let in once one has, or after "
		         "%d s", clean(id, b1), clean(user, b2), p->hold_s);
		return MOSQ_ERR_UNKNOWN; /* closed without a CONNACK: the meter retries */
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *p = userdata;
	struct mosquitto_evt_acl_check *ed = event_data;
	if (!p || !ed || !ed->client)
		return MOSQ_ERR_ACL_DENIED;
	const char *user = mosquitto_client_username(ed->client);
	if (acl_allows(p->table, user, ed->access, ed->topic)) {
		if (ed->access == ACL_SUBSCRIBE && !p->readings_taken && user) {
			const struct auth_entry *e = auth_table_find(p->table, user, strlen(user));
			if (e && e->kind == AUTH_SERVICE && e->role == ASKUE_ROLE_INGESTOR) {
				p->readings_taken = 1;
				mosquitto_log_printf(MOSQ_LOG_NOTICE, "askue_auth: ingestor '%s' subscribed "
				                     "to the readings: meters and concentrators are let in", user);
			}
		}
		return MOSQ_ERR_SUCCESS;
	}
	char b1[LOG_FIELD_BYTES], b2[LOG_FIELD_BYTES], b3[LOG_FIELD_BYTES];
	deny_log(p, "denied %s on '%s' for client '%s' user '%s'", acl_access_name(ed->access),
	         clean(ed->topic, b1), clean(mosquitto_client_id(ed->client), b2), clean(user, b3));
	return MOSQ_ERR_ACL_DENIED;
}

/* Disconnect the clients logged in under a username whose access was
 * revoked or whose secret changed: rights are looked up by username, so
 * such a session would otherwise go on with the new rights of the name. */
static void kick_revoked(const struct auth_revoked *r)
{
	if (!r->count)
		return;
	for (size_t off = 0; off < r->bytes;) {
		const char *name = r->names + off;
		mosquitto_kick_client_by_username(name, false);
		off += strlen(name) + 1;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE,
	                     "askue_auth: %zu usernames revoked or given a new secret; their "
	                     "clients are disconnected%s",
	                     r->count, r->cut ? " (list cut short: more were revoked)" : "");
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	struct plugin *p = userdata;
	if (!p)
		return MOSQ_ERR_SUCCESS;
	char msg[512];
	struct auth_revoked revoked;
	struct auth_table *t = reloader_take(p->reloader, msg, sizeof msg, &revoked);
	if (t) {
		auth_table_free(p->table);
		p->table = t;
	}
	if (msg[0])
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "askue_auth: %s", msg);
	kick_revoked(&revoked);
	auth_revoked_clear(&revoked);
	if (p->suppressed && mono_s() != p->log_window_s)
		flush_suppressed(p);
	return MOSQ_ERR_SUCCESS;
}

static int on_reload(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	struct plugin *p = userdata;
	if (p)
		reloader_force(p->reloader);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++)
		if (supported_versions && supported_versions[i] == 5)
			return 5;
	return -1;
}

/* plugin_opt_KEY V: an integer LO..HI into *out, or -1 with the reason logged. */
static int int_option(const char *k, const char *v, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: plugin_opt_%s '%s': expected %d..%d", k,
		                     v, lo, hi);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int parse_options(struct mosquitto_opt *options, int option_count, const char **ledger,
                         int *reload_s, int *clientid_prefix, int *hold_s)
{
	*ledger = NULL;
	*reload_s = RELOAD_S_DEFAULT;
	*clientid_prefix = 0;
	*hold_s = HOLD_S_DEFAULT;
	for (int i = 0; i < option_count; i++) {
		const char *k = options[i].key, *v = options[i].value;
		if (!k || !v) {
			continue;
		} else if (!strcmp(k, "ledger") && *v) {
			*ledger = v;
		} else if (!strcmp(k, "reload_s")) {
			if (int_option(k, v, 1, RELOAD_S_MAX, reload_s))
				return -1;
		} else if (!strcmp(k, "hold_s")) {
			if (int_option(k, v, 0, HOLD_S_MAX, hold_s))
				return -1;
		} else if (!strcmp(k, "clientid_prefix") && (!strcmp(v, "true") || !strcmp(v, "false"))) {
			*clientid_prefix = !strcmp(v, "true");
		} else {
			mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: plugin_opt_%s '%s': unknown option or "
			                     "bad value (ledger PATH, reload_s N, clientid_prefix true|false, "
			                     "hold_s N)",
			                     k, v);
			return -1;
		}
	}
	if (!*ledger) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: plugin_opt_ledger PATH is required");
		return -1;
	}
	return 0;
}

static void unregister_all(struct plugin *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_RELOAD, on_reload, NULL);
}

static void plugin_free(struct plugin *p)
{
	if (!p)
		return;
	reloader_stop(p->reloader);
	auth_table_free(p->table);
	free(p);
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                          struct mosquitto_opt *options, int option_count)
{
	const char *ledger;
	int reload_s, clientid_prefix, hold_s;
	if (parse_options(options, option_count, &ledger, &reload_s, &clientid_prefix, &hold_s))
		return MOSQ_ERR_INVAL;
	if (askue_cred_init() != ASKUE_OK) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: libsodium failed to start");
		return MOSQ_ERR_UNKNOWN;
	}
	struct plugin *p = calloc(1, sizeof *p);
	if (!p)
		return MOSQ_ERR_NOMEM;
	p->id = identifier;
	p->clientid_prefix = clientid_prefix;
	p->hold_s = hold_s;
	p->started_s = mono_s();
	char decoy_text[ASKUE_SECRET_TEXT_BUF];
	if (askue_cred_new(decoy_text, &p->decoy) != ASKUE_OK) {
		free(p);
		return MOSQ_ERR_UNKNOWN;
	}
	char msg[512];
	if (reloader_start(ledger, reload_s, &p->table, msg, sizeof msg, &p->reloader)) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: %s", msg);
		free(p);
		return MOSQ_ERR_NOMEM;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "askue_auth: %s (checked every %d s; meters held "
	                     "until an ingestor subscribes, at most %d s)", msg, reload_s, hold_s);
	int rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p);
	if (!rc)
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p);
	if (!rc)
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p);
	if (!rc)
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_RELOAD, on_reload, NULL, p);
	if (rc) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "askue_auth: registering callbacks failed (%d)", rc);
		unregister_all(p);
		plugin_free(p);
		return rc;
	}
	*userdata = p;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	struct plugin *p = userdata;
	if (p) {
		unregister_all(p);
		flush_suppressed(p);
		plugin_free(p);
	}
	return MOSQ_ERR_SUCCESS;
}
