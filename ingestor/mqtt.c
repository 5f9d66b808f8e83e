/* mqtt — the ingestor's MQTT 5 session on libmosquitto, threaded.
 *
 * Why libmosquitto (shared/notes/mqtt-ack-order.md, docs/ingestor.md): in
 * threaded mode libmosquitto 2.0.11 only queues the PUBACK of a QoS 1
 * message, and its loop thread writes it after on_message has returned.
 * So on_message validates the message, writes the rejects and appends the
 * good readings to the spool (durable when it returns) — only then may the
 * PUBACK leave. If the process dies inside on_message, the broker never got
 * the PUBACK and redelivers the message to the same session. Paho MQTT C
 * sends the PUBACK before its callback runs: a crash there loses the message.
 *
 * When the spool cannot take a message (the disk failed, or a stop was
 * asked while the spool was full) on_message must not return normally: the
 * PUBACK would go out for a message askue does not hold. It shuts the socket
 * down first, so the queued PUBACK can never be sent; libmosquitto then
 * reconnects and the broker redelivers.
 *
 * Session: a fixed client id, clean start off, a session expiry interval,
 * QoS 1 subscription to $share/ingest/meters/+/readings (share_group),
 * renewed on every connect, whatever CONNACK's session-present says. Reconnects
 * with a capped exponential backoff (libmosquitto's); the keep-alive makes
 * a silent broker noticed.
 */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ingestor.h"
#include "lineproto.h"
#include "log.h"

#define READINGS_FILTER "meters/+/readings"

struct mqtt {
	const struct askue_config *cfg;
	struct spool *sp;
	struct rejects *rj;
	struct health *h;
	struct mosquitto *mosq;
	char *lines; /* on_message's line buffer, ASKUE_SPOOL_RECORD_BYTES_MAX */
	_Atomic int stopping;
	char filter[128]; /* $share/GROUP/meters/+/readings, or meters/+/readings */
};

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
	(void)props;
	struct mqtt *m = obj;
	if (rc != 0) {
		log_warnx("mqtt", "broker refused the connection: %s", mosquitto_reason_string(rc));
		return;
	}
	int present = flags & 1;
	atomic_store(&m->h->connected, 1);
	log_info("mqtt", "connected to %s:%lld as %s (session %s)", m->cfg->mqtt_host,
	         (long long)m->cfg->mqtt_port, m->cfg->ingestor_client_id,
	         present ? "resumed" : "new");
	/* Subscribe on every connect, not only when the session is new:
	 * Mosquitto 2.0.11 resumes a persisted session after its own restart
	 * without the session's $share subscription (tests/integration,
	 * test_broker_restart_nothing_lost). Subscribing again to the same
	 * filter only replaces the subscription. */
	rc = mosquitto_subscribe_v5(mosq, NULL, m->filter, 1, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("mqtt", "subscribe %s: %s", m->filter, mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
	(void)mosq, (void)mid, (void)props;
	struct mqtt *m = obj;
	if (n >= 1 && granted[0] <= 2) {
		log_info("mqtt", "subscribed to %s (QoS %d)", m->filter, granted[0]);
	} else {
		log_error("mqtt", "the broker refused the subscription to %s (%s): no readings "
		          "will arrive; check the ingestor's role", m->filter,
		          n >= 1 ? mosquitto_reason_string(granted[0]) : "no answer");
	}
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                          const mosquitto_property *props)
{
	(void)mosq, (void)props;
	struct mqtt *m = obj;
	atomic_store(&m->h->connected, 0);
	if (!atomic_load(&m->stopping))
		log_warnx("mqtt", "disconnected (%s); reconnecting", rc ? mosquitto_reason_string(rc) :
		          "asked");
}

/* Keep the PUBACK from leaving: the message is not ours yet. */
static void refuse_ack(struct mqtt *m, const char *why)
{
	log_warnx("mqtt", "%s: dropping the connection so the message is not acknowledged "
	          "(the broker delivers it again)", why);
	int fd = mosquitto_socket(m->mosq);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void reject_message(struct mqtt *m, int64_t now, enum askue_reason why,
                           const struct mosquitto_message *msg)
{
	health_reject(m->h, why, 1);
	size_t n = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	rejects_write(m->rj, now, why, msg->topic, -1, msg->payload, n < 512 ? n : 512, NULL);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
	(void)mosq, (void)props;
	struct mqtt *m = obj;
	int64_t now = (int64_t)time(NULL);
	atomic_fetch_add(&m->h->messages, 1);
	struct askue_payload p;
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	enum askue_reason why = askue_payload_parse(msg->topic, msg->payload, len, now,
	                                            m->cfg->ingestor_future_tolerance_s, &p);
	if (why) {
		reject_message(m, now, why, msg);
		askue_payload_free(&p);
		return;
	}
	for (size_t i = 0; i < p.n_rejects; i++) {
		health_reject(m->h, p.rejects[i].reason, 0);
		rejects_write(m->rj, now, p.rejects[i].reason, msg->topic, (long)p.rejects[i].index,
		              p.rejects[i].excerpt, strlen(p.rejects[i].excerpt), NULL);
	}
	struct askue_linebuf lb = {m->lines, 0, ASKUE_SPOOL_RECORD_BYTES_MAX - 2 * 1024};
	enum askue_err err = ASKUE_OK;
	for (size_t i = 0; i < p.n_readings && !err; i++)
		err = askue_lineproto_reading(&lb, p.meter, &p.readings[i]);
	if (err) {
		/* cannot happen: serials are checked, records are sized for the
		 * payload limit; refused whole rather than half-stored */
		log_error("mqtt", "%s", askue_err_msg());
		reject_message(m, now, ASKUE_REASON_BAD_SERIAL, msg);
	} else if (p.n_readings) {
		err = spool_append(m->sp, p.meter, p.ts_max, now, lb.buf, lb.len,
		                   (uint32_t)p.n_readings);
		if (err)
			refuse_ack(m, askue_err_msg());
		else
			atomic_fetch_add(&m->h->readings, p.n_readings);
	}
	askue_payload_free(&p);
}

static enum askue_err setup(struct mqtt *m)
{
	const struct askue_config *cfg = m->cfg;
	m->mosq = mosquitto_new(cfg->ingestor_client_id, false, m);
	if (!m->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: cannot create the client");
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if (cfg->ingestor_username[0] &&
	    mosquitto_username_pw_set(m->mosq, cfg->ingestor_username,
	                              cfg->ingestor_password[0] ? cfg->ingestor_password : NULL))
		return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: bad username or password setting");
	if (cfg->mqtt_tls) {
		int rc = mosquitto_tls_set(m->mosq, cfg->mqtt_cafile[0] ? cfg->mqtt_cafile : NULL,
		                           cfg->mqtt_cafile[0] ? NULL : "/etc/ssl/certs", NULL, NULL,
		                           NULL);
		if (rc)
			return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: TLS (cafile '%s'): %s",
			                     cfg->mqtt_cafile, mosquitto_strerror(rc));
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(m->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	mosquitto_reconnect_delay_set(m->mosq, 1, ASKUE_RETRY_DELAY_MS_MAX / 1000, true);
	return ASKUE_OK;
}

enum askue_err mqtt_start(const struct askue_config *cfg, struct spool *sp, struct rejects *rj,
                          struct health *h, struct mqtt **out)
{
	mosquitto_lib_init();
	struct mqtt *m = calloc(1, sizeof *m);
	if (!m)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	m->cfg = cfg, m->sp = sp, m->rj = rj, m->h = h;
	if (strpbrk(cfg->ingestor_share_group, "/+#")) {
		free(m);
		return askue_err_set(ASKUE_ERR_CONFIG, "[ingestor] share_group '%s': no / + or # "
		                     "allowed", cfg->ingestor_share_group);
	}
	if (cfg->ingestor_share_group[0])
		snprintf(m->filter, sizeof m->filter, "$share/%s/%s", cfg->ingestor_share_group,
		         READINGS_FILTER);
	else
		snprintf(m->filter, sizeof m->filter, "%s", READINGS_FILTER);
	m->lines = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	enum askue_err err = m->lines ? setup(m) : askue_err_set(ASKUE_ERR_NOMEM, "mqtt: memory");
	mosquitto_property *props = NULL;
	if (!err && mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
	                                         (uint32_t)cfg->ingestor_session_expiry_s))
		err = askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	if (!err) {
		/* The first attempt may fail (broker not up yet): the loop started
		 * below goes on reconnecting with backoff, with these properties. */
		int rc = mosquitto_connect_bind_v5(m->mosq, cfg->mqtt_host, (int)cfg->mqtt_port,
		                                   (int)cfg->mqtt_keepalive_s, NULL, props);
		if (rc == MOSQ_ERR_INVAL)
			err = askue_err_set(ASKUE_ERR_CONFIG, "mqtt: bad broker address %s:%lld",
			                    cfg->mqtt_host, (long long)cfg->mqtt_port);
		else if (rc != MOSQ_ERR_SUCCESS)
			log_warnx("mqtt", "%s:%lld: %s; retrying", cfg->mqtt_host,
			          (long long)cfg->mqtt_port,
			          rc == MOSQ_ERR_ERRNO ? "cannot connect" : mosquitto_strerror(rc));
	}
	mosquitto_property_free_all(&props);
	if (!err && mosquitto_loop_start(m->mosq) != MOSQ_ERR_SUCCESS)
		err = askue_err_set(ASKUE_ERR_IO, "mqtt: cannot start the network thread");
	if (err) {
		if (m->mosq)
			mosquitto_destroy(m->mosq);
		free(m->lines);
		free(m);
		mosquitto_lib_cleanup();
		return err;
	}
	*out = m;
	return ASKUE_OK;
}

void mqtt_stop(struct mqtt *m)
{
	if (!m)
		return;
	atomic_store(&m->stopping, 1);
	spool_cancel_waits(m->sp); /* an on_message waiting for room gives up */
	mosquitto_disconnect_v5(m->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	mosquitto_loop_stop(m->mosq, false);
	mosquitto_destroy(m->mosq);
	free(m->lines);
	free(m);
	mosquitto_lib_cleanup();
}
