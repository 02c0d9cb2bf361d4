/*
 * Ethernet, ARP, IPv4 and ICMP on a fake port and the virtual clock: each
 * test injects frames built independently (support/frames.c), checks what
 * the engine sent and which counter moved, and the teardown proves that no
 * mbuf leaked.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "cksum.h"
#include "engine.h"
#include "fake_port.h"
#include "frames.h"
#include "net.h"
#include "test_eal.h"
#include "test_rand.h"

#define OUR_IP "10.1.0.1"
#define PEER_IP "10.1.0.2"

static struct fake_port fp;
static struct engine *eng;
static const struct rte_ether_addr our_mac = {{ 0x02, 0, 0, 0, 0, 0x01 }};
static const struct rte_ether_addr peer_mac = {{ 0x02, 0, 0, 0, 0, 0x99 }};
static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
static const struct rte_ether_addr zero_mac;
static uint8_t buf[FRAME_MAX];

static void
setup(void)
{
	test_eal_init();
	fake_port_init(&fp);
	eng = test_engine_create("net", &fp, OUR_IP "/24", "10.1.0.254", 0x01,
				 NULL);
	ck_assert_ptr_nonnull(eng);
}

/* Leak check: once the tests' frames are freed and the tx batch flushed,
 * every mbuf must be back in the pool. Runs in every teardown, so a test
 * cannot forget it; tests that park frames in an ARP queue must let them
 * expire first. */
static void
assert_no_leak(void)
{
	fake_port_drain(&fp);
	shard_tx_flush(eng->shards[0]);
	fake_port_drain(&fp);
	ck_assert_uint_eq(rte_mempool_in_use_count(eng->shards[0]->pool), 0);
}

static void
teardown(void)
{
	assert_no_leak();
	engine_destroy(eng);
}

static uint64_t
stat(const char *name)
{
	int i = shard_stat_index(name);

	ck_assert_int_ge(i, 0);
	return engine_stat(eng, (enum shard_stat)i);
}

static void
inject(const uint8_t *frame, unsigned len)
{
	ck_assert_int_eq(fake_port_inject_bytes(&fp, eng->shards[0]->pool,
						frame, len), 0);
	test_engine_poll(eng, 1);
}

/* Teach the engine the peer's MAC with an ARP request for our address. */
static void
learn_peer(void)
{
	struct rte_mbuf *m;

	inject(buf, frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP));
	m = fake_port_pop_tx(&fp);
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
}

START_TEST(test_arp_request_for_our_address_gets_a_unicast_reply)
{
	uint8_t expect[FRAME_MAX];
	unsigned n = frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	unsigned en = frame_arp(expect, 2, &peer_mac, &our_mac, OUR_IP, &peer_mac, PEER_IP);
	struct rte_mbuf *m;

	inject(buf, n);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	m = fake_port_pop_tx(&fp);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), en);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, void *), expect, en);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(stat("arp_replies_sent"), 1);
	ck_assert_uint_eq(arp_table_resolved(&eng->shards[0]->ports[0].arp), 1);
}
END_TEST

START_TEST(test_arp_request_for_another_address_is_not_answered)
{
	inject(buf, frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, "10.1.0.77"));
	ck_assert_uint_eq(fake_port_tx_count(&fp), 0);
	ck_assert_uint_eq(stat("arp_drop_not_for_us"), 1);
	/* RFC 826: not the target, no entry yet: nothing learned. */
	ck_assert_uint_eq(arp_table_resolved(&eng->shards[0]->ports[0].arp), 0);
}
END_TEST

START_TEST(test_arp_with_bad_hardware_length_is_dropped_as_malformed)
{
	unsigned n = frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP);

	buf[14 + 4] = 8;
	inject(buf, n);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 0);
	ck_assert_uint_eq(stat("arp_drop_malformed"), 1);
}
END_TEST

START_TEST(test_truncated_arp_is_dropped_as_malformed)
{
	unsigned n = frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP);

	inject(buf, n - 10);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 0);
	ck_assert_uint_eq(stat("arp_drop_malformed"), 1);
}
END_TEST

START_TEST(test_arp_claiming_our_address_is_dropped)
{
	inject(buf, frame_arp(buf, 2, &our_mac, &peer_mac, OUR_IP, &our_mac, OUR_IP));
	ck_assert_uint_eq(stat("arp_drop_bad_sender"), 1);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 0);
}
END_TEST

START_TEST(test_ping_gets_an_echo_reply_with_the_same_payload)
{
	const char payload[] = "wskdp echo payload 0123456789";
	uint8_t expect[FRAME_MAX];
	unsigned n, en;
	struct rte_mbuf *m;

	learn_peer();
	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 0x77,
			    3, payload, sizeof(payload));
	inject(buf, n);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	m = fake_port_pop_tx(&fp);
	en = frame_icmp_echo(expect, &peer_mac, &our_mac, OUR_IP, PEER_IP, 0,
			     0x77, 3, payload, sizeof(payload));
	/* The engine sends ID 0 (RFC 6864 atomic datagram). */
	expect[14 + 4] = expect[14 + 5] = 0;
	frame_fix_ip_checksum(expect);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), en);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, void *), expect, en);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(stat("icmp_echo_replies"), 1);
}
END_TEST

/* Receive leaves an mbuf's header lengths as the driver gave them (the
 * engine reads none of them); a reply whose IP checksum a NIC computes
 * must say where the headers are. The request arrives with stale
 * lengths, as a recycled receive mbuf may. */
START_TEST(test_offloaded_echo_reply_states_its_header_lengths)
{
	const char payload[] = "offload";
	struct rte_mbuf *m;
	unsigned n;

	learn_peer();
	eng->ports[0].tx_ip_cksum = true;
	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 0x78,
			    4, payload, sizeof(payload));
	ck_assert_int_eq(fake_port_inject_stale(&fp, eng->shards[0]->pool, buf,
						n, 3, 77), 0);
	test_engine_poll(eng, 1);
	m = fake_port_pop_tx(&fp);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	ck_assert_uint_eq(m->l2_len, RTE_ETHER_HDR_LEN);
	ck_assert_uint_eq(m->l3_len, sizeof(struct rte_ipv4_hdr));
	ck_assert_uint_eq(rte_pktmbuf_mtod_offset(m, const uint8_t *, 14 + 20)[0],
			  0 /* echo reply */);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(stat("icmp_echo_replies"), 1);
}
END_TEST

/* The poll clock's multiply stands for ticks * 10^6 / hz: never ahead of
 * it and at most a microsecond behind, over a day of ticks, for TSC rates
 * round and odd. */
START_TEST(test_tsc_to_us_matches_the_division_to_the_microsecond)
{
	static const uint64_t rates[] = { 1000000000ull, 2500000000ull,
		2899999999ull, 3700000001ull, 1000001ull };
	__extension__ typedef unsigned __int128 u128;
	uint64_t seed = 0x7ac0c1;

	for (unsigned i = 0; i < RTE_DIM(rates); i++) {
		uint64_t f = engine_tsc_us_factor(rates[i]);

		for (unsigned k = 0; k < 10000; k++) {
			uint64_t ticks = k == 0 ? rates[i] * 86400 :
				test_splitmix64(&seed) % (rates[i] * 86400);
			uint64_t exact = (uint64_t)((u128)ticks * 1000000 / rates[i]);
			uint64_t got = engine_tsc_to_us(ticks, f);

			ck_assert_uint_le(got, exact);
			ck_assert_uint_ge(got + 1, exact);
		}
	}
}
END_TEST

/* Replies leave in the pass that made them, even when the receive burst
 * was full and more input waits: holding them for a fuller batch would
 * make the peer wait for our next pass as well. */
START_TEST(test_replies_leave_in_the_pass_of_a_full_receive_burst)
{
	const char payload[] = "burst";
	unsigned n;

	learn_peer();
	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 0x79,
			    1, payload, sizeof(payload));
	for (unsigned i = 0; i < WSKDP_BURST + 8; i++)
		ck_assert_int_eq(fake_port_inject_bytes(&fp, eng->shards[0]->pool,
							buf, n), 0);
	test_engine_poll(eng, 1);
	ck_assert_uint_eq(fake_port_tx_count(&fp), WSKDP_BURST);
	test_engine_poll(eng, 1);
	ck_assert_uint_eq(fake_port_tx_count(&fp), WSKDP_BURST + 8);
	ck_assert_uint_eq(stat("icmp_echo_replies"), WSKDP_BURST + 8);
}
END_TEST

/* What the application queued between passes goes out when the next pass
 * starts, before that pass reads (and spends time on) its input. */
START_TEST(test_frames_queued_between_passes_leave_before_input_is_read)
{
	struct shard *s = eng->shards[0];
	unsigned captured;

	learn_peer();
	captured = fp.tx_tail;
	ck_assert_int_eq(icmp_send_echo(s, &s->ports[0], inet_addr(PEER_IP), 7,
					1, "q", 1), 0);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 0);
	test_engine_poll(eng, 1);
	ck_assert_uint_eq(fp.tx_tail_at_rx, captured + 1);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
}
END_TEST

START_TEST(test_ethernet_padding_is_not_echoed)
{
	unsigned n;
	struct rte_mbuf *m;

	learn_peer();
	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 1, 1, "", 0);
	memset(buf + n, 0xee, 60 - n);
	inject(buf, 60);
	m = fake_port_pop_tx(&fp);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), n);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_ping_from_unknown_peer_waits_for_arp_then_is_answered)
{
	unsigned n;
	struct rte_mbuf *m;
	const uint8_t *f;

	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 1, 1, "x", 1);
	inject(buf, n);
	/* The reply waits; an ARP request asks for the peer. */
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	m = fake_port_pop_tx(&fp);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	ck_assert_mem_eq(f, bcast.addr_bytes, 6);
	ck_assert_uint_eq(f[12], 0x08);
	ck_assert_uint_eq(f[13], 0x06);
	ck_assert_uint_eq(f[14 + 7], 1);
	rte_pktmbuf_free(m);
	inject(buf, frame_arp(buf, 2, &our_mac, &peer_mac, PEER_IP, &our_mac, OUR_IP));
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	m = fake_port_pop_tx(&fp);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	ck_assert_mem_eq(f, peer_mac.addr_bytes, 6);
	ck_assert_uint_eq(f[14 + 20], 0);	/* echo reply */
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(stat("arp_resolved"), 1);
}
END_TEST

START_TEST(test_unanswered_arp_retries_then_drops_the_waiting_packets)
{
	unsigned n;
	struct rte_mbuf *m;

	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 1, 1, "x", 1);
	inject(buf, n);
	inject(buf, n);
	ck_assert_uint_eq(stat("arp_requests_sent"), 1);
	/* Retries come once a second, never earlier. */
	test_engine_advance(eng, WSKDP_ARP_RETRY_US - 1);
	test_engine_advance(eng, WSKDP_HOUSEKEEPING_US);
	ck_assert_uint_eq(stat("arp_requests_sent"), 2);
	for (int i = 0; i < 30; i++)
		test_engine_advance(eng, WSKDP_HOUSEKEEPING_US);
	ck_assert_uint_eq(stat("arp_requests_sent"), WSKDP_ARP_MAX_RETRIES);
	ck_assert_uint_eq(stat("arp_failed"), 1);
	ck_assert_uint_eq(stat("arp_drop_unresolved"), 2);
	while ((m = fake_port_pop_tx(&fp)) != NULL)
		rte_pktmbuf_free(m);
}
END_TEST

/* Echo request from the peer, whose reply goes back through ARP. */
static void
ping_from_peer(uint16_t seq)
{
	inject(buf, frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP,
				    8, 1, seq, "x", 1));
}

/* Pops the next frame and says whether it is an ARP request (else an
 * IPv4 frame to the peer's MAC is expected). */
static bool
pop_is_arp_request(void)
{
	struct rte_mbuf *m = fake_port_pop_tx(&fp);
	const uint8_t *f;
	bool arp;

	ck_assert_ptr_nonnull(m);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	arp = f[12] == 0x08 && f[13] == 0x06 && f[14 + 7] == 1;
	if (!arp) {
		ck_assert_mem_eq(f, peer_mac.addr_bytes, 6);
		ck_assert_uint_eq(f[13], 0x00);
	}
	rte_pktmbuf_free(m);
	return arp;
}

START_TEST(test_neighbour_that_stops_answering_is_forgotten_and_asked_again)
{
	/* Resolved and used: replies go straight out. */
	learn_peer();
	ping_from_peer(1);
	ck_assert(!pop_is_arp_request());
	ping_from_peer(2);
	ck_assert(!pop_is_arp_request());
	ck_assert_uint_eq(stat("arp_requests_sent"), 0);
	/* Past its lifetime the next packet still goes out, and a refresh
	 * request with it. */
	test_engine_advance(eng, WSKDP_ARP_REACHABLE_US);
	ping_from_peer(3);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 2);
	ck_assert(pop_is_arp_request());
	ck_assert(!pop_is_arp_request());
	ck_assert_uint_eq(stat("arp_requests_sent"), 1);
	/* No answer: retried, then the entry is forgotten. */
	for (int i = 0; i < 40; i++)
		test_engine_advance(eng, WSKDP_HOUSEKEEPING_US);
	ck_assert_uint_eq(stat("arp_requests_sent"), WSKDP_ARP_MAX_RETRIES);
	while (fake_port_tx_count(&fp) > 0)
		ck_assert(pop_is_arp_request());
	/* The next reply must not go to the forgotten MAC: it waits while a
	 * new resolution asks again. */
	ping_from_peer(4);
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	ck_assert(pop_is_arp_request());
	ck_assert_uint_eq(stat("arp_requests_sent"), WSKDP_ARP_MAX_RETRIES + 1);
	/* Answered: the waiting reply goes out. */
	inject(buf, frame_arp(buf, 2, &our_mac, &peer_mac, PEER_IP, &our_mac, OUR_IP));
	ck_assert_uint_eq(fake_port_tx_count(&fp), 1);
	ck_assert(!pop_is_arp_request());
}
END_TEST

START_TEST(test_pending_queue_per_address_is_bounded)
{
	unsigned n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP,
				     8, 1, 1, "x", 1);

	for (int i = 0; i < WSKDP_ARP_PENDING + 3; i++)
		inject(buf, n);
	ck_assert_uint_eq(stat("arp_drop_pending_full"), 3);
	fake_port_drain(&fp);
	/* The queued ones are still held by the ARP entry ... */
	ck_assert_uint_eq(rte_mempool_in_use_count(eng->shards[0]->pool),
			  WSKDP_ARP_PENDING);
	/* ... until resolution fails and they are dropped, counted. */
	for (int i = 0; i < 40; i++)
		test_engine_advance(eng, WSKDP_HOUSEKEEPING_US);
	ck_assert_uint_eq(stat("arp_drop_unresolved"), WSKDP_ARP_PENDING);
}
END_TEST

/* One malformed frame per test: what counter it must hit. */
struct bad_ip_case {
	const char *name;
	const char *counter;
	void (*mangle)(uint8_t *f, unsigned *len);
};

static void m_trunc_eth(uint8_t *f, unsigned *len) { (void)f; *len = 10; }
static void m_trunc_ip(uint8_t *f, unsigned *len) { (void)f; *len = 14 + 12; }
static void m_bad_cksum(uint8_t *f, unsigned *len) { (void)len; f[14 + 10] ^= 0x55; }
static void m_total_beyond(uint8_t *f, unsigned *len)
{ f[14 + 2] = 0x05; f[14 + 3] = 0xdc; (void)len; frame_fix_ip_checksum(f); }
static void m_total_below_hdr(uint8_t *f, unsigned *len)
{ f[14 + 2] = 0; f[14 + 3] = 12; (void)len; frame_fix_ip_checksum(f); }
static void m_ihl_small(uint8_t *f, unsigned *len) { f[14] = 0x44; (void)len; }
static void m_ihl_beyond(uint8_t *f, unsigned *len) { f[14] = 0x4f; *len = 14 + 40; }
static void m_version(uint8_t *f, unsigned *len)
{ f[14] = 0x65; (void)len; frame_fix_ip_checksum(f); }
static void m_ttl0(uint8_t *f, unsigned *len)
{ f[14 + 8] = 0; (void)len; frame_fix_ip_checksum(f); }
static void m_frag(uint8_t *f, unsigned *len)
{ f[14 + 6] = 0x20; (void)len; frame_fix_ip_checksum(f); }
static void m_not_us(uint8_t *f, unsigned *len)
{ f[14 + 19] = 77; (void)len; frame_fix_ip_checksum(f); }
static void m_martian(uint8_t *f, unsigned *len)
{ f[14 + 12] = 127; (void)len; frame_fix_ip_checksum(f); }
static void m_proto(uint8_t *f, unsigned *len)
{ f[14 + 9] = 47; (void)len; frame_fix_ip_checksum(f); }
static void m_icmp_cksum(uint8_t *f, unsigned *len) { f[14 + 20 + 8] ^= 1; (void)len; }
static void m_icmp_short(uint8_t *f, unsigned *len)
{ f[14 + 3] = 24; *len = 14 + 24; frame_fix_ip_checksum(f); }
static void m_other_mac(uint8_t *f, unsigned *len) { f[5] = 0x42; (void)len; }
static void m_ethertype(uint8_t *f, unsigned *len) { f[12] = 0x86; f[13] = 0xdd; (void)len; }
static void m_vlan(uint8_t *f, unsigned *len)
{
	memmove(f + 16, f + 12, *len - 12);
	f[12] = 0x81; f[13] = 0; f[14] = 0; f[15] = 7;
	*len += 4;
}

static const struct bad_ip_case bad_cases[] = {
	{ "truncated ethernet", "eth_drop_short", m_trunc_eth },
	{ "truncated ip", "ip_drop_short", m_trunc_ip },
	{ "bad ip checksum", "ip_drop_bad_checksum", m_bad_cksum },
	{ "total length beyond frame", "ip_drop_total_length", m_total_beyond },
	{ "total length below header", "ip_drop_total_length", m_total_below_hdr },
	{ "ihl below 5", "ip_drop_ihl", m_ihl_small },
	{ "ihl beyond frame", "ip_drop_ihl", m_ihl_beyond },
	{ "version 6 in ipv4 frame", "ip_drop_version", m_version },
	{ "ttl 0", "ip_drop_ttl", m_ttl0 },
	{ "fragment", "ip_drop_fragment", m_frag },
	{ "not our address", "ip_drop_not_for_us", m_not_us },
	{ "loopback source", "ip_drop_bad_source", m_martian },
	{ "unknown protocol", "ip_drop_unknown_proto", m_proto },
	{ "icmp checksum", "icmp_drop_bad_checksum", m_icmp_cksum },
	{ "icmp shorter than 8", "icmp_drop_short", m_icmp_short },
	{ "other destination mac", "eth_drop_not_for_us", m_other_mac },
	{ "ipv6 ethertype", "eth_drop_unknown_type", m_ethertype },
	{ "vlan we do not serve", "eth_drop_vlan", m_vlan },
};

START_TEST(test_malformed_frame_is_dropped_with_its_own_counter)
{
	const struct bad_ip_case *c = &bad_cases[_i];
	unsigned n;
	struct shard_stats before, after;

	learn_peer();
	n = frame_icmp_echo(buf, &our_mac, &peer_mac, PEER_IP, OUR_IP, 8, 1, 1,
			    "abcdefgh", 8);
	c->mangle(buf, &n);
	engine_stats(eng, &before);
	inject(buf, n);
	engine_stats(eng, &after);
	ck_assert_msg(fake_port_tx_count(&fp) == 0, "%s: answered", c->name);
	ck_assert_msg(after.v[shard_stat_index(c->counter)] ==
		      before.v[shard_stat_index(c->counter)] + 1,
		      "%s: %s did not count it", c->name, c->counter);
	ck_assert_uint_eq(after.v[SHARD_STAT_icmp_echo_replies], 0);
}
END_TEST

START_TEST(test_port_refusing_frames_counts_and_frees_them)
{
	unsigned n = frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP);

	/* Three replies leave in one flush; the port takes one frame per
	 * call and the engine retries once, so one frame is refused. */
	fp.tx_accept_limit = 1;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fake_port_inject_bytes(&fp, eng->shards[0]->pool, buf, n), 0);
	test_engine_poll(eng, 1);
	ck_assert_uint_eq(stat("tx_packets"), 2);
	ck_assert_uint_eq(stat("tx_drop_port_full"), 1);
}
END_TEST

START_TEST(test_gratuitous_arp_announces_every_address_at_start)
{
	struct fake_port fp2;
	struct engine_conf ec;
	struct engine *e2;
	struct rte_mbuf *m;
	const uint8_t *f;
	uint8_t ip[4];

	fake_port_init(&fp2);
	engine_conf_init(&ec, "garp");
	ec.gratuitous_arp = true;
	e2 = test_engine_create("garp", &fp2, "10.2.0.5/16", NULL, 7, &ec);
	ck_assert_ptr_nonnull(e2);
	ck_assert_uint_eq(fake_port_tx_count(&fp2), 1);
	m = fake_port_pop_tx(&fp2);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	inet_pton(AF_INET, "10.2.0.5", ip);
	ck_assert_mem_eq(f, bcast.addr_bytes, 6);
	ck_assert_mem_eq(f + 14 + 14, ip, 4);	/* sender IP */
	ck_assert_mem_eq(f + 14 + 24, ip, 4);	/* target IP = sender */
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(rte_mempool_in_use_count(e2->shards[0]->pool), 0);
	engine_destroy(e2);
}
END_TEST

START_TEST(test_vlan_port_answers_tagged_and_drops_untagged)
{
	struct fake_port fp2;
	struct engine_conf ec;
	struct port_conf pc;
	struct engine *e2;
	struct rte_mbuf *m;
	const uint8_t *f;
	unsigned n;

	fake_port_init(&fp2);
	engine_conf_init(&ec, "vlan");
	ec.gratuitous_arp = false;
	ec.clock_mode = ENGINE_CLOCK_VIRTUAL;
	memset(&pc, 0, sizeof(pc));
	pc.nb_addrs = 1;
	port_parse_ipv4(OUR_IP, &pc.addrs[0].ip, &pc.addrs[0].prefix);
	pc.addrs[0].prefix = 24;
	pc.vlan_id = 7;
	e2 = engine_create(&ec);
	ck_assert_ptr_nonnull(e2);
	ck_assert_int_eq(engine_add_custom_port(e2, &fake_port_ops, &fp2, &our_mac, &pc), 0);
	ck_assert_int_eq(engine_start(e2), 0);

	n = frame_arp(buf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, OUR_IP);
	ck_assert_int_eq(fake_port_inject_bytes(&fp2, e2->shards[0]->pool, buf, n), 0);
	m_vlan(buf, &n);
	ck_assert_int_eq(fake_port_inject_bytes(&fp2, e2->shards[0]->pool, buf, n), 0);
	test_engine_poll(e2, 1);
	ck_assert_uint_eq(engine_stat(e2, SHARD_STAT_eth_drop_vlan), 1);
	ck_assert_uint_eq(fake_port_tx_count(&fp2), 1);
	m = fake_port_pop_tx(&fp2);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), 14 + 4 + 28);
	ck_assert_uint_eq(f[12], 0x81);
	ck_assert_uint_eq(f[15], 7);
	ck_assert_uint_eq(f[16], 0x08);
	ck_assert_uint_eq(f[17], 0x06);
	rte_pktmbuf_free(m);
	fake_port_drain(&fp2);
	ck_assert_uint_eq(rte_mempool_in_use_count(e2->shards[0]->pool), 0);
	engine_destroy(e2);
}
END_TEST

/* Chains of 1-6 pieces of 0-300 bytes (odd lengths and empty pieces
 * included) at random offsets: the chain's sum must be the flat copy's.
 * DPDK 22.11's rte_raw_cksum_mbuf() fails this once a piece follows an
 * odd count of bytes. */
START_TEST(test_chain_checksum_equals_the_flat_checksum)
{
	struct rte_mempool *pool = eng->shards[0]->pool;
	uint64_t rng = 0xc5u;
	unsigned odd_splits = 0, dpdk_wrong = 0;

	for (unsigned round = 0; round < 2000; round++) {
		static uint8_t flat[6 * 300];
		struct rte_mbuf *head = NULL;
		unsigned pieces = 1 + (unsigned)(test_splitmix64(&rng) % 6);
		uint32_t total = 0, at = 0, off, len;
		uint16_t got, want, dpdk;
		bool odd = false;

		for (unsigned i = 0; i < pieces; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			uint16_t n = (uint16_t)(test_splitmix64(&rng) % 301);
			uint8_t *d;

			ck_assert_ptr_nonnull(m);
			d = (uint8_t *)rte_pktmbuf_append(m, n);
			ck_assert(n == 0 || d != NULL);
			for (unsigned k = 0; k < n; k++)
				flat[total + k] = d[k] =
					(uint8_t)test_splitmix64(&rng);
			if (head == NULL)
				head = m;
			else
				ck_assert_int_eq(rte_pktmbuf_chain(head, m), 0);
			total += n;
		}
		off = total > 0 ? (uint32_t)(test_splitmix64(&rng) % total) : 0;
		len = total - off;
		/* A piece boundary inside the range after an odd count. */
		for (const struct rte_mbuf *m = head; m->next != NULL;
		     m = m->next) {
			at += m->data_len;
			if (at > off && at < off + len && ((at - off) & 1))
				odd = true;
		}
		ck_assert_int_eq(net_cksum_mbuf(head, off, len, &got), 0);
		want = rte_raw_cksum(flat + off, len);
		ck_assert_msg(got == want, "round %u: %u pieces, off %u len %u:"
			      " %04x, flat %04x", round, pieces, off, len, got,
			      want);
		/* Asking for more than the chain holds is refused. */
		ck_assert_int_eq(net_cksum_mbuf(head, off, len + 1, &got), -1);
		if (odd) {
			odd_splits++;
			if (rte_raw_cksum_mbuf(head, off, len, &dpdk) == 0 &&
			    dpdk != want)
				dpdk_wrong++;
		}
		rte_pktmbuf_free(head);
	}
	/* The rounds did reach the case DPDK gets wrong. */
	ck_assert_uint_gt(odd_splits, 100);
	ck_assert_uint_gt(dpdk_wrong, 0);
}
END_TEST

START_TEST(test_engine_names_must_be_unique_and_short)
{
	struct engine_conf ec;

	engine_conf_init(&ec, "net");
	ck_assert_ptr_null(engine_create(&ec));
	engine_conf_init(&ec, "a-name-longer-than-twelve");
	ck_assert_ptr_null(engine_create(&ec));
	engine_conf_init(&ec, "ok");
	ec.nb_shards = 0;
	ck_assert_ptr_null(engine_create(&ec));
}
END_TEST

START_TEST(test_parse_ipv4_rejects_bad_text)
{
	rte_be32_t ip;
	uint8_t pfx;

	ck_assert_int_eq(port_parse_ipv4("10.0.0.1/24", &ip, &pfx), 0);
	ck_assert_uint_eq(pfx, 24);
	ck_assert_uint_eq(ip, htonl(0x0a000001));
	ck_assert_int_ne(port_parse_ipv4("10.0.0.1/33", &ip, &pfx), 0);
	ck_assert_int_ne(port_parse_ipv4("10.0.0/24", &ip, &pfx), 0);
	ck_assert_int_ne(port_parse_ipv4("10.0.0.1/", &ip, &pfx), 0);
	ck_assert_int_ne(port_parse_ipv4("10.0.0.1/2x", &ip, &pfx), 0);
	ck_assert_int_ne(port_parse_ipv4("10.0.0.1/24", &ip, NULL), 0);
	ck_assert_int_ne(port_parse_ipv4("", &ip, &pfx), 0);
}
END_TEST

START_TEST(test_next_hop_is_the_gateway_off_link_and_none_without_one)
{
	const struct port *p = &eng->ports[0];
	rte_be32_t a, gw;

	port_parse_ipv4("10.1.0.200", &a, NULL);
	ck_assert_uint_eq(port_next_hop(p, a), a);
	port_parse_ipv4("192.0.2.1", &a, NULL);
	port_parse_ipv4("10.1.0.254", &gw, NULL);
	ck_assert_uint_eq(port_next_hop(p, a), gw);
}
END_TEST

static Suite *
net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("l2l3");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_arp_request_for_our_address_gets_a_unicast_reply);
	tcase_add_test(tc, test_arp_request_for_another_address_is_not_answered);
	tcase_add_test(tc, test_arp_with_bad_hardware_length_is_dropped_as_malformed);
	tcase_add_test(tc, test_truncated_arp_is_dropped_as_malformed);
	tcase_add_test(tc, test_arp_claiming_our_address_is_dropped);
	tcase_add_test(tc, test_ping_gets_an_echo_reply_with_the_same_payload);
	tcase_add_test(tc, test_offloaded_echo_reply_states_its_header_lengths);
	tcase_add_test(tc, test_ethernet_padding_is_not_echoed);
	tcase_add_test(tc, test_replies_leave_in_the_pass_of_a_full_receive_burst);
	tcase_add_test(tc, test_frames_queued_between_passes_leave_before_input_is_read);
	tcase_add_test(tc, test_tsc_to_us_matches_the_division_to_the_microsecond);
	tcase_add_test(tc, test_ping_from_unknown_peer_waits_for_arp_then_is_answered);
	tcase_add_test(tc, test_unanswered_arp_retries_then_drops_the_waiting_packets);
	tcase_add_test(tc, test_neighbour_that_stops_answering_is_forgotten_and_asked_again);
	tcase_add_test(tc, test_pending_queue_per_address_is_bounded);
	tcase_add_loop_test(tc, test_malformed_frame_is_dropped_with_its_own_counter,
			    0, (int)RTE_DIM(bad_cases));
	tcase_add_test(tc, test_port_refusing_frames_counts_and_frees_them);
	tcase_add_test(tc, test_gratuitous_arp_announces_every_address_at_start);
	tcase_add_test(tc, test_vlan_port_answers_tagged_and_drops_untagged);
	tcase_add_test(tc, test_engine_names_must_be_unique_and_short);
	tcase_add_test(tc, test_chain_checksum_equals_the_flat_checksum);
	tcase_add_test(tc, test_parse_ipv4_rejects_bad_text);
	tcase_add_test(tc, test_next_hop_is_the_gateway_off_link_and_none_without_one);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(net_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
