/* mqtt — the ingestor's MQTT 5 sessions on libmosquitto, driven in rounds
 * by one thread of our own, so that one fdatasync covers many messages.
 *
 * Why libmosquitto (shared/notes/mqtt-ack-order.md, docs/ingestor.md): it
 * only *queues* the PUBACK of a QoS 1 message when the client is marked
 * threaded (mosquitto_threaded_set), and nothing is written to the socket
 * until mosquitto_loop_write is called. Paho MQTT C sends the PUBACK before
 * its callback runs: a crash there loses the message.
 *
 * A round: poll the sessions' sockets; read every message that is there
 * (on_message validates it, writes the rejects and writes the good readings
 * to the spool, not yet synced: their PUBACKs queue up); one spool_sync
 * (fdatasync) for all of them; only then mosquitto_loop_write, which sends
 * the PUBACKs; keep-alives; reconnects. If the process dies anywhere before
 * the sync returned, no PUBACK of the round has left, and the broker
 * redelivers those messages to the same persistent sessions. With the
 * broker allowed RECEIVE_MAX unacknowledged messages per session, it goes
 * on sending while a round syncs, and a round takes what piled up.
 *
 * When a message cannot be kept (the disk failed, or a stop was asked while
 * the spool was full) its session must never write again on that socket:
 * it is shut down at once, its queued PUBACKs with it; libmosquitto's state
 * is reset at the reconnect and the broker delivers the messages again.
 *
 * Connections: [ingestor] connections sessions (client ids CLIENT_ID-1..N,
 * or CLIENT_ID alone when there is one), all in the same shared
 * subscription group, all driven by the one thread.
 *
 * Session: a fixed client id, clean start off, a session expiry interval,
 * QoS 1 subscription to $share/ingest/meters/+/readings (share_group),
 * renewed on every connect, whatever CONNACK's session-present says.
 * Reconnects with a backoff doubling from 1 s to 30 s; the keep-alive
 * (mosquitto_loop_misc each round) makes a silent broker noticed.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingestor.h"
#include "lineproto.h"
#include "log.h"

#define READINGS_FILTER "meters/+/readings"
#define CONNECTIONS_MAX 32
/* Unacknowledged QoS 1 messages the broker may have out to one session (our
 * MQTT 5 Receive Maximum; libmosquitto's default is 20): the broker keeps
 * sending while a round syncs. */
#define RECEIVE_MAX 1024
/* Messages one session may hand over in one round: bounds a round's length
 * (the PUBACKs wait for its end) so that the sessions take turns. */
#define ROUND_MESSAGES_MAX 512
/* The poll's longest sleep: keep-alives and reconnects are checked then. */
#define IDLE_MS 500
#define BACKOFF_MS_MIN 1000

struct mqtt;
struct conn {
	struct mqtt *m;
	struct mosquitto *mosq;
	char id[160];
	int up;        /* has a socket: connecting or connected */
	int connected; /* CONNACK accepted, counted in health */
	int taken;     /* took a message in this round */
	int refused;   /* a message of this socket could not be kept: shut down */
	int64_t retry_ms, backoff_ms;
};

struct mqtt {
	const struct askue_config *cfg;
	struct spool *sp;
	struct rejects *rj;
	struct health *h;
	_Atomic int stopping;
	int wake[2]; /* mqtt_stop wakes the poll */
	pthread_t thread;
	int started;
	char *lines;     /* on_message's line buffer, ASKUE_SPOOL_RECORD_BYTES_MAX */
	uint64_t ticket; /* the spool ticket of the round's newest record */
	int round_failed; /* a spool write failed: records of the round lost */
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
	c->backoff_ms = BACKOFF_MS_MIN;
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

/* Keep the session's queued PUBACKs from ever leaving: a message of it is
 * not ours. */
static void refuse_ack(struct conn *c, const char *why)
{
	if (c->refused)
		return;
	c->refused = 1;
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

/* Validate, reject what is bad, write the good readings to the spool (not
 * synced: the round syncs once for all its messages before any PUBACK). */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
	(void)mosq, (void)props;
	struct conn *c = obj;
	struct mqtt *m = c->m;
	if (c->refused)
		return; /* never acknowledged: comes again */
	c->taken++;
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
		uint64_t ticket;
		err = spool_write(m->sp, p.meter, p.ts_max, now, lb.buf, lb.len,
		                  (uint32_t)p.n_readings, &ticket);
		if (err) {
			/* a failed write may take other sessions' records of this
			 * round with it: the round settles as failed */
			m->round_failed = 1;
			refuse_ack(c, askue_err_msg());
		} else {
			m->ticket = ticket;
			atomic_fetch_add(&m->h->readings, p.n_readings);
		}
	}
	askue_payload_free(&p);
}

static enum askue_err conn_setup(struct mqtt *m, struct conn *c)
{
	const struct askue_config *cfg = m->cfg;
	c->m = m;
	c->backoff_ms = BACKOFF_MS_MIN;
	c->mosq = mosquitto_new(c->id, false, c);
	if (!c->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: cannot create the client");
	/* threaded: packets are only queued; our round writes them */
	mosquitto_threaded_set(c->mosq, true);
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(c->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, RECEIVE_MAX);
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
	return ASKUE_OK;
}

/* The socket is gone (libmosquitto closed it and said so in on_disconnect):
 * reconnect after the backoff. */
static void conn_lost(struct conn *c)
{
	if (!c->up)
		return;
	if (mosquitto_socket(c->mosq) >= 0)
		return;
	c->up = 0;
	c->retry_ms = ingestor_now_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > ASKUE_RETRY_DELAY_MS_MAX ? ASKUE_RETRY_DELAY_MS_MAX
	                                                             : c->backoff_ms * 2;
}

static void conn_failed(struct conn *c, int rc)
{
	const struct askue_config *cfg = c->m->cfg;
	log_warnx("mqtt", "%s: %s:%lld: %s; retrying in %lld s", c->id, cfg->mqtt_host,
	          (long long)cfg->mqtt_port,
	          rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc),
	          (long long)(c->backoff_ms / 1000));
	c->up = 1;
	conn_lost(c);
}

/* The first connect stores the address and properties; a failure other
 * than a bad address only logs (the round retries it). */
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
		conn_failed(c, rc);
	else
		c->up = 1;
	return ASKUE_OK;
}

static void conn_reconnect(struct conn *c, int64_t now)
{
	if (c->up || now < c->retry_ms)
		return;
	c->refused = 0;
	int rc = mosquitto_reconnect(c->mosq);
	if (rc != MOSQ_ERR_SUCCESS)
		conn_failed(c, rc);
	else
		c->up = 1;
}

/* Take what the session's socket holds, up to ROUND_MESSAGES_MAX packets:
 * mosquitto_loop_read reads one packet a call, so read until a call brings
 * no message (the socket is empty, or what is there is not a whole PUBLISH:
 * the next poll tells). A refused session reads on to its end of file
 * (on_message ignores what comes). */
static void conn_read(struct conn *c)
{
	for (int i = 0; i < ROUND_MESSAGES_MAX; i++) {
		int before = c->taken, refused = c->refused;
		int rc = mosquitto_loop_read(c->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(c->mosq) < 0)
			break;
		if (c->taken == before && !refused)
			break;
	}
	conn_lost(c);
}

/* Every record written this round is made durable, then the PUBACKs may
 * go. When a write or the sync failed, the sessions that took messages are
 * shut down before anything is written. */
static void round_settle(struct mqtt *m)
{
	if ((m->ticket && spool_sync(m->sp, m->ticket) != ASKUE_OK) || m->round_failed) {
		for (size_t i = 0; i < m->n; i++)
			if (m->conns[i].taken)
				refuse_ack(&m->conns[i], m->round_failed ? "spool write failed"
				                                           : askue_err_msg());
	}
	m->ticket = 0;
	m->round_failed = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct conn *c = &m->conns[i];
		c->taken = 0;
		if (c->up && !c->refused && mosquitto_want_write(c->mosq))
			mosquitto_loop_write(c->mosq, 1);
		if (c->up)
			mosquitto_loop_misc(c->mosq);
		conn_lost(c);
	}
}

static int poll_timeout(const struct mqtt *m, int64_t now)
{
	int64_t t = IDLE_MS;
	for (size_t i = 0; i < m->n; i++)
		if (!m->conns[i].up && m->conns[i].retry_ms - now < t)
			t = m->conns[i].retry_ms - now;
	return t < 0 ? 0 : (int)t;
}

static void round_once(struct mqtt *m)
{
	struct pollfd fds[CONNECTIONS_MAX + 1];
	struct conn *of[CONNECTIONS_MAX];
	nfds_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct conn *c = &m->conns[i];
		int fd = c->up ? mosquitto_socket(c->mosq) : -1;
		if (fd < 0)
			continue;
		fds[n].fd = fd;
		fds[n].events = POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0);
		fds[n].revents = 0;
		of[n++] = c;
	}
	fds[n].fd = m->wake[0];
	fds[n].events = POLLIN;
	fds[n].revents = 0;
	int ready = poll(fds, n + 1, poll_timeout(m, ingestor_now_ms()));
	if (ready < 0 && errno != EINTR)
		log_warn("mqtt", "poll");
	for (nfds_t i = 0; ready > 0 && i < n; i++)
		if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
			conn_read(of[i]);
	round_settle(m);
	int64_t now = ingestor_now_ms();
	for (size_t i = 0; i < m->n && !atomic_load(&m->stopping); i++)
		conn_reconnect(&m->conns[i], now);
}

/* Stopping: the last round is settled; say goodbye on every session still
 * up (its PUBACKs, then DISCONNECT; the broker keeps the session). */
static void finish(struct mqtt *m)
{
	round_settle(m);
	for (size_t i = 0; i < m->n; i++) {
		struct conn *c = &m->conns[i];
		if (!c->up || c->refused)
			continue;
		mosquitto_disconnect_v5(c->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
		mosquitto_loop_write(c->mosq, 1);
	}
}

static void *run(void *arg)
{
	struct mqtt *m = arg;
	while (!atomic_load(&m->stopping))
		round_once(m);
	finish(m);
	return NULL;
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

static enum askue_err mqtt_new(const struct askue_config *cfg, struct mqtt **out)
{
	struct mqtt *m = calloc(1, sizeof *m);
	if (!m)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	m->wake[0] = m->wake[1] = -1;
	m->lines = malloc(ASKUE_SPOOL_RECORD_BYTES_MAX);
	if (!m->lines || pipe(m->wake) != 0) {
		free(m->lines);
		free(m);
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory or descriptors");
	}
	m->cfg = cfg;
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
	*out = m;
	return ASKUE_OK;
}

enum askue_err mqtt_start(const struct askue_config *cfg, struct spool *sp, struct rejects *rj,
                          struct health *h, struct mqtt **out)
{
	enum askue_err err = check_config(cfg);
	if (err)
		return err;
	mosquitto_lib_init();
	struct mqtt *m = NULL;
	err = mqtt_new(cfg, &m);
	if (err) {
		mosquitto_lib_cleanup();
		return err;
	}
	m->sp = sp, m->rj = rj, m->h = h;
	for (size_t i = 0; i < m->n && !err; i++)
		err = conn_setup(m, &m->conns[i]);
	for (size_t i = 0; i < m->n && !err; i++)
		err = conn_start(m, &m->conns[i]);
	if (!err && pthread_create(&m->thread, NULL, run, m) != 0)
		err = askue_err_set(ASKUE_ERR_IO, "mqtt: cannot start the network thread");
	if (err) {
		enum askue_err keep = err;
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", askue_err_msg());
		mqtt_stop(m);
		return askue_err_set(keep, "%s", msg);
	}
	m->started = 1;
	*out = m;
	return ASKUE_OK;
}

void mqtt_stop(struct mqtt *m)
{
	if (!m)
		return;
	atomic_store(&m->stopping, 1);
	spool_cancel_waits(m->sp); /* an append waiting for room gives up */
	if (m->started) {
		if (write(m->wake[1], "", 1) != 1)
			log_warn("mqtt", "waking the network thread");
		pthread_join(m->thread, NULL);
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->conns[i].mosq)
			mosquitto_destroy(m->conns[i].mosq);
	close(m->wake[0]);
	close(m->wake[1]);
	free(m->lines);
	free(m);
	mosquitto_lib_cleanup();
}
