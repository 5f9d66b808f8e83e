/* auth-storm — a reconnect storm against an MQTT broker: W threads, each
 * connecting as the next meter of a credentials file, waiting for the
 * CONNACK, disconnecting, and again, for S seconds. Prints one line:
 *
 *   accepted N refused N errors N seconds S rate R/s p50_ms X p99_ms Y
 *
 * usage: auth-storm HOST PORT USERS_FILE SECONDS WORKERS [right|wrong] [CAFILE]
 * USERS_FILE has "username password" lines; with "wrong" every password is
 * spoiled (a storm of refusals); with CAFILE every connection is TLS,
 * checking the broker's certificate against that CA (a full handshake each
 * time, as a meter after an outage makes). Each connection comes from another source
 * address of 127.0.0.0/8: a storm of 10,000/s from one address would fill
 * its ephemeral ports with TIME_WAIT sockets within seconds, and the
 * client's port search (not the broker) would set the rate.
 */
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USERS_MAX 1000000
#define WORKERS_MAX 256
#define LAT_SLOTS 10000 /* latency histogram: 0.1 ms buckets up to 1 s */

struct user {
	char name[72];
	char pass[72];
};

static struct user *users;
static size_t n_users;
static const char *host;
static int port, seconds, wrong;
static const char *cafile;
static atomic_size_t next_user;
static atomic_long accepted, refused, errors;
static atomic_long lat_hist[LAT_SLOTS + 1];

struct conn_state {
	int done;
	int rc;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	struct conn_state *s = arg;
	s->done = 1;
	s->rc = rc;
}

/* One connect-CONNACK-disconnect; 1 accepted, 0 refused, -1 error. */
static int one(const struct user *u, const char *bind_addr)
{
	struct conn_state s = {0};
	struct mosquitto *m = mosquitto_new(u->name, true, &s);
	if (!m)
		return -1;
	char pass[80];
	snprintf(pass, sizeof pass, "%s%s", u->pass, wrong ? "x" : "");
	mosquitto_username_pw_set(m, u->name, pass);
	mosquitto_connect_callback_set(m, on_connect);
	int result = -1;
	if (cafile && mosquitto_tls_set(m, cafile, NULL, NULL, NULL, NULL) != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(m);
		return -1;
	}
	if (mosquitto_connect_bind(m, host, port, 60, bind_addr) == MOSQ_ERR_SUCCESS) {
		double t0 = now_s();
		while (!s.done && now_s() - t0 < 10) {
			int rc = mosquitto_loop(m, cafile ? 2 : 100, 1);
			if (rc != MOSQ_ERR_SUCCESS && !s.done)
				break;
		}
		if (s.done) {
			result = s.rc == 0 ? 1 : 0;
			long slot = (long)((now_s() - t0) * 1e4);
			atomic_fetch_add(&lat_hist[slot > LAT_SLOTS ? LAT_SLOTS : slot], 1);
		}
		if (result == 1) {
			mosquitto_disconnect(m);
			mosquitto_loop(m, 10, 1);
		}
	}
	mosquitto_destroy(m);
	return result;
}

static void *worker(void *arg)
{
	(void)arg;
	char bind_addr[32];
	double end = now_s() + seconds;
	while (now_s() < end) {
		size_t k = atomic_fetch_add(&next_user, 1), i = k % n_users;
		size_t a = k % (200 * 250);
		snprintf(bind_addr, sizeof bind_addr, "127.10.%zu.%zu", a / 250, 2 + a % 250);
		int r = one(&users[i], bind_addr);
		atomic_fetch_add(r == 1 ? &accepted : r == 0 ? &refused : &errors, 1);
	}
	return NULL;
}

static double percentile(double p)
{
	long total = 0, seen = 0;
	for (int i = 0; i <= LAT_SLOTS; i++)
		total += lat_hist[i];
	for (int i = 0; i <= LAT_SLOTS; i++) {
		seen += lat_hist[i];
		if (total && seen >= (long)(p * (double)total))
			return i / 10.0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr,
		        "usage: auth-storm HOST PORT USERS_FILE SECONDS WORKERS [right|wrong] [CAFILE]\n");
		return 64;
	}
	host = argv[1];
	port = atoi(argv[2]);
	seconds = atoi(argv[4]);
	int workers = atoi(argv[5]);
	wrong = argc > 6 && !strcmp(argv[6], "wrong");
	cafile = argc > 7 ? argv[7] : NULL;
	if (port < 1 || seconds < 1 || workers < 1 || workers > WORKERS_MAX) {
		fprintf(stderr, "auth-storm: bad port, seconds or workers (1..%d)\n", WORKERS_MAX);
		return 64;
	}
	FILE *f = fopen(argv[3], "r");
	if (!f) {
		perror(argv[3]);
		return 66;
	}
	users = calloc(USERS_MAX, sizeof *users);
	if (!users)
		return 71;
	while (n_users < USERS_MAX &&
	       fscanf(f, "%71s %71s", users[n_users].name, users[n_users].pass) == 2)
		n_users++;
	fclose(f);
	if (!n_users) {
		fprintf(stderr, "auth-storm: %s: no users\n", argv[3]);
		return 65;
	}
	mosquitto_lib_init();
	pthread_t t[WORKERS_MAX];
	double t0 = now_s();
	for (int w = 0; w < workers; w++)
		pthread_create(&t[w], NULL, worker, (void *)(intptr_t)w);
	for (int w = 0; w < workers; w++)
		pthread_join(t[w], NULL);
	double dt = now_s() - t0;
	long ok = accepted, no = refused;
	printf("accepted %ld refused %ld errors %ld seconds %.1f rate %.0f/s p50_ms %.1f p99_ms %.1f\n",
	       ok, no, (long)errors, dt, (double)(ok + no) / dt, percentile(0.5), percentile(0.99));
	mosquitto_lib_cleanup();
	free(users);
	return 0;
}
