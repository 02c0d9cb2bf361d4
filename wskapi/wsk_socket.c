/*
 * wskapi sockets over the TCP engine: the client, the per-category
 * dispatch tables, socket creation, close, bind, connect, the address
 * getters, plus the TCP upcalls that finish pending requests. Send lives
 * in wsk_send.c, control_socket (options, event control) in
 * wsk_control.c, listen and accept in wsk_listen.c, receive and its event
 * in wsk_recv.c, disconnect and the disconnect/send-backlog events in
 * wsk_disconnect.c, the submission ring in wsk_submit.c, registered memory
 * in wsk_zerocopy.c; what they share is in wsk_internal.h.
 *
 * Sockets and request records come from pools made in wsk_client_create();
 * no call allocates. A request's completion slot is reserved when it is
 * accepted, so posting never fails.
 *
 * Costs follow the work, not the number of sockets: upcalls find their
 * socket through the connection, wsk_client_poll() walks only the work
 * list (sockets that asked for it), and bind checks a port in a table of
 * counts (the bind table) instead of looking at the other sockets.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <stdio.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "port.h"
#include "shard.h"
#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

#define LISTEN_BACKLOG		128
#define EPHEMERAL_LO		32768
#define EPHEMERAL_HI		60999
#define MAX_SOCKETS		65536u
#define MAX_REQUESTS		(1u << 20)
#define MAX_SUBMISSIONS		65536u

static const WSK_PROVIDER_BASIC_DISPATCH basic_dispatch;
static const WSK_PROVIDER_LISTEN_DISPATCH listen_dispatch;
static const WSK_PROVIDER_CONNECTION_DISPATCH connection_dispatch;
static const WSK_PROVIDER_STREAM_DISPATCH stream_dispatch;

/* --- work for wsk_client_poll() -------------------------------------------- */

void
wsk_work_add(struct wsk_sock *so, uint8_t work)
{
	struct wsk_client *c = so->client;
	struct wsk_sock_list *want;

	so->work |= work;
	/* A listener waiting for a socket is not looked at until one is
	 * freed, nor a receive event waiting for an indication element until
	 * one is released: nothing else would change their lot. */
	if (so->work == WORK_ACCEPT && wsk_free_sockets(c) == 0)
		want = &c->starved;
	else if (so->work == WORK_RECV && c->ind_free == NULL)
		want = &c->ind_waiting;
	else
		want = &c->work;
	if (so->work_list == want)
		return;
	if (so->work_list != NULL) {
		TAILQ_REMOVE(so->work_list, so, work_link);
		if (so->work_list == &c->work)
			c->work_count--;
	}
	TAILQ_INSERT_TAIL(want, so, work_link);
	if (want == &c->work)
		c->work_count++;
	so->work_list = want;
}

static void
work_remove(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;

	if (so->work_list == NULL)
		return;
	TAILQ_REMOVE(so->work_list, so, work_link);
	if (so->work_list == &c->work)
		c->work_count--;
	so->work_list = NULL;
	so->work = 0;
}

/* --- failure and teardown --------------------------------------------------- */

struct wsk_req *
wsk_sock_fail_pending(struct wsk_sock *so, NTSTATUS status)
{
	struct wsk_client *c = so->client;
	struct req_queue chain = { NULL, NULL };
	struct wsk_req *r;

	if (so->connect_req != NULL) {
		r = so->connect_req;
		so->connect_req = NULL;
		req_complete(c, r, status, 0);
	}
	wsk_sends_fail(so, status, &chain);
	while ((r = rq_pop(&so->recvs)) != NULL)
		req_complete(c, r, status, 0);
	wsk_disconnect_fail(so, status, &chain);
	/* A listener's accepts only ever end by cancellation. */
	while ((r = rq_pop(&so->accepts)) != NULL)
		req_complete(c, r, STATUS_CANCELLED, 0);
	wsk_stage_free(so);
	return wsk_zc_chain_commit(c, &chain);
}

void
wsk_sock_detach(struct wsk_sock *so)
{
	wsk_recv_held_free(so);
	if (so->conn != NULL) {
		struct tcp_conn *conn = so->conn;
		enum tcp_state st = tcp_conn_state(conn);

		so->conn = NULL;
		tcp_conn_set_user(conn, NULL);
		if (st != TCPS_CLOSED && st != TCPS_TIME_WAIT)
			tcp_abort(conn);
		tcp_release(conn);
	}
	if (so->listener != NULL) {
		tcp_listener_close(so->listener);
		so->listener = NULL;
	}
}

void
wsk_sock_free(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	unsigned tail = (c->free_head + c->fifo_count) % c->nb_sockets;

	work_remove(so);
	wsk_bind_table_clear(so);
	so->state = SOCK_FREE;
	so->gen++;
	c->free_fifo[tail] = (uint32_t)(so - c->sockets);
	c->fifo_count++;
}

struct wsk_sock *
wsk_sock_alloc(struct wsk_client *c, uint32_t flags, void *context,
	       const void *client_dispatch)
{
	struct wsk_sock *so;
	uint32_t gen;

	if (wsk_free_sockets(c) == 0)
		return NULL;
	/* A slot never used before only while fewer than the reuse distance
	 * wait in the ring (see struct wsk_client): a FIFO over the whole
	 * pool would hand out the coldest slot every time, a cache miss per
	 * line of the socket. */
	if (c->fifo_count > WSK_SOCK_REUSE_DISTANCE ||
	    c->fresh_next == c->nb_sockets) {
		so = &c->sockets[c->free_fifo[c->free_head]];
		c->free_head = (c->free_head + 1) % c->nb_sockets;
		c->fifo_count--;
	} else {
		so = &c->sockets[c->fresh_next++];
	}
	gen = so->gen;
	memset(so, 0, sizeof(*so));
	so->gen = gen;
	so->client = c;
	so->pub.dispatch = wsk_provider_dispatch(flags);
	so->category = flags;
	so->context = context;
	so->client_dispatch = client_dispatch;
	so->state = SOCK_OPEN;
	return so;
}

const void *
wsk_provider_dispatch(uint32_t category)
{
	switch (category) {
	case WSK_FLAG_LISTEN_SOCKET:
		return &listen_dispatch;
	case WSK_FLAG_CONNECTION_SOCKET:
		return &connection_dispatch;
	case WSK_FLAG_STREAM_SOCKET:
		return &stream_dispatch;
	default:
		return &basic_dispatch;
	}
}

struct wsk_callbacks
wsk_callbacks(const struct wsk_sock *so)
{
	struct wsk_callbacks cb = { NULL, NULL, NULL, NULL };

	if (so->client_dispatch == NULL)
		return cb;
	if (so->category == WSK_FLAG_LISTEN_SOCKET) {
		const WSK_CLIENT_LISTEN_DISPATCH *d = so->client_dispatch;

		cb.accept = d->accept_event;
	} else if (so->category == WSK_FLAG_CONNECTION_SOCKET) {
		const WSK_CLIENT_CONNECTION_DISPATCH *d = so->client_dispatch;

		cb.receive = d->receive_event;
		cb.disconnect = d->disconnect_event;
		cb.send_backlog = d->send_backlog_event;
	} else if (so->category == WSK_FLAG_STREAM_SOCKET) {
		const WSK_CLIENT_STREAM_DISPATCH *d = so->client_dispatch;

		cb.accept = d->accept_event;
		cb.receive = d->receive_event;
		cb.disconnect = d->disconnect_event;
		cb.send_backlog = d->send_backlog_event;
	}
	return cb;
}

/* --- upcalls ---------------------------------------------------------------- */

static void
up_connected(struct tcp_conn *conn)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so == NULL || so->state != SOCK_CONNECTING)
		return;
	so->state = SOCK_CONNECTED;
	wsk_sock_push(so);
	wsk_sock_complete_acked(so);
	/* A socket_connect completion may be the first the application
	 * hears of the socket: events come after it. */
	if (so->state == SOCK_CONNECTED)
		wsk_event_send_backlog(so);
}

static void
up_readable(struct tcp_conn *conn)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so != NULL && so->state == SOCK_CONNECTED) {
		wsk_recv_serve(so);
		if (so->state == SOCK_CONNECTED)
			wsk_disconnect_progress(so);
	}
}

static void
up_acked(struct tcp_conn *conn, uint32_t bytes)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so == NULL || so->state != SOCK_CONNECTED)
		return;
	so->snd_acked += bytes;
	wsk_sock_push(so);
	wsk_sock_complete_acked(so);
	wsk_disconnect_progress(so);
	wsk_event_send_backlog(so);
}

/* WSK.md 1.6: the statuses Windows gives for each way a connection
 * ends. */
static NTSTATUS
close_status(enum tcp_close_reason reason)
{
	switch (reason) {
	case TCP_CLOSE_REFUSED:
		return STATUS_CONNECTION_REFUSED;
	case TCP_CLOSE_TIMEOUT:
		return STATUS_IO_TIMEOUT;
	case TCP_CLOSE_RESET:
		return STATUS_CONNECTION_RESET;
	case TCP_CLOSE_ABORTED:
		return STATUS_CONNECTION_ABORTED;
	case TCP_CLOSE_NORMAL:
	default:
		return STATUS_CONNECTION_DISCONNECTED;
	}
}

static void
up_closed(struct tcp_conn *conn, enum tcp_close_reason reason)
{
	struct wsk_sock *so = tcp_conn_user(conn);
	bool was_connected, owned_by_connect;

	if (so == NULL)
		return;
	was_connected = so->state == SOCK_CONNECTED;
	/* A socket_connect that failed: the application never had the
	 * socket, so it goes back to the pool after the completion. */
	owned_by_connect = so->connect_req != NULL &&
			   so->connect_req->info_socket;
	/* Receives posted before the close still get the data and FIN that
	 * arrived, and a graceful disconnect whose FIN was acknowledged
	 * succeeds; what remains fails with the reason. */
	if (was_connected) {
		wsk_recv_serve(so);
		if (reason == TCP_CLOSE_NORMAL)
			wsk_disconnect_progress(so);
	}
	so->state = SOCK_DEAD;
	wsk_sock_fail_pending(so, close_status(reason));
	so->conn = NULL;
	tcp_conn_set_user(conn, NULL);
	tcp_release(conn);
	if (was_connected && (reason == TCP_CLOSE_RESET ||
			      reason == TCP_CLOSE_TIMEOUT))
		wsk_event_disconnect(so, true);
	if (owned_by_connect) {
		wsk_sock_detach(so);
		wsk_sock_free(so);
	}
}

static const struct tcp_upcalls wsk_upcalls = {
	.connected = up_connected,
	.accept_ready = wsk_listen_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

/* --- the bind table --------------------------------------------------------- */

/* The hash key of a specific local address. */
struct bind_key {
	rte_be32_t ip;
	rte_be16_t port;
	uint16_t zero;
};

_Static_assert(sizeof(struct bind_key) == 8, "one rte_hash_crc_8byte");

/* The table's own hash (rte_hash_crc over these 8 bytes is one
 * rte_hash_crc_8byte), computed inline: every operation passes it, so
 * rte_hash never calls its hash function through a pointer. */
static inline hash_sig_t
bind_key_hash(const struct bind_key *k)
{
	uint64_t v;

	memcpy(&v, k, sizeof(v));
	return rte_hash_crc_8byte(v, 0);
}

static int
bind_table_init(struct wsk_client *c, unsigned max_sockets)
{
	static unsigned serial;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		/* Each socket holds at most one key; the extendable table
		 * guarantees that many fit, so counting never fails. */
		.entries = RTE_MAX(max_sockets, 8u),
		.key_len = sizeof(struct bind_key),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(name, sizeof(name), "wsk_bind_%u",
		 __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
	c->bind_ports = calloc(UINT16_MAX + 1, sizeof(*c->bind_ports));
	c->bind_hash = rte_hash_create(&hp);
	if (c->bind_ports == NULL || c->bind_hash == NULL)
		return -ENOMEM;
	c->bind_addr = calloc((size_t)rte_hash_max_key_id(c->bind_hash) + 1,
			      sizeof(*c->bind_addr));
	return c->bind_addr == NULL ? -ENOMEM : 0;
}

static void
bind_count_add(struct bind_count *b, bool reuse, int delta)
{
	b->total += (uint32_t)delta;
	if (!reuse)
		b->exclusive += (uint32_t)delta;
}

/* Binds in b that one with or without SO_REUSEADDR would clash with. */
static inline uint32_t
bind_clashing(const struct bind_count *b, bool reuse)
{
	return reuse ? b->exclusive : b->total;
}

/* Specific addresses of the port counted in bind_hash: the port's binds
 * less the wildcard ones and those of its first address. */
static inline uint32_t
bind_hashed(const struct bind_port *bp)
{
	return bp->all.total - bp->any.total - bp->one.total;
}

/* bind_hash's position of (ip, port), or -1: looked up only when the port
 * has addresses there. */
static int32_t
bind_hash_find(struct wsk_client *c, const struct bind_port *bp,
	       rte_be32_t ip, rte_be16_t port)
{
	struct bind_key k = { .ip = ip, .port = port };

	if (bind_hashed(bp) == 0)
		return -1;
	return rte_hash_lookup_with_hash(c->bind_hash, &k, bind_key_hash(&k));
}

void
wsk_bind_table_clear(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	struct bind_port *bp = &c->bind_ports[rte_be_to_cpu_16(so->lport)];

	if (!so->bind_counted)
		return;
	so->bind_counted = false;
	bind_count_add(&bp->all, so->bind_reuse, -1);
	if (so->bind_laddr == 0) {
		bind_count_add(&bp->any, so->bind_reuse, -1);
	} else if (so->bind_pos == BIND_POS_ONE) {
		bind_count_add(&bp->one, so->bind_reuse, -1);
	} else {
		struct bind_key k = { .ip = so->bind_laddr, .port = so->lport };
		int32_t pos = so->bind_pos;

		/* Counted, so present at the position set gave. A key leaves
		 * the table with its counts back at zero, which is what
		 * bind_table_set expects of a position it is given again. */
		bind_count_add(&c->bind_addr[pos], so->bind_reuse, -1);
		if (c->bind_addr[pos].total == 0)
			rte_hash_del_key_with_hash(c->bind_hash, &k,
						   bind_key_hash(&k));
	}
}

void
wsk_bind_table_set(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	struct bind_port *bp = &c->bind_ports[rte_be_to_cpu_16(so->lport)];

	wsk_bind_table_clear(so);
	so->bind_counted = true;
	so->bind_reuse = so->reuseaddr;
	so->bind_laddr = so->laddr;
	if (so->laddr == 0) {
		bind_count_add(&bp->all, so->bind_reuse, 1);
		bind_count_add(&bp->any, so->bind_reuse, 1);
		return;
	}
	/* The port's own count takes the address when it holds it already,
	 * or holds none and bind_hash does not have this one: a key is
	 * counted in one place only. */
	if (bp->one.total > 0
	    ? bp->one_ip == so->laddr
	    : bind_hash_find(c, bp, so->laddr, so->lport) < 0) {
		bp->one_ip = so->laddr;
		so->bind_pos = BIND_POS_ONE;
		bind_count_add(&bp->one, so->bind_reuse, 1);
	} else {
		struct bind_key k = { .ip = so->laddr, .port = so->lport };
		/* The position of the key, added or already there: room for
		 * every socket's key (bind_table_init), so this cannot fail. */
		int32_t pos = rte_hash_add_key_with_hash(c->bind_hash, &k,
							 bind_key_hash(&k));

		so->bind_pos = pos;
		bind_count_add(&c->bind_addr[pos], so->bind_reuse, 1);
	}
	bind_count_add(&bp->all, so->bind_reuse, 1);
}

/* Would binding (ip, port) clash with a socket counted in the table? An
 * address clashes with itself and with the wildcard; a bind with
 * SO_REUSEADDR only with sockets bound without it. */
static bool
port_taken(struct wsk_client *c, rte_be32_t ip, rte_be16_t port, bool reuse)
{
	const struct bind_port *bp = &c->bind_ports[rte_be_to_cpu_16(port)];
	const struct bind_count *a = NULL;

	c->counters.bind_ports_probed++;
	if (ip == 0)
		return bind_clashing(&bp->all, reuse) > 0;
	if (bind_clashing(&bp->any, reuse) > 0)
		return true;
	if (bp->one.total > 0 && bp->one_ip == ip) {
		a = &bp->one;
	} else {
		int32_t pos = bind_hash_find(c, bp, ip, port);

		if (pos >= 0)
			a = &c->bind_addr[pos];
	}
	return a != NULL && bind_clashing(a, reuse) > 0;
}

/* --- client ----------------------------------------------------------------- */

/* Free what wsk_client_create() made (any of it may be missing). */
static void
client_free(struct wsk_client *c)
{
	wsk_zc_fini(c);
	wsk_submit_fini(c);
	rte_hash_free(c->bind_hash);
	free(c->bind_addr);
	free(c->bind_ports);
	wsk_recv_fini(c);
	free(c->sockets);
	free(c->free_fifo);
	free(c->reqs);
	free(c);
}

struct wsk_client *
wsk_client_create(struct shard *s, unsigned max_sockets, unsigned max_requests)
{
	struct wsk_client *c;

	if (s == NULL || s->l4 == NULL || s->nb_ports == 0 ||
	    max_sockets == 0 || max_sockets > MAX_SOCKETS ||
	    max_requests == 0 || max_requests > MAX_REQUESTS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->shard = s;
	c->port_index = 0;
	c->nb_sockets = max_sockets;
	c->sockets = calloc(max_sockets, sizeof(*c->sockets));
	c->free_fifo = calloc(max_sockets, sizeof(*c->free_fifo));
	c->reqs = calloc(max_requests, sizeof(*c->reqs));
	c->nb_reqs = max_requests;
	TAILQ_INIT(&c->work);
	TAILQ_INIT(&c->starved);
	TAILQ_INIT(&c->zc_wait);
	if (c->sockets == NULL || c->free_fifo == NULL || c->reqs == NULL ||
	    wsk_recv_init(c, max_requests) != 0 ||
	    bind_table_init(c, max_sockets) != 0 ||
	    wsk_submit_init(c, RTE_MIN(max_requests, MAX_SUBMISSIONS)) != 0) {
		client_free(c);
		return NULL;
	}
	for (unsigned i = 0; i < max_sockets; i++) {
		c->sockets[i].client = c;
		c->sockets[i].state = SOCK_FREE;
	}
	for (unsigned i = max_requests; i-- > 0;) {
		c->reqs[i].next = c->free_reqs;
		c->free_reqs = &c->reqs[i];
	}
	c->next_ephemeral = EPHEMERAL_LO;
	tcp_set_upcalls(s, &wsk_upcalls);
	return c;
}

void
wsk_client_destroy(struct wsk_client *c)
{
	static const struct tcp_upcalls none;

	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->nb_sockets; i++) {
		struct wsk_sock *so = &c->sockets[i];

		if (so->state == SOCK_FREE)
			continue;
		/* A close waiting for release() is not posted either: give
		 * its room back. */
		if (so->state == SOCK_CLOSING)
			wsk_cq_unreserve(so->close_cq);
		wsk_sock_fail_pending(so, STATUS_CANCELLED);
		wsk_sock_detach(so);
		so->state = SOCK_FREE;
	}
	tcp_set_upcalls(c->shard, &none);
	/* Indications the application still retained go with the client
	 * (client_free -> wsk_recv_fini frees their mbufs). */
	client_free(c);
}

void
wsk_client_poll(struct wsk_client *c)
{
	struct wsk_sock *so;
	unsigned n;

	if (c == NULL)
		return;
	c->counters.polls++;
	wsk_submit_drain(c);
	wsk_zc_poll(c);
	if (wsk_free_sockets(c) > 0) {
		/* A socket was freed: the starved listeners get their turn. */
		while ((so = TAILQ_FIRST(&c->starved)) != NULL)
			wsk_work_add(so, 0);
	}
	if (c->ind_free != NULL) {
		/* Elements were released: waiting receive events resume. */
		while ((so = TAILQ_FIRST(&c->ind_waiting)) != NULL)
			wsk_work_add(so, 0);
	}
	/* Only what was there when the pass began: work added meanwhile
	 * (a send that stalls again) waits for the next pass. Taking from
	 * the head each time stays right when callbacks run from here close
	 * other sockets on the list. */
	for (n = c->work_count; n > 0 && (so = TAILQ_FIRST(&c->work)) != NULL;
	     n--) {
		uint8_t work = so->work;

		work_remove(so);
		c->counters.poll_sockets_visited++;
		if (work & WORK_ACCEPT)
			wsk_listen_serve(so, true);
		if ((work & WORK_PUSH) && so->state == SOCK_CONNECTED) {
			wsk_sock_push(so);
			if (so->state == SOCK_CONNECTED)
				wsk_disconnect_progress(so);
		}
		if ((work & WORK_RECV) && so->state == SOCK_CONNECTED)
			wsk_recv_serve(so);
	}
}

void
wsk_client_counters_get(const struct wsk_client *c,
			struct wsk_client_counters *out)
{
	if (c == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = c->counters;
	out->ind_pool_size = c->nb_inds;
	out->ind_pool_in_use = c->nb_inds - c->ind_nfree;
}

NTSTATUS
wsk_socket_ex(struct wsk_client *c, int family, int type, int protocol,
	      uint32_t flags, void *context, const void *client_dispatch,
	      WSK_SOCKET **socket_out, const struct wsk_request *req)
{
	struct wsk_sock *so;

	if (c == NULL || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	switch (flags) {
	case WSK_FLAG_BASIC_SOCKET:
	case WSK_FLAG_LISTEN_SOCKET:
	case WSK_FLAG_CONNECTION_SOCKET:
	case WSK_FLAG_STREAM_SOCKET:
		break;
	case WSK_FLAG_DATAGRAM_SOCKET:
		return STATUS_NOT_SUPPORTED;
	default:
		return STATUS_INVALID_PARAMETER;
	}
	if (family != AF_INET || type != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return STATUS_NOT_SUPPORTED;
	if (wsk_free_sockets(c) == 0 || !wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	so = wsk_sock_alloc(c, flags, context,
			    flags == WSK_FLAG_BASIC_SOCKET ? NULL
							   : client_dispatch);
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS,
		    (uint64_t)(uintptr_t)so, 0);
	if (socket_out != NULL)
		*socket_out = &so->pub;
	return STATUS_SUCCESS;
}

NTSTATUS
wsk_socket(struct wsk_client *c, int family, int type, int protocol,
	   uint32_t flags, void *context, WSK_SOCKET **socket_out,
	   const struct wsk_request *req)
{
	return wsk_socket_ex(c, family, type, protocol, flags, context, NULL,
			     socket_out, req);
}

void *
wsk_socket_context(const WSK_SOCKET *s)
{
	return s == NULL ? NULL : ((const struct wsk_sock *)s)->context;
}

/* --- basic ------------------------------------------------------------------ */

static NTSTATUS
ws_close_socket(WSK_SOCKET *s, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *last;

	if (so == NULL || sock_closed(so) || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	/* Reserve first: a close that cannot be completed must not
	 * happen. */
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	last = wsk_sock_fail_pending(so, STATUS_CANCELLED);
	wsk_sock_detach(so);
	if (so->ind_retained > 0) {
		/* As in WSK, closing does not take back what the application
		 * retained: the data stays valid, and the close completes
		 * when release() returns the last of it (wsk_recv.c). */
		work_remove(so);
		wsk_bind_table_clear(so);
		so->state = SOCK_CLOSING;
		so->close_cq = req->cq;
		so->close_user_data = req->user_data;
		return STATUS_PENDING;
	}
	wsk_sock_free(so);
	if (last != NULL) {
		/* Cancelled requests complete before the close (WSK.md 2.3
		 * rule 2); one waits for its memory's release. */
		last->then_cq = req->cq;
		last->then_user_data = req->user_data;
		return STATUS_PENDING;
	}
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	return STATUS_SUCCESS;
}

/* --- bind ------------------------------------------------------------------- */

NTSTATUS
wsk_sock_bind(struct wsk_sock *so, rte_be32_t ip, rte_be16_t port)
{
	struct wsk_client *c = so->client;
	const struct port *p;

	if (so->bound)
		return STATUS_ADDRESS_ALREADY_ASSOCIATED;
	p = c->shard->ports[c->port_index].port;
	if (ip != 0 && port_addr_index(p, ip) < 0)
		return STATUS_INVALID_ADDRESS_COMPONENT;
	if (port == 0) {
		unsigned span = EPHEMERAL_HI - EPHEMERAL_LO + 1, i;

		for (i = 0; i < span; i++) {
			uint16_t cand = c->next_ephemeral;

			c->next_ephemeral = cand == EPHEMERAL_HI ?
					    EPHEMERAL_LO : cand + 1;
			if (!port_taken(c, ip, rte_cpu_to_be_16(cand),
					so->reuseaddr)) {
				port = rte_cpu_to_be_16(cand);
				break;
			}
		}
		if (i == span)
			return STATUS_SHARING_VIOLATION;
	} else if (port_taken(c, ip, port, so->reuseaddr)) {
		return STATUS_SHARING_VIOLATION;
	}
	so->bound = true;
	so->laddr = ip;
	so->lport = port;
	wsk_bind_table_set(so);
	c->counters.binds++;
	return STATUS_SUCCESS;
}

static NTSTATUS
ws_bind(WSK_SOCKET *s, const struct sockaddr *local, uint32_t flags,
	const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	rte_be32_t ip;
	rte_be16_t port;
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_BINDABLE, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags != 0)
		return STATUS_INVALID_PARAMETER;
	st = addr_parse(local, &ip, &port);
	if (st != STATUS_SUCCESS)
		return st;
	if (so->bound)
		return STATUS_ADDRESS_ALREADY_ASSOCIATED;
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	st = wsk_sock_bind(so, ip, port);
	/* WSK: a listen socket listens from its bind on. */
	if (st == STATUS_SUCCESS && so->category == WSK_FLAG_LISTEN_SOCKET) {
		st = wsk_listen_start(so);
		if (st != STATUS_SUCCESS) {
			wsk_bind_table_clear(so);
			so->bound = false;
		}
	}
	if (st != STATUS_SUCCESS) {
		wsk_cq_unreserve(req->cq);
		return st;
	}
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	return STATUS_SUCCESS;
}

/* --- connect ---------------------------------------------------------------- */

static NTSTATUS
ws_connect_ex(WSK_SOCKET *s, const struct sockaddr *remote, const WSK_BUF *buf,
	      uint32_t flags, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_client *c;
	struct tcp_conn_opts opts = {0};
	struct wsk_req *r;
	WSK_BUF rest;
	rte_be32_t ip, laddr;
	rte_be16_t port;
	bool dead;
	NTSTATUS st;
	int rc;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	/* The seed's two documented argument errors come first. */
	if (flags != 0)
		return STATUS_INVALID_PARAMETER;
	if (buf != NULL && buf->length > WSK_CONNECT_EX_MAX_BUFFER)
		return STATUS_BUFFER_OVERFLOW;
	if (buf != NULL && !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	st = addr_parse(remote, &ip, &port);
	if (st != STATUS_SUCCESS)
		return st;
	if (so->state == SOCK_CONNECTING || so->state == SOCK_CONNECTED)
		return STATUS_CONNECTION_ACTIVE;
	if (!so->bound || so->state != SOCK_OPEN)
		return STATUS_INVALID_DEVICE_STATE;
	if (ip == 0 || port == 0)
		return STATUS_INVALID_ADDRESS_COMPONENT;
	c = so->client;
	r = req_accept(c, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	rest = buf != NULL ? *buf : (WSK_BUF){ .length = 0 };
	opts.tfo = so->fastopen;
	if (rest.length > 0) {
		/* The buffer's first contiguous piece is the connection's
		 * initial data, queued before the SYN is built: with
		 * TCP_FASTOPEN part of it can ride in the SYN, without it
		 * the SYN goes alone and the data follows the handshake.
		 * Either way it is copied once, into the send queue, instead
		 * of staged and copied again at the handshake. The rest is
		 * staged and follows it. The send buffer (SO_SNDBUF) bounds
		 * what tcp_connect() may queue. */
		size_t piece = RTE_MIN(buf->length,
				       buf->mdl->len - buf->offset);
		uint32_t room = so->snd_buf != 0 ? so->snd_buf :
				tcp_default_snd_buf(c->shard);

		opts.data = (const uint8_t *)buf->mdl->va + buf->offset;
		opts.data_len = (uint32_t)RTE_MIN(piece, (size_t)room);
		if (opts.data_len == buf->mdl->len - buf->offset) {
			rest.mdl = buf->mdl->next;
			rest.offset = 0;
		} else {
			rest.offset = buf->offset + opts.data_len;
		}
		rest.length = buf->length - opts.data_len;
	}
	if (rest.length > 0 && !wsk_stage_copy(so, &rest)) {
		req_refuse(c, r);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	r->end = buf != NULL ? buf->length : 0;
	laddr = so->laddr != 0 ? so->laddr :
		c->shard->ports[c->port_index].port->conf.addrs[0].ip;
	opts.nodelay = so->nodelay;
	opts.snd_buf = so->snd_buf;
	opts.rcv_buf = so->rcv_buf;
	opts.mss = so->maxseg;
	wsk_keepalive_apply(so, &opts);
	/* Set before tcp_connect(): its upcalls find the socket ready. */
	so->connect_req = r;
	so->snd_total = r->end;
	so->snd_acked = 0;
	so->state = SOCK_CONNECTING;
	rc = tcp_connect(c->shard, c->port_index, laddr, so->lport, ip, port,
			 &opts, so, &so->conn);
	if (rc != 0) {
		so->connect_req = NULL;
		so->snd_total = 0;
		so->state = SOCK_OPEN;
		so->conn = NULL;
		wsk_stage_free(so);
		req_refuse(c, r);
		switch (rc) {
		case -EINVAL:
			return STATUS_INVALID_ADDRESS_COMPONENT;
		case -EADDRINUSE:
			return STATUS_ADDRESS_ALREADY_EXISTS;
		default:
			return STATUS_INSUFFICIENT_RESOURCES;
		}
	}
	if (so->laddr != laddr) {
		/* A wildcard bind now holds the connection's address, as
		 * later binds see it. */
		so->laddr = laddr;
		wsk_bind_table_set(so);
	}
	so->raddr = ip;
	so->rport = port;
	return STATUS_PENDING;
}

static NTSTATUS
ws_connect(WSK_SOCKET *s, const struct sockaddr *remote, uint32_t flags,
	   const struct wsk_request *req)
{
	return ws_connect_ex(s, remote, NULL, flags, req);
}

/* --- socket_connect --------------------------------------------------------- */

NTSTATUS
wsk_socket_connect(struct wsk_client *c, int type, int protocol,
		   const struct sockaddr *local, const struct sockaddr *remote,
		   uint32_t flags, void *context,
		   const WSK_CLIENT_CONNECTION_DISPATCH *client_dispatch,
		   const struct wsk_request *req)
{
	struct wsk_sock *so;
	rte_be32_t ip;
	rte_be16_t port;
	NTSTATUS st;

	if (c == NULL || !req_valid(req) || flags != 0 || remote == NULL)
		return STATUS_INVALID_PARAMETER;
	st = addr_parse(local, &ip, &port);
	if (st != STATUS_SUCCESS)
		return st == STATUS_INVALID_ADDRESS_COMPONENT ?
		       STATUS_NOT_SUPPORTED : st;
	if (type != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP))
		return STATUS_NOT_SUPPORTED;
	so = wsk_sock_alloc(c, WSK_FLAG_CONNECTION_SOCKET, context,
			    client_dispatch);
	if (so == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	st = wsk_sock_bind(so, ip, port);
	if (st == STATUS_SUCCESS)
		st = so->pub.connection->connect_ex(&so->pub, remote, NULL, 0,
						    req);
	if (st != STATUS_PENDING) {
		/* Refused before acceptance: nothing was posted. */
		wsk_sock_detach(so);
		wsk_sock_free(so);
		return st;
	}
	/* Set after the call: connect_ex completes only from an upcall, and
	 * its handshake cannot finish inside tcp_connect(). */
	so->connect_req->info_socket = true;
	return STATUS_PENDING;
}

/* --- addresses -------------------------------------------------------------- */

static NTSTATUS
ws_get_local_address(WSK_SOCKET *s, struct sockaddr *out,
		     const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_BINDABLE, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (out == NULL)
		return STATUS_INVALID_PARAMETER;
	if (!so->bound)
		return STATUS_INVALID_DEVICE_STATE;
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	addr_write(out, so->laddr, so->lport);
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, sizeof(struct sockaddr_in), 0);
	return STATUS_SUCCESS;
}

static NTSTATUS
ws_get_remote_address(WSK_SOCKET *s, struct sockaddr *out,
		      const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (out == NULL)
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED)
		return STATUS_INVALID_DEVICE_STATE;
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	addr_write(out, so->raddr, so->rport);
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, sizeof(struct sockaddr_in), 0);
	return STATUS_SUCCESS;
}

/* --- dispatch tables -------------------------------------------------------- */

#define BASIC { .control_socket = wsk_call_control_socket,		\
		.close_socket = ws_close_socket }

static const WSK_PROVIDER_BASIC_DISPATCH basic_dispatch = BASIC;

static const WSK_PROVIDER_LISTEN_DISPATCH listen_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.accept = wsk_call_accept,
	.get_local_address = ws_get_local_address,
};

static const WSK_PROVIDER_CONNECTION_DISPATCH connection_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.connect = ws_connect,
	.get_local_address = ws_get_local_address,
	.get_remote_address = ws_get_remote_address,
	.send = wsk_call_send,
	.receive = wsk_call_receive,
	.disconnect = wsk_call_disconnect,
	.release = wsk_call_release,
	.connect_ex = ws_connect_ex,
};

static const WSK_PROVIDER_STREAM_DISPATCH stream_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.accept = wsk_call_accept,
	.connect = ws_connect,
	.listen = wsk_call_listen,
	.send = wsk_call_send,
	.receive = wsk_call_receive,
	.disconnect = wsk_call_disconnect,
	.release = wsk_call_release,
	.get_local_address = ws_get_local_address,
	.get_remote_address = ws_get_remote_address,
	.connect_ex = ws_connect_ex,
};
