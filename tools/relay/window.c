/* window — the relay's in-flight window (relay.h): a ring of the events
 * published and not yet acknowledged, oldest first. PUBACKs may come in any
 * order; acked_upto moves only over a run of acknowledged events at the
 * head, so it never passes an event the broker has not confirmed. */
#include <assert.h>
#include <stdlib.h>

#include "relay.h"

enum askue_err window_init(struct window *w, size_t cap, int64_t acked_upto)
{
	assert(cap > 0);
	w->slots = calloc(cap, sizeof *w->slots);
	if (!w->slots)
		return askue_err_set(ASKUE_ERR_NOMEM, "relay: window of %zu: out of memory", cap);
	w->cap = cap;
	w->head = w->count = 0;
	w->last_id = w->acked_upto = acked_upto;
	return ASKUE_OK;
}

void window_free(struct window *w)
{
	free(w->slots);
	w->slots = NULL;
	w->cap = w->count = 0;
}

int window_full(const struct window *w)
{
	return w->count == w->cap;
}

void window_push(struct window *w, int64_t id, int mid)
{
	assert(w->count < w->cap);
	assert(id > w->last_id); /* id order: the outbox reads after last_id */
	struct window_slot *s = &w->slots[(w->head + w->count) % w->cap];
	s->id = id;
	s->mid = mid;
	s->acked = 0;
	w->count++;
	w->last_id = id;
}

int window_ack(struct window *w, int mid)
{
	size_t i;
	for (i = 0; i < w->count; i++) {
		struct window_slot *s = &w->slots[(w->head + i) % w->cap];
		if (s->mid == mid && !s->acked) {
			s->acked = 1;
			break;
		}
	}
	if (i == w->count)
		return 0;
	while (w->count && w->slots[w->head].acked) {
		w->acked_upto = w->slots[w->head].id;
		w->head = (w->head + 1) % w->cap;
		w->count--;
	}
	return 1;
}

void window_clear(struct window *w)
{
	w->head = w->count = 0;
	w->last_id = w->acked_upto;
}
