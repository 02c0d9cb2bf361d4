/*
 * wskapi sockets over the TCP engine: the client, the per-category
 * dispatch tables and every call of wsk.h, plus the TCP upcalls that
 * finish pending requests.
 *
 * Sockets and request records come from pools made in wsk_client_create();
 * no call allocates. A request's completion slot is reserved when it is
 * accepted, so posting never fails.
 *
 * Send accounting: every byte a request hands to the connection (the
 * connect_ex buffer first, then sends in order) gets a place in one
 * cumulative stream position. The acked() upcall advances snd_acked; a
 * request completes when snd_acked reaches its end, which keeps sends in
 * submission order and the connect before them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "port.h"
#include "shard.h"
#include "tcp.h"
#include "wsk.h"

#define LISTEN_BACKLOG		128
#define EPHEMERAL_LO		32768
#define EPHEMERAL_HI		60999
#define MAX_SOCKETS		65536u
#define MAX_REQUESTS		(1u << 20)

enum sock_state {
	SOCK_FREE,		/* in the pool */
	SOCK_OPEN,		/* created, maybe bound */
	SOCK_LISTENING,
	SOCK_CONNECTING,	/* connect accepted, handshake not done */
	SOCK_CONNECTED,		/* handshake done */
	SOCK_DEAD,		/* the connection failed: FILE_FORCED_CLOSED */
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
};

struct req_queue {
	struct wsk_req *head, *tail;
};

struct wsk_sock {
	WSK_SOCKET pub;			/* first: WSK_SOCKET * converts */
	struct wsk_client *client;
	enum sock_state state;
	uint32_t category;
	bool bound;
	bool reuseaddr;
	bool nodelay;
	bool fastopen;
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
};

struct wsk_client {
	struct shard *shard;
	uint16_t port_index;
	unsigned nb_sockets;
	struct wsk_sock *sockets;
	/* Free sockets, a FIFO of indices, so a closed slot is reused as late
	 * as possible and a call on a closed socket is caught meanwhile. */
	uint32_t *free_fifo;
	unsigned free_head, free_count;
	struct wsk_req *reqs;
	struct wsk_req *free_reqs;
	uint16_t next_ephemeral;	/* host order */
};

static const WSK_PROVIDER_BASIC_DISPATCH basic_dispatch;
static const WSK_PROVIDER_LISTEN_DISPATCH listen_dispatch;
static const WSK_PROVIDER_CONNECTION_DISPATCH connection_dispatch;
static const WSK_PROVIDER_STREAM_DISPATCH stream_dispatch;

static inline struct wsk_sock *
sock_of(WSK_SOCKET *s)
{
	return (struct wsk_sock *)s;
}

/* --- requests and completions ------------------------------------------ */

static bool
req_valid(const struct wsk_request *req)
{
	return req != NULL && req->cq != NULL;
}

/* Accept a request: reserve its completion and take a record. NULL: no
 * room in the ring or the pool, nothing held. */
static struct wsk_req *
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
static void
req_refuse(struct wsk_client *c, struct wsk_req *r)
{
	wsk_cq_unreserve(r->cq);
	r->next = c->free_reqs;
	c->free_reqs = r;
}

static void
req_complete(struct wsk_client *c, struct wsk_req *r, NTSTATUS status,
	     uint64_t information)
{
	wsk_cq_post(r->cq, r->user_data, status, information, 0);
	r->next = c->free_reqs;
	c->free_reqs = r;
}

/* A call done at once: post its completion now and return its status.
 * STATUS_INSUFFICIENT_RESOURCES (and nothing posted) without room. */
static NTSTATUS
complete_now(const struct wsk_request *req, NTSTATUS status,
	     uint64_t information)
{
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	wsk_cq_post(req->cq, req->user_data, status, information, 0);
	return status;
}

static void
rq_push(struct req_queue *q, struct wsk_req *r)
{
	r->next = NULL;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

static struct wsk_req *
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

/* --- socket checks -------------------------------------------------------- */

/*
 * The checks every call but close_socket starts with. Returns
 * STATUS_SUCCESS to go on; STATUS_INVALID_PARAMETER (no socket, a closed
 * one, no request); STATUS_INVALID_DEVICE_STATE (category not in
 * 'categories', a mask of 1 << flag bits with bit 0 standing for basic);
 * or, for a dead socket, what complete_now() gives for
 * STATUS_FILE_FORCED_CLOSED (the request completes with it).
 */
#define CAT_BIT(flag)	(1u << ((flag) == 0 ? 0 : __builtin_ctz(flag) + 1))
#define CATS_ALL	(CAT_BIT(WSK_FLAG_BASIC_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_LISTEN_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_CONNECTION_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_STREAM_SOCKET))
#define CATS_CONN	(CAT_BIT(WSK_FLAG_CONNECTION_SOCKET) |		\
			 CAT_BIT(WSK_FLAG_STREAM_SOCKET))
#define CATS_BINDABLE	(CATS_CONN | CAT_BIT(WSK_FLAG_LISTEN_SOCKET))

static NTSTATUS
sock_check(struct wsk_sock *so, const struct wsk_request *req,
	   unsigned categories, bool *dead)
{
	*dead = false;
	if (so == NULL || so->state == SOCK_FREE || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	if (!(CAT_BIT(so->category) & categories))
		return STATUS_INVALID_DEVICE_STATE;
	if (so->state == SOCK_DEAD) {
		*dead = true;
		return complete_now(req, STATUS_FILE_FORCED_CLOSED, 0);
	}
	return STATUS_SUCCESS;
}

/* Parse a sockaddr_in. STATUS_INVALID_PARAMETER for NULL,
 * STATUS_INVALID_ADDRESS_COMPONENT for another family. */
static NTSTATUS
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

static void
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
static bool
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
static void
cursor_skip(struct wsk_req *r, size_t n)
{
	r->left -= n;
	r->offset += n;
	while (r->mdl != NULL && r->offset >= r->mdl->len && r->left > 0) {
		r->offset -= r->mdl->len;
		r->mdl = r->mdl->next;
	}
}

/* --- sending ---------------------------------------------------------------- */

static void
stage_free(struct wsk_sock *so)
{
	while (so->stage_head != NULL) {
		struct rte_mbuf *m = so->stage_head;

		so->stage_head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	so->stage_tail = NULL;
}

/* Copy a connect_ex buffer into mbufs. Returns false (nothing kept) when
 * the shard's pool runs dry. */
static bool
stage_copy(struct wsk_sock *so, const WSK_BUF *b)
{
	struct wsk_req cur = {
		.mdl = b->mdl, .offset = b->offset, .left = b->length,
	};

	while (cur.left > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(so->client->shard->pool);
		size_t room, n;

		if (m == NULL) {
			stage_free(so);
			return false;
		}
		rte_pktmbuf_reset_headroom(m);
		room = rte_pktmbuf_tailroom(m);
		n = 0;
		while (n < room && cur.left > 0) {
			size_t k = RTE_MIN(room - n, RTE_MIN(cur.left,
					cur.mdl->len - cur.offset));

			memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, n),
			       (uint8_t *)cur.mdl->va + cur.offset, k);
			n += k;
			cursor_skip(&cur, k);
		}
		m->data_len = (uint16_t)n;
		m->pkt_len = (uint32_t)n;
		m->next = NULL;
		if (so->stage_tail != NULL)
			so->stage_tail->next = m;
		else
			so->stage_head = m;
		so->stage_tail = m;
	}
	return true;
}

/* Hand the connection as much as it takes: staged connect_ex bytes first,
 * then sends in order. */
static void
push(struct wsk_sock *so)
{
	if (so->conn == NULL || so->state != SOCK_CONNECTED)
		return;
	while (so->stage_head != NULL) {
		struct rte_mbuf *m = so->stage_head;
		int32_t k = tcp_send(so->conn, rte_pktmbuf_mtod(m, void *),
				     m->data_len);

		if (k <= 0)
			return;
		if ((uint16_t)k < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)k);
			return;
		}
		so->stage_head = m->next;
		if (so->stage_head == NULL)
			so->stage_tail = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	while (so->push_cursor != NULL) {
		struct wsk_req *r = so->push_cursor;

		while (r->left > 0) {
			size_t k = RTE_MIN(r->left, r->mdl->len - r->offset);
			int32_t n;

			if (k > UINT32_MAX)
				k = UINT32_MAX;
			n = tcp_send(so->conn, (uint8_t *)r->mdl->va + r->offset,
				     (uint32_t)k);
			if (n <= 0)
				return;
			cursor_skip(r, (size_t)n);
			if ((size_t)n < k)
				return;
		}
		so->push_cursor = r->next;
	}
}

/* Complete the connect and the sends whose bytes are all acknowledged. */
static void
complete_acked(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	struct wsk_req *r;

	if (so->state != SOCK_CONNECTED)
		return;
	if (so->connect_req != NULL) {
		r = so->connect_req;
		if (so->snd_acked < r->end)
			return;
		so->connect_req = NULL;
		req_complete(c, r, STATUS_SUCCESS, r->end);
	}
	while (so->sends.head != NULL && so->sends.head->end <= so->snd_acked &&
	       so->sends.head->left == 0) {
		r = rq_pop(&so->sends);
		req_complete(c, r, STATUS_SUCCESS, r->length);
	}
}

/* --- receiving -------------------------------------------------------------- */

/* Serve pending receives from what the connection holds. */
static void
serve_receives(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;

	while (so->recvs.head != NULL && so->conn != NULL) {
		struct wsk_req *r = so->recvs.head;
		size_t got = 0;

		if (tcp_rcv_bytes(so->conn) == 0 && !tcp_rcv_fin(so->conn))
			return;
		while (r->left > 0) {
			size_t k = RTE_MIN(r->left, r->mdl->len - r->offset);
			uint32_t n;

			if (k > UINT32_MAX)
				k = UINT32_MAX;
			n = tcp_recv(so->conn, (uint8_t *)r->mdl->va + r->offset,
				     (uint32_t)k);
			if (n == 0)
				break;
			got += n;
			cursor_skip(r, n);
		}
		rq_pop(&so->recvs);
		req_complete(c, r, STATUS_SUCCESS, got);
	}
}

/* --- failure and teardown --------------------------------------------------- */

/* Complete every pending request of the socket with 'status'. */
static void
fail_pending(struct wsk_sock *so, NTSTATUS status)
{
	struct wsk_client *c = so->client;
	struct wsk_req *r;

	if (so->connect_req != NULL) {
		r = so->connect_req;
		so->connect_req = NULL;
		req_complete(c, r, status, 0);
	}
	while ((r = rq_pop(&so->sends)) != NULL)
		req_complete(c, r, status, 0);
	so->push_cursor = NULL;
	while ((r = rq_pop(&so->recvs)) != NULL)
		req_complete(c, r, status, 0);
	stage_free(so);
}

/* Drop the socket's engine objects without telling anyone. */
static void
sock_detach(struct wsk_sock *so)
{
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

static void
sock_free(struct wsk_sock *so)
{
	struct wsk_client *c = so->client;
	unsigned tail = (c->free_head + c->free_count) % c->nb_sockets;

	so->state = SOCK_FREE;
	c->free_fifo[tail] = (uint32_t)(so - c->sockets);
	c->free_count++;
}

/* --- upcalls ---------------------------------------------------------------- */

static void
up_connected(struct tcp_conn *conn)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so == NULL || so->state != SOCK_CONNECTING)
		return;
	so->state = SOCK_CONNECTED;
	push(so);
	complete_acked(so);
}

static void
up_readable(struct tcp_conn *conn)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so != NULL && so->state == SOCK_CONNECTED)
		serve_receives(so);
}

static void
up_acked(struct tcp_conn *conn, uint32_t bytes)
{
	struct wsk_sock *so = tcp_conn_user(conn);

	if (so == NULL || so->state != SOCK_CONNECTED)
		return;
	so->snd_acked += bytes;
	push(so);
	complete_acked(so);
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

	if (so == NULL)
		return;
	/* Receives posted before the close still get the data and FIN that
	 * arrived; what remains fails with the reason. */
	if (so->state == SOCK_CONNECTED)
		serve_receives(so);
	so->state = SOCK_DEAD;
	fail_pending(so, close_status(reason));
	so->conn = NULL;
	tcp_conn_set_user(conn, NULL);
	tcp_release(conn);
}

static const struct tcp_upcalls wsk_upcalls = {
	.connected = up_connected,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

/* --- client ----------------------------------------------------------------- */

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
	if (c->sockets == NULL || c->free_fifo == NULL || c->reqs == NULL) {
		free(c->sockets);
		free(c->free_fifo);
		free(c->reqs);
		free(c);
		return NULL;
	}
	for (unsigned i = 0; i < max_sockets; i++) {
		c->sockets[i].client = c;
		c->sockets[i].state = SOCK_FREE;
		c->free_fifo[i] = i;
	}
	c->free_count = max_sockets;
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
		fail_pending(so, STATUS_CANCELLED);
		sock_detach(so);
		so->state = SOCK_FREE;
	}
	tcp_set_upcalls(c->shard, &none);
	free(c->sockets);
	free(c->free_fifo);
	free(c->reqs);
	free(c);
}

NTSTATUS
wsk_socket(struct wsk_client *c, int family, int type, int protocol,
	   uint32_t flags, void *context, WSK_SOCKET **socket_out,
	   const struct wsk_request *req)
{
	struct wsk_sock *so;
	const void *dispatch;
	NTSTATUS st;

	if (c == NULL || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	switch (flags) {
	case WSK_FLAG_BASIC_SOCKET:
		dispatch = &basic_dispatch;
		break;
	case WSK_FLAG_LISTEN_SOCKET:
		dispatch = &listen_dispatch;
		break;
	case WSK_FLAG_CONNECTION_SOCKET:
		dispatch = &connection_dispatch;
		break;
	case WSK_FLAG_STREAM_SOCKET:
		dispatch = &stream_dispatch;
		break;
	case WSK_FLAG_DATAGRAM_SOCKET:
		return STATUS_NOT_SUPPORTED;
	default:
		return STATUS_INVALID_PARAMETER;
	}
	if (family != AF_INET || type != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return STATUS_NOT_SUPPORTED;
	if (c->free_count == 0)
		return STATUS_INSUFFICIENT_RESOURCES;
	so = &c->sockets[c->free_fifo[c->free_head]];
	st = complete_now(req, STATUS_SUCCESS, (uint64_t)(uintptr_t)so);
	if (st != STATUS_SUCCESS)
		return st;
	c->free_head = (c->free_head + 1) % c->nb_sockets;
	c->free_count--;
	memset(so, 0, sizeof(*so));
	so->client = c;
	so->pub.dispatch = dispatch;
	so->category = flags;
	so->context = context;
	so->state = SOCK_OPEN;
	if (socket_out != NULL)
		*socket_out = &so->pub;
	return STATUS_SUCCESS;
}

void *
wsk_socket_context(const WSK_SOCKET *s)
{
	return s == NULL ? NULL : ((const struct wsk_sock *)s)->context;
}

/* --- basic ------------------------------------------------------------------ */

static NTSTATUS
ws_control_socket(WSK_SOCKET *s, enum wsk_control_socket_type type,
		  uint32_t code, uint32_t level, size_t in_size,
		  const void *in_buf, size_t out_size, void *out_buf,
		  size_t *out_size_returned, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool *opt = NULL;
	uint32_t v;

	/* A NULL request is allowed here: the call completes synchronously
	 * and posts nothing. */
	if (so == NULL || so->state == SOCK_FREE ||
	    (req != NULL && req->cq == NULL))
		return STATUS_INVALID_PARAMETER;
	if (so->state == SOCK_DEAD)
		return req == NULL ? STATUS_FILE_FORCED_CLOSED :
		       complete_now(req, STATUS_FILE_FORCED_CLOSED, 0);
	if (type == WskIoctl)
		return STATUS_NOT_SUPPORTED;
	if (type != WskSetOption && type != WskGetOption)
		return STATUS_INVALID_PARAMETER;
	if (level == WSK_SOL_SOCKET && code == WSK_SO_REUSEADDR)
		opt = &so->reuseaddr;
	else if (level == WSK_IPPROTO_TCP && code == WSK_TCP_NODELAY)
		opt = &so->nodelay;
	else if (level == WSK_IPPROTO_TCP && code == WSK_TCP_FASTOPEN)
		opt = &so->fastopen;
	else
		return STATUS_NOT_SUPPORTED;
	if (type == WskSetOption) {
		if (in_buf == NULL || in_size < sizeof(v))
			return STATUS_INVALID_PARAMETER;
		memcpy(&v, in_buf, sizeof(v));
		*opt = v != 0;
		if (out_size_returned != NULL)
			*out_size_returned = 0;
		return req == NULL ? STATUS_SUCCESS
				   : complete_now(req, STATUS_SUCCESS, 0);
	}
	if (out_buf == NULL || out_size < sizeof(v))
		return STATUS_INVALID_PARAMETER;
	if (req != NULL && !wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	v = *opt;
	memcpy(out_buf, &v, sizeof(v));
	if (out_size_returned != NULL)
		*out_size_returned = sizeof(v);
	if (req != NULL)
		wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS,
			    sizeof(v), 0);
	return STATUS_SUCCESS;
}

static NTSTATUS
ws_close_socket(WSK_SOCKET *s, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);

	if (so == NULL || so->state == SOCK_FREE || !req_valid(req))
		return STATUS_INVALID_PARAMETER;
	/* Reserve first: a close that cannot be completed must not
	 * happen. */
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	fail_pending(so, STATUS_CANCELLED);
	sock_detach(so);
	sock_free(so);
	wsk_cq_post(req->cq, req->user_data, STATUS_SUCCESS, 0, 0);
	return STATUS_SUCCESS;
}

/* --- bind, listen ----------------------------------------------------------- */

/* Is (ip, port) taken by another socket of the client? */
static bool
port_taken(const struct wsk_client *c, const struct wsk_sock *self,
	   rte_be32_t ip, rte_be16_t port, bool reuse)
{
	for (unsigned i = 0; i < c->nb_sockets; i++) {
		const struct wsk_sock *o = &c->sockets[i];

		if (o == self || o->state == SOCK_FREE || !o->bound ||
		    o->lport != port)
			continue;
		if (o->laddr != 0 && ip != 0 && o->laddr != ip)
			continue;
		if (reuse && o->reuseaddr)
			continue;
		return true;
	}
	return false;
}

static NTSTATUS
ws_bind(WSK_SOCKET *s, const struct sockaddr *local, uint32_t flags,
	const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_client *c;
	const struct port *p;
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
	c = so->client;
	p = c->shard->ports[c->port_index].port;
	if (ip != 0 && port_addr_index(p, ip) < 0)
		return STATUS_INVALID_ADDRESS_COMPONENT;
	if (port == 0) {
		unsigned span = EPHEMERAL_HI - EPHEMERAL_LO + 1, i;

		for (i = 0; i < span; i++) {
			uint16_t cand = c->next_ephemeral;

			c->next_ephemeral = cand == EPHEMERAL_HI ?
					    EPHEMERAL_LO : cand + 1;
			if (!port_taken(c, so, ip, rte_cpu_to_be_16(cand),
					so->reuseaddr)) {
				port = rte_cpu_to_be_16(cand);
				break;
			}
		}
		if (i == span)
			return STATUS_SHARING_VIOLATION;
	} else if (port_taken(c, so, ip, port, so->reuseaddr)) {
		return STATUS_SHARING_VIOLATION;
	}
	st = complete_now(req, STATUS_SUCCESS, 0);
	if (st != STATUS_SUCCESS)
		return st;
	so->bound = true;
	so->laddr = ip;
	so->lport = port;
	return STATUS_SUCCESS;
}

static NTSTATUS
ws_listen(WSK_SOCKET *s, const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	bool dead;
	NTSTATUS st;
	int rc;

	st = sock_check(so, req, CAT_BIT(WSK_FLAG_STREAM_SOCKET), &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (!so->bound || so->state != SOCK_OPEN)
		return STATUS_INVALID_DEVICE_STATE;
	if (!wsk_cq_reserve(req->cq))
		return STATUS_INSUFFICIENT_RESOURCES;
	rc = tcp_listen(so->client->shard, so->laddr, so->lport,
			LISTEN_BACKLOG, so, &so->listener);
	if (rc != 0) {
		wsk_cq_unreserve(req->cq);
		return rc == -EADDRINUSE ? STATUS_SHARING_VIOLATION
					 : STATUS_INSUFFICIENT_RESOURCES;
	}
	so->state = SOCK_LISTENING;
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
	if (buf != NULL && buf->length > 0 && !stage_copy(so, buf)) {
		req_refuse(c, r);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	r->end = buf != NULL ? buf->length : 0;
	laddr = so->laddr != 0 ? so->laddr :
		c->shard->ports[c->port_index].port->conf.addrs[0].ip;
	opts.nodelay = so->nodelay;
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
		stage_free(so);
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
	so->laddr = laddr;
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

/* --- send, receive ---------------------------------------------------------- */

static NTSTATUS
ws_send(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
	const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags & ~WSK_FLAG_NODELAY)
		return STATUS_NOT_SUPPORTED;
	if (buf == NULL || !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED)
		return STATUS_INVALID_DEVICE_STATE;
	if (buf->length == 0)
		return complete_now(req, STATUS_SUCCESS, 0);
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	r->mdl = buf->mdl;
	r->offset = buf->offset;
	r->left = buf->length;
	r->length = buf->length;
	cursor_skip(r, 0);
	so->snd_total += buf->length;
	r->end = so->snd_total;
	rq_push(&so->sends, r);
	if (so->push_cursor == NULL)
		so->push_cursor = r;
	push(so);
	return STATUS_PENDING;
}

static NTSTATUS
ws_receive(WSK_SOCKET *s, const WSK_BUF *buf, uint32_t flags,
	   const struct wsk_request *req)
{
	struct wsk_sock *so = sock_of(s);
	struct wsk_req *r;
	bool dead, ready;
	NTSTATUS st;

	st = sock_check(so, req, CATS_CONN, &dead);
	if (st != STATUS_SUCCESS || dead)
		return st;
	if (flags != 0)
		return STATUS_NOT_SUPPORTED;
	if (buf == NULL || buf->length == 0 || !buf_valid(buf))
		return STATUS_INVALID_PARAMETER;
	if (so->state != SOCK_CONNECTED)
		return STATUS_INVALID_DEVICE_STATE;
	r = req_accept(so->client, req);
	if (r == NULL)
		return STATUS_INSUFFICIENT_RESOURCES;
	r->mdl = buf->mdl;
	r->offset = buf->offset;
	r->left = buf->length;
	r->length = buf->length;
	cursor_skip(r, 0);
	ready = so->recvs.head == NULL &&
		(tcp_rcv_bytes(so->conn) > 0 || tcp_rcv_fin(so->conn));
	rq_push(&so->recvs, r);
	serve_receives(so);
	return ready ? STATUS_SUCCESS : STATUS_PENDING;
}

/* --- dispatch tables -------------------------------------------------------- */

#define BASIC { .control_socket = ws_control_socket,			\
		.close_socket = ws_close_socket }

static const WSK_PROVIDER_BASIC_DISPATCH basic_dispatch = BASIC;

static const WSK_PROVIDER_LISTEN_DISPATCH listen_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.get_local_address = ws_get_local_address,
};

static const WSK_PROVIDER_CONNECTION_DISPATCH connection_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.connect = ws_connect,
	.get_local_address = ws_get_local_address,
	.get_remote_address = ws_get_remote_address,
	.send = ws_send,
	.receive = ws_receive,
	.connect_ex = ws_connect_ex,
};

static const WSK_PROVIDER_STREAM_DISPATCH stream_dispatch = {
	.basic = BASIC,
	.bind = ws_bind,
	.connect = ws_connect,
	.listen = ws_listen,
	.send = ws_send,
	.receive = ws_receive,
	.get_local_address = ws_get_local_address,
	.get_remote_address = ws_get_remote_address,
	.connect_ex = ws_connect_ex,
};
