/* config — see config.h. One table names every setting: section, key,
 * type, default, bounds and the line of documentation the example file
 * carries. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "log.h"

enum setting_type { SET_STR, SET_INT, SET_BOOL };

struct setting {
	const char *section, *key;
	enum setting_type type;
	size_t offset, size; /* size: buffer size for SET_STR */
	const char *def;     /* "" = empty; "${home}/x" is expanded */
	int64_t min, max;
	const char *doc;
};

#define S(sec, key, field, def, doc) \
	{sec, key, SET_STR, offsetof(struct askue_config, field), \
	 sizeof(((struct askue_config *)0)->field), def, 0, 0, doc}
#define I(sec, key, field, def, lo, hi, doc) \
	{sec, key, SET_INT, offsetof(struct askue_config, field), 0, def, lo, hi, doc}
#define B(sec, key, field, def, doc) \
	{sec, key, SET_BOOL, offsetof(struct askue_config, field), 0, def, 0, 1, doc}

static const struct setting settings[] = {
	S("askue", "home", home, "./var", "state directory; default $ASKUE_HOME, else ./var"),
	S("askue", "timezone", timezone, "Europe/Moscow",
	  "the utility's time zone (zone database name): business days, periods, due dates"),
	S("askue", "log_level", log_level, "info", "debug | info | warn | error"),
	S("askue", "operator", operator_name, "",
	  "who the command line acts as in the journal; default $ASKUE_OPERATOR, else $USER"),
	S("ledger", "path", ledger_path, "${home}/askue.db", "the SQLite ledger"),
	I("ledger", "busy_timeout_ms", ledger_busy_timeout_ms, "30000", 0, 600000,
	  "how long a writer waits for another (console, jobs, command line)"),
	S("mqtt", "host", mqtt_host, "127.0.0.1", "the broker"),
	I("mqtt", "port", mqtt_port, "1883", 1, 65535, "the broker's port"),
	B("mqtt", "tls", mqtt_tls, "false", "connect with TLS (then set cafile)"),
	S("mqtt", "cafile", mqtt_cafile, "", "CA certificate that signed the broker's"),
	I("mqtt", "keepalive_s", mqtt_keepalive_s, "30", 5, 3600,
	  "MQTT keep-alive: a silent broker is noticed after 1.5 times this"),
	S("influx", "url", influx_url, "http://127.0.0.1:8086", "InfluxDB (v1 /write and /query)"),
	S("influx", "database", influx_database, "askue", "the database"),
	S("influx", "username", influx_username, "", "InfluxDB user, when auth is on"),
	S("influx", "password", influx_password, "", "InfluxDB password, when auth is on"),
	I("influx", "timeout_ms", influx_timeout_ms, "10000", 100, 600000, "one HTTP request"),
	S("ingestor", "client_id", ingestor_client_id, "askue-ingestor-1",
	  "fixed MQTT client id (persistent session); unique per ingestor"),
	S("ingestor", "username", ingestor_username, "askue-ingestor", "MQTT user (role ingestor)"),
	S("ingestor", "password", ingestor_password, "", "MQTT password of the ingestor role"),
	S("ingestor", "spool_dir", ingestor_spool_dir, "${home}/spool", "durable spool"),
	I("ingestor", "spool_bytes_max", ingestor_spool_bytes_max, "1073741824", 16777216,
	  INT64_C(1099511627776), "spool bound; when full, intake pauses (the broker keeps messages)"),
	I("ingestor", "batch_points_max", ingestor_batch_points_max, "5000", 1, 100000,
	  "points per InfluxDB write"),
	I("ingestor", "batch_ms", ingestor_batch_ms, "1000", 10, 60000,
	  "longest a point waits for its batch"),
	I("ingestor", "future_tolerance_s", ingestor_future_tolerance_s, "300", 0, 86400,
	  "a reading stamped further in the future than this is rejected"),
	B("ingestor", "spool_fsync", ingestor_spool_fsync, "true",
	  "fdatasync each message before it is acknowledged: survives a machine crash "
	  "(false: survives the death of the process only, and is faster)"),
	S("ingestor", "rejects_dir", ingestor_rejects_dir, "${home}/rejects",
	  "refused messages and readings, one file per UTC day"),
	S("ingestor", "lastseen_path", ingestor_lastseen_path, "${home}/lastseen.db",
	  "per meter: newest reading's time and when it arrived (SQLite, read by the stale job)"),
	S("ingestor", "log_file", ingestor_log_file, "", "log file (reopened on SIGHUP); empty: stderr"),
	I("ingestor", "session_expiry_s", ingestor_session_expiry_s, "604800", 60, 4294967295,
	  "how long the broker keeps the ingestor's session and messages while it is away"),
	I("ingestor", "health_interval_s", ingestor_health_interval_s, "10", 1, 3600,
	  "how often the ingest health point is written and logged"),
	I("ingestor", "lastseen_interval_s", ingestor_lastseen_interval_s, "5", 1, 3600,
	  "how often last-seen times are written to lastseen_path"),
	I("ingestor", "drain_timeout_s", ingestor_drain_timeout_s, "30", 0, 3600,
	  "on SIGTERM, how long to keep writing the spool to InfluxDB before exiting "
	  "(what is left stays in the spool)"),
	S("ingestor", "share_group", ingestor_share_group, "ingest",
	  "MQTT 5 shared subscription group ($share/GROUP/meters/+/readings) that several "
	  "ingestors split; empty: a plain subscription (one ingestor)"),
	I("ingestor", "connections", ingestor_connections, "8", 1, 32,
	  "MQTT sessions in the share group (client ids CLIENT_ID-1..N): their messages are "
	  "spooled in parallel and share fdatasyncs; 1 with an empty share_group. Lowering it "
	  "strands the messages queued for the sessions dropped until they expire: drain first"),
	S("relay", "client_id", relay_client_id, "askue-relay",
	  "MQTT client id of the event relay (one relay per ledger)"),
	S("relay", "username", relay_username, "askue-relay", "MQTT user (role relay)"),
	S("relay", "password", relay_password, "", "MQTT password of the relay role"),
	S("relay", "reader", relay_reader, "mqtt-relay",
	  "the relay's name in the ledger's outbox_cursor: the last event id the broker acknowledged"),
	I("relay", "poll_ms", relay_poll_ms, "500", 10, 60000,
	  "how often the journal is read for new events once the relay has caught up"),
	I("relay", "batch_max", relay_batch_max, "500", 1, 10000,
	  "events read from the journal in one short read; also the most acknowledged events "
	  "between two cursor writes"),
	I("relay", "inflight_max", relay_inflight_max, "100", 1, 10000,
	  "events published and not yet acknowledged by the broker (the window)"),
	I("relay", "cursor_interval_ms", relay_cursor_interval_ms, "1000", 10, 60000,
	  "longest time an acknowledged event waits before the cursor is written"),
	I("relay", "drain_timeout_s", relay_drain_timeout_s, "10", 0, 600,
	  "on SIGTERM, how long to wait for the broker's acknowledgements of what was published"),
	S("relay", "log_file", relay_log_file, "", "log file (reopened on SIGHUP); empty: stderr"),
	I("billing", "day", billing_day, "1", 1, 28, "day of the month the billing timer runs"),
	S("billing", "rules_dir", billing_rules_dir, "/etc/askue/rules",
	  "the penalty and due-date rules as data (key rates, rate caps, moratoria, the "
	  "working-day calendar, due dates: deploy/rules/*.csv), kept by accountants"),
	I("billing", "average_periods", billing_average_periods, "6", 1, 24,
	  "a silent meter is estimated by the average daily consumption of the last up to "
	  "this many measured periods (ПП 354 п. 59: 6; VERIFY)"),
	I("billing", "average_periods_min", billing_average_periods_min, "3", 1, 24,
	  "with fewer measured periods than this the norm is used instead of the average "
	  "(ПП 354 п. 59: at least 3; VERIFY)"),
	I("billing", "estimated_periods_max", billing_estimated_periods_max, "3", 0, 24,
	  "consecutive periods a silent meter may be billed by the average; after them, by "
	  "the norm (ПП 354 п. 60: 3; VERIFY)"),
	I("billing", "high_factor", billing_high_factor, "3", 0, 1000,
	  "a measured consumption above this many times the usual is reported (0: never)"),
	I("billing", "end_gap_h", billing_end_gap_h, "24", 0, 720,
	  "with no reading after the end of a period, the last reading at most this many hours "
	  "before it is taken as the end value (else the end is estimated)"),
	I("billing", "split_gap_h", billing_split_gap_h, "48", 0, 720,
	  "a price change inside a period splits the consumption by the register value at the "
	  "change when readings lie this close on both sides, else pro rata by days"),
	I("billing", "rollover_kwh_per_day", billing_rollover_kwh_per_day, "1000", 1, 1000000,
	  "a register lower at the end than at the start rolled over at its capacity when that "
	  "means at most this many kWh a day and less than the way back; otherwise it went "
	  "backwards (not billed)"),
	S("jobs", "client_id", jobs_client_id, "askue-jobs",
	  "MQTT client id prefix of the jobs (the job's name is appended: askue-jobs-stale)"),
	S("jobs", "username", jobs_username, "askue-jobs", "MQTT user (role jobs: askue/alerts/#)"),
	S("jobs", "password", jobs_password, "", "MQTT password of the jobs role"),
	I("jobs", "publish_timeout_ms", jobs_publish_timeout_ms, "5000", 100, 600000,
	  "how long a job waits for the broker to take its alerts (what is not taken is "
	  "published by the next run)"),
	I("stale", "default_interval_h", stale_default_interval_h, "24", 1, 8784,
	  "how often a meter reports, hours, unless its model says otherwise (models)"),
	I("stale", "default_grace_h", stale_default_grace_h, "24", 0, 8784,
	  "hours past the interval before a meter counts as silent (24 + 24: daily meters "
	  "after 48 h)"),
	S("stale", "models", stale_models, "",
	  "per meter model: MODEL=INTERVAL_H/GRACE_H, comma-separated, e.g. "
	  "CE102M=24/24, Mercury 230=1/5 (a model not listed takes the defaults)"),
	I("stale", "outage_share_pct", stale_outage_share_pct, "80", 1, 100,
	  "a substation or concentrator is out when at least this share of its installed "
	  "meters are silent: one grouped alert instead of one per meter"),
	I("stale", "outage_min_meters", stale_outage_min_meters, "10", 1, 1000000,
	  "... and at least this many of them"),
	I("stale", "holddown_h", stale_holddown_h, "72", 0, 8784,
	  "a meter silent again within this many hours of its alert closing re-opens that "
	  "alert (flaps counted) instead of opening a new one"),
	S("stale", "username", stale_username, "askue-stale",
	  "MQTT user (role stale: reads the retained meters/+/status)"),
	S("stale", "password", stale_password, "", "MQTT password of the stale role"),
	I("stale", "status_wait_ms", stale_status_wait_ms, "1500", 0, 60000,
	  "how long the job collects retained status messages (0: do not ask the broker)"),
	I("lifecycle", "horizon_days", lifecycle_horizon_days, "30", 0, 3660,
	  "verification, end of service life and warranty alerts open this many days ahead"),
	I("rollup", "keep_days", rollup_keep_days, "60", 2, 3660,
	  "days of meter_day rows (each meter's first and last reading of a day) the ledger "
	  "keeps; older ones are pruned by the rollup (InfluxDB keeps the readings, and "
	  "billing rolls a pruned day up again when it needs it)"),
	I("rollup", "late_hours", rollup_late_hours, "6", 0, 720,
	  "readings arrive late: a day rolled up before its end plus this many hours is rolled "
	  "up again when billing asks for it"),
	I("fieldcheck", "tolerance_wh", fieldcheck_tolerance_wh, "1000", 0, INT64_C(1000000000),
	  "a field reading further than this (Wh) from the stored readings opens an alert"),
	I("anomalies", "window_days", anomalies_window_days, "60", 7, 400,
	  "days of meter_day each meter is judged on (keep [rollup] keep_days at least this "
	  "long, or the drop detector sees less history)"),
	I("anomalies", "max_kw", anomalies_max_kw, "15", 1, 100000,
	  "the physical limit of a connection, kW: a register growing faster between two "
	  "readings is a jump"),
	I("anomalies", "event_days", anomalies_event_days, "7", 1, 60,
	  "a register that went backwards or jumped stays an anomaly (its alert open) this "
	  "many days"),
	I("anomalies", "stuck_days", anomalies_stuck_days, "7", 2, 366,
	  "days without any growth of the register, the meter reporting, for a stuck "
	  "register"),
	I("anomalies", "recent_days", anomalies_recent_days, "28", 7, 200,
	  "drop: the median daily consumption of the last this many days ..."),
	I("anomalies", "baseline_days_min", anomalies_baseline_days_min, "21", 7, 390,
	  "... against the median of the days before them, at least this many"),
	I("anomalies", "drop_pct", anomalies_drop_pct, "60", 1, 99,
	  "drop: recent at or below this per cent of the baseline (and of what the fleet did "
	  "meanwhile)"),
	I("anomalies", "away_pct", anomalies_away_pct, "25", 0, 99,
	  "days below this per cent of the baseline are a subscriber away, not a theft; more "
	  "than half of the recent days so: away (reported, no alert)"),
	I("anomalies", "reverse_wh_min", anomalies_reverse_wh_min, "100", 1, INT64_C(1000000000),
	  "reverse energy: the export register (2.8.0) of a household growing by at least this "
	  "many Wh in a day"),
	I("anomalies", "drop_alerts_max", anomalies_drop_alerts_max, "100", 0, 1000000,
	  "new drop alerts opened for a day at most, the strongest first (the rest wait for "
	  "the next days; all are in the anomaly measurement)"),
	B("anomalies", "raw", anomalies_raw, "true",
	  "also read the day's raw readings from InfluxDB: backwards and jumps between any two "
	  "readings, reverse energy (false: meter_day only)"),
	S("utility", "name", utility_name, "АО «Энергосбыт-Демо» (демонстрационные реквизиты)",
	  "the retailer's name as payee on invoices and in their payment QR code "
	  "(ГОСТ Р 56042-2014 Name, up to 160 characters). The defaults of this section are "
	  "demonstration values: an invoice made with them is marked as a sample"),
	S("utility", "inn", utility_inn, ASKUE_UTILITY_DEMO_INN,
	  "the retailer's INN (10 digits, or 12; the check digits are verified)"),
	S("utility", "kpp", utility_kpp, "999901001", "the retailer's KPP (9 characters)"),
	S("utility", "bank", utility_bank, "ДЕМО-БАНК",
	  "the bank of the settlement account (QR BankName, up to 45 characters)"),
	S("utility", "bic", utility_bic, "049999999", "the bank's BIC (9 digits)"),
	S("utility", "correspondent_account", utility_correspondent_account,
	  "30101810300000000999",
	  "the bank's correspondent account (20 digits; its check digit is verified against "
	  "the BIC)"),
	S("utility", "settlement_account", utility_settlement_account, "40702810600000000001",
	  "the retailer's settlement account that subscribers pay to (20 digits; its check "
	  "digit is verified against the BIC)"),
	S("utility", "address", utility_address, "г. Демо, ул. Примерная, д. 1",
	  "the retailer's address on invoices"),
	S("utility", "phone", utility_phone, "+7 000 000-00-00", "the retailer's phone on invoices"),
	I("console", "idle_s", console_idle_s, "900", 0, 86400,
	  "askue-console signs its user out after this many seconds without a key, back to "
	  "the sign-in (0: never)"),
	I("console", "busy_ms", console_busy_ms, "3000", 0, 600000,
	  "how long an action of askue-console waits for another program's write lock "
	  "before it says the ledger is busy"),
	I("forecast", "history_days", forecast_history_days, "56", 14, 366,
	  "days of the `load` history each group's forecast is fitted on (the last ones "
	  "through the run's date)"),
	I("forecast", "horizon_days", forecast_horizon_days, "7", 1, 14,
	  "days ahead the forecast job writes, from the day after its date"),
	I("forecast", "min_days", forecast_min_days, "14", 14, 366,
	  "a group with fewer days of `load` history is reported, not forecast"),
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

struct load_ctx {
	struct askue_config *cfg;
	char bad[512]; /* message for the first bad line */
};

static enum askue_err set_value(struct askue_config *cfg, const struct setting *s,
                                const char *value, char *why, size_t why_size)
{
	char *field = (char *)cfg + s->offset;
	if (s->type == SET_STR) {
		char expanded[ASKUE_PATH_MAX * 2];
		if (strncmp(value, "${home}", 7) == 0)
			snprintf(expanded, sizeof expanded, "%s%s", cfg->home, value + 7);
		else
			snprintf(expanded, sizeof expanded, "%s", value);
		if (strlen(expanded) >= s->size) {
			snprintf(why, why_size, "value longer than %zu bytes", s->size - 1);
			return ASKUE_ERR_INVALID;
		}
		memcpy(field, expanded, strlen(expanded) + 1);
		return ASKUE_OK;
	}
	int64_t v;
	if (s->type == SET_BOOL) {
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
			v = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
			v = 0;
		else {
			snprintf(why, why_size, "'%s' is not true or false", value);
			return ASKUE_ERR_INVALID;
		}
	} else {
		char *end;
		errno = 0;
		long long ll = strtoll(value, &end, 10);
		if (errno || end == value || *end) {
			snprintf(why, why_size, "'%s' is not an integer", value);
			return ASKUE_ERR_INVALID;
		}
		if (ll < s->min || ll > s->max) {
			snprintf(why, why_size, "%lld is outside %lld..%lld", ll, (long long)s->min,
			         (long long)s->max);
			return ASKUE_ERR_INVALID;
		}
		v = ll;
	}
	memcpy(field, &v, sizeof v);
	return ASKUE_OK;
}

static const struct setting *find_setting(const char *section, const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (!strcmp(settings[i].section, section) && !strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

/* inih (Debian's v55) gives no line number to the handler; ini_parse_file
 * returns the line of the first error, so the handler keeps the first
 * message and read_file puts the line in front. */
static int on_line(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *ctx = user;
	const struct setting *s = find_setting(section, key);
	if (!s) {
		if (!ctx->bad[0])
			snprintf(ctx->bad, sizeof ctx->bad, "[%s] %s: unknown setting", section, key);
		return 0;
	}
	char why[256];
	if (set_value(ctx->cfg, s, value, why, sizeof why)) {
		if (!ctx->bad[0])
			snprintf(ctx->bad, sizeof ctx->bad, "[%s] %s: %s", section, key, why);
		return 0;
	}
	return 1;
}

static void set_defaults(struct askue_config *cfg)
{
	char why[256];
	memset(cfg, 0, sizeof *cfg);
	const char *home = getenv("ASKUE_HOME");
	snprintf(cfg->home, sizeof cfg->home, "%s", home && *home ? home : "./var");
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (!strcmp(settings[i].key, "home") && !strcmp(settings[i].section, "askue"))
			continue;
		enum askue_err err = set_value(cfg, &settings[i], settings[i].def, why, sizeof why);
		if (err) {
			fprintf(stderr, "askue: bad built-in default [%s] %s: %s\n", settings[i].section,
			        settings[i].key, why);
			abort();
		}
	}
	const char *op = getenv("ASKUE_OPERATOR");
	if (!op || !*op)
		op = getenv("USER");
	snprintf(cfg->operator_name, sizeof cfg->operator_name, "%s", op && *op ? op : "system");
}

/* Settings whose default depends on home are re-derived when the file sets
 * home and not them: track which keys the file gave. */
static enum askue_err read_file(const char *path, struct askue_config *cfg)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return askue_err_set(ASKUE_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
	struct load_ctx ctx = {.cfg = cfg};
	int rc = ini_parse_file(f, on_line, &ctx);
	fclose(f);
	if (rc != 0) {
		if (rc > 0 && ctx.bad[0])
			return askue_err_set(ASKUE_ERR_CONFIG, "%s:%d: %s", path, rc, ctx.bad);
		if (rc < 0)
			return askue_err_set(ASKUE_ERR_CONFIG, "%s: cannot read", path);
		return askue_err_set(ASKUE_ERR_CONFIG, "%s:%d: not a valid INI line", path, rc);
	}
	snprintf(cfg->path, sizeof cfg->path, "%s", path);
	return ASKUE_OK;
}

enum askue_err askue_config_load(const char *explicit_path, struct askue_config *cfg)
{
	set_defaults(cfg);
	const char *path = explicit_path;
	int must_exist = 1;
	char buf[ASKUE_PATH_MAX + 16];
	if (!path || !*path)
		path = getenv("ASKUE_CONFIG");
	if (!path || !*path) {
		must_exist = 0;
		const char *home = getenv("ASKUE_HOME");
		if (home && *home) {
			snprintf(buf, sizeof buf, "%s/askue.conf", home);
			path = buf;
		} else {
			path = "/etc/askue/askue.conf";
		}
	}
	if (!must_exist && access(path, F_OK) != 0)
		return ASKUE_OK;
	/* Two passes: the first finds home, so ${home} defaults follow it. */
	struct askue_config first;
	memcpy(&first, cfg, sizeof first);
	enum askue_err err = read_file(path, &first);
	if (err)
		return err;
	if (strcmp(first.home, cfg->home) != 0) {
		char home[ASKUE_PATH_MAX];
		snprintf(home, sizeof home, "%s", first.home);
		set_defaults(cfg);
		memcpy(cfg->home, home, sizeof home);
		char why[256];
		for (size_t i = 0; i < N_SETTINGS; i++)
			if (strncmp(settings[i].def, "${home}", 7) == 0 &&
			    set_value(cfg, &settings[i], settings[i].def, why, sizeof why))
				return askue_err_set(ASKUE_ERR_CONFIG, "[%s] %s: %s", settings[i].section,
				                     settings[i].key, why);
		return read_file(path, cfg);
	}
	memcpy(cfg, &first, sizeof first);
	return ASKUE_OK;
}

enum askue_err askue_config_apply(const struct askue_config *cfg)
{
	enum askue_err err = askue_tz_set(cfg->timezone);
	if (err) {
		askue_err_prefix("%s: [askue] timezone: ", cfg->path[0] ? cfg->path : "defaults");
		return err;
	}
	int level = askue_log_level_parse(cfg->log_level);
	if (level < 0)
		return askue_err_set(ASKUE_ERR_CONFIG, "%s: [askue] log_level: '%s' is not one of "
		                     "debug, info, warn, error", cfg->path[0] ? cfg->path : "defaults",
		                     cfg->log_level);
	if (!getenv("ASKUE_LOG_LEVEL"))
		askue_log_set_level((enum askue_log_level)level);
	return ASKUE_OK;
}

/* "# " + doc, wrapped at 78 columns on spaces; a newline in doc starts a
 * new comment line too. */
static void write_comment(FILE *out, const char *doc)
{
	const char *p = doc;
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n > 76) {
			size_t cut = 76;
			while (cut > 20 && p[cut] != ' ')
				cut--;
			if (p[cut] == ' ')
				n = cut;
		}
		fprintf(out, "# %.*s\n", (int)n, p);
		p += n;
		while (*p == ' ' || *p == '\n')
			p++;
	}
}

void askue_config_write_example(FILE *out)
{
	const char *section = "";
	fprintf(out, "# askue configuration. Every setting is shown with its default;\n"
	             "# uncomment and change what you need. ${home} is [askue] home.\n");
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (strcmp(section, s->section) != 0) {
			section = s->section;
			fprintf(out, "\n[%s]\n", section);
		}
		write_comment(out, s->doc);
		if (s->type == SET_INT)
			fprintf(out, "#   (%lld .. %lld)\n", (long long)s->min, (long long)s->max);
		fprintf(out, ";%s = %s\n", s->key, s->def);
	}
}
