/*
 * Internet checksums (RFC 1071) over mbuf chains. Internal to the engine.
 *
 * Why not DPDK's: in 22.11, rte_raw_cksum_mbuf() (and with it
 * rte_ipv4_udptcp_cksum_mbuf() and its _verify) truncates a segment's
 * 32-bit partial sum to 16 bits before byte-swapping it whenever an odd
 * number of bytes came before that segment, so the carries are lost and
 * the sum is wrong. Our segments are such chains whenever their payload
 * starts at an odd offset of a send-queue buffer and runs into the next
 * one: a Linux peer counted them as TcpInCsumErrors and dropped the same
 * retransmission again and again. Here each piece is folded first.
 */
#ifndef WSKDP_CKSUM_H
#define WSKDP_CKSUM_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

/* Folded (not complemented) sum of [off, off + len) of the chain m, in
 * network byte order like rte_raw_cksum(). Returns 0, or -1 when the
 * chain holds fewer bytes. */
static inline int
net_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
	       uint16_t *out)
{
	const struct rte_mbuf *seg = m;
	uint32_t sum = 0, done = 0;

	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	while (done < len) {
		uint32_t piece;
		uint16_t part;

		if (seg == NULL)
			return -1;
		piece = RTE_MIN((uint32_t)seg->data_len - off, len - done);
		part = __rte_raw_cksum_reduce(__rte_raw_cksum(
			rte_pktmbuf_mtod_offset(seg, const uint8_t *, off),
			piece, 0));
		/* After an odd count the piece's bytes sit in the other
		 * half of each 16-bit word (RFC 1071 §2(B)). */
		if (done & 1)
			part = rte_bswap16(part);
		/* At most 65,535 pieces of 0xffff: no 32-bit overflow. */
		sum += part;
		done += piece;
		off = 0;
		seg = seg->next;
	}
	*out = __rte_raw_cksum_reduce(sum);
	return 0;
}

/* Sum of the IPv4 pseudo-header and the L4 bytes at l4_off of m, folded.
 * Returns -1 when the chain is shorter than the IPv4 header says. */
static inline int
net_ipv4_l4_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih,
		uint16_t l4_off, uint16_t *out)
{
	uint32_t hl = rte_ipv4_hdr_len(ih);
	uint32_t tot = rte_be_to_cpu_16(ih->total_length);
	uint16_t raw;
	uint32_t sum;

	if (tot < hl || net_cksum_mbuf(m, l4_off, tot - hl, &raw) != 0)
		return -1;
	sum = (uint32_t)rte_ipv4_phdr_cksum(ih, 0) + raw;
	*out = __rte_raw_cksum_reduce(sum);
	return 0;
}

/* The TCP checksum field for a packet whose field is still zero (what
 * rte_ipv4_udptcp_cksum_mbuf() means to return, for TCP). */
static inline uint16_t
net_ipv4_tcp_cksum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih,
		   uint16_t l4_off)
{
	uint16_t sum;

	if (net_ipv4_l4_sum(m, ih, l4_off, &sum) != 0)
		return 0;
	return (uint16_t)~sum;
}

/* A received L4 checksum checks out (sum over the field included is all
 * ones); false too when the chain is shorter than the header says. */
static inline bool
net_ipv4_l4_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih,
		     uint16_t l4_off)
{
	uint16_t sum;

	return net_ipv4_l4_sum(m, ih, l4_off, &sum) == 0 && sum == 0xffff;
}

#endif
