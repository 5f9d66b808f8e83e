/* askue-sim — the meter simulator and load generator.
 *
 *   askue-sim --no-auth --meters 100 --days 30 --interval 1d
 *   askue-sim --credentials creds.csv --start 2026-10-01 --days 31 --rate 2000
 *
 * Reads the broker's address from askue.conf ([mqtt] host, port) unless
 * --host/--port say otherwise. See docs/stack.md and `askue-sim --help`.
 */
#include <getopt.h>
#include <libgen.h>
#include <mosquitto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "date.h"
#include "log.h"
#include "sim.h"

/* The team's household data set, referred to by path (its README asks that
 * no copy be committed): the shared folder beside the repository. */
#define SIM_DATA_RELATIVE "../shared/data/sgsc_dev_halfhourly.csv.gz"

static const char usage_text[] =
	"usage: askue-sim [OPTIONS]\n"
	"meters (one of):\n"
	"  --credentials FILE   serial,password[,zones] or concentrator,password,serial[,zones]\n"
	"  --no-auth            generated meters, no passwords (a broker allowing anonymous)\n"
	"  --meters N           how many (generated: required; credentials: at most N)\n"
	"  --serial-prefix P    generated serials P000001.. (default SIM)\n"
	"  --concentrators K    generated: K connections publishing for all meters\n"
	"  --two-zone F         fraction of two-zone meters when the file has no zones (0.3)\n"
	"time:\n"
	"  --start DATE|@UNIX   first instant (local midnight of DATE); default DAYS ago\n"
	"  --days N             how long (30)   --interval 1d|1h|30m   between readings (1d)\n"
	"  --rate R             messages/s in all (0 = as fast as possible, the default)\n"
	"data:\n"
	"  --data FILE          half-hourly CSV customer_id,timestamp,kwh (.gz ok);\n"
	"                       default $ASKUE_SIM_DATA, else " SIM_DATA_RELATIVE "\n"
	"  --profiles N         households to load (16)   --seed S   --initial-kwh MAX\n"
	"faults (fractions 0..1):\n"
	"  --silent F --duplicates F --reorder F --backlog F [--backlog-size K (48)]\n"
	"  --malformed F --backwards F\n"
	"output:\n"
	"  --manifest FILE      JSON counts of what was published and acknowledged\n"
	"  --readings-out FILE  serial,ts,ai_wh,t1_wh,t2_wh per distinct reading\n"
	"  --quiet              no summary line\n"
	"  --status             retained meters/SERIAL/status online, offline at the end or\n"
	"                       when silent (and as the last will of a meter's connection)\n"
	"broker and workers:\n"
	"  --host H --port P    default askue.conf [mqtt]   --config FILE\n"
	"  --threads T (2)  --procs P (auto)  --inflight W (64)\n";

struct args {
	const char *config, *credentials, *data, *manifest, *readings_out;
	const char *prefix, *host, *start;
	int no_auth, meters, concentrators, profiles, days, port, procs;
	uint32_t two_zone_ppm;
};

static int bad(const char *fmt, const char *a)
{
	fprintf(stderr, "askue-sim: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	return EX_USAGE;
}

static int int_arg(const char *name, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "askue-sim: %s '%s': expected an integer %ld..%ld\n", name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int ppm_arg(const char *name, const char *s, uint32_t *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "askue-sim: %s '%s': expected a fraction 0..1\n", name, s);
		return -1;
	}
	*out = (uint32_t)(v * 1000000 + 0.5);
	return 0;
}

static int interval_arg(const char *s, int64_t *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	int64_t unit = !strcmp(end, "d") ? 86400 : !strcmp(end, "h") ? 3600
	             : !strcmp(end, "m") ? 60 : !strcmp(end, "s") || !*end ? 1 : 0;
	if (v <= 0 || unit == 0 || v > 366 * 86400 / unit || (v * unit) % SIM_SLOT_S != 0) {
		fprintf(stderr, "askue-sim: --interval '%s': expected a multiple of 30m (30m, 1h, 1d)\n",
		        s);
		return -1;
	}
	*out = v * unit;
	return 0;
}

static int start_arg(const char *s, int days, int64_t *out)
{
	struct askue_date d;
	if (!s) {
		d = askue_date_add_days(askue_date_today(), -days);
	} else if (s[0] == '@') {
		long v;
		if (int_arg("--start", s + 1, 0, 4102444800L, &v) != 0)
			return -1;
		if (v % SIM_SLOT_S) {
			fprintf(stderr, "askue-sim: --start %s: not on a half-hour\n", s);
			return -1;
		}
		*out = v;
		return 0;
	} else if (askue_date_parse(s, &d) != ASKUE_OK) {
		fprintf(stderr, "askue-sim: --start: %s\n", askue_err_msg());
		return -1;
	}
	if (askue_date_start(d, out) != ASKUE_OK) {
		fprintf(stderr, "askue-sim: --start: %s\n", askue_err_msg());
		return -1;
	}
	return 0;
}

enum {
	O_CREDS = 256, O_NOAUTH, O_METERS, O_PREFIX, O_CONC, O_TWOZONE, O_START, O_DAYS, O_INTERVAL,
	O_RATE, O_DATA, O_PROFILES, O_SEED, O_INITIAL, O_SILENT, O_DUP, O_REORDER, O_BACKLOG,
	O_BACKLOG_SIZE, O_MALFORMED, O_BACKWARDS, O_MANIFEST, O_READINGS, O_QUIET, O_HOST, O_PORT, O_STATUS,
	O_CONFIG, O_THREADS, O_PROCS, O_INFLIGHT, O_HELP
};

static const struct option longopts[] = {
	{"credentials", 1, 0, O_CREDS}, {"no-auth", 0, 0, O_NOAUTH}, {"meters", 1, 0, O_METERS},
	{"serial-prefix", 1, 0, O_PREFIX}, {"concentrators", 1, 0, O_CONC},
	{"two-zone", 1, 0, O_TWOZONE}, {"start", 1, 0, O_START}, {"days", 1, 0, O_DAYS},
	{"interval", 1, 0, O_INTERVAL}, {"rate", 1, 0, O_RATE}, {"data", 1, 0, O_DATA},
	{"profiles", 1, 0, O_PROFILES}, {"seed", 1, 0, O_SEED}, {"initial-kwh", 1, 0, O_INITIAL},
	{"silent", 1, 0, O_SILENT}, {"duplicates", 1, 0, O_DUP}, {"reorder", 1, 0, O_REORDER},
	{"backlog", 1, 0, O_BACKLOG}, {"backlog-size", 1, 0, O_BACKLOG_SIZE},
	{"malformed", 1, 0, O_MALFORMED}, {"backwards", 1, 0, O_BACKWARDS},
	{"manifest", 1, 0, O_MANIFEST}, {"readings-out", 1, 0, O_READINGS},
	{"quiet", 0, 0, O_QUIET}, {"status", 0, 0, O_STATUS}, {"host", 1, 0, O_HOST}, {"port", 1, 0, O_PORT},
	{"config", 1, 0, O_CONFIG}, {"threads", 1, 0, O_THREADS}, {"procs", 1, 0, O_PROCS},
	{"inflight", 1, 0, O_INFLIGHT}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};

static int parse_fault(int c, const char *arg, struct sim_faults *fa)
{
	switch (c) {
	case O_SILENT: return ppm_arg("--silent", arg, &fa->silent_ppm);
	case O_DUP: return ppm_arg("--duplicates", arg, &fa->duplicate_ppm);
	case O_REORDER: return ppm_arg("--reorder", arg, &fa->reorder_ppm);
	case O_BACKLOG: return ppm_arg("--backlog", arg, &fa->backlog_ppm);
	case O_MALFORMED: return ppm_arg("--malformed", arg, &fa->malformed_ppm);
	case O_BACKWARDS: return ppm_arg("--backwards", arg, &fa->backwards_ppm);
	default: {
		long v;
		if (int_arg("--backlog-size", arg, 2, SIM_BACKLOG_MAX, &v) != 0)
			return -1;
		fa->backlog_size = (int)v;
		return 0;
	}
	}
}

static int parse_args(int argc, char **argv, struct args *a, struct sim_options *o)
{
	int c;
	long v;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *s = optarg;
		int rc = 0;
		switch (c) {
		case O_CREDS: a->credentials = s; break;
		case O_NOAUTH: a->no_auth = 1; break;
		case O_METERS: rc = int_arg("--meters", s, 1, 10000000, &v); a->meters = (int)v; break;
		case O_PREFIX: a->prefix = s; break;
		case O_CONC: rc = int_arg("--concentrators", s, 1, 1000000, &v); a->concentrators = (int)v; break;
		case O_TWOZONE: rc = ppm_arg("--two-zone", s, &a->two_zone_ppm); break;
		case O_START: a->start = s; break;
		case O_DAYS: rc = int_arg("--days", s, 1, 3660, &v); a->days = (int)v; break;
		case O_INTERVAL: rc = interval_arg(s, &o->interval_s); break;
		case O_RATE: rc = int_arg("--rate", s, 0, 100000000, &v); o->rate = (double)v; break;
		case O_DATA: a->data = s; break;
		case O_PROFILES: rc = int_arg("--profiles", s, 1, SIM_PROFILES_MAX, &v); a->profiles = (int)v; break;
		case O_SEED: rc = int_arg("--seed", s, 0, 0x7fffffffL, &v); o->seed = (uint64_t)v; break;
		case O_INITIAL: rc = int_arg("--initial-kwh", s, 0, 1000000, &v); o->initial_kwh_max = v; break;
		case O_MANIFEST: a->manifest = s; break;
		case O_READINGS: a->readings_out = s; break;
		case O_QUIET: o->quiet = 1; break;
		case O_STATUS: o->status = 1; break;
		case O_HOST: a->host = s; break;
		case O_PORT: rc = int_arg("--port", s, 1, 65535, &v); a->port = (int)v; break;
		case O_CONFIG: a->config = s; break;
		case O_THREADS: rc = int_arg("--threads", s, 1, SIM_THREADS_MAX, &v); o->threads = (int)v; break;
		case O_PROCS: rc = int_arg("--procs", s, 1, 1000, &v); a->procs = (int)v; break;
		case O_INFLIGHT: rc = int_arg("--inflight", s, 1, SIM_INFLIGHT_MAX, &v); o->inflight = (int)v; break;
		case O_HELP: fputs(usage_text, stdout); exit(0);
		case '?': fputs(usage_text, stderr); return EX_USAGE;
		default: rc = parse_fault(c, s, &o->faults); break;
		}
		if (rc != 0)
			return EX_USAGE;
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (!a->credentials == !a->no_auth)
		return bad("%sgive --credentials FILE or --no-auth", "");
	if (a->no_auth && a->meters == 0)
		return bad("%s--no-auth needs --meters N", "");
	if (a->credentials && a->concentrators)
		return bad("%s--concentrators is for generated meters; a credentials file names them", "");
	return 0;
}

/* $ASKUE_SIM_DATA, else the shared data set beside the tree the program
 * was built in, else relative to the current directory; NULL when none is
 * there (the caller then falls back to a synthetic shape). */
static const char *default_data(char *buf, size_t size)
{
	const char *env = getenv("ASKUE_SIM_DATA");
	if (env && *env)
		return env;
	char exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* build/rel/askue-sim -> the tree's root */
		snprintf(buf, size, "%s/../../" SIM_DATA_RELATIVE, dirname(exe));
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return access(SIM_DATA_RELATIVE, R_OK) == 0 ? SIM_DATA_RELATIVE : NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One process's share: connections [first, end). A child sends its counts
 * up the pipe. */
static enum askue_err run_share(struct sim_fleet *f, const struct sim_profiles *p,
                                struct sim_options o, const char *readings_path,
                                struct sim_counts *counts)
{
	FILE *rf = NULL;
	if (readings_path && !(rf = fopen(readings_path, "w")))
		return askue_err_set(ASKUE_ERR_IO, "readings file %s: cannot create", readings_path);
	enum askue_err err = sim_run(f, p, &o, rf, counts);
	if (rf && fclose(rf) != 0 && err == ASKUE_OK)
		err = askue_err_set(ASKUE_ERR_IO, "readings file %s: write failed", readings_path);
	return err;
}

static int append_file(FILE *out, const char *path)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(path, "r");
	if (!in)
		return -1;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	unlink(path);
	return 0;
}

/* Several processes when one cannot hold the descriptors of all the
 * connections. */
static enum askue_err run_procs(struct sim_fleet *f, const struct sim_profiles *p,
                                struct sim_options *o, int procs, const char *readings_path,
                                struct sim_counts *counts)
{
	pid_t pids[1000];
	int fds[1000];
	char part[1100];
	int per = (f->conns_count + procs - 1) / procs;
	enum askue_err err = ASKUE_OK;
	fflush(NULL);
	for (int i = 0; i < procs; i++) {
		int pfd[2];
		if (pipe(pfd) != 0 || (pids[i] = fork()) < 0)
			return askue_err_set(ASKUE_ERR_IO, "fork: cannot start worker processes");
		if (pids[i] == 0) {
			close(pfd[0]);
			struct sim_options so = *o;
			so.conn_first = i * per;
			so.conn_end = (i + 1) * per < f->conns_count ? (i + 1) * per : f->conns_count;
			so.rate = o->rate / procs;
			snprintf(part, sizeof part, "%s.part%d", readings_path ? readings_path : "", i);
			struct sim_counts c = {0};
			enum askue_err e = so.conn_first < so.conn_end
			                           ? run_share(f, p, so, readings_path ? part : NULL, &c)
			                           : ASKUE_OK;
			if (e != ASKUE_OK)
				fprintf(stderr, "askue-sim: worker %d: %s\n", i, askue_err_msg());
			if (write(pfd[1], &c, sizeof c) != (ssize_t)sizeof c)
				_exit(EX_IOERR);
			_exit(e == ASKUE_OK ? 0 : askue_err_exit_code(e));
		}
		close(pfd[1]);
		fds[i] = pfd[0];
	}
	FILE *out = readings_path ? fopen(readings_path, "w") : NULL;
	for (int i = 0; i < procs; i++) {
		struct sim_counts c = {0};
		if (read(fds[i], &c, sizeof c) == (ssize_t)sizeof c)
			sim_counts_add(counts, &c);
		close(fds[i]);
		int status;
		waitpid(pids[i], &status, 0);
		if ((!WIFEXITED(status) || WEXITSTATUS(status) != 0) && err == ASKUE_OK)
			err = askue_err_set(ASKUE_ERR_IO, "worker process %d failed", i);
		snprintf(part, sizeof part, "%s.part%d", readings_path ? readings_path : "", i);
		if (out)
			append_file(out, part);
	}
	if (out && fclose(out) != 0 && err == ASKUE_OK)
		err = askue_err_set(ASKUE_ERR_IO, "readings file %s: write failed", readings_path);
	return err;
}

static enum askue_err setup(struct args *a, struct sim_options *o, struct sim_fleet *f,
                            struct sim_profiles *p)
{
	struct askue_config cfg;
	enum askue_err err;
	char data_buf[1200];
	if ((err = askue_config_load(a->config, &cfg)) != ASKUE_OK ||
	    (err = askue_config_apply(&cfg)) != ASKUE_OK)
		return err;
	snprintf(o->host, sizeof o->host, "%s", a->host ? a->host : cfg.mqtt_host);
	o->port = a->port ? a->port : (int)cfg.mqtt_port;
	o->keepalive_s = (int)cfg.mqtt_keepalive_s;
	if (start_arg(a->start, a->days, &o->start_s) != 0)
		return askue_err_set(ASKUE_ERR_INVALID, "bad --start");
	o->steps = (int64_t)a->days * 86400 / o->interval_s;
	if (o->steps < 1)
		return askue_err_set(ASKUE_ERR_INVALID, "--days shorter than one --interval");
	int64_t last = o->start_s + o->steps * o->interval_s;
	if (last > (int64_t)time(NULL))
		log_warnx("sim", "readings up to %lld are in the future: an ingestor refuses "
		          "those beyond its tolerance", (long long)last);
	const char *data = a->data ? a->data : default_data(data_buf, sizeof data_buf);
	if (data) {
		if ((err = sim_profiles_load(data, a->profiles, p)) != ASKUE_OK)
			return err;
	} else {
		log_warnx("sim", "no household data set (%s beside the repository, or --data FILE, "
		          "or ASKUE_SIM_DATA): using a built-in typical household shape",
		          SIM_DATA_RELATIVE);
		if ((err = sim_profiles_synthetic(a->profiles, p)) != ASKUE_OK)
			return err;
	}
	if (a->credentials)
		err = sim_fleet_load(a->credentials, a->meters, a->two_zone_ppm, f);
	else
		err = sim_fleet_generate(a->meters, a->prefix, a->concentrators, a->two_zone_ppm, f);
	if (err != ASKUE_OK)
		return err;
	sim_fleet_prepare(f, p, o);
	return ASKUE_OK;
}

int main(int argc, char **argv)
{
	struct args a = {.prefix = "SIM", .days = 30, .profiles = 16, .two_zone_ppm = 300000};
	struct sim_options o = {.interval_s = 86400, .threads = 2, .inflight = SIM_INFLIGHT_DEFAULT,
	                        .seed = 1, .faults = {.backlog_size = 48}};
	struct sim_fleet f = {0};
	struct sim_profiles p = {0};
	struct sim_counts counts = {0};
	askue_log_init("askue-sim");
	int rc = parse_args(argc, argv, &a, &o);
	if (rc != 0)
		return rc;
	enum askue_err err = setup(&a, &o, &f, &p);
	if (err == ASKUE_OK) {
		struct timespec t0;
		int procs = a.procs ? a.procs
		                    : (f.conns_count + SIM_CONNS_PER_PROC_MAX - 1) / SIM_CONNS_PER_PROC_MAX;
		if (procs > f.conns_count)
			procs = f.conns_count;
		mosquitto_lib_init();
		clock_gettime(CLOCK_MONOTONIC, &t0);
		o.conn_first = 0;
		o.conn_end = f.conns_count;
		if (procs <= 1)
			err = run_share(&f, &p, o, a.readings_out, &counts);
		else
			err = run_procs(&f, &p, &o, procs, a.readings_out, &counts);
		double secs = seconds_since(&t0);
		mosquitto_lib_cleanup();
		if (!o.quiet && (err == ASKUE_OK || counts.messages > 0))
			sim_summary_print(stdout, &f, &counts, secs);
		if (a.manifest) {
			enum askue_err e2 = sim_manifest_write(a.manifest, &f, &o, &counts, secs);
			if (err == ASKUE_OK)
				err = e2;
		}
	}
	sim_fleet_free(&f);
	sim_profiles_free(&p);
	if (err != ASKUE_OK) {
		fprintf(stderr, "askue-sim: %s\n", askue_err_msg());
		return askue_err_exit_code(err);
	}
	if (counts.refused) {
		fprintf(stderr, "askue-sim: %lld connections refused by the broker\n",
		        (long long)counts.refused);
		return EX_NOPERM;
	}
	return 0;
}
