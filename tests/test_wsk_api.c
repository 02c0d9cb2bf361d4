/*
 * wskapi against the WskConnectEx page, line by line, plus conformance.
 *
 * A wskapi client (wsk_ring.h) on the client engine (10.0.0.1) of the
 * two-engine fixture (tcp_pair.h) talks to the server engine (10.0.0.2),
 * on fake ports and the virtual clock. The server side uses the TCP
 * engine directly (tcp_listen on port 8080) and keeps what it receives.
 * The suite never calls wsk_client_poll(). Every teardown closes
 * everything, waits out TIME_WAIT and proves no connection and no mbuf
 * was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "engine.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "test_eal.h"
#include "wsk.h"
#include "wsk_ring.h"

#define CLOSED_PORT 9	/* nobody listens: the server engine answers RST */

static struct tcp_listener *srv_listener;

/* The server side: accepted connections and the bytes they received. */
#define SRV_MAX 4
static struct tcp_conn *srv_conns[SRV_MAX];
static unsigned srv_nconns;
static uint8_t srv_data[80000];
static size_t srv_len;

static void
srv_accept_ready(struct tcp_listener *l)
{
	struct tcp_conn *c;

	while ((c = tcp_accept(l)) != NULL) {
		ck_assert_uint_lt(srv_nconns, SRV_MAX);
		tcp_conn_set_user(c, NULL);
		srv_conns[srv_nconns++] = c;
	}
}

static void
srv_readable(struct tcp_conn *c)
{
	uint32_t n;

	do {
		n = tcp_recv(c, srv_data + srv_len,
			     (uint32_t)(sizeof(srv_data) - srv_len));
		srv_len += n;
	} while (n > 0 && srv_len < sizeof(srv_data));
}

static const struct tcp_upcalls srv_upcalls = {
	.accept_ready = srv_accept_ready,
	.readable = srv_readable,
};

static void
setup(void)
{
	setup_pair();
	tcp_set_upcalls(ss, &srv_upcalls);
	memset(srv_conns, 0, sizeof(srv_conns));
	srv_nconns = 0;
	srv_len = 0;
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, NULL,
				    &srv_listener), 0);
	wsk_client_start(16, 64, 64);
}

/* n passes of 1 ms (step_engines()). */
static void
poll_ms(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		step_engines();
}

static void
teardown(void)
{
	wsk_client_stop();
	for (unsigned i = 0; i < srv_nconns; i++) {
		tcp_abort(srv_conns[i]);
		tcp_release(srv_conns[i]);
	}
	tcp_listener_close(srv_listener);
	teardown_common();
}

/* --- helpers ------------------------------------------------------------- */

/* A socket of wc. Not wsk_pair.h's mk_sock(): this one goes through
 * wsk_socket() itself, the call the suite is about, not wsk_socket_ex(). */
static WSK_SOCKET *
mk_sock(uint32_t flags)
{
	struct wsk_request r = rq(1);
	WSK_SOCKET *so = NULL;
	struct wsk_completion e;

	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				    flags, NULL, &so, &r), STATUS_SUCCESS);
	e = reap_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, (uint64_t)(uintptr_t)so);
	return so;
}

static struct sockaddr_in
sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in server_addr;
static struct sockaddr_in closed_addr;

/* A bound connection socket (any address, ephemeral port). */
static WSK_SOCKET *
bound_conn(uint32_t flags)
{
	WSK_SOCKET *so = mk_sock(flags);
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct wsk_request r = rq(2);

	ck_assert_int_eq(so->connection->bind(so, (struct sockaddr *)&any, 0,
					      &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	server_addr = sin_of(SERVER_IP, SERVER_PORT);
	closed_addr = sin_of(SERVER_IP, CLOSED_PORT);
	return so;
}

/* Poll until a completion shows up (at most 200 rounds of 1 ms). */
static struct wsk_completion
wait_one(void)
{
	return wait_one_by(step_engines, 200);
}

/* The server takes the connection once the handshake's last ACK is
 * there, which may be a pass after the client's connect completed (the
 * engine lets that ACK wait for data to ride on). */
static void
wait_server_conns(unsigned n)
{
	for (int i = 0; i < 20 && srv_nconns < n; i++)
		poll_ms(1);
	ck_assert_uint_eq(srv_nconns, n);
}

static uint8_t
byte_at(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

/* A connected socket (connect_ex without a buffer). */
static WSK_SOCKET *
connected_sock(void)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(3);
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	wait_server_conns(1);
	return so;
}

/* --- the seed page, line by line ------------------------------------------ */

/* "STATUS_PENDING ... The WSK subsystem will complete the IRP after it has
 * connected the socket": without a buffer, information is 0. */
START_TEST(test_connect_ex_returns_pending_and_completes_once_connected)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7);
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	expect_nothing_posted();
	e = wait_one();
	ck_assert_uint_eq(e.user_data, 7);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 0);
	wait_server_conns(1);
	close_sock(so);
}
END_TEST

/* "STATUS_INVALID_PARAMETER: ... a flag in to the Flags parameter". */
START_TEST(test_connect_ex_flags_nonzero_returns_invalid_parameter_and_posts_nothing)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7);

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 1, &r),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0x80000000u, &r),
			 STATUS_INVALID_PARAMETER);
	poll_ms(20);
	expect_nothing_posted();
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(so);
}
END_TEST

/* "STATUS_BUFFER_OVERFLOW: ... a buffer larger than 65,535 bytes". A
 * warning by severity, yet nothing was accepted. */
START_TEST(test_connect_ex_buffer_over_65535_returns_buffer_overflow)
{
	static uint8_t data[65536];
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_mdl m = { .va = data, .len = sizeof(data) };
	WSK_BUF b = { .mdl = &m, .offset = 0, .length = 65536 };
	struct wsk_request r = rq(7);
	NTSTATUS st;

	st = so->connection->connect_ex(so, (struct sockaddr *)&server_addr,
					&b, 0, &r);
	ck_assert_int_eq(st, STATUS_BUFFER_OVERFLOW);
	ck_assert(!NT_SUCCESS(st) && !NT_ERROR(st));
	poll_ms(20);
	expect_nothing_posted();
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(so);
}
END_TEST

/* "The maximum allowed size in bytes is 65,535": exactly that is fine. */
START_TEST(test_connect_ex_buffer_of_exactly_65535_is_sent_in_full)
{
	static uint8_t data[65535];
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_mdl m = { .va = data, .len = sizeof(data) };
	WSK_BUF b = { .mdl = &m, .offset = 0, .length = sizeof(data) };
	struct wsk_request r = rq(7);
	struct wsk_completion e;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = byte_at(i);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, &b, 0, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, sizeof(data));
	ck_assert_uint_eq(srv_len, sizeof(data));
	ck_assert(memcmp(srv_data, data, sizeof(data)) == 0);
	close_sock(so);
}
END_TEST

/* "only on a connection-oriented or stream socket that the application
 * previously bound". */
START_TEST(test_connect_ex_on_unbound_socket_fails_without_completion)
{
	WSK_SOCKET *so = mk_sock(WSK_FLAG_CONNECTION_SOCKET);
	WSK_SOCKET *st = mk_sock(WSK_FLAG_STREAM_SOCKET);
	struct sockaddr_in a = sin_of(SERVER_IP, SERVER_PORT);
	struct wsk_request r = rq(7);

	ck_assert_int_eq(so->connection->connect_ex(so, (struct sockaddr *)&a,
			 NULL, 0, &r), STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(st->stream->connect_ex(st, (struct sockaddr *)&a,
			 NULL, 0, &r), STATUS_INVALID_DEVICE_STATE);
	poll_ms(20);
	expect_nothing_posted();
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(so);
	close_sock(st);
}
END_TEST

/* Information = bytes of the buffer sent, and the peer got exactly them,
 * from a two-segment chain with an offset. */
START_TEST(test_connect_ex_with_buffer_completes_with_bytes_sent)
{
	static uint8_t d1[3000], d2[5000];
	WSK_SOCKET *so = bound_conn(WSK_FLAG_STREAM_SOCKET);
	struct wsk_mdl m2 = { .va = d2, .len = sizeof(d2) };
	struct wsk_mdl m1 = { .va = d1, .len = sizeof(d1), .next = &m2 };
	WSK_BUF b = { .mdl = &m1, .offset = 100, .length = 7000 };
	struct wsk_request r = rq(7);
	struct wsk_completion e;
	uint8_t want[7000];

	for (size_t i = 0; i < sizeof(d1); i++)
		d1[i] = byte_at(i);
	for (size_t i = 0; i < sizeof(d2); i++)
		d2[i] = byte_at(i + sizeof(d1));
	memcpy(want, d1 + 100, 2900);
	memcpy(want + 2900, d2, 4100);
	ck_assert_int_eq(so->stream->connect_ex(so,
			 (struct sockaddr *)&server_addr, &b, 0, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_uint_eq(e.user_data, 7);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 7000);
	ck_assert_uint_eq(srv_len, 7000);
	ck_assert(memcmp(srv_data, want, sizeof(want)) == 0);
	close_sock(so);
}
END_TEST

/* "Other status codes: An error occurred. The IRP will be completed with
 * failure status": a RST to our SYN. */
START_TEST(test_connect_ex_refused_completes_with_connection_refused)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7);
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&closed_addr, NULL, 0, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_uint_eq(e.user_data, 7);
	ck_assert_int_eq(e.status, STATUS_CONNECTION_REFUSED);
	ck_assert_uint_eq(e.information, 0);
	close_sock(so);
}
END_TEST

/* "once WskConnectEx is successfully called on a stream socket, the
 * socket is committed to a connection-oriented flow and may no longer
 * call listening socket functions" - from acceptance on, and after. */
START_TEST(test_stream_socket_refuses_listen_after_connect_ex)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_STREAM_SOCKET);
	struct wsk_request r = rq(7), l = rq(8);

	ck_assert_int_eq(so->stream->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(so->stream->listen(so, &l),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->stream->listen(so, &l),
			 STATUS_INVALID_DEVICE_STATE);
	expect_nothing_posted();
	close_sock(so);
}
END_TEST

/* The other way round: a listening stream socket refuses connect_ex. */
START_TEST(test_listening_stream_socket_refuses_connect_ex)
{
	WSK_SOCKET *so = mk_sock(WSK_FLAG_STREAM_SOCKET);
	struct sockaddr_in a = sin_of(CLIENT_IP, 7000);
	struct sockaddr_in s = sin_of(SERVER_IP, SERVER_PORT);
	struct wsk_request r = rq(7);

	ck_assert_int_eq(so->stream->bind(so, (struct sockaddr *)&a, 0, &r),
			 STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->stream->listen(so, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->stream->connect_ex(so, (struct sockaddr *)&s,
			 NULL, 0, &r), STATUS_INVALID_DEVICE_STATE);
	expect_nothing_posted();
	close_sock(so);
}
END_TEST

/* "STATUS_FILE_FORCED_CLOSED: The socket is no longer functional. The IRP
 * will be completed with failure status. The WSK application must call
 * the WskCloseSocket function". */
START_TEST(test_dead_socket_returns_file_forced_closed_until_closed)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7), f = rq(8);
	struct sockaddr_in out;
	uint8_t byte = 0;
	struct wsk_mdl m = { .va = &byte, .len = 1 };
	WSK_BUF b = { .mdl = &m, .length = 1 };
	uint32_t one = 1;
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&closed_addr, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_CONNECTION_REFUSED);

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &f),
			 STATUS_FILE_FORCED_CLOSED);
	e = reap_one();
	ck_assert_uint_eq(e.user_data, 8);
	ck_assert_int_eq(e.status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->connection->connect(so,
			 (struct sockaddr *)&server_addr, 0, &f),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->connection->send(so, &b, 0, &f),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->connection->receive(so, &b, 0, &f),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->connection->get_local_address(so,
			 (struct sockaddr *)&out, &f),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->connection->get_remote_address(so,
			 (struct sockaddr *)&out, &f),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_NODELAY, WSK_IPPROTO_TCP, sizeof(one), &one,
			 0, NULL, NULL, &f), STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	close_sock(so);
}
END_TEST

/* "the caller can free the MDL in its WSK_BUF structure as soon as the
 * connect request is complete" - and, since wskapi copies at the call,
 * scribbling over it right after the call changes nothing either. */
START_TEST(test_caller_may_reuse_buffer_after_completion)
{
	static uint8_t data[4000];
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_mdl m = { .va = data, .len = sizeof(data) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(data) };
	struct wsk_request r = rq(7);
	struct wsk_completion e;
	uint8_t want[sizeof(data)];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = want[i] = byte_at(i);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, &b, 0, &r),
			 STATUS_PENDING);
	memset(data, 0xEE, sizeof(data));
	m.va = NULL;
	m.len = 0;
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, sizeof(data));
	ck_assert_uint_eq(srv_len, sizeof(data));
	ck_assert(memcmp(srv_data, want, sizeof(want)) == 0);
	close_sock(so);
}
END_TEST

/* TCP_FASTOPEN (15) and TCP_NODELAY (1) are stored and read back; a
 * connect_ex after setting TCP_FASTOPEN still connects and sends (data in
 * the SYN is later work). */
START_TEST(test_control_socket_stores_tcp_fastopen_and_nodelay)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	uint32_t one = 1, got = 7;
	size_t ret = 0;
	struct wsk_request r = rq(5);
	uint8_t data[10] = "0123456789";
	struct wsk_mdl m = { .va = data, .len = sizeof(data) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(data) };

	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP, 0, NULL,
			 sizeof(got), &got, &ret, NULL), STATUS_SUCCESS);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP, sizeof(one), &one,
			 0, NULL, NULL, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_NODELAY, WSK_IPPROTO_TCP, sizeof(one), &one,
			 0, NULL, NULL, NULL), STATUS_SUCCESS);
	expect_nothing_posted();
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP, 0, NULL,
			 sizeof(got), &got, &ret, &r), STATUS_SUCCESS);
	ck_assert_uint_eq(got, 1);
	ck_assert_uint_eq(ret, sizeof(got));
	ck_assert_uint_eq(reap_one().information, sizeof(got));
	got = 0;
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_TCP_NODELAY, WSK_IPPROTO_TCP, 0, NULL,
			 sizeof(got), &got, &ret, NULL), STATUS_SUCCESS);
	ck_assert_uint_eq(got, 1);
	ck_assert_int_eq(so->basic->control_socket(so, WskIoctl, 0, 0, 0,
			 NULL, 0, NULL, NULL, NULL), STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption, 999,
			 WSK_IPPROTO_TCP, sizeof(one), &one, 0, NULL, NULL,
			 NULL), STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, &b, 0, &r),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, sizeof(data));
	ck_assert_uint_eq(srv_len, sizeof(data));
	close_sock(so);
}
END_TEST

static uint64_t
keepalive_probes_sent(void)
{
	return pair_stat(cli, "tcp_keepalive_probes");
}

static void
set_u32(WSK_SOCKET *so, uint32_t level, uint32_t code, uint32_t v,
	NTSTATUS want)
{
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption, code,
			 level, sizeof(v), &v, 0, NULL, NULL, NULL), want);
}

static uint32_t
get_u32(WSK_SOCKET *so, uint32_t level, uint32_t code)
{
	uint32_t v = 12345;

	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption, code,
			 level, 0, NULL, sizeof(v), &v, NULL, NULL),
			 STATUS_SUCCESS);
	return v;
}

/* SO_KEEPALIVE, TCP_KEEPALIVE (idle s), TCP_KEEPINTVL (s) and TCP_KEEPCNT
 * are stored, read back and checked; set before connect they reach the
 * connection, and SO_KEEPALIVE 0 on a connected socket stops probing. */
START_TEST(test_control_socket_keepalive_options_reach_the_connection)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(3);

	ck_assert_uint_eq(get_u32(so, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE), 0);
	ck_assert_uint_eq(get_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE), 0);
	set_u32(so, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE, 1, STATUS_SUCCESS);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE, 10, STATUS_SUCCESS);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPINTVL, 2, STATUS_SUCCESS);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPCNT, 3, STATUS_SUCCESS);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPCNT, 256,
		STATUS_INVALID_PARAMETER);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE, 0,
		STATUS_INVALID_PARAMETER);
	set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPINTVL, 32768,
		STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(get_u32(so, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE), 1);
	ck_assert_uint_eq(get_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE), 10);
	ck_assert_uint_eq(get_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPINTVL), 2);
	ck_assert_uint_eq(get_u32(so, WSK_IPPROTO_TCP, WSK_TCP_KEEPCNT), 3);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	for (int i = 0; i < 90; i++)
		advance(100000);
	ck_assert_uint_eq(keepalive_probes_sent(), 0);
	for (int i = 0; i < 20; i++)
		advance(100000);
	ck_assert_uint_eq(keepalive_probes_sent(), 1);
	set_u32(so, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE, 0, STATUS_SUCCESS);
	for (int i = 0; i < 60; i++)
		advance(1000000);
	ck_assert_uint_eq(keepalive_probes_sent(), 1);
	close_sock(so);
}
END_TEST

/* --- conformance ------------------------------------------------------------ */

START_TEST(test_connect_ex_while_connecting_or_connected_returns_connection_active)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7), r2 = rq(8);

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r2),
			 STATUS_CONNECTION_ACTIVE);
	ck_assert_uint_eq(wait_one().user_data, 7);
	ck_assert_int_eq(so->connection->connect(so,
			 (struct sockaddr *)&server_addr, 0, &r2),
			 STATUS_CONNECTION_ACTIVE);
	expect_nothing_posted();
	close_sock(so);
}
END_TEST

START_TEST(test_connect_ex_on_wrong_category_returns_invalid_device_state)
{
	WSK_SOCKET *conn = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	WSK_SOCKET *basic = mk_sock(WSK_FLAG_BASIC_SOCKET);
	WSK_SOCKET *lis = mk_sock(WSK_FLAG_LISTEN_SOCKET);
	struct wsk_request r = rq(7);
	struct sockaddr_in any = { .sin_family = AF_INET };

	/* A call through another category's table is still checked. */
	ck_assert_int_eq(conn->connection->connect_ex(basic,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(lis->listen->bind(lis, (struct sockaddr *)&any, 0,
					   &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(conn->connection->connect_ex(lis,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(conn->connection->bind(basic,
			 (struct sockaddr *)&any, 0, &r),
			 STATUS_INVALID_DEVICE_STATE);
	poll_ms(10);
	expect_nothing_posted();
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(conn);
	close_sock(basic);
	close_sock(lis);
}
END_TEST

START_TEST(test_connect_ex_null_arguments_return_invalid_parameter)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7), nocq = { .cq = NULL, .user_data = 1 };
	WSK_BUF nullmdl = { .mdl = NULL, .length = 5 };
	uint8_t small[4];
	struct wsk_mdl m = { .va = small, .len = sizeof(small) };
	WSK_BUF shortchain = { .mdl = &m, .offset = 2, .length = 3 };
	const WSK_PROVIDER_CONNECTION_DISPATCH *d = so->connection;

	ck_assert_int_eq(d->connect_ex(NULL, (struct sockaddr *)&server_addr,
			 NULL, 0, &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->connect_ex(so, NULL, NULL, 0, &r),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->connect_ex(so, (struct sockaddr *)&server_addr,
			 NULL, 0, NULL), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->connect_ex(so, (struct sockaddr *)&server_addr,
			 NULL, 0, &nocq), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->connect_ex(so, (struct sockaddr *)&server_addr,
			 &nullmdl, 0, &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->connect_ex(so, (struct sockaddr *)&server_addr,
			 &shortchain, 0, &r), STATUS_INVALID_PARAMETER);
	poll_ms(10);
	expect_nothing_posted();
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(so);
}
END_TEST

START_TEST(test_connect_ex_to_non_inet_address_returns_invalid_address_component)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(SERVER_PORT) };
	struct sockaddr_in zero = sin_of(SERVER_IP, 0);
	struct wsk_request r = rq(7);

	ck_assert_int_eq(so->connection->connect_ex(so, (struct sockaddr *)&a6,
			 NULL, 0, &r), STATUS_INVALID_ADDRESS_COMPONENT);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&zero, NULL, 0, &r),
			 STATUS_INVALID_ADDRESS_COMPONENT);
	expect_nothing_posted();
	close_sock(so);
}
END_TEST

/* WSK.md 2.3 rule 3: a ring that cannot promise a slot refuses. */
START_TEST(test_connect_ex_with_full_ring_returns_insufficient_resources)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_cq *tiny = wsk_cq_create("tiny", 1, 0, SOCKET_ID_ANY);
	struct wsk_request t = { .cq = tiny, .user_data = 1 };
	struct sockaddr_in out;

	ck_assert_ptr_nonnull(tiny);
	ck_assert_int_eq(so->connection->get_local_address(so,
			 (struct sockaddr *)&out, &t), STATUS_SUCCESS);
	ck_assert_uint_eq(wsk_cq_ready(tiny), 1);
	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &t),
			 STATUS_INSUFFICIENT_RESOURCES);
	poll_ms(10);
	ck_assert_uint_eq(wsk_cq_ready(tiny), 1);
	ck_assert_uint_eq(srv_nconns, 0);
	close_sock(so);
	wsk_cq_free(tiny);
}
END_TEST

START_TEST(test_socket_rejects_datagram_other_families_and_bad_flags)
{
	struct wsk_request r = rq(1);
	WSK_SOCKET *so = NULL;

	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			 WSK_FLAG_DATAGRAM_SOCKET, NULL, &so, &r),
			 STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(wsk_socket(wc, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
			 WSK_FLAG_CONNECTION_SOCKET, NULL, &so, &r),
			 STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_DGRAM, 0,
			 WSK_FLAG_CONNECTION_SOCKET, NULL, &so, &r),
			 STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			 WSK_FLAG_CONNECTION_SOCKET | WSK_FLAG_STREAM_SOCKET,
			 NULL, &so, &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			 WSK_FLAG_CONNECTION_SOCKET, NULL, &so, NULL),
			 STATUS_INVALID_PARAMETER);
	ck_assert_ptr_null(so);
	expect_nothing_posted();
}
END_TEST

START_TEST(test_bind_twice_returns_address_already_associated)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct wsk_request r = rq(7);

	ck_assert_int_eq(so->connection->bind(so, (struct sockaddr *)&any, 0,
			 &r), STATUS_ADDRESS_ALREADY_ASSOCIATED);
	ck_assert_int_eq(so->connection->bind(so, (struct sockaddr *)&any, 1,
			 &r), STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	close_sock(so);
}
END_TEST

START_TEST(test_bind_port_in_use_returns_sharing_violation_unless_reuseaddr)
{
	WSK_SOCKET *a = mk_sock(WSK_FLAG_CONNECTION_SOCKET);
	WSK_SOCKET *b = mk_sock(WSK_FLAG_CONNECTION_SOCKET);
	struct sockaddr_in p = sin_of(CLIENT_IP, 5000), out;
	struct wsk_request r = rq(7);
	uint32_t one = 1;

	ck_assert_int_eq(a->connection->bind(a, (struct sockaddr *)&p, 0, &r),
			 STATUS_SUCCESS);
	reap_one();
	ck_assert_int_eq(b->connection->bind(b, (struct sockaddr *)&p, 0, &r),
			 STATUS_SHARING_VIOLATION);
	expect_nothing_posted();
	ck_assert_int_eq(a->basic->control_socket(a, WskSetOption,
			 WSK_SO_REUSEADDR, WSK_SOL_SOCKET, sizeof(one), &one, 0,
			 NULL, NULL, NULL), STATUS_SUCCESS);
	ck_assert_int_eq(b->basic->control_socket(b, WskSetOption,
			 WSK_SO_REUSEADDR, WSK_SOL_SOCKET, sizeof(one), &one, 0,
			 NULL, NULL, NULL), STATUS_SUCCESS);
	ck_assert_int_eq(b->connection->bind(b, (struct sockaddr *)&p, 0, &r),
			 STATUS_SUCCESS);
	reap_one();
	ck_assert_int_eq(b->connection->get_local_address(b,
			 (struct sockaddr *)&out, &r), STATUS_SUCCESS);
	reap_one();
	ck_assert_uint_eq(out.sin_port, htons(5000));
	close_sock(a);
	close_sock(b);
}
END_TEST

START_TEST(test_addresses_need_bind_and_connection)
{
	WSK_SOCKET *so = mk_sock(WSK_FLAG_CONNECTION_SOCKET);
	struct sockaddr_in any = { .sin_family = AF_INET }, out;
	struct wsk_request r = rq(7);
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->get_local_address(so,
			 (struct sockaddr *)&out, &r),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(so->connection->get_remote_address(so,
			 (struct sockaddr *)&out, &r),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(so->connection->get_local_address(so, NULL, &r),
			 STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	ck_assert_int_eq(so->connection->bind(so, (struct sockaddr *)&any, 0,
			 &r), STATUS_SUCCESS);
	reap_one();
	server_addr = sin_of(SERVER_IP, SERVER_PORT);
	ck_assert_int_eq(so->connection->connect(so,
			 (struct sockaddr *)&server_addr, 0, &r), STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(so->connection->get_remote_address(so,
			 (struct sockaddr *)&out, &r), STATUS_SUCCESS);
	e = reap_one();
	ck_assert_uint_eq(e.information, sizeof(out));
	ck_assert_uint_eq(out.sin_family, AF_INET);
	ck_assert_uint_eq(out.sin_port, htons(SERVER_PORT));
	ck_assert_uint_eq(out.sin_addr.s_addr, server_addr.sin_addr.s_addr);
	ck_assert_int_eq(so->connection->get_local_address(so,
			 (struct sockaddr *)&out, &r), STATUS_SUCCESS);
	reap_one();
	ck_assert_uint_eq(out.sin_addr.s_addr, inet_addr(CLIENT_IP));
	ck_assert_uint_ge(ntohs(out.sin_port), 32768);
	close_sock(so);
}
END_TEST

/* WSK.md 2.3 rule 2: cancelled requests complete before the close. */
START_TEST(test_close_cancels_pending_connect_before_its_own_completion)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7), c = rq(8);
	struct wsk_completion *e[2];

	ck_assert_int_eq(so->connection->connect_ex(so,
			 (struct sockaddr *)&server_addr, NULL, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(so->basic->close_socket(so, &c), STATUS_SUCCESS);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, e, 2), 2);
	ck_assert_uint_eq(e[0]->user_data, 7);
	ck_assert_int_eq(e[0]->status, STATUS_CANCELLED);
	ck_assert_uint_eq(e[1]->user_data, 8);
	ck_assert_int_eq(e[1]->status, STATUS_SUCCESS);
	wsk_cq_advance(cq, 2);
	poll_ms(20);
	expect_nothing_posted();
}
END_TEST

START_TEST(test_double_close_returns_invalid_parameter_and_posts_nothing)
{
	WSK_SOCKET *so = mk_sock(WSK_FLAG_CONNECTION_SOCKET);
	struct wsk_request r = rq(7);
	PFN_WSK_CLOSE_SOCKET close_fn = so->basic->close_socket;

	close_sock(so);
	ck_assert_int_eq(close_fn(so, &r), STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
}
END_TEST

START_TEST(test_calls_after_close_return_invalid_parameter)
{
	WSK_SOCKET *so = bound_conn(WSK_FLAG_CONNECTION_SOCKET);
	const WSK_PROVIDER_CONNECTION_DISPATCH *d = so->connection;
	struct wsk_request r = rq(7);
	struct sockaddr_in out;

	close_sock(so);
	ck_assert_int_eq(d->connect_ex(so, (struct sockaddr *)&server_addr,
			 NULL, 0, &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->get_local_address(so, (struct sockaddr *)&out,
			 &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->basic.control_socket(so, WskGetOption,
			 WSK_TCP_NODELAY, WSK_IPPROTO_TCP, 0, NULL,
			 sizeof(uint32_t), &out, NULL, NULL),
			 STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
}
END_TEST

/* send completes when all its bytes are acknowledged; receive completes
 * with the bytes copied, then 0 bytes at the peer's FIN. */
START_TEST(test_send_and_receive_on_connected_socket)
{
	WSK_SOCKET *so = connected_sock();
	static uint8_t out[20000];
	uint8_t in[64];
	struct wsk_mdl mo = { .va = out, .len = sizeof(out) };
	struct wsk_mdl mi = { .va = in, .len = sizeof(in) };
	WSK_BUF bo = { .mdl = &mo, .length = sizeof(out) };
	WSK_BUF bi = { .mdl = &mi, .length = sizeof(in) };
	struct wsk_request s1 = rq(11), s2 = rq(12), rv = rq(13);
	struct wsk_completion *e[2], c;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = byte_at(i);
	ck_assert_int_eq(so->connection->send(so, &bo, 0, &s1), STATUS_PENDING);
	ck_assert_int_eq(so->connection->send(so, &bo, WSK_FLAG_NODELAY, &s2),
			 STATUS_PENDING);
	ck_assert_int_eq(so->connection->send(so, &bo, 0x100, &s2),
			 STATUS_NOT_SUPPORTED);
	for (int i = 0; i < 200 && wsk_cq_ready(cq) < 2; i++)
		poll_ms(1);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, e, 2), 2);
	ck_assert_uint_eq(e[0]->user_data, 11);
	ck_assert_uint_eq(e[0]->information, sizeof(out));
	ck_assert_uint_eq(e[1]->user_data, 12);
	ck_assert_uint_eq(e[1]->information, sizeof(out));
	wsk_cq_advance(cq, 2);
	ck_assert_uint_eq(srv_len, 2 * sizeof(out));
	ck_assert(memcmp(srv_data + sizeof(out), out, sizeof(out)) == 0);

	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &rv),
			 STATUS_PENDING);
	ck_assert_int_eq(tcp_send(srv_conns[0], "hello", 5), 5);
	c = wait_one();
	ck_assert_int_eq(c.status, STATUS_SUCCESS);
	ck_assert_uint_eq(c.information, 5);
	ck_assert(memcmp(in, "hello", 5) == 0);
	ck_assert_int_eq(tcp_shutdown(srv_conns[0]), 0);
	poll_ms(5);
	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &rv),
			 STATUS_SUCCESS);
	c = reap_one();
	ck_assert_int_eq(c.status, STATUS_SUCCESS);
	ck_assert_uint_eq(c.information, 0);
	close_sock(so);
}
END_TEST

/* A reset after the handshake fails a pending receive with
 * STATUS_CONNECTION_RESET and kills the socket. */
START_TEST(test_reset_fails_pending_receive_with_connection_reset)
{
	WSK_SOCKET *so = connected_sock();
	uint8_t in[16];
	struct wsk_mdl mi = { .va = in, .len = sizeof(in) };
	WSK_BUF bi = { .mdl = &mi, .length = sizeof(in) };
	struct wsk_request rv = rq(13);
	struct wsk_completion c;

	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &rv),
			 STATUS_PENDING);
	tcp_abort(srv_conns[0]);
	c = wait_one();
	ck_assert_uint_eq(c.user_data, 13);
	ck_assert_int_eq(c.status, STATUS_CONNECTION_RESET);
	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &rv),
			 STATUS_FILE_FORCED_CLOSED);
	ck_assert_int_eq(reap_one().status, STATUS_FILE_FORCED_CLOSED);
	close_sock(so);
}
END_TEST

static Suite *
wsk_api_suite(void)
{
	Suite *s = suite_create("wsk_api");
	TCase *seed = tcase_create("connect_ex_page");
	TCase *conf = tcase_create("conformance");

	tcase_add_checked_fixture(seed, setup, teardown);
	tcase_add_test(seed, test_connect_ex_returns_pending_and_completes_once_connected);
	tcase_add_test(seed, test_connect_ex_flags_nonzero_returns_invalid_parameter_and_posts_nothing);
	tcase_add_test(seed, test_connect_ex_buffer_over_65535_returns_buffer_overflow);
	tcase_add_test(seed, test_connect_ex_buffer_of_exactly_65535_is_sent_in_full);
	tcase_add_test(seed, test_connect_ex_on_unbound_socket_fails_without_completion);
	tcase_add_test(seed, test_connect_ex_with_buffer_completes_with_bytes_sent);
	tcase_add_test(seed, test_connect_ex_refused_completes_with_connection_refused);
	tcase_add_test(seed, test_stream_socket_refuses_listen_after_connect_ex);
	tcase_add_test(seed, test_listening_stream_socket_refuses_connect_ex);
	tcase_add_test(seed, test_dead_socket_returns_file_forced_closed_until_closed);
	tcase_add_test(seed, test_caller_may_reuse_buffer_after_completion);
	tcase_add_test(seed, test_control_socket_stores_tcp_fastopen_and_nodelay);
	tcase_add_test(seed, test_control_socket_keepalive_options_reach_the_connection);
	suite_add_tcase(s, seed);

	tcase_add_checked_fixture(conf, setup, teardown);
	tcase_add_test(conf, test_connect_ex_while_connecting_or_connected_returns_connection_active);
	tcase_add_test(conf, test_connect_ex_on_wrong_category_returns_invalid_device_state);
	tcase_add_test(conf, test_connect_ex_null_arguments_return_invalid_parameter);
	tcase_add_test(conf, test_connect_ex_to_non_inet_address_returns_invalid_address_component);
	tcase_add_test(conf, test_connect_ex_with_full_ring_returns_insufficient_resources);
	tcase_add_test(conf, test_socket_rejects_datagram_other_families_and_bad_flags);
	tcase_add_test(conf, test_bind_twice_returns_address_already_associated);
	tcase_add_test(conf, test_bind_port_in_use_returns_sharing_violation_unless_reuseaddr);
	tcase_add_test(conf, test_addresses_need_bind_and_connection);
	tcase_add_test(conf, test_close_cancels_pending_connect_before_its_own_completion);
	tcase_add_test(conf, test_double_close_returns_invalid_parameter_and_posts_nothing);
	tcase_add_test(conf, test_calls_after_close_return_invalid_parameter);
	tcase_add_test(conf, test_send_and_receive_on_connected_socket);
	tcase_add_test(conf, test_reset_fails_pending_receive_with_connection_reset);
	suite_add_tcase(s, conf);
	return s;
}

int
main(void)
{
	return test_run_suite(wsk_api_suite()) == 0 ? EXIT_SUCCESS
						     : EXIT_FAILURE;
}
