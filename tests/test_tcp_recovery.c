/*
 * Loss recovery of the TCP engine (tcp_recovery.c): RACK-TLP (RFC 8985),
 * limited transmit (RFC 3042), PSH on the last segment (RFC 9293 MUST-61)
 * and the refused zero-window probe, on two engines wired back to back
 * over fake ports with deterministic drops. Every teardown proves that no
 * connection and no mbuf was left behind.
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
#include "tcp_pair.h"
#include "tcp_var.h"
#include "test_eal.h"





/* --- the wire ------------------------------------------------------------ */

/* A TCP frame from the client: its header, and its payload length. */
static const struct rte_tcp_hdr *
tcp_of(const struct rte_mbuf *m, uint8_t *buf, uint32_t *payload)
{
	const uint8_t *f = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len, 128u), buf);
	const struct rte_tcp_hdr *th;

	if (m->pkt_len < 14 + 20 + 20 || f[14 + 9] != IPPROTO_TCP)
		return NULL;
	th = (const void *)(f + 14 + 20);
	*payload = m->pkt_len - 14 - 20 - (uint32_t)(th->data_off >> 4) * 4;
	return th;
}

/* Data frames the client sent, in order: sequence number and flags. */
static uint32_t sent_seq[256];
static uint8_t sent_flags[256];
static unsigned sent_n;
/* Drop every frame whose sequence number is drop_seq while drops_left > 0;
 * drop_nth_data: pick drop_seq from the n-th data frame (from 1). */
static uint32_t drop_seq;
static unsigned drops_left, drop_nth_data;
/* Drop the first frame with PSH set (the tail) once. */
static bool drop_first_psh;
/* Drop every frame after the SYN while set (recording none of them). */
static bool drop_all_data;
/* Drop this many SYNs; drop every frame with data while set. */
static unsigned drop_syns;
static bool drop_payload;

static bool
client_wire(void *arg, const struct rte_mbuf *m)
{
	uint8_t buf[128];
	uint32_t len;
	const struct rte_tcp_hdr *th = tcp_of(m, buf, &len);
	uint32_t seq;

	(void)arg;
	/* Everything after the SYN, bare ACKs included. */
	if (drop_all_data && th != NULL && !(th->tcp_flags & RTE_TCP_SYN_FLAG))
		return true;
	if (drop_syns > 0 && th != NULL && (th->tcp_flags & RTE_TCP_SYN_FLAG)) {
		drop_syns--;
		return true;
	}
	if (drop_payload && th != NULL && len > 0)
		return true;
	if (th == NULL || len == 0)
		return false;
	seq = rte_be_to_cpu_32(th->sent_seq);
	if (sent_n < RTE_DIM(sent_seq)) {
		sent_seq[sent_n] = seq;
		sent_flags[sent_n] = th->tcp_flags;
	}
	sent_n++;
	if (drop_nth_data != 0 && sent_n == drop_nth_data)
		drop_seq = seq;
	if (drop_first_psh && (th->tcp_flags & RTE_TCP_PSH_FLAG)) {
		drop_first_psh = false;
		return true;
	}
	if (drops_left > 0 && drop_nth_data != 0 && sent_n >= drop_nth_data &&
	    seq == drop_seq) {
		drops_left--;
		return true;
	}
	return false;
}

static void
wire_reset(void)
{
	sent_n = 0;
	drop_seq = 0;
	drops_left = 0;
	drop_nth_data = 0;
	drop_first_psh = false;
	drop_all_data = false;
	drop_syns = 0;
	drop_payload = false;
	fpc.wire_filter = client_wire;
}

/* --- tests --------------------------------------------------------------- */

START_TEST(test_rack_repairs_a_lost_retransmission_without_an_rto)
{
	open_pair();
	wire_reset();
	/* The 20th data segment is lost, and so is its first retransmission:
	 * only a time-based verdict (data sent after the retransmission was
	 * SACKed) can find the second loss before the timer. */
	drop_nth_data = 20;
	drops_left = 2;
	transfer(tcli.c, tsrv.c, 400 * 1024, 5, 20000);
	ck_assert_uint_eq(drops_left, 0);
	ck_assert_uint_ge(pair_stat(cli, "tcp_lost_retransmits"), 1);
	ck_assert_uint_ge(pair_stat(cli, "tcp_rack_lost_segments"), 2);
	ck_assert_uint_eq(pair_stat(cli, "tcp_rexmt_timeouts"), 0);
	close_pair();
}
END_TEST

START_TEST(test_tlp_repairs_a_tail_loss_without_an_rto)
{
	open_pair();
	wire_reset();
	/* Eight segments in one flight; the last (the one with PSH) is lost,
	 * so no later segment can draw a duplicate ACK. */
	drop_first_psh = true;
	transfer(tcli.c, tsrv.c, 8 * 1448, 6, 1000);
	ck_assert(!drop_first_psh);
	ck_assert_uint_ge(pair_stat(cli, "tcp_tlp_probes"), 1);
	ck_assert_uint_eq(pair_stat(cli, "tcp_rexmt_timeouts"), 0);
	close_pair();
}
END_TEST

START_TEST(test_tlp_sends_no_new_data_while_the_peer_may_be_in_syn_received)
{
	static uint8_t data[40 * 1448], in[sizeof(data)];
	uint32_t got = 0, first_flight_end = 0;
	unsigned flight;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = pattern(i, 12);
	wire_reset();
	server_listen();
	memset(&tcli, 0, sizeof(tcli));
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(SERVER_PORT),
				     NULL, &tcli, &tcli.c), 0);
	/* Everything after the SYN is lost for a while, the handshake's ACK
	 * and the first flight of data with it: the server stays in
	 * SYN-RECEIVED, and data is still unsent here. */
	drop_all_data = true;
	for (int i = 0; i < 20 && tcli.connected == 0; i++)
		poll_both(1);
	ck_assert_uint_eq(tcli.connected, 1);
	ck_assert_int_eq(tcp_send(tcli.c, data, sizeof(data)), (int32_t)sizeof(data));
	poll_both(5);
	ck_assert_uint_eq(tl.ready, 0);
	/* What the flight held, seen from the client's side. */
	flight = 0;
	first_flight_end = tcli.c->snd_max;
	ck_assert_uint_lt(first_flight_end - tcli.c->iss, sizeof(data));
	/* The probe repeats what is in flight: new data beyond a missing
	 * first segment is what Linux resets a SYN-RECEIVED connection for. */
	drop_all_data = false;
	for (int i = 0; i < 3000 && sent_n == flight; i++)
		advance(1000);
	ck_assert_uint_gt(sent_n, flight);
	ck_assert_uint_ge(pair_stat(cli, "tcp_tlp_probes"), 1);
	ck_assert_msg(tcp_seq_lt(sent_seq[flight], first_flight_end),
		      "the probe sent new data at %u (the flight ended at %u)",
		      sent_seq[flight], first_flight_end);
	/* And everything arrives once the loss is over. */
	for (int i = 0; i < 3000 && tl.ready == 0; i++)
		advance(1000);
	tsrv.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(tsrv.c);
	tcp_conn_set_user(tsrv.c, &tsrv);
	for (int i = 0; i < 20000 && got < sizeof(data); i++) {
		got += tcp_recv(tsrv.c, in + got, sizeof(in) - got);
		advance(1000);
	}
	ck_assert_uint_eq(got, sizeof(data));
	ck_assert_mem_eq(in, data, sizeof(data));
	close_pair();
}
END_TEST

START_TEST(test_after_a_lost_syn_the_handshake_ack_goes_out_alone)
{
	static const char req[] = "request";

	wire_reset();
	server_listen();
	memset(&tcli, 0, sizeof(tcli));
	drop_syns = 1;
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP), htons(SERVER_PORT),
				     NULL, &tcli, &tcli.c), 0);
	for (int i = 0; i < 3000 && tcli.connected == 0; i++)
		advance(1000);
	ck_assert_uint_eq(tcli.connected, 1);
	ck_assert_uint_eq(drop_syns, 0);
	/* The request follows at once and is lost: had the ACK waited to
	 * ride on it, the server would still be in SYN-RECEIVED. */
	drop_payload = true;
	ck_assert_int_eq(tcp_send(tcli.c, req, sizeof(req)), (int32_t)sizeof(req));
	poll_both(3);
	ck_assert_uint_eq(tl.ready, 1);
	drop_payload = false;
	tsrv.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(tsrv.c);
	tcp_conn_set_user(tsrv.c, &tsrv);
	close_pair();
}
END_TEST

START_TEST(test_limited_transmit_sends_new_data_on_the_first_two_duplicate_acks)
{
	static uint8_t data[40 * 1448];
	uint32_t top = 0;

	/* Without SACK, so duplicate ACKs are counted the RFC 5681 way. */
	tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	conf.sack = false;
	enable_tcp(cli);
	enable_tcp(srv);
	open_pair();
	wire_reset();
	drop_nth_data = 1;
	drops_left = 1;
	memset(data, 7, sizeof(data));
	ck_assert_int_eq(tcp_send(tcli.c, data, sizeof(data)), (int32_t)sizeof(data));
	test_engine_poll(cli, 1);	/* flush: the server has not run yet */
	/* The initial window (10 segments) left at once, the first lost. */
	ck_assert_uint_eq(sent_n, 10);
	for (unsigned i = 0; i < 10; i++)
		top = RTE_MAX(top, sent_seq[i]);
	poll_both(2);
	/* Two new segments on the first two duplicates (RFC 3042), then the
	 * fast retransmission of the first on the third. */
	ck_assert_uint_ge(sent_n, 13);
	ck_assert_uint_gt(sent_seq[10], top);
	ck_assert_uint_gt(sent_seq[11], sent_seq[10]);
	ck_assert_uint_eq(sent_seq[12], sent_seq[0]);
	ck_assert_uint_eq(pair_stat(cli, "tcp_fast_retransmits"), 1);
	for (int i = 0; i < 100 && tcp_snd_queued(tcli.c) > 0; i++) {
		static uint8_t in[16384];

		advance(1000);
		while (tcp_recv(tsrv.c, in, sizeof(in)) > 0)
			;
	}
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 0);
	close_pair();
}
END_TEST

START_TEST(test_psh_is_set_on_the_segment_that_empties_the_send_queue_only)
{
	static uint8_t data[3000];

	open_pair();
	wire_reset();
	memset(data, 1, sizeof(data));
	ck_assert_int_eq(tcp_send(tcli.c, data, sizeof(data)), 3000);
	poll_both(2);
	ck_assert_uint_eq(sent_n, 3);
	ck_assert(!(sent_flags[0] & RTE_TCP_PSH_FLAG));
	ck_assert(!(sent_flags[1] & RTE_TCP_PSH_FLAG));
	ck_assert(sent_flags[2] & RTE_TCP_PSH_FLAG);
	close_pair();
}
END_TEST

START_TEST(test_refused_window_probe_resumes_at_snd_una_without_an_rto)
{
	static uint8_t data[12000], in[12000];
	uint32_t got = 0;

	tcp_engine_disable(srv);
	conf.rcv_buf = 4096;
	enable_tcp(srv);
	open_pair();
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = pattern(i, 11);
	ck_assert_int_eq(tcp_send(tcli.c, data, sizeof(data)), (int32_t)sizeof(data));
	/* The reader sleeps: the window shuts and probes are refused. */
	for (int i = 0; i < 2000; i++)
		advance(1000);
	ck_assert_uint_ge(pair_stat(cli, "tcp_persist_probes"), 2);
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
	/* The probe byte went out again as data when the window opened; the
	 * retransmission timer never had to find it. */
	ck_assert_uint_eq(pair_stat(cli, "tcp_rexmt_timeouts"), 0);
	close_pair();
}
END_TEST

static Suite *
tcp_recovery_suite(void)
{
	Suite *s = suite_create("tcp_recovery");
	TCase *pair = tcase_create("pair");

	tcase_set_timeout(pair, 60);
	tcase_add_checked_fixture(pair, setup_pair, teardown_common);
	tcase_add_test(pair, test_rack_repairs_a_lost_retransmission_without_an_rto);
	tcase_add_test(pair, test_tlp_repairs_a_tail_loss_without_an_rto);
	tcase_add_test(pair, test_tlp_sends_no_new_data_while_the_peer_may_be_in_syn_received);
	tcase_add_test(pair, test_after_a_lost_syn_the_handshake_ack_goes_out_alone);
	tcase_add_test(pair, test_limited_transmit_sends_new_data_on_the_first_two_duplicate_acks);
	tcase_add_test(pair, test_psh_is_set_on_the_segment_that_empties_the_send_queue_only);
	tcase_add_test(pair, test_refused_window_probe_resumes_at_snd_una_without_an_rto);
	suite_add_tcase(s, pair);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(tcp_recovery_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
