/* Port helpers: addressing, routing, and the ethdev ops. */
#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "port.h"

static uint16_t
ethdev_rx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(p->ethdev_id, queue, pkts, n);
}

static uint16_t
ethdev_tx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(p->ethdev_id, queue, pkts, n);
}

const struct port_ops port_ethdev_ops = {
	.rx_burst = ethdev_rx,
	.tx_burst = ethdev_tx,
};

static inline rte_be32_t
prefix_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - prefix));
}

int
port_onlink_index(const struct port *p, rte_be32_t ip)
{
	for (uint16_t i = 0; i < p->conf.nb_addrs; i++) {
		rte_be32_t mask = prefix_mask(p->conf.addrs[i].prefix);

		if ((p->conf.addrs[i].ip & mask) == (ip & mask))
			return i;
	}
	return -1;
}

rte_be32_t
port_next_hop(const struct port *p, rte_be32_t dst)
{
	if (port_onlink_index(p, dst) >= 0)
		return dst;
	return p->conf.gateway;
}

int
port_parse_ipv4(const char *text, rte_be32_t *ip, uint8_t *prefix)
{
	char buf[32];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	if (slash != NULL) {
		char *end;
		unsigned long v;

		if (prefix == NULL || slash[1] == '\0')
			return -EINVAL;
		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v > 32)
			return -EINVAL;
		*prefix = (uint8_t)v;
	} else if (prefix != NULL) {
		*prefix = 32;
	}
	*ip = a.s_addr;
	return 0;
}

const char *
port_format_ipv4(rte_be32_t ip, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = ip };

	if (inet_ntop(AF_INET, &a, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

void
port_mem_link_finish_cksums(const struct rte_mbuf *m, uint8_t *frame,
			    uint32_t caplen)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ih;
	uint32_t l2 = sizeof(*eh), hl, tot;
	uint16_t type;

	if (!(m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)) ||
	    caplen < l2 + sizeof(*ih))
		return;
	type = eh->ether_type;
	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		l2 += sizeof(struct rte_vlan_hdr);
		if (caplen < l2 + sizeof(*ih))
			return;
		type = ((struct rte_vlan_hdr *)(eh + 1))->eth_proto;
	}
	if (type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return;
	ih = (struct rte_ipv4_hdr *)(frame + l2);
	hl = (uint32_t)(ih->version_ihl & 0xf) * 4;
	tot = rte_be_to_cpu_16(ih->total_length);
	/* Our own frames, but a capture may have cut them: a sum over part
	 * of a packet would be wrong, so leave those as they are. */
	if (hl < sizeof(*ih) || tot < hl || caplen < l2 + tot)
		return;
	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		ih->hdr_checksum = 0;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM &&
	    ih->next_proto_id == IPPROTO_TCP && tot >= hl + sizeof(struct rte_tcp_hdr)) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ih + hl);

		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	}
}
