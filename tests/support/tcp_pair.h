/*
 * Two TCP engines wired back to back over fake ports on the virtual clock
 * (client 10.0.0.1, server 10.0.0.2), shared by the TCP suites: set-up,
 * teardown with connection and mbuf leak checks, upcall counters, and a
 * verified transfer. Each suite includes this and uses the globals below.
 */
#ifndef WSKDP_TCP_PAIR_H
#define WSKDP_TCP_PAIR_H

#include <stdint.h>
#include <rte_byteorder.h>

#include "engine.h"
#include "fake_port.h"
#include "tcp.h"

#define CLIENT_IP "10.0.0.1"
#define SERVER_IP "10.0.0.2"
#define SERVER_PORT 8080

/* What the upcalls saw for one connection. */
struct tconn {
	struct tcp_conn *c;
	unsigned connected, readable, closed;
	enum tcp_close_reason reason;
	uint64_t acked;
	unsigned fin_acked;	/* acked(c, 0) upcalls */
};

struct tlisten {
	struct tcp_listener *l;
	unsigned ready;
};

extern struct fake_port fpc, fps;
extern struct engine *cli, *srv;
extern struct shard *cs, *ss;
extern struct tcp_conf conf;	/* the suites' TCP configuration */
extern struct tlisten tl;
extern struct tconn tcli, tsrv;

/* The address in network order (the test fails on bad text). */
rte_be32_t ip(const char *s);
/* Enable TCP on the engine with 'conf' and the counting upcalls. */
void enable_tcp(struct engine *e);
/* The checked fixture's set-up: both engines, TCP on, seed 42. */
void setup_pair(void);
/* The server engine alone (seed 7, TCP on, cli and cs NULL): the test
 * plays the peer (peer_frames.h). */
void setup_single(void);
/* Both engines attach every payload to their segments as indirect mbufs,
 * never copying small ones (tcp_conf.tx_copy_max 0): for tests whose
 * wire filters look at (or rebuild) the payload's own mbufs. */
void pair_attach_payloads(void);
/* Advance both clocks by 'us' and poll each engine once. */
void advance(uint64_t us);
/* n passes at the same instant (advance(0)): the clocks do not move. */
void poll_both(unsigned n);
/* Wait out TIME_WAIT, then fail the test on any connection or mbuf left
 * (cli may be NULL for single-engine suites). */
void teardown_common(void);
/* One counter of an engine, by name (the test fails on an unknown name). */
uint64_t pair_stat(struct engine *e, const char *name);
/* The server engine listens on SERVER_PORT in tl (backlog 16); tl's
 * counters and tsrv are cleared for the connection it will accept. */
void server_listen(void);
/* Abort and release tsrv's connection if there is one (tsrv.c NULL
 * then), and close tl's listener. */
void server_close(void);
/* tcli -> listener on SERVER_PORT -> tsrv, both ESTABLISHED. */
void open_pair(void);
/* The same with the client's connection options (NULL: defaults). */
void open_pair_opts(const struct tcp_conn_opts *o);
/* Both sides shut down, handles released, listener closed. */
void close_pair(void);
/* Byte i of the test pattern for 'salt'. */
uint8_t pattern(uint64_t i, uint8_t salt);
/* Send 'total' pattern bytes from a to b, verifying each; returns the
 * number of rounds it took. */
unsigned transfer(struct tcp_conn *a, struct tcp_conn *b, uint32_t total,
		  uint8_t salt, unsigned max_rounds);

#endif
