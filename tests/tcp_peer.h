/*
 * wskdp-tcp-peer's shared declarations: the protocol's constants, the
 * options, and one side of the conversation (struct peer), which
 * tcp_peer_conn.c drives and tcp_peer.c runs and reports.
 *
 * The protocol, shared with the Python peer (keep the two in step):
 *  - The client sends a 16-byte header, big-endian: magic 0x5754 (16 bits),
 *    direction (8 bits: 1 up, 2 down, 3 both), zero (8 bits), seed (32
 *    bits: the connection's index), length (64 bits).
 *  - "up": the client then sends `length` pattern bytes; "down": the server
 *    does; "both": both do at once.
 *  - Whoever received pattern bytes answers with an 8-byte status,
 *    big-endian: 0 when every byte matched, else (code << 56) | offset,
 *    code 1 = first mismatch at byte `offset`, 2 = bad header, 3 = the
 *    stream ended after `offset` bytes.
 *  - Each side shuts its sending half down after its last byte, reads to
 *    end of stream, then closes. A connection has completed when every
 *    byte it received matched, the peer reported success, end of stream
 *    came with no extra byte, and the engine reported a normal close.
 *
 * The pattern: the stream is cut into 64 KiB blocks; block b is a fixed
 * 64 KiB table T rotated left by r(seed, b) bytes, so byte o of the stream
 * is T[(o % 65536 + r) % 65536]. T is the little-endian bytes of a
 * xorshift64 stream (13, 7, 17; first state 0x9E3779B97F4A7C15, word j
 * the state after j + 1 steps) and r = splitmix64(splitmix64(seed) ^ b)
 * mod 65536. T makes every byte depend on its position, r makes blocks
 * and connections differ, so a shifted, repeated or foreign segment shows
 * as a mismatch, while both peers build and compare a block with memcpy
 * and memcmp speed (the Python peer with two slices).
 */
#ifndef WSKDP_TESTS_TCP_PEER_H
#define WSKDP_TESTS_TCP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "tcp.h"

#define PROG "wskdp-tcp-peer"

#define PEER_MAGIC 0x5754
#define DIR_UP 1
#define DIR_DOWN 2
#define DIR_BOTH 3
#define HDR_LEN 16
#define STATUS_LEN 8
#define STATUS_MISMATCH 1ULL
#define STATUS_BAD_HEADER 2ULL
#define STATUS_SHORT 3ULL
#define STATUS_OFFSET_MASK ((1ULL << 56) - 1)

#define PATTERN_BLOCK 65536u

/* Failure kinds, counted separately in the summary. */
enum fail_kind {
	FAIL_REFUSED,
	FAIL_RESET,
	FAIL_TIMEOUT,		/* the engine's retransmissions gave up */
	FAIL_MISMATCH,		/* a byte differed (here or at the peer) */
	FAIL_PROTOCOL,		/* bad header, extra bytes, early end */
	FAIL_HUNG,		/* still open when --timeout expired */
	FAIL_LOCAL,		/* tcp_connect() or tcp_send() refused */
	FAIL_KINDS
};

enum peer_mode { MODE_CLIENT, MODE_SERVER, MODE_RING_BENCH };

struct peer_opts {
	struct port_conf pc;
	enum peer_mode mode;
	bool mode_set;
	rte_be32_t peer_ip;
	uint16_t tcp_port;
	uint64_t conns;
	uint64_t parallel;
	uint64_t bytes;
	uint8_t direction;
	uint64_t timeout_s;
	uint64_t port_id;
};

struct pconn;

/* One side of the conversation: an engine shard and its connections. */
struct peer {
	const char *role;
	struct engine *eng;
	struct shard *s;
	struct tcp_listener *l;
	const struct peer_opts *o;
	struct pconn *slots;
	uint32_t nb_slots;
	uint32_t started;	/* client: connects made; server: accepted */
	uint32_t finished;
	uint32_t completed;
	uint32_t *open;		/* indices of active slots */
	uint32_t nb_open;
	uint64_t fails[FAIL_KINDS];
	unsigned fail_lines;
	uint64_t bytes_verified;	/* pattern bytes received and checked */
	uint64_t bytes_sent;		/* pattern bytes queued */
	uint64_t first_us, last_us;
	bool any;
};

/* Build the pattern table T; once, before any connection. */
void pattern_init(void);

/* Set up p as the side called role ("client" or "server") of shard 0 of
 * eng, with room for nb_slots connections, and take over that shard's TCP
 * upcalls. o must outlive p. Returns 0, or -ENOMEM. Release with
 * peer_free() either way. */
int peer_init(struct peer *p, const char *role, struct engine *eng,
	      const struct peer_opts *o, uint32_t nb_slots);

/* Free what peer_init() allocated (not the engine nor the listener). */
void peer_free(struct peer *p);

/* Client: open connections up to --parallel at a time. */
void client_start(struct peer *p);

/* One pass over the open connections: anything an upcall could not finish
 * (no send space then, mbufs short) gets another go. */
void peer_pump_all(struct peer *p);

/* True once every one of the nb_slots connections completed or failed. */
bool peer_done(const struct peer *p);

/* --timeout: every connection still open has hung, and so has every one
 * never started or never accepted. */
void peer_expire(struct peer *p);

/* Print p's one summary line ("<PROG>: <what> <role> dir=... ") with its
 * failures by kind, rates and the engine's retransmission counters. */
void print_summary(const struct peer *p, const char *what, uint8_t dir,
		   uint64_t bytes);

#endif
