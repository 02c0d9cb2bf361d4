/*
 * NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast
 * recovery (or RFC 6675's when SACK is on, see tcp_cc.h).
 *
 * Congestion avoidance counts bytes (RFC 5681 §3.1, RFC 3465): once the
 * bytes acknowledged reach cwnd, cwnd grows by one SMSS, i.e. one SMSS per
 * round trip whatever the receiver's ACK pattern.
 *
 * The algorithm registry lives here too: NewReno is the default, the
 * module every other algorithm borrows from.
 */
#include <string.h>

#include "tcp_cc.h"

static uint32_t
cwnd_add(uint32_t cwnd, uint32_t bytes)
{
	uint64_t sum = (uint64_t)cwnd + bytes;

	return sum > TCP_CC_CWND_MAX ? TCP_CC_CWND_MAX : (uint32_t)sum;
}

/* RFC 5681 equation (4): max(FlightSize / 2, 2 * SMSS). */
static uint32_t
half_flight(const struct tcp_cc_state *st, uint32_t flight)
{
	uint32_t half = flight / 2;

	return half > 2 * st->smss ? half : 2 * st->smss;
}

bool
tcp_cc_newreno_cwnd_limited(const struct tcp_cc_state *st,
			    uint32_t flight_before)
{
	return (uint64_t)flight_before + st->smss > st->cwnd;
}

void
tcp_cc_newreno_slow_start(struct tcp_cc_state *st, uint32_t acked_bytes)
{
	uint32_t limit = TCP_CC_ABC_LIMIT_SEGMENTS * st->smss;

	if (acked_bytes > limit)
		acked_bytes = limit;
	st->cwnd = cwnd_add(st->cwnd, acked_bytes);
}

void
tcp_cc_newreno_recovery_window(struct tcp_cc_state *st)
{
	st->cwnd = st->sack ? st->ssthresh
			    : cwnd_add(st->ssthresh, 3 * st->smss);
}

void
tcp_cc_newreno_dupack_in_recovery(struct tcp_cc_state *st)
{
	/* With SACK the sender's pipe already shrinks as SACKs arrive;
	 * inflating cwnd as well would count each departure twice. */
	if (!st->sack)
		st->cwnd = cwnd_add(st->cwnd, st->smss);
}

void
tcp_cc_newreno_partial_ack(struct tcp_cc_state *st, uint32_t acked_bytes)
{
	if (st->sack)
		return;
	/* RFC 6582 step 5: deflate by what left the network, then add one
	 * SMSS back for the retransmission the partial ACK triggers. */
	st->cwnd = st->cwnd > acked_bytes ? st->cwnd - acked_bytes : 0;
	if (acked_bytes >= st->smss)
		st->cwnd = cwnd_add(st->cwnd, st->smss);
	if (st->cwnd < st->smss)
		st->cwnd = st->smss;
}

void
tcp_cc_newreno_exit_recovery(struct tcp_cc_state *st, uint32_t flight)
{
	uint32_t base = flight > st->smss ? flight : st->smss;
	uint64_t w = (uint64_t)base + st->smss;

	st->cwnd = w < st->ssthresh ? (uint32_t)w : st->ssthresh;
	st->bytes_acked = 0;
}

void
tcp_cc_newreno_after_idle(struct tcp_cc_state *st)
{
	uint32_t iw = tcp_cc_initial_window(st->smss);

	if (st->cwnd > iw)
		st->cwnd = iw;
	st->bytes_acked = 0;
}

static void
newreno_init(struct tcp_cc_state *st, uint64_t now_us)
{
	(void)now_us;
	st->cwnd = tcp_cc_initial_window(st->smss);
	st->ssthresh = TCP_CC_SSTHRESH_INFINITE;
}

static void
newreno_ack_received(struct tcp_cc_state *st, const struct tcp_cc_ack *ack)
{
	if (!tcp_cc_newreno_cwnd_limited(st, ack->flight_before))
		return;
	if (st->cwnd < st->ssthresh) {
		tcp_cc_newreno_slow_start(st, ack->acked_bytes);
		return;
	}
	st->bytes_acked += ack->acked_bytes;
	if (st->bytes_acked >= st->cwnd) {
		st->bytes_acked -= st->cwnd;
		st->cwnd = cwnd_add(st->cwnd, st->smss);
	}
}

static void
newreno_enter_recovery(struct tcp_cc_state *st, uint32_t flight,
		       uint64_t now_us)
{
	(void)now_us;
	st->ssthresh = half_flight(st, flight);
	st->bytes_acked = 0;
	tcp_cc_newreno_recovery_window(st);
}

static void
newreno_rto_timeout(struct tcp_cc_state *st, uint32_t flight, uint64_t now_us)
{
	(void)now_us;
	st->ssthresh = half_flight(st, flight);
	st->cwnd = st->smss;	/* RFC 5681 loss window */
	st->bytes_acked = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.ack_received = newreno_ack_received,
	.enter_recovery = newreno_enter_recovery,
	.dupack_in_recovery = tcp_cc_newreno_dupack_in_recovery,
	.partial_ack = tcp_cc_newreno_partial_ack,
	.exit_recovery = tcp_cc_newreno_exit_recovery,
	.rto_timeout = newreno_rto_timeout,
	.after_idle = tcp_cc_newreno_after_idle,
};

const struct tcp_cc_ops *
tcp_cc_find(const char *name)
{
	static const struct tcp_cc_ops *const all[] = {
		&tcp_cc_newreno,
		&tcp_cc_cubic,
	};
	unsigned i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
