/*
 * Proves that sequence-number comparisons, min/max and range tests give
 * the modulo-2^32 answer, in particular across the wrap from 0xffffffff
 * to 0, and agree with a 64-bit reference model on random inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <check.h>

#include "tcp_seq.h"
#include "test_eal.h"

START_TEST(test_seq_compare_ordinary_values)
{
	ck_assert(tcp_seq_lt(1, 2));
	ck_assert(!tcp_seq_lt(2, 1));
	ck_assert(!tcp_seq_lt(5, 5));
	ck_assert(tcp_seq_leq(5, 5));
	ck_assert(tcp_seq_leq(1, 2));
	ck_assert(!tcp_seq_leq(2, 1));
	ck_assert(tcp_seq_gt(2, 1));
	ck_assert(!tcp_seq_gt(1, 2));
	ck_assert(!tcp_seq_gt(5, 5));
	ck_assert(tcp_seq_geq(5, 5));
	ck_assert(tcp_seq_geq(2, 1));
	ck_assert(!tcp_seq_geq(1, 2));
}
END_TEST

START_TEST(test_seq_lt_holds_across_wrap)
{
	ck_assert(tcp_seq_lt(0xffffffffu, 0));
	ck_assert(tcp_seq_lt(0xfffffff0u, 0x10));
	ck_assert(!tcp_seq_lt(0, 0xffffffffu));
	ck_assert(!tcp_seq_lt(0x10, 0xfffffff0u));
}
END_TEST

START_TEST(test_seq_leq_holds_across_wrap)
{
	ck_assert(tcp_seq_leq(0xffffffffu, 0));
	ck_assert(tcp_seq_leq(0xffffffffu, 0xffffffffu));
	ck_assert(!tcp_seq_leq(0, 0xffffffffu));
	ck_assert(!tcp_seq_leq(0x10, 0xfffffff0u));
}
END_TEST

START_TEST(test_seq_gt_holds_across_wrap)
{
	ck_assert(tcp_seq_gt(0, 0xffffffffu));
	ck_assert(tcp_seq_gt(0x10, 0xfffffff0u));
	ck_assert(!tcp_seq_gt(0xffffffffu, 0));
	ck_assert(!tcp_seq_gt(0xffffffffu, 0xffffffffu));
}
END_TEST

START_TEST(test_seq_geq_holds_across_wrap)
{
	ck_assert(tcp_seq_geq(0, 0xffffffffu));
	ck_assert(tcp_seq_geq(0, 0));
	ck_assert(!tcp_seq_geq(0xffffffffu, 0));
	ck_assert(!tcp_seq_geq(0xfffffff0u, 0x10));
}
END_TEST

START_TEST(test_seq_compare_at_half_range_boundary)
{
	/* 2^31 - 1 ahead is still "after"; 2^31 ahead flips, as in FreeBSD. */
	ck_assert(tcp_seq_lt(0, 0x7fffffffu));
	ck_assert(tcp_seq_gt(0x7fffffffu, 0));
	ck_assert(tcp_seq_lt(0x80000000u, 0));
	ck_assert(tcp_seq_lt(0xc0000000u, 0x3fffffffu));
}
END_TEST

START_TEST(test_seq_max_min_pick_later_and_earlier_across_wrap)
{
	ck_assert_uint_eq(tcp_seq_max(0xfffffff0u, 0x10), 0x10);
	ck_assert_uint_eq(tcp_seq_max(0x10, 0xfffffff0u), 0x10);
	ck_assert_uint_eq(tcp_seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
	ck_assert_uint_eq(tcp_seq_min(0x10, 0xfffffff0u), 0xfffffff0u);
	ck_assert_uint_eq(tcp_seq_max(3, 7), 7);
	ck_assert_uint_eq(tcp_seq_min(3, 7), 3);
	ck_assert_uint_eq(tcp_seq_max(9, 9), 9);
}
END_TEST

START_TEST(test_seq_between_includes_both_ends)
{
	ck_assert(tcp_seq_between(100, 100, 200));
	ck_assert(tcp_seq_between(200, 100, 200));
	ck_assert(tcp_seq_between(150, 100, 200));
	ck_assert(!tcp_seq_between(99, 100, 200));
	ck_assert(!tcp_seq_between(201, 100, 200));
	ck_assert(tcp_seq_between(7, 7, 7));
	ck_assert(!tcp_seq_between(8, 7, 7));
}
END_TEST

START_TEST(test_seq_between_range_straddling_wrap)
{
	uint32_t lo = 0xfffffff0u, hi = 0x10;

	ck_assert(tcp_seq_between(0xfffffff0u, lo, hi));
	ck_assert(tcp_seq_between(0xffffffffu, lo, hi));
	ck_assert(tcp_seq_between(0, lo, hi));
	ck_assert(tcp_seq_between(0x10, lo, hi));
	ck_assert(!tcp_seq_between(0x11, lo, hi));
	ck_assert(!tcp_seq_between(0xffffffefu, lo, hi));
	ck_assert(!tcp_seq_between(0x80000000u, lo, hi));
}
END_TEST

START_TEST(test_seq_between_with_hi_before_lo_is_empty)
{
	ck_assert(!tcp_seq_between(150, 200, 100));
	ck_assert(!tcp_seq_between(200, 200, 100));
	ck_assert(!tcp_seq_between(100, 200, 100));
	ck_assert(!tcp_seq_between(0, 0x10, 0xfffffff0u));
}
END_TEST

START_TEST(test_seq_in_window_excludes_end)
{
	ck_assert(tcp_seq_in_window(1000, 1000, 10));
	ck_assert(tcp_seq_in_window(1009, 1000, 10));
	ck_assert(!tcp_seq_in_window(1010, 1000, 10));
	ck_assert(!tcp_seq_in_window(999, 1000, 10));
}
END_TEST

START_TEST(test_seq_in_window_straddling_wrap)
{
	ck_assert(tcp_seq_in_window(0xfffffffbu, 0xfffffffbu, 10));
	ck_assert(tcp_seq_in_window(0xffffffffu, 0xfffffffbu, 10));
	ck_assert(tcp_seq_in_window(0, 0xfffffffbu, 10));
	ck_assert(tcp_seq_in_window(4, 0xfffffffbu, 10));
	ck_assert(!tcp_seq_in_window(5, 0xfffffffbu, 10));
	ck_assert(!tcp_seq_in_window(0xfffffffau, 0xfffffffbu, 10));
}
END_TEST

START_TEST(test_seq_in_zero_window_contains_nothing)
{
	ck_assert(!tcp_seq_in_window(1000, 1000, 0));
	ck_assert(!tcp_seq_in_window(0, 0, 0));
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng_next(void)
{
	/* xorshift64*: fixed seed, so failures reproduce. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Reference model: place b at a + d with d a signed offset below 2^31 in
 * magnitude; every comparison then follows from the sign of d, and range
 * tests from plain integer comparisons of offsets. */
START_TEST(test_seq_random_offsets_match_reference_model)
{
	for (int i = 0; i < 20000; i++) {
		uint32_t a = rng_next();
		int64_t d = (int64_t)(rng_next() & 0x7fffffffu) *
			    ((rng_next() & 1) ? 1 : -1);
		uint32_t b = (uint32_t)((int64_t)a + d);
		uint32_t len = rng_next() & 0xffff;
		uint32_t s;

		ck_assert(tcp_seq_lt(a, b) == (d > 0));
		ck_assert(tcp_seq_leq(a, b) == (d >= 0));
		ck_assert(tcp_seq_gt(a, b) == (d < 0));
		ck_assert(tcp_seq_geq(a, b) == (d <= 0));
		ck_assert_uint_eq(tcp_seq_max(a, b), d > 0 ? b : a);
		ck_assert_uint_eq(tcp_seq_min(a, b), d > 0 ? a : b);

		/* s at offset e from a; window [a, a + len). */
		int64_t e = (int64_t)(rng_next() & 0x1ffff) - 0x10000;
		s = (uint32_t)((int64_t)a + e);
		ck_assert(tcp_seq_in_window(s, a, len) ==
			  (e >= 0 && e < (int64_t)len));
		ck_assert(tcp_seq_between(s, a, a + len) ==
			  (e >= 0 && e <= (int64_t)len));
	}
}
END_TEST

static Suite *
tcp_seq_suite(void)
{
	Suite *s = suite_create("tcp_seq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_seq_compare_ordinary_values);
	tcase_add_test(tc, test_seq_lt_holds_across_wrap);
	tcase_add_test(tc, test_seq_leq_holds_across_wrap);
	tcase_add_test(tc, test_seq_gt_holds_across_wrap);
	tcase_add_test(tc, test_seq_geq_holds_across_wrap);
	tcase_add_test(tc, test_seq_compare_at_half_range_boundary);
	tcase_add_test(tc, test_seq_max_min_pick_later_and_earlier_across_wrap);
	tcase_add_test(tc, test_seq_between_includes_both_ends);
	tcase_add_test(tc, test_seq_between_range_straddling_wrap);
	tcase_add_test(tc, test_seq_between_with_hi_before_lo_is_empty);
	tcase_add_test(tc, test_seq_in_window_excludes_end);
	tcase_add_test(tc, test_seq_in_window_straddling_wrap);
	tcase_add_test(tc, test_seq_in_zero_window_contains_nothing);
	tcase_add_test(tc, test_seq_random_offsets_match_reference_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(tcp_seq_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
