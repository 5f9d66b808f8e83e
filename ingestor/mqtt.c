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
 * Connections: [ingestor] connections sessions (client ids CLIENT_ID-1..N,
 * or CLIENT_ID alone when there is one), all in the same shared
 * subscription group. Each has its own network thread, so N on_message run
 * at once and their fdatasyncs are shared (group commit in spool.c): with
 * one connection each message waits for a whole fdatasync of its own.
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
#define CONNECTIONS_MAX 32

struct mqtt;
struct conn {
	struct mqtt *m;
	struct mosquitto *mosq;
	char id[160];
	char *lines; /* on_message's line buffer, ASKUE_SPOOL_RECORD_BYTES_MAX */
	int connected, started;
};

struct mqtt {
	const struct askue_config *cfg;
	struct spool *sp;
	struct rejects *rj;
	struct health *h;
	_Atomic int stopping;
	char filter[128]; /* $share/GROUP/meters/+/readings, or meters/+/readings */
	size_t n;
	struct conn conns[CONNECTIONS_MAX];
};

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
	(void)props;
	struct conn *c = obj;
	struct mqtt *m = c->m;
	if (rc != 0) {
		log_warnx("mqtt", "%s: broker refused the connection: %s", c->id,
		          mosquitto_reason_string(rc));
		return;
	}
	if (!c->connected++)
		atomic_fetch_add(&m->h->connected, 1);
	log_info("mqtt", "connected to %s:%lld as %s (session %s)", m->cfg->mqtt_host,
	         (long long)m->cfg->mqtt_port, c->id, flags & 1 ? "resumed" : "new");
	/* Subscribe on every connect, not only when the session is new:
	 * Mosquitto 2.0.11 resumes a persisted session after its own restart
	 * without the session's $share subscription (tests/integration,
	 * test_broker_restart_nothing_lost). Subscribing again to the same
	 * filter only replaces the subscription. */
	rc = mosquitto_subscribe_v5(mosq, NULL, m->filter, 1, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("mqtt", "%s: subscribe %s: %s", c->id, m->filter, mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
	(void)mosq, (void)mid, (void)props;
	struct conn *c = obj;
	if (n >= 1 && granted[0] <= 2) {
		log_info("mqtt", "%s subscribed to %s (QoS %d)", c->id, c->m->filter, granted[0]);
	} else {
		log_error("mqtt", "the broker refused the subscription of %s to %s (%s): no "
		          "readings will arrive; check the ingestor's role", c->id, c->m->filter,
		          n >= 1 ? mosquitto_reason_string(granted[0]) : "no answer");
	}
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                          const mosquitto_property *props)
{
	(void)mosq, (void)props;
	struct conn *c = obj;
	if (c->connected) {
		c->connected = 0;
		atomic_fetch_sub(&c->m->h->connected, 1);
	}
	if (!atomic_load(&c->m->stopping))
		log_warnx("mqtt", "%s disconnected (%s); reconnecting", c->id,
		          rc ? mosquitto_reason_string(rc) : "asked");
}

/* Keep the PUBACK from leaving: the message is not ours yet. */
static void refuse_ack(struct conn *c, const char *why)
{
	if (!atomic_load(&c->m->stopping))
		log_warnx("mqtt", "%s: dropping the connection %s so the message is not "
		          "acknowledged (the broker delivers it again)", why, c->id);
	int fd = mosquitto_socket(c->mosq);
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
	struct conn *c = obj;
	struct mqtt *m = c->m;
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
	struct askue_linebuf lb = {c->lines, 0, ASKUE_SPOOL_RECORD_BYTES_MAX - 2 * 1024};
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
			refuse_ack(c, askue_err_msg());
		else
			atomic_fetch_add(&m->h->readings, p.n_readings);
	}
	askue_payload_free(&p);
}

static enum askue_err conn_setup(struct mqtt *m, struct conn *c)
{
	const struct askue_config *cfg = m->cfg;
	c->m = m;
	c->lines = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	c->mosq = mosquitto_new(c->id, false, c);
	if (!c->lines || !c->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: cannot create the client");
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if (cfg->ingestor_username[0] &&
	    mosquitto_username_pw_set(c->mosq, cfg->ingestor_username,
	                              cfg->ingestor_password[0] ? cfg->ingestor_password : NULL))
		return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: bad username or password setting");
	if (cfg->mqtt_tls) {
		int rc = mosquitto_tls_set(c->mosq, cfg->mqtt_cafile[0] ? cfg->mqtt_cafile : NULL,
		                           cfg->mqtt_cafile[0] ? NULL : "/etc/ssl/certs", NULL, NULL,
		                           NULL);
		if (rc)
			return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: TLS (cafile '%s'): %s",
			                     cfg->mqtt_cafile, mosquitto_strerror(rc));
	}
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	mosquitto_reconnect_delay_set(c->mosq, 1, ASKUE_RETRY_DELAY_MS_MAX / 1000, true);
	return ASKUE_OK;
}

/* Connect (a first failure only logs: the loop goes on reconnecting with
 * these properties) and start the network thread. */
static enum askue_err conn_start(struct mqtt *m, struct conn *c)
{
	const struct askue_config *cfg = m->cfg;
	mosquitto_property *props = NULL;
	if (mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
	                                 (uint32_t)cfg->ingestor_session_expiry_s))
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	int rc = mosquitto_connect_bind_v5(c->mosq, cfg->mqtt_host, (int)cfg->mqtt_port,
	                                   (int)cfg->mqtt_keepalive_s, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_INVAL)
		return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: bad broker address %s:%lld",
		                     cfg->mqtt_host, (long long)cfg->mqtt_port);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("mqtt", "%s: %s:%lld: %s; retrying", c->id, cfg->mqtt_host,
		          (long long)cfg->mqtt_port,
		          rc == MOSQ_ERR_ERRNO ? "cannot connect" : mosquitto_strerror(rc));
	if (mosquitto_loop_start(c->mosq) != MOSQ_ERR_SUCCESS)
		return askue_err_set(ASKUE_ERR_IO, "mqtt: cannot start the network thread");
	c->started = 1;
	return ASKUE_OK;
}

static enum askue_err check_config(const struct askue_config *cfg)
{
	if (strpbrk(cfg->ingestor_share_group, "/+#"))
		return askue_err_set(ASKUE_ERR_CONFIG, "[ingestor] share_group '%s': no / + or # "
		                     "allowed", cfg->ingestor_share_group);
	if (!cfg->ingestor_share_group[0] && cfg->ingestor_connections > 1)
		return askue_err_set(ASKUE_ERR_CONFIG, "[ingestor] connections = %lld needs a "
		                     "share_group (each plain subscription gets every message)",
		                     (long long)cfg->ingestor_connections);
	return ASKUE_OK;
}

enum askue_err mqtt_start(const struct askue_config *cfg, struct spool *sp, struct rejects *rj,
                          struct health *h, struct mqtt **out)
{
	enum askue_err err = check_config(cfg);
	if (err)
		return err;
	mosquitto_lib_init();
	struct mqtt *m = calloc(1, sizeof *m);
	if (!m)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	m->cfg = cfg, m->sp = sp, m->rj = rj, m->h = h;
	if (cfg->ingestor_share_group[0])
		snprintf(m->filter, sizeof m->filter, "$share/%s/%s", cfg->ingestor_share_group,
		         READINGS_FILTER);
	else
		snprintf(m->filter, sizeof m->filter, "%s", READINGS_FILTER);
	m->n = (size_t)cfg->ingestor_connections;
	if (m->n > CONNECTIONS_MAX)
		m->n = CONNECTIONS_MAX;
	for (size_t i = 0; i < m->n; i++) {
		if (m->n == 1)
			snprintf(m->conns[i].id, sizeof m->conns[i].id, "%s", cfg->ingestor_client_id);
		else
			snprintf(m->conns[i].id, sizeof m->conns[i].id, "%s-%zu",
			         cfg->ingestor_client_id, i + 1);
	}
	for (size_t i = 0; i < m->n && !err; i++)
		err = conn_setup(m, &m->conns[i]);
	for (size_t i = 0; i < m->n && !err; i++)
		err = conn_start(m, &m->conns[i]);
	if (err) {
		enum askue_err keep = err;
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", askue_err_msg());
		mqtt_stop(m);
		return askue_err_set(keep, "%s", msg);
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
	for (size_t i = 0; i < m->n; i++)
		if (m->conns[i].started)
			mosquitto_disconnect_v5(m->conns[i].mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	for (size_t i = 0; i < m->n; i++) {
		struct conn *c = &m->conns[i];
		if (c->started)
			mosquitto_loop_stop(c->mosq, false);
		if (c->mosq)
			mosquitto_destroy(c->mosq);
		free(c->lines);
	}
	free(m);
	mosquitto_lib_cleanup();
}
