/*
 * wskdp-replay: play recorded TCP conversations again.
 *
 *   wskdp-replay [EAL options] -- --mode live|raw --pcap FILE [options]
 *
 * Live mode replays the client side of each flow through wskapi against a
 * server and compares the answers with the recording (replay_live.h); with
 * --self-test the server is the engine itself, playing the recorded server
 * side over an in-memory net_ring link in this process (replay_server.h),
 * which needs no EAL options, port or root. Raw mode sends the capture's
 * frames out of a port as they are (replay_raw.h).
 *
 * Exit status: 0 when every session matched (live) or the frames were sent
 * (raw); 1 when a session differed or failed, or a run-time error; 2 for a
 * usage error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "app_common.h"
#include "capture.h"
#include "engine.h"
#include "net.h"
#include "replay_flows.h"
#include "replay_live.h"
#include "replay_plan.h"
#include "replay_raw.h"
#include "replay_report.h"
#include "replay_server.h"
#include "tcp.h"

#define PROG "wskdp-replay"
#define MAX_FILTER 64

enum mode { MODE_NONE, MODE_LIVE, MODE_RAW };

struct replay_opts {
	enum mode mode;
	const char *pcap;
	const char *json;
	const char *capture;
	const char *mask_path;
	struct port_conf pc;
	uint64_t port;
	/* Filters: a flow is replayed when it passes every filter given. */
	struct { uint32_t lo, hi; } flow_ranges[MAX_FILTER];
	uint32_t nb_flow_ranges;
	uint16_t server_ports[MAX_FILTER];
	uint32_t nb_server_ports;
	uint32_t addrs[MAX_FILTER];	/* host order: client or server */
	uint32_t nb_addrs;
	struct replay_live_conf live;
	uint64_t time_wait_ms;
	bool time_wait_set;
	bool self_test;
	int64_t corrupt_flow;
	uint64_t corrupt_offset;
	bool pdump;
	bool verbose;
	bool quiet;
	struct replay_raw_conf raw;
};

static volatile bool stop_requested;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [EAL options] -- --mode live|raw --pcap FILE [options]\n"
"common:\n"
"  --pcap FILE          the capture (pcap or pcapng)\n"
"  --json FILE          write the report as JSON\n"
"  --port N             DPDK port id (default 0)\n"
"  --pdump              start DPDK's capture server for dpdk-dumpcap (needs\n"
"                       EAL multi-process: not --no-shconf/--in-memory)\n"
"  --quiet, --verbose   fewer / every session line\n"
"live mode:\n"
"  --ip ADDR/PREFIX     the replay's address (required on a port)\n"
"  --gateway ADDR       default gateway\n"
"  --mac MAC            MAC to use (virtual ports)\n"
"  --target ADDR:PORT   send every flow here (default: the recorded server)\n"
"  --map [ADDR]:[PORT]=[ADDR]:[PORT]\n"
"                       recorded server to target (repeatable, first match;\n"
"                       an empty part matches any / keeps the recorded one)\n"
"  --flow LIST          flow indices, e.g. 0,2,5-7 (repeatable)\n"
"  --server-port P      flows to this recorded server port (repeatable)\n"
"  --addr ADDR          flows with this client or server address (repeatable)\n"
"  --compare MODE       exact (default), length, or mask:FILE\n"
"  --pace MODE          answer (default: each turn after the server's answer)\n"
"                       or recorded (each turn at its recorded time / --speed)\n"
"  --speed X            time divisor for --pace recorded (default 1)\n"
"  --repeat N           rounds over the flows (default 1)\n"
"  --parallel N         sessions at once, 1..65536 (default 1)\n"
"  --rate CPS           new connections per second (default: no limit)\n"
"  --timeout MS         per session (default 10000)\n"
"  --linger MS          wait for the server's FIN after a match (default 1000)\n"
"  --time-wait MS       TCP TIME_WAIT (default 60000; 100 with --self-test)\n"
"  --no-tfo             never use TCP Fast Open\n"
"  --capture FILE       write every frame sent and received to a pcap\n"
"                       (raw mode: every frame the port took)\n"
"  --self-test          replay against the engine's own server over an\n"
"                       in-memory link (no EAL options needed)\n"
"  --self-test-corrupt FLOW:OFFSET\n"
"                       the self-test server changes that server byte\n"
"raw mode:\n"
"  --speed X            recorded timing divided by X (default 1)\n"
"  --pps N              fixed frames per second\n"
"  --topspeed           as fast as the port takes them\n"
"  --loop N             times through the capture (default 1)\n"
"  --rewrite-mac SRC,DST  set both MACs of every frame\n"
"  --rewrite-ip OLD=NEW   IPv4 address rewrite with checksums (repeatable)\n");
}

/* "a.b.c.d" (may be empty when allow_empty) into host order. */
static int
parse_addr(const char *s, bool allow_empty, uint32_t *out)
{
	struct in_addr a;

	if (s[0] == '\0' && allow_empty) {
		*out = 0;
		return 0;
	}
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* "[ADDR]:[PORT]" into host order; empty parts give 0. */
static int
parse_addr_port(const char *s, bool allow_empty, uint32_t *addr, uint16_t *port)
{
	char buf[64], *colon, *end;
	unsigned long p = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	if (parse_addr(buf, allow_empty, addr) != 0)
		return -1;
	if (colon[1] != '\0') {
		p = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || p == 0 || p > 65535)
			return -1;
	} else if (!allow_empty) {
		return -1;
	}
	*port = (uint16_t)p;
	return 0;
}

static int
parse_flow_list(struct replay_opts *o, const char *s)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long lo, hi;
		char *end;

		if (o->nb_flow_ranges == MAX_FILTER || tok[0] == '-')
			return -1;
		lo = strtoul(tok, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] == '-' || end[1] == '\0')
				return -1;
			hi = strtoul(end + 1, &end, 10);
		}
		if (*end != '\0' || lo > hi || hi > UINT32_MAX)
			return -1;
		o->flow_ranges[o->nb_flow_ranges].lo = (uint32_t)lo;
		o->flow_ranges[o->nb_flow_ranges++].hi = (uint32_t)hi;
	}
	return 0;
}

static int
parse_double(const char *name, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end != '\0' || !(v > 0) || v > 1e6) {
		fprintf(stderr, PROG ": --%s: '%s' is not a number above 0 (up to 1e6)\n",
			name, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
bad(const char *opt, const char *value, const char *want)
{
	fprintf(stderr, PROG ": --%s: '%s' is not %s\n", opt, value, want);
	return -1;
}

/* Returns 0 to run, 1 for --help, -1 on a bad option (message printed). */
static int
parse_options(int argc, char **argv, struct replay_opts *o)
{
	enum {
		O_MODE = 256, O_PCAP, O_JSON, O_PORT, O_PDUMP, O_QUIET, O_VERBOSE,
		O_IP, O_GW, O_MAC, O_TARGET, O_MAP, O_FLOW, O_SPORT, O_ADDR,
		O_COMPARE, O_PACE, O_SPEED, O_REPEAT, O_PARALLEL, O_RATE,
		O_TIMEOUT, O_LINGER, O_TIMEWAIT, O_NOTFO, O_CAPTURE, O_SELF,
		O_CORRUPT, O_PPS, O_TOPSPEED, O_LOOP, O_RWMAC, O_RWIP, O_HELP,
	};
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, O_MODE },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "json", required_argument, NULL, O_JSON },
		{ "port", required_argument, NULL, O_PORT },
		{ "pdump", no_argument, NULL, O_PDUMP },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "ip", required_argument, NULL, O_IP },
		{ "gateway", required_argument, NULL, O_GW },
		{ "mac", required_argument, NULL, O_MAC },
		{ "target", required_argument, NULL, O_TARGET },
		{ "map", required_argument, NULL, O_MAP },
		{ "flow", required_argument, NULL, O_FLOW },
		{ "server-port", required_argument, NULL, O_SPORT },
		{ "addr", required_argument, NULL, O_ADDR },
		{ "compare", required_argument, NULL, O_COMPARE },
		{ "pace", required_argument, NULL, O_PACE },
		{ "speed", required_argument, NULL, O_SPEED },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "parallel", required_argument, NULL, O_PARALLEL },
		{ "rate", required_argument, NULL, O_RATE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "linger", required_argument, NULL, O_LINGER },
		{ "time-wait", required_argument, NULL, O_TIMEWAIT },
		{ "no-tfo", no_argument, NULL, O_NOTFO },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "self-test", no_argument, NULL, O_SELF },
		{ "self-test-corrupt", required_argument, NULL, O_CORRUPT },
		{ "pps", required_argument, NULL, O_PPS },
		{ "topspeed", no_argument, NULL, O_TOPSPEED },
		{ "loop", required_argument, NULL, O_LOOP },
		{ "rewrite-mac", required_argument, NULL, O_RWMAC },
		{ "rewrite-ip", required_argument, NULL, O_RWIP },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_live_conf *lc = &o->live;
	struct replay_raw_conf *rc = &o->raw;
	bool pace_set = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->corrupt_flow = -1;
	lc->repeat = 1;
	lc->parallel = 1;
	lc->timeout_us = 10000000;
	lc->linger_us = 1000000;
	lc->speed = 1;
	rc->speed = 1;
	rc->loop = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_MODE:
			if (strcmp(optarg, "live") == 0)
				o->mode = MODE_LIVE;
			else if (strcmp(optarg, "raw") == 0)
				o->mode = MODE_RAW;
			else
				return bad("mode", optarg, "live or raw");
			break;
		case O_PCAP:
			o->pcap = optarg;
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_PORT:
			if (app_parse_u64(PROG, "port", optarg, 0, RTE_MAX_ETHPORTS - 1,
					  &o->port) != 0)
				return -1;
			rc->port_id = (uint16_t)o->port;
			break;
		case O_PDUMP:
			o->pdump = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_VERBOSE:
			o->verbose = true;
			break;
		case O_IP: {
			struct port_addr *a;

			if (o->pc.nb_addrs == WSKDP_PORT_MAX_ADDRS)
				return bad("ip", optarg, "accepted: too many addresses");
			a = &o->pc.addrs[o->pc.nb_addrs];
			if (port_parse_ipv4(optarg, &a->ip, &a->prefix) != 0 || a->ip == 0)
				return bad("ip", optarg, "an IPv4 address with an optional /prefix");
			o->pc.nb_addrs++;
			break;
		}
		case O_GW:
			if (port_parse_ipv4(optarg, &o->pc.gateway, NULL) != 0 ||
			    o->pc.gateway == 0)
				return bad("gateway", optarg, "an IPv4 address");
			break;
		case O_MAC:
			if (rte_ether_unformat_addr(optarg, &o->pc.mac) != 0 ||
			    !rte_is_unicast_ether_addr(&o->pc.mac) ||
			    rte_is_zero_ether_addr(&o->pc.mac))
				return bad("mac", optarg, "a unicast MAC address");
			o->pc.mac_set = true;
			break;
		case O_TARGET: {
			struct replay_target_rule *r;

			if (lc->nb_rules == REPLAY_MAX_TARGET_RULES)
				return bad("target", optarg, "accepted: too many rules");
			r = &lc->rules[lc->nb_rules];
			memset(r, 0, sizeof(*r));
			if (parse_addr_port(optarg, false, &r->addr, &r->port) != 0)
				return bad("target", optarg, "ADDR:PORT");
			lc->nb_rules++;
			break;
		}
		case O_MAP: {
			struct replay_target_rule *r;
			char from[64];
			const char *eq = strchr(optarg, '=');

			if (lc->nb_rules == REPLAY_MAX_TARGET_RULES)
				return bad("map", optarg, "accepted: too many rules");
			r = &lc->rules[lc->nb_rules];
			if (eq == NULL || (size_t)(eq - optarg) >= sizeof(from))
				return bad("map", optarg, "[ADDR]:[PORT]=[ADDR]:[PORT]");
			memcpy(from, optarg, eq - optarg);
			from[eq - optarg] = '\0';
			if (parse_addr_port(from, true, &r->match_addr, &r->match_port) != 0 ||
			    parse_addr_port(eq + 1, true, &r->addr, &r->port) != 0)
				return bad("map", optarg, "[ADDR]:[PORT]=[ADDR]:[PORT]");
			lc->nb_rules++;
			break;
		}
		case O_FLOW:
			if (parse_flow_list(o, optarg) != 0)
				return bad("flow", optarg, "a list of flow indices like 0,2,5-7");
			break;
		case O_SPORT:
			if (o->nb_server_ports == MAX_FILTER ||
			    app_parse_u64(PROG, "server-port", optarg, 1, 65535, &v) != 0)
				return -1;
			o->server_ports[o->nb_server_ports++] = (uint16_t)v;
			break;
		case O_ADDR:
			if (o->nb_addrs == MAX_FILTER ||
			    parse_addr(optarg, false, &o->addrs[o->nb_addrs]) != 0)
				return bad("addr", optarg, "an IPv4 address");
			o->nb_addrs++;
			break;
		case O_COMPARE:
			if (strcmp(optarg, "exact") == 0) {
				lc->compare = REPLAY_COMPARE_EXACT;
			} else if (strcmp(optarg, "length") == 0) {
				lc->compare = REPLAY_COMPARE_LENGTH;
			} else if (strncmp(optarg, "mask:", 5) == 0 && optarg[5] != '\0') {
				lc->compare = REPLAY_COMPARE_MASK;
				o->mask_path = optarg + 5;
			} else {
				return bad("compare", optarg, "exact, length or mask:FILE");
			}
			break;
		case O_PACE:
			if (strcmp(optarg, "answer") == 0)
				lc->pace = REPLAY_PACE_ANSWER;
			else if (strcmp(optarg, "recorded") == 0)
				lc->pace = REPLAY_PACE_RECORDED;
			else
				return bad("pace", optarg, "answer or recorded");
			break;
		case O_SPEED:
			if (parse_double("speed", optarg, &lc->speed) != 0)
				return -1;
			rc->speed = lc->speed;
			if (!pace_set)
				rc->pace = REPLAY_RAW_RECORDED;
			break;
		case O_REPEAT:
			if (app_parse_u64(PROG, "repeat", optarg, 1, 100000000, &v) != 0)
				return -1;
			lc->repeat = (uint32_t)v;
			break;
		case O_PARALLEL:
			if (app_parse_u64(PROG, "parallel", optarg, 1, 65536, &v) != 0)
				return -1;
			lc->parallel = (uint32_t)v;
			break;
		case O_RATE:
			if (app_parse_u64(PROG, "rate", optarg, 1, 100000000, &lc->rate_cps) != 0)
				return -1;
			break;
		case O_TIMEOUT:
			if (app_parse_u64(PROG, "timeout", optarg, 1, 86400000, &v) != 0)
				return -1;
			lc->timeout_us = v * 1000;
			break;
		case O_LINGER:
			if (app_parse_u64(PROG, "linger", optarg, 0, 600000, &v) != 0)
				return -1;
			lc->linger_us = v * 1000;
			break;
		case O_TIMEWAIT:
			if (app_parse_u64(PROG, "time-wait", optarg, 1, 240000,
					  &o->time_wait_ms) != 0)
				return -1;
			o->time_wait_set = true;
			break;
		case O_NOTFO:
			lc->no_tfo = true;
			break;
		case O_CAPTURE:
			o->capture = optarg;
			break;
		case O_SELF:
			o->self_test = true;
			break;
		case O_CORRUPT: {
			unsigned long long fl, off;
			char extra;

			if (optarg[0] == '-' ||
			    sscanf(optarg, "%llu:%llu%c", &fl, &off, &extra) != 2 ||
			    fl > UINT32_MAX)
				return bad("self-test-corrupt", optarg, "FLOW:OFFSET");
			o->corrupt_flow = (int64_t)fl;
			o->corrupt_offset = off;
			break;
		}
		case O_PPS:
			if (app_parse_u64(PROG, "pps", optarg, 1, 1000000000, &rc->pps) != 0)
				return -1;
			rc->pace = REPLAY_RAW_PPS;
			pace_set = true;
			break;
		case O_TOPSPEED:
			rc->pace = REPLAY_RAW_TOPSPEED;
			pace_set = true;
			break;
		case O_LOOP:
			if (app_parse_u64(PROG, "loop", optarg, 1, 1000000000, &v) != 0)
				return -1;
			rc->loop = (uint32_t)v;
			break;
		case O_RWMAC: {
			char a[32], b[32];
			const char *comma = strchr(optarg, ',');

			if (comma == NULL || comma - optarg >= (long)sizeof(a) ||
			    strlen(comma + 1) >= sizeof(b))
				return bad("rewrite-mac", optarg, "SRC,DST MAC addresses");
			memcpy(a, optarg, comma - optarg);
			a[comma - optarg] = '\0';
			strcpy(b, comma + 1);
			if (rte_ether_unformat_addr(a, &rc->mac_src) != 0 ||
			    rte_ether_unformat_addr(b, &rc->mac_dst) != 0)
				return bad("rewrite-mac", optarg, "SRC,DST MAC addresses");
			rc->rewrite_mac = true;
			break;
		}
		case O_RWIP: {
			char a[32];
			const char *eq = strchr(optarg, '=');
			uint32_t oa, na;

			if (rc->nb_ip_rules == REPLAY_RAW_MAX_IP_RULES || eq == NULL ||
			    eq - optarg >= (long)sizeof(a))
				return bad("rewrite-ip", optarg, "OLD=NEW IPv4 addresses");
			memcpy(a, optarg, eq - optarg);
			a[eq - optarg] = '\0';
			if (parse_addr(a, false, &oa) != 0 ||
			    parse_addr(eq + 1, false, &na) != 0)
				return bad("rewrite-ip", optarg, "OLD=NEW IPv4 addresses");
			rc->ip_rules[rc->nb_ip_rules].old_addr = htonl(oa);
			rc->ip_rules[rc->nb_ip_rules++].new_addr = htonl(na);
			break;
		}
		case O_HELP:
			return 1;
		case ':':
			fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (o->mode == MODE_NONE || o->pcap == NULL) {
		fprintf(stderr, PROG ": --mode and --pcap are required (see --help)\n");
		return -1;
	}
	if (o->mode == MODE_LIVE && !o->self_test && o->pc.nb_addrs == 0) {
		fprintf(stderr, PROG ": live mode on a port needs --ip\n");
		return -1;
	}
	if (o->corrupt_flow >= 0 && !o->self_test) {
		fprintf(stderr, PROG ": --self-test-corrupt needs --self-test\n");
		return -1;
	}
	return 0;
}

static bool
flow_selected(const struct replay_opts *o, const struct replay_flow *f)
{
	bool ok;

	if (o->nb_flow_ranges > 0) {
		ok = false;
		for (uint32_t i = 0; i < o->nb_flow_ranges; i++)
			if (f->index >= o->flow_ranges[i].lo &&
			    f->index <= o->flow_ranges[i].hi)
				ok = true;
		if (!ok)
			return false;
	}
	if (o->nb_server_ports > 0) {
		ok = false;
		for (uint32_t i = 0; i < o->nb_server_ports; i++)
			if (f->tuple.server_port == o->server_ports[i])
				ok = true;
		if (!ok)
			return false;
	}
	if (o->nb_addrs > 0) {
		ok = false;
		for (uint32_t i = 0; i < o->nb_addrs; i++)
			if (f->tuple.server_addr == o->addrs[i] ||
			    f->tuple.client_addr == o->addrs[i])
				ok = true;
		if (!ok)
			return false;
	}
	return true;
}

/* A flow the truncation cut: neither both FINs nor a RST made it in. */
static bool
flow_cut(const struct replay_flow *f)
{
	const struct replay_stream *c = &f->stream[REPLAY_CLIENT];
	const struct replay_stream *s = &f->stream[REPLAY_SERVER];

	return !(c->rst_seen || s->rst_seen || (c->fin_seen && s->fin_seen));
}

static struct engine *
engine_open(const char *name, uint16_t ethdev, const struct port_conf *pc,
	    uint32_t time_wait_ms, uint32_t max_conns)
{
	struct tcp_conf tc;

	tcp_conf_init(&tc);
	tc.time_wait_us = time_wait_ms * 1000;
	if (max_conns > tc.max_conns)
		tc.max_conns = max_conns;
	return app_engine_open(PROG, name, ethdev, pc, &tc);
}

static void
poll_engines(struct engine *cli, struct engine *srv, struct replay_server *rs)
{
	shard_poll(cli->shards[0]);
	if (srv != NULL) {
		shard_poll(srv->shards[0]);
		replay_server_poll(rs);
	}
}

/* Ping each target until it answers, so the first burst of SYNs does not
 * wait on ARP (which queues only a few frames per address). Gives up
 * quietly after 3 s: the replay then reports what happens. */
static void
warm_up_arp(struct engine *cli, struct engine *srv, struct replay_server *rs,
	    const struct replay_live_conf *lc, const struct replay_capture *cap)
{
	static const char payload[32] = "wskdp-replay arp warm-up";
	struct shard *s = cli->shards[0];

	for (uint32_t i = 0; i < lc->nb_flows && i < 16; i++) {
		const struct replay_flow *f = replay_capture_flow(cap, lc->flows[i]);
		uint32_t addr = f->tuple.server_addr;
		uint64_t start = engine_clock_now_us(&s->clock), next = 0;
		uint64_t before = STAT_GET(s, icmp_echo_replies_rx);

		for (uint32_t r = 0; r < lc->nb_rules; r++) {
			const struct replay_target_rule *t = &lc->rules[r];

			if ((t->match_addr == 0 || t->match_addr == addr) &&
			    (t->match_port == 0 || t->match_port == f->tuple.server_port)) {
				if (t->addr != 0)
					addr = t->addr;
				break;
			}
		}
		while (!stop_requested && STAT_GET(s, icmp_echo_replies_rx) == before) {
			uint64_t now = engine_clock_now_us(&s->clock);

			if (now - start > 3000000)
				break;
			if (now >= next) {
				s->now_us = now;
				icmp_send_echo(s, &s->ports[0], htonl(addr), 0x7271,
					       (uint16_t)i, payload, sizeof(payload));
				next = now + 200000;
			}
			poll_engines(cli, srv, rs);
		}
	}
}

static int
run_live(struct replay_opts *o)
{
	struct replay_capture *cap;
	const struct replay_stats *st;
	struct replay_mask *mask = NULL;
	struct replay_live_summary sum;
	struct engine *cli = NULL, *srv = NULL;
	struct replay_server *rs = NULL;
	struct replay_live *rl = NULL;
	uint32_t *flows = NULL, *left = NULL, nb = 0, nb_left = 0, count;
	uint32_t time_wait = o->time_wait_set ? (uint32_t)o->time_wait_ms
			     : o->self_test ? 100 : 60000;
	char err[512];
	uint64_t t0, t1;
	int rc = 1;

	cap = replay_capture_open(o->pcap, err, sizeof(err));
	if (cap == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	st = replay_capture_stats(cap);
	if (o->live.compare == REPLAY_COMPARE_MASK) {
		mask = replay_mask_load(o->mask_path, err, sizeof(err));
		if (mask == NULL) {
			fprintf(stderr, PROG ": --compare: %s\n", err);
			replay_capture_free(cap);
			return 2;
		}
	}
	count = replay_capture_flow_count(cap);
	flows = calloc(count ? count : 1, sizeof(*flows));
	left = calloc(count ? count : 1, sizeof(*left));
	if (flows == NULL || left == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		const struct replay_flow *f = replay_capture_flow(cap, i);

		if (!flow_selected(o, f))
			continue;
		if (st->truncated && flow_cut(f))
			left[nb_left++] = i;
		else
			flows[nb++] = i;
	}
	if (st->truncated && !o->quiet)
		printf("%s: capture truncated at file offset %" PRIu64 " (%s)\n",
		       o->pcap, st->truncated_offset, st->truncated_reason);
	if (nb == 0) {
		fprintf(stderr, PROG ": no flow to replay (%u in the capture)\n", count);
		goto out;
	}
	if (o->self_test) {
		struct port_conf pa, pb;
		uint16_t ea, eb;

		if (app_ring_pair("replay", 1, &ea, &eb) != 0) {
			fprintf(stderr, PROG ": cannot create the in-memory link\n");
			goto out;
		}
		memset(&pa, 0, sizeof(pa));
		memset(&pb, 0, sizeof(pb));
		pa.nb_addrs = pb.nb_addrs = 1;
		pa.mac_set = pb.mac_set = true;
		pa.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x72, 0x70, 0, 1 }};
		pb.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x72, 0x70, 0, 2 }};
		/* RFC 2544 benchmarking range: never routed anywhere. */
		port_parse_ipv4("198.18.0.1/24", &pa.addrs[0].ip, &pa.addrs[0].prefix);
		port_parse_ipv4("198.18.0.2/24", &pb.addrs[0].ip, &pb.addrs[0].prefix);
		cli = engine_open("replay", ea, &pa, time_wait, o->live.parallel * 4);
		srv = engine_open("replay_srv", eb, &pb, time_wait, o->live.parallel * 4);
		if (cli == NULL || srv == NULL)
			goto out;
		rs = replay_server_create(srv->shards[0], cap,
			o->live.parallel * 2 < 65535 ? o->live.parallel * 2 : 65535,
			o->corrupt_flow, o->corrupt_offset, err, sizeof(err));
		if (rs == NULL) {
			fprintf(stderr, PROG ": self-test server: %s\n", err);
			goto out;
		}
		/* Every flow goes to the server engine, on its recorded port. */
		o->live.rules[0] = (struct replay_target_rule){
			.addr = ntohl(pb.addrs[0].ip) };
		o->live.nb_rules = 1;
		o->live.on_bind = replay_server_expect;
		o->live.on_bind_ctx = rs;
	} else {
		if (!rte_eth_dev_is_valid_port((uint16_t)o->port)) {
			fprintf(stderr, PROG ": --port: DPDK port %" PRIu64
				" does not exist (%u ports found)\n", o->port,
				rte_eth_dev_count_avail());
			goto out;
		}
		cli = engine_open("replay", (uint16_t)o->port, &o->pc, time_wait,
				  o->live.parallel * 4);
		if (cli == NULL)
			goto out;
	}
	if (o->capture != NULL && capture_attach(cli, o->capture) != 0) {
		fprintf(stderr, PROG ": --capture: cannot capture to %s\n", o->capture);
		goto out;
	}
	o->live.cap = cap;
	o->live.flows = flows;
	o->live.nb_flows = nb;
	o->live.mask = mask;
	rl = replay_live_create(cli->shards[0], &o->live, err, sizeof(err));
	if (rl == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	warm_up_arp(cli, srv, rs, &o->live, cap);
	t0 = engine_clock_now_us(&cli->shards[0]->clock);
	for (;;) {
		poll_engines(cli, srv, rs);
		if (!replay_live_poll(rl))
			break;
		if (stop_requested) {
			replay_live_cancel(rl);
			stop_requested = false;
		}
	}
	t1 = engine_clock_now_us(&cli->shards[0]->clock);
	/* Let the last FINs and ACKs out. */
	for (uint64_t end = t1 + 50000; engine_clock_now_us(&cli->shards[0]->clock) < end;)
		poll_engines(cli, srv, rs);

	memset(&sum, 0, sizeof(sum));
	sum.pcap = o->pcap;
	sum.truncated = st->truncated;
	sum.truncated_offset = st->truncated_offset;
	sum.left_out = left;
	sum.nb_left_out = nb_left;
	sum.results = replay_live_results(rl, &sum.nb_results);
	sum.duration_s = (t1 - t0) / 1e6;
	replay_report_count(&sum);
	if (!o->quiet)
		replay_report_live_print(stdout, &sum, o->verbose);
	rc = sum.totals[REPLAY_MATCHED] == sum.nb_results ? 0 : 1;
	if (o->json != NULL && replay_report_live_json(o->json, &sum) != 0)
		rc = 1;
	if (o->capture != NULL) {
		uint64_t frames = capture_detach(cli);

		if (!o->quiet)
			printf("capture: %" PRIu64 " frames written to %s\n", frames,
			       o->capture);
	}
out:
	replay_live_destroy(rl);
	replay_server_destroy(rs);
	if (cli != NULL)
		capture_detach(cli);
	app_engine_close(cli);
	app_engine_close(srv);
	replay_mask_free(mask);
	replay_capture_free(cap);
	free(flows);
	free(left);
	return rc;
}

static int
run_raw(struct replay_opts *o)
{
	struct replay_raw_capture *rcap;
	struct replay_raw_report rep;
	pcap_t *raw_dead = NULL;
	uint64_t toff = 0;
	const char *reason = NULL;
	bool truncated;
	char err[512];
	int rc;

	rcap = replay_raw_load(o->pcap, err, sizeof(err));
	if (rcap == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	truncated = replay_raw_truncated(rcap, &toff, &reason);
	if (truncated && !o->quiet)
		printf("%s: capture truncated at file offset %" PRIu64
		       " (%s): sending the %" PRIu64 " frames before it\n",
		       o->pcap, toff, reason, replay_raw_frames(rcap));
	o->raw.stop = &stop_requested;
	if (o->capture != NULL) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);

		o->raw.capture = dead != NULL ? pcap_dump_open(dead, o->capture) : NULL;
		if (o->raw.capture == NULL) {
			fprintf(stderr, PROG ": --capture: cannot write %s: %s\n", o->capture,
				dead != NULL ? pcap_geterr(dead) : "out of memory");
			if (dead != NULL)
				pcap_close(dead);
			replay_raw_free(rcap);
			return 1;
		}
		raw_dead = dead;
	}
	rc = replay_raw_run(rcap, &o->raw, &rep, err, sizeof(err));
	if (o->raw.capture != NULL) {
		pcap_dump_close(o->raw.capture);
		pcap_close(raw_dead);
		if (!o->quiet)
			printf("capture: %" PRIu64 " frames written to %s\n",
			       rep.captured, o->capture);
	}
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		replay_raw_free(rcap);
		return 1;
	}
	if (!o->quiet)
		printf("raw: %" PRIu64 " frames, %" PRIu64 " bytes in %.6f s: %.0f pps, %.3f Gb/s%s\n",
		       rep.frames, rep.bytes, rep.duration_ns / 1e9, rep.pps,
		       rep.gbps, rep.rewritten ? " (rewritten frames counted)" : "");
	rc = rep.frames == replay_raw_frames(rcap) * o->raw.loop ? 0 : 1;
	if (o->json != NULL &&
	    replay_report_raw_json(o->json, o->pcap, &rep, truncated, toff) != 0)
		rc = 1;
	replay_raw_free(rcap);
	return rc;
}

int
main(int argc, char **argv)
{
	struct app_args args;
	struct replay_opts o;
	char dir[PATH_MAX];
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
		fprintf(stderr, PROG ": EAL initialisation failed (check the EAL options)\n");
		return 1;
	}
	app_on_signal(&stop_requested);
	if (o.pdump) {
		rc = capture_pdump_init();
		if (rc != 0) {
			fprintf(stderr, PROG ": --pdump: %s (DPDK's capture needs the EAL's multi-process support: no --no-shconf or --in-memory)\n",
				strerror(-rc));
			rc = 2;
			goto out;
		}
		/* The EAL makes its multi-process socket before it probes the
		 * ports, so a secondary that attaches on seeing the socket can
		 * miss them; this line is the point from which it cannot. */
		fprintf(stderr, PROG ": capture server ready (ports probed, dpdk-dumpcap may attach)\n");
	}
	rc = o.mode == MODE_LIVE ? run_live(&o) : run_raw(&o);
	if (o.pdump)
		capture_pdump_uninit();
out:
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	app_remove_runtime_dir(&args, dir);
	return rc;
}
