/*
 * The engine: ports, shards and the loop that runs them.
 *
 * Model. An engine owns a set of ports and one shard per lcore. A shard owns
 * an rx and a tx queue on every port, its mbuf pool, its clock, its timers,
 * its ARP tables, its connection table and its counters; nothing on the fast
 * path touches another shard's memory or takes a lock. shard_poll() runs one
 * pass in a fixed order: rx burst, input, timers, requests, output, tx burst.
 * Who calls shard_poll() is up to the caller: engine_run() starts one loop
 * per lcore; a test calls it by hand on a virtual clock; two engines can be
 * polled alternately from one thread (engine against engine, no threads).
 *
 * Life cycle: engine_create() -> engine_add_ethdev_port() /
 * engine_add_custom_port() -> engine_start() -> shard_poll() or engine_run()
 * -> engine_stop() -> engine_destroy(). Several engines may live in one
 * process (each with its own name).
 */
#ifndef WSKDP_ENGINE_H
#define WSKDP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "port.h"
#include "shard.h"

struct engine_conf {
	const char *name;		/* unique per process; names pools and tables */
	unsigned nb_shards;		/* 1..WSKDP_MAX_SHARDS */
	unsigned lcores[WSKDP_MAX_SHARDS]; /* lcore of each shard (engine_run) */
	unsigned mbufs_per_shard;	/* 0: WSKDP_DEFAULT_MBUFS */
	enum engine_clock_mode clock_mode;
	/* Keyed-hash secret seed for deterministic runs (virtual clock); with
	 * the TSC clock the secret is random and this is ignored. */
	uint64_t seed;
	bool gratuitous_arp;		/* announce every address at start */
	/* Upper layer hook for IPv4 protocols other than ICMP (TCP). NULL:
	 * such packets are counted as unknown protocol and dropped. The hook
	 * owns the mbuf. */
	void (*l4_input)(struct shard *s, struct shard_port *sp,
			 struct rte_mbuf *m, uint8_t proto);
	/* May be NULL. When set, l4_input may hold packets back (to look
	 * up a whole rx burst's connections at once) and l4_flush must then
	 * process every packet held, in arrival order. shard_poll() calls it
	 * after each port's rx burst, and the other protocols' input calls
	 * it (engine_l4_flush()) before they handle a packet, so the packets
	 * of a burst are still handled, and answered, in arrival order. */
	void (*l4_flush)(struct shard *s);
	/* Called once per shard_poll() pass after timers: the upper layers'
	 * request and output stages. May be NULL. */
	void (*l4_poll)(struct shard *s);
	void *user;			/* for the upper layers */
};

struct engine {
	struct engine_conf conf;
	char name[32];
	struct port ports[WSKDP_MAX_PORTS];
	uint16_t nb_ports;
	struct shard *shards[WSKDP_MAX_SHARDS];
	unsigned nb_shards;
	bool started;
	volatile bool stop;		/* engine_run() loops until set */
	uint64_t run_duration_us;	/* engine_run(): 0 = until stopped */
};

/* Run the upper layer's held packets (engine_conf.l4_flush), if any. */
static inline void
engine_l4_flush(struct shard *s)
{
	if (s->eng->conf.l4_flush != NULL)
		s->eng->conf.l4_flush(s);
}

/* Fill 'conf' with defaults: one shard on the calling lcore, TSC clock,
 * gratuitous ARP on. */
void engine_conf_init(struct engine_conf *conf, const char *name);

/* Create an engine and its shards (mbuf pools, timers, tables).
 * Returns NULL with rte_errno = EINVAL (bad conf), EEXIST (name in use) or
 * ENOMEM. */
struct engine *engine_create(const struct engine_conf *conf);

/* Add an ethdev port. The port is configured with one rx and one tx queue
 * per shard when the engine starts. Returns the engine port index (>= 0),
 * -EINVAL (bad id or conf), -ENOSPC (too many ports), -EBUSY (started). */
int engine_add_ethdev_port(struct engine *eng, uint16_t ethdev_id,
			   const struct port_conf *pc);

/* Add a custom port (tests, fake links) with the given MAC and ops; the
 * port has one queue per shard and the given offload capabilities. Returns
 * the port index or -EINVAL, -ENOSPC, -EBUSY. */
int engine_add_custom_port(struct engine *eng, const struct port_ops *ops,
			   void *ctx, const struct rte_ether_addr *mac,
			   const struct port_conf *pc);

/* Configure and start every ethdev port, then announce the addresses.
 * Returns 0 or a negative errno from the ethdev layer. */
int engine_start(struct engine *eng);

/* Run every shard on its lcore until engine_stop() (or eng->stop is set by
 * a signal handler), or for 'duration_us' of each shard's clock when not 0.
 * The shard on the calling lcore runs in this thread. Returns 0, or -EBUSY
 * if an lcore could not be launched (the others are stopped and joined). */
int engine_run(struct engine *eng, uint64_t duration_us);

/* Ask engine_run() to return. Async-signal-safe. */
void engine_stop(struct engine *eng);

/* Stop the ports, free everything. Safe on a NULL engine. */
void engine_destroy(struct engine *eng);

/* Sum of one counter over all shards. */
uint64_t engine_stat(const struct engine *eng, enum shard_stat stat);

/* Sum of all counters over all shards into 'out'. */
void engine_stats(const struct engine *eng, struct shard_stats *out);

/* Find an engine by name in this process (telemetry uses this); NULL if
 * none. */
struct engine *engine_lookup(const char *name);

/* Register the /wskdp/... telemetry commands (once per process). Returns 0
 * or the negative value rte_telemetry_register_cmd gave. */
int engine_telemetry_register(void);

#endif
