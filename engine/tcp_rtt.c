#include "tcp_rtt.h"

/* Doubling past 2^31 would overflow even a 64-bit product of a 32-bit RTO;
 * the maximum is reached long before, this only bounds the shift. */
#define TCP_RTT_MAX_BACKOFF 31

static uint32_t
clamp_rto(const struct tcp_rtt *r, uint64_t rto)
{
	if (rto < r->min_rto_us)
		rto = r->min_rto_us;
	if (rto > r->max_rto_us)
		rto = r->max_rto_us;
	return (uint32_t)rto;
}

void
tcp_rtt_init(struct tcp_rtt *r, uint32_t initial_rto_us, uint32_t min_rto_us,
	     uint32_t max_rto_us, uint32_t granularity_us)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->min_rto_us = min_rto_us;
	r->max_rto_us = max_rto_us;
	r->granularity_us = granularity_us;
	r->backoff = 0;
	r->has_sample = false;
	r->rto_us = clamp_rto(r, initial_rto_us);
}

void
tcp_rtt_sample(struct tcp_rtt *r, uint32_t rtt_us)
{
	uint64_t var4;

	if (!r->has_sample) {
		r->srtt_us = rtt_us;
		r->rttvar_us = rtt_us / 2;
		r->has_sample = true;
	} else {
		/* RTTVAR first: RFC 6298 §2.3 updates it with the old SRTT. */
		uint32_t delta = r->srtt_us > rtt_us ? r->srtt_us - rtt_us
						     : rtt_us - r->srtt_us;
		r->rttvar_us = (uint32_t)((3ull * r->rttvar_us + delta) / 4);
		r->srtt_us = (uint32_t)((7ull * r->srtt_us + rtt_us) / 8);
	}
	var4 = 4ull * r->rttvar_us;
	if (var4 < r->granularity_us)
		var4 = r->granularity_us;
	r->rto_us = clamp_rto(r, r->srtt_us + var4);
	r->backoff = 0;
}

void
tcp_rtt_backoff(struct tcp_rtt *r)
{
	if (r->backoff < TCP_RTT_MAX_BACKOFF &&
	    ((uint64_t)r->rto_us << r->backoff) < r->max_rto_us)
		r->backoff++;
}

uint32_t
tcp_rtt_rto(const struct tcp_rtt *r)
{
	uint64_t rto = (uint64_t)r->rto_us << r->backoff;

	return rto > r->max_rto_us ? r->max_rto_us : (uint32_t)rto;
}

void
tcp_rtt_syn_timeout(struct tcp_rtt *r)
{
	if (!r->has_sample && r->rto_us < TCP_RTT_SYN_TIMEOUT_RTO_US)
		r->rto_us = clamp_rto(r, TCP_RTT_SYN_TIMEOUT_RTO_US);
	r->backoff = 0;
}
