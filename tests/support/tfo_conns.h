/*
 * The TCP Fast Open suites' connections (test_tcp_tfo.c: two engines;
 * test_tcp_tfo_peer.c: one engine and a handcrafted peer), over the
 * tcp_pair.h set-ups: upcalls that read every byte as it arrives and note
 * the state a connection was accepted and first read in, the server's
 * accepted connections in order (accepted inside accept_ready, as an
 * application answering the SYN's data would: tcp_pair's upcalls only
 * count, and the test accepts later), TCP segments parsed with their
 * options, and the pattern data to send and check.
 */
#ifndef WSKDP_TFO_CONNS_H
#define WSKDP_TFO_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"
#include "tcp_options.h"
#include "tcp_pair.h"

#define CONN_BUF 16384
#define LOG_PAYLOAD 64

/* What one connection saw; every byte that arrives is read at once. */
struct tfo_conn {
	struct tcp_conn *c;
	unsigned connected, closed;
	uint64_t acked;
	enum tcp_state state_at_accept;
	enum tcp_state state_at_first_read;
	int32_t reply_rc;		/* tcp_send() in accept_ready */
	uint32_t got;
	uint8_t data[CONN_BUF];
};

extern struct tfo_conn scon[8];		/* accepted, in order */
extern unsigned nscon;
extern bool reply_on_accept;		/* accepted connections send "ok" */

/* After setup_pair() or setup_single(): the upcalls above on each engine
 * there is, tl and the accepted connections cleared. */
void tfo_conns_start(void);
/* The checked teardown: tl's listener closed if open, then
 * teardown_common()'s leak checks. */
void tfo_teardown(void);

/* One TCP segment as sent. */
struct wire_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t len;			/* payload bytes */
	unsigned olen;			/* option bytes */
	struct tcp_opts opts;
	uint8_t payload[LOG_PAYLOAD];	/* the first bytes */
};

/* Whether an Ethernet frame carries IPv4 TCP. */
bool is_tcp(const uint8_t *f);
/* Parse a TCP frame of pkt_len bytes (the test fails on bad options). */
void parse_frame(const uint8_t *f, uint32_t pkt_len, struct wire_seg *w);

/* len bytes of the pattern for 'salt' in out_data. */
extern uint8_t out_data[CONN_BUF];
const uint8_t *fill(uint32_t len, uint8_t salt);
/* t got exactly len bytes, the pattern for 'salt'. */
void check_data(const struct tfo_conn *t, uint32_t len, uint8_t salt);
/* The server engine listens on SERVER_PORT in tl with Fast Open on. */
void listen_tfo(uint32_t max_pending);

#endif
