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
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <rte_cfgfile.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "engine.h"
#include "fake_port.h"
#include "stats.h"
#include "tcp.h"
#include "test_eal.h"

#define EXIT_PASS 0
#define EXIT_CHECK_FAILED 1
#define EXIT_BAD_SCENARIO 2

#define TICK_US 1000ULL
/* Longest run a scenario may ask for (input span or settle time): at 1 ms
 * a tick this is a few million polls, seconds of CPU. A hostile capture
 * with timestamps years apart is refused rather than replayed for hours. */
#define MAX_RUN_US (3600ULL * 1000000ULL)
/* Mbufs for the engine's shard: scenarios keep a handful in flight. */
#define SCENARIO_MBUFS 4096

struct frame {
	uint64_t us;		/* capture time (input/expect) or send time */
	uint32_t len;
	uint8_t *data;
};

struct frame_list {
	struct frame *v;
	size_t n, cap;
};

struct counter_check {
	const char *name;
	enum shard_stat stat;
	uint64_t value;
};

/* What the app does with received bytes. */
enum tcp_app_kind {
	TCP_APP_DISCARD,
	TCP_APP_ECHO,
	TCP_APP_HOLD,
};

/* The [tcp] section: the engine's TCP settings and its application. */
struct tcp_spec {
	bool enabled;
	struct tcp_conf conf;
	uint16_t listen_port;		/* host order; 0: connect instead */
	rte_be32_t connect_ip;
	uint16_t connect_port;		/* host order */
	uint16_t lport;			/* host order; 0: ephemeral */
	bool nodelay;
	enum tcp_app_kind app;
	bool has_read_at;
	uint64_t read_at_us;
	uint64_t send;
	bool has_shutdown_at;
	uint64_t shutdown_at_us;
};

/* Option presence bits, for opts= and noopts=. */
#define OPT_MSS (1u << 0)
#define OPT_WS (1u << 1)
#define OPT_SACKOK (1u << 2)
#define OPT_TS (1u << 3)
#define OPT_SACK (1u << 4)
#define OPT_TFO (1u << 5)

#define MAX_SACK_BLOCKS 4

/* Which tokens a frameK line gave. */
#define CHK_FLAGS (1u << 0)
#define CHK_SEQ (1u << 1)
#define CHK_ACK (1u << 2)
#define CHK_LEN (1u << 3)
#define CHK_WIN (1u << 4)
#define CHK_WIN_OPEN (1u << 5)
#define CHK_OPTS (1u << 6)
#define CHK_NOOPTS (1u << 7)
#define CHK_SACK (1u << 8)
#define CHK_AT (1u << 9)
#define CHK_AT_GE (1u << 10)
#define CHK_AT_LE (1u << 11)

/* One frameK line of [expect_tcp]. */
struct tcp_check {
	unsigned frame;			/* K, from 1 */
	uint32_t given;			/* CHK_* */
	uint8_t flags_req, flags_opt;
	uint32_t seq, ack, len, win;
	uint32_t opts, noopts;
	unsigned nb_sack;
	uint32_t sack[MAX_SACK_BLOCKS][2];
	uint64_t at_ms, at_ge_ms, at_le_ms;
};

struct scenario {
	const char *path;
	struct port_conf pc;
	struct rte_ether_addr mac;
	struct frame_list input;
	struct frame_list expect;
	bool has_expect;
	bool check_time;
	bool has_tx_frames;
	uint64_t tx_frames;
	uint64_t settle_ms;
	struct counter_check counters[SHARD_STAT_MAX];
	unsigned nb_counters;
	struct tcp_spec tcp;
	struct tcp_check *tcp_checks;
	unsigned nb_tcp_checks;
	bool has_tcp_frames;
	uint64_t tcp_frames;
};

struct section_keys {
	const char *section;
	const char *const *keys;	/* NULL: any key (counters) */
	bool required;
};

static const char *const engine_keys[] = { "ip", "mac", "gateway", "vlan",
	"mtu", NULL };
static const char *const input_keys[] = { "pcap", "settle_ms", NULL };
static const char *const expect_keys[] = { "pcap", "check_time", "tx_frames", NULL };
static const char *const tcp_keys[] = { "listen", "connect", "lport", "app",
	"read_at_ms", "send", "shutdown_at_ms", "rcv_buf", "snd_buf", "sack",
	"timestamps", "wscale", "cc", "nodelay", "seed", "min_rto_ms", NULL };

static const struct section_keys sections[] = {
	{ "engine", engine_keys, true },
	{ "input", input_keys, true },
	{ "expect", expect_keys, false },
	{ "counters", NULL, false },
	{ "tcp", tcp_keys, false },
	{ "expect_tcp", NULL, false },	/* keys checked by parse_expect_tcp */
};

static void
frame_list_free(struct frame_list *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->v[i].data);
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

/* Append a copy of 'data'. Returns 0 or -ENOMEM. */
static int
frame_list_add(struct frame_list *fl, uint64_t us, const uint8_t *data,
	       uint32_t len)
{
	struct frame *f;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 64;
		struct frame *v = realloc(fl->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	/* malloc(0) may return NULL; a zero-length frame still needs a slot. */
	f->data = malloc(len ? len : 1);
	if (f->data == NULL)
		return -ENOMEM;
	memcpy(f->data, data, len);
	f->len = len;
	f->us = us;
	fl->n++;
	return 0;
}

/* Parse an unsigned decimal that must fill the whole string. Returns 0 or
 * -EINVAL. */
static int
parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
bad_key(const struct scenario *sc, const char *section, const char *key,
	const char *value, const char *why)
{
	fprintf(stderr, "%s: [%s] %s = '%s': %s\n", sc->path, section, key,
		value, why);
	return -EINVAL;
}

/* Resolve 'name' against the scenario file's directory. */
static void
scenario_file(const struct scenario *sc, const char *name, char *out,
	      size_t len)
{
	const char *slash = strrchr(sc->path, '/');

	if (name[0] == '/' || slash == NULL)
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - sc->path),
			 sc->path, name);
}

/* Read every record of an Ethernet capture. Returns 0 or -EINVAL (the
 * message names the file). */
static int
load_pcap(const struct scenario *sc, const char *section, const char *name,
	  struct frame_list *fl)
{
	char path[PATH_MAX], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int rc;

	scenario_file(sc, name, path, sizeof(path));
	p = pcap_open_offline_with_tstamp_precision(path,
		PCAP_TSTAMP_PRECISION_MICRO, err);
	if (p == NULL)
		return bad_key(sc, section, "pcap", name, err);
	if (pcap_datalink(p) != DLT_EN10MB) {
		pcap_close(p);
		return bad_key(sc, section, "pcap", name,
			       "not an Ethernet (DLT_EN10MB) capture");
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		/* tv_sec comes from a 32-bit field; hostile tv_usec values
		 * beyond a second just add up, they cannot overflow. */
		uint64_t us = (uint64_t)h->ts.tv_sec * 1000000ULL +
			      (uint64_t)h->ts.tv_usec;

		if (frame_list_add(fl, us, data, h->caplen) != 0) {
			pcap_close(p);
			return bad_key(sc, section, "pcap", name,
				       "out of memory");
		}
	}
	if (rc != PCAP_ERROR_BREAK) {
		snprintf(err, sizeof(err), "%s", pcap_geterr(p));
		pcap_close(p);
		return bad_key(sc, section, "pcap", name, err);
	}
	pcap_close(p);
	return 0;
}

/* Check one section's keys against the allowed list and for repeats. */
static int
check_section_keys(struct scenario *sc, struct rte_cfgfile *cfg,
		   const struct section_keys *sk)
{
	int ne = rte_cfgfile_section_num_entries(cfg, sk->section);
	struct rte_cfgfile_entry *e;
	int rc = 0;

	if (ne <= 0)
		return 0;
	e = calloc(ne, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	ne = rte_cfgfile_section_entries(cfg, sk->section, e, ne);
	for (int j = 0; j < ne && rc == 0; j++) {
		bool known = sk->keys == NULL;

		for (const char *const *k = sk->keys; k != NULL && *k; k++)
			if (strcmp(e[j].name, *k) == 0)
				known = true;
		if (!known)
			rc = bad_key(sc, sk->section, e[j].name, e[j].value,
				     "unknown key");
		for (int l = 0; l < j && rc == 0; l++)
			if (strcmp(e[j].name, e[l].name) == 0)
				rc = bad_key(sc, sk->section, e[j].name,
					     e[j].value, "key given twice");
	}
	free(e);
	return rc;
}

/* Is names[i] also one of names[0..i-1]? Exact names: the library's
 * section count matches prefixes ([expect] would count [expect_tcp]). */
static bool
section_repeated(char (*names)[CFG_NAME_LEN], int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(names[i], names[j]) == 0)
			return true;
	return false;
}

/* Refuse sections and keys we do not know, repeats, and missing required
 * sections, so a typo cannot silently turn a check off. */
static int
check_layout(struct scenario *sc, struct rte_cfgfile *cfg)
{
	int n = rte_cfgfile_num_sections(cfg, NULL, 0);
	char (*names)[CFG_NAME_LEN] = NULL;
	char **ptrs = NULL;
	int rc = 0;

	if (n > 0) {
		names = calloc(n, sizeof(*names));
		ptrs = calloc(n, sizeof(*ptrs));
		if (names == NULL || ptrs == NULL) {
			free(names);
			free(ptrs);
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++)
			ptrs[i] = names[i];
		n = rte_cfgfile_sections(cfg, ptrs, n);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const struct section_keys *sk = NULL;

		for (size_t k = 0; k < RTE_DIM(sections); k++)
			if (strcmp(names[i], sections[k].section) == 0)
				sk = &sections[k];
		if (sk == NULL) {
			fprintf(stderr, "%s: [%s]: unknown section\n", sc->path,
				names[i]);
			rc = -EINVAL;
		} else if (section_repeated(names, i)) {
			fprintf(stderr, "%s: [%s]: section given twice\n",
				sc->path, names[i]);
			rc = -EINVAL;
		} else {
			rc = check_section_keys(sc, cfg, sk);
		}
	}
	for (size_t k = 0; k < RTE_DIM(sections) && rc == 0; k++)
		if (sections[k].required &&
		    !rte_cfgfile_has_section(cfg, sections[k].section)) {
			fprintf(stderr, "%s: missing section [%s]\n", sc->path,
				sections[k].section);
			rc = -EINVAL;
		}
	free(names);
	free(ptrs);
	return rc;
}

static const char *
required(struct scenario *sc, struct rte_cfgfile *cfg, const char *section,
	 const char *key)
{
	const char *v = rte_cfgfile_get_entry(cfg, section, key);

	if (v == NULL)
		fprintf(stderr, "%s: [%s] %s: missing key\n", sc->path,
			section, key);
	return v;
}

static int
parse_engine(struct scenario *sc, struct rte_cfgfile *cfg)
{
	const char *v;
	uint64_t vlan;

	memset(&sc->pc, 0, sizeof(sc->pc));
	v = required(sc, cfg, "engine", "ip");
	if (v == NULL)
		return -EINVAL;
	sc->pc.nb_addrs = 1;
	if (port_parse_ipv4(v, &sc->pc.addrs[0].ip, &sc->pc.addrs[0].prefix) != 0)
		return bad_key(sc, "engine", "ip", v, "expected A.B.C.D/LEN");
	v = required(sc, cfg, "engine", "mac");
	if (v == NULL)
		return -EINVAL;
	if (rte_ether_unformat_addr(v, &sc->mac) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&sc->mac))
		return bad_key(sc, "engine", "mac", v,
			       "expected a unicast xx:xx:xx:xx:xx:xx");
	v = rte_cfgfile_get_entry(cfg, "engine", "gateway");
	if (v != NULL && port_parse_ipv4(v, &sc->pc.gateway, NULL) != 0)
		return bad_key(sc, "engine", "gateway", v, "expected A.B.C.D");
	v = rte_cfgfile_get_entry(cfg, "engine", "vlan");
	if (v != NULL) {
		if (parse_u64(v, 4094, &vlan) != 0)
			return bad_key(sc, "engine", "vlan", v,
				       "expected 0..4094");
		sc->pc.vlan_id = (uint16_t)vlan;
	}
	v = rte_cfgfile_get_entry(cfg, "engine", "mtu");
	if (v != NULL) {
		uint64_t mtu;

		if (parse_u64(v, 9000, &mtu) != 0 || mtu < 68)
			return bad_key(sc, "engine", "mtu", v,
				       "expected 68..9000");
		sc->pc.mtu = (uint16_t)mtu;
	}
	return 0;
}

static int
parse_io(struct scenario *sc, struct rte_cfgfile *cfg)
{
	const char *v;
	uint64_t flag;

	v = required(sc, cfg, "input", "pcap");
	if (v == NULL || load_pcap(sc, "input", v, &sc->input) != 0)
		return -EINVAL;
	v = rte_cfgfile_get_entry(cfg, "input", "settle_ms");
	if (v != NULL && parse_u64(v, MAX_RUN_US / 1000, &sc->settle_ms) != 0)
		return bad_key(sc, "input", "settle_ms", v,
			       "expected 0..3600000");
	/* The latest packet, not the last: timestamps may go backwards. */
	for (size_t i = 1; i < sc->input.n; i++)
		if (sc->input.v[i].us > sc->input.v[0].us + MAX_RUN_US)
			return bad_key(sc, "input", "pcap",
				rte_cfgfile_get_entry(cfg, "input", "pcap"),
				"capture spans more than 3600 s");

	if (!rte_cfgfile_has_section(cfg, "expect"))
		return 0;
	v = rte_cfgfile_get_entry(cfg, "expect", "pcap");
	if (v != NULL) {
		if (load_pcap(sc, "expect", v, &sc->expect) != 0)
			return -EINVAL;
		sc->has_expect = true;
	}
	v = rte_cfgfile_get_entry(cfg, "expect", "tx_frames");
	if (v != NULL) {
		if (parse_u64(v, UINT32_MAX, &sc->tx_frames) != 0)
			return bad_key(sc, "expect", "tx_frames", v,
				       "expected a count");
		sc->has_tx_frames = true;
	}
	v = rte_cfgfile_get_entry(cfg, "expect", "check_time");
	if (v != NULL) {
		if (parse_u64(v, 1, &flag) != 0)
			return bad_key(sc, "expect", "check_time", v,
				       "expected 0 or 1");
		sc->check_time = flag == 1;
	}
	if (sc->check_time && !sc->has_expect)
		return bad_key(sc, "expect", "check_time", v,
			       "needs [expect] pcap");
	if (sc->check_time) {
		if (sc->input.n == 0)
			return bad_key(sc, "expect", "check_time", v,
				       "needs at least one input packet");
		for (size_t i = 0; i < sc->expect.n; i++)
			if (sc->expect.v[i].us < sc->input.v[0].us)
				return bad_key(sc, "expect", "pcap",
					rte_cfgfile_get_entry(cfg, "expect", "pcap"),
					"frame stamped before the first input packet");
	}
	return 0;
}

static int
parse_counters(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct rte_cfgfile_entry e[SHARD_STAT_MAX];
	int n;

	if (!rte_cfgfile_has_section(cfg, "counters"))
		return 0;
	n = rte_cfgfile_section_num_entries(cfg, "counters");
	if (n > SHARD_STAT_MAX) {
		fprintf(stderr, "%s: [counters]: more entries than counters\n",
			sc->path);
		return -EINVAL;
	}
	n = rte_cfgfile_section_entries(cfg, "counters", e, n);
	for (int i = 0; i < n; i++) {
		struct counter_check *c = &sc->counters[i];
		int idx = shard_stat_index(e[i].name);

		if (idx < 0)
			return bad_key(sc, "counters", e[i].name, e[i].value,
				       "no such counter in engine/stats.h");
		if (parse_u64(e[i].value, UINT64_MAX, &c->value) != 0)
			return bad_key(sc, "counters", e[i].name, e[i].value,
				       "expected an unsigned number");
		c->name = shard_stat_names[idx];
		c->stat = (enum shard_stat)idx;
	}
	sc->nb_counters = (unsigned)n;
	return 0;
}

/* An optional 0|1 key of [tcp]. */
static int
tcp_flag(struct scenario *sc, struct rte_cfgfile *cfg, const char *key,
	 bool *out)
{
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", key);
	uint64_t f;

	if (v == NULL)
		return 0;
	if (parse_u64(v, 1, &f) != 0)
		return bad_key(sc, "tcp", key, v, "expected 0 or 1");
	*out = f == 1;
	return 0;
}

/* An optional number of [tcp] up to 'max'. */
static int
tcp_number(struct scenario *sc, struct rte_cfgfile *cfg, const char *key,
	   uint64_t max, bool *given, uint64_t *out)
{
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", key);

	*given = v != NULL;
	if (v == NULL)
		return 0;
	if (parse_u64(v, max, out) != 0) {
		char why[48];

		snprintf(why, sizeof(why), "expected 0..%" PRIu64, max);
		return bad_key(sc, "tcp", key, v, why);
	}
	return 0;
}

static int
parse_tcp_app(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_spec *t = &sc->tcp;
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", "app");
	uint64_t n;
	bool given;

	t->app = TCP_APP_DISCARD;
	if (v != NULL) {
		if (strcmp(v, "echo") == 0)
			t->app = TCP_APP_ECHO;
		else if (strcmp(v, "hold") == 0)
			t->app = TCP_APP_HOLD;
		else if (strcmp(v, "discard") != 0)
			return bad_key(sc, "tcp", "app", v,
				       "expected echo, discard or hold");
	}
	if (tcp_number(sc, cfg, "read_at_ms", MAX_RUN_US / 1000, &given, &n))
		return -EINVAL;
	if (given && t->app != TCP_APP_HOLD)
		return bad_key(sc, "tcp", "read_at_ms",
			       rte_cfgfile_get_entry(cfg, "tcp", "read_at_ms"),
			       "only with app = hold");
	t->has_read_at = given;
	t->read_at_us = n * 1000;
	if (tcp_number(sc, cfg, "send", UINT32_MAX, &given, &t->send))
		return -EINVAL;
	if (tcp_number(sc, cfg, "shutdown_at_ms", MAX_RUN_US / 1000, &given, &n))
		return -EINVAL;
	t->has_shutdown_at = given;
	t->shutdown_at_us = n * 1000;
	return 0;
}

/* Settings of tcp_conf the scenario may change. */
static int
parse_tcp_conf(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_conf *c = &sc->tcp.conf;
	const char *v;
	uint64_t n;
	bool given;

	tcp_conf_init(c);
	c->seed = 1;
	if (tcp_number(sc, cfg, "rcv_buf", UINT32_MAX, &given, &n))
		return -EINVAL;
	if (given)
		c->rcv_buf = (uint32_t)n;
	if (tcp_number(sc, cfg, "snd_buf", UINT32_MAX, &given, &n))
		return -EINVAL;
	if (given)
		c->snd_buf = (uint32_t)n;
	if (tcp_number(sc, cfg, "wscale", 14, &given, &n))
		return -EINVAL;
	if (given)
		c->wscale = (uint8_t)n;
	if (tcp_number(sc, cfg, "min_rto_ms", UINT32_MAX / 1000, &given, &n))
		return -EINVAL;
	if (given)
		c->min_rto_us = (uint32_t)n * 1000;
	if (tcp_number(sc, cfg, "seed", UINT64_MAX, &given, &n))
		return -EINVAL;
	if (given) {
		if (n == 0)
			return bad_key(sc, "tcp", "seed", "0",
				       "0 means random keys: not reproducible");
		c->seed = n;
	}
	if (tcp_flag(sc, cfg, "sack", &c->sack) != 0 ||
	    tcp_flag(sc, cfg, "timestamps", &c->timestamps) != 0 ||
	    tcp_flag(sc, cfg, "nodelay", &sc->tcp.nodelay) != 0)
		return -EINVAL;
	v = rte_cfgfile_get_entry(cfg, "tcp", "cc");
	if (v != NULL) {
		/* Static strings: the file's text is gone after loading. */
		if (strcmp(v, "newreno") == 0)
			c->cc = "newreno";
		else if (strcmp(v, "cubic") == 0)
			c->cc = "cubic";
		else
			return bad_key(sc, "tcp", "cc", v,
				       "expected newreno or cubic");
	}
	return 0;
}

static int
parse_tcp(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_spec *t = &sc->tcp;
	const char *listen, *conn, *v;
	uint64_t n;
	bool given;

	if (!rte_cfgfile_has_section(cfg, "tcp"))
		return 0;
	t->enabled = true;
	listen = rte_cfgfile_get_entry(cfg, "tcp", "listen");
	conn = rte_cfgfile_get_entry(cfg, "tcp", "connect");
	if ((listen == NULL) == (conn == NULL)) {
		fprintf(stderr, "%s: [tcp]: exactly one of listen and connect "
			"is needed\n", sc->path);
		return -EINVAL;
	}
	if (listen != NULL) {
		if (parse_u64(listen, 65535, &n) != 0 || n == 0)
			return bad_key(sc, "tcp", "listen", listen,
				       "expected a port 1..65535");
		t->listen_port = (uint16_t)n;
		if (rte_cfgfile_get_entry(cfg, "tcp", "lport") != NULL)
			return bad_key(sc, "tcp", "lport",
				       rte_cfgfile_get_entry(cfg, "tcp", "lport"),
				       "only with connect");
	} else {
		char ip[32];
		const char *colon = strrchr(conn, ':');

		if (colon == NULL || (size_t)(colon - conn) >= sizeof(ip) ||
		    parse_u64(colon + 1, 65535, &n) != 0 || n == 0)
			return bad_key(sc, "tcp", "connect", conn,
				       "expected A.B.C.D:PORT");
		snprintf(ip, sizeof(ip), "%.*s", (int)(colon - conn), conn);
		if (port_parse_ipv4(ip, &t->connect_ip, NULL) != 0)
			return bad_key(sc, "tcp", "connect", conn,
				       "expected A.B.C.D:PORT");
		t->connect_port = (uint16_t)n;
		if (tcp_number(sc, cfg, "lport", 65535, &given, &n))
			return -EINVAL;
		t->lport = (uint16_t)n;
	}
	v = rte_cfgfile_get_entry(cfg, "tcp", "nodelay");
	if (v != NULL && conn == NULL)
		return bad_key(sc, "tcp", "nodelay", v, "only with connect");
	if (parse_tcp_app(sc, cfg) != 0)
		return -EINVAL;
	return parse_tcp_conf(sc, cfg);
}

/* "mss,ts" into OPT_* bits. Returns 0 or -EINVAL. */
static int
parse_opt_list(const char *text, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{ "mss", OPT_MSS }, { "ws", OPT_WS }, { "sackok", OPT_SACKOK },
		{ "ts", OPT_TS }, { "sack", OPT_SACK }, { "tfo", OPT_TFO },
	};
	const char *p = text;

	*out = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < RTE_DIM(names); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(p, names[i].name, len) == 0) {
				*out |= names[i].bit;
				found = true;
			}
		if (!found)
			return -EINVAL;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* "SA" or "A[P]" into required and optional flag bits. */
static int
parse_flags(const char *text, uint8_t *req, uint8_t *opt)
{
	bool in_brackets = false;

	*req = *opt = 0;
	if (*text == '\0')
		return -EINVAL;
	for (const char *p = text; *p != '\0'; p++) {
		uint8_t bit;

		switch (*p) {
		case 'S': bit = RTE_TCP_SYN_FLAG; break;
		case 'A': bit = RTE_TCP_ACK_FLAG; break;
		case 'F': bit = RTE_TCP_FIN_FLAG; break;
		case 'R': bit = RTE_TCP_RST_FLAG; break;
		case 'P': bit = RTE_TCP_PSH_FLAG; break;
		case '[':
			if (in_brackets)
				return -EINVAL;
			in_brackets = true;
			continue;
		case ']':
			if (!in_brackets)
				return -EINVAL;
			in_brackets = false;
			continue;
		default:
			return -EINVAL;
		}
		if ((*req | *opt) & bit)
			return -EINVAL;
		if (in_brackets)
			*opt |= bit;
		else
			*req |= bit;
	}
	return in_brackets ? -EINVAL : 0;
}

/* "L-H,L-H" into SACK blocks. */
static int
parse_sack_list(const char *text, struct tcp_check *k)
{
	const char *p = text;
	char buf[24];

	k->nb_sack = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char *dash;
		uint64_t lo, hi;

		if (len == 0 || len >= sizeof(buf) || k->nb_sack == MAX_SACK_BLOCKS)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		dash = strchr(buf, '-');
		if (dash == NULL)
			return -EINVAL;
		*dash = '\0';
		if (parse_u64(buf, UINT32_MAX, &lo) != 0 ||
		    parse_u64(dash + 1, UINT32_MAX, &hi) != 0)
			return -EINVAL;
		k->sack[k->nb_sack][0] = (uint32_t)lo;
		k->sack[k->nb_sack][1] = (uint32_t)hi;
		k->nb_sack++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* One token of a frameK line. Returns 0 or -EINVAL. */
static int
parse_tcp_token(const char *tok, struct tcp_check *k)
{
	static const struct {
		const char *prefix;
		uint32_t bit;
	} numbers[] = {
		{ "seq=", CHK_SEQ }, { "ack=", CHK_ACK }, { "len=", CHK_LEN },
		{ "win=", CHK_WIN }, { "at_ms=", CHK_AT },
		{ "at_ms>=", CHK_AT_GE }, { "at_ms<=", CHK_AT_LE },
	};
	uint64_t v;

	if (strncmp(tok, "flags=", 6) == 0) {
		k->given |= CHK_FLAGS;
		return parse_flags(tok + 6, &k->flags_req, &k->flags_opt);
	}
	if (strcmp(tok, "win>0") == 0) {
		k->given |= CHK_WIN_OPEN;
		return 0;
	}
	if (strncmp(tok, "opts=", 5) == 0) {
		k->given |= CHK_OPTS;
		return parse_opt_list(tok + 5, &k->opts);
	}
	if (strncmp(tok, "noopts=", 7) == 0) {
		k->given |= CHK_NOOPTS;
		return parse_opt_list(tok + 7, &k->noopts);
	}
	if (strncmp(tok, "sack=", 5) == 0) {
		k->given |= CHK_SACK;
		return parse_sack_list(tok + 5, k);
	}
	for (size_t i = 0; i < RTE_DIM(numbers); i++) {
		size_t plen = strlen(numbers[i].prefix);

		if (strncmp(tok, numbers[i].prefix, plen) != 0)
			continue;
		if (parse_u64(tok + plen, UINT32_MAX, &v) != 0)
			return -EINVAL;
		k->given |= numbers[i].bit;
		switch (numbers[i].bit) {
		case CHK_SEQ: k->seq = (uint32_t)v; break;
		case CHK_ACK: k->ack = (uint32_t)v; break;
		case CHK_LEN: k->len = (uint32_t)v; break;
		case CHK_WIN: k->win = (uint32_t)v; break;
		case CHK_AT: k->at_ms = v; break;
		case CHK_AT_GE: k->at_ge_ms = v; break;
		default: k->at_le_ms = v; break;
		}
		return 0;
	}
	return -EINVAL;
}

/* A frameK line: "frame" and a number from 1, then tokens. */
static int
parse_tcp_frame_line(struct scenario *sc, const struct rte_cfgfile_entry *e,
		     struct tcp_check *k)
{
	char text[CFG_VALUE_LEN];
	uint64_t frame;
	char *save = NULL;

	if (strncmp(e->name, "frame", 5) != 0 ||
	    parse_u64(e->name + 5, UINT32_MAX, &frame) != 0 || frame == 0)
		return bad_key(sc, "expect_tcp", e->name, e->value,
			       "unknown key (frameK from 1, or tcp_frames)");
	memset(k, 0, sizeof(*k));
	k->frame = (unsigned)frame;
	snprintf(text, sizeof(text), "%s", e->value);
	for (char *tok = strtok_r(text, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		uint32_t before = k->given;

		if (parse_tcp_token(tok, k) != 0) {
			char why[CFG_VALUE_LEN + 32];

			snprintf(why, sizeof(why), "bad token '%s'", tok);
			return bad_key(sc, "expect_tcp", e->name, e->value, why);
		}
		if (before == k->given) {
			char why[CFG_VALUE_LEN + 32];

			snprintf(why, sizeof(why), "token '%s' given twice", tok);
			return bad_key(sc, "expect_tcp", e->name, e->value, why);
		}
	}
	if (k->given == 0)
		return bad_key(sc, "expect_tcp", e->name, e->value,
			       "no tokens");
	return 0;
}

static int
parse_expect_tcp(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct rte_cfgfile_entry *e;
	int n, rc = 0;

	if (!rte_cfgfile_has_section(cfg, "expect_tcp"))
		return 0;
	if (!sc->tcp.enabled) {
		fprintf(stderr, "%s: [expect_tcp] needs [tcp]\n", sc->path);
		return -EINVAL;
	}
	n = rte_cfgfile_section_num_entries(cfg, "expect_tcp");
	if (n <= 0)
		return 0;
	e = calloc(n, sizeof(*e));
	sc->tcp_checks = calloc(n, sizeof(*sc->tcp_checks));
	if (e == NULL || sc->tcp_checks == NULL) {
		free(e);
		return -ENOMEM;
	}
	n = rte_cfgfile_section_entries(cfg, "expect_tcp", e, n);
	for (int i = 0; i < n && rc == 0; i++) {
		if (strcmp(e[i].name, "tcp_frames") == 0) {
			if (parse_u64(e[i].value, UINT32_MAX, &sc->tcp_frames) != 0)
				rc = bad_key(sc, "expect_tcp", e[i].name,
					     e[i].value, "expected a count");
			sc->has_tcp_frames = true;
			continue;
		}
		rc = parse_tcp_frame_line(sc, &e[i],
					  &sc->tcp_checks[sc->nb_tcp_checks]);
		if (rc == 0)
			sc->nb_tcp_checks++;
	}
	free(e);
	return rc;
}

/* Returns 0 or -EINVAL after printing why. */
static int
scenario_load(struct scenario *sc, const char *path)
{
	struct rte_cfgfile *cfg;
	int rc;

	sc->path = path;
	cfg = rte_cfgfile_load(path, 0);
	if (cfg == NULL) {
		fprintf(stderr, "%s: cannot read or parse the scenario file\n",
			path);
		return -EINVAL;
	}
	rc = check_layout(sc, cfg);
	if (rc == 0)
		rc = parse_engine(sc, cfg);
	if (rc == 0)
		rc = parse_io(sc, cfg);
	if (rc == 0)
		rc = parse_counters(sc, cfg);
	if (rc == 0)
		rc = parse_tcp(sc, cfg);
	if (rc == 0)
		rc = parse_expect_tcp(sc, cfg);
	rte_cfgfile_close(cfg);
	return rc;
}

/* Most connections the app model keeps track of. */
#define APP_MAX_CONNS 16

/* One connection of the app model. */
struct app_conn {
	struct tcp_conn *c;
	uint64_t sent;			/* bytes of 'send' queued so far */
	bool shut;
};

/* The engine under test and what it sent. */
struct run {
	struct engine *eng;
	struct shard *shard;
	struct fake_port fp;
	struct frame_list sent;
	uint64_t now_us;
	bool out_of_memory;
	bool bad_scenario;		/* found while replaying: exit 2 */
	/* TCP: the app model and what the runner learnt from the engine. */
	const struct tcp_spec *tcp;
	struct tcp_listener *listener;
	struct app_conn conns[APP_MAX_CONNS];
	unsigned nb_conns;
	bool have_isn;
	uint32_t isn;
	bool have_tsval;
	uint32_t tsval;
};

/* A parsed view of an IPv4/TCP frame; offsets are from the frame start. */
struct tcp_view {
	uint32_t ip_off, tcp_off, tcp_len;	/* tcp_len: header + payload */
	uint8_t flags;
	uint32_t seq, ack, len;
	uint16_t win;
	uint32_t opts;				/* OPT_* found */
	bool has_ts;
	uint32_t ts_off;			/* of TSval; TSecr follows */
	uint32_t tsval;
	unsigned nb_sack;
	uint32_t sack_off;			/* of the first block */
	uint32_t sack[MAX_SACK_BLOCKS][2];
};

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Walk the options, noting each well-formed one until the end, an EOL or
 * the first malformed option. */
static void
tcp_view_options(const uint8_t *d, uint32_t off, uint32_t end,
		 struct tcp_view *v)
{
	while (off < end) {
		uint8_t kind = d[off], len;

		if (kind == 0)
			return;
		if (kind == 1) {
			off++;
			continue;
		}
		if (off + 1 >= end)
			return;
		len = d[off + 1];
		if (len < 2 || off + len > end)
			return;
		switch (kind) {
		case 2:
			if (len == 4)
				v->opts |= OPT_MSS;
			break;
		case 3:
			if (len == 3)
				v->opts |= OPT_WS;
			break;
		case 4:
			if (len == 2)
				v->opts |= OPT_SACKOK;
			break;
		case 5:
			if ((len - 2) % 8 == 0 && len > 2 &&
			    (len - 2) / 8 <= MAX_SACK_BLOCKS) {
				v->opts |= OPT_SACK;
				v->nb_sack = (len - 2) / 8u;
				v->sack_off = off + 2;
				for (unsigned i = 0; i < v->nb_sack; i++) {
					v->sack[i][0] = get_be32(d + off + 2 + 8 * i);
					v->sack[i][1] = get_be32(d + off + 6 + 8 * i);
				}
			}
			break;
		case 8:
			if (len == 10) {
				v->opts |= OPT_TS;
				v->has_ts = true;
				v->ts_off = off + 2;
				v->tsval = get_be32(d + off + 2);
			}
			break;
		case 34:	/* RFC 7413 */
			v->opts |= OPT_TFO;
			break;
		case 254:	/* RFC 6994 experimental, TFO's magic 0xF989 */
			if (len >= 4 && d[off + 2] == 0xF9 && d[off + 3] == 0x89)
				v->opts |= OPT_TFO;
			break;
		default:
			break;
		}
		off += len;
	}
}

/* Parse Ethernet (optionally 802.1Q), IPv4 and TCP headers, all inside
 * the captured bytes. Returns false for anything else or anything that
 * does not parse. */
static bool
tcp_view_parse(const uint8_t *d, uint32_t caplen, struct tcp_view *v)
{
	uint32_t off = 12, ihl, total, doff;
	uint16_t type;

	memset(v, 0, sizeof(*v));
	if (caplen < 14)
		return false;
	type = (uint16_t)(d[12] << 8 | d[13]);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (caplen < 18)
			return false;
		type = (uint16_t)(d[16] << 8 | d[17]);
		off += 4;
	}
	off += 2;
	if (type != RTE_ETHER_TYPE_IPV4 || caplen < off + 20 ||
	    (d[off] >> 4) != 4 || d[off + 9] != IPPROTO_TCP)
		return false;
	ihl = (uint32_t)(d[off] & 0xf) * 4;
	total = (uint32_t)(d[off + 2] << 8 | d[off + 3]);
	if (ihl < 20 || total < ihl + 20 || off + total > caplen)
		return false;
	v->ip_off = off;
	v->tcp_off = off + ihl;
	v->tcp_len = total - ihl;
	doff = (uint32_t)(d[v->tcp_off + 12] >> 4) * 4;
	if (doff < 20 || doff > v->tcp_len)
		return false;
	v->seq = get_be32(d + v->tcp_off + 4);
	v->ack = get_be32(d + v->tcp_off + 8);
	v->flags = d[v->tcp_off + 13];
	v->win = (uint16_t)(d[v->tcp_off + 14] << 8 | d[v->tcp_off + 15]);
	v->len = v->tcp_len - doff;
	tcp_view_options(d, v->tcp_off + 20, v->tcp_off + doff, v);
	return true;
}

/* Correct TCP checksum of a parsed frame, with the field taken as 0. */
static uint16_t
tcp_checksum(uint8_t *d, const struct tcp_view *v)
{
	uint8_t saved[2] = { d[v->tcp_off + 16], d[v->tcp_off + 17] };
	uint16_t ck;

	d[v->tcp_off + 16] = d[v->tcp_off + 17] = 0;
	ck = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)(d + v->ip_off),
				   d + v->tcp_off);
	d[v->tcp_off + 16] = saved[0];
	d[v->tcp_off + 17] = saved[1];
	return ck;
}

/*
 * Turn an input segment written against ISN 0 into one against the
 * engine's real ISN (see the header comment). 'd' is a private copy.
 * Returns 0, or -EINVAL for an ACK before the engine's SYN.
 */
static int
tcp_rewrite_input(struct run *r, uint8_t *d, uint32_t caplen)
{
	struct tcp_view v;
	uint16_t old_ck, good_ck, new_ck;

	if (!tcp_view_parse(d, caplen, &v) || !(v.flags & RTE_TCP_ACK_FLAG))
		return 0;
	if (!r->have_isn)
		return -EINVAL;
	old_ck = (uint16_t)(d[v.tcp_off + 16] << 8 | d[v.tcp_off + 17]);
	good_ck = rte_be_to_cpu_16(tcp_checksum(d, &v));
	put_be32(d + v.tcp_off + 8, v.ack + r->isn);
	for (unsigned i = 0; i < v.nb_sack; i++) {
		put_be32(d + v.sack_off + 8 * i, v.sack[i][0] + r->isn);
		put_be32(d + v.sack_off + 8 * i + 4, v.sack[i][1] + r->isn);
	}
	if (v.has_ts && r->have_tsval)
		put_be32(d + v.ts_off + 4, r->tsval);
	/* A capture's wrong checksum stays wrong by the same bits. */
	new_ck = (uint16_t)(rte_be_to_cpu_16(tcp_checksum(d, &v)) ^
			    (old_ck ^ good_ck));
	d[v.tcp_off + 16] = (uint8_t)(new_ck >> 8);
	d[v.tcp_off + 17] = (uint8_t)new_ck;
	return 0;
}

/* Learn the engine's ISN (its first SYN) and latest TSval from a frame it
 * sent. */
static void
tcp_learn(struct run *r, const uint8_t *d, uint32_t len)
{
	struct tcp_view v;

	if (r->tcp == NULL || !tcp_view_parse(d, len, &v))
		return;
	if ((v.flags & RTE_TCP_SYN_FLAG) && !r->have_isn) {
		r->have_isn = true;
		r->isn = v.seq;
	}
	if (v.has_ts) {
		r->have_tsval = true;
		r->tsval = v.tsval;
	}
}

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
static void
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

/* Queue more of the app's 'send' bytes (byte i is i mod 251), in calls
 * of up to 64 KiB: one call per scenario-sized write, so segment
 * boundaries come from the engine, not from the app's chunking. */
static void
app_send(struct run *r, struct app_conn *a)
{
	static uint8_t buf[65536];

	while (a->sent < r->tcp->send) {
		uint32_t n = (uint32_t)RTE_MIN((uint64_t)sizeof(buf),
					       r->tcp->send - a->sent);
		int32_t k;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((a->sent + i) % 251);
		k = tcp_send(a->c, buf, n);
		if (k <= 0)
			return;
		a->sent += (uint32_t)k;
	}
}

/* Received bytes: echo or drop them; hold reads nothing until read_at. */
static void
app_read(struct run *r, struct app_conn *a)
{
	const struct tcp_spec *t = r->tcp;
	uint8_t buf[4096];

	if (t->app == TCP_APP_HOLD &&
	    (!t->has_read_at || r->now_us < t->read_at_us))
		return;
	for (;;) {
		uint32_t want = sizeof(buf), n;

		/* Echo reads no more than it can send back, so nothing has to
		 * wait in the app. */
		if (t->app == TCP_APP_ECHO)
			want = RTE_MIN(want, tcp_snd_space(a->c));
		if (want == 0 || tcp_rcv_bytes(a->c) == 0)
			return;
		n = tcp_recv(a->c, buf, want);
		if (n == 0)
			return;
		if (t->app == TCP_APP_ECHO && tcp_send(a->c, buf, n) != (int32_t)n)
			return;
	}
}

/* The app's turn after each poll: accept, send, read, shut down. */
static void
app_step(struct run *r)
{
	const struct tcp_spec *t = r->tcp;
	struct tcp_conn *c;

	while (r->listener != NULL && r->nb_conns < APP_MAX_CONNS &&
	       (c = tcp_accept(r->listener)) != NULL)
		r->conns[r->nb_conns++].c = c;
	for (unsigned i = 0; i < r->nb_conns; i++) {
		struct app_conn *a = &r->conns[i];
		enum tcp_state st = tcp_conn_state(a->c);

		if (st < TCPS_ESTABLISHED)
			continue;
		app_send(r, a);
		app_read(r, a);
		if (t->has_shutdown_at && !a->shut &&
		    r->now_us >= t->shutdown_at_us && a->sent == t->send) {
			a->shut = true;
			tcp_shutdown(a->c);
		}
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

/* Turn TCP on with the scenario's settings; connect opens its connection
 * at time 0. Returns 0 or a negative errno. */
static int
tcp_start(struct run *r, const struct tcp_spec *t)
{
	int rc = tcp_engine_enable(r->eng, &t->conf);

	if (rc != 0)
		return rc;
	r->tcp = t;
	if (t->listen_port != 0)
		return tcp_listen(r->shard, 0, rte_cpu_to_be_16(t->listen_port),
				  APP_MAX_CONNS, NULL, &r->listener);
	{
		struct tcp_conn_opts o = { .nodelay = t->nodelay };

		rc = tcp_connect(r->shard, 0, 0, rte_cpu_to_be_16(t->lport),
				 t->connect_ip,
				 rte_cpu_to_be_16(t->connect_port), &o, NULL,
				 &r->conns[0].c);
		if (rc != 0)
			return rc;
	}
	r->nb_conns = 1;
	shard_tx_flush(r->shard);
	capture(r);
	return 0;
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

static void
flags_text(uint8_t flags, char *out)
{
	static const struct {
		uint8_t bit;
		char letter;
	} order[] = {
		{ RTE_TCP_SYN_FLAG, 'S' }, { RTE_TCP_FIN_FLAG, 'F' },
		{ RTE_TCP_RST_FLAG, 'R' }, { RTE_TCP_PSH_FLAG, 'P' },
		{ RTE_TCP_ACK_FLAG, 'A' },
	};
	char *p = out;

	for (size_t i = 0; i < RTE_DIM(order); i++)
		if (flags & order[i].bit)
			*p++ = order[i].letter;
	if (flags & ~(RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG |
		      RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG))
		p += sprintf(p, "(0x%02x)", flags);
	if (p == out)
		*p++ = '-';
	*p = '\0';
}

static void
opts_text(uint32_t opts, char *out, size_t size)
{
	static const char *const names[] = { "mss", "ws", "sackok", "ts",
					     "sack", "tfo" };
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < RTE_DIM(names); i++)
		if (opts & (1u << i))
			used += (size_t)snprintf(out + used, size - used, "%s%s",
						 used ? "," : "", names[i]);
	if (used == 0)
		snprintf(out, size, "none");
}

static void
sack_text(const uint32_t (*b)[2], unsigned n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%" PRIu32
					 "-%" PRIu32, i ? "," : "", b[i][0],
					 b[i][1]);
	if (n == 0)
		snprintf(out, size, "none");
}

#define TCP_FAIL(k, tok, fmt, ...) \
	printf("FAIL: tcp frame %u: %s: sent " fmt "\n", (k)->frame, tok, \
	       __VA_ARGS__)

/* One frameK line against the frame. Returns the number of failed
 * tokens. */
static unsigned
check_tcp_frame(const struct run *r, const struct tcp_check *k,
		const struct frame *f)
{
	uint32_t isn = r->have_isn ? r->isn : 0;
	uint64_t ms = f->us / 1000;
	struct tcp_view v;
	unsigned failed = 0;
	char a[128], b[128];

	tcp_view_parse(f->data, f->len, &v);
	if ((k->given & CHK_FLAGS) &&
	    (v.flags & ~k->flags_opt) != k->flags_req) {
		flags_text(v.flags, a);
		flags_text(k->flags_req, b);
		if (k->flags_opt) {
			size_t l = strlen(b);

			b[l] = '[';
			flags_text(k->flags_opt, b + l + 1);
			strcat(b, "]");
		}
		TCP_FAIL(k, "flags", "%s, expected %s", a, b);
		failed++;
	}
	if ((k->given & CHK_SEQ) && v.seq - isn != k->seq) {
		TCP_FAIL(k, "seq", "%" PRIu32 ", expected %" PRIu32,
			 v.seq - isn, k->seq);
		failed++;
	}
	if ((k->given & CHK_ACK) && v.ack != k->ack) {
		TCP_FAIL(k, "ack", "%" PRIu32 ", expected %" PRIu32, v.ack,
			 k->ack);
		failed++;
	}
	if ((k->given & CHK_LEN) && v.len != k->len) {
		TCP_FAIL(k, "len", "%" PRIu32 ", expected %" PRIu32, v.len,
			 k->len);
		failed++;
	}
	if ((k->given & CHK_WIN) && v.win != k->win) {
		TCP_FAIL(k, "win", "%u, expected %" PRIu32, v.win, k->win);
		failed++;
	}
	if ((k->given & CHK_WIN_OPEN) && v.win == 0) {
		TCP_FAIL(k, "win", "%u, expected >0", v.win);
		failed++;
	}
	if ((k->given & CHK_OPTS) && (v.opts & k->opts) != k->opts) {
		opts_text(v.opts, a, sizeof(a));
		opts_text(k->opts, b, sizeof(b));
		TCP_FAIL(k, "opts", "%s, expected at least %s", a, b);
		failed++;
	}
	if ((k->given & CHK_NOOPTS) && (v.opts & k->noopts) != 0) {
		opts_text(v.opts, a, sizeof(a));
		opts_text(k->noopts, b, sizeof(b));
		TCP_FAIL(k, "noopts", "%s, expected none of %s", a, b);
		failed++;
	}
	if ((k->given & CHK_SACK) &&
	    (v.nb_sack != k->nb_sack ||
	     memcmp(v.sack, k->sack, k->nb_sack * sizeof(k->sack[0])) != 0)) {
		sack_text((const uint32_t (*)[2])v.sack, v.nb_sack, a, sizeof(a));
		sack_text((const uint32_t (*)[2])k->sack, k->nb_sack, b,
			  sizeof(b));
		TCP_FAIL(k, "sack", "%s, expected %s", a, b);
		failed++;
	}
	if ((k->given & CHK_AT) && ms != k->at_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected %"
			 PRIu64, ms, f->us, k->at_ms);
		failed++;
	}
	if ((k->given & CHK_AT_GE) && ms < k->at_ge_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected >= %"
			 PRIu64, ms, f->us, k->at_ge_ms);
		failed++;
	}
	if ((k->given & CHK_AT_LE) && ms > k->at_le_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected <= %"
			 PRIu64, ms, f->us, k->at_le_ms);
		failed++;
	}
	return failed;
}

/* [expect_tcp]: number the TCP frames the engine sent and check them. */
static unsigned
check_tcp(const struct scenario *sc, const struct run *r)
{
	const struct frame **tcp = calloc(r->sent.n + 1, sizeof(*tcp));
	unsigned failed = 0;
	size_t n = 0;

	if (tcp == NULL) {
		printf("FAIL: out of memory checking TCP frames\n");
		return 1;
	}
	for (size_t i = 0; i < r->sent.n; i++) {
		struct tcp_view v;

		if (tcp_view_parse(r->sent.v[i].data, r->sent.v[i].len, &v))
			tcp[n++] = &r->sent.v[i];
	}
	if (sc->has_tcp_frames && n != sc->tcp_frames) {
		printf("FAIL: tcp_frames: sent %zu, expected %" PRIu64 "\n", n,
		       sc->tcp_frames);
		failed++;
	}
	for (unsigned i = 0; i < sc->nb_tcp_checks; i++) {
		const struct tcp_check *k = &sc->tcp_checks[i];

		if (k->frame > n) {
			printf("FAIL: tcp frame %u: not sent (%zu TCP frames "
			       "sent)\n", k->frame, n);
			failed++;
			continue;
		}
		failed += check_tcp_frame(r, k, tcp[k->frame - 1]);
	}
	free(tcp);
	return failed;
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
