/*
 * wskapi's bookkeeping costs follow the work, not the number of sockets:
 * wsk_client_poll() visits only sockets that asked for it, bind checks a
 * port in O(1) lookups however many sockets are bound, a graceful
 * disconnect completes from upcalls alone, and the bind table keeps the
 * rules the old scan of every socket had (a fixed-seed random walk
 * compared against that scan as the reference model).
 *
 * Two wskapi clients over fake ports on the virtual clock, as in
 * test_wsk_api2.c: "wsc" (10.0.0.1, client wc, room for 10,050 sockets)
 * and "wss" (10.0.0.2, client ws). The teardown waits out TIME_WAIT and
 * checks that no connection and no mbuf was left behind.
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

#define CLIENT_IP	"10.0.0.1"
#define SERVER_IP	"10.0.0.2"
#define SERVER_PORT	8080
#define IDLE_SOCKETS	10000u
#define CLIENT_SOCKETS	(IDLE_SOCKETS + 50u)

static struct fake_port fpc, fps;
static struct engine *cli, *srv;
static struct shard *cs, *ss;
static struct wsk_client *wc, *ws;
static struct wsk_cq *cq;
static struct sockaddr_in server_addr, client_addr;

static void
setup(void)
{
	struct tcp_conf conf;

	test_eal_init();
	tcp_conf_init(&conf);
	conf.seed = 42;
	fake_port_init(&fpc);
	fake_port_init(&fps);
	fake_port_link(&fpc, &fps);
	cli = test_engine_create("scc", &fpc, CLIENT_IP "/24", NULL, 0x01, NULL);
	srv = test_engine_create("scs", &fps, SERVER_IP "/24", NULL, 0x02, NULL);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(srv);
	cs = cli->shards[0];
	ss = srv->shards[0];
	ck_assert_int_eq(tcp_engine_enable(cli, &conf), 0);
	ck_assert_int_eq(tcp_engine_enable(srv, &conf), 0);
	wc = wsk_client_create(cs, CLIENT_SOCKETS, 256);
	ws = wsk_client_create(ss, 2, 64);
	ck_assert_ptr_nonnull(wc);
	ck_assert_ptr_nonnull(ws);
	cq = wsk_cq_create("wsk_scale", 256, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(cq);
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons(SERVER_PORT);
	server_addr.sin_addr.s_addr = inet_addr(SERVER_IP);
	memset(&client_addr, 0, sizeof(client_addr));
	client_addr.sin_family = AF_INET;
	client_addr.sin_addr.s_addr = inet_addr(CLIENT_IP);
}

static void
teardown(void)
{
	unsigned conns_c, conns_s, mbufs_c, mbufs_s;

	wsk_client_destroy(wc);
	wsk_client_destroy(ws);
	wc = ws = NULL;
	for (int i = 0; i < 70; i++) {
		engine_clock_advance(&cs->clock, 1000000);
		engine_clock_advance(&ss->clock, 1000000);
		test_engine_poll(cli, 1);
		test_engine_poll(srv, 1);
	}
	conns_c = tcp_shard_conns_in_use(cs);
	conns_s = tcp_shard_conns_in_use(ss);
	tcp_engine_disable(cli);
	tcp_engine_disable(srv);
	shard_tx_flush(cs);
	shard_tx_flush(ss);
	fake_port_drain(&fpc);
	fake_port_drain(&fps);
	fake_port_drain(&fpc);
	mbufs_c = rte_mempool_in_use_count(cs->pool);
	mbufs_s = rte_mempool_in_use_count(ss->pool);
	engine_destroy(cli);
	engine_destroy(srv);
	cli = srv = NULL;
	wsk_cq_free(cq);
	cq = NULL;
	ck_assert_uint_eq(conns_c, 0);
	ck_assert_uint_eq(conns_s, 0);
	ck_assert_uint_eq(mbufs_c, 0);
	ck_assert_uint_eq(mbufs_s, 0);
}

/* --- helpers ------------------------------------------------------------- */

/* One pass of both engines, 1 ms apart; with_wsk_poll false leaves the
 * wskapi clients to their upcalls. */
static void
step(bool with_wsk_poll)
{
	engine_clock_advance(&cs->clock, 1000);
	engine_clock_advance(&ss->clock, 1000);
	test_engine_poll(cli, 1);
	if (with_wsk_poll)
		wsk_client_poll(wc);
	test_engine_poll(srv, 1);
	if (with_wsk_poll)
		wsk_client_poll(ws);
}

static struct wsk_request
rq(uint64_t user_data)
{
	return (struct wsk_request){ .cq = cq, .user_data = user_data };
}

static struct wsk_completion
reap_one(void)
{
	struct wsk_completion *e, copy;

	ck_assert_uint_eq(wsk_cq_ready(cq), 1);
	ck_assert_int_eq(wsk_cq_peek(cq, &e), 0);
	copy = *e;
	wsk_cq_seen(cq, e);
	return copy;
}

/* Take the oldest completion. */
static struct wsk_completion
reap_first(void)
{
	struct wsk_completion *e, copy;

	ck_assert_int_eq(wsk_cq_peek(cq, &e), 0);
	copy = *e;
	wsk_cq_seen(cq, e);
	return copy;
}

/* Step until n completions wait (at most 300 steps). */
static void
wait_n(unsigned n, bool with_wsk_poll)
{
	for (int i = 0; i < 300 && wsk_cq_ready(cq) < n; i++)
		step(with_wsk_poll);
	ck_assert_uint_eq(wsk_cq_ready(cq), n);
}

static struct wsk_completion
wait_one(bool with_wsk_poll)
{
	wait_n(1, with_wsk_poll);
	return reap_one();
}

static WSK_SOCKET *
mk_sock(struct wsk_client *c, uint32_t flags, const void *disp)
{
	struct wsk_request r = rq(1);
	WSK_SOCKET *so = NULL;

	ck_assert_int_eq(wsk_socket_ex(c, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				       flags, NULL, disp, &so, &r),
			 STATUS_SUCCESS);
	reap_one();
	return so;
}

static void
close_sock(WSK_SOCKET *so)
{
	struct wsk_request r = rq(99);

	ck_assert_int_eq(so->basic->close_socket(so, &r), STATUS_SUCCESS);
	ck_assert_uint_eq(reap_one().user_data, 99);
}

static void
set_reuse(WSK_SOCKET *so, uint32_t v)
{
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_SO_REUSEADDR, WSK_SOL_SOCKET, sizeof(v), &v, 0,
			 NULL, NULL, NULL), STATUS_SUCCESS);
}

/* Bind so to (ip, port), both in network order; the call's status (a
 * success is reaped). */
static NTSTATUS
bind_to(WSK_SOCKET *so, rte_be32_t ip, rte_be16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct wsk_request r = rq(2);
	NTSTATUS st;

	a.sin_addr.s_addr = ip;
	a.sin_port = port;
	st = so->connection->bind(so, (struct sockaddr *)&a, 0, &r);
	if (st == STATUS_SUCCESS)
		reap_one();
	return st;
}

static struct wsk_client_counters
counters(struct wsk_client *c)
{
	struct wsk_client_counters k;

	wsk_client_counters_get(c, &k);
	return k;
}

/* A listen socket of ws on SERVER_PORT. */
static WSK_SOCKET *
listener(void)
{
	WSK_SOCKET *so = mk_sock(ws, WSK_FLAG_LISTEN_SOCKET, NULL);
	struct wsk_request r = rq(3);

	ck_assert_int_eq(so->listen->bind(so, (struct sockaddr *)&server_addr,
					  0, &r), STATUS_SUCCESS);
	reap_one();
	return so;
}

/* A connection socket of wc bound to the client address, connecting. */
static WSK_SOCKET *
start_connect(uint64_t ud)
{
	WSK_SOCKET *so = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL);
	struct wsk_request c = rq(ud);

	ck_assert_int_eq(bind_to(so, client_addr.sin_addr.s_addr, 0),
			 STATUS_SUCCESS);
	ck_assert_int_eq(so->connection->connect(so,
			 (struct sockaddr *)&server_addr, 0, &c),
			 STATUS_PENDING);
	return so;
}

/* Accept on lis (request ud_accept) while c connects (ud_connect): the
 * accepted socket. */
static WSK_SOCKET *
accept_one(WSK_SOCKET *lis, uint64_t ud_accept, WSK_SOCKET **client,
	   uint64_t ud_connect, bool with_wsk_poll)
{
	struct wsk_request a = rq(ud_accept);
	WSK_SOCKET *srv_so = NULL;
	bool connected = false;

	ck_assert_int_eq(lis->listen->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_PENDING);
	*client = start_connect(ud_connect);
	wait_n(2, with_wsk_poll);
	for (int n = 0; n < 2; n++) {
		struct wsk_completion e = reap_first();

		ck_assert_int_eq(e.status, STATUS_SUCCESS);
		if (e.user_data == ud_accept)
			srv_so = (WSK_SOCKET *)(uintptr_t)e.information;
		else if (e.user_data == ud_connect)
			connected = true;
	}
	ck_assert_ptr_nonnull(srv_so);
	ck_assert(connected);
	return srv_so;
}

/* --- the tests ------------------------------------------------------------- */

/* 10,000 bound idle sockets: binding one more probes one port, a port
 * in use is refused after one probe, and a whole connection (handshake,
 * data both ways, graceful close) runs while wsk_client_poll() visits no
 * socket at all. */
START_TEST(test_poll_and_bind_cost_nothing_per_idle_socket)
{
	static WSK_SOCKET *idle[IDLE_SOCKETS];
	struct wsk_client_counters k0, k1;
	struct wsk_mdl m;
	WSK_BUF b = { .mdl = &m };
	struct wsk_request r;
	WSK_SOCKET *lis, *c, *s, *extra;
	uint8_t buf[64];
	rte_be16_t first_port = 0;

	for (unsigned i = 0; i < IDLE_SOCKETS; i++) {
		idle[i] = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL);
		k0 = counters(wc);
		ck_assert_int_eq(bind_to(idle[i], client_addr.sin_addr.s_addr, 0),
				 STATUS_SUCCESS);
		k1 = counters(wc);
		/* The ephemeral cursor moves past each taken port. */
		ck_assert_uint_eq(k1.bind_ports_probed - k0.bind_ports_probed, 1);
		if (i == 0) {
			struct sockaddr_in a;

			r = rq(4);
			ck_assert_int_eq(idle[0]->connection->get_local_address(
				idle[0], (struct sockaddr *)&a, &r),
				STATUS_SUCCESS);
			reap_one();
			first_port = a.sin_port;
		}
	}
	k0 = counters(wc);
	ck_assert_uint_eq(k0.binds, IDLE_SOCKETS);
	extra = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL);
	ck_assert_int_eq(bind_to(extra, 0, first_port),
			 STATUS_SHARING_VIOLATION);
	k1 = counters(wc);
	ck_assert_uint_eq(k1.bind_ports_probed - k0.bind_ports_probed, 1);
	close_sock(extra);

	lis = listener();
	k0 = counters(wc);
	s = accept_one(lis, 10, &c, 11, true);
	m = (struct wsk_mdl){ .va = (void *)"ping", .len = 4 };
	b.length = 4;
	r = rq(12);
	ck_assert_int_eq(c->connection->send(c, &b, 0, &r), STATUS_PENDING);
	ck_assert_uint_eq(wait_one(true).information, 4);
	m = (struct wsk_mdl){ .va = buf, .len = sizeof(buf) };
	b.length = sizeof(buf);
	r = rq(13);
	s->connection->receive(s, &b, 0, &r);
	ck_assert_uint_eq(wait_one(true).information, 4);
	ck_assert_mem_eq(buf, "ping", 4);
	r = rq(14);
	ck_assert_int_eq(c->connection->disconnect(c, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one(true).user_data, 14);
	r = rq(15);
	ck_assert_int_eq(s->connection->disconnect(s, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one(true).user_data, 15);
	k1 = counters(wc);
	ck_assert_uint_gt(k1.polls - k0.polls, 2);
	ck_assert_uint_eq(k1.poll_sockets_visited, 0);
	ck_assert_uint_eq(counters(ws).poll_sockets_visited, 0);
	close_sock(c);
	close_sock(s);
	close_sock(lis);
	for (unsigned i = 0; i < IDLE_SOCKETS; i++)
		close_sock(idle[i]);
}
END_TEST

/* The FIN's acknowledgment reaches a graceful disconnect through the
 * engine's upcalls: it completes without any wsk_client_poll(). */
START_TEST(test_graceful_disconnect_completes_without_client_poll)
{
	WSK_SOCKET *lis = listener(), *c, *s;
	struct wsk_client_counters k0 = counters(wc);
	struct wsk_request r = rq(20);
	struct wsk_completion e;

	s = accept_one(lis, 21, &c, 22, false);
	ck_assert_int_eq(c->connection->disconnect(c, NULL, 0, &r),
			 STATUS_PENDING);
	e = wait_one(false);
	ck_assert_uint_eq(e.user_data, 20);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(counters(wc).polls, k0.polls);
	close_sock(c);
	close_sock(s);
	close_sock(lis);
}
END_TEST

/* ws has room for two sockets: the listener and one accepted. A second
 * connection waits in the engine's queue; once the first socket is
 * closed, the next wsk_client_poll() serves the queued accept, visiting
 * that one listener. */
START_TEST(test_listener_out_of_sockets_is_served_after_one_is_freed)
{
	WSK_SOCKET *lis = listener(), *c1, *c2, *s1, *s2;
	struct wsk_client_counters k0, k1;
	struct wsk_request a = rq(33);
	struct wsk_completion e;

	s1 = accept_one(lis, 30, &c1, 31, true);
	ck_assert_int_eq(lis->listen->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_PENDING);
	c2 = start_connect(34);
	e = wait_one(true);
	ck_assert_uint_eq(e.user_data, 34);	/* the handshake is done */
	for (int i = 0; i < 20; i++)
		step(true);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);	/* no socket to accept into */
	k0 = counters(ws);
	ck_assert_uint_eq(k0.poll_sockets_visited, 0);
	close_sock(s1);
	step(true);
	k1 = counters(ws);
	ck_assert_uint_eq(k1.poll_sockets_visited - k0.poll_sockets_visited, 1);
	e = reap_one();
	ck_assert_uint_eq(e.user_data, 33);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	s2 = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_ptr_nonnull(s2);
	for (int i = 0; i < 5; i++)
		step(true);
	ck_assert_uint_eq(counters(ws).poll_sockets_visited,
			  k1.poll_sockets_visited);
	close_sock(s2);
	close_sock(c1);
	close_sock(c2);
	close_sock(lis);
}
END_TEST

/* --- the bind table against the scan it replaced ---------------------------- */

#define MODEL_SOCKETS	48
#define MODEL_PORTS	4
#define MODEL_STEPS	4000

struct model_sock {
	WSK_SOCKET *so;
	bool bound, reuse;
	rte_be32_t ip;
	rte_be16_t port;
};

/* The old rule, socket by socket: (ip, port) is taken when another bound
 * socket has the port, an overlapping address (equal, or either the
 * wildcard), and not both ask for SO_REUSEADDR. */
static bool
model_taken(const struct model_sock *ms, unsigned self, rte_be32_t ip,
	    rte_be16_t port, bool reuse)
{
	for (unsigned i = 0; i < MODEL_SOCKETS; i++) {
		const struct model_sock *o = &ms[i];

		if (i == self || o->so == NULL || !o->bound || o->port != port)
			continue;
		if (o->ip != 0 && ip != 0 && o->ip != ip)
			continue;
		if (reuse && o->reuse)
			continue;
		return true;
	}
	return false;
}

static uint64_t prng_state;

static uint32_t
prng(uint32_t n)
{
	prng_state = prng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(prng_state >> 33) % n;
}

/* A fixed-seed walk of socket creations, binds (explicit ports, the
 * wildcard or the port's address, with or without SO_REUSEADDR, also
 * switched after the bind) and closes: every bind gives what the
 * reference scan says. */
START_TEST(test_bind_table_agrees_with_a_scan_of_every_socket)
{
	static struct model_sock ms[MODEL_SOCKETS];
	unsigned binds = 0, refused = 0;

	memset(ms, 0, sizeof(ms));
	prng_state = 20240601;
	for (unsigned step_no = 0; step_no < MODEL_STEPS; step_no++) {
		unsigned i = prng(MODEL_SOCKETS);
		struct model_sock *m = &ms[i];

		if (m->so == NULL) {
			m->so = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL);
			m->reuse = prng(2);
			m->bound = false;
			if (m->reuse)
				set_reuse(m->so, 1);
		} else if (!m->bound) {
			rte_be32_t ip = prng(2) ? client_addr.sin_addr.s_addr : 0;
			rte_be16_t port = htons(5000 + prng(MODEL_PORTS));
			bool want = !model_taken(ms, i, ip, port, m->reuse);
			NTSTATUS st = bind_to(m->so, ip, port);

			ck_assert_int_eq(st, want ? STATUS_SUCCESS
						  : STATUS_SHARING_VIOLATION);
			if (want) {
				m->bound = true;
				m->ip = ip;
				m->port = port;
				binds++;
			} else {
				refused++;
			}
		} else if (prng(4) == 0) {
			m->reuse = !m->reuse;
			set_reuse(m->so, m->reuse);
		} else {
			close_sock(m->so);
			m->so = NULL;
		}
	}
	/* The walk went both ways often. */
	ck_assert_uint_gt(binds, 200);
	ck_assert_uint_gt(refused, 200);
	for (unsigned i = 0; i < MODEL_SOCKETS; i++)
		if (ms[i].so != NULL)
			close_sock(ms[i].so);
}
END_TEST

static Suite *
wsk_scale_suite(void)
{
	Suite *s = suite_create("wsk_scale");
	TCase *t = tcase_create("scale");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_poll_and_bind_cost_nothing_per_idle_socket);
	tcase_add_test(t, test_graceful_disconnect_completes_without_client_poll);
	tcase_add_test(t, test_listener_out_of_sockets_is_served_after_one_is_freed);
	tcase_add_test(t, test_bind_table_agrees_with_a_scan_of_every_socket);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(wsk_scale_suite()) == 0 ? EXIT_SUCCESS
						      : EXIT_FAILURE;
}
