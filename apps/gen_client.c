/*
 * wskdp-gen's client worker: opens connections as the load asks, sends
 * each request, counts each response, closes as asked (gen_run.h).
 */
#include <string.h>
#include <arpa/inet.h>
#include <rte_common.h>
#include <rte_thash.h>

#include "gen_run.h"

/* Most connects tried in one pass: a pass must stay short, and a run of
 * 4-tuples still in TIME_WAIT must not spin. */
#define OPEN_PER_PASS 64

static NTSTATUS on_receive(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
			   size_t indicated, size_t *accepted);
static NTSTATUS on_disconnect(void *ctx, uint32_t flags);
static NTSTATUS on_backlog(void *ctx, size_t ideal);

const WSK_CLIENT_CONNECTION_DISPATCH gen_client_dispatch = {
	.receive_event = on_receive,
	.disconnect_event = on_disconnect,
	.send_backlog_event = on_backlog,
};

/* Address number i of the ranges (i < their count). */
static uint32_t
addr_at(const struct gen_addr_ranges *r, uint64_t i)
{
	for (unsigned k = 0; k < r->n; k++) {
		uint64_t n = (uint64_t)r->r[k].last - r->r[k].first + 1;

		if (i < n)
			return r->r[k].first + (uint32_t)i;
		i -= n;
	}
	return 0;
}

static uint64_t
range_len(const struct gen_port_range *p)
{
	return (uint64_t)p->last - p->first + 1;
}

/* The 4-tuple number i: server port fastest, so that consecutive
 * connections spread over the servers, then server, local port, local
 * address. Addresses and ports in host order; *la 0 means the port's. */
static void
tuple_at(const struct gen_worker *w, uint64_t i, uint32_t *la, uint16_t *lp,
	 uint32_t *ra, uint16_t *rp)
{
	const struct gen_config *cfg = w->cfg;
	uint64_t nsp = range_len(&cfg->client.server_ports);
	uint64_t ns = gen_addr_ranges_count(&cfg->client.servers);
	uint64_t nlp = range_len(&cfg->client.local_ports);
	uint64_t nla = cfg->client.local_addrs.n > 0 ?
		       gen_addr_ranges_count(&cfg->client.local_addrs) : 1;

	*rp = (uint16_t)(cfg->client.server_ports.first + i % nsp);
	i /= nsp;
	*ra = addr_at(&cfg->client.servers, i % ns);
	i /= ns;
	*lp = (uint16_t)(cfg->client.local_ports.first + i % nlp);
	i /= nlp;
	*la = cfg->client.local_addrs.n > 0 ?
	      addr_at(&cfg->client.local_addrs, i % nla) : 0;
}

static uint64_t
tuple_count(const struct gen_worker *w)
{
	const struct gen_config *cfg = w->cfg;
	uint64_t n = range_len(&cfg->client.server_ports) *
		     gen_addr_ranges_count(&cfg->client.servers) *
		     range_len(&cfg->client.local_ports);

	if (cfg->client.local_addrs.n > 0)
		n *= gen_addr_ranges_count(&cfg->client.local_addrs);
	return n;
}

/* Does the server's answer to this tuple reach our queue? The port hashes
 * what it receives: source the server, destination us. */
bool
gen_client_rss_ours(const struct gen_worker *w, uint32_t la, uint16_t lp,
		    uint32_t ra, uint16_t rp)
{
	union rte_thash_tuple t;
	uint32_t h;

	if (w->rss_key == NULL)
		return true;
	memset(&t, 0, sizeof(t));
	t.v4.src_addr = ra;
	t.v4.dst_addr = la != 0 ? la : w->default_laddr;
	t.v4.sport = rp;
	t.v4.dport = lp;
	h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, w->rss_key);
	return w->reta[h % w->reta_size] == w->queue;
}

static void
set_opt(WSK_SOCKET *so, uint32_t level, uint32_t code, uint32_t v)
{
	so->basic->control_socket(so, WskSetOption, code, level, sizeof(v), &v,
				  0, NULL, NULL, NULL);
}

/* Open one connection. Returns false when no more can be opened in this
 * pass (no slot, no resources). */
static bool
open_one(struct gen_worker *w)
{
	const struct gen_config *cfg = w->cfg;
	struct wsk_event_callback_control ev = {
		.event_mask = WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT |
			      WSK_EVENT_SEND_BACKLOG,
	};
	struct sockaddr_in local = { .sin_family = AF_INET };
	struct sockaddr_in remote = { .sin_family = AF_INET };
	struct wsk_request r;
	struct wsk_mdl mdl;
	WSK_BUF buf;
	struct gen_conn *c;
	uint32_t la = 0, ra = 0;
	uint16_t lp = 0, rp = 0;
	uint64_t first;
	NTSTATUS st;

	for (uint64_t tries = 0;; tries++) {
		if (tries == w->tuple_count)
			return false;	/* no tuple maps to our queue */
		tuple_at(w, w->tuple_next % w->tuple_count, &la, &lp, &ra, &rp);
		w->tuple_next++;
		if (gen_client_rss_ours(w, la, lp, ra, rp))
			break;
	}
	c = gen_conn_alloc(w);
	if (c == NULL)
		return false;
	r = gen_req(w, c, GEN_OP_IGNORE);
	st = wsk_socket_ex(w->wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			   WSK_FLAG_CONNECTION_SOCKET, c, &gen_client_dispatch,
			   &c->so, &r);
	if (st != STATUS_SUCCESS) {
		/* Nothing was created: give the slot back at once. */
		c->state = GEN_CONN_FREE;
		c->next_free = w->free_head;
		w->free_head = c->idx;
		w->active--;
		return false;
	}
	c->so->basic->control_socket(c->so, WskSetOption,
			WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET, sizeof(ev), &ev,
			0, NULL, NULL, NULL);
	set_opt(c->so, WSK_SOL_SOCKET, WSK_SO_REUSEADDR, 1);
	set_opt(c->so, WSK_IPPROTO_TCP, WSK_TCP_NODELAY, 1);
	if (cfg->tfo)
		set_opt(c->so, WSK_IPPROTO_TCP, WSK_TCP_FASTOPEN, 1);
	local.sin_addr.s_addr = htonl(la);
	local.sin_port = htons(lp);
	st = c->so->connection->bind(c->so, (struct sockaddr *)&local, 0, &r);
	if (st != STATUS_SUCCESS) {
		gen_conn_close(c);
		return false;
	}
	remote.sin_addr.s_addr = htonl(ra);
	remote.sin_port = htons(rp);
	first = RTE_MIN(w->msg.len, (uint64_t)WSK_CONNECT_EX_MAX_BUFFER);
	first = RTE_MIN(first, w->msg.data_len);
	mdl = (struct wsk_mdl){ .va = (void *)w->msg.data, .len = (size_t)first };
	buf = (WSK_BUF){ .mdl = &mdl, .length = (size_t)first };
	r = gen_req(w, c, GEN_OP_CONNECT);
	c->t_start = c->t_req = w->now_us;
	st = c->so->connection->connect_ex(c->so, (struct sockaddr *)&remote,
					   first > 0 ? &buf : NULL, 0, &r);
	if (st != STATUS_PENDING) {
		gen_conn_close(c);
		/* A 4-tuple still held (TIME_WAIT): try the next one. */
		if (st == STATUS_ADDRESS_ALREADY_EXISTS) {
			w->tuple_skips++;
			return true;
		}
		return false;
	}
	w->opened++;
	w->res.connections.attempted++;
	gen_conn_start_message(c, w->msg.len, first);
	c->rx_left = cfg->client.response_size;
	return true;
}

void
gen_client_open_more(struct gen_worker *w)
{
	unsigned n = 0;

	if (w->tuple_count == 0)
		w->tuple_count = tuple_count(w);
	/* The first SYN makes the engine resolve the next hop; SYNs sent
	 * meanwhile would queue behind ARP (64 at most, the rest dropped and
	 * sent again a second later). So one connection until the first has
	 * an outcome, as a load generator's ARP phase would. */
	if (w->active > 0 && w->res.connections.established == 0 &&
	    w->res.connections.failed == 0)
		return;
	if (w->rate_cps == 0) {
		while (w->active < w->target_open && n++ < OPEN_PER_PASS &&
		       (w->budget == 0 || w->opened < w->budget))
			if (!open_one(w))
				break;
		return;
	}
	{
		uint64_t due;

		if (w->rate_start_us == 0)
			w->rate_start_us = w->now_us > 0 ? w->now_us : 1;
		due = (w->now_us - w->rate_start_us) * w->rate_cps / 1000000 + 1;
		while (w->opened < due && n++ < OPEN_PER_PASS &&
		       (w->budget == 0 || w->opened < w->budget))
			if (!open_one(w))
				break;
	}
}

/* Count c completed and close it, once both FINs are through. */
static void
maybe_completed(struct gen_conn *c)
{
	if (c->failed || c->close_sent || !c->disc_done || !c->fin_rx)
		return;
	c->w->res.connections.completed++;
	gen_conn_close(c);
}

/* All requests answered: close as asked. */
static void
finish(struct gen_conn *c)
{
	struct gen_worker *w = c->w;

	if (c->failed || c->close_sent || c->disc_sent)
		return;
	if (c->slots_busy != 0 || c->tx_left > 0 || !c->connect_done)
		return;		/* gen_client_sent_all calls again */
	gen_hist_record(&w->res.latency_us.complete, w->now_us - c->t_start);
	if (w->cfg->client.close == GEN_CLOSE_ABORTIVE) {
		struct wsk_request r = gen_req(w, c, GEN_OP_IGNORE);

		NTSTATUS st = c->so->connection->disconnect(c->so, NULL,
						WSK_FLAG_ABORTIVE, &r);

		/* PENDING: after a zero-copy send's memory is released. */
		if (st != STATUS_SUCCESS && st != STATUS_PENDING) {
			gen_conn_fail(c, STATUS_CONNECTION_ABORTED);
			return;
		}
		w->res.connections.completed++;
		gen_conn_close(c);
		return;
	}
	gen_conn_disconnect(c);
}

/* The current response is complete. */
static void
response_done(struct gen_conn *c)
{
	struct gen_worker *w = c->w;

	c->requests++;
	if (c->requests < w->cfg->client.requests_per_connection &&
	    !w->cfg->client.until_close && !w->stopping) {
		c->got_first_byte = false;
		c->t_req = w->now_us;
		c->rx_left = w->cfg->client.response_size;
		gen_conn_start_message(c, w->msg.len, 0);
		gen_conn_send_more(c);
		return;
	}
	c->want_finish = true;
	finish(c);
}

void
gen_client_sent_all(struct gen_conn *c)
{
	if (c->want_finish || (c->w->cfg->client.bulk && c->w->stopping))
		finish(c);
}

static void
handshake_done(struct gen_conn *c)
{
	struct gen_worker *w = c->w;

	if (c->handshake)
		return;
	c->handshake = true;
	w->res.connections.established++;
	gen_hist_record(&w->res.latency_us.connect, w->now_us - c->t_start);
	gen_conn_send_more(c);
}

void
gen_client_completion(struct gen_conn *c, enum gen_op op, NTSTATUS st,
		      uint64_t info)
{
	struct gen_worker *w = c->w;

	if (c->close_sent)
		return;
	if (st != STATUS_SUCCESS) {
		gen_conn_fail(c, st);
		return;
	}
	switch (op) {
	case GEN_OP_CONNECT:
		w->res.bytes.sent += info;
		c->connect_done = true;
		handshake_done(c);
		if (c->tx_left == 0 && c->slots_busy == 0)
			gen_client_sent_all(c);
		break;
	case GEN_OP_SEND:
		gen_conn_send_more(c);
		if (c->tx_left == 0 && c->slots_busy == 0)
			gen_client_sent_all(c);
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
on_receive(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
	   size_t indicated, size_t *accepted)
{
	struct gen_conn *c = ctx;
	struct gen_worker *w = c->w;

	(void)flags;
	(void)ind;
	*accepted = indicated;
	w->res.bytes.received += indicated;
	if (c->failed || c->close_sent)
		return STATUS_SUCCESS;
	if (!c->got_first_byte && indicated > 0) {
		c->got_first_byte = true;
		gen_hist_record(&w->res.latency_us.first_byte,
				w->now_us - c->t_req);
	}
	if (w->cfg->client.until_close || w->cfg->client.bulk)
		return STATUS_SUCCESS;
	if (indicated > c->rx_left) {
		/* More than the response: the server does not speak our
		 * request/response protocol. */
		gen_conn_fail(c, STATUS_INVALID_CONNECTION);
		return STATUS_SUCCESS;
	}
	c->rx_left -= indicated;
	if (c->rx_left == 0)
		response_done(c);
	return STATUS_SUCCESS;
}

static NTSTATUS
on_disconnect(void *ctx, uint32_t flags)
{
	struct gen_conn *c = ctx;
	const struct gen_config *cfg = c->w->cfg;

	if (c->failed || c->close_sent)
		return STATUS_SUCCESS;
	if (flags & WSK_FLAG_ABORTIVE) {
		gen_conn_fail(c, STATUS_CONNECTION_RESET);
		return STATUS_SUCCESS;
	}
	c->fin_rx = true;
	if (cfg->client.until_close && !c->disc_sent) {
		response_done(c);
		return STATUS_SUCCESS;
	}
	if (!c->disc_sent && !cfg->client.bulk && c->rx_left > 0) {
		/* The server closed before its answer was complete. */
		gen_conn_fail(c, STATUS_CONNECTION_DISCONNECTED);
		return STATUS_SUCCESS;
	}
	maybe_completed(c);
	return STATUS_SUCCESS;
}

static NTSTATUS
on_backlog(void *ctx, size_t ideal)
{
	struct gen_conn *c = ctx;

	(void)ideal;
	if (!c->failed && !c->close_sent)
		handshake_done(c);
	return STATUS_SUCCESS;
}
