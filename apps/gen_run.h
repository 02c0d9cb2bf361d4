/*
 * wskdp-gen's workers: one per engine shard, each a client or a server of
 * the traffic a struct gen_config describes, talking to the engine only
 * through wskapi (wsk.h).
 *
 * A worker owns everything it touches on its lcore: its wskapi client and
 * completion ring, a fixed array of connection slots (one per connection
 * open at once, allocated at creation) and its struct gen_results. Its
 * pass, gen_worker_poll(), polls the shard, runs the wskapi client's part
 * of the pass, reaps completions and opens connections as the load asks;
 * nothing on it allocates, locks or makes a system call.
 *
 * Client connection: socket -> events (receive, disconnect, send backlog)
 * -> options (SO_REUSEADDR, TCP_NODELAY, TCP_FASTOPEN with --tfo) -> bind
 * to the next local address and port -> connect_ex carrying the first
 * 64 KB of the request (in the SYN with a Fast Open cookie) -> the rest of
 * the request by send -> the response counted by the receive event (its
 * size, or until the server's FIN) -> the next request (keep-alive) or
 * the close: graceful (disconnect, then close_socket once our FIN is
 * acknowledged and the server's FIN received) or abortive (disconnect with
 * WSK_FLAG_ABORTIVE). The send backlog event, raised at the handshake,
 * times the connect latency.
 *
 * Server connection: accepted by the listener's accept event; every
 * server.request_bytes received are answered with reply_size bytes (or the
 * reply file); when the client's FIN arrives and the answers are sent,
 * graceful disconnect, then close_socket once it is acknowledged. With
 * close_first the server disconnects after its first answer.
 *
 * Time: each worker reads the TSC once per pass, in microseconds since a
 * start time shared by every worker of the run (gen_run_clock).
 */
#ifndef WSKDP_GEN_RUN_H
#define WSKDP_GEN_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "gen_profile.h"
#include "gen_results.h"
#include "wsk.h"

struct engine;
struct shard;

enum gen_role {
	GEN_ROLE_CLIENT,
	GEN_ROLE_SERVER,
};

/* Largest piece of a message one wskapi call carries. */
#define GEN_CHUNK 65535u
/* Sends in flight per connection (each holds its own WSK_BUF). */
#define GEN_SENDS_INFLIGHT 16
/* Listening ports per server worker. */
#define GEN_MAX_LISTENERS 64
/* How long a run waits for its open connections after the load stops. */
#define GEN_DRAIN_US UINT64_C(3000000)

/* One connection slot. */
struct gen_conn {
	WSK_SOCKET *so;
	struct gen_worker *w;
	uint32_t idx;
	uint32_t next_free;
	uint8_t state;			/* enum gen_conn_state (gen_run.c) */
	bool handshake;			/* send backlog event seen */
	bool fin_rx;			/* the peer's FIN arrived */
	bool disc_sent;			/* our disconnect was issued */
	bool disc_done;			/* ... and completed */
	bool close_sent;
	bool failed;
	bool got_first_byte;
	bool connect_done;		/* client: connect_ex completed */
	bool want_finish;		/* client: every response is in */
	uint16_t slots_busy;		/* bit i: buf[i] is a send in flight */
	uint64_t t_start;		/* connect issued (us) */
	uint64_t t_req;			/* current request sent (us) */
	uint64_t tx_left;		/* bytes of the current message to send */
	uint64_t tx_pos;		/* offset in the current message */
	uint64_t rx_left;		/* client: response bytes still expected */
	uint64_t rx_acc;		/* server: bytes of the current request */
	uint64_t owed;			/* server: answers still to send */
	uint64_t requests;		/* client: requests completed */
	/* Last, and not cleared by gen_conn_alloc(): a slot is read only
	 * while its bit in slots_busy is set, and most connections use one
	 * of the sixteen, so a new connection writes two lines, not fourteen. */
	struct wsk_mdl mdl[GEN_SENDS_INFLIGHT];
	WSK_BUF buf[GEN_SENDS_INFLIGHT];
};
_Static_assert(GEN_SENDS_INFLIGHT <= 16, "slots_busy has a bit per send slot");

/* A message: what one request or answer sends. */
struct gen_msg {
	const uint8_t *data;		/* the file's bytes, or a pattern */
	uint64_t data_len;		/* bytes at data (pattern: GEN_CHUNK) */
	uint64_t len;			/* bytes of one message; UINT64_MAX: bulk */
};

struct gen_worker {
	enum gen_role role;
	const struct gen_config *cfg;
	struct shard *shard;
	uint16_t port_index;		/* engine port */
	struct wsk_client *wc;
	bool msg_zero_copy;		/* msg.data is registered memory */
	uint32_t msg_mem;		/* its handle */
	struct wsk_cq *cq;
	struct gen_conn *conns;
	uint32_t nb_conns;
	uint32_t free_head;		/* UINT32_MAX: none */
	uint32_t active;		/* slots in use */
	struct gen_results res;
	struct gen_msg msg;
	uint64_t now_us;
	uint64_t tsc_start;
	uint64_t us_factor;		/* engine_tsc_us_factor() of the TSC */

	/* Client load. */
	uint64_t budget;		/* connections this worker may open */
	uint64_t opened;		/* connects accepted (attempted) */
	uint64_t rate_cps;		/* this worker's share; 0: concurrency */
	uint64_t rate_start_us;
	uint32_t target_open;		/* concurrency share */
	bool stopping;			/* no new connections */
	uint64_t stop_at_us;		/* duration end; 0: none */
	uint64_t drain_until_us;
	bool done;			/* stopped and drained */
	/* Tuple iteration: server port fastest, then server, local port,
	 * local address. */
	uint64_t tuple_next;
	uint32_t default_laddr;		/* the port's first address, host order */
	uint64_t tuple_count;
	uint64_t tuple_skips;		/* 4-tuples still in use, skipped */
	/* RSS: only source ports that hash to this worker's queue. */
	const uint8_t *rss_key;		/* NULL: every port is ours */
	const uint16_t *reta;		/* queue of each RETA entry */
	uint32_t reta_size;
	uint16_t queue;

	/* Server. */
	WSK_SOCKET *listeners[GEN_MAX_LISTENERS];
	unsigned nb_listeners;
	uint64_t refused;		/* accepts refused: no free slot */

	/* Live statistics, published once a second for another thread. */
	uint64_t next_tick_us;
	struct gen_hist_summary *live_lat;	/* per sample: complete latency */
	_Atomic size_t published;	/* timeline samples readable */
	_Atomic bool finished;		/* gen_worker_finish is done */
};

/* Microseconds per TSC tick base shared by the workers of one run. */
struct gen_run_clock {
	uint64_t tsc_start;
	uint64_t us_factor;		/* engine_tsc_us_factor() of the TSC */
};

/*
 * Create a worker on one shard (its engine started, TCP enabled).
 * @param w          the worker to fill.
 * @param role       client or server.
 * @param cfg        the run's configuration (kept, not copied).
 * @param s          the shard.
 * @param port_index the engine port the connections use.
 * @param share      which share of the load this worker takes: index
 *                   and count of the client workers (rate, concurrency and
 *                   connection counts are divided among them).
 * @param msg        the request (client) or the answer (server).
 * @param clk        the run's time base.
 * @return 0; -ENOMEM; -EINVAL (wskapi refused the client or a listener:
 *         a message is printed).
 */
int gen_worker_init(struct gen_worker *w, enum gen_role role,
		    const struct gen_config *cfg, struct shard *s,
		    uint16_t port_index, unsigned share, unsigned shares,
		    const struct gen_msg *msg, const struct gen_run_clock *clk);

/* Restrict a client worker's source ports to those whose Toeplitz hash of
 * (server, source, ports) lands in 'queue' of 'reta' (reta_size entries)
 * with the 40-byte 'key'. Kept by reference. Cannot fail. */
void gen_worker_set_rss(struct gen_worker *w, const uint8_t *key,
			const uint16_t *reta, uint32_t reta_size,
			uint16_t queue);

/* Would the server's answers on this 4-tuple (host order; la 0: the
 * worker's default address) reach the worker's queue? Always true without
 * gen_worker_set_rss(). Cannot fail. */
bool gen_client_rss_ours(const struct gen_worker *w, uint32_t la, uint16_t lp,
			 uint32_t ra, uint16_t rp);

/* One pass: poll the shard and the wskapi client, reap completions, open
 * connections, tick the timeline once a second. Returns true while the
 * worker has work left (a server never finishes by itself). */
bool gen_worker_poll(struct gen_worker *w);

/* Stop opening connections now; open ones get GEN_DRAIN_US to finish. */
void gen_worker_stop(struct gen_worker *w);

/* After the last pass: abort what is still open (counted as timed out),
 * close the listeners, and wait (polling) until wskapi gave every socket
 * back. Cannot fail. */
void gen_worker_finish(struct gen_worker *w);

/* Free the worker's wskapi client, ring, slots and results. */
void gen_worker_fini(struct gen_worker *w);

/* The TCP counters of the worker's shard copied into its results
 * (retransmits, bad segments, Fast Open). Cannot fail. */
void gen_worker_collect_tcp(struct gen_worker *w);

/*
 * Internal to gen_run.c, gen_client.c and gen_server.c.
 */

/* user_data of a request: slot index << 8 | one of these. */
enum gen_op {
	GEN_OP_IGNORE,		/* socket, bind, listen: nothing to do */
	GEN_OP_CONNECT,
	GEN_OP_SEND,
	GEN_OP_DISCONNECT,
	GEN_OP_CLOSE,
	GEN_OP_CLOSE_LISTENER,
};

enum gen_conn_state {
	GEN_CONN_FREE,
	GEN_CONN_OPEN,		/* connecting or connected */
	GEN_CONN_CLOSING,	/* close_socket issued */
};

static inline struct wsk_request
gen_req(struct gen_worker *w, const struct gen_conn *c, enum gen_op op)
{
	return (struct wsk_request){ .cq = w->cq,
		.user_data = ((uint64_t)(c != NULL ? c->idx : UINT32_MAX) << 8) | op };
}

/* A free slot, zeroed but for its identity; NULL when all are in use. */
struct gen_conn *gen_conn_alloc(struct gen_worker *w);
/* Start sending a message of 'len' bytes on c (sends in flight are
 * topped up as they complete). */
void gen_conn_start_message(struct gen_conn *c, uint64_t len, uint64_t skip);
/* Top up c's sends in flight. */
void gen_conn_send_more(struct gen_conn *c);
/* Issue a graceful disconnect once (after the queued sends). */
void gen_conn_disconnect(struct gen_conn *c);
/* Count c as failed once ('status' tells reset and timeout apart) and
 * close its socket. */
void gen_conn_fail(struct gen_conn *c, NTSTATUS status);
/* Issue close_socket once; the slot is freed at its completion. */
void gen_conn_close(struct gen_conn *c);

/* Role hooks. */
void gen_client_open_more(struct gen_worker *w);
void gen_client_completion(struct gen_conn *c, enum gen_op op, NTSTATUS st,
			   uint64_t info);
void gen_client_sent_all(struct gen_conn *c);
extern const WSK_CLIENT_CONNECTION_DISPATCH gen_client_dispatch;
int gen_server_listen(struct gen_worker *w);
void gen_server_completion(struct gen_conn *c, enum gen_op op, NTSTATUS st,
			   uint64_t info);
void gen_server_sent_all(struct gen_conn *c);

/* Read the run clock (microseconds since clk->tsc_start). */
uint64_t gen_run_now_us(const struct gen_run_clock *clk);

/* Start a run clock now. */
void gen_run_clock_init(struct gen_run_clock *clk);

#endif
