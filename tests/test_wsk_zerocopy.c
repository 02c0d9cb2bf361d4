/*
 * Zero-copy transmit: tcp_send_ext() in the engine, and registered memory
 * with wskapi send.
 *
 * Proves that attached user memory reaches the peer byte for byte, also
 * through losses (retransmissions, SACK/RACK recovery) and mixed with
 * copied bytes in submission order; that the wire carries mbufs attached
 * to the user's memory, not copies; that a send completes only once no
 * mbuf references its memory (a clone held at the fake port delays it,
 * freeing that clone, on this thread or another, releases it); that
 * failed and cancelled sends, and the close or abortive disconnect behind
 * them, wait the same way and complete in order; that registration misuse
 * gets its documented status; and that nothing leaks.
 *
 * Two engines over fake ports on the virtual clock (tests/support
 * tcp_pair): the client side is the engine itself (tcase engine) or a
 * wskapi client (tcase wsk); the server is the TCP engine, its data read
 * and checked against the pattern in every pass.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "tcp_pair.h"
#include "test_eal.h"
#include "wsk.h"
#include "wsk_ring.h"

#define SALT 7

/* --- the server's reader ---------------------------------------------------- */

static uint64_t srv_got;	/* stream bytes read and checked */

/* Read what the server connection holds, checking each byte against the
 * pattern at its stream position. */
static void
srv_read(void)
{
	static uint8_t in[65536];
	uint32_t k;

	if (tsrv.c == NULL)
		return;
	while ((k = tcp_recv(tsrv.c, in, sizeof(in))) > 0) {
		for (uint32_t i = 0; i < k; i++)
			if (in[i] != pattern(srv_got + i, SALT))
				ck_abort_msg("stream byte %lu differs",
					     (unsigned long)(srv_got + i));
		srv_got += k;
	}
}

/* User memory holding the pattern from stream position 'from'. */
static uint8_t *
pattern_buf(size_t len, uint64_t from)
{
	uint8_t *b = malloc(len);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < len; i++)
		b[i] = pattern(from + i, SALT);
	return b;
}

/* --- a clone held at the fake port ----------------------------------------- */

/* The client's wire hands the first data frame that carries attached
 * memory to held_pick() as well, which keeps a clone of it: one more
 * reference to that memory, outside the engine. */
static struct rte_mbuf *held;
static bool hold_wanted;

static bool
frame_has_extbuf(const struct rte_mbuf *m)
{
	for (const struct rte_mbuf *s = m->next; s != NULL; s = s->next)
		if (RTE_MBUF_HAS_EXTBUF(s))
			return true;
	return false;
}

static bool
held_pick(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	if (hold_wanted && held == NULL && frame_has_extbuf(m)) {
		held = rte_pktmbuf_clone((struct rte_mbuf *)(uintptr_t)m,
					 cs->pool);
		ck_assert_ptr_nonnull(held);
	}
	return false;
}

static void
held_free(void)
{
	rte_pktmbuf_free(held);
	held = NULL;
}

/* ============================================================================
 * tcase engine: tcp_send_ext() directly
 * ========================================================================= */

static struct rte_mbuf_ext_shared_info eng_sh;
static unsigned eng_frees;
static const uint8_t *eng_lo, *eng_hi;	/* the memory the wire may carry */
static uint64_t eng_ext_segs, eng_other_segs;

static void
eng_free_cb(void *addr, void *opaque)
{
	(void)addr;
	ck_assert_ptr_eq(opaque, &eng_sh);
	eng_frees++;
}

/* Every payload segment the client sends must be attached to eng_sh over
 * the user's memory. */
static bool
eng_wire_check(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	for (const struct rte_mbuf *s = m->next; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		if (!RTE_MBUF_HAS_EXTBUF(s) || s->shinfo != &eng_sh ||
		    p < eng_lo || p + s->data_len > eng_hi) {
			eng_other_segs++;
			continue;
		}
		eng_ext_segs++;
	}
	return held_pick(arg, m);
}

static void
eng_setup(void)
{
	setup_pair();
	memset(&eng_sh, 0, sizeof(eng_sh));
	eng_sh.free_cb = eng_free_cb;
	eng_sh.fcb_opaque = &eng_sh;
	rte_mbuf_ext_refcnt_set(&eng_sh, 1);
	eng_frees = 0;
	eng_ext_segs = eng_other_segs = 0;
	srv_got = 0;
	held = NULL;
	hold_wanted = false;
	fpc.wire_filter = eng_wire_check;
	open_pair();
}

static void
eng_teardown(void)
{
	held_free();
	close_pair();
	tsrv.c = NULL;
	teardown_common();
}

/* Let the last ACKs (delayed ones too) arrive: the client's queue is
 * empty afterwards. */
static void
settle(void)
{
	for (int i = 0; i < 100; i++) {
		advance(1000);
		srv_read();
	}
	ck_assert_uint_eq(tcp_snd_queued(tcli.c), 0);
}

/* Attach 'total' bytes of buf, reading on the server every pass; drop our
 * own reference once all is queued. Returns the passes it took. */
static unsigned
eng_transfer(const uint8_t *buf, uint32_t total, unsigned max_rounds)
{
	uint32_t sent = 0;
	unsigned rounds = 0;

	eng_lo = buf;
	eng_hi = buf + total;
	while (srv_got < total && rounds < max_rounds) {
		if (sent < total) {
			int32_t n = tcp_send_ext(tcli.c, (void *)(buf + sent),
						 RTE_BAD_IOVA, total - sent,
						 &eng_sh);

			ck_assert_int_ge(n, 0);
			sent += (uint32_t)n;
			if (sent == total)
				ck_assert_uint_ne(rte_mbuf_ext_refcnt_update(
						  &eng_sh, -1), 0);
		}
		advance(1000);
		srv_read();
		rounds++;
	}
	ck_assert_uint_eq(srv_got, total);
	return rounds;
}

START_TEST(test_send_ext_large_transfer_arrives_intact_from_user_memory)
{
	const uint32_t total = 4u << 20;
	uint8_t *buf = pattern_buf(total, 0);

	eng_transfer(buf, total, 2000);
	/* Every payload segment on the wire was the user's memory. */
	ck_assert_uint_ge(eng_ext_segs, total / 1460);
	ck_assert_uint_eq(eng_other_segs, 0);
	settle();
	ck_assert_uint_eq(eng_frees, 1);
	ck_assert_uint_eq(rte_mbuf_ext_refcnt_read(&eng_sh), 0);
	free(buf);
}
END_TEST

START_TEST(test_send_ext_lossy_wire_retransmits_from_user_memory)
{
	const uint32_t total = 2u << 20;
	uint8_t *buf = pattern_buf(total, 0);

	fpc.drop_every_nth = 9;
	eng_transfer(buf, total, 20000);
	ck_assert_uint_gt(fpc.wire_dropped, 0);
	ck_assert_uint_gt(pair_stat(cli, "tcp_rexmt_segments"), 0);
	ck_assert_uint_eq(eng_other_segs, 0);
	fpc.drop_every_nth = 0;
	settle();
	ck_assert_uint_eq(eng_frees, 1);
	free(buf);
}
END_TEST

START_TEST(test_send_ext_mixed_with_copies_keeps_order)
{
	const uint32_t total = 300000;
	uint8_t *buf = pattern_buf(total, 0);
	uint32_t sent = 0, step = 0;
	unsigned rounds = 0;

	eng_lo = buf;
	eng_hi = buf + total;
	/* Alternate copied and attached pieces of odd sizes, so attached
	 * mbufs follow partly filled copied ones. */
	while (srv_got < total && rounds < 2000) {
		uint32_t want = RTE_MIN(total - sent, 700 + (step % 5) * 3001);
		int32_t n = 0;

		if (want > 0)
			n = step % 2 == 0 ? tcp_send(tcli.c, buf + sent, want)
					  : tcp_send_ext(tcli.c, buf + sent,
							 RTE_BAD_IOVA, want,
							 &eng_sh);
		ck_assert_int_ge(n, 0);
		sent += (uint32_t)n;
		step++;
		advance(1000);
		srv_read();
		rounds++;
	}
	ck_assert_uint_eq(srv_got, total);
	ck_assert_uint_gt(eng_ext_segs, 0);
	ck_assert_uint_gt(eng_other_segs, 0);	/* the copied pieces */
	settle();
	ck_assert_uint_eq(rte_mbuf_ext_refcnt_update(&eng_sh, -1), 0);
	ck_assert_uint_eq(eng_frees, 0);	/* DPDK calls it only on its own drop */
	free(buf);
}
END_TEST

START_TEST(test_send_ext_reference_held_outside_delays_the_callback)
{
	const uint32_t total = 100000;
	uint8_t *buf = pattern_buf(total, 0);

	hold_wanted = true;
	eng_transfer(buf, total, 200);
	settle();
	ck_assert_ptr_nonnull(held);
	ck_assert_uint_eq(eng_frees, 0);
	ck_assert_uint_ge(rte_mbuf_ext_refcnt_read(&eng_sh), 1);
	held_free();
	ck_assert_uint_eq(eng_frees, 1);
	free(buf);
}
END_TEST

START_TEST(test_send_ext_stops_at_the_reference_limit)
{
	uint8_t *buf = pattern_buf(20000, 0);
	const uint16_t fake = TCP_EXT_REFS_MAX - 3;
	int32_t n;

	/* As if other mbufs held all but two of the references it may add. */
	rte_mbuf_ext_refcnt_update(&eng_sh, (int16_t)fake);
	n = tcp_send_ext(tcli.c, buf, RTE_BAD_IOVA, 20000, &eng_sh);
	/* Two mbufs of a segment each (1448 bytes with timestamps on these
	 * ports); output cloned them at once, which the limit leaves room
	 * for. */
	ck_assert_int_eq(n, 2 * 1448);
	ck_assert_uint_ge(rte_mbuf_ext_refcnt_read(&eng_sh), 1 + fake + 2);
	rte_mbuf_ext_refcnt_update(&eng_sh, (int16_t)-fake);
	eng_lo = buf;
	eng_hi = buf + 20000;
	for (int i = 0; i < 50 && srv_got < (uint64_t)n; i++) {
		advance(1000);
		srv_read();
	}
	ck_assert_uint_eq(srv_got, (uint64_t)n);
	settle();
	ck_assert_uint_eq(rte_mbuf_ext_refcnt_update(&eng_sh, -1), 0);
	free(buf);
}
END_TEST

START_TEST(test_send_ext_refuses_bad_arguments_and_states)
{
	uint8_t b[16];

	ck_assert_int_eq(tcp_send_ext(tcli.c, NULL, RTE_BAD_IOVA, 1, &eng_sh),
			 -EINVAL);
	ck_assert_int_eq(tcp_send_ext(tcli.c, b, RTE_BAD_IOVA, 1, NULL),
			 -EINVAL);
	ck_assert_int_eq(tcp_send_ext(tcli.c, b, RTE_BAD_IOVA, 0, &eng_sh), 0);
	tcp_shutdown(tcli.c);
	ck_assert_int_eq(tcp_send_ext(tcli.c, b, RTE_BAD_IOVA, 1, &eng_sh),
			 -EPIPE);
	ck_assert_uint_eq(rte_mbuf_ext_refcnt_read(&eng_sh), 1);
}
END_TEST

/* ============================================================================
 * tcase wsk: registered memory and send
 * ========================================================================= */

static WSK_SOCKET *wso;
static uint8_t *mem;		/* the registered region */
static uint32_t mem_handle;
#define MEM_LEN (4u << 20)

/* One pass: both engines, the wskapi client, the server's reader. */
static void
step(void)
{
	step_wc();
	srv_read();
}

/* Step until n completions wait (at most 'max' passes). */
static void
wait_n(unsigned n, unsigned max)
{
	wait_n_by(n, step, max);
}

static void
expect(uint64_t ud, NTSTATUS st, uint64_t info)
{
	struct wsk_completion e = reap_first();

	ck_assert_uint_eq(e.user_data, ud);
	ck_assert_msg(e.status == st, "request %lu: %s, expected %s",
		      (unsigned long)ud, wsk_status_str(e.status),
		      wsk_status_str(st));
	ck_assert_uint_eq(e.information, info);
}

/* A connected wskapi socket, the server's end in tsrv. */
static void
wsk_open(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(SERVER_PORT),
		.sin_addr.s_addr = ip(SERVER_IP),
	};
	struct wsk_request r = rq(1);

	ck_assert_int_eq(wsk_socket(wc, AF_INET, SOCK_STREAM, IPPROTO_TCP,
				    WSK_FLAG_CONNECTION_SOCKET, NULL, &wso,
				    &r), STATUS_SUCCESS);
	reap_first();
	ck_assert_int_eq(wso->connection->bind(wso, (struct sockaddr *)&any,
					       0, &r), STATUS_SUCCESS);
	reap_first();
	r = rq(2);
	ck_assert_int_eq(wso->connection->connect(wso, (struct sockaddr *)&to,
						  0, &r), STATUS_PENDING);
	wait_n(1, 50);
	expect(2, STATUS_SUCCESS, 0);
	for (int i = 0; i < 20 && tl.ready == 0; i++)
		step();
	tsrv.c = tcp_accept(tl.l);
	ck_assert_ptr_nonnull(tsrv.c);
	tcp_conn_set_user(tsrv.c, &tsrv);
}

static void
wsk_setup(void)
{
	setup_pair();
	server_listen();
	wsk_client_start(16, 64, 128);
	srv_got = 0;
	held = NULL;
	hold_wanted = false;
	fpc.wire_filter = held_pick;
	mem = malloc(MEM_LEN);
	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(wsk_register_memory(wc, mem, MEM_LEN, &mem_handle),
			 STATUS_SUCCESS);
	wsk_open();
}

static void
wsk_teardown(void)
{
	held_free();
	wsk_client_stop();
	server_close();
	teardown_common();
	free(mem);
	mem = NULL;
}

/* Fill [off, off + len) of the region with the stream's bytes from
 * 'from'. */
static uint8_t *
mem_fill(size_t off, size_t len, uint64_t from)
{
	for (size_t i = 0; i < len; i++)
		mem[off + i] = pattern(from + i, SALT);
	return mem + off;
}

static NTSTATUS
send_chain(struct wsk_mdl *m, size_t offset, size_t length, uint64_t ud)
{
	static WSK_BUF b[8];
	static unsigned next;
	struct wsk_request r = rq(ud);
	WSK_BUF *bp = &b[next++ % 8];

	*bp = (WSK_BUF){ .mdl = m, .offset = offset, .length = length };
	return wso->connection->send(wso, bp, 0, &r);
}

static struct wsk_client_counters
counters(void)
{
	struct wsk_client_counters k;

	wsk_client_counters_get(wc, &k);
	return k;
}

START_TEST(test_zc_large_send_arrives_intact_without_copies)
{
	const size_t len = 3u << 20;
	struct wsk_mdl m = { .va = mem_fill(0, len, 0), .len = len };

	ck_assert_int_eq(send_chain(&m, 0, len, 10), STATUS_PENDING);
	wait_n(1, 2000);
	expect(10, STATUS_SUCCESS, len);
	ck_assert_uint_eq(srv_got, len);
	ck_assert_uint_eq(counters().send_zerocopy_bytes, len);
	ck_assert_uint_eq(counters().send_copied_bytes, 0);
	/* Completed: the region is free to go. */
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle), STATUS_SUCCESS);
}
END_TEST

START_TEST(test_zc_mixed_chains_keep_stream_and_completion_order)
{
	static uint8_t outside1[1000], outside2[2000], outside3[4000];
	uint64_t pos = 0;
	struct wsk_mdl a[6], b[1], c[2];
	size_t zc = 0, copied = 0;

	/* Send 10: unregistered, registered, registered but too short,
	 * unregistered, registered. */
	for (size_t i = 0; i < sizeof(outside1); i++)
		outside1[i] = pattern(pos + i, SALT);
	a[0] = (struct wsk_mdl){ .va = outside1, .len = sizeof(outside1),
				 .next = &a[1] };
	pos += sizeof(outside1);
	a[1] = (struct wsk_mdl){ .va = mem_fill(0, 5000, pos), .len = 5000,
				 .next = &a[2] };
	pos += 5000;
	a[2] = (struct wsk_mdl){ .va = mem_fill(8000, 300, pos), .len = 300,
				 .next = &a[3] };
	pos += 300;
	for (size_t i = 0; i < sizeof(outside2); i++)
		outside2[i] = pattern(pos + i, SALT);
	a[3] = (struct wsk_mdl){ .va = outside2, .len = sizeof(outside2),
				 .next = &a[4] };
	pos += sizeof(outside2);
	a[4] = (struct wsk_mdl){ .va = mem_fill(10000, 60000, pos),
				 .len = 60000, .next = NULL };
	pos += 60000;
	zc += 5000 + 60000;
	copied += sizeof(outside1) + 300 + sizeof(outside2);
	ck_assert_int_eq(send_chain(&a[0], 0, pos, 10), STATUS_PENDING);
	/* Send 11: copied only. */
	for (size_t i = 0; i < sizeof(outside3); i++)
		outside3[i] = pattern(pos + i, SALT);
	b[0] = (struct wsk_mdl){ .va = outside3, .len = sizeof(outside3) };
	ck_assert_int_eq(send_chain(&b[0], 0, sizeof(outside3), 11),
			 STATUS_PENDING);
	pos += sizeof(outside3);
	copied += sizeof(outside3);
	/* Send 12: a registered segment entered at offset 1234, then one
	 * whose tail lies past the region's end (copied). */
	mem_fill(100000, 1234, 0);
	c[0] = (struct wsk_mdl){ .va = mem_fill(100000 + 1234, 40000, pos) - 1234,
				 .len = 1234 + 40000, .next = &c[1] };
	pos += 40000;
	c[1] = (struct wsk_mdl){ .va = mem_fill(MEM_LEN - 1000, 1000, pos),
				 .len = 1600 };
	ck_assert_int_eq(send_chain(&c[0], 1234, 40000 + 1000, 12),
			 STATUS_PENDING);
	zc += 40000;
	copied += 1000;
	pos += 1000;
	wait_n(3, 500);
	expect(10, STATUS_SUCCESS, 5000 + 300 + 60000 + 1000 + 2000);
	expect(11, STATUS_SUCCESS, sizeof(outside3));
	expect(12, STATUS_SUCCESS, 41000);
	ck_assert_uint_eq(srv_got, pos);
	ck_assert_uint_eq(counters().send_zerocopy_bytes, zc);
	ck_assert_uint_eq(counters().send_copied_bytes, copied);
}
END_TEST

START_TEST(test_zc_completion_waits_for_a_held_clone)
{
	const size_t len = 200000;
	struct wsk_mdl m = { .va = mem_fill(0, len, 0), .len = len };
	static uint8_t after[700];
	struct wsk_mdl m2 = { .va = after, .len = sizeof(after) };
	struct wsk_request d = rq(30);

	hold_wanted = true;
	ck_assert_int_eq(send_chain(&m, 0, len, 10), STATUS_PENDING);
	for (size_t i = 0; i < sizeof(after); i++)
		after[i] = pattern(len + i, SALT);
	ck_assert_int_eq(send_chain(&m2, 0, sizeof(after), 11),
			 STATUS_PENDING);
	ck_assert_int_eq(wso->connection->disconnect(wso, NULL, 0, &d),
			 STATUS_PENDING);
	for (int i = 0; i < 300; i++)
		step();
	/* Everything arrived and was acknowledged, the FIN too, yet the
	 * clone still reads the first send's memory: nothing completes,
	 * not the copied send behind it, not the disconnect. */
	ck_assert_ptr_nonnull(held);
	ck_assert_uint_eq(srv_got, len + sizeof(after));
	ck_assert(tcp_rcv_fin(tsrv.c));
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	ck_assert_uint_eq(counters().send_release_waits, 1);
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle),
			 STATUS_DEVICE_BUSY);
	held_free();
	step();
	ck_assert_uint_eq(wsk_cq_ready(cq), 3);
	expect(10, STATUS_SUCCESS, len);
	expect(11, STATUS_SUCCESS, sizeof(after));
	expect(30, STATUS_SUCCESS, 0);
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle), STATUS_SUCCESS);
}
END_TEST

static void *
free_elsewhere(void *arg)
{
	rte_pktmbuf_free(arg);
	return NULL;
}

START_TEST(test_zc_release_on_another_thread_is_noticed)
{
	const size_t len = 100000;
	struct wsk_mdl m = { .va = mem_fill(0, len, 0), .len = len };
	pthread_t t;

	hold_wanted = true;
	ck_assert_int_eq(send_chain(&m, 0, len, 10), STATUS_PENDING);
	for (int i = 0; i < 100; i++)
		step();
	ck_assert_uint_eq(srv_got, len);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	/* The last reference goes on a thread that is no lcore at all. */
	ck_assert_int_eq(pthread_create(&t, NULL, free_elsewhere, held), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	held = NULL;
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);	/* noticed by the poll */
	wsk_client_poll(wc);
	ck_assert_uint_eq(wsk_cq_ready(cq), 1);
	expect(10, STATUS_SUCCESS, len);
}
END_TEST

START_TEST(test_zc_send_over_lossy_wire_delivers_and_completes)
{
	const size_t len = 1u << 20;
	struct wsk_mdl m = { .va = mem_fill(4096, len, 0), .len = len };

	fpc.drop_every_nth = 7;
	ck_assert_int_eq(send_chain(&m, 0, len, 10), STATUS_PENDING);
	wait_n(1, 20000);
	expect(10, STATUS_SUCCESS, len);
	ck_assert_uint_eq(srv_got, len);
	ck_assert_uint_gt(fpc.wire_dropped, 0);
	ck_assert_uint_gt(pair_stat(cli, "tcp_rexmt_segments"), 0);
	fpc.drop_every_nth = 0;
}
END_TEST

/* Send 10, a zero-copy send larger than the send buffer, and send 11, a
 * copied one behind it, while the server does not read: its window
 * closes with part of send 10 still queued. A clone of one frame is
 * held. */
static void
stall_two_sends(size_t len)
{
	static uint8_t after[600];
	static struct wsk_mdl m, m2;

	m = (struct wsk_mdl){ .va = mem_fill(0, len, 0), .len = len };
	for (size_t i = 0; i < sizeof(after); i++)
		after[i] = pattern(len + i, SALT);
	m2 = (struct wsk_mdl){ .va = after, .len = sizeof(after) };
	hold_wanted = true;
	ck_assert_int_eq(send_chain(&m, 0, len, 10), STATUS_PENDING);
	ck_assert_int_eq(send_chain(&m2, 0, sizeof(after), 11), STATUS_PENDING);
	for (int i = 0; i < 20; i++)
		step_wc();	/* the server does not read */
	ck_assert_ptr_nonnull(held);
	ck_assert_uint_gt(tcp_rcv_bytes(tsrv.c), 0);
	ck_assert_uint_lt(counters().send_zerocopy_bytes, len);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
}

/* After stall_two_sends() and what ended the connection: ten passes
 * complete nothing while the clone holds send 10's memory; once it is
 * freed, the next wsk_client_poll() posts n completions, sends 10 and 11
 * first, both with 'st'. */
static void
release_then_expect(unsigned n, NTSTATUS st)
{
	for (int i = 0; i < 10; i++)
		step();
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	held_free();
	wsk_client_poll(wc);
	ck_assert_uint_eq(wsk_cq_ready(cq), n);
	expect(10, st, 0);
	expect(11, st, 0);
}

START_TEST(test_zc_close_waits_for_release_and_completes_in_order)
{
	struct wsk_request r = rq(99);

	stall_two_sends(1u << 20);
	ck_assert_int_eq(wso->basic->close_socket(wso, &r), STATUS_PENDING);
	wso = NULL;
	/* The aborted connection frees its queue; the clone remains. */
	release_then_expect(3, STATUS_CANCELLED);
	expect(99, STATUS_SUCCESS, 0);
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle), STATUS_SUCCESS);
}
END_TEST

START_TEST(test_zc_abortive_disconnect_waits_for_release)
{
	struct wsk_request r = rq(50);

	stall_two_sends(1u << 20);
	ck_assert_int_eq(wso->connection->disconnect(wso, NULL,
			 WSK_FLAG_ABORTIVE, &r), STATUS_PENDING);
	release_then_expect(3, STATUS_CANCELLED);
	expect(50, STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_zc_reset_by_peer_fails_send_after_release)
{
	stall_two_sends(1u << 20);
	tcp_abort(tsrv.c);
	release_then_expect(2, STATUS_CONNECTION_RESET);
}
END_TEST

START_TEST(test_zc_destroy_posts_waiting_sends_and_late_release_is_safe)
{
	stall_two_sends(1u << 20);
	/* The client goes while the clone still references the memory: the
	 * completions come now, and the later free must touch nothing the
	 * client owned (ASan would say). */
	wsk_client_destroy(wc);
	wc = NULL;
	ck_assert_uint_eq(wsk_cq_ready(cq), 2);
	expect(10, STATUS_CANCELLED, 0);
	expect(11, STATUS_CANCELLED, 0);
	held_free();
}
END_TEST

START_TEST(test_zc_registration_misuse_statuses)
{
	static uint8_t area[8192];
	uint32_t h[WSK_MEMORY_REGIONS_MAX], x, y;
	unsigned n = 0;

	ck_assert_int_eq(wsk_register_memory(NULL, area, 10, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, NULL, 10, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, area, 0, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, area, 10, NULL),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, (void *)(UINTPTR_MAX - 5),
					     10, &x), STATUS_INVALID_PARAMETER);
	/* Overlaps with the fixture's region: inside, across either end,
	 * around it, the very same. */
	ck_assert_int_eq(wsk_register_memory(wc, mem + 10, 10, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, mem - 10, 11, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, mem + MEM_LEN - 1, 10, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, mem - 10, MEM_LEN + 20, &x),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_register_memory(wc, mem, MEM_LEN, &x),
			 STATUS_INVALID_PARAMETER);
	/* Adjacent is fine; fill the table. */
	h[n++] = mem_handle;
	for (unsigned i = 0; n < WSK_MEMORY_REGIONS_MAX; i++, n++) {
		ck_assert_int_eq(wsk_register_memory(wc, area + i * 10, 10,
						     &h[n]), STATUS_SUCCESS);
		ck_assert_uint_ne(h[n], 0);
	}
	ck_assert_int_eq(wsk_register_memory(wc, area + 4000, 10, &x),
			 STATUS_INSUFFICIENT_RESOURCES);
	/* Deregistration: unknown, stale, double. */
	ck_assert_int_eq(wsk_deregister_memory(NULL, h[1]),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_deregister_memory(wc, 0), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_deregister_memory(wc, h[1] + 1u + 
						WSK_MEMORY_REGIONS_MAX * 7u),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_deregister_memory(wc, h[1]), STATUS_SUCCESS);
	ck_assert_int_eq(wsk_deregister_memory(wc, h[1]),
			 STATUS_INVALID_PARAMETER);
	/* The slot is reused under a new handle; the old one stays dead. */
	ck_assert_int_eq(wsk_register_memory(wc, area + 4000, 10, &y),
			 STATUS_SUCCESS);
	ck_assert_uint_ne(y, h[1]);
	ck_assert_int_eq(wsk_deregister_memory(wc, h[1]),
			 STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(wsk_deregister_memory(wc, y), STATUS_SUCCESS);
	for (unsigned i = 2; i < n; i++)
		ck_assert_int_eq(wsk_deregister_memory(wc, h[i]),
				 STATUS_SUCCESS);
}
END_TEST

START_TEST(test_zc_short_or_deregistered_segments_are_copied)
{
	const size_t small = WSK_ZEROCOPY_MIN_SEGMENT - 1;
	struct wsk_mdl a[2], b;
	uint64_t pos = 0;

	/* A registered segment too short to attach, then one attached. */
	a[0] = (struct wsk_mdl){ .va = mem_fill(0, small, pos), .len = small,
				 .next = &a[1] };
	pos += small;
	a[1] = (struct wsk_mdl){ .va = mem_fill(5000, 3000, pos), .len = 3000 };
	pos += 3000;
	ck_assert_int_eq(send_chain(&a[0], 0, small + 3000, 10),
			 STATUS_PENDING);
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle),
			 STATUS_DEVICE_BUSY);
	wait_n(1, 100);
	expect(10, STATUS_SUCCESS, small + 3000);
	ck_assert_uint_eq(counters().send_zerocopy_bytes, 3000);
	ck_assert_uint_eq(counters().send_copied_bytes, small);
	/* The same memory once deregistered: copied. */
	ck_assert_int_eq(wsk_deregister_memory(wc, mem_handle), STATUS_SUCCESS);
	b = (struct wsk_mdl){ .va = mem_fill(20000, 3000, pos), .len = 3000 };
	pos += 3000;
	ck_assert_int_eq(send_chain(&b, 0, 3000, 11), STATUS_PENDING);
	wait_n(1, 100);
	expect(11, STATUS_SUCCESS, 3000);
	ck_assert_uint_eq(counters().send_zerocopy_bytes, 3000);
	ck_assert_uint_eq(counters().send_copied_bytes, small + 3000);
	ck_assert_uint_eq(srv_got, pos);
}
END_TEST

/* A virtual device (net_ring) reads the memory through its address: the
 * region needs no DPDK registration and no DMA mapping, whatever the IOVA
 * mode, and any alignment will do. */
START_TEST(test_zc_register_on_a_net_ring_port_needs_no_dma_mapping)
{
	struct rte_ring *ring = rte_ring_create("zc_ring", 64, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct port_conf pc = { .nb_addrs = 1, .mac_set = true,
				.mac = {{ 2, 0, 0, 0, 0, 9 }} };
	struct engine_conf ec;
	struct engine *e;
	struct wsk_client *c;
	static uint8_t area[10000];
	uint32_t h;
	int port;

	ck_assert_ptr_nonnull(ring);
	port = rte_eth_from_rings("net_ring_zc", &ring, 1, &ring, 1,
				  SOCKET_ID_ANY);
	ck_assert_int_ge(port, 0);
	ck_assert_int_eq(port_parse_ipv4("10.9.0.1", &pc.addrs[0].ip, NULL), 0);
	pc.addrs[0].prefix = 24;
	engine_conf_init(&ec, "zcring");
	ec.mbufs_per_shard = 1024;
	e = engine_create(&ec);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_ge(engine_add_ethdev_port(e, (uint16_t)port, &pc), 0);
	ck_assert_int_eq(tcp_engine_enable(e, NULL), 0);
	c = wsk_client_create(e->shards[0], 4, 4);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(wsk_register_memory(c, area + 3, 9001, &h),
			 STATUS_SUCCESS);
	ck_assert_int_eq(wsk_deregister_memory(c, h), STATUS_SUCCESS);
	wsk_client_destroy(c);
	tcp_engine_disable(e);
	engine_destroy(e);
	rte_eth_dev_close((uint16_t)port);
	rte_ring_free(ring);
}
END_TEST

static Suite *
zerocopy_suite(void)
{
	Suite *s = suite_create("wsk_zerocopy");
	TCase *e = tcase_create("engine");
	TCase *w = tcase_create("wsk");

	tcase_add_checked_fixture(e, eng_setup, eng_teardown);
	tcase_add_test(e, test_send_ext_large_transfer_arrives_intact_from_user_memory);
	tcase_add_test(e, test_send_ext_lossy_wire_retransmits_from_user_memory);
	tcase_add_test(e, test_send_ext_mixed_with_copies_keeps_order);
	tcase_add_test(e, test_send_ext_reference_held_outside_delays_the_callback);
	tcase_add_test(e, test_send_ext_stops_at_the_reference_limit);
	tcase_add_test(e, test_send_ext_refuses_bad_arguments_and_states);
	suite_add_tcase(s, e);

	tcase_add_checked_fixture(w, wsk_setup, wsk_teardown);
	tcase_add_test(w, test_zc_large_send_arrives_intact_without_copies);
	tcase_add_test(w, test_zc_mixed_chains_keep_stream_and_completion_order);
	tcase_add_test(w, test_zc_completion_waits_for_a_held_clone);
	tcase_add_test(w, test_zc_release_on_another_thread_is_noticed);
	tcase_add_test(w, test_zc_send_over_lossy_wire_delivers_and_completes);
	tcase_add_test(w, test_zc_close_waits_for_release_and_completes_in_order);
	tcase_add_test(w, test_zc_abortive_disconnect_waits_for_release);
	tcase_add_test(w, test_zc_reset_by_peer_fails_send_after_release);
	tcase_add_test(w, test_zc_destroy_posts_waiting_sends_and_late_release_is_safe);
	tcase_add_test(w, test_zc_registration_misuse_statuses);
	tcase_add_test(w, test_zc_short_or_deregistered_segments_are_copied);
	tcase_add_test(w, test_zc_register_on_a_net_ring_port_needs_no_dma_mapping);
	suite_add_tcase(s, w);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(zerocopy_suite()) == 0 ? EXIT_SUCCESS
						     : EXIT_FAILURE;
}
