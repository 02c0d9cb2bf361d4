/*
 * TCP input for segments that find no connection: LISTEN (RFC 9293
 * §3.10.7.2) with SYN cookies (RFC 4987 §3.6) and Fast Open, and CLOSED
 * (§3.10.7.1). Split from tcp_input.c, which validates, looks up and
 * handles the states with a connection.
 */
#include <string.h>
#include <rte_tcp.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"
#include "tcp_input.h"

/* A connection the listener makes for seg, an embryo until its handshake
 * completes, with what tcp_listener_set_conn_opts() gave the listener
 * (before any segment of it is built). NULL when the pool is empty
 * (counted by tcp_conn_alloc()). */
static struct tcp_conn *
listener_new_conn(struct tcp_listener *l, const struct tcp_seg *seg)
{
	struct tcp_conn *c = tcp_conn_alloc(l->ts, seg->sp, &seg->key);

	if (c == NULL)
		return NULL;
	c->listener = l;
	c->user = l->user;
	c->t_flags |= TF_PASSIVE | TF_EMBRYO;
	l->embryos++;
	if (l->snd_buf != 0)
		c->snd_buf = l->snd_buf;
	if (l->rcv_buf != 0)
		c->rcv_buf = l->rcv_buf;
	c->user_mss = l->user_mss;
	return c;
}

/*
 * LISTEN STATE (RFC 9293 §3.10.7.2), and SYN cookies (RFC 4987 §3.6).
 */
static void
input_listen(struct tcp_listener *l, struct tcp_seg *seg)
{
	struct tcp_shard *ts = l->ts;
	struct shard *s = ts->s;
	struct tcp_conn *c;

	/* "First, check for a RST: An incoming RST should be ignored." */
	if (SEG_HAS(seg, RST)) {
		STAT_INC(s, tcp_drop_rst_no_conn);
		return;
	}
	/* "Second, check for an ACK: Any acknowledgment is bad if it arrives
	 * on a connection still in the LISTEN state. An acceptable reset
	 * segment should be formed for any arriving ACK-bearing segment" --
	 * unless it completes a SYN-cookie handshake. */
	if (SEG_HAS(seg, ACK)) {
		uint16_t mss = 0;

		if (!SEG_HAS(seg, SYN) && ts->conf.syncookies)
			mss = tcp_syncookie_check(&ts->secret, seg->key.raddr,
				seg->key.laddr, seg->key.rport, seg->key.lport,
				seg->seq - 1, seg->ack - 1, s->now_us);
		if (mss == 0) {
			if (ts->conf.syncookies && !SEG_HAS(seg, SYN))
				STAT_INC(s, tcp_syncookies_bad);
			STAT_INC(s, tcp_drop_listen_ack);
			tcp_in_respond_reset(seg);
			return;
		}
		if (l->acc_count >= l->backlog) {
			STAT_INC(s, tcp_drop_accept_full);
			return;
		}
		c = listener_new_conn(l, seg);
		if (c == NULL)
			return;
		c->iss = seg->ack - 1;
		c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
		c->sq_seq = seg->ack;
		c->high_rxt = c->snd_una;
		c->irs = seg->seq - 1;
		c->rcv_nxt = c->rcv_adv = seg->seq;
		c->peer_mss = mss;
		/* The cookie's table has no entry below 536: a smaller clamp
		 * still holds. */
		c->t_maxseg = RTE_MIN(mss, tcp_mss_clamp(seg->sp, c->user_mss));
		c->snd_wnd = c->max_sndwnd = seg->wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (tcp_conn_insert(c) != 0) {
			tcp_conn_free(c);
			return;
		}
		STAT_INC(s, tcp_syncookies_ok);
		STAT_INC(s, tcp_conn_passive);
		tcp_conn_established(c);
		tcp_in_synchronized(c, seg);
		tcp_dispatch(c);
		return;
	}
	/* "Third, check for a SYN". Anything else: "drop the segment and
	 * return". */
	if (!SEG_HAS(seg, SYN)) {
		STAT_INC(s, tcp_drop_bad_flags);
		return;
	}
	if (l->embryos + l->acc_count >= l->backlog) {
		if (ts->conf.syncookies) {
			tcp_send_syncookie_synack(l, seg->sp, &seg->key,
				seg->seq, (seg->opts.present & TCP_OPT_HAS_MSS)
					? seg->opts.mss : 536);
			return;
		}
		STAT_INC(s, tcp_drop_backlog_full);
		return;
	}
	c = listener_new_conn(l, seg);
	if (c == NULL)
		return;
	/* "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any other
	 * control or text should be queued for processing later. ISS should
	 * be selected and a SYN segment sent of the form
	 * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>." Text in a SYN is not kept:
	 * the peer sends it again after the handshake. */
	tcp_conn_init_seq(c);
	c->irs = seg->seq;
	c->rcv_nxt = c->rcv_adv = seg->seq + 1;
	tcp_in_syn_options(c, seg, true);
	c->snd_wnd = c->max_sndwnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	c->state = TCPS_SYN_RECEIVED;
	if (tcp_conn_insert(c) != 0) {
		tcp_conn_free(c);
		return;
	}
	STAT_INC(s, tcp_conn_passive);
	/* RFC 7413 §4.2.2: with a valid Fast Open cookie the SYN's text is
	 * kept after all, acknowledged by the SYN-ACK, and the connection is
	 * the user's at once. */
	if (tcp_tfo_server_syn(l, c, &seg->opts, seg->len)) {
		uint32_t space = tcp_rcv_space(c);

		if (seg->len > space) {
			STAT_INC(s, tcp_drop_out_of_window);
			tcp_in_seg_trim_back(seg, space);
		}
		if (seg->len > 0) {
			c->rcv_nxt += seg->len;
			c->rcv_adv = c->rcv_nxt;
			tcp_rq_append(c, seg->m);
			seg->m = NULL;
		}
		tcp_listener_enqueue(c);
		c->t_events |= TEV_READABLE;
		/* Its answer may leave before the handshake completes
		 * (tcp_output()), under the initial window; the third ACK
		 * finds congestion control set up (tcp_conn_established()). */
		tcp_cc_init(&c->cc, l->ts->cc, c->t_maxseg,
			    (c->t_flags & TF_SACK_PERMIT) != 0, s->now_us);
		tcp_output(c);
		tcp_dispatch(c);
		return;
	}
	tcp_output(c);
}

/* No connection: a listener, or RFC 9293 §3.10.7.1 CLOSED. */
void
tcp_in_no_conn(struct tcp_shard *ts, struct tcp_seg *seg)
{
	struct tcp_listener *l = tcp_listener_find(ts, seg->key.laddr,
						   seg->key.lport);

	if (l != NULL) {
		input_listen(l, seg);
		return;
	}
	/* "If the state is CLOSED ... all data in the incoming segment is
	 * discarded. An incoming segment containing a RST is discarded. An
	 * incoming segment not containing a RST causes a RST to be sent in
	 * response." */
	if (SEG_HAS(seg, RST)) {
		STAT_INC(ts->s, tcp_drop_rst_no_conn);
		return;
	}
	STAT_INC(ts->s, tcp_rst_no_conn);
	tcp_in_respond_reset(seg);
}
