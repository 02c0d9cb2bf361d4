/*
 * A fake port for tests: frames injected by the test come out of the
 * port's rx_burst; frames the engine transmits are captured for the test to
 * inspect. Two fake ports can be wired back to back (fake_port_link) so
 * two engines talk to each other in one thread, deterministically.
 *
 * The test owns what it pops; at teardown fake_port_drain() frees whatever
 * is left so the pool's in-use count can prove nothing leaked.
 */
#ifndef WSKDP_FAKE_PORT_H
#define WSKDP_FAKE_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "engine.h"

#define FAKE_PORT_QLEN 4096

struct fake_port {
	struct rte_mbuf *rx[FAKE_PORT_QLEN];
	unsigned rx_head, rx_tail;	/* ring of frames waiting to be received */
	struct rte_mbuf *tx[FAKE_PORT_QLEN];
	unsigned tx_head, tx_tail;	/* ring of captured frames */
	unsigned tx_accept_limit;	/* accept at most this many per burst (0: all) */
	uint64_t tx_refused;
	struct fake_port *peer;		/* wired: tx goes to the peer's rx */
	/* A lossy wire (linked mode only; all zero = lossless). Frames this
	 * port sends towards its peer are numbered from 1 (wire_sent); frame
	 * n is dropped when drop_every_nth != 0 and n % drop_every_nth == 0,
	 * or when wire_filter returns true for it. Dropped frames are freed
	 * and counted in wire_dropped. The filter may also just look. */
	unsigned drop_every_nth;
	bool (*wire_filter)(void *arg, const struct rte_mbuf *m);
	void *wire_filter_arg;
	uint64_t wire_sent;
	uint64_t wire_dropped;
	/* Frames captured (tx_tail) when the engine last asked for input:
	 * what it had handed over before reading the wire. */
	unsigned tx_tail_at_rx;
};

extern const struct port_ops fake_port_ops;

void fake_port_init(struct fake_port *fp);

/* Queue a frame for the engine to receive. Returns 0, or -ENOSPC (the
 * frame is freed). */
int fake_port_inject(struct fake_port *fp, struct rte_mbuf *m);

/* Copy bytes into a new mbuf from 'pool' and inject it. Returns 0, -ENOMEM
 * or -ENOSPC. */
int fake_port_inject_bytes(struct fake_port *fp, struct rte_mempool *pool,
			   const void *frame, unsigned len);

/* The same, from an mbuf whose header lengths (l2_len, l3_len) hold the
 * given leftovers, as a recycled receive mbuf's may: receive must not
 * depend on them. */
int fake_port_inject_stale(struct fake_port *fp, struct rte_mempool *pool,
			   const void *frame, unsigned len, uint8_t l2_len,
			   uint16_t l3_len);

/* Captured frames: count, and take the oldest (NULL when none). */
unsigned fake_port_tx_count(const struct fake_port *fp);
struct rte_mbuf *fake_port_pop_tx(struct fake_port *fp);

/* Free every queued and captured frame. */
void fake_port_drain(struct fake_port *fp);

/* Wire two fake ports back to back. */
void fake_port_link(struct fake_port *a, struct fake_port *b);

/* An engine on the virtual clock with one fake port addressed 'cidr'
 * (e.g. "10.0.0.1/24") and an optional gateway (NULL for none); MAC
 * 02:00:00:00:00:<mac_last>. Returns NULL on failure. */
struct engine *test_engine_create(const char *name, struct fake_port *fp,
				  const char *cidr, const char *gateway,
				  uint8_t mac_last, const struct engine_conf *base);

/* Poll every shard of the engine 'passes' times. */
void test_engine_poll(struct engine *eng, unsigned passes);

/* Advance the virtual clock of every shard by 'us' and poll once. */
void test_engine_advance(struct engine *eng, uint64_t us);

#endif
