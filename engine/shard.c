/*
 * The per-lcore loop: rx burst, input, timers and housekeeping, the upper
 * layer's requests and output, tx burst (DPDK l3fwd, mTCP core.c).
 */
#include <rte_ethdev.h>

#include "engine.h"
#include "net.h"

/* How many allocations ahead shard_alloc() fetches an mbuf's lines. */
#define ALLOC_PREFETCH_AHEAD 4

#if defined(RTE_ARCH_X86)
#include <cpuid.h>

/* Whether the CPU has PREFETCHW (CPUID 0x80000001, ECX bit 8): DPDK's
 * headers build for a baseline (corei7) where __builtin_prefetch(p, 1)
 * emits a read prefetch, and older CPUs need not accept the opcode. */
static bool cpu_prefetchw;

RTE_INIT(shard_cpu_probe)
{
	unsigned a, b, c, d;

	cpu_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) &&
			(c & bit_PRFCHW) != 0;
}
#endif

/* A prefetch that asks for the line in exclusive state, so the stores
 * that follow need no second ownership request. */
static inline void
prefetch_for_write(const void *p)
{
#if defined(RTE_ARCH_X86)
	if (likely(cpu_prefetchw)) {
		asm volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
		return;
	}
#endif
	rte_prefetch0_write(p);
}

struct rte_mbuf *
shard_alloc(struct shard *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
	struct rte_mempool_cache *pc;

	if (unlikely(m == NULL)) {
		STAT_INC(s, tx_drop_no_mbuf);
		return NULL;
	}
	/* The mbufs this lcore is about to be given come back from the
	 * other core (the peer shard that read and freed them, or the NIC):
	 * ask for their lines in exclusive state now, so that the reset and
	 * the headers written around the default headroom find them owned
	 * instead of queueing behind ownership misses. The one allocated
	 * next is too close: fetched ALLOC_PREFETCH_AHEAD allocations ahead,
	 * engine to engine gave 1.03x-1.09x the connections/s in 8-10
	 * alternating pairs (64 and 256 in flight). The data room follows
	 * the mbuf and its private area (rte_pktmbuf_init()). */
	pc = rte_mempool_default_cache(s->pool, rte_lcore_id());
	if (likely(pc != NULL && pc->len >= ALLOC_PREFETCH_AHEAD)) {
		uint8_t *next = pc->objs[pc->len - ALLOC_PREFETCH_AHEAD];
		uint8_t *data = next + sizeof(struct rte_mbuf) +
			rte_pktmbuf_priv_size(s->pool) + RTE_PKTMBUF_HEADROOM;

		prefetch_for_write(next);
		prefetch_for_write(next + RTE_CACHE_LINE_SIZE);
		prefetch_for_write(data - RTE_CACHE_LINE_SIZE);
		prefetch_for_write(data);
	}
	/* Leave room for Ethernet + VLAN + IPv4 in front of what the caller
	 * appends, so no header ever needs a second segment. */
	if (rte_pktmbuf_headroom(m) < NET_L4_HEADROOM)
		rte_pktmbuf_reset_headroom(m);
	return m;
}

/* The first two cache lines of m's frame: Ethernet, IPv4 and TCP headers
 * with their options, wherever the sender's headroom put them. */
static inline void
prefetch_frame(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	rte_prefetch0(p);
	rte_prefetch0(p + RTE_CACHE_LINE_SIZE);
}

static void
shard_port_flush(struct shard *s, struct shard_port *sp)
{
	uint16_t n = sp->tx_n, sent = 0;

	if (n == 0)
		return;
	/* One retry lets a PMD that freed descriptors during the first call
	 * take the rest; beyond that the link is saturated: drop and count
	 * rather than stall the loop. */
	for (int tries = 0; tries < 2 && sent < n; tries++)
		sent += sp->port->ops->tx_burst(sp->port, sp->queue,
						sp->tx + sent, n - sent);
	for (uint16_t i = 0; i < sent; i++)
		STAT_ADD(s, tx_bytes, rte_pktmbuf_pkt_len(sp->tx[i]));
	STAT_ADD(s, tx_packets, sent);
	if (sent < n) {
		STAT_ADD(s, tx_drop_port_full, n - sent);
		rte_pktmbuf_free_bulk(sp->tx + sent, n - sent);
	}
	sp->tx_n = 0;
}

void
shard_tx(struct shard *s, struct shard_port *sp, struct rte_mbuf *m)
{
	if (sp->tx_n == WSKDP_TX_BATCH)
		shard_port_flush(s, sp);
	sp->tx[sp->tx_n++] = m;
}

void
shard_tx_flush(struct shard *s)
{
	for (uint16_t i = 0; i < s->nb_ports; i++)
		shard_port_flush(s, &s->ports[i]);
}

unsigned
shard_poll(struct shard *s)
{
	struct engine *eng = s->eng;
	struct rte_mbuf *pkts[WSKDP_BURST];
	unsigned total = 0;

	s->now_us = engine_clock_now_us(&s->clock);
	/* What the application queued since the last pass (new connections,
	 * answers from its completion handlers) goes before this pass reads
	 * and works through its input: the peer can start on it meanwhile. */
	shard_tx_flush(s);

	for (uint16_t i = 0; i < s->nb_ports; i++) {
		struct shard_port *sp = &s->ports[i];
		uint16_t n = sp->port->ops->rx_burst(sp->port, sp->queue,
						     pkts, WSKDP_BURST);

		total += n;
		STAT_ADD(s, rx_packets, n);
		/* The mbufs and their frames were written by another core (or
		 * the NIC): start every header's fetch at once, then keep the
		 * frames two packets ahead of the one being parsed. */
		for (uint16_t k = 0; k < n; k++)
			rte_prefetch0(pkts[k]);
		for (uint16_t k = 0; k < n && k < 2; k++)
			prefetch_frame(pkts[k]);
		for (uint16_t k = 0; k < n; k++) {
			if (k + 2 < n)
				prefetch_frame(pkts[k + 2]);
			STAT_ADD(s, rx_bytes, rte_pktmbuf_pkt_len(pkts[k]));
			if (sp->port->mem_link)
				port_mem_link_rx(pkts[k]);
			eth_input(s, sp, pkts[k]);
		}
		engine_l4_flush(s);
	}
	arp_drain_inbox(s);

	if (s->now_us >= s->next_housekeeping_us) {
		s->next_housekeeping_us = s->now_us + WSKDP_HOUSEKEEPING_US;
		for (uint16_t i = 0; i < s->nb_ports; i++)
			arp_housekeeping(s, &s->ports[i]);
	}

	if (eng->conf.l4_poll != NULL)
		eng->conf.l4_poll(s);

	/* Full batches went out as they filled; what is left goes out now.
	 * Holding a partial batch for a later pass while the receive burst
	 * was full (to save NIC doorbells) made every hop of a
	 * request/response exchange wait for the other side's passes too:
	 * engine to engine, sending at both ends of the pass gave 1.6x the
	 * connections/s at 64 in flight and 1.5x the bulk Gb/s at MTU 9000,
	 * and lost nothing at 256 in flight or in bulk at MTU 1500. */
	shard_tx_flush(s);
	return total;
}
