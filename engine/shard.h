/*
 * A shard: everything one lcore owns, and its poll loop.
 */
#ifndef WSKDP_SHARD_H
#define WSKDP_SHARD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "clock.h"
#include "config.h"
#include "port.h"
#include "stats.h"

struct engine;
struct arp_entry;

/* A shard's ARP table for one port (owned by the shard, no locks). */
struct arp_table {
	struct rte_hash *hash;		/* IPv4 address -> entry index */
	struct arp_entry *entries;	/* WSKDP_ARP_ENTRIES */
	/* The entry that resolved the last packet: a generator sends nearly
	 * everything to one next hop, and this spares the hash lookup per
	 * packet. NULL whenever that entry leaves the table. */
	struct arp_entry *last;
};

/* One port as one shard sees it: its queue, its tx batch, its ARP table. */
struct shard_port {
	struct port *port;
	uint16_t queue;
	uint16_t tx_n;
	struct rte_mbuf *tx[WSKDP_TX_BATCH];
	struct arp_table arp;
};

struct shard {
	unsigned id;			/* index in the engine; also the queue id */
	unsigned lcore;
	struct engine *eng;
	struct rte_mempool *pool;
	struct engine_clock clock;
	uint64_t now_us;		/* clock read once per pass */
	uint64_t next_housekeeping_us;
	struct shard_port ports[WSKDP_MAX_PORTS];
	uint16_t nb_ports;
	struct rte_ring *arp_inbox;	/* ARP frames other shards saw (multi-shard) */
	struct shard_stats stats;
	void *l4;			/* upper layer (TCP) state of this shard */
};

/* Run one pass of the loop: send what was queued since the last pass, rx
 * burst on every port, input, housekeeping, the upper layer's
 * timers/requests/output, then send what the pass queued. Returns the
 * number of frames received (0 = idle pass). */
unsigned shard_poll(struct shard *s);

/* Queue a complete frame for transmission on 'sp'. Never fails: when the
 * batch is full it is flushed first; frames the port refuses are freed and
 * counted. */
void shard_tx(struct shard *s, struct shard_port *sp, struct rte_mbuf *m);

/* Hand every batched frame of every port to the PMDs now. */
void shard_tx_flush(struct shard *s);

/* Allocate an mbuf from the shard's pool with 'headroom' bytes reserved
 * for headers in front of the data; counts and returns NULL when empty. */
struct rte_mbuf *shard_alloc(struct shard *s);

#endif
