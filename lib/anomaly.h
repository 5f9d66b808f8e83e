/* anomaly — the detectors of `askue job anomalies`: pure functions from a
 * meter's data to what is odd about it (the job, jobs/anomalies.c, reads the
 * ledger and InfluxDB and writes alerts and the `anomaly` measurement).
 *
 * Two inputs, two kinds of detector:
 *  - a meter's days (the rollup's meter_day rows: the first and the last
 *    reading of each local day, register 1.8.0 in Wh) over a window ending
 *    on the judged day: askue_anomaly_days() finds a register that went
 *    backwards, a jump beyond the connection's physical limit, a register
 *    stuck while the meter reports, and consumption that fell and stays
 *    low against the meter's own history (theft, bypass) — told apart from
 *    a subscriber away (consumption near nothing), which is reported but
 *    alerts no one;
 *  - a meter's raw readings of the judged day in time order
 *    (askue_anomaly_track_add): the same backwards and jump checks between
 *    every two consecutive readings (what first/last of a day cannot see),
 *    and reverse energy (the export register 2.8.0 growing).
 * Event-like findings (backwards, jump) hold for event_days after the day
 * they were seen, so an alert stays up long enough for someone to look and
 * then closes by itself; states (stuck, drop) hold while they last. The
 * measured precision and recall of each are in docs/anomalies.md.
 */
#ifndef ASKUE_ANOMALY_H
#define ASKUE_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

/* Days one judgement looks at: a window longer than this is an error of
 * the caller ([anomalies] window_days is bounded by it). */
#define ASKUE_ANOMALY_WINDOW_DAYS_MAX 400

enum askue_anomaly_kind {
	ASKUE_ANOMALY_BACKWARDS, /* the register went backwards */
	ASKUE_ANOMALY_JUMP,      /* a step beyond the connection's limit */
	ASKUE_ANOMALY_STUCK,     /* no growth for stuck_days while reporting */
	ASKUE_ANOMALY_DROP,      /* consumption fell and stays low: theft? */
	ASKUE_ANOMALY_REVERSE,   /* the export register grows: no generation here */
	ASKUE_ANOMALY_AWAY,      /* consumption near nothing: away (no alert) */
	ASKUE_ANOMALY_KINDS
};

/* "backwards", "jump", "stuck", "drop", "reverse", "away". */
const char *askue_anomaly_kind_name(enum askue_anomaly_kind k);
/* The alert kind of a finding ("anomaly_backwards" ...), NULL for away. */
const char *askue_anomaly_alert_kind(enum askue_anomaly_kind k);
/* -1 when name is not a kind. */
int askue_anomaly_kind_of(const char *name);

struct askue_anomaly_params {
	int64_t max_w;          /* physical limit of a household connection, W */
	int64_t capacity_wh;    /* the register's capacity (rollover), > 0 */
	int64_t jump_min_s;     /* pairs closer than this are not judged for jumps */
	int event_days;         /* backwards/jump hold this many days (>= 1) */
	int stuck_days;         /* days without growth while reporting */
	int recent_days;        /* drop: the recent days judged */
	int baseline_days_min;  /* drop: at least this many days before them */
	int64_t baseline_wh_min; /* drop: a baseline median below this a day: not judged */
	int drop_pct;           /* drop: recent median <= this % of the baseline's */
	int away_pct;           /* ... but below this %: away, not a drop */
	int64_t reverse_wh_min; /* reverse: export growing by at least this in a day */
	int stuck_hours;        /* raw readings: the register flat this long while
	                         * reporting is stuck too (0: only whole days) */
};

/* The defaults ([anomalies] settings have the same). */
void askue_anomaly_params_default(struct askue_anomaly_params *p);

/* One meter_day row. day: the local date as days since 1970-01-01. */
struct askue_anomaly_day {
	int32_t day;
	int64_t readings;
	int64_t first_ts, first_wh;
	int64_t last_ts, last_wh;
};

/* What was found, with the figures that explain it (kept for analysts). */
struct askue_anomaly_result {
	int found[ASKUE_ANOMALY_KINDS];
	double score[ASKUE_ANOMALY_KINDS]; /* how strong; 0 when not found */
	int32_t backwards_day;   /* the newest day it went backwards */
	int64_t backwards_wh;    /* by how much (the largest) */
	int32_t jump_day;        /* the newest day of a jump */
	int64_t jump_wh, jump_s; /* the step and its duration */
	int64_t jump_w;          /* its mean power */
	int stuck_days;          /* days without growth up to the judged day */
	int64_t stuck_wh;        /* the register standing still */
	int64_t baseline_wh;     /* drop/away: medians of daily consumption */
	int64_t recent_wh;
	int drop_judged;         /* baseline and recent days enough, not away */
	int ratio_pct;           /* recent / baseline, per cent */
	int peer_pct;            /* the peers' ratio it was judged against (100: none) */
	int recent_n, baseline_n; /* days with a known consumption */
	int64_t reverse_wh;      /* export grown over the day */
	int64_t flat_s;          /* raw: the longest the register stood still */
};

/* Judge a meter's days days[0..n) (ascending, distinct, n <= the window
 * max) as of day `today`. Days after today are ignored. Returns the number
 * of kinds found. */
int askue_anomaly_days(const struct askue_anomaly_params *p, const struct askue_anomaly_day *days,
                       size_t n, int32_t today, struct askue_anomaly_result *out);

/* Judge the drop again against the meter's peers: peer_ratio_pct is the
 * median ratio_pct of comparable meters (the substation, the fleet) on the
 * same day, so that a drop all of them share (the season, the weather, a
 * holiday) is not one meter's drop. The meter's ratio divided by its
 * peers' is judged against drop_pct. peer_ratio_pct <= 0: no peers, the
 * judgement stands. */
void askue_anomaly_drop_peer(const struct askue_anomaly_params *p, int peer_ratio_pct,
                             struct askue_anomaly_result *r);

/* The raw readings of one meter, one day, fed in time order. */
struct askue_anomaly_track {
	int has_prev;
	int64_t prev_ts, prev_wh;
	int has_ae;
	int64_t ae_first, ae_last;
	int64_t readings;
	int64_t backwards_n, backwards_wh; /* count, the largest */
	int64_t jump_n, jump_wh, jump_s, jump_w; /* count, the strongest */
	int64_t flat_from_ts, flat_s;            /* the register standing still */
};

/* Feed one reading: ts (UTC s), register 1.8.0 wh; has_ae/ae_wh the
 * export register 2.8.0 when the reading has it. A reading not later than
 * the previous one is ignored. */
void askue_anomaly_track_add(struct askue_anomaly_track *t, const struct askue_anomaly_params *p,
                             int64_t ts, int64_t wh, int has_ae, int64_t ae_wh);
/* Fold a day's track into out (found and figures of backwards, jump,
 * reverse; day is the judged day). Returns the number of kinds it added. */
int askue_anomaly_track_judge(const struct askue_anomaly_track *t,
                              const struct askue_anomaly_params *p, int32_t day,
                              struct askue_anomaly_result *out);

#endif
