/*
 * Hostile frames for the suites: a corpus recorded from a real exchange
 * (a fake port's wire_filter) and seeded mutations of it, bits, bytes,
 * header fields, TCP options and lengths, with the IPv4 and TCP checksums
 * usually made valid again so the mutants reach the parsers behind them.
 * Shared by the engine's and the wskapi's hostile-wire suites.
 */
#ifndef WSKDP_WIRE_MUTATE_H
#define WSKDP_WIRE_MUTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "fake_port.h"

#define WIRE_CORPUS_MAX 256
#define WIRE_FRAME_MAX 1600

struct wire_corpus {
	/* Keep IPv4 frames only (no ARP): for suites about TCP whose
	 * checks need the neighbour tables left alone. */
	bool ip_only;
	unsigned n;
	uint16_t len[WIRE_CORPUS_MAX];
	uint8_t frame[WIRE_CORPUS_MAX][WIRE_FRAME_MAX];
};

/* A wire_filter (arg: the wire_corpus) that only looks: it copies each
 * frame crossing the wire while the corpus has room. */
bool wire_corpus_record(void *arg, const struct rte_mbuf *m);
/* Make the IPv4 header checksum, and the TCP checksum over what the IP
 * header says the segment is (bounded by the frame), valid again; frames
 * that no longer look like IPv4 are left as they are. */
void wire_fix_checksums(uint8_t *f, unsigned len);
/* A uniform number below n (0 when n is 0) from the stream *seed. */
unsigned wire_rnd_below(uint64_t *seed, unsigned n);
/* Copy one of the corpus's frames, mutate it 1 to 4 times, repair its
 * checksums three times in four, and inject it into 'to' from 'pool'.
 * Returns fake_port_inject_bytes()'s result. */
int wire_inject_mutant(const struct wire_corpus *cp, uint64_t *seed,
		       struct fake_port *to, struct rte_mempool *pool);

/* Run pass(arg) until both ports have taken every frame queued for them
 * (an engine takes one burst per pass, and what the engines answer each
 * other joins the queues), at most max_passes times. Returns whether the
 * queues emptied: false means the engines kept answering each other. */
bool wire_drain(const struct fake_port *a, const struct fake_port *b,
		void (*pass)(void *arg), void *arg, unsigned max_passes);

#endif
