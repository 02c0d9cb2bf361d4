/*
 * A log of the TCP segments two linked fake ports put on the wire, in the
 * order they were sent (both directions in one list, so a test can relate
 * a segment to the acknowledgments sent before it). It rides on the
 * ports' wire_filter and drops only what its drop hook asks for. One log
 * at a time per pair of ports.
 */
#ifndef WSKDP_WIRE_LOG_H
#define WSKDP_WIRE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_port.h"

#define WIRE_LOG_MAX 32768

struct wire_frame {
	bool from_b;		/* sent by port b (wire_log_start's second) */
	uint8_t flags;		/* TCP flags */
	uint16_t win;		/* window field as sent (not scaled) */
	uint16_t mss;		/* MSS option, 0: none */
	uint16_t sport;		/* ports, host order */
	uint16_t dport;
	bool dropped;		/* the drop hook took it off the wire */
	uint32_t seq;
	uint32_t ack;
	uint32_t len;		/* payload bytes */
	uint8_t olen;		/* option bytes */
};

struct wire_log {
	struct wire_frame f[WIRE_LOG_MAX];
	unsigned n;
	uint64_t overflow;	/* segments not logged: the log was full */
	/* Optional: true drops the segment just logged (set after
	 * wire_log_start()). */
	bool (*drop)(const struct wire_frame *f);
	struct wire_log_side {
		struct wire_log *log;
		bool b;
	} side[2];
};

/* Clear w and log every TCP segment a and b send from now on. */
void wire_log_start(struct wire_log *w, struct fake_port *a,
		    struct fake_port *b);
/* Stop logging (the ports' filters are cleared). */
void wire_log_stop(struct fake_port *a, struct fake_port *b);

#endif
