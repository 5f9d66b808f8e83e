/* fleet — the simulated meters and the connections they publish over.
 *
 * A fleet is generated (serials PREFIX000001..) or read from a credentials
 * file made by `askue meter credentials` (tools/sim/credentials.sh writes the file). It
 * owns the meter and connection arrays. sim_fleet_prepare gives each meter,
 * deterministically from the seed, its profile, scale, start registers and
 * the faults asked for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "text.h"

/* A credentials row: up to 4 short fields. */
#define CRED_LINE_BYTES_MAX 1024

uint64_t sim_rand(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t sim_rand_ppm(uint64_t *state)
{
	return (uint32_t)(sim_rand(state) % 1000000);
}

/* A serial must make a valid topic level and a printable JSON string. */
static enum askue_err check_serial(const char *s)
{
	enum askue_err err = askue_text_check("serial", s, ASKUE_SERIAL_BYTES_MAX, 1);
	if (err != ASKUE_OK)
		return err;
	if (strpbrk(s, "/+#"))
		return askue_err_set(ASKUE_ERR_INVALID, "serial '%s': '/', '+' and '#' cannot be in a topic", s);
	return ASKUE_OK;
}

static void meter_init(struct sim_meter *m, const char *serial, int zones, int conn)
{
	memset(m, 0, sizeof *m);
	snprintf(m->serial, sizeof m->serial, "%s", serial);
	snprintf(m->topic, sizeof m->topic, "meters/%s/readings", serial);
	m->zones = zones;
	m->conn = conn;
}

static int two_zone(uint32_t two_zone_ppm, int i)
{
	uint64_t s = 0x5eed0000ULL + (uint64_t)i;
	return sim_rand_ppm(&s) < two_zone_ppm;
}

enum askue_err sim_fleet_generate(int meters, const char *prefix, int conns, uint32_t two_zone_ppm,
                                  struct sim_fleet *out)
{
	struct sim_fleet f = {0};
	if (meters < 1)
		return askue_err_set(ASKUE_ERR_INVALID, "--meters must be at least 1");
	if (conns <= 0 || conns > meters)
		conns = meters;
	f.meters = calloc((size_t)meters, sizeof *f.meters);
	f.conns = calloc((size_t)conns, sizeof *f.conns);
	if (!f.meters || !f.conns) {
		sim_fleet_free(&f);
		return askue_err_set(ASKUE_ERR_NOMEM, "fleet of %d meters: out of memory", meters);
	}
	f.meters_count = meters;
	f.conns_count = conns;
	char serial[ASKUE_SERIAL_BYTES_MAX + 16];
	for (int i = 0; i < meters; i++) {
		snprintf(serial, sizeof serial, "%s%06d", prefix, i + 1);
		if (strlen(serial) > ASKUE_SERIAL_BYTES_MAX || check_serial(serial) != ASKUE_OK) {
			sim_fleet_free(&f);
			return askue_err_set(ASKUE_ERR_INVALID, "--serial-prefix '%s' makes a bad serial",
			                     prefix);
		}
		meter_init(&f.meters[i], serial, two_zone(two_zone_ppm, i) ? 2 : 1, i % conns);
	}
	for (int c = 0; c < conns; c++) {
		struct sim_conn *cn = &f.conns[c];
		cn->meter = conns == meters ? c : -1;
		if (conns == meters) {
			snprintf(cn->client_id, sizeof cn->client_id, "%s", f.meters[c].serial);
		} else {
			snprintf(cn->client_id, sizeof cn->client_id, "%sconc%04d", prefix, c + 1);
		}
	}
	*out = f;
	return ASKUE_OK;
}

/* Split a CSV line into at most max plain fields (no quoting: serials,
 * passwords and ids askue issues never need it). */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *s = line;
	for (;;) {
		if (n == max)
			return -1;
		fields[n++] = s;
		char *c = strchr(s, ',');
		if (!c)
			break;
		*c = '\0';
		s = c + 1;
	}
	return n;
}

struct cred_cols {
	int concentrator, password, serial, zones, count;
};

static enum askue_err parse_header(char *line, struct cred_cols *cols)
{
	char *f[8];
	int n = split(line, f, 8);
	*cols = (struct cred_cols){-1, -1, -1, -1, n};
	for (int i = 0; i < n; i++) {
		if (!strcmp(f[i], "serial"))
			cols->serial = i;
		else if (!strcmp(f[i], "password"))
			cols->password = i;
		else if (!strcmp(f[i], "concentrator"))
			cols->concentrator = i;
		else if (!strcmp(f[i], "zones"))
			cols->zones = i;
		else
			return askue_err_set(ASKUE_ERR_INVALID, "unknown column '%s'", f[i]);
	}
	if (n < 0 || cols->serial < 0 || cols->password < 0)
		return askue_err_set(ASKUE_ERR_INVALID,
		                     "header must be serial,password[,zones] or "
		                     "concentrator,password,serial[,zones]");
	return ASKUE_OK;
}

static enum askue_err grow(struct sim_fleet *f, int *meters_cap, int *conns_cap)
{
	if (f->meters_count == *meters_cap) {
		int cap = *meters_cap ? *meters_cap * 2 : 256;
		void *p = realloc(f->meters, (size_t)cap * sizeof *f->meters);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
		f->meters = p;
		*meters_cap = cap;
	}
	if (f->conns_count == *conns_cap) {
		int cap = *conns_cap ? *conns_cap * 2 : 256;
		void *p = realloc(f->conns, (size_t)cap * sizeof *f->conns);
		if (!p)
			return askue_err_set(ASKUE_ERR_NOMEM, "credentials: out of memory");
		f->conns = p;
		*conns_cap = cap;
	}
	return ASKUE_OK;
}

/* One row: a meter, on its own connection or on its concentrator's (rows of
 * one concentrator are consecutive). */
static enum askue_err add_row(struct sim_fleet *f, char **fld, const struct cred_cols *cols,
                              uint32_t two_zone_ppm)
{
	const char *serial = fld[cols->serial], *password = fld[cols->password];
	const char *user = cols->concentrator >= 0 ? fld[cols->concentrator] : serial;
	enum askue_err err = check_serial(serial);
	if (err != ASKUE_OK)
		return err;
	if (strlen(password) > SIM_PASSWORD_BYTES_MAX || strlen(user) > ASKUE_SERIAL_BYTES_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "password or user name too long");
	int zones = two_zone(two_zone_ppm, f->meters_count) ? 2 : 1;
	if (cols->zones >= 0) {
		const char *z = fld[cols->zones];
		if (strcmp(z, "1") && strcmp(z, "2") && strcmp(z, "3"))
			return askue_err_set(ASKUE_ERR_INVALID, "zones '%s': expected 1, 2 or 3", z);
		/* A three-zone meter is simulated with its third register at 0. */
		zones = z[0] == '1' ? 1 : 2;
	}
	int new_conn = cols->concentrator < 0 || f->conns_count == 0 ||
	               strcmp(f->conns[f->conns_count - 1].username, user) != 0;
	if (new_conn) {
		struct sim_conn *c = &f->conns[f->conns_count++];
		memset(c, 0, sizeof *c);
		snprintf(c->client_id, sizeof c->client_id, "%s", user);
		snprintf(c->username, sizeof c->username, "%s", user);
		snprintf(c->password, sizeof c->password, "%s", password);
		c->has_password = 1;
		c->meter = cols->concentrator < 0 ? f->meters_count : -1;
	}
	meter_init(&f->meters[f->meters_count++], serial, zones, f->conns_count - 1);
	return ASKUE_OK;
}

enum askue_err sim_fleet_load(const char *path, int meters_max, uint32_t two_zone_ppm,
                              struct sim_fleet *out)
{
	struct sim_fleet f = {0};
	struct cred_cols cols = {0};
	enum askue_err err = ASKUE_OK;
	int meters_cap = 0, conns_cap = 0;
	char line[CRED_LINE_BYTES_MAX];
	long lineno = 0;
	FILE *in = fopen(path, "r");
	if (!in)
		return askue_err_set(ASKUE_ERR_IO, "credentials %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, in)) {
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(in)) {
			err = askue_err_set(ASKUE_ERR_LIMIT, "line too long");
			break;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (lineno == 1) {
			if ((err = parse_header(line, &cols)) != ASKUE_OK)
				break;
			continue;
		}
		if (n == 0)
			continue;
		if (meters_max > 0 && f.meters_count == meters_max)
			break;
		char *fld[8];
		if (split(line, fld, 8) != cols.count) {
			err = askue_err_set(ASKUE_ERR_INVALID, "expected %d fields", cols.count);
			break;
		}
		if ((err = grow(&f, &meters_cap, &conns_cap)) != ASKUE_OK ||
		    (err = add_row(&f, fld, &cols, two_zone_ppm)) != ASKUE_OK)
			break;
	}
	fclose(in);
	if (err == ASKUE_OK && f.meters_count == 0)
		err = askue_err_set(ASKUE_ERR_INVALID, "no meters");
	if (err != ASKUE_OK) {
		askue_err_prefix("credentials %s:%ld: ", path, lineno);
		sim_fleet_free(&f);
		return err;
	}
	*out = f;
	return ASKUE_OK;
}

void sim_fleet_prepare(struct sim_fleet *f, const struct sim_profiles *p,
                       const struct sim_options *o)
{
	const struct sim_faults *fa = &o->faults;
	for (int i = 0; i < f->meters_count; i++) {
		struct sim_meter *m = &f->meters[i];
		m->rng = o->seed * 0x100000001b3ULL + (uint64_t)i;
		sim_rand(&m->rng);
		m->profile = (int)(sim_rand(&m->rng) % (uint64_t)p->count);
		/* Start on a random day of the profile, at the same time of day. */
		int32_t days = p->slots[m->profile] / 48;
		m->offset_slots = (int32_t)(sim_rand(&m->rng) % (uint64_t)days) * 48;
		/* Households differ in size: 40 % .. 250 % of the profile. */
		m->scale_pm = 400 + (int32_t)(sim_rand(&m->rng) % 2101);
		if (o->initial_kwh_max > 0) {
			int64_t wh = (int64_t)(sim_rand(&m->rng) % (uint64_t)(o->initial_kwh_max * 1000));
			m->reg_wh[0] = wh;
			if (m->zones == 2) {
				m->reg_wh[1] = wh * 2 / 3;
				m->reg_wh[2] = wh - m->reg_wh[1];
			}
		}
		int64_t span = o->steps;
		if (sim_rand_ppm(&m->rng) < fa->silent_ppm)
			m->silent_from = 1 + span / 3 + (int64_t)(sim_rand(&m->rng) % (uint64_t)(span / 3 + 1));
		if (sim_rand_ppm(&m->rng) < fa->backwards_ppm)
			m->backwards_at = 2 + (int64_t)(sim_rand(&m->rng) % (uint64_t)(span > 2 ? span - 1 : 1));
		m->backlog = sim_rand_ppm(&m->rng) < fa->backlog_ppm;
		m->reorder = !m->backlog && sim_rand_ppm(&m->rng) < fa->reorder_ppm;
	}
}

void sim_fleet_free(struct sim_fleet *f)
{
	if (!f)
		return;
	free(f->meters);
	free(f->conns);
	f->meters = NULL;
	f->conns = NULL;
	f->meters_count = f->conns_count = 0;
}
