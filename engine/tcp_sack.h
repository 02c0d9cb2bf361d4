/*
 * The sender's SACK scoreboard (RFC 2018 blocks, RFC 6675 loss recovery).
 *
 * The model. The board remembers which bytes above SND.UNA the receiver
 * has reported holding: up to TCP_SACK_MAX_RANGES ranges [start, end),
 * sorted by sequence number, never overlapping or touching (touching
 * ranges are merged). It is a fixed array embedded in the connection, so
 * nothing is allocated and every query walks at most that many entries.
 *
 * The gaps between SND.UNA, the ranges and HighData are the "holes": data
 * sent and neither acknowledged nor SACKed. The queries answer RFC 6675's
 * questions about them:
 *   tcp_sack_is_lost()   IsLost(SeqNum)
 *   tcp_sack_pipe()      SetPipe()
 *   tcp_sack_next_seg()  NextSeg() rule (1): the first lost hole not yet
 *                        retransmitted
 *   tcp_sack_next_unsacked()  NextSeg() rule (3): the same without the
 *                        IsLost condition
 * NextSeg's rule (2), sending new data, and rule (4), the rescue
 * retransmission of the highest unSACKed segment once per recovery, are
 * for the caller, which owns the send queue and RescueRxt.
 *
 * RFC 6675 counts segments where this board keeps byte ranges, so a
 * range's segment count is estimated as ceil(length / SMSS); that only
 * undercounts (runs of small segments), which delays a loss verdict rather
 * than hastening one.
 *
 * Sequence conventions: snd_una is SND.UNA (HighACK), snd_max is one
 * beyond the highest byte sent (HighData + 1, BSD's SND.MAX: after a
 * timeout SND.NXT may be lower, the board wants the maximum), high_rxt is
 * one beyond the highest byte retransmitted in this recovery (HighRxt + 1;
 * pass snd_una when nothing was). All comparisons are modulo 2^32, so the
 * board works across the wrap of the sequence space; everything it holds
 * lies within [snd_una, snd_max), less than 2^31 bytes.
 *
 * The caller:
 * - calls tcp_sack_update() for every acceptable ACK, with no blocks when
 *   it carries no SACK option, so ranges below SND.UNA are dropped;
 * - calls tcp_sack_reset() when the connection starts and after a
 *   retransmission timeout (RFC 2018 §8: the receiver may have reneged, so
 *   SACKed data must be retransmitted after a timeout);
 * - knows that D-SACK blocks (RFC 2883) at or below SND.UNA are counted in
 *   stale_blocks and otherwise ignored: the board does not detect
 *   spurious retransmissions.
 */
#ifndef WSKDP_TCP_SACK_H
#define WSKDP_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_options.h"

/* Ranges the board remembers. A receiver reports at most 4 blocks per ACK
 * and typically a few holes per window; 32 covers heavy loss. */
#define TCP_SACK_MAX_RANGES 32
/* RFC 6675 DupThresh. */
#define TCP_SACK_DUPTHRESH 3

struct tcp_sack_range {
	uint32_t start;
	uint32_t end;	/* one beyond the last byte */
};

struct tcp_sack_board {
	unsigned count;		/* ranges in use */
	uint32_t sacked_bytes;	/* sum of the ranges' lengths */
	/* Blocks tcp_sack_update() ignored, by reason (they survive reset). */
	uint64_t stale_blocks;	/* end at or below SND.UNA (old or D-SACK) */
	uint64_t invalid_blocks; /* empty, inverted, or reaching past SND.MAX */
	uint64_t overflow_drops; /* ranges forgotten: the board was full */
	/* Last, and read only below count: a new board clears the fields
	 * above and not the ranges' four cache lines (tcp_sack_init). */
	struct tcp_sack_range range[TCP_SACK_MAX_RANGES]; /* sorted */
};

/*
 * Make b an empty board with its counters at zero. The ranges are left as
 * they are: none is read before it is written. Cannot fail.
 *
 * @param b  the board
 */
void tcp_sack_init(struct tcp_sack_board *b);

/*
 * Forget every range (the counters are kept).
 *
 * @param b  the board
 */
void tcp_sack_reset(struct tcp_sack_board *b);

/*
 * Take in the SACK blocks of one ACK, after dropping what SND.UNA now
 * covers.
 *
 * A block ending at or below snd_una is counted in stale_blocks and
 * ignored. A block that is empty or inverted (end at or before start), or
 * that ends beyond snd_max, is counted in invalid_blocks and ignored: the
 * receiver cannot hold what was never sent. A block straddling snd_una is
 * used from snd_una on. When a new range needs a slot and the board is
 * full, the highest range is forgotten (counted in overflow_drops):
 * forgetting SACKed data only makes the sender more conservative, and the
 * low ranges decide what to retransmit next.
 *
 * @param b        the board
 * @param blocks   the blocks as parsed (tcp_opts.sack), any order
 * @param n        number of blocks (0 allowed)
 * @param snd_una  SND.UNA after this ACK
 * @param snd_max  one beyond the highest byte sent
 * @return the number of bytes the blocks newly reported as SACKed (RFC
 *         6675's test for a duplicate ACK is that this is not 0), counted
 *         before any overflow drop.
 */
uint32_t tcp_sack_update(struct tcp_sack_board *b,
			 const struct tcp_sack_block *blocks, unsigned n,
			 uint32_t snd_una, uint32_t snd_max);

/*
 * RFC 6675 IsLost(seq): DupThresh SACKed segments above seq, or more than
 * (DupThresh - 1) * SMSS SACKed bytes above seq.
 *
 * @param b     the board
 * @param seq   the sequence number in question
 * @param smss  sender MSS (> 0)
 * @return true when the byte at seq counts as lost, false otherwise.
 */
bool tcp_sack_is_lost(const struct tcp_sack_board *b, uint32_t seq,
		      uint32_t smss);

/*
 * RFC 6675 SetPipe(): bytes estimated in the network. Every byte in
 * [snd_una, snd_max) that is not SACKed counts once unless IsLost, and once
 * more if it was retransmitted (below high_rxt).
 *
 * @param b         the board
 * @param snd_una   SND.UNA
 * @param snd_max   one beyond the highest byte sent
 * @param high_rxt  one beyond the highest byte retransmitted (snd_una if
 *                  none)
 * @param smss      sender MSS (> 0)
 * @return pipe in bytes.
 */
uint32_t tcp_sack_pipe(const struct tcp_sack_board *b, uint32_t snd_una,
		       uint32_t snd_max, uint32_t high_rxt, uint32_t smss);

/*
 * RFC 6675 NextSeg() rule (1): the lowest byte not SACKed, at or above
 * high_rxt and snd_una, below the highest SACKed byte, and IsLost.
 *
 * @param b         the board
 * @param snd_una   SND.UNA
 * @param high_rxt  one beyond the highest byte retransmitted (snd_una if
 *                  none)
 * @param smss      sender MSS (> 0)
 * @param seq       out: first byte to retransmit
 * @param len       out: its length, at most smss and never into SACKed data
 * @return true with *seq and *len set; false when no byte qualifies (the
 *         outputs are untouched): the caller goes on with rule (2).
 */
bool tcp_sack_next_seg(const struct tcp_sack_board *b, uint32_t snd_una,
		       uint32_t high_rxt, uint32_t smss, uint32_t *seq,
		       uint32_t *len);

/*
 * RFC 6675 NextSeg() rule (3): as tcp_sack_next_seg() but without the
 * IsLost condition, for when rules (1) and (2) found nothing to send.
 *
 * Parameters and return as tcp_sack_next_seg().
 */
bool tcp_sack_next_unsacked(const struct tcp_sack_board *b, uint32_t snd_una,
			    uint32_t high_rxt, uint32_t smss, uint32_t *seq,
			    uint32_t *len);

/*
 * @param b  the board
 * @return bytes currently SACKed (all above SND.UNA as of the last update).
 */
static inline uint32_t
tcp_sack_sacked_bytes(const struct tcp_sack_board *b)
{
	return b->sacked_bytes;
}

#endif
