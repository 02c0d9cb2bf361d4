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
 * until the completion is posted (rule 5).
 *
 * SOCKET LIFETIME. A WSK_SOCKET pointer is valid until its close_socket
 * request completes. Socket slots are reused oldest-freed first, so a call
 * on a closed socket is caught (STATUS_INVALID_PARAMETER, no completion)
 * until the pool wraps around; do not rely on it.
 */
#ifndef WSKDP_WSK_H
#define WSKDP_WSK_H

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

typedef struct wsk_socket WSK_SOCKET;
struct wsk_client;

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
 * control_socket (WskControlSocket). Options: SO_REUSEADDR (SOL_SOCKET,
 * before bind), TCP_NODELAY and TCP_FASTOPEN (IPPROTO_TCP), each a 32-bit
 * value, 0 or non-zero; set stores it, get returns it as a uint32_t.
 * TCP_NODELAY set before connect applies to the connection.
 * TCP_FASTOPEN is stored for the Fast Open work; the SYN carries no data
 * yet. req may be NULL: then the call completes synchronously and posts
 * nothing.
 * @return STATUS_SUCCESS (completion information: bytes written to
 *         out_buf); STATUS_NOT_SUPPORTED (WskIoctl, or an unknown level or
 *         code); STATUS_INVALID_PARAMETER (in_buf NULL or in_size < 4 for a
 *         set; out_buf NULL or out_size < 4 for a get).
 */
typedef NTSTATUS (*PFN_WSK_CONTROL_SOCKET)(WSK_SOCKET *s,
	enum wsk_control_socket_type type, uint32_t code, uint32_t level,
	size_t in_size, const void *in_buf, size_t out_size, void *out_buf,
	size_t *out_size_returned, const struct wsk_request *req);

/*
 * close_socket (WskCloseSocket). Legal with requests pending: they
 * complete with STATUS_CANCELLED before the close's own completion. An
 * open connection is aborted (RST), since no graceful disconnect was
 * asked for. Never STATUS_FILE_FORCED_CLOSED.
 * @return STATUS_SUCCESS (completion: STATUS_SUCCESS, information 0);
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
 * A listen-category socket is only bound: it does not listen until
 * accept exists (use a stream socket and listen meanwhile). The address
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
 * 128). Accept is not part of wskapi yet.
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
 * stay valid until then, as bytes are copied into the send queue as room
 * appears. Sends complete in submission order.
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
 * submission order.
 * @return STATUS_SUCCESS (data or end of stream was there already; the
 *         completion is posted); STATUS_PENDING; STATUS_NOT_SUPPORTED
 *         (any flag: WAITALL and DRAIN are not supported yet);
 *         STATUS_INVALID_PARAMETER (buf NULL, length 0, or a chain shorter
 *         than offset + length); STATUS_INVALID_DEVICE_STATE (handshake not
 *         done, or not a connection/stream socket). A pending receive fails
 *         with the connection's failure status.
 */
typedef NTSTATUS (*PFN_WSK_RECEIVE)(WSK_SOCKET *s, const WSK_BUF *buf,
	uint32_t flags, const struct wsk_request *req);

typedef struct wsk_provider_basic_dispatch {
	PFN_WSK_CONTROL_SOCKET control_socket;
	PFN_WSK_CLOSE_SOCKET close_socket;
} WSK_PROVIDER_BASIC_DISPATCH;

typedef struct wsk_provider_listen_dispatch {
	WSK_PROVIDER_BASIC_DISPATCH basic;
	PFN_WSK_BIND bind;
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
	PFN_WSK_CONNECT_EX connect_ex;
} WSK_PROVIDER_CONNECTION_DISPATCH;

typedef struct wsk_provider_stream_dispatch {
	WSK_PROVIDER_BASIC_DISPATCH basic;
	PFN_WSK_BIND bind;
	PFN_WSK_CONNECT connect;
	PFN_WSK_LISTEN listen;
	PFN_WSK_SEND send;
	PFN_WSK_RECEIVE receive;
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
 *                      receives), 1..1048576.
 * @return the client; NULL when an argument is out of range, TCP is not
 *         enabled on the shard, or memory is short.
 */
struct wsk_client *wsk_client_create(struct shard *s, unsigned max_sockets,
				     unsigned max_requests);

/*
 * Destroy a client: every open socket is closed as by close_socket, its
 * pending requests complete with STATUS_CANCELLED (the rings must still
 * exist); the close completions themselves are not posted. Then the
 * shard's upcalls are cleared. NULL: nothing happens.
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

/* The context given to wsk_socket(); NULL for a NULL socket. */
void *wsk_socket_context(const WSK_SOCKET *s);

#endif
