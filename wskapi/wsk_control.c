/*
 * wskapi control_socket: socket options (SO_*, TCP_*) and the event
 * callback control. Options live in the socket until a connection or a
 * listener exists, go to tcp_connect() (wsk_socket.c) or the listener
 * (wsk_listen.c) and, where the engine can change them on a live
 * connection, to it at once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

/* Whether the client's dispatch has a callback for one event bit. */
static bool
has_callback(const struct wsk_sock *so, uint32_t event)
{
	struct wsk_callbacks cb = wsk_callbacks(so);

	switch (event) {
	case WSK_EVENT_ACCEPT:
		return cb.accept != NULL;
	case WSK_EVENT_RECEIVE:
		return cb.receive != NULL;
	case WSK_EVENT_DISCONNECT:
		return cb.disconnect != NULL;
	case WSK_EVENT_SEND_BACKLOG:
		return cb.send_backlog != NULL;
	default:
		return false;
	}
}

#define EVENTS_KNOWN	(WSK_EVENT_SEND_BACKLOG | WSK_EVENT_RECEIVE |	\
			 WSK_EVENT_DISCONNECT | WSK_EVENT_ACCEPT)

/* Check an SO_WSK_EVENT_CALLBACK mask: STATUS_SUCCESS or
 * STATUS_INVALID_PARAMETER. */
static NTSTATUS
event_mask_check(const struct wsk_sock *so, uint32_t mask)
{
	uint32_t events = mask & ~WSK_EVENT_DISABLE;

	if (events == 0 || (events & ~EVENTS_KNOWN) != 0)
		return STATUS_INVALID_PARAMETER;
	if ((mask & WSK_EVENT_DISABLE) && (events & (events - 1)) != 0)
		return STATUS_INVALID_PARAMETER;
	for (uint32_t rest = events; rest != 0; rest &= rest - 1) {
		uint32_t ev = rest & -rest;

		if ((mask & WSK_EVENT_DISABLE) == 0 &&
		    !has_callback(so, ev))
			return STATUS_INVALID_PARAMETER;
		if (ev == WSK_EVENT_ACCEPT &&
		    !(CAT_BIT(so->category) & CATS_LISTEN))
			return STATUS_INVALID_PARAMETER;
		if (ev != WSK_EVENT_ACCEPT &&
		    !(CAT_BIT(so->category) & CATS_CONN))
			return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}

/* Events just enabled whose condition already holds fire now. */
static void
events_kick(struct wsk_sock *so, uint32_t enabled)
{
	if ((enabled & WSK_EVENT_ACCEPT) && so->state == SOCK_LISTENING)
		wsk_listen_serve(so, true);
	if (so->state != SOCK_CONNECTED)
		return;
	if (enabled & WSK_EVENT_SEND_BACKLOG)
		wsk_event_send_backlog(so);
	if (enabled & (WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT))
		wsk_recv_serve(so);
}

/* The end of every get (the options are 4-byte values): v to out_buf,
 * its size to *out_size_returned (if not NULL), and with a request a
 * completion carrying that size. STATUS_SUCCESS, or (nothing written,
 * nothing posted) STATUS_INVALID_PARAMETER when out_buf has no room and
 * STATUS_INSUFFICIENT_RESOURCES when req's ring is full. */
static NTSTATUS
option_get_done(uint32_t v, size_t out_size, void *out_buf,
		size_t *out_size_returned, const struct wsk_request *req)
{
	if (out_buf == NULL || out_size < sizeof(v))
		return STATUS_INVALID_PARAMETER;
	if (req != NULL && !wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	memcpy(out_buf, &v, sizeof(v));
	if (out_size_returned != NULL)
		*out_size_returned = sizeof(v);
	if (req != NULL)
		wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS,
			    sizeof(v), 0);
	return STATUS_SUCCESS;
}

void
wsk_keepalive_apply(struct wsk_sock *so, struct tcp_conn_opts *o)
{
	o->keepalive = so->keepalive;
	o->keepalive_idle_us = (uint64_t)so->keep_idle_s * 1000000;
	o->keepalive_intvl_us = so->keep_intvl_s * 1000000u;
	o->keepalive_probes = (uint8_t)so->keep_cnt;
}

void
wsk_keepalive_to_conn(struct wsk_sock *so)
{
	struct tcp_conn_opts o;

	wsk_keepalive_apply(so, &o);
	tcp_set_keepalive(so->conn, o.keepalive, o.keepalive_idle_us,
			  o.keepalive_intvl_us, o.keepalive_probes);
}

/* SO_KEEPALIVE, TCP_KEEPALIVE, TCP_KEEPINTVL, TCP_KEEPCNT (wsk.h): the
 * values live in the socket, go to tcp_connect() and, on a connected
 * socket, to the connection at once. */
static NTSTATUS
keepalive_option(struct wsk_sock *so, enum wsk_control_socket_type type,
		 uint32_t code, size_t in_size, const void *in_buf,
		 size_t out_size, void *out_buf, size_t *out_size_returned,
		 const struct wsk_request *req)
{
	uint32_t v, *field = code == WSK_TCP_KEEPALIVE ? &so->keep_idle_s :
			     code == WSK_TCP_KEEPINTVL ? &so->keep_intvl_s :
			     code == WSK_TCP_KEEPCNT ? &so->keep_cnt : NULL;

	if (type == WskSetOption) {
		if (in_buf == NULL || in_size < sizeof(v))
			return STATUS_INVALID_PARAMETER;
		memcpy(&v, in_buf, sizeof(v));
		if (field != NULL &&
		    (v == 0 || v > (code == WSK_TCP_KEEPCNT ? 255u : 32767u)))
			return STATUS_INVALID_PARAMETER;
		/* Room for the completion first: a call refused for want of
		 * it must leave the socket as it was. */
		if (req != NULL && !wsk_cq_reserve(req->cq))
			return STATUS_INSUFFICIENT_RESOURCES;
		if (field == NULL)
			so->keepalive = v != 0;
		else
			*field = v;
		if (so->conn != NULL)
			wsk_keepalive_to_conn(so);
		if (out_size_returned != NULL)
			*out_size_returned = 0;
		if (req != NULL)
			wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
		return STATUS_SUCCESS;
	}
	return option_get_done(field != NULL ? *field : so->keepalive,
			       out_size, out_buf, out_size_returned, req);
}

/* SO_SNDBUF, SO_RCVBUF and TCP_MAXSEG (wsk.h). */
enum size_opt {
	SIZE_SNDBUF,
	SIZE_RCVBUF,
	SIZE_MAXSEG,
};

void
wsk_listener_conn_opts(struct wsk_sock *so)
{
	/* Checked when set: the engine takes them. */
	(void)tcp_listener_set_conn_opts(so->listener, so->snd_buf,
					 so->rcv_buf, so->maxseg);
}

/* What a get returns: the connection's value once there is one (its
 * buffers, the MSS in use), else what was set, else what a connection
 * would get. */
static uint32_t
size_value(const struct wsk_sock *so, enum size_opt which)
{
	const struct wsk_client *c = so->client;

	switch (which) {
	case SIZE_SNDBUF:
		return so->conn != NULL ? tcp_snd_buf(so->conn) :
		       so->snd_buf != 0 ? so->snd_buf :
		       tcp_default_snd_buf(c->shard);
	case SIZE_RCVBUF:
		return so->conn != NULL ? tcp_rcv_buf(so->conn) :
		       so->rcv_buf != 0 ? so->rcv_buf :
		       tcp_default_rcv_buf(c->shard);
	case SIZE_MAXSEG:
	default:
		return so->conn != NULL ? tcp_maxseg(so->conn) :
		       so->maxseg != 0 ? so->maxseg :
		       tcp_port_mss(c->shard, c->port_index);
	}
}

static NTSTATUS
size_option(struct wsk_sock *so, enum wsk_control_socket_type type,
	    enum size_opt which, size_t in_size, const void *in_buf,
	    size_t out_size, void *out_buf, size_t *out_size_returned,
	    const struct wsk_request *req)
{
	uint32_t v;

	if (type == WskGetOption)
		return option_get_done(size_value(so, which), out_size,
				       out_buf, out_size_returned, req);
	if (in_buf == NULL || in_size < sizeof(v))
		return STATUS_INVALID_PARAMETER;
	memcpy(&v, in_buf, sizeof(v));
	if (which == SIZE_MAXSEG ?
	    v != 0 && (v < TCP_MSS_MIN || v > TCP_MSS_MAX) :
	    v < TCP_BUF_MIN || v > TCP_BUF_MAX)
		return STATUS_INVALID_PARAMETER;
	/* The MSS went out in the SYN. Linux keeps such a value without
	 * effect; refusing says so. */
	if (which == SIZE_MAXSEG && so->conn != NULL)
		return STATUS_INVALID_DEVICE_STATE;
	/* Reserve before changing anything: a set that cannot complete
	 * must not happen. */
	if (req != NULL && !wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	switch (which) {
	case SIZE_SNDBUF:
		so->snd_buf = v;
		if (so->conn != NULL)
			tcp_set_snd_buf(so->conn, v);
		break;
	case SIZE_RCVBUF:
		so->rcv_buf = v;
		if (so->conn != NULL)
			tcp_set_rcv_buf(so->conn, v);
		break;
	case SIZE_MAXSEG:
		so->maxseg = (uint16_t)v;
		break;
	}
	if (so->listener != NULL)
		wsk_listener_conn_opts(so);
	if (out_size_returned != NULL)
		*out_size_returned = 0;
	if (req != NULL)
		wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	if (which == SIZE_SNDBUF && so->state == SOCK_CONNECTED) {
		/* A larger buffer takes queued sends now; the send-backlog
		 * event reports the new ideal size. */
		wsk_sock_push(so);
		if (so->state == SOCK_CONNECTED)
			wsk_disconnect_progress(so);
		if (so->state == SOCK_CONNECTED)
			wsk_event_send_backlog(so);
	}
	return STATUS_SUCCESS;
}

NTSTATUS
wsk_call_control_socket(WSK_SOCKET *s, enum wsk_control_socket_type type,
		  uint32_t code, uint32_t level, size_t in_size,
		  const void *in_buf, size_t out_size, void *out_buf,
		  size_t *out_size_returned, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool *opt = NULL;
	uint32_t v;

	/* A NULL request is allowed here: the call completes synchronously
	 * and posts nothing. */
	if (so == NULL || sock_closed(so) ||
	    (req != NULL && req->cq == NULL))
		return STATUS_INVALID_PARAMETER;
	if (so->state == SOCK_DEAD)
		return req == NULL ? STATUS_FILE_FORCED_CLOSED :
		       complete_now(req, STATUS_FILE_FORCED_CLOSED, 0);
	if (type == WskIoctl)
		return STATUS_NOT_SUPPORTED;
	if (type != WskSetOption && type != WskGetOption)
		return STATUS_INVALID_PARAMETER;
	if (level == WSK_SOL_SOCKET && code == WSK_SO_WSK_EVENT_CALLBACK) {
		struct wsk_event_callback_control ctl;
		uint32_t before = so->events;
		NTSTATUS st;

		if (type != WskSetOption)
			return STATUS_NOT_SUPPORTED;
		if (in_buf == NULL || in_size < sizeof(ctl))
			return STATUS_INVALID_PARAMETER;
		memcpy(&ctl, in_buf, sizeof(ctl));
		st = event_mask_check(so, ctl.event_mask);
		if (st != STATUS_SUCCESS)
			return st;
		if (req != NULL && !wsk_cq_reserve(req->cq))
			return STATUS_INSUFFICIENT_RESOURCES;
		if (ctl.event_mask & WSK_EVENT_DISABLE)
			so->events &= ~ctl.event_mask;
		else
			so->events |= ctl.event_mask;
		if (out_size_returned != NULL)
			*out_size_returned = 0;
		if (req != NULL)
			wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS,
				    0, 0);
		events_kick(so, so->events & ~before);
		return STATUS_SUCCESS;
	}
	if ((level == WSK_SOL_SOCKET && code == WSK_SO_KEEPALIVE) ||
	    (level == WSK_IPPROTO_TCP &&
	     (code == WSK_TCP_KEEPALIVE || code == WSK_TCP_KEEPINTVL ||
	      code == WSK_TCP_KEEPCNT)))
		return keepalive_option(so, type, code, in_size, in_buf,
					out_size, out_buf, out_size_returned,
					req);
	if (level == WSK_SOL_SOCKET &&
	    (code == WSK_SO_SNDBUF || code == WSK_SO_RCVBUF))
		return size_option(so, type, code == WSK_SO_SNDBUF ?
				   SIZE_SNDBUF : SIZE_RCVBUF, in_size, in_buf,
				   out_size, out_buf, out_size_returned, req);
	if (level == WSK_IPPROTO_TCP && code == WSK_TCP_MAXSEG)
		return size_option(so, type, SIZE_MAXSEG, in_size, in_buf,
				   out_size, out_buf, out_size_returned, req);
	if (level == WSK_SOL_SOCKET && code == WSK_SO_REUSEADDR)
		opt = &so->reuseaddr;
	else if (level == WSK_IPPROTO_TCP && code == WSK_TCP_NODELAY)
		opt = &so->nodelay;
	else if (level == WSK_IPPROTO_TCP && code == WSK_TCP_FASTOPEN)
		opt = &so->fastopen;
	else
		return STATUS_NOT_SUPPORTED;
	if (type == WskSetOption) {
		if (in_buf == NULL || in_size < sizeof(v))
			return STATUS_INVALID_PARAMETER;
		memcpy(&v, in_buf, sizeof(v));
		/* Reserve before changing anything (see keepalive_option). */
		if (req != NULL && !wsk_cq_reserve(req->cq))
			return STATUS_INSUFFICIENT_RESOURCES;
		*opt = v != 0;
		if (opt == &so->fastopen)
			so->fastopen_value = v;
		if (opt == &so->reuseaddr && so->bound)
			wsk_bind_table_set(so);
		if (opt == &so->nodelay && so->conn != NULL)
			tcp_set_nodelay(so->conn, so->nodelay);
		if (out_size_returned != NULL)
			*out_size_returned = 0;
		if (req != NULL)
			wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
		return STATUS_SUCCESS;
	}
	return option_get_done(*opt, out_size, out_buf, out_size_returned,
			       req);
}
