/*
 * Completion rings: where wskdp puts what WSK would put in an IRP.
 *
 * A WSK call takes an IRP and completes it later with IoStatus.Status and
 * IoStatus.Information. A wskapi call instead names a completion ring and a
 * 64-bit user_data; when the request finishes, the engine posts
 *
 *	struct wsk_completion { user_data, information, status, flags }
 *
 * to that ring, and the application reaps it, liburing-style:
 *
 *	struct wsk_completion *cqe;
 *	unsigned head, n = 0;
 *
 *	wsk_cq_for_each(cq, head, cqe) {
 *		handle(cqe->user_data, cqe->status, cqe->information);
 *		n++;
 *	}
 *	wsk_cq_advance(cq, n);
 *
 * or one at a time with wsk_cq_peek() and wsk_cq_seen(), or in bursts with
 * wsk_cq_peek_batch() and wsk_cq_advance(). An entry stays valid until it is
 * advanced past; copy what you need before that.
 *
 * THREADS. One producer (the engine shard that owns the ring) and one
 * consumer (the application). They may be different threads: the ring's
 * head and tail are C11 atomics with acquire/release ordering, on separate
 * cache lines. Producer functions (reserve, unreserve, post, post_more,
 * flush_overflow) must only be called from the producer thread, consumer
 * functions (peek, peek_batch, advance, seen, ready, for_each) only from the
 * consumer thread. The statistics (overflow_count, overflowed) may be read
 * from either. Nothing here locks, allocates or makes a system call, except
 * wsk_cq_create() and wsk_cq_free().
 *
 * NO COMPLETION IS EVER LOST. The engine reserves room for a request's
 * completion when it accepts the request (wsk_cq_reserve()); if no room can
 * be promised, the call is refused with STATUS_INSUFFICIENT_RESOURCES and no
 * completion will follow. Room is the ring's slots plus a producer-owned
 * overflow list sized at creation. When the final completion is posted
 * (wsk_cq_post()) and the ring is full, it goes to the overflow list, which
 * drains into the ring in order as the consumer frees slots (each post, and
 * wsk_cq_flush_overflow() on every poll pass). Order is kept overall: while
 * the overflow list holds entries, later completions queue behind them.
 *
 * MULTISHOT. A multishot request (accept, receive) holds one reservation for
 * its final completion; its intermediate completions carry WSK_CQE_F_MORE
 * and are posted with wsk_cq_post_more(), which takes no reservation and
 * never overflows: when there is no free room it posts nothing and the
 * engine pauses the request until the consumer catches up.
 */
#ifndef WSKDP_WSK_CQ_H
#define WSKDP_WSK_CQ_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>

#include "wsk_status.h"

/* One completion: the IRP's IoStatus plus the caller's tag. */
struct wsk_completion {
	uint64_t user_data;	/* as given with the request */
	uint64_t information;	/* IoStatus.Information: bytes, or a socket */
	NTSTATUS status;	/* IoStatus.Status: the request's result */
	uint32_t flags;		/* WSK_CQE_F_* */
};

/* Multishot: more completions follow for this request. The one without it
 * is the request's last. */
#define WSK_CQE_F_MORE		(1u << 0)

/* Largest ring and overflow list wsk_cq_create() accepts. */
#define WSK_CQ_MAX_ENTRIES	(1u << 20)
#define WSK_CQ_MAX_OVERFLOW	(1u << 20)

/*
 * The ring. The fields are private: use the functions below. The struct is
 * public only so that the consumer's functions can be inlined.
 */
struct wsk_cq {
	/* Set at creation, read by both sides. */
	uint32_t mask;			/* slots - 1 (slots a power of two) */
	uint32_t entries;		/* slots in the ring */
	uint32_t overflow_capacity;	/* entries the overflow list can hold */
	struct wsk_completion *overflow; /* overflow_capacity entries */

	/* Written by the consumer only. */
	alignas(RTE_CACHE_LINE_SIZE) _Atomic uint32_t head;

	/* Written by the producer only. */
	alignas(RTE_CACHE_LINE_SIZE) _Atomic uint32_t tail;
	uint32_t head_cache;		/* last head the producer read */
	uint32_t reserved;		/* reservations not yet posted */
	uint32_t overflow_first;	/* oldest overflow entry */
	_Atomic uint32_t overflow_len;	/* entries in the overflow list */
	_Atomic uint64_t overflow_count; /* posts that went to overflow */

	alignas(RTE_CACHE_LINE_SIZE) struct wsk_completion cqes[];
};

/*
 * Create a ring.
 *
 * @param name              label for DPDK's memory statistics; may be NULL.
 * @param entries           ring slots, 1 .. WSK_CQ_MAX_ENTRIES; rounded up
 *                          to a power of two.
 * @param overflow_entries  completions the overflow list can hold beyond the
 *                          ring, 0 .. WSK_CQ_MAX_OVERFLOW.
 * @param socket_id         NUMA socket for the memory, or SOCKET_ID_ANY.
 * @return the ring, empty with no reservations; NULL if a size is out of
 *         range or memory is short.
 */
struct wsk_cq *wsk_cq_create(const char *name, unsigned entries,
			     unsigned overflow_entries, int socket_id);

/*
 * Free a ring and every completion still in it. Nobody may use it again.
 *
 * @param cq  the ring, or NULL (nothing happens).
 */
void wsk_cq_free(struct wsk_cq *cq);

/*
 * Producer side.
 */

/*
 * Promise room for one request's final completion. Called when the engine
 * accepts a request, before it returns STATUS_PENDING or STATUS_SUCCESS.
 *
 * @param cq  the ring.
 * @return true: the reservation is held; exactly one wsk_cq_post() or
 *         wsk_cq_unreserve() must follow. false: outstanding reservations
 *         plus completions not yet reaped already fill the ring and the
 *         overflow list; the caller refuses the request with
 *         STATUS_INSUFFICIENT_RESOURCES.
 */
bool wsk_cq_reserve(struct wsk_cq *cq);

/*
 * Give back a reservation that will not be used (the request failed before
 * it was accepted after all).
 *
 * @param cq  the ring; must hold at least one reservation.
 */
void wsk_cq_unreserve(struct wsk_cq *cq);

/*
 * Post a request's final completion, using up one reservation. Never fails:
 * if the ring is full, or entries wait in the overflow list, the completion
 * joins the end of the overflow list.
 *
 * @param cq           the ring; must hold at least one reservation.
 * @param user_data    the request's tag.
 * @param status       the request's result.
 * @param information  bytes transferred, or the new socket.
 * @param flags        WSK_CQE_F_* other than WSK_CQE_F_MORE.
 */
void wsk_cq_post(struct wsk_cq *cq, uint64_t user_data, NTSTATUS status,
		 uint64_t information, uint32_t flags);

/*
 * Post an intermediate multishot completion (WSK_CQE_F_MORE is added to
 * flags). It uses no reservation and never goes to the overflow list.
 *
 * @param cq           the ring.
 * @param user_data    the multishot request's tag.
 * @param status       this result's status.
 * @param information  bytes, or the accepted socket.
 * @param flags        extra WSK_CQE_F_* flags.
 * @return true: posted. false: nothing posted, because the ring has no free
 *         slot, entries wait in the overflow list, or the free room is owed
 *         to outstanding reservations; the caller pauses the request and
 *         tries again after the consumer has reaped.
 */
bool wsk_cq_post_more(struct wsk_cq *cq, uint64_t user_data, NTSTATUS status,
		      uint64_t information, uint32_t flags);

/*
 * Move overflowed completions into the ring, oldest first, as far as free
 * slots allow. The shard calls it on every poll pass.
 *
 * @param cq  the ring.
 * @return the number of completions moved (0 if none waited or the ring
 *         is full).
 */
unsigned wsk_cq_flush_overflow(struct wsk_cq *cq);

/*
 * Statistics, from either thread.
 */

/*
 * @param cq  the ring.
 * @return how many completions have ever gone to the overflow list.
 */
static inline uint64_t
wsk_cq_overflow_count(const struct wsk_cq *cq)
{
	return atomic_load_explicit(&cq->overflow_count, memory_order_relaxed);
}

/*
 * @param cq  the ring.
 * @return true while completions wait in the overflow list (they reach the
 *         ring as the consumer frees slots).
 */
static inline bool
wsk_cq_overflowed(const struct wsk_cq *cq)
{
	return atomic_load_explicit(&cq->overflow_len,
				    memory_order_relaxed) != 0;
}

/*
 * Consumer side.
 */

/*
 * @param cq  the ring.
 * @return completions ready to be reaped now.
 */
static inline unsigned
wsk_cq_ready(const struct wsk_cq *cq)
{
	/* Acquire pairs with the producer's release of tail, so the entries
	 * counted here are fully written when the caller reads them. */
	return atomic_load_explicit(&cq->tail, memory_order_acquire) -
	       atomic_load_explicit(&cq->head, memory_order_relaxed);
}

/*
 * Look at the oldest completion without consuming it.
 *
 * @param cq   the ring.
 * @param cqe  set to the completion, or to NULL when there is none.
 * @return 0 when *cqe is a completion; -EAGAIN when the ring is empty.
 */
static inline int
wsk_cq_peek(struct wsk_cq *cq, struct wsk_completion **cqe)
{
	uint32_t head = atomic_load_explicit(&cq->head, memory_order_relaxed);

	if (atomic_load_explicit(&cq->tail, memory_order_acquire) == head) {
		*cqe = NULL;
		return -EAGAIN;
	}
	*cqe = &cq->cqes[head & cq->mask];
	return 0;
}

/*
 * Look at up to max of the oldest completions without consuming them.
 *
 * @param cq    the ring.
 * @param cqes  receives pointers to the completions, oldest first.
 * @param max   room in cqes.
 * @return the number of pointers stored (0 when the ring is empty).
 */
static inline unsigned
wsk_cq_peek_batch(struct wsk_cq *cq, struct wsk_completion **cqes,
		  unsigned max)
{
	uint32_t head = atomic_load_explicit(&cq->head, memory_order_relaxed);
	unsigned n = wsk_cq_ready(cq);
	unsigned i;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		cqes[i] = &cq->cqes[(head + i) & cq->mask];
	return n;
}

/*
 * Consume the n oldest completions; their slots go back to the producer.
 *
 * @param cq  the ring.
 * @param n   how many, at most wsk_cq_ready().
 */
static inline void
wsk_cq_advance(struct wsk_cq *cq, unsigned n)
{
	uint32_t head = atomic_load_explicit(&cq->head, memory_order_relaxed);

	/* Release: the producer must not reuse a slot before we have read
	 * it. */
	if (n != 0)
		atomic_store_explicit(&cq->head, head + n,
				      memory_order_release);
}

/*
 * Consume the completion wsk_cq_peek() returned.
 *
 * @param cq   the ring.
 * @param cqe  the completion, or NULL (nothing happens).
 */
static inline void
wsk_cq_seen(struct wsk_cq *cq, struct wsk_completion *cqe)
{
	if (cqe != NULL)
		wsk_cq_advance(cq, 1);
}

/*
 * Iterate over the completions ready when the loop starts, oldest first,
 * without consuming them; call wsk_cq_advance() with the count afterwards.
 *
 * @param cq    the ring.
 * @param head  an unsigned variable, set to each completion's position.
 * @param cqe   a struct wsk_completion * variable, set to each completion.
 */
#define wsk_cq_for_each(cq, head, cqe)					\
	for (uint32_t wsk_cq_fe_head_ = (head) =			\
		     atomic_load_explicit(&(cq)->head,			\
					  memory_order_relaxed),	\
	     wsk_cq_fe_tail_ = atomic_load_explicit(&(cq)->tail,	\
						    memory_order_acquire); \
	     ((cqe) = wsk_cq_fe_head_ != wsk_cq_fe_tail_ ?		\
		      &(cq)->cqes[wsk_cq_fe_head_ & (cq)->mask] : NULL) != NULL; \
	     (head) = ++wsk_cq_fe_head_)

#endif
