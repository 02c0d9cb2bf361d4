/*
 * Two wskapi clients talking over the two-engine fixture (tcp_pair.h) on
 * the virtual clock: "wc" on the client engine (10.0.0.1), "ws" on the
 * server engine (10.0.0.2), both posting to one completion ring "cq",
 * told apart by user_data. The teardown destroys both clients, waits out
 * TIME_WAIT and proves no connection and no mbuf was left behind. Shared
 * by the wskapi suites that need both ends to be wskapi sockets.
 */
#ifndef WSKDP_WSK_PAIR_H
#define WSKDP_WSK_PAIR_H

#include <stdint.h>
#include <netinet/in.h>

#include "tcp_pair.h"
#include "wsk.h"

extern struct wsk_client *wc, *ws;
extern struct wsk_cq *cq;
/* SERVER_IP:SERVER_PORT, and 0.0.0.0:0 (bind anywhere). */
extern struct sockaddr_in server_addr, any_addr;

/* The checked fixture: both engines (setup_pair()), then wc and ws (16
 * sockets, 64 requests each) and cq (128 entries). */
void wsk_pair_setup(void);
void wsk_pair_teardown(void);
/* Advance both clocks by 'us', polling each engine and then its client. */
void wsk_advance(uint64_t us);
/* n passes of 1 ms. */
void wsk_poll(unsigned n);

/* A request on cq. */
struct wsk_request rq(uint64_t user_data);
/* Take the one completion that must be waiting. */
struct wsk_completion reap_one(void);
/* Take the oldest completion (one must be waiting). */
struct wsk_completion reap_first(void);
/* Of exactly two waiting completions, return the one with user_data ud
 * (both are consumed). */
struct wsk_completion reap_one_of_two(uint64_t ud);
void expect_nothing_posted(void);
/* Poll until n completions wait (at most 300 passes); exactly n must. */
void wait_n(unsigned n);
struct wsk_completion wait_one(void);

/* A socket of client c (its creation reaped). */
WSK_SOCKET *mk_sock(struct wsk_client *c, uint32_t flags, void *ctx,
		    const void *disp);
/* Close it; the close must complete at once (user_data 99). */
void close_sock(WSK_SOCKET *so);
/* A stream socket of ws (context 0x11) listening on SERVER_PORT. */
WSK_SOCKET *listener(const void *disp);
/* A connection socket of wc (context 0x22), connect to the server
 * accepted with user_data ud (the handshake may still be running). */
WSK_SOCKET *start_connect(const void *disp, uint64_t ud);
/* A connected pair: *client from wc (dispatch cdisp), the returned server
 * socket from ws (context 0x33, dispatch sdisp). The listener is closed,
 * or left open in *lis_out when that is not NULL. */
WSK_SOCKET *pair(WSK_SOCKET **client, const void *cdisp, const void *sdisp,
		 WSK_SOCKET **lis_out);
/* The same on a listener already there (from listener() or pair()'s
 * lis_out), which stays open. */
WSK_SOCKET *pair_on(WSK_SOCKET *lis, WSK_SOCKET **client, const void *cdisp,
		    const void *sdisp);
/* Send len bytes at data (which must stay valid until the completion). */
NTSTATUS send_bytes(WSK_SOCKET *so, const void *data, size_t len,
		    uint64_t ud);
/* Enable the events of mask on so (SO_WSK_EVENT_CALLBACK). */
NTSTATUS enable_events(WSK_SOCKET *so, uint32_t mask);

#endif
