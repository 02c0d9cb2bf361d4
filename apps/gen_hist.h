/*
 * A log-bucketed latency histogram, in the manner of HdrHistogram.
 *
 * Values are microseconds. Each power of two from 256 us up is split into
 * 128 equal buckets; below 256 us every microsecond has its own bucket. A
 * value v therefore falls in a bucket of width w with w <= v / 128, and a
 * percentile is reported as the middle of its bucket, so it is within
 * w / 2 <= v / 256 of the exact sample percentile (better than HdrHistogram
 * with 2 significant digits, whose bound is 1%). Below 256 us it is exact.
 *
 * The range is 0 .. GEN_HIST_MAX_US (100 s). A larger value is counted in
 * the last bucket as if it were GEN_HIST_MAX_US (and in 'saturated'), but
 * min and max always hold the exact values recorded.
 *
 * The histogram is one fixed-size struct (about 21 KB): recording is O(1),
 * allocates nothing and takes no lock, so each shard owns one per measured
 * quantity and they are merged (gen_hist_merge) when the run ends. Merging
 * is exact: the merge of two histograms equals one histogram that recorded
 * all their values.
 *
 * Percentile rank: the value reported for a fraction q of the samples is the
 * one of rank ceil(q * count) in ascending order (1-based), i.e. the smallest
 * sample such that at least q of all samples are less than or equal to it.
 */
#ifndef WSKDP_GEN_HIST_H
#define WSKDP_GEN_HIST_H

#include <stdint.h>

/* Linear buckets per power of two, as a power of two. */
#define GEN_HIST_SUB_BITS 7
/* The largest value kept apart from the others: 100 s in microseconds. */
#define GEN_HIST_MAX_US UINT64_C(100000000)
/* Buckets 0..255 hold 0..255 us exactly; then 128 per power of two: index
 * (shift << 7) + (v >> shift). GEN_HIST_MAX_US = 190.7 * 2^19 lands in
 * bucket (19 << 7) + 190, the last. */
#define GEN_HIST_BUCKETS 2623

struct gen_hist {
	uint64_t count;		/* values recorded */
	uint64_t sum;		/* of the values, each capped at GEN_HIST_MAX_US */
	uint64_t min;		/* exact; UINT64_MAX while count == 0 */
	uint64_t max;		/* exact; 0 while count == 0 */
	uint64_t saturated;	/* values above GEN_HIST_MAX_US */
	uint64_t buckets[GEN_HIST_BUCKETS];
};

/* What a run reports for one measured quantity (all in microseconds, and
 * all 0 when nothing was recorded). */
struct gen_hist_summary {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double mean;
	uint64_t p50;
	uint64_t p90;
	uint64_t p99;
	uint64_t p999;
};

/* The bucket of value v (v is capped at GEN_HIST_MAX_US first). */
static inline unsigned
gen_hist_bucket(uint64_t v)
{
	unsigned shift;

	if (v > GEN_HIST_MAX_US)
		v = GEN_HIST_MAX_US;
	if (v < (UINT64_C(2) << GEN_HIST_SUB_BITS))
		return (unsigned)v;
	/* The highest set bit is 8 or more: keep the top 8 bits of v. */
	shift = (unsigned)(63 - __builtin_clzll(v)) - GEN_HIST_SUB_BITS;
	return (shift << GEN_HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/* Empty h. Cannot fail. */
void gen_hist_init(struct gen_hist *h);

/* Record one value (microseconds) in h: O(1), no allocation. */
static inline void
gen_hist_record(struct gen_hist *h, uint64_t v)
{
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v > GEN_HIST_MAX_US) {
		h->saturated++;
		v = GEN_HIST_MAX_US;
	}
	h->count++;
	h->sum += v;
	h->buckets[gen_hist_bucket(v)]++;
}

/* Add every value recorded in src to dst, as if dst had recorded them
 * itself. Cannot fail. */
void gen_hist_merge(struct gen_hist *dst, const struct gen_hist *src);

/* The smallest and largest value that bucket 'index' (< GEN_HIST_BUCKETS)
 * holds. Cannot fail. */
void gen_hist_bucket_bounds(unsigned index, uint64_t *lowest, uint64_t *highest);

/* The value at a fraction of the samples, given in parts per million
 * (500000 is the median, 999000 the 99.9th percentile, 1000000 the max;
 * larger values count as 1000000): the middle of the bucket of the sample
 * of rank ceil(ppm * count / 10^6), clamped to [min, max], except that the
 * first and last ranks give min and max exactly. Returns 0 when h is empty. */
uint64_t gen_hist_value_at_ppm(const struct gen_hist *h, uint32_t ppm);

/* Fill s with h's count, min, max, mean and p50/p90/p99/p999. Cannot fail;
 * an empty h gives all zeroes. */
void gen_hist_summarize(const struct gen_hist *h, struct gen_hist_summary *s);

#endif
