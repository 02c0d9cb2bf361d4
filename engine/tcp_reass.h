/*
 * TCP receive reassembly: the out-of-order queue of one connection.
 *
 * Model. TCP input strips the headers, so each segment arrives here as an
 * mbuf (or chain) holding only payload, plus the sequence number of its
 * first byte. In-order data bypasses this queue; data that arrives ahead of
 * RCV.NXT is held here until the hole before it is filled.
 *
 * The queue never allocates: the mbufs carry the data, and the metadata is
 * a small fixed array of blocks embedded in the connection. A block is one
 * contiguous sequence range [start, end) whose bytes are an mbuf chain
 * (head and tail kept, so appending costs nothing). Blocks are kept sorted
 * by sequence number, never overlap, and are joined as soon as they touch.
 *
 * Overlaps (after FreeBSD tcp_reass.c): where a new segment overlaps the
 * edge of data already held, the held data wins and the segment is trimmed;
 * a held block that the new segment covers entirely is replaced by it, so a
 * segment is never cut into several pieces. The bytes are the same either
 * way for a correct peer.
 *
 * Chain length: an mbuf chain counts its segments in a 16-bit field
 * (RTE_MBUF_MAX_NB_SEGS). When joining two touching blocks would exceed it
 * they stay separate, adjacent blocks: tcp_reass_pull() then returns them
 * one call at a time and tcp_reass_sack_blocks() reports them as one range.
 * Callers therefore pull in a loop until NULL.
 *
 * Sequence numbers are compared modulo 2^32 (tcp_seq.h); every queued byte
 * lies within a receive window of less than 2^31 octets above RCV.NXT.
 */
#ifndef WSKDP_TCP_REASS_H
#define WSKDP_TCP_REASS_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "tcp_options.h"

/* Out-of-order ranges one connection can hold. Each hole the peer leaves
 * costs one block; 16 covers heavy reordering and losses in one window
 * (Linux rarely sees more than a few islands), at 32 bytes a block. */
#ifndef TCP_REASS_MAX_BLOCKS
#define TCP_REASS_MAX_BLOCKS 16
#endif

/* Result of tcp_reass_insert(). */
enum tcp_reass_result {
	/* At least one new byte was queued. */
	TCP_REASS_INSERTED,
	/* Every byte inside the window was already held; the mbuf was freed. */
	TCP_REASS_DUPLICATE,
	/* No byte of the segment lies in [rcv_nxt, rcv_wnd_end) (this includes
	 * empty segments and data entirely below rcv_nxt); the mbuf was freed. */
	TCP_REASS_OUT_OF_WINDOW,
	/* The segment holds new data but touches no held block and every block
	 * is in use; the mbuf was freed. The caller counts a drop. */
	TCP_REASS_FULL,
};

/* One contiguous range of held data. */
struct tcp_reass_block {
	uint32_t start;			/* sequence number of the first byte */
	uint32_t end;			/* one past the last byte */
	struct rte_mbuf *head;		/* the bytes, pkt_len == end - start */
	struct rte_mbuf *tail;		/* last segment of the chain */
	uint64_t last_arrival;		/* q->arrivals when a segment last landed here */
};

/* The queue, embedded in the connection. */
struct tcp_reass {
	unsigned int nb_blocks;
	uint32_t bytes;			/* payload bytes held, for window accounting */
	uint64_t arrivals;		/* segments received; orders blocks for SACK */
	/* Last, and read only below nb_blocks: a new queue clears the
	 * fields above and not the blocks' eight cache lines
	 * (tcp_reass_init). */
	struct tcp_reass_block blocks[TCP_REASS_MAX_BLOCKS]; /* sorted by start */
};

/* Make q an empty queue; the blocks are left as they are, none is read
 * before it is written. Cannot fail. */
void tcp_reass_init(struct tcp_reass *q);

/*
 * Queue a segment's payload.
 *   q           the connection's queue.
 *   m           the payload (a chain is fine); ownership passes to the queue
 *               whatever the result: it is kept, trimmed or freed.
 *   seq         sequence number of the first byte of m.
 *   rcv_nxt     RCV.NXT: bytes before it are trimmed off (and any held bytes
 *               it has overtaken are released first).
 *   rcv_wnd_end RCV.NXT + RCV.WND, the right window edge: bytes at or beyond
 *               it are trimmed off.
 * Returns TCP_REASS_INSERTED, TCP_REASS_DUPLICATE, TCP_REASS_OUT_OF_WINDOW
 * or TCP_REASS_FULL as described at the enum.
 */
enum tcp_reass_result tcp_reass_insert(struct tcp_reass *q, struct rte_mbuf *m,
				       uint32_t seq, uint32_t rcv_nxt,
				       uint32_t rcv_wnd_end);

/*
 * Take the data that has become in-order.
 *   q        the connection's queue.
 *   rcv_nxt  in: RCV.NXT; out: advanced past the returned bytes.
 * Held bytes below *rcv_nxt (already received in order meanwhile) are freed
 * first. Returns the chain of the first block if it starts at *rcv_nxt, for
 * the caller to append to the receive queue, or NULL if there is a hole at
 * *rcv_nxt or the queue is empty. Call until NULL: adjacent blocks that hit
 * the chain length limit come out one per call.
 */
struct rte_mbuf *tcp_reass_pull(struct tcp_reass *q, uint32_t *rcv_nxt);

/*
 * Fill SACK blocks (RFC 2018) for an outgoing ACK.
 *   q        the connection's queue.
 *   rcv_nxt  RCV.NXT: ranges at or below it are left out, a range that
 *            straddles it is reported from rcv_nxt on.
 *   out      receives up to max ranges, in the option writer's type: the
 *            one holding the most recently received segment first, then
 *            the others by most recent arrival.
 *   max      capacity of out (4, or 3 with timestamps).
 * Returns the number of ranges written (0 if nothing is held above rcv_nxt).
 */
unsigned int tcp_reass_sack_blocks(const struct tcp_reass *q, uint32_t rcv_nxt,
				   struct tcp_sack_block *out, unsigned int max);

/* Free every held mbuf and leave q empty (connection close or reset).
 * Cannot fail. */
void tcp_reass_flush(struct tcp_reass *q);

/* Payload bytes held in q. */
static inline uint32_t
tcp_reass_bytes(const struct tcp_reass *q)
{
	return q->bytes;
}

/* True if q holds nothing. */
static inline bool
tcp_reass_empty(const struct tcp_reass *q)
{
	return q->nb_blocks == 0;
}

#endif
