#include "clock.h"

void
engine_clock_init(struct engine_clock *clk, enum engine_clock_mode mode)
{
	clk->mode = mode;
	clk->virtual_us = 0;
	/* Before the EAL starts the rate is 0: only the virtual clock is
	 * meaningful then, and the factor's fallback keeps the TSC one
	 * counting. */
	clk->us_per_tsc_q64 = engine_tsc_us_factor(rte_get_tsc_hz());
	clk->tsc_start = rte_rdtsc();
}

void
engine_clock_set(struct engine_clock *clk, uint64_t us)
{
	if (clk->mode == ENGINE_CLOCK_VIRTUAL && us > clk->virtual_us)
		clk->virtual_us = us;
}

void
engine_clock_advance(struct engine_clock *clk, uint64_t us)
{
	if (clk->mode == ENGINE_CLOCK_VIRTUAL)
		clk->virtual_us += us;
}
