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
 * The protocol and the pattern, shared with the Python peer, are
 * described in tcp_peer.h; tcp_peer_conn.c speaks them.
 *
 * The engine runs in this thread: the loop polls the shard, starts new
 * connections and lets each open connection read, verify and write as
 * much as it can. It is a test tool: it uses engine internals (net.h for
 * the ARP warm-up ping) freely.
 */
#include <errno.h>
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
#include "tcp_peer.h"

static volatile bool stop_requested;

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
	struct tcp_conf tc;

	tcp_conf_init(&tc);
	return app_engine_open(PROG, name, ethdev, pc, &tc);
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
		app_engine_close(eng);
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
	app_engine_close(eng);
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
		app_engine_close(ce);
		app_engine_close(se);
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
	app_engine_close(ce);
	app_engine_close(se);
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
