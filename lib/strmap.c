/* strmap — see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	char *key; /* NULL = empty */
	int64_t value;
};

struct askue_strmap {
	struct slot *slots;
	size_t cap, n; /* cap a power of two */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

enum askue_err askue_strmap_new(size_t expected, struct askue_strmap **out)
{
	struct askue_strmap *m = calloc(1, sizeof *m);
	size_t cap = 16;
	while (cap < expected * 2)
		cap *= 2;
	if (m)
		m->slots = calloc(cap, sizeof *m->slots);
	if (!m || !m->slots) {
		free(m);
		return askue_err_set(ASKUE_ERR_NOMEM, "map of %zu keys: out of memory", expected);
	}
	m->cap = cap;
	*out = m;
	return ASKUE_OK;
}

void askue_strmap_free(struct askue_strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *find(const struct askue_strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);
	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static enum askue_err grow(struct askue_strmap *m)
{
	struct slot *old = m->slots;
	size_t old_cap = m->cap;
	struct slot *slots = calloc(old_cap * 2, sizeof *slots);
	if (!slots)
		return askue_err_set(ASKUE_ERR_NOMEM, "map of %zu keys: out of memory", m->n);
	m->slots = slots;
	m->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*find(m, old[i].key) = old[i];
	free(old);
	return ASKUE_OK;
}

enum askue_err askue_strmap_put(struct askue_strmap *m, const char *key, int64_t value)
{
	if ((m->n + 1) * 2 > m->cap) {
		enum askue_err err = grow(m);
		if (err)
			return err;
	}
	struct slot *s = find(m, key);
	if (!s->key) {
		if (!(s->key = strdup(key)))
			return askue_err_set(ASKUE_ERR_NOMEM, "map: out of memory");
		m->n++;
	}
	s->value = value;
	return ASKUE_OK;
}

int askue_strmap_get(const struct askue_strmap *m, const char *key, int64_t *value)
{
	const struct slot *s = find(m, key);
	if (!s->key)
		return 0;
	*value = s->value;
	return 1;
}

size_t askue_strmap_count(const struct askue_strmap *m) { return m->n; }
