/*
 * libFuzzer target: the engine's whole receive path (Ethernet, ARP, IPv4,
 * ICMP, TCP with a listener, accepted connections and SYN cookies) fed
 * with frames the fuzzer writes, on the virtual clock. Coverage-guided,
 * it reaches states the seeded mutations of tests/test_hostile.c do not.
 *
 * Each input is a fresh engine (so a crash replays from its input alone):
 * a sequence of records, each one byte of kind, then
 *   kind & 3 != 3: a frame, 2 bytes of length (big-endian, capped at
 *                  1600) and that many bytes, given to the port and polled;
 *   kind & 3 == 3: one byte, the clock advanced by that many milliseconds.
 * At the end every connection is aborted and released, TIME_WAIT waited
 * out, and the engine must hold no connection and no mbuf: a leak aborts,
 * and the fuzzer reports it with the input.
 *
 * Built only with -Dfuzz=true and clang (README, "Tests"):
 *   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lto=false
 *   ninja -C build-fuzz tests/fuzz_engine
 *   build-fuzz/tests/fuzz_engine -max_total_time=600 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "test_eal.h"

#define MAX_CONNS 256
#define FRAME_MAX 1600

static struct fake_port fp;
static struct tcp_conn *conns[MAX_CONNS];
static unsigned nconns;

static void
up_accept_ready(struct tcp_listener *l)
{
	struct tcp_conn *c;

	while ((c = tcp_accept(l)) != NULL) {
		if (nconns == MAX_CONNS) {
			tcp_abort(c);
			tcp_release(c);
			continue;
		}
		conns[nconns++] = c;
	}
}

static void
up_readable(struct tcp_conn *c)
{
	static uint8_t sink[4096];

	/* Read everything, and answer some of it, so that the send path
	 * runs too. */
	for (;;) {
		uint32_t n = tcp_recv(c, sink, sizeof(sink));

		if (n == 0)
			break;
		if (sink[0] & 1)
			(void)tcp_send(c, sink, n);
		if (sink[0] == 0xff)
			(void)tcp_shutdown(c);
	}
}

static void
up_nothing(struct tcp_conn *c)
{
	(void)c;
}

static void
up_acked(struct tcp_conn *c, uint32_t n)
{
	(void)c;
	(void)n;
}

static void
up_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	(void)c;
	(void)r;
}

static const struct tcp_upcalls upcalls = {
	.connected = up_nothing,
	.accept_ready = up_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_conf conf;
	struct tcp_listener *l;
	struct engine *eng;
	struct shard *s;
	size_t i = 0;

	test_eal_init();
	fake_port_init(&fp);
	eng = test_engine_create("fz", &fp, "10.0.0.2/24", "10.0.0.254", 0x02, NULL);
	if (eng == NULL)
		abort();
	s = eng->shards[0];
	tcp_conf_init(&conf);
	conf.seed = 1;
	conf.max_conns = 1024;
	if (tcp_engine_enable(eng, &conf) != 0)
		abort();
	tcp_set_upcalls(s, &upcalls);
	nconns = 0;
	if (tcp_listen(s, 0, rte_cpu_to_be_16(8080), 8, NULL, &l) != 0)
		abort();

	while (i < size) {
		uint8_t kind = data[i++];

		if ((kind & 3) == 3) {
			if (i < size)
				test_engine_advance(eng, 1000ULL * data[i++]);
			continue;
		}
		if (i + 2 > size)
			break;
		{
			size_t len = (size_t)(data[i] << 8 | data[i + 1]) % (FRAME_MAX + 1);

			i += 2;
			if (len > size - i)
				len = size - i;
			if (len == 0)
				continue;
			if (fake_port_inject_bytes(&fp, s->pool, data + i, (unsigned)len) != 0)
				abort();
			i += len;
			test_engine_poll(eng, 1);
			fake_port_drain(&fp);	/* what the engine answered */
		}
	}

	/* Tear down as a user would, then nothing may be left. */
	for (unsigned k = 0; k < nconns; k++) {
		tcp_abort(conns[k]);
		tcp_release(conns[k]);
	}
	nconns = 0;
	tcp_listener_close(l);
	for (int k = 0; k < 70; k++) {
		test_engine_advance(eng, 1000000);
		fake_port_drain(&fp);
	}
	if (tcp_shard_conns_in_use(s) != 0) {
		fprintf(stderr, "fuzz_engine: %u connections left\n",
			tcp_shard_conns_in_use(s));
		abort();
	}
	tcp_engine_disable(eng);
	shard_tx_flush(s);
	fake_port_drain(&fp);
	if (rte_mempool_in_use_count(s->pool) != 0) {
		fprintf(stderr, "fuzz_engine: %u mbufs left\n",
			rte_mempool_in_use_count(s->pool));
		abort();
	}
	engine_destroy(eng);
	return 0;
}
