#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "tcp_pair.h"
#include "tcp_var.h"
#include "test_eal.h"

struct fake_port fpc, fps;
struct engine *cli, *srv;
struct shard *cs, *ss;

static void
up_connected(struct tcp_conn *c)
{
	((struct tconn *)tcp_conn_user(c))->connected++;
}

static void
up_accept_ready(struct tcp_listener *l)
{
	((struct tlisten *)tcp_listener_user(l))->ready++;
}

static void
up_readable(struct tcp_conn *c)
{
	((struct tconn *)tcp_conn_user(c))->readable++;
}

static void
up_acked(struct tcp_conn *c, uint32_t n)
{
	struct tconn *t = tcp_conn_user(c);

	t->acked += n;
	if (n == 0)
		t->fin_acked++;
}

static void
up_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	struct tconn *t = tcp_conn_user(c);

	t->closed++;
	t->reason = r;
}

static const struct tcp_upcalls upcalls = {
	.connected = up_connected,
	.accept_ready = up_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

struct tcp_conf conf;

rte_be32_t
ip(const char *s)
{
	rte_be32_t a;

	ck_assert_int_eq(port_parse_ipv4(s, &a, NULL), 0);
	return a;
}

void
enable_tcp(struct engine *e)
{
	ck_assert_int_eq(tcp_engine_enable(e, &conf), 0);
	tcp_set_upcalls(e->shards[0], &upcalls);
}

/* Two engines wired back to back. */
void
setup_pair(void)
{
	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 42;
	fake_port_init(&fpc);
	fake_port_init(&fps);
	fake_port_link(&fpc, &fps);
	cli = test_engine_create("tcpc", &fpc, CLIENT_IP "/24", NULL, 0x01, NULL);
	srv = test_engine_create("tcps", &fps, SERVER_IP "/24", NULL, 0x02, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(srv);
	cs = cli->shards[0];
	ss = srv->shards[0];
	enable_tcp(cli);
	enable_tcp(srv);
}

void
pair_attach_payloads(void)
{
	tcp_shard_of(cs)->conf.tx_copy_max = 0;
	tcp_shard_of(ss)->conf.tx_copy_max = 0;
}

void
setup_single(void)
{
	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 7;
	fake_port_init(&fps);
	srv = test_engine_create("tcp1", &fps, SERVER_IP "/24", NULL, 0x02, NULL);
	ck_assert_ptr_nonnull(srv);
	ss = srv->shards[0];
	cli = NULL;
	cs = NULL;
	enable_tcp(srv);
}

void
advance(uint64_t us)
{
	if (cli != NULL)
		for (unsigned i = 0; i < cli->nb_shards; i++)
			engine_clock_advance(&cli->shards[i]->clock, us);
	for (unsigned i = 0; i < srv->nb_shards; i++)
		engine_clock_advance(&srv->shards[i]->clock, us);
	if (cli != NULL)
		test_engine_poll(cli, 1);
	test_engine_poll(srv, 1);
}

void
poll_both(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		advance(0);
}

/* Leak checks: let every timer run out (TIME_WAIT included), then no
 * connection may be left in either pool; after TCP is torn down, no mbuf. */
void
teardown_common(void)
{
	unsigned conns_c = 0, conns_s, mbufs_c = 0, mbufs_s;

	for (int i = 0; i < 70; i++)
		advance(1000000);
	if (cli != NULL)
		conns_c = tcp_shard_conns_in_use(cs);
	conns_s = tcp_shard_conns_in_use(ss);
	if (cli != NULL)
		tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	if (cli != NULL) {
		shard_tx_flush(cs);
		fake_port_drain(&fpc);
	}
	shard_tx_flush(ss);
	fake_port_drain(&fps);
	if (cli != NULL) {
		fake_port_drain(&fpc);
		mbufs_c = rte_mempool_in_use_count(cs->pool);
	}
	mbufs_s = rte_mempool_in_use_count(ss->pool);
	/* Destroy first so one failed test cannot break the next set-up. */
	engine_destroy(cli);
	engine_destroy(srv);
	cli = srv = NULL;
	ck_assert_uint_eq(conns_c, 0);
	ck_assert_uint_eq(conns_s, 0);
	ck_assert_uint_eq(mbufs_c, 0);
	ck_assert_uint_eq(mbufs_s, 0);
}

uint64_t
pair_stat(struct engine *e, const char *name)
{
	int i = shard_stat_index(name);

	ck_assert_int_ge(i, 0);
	return engine_stat(e, (enum shard_stat)i);
}

/* --- pair helpers ------------------------------------------------------ */

struct tlisten tl;
struct tconn tcli, tsrv;

void
server_listen(void)
{
	memset(&tl, 0, sizeof(tl));
	memset(&tsrv, 0, sizeof(tsrv));
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, &tl, &tl.l), 0);
}

void
server_close(void)
{
	if (tsrv.c != NULL) {
		tcp_abort(tsrv.c);
		tcp_release(tsrv.c);
		tsrv.c = NULL;
	}
	tcp_listener_close(tl.l);
}

void
open_pair(void)
{
	open_pair_opts(NULL);
}

void
open_pair_opts(const struct tcp_conn_opts *o)
{
	memset(&tcli, 0, sizeof(tcli));
	server_listen();
	ck_assert_int_eq(tcp_connect(cs, 0, 0, 0, ip(SERVER_IP),
				     htons(SERVER_PORT), o, &tcli, &tcli.c), 0);
	for (int i = 0; i < 20 && tl.ready == 0; i++)
		poll_both(1);
	poll_both(4);
	ck_assert_uint_eq(tl.ready, 1);
	tsrv.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(tsrv.c);
	tcp_conn_set_user(tsrv.c, &tsrv);
	ck_assert_uint_eq(tcli.connected, 1);
	ck_assert_int_eq(tcp_conn_state(tcli.c), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcp_conn_state(tsrv.c), TCPS_ESTABLISHED);
}

/* Both sides shut down, the handles are released; the teardown waits out
 * TIME_WAIT and checks that everything was freed. */
void
close_pair(void)
{
	tcp_shutdown(tcli.c);
	poll_both(5);
	tcp_shutdown(tsrv.c);
	poll_both(5);
	tcp_release(tcli.c);
	tcp_release(tsrv.c);
	tcp_listener_close(tl.l);
}

uint8_t
pattern(uint64_t i, uint8_t salt)
{
	uint64_t x = (i + salt) * 0x9E3779B97F4A7C15ull;

	return (uint8_t)(x >> 56);
}

/* Move 'total' bytes from a to b, checking every byte; the clock moves
 * 1 ms per round so delayed ACKs and retransmissions happen. Returns the
 * number of rounds. */
unsigned
transfer(struct tcp_conn *a, struct tcp_conn *b, uint32_t total, uint8_t salt,
	 unsigned max_rounds)
{
	static uint8_t out[16384], in[16384];
	uint32_t sent = 0, got = 0;
	unsigned rounds = 0;

	while (got < total && rounds < max_rounds) {
		while (sent < total) {
			uint32_t n = RTE_MIN((uint32_t)sizeof(out), total - sent);
			int32_t k;

			for (uint32_t i = 0; i < n; i++)
				out[i] = pattern(sent + i, salt);
			k = tcp_send(a, out, n);
			ck_assert_int_ge(k, 0);
			sent += (uint32_t)k;
			if ((uint32_t)k < n)
				break;
		}
		advance(1000);
		for (;;) {
			uint32_t k = tcp_recv(b, in, sizeof(in));

			if (k == 0)
				break;
			for (uint32_t i = 0; i < k; i++)
				if (in[i] != pattern(got + i, salt))
					ck_abort_msg("byte %u differs", got + i);
			got += k;
		}
		rounds++;
	}
	ck_assert_uint_eq(got, total);
	return rounds;
}
