/*
 * TCP keepalive (RFC 9293 §3.8.4) on two engines wired back to back and
 * the virtual clock: when probes leave, what they look like, what an
 * answer and what silence do, and that it stays off unless asked for.
 *
 * Both wire directions are watched (and, when a test says so, the
 * server's frames are dropped) by the fake ports' wire filters, which
 * note every TCP frame with the sender's clock.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "net.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "test_eal.h"

#define SEC 1000000ULL
#define MAX_FRAMES 64

/* One TCP frame seen on the wire. */
struct frame {
	uint64_t t_us;		/* the sender's clock */
	uint32_t seq, ack;
	uint32_t len;		/* payload bytes */
	uint8_t flags;
};

/* The frames one side sent since the last watch_reset(). */
struct watch {
	struct shard **s;
	struct frame f[MAX_FRAMES];
	unsigned n;
	uint32_t last_ack;	/* ack field of the latest frame */
	bool drop;		/* drop this side's frames */
};

static struct watch wcli = { .s = &cs }, wsrv = { .s = &ss };

static bool
wire_watch(void *arg, const struct rte_mbuf *m)
{
	struct watch *w = arg;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_tcp_hdr *th;
	struct frame *f;

	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ih->next_proto_id != IPPROTO_TCP)
		return false;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ih +
					  rte_ipv4_hdr_len(ih));
	w->last_ack = rte_be_to_cpu_32(th->recv_ack);
	if (w->n < MAX_FRAMES) {
		f = &w->f[w->n++];
		f->t_us = (*w->s)->now_us;
		f->seq = rte_be_to_cpu_32(th->sent_seq);
		f->ack = w->last_ack;
		f->flags = th->tcp_flags;
		f->len = rte_be_to_cpu_16(ih->total_length) -
			 rte_ipv4_hdr_len(ih) - (uint32_t)(th->data_off >> 4) * 4;
	}
	return w->drop;
}

static void
watch_reset(struct watch *w)
{
	w->n = 0;
}

/* tcp_pair's engines, with both wire directions watched. */
static void
setup_keepalive(void)
{
	setup_pair();
	wcli.n = wsrv.n = 0;
	wcli.drop = wsrv.drop = false;
	fpc.wire_filter = wire_watch;
	fpc.wire_filter_arg = &wcli;
	fps.wire_filter = wire_watch;
	fps.wire_filter_arg = &wsrv;
}

/* The server's frames flow again, then tcp_pair's leak checks. */
static void
teardown_keepalive(void)
{
	wcli.drop = wsrv.drop = false;
	teardown_common();
}

/* Either side may be closed already (keepalive gave up). */
static void
close_pair_either(void)
{
	if (tcp_conn_state(tcli.c) != TCPS_CLOSED)
		tcp_shutdown(tcli.c);
	advance(0);
	advance(0);
	if (tcp_conn_state(tsrv.c) != TCPS_CLOSED)
		tcp_shutdown(tsrv.c);
	advance(0);
	advance(0);
	tcp_release(tcli.c);
	tcp_release(tsrv.c);
	tcp_listener_close(tl.l);
}

/* The server sends one byte; returns the client clock at which the
 * client received it (its last received segment from then on). */
static uint64_t
server_sends_a_byte(void)
{
	ck_assert_int_eq(tcp_send(tsrv.c, "x", 1), 1);
	advance(0);		/* the server's poll puts it on the wire */
	advance(0);		/* the client's poll takes it in */
	return cs->now_us;
}

/* Keepalive probes (ACK only, no data, below SND.UNA) the client sent. */
static unsigned
probes(uint64_t *t, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < wcli.n; i++) {
		const struct frame *f = &wcli.f[i];

		if (f->flags == RTE_TCP_ACK_FLAG && f->len == 0 &&
		    f->seq + 1 == wsrv.last_ack && n < max)
			t[n++] = f->t_us;
	}
	return n;
}

/* Step the clocks by step_us until 'total_us' passed. */
static void
run_for(uint64_t total_us, uint64_t step_us)
{
	for (uint64_t t = 0; t < total_us; t += step_us)
		advance(step_us);
}

START_TEST(test_keepalive_is_off_by_default_no_probe_after_three_hours)
{
	open_pair_opts(NULL);
	watch_reset(&wcli);
	watch_reset(&wsrv);
	run_for(3 * 3600 * SEC, SEC);
	ck_assert_uint_eq(wcli.n, 0);
	ck_assert_uint_eq(wsrv.n, 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_probes"), 0);
	ck_assert_uint_eq(pair_stat(srv, "tcp_keepalive_probes"), 0);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_probes_at_idle_then_every_interval_and_times_out_after_count)
{
	uint64_t t[MAX_FRAMES], t0;
	unsigned n;

	open_pair_opts(NULL);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 10 * SEC, 2 * SEC, 3), 0);
	t0 = server_sends_a_byte();
	/* The client's delayed ACK of the byte goes out, then the server's
	 * answers are lost. */
	run_for(100000, 1000);
	wsrv.drop = true;
	watch_reset(&wcli);
	run_for(10 * SEC - 101000, 1000);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 0);
	run_for(6 * SEC + 1000, 1000);
	n = probes(t, MAX_FRAMES);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(t[0], t0 + 10 * SEC);
	ck_assert_uint_eq(t[1], t0 + 12 * SEC);
	ck_assert_uint_eq(t[2], t0 + 14 * SEC);
	/* The last thing the client sent is a RST, at t0 + 16 s. */
	ck_assert_uint_eq(wcli.n, 4);
	ck_assert(wcli.f[3].flags & RTE_TCP_RST_FLAG);
	ck_assert_uint_eq(wcli.f[3].t_us, t0 + 16 * SEC);
	ck_assert_uint_eq(tcli.closed, 1);
	ck_assert_int_eq(tcli.reason, TCP_CLOSE_TIMEOUT);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_CLOSED);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_probes"), 3);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_drops"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tcp_conn_timeout"), 1);
	/* The RST got through (only the server's frames are dropped). */
	ck_assert_uint_eq(tsrv.closed, 1);
	ck_assert_int_eq(tsrv.reason, TCP_CLOSE_RESET);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_answered_probes_keep_the_connection)
{
	uint64_t t[MAX_FRAMES], t0;

	open_pair_opts(NULL);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 10 * SEC, 2 * SEC, 1), 0);
	t0 = server_sends_a_byte();
	watch_reset(&wcli);
	run_for(35 * SEC, 1000);
	/* Each answer arrives one step (1 ms) after its probe and starts a
	 * new idle period: never the 2 s interval, never a give-up. */
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 3);
	ck_assert_uint_eq(t[0], t0 + 10 * SEC);
	ck_assert_uint_eq(t[1], t0 + 20 * SEC + 1000);
	ck_assert_uint_eq(t[2], t0 + 30 * SEC + 2000);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_probes"), 3);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_drops"), 0);
	ck_assert_uint_eq(tcli.closed, 0);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_ESTABLISHED);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_received_data_postpones_the_probe)
{
	uint64_t t[MAX_FRAMES], last = 0;
	char buf[16];

	open_pair_opts(NULL);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 10 * SEC, 2 * SEC, 3), 0);
	watch_reset(&wcli);
	/* A byte every 6 s for a minute: never 10 s of silence. */
	for (int i = 0; i < 10; i++) {
		run_for(6 * SEC, 100000);
		last = server_sends_a_byte();
		tcp_recv(tcli.c, buf, sizeof(buf));
	}
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_probes"), 0);
	run_for(11 * SEC, 1000);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 1);
	ck_assert_uint_eq(t[0], last + 10 * SEC);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_defaults_are_two_hours_75_seconds_and_9_probes)
{
	uint64_t t[MAX_FRAMES], t0;

	ck_assert_uint_eq(conf.keepalive_idle_us, 7200 * SEC);
	ck_assert_uint_eq(conf.keepalive_intvl_us, 75 * SEC);
	ck_assert_uint_eq(conf.keepalive_probes, 9);
	open_pair_opts(NULL);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 0, 0, 0), 0);
	t0 = server_sends_a_byte();
	run_for(SEC, SEC);	/* the client's delayed ACK */
	wsrv.drop = true;
	watch_reset(&wcli);
	run_for(7200 * SEC - 2 * SEC, SEC);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 0);
	run_for(9 * 75 * SEC + 2 * SEC, SEC);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 9);
	for (unsigned i = 0; i < 9; i++)
		ck_assert_uint_eq(t[i], t0 + 7200 * SEC + i * 75 * SEC);
	ck_assert_uint_eq(tcli.closed, 1);
	ck_assert_int_eq(tcli.reason, TCP_CLOSE_TIMEOUT);
	ck_assert_uint_eq(wcli.f[wcli.n - 1].t_us, t0 + 7875 * SEC);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_from_connect_options_and_turned_off_again)
{
	struct tcp_conn_opts o = {
		.keepalive = true,
		.keepalive_idle_us = 5 * SEC,
		.keepalive_intvl_us = SEC,
		.keepalive_probes = 2,
	};
	uint64_t t[MAX_FRAMES], t0;

	open_pair_opts(&o);
	t0 = server_sends_a_byte();
	watch_reset(&wcli);
	run_for(6 * SEC, 1000);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 1);
	ck_assert_uint_eq(t[0], t0 + 5 * SEC);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, false, 0, 0, 0), 0);
	watch_reset(&wcli);
	run_for(3600 * SEC, SEC);
	ck_assert_uint_eq(wcli.n, 0);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 0, 0, 256), -EINVAL);
	close_pair_either();
}
END_TEST

START_TEST(test_keepalive_no_probe_while_data_is_unacknowledged)
{
	uint64_t t[MAX_FRAMES];

	open_pair_opts(NULL);
	ck_assert_int_eq(tcp_set_keepalive(tcli.c, true, 2 * SEC, SEC, 3), 0);
	/* The client's data is never acknowledged: retransmissions, not
	 * probes, deal with the silent peer. */
	wsrv.drop = true;
	ck_assert_int_eq(tcp_send(tcli.c, "hello", 5), 5);
	watch_reset(&wcli);
	run_for(20 * SEC, 10000);
	ck_assert_uint_eq(probes(t, MAX_FRAMES), 0);
	ck_assert_uint_eq(pair_stat(cli, "tcp_keepalive_probes"), 0);
	ck_assert_uint_gt(pair_stat(cli, "tcp_rexmt_timeouts"), 0);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	tcp_abort(tcli.c);
	close_pair_either();
}
END_TEST

static Suite *
keepalive_suite(void)
{
	Suite *s = suite_create("tcp_keepalive");
	TCase *tc = tcase_create("pair");

	tcase_add_checked_fixture(tc, setup_keepalive, teardown_keepalive);
	tcase_add_test(tc, test_keepalive_is_off_by_default_no_probe_after_three_hours);
	tcase_add_test(tc, test_keepalive_probes_at_idle_then_every_interval_and_times_out_after_count);
	tcase_add_test(tc, test_keepalive_answered_probes_keep_the_connection);
	tcase_add_test(tc, test_keepalive_received_data_postpones_the_probe);
	tcase_add_test(tc, test_keepalive_defaults_are_two_hours_75_seconds_and_9_probes);
	tcase_add_test(tc, test_keepalive_from_connect_options_and_turned_off_again);
	tcase_add_test(tc, test_keepalive_no_probe_while_data_is_unacknowledged);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(keepalive_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
