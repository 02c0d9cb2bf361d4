/*
 * control_socket's SO_SNDBUF, SO_RCVBUF and TCP_MAXSEG (wsk.h): what a
 * get returns, every refusal and its status, and what each option does on
 * the wire set before connect, on a connected socket and on a listening
 * socket whose accepted connections inherit it.
 *
 * A wskapi client on the client engine (10.0.0.1) of the two-engine
 * fixture (tcp_pair.h); the server engine (10.0.0.2) is driven directly:
 * it listens on SERVER_PORT (tl, the accepted connection in tsrv) or
 * connects to a wskapi listener. A wire log (wire_log.h) records every
 * segment both engines send. The teardown closes everything, waits out
 * TIME_WAIT and proves that no connection and no mbuf was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_tcp.h>

#include "engine.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "tcp_seq.h"
#include "test_eal.h"
#include "wire_log.h"
#include "wsk.h"
#include "wsk_ring.h"

#define WSCALE		7	/* tcp_conf.wscale's default */
#define PORT_MSS	1460	/* MTU 1500 less 40 */
#define TS_BYTES	12	/* NOP NOP TS on every segment */
#define DEF_BUF		(256u * 1024)	/* tcp_conf's buffers */
#define CLOSED_PORT	9	/* nobody listens there */

static struct wire_log wl;
static uint8_t out[300000];
/* The server engine's connections to wskapi listeners. File-scope: its
 * upcalls write through the user pointer until the teardown, also after
 * a failed assertion has left the test. */
static struct tconn t[3];

static void
setup(void)
{
	setup_pair();
	wire_log_start(&wl, &fpc, &fps);
	wsk_client_start(16, 64, 64);
	memset(t, 0, sizeof(t));
	server_listen();
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = pattern(i, 21);
}

static void
teardown(void)
{
	wsk_client_stop();
	server_close();
	wire_log_stop(&fpc, &fps);
	teardown_common();
}

/* --- helpers --------------------------------------------------------------- */

static struct wsk_completion
wait_one(void)
{
	return wait_one_by(step_wc, 5000);
}

static NTSTATUS
set_u32(WSK_SOCKET *so, uint32_t level, uint32_t code, uint32_t v)
{
	return so->basic->control_socket(so, WskSetOption, code, level,
					 sizeof(v), &v, 0, NULL, NULL, NULL);
}

static uint32_t
get_u32(WSK_SOCKET *so, uint32_t level, uint32_t code)
{
	uint32_t v = 0xdeadbeef;
	size_t n = 0;

	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption, code,
			 level, 0, NULL, sizeof(v), &v, &n, NULL),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(n, sizeof(v));
	return v;
}

/* SO_SNDBUF, SO_RCVBUF and TCP_MAXSEG, in that order; each must be
 * taken. */
static void
set_sizes(WSK_SOCKET *so, uint32_t sndbuf, uint32_t rcvbuf, uint32_t maxseg)
{
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_SNDBUF, sndbuf),
			 STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_RCVBUF, rcvbuf),
			 STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, maxseg),
			 STATUS_SUCCESS);
}

#define SNDBUF(so)	get_u32((so), WSK_SOL_SOCKET, WSK_SO_SNDBUF)
#define RCVBUF(so)	get_u32((so), WSK_SOL_SOCKET, WSK_SO_RCVBUF)
#define MAXSEG(so)	get_u32((so), WSK_IPPROTO_TCP, WSK_TCP_MAXSEG)

/* Send-backlog events of the socket made by event_sock(). */
static size_t backlog_last;
static unsigned backlog_calls;

static NTSTATUS
on_backlog(void *ctx, size_t ideal)
{
	(void)ctx;
	backlog_last = ideal;
	backlog_calls++;
	return STATUS_SUCCESS;
}

static const WSK_CLIENT_CONNECTION_DISPATCH backlog_dispatch = {
	.send_backlog_event = on_backlog,
};

/* A socket of 'category' bound to any address and 'port' (0: ephemeral);
 * with_events: a connection socket with the send-backlog event on. */
static WSK_SOCKET *
bound_sock(uint32_t category, uint16_t port, bool with_events)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	struct wsk_request r = rq(1);
	WSK_SOCKET *so = NULL;

	ck_assert_int_eq(wsk_socket_ex(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			 category, NULL, with_events ? &backlog_dispatch : NULL,
			 &so, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	if (with_events)
		ck_assert_int_eq(enable_events(so, WSK_EVENT_SEND_BACKLOG),
				 STATUS_SUCCESS);
	if (category == WSK_FLAG_BASIC_SOCKET)
		return so;
	r = rq(2);
	ck_assert_int_eq((category == WSK_FLAG_STREAM_SOCKET ? so->stream->bind
			  : category == WSK_FLAG_LISTEN_SOCKET ? so->listen->bind
			  : so->connection->bind)(so, (struct sockaddr *)&any,
						  0, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	return so;
}

static struct sockaddr_in
server_addr(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	a.sin_addr.s_addr = ip(SERVER_IP);
	return a;
}

/* connect_ex to the server engine (buf may be NULL); returns the status
 * of the call, STATUS_PENDING expected. */
static NTSTATUS
start_connect(WSK_SOCKET *so, uint16_t port, const WSK_BUF *buf)
{
	struct sockaddr_in to = server_addr(port);
	struct wsk_request r = rq(3);

	return so->connection->connect_ex(so, (struct sockaddr *)&to, buf, 0,
					  &r);
}

/* After a successful connect: the server engine's side in tsrv. */
static void
server_accept(void)
{
	for (int i = 0; i < 10 && tl.ready == 0; i++)
		step_wc();
	ck_assert_uint_eq(tl.ready, 1);
	tsrv.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(tsrv.c);
	tcp_conn_set_user(tsrv.c, &tsrv);
}

static WSK_SOCKET *
connected_sock(bool with_events)
{
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, with_events);

	ck_assert_int_eq(start_connect(so, SERVER_PORT, NULL), STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	server_accept();
	return so;
}

static NTSTATUS
send_out(WSK_SOCKET *so, uint32_t from, uint32_t len, struct wsk_mdl *m,
	 WSK_BUF *b, uint64_t user_data)
{
	struct wsk_request r = rq(user_data);

	*m = (struct wsk_mdl){ .va = out + from, .len = len };
	*b = (WSK_BUF){ .mdl = m, .length = len };
	return so->connection->send(so, b, 0, &r);
}

/* Read what c holds, checking it continues the pattern at *got. */
static void
recv_check(struct tcp_conn *c, uint32_t *got)
{
	static uint8_t in[16384];
	uint32_t k;

	while ((k = tcp_recv(c, in, sizeof(in))) > 0) {
		for (uint32_t i = 0; i < k; i++)
			if (in[i] != out[*got + i])
				ck_abort_msg("byte %u differs", *got + i);
		*got += k;
	}
}

/* Step, the server reading (recv_check()), until it has read up to
 * stream position 'total' and a completion waits (at most 20000 passes):
 * that completion, the send of the last 'len' bytes, succeeded. */
static void
send_done(uint32_t *got, uint32_t total, uint64_t len)
{
	struct wsk_completion e;

	for (int i = 0; i < 20000 && (*got < total || wsk_cq_ready(cq) == 0);
	     i++) {
		step_wc();
		recv_check(tsrv.c, got);
	}
	e = reap_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, len);
	ck_assert_uint_eq(*got, total);
}

/* The first segment from the client (b false) or server with exactly
 * 'flags', at log index 'from' or later. */
static const struct wire_frame *
find(unsigned from, bool b, uint8_t flags)
{
	for (unsigned i = from; i < wl.n; i++)
		if (wl.f[i].from_b == b && wl.f[i].flags == flags)
			return &wl.f[i];
	ck_abort_msg("no segment with flags %#x", flags);
	return NULL;
}

/* The largest payload one side sent, each checked against 'limit'. */
static uint32_t
max_payload(bool b, uint32_t limit)
{
	uint32_t max = 0;

	ck_assert_uint_eq(wl.overflow, 0);
	for (unsigned i = 0; i < wl.n; i++) {
		if (wl.f[i].from_b != b)
			continue;
		ck_assert_uint_le(wl.f[i].len, limit);
		max = RTE_MAX(max, wl.f[i].len);
	}
	return max;
}

/* The latest acknowledgment the server engine has sent. */
static uint32_t
server_ack(void)
{
	uint32_t ack = 0;
	bool any = false;

	for (unsigned i = 0; i < wl.n; i++)
		if (wl.f[i].from_b && (wl.f[i].flags & RTE_TCP_ACK_FLAG) &&
		    (!any || tcp_seq_gt(wl.f[i].ack, ack))) {
			ack = wl.f[i].ack;
			any = true;
		}
	ck_assert(any);
	return ack;
}

/* Bytes the client had sent beyond the server's latest acknowledgment,
 * for its data segments from log index 'from' on: the largest, and (when
 * limit != 0) a check that every segment ending after sequence 'past'
 * stayed within 'limit', counted in *checked. The send queue holds what
 * is unacknowledged, so this never exceeds the send buffer. */
static uint32_t
in_flight(unsigned from, uint32_t past, uint32_t limit, unsigned *checked)
{
	uint32_t ack = 0, max = 0;
	bool any = false;

	ck_assert_uint_eq(wl.overflow, 0);
	for (unsigned i = 0; i < wl.n; i++) {
		const struct wire_frame *f = &wl.f[i];
		uint32_t end = f->seq + f->len;

		if (f->from_b) {
			if ((f->flags & RTE_TCP_ACK_FLAG) &&
			    (!any || tcp_seq_gt(f->ack, ack)))
				ack = f->ack;
			any = any || (f->flags & RTE_TCP_ACK_FLAG);
			continue;
		}
		if (i < from || f->len == 0 || !any ||
		    (f->flags & RTE_TCP_SYN_FLAG))
			continue;
		max = RTE_MAX(max, end - ack);
		if (limit != 0 && tcp_seq_gt(end, past)) {
			ck_assert_uint_le(end - ack, limit);
			(*checked)++;
		}
	}
	return max;
}

/* --- values and refusals ----------------------------------------------------- */

START_TEST(test_sockopt_gets_defaults_and_refuses_bad_values_lengths_levels)
{
	static const struct { uint32_t level, code, v; } bad[] = {
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, 0 },
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, TCP_BUF_MIN - 1 },
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, TCP_BUF_MAX + 1 },
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, UINT32_MAX },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, 0 },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, TCP_BUF_MIN - 1 },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, TCP_BUF_MAX + 1 },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, UINT32_MAX },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, TCP_MSS_MIN - 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, TCP_MSS_MAX + 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, UINT32_MAX },
	};
	/* In order: the last of each option stays set. */
	static const struct { uint32_t level, code, v; } limits[] = {
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, TCP_BUF_MIN },
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF, TCP_BUF_MAX },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, TCP_BUF_MIN },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF, TCP_BUF_MAX },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, TCP_MSS_MIN },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, TCP_MSS_MAX },
	};
	static const struct { uint32_t level, code; } opts[] = {
		{ WSK_SOL_SOCKET, WSK_SO_SNDBUF },
		{ WSK_SOL_SOCKET, WSK_SO_RCVBUF },
		{ WSK_IPPROTO_TCP, WSK_TCP_MAXSEG },
	};
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, false);
	struct wsk_request r = rq(5);
	struct wsk_completion e;
	struct wsk_cq *small;
	uint32_t v = 0;
	size_t n = 0;

	/* Unset: what a connection would get. */
	ck_assert_uint_eq(SNDBUF(so), DEF_BUF);
	ck_assert_uint_eq(RCVBUF(so), DEF_BUF);
	ck_assert_uint_eq(MAXSEG(so), PORT_MSS);
	/* With a request: the completion carries the 4 bytes written. */
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_SO_SNDBUF, WSK_SOL_SOCKET, 0, NULL, sizeof(v), &v,
			 &n, &r), STATUS_SUCCESS);
	e = reap_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, sizeof(v));
	ck_assert_uint_eq(e.user_data, 5);
	ck_assert_uint_eq(v, DEF_BUF);
	ck_assert_uint_eq(n, sizeof(v));
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_MAXSEG, WSK_IPPROTO_TCP, sizeof(v),
			 &(uint32_t){ 1000 }, 0, NULL, NULL, &r),
			 STATUS_SUCCESS);
	e = reap_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 0);
	ck_assert_uint_eq(MAXSEG(so), 1000);

	/* Out of range: refused, nothing posted, nothing changed. */
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 bad[i].code, bad[i].level, sizeof(bad[i].v),
				 &bad[i].v, 0, NULL, NULL, &r),
				 STATUS_INVALID_PARAMETER);
		ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	}
	ck_assert_uint_eq(SNDBUF(so), DEF_BUF);
	ck_assert_uint_eq(RCVBUF(so), DEF_BUF);
	ck_assert_uint_eq(MAXSEG(so), 1000);
	/* The limits themselves are taken; TCP_MAXSEG 0 removes the clamp. */
	for (unsigned i = 0; i < RTE_DIM(limits); i++) {
		ck_assert_int_eq(set_u32(so, limits[i].level, limits[i].code,
					 limits[i].v), STATUS_SUCCESS);
		ck_assert_uint_eq(get_u32(so, limits[i].level, limits[i].code),
				  limits[i].v);
	}
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 0),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(MAXSEG(so), PORT_MSS);

	/* Lengths and buffers, for each option. */
	for (unsigned i = 0; i < RTE_DIM(opts); i++) {
		v = 4096;
		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 opts[i].code, opts[i].level, 3, &v, 0, NULL,
				 NULL, &r), STATUS_INVALID_PARAMETER);
		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 opts[i].code, opts[i].level, sizeof(v), NULL,
				 0, NULL, NULL, &r), STATUS_INVALID_PARAMETER);
		ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
				 opts[i].code, opts[i].level, 0, NULL, 3, &v,
				 NULL, &r), STATUS_INVALID_PARAMETER);
		ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
				 opts[i].code, opts[i].level, 0, NULL,
				 sizeof(v), NULL, NULL, &r),
				 STATUS_INVALID_PARAMETER);
		ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	}
	ck_assert_uint_eq(RCVBUF(so), TCP_BUF_MAX);
	/* The buffer codes at the TCP level are nobody's options. */
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_SO_SNDBUF, 4096),
			 STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_SO_RCVBUF, 4096),
			 STATUS_NOT_SUPPORTED);
	ck_assert_uint_eq(SNDBUF(so), TCP_BUF_MAX);

	/* No room for the completion: refused, nothing changed. */
	small = wsk_cq_create("sockopt_small", 1, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(small);
	r.cq = small;
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_SO_RCVBUF, WSK_SOL_SOCKET, 0, NULL, sizeof(v), &v,
			 NULL, &r), STATUS_SUCCESS);
	for (unsigned i = 0; i < RTE_DIM(opts); i++) {
		v = 8192;
		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 opts[i].code, opts[i].level, sizeof(v), &v, 0,
				 NULL, NULL, &r),
				 STATUS_INSUFFICIENT_RESOURCES);
		ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
				 opts[i].code, opts[i].level, 0, NULL,
				 sizeof(v), &v, NULL, &r),
				 STATUS_INSUFFICIENT_RESOURCES);
	}
	wsk_cq_free(small);
	ck_assert_uint_eq(SNDBUF(so), TCP_BUF_MAX);
	ck_assert_uint_eq(RCVBUF(so), TCP_BUF_MAX);
	ck_assert_uint_eq(MAXSEG(so), PORT_MSS);

	/* A dead socket (its connect refused) answers FILE_FORCED_CLOSED. */
	ck_assert_int_eq(start_connect(so, CLOSED_PORT, NULL), STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_CONNECTION_REFUSED);
	for (unsigned i = 0; i < RTE_DIM(opts); i++) {
		ck_assert_int_eq(set_u32(so, opts[i].level, opts[i].code,
					 4096), STATUS_FILE_FORCED_CLOSED);
		ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
				 opts[i].code, opts[i].level, 0, NULL,
				 sizeof(v), &v, NULL, NULL),
				 STATUS_FILE_FORCED_CLOSED);
	}
	close_sock(so);
}
END_TEST

/* --- before connect ------------------------------------------------------- */

/* Set before connect: the SYN carries the clamp and the receive buffer as
 * its window, the MSS can no longer change, the gets return what the
 * connection uses, the peer's and our segments stay within the clamp, and
 * the send buffer bounds the bytes in flight. */
/* The older options too: a set refused for want of completion room
 * leaves the socket as it was. */
START_TEST(test_sockopt_set_without_ring_room_changes_nothing)
{
	static const struct { uint32_t level, code, v; } opts[] = {
		{ WSK_SOL_SOCKET, WSK_SO_REUSEADDR, 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_NODELAY, 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_FASTOPEN, 1 },
		{ WSK_SOL_SOCKET, WSK_SO_KEEPALIVE, 1 },
		{ WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE, 7 },
		{ WSK_IPPROTO_TCP, WSK_TCP_KEEPINTVL, 3 },
		{ WSK_IPPROTO_TCP, WSK_TCP_KEEPCNT, 4 },
	};
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, false);
	struct wsk_request r = rq(6);
	struct wsk_cq *small = wsk_cq_create("sockopt_full", 1, 0, SOCKET_ID_ANY);

	ck_assert_ptr_nonnull(small);
	r.cq = small;
	/* Fill the one-entry ring. */
	ck_assert_uint_eq(get_u32(so, WSK_SOL_SOCKET, WSK_SO_REUSEADDR), 0);
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_SO_REUSEADDR, WSK_SOL_SOCKET, 0, NULL, 0, NULL,
			 NULL, NULL), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_NODELAY, 0),
			 STATUS_SUCCESS);
	{
		uint32_t v = 0;

		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 WSK_TCP_NODELAY, WSK_IPPROTO_TCP, sizeof(v),
				 &v, 0, NULL, NULL, &r), STATUS_SUCCESS);
	}
	for (unsigned i = 0; i < RTE_DIM(opts); i++) {
		uint32_t v = opts[i].v;

		ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
				 opts[i].code, opts[i].level, sizeof(v), &v, 0,
				 NULL, NULL, &r), STATUS_INSUFFICIENT_RESOURCES);
		ck_assert_uint_eq(get_u32(so, opts[i].level, opts[i].code), 0);
	}
	wsk_cq_free(small);
	close_sock(so);
}
END_TEST

START_TEST(test_sockopt_set_before_connect_reaches_the_connection_and_wire)
{
	const uint32_t total = 200000;
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, false);
	struct wsk_request r = rq(6);
	const struct wire_frame *syn;
	struct wsk_mdl m;
	WSK_BUF b;
	uint32_t got = 0, v = 600, flight;

	set_sizes(so, 8192, 4096, 500);
	ck_assert_int_eq(start_connect(so, SERVER_PORT, NULL), STATUS_PENDING);
	/* Connecting: the SYN advertised the clamp; too late to change. */
	ck_assert_uint_eq(MAXSEG(so), 500);
	ck_assert_uint_eq(SNDBUF(so), 8192);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_TCP_MAXSEG, WSK_IPPROTO_TCP, sizeof(v), &v, 0,
			 NULL, NULL, &r), STATUS_INVALID_DEVICE_STATE);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	server_accept();
	syn = find(0, false, RTE_TCP_SYN_FLAG);
	ck_assert_uint_eq(syn->mss, 500);
	ck_assert_uint_eq(syn->win, 4096);
	/* Connected: the values in use. */
	ck_assert_uint_eq(SNDBUF(so), 8192);
	ck_assert_uint_eq(RCVBUF(so), 4096);
	ck_assert_uint_eq(MAXSEG(so), 500 - TS_BYTES);
	ck_assert_uint_eq(tcp_maxseg(tsrv.c), 500 - TS_BYTES);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 600),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 0),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_uint_eq(MAXSEG(so), 500 - TS_BYTES);

	/* One large send: the server reads as it comes, every byte. */
	ck_assert_int_eq(send_out(so, 0, total, &m, &b, 7), STATUS_PENDING);
	send_done(&got, total, total);
	/* The server's segments, unread by the client: the clamp too. */
	ck_assert_int_eq(tcp_send(tsrv.c, out, 3000), 3000);
	for (int i = 0; i < 20; i++)
		step_wc();
	ck_assert_uint_eq(max_payload(false, 500), 500 - TS_BYTES);
	ck_assert_uint_eq(max_payload(true, 500), 500 - TS_BYTES);
	/* The send buffer, not the congestion window, bounded the flight. */
	flight = in_flight(0, 0, 0, NULL);
	ck_assert_uint_le(flight, 8192);
	ck_assert_uint_gt(flight, 8192 - 500);
	close_sock(so);
}
END_TEST

/* TCP_FASTOPEN with a connect_ex buffer larger than SO_SNDBUF: the part
 * queued at connect fits the send buffer, the rest follows; every byte
 * arrives once, in order. */
START_TEST(test_sockopt_small_sndbuf_with_fast_open_connect_ex_buffer)
{
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, false);
	struct wsk_mdl m = { .va = out, .len = 6000 };
	WSK_BUF b = { .mdl = &m, .length = 6000 };
	struct wsk_completion e;
	uint32_t got = 0;

	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_SNDBUF,
				 TCP_BUF_MIN), STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(so, WSK_IPPROTO_TCP, WSK_TCP_FASTOPEN, 1),
			 STATUS_SUCCESS);
	ck_assert_int_eq(start_connect(so, SERVER_PORT, &b), STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 6000);
	server_accept();
	for (int i = 0; i < 10 && got < 6000; i++) {
		recv_check(tsrv.c, &got);
		step_wc();
	}
	ck_assert_uint_eq(got, 6000);
	ck_assert_uint_le(in_flight(0, 0, 0, NULL), TCP_BUF_MIN);
	close_sock(so);
}
END_TEST

/* --- on a connected socket ------------------------------------------------ */

/* SO_SNDBUF on a connected socket, at once: growing reports the new size
 * and lets waiting sends in; shrinking keeps every queued byte and the
 * flight then stays within the new size. */
START_TEST(test_sockopt_sndbuf_on_a_connected_socket_applies_at_once)
{
	const uint32_t first = 200000, second = 100000;
	WSK_SOCKET *so;
	struct wsk_mdl m1, m2;
	WSK_BUF b1, b2;
	uint32_t got = 0, past;
	unsigned shrunk_at, grown_at, checked = 0;
	uint32_t flight;

	backlog_calls = 0;
	so = connected_sock(true);
	ck_assert_uint_eq(backlog_last, DEF_BUF);
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_SNDBUF, 16384),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(backlog_last, 16384);
	ck_assert_uint_eq(SNDBUF(so), 16384);
	ck_assert_int_eq(send_out(so, 0, first, &m1, &b1, 10), STATUS_PENDING);
	for (int i = 0; i < 1000 && got < 40000; i++) {
		step_wc();
		recv_check(tsrv.c, &got);
	}
	ck_assert_uint_lt(got, first / 2);
	/* Shrink: what was queued (at most 16384 past the last ACK) stays;
	 * what is sent beyond that keeps within 4096 of the ACKs. */
	shrunk_at = wl.n;
	past = server_ack() + 16384;
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_SNDBUF, 4096),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(SNDBUF(so), 4096);
	send_done(&got, first, first);
	ck_assert_uint_eq(backlog_last, 4096);
	flight = in_flight(0, 0, 0, NULL);
	ck_assert_uint_le(flight, 16384);
	ck_assert_uint_gt(flight, 16384 - 1448);
	in_flight(shrunk_at, past, 4096, &checked);
	ck_assert_uint_gt(checked, 20);

	/* Grow with a send waiting: reported at once, used at once. */
	ck_assert_int_eq(send_out(so, first, second, &m2, &b2, 11),
			 STATUS_PENDING);
	for (int i = 0; i < 5; i++) {
		step_wc();
		recv_check(tsrv.c, &got);
	}
	grown_at = wl.n;
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_SNDBUF, 65536),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(backlog_last, 65536);
	send_done(&got, first + second, second);
	flight = in_flight(grown_at, 0, 0, NULL);
	ck_assert_uint_gt(flight, 4096);
	ck_assert_uint_le(flight, 65536);
	close_sock(so);
}
END_TEST

/* SO_RCVBUF before connect bounds the window; on the connected socket a
 * larger one is announced at once (scaled by the shift fixed at the
 * SYN). */
START_TEST(test_sockopt_rcvbuf_bounds_the_window_and_applies_at_once)
{
	WSK_SOCKET *so = bound_sock(WSK_FLAG_CONNECTION_SOCKET, 0, false);
	static uint8_t in[16384];
	const uint32_t total = 50000;
	const struct wire_frame *f;
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	uint32_t got = 0, held;
	unsigned grown;

	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_RCVBUF, 4096),
			 STATUS_SUCCESS);
	ck_assert_int_eq(start_connect(so, SERVER_PORT, NULL), STATUS_PENDING);
	ck_assert_int_eq(wait_one().status, STATUS_SUCCESS);
	server_accept();
	/* A SYN's window is never scaled. */
	ck_assert_uint_eq(find(0, false, RTE_TCP_SYN_FLAG)->win, 4096);
	ck_assert_int_eq(tcp_send(tsrv.c, out, total), (int32_t)total);
	for (int i = 0; i < 50; i++)
		step_wc();
	for (unsigned i = 0; i < wl.n; i++)
		if (!wl.f[i].from_b && !(wl.f[i].flags & RTE_TCP_SYN_FLAG))
			ck_assert_uint_le((uint32_t)wl.f[i].win << WSCALE,
					  4096);
	/* Everything sent is acknowledged and held, up to the buffer less
	 * what rounding the window to whole scale units took off. */
	held = total - tcp_snd_queued(tsrv.c);
	ck_assert_uint_le(held, 4096);
	ck_assert_uint_gt(held, 4096 - (1u << WSCALE));
	grown = wl.n;
	ck_assert_int_eq(set_u32(so, WSK_SOL_SOCKET, WSK_SO_RCVBUF, 65536),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(RCVBUF(so), 65536);
	poll_both(1);
	f = find(grown, false, RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(f->win, (65536 - held) >> WSCALE);
	/* Everything arrives, through receive. */
	while (got < total) {
		struct wsk_request r = rq(12);
		struct wsk_completion e;

		ck_assert_int_ne(so->connection->receive(so, &b, 0, &r),
				 STATUS_INVALID_PARAMETER);
		e = wait_one();
		ck_assert_int_eq(e.status, STATUS_SUCCESS);
		ck_assert_uint_gt(e.information, 0);
		ck_assert_mem_eq(in, out + got, e.information);
		got += (uint32_t)e.information;
	}
	for (unsigned i = grown; i < wl.n; i++)
		if (!wl.f[i].from_b)
			ck_assert_uint_le((uint32_t)wl.f[i].win << WSCALE,
					  65536);
	close_sock(so);
}
END_TEST

/* --- listening sockets ------------------------------------------------------ */

/* The server engine connects to a wskapi listener on 'port'; the
 * listener's accept returns the new socket. */
static WSK_SOCKET *
accept_from(WSK_SOCKET *ls, uint32_t category, uint16_t port, struct tconn *c)
{
	struct wsk_request r = rq(20);
	struct wsk_completion e;
	NTSTATUS st;

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(tcp_connect(ss, 0, 0, 0, ip(CLIENT_IP), htons(port),
				     NULL, c, &c->c), 0);
	for (int i = 0; i < 20 && c->connected == 0; i++)
		step_wc();
	ck_assert_uint_eq(c->connected, 1);
	st = (category == WSK_FLAG_STREAM_SOCKET ? ls->stream->accept
					       : ls->listen->accept)(ls, 0,
		NULL, NULL, NULL, NULL, &r);
	/* PENDING until our side has the handshake's last ACK. */
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	return (WSK_SOCKET *)(uintptr_t)e.information;
}

START_TEST(test_sockopt_listening_socket_gives_accepted_connections_its_values)
{
	struct wsk_request r = rq(21);
	WSK_SOCKET *ls, *ls2, *a[3];
	const struct wire_frame *sa;
	unsigned from;

	ls = bound_sock(WSK_FLAG_STREAM_SOCKET, 7000, false);
	set_sizes(ls, 8192, 4096, 600);
	ck_assert_int_eq(ls->stream->listen(ls, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	a[0] = accept_from(ls, WSK_FLAG_STREAM_SOCKET, 7000, &t[0]);
	sa = find(0, false, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(sa->mss, 600);
	ck_assert_uint_eq(sa->win, 4096);
	ck_assert_uint_eq(SNDBUF(a[0]), 8192);
	ck_assert_uint_eq(RCVBUF(a[0]), 4096);
	ck_assert_uint_eq(MAXSEG(a[0]), 600 - TS_BYTES);
	ck_assert_uint_eq(tcp_maxseg(t[0].c), 600 - TS_BYTES);
	ck_assert_int_eq(set_u32(a[0], WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 700),
			 STATUS_INVALID_DEVICE_STATE);
	/* The listening socket reports what was set. */
	ck_assert_uint_eq(SNDBUF(ls), 8192);
	ck_assert_uint_eq(RCVBUF(ls), 4096);
	ck_assert_uint_eq(MAXSEG(ls), 600);

	/* Set while listening: later connections only. */
	ck_assert_int_eq(set_u32(ls, WSK_SOL_SOCKET, WSK_SO_RCVBUF, 16384),
			 STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(ls, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG, 0),
			 STATUS_SUCCESS);
	from = wl.n;
	a[1] = accept_from(ls, WSK_FLAG_STREAM_SOCKET, 7000, &t[1]);
	sa = find(from, false, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(sa->mss, PORT_MSS);
	ck_assert_uint_eq(sa->win, 16384);
	ck_assert_uint_eq(SNDBUF(a[1]), 8192);
	ck_assert_uint_eq(RCVBUF(a[1]), 16384);
	ck_assert_uint_eq(MAXSEG(a[1]), PORT_MSS - TS_BYTES);
	ck_assert_uint_eq(RCVBUF(a[0]), 4096);
	ck_assert_uint_eq(MAXSEG(a[0]), 600 - TS_BYTES);

	/* A listen socket listens from its bind: set before it. */
	{
		struct sockaddr_in any = { .sin_family = AF_INET,
					   .sin_port = htons(7001) };
		struct wsk_request rb = rq(22);

		ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM,
				 IPPROTO_TCP, WSK_FLAG_LISTEN_SOCKET, NULL,
				 &ls2, &rb), STATUS_SUCCESS);
		ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
		ck_assert_int_eq(set_u32(ls2, WSK_SOL_SOCKET, WSK_SO_RCVBUF,
					 8192), STATUS_SUCCESS);
		ck_assert_int_eq(set_u32(ls2, WSK_IPPROTO_TCP, WSK_TCP_MAXSEG,
					 700), STATUS_SUCCESS);
		ck_assert_int_eq(ls2->listen->bind(ls2,
				 (struct sockaddr *)&any, 0, &rb),
				 STATUS_SUCCESS);
		ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	}
	from = wl.n;
	a[2] = accept_from(ls2, WSK_FLAG_LISTEN_SOCKET, 7001, &t[2]);
	sa = find(from, false, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ck_assert_uint_eq(sa->mss, 700);
	ck_assert_uint_eq(sa->win, 8192);
	ck_assert_uint_eq(RCVBUF(a[2]), 8192);
	ck_assert_uint_eq(SNDBUF(a[2]), DEF_BUF);
	ck_assert_uint_eq(MAXSEG(a[2]), 700 - TS_BYTES);

	for (unsigned i = 0; i < 3; i++) {
		close_sock(a[i]);
		tcp_abort(t[i].c);
		tcp_release(t[i].c);
	}
	close_sock(ls);
	close_sock(ls2);
}
END_TEST

/* Data segments the wskapi side (port a) sent from log index 'from' on. */
static unsigned
data_segs_from_a(unsigned from)
{
	unsigned n = 0;

	for (unsigned i = from; i < wl.n; i++)
		n += !wl.f[i].from_b && wl.f[i].len > 0;
	return n;
}

/*
 * TCP_NODELAY on a connected socket takes effect at once (what Nagle held
 * goes out), and an accepted socket starts with its listening socket's
 * TCP_NODELAY and keepalive values, as on Linux. The peer's delayed ACK
 * (40 ms) is far off in these few 1 ms steps, so Nagle stays in force.
 */
START_TEST(test_sockopt_nodelay_applies_at_once_and_is_inherited)
{
	struct wsk_request r = rq(23);
	struct wsk_mdl m[4];
	WSK_BUF b[4];
	WSK_SOCKET *ls, *a0, *a1;
	unsigned from;

	ls = bound_sock(WSK_FLAG_STREAM_SOCKET, 7002, false);
	ck_assert_int_eq(ls->stream->listen(ls, &r), STATUS_SUCCESS);
	ck_assert_int_eq(reap_one().status, STATUS_SUCCESS);
	a0 = accept_from(ls, WSK_FLAG_STREAM_SOCKET, 7002, &t[0]);
	ck_assert_uint_eq(get_u32(a0, WSK_IPPROTO_TCP, WSK_TCP_NODELAY), 0);
	from = wl.n;
	ck_assert_int_eq(send_out(a0, 0, 10, &m[0], &b[0], 30), STATUS_PENDING);
	ck_assert_int_eq(send_out(a0, 10, 10, &m[1], &b[1], 31), STATUS_PENDING);
	step_wc();
	step_wc();
	ck_assert_uint_eq(data_segs_from_a(from), 1);
	ck_assert_int_eq(set_u32(a0, WSK_IPPROTO_TCP, WSK_TCP_NODELAY, 1),
			 STATUS_SUCCESS);
	step_wc();
	ck_assert_uint_eq(data_segs_from_a(from), 2);
	/* Both sends complete once the peer's delayed ACK comes. */
	wait_n_by(2, step_wc, 200);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(reap_first().status, STATUS_SUCCESS);

	/* The listener's values reach the next accepted socket. */
	ck_assert_int_eq(set_u32(ls, WSK_IPPROTO_TCP, WSK_TCP_NODELAY, 1),
			 STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(ls, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE, 1),
			 STATUS_SUCCESS);
	ck_assert_int_eq(set_u32(ls, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE, 7),
			 STATUS_SUCCESS);
	a1 = accept_from(ls, WSK_FLAG_STREAM_SOCKET, 7002, &t[1]);
	ck_assert_uint_eq(get_u32(a1, WSK_IPPROTO_TCP, WSK_TCP_NODELAY), 1);
	ck_assert_uint_eq(get_u32(a1, WSK_SOL_SOCKET, WSK_SO_KEEPALIVE), 1);
	ck_assert_uint_eq(get_u32(a1, WSK_IPPROTO_TCP, WSK_TCP_KEEPALIVE), 7);
	from = wl.n;
	ck_assert_int_eq(send_out(a1, 0, 10, &m[2], &b[2], 32), STATUS_PENDING);
	ck_assert_int_eq(send_out(a1, 10, 10, &m[3], &b[3], 33), STATUS_PENDING);
	step_wc();
	ck_assert_uint_eq(data_segs_from_a(from), 2);

	wait_n_by(2, step_wc, 200);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(reap_first().status, STATUS_SUCCESS);
	for (unsigned i = 0; i < 2; i++) {
		close_sock(i == 0 ? a0 : a1);
		tcp_abort(t[i].c);
		tcp_release(t[i].c);
	}
	close_sock(ls);
}
END_TEST

static Suite *
wsk_sockopt_suite(void)
{
	Suite *s = suite_create("wsk_sockopt");
	TCase *tc = tcase_create("sockopt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sockopt_gets_defaults_and_refuses_bad_values_lengths_levels);
	tcase_add_test(tc, test_sockopt_set_before_connect_reaches_the_connection_and_wire);
	tcase_add_test(tc, test_sockopt_set_without_ring_room_changes_nothing);
	tcase_add_test(tc, test_sockopt_nodelay_applies_at_once_and_is_inherited);
	tcase_add_test(tc, test_sockopt_small_sndbuf_with_fast_open_connect_ex_buffer);
	tcase_add_test(tc, test_sockopt_sndbuf_on_a_connected_socket_applies_at_once);
	tcase_add_test(tc, test_sockopt_rcvbuf_bounds_the_window_and_applies_at_once);
	tcase_add_test(tc, test_sockopt_listening_socket_gives_accepted_connections_its_values);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(wsk_sockopt_suite()) == 0 ? EXIT_SUCCESS
						       : EXIT_FAILURE;
}
