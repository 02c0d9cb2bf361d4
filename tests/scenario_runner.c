/*
 * wskdp-scenario: replay a capture into an engine on the virtual clock and
 * check what comes out (packetdrill in spirit, pcap in, pcap out).
 *
 * Usage: wskdp-scenario [--out OUT.pcap] SCENARIO.scn
 *
 * A scenario is an INI file (DPDK rte_cfgfile, ';' starts a comment):
 *
 *   [engine]   ip = A.B.C.D/LEN        the engine's one address (required)
 *              mac = xx:xx:xx:xx:xx:xx unicast MAC of its port (required)
 *              gateway = A.B.C.D       default route (optional)
 *              vlan = 0..4094          tag every frame (optional, 0 = none)
 *   [input]    pcap = FILE             Ethernet capture to replay (required)
 *              settle_ms = N           virtual ms to run after the last
 *                                      packet (optional, default 0)
 *   [expect]   pcap = FILE             frames the engine must send, byte for
 *                                      byte, in order (optional)
 *              check_time = 0|1        also require each frame to leave at
 *                                      its expected timestamp (optional)
 *              tx_frames = N           exact number of frames sent (optional)
 *   [counters] NAME = N                exact value of any engine/stats.h
 *                                      counter (any number of entries)
 *   [engine]   mtu = 68..9000          port MTU; TCP's MSS is MTU - 40
 *                                      (optional, default 1500)
 *
 * TCP (optional sections; without [tcp] TCP stays off and input is
 * replayed untouched, as before):
 *
 *   [tcp]      listen = PORT           accept every connection on PORT, or
 *              connect = A.B.C.D:PORT  open one at time 0 (exactly one of
 *              lport = N               the two; lport: connect's local
 *                                      port, default 0 = ephemeral)
 *              app = echo|discard|hold what the app does with received
 *                                      bytes: send them back, read and drop
 *                                      them, or never read (default
 *                                      discard)
 *              read_at_ms = T          hold only: read everything from
 *                                      virtual time T on
 *              send = N                bytes of a fixed pattern (byte i is
 *                                      i mod 251) the app sends on each
 *                                      connection once established
 *              shutdown_at_ms = T      tcp_shutdown() at T (or once all of
 *                                      'send' is queued, if later)
 *              rcv_buf, snd_buf = N    tcp_conf buffers (bytes)
 *              sack, timestamps = 0|1  tcp_conf offers
 *              wscale = 0..14          tcp_conf window-scale shift
 *              cc = newreno|cubic      congestion control
 *              nodelay = 0|1           Nagle off on connect's connection
 *              seed = N                key seed (default 1; never 0, so
 *                                      ISNs and cookies are reproducible)
 *              min_rto_ms = N          tcp_conf min_rto_us in ms (default:
 *                                      the engine's), for scenarios whose
 *                                      timings assume a given RTO floor
 *   [expect_tcp] tcp_frames = N        exact number of TCP frames sent
 *              frameK = TOKENS         checks on the K-th TCP frame the
 *                                      engine sent (from 1; other frames,
 *                                      e.g. ARP, are not counted)
 *
 * Tokens of a frameK line, separated by spaces, each optional:
 *   flags=SET      the flags byte exactly: letters from S A F R P; letters
 *                  in brackets may be set or not (flags=A[P])
 *   seq=N          sequence number relative to the engine's ISN
 *   ack=N          acknowledgment number, absolute (the peer's numbers)
 *   len=N          payload bytes
 *   win=N, win>0   raw (unscaled) window field
 *   opts=a,b       options that must be present, noopts=a,b options that
 *                  must be absent; names: mss ws sackok ts sack tfo
 *   sack=L-H,L-H   the SACK blocks exactly, in order, absolute
 *   at_ms=N        sent during virtual ms N (floor of the send time)
 *   at_ms>=N, at_ms<=N   sent at or after N ms / at or before the end of
 *                  ms N (both may be given)
 *
 * Relative sequence numbers (packetdrill's convention). With [tcp], input
 * TCP segments are written as if the engine's ISN were 0: the runner
 * learns the real ISN from the first SYN the engine sends (SYN or SYN-ACK)
 * and, injecting each IPv4/TCP input segment with the ACK bit, adds it to
 * the ack field and to every SACK block edge, and sets TSecr to the latest
 * TSval the engine sent (so RTT samples are real; SYNs without ACK keep
 * theirs). The TCP checksum is recomputed; one that was wrong in the
 * capture stays wrong by the same bits. Segments whose headers do not
 * parse (bad offset, truncated) and options after a malformed one are not
 * touched. An input ACK before the engine sent any SYN is a scenario error.
 * The peer's own sequence numbers are absolute. In [expect_tcp], seq is
 * relative to that ISN (absolute if the engine never sent a SYN).
 *
 * At the end TCP is disabled (every connection and queued mbuf freed,
 * nothing sent) before the leak check.
 *
 * Files are relative to the scenario's directory. Unknown sections, keys
 * and counter names are errors, so a typo cannot silently disable a check.
 *
 * Time. Virtual time is the packet's capture time minus the first packet's.
 * Between packets and for settle_ms after the last one the clock advances
 * in 1 ms ticks with a poll each, so timers (ARP retries) fire when they
 * are due, not when the next packet happens to arrive. Timestamps that go
 * backwards are taken as "now". Every frame the engine sends is stamped
 * with the virtual time of the poll that sent it, so --out (microsecond
 * pcap, timestamps = virtual time) is byte-identical from run to run.
 * With check_time, an expected frame's due time is its timestamp minus the
 * first input packet's.
 *
 * Every input packet is hostile: captured lengths are used as they are
 * (0 to the pcap's snap length; frames larger than an mbuf are chained).
 *
 * Exit status: 0 every check passed; 1 some check failed (each printed,
 * [expect_tcp] ones as frame, token, sent value and expected value);
 * 2 bad scenario (unreadable file, missing or bad key or token, unreadable
 * pcap, an input ACK before the engine's SYN).
 */
#include <getopt.h>

#include "scenario.h"

/* Copy a frame into a (possibly chained) mbuf. NULL when the pool is
 * empty. */
static struct rte_mbuf *
mbuf_from_bytes(struct rte_mempool *pool, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint16_t room, chunk;

		if (m == NULL)
			goto fail;
		room = rte_pktmbuf_tailroom(m);
		chunk = (uint16_t)RTE_MIN((uint32_t)room, len - off);
		memcpy(rte_pktmbuf_append(m, chunk), data + off, chunk);
		off += chunk;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			goto fail;
		}
	} while (off < len);
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

/* Take every frame the engine handed to the port, stamped 'now'. */
void
capture(struct run *r)
{
	struct rte_mbuf *m;

	while ((m = fake_port_pop_tx(&r->fp)) != NULL) {
		uint32_t len = rte_pktmbuf_pkt_len(m);
		uint8_t *buf = malloc(len ? len : 1);
		const void *d = buf ? rte_pktmbuf_read(m, 0, len, buf) : NULL;

		if (d == NULL || frame_list_add(&r->sent, r->now_us, d, len) != 0)
			r->out_of_memory = true;
		else
			tcp_learn(r, d, len);
		free(buf);
		rte_pktmbuf_free(m);
	}
}

static void
tick(struct run *r, uint64_t us)
{
	r->now_us = us;
	engine_clock_set(&r->shard->clock, us);
	shard_poll(r->shard);
	if (r->tcp != NULL) {
		app_step(r);
		/* What the app made the engine send leaves in this tick. */
		shard_tx_flush(r->shard);
	}
	capture(r);
}

/* Advance in 1 ms ticks up to (not including) 'until'. */
static void
idle_until(struct run *r, uint64_t until)
{
	while (r->now_us + TICK_US < until)
		tick(r, r->now_us + TICK_US);
}

/* Replay the input and settle. Returns the number of failed checks so far
 * (pool exhaustion while injecting). */
static unsigned
replay(struct run *r, const struct scenario *sc)
{
	uint64_t first = sc->input.n ? sc->input.v[0].us : 0;
	unsigned failed = 0;

	for (size_t i = 0; i < sc->input.n; i++) {
		const struct frame *f = &sc->input.v[i];
		uint64_t at = f->us > first ? f->us - first : 0;
		struct rte_mbuf *m;

		if (at < r->now_us)
			at = r->now_us;
		idle_until(r, at);
		if (r->tcp != NULL) {
			uint8_t *copy = malloc(f->len ? f->len : 1);

			if (copy == NULL) {
				r->out_of_memory = true;
				break;
			}
			memcpy(copy, f->data, f->len);
			if (tcp_rewrite_input(r, copy, f->len) != 0) {
				fprintf(stderr, "%s: input packet %zu: ACK bit "
					"set before the engine sent a SYN (its "
					"ISN is needed)\n", sc->path, i);
				r->bad_scenario = true;
				free(copy);
				return failed;
			}
			m = mbuf_from_bytes(r->shard->pool, copy, f->len);
			free(copy);
		} else {
			m = mbuf_from_bytes(r->shard->pool, f->data, f->len);
		}
		if (m == NULL || fake_port_inject(&r->fp, m) != 0) {
			printf("FAIL: input packet %zu: no mbuf to inject it "
			       "(engine holding the pool?)\n", i);
			failed++;
		}
		tick(r, at);
	}
	for (uint64_t k = 0; k < sc->settle_ms; k++)
		tick(r, r->now_us + TICK_US);
	/* A partial batch may still wait for its flush deadline. */
	shard_tx_flush(r->shard);
	capture(r);
	return failed;
}

static int
write_pcap(const struct frame_list *fl, const char *path)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
		PCAP_TSTAMP_PRECISION_MICRO);
	pcap_dumper_t *d;

	if (p == NULL)
		return -ENOMEM;
	d = pcap_dump_open(p, path);
	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return -EIO;
	}
	for (size_t i = 0; i < fl->n; i++) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(fl->v[i].us / 1000000ULL);
		h.ts.tv_usec = (suseconds_t)(fl->v[i].us % 1000000ULL);
		h.caplen = fl->v[i].len;
		h.len = fl->v[i].len;
		pcap_dump((u_char *)d, &h, fl->v[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static unsigned
check_frames(const struct scenario *sc, const struct frame_list *sent)
{
	uint64_t first = sc->input.n ? sc->input.v[0].us : 0;
	size_t n = RTE_MIN(sent->n, sc->expect.n);

	for (size_t i = 0; i < n; i++) {
		const struct frame *e = &sc->expect.v[i], *s = &sent->v[i];
		uint32_t common = RTE_MIN(e->len, s->len);
		uint32_t off = 0;

		while (off < common && e->data[off] == s->data[off])
			off++;
		if (off < common) {
			printf("FAIL: frame %zu differs at byte %u: sent 0x%02x, "
			       "expected 0x%02x\n", i, off, s->data[off],
			       e->data[off]);
			return 1;
		}
		if (e->len != s->len) {
			printf("FAIL: frame %zu differs at byte %u: sent %u bytes, "
			       "expected %u\n", i, common, s->len, e->len);
			return 1;
		}
		if (sc->check_time && e->us - first != s->us) {
			printf("FAIL: frame %zu sent at %" PRIu64 " us, expected "
			       "at %" PRIu64 " us\n", i, s->us, e->us - first);
			return 1;
		}
	}
	if (sent->n != sc->expect.n) {
		printf("FAIL: frame %zu: sent %zu frames, expected %zu\n", n,
		       sent->n, sc->expect.n);
		return 1;
	}
	return 0;
}

static unsigned
check_run(const struct scenario *sc, struct run *r)
{
	unsigned failed = 0;
	unsigned in_use;

	if (r->out_of_memory) {
		printf("FAIL: out of memory recording sent frames\n");
		failed++;
	}
	if (sc->has_expect)
		failed += check_frames(sc, &r->sent);
	if (sc->has_tx_frames && r->sent.n != sc->tx_frames) {
		printf("FAIL: tx_frames: sent %zu, expected %" PRIu64 "\n",
		       r->sent.n, sc->tx_frames);
		failed++;
	}
	for (unsigned i = 0; i < sc->nb_counters; i++) {
		const struct counter_check *c = &sc->counters[i];
		uint64_t v = engine_stat(r->eng, c->stat);

		if (v != c->value) {
			printf("FAIL: counter %s = %" PRIu64 ", expected %" PRIu64
			       "\n", c->name, v, c->value);
			failed++;
		}
	}
	if (sc->tcp.enabled) {
		failed += check_tcp(sc, r);
		/* Frees every connection and its queued mbufs, sends nothing:
		 * what is left in the pool afterwards is a leak. */
		tcp_engine_disable(r->eng);
		shard_tx_flush(r->shard);
	}
	fake_port_drain(&r->fp);
	in_use = rte_mempool_in_use_count(r->shard->pool);
	if (in_use != 0) {
		printf("FAIL: %u mbufs still in use at the end (a frame still "
		       "waiting for ARP counts: settle longer)\n", in_use);
		failed++;
	}
	return failed;
}

static struct engine *
scenario_engine(const struct scenario *sc, struct fake_port *fp)
{
	struct engine_conf ec;
	struct engine *eng;

	engine_conf_init(&ec, "scenario");
	ec.clock_mode = ENGINE_CLOCK_VIRTUAL;
	ec.gratuitous_arp = false;
	ec.mbufs_per_shard = SCENARIO_MBUFS;
	eng = engine_create(&ec);
	if (eng == NULL)
		return NULL;
	if (engine_add_custom_port(eng, &fake_port_ops, fp, &sc->mac,
				   &sc->pc) < 0 ||
	    engine_start(eng) != 0) {
		engine_destroy(eng);
		return NULL;
	}
	return eng;
}

static void
scenario_free(struct scenario *sc)
{
	frame_list_free(&sc->input);
	frame_list_free(&sc->expect);
	free(sc->tcp_checks);
	sc->tcp_checks = NULL;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--out OUT.pcap] SCENARIO.scn\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct scenario sc;
	static struct run r;
	const char *out = NULL;
	unsigned failed;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(argv[0]);
			return EXIT_PASS;
		default:
			usage(argv[0]);
			return EXIT_BAD_SCENARIO;
		}
	}
	if (optind != argc - 1) {
		usage(argv[0]);
		return EXIT_BAD_SCENARIO;
	}
	/* Parse everything before EAL starts so a bad file fails fast. */
	if (scenario_load(&sc, argv[optind]) != 0) {
		scenario_free(&sc);
		return EXIT_BAD_SCENARIO;
	}

	test_eal_init();
	fake_port_init(&r.fp);
	r.eng = scenario_engine(&sc, &r.fp);
	if (r.eng == NULL) {
		fprintf(stderr, "%s: [engine]: the engine refused this "
			"configuration (rte_errno %d)\n", sc.path, rte_errno);
		scenario_free(&sc);
		return EXIT_BAD_SCENARIO;
	}
	r.shard = r.eng->shards[0];
	if (sc.tcp.enabled) {
		int rc = tcp_start(&r, &sc.tcp);

		if (rc != 0) {
			fprintf(stderr, "%s: [tcp]: the engine refused it (%s)\n",
				sc.path, strerror(-rc));
			r.bad_scenario = true;
		}
	}

	failed = r.bad_scenario ? 0 : replay(&r, &sc);
	if (r.bad_scenario) {
		if (sc.tcp.enabled)
			tcp_engine_disable(r.eng);
		engine_destroy(r.eng);
		frame_list_free(&r.sent);
		scenario_free(&sc);
		rte_eal_cleanup();
		return EXIT_BAD_SCENARIO;
	}
	if (out != NULL && write_pcap(&r.sent, out) != 0) {
		printf("FAIL: could not write %s\n", out);
		failed++;
	}
	failed += check_run(&sc, &r);

	printf("%s: %s (%zu in, %zu out, %" PRIu64 " us virtual)\n", sc.path,
	       failed ? "FAILED" : "passed", sc.input.n, r.sent.n, r.now_us);
	engine_destroy(r.eng);
	frame_list_free(&r.sent);
	scenario_free(&sc);
	rte_eal_cleanup();
	return failed ? EXIT_CHECK_FAILED : EXIT_PASS;
}

