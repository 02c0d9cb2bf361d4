/*
 * wskdp-gen's server worker: listens, answers every request_bytes
 * received with one answer, closes after the client (or first) (gen_run.h).
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "gen_run.h"

/* Fast Open connections waiting for their third ACK, per listener. */
#define TFO_MAX_PENDING 4096

static NTSTATUS on_accept(void *ctx, uint32_t flags,
			  const struct sockaddr *local,
			  const struct sockaddr *remote, WSK_SOCKET *so,
			  void **accept_context,
			  const WSK_CLIENT_CONNECTION_DISPATCH **accept_dispatch);
static NTSTATUS on_receive(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
			   size_t indicated, size_t *accepted);
static NTSTATUS on_disconnect(void *ctx, uint32_t flags);

static const WSK_CLIENT_CONNECTION_DISPATCH conn_dispatch = {
	.receive_event = on_receive,
	.disconnect_event = on_disconnect,
};

static const WSK_CLIENT_STREAM_DISPATCH listen_dispatch = {
	.accept_event = on_accept,
	.receive_event = on_receive,
	.disconnect_event = on_disconnect,
};

int
gen_server_listen(struct gen_worker *w)
{
	const struct gen_config *cfg = w->cfg;
	struct wsk_event_callback_control ev = {
		.event_mask = WSK_EVENT_ACCEPT | WSK_EVENT_RECEIVE |
			      WSK_EVENT_DISCONNECT,
	};
	struct wsk_request r = gen_req(w, NULL, GEN_OP_IGNORE);

	for (uint32_t p = cfg->server.listen_ports.first;
	     p <= cfg->server.listen_ports.last; p++) {
		struct sockaddr_in local = { .sin_family = AF_INET,
					     .sin_port = htons((uint16_t)p) };
		uint32_t tfo = cfg->tfo ? TFO_MAX_PENDING : 0;
		WSK_SOCKET *so = NULL;
		NTSTATUS st;

		if (w->nb_listeners == GEN_MAX_LISTENERS) {
			fprintf(stderr, "wskdp-gen: --listen-ports: at most %d ports\n",
				GEN_MAX_LISTENERS);
			return -EINVAL;
		}
		st = wsk_socket_ex(w->wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				   WSK_FLAG_STREAM_SOCKET, w, &listen_dispatch,
				   &so, &r);
		if (st == STATUS_SUCCESS) {
			w->listeners[w->nb_listeners++] = so;
			so->basic->control_socket(so, WskSetOption,
					WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP,
					sizeof(tfo), &tfo, 0, NULL, NULL, NULL);
			st = so->stream->bind(so, (struct sockaddr *)&local, 0, &r);
		}
		if (st == STATUS_SUCCESS)
			st = so->stream->listen(so, &r);
		if (st == STATUS_SUCCESS)
			st = so->basic->control_socket(so, WskSetOption,
					WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET,
					sizeof(ev), &ev, 0, NULL, NULL, NULL);
		if (st != STATUS_SUCCESS) {
			fprintf(stderr, "wskdp-gen: cannot listen on port %u (status 0x%08x)\n",
				p, (unsigned)st);
			return -EINVAL;
		}
	}
	return 0;
}

/* Send the next answer owed, or close when nothing is left to do. */
static void
serve(struct gen_conn *c)
{
	struct gen_worker *w = c->w;
	const struct gen_config *cfg = w->cfg;

	if (c->failed || c->close_sent || c->disc_sent)
		return;
	while (c->tx_left == 0 && c->owed > 0 && !c->disc_sent) {
		c->owed--;
		c->requests++;
		if (w->msg.len > 0) {
			gen_conn_start_message(c, w->msg.len, 0);
			gen_conn_send_more(c);
		}
	}
	/* The FIN may follow the answer's bytes still in flight: disconnect
	 * queues it behind them, and the client sees both at once. */
	if (c->tx_left > 0 || c->owed > 0)
		return;
	if (c->fin_rx || (cfg->server.close_first && c->requests > 0))
		gen_conn_disconnect(c);
}

static void
maybe_completed(struct gen_conn *c)
{
	if (c->failed || c->close_sent || !c->disc_done || !c->fin_rx)
		return;
	c->w->res.connections.completed++;
	gen_hist_record(&c->w->res.latency_us.complete,
			c->w->now_us - c->t_start);
	gen_conn_close(c);
}

void
gen_server_sent_all(struct gen_conn *c)
{
	serve(c);
}

void
gen_server_completion(struct gen_conn *c, enum gen_op op, NTSTATUS st,
		      uint64_t info)
{
	(void)info;
	if (c->close_sent)
		return;
	if (st != STATUS_SUCCESS) {
		gen_conn_fail(c, st);
		return;
	}
	switch (op) {
	case GEN_OP_SEND:
		gen_conn_send_more(c);
		if (c->tx_left == 0 && c->slots_busy == 0)
			gen_server_sent_all(c);
		break;
	case GEN_OP_DISCONNECT:
		c->disc_done = true;
		maybe_completed(c);
		break;
	default:
		break;
	}
}

static NTSTATUS
on_accept(void *ctx, uint32_t flags, const struct sockaddr *local,
	  const struct sockaddr *remote, WSK_SOCKET *so, void **accept_context,
	  const WSK_CLIENT_CONNECTION_DISPATCH **accept_dispatch)
{
	struct gen_worker *w = ctx;
	struct gen_conn *c;

	(void)flags;
	(void)local;
	(void)remote;
	c = gen_conn_alloc(w);
	if (c == NULL) {
		w->refused++;
		return STATUS_REQUEST_NOT_ACCEPTED;
	}
	c->so = so;
	c->t_start = w->now_us;
	w->res.connections.attempted++;
	w->res.connections.established++;
	*accept_context = c;
	*accept_dispatch = &conn_dispatch;
	return STATUS_SUCCESS;
}

static NTSTATUS
on_receive(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
	   size_t indicated, size_t *accepted)
{
	struct gen_conn *c = ctx;
	struct gen_worker *w = c->w;
	uint64_t per = w->cfg->server.request_bytes;

	(void)flags;
	(void)ind;
	*accepted = indicated;
	w->res.bytes.received += indicated;
	c->rx_acc += indicated;
	if (c->rx_acc >= per) {
		c->owed += c->rx_acc / per;
		c->rx_acc %= per;
		serve(c);
	}
	return STATUS_SUCCESS;
}

static NTSTATUS
on_disconnect(void *ctx, uint32_t flags)
{
	struct gen_conn *c = ctx;

	if (c->failed || c->close_sent)
		return STATUS_SUCCESS;
	if (flags & WSK_FLAG_ABORTIVE) {
		/* An abortive client close ends the exchange as asked:
		 * count it failed only if answers were still owed. */
		if (c->owed == 0 && c->tx_left == 0 && c->requests > 0) {
			c->w->res.connections.completed++;
			gen_conn_close(c);
		} else {
			gen_conn_fail(c, STATUS_CONNECTION_RESET);
		}
		return STATUS_SUCCESS;
	}
	c->fin_rx = true;
	if (c->disc_done)
		maybe_completed(c);
	else
		serve(c);
	return STATUS_SUCCESS;
}
