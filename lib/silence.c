/* silence — see silence.h. */
#include "silence.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trim spaces at both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static int parse_hours(const char *s, const char *e, int64_t lo, int64_t *out)
{
	trim(&s, &e);
	char buf[32];
	size_t n = (size_t)(e - s);
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || *end || v < lo || v > 8784)
		return -1;
	*out = v;
	return 0;
}

static enum askue_err parse_entry(const char *s, const char *e, struct askue_stale_rules *r)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *slash = eq ? memchr(eq, '/', (size_t)(e - eq)) : NULL;
	const char *name = s, *name_end = eq ? eq : e;
	trim(&name, &name_end);
	struct askue_stale_model m = {0};
	if (!eq || !slash || name == name_end ||
	    (size_t)(name_end - name) > ASKUE_SHORT_TEXT_BYTES_MAX ||
	    parse_hours(eq + 1, slash, 1, &m.interval_h) || parse_hours(slash + 1, e, 0, &m.grace_h))
		return askue_err_set(ASKUE_ERR_CONFIG,
		                     "[stale] models: '%.*s' is not MODEL=INTERVAL_H/GRACE_H "
		                     "(hours, interval 1..8784, grace 0..8784)",
		                     (int)(e - s), s);
	memcpy(m.model, name, (size_t)(name_end - name));
	for (size_t i = 0; i < r->n_models; i++)
		if (!strcmp(r->models[i].model, m.model))
			return askue_err_set(ASKUE_ERR_CONFIG, "[stale] models: model '%s' named twice",
			                     m.model);
	if (r->n_models == ASKUE_STALE_MODELS_MAX)
		return askue_err_set(ASKUE_ERR_LIMIT, "[stale] models: more than %d models",
		                     ASKUE_STALE_MODELS_MAX);
	r->models[r->n_models++] = m;
	return ASKUE_OK;
}

enum askue_err askue_stale_rules_parse(const char *spec, int64_t default_interval_h,
                                       int64_t default_grace_h, struct askue_stale_rules *out)
{
	static struct askue_stale_rules r; /* large: not on the stack */
	memset(&r, 0, sizeof r);
	r.default_interval_h = default_interval_h;
	r.default_grace_h = default_grace_h;
	const char *p = spec ? spec : "";
	while (*p) {
		const char *semi = strchr(p, ',');
		const char *e = semi ? semi : p + strlen(p);
		const char *s = p, *te = e;
		trim(&s, &te);
		if (s < te) {
			enum askue_err err = parse_entry(s, te, &r);
			if (err)
				return err;
		}
		p = semi ? semi + 1 : e;
	}
	memcpy(out, &r, sizeof r);
	return ASKUE_OK;
}

int64_t askue_stale_after_s(const struct askue_stale_rules *r, const char *model)
{
	for (size_t i = 0; i < r->n_models; i++)
		if (!strcmp(r->models[i].model, model))
			return (r->models[i].interval_h + r->models[i].grace_h) * 3600;
	return (r->default_interval_h + r->default_grace_h) * 3600;
}

int askue_silence_judge(int64_t now, int has_last, int64_t last_ts, int64_t installed_s,
                        int64_t after_s, int64_t *silent_s)
{
	int64_t ref = has_last && last_ts > installed_s ? last_ts : installed_s;
	int64_t gap = now - ref;
	int silent = gap > after_s;
	*silent_s = silent ? gap : 0;
	return silent;
}

int askue_outage(size_t total, size_t silent, int64_t share_pct, int64_t min_meters)
{
	if (total == 0 || silent < (size_t)min_meters)
		return 0;
	return (uint64_t)silent * 100 >= (uint64_t)total * (uint64_t)share_pct;
}

enum askue_stale_action askue_stale_decide(int silent, int covered, int has_active,
                                           int recent_closed)
{
	if (!silent)
		return has_active ? ASKUE_STALE_CLOSE : ASKUE_STALE_NONE;
	if (has_active || covered)
		return ASKUE_STALE_NONE;
	return recent_closed ? ASKUE_STALE_REOPEN : ASKUE_STALE_OPEN;
}
