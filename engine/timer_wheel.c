#include "timer_wheel.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#define entry_of(l) \
	((struct timer_entry *)((char *)(l) - offsetof(struct timer_entry, link)))

static inline void
list_init(struct timer_link *head)
{
	head->prev = head;
	head->next = head;
}

static inline bool
list_empty(const struct timer_link *head)
{
	return head->next == head;
}

static inline void
list_append(struct timer_link *head, struct timer_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void
list_unlink(struct timer_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = NULL;
	l->next = NULL;
}

/* Move every link of 'from' to the front of 'to', keeping their order;
 * 'from' is left empty. */
static inline void
list_splice_front(struct timer_link *from, struct timer_link *to)
{
	struct timer_link *first = from->next, *last = from->prev;

	if (list_empty(from))
		return;
	last->next = to->next;
	to->next->prev = last;
	to->next = first;
	first->prev = to;
	list_init(from);
}

static inline struct timer_link *
due_list(struct timer_wheel *w)
{
	return &w->slots[w->nslots];
}

static inline struct timer_link *
slot_of_tick(struct timer_wheel *w, uint64_t tick)
{
	return &w->slots[tick & w->slot_mask];
}

int
timer_wheel_init(struct timer_wheel *w, uint32_t nslots, uint64_t tick_us,
		 uint64_t now_us)
{
	uint32_t i;

	w->slots = NULL;
	if (nslots == 0 || (nslots & (nslots - 1)) != 0 || tick_us == 0)
		return -EINVAL;
	/* One extra head after the slots holds the due list, so the struct
	 * itself holds no list head and may be copied or moved. */
	w->slots = calloc((size_t)nslots + 1, sizeof(*w->slots));
	if (w->slots == NULL)
		return -ENOMEM;
	for (i = 0; i <= nslots; i++)
		list_init(&w->slots[i]);
	w->nslots = nslots;
	w->slot_mask = nslots - 1;
	w->tick_us = tick_us;
	w->tick_div = rte_reciprocal_value_u64(tick_us);
	w->now_us = now_us;
	w->position_tick = now_us / tick_us;
	w->count = 0;
	w->slot_visits = 0;
	w->pos_min_us = 0;
	return 0;
}

void
timer_wheel_free(struct timer_wheel *w)
{
	free(w->slots);
	w->slots = NULL;
	w->count = 0;
}

void
timer_wheel_arm(struct timer_wheel *w, struct timer_entry *e,
		uint64_t expire_us)
{
	uint64_t tick = rte_reciprocal_divide_u64(expire_us, &w->tick_div);

	if (e->armed)
		list_unlink(&e->link);
	else
		w->count++;
	e->armed = true;
	e->expire_us = expire_us;
	/* Slots hold only ticks from the position on. An expiry already due
	 * at the position goes to the due list instead: the slot of the
	 * position may be the one advance is firing from right now, and once
	 * the position moves on that slot is not visited for a revolution. */
	if (tick > w->position_tick ||
	    (tick == w->position_tick && expire_us > w->now_us)) {
		list_append(slot_of_tick(w, tick), &e->link);
		if (tick == w->position_tick && expire_us < w->pos_min_us)
			w->pos_min_us = expire_us;
	} else
		list_append(due_list(w), &e->link);
}

void
timer_wheel_cancel(struct timer_wheel *w, struct timer_entry *e)
{
	if (!e->armed)
		return;
	list_unlink(&e->link);
	e->armed = false;
	w->count--;
}

/*
 * Stable merge sort by expiry of a NULL-terminated list chained through
 * 'next' (Simon Tatham's bottom-up list merge sort): no allocation, no
 * recursion, O(n log n). Returns the new first link; 'prev' is left stale.
 */
static struct timer_link *
sort_by_expiry(struct timer_link *list)
{
	size_t run = 1;

	for (;;) {
		struct timer_link *p = list, *tail = NULL;
		size_t merges = 0;

		list = NULL;
		while (p != NULL) {
			struct timer_link *q = p;
			size_t psize = 0, qsize = run;

			merges++;
			while (psize < run && q != NULL) {
				psize++;
				q = q->next;
			}
			while (psize > 0 || (qsize > 0 && q != NULL)) {
				struct timer_link *take;

				if (psize == 0) {
					take = q;
					q = q->next;
					qsize--;
				} else if (qsize == 0 || q == NULL ||
					   entry_of(p)->expire_us <=
					   entry_of(q)->expire_us) {
					take = p;
					p = p->next;
					psize--;
				} else {
					take = q;
					q = q->next;
					qsize--;
				}
				if (tail != NULL)
					tail->next = take;
				else
					list = take;
				tail = take;
			}
			p = q;
		}
		if (tail != NULL)
			tail->next = NULL;
		if (merges <= 1)
			return list;
		run *= 2;
	}
}

/*
 * The position fell a revolution or more behind: walking tick by tick
 * would visit slots many times over, and firing slot by slot would mix up
 * rounds. Sweep every slot once, take out what is due, sort it by expiry
 * and queue it behind the due list (whose entries expire at or before the
 * old position, so the order holds). Nothing left in a slot is due, so the
 * position can jump to now.
 */
static void
collect_after_gap(struct timer_wheel *w, uint64_t now_tick)
{
	struct timer_link *first = NULL, **next_ptr = &first, *l;
	uint32_t i;

	for (i = 0; i < w->nslots; i++) {
		struct timer_link *head = &w->slots[i], *cur = head->next;

		w->slot_visits++;
		while (cur != head) {
			struct timer_link *after = cur->next;

			if (entry_of(cur)->expire_us <= w->now_us) {
				cur->prev->next = after;
				after->prev = cur->prev;
				*next_ptr = cur;
				next_ptr = &cur->next;
			}
			cur = after;
		}
	}
	*next_ptr = NULL;
	for (l = sort_by_expiry(first); l != NULL; ) {
		struct timer_link *after = l->next;

		list_append(due_list(w), l);
		l = after;
	}
	w->position_tick = now_tick;
	w->pos_min_us = 0;
}

/*
 * Fire the due entries of 'head' (a slot or the due list), at most
 * max_fires - *fired of them. The list is first moved to a local head so
 * that entries the callbacks arm into 'head' wait for a later call instead
 * of being found again in this pass; callbacks may still cancel or re-arm
 * entries of the local list, since unlinking needs only the neighbours.
 * Entries not due go back to 'head'. Returns false if the cap stopped it,
 * with the unfired entries back at the front of 'head'.
 */
static bool
fire_list(struct timer_wheel *w, struct timer_link *head, unsigned max_fires,
	  unsigned *fired, void (*fire)(struct timer_entry *e, void *arg),
	  void *arg)
{
	struct timer_link batch;

	list_init(&batch);
	list_splice_front(head, &batch);
	while (!list_empty(&batch)) {
		struct timer_link *l = batch.next;
		struct timer_entry *e = entry_of(l);

		if (e->expire_us > w->now_us) {
			list_unlink(l);
			list_append(head, l);
			if (e->expire_us < w->pos_min_us)
				w->pos_min_us = e->expire_us;
			continue;
		}
		if (*fired == max_fires) {
			list_splice_front(&batch, head);
			return false;
		}
		list_unlink(l);
		e->armed = false;
		w->count--;
		(*fired)++;
		fire(e, arg);
	}
	return true;
}

unsigned
timer_wheel_advance(struct timer_wheel *w, uint64_t now_us, unsigned max_fires,
		    void (*fire)(struct timer_entry *e, void *arg), void *arg)
{
	unsigned fired = 0;
	uint64_t now_tick;
	bool swept;

	if (now_us < w->now_us)
		return 0;
	w->now_us = now_us;
	now_tick = rte_reciprocal_divide_u64(now_us, &w->tick_div);
	if (w->count == 0) {
		/* An idle wheel skips the walk: nothing could fire. */
		if (w->position_tick != now_tick)
			w->pos_min_us = 0;
		w->position_tick = now_tick;
		return 0;
	}
	swept = now_tick - w->position_tick >= w->nslots;
	if (swept)
		collect_after_gap(w, now_tick);
	/* Entries armed at or before the position come before any slot. */
	if (!fire_list(w, due_list(w), max_fires, &fired, fire, arg))
		return fired;
	/* After a sweep no slot holds a due entry: callbacks since then
	 * could only add entries that are not due or go to the due list. */
	if (swept)
		return fired;
	for (;;) {
		bool current = w->position_tick == now_tick;

		/* A slot before now is all due; the current one only from
		 * its earliest expiry on. fire_list and arm rebuild the
		 * minimum from what stays in the slot. */
		if (!current || w->now_us >= w->pos_min_us) {
			w->slot_visits++;
			w->pos_min_us = UINT64_MAX;
			if (!fire_list(w, slot_of_tick(w, w->position_tick),
				       max_fires, &fired, fire, arg)) {
				w->pos_min_us = 0;
				return fired;
			}
		}
		if (current)
			return fired;
		w->position_tick++;
		w->pos_min_us = 0;
	}
}
