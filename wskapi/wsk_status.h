/*
 * Status codes: NTSTATUS values, as Winsock Kernel returns them.
 *
 * Every user-facing wskapi call returns an NTSTATUS at once, and every
 * completion carries one. The values are Windows' own (ntstatus.h), so a
 * WSK programmer reads them without a table, and logs from wskdp and from a
 * Windows driver can be compared directly.
 *
 * An NTSTATUS is a signed 32-bit value whose top two bits are the severity:
 *
 *	bits 31..30	severity	examples
 *	00		success		STATUS_SUCCESS, STATUS_PENDING
 *	01		information	STATUS_EVENT_PENDING
 *	10		warning		STATUS_BUFFER_OVERFLOW
 *	11		error		everything else listed here
 *
 * NT_SUCCESS() is true for success and information (the value is >= 0).
 *
 * THE STATUS_BUFFER_OVERFLOW TRAP. STATUS_BUFFER_OVERFLOW is a *warning*:
 * negative as an int32_t, so NT_SUCCESS() is false, yet NT_ERROR() is false
 * too. Code that tests "if (NT_ERROR(s)) fail;" lets it through as if the
 * call had worked. WskConnectEx returns it for a buffer over 65,535 bytes,
 * and no request was accepted. Do not classify results with the severity
 * macros alone: a call has succeeded or been accepted only when it returned
 * STATUS_SUCCESS or STATUS_PENDING (plus STATUS_EVENT_PENDING where a
 * function documents it); treat every other value as a failure.
 *
 * Names: wsk_status_str() gives the name of any code listed here, and
 * wsk_status_format() also renders unknown codes as hex for logs.
 */
#ifndef WSKDP_WSK_STATUS_H
#define WSKDP_WSK_STATUS_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t NTSTATUS;

/* Severity tests, as in Windows' ntdef.h. */
#define NT_SUCCESS(s)		(((NTSTATUS)(s)) >= 0)
#define NT_INFORMATION(s)	((((uint32_t)(s)) >> 30) == 1)
#define NT_WARNING(s)		((((uint32_t)(s)) >> 30) == 2)
#define NT_ERROR(s)		((((uint32_t)(s)) >> 30) == 3)

/*
 * Success and information.
 */
/* The call finished; for a request, its completion is posted as well. */
#define STATUS_SUCCESS			((NTSTATUS)0x00000000)
/* The request was accepted; its result arrives as a completion. */
#define STATUS_PENDING			((NTSTATUS)0x00000103)
/* control_socket, disabling an event callback without a request while
 * that callback is running: it is disabled once the running call returns;
 * no completion follows. */
#define STATUS_EVENT_PENDING		((NTSTATUS)0x40000013)

/*
 * Warning: NT_SUCCESS() false, NT_ERROR() false. See the trap above.
 */
/* connect_ex: the buffer is longer than 65,535 bytes. Nothing was
 * accepted. */
#define STATUS_BUFFER_OVERFLOW		((NTSTATUS)0x80000005)
/* wsk_deregister_memory: sends over the region are still pending. Nothing
 * changed. */
#define STATUS_DEVICE_BUSY		((NTSTATUS)0x80000011)

/*
 * Errors.
 */
/* A parameter is invalid (Flags != 0 where Flags is reserved, a bad
 * release list, ...). */
#define STATUS_INVALID_PARAMETER	((NTSTATUS)0xC000000D)
/* bind: the address is exclusively used by another socket
 * (SO_EXCLUSIVEADDRUSE) or sharing was refused. */
#define STATUS_ACCESS_DENIED		((NTSTATUS)0xC0000022)
/* bind: the local port is already in use. */
#define STATUS_SHARING_VIOLATION	((NTSTATUS)0xC0000043)
/* Out of a fixed resource: memory, a table slot, or room in the completion
 * ring (a request that would risk a lost completion is refused). */
#define STATUS_INSUFFICIENT_RESOURCES	((NTSTATUS)0xC000009A)
/* connect: the SYN retries ran out without an answer. */
#define STATUS_IO_TIMEOUT		((NTSTATUS)0xC00000B5)
/* The socket no longer works; the request fails and the application must
 * close the socket soon. */
#define STATUS_FILE_FORCED_CLOSED	((NTSTATUS)0xC00000B6)
/* An unknown flag or an operation this socket or build does not support. */
#define STATUS_NOT_SUPPORTED		((NTSTATUS)0xC00000BB)
/* Returned by an accept event callback: refuse the connection. */
#define STATUS_REQUEST_NOT_ACCEPTED	((NTSTATUS)0xC00000D0)
/* The request was cancelled before it finished. */
#define STATUS_CANCELLED		((NTSTATUS)0xC0000120)
/* The connection is not usable for this call. */
#define STATUS_INVALID_CONNECTION	((NTSTATUS)0xC0000140)
/* The address is malformed or not usable. */
#define STATUS_INVALID_ADDRESS		((NTSTATUS)0xC0000141)
/* The socket is in the wrong role or state for the call (not bound, not
 * connected, a listener asked to connect, ...). */
#define STATUS_INVALID_DEVICE_STATE	((NTSTATUS)0xC0000184)
/* One part of the address (family, port, IP) is invalid. */
#define STATUS_INVALID_ADDRESS_COMPONENT ((NTSTATUS)0xC0000207)
/* bind: the address is already in use (see WSK "Sharing Transport
 * Addresses"). */
#define STATUS_ADDRESS_ALREADY_EXISTS	((NTSTATUS)0xC000020A)
/* The connection was closed. */
#define STATUS_CONNECTION_DISCONNECTED	((NTSTATUS)0xC000020C)
/* The peer reset an established connection. */
#define STATUS_CONNECTION_RESET		((NTSTATUS)0xC000020D)
/* Returned by a receive event callback: the data was not taken; receive
 * events stop until the application posts a receive. */
#define STATUS_DATA_NOT_ACCEPTED	((NTSTATUS)0xC000021B)
/* A cancel named a request that is not outstanding (never accepted, or
 * already completed). */
#define STATUS_NOT_FOUND		((NTSTATUS)0xC0000225)
/* connect: the peer answered the SYN with a reset. */
#define STATUS_CONNECTION_REFUSED	((NTSTATUS)0xC0000236)
/* The peer closed its side gracefully. */
#define STATUS_GRACEFUL_DISCONNECT	((NTSTATUS)0xC0000237)
/* bind: the socket is already bound. */
#define STATUS_ADDRESS_ALREADY_ASSOCIATED ((NTSTATUS)0xC0000238)
/* The socket has no local address yet. */
#define STATUS_ADDRESS_NOT_ASSOCIATED	((NTSTATUS)0xC0000239)
/* The connection is not valid (already closed or never established). */
#define STATUS_CONNECTION_INVALID	((NTSTATUS)0xC000023A)
/* connect: the socket is already connected or connecting. */
#define STATUS_CONNECTION_ACTIVE	((NTSTATUS)0xC000023B)
/* ICMP: the network is unreachable. */
#define STATUS_NETWORK_UNREACHABLE	((NTSTATUS)0xC000023C)
/* ICMP: the host is unreachable. */
#define STATUS_HOST_UNREACHABLE		((NTSTATUS)0xC000023D)
/* ICMP: the port is unreachable. */
#define STATUS_PORT_UNREACHABLE		((NTSTATUS)0xC000023F)
/* The connection was aborted locally. */
#define STATUS_CONNECTION_ABORTED	((NTSTATUS)0xC0000241)

/*
 * The name of a status code.
 *
 * @param s  any NTSTATUS value.
 * @return the code's name ("STATUS_PENDING") for every code defined above,
 *         or "STATUS_UNKNOWN" for any other value. The string is static:
 *         safe from any thread, never to be freed.
 */
const char *wsk_status_str(NTSTATUS s);

/*
 * Write the name of a status code, or its hex value, into a buffer, for
 * logs that must identify codes this header does not define.
 *
 * @param s    any NTSTATUS value.
 * @param buf  destination; may be NULL when len is 0.
 * @param len  size of buf in bytes, including the terminating NUL.
 * @return as snprintf(): the length of the full text (without the NUL),
 *         even when it was truncated to fit len. The text is the name for
 *         a code defined above ("STATUS_PENDING"), otherwise "0x" and eight
 *         upper-case hex digits ("0xC0001234"). Never fails.
 */
int wsk_status_format(NTSTATUS s, char *buf, size_t len);

#endif
