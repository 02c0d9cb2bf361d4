/*
 * wskdp-gen: the load generator and server.
 *
 *   wskdp-gen [EAL options] -- [options]
 *
 * With ports (a NIC, or a --vdev such as net_af_packet) it starts the
 * engine on them and answers ARP and ping. With no EAL options at all it
 * runs its embedded default: two engines joined by an in-memory net_ring
 * link in one process, no NIC, namespace or hugepages needed, for a few
 * seconds, and prints what it measured.
 */
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "app_common.h"
#include "engine.h"
#include "net.h"

struct gen_opts {
	struct port_conf pc;
	bool have_gateway;
	uint64_t port;
	uint64_t duration_s;
	bool duration_set;
	bool quiet;
};

static volatile bool stop_requested;

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
"usage: %s [EAL options] -- [options]\n"
"  With no EAL options, runs the embedded default (in-memory link, no NIC).\n"
"options:\n"
"  --ip ADDR/PREFIX    an address of the port (repeatable, up to %d)\n"
"  --gateway ADDR      default gateway\n"
"  --mtu N             MTU, 576..9000 (default %d)\n"
"  --vlan ID           802.1Q VLAN id, 1..4094 (default: untagged)\n"
"  --mac MAC           use this unicast MAC instead of the port's own\n"
"                      (net_pcap, net_ring and other virtual ports)\n"
"  --port N            DPDK port id to use, 0..%d (default 0)\n"
"  --duration SECONDS  stop after this long, 0..31536000; 0 runs until\n"
"                      SIGINT/SIGTERM (default 0 on ports, 3 embedded)\n"
"  --quiet             print nothing but errors\n"
"  --help              this text\n",
		prog, WSKDP_PORT_MAX_ADDRS, WSKDP_DEFAULT_MTU, RTE_MAX_ETHPORTS - 1);
}

/* Returns 0 to run, 1 for --help, -1 on a bad option (message printed). */
static int
parse_options(int argc, char **argv, const char *prog, struct gen_opts *o)
{
	enum { O_IP = 256, O_GW, O_MTU, O_VLAN, O_MAC, O_PORT, O_DURATION, O_QUIET, O_HELP };
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, O_IP },
		{ "gateway", required_argument, NULL, O_GW },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "vlan", required_argument, NULL, O_VLAN },
		{ "mac", required_argument, NULL, O_MAC },
		{ "port", required_argument, NULL, O_PORT },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_IP: {
			struct port_addr *a;

			if (o->pc.nb_addrs == WSKDP_PORT_MAX_ADDRS) {
				fprintf(stderr, "%s: --ip: at most %d addresses\n",
					prog, WSKDP_PORT_MAX_ADDRS);
				return -1;
			}
			a = &o->pc.addrs[o->pc.nb_addrs];
			if (port_parse_ipv4(optarg, &a->ip, &a->prefix) != 0 ||
			    a->ip == 0) {
				fprintf(stderr, "%s: --ip: '%s' is not an IPv4 address with an optional /prefix (0..32)\n",
					prog, optarg);
				return -1;
			}
			o->pc.nb_addrs++;
			break;
		}
		case O_GW:
			if (port_parse_ipv4(optarg, &o->pc.gateway, NULL) != 0 ||
			    o->pc.gateway == 0) {
				fprintf(stderr, "%s: --gateway: '%s' is not an IPv4 address\n",
					prog, optarg);
				return -1;
			}
			o->have_gateway = true;
			break;
		case O_MTU:
			if (app_parse_u64(prog, "mtu", optarg, 576, 9000, &v) != 0)
				return -1;
			o->pc.mtu = (uint16_t)v;
			break;
		case O_VLAN:
			if (app_parse_u64(prog, "vlan", optarg, 1, 4094, &v) != 0)
				return -1;
			o->pc.vlan_id = (uint16_t)v;
			break;
		case O_MAC:
			if (rte_ether_unformat_addr(optarg, &o->pc.mac) != 0 ||
			    !rte_is_unicast_ether_addr(&o->pc.mac) ||
			    rte_is_zero_ether_addr(&o->pc.mac)) {
				fprintf(stderr, "%s: --mac: '%s' is not a unicast MAC address (xx:xx:xx:xx:xx:xx)\n",
					prog, optarg);
				return -1;
			}
			o->pc.mac_set = true;
			break;
		case O_PORT:
			if (app_parse_u64(prog, "port", optarg, 0,
					  RTE_MAX_ETHPORTS - 1, &o->port) != 0)
				return -1;
			break;
		case O_DURATION:
			if (app_parse_u64(prog, "duration", optarg, 0, 31536000,
					  &o->duration_s) != 0)
				return -1;
			o->duration_set = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_HELP:
			return 1;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n", prog, argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n",
				prog, argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n",
			prog, argv[optind]);
		return -1;
	}
	if (o->pc.nb_addrs == 0 && o->have_gateway) {
		fprintf(stderr, "%s: --gateway needs an --ip\n", prog);
		return -1;
	}
	return 0;
}

static void
print_counters(const struct engine *eng)
{
	struct shard_stats st;

	engine_stats(eng, &st);
	printf("[%s]\n", eng->name);
	for (int k = 0; k < SHARD_STAT_MAX; k++)
		if (st.v[k] != 0)
			printf("  %-26s %" PRIu64 "\n", shard_stat_names[k], st.v[k]);
}

/* Serve ARP and ping on a real port until stopped. */
static int
run_ports(const char *prog, struct gen_opts *o)
{
	struct engine_conf ec;
	struct engine *eng;
	int rc;

	if (!rte_eth_dev_is_valid_port((uint16_t)o->port)) {
		fprintf(stderr, "%s: --port: DPDK port %" PRIu64 " does not exist (%u ports found)\n",
			prog, o->port, rte_eth_dev_count_avail());
		return 2;
	}
	if (o->pc.nb_addrs == 0) {
		fprintf(stderr, "%s: --ip is required when running on a port\n", prog);
		return 2;
	}
	/* One shard per lcore given to the EAL; each gets its own queue. */
	engine_conf_init(&ec, "gen");
	{
		unsigned lc, n = 0;

		RTE_LCORE_FOREACH(lc) {
			if (n < WSKDP_MAX_SHARDS)
				ec.lcores[n++] = lc;
		}
		ec.nb_shards = n;
	}
	eng = engine_create(&ec);
	if (eng == NULL) {
		fprintf(stderr, "%s: cannot create the engine: %s\n", prog,
			rte_strerror(rte_errno));
		return 1;
	}
	rc = engine_add_ethdev_port(eng, (uint16_t)o->port, &o->pc);
	if (rc >= 0)
		rc = engine_start(eng);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start port %" PRIu64 ": %s\n", prog,
			o->port, strerror(-rc));
		engine_destroy(eng);
		return 1;
	}
	if (!o->quiet) {
		char ipbuf[16];

		printf("%s: serving %s/%u on port %" PRIu64 " with %u shard%s\n",
		       prog, port_format_ipv4(o->pc.addrs[0].ip, ipbuf, sizeof(ipbuf)),
		       o->pc.addrs[0].prefix, o->port, eng->nb_shards,
		       eng->nb_shards > 1 ? "s" : "");
		fflush(stdout);
	}
	app_on_signal(&eng->stop);
	if (stop_requested)
		eng->stop = true;
	rc = engine_run(eng, o->duration_s * 1000000);
	if (rc != 0)
		fprintf(stderr, "%s: could not start every shard: %s\n", prog, strerror(-rc));
	if (!o->quiet)
		print_counters(eng);
	engine_destroy(eng);
	return rc == 0 ? 0 : 1;
}

/* The embedded default: two engines on an in-memory link, one pinging
 * the other as fast as it answers, polled alternately in this thread. */
static int
run_embedded(const char *prog, struct gen_opts *o)
{
	struct engine_conf ec;
	struct port_conf pa, pb;
	struct engine *cli, *srv;
	uint16_t ea, eb;
	uint64_t end_us, start_us, sent = 0;
	char payload[56];
	int rc;

	if (app_ring_pair("link", 1, &ea, &eb) != 0) {
		fprintf(stderr, "%s: cannot create the in-memory link\n", prog);
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
	engine_conf_init(&ec, "cli");
	cli = engine_create(&ec);
	engine_conf_init(&ec, "srv");
	srv = engine_create(&ec);
	if (cli == NULL || srv == NULL) {
		fprintf(stderr, "%s: cannot create the engines: %s\n", prog,
			rte_strerror(rte_errno));
		return 1;
	}
	rc = engine_add_ethdev_port(cli, ea, &pa);
	if (rc >= 0)
		rc = engine_add_ethdev_port(srv, eb, &pb);
	if (rc >= 0)
		rc = engine_start(cli);
	if (rc >= 0)
		rc = engine_start(srv);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start the link: %s\n", prog, strerror(-rc));
		return 1;
	}
	memset(payload, 0x5a, sizeof(payload));
	start_us = engine_clock_now_us(&cli->shards[0]->clock);
	end_us = start_us + (o->duration_set ? o->duration_s : 3) * 1000000;
	while (!stop_requested) {
		struct shard *cs = cli->shards[0];
		uint64_t now = engine_clock_now_us(&cs->clock);
		uint64_t answered = STAT_GET(cs, icmp_echo_replies_rx);

		if (now >= end_us)
			break;
		/* Keep a window of echoes in flight, like ping -f -l 32. */
		while (sent - answered < 32) {
			cs->now_us = now;
			if (icmp_send_echo(cs, &cs->ports[0], pb.addrs[0].ip, 1,
					   (uint16_t)sent, payload,
					   sizeof(payload)) != 0)
				break;
			sent++;
		}
		shard_poll(cs);
		shard_poll(srv->shards[0]);
	}
	{
		double secs = (engine_clock_now_us(&cli->shards[0]->clock) -
			       start_us) / 1e6;
		uint64_t got = engine_stat(cli, SHARD_STAT_icmp_echo_replies_rx);

		if (!o->quiet) {
			printf("embedded run: %.2f s, echo requests %" PRIu64
			       ", replies %" PRIu64 ", %.0f round trips/s\n",
			       secs, sent, got, got / secs);
			print_counters(cli);
			print_counters(srv);
		}
		rc = got > 0 ? 0 : 1;
		if (got == 0)
			fprintf(stderr, "%s: no echo came back over the in-memory link\n", prog);
	}
	engine_destroy(cli);
	engine_destroy(srv);
	return rc;
}

int
main(int argc, char **argv)
{
	struct app_args args;
	struct gen_opts o;
	const char *prog = "wskdp-gen";
	int rc;

	if (app_split_args(argc, argv, 1, &args) != 0)
		return 2;
	rc = parse_options(args.app_argc, args.app_argv, prog, &o);
	if (rc == 1) {
		usage(stdout, prog);
		return 0;
	}
	if (rc != 0)
		return 2;
	if (rte_eal_init(args.eal_argc, args.eal_argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed (check the EAL options)\n", prog);
		return 1;
	}
	engine_telemetry_register();
	app_on_signal(&stop_requested);
	if (args.eal_defaulted && rte_eth_dev_count_avail() == 0)
		rc = run_embedded(prog, &o);
	else
		rc = run_ports(prog, &o);
	{
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		app_remove_runtime_dir(&args, dir);
	}
	return rc;
}
