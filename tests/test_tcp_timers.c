/*
 * TCP's retransmission and persist timers on two engines wired back to
 * back and the virtual clock: when a lost segment is sent again (RFC 6298
 * backoff from the floor, a timer started again after an ACK, a timer
 * stopped with nothing in flight) and how a zero window is probed until
 * the reader reads. Every teardown proves that no connection and no mbuf
 * was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "tcp_var.h"
#include "test_eal.h"

static uint64_t rexmt_times[16];
static unsigned rexmt_seen;

/* Drop every data segment from the client and note when each left. */
static bool
blackhole_data(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	if (rte_pktmbuf_pkt_len(m) > 14 + 20 + 20 + 12) {
		if (rexmt_seen < RTE_DIM(rexmt_times))
			rexmt_times[rexmt_seen++] = cs->now_us;
		return true;
	}
	return false;
}

START_TEST(test_tcp_rto_doubles_from_the_200ms_floor)
{
	uint64_t t0;

	/* The floor under test, not the engine's default. */
	tcp_engine_disable(cli);
	conf.min_rto_us = 200000;
	enable_tcp(cli);
	open_pair();
	rexmt_seen = 0;
	fpc.wire_filter = blackhole_data;
	ck_assert_int_eq(tcp_send(tcli.c, "hello", 5), 5);
	poll_both(1);
	t0 = cs->now_us;
	for (int i = 0; i < 3200; i++)
		advance(1000);
	/* Sent at t0, then after 200, 400, 800, 1600 ms (RFC 6298 §5.5,
	 * min RTO 200 ms since the LAN RTT is ~0). A lone segment gets no
	 * tail loss probe before the RTO (RFC 8985 §7.2: its PTO includes
	 * the 200 ms worst-case delayed ACK). */
	ck_assert_uint_ge(rexmt_seen, 5);
	ck_assert_uint_eq(rexmt_times[0], t0);
	ck_assert_uint_eq(rexmt_times[1] - rexmt_times[0], 200000);
	ck_assert_uint_eq(rexmt_times[2] - rexmt_times[1], 400000);
	ck_assert_uint_eq(rexmt_times[3] - rexmt_times[2], 800000);
	ck_assert_uint_eq(rexmt_times[4] - rexmt_times[3], 1600000);
	fpc.wire_filter = NULL;
	/* The next retransmission gets through and the data arrives. */
	for (int i = 0; i < 3300 && tcp_rcv_bytes(tsrv.c) == 0; i++)
		advance(1000);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 5);
	close_pair();
}
END_TEST

/* RFC 6298 §5.1/§5.2: the retransmission timer stops when everything is
 * acknowledged and starts again with the next segment. Timers stop
 * lazily (tcp_timer.c): the entry queued for the first segment is still
 * on the wheel, due earlier, when the second segment starts the timer
 * again. It must fire one RTO after the second segment, not at the
 * first one's time, and a stopped timer must not fire at all. */
START_TEST(test_tcp_rto_started_again_fires_from_the_new_start)
{
	const uint64_t gap = 100000;
	uint64_t t0, timeouts, rto;

	tcp_engine_disable(cli);
	conf.min_rto_us = 200000;
	enable_tcp(cli);
	open_pair();
	/* "a" goes through and is acknowledged: the timer stops. */
	t0 = cs->now_us;
	ck_assert_int_eq(tcp_send(tcli.c, "a", 1), 1);
	poll_both(1);
	while (tcp_snd_queued(tcli.c) > 0 && cs->now_us - t0 < gap)
		advance(1000);
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 0);
	ck_assert(!tcp_timer_armed(tcli.c, TCPT_REXMT));
	/* Stopped but still queued, due before "b"'s timeout below. */
	ck_assert(tcli.c->timers_queued & (1u << TCPT_REXMT));
	ck_assert_uint_lt(tcli.c->timers[TCPT_REXMT].expire_us,
			  t0 + gap + 200000);
	while (cs->now_us - t0 < gap)
		advance(1000);
	/* "b" is lost until the filter goes: its first retransmission
	 * comes one timeout (a lone segment's: RTO floor or SRTT plus the
	 * peer's delayed ACK) after it left. */
	rexmt_seen = 0;
	fpc.wire_filter = blackhole_data;
	ck_assert_int_eq(tcp_send(tcli.c, "b", 1), 1);
	poll_both(1);
	rto = tcp_rexmt_timeout(tcli.c);
	ck_assert_uint_ge(rto, 200000);
	for (int i = 0; i < 500; i++)
		advance(1000);
	ck_assert_uint_ge(rexmt_seen, 2);
	ck_assert_uint_eq(rexmt_times[0], t0 + gap);
	/* The first poll at or after the timeout: polls are 1 ms apart. */
	ck_assert_uint_ge(rexmt_times[1] - rexmt_times[0], rto);
	ck_assert_uint_lt(rexmt_times[1] - rexmt_times[0], rto + 1000);
	fpc.wire_filter = NULL;
	for (int i = 0; i < 1000 && tcp_snd_queued(tcli.c) > 0; i++)
		advance(1000);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 2);
	/* Everything acknowledged: two idle seconds bring no timeout. */
	timeouts = pair_stat(cli, "tcp_rexmt_timeouts");
	for (int i = 0; i < 2000; i++)
		advance(1000);
	ck_assert_uint_eq(pair_stat(cli, "tcp_rexmt_timeouts"), timeouts);
	close_pair();
}
END_TEST

START_TEST(test_tcp_zero_window_is_probed_and_reopens_when_the_reader_reads)
{
	static uint8_t data[32768], in[32768];
	uint32_t got = 0;
	int32_t sent;

	/* A small receive buffer on the server: the window closes fast. */
	tcp_engine_disable(srv);
	conf.rcv_buf = 4096;
	enable_tcp(srv);
	open_pair();
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = pattern(i, 9);
	sent = tcp_send(tcli.c, data, sizeof(data));
	ck_assert_int_eq(sent, (int32_t)sizeof(data));
	for (int i = 0; i < 5000; i++)
		advance(1000);
	/* The reader never read: at most its buffer is queued (less the
	 * tail the receiver's SWS avoidance keeps shut), the rest waits. */
	ck_assert_uint_le(tcp_rcv_bytes(tsrv.c), 4096);
	ck_assert_uint_ge(tcp_rcv_bytes(tsrv.c), 4096 - 1448);
	ck_assert_uint_gt(pair_stat(cli, "tcp_persist_probes"), 0);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	while (got < sizeof(data)) {
		uint32_t k = tcp_recv(tsrv.c, in + got, sizeof(in) - got);

		got += k;
		advance(1000);
		if (k == 0 && tcp_rcv_bytes(tsrv.c) == 0 &&
		    tcp_snd_queued(tcli.c) == 0)
			break;
	}
	ck_assert_uint_eq(got, sizeof(data));
	ck_assert_mem_eq(in, data, sizeof(data));
	close_pair();
}
END_TEST

static Suite *
tcp_timers_suite(void)
{
	Suite *s = suite_create("tcp_timers");
	TCase *pair = tcase_create("pair");

	tcase_add_checked_fixture(pair, setup_pair, teardown_common);
	tcase_add_test(pair, test_tcp_rto_doubles_from_the_200ms_floor);
	tcase_add_test(pair, test_tcp_rto_started_again_fires_from_the_new_start);
	tcase_add_test(pair, test_tcp_zero_window_is_probed_and_reopens_when_the_reader_reads);
	tcase_set_timeout(pair, 60);
	suite_add_tcase(s, pair);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_timers_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
