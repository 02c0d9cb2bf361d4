/*
 * CUBIC (RFC 9438).
 *
 * In congestion avoidance the window follows, in time rather than in round
 * trips, the cubic W_cubic(t) = C (t - K)^3 + W_max: concave up to W_max,
 * where the last loss happened, then convex as it probes beyond. K is the
 * time the curve takes to climb back to W_max. Beside it runs W_est, the
 * window a Reno flow with CUBIC's beta would have (the "Reno-friendly"
 * estimate); whenever the curve is below it, cwnd follows W_est instead, so
 * on short round trips CUBIC is never slower than Reno.
 *
 * Units. The RFC counts segments; here windows are bytes (segments times
 * SMSS) and time is seconds, in doubles: a handful of multiplications per
 * ACK, and one cbrt() per congestion epoch. cwnd itself stays a byte count;
 * growth below one byte per ACK is carried in priv.cubic.frac.
 *
 * Reductions use FlightSize, as tcp_cc_newreno does and as RFC 9438 §4.6
 * permits for senders that do not grow cwnd while application-limited
 * (tcp_cc_newreno_cwnd_limited() stops that). Slow start, the recovery
 * window, inflation, deflation, the exit from recovery and the restart
 * after idle are NewReno's.
 */
#include <math.h>
#include <string.h>

#include "tcp_cc.h"

#define CUBIC_C 0.4		/* segments per second cubed, §4.2 */
#define CUBIC_BETA_PERCENT 70	/* multiplicative decrease, §4.6 */
#define CUBIC_BETA (CUBIC_BETA_PERCENT / 100.0)
/* §4.3: additive increase that matches Reno's average rate with BETA. */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* W_cubic(t), bytes. */
static double
cubic_window(const struct tcp_cc_cubic *c, double smss, double t_s)
{
	double d = t_s - c->k_s;

	return CUBIC_C * d * d * d * smss + c->w_max;
}

/* §4.6 and §4.7 (fast convergence): remember where the loss happened,
 * release some of it if the window is shrinking, cut ssthresh to beta. */
static void
cubic_reduce(struct tcp_cc_state *st, uint32_t flight)
{
	struct tcp_cc_cubic *c = &st->priv.cubic;
	double w = flight;
	/* In integers: 0.7 has no exact double, and 70% of a whole number
	 * of segments should stay whole. */
	uint64_t ss = (uint64_t)flight * CUBIC_BETA_PERCENT / 100;

	if (w < c->w_max)
		c->w_max = w * (1.0 + CUBIC_BETA) / 2.0;
	else
		c->w_max = w;
	c->cwnd_prior = w;
	st->ssthresh = ss > 2ull * st->smss ? (uint32_t)ss : 2 * st->smss;
	st->bytes_acked = 0;
	c->epoch_valid = false;
}

static void
cubic_epoch_start(struct tcp_cc_state *st, uint64_t now_us)
{
	struct tcp_cc_cubic *c = &st->priv.cubic;
	double cwnd = st->cwnd;

	c->epoch_valid = true;
	c->epoch_start_us = now_us;
	c->w_est = cwnd;
	c->frac = 0;
	/* Above the old maximum (or after a timeout, §4.8) there is no
	 * plateau to approach: start the convex part right here. */
	if (c->after_rto || c->w_max <= cwnd) {
		c->w_max = cwnd;
		c->k_s = 0;
	} else {
		c->k_s = cbrt((c->w_max - cwnd) / st->smss / CUBIC_C);
	}
	c->after_rto = false;
}

static void
cubic_avoid(struct tcp_cc_state *st, const struct tcp_cc_ack *ack)
{
	struct tcp_cc_cubic *c = &st->priv.cubic;
	double smss = st->smss;
	double cwnd = st->cwnd;
	double t, w_t, target, alpha, next;

	if (!c->epoch_valid)
		cubic_epoch_start(st, ack->now_us);
	t = ack->now_us > c->epoch_start_us
		? (double)(ack->now_us - c->epoch_start_us) / 1e6 : 0.0;

	w_t = cubic_window(c, smss, t);
	/* §4.2: aim at where the curve will be one RTT from now, but never
	 * shrink and never more than 1.5x in one step. */
	target = cubic_window(c, smss, t + ack->srtt_us / 1e6);
	if (target < cwnd)
		target = cwnd;
	else if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;

	alpha = c->w_est >= c->cwnd_prior ? 1.0 : CUBIC_ALPHA;
	c->w_est += alpha * ack->acked_bytes * smss / cwnd;

	if (w_t < c->w_est) {
		/* Reno-friendly region, §4.3. */
		next = c->w_est > cwnd ? floor(c->w_est) : cwnd;
		c->frac = 0;
	} else {
		/* Concave (§4.4) or convex (§4.5) region. */
		double inc = (target - cwnd) * ack->acked_bytes / cwnd;
		double whole;

		inc += c->frac;
		whole = floor(inc);

		c->frac = inc - whole;
		next = cwnd + whole;
	}
	st->cwnd = next > TCP_CC_CWND_MAX ? TCP_CC_CWND_MAX : (uint32_t)next;
}

static void
cubic_init(struct tcp_cc_state *st, uint64_t now_us)
{
	(void)now_us;
	st->cwnd = tcp_cc_initial_window(st->smss);
	st->ssthresh = TCP_CC_SSTHRESH_INFINITE;
	memset(&st->priv.cubic, 0, sizeof(st->priv.cubic));
}

static void
cubic_ack_received(struct tcp_cc_state *st, const struct tcp_cc_ack *ack)
{
	if (!tcp_cc_newreno_cwnd_limited(st, ack->flight_before))
		return;
	if (st->cwnd < st->ssthresh) {
		tcp_cc_newreno_slow_start(st, ack->acked_bytes);
		return;
	}
	cubic_avoid(st, ack);
}

static void
cubic_enter_recovery(struct tcp_cc_state *st, uint32_t flight, uint64_t now_us)
{
	(void)now_us;
	cubic_reduce(st, flight);
	tcp_cc_newreno_recovery_window(st);
}

static void
cubic_rto_timeout(struct tcp_cc_state *st, uint32_t flight, uint64_t now_us)
{
	(void)now_us;
	cubic_reduce(st, flight);
	st->cwnd = st->smss;	/* RFC 5681 loss window, §4.8 */
	st->priv.cubic.after_rto = true;
}

static void
cubic_after_idle(struct tcp_cc_state *st)
{
	tcp_cc_newreno_after_idle(st);
	/* The curve is a function of time: continuing the old epoch would
	 * treat the idle period as time spent growing. */
	st->priv.cubic.epoch_valid = false;
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.ack_received = cubic_ack_received,
	.enter_recovery = cubic_enter_recovery,
	.dupack_in_recovery = tcp_cc_newreno_dupack_in_recovery,
	.partial_ack = tcp_cc_newreno_partial_ack,
	.exit_recovery = tcp_cc_newreno_exit_recovery,
	.rto_timeout = cubic_rto_timeout,
	.after_idle = cubic_after_idle,
};
