/*
 * tcp_cc: NewReno follows RFC 5681/6582 (slow start, byte-counted
 * congestion avoidance, fast retransmit and recovery, timeout, restart
 * after idle), the recover point gates recoveries across the sequence wrap,
 * SACK-based recovery keeps cwnd at ssthresh, and CUBIC follows RFC 9438
 * (beta cut, cubic curve in time, Reno-friendly region, timeout rule).
 */
#include <math.h>
#include <stdlib.h>
#include <check.h>

#include "test_eal.h"
#include "tcp_cc.h"

#define SMSS 1460u
#define MS 1000u
#define S 1000000u

static struct tcp_cc_ack
ack_of(uint32_t ack, uint32_t acked, uint32_t flight_before)
{
	struct tcp_cc_ack a = {
		.ack = ack,
		.acked_bytes = acked,
		.flight_before = flight_before,
		.srtt_us = 100 * MS,
		.now_us = 0,
	};
	return a;
}

/* An ACK of acked bytes from a sender whose whole cwnd is in flight. */
static enum tcp_cc_ack_kind
ack_full_window(struct tcp_cc_state *st, uint32_t *una, uint32_t acked)
{
	struct tcp_cc_ack a = ack_of(*una + acked, acked, st->cwnd);

	*una += acked;
	return tcp_cc_new_ack(st, &a);
}

/*
 * One round trip of a sender that keeps its window full: one ACK per SMSS
 * of cwnd, spread evenly over the round trip.
 */
static void
run_round(struct tcp_cc_state *st, uint32_t *una, uint32_t rtt_us,
	  uint64_t *now_us)
{
	uint32_t n = st->cwnd / SMSS, k;
	uint64_t start = *now_us;

	for (k = 0; k < n; k++) {
		struct tcp_cc_ack a = ack_of(*una + SMSS, SMSS, st->cwnd);

		a.srtt_us = rtt_us;
		a.now_us = start + (uint64_t)k * rtt_us / n;
		*una += SMSS;
		ck_assert_int_eq(tcp_cc_new_ack(st, &a), TCP_CC_ACK_NORMAL);
	}
	*now_us = start + rtt_us;
}

/*
 * A loss found by duplicate ACKs with a window of w_segs full, then the
 * ACK that ends recovery, covering one segment sent during it and leaving
 * ssthresh bytes of new data out: congestion avoidance begins at cwnd =
 * ssthresh.
 */
static void
loss_and_recovery(struct tcp_cc_state *st, uint32_t w_segs, uint32_t *una,
		  uint64_t now_us)
{
	uint32_t flight = w_segs * SMSS;
	struct tcp_cc_ack a;

	st->cwnd = flight;
	ck_assert(tcp_cc_loss_detected(st, flight, *una, *una + flight, now_us));
	a = ack_of(*una + flight + SMSS, flight + SMSS,
		   flight + SMSS + st->ssthresh);
	a.now_us = now_us;
	*una += flight + SMSS;
	ck_assert_int_eq(tcp_cc_new_ack(st, &a), TCP_CC_ACK_RECOVERED);
	ck_assert_uint_eq(st->cwnd, st->ssthresh);
}

START_TEST(test_cc_initial_window_follows_rfc6928)
{
	ck_assert_uint_eq(tcp_cc_initial_window(536), 5360);
	ck_assert_uint_eq(tcp_cc_initial_window(1000), 10000);
	ck_assert_uint_eq(tcp_cc_initial_window(1460), 14600);
	ck_assert_uint_eq(tcp_cc_initial_window(4000), 14600);
	ck_assert_uint_eq(tcp_cc_initial_window(9000), 18000);
}
END_TEST

START_TEST(test_cc_find_knows_newreno_and_cubic_only)
{
	ck_assert_ptr_eq(tcp_cc_find("newreno"), &tcp_cc_newreno);
	ck_assert_ptr_eq(tcp_cc_find("cubic"), &tcp_cc_cubic);
	ck_assert_ptr_null(tcp_cc_find("reno"));
	ck_assert_ptr_null(tcp_cc_find(""));
	ck_assert_ptr_null(tcp_cc_find(NULL));
}
END_TEST

START_TEST(test_cc_init_starts_slow_start_at_initial_window)
{
	const struct tcp_cc_ops *algs[] = { &tcp_cc_newreno, &tcp_cc_cubic };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct tcp_cc_state st;

		tcp_cc_init(&st, algs[i], SMSS, false, 0);
		ck_assert_uint_eq(st.cwnd, 10 * SMSS);
		ck_assert_uint_eq(st.ssthresh, TCP_CC_SSTHRESH_INFINITE);
		ck_assert(!st.in_fast_recovery);
		ck_assert(!st.recover_armed);
	}
}
END_TEST

START_TEST(test_newreno_slow_start_adds_one_smss_per_ack)
{
	struct tcp_cc_state st;
	uint32_t una = 1;
	int i;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(ack_full_window(&st, &una, SMSS),
				 TCP_CC_ACK_NORMAL);
	ck_assert_uint_eq(st.cwnd, 20 * SMSS);
}
END_TEST

START_TEST(test_newreno_slow_start_grows_by_at_most_one_smss_per_ack)
{
	struct tcp_cc_state st;
	uint32_t una = 1;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	ack_full_window(&st, &una, 2 * SMSS);	/* a delayed ACK */
	ck_assert_uint_eq(st.cwnd, 11 * SMSS);
	ack_full_window(&st, &una, 500);
	ck_assert_uint_eq(st.cwnd, 11 * SMSS + 500);
}
END_TEST

START_TEST(test_newreno_window_does_not_grow_when_not_cwnd_limited)
{
	struct tcp_cc_state st;
	struct tcp_cc_ack a;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	a = ack_of(1 + SMSS, SMSS, st.cwnd - 2 * SMSS);
	tcp_cc_new_ack(&st, &a);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);

	st.ssthresh = st.cwnd;	/* and in congestion avoidance */
	for (a.ack = 1; a.ack < 1 + 40 * SMSS; a.ack += SMSS)
		tcp_cc_new_ack(&st, &a);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
}
END_TEST

START_TEST(test_newreno_slow_start_hands_over_at_ssthresh)
{
	struct tcp_cc_state st;
	uint32_t una = 1;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.ssthresh = 12 * SMSS;
	ack_full_window(&st, &una, SMSS);
	ack_full_window(&st, &una, SMSS);
	ck_assert_uint_eq(st.cwnd, 12 * SMSS);
	ack_full_window(&st, &una, SMSS);
	ck_assert_uint_eq(st.cwnd, 12 * SMSS);
}
END_TEST

START_TEST(test_newreno_congestion_avoidance_adds_one_smss_per_window_acked)
{
	struct tcp_cc_state st;
	uint32_t una = 1;
	int i;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = st.ssthresh = 20 * SMSS;
	for (i = 0; i < 19; i++)
		ack_full_window(&st, &una, SMSS);
	ck_assert_uint_eq(st.cwnd, 20 * SMSS);
	ack_full_window(&st, &una, SMSS);
	ck_assert_uint_eq(st.cwnd, 21 * SMSS);
	/* Byte counting: the ACK pattern does not matter, only bytes. */
	for (i = 0; i < 10; i++)
		ack_full_window(&st, &una, 2 * SMSS);
	ck_assert_uint_eq(st.cwnd, 21 * SMSS);
	ack_full_window(&st, &una, SMSS);
	ck_assert_uint_eq(st.cwnd, 22 * SMSS);
}
END_TEST

START_TEST(test_newreno_third_dupack_halves_flight_and_adds_three_smss)
{
	struct tcp_cc_state st;
	uint32_t una = 1000, flight = 20 * SMSS;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, una, una + flight, 0));
	ck_assert_uint_eq(st.ssthresh, 10 * SMSS);
	ck_assert_uint_eq(st.cwnd, 13 * SMSS);
	ck_assert(st.in_fast_recovery);
	ck_assert_uint_eq(st.recover, una + flight);
}
END_TEST

START_TEST(test_newreno_ssthresh_is_at_least_two_smss)
{
	struct tcp_cc_state st;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	ck_assert(tcp_cc_loss_detected(&st, 3 * SMSS, 1, 1 + 3 * SMSS, 0));
	ck_assert_uint_eq(st.ssthresh, 2 * SMSS);
	ck_assert_uint_eq(st.cwnd, 5 * SMSS);
}
END_TEST

START_TEST(test_newreno_dupacks_inflate_only_during_recovery)
{
	struct tcp_cc_state st;
	uint32_t flight = 20 * SMSS;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_dup_ack(&st);
	tcp_cc_dup_ack(&st);
	ck_assert_uint_eq(st.cwnd, flight);
	tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0);
	tcp_cc_dup_ack(&st);
	tcp_cc_dup_ack(&st);
	ck_assert_uint_eq(st.cwnd, 15 * SMSS);
}
END_TEST

START_TEST(test_newreno_loss_during_recovery_does_not_restart_it)
{
	struct tcp_cc_state st;
	uint32_t flight = 20 * SMSS;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0));
	ck_assert(!tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0));
	ck_assert_uint_eq(st.ssthresh, 10 * SMSS);
	ck_assert_uint_eq(st.cwnd, 13 * SMSS);
}
END_TEST

START_TEST(test_newreno_partial_ack_deflates_and_asks_for_retransmission)
{
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 20 * SMSS;
	struct tcp_cc_ack a;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_loss_detected(&st, flight, una, una + flight, 0);
	tcp_cc_dup_ack(&st);	/* cwnd 14 SMSS */
	a = ack_of(una + 3 * SMSS, 3 * SMSS, flight);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_PARTIAL);
	ck_assert(st.in_fast_recovery);
	ck_assert_uint_eq(st.cwnd, 14 * SMSS - 3 * SMSS + SMSS);
	/* Less than one SMSS acknowledged: nothing added back. */
	a = ack_of(una + 3 * SMSS + 500, 500, flight - 3 * SMSS);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_PARTIAL);
	ck_assert_uint_eq(st.cwnd, 12 * SMSS - 500);
}
END_TEST

START_TEST(test_newreno_full_ack_ends_recovery_at_most_at_ssthresh)
{
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 20 * SMSS;
	struct tcp_cc_ack a;

	/* Plenty still in flight (new data sent during recovery): ssthresh. */
	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_loss_detected(&st, flight, una, una + flight, 0);
	a = ack_of(una + flight, flight, flight + 15 * SMSS);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_RECOVERED);
	ck_assert(!st.in_fast_recovery);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);

	/* Almost nothing in flight: FlightSize + SMSS, no burst. */
	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_loss_detected(&st, flight, una, una + flight, 0);
	a = ack_of(una + flight + 2 * SMSS, flight + 2 * SMSS,
		   flight + 5 * SMSS);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_RECOVERED);
	ck_assert_uint_eq(st.cwnd, 4 * SMSS);
}
END_TEST

START_TEST(test_newreno_rto_collapses_to_one_smss)
{
	struct tcp_cc_state st;
	uint32_t flight = 20 * SMSS;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0);
	tcp_cc_rto_timeout(&st, flight, 1 + flight, 0);
	ck_assert(!st.in_fast_recovery);
	ck_assert_uint_eq(st.cwnd, SMSS);
	ck_assert_uint_eq(st.ssthresh, 10 * SMSS);
	/* The timer firing again with the same flight keeps ssthresh. */
	tcp_cc_rto_timeout(&st, flight, 1 + flight, 0);
	ck_assert_uint_eq(st.ssthresh, 10 * SMSS);
}
END_TEST

START_TEST(test_newreno_dupacks_for_data_sent_before_rto_start_no_recovery)
{
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 20 * SMSS, recover = una + flight;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_rto_timeout(&st, flight, recover, 0);
	ck_assert(!tcp_cc_loss_detected(&st, flight, recover - SMSS,
					recover + SMSS, 0));
	/* RFC 6582: the ACK must cover more than recover. */
	ck_assert(!tcp_cc_loss_detected(&st, flight, recover, recover + SMSS, 0));
	ck_assert_uint_eq(st.cwnd, SMSS);
	ck_assert(tcp_cc_loss_detected(&st, flight, recover + SMSS,
				       recover + 10 * SMSS, 0));
}
END_TEST

START_TEST(test_sack_recovery_may_start_once_ack_reaches_recover)
{
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 20 * SMSS, recover = una + flight;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, true, 0);
	st.cwnd = flight;
	tcp_cc_rto_timeout(&st, flight, recover, 0);
	ck_assert(!tcp_cc_loss_detected(&st, flight, recover - 1,
					recover + SMSS, 0));
	ck_assert(tcp_cc_loss_detected(&st, flight, recover, recover + SMSS, 0));
}
END_TEST

START_TEST(test_recovery_tells_partial_from_full_across_the_wrap)
{
	struct tcp_cc_state st;
	uint32_t una = 0xFFFFF000u, flight = 20 * SMSS;
	struct tcp_cc_ack a;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, una, una + flight, 0));
	ck_assert_uint_lt(st.recover, una);	/* wrapped past zero */
	a = ack_of(una + 5 * SMSS, 5 * SMSS, flight);
	ck_assert_uint_lt(a.ack, una);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_PARTIAL);
	a = ack_of(una + flight, 15 * SMSS, 15 * SMSS);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_RECOVERED);
}
END_TEST

START_TEST(test_passed_recover_point_never_blocks_recovery_after_wrap)
{
	struct tcp_cc_state st;
	uint32_t flight = 20 * SMSS, recover = 1 + flight;
	struct tcp_cc_ack a;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_rto_timeout(&st, flight, recover, 0);
	a = ack_of(recover + SMSS, SMSS, flight);
	tcp_cc_new_ack(&st, &a);
	ck_assert(!st.recover_armed);
	/* 2^31 and more later, recover looks "ahead" again modulo 2^32. */
	ck_assert(tcp_cc_loss_detected(&st, flight, recover + 0x80000005u,
				       recover + 0x80000005u + flight, 0));
}
END_TEST

START_TEST(test_sack_recovery_holds_cwnd_at_ssthresh)
{
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 20 * SMSS;
	struct tcp_cc_ack a;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, true, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, una, una + flight, 0));
	ck_assert_uint_eq(st.ssthresh, 10 * SMSS);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
	tcp_cc_dup_ack(&st);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
	a = ack_of(una + 3 * SMSS, 3 * SMSS, flight);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_PARTIAL);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
	a = ack_of(una + flight, 17 * SMSS, 17 * SMSS + 12 * SMSS);
	ck_assert_int_eq(tcp_cc_new_ack(&st, &a), TCP_CC_ACK_RECOVERED);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
}
END_TEST

START_TEST(test_newreno_idle_longer_than_rto_restarts_at_initial_window)
{
	struct tcp_cc_state st;

	tcp_cc_init(&st, &tcp_cc_newreno, SMSS, false, 0);
	st.cwnd = 40 * SMSS;
	tcp_cc_after_idle(&st, 500 * MS, 1 * S);
	ck_assert_uint_eq(st.cwnd, 40 * SMSS);
	tcp_cc_after_idle(&st, 2 * S, 1 * S);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
	st.cwnd = 5 * SMSS;	/* never raised by a restart */
	tcp_cc_after_idle(&st, 2 * S, 1 * S);
	ck_assert_uint_eq(st.cwnd, 5 * SMSS);
}
END_TEST

START_TEST(test_cubic_loss_cuts_to_seventy_percent)
{
	struct tcp_cc_state st;
	uint32_t flight = 100 * SMSS;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0));
	ck_assert_uint_eq(st.ssthresh, 70 * SMSS);
	ck_assert_uint_eq(st.cwnd, 73 * SMSS);	/* + 3 SMSS of dupacks */
	ck_assert_double_eq_tol(st.priv.cubic.w_max, 100.0 * SMSS, 1e-6);

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, true, 0);
	st.cwnd = flight;
	ck_assert(tcp_cc_loss_detected(&st, flight, 1, 1 + flight, 0));
	ck_assert_uint_eq(st.cwnd, 70 * SMSS);
}
END_TEST

START_TEST(test_cubic_fast_convergence_lowers_w_max_when_shrinking)
{
	struct tcp_cc_state st;
	uint32_t una = 1;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	loss_and_recovery(&st, 100, &una, 0);
	loss_and_recovery(&st, 80, &una, 0);
	/* 80 < 100: W_max = 80 * (1 + 0.7) / 2 */
	ck_assert_double_eq_tol(st.priv.cubic.w_max, 68.0 * SMSS, 1e-6);
	ck_assert_uint_eq(st.ssthresh, 56 * SMSS);
}
END_TEST

START_TEST(test_cubic_rto_collapses_to_one_smss_with_beta_ssthresh)
{
	struct tcp_cc_state st;
	uint32_t flight = 100 * SMSS;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_rto_timeout(&st, flight, 1 + flight, 0);
	ck_assert_uint_eq(st.cwnd, SMSS);
	ck_assert_uint_eq(st.ssthresh, 70 * SMSS);
}
END_TEST

/* W_cubic(t) of RFC 9438 in segments. */
static double
w_cubic(double t_s, double k_s, double w_max_segs)
{
	return 0.4 * pow(t_s - k_s, 3) + w_max_segs;
}

START_TEST(test_cubic_window_follows_the_curve_concave_then_convex)
{
	/* 100 segments at loss, RTT 200 ms: the curve beats the
	 * Reno-friendly estimate throughout, so the cubic shows pure. */
	const uint32_t rtt = 200 * MS;
	const double k = cbrt(100 * 0.3 / 0.4);
	struct tcp_cc_state st;
	uint32_t una = 1;
	uint64_t now = 0;
	double w[41], inc[41];
	int r;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	loss_and_recovery(&st, 100, &una, now);
	w[0] = (double)st.cwnd / SMSS;
	for (r = 1; r <= 40; r++) {
		run_round(&st, &una, rtt, &now);
		w[r] = (double)st.cwnd / SMSS;
		inc[r] = w[r] - w[r - 1];
		/* Within one segment of W_cubic at the end of each round. */
		ck_assert_double_eq_tol(w[r], w_cubic(r * 0.2, k, 100), 1.0);
		ck_assert_double_ge(inc[r], 0);
		ck_assert_double_le(w[r], 1.5 * w[r - 1]);
	}
	ck_assert_double_eq_tol(st.priv.cubic.k_s, k, 1e-9);
	/* Concave: ever smaller steps while t < K (4.2 s, round 21). */
	for (r = 2; r <= 19; r++)
		ck_assert_double_lt(inc[r], inc[r - 1]);
	/* Plateau at W_max around t = K. */
	ck_assert_double_eq_tol(w[21], 100, 0.5);
	/* Convex: ever larger steps beyond it. */
	for (r = 25; r <= 40; r++)
		ck_assert_double_gt(inc[r], inc[r - 1]);
	ck_assert_double_gt(w[40], 120);
}
END_TEST

START_TEST(test_cubic_short_rtt_follows_the_reno_friendly_estimate)
{
	/* 20 segments at loss, RTT 10 ms: the curve (K = 2.47 s) is far too
	 * slow, so RFC 9438 §4.3 makes CUBIC grow as Reno with beta 0.7
	 * would: alpha = 3 (1 - 0.7) / (1 + 0.7) segments per RTT until the
	 * window before the loss is regained, 1 segment per RTT after. */
	const uint32_t rtt = 10 * MS;
	const double alpha = 3 * 0.3 / 1.7;
	struct tcp_cc_state st;
	uint32_t una = 1;
	uint64_t now = 0;
	double ref = 14, w;
	int r;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	loss_and_recovery(&st, 20, &una, now);
	for (r = 1; r <= 40; r++) {
		run_round(&st, &una, rtt, &now);
		ref += ref < 20 ? alpha : 1;
		w = (double)st.cwnd / SMSS;
		ck_assert_double_ge(w, ref * 0.95);
		ck_assert_double_le(w, ref * 1.05);
	}
	/* The pure curve would still be below the old maximum. */
	ck_assert_double_lt(w_cubic(0.4, cbrt(20 * 0.3 / 0.4), 20), 20);
	ck_assert_double_gt(w, 45);
}
END_TEST

START_TEST(test_cubic_reno_friendly_region_grows_at_reno_rate)
{
	/* Past the pre-loss window, short RTT: about one SMSS per RTT, as
	 * NewReno's congestion avoidance, over 100 round trips. */
	const uint32_t rtt = 10 * MS;
	struct tcp_cc_state st;
	uint32_t una = 1, start;
	uint64_t now = 0;
	int r;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	loss_and_recovery(&st, 20, &una, now);
	for (r = 0; r < 20; r++)
		run_round(&st, &una, rtt, &now);
	start = st.cwnd;
	for (r = 0; r < 100; r++)
		run_round(&st, &una, rtt, &now);
	ck_assert_uint_ge(st.cwnd - start, 95 * SMSS);
	ck_assert_uint_le(st.cwnd - start, 105 * SMSS);
}
END_TEST

START_TEST(test_cubic_first_epoch_after_rto_starts_at_current_window)
{
	/* RFC 9438 §4.8: after a timeout, K = 0 and W_max = cwnd when
	 * congestion avoidance begins, instead of climbing back towards
	 * the window the timeout struck (which would be W(2 s) = 95.6). */
	const uint32_t rtt = 200 * MS;
	struct tcp_cc_state st;
	uint32_t una = 1, flight = 100 * SMSS;
	uint64_t now = 0;
	int r;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	st.cwnd = flight;
	tcp_cc_rto_timeout(&st, flight, una + flight, now);
	while (st.cwnd < st.ssthresh)
		run_round(&st, &una, rtt, &now);
	for (r = 0; r < 10; r++)
		run_round(&st, &una, rtt, &now);
	ck_assert_double_eq(st.priv.cubic.k_s, 0);
	ck_assert_double_eq_tol(st.priv.cubic.w_max, 70.0 * SMSS, 1e-6);
	ck_assert_uint_ge(st.cwnd, 73 * SMSS);
	ck_assert_uint_le(st.cwnd, 80 * SMSS);
}
END_TEST

START_TEST(test_cubic_restart_after_idle_forgets_elapsed_time)
{
	/* Without a new epoch the 10 idle seconds would count as time on
	 * the curve and the window would jump by half (to 15 SMSS) in one
	 * round trip; a new epoch climbs the concave curve towards the old
	 * W_max (50 SMSS, K = 4.6 s): W(0.1 s) - W(0) is about 2.5 SMSS. */
	const uint32_t rtt = 100 * MS;
	struct tcp_cc_state st;
	uint32_t una = 1;
	uint64_t now = 0;

	tcp_cc_init(&st, &tcp_cc_cubic, SMSS, false, 0);
	st.cwnd = 50 * SMSS;
	st.ssthresh = 5 * SMSS;
	run_round(&st, &una, rtt, &now);
	now += 10 * S;
	tcp_cc_after_idle(&st, 10 * S, 1 * S);
	ck_assert_uint_eq(st.cwnd, 10 * SMSS);
	run_round(&st, &una, rtt, &now);
	ck_assert_uint_le(st.cwnd, 13 * SMSS);
}
END_TEST

static Suite *
tcp_cc_suite(void)
{
	Suite *s = suite_create("tcp_cc");
	TCase *common = tcase_create("common");
	TCase *newreno = tcase_create("newreno");
	TCase *cubic = tcase_create("cubic");

	tcase_add_test(common, test_cc_initial_window_follows_rfc6928);
	tcase_add_test(common, test_cc_find_knows_newreno_and_cubic_only);
	tcase_add_test(common, test_cc_init_starts_slow_start_at_initial_window);
	tcase_add_test(common, test_recovery_tells_partial_from_full_across_the_wrap);
	tcase_add_test(common, test_passed_recover_point_never_blocks_recovery_after_wrap);
	tcase_add_test(common, test_sack_recovery_may_start_once_ack_reaches_recover);
	tcase_add_test(common, test_sack_recovery_holds_cwnd_at_ssthresh);
	suite_add_tcase(s, common);

	tcase_add_test(newreno, test_newreno_slow_start_adds_one_smss_per_ack);
	tcase_add_test(newreno, test_newreno_slow_start_grows_by_at_most_one_smss_per_ack);
	tcase_add_test(newreno, test_newreno_window_does_not_grow_when_not_cwnd_limited);
	tcase_add_test(newreno, test_newreno_slow_start_hands_over_at_ssthresh);
	tcase_add_test(newreno, test_newreno_congestion_avoidance_adds_one_smss_per_window_acked);
	tcase_add_test(newreno, test_newreno_third_dupack_halves_flight_and_adds_three_smss);
	tcase_add_test(newreno, test_newreno_ssthresh_is_at_least_two_smss);
	tcase_add_test(newreno, test_newreno_dupacks_inflate_only_during_recovery);
	tcase_add_test(newreno, test_newreno_loss_during_recovery_does_not_restart_it);
	tcase_add_test(newreno, test_newreno_partial_ack_deflates_and_asks_for_retransmission);
	tcase_add_test(newreno, test_newreno_full_ack_ends_recovery_at_most_at_ssthresh);
	tcase_add_test(newreno, test_newreno_rto_collapses_to_one_smss);
	tcase_add_test(newreno, test_newreno_dupacks_for_data_sent_before_rto_start_no_recovery);
	tcase_add_test(newreno, test_newreno_idle_longer_than_rto_restarts_at_initial_window);
	suite_add_tcase(s, newreno);

	tcase_add_test(cubic, test_cubic_loss_cuts_to_seventy_percent);
	tcase_add_test(cubic, test_cubic_fast_convergence_lowers_w_max_when_shrinking);
	tcase_add_test(cubic, test_cubic_rto_collapses_to_one_smss_with_beta_ssthresh);
	tcase_add_test(cubic, test_cubic_window_follows_the_curve_concave_then_convex);
	tcase_add_test(cubic, test_cubic_short_rtt_follows_the_reno_friendly_estimate);
	tcase_add_test(cubic, test_cubic_reno_friendly_region_grows_at_reno_rate);
	tcase_add_test(cubic, test_cubic_first_epoch_after_rto_starts_at_current_window);
	tcase_add_test(cubic, test_cubic_restart_after_idle_forgets_elapsed_time);
	suite_add_tcase(s, cubic);
	return s;
}

int
main(void)
{
	return test_run_suite(tcp_cc_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
