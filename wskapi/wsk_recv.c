/*
 * Receiving: receive requests (plain, WAITALL, DRAIN), the receive event,
 * release, and the graceful disconnect event that follows the last byte.
 *
 * Order of service whenever bytes or a FIN arrive: queued receives first,
 * in submission order (they run no application code), then the receive
 * event, then the disconnect event once every byte before the FIN has
 * been handed over.
 *
 * Receive requests copy, as in WSK: the bytes go into the application's
 * WSK_BUF. The receive event does not: it takes the payload mbufs out of
 * the connection (tcp_recv_mbufs()) and indicates them where they are,
 * one WSK_DATA_INDICATION per mbuf segment, its MDL pointing at the
 * segment's data. Elements come from the client's pool (struct wsk_ind,
 * sized in wsk_recv_init()), so nothing is allocated per packet. What the
 * callback returns decides where the mbufs go:
 *  - all accepted: freed when the callback returns;
 *  - some or none accepted: the rest goes back, as the mbufs themselves,
 *    in front of the socket's "held" segments, which receives read before
 *    the connection's; the event stops until a receive call;
 *  - STATUS_PENDING: the elements and their mbufs are the application's
 *    until release() frees them.
 * Held segments are also where the event stages what it took from the
 * connection but could not indicate (the element pool ran short), so held
 * bytes are always the oldest. While a callback runs (in_indication),
 * receives and events on the socket wait: a receive called from the
 * callback is served once the callback's return is settled, after the
 * bytes it did not accept.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <rte_mbuf.h>

#include "shard.h"
#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

/* The application's pointer is the element's. */
_Static_assert(offsetof(struct wsk_ind, di) == 0,
	       "WSK_DATA_INDICATION must open struct wsk_ind");

/* --- indication elements ------------------------------------------------------ */

int
wsk_recv_init(struct wsk_client *c, unsigned max_requests)
{
	unsigned n = RTE_MIN(RTE_MAX(max_requests, WSK_INDICATION_POOL_MIN),
			     WSK_INDICATION_POOL_MAX);

	TAILQ_INIT(&c->ind_waiting);
	c->inds = calloc(n, sizeof(*c->inds));
	if (c->inds == NULL)
		return -ENOMEM;
	c->nb_inds = n;
	c->ind_low = n / 4;
	for (unsigned i = n; i-- > 0;) {
		c->inds[i].link = c->ind_free;
		c->ind_free = &c->inds[i];
	}
	c->ind_nfree = n;
	return 0;
}

void
wsk_recv_fini(struct wsk_client *c)
{
	if (c->inds == NULL)
		return;
	for (unsigned i = 0; i < c->nb_inds; i++) {
		if (c->inds[i].m != NULL)
			rte_pktmbuf_free_seg(c->inds[i].m);
	}
	free(c->inds);
	c->inds = NULL;
	c->ind_free = NULL;
	c->nb_inds = c->ind_nfree = 0;
}

/* Give an element back to the pool; its mbuf is gone already. */
static void
ind_put(struct wsk_client *c, struct wsk_ind *e)
{
	e->m = NULL;
	e->owner = NULL;
	e->state = IND_FREE;
	e->link = c->ind_free;
	c->ind_free = e;
	c->ind_nfree++;
}

/* The element the application's pointer names, or NULL when it is not
 * one of the client's (checked by address alone: nothing is read
 * through a pointer that is not ours). */
static struct wsk_ind *
ind_of(const struct wsk_client *c, const WSK_DATA_INDICATION *di)
{
	uintptr_t p = (uintptr_t)di, base = (uintptr_t)c->inds;
	uintptr_t size = (uintptr_t)c->nb_inds * sizeof(*c->inds);

	if (p < base || p - base >= size || (p - base) % sizeof(*c->inds))
		return NULL;
	return &c->inds[(p - base) / sizeof(*c->inds)];
}

/* --- held segments -------------------------------------------------------------- */

void
wsk_recv_held_free(struct wsk_sock *so)
{
	while (so->held_head != NULL) {
		struct rte_mbuf *m = so->held_head;

		so->held_head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	so->held_tail = NULL;
	so->held_bytes = 0;
}

/* Detach the first held segment. */
static struct rte_mbuf *
held_pop(struct wsk_sock *so)
{
	struct rte_mbuf *m = so->held_head;

	so->held_head = m->next;
	if (so->held_head == NULL)
		so->held_tail = NULL;
	m->next = NULL;
	so->held_bytes -= m->data_len;
	return m;
}

/* Put a list of standalone segments [head..tail] of 'bytes' in front of
 * the held ones. */
static void
held_push_front(struct wsk_sock *so, struct rte_mbuf *head,
		struct rte_mbuf *tail, uint32_t bytes)
{
	tail->next = so->held_head;
	if (so->held_head == NULL)
		so->held_tail = tail;
	so->held_head = head;
	so->held_bytes += bytes;
}

/* Copy up to len held bytes to dst (NULL: discard), dropping what was
 * taken. */
static uint32_t
held_take(struct wsk_sock *so, uint8_t *dst, uint32_t len)
{
	uint32_t n = 0;

	while (n < len && so->held_head != NULL) {
		struct rte_mbuf *m = so->held_head;
		uint32_t k = RTE_MIN(len - n, (uint32_t)m->data_len);

		if (dst != NULL)
			memcpy(dst + n, rte_pktmbuf_mtod(m, uint8_t *), k);
		n += k;
		if (k < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)k);
			so->held_bytes -= k;
			break;
		}
		rte_pktmbuf_free_seg(held_pop(so));
	}
	return n;
}

/* Move up to max bytes from the connection to the back of the held
 * segments, without copying. */
static void
held_fill(struct wsk_sock *so, uint32_t max)
{
	struct rte_mbuf *m, *next;

	if (so->conn == NULL || tcp_recv_mbufs(so->conn, &m, max) == 0)
		return;
	/* The chain's head becomes a plain segment like the others. */
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	for (; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		if (so->held_tail != NULL)
			so->held_tail->next = m;
		else
			so->held_head = m;
		so->held_tail = m;
		so->held_bytes += m->data_len;
	}
}

/* Bytes ready for the application: held, then the connection's. */
static uint32_t
ready_bytes(const struct wsk_sock *so)
{
	return so->held_bytes +
	       (so->conn != NULL ? tcp_rcv_bytes(so->conn) : 0);
}

/* Every byte before the peer's FIN has been handed over. */
static bool
at_end(const struct wsk_sock *so)
{
	return so->conn != NULL && tcp_rcv_fin(so->conn) &&
	       ready_bytes(so) == 0;
}

/* Copy up to len ready bytes to dst (NULL: discard). */
static uint32_t
take(struct wsk_sock *so, uint8_t *dst, uint32_t len)
{
	uint32_t n = held_take(so, dst, len);

	if (n < len && so->conn != NULL) {
		if (dst != NULL) {
			n += tcp_recv(so->conn, dst + n, len - n);
		} else {
			struct rte_mbuf *m;
			uint32_t k;

			/* Discarding needs no copy. */
			do {
				k = tcp_recv_mbufs(so->conn, &m, len - n);
				rte_pktmbuf_free(m);
				n += k;
			} while (k > 0 && n < len && so->conn != NULL);
		}
	}
	return n;
}

/* --- receive requests -------------------------------------------------------- */

/* Serve queued receives in order; runs no application code. */
static void
serve_requests(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	struct wsk_req *r;

	/* Bytes lent to a running callback come first. */
	if (so->in_indication)
		return;
	while ((r = so->recvs.head) != NULL && so->conn != NULL) {
		if (r->flags & WSK_FLAG_DRAIN) {
			r->done += take(so, NULL, UINT32_MAX);
			if (!at_end(so))
				return;
		} else {
			while (r->left > 0 && ready_bytes(so) > 0) {
				size_t k = RTE_MIN(r->left,
						   r->mdl->len - r->offset);
				uint32_t n;

				if (k > UINT32_MAX)
					k = UINT32_MAX;
				n = take(so, (uint8_t *)r->mdl->va + r->offset,
					 (uint32_t)k);
				if (n == 0)
					break;
				r->done += n;
				cursor_skip(r, n);
			}
			/* WAITALL: only a full buffer or the end of the
			 * stream completes it. */
			if (r->left > 0 && !at_end(so) &&
			    ((r->flags & WSK_FLAG_WAITALL) || r->done == 0))
				return;
		}
		rq_pop(&so->recvs);
		req_complete(c, r, STATUS_SUCCESS, r->done);
	}
}

/* --- events ---------------------------------------------------------------- */

void
wsk_event_disconnect(struct wsk_sock *so, bool abortive)
{
	PFN_WSK_DISCONNECT_EVENT cb = wsk_callbacks(so).disconnect;

	if (cb == NULL || !(so->events & WSK_EVENT_DISCONNECT) ||
	    so->disconnect_indicated)
		return;
	so->disconnect_indicated = true;
	cb(so->context, abortive ? WSK_FLAG_ABORTIVE : 0);
}

/*
 * Build an indication from the front of the ready bytes: top the held
 * segments up from the connection, then lend whole held segments, one
 * element each, while elements last and fewer than WSK_INDICATION_MAX
 * bytes are lent. Returns the bytes lent (the list at *first, linked
 * through di.next and link); 0 when no element or, for a segment to be
 * split, no mbuf was free.
 */
static uint32_t
ind_build(struct wsk_sock *so, struct wsk_ind **first, unsigned *count)
{
	struct wsk_client *c = so->client;
	struct wsk_ind *last = NULL;
	uint32_t n = 0;

	*first = NULL;
	*count = 0;
	if (c->ind_free == NULL)
		return 0;
	if (so->held_bytes < WSK_INDICATION_MAX)
		held_fill(so, WSK_INDICATION_MAX - so->held_bytes);
	while (so->held_head != NULL && n < WSK_INDICATION_MAX &&
	       c->ind_free != NULL) {
		struct wsk_ind *e = c->ind_free;
		struct rte_mbuf *m = held_pop(so);

		c->ind_free = e->link;
		c->ind_nfree--;
		e->m = m;
		e->state = IND_LENT;
		e->owner = NULL;
		e->link = NULL;
		e->mdl = (struct wsk_mdl){
			.va = rte_pktmbuf_mtod(m, void *),
			.len = m->data_len,
		};
		e->di = (WSK_DATA_INDICATION){
			.buffer = { .mdl = &e->mdl, .length = m->data_len },
		};
		if (last != NULL) {
			last->link = e;
			last->di.next = &e->di;
		} else {
			*first = e;
		}
		last = e;
		n += m->data_len;
		(*count)++;
	}
	return n;
}

/*
 * After a callback that did not retain the list: the first 'accepted'
 * bytes are freed, the rest go back in front of the held segments as the
 * mbufs they are, and the elements return to the pool. closed: the
 * socket is gone, nothing is kept.
 */
static void
ind_settle(struct wsk_sock *so, struct wsk_ind *e, size_t accepted,
	   bool closed)
{
	struct wsk_client *c = so->client;
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t kept = 0;

	while (e != NULL) {
		struct wsk_ind *next = e->link;
		struct rte_mbuf *m = e->m;

		if (closed || accepted >= m->data_len) {
			accepted -= RTE_MIN(accepted, (size_t)m->data_len);
			rte_pktmbuf_free_seg(m);
		} else {
			if (accepted > 0) {
				rte_pktmbuf_adj(m, (uint16_t)accepted);
				accepted = 0;
			}
			kept += m->data_len;
			if (tail != NULL)
				tail->next = m;
			else
				head = m;
			tail = m;
		}
		ind_put(c, e);
		e = next;
	}
	if (head != NULL)
		held_push_front(so, head, tail, kept);
}

/* Indicate ready bytes while the receive event is on and nobody queued a
 * receive. */
static void
serve_event(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;

	while (!so->in_indication && so->state == SOCK_CONNECTED &&
	       so->conn != NULL && (so->events & WSK_EVENT_RECEIVE) &&
	       !so->recv_event_paused && so->recvs.head == NULL &&
	       ready_bytes(so) > 0) {
		PFN_WSK_RECEIVE_EVENT cb = wsk_callbacks(so).receive;
		struct wsk_ind *list;
		size_t accepted = 0;
		uint32_t flags = 0, n, gen = so->gen;
		unsigned count;
		bool gone;
		NTSTATUS st;

		if (cb == NULL)
			return;
		/* Upcalls that the engine dispatches from inside
		 * tcp_recv_mbufs() find the socket busy and leave it to us. */
		so->in_indication = true;
		n = ind_build(so, &list, &count);
		if (n == 0) {
			so->in_indication = false;
			if (c->ind_free == NULL)
				c->counters.indications_deferred++;
			/* Back when an element is released, or at the next
			 * poll for want of an mbuf. */
			wsk_work_add(so, WORK_RECV);
			return;
		}
		if (so->state != SOCK_CONNECTED) {
			/* The connection went while we took its bytes. */
			ind_settle(so, list, 0, false);
			so->in_indication = false;
			return;
		}
		c->counters.indications++;
		if (so->held_bytes > 0 && c->ind_free == NULL)
			c->counters.indications_cut++;
		/* Running low: ask for the elements back soon, as WSK asks
		 * for its buffers. */
		if (c->ind_nfree < c->ind_low)
			flags |= WSK_FLAG_RELEASE_ASAP;
		st = cb(so->context, flags, &list->di, n, &accepted);
		/* The callback may have closed the socket: gone (its slot
		 * freed, perhaps reused: not to be touched), or closing
		 * while earlier indications are retained (the slot stays
		 * until they come back, and so may these). */
		gone = so->gen != gen || so->state == SOCK_FREE;
		if (st == STATUS_PENDING && !gone) {
			for (struct wsk_ind *e = list; e != NULL; e = e->link) {
				e->state = IND_RETAINED;
				e->owner = so;
			}
			so->ind_retained += count;
			accepted = n;
		} else {
			if (st != STATUS_SUCCESS)
				accepted = 0;
			ind_settle(so, list, accepted,
				   gone || so->state == SOCK_CLOSING);
		}
		if (gone)
			return;
		so->in_indication = false;
		if (so->state == SOCK_CLOSING)
			return;
		if (accepted < n)
			so->recv_event_paused = true;
		/* Receives the callback queued get what it left. */
		serve_requests(so);
	}
}

void
wsk_recv_serve(struct wsk_sock *so)
{
	/* A callback is running: the indication serves on when it
	 * returns. */
	if (so->in_indication)
		return;
	serve_requests(so);
	serve_event(so);
	if (so->state == SOCK_CONNECTED && at_end(so) &&
	    so->recvs.head == NULL && !so->in_indication)
		wsk_event_disconnect(so, false);
}

/* --- calls ------------------------------------------------------------------ */

NTSTATUS
wsk_call_receive(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
		 const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead, done;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags & ~(WSK_FLAG_WAITALL | WSK_FLAG_DRAIN))
		return STATUS_NOT_SUPPORTED;
	if (flags == (WSK_FLAG_WAITALL | WSK_FLAG_DRAIN) || buf == NULL ||
	    !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	if ((flags & WSK_FLAG_DRAIN) && buf->length != 0)
		return STATUS_INVALID_PARAMETER;
	if ((flags & WSK_FLAG_WAITALL) && buf->length == 0)
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED)
		return STATUS_INVALID_DEVICE_STATE;
	if (buf->length == 0 && flags == 0) {
		st = complete_now(req, STATUS_SUCCESS, 0);
		if (st != STATUS_SUCCESS)
			return st;
		so->recv_event_paused = false;
		serve_event(so);
		return STATUS_SUCCESS;
	}
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	cursor_init(r, buf);
	r->flags = flags;
	so->recv_event_paused = false;
	rq_push(&so->recvs, r);
	/* No application code runs in serve_requests(), so r is still ours
	 * (or completed) when we look. */
	serve_requests(so);
	done = so->recvs.tail != r;
	if (so->recvs.head == NULL)
		wsk_recv_serve(so);
	return done ? STATUS_SUCCESS : STATUS_PENDING;
}

NTSTATUS
wsk_call_release(WSK_SOCKET *s, WSK_DATA_INDICATION *list)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_client *c;
	WSK_DATA_INDICATION *di, *next;
	uint32_t n = 0;

	if (so == NULL || so->state == SOCK_FREE || list == NULL)
		return STATUS_INVALID_PARAMETER;
	if (!(CAT_BIT(so->category) & CATS_CONN))
		return STATUS_INVALID_DEVICE_STATE;
	c = so->client;
	/* Check the whole list before touching any of it. An element is
	 * read only once known to be ours, and no list of this socket's
	 * retained elements is longer than their count: a longer walk means
	 * an element came twice, i.e. a cycle. */
	for (di = list; di != NULL; di = di->next) {
		struct wsk_ind *e = ind_of(c, di);

		if (e == NULL || e->state != IND_RETAINED || e->owner != so ||
		    ++n > so->ind_retained)
			return STATUS_INVALID_PARAMETER;
	}
	for (di = list; di != NULL; di = next) {
		struct wsk_ind *e = ind_of(c, di);

		next = di->next;
		rte_pktmbuf_free_seg(e->m);
		ind_put(c, e);
	}
	so->ind_retained -= n;
	if (so->state == SOCK_CLOSING && so->ind_retained == 0) {
		/* The close was waiting for this (its room was reserved). */
		wsk_cq_post(so->close_cq, so->close_user_data, STATUS_SUCCESS,
			    0, 0);
		wsk_sock_free(so);
	}
	return STATUS_SUCCESS;
}
