/*
 * Ports: where packets enter and leave an engine.
 *
 * A port is any DPDK ethdev (a NIC, net_af_packet, net_af_xdp, net_tap,
 * net_memif, a net_ring pair, net_pcap) or, for tests, a custom port whose
 * rx/tx functions are supplied by the caller (the fake port that injects and
 * captures mbufs). Both sit behind the same small ops table, called once per
 * burst, never per packet.
 *
 * Each shard of the engine owns one rx and one tx queue on every port (queue
 * number = shard index), so no queue is ever shared between lcores.
 *
 * Addresses are kept in network byte order throughout the engine, so they
 * compare directly with header fields.
 */
#ifndef WSKDP_PORT_H
#define WSKDP_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "config.h"

struct port;

struct port_ops {
	/* Receive up to n packets from 'queue'; returns how many. */
	uint16_t (*rx_burst)(struct port *p, uint16_t queue,
			     struct rte_mbuf **pkts, uint16_t n);
	/* Transmit up to n packets on 'queue'; returns how many were taken.
	 * The caller frees the rest. */
	uint16_t (*tx_burst)(struct port *p, uint16_t queue,
			     struct rte_mbuf **pkts, uint16_t n);
};

struct port_addr {
	rte_be32_t ip;
	uint8_t prefix;		/* 0..32 */
};

/* What the user configures for a port. */
struct port_conf {
	struct port_addr addrs[WSKDP_PORT_MAX_ADDRS];
	uint16_t nb_addrs;
	rte_be32_t gateway;	/* 0: no default route */
	uint16_t mtu;		/* 0: WSKDP_DEFAULT_MTU */
	uint16_t vlan_id;	/* 0: untagged; 1..4094: tag every frame */
	/* Use this MAC instead of the port's own (ports whose MAC is all zero
	 * and cannot be set, such as net_ring). */
	bool mac_set;
	struct rte_ether_addr mac;
	/* Both ends of this port are wskdp engines in this process (a
	 * net_ring pair; ignored on any other driver). The link is then
	 * treated as Linux treats loopback and veth: a sender leaves the IPv4
	 * and TCP checksums to "offload" and marks the frame so, and a
	 * receiver trusts a frame so marked, since it never left memory.
	 * Frames without the mark are still checked. Off by default: only the
	 * owner of both ends can promise that nothing else reads the link
	 * (a capture fills the checksums in its copies, see
	 * port_mem_link_finish_cksums()). */
	bool mem_link;
};

struct port {
	uint16_t index;		/* position in the engine's port table */
	uint16_t ethdev_id;	/* DPDK port id, or UINT16_MAX for custom ports */
	struct port_conf conf;
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint16_t nb_queues;
	/* Checksum offloads the port really has (software otherwise). */
	bool tx_ip_cksum;
	bool tx_tcp_cksum;
	bool rx_cksum;
	bool rss;
	bool mem_link;		/* conf.mem_link honoured (net_ring) */
	const struct port_ops *ops;
	void *ops_ctx;		/* for custom ports */
};

/*
 * A frame received on a mem_link port carries its sender's transmit
 * checksum flags: turn them into the receive flags the input path
 * reads (good when the sender promised them, unknown otherwise).
 */
static inline void
port_mem_link_rx(struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags;

	m->ol_flags = f & ~(RTE_MBUF_F_TX_OFFLOAD_MASK |
			    RTE_MBUF_F_RX_IP_CKSUM_MASK |
			    RTE_MBUF_F_RX_L4_CKSUM_MASK);
	if (f & RTE_MBUF_F_TX_IP_CKSUM)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	if ((f & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM)
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

/*
 * Complete the checksums a mem_link sender left to "offload" in a flat
 * copy of its frame (what a NIC would have put on the wire), so that a
 * capture of the link reads like one of a real wire. frame holds caplen
 * bytes of the frame m; nothing is done when they do not cover the whole
 * IPv4 packet or m carries no offload flags.
 */
void port_mem_link_finish_cksums(const struct rte_mbuf *m, uint8_t *frame,
				 uint32_t caplen);

/* The ops used for real ethdev ports. */
extern const struct port_ops port_ethdev_ops;

/* Does 'ip' (network order) belong to this port? Returns the address index
 * or -1. Linear: ports have a handful of addresses and this runs once per
 * received IPv4 packet only when the address is not the first one. */
static inline int
port_addr_index(const struct port *p, rte_be32_t ip)
{
	for (uint16_t i = 0; i < p->conf.nb_addrs; i++)
		if (p->conf.addrs[i].ip == ip)
			return i;
	return -1;
}

/* Is 'ip' on one of the port's subnets? Returns the address index or -1. */
int port_onlink_index(const struct port *p, rte_be32_t ip);

/* Next hop for 'dst': dst itself when on-link, else the gateway, else 0
 * (no route). */
rte_be32_t port_next_hop(const struct port *p, rte_be32_t dst);

/* Parse "a.b.c.d" or "a.b.c.d/len" into network order. Returns 0 or
 * -EINVAL. 'prefix' may be NULL when no prefix is allowed; when the text has
 * no prefix, *prefix is set to 32. */
int port_parse_ipv4(const char *text, rte_be32_t *ip, uint8_t *prefix);

/* Format a network-order address into buf (at least 16 bytes). */
const char *port_format_ipv4(rte_be32_t ip, char *buf, size_t len);

#endif
