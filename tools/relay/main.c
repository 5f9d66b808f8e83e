/* askue-relay — the event journal -> MQTT askue/events/{type}.
 *
 *   askue-relay [--config FILE] [--once [--timeout SECONDS]]
 *
 * A daemon by default; --once publishes what is pending when it starts,
 * waits for the broker's acknowledgements and exits (tests, and a systemd
 * timer as a fallback). One relay per reader name and ledger: a lock file
 * beside the ledger keeps a second one out (a --once that finds the daemon
 * running leaves the work to it and exits 0).
 *
 * Signals: SIGTERM/SIGINT stop cleanly (wait up to drain_timeout_s for the
 * acknowledgements, write the cursor, disconnect, exit 0); SIGHUP reopens
 * [relay] log_file. Exit codes are sysexits.h: EX_CONFIG for a bad
 * configuration, EX_TEMPFAIL when another relay holds the lock or --once
 * timed out. See docs/events.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "relay.h"

#define ONCE_TIMEOUT_S_DEFAULT 60

static void usage(FILE *out)
{
	fprintf(out, "usage: askue-relay [--config FILE] [--once [--timeout SECONDS]]\n"
	             "Publishes every event of the ledger's journal to MQTT askue/events/{type},\n"
	             "at least once, in order. --once: what is pending now, then exit (default\n"
	             "timeout %d s). See docs/events.md.\n", ONCE_TIMEOUT_S_DEFAULT);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		relay_hup_requested = 1;
	else
		relay_stop_requested = 1;
}

/* No SA_RESTART: a signal cuts the network wait short. */
static void set_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* 0: locked; 1: another relay holds it; -1: error (logged). */
static int take_lock(const struct askue_config *cfg, int *fd_out)
{
	char path[ASKUE_PATH_MAX + 96];
	snprintf(path, sizeof path, "%s-relay-%s.lock", cfg->ledger_path, cfg->relay_reader);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("main", "lock file %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;
		if (!busy)
			log_warn("main", "lock %s", path);
		close(fd);
		return busy ? 1 : -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n)
		log_warn("main", "lock file %s: pid not written", path);
	*fd_out = fd;
	return 0;
}

static int fail(enum askue_err err)
{
	log_error("main", "%s", askue_err_msg());
	return askue_err_exit_code(err);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"once", no_argument, NULL, 'o'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	const char *config_path = NULL;
	struct relay_opts o = {.timeout_ms = ONCE_TIMEOUT_S_DEFAULT * 1000};
	int c, timeout_given = 0;
	askue_log_init("askue-relay");
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'o': o.once = 1; break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 86400) {
				fprintf(stderr, "askue-relay: --timeout '%s': expected 1..86400 seconds\n",
				        optarg);
				return EX_USAGE;
			}
			o.timeout_ms = v * 1000;
			timeout_given = 1;
			break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc || (timeout_given && !o.once)) {
		usage(stderr);
		return EX_USAGE;
	}
	static struct askue_config cfg;
	enum askue_err err = askue_config_load(config_path, &cfg);
	if (!err)
		err = askue_config_apply(&cfg);
	if (!err)
		err = outbox_reader_check(cfg.relay_reader);
	if (err)
		return fail(err);
	if (cfg.relay_log_file[0] && askue_log_reopen(cfg.relay_log_file) != 0) {
		log_warn("main", "cannot open %s", cfg.relay_log_file);
		return EX_CANTCREAT;
	}
	set_signals();
	struct askue_ledger *l = NULL;
	if ((err = askue_ledger_open(cfg.ledger_path, cfg.ledger_busy_timeout_ms, "askue-relay", &l)))
		return fail(err);
	int lock_fd = -1;
	int locked = take_lock(&cfg, &lock_fd);
	if (locked != 0) {
		askue_ledger_close(l);
		if (locked < 0)
			return EX_CANTCREAT;
		if (o.once) {
			log_info("main", "another askue-relay publishes for reader %s: nothing to do",
			         cfg.relay_reader);
			return EX_OK;
		}
		log_error("main", "another askue-relay already publishes for reader %s from %s",
		          cfg.relay_reader, cfg.ledger_path);
		return EX_TEMPFAIL;
	}
	log_info("main", "%s: %s -> %s:%lld askue/events/# as %s", o.once ? "once" : "running",
	         cfg.ledger_path, cfg.mqtt_host, (long long)cfg.mqtt_port, cfg.relay_username);
	err = relay_run(&cfg, l, &o);
	askue_ledger_close(l);
	close(lock_fd);
	if (err)
		return err == ASKUE_ERR_BUSY ? (log_error("main", "%s", askue_err_msg()), EX_TEMPFAIL)
		                             : fail(err);
	return EX_OK;
}
