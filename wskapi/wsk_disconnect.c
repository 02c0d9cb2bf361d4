/*
 * Disconnect (graceful and abortive) and the send-backlog event.
 *
 * A graceful disconnect's buffer goes out after the queued sends
 * (wsk_sock_push() takes it last), then the FIN. The request completes
 * when the FIN is acknowledged: the connection is then in FIN_WAIT_2
 * (the acked(0) upcall), TIME_WAIT or CLOSED (closed()). Upcalls drive it
 * all; nothing waits on wsk_client_poll().
 */
#include <stdbool.h>

#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

void
wsk_disconnect_progress(struct wsk_sock *so)
{
	struct wsk_req *r = so->disconnect_req;
	enum tcp_state st;

	if (r == NULL || so->conn == NULL)
		return;
	if (!so->fin_queued) {
		if (so->stage_head != NULL || so->push_cursor != NULL ||
		    r->left > 0)
			return;
		so->fin_queued = true;
		tcp_shutdown(so->conn);
		/* Upcalls run by tcp_shutdown() may have finished it. */
		if (so->disconnect_req != r || so->conn == NULL)
			return;
	}
	st = tcp_conn_state(so->conn);
	if (st != TCPS_FIN_WAIT_2 && st != TCPS_TIME_WAIT && st != TCPS_CLOSED)
		return;
	/* The sends before it complete first, and a zero-copy one may wait
	 * for its memory's release after the ACK (wsk_zc_poll() comes back
	 * here); remember the FIN was acknowledged meanwhile. */
	so->fin_acked = true;
	if (so->sends.head != NULL)
		return;
	so->disconnect_req = NULL;
	req_complete(so->client, r, STATUS_SUCCESS, r->length);
}

/* Abortive: cancel sends and a graceful disconnect, reset, done (or, when
 * a cancelled zero-copy send's memory is still referenced, done after
 * it: wsk_zerocopy.c). */
static NTSTATUS
disconnect_abortive(struct wsk_sock *so, const struct wsk_request *req)
{
	struct req_queue chain = { NULL, NULL };
	struct wsk_req *last;

	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	wsk_sends_fail(so, STATUS_CANCELLED, &chain);
	wsk_disconnect_fail(so, STATUS_CANCELLED, &chain);
	last = wsk_zc_chain_commit(so->client, &chain);
	/* The closed(ABORTED) upcall fails the receives and marks the
	 * socket dead (at once, or when the upcall we are inside ends). */
	tcp_abort(so->conn);
	if (last != NULL) {
		last->then_cq = req->cq;
		last->then_user_data = req->user_data;
		return STATUS_PENDING;
	}
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	return STATUS_SUCCESS;
}

NTSTATUS
wsk_call_disconnect(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
		    const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags & ~WSK_FLAG_ABORTIVE)
		return STATUS_NOT_SUPPORTED;
	if ((flags & WSK_FLAG_ABORTIVE) && buf != NULL)
		return STATUS_INVALID_PARAMETER;
	if (buf != NULL && !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED || so->conn == NULL)
		return STATUS_INVALID_DEVICE_STATE;
	if (flags & WSK_FLAG_ABORTIVE)
		return disconnect_abortive(so, req);
	if (so->shut_wr)
		return STATUS_INVALID_DEVICE_STATE;
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	if (buf != NULL && buf->length > 0)
		wsk_send_stream_add(so, r, buf);
	so->shut_wr = true;
	so->disconnect_req = r;
	wsk_sock_push(so);
	wsk_disconnect_progress(so);
	return STATUS_PENDING;
}

/* --- send backlog event ------------------------------------------------------ */

void
wsk_event_send_backlog(struct wsk_sock *so)
{
	PFN_WSK_SEND_BACKLOG_EVENT cb = wsk_callbacks(so).send_backlog;
	size_t ideal;

	if (!(so->events & WSK_EVENT_SEND_BACKLOG) || cb == NULL ||
	    so->state != SOCK_CONNECTED || so->conn == NULL || so->shut_wr)
		return;
	/* The send buffer: what keeps the connection busy without the
	 * application waiting on it. */
	ideal = (size_t)tcp_snd_space(so->conn) + tcp_snd_queued(so->conn);
	if (ideal == so->backlog_reported)
		return;
	so->backlog_reported = ideal;
	cb(so->context, ideal);
}
