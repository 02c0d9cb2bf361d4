#include "wsk_status.h"

#include <inttypes.h>
#include <stdio.h>

/* One list drives the name table so a code added to the header needs one
 * line here; a value defined twice fails to compile as a duplicate case. */
#define WSK_STATUS_LIST(X)			\
	X(STATUS_SUCCESS)			\
	X(STATUS_PENDING)			\
	X(STATUS_EVENT_PENDING)			\
	X(STATUS_BUFFER_OVERFLOW)		\
	X(STATUS_DEVICE_BUSY)			\
	X(STATUS_INVALID_PARAMETER)		\
	X(STATUS_ACCESS_DENIED)			\
	X(STATUS_SHARING_VIOLATION)		\
	X(STATUS_INSUFFICIENT_RESOURCES)	\
	X(STATUS_IO_TIMEOUT)			\
	X(STATUS_FILE_FORCED_CLOSED)		\
	X(STATUS_NOT_SUPPORTED)			\
	X(STATUS_REQUEST_NOT_ACCEPTED)		\
	X(STATUS_CANCELLED)			\
	X(STATUS_INVALID_CONNECTION)		\
	X(STATUS_INVALID_ADDRESS)		\
	X(STATUS_INVALID_DEVICE_STATE)		\
	X(STATUS_INVALID_ADDRESS_COMPONENT)	\
	X(STATUS_ADDRESS_ALREADY_EXISTS)	\
	X(STATUS_CONNECTION_DISCONNECTED)	\
	X(STATUS_CONNECTION_RESET)		\
	X(STATUS_DATA_NOT_ACCEPTED)		\
	X(STATUS_NOT_FOUND)			\
	X(STATUS_CONNECTION_REFUSED)		\
	X(STATUS_GRACEFUL_DISCONNECT)		\
	X(STATUS_ADDRESS_ALREADY_ASSOCIATED)	\
	X(STATUS_ADDRESS_NOT_ASSOCIATED)	\
	X(STATUS_CONNECTION_INVALID)		\
	X(STATUS_CONNECTION_ACTIVE)		\
	X(STATUS_NETWORK_UNREACHABLE)		\
	X(STATUS_HOST_UNREACHABLE)		\
	X(STATUS_PORT_UNREACHABLE)		\
	X(STATUS_CONNECTION_ABORTED)

static const char *
status_name(NTSTATUS s)
{
	switch (s) {
#define STATUS_CASE(code) case code: return #code;
	WSK_STATUS_LIST(STATUS_CASE)
#undef STATUS_CASE
	default:
		return NULL;
	}
}

const char *
wsk_status_str(NTSTATUS s)
{
	const char *name = status_name(s);

	return name != NULL ? name : "STATUS_UNKNOWN";
}

int
wsk_status_format(NTSTATUS s, char *buf, size_t len)
{
	const char *name = status_name(s);

	if (name != NULL)
		return snprintf(buf, len, "%s", name);
	return snprintf(buf, len, "0x%08" PRIX32, (uint32_t)s);
}
