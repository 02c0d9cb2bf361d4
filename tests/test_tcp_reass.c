/*
 * test_tcp_reass: the out-of-order queue hands back exactly the bytes of the
 * original stream, in order, whatever the arrival order, overlaps, window
 * edges and sequence wrap; it reports SACK ranges most recent first; and it
 * never leaks an mbuf (every test ends with the pool fully returned).
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <rte_mbuf.h>

#include "test_eal.h"
#include "test_rand.h"
#include "tcp_reass.h"

#define POOL_SIZE 4095
#define MAX_FLAT 8192

static struct rte_mempool *pool;
static struct tcp_reass q;

/* The stream's content is a function of the sequence number, so a byte
 * delivered at the wrong position (or from the wrong copy) shows. */
static uint8_t
stream_byte(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 13);
}

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	return test_splitmix64(&rng_state);
}

static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

/*
 * A chain of nb_segs mbufs holding len bytes from sequence seq: the stream's
 * bytes, or 'fill' in every byte if fill >= 0 (to tell copies apart).
 */
static struct rte_mbuf *
make_chain_fill(uint32_t seq, uint32_t len, unsigned int nb_segs, int fill)
{
	struct rte_mbuf *head = NULL;
	uint32_t done = 0;
	unsigned int i;

	for (i = 0; i < nb_segs; i++) {
		uint32_t piece = (i == nb_segs - 1) ? len - done : len / nb_segs;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *p;
		uint32_t k;

		ck_assert_ptr_nonnull(m);
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)piece);
		ck_assert(piece == 0 || p != NULL);
		for (k = 0; k < piece; k++)
			p[k] = fill >= 0 ? (uint8_t)fill :
				stream_byte(seq + done + k);
		done += piece;
		if (head == NULL)
			head = m;
		else
			ck_assert_int_eq(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static struct rte_mbuf *
make_chain(uint32_t seq, uint32_t len, unsigned int nb_segs)
{
	return make_chain_fill(seq, len, nb_segs, -1);
}

/* Copy a chain into out, checking that pkt_len and nb_segs agree with the
 * segments actually linked. Returns the byte count. */
static uint32_t
chain_flatten(const struct rte_mbuf *m, uint8_t *out, uint32_t cap)
{
	const struct rte_mbuf *seg;
	uint32_t len = 0;
	unsigned int segs = 0;

	for (seg = m; seg != NULL; seg = seg->next) {
		ck_assert_uint_le(len + seg->data_len, cap);
		memcpy(out + len, rte_pktmbuf_mtod(seg, const uint8_t *),
		       seg->data_len);
		len += seg->data_len;
		segs++;
	}
	ck_assert_uint_eq(m->pkt_len, len);
	ck_assert_uint_eq(m->nb_segs, segs);
	return len;
}

/* Assert that chain m holds exactly the stream's bytes [seq, seq + len). */
static void
assert_stream_bytes(const struct rte_mbuf *m, uint32_t seq, uint32_t len)
{
	static uint8_t flat[MAX_FLAT];
	uint32_t got = chain_flatten(m, flat, sizeof(flat));
	uint32_t i;

	ck_assert_uint_eq(got, len);
	/* One assertion per chain, not per byte: each passing Check assertion
	 * records its location, which would dominate the run time. */
	for (i = 0; i < len && flat[i] == stream_byte(seq + i); i++)
		;
	ck_assert_msg(i == len, "byte at seq %u: got %u want %u", seq + i,
		      flat[i], stream_byte(seq + i));
}

/* Pull everything in order, checking each chain's bytes and freeing it.
 * Returns the number of bytes pulled. */
static uint32_t
pull_all_checked(uint32_t *rcv_nxt)
{
	struct rte_mbuf *m;
	uint32_t total = 0;

	for (;;) {
		uint32_t before = *rcv_nxt;

		m = tcp_reass_pull(&q, rcv_nxt);
		if (m == NULL)
			return total;
		ck_assert_uint_eq(*rcv_nxt - before, m->pkt_len);
		assert_stream_bytes(m, before, m->pkt_len);
		total += m->pkt_len;
		rte_pktmbuf_free(m);
	}
}

static enum tcp_reass_result
insert(uint32_t seq, uint32_t len, unsigned int nb_segs, uint32_t rcv_nxt,
       uint32_t wnd_end)
{
	return tcp_reass_insert(&q, make_chain(seq, len, nb_segs), seq,
				rcv_nxt, wnd_end);
}

/* Every test starts from a queue that held garbage: a connection's queue
 * is not cleared at allocation, only tcp_reass_init()ed, so no block may
 * be read before it is written. */
static void
setup(void)
{
	memset(&q, 0xa5, sizeof(q));
	tcp_reass_init(&q);
	ck_assert_uint_eq(test_pool_in_use(pool), 0);
}

static void
teardown(void)
{
	tcp_reass_flush(&q);
	ck_assert(tcp_reass_empty(&q));
	ck_assert_uint_eq(tcp_reass_bytes(&q), 0);
	ck_assert_uint_eq(test_pool_in_use(pool), 0);
}

START_TEST(test_segment_at_rcv_nxt_is_pulled_whole)
{
	uint32_t rcv_nxt = 1000;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(1000, 300, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 300);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 1300);
	assert_stream_bytes(m, 1000, 300);
	rte_pktmbuf_free(m);
	ck_assert(tcp_reass_empty(&q));
	ck_assert_uint_eq(tcp_reass_bytes(&q), 0);
	ck_assert_ptr_null(tcp_reass_pull(&q, &rcv_nxt));
	ck_assert_uint_eq(rcv_nxt, 1300);
}
END_TEST

START_TEST(test_pull_waits_for_hole_then_returns_joined_block)
{
	uint32_t rcv_nxt = 0;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(100, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_ptr_null(tcp_reass_pull(&q, &rcv_nxt));
	ck_assert_uint_eq(rcv_nxt, 0);
	ck_assert_int_eq(insert(0, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 1);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 200);
	assert_stream_bytes(m, 0, 200);
	ck_assert_uint_eq(m->nb_segs, 2);
	rte_pktmbuf_free(m);
	ck_assert(tcp_reass_empty(&q));
}
END_TEST

/* Ten segments of uneven sizes, each a chain of 1 to 3 mbufs, inserted in
 * 2000 fixed-seed random orders from random base sequence numbers (some
 * wrap): the pulled bytes are always exactly the original stream. */
START_TEST(test_any_arrival_order_reassembles_original_stream)
{
	static const uint32_t lens[10] = { 100, 1, 250, 37, 512, 64, 3, 200, 90, 143 };
	uint32_t offs[10], total = 0;
	unsigned int order[10], perm, i;

	for (i = 0; i < 10; i++) {
		offs[i] = total;
		total += lens[i];
	}
	rng_state = 42;
	for (perm = 0; perm < 2000; perm++) {
		uint32_t base = (uint32_t)rng_next();
		uint32_t rcv_nxt = base, pulled = 0;

		if (perm % 4 == 0)
			base = rcv_nxt = 0u - total / 2;	/* straddles 2^32 */
		for (i = 0; i < 10; i++)
			order[i] = i;
		for (i = 9; i > 0; i--) {
			unsigned int k = rng_below(i + 1), t = order[i];

			order[i] = order[k];
			order[k] = t;
		}
		for (i = 0; i < 10; i++) {
			unsigned int s = order[i];

			ck_assert_int_eq(insert(base + offs[s], lens[s],
						1 + rng_below(lens[s] < 3 ? lens[s] : 3),
						rcv_nxt, base + total),
					 TCP_REASS_INSERTED);
			pulled += pull_all_checked(&rcv_nxt);
			ck_assert_uint_eq(pulled, rcv_nxt - base);
		}
		ck_assert_uint_eq(rcv_nxt, base + total);
		ck_assert(tcp_reass_empty(&q));
		ck_assert_uint_eq(test_pool_in_use(pool), 0);
	}
}
END_TEST

START_TEST(test_overlap_on_both_sides_keeps_held_bytes)
{
	static uint8_t flat[MAX_FLAT];
	uint32_t rcv_nxt = 0, i;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(100, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(300, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	/* Marker bytes show which copy of the overlapped bytes survives. */
	ck_assert_int_eq(tcp_reass_insert(&q, make_chain_fill(150, 200, 2, 0xEE),
					  150, rcv_nxt, 5000),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 1);
	ck_assert_uint_eq(q.blocks[0].start, 100);
	ck_assert_uint_eq(q.blocks[0].end, 400);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 300);

	ck_assert_int_eq(insert(0, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 400);
	ck_assert_uint_eq(chain_flatten(m, flat, sizeof(flat)), 400);
	for (i = 0; i < 400; i++) {
		uint8_t want = (i >= 200 && i < 300) ? 0xEE : stream_byte(i);

		if (flat[i] != want)
			ck_abort_msg("byte %u: got %u want %u", i, flat[i], want);
	}
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_segment_covering_held_block_replaces_it)
{
	static uint8_t flat[MAX_FLAT];
	uint32_t rcv_nxt = 100, i;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(200, 50, 2, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(tcp_reass_insert(&q, make_chain_fill(100, 200, 1, 0xAB),
					  100, rcv_nxt, 5000),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 1);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 200);
	/* The held block's two mbufs went back to the pool. */
	ck_assert_uint_eq(test_pool_in_use(pool), 1);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 300);
	ck_assert_uint_eq(chain_flatten(m, flat, sizeof(flat)), 200);
	for (i = 0; i < 200; i++)
		if (flat[i] != 0xAB)
			ck_abort_msg("byte %u: got %u want 0xAB", i, flat[i]);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_segment_already_held_is_duplicate_and_freed)
{
	ck_assert_int_eq(insert(100, 100, 1, 0, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(120, 60, 3, 0, 5000), TCP_REASS_DUPLICATE);
	ck_assert_int_eq(insert(100, 100, 1, 0, 5000), TCP_REASS_DUPLICATE);
	/* Partly below rcv_nxt, the rest held: still nothing new. */
	ck_assert_int_eq(insert(40, 160, 2, 100, 5000), TCP_REASS_DUPLICATE);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 100);
	ck_assert_uint_eq(q.nb_blocks, 1);
	ck_assert_uint_eq(test_pool_in_use(pool), 1);
}
END_TEST

START_TEST(test_data_beyond_window_edge_is_trimmed)
{
	uint32_t rcv_nxt = 0;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(100, 100, 4, rcv_nxt, 150), TCP_REASS_INSERTED);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 50);
	ck_assert_uint_eq(q.blocks[0].end, 150);
	/* The two mbufs past the edge were freed at once. */
	ck_assert_uint_eq(test_pool_in_use(pool), 2);
	ck_assert_int_eq(insert(150, 50, 1, rcv_nxt, 150), TCP_REASS_OUT_OF_WINDOW);
	ck_assert_int_eq(insert(3000, 50, 1, rcv_nxt, 150), TCP_REASS_OUT_OF_WINDOW);
	ck_assert_int_eq(insert(10, 5, 1, rcv_nxt, rcv_nxt), TCP_REASS_OUT_OF_WINDOW);
	ck_assert_uint_eq(test_pool_in_use(pool), 2);

	ck_assert_int_eq(insert(0, 100, 1, rcv_nxt, 150), TCP_REASS_INSERTED);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 150);
	assert_stream_bytes(m, 0, 150);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_data_before_rcv_nxt_is_trimmed)
{
	uint32_t rcv_nxt = 100;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(50, 100, 2, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 50);
	ck_assert_uint_eq(test_pool_in_use(pool), 1);
	ck_assert_int_eq(insert(0, 100, 1, rcv_nxt, 5000), TCP_REASS_OUT_OF_WINDOW);
	ck_assert_int_eq(insert(0, 0, 1, rcv_nxt, 5000), TCP_REASS_OUT_OF_WINDOW);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 150);
	assert_stream_bytes(m, 100, 50);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_in_order_data_overtaking_held_block_trims_it)
{
	uint32_t rcv_nxt;
	struct rte_mbuf *m;

	ck_assert_int_eq(insert(100, 100, 4, 0, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(300, 100, 1, 0, 5000), TCP_REASS_INSERTED);
	/* The caller delivered [0, 150) straight to the socket. */
	rcv_nxt = 150;
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 200);
	assert_stream_bytes(m, 150, 50);
	ck_assert_uint_eq(m->nb_segs, 2);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 100);

	/* Then [200, 450) in order: the second block is wholly behind. */
	rcv_nxt = 450;
	ck_assert_ptr_null(tcp_reass_pull(&q, &rcv_nxt));
	ck_assert_uint_eq(rcv_nxt, 450);
	ck_assert(tcp_reass_empty(&q));
	ck_assert_uint_eq(tcp_reass_bytes(&q), 0);
}
END_TEST

START_TEST(test_full_block_array_drops_unjoinable_segment)
{
	uint32_t rcv_nxt = 0;
	unsigned int i, in_use;

	for (i = 0; i < TCP_REASS_MAX_BLOCKS; i++)
		ck_assert_int_eq(insert(100 + 100 * i, 50, 1, rcv_nxt, 100000),
				 TCP_REASS_INSERTED);
	in_use = test_pool_in_use(pool);
	ck_assert_uint_eq(in_use, TCP_REASS_MAX_BLOCKS);
	/* An island of its own: no slot for it. */
	ck_assert_int_eq(insert(10000, 50, 2, rcv_nxt, 100000), TCP_REASS_FULL);
	ck_assert_int_eq(insert(0, 50, 1, rcv_nxt, 100000), TCP_REASS_FULL);
	ck_assert_uint_eq(test_pool_in_use(pool), in_use);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 50 * TCP_REASS_MAX_BLOCKS);
	/* Touching a held block needs no slot. */
	ck_assert_int_eq(insert(150, 20, 1, rcv_nxt, 100000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(80, 20, 1, rcv_nxt, 100000), TCP_REASS_INSERTED);
	/* Filling the hole between two blocks frees one. */
	ck_assert_int_eq(insert(170, 30, 1, rcv_nxt, 100000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, TCP_REASS_MAX_BLOCKS - 1);
	ck_assert_int_eq(insert(10000, 50, 1, rcv_nxt, 100000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, TCP_REASS_MAX_BLOCKS);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 50 * TCP_REASS_MAX_BLOCKS + 70 + 50);
}
END_TEST

START_TEST(test_sequence_wrap_around_2_pow_32)
{
	uint32_t base = 0xFFFFFF00u, rcv_nxt = base, wnd_end = base + 0x1000;
	struct tcp_sack_block r[4];
	struct rte_mbuf *m;

	/* [base+0x180, base+0x200) lies past zero, [base+0xC0, base+0x140)
	 * straddles it. */
	ck_assert_int_eq(insert(base + 0x180, 0x80, 1, rcv_nxt, wnd_end),
			 TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(base + 0xC0, 0x80, 3, rcv_nxt, wnd_end),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 2);
	ck_assert_uint_eq(q.blocks[0].start, base + 0xC0);
	ck_assert_uint_eq(q.blocks[1].start, 0x80);
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 4), 2);
	ck_assert_uint_eq(r[0].start, base + 0xC0);
	ck_assert_uint_eq(r[0].end, 0x40);
	ck_assert_uint_eq(r[1].start, 0x80);
	ck_assert_uint_eq(r[1].end, 0x100);

	ck_assert_int_eq(insert(base + 0x140, 0x40, 1, rcv_nxt, wnd_end),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 1);
	ck_assert_int_eq(insert(base - 0x40, 0x100, 2, rcv_nxt, wnd_end),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(pull_all_checked(&rcv_nxt), 0x200);
	ck_assert_uint_eq(rcv_nxt, 0x100);
	ck_assert(tcp_reass_empty(&q));

	/* The window edge itself past zero. */
	rcv_nxt = 0xFFFFFFF0u;
	ck_assert_int_eq(insert(0xFFFFFFF8u, 0x20, 1, rcv_nxt, 0x10),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 0x18);
	ck_assert_int_eq(insert(0xFFFFFFF0u, 0x8, 1, rcv_nxt, 0x10),
			 TCP_REASS_INSERTED);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 0x10);
	assert_stream_bytes(m, 0xFFFFFFF0u, 0x20);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_multi_segment_chains_trimmed_at_both_ends)
{
	uint32_t rcv_nxt = 130;
	struct rte_mbuf *m, *empty;

	/* Four mbufs of 25 bytes at [100, 200); keep [130, 160): the first
	 * and the last mbuf go, the cuts fall inside the second and third. */
	ck_assert_int_eq(insert(100, 100, 4, rcv_nxt, 160), TCP_REASS_INSERTED);
	ck_assert_uint_eq(test_pool_in_use(pool), 2);
	ck_assert_uint_eq(q.blocks[0].head->nb_segs, 2);
	ck_assert_uint_eq(q.blocks[0].head->pkt_len, 30);

	/* A chain whose first mbuf is empty (headers stripped from it). */
	empty = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(empty);
	m = make_chain(160, 40, 2);
	ck_assert_int_eq(rte_pktmbuf_chain(empty, m), 0);
	ck_assert_int_eq(tcp_reass_insert(&q, empty, 160, rcv_nxt, 1000),
			 TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 1);

	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 200);
	assert_stream_bytes(m, 130, 70);
	ck_assert_uint_eq(m->nb_segs, 5);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(test_sack_blocks_report_most_recent_first)
{
	struct tcp_sack_block r[TCP_REASS_MAX_BLOCKS];
	uint32_t rcv_nxt = 0;

	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 4), 0);
	ck_assert_int_eq(insert(100, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(500, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(300, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(700, 100, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);

	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 3), 3);
	ck_assert_uint_eq(r[0].start, 700);
	ck_assert_uint_eq(r[1].start, 300);
	ck_assert_uint_eq(r[2].start, 500);

	/* A segment joining [300, 400) makes that block the latest. */
	ck_assert_int_eq(insert(400, 50, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 4), 4);
	ck_assert_uint_eq(r[0].start, 300);
	ck_assert_uint_eq(r[0].end, 450);
	ck_assert_uint_eq(r[1].start, 700);
	ck_assert_uint_eq(r[2].start, 500);
	ck_assert_uint_eq(r[3].start, 100);

	/* A duplicate still triggers the ACK: its block goes first. */
	ck_assert_int_eq(insert(120, 10, 1, rcv_nxt, 5000), TCP_REASS_DUPLICATE);
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 1), 1);
	ck_assert_uint_eq(r[0].start, 100);
	ck_assert_uint_eq(r[0].end, 200);

	/* Data below rcv_nxt is never reported; a straddling block is
	 * reported from rcv_nxt. */
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, 150, r, 4), 4);
	ck_assert_uint_eq(r[0].start, 150);
	ck_assert_uint_eq(r[0].end, 200);
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, 450, r, 4), 2);
	ck_assert_uint_eq(r[0].start, 700);
	ck_assert_uint_eq(r[1].start, 500);
}
END_TEST

START_TEST(test_flush_frees_every_held_mbuf)
{
	unsigned int i;

	for (i = 0; i < 10; i++)
		ck_assert_int_eq(insert(1000 + 300 * i, 200, 3, 0, 100000),
				 TCP_REASS_INSERTED);
	ck_assert_uint_eq(test_pool_in_use(pool), 30);
	tcp_reass_flush(&q);
	ck_assert_uint_eq(test_pool_in_use(pool), 0);
	ck_assert(tcp_reass_empty(&q));
	ck_assert_uint_eq(tcp_reass_bytes(&q), 0);
	/* The queue is usable after a flush. */
	ck_assert_int_eq(insert(0, 10, 1, 0, 100), TCP_REASS_INSERTED);
}
END_TEST

/* A block whose chain is near RTE_MBUF_MAX_NB_SEGS cannot absorb its
 * neighbour. Building 65535 real mbufs would need a huge pool, so the test
 * overstates one mbuf's nb_segs: the queue only reads the count. */
START_TEST(test_chain_length_limit_keeps_adjacent_blocks_apart)
{
	struct tcp_sack_block r[4];
	struct rte_mbuf *big = make_chain(100, 10, 1), *m;
	uint32_t rcv_nxt = 0;

	big->nb_segs = RTE_MBUF_MAX_NB_SEGS;
	ck_assert_int_eq(tcp_reass_insert(&q, big, 100, rcv_nxt, 5000),
			 TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(110, 10, 2, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_int_eq(insert(90, 10, 1, rcv_nxt, 5000), TCP_REASS_INSERTED);
	ck_assert_uint_eq(q.nb_blocks, 3);
	ck_assert_uint_eq(tcp_reass_bytes(&q), 30);
	/* Touching blocks are one range to the peer. */
	ck_assert_uint_eq(tcp_reass_sack_blocks(&q, rcv_nxt, r, 4), 1);
	ck_assert_uint_eq(r[0].start, 90);
	ck_assert_uint_eq(r[0].end, 120);
	/* Spanning the seam is still a duplicate. */
	ck_assert_int_eq(insert(95, 20, 1, rcv_nxt, 5000), TCP_REASS_DUPLICATE);

	rcv_nxt = 90;
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	assert_stream_bytes(m, 90, 10);
	rte_pktmbuf_free(m);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 110);
	ck_assert_uint_eq(m->nb_segs, RTE_MBUF_MAX_NB_SEGS);
	m->nb_segs = 1;
	assert_stream_bytes(m, 100, 10);
	rte_pktmbuf_free(m);
	m = tcp_reass_pull(&q, &rcv_nxt);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rcv_nxt, 120);
	assert_stream_bytes(m, 110, 10);
	rte_pktmbuf_free(m);
	ck_assert(tcp_reass_empty(&q));
}
END_TEST

/*
 * Reference model: one flag per byte of a 3000-byte stream (which crosses
 * 2^32), plus the arrival number that last touched each byte's range.
 * Random segments (overlapping, partly outside the window, chains of 1-3
 * mbufs), pulls, and in-order data that bypasses the queue are applied to
 * both; after each step the result, held byte count, block count, SACK
 * ranges and their order must agree, and every pulled byte must be right.
 */
#define MODEL_STREAM 3000
#define MODEL_WINDOW 1500

static uint8_t model_held[MODEL_STREAM];
static uint64_t model_stamp[MODEL_STREAM];

struct model_run {
	uint32_t start, end;	/* offsets from the stream base */
	uint64_t stamp;
};

static unsigned int
model_runs(uint32_t from, struct model_run *runs, unsigned int cap)
{
	unsigned int n = 0;
	uint32_t i = from;

	while (i < MODEL_STREAM) {
		uint32_t j;

		if (!model_held[i]) {
			i++;
			continue;
		}
		for (j = i; j < MODEL_STREAM && model_held[j]; j++)
			;
		if (n < cap) {
			runs[n].start = i;
			runs[n].end = j;
			runs[n].stamp = model_stamp[i];
		}
		n++;
		i = j;
	}
	return n;
}

static uint32_t
model_bytes(uint32_t from)
{
	uint32_t i, n = 0;

	for (i = from; i < MODEL_STREAM; i++)
		n += model_held[i];
	return n;
}

static void
model_check_sack(uint32_t base, uint32_t rcv_off)
{
	struct model_run runs[MODEL_STREAM / 2];
	struct tcp_sack_block r[TCP_REASS_MAX_BLOCKS];
	unsigned int nr = model_runs(rcv_off, runs, MODEL_STREAM / 2);
	unsigned int n = tcp_reass_sack_blocks(&q, base + rcv_off, r,
					       TCP_REASS_MAX_BLOCKS);
	unsigned int i, k;
	bool used[MODEL_STREAM / 2] = { false };

	ck_assert_uint_eq(n, nr);
	for (i = 0; i < n; i++) {
		unsigned int best = nr;

		for (k = 0; k < nr; k++)
			if (!used[k] && (best == nr || runs[k].stamp > runs[best].stamp))
				best = k;
		used[best] = true;
		ck_assert_uint_eq(r[i].start, base + runs[best].start);
		ck_assert_uint_eq(r[i].end, base + runs[best].end);
	}
}

START_TEST(test_random_traffic_matches_reference_model)
{
	unsigned int seed;

	for (seed = 1; seed <= 30; seed++) {
		uint32_t base = 0u - 2048 - seed, rcv_off = 0, steps = 0;
		uint64_t arrival = 0;

		rng_state = seed * 7919;
		memset(model_held, 0, sizeof(model_held));
		memset(model_stamp, 0, sizeof(model_stamp));
		tcp_reass_flush(&q);

		while (rcv_off < MODEL_STREAM) {
			uint32_t op = rng_below(100);
			struct model_run runs[MODEL_STREAM / 2];

			ck_assert_uint_lt(++steps, 100000);
			if (op < 70) {
				int64_t lo = (int64_t)rcv_off - 50 +
					rng_below(MODEL_WINDOW + 100);
				uint32_t s, e, len, is, ie, i, nb_new = 0;
				enum tcp_reass_result want, got;

				if (lo < 0)
					lo = 0;
				if (lo >= MODEL_STREAM)
					lo = MODEL_STREAM - 1;
				s = (uint32_t)lo;
				/* Mostly tiny segments, so that islands pile
				 * up and the block array fills now and then
				 * (about 80 FULL results over all seeds). */
				len = 1 + rng_below(rng_below(4) == 0 ? 300 : 5);
				e = s + len > MODEL_STREAM ? MODEL_STREAM : s + len;
				is = s > rcv_off ? s : rcv_off;
				ie = e < rcv_off + MODEL_WINDOW ? e : rcv_off + MODEL_WINDOW;
				for (i = is; i < ie; i++)
					nb_new += !model_held[i];
				if (is >= ie) {
					want = TCP_REASS_OUT_OF_WINDOW;
				} else if (nb_new == 0) {
					want = TCP_REASS_DUPLICATE;
				} else {
					uint8_t saved[MODEL_STREAM];

					memcpy(saved, model_held, sizeof(saved));
					memset(model_held + is, 1, ie - is);
					want = model_runs(rcv_off, runs, 0) >
						TCP_REASS_MAX_BLOCKS ?
						TCP_REASS_FULL : TCP_REASS_INSERTED;
					memcpy(model_held, saved, sizeof(saved));
				}
				got = insert(base + s, e - s,
					     1 + rng_below(e - s < 3 ? e - s : 3),
					     base + rcv_off,
					     base + rcv_off + MODEL_WINDOW);
				ck_assert_int_eq(got, want);
				if (want == TCP_REASS_INSERTED ||
				    want == TCP_REASS_DUPLICATE) {
					uint32_t rs = is, re = ie;

					memset(model_held + is, 1, ie - is);
					while (rs > rcv_off && model_held[rs - 1])
						rs--;
					while (re < MODEL_STREAM && model_held[re])
						re++;
					arrival++;
					for (i = rs; i < re; i++)
						model_stamp[i] = arrival;
				}
				ck_assert_uint_eq(tcp_reass_bytes(&q),
						  model_bytes(rcv_off));
				ck_assert_uint_eq(q.nb_blocks,
						  model_runs(rcv_off, runs, 0));
			} else if (op < 90) {
				uint32_t rcv_nxt = base + rcv_off;

				pull_all_checked(&rcv_nxt);
				while (rcv_off < MODEL_STREAM && model_held[rcv_off])
					rcv_off++;
				ck_assert_uint_eq(rcv_nxt, base + rcv_off);
				ck_assert_uint_eq(tcp_reass_bytes(&q),
						  model_bytes(rcv_off));
				ck_assert_uint_eq(q.nb_blocks,
						  model_runs(rcv_off, runs, 0));
			} else {
				/* In-order data delivered past the queue. */
				rcv_off += 1 + rng_below(200);
				if (rcv_off > MODEL_STREAM)
					rcv_off = MODEL_STREAM;
			}
			model_check_sack(base, rcv_off);
		}
		{
			uint32_t rcv_nxt = base + rcv_off;

			ck_assert_ptr_null(tcp_reass_pull(&q, &rcv_nxt));
			ck_assert(tcp_reass_empty(&q));
			ck_assert_uint_eq(test_pool_in_use(pool), 0);
		}
	}
}
END_TEST

static Suite *
tcp_reass_suite(void)
{
	Suite *s = suite_create("tcp_reass");
	TCase *tc = tcase_create("reass");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_segment_at_rcv_nxt_is_pulled_whole);
	tcase_add_test(tc, test_pull_waits_for_hole_then_returns_joined_block);
	tcase_add_test(tc, test_any_arrival_order_reassembles_original_stream);
	tcase_add_test(tc, test_overlap_on_both_sides_keeps_held_bytes);
	tcase_add_test(tc, test_segment_covering_held_block_replaces_it);
	tcase_add_test(tc, test_segment_already_held_is_duplicate_and_freed);
	tcase_add_test(tc, test_data_beyond_window_edge_is_trimmed);
	tcase_add_test(tc, test_data_before_rcv_nxt_is_trimmed);
	tcase_add_test(tc, test_in_order_data_overtaking_held_block_trims_it);
	tcase_add_test(tc, test_full_block_array_drops_unjoinable_segment);
	tcase_add_test(tc, test_sequence_wrap_around_2_pow_32);
	tcase_add_test(tc, test_multi_segment_chains_trimmed_at_both_ends);
	tcase_add_test(tc, test_sack_blocks_report_most_recent_first);
	tcase_add_test(tc, test_flush_frees_every_held_mbuf);
	tcase_add_test(tc, test_chain_length_limit_keeps_adjacent_blocks_apart);
	tcase_add_test(tc, test_random_traffic_matches_reference_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	test_eal_init();
	pool = test_pool_create("reass_pool", POOL_SIZE);
	if (pool == NULL)
		return EXIT_FAILURE;
	return test_run_suite(tcp_reass_suite()) == 0 ? EXIT_SUCCESS :
		EXIT_FAILURE;
}
