/*
 * Shared set-up for the Check suites.
 *
 * EAL can be initialised once per process, so suites call test_eal_init()
 * from an unchecked (process-wide) fixture or from main(). Every suite runs
 * its own EAL with --no-huge --no-shconf so that meson may run suites in
 * parallel without sharing hugepages or runtime files.
 */
#ifndef WSKDP_TEST_EAL_H
#define WSKDP_TEST_EAL_H

#include <stdbool.h>
#include <check.h>
#include <rte_mempool.h>

/* Initialise EAL once (idempotent). Aborts the test program if EAL fails,
 * because no test of the suite could run meaningfully without it. */
void test_eal_init(void);

/* A packet pool for tests: no per-lcore cache, so "in use" is exact. */
struct rte_mempool *test_pool_create(const char *name, unsigned int n);

/* Mbufs currently taken from the pool (0 means nothing leaked). */
unsigned int test_pool_in_use(const struct rte_mempool *mp);

/* Run a suite the usual way: no fork (EAL state cannot be shared safely
 * across fork), returns the number of failures for main() to turn into an
 * exit status. */
int test_run_suite(Suite *s);

#endif
