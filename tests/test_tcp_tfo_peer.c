/*
 * TCP Fast Open (RFC 7413) in one TCP engine against a handcrafted peer,
 * for the answers our own server never gives (test_tcp_tfo.c has two
 * engines talking).
 *
 * The server engine alone (tcp_pair.h's setup_single(), 10.0.0.2) with
 * the Fast Open connections of tfo_conns.h, and the peer (10.0.0.9) of
 * peer_frames.h: it injects frames and reads what the engine sends, as
 * client or as server. Every test checks the Fast Open counters; every
 * teardown proves that no connection and no mbuf was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "peer_frames.h"
#include "tcp.h"
#include "tcp_options.h"
#include "tcp_pair.h"
#include "test_eal.h"
#include "tfo_conns.h"

static void
setup(void)
{
	setup_single();
	tfo_conns_start();
}

/* --- the handcrafted peer ----------------------------------------------------- */

/* The next TCP segment the engine sent (ARP skipped); false if none.
 * Unlike test_tcp.c's pop_seg(), it flushes the shard's transmit buffer
 * first and keeps the payload's first bytes (struct wire_seg). */
static bool
pop_seg(struct wire_seg *w)
{
	struct rte_mbuf *m;
	uint8_t buf[34 + 60 + LOG_PAYLOAD];
	const uint8_t *f;

	shard_tx_flush(ss);
	for (;;) {
		m = fake_port_pop_tx(&fps);
		if (m == NULL)
			return false;
		f = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len,
				     (uint32_t)sizeof(buf)), buf);
		if (is_tcp(f))
			break;
		rte_pktmbuf_free(m);
	}
	parse_frame(f, m->pkt_len, w);
	rte_pktmbuf_free(m);
	return true;
}

/* Options of a handcrafted SYN-ACK: MSS, then a Fast Open cookie
 * (kind 34, or 254 when experimental), padded with NOPs. Returns the
 * length. */
static unsigned
synack_opts(uint8_t *o, uint16_t mss, const uint8_t *cookie, bool experimental)
{
	unsigned n = 0;

	o[n++] = TCP_OPT_MSS;
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	if (cookie != NULL) {
		if (experimental) {
			o[n++] = TCP_OPT_EXPERIMENTAL;
			o[n++] = 4 + 8;
			o[n++] = 0xF9;
			o[n++] = 0x89;
		} else {
			o[n++] = TCP_OPT_FASTOPEN;
			o[n++] = 2 + 8;
		}
		memcpy(o + n, cookie, 8);
		n += 8;
	}
	while (n % 4 != 0)
		o[n++] = TCP_OPT_NOP;
	return n;
}

static const uint8_t peer_cookie[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

/* The engine (as client, options o) connects from lport to the peer on
 * port 80; the peer answers with a SYN-ACK (ISN isn, options opt), and the
 * test aborts the connection once the handshake's ACK is out. Returns the
 * engine's SYN. */
static struct wire_seg
handshake_then_abort(uint16_t lport, const struct tcp_conn_opts *o,
		     uint32_t isn, const uint8_t *opt, unsigned olen)
{
	struct tfo_conn t = {0};
	struct wire_seg syn, w;

	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(lport), ip(PEER_IP),
				     htons(80), o, &t, &t.c), 0);
	ck_assert(pop_seg(&syn));
	ck_assert_uint_eq(syn.flags, RTE_TCP_SYN_FLAG);
	inject(frame_tcp(fbuf, 80, lport, isn, syn.seq + 1,
			 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, opt, olen,
			 NULL, 0));
	ck_assert_uint_eq(t.connected, 1);
	/* The handshake's ACK waits a pass for data to ride on. */
	ck_assert(!pop_seg(&w));
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(w.ack, isn + 1);
	tcp_abort(t.c);
	tcp_release(t.c);
	ck_assert(pop_seg(&w));
	ck_assert(w.flags & RTE_TCP_RST_FLAG);
	return syn;
}

/* The peer's SYN-ACK carries 'mss' and peer_cookie (handshake_then_abort
 * from lport). Returns the client's SYN, which asked for the cookie. */
static struct wire_seg
client_gets_cookie(uint16_t lport, uint16_t mss, bool experimental)
{
	struct tcp_conn_opts o = { .tfo = true };
	uint8_t opt[40];
	unsigned olen = synack_opts(opt, mss, peer_cookie, experimental);

	return handshake_then_abort(lport, &o, 5000, opt, olen);
}

START_TEST(test_tfo_synack_acking_only_the_syn_makes_the_client_send_the_data_again)
{
	struct tcp_conn_opts o = { .tfo = true, .data = fill(2000, 11),
				   .data_len = 2000 };
	struct tfo_conn t = {0};
	struct wire_seg syn, w;
	uint8_t opt[40];
	unsigned olen = synack_opts(opt, 600, NULL, false);
	uint32_t next, total = 0;

	learn_peer();
	syn = client_gets_cookie(5001, 600, false);
	ck_assert(tcp_opts_tfo_is_request(&syn.opts));
	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(5002), ip(PEER_IP),
				     htons(80), &o, &t, &t.c), 0);
	ck_assert(pop_seg(&syn));
	ck_assert_uint_eq(syn.opts.tfo_cookie_len, 8);
	ck_assert_mem_eq(syn.opts.tfo_cookie, peer_cookie, 8);
	/* The MSS the peer gave with its cookie bounds the SYN's data. */
	ck_assert_uint_eq(syn.len, 600 - syn.olen);
	ck_assert_uint_eq(syn.payload[0], pattern(0, 11));
	/* The peer acknowledges the SYN only, and gives no cookie. */
	inject(frame_tcp(fbuf, 80, 5002, 7000, syn.seq + 1,
			 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, opt, olen,
			 NULL, 0));
	ck_assert_uint_eq(t.connected, 1);
	ck_assert_uint_eq(t.acked, 0);
	/* At once, every byte again from ISN + 1 in 600-byte segments (the
	 * short tail waits for an ACK: Nagle). */
	next = syn.seq + 1;
	for (int round = 0; round < 2; round++) {
		while (pop_seg(&w)) {
			ck_assert(w.flags & RTE_TCP_ACK_FLAG);
			ck_assert_uint_eq(w.ack, 7001);
			if (w.len == 0)
				continue;
			ck_assert_uint_eq(w.seq, next);
			ck_assert_uint_le(w.len, 600);
			ck_assert_uint_eq(w.payload[0],
					  pattern(next - syn.seq - 1, 11));
			next += w.len;
			total += w.len;
		}
		if (round == 0)
			ck_assert_uint_ge(total, 1800);
		inject(frame_tcp(fbuf, 80, 5002, 7001, next, RTE_TCP_ACK_FLAG,
				 65535, NULL, 0, NULL, 0));
	}
	ck_assert_uint_eq(total, 2000);
	ck_assert_uint_eq(t.acked, 2000);
	tcp_abort(t.c);
	tcp_release(t.c);

	ck_assert_uint_eq(pair_stat(srv, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_syn_data_acked"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_blackholed"), 1);
}
END_TEST

START_TEST(test_tfo_client_speaks_the_experimental_form_the_server_answered_in)
{
	struct tcp_conn_opts o = { .tfo = true, .data = fill(10, 12),
				   .data_len = 10 };
	struct tfo_conn t = {0};
	struct wire_seg syn;

	learn_peer();
	client_gets_cookie(5003, 1460, true);
	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(5004), ip(PEER_IP),
				     htons(80), &o, &t, &t.c), 0);
	ck_assert(pop_seg(&syn));
	ck_assert(syn.opts.tfo_experimental);
	ck_assert_uint_eq(syn.opts.tfo_cookie_len, 8);
	ck_assert_mem_eq(syn.opts.tfo_cookie, peer_cookie, 8);
	ck_assert_uint_eq(syn.len, 10);
	tcp_abort(t.c);
	tcp_release(t.c);
	ck_assert_uint_eq(pair_stat(srv, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_syn_data_sent"), 1);
}
END_TEST

/* A SYN from the peer with an experimental-form Fast Open option. */
static unsigned
peer_syn_exp(uint16_t sport, uint32_t seq, const uint8_t *cookie,
	     const void *data, unsigned len)
{
	uint8_t opt[12] = { TCP_OPT_EXPERIMENTAL, 4, 0xF9, 0x89 };
	unsigned olen = 4;

	if (cookie != NULL) {
		opt[1] = 12;
		memcpy(opt + 4, cookie, 8);
		olen = 12;
	}
	return frame_tcp(fbuf, sport, SERVER_PORT, seq, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, olen, data, len);
}

START_TEST(test_tfo_server_answers_the_experimental_form_in_kind)
{
	struct wire_seg w;
	uint8_t cookie[8];

	learn_peer();
	listen_tfo(4);
	inject(peer_syn_exp(40000, 1000, NULL, NULL, 0));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert(w.opts.present & TCP_OPT_HAS_TFO);
	ck_assert(w.opts.tfo_experimental);
	ck_assert_uint_eq(w.opts.tfo_cookie_len, 8);
	memcpy(cookie, w.opts.tfo_cookie, 8);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1001, 0, RTE_TCP_RST_FLAG,
			 0, NULL, 0, NULL, 0));

	inject(peer_syn_exp(40001, 2000, cookie, "0123456789", 10));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(w.ack, 2000 + 1 + 10);
	ck_assert_uint_eq(tl.ready, 1);
	ck_assert_uint_eq(nscon, 1);
	ck_assert_int_eq(scon[0].state_at_accept, TCPS_SYN_RECEIVED);
	ck_assert_uint_eq(scon[0].got, 10);
	ck_assert_mem_eq(scon[0].data, "0123456789", 10);
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 2011, w.seq + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_int_eq(tcp_conn_state(scon[0].c), TCPS_ESTABLISHED);
	ck_assert_uint_eq(tl.ready, 1);
	tcp_abort(scon[0].c);
	tcp_release(scon[0].c);

	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

/* The peer asks the listener for a cookie (a SYN from port 40000 with an
 * empty Fast Open option), takes it from the SYN-ACK and resets that
 * connection. */
static void
peer_gets_cookie(uint8_t cookie[8])
{
	uint8_t opt[4] = { TCP_OPT_FASTOPEN, 2, TCP_OPT_NOP, TCP_OPT_NOP };
	struct wire_seg w;

	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 4, NULL, 0));
	ck_assert(pop_seg(&w));
	ck_assert(!w.opts.tfo_experimental);
	ck_assert_uint_eq(w.opts.tfo_cookie_len, 8);
	memcpy(cookie, w.opts.tfo_cookie, 8);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1001, 0, RTE_TCP_RST_FLAG,
			 0, NULL, 0, NULL, 0));
}

START_TEST(test_tfo_server_over_its_pending_limit_does_a_normal_handshake)
{
	struct wire_seg w;
	uint8_t cookie[8], opt[12] = { TCP_OPT_FASTOPEN, 10 };
	uint32_t iss1;

	learn_peer();
	listen_tfo(1);
	peer_gets_cookie(cookie);

	memcpy(opt + 2, cookie, 8);
	opt[10] = opt[11] = TCP_OPT_NOP;
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 2000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 12, "abcde", 5));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.ack, 2006);
	iss1 = w.seq;
	/* One pending already: the next one is an ordinary handshake. */
	inject(frame_tcp(fbuf, 40002, SERVER_PORT, 3000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 12, "fghij", 5));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.ack, 3001);
	ck_assert_uint_eq(nscon, 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_overflow"), 1);
	/* The first one's third ACK frees its place. */
	inject(frame_tcp(fbuf, 40001, SERVER_PORT, 2006, iss1 + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_int_eq(tcp_conn_state(scon[0].c), TCPS_ESTABLISHED);
	inject(frame_tcp(fbuf, 40003, SERVER_PORT, 4000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 12, "klmno", 5));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.ack, 4006);
	ck_assert_uint_eq(nscon, 2);
	ck_assert_mem_eq(scon[1].data, "klmno", 5);
	for (unsigned i = 0; i < nscon; i++) {
		tcp_abort(scon[i].c);
		tcp_release(scon[i].c);
	}

	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 2);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_overflow"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

/* A Fast Open client whose SYN-ACK is followed by the answer before its
 * first ACK went out sends no bare ACK for them: its FIN (or whatever the
 * user sends next) carries the ACK of both, six packets a connection
 * instead of seven. Left alone, the delayed-ACK timer sends it. A
 * handshake ACK with nothing behind it still goes a pass later. */
START_TEST(test_tfo_client_acks_synack_and_answer_with_what_it_sends_next)
{
	struct tcp_conn_opts o = { .tfo = true, .data = fill(10, 13),
				   .data_len = 10 };
	struct tfo_conn t[2];
	struct wire_seg syn, w;
	uint8_t opt[40];
	unsigned olen = synack_opts(opt, 600, NULL, false);

	memset(t, 0, sizeof(t));
	learn_peer();
	client_gets_cookie(5001, 600, false);
	for (unsigned k = 0; k < 2; k++) {
		uint16_t lport = (uint16_t)(5002 + k);

		ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(lport),
					     ip(PEER_IP), htons(80), &o, &t[k],
					     &t[k].c), 0);
		ck_assert(pop_seg(&syn));
		ck_assert_uint_eq(syn.len, 10);
		inject(frame_tcp(fbuf, 80, lport, 7000, syn.seq + 11,
				 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, opt,
				 olen, NULL, 0));
		ck_assert_uint_eq(t[k].connected, 1);
		ck_assert_uint_eq(t[k].acked, 10);
		inject(frame_tcp(fbuf, 80, lport, 7001, syn.seq + 11,
				 RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 65535, NULL,
				 0, "ok", 2));
		ck_assert_uint_eq(t[k].got, 2);
		ck_assert_mem_eq(t[k].data, "ok", 2);
		poll_both(3);
		ck_assert(!pop_seg(&w));
		if (k == 0) {
			ck_assert_int_eq(tcp_shutdown(t[k].c), 0);
			ck_assert(pop_seg(&w));
			ck_assert_uint_eq(w.flags,
					  RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
		} else {
			advance(conf.delack_us);
			ck_assert(pop_seg(&w));
			ck_assert_uint_eq(w.flags, RTE_TCP_ACK_FLAG);
			ck_assert_uint_eq(w.len, 0);
		}
		ck_assert_uint_eq(w.seq, syn.seq + 11);
		ck_assert_uint_eq(w.ack, 7003);
		ck_assert(!pop_seg(&w));
		tcp_abort(t[k].c);
		tcp_release(t[k].c);
		ck_assert(pop_seg(&w));
		ck_assert(w.flags & RTE_TCP_RST_FLAG);
	}
}
END_TEST

/* The handshake's deferred ACK is owed by a flag, not by comparing
 * RCV.NXT with the last ACK sent: a peer ISN of 2^32 - 1 puts RCV.NXT at
 * 0, which a fresh connection's last ACK sent already reads. */
START_TEST(test_handshake_ack_goes_out_when_rcv_nxt_wraps_to_zero)
{
	struct tcp_conn_opts o = {0};

	learn_peer();
	handshake_then_abort(5010, &o, UINT32_MAX, NULL, 0);
}
END_TEST

/* A valid cookie with data: the peer's SYN (port lport, ISN seq) carries
 * "abcde"; returns the SYN-ACK. */
static struct wire_seg
peer_syn_data(uint16_t lport, uint32_t seq, const uint8_t *cookie)
{
	uint8_t opt[12] = { TCP_OPT_FASTOPEN, 10 };
	struct wire_seg w;

	memcpy(opt + 2, cookie, 8);
	opt[10] = opt[11] = TCP_OPT_NOP;
	inject(frame_tcp(fbuf, lport, SERVER_PORT, seq, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 12, "abcde", 5));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(w.ack, seq + 6);
	return w;
}

/* RFC 7413 §4.2.2, as Linux: the answer to SYN data leaves right behind
 * the SYN-ACK, before the third ACK. An ACK of the SYN-ACK alone makes
 * the connection established with the answer still in flight, and is no
 * duplicate ACK of it; a third ACK covering both completes the answer at
 * once. */
START_TEST(test_tfo_server_answers_before_the_third_ack)
{
	uint8_t cookie[8];
	struct wire_seg w, synack;

	learn_peer();
	listen_tfo(4);
	reply_on_accept = true;
	peer_gets_cookie(cookie);

	for (unsigned k = 0; k < 2; k++) {
		uint16_t lport = (uint16_t)(40001 + k);
		uint32_t seq = 2000 + 1000 * k;

		synack = peer_syn_data(lport, seq, cookie);
		ck_assert_uint_eq(nscon, k + 1);
		ck_assert_int_eq(scon[k].reply_rc, 2);
		ck_assert(pop_seg(&w));
		ck_assert_uint_eq(w.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG |
					     RTE_TCP_RST_FLAG), 0);
		ck_assert_uint_eq(w.seq, synack.seq + 1);
		ck_assert_uint_eq(w.ack, seq + 6);
		ck_assert_uint_eq(w.len, 2);
		ck_assert_mem_eq(w.payload, "ok", 2);
		ck_assert_int_eq(tcp_conn_state(scon[k].c), TCPS_SYN_RECEIVED);
		ck_assert(!pop_seg(&w));
		if (k == 0) {
			inject(frame_tcp(fbuf, lport, SERVER_PORT, seq + 6,
					 synack.seq + 1, RTE_TCP_ACK_FLAG, 65535,
					 NULL, 0, NULL, 0));
			ck_assert_int_eq(tcp_conn_state(scon[k].c),
					 TCPS_ESTABLISHED);
			ck_assert_uint_eq(scon[k].acked, 0);
			ck_assert_uint_eq(pair_stat(srv, "tcp_dup_acks"), 0);
		}
		inject(frame_tcp(fbuf, lport, SERVER_PORT, seq + 6,
				 synack.seq + 3, RTE_TCP_ACK_FLAG, 65535, NULL, 0,
				 NULL, 0));
		ck_assert_int_eq(tcp_conn_state(scon[k].c), TCPS_ESTABLISHED);
		ck_assert_uint_eq(scon[k].acked, 2);
		ck_assert(!pop_seg(&w));
	}
	ck_assert_uint_eq(pair_stat(srv, "tcp_dup_acks"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 2);
	for (unsigned i = 0; i < nscon; i++) {
		tcp_abort(scon[i].c);
		tcp_release(scon[i].c);
	}
}
END_TEST

START_TEST(test_tfo_server_drops_data_under_a_bad_cookie_and_offers_a_valid_one)
{
	struct wire_seg w;
	uint8_t opt[12] = { TCP_OPT_FASTOPEN, 10, 1, 2, 3, 4, 5, 6, 7, 8,
			    TCP_OPT_NOP, TCP_OPT_NOP };

	learn_peer();
	listen_tfo(4);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 12, "xyz", 3));
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	/* Data dropped, a valid cookie offered instead. */
	ck_assert_uint_eq(w.ack, 1001);
	ck_assert_uint_eq(w.opts.tfo_cookie_len, 8);
	ck_assert_uint_eq(tl.ready, 0);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1001, w.seq + 1,
			 RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0));
	ck_assert_uint_eq(nscon, 1);
	ck_assert_uint_eq(scon[0].got, 0);
	tcp_abort(scon[0].c);
	tcp_release(scon[0].c);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 0);
}
END_TEST

START_TEST(test_tfo_synack_with_data_and_fin_keeps_both)
{
	struct tfo_conn t = {0};
	struct wire_seg syn, w;

	learn_peer();
	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(5005), ip(PEER_IP),
				     htons(80), NULL, &t, &t.c), 0);
	ck_assert(pop_seg(&syn));
	inject(frame_tcp(fbuf, 80, 5005, 9000, syn.seq + 1,
			 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG,
			 65535, NULL, 0, "hello", 5));
	ck_assert_uint_eq(t.connected, 1);
	ck_assert_uint_eq(t.got, 5);
	ck_assert_mem_eq(t.data, "hello", 5);
	ck_assert(tcp_rcv_fin(t.c));
	ck_assert_int_eq(tcp_conn_state(t.c), TCPS_CLOSE_WAIT);
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.ack, 9000 + 1 + 5 + 1);
	tcp_abort(t.c);
	tcp_release(t.c);
	ck_assert_uint_eq(pair_stat(srv, "tfo_cookie_requests_sent"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_syn_data_sent"), 0);
}
END_TEST

static Suite *
tcp_tfo_peer_suite(void)
{
	Suite *s = suite_create("tcp_tfo_peer");
	TCase *one = tcase_create("single");

	tcase_add_checked_fixture(one, setup, tfo_teardown);
	tcase_add_test(one, test_tfo_synack_acking_only_the_syn_makes_the_client_send_the_data_again);
	tcase_add_test(one, test_tfo_client_speaks_the_experimental_form_the_server_answered_in);
	tcase_add_test(one, test_tfo_server_answers_the_experimental_form_in_kind);
	tcase_add_test(one, test_tfo_server_over_its_pending_limit_does_a_normal_handshake);
	tcase_add_test(one, test_tfo_server_drops_data_under_a_bad_cookie_and_offers_a_valid_one);
	tcase_add_test(one, test_tfo_synack_with_data_and_fin_keeps_both);
	tcase_add_test(one, test_tfo_server_answers_before_the_third_ack);
	tcase_add_test(one, test_tfo_client_acks_synack_and_answer_with_what_it_sends_next);
	tcase_add_test(one, test_handshake_ack_goes_out_when_rcv_nxt_wraps_to_zero);
	suite_add_tcase(s, one);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_tfo_peer_suite()) == 0 ? EXIT_SUCCESS
							 : EXIT_FAILURE;
}
