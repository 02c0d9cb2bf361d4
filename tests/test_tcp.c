/*
 * The TCP engine on fake ports and the virtual clock.
 *
 * Two set-ups: two engines wired back to back (client 10.0.0.1, server
 * 10.0.0.2) for whole conversations, and one engine (the server, or a
 * client talking to a peer that does not exist) fed handcrafted segments
 * for hostile input. Every teardown proves that no connection and no mbuf
 * was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "frames.h"
#include "net.h"
#include "peer_frames.h"
#include "tcp.h"
#include "tcp_options.h"
#include "tcp_pair.h"
#include "tcp_var.h"
#include "test_eal.h"
#include "test_rand.h"

/* --- pair tests ---------------------------------------------------------- */

START_TEST(test_tcp_handshake_client_to_server)
{
	open_pair();
	ck_assert_uint_eq(pair_stat(cli, "tcp_conn_active"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tcp_conn_passive"), 1);
	ck_assert_ptr_null(tcp_accept(tl.l));
	close_pair();
}
END_TEST

/* Lookups, adds and deletes pass tcp_key_hash() to the connection table;
 * a key hashed differently by the table itself (its hash function or
 * initial value changed) would be stored where those never look. */
START_TEST(test_tcp_key_hash_is_the_connection_tables_hash)
{
	uint64_t rng = 0x6b6579;

	open_pair();
	for (int i = 0; i < 10000; i++) {
		uint64_t a = test_splitmix64(&rng), b = test_splitmix64(&rng);
		struct tcp_key k = {
			.laddr = (rte_be32_t)a,
			.raddr = (rte_be32_t)(a >> 32),
			.lport = (rte_be16_t)b,
			.rport = (rte_be16_t)(b >> 16),
			.zero = 0,
		};

		ck_assert_uint_eq(tcp_key_hash(&k),
				  rte_hash_hash(tcp_shard_of(cs)->table, &k));
	}
	close_pair();
}
END_TEST

START_TEST(test_tcp_handshake_server_engine_connects_to_client_engine)
{
	struct tlisten l2 = {0};
	struct tconn a = {0}, b = {0};

	ck_assert_int_eq(tcp_listen(cs, ip(CLIENT_IP), htons(9000), 4, &l2, &l2.l), 0);
	ck_assert_int_eq(tcp_connect(ss, 0, 0, 0, ip(CLIENT_IP), htons(9000),
				     NULL, &a, &a.c), 0);
	poll_both(10);
	ck_assert_uint_eq(a.connected, 1);
	ck_assert_uint_eq(l2.ready, 1);
	b.c = tcp_accept(l2.l);
	ck_assert_ptr_nonnull(b.c);
	tcp_conn_set_user(b.c, &b);
	ck_assert_int_eq(tcp_conn_state(b.c), TCPS_ESTABLISHED);
	tcp_abort(a.c);
	poll_both(3);
	ck_assert_uint_eq(a.closed, 1);
	ck_assert_int_eq(a.reason, TCP_CLOSE_ABORTED);
	ck_assert_uint_eq(b.closed, 1);
	ck_assert_int_eq(b.reason, TCP_CLOSE_RESET);
	tcp_release(a.c);
	tcp_release(b.c);
	tcp_listener_close(l2.l);
}
END_TEST

static struct tcp_opts seen_syn_opts;
static unsigned seen_syns;

static bool
capture_syn(void *arg, const struct rte_mbuf *m)
{
	uint8_t buf[128];
	const uint8_t *f = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len, 128u), buf);
	const struct rte_tcp_hdr *th = (const void *)(f + 14 + 20);
	unsigned off = (th->data_off >> 4) * 4;

	(void)arg;
	if (f[14 + 9] == IPPROTO_TCP && (th->tcp_flags & RTE_TCP_SYN_FLAG) &&
	    !(th->tcp_flags & RTE_TCP_ACK_FLAG)) {
		seen_syns++;
		ck_assert_int_eq(tcp_options_parse((const uint8_t *)(th + 1),
				 off - 20, true, &seen_syn_opts), TCP_OPT_OK);
	}
	return false;
}

START_TEST(test_tcp_syn_offers_mss_wscale_timestamps_and_sack)
{
	fpc.wire_filter = capture_syn;
	open_pair();
	ck_assert_uint_eq(seen_syns, 1);
	ck_assert(seen_syn_opts.present & TCP_OPT_HAS_MSS);
	ck_assert_uint_eq(seen_syn_opts.mss, 1460);
	ck_assert(seen_syn_opts.present & TCP_OPT_HAS_WSCALE);
	ck_assert_uint_eq(seen_syn_opts.wscale, 7);
	ck_assert(seen_syn_opts.present & TCP_OPT_HAS_TIMESTAMPS);
	ck_assert(seen_syn_opts.present & TCP_OPT_HAS_SACK_PERMITTED);
	fpc.wire_filter = NULL;
	close_pair();
}
END_TEST

START_TEST(test_tcp_one_megabyte_each_way_arrives_intact)
{
	open_pair();
	transfer(tcli.c, tsrv.c, 1 << 20, 1, 20000);
	transfer(tsrv.c, tcli.c, 1 << 20, 2, 20000);
	poll_both(50);
	advance(100000);
	ck_assert_uint_eq(tcli.acked, 1 << 20);
	ck_assert_uint_eq(tsrv.acked, 1 << 20);
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 0);
	close_pair();
}
END_TEST

static unsigned cksum_bad, cksum_odd_splits;

/* Every TCP frame a port sends: its checksum over a flat copy, and
 * whether its L4 bytes cross a piece of the chain after an odd count. */
static bool
check_cksum(void *arg, const struct rte_mbuf *m)
{
	static uint8_t flat[RTE_ETHER_MAX_JUMBO_FRAME_LEN];
	const uint8_t *f;
	uint32_t l4 = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr), at = 0;

	(void)arg;
	if (m->pkt_len > sizeof(flat) || m->pkt_len < l4 + 20)
		return false;
	f = rte_pktmbuf_read(m, 0, m->pkt_len, flat);
	if (f[14 + 9] != IPPROTO_TCP)
		return false;
	if (rte_ipv4_udptcp_cksum_verify((const void *)(f + 14), f + l4) != 0)
		cksum_bad++;
	for (const struct rte_mbuf *s = m; s->next != NULL; s = s->next) {
		at += s->data_len;
		if (at > l4 && ((at - l4) & 1)) {
			cksum_odd_splits++;
			break;
		}
	}
	return false;
}

/* Writes of random sizes leave send-queue buffers of odd lengths, and a
 * receiver with a small buffer that reads a little at a time cuts
 * segments at its window's edge inside them: the next segment then starts
 * inside one buffer and runs into the next, a chain with an odd piece,
 * whose checksum must still be right on the wire (DPDK 22.11's
 * rte_ipv4_udptcp_cksum_mbuf() gets these wrong; a Linux peer dropped the
 * same retransmission until the transfer timed out). */
START_TEST(test_tcp_segments_over_odd_queue_pieces_carry_valid_checksums)
{
	static uint8_t out[3000], in[700];
	struct tcp_conn_opts o = { .rcv_buf = TCP_BUF_MIN + 1 };
	uint64_t rng = 0x5eed;
	uint32_t sent = 0, got = 0, total = 1u << 20;

	cksum_bad = cksum_odd_splits = 0;
	open_pair_opts(&o);
	fps.wire_filter = check_cksum;
	for (unsigned round = 0; got < total && round < 50000; round++) {
		uint32_t n = 1 + (uint32_t)(test_splitmix64(&rng) % sizeof(out));
		uint32_t want = 1 + (uint32_t)(test_splitmix64(&rng) % sizeof(in));
		int32_t k;

		for (uint32_t i = 0; i < n; i++)
			out[i] = pattern(sent + i, 5);
		n = RTE_MIN(n, total - sent);
		k = n > 0 ? tcp_send(tsrv.c, out, n) : 0;
		ck_assert_int_ge(k, 0);
		sent += (uint32_t)k;
		advance(1000);
		while (want > 0) {
			uint32_t r = tcp_recv(tcli.c, in, want);

			if (r == 0)
				break;
			for (uint32_t i = 0; i < r; i++)
				if (in[i] != pattern(got + i, 5))
					ck_abort_msg("byte %u differs", got + i);
			got += r;
			want -= r;
		}
	}
	fps.wire_filter = NULL;
	/* Wrong sums first: the receiving engine drops those segments, so
	 * the transfer stalls too. */
	ck_assert_uint_eq(cksum_bad, 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_drop_bad_checksum"), 0);
	ck_assert_uint_eq(got, total);
	/* The writes and reads did make the chains this is about. */
	ck_assert_uint_gt(cksum_odd_splits, 10);
	close_pair();
}
END_TEST

static unsigned data_frames, data_frame_segs[4];

static bool
note_data_frame(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	if (m->pkt_len > 14 + 20 + 32 && data_frames < RTE_DIM(data_frame_segs))
		data_frame_segs[data_frames++] = m->nb_segs;
	return false;
}

/* 100 ms in 1 ms steps: past the peer's delayed ACK, each frame alone. */
static void
settle(void)
{
	for (unsigned i = 0; i < 100; i++)
		advance(1000);
}

/* A payload up to tcp_conf.tx_copy_max bytes is copied behind the headers
 * (one mbuf on the wire); a larger one, or any with the limit at 0, rides
 * as an indirect mbuf on the send queue's buffer. The bytes arrive the
 * same either way. */
START_TEST(test_tcp_small_payloads_are_copied_larger_ones_attached)
{
	static uint8_t out[1000], in[1000];

	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = pattern(i, 9);
	open_pair();
	ck_assert_uint_eq(conf.tx_copy_max, 256);
	data_frames = 0;
	fpc.wire_filter = note_data_frame;
	ck_assert_int_eq(tcp_send(tcli.c, out, 256), 256);
	settle();
	ck_assert_int_eq(tcp_send(tcli.c, out, 257), 257);
	settle();
	pair_attach_payloads();
	ck_assert_int_eq(tcp_send(tcli.c, out, 100), 100);
	settle();
	fpc.wire_filter = NULL;
	ck_assert_uint_eq(data_frames, 3);
	ck_assert_uint_eq(data_frame_segs[0], 1);
	ck_assert_uint_eq(data_frame_segs[1], 2);
	ck_assert_uint_eq(data_frame_segs[2], 2);
	ck_assert_uint_eq(tcp_recv(tsrv.c, in, sizeof(in)), 256 + 257 + 100);
	ck_assert(memcmp(in, out, 256) == 0);
	ck_assert(memcmp(in + 256, out, 257) == 0);
	ck_assert(memcmp(in + 513, out, 100) == 0);
	close_pair();
}
END_TEST

START_TEST(test_tcp_transfer_over_a_lossy_wire_completes_by_retransmission)
{
	open_pair();
	fpc.drop_every_nth = 13;
	fps.drop_every_nth = 17;
	transfer(tcli.c, tsrv.c, 256 * 1024, 3, 200000);
	transfer(tsrv.c, tcli.c, 256 * 1024, 4, 200000);
	ck_assert_uint_gt(fpc.wire_dropped, 0);
	ck_assert_uint_gt(pair_stat(cli, "tcp_rexmt_segments") +
			  pair_stat(srv, "tcp_rexmt_segments"), 0);
	/* Losses inside a window are repaired by SACK recovery, not by
	 * waiting for the timer. */
	ck_assert_uint_gt(pair_stat(cli, "tcp_fast_retransmits"), 0);
	ck_assert_uint_gt(pair_stat(srv, "tcp_fast_retransmits"), 0);
	fpc.drop_every_nth = 0;
	fps.drop_every_nth = 0;
	close_pair();
}
END_TEST

START_TEST(test_tcp_graceful_close_both_sides_then_time_wait_expires)
{
	char buf[8];

	open_pair();
	ck_assert_int_eq(tcp_send(tcli.c, "bye", 3), 3);
	ck_assert_int_eq(tcp_shutdown(tcli.c), 0);
	poll_both(5);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_FIN_WAIT_2);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_CLOSE_WAIT);
	ck_assert(tcp_rcv_fin(tsrv.c));
	ck_assert_uint_eq(tcp_recv(tsrv.c, buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "bye", 3);
	ck_assert_int_eq(tcp_send(tcli.c, "x", 1), -EPIPE);
	ck_assert_int_eq(tcp_shutdown(tsrv.c), 0);
	poll_both(5);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_TIME_WAIT);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_CLOSED);
	ck_assert_uint_eq(tcli.closed, 1);
	ck_assert_int_eq(tcli.reason, TCP_CLOSE_NORMAL);
	ck_assert_uint_eq(tsrv.closed, 1);
	ck_assert_int_eq(tsrv.reason, TCP_CLOSE_NORMAL);
	tcp_release(tcli.c);
	tcp_release(tsrv.c);
	tcp_listener_close(tl.l);
	/* The server's connection is gone; the client's waits 2 MSL. */
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 0);
	ck_assert_uint_eq(tcp_shard_conns_in_use(cs), 1);
	advance(conf.time_wait_us - 1000);
	ck_assert_uint_eq(tcp_shard_conns_in_use(cs), 1);
	advance(2000);
	ck_assert_uint_eq(tcp_shard_conns_in_use(cs), 0);
}
END_TEST

/* The move to FIN_WAIT_2 is the one acknowledgment of our FIN that no
 * other upcall reports: acked(c, 0) does, once; LAST_ACK ends in closed()
 * alone. */
START_TEST(test_tcp_fin_acked_in_fin_wait_1_raises_acked_with_zero_bytes)
{
	open_pair();
	ck_assert_int_eq(tcp_send(tcli.c, "bye", 3), 3);
	/* The server's delayed ACK. */
	for (int i = 0; i < 100 && tcli.acked < 3; i++)
		advance(1000);
	ck_assert_uint_eq(tcli.acked, 3);
	ck_assert_uint_eq(tcli.fin_acked, 0);
	ck_assert_int_eq(tcp_shutdown(tcli.c), 0);
	ck_assert_uint_eq(tcli.fin_acked, 0);
	poll_both(5);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_FIN_WAIT_2);
	ck_assert_uint_eq(tcli.fin_acked, 1);
	ck_assert_uint_eq(tcli.acked, 3);
	ck_assert_uint_eq(tcli.closed, 0);
	ck_assert_int_eq(tcp_shutdown(tsrv.c), 0);
	poll_both(5);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_CLOSED);
	ck_assert_uint_eq(tsrv.fin_acked, 0);
	ck_assert_uint_eq(tsrv.closed, 1);
	ck_assert_uint_eq(tcli.fin_acked, 1);
	ck_assert_uint_eq(tcli.closed, 1);
	tcp_release(tcli.c);
	tcp_release(tsrv.c);
	tcp_listener_close(tl.l);
}
END_TEST

START_TEST(test_tcp_simultaneous_close_goes_through_closing)
{
	open_pair();
	ck_assert_int_eq(tcp_shutdown(tcli.c), 0);
	ck_assert_int_eq(tcp_shutdown(tsrv.c), 0);
	poll_both(6);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_TIME_WAIT);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_TIME_WAIT);
	ck_assert_uint_eq(tcli.closed, 1);
	ck_assert_uint_eq(tsrv.closed, 1);
	tcp_release(tcli.c);
	tcp_release(tsrv.c);
	tcp_listener_close(tl.l);
}
END_TEST

/* RFC 9293 3.5, figure 7: both ends send a SYN before either sees the
 * other's; each answers the other's SYN with a SYN-ACK from SYN-RECEIVED,
 * and both reach ESTABLISHED without a listener. */
START_TEST(test_tcp_simultaneous_open_reaches_established_on_both_sides)
{
	struct tconn a = {0}, b = {0};
	char buf[64];

	ck_assert_int_eq(tcp_connect(cs, 0, ip(CLIENT_IP), htons(5001),
				     ip(SERVER_IP), htons(6001), NULL, &a, &a.c), 0);
	ck_assert_int_eq(tcp_connect(ss, 0, ip(SERVER_IP), htons(6001),
				     ip(CLIENT_IP), htons(5001), NULL, &b, &b.c), 0);
	poll_both(10);
	ck_assert_int_eq(tcp_conn_state(a.c), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcp_conn_state(b.c), TCPS_ESTABLISHED);
	ck_assert_uint_eq(a.connected, 1);
	ck_assert_uint_eq(b.connected, 1);
	ck_assert_uint_eq(a.closed + b.closed, 0);
	/* Both directions carry data on the one connection. */
	ck_assert_int_eq(tcp_send(a.c, "ping", 4), 4);
	ck_assert_int_eq(tcp_send(b.c, "pong!", 5), 5);
	poll_both(5);
	ck_assert_uint_eq(tcp_recv(b.c, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "ping", 4);
	ck_assert_uint_eq(tcp_recv(a.c, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "pong!", 5);
	ck_assert_int_eq(tcp_shutdown(a.c), 0);
	ck_assert_int_eq(tcp_shutdown(b.c), 0);
	poll_both(6);
	tcp_release(a.c);
	tcp_release(b.c);
}
END_TEST

START_TEST(test_tcp_rst_to_syn_reports_refused)
{
	struct tconn a = {0};

	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(1),
				     NULL, &a, &a.c), 0);
	poll_both(6);
	ck_assert_uint_eq(a.closed, 1);
	ck_assert_int_eq(a.reason, TCP_CLOSE_REFUSED);
	ck_assert_uint_eq(a.connected, 0);
	ck_assert_uint_eq(pair_stat(srv, "tcp_rst_no_conn"), 1);
	tcp_release(a.c);
}
END_TEST

START_TEST(test_tcp_connection_pool_full_refuses_and_counts)
{
	struct tconn a[3];

	tcp_engine_disable(cli);
	conf.max_conns = 2;
	enable_tcp(cli);
	memset(a, 0, sizeof(a));
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(1), NULL,
				     &a[0], &a[0].c), 0);
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(2), NULL,
				     &a[1], &a[1].c), 0);
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(3), NULL,
				     &a[2], &a[2].c), -ENOBUFS);
	ck_assert_uint_eq(pair_stat(cli, "tcp_conn_table_full"), 1);
	tcp_abort(a[0].c);
	tcp_abort(a[1].c);
	tcp_release(a[0].c);
	tcp_release(a[1].c);
}
END_TEST

/* Connections whose keys share a slot of the connection table: the first
 * holds the slot, the others spill into the overflow table, and each one
 * still gets its own segments, both ways, before and after the slot's
 * holder goes; a new connection of that slot then takes it. */
START_TEST(test_tcp_connections_sharing_a_slot_each_get_their_own_segments)
{
	struct tconn c[4], sv[4];
	uint16_t lport[4];
	const struct tcp_slot *slot = NULL;
	struct tcp_shard *ts;
	unsigned found = 0;

	tcp_engine_disable(cli);
	conf.max_conns = 16;
	enable_tcp(cli);
	ts = tcp_shard_of(cs);
	memset(c, 0, sizeof(c));
	memset(sv, 0, sizeof(sv));
	for (uint32_t p = 20000; found < 4 && p < 30000; p++) {
		struct tcp_key k = {
			.laddr = ip(CLIENT_IP), .raddr = ip(SERVER_IP),
			.lport = htons((uint16_t)p), .rport = htons(SERVER_PORT),
		};
		const struct tcp_slot *sl = tcp_slot_of(ts, tcp_key_hash(&k));

		if (slot == NULL)
			slot = sl;
		if (sl == slot)
			lport[found++] = (uint16_t)p;
	}
	ck_assert_uint_eq(found, 4);
	server_listen();
	for (unsigned i = 0; i < 4; i++) {
		if (i == 3) {
			/* The holder goes: a reset, both handles released. */
			tcp_abort(c[0].c);
			poll_both(4);
			ck_assert_uint_eq(sv[0].closed, 1);
			ck_assert_int_eq(sv[0].reason, TCP_CLOSE_RESET);
			tcp_release(c[0].c);
			tcp_release(sv[0].c);
			ck_assert_ptr_null(slot->c);
			ck_assert_uint_eq(slot->spilled, 2);
		}
		ck_assert_int_eq(tcp_connect(cs, 0, 0, htons(lport[i]),
					     ip(SERVER_IP), htons(SERVER_PORT),
					     NULL, &c[i], &c[i].c), 0);
		poll_both(6);
		ck_assert_uint_eq(c[i].connected, 1);
		sv[i].c = tcp_accept(tl.l);
		ck_assert_ptr_nonnull(sv[i].c);
		ck_assert_uint_eq(rte_be_to_cpu_16(sv[i].c->key.rport),
				  lport[i]);
		tcp_conn_set_user(sv[i].c, &sv[i]);
	}
	/* The fourth took the slot its holder left: still two spilled. */
	ck_assert_ptr_eq(slot->c, c[3].c);
	ck_assert_uint_eq(slot->spilled, 2);
	ck_assert_uint_eq(pair_stat(cli, "tcp_conn_spills"), 2);
	for (unsigned i = 1; i < 4; i++) {
		transfer(sv[i].c, c[i].c, 5000, (uint8_t)i, 100);
		transfer(c[i].c, sv[i].c, 5000, (uint8_t)(i + 10), 100);
	}
	for (unsigned i = 1; i < 4; i++) {
		tcp_shutdown(c[i].c);
		tcp_shutdown(sv[i].c);
		poll_both(5);
		tcp_release(c[i].c);
		tcp_release(sv[i].c);
	}
	tcp_listener_close(tl.l);
}
END_TEST

/* --- handcrafted segments against a single engine (peer_frames.h) -------- */

struct out_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint32_t len;
	struct tcp_opts opts;
};

/* Pop the next captured TCP segment; ARP frames (the engine refreshes
 * the peer's entry every 60 s) are skipped. */
static bool
pop_seg(struct out_seg *o)
{
	struct rte_mbuf *m;
	uint8_t buf[256];
	const uint8_t *f;
	const struct rte_tcp_hdr *th;
	unsigned off;

	for (;;) {
		m = fake_port_pop_tx(&fps);
		if (m == NULL)
			return false;
		f = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len, 256u), buf);
		if (f[12] == 0x08 && f[13] == 0x00)
			break;
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(f[14 + 9], IPPROTO_TCP);
	th = (const void *)(f + 34);
	off = (th->data_off >> 4) * 4;
	o->seq = ntohl(th->sent_seq);
	o->ack = ntohl(th->recv_ack);
	o->flags = th->tcp_flags;
	o->win = ntohs(th->rx_win);
	o->len = m->pkt_len - 34 - off;
	ck_assert_int_eq(tcp_options_parse((const uint8_t *)(th + 1), off - 20,
		(th->tcp_flags & RTE_TCP_SYN_FLAG) != 0, &o->opts), TCP_OPT_OK);
	rte_pktmbuf_free(m);
	return true;
}

/* Handshake from the handcrafted peer (no options); returns the server's
 * ISS. */
static uint32_t
peer_handshake(uint32_t peer_iss, struct tconn *t)
{
	struct out_seg o;

	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 4, &tl, &tl.l), 0);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, peer_iss, 0,
			 RTE_TCP_SYN_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, peer_iss + 1);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, peer_iss + 1, o.seq + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_uint_eq(tl.ready, 1);
	t->c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(t->c);
	tcp_conn_set_user(t->c, t);
	ck_assert_int_eq(tcp_conn_state(t->c), TCPS_ESTABLISHED);
	return o.seq;
}

START_TEST(test_tcp_syn_to_closed_port_is_answered_by_rst)
{
	struct out_seg o;

	learn_peer();
	inject(frame_tcp(fbuf, 40000, 81, 1000, 0, RTE_TCP_SYN_FLAG, 65535,
			 NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.seq, 0);
	ck_assert_uint_eq(o.ack, 1001);
	ck_assert_uint_eq(pair_stat(srv, "tcp_rst_no_conn"), 1);
	/* A RST for no connection is never answered. */
	inject(frame_tcp(fbuf, 40000, 81, 1000, 0, RTE_TCP_RST_FLAG, 0,
			 NULL, 0, NULL, 0));
	ck_assert(!pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_rst_no_conn"), 1);
}
END_TEST

/* TCP finds its header behind a 20-byte IPv4 header (IP drops options),
 * not through the mbuf's l3_len, which receive never sets: a recycled
 * mbuf with stale lengths still gets its SYN answered. */
START_TEST(test_tcp_syn_in_an_mbuf_with_stale_header_lengths_is_answered)
{
	struct out_seg o;

	learn_peer();
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 4, &tl, &tl.l), 0);
	ck_assert_int_eq(fake_port_inject_stale(&fps, ss->pool, fbuf,
		frame_tcp(fbuf, 40000, SERVER_PORT, 1000, 0, RTE_TCP_SYN_FLAG,
			  65535, NULL, 0, NULL, 0), 9, 40), 0);
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, 1001);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 1);
	tcp_listener_close(tl.l);
}
END_TEST

START_TEST(test_tcp_malformed_options_segment_is_dropped_and_counted)
{
	/* MSS option with a length byte of 0: no way to find the next one. */
	static const uint8_t bad[4] = { TCP_OPT_MSS, 0, 0x05, 0xb4 };
	struct out_seg o;

	learn_peer();
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 4, &tl, &tl.l), 0);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1000, 0, RTE_TCP_SYN_FLAG,
			 65535, bad, sizeof(bad), NULL, 0));
	ck_assert(!pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_bad_options"), 1);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 0);
	tcp_listener_close(tl.l);
}
END_TEST

START_TEST(test_tcp_bad_checksum_is_dropped_and_counted)
{
	unsigned n;
	struct out_seg o;

	learn_peer();
	n = frame_tcp(fbuf, 40000, 81, 1000, 0, RTE_TCP_SYN_FLAG, 65535,
		      NULL, 0, NULL, 0);
	fbuf[34 + 16] ^= 0x55;
	inject(n);
	ck_assert(!pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_bad_checksum"), 1);
}
END_TEST

START_TEST(test_tcp_rst_outside_window_ignored_inside_gets_challenge_ack)
{
	struct tconn t = {0};
	struct out_seg o;
	uint32_t iss;

	learn_peer();
	iss = peer_handshake(5000, &t);
	/* Far outside the window: silently ignored. */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 5001 + 10000000, 0,
			 RTE_TCP_RST_FLAG, 0, NULL, 0, NULL, 0));
	ck_assert(!pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_rst_out_of_window"), 1);
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_ESTABLISHED);
	/* In the window but not RCV.NXT: challenge ACK (RFC 5961 §3.2). */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 5001 + 100, 0,
			 RTE_TCP_RST_FLAG, 0, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.seq, iss + 1);
	ck_assert_uint_eq(o.ack, 5001);
	ck_assert_uint_eq(pair_stat(srv, "tcp_challenge_acks"), 1);
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_ESTABLISHED);
	ck_assert_uint_eq(t.closed, 0);
	/* Exactly RCV.NXT: the connection is reset. */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 5001, 0, RTE_TCP_RST_FLAG,
			 0, NULL, 0, NULL, 0));
	ck_assert_uint_eq(t.closed, 1);
	ck_assert_int_eq(t.reason, TCP_CLOSE_RESET);
	tcp_release(t.c);
	tcp_listener_close(tl.l);
}
END_TEST

/* One rx burst: the engine looks the burst's connections up at once, yet
 * each segment meets the table as the segments before it left it. */
START_TEST(test_tcp_burst_is_looked_up_at_once_and_sees_earlier_segments_effects)
{
	struct tconn t = {0};
	struct out_seg o;
	uint64_t bulk;

	learn_peer();
	peer_handshake(5000, &t);
	bulk = pair_stat(srv, "tcp_rx_batches");
	/* RST at RCV.NXT (ends the connection), data on the same 4-tuple
	 * (now for the listener only), a SYN from another port (a new
	 * connection), all received in one burst. */
	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf,
		frame_tcp(fbuf, 40000, SERVER_PORT, 5001, 0, RTE_TCP_RST_FLAG,
			  0, NULL, 0, NULL, 0)), 0);
	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf,
		frame_tcp(fbuf, 40000, SERVER_PORT, 5001, 777,
			  RTE_TCP_ACK_FLAG, 65535, NULL, 0, "abc", 3)), 0);
	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf,
		frame_tcp(fbuf, 40001, SERVER_PORT, 9000, 0, RTE_TCP_SYN_FLAG,
			  65535, NULL, 0, NULL, 0)), 0);
	test_engine_poll(srv, 1);
	ck_assert_uint_eq(pair_stat(srv, "tcp_rx_batches"), bulk + 1);
	ck_assert_uint_eq(t.closed, 1);
	ck_assert_int_eq(t.reason, TCP_CLOSE_RESET);
	/* No connection any more: the listener answers the ACK with a RST. */
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_listen_ack"), 1);
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_RST_FLAG);
	ck_assert_uint_eq(o.seq, 777);
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, 9001);
	ck_assert(!pop_seg(&o));
	tcp_release(t.c);
	tcp_listener_close(tl.l);
}
END_TEST

/* The other way round: a SYN makes a connection, and the same SYN again
 * in that burst (the bulk lookup found nothing for either) must meet the
 * new connection, not the listener a second time. */
START_TEST(test_tcp_burst_sees_a_connection_an_earlier_segment_made)
{
	uint64_t full;
	unsigned in_use;
	struct out_seg o;

	learn_peer();
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 4, &tl, &tl.l), 0);
	full = pair_stat(srv, "tcp_conn_table_full");
	in_use = tcp_shard_conns_in_use(ss);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf,
			frame_tcp(fbuf, 40002, SERVER_PORT, 9000, 0,
				  RTE_TCP_SYN_FLAG, 65535, NULL, 0, NULL, 0)), 0);
	test_engine_poll(srv, 1);
	ck_assert_uint_eq(pair_stat(srv, "tcp_conn_table_full"), full);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), in_use + 1);
	/* Each SYN is answered by the one connection's SYN-ACK. */
	for (int i = 0; i < 2; i++) {
		ck_assert(pop_seg(&o));
		ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		ck_assert_uint_eq(o.ack, 9001);
	}
	ck_assert(!pop_seg(&o));
	tcp_listener_close(tl.l);
}
END_TEST

START_TEST(test_tcp_syn_on_established_connection_gets_challenge_ack)
{
	struct tconn t = {0};
	struct out_seg o;

	learn_peer();
	peer_handshake(5000, &t);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 777, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, 5001);
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_ESTABLISHED);
	tcp_abort(t.c);
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&o));
	ck_assert(o.flags & RTE_TCP_RST_FLAG);
	tcp_release(t.c);
	tcp_listener_close(tl.l);
}
END_TEST

START_TEST(test_tcp_out_of_order_data_is_acked_at_once_with_sack)
{
	static const uint8_t sackok[4] = { 1, 1, TCP_OPT_SACK_PERMITTED, 2 };
	struct tconn t = {0};
	struct out_seg o;
	uint32_t iss;
	char buf[16];

	learn_peer();
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 4, &tl, &tl.l), 0);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 100, 0, RTE_TCP_SYN_FLAG,
			 65535, sackok, sizeof(sackok), NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert(o.opts.present & TCP_OPT_HAS_SACK_PERMITTED);
	iss = o.seq;
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 101, iss + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	t.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(t.c);
	tcp_conn_set_user(t.c, &t);
	/* Bytes 4..7 before 0..3. */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 105, iss + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, "EFGH", 4));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.ack, 101);
	ck_assert(o.opts.present & TCP_OPT_HAS_SACK);
	ck_assert_uint_eq(o.opts.sack[0].start, 105);
	ck_assert_uint_eq(o.opts.sack[0].end, 109);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 101, iss + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, "ABCD", 4));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.ack, 109);
	ck_assert_uint_eq(tcp_recv(t.c, buf, sizeof(buf)), 8);
	ck_assert_mem_eq(buf, "ABCDEFGH", 8);
	tcp_abort(t.c);
	tcp_release(t.c);
	tcp_listener_close(tl.l);
	fake_port_drain(&fps);
}
END_TEST

START_TEST(test_tcp_full_backlog_answers_with_syn_cookie_and_cookie_ack_connects)
{
	struct out_seg o;
	struct tconn t = {0};
	struct tcp_conn *c;

	learn_peer();
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 1, &tl, &tl.l), 0);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 100, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 1);
	/* The backlog (1) is taken by the half-open connection above. */
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 900, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, 901);
	ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_sent"), 1);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 1);
	/* A forged cookie is refused with a RST. */
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 901, o.seq + 2,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o) && (o.flags & RTE_TCP_RST_FLAG));
	ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_bad"), 1);
	/* With the backlog still full, the real cookie ACK (cookie = the
	 * SYN-ACK's sequence) makes a connection without any saved state. */
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 900, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_sent"), 2);
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 901, o.seq + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_ok"), 1);
	ck_assert_uint_eq(tl.ready, 1);
	c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(c);
	tcp_conn_set_user(c, &t);
	ck_assert_int_eq(tcp_conn_state(c), TCPS_ESTABLISHED);
	tcp_abort(c);
	tcp_release(c);
	tcp_listener_close(tl.l);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 0);
}
END_TEST

START_TEST(test_tcp_new_syn_with_higher_sequence_reuses_time_wait)
{
	struct tconn t = {0};
	struct out_seg o;
	uint32_t iss;

	learn_peer();
	iss = peer_handshake(5000, &t);
	/* We close first, the peer acks and closes: we sit in TIME_WAIT. */
	ck_assert_int_eq(tcp_shutdown(t.c), 0);
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&o) && (o.flags & RTE_TCP_FIN_FLAG));
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 5001, iss + 2,
			 RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, 65535, NULL, 0,
			 NULL, 0));
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_TIME_WAIT);
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.ack, 5002);
	/* An old SYN (not above RCV.NXT) only gets an ACK. */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 5001, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(pair_stat(srv, "tcp_time_wait_reused"), 0);
	/* A newer one starts a new connection on the same 4-tuple. */
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 90000, 0, RTE_TCP_SYN_FLAG,
			 65535, NULL, 0, NULL, 0));
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(o.ack, 90001);
	ck_assert_uint_eq(pair_stat(srv, "tcp_time_wait_reused"), 1);
	/* Dropping the old handle must not unhook the new connection. */
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_CLOSED);
	tcp_release(t.c);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 90001, o.seq + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_uint_eq(tl.ready, 2);
	tcp_listener_close(tl.l);
	ck_assert_uint_eq(tcp_shard_conns_in_use(ss), 0);
}
END_TEST

/* --- a client against a peer that never answers, or answers badly -------- */

static void
client_learn_peer(void)
{
	struct rte_mbuf *m;

	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf,
		frame_arp(fbuf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac,
			  SERVER_IP)), 0);
	test_engine_poll(srv, 1);
	m = fake_port_pop_tx(&fps);
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
}

START_TEST(test_tcp_rst_in_syn_sent_with_bad_ack)
{
	struct tconn a = {0};
	struct out_seg o;

	client_learn_peer();
	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(5555), ip(PEER_IP),
				     htons(80), NULL, &a, &a.c), 0);
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&o));
	ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG);
	/* RFC 9293 §3.10.7.3 / RFC 5961 §3: an ACK that does not ack our
	 * SYN makes the RST unacceptable: dropped, nothing sent. */
	inject(frame_tcp(fbuf, 80, 5555, 0, o.seq + 5,
			 RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, NULL, 0, NULL, 0));
	ck_assert(!pop_seg(&o));
	ck_assert_int_eq(tcp_conn_state(a.c), TCPS_SYN_SENT);
	ck_assert_uint_eq(a.closed, 0);
	ck_assert_uint_eq(pair_stat(srv, "tcp_drop_syn_sent_rst"), 1);
	/* A RST without ACK is dropped too. */
	inject(frame_tcp(fbuf, 80, 5555, 0, 0, RTE_TCP_RST_FLAG, 0, NULL, 0,
			 NULL, 0));
	ck_assert_int_eq(tcp_conn_state(a.c), TCPS_SYN_SENT);
	/* The acceptable one refuses the connection. */
	inject(frame_tcp(fbuf, 80, 5555, 0, o.seq + 1,
			 RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, NULL, 0, NULL, 0));
	ck_assert_uint_eq(a.closed, 1);
	ck_assert_int_eq(a.reason, TCP_CLOSE_REFUSED);
	tcp_release(a.c);
}
END_TEST

START_TEST(test_tcp_syn_retries_exhausted_times_out_after_127_seconds)
{
	static const uint64_t at_s[] = { 0, 1, 3, 7, 15, 31, 63 };
	struct tconn a = {0};
	struct out_seg o;
	uint64_t t0 = ss->now_us;

	client_learn_peer();
	ck_assert_int_eq(tcp_connect(ss, 0, 0, 0, ip(PEER_IP), htons(80),
				     NULL, &a, &a.c), 0);
	for (unsigned i = 0; i < RTE_DIM(at_s); i++) {
		uint64_t due = t0 + at_s[i] * 1000000;

		if (i > 0) {
			engine_clock_set(&ss->clock, due - 1000);
			test_engine_poll(srv, 1);
			ck_assert_msg(!pop_seg(&o), "SYN %u early", i);
		}
		engine_clock_set(&ss->clock, due);
		test_engine_poll(srv, 1);
		ck_assert_msg(pop_seg(&o), "SYN %u missing", i);
		ck_assert_uint_eq(o.flags, RTE_TCP_SYN_FLAG);
	}
	engine_clock_set(&ss->clock, t0 + 127000000 - 1000);
	test_engine_poll(srv, 1);
	ck_assert_uint_eq(a.closed, 0);
	engine_clock_set(&ss->clock, t0 + 127000000);
	test_engine_poll(srv, 1);
	ck_assert_uint_eq(a.closed, 1);
	ck_assert_int_eq(a.reason, TCP_CLOSE_TIMEOUT);
	ck_assert(!pop_seg(&o));
	ck_assert_uint_eq(pair_stat(srv, "tcp_conn_timeout"), 1);
	tcp_release(a.c);
}
END_TEST

static Suite *
tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *pair = tcase_create("pair");
	TCase *one = tcase_create("single");

	tcase_add_checked_fixture(pair, setup_pair, teardown_common);
	tcase_add_test(pair, test_tcp_handshake_client_to_server);
	tcase_add_test(pair, test_tcp_key_hash_is_the_connection_tables_hash);
	tcase_add_test(pair, test_tcp_handshake_server_engine_connects_to_client_engine);
	tcase_add_test(pair, test_tcp_syn_offers_mss_wscale_timestamps_and_sack);
	tcase_add_test(pair, test_tcp_one_megabyte_each_way_arrives_intact);
	tcase_add_test(pair, test_tcp_segments_over_odd_queue_pieces_carry_valid_checksums);
	tcase_add_test(pair, test_tcp_small_payloads_are_copied_larger_ones_attached);
	tcase_add_test(pair, test_tcp_transfer_over_a_lossy_wire_completes_by_retransmission);
	tcase_add_test(pair, test_tcp_graceful_close_both_sides_then_time_wait_expires);
	tcase_add_test(pair, test_tcp_fin_acked_in_fin_wait_1_raises_acked_with_zero_bytes);
	tcase_add_test(pair, test_tcp_simultaneous_close_goes_through_closing);
	tcase_add_test(pair, test_tcp_simultaneous_open_reaches_established_on_both_sides);
	tcase_add_test(pair, test_tcp_rst_to_syn_reports_refused);
	tcase_add_test(pair, test_tcp_connection_pool_full_refuses_and_counts);
	tcase_add_test(pair, test_tcp_connections_sharing_a_slot_each_get_their_own_segments);
	tcase_set_timeout(pair, 60);
	suite_add_tcase(s, pair);

	tcase_add_checked_fixture(one, setup_single, teardown_common);
	tcase_add_test(one, test_tcp_syn_to_closed_port_is_answered_by_rst);
	tcase_add_test(one, test_tcp_syn_in_an_mbuf_with_stale_header_lengths_is_answered);
	tcase_add_test(one, test_tcp_malformed_options_segment_is_dropped_and_counted);
	tcase_add_test(one, test_tcp_bad_checksum_is_dropped_and_counted);
	tcase_add_test(one, test_tcp_rst_outside_window_ignored_inside_gets_challenge_ack);
	tcase_add_test(one, test_tcp_burst_is_looked_up_at_once_and_sees_earlier_segments_effects);
	tcase_add_test(one, test_tcp_burst_sees_a_connection_an_earlier_segment_made);
	tcase_add_test(one, test_tcp_syn_on_established_connection_gets_challenge_ack);
	tcase_add_test(one, test_tcp_out_of_order_data_is_acked_at_once_with_sack);
	tcase_add_test(one, test_tcp_full_backlog_answers_with_syn_cookie_and_cookie_ack_connects);
	tcase_add_test(one, test_tcp_new_syn_with_higher_sequence_reuses_time_wait);
	tcase_add_test(one, test_tcp_rst_in_syn_sent_with_bad_ack);
	tcase_add_test(one, test_tcp_syn_retries_exhausted_times_out_after_127_seconds);
	suite_add_tcase(s, one);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
