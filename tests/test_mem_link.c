/*
 * The in-memory link (port_conf.mem_link): two engines over a real
 * net_ring pair leave checksums to "offload" and trust each other's
 * flagged frames, yet still check every frame that lacks the flag, and a
 * capture's copy gets its checksums filled in.
 */
#include <check.h>
#include <string.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "port.h"
#include "shard.h"
#include "tcp_pair.h"
#include "test_eal.h"

/* One ring pair for the whole process: net_ring ports cannot be made
 * twice under one name, and each test reconfigures them anyway. */
static struct rte_ring *ab, *ba;	/* a's tx = b's rx, and back */
static uint16_t port_a, port_b;

/* What the tap on a's transmit side saw. */
static struct {
	unsigned tcp_frames;		/* TCP frames a sent */
	unsigned sums_complete;		/* ... whose sums were already right */
	unsigned flagged;		/* ... carrying the offload flags */
	bool inject_bad_syn;		/* put a corrupt unflagged SYN first */
	unsigned injected;
} tap;

static struct rte_tcp_hdr *
tcp_of(struct rte_mbuf *m, struct rte_ipv4_hdr **ihp)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);

	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ih->next_proto_id != IPPROTO_TCP)
		return NULL;
	*ihp = ih;
	return (struct rte_tcp_hdr *)(ih + 1);
}

static uint16_t
tap_tx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
       void *arg)
{
	(void)port;
	(void)queue;
	(void)arg;
	for (uint16_t i = 0; i < n; i++) {
		static uint8_t flat[UINT16_MAX + RTE_ETHER_HDR_LEN];
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		const uint8_t *d;
		struct rte_ipv4_hdr *ih;
		struct rte_tcp_hdr *th;
		struct rte_mbuf *bad;

		ck_assert_uint_le(len, sizeof(flat));
		d = rte_pktmbuf_read(pkts[i], 0, len, flat);
		if (d != flat)
			memcpy(flat, d, len);
		if (tcp_of(pkts[i], &ih) == NULL)
			continue;
		tap.tcp_frames++;
		ih = (struct rte_ipv4_hdr *)(flat + RTE_ETHER_HDR_LEN);
		th = (struct rte_tcp_hdr *)(ih + 1);
		if (rte_ipv4_cksum(ih) == 0 && rte_ipv4_udptcp_cksum_verify(ih, th) == 0)
			tap.sums_complete++;
		if ((pkts[i]->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM &&
		    (pkts[i]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM))
			tap.flagged++;
		if (!tap.inject_bad_syn || !(th->tcp_flags & RTE_TCP_SYN_FLAG))
			continue;
		/* A frame from "elsewhere": no flags, and a sum that is wrong
		 * whatever the receiver trusts. It goes ahead of the real SYN. */
		tap.inject_bad_syn = false;
		port_mem_link_finish_cksums(pkts[i], flat, len);
		th->cksum ^= 0x1234;
		bad = rte_pktmbuf_alloc(pkts[i]->pool);
		ck_assert_ptr_nonnull(bad);
		memcpy(rte_pktmbuf_append(bad, (uint16_t)len), flat, len);
		ck_assert_int_eq(rte_ring_enqueue(ab, bad), 0);
		tap.injected++;
	}
	return n;
}

static struct engine *
ring_engine(const char *name, uint16_t port, const char *cidr, uint8_t mac_last,
	    bool mem_link, uint16_t mtu)
{
	struct engine_conf ec;
	struct port_conf pc;
	struct engine *e;

	engine_conf_init(&ec, name);
	ec.gratuitous_arp = false;
	ec.clock_mode = ENGINE_CLOCK_VIRTUAL;
	memset(&pc, 0, sizeof(pc));
	pc.nb_addrs = 1;
	ck_assert_int_eq(port_parse_ipv4(cidr, &pc.addrs[0].ip, &pc.addrs[0].prefix), 0);
	pc.mac_set = true;
	pc.mac = (struct rte_ether_addr){{ 0x02, 0, 0, 0, 0, mac_last }};
	pc.mem_link = mem_link;
	pc.mtu = mtu;
	e = engine_create(&ec);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_ge(engine_add_ethdev_port(e, port, &pc), 0);
	ck_assert_int_eq(engine_start(e), 0);
	return e;
}

static void
setup_link_mtu(bool mem_link, uint16_t mtu)
{
	static const struct rte_eth_rxtx_callback *cb;

	test_eal_init();
	if (ab == NULL) {
		ab = rte_ring_create("ml_ab", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		ba = rte_ring_create("ml_ba", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		ck_assert_ptr_nonnull(ab);
		ck_assert_ptr_nonnull(ba);
		ck_assert_int_ge(port_a = (uint16_t)rte_eth_from_rings("ml_a", &ba, 1, &ab, 1, SOCKET_ID_ANY), 0);
		ck_assert_int_ge(port_b = (uint16_t)rte_eth_from_rings("ml_b", &ab, 1, &ba, 1, SOCKET_ID_ANY), 0);
	}
	tcp_conf_init(&conf);
	conf.seed = 42;
	memset(&tap, 0, sizeof(tap));
	cli = ring_engine("mla", port_a, CLIENT_IP "/24", 1, mem_link, mtu);
	srv = ring_engine("mlb", port_b, SERVER_IP "/24", 2, mem_link, mtu);
	cs = cli->shards[0];
	ss = srv->shards[0];
	if (cb == NULL)
		cb = rte_eth_add_tx_callback(port_a, 0, tap_tx, NULL);
	ck_assert_ptr_nonnull(cb);
	enable_tcp(cli);
	enable_tcp(srv);
}

static void
setup_link(bool mem_link)
{
	setup_link_mtu(mem_link, 0);
}

/* tcp_pair's teardown, with the rings drained instead of fake ports. */
static void
teardown_link(void)
{
	struct rte_mbuf *m;

	for (int i = 0; i < 70; i++)
		advance(1000000);
	ck_assert_uint_eq(tcp_shard_conns_in_use(cs), 0);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 0);
	tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	shard_tx_flush(cs);
	shard_tx_flush(ss);
	while (rte_ring_dequeue(ab, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(ba, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	ck_assert_uint_eq(rte_mempool_in_use_count(cs->pool), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(ss->pool), 0);
	engine_destroy(cli);
	engine_destroy(srv);
	cli = srv = NULL;
}

static void
run_transfer(void)
{
	open_pair();
	transfer(tcli.c, tsrv.c, 1u << 20, 7, 20000);
	transfer(tsrv.c, tcli.c, 256u << 10, 9, 20000);
	close_pair();
}

START_TEST(flagged_frames_skip_the_sums_and_arrive)
{
	setup_link(true);
	run_transfer();
	ck_assert_uint_gt(tap.tcp_frames, 100);
	/* Every frame left its sums undone and said so, and none was lost
	 * to a checksum failure on either side. */
	ck_assert_uint_eq(tap.flagged, tap.tcp_frames);
	ck_assert_uint_eq(tap.sums_complete, 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_drop_bad_checksum"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_bad_checksum"), 0);
	ck_assert_uint_eq(pair_stat(srv, "ip_drop_bad_checksum"), 0);
	teardown_link();
}
END_TEST

START_TEST(without_mem_link_every_sum_is_computed)
{
	setup_link(false);
	run_transfer();
	ck_assert_uint_gt(tap.tcp_frames, 100);
	ck_assert_uint_eq(tap.flagged, 0);
	ck_assert_uint_eq(tap.sums_complete, tap.tcp_frames);
	teardown_link();
}
END_TEST

START_TEST(unflagged_frame_is_still_checked)
{
	setup_link(true);
	tap.inject_bad_syn = true;
	open_pair();
	ck_assert_uint_eq(tap.injected, 1);
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_bad_checksum"), 1);
	close_pair();
	teardown_link();
}
END_TEST

/* The in-memory link carries what IPv4 can, as Linux's loopback does:
 * 64 KiB segments (a header mbuf and a chain of clones) arrive whole and
 * in order. */
START_TEST(loopback_sized_mtu_carries_every_byte)
{
	uint64_t segs;

	setup_link_mtu(true, 65535);
	run_transfer();
	/* 1 MiB + 256 KiB of data in segments of up to 65,483 bytes. */
	segs = pair_stat(cli, "tcp_tx_segments") + pair_stat(srv, "tcp_tx_segments");
	ck_assert_uint_lt(segs, 200);
	ck_assert_uint_eq(tap.flagged, tap.tcp_frames);
	teardown_link();
}
END_TEST

/* A capture's copy of a flagged frame reads like the wire; a copy cut
 * short is left alone rather than given a sum over part of a packet. */
START_TEST(capture_copy_gets_its_sums)
{
	uint8_t frame[RTE_ETHER_HDR_LEN + 20 + 20 + 5];
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ih + 1);
	struct rte_mbuf m;
	uint8_t cut[sizeof(frame)];

	memset(frame, 0, sizeof(frame));
	memset(&m, 0, sizeof(m));
	((struct rte_ether_hdr *)frame)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ih->version_ihl = 0x45;
	ih->total_length = rte_cpu_to_be_16(45);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_TCP;
	ih->src_addr = ip(CLIENT_IP);
	ih->dst_addr = ip(SERVER_IP);
	th->data_off = 5 << 4;
	memcpy(th + 1, "hello", 5);
	m.ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	th->cksum = rte_ipv4_phdr_cksum(ih, m.ol_flags);
	memcpy(cut, frame, sizeof(frame));

	port_mem_link_finish_cksums(&m, frame, sizeof(frame));
	ck_assert_uint_eq(rte_ipv4_cksum(ih), 0);
	ck_assert_int_eq(rte_ipv4_udptcp_cksum_verify(ih, th), 0);

	port_mem_link_finish_cksums(&m, cut, sizeof(cut) - 1);
	ck_assert_int_eq(memcmp(cut + RTE_ETHER_HDR_LEN + 20,
				frame + RTE_ETHER_HDR_LEN + 20, 16), 0);
	ck_assert_uint_ne(((struct rte_tcp_hdr *)(cut + RTE_ETHER_HDR_LEN + 20))->cksum,
			  th->cksum);
}
END_TEST

/* The shard's mbufs sit on a stack: an mbuf given back to the pool's
 * common store, as another lcore's free does once its cache is full, is
 * the next one taken from it, still in cache, and not the one freed
 * longest ago as a ring would give. */
START_TEST(shard_pool_gives_back_the_last_freed_mbuf_first)
{
	void *taken[4], *again;

	setup_link(true);
	ck_assert_str_eq(rte_mempool_get_ops(cs->pool->ops_index)->name, "stack");
	ck_assert_int_eq(rte_mempool_generic_get(cs->pool, taken, 4, NULL), 0);
	rte_mempool_generic_put(cs->pool, taken, 4, NULL);
	ck_assert_int_eq(rte_mempool_generic_get(cs->pool, &again, 1, NULL), 0);
	ck_assert_ptr_eq(again, taken[3]);
	rte_mempool_generic_put(cs->pool, &again, 1, NULL);
	teardown_link();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mem_link");
	TCase *t = tcase_create("mem_link");
	SRunner *r;
	int failed;

	tcase_add_test(t, flagged_frames_skip_the_sums_and_arrive);
	tcase_add_test(t, without_mem_link_every_sum_is_computed);
	tcase_add_test(t, unflagged_frame_is_still_checked);
	tcase_add_test(t, capture_copy_gets_its_sums);
	tcase_add_test(t, loopback_sized_mtu_carries_every_byte);
	tcase_add_test(t, shard_pool_gives_back_the_last_freed_mbuf_first);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_set_fork_status(r, CK_NOFORK);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
