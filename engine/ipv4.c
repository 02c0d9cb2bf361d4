/*
 * IPv4 input validation and output (RFC 791, RFC 1122 host requirements),
 * and the ICMP echo responder (RFC 792).
 *
 * Every check a hostile frame could fail has its own counter. Fragments and
 * packets with IP options are dropped and counted: the engine's own peers
 * never send them, and reassembly would be a memory attack surface.
 */
#include <errno.h>
#include <string.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "engine.h"
#include "net.h"

#define ICMP_DEST_UNREACH_TYPE 3

static inline bool
ipv4_is_martian_source(rte_be32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);

	return a == 0 || a == UINT32_MAX || (a >> 28) == 0xe ||	/* multicast */
	       (a >> 24) == 127;
}

void
ipv4_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih;
	uint32_t frame_len = rte_pktmbuf_pkt_len(m);
	uint16_t hlen, total;

	STAT_INC(s, ip_rx);
	if (frame_len < sizeof(*ih) || rte_pktmbuf_data_len(m) < sizeof(*ih)) {
		STAT_INC(s, ip_drop_short);
		goto drop;
	}
	ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if ((ih->version_ihl >> 4) != 4) {
		STAT_INC(s, ip_drop_version);
		goto drop;
	}
	hlen = (ih->version_ihl & 0xf) * 4;
	if (hlen < sizeof(*ih) || hlen > rte_pktmbuf_data_len(m)) {
		STAT_INC(s, ip_drop_ihl);
		goto drop;
	}
	if (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_BAD) {
		STAT_INC(s, ip_drop_bad_checksum);
		goto drop;
	}
	if (!(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD) &&
	    rte_raw_cksum(ih, hlen) != 0xffff) {
		STAT_INC(s, ip_drop_bad_checksum);
		goto drop;
	}
	total = rte_be_to_cpu_16(ih->total_length);
	if (total < hlen || total > frame_len) {
		STAT_INC(s, ip_drop_total_length);
		goto drop;
	}
	if (ih->time_to_live == 0) {
		STAT_INC(s, ip_drop_ttl);
		goto drop;
	}
	if (ih->fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		STAT_INC(s, ip_drop_fragment);
		goto drop;
	}
	if (hlen != sizeof(*ih)) {
		STAT_INC(s, ip_drop_options);
		goto drop;
	}
	if (ipv4_is_martian_source(ih->src_addr)) {
		STAT_INC(s, ip_drop_bad_source);
		goto drop;
	}
	if (port_addr_index(sp->port, ih->dst_addr) < 0) {
		STAT_INC(s, ip_drop_not_for_us);
		goto drop;
	}
	/* Ethernet pads short frames to 60 bytes: drop the padding so upper
	 * layers see exactly the datagram. */
	if (total < frame_len)
		rte_pktmbuf_trim(m, frame_len - total);
	/* The header is sizeof(*ih) bytes (options were dropped above), so
	 * the layers above need no m->l3_len: see eth_input() for why the
	 * mbuf's second cache line is left alone on receive. */

	switch (ih->next_proto_id) {
	case IPPROTO_ICMP:
		engine_l4_flush(s);
		icmp_input(s, sp, m);
		return;
	default:
		if (s->eng->conf.l4_input != NULL &&
		    ih->next_proto_id == IPPROTO_TCP) {
			s->eng->conf.l4_input(s, sp, m, ih->next_proto_id);
			return;
		}
		STAT_INC(s, ip_drop_unknown_proto);
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
}

static void
ipv4_fill_header(struct rte_ipv4_hdr *ih, uint16_t total, rte_be32_t src,
		 rte_be32_t dst, uint8_t proto)
{
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->type_of_service = 0;
	ih->total_length = rte_cpu_to_be_16(total);
	/* Atomic datagrams (DF, no fragments) may carry any ID (RFC 6864);
	 * a constant keeps output byte-for-byte repeatable. */
	ih->packet_id = 0;
	ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ih->time_to_live = WSKDP_IP_TTL;
	ih->next_proto_id = proto;
	ih->hdr_checksum = 0;
	ih->src_addr = src;
	ih->dst_addr = dst;
}

void
ipv4_output(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	    rte_be32_t src, rte_be32_t dst, uint8_t proto)
{
	const struct port *p = sp->port;
	struct rte_ipv4_hdr *ih;
	rte_be32_t next_hop = port_next_hop(p, dst);

	if (unlikely(next_hop == 0)) {
		STAT_INC(s, tx_drop_no_route);
		rte_pktmbuf_free(m);
		return;
	}
	ih = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ih));
	if (unlikely(ih == NULL)) {
		STAT_INC(s, tx_drop_no_mbuf);
		rte_pktmbuf_free(m);
		return;
	}
	ipv4_fill_header(ih, rte_pktmbuf_pkt_len(m), src, dst, proto);
	m->l3_len = sizeof(*ih);
	m->l2_len = RTE_ETHER_HDR_LEN + (p->conf.vlan_id ? 4 : 0);

	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);

		if (p->tx_tcp_cksum) {
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
			th->cksum = rte_ipv4_phdr_cksum(ih, m->ol_flags);
		} else {
			th->cksum = 0;
			th->cksum = net_ipv4_tcp_cksum(m, ih, sizeof(*ih));
		}
	}
	if (p->tx_ip_cksum)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	eth_output_ipv4(s, sp, m, next_hop);
}

void
icmp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t hlen = sizeof(*ih);
	uint32_t len = rte_pktmbuf_pkt_len(m) - hlen;
	struct rte_icmp_hdr *ic;
	uint16_t raw;
	uint32_t sum;
	rte_be32_t peer;

	STAT_INC(s, icmp_rx);
	if (len < sizeof(*ic) || rte_pktmbuf_data_len(m) < hlen + sizeof(*ic)) {
		STAT_INC(s, icmp_drop_short);
		goto drop;
	}
	ic = (struct rte_icmp_hdr *)((uint8_t *)ih + hlen);
	if (net_cksum_mbuf(m, hlen, len, &raw) != 0 || raw != 0xffff) {
		STAT_INC(s, icmp_drop_bad_checksum);
		goto drop;
	}
	if (ic->icmp_type == ICMP_DEST_UNREACH_TYPE) {
		/* Reported to TCP once it cares (TCP_FAIL_CONNECT_ON_ICMP_ERROR);
		 * counted now so users see them. */
		STAT_INC(s, icmp_dest_unreach_rx);
		goto drop;
	}
	if (ic->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
		STAT_INC(s, icmp_echo_replies_rx);
		goto drop;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		STAT_INC(s, icmp_drop_unhandled);
		goto drop;
	}
	/* Answer in place: type 8 -> 0 changes the checksum by a constant
	 * (RFC 1624 incremental update), the payload is echoed untouched. */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	sum = (uint16_t)~ic->icmp_cksum + (uint16_t)~rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REQUEST << 8) +
	      rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REPLY << 8);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ic->icmp_cksum = (uint16_t)~sum;

	peer = ih->src_addr;
	ipv4_fill_header(ih, rte_pktmbuf_pkt_len(m), ih->dst_addr, peer,
			 IPPROTO_ICMP);
	if (sp->port->tx_ip_cksum) {
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		/* Receive left both lengths unset (see eth_input()). */
		m->l2_len = RTE_ETHER_HDR_LEN + (sp->port->conf.vlan_id ? 4 : 0);
		m->l3_len = hlen;
	} else {
		m->ol_flags = 0;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
	STAT_INC(s, icmp_echo_replies);
	/* Route the reply like any other packet: the kernel would too, and it
	 * keeps one ARP-driven path for every packet we originate. */
	{
		rte_be32_t nh = port_next_hop(sp->port, peer);

		if (nh == 0) {
			STAT_INC(s, tx_drop_no_route);
			goto drop;
		}
		eth_output_ipv4(s, sp, m, nh);
	}
	return;
drop:
	rte_pktmbuf_free(m);
}

int
icmp_send_echo(struct shard *s, struct shard_port *sp, rte_be32_t dst,
	       uint16_t id, uint16_t seq, const void *payload, uint16_t len)
{
	struct rte_mbuf *m = shard_alloc(s);
	struct rte_icmp_hdr *ic;

	if (m == NULL)
		return -ENOMEM;
	ic = (struct rte_icmp_hdr *)rte_pktmbuf_append(m, sizeof(*ic) + len);
	if (ic == NULL) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	ic->icmp_ident = rte_cpu_to_be_16(id);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	memcpy(ic + 1, payload, len);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + len);
	STAT_INC(s, icmp_echo_requests_sent);
	ipv4_output(s, sp, m, sp->port->conf.addrs[0].ip, dst, IPPROTO_ICMP);
	return 0;
}
