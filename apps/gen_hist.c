#include <string.h>

#include "gen_hist.h"

_Static_assert(((GEN_HIST_MAX_US >> 19) + (19 << GEN_HIST_SUB_BITS)) + 1 ==
	       GEN_HIST_BUCKETS && (GEN_HIST_MAX_US >> 26) == 1,
	       "GEN_HIST_BUCKETS must end at the bucket of GEN_HIST_MAX_US");

void
gen_hist_init(struct gen_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
gen_hist_merge(struct gen_hist *dst, const struct gen_hist *src)
{
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	dst->saturated += src->saturated;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

void
gen_hist_bucket_bounds(unsigned index, uint64_t *lowest, uint64_t *highest)
{
	unsigned shift;
	uint64_t top;

	if (index < (2u << GEN_HIST_SUB_BITS)) {
		*lowest = *highest = index;
		return;
	}
	shift = (index >> GEN_HIST_SUB_BITS) - 1;
	top = index - (shift << GEN_HIST_SUB_BITS);
	*lowest = top << shift;
	*highest = *lowest + (UINT64_C(1) << shift) - 1;
}

uint64_t
gen_hist_value_at_ppm(const struct gen_hist *h, uint32_t ppm)
{
	unsigned __int128 scaled;
	uint64_t rank, seen = 0, lowest, highest, v;

	if (h->count == 0)
		return 0;
	if (ppm > 1000000)
		ppm = 1000000;
	/* ceil(ppm * count / 10^6) in integers: a double would misplace the
	 * rank at exact boundaries (0.999 * 1000 is not 999 in binary). */
	scaled = (unsigned __int128)ppm * h->count;
	rank = (uint64_t)((scaled + 999999) / 1000000);
	if (rank <= 1)
		return h->min;
	if (rank >= h->count)
		return h->max;
	for (unsigned i = 0; i < GEN_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		gen_hist_bucket_bounds(i, &lowest, &highest);
		v = lowest + (highest - lowest + 1) / 2;
		/* The exact extremes beat the bucket's middle: the true
		 * sample lies within [min, max] too. */
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

void
gen_hist_summarize(const struct gen_hist *h, struct gen_hist_summary *s)
{
	memset(s, 0, sizeof(*s));
	if (h->count == 0)
		return;
	s->count = h->count;
	s->min = h->min;
	s->max = h->max;
	s->mean = (double)h->sum / (double)h->count;
	s->p50 = gen_hist_value_at_ppm(h, 500000);
	s->p90 = gen_hist_value_at_ppm(h, 900000);
	s->p99 = gen_hist_value_at_ppm(h, 990000);
	s->p999 = gen_hist_value_at_ppm(h, 999000);
}
