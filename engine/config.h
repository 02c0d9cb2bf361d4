/*
 * Every compile-time tunable of the engine, with its default and the reason
 * for it (lwIP opt.h in spirit). Run-time settings live in struct
 * engine_conf (engine.h); these are the sizes fixed at build time.
 */
#ifndef WSKDP_CONFIG_H
#define WSKDP_CONFIG_H

/* Ports one engine drives; a load generator rarely needs more than a few. */
#define WSKDP_MAX_PORTS 8
/* Shards (lcores) in one engine. */
#define WSKDP_MAX_SHARDS 64
/* IPv4 addresses per port: load generators source from address ranges. */
#define WSKDP_PORT_MAX_ADDRS 64

/* Packets per rx/tx burst: DPDK PMDs are tuned for 32. */
#define WSKDP_BURST 32
/* Mbufs in a shard's tx batch before it is handed to the PMD. */
#define WSKDP_TX_BATCH 64

/* Default per-shard mbuf pool: enough for rx rings, tx batches, ARP queues
 * and TCP send/receive queues of a modest run; configurable at start. */
#define WSKDP_DEFAULT_MBUFS 16384
#define WSKDP_MBUF_CACHE 256
#define WSKDP_RX_DESC 1024
#define WSKDP_TX_DESC 1024

/* Housekeeping (ARP ageing, retries) runs at most this often. */
#define WSKDP_HOUSEKEEPING_US 100000

/* ARP (RFC 826, with Linux-like timing). */
#define WSKDP_ARP_ENTRIES 1024		/* per port per shard */
#define WSKDP_ARP_REACHABLE_US 60000000ULL	/* refresh after 60 s */
#define WSKDP_ARP_RETRY_US 1000000ULL		/* request retry interval */
#define WSKDP_ARP_MAX_RETRIES 3		/* then the entry fails */
#define WSKDP_ARP_FAILED_HOLD_US 3000000ULL	/* failed entries refuse traffic this long */
/* Packets queued per unresolved address: a burst of SYN-ACKs answering
 * many SYNs from one fresh peer must survive the ARP round trip. */
#define WSKDP_ARP_PENDING 64

/* IPv4 */
#define WSKDP_IP_TTL 64
#define WSKDP_DEFAULT_MTU 1500

#endif
