/* publish — the MQTT side of the simulator: workers that own connections.
 *
 * Each worker thread owns a share of this process's connections and the
 * meters on them. It drives libmosquitto without its loop thread: sockets in
 * one epoll set, mosquitto_loop_read on readable sockets (PUBACKs),
 * mosquitto_loop_write while a socket has output pending, mosquitto_loop_misc
 * once a second (keepalive). Publishing is QoS 1 with a bounded window of
 * unacknowledged messages per connection, so a slow broker slows the
 * simulator instead of filling its memory. A lost connection is reconnected
 * and libmosquitto resends what was not acknowledged.
 */
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

/* Waiting for CONNACKs and, at the end, for the last PUBACKs. */
#define CONNECT_WAIT_MS 30000
#define DRAIN_WAIT_MS 60000
#define EPOLL_EVENTS_MAX 256
/* CONNECTs a worker leaves unanswered at once: more only overflow the
 * broker's listen queue (100 in Mosquitto), and a dropped SYN costs a
 * second. */
#define CONNECTING_MAX 32

struct worker;

struct conn_state {
	struct sim_conn *conn;
	struct mosquitto *mosq;
	struct worker *w;
	int inflight;
	int state;     /* 0 connecting, 1 up, -1 refused, -2 lost */
	int refused_rc;
	int want_write;
};

struct pending {
	int n;
	struct sim_reading r[];
};

struct worker {
	pthread_t thread;
	const struct sim_options *o;
	struct sim_fleet *f;
	const struct sim_profiles *p;
	const uint8_t *zones;
	struct conn_state *all; /* indexed by connection number */
	struct conn_state **conns;
	int conns_count;
	int *meters;
	int meters_count;
	struct pending **pend; /* per meter of this worker, for backlog/reorder */
	int epfd;
	double rate;           /* messages/s of this worker, 0 = no limit */
	int64_t t0_ns, misc_ns;
	int64_t inflight;      /* over all its connections */
	int connecting;        /* CONNECTs without a CONNACK yet */
	struct sim_counts counts;
	enum askue_err err;
	char errmsg[256];
	char buf[SIM_PAYLOAD_BYTES_MAX];
	char bad[SIM_PAYLOAD_BYTES_MAX];
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *readings_file;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)mosq;
	struct conn_state *cs = obj;
	if (cs->state == 0)
		cs->w->connecting--;
	cs->state = rc == 0 ? 1 : -1;
	cs->refused_rc = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)mosq;
	struct conn_state *cs = obj;
	if (rc != 0 && cs->state == 1)
		cs->state = -2;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	(void)mosq;
	(void)mid;
	struct conn_state *cs = obj;
	cs->inflight--;
	cs->w->inflight--;
	cs->w->counts.messages_acked++;
}

static enum askue_err watch(struct worker *w, struct conn_state *cs)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cs};
	int fd = mosquitto_socket(cs->mosq);
	if (fd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return askue_err_set(ASKUE_ERR_IO, "epoll: %s", strerror(errno));
	return ASKUE_OK;
}

static void lost(struct worker *w, struct conn_state *cs)
{
	if (cs->state == 0)
		w->connecting--;
	if (cs->state == 1 || cs->state == 0)
		cs->state = -2;
}

/* Reconnect a lost connection (blocking connect; the CONNACK comes later). */
static void revive(struct worker *w, struct conn_state *cs)
{
	if (mosquitto_reconnect(cs->mosq) != MOSQ_ERR_SUCCESS)
		return;
	cs->state = 0;
	w->connecting++;
	w->counts.reconnects++;
	if (watch(w, cs) != ASKUE_OK)
		lost(w, cs);
}

static void service_writes(struct worker *w)
{
	for (int i = 0; i < w->conns_count; i++) {
		struct conn_state *cs = w->conns[i];
		if (cs->state >= 0 && mosquitto_want_write(cs->mosq)) {
			if (mosquitto_loop_write(cs->mosq, 1) != MOSQ_ERR_SUCCESS)
				lost(w, cs);
		}
	}
}

/* Handle network events for up to timeout_ms. */
static void pump(struct worker *w, int timeout_ms)
{
	struct epoll_event ev[EPOLL_EVENTS_MAX];
	int n = epoll_wait(w->epfd, ev, EPOLL_EVENTS_MAX, timeout_ms);
	for (int i = 0; i < n; i++) {
		struct conn_state *cs = ev[i].data.ptr;
		if (cs->state == -1 || cs->state == -2)
			continue;
		int rc = mosquitto_loop_read(cs->mosq, 1000);
		if (rc != MOSQ_ERR_SUCCESS && cs->state != -1)
			lost(w, cs);
	}
	int64_t t = now_ns();
	if (t - w->misc_ns > 1000000000) {
		w->misc_ns = t;
		for (int i = 0; i < w->conns_count; i++) {
			struct conn_state *cs = w->conns[i];
			if (cs->state == -2)
				revive(w, cs);
			else if (cs->state >= 0)
				mosquitto_loop_misc(cs->mosq);
		}
	}
	service_writes(w);
}

static void record(struct worker *w, const struct sim_meter *m, const struct sim_reading *r, int n)
{
	for (int i = 0; i < n; i++)
		w->counts.ai_wh_sum += r[i].reg_wh[0];
	if (!readings_file)
		return;
	pthread_mutex_lock(&out_lock);
	for (int i = 0; i < n; i++)
		fprintf(readings_file, "%s,%lld,%lld,%lld,%lld\n", m->serial, (long long)r[i].ts,
		        (long long)r[i].reg_wh[0], (long long)r[i].reg_wh[1], (long long)r[i].reg_wh[2]);
	pthread_mutex_unlock(&out_lock);
}

/* Wait for the window of cs and for the rate, then send one message. */
static int send_one(struct worker *w, struct conn_state *cs, const char *topic, const char *buf,
                    int len)
{
	while (cs->state != -1 && (cs->state != 1 || cs->inflight >= w->o->inflight))
		pump(w, 10);
	if (cs->state == -1)
		return -1;
	if (w->rate > 0) {
		int64_t due = w->t0_ns + (int64_t)((double)w->counts.messages * 1e9 / w->rate);
		int64_t t;
		while ((t = now_ns()) < due)
			pump(w, (int)((due - t) / 1000000) + 1);
	}
	int rc = mosquitto_publish(cs->mosq, NULL, topic, len, buf, 1, false);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST) {
		snprintf(w->errmsg, sizeof w->errmsg, "publish to %s: %s", topic, mosquitto_strerror(rc));
		w->err = ASKUE_ERR_IO;
		return -1;
	}
	if (rc != MOSQ_ERR_SUCCESS)
		lost(w, cs);
	cs->inflight++;
	w->inflight++;
	w->counts.messages++;
	return 0;
}

static void publish(struct worker *w, struct sim_meter *m, const struct sim_reading *r, int n)
{
	struct conn_state *cs = &w->all[m->conn];
	const struct sim_faults *fa = &w->o->faults;
	int len = sim_payload(w->buf, sizeof w->buf, m, r, n);
	if (len < 0) {
		snprintf(w->errmsg, sizeof w->errmsg, "payload of %d readings over %zu bytes", n,
		         sizeof w->buf);
		w->err = ASKUE_ERR_LIMIT;
		return;
	}
	if (send_one(w, cs, m->topic, w->buf, len) != 0)
		return;
	w->counts.readings += n;
	w->counts.readings_sent += n;
	if (n > 1)
		w->counts.backlog_messages++;
	record(w, m, r, n);
	if (fa->duplicate_ppm && sim_rand_ppm(&m->rng) < fa->duplicate_ppm &&
	    send_one(w, cs, m->topic, w->buf, len) == 0) {
		w->counts.duplicates++;
		w->counts.readings_sent += n;
	}
	if (fa->malformed_ppm && sim_rand_ppm(&m->rng) < fa->malformed_ppm) {
		int bad = sim_payload_malformed(w->bad, sizeof w->bad, m, &r[0],
		                                (unsigned)w->counts.malformed);
		if (bad >= 0 && send_one(w, cs, m->topic, w->bad, bad) == 0)
			w->counts.malformed++;
	}
}

/* The meter's retained status, as its last will would leave it. */
static void publish_status(struct worker *w, struct sim_meter *m, const char *status)
{
	char topic[sizeof m->topic];
	snprintf(topic, sizeof topic, "meters/%s/status", m->serial);
	struct conn_state *cs = &w->all[m->conn];
	if (cs->state == -1)
		return;
	while (cs->state != -1 && (cs->state != 1 || cs->inflight >= w->o->inflight))
		pump(w, 10);
	if (cs->state == 1 &&
	    mosquitto_publish(cs->mosq, NULL, topic, (int)strlen(status), status, 1, true) ==
	            MOSQ_ERR_SUCCESS) {
		cs->inflight++;
		w->inflight++;
		w->counts.messages++;
		w->counts.status_messages++;
	}
}

static void status_all(struct worker *w, const char *status, int64_t k)
{
	for (int i = 0; i < w->meters_count && !w->err; i++) {
		struct sim_meter *m = &w->f->meters[w->meters[i]];
		if (!m->silent_from || k < m->silent_from)
			publish_status(w, m, status);
	}
}

static struct pending *pending_of(struct worker *w, int i)
{
	if (!w->pend[i]) {
		int cap = w->o->faults.backlog_size > 1 ? w->o->faults.backlog_size : 2;
		w->pend[i] = calloc(1, sizeof(struct pending) + (size_t)cap * sizeof(struct sim_reading));
	}
	return w->pend[i];
}

/* A backlog dump goes out in a shuffled order: out of order as well. */
static void flush_backlog(struct worker *w, struct sim_meter *m, struct pending *pd)
{
	for (int i = pd->n - 1; i > 0; i--) {
		int j = (int)(sim_rand(&m->rng) % (uint64_t)(i + 1));
		struct sim_reading t = pd->r[i];
		pd->r[i] = pd->r[j];
		pd->r[j] = t;
	}
	if (pd->n > 0)
		publish(w, m, pd->r, pd->n);
	pd->n = 0;
}

static void meter_step(struct worker *w, int i, int64_t k)
{
	struct sim_meter *m = &w->f->meters[w->meters[i]];
	if (w->all[m->conn].state == -1)
		return;
	int back = sim_meter_advance(m, w->p, w->zones, w->o, k);
	if (m->silent_from && k >= m->silent_from) {
		if (k == m->silent_from) {
			w->counts.silent_meters++;
			if (w->o->status)
				publish_status(w, m, "offline");
		}
		return;
	}
	struct sim_reading r = {.ts = w->o->start_s + k * w->o->interval_s};
	memcpy(r.reg_wh, m->reg_wh, sizeof r.reg_wh);
	if (back)
		w->counts.backwards++;
	if (!m->backlog && !m->reorder) {
		publish(w, m, &r, 1);
		return;
	}
	struct pending *pd = pending_of(w, i);
	if (!pd) {
		snprintf(w->errmsg, sizeof w->errmsg, "out of memory");
		w->err = ASKUE_ERR_NOMEM;
		return;
	}
	pd->r[pd->n++] = r;
	if (m->backlog && pd->n >= w->o->faults.backlog_size) {
		flush_backlog(w, m, pd);
	} else if (m->reorder && pd->n == 2) {
		/* The later reading first, then the earlier one. */
		publish(w, m, &pd->r[1], 1);
		publish(w, m, &pd->r[0], 1);
		w->counts.reordered++;
		pd->n = 0;
	}
}

static void flush_all(struct worker *w)
{
	for (int i = 0; i < w->meters_count && !w->err; i++) {
		struct sim_meter *m = &w->f->meters[w->meters[i]];
		if (w->pend[i] && w->pend[i]->n && w->all[m->conn].state != -1)
			flush_backlog(w, m, w->pend[i]);
	}
}

static int all_connected(struct worker *w)
{
	for (int i = 0; i < w->conns_count; i++)
		if (w->conns[i]->state == 0 || w->conns[i]->state == -2)
			return 0;
	return 1;
}

static enum askue_err connect_all(struct worker *w)
{
	for (int i = 0; i < w->conns_count; i++) {
		struct conn_state *cs = w->conns[i];
		int rc = mosquitto_connect(cs->mosq, w->o->host, w->o->port, w->o->keepalive_s);
		if (rc != MOSQ_ERR_SUCCESS) {
			return askue_err_set(ASKUE_ERR_IO, "connect %s to %s:%d: %s",
			                     cs->conn->client_id, w->o->host, w->o->port,
			                     rc == MOSQ_ERR_ERRNO ? strerror(errno)
			                                          : mosquitto_strerror(rc));
		}
		w->connecting++;
		enum askue_err err = watch(w, cs);
		if (err != ASKUE_OK)
			return err;
		int64_t deadline = now_ns() + (int64_t)CONNECT_WAIT_MS * 1000000;
		while (w->connecting >= CONNECTING_MAX && now_ns() < deadline)
			pump(w, 5);
	}
	int64_t deadline = now_ns() + (int64_t)CONNECT_WAIT_MS * 1000000;
	while (!all_connected(w) && now_ns() < deadline)
		pump(w, 50);
	for (int i = 0; i < w->conns_count; i++) {
		struct conn_state *cs = w->conns[i];
		if (cs->state == -1) {
			w->counts.refused++;
			log_warnx("sim", "connection %s refused: %s", cs->conn->client_id,
			          mosquitto_connack_string(cs->refused_rc));
		} else if (cs->state != 1) {
			return askue_err_set(ASKUE_ERR_IO, "connection %s: no CONNACK in %d ms",
			                     cs->conn->client_id, CONNECT_WAIT_MS);
		}
	}
	return ASKUE_OK;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t t_start = now_ns();
	enum askue_err err = connect_all(w);
	if (err != ASKUE_OK) {
		snprintf(w->errmsg, sizeof w->errmsg, "%s", askue_err_msg());
		w->err = err;
		return NULL;
	}
	w->t0_ns = w->misc_ns = now_ns();
	w->counts.connect_ms = (w->t0_ns - t_start) / 1000000;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	w->counts.publish_start_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	if (w->o->status)
		status_all(w, "online", 0);
	for (int64_t k = 1; k <= w->o->steps && !w->err; k++) {
		for (int i = 0; i < w->meters_count && !w->err; i++)
			meter_step(w, i, k);
		pump(w, 0);
	}
	flush_all(w);
	if (w->o->status)
		status_all(w, "offline", w->o->steps + 1);
	int64_t deadline = now_ns() + (int64_t)DRAIN_WAIT_MS * 1000000;
	while (w->inflight > 0 && now_ns() < deadline)
		pump(w, 20);
	for (int i = 0; i < w->conns_count; i++)
		if (w->conns[i]->state == 1)
			mosquitto_disconnect(w->conns[i]->mosq);
	if (!w->err && w->inflight > 0) {
		snprintf(w->errmsg, sizeof w->errmsg, "%lld messages unacknowledged after %d ms",
		         (long long)w->inflight, DRAIN_WAIT_MS);
		w->err = ASKUE_ERR_IO;
	}
	return NULL;
}

static enum askue_err conn_new(struct conn_state *cs, struct sim_conn *c, struct worker *w)
{
	cs->conn = c;
	cs->w = w;
	cs->mosq = mosquitto_new(c->client_id, true, cs);
	if (!cs->mosq)
		return askue_err_set(ASKUE_ERR_NOMEM, "mosquitto_new: %s", strerror(errno));
	if (c->username[0] &&
	    mosquitto_username_pw_set(cs->mosq, c->username, c->has_password ? c->password : NULL))
		return askue_err_set(ASKUE_ERR_NOMEM, "mosquitto_username_pw_set failed");
	/* Our own window bounds what is unacknowledged; libmosquitto's would
	 * queue behind it without limit. */
	mosquitto_max_inflight_messages_set(cs->mosq, 0);
	/* A meter's own connection leaves "offline" when it drops. */
	if (w->o->status && c->meter >= 0) {
		const struct sim_meter *m = &w->f->meters[c->meter];
		char topic[sizeof m->topic];
		snprintf(topic, sizeof topic, "meters/%s/status", m->serial);
		if (mosquitto_will_set(cs->mosq, topic, 7, "offline", 1, true) != MOSQ_ERR_SUCCESS)
			return askue_err_set(ASKUE_ERR_INVALID, "will on %s refused", topic);
	}
	mosquitto_connect_callback_set(cs->mosq, on_connect);
	mosquitto_disconnect_callback_set(cs->mosq, on_disconnect);
	mosquitto_publish_callback_set(cs->mosq, on_publish);
	return ASKUE_OK;
}

/* Deal the connections [first, end) and their meters out to the workers. */
static enum askue_err workers_setup(struct worker *ws, int nw, struct conn_state *all,
                                    struct sim_fleet *f, const struct sim_options *o)
{
	int first = o->conn_first, end = o->conn_end;
	for (int t = 0; t < nw; t++) {
		ws[t].conns = calloc((size_t)((end - first) / nw + 1), sizeof *ws[t].conns);
		ws[t].meters = calloc((size_t)f->meters_count, sizeof *ws[t].meters);
		ws[t].epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!ws[t].conns || !ws[t].meters || ws[t].epfd < 0)
			return askue_err_set(ASKUE_ERR_NOMEM, "workers: %s", strerror(errno));
	}
	for (int c = first; c < end; c++) {
		struct worker *w = &ws[(c - first) % nw];
		enum askue_err err = conn_new(&all[c], &f->conns[c], w);
		if (err != ASKUE_OK)
			return err;
		w->conns[w->conns_count++] = &all[c];
	}
	for (int i = 0; i < f->meters_count; i++) {
		int c = f->meters[i].conn;
		if (c >= first && c < end) {
			struct worker *w = &ws[(c - first) % nw];
			w->meters[w->meters_count++] = i;
		}
	}
	for (int t = 0; t < nw; t++) {
		ws[t].pend = calloc((size_t)ws[t].meters_count + 1, sizeof *ws[t].pend);
		if (!ws[t].pend)
			return askue_err_set(ASKUE_ERR_NOMEM, "workers: out of memory");
	}
	return ASKUE_OK;
}

static void workers_free(struct worker *ws, int nw, struct conn_state *all, const struct sim_options *o)
{
	for (int c = o->conn_first; c < o->conn_end; c++)
		if (all[c].mosq)
			mosquitto_destroy(all[c].mosq);
	for (int t = 0; t < nw; t++) {
		for (int i = 0; ws[t].pend && i < ws[t].meters_count; i++)
			free(ws[t].pend[i]);
		free(ws[t].pend);
		free(ws[t].conns);
		free(ws[t].meters);
		if (ws[t].epfd >= 0)
			close(ws[t].epfd);
	}
}

enum askue_err sim_run(struct sim_fleet *f, const struct sim_profiles *p,
                       const struct sim_options *o, FILE *readings_out, struct sim_counts *counts)
{
	int nconns = o->conn_end - o->conn_first;
	int nw = o->threads < nconns ? o->threads : nconns;
	uint8_t *zones = NULL;
	enum askue_err err = sim_zones_prepare(o, &zones);
	if (err != ASKUE_OK)
		return err;
	struct worker *ws = calloc((size_t)nw, sizeof *ws);
	struct conn_state *all = calloc((size_t)f->conns_count, sizeof *all);
	if (!ws || !all) {
		err = askue_err_set(ASKUE_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int t = 0; t < nw; t++) {
		ws[t] = (struct worker){.o = o, .f = f, .p = p, .zones = zones, .all = all, .epfd = -1,
		                        .rate = o->rate / nw};
	}
	readings_file = readings_out;
	if ((err = workers_setup(ws, nw, all, f, o)) != ASKUE_OK)
		goto out;
	int started = 0;
	for (; started < nw; started++)
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0)
			break;
	for (int t = 0; t < started; t++)
		pthread_join(ws[t].thread, NULL);
	if (started < nw)
		err = askue_err_set(ASKUE_ERR_NOMEM, "pthread_create failed");
	*counts = (struct sim_counts){0};
	for (int t = 0; t < nw; t++) {
		sim_counts_add(counts, &ws[t].counts);
		if (ws[t].err && err == ASKUE_OK)
			err = askue_err_set(ws[t].err, "%s", ws[t].errmsg);
	}
out:
	if (ws)
		workers_free(ws, nw, all, o);
	free(ws);
	free(all);
	free(zones);
	return err;
}
