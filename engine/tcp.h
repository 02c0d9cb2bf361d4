/*
 * The TCP engine (RFC 9293): the engine-internal API the wskapi layer sits
 * on.
 *
 * Model. Each shard owns its own TCP state (struct tcp_shard, in
 * shard->l4): a connection table keyed by the 4-tuple, a preallocated pool
 * of connections, a few listeners, a timer wheel, the keys for ISNs and
 * SYN cookies and an ephemeral port allocator. Nothing is shared between
 * shards and nothing on the per-packet or per-call path allocates (apart
 * from mbufs), locks or makes a system call. Every function here must be
 * called on the shard's own lcore (or, in tests, the thread polling it).
 *
 * Data lives in mbufs: tcp_send() copies the caller's bytes into mbufs of
 * the send queue (tcp_send_ext() attaches the caller's memory to them
 * instead), output sends indirect clones of them behind a header mbuf,
 * and received payload mbufs are queued as they arrived until tcp_recv()
 * copies them out or tcp_recv_mbufs() hands them over.
 *
 * The user learns what happened through upcalls registered per shard
 * (tcp_set_upcalls()). They run from tcp_input(), tcp_poll() or a user call
 * after the connection's state is consistent, so an upcall may call any
 * function of this API, including tcp_release() on the connection it was
 * given.
 *
 * Handles. A connection from tcp_connect() or tcp_accept() belongs to the
 * user until tcp_release(); the engine frees it once both the user has
 * released it and the protocol is done with it (CLOSED, after TIME_WAIT
 * if any). A connection that is closed but not released stays in the pool
 * (and counts against max_conns) so its handle remains valid.
 *
 * Addresses and ports are in network byte order throughout, as in the
 * rest of the engine.
 */
#ifndef WSKDP_TCP_H
#define WSKDP_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

struct engine;
struct shard;
struct shard_port;
struct tcp_conn;
struct tcp_listener;

/* Why a connection closed (closed() upcall). */
enum tcp_close_reason {
	TCP_CLOSE_NORMAL,	/* both FINs exchanged and ours acknowledged */
	TCP_CLOSE_REFUSED,	/* our SYN was answered by a RST */
	TCP_CLOSE_RESET,	/* the peer reset an open connection */
	TCP_CLOSE_TIMEOUT,	/* SYN or data retransmissions exhausted */
	TCP_CLOSE_ABORTED,	/* the user called tcp_abort() */
};

/* Connection states, ordered as FreeBSD orders them so that ranges mean
 * something: >= SYN_RECEIVED has received a SYN, >= ESTABLISHED is
 * synchronized and open, > CLOSE_WAIT has sent (or must send) a FIN. */
enum tcp_state {
	TCPS_CLOSED,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT_1,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_FIN_WAIT_2,
	TCPS_TIME_WAIT,
	TCPS_COUNT
};

/*
 * Per-engine TCP settings. tcp_conf_init() fills in the defaults noted
 * beside each field.
 */
struct tcp_conf {
	uint32_t max_conns;		/* per shard: 16384 */
	uint32_t max_listeners;		/* per shard: 16 */
	uint32_t snd_buf;		/* send buffer bytes per connection: 256 KiB */
	uint32_t rcv_buf;		/* receive buffer bytes per connection: 256 KiB */
	/* RTO bounds (RFC 6298). min_rto 5 ms, a deliberate LAN choice
	 * (WSK.md checklist item 7) instead of the RFC's 1 s or Linux's
	 * 200 ms, which suit WANs and a jiffy clock: the RTT is measured in
	 * microseconds, and RACK-TLP (tcp_recovery.c) repairs lost
	 * retransmissions and tail losses without the timer, so an RTO is
	 * the last resort and each one at 200 ms against a 100 us RTT stalls
	 * the connection for 2000 round trips. The cost: a peer that delays
	 * its ACK of a lone segment longer (Linux up to 40 ms, Windows 200
	 * ms) and sends nothing back meanwhile gets that segment twice and
	 * our cwnd restarts; set 200000 for WAN paths or when retransmission
	 * counts must match a kernel's. Initial 1 s, max 120 s. */
	uint32_t min_rto_us;
	uint32_t initial_rto_us;
	uint32_t max_rto_us;
	/* SYN retransmissions before giving up: 6, which with a 1 s initial
	 * RTO doubling each time gives up 127 s after the first SYN (sent
	 * at 0, 1, 3, 7, 15, 31, 63 s; timeout at 127 s), as Linux does. */
	uint8_t syn_retries;
	/* Data (and FIN) retransmissions of one segment before the
	 * connection is reset: 15 (Linux tcp_retries2). */
	uint8_t data_retries;
	uint32_t time_wait_us;		/* TIME_WAIT length: 60 s (2 MSL, Linux) */
	uint32_t delack_us;		/* delayed-ACK timeout: 40 ms (Linux minimum) */
	uint8_t wscale;			/* our window-scale shift offered: 7 */
	bool timestamps;		/* offer RFC 7323 timestamps: true */
	bool sack;			/* offer SACK (RFC 2018): true */
	const char *cc;			/* "newreno" or "cubic": "cubic" */
	uint16_t ephemeral_lo;		/* host order: 32768 */
	uint16_t ephemeral_hi;		/* host order: 60999 (Linux default range) */
	uint32_t challenge_ack_limit;	/* challenge ACKs per second per shard: 1000 */
	/* At most one ACK per connection this often in reply to unacceptable
	 * segments (PAWS, out of window, old, acking unsent data): 500 ms, as
	 * Linux's tcp_invalid_ratelimit. 0 answers every one, as RFC 9293
	 * reads, at the risk of an ACK storm between two endpoints whose
	 * views went out of step. */
	uint32_t oow_ack_interval_us;
	/* Payloads up to this many bytes are copied behind the segment's
	 * headers instead of attached as indirect mbufs on the send queue's
	 * buffers: 256. Copying a request-sized payload costs less than the
	 * mbuf, the reference count taken and dropped, and the chain the
	 * receiver walks (+15% connections/s engine to engine). 0 attaches
	 * every payload (zero-copy, external buffers kept on the wire). */
	uint16_t tx_copy_max;
	bool syncookies;		/* SYN cookies when a backlog is full: true */
	uint64_t seed;			/* 0: random keys; else deterministic keys */
	/* TCP Fast Open client (RFC 7413): servers whose cookie and MSS each
	 * shard remembers: 1024 (rounded up to a power of two; 0 turns the
	 * client side off: tcp_conn_opts.tfo is then ignored). */
	uint32_t tfo_cache_entries;
	/* How long a server that lost or ignored our SYN data gets plain
	 * SYNs (no cookie, no request, no data): 60 s. */
	uint32_t tfo_blackhole_us;
	/* Keepalive (RFC 9293 §3.8.4), for the connections that turn it on
	 * (tcp_conn_opts.keepalive, tcp_set_keepalive()); the defaults are
	 * Linux's. Idle time before the first probe: 7200 s (the RFC's
	 * "MUST default to no less than two hours"); then a probe every 75
	 * s; after 9 unanswered probes the connection is reset and closes
	 * with TIMEOUT. None may be 0. */
	uint64_t keepalive_idle_us;
	uint32_t keepalive_intvl_us;
	uint8_t keepalive_probes;
};

/*
 * Limits of the per-connection settings (tcp_conn_opts, tcp_set_snd_buf(),
 * tcp_set_rcv_buf(), tcp_listener_set_conn_opts()).
 * Buffers, bytes of payload: at least 2 KiB (a segment of the usual
 * 1460-byte MSS fits), at most 1 GiB, the largest window RFC 7323 lets a
 * connection use (65535 << 14). The receive window offered is further
 * capped by the window scale agreed in the SYN exchange (65535 <<
 * tcp_conf.wscale: 8 MiB at the default 7; 65535 bytes when the peer does
 * not scale).
 * MSS clamp (Linux's TCP_MAXSEG/user_mss): 88, Linux's TCP_MIN_MSS, up to
 * 65495, the largest TCP payload of an IPv4 datagram; a clamp at or above
 * the port's MSS (its MTU less 40) changes nothing.
 */
#define TCP_BUF_MIN	2048u
#define TCP_BUF_MAX	(1u << 30)
#define TCP_MSS_MIN	88u
#define TCP_MSS_MAX	65495u

/*
 * Per-connection options for tcp_connect().
 *
 * Initial data (data, data_len) is copied into the send queue before the
 * SYN is built, so it is the first thing the connection sends: after the
 * handshake, or with tfo partly inside the SYN. It takes the place of a
 * tcp_send() that could not be made yet (tcp_send() refuses data before
 * the handshake), which is the one thing Fast Open needs: the bytes must
 * be there when the SYN is written.
 *
 * Fast Open client (tfo, RFC 7413 §4.2.1), decided per server address
 * from the shard's cookie cache:
 * - no cookie known: the SYN carries a cookie request (22 02) and no data;
 *   a cookie in the SYN-ACK is remembered with the server's MSS;
 * - cookie known: the SYN carries it and the first
 *   min(data_len, min(cached MSS, our MSS) - SYN option bytes) bytes (the
 *   MSS is 536 when the server never gave one); the rest follows the
 *   handshake. A SYN-ACK acknowledging only the SYN means the server
 *   dropped the data: it is sent again right after the handshake;
 * - a retransmitted SYN carries the same option but never data;
 * - SYN data not acknowledged, or a retransmitted SYN, answered without a
 *   cookie: the server gets plain SYNs for tcp_conf.tfo_blackhole_us.
 * SYN data can reach the server application twice (a duplicated SYN):
 * send only what is safe to repeat.
 */
struct tcp_conn_opts {
	bool nodelay;			/* disable Nagle */
	/* Send and receive buffers (tcp_set_snd_buf(), tcp_set_rcv_buf()):
	 * 0 for the shard's default, else TCP_BUF_MIN..TCP_BUF_MAX. */
	uint32_t snd_buf;
	uint32_t rcv_buf;
	/* MSS clamp (TCP_MAXSEG): 0 for none, else TCP_MSS_MIN..TCP_MSS_MAX.
	 * The SYN advertises min(port MSS, mss), so the peer sends no larger
	 * segments, and the connection sends at most min(peer's MSS, port
	 * MSS, mss) bytes per segment (less 12 with timestamps); Fast Open
	 * SYN data fits it too. Fixed once the SYN is sent. */
	uint16_t mss;
	bool tfo;			/* try Fast Open (see above) */
	const void *data;		/* initial data, NULL for none */
	uint32_t data_len;		/* its length, at most the send buffer */
	/* Keepalive (see tcp_set_keepalive()); off by default. The three
	 * values: 0 for the shard's tcp_conf ones. */
	bool keepalive;
	uint64_t keepalive_idle_us;
	uint32_t keepalive_intvl_us;
	uint8_t keepalive_probes;
};

/* Upcalls (any may be NULL). The connection's user pointer is
 * tcp_conn_user(c). */
struct tcp_upcalls {
	void (*connected)(struct tcp_conn *c);	/* handshake done (connect) */
	void (*accept_ready)(struct tcp_listener *l); /* tcp_accept() has one */
	void (*readable)(struct tcp_conn *c);	/* new data or the peer's FIN */
	/* Send space freed: bytes > 0 were acknowledged; bytes == 0, our FIN
	 * was, and the connection went to FIN_WAIT_2 (the other ways a FIN
	 * gets acknowledged end in closed()). */
	void (*acked)(struct tcp_conn *c, uint32_t bytes);
	void (*closed)(struct tcp_conn *c, enum tcp_close_reason reason);
};

/* Fill c with the defaults documented at struct tcp_conf. */
void tcp_conf_init(struct tcp_conf *c);

/*
 * Create the TCP state of a shard (s->l4).
 * @param s  the shard (its engine created, ports added)
 * @param c  settings; NULL for the defaults
 * @return 0; -EINVAL (bad settings: unknown cc, empty ephemeral range,
 *         max_conns 0, buffers 0); -EEXIST (already initialised);
 *         -ENOMEM (pool, table or wheel could not be allocated).
 */
int tcp_shard_init(struct shard *s, const struct tcp_conf *c);

/* Free a shard's TCP state and every connection, listener and queued mbuf
 * in it, without sending anything. Safe when not initialised. */
void tcp_shard_fini(struct shard *s);

/*
 * Turn TCP on for every shard of an engine: tcp_shard_init() on each, and
 * the engine's l4_input/l4_flush/l4_poll hooks set to
 * tcp_input_queue/tcp_input_flush/tcp_poll.
 * @return 0 or the first error of tcp_shard_init() (shards already done
 *         are finalised again).
 */
int tcp_engine_enable(struct engine *eng, const struct tcp_conf *c);

/* Undo tcp_engine_enable() (call before engine_destroy()). */
void tcp_engine_disable(struct engine *eng);

/* Register the shard's upcalls (copied). Cannot fail. */
void tcp_set_upcalls(struct shard *s, const struct tcp_upcalls *u);

/* Process one TCP segment now: data at an IPv4 header without options.
 * Takes ownership of m. */
void tcp_input(struct shard *s, struct shard_port *sp, struct rte_mbuf *m,
	       uint8_t proto);

/* The engine's l4_input hook: validate a TCP segment as tcp_input() does
 * and hold it for tcp_input_flush() (which runs at once when
 * TCP_RX_BATCH segments are held). Takes ownership of m. */
void tcp_input_queue(struct shard *s, struct shard_port *sp,
		     struct rte_mbuf *m, uint8_t proto);

/* The engine's l4_flush hook: fetch the held segments' connections
 * together, then process each as tcp_input() would, in arrival order. */
void tcp_input_flush(struct shard *s);

/* The engine's l4_poll hook: run due timers (capped per pass). */
void tcp_poll(struct shard *s);

/*
 * Open a connection (active open: send a SYN).
 * @param s          the shard
 * @param port_index engine port to use
 * @param laddr      local address (must be one of the port's), 0: the
 *                   port's first address
 * @param lport      local port, 0: pick an ephemeral port whose 4-tuple
 *                   is free
 * @param raddr      remote address; rport remote port (both non-zero)
 * @param o          options, NULL for defaults
 * @param user       stored in the connection (tcp_conn_user())
 * @param out        receives the connection
 * @return 0 (all of o->data is queued); -EINVAL (bad port, address or
 *         port numbers; o->data NULL with data_len > 0, or data_len above
 *         the send buffer; o->snd_buf, o->rcv_buf or o->mss out of
 *         range); -EADDRINUSE (4-tuple in use, or no free
 *         ephemeral port); -ENOBUFS (connection pool full, counted in
 *         tcp_conn_table_full, or no mbufs for the initial data: nothing
 *         was sent); -ENOSPC (the table refused the entry).
 */
int tcp_connect(struct shard *s, uint16_t port_index, rte_be32_t laddr,
		rte_be16_t lport, rte_be32_t raddr, rte_be16_t rport,
		const struct tcp_conn_opts *o, void *user,
		struct tcp_conn **out);

/*
 * Listen for connections.
 * @param laddr    local address, 0 for any of the shard's addresses
 * @param lport    local port (non-zero)
 * @param backlog  most connections half-open plus waiting for accept
 *                 (1..65535); beyond it SYN cookies or drop
 * @param user     tcp_listener_user() returns it
 * @param out      receives the listener
 * @return 0; -EINVAL; -EADDRINUSE (same address and port listened on);
 *         -ENOSPC (max_listeners reached); -ENOMEM.
 */
int tcp_listen(struct shard *s, rte_be32_t laddr, rte_be16_t lport,
	       uint32_t backlog, void *user, struct tcp_listener **out);

/* Stop listening: connections not yet accepted are reset and freed. */
void tcp_listener_close(struct tcp_listener *l);

/*
 * Fast Open server side for a listener (RFC 7413 §4.2.2, as Linux with
 * the TCP_FASTOPEN socket option).
 * - A cookie request gets a cookie (tcp_tfo_cookie() over the client and
 *   server addresses; one key for every shard of the engine) in the
 *   SYN-ACK, in the option form the client used (kind 34 or 254).
 * - A valid cookie with data, while fewer than max_pending Fast Open
 *   connections wait for their third ACK: the connection is made from
 *   the SYN, the data is queued for reading, the SYN-ACK acknowledges SYN
 *   and data and the connection goes to the accept queue at once
 *   (accept_ready before the handshake completes). The accepted
 *   connection is readable and takes tcp_send() in SYN_RECEIVED; what it
 *   sends leaves at once, as Linux sends it, within the client's SYN
 *   window and the initial congestion window, and what does not fit
 *   after the third ACK.
 * - An invalid cookie: the data is dropped, the handshake is a normal
 *   one and the SYN-ACK carries a valid cookie.
 * - Over max_pending: a normal handshake (data dropped), counted.
 * @param max_pending  Fast Open connections in SYN_RECEIVED at once;
 *                     0 turns Fast Open off (the default)
 */
void tcp_listener_set_tfo(struct tcp_listener *l, uint32_t max_pending);

/*
 * What the connections a listener makes get, as tcp_conn_opts gives it to
 * tcp_connect(): send and receive buffers (0: the shard's default) and
 * MSS clamp (0: none; the SYN-ACK advertises it, SYN cookies included:
 * a cookie encodes the largest MSS of its table not above the clamp).
 * Applies to connections made from SYNs (or cookie ACKs) that arrive
 * after the call; those already made keep what they got.
 * @return 0; -EINVAL (a value out of the tcp_conn_opts ranges: nothing
 *         changed).
 */
int tcp_listener_set_conn_opts(struct tcp_listener *l, uint32_t snd_buf,
			       uint32_t rcv_buf, uint16_t mss);

/* Take the oldest established connection of the listener; NULL if none.
 * The connection then belongs to the caller (its user pointer is the
 * listener's until tcp_conn_set_user()). */
struct tcp_conn *tcp_accept(struct tcp_listener *l);

/*
 * Queue bytes for sending (copied into mbufs of the send queue).
 * @return bytes accepted: 0..len, less when the send buffer is full or
 *         mbufs ran out; -ENOTCONN before the handshake completed (except
 *         on a Fast Open connection accepted in SYN_RECEIVED: queued,
 *         and sent at once within the initial window, see
 *         tcp_listener_set_tfo()) or after the connection closed;
 *         -EPIPE after tcp_shutdown().
 */
int32_t tcp_send(struct tcp_conn *c, const void *data, uint32_t len);

/*
 * Queue bytes for sending without copying them: user memory is attached to
 * send-queue mbufs as an external buffer (rte_pktmbuf_attach_extbuf()),
 * and output, retransmission, SACK/RACK recovery and trimming on ACK
 * treat those mbufs as any other. Copied (tcp_send()) and attached bytes
 * may be mixed freely; the stream keeps the order of the calls.
 *
 * References. Every mbuf this call attaches takes one reference on
 * shinfo, and every clone output makes of one (a transmission, a
 * retransmission) takes another: rte_pktmbuf_attach() of an mbuf with an
 * external buffer shares its shinfo. When the last reference is dropped
 * DPDK calls shinfo->free_cb(addr, shinfo->fcb_opaque), and only then may
 * the memory change or go away: the bytes were acknowledged (or the
 * connection flushed its queue) AND no port queue, peer or capture holds
 * a clone any more. That last free can happen on ANOTHER lcore (a PMD's
 * tx completion, a peer shard reading a net_ring), so free_cb must be
 * thread-safe and short: set a flag the owner polls, say. The caller
 * initialises shinfo (free_cb, fcb_opaque, refcnt 1 for its own
 * reference) and drops its reference with rte_mbuf_ext_refcnt_update(
 * shinfo, -1) once it will attach no more; a drop that reaches 0 means
 * no mbuf is left and DPDK will not call free_cb. Holding that reference
 * across calls keeps free_cb from running between them. One shinfo may
 * serve any number of calls and connections of this shard.
 *
 * Each mbuf holds at most one segment (t_maxseg) and ends on a segment
 * boundary counted from SND.MAX, as copied mbufs do: RACK keeps its
 * transmit marks per send-queue mbuf. No bytes are ever appended to an
 * attached mbuf (it has no tail room).
 *
 * @param c      the connection
 * @param va     the first byte
 * @param iova   its IO address (IOVA-as-VA: va itself), or RTE_BAD_IOVA
 *               when the port never DMAs (net_ring, net_af_packet,
 *               net_tap, net_pcap, custom ports): a NIC reads the bytes at
 *               iova, so for one the memory must be DMA-mapped
 *               (rte_extmem_register() plus rte_dev_dma_map())
 * @param len    bytes at va
 * @param shinfo the shared info the mbufs reference (see above)
 * @return bytes taken: 0..len, less when the send buffer is full, mbufs
 *         ran out or shinfo holds TCP_EXT_REFS_MAX references (try again
 *         after ACKs free some); -EINVAL (va or shinfo NULL with len > 0);
 *         -ENOTCONN and -EPIPE as tcp_send().
 */
int32_t tcp_send_ext(struct tcp_conn *c, void *va, rte_iova_t iova,
		     uint32_t len, struct rte_mbuf_ext_shared_info *shinfo);

/* References tcp_send_ext() lets one shinfo reach by attaching mbufs: half
 * the 16-bit count, so the clones of those mbufs cannot overflow it. */
#define TCP_EXT_REFS_MAX	(UINT16_MAX / 2)

/*
 * Copy received bytes out (and announce the reopened window when it grew
 * by at least two segments or half the buffer).
 * @return bytes copied 0..len; 0 with tcp_rcv_fin(c) true means end of
 *         stream.
 */
uint32_t tcp_recv(struct tcp_conn *c, void *buf, uint32_t len);

/*
 * Take received bytes out without copying: the payload mbufs at the head
 * of the receive queue, in order, up to max_bytes. Same window update
 * and upcall dispatch as tcp_recv().
 * @param c          the connection
 * @param head       out: an mbuf chain holding the bytes (NULL when none
 *                   were taken). head->pkt_len is the byte count and
 *                   head->nb_segs the number of segments; every segment
 *                   has data_len > 0, and an inner segment's own nb_segs
 *                   is 1 and pkt_len its data_len, so a segment unlinked
 *                   from the chain (next set to NULL) is a packet on its
 *                   own. The chain now belongs to the caller, who frees
 *                   it with rte_pktmbuf_free(), or segment by segment
 *                   with rte_pktmbuf_free_seg().
 * @param max_bytes  the most to take.
 * Segments are those that arrived: direct, indirect (clones of another
 * engine's buffers, e.g. over net_ring) or with an external buffer; they
 * are passed on as they are, so the bytes may live in another pool's or
 * the application's memory, kept alive by the reference the segment holds.
 * A segment that max_bytes cuts is split: the front leaves as a new mbuf
 * from the shard's pool attached to the same buffer (rte_pktmbuf_attach(),
 * which takes a reference on the direct mbuf or the external buffer's
 * shared info), the rest stays queued. At most RTE_MBUF_MAX_NB_SEGS
 * segments are taken per call.
 * @return bytes taken, 0..max_bytes: fewer than max_bytes when the queue
 *         holds fewer, when the segment limit is reached, or when a
 *         segment had to be split and the shard's pool had no mbuf (then
 *         possibly 0 with bytes still queued: try again later); 0 with
 *         tcp_rcv_fin(c) true and nothing queued means end of stream.
 *         head NULL: 0, nothing taken.
 */
uint32_t tcp_recv_mbufs(struct tcp_conn *c, struct rte_mbuf **head,
			uint32_t max_bytes);

/* Bytes waiting to be read. */
uint32_t tcp_rcv_bytes(const struct tcp_conn *c);

/* Bytes tcp_send() would accept now. */
uint32_t tcp_snd_space(const struct tcp_conn *c);

/* Bytes sent but not yet acknowledged, plus bytes not yet sent. */
uint32_t tcp_snd_queued(const struct tcp_conn *c);

/*
 * Set the send buffer (SO_SNDBUF): the most bytes the send queue holds,
 * sent but unacknowledged plus unsent. At once in any state: growing lets
 * tcp_send() take more now; shrinking below what is queued drops nothing
 * (tcp_send() takes nothing until acknowledgments bring the queue below
 * the new size).
 * @return 0; -EINVAL (bytes outside TCP_BUF_MIN..TCP_BUF_MAX: nothing
 *         changed).
 */
int tcp_set_snd_buf(struct tcp_conn *c, uint32_t bytes);

/*
 * Set the receive buffer (SO_RCVBUF): the most bytes held for reading, in
 * order or not. At once, for every window advertised from then on; a
 * window that grows enough is announced at once (as after tcp_recv()).
 * Shrinking never takes back window already offered (RFC 9293
 * §3.8.6.2.2): data up to that edge is still accepted. The window scale
 * was fixed by the SYN exchange, so the window never exceeds 65535 <<
 * scale whatever the buffer (see TCP_BUF_MAX).
 * @return 0; -EINVAL (bytes out of range: nothing changed).
 */
int tcp_set_rcv_buf(struct tcp_conn *c, uint32_t bytes);

/* The connection's send and receive buffers (bytes). */
uint32_t tcp_snd_buf(const struct tcp_conn *c);
uint32_t tcp_rcv_buf(const struct tcp_conn *c);

/* The MSS in use: payload bytes per segment, once the SYN exchange has
 * agreed on one (the smallest of the peer's MSS, the port's and the
 * clamp, less 12 when every segment carries timestamps); before that (a
 * SYN sent, no answer yet), the MSS our SYN advertises. */
uint16_t tcp_maxseg(const struct tcp_conn *c);

/* What a connection gets without options: the shard's buffers (tcp_conf)
 * and the MSS a port advertises (its MTU less 40; 0 for a bad
 * port_index). */
uint32_t tcp_default_snd_buf(const struct shard *s);
uint32_t tcp_default_rcv_buf(const struct shard *s);
uint16_t tcp_port_mss(const struct shard *s, uint16_t port_index);

/* True once the peer's FIN was received (end of stream after the data). */
bool tcp_rcv_fin(const struct tcp_conn *c);

/* Graceful close: send a FIN after the queued data. Returns 0, or
 * -ENOTCONN when the connection is not open for sending. Idempotent. */
int tcp_shutdown(struct tcp_conn *c);

/* Abortive close: send a RST (when synchronized), drop all queued data,
 * report closed(ABORTED). Safe to call in any state. */
void tcp_abort(struct tcp_conn *c);

/*
 * Keepalive (RFC 9293 §3.8.4, in the Linux/BSD form). While on and the
 * connection is synchronized and idle (nothing in flight, nothing queued
 * to send), a connection that has received nothing for idle_us sends a
 * probe: an ACK with SEG.SEQ = SND.UNA - 1 and no data, which any live
 * peer answers with an ACK. Unanswered, it sends one every intvl_us;
 * after count unanswered probes it sends a RST and closes with
 * TCP_CLOSE_TIMEOUT. Any segment received starts the idle time again.
 * Turning it on (again) restarts the wait for a full idle_us.
 * @param c         the connection (any state; the timer starts once
 *                  synchronized)
 * @param on        true to turn keepalive on, false to turn it off
 * @param idle_us   idle time before the first probe, 0: tcp_conf's
 * @param intvl_us  time between probes, 0: tcp_conf's
 * @param count     unanswered probes before giving up (at most 255),
 *                  0: tcp_conf's
 * @return 0; -EINVAL (count above 255: nothing changed).
 */
int tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t idle_us,
		      uint32_t intvl_us, unsigned count);

/*
 * Turn Nagle off (on = true) or back on, at once (TCP_NODELAY). Turning
 * it off sends what Nagle was holding back. Any state. Cannot fail.
 */
void tcp_set_nodelay(struct tcp_conn *c, bool on);

/* The user drops its handle; c must not be used afterwards. */
void tcp_release(struct tcp_conn *c);

/* Accessors. */
void *tcp_conn_user(const struct tcp_conn *c);
void tcp_conn_set_user(struct tcp_conn *c, void *user);
void *tcp_listener_user(const struct tcp_listener *l);
enum tcp_state tcp_conn_state(const struct tcp_conn *c);
const char *tcp_state_name(enum tcp_state st);
const char *tcp_close_reason_name(enum tcp_close_reason r);

/* Connections of the shard's pool in use (tests: leak checks). */
unsigned tcp_shard_conns_in_use(const struct shard *s);

#endif
