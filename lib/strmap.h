/* strmap — a hash map from strings (meter serials, substation names) to
 * int64 values, for the jobs that join half a million meters in memory.
 * Open addressing, grows at half full; keys are copied. */
#ifndef ASKUE_STRMAP_H
#define ASKUE_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

struct askue_strmap;

ASKUE_MUST enum askue_err askue_strmap_new(size_t expected, struct askue_strmap **out);
void askue_strmap_free(struct askue_strmap *m); /* NULL is a no-op */
/* Insert or replace. */
ASKUE_MUST enum askue_err askue_strmap_put(struct askue_strmap *m, const char *key, int64_t value);
/* 1 and *value when found, 0 when not. */
int askue_strmap_get(const struct askue_strmap *m, const char *key, int64_t *value);
size_t askue_strmap_count(const struct askue_strmap *m);

#endif
