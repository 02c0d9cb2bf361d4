#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_lcore.h>

#include "engine.h"
#include "gen_run.h"

#define REAP_BATCH 64

void
gen_run_clock_init(struct gen_run_clock *clk)
{
	clk->us_factor = engine_tsc_us_factor(rte_get_tsc_hz());
	clk->tsc_start = rte_rdtsc();
}

uint64_t
gen_run_now_us(const struct gen_run_clock *clk)
{
	return engine_tsc_to_us(rte_rdtsc() - clk->tsc_start, clk->us_factor);
}

static uint64_t
worker_now(const struct gen_worker *w)
{
	return engine_tsc_to_us(rte_rdtsc() - w->tsc_start, w->us_factor);
}

struct gen_conn *
gen_conn_alloc(struct gen_worker *w)
{
	struct gen_conn *c;
	uint32_t idx = w->free_head;

	if (idx == UINT32_MAX)
		return NULL;
	c = &w->conns[idx];
	w->free_head = c->next_free;
	/* Everything but the identity and the send slots starts from zero. */
	memset(c, 0, offsetof(struct gen_conn, mdl));
	c->w = w;
	c->idx = idx;
	c->next_free = UINT32_MAX;
	c->state = GEN_CONN_OPEN;
	w->active++;
	return c;
}

static void
conn_free(struct gen_conn *c)
{
	struct gen_worker *w = c->w;

	c->state = GEN_CONN_FREE;
	c->so = NULL;
	c->next_free = w->free_head;
	w->free_head = c->idx;
	w->active--;
}

void
gen_conn_start_message(struct gen_conn *c, uint64_t len, uint64_t skip)
{
	c->tx_pos = skip;
	c->tx_left = len - skip;
}

void
gen_conn_send_more(struct gen_conn *c)
{
	struct gen_worker *w = c->w;
	const struct gen_msg *m = &w->msg;

	while (c->tx_left > 0 &&
	       __builtin_popcount(c->slots_busy) < GEN_SENDS_INFLIGHT &&
	       !c->failed &&
	       !c->close_sent) {
		uint64_t off = c->tx_pos % m->data_len;
		uint64_t n = c->tx_left;
		struct wsk_request r = gen_req(w, c, GEN_OP_SEND);
		unsigned slot;
		NTSTATUS st;

		if (n > GEN_CHUNK)
			n = GEN_CHUNK;
		if (n > m->data_len - off)
			n = m->data_len - off;
		/* A free buffer: sends complete in order, so the slot of the
		 * oldest in-flight send frees first; use the slot after the
		 * newest. */
		slot = (unsigned)((c->tx_pos / GEN_CHUNK) % GEN_SENDS_INFLIGHT);
		for (unsigned k = 0; k < GEN_SENDS_INFLIGHT; k++) {
			unsigned i = (slot + k) % GEN_SENDS_INFLIGHT;

			if (!(c->slots_busy & (1u << i))) {
				slot = i;
				break;
			}
		}
		c->mdl[slot] = (struct wsk_mdl){ .va = (void *)(m->data + off),
						 .len = (size_t)n };
		c->buf[slot] = (WSK_BUF){ .mdl = &c->mdl[slot], .length = (size_t)n };
		c->slots_busy |= (uint16_t)(1u << slot);
		r.user_data |= (uint64_t)slot << 4;
		st = c->so->connection->send(c->so, &c->buf[slot], 0, &r);
		if (st != STATUS_PENDING && st != STATUS_SUCCESS) {
			c->slots_busy &= (uint16_t)~(1u << slot);
			if (st == STATUS_INSUFFICIENT_RESOURCES)
				return;	/* retried when a send completes */
			gen_conn_fail(c, st);
			return;
		}
		c->tx_pos += n;
		c->tx_left -= n;
	}
}

void
gen_conn_disconnect(struct gen_conn *c)
{
	struct gen_worker *w = c->w;
	struct wsk_request r = gen_req(w, c, GEN_OP_DISCONNECT);
	NTSTATUS st;

	if (c->disc_sent || c->failed || c->close_sent)
		return;
	st = c->so->connection->disconnect(c->so, NULL, 0, &r);
	if (st != STATUS_PENDING && st != STATUS_SUCCESS) {
		gen_conn_fail(c, st);
		return;
	}
	c->disc_sent = true;
}

void
gen_conn_close(struct gen_conn *c)
{
	struct gen_worker *w = c->w;
	struct wsk_request r = gen_req(w, c, GEN_OP_CLOSE);
	NTSTATUS st;

	if (c->close_sent)
		return;
	/* Refused only for want of ring room: the worker retries in
	 * gen_worker_finish at the latest, and reaping frees room. */
	st = c->so->basic->close_socket(c->so, &r);
	/* PENDING: a zero-copy send still waits for its memory's release;
	 * the close completes after it. */
	if (st == STATUS_SUCCESS || st == STATUS_PENDING) {
		c->close_sent = true;
		c->state = GEN_CONN_CLOSING;
	}
}

void
gen_conn_fail(struct gen_conn *c, NTSTATUS status)
{
	struct gen_worker *w = c->w;

	if (!c->failed) {
		c->failed = true;
		w->res.connections.failed++;
		if (status == STATUS_CONNECTION_RESET ||
		    status == STATUS_CONNECTION_REFUSED ||
		    status == STATUS_CONNECTION_ABORTED)
			w->res.connections.reset++;
		else if (status == STATUS_IO_TIMEOUT)
			w->res.connections.timed_out++;
	}
	gen_conn_close(c);
}

static void
dispatch(struct gen_worker *w, const struct wsk_completion *e)
{
	uint32_t idx = (uint32_t)(e->user_data >> 8);
	enum gen_op op = (enum gen_op)(e->user_data & 0xf);
	struct gen_conn *c;

	if (idx == UINT32_MAX || op == GEN_OP_IGNORE)
		return;
	c = &w->conns[idx];
	if (op == GEN_OP_CLOSE) {
		conn_free(c);
		return;
	}
	if (op == GEN_OP_SEND) {
		unsigned slot = (unsigned)((e->user_data >> 4) & 0xf);

		c->slots_busy &= (uint16_t)~(1u << slot);
		if (e->status == STATUS_SUCCESS)
			w->res.bytes.sent += e->information;
	}
	if (w->role == GEN_ROLE_CLIENT)
		gen_client_completion(c, op, e->status, e->information);
	else
		gen_server_completion(c, op, e->status, e->information);
}

static void
reap(struct gen_worker *w)
{
	struct wsk_completion *p[REAP_BATCH], e[REAP_BATCH];
	unsigned n;

	do {
		n = wsk_cq_peek_batch(w->cq, p, REAP_BATCH);
		for (unsigned i = 0; i < n; i++)
			e[i] = *p[i];
		/* Free the ring before acting: the actions make new calls,
		 * and each needs room for its own completion. */
		wsk_cq_advance(w->cq, n);
		for (unsigned i = 0; i < n; i++)
			dispatch(w, &e[i]);
	} while (n == REAP_BATCH);
}

static void
tick(struct gen_worker *w)
{
	size_t len;

	if (w->now_us < w->next_tick_us)
		return;
	if (gen_results_tick(&w->res, w->next_tick_us / 1e6, w->active) == 0) {
		len = w->res.timeline_len;
		gen_hist_summarize(&w->res.latency_us.complete, &w->live_lat[len - 1]);
		atomic_store_explicit(&w->published, len, memory_order_release);
	}
	w->next_tick_us += 1000000;
}

int
gen_worker_init(struct gen_worker *w, enum gen_role role,
		const struct gen_config *cfg, struct shard *s,
		uint16_t port_index, unsigned share, unsigned shares,
		const struct gen_msg *msg, const struct gen_run_clock *clk)
{
	uint64_t slots, requests, cq_entries;
	size_t timeline_cap;
	char name[32];

	memset(w, 0, sizeof(*w));
	w->role = role;
	w->cfg = cfg;
	w->shard = s;
	w->port_index = port_index;
	w->msg = *msg;
	w->tsc_start = clk->tsc_start;
	w->us_factor = clk->us_factor;
	w->next_tick_us = 1000000;
	w->free_head = UINT32_MAX;
	atomic_init(&w->published, 0);
	atomic_init(&w->finished, false);

	if (role == GEN_ROLE_CLIENT) {
		uint64_t conns = cfg->client.connections;

		if (cfg->load == GEN_LOAD_RATE) {
			w->rate_cps = cfg->client.rate_cps / shares +
				      (share < cfg->client.rate_cps % shares);
			/* Room for 50 ms of connections open at once. */
			slots = RTE_MAX(w->rate_cps / 20, UINT64_C(256));
		} else {
			w->target_open = (uint32_t)(cfg->client.concurrency / shares +
				(share < cfg->client.concurrency % shares));
			slots = RTE_MAX(w->target_open, 1u);
		}
		if (cfg->stop == GEN_STOP_CONNECTIONS)
			w->budget = conns / shares + (share < conns % shares);
		if (cfg->stop == GEN_STOP_DURATION && cfg->duration_ms > 0)
			w->stop_at_us = cfg->duration_ms * 1000;
		w->tuple_next = share;
	} else {
		slots = RTE_MIN(cfg->max_conns, UINT64_C(65536));
	}
	slots = RTE_MIN(slots, UINT64_C(65536) - GEN_MAX_LISTENERS);
	requests = RTE_MIN(slots * (GEN_SENDS_INFLIGHT + 4) + 64, UINT64_C(1048576));
	cq_entries = RTE_MIN(requests, (uint64_t)WSK_CQ_MAX_ENTRIES);
	w->nb_conns = (uint32_t)slots;
	w->conns = calloc(slots, sizeof(*w->conns));
	timeline_cap = cfg->duration_ms > 0 && cfg->stop == GEN_STOP_DURATION ?
		       cfg->duration_ms / 1000 + 8 : 24 * 3600;
	w->live_lat = calloc(timeline_cap, sizeof(*w->live_lat));
	if (w->conns == NULL || w->live_lat == NULL ||
	    gen_results_init(&w->res, timeline_cap) != 0) {
		gen_worker_fini(w);
		return -ENOMEM;
	}
	for (uint32_t i = slots; i-- > 0;) {
		w->conns[i].idx = i;
		w->conns[i].w = w;
		w->conns[i].next_free = w->free_head;
		w->free_head = i;
	}
	snprintf(name, sizeof(name), "gen_cq_%c%u", role == GEN_ROLE_CLIENT ? 'c' : 's',
		 s->id);
	w->cq = wsk_cq_create(name, (unsigned)cq_entries, 1024, SOCKET_ID_ANY);
	w->wc = wsk_client_create(s, (unsigned)slots + GEN_MAX_LISTENERS,
				  (unsigned)requests);
	if (w->cq == NULL || w->wc == NULL) {
		fprintf(stderr, "wskdp-gen: cannot create the wskapi client of shard %u\n",
			s->id);
		gen_worker_fini(w);
		return -ENOMEM;
	}
	/* Messages never change while a run lasts, so sends may go out of
	 * the message itself (zero-copy transmit); where the port cannot
	 * take user memory, wskapi copies as before. */
	if (w->msg.data_len > 0 && cfg->zero_copy)
		w->msg_zero_copy = wsk_register_memory(w->wc, (void *)w->msg.data,
						       (size_t)w->msg.data_len,
						       &w->msg_mem) == STATUS_SUCCESS;
	if (role == GEN_ROLE_SERVER) {
		int rc = gen_server_listen(w);

		if (rc != 0) {
			gen_worker_fini(w);
			return rc;
		}
	}
	return 0;
}

void
gen_worker_set_rss(struct gen_worker *w, const uint8_t *key,
		   const uint16_t *reta, uint32_t reta_size, uint16_t queue)
{
	w->rss_key = key;
	w->reta = reta;
	w->reta_size = reta_size;
	w->queue = queue;
}

void
gen_worker_stop(struct gen_worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->drain_until_us = w->now_us + GEN_DRAIN_US;
	/* Bulk connections stream until told: end their message now, and
	 * they close once their sends in flight are acknowledged. */
	if (w->role == GEN_ROLE_CLIENT && w->cfg->client.bulk) {
		for (uint32_t i = 0; i < w->nb_conns; i++) {
			struct gen_conn *c = &w->conns[i];

			if (c->state != GEN_CONN_OPEN || c->failed)
				continue;
			c->tx_left = 0;
			if (c->slots_busy == 0 && c->handshake)
				gen_client_sent_all(c);
		}
	}
}

bool
gen_worker_poll(struct gen_worker *w)
{
	w->now_us = worker_now(w);
	shard_poll(w->shard);
	wsk_client_poll(w->wc);
	reap(w);
	if (w->role == GEN_ROLE_CLIENT && !w->done) {
		/* A spent connection budget only stops new connections: the open
		 * ones still make all their keep-alive requests. Stopping would
		 * end them early and count them completed with fewer requests. */
		bool spent = w->budget != 0 && w->opened >= w->budget;

		if (!w->stopping && w->stop_at_us != 0 && w->now_us >= w->stop_at_us)
			gen_worker_stop(w);
		if (!w->stopping && !spent)
			gen_client_open_more(w);
		else if (w->active == 0 ||
			 (w->cfg->stop == GEN_STOP_DURATION &&
			  w->now_us >= w->drain_until_us))
			w->done = true;
	}
	tick(w);
	return !w->done;
}

void
gen_worker_finish(struct gen_worker *w)
{
	uint64_t deadline;

	for (uint32_t i = 0; i < w->nb_conns; i++) {
		struct gen_conn *c = &w->conns[i];

		if (c->state != GEN_CONN_OPEN)
			continue;
		/* Still open when the run ended: it did not finish in time. */
		gen_conn_fail(c, STATUS_IO_TIMEOUT);
	}
	for (unsigned i = 0; i < w->nb_listeners; i++) {
		struct wsk_request r = gen_req(w, NULL, GEN_OP_CLOSE_LISTENER);

		if (w->listeners[i] != NULL)
			w->listeners[i]->basic->close_socket(w->listeners[i], &r);
		w->listeners[i] = NULL;
	}
	w->nb_listeners = 0;
	deadline = worker_now(w) + 1000000;
	while (w->active > 0 && worker_now(w) < deadline) {
		w->now_us = worker_now(w);
		shard_poll(w->shard);
		wsk_client_poll(w->wc);
		reap(w);
		/* A close refused for want of ring room is tried again. */
		for (uint32_t i = 0; i < w->nb_conns; i++)
			if (w->conns[i].state == GEN_CONN_OPEN)
				gen_conn_close(&w->conns[i]);
	}
	reap(w);
	atomic_store_explicit(&w->finished, true, memory_order_release);
}

void
gen_worker_collect_tcp(struct gen_worker *w)
{
	const struct shard *s = w->shard;

	w->res.tcp.retransmits = STAT_GET(s, tcp_rexmt_segments);
	w->res.tcp.rx_bad_segments = STAT_GET(s, tcp_drop_short) +
		STAT_GET(s, tcp_drop_bad_offset) +
		STAT_GET(s, tcp_drop_bad_checksum) +
		STAT_GET(s, tcp_drop_bad_options) +
		STAT_GET(s, tcp_drop_bad_flags);
	w->res.tfo.cookies_requested = STAT_GET(s, tfo_cookie_requests_sent);
	w->res.tfo.cookies_received = STAT_GET(s, tfo_cookies_received);
	w->res.tfo.syn_data_sent = STAT_GET(s, tfo_syn_data_sent);
	w->res.tfo.syn_data_acked = STAT_GET(s, tfo_syn_data_acked);
	w->res.tfo.fallbacks = STAT_GET(s, tfo_fallbacks);
}

void
gen_worker_fini(struct gen_worker *w)
{
	wsk_client_destroy(w->wc);
	w->wc = NULL;
	wsk_cq_free(w->cq);
	w->cq = NULL;
	free(w->conns);
	w->conns = NULL;
	free(w->live_lat);
	w->live_lat = NULL;
	gen_results_fini(&w->res);
}
