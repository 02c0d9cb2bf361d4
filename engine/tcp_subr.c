/*
 * TCP support: per-shard state, the connection table and pool, listeners,
 * the user calls and the upcall dispatcher (FreeBSD tcp_subr.c and
 * tcp_usrreq.c in one file); the send and receive queues and the calls
 * on them are in tcp_data.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

static const char *const state_names[TCPS_COUNT] = {
	[TCPS_CLOSED] = "CLOSED",
	[TCPS_LISTEN] = "LISTEN",
	[TCPS_SYN_SENT] = "SYN_SENT",
	[TCPS_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCPS_ESTABLISHED] = "ESTABLISHED",
	[TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCPS_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCPS_CLOSING] = "CLOSING",
	[TCPS_LAST_ACK] = "LAST_ACK",
	[TCPS_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCPS_TIME_WAIT] = "TIME_WAIT",
};

const char *
tcp_state_name(enum tcp_state st)
{
	return (unsigned)st < TCPS_COUNT ? state_names[st] : "?";
}

const char *
tcp_close_reason_name(enum tcp_close_reason r)
{
	switch (r) {
	case TCP_CLOSE_NORMAL: return "NORMAL";
	case TCP_CLOSE_REFUSED: return "REFUSED";
	case TCP_CLOSE_RESET: return "RESET";
	case TCP_CLOSE_TIMEOUT: return "TIMEOUT";
	case TCP_CLOSE_ABORTED: return "ABORTED";
	}
	return "?";
}

void
tcp_conf_init(struct tcp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 16384;
	c->max_listeners = 16;
	c->snd_buf = 256 * 1024;
	c->rcv_buf = 256 * 1024;
	c->min_rto_us = 5000;
	c->initial_rto_us = 1000000;
	c->max_rto_us = 120000000;
	c->syn_retries = 6;
	c->data_retries = 15;
	c->time_wait_us = 60000000;
	c->delack_us = 40000;
	c->wscale = 7;
	c->timestamps = true;
	c->sack = true;
	c->cc = "cubic";
	c->ephemeral_lo = 32768;
	c->ephemeral_hi = 60999;
	c->challenge_ack_limit = 1000;
	c->oow_ack_interval_us = 500000;
	c->tx_copy_max = 256;
	c->syncookies = true;
	c->tfo_cache_entries = 1024;
	c->tfo_blackhole_us = 60000000;
	c->keepalive_idle_us = 7200ULL * 1000000;
	c->keepalive_intvl_us = 75000000;
	c->keepalive_probes = 9;
}

/* --- shard state ------------------------------------------------------ */

/* The pool's ring hands objects out first in, first out, so a shard
 * opening and closing connections at a steady rate would walk all of
 * max_conns 1.5-KB records, each one cold in the cache. The per-lcore
 * cache in front of it is a stack: a record just freed is the next one
 * taken, still in L1/L2. The mempool refuses a cache over 2/3 of the
 * pool (and over RTE_MEMPOOL_CACHE_MAX_SIZE). */
static unsigned
conn_cache_size(uint32_t max_conns)
{
	return RTE_MIN((unsigned)RTE_MEMPOOL_CACHE_MAX_SIZE, max_conns / 2);
}

int
tcp_shard_init(struct shard *s, const struct tcp_conf *conf)
{
	struct tcp_conf def;
	struct tcp_shard *ts;
	char name[RTE_MEMPOOL_NAMESIZE];
	int sid = (int)rte_lcore_to_socket_id(s->lcore);
	struct rte_hash_parameters hp;
	uint32_t nslots;

	if (sid < 0)
		sid = SOCKET_ID_ANY;
	if (s->l4 != NULL)
		return -EEXIST;
	if (conf == NULL) {
		tcp_conf_init(&def);
		conf = &def;
	}
	if (conf->max_conns == 0 || conf->snd_buf == 0 || conf->rcv_buf == 0 ||
	    conf->ephemeral_lo == 0 || conf->ephemeral_lo > conf->ephemeral_hi ||
	    conf->wscale > TCP_OPT_WSCALE_MAX || conf->max_listeners == 0 ||
	    tcp_cc_find(conf->cc) == NULL || conf->initial_rto_us == 0 ||
	    conf->tfo_cache_entries > (1u << 24) ||
	    conf->keepalive_idle_us == 0 || conf->keepalive_intvl_us == 0 ||
	    conf->keepalive_probes == 0)
		return -EINVAL;
	ts = rte_zmalloc_socket("tcp_shard", sizeof(*ts), RTE_CACHE_LINE_SIZE,
				sid);
	if (ts == NULL)
		return -ENOMEM;
	ts->s = s;
	ts->conf = *conf;
	ts->cc = tcp_cc_find(conf->cc);
	if (conf->seed != 0)
		tcp_secret_init_seed(&ts->secret, conf->seed + s->id);
	else
		tcp_secret_init_random(&ts->secret);
	/* RFC 6056 §3.3.3 in spirit: each shard starts its ephemeral search
	 * at a keyed-hash position, so runs (and shards) do not walk the same
	 * 4-tuples from 32768 on; the search still skips tuples in use. */
	ts->eph_next = (uint16_t)(conf->ephemeral_lo +
		tcp_isn(&ts->secret, s->id, 0, 0, 0, 0) %
		((uint32_t)conf->ephemeral_hi - conf->ephemeral_lo + 1));
	if (tcp_recovery_init() != 0) {
		rte_free(ts);
		return -ENOMEM;
	}

	snprintf(name, sizeof(name), "%.12s_tc%u", s->eng->name, s->id);
	/* Single producer and consumer: only this shard touches the pool. */
	ts->conn_pool = rte_mempool_create(name, conf->max_conns,
		sizeof(struct tcp_conn), conn_cache_size(conf->max_conns), 0,
		NULL, NULL, NULL, NULL, sid,
		RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (ts->conn_pool == NULL)
		goto nomem;
	/* As many slots as connections (a power of two, at least 16): with
	 * every connection in use, about one in three spills (a fraction
	 * 1/e of the slots stays empty); far fewer at the usual load. */
	nslots = RTE_MAX(rte_align32pow2(conf->max_conns), 16u);
	ts->slot_shift = 32 - (uint32_t)rte_bsf32(nslots);
	ts->slots = rte_zmalloc_socket("tcp_slots",
		sizeof(*ts->slots) * nslots, RTE_CACHE_LINE_SIZE, sid);
	if (ts->slots == NULL)
		goto nomem;
	snprintf(name, sizeof(name), "%.12s_th%u", s->eng->name, s->id);
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	/* Room for every connection, not just the spilled ones: a burst of
	 * collisions must not refuse a connection the pool has room for.
	 * Headroom over max_conns keeps the cuckoo table from refusing keys
	 * before the pool is empty. */
	hp.entries = conf->max_conns + conf->max_conns / 4 + 8;
	hp.key_len = sizeof(struct tcp_key);
	/* CRC32-C: one instruction per 4 bytes where SSE 4.2 is there. */
	hp.hash_func = rte_hash_crc;
	hp.socket_id = sid;
	ts->table = rte_hash_create(&hp);
	if (ts->table == NULL)
		goto nomem;
	ts->listeners = rte_zmalloc_socket("tcp_listeners",
		sizeof(*ts->listeners) * conf->max_listeners, 0, sid);
	if (ts->listeners == NULL)
		goto nomem;
	if (tcp_tfo_cache_init(ts, sid) != 0)
		goto nomem;
	if (tcp_input_init(ts, sid) != 0)
		goto nomem;
	if (timer_wheel_init(&ts->wheel, TCP_WHEEL_SLOTS, TCP_WHEEL_TICK_US,
			     s->now_us) != 0)
		goto nomem;
	s->l4 = ts;
	return 0;
nomem:
	tcp_input_fini(ts);
	tcp_tfo_cache_fini(ts);
	rte_free(ts->listeners);
	rte_hash_free(ts->table);
	rte_free(ts->slots);
	rte_mempool_free(ts->conn_pool);
	rte_free(ts);
	return -ENOMEM;
}

static void
free_seg_list(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

/* Take the 4-tuple out of the table, unless a newer connection (TIME_WAIT
 * reuse) already owns it. */
static void
tcp_conn_unlink(struct tcp_conn *c)
{
	struct tcp_slot *sl;

	if (!(c->t_flags & TF_IN_TABLE))
		return;
	/* A connection in the table holds its slot or spilled from it. */
	sl = tcp_slot_of(c->ts, c->key_hash);
	if (sl->c == c) {
		sl->c = NULL;
	} else {
		rte_hash_del_key_with_hash(c->ts->table, &c->key, c->key_hash);
		sl->spilled--;
	}
	c->t_flags &= ~TF_IN_TABLE;
}

void
tcp_conn_free(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;

	tcp_timers_cancel_all(c);
	tcp_conn_unlink(c);
	tcp_tfo_pending_done(c);
	free_seg_list(c->sq_head);
	free_seg_list(c->rq_head);
	tcp_reass_flush(&c->reass);
	if (c->listener != NULL)
		tcp_listener_remove(c);
	if (c->all_prev != NULL)
		c->all_prev->all_next = c->all_next;
	else
		ts->all = c->all_next;
	if (c->all_next != NULL)
		c->all_next->all_prev = c->all_prev;
	/* A deferred-ACK list may still point here: make it skip us. */
	c->t_flags &= ~TF_ACK_DEFER;
	rte_mempool_put(ts->conn_pool, c);
}

void
tcp_shard_fini(struct shard *s)
{
	struct tcp_shard *ts = tcp_shard_of(s);

	if (ts == NULL)
		return;
	while (ts->all != NULL) {
		ts->all->listener = NULL;
		tcp_conn_free(ts->all);
	}
	for (uint32_t i = 0; i < ts->conf.max_listeners; i++)
		rte_free(ts->listeners[i].acceptq);
	timer_wheel_free(&ts->wheel);
	tcp_input_fini(ts);
	tcp_tfo_cache_fini(ts);
	rte_free(ts->listeners);
	rte_hash_free(ts->table);
	rte_free(ts->slots);
	rte_mempool_free(ts->conn_pool);
	rte_free(ts);
	s->l4 = NULL;
}

int
tcp_engine_enable(struct engine *eng, const struct tcp_conf *c)
{
	for (unsigned i = 0; i < eng->nb_shards; i++) {
		int rc = tcp_shard_init(eng->shards[i], c);

		if (rc != 0) {
			tcp_engine_disable(eng);
			return rc;
		}
	}
	tcp_tfo_share_key(eng);
	eng->conf.l4_input = tcp_input_queue;
	eng->conf.l4_flush = tcp_input_flush;
	eng->conf.l4_poll = tcp_poll;
	return 0;
}

void
tcp_engine_disable(struct engine *eng)
{
	eng->conf.l4_input = NULL;
	eng->conf.l4_flush = NULL;
	eng->conf.l4_poll = NULL;
	for (unsigned i = 0; i < eng->nb_shards; i++)
		tcp_shard_fini(eng->shards[i]);
}

void
tcp_set_upcalls(struct shard *s, const struct tcp_upcalls *u)
{
	tcp_shard_of(s)->up = *u;
}

unsigned
tcp_shard_conns_in_use(const struct shard *s)
{
	return rte_mempool_in_use_count(tcp_shard_of(s)->conn_pool);
}

void
tcp_ack_defer(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	unsigned cur = ts->defer_cur;

	if (c->t_flags & TF_ACK_DEFER)
		return;
	/* Something new is ready to go: it carries the ACK now. */
	if (ts->defer[cur].n == TCP_ACK_DEFER_MAX ||
	    c->snd_nxt != tcp_sq_end(c) ||
	    ((c->t_flags & TF_NEEDFIN) && !(c->t_flags & TF_SENTFIN))) {
		tcp_output(c);
		return;
	}
	/* Owed, not due: a tcp_output() before the flush (the user reading,
	 * say) sends no bare ACK that the user's answer could carry. */
	c->t_flags &= ~TF_ACKNOW;
	c->t_flags |= TF_ACK_DEFER | TF_ACK_OWED;
	c->ack_defer_nxt = c->rcv_nxt;
	ts->defer[cur].c[ts->defer[cur].n++] = c;
}

/* Send the ACKs deferred during the previous pass that nothing carried,
 * then start a new list for this pass. */
static void
ack_defer_flush(struct tcp_shard *ts)
{
	unsigned prev = ts->defer_cur ^ 1;
	uint32_t n = ts->defer[prev].n;

	for (uint32_t i = 0; i < n; i++) {
		struct tcp_conn *c = ts->defer[prev].c[i];

		/* Cleared when the connection was freed, or already handled
		 * through the other list. */
		if (!(c->t_flags & TF_ACK_DEFER))
			continue;
		c->t_flags &= ~TF_ACK_DEFER;
		/* Owed until any segment carries an ACK (tcp_xmit()). If data
		 * came in after the ACK was put off and the fast path's
		 * delayed ACK is pending, the user's answer to that data, a
		 * pass away, can carry both (a Fast Open client's FIN carries
		 * the ACK of the SYN-ACK and of the answer behind it); the
		 * delayed-ACK timer, or a second segment, bounds the wait. */
		if ((c->t_flags & TF_ACK_OWED) &&
		    (c->rcv_nxt == c->ack_defer_nxt ||
		     !(c->t_flags & TF_DELACK))) {
			c->t_flags |= TF_ACKNOW;
			tcp_output(c);
		}
	}
	ts->defer[prev].n = 0;
	ts->defer_cur = prev;
}

void
tcp_poll(struct shard *s)
{
	struct tcp_shard *ts = tcp_shard_of(s);

	ack_defer_flush(ts);
	tcp_timers_run(ts);
}

/* --- connections ------------------------------------------------------ */

uint16_t
tcp_mss_for_port(const struct shard_port *sp)
{
	return (uint16_t)(sp->port->mtu - 40);
}

uint16_t
tcp_mss_clamp(const struct shard_port *sp, uint16_t user_mss)
{
	uint16_t mss = tcp_mss_for_port(sp);

	return user_mss != 0 && user_mss < mss ? user_mss : mss;
}

/* A tcp_conn_opts-style setting: 0 (default) or in range. */
static bool
conn_opts_ok(uint32_t snd_buf, uint32_t rcv_buf, uint16_t mss)
{
	return (snd_buf == 0 || tcp_buf_ok(snd_buf)) &&
	       (rcv_buf == 0 || tcp_buf_ok(rcv_buf)) &&
	       (mss == 0 || (mss >= TCP_MSS_MIN && mss <= TCP_MSS_MAX));
}

struct tcp_conn *
tcp_conn_alloc(struct tcp_shard *ts, struct shard_port *sp,
	       const struct tcp_key *key)
{
	struct tcp_conn *c;

	if (rte_mempool_get(ts->conn_pool, (void **)&c) != 0) {
		STAT_INC(ts->s, tcp_conn_table_full);
		return NULL;
	}
	memset(c, 0, offsetof(struct tcp_conn, timers));
	c->ts = ts;
	c->sp = sp;
	c->key = *key;
	c->key_hash = tcp_key_hash(key);
	c->state = TCPS_CLOSED;
	c->snd_buf = ts->conf.snd_buf;
	c->rcv_buf = ts->conf.rcv_buf;
	c->t_maxseg = 536;
	tcp_reass_init(&c->reass);
	tcp_sack_init(&c->sack);
	tcp_rtt_init(&c->rtt, ts->conf.initial_rto_us, ts->conf.min_rto_us,
		     ts->conf.max_rto_us, TCP_WHEEL_TICK_US);
	c->all_next = ts->all;
	if (ts->all != NULL)
		ts->all->all_prev = c;
	ts->all = c;
	return c;
}

int
tcp_conn_insert(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	struct tcp_slot *sl = tcp_slot_of(ts, c->key_hash);

	if (sl->c == NULL) {
		sl->c = c;
		sl->hash = c->key_hash;
		c->t_flags |= TF_IN_TABLE;
		return 0;
	}
	if (rte_hash_add_key_with_hash_data(ts->table, &c->key, c->key_hash,
					    c) != 0) {
		STAT_INC(ts->s, tcp_conn_table_full);
		return -ENOSPC;
	}
	sl->spilled++;
	STAT_INC(ts->s, tcp_conn_spills);
	c->t_flags |= TF_IN_TABLE;
	return 0;
}

struct tcp_conn *
tcp_conn_lookup_hash(struct tcp_shard *ts, const struct tcp_key *key,
		     hash_sig_t sig)
{
	const struct tcp_slot *sl = tcp_slot_of(ts, sig);
	void *data;

	if (tcp_slot_holds(sl, sig) && tcp_key_eq(&sl->c->key, key))
		return sl->c;
	if (sl->spilled == 0 ||
	    rte_hash_lookup_with_hash_data(ts->table, key, sig, &data) < 0)
		return NULL;
	return data;
}

struct tcp_conn *
tcp_conn_lookup(struct tcp_shard *ts, const struct tcp_key *key)
{
	return tcp_conn_lookup_hash(ts, key, tcp_key_hash(key));
}

void
tcp_conn_init_seq(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	uint64_t now = ts->s->now_us;

	c->iss = tcp_isn_ts(&ts->secret, c->key.laddr, c->key.raddr,
			    c->key.lport, c->key.rport, now, &c->ts_offset);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sq_seq = c->iss + 1;
	c->high_rxt = c->snd_una;
	c->last_send_us = now;
}

/* Report closed() once; TIME_WAIT reports NORMAL on entry, its expiry
 * reports nothing more. */
static void
report_closed(struct tcp_conn *c, enum tcp_close_reason why)
{
	if (c->t_flags & (TF_RELEASED | TF_CLOSE_REPORTED))
		return;
	c->t_flags |= TF_CLOSE_REPORTED;
	c->close_reason = why;
	c->t_events |= TEV_CLOSED;
}

void
tcp_conn_close(struct tcp_conn *c, enum tcp_close_reason why)
{
	bool was_time_wait = c->state == TCPS_TIME_WAIT;

	if (c->state == TCPS_SYN_SENT && why == TCP_CLOSE_TIMEOUT)
		tcp_tfo_client_timeout(c);
	tcp_tfo_pending_done(c);
	tcp_timers_cancel_all(c);
	tcp_conn_unlink(c);
	c->state = TCPS_CLOSED;
	free_seg_list(c->sq_head);
	c->sq_head = c->sq_tail = c->sq_cur = NULL;
	c->sq_bytes = 0;
	tcp_reass_flush(&c->reass);
	if (!was_time_wait)
		report_closed(c, why);
	switch (why) {
	case TCP_CLOSE_REFUSED: STAT_INC(c->ts->s, tcp_conn_refused); break;
	case TCP_CLOSE_RESET: STAT_INC(c->ts->s, tcp_conn_reset); break;
	case TCP_CLOSE_TIMEOUT: STAT_INC(c->ts->s, tcp_conn_timeout); break;
	case TCP_CLOSE_ABORTED: STAT_INC(c->ts->s, tcp_conn_aborted); break;
	case TCP_CLOSE_NORMAL: break;
	}
}

void
tcp_enter_time_wait(struct tcp_conn *c)
{
	tcp_timers_cancel_all(c);
	c->state = TCPS_TIME_WAIT;
	report_closed(c, TCP_CLOSE_NORMAL);
	tcp_timer_arm(c, TCPT_TIME_WAIT, c->ts->conf.time_wait_us);
}

void
tcp_conn_established(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;

	/* RFC 9293 §3.10.4: a close in SYN-RECEIVED (a Fast Open
	 * connection answered and closed before the handshake's last ACK)
	 * waits for ESTABLISHED, then sends its FIN. */
	c->state = (c->t_flags & TF_SHUT_WR) ? TCPS_FIN_WAIT_1 : TCPS_ESTABLISHED;
	/* A Fast Open connection's was set up at its SYN (input_listen()),
	 * from the same MSS, and nothing before this ACK moves it. */
	if (!(c->t_flags & TF_TFO_PENDING))
		tcp_cc_init(&c->cc, ts->cc, c->t_maxseg,
			    (c->t_flags & TF_SACK_PERMIT) != 0, ts->s->now_us);
	tcp_keepalive_start(c);
	if (c->t_flags & TF_SYN_REXMT) {
		/* RFC 5681 §3.1: one segment after a lost SYN or SYN-ACK. */
		c->cc.cwnd = c->t_maxseg;
		tcp_rtt_syn_timeout(&c->rtt);
	}
	c->rxt_shift = 0;
	tcp_timer_cancel(c, TCPT_REXMT);
	tcp_tfo_pending_done(c);
	if (c->t_flags & TF_IN_ACCEPTQ) {
		/* Fast Open put it in the accept queue at its SYN, and the
		 * listener has heard of it then. */
	} else if (c->t_flags & TF_EMBRYO) {
		tcp_listener_enqueue(c);
	} else {
		c->t_events |= TEV_CONNECTED;
	}
}

void
tcp_listener_enqueue(struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;

	l->embryos--;
	l->acceptq[(l->acc_head + l->acc_count) % l->backlog] = c;
	l->acc_count++;
	c->t_flags |= TF_IN_ACCEPTQ;
	c->t_events |= TEV_CONNECTED;
}

/* Deliver pending events, then free the connection if both sides are done
 * with it. Upcalls may re-enter the API for this connection. */
void
tcp_dispatch(struct tcp_conn *c)
{
	const struct tcp_upcalls *up = &c->ts->up;

	if (c->in_dispatch)
		return;
	c->in_dispatch = true;
	while (c->t_events != 0) {
		uint32_t ev = c->t_events;

		if (c->t_flags & TF_RELEASED) {
			c->t_events = 0;
			break;
		}
		if (c->t_flags & TF_EMBRYO) {
			/* Nobody holds it yet: the listener hears of it once. */
			struct tcp_listener *l = c->listener;

			c->t_events &= ~(TEV_READABLE | TEV_ACKED | TEV_CLOSED |
					 TEV_FIN_ACKED);
			if ((ev & TEV_CONNECTED) && l != NULL) {
				c->t_events &= ~TEV_CONNECTED;
				if (up->accept_ready != NULL)
					up->accept_ready(l);
				continue;
			}
			c->t_events = 0;
			break;
		}
		if (ev & TEV_CONNECTED) {
			c->t_events &= ~TEV_CONNECTED;
			if (!(c->t_flags & TF_PASSIVE) && up->connected != NULL)
				up->connected(c);
		} else if (ev & TEV_READABLE) {
			c->t_events &= ~TEV_READABLE;
			if (up->readable != NULL)
				up->readable(c);
		} else if (ev & TEV_ACKED) {
			uint32_t n = c->acked_pending;

			c->t_events &= ~TEV_ACKED;
			c->acked_pending = 0;
			if (up->acked != NULL && n > 0)
				up->acked(c, n);
		} else if (ev & TEV_FIN_ACKED) {
			c->t_events &= ~TEV_FIN_ACKED;
			if (up->acked != NULL)
				up->acked(c, 0);
		} else if (ev & TEV_CLOSED) {
			c->t_events &= ~TEV_CLOSED;
			if (up->closed != NULL)
				up->closed(c, c->close_reason);
		}
	}
	c->in_dispatch = false;
	if (c->state == TCPS_CLOSED &&
	    (c->t_flags & (TF_RELEASED | TF_EMBRYO)))
		tcp_conn_free(c);
}

/* --- listeners --------------------------------------------------------- */

struct tcp_listener *
tcp_listener_find(struct tcp_shard *ts, rte_be32_t laddr, rte_be16_t lport)
{
	struct tcp_listener *any = NULL;

	for (uint32_t i = 0; i < ts->conf.max_listeners; i++) {
		struct tcp_listener *l = &ts->listeners[i];

		if (!l->in_use || l->lport != lport)
			continue;
		if (l->laddr == laddr)
			return l;
		if (l->laddr == 0)
			any = l;
	}
	return any;
}

void
tcp_listener_remove(struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;

	if (c->t_flags & TF_IN_ACCEPTQ) {
		uint32_t n = l->acc_count, k = 0;

		for (uint32_t i = 0; i < n; i++) {
			struct tcp_conn *x =
				l->acceptq[(l->acc_head + i) % l->backlog];

			if (x != c)
				l->acceptq[(l->acc_head + k++) % l->backlog] = x;
		}
		l->acc_count = k;
		c->t_flags &= ~TF_IN_ACCEPTQ;
	} else if (c->t_flags & TF_EMBRYO) {
		l->embryos--;
	}
	c->listener = NULL;
}

int
tcp_listener_set_conn_opts(struct tcp_listener *l, uint32_t snd_buf,
			   uint32_t rcv_buf, uint16_t mss)
{
	if (!conn_opts_ok(snd_buf, rcv_buf, mss))
		return -EINVAL;
	l->snd_buf = snd_buf;
	l->rcv_buf = rcv_buf;
	l->user_mss = mss;
	return 0;
}

int
tcp_listen(struct shard *s, rte_be32_t laddr, rte_be16_t lport,
	   uint32_t backlog, void *user, struct tcp_listener **out)
{
	struct tcp_shard *ts = tcp_shard_of(s);
	struct tcp_listener *l = NULL;

	if (lport == 0 || backlog == 0 || backlog > 65535 || out == NULL)
		return -EINVAL;
	for (uint32_t i = 0; i < ts->conf.max_listeners; i++) {
		struct tcp_listener *x = &ts->listeners[i];

		if (x->in_use && x->lport == lport && x->laddr == laddr)
			return -EADDRINUSE;
		if (!x->in_use && l == NULL)
			l = x;
	}
	if (l == NULL)
		return -ENOSPC;
	rte_free(l->acceptq);
	memset(l, 0, sizeof(*l));
	l->acceptq = rte_zmalloc("tcp_acceptq", sizeof(*l->acceptq) * backlog, 0);
	if (l->acceptq == NULL)
		return -ENOMEM;
	l->ts = ts;
	l->laddr = laddr;
	l->lport = lport;
	l->backlog = backlog;
	l->user = user;
	l->in_use = true;
	*out = l;
	return 0;
}

void
tcp_listener_close(struct tcp_listener *l)
{
	struct tcp_shard *ts = l->ts;
	struct tcp_conn *c = ts->all;

	/* Embryos are not in the accept queue: find them on the list of all
	 * connections. Rare path, a full walk is fine. The walk restarts
	 * after each abort because the abort frees the connection. */
	while (c != NULL) {
		if (c->listener == l) {
			tcp_abort(c);
			c = ts->all;
			continue;
		}
		c = c->all_next;
	}
	/* Accepted Fast Open connections still count against the listener
	 * until their third ACK: the slot may be reused, so forget it. */
	for (c = ts->all; c != NULL; c = c->all_next)
		if (c->tfo_listener == l)
			c->tfo_listener = NULL;
	l->in_use = false;
	rte_free(l->acceptq);
	l->acceptq = NULL;
}

struct tcp_conn *
tcp_accept(struct tcp_listener *l)
{
	struct tcp_conn *c;

	if (l->acc_count == 0)
		return NULL;
	c = l->acceptq[l->acc_head];
	l->acc_head = (l->acc_head + 1) % l->backlog;
	l->acc_count--;
	c->t_flags &= ~(TF_IN_ACCEPTQ | TF_EMBRYO);
	c->listener = NULL;
	c->user = l->user;
	/* Data or a FIN may have come before accept: say so now. */
	if (c->rq_bytes > 0 || (c->t_flags & TF_RCVD_FIN))
		c->t_events |= TEV_READABLE;
	return c;
}

void *
tcp_listener_user(const struct tcp_listener *l)
{
	return l->user;
}

/* --- user calls -------------------------------------------------------- */

static bool
ephemeral_pick(struct tcp_shard *ts, struct tcp_key *key)
{
	uint32_t span = (uint32_t)ts->conf.ephemeral_hi - ts->conf.ephemeral_lo + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t p = ts->eph_next;

		ts->eph_next = p == ts->conf.ephemeral_hi ? ts->conf.ephemeral_lo
							  : (uint16_t)(p + 1);
		key->lport = rte_cpu_to_be_16(p);
		if (tcp_conn_lookup(ts, key) == NULL &&
		    tcp_listener_find(ts, key->laddr, key->lport) == NULL)
			return true;
	}
	return false;
}

int
tcp_connect(struct shard *s, uint16_t port_index, rte_be32_t laddr,
	    rte_be16_t lport, rte_be32_t raddr, rte_be16_t rport,
	    const struct tcp_conn_opts *o, void *user, struct tcp_conn **out)
{
	struct tcp_shard *ts = tcp_shard_of(s);
	struct shard_port *sp;
	struct tcp_key key;
	struct tcp_conn *c;

	if (ts == NULL || port_index >= s->nb_ports || raddr == 0 ||
	    rport == 0 || out == NULL)
		return -EINVAL;
	sp = &s->ports[port_index];
	if (laddr == 0)
		laddr = sp->port->conf.addrs[0].ip;
	else if (port_addr_index(sp->port, laddr) < 0)
		return -EINVAL;
	key.laddr = laddr;
	key.raddr = raddr;
	key.rport = rport;
	key.lport = lport;
	key.zero = 0;
	if (lport == 0) {
		if (!ephemeral_pick(ts, &key))
			return -EADDRINUSE;
	} else if (tcp_conn_lookup(ts, &key) != NULL) {
		return -EADDRINUSE;
	}
	if (o != NULL && (!conn_opts_ok(o->snd_buf, o->rcv_buf, o->mss) ||
			  (o->data_len > 0 &&
			   (o->data == NULL ||
			    o->data_len > (o->snd_buf ? o->snd_buf
						      : ts->conf.snd_buf)))))
		return -EINVAL;
	c = tcp_conn_alloc(ts, sp, &key);
	if (c == NULL)
		return -ENOBUFS;
	if (o != NULL) {
		if (o->nodelay)
			c->t_flags |= TF_NODELAY;
		if (o->snd_buf)
			c->snd_buf = o->snd_buf;
		if (o->rcv_buf)
			c->rcv_buf = o->rcv_buf;
		/* Initial data is cut into send-queue mbufs of at most a
		 * segment before the SYN-ACK says more: no larger than the
		 * clamp either. */
		c->user_mss = o->mss;
		if (o->mss != 0 && o->mss < c->t_maxseg)
			c->t_maxseg = o->mss;
		if (o->keepalive)
			tcp_set_keepalive(c, true, o->keepalive_idle_us,
					  o->keepalive_intvl_us,
					  o->keepalive_probes);
	}
	c->user = user;
	tcp_conn_init_seq(c);
	if (o != NULL && o->data_len > 0 &&
	    tcp_sq_append(c, o->data, o->data_len) != o->data_len) {
		c->t_flags |= TF_RELEASED;
		tcp_conn_free(c);
		return -ENOBUFS;
	}
	if (o != NULL && o->tfo)
		tcp_tfo_connect(c);
	if (ts->conf.timestamps)
		c->t_flags |= TF_REQ_TSTMP;
	if (ts->conf.wscale > 0)
		c->t_flags |= TF_REQ_SCALE;
	if (ts->conf.sack)
		c->t_flags |= TF_REQ_SACK;
	c->rcv_wscale = ts->conf.wscale;
	c->state = TCPS_SYN_SENT;
	if (tcp_conn_insert(c) != 0) {
		c->t_flags |= TF_RELEASED;
		tcp_conn_free(c);
		return -ENOSPC;
	}
	STAT_INC(s, tcp_conn_active);
	*out = c;
	tcp_output(c);
	return 0;
}

bool
tcp_rcv_fin(const struct tcp_conn *c)
{
	return (c->t_flags & TF_RCVD_FIN) != 0;
}

int
tcp_shutdown(struct tcp_conn *c)
{
	if (c->t_flags & TF_SHUT_WR)
		return 0;
	switch (c->state) {
	case TCPS_SYN_SENT:
		/* Nothing was said yet: just stop. */
		c->t_flags |= TF_SHUT_WR;
		tcp_conn_close(c, TCP_CLOSE_NORMAL);
		tcp_dispatch(c);
		return 0;
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		c->state = c->state == TCPS_ESTABLISHED ? TCPS_FIN_WAIT_1
							: c->state;
		break;
	case TCPS_CLOSE_WAIT:
		c->state = TCPS_LAST_ACK;
		break;
	default:
		return -ENOTCONN;
	}
	c->t_flags |= TF_SHUT_WR | TF_NEEDFIN;
	tcp_output(c);
	tcp_dispatch(c);
	return 0;
}

void
tcp_abort(struct tcp_conn *c)
{
	if (c->state == TCPS_CLOSED)
		return;
	if (c->state >= TCPS_SYN_RECEIVED && c->state != TCPS_TIME_WAIT) {
		tcp_respond(c->ts->s, c->sp, c->key.laddr, c->key.raddr,
			    c->key.lport, c->key.rport, c->snd_nxt, c->rcv_nxt,
			    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	}
	tcp_conn_close(c, TCP_CLOSE_ABORTED);
	tcp_dispatch(c);
}

void
tcp_release(struct tcp_conn *c)
{
	c->t_flags |= TF_RELEASED;
	c->t_events = 0;
	if (c->state == TCPS_CLOSED) {
		if (!c->in_dispatch)
			tcp_conn_free(c);
		return;
	}
	/* Like close(2): unread data means the peer's data is lost, say so
	 * with a RST (RFC 2525 §2.17); otherwise finish gracefully. */
	if (c->rq_bytes > 0 || c->state < TCPS_ESTABLISHED) {
		tcp_abort(c);
		return;
	}
	tcp_shutdown(c);
	if (c->state == TCPS_FIN_WAIT_2)
		tcp_timer_arm(c, TCPT_TIME_WAIT, c->ts->conf.time_wait_us);
}

int
tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t idle_us,
		  uint32_t intvl_us, unsigned count)
{
	const struct tcp_conf *conf = &c->ts->conf;

	if (count > UINT8_MAX)
		return -EINVAL;
	if (!on) {
		c->t_flags &= ~TF_KEEPALIVE;
		tcp_timer_cancel(c, TCPT_KEEP);
		return 0;
	}
	c->keep_idle_us = idle_us ? idle_us : conf->keepalive_idle_us;
	c->keep_intvl_us = intvl_us ? intvl_us : conf->keepalive_intvl_us;
	c->keep_count = (uint8_t)(count ? count : conf->keepalive_probes);
	c->t_flags |= TF_KEEPALIVE;
	c->keep_probes = 0;
	if (tcp_state_synchronized(c->state) && c->state != TCPS_TIME_WAIT)
		tcp_timer_arm(c, TCPT_KEEP, c->keep_idle_us);
	return 0;
}

void
tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	if (!on) {
		c->t_flags &= ~TF_NODELAY;
		return;
	}
	c->t_flags |= TF_NODELAY;
	/* A small segment Nagle held may go now. */
	if (c->state >= TCPS_ESTABLISHED && c->state != TCPS_TIME_WAIT)
		tcp_output(c);
	tcp_dispatch(c);
}

void *
tcp_conn_user(const struct tcp_conn *c)
{
	return c->user;
}

void
tcp_conn_set_user(struct tcp_conn *c, void *user)
{
	c->user = user;
}

enum tcp_state
tcp_conn_state(const struct tcp_conn *c)
{
	return c->state;
}
