/*
 * The submission ring: calls from threads other than the shard's.
 *
 * Two rte_rings of slot pointers over one slot array, all made at client
 * creation: 'free' (single producer: the shard; many consumers: the
 * submitters) and 'submit' (many producers: the submitters; single
 * consumer: the shard). A submitter takes a free slot, copies its sqe
 * into it and enqueues it; the shard dequeues, runs the call and gives the
 * slot back. Both rings hold every slot, so enqueues never fail. Nothing
 * locks: rte_ring's multi-producer/consumer paths are lock-free.
 *
 * Exactly one completion per submission: a call the shard refuses posts
 * no completion of its own, so the shard posts one carrying the refusal.
 * When even that cannot be posted (the ring named in the sqe is full) the
 * slot and those dequeued after it wait (sq_stalled) and are retried
 * first on the next poll: the submitters see back-pressure, never a lost
 * completion. The wait holds up every submitter of the client, which
 * keeps submission order simple.
 */
#include <stdlib.h>
#include <string.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "wsk.h"
#include "wsk_internal.h"

struct wsk_sqe_slot {
	struct wsk_sqe sqe;
};

static struct rte_ring *
ring_make(const char *name, unsigned count, unsigned flags)
{
	/* RING_F_EXACT_SZ: 'count' usable slots need the next power of
	 * two above count + 1. */
	ssize_t size = rte_ring_get_memsize_elem(sizeof(void *),
						 rte_align32pow2(count + 1));
	struct rte_ring *r;

	if (size < 0)
		return NULL;
	r = rte_zmalloc(name, (size_t)size, RTE_CACHE_LINE_SIZE);
	if (r == NULL)
		return NULL;
	/* Initialised in place: no memzone, so no process-wide name to
	 * clash between clients. */
	if (rte_ring_init(r, name, count, flags | RING_F_EXACT_SZ) != 0) {
		rte_free(r);
		return NULL;
	}
	return r;
}

int
wsk_submit_init(struct wsk_client *c, unsigned entries)
{
	c->sq_slots = calloc(entries, sizeof(*c->sq_slots));
	c->sq_free = ring_make("wsk_sq_free", entries, RING_F_SP_ENQ);
	c->sq_submit = ring_make("wsk_sq_submit", entries, RING_F_SC_DEQ);
	if (c->sq_slots == NULL || c->sq_free == NULL || c->sq_submit == NULL)
		return -1;
	for (unsigned i = 0; i < entries; i++) {
		void *slot = &c->sq_slots[i];

		rte_ring_enqueue(c->sq_free, slot);
	}
	return 0;
}

void
wsk_submit_fini(struct wsk_client *c)
{
	rte_free(c->sq_free);
	rte_free(c->sq_submit);
	free(c->sq_slots);
	c->sq_free = c->sq_submit = NULL;
	c->sq_slots = NULL;
	c->sq_nstalled = 0;
}

NTSTATUS
wsk_client_submit(struct wsk_client *c, const struct wsk_sqe *sqe)
{
	void *slot;

	if (c == NULL || sqe == NULL || sqe->req.cq == NULL ||
	    (unsigned)sqe->op >= WSK_OP_COUNT)
		return STATUS_INVALID_PARAMETER;
	if (rte_ring_mc_dequeue(c->sq_free, &slot) != 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	memcpy(slot, sqe, sizeof(*sqe));
	/* Cannot fail: the submit ring has room for every slot. */
	rte_ring_mp_enqueue(c->sq_submit, slot);
	return STATUS_PENDING;
}

/* Run one call on the shard; its status as the call returned it. */
static NTSTATUS
run(struct wsk_client *c, struct wsk_sqe *q)
{
	WSK_SOCKET *s = q->socket;
	const WSK_BUF *buf = q->has_buf ? &q->buf : NULL;
	const struct sockaddr *a = (const struct sockaddr *)&q->addr;
	const struct sockaddr *a2 = (const struct sockaddr *)&q->addr2;
	const WSK_PROVIDER_STREAM_DISPATCH *d;

	if (q->op == WSK_OP_SOCKET)
		return wsk_socket_ex(c, q->family, q->type, q->protocol,
				     q->flags, q->context, q->client_dispatch,
				     NULL, &q->req);
	if (q->op == WSK_OP_SOCKET_CONNECT)
		return wsk_socket_connect(c, q->type, q->protocol, a, a2,
					  q->flags, q->context,
					  q->client_dispatch, &q->req);
	/* A socket of another client, or none: refused like a closed one. */
	if (s == NULL || sock_of(s) < c->sockets ||
	    sock_of(s) >= c->sockets + c->nb_sockets)
		return STATUS_INVALID_PARAMETER;
	/* Each function checks the category itself, so going through the
	 * implementations directly is safe for every category. */
	d = wsk_provider_dispatch(WSK_FLAG_STREAM_SOCKET);
	switch (q->op) {
	case WSK_OP_CLOSE:
		return d->basic.close_socket(s, &q->req);
	case WSK_OP_BIND:
		return d->bind(s, a, q->flags, &q->req);
	case WSK_OP_LISTEN:
		return d->listen(s, &q->req);
	case WSK_OP_CONNECT_EX:
		return d->connect_ex(s, a, buf, q->flags, &q->req);
	case WSK_OP_ACCEPT:
		return d->accept(s, q->flags, q->context, q->client_dispatch,
				 q->out_local, q->out_remote, &q->req);
	case WSK_OP_SEND:
		return d->send(s, &q->buf, q->flags, &q->req);
	case WSK_OP_RECEIVE:
		return d->receive(s, &q->buf, q->flags, &q->req);
	case WSK_OP_DISCONNECT:
		return d->disconnect(s, buf, q->flags, &q->req);
	case WSK_OP_GET_LOCAL_ADDRESS:
		return d->get_local_address(s, q->out_local, &q->req);
	case WSK_OP_GET_REMOTE_ADDRESS:
		return d->get_remote_address(s, q->out_remote, &q->req);
	case WSK_OP_CONTROL_SOCKET:
		return d->basic.control_socket(s, q->control_type, q->code,
				q->level, q->in_size, q->in_buf, q->out_size,
				q->out_buf, NULL, &q->req);
	default:
		return STATUS_INVALID_PARAMETER;
	}
}

/* Run a slot's call. false: it must wait for completion room (the slot
 * is kept). */
static bool
run_slot(struct wsk_client *c, struct wsk_sqe_slot *slot)
{
	struct wsk_sqe *q = &slot->sqe;
	NTSTATUS st = run(c, q);

	if (st != STATUS_SUCCESS && st != STATUS_PENDING &&
	    st != STATUS_FILE_FORCED_CLOSED) {
		/* Refused: nothing was posted, so post the refusal. A full
		 * ring refused the call itself; wait for room. */
		if (!wsk_cq_reserve(q->req.cq))
			return false;
		wsk_cq_post(q->req.cq, q->req.user_data, st, 0, 0);
	}
	rte_ring_sp_enqueue(c->sq_free, slot);
	return true;
}

void
wsk_submit_drain(struct wsk_client *c)
{
	void *slots[WSK_SUBMIT_BURST];
	unsigned n, i, k;

	/* Calls that waited for completion room go first, in order; while
	 * one still waits, nothing newer runs (submission order holds). */
	for (i = 0; i < c->sq_nstalled; i++) {
		if (!run_slot(c, c->sq_stalled[i]))
			break;
	}
	if (i > 0) {
		memmove(c->sq_stalled, c->sq_stalled + i,
			(c->sq_nstalled - i) * sizeof(c->sq_stalled[0]));
		c->sq_nstalled -= i;
	}
	if (c->sq_nstalled > 0)
		return;
	n = rte_ring_sc_dequeue_burst(c->sq_submit, slots, WSK_SUBMIT_BURST,
				      NULL);
	for (i = 0; i < n; i++) {
		if (!run_slot(c, slots[i]))
			break;
	}
	for (k = 0; i < n; i++, k++)
		c->sq_stalled[k] = slots[i];
	c->sq_nstalled = k;
}
