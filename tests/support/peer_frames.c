#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "peer_frames.h"
#include "tcp_pair.h"

const struct rte_ether_addr srv_mac = {{ 0x02, 0, 0, 0, 0, 0x02 }};
const struct rte_ether_addr peer_mac = {{ 0x02, 0, 0, 0, 0, 0x99 }};
const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
const struct rte_ether_addr zero_mac;
uint8_t fbuf[FRAME_MAX];

unsigned
frame_tcp(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq,
	  uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opt,
	  unsigned olen, const void *payload, unsigned plen)
{
	struct rte_ether_hdr *eh = (void *)buf;
	struct rte_ipv4_hdr *ih = (void *)(eh + 1);
	struct rte_tcp_hdr *th = (void *)(ih + 1);
	unsigned thl = 20 + olen;

	memset(buf, 0, 14 + 20 + thl);
	eh->dst_addr = srv_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = htons((uint16_t)(20 + thl + plen));
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_TCP;
	ih->src_addr = ip(PEER_IP);
	ih->dst_addr = ip(SERVER_IP);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	th->src_port = htons(sport);
	th->dst_port = htons(dport);
	th->sent_seq = htonl(seq);
	th->recv_ack = htonl(ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = htons(win);
	if (olen > 0)
		memcpy(th + 1, opt, olen);
	if (plen > 0)
		memcpy((uint8_t *)th + thl, payload, plen);
	th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	return 14 + 20 + thl + plen;
}

void
inject(unsigned len)
{
	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf, len), 0);
	test_engine_poll(srv, 1);
}

void
learn_peer(void)
{
	struct rte_mbuf *m;

	inject(frame_arp(fbuf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, SERVER_IP));
	m = fake_port_pop_tx(&fps);
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
}
