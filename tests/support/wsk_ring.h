/*
 * One wskapi client "wc" on the client engine of the two-engine fixture
 * (tcp_pair.h) and one completion ring "cq", with the helpers the wskapi
 * suites share to post requests to cq and take completions from it. The
 * suites whose server side is the TCP engine itself use this alone;
 * wsk_pair.h adds a second client on the server engine.
 */
#ifndef WSKDP_WSK_RING_H
#define WSKDP_WSK_RING_H

#include <stdint.h>

#include "tcp_pair.h"
#include "wsk.h"

extern struct wsk_client *wc;
extern struct wsk_cq *cq;

/* After setup_pair(): wc on the client engine (max_sockets,
 * max_requests) and cq (cq_entries); the test fails if either cannot be
 * made. */
void wsk_client_start(unsigned max_sockets, unsigned max_requests,
		      unsigned cq_entries);
/* Destroy wc (its pending requests post to cq; NULL already is fine),
 * then free cq. */
void wsk_client_stop(void);

/* A request on cq. */
struct wsk_request rq(uint64_t user_data);
/* Take the one completion that must be waiting. */
struct wsk_completion reap_one(void);
/* Take the oldest completion (one must be waiting). */
struct wsk_completion reap_first(void);
void expect_nothing_posted(void);

/* One pass of 1 ms of both engines, the wskapi clients left to their
 * upcalls (no wsk_client_poll()). */
void step_engines(void);
/* step_engines(), then wsk_client_poll(wc). */
void step_wc(void);
/* Run pass() until n completions wait, at most max_passes times; exactly
 * n must then wait. */
void wait_n_by(unsigned n, void (*pass)(void), unsigned max_passes);
/* wait_n_by(1, ...), and take that completion. */
struct wsk_completion wait_one_by(void (*pass)(void), unsigned max_passes);

/* Close so; the close must complete at once (user_data 99). */
void close_sock(WSK_SOCKET *so);
/* Enable the events of mask on so (SO_WSK_EVENT_CALLBACK): the status. */
NTSTATUS enable_events(WSK_SOCKET *so, uint32_t mask);

#endif
