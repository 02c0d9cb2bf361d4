/*
 * The suites' seedable random numbers: splitmix64 (Steele, Lea, Flood),
 * so a failing randomized test replays from its seed on every machine.
 */
#ifndef WSKDP_TEST_RAND_H
#define WSKDP_TEST_RAND_H

#include <stdint.h>

/* The next number of the stream whose state is *state. */
static inline uint64_t
test_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
