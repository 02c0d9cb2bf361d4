/*
 * Frame builders for tests: byte-exact Ethernet/ARP/IPv4/ICMP frames built
 * independently of the engine's own output code, so a test compares the
 * engine against a separate construction rather than against itself.
 */
#ifndef WSKDP_FRAMES_H
#define WSKDP_FRAMES_H

#include <stdint.h>
#include <rte_ether.h>

#define FRAME_MAX 2048

/* Build into buf; each returns the frame length. Addresses are text. */
unsigned frame_arp(uint8_t *buf, uint16_t op, const struct rte_ether_addr *eth_dst,
		   const struct rte_ether_addr *sha, const char *sip,
		   const struct rte_ether_addr *tha, const char *tip);
unsigned frame_icmp_echo(uint8_t *buf, const struct rte_ether_addr *dst,
			 const struct rte_ether_addr *src, const char *sip,
			 const char *dip, uint8_t type, uint16_t id,
			 uint16_t seq, const void *payload, unsigned plen);

/* Recompute the IPv4 header checksum of a frame (after a test edits it). */
void frame_fix_ip_checksum(uint8_t *frame);

/* Internet checksum over a buffer (RFC 1071), already complemented. */
uint16_t frame_cksum(const void *data, unsigned len);

#endif
