/* acl — see acl.h. */
#include "acl.h"

#include <string.h>

struct rule {
	int access;
	const char *pattern;
};

/* Each role's rules, ASKUE_ROLE_* order; an empty pattern ends a list. */
static const struct rule role_rules[ASKUE_ROLE_COUNT][3] = {
	[ASKUE_ROLE_INGESTOR] = {{ACL_SUBSCRIBE | ACL_READ, "meters/+/readings"},
	                         {ACL_SUBSCRIBE, "$share/+/meters/+/readings"},
	                         {0, ""}},
	[ASKUE_ROLE_RELAY] = {{ACL_WRITE, "askue/events/#"}, {0, ""}, {0, ""}},
	[ASKUE_ROLE_JOBS] = {{ACL_WRITE, "askue/alerts/#"}, {0, ""}, {0, ""}},
	[ASKUE_ROLE_STALE] = {{ACL_SUBSCRIBE | ACL_READ, "meters/+/status"}, {0, ""}, {0, ""}},
	/* Systems that follow askue: business events and operations' alerts. */
	[ASKUE_ROLE_EVENTS] = {{ACL_SUBSCRIBE | ACL_READ, "askue/events/#"},
	                       {ACL_SUBSCRIBE | ACL_READ, "askue/alerts/#"},
	                       {0, ""}},
};

const char *acl_access_name(int access)
{
	switch (access) {
	case ACL_READ: return "read";
	case ACL_WRITE: return "publish";
	case ACL_SUBSCRIBE: return "subscribe";
	case ACL_UNSUBSCRIBE: return "unsubscribe";
	default: return "unknown access";
	}
}

/* Length of the level that starts at s (up to '/' or the end). */
static size_t level_len(const char *s)
{
	const char *slash = strchr(s, '/');
	return slash ? (size_t)(slash - s) : strlen(s);
}

int acl_filter_covers(const char *pattern, const char *filter)
{
	const char *p = pattern, *f = filter;
	for (;;) {
		size_t pn = level_len(p), fn = level_len(f);
		if (pn == 1 && p[0] == '#')
			return 1;
		if (fn == 1 && f[0] == '#')
			return 0; /* the filter reaches deeper than the pattern allows */
		if (pn == 1 && p[0] == '+') {
			/* any one level, a '+' of the filter included */
		} else if (pn != fn || memcmp(p, f, pn) != 0 || (fn == 1 && f[0] == '+')) {
			return 0;
		}
		int p_end = p[pn] == '\0', f_end = f[fn] == '\0';
		if (p_end || f_end) {
			/* "a/#" also matches "a": pattern continues only with "/#" */
			if (p_end && f_end)
				return 1;
			return f_end && !strcmp(p + pn, "/#");
		}
		p += pn + 1;
		f += fn + 1;
	}
}

/* topic = "meters/{serial}/readings" or ".../status": the serial's span. */
static int meter_topic(const char *topic, const char **serial, size_t *len)
{
	static const char prefix[] = "meters/";
	if (strncmp(topic, prefix, sizeof prefix - 1) != 0)
		return 0;
	const char *s = topic + sizeof prefix - 1;
	const char *slash = strchr(s, '/');
	if (!slash || slash == s)
		return 0;
	if (strcmp(slash, "/readings") != 0 && strcmp(slash, "/status") != 0)
		return 0;
	*serial = s;
	*len = (size_t)(slash - s);
	return 1;
}

static int service_allows(enum askue_role role, int access, const char *topic)
{
	if ((int)role < 0 || role >= ASKUE_ROLE_COUNT)
		return 0;
	for (const struct rule *r = role_rules[role]; r < role_rules[role] + 3 && r->pattern[0]; r++)
		if ((r->access & access) && acl_filter_covers(r->pattern, topic))
			return 1;
	return 0;
}

int acl_allows(const struct auth_table *t, const char *username, int access, const char *topic)
{
	if (!t || !username || !topic)
		return 0;
	if (access == ACL_UNSUBSCRIBE)
		return 1;
	const struct auth_entry *e = auth_table_find(t, username, strlen(username));
	if (!e || e->conflict || !e->has_secret)
		return 0;
	if (e->kind == AUTH_SERVICE)
		return service_allows((enum askue_role)e->role, access, topic);
	const char *serial;
	size_t len;
	if (access != ACL_WRITE || !meter_topic(topic, &serial, &len))
		return 0;
	if (e->kind == AUTH_METER)
		return len == e->name_len && !memcmp(serial, auth_table_name(t, e), len);
	/* a concentrator: the meter must be bound to it */
	const struct auth_entry *m = auth_table_find(t, serial, len);
	return m && m->kind == AUTH_METER && !m->conflict &&
	       m->concentrator_id == e->concentrator_id;
}
