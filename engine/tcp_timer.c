/*
 * TCP timers (after FreeBSD tcp_timer.c): one entry per kind embedded in
 * the connection, all on the shard's hashed wheel, and a table of handlers
 * indexed by kind. Handlers change state and set flags; tcp_output() does
 * the sending; tcp_dispatch() delivers upcalls and may free the
 * connection, so nothing touches it afterwards.
 */
#include <stddef.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

static struct tcp_conn *
conn_of(struct timer_entry *e)
{
	return (struct tcp_conn *)((char *)(e - e->kind) -
				   offsetof(struct tcp_conn, timers));
}

/*
 * Timers are stopped lazily. c->timers_armed holds what the TCP code
 * asked for (bit k: kind k is to fire at c->timer_due[k]); the wheel
 * holds the entries of c->timers_queued, each queued no later than its
 * due time when armed. A cancel only clears the armed bit, and an arm
 * that is due no earlier than the queued entry only records the new due
 * time: when the entry fires, fire() drops it if nothing is armed any
 * more, queues it again if the due time moved on, and only then runs the
 * handler. Every segment sent or acknowledged starts or stops the
 * retransmission timer (RFC 6298 §5), and a short connection arms and
 * stops it three times each way; this way the entry goes on the wheel
 * once and off once (tcp_conn_free()), instead of three times each,
 * and the neighbours' list links it would unlink and append stay
 * untouched. A queued entry's memory is valid only while its
 * timers_queued bit is set: a new connection initialises none.
 */
void
tcp_timer_arm(struct tcp_conn *c, enum tcp_timer_kind k, uint64_t after_us)
{
	uint8_t bit = (uint8_t)(1u << k);
	uint64_t due = c->ts->s->now_us + after_us;
	struct timer_entry *e = &c->timers[k];

	c->timers_armed |= bit;
	c->timer_due[k] = due;
	if (!(c->timers_queued & bit)) {
		timer_entry_init(e, (uint16_t)k);
		c->timers_queued |= bit;
	} else if (e->expire_us <= due) {
		return;		/* fire() moves it on to the new time */
	}
	timer_wheel_arm(&c->ts->wheel, e, due);
}

void
tcp_timer_cancel(struct tcp_conn *c, enum tcp_timer_kind k)
{
	c->timers_armed &= (uint8_t)~(1u << k);
}

bool
tcp_timer_armed(const struct tcp_conn *c, enum tcp_timer_kind k)
{
	return (c->timers_armed >> k) & 1;
}

uint64_t
tcp_timer_due(const struct tcp_conn *c, enum tcp_timer_kind k)
{
	return c->timer_due[k];
}

/* Stops every timer and takes the entries off the wheel: on entering
 * TIME_WAIT, and before the connection's memory goes back to the pool
 * (tcp_conn_free()), where no entry may stay queued. */
void
tcp_timers_cancel_all(struct tcp_conn *c)
{
	while (c->timers_queued != 0) {
		unsigned k = (unsigned)__builtin_ctz(c->timers_queued);

		timer_wheel_cancel(&c->ts->wheel, &c->timers[k]);
		c->timers_queued &= (uint8_t)~(1u << k);
	}
	c->timers_armed = 0;
}

/*
 * Retransmission timeout (RFC 6298 §5.4-5.6, RFC 5681 §3.1): back the RTO
 * off, collapse cwnd, go back to SND.UNA and let output resend. A SYN or
 * SYN-ACK gets syn_retries retransmissions, anything else data_retries;
 * then the connection times out.
 */
static void
timer_rexmt(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	bool handshake = c->state < TCPS_ESTABLISHED;
	unsigned limit = handshake ? ts->conf.syn_retries : ts->conf.data_retries;

	STAT_INC(ts->s, tcp_rexmt_timeouts);
	if (++c->rxt_shift > limit) {
		if (!handshake)
			tcp_respond(ts->s, c->sp, c->key.laddr, c->key.raddr,
				    c->key.lport, c->key.rport, c->snd_nxt,
				    c->rcv_nxt,
				    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		tcp_conn_close(c, TCP_CLOSE_TIMEOUT);
		return;
	}
	tcp_rtt_backoff(&c->rtt);
	c->rtt_timing = false;
	if (handshake) {
		c->snd_nxt = c->iss;
	} else {
		tcp_cc_rto_timeout(&c->cc, c->snd_max - c->snd_una, c->snd_max,
				   ts->s->now_us);
		/* RFC 2018 §8: the receiver may have reneged. */
		tcp_sack_reset(&c->sack);
		tcp_rack_on_rto(c);
		c->high_rxt = c->snd_una;
		c->dupacks = 0;
		c->snd_nxt = c->snd_una;
	}
	tcp_output(c);
	if (!tcp_timer_armed(c, TCPT_REXMT) && c->snd_una != c->snd_max)
		tcp_timer_arm(c, TCPT_REXMT, tcp_rtt_rto(&c->rtt));
}

/* Window probe (RFC 9293 §3.8.6.1): with a zero window send one byte
 * beyond it, with a window too small for a full segment send what fits;
 * back off and probe again until the window opens. */
static void
timer_persist(struct tcp_conn *c)
{
	if (c->sq_bytes == 0 || c->state < TCPS_ESTABLISHED)
		return;
	STAT_INC(c->ts->s, tcp_persist_probes);
	c->snd_nxt = c->snd_una;
	c->t_flags |= TF_FORCE;
	tcp_output(c);
	if (c->snd_wnd == 0 && !tcp_timer_armed(c, TCPT_REXMT)) {
		tcp_rtt_backoff(&c->rtt);
		tcp_timer_arm(c, TCPT_PERSIST, tcp_rtt_rto(&c->rtt));
	}
}

static void
timer_delack(struct tcp_conn *c)
{
	STAT_INC(c->ts->s, tcp_delayed_acks);
	c->t_flags |= TF_ACKNOW;
	tcp_output(c);
}

/* TIME_WAIT's 2 MSL are over; also the FIN_WAIT_2 limit of a connection
 * the user released (the peer may never send its FIN). */
static void
timer_time_wait(struct tcp_conn *c)
{
	tcp_conn_close(c, TCP_CLOSE_NORMAL);
}

static bool
keepalive_state(enum tcp_state st)
{
	return st >= TCPS_ESTABLISHED && st != TCPS_TIME_WAIT;
}

void
tcp_keepalive_start(struct tcp_conn *c)
{
	c->last_rcv_us = c->ts->s->now_us;
	c->keep_probes = 0;
	if ((c->t_flags & TF_KEEPALIVE) && keepalive_state(c->state))
		tcp_timer_arm(c, TCPT_KEEP, c->keep_idle_us);
}

/*
 * Keepalive (RFC 9293 §3.8.4; Linux tcp_keepalive_timer). The timer is
 * not moved by every received segment: it fires at most once per idle
 * period and measures the silence from last_rcv_us, so the per-segment
 * cost is one store.
 */
static void
timer_keep(struct tcp_conn *c)
{
	struct tcp_shard *ts = c->ts;
	uint64_t elapsed;

	if (!(c->t_flags & TF_KEEPALIVE) || !keepalive_state(c->state))
		return;
	/* Idle connections only: with data in flight or waiting, the
	 * retransmission and persist timers find a dead peer. */
	if (c->snd_max != c->snd_una || c->sq_bytes > 0) {
		c->keep_probes = 0;
		tcp_timer_arm(c, TCPT_KEEP, c->keep_idle_us);
		return;
	}
	elapsed = ts->s->now_us - c->last_rcv_us;
	if (elapsed < c->keep_idle_us) {
		tcp_timer_arm(c, TCPT_KEEP, c->keep_idle_us - elapsed);
		return;
	}
	if (c->keep_probes >= c->keep_count) {
		STAT_INC(ts->s, tcp_keepalive_drops);
		tcp_respond(ts->s, c->sp, c->key.laddr, c->key.raddr,
			    c->key.lport, c->key.rport, c->snd_nxt, c->rcv_nxt,
			    RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		tcp_conn_close(c, TCP_CLOSE_TIMEOUT);
		return;
	}
	/* A probe that found no mbuf is not counted: the peer never had
	 * the chance to answer it. */
	if (tcp_output_keepalive(c) == 0) {
		c->keep_probes++;
		STAT_INC(ts->s, tcp_keepalive_probes);
	}
	tcp_timer_arm(c, TCPT_KEEP, c->keep_intvl_us);
}

static void (*const tcp_timer_handlers[TCPT_COUNT])(struct tcp_conn *c) = {
	[TCPT_REXMT] = timer_rexmt,
	[TCPT_PERSIST] = timer_persist,
	[TCPT_DELACK] = timer_delack,
	[TCPT_TIME_WAIT] = timer_time_wait,
	[TCPT_RACK] = tcp_rack_timer,
	[TCPT_TLP] = tcp_tlp_timer,
	[TCPT_KEEP] = timer_keep,
};

static void
fire(struct timer_entry *e, void *arg)
{
	struct tcp_conn *c = conn_of(e);
	uint8_t bit = (uint8_t)(1u << e->kind);

	(void)arg;
	c->timers_queued &= (uint8_t)~bit;
	if (!(c->timers_armed & bit))
		return;		/* stopped since it was queued */
	if (c->timer_due[e->kind] > c->ts->s->now_us) {
		/* Moved later since it was queued: wait for the new time. */
		c->timers_queued |= bit;
		timer_wheel_arm(&c->ts->wheel, e, c->timer_due[e->kind]);
		return;
	}
	c->timers_armed &= (uint8_t)~bit;
	tcp_timer_handlers[e->kind](c);
	tcp_dispatch(c);
}

void
tcp_timers_run(struct tcp_shard *ts)
{
	timer_wheel_advance(&ts->wheel, ts->s->now_us, TCP_TIMER_MAX_FIRES,
			    fire, ts);
}
