/*
 * TCP input (RFC 9293 §3.10.7 "SEGMENT ARRIVES", after FreeBSD
 * tcp_input.c): validate, look up, then one switch on the connection's
 * state with the RFC's words above each case. Every way out that discards
 * the segment goes through one of three exits: drop (free it), drop after
 * ACK (answer with an ACK first) and drop with reset (answer with a RST
 * first), and every drop reason has its own counter.
 *
 * The segment being processed travels in one struct tcp_seg
 * (tcp_input.h). LISTEN and segments to no connection are in
 * tcp_input_listen.c.
 */
#include <errno.h>
#include <string.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "engine.h"
#include "net.h"
#include "tcp_var.h"
#include "tcp_input.h"

/* RFC 7323 §5.5: a timestamp older than 24 days is no longer compared. */
#define TCP_PAWS_IDLE_US (24ULL * 24 * 3600 * 1000000)


/* RFC 9293 §3.10.7.1: the reset answering a segment that has no
 * connection (or whose ACK is unacceptable before synchronization).
 * Never answer a RST. */
void
tcp_in_respond_reset(struct tcp_seg *seg)
{
	if (SEG_HAS(seg, RST))
		return;
	if (SEG_HAS(seg, ACK)) {
		/* <SEQ=SEG.ACK><CTL=RST> */
		tcp_respond(seg->s, seg->sp, seg->key.laddr, seg->key.raddr,
			    seg->key.lport, seg->key.rport, seg->ack, 0,
			    RTE_TCP_RST_FLAG);
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		uint32_t end = seg->seq + seg->len +
			       (SEG_HAS(seg, SYN) ? 1 : 0) +
			       (SEG_HAS(seg, FIN) ? 1 : 0);

		tcp_respond(seg->s, seg->sp, seg->key.laddr, seg->key.raddr,
			    seg->key.lport, seg->key.rport, 0, end,
			    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	}
}

/* Cut 'n' bytes off the front of the payload. */
static void
seg_trim_front(struct tcp_seg *seg, uint32_t n)
{
	if (n == 0)
		return;
	seg->seq += n;
	seg->len -= n;
	while (n > 0 && seg->m != NULL) {
		struct rte_mbuf *m = seg->m;

		if (n < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			return;
		}
		/* Drop the whole first segment of the chain. */
		n -= m->data_len;
		if (m->next == NULL) {
			rte_pktmbuf_adj(m, m->data_len);
			return;
		}
		seg->m = m->next;
		seg->m->nb_segs = (uint16_t)(m->nb_segs - 1);
		seg->m->pkt_len = m->pkt_len - m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
	}
}

/* Cut the payload down to 'n' bytes. */
void
tcp_in_seg_trim_back(struct tcp_seg *seg, uint32_t n)
{
	if (seg->m != NULL && n < seg->len) {
		struct rte_mbuf *m = seg->m, *last;
		uint32_t keep = n;

		/* Walk to the segment where the cut falls, free the rest. */
		last = m;
		while (keep > last->data_len) {
			keep -= last->data_len;
			last = last->next;
		}
		last->data_len = (uint16_t)keep;
		if (last->next != NULL) {
			uint16_t freed = 0;

			for (struct rte_mbuf *x = last->next; x != NULL; x = x->next)
				freed++;
			rte_pktmbuf_free(last->next);
			last->next = NULL;
			m->nb_segs = (uint16_t)(m->nb_segs - freed);
		}
		m->pkt_len = n;
	}
	seg->len = n;
}

/* Challenge ACK (RFC 5961 §3.2, §4.2, §5.2), rate-limited per shard so
 * an attacker cannot use them as an amplifier or a side channel. */
static void
challenge_ack(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	uint64_t now = ts->s->now_us;

	if (now - ts->challenge_window_us >= 1000000) {
		ts->challenge_window_us = now;
		ts->challenge_count = 0;
	}
	if (ts->challenge_count >= ts->conf.challenge_ack_limit) {
		STAT_INC(ts->s, tcp_challenge_acks_limited);
		return;
	}
	ts->challenge_count++;
	STAT_INC(ts->s, tcp_challenge_acks);
	c->t_flags |= TF_ACKNOW;
	tcp_output(c);
}

/* RFC 9293 answers every unacceptable segment with an ACK. Two endpoints
 * whose views of each other went out of step (a forged segment accepted
 * as data, a forged timestamp taken as TS.Recent) then answer each other's
 * ACKs for ever, an ACK storm. As Linux does (tcp_oow_rate_limited), such
 * ACKs go out at most once per oow_ack_interval_us per connection. Like
 * Linux, only in answer to segments without data or with SYN: a data
 * segment is not part of an ACK loop, and its sender needs the ACK.
 * 'limitable' says which the segment was on arrival. Returns whether this
 * ACK may go. */
static bool
oow_ack_allowed(struct tcp_conn *c, bool limitable)
{
	struct tcp_shard *ts = c->ts;
	uint64_t now = ts->s->now_us;

	if (!limitable || ts->conf.oow_ack_interval_us == 0)
		return true;
	if (now < c->oow_ack_next_us) {
		STAT_INC(ts->s, tcp_oow_acks_limited);
		return false;
	}
	c->oow_ack_next_us = now + ts->conf.oow_ack_interval_us;
	return true;
}

/* Take what the SYN (or SYN-ACK) offered: MSS, window scale, SACK,
 * timestamps (RFC 9293 §3.7.1, RFC 7323, RFC 2018). For a passive open,
 * what we offer back is exactly what was agreed. */
void
tcp_in_syn_options(struct tcp_conn *c, const struct tcp_seg *seg, bool passive)
{
	const struct tcp_conf *conf = &c->ts->conf;
	const struct tcp_opts *o = &seg->opts;
	uint16_t mss = (o->present & TCP_OPT_HAS_MSS) ? o->mss : 536;

	/* A peer may announce any MSS, down to 0: below Linux's floor (its
	 * tcp_min_snd_mss, 48, from CVE-2019-11479) every few bytes would
	 * cost a segment, and under the 12 bytes of timestamps the segment
	 * size would wrap around. */
	if (mss < TCP_MIN_SND_MSS) {
		STAT_INC(c->ts->s, tcp_peer_mss_raised);
		mss = TCP_MIN_SND_MSS;
	}

	if (passive) {
		c->t_flags &= ~(TF_REQ_SCALE | TF_REQ_TSTMP | TF_REQ_SACK);
		if (conf->wscale > 0 && (o->present & TCP_OPT_HAS_WSCALE))
			c->t_flags |= TF_REQ_SCALE;
		if (conf->timestamps && (o->present & TCP_OPT_HAS_TIMESTAMPS))
			c->t_flags |= TF_REQ_TSTMP;
		if (conf->sack && (o->present & TCP_OPT_HAS_SACK_PERMITTED))
			c->t_flags |= TF_REQ_SACK;
	}
	if ((c->t_flags & TF_REQ_SCALE) && (o->present & TCP_OPT_HAS_WSCALE)) {
		c->t_flags |= TF_RCVD_SCALE;
		c->snd_wscale = o->wscale;
		c->rcv_wscale = conf->wscale;
	} else {
		c->t_flags &= ~TF_REQ_SCALE;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if ((c->t_flags & TF_REQ_TSTMP) &&
	    (o->present & TCP_OPT_HAS_TIMESTAMPS)) {
		c->t_flags |= TF_RCVD_TSTMP;
		c->ts_recent = o->tsval;
		c->ts_recent_age_us = c->ts->s->now_us;
	}
	if ((c->t_flags & TF_REQ_SACK) &&
	    (o->present & TCP_OPT_HAS_SACK_PERMITTED))
		c->t_flags |= TF_SACK_PERMIT;
	c->peer_mss = mss;
	/* Linux's user_mss: the clamp bounds what we send as it bounds
	 * what we advertised. */
	c->t_maxseg = RTE_MIN(mss, tcp_mss_clamp(c->sp, c->user_mss));
	if (c->t_flags & TF_RCVD_TSTMP)
		c->t_maxseg -= 12;	/* NOP NOP TS on every segment */
}

/* An RTT sample from the ACK (RFC 6298 with Karn's rule, or RFC 7323 §4
 * from the echoed timestamp, which is unambiguous even after a
 * retransmission). */
static void
rtt_update(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint64_t now = c->ts->s->now_us;

	if (c->rtt_timing && tcp_seq_gt(seg->ack, c->rtt_seq)) {
		c->rtt_timing = false;
		tcp_rtt_sample(&c->rtt, (uint32_t)(now - c->rtt_start_us));
	} else if ((c->t_flags & TF_RCVD_TSTMP) &&
		   (seg->opts.present & TCP_OPT_HAS_TIMESTAMPS) &&
		   seg->opts.tsecr != 0) {
		uint32_t ms = tcp_ts_now(c->ts, c) - seg->opts.tsecr;

		if (ms < 60000)
			tcp_rtt_sample(&c->rtt, ms * 1000);
	}
}

/*
 * ACK processing for synchronized states (RFC 9293 §3.10.7.4 fifth,
 * RFC 5681 §3.2, RFC 6582, RFC 6675). Returns true if our FIN is now
 * acknowledged.
 */
static bool
ack_process(struct tcp_conn *c, struct tcp_seg *seg, bool handshake)
{
	struct shard *s = c->ts->s;
	uint32_t tiwin = (uint32_t)seg->wnd << c->snd_wscale;
	uint32_t sacked = 0;

	if (c->t_flags & TF_SACK_PERMIT)
		sacked = tcp_sack_update(&c->sack, seg->opts.sack,
			(seg->opts.present & TCP_OPT_HAS_SACK)
				? seg->opts.sack_count : 0,
			tcp_seq_gt(seg->ack, c->snd_una) ? seg->ack : c->snd_una,
			c->snd_max);

	if (tcp_seq_leq(seg->ack, c->snd_una)) {
		/* RFC 5681 §2 duplicate ACK (or RFC 6675: one that SACKs
		 * new data). */
		if (!handshake && seg->ack == c->snd_una &&
		    c->snd_max != c->snd_una &&
		    ((seg->len == 0 && !SEG_HAS(seg, FIN) &&
		      !SEG_HAS(seg, SYN) && tiwin == c->snd_wnd &&
		      tiwin != 0) ||
		     sacked > 0)) {
			bool lost;

			STAT_INC(s, tcp_dup_acks);
			c->dupacks++;
			tcp_cc_dup_ack(&c->cc);
			/* With SACK, RACK (tcp_recovery.c) decides. */
			lost = c->dupacks == tcp_dupthresh(c) ||
			       ((c->t_flags & TF_SACK_PERMIT) &&
				tcp_sack_is_lost(&c->sack, c->snd_una,
						 c->t_maxseg));
			if (lost && !c->cc.in_fast_recovery &&
			    !tcp_rack_enabled(c)) {
				uint32_t flight = (c->t_flags & TF_SACK_PERMIT)
					? tcp_sack_pipe(&c->sack, c->snd_una,
						c->snd_max, c->snd_una,
						c->t_maxseg)
					: c->snd_max - c->snd_una;

				if (tcp_cc_loss_detected(&c->cc, flight,
						c->snd_una, c->snd_max,
						s->now_us)) {
					STAT_INC(s, tcp_fast_retransmits);
					c->high_rxt = c->snd_una;
					c->rtt_timing = false;
					c->t_flags |= TF_REXMT_UNA;
				}
			}
		}
	} else {
		uint32_t acked_total = seg->ack - c->snd_una;
		uint32_t lo = tcp_seq_max(c->snd_una, c->sq_seq);
		uint32_t hi = tcp_seq_min(seg->ack, tcp_sq_end(c));
		uint32_t data = tcp_seq_gt(hi, lo) ? hi - lo : 0;
		struct tcp_cc_ack a = {
			.ack = seg->ack,
			.acked_bytes = acked_total,
			.flight_before = c->snd_max - c->snd_una,
			.srtt_us = c->rtt.has_sample ? c->rtt.srtt_us : 0,
			.now_us = s->now_us,
		};

		rtt_update(c, seg);
		c->rxt_shift = 0;
		if (c->cc.ops != NULL &&
		    tcp_cc_new_ack(&c->cc, &a) == TCP_CC_ACK_PARTIAL &&
		    !(c->t_flags & TF_SACK_PERMIT))
			c->t_flags |= TF_REXMT_UNA;
		if (!c->cc.in_fast_recovery)
			c->dupacks = 0;
		tcp_rack_acked(c, seg->ack);
		if (data > 0) {
			tcp_sq_drop(c, data);
			c->acked_pending += data;
			c->t_events |= TEV_ACKED;
		}
		c->snd_una = seg->ack;
		if (tcp_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		if (tcp_seq_lt(c->high_rxt, c->snd_una))
			c->high_rxt = c->snd_una;
		if (c->snd_una == c->snd_max)
			tcp_timer_cancel(c, TCPT_REXMT);
		else
			tcp_timer_arm(c, TCPT_REXMT, tcp_rexmt_timeout(c));
	}

	/* RFC 9293 §3.10.7.4: update the send window only from segments not
	 * older than the one that last set it. */
	if (tcp_seq_lt(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && tcp_seq_leq(c->snd_wl2, seg->ack))) {
		c->snd_wnd = tiwin;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (tiwin > c->max_sndwnd)
			c->max_sndwnd = tiwin;
		if (tiwin > 0) {
			tcp_timer_cancel(c, TCPT_PERSIST);
			if (c->snd_una != c->snd_max &&
			    !tcp_timer_armed(c, TCPT_REXMT))
				tcp_timer_arm(c, TCPT_REXMT,
					      tcp_rtt_rto(&c->rtt));
		}
	}
	tcp_rack_after_ack(c);
	return (c->t_flags & TF_SENTFIN) && c->snd_una == c->snd_max &&
	       c->snd_una == tcp_sq_end(c) + 1;
}

/* The peer's FIN is in order (RFC 9293 §3.10.7.4 eighth). */
static void
fin_process(struct tcp_conn *c, bool ourfinacked)
{
	c->rcv_nxt++;
	c->t_flags |= TF_RCVD_FIN | TF_ACKNOW;
	c->t_flags &= ~TF_FIN_OOO;
	c->t_events |= TEV_READABLE;
	switch (c->state) {
	/* SYN-RECEIVED STATE, ESTABLISHED STATE: Enter the CLOSE-WAIT state. */
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		c->state = TCPS_CLOSE_WAIT;
		break;
	/* FIN-WAIT-1 STATE: If our FIN has been ACKed (perhaps in this
	 * segment), then enter TIME-WAIT, start the time-wait timer, turn off
	 * the other timers; otherwise, enter the CLOSING state. */
	case TCPS_FIN_WAIT_1:
		if (ourfinacked) {
			tcp_output(c);
			tcp_enter_time_wait(c);
		} else {
			c->state = TCPS_CLOSING;
		}
		break;
	/* FIN-WAIT-2 STATE: Enter the TIME-WAIT state. */
	case TCPS_FIN_WAIT_2:
		tcp_output(c);
		tcp_enter_time_wait(c);
		break;
	default:
		break;
	}
}

/* Segment text (RFC 9293 §3.10.7.4 seventh) and FIN (eighth). */
static void
data_process(struct tcp_conn *c, struct tcp_seg *seg, bool ourfinacked)
{
	struct shard *s = c->ts->s;
	bool fin = SEG_HAS(seg, FIN);

	switch (c->state) {
	/* ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2: deliver the text. */
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		break;
	/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur
	 * since a FIN has been received from the remote side. Ignore the
	 * segment text." */
	default:
		if (seg->len > 0)
			STAT_INC(s, tcp_drop_data_after_fin);
		return;
	}
	if (seg->len > 0 && seg->seq == c->rcv_nxt &&
	    tcp_reass_empty(&c->reass)) {
		/* The fast path: in order, nothing held. ACK every second
		 * segment, else after the delayed-ACK timeout (RFC 1122
		 * 4.2.3.2, RFC 5681 §4.2). */
		c->rcv_nxt += seg->len;
		tcp_rq_append(c, seg->m);
		seg->m = NULL;
		c->t_events |= TEV_READABLE;
		if (c->t_flags & TF_DELACK) {
			c->t_flags |= TF_ACKNOW;
		} else {
			c->t_flags |= TF_DELACK;
			tcp_timer_arm(c, TCPT_DELACK, c->ts->conf.delack_us);
		}
	} else if (seg->len > 0) {
		/* Out of order, or filling a hole: hold it and ACK at once
		 * so the sender sees duplicate ACKs / SACK blocks (RFC 5681
		 * §4.2). */
		uint32_t right = c->rcv_nxt + RTE_MAX(tcp_rcv_space(c) +
			tcp_reass_bytes(&c->reass),
			tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0);
		struct rte_mbuf *m;

		switch (tcp_reass_insert(&c->reass, seg->m, seg->seq,
					 c->rcv_nxt, right)) {
		case TCP_REASS_INSERTED:
			STAT_INC(s, tcp_reass_queued);
			break;
		case TCP_REASS_DUPLICATE:
			STAT_INC(s, tcp_reass_duplicate);
			break;
		case TCP_REASS_FULL:
			STAT_INC(s, tcp_drop_reass_full);
			break;
		case TCP_REASS_OUT_OF_WINDOW:
			STAT_INC(s, tcp_drop_out_of_window);
			break;
		}
		seg->m = NULL;
		while ((m = tcp_reass_pull(&c->reass, &c->rcv_nxt)) != NULL) {
			tcp_rq_append(c, m);
			c->t_events |= TEV_READABLE;
		}
		c->t_flags |= TF_ACKNOW;
	}
	if (fin) {
		uint32_t fin_seq = seg->seq + seg->len;

		if (fin_seq == c->rcv_nxt) {
			fin_process(c, ourfinacked);
		} else if (tcp_seq_gt(fin_seq, c->rcv_nxt)) {
			/* Ahead of a hole: remember where it is. */
			c->t_flags |= TF_FIN_OOO;
			c->fin_seq = fin_seq;
		}
	}
	if ((c->t_flags & TF_FIN_OOO) && c->fin_seq == c->rcv_nxt &&
	    !(c->t_flags & TF_RCVD_FIN))
		fin_process(c, ourfinacked);
}

/*
 * SYN-SENT STATE (RFC 9293 §3.10.7.3).
 */
static void
input_syn_sent(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct shard *s = c->ts->s;

	/* "If the ACK bit is set, If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
	 * send a reset (unless the RST bit is set, if so drop the segment
	 * and return)." */
	if (SEG_HAS(seg, ACK) &&
	    (tcp_seq_leq(seg->ack, c->iss) || tcp_seq_gt(seg->ack, c->snd_max))) {
		if (SEG_HAS(seg, RST)) {
			STAT_INC(s, tcp_drop_syn_sent_rst);
			return;
		}
		STAT_INC(s, tcp_drop_syn_sent_bad_ack);
		tcp_in_respond_reset(seg);
		return;
	}
	/* "If the RST bit is set, If the ACK was acceptable, then signal to
	 * the user 'error: connection reset', drop the segment, enter CLOSED
	 * state. Otherwise (no ACK), drop the segment and return." */
	if (SEG_HAS(seg, RST)) {
		if (SEG_HAS(seg, ACK))
			tcp_conn_close(c, TCP_CLOSE_REFUSED);
		else
			STAT_INC(s, tcp_drop_syn_sent_rst);
		return;
	}
	/* "If neither of the SYN or RST bits is set, then drop the segment
	 * and return." */
	if (!SEG_HAS(seg, SYN)) {
		STAT_INC(s, tcp_drop_syn_sent_no_syn);
		return;
	}
	/* "If the SYN bit is on ... RCV.NXT is set to SEG.SEQ+1, IRS is set
	 * to SEG.SEQ. SND.UNA should be advanced to equal SEG.ACK." */
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	tcp_in_syn_options(c, seg, false);
	c->snd_wnd = seg->wnd;		/* never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	c->t_flags |= TF_ACKNOW;
	if (SEG_HAS(seg, ACK)) {
		/* "If SND.UNA > ISS (our SYN has been ACKed), change the
		 * connection state to ESTABLISHED, form an ACK segment and
		 * send it." Fast Open data in our SYN that the SYN-ACK does
		 * not cover is sent again from SND.UNA right away (RFC 7413
		 * §4.2.1). */
		rtt_update(c, seg);
		/* As FreeBSD: the window our first ACK will offer counts as
		 * offered, so data the peer sends before it (a Fast Open
		 * answer behind the SYN-ACK) is no reason for a window
		 * update of its own. */
		c->rcv_adv = c->rcv_nxt + RTE_MIN(tcp_rcv_space(c),
						  65535u << c->rcv_wscale);
		tcp_tfo_client_synack(c, &seg->opts, seg->ack);
		c->snd_una = seg->ack;
		c->snd_nxt = c->snd_una;
		tcp_conn_established(c);
		/* "Data or controls which were queued for transmission may be
		 * included ... If there are other controls or text in the
		 * segment then continue processing at the sixth step": a
		 * SYN-ACK may carry data or a FIN (RFC 7413 §4.2.2). */
		if (seg->len > 0 || SEG_HAS(seg, FIN)) {
			uint32_t space = tcp_rcv_space(c);

			seg->seq++;
			seg->flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
			if (seg->len > space) {
				STAT_INC(s, tcp_drop_out_of_window);
				tcp_in_seg_trim_back(seg, space);
				seg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
			}
			data_process(c, seg, false);
		}
	} else {
		/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment and
		 * send it" (simultaneous open). */
		c->state = TCPS_SYN_RECEIVED;
		c->snd_nxt = c->iss;
	}
	/* The handshake's last ACK can wait for the request the user is
	 * about to send (tcp_ack_defer()); a SYN-ACK for a simultaneous open
	 * cannot. Nor can it after a SYN or SYN-ACK was lost: on a lossy
	 * path the ACK goes out on its own at once, as Linux sends it, so
	 * that losing the first data segment too does not leave the peer in
	 * SYN-RECEIVED until our retransmission 2-3 s later (Linux 6.18 was
	 * seen to reset connections caught that way at 5% loss). */
	if (c->state == TCPS_ESTABLISHED && !(c->t_flags & TF_SYN_REXMT)) {
		tcp_ack_defer(c);
		return;
	}
	if (c->state == TCPS_ESTABLISHED)
		c->t_flags |= TF_ACKNOW;
	tcp_output(c);
}

/*
 * Synchronized states and SYN-RECEIVED (RFC 9293 §3.10.7.4), with RFC 5961
 * and RFC 7323 PAWS. Consumes seg->m when it queues data.
 */
void
tcp_in_synchronized(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct shard *s = c->ts->s;
	bool ourfinacked = false;
	/* Before trimming changes it: may an ACK answering it be limited? */
	bool limitable = seg->len == 0 || SEG_HAS(seg, SYN);
	uint32_t rcv_wnd, todrop;

	/* RFC 7323 §5.3 PAWS: "If SEG.TSval < TS.Recent and the RST bit is
	 * off ... the segment is not acceptable". */
	if ((c->t_flags & TF_RCVD_TSTMP) && !SEG_HAS(seg, RST) &&
	    (seg->opts.present & TCP_OPT_HAS_TIMESTAMPS) &&
	    tcp_seq_lt(seg->opts.tsval, c->ts_recent)) {
		if (s->now_us - c->ts_recent_age_us > TCP_PAWS_IDLE_US) {
			c->ts_recent = 0;
		} else {
			STAT_INC(s, tcp_drop_paws);
			goto drop_after_oow_ack;
		}
	}

	rcv_wnd = tcp_rcv_space(c);
	if (tcp_seq_gt(c->rcv_adv, c->rcv_nxt) &&
	    c->rcv_adv - c->rcv_nxt > rcv_wnd)
		rcv_wnd = c->rcv_adv - c->rcv_nxt;

	/* Second, check the RST bit (RFC 5961 §3.2): "If the RST bit is set
	 * and the sequence number is outside the current receive window,
	 * silently drop the segment. If the sequence number exactly matches
	 * RCV.NXT, reset the connection. Otherwise send a challenge ACK." */
	if (SEG_HAS(seg, RST)) {
		if (seg->seq == c->rcv_nxt) {
			switch (c->state) {
			/* SYN-RECEIVED: from a passive OPEN, return to
			 * LISTEN (the embryo goes away); from an active
			 * OPEN, "connection refused". */
			case TCPS_SYN_RECEIVED:
				tcp_conn_close(c, (c->t_flags & TF_PASSIVE)
					? TCP_CLOSE_RESET : TCP_CLOSE_REFUSED);
				break;
			/* ESTABLISHED ... CLOSE-WAIT: "connection reset";
			 * CLOSING, LAST-ACK: enter CLOSED. */
			default:
				tcp_conn_close(c, TCP_CLOSE_RESET);
				break;
			}
			return;
		}
		if (tcp_seq_in_window(seg->seq, c->rcv_nxt, RTE_MAX(rcv_wnd, 1u))) {
			challenge_ack(c);
			return;
		}
		STAT_INC(s, tcp_drop_rst_out_of_window);
		return;
	}

	/* Fourth, the SYN bit (RFC 5961 §4.2): any SYN in a synchronized
	 * state gets a challenge ACK. A SYN_RECEIVED connection seeing its
	 * peer's SYN again resends its SYN-ACK; but in a simultaneous open
	 * (RFC 9293 figure 7, line 6) the peer's SYN-ACK repeats the SYN we
	 * already have and brings a new ACK: the SYN is old data, dropped as
	 * FreeBSD's trimming does, and the ACK is processed below. */
	if (SEG_HAS(seg, SYN)) {
		if (c->state == TCPS_SYN_RECEIVED && seg->seq == c->irs) {
			if (!SEG_HAS(seg, ACK)) {
				c->snd_nxt = c->iss;
				tcp_output(c);
				return;
			}
			seg->flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
			seg->seq++;
		} else {
			STAT_INC(s, tcp_drop_syn_synchronized);
			challenge_ack(c);
			return;
		}
	}

	/* First, the sequence number (RFC 9293 §3.10.7.4, trimming as
	 * FreeBSD does so that ACKs of unacceptable segments still count). */
	if (tcp_seq_lt(seg->seq, c->rcv_nxt)) {
		todrop = c->rcv_nxt - seg->seq;
		if (todrop > seg->len ||
		    (todrop == seg->len && !SEG_HAS(seg, FIN))) {
			/* Entirely old: a duplicate. ACK it (the peer may have
			 * missed our ACK), but keep processing the ACK. An
			 * old segment without data needs no ACK of its own
			 * (nothing of it was lost), so its answer is rate
			 * limited: it is what an ACK storm is made of. */
			seg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
			if (oow_ack_allowed(c, limitable))
				c->t_flags |= TF_ACKNOW;
			todrop = seg->len;
		}
		seg_trim_front(seg, todrop);
		if (seg->len == 0)
			seg->seq = c->rcv_nxt;
	}
	if (seg->len > 0 && tcp_seq_gt(seg->seq + seg->len, c->rcv_nxt + rcv_wnd)) {
		todrop = seg->seq + seg->len - (c->rcv_nxt + rcv_wnd);
		if (todrop >= seg->len) {
			/* Nothing inside the window. A probe into a zero
			 * window is answered by an ACK stating the window. */
			STAT_INC(s, tcp_drop_out_of_window);
			tcp_in_seg_trim_back(seg, 0);
			seg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
			if (seg->seq != c->rcv_nxt)
				goto drop_after_oow_ack;
			c->t_flags |= TF_ACKNOW;
		} else {
			tcp_in_seg_trim_back(seg, seg->len - todrop);
			seg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
		}
	} else if (seg->len == 0 && !tcp_seq_in_window(seg->seq, c->rcv_nxt,
				RTE_MAX(rcv_wnd, 1u))) {
		STAT_INC(s, tcp_drop_out_of_window);
		goto drop_after_oow_ack;
	}

	/* RFC 7323 §4.3: remember the timestamp of a segment covering
	 * Last.ACK.sent. */
	if ((c->t_flags & TF_RCVD_TSTMP) &&
	    (seg->opts.present & TCP_OPT_HAS_TIMESTAMPS) &&
	    tcp_seq_leq(seg->seq, c->last_ack_sent)) {
		c->ts_recent = seg->opts.tsval;
		c->ts_recent_age_us = s->now_us;
	}

	/* Fifth, the ACK field: "if the ACK bit is off, drop the segment". */
	if (!SEG_HAS(seg, ACK)) {
		STAT_INC(s, tcp_drop_no_ack);
		return;
	}
	/* RFC 5961 §5.2: acceptable iff SND.UNA - MAX.SND.WND =< SEG.ACK
	 * =< SND.NXT; an ACK of data never sent gets an ACK back. */
	if (tcp_seq_gt(seg->ack, c->snd_max)) {
		if (c->state == TCPS_SYN_RECEIVED) {
			STAT_INC(s, tcp_drop_syn_rcvd_bad_ack);
			tcp_in_respond_reset(seg);
			return;
		}
		STAT_INC(s, tcp_drop_ack_unsent);
		goto drop_after_oow_ack;
	}
	if (tcp_seq_lt(seg->ack, c->snd_una - RTE_MAX(c->max_sndwnd, 65535u))) {
		STAT_INC(s, tcp_drop_ack_old);
		goto drop_after_oow_ack;
	}

	switch (c->state) {
	/* SYN-RECEIVED STATE: "If SND.UNA < SEG.ACK =< SND.NXT, then enter
	 * ESTABLISHED state and continue processing with the variables
	 * below set to: SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <-
	 * SEG.ACK. If the segment acknowledgment is not acceptable, form a
	 * reset segment <SEQ=SEG.ACK><CTL=RST> and send it." */
	case TCPS_SYN_RECEIVED:
		if (!tcp_seq_gt(seg->ack, c->snd_una)) {
			STAT_INC(s, tcp_drop_syn_rcvd_bad_ack);
			tcp_in_respond_reset(seg);
			return;
		}
		c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		rtt_update(c, seg);
		/* This takes the SYN; what a Fast Open answer sent in
		 * SYN-RECEIVED (tcp_output()) this ACK also covers is taken
		 * by ack_process() like any data, and an ACK of the SYN alone
		 * is no duplicate ACK of it. */
		c->snd_una = c->iss + 1;
		if (tcp_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		tcp_conn_established(c);
		ourfinacked = ack_process(c, seg, true);
		break;
	/* ESTABLISHED, CLOSE-WAIT: "If SND.UNA < SEG.ACK =< SND.NXT, then set
	 * SND.UNA <- SEG.ACK ... If the ACK is a duplicate, it can be
	 * ignored ... update the send window." */
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		ourfinacked = ack_process(c, seg, false);
		break;
	/* FIN-WAIT-1: "In addition ..., if the FIN segment is now
	 * acknowledged, then enter FIN-WAIT-2 and continue processing". */
	case TCPS_FIN_WAIT_1:
		ourfinacked = ack_process(c, seg, false);
		if (ourfinacked) {
			c->state = TCPS_FIN_WAIT_2;
			/* No other upcall tells the user its FIN arrived here
			 * (CLOSING and LAST_ACK end in closed()). */
			c->t_events |= TEV_FIN_ACKED;
			tcp_timer_cancel(c, TCPT_REXMT);
			if (c->t_flags & TF_RELEASED)
				tcp_timer_arm(c, TCPT_TIME_WAIT,
					      c->ts->conf.time_wait_us);
		}
		break;
	/* FIN-WAIT-2: "if the retransmission queue is empty, the user's
	 * CLOSE can be acknowledged". */
	case TCPS_FIN_WAIT_2:
		ourfinacked = ack_process(c, seg, false);
		break;
	/* CLOSING: "if the ACK acknowledges our FIN, then enter the
	 * TIME-WAIT state, otherwise ignore the segment." */
	case TCPS_CLOSING:
		ourfinacked = ack_process(c, seg, false);
		if (ourfinacked) {
			tcp_enter_time_wait(c);
			return;
		}
		break;
	/* LAST-ACK: "The only thing that can arrive in this state is an
	 * acknowledgment of our FIN. If our FIN is now acknowledged, delete
	 * the TCB, enter the CLOSED state, and return." */
	case TCPS_LAST_ACK:
		ourfinacked = ack_process(c, seg, false);
		if (ourfinacked) {
			tcp_conn_close(c, TCP_CLOSE_NORMAL);
			return;
		}
		break;
	default:
		return;
	}

	/* Sixth (URG) is not supported; seventh and eighth: text and FIN. */
	if (seg->len > 0 || SEG_HAS(seg, FIN)) {
		bool had_fin = c->t_flags & TF_RCVD_FIN;

		data_process(c, seg, ourfinacked);
		/* The peer closed: the user's own close, a pass away, can
		 * carry the ACK of that FIN (tcp_ack_defer()). */
		if (!had_fin && (c->t_flags & TF_RCVD_FIN) &&
		    c->state == TCPS_CLOSE_WAIT) {
			tcp_ack_defer(c);
			return;
		}
	}
	tcp_output(c);
	return;

drop_after_oow_ack:
	if (oow_ack_allowed(c, limitable)) {
		c->t_flags |= TF_ACKNOW;
		tcp_output(c);
	}
}

/*
 * TIME-WAIT (RFC 9293 §3.10.7.4, RFC 6191, RFC 1337).
 * Returns true when the connection was recycled for a new SYN: the caller
 * then treats the segment as addressed to no connection.
 */
static bool
input_time_wait(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct shard *s = c->ts->s;

	/* RFC 6191: a SYN whose timestamp is newer than the last one seen
	 * (or, without timestamps, whose sequence number is above RCV.NXT)
	 * cannot be confused with the old incarnation: reuse the 4-tuple. */
	if (SEG_HAS(seg, SYN) && !SEG_HAS(seg, ACK)) {
		bool newer;

		if ((c->t_flags & TF_RCVD_TSTMP) &&
		    (seg->opts.present & TCP_OPT_HAS_TIMESTAMPS))
			newer = tcp_seq_gt(seg->opts.tsval, c->ts_recent);
		else
			newer = tcp_seq_gt(seg->seq, c->rcv_nxt);
		if (newer) {
			STAT_INC(s, tcp_time_wait_reused);
			tcp_conn_close(c, TCP_CLOSE_NORMAL);
			tcp_dispatch(c);
			return true;
		}
	}
	/* RFC 1337: ignore RSTs in TIME-WAIT (no assassination). */
	if (SEG_HAS(seg, RST))
		return false;
	/* "The only thing that can arrive in this state is a retransmission
	 * of the remote FIN. Acknowledge it, and restart the 2 MSL
	 * timeout." Anything else is acknowledged too. */
	if (SEG_HAS(seg, FIN))
		tcp_timer_arm(c, TCPT_TIME_WAIT, c->ts->conf.time_wait_us);
	c->t_flags |= TF_ACKNOW;
	tcp_output(c);
	return false;
}

/*
 * Validate a segment and fill seg (RFC 9293 §3.10.7 up to the lookup).
 * Returns true with seg ready (seg->m the payload, possibly empty), or
 * false after counting and freeing a bad one.
 */
static bool
seg_parse(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	  struct tcp_seg *seg)
{
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const struct rte_tcp_hdr *th;
	uint32_t l3 = sizeof(*ih), tcp_len, off;	/* see ipv4_input() */

	tcp_len = rte_pktmbuf_pkt_len(m) - l3;
	if (tcp_len < sizeof(*th) || rte_pktmbuf_data_len(m) < l3 + sizeof(*th)) {
		STAT_INC(s, tcp_drop_short);
		goto drop;
	}
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ih + l3);
	off = (uint32_t)(th->data_off >> 4) * 4;
	if (off < sizeof(*th) || off > tcp_len ||
	    l3 + off > rte_pktmbuf_data_len(m)) {
		STAT_INC(s, tcp_drop_bad_offset);
		goto drop;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
	    RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
	     RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	     !net_ipv4_l4_cksum_ok(m, ih, (uint16_t)l3))) {
		STAT_INC(s, tcp_drop_bad_checksum);
		goto drop;
	}
	seg->s = s;
	seg->sp = sp;
	seg->key.laddr = ih->dst_addr;
	seg->key.raddr = ih->src_addr;
	seg->key.lport = th->dst_port;
	seg->key.rport = th->src_port;
	seg->key.zero = 0;
	seg->hash = tcp_key_hash(&seg->key);
	seg->seq = rte_be_to_cpu_32(th->sent_seq);
	seg->ack = rte_be_to_cpu_32(th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(th->rx_win);
	seg->flags = th->tcp_flags & (RTE_TCP_FIN_FLAG | RTE_TCP_SYN_FLAG |
		RTE_TCP_RST_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG);
	seg->len = tcp_len - off;
	if (SEG_HAS(seg, SYN) && SEG_HAS(seg, RST)) {
		STAT_INC(s, tcp_drop_bad_flags);
		goto drop;
	}
	if (tcp_options_parse((const uint8_t *)(th + 1), off - sizeof(*th),
			      SEG_HAS(seg, SYN), &seg->opts) != TCP_OPT_OK) {
		STAT_INC(s, tcp_drop_bad_options);
		goto drop;
	}
	if (seg->key.rport == 0 || seg->key.lport == 0) {
		STAT_INC(s, tcp_drop_bad_flags);
		goto drop;
	}
	/* From here on m holds the payload only. */
	rte_pktmbuf_adj(m, (uint16_t)(l3 + off));
	seg->m = m;
	if (m->data_len == 0 && m->next != NULL) {
		seg->m = m->next;
		seg->m->nb_segs = (uint16_t)(m->nb_segs - 1);
		seg->m->pkt_len = m->pkt_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
	}
	return true;
drop:
	rte_pktmbuf_free(m);
	return false;
}

/* Process a parsed segment for connection c (NULL: none), then free what
 * is left of it. */
static void
seg_process(struct tcp_shard *ts, struct tcp_seg *seg, struct tcp_conn *c)
{
	if (c == NULL) {
		tcp_in_no_conn(ts, seg);
		goto done;
	}
	/* Keepalive: the peer is alive, whatever the segment says. */
	c->last_rcv_us = ts->s->now_us;
	c->keep_probes = 0;
	switch (c->state) {
	case TCPS_SYN_SENT:
		input_syn_sent(c, seg);
		break;
	case TCPS_TIME_WAIT:
		if (input_time_wait(c, seg)) {
			tcp_in_no_conn(ts, seg);
			goto done;
		}
		break;
	default:
		tcp_in_synchronized(c, seg);
		break;
	}
	tcp_dispatch(c);
done:
	if (seg->m != NULL)
		rte_pktmbuf_free(seg->m);
}

void
tcp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	  uint8_t proto)
{
	struct tcp_shard *ts = tcp_shard_of(s);
	struct tcp_seg seg;

	(void)proto;
	STAT_INC(s, tcp_rx_segments);
	if (ts == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (seg_parse(s, sp, m, &seg))
		seg_process(ts, &seg, tcp_conn_lookup_hash(ts, &seg.key, seg.hash));
}

void
tcp_input_queue(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
		uint8_t proto)
{
	struct tcp_shard *ts = tcp_shard_of(s);

	(void)proto;
	STAT_INC(s, tcp_rx_segments);
	if (ts == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	if (seg_parse(s, sp, m, &ts->rx_segs[ts->rx_n]) &&
	    ++ts->rx_n == TCP_RX_BATCH)
		tcp_input_flush(s);
}

void
tcp_input_flush(struct shard *s)
{
	struct tcp_shard *ts = tcp_shard_of(s);
	uint32_t n;

	if (ts == NULL || ts->rx_n == 0)
		return;
	n = ts->rx_n;
	/* Each segment's slot, then the connection holding it: all fetched
	 * before the first segment is processed. The lookup itself waits
	 * for the segment's turn, so that it meets the table as the segments
	 * before it left it (a connection they closed or opened). */
	if (n > 1) {
		for (uint32_t i = 0; i < n; i++)
			rte_prefetch0(tcp_slot_of(ts, ts->rx_segs[i].hash));
		for (uint32_t i = 0; i < n; i++) {
			const struct tcp_slot *sl =
				tcp_slot_of(ts, ts->rx_segs[i].hash);

			if (tcp_slot_holds(sl, ts->rx_segs[i].hash))
				rte_prefetch0(sl->c);
		}
		STAT_INC(s, tcp_rx_batches);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tcp_seg *seg = &ts->rx_segs[i];

		seg_process(ts, seg, tcp_conn_lookup_hash(ts, &seg->key,
							  seg->hash));
	}
	ts->rx_n = 0;
}

int
tcp_input_init(struct tcp_shard *ts, int socket_id)
{
	ts->rx_segs = rte_zmalloc_socket("tcp_rx_segs",
		sizeof(*ts->rx_segs) * TCP_RX_BATCH, RTE_CACHE_LINE_SIZE,
		socket_id);
	ts->rx_n = 0;
	return ts->rx_segs == NULL ? -ENOMEM : 0;
}

void
tcp_input_fini(struct tcp_shard *ts)
{
	if (ts->rx_segs == NULL)
		return;
	for (uint32_t i = 0; i < ts->rx_n; i++)
		if (ts->rx_segs[i].m != NULL)
			rte_pktmbuf_free(ts->rx_segs[i].m);
	ts->rx_n = 0;
	rte_free(ts->rx_segs);
	ts->rx_segs = NULL;
}
