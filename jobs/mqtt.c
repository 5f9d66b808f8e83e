/* mqtt — the jobs' two short MQTT sessions (libmosquitto, one thread, the
 * loop driven here): publishing the pending alerts on askue/alerts/{kind}
 * with the jobs role, and collecting the retained meters/+/status with the
 * stale role. Both are bounded in time; a broker that is away costs a job
 * at most the timeout, and its ledger work stands. */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "job.h"
#include "log.h"
#include "strmap.h"

/* Pending alerts published in one run; the rest go with the next. */
#define JOB_PUBLISH_MAX 100000

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct session {
	struct mosquitto *mosq;
	int connected; /* 1 accepted, -1 refused */
	int connack_rc;
	/* publishing */
	int *mids;
	char *acked;
	size_t n, n_acked;
	/* status */
	struct askue_strmap *status;
	enum askue_err status_err;
};

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)mosq;
	struct session *s = obj;
	s->connack_rc = rc;
	s->connected = rc == 0 ? 1 : -1;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	(void)mosq;
	struct session *s = obj;
	for (size_t i = 0; i < s->n; i++)
		if (s->mids[i] == mid && !s->acked[i]) {
			s->acked[i] = 1;
			s->n_acked++;
			return;
		}
}

/* Connect with user/password and wait for the CONNACK until deadline. */
static enum askue_err session_open(struct session *s, const struct askue_config *cfg,
                                   const char *client_id, const char *user, const char *password,
                                   int64_t deadline_ms)
{
	mosquitto_lib_init();
	s->mosq = mosquitto_new(client_id, true, s);
	if (!s->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mqtt: out of memory");
	mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if (*user)
		mosquitto_username_pw_set(s->mosq, user, password);
	if (cfg->mqtt_tls &&
	    mosquitto_tls_set(s->mosq, cfg->mqtt_cafile[0] ? cfg->mqtt_cafile : NULL, NULL, NULL,
	                      NULL, NULL) != MOSQ_ERR_SUCCESS)
		return askue_err_set(ASKUE_ERR_CONFIG, "mqtt: TLS with cafile '%s' refused",
		                     cfg->mqtt_cafile);
	mosquitto_connect_callback_set(s->mosq, on_connect);
	mosquitto_publish_callback_set(s->mosq, on_publish);
	int rc = mosquitto_connect(s->mosq, cfg->mqtt_host, (int)cfg->mqtt_port,
	                           (int)cfg->mqtt_keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS)
		return askue_err_set(ASKUE_ERR_IO, "mqtt %s:%lld: %s", cfg->mqtt_host,
		                     (long long)cfg->mqtt_port,
		                     rc == MOSQ_ERR_ERRNO ? "cannot connect" : mosquitto_strerror(rc));
	while (!s->connected && mono_ms() < deadline_ms)
		if (mosquitto_loop(s->mosq, 50, 1) != MOSQ_ERR_SUCCESS)
			break;
	if (s->connected != 1)
		return askue_err_set(ASKUE_ERR_IO, "mqtt %s:%lld as %s: %s", cfg->mqtt_host,
		                     (long long)cfg->mqtt_port, user,
		                     s->connected ? mosquitto_connack_string(s->connack_rc)
		                                  : "no answer to CONNECT");
	return ASKUE_OK;
}

static void session_close(struct session *s)
{
	if (s->mosq) {
		if (s->connected == 1) {
			mosquitto_disconnect(s->mosq);
			mosquitto_loop(s->mosq, 10, 1);
		}
		mosquitto_destroy(s->mosq);
	}
	mosquitto_lib_cleanup();
	free(s->mids);
	free(s->acked);
}

struct pending {
	struct askue_ledger *l;
	int64_t *ids;
	char (*status)[16];
	char **payload;
	char (*topic)[96];
	size_t n;
	enum askue_err err;
};

static int collect_pending(const struct askue_alert *a, void *arg)
{
	struct pending *p = arg;
	if (p->n == JOB_PUBLISH_MAX)
		return 1;
	cJSON *o;
	if ((p->err = askue_alert_json(p->l, a, &o)))
		return 1;
	p->payload[p->n] = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!p->payload[p->n]) {
		p->err = askue_err_set(ASKUE_ERR_NOMEM, "alerts: out of memory");
		return 1;
	}
	p->ids[p->n] = a->id;
	snprintf(p->status[p->n], sizeof p->status[p->n], "%s", a->status);
	snprintf(p->topic[p->n], sizeof p->topic[p->n], "askue/alerts/%s", a->kind);
	p->n++;
	return 0;
}

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		cJSON_free(p->payload[i]);
	free(p->ids);
	free(p->status);
	free(p->payload);
	free(p->topic);
}

static enum askue_err mark(struct job_ctx *ctx, const struct pending *p, const char *acked)
{
	enum askue_err err = askue_ledger_begin(ctx->l);
	int64_t at = (int64_t)time(NULL);
	for (size_t i = 0; i < p->n && !err; i++)
		if (acked[i])
			err = askue_alert_mark_published_tx(ctx->l, p->ids[i], p->status[i], at);
	if (!err)
		return askue_ledger_commit(ctx->l);
	askue_ledger_rollback(ctx->l);
	return err;
}

static enum askue_err publish_all(struct job_ctx *ctx, struct pending *p, struct session *s)
{
	const struct askue_config *cfg = &ctx->cli->cfg;
	char client_id[200];
	snprintf(client_id, sizeof client_id, "%s-%s", cfg->jobs_client_id, ctx->name);
	int64_t deadline = mono_ms() + cfg->jobs_publish_timeout_ms;
	enum askue_err err = session_open(s, cfg, client_id, cfg->jobs_username,
	                                  cfg->jobs_password, deadline);
	if (err)
		return err;
	s->mids = calloc(p->n, sizeof *s->mids);
	s->acked = calloc(p->n, 1);
	if (!s->mids || !s->acked)
		return askue_err_set(ASKUE_ERR_NOMEM, "publish: out of memory");
	for (size_t i = 0; i < p->n; i++) {
		int rc = mosquitto_publish(s->mosq, &s->mids[i], p->topic[i],
		                           (int)strlen(p->payload[i]), p->payload[i], 1, false);
		if (rc != MOSQ_ERR_SUCCESS)
			return askue_err_set(ASKUE_ERR_IO, "publish %s: %s", p->topic[i],
			                     mosquitto_strerror(rc));
		s->n = i + 1;
		mosquitto_loop(s->mosq, 0, 1);
	}
	while (s->n_acked < p->n && mono_ms() < deadline)
		if (mosquitto_loop(s->mosq, 50, 1) != MOSQ_ERR_SUCCESS)
			break;
	if (s->n_acked < p->n)
		return askue_err_set(ASKUE_ERR_IO, "the broker took %zu of %zu alerts in %lld ms",
		                     s->n_acked, p->n, (long long)cfg->jobs_publish_timeout_ms);
	return ASKUE_OK;
}

void job_publish_alerts(struct job_ctx *ctx)
{
	struct pending p = {.l = ctx->l};
	p.ids = calloc(JOB_PUBLISH_MAX, sizeof *p.ids);
	p.status = calloc(JOB_PUBLISH_MAX, sizeof *p.status);
	p.payload = calloc(JOB_PUBLISH_MAX, sizeof *p.payload);
	p.topic = calloc(JOB_PUBLISH_MAX, sizeof *p.topic);
	struct askue_alert_filter f = {.pending_only = 1};
	enum askue_err err = ASKUE_OK;
	if (!p.ids || !p.status || !p.payload || !p.topic)
		err = askue_err_set(ASKUE_ERR_NOMEM, "publish: out of memory");
	if (!err && !(err = askue_alert_each(ctx->l, &f, collect_pending, &p)))
		err = p.err;
	struct session s = {0};
	size_t published = 0;
	if (!err && ctx->dry_run) {
		cJSON_AddNumberToObject(ctx->report, "would_publish", (double)p.n);
	} else if (!err && p.n) {
		enum askue_err perr = publish_all(ctx, &p, &s);
		if (s.acked && s.n_acked && (err = mark(ctx, &p, s.acked)))
			askue_err_prefix("published, but not marked (they go again): ");
		published = s.n_acked;
		if (!err)
			err = perr;
	}
	if (!ctx->dry_run)
		cJSON_AddNumberToObject(ctx->report, "published", (double)published);
	if (err) {
		cJSON_AddStringToObject(ctx->report, "publish_error", askue_err_msg());
		cJSON_AddNumberToObject(ctx->report, "publish_left", (double)(p.n - published));
		log_warnx("job", "%s: alerts not published: %s (the next run publishes them)",
		          ctx->name, askue_err_msg());
	}
	session_close(&s);
	pending_free(&p);
}

static void on_status(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	(void)mosq;
	struct session *s = obj;
	const char *t = msg->topic;
	size_t len = strlen(t);
	if (s->status_err || strncmp(t, "meters/", 7) != 0 || len < 15 ||
	    strcmp(t + len - 7, "/status") != 0)
		return;
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	size_t n = len - 14;
	if (n > ASKUE_SERIAL_BYTES_MAX)
		return;
	memcpy(serial, t + 7, n);
	serial[n] = '\0';
	int64_t online;
	if (msg->payloadlen == 6 && !memcmp(msg->payload, "online", 6))
		online = 1;
	else if (msg->payloadlen == 7 && !memcmp(msg->payload, "offline", 7))
		online = 0;
	else
		return; /* not the contract: unknown */
	s->status_err = askue_strmap_put(s->status, serial, online);
}

enum askue_err job_meter_status(const struct askue_config *cfg, size_t expected,
                                struct askue_strmap **out)
{
	struct session s = {0};
	char client_id[200];
	snprintf(client_id, sizeof client_id, "%s-status", cfg->stale_username);
	int64_t start = mono_ms();
	enum askue_err err = askue_strmap_new(expected, &s.status);
	if (!err)
		err = session_open(&s, cfg, client_id, cfg->stale_username, cfg->stale_password,
		                   start + cfg->jobs_publish_timeout_ms);
	if (!err) {
		mosquitto_message_callback_set(s.mosq, on_status);
		int rc = mosquitto_subscribe(s.mosq, NULL, "meters/+/status", 0);
		if (rc != MOSQ_ERR_SUCCESS)
			err = askue_err_set(ASKUE_ERR_IO, "subscribe meters/+/status: %s",
			                    mosquitto_strerror(rc));
	}
	int64_t until = mono_ms() + cfg->stale_status_wait_ms;
	while (!err && mono_ms() < until && !s.status_err)
		if (mosquitto_loop(s.mosq, 50, 1) != MOSQ_ERR_SUCCESS)
			err = askue_err_set(ASKUE_ERR_IO, "mqtt: connection lost while reading status");
	if (!err)
		err = s.status_err;
	session_close(&s);
	if (err) {
		askue_strmap_free(s.status);
		return err;
	}
	*out = s.status;
	return ASKUE_OK;
}
