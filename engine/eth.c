/* Ethernet and 802.1Q: the first and last hop of every frame. */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "engine.h"
#include "net.h"

struct vlan_frame {
	struct rte_ether_hdr eth;
	struct rte_vlan_hdr vlan;
} __rte_packed __rte_aligned(2);

void
eth_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m)
{
	const struct port *p = sp->port;
	struct rte_ether_hdr *eh;
	uint16_t type, hlen = RTE_ETHER_HDR_LEN;

	if (rte_pktmbuf_pkt_len(m) < RTE_ETHER_HDR_LEN) {
		STAT_INC(s, eth_drop_short);
		goto drop;
	}
	/* Headers are parsed in place; every PMD we know puts at least the
	 * first 64 bytes in the first segment, so a frame that does not is
	 * hostile or broken, not worth a copy. */
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
		STAT_INC(s, eth_drop_fragmented_hdr);
		goto drop;
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	/* af_packet and tap ports see everything on the wire: filter here. */
	if (!rte_is_same_ether_addr(&eh->dst_addr, &p->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		STAT_INC(s, eth_drop_not_for_us);
		goto drop;
	}
	type = rte_be_to_cpu_16(eh->ether_type);
	if (type == RTE_ETHER_TYPE_VLAN) {
		const struct rte_vlan_hdr *vh;

		if (rte_pktmbuf_data_len(m) < sizeof(struct vlan_frame)) {
			STAT_INC(s, eth_drop_short);
			goto drop;
		}
		vh = (const struct rte_vlan_hdr *)(eh + 1);
		if ((rte_be_to_cpu_16(vh->vlan_tci) & 0xfff) != p->conf.vlan_id ||
		    p->conf.vlan_id == 0) {
			STAT_INC(s, eth_drop_vlan);
			goto drop;
		}
		type = rte_be_to_cpu_16(vh->eth_proto);
		hlen += sizeof(*vh);
	} else if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		if ((m->vlan_tci & 0xfff) != p->conf.vlan_id) {
			STAT_INC(s, eth_drop_vlan);
			goto drop;
		}
	} else if (p->conf.vlan_id != 0) {
		STAT_INC(s, eth_drop_vlan);
		goto drop;
	}

	/* m->l2_len is not set: nothing above reads it, and writing the
	 * mbuf's second cache line on receive would pull it dirty across
	 * cores on a mem_link, where the sender's next allocation of the
	 * mbuf writes that line again. */
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		rte_pktmbuf_adj(m, hlen);
		ipv4_input(s, sp, m);
		return;
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, hlen);
		engine_l4_flush(s);
		arp_input(s, sp, m);
		return;
	default:
		STAT_INC(s, eth_drop_unknown_type);
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
}

void
eth_output_to(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	      const struct rte_ether_addr *dst, uint16_t ether_type)
{
	const struct port *p = sp->port;
	uint16_t vlan = p->conf.vlan_id;
	uint16_t hlen = vlan ? sizeof(struct vlan_frame) : RTE_ETHER_HDR_LEN;
	struct rte_ether_hdr *eh;

	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, hlen);
	if (unlikely(eh == NULL)) {
		/* Every engine-built packet reserves NET_L4_HEADROOM; a
		 * received mbuf reused for a reply has the header it came
		 * with. Running out means a bug upstream: drop, count. */
		STAT_INC(s, tx_drop_no_mbuf);
		rte_pktmbuf_free(m);
		return;
	}
	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&p->mac, &eh->src_addr);
	if (vlan) {
		struct vlan_frame *vf = (struct vlan_frame *)eh;

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vf->vlan.vlan_tci = rte_cpu_to_be_16(vlan);
		vf->vlan.eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(ether_type);
	}
	m->l2_len = hlen;
	shard_tx(s, sp, m);
}

void
eth_output_ipv4(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
		rte_be32_t next_hop)
{
	struct rte_ether_addr dst;

	if (arp_resolve(s, sp, next_hop, m, &dst) != 0)
		return;
	eth_output_to(s, sp, m, &dst, RTE_ETHER_TYPE_IPV4);
}
