/*
 * wskapi internals shared by wsk_socket.c (client, sockets, connect,
 * upcalls), wsk_send.c (send, handing bytes to the connection),
 * wsk_control.c (control_socket), wsk_listen.c (listen, accept, the accept
 * event), wsk_recv.c (receive, the receive event, release),
 * wsk_disconnect.c (disconnect, the disconnect and send-backlog events),
 * wsk_submit.c (the submission ring) and wsk_zerocopy.c (registered
 * memory, zero-copy sends and their release). Not for applications: they
 * include wsk.h.
 *
 * The small request and address helpers are static inline here so that
 * every file shares one definition without exporting unprefixed names.
 */
#ifndef WSKDP_WSK_INTERNAL_H
#define WSKDP_WSK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

struct rte_device;
struct rte_hash;

#include "tcp.h"
#include "wsk.h"

enum sock_state {
	SOCK_FREE,		/* in the pool */
	SOCK_OPEN,		/* created, maybe bound */
	SOCK_LISTENING,
	SOCK_CONNECTING,	/* connect accepted, handshake not done */
	SOCK_CONNECTED,		/* handshake done */
	SOCK_DEAD,		/* the connection failed: FILE_FORCED_CLOSED */
	/* close_socket was called while the application retained receive
	 * indications: everything is torn down but the slot, which waits
	 * for release() to give the last one back (then the close
	 * completes). Closed for every call but release. */
	SOCK_CLOSING,
};

/* An accepted request waiting for its completion. */
struct wsk_req {
	struct wsk_cq *cq;
	uint64_t user_data;
	struct wsk_req *next;
	/* send/receive: the part of the user buffer not yet handled. */
	struct wsk_mdl *mdl;
	size_t offset;
	size_t left;
	size_t length;		/* the whole buffer */
	uint64_t end;		/* send/connect_ex: stream position to ack */
	uint32_t flags;		/* receive: WSK_FLAG_WAITALL / DRAIN */
	size_t done;		/* receive: bytes copied or drained so far */
	/* socket_connect: the completion carries the socket, and a failed
	 * connect frees it (the application never saw it). */
	bool info_socket;
	/* accept: where the new socket's addresses go, and what it gets. */
	struct sockaddr *out_local;
	struct sockaddr *out_remote;
	void *accept_context;
	const WSK_CLIENT_CONNECTION_DISPATCH *accept_dispatch;
	/* Zero-copy send (wsk_zerocopy.c). zc_regions: the region slots
	 * (bits) its segments lie in, counted in their users. Once bytes are
	 * attached (zc_used) the completion waits for the release of the
	 * request's record; zc_armed: its own reference is still held.
	 * Listed on the client's zc_wait either at the head of zc_sock's
	 * sends, or (zc_sock NULL) as the head of a chain of failed requests
	 * (through next) whose outcomes wait in zc_status/zc_info. then_cq:
	 * a close or abortive disconnect completion to post right after
	 * this one (NULL: none). */
	uint32_t zc_regions;
	bool zc_used;
	bool zc_armed;
	bool zc_listed;
	struct wsk_sock *zc_sock;
	NTSTATUS zc_status;
	uint64_t zc_info;
	struct wsk_cq *then_cq;
	uint64_t then_user_data;
	TAILQ_ENTRY(wsk_req) zc_link;
};

struct req_queue {
	struct wsk_req *head, *tail;
};

TAILQ_HEAD(wsk_req_list, wsk_req);

/* A registered memory region (wsk_register_memory()). */
struct wsk_region {
	uint8_t *va;
	size_t len;
	rte_iova_t iova;		/* of va; RTE_BAD_IOVA: port never DMAs */
	uint32_t handle;		/* 0: slot free */
	uint32_t users;			/* send requests accepted over it and
					 * not completed */
	struct rte_device *dma_dev;	/* DMA-mapped for it; NULL: not */
};

struct wsk_zc_block;

TAILQ_HEAD(wsk_sock_list, wsk_sock);

struct wsk_sock {
	WSK_SOCKET pub;			/* first: WSK_SOCKET * converts */
	struct wsk_client *client;
	enum sock_state state;
	uint32_t category;
	bool bound;
	bool reuseaddr;
	bool nodelay;
	bool fastopen;
	uint32_t fastopen_value;	/* TCP_FASTOPEN as set: a listener's max pending */
	bool keepalive;			/* SO_KEEPALIVE */
	uint32_t keep_idle_s;		/* TCP_KEEPALIVE, 0: engine default */
	uint32_t keep_intvl_s;		/* TCP_KEEPINTVL, 0: engine default */
	uint32_t keep_cnt;		/* TCP_KEEPCNT, 0: engine default */
	uint32_t snd_buf;		/* SO_SNDBUF as set, 0: engine default */
	uint32_t rcv_buf;		/* SO_RCVBUF as set, 0: engine default */
	uint16_t maxseg;		/* TCP_MAXSEG as set, 0: no clamp */
	rte_be32_t laddr;
	rte_be16_t lport;
	rte_be32_t raddr;
	rte_be16_t rport;
	void *context;
	struct tcp_conn *conn;
	struct tcp_listener *listener;
	struct wsk_req *connect_req;
	/* connect_ex bytes copied at the call, waiting for the handshake
	 * (tcp_send() takes data only once synchronized). */
	struct rte_mbuf *stage_head, *stage_tail;
	uint64_t snd_total;		/* stream position after every request */
	uint64_t snd_acked;		/* bytes acknowledged */
	struct req_queue sends;		/* first not fully pushed: push_cursor */
	struct wsk_req *push_cursor;
	struct req_queue recvs;

	/* Events: the client dispatch given at creation (a
	 * WSK_CLIENT_{LISTEN,CONNECTION,STREAM}_DISPATCH as the category
	 * says) and the WSK_EVENT_* bits enabled on it. */
	const void *client_dispatch;
	uint32_t events;
	/* The receive event stopped (DATA_NOT_ACCEPTED or a partial accept)
	 * until the next receive call. */
	bool recv_event_paused;
	/* Bytes taken from the connection for receive events and not
	 * handed over (not accepted, or not indicated yet): standalone
	 * segments linked through m->next, read before the connection's. */
	struct rte_mbuf *held_head, *held_tail;
	uint32_t held_bytes;
	/* A receive event callback is running on the socket: receives and
	 * events wait until its return is settled, so bytes keep their
	 * order. */
	bool in_indication;
	uint32_t ind_retained;		/* elements the application retained */
	/* Bumped each time the slot is freed, so code that ran a callback
	 * can tell whether its socket was closed meanwhile. */
	uint32_t gen;
	/* SOCK_CLOSING: where the close completes. */
	struct wsk_cq *close_cq;
	uint64_t close_user_data;
	bool disconnect_indicated;	/* the disconnect event ran */
	/* The disconnect's FIN was acknowledged while sends before it still
	 * waited for their memory's release. */
	bool fin_acked;
	size_t backlog_reported;	/* last ideal send backlog indicated */

	struct req_queue accepts;	/* queued accept requests */

	/* Graceful disconnect: requested (no sends after it), FIN handed to
	 * TCP, and the request waiting for our FIN to be acknowledged (the
	 * acked(0) or closed() upcall says when). */
	bool shut_wr;
	bool fin_queued;
	struct wsk_req *disconnect_req;

	/* What wsk_client_poll() must do for the socket (WORK_* bits), and
	 * its place on the client's work list (or, WORK_ACCEPT, on the list
	 * of listeners waiting for a free socket). */
	uint8_t work;
	TAILQ_ENTRY(wsk_sock) work_link;
	struct wsk_sock_list *work_list;	/* the list it is on, or NULL */

	/* What the client's bind table counts for the socket: laddr, lport
	 * and reuseaddr as they were at the last wsk_bind_table_set(). */
	bool bind_counted;
	bool bind_reuse;
	rte_be32_t bind_laddr;
	int32_t bind_pos;		/* bind_hash position of a specific address,
					 * or BIND_POS_ONE */
};

/* Work for wsk_client_poll(): things no upcall will bring back. */
#define WORK_PUSH	0x01	/* tcp_send() took less with room left:
				 * mbufs ran out, try again */
#define WORK_ACCEPT	0x02	/* a listener stopped serving for want of
				 * a free socket */
#define WORK_RECV	0x04	/* the receive event stopped for want of
				 * an indication element or an mbuf */

/*
 * One element of a receive indication (wsk_recv.c): the application sees
 * di, whose buffer describes exactly one mbuf segment through mdl. The
 * client's pool of them is an array, so release() can tell an element of
 * its own from anything else by its address.
 */
struct wsk_ind {
	WSK_DATA_INDICATION di;		/* first: the application's pointer */
	struct wsk_mdl mdl;
	struct rte_mbuf *m;		/* the segment, ours until freed */
	struct wsk_sock *owner;		/* IND_RETAINED: the socket */
	struct wsk_ind *link;		/* free list, or the list being lent */
	uint8_t state;			/* IND_FREE, IND_LENT, IND_RETAINED */
};

enum {
	IND_FREE,	/* in the pool */
	IND_LENT,	/* given to a receive event callback now running */
	IND_RETAINED,	/* the callback returned STATUS_PENDING */
};

/* Bound sockets counted for one local (address, port): all of them, and
 * those without SO_REUSEADDR (which conflict even with a reusing bind). */
struct bind_count {
	uint32_t total;
	uint32_t exclusive;
};

/* One local port's binds: all of them, those to the wildcard address, and
 * those to the first specific address bound (one_ip) while any is. Other
 * specific addresses of the port are counted through bind_hash. A load
 * generator binds each of its ports to one address, so it never reaches
 * rte_hash, whose add, lookup and delete cost about 600 instructions a
 * connection; one 32-byte entry per port holds the rest. */
struct bind_port {
	struct bind_count all;
	struct bind_count any;
	struct bind_count one;
	rte_be32_t one_ip;
	uint32_t pad;
};

/* wsk_sock.bind_pos of a socket counted in its port's bind_port.one. */
#define BIND_POS_ONE	(-1)

struct wsk_sqe_slot;

/* Submissions run per poll, so a flood from other threads cannot starve
 * the shard's packets. */
#define WSK_SUBMIT_BURST	64u

/* Closed sockets waiting in a client's ring before their slots are used
 * again (struct wsk_client, wsk_sock_alloc): how long a call on a closed
 * socket is still caught. */
#define WSK_SOCK_REUSE_DISTANCE 1024u

struct wsk_client {
	struct shard *shard;
	uint16_t port_index;
	unsigned nb_sockets;
	struct wsk_sock *sockets;
	/* Free sockets (wsk_free_sockets()): the never-used slots from
	 * fresh_next up, and the closed ones in free_fifo, a ring of indices
	 * (fifo_count of them from free_head). A closed slot is reused oldest
	 * first once WSK_SOCK_REUSE_DISTANCE others wait behind it, so a call
	 * on a closed socket is caught meanwhile, while the slots in use stay
	 * a small, cache-warm set however large the pool. */
	uint32_t *free_fifo;
	unsigned free_head, fifo_count, fresh_next;
	struct wsk_req *reqs;
	unsigned nb_reqs;
	struct wsk_req *free_reqs;
	uint16_t next_ephemeral;	/* host order */
	/* The bind table: for each local port (an array of 65536, indexed
	 * by host-order port) its counts, and per other specific (address,
	 * port) a count found through bind_hash (its key position indexes
	 * bind_addr). */
	struct bind_port *bind_ports;
	struct rte_hash *bind_hash;
	struct bind_count *bind_addr;
	/* Receive indication elements (wsk_recv.c): the pool, its free
	 * list, the low-water mark below which indications carry
	 * WSK_FLAG_RELEASE_ASAP, and the sockets whose event waits for an
	 * element to come back. */
	struct wsk_ind *inds;
	unsigned nb_inds;
	unsigned ind_nfree;
	unsigned ind_low;
	struct wsk_ind *ind_free;
	struct wsk_sock_list ind_waiting;
	/* Sockets with WORK_* bits for the next wsk_client_poll(), and
	 * listeners waiting for a socket to be freed. */
	struct wsk_sock_list work;
	unsigned work_count;
	struct wsk_sock_list starved;
	struct wsk_client_counters counters;
	/* Submission ring (wsk_submit.c): slots handed from the free ring to
	 * a submitter, filled, and queued on the submit ring (MP/SC). */
	struct rte_ring *sq_free;
	struct rte_ring *sq_submit;
	struct wsk_sqe_slot *sq_slots;
	/* Dequeued, waiting for completion room, oldest first. */
	struct wsk_sqe_slot *sq_stalled[WSK_SUBMIT_BURST];
	unsigned sq_nstalled;
	/* Zero-copy sends (wsk_zerocopy.c): the registered regions, the
	 * records whose shared info the mbufs reference (one per request,
	 * made at the first registration), and the requests waiting for
	 * their memory's release. */
	struct wsk_region regions[WSK_MEMORY_REGIONS_MAX];
	unsigned nb_regions;
	uint32_t region_gen;
	struct wsk_zc_block *zc_block;
	struct wsk_req_list zc_wait;
	unsigned zc_wait_count;
};

/* Bytes a receive event indicates per callback, at most (whole segments
 * are indicated, so one may go past it; the rest waits for the next
 * callback). Bounds a callback's work, not memory: nothing is copied. */
#define WSK_INDICATION_MAX	16384u

/* Category bits: 1 << flag bit, bit 0 standing for basic. */
#define CAT_BIT(flag)	(1u << ((flag) == 0 ? 0 : __builtin_ctz(flag) + 1))
#define CATS_ALL	(CAT_BIT(WSK_FLAG_BASIC_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_LISTEN_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_CONNECTION_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_STREAM_SOCKET))
#define CATS_CONN	(CAT_BIT(WSK_FLAG_CONNECTION_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_STREAM_SOCKET))
#define CATS_LISTEN	(CAT_BIT(WSK_FLAG_LISTEN_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_STREAM_SOCKET))
#define CATS_BINDABLE	(CATS_CONN | CAT_BIT(WSK_FLAG_LISTEN_SOCKET))

static inline struct wsk_sock *
sock_of(WSK_SOCKET *s)
{
	return (struct wsk_sock *)s;
}

/* Closed as far as calls go (release aside: it serves SOCK_CLOSING). */
static inline bool
sock_closed(const struct wsk_sock *so)
{
	return so->state == SOCK_FREE || so->state == SOCK_CLOSING;
}

/* --- requests and completions ------------------------------------------ */

static inline bool
req_valid(const struct wsk_request *req)
{
	return req != NULL && req->cq != NULL;
}

/* Accept a request: reserve its completion and take a record. NULL: no
 * room in the ring or the pool, nothing held. */
static inline struct wsk_req *
req_accept(struct wsk_client *c, const struct wsk_request *req)
{
	struct wsk_req *r = c->free_reqs;

	if (r == NULL || !wsk_cq_reserve(req->cq))
		return NULL;
	c->free_reqs = r->next;
	memset(r, 0, sizeof(*r));
	r->cq = req->cq;
	r->user_data = req->user_data;
	return r;
}

/* Undo req_accept() for a request that was refused after all. */
static inline void
req_refuse(struct wsk_client *c, struct wsk_req *r)
{
	wsk_cq_unreserve(r->cq);
	r->next = c->free_reqs;
	c->free_reqs = r;
}

static inline void
req_complete(struct wsk_client *c, struct wsk_req *r, NTSTATUS status,
	     uint64_t information)
{
	wsk_cq_post(r->cq, r->user_data, status, information, 0);
	r->next = c->free_reqs;
	c->free_reqs = r;
}

/* A call done at once: post its completion now and return its status.
 * STATUS_INSUFFICIENT_RESOURCES (and nothing posted) without room. */
static inline NTSTATUS
complete_now(const struct wsk_request *req, NTSTATUS status,
	     uint64_t information)
{
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	wsk_cq_post(req->cq, req->user_data, status, information, 0);
	return status;
}

static inline void
rq_push(struct req_queue *q, struct wsk_req *r)
{
	r->next = NULL;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

static inline struct wsk_req *
rq_pop(struct req_queue *q)
{
	struct wsk_req *r = q->head;

	if (r != NULL) {
		q->head = r->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return r;
}

/*
 * The checks every call but close_socket starts with. Returns
 * STATUS_SUCCESS to go on; STATUS_INVALID_PARAMETER (no socket, a closed
 * one, no request); STATUS_INVALID_DEVICE_STATE (category not in
 * 'categories', a mask of CAT_BIT()s); or, for a dead socket, what
 * complete_now() gives for STATUS_FILE_FORCED_CLOSED (the request
 * completes with it) with *dead set.
 */
static inline NTSTATUS
sock_check(struct wsk_sock *so, const struct wsk_request *req,
	   unsigned categories, bool *dead)
{
	*dead = false;
	if (so == NULL || sock_closed(so) || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	if (!(CAT_BIT(so->category) & categories))
		return STATUS_INVALID_DEVICE_STATE;
	if (so->state == SOCK_DEAD) {
		*dead = true;
		return complete_now(req, STATUS_FILE_FORCED_CLOSED, 0);
	}
	return STATUS_SUCCESS;
}

/* --- addresses and buffers ----------------------------------------------- */

/* Parse a sockaddr_in. STATUS_INVALID_PARAMETER for NULL,
 * STATUS_INVALID_ADDRESS_COMPONENT for another family. */
static inline NTSTATUS
addr_parse(const struct sockaddr *sa, rte_be32_t *ip, rte_be16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	if (sa == NULL)
		return STATUS_INVALID_PARAMETER;
	if (sin->sin_family != AF_INET)
		return STATUS_INVALID_ADDRESS_COMPONENT;
	*ip = sin->sin_addr.s_addr;
	*port = sin->sin_port;
	return STATUS_SUCCESS;
}

static inline void
addr_write(struct sockaddr *out, rte_be32_t ip, rte_be16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = ip;
	sin->sin_port = port;
}

/* Does the chain hold offset + length bytes, with offset inside the first
 * segment? */
static inline bool
buf_valid(const WSK_BUF *b)
{
	const struct wsk_mdl *m = b->mdl;
	size_t need;

	if (b->length == 0)
		return m == NULL || b->offset <= m->len;
	if (m == NULL || b->offset > m->len)
		return false;
	need = b->offset + b->length;
	for (; m != NULL; m = m->next) {
		if (m->len >= need)
			return true;
		need -= m->len;
	}
	return false;
}

/* Step a buffer cursor forward by n bytes. */
static inline void
cursor_skip(struct wsk_req *r, size_t n)
{
	r->left -= n;
	r->offset += n;
	while (r->mdl != NULL && r->offset >= r->mdl->len && r->left > 0) {
		r->offset -= r->mdl->len;
		r->mdl = r->mdl->next;
	}
}

/* Point r's cursor at the whole of b. */
static inline void
cursor_init(struct wsk_req *r, const WSK_BUF *b)
{
	r->mdl = b->mdl;
	r->offset = b->offset;
	r->left = b->length;
	r->length = b->length;
	cursor_skip(r, 0);
}

/* --- across files ---------------------------------------------------------- */

/* wsk_socket.c */

/* Socket slots free: closed ones waiting in the ring and never-used ones. */
static inline unsigned
wsk_free_sockets(const struct wsk_client *c)
{
	return c->fifo_count + (c->nb_sockets - c->fresh_next);
}

/* Take a socket from the pool for category 'flags' (no completion): NULL
 * when the pool is empty. */
struct wsk_sock *wsk_sock_alloc(struct wsk_client *c, uint32_t flags,
				void *context, const void *client_dispatch);
/* Give a socket back to the pool (engine objects already detached). */
void wsk_sock_free(struct wsk_sock *so);
/* Complete every pending request of the socket with 'status' (sends and
 * a graceful disconnect already done with success). Returns the last
 * request whose completion waits for zero-copy memory to be released
 * (the ones after the first such wait too, to keep their order), or NULL
 * when all were posted. */
struct wsk_req *wsk_sock_fail_pending(struct wsk_sock *so, NTSTATUS status);
/* Drop the socket's engine objects without telling anyone. */
void wsk_sock_detach(struct wsk_sock *so);
/* Ask wsk_client_poll() for a WORK_* bit (WORK_ACCEPT: once a socket is
 * freed). */
void wsk_work_add(struct wsk_sock *so, uint8_t work);
/* Count the socket's local address (laddr, lport, reuseaddr) in the bind
 * table, replacing what was counted for it. */
void wsk_bind_table_set(struct wsk_sock *so);
/* Stop counting the socket in the bind table (no-op if it is not). */
void wsk_bind_table_clear(struct wsk_sock *so);
/* Check and take a local address (the part of bind that posts nothing):
 * statuses as bind's. */
NTSTATUS wsk_sock_bind(struct wsk_sock *so, rte_be32_t ip, rte_be16_t port);
/* The connection-or-stream table for an accepted socket. */
const void *wsk_provider_dispatch(uint32_t category);
/* The client's event callbacks, read from the dispatch of the socket's
 * category (wsk.h): accept for listen and stream sockets, the others for
 * connection and stream sockets. */
struct wsk_callbacks {
	PFN_WSK_ACCEPT_EVENT accept;
	PFN_WSK_RECEIVE_EVENT receive;
	PFN_WSK_DISCONNECT_EVENT disconnect;
	PFN_WSK_SEND_BACKLOG_EVENT send_backlog;
};
/* A member is NULL where the client gave no such callback, the socket
 * has no client dispatch, or its category has no such event. */
struct wsk_callbacks wsk_callbacks(const struct wsk_sock *so);

/* wsk_send.c */
NTSTATUS wsk_call_send(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
		       const struct wsk_request *req);
/* Copy a connect_ex buffer into mbufs (stage_head). Returns false
 * (nothing kept) when the shard's pool runs dry. */
bool wsk_stage_copy(struct wsk_sock *so, const WSK_BUF *b);
/* Drop staged connect_ex bytes. */
void wsk_stage_free(struct wsk_sock *so);
/* Hand the connection staged and queued send bytes. */
void wsk_sock_push(struct wsk_sock *so);
/* Complete the connect and the sends whose bytes are acknowledged. */
void wsk_sock_complete_acked(struct wsk_sock *so);
/* Give a send's (or a graceful disconnect's) buffer the next place in the
 * socket's send stream: r's cursor at its first byte, r->end at the
 * stream position after its last (the request completes once the
 * acknowledgments reach it). */
void wsk_send_stream_add(struct wsk_sock *so, struct wsk_req *r,
			 const WSK_BUF *buf);
/* wsk_control.c */
NTSTATUS wsk_call_control_socket(WSK_SOCKET *s,
				 enum wsk_control_socket_type type,
				 uint32_t code, uint32_t level, size_t in_size,
				 const void *in_buf, size_t out_size,
				 void *out_buf, size_t *out_size_returned,
				 const struct wsk_request *req);
/* Fill o's keepalive fields from the socket's options. */
void wsk_keepalive_apply(struct wsk_sock *so, struct tcp_conn_opts *o);
/* Give the socket's connection its keepalive options at once. */
void wsk_keepalive_to_conn(struct wsk_sock *so);
/* Give a new listener the socket's SO_SNDBUF, SO_RCVBUF and TCP_MAXSEG,
 * for the connections it will make. */
void wsk_listener_conn_opts(struct wsk_sock *so);

/* wsk_listen.c (wsk_call_*: the dispatch tables' implementations) */
void wsk_listen_accept_ready(struct tcp_listener *l);
NTSTATUS wsk_listen_start(struct wsk_sock *so);
/* Run queued accepts, then (events) the accept event, over waiting
 * connections. */
void wsk_listen_serve(struct wsk_sock *so, bool events);
NTSTATUS wsk_call_accept(WSK_SOCKET *s, uint32_t flags, void *accept_context,
			 const WSK_CLIENT_CONNECTION_DISPATCH *accept_dispatch,
			 struct sockaddr *local, struct sockaddr *remote,
			 const struct wsk_request *req);
NTSTATUS wsk_call_listen(WSK_SOCKET *s, const struct wsk_request *req);

/* wsk_recv.c */
NTSTATUS wsk_call_receive(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
			  const struct wsk_request *req);
NTSTATUS wsk_call_release(WSK_SOCKET *s, struct wsk_data_indication *list);
/* Serve queued receives, then the receive event, then the disconnect
 * event, from what the connection holds. */
void wsk_recv_serve(struct wsk_sock *so);
/* Drop held bytes (close). */
void wsk_recv_held_free(struct wsk_sock *so);
/* Make the client's pool of indication elements (sized from
 * max_requests: wsk.h). 0, or -ENOMEM. */
int wsk_recv_init(struct wsk_client *c, unsigned max_requests);
/* Free the pool and every mbuf its elements still hold (client teardown:
 * safe after a failed or partial wsk_recv_init()). */
void wsk_recv_fini(struct wsk_client *c);

/* wsk_disconnect.c */
NTSTATUS wsk_call_disconnect(WSK_SOCKET *s, const WSK_BUF *buf,
			     uint32_t flags, const struct wsk_request *req);
/* After sends were pushed or acknowledged: queue the FIN once the sends
 * are all handed over, and complete the disconnect once it is acked. */
void wsk_disconnect_progress(struct wsk_sock *so);
/* The peer closed or reset: the disconnect event, if enabled. */
void wsk_event_disconnect(struct wsk_sock *so, bool abortive);
/* The send-backlog event, if enabled and the ideal size changed. */
void wsk_event_send_backlog(struct wsk_sock *so);

/* wsk_zerocopy.c */
/* A send was accepted: note the regions its segments lie in (r->zc_regions)
 * and count it among their users. */
void wsk_zc_send_accept(struct wsk_client *c, struct wsk_req *r,
			const WSK_BUF *b);
/* The region r may attach mdl's segment from: one of r's regions holding
 * the whole segment, at least WSK_ZEROCOPY_MIN_SEGMENT long; else NULL. */
const struct wsk_region *wsk_zc_region_for(const struct wsk_client *c,
					   const struct wsk_req *r,
					   const struct wsk_mdl *mdl);
/* The shared info r's attached mbufs reference (armed at first use). */
struct rte_mbuf_ext_shared_info *wsk_zc_arm(struct wsk_client *c,
					    struct wsk_req *r);
/* r attaches no more: drop its own reference. */
void wsk_zc_unarm(struct wsk_client *c, struct wsk_req *r);
/* No mbuf references r's memory (true for a request that attached
 * nothing). */
bool wsk_zc_released(const struct wsk_client *c, const struct wsk_req *r);
/* r heads so's sends, acknowledged, its memory not yet released: let
 * wsk_client_poll() finish it. */
void wsk_zc_wait_head(struct wsk_sock *so, struct wsk_req *r);
/* Post a send's (or a disconnect's) completion, releasing its regions,
 * then any completion hung on it (then_cq). */
void wsk_send_complete(struct wsk_client *c, struct wsk_req *r,
		       NTSTATUS status, uint64_t information);
/* Fail the socket's sends (those acknowledged and released succeed) into
 * 'chain': posted at once while nothing waits for a release, kept in
 * order behind the first that does. */
void wsk_sends_fail(struct wsk_sock *so, NTSTATUS status,
		    struct req_queue *chain);
/* The same for the graceful disconnect request, if any (success when its
 * FIN was acknowledged). */
void wsk_disconnect_fail(struct wsk_sock *so, NTSTATUS status,
			 struct req_queue *chain);
/* Hand a chain to wsk_client_poll(); returns its last request, or NULL
 * when empty. */
struct wsk_req *wsk_zc_chain_commit(struct wsk_client *c,
				    struct req_queue *chain);
/* wsk_client_poll(): post what the releases allow. */
void wsk_zc_poll(struct wsk_client *c);
/* wsk_client_destroy(): post every waiting completion (memory released or
 * not), deregister the regions, let go of the records. */
void wsk_zc_fini(struct wsk_client *c);

/* wsk_submit.c */
int wsk_submit_init(struct wsk_client *c, unsigned entries);
void wsk_submit_fini(struct wsk_client *c);
void wsk_submit_drain(struct wsk_client *c);

#endif
