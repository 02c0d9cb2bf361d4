/*
 * Proves that the latency histogram reports every percentile within its
 * documented bound (1/256 of the value; exact below 256 us, and at the min
 * and max) of the exact percentile of the sorted samples, for fixed-seed
 * random data of several shapes; that its buckets tile the range with the
 * stated widths, edges included; that merging shards equals recording
 * everything in one; and that 0, values past the range and an empty
 * histogram behave as documented.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "test_eal.h"
#include "gen_hist.h"

#define SAMPLES 100000

static uint64_t rng_state;

/* xorshift64*: fixed seed, same data on every run. */
static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The reference: rank ceil(ppm * n / 10^6) of the sorted samples. */
static uint64_t
exact_at_ppm(const uint64_t *sorted, size_t n, uint32_t ppm)
{
	uint64_t rank = ((uint64_t)ppm * n + 999999) / 1000000;

	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

/* Samples spread over the whole range: a random power of two, then a
 * random value below it, so every octave gets samples. */
static uint64_t
sample_log_uniform(void)
{
	unsigned bits = (unsigned)(rng_next() % 27);

	return rng_next() % ((UINT64_C(1) << bits) + 1);
}

/* A latency-like shape: most near 50 us, a tail to tens of ms. */
static uint64_t
sample_latency_like(void)
{
	uint64_t r = rng_next() % 1000;

	if (r < 900)
		return 40 + rng_next() % 30;
	if (r < 990)
		return 100 + rng_next() % 5000;
	return 10000 + rng_next() % 90000;
}

static void
check_against_sorted(uint64_t (*gen)(void), uint64_t seed)
{
	static uint64_t v[SAMPLES];
	static struct gen_hist h;
	static const uint32_t ppms[] = {
		1, 10000, 250000, 500000, 900000, 990000, 999000, 999900, 1000000,
	};
	uint64_t sum = 0;

	rng_state = seed;
	gen_hist_init(&h);
	for (size_t i = 0; i < SAMPLES; i++) {
		v[i] = gen();
		sum += v[i];
		gen_hist_record(&h, v[i]);
	}
	qsort(v, SAMPLES, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(ppms) / sizeof(ppms[0]); k++) {
		uint64_t exact = exact_at_ppm(v, SAMPLES, ppms[k]);
		uint64_t got = gen_hist_value_at_ppm(&h, ppms[k]);
		uint64_t diff = got > exact ? got - exact : exact - got;

		ck_assert_msg(diff * 256 <= exact,
			      "ppm %u: histogram %lu, exact %lu (seed %lu)",
			      (unsigned)ppms[k], (unsigned long)got,
			      (unsigned long)exact, (unsigned long)seed);
		if (exact < 256)
			ck_assert_uint_eq(got, exact);
	}
	ck_assert_uint_eq(h.count, SAMPLES);
	ck_assert_uint_eq(h.min, v[0]);
	ck_assert_uint_eq(h.max, v[SAMPLES - 1]);
	ck_assert_uint_eq(h.sum, sum);
}

START_TEST(test_hist_percentiles_within_bound_of_sorted_log_uniform_samples)
{
	check_against_sorted(sample_log_uniform, UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)_i);
}
END_TEST

START_TEST(test_hist_percentiles_within_bound_of_sorted_latency_like_samples)
{
	check_against_sorted(sample_latency_like, UINT64_C(0xD1B54A32D192ED03) + (uint64_t)_i);
}
END_TEST

START_TEST(test_hist_buckets_tile_the_range_with_documented_widths)
{
	uint64_t prev_high = 0, lo, hi;

	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++) {
		gen_hist_bucket_bounds(i, &lo, &hi);
		if (i > 0)
			ck_assert_uint_eq(lo, prev_high + 1);
		ck_assert_uint_le(lo, hi);
		ck_assert_uint_eq(gen_hist_bucket(lo), i);
		ck_assert_uint_eq(gen_hist_bucket(hi > GEN_HIST_MAX_US ? GEN_HIST_MAX_US : hi), i);
		if (lo < 256)
			ck_assert_uint_eq(hi, lo);
		else
			ck_assert_uint_le((hi - lo + 1) * 128, lo);
		prev_high = hi;
	}
	ck_assert_uint_eq(gen_hist_bucket(GEN_HIST_MAX_US), GEN_HIST_BUCKETS - 1);
	gen_hist_bucket_bounds(GEN_HIST_BUCKETS - 1, &lo, &hi);
	ck_assert_uint_le(lo, GEN_HIST_MAX_US);
	ck_assert_uint_ge(hi, GEN_HIST_MAX_US);
}
END_TEST

START_TEST(test_hist_powers_of_two_start_a_bucket)
{
	uint64_t lo, hi;

	for (unsigned k = 8; k <= 26; k++) {
		uint64_t p = UINT64_C(1) << k;

		gen_hist_bucket_bounds(gen_hist_bucket(p), &lo, &hi);
		ck_assert_uint_eq(lo, p);
		gen_hist_bucket_bounds(gen_hist_bucket(p - 1), &lo, &hi);
		ck_assert_uint_eq(hi, p - 1);
	}
}
END_TEST

/* A value between a smaller and a larger one, so that clamping to [min,
 * max] cannot hide a bucket error: the median is the bucket's middle. */
START_TEST(test_hist_median_of_bucket_edge_value_within_bound)
{
	static const uint64_t edges[] = {
		255, 256, 257, 383, 384, 511, 512, 513, 1023, 1024, 65535, 65536,
		1000000, 33554431, 33554432, 67108863, 67108864, GEN_HIST_MAX_US - 1,
	};
	struct gen_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint64_t v = edges[i], got, diff;

		gen_hist_init(h);
		gen_hist_record(h, 0);
		gen_hist_record(h, v);
		gen_hist_record(h, GEN_HIST_MAX_US);
		got = gen_hist_value_at_ppm(h, 500000);
		diff = got > v ? got - v : v - got;
		ck_assert_msg(diff * 256 <= v, "value %lu reported as %lu",
			      (unsigned long)v, (unsigned long)got);
	}
	free(h);
}
END_TEST

START_TEST(test_hist_values_below_256_are_exact)
{
	struct gen_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	gen_hist_init(h);
	for (uint64_t v = 0; v < 256; v++)
		gen_hist_record(h, v);
	/* Rank ceil(q * 256) holds the value rank - 1. */
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 500000), 127);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 900000), 230);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 990000), 253);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 999000), 255);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 1), 0);
	free(h);
}
END_TEST

START_TEST(test_hist_merge_equals_recording_everything_in_one)
{
	struct gen_hist *shards = malloc(3 * sizeof(*shards));
	struct gen_hist *all = malloc(sizeof(*all)), *merged = malloc(sizeof(*merged));

	ck_assert_ptr_nonnull(shards);
	ck_assert_ptr_nonnull(all);
	ck_assert_ptr_nonnull(merged);
	rng_state = 42;
	gen_hist_init(all);
	gen_hist_init(merged);
	for (int s = 0; s < 3; s++)
		gen_hist_init(&shards[s]);
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t v = sample_log_uniform();

		if (i % 1000 == 0)
			v = UINT64_C(1) << 40;	/* saturated ones too */
		gen_hist_record(all, v);
		gen_hist_record(&shards[rng_next() % 3], v);
	}
	for (int s = 0; s < 3; s++)
		gen_hist_merge(merged, &shards[s]);
	ck_assert(memcmp(merged, all, sizeof(*all)) == 0);
	free(shards);
	free(all);
	free(merged);
}
END_TEST

START_TEST(test_hist_merge_of_empty_changes_nothing)
{
	struct gen_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct gen_hist *empty = malloc(sizeof(*empty));

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(empty);
	gen_hist_init(a);
	gen_hist_init(empty);
	gen_hist_record(a, 7);
	gen_hist_record(a, 70000);
	memcpy(b, a, sizeof(*a));
	gen_hist_merge(a, empty);
	ck_assert(memcmp(a, b, sizeof(*a)) == 0);
	free(a);
	free(b);
	free(empty);
}
END_TEST

START_TEST(test_hist_zero_is_recorded_exactly)
{
	struct gen_hist *h = malloc(sizeof(*h));
	struct gen_hist_summary s;

	ck_assert_ptr_nonnull(h);
	gen_hist_init(h);
	for (int i = 0; i < 10; i++)
		gen_hist_record(h, 0);
	gen_hist_summarize(h, &s);
	ck_assert_uint_eq(s.count, 10);
	ck_assert_uint_eq(s.min, 0);
	ck_assert_uint_eq(s.max, 0);
	ck_assert_uint_eq(s.p50, 0);
	ck_assert_uint_eq(s.p999, 0);
	ck_assert(s.mean == 0.0);
	free(h);
}
END_TEST

START_TEST(test_hist_value_past_range_saturates_but_max_is_exact)
{
	struct gen_hist *h = malloc(sizeof(*h));
	struct gen_hist_summary s;

	ck_assert_ptr_nonnull(h);
	gen_hist_init(h);
	gen_hist_record(h, 10);
	gen_hist_record(h, UINT64_MAX);
	gen_hist_record(h, GEN_HIST_MAX_US + 1);
	gen_hist_summarize(h, &s);
	ck_assert_uint_eq(h->saturated, 2);
	ck_assert_uint_eq(s.max, UINT64_MAX);
	ck_assert_uint_eq(s.min, 10);
	ck_assert_uint_eq(h->sum, 10 + 2 * GEN_HIST_MAX_US);
	ck_assert_uint_eq(h->buckets[GEN_HIST_BUCKETS - 1], 2);
	/* Rank 2 of 3 is a saturated value: reported at the range's end. */
	ck_assert_uint_le(s.p50, GEN_HIST_MAX_US + GEN_HIST_MAX_US / 256);
	ck_assert_uint_ge(s.p50, GEN_HIST_MAX_US - GEN_HIST_MAX_US / 256);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 1000000), UINT64_MAX);
	free(h);
}
END_TEST

START_TEST(test_hist_empty_summarizes_to_zeroes)
{
	struct gen_hist *h = malloc(sizeof(*h));
	struct gen_hist_summary s;

	ck_assert_ptr_nonnull(h);
	gen_hist_init(h);
	memset(&s, 0xff, sizeof(s));
	gen_hist_summarize(h, &s);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_uint_eq(s.min, 0);
	ck_assert_uint_eq(s.max, 0);
	ck_assert_uint_eq(s.p50, 0);
	ck_assert_uint_eq(s.p999, 0);
	ck_assert(s.mean == 0.0);
	ck_assert_uint_eq(gen_hist_value_at_ppm(h, 500000), 0);
	free(h);
}
END_TEST

START_TEST(test_hist_mean_is_exact)
{
	struct gen_hist *h = malloc(sizeof(*h));
	struct gen_hist_summary s;

	ck_assert_ptr_nonnull(h);
	gen_hist_init(h);
	gen_hist_record(h, 1);
	gen_hist_record(h, 2);
	gen_hist_record(h, 1000003);
	gen_hist_summarize(h, &s);
	ck_assert(s.mean == 1000006.0 / 3.0);
	free(h);
}
END_TEST

static Suite *
gen_hist_suite(void)
{
	Suite *s = suite_create("gen_hist");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_hist_percentiles_within_bound_of_sorted_log_uniform_samples, 0, 4);
	tcase_add_loop_test(tc, test_hist_percentiles_within_bound_of_sorted_latency_like_samples, 0, 4);
	tcase_add_test(tc, test_hist_buckets_tile_the_range_with_documented_widths);
	tcase_add_test(tc, test_hist_powers_of_two_start_a_bucket);
	tcase_add_test(tc, test_hist_median_of_bucket_edge_value_within_bound);
	tcase_add_test(tc, test_hist_values_below_256_are_exact);
	tcase_add_test(tc, test_hist_merge_equals_recording_everything_in_one);
	tcase_add_test(tc, test_hist_merge_of_empty_changes_nothing);
	tcase_add_test(tc, test_hist_zero_is_recorded_exactly);
	tcase_add_test(tc, test_hist_value_past_range_saturates_but_max_is_exact);
	tcase_add_test(tc, test_hist_empty_summarizes_to_zeroes);
	tcase_add_test(tc, test_hist_mean_is_exact);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(gen_hist_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
