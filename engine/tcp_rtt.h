/*
 * TCP retransmission timer value (RFC 6298).
 *
 * The model. One struct tcp_rtt per connection turns round-trip samples
 * into the retransmission timeout:
 *
 *   first sample R:    SRTT = R, RTTVAR = R / 2
 *   later samples R:   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|
 *                      SRTT   = 7/8 SRTT   + 1/8 R
 *   RTO = SRTT + max(G, 4 RTTVAR), clamped to [min_rto, max_rto]
 *
 * Before the first sample the RTO is the configured initial value (RFC 6298
 * says 1 s). Each expiry of the timer doubles the RTO (exponential backoff,
 * RFC 6298 §5.5) up to max_rto; the backoff is kept as a shift beside the
 * computed RTO so that a new sample can simply drop it (the note after
 * rule 5.7: a new measurement recomputes the RTO, "collapsing" it).
 *
 * Karn's rule is the caller's job: never pass a sample measured on a
 * segment that was retransmitted, unless the echo of a timestamp proves
 * which transmission it acknowledges (RFC 7323 §4).
 *
 * All values are microseconds in integer arithmetic: 1 µs is finer than any
 * clock granularity the engine uses, so the truncation of the 1/8 and 1/4
 * steps is immaterial, and integers keep a run bit-for-bit repeatable.
 */
#ifndef WSKDP_TCP_RTT_H
#define WSKDP_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 6298 §5.7: the RTO to use after a SYN timed out, absent a sample. */
#define TCP_RTT_SYN_TIMEOUT_RTO_US 3000000u

struct tcp_rtt {
	uint32_t srtt_us;	/* smoothed RTT, valid when has_sample */
	uint32_t rttvar_us;	/* RTT variation, valid when has_sample */
	uint32_t rto_us;	/* RTO before backoff, already clamped */
	uint32_t min_rto_us;
	uint32_t max_rto_us;
	uint32_t granularity_us; /* G: clock granularity */
	uint8_t backoff;	/* RTO = rto_us << backoff, capped at max */
	bool has_sample;
};

/*
 * Start the estimator of a new connection.
 *
 * @param r              the estimator to initialise
 * @param initial_rto_us RTO before any sample (RFC 6298: 1 s)
 * @param min_rto_us     lower clamp of the RTO (RFC 6298: 1 s; a lower
 *                       value is a deliberate choice for LAN load tests)
 * @param max_rto_us     upper clamp, also the ceiling of the backoff
 *                       (RFC 6298: at least 60 s); if it is below
 *                       min_rto_us the maximum wins
 * @param granularity_us G, the clock granularity (>= 1 makes sense)
 */
void tcp_rtt_init(struct tcp_rtt *r, uint32_t initial_rto_us,
		  uint32_t min_rto_us, uint32_t max_rto_us,
		  uint32_t granularity_us);

/*
 * Feed one round-trip measurement and recompute the RTO; clears the backoff.
 * The caller applies Karn's rule (see the top of this file).
 *
 * @param r       the estimator
 * @param rtt_us  the measured round-trip time; 0 is accepted (a LAN RTT
 *                below the clock resolution) and treated as such
 */
void tcp_rtt_sample(struct tcp_rtt *r, uint32_t rtt_us);

/*
 * The retransmission timer expired: double the RTO (RFC 6298 §5.5) until
 * it reaches max_rto_us; further calls leave it at the maximum.
 *
 * @param r  the estimator
 */
void tcp_rtt_backoff(struct tcp_rtt *r);

/*
 * @param r  the estimator
 * @return the RTO to arm the retransmission timer with, in microseconds:
 *         the computed RTO times 2^backoff, at most max_rto_us.
 */
uint32_t tcp_rtt_rto(const struct tcp_rtt *r);

/*
 * RFC 6298 §5.7: the SYN (or SYN-ACK) timed out and the handshake has now
 * completed. If no RTT sample exists (Karn's rule forbids one from a
 * retransmitted SYN unless timestamps supplied it) and the RTO is below
 * 3 s, the RTO becomes 3 s, still within [min, max]; the backoff of the
 * handshake is cleared either way, since data transmission starts afresh.
 * With a sample the computed RTO stands.
 *
 * @param r  the estimator
 */
void tcp_rtt_syn_timeout(struct tcp_rtt *r);

#endif
