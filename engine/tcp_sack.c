#include <string.h>

#include "tcp_sack.h"
#include "tcp_seq.h"

static uint32_t
range_len(const struct tcp_sack_range *r)
{
	return r->end - r->start;
}

static uint32_t
segments(uint32_t bytes, uint32_t smss)
{
	return bytes / smss + (bytes % smss != 0);
}

/* Range i as seen from snd_una: false when it lies wholly below. The
 * queries tolerate a caller that let SND.UNA advance without an update. */
static bool
range_above(const struct tcp_sack_board *b, unsigned i, uint32_t snd_una,
	    uint32_t *start, uint32_t *end)
{
	if (tcp_seq_leq(b->range[i].end, snd_una))
		return false;
	*start = tcp_seq_max(b->range[i].start, snd_una);
	*end = b->range[i].end;
	return true;
}

static bool
is_lost(uint64_t sacked_segments, uint64_t sacked_bytes, uint32_t smss)
{
	return sacked_segments >= TCP_SACK_DUPTHRESH ||
	       sacked_bytes > (uint64_t)(TCP_SACK_DUPTHRESH - 1) * smss;
}

static void
remove_ranges(struct tcp_sack_board *b, unsigned from, unsigned n)
{
	memmove(&b->range[from], &b->range[from + n],
		(b->count - from - n) * sizeof(b->range[0]));
	b->count -= n;
}

/* Drop what the cumulative ACK covers: whole ranges, then the part of the
 * lowest range below snd_una. */
static void
trim_below(struct tcp_sack_board *b, uint32_t snd_una)
{
	unsigned n = 0;

	while (n < b->count && tcp_seq_leq(b->range[n].end, snd_una)) {
		b->sacked_bytes -= range_len(&b->range[n]);
		n++;
	}
	if (n > 0)
		remove_ranges(b, 0, n);
	if (b->count > 0 && tcp_seq_lt(b->range[0].start, snd_una)) {
		b->sacked_bytes -= snd_una - b->range[0].start;
		b->range[0].start = snd_una;
	}
}

/* Add [start, end) to the board; returns the bytes it newly covers. */
static uint32_t
insert_range(struct tcp_sack_board *b, uint32_t start, uint32_t end)
{
	unsigned i = 0, j;
	uint32_t old = 0, merged_start, merged_end;

	/* Ranges i..j-1 overlap or touch [start, end). */
	while (i < b->count && tcp_seq_lt(b->range[i].end, start))
		i++;
	j = i;
	while (j < b->count && tcp_seq_leq(b->range[j].start, end)) {
		old += range_len(&b->range[j]);
		j++;
	}

	if (j > i) {
		merged_start = tcp_seq_min(start, b->range[i].start);
		merged_end = tcp_seq_max(end, b->range[j - 1].end);
		b->range[i].start = merged_start;
		b->range[i].end = merged_end;
		if (j - i > 1)
			remove_ranges(b, i + 1, j - i - 1);
		b->sacked_bytes += (merged_end - merged_start) - old;
		return (merged_end - merged_start) - old;
	}

	if (b->count == TCP_SACK_MAX_RANGES) {
		b->overflow_drops++;
		if (i == b->count)
			return end - start; /* it would be the highest itself */
		b->count--;
		b->sacked_bytes -= range_len(&b->range[b->count]);
	}
	memmove(&b->range[i + 1], &b->range[i],
		(b->count - i) * sizeof(b->range[0]));
	b->range[i].start = start;
	b->range[i].end = end;
	b->count++;
	b->sacked_bytes += end - start;
	return end - start;
}

void
tcp_sack_init(struct tcp_sack_board *b)
{
	memset(b, 0, offsetof(struct tcp_sack_board, range));
}

void
tcp_sack_reset(struct tcp_sack_board *b)
{
	b->count = 0;
	b->sacked_bytes = 0;
}

uint32_t
tcp_sack_update(struct tcp_sack_board *b, const struct tcp_sack_block *blocks,
		unsigned n, uint32_t snd_una, uint32_t snd_max)
{
	uint32_t added = 0;
	unsigned k;

	trim_below(b, snd_una);
	for (k = 0; k < n; k++) {
		uint32_t start = blocks[k].start, end = blocks[k].end;

		if (tcp_seq_leq(end, start) || tcp_seq_gt(end, snd_max)) {
			b->invalid_blocks++;
			continue;
		}
		if (tcp_seq_leq(end, snd_una)) {
			b->stale_blocks++;
			continue;
		}
		added += insert_range(b, tcp_seq_max(start, snd_una), end);
	}
	return added;
}

bool
tcp_sack_is_lost(const struct tcp_sack_board *b, uint32_t seq, uint32_t smss)
{
	uint64_t bytes = 0, segs = 0;
	unsigned i = b->count;

	/* Only bytes after seq count; walk down from the top until the
	 * ranges fall below it. */
	while (i-- > 0) {
		uint32_t start;

		if (tcp_seq_leq(b->range[i].end, seq + 1))
			break;
		start = tcp_seq_max(b->range[i].start, seq + 1);
		bytes += b->range[i].end - start;
		segs += segments(b->range[i].end - start, smss);
		if (is_lost(segs, bytes, smss))
			return true;
	}
	return false;
}

/* The part of the hole [lo, hi) below high_rxt: sent twice. */
static uint32_t
retransmitted_part(uint32_t lo, uint32_t hi, uint32_t high_rxt)
{
	if (tcp_seq_leq(high_rxt, lo))
		return 0;
	return tcp_seq_min(hi, high_rxt) - lo;
}

uint32_t
tcp_sack_pipe(const struct tcp_sack_board *b, uint32_t snd_una,
	      uint32_t snd_max, uint32_t high_rxt, uint32_t smss)
{
	uint64_t pipe = 0, bytes_above = 0, segs_above = 0;
	uint32_t hole_end = snd_max;
	unsigned i = b->count;

	/*
	 * Walk the holes from the top down, so that the SACKed bytes and
	 * segments above each hole are known when it is reached: IsLost is
	 * the same for every byte of a hole, nothing being SACKed inside it.
	 */
	for (;;) {
		uint32_t start = snd_una, end = snd_una, hole_start;
		bool have = false;

		while (i > 0 && !(have = range_above(b, i - 1, snd_una,
						     &start, &end)))
			i--;
		hole_start = have ? end : snd_una;
		if (tcp_seq_lt(hole_start, hole_end)) {
			if (!is_lost(segs_above, bytes_above, smss))
				pipe += hole_end - hole_start;
			pipe += retransmitted_part(hole_start, hole_end,
						   high_rxt);
		}
		if (!have)
			break;
		bytes_above += end - start;
		segs_above += segments(end - start, smss);
		hole_end = start;
		i--;
	}
	return pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
}

static bool
next_hole(const struct tcp_sack_board *b, uint32_t snd_una,
	  uint32_t high_rxt, uint32_t smss, bool need_lost,
	  uint32_t *seq, uint32_t *len)
{
	uint64_t bytes_above = 0, segs_above = 0;
	uint32_t floor = tcp_seq_max(snd_una, high_rxt);
	uint32_t hole_start = snd_una;
	uint32_t start, end;
	unsigned i;

	for (i = 0; i < b->count; i++) {
		if (range_above(b, i, snd_una, &start, &end)) {
			bytes_above += end - start;
			segs_above += segments(end - start, smss);
		}
	}
	/* Holes below the highest SACKed byte, lowest first; the hole
	 * before range i has ranges i.. above it. */
	for (i = 0; i < b->count; i++) {
		uint32_t from;

		if (!range_above(b, i, snd_una, &start, &end))
			continue;
		from = tcp_seq_max(hole_start, floor);
		if (tcp_seq_lt(from, start)) {
			/* IsLost only weakens going up: first miss ends it. */
			if (need_lost &&
			    !is_lost(segs_above, bytes_above, smss))
				return false;
			*seq = from;
			*len = start - from < smss ? start - from : smss;
			return true;
		}
		bytes_above -= end - start;
		segs_above -= segments(end - start, smss);
		hole_start = end;
	}
	return false;
}

bool
tcp_sack_next_seg(const struct tcp_sack_board *b, uint32_t snd_una,
		  uint32_t high_rxt, uint32_t smss, uint32_t *seq,
		  uint32_t *len)
{
	return next_hole(b, snd_una, high_rxt, smss, true, seq, len);
}

bool
tcp_sack_next_unsacked(const struct tcp_sack_board *b, uint32_t snd_una,
		       uint32_t high_rxt, uint32_t smss, uint32_t *seq,
		       uint32_t *len)
{
	return next_hole(b, snd_una, high_rxt, smss, false, seq, len);
}
