/*
 * Proves that wskdp-gen's multi-shard source-port choice hashes the way a
 * NIC does: the Toeplitz hash of the server's answer (source the server,
 * destination us), with the 40-byte key and the RETA as the port reports
 * them, gives the queue the worker owns. The vectors are Microsoft's RSS
 * verification suite for IPv4 with TCP ports (the published key and
 * hashes), so a byte-order slip would pick ports whose answers land on
 * another shard's queue, which no virtual port here could show.
 */
#include <check.h>
#include <string.h>
#include <arpa/inet.h>
#include <rte_ip.h>

#include "gen_run.h"

static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Received packet: source = server, destination = us. */
static const struct {
	uint32_t us, server;
	uint16_t us_port, server_port;
	uint32_t hash;
} vectors[] = {
	{ RTE_IPV4(161, 142, 100, 80), RTE_IPV4(66, 9, 149, 187), 1766, 2794, 0x51ccc178 },
	{ RTE_IPV4(65, 69, 140, 83), RTE_IPV4(199, 92, 111, 2), 4739, 14230, 0xc626b0ea },
	{ RTE_IPV4(12, 22, 207, 184), RTE_IPV4(24, 19, 198, 95), 38024, 12898, 0x5c2b394a },
	{ RTE_IPV4(209, 142, 163, 6), RTE_IPV4(38, 27, 205, 30), 2217, 48228, 0xafc7327f },
	{ RTE_IPV4(202, 188, 127, 2), RTE_IPV4(153, 39, 163, 191), 1303, 44251, 0x10e828a2 },
};

#define RETA_SIZE 128
#define QUEUES 3

static uint16_t reta[RETA_SIZE];

START_TEST(test_rss_owner_is_the_queue_the_nic_picks)
{
	for (unsigned i = 0; i < RETA_SIZE; i++)
		reta[i] = (uint16_t)(i % QUEUES);
	for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
		/* A NIC indexes its RETA with the hash's low bits. */
		uint16_t want = reta[vectors[v].hash & (RETA_SIZE - 1)];
		unsigned owners = 0;

		for (uint16_t q = 0; q < QUEUES; q++) {
			struct gen_worker w;
			bool ours;

			memset(&w, 0, sizeof(w));
			gen_worker_set_rss(&w, ms_key, reta, RETA_SIZE, q);
			ours = gen_client_rss_ours(&w, vectors[v].us, vectors[v].us_port,
						   vectors[v].server,
						   vectors[v].server_port);
			ck_assert_msg(ours == (q == want),
				      "vector %zu: queue %u says %d, the NIC picks %u",
				      v, q, ours, want);
			owners += ours;
		}
		ck_assert_uint_eq(owners, 1);
	}
}
END_TEST

/* A source address of 0 (bind to any) hashes as the port's address. */
START_TEST(test_rss_any_address_hashes_as_the_default)
{
	struct gen_worker w;

	for (unsigned i = 0; i < RETA_SIZE; i++)
		reta[i] = (uint16_t)(i % QUEUES);
	memset(&w, 0, sizeof(w));
	w.default_laddr = vectors[0].us;
	for (uint16_t q = 0; q < QUEUES; q++) {
		gen_worker_set_rss(&w, ms_key, reta, RETA_SIZE, q);
		ck_assert(gen_client_rss_ours(&w, 0, vectors[0].us_port,
					      vectors[0].server,
					      vectors[0].server_port) ==
			  gen_client_rss_ours(&w, vectors[0].us, vectors[0].us_port,
					      vectors[0].server,
					      vectors[0].server_port));
	}
}
END_TEST

/* Without RSS every tuple is the worker's (one shard). */
START_TEST(test_rss_off_takes_every_tuple)
{
	struct gen_worker w;

	memset(&w, 0, sizeof(w));
	ck_assert(gen_client_rss_ours(&w, vectors[1].us, 1, vectors[1].server, 2));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("gen_rss");
	TCase *t = tcase_create("rss");
	SRunner *r;
	int failed;

	tcase_add_test(t, test_rss_owner_is_the_queue_the_nic_picks);
	tcase_add_test(t, test_rss_any_address_hashes_as_the_default);
	tcase_add_test(t, test_rss_off_takes_every_tuple);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
