/*
 * Send: handing send (and connect_ex, disconnect) buffers to the
 * connection, and completing sends once acknowledged.
 *
 * Send accounting: every byte a request hands to the connection (the
 * connect_ex buffer first, then sends in order) gets a place in one
 * cumulative stream position. The acked() upcall advances snd_acked; a
 * request completes when snd_acked reaches its end, which keeps sends in
 * submission order and the connect before them. A send that attached
 * registered memory also waits for the mbufs to let go of it
 * (wsk_zerocopy.c).
 *
 * Bytes go to the connection as its send buffer makes room: from the
 * acked() upcall, and from wsk_client_poll() when mbufs ran out
 * (WORK_PUSH).
 */
#include <stdbool.h>
#include <string.h>
#include <rte_mbuf.h>

#include "shard.h"
#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

/* --- sending ---------------------------------------------------------------- */

/* tcp_send() or tcp_send_ext() returned n, less than offered. With room
 * left in the send buffer it ran out of mbufs (or of references on the
 * request's shared info), and no acknowledgment may come to try again
 * (nothing in flight): wsk_client_poll() does. */
static void
send_stalled(struct wsk_sock *so, int32_t n)
{
	if (n >= 0 && tcp_snd_space(so->conn) > 0)
		wsk_work_add(so, WORK_PUSH);
}

void
wsk_stage_free(struct wsk_sock *so)
{
	while (so->stage_head != NULL) {
		struct rte_mbuf *m = so->stage_head;

		so->stage_head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	so->stage_tail = NULL;
}

bool
wsk_stage_copy(struct wsk_sock *so, const WSK_BUF *b)
{
	struct wsk_req cur = {
		.mdl = b->mdl, .offset = b->offset, .left = b->length,
	};

	while (cur.left > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(so->client->shard->pool);
		size_t room, n;

		if (m == NULL) {
			wsk_stage_free(so);
			return false;
		}
		rte_pktmbuf_reset_headroom(m);
		room = rte_pktmbuf_tailroom(m);
		n = 0;
		while (n < room && cur.left > 0) {
			size_t k = RTE_MIN(room - n, RTE_MIN(cur.left,
					cur.mdl->len - cur.offset));

			memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, n),
			       (uint8_t *)cur.mdl->va + cur.offset, k);
			n += k;
			cursor_skip(&cur, k);
		}
		m->data_len = (uint16_t)n;
		m->pkt_len = (uint32_t)n;
		m->next = NULL;
		if (so->stage_tail != NULL)
			so->stage_tail->next = m;
		else
			so->stage_head = m;
		so->stage_tail = m;
	}
	return true;
}

/* Hand the connection what it takes of r's remaining bytes: attached
 * from registered memory (wsk_zerocopy.c) or copied. false: it took less
 * than all. */
static bool
push_req(struct wsk_sock *so, struct wsk_req *r)
{
	struct wsk_client *c = so->client;

	while (r->left > 0) {
		size_t k = RTE_MIN(r->left, r->mdl->len - r->offset);
		uint8_t *p = (uint8_t *)r->mdl->va + r->offset;
		const struct wsk_region *g = r->zc_regions == 0 ? NULL :
			wsk_zc_region_for(c, r, r->mdl);
		int32_t n;

		if (k > UINT32_MAX)
			k = UINT32_MAX;
		if (g != NULL) {
			n = tcp_send_ext(so->conn, p, g->iova == RTE_BAD_IOVA ?
					 RTE_BAD_IOVA : g->iova + (p - g->va),
					 (uint32_t)k, wsk_zc_arm(c, r));
			if (n > 0)
				c->counters.send_zerocopy_bytes += (uint64_t)n;
		} else {
			n = tcp_send(so->conn, p, (uint32_t)k);
			if (n > 0)
				c->counters.send_copied_bytes += (uint64_t)n;
		}
		if (n > 0)
			cursor_skip(r, (size_t)n);
		if (n <= 0 || (size_t)n < k) {
			send_stalled(so, n);
			return false;
		}
	}
	/* Every byte is with the connection: the mbufs alone hold the
	 * memory now. */
	wsk_zc_unarm(c, r);
	return true;
}

/* Hand the connection as much as it takes: staged connect_ex bytes first,
 * then sends in order, then a graceful disconnect's buffer. */
void
wsk_sock_push(struct wsk_sock *so)
{
	if (so->conn == NULL || so->state != SOCK_CONNECTED)
		return;
	while (so->stage_head != NULL) {
		struct rte_mbuf *m = so->stage_head;
		int32_t k = tcp_send(so->conn, rte_pktmbuf_mtod(m, void *),
				     m->data_len);

		if (k <= 0 || (uint16_t)k < m->data_len) {
			if (k > 0)
				rte_pktmbuf_adj(m, (uint16_t)k);
			send_stalled(so, k);
			return;
		}
		so->stage_head = m->next;
		if (so->stage_head == NULL)
			so->stage_tail = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	while (so->push_cursor != NULL) {
		if (!push_req(so, so->push_cursor))
			return;
		so->push_cursor = so->push_cursor->next;
	}
	if (so->disconnect_req != NULL)
		push_req(so, so->disconnect_req);
}

void
wsk_sock_complete_acked(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	struct wsk_req *r;

	if (so->state != SOCK_CONNECTED)
		return;
	if (so->connect_req != NULL) {
		r = so->connect_req;
		if (so->snd_acked < r->end)
			return;
		so->connect_req = NULL;
		req_complete(c, r, STATUS_SUCCESS, r->info_socket ?
			     (uint64_t)(uintptr_t)&so->pub : r->end);
	}
	while ((r = so->sends.head) != NULL && r->end <= so->snd_acked &&
	       r->left == 0) {
		/* Acknowledged, but a zero-copy send's memory may still be
		 * referenced: it and the sends behind it wait. */
		if (!wsk_zc_released(c, r)) {
			wsk_zc_wait_head(so, r);
			return;
		}
		rq_pop(&so->sends);
		wsk_send_complete(c, r, STATUS_SUCCESS, r->length);
	}
}

/* --- send ------------------------------------------------------------------- */

void
wsk_send_stream_add(struct wsk_sock *so, struct wsk_req *r, const WSK_BUF *buf)
{
	cursor_init(r, buf);
	so->snd_total += buf->length;
	r->end = so->snd_total;
}

NTSTATUS
wsk_call_send(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
	const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags & ~WSK_FLAG_NODELAY)
		return STATUS_NOT_SUPPORTED;
	if (buf == NULL || !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED || so->shut_wr)
		return STATUS_INVALID_DEVICE_STATE;
	if (buf->length == 0)
		return complete_now(req, STATUS_SUCCESS, 0);
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	wsk_send_stream_add(so, r, buf);
	wsk_zc_send_accept(so->client, r, buf);
	rq_push(&so->sends, r);
	if (so->push_cursor == NULL)
		so->push_cursor = r;
	wsk_sock_push(so);
	return STATUS_PENDING;
}
