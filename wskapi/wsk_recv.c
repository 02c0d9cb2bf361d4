/*
 * Receiving: receive requests (plain, WAITALL, DRAIN), the receive event,
 * release, and the graceful disconnect event that follows the last byte.
 *
 * Order of service whenever bytes or a FIN arrive: queued receives first,
 * in submission order (they run no application code), then the receive
 * event, then the disconnect event once every byte before the FIN has
 * been handed over.
 *
 * The receive event copies bytes out of the connection into the client's
 * indication buffer. Bytes the callback does not accept are "held": kept
 * in mbufs on the socket, in front of whatever the connection still has,
 * and receives read them first. wskapi keeps nothing for the application
 * after a callback, so release() only validates.
 */
#include <string.h>
#include <rte_mbuf.h>

#include "shard.h"
#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

/* The longest data-indication list release() walks (catches cycles). */
#define RELEASE_MAX_ELEMENTS	65536u

/* --- held bytes ------------------------------------------------------------- */

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

/* Copy up to len held bytes to dst, dropping what was copied. */
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
			break;
		}
		so->held_head = m->next;
		if (so->held_head == NULL)
			so->held_tail = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	so->held_bytes -= n;
	return n;
}

/* Put bytes back in front of the held ones. false (nothing kept) when
 * the shard's pool runs dry. */
static bool
held_prepend(struct wsk_sock *so, const uint8_t *src, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t done = 0;

	while (done < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(so->client->shard->pool);
		uint32_t k;

		if (m == NULL) {
			while (head != NULL) {
				m = head;
				head = m->next;
				m->next = NULL;
				rte_pktmbuf_free_seg(m);
			}
			return false;
		}
		k = RTE_MIN(len - done, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), src + done, k);
		m->data_len = (uint16_t)k;
		m->pkt_len = k;
		m->next = NULL;
		if (tail != NULL)
			tail->next = m;
		else
			head = m;
		tail = m;
		done += k;
	}
	if (tail == NULL)
		return true;
	tail->next = so->held_head;
	if (so->held_head == NULL)
		so->held_tail = tail;
	so->held_head = head;
	so->held_bytes += len;
	return true;
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
			uint8_t *scratch = so->client->indication_buf;
			uint32_t k;

			do {
				k = tcp_recv(so->conn, scratch,
					     RTE_MIN(len - n,
						     WSK_INDICATION_MAX));
				n += k;
			} while (k > 0 && n < len);
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

static PFN_WSK_RECEIVE_EVENT
receive_callback(const struct wsk_sock *so)
{
	if (so->client_dispatch == NULL)
		return NULL;
	if (so->category == WSK_FLAG_STREAM_SOCKET)
		return ((const WSK_CLIENT_STREAM_DISPATCH *)
			so->client_dispatch)->receive_event;
	return ((const WSK_CLIENT_CONNECTION_DISPATCH *)
		so->client_dispatch)->receive_event;
}

static PFN_WSK_DISCONNECT_EVENT
disconnect_callback(const struct wsk_sock *so)
{
	if (so->client_dispatch == NULL)
		return NULL;
	if (so->category == WSK_FLAG_STREAM_SOCKET)
		return ((const WSK_CLIENT_STREAM_DISPATCH *)
			so->client_dispatch)->disconnect_event;
	return ((const WSK_CLIENT_CONNECTION_DISPATCH *)
		so->client_dispatch)->disconnect_event;
}

void
wsk_event_disconnect(struct wsk_sock *so, bool abortive)
{
	PFN_WSK_DISCONNECT_EVENT cb = disconnect_callback(so);

	if (cb == NULL || !(so->events & WSK_EVENT_DISCONNECT) ||
	    so->disconnect_indicated)
		return;
	so->disconnect_indicated = true;
	cb(so->context, abortive ? WSK_FLAG_ABORTIVE : 0);
}

/* Indicate ready bytes while the receive event is on and nobody queued a
 * receive. */
static void
serve_event(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	uint8_t *buf = c->indication_buf;

	while (so->state == SOCK_CONNECTED && so->conn != NULL &&
	       (so->events & WSK_EVENT_RECEIVE) && !so->recv_event_paused &&
	       so->recvs.head == NULL && ready_bytes(so) > 0) {
		PFN_WSK_RECEIVE_EVENT cb = receive_callback(so);
		struct wsk_mdl mdl = { .va = buf };
		WSK_DATA_INDICATION ind = { .buffer = { .mdl = &mdl } };
		size_t accepted = 0;
		uint32_t n;
		NTSTATUS st;

		if (cb == NULL)
			return;
		/* Held bytes alone first, so what goes back stays in
		 * front of the connection's. */
		n = so->held_bytes > 0 ?
		    held_take(so, buf, RTE_MIN(so->held_bytes,
					       WSK_INDICATION_MAX)) :
		    tcp_recv(so->conn, buf, WSK_INDICATION_MAX);
		mdl.len = n;
		ind.buffer.length = n;
		st = cb(so->context, 0, &ind, n, &accepted);
		if (so->state == SOCK_FREE)
			return;		/* closed by the callback */
		if (st == STATUS_PENDING)
			accepted = n;
		else if (st != STATUS_SUCCESS)
			accepted = 0;
		if (accepted >= n)
			continue;
		so->recv_event_paused = true;
		if (!held_prepend(so, buf + accepted, n - (uint32_t)accepted) &&
		    so->conn != NULL) {
			/* The bytes cannot be kept: losing them silently
			 * would corrupt the stream, so the connection goes. */
			tcp_abort(so->conn);
			return;
		}
	}
}

void
wsk_recv_serve(struct wsk_sock *so)
{
	serve_requests(so);
	serve_event(so);
	if (so->state == SOCK_CONNECTED && at_end(so) &&
	    so->recvs.head == NULL)
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
	unsigned n = 0;

	if (so == NULL || so->state == SOCK_FREE || list == NULL)
		return STATUS_INVALID_PARAMETER;
	if (!(CAT_BIT(so->category) & CATS_CONN))
		return STATUS_INVALID_DEVICE_STATE;
	for (; list != NULL; list = list->next) {
		if (++n > RELEASE_MAX_ELEMENTS || !buf_valid(&list->buffer))
			return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}
