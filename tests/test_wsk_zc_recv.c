/*
 * The zero-copy receive event: indications point into the received mbufs,
 * STATUS_PENDING lends them to the application until release(), partial
 * acceptance keeps the mbufs themselves for the next receive, the element
 * pool runs short and recovers, and close and destroy with indications
 * still retained leak nothing.
 *
 * wskapi on both ends (the wsk_pair.h fixture): the client socket of wc
 * sends the test pattern, the server socket of ws receives it through
 * the event. Over the fake wire the receiver gets the sender's frames
 * themselves, so a wire filter that records where each payload segment's
 * bytes are tells whether an indication shows those very bytes. Every
 * teardown destroys the clients and proves that no connection and no mbuf
 * was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "test_eal.h"
#include "wsk.h"
#include "wsk_pair.h"

#define SALT		7
#define STREAM_MAX	(256u * 1024u)
#define TAG_SEND	1000u		/* + n: the client's sends */
#define TAG_RECV	2000u		/* the one receive of the server */
#define TAG_CLOSE	3000u
#define MAX_ELEMS	64u		/* one callback's elements recorded */
#define MAX_KEPT	64u		/* lists retained at once */

static uint8_t out[STREAM_MAX];		/* what the client sends */
static uint8_t got[STREAM_MAX];		/* what the server was given */
static size_t got_len;

/* --- the wire --------------------------------------------------------------- */

#define WIRE_MAX 256
static const uint8_t *seen_va[WIRE_MAX];	/* client -> server payload */
static unsigned nb_seen;

static bool
record_payload(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	for (const struct rte_mbuf *p = m->next; p != NULL; p = p->next)
		if (nb_seen < WIRE_MAX)
			seen_va[nb_seen++] = rte_pktmbuf_mtod(p,
							      const uint8_t *);
	return false;
}

/* --- the application ---------------------------------------------------------- */

enum answer { ANS_ALL, ANS_PENDING, ANS_PARTIAL, ANS_NONE };

/* A retained list: where its bytes sit in the stream. */
struct kept {
	WSK_DATA_INDICATION *list;
	size_t at, len;
};

static struct {
	enum answer answer;
	bool mixed;		/* cycle through the answers per call */
	unsigned pending_first;	/* retain the first calls' lists, then
				 * answer as told */
	size_t partial;		/* ANS_PARTIAL: bytes taken (0: half) */
	unsigned calls, asap_calls, answered[4];
	bool paused;		/* the last call left bytes behind */
	/* The last call's elements, and the pool in use during it. */
	const uint8_t *va[MAX_ELEMS];
	size_t len[MAX_ELEMS];
	unsigned nva;
	size_t last_n;
	uint32_t in_use_during;
	struct kept kept[MAX_KEPT];
	unsigned nkept;
} zc;

/* The server's one receive request, and completions not otherwise
 * handled. */
static uint8_t rbuf[4096];
static struct wsk_mdl rmdl;
static WSK_BUF rwsk;
static bool rpending;
static unsigned sends_out, sends_done;
static bool sends_may_fail;	/* the test resets the connection */
static struct wsk_completion others[8];
static unsigned nothers;

static void
append(const uint8_t *p, size_t n)
{
	ck_assert_uint_le(got_len + n, sizeof(got));
	if (memcmp(p, out + got_len, n) != 0)
		ck_abort_msg("bytes at %zu out of order", got_len);
	memcpy(got + got_len, p, n);
	got_len += n;
}

static void
drain_cq(void)
{
	struct wsk_completion *e, c;

	while (wsk_cq_peek(cq, &e) == 0) {
		c = *e;
		wsk_cq_seen(cq, e);
		if (c.user_data >= TAG_SEND && c.user_data < TAG_RECV) {
			if (!sends_may_fail)
				ck_assert_int_eq(c.status, STATUS_SUCCESS);
			sends_out--;
			sends_done++;
		} else if (c.user_data == TAG_RECV) {
			ck_assert_int_eq(c.status, STATUS_SUCCESS);
			append(rbuf, c.information);
			rpending = false;
		} else {
			ck_assert_uint_lt(nothers, RTE_DIM(others));
			others[nothers++] = c;
		}
	}
}

static NTSTATUS
post_recv(WSK_SOCKET *so, size_t len)
{
	struct wsk_request r = rq(TAG_RECV);
	NTSTATUS st;

	ck_assert(!rpending);
	ck_assert_uint_le(len, sizeof(rbuf));
	rmdl = (struct wsk_mdl){ .va = rbuf, .len = sizeof(rbuf) };
	rwsk = (WSK_BUF){ .mdl = len > 0 ? &rmdl : NULL, .length = len };
	rpending = true;
	st = so->connection->receive(so, &rwsk, 0, &r);
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	return st;
}

/* The bytes of a list, checked against the stream at 'at'. */
static size_t
list_check(const WSK_DATA_INDICATION *d, size_t at)
{
	size_t n = 0;

	for (; d != NULL; d = d->next) {
		const uint8_t *p = (const uint8_t *)d->buffer.mdl->va +
				   d->buffer.offset;

		if (memcmp(p, out + at + n, d->buffer.length) != 0)
			ck_abort_msg("retained bytes at %zu changed", at + n);
		n += d->buffer.length;
	}
	return n;
}

static uint32_t
pool_in_use(struct wsk_client *c)
{
	struct wsk_client_counters k;

	wsk_client_counters_get(c, &k);
	return k.ind_pool_in_use;
}

static NTSTATUS
on_zc(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind, size_t n,
      size_t *accepted)
{
	enum answer a;
	size_t total = 0, take = n;
	unsigned i = 0;

	ck_assert_ptr_eq(ctx, (void *)0x33);
	/* A receive completed before this call holds older bytes. */
	drain_cq();
	zc.calls++;
	if (flags & WSK_FLAG_RELEASE_ASAP)
		zc.asap_calls++;
	ck_assert_uint_eq(flags & ~WSK_FLAG_RELEASE_ASAP, 0);
	ck_assert_ptr_nonnull(ind);
	for (WSK_DATA_INDICATION *d = ind; d != NULL; d = d->next, i++) {
		const struct wsk_mdl *m = d->buffer.mdl;

		ck_assert_ptr_nonnull(m);
		ck_assert_ptr_null(m->next);
		ck_assert_uint_eq(d->buffer.offset, 0);
		ck_assert_uint_gt(d->buffer.length, 0);
		ck_assert_uint_eq(m->len, d->buffer.length);
		if (i < MAX_ELEMS) {
			zc.va[i] = m->va;
			zc.len[i] = m->len;
		}
		total += d->buffer.length;
	}
	ck_assert_uint_eq(total, n);
	zc.nva = i;
	zc.last_n = n;
	zc.in_use_during = pool_in_use(ws);
	a = zc.mixed ? (enum answer)(zc.calls % 4) :
	    zc.calls <= zc.pending_first ? ANS_PENDING : zc.answer;
	/* A well-behaved application does not retain when asked not to. */
	if (zc.mixed && a == ANS_PENDING && (flags & WSK_FLAG_RELEASE_ASAP))
		a = ANS_ALL;
	zc.answered[a]++;
	if (a == ANS_PARTIAL)
		take = RTE_MIN(n, zc.partial ? zc.partial : n / 2);
	else if (a == ANS_NONE)
		take = 0;
	if (a == ANS_PENDING) {
		ck_assert_uint_lt(zc.nkept, MAX_KEPT);
		zc.kept[zc.nkept++] = (struct kept){ ind, got_len, n };
	}
	/* Copy out what is taken, element by element (no other copy). */
	for (WSK_DATA_INDICATION *d = ind; d != NULL && take > 0; d = d->next) {
		size_t k = RTE_MIN(take, d->buffer.length);

		append(d->buffer.mdl->va, k);
		take -= k;
	}
	*accepted = a == ANS_PARTIAL ? RTE_MIN(n, zc.partial ? zc.partial :
					       n / 2) :
		    a == ANS_NONE ? 0 : n;
	if (*accepted < n)
		zc.paused = true;
	return a == ANS_PENDING ? STATUS_PENDING :
	       a == ANS_NONE ? STATUS_DATA_NOT_ACCEPTED : STATUS_SUCCESS;
}

static const WSK_CLIENT_CONNECTION_DISPATCH zc_events = {
	.receive_event = on_zc,
};

/* Release retained list i (its bytes checked first). */
static void
release_kept(WSK_SOCKET *so, unsigned i)
{
	struct kept k = zc.kept[i];

	ck_assert_uint_eq(list_check(k.list, k.at), k.len);
	ck_assert_int_eq(so->connection->release(so, k.list), STATUS_SUCCESS);
	zc.kept[i] = zc.kept[--zc.nkept];
}

static void
release_all(WSK_SOCKET *so)
{
	while (zc.nkept > 0)
		release_kept(so, zc.nkept - 1);
}

/* One pass of wsk_poll(), then what it completed. */
static void
poll_drain(void)
{
	wsk_poll(1);
	drain_cq();
}

/* Keep up to 4 sends of 16 KiB going until 'total' bytes are sent. */
static size_t sent;

static void
pump_sends(WSK_SOCKET *client, size_t total)
{
	while (sent < total && sends_out < 4) {
		size_t n = RTE_MIN((size_t)16384, total - sent);

		ck_assert_int_eq(send_bytes(client, out + sent, n,
					    TAG_SEND + sends_done + sends_out),
				 STATUS_PENDING);
		sends_out++;
		sent += n;
	}
}

/* Send n bytes and poll until they are acknowledged. */
static void
send_and_wait(WSK_SOCKET *client, size_t n)
{
	size_t total = sent + n;

	for (int i = 0; i < 500 && (sent < total || sends_out > 0); i++) {
		pump_sends(client, total);
		poll_drain();
	}
	ck_assert_uint_eq(sent, total);
	ck_assert_uint_eq(sends_out, 0);
}

/* Poll until the server was given 'total' bytes (at most 100 passes):
 * all of them, every element back in the pool; then close both
 * sockets. */
static void
receive_rest(WSK_SOCKET *client, WSK_SOCKET *so, size_t total)
{
	for (int i = 0; i < 100 && got_len < total; i++)
		poll_drain();
	ck_assert_uint_eq(got_len, total);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	close_sock(so);
	close_sock(client);
}

/* A connected pair whose server socket has the receive event on. */
static WSK_SOCKET *
zc_pair(WSK_SOCKET **client)
{
	WSK_SOCKET *so = pair(client, NULL, &zc_events, NULL);

	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	return so;
}

/* Send n bytes while the event is off, then turn it on: the first
 * indication shows all of them at once, one element per segment. */
static void
send_then_enable(WSK_SOCKET *client, WSK_SOCKET *so, size_t n)
{
	unsigned calls = zc.calls;

	send_and_wait(client, n);
	ck_assert_uint_eq(zc.calls, calls);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	ck_assert_uint_gt(zc.calls, calls);
}

static void
setup(void)
{
	wsk_pair_setup();
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = pattern(i, SALT);
	memset(&zc, 0, sizeof(zc));
	got_len = 0;
	nb_seen = 0;
	rpending = false;
	sends_out = sends_done = 0;
	sends_may_fail = false;
	sent = 0;
	nothers = 0;
}

/* --- indications point into the mbufs ------------------------------------------- */

/* Each element is one received segment: its MDL shows the bytes where the
 * frame brought them (the very addresses seen on the wire), the elements
 * come from the pool while the callback runs, and go back after it. */
START_TEST(test_indication_points_into_received_mbufs)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &zc_events, NULL);
	struct wsk_client_counters k;

	pair_attach_payloads();
	fpc.wire_filter = record_payload;
	send_then_enable(client, so, 3000);
	ck_assert_uint_eq(zc.calls, 1);
	ck_assert_uint_eq(got_len, 3000);
	ck_assert_uint_ge(nb_seen, 3);
	ck_assert_uint_eq(zc.nva, nb_seen);
	for (unsigned i = 0; i < zc.nva; i++)
		ck_assert_ptr_eq(zc.va[i], seen_va[i]);
	ck_assert_uint_eq(zc.in_use_during, zc.nva);
	wsk_client_counters_get(ws, &k);
	ck_assert_uint_eq(k.ind_pool_in_use, 0);
	ck_assert_uint_eq(k.ind_pool_size, WSK_INDICATION_POOL_MIN);
	ck_assert_uint_eq(k.indications, 1);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* STATUS_PENDING lends the list: the bytes stay valid and in the pool
 * count while more traffic flows, and release() frees the mbufs (the
 * sender's pool gets its clones back) and the elements. */
START_TEST(test_pending_keeps_the_buffers_until_release)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &zc_events, NULL);
	unsigned mbufs, n;

	zc.answer = ANS_PENDING;
	fpc.wire_filter = record_payload;
	send_then_enable(client, so, 3000);
	ck_assert_uint_eq(zc.nkept, 1);
	ck_assert_uint_ge(zc.nva, 3);
	n = zc.nva;
	ck_assert_uint_eq(pool_in_use(ws), n);
	/* Other bytes come and go meanwhile. */
	zc.answer = ANS_ALL;
	send_and_wait(client, 40000);
	ck_assert_uint_eq(got_len, 43000);
	ck_assert_uint_eq(pool_in_use(ws), n);
	ck_assert_ptr_eq(zc.kept[0].list->buffer.mdl->va, seen_va[0]);
	mbufs = rte_mempool_in_use_count(cs->pool);
	release_kept(so, 0);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	ck_assert_uint_le(rte_mempool_in_use_count(cs->pool), mbufs - n);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- held bytes --------------------------------------------------------------- */

/* A partial accept keeps the rest; later bytes wait behind it; a receive
 * gets both, in order. The held bytes use no element. */
START_TEST(test_partial_accept_then_receive_gets_the_rest)
{
	WSK_SOCKET *client, *so = zc_pair(&client);

	zc.answer = ANS_PARTIAL;
	zc.partial = 1000;
	send_and_wait(client, 3000);
	ck_assert_uint_eq(zc.calls, 1);
	ck_assert_uint_eq(got_len, 1000);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	send_and_wait(client, 2000);
	ck_assert_uint_eq(zc.calls, 1);
	ck_assert_int_eq(post_recv(so, 4096), STATUS_SUCCESS);
	drain_cq();
	ck_assert(!rpending);
	ck_assert_uint_eq(got_len, 5000);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* What was not accepted stays in its mbuf: the next indication shows the
 * same bytes at the same address, not a copy. */
START_TEST(test_unaccepted_bytes_are_indicated_again_in_place)
{
	WSK_SOCKET *client, *so = zc_pair(&client);
	const uint8_t *first;

	zc.answer = ANS_PARTIAL;
	zc.partial = 1000;
	fpc.wire_filter = record_payload;
	send_and_wait(client, 1200);
	ck_assert_uint_eq(zc.calls, 1);
	first = zc.va[0];
	ck_assert_ptr_eq(first, seen_va[0]);
	zc.answer = ANS_ALL;
	/* A zero-length receive just re-enables the event. */
	ck_assert_int_eq(post_recv(so, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(zc.calls, 2);
	ck_assert_ptr_eq(zc.va[0], first + 1000);
	drain_cq();
	ck_assert_uint_eq(got_len, 1200);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* A receive the callback starts is served after the bytes the callback
 * leaves, not ahead of them nor from the bytes the connection still holds
 * behind the indication. */
static WSK_SOCKET *inner_so;
static NTSTATUS inner_status;

static NTSTATUS
on_recv_inside(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
	       size_t n, size_t *accepted)
{
	(void)ctx;
	(void)flags;
	zc.calls++;
	ck_assert_uint_gt(n, 600);
	append(ind->buffer.mdl->va, 100);
	inner_status = post_recv(inner_so, 500);
	*accepted = 100;
	return STATUS_SUCCESS;
}

START_TEST(test_receive_from_inside_the_callback_keeps_order)
{
	static const WSK_CLIENT_CONNECTION_DISPATCH d = {
		.receive_event = on_recv_inside,
	};
	WSK_SOCKET *client, *so = pair(&client, NULL, &d, NULL);

	inner_so = so;
	/* More than one indication's worth waits in the connection. */
	send_then_enable(client, so, 20000);
	ck_assert_uint_eq(zc.calls, 1);
	ck_assert_int_eq(inner_status, STATUS_PENDING);
	drain_cq();
	ck_assert(!rpending);
	ck_assert_uint_eq(got_len, 600);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- everything at once ---------------------------------------------------------- */

/* 200,000 bytes through the event with every kind of return in turn
 * (all, retain, half, none), receives (zero-length and 1,500 bytes)
 * after each stop, and retained lists released now and then: every byte
 * arrives once, in order, and the retained ones stayed intact. */
START_TEST(test_large_transfer_with_mixed_returns)
{
	WSK_SOCKET *client, *so = zc_pair(&client);
	const size_t total = 200000;
	unsigned calls;

	zc.mixed = true;
	for (unsigned round = 0; round < 3000 && got_len < total; round++) {
		pump_sends(client, total);
		poll_drain();
		if (zc.paused && !rpending) {
			zc.paused = false;
			post_recv(so, round % 2 ? 1500 : 0);
			drain_cq();
		}
		if (round % 3 == 0)
			release_all(so);
	}
	release_all(so);
	ck_assert_uint_eq(got_len, total);
	ck_assert(memcmp(got, out, total) == 0);
	for (unsigned a = 0; a < 4; a++)
		ck_assert_uint_gt(zc.answered[a], 0);
	/* Nothing more comes, and the last sends are acknowledged (a
	 * delayed ACK away). */
	calls = zc.calls;
	for (int i = 0; i < 100 && sends_out > 0; i++)
		poll_drain();
	ck_assert_uint_eq(sends_out, 0);
	ck_assert_uint_eq(zc.calls, calls);
	ck_assert_uint_eq(got_len, total);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	close_sock(so);
	close_sock(client);
}
END_TEST

/* --- the pool runs out --------------------------------------------------------- */

/* An application that retains everything empties the pool: the callbacks
 * that take the last elements carry RELEASE_ASAP, one is cut short, then
 * the event waits (data stays in the connection) until a release, after
 * which the next wsk_client_poll() resumes it; all bytes arrive in
 * order. */
START_TEST(test_pool_exhaustion_defers_until_release)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &zc_events, NULL);
	struct wsk_client_counters k;
	const size_t total = 200000;
	unsigned calls;

	zc.answer = ANS_PENDING;
	/* All waiting at once, so indications are full-sized. */
	send_then_enable(client, so, total);
	wsk_client_counters_get(ws, &k);
	ck_assert_uint_eq(k.ind_pool_in_use, k.ind_pool_size);
	ck_assert_uint_gt(k.indications_deferred, 0);
	ck_assert_uint_ge(k.indications_cut, 1);
	ck_assert_uint_gt(zc.asap_calls, 0);
	ck_assert_uint_lt(got_len, total);
	/* Nothing moves while the pool is empty. */
	calls = zc.calls;
	wsk_poll(10);
	ck_assert_uint_eq(zc.calls, calls);
	/* One release, then the client's poll alone resumes the event. */
	release_kept(so, 0);
	wsk_client_poll(ws);
	ck_assert_uint_gt(zc.calls, calls);
	zc.answer = ANS_ALL;
	release_all(so);
	receive_rest(client, so, total);
}
END_TEST

/* The indication the pool cut short is partly accepted: its rest goes
 * back in front of the bytes it left behind, and everything still
 * arrives in order. */
START_TEST(test_cut_indication_partly_accepted_keeps_order)
{
	WSK_SOCKET *client, *so = pair(&client, NULL, &zc_events, NULL);
	struct wsk_client_counters k;
	const size_t total = 120000;

	/* Five full indications of about 12 elements fit in 64; the sixth
	 * gets what is left. */
	zc.pending_first = 5;
	zc.answer = ANS_PARTIAL;
	zc.partial = 1000;
	send_then_enable(client, so, total);
	wsk_client_counters_get(ws, &k);
	ck_assert_uint_eq(zc.calls, 6);
	ck_assert_uint_eq(k.indications_cut, 1);
	ck_assert_uint_lt(zc.last_n, 16384);
	ck_assert_uint_gt(zc.last_n, 1000);
	ck_assert(zc.paused);
	release_all(so);
	zc.answer = ANS_ALL;
	ck_assert_int_eq(post_recv(so, 0), STATUS_SUCCESS);
	receive_rest(client, so, total);
}
END_TEST

/* --- release misuse ------------------------------------------------------------ */

/* release() refuses what is not a retained element of the socket (one of
 * another client's pool, another socket's, a pointer into an element,
 * a stranger, one released already, one still lent to the running
 * callback, a cycle) and then changes nothing: the list stays retained,
 * intact, and is released fine afterwards. */
static WSK_SOCKET *lent_so;
static NTSTATUS lent_status;

static NTSTATUS
on_try_release_lent(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
		    size_t n, size_t *accepted)
{
	(void)ctx;
	(void)flags;
	lent_status = lent_so->connection->release(lent_so, ind);
	append(ind->buffer.mdl->va, ind->buffer.length);
	*accepted = ind->buffer.length;
	(void)n;
	return STATUS_SUCCESS;
}

START_TEST(test_release_misuse_is_refused_without_harm)
{
	static const WSK_CLIENT_CONNECTION_DISPATCH lent = {
		.receive_event = on_try_release_lent,
	};
	WSK_SOCKET *lis, *c1, *c2, *s1, *s2;
	WSK_DATA_INDICATION *l1, *l2, *tail, *second, stranger = { 0 };
	PFN_WSK_RELEASE rel;
	struct wsk_mdl m = { .va = out, .len = 1 };
	unsigned in_use;

	s1 = pair(&c1, NULL, &zc_events, &lis);
	/* A second socket of the same client retains one too. */
	s2 = pair_on(lis, &c2, NULL, &zc_events);
	close_sock(lis);
	rel = s1->connection->release;
	zc.answer = ANS_PENDING;
	send_then_enable(c1, s1, 3000);
	ck_assert_uint_eq(zc.nkept, 1);
	l1 = zc.kept[0].list;
	ck_assert_ptr_nonnull(l1->next);
	send_then_enable(c2, s2, 500);
	ck_assert_uint_eq(zc.nkept, 2);
	l2 = zc.kept[1].list;
	in_use = pool_in_use(ws);

	stranger.buffer = (WSK_BUF){ .mdl = &m, .length = 1 };
	ck_assert_int_eq(rel(s1, &stranger), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(s1, (WSK_DATA_INDICATION *)((uint8_t *)l1 + 8)),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(s1, l2), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(rel(s2, l1), STATUS_INVALID_PARAMETER);
	/* A good element followed by a stranger: nothing is freed. */
	for (tail = l1; tail->next != NULL; tail = tail->next)
		;
	tail->next = &stranger;
	ck_assert_int_eq(rel(s1, l1), STATUS_INVALID_PARAMETER);
	/* A cycle. */
	tail->next = l1;
	ck_assert_int_eq(rel(s1, l1), STATUS_INVALID_PARAMETER);
	tail->next = NULL;
	ck_assert_uint_eq(pool_in_use(ws), in_use);
	ck_assert_uint_eq(list_check(l1, zc.kept[0].at), zc.kept[0].len);
	/* Of another client: the clients' pools are told apart. */
	ck_assert_int_eq(c1->connection->release(c1, l1),
			 STATUS_INVALID_PARAMETER);
	/* Released in two parts, then the first part again. */
	second = l1->next;
	l1->next = NULL;
	ck_assert_int_eq(rel(s1, l1), STATUS_SUCCESS);
	ck_assert_int_eq(rel(s1, second), STATUS_SUCCESS);
	ck_assert_int_eq(rel(s1, l1), STATUS_INVALID_PARAMETER);
	zc.kept[0] = zc.kept[1];
	zc.nkept = 1;
	release_kept(s2, 0);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	close_sock(s2);
	close_sock(c2);

	/* One still lent to the callback that runs: not retained yet. */
	lent_status = STATUS_SUCCESS;
	close_sock(s1);
	close_sock(c1);
	s1 = pair(&c1, NULL, &lent, NULL);
	lent_so = s1;
	ck_assert_int_eq(enable_events(s1, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	got_len = 0;
	sent = 0;
	send_and_wait(c1, 100);
	ck_assert_int_eq(lent_status, STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(got_len, 100);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	close_sock(s1);
	close_sock(c1);
}
END_TEST

/* --- close and destroy ------------------------------------------------------------ */

/* Closing with a retained list: the close pends, the socket takes no
 * call but release, the bytes stay valid; the last release completes
 * the close. Then the socket is closed for release too. */
START_TEST(test_close_with_retained_waits_for_release)
{
	WSK_SOCKET *client, *so = zc_pair(&client);
	struct wsk_request r = rq(TAG_CLOSE);
	uint8_t b[8];
	struct wsk_mdl m = { .va = b, .len = sizeof(b) };
	WSK_BUF buf = { .mdl = &m, .length = sizeof(b) };
	struct wsk_request rr = rq(TAG_RECV);
	struct wsk_completion e;
	struct kept k;

	zc.answer = ANS_PENDING;
	send_and_wait(client, 3000);
	ck_assert_uint_ge(zc.nkept, 2);
	k = zc.kept[0];
	ck_assert_int_eq(so->basic->close_socket(so, &r), STATUS_PENDING);
	wsk_poll(3);
	drain_cq();
	ck_assert_uint_eq(nothers, 0);
	ck_assert_int_eq(so->connection->receive(so, &buf, 0, &rr),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(so->basic->close_socket(so, &r),
			 STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(list_check(k.list, k.at), k.len);
	ck_assert_uint_gt(pool_in_use(ws), 0);
	/* All but the last release leave the close waiting. */
	while (zc.nkept > 1) {
		release_kept(so, 0);
		expect_nothing_posted();
	}
	k = zc.kept[0];
	release_kept(so, 0);
	e = reap_one();
	ck_assert_uint_eq(e.user_data, TAG_CLOSE);
	ck_assert_int_eq(e.status, STATUS_SUCCESS);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	ck_assert_int_eq(so->connection->release(so, k.list),
			 STATUS_INVALID_PARAMETER);
	close_sock(client);
}
END_TEST

/* A callback that closes its socket cannot retain: the close completes
 * at once and the list is freed when the callback returns. */
static WSK_SOCKET *closing_so;
static NTSTATUS closing_status;

static NTSTATUS
on_close_inside(void *ctx, uint32_t flags, WSK_DATA_INDICATION *ind,
		size_t n, size_t *accepted)
{
	struct wsk_request r = rq(TAG_CLOSE);

	(void)ctx;
	(void)flags;
	(void)ind;
	(void)accepted;
	ck_assert_uint_gt(pool_in_use(ws), 0);
	closing_status = closing_so->basic->close_socket(closing_so, &r);
	zc.calls++;
	(void)n;
	return STATUS_PENDING;
}

START_TEST(test_close_inside_the_callback_frees_the_list)
{
	static const WSK_CLIENT_CONNECTION_DISPATCH d = {
		.receive_event = on_close_inside,
	};
	WSK_SOCKET *client, *so = pair(&client, NULL, &d, NULL);

	closing_so = so;
	ck_assert_int_eq(enable_events(so, WSK_EVENT_RECEIVE), STATUS_SUCCESS);
	/* The close resets the connection under the send. */
	sends_may_fail = true;
	ck_assert_int_eq(send_bytes(client, out, 3000, TAG_SEND),
			 STATUS_PENDING);
	sends_out++;
	for (int i = 0; i < 20 && sends_out > 0; i++)
		poll_drain();
	ck_assert_uint_eq(sends_out, 0);
	ck_assert_uint_eq(zc.calls, 1);
	ck_assert_int_eq(closing_status, STATUS_SUCCESS);
	ck_assert_uint_eq(nothers, 1);
	ck_assert_uint_eq(others[0].user_data, TAG_CLOSE);
	ck_assert_int_eq(others[0].status, STATUS_SUCCESS);
	ck_assert_uint_eq(pool_in_use(ws), 0);
	close_sock(client);
}
END_TEST

/* Destroying the client with lists still retained, one on an open
 * socket, one on a socket whose close waits for them: the teardown's
 * leak checks (every mbuf back in both pools) prove they were freed. */
START_TEST(test_destroy_with_retained_lists_is_leak_free)
{
	WSK_SOCKET *lis, *c1, *c2, *s1, *s2;
	struct wsk_request r = rq(TAG_CLOSE);
	unsigned kept;

	s1 = pair(&c1, NULL, &zc_events, &lis);
	s2 = pair_on(lis, &c2, NULL, &zc_events);
	close_sock(lis);
	zc.answer = ANS_PENDING;
	send_then_enable(c1, s1, 3000);
	kept = zc.nkept;
	send_then_enable(c2, s2, 2000);
	ck_assert_uint_gt(zc.nkept, kept);
	ck_assert_int_eq(s2->basic->close_socket(s2, &r), STATUS_PENDING);
	ck_assert_uint_gt(pool_in_use(ws), 0);
}
END_TEST

static Suite *
zc_recv_suite(void)
{
	Suite *s = suite_create("wsk_zc_recv");
	TCase *ind = tcase_create("indication");
	TCase *rel = tcase_create("release_close");

	tcase_add_checked_fixture(ind, setup, wsk_pair_teardown);
	tcase_add_test(ind, test_indication_points_into_received_mbufs);
	tcase_add_test(ind, test_pending_keeps_the_buffers_until_release);
	tcase_add_test(ind, test_partial_accept_then_receive_gets_the_rest);
	tcase_add_test(ind, test_unaccepted_bytes_are_indicated_again_in_place);
	tcase_add_test(ind, test_receive_from_inside_the_callback_keeps_order);
	tcase_add_test(ind, test_large_transfer_with_mixed_returns);
	tcase_add_test(ind, test_pool_exhaustion_defers_until_release);
	tcase_add_test(ind, test_cut_indication_partly_accepted_keeps_order);
	suite_add_tcase(s, ind);

	tcase_add_checked_fixture(rel, setup, wsk_pair_teardown);
	tcase_add_test(rel, test_release_misuse_is_refused_without_harm);
	tcase_add_test(rel, test_close_with_retained_waits_for_release);
	tcase_add_test(rel, test_close_inside_the_callback_frees_the_list);
	tcase_add_test(rel, test_destroy_with_retained_lists_is_leak_free);
	suite_add_tcase(s, rel);
	return s;
}

int
main(void)
{
	return test_run_suite(zc_recv_suite()) == 0 ? EXIT_SUCCESS
						    : EXIT_FAILURE;
}
