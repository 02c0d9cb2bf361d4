/*
 * wskapi's bookkeeping costs follow the work, not the number of sockets:
 * wsk_client_poll() visits only sockets that asked for it, bind checks a
 * port in O(1) lookups however many sockets are bound, a graceful
 * disconnect completes from upcalls alone, and the bind table keeps the
 * rules the old scan of every socket had (a fixed-seed random walk
 * compared against that scan as the reference model).
 *
 * Two wskapi clients on the virtual clock (the wsk_pair.h fixture, sized
 * here): wc on the client engine (10.0.0.1) with room for 10,050
 * sockets, ws on the server engine (10.0.0.2) with room for two. The
 * teardown waits out TIME_WAIT and checks that no connection and no mbuf
 * was left behind.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "engine.h"
#include "tcp.h"
#include "test_eal.h"
#include "wsk.h"
#include "wsk_pair.h"

#define IDLE_SOCKETS	10000u
#define CLIENT_SOCKETS	(IDLE_SOCKETS + 50u)

static struct sockaddr_in client_addr;

static void
setup(void)
{
	wsk_pair_setup_sized(CLIENT_SOCKETS, 256, 2, 64, 256);
	memset(&client_addr, 0, sizeof(client_addr));
	client_addr.sin_family = AF_INET;
	client_addr.sin_addr.s_addr = inet_addr(CLIENT_IP);
}

/* --- helpers ------------------------------------------------------------- */

/* Wait for n completions with the clients polled (wait_n()), or left to
 * their upcalls alone. */
static void
wait_n_polled(unsigned n, bool with_wsk_poll)
{
	if (with_wsk_poll)
		wait_n(n);
	else
		wait_n_by(n, step_engines, 300);
}

static WSK_SOCKET *
mk_conn_sock(void)
{
	return mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL, NULL);
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

/* A listen socket of ws on SERVER_PORT. Not wsk_pair.h's listener(), a
 * stream socket that listens once told to: these tests are about the
 * listen category, which listens from its bind. */
static WSK_SOCKET *
listen_sock(void)
{
	WSK_SOCKET *so = mk_sock(ws, WSK_FLAG_LISTEN_SOCKET, NULL, NULL);
	struct wsk_request r = rq(3);

	ck_assert_int_eq(so->listen->bind(so, (struct sockaddr *)&server_addr,
					  0, &r), STATUS_SUCCESS);
	reap_one();
	return so;
}

/* A connection socket of wc bound to the client address, connecting.
 * Not wsk_pair.h's start_connect(): that binds to the wildcard, which
 * the bind table treats apart from the address the idle sockets hold. */
static WSK_SOCKET *
connect_from_client_addr(uint64_t ud)
{
	WSK_SOCKET *so = mk_conn_sock();
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
	*client = connect_from_client_addr(ud_connect);
	wait_n_polled(2, with_wsk_poll);
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
		idle[i] = mk_conn_sock();
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
	extra = mk_conn_sock();
	ck_assert_int_eq(bind_to(extra, 0, first_port),
			 STATUS_SHARING_VIOLATION);
	k1 = counters(wc);
	ck_assert_uint_eq(k1.bind_ports_probed - k0.bind_ports_probed, 1);
	close_sock(extra);

	lis = listen_sock();
	k0 = counters(wc);
	s = accept_one(lis, 10, &c, 11, true);
	m = (struct wsk_mdl){ .va = (void *)"ping", .len = 4 };
	b.length = 4;
	r = rq(12);
	ck_assert_int_eq(c->connection->send(c, &b, 0, &r), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 4);
	m = (struct wsk_mdl){ .va = buf, .len = sizeof(buf) };
	b.length = sizeof(buf);
	r = rq(13);
	s->connection->receive(s, &b, 0, &r);
	ck_assert_uint_eq(wait_one().information, 4);
	ck_assert_mem_eq(buf, "ping", 4);
	r = rq(14);
	ck_assert_int_eq(c->connection->disconnect(c, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one().user_data, 14);
	r = rq(15);
	ck_assert_int_eq(s->connection->disconnect(s, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one().user_data, 15);
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
	WSK_SOCKET *lis = listen_sock(), *c, *s;
	struct wsk_client_counters k0 = counters(wc);
	struct wsk_request r = rq(20);
	struct wsk_completion e;

	s = accept_one(lis, 21, &c, 22, false);
	ck_assert_int_eq(c->connection->disconnect(c, NULL, 0, &r),
			 STATUS_PENDING);
	e = wait_one_by(step_engines, 300);
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
	WSK_SOCKET *lis = listen_sock(), *c1, *c2, *s1, *s2;
	struct wsk_client_counters k0, k1;
	struct wsk_request a = rq(33);
	struct wsk_completion e;

	s1 = accept_one(lis, 30, &c1, 31, true);
	ck_assert_int_eq(lis->listen->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_PENDING);
	c2 = connect_from_client_addr(34);
	e = wait_one();
	ck_assert_uint_eq(e.user_data, 34);	/* the handshake is done */
	wsk_poll(20);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);	/* no socket to accept into */
	k0 = counters(ws);
	ck_assert_uint_eq(k0.poll_sockets_visited, 0);
	close_sock(s1);
	wsk_poll(1);
	k1 = counters(ws);
	ck_assert_uint_eq(k1.poll_sockets_visited - k0.poll_sockets_visited, 1);
	e = reap_one();
	ck_assert_uint_eq(e.user_data, 33);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	s2 = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_ptr_nonnull(s2);
	wsk_poll(5);
	ck_assert_uint_eq(counters(ws).poll_sockets_visited,
			  k1.poll_sockets_visited);
	close_sock(s2);
	close_sock(c1);
	close_sock(c2);
	close_sock(lis);
}
END_TEST

/* --- socket slots ----------------------------------------------------------- */

/* wsk.h, SOCKET LIFETIME: a closed socket's slot is used again only after
 * at least 1,024 other sockets closed. And why it is bounded: one socket
 * opened and closed over and over touches about that many slots, not the
 * whole pool of 10,050, which a FIFO over every slot walked through, a
 * cache miss per line of each socket it handed out. Every slot can still
 * be had at once. */
#define DOC_REUSE_DISTANCE	1024u
#define SLOT_CYCLES		4000u

START_TEST(test_closed_slots_wait_their_distance_and_stay_few)
{
	static WSK_SOCKET *got[SLOT_CYCLES];
	static WSK_SOCKET *all[CLIENT_SOCKETS];
	struct wsk_request r = rq(5);
	WSK_SOCKET *extra = NULL;
	unsigned distinct = 0;

	for (unsigned i = 0; i < SLOT_CYCLES; i++) {
		unsigned j = i;

		got[i] = mk_conn_sock();
		while (j-- > 0 && got[j] != got[i])
			;
		if (j == UINT_MAX) {
			distinct++;
		} else {
			/* got[j] closed at cycle j; i - j - 1 others since. */
			ck_assert_msg(i - j - 1 >= DOC_REUSE_DISTANCE,
				      "slot of cycle %u reused at cycle %u", j, i);
		}
		close_sock(got[i]);
	}
	ck_assert_uint_le(distinct, DOC_REUSE_DISTANCE + 1);

	for (unsigned i = 0; i < CLIENT_SOCKETS; i++)
		all[i] = mk_conn_sock();
	ck_assert_int_eq(wsk_socket_ex(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				       WSK_FLAG_CONNECTION_SOCKET, NULL, NULL,
				       &extra, &r),
			 STATUS_INSUFFICIENT_RESOURCES);
	for (unsigned i = 0; i < CLIENT_SOCKETS; i++)
		close_sock(all[i]);
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
 * wildcard or one of the port's three addresses, with or without
 * SO_REUSEADDR, also switched after the bind) and closes: every bind gives
 * what the reference scan says. Two addresses bound on one port at once
 * put the second in the table's hash, behind the port's own count of the
 * first. */
START_TEST(test_bind_table_agrees_with_a_scan_of_every_socket)
{
	static struct model_sock ms[MODEL_SOCKETS];
	struct port *cp = cs->ports[0].port;
	rte_be32_t addrs[3];
	unsigned binds = 0, refused = 0, shared = 0;

	/* Two more addresses on the client's port, before any traffic. */
	addrs[0] = client_addr.sin_addr.s_addr;
	addrs[1] = inet_addr("10.0.0.3");
	addrs[2] = inet_addr("10.0.0.4");
	for (unsigned a = 1; a < 3; a++) {
		cp->conf.addrs[cp->conf.nb_addrs].ip = addrs[a];
		cp->conf.addrs[cp->conf.nb_addrs].prefix = 24;
		cp->conf.nb_addrs++;
	}
	memset(ms, 0, sizeof(ms));
	prng_state = 20240601;
	for (unsigned step_no = 0; step_no < MODEL_STEPS; step_no++) {
		unsigned i = prng(MODEL_SOCKETS);
		struct model_sock *m = &ms[i];

		if (m->so == NULL) {
			m->so = mk_conn_sock();
			m->reuse = prng(2);
			m->bound = false;
			if (m->reuse)
				set_reuse(m->so, 1);
		} else if (!m->bound) {
			rte_be32_t ip = prng(4) ? addrs[prng(3)] : 0;
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
				for (unsigned o = 0; o < MODEL_SOCKETS; o++)
					if (ms[o].so != NULL && ms[o].bound &&
					    ms[o].port == port && ms[o].ip != 0 &&
					    ip != 0 && ms[o].ip != ip) {
						shared++;
						break;
					}
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
	ck_assert_uint_gt(shared, 50);
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

	tcase_add_checked_fixture(t, setup, wsk_pair_teardown);
	tcase_add_test(t, test_poll_and_bind_cost_nothing_per_idle_socket);
	tcase_add_test(t, test_graceful_disconnect_completes_without_client_poll);
	tcase_add_test(t, test_listener_out_of_sockets_is_served_after_one_is_freed);
	tcase_add_test(t, test_bind_table_agrees_with_a_scan_of_every_socket);
	tcase_add_test(t, test_closed_slots_wait_their_distance_and_stay_few);
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
