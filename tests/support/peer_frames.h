/*
 * A handcrafted peer (10.0.0.9) talking to the server engine of
 * tcp_pair.h's single-engine set-up (setup_single()): TCP frames built
 * byte by byte from the peer to the server, injected and processed at
 * once. Shared by the suites that play the other end themselves.
 */
#ifndef WSKDP_PEER_FRAMES_H
#define WSKDP_PEER_FRAMES_H

#include <stdint.h>
#include <rte_ether.h>

#include "frames.h"

#define PEER_IP "10.0.0.9"

extern const struct rte_ether_addr srv_mac, peer_mac, bcast, zero_mac;
/* The frame the tests build and inject(). */
extern uint8_t fbuf[FRAME_MAX];

/* Build an Ethernet + IPv4 + TCP frame from the peer to the server into
 * buf (opt: olen option bytes, a multiple of 4); returns its length. */
unsigned frame_tcp(uint8_t *buf, uint16_t sport, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
		   const uint8_t *opt, unsigned olen, const void *payload,
		   unsigned plen);
/* Hand the server the first len bytes of fbuf and poll it once. */
void inject(unsigned len);
/* Teach the server the peer's MAC (an ARP request from the peer; the
 * reply is dropped) so replies leave at once. */
void learn_peer(void);

#endif
