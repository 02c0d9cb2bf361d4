/*
 * TCP output (after FreeBSD tcp_output.c): one routine per connection
 * decides what to send. Input, timers and user calls only change state and
 * set flags (TF_ACKNOW, TF_REXMT_UNA, TF_FORCE, TF_NEEDFIN), then call
 * tcp_output(), which may be called at any time and sends nothing when
 * nothing is owed.
 *
 * Segments are built without copying payload: a header mbuf from the
 * shard's pool, followed by indirect mbufs attached to the send queue's
 * data mbufs.
 */
#include <string.h>
#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

/* Find the send-queue mbuf holding 'seq' and the offset of seq in it. */
static struct rte_mbuf *
sq_find(struct tcp_conn *c, uint32_t seq, uint32_t *off)
{
	struct rte_mbuf *m;
	uint32_t mseq;

	if (c->sq_cur != NULL && tcp_seq_geq(seq, c->sq_cur_seq)) {
		m = c->sq_cur;
		mseq = c->sq_cur_seq;
	} else {
		m = c->sq_head;
		mseq = c->sq_seq;
	}
	while (m != NULL && tcp_seq_geq(seq, mseq + m->data_len)) {
		mseq += m->data_len;
		m = m->next;
	}
	if (m != NULL) {
		c->sq_cur = m;
		c->sq_cur_seq = mseq;
		*off = seq - mseq;
	}
	return m;
}

/* The window to advertise, unscaled bytes, never shrinking what was
 * already offered (RFC 9293 §3.8.6.2.2) and with receiver-side silly
 * window avoidance (RFC 1122 4.2.3.3). */
static uint32_t
rcv_window(const struct tcp_conn *c)
{
	uint32_t space = tcp_rcv_space(c);
	uint32_t offered = tcp_seq_gt(c->rcv_adv, c->rcv_nxt)
		? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t max = 65535u << c->rcv_wscale;

	if (space < c->rcv_buf / 4 && space < c->t_maxseg)
		space = 0;
	if (space < offered)
		space = offered;
	return space > max ? max : space;
}

/* Reading opened the window by two segments or half the buffer since it
 * was last announced: worth a window update (receiver-side SWS
 * avoidance, RFC 9293 §3.8.6.2.2). */
static bool
window_update_due(const struct tcp_conn *c)
{
	uint32_t adv = rcv_window(c);
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt)
		? c->rcv_adv - c->rcv_nxt : 0;

	return !(c->t_flags & TF_RCVD_FIN) && adv > cur &&
	       (adv - cur >= 2u * c->t_maxseg || 2 * (adv - cur) >= c->rcv_buf);
}

/* Nothing tcp_output() could send or change: every byte and any FIN sent
 * and acknowledged, no ACK, probe or retransmission asked for, no
 * recovery under way and no window update due. Of the 12 calls a short
 * connection makes, the 5 after an ACK or a read find it so; each used to
 * walk the whole send decision (about 170 instructions) to send nothing. */
static inline bool
output_idle(const struct tcp_conn *c)
{
	return c->state >= TCPS_ESTABLISHED &&
	       !(c->t_flags & (TF_ACKNOW | TF_FORCE | TF_REXMT_UNA)) &&
	       (c->t_flags & (TF_NEEDFIN | TF_SENTFIN)) != TF_NEEDFIN &&
	       c->snd_una == c->snd_max && c->sq_bytes == 0 &&
	       !c->cc.in_fast_recovery && !c->rack.rexmt_first &&
	       c->rack.lost_bytes == 0 &&
	       (c->state == TCPS_TIME_WAIT || !window_update_due(c));
}

/* A non-SYN segment with 'flags' carries SACK blocks (RFC 2018 §4): the
 * peer allowed them, something waits out of order, and it is an ACK. */
static inline bool
sack_due(const struct tcp_conn *c, uint8_t flags)
{
	return (c->t_flags & TF_SACK_PERMIT) && !tcp_reass_empty(&c->reass) &&
	       (flags & RTE_TCP_ACK_FLAG);
}

/* The options of a segment with 'flags'. */
static void
build_opts(const struct tcp_conn *c, uint8_t flags, struct tcp_opts *out)
{
	const struct tcp_shard *ts = c->ts;
	struct tcp_opts o;
	bool syn = (flags & RTE_TCP_SYN_FLAG) != 0;

	memset(&o, 0, sizeof(o));
	if (syn) {
		o.present |= TCP_OPT_HAS_MSS;
		o.mss = tcp_mss_clamp(c->sp, c->user_mss);
		if (c->t_flags & TF_REQ_SCALE) {
			o.present |= TCP_OPT_HAS_WSCALE;
			o.wscale = c->rcv_wscale;
		}
		if (c->t_flags & TF_REQ_SACK)
			o.present |= TCP_OPT_HAS_SACK_PERMITTED;
		if (c->t_flags & TF_REQ_TSTMP) {
			o.present |= TCP_OPT_HAS_TIMESTAMPS;
			o.tsval = tcp_ts_now(ts, c);
			o.tsecr = c->ts_recent;
		}
		tcp_tfo_syn_option(c, &o);
	} else {
		if (c->t_flags & TF_RCVD_TSTMP) {
			o.present |= TCP_OPT_HAS_TIMESTAMPS;
			o.tsval = tcp_ts_now(ts, c);
			o.tsecr = c->ts_recent;
		}
		if (sack_due(c, flags)) {
			o.sack_count = (uint8_t)tcp_reass_sack_blocks(&c->reass,
				c->rcv_nxt, o.sack,
				(c->t_flags & TF_RCVD_TSTMP) ? 3 : 4);
			if (o.sack_count > 0)
				o.present |= TCP_OPT_HAS_SACK;
		}
	}
	*out = o;
}

/* Build and send one segment: [seq, seq + len) of the send queue with
 * 'flags' (a SYN's data starts at seq + 1). Returns 0, or -1 when no mbuf
 * was free (counted by shard_alloc). */
static int
tcp_xmit(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct tcp_shard *ts = c->ts;
	struct shard *s = ts->s;
	struct rte_mbuf *m = shard_alloc(s);
	struct rte_tcp_hdr *th;
	struct tcp_opts o;
	unsigned olen;
	bool syn = (flags & RTE_TCP_SYN_FLAG) != 0, copy;
	/* Timestamps and no SACK block: what build_opts() would give, written
	 * without building it. */
	bool ts_only = !syn && (c->t_flags & TF_RCVD_TSTMP) &&
		!sack_due(c, flags);
	uint32_t win, dseq = syn ? seq + 1 : seq;

	if (m == NULL)
		return -1;
	if (ts_only) {
		olen = TCP_OPT_TS_ONLY_LEN;
	} else {
		build_opts(c, flags, &o);
		olen = tcp_options_len(TCP_OPT_MAX_LEN, &o, syn);
	}
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*th) + olen));
	if (th == NULL) {
		rte_pktmbuf_free(m);
		return -1;
	}
	th->src_port = c->key.lport;
	th->dst_port = c->key.rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	th->data_off = (uint8_t)(((sizeof(*th) + olen) / 4) << 4);
	/* RFC 9293 MUST-61: PSH on the segment that empties the queue. */
	if (len > 0 && dseq + len == tcp_sq_end(c))
		flags |= RTE_TCP_PSH_FLAG;
	th->tcp_flags = flags;
	th->cksum = 0;
	th->tcp_urp = 0;
	if (ts_only)
		tcp_options_write_ts((uint8_t *)(th + 1), tcp_ts_now(ts, c),
				     c->ts_recent);
	else
		tcp_options_write((uint8_t *)(th + 1), olen, &o, syn);
	win = rcv_window(c);
	if (syn) {
		/* RFC 7323 §2.2: the window of a SYN is never scaled. */
		th->rx_win = rte_cpu_to_be_16((uint16_t)RTE_MIN(win, 65535u));
	} else {
		uint32_t w = win >> c->rcv_wscale;

		th->rx_win = rte_cpu_to_be_16((uint16_t)RTE_MIN(w, 65535u));
		win = w << c->rcv_wscale;
	}

	/* Payload: a small one copied behind the header (tcp_conf's
	 * tx_copy_max), others as indirect mbufs on the send queue's
	 * buffers. */
	copy = len <= ts->conf.tx_copy_max && rte_pktmbuf_tailroom(m) >= len;
	while (len > 0) {
		uint32_t off, piece;
		struct rte_mbuf *d = sq_find(c, dseq, &off), *mi;

		if (d == NULL)
			break;
		piece = RTE_MIN(len, (uint32_t)d->data_len - off);
		/* The indirect mbuf before the RACK mark: a piece whose
		 * mbuf cannot be had is not marked sent. */
		mi = NULL;
		if (!copy) {
			mi = shard_alloc(s);
			if (mi == NULL) {
				rte_pktmbuf_free(m);
				return -1;
			}
		}
		tcp_rack_sent(c, d, off, tcp_seq_lt(dseq, c->snd_max));
		if (copy) {
			rte_memcpy(rte_pktmbuf_append(m, (uint16_t)piece),
				   rte_pktmbuf_mtod_offset(d, uint8_t *, off),
				   piece);
		} else {
			rte_pktmbuf_attach(mi, d);
			mi->data_off = (uint16_t)(d->data_off + off);
			mi->data_len = (uint16_t)piece;
			mi->pkt_len = piece;
			if (rte_pktmbuf_chain(m, mi) != 0) {
				rte_pktmbuf_free(mi);
				rte_pktmbuf_free(m);
				return -1;
			}
		}
		dseq += piece;
		len -= piece;
	}

	if (flags & RTE_TCP_ACK_FLAG) {
		uint32_t edge = c->rcv_nxt + win;

		if (tcp_seq_gt(edge, c->rcv_adv))
			c->rcv_adv = edge;
		c->last_ack_sent = c->rcv_nxt;
		c->t_flags &= ~(TF_ACKNOW | TF_DELACK | TF_ACK_OWED);
		tcp_timer_cancel(c, TCPT_DELACK);
	}
	if (flags & RTE_TCP_RST_FLAG)
		STAT_INC(s, tcp_rst_sent);
	STAT_INC(s, tcp_tx_segments);
	c->last_send_us = s->now_us;
	ipv4_output(s, c->sp, m, c->key.laddr, c->key.raddr, IPPROTO_TCP);
	return 0;
}

/* After sending [seq, seq + seglen) of sequence space (SYN and FIN count):
 * move SND.NXT/SND.MAX, start RTT timing and the retransmission timer. */
static void
sent_update(struct tcp_conn *c, uint32_t seq, uint32_t seglen, bool rexmt)
{
	uint32_t end = seq + seglen;

	if (seglen == 0)
		return;
	if (tcp_seq_gt(end, c->snd_nxt) && seq == c->snd_nxt)
		c->snd_nxt = end;
	if (tcp_seq_gt(end, c->snd_max)) {
		c->snd_max = end;
		if (!c->rtt_timing && !rexmt) {
			c->rtt_timing = true;
			c->rtt_seq = seq;
			c->rtt_start_us = c->ts->s->now_us;
		}
	}
	if (rexmt) {
		/* Karn: a sample now could belong to either transmission. */
		c->rtt_timing = false;
		STAT_INC(c->ts->s, tcp_rexmt_segments);
	}
	/* A window probe is timed by the persist timer, not the RTO: the
	 * peer may keep the window shut for as long as it likes. */
	if ((c->t_flags & TF_FORCE) && c->snd_wnd == 0)
		return;
	if (!tcp_timer_armed(c, TCPT_REXMT)) {
		tcp_timer_cancel(c, TCPT_PERSIST);
		tcp_timer_arm(c, TCPT_REXMT, tcp_rexmt_timeout(c));
	}
}

/* Retransmit one segment starting at 'seq' (fast retransmit, partial ACK,
 * SACK hole). */
static void
rexmt_at(struct tcp_conn *c, uint32_t seq, uint32_t maxlen)
{
	uint32_t end = tcp_sq_end(c);
	uint32_t len = tcp_seq_lt(seq, end) ? end - seq : 0;
	uint8_t flags = RTE_TCP_ACK_FLAG;

	if (len > maxlen)
		len = maxlen;
	if (len > c->t_maxseg)
		len = c->t_maxseg;
	if (len == 0 && (c->t_flags & TF_SENTFIN) && seq == end)
		flags |= RTE_TCP_FIN_FLAG;
	else if (len == 0)
		return;
	if (tcp_xmit(c, seq, len, flags) != 0)
		return;
	sent_update(c, seq, len + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0), true);
	if (tcp_seq_gt(seq + len, c->high_rxt))
		c->high_rxt = seq + len;
}

/* SACK loss recovery (RFC 6675 §5 step (C)): while the pipe leaves room in
 * cwnd, retransmit lost holes (NextSeg rule 1). New data (rule 2) is left
 * to the main loop, which gets the pipe-limited window. */
static void
sack_recovery(struct tcp_conn *c)
{
	uint32_t smss = c->t_maxseg;

	for (int guard = 0; guard < 64; guard++) {
		uint32_t pipe = tcp_sack_pipe(&c->sack, c->snd_una, c->snd_max,
					      c->high_rxt, smss);
		uint32_t seq, len;

		if (pipe + smss > c->cc.cwnd)
			return;
		if (tcp_seq_lt(c->high_rxt, c->snd_una))
			c->high_rxt = c->snd_una;
		if (!tcp_sack_next_seg(&c->sack, c->snd_una, c->high_rxt, smss,
				       &seq, &len))
			return;
		STAT_INC(c->ts->s, tcp_sack_retransmits);
		rexmt_at(c, seq, len);
		if (tcp_seq_lt(c->high_rxt, seq + len))
			c->high_rxt = seq + len;
	}
}

/* RACK recovery (RFC 8985 §6.3 with RFC 6675's pipe): retransmit what
 * RACK marked lost while the pipe leaves room in cwnd. */
static void
rack_recovery(struct tcp_conn *c)
{
	for (int guard = 0; guard < 64; guard++) {
		uint32_t seq, len;

		if (tcp_rack_pipe(c) + c->t_maxseg > c->cc.cwnd &&
		    !tcp_rack_rexmt_first(c))
			return;
		if (!tcp_rack_next_lost(c, &seq, &len))
			return;
		STAT_INC(c->ts->s, tcp_sack_retransmits);
		rexmt_at(c, seq, len);
	}
}

enum tcp_tlp_sent
tcp_output_tlp(struct tcp_conn *c)
{
	uint32_t end = tcp_sq_end(c);
	uint32_t right = c->snd_una + c->snd_wnd;
	uint32_t hi, len;

	/* RFC 8985 §7.3 probes with new data when it can. But an active
	 * opener whose peer has acknowledged nothing after the SYN cannot
	 * tell whether its handshake ACK, carried by the first data segment,
	 * arrived: the peer may still be in SYN-RECEIVED, and Linux (6.18,
	 * seen at 5% loss after a lost SYN-ACK and a lost first segment)
	 * answers new data beyond a missing first segment with a reset. The
	 * probe then retransmits what is in flight instead. */
	bool handshake_unsure = !(c->t_flags & TF_PASSIVE) &&
				c->snd_una == c->iss + 1;

	if (!handshake_unsure && c->snd_nxt == c->snd_max &&
	    tcp_seq_lt(c->snd_max, end) && tcp_seq_lt(c->snd_max, right)) {
		len = RTE_MIN(end - c->snd_max, (uint32_t)c->t_maxseg);
		len = RTE_MIN(len, right - c->snd_max);
		if (tcp_xmit(c, c->snd_max, len, RTE_TCP_ACK_FLAG) != 0)
			return TCP_TLP_NOTHING;
		sent_update(c, c->snd_max, len, false);
		return TCP_TLP_NEW_DATA;
	}
	hi = tcp_seq_min(c->snd_max, end);
	if (!tcp_seq_gt(hi, c->snd_una))
		return TCP_TLP_NOTHING;
	len = hi - tcp_rack_tail_seq(c, hi);
	rexmt_at(c, hi - len, len);
	return TCP_TLP_REXMT;
}

void
tcp_output(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	bool idle, sendalot, sent_new = false;
	int budget = 256;	/* segments per call: bounds one pass */

	if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN ||
	    output_idle(c))
		return;
	/* A Fast Open server's SYN-ACK in flight is no data in flight: its
	 * answer need not wait for the ACK under Nagle's rule. */
	idle = c->snd_max == c->snd_una ||
	       (c->state == TCPS_SYN_RECEIVED && c->snd_max == c->iss + 1);
	if (idle && c->state >= TCPS_ESTABLISHED && c->sq_bytes > 0 &&
	    c->cc.ops != NULL)
		tcp_cc_after_idle(&c->cc, ts->s->now_us - c->last_send_us,
				  tcp_rtt_rto(&c->rtt));

	if (c->t_flags & TF_REXMT_UNA) {
		c->t_flags &= ~TF_REXMT_UNA;
		rexmt_at(c, c->snd_una, c->t_maxseg);
	}
	if (tcp_rack_enabled(c))
		rack_recovery(c);
	else if (c->cc.in_fast_recovery && (c->t_flags & TF_SACK_PERMIT))
		sack_recovery(c);

	do {
		uint8_t flags = RTE_TCP_ACK_FLAG;
		uint32_t seq = c->snd_nxt, len = 0, seglen;
		bool send = false, rexmt;
		/* RFC 7413 §4.2.2, as Linux: a Fast Open server whose SYN-ACK
		 * is out sends its answer at once, within the client's SYN
		 * window and the initial window, instead of waiting a round
		 * trip for the third ACK; the cookie showed the client is at
		 * its address. */
		bool tfo_answer = c->state == TCPS_SYN_RECEIVED &&
				  (c->t_flags & TF_TFO_PENDING) &&
				  c->snd_nxt != c->iss;

		sendalot = false;
		if ((c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) &&
		    !tfo_answer) {
			if (c->snd_nxt != c->iss)
				goto ack_only;
			flags = c->state == TCPS_SYN_SENT
				? RTE_TCP_SYN_FLAG
				: RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
			if (c->t_flags & TF_TFO_COOKIE) {
				struct tcp_opts o;

				build_opts(c, flags, &o);
				len = tcp_tfo_syn_data_len(c,
					tcp_options_len(TCP_OPT_MAX_LEN, &o, true));
			}
			send = true;
			goto build;
		}
		if (c->state != TCPS_TIME_WAIT) {
			uint32_t end = tcp_sq_end(c);
			uint32_t from = tcp_seq_gt(seq, c->sq_seq) ? seq : c->sq_seq;
			uint32_t avail = tcp_seq_lt(from, end) ? end - from : 0;
			uint32_t wnd = RTE_MIN(c->snd_wnd,
				c->cc.cwnd + tcp_limited_transmit(c));
			uint32_t flight, usable;

			/* A refused window probe (FreeBSD tcp_output): the
			 * probe byte is not in flight, so when the window
			 * opens sending resumes at SND.UNA, not past it. */
			if (c->snd_wnd == 0 && !(c->t_flags & TF_FORCE) &&
			    tcp_timer_armed(c, TCPT_PERSIST) &&
			    tcp_seq_gt(c->snd_nxt, c->snd_una)) {
				c->snd_nxt = c->snd_una;
				seq = c->snd_nxt;
				from = tcp_seq_gt(seq, c->sq_seq) ? seq : c->sq_seq;
				avail = tcp_seq_lt(from, end) ? end - from : 0;
			}
			flight = seq - c->snd_una;

			if (c->cc.in_fast_recovery &&
			    (c->t_flags & TF_SACK_PERMIT)) {
				uint32_t pipe = tcp_rack_enabled(c)
					? tcp_rack_pipe(c)
					: tcp_sack_pipe(&c->sack, c->snd_una,
						c->snd_max, c->high_rxt,
						c->t_maxseg);
				uint32_t room = c->cc.cwnd > pipe
					? c->cc.cwnd - pipe : 0;
				uint32_t right = c->snd_una + c->snd_wnd;

				usable = tcp_seq_lt(seq, right) ? right - seq : 0;
				usable = RTE_MIN(usable, room);
			} else {
				usable = wnd > flight ? wnd - flight : 0;
			}
			if ((c->t_flags & TF_FORCE) && usable == 0 && avail > 0)
				usable = 1;
			seq = from;
			len = RTE_MIN(avail, usable);
			if (len > c->t_maxseg) {
				len = c->t_maxseg;
				sendalot = true;
			}
			if (len > 0) {
				/* Nagle (RFC 896) and sender SWS avoidance
				 * (RFC 1122 4.2.3.4). */
				if (len == c->t_maxseg)
					send = true;
				else if ((idle || (c->t_flags & TF_NODELAY)) &&
					 len == avail)
					send = true;
				else if (c->t_flags & TF_FORCE)
					send = true;
				else if (c->max_sndwnd > 0 &&
					 len >= c->max_sndwnd / 2)
					send = true;
				else if (tcp_seq_lt(seq, c->snd_max))
					send = true;
				if (!send)
					len = 0;
			}
			/* FIN once every byte is out (or is going now). */
			if ((c->t_flags & TF_NEEDFIN) && seq + len == end &&
			    tcp_seq_leq(c->snd_nxt, end) &&
			    (c->state == TCPS_FIN_WAIT_1 ||
			     c->state == TCPS_CLOSING ||
			     c->state == TCPS_LAST_ACK)) {
				flags |= RTE_TCP_FIN_FLAG;
				send = true;
			}
			/* Data waiting, nothing sent and nothing in flight
			 * (a zero window, or one too small to fill under
			 * SWS avoidance): only the persist timer will get it
			 * moving again (RFC 9293 §3.8.6.1, FreeBSD). */
			if (avail > 0 && len == 0 &&
			    c->snd_una == c->snd_max &&
			    !tcp_timer_armed(c, TCPT_REXMT) &&
			    !tcp_timer_armed(c, TCPT_PERSIST))
				tcp_timer_arm(c, TCPT_PERSIST,
					      tcp_rtt_rto(&c->rtt));
			if (!send && window_update_due(c))
				c->t_flags |= TF_ACKNOW;
		}
ack_only:
		if (c->t_flags & TF_ACKNOW)
			send = true;
		if (!send)
			break;
		if (len == 0 && !(flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)))
			seq = c->snd_nxt;
build:
		if (tcp_xmit(c, seq, len, flags) != 0)
			break;
		seglen = len + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0) +
			 ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
		rexmt = tcp_seq_lt(seq, c->snd_max);
		if (flags & RTE_TCP_FIN_FLAG)
			c->t_flags |= TF_SENTFIN;
		sent_update(c, seq, seglen, rexmt);
		if (len > 0 && !rexmt)
			sent_new = true;
		if ((flags & RTE_TCP_SYN_FLAG) && rexmt)
			c->t_flags |= TF_SYN_REXMT;
		if ((flags & RTE_TCP_SYN_FLAG) && len > 0) {
			c->tfo_syn_data = (uint16_t)len;
			STAT_INC(ts->s, tfo_syn_data_sent);
		}
	} while (sendalot && --budget > 0);
	c->t_flags &= ~TF_FORCE;
	if (sent_new)
		tcp_tlp_schedule(c);
}

/* The Linux/BSD probe: SND.UNA - 1 lies below the peer's window, so a
 * live peer must answer with an ACK (RFC 9293 §3.10.7.4), and the byte is
 * not one it could take as new data. Options and window as on any ACK. */
int
tcp_output_keepalive(struct tcp_conn *c)
{
	return tcp_xmit(c, c->snd_una - 1, 0, RTE_TCP_ACK_FLAG);
}

void
tcp_respond(struct shard *s, struct shard_port *sp, rte_be32_t src,
	    rte_be32_t dst, rte_be16_t sport, rte_be16_t dport, uint32_t seq,
	    uint32_t ack, uint8_t flags)
{
	struct rte_mbuf *m = shard_alloc(s);
	struct rte_tcp_hdr *th;

	if (m == NULL)
		return;
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, sizeof(*th));
	if (th == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(th, 0, sizeof(*th));
	th->src_port = sport;
	th->dst_port = dport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(ack) : 0;
	th->data_off = (sizeof(*th) / 4) << 4;
	th->tcp_flags = flags;
	if (flags & RTE_TCP_RST_FLAG)
		STAT_INC(s, tcp_rst_sent);
	STAT_INC(s, tcp_tx_segments);
	ipv4_output(s, sp, m, src, dst, IPPROTO_TCP);
}

void
tcp_send_syncookie_synack(struct tcp_listener *l, struct shard_port *sp,
			  const struct tcp_key *key, uint32_t irs,
			  uint16_t peer_mss)
{
	struct tcp_shard *ts = l->ts;
	struct shard *s = ts->s;
	struct rte_mbuf *m = shard_alloc(s);
	struct rte_tcp_hdr *th;
	struct tcp_opts o;
	unsigned olen;
	uint16_t ours = tcp_mss_clamp(sp, l->user_mss);
	/* The cookie keeps the largest table MSS not above this, so not
	 * above the listener's clamp either (from 536 up). */
	uint16_t mss = RTE_MIN(peer_mss, ours);
	uint32_t rcv_buf = l->rcv_buf != 0 ? l->rcv_buf : ts->conf.rcv_buf;
	uint32_t cookie = tcp_syncookie_make(&ts->secret, key->raddr,
		key->laddr, key->rport, key->lport, irs, mss, s->now_us);

	if (m == NULL)
		return;
	memset(&o, 0, sizeof(o));
	o.present = TCP_OPT_HAS_MSS;
	o.mss = ours;
	olen = tcp_options_len(TCP_OPT_MAX_LEN, &o, true);
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*th) + olen));
	if (th == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(th, 0, sizeof(*th));
	th->src_port = key->lport;
	th->dst_port = key->rport;
	th->sent_seq = rte_cpu_to_be_32(cookie);
	th->recv_ack = rte_cpu_to_be_32(irs + 1);
	th->data_off = (uint8_t)(((sizeof(*th) + olen) / 4) << 4);
	th->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	th->rx_win = rte_cpu_to_be_16((uint16_t)RTE_MIN(rcv_buf, 65535u));
	tcp_options_write((uint8_t *)(th + 1), olen, &o, true);
	STAT_INC(s, tcp_syncookies_sent);
	STAT_INC(s, tcp_tx_segments);
	ipv4_output(s, sp, m, key->laddr, key->raddr, IPPROTO_TCP);
}
