/*
 * The README's API example, compiled and run. The code between the
 * README-EXAMPLE markers is copied verbatim into README.md, and
 * tests/readme_example_sync.sh fails when the two differ, so the
 * documentation cannot drift from code that works.
 *
 * The example is a client on one engine; a second engine linked by fake
 * ports on the virtual clock plays the server (it answers each request
 * with RESPONSE, issues Fast Open cookies, and closes when the client
 * does).
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "test_eal.h"
#include "wsk.h"

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static struct fake_port fpc, fps;
static struct engine *cli, *srv;
static struct tcp_listener *listener;
static struct tcp_conn *served[4];
static unsigned nserved;
static size_t server_got;

static void
srv_accept_ready(struct tcp_listener *l)
{
	struct tcp_conn *c;

	while ((c = tcp_accept(l)) != NULL && nserved < RTE_DIM(served))
		served[nserved++] = c;
}

static void
srv_readable(struct tcp_conn *c)
{
	char buf[2048];
	uint32_t n;

	while ((n = tcp_recv(c, buf, sizeof(buf))) > 0) {
		server_got += n;
		ck_assert_int_eq(tcp_send(c, RESPONSE, sizeof(RESPONSE) - 1),
				 (int)(sizeof(RESPONSE) - 1));
	}
	if (tcp_rcv_fin(c))
		tcp_shutdown(c);
}

static const struct tcp_upcalls srv_upcalls = {
	.accept_ready = srv_accept_ready,
	.readable = srv_readable,
};

/* One pass of both engines, 1 ms of virtual time apart. */
static struct wsk_client *client;

static void
poll_once(void)
{
	engine_clock_advance(&cli->shards[0]->clock, 1000);
	engine_clock_advance(&srv->shards[0]->clock, 1000);
	shard_poll(cli->shards[0]);
	wsk_client_poll(client);
	shard_poll(srv->shards[0]);
}

/* README-EXAMPLE-BEGIN */
/* Poll until the next completion arrives and return it (an application
 * would run its shard loop here: shard_poll() then wsk_client_poll()). */
static struct wsk_completion
wait_completion(struct wsk_cq *cq)
{
	struct wsk_completion *cqe, c;

	while (wsk_cq_peek(cq, &cqe) != 0)
		poll_once();
	c = *cqe;
	wsk_cq_seen(cq, cqe);
	return c;
}

/* Connect to 'server' with the request in the SYN when a Fast Open cookie
 * is cached, read the answer, disconnect gracefully, close. Returns the
 * number of response bytes, or -1. */
static long
fetch(struct wsk_client *c, struct wsk_cq *cq, const struct sockaddr_in *server)
{
	static char request[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	char reply[256];
	struct wsk_mdl req_mdl = { .va = request, .len = sizeof(request) - 1 };
	struct wsk_mdl rep_mdl = { .va = reply, .len = sizeof(reply) };
	WSK_BUF req_buf = { .mdl = &req_mdl, .offset = 0, .length = req_mdl.len };
	WSK_BUF rep_buf = { .mdl = &rep_mdl, .offset = 0, .length = rep_mdl.len };
	struct wsk_request req = { .cq = cq, .user_data = 1 };
	struct sockaddr_in any = { .sin_family = AF_INET };	/* any address and port */
	uint32_t on = 1;
	struct wsk_completion done;
	WSK_SOCKET *s;
	long got;

	/* WskSocket: STATUS_SUCCESS, and a completion is still posted. */
	if (wsk_socket(c, AF_INET, SOCK_STREAM, IPPROTO_TCP,
		       WSK_FLAG_CONNECTION_SOCKET, NULL, &s, &req) != STATUS_SUCCESS)
		return -1;
	wait_completion(cq);
	/* WskBind: connect_ex needs a bound socket. */
	if (s->connection->bind(s, (const struct sockaddr *)&any, 0, &req) != STATUS_SUCCESS)
		return -1;
	wait_completion(cq);
	/* TCP_FASTOPEN before connect_ex; a NULL request runs it synchronously. */
	s->connection->basic.control_socket(s, WskSetOption, WSK_TCP_FASTOPEN,
		WSK_IPPROTO_TCP, sizeof(on), &on, 0, NULL, NULL, NULL);
	/* WskConnectEx: Flags must be 0 and the buffer at most 65,535 bytes,
	 * else the call fails at once and posts nothing. */
	req.user_data = 2;
	if (s->connection->connect_ex(s, (const struct sockaddr *)server, &req_buf,
				      0, &req) != STATUS_PENDING)
		return -1;
	done = wait_completion(cq);	/* the handshake done, the request acknowledged */
	if (done.status != STATUS_SUCCESS)
		return -1;		/* e.g. STATUS_CONNECTION_REFUSED, STATUS_IO_TIMEOUT */
	/* WskReceive: completes with the bytes copied, 0 at the peer's FIN. */
	req.user_data = 3;
	s->connection->receive(s, &rep_buf, 0, &req);
	done = wait_completion(cq);
	got = done.status == STATUS_SUCCESS ? (long)done.information : -1;
	/* WskDisconnect (graceful: FIN after queued data), then WskCloseSocket. */
	req.user_data = 4;
	if (s->connection->disconnect(s, NULL, 0, &req) == STATUS_PENDING ||
	    wsk_cq_ready(cq) > 0)
		wait_completion(cq);
	req.user_data = 5;
	if (s->connection->basic.close_socket(s, &req) == STATUS_SUCCESS)
		wait_completion(cq);
	return got;
}
/* README-EXAMPLE-END */

START_TEST(test_readme_example_fetches_twice_the_second_time_in_the_syn)
{
	struct tcp_conf conf;
	struct wsk_cq *cq;
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(80) };
	uint64_t syn_data_before;

	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 7;
	fake_port_init(&fpc);
	fake_port_init(&fps);
	fake_port_link(&fpc, &fps);
	cli = test_engine_create("rdmc", &fpc, "10.0.0.1/24", NULL, 1, NULL);
	srv = test_engine_create("rdms", &fps, "10.0.0.2/24", NULL, 2, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(tcp_engine_enable(cli, &conf), 0);
	ck_assert_int_eq(tcp_engine_enable(srv, &conf), 0);
	tcp_set_upcalls(srv->shards[0], &srv_upcalls);
	ck_assert_int_eq(tcp_listen(srv->shards[0], 0, htons(80), 16, NULL, &listener), 0);
	tcp_listener_set_tfo(listener, 16);
	client = wsk_client_create(cli->shards[0], 8, 32);
	cq = wsk_cq_create("readme", 32, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(client);
	ck_assert_ptr_nonnull(cq);
	inet_pton(AF_INET, "10.0.0.2", &server.sin_addr);

	/* First fetch: a cookie request; second: the request rides in the SYN. */
	ck_assert_int_eq(fetch(client, cq, &server), (long)(sizeof(RESPONSE) - 1));
	syn_data_before = engine_stat(cli, SHARD_STAT_tfo_syn_data_acked);
	ck_assert_int_eq(fetch(client, cq, &server), (long)(sizeof(RESPONSE) - 1));
	ck_assert_uint_eq(engine_stat(cli, SHARD_STAT_tfo_syn_data_acked),
			  syn_data_before + 1);
	ck_assert_uint_eq(server_got, 2 * (sizeof("GET / HTTP/1.1\r\nHost: example\r\n\r\n") - 1));
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);

	wsk_client_destroy(client);
	client = NULL;		/* poll_once() skips it from here on */
	for (unsigned i = 0; i < nserved; i++)
		tcp_release(served[i]);
	tcp_listener_close(listener);
	for (int i = 0; i < 200; i++)	/* TIME_WAIT and lingering state drain */
		poll_once();
	wsk_cq_free(cq);
	tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	fake_port_drain(&fpc);
	fake_port_drain(&fps);
	ck_assert_uint_eq(rte_mempool_in_use_count(cli->shards[0]->pool), 0);
	ck_assert_uint_eq(rte_mempool_in_use_count(srv->shards[0]->pool), 0);
	engine_destroy(cli);
	engine_destroy(srv);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("readme_example");
	TCase *tc = tcase_create("example");

	tcase_add_test(tc, test_readme_example_fetches_twice_the_second_time_in_the_syn);
	suite_add_tcase(s, tc);
	return test_run_suite(s) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
