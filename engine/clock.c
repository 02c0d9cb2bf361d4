#include "clock.h"

void
engine_clock_init(struct engine_clock *clk, enum engine_clock_mode mode)
{
	clk->mode = mode;
	clk->virtual_us = 0;
	clk->tsc_hz = rte_get_tsc_hz();
	if (clk->tsc_hz == 0)
		clk->tsc_hz = 1; /* EAL not started: only the virtual clock is meaningful */
	clk->us_per_tsc_q64 = engine_tsc_us_factor(clk->tsc_hz);
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
