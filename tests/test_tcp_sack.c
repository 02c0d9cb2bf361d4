/*
 * tcp_sack: the scoreboard merges SACK blocks into sorted ranges, refuses
 * blocks outside the send window, forgets what SND.UNA covers, works across
 * the sequence wrap, degrades conservatively when full, and answers RFC
 * 6675's IsLost, SetPipe and NextSeg as a byte-by-byte model does.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "test_eal.h"
#include "tcp_sack.h"

#define SMSS 1000u
#define UNA 1000u
#define MAX 11000u	/* ten segments sent: 1000..10999 */

static struct tcp_sack_board board;

/* Every test starts from a board that held garbage: a connection's board
 * is not cleared at allocation, only tcp_sack_init()ed, so no range may be
 * read before it is written. */
static void
setup(void)
{
	memset(&board, 0xa5, sizeof(board));
	tcp_sack_init(&board);
	ck_assert_uint_eq(board.count, 0);
	ck_assert_uint_eq(board.sacked_bytes, 0);
	ck_assert_uint_eq(board.stale_blocks + board.invalid_blocks +
			  board.overflow_drops, 0);
}

static uint32_t
sack1(uint32_t start, uint32_t end, uint32_t una, uint32_t max)
{
	struct tcp_sack_block blk = { .start = start, .end = end };

	return tcp_sack_update(&board, &blk, 1, una, max);
}

static void
assert_range(unsigned i, uint32_t start, uint32_t end)
{
	ck_assert_uint_gt(board.count, i);
	ck_assert_uint_eq(board.range[i].start, start);
	ck_assert_uint_eq(board.range[i].end, end);
}

START_TEST(test_sack_blocks_merge_when_they_touch_or_overlap)
{
	ck_assert_uint_eq(sack1(3000, 4000, UNA, MAX), 1000);
	ck_assert_uint_eq(sack1(5000, 6000, UNA, MAX), 1000);
	ck_assert_uint_eq(board.count, 2);
	ck_assert_uint_eq(sack1(4000, 5000, UNA, MAX), 1000);	/* touches both */
	ck_assert_uint_eq(board.count, 1);
	assert_range(0, 3000, 6000);
	ck_assert_uint_eq(sack1(2500, 3500, UNA, MAX), 500);	/* overlaps */
	assert_range(0, 2500, 6000);
	ck_assert_uint_eq(sack1(4000, 5000, UNA, MAX), 0);	/* nothing new */
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), 3500);
}
END_TEST

START_TEST(test_sack_blocks_of_one_ack_are_taken_in_any_order)
{
	struct tcp_sack_block blk[4] = {
		{ 8000, 9000 }, { 2000, 3000 }, { 5000, 6000 }, { 3000, 4000 },
	};

	ck_assert_uint_eq(tcp_sack_update(&board, blk, 4, UNA, MAX), 4000);
	ck_assert_uint_eq(board.count, 3);
	assert_range(0, 2000, 4000);
	assert_range(1, 5000, 6000);
	assert_range(2, 8000, 9000);
}
END_TEST

START_TEST(test_sack_ignores_blocks_outside_the_send_window)
{
	ck_assert_uint_eq(sack1(500, 900, UNA, MAX), 0);	/* below SND.UNA */
	ck_assert_uint_eq(sack1(500, 1000, UNA, MAX), 0);	/* ends at it */
	ck_assert_uint_eq(board.stale_blocks, 2);
	ck_assert_uint_eq(sack1(10500, 11500, UNA, MAX), 0);	/* never sent */
	ck_assert_uint_eq(sack1(4000, 3000, UNA, MAX), 0);	/* inverted */
	ck_assert_uint_eq(sack1(5000, 5000, UNA, MAX), 0);	/* empty */
	ck_assert_uint_eq(board.invalid_blocks, 3);
	ck_assert_uint_eq(board.count, 0);
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), 0);
	ck_assert_uint_eq(sack1(10000, 11000, UNA, MAX), 1000); /* up to SND.MAX */
}
END_TEST

START_TEST(test_sack_block_straddling_snd_una_counts_from_it)
{
	ck_assert_uint_eq(sack1(800, 1500, UNA, MAX), 500);
	assert_range(0, UNA, 1500);
}
END_TEST

START_TEST(test_sack_ranges_below_snd_una_are_dropped_as_it_advances)
{
	sack1(3000, 4000, UNA, MAX);
	sack1(6000, 7000, UNA, MAX);
	tcp_sack_update(&board, NULL, 0, 3500, MAX);
	ck_assert_uint_eq(board.count, 2);
	assert_range(0, 3500, 4000);
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), 1500);
	tcp_sack_update(&board, NULL, 0, 7000, MAX);
	ck_assert_uint_eq(board.count, 0);
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), 0);
}
END_TEST

START_TEST(test_sack_works_across_the_sequence_wrap)
{
	uint32_t una = 0xFFFFF000u, max = una + 10000;	/* max wrapped */
	struct tcp_sack_block blk[2] = {
		{ 0xFFFFF800u, 0x200 }, { 0x400, 0x800 },
	};
	uint32_t seq, len;

	ck_assert_uint_eq(tcp_sack_update(&board, blk, 2, una, max), 0xE00);
	ck_assert_uint_eq(board.count, 2);
	ck_assert_uint_eq(sack1(0x200, 0x400, una, max), 0x200);
	ck_assert_uint_eq(board.count, 1);
	assert_range(0, 0xFFFFF800u, 0x800);
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), 0x1000);
	/* 4096 bytes SACKed above SND.UNA: the first hole is lost. */
	ck_assert(tcp_sack_is_lost(&board, una, SMSS));
	ck_assert(tcp_sack_next_seg(&board, una, una, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, una);
	ck_assert_uint_eq(len, SMSS);
	/* Hole 0xFFFFF000..0xFFFFF7FF lost; 0x800..max not: 2048 + rest. */
	ck_assert_uint_eq(tcp_sack_pipe(&board, una, max, una, SMSS),
			  max - 0x800);
	/* Beyond SND.MAX even across zero. */
	ck_assert_uint_eq(sack1(max - 10, max + 10, una, max), 0);
	ck_assert_uint_eq(board.invalid_blocks, 1);
	tcp_sack_update(&board, NULL, 0, 0x100, max);
	assert_range(0, 0x100, 0x800);
}
END_TEST

START_TEST(test_sack_is_lost_needs_more_than_two_smss_above)
{
	sack1(2000, 4000, UNA, MAX);	/* exactly 2 SMSS, 2 segments */
	ck_assert(!tcp_sack_is_lost(&board, UNA, SMSS));
	sack1(4000, 4001, UNA, MAX);	/* one byte more */
	ck_assert(tcp_sack_is_lost(&board, UNA, SMSS));
}
END_TEST

START_TEST(test_sack_is_lost_counts_three_small_segments)
{
	sack1(2000, 2100, UNA, MAX);
	sack1(3000, 3100, UNA, MAX);
	ck_assert(!tcp_sack_is_lost(&board, UNA, SMSS));
	sack1(4000, 4100, UNA, MAX);	/* DupThresh discontiguous segments */
	ck_assert(tcp_sack_is_lost(&board, UNA, SMSS));
}
END_TEST

START_TEST(test_sack_is_lost_counts_only_what_lies_above_seq)
{
	sack1(2000, 3000, UNA, MAX);
	sack1(4000, 6000, UNA, MAX);
	ck_assert(tcp_sack_is_lost(&board, 1500, SMSS));	/* 3000 above */
	ck_assert(!tcp_sack_is_lost(&board, 3500, SMSS));	/* 2000 above */
	/* Inside a range only the bytes after seq count: above 4999 lie
	 * 5000..5999 and 7000..7399, two segments and 1400 bytes; the whole
	 * range would have made it three segments. */
	sack1(7000, 7400, UNA, MAX);
	ck_assert(!tcp_sack_is_lost(&board, 4999, SMSS));
	ck_assert(tcp_sack_is_lost(&board, 3999, SMSS));
}
END_TEST

/*
 * Worked by hand from RFC 6675's definitions. Ten segments of 1000 bytes,
 * 1000..10999, are out; segments 1000 and 3000 are lost, 2000 and
 * 4000..6999 are SACKed, 7000..10999 are still travelling.
 *   hole 1000..1999: 4 segments / 4000 bytes SACKed above -> lost
 *   hole 3000..3999: 3 segments / 3000 bytes above        -> lost
 *   hole 7000..10999: nothing above                        -> in pipe
 * pipe = 4000. Each retransmission then adds its segment back.
 */
START_TEST(test_sack_pipe_worked_example)
{
	sack1(2000, 3000, UNA, MAX);
	sack1(4000, 7000, UNA, MAX);
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, UNA, SMSS), 4000);
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, 2000, SMSS), 5000);
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, 4000, SMSS), 6000);
	/* The ACK for the first retransmission arrives. */
	tcp_sack_update(&board, NULL, 0, 3000, MAX);
	ck_assert_uint_eq(tcp_sack_pipe(&board, 3000, MAX, 4000, SMSS), 5000);
}
END_TEST

START_TEST(test_sack_pipe_counts_retransmitted_unlost_data_twice)
{
	sack1(2000, 3000, UNA, MAX);	/* one segment: nothing is lost yet */
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, UNA, SMSS), 9000);
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, 2000, SMSS), 10000);
	/* An empty board: everything outstanding is in the pipe. */
	tcp_sack_reset(&board);
	ck_assert_uint_eq(tcp_sack_pipe(&board, UNA, MAX, UNA, SMSS), 10000);
}
END_TEST

START_TEST(test_sack_next_seg_returns_lost_holes_lowest_first)
{
	uint32_t seq = 0, len = 0;

	sack1(2000, 3000, UNA, MAX);
	sack1(4000, 7000, UNA, MAX);
	ck_assert(tcp_sack_next_seg(&board, UNA, UNA, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 1000);
	ck_assert_uint_eq(len, 1000);
	ck_assert(tcp_sack_next_seg(&board, UNA, 2000, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 3000);
	ck_assert_uint_eq(len, 1000);
	/* 7000.. lies above every SACKed byte: not rule (1)'s business. */
	seq = len = 12345;
	ck_assert(!tcp_sack_next_seg(&board, UNA, 4000, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 12345);
	ck_assert_uint_eq(len, 12345);
}
END_TEST

START_TEST(test_sack_next_seg_stays_within_the_hole_and_above_high_rxt)
{
	uint32_t seq, len;

	sack1(1300, 5000, UNA, MAX);
	ck_assert(tcp_sack_next_seg(&board, UNA, UNA, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 1000);
	ck_assert_uint_eq(len, 300);	/* stops at SACKed data */

	tcp_sack_reset(&board);
	sack1(3000, 6000, UNA, MAX);
	ck_assert(tcp_sack_next_seg(&board, UNA, 1500, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 1500);
	ck_assert_uint_eq(len, SMSS);
	ck_assert(tcp_sack_next_seg(&board, UNA, 2500, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 2500);
	ck_assert_uint_eq(len, 500);
	ck_assert(!tcp_sack_next_seg(&board, UNA, 3000, SMSS, &seq, &len));
}
END_TEST

START_TEST(test_sack_next_unsacked_ignores_islost)
{
	uint32_t seq, len;

	sack1(5000, 6000, UNA, MAX);	/* one segment: nothing lost */
	ck_assert(!tcp_sack_next_seg(&board, UNA, UNA, SMSS, &seq, &len));
	ck_assert(tcp_sack_next_unsacked(&board, UNA, UNA, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 1000);
	ck_assert_uint_eq(len, SMSS);
	ck_assert(tcp_sack_next_unsacked(&board, UNA, 4500, SMSS, &seq, &len));
	ck_assert_uint_eq(seq, 4500);
	ck_assert_uint_eq(len, 500);
	ck_assert(!tcp_sack_next_unsacked(&board, UNA, 5000, SMSS, &seq, &len));
}
END_TEST

START_TEST(test_sack_full_board_forgets_the_highest_ranges)
{
	uint32_t una = 0, max = 100000;
	unsigned i;

	for (i = 0; i < TCP_SACK_MAX_RANGES; i++)
		ck_assert_uint_eq(sack1(1000 + 200 * i, 1100 + 200 * i, una, max),
				  100);
	ck_assert_uint_eq(board.count, TCP_SACK_MAX_RANGES);
	ck_assert_uint_eq(board.overflow_drops, 0);

	/* Above all: the new range is the highest, so it is the one lost. */
	ck_assert_uint_eq(sack1(50000, 50100, una, max), 100);
	ck_assert_uint_eq(board.count, TCP_SACK_MAX_RANGES);
	ck_assert_uint_eq(board.overflow_drops, 1);
	assert_range(TCP_SACK_MAX_RANGES - 1, 1000 + 200 * 31, 1100 + 200 * 31);

	/* Below the top: the top range makes room. */
	sack1(500, 600, una, max);
	ck_assert_uint_eq(board.overflow_drops, 2);
	assert_range(0, 500, 600);
	assert_range(TCP_SACK_MAX_RANGES - 1, 1000 + 200 * 30, 1100 + 200 * 30);
	ck_assert_uint_eq(tcp_sack_sacked_bytes(&board),
			  100 * TCP_SACK_MAX_RANGES);

	/* Merging needs no slot. */
	sack1(1100, 1200, una, max);
	ck_assert_uint_eq(board.overflow_drops, 2);
	ck_assert_uint_eq(board.count, TCP_SACK_MAX_RANGES - 1);
	assert_range(1, 1000, 1300);
}
END_TEST

/*
 * Random blocks against a byte-per-byte model of RFC 6675, in a 600-byte
 * window straddling 2^32. Blocks are multiples of 10 bytes, so the window
 * holds at most 30 ranges and the board never overflows; the model then
 * has to agree exactly.
 */
#define WIN 600
#define RSMSS 50u

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static bool model[WIN];

/* IsLost straight from RFC 6675, over maximal SACKed runs above s. */
static bool
model_is_lost(unsigned s)
{
	unsigned bytes = 0, segs = 0, i = s + 1;

	while (i < WIN) {
		unsigned run = 0;

		while (i < WIN && !model[i])
			i++;
		while (i < WIN && model[i]) {
			run++;
			i++;
		}
		bytes += run;
		segs += (run + RSMSS - 1) / RSMSS;
	}
	return segs >= 3 || bytes > 2 * RSMSS;
}

static bool
model_next(unsigned una, unsigned high_rxt, bool need_lost, unsigned *seq,
	   unsigned *len)
{
	int top = -1;
	unsigned s, e;

	for (s = una; s < WIN; s++)
		if (model[s])
			top = (int)s;
	for (s = una > high_rxt ? una : high_rxt; (int)s < top; s++) {
		if (model[s] || (need_lost && !model_is_lost(s)))
			continue;
		for (e = s; !model[e] && e - s < RSMSS; e++)
			;
		*seq = s;
		*len = e - s;
		return true;
	}
	return false;
}

START_TEST(test_sack_matches_byte_model_under_random_blocks)
{
	const uint32_t base = 0xFFFFFF00u;	/* the window wraps at 256 */
	unsigned una = 0, step;

	memset(model, 0, sizeof(model));
	for (step = 0; step < 3000; step++) {
		struct tcp_sack_block blk[4];
		unsigned n = rng(5), k, s, fresh = 0, count = 0, runs = 0;
		unsigned hr, pipe, mseq, mlen;
		uint32_t seq, len;

		if (rng(4) == 0 && una < WIN - 100)
			una += 10 * rng(6);
		if (una >= WIN - 100 || rng(200) == 0) {	/* start over */
			una = 0;
			memset(model, 0, sizeof(model));
			tcp_sack_reset(&board);
		}
		for (s = 0; s < una; s++)
			model[s] = false;
		for (k = 0; k < n; k++) {
			unsigned a = 10 * rng(WIN / 10), b = a + 10 * (1 + rng(5));

			switch (rng(10)) {
			case 0:		/* inverted */
				blk[k].start = base + b;
				blk[k].end = base + a;
				continue;
			case 1:		/* past SND.MAX */
				blk[k].start = base + a;
				blk[k].end = base + WIN + 10;
				continue;
			default:
				if (b > WIN)
					b = WIN;
				blk[k].start = base + a;
				blk[k].end = base + b;
			}
			for (s = a > una ? a : una; s < b; s++) {
				fresh += !model[s];
				model[s] = true;
			}
		}
		ck_assert_uint_eq(tcp_sack_update(&board, blk, n, base + una,
						  base + WIN), fresh);

		/* The ranges are the model's maximal runs. */
		for (s = una; s < WIN; s++) {
			count += model[s];
			if (model[s] && (s == una || !model[s - 1])) {
				for (k = s; k < WIN && model[k]; k++)
					;
				assert_range(runs, base + s, base + k);
				runs++;
			}
		}
		ck_assert_uint_eq(board.count, runs);
		ck_assert_uint_eq(tcp_sack_sacked_bytes(&board), count);
		ck_assert_uint_eq(board.overflow_drops, 0);

		s = una + rng(WIN - una);
		ck_assert_int_eq(tcp_sack_is_lost(&board, base + s, RSMSS),
				 model_is_lost(s));

		hr = una + rng(WIN - una + 1);
		pipe = 0;
		for (s = una; s < WIN; s++)
			if (!model[s])
				pipe += !model_is_lost(s) + (s < hr);
		ck_assert_uint_eq(tcp_sack_pipe(&board, base + una, base + WIN,
						base + hr, RSMSS), pipe);

		if (model_next(una, hr, true, &mseq, &mlen)) {
			ck_assert(tcp_sack_next_seg(&board, base + una,
						    base + hr, RSMSS,
						    &seq, &len));
			ck_assert_uint_eq(seq, base + mseq);
			ck_assert_uint_eq(len, mlen);
		} else {
			ck_assert(!tcp_sack_next_seg(&board, base + una,
						     base + hr, RSMSS,
						     &seq, &len));
		}
		if (model_next(una, hr, false, &mseq, &mlen)) {
			ck_assert(tcp_sack_next_unsacked(&board, base + una,
							 base + hr, RSMSS,
							 &seq, &len));
			ck_assert_uint_eq(seq, base + mseq);
			ck_assert_uint_eq(len, mlen);
		} else {
			ck_assert(!tcp_sack_next_unsacked(&board, base + una,
							  base + hr, RSMSS,
							  &seq, &len));
		}
	}
}
END_TEST

static Suite *
tcp_sack_suite(void)
{
	Suite *s = suite_create("tcp_sack");
	TCase *tc = tcase_create("scoreboard");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_sack_blocks_merge_when_they_touch_or_overlap);
	tcase_add_test(tc, test_sack_blocks_of_one_ack_are_taken_in_any_order);
	tcase_add_test(tc, test_sack_ignores_blocks_outside_the_send_window);
	tcase_add_test(tc, test_sack_block_straddling_snd_una_counts_from_it);
	tcase_add_test(tc, test_sack_ranges_below_snd_una_are_dropped_as_it_advances);
	tcase_add_test(tc, test_sack_works_across_the_sequence_wrap);
	tcase_add_test(tc, test_sack_is_lost_needs_more_than_two_smss_above);
	tcase_add_test(tc, test_sack_is_lost_counts_three_small_segments);
	tcase_add_test(tc, test_sack_is_lost_counts_only_what_lies_above_seq);
	tcase_add_test(tc, test_sack_pipe_worked_example);
	tcase_add_test(tc, test_sack_pipe_counts_retransmitted_unlost_data_twice);
	tcase_add_test(tc, test_sack_next_seg_returns_lost_holes_lowest_first);
	tcase_add_test(tc, test_sack_next_seg_stays_within_the_hole_and_above_high_rxt);
	tcase_add_test(tc, test_sack_next_unsacked_ignores_islost);
	tcase_add_test(tc, test_sack_full_board_forgets_the_highest_ranges);
	tcase_add_test(tc, test_sack_matches_byte_model_under_random_blocks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(tcp_sack_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
