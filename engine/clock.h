/*
 * Engine time.
 *
 * Everything in the engine reads time through one clock so that a run can be
 * driven either by the CPU's TSC (normal runs) or by a virtual clock that a
 * test or the pcap scenario runner advances by hand. With the virtual clock
 * a run is bit-for-bit repeatable: no code path may read the TSC directly.
 *
 * Time is kept in microseconds since the clock was started: fine enough for
 * LAN RTTs, coarse enough that 64 bits never wrap.
 */
#ifndef WSKDP_CLOCK_H
#define WSKDP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_cycles.h>

enum engine_clock_mode {
	ENGINE_CLOCK_TSC,
	ENGINE_CLOCK_VIRTUAL,
};

struct engine_clock {
	enum engine_clock_mode mode;
	uint64_t tsc_start;
	uint64_t us_per_tsc_q64;	/* engine_tsc_us_factor() of the TSC */
	uint64_t virtual_us;	/* current time of the virtual clock */
};

/* Start a clock at time 0 in the given mode. */
void engine_clock_init(struct engine_clock *clk, enum engine_clock_mode mode);

/* Advance a virtual clock to 'us' (never backwards; earlier values are
 * ignored so replayed captures with reordered timestamps stay monotonic).
 * Has no effect on a TSC clock. */
void engine_clock_set(struct engine_clock *clk, uint64_t us);

/* Advance a virtual clock by 'us'. Has no effect on a TSC clock. */
void engine_clock_advance(struct engine_clock *clk, uint64_t us);

/* The factor engine_tsc_to_us() takes for a TSC of 'hz': 2^64 * 10^6 /
 * hz. Below 1 MHz it would not fit; such a TSC is not one we run on,
 * so one tick is counted as a microsecond rather than wrapping. */
static inline uint64_t
engine_tsc_us_factor(uint64_t hz)
{
	__extension__ typedef unsigned __int128 u128;

	return hz > 1000000 ? (uint64_t)(((u128)1000000 << 64) / hz) : UINT64_MAX;
}

/* 'ticks' of the TSC in microseconds, rounded down. Every poll pass
 * reads the clock: a multiply costs a few cycles where a division by
 * the TSC's rate cost tens. */
static inline uint64_t
engine_tsc_to_us(uint64_t ticks, uint64_t factor)
{
	__extension__ typedef unsigned __int128 u128;

	return (uint64_t)(((u128)ticks * factor) >> 64);
}

static inline uint64_t
engine_clock_now_us(const struct engine_clock *clk)
{
	if (clk->mode == ENGINE_CLOCK_VIRTUAL)
		return clk->virtual_us;
	return engine_tsc_to_us(rte_rdtsc() - clk->tsc_start,
				clk->us_per_tsc_q64);
}

#endif
