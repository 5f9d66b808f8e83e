/* sim — the meter simulator / load generator (askue-sim), shared types.
 *
 * A run is: a fleet of meters (generated, or read from a credentials file),
 * grouped onto connections (one per meter, or one per concentrator for the
 * meters bound to it); household consumption profiles (real half-hourly
 * data) that make each meter's registers grow; a time axis (start, days,
 * interval) walked as fast as the rate allows; faults on request. Workers
 * (threads, and processes beyond what one process's descriptors allow) each
 * own a slice of the connections and publish their meters' readings.
 *
 * Modules: profile.c (consumption data), fleet.c (meters, connections,
 * credentials, faults), reading.c (registers and payloads), publish.c (MQTT
 * workers), manifest.c (what was published), main.c (options).
 */
#ifndef ASKUE_SIM_H
#define ASKUE_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "limits.h"

/* One half-hour: the resolution of the profiles and of the zone clock. */
#define SIM_SLOT_S 1800
/* Profiles kept from a data file: a few real households are enough for
 * shapes; each meter scales one of them. */
#define SIM_PROFILES_MAX 64
/* A profile shorter than a day has no daily shape. */
#define SIM_PROFILE_SLOTS_MIN 48
/* Readings in one backlog dump: 48 half-hours of a day, and some. */
#define SIM_BACKLOG_MAX 256
/* A password from the credentials file. */
#define SIM_PASSWORD_BYTES_MAX 256
/* Connections per process: libmosquitto takes 3 descriptors per client and
 * the descriptor limit here is 20,000; beyond this the run forks. */
#define SIM_CONNS_PER_PROC_MAX 5000
/* Unacknowledged messages per connection (QoS 1 window). */
#define SIM_INFLIGHT_DEFAULT 64
#define SIM_INFLIGHT_MAX 65535
/* Worker threads per process. */
#define SIM_THREADS_MAX 64
/* Payload buffer: a backlog of SIM_BACKLOG_MAX readings fits with room. */
#define SIM_PAYLOAD_BYTES_MAX ASKUE_PAYLOAD_BYTES_MAX

struct sim_profiles {
	int count;
	char id[SIM_PROFILES_MAX][32]; /* the data set's customer id */
	int32_t *wh[SIM_PROFILES_MAX]; /* energy per half-hour, Wh */
	int32_t slots[SIM_PROFILES_MAX];
};

/* Faults asked for: fractions in parts per million, sizes in readings. */
struct sim_faults {
	uint32_t silent_ppm;     /* meters that stop sending part-way */
	uint32_t duplicate_ppm;  /* messages sent twice */
	uint32_t reorder_ppm;    /* meters whose consecutive readings swap */
	uint32_t backlog_ppm;    /* meters that send dumps of several readings */
	int backlog_size;        /* readings per dump */
	uint32_t malformed_ppm;  /* messages followed by a malformed one */
	uint32_t backwards_ppm;  /* meters whose register goes back once */
};

struct sim_meter {
	char serial[ASKUE_SERIAL_BYTES_MAX + 1];
	char topic[ASKUE_SERIAL_BYTES_MAX + 32];
	int zones;            /* 1 or 2 */
	int conn;             /* index of its connection */
	int profile;
	int32_t offset_slots; /* where in its profile it starts */
	int32_t scale_pm;     /* per mille of the profile */
	int64_t reg_wh[3];    /* [0] 1.8.0, [1] 1.8.1, [2] 1.8.2 */
	int64_t carry;        /* remainder of the scaling, so no energy is lost */
	uint64_t rng;
	/* faults */
	int64_t silent_from;  /* step from which it says nothing; 0 = never */
	int64_t backwards_at; /* step at which the register goes back; 0 = never */
	int backlog;          /* sends dumps */
	int reorder;          /* swaps pairs */
};

struct sim_conn {
	char client_id[ASKUE_SERIAL_BYTES_MAX + 32];
	char username[ASKUE_SERIAL_BYTES_MAX + 1];
	char password[SIM_PASSWORD_BYTES_MAX + 1];
	int has_password;
	int meter;            /* the one meter on it, or -1 (a concentrator) */
};

struct sim_fleet {
	struct sim_meter *meters;
	int meters_count;
	struct sim_conn *conns;
	int conns_count;
};

/* What a run asks for (main.c fills it). */
struct sim_options {
	char host[256];
	int port;
	int keepalive_s;
	int64_t start_s;      /* first instant; readings at start + k*interval */
	int64_t interval_s;   /* a multiple of SIM_SLOT_S */
	int64_t steps;        /* readings per meter */
	double rate;          /* messages/s over the whole run; 0 = as fast as possible */
	int threads;
	int inflight;
	uint64_t seed;
	int64_t initial_kwh_max; /* registers start in [0, this) kWh; 0 = at 0 */
	int quiet;
	int status;           /* publish meters/{serial}/status online/offline, retained */
	int conn_first, conn_end; /* the connections this process runs [first, end) */
	struct sim_faults faults;
};

/* What a worker did; summed over workers and processes. */
struct sim_counts {
	int64_t messages;          /* PUBLISHes sent, all kinds */
	int64_t messages_acked;    /* PUBACKs received */
	int64_t readings;          /* distinct good readings: what InfluxDB should hold */
	int64_t readings_sent;     /* good readings in messages, duplicates included */
	int64_t duplicates;        /* messages sent a second time */
	int64_t malformed;         /* malformed messages */
	int64_t backlog_messages;  /* messages with more than one reading */
	int64_t reordered;         /* readings sent after a later one */
	int64_t backwards;         /* readings where the register went back */
	int64_t silent_meters;
	int64_t refused;           /* connections the broker refused */
	int64_t reconnects;
	int64_t ai_wh_sum;         /* sum of 1.8.0 over the distinct readings */
	int64_t status_messages;   /* retained online/offline, counted in messages too */
	int64_t connect_ms;        /* until every connection had its CONNACK (max, not sum) */
	int64_t publish_start_ns;  /* wall clock (CLOCK_REALTIME) when the first worker began
	                            * to publish (min over workers; 0 = none did) */
};

/* profile.c */
/* Load up to max profiles from a half-hourly CSV (customer_id,timestamp,kwh;
 * gzip when the name ends in .gz). Customers with missing reads get the read
 * of the same half-hour a day earlier (or 0). */
ASKUE_MUST enum askue_err sim_profiles_load(const char *path, int max, struct sim_profiles *out);
void sim_profiles_free(struct sim_profiles *p);
/* max households of a built-in typical shape (with per-household size and
 * day-to-day variation), 28 days each: when no data set is at hand. */
ASKUE_MUST enum askue_err sim_profiles_synthetic(int max, struct sim_profiles *out);

/* fleet.c */
/* Generated meters: serial = prefix + 6 digits; conns_count connections
 * (0 = one per meter), meters dealt out round-robin. */
ASKUE_MUST enum askue_err sim_fleet_generate(int meters, const char *prefix, int conns,
                                             uint32_t two_zone_ppm, struct sim_fleet *out);
/* Meters from a credentials CSV: header `serial,password[,zones]` (one
 * connection per meter, its serial as user name) or
 * `concentrator,password,serial[,zones]` (one connection per concentrator). */
ASKUE_MUST enum askue_err sim_fleet_load(const char *path, int meters_max, uint32_t two_zone_ppm,
                                         struct sim_fleet *out);
/* Give each meter its profile, scale, start registers and faults. */
void sim_fleet_prepare(struct sim_fleet *f, const struct sim_profiles *p,
                       const struct sim_options *o);
void sim_fleet_free(struct sim_fleet *f);
uint64_t sim_rand(uint64_t *state);
uint32_t sim_rand_ppm(uint64_t *state);

/* reading.c */
/* Zone (1 = day T1, 2 = night T2) of every half-hour slot of the run. */
ASKUE_MUST enum askue_err sim_zones_prepare(const struct sim_options *o, uint8_t **zones_out);
/* Advance a meter's registers to the reading of step k (1-based). Returns 1
 * when this step's register went backwards (the fault). */
int sim_meter_advance(struct sim_meter *m, const struct sim_profiles *p, const uint8_t *zones,
                      const struct sim_options *o, int64_t k);
struct sim_reading {
	int64_t ts;
	int64_t reg_wh[3];
};
/* Write a payload with n readings; returns its length, or -1 when it does
 * not fit. */
int sim_payload(char *buf, size_t size, const struct sim_meter *m, const struct sim_reading *r,
                int n);
/* A malformed payload of kind (cycled) for meter m at reading r. */
int sim_payload_malformed(char *buf, size_t size, const struct sim_meter *m,
                          const struct sim_reading *r, unsigned kind);

/* publish.c */
/* Connect every connection of f, publish steps 1..o->steps for every meter,
 * wait for every acknowledgement, disconnect. readings_out (may be NULL)
 * gets serial,ts,ai_wh,t1_wh,t2_wh per distinct good reading. */
ASKUE_MUST enum askue_err sim_run(struct sim_fleet *f, const struct sim_profiles *p,
                                  const struct sim_options *o, FILE *readings_out,
                                  struct sim_counts *counts);

/* manifest.c */
void sim_counts_add(struct sim_counts *sum, const struct sim_counts *c);
ASKUE_MUST enum askue_err sim_manifest_write(const char *path, const struct sim_fleet *f,
                                             const struct sim_options *o,
                                             const struct sim_counts *c, double seconds);
void sim_summary_print(FILE *out, const struct sim_fleet *f, const struct sim_counts *c,
                       double seconds);

#endif
