/*
 * TCP Fast Open (RFC 7413): the client's cookie cache and the decisions
 * both sides make; tcp_input.c and tcp_output.c call in at the SYN and
 * SYN-ACK.
 *
 * Client. Each shard keeps a fixed table of servers (by IPv4 address):
 * the latest cookie, the MSS the server announced, the option form it
 * used and, after a failure, until when it gets plain SYNs. The table is
 * open addressing with a short probe window and no deletion: a server is
 * found in its window or not at all, and a new server takes the first
 * empty slot of its window or the least recently used one. Nothing is
 * allocated after tcp_shard_init().
 *
 * Server. Cookies are tcp_tfo_cookie() of the client and server
 * addresses under the engine's TFO key, which every shard shares (RSS
 * spreads one client's connections over the shards, and a cookie from one
 * shard must open the door on the next). A listener counts the Fast Open
 * connections still waiting for their third ACK against its limit.
 */
#include <errno.h>
#include <string.h>
#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

/* Slots looked at per server: enough that collisions rarely evict, few
 * enough that a lookup stays within two cache lines' worth of entries. */
#define TFO_PROBES 8u
/* RFC 7413 §4.2.1: without a known MSS, SYN data fits the IPv4 default. */
#define TFO_DEFAULT_MSS 536
/* Largest cache: beyond it the table costs more than it could save. */
#define TFO_CACHE_MAX (1u << 24)

struct tcp_tfo_entry {
	rte_be32_t raddr;		/* 0: empty slot */
	uint16_t mss;			/* the server's MSS, 0: unknown */
	uint8_t cookie_len;		/* 0: no cookie yet */
	bool experimental;		/* the server spoke kind 254 */
	uint8_t cookie[TCP_OPT_TFO_COOKIE_MAX];
	uint64_t blackhole_until_us;	/* plain SYNs until then */
	uint64_t last_use_us;
};

int
tcp_tfo_cache_init(struct tcp_shard *ts, int socket_id)
{
	uint32_t n = ts->conf.tfo_cache_entries;

	if (n == 0)
		return 0;
	if (n > TFO_CACHE_MAX)
		return -EINVAL;
	n = rte_align32pow2(n);
	ts->tfo_cache = rte_zmalloc_socket("tcp_tfo_cache",
		sizeof(*ts->tfo_cache) * n, RTE_CACHE_LINE_SIZE, socket_id);
	if (ts->tfo_cache == NULL)
		return -ENOMEM;
	ts->tfo_cache_mask = n - 1;
	return 0;
}

void
tcp_tfo_cache_fini(struct tcp_shard *ts)
{
	rte_free(ts->tfo_cache);
	ts->tfo_cache = NULL;
}

/* The entry for raddr; with create, a fresh one (possibly evicting the
 * least recently used of the window) when there is none. */
static struct tcp_tfo_entry *
cache_find(struct tcp_shard *ts, rte_be32_t raddr, bool create)
{
	uint32_t h = rte_jhash_1word(raddr, 0);
	unsigned probes = RTE_MIN(TFO_PROBES, ts->tfo_cache_mask + 1u);
	struct tcp_tfo_entry *victim = NULL, *e;

	for (unsigned i = 0; i < probes; i++) {
		e = &ts->tfo_cache[(h + i) & ts->tfo_cache_mask];
		if (e->raddr == raddr) {
			e->last_use_us = ts->s->now_us;
			return e;
		}
		if (e->raddr == 0) {
			/* Slots are never emptied, so raddr is not further
			 * along the window. */
			victim = e;
			break;
		}
		if (victim == NULL || e->last_use_us < victim->last_use_us)
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->raddr = raddr;
	victim->last_use_us = ts->s->now_us;
	return victim;
}

void
tcp_tfo_connect(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	struct tcp_tfo_entry *e;

	if (ts->tfo_cache == NULL)
		return;
	e = cache_find(ts, c->key.raddr, false);
	if (e != NULL && ts->s->now_us < e->blackhole_until_us)
		return;
	if (e != NULL && e->experimental)
		c->t_flags |= TF_TFO_EXP;
	if (e != NULL && e->cookie_len > 0) {
		c->t_flags |= TF_TFO_COOKIE;
		c->tfo_cookie_len = e->cookie_len;
		memcpy(c->tfo_cookie, e->cookie, e->cookie_len);
		c->tfo_mss = e->mss != 0 ? e->mss : TFO_DEFAULT_MSS;
		return;
	}
	c->t_flags |= TF_TFO_REQ;
	STAT_INC(ts->s, tfo_cookie_requests_sent);
}

uint32_t
tcp_tfo_syn_data_len(const struct tcp_conn *c, unsigned syn_opt_len)
{
	uint32_t mss;

	/* Only the first SYN: a retransmitted one goes without data, which
	 * then follows the handshake as an ordinary segment (RFC 7413 §4.2.1
	 * leaves this open; Linux does the same). */
	if (!(c->t_flags & TF_TFO_COOKIE) || c->state != TCPS_SYN_SENT ||
	    c->snd_max != c->iss)
		return 0;
	/* The segment must fit the server's MSS and our own MTU and clamp,
	 * options included (RFC 6691). */
	mss = RTE_MIN((uint32_t)c->tfo_mss,
		      (uint32_t)tcp_mss_clamp(c->sp, c->user_mss));
	if (mss <= syn_opt_len)
		return 0;
	return RTE_MIN(c->sq_bytes, mss - syn_opt_len);
}

void
tcp_tfo_syn_option(const struct tcp_conn *c, struct tcp_opts *o)
{
	if (c->t_flags & TF_TFO_COOKIE) {
		o->tfo_cookie_len = c->tfo_cookie_len;
		memcpy(o->tfo_cookie, c->tfo_cookie, c->tfo_cookie_len);
	} else if (c->t_flags & TF_TFO_REQ) {
		o->tfo_cookie_len = 0;
	} else if (c->t_flags & TF_TFO_SEND_COOKIE) {
		tcp_tfo_cookie(&c->ts->secret, c->key.raddr, c->key.laddr,
			       o->tfo_cookie);
		o->tfo_cookie_len = TCP_TFO_COOKIE_LEN;
	} else {
		return;
	}
	o->present |= TCP_OPT_HAS_TFO;
	o->tfo_experimental = (c->t_flags & TF_TFO_EXP) != 0;
}

void
tcp_tfo_client_synack(struct tcp_conn *c, const struct tcp_opts *o,
		      uint32_t ack)
{
	struct tcp_shard *ts = c->ts;
	struct tcp_tfo_entry *e;
	uint32_t acked = ack - (c->iss + 1);
	bool cookie = (o->present & TCP_OPT_HAS_TFO) && o->tfo_cookie_len > 0;
	bool lost = c->tfo_syn_data > 0 && acked < c->tfo_syn_data;

	if (!(c->t_flags & (TF_TFO_REQ | TF_TFO_COOKIE)) ||
	    ts->tfo_cache == NULL)
		return;
	if (c->tfo_syn_data > 0) {
		if (acked > 0) {
			tcp_sq_drop(c, acked);
			c->acked_pending += acked;
			c->t_events |= TEV_ACKED;
		}
		if (lost)
			STAT_INC(ts->s, tfo_fallbacks);
		else
			STAT_INC(ts->s, tfo_syn_data_acked);
	}
	e = cache_find(ts, c->key.raddr, true);
	e->mss = c->peer_mss;
	if (cookie) {
		/* RFC 7413 §4.1.3: the latest cookie replaces the old one. */
		e->cookie_len = o->tfo_cookie_len;
		memcpy(e->cookie, o->tfo_cookie, o->tfo_cookie_len);
		e->experimental = o->tfo_experimental;
		STAT_INC(ts->s, tfo_cookies_received);
	}
	/* RFC 7413 §4.2.1, Linux tcp_rcv_fastopen_synack(): data dropped
	 * with no fresh cookie to retry with, or a retransmitted cookie
	 * request answered without one, points at a path or server that
	 * loses Fast Open SYNs. A fresh cookie means the server just rotated
	 * its key: the next connection uses it. */
	if (!cookie && (lost || ((c->t_flags & TF_SYN_REXMT) &&
				 c->tfo_syn_data == 0))) {
		e->blackhole_until_us = ts->s->now_us + ts->conf.tfo_blackhole_us;
		STAT_INC(ts->s, tfo_blackholed);
	}
}

void
tcp_tfo_client_timeout(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	struct tcp_tfo_entry *e;

	/* RFC 7413 §4.2.1: no answer at all may be a middlebox dropping SYNs
	 * with unknown options. */
	if (!(c->t_flags & (TF_TFO_REQ | TF_TFO_COOKIE)) ||
	    ts->tfo_cache == NULL)
		return;
	e = cache_find(ts, c->key.raddr, true);
	e->blackhole_until_us = ts->s->now_us + ts->conf.tfo_blackhole_us;
	STAT_INC(ts->s, tfo_blackholed);
}

static void
issue_cookie(struct tcp_conn *c)
{
	c->t_flags |= TF_TFO_SEND_COOKIE;
	STAT_INC(c->ts->s, tfo_server_cookies_sent);
}

bool
tcp_tfo_server_syn(struct tcp_listener *l, struct tcp_conn *c,
		   const struct tcp_opts *o, uint32_t len)
{
	struct shard *s = l->ts->s;

	if (l->tfo_max_pending == 0 || !(o->present & TCP_OPT_HAS_TFO))
		return false;
	if (o->tfo_experimental)
		c->t_flags |= TF_TFO_EXP;
	if (o->tfo_cookie_len == 0) {
		issue_cookie(c);
		return false;
	}
	if (!tcp_tfo_cookie_valid(&l->ts->secret, c->key.raddr, c->key.laddr,
				  o->tfo_cookie, o->tfo_cookie_len)) {
		STAT_INC(s, tfo_server_bad_cookie);
		issue_cookie(c);
		return false;
	}
	if (len == 0)
		return false;
	if (l->tfo_pending >= l->tfo_max_pending) {
		STAT_INC(s, tfo_server_overflow);
		return false;
	}
	l->tfo_pending++;
	c->tfo_listener = l;
	c->t_flags |= TF_TFO_PENDING;
	STAT_INC(s, tfo_server_syn_data_accepted);
	return true;
}

void
tcp_tfo_pending_done(struct tcp_conn *c)
{
	if (!(c->t_flags & TF_TFO_PENDING))
		return;
	c->t_flags &= ~TF_TFO_PENDING;
	if (c->tfo_listener != NULL)
		c->tfo_listener->tfo_pending--;
	c->tfo_listener = NULL;
}

void
tcp_listener_set_tfo(struct tcp_listener *l, uint32_t max_pending)
{
	l->tfo_max_pending = max_pending;
}

void
tcp_tfo_share_key(struct engine *eng)
{
	const struct tcp_shard *first = tcp_shard_of(eng->shards[0]);

	for (unsigned i = 1; i < eng->nb_shards; i++)
		memcpy(tcp_shard_of(eng->shards[i])->secret.tfo_key,
		       first->secret.tfo_key, TCP_SECRET_KEY_LEN);
}
