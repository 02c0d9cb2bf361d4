/*
 * Two wskapi clients talking over the two-engine fixture (tcp_pair.h) on
 * the virtual clock: "wc" on the client engine (10.0.0.1, wsk_ring.h),
 * "ws" on the server engine (10.0.0.2), both posting to one completion
 * ring "cq" (wsk_ring.h), told apart by user_data. The teardown destroys
 * both clients, waits out TIME_WAIT and proves no connection and no mbuf
 * was left behind. Shared by the wskapi suites that need both ends to be
 * wskapi sockets.
 */
#ifndef WSKDP_WSK_PAIR_H
#define WSKDP_WSK_PAIR_H

#include <stdint.h>
#include <netinet/in.h>

#include "tcp_pair.h"
#include "wsk.h"
#include "wsk_ring.h"

extern struct wsk_client *ws;
/* SERVER_IP:SERVER_PORT, and 0.0.0.0:0 (bind anywhere). */
extern struct sockaddr_in server_addr, any_addr;

/* The checked fixture: both engines (setup_pair()), then wc and ws (16
 * sockets, 64 requests each) and cq (128 entries). */
void wsk_pair_setup(void);
/* The same with other sizes: wc (wc_sockets, wc_requests), ws
 * (ws_sockets, ws_requests), cq (cq_entries). */
void wsk_pair_setup_sized(unsigned wc_sockets, unsigned wc_requests,
			  unsigned ws_sockets, unsigned ws_requests,
			  unsigned cq_entries);
void wsk_pair_teardown(void);
/* Advance both clocks by 'us', polling each engine and then its client. */
void wsk_advance(uint64_t us);
/* n passes of 1 ms. */
void wsk_poll(unsigned n);

/* Of exactly two waiting completions, return the one with user_data ud
 * (both are consumed). */
struct wsk_completion reap_one_of_two(uint64_t ud);
/* Poll until n completions wait (at most 300 passes of wsk_poll(1));
 * exactly n must. */
void wait_n(unsigned n);
struct wsk_completion wait_one(void);

/* A socket of client c (its creation reaped). */
WSK_SOCKET *mk_sock(struct wsk_client *c, uint32_t flags, void *ctx,
		    const void *disp);
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

#endif
