/*
 * Listening and accepting: listen on a stream socket, a listen socket
 * listening from its bind on, accept requests and the accept event.
 *
 * A connection whose handshake is done waits in the engine's accept queue
 * (tcp_accept()) until somebody takes it: the oldest queued accept
 * request first, else the accept event when enabled. With neither, it
 * stays in the engine's queue (up to the backlog) until an accept call.
 * A connection is only taken out when a socket is free to hold it, so a
 * full socket pool delays accepts instead of dropping connections; the
 * listener is served again by the wsk_client_poll() after a socket is
 * freed.
 */
#include <errno.h>
#include <string.h>

#include "tcp.h"
/* Only for the accepted connection's addresses (struct tcp_conn's key):
 * tcp.h has no accessor for them. */
#include "tcp_var.h"
#include "wsk.h"
#include "wsk_internal.h"

/* Linux's somaxconn default: a load generator opens thousands of
 * connections at once, and beyond the backlog every SYN costs a cookie. */
#define LISTEN_BACKLOG		4096

#define EVENTS_INHERITED	(WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT |	\
				 WSK_EVENT_SEND_BACKLOG)

NTSTATUS
wsk_listen_start(struct wsk_sock *so)
{
	int rc = tcp_listen(so->client->shard, so->laddr, so->lport,
			    LISTEN_BACKLOG, so, &so->listener);

	if (rc != 0)
		return rc == -EADDRINUSE ? STATUS_SHARING_VIOLATION
					 : STATUS_INSUFFICIENT_RESOURCES;
	/* TCP_FASTOPEN before listen: its value is the most Fast Open
	 * connections waiting for their third ACK, as on Linux. */
	if (so->fastopen)
		tcp_listener_set_tfo(so->listener, so->fastopen_value);
	wsk_listener_conn_opts(so);
	so->state = SOCK_LISTENING;
	return STATUS_SUCCESS;
}

NTSTATUS
wsk_call_listen(WSK_SOCKET *s, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CAT_BIT(WSK_FLAG_STREAM_SOCKET), &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (!so->bound || so->state != SOCK_OPEN)
		return STATUS_INVALID_DEVICE_STATE;
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	st = wsk_listen_start(so);
	if (st != STATUS_SUCCESS) {
		wsk_cq_unreserve(req->cq);
		return st;
	}
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	return STATUS_SUCCESS;
}

/* Wrap an accepted connection in a new socket (the caller checked that
 * one is free). */
static struct wsk_sock *
adopt(struct wsk_sock *ls, struct tcp_conn *conn, void *context,
      const void *client_dispatch)
{
	/* A connection socket whatever the listener: its client dispatch
	 * is a WSK_CLIENT_CONNECTION_DISPATCH, as in WSK. */
	struct wsk_sock *so = wsk_sock_alloc(ls->client,
					     WSK_FLAG_CONNECTION_SOCKET,
					     context, client_dispatch);

	so->state = SOCK_CONNECTED;
	so->bound = true;
	so->laddr = conn->key.laddr;
	so->lport = conn->key.lport;
	so->raddr = conn->key.raddr;
	so->rport = conn->key.rport;
	wsk_bind_table_set(so);
	so->conn = conn;
	tcp_conn_set_user(conn, so);
	/* As on Linux, an accepted socket starts with its listener's
	 * TCP_NODELAY and keepalive settings (buffers and the MSS clamp
	 * came through the engine's listener already). */
	so->nodelay = ls->nodelay;
	so->keepalive = ls->keepalive;
	so->keep_idle_s = ls->keep_idle_s;
	so->keep_intvl_s = ls->keep_intvl_s;
	so->keep_cnt = ls->keep_cnt;
	if (so->nodelay)
		tcp_set_nodelay(conn, true);
	if (so->keepalive)
		wsk_keepalive_to_conn(so);
	return so;
}

/* Offer a new socket to the accept event. */
static void
accept_event(struct wsk_sock *ls, struct tcp_conn *conn)
{
	PFN_WSK_ACCEPT_EVENT cb = wsk_callbacks(ls).accept;
	struct wsk_sock *so = adopt(ls, conn, NULL, NULL);
	const WSK_CLIENT_CONNECTION_DISPATCH *dispatch = NULL;
	struct sockaddr_in local, remote;
	void *context = NULL;
	NTSTATUS st;

	addr_write((struct sockaddr *)&local, so->laddr, so->lport);
	addr_write((struct sockaddr *)&remote, so->raddr, so->rport);
	st = cb(ls->context, 0, (struct sockaddr *)&local,
		(struct sockaddr *)&remote, &so->pub, &context, &dispatch);
	if (so->state == SOCK_FREE)
		return;		/* the callback closed it already */
	if (st != STATUS_SUCCESS) {
		/* STATUS_REQUEST_NOT_ACCEPTED: the connection is reset. */
		wsk_sock_detach(so);
		wsk_sock_free(so);
		return;
	}
	so->context = context;
	so->client_dispatch = dispatch;
	so->events = dispatch == NULL ? 0 : ls->events & EVENTS_INHERITED;
	/* Data may have come with or right after the handshake. */
	wsk_event_send_backlog(so);
	if (so->state == SOCK_CONNECTED)
		wsk_recv_serve(so);
}

void
wsk_listen_serve(struct wsk_sock *ls, bool events)
{
	struct wsk_client *c = ls->client;

	while (ls->state == SOCK_LISTENING && ls->listener != NULL) {
		struct wsk_req *r = ls->accepts.head;
		struct tcp_conn *conn;

		if (r == NULL && (!events || !(ls->events & WSK_EVENT_ACCEPT)))
			return;
		if (wsk_free_sockets(c) == 0) {
			/* Whatever waits in the engine's queue is taken when
			 * a socket is freed. */
			wsk_work_add(ls, WORK_ACCEPT);
			return;
		}
		conn = tcp_accept(ls->listener);
		if (conn == NULL)
			return;
		if (r != NULL) {
			struct wsk_sock *so;

			rq_pop(&ls->accepts);
			so = adopt(ls, conn, r->accept_context,
				   r->accept_dispatch);
			if (r->out_local != NULL)
				addr_write(r->out_local, so->laddr, so->lport);
			if (r->out_remote != NULL)
				addr_write(r->out_remote, so->raddr, so->rport);
			req_complete(c, r, STATUS_SUCCESS,
				     (uint64_t)(uintptr_t)&so->pub);
			continue;
		}
		accept_event(ls, conn);
	}
}

void
wsk_listen_accept_ready(struct tcp_listener *l)
{
	struct wsk_sock *ls = tcp_listener_user(l);

	if (ls != NULL)
		wsk_listen_serve(ls, true);
}

NTSTATUS
wsk_call_accept(WSK_SOCKET *s, uint32_t flags, void *accept_context,
		const WSK_CLIENT_CONNECTION_DISPATCH *accept_dispatch,
		struct sockaddr *local, struct sockaddr *remote,
		const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_LISTEN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags != 0)
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_LISTENING)
		return STATUS_INVALID_DEVICE_STATE;
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	r->accept_context = accept_context;
	r->accept_dispatch = accept_dispatch;
	r->out_local = local;
	r->out_remote = remote;
	rq_push(&so->accepts, r);
	/* Served at once when a connection waits: then this request is
	 * the one completed (older ones were served when theirs came). No
	 * event runs here, so r cannot be completed and reused meanwhile. */
	wsk_listen_serve(so, false);
	return so->accepts.head == NULL ? STATUS_SUCCESS : STATUS_PENDING;
}
