/*
 * What the TCP input files share (tcp_input.c: validation, lookup and
 * the states with a connection; tcp_input_listen.c: LISTEN, SYN cookies
 * and segments to no connection). Not for anything outside TCP input.
 */
#ifndef WSKDP_TCP_INPUT_H
#define WSKDP_TCP_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_tcp.h>

#include "tcp_var.h"

/* The segment being processed travels in one struct tcp_seg. */
struct tcp_seg {
	struct shard *s;
	struct shard_port *sp;
	struct rte_mbuf *m;		/* payload only; NULL once consumed */
	struct tcp_key key;		/* as seen locally */
	hash_sig_t hash;		/* tcp_key_hash(&key) */
	uint32_t seq;
	uint32_t ack;
	uint32_t len;			/* payload bytes */
	uint16_t wnd;			/* raw window field */
	uint8_t flags;
	struct tcp_opts opts;
};

#define SEG_HAS(seg, f) (((seg)->flags & RTE_TCP_##f##_FLAG) != 0)

/* RFC 9293 §3.10.7.1: the reset answering a segment that has no
 * connection (or whose ACK is unacceptable before synchronization).
 * Never answers a RST. */
void tcp_in_respond_reset(struct tcp_seg *seg);
/* Keep the first 'n' payload bytes, drop the rest. */
void tcp_in_seg_trim_back(struct tcp_seg *seg, uint32_t n);
/* Take the SYN's options (passive: as the answer to the peer's SYN). */
void tcp_in_syn_options(struct tcp_conn *c, const struct tcp_seg *seg,
			bool passive);
/* Synchronized states and SYN-RECEIVED (RFC 9293 §3.10.7.4). */
void tcp_in_synchronized(struct tcp_conn *c, struct tcp_seg *seg);
/* No connection: a listener, or RFC 9293 §3.10.7.1 CLOSED. */
void tcp_in_no_conn(struct tcp_shard *ts, struct tcp_seg *seg);

#endif
