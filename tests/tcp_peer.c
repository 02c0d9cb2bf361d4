/*
 * wskdp-tcp-peer: the TCP engine as one end of a verified byte stream, so
 * it can be proven against the Linux kernel (tests/interop/tcp_kernel.sh,
 * whose other end is tests/interop/tcp_kernel_peer.py) and measured
 * against itself (bench/tcp_bulk.sh).
 *
 *   wskdp-tcp-peer [EAL options] -- --ip A/P --mode client|server
 *       [--peer IP] --port N [--conns N] [--parallel N] [--bytes N]
 *       [--direction up|down|both] [--timeout S]
 *   wskdp-tcp-peer [EAL options] -- --mode ring-bench [--bytes N]
 *       [--direction up|down|both] [--timeout S]
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
 *
 * The engine runs in this thread: the loop polls the shard, starts new
 * connections and lets each open connection read, verify and write as
 * much as it can. It is a test tool: it uses engine internals (net.h for
 * the ARP warm-up ping) freely.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "app_common.h"
#include "engine.h"
#include "net.h"
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
/* Bytes moved per tcp_send()/tcp_recv() call: a few segments, on the
 * stack. */
#define IO_CHUNK 16384u

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

static const char *const fail_names[FAIL_KINDS] = {
	"refused", "reset", "timeout", "mismatch", "protocol", "hung", "local",
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

struct peer;

/* One connection's progress through the protocol. */
struct pconn {
	struct peer *p;
	struct tcp_conn *c;
	uint32_t seed;
	uint8_t dir;
	bool have_hdr;		/* server: header parsed */
	bool active;		/* counted in the peer's open list */
	bool shut;		/* our FIN is queued */
	bool eof;		/* end of stream read */
	bool finished;		/* completed or failed (counted once) */
	uint64_t length;
	/* Outgoing. */
	uint8_t hdr[HDR_LEN];	/* client: to send; server: received */
	uint32_t hdr_done;
	uint64_t out_data;
	uint8_t status_out[STATUS_LEN];
	bool status_out_ready;
	uint32_t status_out_done;
	/* Incoming. */
	uint64_t in_data;
	uint64_t mismatch_at;	/* UINT64_MAX: none */
	uint8_t status_in[STATUS_LEN];
	uint32_t status_in_done;
	uint32_t open_index;	/* position in peer->open */
};

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

static volatile bool stop_requested;
static uint8_t pattern_table[PATTERN_BLOCK];

static uint64_t
splitmix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void
pattern_init(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	for (unsigned j = 0; j < PATTERN_BLOCK / 8; j++) {
		uint64_t le;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		le = rte_cpu_to_le_64(x);
		memcpy(pattern_table + j * 8, &le, 8);
	}
}

/* Where in T the pattern byte at stream offset 'off' comes from, and how
 * many bytes from there on are contiguous in T (within the block). */
static inline uint32_t
pattern_locate(uint32_t seed, uint64_t off, uint32_t *run)
{
	uint32_t in_block = (uint32_t)(off % PATTERN_BLOCK);
	uint32_t rot = (uint32_t)(splitmix64(splitmix64(seed) ^
					     (off / PATTERN_BLOCK)) % PATTERN_BLOCK);
	uint32_t t = (in_block + rot) % PATTERN_BLOCK;

	*run = RTE_MIN(PATTERN_BLOCK - in_block, PATTERN_BLOCK - t);
	return t;
}

/* Write the pattern bytes [off, off + len) of stream 'seed' into buf. */
static void
pattern_fill(uint32_t seed, uint64_t off, uint8_t *buf, uint32_t len)
{
	while (len > 0) {
		uint32_t run, t = pattern_locate(seed, off, &run);
		uint32_t k = RTE_MIN(run, len);

		memcpy(buf, pattern_table + t, k);
		buf += k;
		off += k;
		len -= k;
	}
}

/* Compare buf with the pattern bytes [off, off + len); returns the offset
 * in the stream of the first difference, or UINT64_MAX. */
static uint64_t
pattern_check(uint32_t seed, uint64_t off, const uint8_t *buf, uint32_t len)
{
	while (len > 0) {
		uint32_t run, t = pattern_locate(seed, off, &run);
		uint32_t k = RTE_MIN(run, len);

		if (memcmp(buf, pattern_table + t, k) != 0) {
			for (uint32_t i = 0; i < k; i++)
				if (buf[i] != pattern_table[t + i])
					return off + i;
		}
		buf += k;
		off += k;
		len -= k;
	}
	return UINT64_MAX;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static const char *
dir_name(uint8_t dir)
{
	return dir == DIR_UP ? "up" : dir == DIR_DOWN ? "down" : "both";
}

/* What the client sends and the server receives as pattern bytes. */
static bool
sends_data(const struct pconn *pc)
{
	bool client = pc->p->l == NULL;

	return client ? (pc->dir & DIR_UP) != 0 : (pc->dir & DIR_DOWN) != 0;
}

static bool
receives_data(const struct pconn *pc)
{
	bool client = pc->p->l == NULL;

	return client ? (pc->dir & DIR_DOWN) != 0 : (pc->dir & DIR_UP) != 0;
}

static void
open_remove(struct peer *p, struct pconn *pc)
{
	uint32_t last;

	if (!pc->active)
		return;
	last = p->open[--p->nb_open];
	p->open[pc->open_index] = last;
	p->slots[last].open_index = pc->open_index;
	pc->active = false;
}

static void
note_finish(struct peer *p)
{
	p->finished++;
	p->last_us = p->s->now_us;
}

/* Count a failure once, print its reason (the first few of them), and
 * drop the connection with a RST if it is still open. */
static void
conn_fail(struct pconn *pc, enum fail_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
conn_fail(struct pconn *pc, enum fail_kind kind, const char *fmt, ...)
{
	struct peer *p = pc->p;
	struct tcp_conn *c = pc->c;

	if (pc->finished)
		return;
	pc->finished = true;
	p->fails[kind]++;
	note_finish(p);
	if (p->fail_lines++ < 20) {
		va_list ap;

		printf("%s: %s connection %u (%s, %" PRIu64 " bytes) failed: %s: ",
		       PROG, p->role, pc->seed, dir_name(pc->dir), pc->length,
		       fail_names[kind]);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	open_remove(p, pc);
	pc->c = NULL;
	if (c != NULL) {
		tcp_conn_set_user(c, NULL);
		if (tcp_conn_state(c) != TCPS_CLOSED &&
		    tcp_conn_state(c) != TCPS_TIME_WAIT)
			tcp_abort(c);
		tcp_release(c);
	}
}

/* Everything received and sent as the protocol says? */
static bool
conn_protocol_done(const struct pconn *pc)
{
	if (!pc->eof || !pc->shut)
		return false;
	if (receives_data(pc) && pc->in_data < pc->length)
		return false;
	if (sends_data(pc) && pc->status_in_done < STATUS_LEN)
		return false;
	return true;
}

/* Feed received bytes through the protocol. Returns false when the
 * connection failed. */
static bool
conn_consume(struct pconn *pc, const uint8_t *b, uint32_t n)
{
	struct peer *p = pc->p;
	bool server = p->l != NULL;

	while (n > 0) {
		uint32_t k;

		if (server && !pc->have_hdr) {
			k = RTE_MIN(n, HDR_LEN - pc->hdr_done);
			memcpy(pc->hdr + pc->hdr_done, b, k);
			pc->hdr_done += k;
			b += k;
			n -= k;
			if (pc->hdr_done < HDR_LEN)
				continue;
			if (((uint16_t)pc->hdr[0] << 8 | pc->hdr[1]) != PEER_MAGIC ||
			    pc->hdr[2] < DIR_UP || pc->hdr[2] > DIR_BOTH ||
			    pc->hdr[3] != 0) {
				conn_fail(pc, FAIL_PROTOCOL,
					  "bad header %02x%02x %02x %02x",
					  pc->hdr[0], pc->hdr[1], pc->hdr[2],
					  pc->hdr[3]);
				return false;
			}
			pc->dir = pc->hdr[2];
			pc->seed = (uint32_t)pc->hdr[4] << 24 |
				   (uint32_t)pc->hdr[5] << 16 |
				   (uint32_t)pc->hdr[6] << 8 | pc->hdr[7];
			pc->length = get_be64(pc->hdr + 8);
			pc->have_hdr = true;
			continue;
		}
		if (receives_data(pc) && pc->in_data < pc->length) {
			k = (uint32_t)RTE_MIN((uint64_t)n, pc->length - pc->in_data);
			if (pc->mismatch_at == UINT64_MAX)
				pc->mismatch_at = pattern_check(pc->seed,
							pc->in_data, b, k);
			pc->in_data += k;
			p->bytes_verified += k;
			b += k;
			n -= k;
			if (pc->in_data == pc->length) {
				uint64_t st = 0;

				if (pc->mismatch_at != UINT64_MAX)
					st = STATUS_MISMATCH << 56 |
					     (pc->mismatch_at & STATUS_OFFSET_MASK);
				put_be64(pc->status_out, st);
				pc->status_out_ready = true;
			}
			continue;
		}
		if (sends_data(pc) && pc->status_in_done < STATUS_LEN) {
			uint64_t st;

			k = RTE_MIN(n, STATUS_LEN - pc->status_in_done);
			memcpy(pc->status_in + pc->status_in_done, b, k);
			pc->status_in_done += k;
			b += k;
			n -= k;
			if (pc->status_in_done < STATUS_LEN)
				continue;
			st = get_be64(pc->status_in);
			if (st != 0) {
				uint64_t code = st >> 56, at = st & STATUS_OFFSET_MASK;

				conn_fail(pc, code == STATUS_MISMATCH ?
					  FAIL_MISMATCH : FAIL_PROTOCOL,
					  "the peer reports %s at byte %" PRIu64,
					  code == STATUS_MISMATCH ? "a mismatch" :
					  code == STATUS_SHORT ? "an early end" :
					  "a bad header", at);
				return false;
			}
			continue;
		}
		conn_fail(pc, FAIL_PROTOCOL, "%u bytes after the end of the exchange", n);
		return false;
	}
	return true;
}

/* Queue as much as the connection takes. Returns false on failure. */
static bool
conn_write(struct pconn *pc)
{
	uint8_t buf[IO_CHUNK];
	struct tcp_conn *c = pc->c;
	bool server = pc->p->l != NULL;
	int32_t n;

	if (server && !pc->have_hdr)
		return true;
	if (!server && pc->hdr_done < HDR_LEN) {
		n = tcp_send(c, pc->hdr + pc->hdr_done, HDR_LEN - pc->hdr_done);
		if (n < 0)
			goto refused;
		pc->hdr_done += (uint32_t)n;
		if (pc->hdr_done < HDR_LEN)
			return true;
	}
	if (sends_data(pc)) {
		while (pc->out_data < pc->length) {
			uint32_t k = (uint32_t)RTE_MIN((uint64_t)IO_CHUNK,
						       pc->length - pc->out_data);

			k = RTE_MIN(k, tcp_snd_space(c));
			if (k == 0)
				return true;
			pattern_fill(pc->seed, pc->out_data, buf, k);
			n = tcp_send(c, buf, k);
			if (n < 0)
				goto refused;
			pc->out_data += (uint32_t)n;
			pc->p->bytes_sent += (uint32_t)n;
			if ((uint32_t)n < k)
				return true;
		}
	}
	if (receives_data(pc)) {
		if (!pc->status_out_ready)
			return true;
		if (pc->status_out_done < STATUS_LEN) {
			n = tcp_send(c, pc->status_out + pc->status_out_done,
				     STATUS_LEN - pc->status_out_done);
			if (n < 0)
				goto refused;
			pc->status_out_done += (uint32_t)n;
			if (pc->status_out_done < STATUS_LEN)
				return true;
		}
	}
	if (!pc->shut) {
		if (tcp_shutdown(c) != 0) {
			conn_fail(pc, FAIL_LOCAL, "tcp_shutdown refused in %s",
				  tcp_state_name(tcp_conn_state(c)));
			return false;
		}
		pc->shut = true;
	}
	return true;
refused:
	conn_fail(pc, FAIL_LOCAL, "tcp_send: %s in %s", strerror(-n),
		  tcp_state_name(tcp_conn_state(c)));
	return false;
}

/* Read everything waiting, then write what can be written. Safe from
 * upcalls and from the main loop. */
static void
conn_pump(struct pconn *pc)
{
	uint8_t buf[IO_CHUNK];

	if (pc->finished || pc->c == NULL)
		return;
	for (;;) {
		uint32_t n = tcp_recv(pc->c, buf, sizeof(buf));

		if (n == 0)
			break;
		if (!conn_consume(pc, buf, n))
			return;
	}
	if (!pc->eof && tcp_rcv_fin(pc->c) && tcp_rcv_bytes(pc->c) == 0) {
		pc->eof = true;
		if (pc->p->l != NULL && !pc->have_hdr) {
			conn_fail(pc, FAIL_PROTOCOL, "end of stream after %u header bytes",
				  pc->hdr_done);
			return;
		}
		if (receives_data(pc) && pc->in_data < pc->length) {
			conn_fail(pc, FAIL_PROTOCOL, "end of stream after %" PRIu64
				  " of %" PRIu64 " bytes", pc->in_data, pc->length);
			return;
		}
		if (sends_data(pc) && pc->status_in_done < STATUS_LEN) {
			conn_fail(pc, FAIL_PROTOCOL, "end of stream before the status");
			return;
		}
	}
	if (tcp_conn_state(pc->c) >= TCPS_ESTABLISHED)
		conn_write(pc);
}

static void
up_connected(struct tcp_conn *c)
{
	struct pconn *pc = tcp_conn_user(c);

	if (pc != NULL)
		conn_pump(pc);
}

static void
up_readable(struct tcp_conn *c)
{
	struct pconn *pc = tcp_conn_user(c);

	if (pc != NULL)
		conn_pump(pc);
}

static void
up_acked(struct tcp_conn *c, uint32_t bytes)
{
	struct pconn *pc = tcp_conn_user(c);

	(void)bytes;
	if (pc != NULL)
		conn_pump(pc);
}

static void
up_closed(struct tcp_conn *c, enum tcp_close_reason why)
{
	struct pconn *pc = tcp_conn_user(c);
	struct peer *p;

	if (pc == NULL)
		return;
	p = pc->p;
	if (why == TCP_CLOSE_NORMAL) {
		/* Data still queued for reading is part of the exchange. */
		conn_pump(pc);
		if (pc->finished)
			return;
		if (!conn_protocol_done(pc)) {
			conn_fail(pc, FAIL_PROTOCOL,
				  "closed early: sent %" PRIu64 ", received %" PRIu64
				  " of %" PRIu64 ", status %u/8, eof %d",
				  pc->out_data, pc->in_data, pc->length,
				  pc->status_in_done, pc->eof);
			return;
		}
		if (pc->mismatch_at != UINT64_MAX) {
			conn_fail(pc, FAIL_MISMATCH, "first mismatch at byte %" PRIu64,
				  pc->mismatch_at);
			return;
		}
		pc->finished = true;
		p->completed++;
		note_finish(p);
		open_remove(p, pc);
		pc->c = NULL;
		tcp_conn_set_user(c, NULL);
		tcp_release(c);
		return;
	}
	conn_fail(pc, why == TCP_CLOSE_REFUSED ? FAIL_REFUSED :
		  why == TCP_CLOSE_RESET ? FAIL_RESET :
		  why == TCP_CLOSE_TIMEOUT ? FAIL_TIMEOUT : FAIL_LOCAL,
		  "%s after sending %" PRIu64 " and receiving %" PRIu64 " bytes",
		  tcp_close_reason_name(why), pc->out_data, pc->in_data);
}

static struct pconn *
slot_open(struct peer *p, struct tcp_conn *c)
{
	struct pconn *pc = &p->slots[p->started];

	memset(pc, 0, sizeof(*pc));
	pc->p = p;
	pc->c = c;
	pc->mismatch_at = UINT64_MAX;
	pc->active = true;
	pc->open_index = p->nb_open;
	p->open[p->nb_open++] = p->started;
	if (!p->any) {
		p->any = true;
		p->first_us = p->s->now_us;
	}
	p->started++;
	return pc;
}

static void
up_accept_ready(struct tcp_listener *l)
{
	struct peer *p = tcp_listener_user(l);
	struct tcp_conn *c;

	while ((c = tcp_accept(l)) != NULL) {
		struct pconn *pc;

		if (p->started == p->nb_slots) {
			/* More than --conns: not ours to serve. */
			tcp_conn_set_user(c, NULL);
			tcp_abort(c);
			tcp_release(c);
			continue;
		}
		pc = slot_open(p, c);
		tcp_conn_set_user(c, pc);
		if (tcp_conn_state(c) == TCPS_CLOSED) {
			conn_fail(pc, FAIL_RESET, "closed before it was accepted");
			continue;
		}
		conn_pump(pc);
	}
}

static const struct tcp_upcalls peer_upcalls = {
	.connected = up_connected,
	.accept_ready = up_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

/* Client: open connections up to --parallel at a time. */
static void
client_start(struct peer *p)
{
	const struct peer_opts *o = p->o;

	while (p->started < p->nb_slots && p->nb_open < o->parallel) {
		struct tcp_conn *c = NULL;
		struct pconn *pc = slot_open(p, NULL);
		uint64_t seed = p->started - 1;
		int rc;

		pc->seed = (uint32_t)seed;
		pc->dir = o->direction;
		pc->length = o->bytes;
		pc->hdr[0] = PEER_MAGIC >> 8;
		pc->hdr[1] = PEER_MAGIC & 0xff;
		pc->hdr[2] = o->direction;
		pc->hdr[3] = 0;
		pc->hdr[4] = (uint8_t)(seed >> 24);
		pc->hdr[5] = (uint8_t)(seed >> 16);
		pc->hdr[6] = (uint8_t)(seed >> 8);
		pc->hdr[7] = (uint8_t)seed;
		put_be64(pc->hdr + 8, o->bytes);
		rc = tcp_connect(p->s, 0, 0, 0, o->peer_ip,
				 rte_cpu_to_be_16(o->tcp_port), NULL, pc, &c);
		if (rc != 0) {
			conn_fail(pc, FAIL_LOCAL, "tcp_connect: %s", strerror(-rc));
			continue;
		}
		/* The SYN may have been answered already (never on a real
		 * wire, but cheap to allow). */
		if (!pc->finished)
			pc->c = c;
	}
}

/* One pass over the open connections: anything an upcall could not finish
 * (no send space then, mbufs short) gets another go. */
static void
peer_pump_all(struct peer *p)
{
	for (uint32_t i = 0; i < p->nb_open;) {
		struct pconn *pc = &p->slots[p->open[i]];

		conn_pump(pc);
		if (i < p->nb_open && &p->slots[p->open[i]] == pc)
			i++;
	}
}

static bool
peer_done(const struct peer *p)
{
	return p->finished == p->nb_slots;
}

/* --timeout: every connection still open has hung. */
static void
peer_expire(struct peer *p)
{
	while (p->nb_open > 0) {
		struct pconn *pc = &p->slots[p->open[0]];
		const char *st = pc->c != NULL ?
			tcp_state_name(tcp_conn_state(pc->c)) : "none";

		conn_fail(pc, FAIL_HUNG, "still %s at --timeout: sent %" PRIu64
			  ", received %" PRIu64 " of %" PRIu64 ", status %u/8, eof %d",
			  st, pc->out_data, pc->in_data, pc->length,
			  pc->status_in_done, pc->eof);
	}
	/* Connections never started (client) or never accepted (server)
	 * also count: the run promised --conns of them. */
	while (p->finished < p->nb_slots) {
		p->fails[FAIL_HUNG]++;
		p->finished++;
		if (p->fail_lines++ < 20)
			printf("%s: %s connection slot %u never %s\n", PROG,
			       p->role, p->finished - 1,
			       p->l != NULL ? "arrived" : "started");
	}
}

static int
peer_init(struct peer *p, const char *role, struct engine *eng,
	  const struct peer_opts *o, uint32_t nb_slots)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->eng = eng;
	p->s = eng->shards[0];
	p->o = o;
	p->nb_slots = nb_slots;
	p->slots = calloc(nb_slots, sizeof(*p->slots));
	p->open = calloc(nb_slots, sizeof(*p->open));
	if (p->slots == NULL || p->open == NULL)
		return -ENOMEM;
	tcp_set_upcalls(p->s, &peer_upcalls);
	return 0;
}

static void
peer_free(struct peer *p)
{
	free(p->slots);
	free(p->open);
}

static void
print_summary(const struct peer *p, const char *what, uint8_t dir,
	      uint64_t bytes)
{
	struct shard_stats st;
	double secs = p->any && p->last_us > p->first_us ?
		(p->last_us - p->first_us) / 1e6 : 0;
	uint64_t failed = 0;
	uint64_t moved = p->bytes_verified + p->bytes_sent;

	for (int k = 0; k < FAIL_KINDS; k++)
		failed += p->fails[k];
	engine_stats(p->eng, &st);
	printf("%s: %s %s dir=%s bytes=%" PRIu64 " conns=%u completed=%u failed=%" PRIu64,
	       PROG, what, p->role, dir_name(dir), bytes, p->nb_slots,
	       p->completed, failed);
	for (int k = 0; k < FAIL_KINDS; k++)
		printf(" %s=%" PRIu64, fail_names[k], p->fails[k]);
	printf(" secs=%.3f conns_per_s=%.1f MB_per_s=%.2f Gb_per_s=%.3f",
	       secs, secs > 0 ? p->completed / secs : 0,
	       secs > 0 ? moved / secs / 1e6 : 0,
	       secs > 0 ? moved * 8 / secs / 1e9 : 0);
	printf(" rexmt_timeouts=%" PRIu64 " rexmt_segments=%" PRIu64
	       " fast_retransmits=%" PRIu64 " sack_retransmits=%" PRIu64
	       " dup_acks=%" PRIu64 " reass_queued=%" PRIu64
	       " tx_drop_port_full=%" PRIu64 " tx_drop_no_mbuf=%" PRIu64 "\n",
	       st.v[SHARD_STAT_tcp_rexmt_timeouts],
	       st.v[SHARD_STAT_tcp_rexmt_segments],
	       st.v[SHARD_STAT_tcp_fast_retransmits],
	       st.v[SHARD_STAT_tcp_sack_retransmits],
	       st.v[SHARD_STAT_tcp_dup_acks],
	       st.v[SHARD_STAT_tcp_reass_queued],
	       st.v[SHARD_STAT_tx_drop_port_full],
	       st.v[SHARD_STAT_tx_drop_no_mbuf]);
	fflush(stdout);
}

static void
print_counters(const struct engine *eng)
{
	struct shard_stats st;

	engine_stats(eng, &st);
	for (int k = 0; k < SHARD_STAT_MAX; k++)
		if (st.v[k] != 0)
			printf("  %s.%s %" PRIu64 "\n", eng->name,
			       shard_stat_names[k], st.v[k]);
}

/* Poll a while longer so the last FINs and ACKs leave before exit. */
static void
linger(struct shard *a, struct shard *b, uint64_t us)
{
	uint64_t end = engine_clock_now_us(&a->clock) + us;

	while (engine_clock_now_us(&a->clock) < end) {
		shard_poll(a);
		if (b != NULL)
			shard_poll(b);
	}
}

static struct engine *
engine_open(const char *name, uint16_t ethdev, const struct port_conf *pc)
{
	struct engine_conf ec;
	struct tcp_conf tc;
	struct engine *eng;
	int rc;

	engine_conf_init(&ec, name);
	ec.lcores[0] = rte_lcore_id();
	eng = engine_create(&ec);
	if (eng == NULL) {
		fprintf(stderr, "%s: cannot create engine %s: %s\n", PROG, name,
			rte_strerror(rte_errno));
		return NULL;
	}
	tcp_conf_init(&tc);
	rc = tcp_engine_enable(eng, &tc);
	if (rc == 0)
		rc = engine_add_ethdev_port(eng, ethdev, pc);
	if (rc >= 0)
		rc = engine_start(eng);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start engine %s on port %u: %s\n",
			PROG, name, ethdev, strerror(-rc));
		tcp_engine_disable(eng);
		engine_destroy(eng);
		return NULL;
	}
	return eng;
}

static void
engine_close(struct engine *eng)
{
	if (eng == NULL)
		return;
	tcp_engine_disable(eng);
	engine_destroy(eng);
}

/* Ping the peer until it answers, so its MAC is known before the first
 * burst of SYNs (ARP queues only a few packets per address). Returns true
 * once a reply came. */
static bool
warm_up_arp(struct shard *s, rte_be32_t peer, uint64_t deadline_us)
{
	static const char payload[32] = "wskdp-tcp-peer arp warm-up";
	uint64_t next = 0;
	uint16_t seq = 0;

	while (!stop_requested && STAT_GET(s, icmp_echo_replies_rx) == 0) {
		uint64_t now = engine_clock_now_us(&s->clock);

		if (now >= deadline_us)
			return false;
		if (now >= next) {
			s->now_us = now;
			icmp_send_echo(s, &s->ports[0], peer, 0x7770, seq++,
				       payload, sizeof(payload));
			next = now + 200000;
		}
		shard_poll(s);
	}
	return STAT_GET(s, icmp_echo_replies_rx) > 0;
}

static int
run_port(const struct peer_opts *o)
{
	struct engine *eng;
	struct peer p;
	uint64_t deadline;
	bool client = o->mode == MODE_CLIENT;
	char ipbuf[16];
	int rc = 0;

	if (!rte_eth_dev_is_valid_port((uint16_t)o->port_id)) {
		fprintf(stderr, "%s: --port-id: DPDK port %" PRIu64
			" does not exist (%u ports found)\n", PROG, o->port_id,
			rte_eth_dev_count_avail());
		return 2;
	}
	eng = engine_open("peer", (uint16_t)o->port_id, &o->pc);
	if (eng == NULL)
		return 1;
	if (peer_init(&p, client ? "client" : "server", eng, o,
		      (uint32_t)o->conns) != 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		engine_close(eng);
		return 1;
	}
	deadline = engine_clock_now_us(&p.s->clock) + o->timeout_s * 1000000;
	if (client) {
		if (!warm_up_arp(p.s, o->peer_ip, deadline)) {
			fprintf(stderr, "%s: %s does not answer ping\n", PROG,
				port_format_ipv4(o->peer_ip, ipbuf, sizeof(ipbuf)));
			rc = 1;
		}
	} else {
		rc = tcp_listen(p.s, 0, rte_cpu_to_be_16(o->tcp_port), 1024, &p, &p.l);
		if (rc != 0) {
			fprintf(stderr, "%s: tcp_listen: %s\n", PROG, strerror(-rc));
			rc = 1;
		} else {
			printf("%s: listening on %s:%u\n", PROG,
			       port_format_ipv4(o->pc.addrs[0].ip, ipbuf,
						sizeof(ipbuf)), o->tcp_port);
			fflush(stdout);
		}
	}
	if (rc == 0) {
		while (!peer_done(&p)) {
			shard_poll(p.s);
			if (client)
				client_start(&p);
			peer_pump_all(&p);
			if (stop_requested || p.s->now_us >= deadline) {
				peer_expire(&p);
				break;
			}
		}
		linger(p.s, NULL, 200000);
		print_summary(&p, "port", o->direction, o->bytes);
		print_counters(eng);
		rc = p.completed == p.nb_slots ? 0 : 1;
	}
	if (p.l != NULL)
		tcp_listener_close(p.l);
	peer_free(&p);
	engine_close(eng);
	return rc;
}

/* Two engines on an in-memory link, polled alternately in this thread:
 * what one connection's bytes cost the engine, with no wire in the way. */
static int
run_ring_bench(const struct peer_opts *o)
{
	struct port_conf pa, pb;
	struct engine *ce, *se;
	struct peer cp, sp;
	struct peer_opts co = *o, so = *o;
	uint16_t ea, eb;
	uint64_t deadline;
	int rc;

	if (app_ring_pair("tcpbench", 1, &ea, &eb) != 0) {
		fprintf(stderr, "%s: cannot create the in-memory link\n", PROG);
		return 1;
	}
	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	pa.nb_addrs = pb.nb_addrs = 1;
	pa.mac_set = pb.mac_set = true;
	pa.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x64, 0x70, 0, 1 }};
	pb.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x64, 0x70, 0, 2 }};
	/* RFC 2544 benchmarking range: never routed anywhere. */
	port_parse_ipv4("198.18.0.1/24", &pa.addrs[0].ip, &pa.addrs[0].prefix);
	port_parse_ipv4("198.18.0.2/24", &pb.addrs[0].ip, &pb.addrs[0].prefix);
	ce = engine_open("bench_cli", ea, &pa);
	se = engine_open("bench_srv", eb, &pb);
	if (ce == NULL || se == NULL) {
		engine_close(ce);
		engine_close(se);
		return 1;
	}
	co.mode = MODE_CLIENT;
	co.peer_ip = pb.addrs[0].ip;
	co.tcp_port = 5001;
	co.conns = co.parallel = 1;
	so.mode = MODE_SERVER;
	so.conns = 1;
	if (peer_init(&cp, "client", ce, &co, 1) != 0 ||
	    peer_init(&sp, "server", se, &so, 1) != 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	rc = tcp_listen(sp.s, 0, rte_cpu_to_be_16(5001), 16, &sp, &sp.l);
	if (rc != 0) {
		fprintf(stderr, "%s: tcp_listen: %s\n", PROG, strerror(-rc));
		return 1;
	}
	deadline = engine_clock_now_us(&cp.s->clock) + o->timeout_s * 1000000;
	while (!peer_done(&cp) || !peer_done(&sp)) {
		shard_poll(cp.s);
		client_start(&cp);
		peer_pump_all(&cp);
		shard_poll(sp.s);
		peer_pump_all(&sp);
		if (stop_requested || cp.s->now_us >= deadline) {
			peer_expire(&cp);
			peer_expire(&sp);
			break;
		}
	}
	linger(cp.s, sp.s, 10000);
	print_summary(&cp, "ring-bench", o->direction, o->bytes);
	print_summary(&sp, "ring-bench", o->direction, o->bytes);
	print_counters(ce);
	print_counters(se);
	rc = cp.completed == 1 && sp.completed == 1 ? 0 : 1;
	tcp_listener_close(sp.l);
	peer_free(&cp);
	peer_free(&sp);
	engine_close(ce);
	engine_close(se);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: %s [EAL options] -- --mode client|server|ring-bench [options]\n"
"  client/server run the engine on DPDK port --port-id (e.g. a net_af_packet\n"
"  vdev); ring-bench runs two engines on an in-memory link, one connection.\n"
"options:\n"
"  --ip ADDR/PREFIX       the engine's address (client and server)\n"
"  --peer ADDR            the server to connect to (client)\n"
"  --port N               TCP port, 1..65535 (default 5001)\n"
"  --conns N              connections to make or serve, 1..10000000 (default 1)\n"
"  --parallel N           client: connections open at once (default 1)\n"
"  --bytes N              client: pattern bytes per connection (default 1024)\n"
"  --direction up|down|both  client: who sends the pattern (default up)\n"
"  --timeout S            give up after S seconds, 1..86400 (default 60)\n"
"  --port-id N            DPDK port id (default 0)\n"
"  --help                 this text\n"
"Prints one summary line; exits 0 only if every connection completed and\n"
"every byte matched.\n", PROG);
}

static int
parse_options(int argc, char **argv, struct peer_opts *o)
{
	enum { O_IP = 256, O_MODE, O_PEER, O_PORT, O_CONNS, O_PARALLEL,
	       O_BYTES, O_DIRECTION, O_TIMEOUT, O_PORT_ID, O_HELP };
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, O_IP },
		{ "mode", required_argument, NULL, O_MODE },
		{ "peer", required_argument, NULL, O_PEER },
		{ "port", required_argument, NULL, O_PORT },
		{ "conns", required_argument, NULL, O_CONNS },
		{ "parallel", required_argument, NULL, O_PARALLEL },
		{ "bytes", required_argument, NULL, O_BYTES },
		{ "direction", required_argument, NULL, O_DIRECTION },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "port-id", required_argument, NULL, O_PORT_ID },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool bytes_set = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->tcp_port = 5001;
	o->conns = 1;
	o->parallel = 1;
	o->bytes = 1024;
	o->direction = DIR_UP;
	o->timeout_s = 60;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_IP:
			if (port_parse_ipv4(optarg, &o->pc.addrs[0].ip,
					    &o->pc.addrs[0].prefix) != 0 ||
			    o->pc.addrs[0].ip == 0) {
				fprintf(stderr, "%s: --ip: '%s' is not an IPv4 address with an optional /prefix\n",
					PROG, optarg);
				return -1;
			}
			o->pc.nb_addrs = 1;
			break;
		case O_MODE:
			if (strcmp(optarg, "client") == 0)
				o->mode = MODE_CLIENT;
			else if (strcmp(optarg, "server") == 0)
				o->mode = MODE_SERVER;
			else if (strcmp(optarg, "ring-bench") == 0)
				o->mode = MODE_RING_BENCH;
			else {
				fprintf(stderr, "%s: --mode: '%s' is not client, server or ring-bench\n",
					PROG, optarg);
				return -1;
			}
			o->mode_set = true;
			break;
		case O_PEER:
			if (port_parse_ipv4(optarg, &o->peer_ip, NULL) != 0 ||
			    o->peer_ip == 0) {
				fprintf(stderr, "%s: --peer: '%s' is not an IPv4 address\n",
					PROG, optarg);
				return -1;
			}
			break;
		case O_PORT:
			if (app_parse_u64(PROG, "port", optarg, 1, 65535, &v) != 0)
				return -1;
			o->tcp_port = (uint16_t)v;
			break;
		case O_CONNS:
			if (app_parse_u64(PROG, "conns", optarg, 1, 10000000,
					  &o->conns) != 0)
				return -1;
			break;
		case O_PARALLEL:
			if (app_parse_u64(PROG, "parallel", optarg, 1, 10000,
					  &o->parallel) != 0)
				return -1;
			break;
		case O_BYTES:
			if (app_parse_u64(PROG, "bytes", optarg, 0,
					  STATUS_OFFSET_MASK, &o->bytes) != 0)
				return -1;
			bytes_set = true;
			break;
		case O_DIRECTION:
			if (strcmp(optarg, "up") == 0)
				o->direction = DIR_UP;
			else if (strcmp(optarg, "down") == 0)
				o->direction = DIR_DOWN;
			else if (strcmp(optarg, "both") == 0)
				o->direction = DIR_BOTH;
			else {
				fprintf(stderr, "%s: --direction: '%s' is not up, down or both\n",
					PROG, optarg);
				return -1;
			}
			break;
		case O_TIMEOUT:
			if (app_parse_u64(PROG, "timeout", optarg, 1, 86400,
					  &o->timeout_s) != 0)
				return -1;
			break;
		case O_PORT_ID:
			if (app_parse_u64(PROG, "port-id", optarg, 0,
					  RTE_MAX_ETHPORTS - 1, &o->port_id) != 0)
				return -1;
			break;
		case O_HELP:
			return 1;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n", PROG, argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n",
				PROG, argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n",
			PROG, argv[optind]);
		return -1;
	}
	if (!o->mode_set) {
		fprintf(stderr, "%s: --mode is required (see --help)\n", PROG);
		return -1;
	}
	if (o->mode != MODE_RING_BENCH && o->pc.nb_addrs == 0) {
		fprintf(stderr, "%s: --ip is required in client and server mode\n", PROG);
		return -1;
	}
	if (o->mode == MODE_CLIENT && o->peer_ip == 0) {
		fprintf(stderr, "%s: --peer is required in client mode\n", PROG);
		return -1;
	}
	if (o->mode == MODE_RING_BENCH && !bytes_set)
		o->bytes = 1ULL << 30;
	return 0;
}

int
main(int argc, char **argv)
{
	struct app_args args;
	struct peer_opts o;
	int rc;

	if (app_split_args(argc, argv, 1, &args) != 0)
		return 2;
	rc = parse_options(args.app_argc, args.app_argv, &o);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc != 0)
		return 2;
	if (rte_eal_init(args.eal_argc, args.eal_argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed (check the EAL options)\n", PROG);
		return 1;
	}
	pattern_init();
	app_on_signal(&stop_requested);
	if (o.mode == MODE_RING_BENCH)
		rc = run_ring_bench(&o);
	else
		rc = run_port(&o);
	{
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		app_remove_runtime_dir(&args, dir);
	}
	return rc;
}
