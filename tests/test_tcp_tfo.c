/*
 * TCP Fast Open (RFC 7413) in the TCP engine, both ends, and its wskapi
 * glue, on fake ports and the virtual clock.
 *
 * Two set-ups, as in test_tcp.c: two engines wired back to back (client
 * 10.0.0.1, server 10.0.0.2; a wire filter logs, and may drop, what each
 * side sends), and one engine (10.0.0.2) talking to a handcrafted peer
 * (10.0.0.9) for the answers our own server never gives. Every test
 * checks the Fast Open counters; every teardown proves that no connection
 * and no mbuf was left behind.
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
#include "tcp.h"
#include "tcp_options.h"
#include "tcp_var.h"
#include "test_eal.h"
#include "wsk.h"

#define CLIENT_IP "10.0.0.1"
#define SERVER_IP "10.0.0.2"
#define PEER_IP "10.0.0.9"
#define SERVER_PORT 8080

static struct fake_port fpc, fps;
static struct engine *cli, *srv;
static struct shard *cs, *ss;
static const struct rte_ether_addr srv_mac = {{ 0x02, 0, 0, 0, 0, 0x02 }};
static const struct rte_ether_addr peer_mac = {{ 0x02, 0, 0, 0, 0, 0x99 }};
static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
static const struct rte_ether_addr zero_mac;
static struct tcp_conf conf;

/* --- connections and upcalls -------------------------------------------- */

#define CONN_BUF 16384

/* What one connection saw; every byte that arrives is read at once. */
struct tconn {
	struct tcp_conn *c;
	unsigned connected, closed;
	uint64_t acked;
	enum tcp_state state_at_accept;
	enum tcp_state state_at_first_read;
	int32_t reply_rc;		/* tcp_send() in accept_ready */
	uint32_t got;
	uint8_t data[CONN_BUF];
};

struct tlisten {
	struct tcp_listener *l;
	unsigned ready;
};

static struct tlisten tl;
static struct tconn scon[8];		/* accepted, in order */
static unsigned nscon;
static bool reply_on_accept;		/* accepted connections send "ok" */

static void
drain(struct tconn *t)
{
	uint32_t n;

	do {
		n = tcp_recv(t->c, t->data + t->got, CONN_BUF - t->got);
		if (n > 0 && t->got == 0)
			t->state_at_first_read = tcp_conn_state(t->c);
		t->got += n;
	} while (n > 0 && t->got < CONN_BUF);
}

static void
up_connected(struct tcp_conn *c)
{
	((struct tconn *)tcp_conn_user(c))->connected++;
}

static void
up_accept_ready(struct tcp_listener *l)
{
	struct tlisten *t = tcp_listener_user(l);
	struct tcp_conn *c;

	t->ready++;
	while ((c = tcp_accept(l)) != NULL) {
		struct tconn *x;

		ck_assert_uint_lt(nscon, RTE_DIM(scon));
		x = &scon[nscon++];
		memset(x, 0, sizeof(*x));
		x->c = c;
		x->state_at_accept = tcp_conn_state(c);
		tcp_conn_set_user(c, x);
		drain(x);
		if (reply_on_accept)
			x->reply_rc = tcp_send(c, "ok", 2);
	}
}

static void
up_readable(struct tcp_conn *c)
{
	drain(tcp_conn_user(c));
}

static void
up_acked(struct tcp_conn *c, uint32_t n)
{
	((struct tconn *)tcp_conn_user(c))->acked += n;
}

static void
up_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	(void)r;
	((struct tconn *)tcp_conn_user(c))->closed++;
}

static const struct tcp_upcalls upcalls = {
	.connected = up_connected,
	.accept_ready = up_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

/* --- the wire log --------------------------------------------------------- */

#define LOG_MAX 256
#define LOG_PAYLOAD 64

struct wire_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t len;			/* payload bytes */
	unsigned olen;			/* option bytes */
	struct tcp_opts opts;
	uint8_t payload[LOG_PAYLOAD];	/* the first bytes */
};

struct wire_log {
	struct wire_seg seg[LOG_MAX];
	unsigned n;
	bool drop_first_syn_data;	/* drop the next SYN that has data */
	unsigned dropped;
};

static struct wire_log clog, slog;	/* client -> server, server -> client */

static void
parse_frame(const uint8_t *f, uint32_t pkt_len, struct wire_seg *w)
{
	const struct rte_tcp_hdr *th = (const void *)(f + 34);
	unsigned off = (th->data_off >> 4) * 4;

	memset(w, 0, sizeof(*w));
	w->seq = ntohl(th->sent_seq);
	w->ack = ntohl(th->recv_ack);
	w->flags = th->tcp_flags;
	w->olen = off - 20;
	w->len = pkt_len - 34 - off;
	ck_assert_int_eq(tcp_options_parse((const uint8_t *)(th + 1), off - 20,
		(th->tcp_flags & RTE_TCP_SYN_FLAG) != 0, &w->opts), TCP_OPT_OK);
	memcpy(w->payload, f + 34 + off, RTE_MIN(w->len, (uint32_t)LOG_PAYLOAD));
}

static bool
is_tcp(const uint8_t *f)
{
	return f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == IPPROTO_TCP;
}

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

/* --- set-ups ---------------------------------------------------------------- */

static rte_be32_t
ip(const char *s)
{
	rte_be32_t a;

	ck_assert_int_eq(port_parse_ipv4(s, &a, NULL), 0);
	return a;
}

static void
reset_state(void)
{
	memset(&tl, 0, sizeof(tl));
	memset(scon, 0, sizeof(scon));
	nscon = 0;
	reply_on_accept = false;
	logs_reset();
}

static void
setup_pair(void)
{
	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 42;
	reset_state();
	fake_port_init(&fpc);
	fake_port_init(&fps);
	fake_port_link(&fpc, &fps);
	fpc.wire_filter = wire_log_filter;
	fpc.wire_filter_arg = &clog;
	fps.wire_filter = wire_log_filter;
	fps.wire_filter_arg = &slog;
	cli = test_engine_create("tfoc", &fpc, CLIENT_IP "/24", NULL, 0x01, NULL);
	srv = test_engine_create("tfos", &fps, SERVER_IP "/24", NULL, 0x02, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(srv);
	cs = cli->shards[0];
	ss = srv->shards[0];
	ck_assert_int_eq(tcp_engine_enable(cli, &conf), 0);
	ck_assert_int_eq(tcp_engine_enable(srv, &conf), 0);
	tcp_set_upcalls(cs, &upcalls);
	tcp_set_upcalls(ss, &upcalls);
}

static void
setup_single(void)
{
	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 7;
	reset_state();
	fake_port_init(&fps);
	srv = test_engine_create("tfo1", &fps, SERVER_IP "/24", NULL, 0x02, NULL);
	ck_assert_ptr_nonnull(srv);
	ss = srv->shards[0];
	cli = NULL;
	cs = NULL;
	ck_assert_int_eq(tcp_engine_enable(srv, &conf), 0);
	tcp_set_upcalls(ss, &upcalls);
}

static void
advance(uint64_t us)
{
	if (cli != NULL) {
		engine_clock_advance(&cs->clock, us);
		test_engine_poll(cli, 1);
	}
	engine_clock_advance(&ss->clock, us);
	test_engine_poll(srv, 1);
}

static void
poll_both(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		advance(0);
}

static void
teardown(void)
{
	unsigned conns_c = 0, conns_s, mbufs_c = 0, mbufs_s;

	if (tl.l != NULL)
		tcp_listener_close(tl.l);
	for (int i = 0; i < 70; i++)
		advance(1000000);
	if (cli != NULL)
		conns_c = tcp_shard_conns_in_use(cs);
	conns_s = tcp_shard_conns_in_use(ss);
	if (cli != NULL)
		tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	if (cli != NULL) {
		shard_tx_flush(cs);
		fake_port_drain(&fpc);
	}
	shard_tx_flush(ss);
	fake_port_drain(&fps);
	if (cli != NULL) {
		fake_port_drain(&fpc);
		mbufs_c = rte_mempool_in_use_count(cs->pool);
	}
	mbufs_s = rte_mempool_in_use_count(ss->pool);
	engine_destroy(cli);
	engine_destroy(srv);
	cli = srv = NULL;
	ck_assert_uint_eq(conns_c, 0);
	ck_assert_uint_eq(conns_s, 0);
	ck_assert_uint_eq(mbufs_c, 0);
	ck_assert_uint_eq(mbufs_s, 0);
}

static uint64_t
stat(struct engine *e, const char *name)
{
	int i = shard_stat_index(name);

	ck_assert_int_ge(i, 0);
	return engine_stat(e, (enum shard_stat)i);
}

static uint8_t
pattern(uint64_t i, uint8_t salt)
{
	uint64_t x = (i + salt) * 0x9E3779B97F4A7C15ull;

	return (uint8_t)(x >> 56);
}

static uint8_t out_data[CONN_BUF];

static const uint8_t *
fill(uint32_t len, uint8_t salt)
{
	for (uint32_t i = 0; i < len; i++)
		out_data[i] = pattern(i, salt);
	return out_data;
}

static void
check_data(const struct tconn *t, uint32_t len, uint8_t salt)
{
	ck_assert_uint_eq(t->got, len);
	for (uint32_t i = 0; i < len; i++)
		if (t->data[i] != pattern(i, salt))
			ck_abort_msg("byte %u differs", i);
}

/* --- pair helpers ------------------------------------------------------------ */

static void
listen_tfo(uint32_t max_pending)
{
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, &tl, &tl.l), 0);
	tcp_listener_set_tfo(tl.l, max_pending);
}

/* Start a Fast Open connection from the client with 'len' bytes of
 * initial data. */
static void
tfo_start(struct tconn *t, uint32_t len, uint8_t salt)
{
	struct tcp_conn_opts o = {
		.tfo = true, .data = fill(len, salt), .data_len = len,
	};

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT), &o, t, &t->c), 0);
}

/* tfo_start() and let the exchange run; returns the server side. */
static struct tconn *
tfo_connect(struct tconn *t, uint32_t len, uint8_t salt)
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
close_both(struct tconn *a, struct tconn *b)
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
	struct tconn a, *b;

	b = tfo_connect(&a, 0, 0);
	close_both(&a, b);
	ck_assert_uint_eq(stat(cli, "tfo_cookies_received"), 1);
	logs_reset();
}

/* --- pair tests -------------------------------------------------------------- */

START_TEST(test_tfo_first_connection_requests_a_cookie_and_caches_it)
{
	struct tconn a, c, *b, *d;
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

	ck_assert_uint_eq(stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 0);
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

START_TEST(test_tfo_syn_data_is_read_by_the_server_before_the_third_ack)
{
	struct tconn a, *b;
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

	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_overflow"), 0);
}
END_TEST

START_TEST(test_tfo_data_beyond_the_syn_room_is_split_and_arrives_once_in_order)
{
	struct tconn a, *b;
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

	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_bad_cookie_drops_the_syn_data_which_then_arrives_once)
{
	struct tconn a, c, *b, *d;
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
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_blackholed"), 0);

	/* The fresh cookie works on the next connection. */
	logs_reset();
	d = tfo_connect(&c, 300, 5);
	syn = find_seg(&clog, RTE_TCP_SYN_FLAG, 0);
	ck_assert_mem_eq(syn->opts.tfo_cookie, fresh, sizeof(fresh));
	ck_assert_uint_eq(syn->len, 300);
	ck_assert_int_eq(d->state_at_accept, TCPS_SYN_RECEIVED);
	check_data(d, 300, 5);
	close_both(&c, d);

	ck_assert_uint_eq(stat(cli, "tfo_cookies_received"), 2);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 2);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 2);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_server_without_fast_open_ignores_the_request_and_the_client_falls_back)
{
	struct tconn a, c, *b, *d;
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

	ck_assert_uint_eq(stat(cli, "tfo_cookie_requests_sent"), 2);
	ck_assert_uint_eq(stat(cli, "tfo_cookies_received"), 0);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 0);
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 0);
	ck_assert_uint_eq(stat(cli, "tfo_blackholed"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 0);
}
END_TEST

START_TEST(test_tfo_lost_syn_data_follows_the_handshake_and_the_server_gets_plain_syns)
{
	struct tconn a, c, e, *b, *d, *f;
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
	ck_assert_uint_eq(stat(cli, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_blackholed"), 1);

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

	ck_assert_uint_eq(stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 2);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_blackholed"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

/* --- handcrafted peer ------------------------------------------------------------ */

static uint8_t fbuf[FRAME_MAX];

static unsigned
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

static void
inject(unsigned len)
{
	ck_assert_int_eq(fake_port_inject_bytes(&fps, ss->pool, fbuf, len), 0);
	test_engine_poll(srv, 1);
}

static void
learn_peer(void)
{
	struct rte_mbuf *m;

	inject(frame_arp(fbuf, 1, &bcast, &peer_mac, PEER_IP, &zero_mac, SERVER_IP));
	m = fake_port_pop_tx(&fps);
	ck_assert_ptr_nonnull(m);
	rte_pktmbuf_free(m);
}

/* The next TCP segment the engine sent (ARP skipped); false if none. */
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

/* The engine (as client) connects to the peer on port 80; the peer
 * answers with a SYN-ACK carrying 'mss' and peer_cookie, and the test
 * aborts the connection once established. Returns the client's SYN. */
static struct wire_seg
client_gets_cookie(uint16_t lport, uint16_t mss, bool experimental)
{
	struct tcp_conn_opts o = { .tfo = true };
	struct tconn t = {0};
	struct wire_seg syn, w;
	uint8_t opt[40];
	unsigned olen = synack_opts(opt, mss, peer_cookie, experimental);

	ck_assert_int_eq(tcp_connect(ss, 0, 0, htons(lport), ip(PEER_IP),
				     htons(80), &o, &t, &t.c), 0);
	ck_assert(pop_seg(&syn));
	ck_assert_uint_eq(syn.flags, RTE_TCP_SYN_FLAG);
	inject(frame_tcp(fbuf, 80, lport, 5000, syn.seq + 1,
			 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, opt, olen,
			 NULL, 0));
	ck_assert_uint_eq(t.connected, 1);
	/* The handshake's ACK waits a pass for data to ride on. */
	ck_assert(!pop_seg(&w));
	test_engine_poll(srv, 1);
	ck_assert(pop_seg(&w));
	ck_assert_uint_eq(w.flags, RTE_TCP_ACK_FLAG);
	tcp_abort(t.c);
	tcp_release(t.c);
	ck_assert(pop_seg(&w));
	ck_assert(w.flags & RTE_TCP_RST_FLAG);
	return syn;
}

START_TEST(test_tfo_synack_acking_only_the_syn_makes_the_client_send_the_data_again)
{
	struct tcp_conn_opts o = { .tfo = true, .data = fill(2000, 11),
				   .data_len = 2000 };
	struct tconn t = {0};
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

	ck_assert_uint_eq(stat(srv, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_syn_data_acked"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_fallbacks"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_blackholed"), 1);
}
END_TEST

START_TEST(test_tfo_client_speaks_the_experimental_form_the_server_answered_in)
{
	struct tcp_conn_opts o = { .tfo = true, .data = fill(10, 12),
				   .data_len = 10 };
	struct tconn t = {0};
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
	ck_assert_uint_eq(stat(srv, "tfo_cookies_received"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_syn_data_sent"), 1);
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

	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 0);
}
END_TEST

START_TEST(test_tfo_server_over_its_pending_limit_does_a_normal_handshake)
{
	struct wire_seg w;
	uint8_t cookie[8], opt[12] = { TCP_OPT_FASTOPEN, 2, TCP_OPT_NOP, TCP_OPT_NOP };
	uint32_t iss1;

	learn_peer();
	listen_tfo(1);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1000, 0, RTE_TCP_SYN_FLAG,
			 65535, opt, 4, NULL, 0));
	ck_assert(pop_seg(&w));
	ck_assert(!w.opts.tfo_experimental);
	ck_assert_uint_eq(w.opts.tfo_cookie_len, 8);
	memcpy(cookie, w.opts.tfo_cookie, 8);
	inject(frame_tcp(fbuf, 40000, SERVER_PORT, 1001, 0, RTE_TCP_RST_FLAG,
			 0, NULL, 0, NULL, 0));

	opt[1] = 10;
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
	ck_assert_uint_eq(stat(srv, "tfo_server_overflow"), 1);
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

	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 2);
	ck_assert_uint_eq(stat(srv, "tfo_server_overflow"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 0);
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
	ck_assert_uint_eq(stat(srv, "tfo_server_bad_cookie"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 0);
}
END_TEST

START_TEST(test_tfo_synack_with_data_and_fin_keeps_both)
{
	struct tconn t = {0};
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
	ck_assert_uint_eq(stat(srv, "tfo_cookie_requests_sent"), 0);
	ck_assert_uint_eq(stat(srv, "tfo_syn_data_sent"), 0);
}
END_TEST

/* --- wskapi ------------------------------------------------------------------- */

static struct wsk_client *wc;
static struct wsk_cq *cq;

static struct wsk_completion
wait_one(void)
{
	struct wsk_completion *e, copy;

	for (int i = 0; i < 200 && wsk_cq_ready(cq) == 0; i++)
		advance(1000);
	ck_assert_uint_eq(wsk_cq_ready(cq), 1);
	ck_assert_int_eq(wsk_cq_peek(cq, &e), 0);
	copy = *e;
	wsk_cq_seen(cq, e);
	return copy;
}

static WSK_SOCKET *
wsk_sock(uint32_t category, uint16_t port, uint32_t fastopen)
{
	struct wsk_request r = { .cq = cq, .user_data = 1 };
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

static void
wsk_close(WSK_SOCKET *so)
{
	struct wsk_request r = { .cq = cq, .user_data = 99 };

	ck_assert_int_eq(so->basic->close_socket(so, &r), STATUS_SUCCESS);
	ck_assert_uint_eq(wait_one().user_data, 99);
}

static void
wsk_start(void)
{
	wc = wsk_client_create(cs, 16, 64);
	ck_assert_ptr_nonnull(wc);
	cq = wsk_cq_create("tfo_cq", 64, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(cq);
}

static void
wsk_stop(void)
{
	wsk_client_destroy(wc);
	wc = NULL;
	wsk_cq_free(cq);
	cq = NULL;
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

	wsk_start();
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
	wsk_close(so);

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
	wsk_close(so);
	for (unsigned i = 0; i < nscon; i++) {
		tcp_abort(scon[i].c);
		tcp_release(scon[i].c);
	}
	wsk_stop();

	ck_assert_uint_eq(stat(cli, "tfo_cookie_requests_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(stat(cli, "tfo_syn_data_acked"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_server_syn_data_accepted"), 1);
}
END_TEST

START_TEST(test_tfo_wsk_listen_after_tcp_fastopen_issues_cookies)
{
	struct wsk_request r = { .cq = NULL, .user_data = 8 };
	struct tcp_conn_opts o = { .tfo = true };
	struct tconn t = {0};
	const struct wire_seg *synack;
	WSK_SOCKET *ls;

	wsk_start();
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
	wsk_close(ls);
	tcp_abort(t.c);
	tcp_release(t.c);
	wsk_stop();

	ck_assert_uint_eq(stat(cli, "tfo_server_cookies_sent"), 1);
	ck_assert_uint_eq(stat(srv, "tfo_cookies_received"), 1);
}
END_TEST

static Suite *
tcp_tfo_suite(void)
{
	Suite *s = suite_create("tcp_tfo");
	TCase *pair = tcase_create("pair");
	TCase *one = tcase_create("single");
	TCase *wsk = tcase_create("wskapi");

	tcase_add_checked_fixture(pair, setup_pair, teardown);
	tcase_add_test(pair, test_tfo_first_connection_requests_a_cookie_and_caches_it);
	tcase_add_test(pair, test_tfo_syn_data_is_read_by_the_server_before_the_third_ack);
	tcase_add_test(pair, test_tfo_data_beyond_the_syn_room_is_split_and_arrives_once_in_order);
	tcase_add_test(pair, test_tfo_bad_cookie_drops_the_syn_data_which_then_arrives_once);
	tcase_add_test(pair, test_tfo_server_without_fast_open_ignores_the_request_and_the_client_falls_back);
	tcase_add_test(pair, test_tfo_lost_syn_data_follows_the_handshake_and_the_server_gets_plain_syns);
	tcase_set_timeout(pair, 60);
	suite_add_tcase(s, pair);

	tcase_add_checked_fixture(one, setup_single, teardown);
	tcase_add_test(one, test_tfo_synack_acking_only_the_syn_makes_the_client_send_the_data_again);
	tcase_add_test(one, test_tfo_client_speaks_the_experimental_form_the_server_answered_in);
	tcase_add_test(one, test_tfo_server_answers_the_experimental_form_in_kind);
	tcase_add_test(one, test_tfo_server_over_its_pending_limit_does_a_normal_handshake);
	tcase_add_test(one, test_tfo_server_drops_data_under_a_bad_cookie_and_offers_a_valid_one);
	tcase_add_test(one, test_tfo_synack_with_data_and_fin_keeps_both);
	suite_add_tcase(s, one);

	tcase_add_checked_fixture(wsk, setup_pair, teardown);
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
