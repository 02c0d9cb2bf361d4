/*
 * The recorded server side played through wskapi (see replay_server.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "engine.h"
#include "replay_plan.h"
#include "replay_server.h"
#include "tcp.h"
#include "wsk.h"

#define SRV_SEND_SLOTS 4
#define SRV_SEND_MAX 65535u
#define SRV_MAX_LISTENERS 16

enum srv_op {
	SOP_IGNORE,
	SOP_SEND,
	SOP_DISCONNECT,
	SOP_CLOSE,
};

struct srv_flow {
	const struct replay_flow *f;
	struct replay_plan plan;
	const uint8_t *data;		/* server stream (or its corrupted copy) */
	uint8_t *copy;
	bool server_fin_first;
};

struct srv_conn {
	struct replay_server *srv;	/* for the event callbacks */
	bool used;
	bool dirty;			/* on the dirty list */
	bool peer_fin;
	bool reset;
	bool fin_issued;
	bool fin_acked;
	bool closing;
	uint32_t index;
	WSK_SOCKET *sock;
	const struct srv_flow *sf;
	uint64_t rx;
	uint64_t allowed;
	uint64_t issued;
	uint32_t step;
	uint32_t inflight;
	uint32_t send_seq;
	struct wsk_mdl mdl[SRV_SEND_SLOTS];
};

struct replay_server {
	struct wsk_client *client;
	struct wsk_cq *cq;
	struct srv_flow *flows;
	uint32_t nb_flows;
	uint32_t *port_flow;		/* client port -> flow index + 1 */
	struct srv_conn *conns;
	uint32_t max_conns;
	uint32_t *free_list;
	uint32_t nb_free;
	uint32_t *dirty;
	uint32_t nb_dirty;
	WSK_SOCKET *listeners[SRV_MAX_LISTENERS];
	uint32_t nb_listeners;
	uint64_t accepted;
};

static NTSTATUS srv_accept_event(void *ctx, uint32_t flags,
	const struct sockaddr *local, const struct sockaddr *remote,
	WSK_SOCKET *sock, void **accept_context,
	const WSK_CLIENT_CONNECTION_DISPATCH **accept_dispatch);
static NTSTATUS srv_receive_event(void *ctx, uint32_t flags,
	WSK_DATA_INDICATION *data, size_t n, size_t *accepted);
static NTSTATUS srv_disconnect_event(void *ctx, uint32_t flags);

static const WSK_CLIENT_STREAM_DISPATCH listen_dispatch = {
	.accept_event = srv_accept_event,
	.receive_event = srv_receive_event,
	.disconnect_event = srv_disconnect_event,
};

static const WSK_CLIENT_CONNECTION_DISPATCH conn_dispatch = {
	.receive_event = srv_receive_event,
	.disconnect_event = srv_disconnect_event,
};

static void
mark_dirty(struct replay_server *srv, struct srv_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	srv->dirty[srv->nb_dirty++] = c->index;
}

static struct wsk_request
srv_req(struct replay_server *srv, const struct srv_conn *c, enum srv_op op)
{
	return (struct wsk_request){ .cq = srv->cq,
		.user_data = (uint64_t)(c ? c->index + 1 : 0) << 8 | op };
}

void
replay_server_expect(void *ctx, uint16_t port, uint32_t flow)
{
	struct replay_server *srv = ctx;

	srv->port_flow[port] = flow + 1;
}

static NTSTATUS
srv_accept_event(void *ctx, uint32_t flags, const struct sockaddr *local,
		 const struct sockaddr *remote, WSK_SOCKET *sock,
		 void **accept_context,
		 const WSK_CLIENT_CONNECTION_DISPATCH **accept_dispatch)
{
	struct replay_server *srv = ctx;
	const struct sockaddr_in *r = (const struct sockaddr_in *)remote;
	uint32_t flow = srv->port_flow[ntohs(r->sin_port)];
	struct srv_conn *c;

	(void)flags;
	(void)local;
	if (flow == 0 || flow > srv->nb_flows || srv->nb_free == 0)
		return STATUS_REQUEST_NOT_ACCEPTED;
	c = &srv->conns[srv->free_list[--srv->nb_free]];
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	c->used = true;
	c->index = (uint32_t)(c - srv->conns);
	c->sock = sock;
	c->sf = &srv->flows[flow - 1];
	srv->accepted++;
	*accept_context = c;
	*accept_dispatch = &conn_dispatch;
	/* Sending waits for replay_server_poll(): the socket is ours only
	 * once this callback returned. */
	mark_dirty(srv, c);
	return STATUS_SUCCESS;
}

static NTSTATUS
srv_receive_event(void *ctx, uint32_t flags, WSK_DATA_INDICATION *data,
		  size_t n, size_t *accepted)
{
	struct srv_conn *c = ctx;

	(void)flags;
	(void)data;
	c->rx += n;
	*accepted = n;
	mark_dirty(c->srv, c);
	return STATUS_SUCCESS;
}

static NTSTATUS
srv_disconnect_event(void *ctx, uint32_t flags)
{
	struct srv_conn *c = ctx;

	if (flags & WSK_FLAG_ABORTIVE)
		c->reset = true;
	else
		c->peer_fin = true;
	mark_dirty(c->srv, c);
	return STATUS_SUCCESS;
}

static void
conn_close(struct replay_server *srv, struct srv_conn *c)
{
	struct wsk_request req = srv_req(srv, c, SOP_CLOSE);

	if (c->closing)
		return;
	if (c->sock->basic->close_socket(c->sock, &req) == STATUS_SUCCESS)
		c->closing = true;
	else
		mark_dirty(srv, c);	/* no room: try on the next poll */
}

static void
conn_pump(struct replay_server *srv, struct srv_conn *c)
{
	const struct srv_flow *sf = c->sf;
	const struct replay_plan *p = &sf->plan;

	if (c->closing)
		return;
	/* Both FINs done, or reset: nothing more to say. */
	if (c->reset || (c->fin_acked && c->peer_fin)) {
		conn_close(srv, c);
		return;
	}
	while (c->step < p->server_steps &&
	       (c->rx >= p->server[c->step].need || c->peer_fin))
		c->allowed = p->server[c->step++].upto;
	while (!c->fin_issued && c->issued < c->allowed &&
	       c->inflight < SRV_SEND_SLOTS) {
		uint64_t n = c->allowed - c->issued;
		struct wsk_mdl *m = &c->mdl[c->send_seq % SRV_SEND_SLOTS];
		struct wsk_request req = srv_req(srv, c, SOP_SEND);
		WSK_BUF buf = { .mdl = m, .offset = 0 };
		NTSTATUS st;

		if (n > SRV_SEND_MAX)
			n = SRV_SEND_MAX;
		*m = (struct wsk_mdl){ .va = (void *)(uintptr_t)(sf->data + c->issued),
				       .len = n };
		buf.length = n;
		st = c->sock->connection->send(c->sock, &buf, 0, &req);
		if (st != STATUS_PENDING && st != STATUS_SUCCESS &&
		    st != STATUS_FILE_FORCED_CLOSED) {
			conn_close(srv, c);
			return;
		}
		c->inflight++;
		c->send_seq++;
		c->issued += n;
	}
	if (!c->fin_issued && c->issued == p->server_bytes &&
	    c->step == p->server_steps && (c->peer_fin || sf->server_fin_first)) {
		struct wsk_request req = srv_req(srv, c, SOP_DISCONNECT);
		NTSTATUS st = c->sock->connection->disconnect(c->sock, NULL, 0, &req);

		if (st != STATUS_PENDING && st != STATUS_SUCCESS &&
		    st != STATUS_FILE_FORCED_CLOSED) {
			conn_close(srv, c);
			return;
		}
		c->fin_issued = true;
	}
}

void
replay_server_poll(struct replay_server *srv)
{
	struct wsk_completion *e;
	unsigned head, n = 0;
	uint32_t pass, k = 0;

	wsk_client_poll(srv->client);
	wsk_cq_for_each(srv->cq, head, e) {
		uint64_t id = e->user_data >> 8;
		struct srv_conn *c = id ? &srv->conns[id - 1] : NULL;

		n++;
		if (c == NULL)
			continue;
		switch ((enum srv_op)(e->user_data & 0xff)) {
		case SOP_IGNORE:
			break;
		case SOP_SEND:
			c->inflight--;
			if (e->status != STATUS_SUCCESS)
				c->reset = true;
			mark_dirty(srv, c);
			break;
		case SOP_DISCONNECT:
			if (e->status == STATUS_SUCCESS)
				c->fin_acked = true;
			else
				c->reset = true;
			mark_dirty(srv, c);
			break;
		case SOP_CLOSE:
			c->used = false;
			srv->free_list[srv->nb_free++] = c->index;
			break;
		}
	}
	wsk_cq_advance(srv->cq, n);
	/* The list can grow while it is worked (a refused close marks its
	 * connection again): work the entries there now. */
	pass = srv->nb_dirty;
	for (uint32_t i = 0; i < pass; i++) {
		struct srv_conn *c = &srv->conns[srv->dirty[i]];

		c->dirty = false;
		if (c->used)
			conn_pump(srv, c);
	}
	/* Keep the entries added during the pass. */
	for (uint32_t i = pass; i < srv->nb_dirty; i++)
		srv->dirty[k++] = srv->dirty[i];
	srv->nb_dirty = k;
}

uint64_t
replay_server_accepted(const struct replay_server *srv)
{
	return srv->accepted;
}

void
replay_server_destroy(struct replay_server *srv)
{
	if (srv == NULL)
		return;
	wsk_client_destroy(srv->client);
	wsk_cq_free(srv->cq);
	for (uint32_t i = 0; srv->flows != NULL && i < srv->nb_flows; i++) {
		replay_plan_free(&srv->flows[i].plan);
		free(srv->flows[i].copy);
	}
	free(srv->flows);
	free(srv->port_flow);
	free(srv->conns);
	free(srv->free_list);
	free(srv->dirty);
	free(srv);
}

static int
srv_listen(struct replay_server *srv, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct wsk_event_callback_control ev = {
		.event_mask = WSK_EVENT_ACCEPT | WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT,
	};
	struct wsk_request req = srv_req(srv, NULL, SOP_IGNORE);
	WSK_SOCKET *ls;
	NTSTATUS st;

	st = wsk_socket_ex(srv->client, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			   WSK_FLAG_STREAM_SOCKET, srv, &listen_dispatch, &ls, &req);
	if (st == STATUS_SUCCESS)
		st = ls->basic->control_socket(ls, WskSetOption,
			WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET, sizeof(ev), &ev,
			0, NULL, NULL, NULL);
	if (st == STATUS_SUCCESS)
		st = ls->stream->bind(ls, (struct sockaddr *)&a, 0, &req);
	if (st == STATUS_SUCCESS)
		st = ls->stream->listen(ls, &req);
	if (st != STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot listen on port %u: %s", port,
			 wsk_status_str(st));
		return -1;
	}
	srv->listeners[srv->nb_listeners++] = ls;
	return 0;
}

struct replay_server *
replay_server_create(struct shard *s, const struct replay_capture *cap,
		     unsigned max_conns, int64_t corrupt_flow,
		     uint64_t corrupt_offset, char *err, size_t errlen)
{
	struct replay_server *srv;
	uint16_t ports[SRV_MAX_LISTENERS];
	uint32_t nb_ports = 0;

	if (max_conns == 0 || max_conns > 65535) {
		snprintf(err, errlen, "bad replay server settings");
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		goto nomem;
	srv->nb_flows = replay_capture_flow_count(cap);
	srv->max_conns = max_conns;
	srv->flows = calloc(srv->nb_flows ? srv->nb_flows : 1, sizeof(*srv->flows));
	srv->port_flow = calloc(65536, sizeof(*srv->port_flow));
	srv->conns = calloc(max_conns, sizeof(*srv->conns));
	srv->free_list = calloc(max_conns, sizeof(*srv->free_list));
	/* Each connection is on the list at most once, plus once more when
	 * marked again while the list is worked. */
	srv->dirty = calloc(2 * (size_t)max_conns, sizeof(*srv->dirty));
	if (srv->flows == NULL || srv->port_flow == NULL || srv->conns == NULL ||
	    srv->free_list == NULL || srv->dirty == NULL)
		goto nomem;
	for (uint32_t i = 0; i < max_conns; i++)
		srv->free_list[srv->nb_free++] = max_conns - 1 - i;
	for (uint32_t i = 0; i < srv->nb_flows; i++) {
		struct srv_flow *sf = &srv->flows[i];
		const struct replay_stream *cs, *ss;
		uint32_t k;

		sf->f = replay_capture_flow(cap, i);
		cs = &sf->f->stream[REPLAY_CLIENT];
		ss = &sf->f->stream[REPLAY_SERVER];
		if (replay_plan_build(sf->f, &sf->plan) != 0)
			goto nomem;
		sf->data = ss->data;
		sf->server_fin_first = ss->fin_seen &&
			(!cs->fin_seen || ss->fin_timestamp_ns < cs->fin_timestamp_ns);
		if (corrupt_flow == (int64_t)i && corrupt_offset < ss->length) {
			sf->copy = malloc(ss->length);
			if (sf->copy == NULL)
				goto nomem;
			memcpy(sf->copy, ss->data, ss->length);
			sf->copy[corrupt_offset] ^= 0xff;
			sf->data = sf->copy;
		}
		for (k = 0; k < nb_ports; k++)
			if (ports[k] == sf->f->tuple.server_port)
				break;
		if (k == nb_ports) {
			if (nb_ports == SRV_MAX_LISTENERS) {
				snprintf(err, errlen, "the capture has more than %d server ports",
					 SRV_MAX_LISTENERS);
				replay_server_destroy(srv);
				return NULL;
			}
			ports[nb_ports++] = sf->f->tuple.server_port;
		}
	}
	srv->cq = wsk_cq_create(NULL, max_conns * (SRV_SEND_SLOTS + 4) + 64,
				max_conns * (SRV_SEND_SLOTS + 4) + 64, SOCKET_ID_ANY);
	srv->client = wsk_client_create(s, max_conns + SRV_MAX_LISTENERS,
					max_conns * (SRV_SEND_SLOTS + 4) + 64);
	if (srv->cq == NULL || srv->client == NULL) {
		snprintf(err, errlen, "cannot create the server's wskapi client");
		replay_server_destroy(srv);
		return NULL;
	}
	for (uint32_t k = 0; k < nb_ports; k++) {
		if (srv_listen(srv, ports[k], err, errlen) != 0) {
			replay_server_destroy(srv);
			return NULL;
		}
	}
	return srv;
nomem:
	snprintf(err, errlen, "out of memory");
	replay_server_destroy(srv);
	return NULL;
}
