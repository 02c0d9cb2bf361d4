/*
 * Reading a capture into TCP conversations, for wskdp-replay.
 *
 * Model. replay_capture_open() reads a whole pcap or pcapng file with
 * libpcap (link types Ethernet with any number of 802.1Q/802.1ad tags up to
 * REPLAY_MAX_VLAN_TAGS, Linux cooked SLL and SLL2, raw IP and LINKTYPE_IPV4),
 * keeps the IPv4 TCP packets, and splits them into flows by 4-tuple. A SYN
 * (without ACK) on a tuple whose flow is finished (RST seen, or FIN seen from
 * both sides), or a SYN with another initial sequence number on a tuple whose
 * flow already carried data or a FIN, starts a new flow. Everything else is
 * counted by reason in struct replay_stats and skipped: IPv6, non-IP, other
 * IP protocols, IP fragments, malformed headers, packets whose captured
 * length does not reach the end of their headers. Checksums are not
 * verified: captures taken on the sending host hold packets before the
 * NIC's checksum offload filled them in.
 *
 * Client and server. The client is the side that sent the SYN; without one,
 * the side that did not send the SYN-ACK; without either, the side sending to
 * the only port below 1024; failing that, the sender of the flow's first
 * packet. The last two are guesses and set REPLAY_FLOW_CLIENT_GUESSED.
 *
 * Streams. Each direction's payload is reassembled into one contiguous
 * buffer, offset 0 being the byte after the SYN (sequence ISN+1) or, when
 * that direction's SYN is missing, the lowest sequence number the capture
 * holds for it. Out-of-order segments are put in place; when bytes arrive
 * more than once the first copy is kept and every byte where a later copy
 * differs is reported as a conflict. Bytes the capture does not hold (a
 * packet missing from the capture, or cut by the snap length) are reported as
 * gaps and read as zero in the buffer. Data of a SYN (TCP Fast Open) is part
 * of the stream, from offset 0.
 *
 * Turns. A turn is a run of new bytes from one side until the other side
 * sends new bytes: the client's request, the server's response, and so on.
 * Retransmissions and hole fills start no turn. The turns of one direction
 * cover its stream from 0 to its length without overlap, in order, so a
 * replayer can send the client's turns one by one and wait after each for the
 * server's following turn.
 *
 * Damage. When the file ends in the middle of a record or a record is
 * corrupt, reading stops there: the capture keeps every packet before it and
 * stats.truncated, truncated_offset (file offset of the record that could not
 * be read) and truncated_reason say what happened.
 *
 * Memory. Everything is allocated while loading and bounded by struct
 * replay_limits; a capture over the limits is refused with a message. The
 * loaded capture is read-only and may be shared by threads.
 */
#ifndef WSKDP_REPLAY_FLOWS_H
#define WSKDP_REPLAY_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_MAX_VLAN_TAGS 4

/* Stream index in struct replay_flow and direction of a turn. */
enum replay_dir {
	REPLAY_CLIENT = 0,	/* bytes the client sent */
	REPLAY_SERVER = 1,	/* bytes the server sent */
};

/* Why a packet was not used. One counter each in struct replay_stats. */
enum replay_skip {
	REPLAY_SKIP_NOT_IP,		/* ARP, LLDP, ...: neither IPv4 nor IPv6 */
	REPLAY_SKIP_IPV6,		/* IPv6: not supported (yet) */
	REPLAY_SKIP_NOT_TCP,		/* IPv4 but UDP, ICMP, ... */
	REPLAY_SKIP_FRAGMENT,		/* IPv4 fragment: not reassembled */
	REPLAY_SKIP_SHORT_CAPTURE,	/* captured bytes end inside the headers */
	REPLAY_SKIP_BAD_IP_HEADER,	/* IHL < 5, total length < IHL or past the frame */
	REPLAY_SKIP_BAD_TCP_HEADER,	/* data offset < 5 or past the IP payload */
	REPLAY_SKIP_OUT_OF_RANGE,	/* data before the ISN or past limits.max_stream_bytes */
	REPLAY_SKIP_MAX
};

/* Bounds on what a load may allocate. */
struct replay_limits {
	uint64_t max_file_bytes;	/* larger files are refused */
	uint64_t max_stream_bytes;	/* one direction of one flow, gaps included */
	uint64_t max_total_bytes;	/* all stream buffers together */
	uint32_t max_flows;		/* more flows: refused */
};

struct replay_stats {
	uint64_t packets;		/* records read from the file */
	uint64_t tcp_packets;		/* IPv4 TCP packets assigned to a flow */
	uint64_t skipped[REPLAY_SKIP_MAX];
	uint64_t first_short_capture_offset; /* file offset of the first
					 * REPLAY_SKIP_SHORT_CAPTURE record, valid if counted */
	bool truncated;			/* reading stopped before the end of the file */
	uint64_t truncated_offset;	/* file offset of the record that broke */
	char truncated_reason[256];	/* libpcap's message */
};

/* Addresses and ports in host byte order. */
struct replay_tuple {
	uint32_t client_addr;
	uint32_t server_addr;
	uint16_t client_port;
	uint16_t server_port;
};

/* Stream bytes [offset, offset + length) missing from the capture. */
struct replay_gap {
	uint64_t offset;
	uint64_t length;
};

/* Stream bytes [offset, offset + length) that a later copy in the capture
 * gave differently; the buffer holds the first copy. */
struct replay_conflict {
	uint64_t offset;
	uint64_t length;
};

struct replay_stream {
	const uint8_t *data;		/* length bytes; gaps read as zero */
	uint64_t length;		/* up to the highest byte sent, gaps included */
	const struct replay_gap *gaps;	/* in offset order */
	uint32_t gap_count;
	uint64_t gap_bytes;
	const struct replay_conflict *conflicts; /* in offset order */
	uint32_t conflict_count;
	uint64_t conflict_bytes;
	uint64_t duplicate_bytes;	/* bytes seen again (equal or not) */
	uint32_t isn;			/* initial sequence number, if syn_seen */
	bool syn_seen;			/* this side's SYN is in the capture */
	bool fin_seen;
	uint64_t fin_timestamp_ns;	/* capture time of its first FIN, if fin_seen */
	bool rst_seen;			/* this side sent a RST */
	uint64_t packets;		/* TCP packets this side sent */
	uint64_t data_packets;		/* of which carried payload */
};

struct replay_turn {
	enum replay_dir dir;
	uint64_t offset;		/* into stream[dir] */
	uint64_t length;
	uint64_t timestamp_ns;		/* capture time of the packet that began it */
};

/* enum replay_flow_flag: bits of replay_flow.flags. */
#define REPLAY_FLOW_HANDSHAKE	 0x1u	/* the client's SYN and the server's SYN-ACK seen */
#define REPLAY_FLOW_SYN_DATA	 0x2u	/* the client's SYN carried data (TFO) */
#define REPLAY_FLOW_CLIENT_GUESSED 0x4u	/* no SYN nor SYN-ACK: client side guessed */

struct replay_flow {
	uint32_t index;			/* order of first packet in the capture */
	struct replay_tuple tuple;
	uint32_t flags;			/* REPLAY_FLOW_* */
	struct replay_stream stream[2];	/* by enum replay_dir */
	const struct replay_turn *turns;
	uint32_t turn_count;
	uint64_t syn_timestamp_ns;	/* client's first SYN, if stream[CLIENT].syn_seen */
	uint64_t synack_timestamp_ns;	/* server's first SYN-ACK, if stream[SERVER].syn_seen */
	uint64_t first_timestamp_ns;
	uint64_t last_timestamp_ns;
};

struct replay_capture;

/* Fill *limits with the defaults: files up to 1 GiB, streams up to 256 MiB,
 * 2 GiB of stream buffers, 1M flows. */
void replay_limits_default(struct replay_limits *limits);

/* Read the capture at 'path' with the default limits; see
 * replay_capture_open_limits(). */
struct replay_capture *replay_capture_open(const char *path, char *err,
					   size_t errlen);

/*
 * Read the capture at 'path' (pcap or pcapng) into flows.
 * @limits: bounds on the load; NULL for the defaults.
 * @err, @errlen: receives a one-line message when NULL is returned.
 * Returns the capture, or NULL when: the file cannot be opened or is not a
 * capture libpcap knows; its link type is not one listed above; it is larger
 * than limits->max_file_bytes; it holds more than limits->max_flows flows or
 * its streams need more than limits->max_total_bytes; memory ran out. A file
 * that breaks after its header is not an error: see stats.truncated.
 */
struct replay_capture *replay_capture_open_limits(const char *path,
		const struct replay_limits *limits, char *err, size_t errlen);

/* Free a capture and everything its flows point to. NULL is ignored. */
void replay_capture_free(struct replay_capture *cap);

/* Number of flows, which replay_capture_flow() indexes from 0. */
uint32_t replay_capture_flow_count(const struct replay_capture *cap);

/* Flow 'i' in order of first packet; NULL when i >= flow count. */
const struct replay_flow *replay_capture_flow(const struct replay_capture *cap,
					      uint32_t i);

/* Counters of the load, truncation included. Never NULL. */
const struct replay_stats *replay_capture_stats(const struct replay_capture *cap);

/* The file's link type (DLT_* value). */
int replay_capture_link_type(const struct replay_capture *cap);

/* Name of a skip reason for reports ("ipv6", ...); "unknown" if out of range. */
const char *replay_skip_str(enum replay_skip reason);

#endif
