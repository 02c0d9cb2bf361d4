/*
 * Link and network layers inside a shard: Ethernet (with optional VLAN),
 * ARP, IPv4 and ICMP. Internal to the engine.
 *
 * Input functions take ownership of the mbuf: they deliver it upward, turn
 * it into a reply, or free it and count why. Output functions take
 * ownership too: the frame is sent, queued waiting for ARP, or freed and
 * counted.
 */
#ifndef WSKDP_NET_H
#define WSKDP_NET_H

#include <stdint.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "shard.h"

/* Bytes every engine-built packet keeps free in front of its L4 header:
 * Ethernet + VLAN + IPv4 without options. */
#define NET_L4_HEADROOM (RTE_ETHER_HDR_LEN + 4 + 20)

/* Frame from the port; m's data starts at the Ethernet header. */
void eth_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m);

/* Prepend the Ethernet header (and the port's VLAN tag) to a packet whose
 * data starts at its IPv4 header and send it to 'next_hop', resolving the
 * hardware address with ARP first when needed. */
void eth_output_ipv4(struct shard *s, struct shard_port *sp,
		     struct rte_mbuf *m, rte_be32_t next_hop);

/* Send a frame whose data starts at the L3 header with an explicit
 * destination MAC (ARP replies, echo replies to the frame's sender). */
void eth_output_to(struct shard *s, struct shard_port *sp,
		   struct rte_mbuf *m, const struct rte_ether_addr *dst,
		   uint16_t ether_type);

/* ARP packet; m's data starts at the ARP header. */
void arp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m);

/* Create/destroy a shard's ARP table for one port. Returns 0 or -ENOMEM. */
int arp_table_init(struct arp_table *t, const char *name, int socket_id);
void arp_table_free(struct arp_table *t);

/* Look up next_hop. Resolved: writes its MAC to *dst and returns 0; the
 * caller sends m. Otherwise takes m (queued until the address resolves,
 * or dropped and counted), starts or continues resolution, returns -1. */
int arp_resolve(struct shard *s, struct shard_port *sp, rte_be32_t next_hop,
		struct rte_mbuf *m, struct rte_ether_addr *dst);

/* Broadcast a gratuitous ARP request for every address of the port. */
void arp_announce(struct shard *s, struct shard_port *sp);

/* Retries, ageing and expiry of pending packets; called every
 * WSKDP_HOUSEKEEPING_US. */
void arp_housekeeping(struct shard *s, struct shard_port *sp);

/* Learn from ARP frames that another shard of the engine received. */
void arp_drain_inbox(struct shard *s);

/* Number of resolved entries (tests, stats). */
unsigned arp_table_resolved(const struct arp_table *t);

/* IPv4 packet; m's data starts at the IPv4 header. */
void ipv4_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m);

/* Prepend an IPv4 header (DF set, ID 0, TTL 64) to a packet whose data
 * starts at its L4 header, fill in the IP checksum and, for TCP, the TCP
 * checksum (offloaded when the port can), and send it towards 'dst'. */
void ipv4_output(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
		 rte_be32_t src, rte_be32_t dst, uint8_t proto);

/* Send an ICMP echo request (ping) from the port's first address.
 * Returns 0, or -ENOMEM when no mbuf was free. */
int icmp_send_echo(struct shard *s, struct shard_port *sp, rte_be32_t dst,
		   uint16_t id, uint16_t seq, const void *payload, uint16_t len);

/* ICMP message; m's data starts at an IPv4 header without options. */
void icmp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m);

#endif
