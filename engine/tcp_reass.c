#include "tcp_reass.h"

#include <string.h>

#include "tcp_seq.h"

/*
 * Drop the first n bytes of chain m; n must be less than m->pkt_len.
 * Returns the new head (segments emptied by the trim are freed).
 */
static struct rte_mbuf *
chain_trim_front(struct rte_mbuf *m, uint32_t n)
{
	uint32_t pkt_len = m->pkt_len - n;
	uint16_t nb_segs = m->nb_segs;
	struct rte_mbuf *next;

	while (n > 0 && n >= m->data_len) {
		next = m->next;
		n -= m->data_len;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
		nb_segs--;
	}
	m->data_off += n;
	m->data_len -= n;
	m->pkt_len = pkt_len;
	m->nb_segs = nb_segs;
	return m;
}

/*
 * Keep only the first 'keep' bytes of chain m; 0 < keep <= m->pkt_len.
 * Returns the new last segment (the segments past it are freed).
 */
static struct rte_mbuf *
chain_trim_back(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *seg = m;
	uint32_t before = 0;	/* bytes in the segments ahead of seg */
	uint16_t nb_segs = 1;

	while (before + seg->data_len < keep) {
		before += seg->data_len;
		seg = seg->next;
		nb_segs++;
	}
	seg->data_len = keep - before;
	/* Trailing segments, empty ones included, are of no further use. */
	if (seg->next != NULL) {
		rte_pktmbuf_free(seg->next);
		seg->next = NULL;
	}
	m->pkt_len = keep;
	m->nb_segs = nb_segs;
	return seg;
}

/* Whether the chains headed by a and b fit in one chain. */
static bool
chain_can_join(const struct rte_mbuf *a, const struct rte_mbuf *b)
{
	return (uint32_t)a->nb_segs + b->nb_segs <= RTE_MBUF_MAX_NB_SEGS;
}

/* Append the chain b (last segment b_tail) to block blk. The caller has
 * checked chain_can_join(). Unlike rte_pktmbuf_chain() this does not walk
 * the chain: the block knows its tail. */
static void
block_append(struct tcp_reass_block *blk, struct rte_mbuf *b,
	     struct rte_mbuf *b_tail)
{
	struct rte_mbuf *head = blk->head;

	blk->tail->next = b;
	head->nb_segs = (uint16_t)(head->nb_segs + b->nb_segs);
	head->pkt_len += b->pkt_len;
	blk->end += b->pkt_len;
	/* pkt_len is meaningful only in a head; keep the inner one tidy as
	 * rte_pktmbuf_chain() does. */
	b->pkt_len = b->data_len;
	b->nb_segs = 1;
	blk->tail = b_tail;
}

static void
block_remove(struct tcp_reass *q, unsigned int i)
{
	q->nb_blocks--;
	memmove(&q->blocks[i], &q->blocks[i + 1],
		(q->nb_blocks - i) * sizeof(q->blocks[0]));
}

/* Make room at index i (the caller has checked a slot is free). */
static struct tcp_reass_block *
block_insert_at(struct tcp_reass *q, unsigned int i)
{
	memmove(&q->blocks[i + 1], &q->blocks[i],
		(q->nb_blocks - i) * sizeof(q->blocks[0]));
	q->nb_blocks++;
	return &q->blocks[i];
}

/*
 * Release held bytes below rcv_nxt: an in-order segment may have delivered
 * them already. Blocks are sorted, so only the leading ones can be affected.
 * Afterwards every block lies at or above rcv_nxt, which lets the callers
 * compare positions as plain offsets from rcv_nxt.
 */
static void
reass_release_below(struct tcp_reass *q, uint32_t rcv_nxt)
{
	while (q->nb_blocks > 0) {
		struct tcp_reass_block *blk = &q->blocks[0];

		if (tcp_seq_leq(blk->end, rcv_nxt)) {
			q->bytes -= blk->end - blk->start;
			rte_pktmbuf_free(blk->head);
			block_remove(q, 0);
			continue;
		}
		if (tcp_seq_lt(blk->start, rcv_nxt)) {
			uint32_t n = rcv_nxt - blk->start;

			blk->head = chain_trim_front(blk->head, n);
			blk->start = rcv_nxt;
			q->bytes -= n;
		}
		break;
	}
}

void
tcp_reass_init(struct tcp_reass *q)
{
	q->nb_blocks = 0;
	q->bytes = 0;
	q->arrivals = 0;
}

enum tcp_reass_result
tcp_reass_insert(struct tcp_reass *q, struct rte_mbuf *m, uint32_t seq,
		 uint32_t rcv_nxt, uint32_t rcv_wnd_end)
{
	/* Positions below are offsets from rcv_nxt: within the window they
	 * are ordered like plain integers, which keeps the overlap logic
	 * readable. seq_off may be negative (data before rcv_nxt). */
	int64_t seq_off = (int32_t)(seq - rcv_nxt);
	int64_t wnd = (int32_t)(rcv_wnd_end - rcv_nxt);
	int64_t s64 = seq_off > 0 ? seq_off : 0;
	int64_t e64 = seq_off + m->pkt_len;
	uint32_t s, e;
	struct tcp_reass_block *blk = NULL;
	struct rte_mbuf *tail;
	bool has_left = false, has_right;
	unsigned int j;

	reass_release_below(q, rcv_nxt);
	if (e64 > wnd)
		e64 = wnd;
	if (s64 >= e64) {
		rte_pktmbuf_free(m);
		return TCP_REASS_OUT_OF_WINDOW;
	}
	s = (uint32_t)s64;
	e = (uint32_t)e64;

	q->arrivals++;

	/* Skip blocks that end before the segment and do not touch it. */
	for (j = 0; j < q->nb_blocks &&
	     q->blocks[j].end - rcv_nxt < s; j++)
		;
	/* Held data at and right after s wins: trim the segment's front past
	 * it, following adjacent blocks too. */
	while (j < q->nb_blocks && q->blocks[j].start - rcv_nxt <= s) {
		uint32_t blk_end = q->blocks[j].end - rcv_nxt;

		if (blk_end >= e) {
			q->blocks[j].last_arrival = q->arrivals;
			rte_pktmbuf_free(m);
			return TCP_REASS_DUPLICATE;
		}
		s = blk_end;
		has_left = true;
		j++;
	}
	/* Blocks inside the segment are replaced by it rather than cutting
	 * the segment in pieces around them. */
	while (j < q->nb_blocks && q->blocks[j].end - rcv_nxt <= e) {
		q->bytes -= q->blocks[j].end - q->blocks[j].start;
		rte_pktmbuf_free(q->blocks[j].head);
		block_remove(q, j);
	}
	/* A block overlapping the segment's end wins over its tail. */
	has_right = j < q->nb_blocks && q->blocks[j].start - rcv_nxt <= e;
	if (has_right)
		e = q->blocks[j].start - rcv_nxt;

	if ((int64_t)s > seq_off)
		m = chain_trim_front(m, (uint32_t)((int64_t)s - seq_off));
	if (m->pkt_len > e - s)
		tail = chain_trim_back(m, e - s);
	else
		tail = rte_pktmbuf_lastseg(m);

	if (has_left && chain_can_join(q->blocks[j - 1].head, m)) {
		blk = &q->blocks[j - 1];
		block_append(blk, m, tail);
		if (has_right && chain_can_join(blk->head, q->blocks[j].head)) {
			block_append(blk, q->blocks[j].head, q->blocks[j].tail);
			block_remove(q, j);
		}
	} else if (has_right && chain_can_join(m, q->blocks[j].head)) {
		struct tcp_reass_block *right = &q->blocks[j];
		struct rte_mbuf *old_head = right->head;
		struct rte_mbuf *old_tail = right->tail;

		right->head = m;
		right->start = rcv_nxt + s;
		right->end = right->start + m->pkt_len;
		right->tail = tail;
		block_append(right, old_head, old_tail);
		blk = right;
	} else {
		if (q->nb_blocks == TCP_REASS_MAX_BLOCKS) {
			rte_pktmbuf_free(m);
			return TCP_REASS_FULL;
		}
		blk = block_insert_at(q, j);
		blk->start = rcv_nxt + s;
		blk->end = rcv_nxt + e;
		blk->head = m;
		blk->tail = tail;
	}
	blk->last_arrival = q->arrivals;
	q->bytes += e - s;
	return TCP_REASS_INSERTED;
}

struct rte_mbuf *
tcp_reass_pull(struct tcp_reass *q, uint32_t *rcv_nxt)
{
	struct rte_mbuf *m;

	reass_release_below(q, *rcv_nxt);
	if (q->nb_blocks == 0 || q->blocks[0].start != *rcv_nxt)
		return NULL;
	m = q->blocks[0].head;
	*rcv_nxt = q->blocks[0].end;
	q->bytes -= m->pkt_len;
	block_remove(q, 0);
	return m;
}

unsigned int
tcp_reass_sack_blocks(const struct tcp_reass *q, uint32_t rcv_nxt,
		      struct tcp_sack_block *out, unsigned int max)
{
	struct {
		struct tcp_sack_block range;
		uint64_t last_arrival;
	} runs[TCP_REASS_MAX_BLOCKS];
	bool taken[TCP_REASS_MAX_BLOCKS] = { false };
	unsigned int nb_runs = 0, n, i;

	/* Adjacent blocks (split only by the chain length limit) are one
	 * range to the peer. */
	for (i = 0; i < q->nb_blocks; i++) {
		const struct tcp_reass_block *blk = &q->blocks[i];
		uint32_t start = blk->start;

		if (tcp_seq_leq(blk->end, rcv_nxt))
			continue;
		if (tcp_seq_lt(start, rcv_nxt))
			start = rcv_nxt;
		if (nb_runs > 0 && runs[nb_runs - 1].range.end == start) {
			runs[nb_runs - 1].range.end = blk->end;
			if (blk->last_arrival > runs[nb_runs - 1].last_arrival)
				runs[nb_runs - 1].last_arrival = blk->last_arrival;
			continue;
		}
		runs[nb_runs].range.start = start;
		runs[nb_runs].range.end = blk->end;
		runs[nb_runs].last_arrival = blk->last_arrival;
		nb_runs++;
	}

	/* Selection by recency: at most a handful of picks from 16. */
	for (n = 0; n < max && n < nb_runs; n++) {
		unsigned int best = nb_runs;

		for (i = 0; i < nb_runs; i++)
			if (!taken[i] && (best == nb_runs ||
			    runs[i].last_arrival > runs[best].last_arrival))
				best = i;
		taken[best] = true;
		out[n] = runs[best].range;
	}
	return n;
}

void
tcp_reass_flush(struct tcp_reass *q)
{
	unsigned int i;

	for (i = 0; i < q->nb_blocks; i++)
		rte_pktmbuf_free(q->blocks[i].head);
	q->nb_blocks = 0;
	q->bytes = 0;
}
