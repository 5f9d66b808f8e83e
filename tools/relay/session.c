/* session — the relay's MQTT 5 connection (relay.h), on libmosquitto driven
 * by the relay's own loop (mosquitto_loop, no network thread, no locks).
 *
 * MQTT 5 rather than 3.1.1 because a v5 PUBACK carries a reason code: a
 * publish the broker's ACL denies comes back as "not authorized" instead of
 * a plain PUBACK that would look like delivery. Only a PUBACK with a
 * success code (< 0x80; 0x10 "no matching subscribers" is success: the
 * broker took the message) counts as acknowledged; a refused one drops
 * the connection, so the event is published again after the backoff.
 *
 * Each connection is a new libmosquitto client with a clean start: when
 * one is lost, the client and whatever it still had queued are dropped and
 * the relay publishes again from the last acknowledged event, so the order
 * on the wire is always the journal's. Reconnects back off from 250 ms,
 * doubling to ASKUE_RETRY_DELAY_MS_MAX; the delay starts over once a
 * connection has carried an acknowledged message or lived a keep-alive.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "limits.h"
#include "log.h"
#include "relay.h"

#define RETRY_DELAY_MS_MIN 250

struct session {
	const struct askue_config *cfg;
	struct window *w;
	struct mosquitto *mosq;
	mosquitto_property *props; /* content type, payload format: UTF-8 */
	int ready;                 /* CONNACK success */
	int lost;                  /* a connection ended since the last take */
	int acked;                 /* this connection carried an acknowledged message */
	int refused_logged;
	int closing;               /* session_close: the disconnect is ours */
	char refusal[96];          /* the CONNACK's reason, when it refused us */
	int64_t connected_ms;      /* when the attempt started */
	int64_t next_attempt_ms;
	int64_t delay_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
	(void)mosq, (void)flags, (void)props;
	struct session *s = obj;
	if (rc != 0) {
		snprintf(s->refusal, sizeof s->refusal, "%s", mosquitto_reason_string(rc));
		return;
	}
	s->ready = 1;
	log_info("mqtt", "connected to %s:%lld as %s", s->cfg->mqtt_host,
	         (long long)s->cfg->mqtt_port, s->cfg->relay_client_id);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
	(void)props;
	struct session *s = obj;
	if (reason >= 0x80) {
		if (!s->refused_logged++)
			log_error("mqtt", "the broker refused an event (%s): not acknowledged, published "
			          "again after a reconnect; check the relay role's ACL (askue/events/#)",
			          mosquitto_reason_string(reason));
		mosquitto_disconnect(mosq);
		return;
	}
	if (window_ack(s->w, mid))
		s->acked = 1;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                          const mosquitto_property *props)
{
	(void)mosq, (void)props;
	struct session *s = obj;
	if (s->ready && !s->closing)
		log_warnx("mqtt", "disconnected from the broker (%s); reconnecting",
		          rc ? mosquitto_reason_string(rc) : "closed");
}

static enum askue_err client_new(struct session *s)
{
	const struct askue_config *cfg = s->cfg;
	s->mosq = mosquitto_new(cfg->relay_client_id, true, s);
	if (!s->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: cannot create the client");
	mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	/* Small messages, sent as soon as they are read: no Nagle delay. */
	mosquitto_int_option(s->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	/* The window bounds what is in flight; let libmosquitto send it all. */
	mosquitto_max_inflight_messages_set(s->mosq, (unsigned)cfg->relay_inflight_max);
	if (cfg->relay_username[0] &&
	    mosquitto_username_pw_set(s->mosq, cfg->relay_username,
	                              cfg->relay_password[0] ? cfg->relay_password : NULL))
		return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: bad [relay] username or password");
	if (cfg->mqtt_tls) {
		int rc = mosquitto_tls_set(s->mosq, cfg->mqtt_cafile[0] ? cfg->mqtt_cafile : NULL,
		                           cfg->mqtt_cafile[0] ? NULL : "/etc/ssl/certs", NULL, NULL,
		                           NULL);
		if (rc)
			return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: TLS (cafile '%s'): %s",
			                     cfg->mqtt_cafile, mosquitto_strerror(rc));
	}
	mosquitto_connect_v5_callback_set(s->mosq, on_connect);
	mosquitto_publish_v5_callback_set(s->mosq, on_publish);
	mosquitto_disconnect_v5_callback_set(s->mosq, on_disconnect);
	return ASKUE_OK;
}

static void client_drop(struct session *s)
{
	if (!s->mosq)
		return;
	mosquitto_destroy(s->mosq);
	s->mosq = NULL;
}

enum askue_err session_new(const struct askue_config *cfg, struct window *w,
                           struct session **out)
{
	struct session *s = calloc(1, sizeof *s);
	if (!s)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	s->cfg = cfg;
	s->w = w;
	s->delay_ms = RETRY_DELAY_MS_MIN;
	s->next_attempt_ms = mono_ms();
	mosquitto_lib_init();
	if (mosquitto_property_add_string(&s->props, MQTT_PROP_CONTENT_TYPE, "application/json") ||
	    mosquitto_property_add_byte(&s->props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1)) {
		session_free(s);
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	}
	*out = s;
	return ASKUE_OK;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	client_drop(s);
	mosquitto_property_free_all(&s->props);
	free(s);
	mosquitto_lib_cleanup();
}

/* The connection (or the attempt) ended: drop the client, schedule the next. */
static void lost(struct session *s, const char *why)
{
	int64_t now = mono_ms();
	int was_ready = s->ready;
	int stable = s->acked || now - s->connected_ms >= s->cfg->mqtt_keepalive_s * 1000;
	client_drop(s);
	s->ready = 0;
	s->lost = 1;
	s->acked = 0;
	s->refused_logged = 0;
	if (was_ready && stable)
		s->delay_ms = RETRY_DELAY_MS_MIN;
	s->next_attempt_ms = now + s->delay_ms;
	if (!was_ready && s->refusal[0])
		log_error("mqtt", "the broker %s:%lld refused the relay (user '%s'): %s; check [relay] "
		          "username and password (askue service credentials relay); next try in %lld ms",
		          s->cfg->mqtt_host, (long long)s->cfg->mqtt_port, s->cfg->relay_username,
		          s->refusal, (long long)s->delay_ms);
	else if (!was_ready && why)
		log_warnx("mqtt", "cannot connect to %s:%lld: %s; next try in %lld ms",
		          s->cfg->mqtt_host, (long long)s->cfg->mqtt_port, why,
		          (long long)s->delay_ms);
	s->refusal[0] = '\0';
	s->delay_ms = s->delay_ms * 2 > ASKUE_RETRY_DELAY_MS_MAX ? ASKUE_RETRY_DELAY_MS_MAX
	                                                         : s->delay_ms * 2;
}

void session_tick(struct session *s, int64_t now_ms)
{
	if (s->mosq) {
		/* No CONNACK within a keep-alive: the broker is not answering. */
		if (!s->ready && now_ms - s->connected_ms > s->cfg->mqtt_keepalive_s * 1000)
			lost(s, "no CONNACK");
		return;
	}
	if (now_ms < s->next_attempt_ms)
		return;
	enum askue_err err = client_new(s);
	if (err) {
		log_error("mqtt", "%s", askue_err_msg());
		client_drop(s);
		s->next_attempt_ms = now_ms + ASKUE_RETRY_DELAY_MS_MAX;
		return;
	}
	s->connected_ms = now_ms;
	/* Blocking TCP connect (the loopback or LAN broker answers at once; a
	 * signal interrupts it), then the CONNACK arrives through the loop. */
	int rc = mosquitto_connect_bind_v5(s->mosq, s->cfg->mqtt_host, (int)s->cfg->mqtt_port,
	                                   (int)s->cfg->mqtt_keepalive_s, NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		lost(s, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

int session_ready(const struct session *s)
{
	return s->ready;
}

int session_take_lost(struct session *s)
{
	int l = s->lost;
	s->lost = 0;
	return l;
}

enum askue_err session_publish(struct session *s, const struct relay_msg *m, int *mid)
{
	if (!s->ready)
		return askue_err_set(ASKUE_ERR_IO, "mqtt: not connected");
	int rc = mosquitto_publish_v5(s->mosq, mid, m->topic, (int)m->len, m->payload, 1, false,
	                              s->props);
	if (rc == MOSQ_ERR_SUCCESS)
		return ASKUE_OK;
	if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
		lost(s, NULL);
		return askue_err_set(ASKUE_ERR_IO, "mqtt: connection lost while publishing");
	}
	/* Larger than the broker takes (its maximum packet size, from CONNACK):
	 * the caller sends a smaller form. Nothing went out. */
	if (rc == MOSQ_ERR_OVERSIZE_PACKET || rc == MOSQ_ERR_PAYLOAD_SIZE)
		return askue_err_set(ASKUE_ERR_LIMIT, "mqtt: event %lld (%zu bytes) is larger than "
		                     "the broker takes", (long long)m->id, m->len);
	/* INVAL ...: this event cannot go out as it is; the relay must not
	 * skip it, so it says so and retries later. */
	lost(s, NULL);
	return askue_err_set(ASKUE_ERR_IO, "mqtt: event %lld on %s: %s", (long long)m->id,
	                     m->topic, mosquitto_strerror(rc));
}

void session_loop(struct session *s, int timeout_ms)
{
	if (!s->mosq) {
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL); /* a signal cuts it short */
		return;
	}
	int rc = mosquitto_loop(s->mosq, timeout_ms, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		lost(s, s->ready ? NULL : (rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc)));
}

void session_abort(struct session *s)
{
	if (s->mosq)
		lost(s, NULL);
}

void session_close(struct session *s)
{
	if (s->mosq && s->ready) {
		s->closing = 1;
		mosquitto_disconnect(s->mosq);
		mosquitto_loop(s->mosq, 100, 1);
	}
	client_drop(s);
	s->ready = 0;
}
