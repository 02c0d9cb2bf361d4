/*
 * tcp_recv_mbufs(): received payload taken out of a connection without a
 * copy, on the two-engine fixture (tcp_pair.h).
 *
 * What arrives over the fake wire are the sender's frames themselves: a
 * header mbuf and indirect clones of the sender's send-queue buffers. A
 * wire filter records where each payload segment's bytes are, so a test
 * can tell the receiver handed over those very bytes and not a copy; a
 * second filter rebuilds frames with external-buffer payloads, the kind
 * a zero-copy sender puts on the wire. Every teardown proves no
 * connection and no mbuf was left behind.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"
#include "tcp_pair.h"
#include "test_eal.h"

/* --- the wire --------------------------------------------------------------- */

#define WIRE_MAX 256

/* Payload segments seen going from the client to the server, in order. */
static const uint8_t *seen_va[WIRE_MAX];
static uint16_t seen_len[WIRE_MAX];
static unsigned nb_seen;

/* The TCP header of a frame (Ethernet, IPv4, TCP in the first segment). */
static const struct rte_tcp_hdr *
frame_tcp(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m,
		const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));

	return (const struct rte_tcp_hdr *)((const uint8_t *)ih +
					    rte_ipv4_hdr_len(ih));
}

static bool
record_payload(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	/* The payload rides in the segments after the header mbuf. */
	for (const struct rte_mbuf *p = m->next; p != NULL; p = p->next) {
		ck_assert_uint_lt(nb_seen, WIRE_MAX);
		seen_va[nb_seen] = rte_pktmbuf_mtod(p, const uint8_t *);
		seen_len[nb_seen++] = p->data_len;
	}
	return false;
}

/* Raw window field of the client's latest segment, and how many it sent. */
static uint16_t last_win;
static unsigned nb_client_segs;

static bool
record_window(void *arg, const struct rte_mbuf *m)
{
	(void)arg;
	last_win = rte_be_to_cpu_16(frame_tcp(m)->rx_win);
	nb_client_segs++;
	return false;
}

static void
send_pattern(struct tcp_conn *c, uint32_t from, uint32_t len, uint8_t salt)
{
	static uint8_t buf[65536];

	ck_assert_uint_le(len, sizeof(buf));
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(from + i, salt);
	ck_assert_int_eq(tcp_send(c, buf, len), (int32_t)len);
}

/* Check and count the bytes of a chain taken from the stream at 'from'. */
static uint32_t
check_chain(const struct rte_mbuf *m, uint32_t from, uint8_t salt)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		ck_assert_uint_gt(m->data_len, 0);
		for (uint16_t i = 0; i < m->data_len; i++)
			if (p[i] != pattern(from + n + i, salt))
				ck_abort_msg("byte %u differs", from + n + i);
		n += m->data_len;
	}
	return n;
}

static void
setup(void)
{
	setup_pair();
	nb_seen = 0;
	last_win = 0;
	nb_client_segs = 0;
}

/* --- tests ------------------------------------------------------------------ */

/* The chain handed over is the segments that arrived, bytes in place: a
 * well-formed packet of them, in order, and the queue is empty after. */
START_TEST(test_recv_mbufs_hands_over_the_arrived_segments)
{
	struct rte_mbuf *m = NULL;
	const struct rte_mbuf *p;
	unsigned i = 0;

	open_pair();
	fpc.wire_filter = record_payload;
	send_pattern(tcli.c, 0, 5000, 1);
	poll_both(5);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 5000);
	ck_assert_uint_ge(nb_seen, 2);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &m, UINT32_MAX), 5000);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->pkt_len, 5000);
	ck_assert_uint_eq(m->nb_segs, nb_seen);
	for (p = m; p != NULL; p = p->next, i++) {
		ck_assert_ptr_eq(rte_pktmbuf_mtod(p, const uint8_t *),
				 seen_va[i]);
		ck_assert_uint_eq(p->data_len, seen_len[i]);
		if (p != m) {
			ck_assert_uint_eq(p->nb_segs, 1);
			ck_assert_uint_eq(p->pkt_len, p->data_len);
		}
	}
	ck_assert_uint_eq(check_chain(m, 0, 1), 5000);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 0);
	/* Owned by the caller: freeing them is all it takes (the
	 * teardown counts). */
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &m, UINT32_MAX), 0);
	ck_assert_ptr_null(m);
	close_pair();
}
END_TEST

/* max_bytes cutting a segment splits it: the front leaves as a clone of
 * the same bytes (one mbuf from the receiver's pool), the rest stays
 * queued and valid whichever half is freed first. */
START_TEST(test_recv_mbufs_splits_a_segment_in_place)
{
	struct rte_mbuf *a, *b, *c;
	unsigned used;

	open_pair();
	fpc.wire_filter = record_payload;
	send_pattern(tcli.c, 0, 1000, 2);
	poll_both(5);
	ck_assert_uint_eq(nb_seen, 1);
	used = rte_mempool_in_use_count(ss->pool);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &a, 300), 300);
	ck_assert_uint_eq(rte_mempool_in_use_count(ss->pool), used + 1);
	ck_assert_uint_eq(a->nb_segs, 1);
	ck_assert_ptr_eq(rte_pktmbuf_mtod(a, const uint8_t *), seen_va[0]);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 700);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &b, 200), 200);
	ck_assert_uint_eq(rte_mempool_in_use_count(ss->pool), used + 2);
	ck_assert_ptr_eq(rte_pktmbuf_mtod(b, const uint8_t *),
			 seen_va[0] + 300);
	/* The front halves go first; the queued rest must not care. */
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &c, 1000), 500);
	ck_assert_ptr_eq(rte_pktmbuf_mtod(c, const uint8_t *),
			 seen_va[0] + 500);
	ck_assert_uint_eq(check_chain(c, 500, 2), 500);
	rte_pktmbuf_free(c);
	/* The clones are back; the segment itself was the sender's. */
	ck_assert_uint_eq(rte_mempool_in_use_count(ss->pool), used);
	close_pair();
}
END_TEST

/* Taking bytes reopens the window as tcp_recv() does: a window update
 * leaves at once, without the clock moving. */
START_TEST(test_recv_mbufs_reopens_the_window)
{
	struct tcp_conn_opts o = { .rcv_buf = 8192 };
	struct rte_mbuf *m;
	uint32_t got, k;
	unsigned before;
	uint16_t win;

	open_pair_opts(&o);
	fpc.wire_filter = record_window;
	send_pattern(tsrv.c, 0, 32768, 3);
	poll_both(10);
	/* The client's window is (all but) full: less than a segment left
	 * (the last ACK may be older: raw field, scaled by 2^7). */
	got = tcp_rcv_bytes(tcli.c);
	ck_assert_uint_ge(got, 8192 - 1448);
	win = last_win;
	ck_assert_uint_lt((uint32_t)win << 7, 8192 - 4096);
	before = nb_client_segs;
	ck_assert_uint_eq(tcp_recv_mbufs(tcli.c, &m, UINT32_MAX), got);
	shard_tx_flush(cs);
	ck_assert_uint_eq(nb_client_segs, before + 1);
	ck_assert_uint_ge((uint32_t)last_win << 7, 8192 - 128);
	ck_assert_uint_eq(check_chain(m, 0, 3), got);
	rte_pktmbuf_free(m);
	/* And the rest flows on through it. */
	for (int i = 0; i < 50 && got < 32768; i++) {
		advance(1000);
		k = tcp_recv_mbufs(tcli.c, &m, UINT32_MAX);
		ck_assert_uint_eq(check_chain(m, got, 3), k);
		got += k;
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(got, 32768);
	close_pair();
}
END_TEST

/* No head pointer: nothing taken. At the end of the stream: 0, no chain,
 * and the FIN says why. */
START_TEST(test_recv_mbufs_null_head_and_end_of_stream)
{
	struct rte_mbuf *m = (struct rte_mbuf *)1;

	open_pair();
	send_pattern(tcli.c, 0, 100, 4);
	tcp_shutdown(tcli.c);
	poll_both(5);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, NULL, 100), 0);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 100);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &m, 0), 0);
	ck_assert_ptr_null(m);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &m, 100), 100);
	ck_assert_uint_eq(check_chain(m, 0, 4), 100);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &m, 100), 0);
	ck_assert_ptr_null(m);
	ck_assert(tcp_rcv_fin(tsrv.c));
	close_pair();
}
END_TEST

/* --- external buffers ------------------------------------------------------------ */

/* Frames rebuilt with each payload in one external buffer (malloc'd
 * memory, freed by its callback), from a pool of the test's own. */
static struct rte_mempool *xpool;
static unsigned ext_made, ext_freed;
static const uint8_t *ext_lo[WIRE_MAX], *ext_hi[WIRE_MAX];

static void
ext_free_cb(void *addr, void *opaque)
{
	(void)addr;
	free(opaque);
	ext_freed++;
}

static bool
rebuild_external(void *arg, const struct rte_mbuf *m)
{
	struct rte_mbuf *h, *e;
	struct rte_mbuf_ext_shared_info *shinfo;
	uint32_t hlen = m->data_len, plen = m->pkt_len - m->data_len, off = 0;
	uint16_t buf_len;
	uint8_t *buf;

	(void)arg;
	if (plen == 0)
		return false;
	h = rte_pktmbuf_alloc(xpool);
	e = rte_pktmbuf_alloc(xpool);
	buf_len = (uint16_t)(plen + sizeof(*shinfo) + 64);
	buf = malloc(buf_len);
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(buf);
	memcpy(rte_pktmbuf_append(h, (uint16_t)hlen),
	       rte_pktmbuf_mtod(m, const void *), hlen);
	shinfo = rte_pktmbuf_ext_shinfo_init_helper(buf, &buf_len,
						    ext_free_cb, buf);
	ck_assert_ptr_nonnull(shinfo);
	rte_pktmbuf_attach_extbuf(e, buf, RTE_BAD_IOVA, buf_len, shinfo);
	e->data_off = 0;
	for (const struct rte_mbuf *p = m->next; p != NULL; p = p->next) {
		memcpy(buf + off, rte_pktmbuf_mtod(p, const void *),
		       p->data_len);
		off += p->data_len;
	}
	e->data_len = (uint16_t)plen;
	e->pkt_len = plen;
	ck_assert_int_eq(rte_pktmbuf_chain(h, e), 0);
	ck_assert_uint_lt(ext_made, WIRE_MAX);
	ext_lo[ext_made] = buf;
	ext_hi[ext_made++] = buf + plen;
	ck_assert_int_eq(fake_port_inject(&fps, h), 0);
	return true;		/* the original goes no further */
}

static bool
in_ext(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	for (unsigned i = 0; i < ext_made; i++)
		if (p >= ext_lo[i] && p + m->data_len <= ext_hi[i])
			return true;
	return false;
}

/* Segments with external buffers are handed over and split like any
 * other: the clone shares the buffer (a reference on its shared info),
 * so the buffer's free callback runs once, after the last piece goes. */
START_TEST(test_recv_mbufs_external_buffers)
{
	struct rte_mbuf *a, *b;

	xpool = test_pool_create("recv_mbufs_ext", 256);
	ck_assert_ptr_nonnull(xpool);
	ext_made = ext_freed = 0;
	pair_attach_payloads();
	open_pair();
	fpc.wire_filter = rebuild_external;
	send_pattern(tcli.c, 0, 3000, 5);
	poll_both(5);
	ck_assert_uint_ge(ext_made, 2);
	ck_assert_uint_eq(tcp_rcv_bytes(tsrv.c), 3000);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &a, 100), 100);
	ck_assert(RTE_MBUF_HAS_EXTBUF(a));
	ck_assert(in_ext(a));
	ck_assert_uint_eq(check_chain(a, 0, 5), 100);
	ck_assert_uint_eq(tcp_recv_mbufs(tsrv.c, &b, UINT32_MAX), 2900);
	for (const struct rte_mbuf *p = b; p != NULL; p = p->next) {
		ck_assert(RTE_MBUF_HAS_EXTBUF(p));
		ck_assert(in_ext(p));
	}
	ck_assert_uint_eq(check_chain(b, 100, 5), 2900);
	/* The rest of the first buffer goes first; the clone keeps it. */
	rte_pktmbuf_free(b);
	ck_assert_uint_eq(ext_freed, ext_made - 1);
	ck_assert_uint_eq(check_chain(a, 0, 5), 100);
	rte_pktmbuf_free(a);
	ck_assert_uint_eq(ext_freed, ext_made);
	fpc.wire_filter = NULL;
	close_pair();
	poll_both(5);
	ck_assert_uint_eq(test_pool_in_use(xpool), 0);
	rte_mempool_free(xpool);
	xpool = NULL;
}
END_TEST

static Suite *
recv_mbufs_suite(void)
{
	Suite *s = suite_create("tcp_recv_mbufs");
	TCase *tc = tcase_create("recv_mbufs");

	tcase_add_checked_fixture(tc, setup, teardown_common);
	tcase_add_test(tc, test_recv_mbufs_hands_over_the_arrived_segments);
	tcase_add_test(tc, test_recv_mbufs_splits_a_segment_in_place);
	tcase_add_test(tc, test_recv_mbufs_reopens_the_window);
	tcase_add_test(tc, test_recv_mbufs_null_head_and_end_of_stream);
	tcase_add_test(tc, test_recv_mbufs_external_buffers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(recv_mbufs_suite()) == 0 ? EXIT_SUCCESS
						       : EXIT_FAILURE;
}
