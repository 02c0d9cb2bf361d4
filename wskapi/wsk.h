/*
 * wskapi: Winsock Kernel in shape, completion rings instead of IRPs.
 *
 * This is the one header applications include. Every call mirrors a WSK
 * function (WskSocket, WskBind, WskConnect, WskConnectEx, ...) with the
 * same parameters and the same status rules, except that where WSK takes
 * a PIRP, wskapi takes a request:
 *
 *	struct wsk_request { struct wsk_cq *cq; uint64_t user_data; }
 *
 * The call copies the request at once (the struct itself may live on the
 * caller's stack). When the operation finishes, a completion
 * {user_data, status, information, flags} is posted to cq (wsk_cq.h),
 * where IoStatus.Status and IoStatus.Information would have gone.
 *
 * WHAT A CALL RETURNS (WSK.md 2.3 rule 1):
 *  - STATUS_SUCCESS: done already; the completion is posted anyway (WSK
 *    completes the IRP too), so a caller may reap every request the same
 *    way.
 *  - STATUS_PENDING: accepted; exactly one completion follows.
 *  - STATUS_FILE_FORCED_CLOSED: the socket is dead (its connection was
 *    refused, reset, timed out or aborted). As the WSK page says, the
 *    request is still completed, with that status; the application must
 *    call close_socket soon. Every call but close_socket answers so.
 *  - any other status: refused before acceptance (Flags != 0, a buffer
 *    over 65,535 bytes, a NULL pointer, a wrong category, a wrong state, no
 *    room in the ring): NO completion is posted.
 * Room for the completion is reserved when a request is accepted; a ring
 * that cannot promise one refuses the call with
 * STATUS_INSUFFICIENT_RESOURCES, so no completion is ever lost.
 *
 * STATUS_BUFFER_OVERFLOW is a warning (NT_ERROR() is false): treat every
 * value but STATUS_SUCCESS and STATUS_PENDING as a failure.
 *
 * THREADS. A wsk_client belongs to one engine shard; every call on it and
 * its sockets must run on that shard's thread (in tests: the thread that
 * polls the shard). Nothing on a call's path allocates, locks or makes a
 * system call: sockets and pending requests come from pools sized in
 * wsk_client_create(). The client takes the shard's TCP upcalls
 * (tcp_set_upcalls), so one shard serves one client.
 *
 * ADDRESSES. IPv4 only: a struct sockaddr_in with sin_family AF_INET, port
 * and address in network byte order. wsk_socket() with another family
 * returns STATUS_NOT_SUPPORTED; an address whose sin_family is not AF_INET
 * returns STATUS_INVALID_ADDRESS_COMPONENT.
 *
 * BUFFERS. A WSK_BUF is {mdl, offset, length} over a chain of user memory
 * segments (struct wsk_mdl). Buffers belong to the engine from the call
 * until the completion is posted (rule 5). send copies bytes into mbufs
 * as the send buffer makes room, except from memory registered with
 * wsk_register_memory(): a segment that lies wholly inside a registered
 * region (and is at least WSK_ZEROCOPY_MIN_SEGMENT long) is attached to
 * mbufs without a copy (zero-copy transmit), and the send completes only
 * once no mbuf references it any more. Copied and attached segments mix
 * freely in one chain; the stream keeps their order. connect_ex and
 * disconnect buffers are always copied. The other way round, the receive
 * event lends the application the engine's own buffers: each
 * WSK_DATA_INDICATION's MDL points into a received mbuf, valid during the
 * callback, or, if the callback returns STATUS_PENDING, until release()
 * gives it back. Receive requests copy into the application's WSK_BUF.
 *
 * SOCKET LIFETIME. A WSK_SOCKET pointer is valid until its close_socket
 * request completes. A closed socket's slot is used again only after at
 * least 1,024 other sockets closed (oldest-closed first; sooner only when
 * nothing else is free), so a call on a closed socket is caught
 * (STATUS_INVALID_PARAMETER, no completion) meanwhile; do not rely on it.
 */
#ifndef WSKDP_WSK_H
#define WSKDP_WSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "wsk_cq.h"
#include "wsk_status.h"

struct shard;

/* Where a WSK call takes an IRP. Copied by the call. */
struct wsk_request {
	struct wsk_cq *cq;	/* ring to post the completion to */
	uint64_t user_data;	/* returned in the completion */
};

/* One segment of user memory (the MDL of a WSK_BUF). */
struct wsk_mdl {
	void *va;
	size_t len;
	struct wsk_mdl *next;	/* NULL ends the chain */
};

/* Bytes [offset, offset + length) of the chain starting at mdl; offset
 * lies in the first segment. mdl may be NULL when length is 0. */
typedef struct wsk_buf {
	struct wsk_mdl *mdl;
	size_t offset;
	size_t length;
} WSK_BUF;

/* Socket categories, chosen by wsk_socket()'s flags (WSK values). */
#define WSK_FLAG_BASIC_SOCKET		0x00000000u
#define WSK_FLAG_LISTEN_SOCKET		0x00000001u
#define WSK_FLAG_CONNECTION_SOCKET	0x00000002u
#define WSK_FLAG_DATAGRAM_SOCKET	0x00000004u
#define WSK_FLAG_STREAM_SOCKET		0x00000008u

/* send() flag: accepted; the connection's TCP_NODELAY decides Nagle. */
#define WSK_FLAG_NODELAY		0x00000002u

/* receive() flags (WSK values; never both). */
#define WSK_FLAG_WAITALL		0x00000002u
#define WSK_FLAG_DRAIN			0x00000004u

/* disconnect() flag, and the disconnect event's flag for a peer reset. */
#define WSK_FLAG_ABORTIVE		0x00000001u

/* Receive event flags (WSK values). RELEASE_ASAP: the client's pool of
 * indication elements is running low (fewer than a quarter free): the
 * application should not retain this indication, or release it soon.
 * ENTIRE_MESSAGE is never set (TCP has no messages). */
#define WSK_FLAG_RELEASE_ASAP		0x00000002u
#define WSK_FLAG_ENTIRE_MESSAGE		0x00000004u

/* The receive event's elements per client: max_requests, at least
 * WSK_INDICATION_POOL_MIN, at most WSK_INDICATION_POOL_MAX
 * (wsk_client_create()). */
#define WSK_INDICATION_POOL_MIN		64u
#define WSK_INDICATION_POOL_MAX		262144u

/* Largest connect_ex buffer (the WSK page). */
#define WSK_CONNECT_EX_MAX_BUFFER	65535u

/* control_socket request types (WSK_CONTROL_SOCKET_TYPE). */
enum wsk_control_socket_type {
	WskSetOption,
	WskGetOption,
	WskIoctl,
};

/* Option levels and codes control_socket knows (Winsock numbers). */
#define WSK_SOL_SOCKET		0xffff
#define WSK_SO_REUSEADDR	0x0004
#define WSK_IPPROTO_TCP		6
#define WSK_TCP_NODELAY		1
#define WSK_TCP_FASTOPEN	15
/* Keepalive (tcp_set_keepalive()), 32-bit values. SO_KEEPALIVE turns it
 * on or off; TCP_KEEPALIVE (TCP_KEEPIDLE) is the idle time in seconds,
 * TCP_KEEPINTVL the interval between probes in seconds (both 1..32767,
 * Linux's limits), TCP_KEEPCNT the probes before giving up (1..255). A
 * value never set reads as 0: the engine's default (tcp_conf). They apply
 * at once to a connected socket and at connect otherwise. */
#define WSK_SO_KEEPALIVE	0x0008
#define WSK_TCP_KEEPALIVE	3
#define WSK_TCP_KEEPCNT		16
#define WSK_TCP_KEEPINTVL	17
/*
 * Buffers and MSS, 32-bit values in bytes, with Linux's meaning (but no
 * doubling: a get returns the payload bytes the engine uses).
 * SO_SNDBUF (SOL_SOCKET): the most bytes the connection holds for sending,
 * sent but not yet acknowledged plus not yet sent: sends beyond it wait
 * in the socket, uncompleted, until acknowledgments make room. SO_RCVBUF
 * (SOL_SOCKET): the most received bytes held for reading, which bounds the
 * window advertised. Both 2048..1073741824 (TCP_BUF_MIN..TCP_BUF_MAX of
 * engine/tcp.h; 1 GiB is the largest TCP window); unset, the engine's
 * (tcp_conf snd_buf, rcv_buf: 256 KiB). Set before connect, they apply to
 * the connection; set on a listening socket (a listen socket, or a stream
 * socket before or after listen), to the connections accepted from SYNs
 * that arrive later. Set on a connected socket they apply at once:
 * SO_SNDBUF grows or shrinks the limit (bytes already queued stay, and a
 * larger limit takes waiting sends at once); SO_RCVBUF bounds the windows
 * advertised from then on, but never withdraws window already offered,
 * and the window scale fixed at the SYN caps the window at 65535 << scale
 * (8 MiB with the engine's default scale of 7; 64 KiB when the peer does
 * not scale) however large the buffer.
 * TCP_MAXSEG (IPPROTO_TCP): clamps the MSS, as Linux's: the SYN (or
 * SYN-ACK) advertises min(port MSS, value), so the peer sends no larger
 * segments, and the connection sends at most min(peer's MSS, port MSS,
 * value) bytes per segment (12 fewer when timestamps are on); Fast Open
 * SYN data fits it too. 88..65495, or 0 to remove the clamp; a value above
 * the port's MSS (MTU - 40) changes nothing. It must be set before
 * connect (or, for accepted connections, on the listening socket): once
 * the socket is connecting or connected the SYN carried the MSS, and a set
 * returns STATUS_INVALID_DEVICE_STATE.
 * A get returns the value in effect: on a connecting or connected socket
 * the connection's buffer sizes and the MSS it uses (the payload bytes
 * per segment agreed in the SYN exchange; while the SYN is unanswered,
 * the MSS it advertised); otherwise the value set or, unset, the engine's
 * buffers and the port's MSS.
 */
#define WSK_SO_SNDBUF		0x1001
#define WSK_SO_RCVBUF		0x1002
#define WSK_TCP_MAXSEG		4

/*
 * SO_WSK_EVENT_CALLBACK (SOL_SOCKET, set only): in_buf is a struct
 * wsk_event_callback_control. A mask of WSK_EVENT_* bits enables those
 * events (adding to the ones already enabled); WSK_EVENT_DISABLE with
 * exactly one event bit disables it. Every event starts disabled.
 */
#define WSK_SO_WSK_EVENT_CALLBACK	0x4002
#define WSK_EVENT_SEND_BACKLOG		0x00000010u
#define WSK_EVENT_RECEIVE		0x00000040u
#define WSK_EVENT_DISCONNECT		0x00000080u
#define WSK_EVENT_ACCEPT		0x00000200u
#define WSK_EVENT_DISABLE		0x80000000u

struct wsk_event_callback_control {
	const void *npi_id;	/* WSK's NPI id: ignored, may be NULL */
	uint32_t event_mask;
};

/* One element of a receive event's data list (WSK_DATA_INDICATION). */
typedef struct wsk_data_indication {
	struct wsk_data_indication *next;
	WSK_BUF buffer;
} WSK_DATA_INDICATION;

typedef struct wsk_socket WSK_SOCKET;
struct wsk_client;
struct wsk_client_connection_dispatch;

/*
 * Client dispatch: the application's event callbacks, given per socket at
 * creation (wsk_socket_ex(), wsk_socket_connect(), accept or the accept
 * event), as WSK's WSK_CLIENT_*_DISPATCH. A NULL member cannot be
 * enabled. Callbacks run on the shard's thread from inside the engine
 * (an upcall, wsk_client_poll(), or the call that enabled the event);
 * they must not wait, and may start new calls.
 */

/*
 * Accept event (WskAcceptEvent): a connection finished its handshake on
 * a listening socket and no accept request was queued.
 * @param socket_context     the listening socket's context.
 * @param flags              0.
 * @param local, remote      the connection's addresses (sockaddr_in,
 *                           valid during the call).
 * @param accept_socket      the new socket (connection category);
 *                           NULL never (wskapi does not report listener
 *                           death through this event).
 * @param accept_context     out: the new socket's context.
 * @param accept_dispatch    out: the new socket's client dispatch (may
 *                           stay NULL).
 * @return STATUS_SUCCESS: the socket is the application's and inherits
 *         the listener's enabled receive, disconnect and send-backlog
 *         events. STATUS_REQUEST_NOT_ACCEPTED (or any other value): the
 *         connection is reset and the socket freed.
 */
typedef NTSTATUS (*PFN_WSK_ACCEPT_EVENT)(void *socket_context,
	uint32_t flags, const struct sockaddr *local,
	const struct sockaddr *remote, WSK_SOCKET *accept_socket,
	void **accept_context, const struct wsk_client_connection_dispatch
	**accept_dispatch);

/*
 * Receive event (WskReceiveEvent): bytes arrived and no receive request
 * is queued. Nothing is copied: the list has one element per received
 * mbuf segment, in stream order, each element's buffer {mdl, 0, length}
 * with mdl->va pointing at the segment's bytes in the mbuf (mdl->next
 * NULL). A call indicates about 16 KiB at most (whole segments); more
 * calls follow while bytes remain. Elements come from a pool per client
 * (wsk_client_create()): when it runs short, fewer bytes are indicated
 * and the rest waits; when it is empty, the event waits until release()
 * gives elements back, and resumes at the next wsk_client_poll(). A
 * socket that retains much can starve the client's other sockets.
 * @param flags           WSK_FLAG_RELEASE_ASAP when the pool is low.
 * @param data_indication the list; never NULL.
 * @param bytes_indicated the bytes of the whole list.
 * @param bytes_accepted  out: how many of the bytes the callback took
 *                        (more than bytes_indicated counts as all).
 * @return STATUS_SUCCESS with *bytes_accepted == bytes_indicated: the
 *         buffers are freed when the callback returns (the list is valid
 *         only during the call); more events follow. STATUS_SUCCESS with
 *         fewer, or STATUS_DATA_NOT_ACCEPTED: the bytes not taken stay on
 *         the socket, as the same mbufs, for the next receive (served
 *         before newer bytes), and no event comes until a receive call (a
 *         zero-length receive just re-enables). STATUS_PENDING: every
 *         byte is taken and the list, elements and buffers, stays the
 *         application's until it gives it back with release() (in parts
 *         if it likes); *bytes_accepted is ignored. Any other status
 *         counts as STATUS_DATA_NOT_ACCEPTED.
 * release() reads nothing of a retained element but its next pointer,
 * which the application may relink as it likes.
 * A receive the callback starts returns STATUS_PENDING and is served once
 * the callback has returned, from the bytes it did not accept first. A
 * callback that closes its socket cannot retain the list: it is freed
 * when the callback returns, whatever the return value.
 */
typedef NTSTATUS (*PFN_WSK_RECEIVE_EVENT)(void *socket_context,
	uint32_t flags, WSK_DATA_INDICATION *data_indication,
	size_t bytes_indicated, size_t *bytes_accepted);

/*
 * Disconnect event (WskDisconnectEvent): the peer closed its side (flags
 * 0, after every byte before its FIN was received; the socket may still
 * send) or reset the connection (WSK_FLAG_ABORTIVE). Return value
 * ignored.
 */
typedef NTSTATUS (*PFN_WSK_DISCONNECT_EVENT)(void *socket_context,
	uint32_t flags);

/*
 * Send-backlog event (WskSendBacklogEvent): the ideal number of bytes to
 * keep outstanding in sends (the connection's send buffer). Raised when
 * enabled on a connected socket, at the handshake when enabled before,
 * and whenever the value changes. Return value ignored.
 */
typedef NTSTATUS (*PFN_WSK_SEND_BACKLOG_EVENT)(void *socket_context,
	size_t ideal_backlog_size);

typedef struct wsk_client_listen_dispatch {
	PFN_WSK_ACCEPT_EVENT accept_event;
} WSK_CLIENT_LISTEN_DISPATCH;

typedef struct wsk_client_connection_dispatch {
	PFN_WSK_RECEIVE_EVENT receive_event;
	PFN_WSK_DISCONNECT_EVENT disconnect_event;
	PFN_WSK_SEND_BACKLOG_EVENT send_backlog_event;
} WSK_CLIENT_CONNECTION_DISPATCH;

typedef struct wsk_client_stream_dispatch {
	PFN_WSK_ACCEPT_EVENT accept_event;
	PFN_WSK_RECEIVE_EVENT receive_event;
	PFN_WSK_DISCONNECT_EVENT disconnect_event;
	PFN_WSK_SEND_BACKLOG_EVENT send_backlog_event;
} WSK_CLIENT_STREAM_DISPATCH;

/*
 * Provider dispatch tables, one per category, nested as in WSK: each
 * starts with the basic table. Reach them through the socket:
 *
 *	sock->connection->connect_ex(sock, raddr, &buf, 0, &req);
 *	sock->connection->basic.close_socket(sock, &req);
 *
 * Every function checks the socket's category itself, so a call through
 * the wrong table returns STATUS_INVALID_DEVICE_STATE (no completion).
 * Parameters shared by all: s, the socket (NULL: STATUS_INVALID_PARAMETER);
 * req, the request (NULL, or a NULL cq: STATUS_INVALID_PARAMETER, except
 * where noted). The statuses listed are those beyond the general rules
 * above (STATUS_FILE_FORCED_CLOSED on a dead socket, STATUS_INSUFFICIENT_
 * RESOURCES when the ring or the request pool is full,
 * STATUS_INVALID_PARAMETER for a closed socket).
 */

/*
 * control_socket (WskControlSocket). Options, each a 32-bit value (get
 * returns it as a uint32_t): SO_REUSEADDR (SOL_SOCKET, before bind),
 * TCP_NODELAY and TCP_FASTOPEN (IPPROTO_TCP), 0 or non-zero, set stores
 * it; SO_KEEPALIVE, TCP_KEEPALIVE, TCP_KEEPINTVL, TCP_KEEPCNT (keepalive,
 * above); SO_SNDBUF, SO_RCVBUF and TCP_MAXSEG (buffers and MSS, above:
 * ranges, when each applies, what a get returns).
 * TCP_NODELAY applies to the connection made by connect, and at once on
 * a connected socket (turning Nagle off sends what it held back). An
 * accepted socket starts with its listening socket's TCP_NODELAY and
 * keepalive values (and SO_SNDBUF, SO_RCVBUF, TCP_MAXSEG), as on Linux.
 * TCP_FASTOPEN set before connect_ex turns on Fast Open (RFC 7413) for
 * the connection: the first SYN to a server asks for a cookie; once one is
 * cached, connect_ex's buffer (its first contiguous piece, up to the
 * server's MSS less the SYN's options) rides in the SYN and the rest
 * follows the handshake. Set on a stream socket before listen, its value
 * is the most Fast Open connections waiting for their third ACK (0: off);
 * such a connection is accepted at its SYN with the SYN's data to read,
 * and what it sends leaves at once, ahead of the third ACK, as on Linux.
 * SO_WSK_EVENT_CALLBACK (set only, in_buf a struct
 * wsk_event_callback_control) enables or disables events; an event whose
 * condition already holds (data waiting, a connection waiting, connected
 * for the send backlog) is raised before the call returns. req may be
 * NULL: then the call completes synchronously and posts nothing.
 * @return STATUS_SUCCESS (completion information: bytes written to
 *         out_buf); STATUS_NOT_SUPPORTED (WskIoctl, or an unknown level or
 *         code, an option asked at the other level included, or a get of
 *         SO_WSK_EVENT_CALLBACK);
 *         STATUS_INVALID_PARAMETER (in_buf NULL or in_size < 4 for a set,
 *         or < sizeof(struct wsk_event_callback_control) for
 *         SO_WSK_EVENT_CALLBACK; out_buf NULL or out_size < 4 for a get;
 *         a value out of range: keepalive times, count, buffer sizes,
 *         MSS; an event mask with unknown bits, no event bit, an event
 *         the category has not (accept: listen and stream; receive,
 *         disconnect, send backlog: connection and stream) or whose
 *         callback the socket's client dispatch lacks, or DISABLE with
 *         more than one event); STATUS_INVALID_DEVICE_STATE (TCP_MAXSEG
 *         set on a connecting or connected socket). A refused set changes
 *         nothing.
 */
typedef NTSTATUS (*PFN_WSK_CONTROL_SOCKET)(WSK_SOCKET *s,
	enum wsk_control_socket_type type, uint32_t code, uint32_t level,
	size_t in_size, const void *in_buf, size_t out_size, void *out_buf,
	size_t *out_size_returned, const struct wsk_request *req);

/*
 * close_socket (WskCloseSocket). Legal with requests pending: they
 * complete with STATUS_CANCELLED before the close's own completion. An
 * open connection is aborted (RST), since no graceful disconnect was
 * asked for. Never STATUS_FILE_FORCED_CLOSED. The socket is gone for
 * every call but release() when the call returns, whatever it returns.
 * Receive indications the application retained (STATUS_PENDING from the
 * receive event) are not taken back, as in WSK: they stay valid, the
 * socket takes no call but release() (every other call, and a second
 * close, see a closed socket), and the close completes when release()
 * gives the last of them back. wsk_client_destroy() frees them with the
 * rest.
 * @return STATUS_SUCCESS (completion: STATUS_SUCCESS, information 0);
 *         STATUS_PENDING (a zero-copy send's memory was still referenced:
 *         its completion, those queued behind it and then the close's
 *         follow from wsk_client_poll() once the references are gone; or
 *         indications retained: the close's completion follows the last
 *         release());
 *         STATUS_INVALID_PARAMETER (already closed: a double close; nothing
 *         posted); STATUS_INSUFFICIENT_RESOURCES (no room: the socket is
 *         NOT closed, call again after reaping).
 */
typedef NTSTATUS (*PFN_WSK_CLOSE_SOCKET)(WSK_SOCKET *s,
	const struct wsk_request *req);

/*
 * bind (WskBind). local: sockaddr_in; address 0 (any: the shard's first
 * address is chosen at connect) or one of the shard's addresses; port 0
 * picks a free ephemeral port now. flags must be 0.
 * @return STATUS_SUCCESS; STATUS_INVALID_PARAMETER (flags != 0, local
 *         NULL); STATUS_INVALID_ADDRESS_COMPONENT (not AF_INET, or an
 *         address the shard does not own); STATUS_ADDRESS_ALREADY_ASSOCIATED
 *         (bound already); STATUS_SHARING_VIOLATION (another socket of the
 *         client holds the address and port, and not both set
 *         SO_REUSEADDR; or no ephemeral port is free);
 *         STATUS_INVALID_DEVICE_STATE (basic socket).
 * A listen-category socket starts listening when bound, as in WSK
 * (backlog 4096, as Linux's somaxconn); the engine refusing the address gives
 * STATUS_SHARING_VIOLATION and the socket stays unbound. The address
 * conflict check scans the client's sockets (bind is not a per-packet
 * call).
 */
typedef NTSTATUS (*PFN_WSK_BIND)(WSK_SOCKET *s, const struct sockaddr *local,
	uint32_t flags, const struct wsk_request *req);

/*
 * connect (WskConnect): connect_ex without a buffer.
 */
typedef NTSTATUS (*PFN_WSK_CONNECT)(WSK_SOCKET *s,
	const struct sockaddr *remote, uint32_t flags,
	const struct wsk_request *req);

/*
 * connect_ex (WskConnectEx): connect a bound connection or stream socket
 * and send buf (optional, up to 65,535 bytes) during or after the
 * handshake. The bytes are copied when the call is accepted, so the
 * caller may reuse or free buf as soon as the call returns, earlier than
 * the WSK page promises (when the request completes). A stream socket is
 * committed to the connection role from acceptance on: listen is refused.
 * @return STATUS_PENDING: the completion follows once the handshake is
 *         done AND every byte of buf is acknowledged, with STATUS_SUCCESS
 *         and information = bytes of buf sent; or with
 *         STATUS_CONNECTION_REFUSED (RST to our SYN), STATUS_IO_TIMEOUT
 *         (SYN retries ran out), STATUS_CONNECTION_RESET (reset after the
 *         handshake), STATUS_CONNECTION_ABORTED (aborted locally),
 *         STATUS_CANCELLED (socket closed first); the socket is then dead.
 *         Refused, nothing posted: STATUS_INVALID_PARAMETER (flags != 0;
 *         s, remote or req NULL; buf with a NULL mdl and length > 0, or
 *         a chain shorter than offset + length);
 *         STATUS_BUFFER_OVERFLOW (buf->length > 65,535);
 *         STATUS_INVALID_DEVICE_STATE (not a connection or stream socket,
 *         not bound, or a listening stream socket);
 *         STATUS_CONNECTION_ACTIVE (connecting or connected already);
 *         STATUS_INVALID_ADDRESS_COMPONENT (not AF_INET, address or port
 *         0); STATUS_ADDRESS_ALREADY_EXISTS (the 4-tuple is in use);
 *         STATUS_INSUFFICIENT_RESOURCES (ring, request pool, connection
 *         pool or mbufs exhausted).
 */
typedef NTSTATUS (*PFN_WSK_CONNECT_EX)(WSK_SOCKET *s,
	const struct sockaddr *remote, const WSK_BUF *buf, uint32_t flags,
	const struct wsk_request *req);

/*
 * listen (WskListen): a bound stream socket starts listening (backlog
 * 4096, as Linux's somaxconn).
 * @return STATUS_SUCCESS; STATUS_INVALID_DEVICE_STATE (not a stream
 *         socket, not bound, connecting or connected, listening already);
 *         STATUS_SHARING_VIOLATION (the engine refused the address);
 *         STATUS_INSUFFICIENT_RESOURCES.
 */
typedef NTSTATUS (*PFN_WSK_LISTEN)(WSK_SOCKET *s,
	const struct wsk_request *req);

/*
 * get_local_address / get_remote_address (WskGetLocalAddress,
 * WskGetRemoteAddress): write a sockaddr_in to out.
 * @return STATUS_SUCCESS; STATUS_INVALID_PARAMETER (out NULL);
 *         STATUS_INVALID_DEVICE_STATE (not bound / handshake not done;
 *         basic socket; the remote address of a listen socket).
 */
typedef NTSTATUS (*PFN_WSK_GET_LOCAL_ADDRESS)(WSK_SOCKET *s,
	struct sockaddr *out, const struct wsk_request *req);
typedef NTSTATUS (*PFN_WSK_GET_REMOTE_ADDRESS)(WSK_SOCKET *s,
	struct sockaddr *out, const struct wsk_request *req);

/*
 * send (WskSend): send buf on a connected socket. The completion follows
 * when every byte is acknowledged (information = buf->length); buf must
 * stay valid and unchanged until then, as bytes are copied into the send
 * queue as room appears. Sends complete in submission order.
 * Zero-copy: segments inside registered memory (wsk_register_memory())
 * are sent from that memory itself, so the completion also waits until
 * every mbuf referencing it is gone: acknowledged bytes leave the send
 * queue at once, but a clone may still sit in a port's tx queue, a
 * capture, or (net_ring, engine to engine) the peer's receive queue until
 * the peer reads it. wsk_client_poll() notices that release (whichever
 * thread dropped the last reference) and posts the completion; only then
 * may the memory be changed or reused. The same wait holds for a send
 * that fails or is cancelled (close_socket, abortive disconnect, a reset):
 * its completion, with that status, comes once the references are gone,
 * and later sends, a graceful disconnect and the close or abortive
 * disconnect that cancelled them complete after it, in order.
 * @return STATUS_PENDING (or STATUS_SUCCESS for a zero-length send, which
 *         completes at once); STATUS_NOT_SUPPORTED (flags other than
 *         WSK_FLAG_NODELAY); STATUS_INVALID_PARAMETER (buf NULL, or its
 *         chain shorter than offset + length); STATUS_INVALID_DEVICE_STATE
 *         (handshake not done, or not a connection/stream socket).
 *         A pending send fails with the connection's failure status.
 */
typedef NTSTATUS (*PFN_WSK_SEND)(WSK_SOCKET *s, const WSK_BUF *buf,
	uint32_t flags, const struct wsk_request *req);

/*
 * receive (WskReceive): copy received bytes into buf. Completes with the
 * bytes copied (1..buf->length) as soon as any data is there, or with 0
 * bytes once the peer's FIN has been read. Receives complete in
 * submission order, and a queued receive is served before the receive
 * event. Any receive call re-enables a receive event stopped by
 * STATUS_DATA_NOT_ACCEPTED or a partial accept.
 * flags: WSK_FLAG_WAITALL completes only when buf is full, at the peer's
 * FIN (with what arrived), or on failure/cancel (with that status);
 * WSK_FLAG_DRAIN needs a zero-length buf, discards everything received
 * and completes at the peer's FIN with information = bytes discarded.
 * A zero-length receive without flags completes at once with 0 bytes
 * (its use: re-enabling the receive event).
 * @return STATUS_SUCCESS (completed already; the completion is posted);
 *         STATUS_PENDING; STATUS_NOT_SUPPORTED (a flag other than WAITALL
 *         and DRAIN); STATUS_INVALID_PARAMETER (buf NULL, WAITALL and
 *         DRAIN together, DRAIN with length > 0, WAITALL with length 0, or
 *         a chain shorter than offset + length);
 *         STATUS_INVALID_DEVICE_STATE (handshake not done, or not a
 *         connection/stream socket). A pending receive fails with the
 *         connection's failure status.
 */
typedef NTSTATUS (*PFN_WSK_RECEIVE)(WSK_SOCKET *s, const WSK_BUF *buf,
	uint32_t flags, const struct wsk_request *req);

/*
 * accept (WskAccept) on a listening stream socket or a bound listen
 * socket. Queued accepts are served, oldest first, before the accept
 * event sees a connection. The completion's information is the new
 * WSK_SOCKET (connection category, whatever the listener's), with
 * accept_context and accept_dispatch as its context
 * and client dispatch, and no event enabled; local and remote (optional)
 * receive its addresses when it completes, so they must stay valid until
 * then. A pending accept completes with STATUS_CANCELLED when the
 * listener closes.
 * @return STATUS_SUCCESS (a connection was waiting); STATUS_PENDING;
 *         STATUS_INVALID_PARAMETER (flags != 0);
 *         STATUS_INVALID_DEVICE_STATE (not a listen or stream socket, or
 *         not listening).
 */
typedef NTSTATUS (*PFN_WSK_ACCEPT)(WSK_SOCKET *s, uint32_t flags,
	void *accept_context,
	const WSK_CLIENT_CONNECTION_DISPATCH *accept_dispatch,
	struct sockaddr *local, struct sockaddr *remote,
	const struct wsk_request *req);

/*
 * disconnect (WskDisconnect).
 * Graceful (flags 0): buf (optional, may be NULL) is sent after the
 * queued sends, then a FIN; the request completes with information =
 * bytes of buf once the FIN is acknowledged (noticed by an upcall). The
 * socket can still receive; send and a second disconnect are refused.
 * Abortive (WSK_FLAG_ABORTIVE): buf must be NULL; pending sends and a
 * pending graceful disconnect complete with STATUS_CANCELLED, pending
 * receives with STATUS_CONNECTION_ABORTED, a RST goes out, and the
 * request completes at once, unless a cancelled zero-copy send's memory
 * is still referenced: then the cancelled sends and this request
 * complete, in that order, once it is released (see send). The socket is
 * dead afterwards.
 * @return STATUS_SUCCESS (abortive); STATUS_PENDING (graceful, or
 *         abortive waiting for a zero-copy release);
 *         STATUS_NOT_SUPPORTED (a flag other than WSK_FLAG_ABORTIVE);
 *         STATUS_INVALID_PARAMETER (abortive with a buffer; a buffer whose
 *         chain is shorter than offset + length);
 *         STATUS_INVALID_DEVICE_STATE (not a connection/stream socket, not
 *         connected, or a graceful disconnect was asked for already).
 */
typedef NTSTATUS (*PFN_WSK_DISCONNECT)(WSK_SOCKET *s, const WSK_BUF *buf,
	uint32_t flags, const struct wsk_request *req);

/*
 * release (WskRelease): give back data indications retained from the
 * socket's receive event (it returned STATUS_PENDING): their mbufs are
 * freed and the elements return to the client's pool. list is any list
 * of the socket's retained elements: the one the callback got, or parts
 * of it (relinked through next), or several joined. Synchronous: no
 * request, nothing posted (but releasing the last element of a closing
 * socket posts that close's completion). The whole list is checked
 * before anything is freed: a refused call changes nothing.
 * @return STATUS_SUCCESS; STATUS_INVALID_PARAMETER (s NULL or closed,
 *         list NULL, an element that is not one of the client's, is not
 *         retained (a double release), or was indicated on another
 *         socket, or a list longer than the socket's retained elements,
 *         i.e. with a cycle); STATUS_INVALID_DEVICE_STATE (not a
 *         connection/stream socket).
 */
typedef NTSTATUS (*PFN_WSK_RELEASE)(WSK_SOCKET *s,
	WSK_DATA_INDICATION *list);

typedef struct wsk_provider_basic_dispatch {
	PFN_WSK_CONTROL_SOCKET control_socket;
	PFN_WSK_CLOSE_SOCKET close_socket;
} WSK_PROVIDER_BASIC_DISPATCH;

typedef struct wsk_provider_listen_dispatch {
	WSK_PROVIDER_BASIC_DISPATCH basic;
	PFN_WSK_BIND bind;
	PFN_WSK_ACCEPT accept;
	PFN_WSK_GET_LOCAL_ADDRESS get_local_address;
} WSK_PROVIDER_LISTEN_DISPATCH;

typedef struct wsk_provider_connection_dispatch {
	WSK_PROVIDER_BASIC_DISPATCH basic;
	PFN_WSK_BIND bind;
	PFN_WSK_CONNECT connect;
	PFN_WSK_GET_LOCAL_ADDRESS get_local_address;
	PFN_WSK_GET_REMOTE_ADDRESS get_remote_address;
	PFN_WSK_SEND send;
	PFN_WSK_RECEIVE receive;
	PFN_WSK_DISCONNECT disconnect;
	PFN_WSK_RELEASE release;
	PFN_WSK_CONNECT_EX connect_ex;
} WSK_PROVIDER_CONNECTION_DISPATCH;

typedef struct wsk_provider_stream_dispatch {
	WSK_PROVIDER_BASIC_DISPATCH basic;
	PFN_WSK_BIND bind;
	PFN_WSK_ACCEPT accept;
	PFN_WSK_CONNECT connect;
	PFN_WSK_LISTEN listen;
	PFN_WSK_SEND send;
	PFN_WSK_RECEIVE receive;
	PFN_WSK_DISCONNECT disconnect;
	PFN_WSK_RELEASE release;
	PFN_WSK_GET_LOCAL_ADDRESS get_local_address;
	PFN_WSK_GET_REMOTE_ADDRESS get_remote_address;
	PFN_WSK_CONNECT_EX connect_ex;
} WSK_PROVIDER_STREAM_DISPATCH;

/*
 * The public face of a socket (WSK_SOCKET): its provider dispatch table,
 * typed per category. Only the member of the socket's category is
 * meaningful; the rest of the socket is private.
 */
struct wsk_socket {
	union {
		const void *dispatch;
		const WSK_PROVIDER_BASIC_DISPATCH *basic;
		const WSK_PROVIDER_LISTEN_DISPATCH *listen;
		const WSK_PROVIDER_CONNECTION_DISPATCH *connection;
		const WSK_PROVIDER_STREAM_DISPATCH *stream;
	};
};

/*
 * Create a client (the WSK registration plus provider NPI) on one shard,
 * and take the shard's TCP upcalls. The shard's TCP must be enabled
 * (tcp_engine_enable()).
 * @param s             the shard.
 * @param max_sockets   sockets open at once, 1..65536.
 * @param max_requests  requests pending at once (connects, sends,
 *                      receives), 1..1048576; also the size of the
 *                      submission ring (wsk_client_submit()), capped at
 *                      65536, and of the receive event's element pool
 *                      (WSK_INDICATION_POOL_MIN..._MAX): an element
 *                      lends one received mbuf segment, as a request
 *                      lends one buffer, so the pool bounds the mbufs the
 *                      application can hold through retained
 *                      indications. A 16 KiB indication of 1,448-byte
 *                      segments takes 12 elements.
 * @return the client; NULL when an argument is out of range, TCP is not
 *         enabled on the shard, or memory is short.
 */
struct wsk_client *wsk_client_create(struct shard *s, unsigned max_sockets,
				     unsigned max_requests);

/*
 * Destroy a client: every open socket is closed as by close_socket, its
 * pending requests complete with STATUS_CANCELLED (the rings must still
 * exist); the close completions themselves are not posted, nor those of
 * closes waiting for release(). Completions waiting for zero-copy memory
 * to be released are posted, released or not: mbufs still queued in a
 * port or at a peer may read that memory until they are freed, so destroy
 * the client after the ports stopped (or keep the memory until then).
 * Every registered region is deregistered. Receive indications still
 * retained are freed: the application must not touch them afterwards.
 * Then the shard's upcalls are cleared. NULL: nothing happens. Not from
 * inside a callback.
 */
void wsk_client_destroy(struct wsk_client *c);

/*
 * Create a socket (WskSocket).
 * @param c           the client.
 * @param family      AF_INET.
 * @param type        SOCK_STREAM.
 * @param protocol    IPPROTO_TCP or 0.
 * @param flags       one category: WSK_FLAG_BASIC/LISTEN/CONNECTION/
 *                    STREAM_SOCKET.
 * @param context     the application's socket context (wsk_socket_context()).
 * @param socket_out  receives the socket at once; may be NULL.
 * @param req         the request; its completion carries the WSK_SOCKET
 *                    pointer in information.
 * @return STATUS_SUCCESS (completion posted); STATUS_INVALID_PARAMETER
 *         (c or req NULL, unknown flags or more than one category);
 *         STATUS_NOT_SUPPORTED (WSK_FLAG_DATAGRAM_SOCKET, a family other
 *         than AF_INET, a type other than SOCK_STREAM, a protocol other
 *         than TCP); STATUS_INSUFFICIENT_RESOURCES (socket pool or ring
 *         full).
 */
NTSTATUS wsk_socket(struct wsk_client *c, int family, int type, int protocol,
		    uint32_t flags, void *context, WSK_SOCKET **socket_out,
		    const struct wsk_request *req);

/*
 * Create a socket with a client dispatch (WskSocket's Dispatch): as
 * wsk_socket(), plus
 * @param client_dispatch  the event callbacks: a WSK_CLIENT_LISTEN_,
 *                         _CONNECTION_ or _STREAM_DISPATCH as the
 *                         category says; NULL for none (and for basic).
 * Same statuses as wsk_socket().
 */
NTSTATUS wsk_socket_ex(struct wsk_client *c, int family, int type,
		       int protocol, uint32_t flags, void *context,
		       const void *client_dispatch, WSK_SOCKET **socket_out,
		       const struct wsk_request *req);

/*
 * Create, bind and connect a connection socket in one call
 * (WskSocketConnect). No option can be set first, so no TCP Fast Open.
 * @param c, type, protocol   as wsk_socket() (the family is local's).
 * @param local      sockaddr_in to bind (address 0 and port 0 allowed).
 * @param remote     sockaddr_in to connect to.
 * @param flags      must be 0.
 * @param context, client_dispatch  the new socket's (connection dispatch).
 * @param req        its completion carries the connected WSK_SOCKET in
 *                   information; on failure the socket no longer exists.
 * @return STATUS_PENDING; refused, nothing posted:
 *         STATUS_INVALID_PARAMETER (flags != 0, c, local, remote or req
 *         NULL); STATUS_NOT_SUPPORTED (as wsk_socket()); and bind's and
 *         connect's refusals (the socket is freed again). Never
 *         STATUS_FILE_FORCED_CLOSED.
 */
NTSTATUS wsk_socket_connect(struct wsk_client *c, int type, int protocol,
			    const struct sockaddr *local,
			    const struct sockaddr *remote, uint32_t flags,
			    void *context,
			    const WSK_CLIENT_CONNECTION_DISPATCH *client_dispatch,
			    const struct wsk_request *req);

/* The context given to wsk_socket(); NULL for a NULL socket. */
void *wsk_socket_context(const WSK_SOCKET *s);

/*
 * The client's part of a shard pass: run submissions from other threads
 * (wsk_client_submit()), post the completions of zero-copy sends whose
 * memory was released, retry sends that stopped for want of mbufs, serve
 * listeners that waited for a free socket, and resume receive events that
 * waited for an indication element or an mbuf. Its cost is that work: it
 * visits only sockets and sends that asked for it, never all of them.
 * Call it on the shard's thread after every shard_poll() (the engine has
 * no hook for it). NULL: nothing happens.
 */
void wsk_client_poll(struct wsk_client *c);

/*
 * What a client's bookkeeping cost, counted since wsk_client_create():
 * for tests and tuning (the per-pass and per-bind work must not grow with
 * the number of sockets).
 */
struct wsk_client_counters {
	uint64_t polls;			/* wsk_client_poll() passes */
	uint64_t poll_sockets_visited;	/* sockets those passes looked at */
	uint64_t binds;			/* local addresses taken (bind, socket_connect) */
	uint64_t bind_ports_probed;	/* ports checked for them, one table
					 * lookup (two for an address) each */
	/* Bytes of send (and graceful disconnect) buffers handed to TCP:
	 * attached from registered memory, and copied. */
	uint64_t send_zerocopy_bytes;
	uint64_t send_copied_bytes;
	/* Sends whose completion had to wait, after their bytes were
	 * acknowledged or failed, for mbufs to let go of their memory. */
	uint64_t send_release_waits;
	uint64_t indications;		/* receive event callbacks */
	uint64_t indications_cut;	/* of them, shortened because the
					 * element pool ran out */
	uint64_t indications_deferred;	/* times an event waited: no
					 * element free */
	/* Not counts, the pool as it is now: its size, and the elements
	 * lent to a running callback or retained by the application. */
	uint32_t ind_pool_size;
	uint32_t ind_pool_in_use;
};

/* Copy the client's counters to *out. A NULL client gives zeros. Cannot
 * fail. */
void wsk_client_counters_get(const struct wsk_client *c,
			     struct wsk_client_counters *out);

/*
 * REGISTERED MEMORY (zero-copy transmit), as io_uring's registered
 * buffers. A client keeps a small fixed table of regions; a send segment
 * lying wholly inside one (and at least WSK_ZEROCOPY_MIN_SEGMENT bytes:
 * copying less costs less than an mbuf and a release wait) is attached to
 * send-queue mbufs as an external buffer instead of being copied (see
 * send for when such a send completes). Shorter or unregistered segments
 * are copied as before. Both calls run on the shard's thread, like every
 * call on the client.
 *
 * Ports. A virtual port (net_ring, net_af_packet, net_af_xdp, net_tap,
 * net_memif, net_pcap, or a custom port) reads the bytes through their
 * virtual address and needs nothing more. A NIC reads them by DMA: the
 * region is registered with DPDK (rte_extmem_register()) and mapped for
 * the port's device (rte_dev_dma_map()), which needs IOVA-as-VA (EAL
 * --iova-mode=va, VFIO), a page-aligned va and len, and a region no other
 * client of the process has registered. In IOVA-as-PA mode a NIC cannot
 * be given arbitrary user memory: registration is refused.
 */
#define WSK_MEMORY_REGIONS_MAX		32u
#define WSK_ZEROCOPY_MIN_SEGMENT	512u

/*
 * Register [va, va + len) for zero-copy sends. The memory must stay
 * mapped until it is deregistered.
 * @param c       the client.
 * @param va      the region's first byte.
 * @param len     its length in bytes.
 * @param handle  out: the region's handle for wsk_deregister_memory()
 *                (never 0).
 * @return STATUS_SUCCESS; STATUS_INVALID_PARAMETER (c, va or handle NULL,
 *         len 0, a range that wraps around, one overlapping a region the
 *         client has registered, or, for a NIC, va or len not a multiple
 *         of the page size or the range registered with DPDK already);
 *         STATUS_INSUFFICIENT_RESOURCES (all WSK_MEMORY_REGIONS_MAX slots
 *         in use, no memory for the per-request records the first
 *         registration makes, or DPDK out of external-memory room);
 *         STATUS_NOT_SUPPORTED (a NIC in IOVA-as-PA mode, or a device
 *         that cannot DMA-map it). Nothing is registered on failure.
 */
NTSTATUS wsk_register_memory(struct wsk_client *c, void *va, size_t len,
			     uint32_t *handle);

/*
 * Deregister a region. Refused while a send accepted with a segment in it
 * has not completed, since mbufs may still reference the memory.
 * @param c       the client.
 * @param handle  from wsk_register_memory().
 * @return STATUS_SUCCESS (a NIC's DMA mapping is undone too);
 *         STATUS_INVALID_PARAMETER (c NULL, a handle not registered or
 *         deregistered already); STATUS_DEVICE_BUSY (sends over it are
 *         pending: nothing changed, try again after they complete).
 */
NTSTATUS wsk_deregister_memory(struct wsk_client *c, uint32_t handle);

/*
 * SUBMISSION FROM OTHER THREADS. Every call above must run on the shard's
 * thread. Another thread describes a call in a struct wsk_sqe and hands
 * it to wsk_client_submit(), which copies it into the client's MPSC
 * submission ring (any number of submitting threads, the shard
 * consuming). wsk_client_poll() runs it on the shard. The submitter
 * hears of it only through the completion ring named in sqe->req, and
 * always exactly once: a call the shard refuses (an argument error, a
 * wrong state) completes with its refusal status and information 0; a
 * call refused for want of completion room waits in the ring and is
 * retried on the next poll. Buffers, addresses to fill and option
 * buffers must stay valid until the completion; addresses given are
 * copied. The completion ring's consumer is the submitting thread.
 */
enum wsk_op {
	WSK_OP_SOCKET,		/* wsk_socket_ex: family, type, protocol,
				 * flags, context, client_dispatch */
	WSK_OP_SOCKET_CONNECT,	/* type, protocol, addr (local), addr2
				 * (remote), flags, context, client_dispatch */
	WSK_OP_CLOSE,		/* socket */
	WSK_OP_BIND,		/* socket, addr, flags */
	WSK_OP_LISTEN,		/* socket */
	WSK_OP_CONNECT_EX,	/* socket, addr, buf if has_buf, flags */
	WSK_OP_ACCEPT,		/* socket, flags, context, client_dispatch,
				 * out_local, out_remote */
	WSK_OP_SEND,		/* socket, buf, flags */
	WSK_OP_RECEIVE,		/* socket, buf, flags */
	WSK_OP_DISCONNECT,	/* socket, buf if has_buf, flags */
	WSK_OP_GET_LOCAL_ADDRESS,	/* socket, out_local */
	WSK_OP_GET_REMOTE_ADDRESS,	/* socket, out_remote */
	WSK_OP_CONTROL_SOCKET,	/* socket, control_type, code, level,
				 * in_size, in_buf, out_size, out_buf */
	WSK_OP_COUNT
};

struct wsk_sqe {
	enum wsk_op op;
	struct wsk_request req;
	WSK_SOCKET *socket;
	uint32_t flags;
	int family, type, protocol;
	void *context;
	const void *client_dispatch;
	struct sockaddr_in addr, addr2;
	WSK_BUF buf;
	bool has_buf;
	struct sockaddr *out_local, *out_remote;
	enum wsk_control_socket_type control_type;
	uint32_t code, level;
	size_t in_size, out_size;
	const void *in_buf;
	void *out_buf;
};

/*
 * Queue a call for the shard (any thread; lock-free, no allocation).
 * @param c    the client.
 * @param sqe  the call, copied.
 * @return STATUS_PENDING: queued, exactly one completion follows on
 *         sqe->req.cq; STATUS_INVALID_PARAMETER (c or sqe NULL, no cq, an
 *         unknown op; nothing posted); STATUS_INSUFFICIENT_RESOURCES (the
 *         submission ring is full: try again after the shard polled).
 */
NTSTATUS wsk_client_submit(struct wsk_client *c, const struct wsk_sqe *sqe);

#endif
