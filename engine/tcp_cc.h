/*
 * TCP congestion control: the sender's window arithmetic behind an ops
 * struct (after FreeBSD netinet/cc/cc.h).
 *
 * The model. Each connection embeds a struct tcp_cc_state: cwnd, ssthresh
 * and SMSS in bytes, the byte counter of congestion avoidance, the recovery
 * bookkeeping (in_fast_recovery and the recover point of RFC 6582) and a
 * private area for the algorithm. The algorithm is a struct tcp_cc_ops; two
 * exist, "newreno" (RFC 5681 + RFC 6582) and "cubic" (RFC 9438), found by
 * name with tcp_cc_find().
 *
 * Who calls what. TCP input and the timers call only the tcp_cc_*()
 * functions below; they do the bookkeeping every algorithm shares (is an
 * ACK partial or full, may duplicate ACKs start a recovery) and then call
 * the ops, which only do window arithmetic. So TCP input reads:
 *
 *   connection established      tcp_cc_init()
 *   ACK advancing SND.UNA       tcp_cc_new_ack(); on TCP_CC_ACK_PARTIAL
 *                               retransmit the segment at the new SND.UNA
 *                               (RFC 6582 §3.2 step 5; with SACK, run the
 *                               RFC 6675 NextSeg loop instead)
 *   duplicate ACK               tcp_cc_dup_ack() for every one; at the
 *                               DupThresh'th (or with SACK when
 *                               IsLost(SND.UNA)) also tcp_cc_loss_detected()
 *                               and fast-retransmit if it returns true
 *   retransmission timeout      tcp_cc_rto_timeout()
 *   about to send after idle    tcp_cc_after_idle()
 *
 * Sequence numbers given here are compared modulo 2^32 (tcp_seq.h).
 * "flight" is FlightSize (SND.MAX - SND.UNA), or RFC 6675's pipe when the
 * connection does SACK-based recovery.
 *
 * Two recovery flavours, chosen by tcp_cc_state.sack:
 * - without SACK, RFC 5681/6582 NewReno: cwnd = ssthresh + 3 SMSS on entry,
 *   +1 SMSS per further duplicate ACK, deflated by partial ACKs;
 * - with SACK, RFC 6675: cwnd = ssthresh for the whole recovery and the
 *   sender's pipe does the accounting, so duplicate and partial ACKs leave
 *   cwnd alone.
 * Both leave recovery on the first ACK at or beyond the recover point with
 * cwnd = min(ssthresh, max(flight, SMSS) + SMSS) (RFC 6582 step 6 option 1,
 * which avoids a burst when little is in flight).
 *
 * Windows never exceed TCP_CC_CWND_MAX, so the arithmetic stays in 32 bits.
 */
#ifndef WSKDP_TCP_CC_H
#define WSKDP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_seq.h"

/* The largest window RFC 7323 can express (65535 << 14, rounded up). */
#define TCP_CC_CWND_MAX (1u << 30)
/* RFC 5681 §3.1: ssthresh starts "arbitrarily high". */
#define TCP_CC_SSTHRESH_INFINITE UINT32_MAX
/*
 * Slow start grows cwnd by min(acked, L * SMSS) per ACK. RFC 5681 §3.1
 * allows at most 1 SMSS per ACK, which a delayed-ACK receiver turns into
 * 1.5x per RTT instead of 2x; RFC 3465 (experimental) allows L = 2. We
 * follow the standards-track RFC 5681 bound.
 */
#define TCP_CC_ABC_LIMIT_SEGMENTS 1

/* CUBIC's per-connection state (RFC 9438 names in the comments). */
struct tcp_cc_cubic {
	double w_max;		/* W_max, bytes */
	double cwnd_prior;	/* cwnd_prior: window before the last reduction */
	double w_est;		/* W_est, bytes */
	double k_s;		/* K, seconds */
	double frac;		/* sub-byte growth not yet added to cwnd */
	uint64_t epoch_start_us; /* start of this congestion avoidance stage */
	bool epoch_valid;	/* false: the next CA ack starts a new epoch */
	bool after_rto;		/* §4.8: next epoch uses K = 0, W_max = cwnd */
};

struct tcp_cc_ops;

struct tcp_cc_state {
	const struct tcp_cc_ops *ops;
	uint32_t cwnd;		/* bytes */
	uint32_t ssthresh;	/* bytes */
	uint32_t smss;		/* sender MSS, bytes */
	uint32_t bytes_acked;	/* CA byte counting (RFC 5681 §3.1, RFC 3465) */
	/* RFC 6582 "recover", stored as SND.MAX (one beyond the highest byte
	 * sent) when fast recovery began or the RTO fired. */
	uint32_t recover;
	/* recover is meaningful: ACKs have not yet passed it. Cleared once
	 * one does, so a stale recover can never look "ahead" after the
	 * sequence space wraps. */
	bool recover_armed;
	bool in_fast_recovery;
	bool sack;		/* RFC 6675 recovery (SACK was negotiated) */
	union {
		struct tcp_cc_cubic cubic;
	} priv;
};

/* One ACK that advanced SND.UNA, as the algorithms see it. */
struct tcp_cc_ack {
	uint32_t ack;		/* the cumulative ACK: the new SND.UNA */
	uint32_t acked_bytes;	/* bytes this ACK newly acknowledged */
	uint32_t flight_before;	/* flight before this ACK was processed */
	uint32_t srtt_us;	/* current smoothed RTT, 0 if none yet */
	uint64_t now_us;	/* engine clock */
};

/*
 * An algorithm. Only the tcp_cc_*() functions below call these; every
 * hook must be set. Hooks change cwnd, ssthresh, bytes_acked and priv; the
 * recovery bookkeeping (recover, recover_armed, in_fast_recovery) belongs
 * to the callers in this header.
 */
struct tcp_cc_ops {
	const char *name;
	/* New connection: cwnd = initial window, ssthresh infinite. smss and
	 * sack are already set in st. */
	void (*init)(struct tcp_cc_state *st, uint64_t now_us);
	/* New data acknowledged outside fast recovery: grow cwnd. */
	void (*ack_received)(struct tcp_cc_state *st,
			     const struct tcp_cc_ack *ack);
	/* Loss inferred from duplicate ACKs: set ssthresh, and cwnd for the
	 * start of recovery. */
	void (*enter_recovery)(struct tcp_cc_state *st, uint32_t flight,
			       uint64_t now_us);
	/* A further duplicate ACK during fast recovery. */
	void (*dupack_in_recovery)(struct tcp_cc_state *st);
	/* A partial ACK of acked_bytes during fast recovery. */
	void (*partial_ack)(struct tcp_cc_state *st, uint32_t acked_bytes);
	/* A full ACK ended fast recovery; flight is what is still out. */
	void (*exit_recovery)(struct tcp_cc_state *st, uint32_t flight);
	/* The retransmission timer fired with flight outstanding. */
	void (*rto_timeout)(struct tcp_cc_state *st, uint32_t flight,
			    uint64_t now_us);
	/* Sending resumes after an idle period longer than the RTO. */
	void (*after_idle)(struct tcp_cc_state *st);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/*
 * Look an algorithm up by name.
 *
 * @param name  "newreno" or "cubic"
 * @return the algorithm, or NULL when no algorithm has that name (or name
 *         is NULL).
 */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/*
 * RFC 6928 initial window: min(10 SMSS, max(2 SMSS, 14600 bytes)).
 *
 * @param smss  sender MSS in bytes
 * @return the initial cwnd in bytes.
 */
static inline uint32_t
tcp_cc_initial_window(uint32_t smss)
{
	uint64_t hi = 2ull * smss > 14600 ? 2ull * smss : 14600;
	uint64_t ten = 10ull * smss;

	return (uint32_t)(ten < hi ? ten : hi);
}

/*
 * Start congestion control for a connection whose handshake completed.
 * RFC 5681 §3.1 wants an initial window of 1 SMSS if the SYN or SYN-ACK
 * had to be retransmitted; a caller that follows that sets st->cwnd =
 * smss afterwards.
 *
 * @param st      the state to initialise
 * @param ops     the algorithm (tcp_cc_find(), or &tcp_cc_newreno)
 * @param smss    sender MSS in bytes (> 0)
 * @param sack    SACK was negotiated and recovery follows RFC 6675
 * @param now_us  engine clock
 */
static inline void
tcp_cc_init(struct tcp_cc_state *st, const struct tcp_cc_ops *ops,
	    uint32_t smss, bool sack, uint64_t now_us)
{
	st->ops = ops;
	st->smss = smss;
	st->sack = sack;
	st->bytes_acked = 0;
	st->recover = 0;
	st->recover_armed = false;
	st->in_fast_recovery = false;
	ops->init(st, now_us);
}

/* What tcp_cc_new_ack() found the ACK to be. */
enum tcp_cc_ack_kind {
	TCP_CC_ACK_NORMAL,	/* not in recovery: cwnd grew as usual */
	/* In recovery, below recover: recovery goes on and the segment at
	 * the new SND.UNA must be retransmitted now (RFC 6582 step 5). */
	TCP_CC_ACK_PARTIAL,
	/* At or beyond recover: fast recovery is over. */
	TCP_CC_ACK_RECOVERED,
};

/*
 * An ACK advanced SND.UNA.
 *
 * @param st   the connection's state
 * @param ack  the ACK; acked_bytes > 0
 * @return TCP_CC_ACK_NORMAL, TCP_CC_ACK_PARTIAL or TCP_CC_ACK_RECOVERED as
 *         described at enum tcp_cc_ack_kind.
 */
static inline enum tcp_cc_ack_kind
tcp_cc_new_ack(struct tcp_cc_state *st, const struct tcp_cc_ack *ack)
{
	if (st->recover_armed && tcp_seq_gt(ack->ack, st->recover))
		st->recover_armed = false;
	if (st->in_fast_recovery) {
		uint32_t flight = ack->flight_before > ack->acked_bytes
			? ack->flight_before - ack->acked_bytes : 0;

		if (tcp_seq_lt(ack->ack, st->recover)) {
			st->ops->partial_ack(st, ack->acked_bytes);
			return TCP_CC_ACK_PARTIAL;
		}
		st->in_fast_recovery = false;
		st->ops->exit_recovery(st, flight);
		return TCP_CC_ACK_RECOVERED;
	}
	st->ops->ack_received(st, ack);
	return TCP_CC_ACK_NORMAL;
}

/*
 * A duplicate ACK arrived (RFC 5681 §2 definition, or RFC 6675's with
 * SACK). Inflates cwnd during NewReno fast recovery; otherwise nothing.
 * Call it for every duplicate ACK; for the one that also triggers
 * tcp_cc_loss_detected(), call it first (it then does nothing: the 3 SMSS
 * of the recovery window already stand for the DupThresh duplicates).
 *
 * @param st  the connection's state
 */
static inline void
tcp_cc_dup_ack(struct tcp_cc_state *st)
{
	if (st->in_fast_recovery)
		st->ops->dupack_in_recovery(st);
}

/*
 * The caller inferred a loss at SND.UNA from duplicate ACKs: the
 * DupThresh'th duplicate ACK (RFC 5681 §3.2), or with SACK IsLost(SND.UNA)
 * (RFC 6675 §5). Starts fast recovery unless it is already running or the
 * duplicates may be echoes of data retransmitted before `recover': RFC 6582
 * §3.2 step 2 wants the cumulative ACK beyond recover, RFC 6675 §5.1 at or
 * beyond it.
 *
 * @param st       the connection's state
 * @param flight   FlightSize (or pipe) now
 * @param snd_una  SND.UNA (the duplicated cumulative ACK)
 * @param snd_max  one beyond the highest sequence number sent (HighData)
 * @param now_us   engine clock
 * @return true: recovery has begun, retransmit the segment at SND.UNA now;
 *         false: no recovery started (already in one, or refused by the
 *         recover point); ssthresh and cwnd are unchanged.
 */
static inline bool
tcp_cc_loss_detected(struct tcp_cc_state *st, uint32_t flight,
		     uint32_t snd_una, uint32_t snd_max, uint64_t now_us)
{
	if (st->in_fast_recovery)
		return false;
	if (st->recover_armed &&
	    (st->sack ? tcp_seq_lt(snd_una, st->recover)
		      : tcp_seq_leq(snd_una, st->recover)))
		return false;
	st->ops->enter_recovery(st, flight, now_us);
	st->recover = snd_max;
	st->recover_armed = true;
	st->in_fast_recovery = true;
	return true;
}

/*
 * The retransmission timer fired: collapse to the loss window, leave any
 * fast recovery, and remember SND.MAX so duplicate ACKs for data sent
 * before the timeout do not start a recovery (RFC 6582 §3.2 step 1 note,
 * RFC 6675 §5.1).
 *
 * @param st       the connection's state
 * @param flight   FlightSize when the timer fired
 * @param snd_max  one beyond the highest sequence number sent
 * @param now_us   engine clock
 */
static inline void
tcp_cc_rto_timeout(struct tcp_cc_state *st, uint32_t flight,
		   uint32_t snd_max, uint64_t now_us)
{
	st->in_fast_recovery = false;
	st->recover = snd_max;
	st->recover_armed = true;
	st->ops->rto_timeout(st, flight, now_us);
}

/*
 * About to send with nothing in flight: RFC 5681 §4.1 restarts from
 * min(IW, cwnd) when nothing was sent for longer than the RTO.
 *
 * @param st       the connection's state
 * @param idle_us  time since the last segment was sent
 * @param rto_us   the current RTO
 */
static inline void
tcp_cc_after_idle(struct tcp_cc_state *st, uint64_t idle_us, uint32_t rto_us)
{
	if (idle_us > rto_us)
		st->ops->after_idle(st);
}

/*
 * NewReno's building blocks, shared by algorithms that only differ in how
 * they grow cwnd and how far they cut it (CUBIC uses all of these).
 */

/* Was the sender using its window? RFC 7661's idea, which RFC 9438 also
 * asks of CUBIC: cwnd does not grow on ACKs of an application-limited
 * flight. Limited means less than one SMSS of cwnd was left unused. */
bool tcp_cc_newreno_cwnd_limited(const struct tcp_cc_state *st,
				 uint32_t flight_before);
/* Slow start: cwnd += min(acked, TCP_CC_ABC_LIMIT_SEGMENTS * SMSS). */
void tcp_cc_newreno_slow_start(struct tcp_cc_state *st, uint32_t acked_bytes);
/* cwnd at the start of recovery, ssthresh already cut: ssthresh + 3 SMSS
 * (RFC 5681 §3.2 step 4), or ssthresh with SACK (RFC 6675 §5 step 4.2). */
void tcp_cc_newreno_recovery_window(struct tcp_cc_state *st);
void tcp_cc_newreno_dupack_in_recovery(struct tcp_cc_state *st);
void tcp_cc_newreno_partial_ack(struct tcp_cc_state *st, uint32_t acked_bytes);
void tcp_cc_newreno_exit_recovery(struct tcp_cc_state *st, uint32_t flight);
void tcp_cc_newreno_after_idle(struct tcp_cc_state *st);

#endif
