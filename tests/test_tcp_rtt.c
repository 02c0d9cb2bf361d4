/*
 * tcp_rtt: the RFC 6298 estimator gives the RTOs the RFC's formulas give
 * when worked by hand, clamps them, backs off by doubling up to the cap,
 * and applies the 3-second rule after a SYN timeout.
 */
#include <stdlib.h>
#include <check.h>

#include "test_eal.h"
#include "tcp_rtt.h"

#define MS 1000u
#define S 1000000u

/* The defaults of most tests: initial 1 s, min 200 ms, max 60 s, G 1 ms. */
static void
init_default(struct tcp_rtt *r)
{
	tcp_rtt_init(r, 1 * S, 200 * MS, 60 * S, 1 * MS);
}

START_TEST(test_rtt_rto_before_any_sample_is_the_initial_value)
{
	struct tcp_rtt r;

	init_default(&r);
	ck_assert(!r.has_sample);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 1 * S);
}
END_TEST

START_TEST(test_rtt_first_sample_sets_srtt_and_half_of_it_as_variance)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 100 * MS);
	ck_assert(r.has_sample);
	ck_assert_uint_eq(r.srtt_us, 100000);
	ck_assert_uint_eq(r.rttvar_us, 50000);
	/* 100 ms + max(1 ms, 4 * 50 ms) */
	ck_assert_uint_eq(tcp_rtt_rto(&r), 300000);
}
END_TEST

START_TEST(test_rtt_later_samples_smooth_by_one_eighth_and_one_quarter)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 100000);
	/* RTTVAR = 3/4 * 50000 + 1/4 * |100000 - 180000| = 57500
	 * SRTT   = 7/8 * 100000 + 1/8 * 180000 = 110000
	 * RTO    = 110000 + 4 * 57500 = 340000 */
	tcp_rtt_sample(&r, 180000);
	ck_assert_uint_eq(r.rttvar_us, 57500);
	ck_assert_uint_eq(r.srtt_us, 110000);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 340000);
	/* RTTVAR = 3/4 * 57500 + 1/4 * |110000 - 60000| = 55625
	 * SRTT   = 7/8 * 110000 + 1/8 * 60000 = 103750
	 * RTO    = 103750 + 4 * 55625 = 326250 */
	tcp_rtt_sample(&r, 60000);
	ck_assert_uint_eq(r.rttvar_us, 55625);
	ck_assert_uint_eq(r.srtt_us, 103750);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 326250);
}
END_TEST

START_TEST(test_rtt_granularity_replaces_a_smaller_variance_term)
{
	struct tcp_rtt r;

	tcp_rtt_init(&r, 1 * S, 0, 60 * S, 5 * MS);
	tcp_rtt_sample(&r, 1 * MS);
	/* 4 * RTTVAR = 2 ms < G = 5 ms */
	ck_assert_uint_eq(tcp_rtt_rto(&r), 1 * MS + 5 * MS);
}
END_TEST

START_TEST(test_rtt_rto_is_clamped_to_the_minimum)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 1 * MS);	/* 1 ms + 2 ms = 3 ms */
	ck_assert_uint_eq(tcp_rtt_rto(&r), 200 * MS);
}
END_TEST

START_TEST(test_rtt_rto_is_clamped_to_the_maximum)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 30 * S);	/* 30 s + 60 s */
	ck_assert_uint_eq(tcp_rtt_rto(&r), 60 * S);
	/* A second huge sample must not overflow the 7/8 step. */
	tcp_rtt_sample(&r, UINT32_MAX);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 60 * S);
	ck_assert_uint_gt(r.srtt_us, 30 * S);
}
END_TEST

START_TEST(test_rtt_initial_value_is_clamped_too)
{
	struct tcp_rtt r;

	tcp_rtt_init(&r, 100 * MS, 200 * MS, 60 * S, 1 * MS);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 200 * MS);
	tcp_rtt_init(&r, 100 * S, 200 * MS, 60 * S, 1 * MS);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 60 * S);
}
END_TEST

START_TEST(test_rtt_backoff_doubles_until_the_maximum)
{
	struct tcp_rtt r;
	int i;

	tcp_rtt_init(&r, 1 * S, 200 * MS, 2 * S, 1 * MS);
	tcp_rtt_sample(&r, 100 * MS);	/* RTO 300 ms */
	tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 600 * MS);
	tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 1200 * MS);
	tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 2 * S);
	for (i = 0; i < 100; i++)
		tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 2 * S);
	ck_assert_uint_le(r.backoff, 3);
}
END_TEST

START_TEST(test_rtt_new_sample_clears_the_backoff)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 100 * MS);
	tcp_rtt_backoff(&r);
	tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 1200 * MS);
	tcp_rtt_sample(&r, 100 * MS);
	/* RTTVAR = 37500, SRTT = 100000: 100 ms + 150 ms */
	ck_assert_uint_eq(r.backoff, 0);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 250 * MS);
}
END_TEST

START_TEST(test_rtt_syn_timeout_without_sample_sets_three_seconds)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_backoff(&r);	/* the SYN was retransmitted twice */
	tcp_rtt_backoff(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 4 * S);
	tcp_rtt_syn_timeout(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 3 * S);
}
END_TEST

START_TEST(test_rtt_syn_timeout_respects_min_and_max)
{
	struct tcp_rtt r;

	tcp_rtt_init(&r, 1 * S, 200 * MS, 2 * S, 1 * MS);
	tcp_rtt_syn_timeout(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 2 * S);

	tcp_rtt_init(&r, 1 * S, 5 * S, 60 * S, 1 * MS);
	tcp_rtt_syn_timeout(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 5 * S);
}
END_TEST

START_TEST(test_rtt_syn_timeout_never_lowers_the_rto)
{
	struct tcp_rtt r;

	tcp_rtt_init(&r, 4 * S, 200 * MS, 60 * S, 1 * MS);
	tcp_rtt_syn_timeout(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 4 * S);
}
END_TEST

START_TEST(test_rtt_syn_timeout_keeps_a_measured_rto)
{
	struct tcp_rtt r;

	init_default(&r);
	tcp_rtt_sample(&r, 100 * MS);	/* e.g. from a timestamp echo */
	tcp_rtt_syn_timeout(&r);
	ck_assert_uint_eq(tcp_rtt_rto(&r), 300 * MS);
}
END_TEST

static Suite *
tcp_rtt_suite(void)
{
	Suite *s = suite_create("tcp_rtt");
	TCase *tc = tcase_create("rfc6298");

	tcase_add_test(tc, test_rtt_rto_before_any_sample_is_the_initial_value);
	tcase_add_test(tc, test_rtt_first_sample_sets_srtt_and_half_of_it_as_variance);
	tcase_add_test(tc, test_rtt_later_samples_smooth_by_one_eighth_and_one_quarter);
	tcase_add_test(tc, test_rtt_granularity_replaces_a_smaller_variance_term);
	tcase_add_test(tc, test_rtt_rto_is_clamped_to_the_minimum);
	tcase_add_test(tc, test_rtt_rto_is_clamped_to_the_maximum);
	tcase_add_test(tc, test_rtt_initial_value_is_clamped_too);
	tcase_add_test(tc, test_rtt_backoff_doubles_until_the_maximum);
	tcase_add_test(tc, test_rtt_new_sample_clears_the_backoff);
	tcase_add_test(tc, test_rtt_syn_timeout_without_sample_sets_three_seconds);
	tcase_add_test(tc, test_rtt_syn_timeout_respects_min_and_max);
	tcase_add_test(tc, test_rtt_syn_timeout_never_lowers_the_rto);
	tcase_add_test(tc, test_rtt_syn_timeout_keeps_a_measured_rto);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(tcp_rtt_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
