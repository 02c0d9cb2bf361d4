/*
 * TCP Fast Open (RFC 7413) between two TCP engines, and its wskapi glue,
 * on fake ports and the virtual clock (test_tcp_tfo_peer.c has the
 * answers only a handcrafted peer gives).
 *
 * Two engines wired back to back (tcp_pair.h: client 10.0.0.1, server
 * 10.0.0.2) with the Fast Open connections of tfo_conns.h; a wire filter
 * logs, and may drop, what each side sends. Every test checks the Fast
 * Open counters; every teardown proves that no connection and no mbuf
 * was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "tcp_options.h"
#include "tcp_pair.h"
#include "tcp_var.h"
#include "test_eal.h"
#include "tfo_conns.h"
#include "wsk.h"
#include "wsk_ring.h"

/* --- the wire log --------------------------------------------------------- */

#define LOG_MAX 256

struct wire_log {
	struct wire_seg seg[LOG_MAX];
	unsigned n;
	bool drop_first_syn_data;	/* drop the next SYN that has data */
	unsigned dropped;
};

static struct wire_log clog, slog;	/* client -> server, server -> client */

static bool
wire_log_filter(void *arg, const struct rte_mbuf *m)
{
	struct wire_log *log = arg;
	uint8_t buf[34 + 60 + LOG_PAYLOAD];
	const uint8_t *f = rte_pktmbuf_read(m, 0,
		RTE_MIN(m->pkt_len, (uint32_t)sizeof(buf)), buf);
	struct wire_seg w;

	if (!is_tcp(f))
		return false;
	parse_frame(f, m->pkt_len, &w);
	if (log->n < LOG_MAX)
		log->seg[log->n++] = w;
	if (log->drop_first_syn_data && (w.flags & RTE_TCP_SYN_FLAG) &&
	    w.len > 0) {
		log->drop_first_syn_data = false;
		log->dropped++;
		return true;
	}
	return false;
}

static void
logs_reset(void)
{
	memset(&clog, 0, sizeof(clog));
	memset(&slog, 0, sizeof(slog));
}

/* The first logged segment with exactly these SYN/ACK flags from index
 * 'from' on; fails the test if there is none. */
static const struct wire_seg *
find_seg(const struct wire_log *log, uint8_t flags, unsigned from)
{
	for (unsigned i = from; i < log->n; i++)
		if ((log->seg[i].flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) ==
		    flags)
			return &log->seg[i];
	ck_abort_msg("no segment with flags %#x", flags);
	return NULL;
}

static unsigned
count_syns(const struct wire_log *log)
{
	unsigned n = 0;

	for (unsigned i = 0; i < log->n; i++)
		if ((log->seg[i].flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) ==
		    RTE_TCP_SYN_FLAG)
			n++;
	return n;
}

/* Payload bytes the log holds in total (retransmissions included). */
static uint64_t
payload_total(const struct wire_log *log)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < log->n; i++)
		n += log->seg[i].len;
	return n;
}

/* --- set-up ------------------------------------------------------------------ */

static void
setup(void)
{
	setup_pair();
	tfo_conns_start();
	logs_reset();
	fpc.wire_filter = wire_log_filter;
	fpc.wire_filter_arg = &clog;
	fps.wire_filter = wire_log_filter;
	fps.wire_filter_arg = &slog;
}

/* --- pair helpers ------------------------------------------------------------ */

/* Start a Fast Open connection from the client with 'len' bytes of
 * initial data. */
static void
tfo_start(struct tfo_conn *t, uint32_t len, uint8_t salt)
{
	struct tcp_conn_opts o = {
		.tfo = true, .data = fill(len, salt), .data_len = len,
	};

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT), &o, t, &t->c), 0);
}

/* tfo_start() and let the exchange run; returns the server side. */
static struct tfo_conn *
tfo_connect(struct tfo_conn *t, uint32_t len, uint8_t salt)
{
	unsigned before = nscon;

	tfo_start(t, len, salt);
	/* Past the 40 ms delayed ACK, so every byte is acknowledged. */
	for (int i = 0; i < 100; i++)
		advance(1000);
	ck_assert_uint_eq(t->connected, 1);
	ck_assert_uint_eq(nscon, before + 1);
	return &scon[nscon - 1];
}

static void
close_both(struct tfo_conn *a, struct tfo_conn *b)
{
	tcp_shutdown(a->c);
	poll_both(5);
	tcp_shutdown(b->c);
	poll_both(5);
	tcp_release(a->c);
	tcp_release(b->c);
}

/* A first connection that gets the client a cookie. */
static void
warm_cookie(void)
{
	struct tfo_conn a, *b;

	b = tfo_connect(&a, 0, 0);
	close_both(&a, b);
	ck_assert_uint_eq(pair_stat(cli, "tfo_cookies_received"), 1);
	logs_reset();
}

/* --- pair tests -------------------------------------------------------------- */

START_TEST(test_tfo_first_connection_requests_a_cookie_and_caches_it)
{
	struct tfo_conn a, c, *b, *d;
	const struct wire_seg *syn, *synack;
	uint8_t cookie[TCP_OPT_TFO_COOKIE_MAX];

	listen_tfo(16);
	b = tfo_connect(&a, 100, 1);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(tcp_opts_tfo_is_request(&syn->opts));
	ck_assert(!syn->opts.tfo_experimental);
	ck_assert_uint_eq(syn->len, 0);
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert(synack->opts.present & TCP_OPT_HAS_TFO);
	ck_assert_uint_eq(synack->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_uint_eq(synack->ack, syn->seq + 1);
	memcpy(cookie, synack->opts.tfo_cookie, TCP_TFO_COOKIE_LEN);
	/* No cookie, no data in the SYN: the bytes follow the handshake. */
	ck_assert_int_eq(b->state_at_accept, TCPS_ESTABLISHED);
	check_data(b, 100, 1);
	ck_assert_uint_eq(a.acked, 100);
	close_both(&a, b);

	/* The cookie is cached: the next SYN carries it. */
	logs_reset();
	d = tfo_connect(&c, 0, 0);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(syn->opts.present & TCP_OPT_HAS_TFO);
	ck_assert_uint_eq(syn->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_mem_eq(syn->opts.tfo_cookie, cookie, TCP_TFO_COOKIE_LEN);
	/* A valid cookie without data is a normal handshake, no new cookie. */
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert(!(synack->opts.present & TCP_OPT_HAS_TFO));
	close_both(&c, d);

	ck_assert_uint_eq(pair_stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 0);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

START_TEST(test_tfo_syn_data_is_read_by_the_server_before_the_third_ack)
{
	struct tfo_conn a, *b;
	const struct wire_seg *syn, *synack;

	listen_tfo(16);
	warm_cookie();
	reply_on_accept = true;
	b = tfo_connect(&a, 200, 2);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_uint_eq(syn->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_uint_eq(syn->len, 200);
	ck_assert_uint_eq(syn->payload[0], pattern(0, 2));
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert_uint_eq(synack->ack, syn->seq + 1 + 200);
	/* accept_ready ran on the SYN: the application had the connection
	 * and its data, and answered, before the client's ACK. */
	ck_assert_int_eq(b->state_at_accept, TCPS_SYN_RECEIVED);
	ck_assert_int_eq(b->state_at_first_read, TCPS_SYN_RECEIVED);
	ck_assert_int_eq(b->reply_rc, 2);
	check_data(b, 200, 2);
	ck_assert_uint_eq(a.got, 2);
	ck_assert_mem_eq(a.data, "ok", 2);
	ck_assert_uint_eq(a.acked, 200);
	ck_assert_int_eq(tcp_conn_state(b->c), TCPS_ESTABLISHED);
	/* The data went once: in the SYN. */
	ck_assert_uint_eq(payload_total(&clog), 200);
	close_both(&a, b);

	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_overflow"), 0);
}
END_TEST

START_TEST(test_tfo_data_beyond_the_syn_room_is_split_and_arrives_once_in_order)
{
	struct tfo_conn a, *b;
	const struct wire_seg *syn, *synack;

	listen_tfo(16);
	warm_cookie();
	b = tfo_connect(&a, 5000, 3);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	/* The server's MSS (1460) less the SYN's own options. */
	ck_assert_uint_eq(syn->len, 1460 - syn->olen);
	ck_assert_uint_eq(synack->ack, syn->seq + 1 + syn->len);
	check_data(b, 5000, 3);
	ck_assert_uint_eq(a.acked, 5000);
	ck_assert_uint_eq(payload_total(&clog), 5000);
	close_both(&a, b);

	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_bad_cookie_drops_the_syn_data_which_then_arrives_once)
{
	struct tfo_conn a, c, *b, *d;
	const struct wire_seg *syn, *synack;
	uint8_t old[TCP_TFO_COOKIE_LEN], fresh[TCP_TFO_COOKIE_LEN];

	listen_tfo(16);
	warm_cookie();
	/* The server changes its key: the client's cookie is stale. */
	tcp_shard_of(ss)->secret.tfo_key[0] ^= 0xff;
	b = tfo_connect(&a, 300, 4);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_uint_eq(syn->len, 300);
	memcpy(old, syn->opts.tfo_cookie, sizeof(old));
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert_uint_eq(synack->ack, syn->seq + 1);
	ck_assert_uint_eq(synack->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	memcpy(fresh, synack->opts.tfo_cookie, sizeof(fresh));
	ck_assert(memcmp(old, fresh, sizeof(old)) != 0);
	ck_assert_int_eq(b->state_at_accept, TCPS_ESTABLISHED);
	check_data(b, 300, 4);
	ck_assert_uint_eq(a.acked, 300);
	/* Sent twice (SYN, then after the handshake), delivered once. */
	ck_assert_uint_eq(payload_total(&clog), 600);
	close_both(&a, b);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_blackholed"), 0);

	/* The fresh cookie works on the next connection. */
	logs_reset();
	d = tfo_connect(&c, 300, 5);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_mem_eq(syn->opts.tfo_cookie, fresh, sizeof(fresh));
	ck_assert_uint_eq(syn->len, 300);
	ck_assert_int_eq(d->state_at_accept, TCPS_SYN_RECEIVED);
	check_data(d, 300, 5);
	close_both(&c, d);

	ck_assert_uint_eq(pair_stat(cli, "tfo_cookies_received"), 2);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 2);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 2);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_server_without_fast_open_ignores_the_request_and_the_client_falls_back)
{
	struct tfo_conn a, c, *b, *d;
	const struct wire_seg *syn, *synack;

	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, &tl, &tl.l), 0);
	b = tfo_connect(&a, 100, 6);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(tcp_opts_tfo_is_request(&syn->opts));
	synack = find_seg(&slog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert(!(synack->opts.present & TCP_OPT_HAS_TFO));
	check_data(b, 100, 6);
	close_both(&a, b);

	/* Still no cookie: the next SYN asks again, without data. */
	logs_reset();
	d = tfo_connect(&c, 100, 7);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(tcp_opts_tfo_is_request(&syn->opts));
	ck_assert_uint_eq(syn->len, 0);
	check_data(d, 100, 7);
	close_both(&c, d);

	ck_assert_uint_eq(pair_stat(cli, "tfo_cookie_requests_sent"), 2);
	ck_assert_uint_eq(pair_stat(cli, "tfo_cookies_received"), 0);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 0);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(pair_stat(cli, "tfo_blackholed"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_cookies_sent"), 0);
}
END_TEST

START_TEST(test_tfo_lost_syn_data_follows_the_handshake_and_the_server_gets_plain_syns)
{
	struct tfo_conn a, c, e, *b, *d, *f;
	const struct wire_seg *syn, *syn2;

	listen_tfo(16);
	warm_cookie();
	clog.drop_first_syn_data = true;
	tfo_start(&a, 400, 8);
	poll_both(5);
	ck_assert_uint_eq(clog.dropped, 1);
	ck_assert_int_eq(tcp_conn_state(a.c), TCPS_SYN_SENT);
	for (int i = 0; i < 1100 && a.connected == 0; i++)
		advance(1000);
	for (int i = 0; i < 20; i++)
		advance(1000);
	for (int i = 0; i < 80; i++)
		advance(1000);
	ck_assert_uint_eq(a.connected, 1);
	ck_assert_uint_eq(nscon, 2);
	b = &scon[1];
	ck_assert_uint_eq(count_syns(&clog), 2);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_uint_eq(syn->len, 400);
	/* The retransmitted SYN keeps the cookie but carries no data. */
	syn2 = find_seg(&clog, RTE_TCP_SYN_FLAG, (unsigned)(syn - clog.seg) + 1);
	ck_assert_uint_eq(syn2->len, 0);
	ck_assert_uint_eq(syn2->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_int_eq(b->state_at_accept, TCPS_ESTABLISHED);
	check_data(b, 400, 8);
	ck_assert_uint_eq(a.acked, 400);
	close_both(&a, b);
	ck_assert_uint_eq(pair_stat(cli, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_blackholed"), 1);

	/* Marked: a plain SYN, no option, no data. */
	logs_reset();
	d = tfo_connect(&c, 100, 9);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(!(syn->opts.present & TCP_OPT_HAS_TFO));
	ck_assert_uint_eq(syn->len, 0);
	check_data(d, 100, 9);
	close_both(&c, d);

	/* After tfo_blackhole_us the cookie is used again. */
	for (int i = 0; i < 60; i++)
		advance(1000000);
	logs_reset();
	f = tfo_connect(&e, 100, 10);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_uint_eq(syn->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_uint_eq(syn->len, 100);
	check_data(f, 100, 10);
	close_both(&e, f);

	ck_assert_uint_eq(pair_stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 2);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_blackholed"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

/* --- wskapi ------------------------------------------------------------------- */

/* wc and cq of wsk_ring.h, made by the tests themselves. */

static struct wsk_completion
wait_one(void)
{
	return wait_one_by(step_engines, 200);
}

static WSK_SOCKET *
wsk_sock(uint32_t category, uint16_t port, uint32_t fastopen)
{
	struct wsk_request r = rq(1);
	struct sockaddr_in local = { .sin_family = AF_INET,
				     .sin_port = htons(port) };
	WSK_SOCKET *so = NULL;

	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				    category, NULL, &so, &r), STATUS_SUCCESS);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP, sizeof(fastopen),
			 &fastopen, 0, NULL, NULL, NULL), STATUS_SUCCESS);
	ck_assert_int_eq((category == WSK_FLAG_STREAM_SOCKET
			  ? so->stream->bind : so->connection->bind)(so,
			 (struct sockaddr *)&local, 0, &r), STATUS_SUCCESS);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	return so;
}

START_TEST(test_tfo_wsk_connect_ex_with_tcp_fastopen_puts_the_buffer_in_the_syn)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(SERVER_PORT) };
	struct wsk_request r = { .cq = cq, .user_data = 7 };
	struct wsk_mdl m = { .va = out_data, .len = 300 };
	WSK_BUF b = { .mdl = &m, .length = 300 };
	struct wsk_completion e;
	const struct wire_seg *syn;
	WSK_SOCKET *so;

	wsk_client_start(16, 64, 64);
	r.cq = cq;
	listen_tfo(16);
	fill(300, 13);
	to.sin_addr.s_addr = ip(SERVER_IP);

	so = wsk_sock(WSK_FLAG_CONNECTION_SOCKET, 0, 1);
	ck_assert_int_eq(so->connection->connect_ex(so, (struct sockaddr *)&to,
			 &b, 0, &r), STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 300);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert(tcp_opts_tfo_is_request(&syn->opts));
	ck_assert_uint_eq(syn->len, 0);
	ck_assert_uint_eq(nscon, 1);
	check_data(&scon[0], 300, 13);
	close_sock(so);

	logs_reset();
	so = wsk_sock(WSK_FLAG_CONNECTION_SOCKET, 0, 1);
	ck_assert_int_eq(so->connection->connect_ex(so, (struct sockaddr *)&to,
			 &b, 0, &r), STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 300);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_uint_eq(syn->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	ck_assert_uint_eq(syn->len, 300);
	ck_assert_mem_eq(syn->payload, out_data, LOG_PAYLOAD);
	ck_assert_uint_eq(payload_total(&clog), 300);
	ck_assert_uint_eq(nscon, 2);
	ck_assert_int_eq(scon[1].state_at_accept, TCPS_SYN_RECEIVED);
	check_data(&scon[1], 300, 13);
	close_sock(so);
	for (unsigned i = 0; i < nscon; i++) {
		tcp_abort(scon[i].c);
		tcp_release(scon[i].c);
	}
	wsk_client_stop();

	ck_assert_uint_eq(pair_stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_wsk_listen_after_tcp_fastopen_issues_cookies)
{
	struct wsk_request r = { .cq = NULL, .user_data = 8 };
	struct tcp_conn_opts o = { .tfo = true };
	struct tfo_conn t = {0};
	const struct wire_seg *synack;
	WSK_SOCKET *ls;

	wsk_client_start(16, 64, 64);
	r.cq = cq;
	/* The wskapi side listens on the client engine; the server engine
	 * connects to it. */
	ls = wsk_sock(WSK_FLAG_STREAM_SOCKET, 7000, 4);
	ck_assert_int_eq(ls->stream->listen(ls, &r), STATUS_SUCCESS);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(tcp_connect(ss, 0, 0, 0, ip(CLIENT_IP), htons(7000),
				     &o, &t, &t.c), 0);
	for (int i = 0; i < 20; i++)
		advance(1000);
	ck_assert_uint_eq(t.connected, 1);
	synack = find_seg(&clog, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
	ck_assert_uint_eq(synack->opts.tfo_cookie_len, TCP_TFO_COOKIE_LEN);
	close_sock(ls);
	tcp_abort(t.c);
	tcp_release(t.c);
	wsk_client_stop();

	ck_assert_uint_eq(pair_stat(cli, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_cookies_received"), 1);
}
END_TEST

static Suite *
tcp_tfo_suite(void)
{
	Suite *s = suite_create("tcp_tfo");
	TCase *pair = tcase_create("pair");
	TCase *wsk = tcase_create("wskapi");

	tcase_add_checked_fixture(pair, setup, tfo_teardown);
	tcase_add_test(pair, test_tfo_first_connection_requests_a_cookie_and_caches_it);
	tcase_add_test(pair, test_tfo_syn_data_is_read_by_the_server_before_the_third_ack);
	tcase_add_test(pair, test_tfo_data_beyond_the_syn_room_is_split_and_arrives_once_in_order);
	tcase_add_test(pair, test_tfo_bad_cookie_drops_the_syn_data_which_then_arrives_once);
	tcase_add_test(pair, test_tfo_server_without_fast_open_ignores_the_request_and_the_client_falls_back);
	tcase_add_test(pair, test_tfo_lost_syn_data_follows_the_handshake_and_the_server_gets_plain_syns);
	tcase_set_timeout(pair, 60);
	suite_add_tcase(s, pair);

	tcase_add_checked_fixture(wsk, setup, tfo_teardown);
	tcase_add_test(wsk, test_tfo_wsk_connect_ex_with_tcp_fastopen_puts_the_buffer_in_the_syn);
	tcase_add_test(wsk, test_tfo_wsk_listen_after_tcp_fastopen_issues_cookies);
	suite_add_tcase(s, wsk);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_tfo_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
