/*
 * TCP sequence-number arithmetic (after FreeBSD netinet/tcp_seq.h).
 *
 * Sequence numbers live on a circle of 2^32 values (RFC 9293 §3.4), so
 * "a before b" means "b is less than 2^31 ahead of a": the comparison is
 * made on the signed 32-bit difference. Two numbers exactly 2^31 apart
 * are not ordered in any meaningful way; these functions then answer as
 * the signed difference says (a - b == INT32_MIN counts as a < b), which
 * is what FreeBSD and Linux do.
 *
 * Every comparison of sequence or acknowledgment numbers in the engine goes
 * through this header: a plain '<' on two sequence numbers is a bug that
 * shows only after the counter wraps.
 */
#ifndef WSKDP_TCP_SEQ_H
#define WSKDP_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* a < b modulo 2^32. */
static inline bool
tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* a <= b modulo 2^32. */
static inline bool
tcp_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* a > b modulo 2^32. */
static inline bool
tcp_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* a >= b modulo 2^32. */
static inline bool
tcp_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* The later of a and b modulo 2^32. */
static inline uint32_t
tcp_seq_max(uint32_t a, uint32_t b)
{
	return tcp_seq_gt(a, b) ? a : b;
}

/* The earlier of a and b modulo 2^32. */
static inline uint32_t
tcp_seq_min(uint32_t a, uint32_t b)
{
	return tcp_seq_lt(a, b) ? a : b;
}

/*
 * lo <= s <= hi modulo 2^32, both ends included.
 * Measured as distances from lo, so it stays right for ranges that straddle
 * the wrap point and for any range shorter than 2^32; a range with hi
 * before lo is empty.
 */
static inline bool
tcp_seq_between(uint32_t s, uint32_t lo, uint32_t hi)
{
	return tcp_seq_leq(lo, hi) && (uint32_t)(s - lo) <= (uint32_t)(hi - lo);
}

/*
 * start <= s < start + len modulo 2^32: s falls in a window of len octets
 * beginning at start (RCV.NXT and RCV.WND, for instance). A zero-length
 * window contains nothing.
 */
static inline bool
tcp_seq_in_window(uint32_t s, uint32_t start, uint32_t len)
{
	return (uint32_t)(s - start) < len;
}

#endif
