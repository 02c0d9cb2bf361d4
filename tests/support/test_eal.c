#include "test_eal.h"

#include <stdio.h>
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_log.h>

static bool eal_ready;

void
test_eal_init(void)
{
	char *argv[] = {
		"wskdp-test", "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "-l", "0",
		"--log-level=lib.eal:error", "--log-level=pmd.*:error",
	};
	if (eal_ready)
		return;
	if (rte_eal_init(RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "test: rte_eal_init failed\n");
		exit(1);
	}
	eal_ready = true;
}

struct rte_mempool *
test_pool_create(const char *name, unsigned int n)
{
	test_eal_init();
	return rte_pktmbuf_pool_create(name, n, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
}

unsigned int
test_pool_in_use(const struct rte_mempool *mp)
{
	return rte_mempool_in_use_count(mp);
}

int
test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
