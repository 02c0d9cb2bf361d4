#include "wsk_cq.h"

#include <assert.h>
#include <rte_malloc.h>

/*
 * Admission invariant, kept by every producer function:
 *
 *	reserved + (tail - head) + overflow_len <= entries + overflow_capacity
 *
 * The consumer only ever moves head forward, which only loosens it. Posting
 * a reservation swaps a unit of 'reserved' for a unit of ring or overflow,
 * so the sum stays put; after a flush the ring is full or the overflow list
 * empty, and with at least one reservation still counted the invariant then
 * leaves a free overflow node whenever the ring is full. That is why
 * wsk_cq_post() cannot fail and why wsk_cq_post_more() must leave room for
 * the reservations.
 */

struct wsk_cq *
wsk_cq_create(const char *name, unsigned entries, unsigned overflow_entries,
	      int socket_id)
{
	struct wsk_cq *cq;
	size_t ring_bytes;
	size_t size;

	if (entries == 0 || entries > WSK_CQ_MAX_ENTRIES ||
	    overflow_entries > WSK_CQ_MAX_OVERFLOW)
		return NULL;
	entries = rte_align32pow2(entries);

	ring_bytes = sizeof(*cq) + (size_t)entries * sizeof(cq->cqes[0]);
	size = ring_bytes + (size_t)overflow_entries * sizeof(cq->cqes[0]);
	cq = rte_zmalloc_socket(name, size, RTE_CACHE_LINE_SIZE, socket_id);
	if (cq == NULL)
		return NULL;

	cq->mask = entries - 1;
	cq->entries = entries;
	cq->overflow_capacity = overflow_entries;
	/* The overflow list lives in the same allocation, after the ring. */
	cq->overflow = (struct wsk_completion *)((char *)cq + ring_bytes);
	atomic_init(&cq->head, 0);
	atomic_init(&cq->tail, 0);
	atomic_init(&cq->overflow_len, 0);
	atomic_init(&cq->overflow_count, 0);
	return cq;
}

void
wsk_cq_free(struct wsk_cq *cq)
{
	rte_free(cq);
}

/* Slots the ring surely has free. Re-reads the consumer's head only when
 * the cached value says "full", to keep the consumer's cache line from
 * bouncing on every post. */
static uint32_t
ring_free(struct wsk_cq *cq)
{
	uint32_t tail = atomic_load_explicit(&cq->tail, memory_order_relaxed);
	uint32_t used = tail - cq->head_cache;

	if (used == cq->entries) {
		/* Acquire pairs with the consumer's release of head: its reads
		 * of those slots are done before we overwrite them. */
		cq->head_cache = atomic_load_explicit(&cq->head,
						      memory_order_acquire);
		used = tail - cq->head_cache;
	}
	return cq->entries - used;
}

/* Completions not yet reaped, as far as the producer can tell (never less
 * than the truth, since head only moves forward). */
static uint32_t
undelivered(struct wsk_cq *cq)
{
	uint32_t tail = atomic_load_explicit(&cq->tail, memory_order_relaxed);

	return (tail - cq->head_cache) +
	       atomic_load_explicit(&cq->overflow_len, memory_order_relaxed);
}

static void
ring_push(struct wsk_cq *cq, const struct wsk_completion *c)
{
	uint32_t tail = atomic_load_explicit(&cq->tail, memory_order_relaxed);

	cq->cqes[tail & cq->mask] = *c;
	/* Release: the entry is written before the consumer can see it. */
	atomic_store_explicit(&cq->tail, tail + 1, memory_order_release);
}

static void
overflow_push(struct wsk_cq *cq, const struct wsk_completion *c)
{
	uint32_t len = atomic_load_explicit(&cq->overflow_len,
					    memory_order_relaxed);
	uint32_t slot = cq->overflow_first + len;

	assert(len < cq->overflow_capacity);
	if (slot >= cq->overflow_capacity)
		slot -= cq->overflow_capacity;
	cq->overflow[slot] = *c;
	atomic_store_explicit(&cq->overflow_len, len + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&cq->overflow_count,
			      atomic_load_explicit(&cq->overflow_count,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Whether one more completion fits beside the reservations already held:
 * the admission test for both a new reservation and an unreserved
 * multishot entry. */
static bool
room_beyond_reservations(struct wsk_cq *cq)
{
	uint64_t capacity = (uint64_t)cq->entries + cq->overflow_capacity;

	if (cq->reserved + undelivered(cq) < capacity)
		return true;
	/* The cached head may be stale: look at the real one before
	 * refusing. */
	cq->head_cache = atomic_load_explicit(&cq->head, memory_order_acquire);
	return cq->reserved + undelivered(cq) < capacity;
}

bool
wsk_cq_reserve(struct wsk_cq *cq)
{
	if (!room_beyond_reservations(cq))
		return false;
	cq->reserved++;
	return true;
}

void
wsk_cq_unreserve(struct wsk_cq *cq)
{
	assert(cq->reserved > 0);
	cq->reserved--;
}

unsigned
wsk_cq_flush_overflow(struct wsk_cq *cq)
{
	uint32_t len = atomic_load_explicit(&cq->overflow_len,
					    memory_order_relaxed);
	unsigned moved = 0;
	uint32_t room;

	while (len > 0 && (room = ring_free(cq)) > 0) {
		uint32_t n = RTE_MIN(len, room);
		uint32_t i;

		for (i = 0; i < n; i++) {
			ring_push(cq, &cq->overflow[cq->overflow_first]);
			if (++cq->overflow_first == cq->overflow_capacity)
				cq->overflow_first = 0;
		}
		len -= n;
		moved += n;
	}
	atomic_store_explicit(&cq->overflow_len, len, memory_order_relaxed);
	return moved;
}

void
wsk_cq_post(struct wsk_cq *cq, uint64_t user_data, NTSTATUS status,
	    uint64_t information, uint32_t flags)
{
	const struct wsk_completion c = {
		.user_data = user_data,
		.information = information,
		.status = status,
		.flags = flags,
	};

	assert(cq->reserved > 0);
	assert((flags & WSK_CQE_F_MORE) == 0);
	cq->reserved--;
	/* Draining first keeps the overflow list short and, if it cannot
	 * drain fully, means the ring was full, so the invariant leaves a
	 * node for this entry. While any entry still waits, this one queues
	 * behind it even if the consumer frees a slot meanwhile. */
	if (wsk_cq_overflowed(cq))
		wsk_cq_flush_overflow(cq);
	if (!wsk_cq_overflowed(cq) && ring_free(cq) > 0)
		ring_push(cq, &c);
	else
		overflow_push(cq, &c);
}

bool
wsk_cq_post_more(struct wsk_cq *cq, uint64_t user_data, NTSTATUS status,
		 uint64_t information, uint32_t flags)
{
	const struct wsk_completion c = {
		.user_data = user_data,
		.information = information,
		.status = status,
		.flags = flags | WSK_CQE_F_MORE,
	};

	if (wsk_cq_overflowed(cq))
		wsk_cq_flush_overflow(cq);
	/* Test the list, not only the ring: the consumer may free a slot
	 * right after the flush gave up, and this entry must not take it
	 * ahead of the overflowed ones. */
	if (wsk_cq_overflowed(cq) || ring_free(cq) == 0)
		return false;
	/* The entry must not take room a reservation will need later. */
	if (!room_beyond_reservations(cq))
		return false;
	ring_push(cq, &c);
	return true;
}
