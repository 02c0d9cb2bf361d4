#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "wsk_pair.h"

struct wsk_client *ws;
struct sockaddr_in server_addr, any_addr;

void
wsk_pair_setup(void)
{
	wsk_pair_setup_sized(16, 64, 16, 64, 128);
}

void
wsk_pair_setup_sized(unsigned wc_sockets, unsigned wc_requests,
		     unsigned ws_sockets, unsigned ws_requests,
		     unsigned cq_entries)
{
	setup_pair();
	wsk_client_start(wc_sockets, wc_requests, cq_entries);
	ws = wsk_client_create(ss, ws_sockets, ws_requests);
	ck_assert_ptr_nonnull(ws);
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons(SERVER_PORT);
	server_addr.sin_addr.s_addr = inet_addr(SERVER_IP);
	memset(&any_addr, 0, sizeof(any_addr));
	any_addr.sin_family = AF_INET;
}

void
wsk_pair_teardown(void)
{
	/* The clients go first: pending requests post to cq, and the
	 * shards' upcalls are cleared before the engines wind down. */
	wsk_client_destroy(ws);
	ws = NULL;
	wsk_client_stop();
	teardown_common();
}

void
wsk_advance(uint64_t us)
{
	engine_clock_advance(&cs->clock, us);
	engine_clock_advance(&ss->clock, us);
	test_engine_poll(cli, 1);
	wsk_client_poll(wc);
	test_engine_poll(srv, 1);
	wsk_client_poll(ws);
}

void
wsk_poll(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		wsk_advance(1000);
}

/* --- helpers ------------------------------------------------------------- */

/* Of exactly two waiting completions, return the one with user_data ud
 * (the other must exist too; both are consumed). */
struct wsk_completion
reap_one_of_two(uint64_t ud)
{
	struct wsk_completion a, b;

	ck_assert_uint_eq(wsk_cq_ready(cq), 2);
	a = reap_first();
	b = reap_first();
	ck_assert(a.user_data == ud || b.user_data == ud);
	return a.user_data == ud ? a : b;
}

static void
poll_once(void)
{
	wsk_poll(1);
}

void
wait_n(unsigned n)
{
	wait_n_by(n, poll_once, 300);
}

struct wsk_completion
wait_one(void)
{
	wait_n(1);
	return reap_one();
}

WSK_SOCKET *
mk_sock(struct wsk_client *c, uint32_t flags, void *ctx, const void *disp)
{
	struct wsk_request r = rq(1);
	WSK_SOCKET *so = NULL;

	ck_assert_int_eq(wsk_socket_ex(c, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				       flags, ctx, disp, &so, &r),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(reap_one().information, (uint64_t)(uintptr_t)so);
	return so;
}

/* A stream socket of ws listening on SERVER_PORT. */
WSK_SOCKET *
listener(const void *disp)
{
	WSK_SOCKET *so = mk_sock(ws, WSK_FLAG_STREAM_SOCKET, (void *)0x11, disp);
	struct wsk_request r = rq(2);

	ck_assert_int_eq(so->stream->bind(so, (struct sockaddr *)&server_addr,
					  0, &r), STATUS_SUCCESS);
	reap_one();
	ck_assert_int_eq(so->stream->listen(so, &r), STATUS_SUCCESS);
	reap_one();
	return so;
}

/* A connection socket of wc, connect_ex to the server accepted (the
 * handshake may still be running). */
WSK_SOCKET *
start_connect(const void *disp, uint64_t ud)
{
	WSK_SOCKET *so = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, (void *)0x22,
				 disp);
	struct wsk_request r = rq(3), c = rq(ud);

	ck_assert_int_eq(so->connection->bind(so, (struct sockaddr *)&any_addr,
					      0, &r), STATUS_SUCCESS);
	reap_one();
	ck_assert_int_eq(so->connection->connect(so,
			 (struct sockaddr *)&server_addr, 0, &c),
			 STATUS_PENDING);
	return so;
}

/* A connected pair: *client from wc, returned server socket from ws. */
WSK_SOCKET *
pair(WSK_SOCKET **client, const void *cdisp, const void *sdisp,
     WSK_SOCKET **lis_out)
{
	WSK_SOCKET *lis = listener(NULL);
	WSK_SOCKET *srv_so = pair_on(lis, client, cdisp, sdisp);

	if (lis_out != NULL)
		*lis_out = lis;
	else
		close_sock(lis);
	return srv_so;
}

WSK_SOCKET *
pair_on(WSK_SOCKET *lis, WSK_SOCKET **client, const void *cdisp,
	const void *sdisp)
{
	struct wsk_request a = rq(40);
	struct wsk_completion e[2], *p[2];
	WSK_SOCKET *srv_so = NULL;

	ck_assert_int_eq(lis->stream->accept(lis, 0, (void *)0x33, sdisp,
					     NULL, NULL, &a), STATUS_PENDING);
	*client = start_connect(cdisp, 41);
	wait_n(2);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, p, 2), 2);
	e[0] = *p[0];
	e[1] = *p[1];
	wsk_cq_advance(cq, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(e[i].status, STATUS_SUCCESS);
		if (e[i].user_data == 40)
			srv_so = (WSK_SOCKET *)(uintptr_t)e[i].information;
	}
	ck_assert_ptr_nonnull(srv_so);
	return srv_so;
}

NTSTATUS
send_bytes(WSK_SOCKET *so, const void *data, size_t len, uint64_t ud)
{
	static struct wsk_mdl m[8];
	static WSK_BUF b[8];
	static unsigned next;
	struct wsk_request r = rq(ud);
	unsigned i = next++ % 8;

	m[i] = (struct wsk_mdl){ .va = (void *)data, .len = len };
	b[i] = (WSK_BUF){ .mdl = &m[i], .length = len };
	return so->connection->send(so, &b[i], 0, &r);
}
