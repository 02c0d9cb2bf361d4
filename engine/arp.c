/*
 * ARP (RFC 826) with Linux-like timing: entries are learned from requests
 * addressed to us and from replies, refreshed after WSKDP_ARP_REACHABLE_US
 * while still in use (the old address keeps working during the refresh),
 * and a bounded number of packets waits for an address being resolved.
 *
 * Each shard keeps its own table per port. With several shards, a port's
 * ARP frames arrive on one queue only (RSS does not spread them), so the
 * receiving shard copies them into the other shards' inboxes; those shards
 * learn from them but never answer, so each request gets one reply.
 */
#include <string.h>
#include <rte_arp.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "engine.h"
#include "net.h"

enum arp_state {
	ARP_INCOMPLETE,
	ARP_REACHABLE,
	ARP_FAILED,
};

struct arp_entry {
	rte_be32_t ip;
	uint8_t state;
	uint8_t retries;	/* requests sent for the current resolution */
	uint8_t npending;
	bool refreshing;	/* reachable but stale: a request is out */
	struct rte_ether_addr mac;
	uint64_t expires_us;	/* reachable until / failed until */
	uint64_t retry_us;	/* next request while resolving or refreshing */
	struct rte_mbuf *pending[WSKDP_ARP_PENDING];
};

int
arp_table_init(struct arp_table *t, const char *name, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = WSKDP_ARP_ENTRIES,
		.key_len = sizeof(rte_be32_t),
		.hash_func = rte_jhash,
		.socket_id = socket_id,
	};

	t->last = NULL;
	t->hash = rte_hash_create(&hp);
	t->entries = rte_zmalloc_socket(name,
		sizeof(struct arp_entry) * WSKDP_ARP_ENTRIES,
		RTE_CACHE_LINE_SIZE, socket_id);
	if (t->hash == NULL || t->entries == NULL) {
		arp_table_free(t);
		return -ENOMEM;
	}
	return 0;
}

void
arp_table_free(struct arp_table *t)
{
	if (t->entries != NULL && t->hash != NULL) {
		const void *key;
		void *data;
		uint32_t it = 0;
		int32_t pos;

		while ((pos = rte_hash_iterate(t->hash, &key, &data, &it)) >= 0) {
			struct arp_entry *e = &t->entries[pos];

			for (unsigned i = 0; i < e->npending; i++)
				rte_pktmbuf_free(e->pending[i]);
			e->npending = 0;
		}
	}
	rte_hash_free(t->hash);
	rte_free(t->entries);
	t->hash = NULL;
	t->entries = NULL;
	t->last = NULL;
}

unsigned
arp_table_resolved(const struct arp_table *t)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	int32_t pos;
	unsigned n = 0;

	while ((pos = rte_hash_iterate(t->hash, &key, &data, &it)) >= 0)
		if (t->entries[pos].state == ARP_REACHABLE)
			n++;
	return n;
}

/* Source address for talking to 'target': the port address on the same
 * subnet, else the first one. */
static rte_be32_t
arp_source_for(const struct port *p, rte_be32_t target)
{
	int i = port_onlink_index(p, target);

	return p->conf.addrs[i >= 0 ? i : 0].ip;
}

static void
arp_send(struct shard *s, struct shard_port *sp, uint16_t op,
	 rte_be32_t sip, rte_be32_t tip, const struct rte_ether_addr *tha,
	 const struct rte_ether_addr *eth_dst)
{
	struct rte_mbuf *m = shard_alloc(s);
	struct rte_arp_hdr *ah;

	if (m == NULL)
		return;
	ah = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*ah));
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(rte_be32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&sp->port->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = tip;
	eth_output_to(s, sp, m, eth_dst, RTE_ETHER_TYPE_ARP);
}

static void
arp_send_request(struct shard *s, struct shard_port *sp, rte_be32_t target)
{
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast;

	memset(&bcast, 0xff, sizeof(bcast));
	arp_send(s, sp, RTE_ARP_OP_REQUEST, arp_source_for(sp->port, target),
		 target, &zero, &bcast);
	STAT_INC(s, arp_requests_sent);
}

void
arp_announce(struct shard *s, struct shard_port *sp)
{
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast;
	const struct port *p = sp->port;

	memset(&bcast, 0xff, sizeof(bcast));
	for (uint16_t i = 0; i < p->conf.nb_addrs; i++) {
		arp_send(s, sp, RTE_ARP_OP_REQUEST, p->conf.addrs[i].ip,
			 p->conf.addrs[i].ip, &zero, &bcast);
		STAT_INC(s, arp_gratuitous_sent);
	}
}

static void
arp_flush_pending(struct shard *s, struct shard_port *sp, struct arp_entry *e)
{
	for (unsigned i = 0; i < e->npending; i++)
		eth_output_to(s, sp, e->pending[i], &e->mac,
			      RTE_ETHER_TYPE_IPV4);
	e->npending = 0;
}

static void
arp_drop_pending(struct shard *s, struct arp_entry *e)
{
	for (unsigned i = 0; i < e->npending; i++) {
		rte_pktmbuf_free(e->pending[i]);
		STAT_INC(s, arp_drop_unresolved);
	}
	e->npending = 0;
}

/* Record that 'ip' is at 'mac'. create: add an entry when none exists
 * (RFC 826 adds only when we are the target). */
static void
arp_learn(struct shard *s, struct shard_port *sp, rte_be32_t ip,
	  const struct rte_ether_addr *mac, bool create)
{
	struct arp_table *t = &sp->arp;
	int32_t pos = rte_hash_lookup(t->hash, &ip);
	struct arp_entry *e;

	if (pos < 0) {
		if (!create)
			return;
		pos = rte_hash_add_key(t->hash, &ip);
		if (pos < 0)
			return;	/* full: we still answer, we just don't cache */
		e = &t->entries[pos];
		memset(e, 0, sizeof(*e));
		e->ip = ip;
	} else {
		e = &t->entries[pos];
	}
	if (e->state != ARP_REACHABLE)
		STAT_INC(s, arp_resolved);
	e->state = ARP_REACHABLE;
	e->refreshing = false;
	e->retries = 0;
	rte_ether_addr_copy(mac, &e->mac);
	e->expires_us = s->now_us + WSKDP_ARP_REACHABLE_US;
	arp_flush_pending(s, sp, e);
}

/* Validate and act on one ARP packet. 'answer' is false for copies another
 * shard already answered. */
static void
arp_process(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	    bool answer)
{
	const struct port *p = sp->port;
	struct rte_arp_hdr *ah;
	struct rte_arp_ipv4 *d;
	uint16_t op;
	bool for_us;

	STAT_INC(s, arp_rx);
	if (rte_pktmbuf_data_len(m) < sizeof(*ah)) {
		STAT_INC(s, arp_drop_malformed);
		goto drop;
	}
	ah = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	d = &ah->arp_data;
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4 ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		STAT_INC(s, arp_drop_malformed);
		goto drop;
	}
	/* Nobody legitimately claims a group address or ours. */
	if (!rte_is_unicast_ether_addr(&d->arp_sha) ||
	    rte_is_same_ether_addr(&d->arp_sha, &p->mac) ||
	    port_addr_index(p, d->arp_sip) >= 0) {
		STAT_INC(s, arp_drop_bad_sender);
		goto drop;
	}
	for_us = port_addr_index(p, d->arp_tip) >= 0;
	/* Sender 0.0.0.0 is an RFC 5227 probe: nothing to learn. */
	if (d->arp_sip != 0)
		arp_learn(s, sp, d->arp_sip, &d->arp_sha, for_us);

	if (op != RTE_ARP_OP_REQUEST)
		goto drop;	/* replies are consumed by arp_learn */
	if (!for_us) {
		STAT_INC(s, arp_drop_not_for_us);
		goto drop;
	}
	if (!answer)
		goto drop;
	/* Turn the request into the reply in place. */
	{
		struct rte_ether_addr requester = d->arp_sha;
		rte_be32_t asked = d->arp_tip;

		ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		d->arp_tha = requester;
		d->arp_tip = d->arp_sip;
		rte_ether_addr_copy(&p->mac, &d->arp_sha);
		d->arp_sip = asked;
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - sizeof(*ah));
		STAT_INC(s, arp_replies_sent);
		eth_output_to(s, sp, m, &requester, RTE_ETHER_TYPE_ARP);
		return;
	}
drop:
	rte_pktmbuf_free(m);
}

void
arp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m)
{
	struct engine *eng = s->eng;

	if (eng->nb_shards > 1) {
		for (unsigned i = 0; i < eng->nb_shards; i++) {
			struct shard *o = eng->shards[i];
			struct rte_mbuf *c;

			if (o == s || o->arp_inbox == NULL)
				continue;
			c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);
			if (c == NULL)
				continue;
			c->port = sp->port->index;
			if (rte_ring_enqueue(o->arp_inbox, c) != 0)
				rte_pktmbuf_free(c);
		}
	}
	arp_process(s, sp, m, true);
}

void
arp_drain_inbox(struct shard *s)
{
	struct rte_mbuf *pkts[WSKDP_BURST];
	unsigned n;

	if (s->arp_inbox == NULL)
		return;
	n = rte_ring_dequeue_burst(s->arp_inbox, (void **)pkts, WSKDP_BURST,
				   NULL);
	for (unsigned i = 0; i < n; i++) {
		if (pkts[i]->port < s->nb_ports)
			arp_process(s, &s->ports[pkts[i]->port], pkts[i], false);
		else
			rte_pktmbuf_free(pkts[i]);
	}
}

int
arp_resolve(struct shard *s, struct shard_port *sp, rte_be32_t next_hop,
	    struct rte_mbuf *m, struct rte_ether_addr *dst)
{
	struct arp_table *t = &sp->arp;
	struct arp_entry *e = t->last;
	int32_t pos;

	/* Only the plain case takes the short way: a stale entry due for a
	 * refresh goes through the lookup path below, which starts it. */
	if (likely(e != NULL && e->ip == next_hop && e->state == ARP_REACHABLE &&
		   s->now_us < e->expires_us)) {
		*dst = e->mac;
		return 0;
	}
	pos = rte_hash_lookup(t->hash, &next_hop);
	if (likely(pos >= 0)) {
		e = &t->entries[pos];
		if (likely(e->state == ARP_REACHABLE)) {
			t->last = e;
			if (unlikely(s->now_us >= e->expires_us) &&
			    !e->refreshing) {
				e->refreshing = true;
				e->retries = 1;
				e->retry_us = s->now_us + WSKDP_ARP_RETRY_US;
				arp_send_request(s, sp, next_hop);
			}
			*dst = e->mac;
			return 0;
		}
		if (e->state == ARP_FAILED) {
			STAT_INC(s, arp_drop_unresolved);
			rte_pktmbuf_free(m);
			return -1;
		}
	} else {
		pos = rte_hash_add_key(t->hash, &next_hop);
		if (pos < 0) {
			STAT_INC(s, arp_drop_table_full);
			rte_pktmbuf_free(m);
			return -1;
		}
		e = &t->entries[pos];
		memset(e, 0, sizeof(*e));
		e->ip = next_hop;
		e->state = ARP_INCOMPLETE;
		e->retries = 1;
		e->retry_us = s->now_us + WSKDP_ARP_RETRY_US;
		arp_send_request(s, sp, next_hop);
	}
	if (e->npending >= WSKDP_ARP_PENDING) {
		STAT_INC(s, arp_drop_pending_full);
		rte_pktmbuf_free(m);
		return -1;
	}
	e->pending[e->npending++] = m;
	return -1;
}

void
arp_housekeeping(struct shard *s, struct shard_port *sp)
{
	struct arp_table *t = &sp->arp;
	const void *key;
	void *data;
	uint32_t it = 0;
	int32_t pos;

	while ((pos = rte_hash_iterate(t->hash, &key, &data, &it)) >= 0) {
		struct arp_entry *e = &t->entries[pos];
		bool forget = false;

		switch (e->state) {
		case ARP_INCOMPLETE:
			if (s->now_us < e->retry_us)
				break;
			if (e->retries < WSKDP_ARP_MAX_RETRIES) {
				e->retries++;
				e->retry_us = s->now_us + WSKDP_ARP_RETRY_US;
				arp_send_request(s, sp, e->ip);
				break;
			}
			STAT_INC(s, arp_failed);
			arp_drop_pending(s, e);
			e->state = ARP_FAILED;
			e->expires_us = s->now_us + WSKDP_ARP_FAILED_HOLD_US;
			break;
		case ARP_REACHABLE:
			if (!e->refreshing || s->now_us < e->retry_us)
				break;
			if (e->retries < WSKDP_ARP_MAX_RETRIES) {
				e->retries++;
				e->retry_us = s->now_us + WSKDP_ARP_RETRY_US;
				arp_send_request(s, sp, e->ip);
			} else {
				forget = true;	/* neighbour went away */
			}
			break;
		case ARP_FAILED:
			forget = s->now_us >= e->expires_us;
			break;
		}
		if (forget) {
			if (t->last == e)
				t->last = NULL;
			rte_hash_del_key(t->hash, &e->ip);
		}
	}
}
