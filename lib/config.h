/* config — the one INI file every askue program reads (inih).
 *
 * Found as DESIGN.md says: --config, else $ASKUE_CONFIG, else
 * $ASKUE_HOME/askue.conf when ASKUE_HOME is set, else /etc/askue/askue.conf.
 * A file that does not exist is an error only when --config or ASKUE_CONFIG
 * named it. Every setting has a default (listed in settings[] in config.c and
 * documented in deploy/askue.conf.example); an unknown section or key, or a
 * bad value, is an error naming the file, line and key.
 */
#ifndef ASKUE_CONFIG_H
#define ASKUE_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "err.h"
#include "limits.h"

#define ASKUE_PATH_MAX 512

struct askue_config {
	char path[ASKUE_PATH_MAX];      /* the file read, "" when none */
	/* [askue] */
	char home[ASKUE_PATH_MAX];      /* state directory */
	char timezone[128];
	char log_level[16];
	char operator_name[ASKUE_SHORT_TEXT_BYTES_MAX]; /* who the CLI acts as */
	/* [ledger] */
	char ledger_path[ASKUE_PATH_MAX];
	int64_t ledger_busy_timeout_ms;
	/* [mqtt] */
	char mqtt_host[256];
	int64_t mqtt_port;
	int64_t mqtt_tls;
	char mqtt_cafile[ASKUE_PATH_MAX];
	int64_t mqtt_keepalive_s;
	/* [influx] */
	char influx_url[256];
	char influx_database[64];
	char influx_username[64];
	char influx_password[128];
	int64_t influx_timeout_ms;
	/* [ingestor] */
	char ingestor_client_id[128];
	char ingestor_username[64];
	char ingestor_password[128];
	char ingestor_spool_dir[ASKUE_PATH_MAX];
	int64_t ingestor_spool_bytes_max;
	int64_t ingestor_batch_points_max;
	int64_t ingestor_batch_ms;
	int64_t ingestor_future_tolerance_s;
	int64_t ingestor_spool_fsync;
	char ingestor_rejects_dir[ASKUE_PATH_MAX];
	char ingestor_lastseen_path[ASKUE_PATH_MAX];
	char ingestor_log_file[ASKUE_PATH_MAX];
	int64_t ingestor_session_expiry_s;
	int64_t ingestor_health_interval_s;
	int64_t ingestor_lastseen_interval_s;
	int64_t ingestor_drain_timeout_s;
	char ingestor_share_group[64];
	int64_t ingestor_connections;
	/* [relay] */
	char relay_client_id[128];
	char relay_username[64];
	char relay_password[128];
	char relay_reader[64];
	int64_t relay_poll_ms;
	int64_t relay_batch_max;
	int64_t relay_inflight_max;
	int64_t relay_cursor_interval_ms;
	int64_t relay_drain_timeout_s;
	char relay_log_file[ASKUE_PATH_MAX];
	/* [billing] */
	int64_t billing_day;
	char billing_rules_dir[ASKUE_PATH_MAX]; /* the CSV tables of deploy/rules: rates, caps, calendar, due dates */
	int64_t billing_average_periods; /* estimation (lib/billing.h askue_bill_params) */
	int64_t billing_average_periods_min;
	int64_t billing_estimated_periods_max;
	int64_t billing_high_factor;
	int64_t billing_end_gap_h;
	int64_t billing_split_gap_h;
	int64_t billing_rollover_kwh_per_day;
	/* [jobs] the batch jobs' MQTT identity (role jobs: publishes askue/alerts/#) */
	char jobs_client_id[128];
	char jobs_username[64];
	char jobs_password[128];
	int64_t jobs_publish_timeout_ms;
	/* [stale] silent meters (askue job stale) */
	int64_t stale_default_interval_h;
	int64_t stale_default_grace_h;
	char stale_models[ASKUE_CONFIG_VALUE_BYTES_MAX];
	int64_t stale_outage_share_pct;
	int64_t stale_outage_min_meters;
	int64_t stale_holddown_h;
	char stale_username[64];
	char stale_password[128];
	int64_t stale_status_wait_ms;
	/* [lifecycle] due verifications, end of service life, warranty */
	int64_t lifecycle_horizon_days;
	/* [rollup] the daily rollup of readings (askue job rollup) */
	int64_t rollup_keep_days;
	int64_t rollup_late_hours;
	/* [fieldcheck] askue meter check */
	int64_t fieldcheck_tolerance_wh;
	/* [anomalies] askue job anomalies (docs/anomalies.md) */
	int64_t anomalies_window_days;
	int64_t anomalies_max_kw;
	int64_t anomalies_event_days;
	int64_t anomalies_stuck_days;
	int64_t anomalies_recent_days;
	int64_t anomalies_baseline_days_min;
	int64_t anomalies_drop_pct;
	int64_t anomalies_away_pct;
	int64_t anomalies_reverse_wh_min;
	int64_t anomalies_drop_alerts_max;
	int64_t anomalies_raw;
	/* [utility] the retailer's details on invoices and in their payment QR code
	 * (ГОСТ Р 56042-2014; checked when an invoice is rendered, qr_gost.h).
	 * The defaults are demonstration values: a document made with them says so. */
	char utility_name[481];  /* up to 160 characters */
	char utility_inn[16];
	char utility_kpp[16];
	char utility_bank[136];  /* up to 45 characters */
	char utility_bic[16];
	char utility_correspondent_account[32];
	char utility_settlement_account[32];
	char utility_address[ASKUE_ADDRESS_BYTES_MAX + 1];
	char utility_phone[64];
	/* [console] askue-console (docs/console.md) */
	int64_t console_idle_s;
	int64_t console_busy_ms;
	/* [forecast] askue job forecast (docs/analysts.md) */
	int64_t forecast_history_days;
	int64_t forecast_horizon_days;
	int64_t forecast_min_days;
};

/* The demonstration INN of the [utility] defaults: a configuration still
 * carrying it has not been given the utility's real details. */
#define ASKUE_UTILITY_DEMO_INN "9999000006"

/* Fill cfg with the defaults, then read the file found as above.
 * explicit_path may be NULL. */
ASKUE_MUST enum askue_err askue_config_load(const char *explicit_path, struct askue_config *cfg);
/* Apply the process-wide parts (time zone, log level). */
ASKUE_MUST enum askue_err askue_config_apply(const struct askue_config *cfg);
/* Write the defaults as a commented INI file (the source of the example). */
void askue_config_write_example(FILE *out);

#endif
