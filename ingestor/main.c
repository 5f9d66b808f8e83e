/* askue-ingestor — MQTT readings -> durable spool -> InfluxDB.
 *
 *   askue-ingestor [--config FILE]
 *
 * Signals: SIGTERM/SIGINT stop in order (disconnect, write what the spool
 * holds for at most drain_timeout_s, exit 0); SIGHUP reopens the log file.
 * Exit codes are sysexits.h: EX_CONFIG for a bad configuration, EX_IOERR
 * when the spool or rejects directory cannot be used. See docs/ingestor.md.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "config.h"
#include "ingestor.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: askue-ingestor [--config FILE]\n"
	             "Takes meter readings from MQTT (meters/+/readings, QoS 1, shared\n"
	             "subscription) into InfluxDB through a durable spool. See docs/ingestor.md.\n");
}

static int fail(enum askue_err err)
{
	log_error("main", "%s", askue_err_msg());
	return askue_err_exit_code(err);
}

static void mkdir_p_home(const struct askue_config *cfg)
{
	if (mkdir(cfg->home, 0750) != 0 && errno != EEXIST)
		log_warn("main", "mkdir %s", cfg->home);
}

/* Block the signals in every thread; main takes them with sigtimedwait. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(const sigset_t *set, const char *log_file)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);
		if (sig == SIGHUP) {
			if (log_file[0] && askue_log_reopen(log_file) != 0)
				log_warn("main", "cannot reopen %s", log_file);
			else
				log_info("main", "SIGHUP: log reopened");
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("main", "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *config_path = NULL;
	int c;
	askue_log_init("askue-ingestor");
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c')
			config_path = optarg;
		else if (c == 'h') {
			usage(stdout);
			return EX_OK;
		} else {
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	static struct askue_config cfg;
	enum askue_err err = askue_config_load(config_path, &cfg);
	if (!err)
		err = askue_config_apply(&cfg);
	if (err)
		return fail(err);
	if (cfg.ingestor_log_file[0] && askue_log_reopen(cfg.ingestor_log_file) != 0) {
		log_warn("main", "cannot open %s", cfg.ingestor_log_file);
		return EX_CANTCREAT;
	}
	sigset_t set;
	block_signals(&set);
	mkdir_p_home(&cfg);

	static struct health health;
	struct spool *sp = NULL;
	struct rejects *rj = NULL;
	struct writer *w = NULL;
	struct mqtt *m = NULL;
	err = spool_open(cfg.ingestor_spool_dir, (uint64_t)cfg.ingestor_spool_bytes_max,
	                 (int)cfg.ingestor_spool_fsync, &sp);
	if (!err)
		err = rejects_open(cfg.ingestor_rejects_dir, &rj);
	if (!err)
		err = writer_start(&cfg, sp, rj, &health, &w);
	if (!err)
		err = mqtt_start(&cfg, sp, rj, &health, &m);
	if (err) {
		int code = fail(err);
		writer_stop(w, 0);
		rejects_close(rj);
		spool_close(sp);
		return code;
	}
	log_info("main", "running: %s:%lld -> %s db %s; spool %s (%s), rejects %s",
	         cfg.mqtt_host, (long long)cfg.mqtt_port, cfg.influx_url, cfg.influx_database,
	         cfg.ingestor_spool_dir, cfg.ingestor_spool_fsync ? "fdatasync per message"
	         : "no fsync", cfg.ingestor_rejects_dir);
	wait_for_stop(&set, cfg.ingestor_log_file);
	mqtt_stop(m);
	writer_stop(w, cfg.ingestor_drain_timeout_s);
	rejects_close(rj);
	spool_close(sp);
	log_info("main", "stopped");
	return EX_OK;
}
