/*
 * Loss recovery beyond RFC 6298/5681: RACK-TLP (RFC 8985) for connections
 * that agreed SACK, and limited transmit (RFC 3042) and early retransmit
 * (RFC 5827) for every connection.
 *
 * Why. Counting duplicate ACKs cannot see a retransmission that is lost
 * again, nor a loss at the tail of a flight (no later segment, so no
 * duplicate ACKs): both used to wait for the retransmission timer. RACK
 * decides by time instead: a segment is lost once a segment sent after it
 * has been delivered (ACKed or SACKed) and RACK.rtt + reo_wnd has passed
 * since it was sent, which works for retransmissions as for originals.
 * TLP sends a probe when ACKs stop coming before the RTO, so that a tail
 * loss turns into SACK information RACK can act on.
 *
 * Transmit times are kept per send-queue mbuf (struct tcp_sq_mark, a DPDK
 * dynamic field of the mbuf), not per segment: tcp_sq_tail_room() keeps
 * the send queue's mbufs no larger than a segment and never appends to an
 * mbuf already sent, so in bulk transfer each mbuf is exactly one segment.
 * Where small writes make an mbuf part of a larger segment, its mark still
 * tells when its bytes last left, which is all RACK asks.
 *
 * Marks: LOST (RACK decided, retransmission pending), REXMT (sent again,
 * that copy not known lost), SACKED (the receiver holds it). The pipe is
 * FlightSize less SACKed less LOST bytes: a retransmitted mbuf counts once.
 *
 * Cost: the loss-detection pass walks the unacknowledged mbufs once per
 * ACK, only while there is something to detect (SACK blocks, marks or a
 * recovery); clean ACKs only look at what they acknowledge.
 *
 * Not done (RFC 8985 options): D-SACK-driven growth of the reordering
 * window and spurious-TLP detection by D-SACK; the minimum RTT is the
 * connection's minimum rather than a windowed one.
 */
#include <rte_mbuf_dyn.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

/* RFC 8985 §7.2 WCDelAckT: the worst-case delayed ACK a probe of a single
 * segment has to wait out. */
#define TCP_TLP_DELACK_US 200000u
/* The earliest probe, one wheel tick: a PTO of 2 * 100 us would probe
 * before the peer's ACK could return on a busy host. */
#define TCP_TLP_MIN_PTO_US TCP_WHEEL_TICK_US
/* PTO before any RTT sample (RFC 8985 §7.2). */
#define TCP_TLP_NO_RTT_PTO_US 1000000u

#define SQM_LOST	(1u << 0)
#define SQM_REXMT	(1u << 1)
#define SQM_SACKED	(1u << 2)

struct tcp_sq_mark {
	uint64_t xmit_us;	/* last transmission of any of its bytes */
	uint32_t flags;		/* SQM_* */
};

static int sq_mark_offset = -1;

static const struct rte_mbuf_dynfield sq_mark_desc = {
	.name = "wskdp_tcp_sq_mark",
	.size = sizeof(struct tcp_sq_mark),
	.align = __alignof__(struct tcp_sq_mark),
};

static inline struct tcp_sq_mark *
mark_of(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, sq_mark_offset, struct tcp_sq_mark *);
}

int
tcp_recovery_init(void)
{
	int off = rte_mbuf_dynfield_register(&sq_mark_desc);

	if (off < 0)
		return -ENOMEM;
	sq_mark_offset = off;
	return 0;
}

uint32_t
tcp_sq_tail_room(const struct tcp_conn *c, const struct rte_mbuf *t)
{
	uint32_t room = rte_pktmbuf_tailroom(t);
	uint32_t first = tcp_sq_end(c) - t->data_len;

	if (t->data_len > 0 && tcp_seq_lt(first, c->snd_max))
		return 0;
	if (c->t_maxseg > 0) {
		uint32_t seg = t->data_len >= c->t_maxseg
			? 0 : c->t_maxseg - t->data_len;

		room = RTE_MIN(room, seg);
	}
	return room;
}

bool
tcp_rack_enabled(const struct tcp_conn *c)
{
	return (c->t_flags & TF_SACK_PERMIT) &&
	       tcp_state_synchronized(c->state) && sq_mark_offset >= 0;
}

void
tcp_rack_sent(struct tcp_conn *c, struct rte_mbuf *m, uint32_t off,
	      bool rexmt)
{
	struct tcp_sq_mark *k;

	if (sq_mark_offset < 0)
		return;
	k = mark_of(m);
	if (!rexmt) {
		/* The first transmission of the mbuf's first byte: the mark
		 * is new (mbufs come from the pool with whatever was there). */
		if (off == 0)
			k->flags = 0;
		k->xmit_us = c->ts->s->now_us;
		return;
	}
	k->xmit_us = c->ts->s->now_us;
	if (k->flags & SQM_SACKED)
		return;
	if (k->flags & SQM_LOST) {
		k->flags &= ~SQM_LOST;
		c->rack.lost_bytes -= RTE_MIN(c->rack.lost_bytes,
					      (uint32_t)m->data_len);
	}
	k->flags |= SQM_REXMT;
}

/* RFC 8985 RACK_sent_after(): was (t1, seq1) sent after (t2, seq2)? The
 * sequence breaks ties between segments sent in the same microsecond. */
static bool
sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && tcp_seq_gt(seq1, seq2));
}

/* RFC 8985 §6.2 steps 2 and 3 for one newly delivered mbuf ending at end. */
static void
delivered(struct tcp_conn *c, const struct tcp_sq_mark *k, uint32_t end)
{
	struct tcp_rack *r = &c->rack;
	uint64_t now = c->ts->s->now_us;
	uint32_t rtt = now > k->xmit_us ? (uint32_t)RTE_MIN(now - k->xmit_us,
						(uint64_t)UINT32_MAX) : 0;
	bool rexmt = (k->flags & SQM_REXMT) != 0;
	bool first = !r->valid;

	/* An ACK sooner than the minimum RTT after a retransmission is for
	 * the original: its time says nothing. */
	if (rexmt && r->has_min_rtt && rtt < r->min_rtt_us)
		return;
	if (!rexmt && (!r->has_min_rtt || rtt < r->min_rtt_us)) {
		r->min_rtt_us = rtt;
		r->has_min_rtt = true;
	}
	r->rtt_us = rtt;
	if (!r->valid || sent_after(k->xmit_us, end, r->xmit_us, r->end_seq)) {
		r->xmit_us = k->xmit_us;
		r->end_seq = end;
		r->valid = true;
	}
	if (first)
		r->fack = end;
	else if (!rexmt && tcp_seq_lt(end, r->fack))
		r->reord = true;
	else if (tcp_seq_gt(end, r->fack))
		r->fack = end;
}

void
tcp_rack_acked(struct tcp_conn *c, uint32_t ack)
{
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq;

	if (!tcp_rack_enabled(c))
		return;
	while (m != NULL && tcp_seq_lt(mseq, ack) && tcp_seq_lt(mseq, c->snd_max)) {
		uint32_t end = tcp_seq_min(mseq + m->data_len, ack);
		struct tcp_sq_mark *k = mark_of(m);

		if (!(k->flags & SQM_SACKED))
			delivered(c, k, end);
		mseq += m->data_len;
		m = m->next;
	}
}

/* RFC 8985 §6.2 step 4. */
static uint32_t
reo_wnd(const struct tcp_conn *c)
{
	const struct tcp_rack *r = &c->rack;
	uint32_t w;

	if (!r->reord && (c->cc.in_fast_recovery ||
			  tcp_sack_is_lost(&c->sack, c->snd_una, c->t_maxseg)))
		return 0;
	if (!r->has_min_rtt)
		return 0;
	w = r->min_rtt_us / 4;
	if (c->rtt.has_sample && w > c->rtt.srtt_us)
		w = c->rtt.srtt_us;
	return w;
}

/* Mark mbufs the SACK board fully covers; they are delivered now. */
static void
mark_sacked(struct tcp_conn *c)
{
	const struct tcp_sack_board *b = &c->sack;
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq;
	unsigned i = 0;

	if (b->count == 0)
		return;
	while (m != NULL && i < b->count && tcp_seq_lt(mseq, c->snd_max)) {
		uint32_t end = mseq + m->data_len;
		struct tcp_sq_mark *k = mark_of(m);

		while (i < b->count && tcp_seq_leq(b->range[i].end, mseq))
			i++;
		if (i < b->count && !(k->flags & SQM_SACKED) &&
		    tcp_seq_leq(b->range[i].start, mseq) &&
		    tcp_seq_geq(b->range[i].end, end) &&
		    tcp_seq_leq(end, c->snd_max)) {
			delivered(c, k, end);
			k->flags = SQM_SACKED;
		}
		mseq = end;
		m = m->next;
	}
}

/*
 * RFC 8985 §6.2 step 5 over every unacknowledged mbuf, recomputing the
 * byte totals. Returns how many mbufs it newly marked lost; *timeout gets
 * the time until the last not-yet-due candidate is due (0: none).
 */
static unsigned
detect_loss(struct tcp_conn *c, uint64_t *timeout)
{
	struct tcp_rack *r = &c->rack;
	struct shard *s = c->ts->s;
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq, lost = 0, sacked = 0;
	uint64_t wait = (uint64_t)r->rtt_us + reo_wnd(c);
	unsigned marked = 0;

	*timeout = 0;
	while (m != NULL && tcp_seq_lt(mseq, c->snd_max)) {
		uint32_t end = mseq + m->data_len;
		struct tcp_sq_mark *k = mark_of(m);

		if (k->flags & SQM_SACKED) {
			sacked += m->data_len;
		} else if (!(k->flags & SQM_LOST) && r->valid &&
			   sent_after(r->xmit_us, r->end_seq, k->xmit_us, end)) {
			uint64_t due = k->xmit_us + wait;

			if (due <= s->now_us) {
				if (k->flags & SQM_REXMT)
					STAT_INC(s, tcp_lost_retransmits);
				STAT_INC(s, tcp_rack_lost_segments);
				k->flags = SQM_LOST;
				marked++;
			} else if (due - s->now_us > *timeout) {
				*timeout = due - s->now_us;
			}
		}
		if (k->flags & SQM_LOST)
			lost += m->data_len;
		mseq = end;
		m = m->next;
	}
	r->lost_bytes = lost;
	r->sacked_bytes = sacked;
	return marked;
}

/* Detect, start recovery on the first loss, arm or stop the reordering
 * timer. */
static void
rack_detect(struct tcp_conn *c)
{
	struct shard *s = c->ts->s;
	uint64_t timeout;

	mark_sacked(c);
	if (detect_loss(c, &timeout) > 0 && !c->cc.in_fast_recovery &&
	    tcp_cc_loss_detected(&c->cc, c->snd_max - c->snd_una, c->snd_una,
				 c->snd_max, s->now_us)) {
		STAT_INC(s, tcp_fast_retransmits);
		c->high_rxt = c->snd_una;
		c->rack.rexmt_first = true;
	}
	if (timeout > 0)
		tcp_timer_arm(c, TCPT_RACK, timeout);
	else
		tcp_timer_cancel(c, TCPT_RACK);
}

static void
forget_marks(struct tcp_conn *c)
{
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq;

	while (m != NULL && tcp_seq_lt(mseq, c->snd_max)) {
		mark_of(m)->flags = 0;
		mseq += m->data_len;
		m = m->next;
	}
	c->rack.lost_bytes = 0;
	c->rack.sacked_bytes = 0;
	c->rack.tlp_active = false;
	tcp_timer_cancel(c, TCPT_RACK);
	tcp_timer_cancel(c, TCPT_TLP);
}

void
tcp_rack_after_ack(struct tcp_conn *c)
{
	struct tcp_rack *r = &c->rack;

	if (!tcp_rack_enabled(c))
		return;
	if (c->snd_una == c->snd_max) {
		forget_marks(c);
		return;
	}
	/* RFC 8985 §7.4: the probe's episode ends when its ACK comes. A
	 * retransmitted probe means the tail was lost (or the ACK was slow:
	 * without D-SACK the two cannot be told apart, and the RFC asks for
	 * the congestion response then). */
	if (r->tlp_active && tcp_seq_geq(c->snd_una, r->tlp_end_seq)) {
		r->tlp_active = false;
		if (r->tlp_rexmt && !c->cc.in_fast_recovery &&
		    tcp_cc_loss_detected(&c->cc, c->snd_max - c->snd_una,
				c->snd_una, c->snd_max, c->ts->s->now_us))
			c->high_rxt = c->snd_una;
	}
	if (c->sack.count > 0 || r->lost_bytes > 0 || r->sacked_bytes > 0 ||
	    c->cc.in_fast_recovery || tcp_timer_armed(c, TCPT_RACK))
		rack_detect(c);
	tcp_tlp_schedule(c);
}

uint32_t
tcp_rack_pipe(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t out = c->rack.sacked_bytes + c->rack.lost_bytes;

	return flight > out ? flight - out : 0;
}

bool
tcp_rack_rexmt_first(struct tcp_conn *c)
{
	bool due = c->rack.rexmt_first;

	c->rack.rexmt_first = false;
	return due;
}

bool
tcp_rack_next_lost(struct tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq;

	if (c->rack.lost_bytes == 0)
		return false;
	while (m != NULL && tcp_seq_lt(mseq, c->snd_max)) {
		if (mark_of(m)->flags & SQM_LOST) {
			uint32_t n = 0;

			/* Adjacent lost mbufs (small writes) share a segment. */
			*seq = mseq;
			while (m != NULL && (mark_of(m)->flags & SQM_LOST) &&
			       n + m->data_len <= c->t_maxseg) {
				n += m->data_len;
				m = m->next;
			}
			if (n == 0)
				n = c->t_maxseg;
			*len = n;
			return true;
		}
		mseq += m->data_len;
		m = m->next;
	}
	/* Totals from an older pass: nothing is marked any more. */
	c->rack.lost_bytes = 0;
	return false;
}

uint32_t
tcp_rack_tail_seq(const struct tcp_conn *c, uint32_t hi)
{
	const struct rte_mbuf *m = c->sq_head;
	uint32_t mseq = c->sq_seq, start = c->snd_una;

	while (m != NULL && tcp_seq_lt(mseq, hi)) {
		start = mseq;
		mseq += m->data_len;
		m = m->next;
	}
	start = tcp_seq_max(start, c->snd_una);
	if (hi - start > c->t_maxseg)
		start = hi - c->t_maxseg;
	return start;
}

/* RFC 8985 §7.2: the probe timeout. */
static uint32_t
pto_us(const struct tcp_conn *c)
{
	uint64_t pto;

	if (!c->rtt.has_sample)
		return TCP_TLP_NO_RTT_PTO_US;
	pto = 2ull * c->rtt.srtt_us;
	if (c->snd_max - c->snd_una <= c->t_maxseg)
		pto += TCP_TLP_DELACK_US;
	if (pto < TCP_TLP_MIN_PTO_US)
		pto = TCP_TLP_MIN_PTO_US;
	return (uint32_t)RTE_MIN(pto, (uint64_t)UINT32_MAX);
}

void
tcp_tlp_schedule(struct tcp_conn *c)
{
	uint64_t now = c->ts->s->now_us, pto;

	/* Before ESTABLISHED (a Fast Open answer in SYN-RECEIVED) the
	 * SYN-ACK's retransmission timer covers what is in flight. */
	if (!tcp_rack_enabled(c) || c->cc.in_fast_recovery ||
	    c->state < TCPS_ESTABLISHED ||
	    c->rxt_shift > 0 || c->rack.tlp_active ||
	    c->rack.lost_bytes > 0 || c->snd_una == c->snd_max ||
	    c->snd_wnd == 0 || c->state == TCPS_TIME_WAIT) {
		tcp_timer_cancel(c, TCPT_TLP);
		return;
	}
	pto = pto_us(c);
	/* RFC 8985 §7.2: when the RTO would come first, it does the job. */
	if (tcp_timer_armed(c, TCPT_REXMT) &&
	    tcp_timer_due(c, TCPT_REXMT) <= now + pto) {
		tcp_timer_cancel(c, TCPT_TLP);
		return;
	}
	tcp_timer_arm(c, TCPT_TLP, pto);
}

void
tcp_tlp_timer(struct tcp_conn *c)
{
	struct tcp_rack *r = &c->rack;
	enum tcp_tlp_sent what;

	if (!tcp_rack_enabled(c) || c->snd_una == c->snd_max ||
	    c->cc.in_fast_recovery || r->tlp_active)
		return;
	what = tcp_output_tlp(c);
	if (what == TCP_TLP_NOTHING)
		return;
	STAT_INC(c->ts->s, tcp_tlp_probes);
	r->tlp_active = true;
	r->tlp_rexmt = what == TCP_TLP_REXMT;
	r->tlp_end_seq = c->snd_max;
	/* §7.3: after a probe the RTO guards the flight again. */
	tcp_timer_arm(c, TCPT_REXMT, tcp_rexmt_timeout(c));
}

void
tcp_rack_timer(struct tcp_conn *c)
{
	if (!tcp_rack_enabled(c) || c->snd_una == c->snd_max)
		return;
	rack_detect(c);
	if (c->rack.lost_bytes > 0)
		tcp_output(c);
}

void
tcp_rack_on_rto(struct tcp_conn *c)
{
	if (sq_mark_offset < 0)
		return;
	forget_marks(c);
}

uint32_t
tcp_rexmt_timeout(const struct tcp_conn *c)
{
	uint32_t rto = tcp_rtt_rto(&c->rtt);
	uint64_t lone;

	/* A receiver holding no hole may delay the ACK of a lone segment
	 * (RFC 9293 §3.8.6.3); an RTO floor below that delay would resend
	 * it every time. RFC 8985 §7.2 adds WCDelAckT to a probe of one
	 * segment for the same reason; do it for the first RTO too. */
	if (c->rxt_shift > 0 || c->sack.count > 0 ||
	    c->snd_max - c->snd_una > c->t_maxseg ||
	    !tcp_state_synchronized(c->state))
		return rto;
	lone = (uint64_t)(c->rtt.has_sample ? c->rtt.srtt_us : 0) +
	       TCP_TLP_DELACK_US;
	return lone > rto ? (uint32_t)RTE_MIN(lone, (uint64_t)c->rtt.max_rto_us)
			  : rto;
}

uint32_t
tcp_limited_transmit(const struct tcp_conn *c)
{
	if (c->cc.in_fast_recovery || c->dupacks == 0 ||
	    c->snd_nxt != c->snd_max)
		return 0;
	return (uint32_t)RTE_MIN(c->dupacks, (uint8_t)2) * c->t_maxseg;
}

unsigned
tcp_dupthresh(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t oseg = c->t_maxseg > 0
		? (flight + c->t_maxseg - 1) / c->t_maxseg : 0;
	bool can_send_new = tcp_seq_lt(c->snd_max, tcp_sq_end(c)) &&
			    c->snd_wnd > flight;

	/* RFC 5827 §3.1: with fewer than four segments out and nothing new
	 * to send, limited transmit cannot make up the missing duplicates. */
	if (!(c->t_flags & TF_SACK_PERMIT) && oseg >= 2 && oseg < 4 &&
	    !can_send_new)
		return oseg - 1;
	return TCP_SACK_DUPTHRESH;
}
