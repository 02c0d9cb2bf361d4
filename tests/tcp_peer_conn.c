/*
 * wskdp-tcp-peer's side of the protocol (described in tcp_peer.h): the
 * pattern, each connection's progress through the exchange as the engine's
 * upcalls and the run loop's pumping drive it, and the per-side counts
 * and summary. tcp_peer.c owns the engines, the options and main().
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tcp.h"
#include "tcp_peer.h"

/* Bytes moved per tcp_send()/tcp_recv() call: a few segments, on the
 * stack. */
#define IO_CHUNK 16384u

static const char *const fail_names[FAIL_KINDS] = {
	"refused", "reset", "timeout", "mismatch", "protocol", "hung", "local",
};

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

static uint8_t pattern_table[PATTERN_BLOCK];

static uint64_t
splitmix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void
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
void
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
void
peer_pump_all(struct peer *p)
{
	for (uint32_t i = 0; i < p->nb_open;) {
		struct pconn *pc = &p->slots[p->open[i]];

		conn_pump(pc);
		if (i < p->nb_open && &p->slots[p->open[i]] == pc)
			i++;
	}
}

bool
peer_done(const struct peer *p)
{
	return p->finished == p->nb_slots;
}

/* --timeout: every connection still open has hung. */
void
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

int
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

void
peer_free(struct peer *p)
{
	free(p->slots);
	free(p->open);
}

void
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
