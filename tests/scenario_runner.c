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
 * Exit status: 0 every check passed; 1 some check failed (each printed);
 * 2 bad scenario (unreadable file, missing or bad key, unreadable pcap).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <rte_cfgfile.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "engine.h"
#include "fake_port.h"
#include "stats.h"
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
};

struct section_keys {
	const char *section;
	const char *const *keys;	/* NULL: any key (counters) */
	bool required;
};

static const char *const engine_keys[] = { "ip", "mac", "gateway", "vlan", NULL };
static const char *const input_keys[] = { "pcap", "settle_ms", NULL };
static const char *const expect_keys[] = { "pcap", "check_time", "tx_frames", NULL };

static const struct section_keys sections[] = {
	{ "engine", engine_keys, true },
	{ "input", input_keys, true },
	{ "expect", expect_keys, false },
	{ "counters", NULL, false },
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
		} else if (rte_cfgfile_num_sections(cfg, names[i],
				strlen(names[i])) != 1) {
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
	rte_cfgfile_close(cfg);
	return rc;
}

/* The engine under test and what it sent. */
struct run {
	struct engine *eng;
	struct shard *shard;
	struct fake_port fp;
	struct frame_list sent;
	uint64_t now_us;
	bool out_of_memory;
};

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
		m = mbuf_from_bytes(r->shard->pool, f->data, f->len);
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
		frame_list_free(&sc.input);
		frame_list_free(&sc.expect);
		return EXIT_BAD_SCENARIO;
	}

	test_eal_init();
	fake_port_init(&r.fp);
	r.eng = scenario_engine(&sc, &r.fp);
	if (r.eng == NULL) {
		fprintf(stderr, "%s: [engine]: the engine refused this "
			"configuration (rte_errno %d)\n", sc.path, rte_errno);
		frame_list_free(&sc.input);
		frame_list_free(&sc.expect);
		return EXIT_BAD_SCENARIO;
	}
	r.shard = r.eng->shards[0];

	failed = replay(&r, &sc);
	if (out != NULL && write_pcap(&r.sent, out) != 0) {
		printf("FAIL: could not write %s\n", out);
		failed++;
	}
	failed += check_run(&sc, &r);

	printf("%s: %s (%zu in, %zu out, %" PRIu64 " us virtual)\n", sc.path,
	       failed ? "FAILED" : "passed", sc.input.n, r.sent.n, r.now_us);
	engine_destroy(r.eng);
	frame_list_free(&r.sent);
	frame_list_free(&sc.input);
	frame_list_free(&sc.expect);
	rte_eal_cleanup();
	return failed ? EXIT_CHECK_FAILED : EXIT_PASS;
}
