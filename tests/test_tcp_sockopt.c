/*
 * The engine's per-connection sizes: the MSS clamp (tcp_conn_opts.mss,
 * Linux's TCP_MAXSEG), the send and receive buffers (tcp_conn_opts,
 * tcp_set_snd_buf(), tcp_set_rcv_buf()) and what a listener gives the
 * connections it makes (tcp_listener_set_conn_opts()), SYN cookies
 * included.
 *
 * Two engines wired back to back on the virtual clock (tcp_pair.h); a
 * wire log (wire_log.h) records every segment both send, so each claim
 * is checked on the wire: the MSS option, the payload sizes, the window
 * field. The teardown proves no connection and no mbuf was left behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_tcp.h>

#include "engine.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "tcp_seq.h"
#include "test_eal.h"
#include "wire_log.h"

/* The default window scale (tcp_conf.wscale) both engines agree on. */
#define WSCALE 7
/* MTU 1500 less the IPv4 and TCP headers. */
#define PORT_MSS 1460
/* Bytes of NOP NOP TS on every segment once timestamps are agreed. */
#define TS_BYTES 12

static struct wire_log wl;
/* Connections beyond tcli/tsrv. File-scope, like those: the engines'
 * upcalls write through the user pointer until the teardown, also after
 * a failed assertion has left the test. */
static struct tconn a[2], b[2], h;

static void
setup(void)
{
	setup_pair();
	wire_log_start(&wl, &fpc, &fps);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(&h, 0, sizeof(h));
}

static void
teardown(void)
{
	wire_log_stop(&fpc, &fps);
	teardown_common();
}

/* The first segment with exactly 'flags' sent by the client (b false)
 * or the server (b true) to or from 'port' (0: any). */
static const struct wire_frame *
find(bool b, uint8_t flags, uint16_t port)
{
	for (unsigned i = 0; i < wl.n; i++) {
		const struct wire_frame *f = &wl.f[i];

		if (f->from_b == b && f->flags == flags &&
		    (port == 0 || f->sport == port || f->dport == port))
			return f;
	}
	ck_abort_msg("no segment with flags %#x", flags);
	return NULL;
}

/* The largest payload one side sent (to or from 'port', 0: any), after
 * checking that none of its segments was above 'limit'. */
static uint32_t
max_payload(bool b, uint16_t port, uint32_t limit)
{
	uint32_t max = 0;

	ck_assert_uint_eq(wl.overflow, 0);
	for (unsigned i = 0; i < wl.n; i++) {
		const struct wire_frame *f = &wl.f[i];

		if (f->from_b != b ||
		    (port != 0 && f->sport != port && f->dport != port))
			continue;
		ck_assert_uint_le(f->len, limit);
		if (f->len > max)
			max = f->len;
	}
	return max;
}

/* Connect the client engine to the listener tl (already listening on
 * SERVER_PORT) with options o, and accept: a and b ESTABLISHED. */
static void
pair_more(struct tconn *a, struct tconn *b, const struct tcp_conn_opts *o)
{
	unsigned ready = tl.ready;

	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT), o, a, &a->c), 0);
	for (int i = 0; i < 20 && tl.ready == ready; i++)
		poll_both(1);
	poll_both(4);
	ck_assert_uint_eq(tl.ready, ready + 1);
	b->c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(b->c);
	tcp_conn_set_user(b->c, b);
	ck_assert_int_eq(tcp_conn_state(a->c), TCPS_ESTABLISHED);
}

static void
close_conns(struct tconn *a, struct tconn *b)
{
	tcp_abort(a->c);
	tcp_release(a->c);
	tcp_abort(b->c);
	tcp_release(b->c);
}

/* Queue pattern bytes [from, total) on c as far as it takes them. */
static uint32_t
send_pattern(struct tcp_conn *c, uint32_t from, uint32_t total, uint8_t salt)
{
	static uint8_t out[16384];
	uint32_t done = 0;

	while (from + done < total) {
		uint32_t n = RTE_MIN((uint32_t)sizeof(out), total - from - done);
		int32_t k;

		for (uint32_t i = 0; i < n; i++)
			out[i] = pattern(from + done + i, salt);
		k = tcp_send(c, out, n);
		ck_assert_int_ge(k, 0);
		done += (uint32_t)k;
		if ((uint32_t)k < n)
			break;
	}
	return done;
}

/* Read what c holds, checking it continues the pattern at *got. */
static void
recv_check(struct tcp_conn *c, uint32_t *got, uint8_t salt)
{
	static uint8_t in[16384];
	uint32_t k;

	while ((k = tcp_recv(c, in, sizeof(in))) > 0) {
		for (uint32_t i = 0; i < k; i++)
			if (in[i] != pattern(*got + i, salt))
				ck_abort_msg("byte %u differs", *got + i);
		*got += k;
	}
}

/* --- MSS clamp ----------------------------------------------------------- */

/* 'total' bytes from tcli to tsrv (salt), then back (salt + 1): full-sized
 * segments both ways are the clamp 'mss' (less the timestamps), so the
 * clamp is what binds them. */
static void
transfer_both_ways_clamped(uint32_t total, uint8_t salt, uint16_t mss)
{
	transfer(tcli.c, tsrv.c, total, salt, 20000);
	transfer(tsrv.c, tcli.c, total, (uint8_t)(salt + 1), 20000);
	ck_assert_uint_eq(max_payload(false, 0, mss), mss - TS_BYTES);
	ck_assert_uint_eq(max_payload(true, 0, mss), mss - TS_BYTES);
}

/* Linux's user_mss: the SYN advertises the clamp, so the peer's segments
 * are no larger, and ours are no larger than the clamp either (less the
 * timestamp option every segment carries). */
START_TEST(test_mss_clamp_is_advertised_and_bounds_segments_both_ways)
{
	struct tcp_conn_opts o = { .mss = 500 };

	open_pair_opts(&o);
	ck_assert_uint_eq(find(false, RTE_TCP_SYN_FLAG, 0)->mss, 500);
	ck_assert_uint_eq(find(true, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
			       0)->mss, PORT_MSS);
	ck_assert_uint_eq(tcp_maxseg(tcli.c), 500 - TS_BYTES);
	ck_assert_uint_eq(tcp_maxseg(tsrv.c), 500 - TS_BYTES);
	transfer_both_ways_clamped(100000, 1, 500);
	close_pair();
}
END_TEST

/* A clamp above the port's MSS changes nothing; before the SYN-ACK the
 * MSS reported is the one advertised. */
START_TEST(test_mss_clamp_above_the_port_mss_changes_nothing)
{
	struct tcp_conn_opts o = { .mss = 9000 };
	struct tconn *t = &h;

	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT + 1), &o, t, &t->c), 0);
	ck_assert_int_eq(tcp_conn_state(t->c), TCPS_SYN_SENT);
	ck_assert_uint_eq(tcp_maxseg(t->c), PORT_MSS);
	tcp_abort(t->c);
	tcp_release(t->c);
	o.mss = 700;
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT + 1), &o, t, &t->c), 0);
	ck_assert_uint_eq(tcp_maxseg(t->c), 700);
	tcp_abort(t->c);
	tcp_release(t->c);

	o.mss = 9000;
	open_pair_opts(&o);
	ck_assert_uint_eq(find(false, RTE_TCP_SYN_FLAG, SERVER_PORT)->mss,
			  PORT_MSS);
	ck_assert_uint_eq(tcp_maxseg(tcli.c), PORT_MSS - TS_BYTES);
	close_pair();
}
END_TEST

/* Fast Open SYN data fits the clamp too (RFC 6691: options included). */
START_TEST(test_mss_clamp_bounds_fast_open_syn_data)
{
	static uint8_t data[1000];
	struct tcp_conn_opts o = { .tfo = true, .data = data,
				   .data_len = sizeof(data) };
	const struct wire_frame *syn[2];

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = pattern(i, 5);
	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, &tl,
				    &tl.l), 0);
	tcp_listener_set_tfo(tl.l, 16);
	/* The first connection fetches a cookie, the second uses it. */
	for (unsigned k = 0; k < 2; k++) {
		unsigned from = wl.n;
		uint32_t got = 0;

		o.mss = k == 0 ? 0 : 200;
		pair_more(&a[k], &b[k], &o);
		for (int i = 0; i < 100 && got < sizeof(data); i++) {
			advance(1000);
			recv_check(b[k].c, &got, 5);
		}
		ck_assert_uint_eq(got, sizeof(data));
		syn[k] = NULL;
		for (unsigned i = from; i < wl.n && syn[k] == NULL; i++)
			if (!wl.f[i].from_b &&
			    wl.f[i].flags == RTE_TCP_SYN_FLAG)
				syn[k] = &wl.f[i];
		ck_assert_ptr_nonnull(syn[k]);
	}
	ck_assert_uint_eq(syn[0]->len, 0);
	ck_assert_uint_eq(syn[1]->mss, 200);
	/* As much as fits: payload and options make the clamp exactly. */
	ck_assert_uint_eq(syn[1]->len + syn[1]->olen, 200);
	ck_assert_uint_eq(pair_stat(cli, "tfo_syn_data_sent"), 1);
	ck_assert_uint_eq(pair_stat(srv, "tfo_server_syn_data_accepted"), 1);
	for (unsigned k = 0; k < 2; k++)
		close_conns(&a[k], &b[k]);
	tcp_listener_close(tl.l);
}
END_TEST

/* --- buffers ------------------------------------------------------------- */

START_TEST(test_snd_buf_bounds_the_queue_and_changes_at_once_keeping_data)
{
	struct tcp_conn_opts o = { .snd_buf = 8192 };
	const uint32_t total = 300000;
	uint32_t sent = 0, got = 0;
	bool small = false;

	open_pair_opts(&o);
	ck_assert_uint_eq(tcp_snd_buf(tcli.c), 8192);
	ck_assert_uint_eq(tcp_snd_buf(tsrv.c), conf.snd_buf);
	ck_assert_uint_eq(tcp_snd_space(tcli.c), 8192);
	sent += send_pattern(tcli.c, sent, total, 3);
	ck_assert_uint_eq(sent, 8192);
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 8192);
	/* Growing: room at once. */
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, 16384), 0);
	ck_assert_uint_eq(tcp_snd_space(tcli.c), 8192);
	sent += send_pattern(tcli.c, sent, total, 3);
	ck_assert_uint_eq(sent, 16384);
	/* Shrinking below what is queued drops nothing. */
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, 4096), 0);
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 16384);
	ck_assert_uint_eq(tcp_snd_space(tcli.c), 0);
	ck_assert_uint_eq(send_pattern(tcli.c, sent, total, 3), 0);
	/* Sizes out of range change nothing. */
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, TCP_BUF_MIN - 1), -EINVAL);
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, TCP_BUF_MAX + 1), -EINVAL);
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, 0), -EINVAL);
	ck_assert_uint_eq(tcp_snd_buf(tcli.c), 4096);
	for (unsigned r = 0; got < total && r < 20000; r++) {
		sent += send_pattern(tcli.c, sent, total, 3);
		/* Once under the new size, the queue stays under it. */
		if (tcp_snd_queued(tcli.c) <= 4096)
			small = true;
		else
			ck_assert(!small);
		advance(1000);
		recv_check(tsrv.c, &got, 3);
	}
	ck_assert_uint_eq(got, total);
	ck_assert(small);
	for (int i = 0; i < 100 && tcp_snd_queued(tcli.c) > 0; i++)
		advance(1000);
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 0);
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, TCP_BUF_MAX), 0);
	ck_assert_uint_eq(tcp_snd_buf(tcli.c), TCP_BUF_MAX);
	ck_assert_int_eq(tcp_set_snd_buf(tcli.c, TCP_BUF_MIN), 0);
	ck_assert_uint_eq(tcp_snd_space(tcli.c), TCP_BUF_MIN);
	close_pair();
}
END_TEST

/* The receive edge the client offered (ack + scaled window) at each of
 * its segments never moves back by a scale unit or more (less can happen:
 * a window is sent in whole units, RFC 7323 §2.4, and rounding it down
 * keeps the buffer a bound), and the windows stay under each size
 * while it holds: 4096 before the growth (from log index 'grown'), 65536
 * until the shrink (at index 'shrunk', when the highest edge offered was
 * 'old_edge'), 8192 for every segment acknowledging past that edge. */
static void
check_client_windows(unsigned grown, unsigned shrunk, uint32_t old_edge)
{
	uint32_t edge = 0;
	bool first = true;
	unsigned past = 0;

	ck_assert_uint_eq(wl.overflow, 0);
	for (unsigned i = 0; i < wl.n; i++) {
		const struct wire_frame *f = &wl.f[i];
		uint32_t win = (uint32_t)f->win << WSCALE, e = f->ack + win;

		if (f->from_b || (f->flags & RTE_TCP_SYN_FLAG))
			continue;
		ck_assert_uint_le(win, i < grown ? 4096 : 65536);
		if (!first) {
			ck_assert_int_gt((int32_t)(e - edge), -(1 << WSCALE));
			if (tcp_seq_gt(e, edge))
				edge = e;
		} else {
			edge = e;
		}
		first = false;
		if (i >= shrunk && tcp_seq_geq(f->ack, old_edge)) {
			ck_assert_uint_le(win, 8192);
			past++;
		}
	}
	ck_assert_uint_gt(past, 10);
}

/* The highest receive edge the client has offered so far. */
static uint32_t
client_edge(void)
{
	uint32_t edge = 0;
	bool any = false;

	for (unsigned i = 0; i < wl.n; i++) {
		const struct wire_frame *f = &wl.f[i];
		uint32_t e = f->ack + ((uint32_t)f->win << WSCALE);

		if (f->from_b || (f->flags & RTE_TCP_SYN_FLAG))
			continue;
		if (!any || tcp_seq_gt(e, edge))
			edge = e;
		any = true;
	}
	ck_assert(any);
	return edge;
}

START_TEST(test_rcv_buf_bounds_the_window_and_changes_apply_at_once)
{
	struct tcp_conn_opts o = { .rcv_buf = 4096 };
	const uint32_t total = 400000;
	uint32_t sent = 0, got = 0, old_edge = 0;
	unsigned grown, shrunk = 0;
	const struct wire_frame *f = NULL;

	open_pair_opts(&o);
	/* A SYN's window is never scaled. */
	ck_assert_uint_eq(find(false, RTE_TCP_SYN_FLAG, 0)->win, 4096);
	ck_assert_uint_eq(tcp_rcv_buf(tcli.c), 4096);
	/* The client does not read: the server fills the window, no more. */
	sent += send_pattern(tsrv.c, sent, total, 4);
	for (int i = 0; i < 50; i++)
		advance(1000);
	ck_assert_uint_eq(tcp_rcv_bytes(tcli.c), 4096);
	ck_assert_int_eq(tcp_set_rcv_buf(tcli.c, TCP_BUF_MIN - 1), -EINVAL);
	ck_assert_int_eq(tcp_set_rcv_buf(tcli.c, TCP_BUF_MAX + 1), -EINVAL);
	ck_assert_uint_eq(tcp_rcv_buf(tcli.c), 4096);
	/* Growing: the new window is announced at once, scaled. */
	grown = wl.n;
	ck_assert_int_eq(tcp_set_rcv_buf(tcli.c, 65536), 0);
	poll_both(1);
	for (unsigned i = grown; i < wl.n && f == NULL; i++)
		if (!wl.f[i].from_b)
			f = &wl.f[i];
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq((uint32_t)f->win << WSCALE, 65536 - 4096);
	for (unsigned r = 0; got < total && r < 20000; r++) {
		sent += send_pattern(tsrv.c, sent, total, 4);
		advance(1000);
		recv_check(tcli.c, &got, 4);
		if (shrunk == 0 && got >= 100000) {
			/* Shrinking: the edge already offered stays. The
			 * reads above may have queued a window update. */
			shard_tx_flush(cs);
			old_edge = client_edge();
			shrunk = wl.n;
			ck_assert_int_eq(tcp_set_rcv_buf(tcli.c, 8192), 0);
		}
	}
	ck_assert_uint_eq(got, total);
	ck_assert_uint_gt(shrunk, 0);
	check_client_windows(grown, shrunk, old_edge);
	close_pair();
}
END_TEST

/* --- listeners ----------------------------------------------------------- */

START_TEST(test_listener_conn_opts_reach_the_connections_it_makes)
{
	memset(&tcli, 0, sizeof(tcli));
	server_listen();
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 8192, 4096, 600), 0);
	/* Out of range: refused, nothing changed. */
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, TCP_BUF_MIN - 1, 0,
						    0), -EINVAL);
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 0, TCP_BUF_MAX + 1,
						    0), -EINVAL);
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 0, 0,
						    TCP_MSS_MIN - 1), -EINVAL);
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 0, 0,
						    TCP_MSS_MAX + 1), -EINVAL);
	pair_more(&tcli, &tsrv, NULL);
	ck_assert_uint_eq(find(true, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
			       0)->mss, 600);
	ck_assert_uint_eq(find(true, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
			       0)->win, 4096);
	ck_assert_uint_eq(tcp_snd_buf(tsrv.c), 8192);
	ck_assert_uint_eq(tcp_rcv_buf(tsrv.c), 4096);
	ck_assert_uint_eq(tcp_maxseg(tsrv.c), 600 - TS_BYTES);
	ck_assert_uint_eq(tcp_maxseg(tcli.c), 600 - TS_BYTES);
	transfer_both_ways_clamped(60000, 6, 600);
	for (unsigned i = 0; i < wl.n; i++)
		if (wl.f[i].from_b && !(wl.f[i].flags & RTE_TCP_SYN_FLAG))
			ck_assert_uint_le((uint32_t)wl.f[i].win << WSCALE,
					  4096);
	/* Later connections get what is set then; earlier ones keep theirs. */
	ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 0, 0, 0), 0);
	pair_more(&a[0], &b[0], NULL);
	ck_assert_uint_eq(tcp_snd_buf(b[0].c), conf.snd_buf);
	ck_assert_uint_eq(tcp_rcv_buf(b[0].c), conf.rcv_buf);
	ck_assert_uint_eq(tcp_maxseg(b[0].c), PORT_MSS - TS_BYTES);
	ck_assert_uint_eq(tcp_rcv_buf(tsrv.c), 4096);
	close_conns(&a[0], &b[0]);
	close_pair();
}
END_TEST

/* The handshake of this client port never completes: its last ACK is
 * dropped, so the server keeps it half-open and the backlog full. */
static uint16_t held_port;

static bool
drop_held_ack(const struct wire_frame *f)
{
	return !f->from_b && f->sport == held_port &&
	       !(f->flags & RTE_TCP_SYN_FLAG);
}

/* A SYN cookie remembers an MSS from its table (536, 1300, 1440, 1460,
 * 8960): the largest not above min(peer's, ours), so with a clamp the
 * largest not above it; under 536 the clamp itself still holds. The
 * cookie SYN-ACK advertises the clamp and the listener's receive buffer,
 * and the connection gets its buffers. */
START_TEST(test_syn_cookies_carry_the_listener_clamp_and_buffers)
{
	static const uint16_t clamp[2] = { 1400, 200 };
	static const uint16_t srv_mss[2] = { 1300, 200 };
	uint16_t port[2];

	memset(&tl, 0, sizeof(tl));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 1, &tl,
				    &tl.l), 0);
	held_port = 40000;
	wl.drop = drop_held_ack;
	ck_assert_int_eq(tcp_connect(cs, 0, 0, htons(held_port), ip(SERVER_IP),
				     htons(SERVER_PORT), NULL, &h, &h.c), 0);
	poll_both(5);
	ck_assert_uint_eq(h.connected, 1);
	ck_assert_uint_eq(tl.ready, 0);
	for (unsigned k = 0; k < 2; k++) {
		unsigned from = wl.n;
		const struct wire_frame *sa = NULL;

		ck_assert_int_eq(tcp_listener_set_conn_opts(tl.l, 8192, 4096,
							    clamp[k]), 0);
		pair_more(&a[k], &b[k], NULL);
		for (unsigned i = from; i < wl.n && sa == NULL; i++)
			if (wl.f[i].from_b && wl.f[i].flags ==
			    (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
				sa = &wl.f[i];
		ck_assert_ptr_nonnull(sa);
		ck_assert_uint_eq(sa->mss, clamp[k]);
		ck_assert_uint_eq(sa->win, 4096);
		port[k] = sa->dport;
		ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_ok"), k + 1);
		ck_assert_uint_eq(tcp_maxseg(b[k].c), srv_mss[k]);
		/* No timestamps in a cookie handshake: the whole clamp. */
		ck_assert_uint_eq(tcp_maxseg(a[k].c), clamp[k]);
		ck_assert_uint_eq(tcp_snd_buf(b[k].c), 8192);
		ck_assert_uint_eq(tcp_rcv_buf(b[k].c), 4096);
		transfer(a[k].c, b[k].c, 40000, 8, 20000);
		transfer(b[k].c, a[k].c, 40000, 9, 20000);
		ck_assert_uint_eq(max_payload(false, port[k], clamp[k]),
				  clamp[k]);
		ck_assert_uint_eq(max_payload(true, port[k], srv_mss[k]),
				  srv_mss[k]);
	}
	ck_assert_uint_eq(pair_stat(srv, "tcp_syncookies_sent"), 2);
	wl.drop = NULL;
	for (unsigned k = 0; k < 2; k++)
		close_conns(&a[k], &b[k]);
	tcp_abort(h.c);
	tcp_release(h.c);
	tcp_listener_close(tl.l);
}
END_TEST

/* --- ranges -------------------------------------------------------------- */

START_TEST(test_tcp_connect_refuses_sizes_out_of_range_and_takes_the_limits)
{
	const struct tcp_conn_opts bad[] = {
		{ .snd_buf = TCP_BUF_MIN - 1 }, { .snd_buf = TCP_BUF_MAX + 1 },
		{ .rcv_buf = TCP_BUF_MIN - 1 }, { .rcv_buf = TCP_BUF_MAX + 1 },
		{ .mss = TCP_MSS_MIN - 1 }, { .mss = TCP_MSS_MAX + 1 },
	};
	struct tcp_conn_opts o = { .snd_buf = TCP_BUF_MIN,
				   .rcv_buf = TCP_BUF_MAX,
				   .mss = TCP_MSS_MAX };
	struct tconn *t = &h;

	for (unsigned i = 0; i < RTE_DIM(bad); i++)
		ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
					     htons(SERVER_PORT), &bad[i], t,
					     &t->c), -EINVAL);
	ck_assert_uint_eq(tcp_shard_conns_in_use(cs), 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_tx_segments"), 0);
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT + 1), &o, t, &t->c), 0);
	ck_assert_uint_eq(tcp_snd_buf(t->c), TCP_BUF_MIN);
	ck_assert_uint_eq(tcp_rcv_buf(t->c), TCP_BUF_MAX);
	ck_assert_uint_eq(tcp_maxseg(t->c), PORT_MSS);
	tcp_abort(t->c);
	tcp_release(t->c);

	/* The smallest clamp still moves data, in segments of 88 less the
	 * timestamps. */
	o = (struct tcp_conn_opts){ .mss = TCP_MSS_MIN };
	open_pair_opts(&o);
	ck_assert_uint_eq(find(false, RTE_TCP_SYN_FLAG, SERVER_PORT)->mss,
			  TCP_MSS_MIN);
	transfer(tcli.c, tsrv.c, 20000, 10, 20000);
	transfer(tsrv.c, tcli.c, 20000, 11, 20000);
	ck_assert_uint_eq(max_payload(false, 0, TCP_MSS_MIN),
			  TCP_MSS_MIN - TS_BYTES);
	ck_assert_uint_eq(max_payload(true, 0, TCP_MSS_MIN),
			  TCP_MSS_MIN - TS_BYTES);
	close_pair();
}
END_TEST

static Suite *
tcp_sockopt_suite(void)
{
	Suite *s = suite_create("tcp_sockopt");
	TCase *mss = tcase_create("mss");
	TCase *buf = tcase_create("buffers");

	tcase_add_checked_fixture(mss, setup, teardown);
	tcase_add_test(mss, test_mss_clamp_is_advertised_and_bounds_segments_both_ways);
	tcase_add_test(mss, test_mss_clamp_above_the_port_mss_changes_nothing);
	tcase_add_test(mss, test_mss_clamp_bounds_fast_open_syn_data);
	tcase_add_test(mss, test_syn_cookies_carry_the_listener_clamp_and_buffers);
	tcase_add_test(mss, test_tcp_connect_refuses_sizes_out_of_range_and_takes_the_limits);
	tcase_set_timeout(mss, 60);
	suite_add_tcase(s, mss);

	tcase_add_checked_fixture(buf, setup, teardown);
	tcase_add_test(buf, test_snd_buf_bounds_the_queue_and_changes_at_once_keeping_data);
	tcase_add_test(buf, test_rcv_buf_bounds_the_window_and_changes_apply_at_once);
	tcase_add_test(buf, test_listener_conn_opts_reach_the_connections_it_makes);
	tcase_set_timeout(buf, 60);
	suite_add_tcase(s, buf);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_sockopt_suite()) == 0 ? EXIT_SUCCESS
						       : EXIT_FAILURE;
}
