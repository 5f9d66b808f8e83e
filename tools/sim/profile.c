/* profile — real household consumption shapes for the simulator.
 *
 * Reads the half-hourly format of the SGSC household data set
 * (customer_id,timestamp,kwh; one row per half-hour, sorted by customer;
 * empty kwh = missing read), plain or gzip (through `gzip -dc`), and keeps
 * the first max customers as series of Wh per half-hour. Owns the series.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim.h"

/* A profile line is short; a longer one is not this format. */
#define PROFILE_LINE_BYTES_MAX 256

static FILE *open_data(const char *path, pid_t *child)
{
	size_t n = strlen(path);
	*child = 0;
	if (n < 3 || strcmp(path + n - 3, ".gz") != 0)
		return fopen(path, "r");
	if (access(path, R_OK) != 0)
		return NULL;
	int fd[2];
	if (pipe(fd) != 0)
		return NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execlp("gzip", "gzip", "-dc", "--", path, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	*child = pid;
	return fdopen(fd[0], "r");
}

/* "0.473" -> 473 Wh; "" -> -1 (missing). At most 3 decimals. */
static int parse_kwh(const char *s, int32_t *wh)
{
	if (*s == '\0') {
		*wh = -1;
		return 0;
	}
	int neg = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	int64_t v = 0;
	int digits = 0, decimals = -1;
	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
		} else if (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s - '0');
			digits++;
			if (decimals >= 0 && ++decimals > 3)
				return -1;
			if (v > 100000000)
				return -1;
		} else {
			return -1;
		}
	}
	if (digits == 0)
		return -1;
	for (int d = decimals < 0 ? 0 : decimals; d < 3; d++)
		v *= 10;
	/* A negative half-hour (a register set back in the source) is no
	 * consumption; the backwards fault is the simulator's own. */
	*wh = neg ? 0 : (int32_t)v;
	return 0;
}

static enum askue_err profile_append(struct sim_profiles *p, int32_t v, int32_t *cap)
{
	int i = p->count - 1;
	if (p->slots[i] == *cap) {
		int32_t ncap = *cap ? *cap * 2 : 4096;
		int32_t *nw = realloc(p->wh[i], (size_t)ncap * sizeof *nw);
		if (!nw)
			return askue_err_set(ASKUE_ERR_NOMEM, "profiles: out of memory");
		p->wh[i] = nw;
		*cap = ncap;
	}
	p->wh[i][p->slots[i]++] = v;
	return ASKUE_OK;
}

/* Missing reads: the same half-hour a day earlier, else 0. A customer too
 * short for a daily shape is dropped. */
static void profile_finish(struct sim_profiles *p)
{
	int i = p->count - 1;
	if (i < 0)
		return;
	if (p->slots[i] < SIM_PROFILE_SLOTS_MIN) {
		free(p->wh[i]);
		p->wh[i] = NULL;
		p->slots[i] = 0;
		p->count--;
		return;
	}
	for (int32_t s = 0; s < p->slots[i]; s++)
		if (p->wh[i][s] < 0)
			p->wh[i][s] = s >= 48 ? p->wh[i][s - 48] : 0;
}

static enum askue_err parse_line(struct sim_profiles *p, char *line, int max, int32_t *cap,
                                 int *done)
{
	char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2 || strchr(c2 + 1, ','))
		return askue_err_set(ASKUE_ERR_INVALID, "expected customer_id,timestamp,kwh");
	*c1 = '\0';
	*c2 = '\0';
	int32_t wh;
	if (c1 - line == 0 || c1 - line >= 32 || parse_kwh(c2 + 1, &wh) != 0)
		return askue_err_set(ASKUE_ERR_INVALID, "bad customer id or kwh '%s'", c2 + 1);
	if (p->count == 0 || strcmp(p->id[p->count - 1], line) != 0) {
		profile_finish(p);
		if (p->count == max) {
			*done = 1;
			return ASKUE_OK;
		}
		snprintf(p->id[p->count], sizeof p->id[0], "%s", line);
		p->wh[p->count] = NULL;
		p->slots[p->count] = 0;
		p->count++;
		*cap = 0;
	}
	return profile_append(p, wh, cap);
}

enum askue_err sim_profiles_load(const char *path, int max, struct sim_profiles *out)
{
	struct sim_profiles p = {0};
	enum askue_err err = ASKUE_OK;
	char line[PROFILE_LINE_BYTES_MAX];
	long lineno = 0;
	int32_t cap = 0;
	int done = 0;
	pid_t child;
	if (max < 1 || max > SIM_PROFILES_MAX)
		max = SIM_PROFILES_MAX;
	FILE *in = open_data(path, &child);
	if (!in)
		return askue_err_set(ASKUE_ERR_IO, "profiles %s: %s", path, strerror(errno));
	while (!done && fgets(line, sizeof line, in)) {
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(in)) {
			err = askue_err_set(ASKUE_ERR_INVALID, "line too long");
			break;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "customer_id,timestamp,kwh") != 0) {
				err = askue_err_set(ASKUE_ERR_INVALID,
				                    "header '%s', expected customer_id,timestamp,kwh", line);
				break;
			}
			continue;
		}
		if ((err = parse_line(&p, line, max, &cap, &done)) != ASKUE_OK)
			break;
	}
	if (err == ASKUE_OK && !done)
		profile_finish(&p);
	if (child) {
		/* Stop gzip if we left early, then reap it. */
		if (done || err)
			kill(child, SIGTERM);
		fclose(in);
		int status;
		waitpid(child, &status, 0);
		if (!done && !err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			err = askue_err_set(ASKUE_ERR_IO, "gzip -dc failed");
	} else {
		fclose(in);
	}
	if (err == ASKUE_OK && p.count == 0)
		err = askue_err_set(ASKUE_ERR_INVALID, "no customer with a day of readings");
	if (err != ASKUE_OK) {
		askue_err_prefix("profiles %s:%ld: ", path, lineno);
		sim_profiles_free(&p);
		return err;
	}
	*out = p;
	return ASKUE_OK;
}

void sim_profiles_free(struct sim_profiles *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->count; i++)
		free(p->wh[i]);
	p->count = 0;
}

/* A typical household's half-hours, Wh (night low, morning and evening
 * peaks; about 8.5 kWh a day), for when no data set is at hand. */
static const int16_t typical_day[48] = {
	120, 110, 100, 95,  90,  90,  90,  95,  100, 110, 120, 140, /* 00-06 */
	200, 260, 290, 260, 210, 180, 160, 150, 150, 150, 160, 170, /* 06-12 */
	170, 160, 150, 150, 160, 180, 220, 270, 320, 360, 380, 370, /* 12-18 */
	340, 310, 280, 250, 220, 200, 180, 160, 150, 140, 130, 125, /* 18-24 */
};

enum askue_err sim_profiles_synthetic(int max, struct sim_profiles *out)
{
	struct sim_profiles p = {0};
	if (max < 1 || max > SIM_PROFILES_MAX)
		max = 8;
	uint64_t state = 0x5eed5eedULL;
	for (int i = 0; i < max; i++) {
		const int32_t days = 28;
		int32_t *wh = malloc((size_t)days * 48 * sizeof *wh);
		if (!wh) {
			sim_profiles_free(&p);
			return askue_err_set(ASKUE_ERR_NOMEM, "profiles: out of memory");
		}
		/* Each household its own size (50-160 %) and day-to-day wobble. */
		uint32_t size_pct = 50 + (uint32_t)(sim_rand(&state) % 111);
		for (int32_t d = 0; d < days; d++) {
			uint32_t day_pct = 80 + (uint32_t)(sim_rand(&state) % 41);
			for (int s = 0; s < 48; s++) {
				uint32_t noise_pct = 85 + (uint32_t)(sim_rand(&state) % 31);
				wh[d * 48 + s] = (int32_t)((uint64_t)typical_day[s] * size_pct * day_pct *
				                           noise_pct / 1000000);
			}
		}
		snprintf(p.id[i], sizeof p.id[0], "synthetic-%d", i + 1);
		p.wh[i] = wh;
		p.slots[i] = days * 48;
		p.count++;
	}
	*out = p;
	return ASKUE_OK;
}
