/*
 * TCP internals shared by tcp_subr.c, tcp_input.c, tcp_output.c and
 * tcp_timer.c (FreeBSD tcp_var.h in spirit). Not for the layers above:
 * they use tcp.h.
 *
 * Queues. The send queue is a singly linked list (through m->next) of
 * mbufs holding the bytes from SND.UNA's first data byte on: direct ones
 * (tcp_send() copied into them) or ones attached to user memory
 * (tcp_send_ext(), no tail room); output sends clones attached to them,
 * so acknowledged bytes are trimmed off the head while clones still in
 * flight keep the buffers (or the user memory's reference) alive. The
 * receive queue is a list of payload segments as they arrived (possibly
 * indirect, possibly parts of chains); tcp_recv() and tcp_recv_mbufs() eat
 * from its head.
 * Both are lists of segments, not mbuf packets: pkt_len and nb_segs of
 * their heads mean nothing, and they are freed segment by segment.
 */
#ifndef WSKDP_TCP_VAR_H
#define WSKDP_TCP_VAR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "shard.h"
#include "tcp.h"
#include "tcp_cc.h"
#include "tcp_options.h"
#include "tcp_reass.h"
#include "tcp_rtt.h"
#include "tcp_sack.h"
#include "tcp_secret.h"
#include "tcp_seq.h"
#include "timer_wheel.h"

/* Timer kinds; the handler table is in tcp_timer.c. */
enum tcp_timer_kind {
	TCPT_REXMT,		/* retransmission (SYN, data, FIN) */
	TCPT_PERSIST,		/* zero-window probe */
	TCPT_DELACK,		/* delayed ACK */
	TCPT_TIME_WAIT,		/* 2 MSL */
	TCPT_RACK,		/* RACK reordering window (tcp_recovery.c) */
	TCPT_TLP,		/* tail loss probe (tcp_recovery.c) */
	TCPT_KEEP,		/* keepalive idle time and probe interval */
	TCPT_COUNT
};
_Static_assert(TCPT_COUNT <= 8, "tcp_conn.timers_armed has a bit per kind");

/* Wheel geometry: 1 ms ticks (finer than any TCP timer needs), 4096 slots
 * (one revolution = 4 s covers RTO and delayed ACK without skips). */
#define TCP_WHEEL_TICK_US 1000
#define TCP_WHEEL_SLOTS 4096
/* Timer callbacks per poll pass, so a storm of expiries cannot stall rx. */
#define TCP_TIMER_MAX_FIRES 1024

/* Connection flags (t_flags). */
#define TF_ACKNOW	(1u << 0)	/* send an ACK now */
#define TF_DELACK	(1u << 1)	/* an ACK is owed, delayed */
#define TF_NODELAY	(1u << 2)	/* no Nagle */
#define TF_NEEDFIN	(1u << 3)	/* user shut down: FIN after the data */
#define TF_SENTFIN	(1u << 4)	/* a FIN has been sent (snd_max covers it) */
#define TF_REQ_TSTMP	(1u << 5)	/* we offered timestamps */
#define TF_RCVD_TSTMP	(1u << 6)	/* timestamps agreed */
#define TF_REQ_SCALE	(1u << 7)	/* we offered window scaling */
#define TF_RCVD_SCALE	(1u << 8)	/* window scaling agreed */
#define TF_SACK_PERMIT	(1u << 9)	/* SACK agreed */
#define TF_REXMT_UNA	(1u << 10)	/* retransmit one segment at SND.UNA */
#define TF_FORCE	(1u << 11)	/* window probe: send 1 byte past the window */
#define TF_RELEASED	(1u << 12)	/* the user dropped its handle */
#define TF_EMBRYO	(1u << 13)	/* passive, not yet accepted: no user */
#define TF_RCVD_FIN	(1u << 14)	/* the peer's FIN was consumed */
#define TF_FIN_OOO	(1u << 15)	/* a FIN arrived ahead of a hole (fin_seq) */
#define TF_SYN_REXMT	(1u << 16)	/* the SYN was retransmitted */
#define TF_PASSIVE	(1u << 17)	/* created by a listener */
#define TF_IN_ACCEPTQ	(1u << 18)
#define TF_SHUT_WR	(1u << 19)	/* tcp_shutdown() was called */
#define TF_REQ_SACK	(1u << 20)	/* we offered SACK */
#define TF_CLOSE_REPORTED (1u << 21)	/* closed() was queued once */
#define TF_IN_TABLE	(1u << 22)	/* the 4-tuple maps to this connection */
/* Fast Open (RFC 7413; tcp_fastopen.c). */
#define TF_TFO_REQ	(1u << 23)	/* client: our SYN carries a cookie request */
#define TF_TFO_COOKIE	(1u << 24)	/* client: our SYN carries tfo_cookie (+ data) */
#define TF_TFO_EXP	(1u << 25)	/* the option in experimental form (kind 254) */
#define TF_TFO_SEND_COOKIE (1u << 26)	/* server: the SYN-ACK carries our cookie */
#define TF_TFO_PENDING	(1u << 27)	/* server: counted in tfo_listener->tfo_pending */
#define TF_KEEPALIVE	(1u << 28)	/* keepalive on (tcp_set_keepalive) */
#define TF_ACK_DEFER	(1u << 29)	/* on a deferred-ACK list (tcp_ack_defer) */
#define TF_ACK_OWED	(1u << 30)	/* the deferred ACK is not sent yet */

/* Events waiting for upcalls (t_events). */
#define TEV_CONNECTED	(1u << 0)
#define TEV_READABLE	(1u << 1)
#define TEV_ACKED	(1u << 2)
#define TEV_CLOSED	(1u << 3)
#define TEV_FIN_ACKED	(1u << 4)	/* FIN_WAIT_1 -> FIN_WAIT_2: acked(c, 0) */

/*
 * RACK-TLP (RFC 8985) state of a SACK connection; tcp_recovery.c.
 * Transmit times live on the send queue's mbufs (struct tcp_sq_mark); the
 * byte totals below are the sums of their marks, recomputed by every
 * loss-detection pass and kept up to date by transmissions in between.
 */
struct tcp_rack {
	uint64_t xmit_us;	/* RACK.xmit_ts: latest send time delivered */
	uint32_t end_seq;	/* RACK.end_seq of that segment */
	uint32_t rtt_us;	/* RACK.rtt */
	uint32_t min_rtt_us;	/* RACK.min_RTT, valid when has_min_rtt */
	uint32_t fack;		/* RACK.fack: highest end delivered */
	bool valid;		/* xmit_us/end_seq/rtt_us hold a delivery */
	bool has_min_rtt;
	bool reord;		/* RACK.reord: reordering was seen */
	bool tlp_active;	/* a probe is out, tlp_end_seq valid */
	bool tlp_rexmt;		/* that probe was a retransmission */
	bool rexmt_first;	/* recovery began: one retransmission is due
				 * whatever the pipe (RFC 6675 §5 step 4.3) */
	uint32_t tlp_end_seq;	/* RFC 8985 TLP.end_seq */
	uint32_t lost_bytes;	/* marked lost, not yet retransmitted */
	uint32_t sacked_bytes;	/* in mbufs the receiver SACKed */
};

/* 16 bytes, the last 4 always zero: rte_hash compares 16-byte keys with
 * one SSE compare instead of memcmp(). */
struct tcp_key {
	rte_be32_t laddr;
	rte_be32_t raddr;
	rte_be16_t lport;
	rte_be16_t rport;
	uint32_t zero;
} __rte_packed;
_Static_assert(sizeof(struct tcp_key) == 16, "rte_hash's 16-byte compare");

/* The connection table's hash of a key: what its hash function,
 * rte_hash_crc() with the initial value 0, gives for the 16 bytes. It is
 * computed once where the key is built and passed to every lookup, add
 * and delete, instead of the table calling the function again each time
 * through a pointer (about 100 instructions a call against 10 here). */
static inline hash_sig_t
tcp_key_hash(const struct tcp_key *k)
{
	uint64_t w[2];

	memcpy(w, k, sizeof(w));
	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0));
}

static inline bool
tcp_key_eq(const struct tcp_key *a, const struct tcp_key *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

struct tcp_listener {
	struct tcp_shard *ts;
	rte_be32_t laddr;		/* 0: any */
	rte_be16_t lport;
	bool in_use;
	uint32_t backlog;
	uint32_t embryos;		/* SYN_RECEIVED conns of this listener */
	uint32_t acc_head, acc_count;	/* ring of established, unaccepted */
	struct tcp_conn **acceptq;	/* backlog entries */
	void *user;
	uint32_t tfo_max_pending;	/* 0: Fast Open off */
	uint32_t tfo_pending;		/* TF_TFO_PENDING connections */
	/* For the connections it makes (tcp_listener_set_conn_opts): 0
	 * for the shard's buffers, no MSS clamp. */
	uint32_t snd_buf;
	uint32_t rcv_buf;
	uint16_t user_mss;
};

struct tcp_conn {
	struct tcp_shard *ts;
	struct shard_port *sp;
	struct tcp_key key;
	hash_sig_t key_hash;		/* tcp_key_hash(&key) */
	enum tcp_state state;
	uint32_t t_flags;
	uint32_t t_events;
	enum tcp_close_reason close_reason;
	/* Bit k: timer kind k is armed, due at timer_due[k]. Every ACK
	 * cancels or tests timers that are mostly not armed; the bits answer
	 * from this first cache line instead of the four the entries span.
	 * timers_queued: timers[k] is on the wheel, which may be so after a
	 * cancel (tcp_timer.c stops timers lazily); an entry is initialised
	 * (and its line touched) only when first queued. */
	uint8_t timers_armed;
	uint8_t timers_queued;
	struct tcp_listener *listener;	/* passive, until accepted */
	void *user;

	/* Send sequence space (RFC 9293 §3.3.1; snd_max as in BSD). */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;
	uint32_t snd_wnd;		/* peer's window, scaled */
	uint32_t max_sndwnd;		/* largest window the peer offered */
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint16_t t_maxseg;		/* payload per segment (options excluded) */
	uint16_t peer_mss;		/* 0 until the SYN exchange gave one */
	uint16_t user_mss;		/* MSS clamp (TCP_MAXSEG), 0: none */

	/* Receive sequence space. */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;		/* right edge we advertised */
	uint32_t fin_seq;		/* TF_FIN_OOO: sequence of the FIN */

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent;
	uint64_t ts_recent_age_us;
	uint32_t ts_offset;
	uint32_t last_ack_sent;

	/* RTT: the timed segment (Karn). */
	uint32_t rtt_seq;
	uint64_t rtt_start_us;
	bool rtt_timing;
	struct tcp_rtt rtt;
	uint8_t rxt_shift;		/* consecutive retransmissions */
	uint8_t dupacks;
	uint64_t last_send_us;
	uint64_t last_rcv_us;		/* latest segment received */
	uint64_t oow_ack_next_us;	/* earliest next ACK to an unacceptable segment */

	/* Keepalive (TF_KEEPALIVE; tcp_timer.c). */
	uint64_t keep_idle_us;
	uint32_t keep_intvl_us;
	uint8_t keep_count;		/* probes before giving up */
	uint8_t keep_probes;		/* sent since the last segment received */

	struct tcp_cc_state cc;
	uint32_t high_rxt;		/* RFC 6675 HighRxt + 1 */
	struct tcp_rack rack;

	/* Send queue: bytes [sq_seq, sq_seq + sq_bytes). */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_seq;
	uint32_t sq_bytes;
	uint32_t snd_buf;
	struct rte_mbuf *sq_cur;	/* lookup cursor */
	uint32_t sq_cur_seq;		/* sequence of sq_cur's first byte */

	/* Receive queue. */
	struct rte_mbuf *rq_head, *rq_tail;
	uint32_t rq_bytes;
	uint32_t rcv_buf;

	uint32_t acked_pending;		/* for the acked() upcall */
	uint32_t ack_defer_nxt;		/* RCV.NXT when TF_ACK_DEFER was set */
	bool in_dispatch;

	/* Fast Open. Client: the cookie and server MSS taken from the cache
	 * at connect, and the data bytes the first SYN carried. Server: the
	 * listener whose pending count includes this connection. */
	uint8_t tfo_cookie_len;
	uint8_t tfo_cookie[TCP_OPT_TFO_COOKIE_MAX];
	uint16_t tfo_mss;
	uint16_t tfo_syn_data;
	struct tcp_listener *tfo_listener;

	/* Every allocated connection of the shard, for teardown. */
	struct tcp_conn *all_prev, *all_next;

	struct timer_entry timers[TCPT_COUNT];
	uint64_t timer_due[TCPT_COUNT];	/* valid while armed */

	/* From here on only the headers are cleared at allocation
	 * (tcp_sack_init(), tcp_reass_init()): the ranges and blocks are
	 * what a connection without loss or reordering never touches, so a
	 * new connection writes about half the structure's cache lines
	 * instead of all of them, lines its predecessor left to go cold. */
	struct tcp_sack_board sack;
	struct tcp_reass reass;
};

/* Segments of an rx burst held so that their connections are fetched
 * together (tcp_input.c). */
#define TCP_RX_BATCH 64
/* The smallest peer MSS we send with (Linux's tcp_min_snd_mss). */
#define TCP_MIN_SND_MSS 48
/* Connections per deferred-ACK list; beyond it an ACK goes out at once. */
#define TCP_ACK_DEFER_MAX 1024
struct tcp_seg;

/* The connection table's first level, one slot per value of the key hash's
 * top bits, as Open vSwitch puts an exact-match cache in front of its
 * classifier: a connection whose slot is free takes it, and is found with
 * one load and a 16-byte compare on the connection's own first cache line
 * (which the segment needs next anyway), where rte_hash costs 150-300
 * instructions and lines of its own per lookup, add and delete (with the
 * bind table's, 10% of the client lcore's samples at 230k connections/s
 * before). A connection whose slot is taken goes to ts->table, and the
 * slot counts it, so that a lookup only asks ts->table where something
 * spilled. */
struct tcp_slot {
	struct tcp_conn *c;	/* the connection holding the slot, or NULL */
	hash_sig_t hash;	/* c->key_hash: a mismatch costs no TCB line */
	uint32_t spilled;	/* connections of this slot kept in ts->table */
};

struct tcp_shard {
	struct shard *s;
	struct tcp_conf conf;
	const struct tcp_cc_ops *cc;
	struct tcp_slot *slots;		/* 1 << (32 - slot_shift) of them */
	uint32_t slot_shift;
	struct rte_hash *table;		/* connections whose slot was taken */
	struct rte_mempool *conn_pool;
	struct tcp_listener *listeners;
	struct timer_wheel wheel;
	struct tcp_secret secret;
	struct tcp_upcalls up;
	struct tcp_conn *all;		/* list of allocated connections */
	uint16_t eph_next;		/* host order */
	uint64_t challenge_window_us;	/* start of the current second */
	uint32_t challenge_count;
	struct tcp_tfo_entry *tfo_cache;	/* Fast Open client cache */
	uint32_t tfo_cache_mask;		/* entries - 1 */
	/* Held segments (tcp_input_queue). */
	struct tcp_seg *rx_segs;		/* TCP_RX_BATCH entries */
	uint32_t rx_n;
	/* Deferred ACKs (tcp_ack_defer()): the list filled during this pass
	 * (defer_cur) and the one from the pass before, flushed by this
	 * pass's tcp_poll(). */
	struct {
		struct tcp_conn *c[TCP_ACK_DEFER_MAX];
		uint32_t n;
	} defer[2];
	unsigned defer_cur;
};

/* The slot of a key whose tcp_key_hash() is sig. Its top bits: rte_hash
 * takes its bucket from the low ones, so the keys one slot spills are
 * spread over ts->table's buckets. */
static inline struct tcp_slot *
tcp_slot_of(const struct tcp_shard *ts, hash_sig_t sig)
{
	return &ts->slots[sig >> ts->slot_shift];
}

/* Whether the slot holds a connection whose key hashes to sig: a cheap
 * first test before its key is compared. */
static inline bool
tcp_slot_holds(const struct tcp_slot *sl, hash_sig_t sig)
{
	return sl->c != NULL && sl->hash == sig;
}

static inline struct tcp_shard *
tcp_shard_of(const struct shard *s)
{
	return (struct tcp_shard *)s->l4;
}

static inline bool
tcp_state_synchronized(enum tcp_state st)
{
	return st >= TCPS_ESTABLISHED;
}

/* Timestamp clock: 1 ms ticks (RFC 7323 §5.4 allows 1 ms to 1 s). */
static inline uint32_t
tcp_ts_now(const struct tcp_shard *ts, const struct tcp_conn *c)
{
	return (uint32_t)(ts->s->now_us / 1000) + c->ts_offset;
}

/* The receive window we can offer now (bytes, unscaled). */
static inline uint32_t
tcp_rcv_space(const struct tcp_conn *c)
{
	uint32_t used = c->rq_bytes + tcp_reass_bytes(&c->reass);

	return used >= c->rcv_buf ? 0 : c->rcv_buf - used;
}

/* One byte past the last byte of data in the send queue. */
static inline uint32_t
tcp_sq_end(const struct tcp_conn *c)
{
	return c->sq_seq + c->sq_bytes;
}

/* tcp_subr.c */
struct tcp_conn *tcp_conn_alloc(struct tcp_shard *ts, struct shard_port *sp,
				const struct tcp_key *key);
int tcp_conn_insert(struct tcp_conn *c);
void tcp_conn_free(struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(struct tcp_shard *ts,
				 const struct tcp_key *key);
/* The same with the key's tcp_key_hash() already computed. */
struct tcp_conn *tcp_conn_lookup_hash(struct tcp_shard *ts,
				      const struct tcp_key *key, hash_sig_t sig);
void tcp_conn_close(struct tcp_conn *c, enum tcp_close_reason why);
void tcp_dispatch(struct tcp_conn *c);
void tcp_sq_drop(struct tcp_conn *c, uint32_t bytes);
/* Copy up to len bytes to the tail of the send queue, within the send
 * buffer; returns the bytes taken (fewer when mbufs ran out). */
uint32_t tcp_sq_append(struct tcp_conn *c, const void *data, uint32_t len);

/* A buffer size tcp.h accepts (TCP_BUF_MIN..TCP_BUF_MAX). */
static inline bool
tcp_buf_ok(uint32_t bytes)
{
	return bytes >= TCP_BUF_MIN && bytes <= TCP_BUF_MAX;
}
void tcp_rq_append(struct tcp_conn *c, struct rte_mbuf *m);
void tcp_conn_established(struct tcp_conn *c);
struct tcp_listener *tcp_listener_find(struct tcp_shard *ts, rte_be32_t laddr,
				       rte_be16_t lport);
void tcp_listener_remove(struct tcp_conn *c);
/* An embryo of c->listener is complete: into the accept queue, and the
 * user hears of it (TEV_CONNECTED). The caller checked the room. */
void tcp_listener_enqueue(struct tcp_conn *c);
uint16_t tcp_mss_for_port(const struct shard_port *sp);
/* The MSS to advertise: the port's, clamped to user_mss when set. */
uint16_t tcp_mss_clamp(const struct shard_port *sp, uint16_t user_mss);
void tcp_conn_init_seq(struct tcp_conn *c);

/* tcp_input.c */
/* Allocate the held-segment array: 0 or -ENOMEM. */
int tcp_input_init(struct tcp_shard *ts, int socket_id);
/* Free held segments and the array. Safe when init failed. */
void tcp_input_fini(struct tcp_shard *ts);

/* tcp_output.c */
void tcp_output(struct tcp_conn *c);
void tcp_respond(struct shard *s, struct shard_port *sp, rte_be32_t src,
		 rte_be32_t dst, rte_be16_t sport, rte_be16_t dport,
		 uint32_t seq, uint32_t ack, uint8_t flags);
void tcp_send_syncookie_synack(struct tcp_listener *l, struct shard_port *sp,
			       const struct tcp_key *key, uint32_t irs,
			       uint16_t peer_mss);

/* What a tail loss probe sent (tcp_output_tlp). */
enum tcp_tlp_sent {
	TCP_TLP_NOTHING,	/* nothing outstanding, or no mbuf */
	TCP_TLP_NEW_DATA,	/* one segment of new data */
	TCP_TLP_REXMT,		/* the last segment sent, again */
};
/* RFC 8985 §7.3: send one new segment if the peer's window allows, else
 * retransmit the highest-sequence segment; outside cwnd. */
enum tcp_tlp_sent tcp_output_tlp(struct tcp_conn *c);

/* A keepalive probe: an ACK at SND.UNA - 1 without data (tcp_timer.c).
 * Returns 0, or -1 when no mbuf was free. */
int tcp_output_keepalive(struct tcp_conn *c);

/* tcp_fastopen.c (Fast Open, RFC 7413) */
/* Allocate the client cache (conf.tfo_cache_entries, 0: none): 0,
 * -EINVAL (too many entries) or -ENOMEM. */
int tcp_tfo_cache_init(struct tcp_shard *ts, int socket_id);
void tcp_tfo_cache_fini(struct tcp_shard *ts);
/* Client, at tcp_connect(): pick cookie request, cookie or nothing. */
void tcp_tfo_connect(struct tcp_conn *c);
/* Client: data bytes the first SYN carries, given its option bytes. */
uint32_t tcp_tfo_syn_data_len(const struct tcp_conn *c, unsigned syn_opt_len);
/* Add the Fast Open option a SYN or SYN-ACK of c carries, if any. */
void tcp_tfo_syn_option(const struct tcp_conn *c, struct tcp_opts *o);
/* Client, SYN-ACK acking 'ack' in SYN_SENT (before SND.UNA moves): drop
 * acknowledged SYN data, cache cookie and MSS, count, mark failures. */
void tcp_tfo_client_synack(struct tcp_conn *c, const struct tcp_opts *o,
			   uint32_t ack);
/* Client: the SYN was never answered; stop Fast Open to that server. */
void tcp_tfo_client_timeout(struct tcp_conn *c);
/* Server, a SYN on listener l made c: true when its 'len' data bytes are
 * to be accepted (c then counts against the listener's pending). */
bool tcp_tfo_server_syn(struct tcp_listener *l, struct tcp_conn *c,
			const struct tcp_opts *o, uint32_t len);
/* Server: c no longer counts as pending (third ACK, close or free). */
void tcp_tfo_pending_done(struct tcp_conn *c);
/* Give every shard of eng the first shard's Fast Open key. */
void tcp_tfo_share_key(struct engine *eng);

/* tcp_recovery.c (RACK-TLP, RFC 8985; limited transmit, RFC 3042; early
 * retransmit, RFC 5827) */
/* Register the send queue's per-mbuf mark (a DPDK dynamic field); called
 * by tcp_shard_init. Returns 0 or -ENOMEM (no dynamic field room). */
int tcp_recovery_init(void);
/* Bytes sq_append may still add to the send queue's tail mbuf t: none once
 * any of its bytes was sent, and at most a segment in all, so that send
 * queue mbufs and segments line up and a mark describes one segment. */
uint32_t tcp_sq_tail_room(const struct tcp_conn *c, const struct rte_mbuf *t);
/* tcp_xmit sends bytes of send-queue mbuf m from offset 'off': stamp it;
 * rexmt: the bytes were sent before. */
void tcp_rack_sent(struct tcp_conn *c, struct rte_mbuf *m, uint32_t off,
		   bool rexmt);
/* RACK and TLP run on this connection (SACK agreed, synchronized). */
bool tcp_rack_enabled(const struct tcp_conn *c);
/*
 * Owe the peer an ACK (TF_ACKNOW set) but give the user one poll pass to
 * answer first, so that the answer carries it: the ACK of a SYN-ACK rides
 * on the request the connected upcall leads to, the ACK of a FIN on the
 * FIN the disconnect event leads to (Linux defers the first the same way
 * when a write is pending). Sent by the next pass's tcp_poll() when
 * nothing else carried it; at once when data is waiting to go anyway or
 * the list is full.
 */
void tcp_ack_defer(struct tcp_conn *c);

/* ACK processing, before tcp_sq_drop(): bytes up to 'ack' are delivered. */
void tcp_rack_acked(struct tcp_conn *c, uint32_t ack);
/* ACK processing, at its end (SND.UNA, SACK board and window updated):
 * detect losses, enter recovery, (re)arm the reordering and TLP timers. */
void tcp_rack_after_ack(struct tcp_conn *c);
/* RFC 6675 pipe as RACK sees it: bytes in flight, less SACKed and lost. */
uint32_t tcp_rack_pipe(const struct tcp_conn *c);
/* The next bytes RACK marked lost: true with [*seq, *seq + *len), at most
 * a segment; false when none are waiting. */
bool tcp_rack_next_lost(struct tcp_conn *c, uint32_t *seq, uint32_t *len);
/* True once per recovery, when it has just begun: the first lost segment
 * goes out whatever the pipe (RFC 6675 §5 step 4.3). */
bool tcp_rack_rexmt_first(struct tcp_conn *c);
/* Where the last segment ending at hi starts (a probe resends it). */
uint32_t tcp_rack_tail_seq(const struct tcp_conn *c, uint32_t hi);
/* Output sent new data: (re)arm the tail loss probe. */
void tcp_tlp_schedule(struct tcp_conn *c);
/* The retransmission timer fired: forget every mark and probe. */
void tcp_rack_on_rto(struct tcp_conn *c);
/* Timer handlers (tcp_timer.c's table). */
void tcp_rack_timer(struct tcp_conn *c);
void tcp_tlp_timer(struct tcp_conn *c);
/* The value to arm the retransmission timer with: the RTO, but when one
 * segment at most is out and the receiver has no hole (so it may delay
 * its ACK), at least SRTT + 200 ms (RFC 8985's WCDelAckT). */
uint32_t tcp_rexmt_timeout(const struct tcp_conn *c);
/* RFC 3042 limited transmit: bytes beyond cwnd that the first two
 * duplicate ACKs allow for new data (0 otherwise). */
uint32_t tcp_limited_transmit(const struct tcp_conn *c);
/* Duplicate ACKs that mean a loss: DupThresh (3), or with fewer than four
 * segments out and no new data to send the RFC 5827 early-retransmit
 * threshold (segments out - 1). */
unsigned tcp_dupthresh(const struct tcp_conn *c);

/* tcp_timer.c */
void tcp_timer_arm(struct tcp_conn *c, enum tcp_timer_kind k, uint64_t after_us);
void tcp_timer_cancel(struct tcp_conn *c, enum tcp_timer_kind k);
void tcp_timers_cancel_all(struct tcp_conn *c);
bool tcp_timer_armed(const struct tcp_conn *c, enum tcp_timer_kind k);
/* When an armed timer is due (microseconds on the shard's clock). */
uint64_t tcp_timer_due(const struct tcp_conn *c, enum tcp_timer_kind k);
void tcp_timers_run(struct tcp_shard *ts);
void tcp_enter_time_wait(struct tcp_conn *c);
/* The connection is synchronized now: start keepalive if it is on. */
void tcp_keepalive_start(struct tcp_conn *c);

#endif
