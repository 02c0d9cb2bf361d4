/*
 * wskapi, the rest of the WSK call family: accept (and listen sockets
 * listening from bind), the event callbacks, disconnect, release,
 * socket_connect, the receive flags and submission from another thread.
 *
 * Two wskapi clients talk over fake ports on the virtual clock (the
 * wsk_pair.h fixture): wc (10.0.0.1) and ws (10.0.0.2), both posting to
 * one completion ring, told apart by user_data. Every teardown closes
 * everything, waits out TIME_WAIT and proves no connection and no mbuf
 * was left behind.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "test_eal.h"
#include "wsk.h"
#include "wsk_pair.h"

#define CLOSED_PORT 9

/* --- event recorders --------------------------------------------------------- */

static unsigned ev_receive_calls, ev_disconnect_calls, ev_backlog_calls;
static unsigned ev_accept_calls;
static uint32_t ev_disconnect_flags;
static size_t ev_backlog;
static void *ev_context;
static uint8_t ev_data[4096];
static size_t ev_len;
static NTSTATUS ev_receive_answer;
static size_t ev_accept_limit;	/* accept at most this many per call */
static NTSTATUS ev_accept_answer;
static WSK_SOCKET *ev_accepted;

static NTSTATUS
on_receive(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
	   size_t indicated, size_t *accepted)
{
	size_t take, total = 0;

	ck_assert_uint_eq(flags, 0);
	ck_assert_ptr_nonnull(ind);
	ev_receive_calls++;
	ev_context = ctx;
	if (ev_receive_answer != STATUS_SUCCESS) {
		*accepted = 0;
		return ev_receive_answer;
	}
	/* One element per received mbuf segment. */
	take = RTE_MIN(indicated, ev_accept_limit);
	for (; ind != NULL; ind = ind->next) {
		size_t left = take - RTE_MIN(take, total);
		size_t k = RTE_MIN(ind->buffer.length, left);

		memcpy(ev_data + ev_len + total,
		       (uint8_t *)ind->buffer.mdl->va + ind->buffer.offset, k);
		total += ind->buffer.length;
	}
	ck_assert_uint_eq(total, indicated);
	ev_len += take;
	*accepted = take;
	return STATUS_SUCCESS;
}

static NTSTATUS
on_disconnect(void *ctx, uint32_t flags)
{
	ev_disconnect_calls++;
	ev_disconnect_flags = flags;
	ev_context = ctx;
	return STATUS_SUCCESS;
}

static NTSTATUS
on_backlog(void *ctx, size_t ideal)
{
	(void)ctx;
	ev_backlog_calls++;
	ev_backlog = ideal;
	return STATUS_SUCCESS;
}

static const WSK_CLIENT_CONNECTION_DISPATCH conn_events = {
	.receive_event = on_receive,
	.disconnect_event = on_disconnect,
	.send_backlog_event = on_backlog,
};

static NTSTATUS
on_accept(void *ctx, uint32_t flags, const struct sockaddr *local,
	  const struct sockaddr *remote, WSK_SOCKET *so, void **so_ctx,
	  const WSK_CLIENT_CONNECTION_DISPATCH **so_disp)
{
	const struct sockaddr_in *l = (const void *)local;
	const struct sockaddr_in *r = (const void *)remote;

	ck_assert_ptr_eq(ctx, (void *)0x11);
	ck_assert_uint_eq(flags, 0);
	ck_assert_uint_eq(l->sin_port, htons(SERVER_PORT));
	ck_assert_uint_eq(r->sin_addr.s_addr, inet_addr(CLIENT_IP));
	ev_accept_calls++;
	ev_accepted = so;
	*so_ctx = (void *)0x44;
	*so_disp = &conn_events;
	return ev_accept_answer;
}

static const WSK_CLIENT_STREAM_DISPATCH listen_events = {
	.accept_event = on_accept,
};

static void
reset_events(void)
{
	ev_receive_calls = ev_disconnect_calls = ev_backlog_calls = 0;
	ev_accept_calls = 0;
	ev_disconnect_flags = 0xff;
	ev_backlog = 0;
	ev_context = NULL;
	ev_len = 0;
	ev_receive_answer = STATUS_SUCCESS;
	ev_accept_limit = SIZE_MAX;
	ev_accept_answer = STATUS_SUCCESS;
	ev_accepted = NULL;
}

/* --- accept ------------------------------------------------------------------ */

/* A queued accept completes when a connection arrives, with the new
 * socket in information, its addresses filled in and its context set. */
START_TEST(test_accept_completes_with_new_socket_and_addresses)
{
	WSK_SOCKET *lis = listener(NULL), *client, *so;
	struct sockaddr_in l, r;
	struct wsk_request a = rq(40);
	struct wsk_completion e;

	ck_assert_int_eq(lis->stream->accept(lis, 0, (void *)0x33, NULL,
			 (struct sockaddr *)&l, (struct sockaddr *)&r, &a),
			 STATUS_PENDING);
	expect_nothing_posted();
	client = start_connect(NULL, 41);
	wait_n(2);
	e = reap_one_of_two(40);
	so = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_ptr_eq(wsk_socket_context(so), (void *)0x33);
	ck_assert_uint_eq(l.sin_family, AF_INET);
	ck_assert_uint_eq(l.sin_port, htons(SERVER_PORT));
	ck_assert_uint_eq(l.sin_addr.s_addr, inet_addr(SERVER_IP));
	ck_assert_uint_eq(r.sin_addr.s_addr, inet_addr(CLIENT_IP));
	ck_assert_uint_ge(ntohs(r.sin_port), 32768);
	/* The accepted socket is connected: it sends. */
	ck_assert_int_eq(send_bytes(so, "abc", 3, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 3);
	close_sock(so);
	close_sock(client);
	close_sock(lis);
}
END_TEST

/* WSK: a listen socket listens once bound; its accepted sockets are
 * connection sockets. A connection already waiting makes accept succeed
 * at once. */
START_TEST(test_listen_socket_listens_from_bind_and_accept_succeeds_at_once)
{
	WSK_SOCKET *lis = mk_sock(ws, WSK_FLAG_LISTEN_SOCKET, NULL, NULL);
	WSK_SOCKET *client, *so;
	struct wsk_request b = rq(2), a = rq(40);
	struct wsk_completion e;

	ck_assert_int_eq(lis->listen->bind(lis, (struct sockaddr *)&server_addr,
					   0, &b), STATUS_SUCCESS);
	reap_one();
	client = start_connect(NULL, 41);
	ck_assert_uint_eq(wait_one().status, STATUS_SUCCESS);
	wsk_poll(5);
	ck_assert_int_eq(lis->listen->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_SUCCESS);
	e = reap_one();
	so = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_ptr_nonnull(so);
	ck_assert_ptr_nonnull(so->connection->disconnect);
	ck_assert_ptr_nonnull(so->connection->release);
	ck_assert_int_eq(send_bytes(so, "x", 1, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 1);
	close_sock(so);
	close_sock(client);
	close_sock(lis);
}
END_TEST

START_TEST(test_accept_conformance_flags_category_state_null_and_after_close)
{
	WSK_SOCKET *st = mk_sock(ws, WSK_FLAG_STREAM_SOCKET, NULL, NULL);
	WSK_SOCKET *lis = listener(NULL);
	WSK_SOCKET *cn = mk_sock(ws, WSK_FLAG_CONNECTION_SOCKET, NULL, NULL);
	const WSK_PROVIDER_STREAM_DISPATCH *d = lis->stream;
	struct wsk_request a = rq(40), nocq = { .cq = NULL };

	ck_assert_int_eq(d->accept(lis, 1, NULL, NULL, NULL, NULL, &a),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->accept(lis, 0, NULL, NULL, NULL, NULL, NULL),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->accept(lis, 0, NULL, NULL, NULL, NULL, &nocq),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(d->accept(NULL, 0, NULL, NULL, NULL, NULL, &a),
			 STATUS_INVALID_PARAMETER);
	/* Not listening; wrong category. */
	ck_assert_int_eq(d->accept(st, 0, NULL, NULL, NULL, NULL, &a),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(d->accept(cn, 0, NULL, NULL, NULL, NULL, &a),
			 STATUS_INVALID_DEVICE_STATE);
	expect_nothing_posted();
	close_sock(lis);
	ck_assert_int_eq(d->accept(lis, 0, NULL, NULL, NULL, NULL, &a),
			 STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	close_sock(st);
	close_sock(cn);
}
END_TEST

/* Rule 2.3.2: pending accepts complete (cancelled) before the close. */
START_TEST(test_close_listener_cancels_pending_accepts_before_close)
{
	WSK_SOCKET *lis = listener(NULL);
	struct wsk_request a1 = rq(40), a2 = rq(41), c = rq(99);
	struct wsk_completion *e[3];

	ck_assert_int_eq(lis->stream->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a1), STATUS_PENDING);
	ck_assert_int_eq(lis->stream->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a2), STATUS_PENDING);
	ck_assert_int_eq(lis->basic->close_socket(lis, &c), STATUS_SUCCESS);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, e, 3), 3);
	ck_assert_uint_eq(e[0]->user_data, 40);
	ck_assert_int_eq(e[0]->status, STATUS_CANCELLED);
	ck_assert_uint_eq(e[1]->user_data, 41);
	ck_assert_int_eq(e[1]->status, STATUS_CANCELLED);
	ck_assert_uint_eq(e[2]->user_data, 99);
	wsk_cq_advance(cq, 3);
}
END_TEST

/* A queued accept takes the connection before the accept event; the
 * next connection goes to the event. */
START_TEST(test_queued_accept_beats_accept_event)
{
	WSK_SOCKET *lis = listener(&listen_events), *c1, *c2, *so;
	struct wsk_request a = rq(40);
	struct wsk_completion e;

	reset_events();
	ck_assert_int_eq(enable_events(lis, WSK_EVENT_ACCEPT), STATUS_SUCCESS);
	ck_assert_int_eq(lis->stream->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_PENDING);
	c1 = start_connect(NULL, 41);
	wait_n(2);
	e = reap_one_of_two(40);
	so = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_uint_eq(ev_accept_calls, 0);
	c2 = start_connect(NULL, 42);
	ck_assert_uint_eq(wait_one().user_data, 42);
	wsk_poll(5);
	ck_assert_uint_eq(ev_accept_calls, 1);
	ck_assert_ptr_nonnull(ev_accepted);
	ck_assert_ptr_eq(wsk_socket_context(ev_accepted), (void *)0x44);
	close_sock(ev_accepted);
	close_sock(so);
	close_sock(c1);
	close_sock(c2);
	close_sock(lis);
}
END_TEST

/* An accepted socket inherits the listener's receive event, with the
 * context the accept event gave it. */
START_TEST(test_accept_event_socket_inherits_receive_event)
{
	WSK_SOCKET *lis = listener(&listen_events), *client;
	static const char msg[] = "inherited";

	reset_events();
	ck_assert_int_eq(enable_events(lis, WSK_EVENT_ACCEPT |
				       WSK_EVENT_RECEIVE), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(enable_events(lis, WSK_EVENT_ACCEPT), STATUS_SUCCESS);
	client = start_connect(NULL, 41);
	ck_assert_uint_eq(wait_one().status, STATUS_SUCCESS);
	wsk_poll(5);
	ck_assert_uint_eq(ev_accept_calls, 1);
	ck_assert_int_eq(enable_events(ev_accepted, WSK_EVENT_RECEIVE),
			 STATUS_SUCCESS);
	ck_assert_int_eq(send_bytes(client, msg, 9, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 9);
	ck_assert_uint_eq(ev_receive_calls, 1);
	ck_assert_ptr_eq(ev_context, (void *)0x44);
	ck_assert_uint_eq(ev_len, 9);
	ck_assert(memcmp(ev_data, msg, 9) == 0);
	close_sock(ev_accepted);
	close_sock(client);
	close_sock(lis);
}
END_TEST

/* STATUS_REQUEST_NOT_ACCEPTED: the connection is reset. */
START_TEST(test_accept_event_request_not_accepted_resets_connection)
{
	WSK_SOCKET *lis = listener(&listen_events), *client;
	uint8_t in[8];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	struct wsk_request r = rq(60);
	struct wsk_completion e;

	reset_events();
	ev_accept_answer = STATUS_REQUEST_NOT_ACCEPTED;
	ck_assert_int_eq(enable_events(lis, WSK_EVENT_ACCEPT), STATUS_SUCCESS);
	client = start_connect(NULL, 41);
	ck_assert_uint_eq(wait_one().status, STATUS_SUCCESS);
	ck_assert_int_eq(client->connection->receive(client, &b, 0, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_uint_eq(ev_accept_calls, 1);
	ck_assert_uint_eq(e.user_data, 60);
	ck_assert_int_eq(e.status, STATUS_CONNECTION_RESET);
	close_sock(client);
	close_sock(lis);
}
END_TEST

/* --- event control ------------------------------------------------------------ */

START_TEST(test_event_mask_conformance)
{
	WSK_SOCKET *nodisp = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL, NULL);
	WSK_SOCKET *so = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL,
				 &conn_events);
	struct wsk_event_callback_control ctl = { .event_mask = 0 };
	uint32_t out;

	/* No callback to call. */
	ck_assert_int_eq(enable_events(nodisp, WSK_EVENT_RECEIVE),
			 STATUS_INVALID_PARAMETER);
	/* Unknown bits, no event, accept on a connection socket, DISABLE
	 * with two events. */
	ck_assert_int_eq(enable_events(so, 0x1), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(enable_events(so, 0), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_ACCEPT),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_DISABLE |
			 WSK_EVENT_RECEIVE | WSK_EVENT_DISCONNECT),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->basic->control_socket(so, WskSetOption,
			 WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET, 4, &ctl, 0,
			 NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->basic->control_socket(so, WskGetOption,
			 WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET, 0, NULL,
			 sizeof(out), &out, NULL, NULL), STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE |
				       WSK_EVENT_DISCONNECT), STATUS_SUCCESS);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_DISABLE |
				       WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	expect_nothing_posted();
	close_sock(nodisp);
	close_sock(so);
}
END_TEST

/* Events start disabled: bytes that arrived before wait; enabling the
 * receive event indicates them at once. */
START_TEST(test_events_start_disabled_and_enabling_indicates_waiting_data)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &conn_events, NULL);

	reset_events();
	ck_assert_int_eq(send_bytes(client, "early", 5, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 5);
	wsk_poll(5);
	ck_assert_uint_eq(ev_receive_calls + ev_backlog_calls, 0);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	ck_assert_uint_eq(ev_receive_calls, 1);
	ck_assert_uint_eq(ev_len, 5);
	ck_assert(memcmp(ev_data, "early", 5) == 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- receive event --------------------------------------------------------- */

/* DATA_NOT_ACCEPTED stops the event; a receive gets those bytes and the
 * later ones in order, and the event comes back after it. */
START_TEST(test_data_not_accepted_stops_events_until_a_receive)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &conn_events, NULL);
	uint8_t in[16];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	struct wsk_request r = rq(60);
	struct wsk_completion e;

	reset_events();
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	ev_receive_answer = STATUS_DATA_NOT_ACCEPTED;
	ck_assert_int_eq(send_bytes(client, "one", 3, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 3);
	ck_assert_uint_eq(ev_receive_calls, 1);
	ck_assert_int_eq(send_bytes(client, "two", 3, 51), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 3);
	wsk_poll(5);
	ck_assert_uint_eq(ev_receive_calls, 1);
	ck_assert_int_eq(so->connection->receive(so, &b, 0, &r),
			 STATUS_SUCCESS);
	e = reap_one();
	ck_assert_uint_eq(e.information, 6);
	ck_assert(memcmp(in, "onetwo", 6) == 0);
	ev_receive_answer = STATUS_SUCCESS;
	ck_assert_int_eq(send_bytes(client, "six", 3, 52), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 3);
	ck_assert_uint_eq(ev_receive_calls, 2);
	ck_assert(memcmp(ev_data, "six", 3) == 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* A partial accept keeps the rest in front for the next receive; a
 * zero-length receive re-enables the event, which indicates the rest. */
START_TEST(test_partial_accept_then_zero_length_receive_reenables_event)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &conn_events, NULL);
	WSK_BUF zero = { .mdl = NULL, .length = 0 };
	struct wsk_request r = rq(60);

	reset_events();
	ev_accept_limit = 4;
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	ck_assert_int_eq(send_bytes(client, "abcdefghij", 10, 50),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 10);
	ck_assert_uint_eq(ev_receive_calls, 1);
	ck_assert_uint_eq(ev_len, 4);
	ev_accept_limit = SIZE_MAX;
	ck_assert_int_eq(so->connection->receive(so, &zero, 0, &r),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(reap_one().information, 0);
	ck_assert_uint_eq(ev_receive_calls, 2);
	ck_assert_uint_eq(ev_len, 10);
	ck_assert(memcmp(ev_data, "abcdefghij", 10) == 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

START_TEST(test_queued_receive_beats_receive_event)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &conn_events, NULL);
	uint8_t in[16];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	struct wsk_request r = rq(60);

	reset_events();
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	ck_assert_int_eq(so->connection->receive(so, &b, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(send_bytes(client, "queued", 6, 50), STATUS_PENDING);
	wait_n(2);
	ck_assert_uint_eq(reap_one_of_two(60).information, 6);
	ck_assert(memcmp(in, "queued", 6) == 0);
	ck_assert_uint_eq(ev_receive_calls, 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- disconnect and send-backlog events ----------------------------------------- */

START_TEST(test_disconnect_event_graceful_then_abortive_on_reset)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &conn_events, NULL);
	WSK_SOCKET *c2, *s2;
	struct wsk_request d = rq(70);

	reset_events();
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE |
				       WSK_EVENT_DISCONNECT), STATUS_SUCCESS);
	ck_assert_int_eq(send_bytes(client, "last", 4, 50), STATUS_PENDING);
	ck_assert_int_eq(client->connection->disconnect(client, NULL, 0, &d),
			 STATUS_PENDING);
	wait_n(2);
	wsk_cq_advance(cq, 2);
	wsk_poll(5);
	ck_assert_uint_eq(ev_len, 4);
	ck_assert_uint_eq(ev_disconnect_calls, 1);
	ck_assert_uint_eq(ev_disconnect_flags, 0);
	ck_assert_ptr_eq(ev_context, (void *)0x33);
	/* After a graceful peer close the local side can still send. */
	ck_assert_int_eq(send_bytes(so, "reply", 5, 51), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 5);
	close_sock(so);
	close_sock(client);

	s2 = pair(&c2, NULL, &conn_events, NULL);
	reset_events();
	ck_assert_int_eq(enable_events(s2, WSK_EVENT_DISCONNECT),
			 STATUS_SUCCESS);
	ck_assert_int_eq(c2->connection->disconnect(c2, NULL,
			 WSK_FLAG_ABORTIVE, &d), STATUS_SUCCESS);
	reap_one();
	wsk_poll(5);
	ck_assert_uint_eq(ev_disconnect_calls, 1);
	ck_assert_uint_eq(ev_disconnect_flags, WSK_FLAG_ABORTIVE);
	close_sock(s2);
	close_sock(c2);
}
END_TEST

START_TEST(test_send_backlog_event_reports_send_buffer_once)
{
	WSK_SOCKET *client, *so = pair(&client, &conn_events, NULL, NULL);

	reset_events();
	ck_assert_int_eq(enable_events(client, WSK_EVENT_SEND_BACKLOG),
			 STATUS_SUCCESS);
	ck_assert_uint_eq(ev_backlog_calls, 1);
	ck_assert_uint_eq(ev_backlog, 256 * 1024);
	ck_assert_int_eq(send_bytes(client, "data", 4, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 4);
	ck_assert_uint_eq(ev_backlog_calls, 1);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- disconnect ------------------------------------------------------------ */

/* Graceful: queued sends, then the buffer, then FIN; completes once the
 * FIN is acked; the socket still receives; send and a second disconnect
 * are refused. */
START_TEST(test_graceful_disconnect_sends_buffer_then_fin_and_still_receives)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, NULL, NULL);
	static uint8_t big[30000];
	uint8_t in[64], bye[3] = "bye";
	struct wsk_mdl mi = { .va = in, .len = sizeof(in) };
	struct wsk_mdl mb = { .va = bye, .len = 3 };
	WSK_BUF bi = { .mdl = &mi, .length = sizeof(in) };
	WSK_BUF bb = { .mdl = &mb, .length = 3 };
	struct wsk_request d = rq(70), r = rq(60), w = rq(61);
	struct wsk_completion *e[2], c;
	size_t got = 0;

	memset(big, 'z', sizeof(big));
	ck_assert_int_eq(send_bytes(client, big, sizeof(big), 50),
			 STATUS_PENDING);
	ck_assert_int_eq(client->connection->disconnect(client, &bb, 0, &d),
			 STATUS_PENDING);
	ck_assert_int_eq(send_bytes(client, "no", 2, 51),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(client->connection->disconnect(client, NULL, 0, &w),
			 STATUS_INVALID_DEVICE_STATE);
	wait_n(2);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, e, 2), 2);
	ck_assert_uint_eq(e[0]->user_data, 50);
	ck_assert_uint_eq(e[1]->user_data, 70);
	ck_assert_int_eq(e[1]->status, STATUS_SUCCESS);
	ck_assert_uint_eq(e[1]->information, 3);
	wsk_cq_advance(cq, 2);
	/* The server reads everything, then the end of stream. */
	for (;;) {
		ck_assert_int_eq(so->connection->receive(so, &bi, 0, &r),
				 STATUS_SUCCESS);
		c = reap_one();
		if (c.information == 0)
			break;
		got += c.information;
	}
	ck_assert_uint_eq(got, sizeof(big) + 3);
	/* The half-closed client still receives. */
	ck_assert_int_eq(client->connection->receive(client, &bi, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(send_bytes(so, "after", 5, 52), STATUS_PENDING);
	wait_n(2);
	ck_assert_uint_eq(reap_one_of_two(60).information, 5);
	ck_assert(memcmp(in, "after", 5) == 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* Abortive: a NULL buffer only; pending sends cancelled, pending
 * receives aborted, completes at once; the peer sees a reset. */
START_TEST(test_abortive_disconnect_cancels_sends_and_resets_peer)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, NULL, NULL);
	static uint8_t big[200000];
	uint8_t in[8];
	struct wsk_mdl mi = { .va = in, .len = sizeof(in) };
	WSK_BUF bi = { .mdl = &mi, .length = sizeof(in) };
	struct wsk_request d = rq(70), r = rq(60), sr = rq(62);
	struct wsk_completion *e[3], c;

	ck_assert_int_eq(client->connection->disconnect(client, &bi,
			 WSK_FLAG_ABORTIVE, &d), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(client->connection->disconnect(client, NULL, 0x10,
			 &d), STATUS_NOT_SUPPORTED);
	expect_nothing_posted();
	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &sr),
			 STATUS_PENDING);
	ck_assert_int_eq(send_bytes(client, big, sizeof(big), 50),
			 STATUS_PENDING);
	ck_assert_int_eq(client->connection->receive(client, &bi, 0, &r),
			 STATUS_PENDING);
	ck_assert_int_eq(client->connection->disconnect(client, NULL,
			 WSK_FLAG_ABORTIVE, &d), STATUS_SUCCESS);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, e, 3), 3);
	ck_assert_uint_eq(e[0]->user_data, 50);
	ck_assert_int_eq(e[0]->status, STATUS_CANCELLED);
	ck_assert_uint_eq(e[1]->user_data, 60);
	ck_assert_int_eq(e[1]->status, STATUS_CONNECTION_ABORTED);
	ck_assert_uint_eq(e[2]->user_data, 70);
	ck_assert_int_eq(e[2]->status, STATUS_SUCCESS);
	wsk_cq_advance(cq, 3);
	/* The data segments sent before the abort reach the server first:
	 * its receive gets bytes, then the reset kills the socket. */
	c = wait_one();
	ck_assert_uint_eq(c.user_data, 62);
	ck_assert_int_eq(c.status, STATUS_SUCCESS);
	ck_assert_uint_eq(c.information, sizeof(in));
	wsk_poll(5);
	ck_assert_int_eq(so->connection->receive(so, &bi, 0, &sr),
			 STATUS_FILE_FORCED_CLOSED);
	reap_one();
	ck_assert_int_eq(client->connection->disconnect(client, NULL,
			 WSK_FLAG_ABORTIVE, &d), STATUS_FILE_FORCED_CLOSED);
	reap_one();
	close_sock(so);
	close_sock(client);
}
END_TEST

START_TEST(test_disconnect_on_unconnected_or_wrong_category_refused)
{
	WSK_SOCKET *cn = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL, NULL);
	WSK_SOCKET *lis = listener(NULL);
	struct wsk_request d = rq(70);

	ck_assert_int_eq(cn->connection->disconnect(cn, NULL, 0, &d),
			 STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(lis->stream->disconnect(lis, NULL, WSK_FLAG_ABORTIVE,
			 &d), STATUS_INVALID_DEVICE_STATE);
	ck_assert_int_eq(cn->connection->disconnect(NULL, NULL, 0, &d),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(cn->connection->disconnect(cn, NULL, 0, NULL),
			 STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	close_sock(cn);
	close_sock(lis);
}
END_TEST

/* --- release ------------------------------------------------------------------ */

/* Release takes back only what a receive event lent: anything else is
 * refused (test_wsk_zc_recv.c covers real retained lists). */
START_TEST(test_release_validates_its_list)
{
	WSK_SOCKET *cn = mk_sock(wc, WSK_FLAG_CONNECTION_SOCKET, NULL, NULL);
	WSK_SOCKET *basic = mk_sock(wc, WSK_FLAG_BASIC_SOCKET, NULL, NULL);
	uint8_t x[4];
	struct wsk_mdl m = { .va = x, .len = sizeof(x) };
	WSK_DATA_INDICATION foreign = { .buffer = { .mdl = &m, .length = 4 } };
	WSK_DATA_INDICATION loop = { .buffer = { .mdl = &m, .length = 1 } };
	PFN_WSK_RELEASE rel = cn->connection->release;

	loop.next = &loop;
	ck_assert_int_eq(rel(cn, &foreign), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(cn, NULL), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(cn, &loop), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(NULL, &foreign), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(basic, &foreign), STATUS_INVALID_DEVICE_STATE);
	close_sock(cn);
	ck_assert_int_eq(rel(cn, &foreign), STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	close_sock(basic);
}
END_TEST

/* --- socket_connect ----------------------------------------------------------- */

START_TEST(test_socket_connect_completes_with_connected_socket)
{
	WSK_SOCKET *lis = listener(NULL), *so;
	struct sockaddr_in closed = server_addr;
	struct wsk_request r = rq(80);
	struct wsk_completion e;
	unsigned i;

	ck_assert_int_eq(wsk_socket_connect(wc, SOCK_STREAM, IPPROTO_TCP,
			 (struct sockaddr *)&any_addr,
			 (struct sockaddr *)&server_addr, 1, NULL, NULL, &r),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_socket_connect(wc, SOCK_STREAM, IPPROTO_TCP,
			 (struct sockaddr *)&any_addr, NULL, 0, NULL, NULL,
			 &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_socket_connect(wc, SOCK_DGRAM, 0,
			 (struct sockaddr *)&any_addr,
			 (struct sockaddr *)&server_addr, 0, NULL, NULL, &r),
			 STATUS_NOT_SUPPORTED);
	expect_nothing_posted();
	ck_assert_int_eq(wsk_socket_connect(wc, SOCK_STREAM, IPPROTO_TCP,
			 (struct sockaddr *)&any_addr,
			 (struct sockaddr *)&server_addr, 0, (void *)0x55, NULL,
			 &r), STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	so = (WSK_SOCKET *)(uintptr_t)e.information;
	ck_assert_ptr_eq(wsk_socket_context(so), (void *)0x55);
	ck_assert_int_eq(send_bytes(so, "sc", 2, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().information, 2);
	close_sock(so);
	/* Refused: the completion says so and the socket is gone, so all
	 * 16 slots can still be used. */
	closed.sin_port = htons(CLOSED_PORT);
	ck_assert_int_eq(wsk_socket_connect(wc, SOCK_STREAM, 0,
			 (struct sockaddr *)&any_addr,
			 (struct sockaddr *)&closed, 0, NULL, NULL, &r),
			 STATUS_PENDING);
	e = wait_one();
	ck_assert_int_eq(e.status, STATUS_CONNECTION_REFUSED);
	ck_assert_uint_eq(e.information, 0);
	for (i = 0; i < 16; i++)
		mk_sock(wc, WSK_FLAG_BASIC_SOCKET, NULL, NULL);
	close_sock(lis);
}
END_TEST

/* --- receive flags ----------------------------------------------------------- */

START_TEST(test_receive_flags_conformance)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, NULL, NULL);
	uint8_t in[8];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	WSK_BUF zero = { .mdl = NULL, .length = 0 };
	struct wsk_request r = rq(60);

	ck_assert_int_eq(so->connection->receive(so, &b, WSK_FLAG_WAITALL |
			 WSK_FLAG_DRAIN, &r), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->connection->receive(so, &b, 0x100, &r),
			 STATUS_NOT_SUPPORTED);
	ck_assert_int_eq(so->connection->receive(so, &b, WSK_FLAG_DRAIN, &r),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->connection->receive(so, &zero, WSK_FLAG_WAITALL,
			 &r), STATUS_INVALID_PARAMETER);
	expect_nothing_posted();
	close_sock(so);
	close_sock(client);
}
END_TEST

/* WAITALL completes only with a full buffer; at the peer's FIN with what
 * came. */
START_TEST(test_waitall_completes_when_full_or_at_fin)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, NULL, NULL);
	uint8_t in[10];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	struct wsk_request r = rq(60), d = rq(70);
	struct wsk_completion e;

	ck_assert_int_eq(so->connection->receive(so, &b, WSK_FLAG_WAITALL,
			 &r), STATUS_PENDING);
	ck_assert_int_eq(send_bytes(client, "0123", 4, 50), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().user_data, 50);
	wsk_poll(10);
	expect_nothing_posted();
	ck_assert_int_eq(send_bytes(client, "456789xy", 8, 51), STATUS_PENDING);
	wait_n(2);
	e = reap_one_of_two(60);
	ck_assert_uint_eq(e.information, 10);
	ck_assert(memcmp(in, "0123456789", 10) == 0);
	ck_assert_int_eq(so->connection->receive(so, &b, WSK_FLAG_WAITALL,
			 &r), STATUS_PENDING);
	ck_assert_int_eq(client->connection->disconnect(client, NULL, 0, &d),
			 STATUS_PENDING);
	wait_n(2);
	e = reap_one_of_two(60);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, 2);
	ck_assert(memcmp(in, "xy", 2) == 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* DRAIN discards everything until the peer's FIN. */
START_TEST(test_drain_discards_until_fin)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, NULL, NULL);
	static uint8_t junk[5000];
	WSK_BUF zero = { .mdl = NULL, .length = 0 };
	struct wsk_request r = rq(60), d = rq(70);
	struct wsk_completion e;

	ck_assert_int_eq(send_bytes(client, junk, sizeof(junk), 50),
			 STATUS_PENDING);
	ck_assert_uint_eq(wait_one().user_data, 50);
	ck_assert_int_eq(so->connection->receive(so, &zero, WSK_FLAG_DRAIN,
			 &r), STATUS_PENDING);
	ck_assert_int_eq(send_bytes(client, junk, 1000, 51), STATUS_PENDING);
	ck_assert_uint_eq(wait_one().user_data, 51);
	expect_nothing_posted();
	ck_assert_int_eq(client->connection->disconnect(client, NULL, 0, &d),
			 STATUS_PENDING);
	wait_n(2);
	e = reap_one_of_two(60);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(e.information, sizeof(junk) + 1000);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- submission from another thread ------------------------------------------------ */

static atomic_bool worker_done;
static struct wsk_cq *worker_cq;
static NTSTATUS worker_status[8];
static uint64_t worker_info[8];

static struct wsk_completion
worker_wait(void)
{
	struct wsk_completion *e, c;

	while (wsk_cq_peek(worker_cq, &e) != 0)
		;
	c = *e;
	wsk_cq_seen(worker_cq, e);
	return c;
}

/* socket, a refused bind, bind, connect_ex, send, close: each submitted
 * from this thread and answered by exactly one completion. */
static void *
worker(void *arg)
{
	static const char ping[] = "ping";
	static struct wsk_mdl m = { .va = (void *)ping, .len = 4 };
	struct wsk_sqe q;
	struct wsk_completion c;
	WSK_SOCKET *so;

	(void)arg;
	memset(&q, 0, sizeof(q));
	q.req.cq = worker_cq;
	q.op = WSK_OP_SOCKET;
	q.family = AF_INET;
	q.type = SOCK_STREAM;
	q.flags = WSK_FLAG_CONNECTION_SOCKET;
	q.req.user_data = 0;
	wsk_client_submit(wc, &q);
	c = worker_wait();
	worker_status[0] = c.status;
	so = (WSK_SOCKET *)(uintptr_t)c.information;
	q.socket = so;
	q.op = WSK_OP_BIND;
	q.addr = any_addr;
	q.flags = 1;
	q.req.user_data = 1;
	wsk_client_submit(wc, &q);
	c = worker_wait();
	worker_status[1] = c.status;
	q.flags = 0;
	q.req.user_data = 2;
	wsk_client_submit(wc, &q);
	worker_status[2] = worker_wait().status;
	q.op = WSK_OP_CONNECT_EX;
	q.addr = server_addr;
	q.req.user_data = 3;
	wsk_client_submit(wc, &q);
	worker_status[3] = worker_wait().status;
	q.op = WSK_OP_SEND;
	q.buf = (WSK_BUF){ .mdl = &m, .length = 4 };
	q.req.user_data = 4;
	wsk_client_submit(wc, &q);
	c = worker_wait();
	worker_status[4] = c.status;
	worker_info[4] = c.information;
	q.op = WSK_OP_CLOSE;
	q.req.user_data = 5;
	wsk_client_submit(wc, &q);
	c = worker_wait();
	worker_status[5] = c.status;
	worker_info[5] = c.user_data;
	atomic_store(&worker_done, true);
	return NULL;
}

START_TEST(test_submission_from_a_second_thread_runs_on_the_shard)
{
	WSK_SOCKET *lis = listener(NULL), *so = NULL;
	struct wsk_request a = rq(40);
	struct wsk_completion e;
	uint8_t in[8];
	struct wsk_mdl m = { .va = in, .len = sizeof(in) };
	WSK_BUF b = { .mdl = &m, .length = sizeof(in) };
	struct wsk_request r = rq(60);
	pthread_t t;

	worker_cq = wsk_cq_create("worker", 16, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(worker_cq);
	atomic_store(&worker_done, false);
	ck_assert_int_eq(lis->stream->accept(lis, 0, NULL, NULL, NULL, NULL,
					     &a), STATUS_PENDING);
	ck_assert_int_eq(pthread_create(&t, NULL, worker, NULL), 0);
	/* Bounded: the worker needs a few hundred passes. The server reads
	 * as soon as it has the connection, before the worker's close
	 * resets it. */
	for (long i = 0; i < 20000000 && !atomic_load(&worker_done); i++) {
		wsk_advance(100);
		if (so == NULL && wsk_cq_ready(cq) > 0) {
			so = (WSK_SOCKET *)(uintptr_t)reap_one().information;
			ck_assert_ptr_nonnull(so);
			ck_assert_int_eq(so->connection->receive(so, &b, 0, &r),
					 STATUS_PENDING);
		}
	}
	ck_assert(atomic_load(&worker_done));
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(worker_status[0], STATUS_SUCCESS);
	ck_assert_int_eq(worker_status[1], STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(worker_status[2], STATUS_SUCCESS);
	ck_assert_int_eq(worker_status[3], STATUS_SUCCESS);
	ck_assert_int_eq(worker_status[4], STATUS_SUCCESS);
	ck_assert_uint_eq(worker_info[4], 4);
	ck_assert_int_eq(worker_status[5], STATUS_SUCCESS);
	ck_assert_uint_eq(worker_info[5], 5);
	ck_assert_uint_eq(wsk_cq_ready(worker_cq), 0);
	/* The server accepted that connection and got "ping". */
	ck_assert_ptr_nonnull(so);
	e = reap_one();
	ck_assert_uint_eq(e.user_data, 60);
	ck_assert_uint_eq(e.information, 4);
	ck_assert(memcmp(in, "ping", 4) == 0);
	close_sock(so);
	close_sock(lis);
	wsk_cq_free(worker_cq);
}
END_TEST

/* The submission ring holds max_requests entries; beyond, the submitter
 * is told to retry; a bad sqe is refused at once. */
START_TEST(test_submit_ring_full_and_bad_sqe)
{
	struct wsk_sqe q;
	unsigned i;

	memset(&q, 0, sizeof(q));
	q.req = rq(7);
	q.op = WSK_OP_COUNT;
	ck_assert_int_eq(wsk_client_submit(wc, &q), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_client_submit(wc, NULL), STATUS_INVALID_PARAMETER);
	q.op = WSK_OP_LISTEN;	/* on a NULL socket: refused on the shard */
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(wsk_client_submit(wc, &q), STATUS_PENDING);
	ck_assert_int_eq(wsk_client_submit(wc, &q),
			 STATUS_INSUFFICIENT_RESOURCES);
	expect_nothing_posted();
	wsk_client_poll(wc);
	ck_assert_uint_eq(wsk_cq_ready(cq), 64);
	for (i = 0; i < 64; i++) {
		struct wsk_completion c = reap_first();

		ck_assert_int_eq(c.status, STATUS_INVALID_PARAMETER);
	}
	ck_assert_int_eq(wsk_client_submit(wc, &q), STATUS_PENDING);
	wsk_client_poll(wc);
	ck_assert_uint_eq(reap_one().user_data, 7);
}
END_TEST

static Suite *
wsk_api2_suite(void)
{
	Suite *s = suite_create("wsk_api2");
	TCase *acc = tcase_create("accept");
	TCase *ev = tcase_create("events");
	TCase *dis = tcase_create("disconnect_release_socket_connect");
	TCase *rcv = tcase_create("receive_flags");
	TCase *sub = tcase_create("submission");

	tcase_add_checked_fixture(acc, wsk_pair_setup, wsk_pair_teardown);
	tcase_add_test(acc, test_accept_completes_with_new_socket_and_addresses);
	tcase_add_test(acc, test_listen_socket_listens_from_bind_and_accept_succeeds_at_once);
	tcase_add_test(acc, test_accept_conformance_flags_category_state_null_and_after_close);
	tcase_add_test(acc, test_close_listener_cancels_pending_accepts_before_close);
	tcase_add_test(acc, test_queued_accept_beats_accept_event);
	tcase_add_test(acc, test_accept_event_socket_inherits_receive_event);
	tcase_add_test(acc, test_accept_event_request_not_accepted_resets_connection);
	suite_add_tcase(s, acc);

	tcase_add_checked_fixture(ev, wsk_pair_setup, wsk_pair_teardown);
	tcase_add_test(ev, test_event_mask_conformance);
	tcase_add_test(ev, test_events_start_disabled_and_enabling_indicates_waiting_data);
	tcase_add_test(ev, test_data_not_accepted_stops_events_until_a_receive);
	tcase_add_test(ev, test_partial_accept_then_zero_length_receive_reenables_event);
	tcase_add_test(ev, test_queued_receive_beats_receive_event);
	tcase_add_test(ev, test_disconnect_event_graceful_then_abortive_on_reset);
	tcase_add_test(ev, test_send_backlog_event_reports_send_buffer_once);
	suite_add_tcase(s, ev);

	tcase_add_checked_fixture(dis, wsk_pair_setup, wsk_pair_teardown);
	tcase_add_test(dis, test_graceful_disconnect_sends_buffer_then_fin_and_still_receives);
	tcase_add_test(dis, test_abortive_disconnect_cancels_sends_and_resets_peer);
	tcase_add_test(dis, test_disconnect_on_unconnected_or_wrong_category_refused);
	tcase_add_test(dis, test_release_validates_its_list);
	tcase_add_test(dis, test_socket_connect_completes_with_connected_socket);
	suite_add_tcase(s, dis);

	tcase_add_checked_fixture(rcv, wsk_pair_setup, wsk_pair_teardown);
	tcase_add_test(rcv, test_receive_flags_conformance);
	tcase_add_test(rcv, test_waitall_completes_when_full_or_at_fin);
	tcase_add_test(rcv, test_drain_discards_until_fin);
	suite_add_tcase(s, rcv);

	tcase_add_checked_fixture(sub, wsk_pair_setup, wsk_pair_teardown);
	tcase_add_test(sub, test_submission_from_a_second_thread_runs_on_the_shard);
	tcase_add_test(sub, test_submit_ring_full_and_bad_sqe);
	suite_add_tcase(s, sub);
	return s;
}

int
main(void)
{
	return test_run_suite(wsk_api2_suite()) == 0 ? EXIT_SUCCESS
						      : EXIT_FAILURE;
}
