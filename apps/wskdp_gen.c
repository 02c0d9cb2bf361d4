/*
 * wskdp-gen: the load generator and server.
 *
 *   wskdp-gen [EAL options] -- [options]
 *
 * With no option at all it runs its embedded default: a client shard and a
 * server shard, two engines joined by an in-memory net_ring link in one
 * process (on two lcores when the EAL has two, else polled alternately in
 * one thread), no NIC, namespace or hugepages needed, for 3 seconds of
 * connect / 100 B request / 100 B response / close, and prints what it
 * measured. With EAL options and ports it runs as --mode client or
 * --mode server (the default there) on one port, one shard per lcore.
 *
 * Options come from one table (gen_profile.h) shared with profile files;
 * a bad option exits 2 with a message naming it. The traffic itself is in
 * gen_client.c and gen_server.c, through wskapi only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "app_common.h"
#include "capture.h"
#include "engine.h"
#include "gen_profile.h"
#include "gen_results.h"
#include "gen_run.h"
#include "tcp.h"

#define PROG "wskdp-gen"

static volatile bool stop_requested;	/* SIGINT/SIGTERM */
static volatile bool servers_stop;	/* main tells server loops to end */

static uint8_t pattern[GEN_CHUNK];

struct side {
	struct engine *eng;
	struct gen_worker *w;
	unsigned nb;
	enum gen_role role;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [EAL options] -- [options]\n"
		"  With no options at all: the embedded run (client and server over an\n"
		"  in-memory link, 3 s, no NIC or hugepages needed). With EAL options and a\n"
		"  port: --mode server (default there) or --mode client on it.\n");
	gen_config_usage(f);
}

/* Read a whole file for a request or an answer. Returns 0, or -1 with a
 * message. */
static int
load_file(const char *opt, const char *path, uint8_t **data, uint64_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL) {
		fprintf(stderr, PROG ": --%s: %s: %s\n", opt, path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, PROG ": --%s: %s: empty or not a regular file\n", opt, path);
		fclose(f);
		return -1;
	}
	*data = malloc((size_t)n);
	if (*data == NULL || fread(*data, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, PROG ": --%s: %s: cannot read it\n", opt, path);
		free(*data);
		*data = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = (uint64_t)n;
	return 0;
}

static void
msg_pattern(struct gen_msg *m, uint64_t len)
{
	m->data = pattern;
	m->data_len = GEN_CHUNK;
	m->len = len;
}

static void
tcp_conf_from(struct tcp_conf *tc, const struct gen_config *cfg)
{
	tcp_conf_init(tc);
	tc->time_wait_us = (uint32_t)(cfg->time_wait_ms * 1000);
	tc->max_conns = (uint32_t)cfg->max_conns;
	tc->min_rto_us = (uint32_t)(cfg->min_rto_ms * 1000);
}

/* ---- running ------------------------------------------------------------ */

static int
client_loop(void *arg)
{
	struct gen_worker *w = arg;

	while (gen_worker_poll(w))
		if (stop_requested)
			gen_worker_stop(w);
	gen_worker_finish(w);
	return 0;
}

static int
server_loop(void *arg)
{
	struct gen_worker *w = arg;

	while (!servers_stop && !stop_requested)
		gen_worker_poll(w);
	gen_worker_finish(w);
	return 0;
}

/* Print the live lines due: sample k once every worker of the side has
 * published it. */
static void
live_update(struct gen_live *live, const struct side *sd, size_t *next)
{
	for (;;) {
		struct gen_timeline_sample sum = { 0 };
		struct gen_hist_summary lat = { 0 };

		for (unsigned i = 0; i < sd->nb; i++) {
			const struct gen_worker *w = &sd->w[i];
			const struct gen_timeline_sample *s;

			if (atomic_load_explicit(&w->published, memory_order_acquire) <= *next &&
			    !atomic_load_explicit(&w->finished, memory_order_acquire))
				return;
			if (atomic_load_explicit(&w->published, memory_order_acquire) <= *next)
				return;
			s = &w->res.timeline[*next];
			sum.t = RTE_MAX(sum.t, s->t);
			sum.cps += s->cps;
			sum.active += s->active;
			sum.tx_gbps += s->tx_gbps;
			sum.rx_gbps += s->rx_gbps;
			sum.retransmits += s->retransmits;
			sum.errors += s->errors;
			/* Percentiles do not add up: show the slowest shard's. */
			if (w->live_lat[*next].p99 >= lat.p99)
				lat = w->live_lat[*next];
		}
		gen_live_print(live, &sum, lat.count > 0 ? &lat : NULL);
		(*next)++;
	}
}

static bool
side_finished(const struct side *sd)
{
	for (unsigned i = 0; i < sd->nb; i++)
		if (!atomic_load_explicit(&sd->w[i].finished, memory_order_acquire))
			return false;
	return true;
}

/* Sum a side's results; tcp counters from its engine's shards. */
static void
side_results(const struct side *sd, struct gen_results *total, double secs)
{
	for (unsigned i = 0; i < sd->nb; i++) {
		gen_worker_collect_tcp(&sd->w[i]);
		gen_results_add(total, &sd->w[i].res);
	}
	gen_results_finish(total, secs);
}

static int
write_outputs(const struct gen_config *cfg, const struct gen_results *r)
{
	int rc = 0;

	if (cfg->json_path[0] != '\0' && gen_results_write_json(r, cfg->json_path) != 0) {
		fprintf(stderr, PROG ": --json: cannot write %s: %s\n", cfg->json_path,
			strerror(errno));
		rc = 1;
	}
	if (cfg->csv_path[0] != '\0' && gen_results_write_csv(r, cfg->csv_path) != 0) {
		fprintf(stderr, PROG ": --csv: cannot write %s: %s\n", cfg->csv_path,
			strerror(errno));
		rc = 1;
	}
	return rc;
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

/* ---- the embedded run ------------------------------------------------------ */

/* Say where the capture went (capture_detach() returns 0 when none ran). */
static void
report_capture(const struct gen_config *cfg, uint64_t frames)
{
	if (cfg->capture_path[0] != '\0' && !cfg->quiet)
		printf(PROG ": captured %" PRIu64 " frames to %s\n", frames,
		       cfg->capture_path);
}

static int
run_embedded(struct gen_config *cfg, const struct gen_msg *req,
	     const struct gen_msg *ans)
{
	struct engine_conf ec;
	struct port_conf pa, pb;
	struct tcp_conf tc;
	struct engine *cli = NULL, *srv = NULL;
	struct gen_worker *ws = NULL;
	struct side cs;
	struct gen_run_clock clk;
	struct gen_results total;
	struct gen_live live;
	unsigned second_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	bool two = second_lcore < RTE_MAX_LCORE;
	uint16_t ea, eb;
	size_t next_live = 0;
	uint64_t live_check = 0;
	double secs;
	int rc = 1;

	if (app_ring_pair("link", 1, &ea, &eb) != 0) {
		fprintf(stderr, PROG ": cannot create the in-memory link\n");
		return 1;
	}
	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	pa.nb_addrs = pb.nb_addrs = 1;
	pa.mac_set = pb.mac_set = true;
	/* Both ends are ours and nothing else reads the link: checksums as
	 * on Linux loopback (port_conf.mem_link), unless asked to verify. */
	pa.mem_link = pb.mem_link = !cfg->verify_checksums;
	pa.mtu = pb.mtu = (uint16_t)cfg->mtu;
	pa.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x64, 0x70, 0, 1 }};
	pb.mac = (struct rte_ether_addr){{ 0x02, 0x77, 0x64, 0x70, 0, 2 }};
	/* RFC 2544 benchmarking range: never routed anywhere. */
	port_parse_ipv4("198.18.0.1/24", &pa.addrs[0].ip, &pa.addrs[0].prefix);
	port_parse_ipv4("198.18.0.2/24", &pb.addrs[0].ip, &pb.addrs[0].prefix);
	cfg->client.servers.n = 1;
	cfg->client.servers.r[0].first = cfg->client.servers.r[0].last =
		ntohl(pb.addrs[0].ip);
	if (!gen_config_given(cfg, "server-ports"))
		cfg->client.server_ports = cfg->server.listen_ports;

	engine_conf_init(&ec, "cli");
	ec.lcores[0] = two ? second_lcore : rte_get_main_lcore();
	ec.mbufs_per_shard = 32768;
	cli = engine_create(&ec);
	engine_conf_init(&ec, "srv");
	ec.mbufs_per_shard = 32768;
	srv = engine_create(&ec);
	if (cli == NULL || srv == NULL) {
		fprintf(stderr, PROG ": cannot create the engines: %s\n",
			rte_strerror(rte_errno));
		goto out;
	}
	tcp_conf_from(&tc, cfg);
	if (engine_add_ethdev_port(cli, ea, &pa) < 0 ||
	    engine_add_ethdev_port(srv, eb, &pb) < 0 ||
	    tcp_engine_enable(cli, &tc) != 0 || tcp_engine_enable(srv, &tc) != 0 ||
	    /* The client's port sees both directions of the link. */
	    (cfg->capture_path[0] != '\0' && capture_attach(cli, cfg->capture_path) != 0) ||
	    engine_start(cli) != 0 || engine_start(srv) != 0) {
		fprintf(stderr, PROG ": cannot start the in-memory link\n");
		goto out;
	}
	ws = calloc(2, sizeof(*ws));
	if (ws == NULL)
		goto out;
	gen_run_clock_init(&clk);
	if (gen_worker_init(&ws[1], GEN_ROLE_SERVER, cfg, srv->shards[0], 0, 0, 1,
			    ans, &clk) != 0 ||
	    gen_worker_init(&ws[0], GEN_ROLE_CLIENT, cfg, cli->shards[0], 0, 0, 1,
			    req, &clk) != 0)
		goto out;
	ws[0].default_laddr = ntohl(pa.addrs[0].ip);
	cs = (struct side){ cli, &ws[0], 1, GEN_ROLE_CLIENT };
	gen_live_init(&live, stdout, cfg->quiet);
	if (!cfg->quiet) {
		if (cfg->client.bulk)
			printf(PROG ": embedded run on %s: client and server over net_ring, "
			       "bulk on %" PRIu64 " connection(s), %.1f s\n",
			       two ? "two lcores" : "one lcore", cfg->client.concurrency,
			       cfg->duration_ms / 1e3);
		else
			printf(PROG ": embedded run on %s: client and server over net_ring, "
			       "%" PRIu64 " B request, %" PRIu64 " B response%s\n",
			       two ? "two lcores" : "one lcore", req->len,
			       cfg->client.response_size, cfg->tfo ? ", TCP Fast Open" : "");
		fflush(stdout);
	}
	if (two) {
		if (rte_eal_remote_launch(client_loop, &ws[0], second_lcore) != 0) {
			fprintf(stderr, PROG ": cannot launch lcore %u\n", second_lcore);
			goto out;
		}
		while (!side_finished(&cs)) {
			gen_worker_poll(&ws[1]);
			if (ws[1].now_us >= live_check) {
				live_update(&live, &cs, &next_live);
				live_check = ws[1].now_us + 50000;
			}
		}
		secs = ws[0].now_us / 1e6;
		rte_eal_wait_lcore(second_lcore);
	} else {
		bool more = true;

		while (more) {
			more = gen_worker_poll(&ws[0]);
			if (stop_requested)
				gen_worker_stop(&ws[0]);
			gen_worker_poll(&ws[1]);
			live_update(&live, &cs, &next_live);
		}
		secs = ws[0].now_us / 1e6;
		gen_worker_finish(&ws[0]);
	}
	/* The server sees the client's last FINs and RSTs, then stops. */
	for (int i = 0; i < 1000; i++)
		gen_worker_poll(&ws[1]);
	gen_worker_finish(&ws[1]);
	live_update(&live, &cs, &next_live);

	if (gen_results_init(&total, ws[0].res.timeline_len + 1) != 0)
		goto out;
	side_results(&cs, &total, secs);
	rc = write_outputs(cfg, &total);
	if (!cfg->quiet) {
		gen_results_print(&total, stdout);
		printf("server: accepted %" PRIu64 ", completed %" PRIu64 ", failed %" PRIu64
		       ", refused (no slot) %" PRIu64 "\n",
		       ws[1].res.connections.attempted, ws[1].res.connections.completed,
		       ws[1].res.connections.failed, ws[1].refused);
		if (ws[0].tuple_skips > 0)
			printf("client: %" PRIu64 " 4-tuples skipped (still in TIME_WAIT)\n",
			       ws[0].tuple_skips);
		print_counters(cli);
		print_counters(srv);
	}
	if (total.connections.completed == 0) {
		fprintf(stderr, PROG ": no connection completed over the in-memory link\n");
		rc = 1;
	}
	gen_results_fini(&total);
out:
	if (ws != NULL) {
		gen_worker_fini(&ws[0]);
		gen_worker_fini(&ws[1]);
		free(ws);
	}
	if (cli != NULL) {
		report_capture(cfg, capture_detach(cli));
		tcp_engine_disable(cli);
	}
	if (srv != NULL)
		tcp_engine_disable(srv);
	engine_destroy(cli);
	engine_destroy(srv);
	return rc;
}

/* ---- on a port ---------------------------------------------------------------- */

static int
run_port(struct gen_config *cfg, const struct gen_msg *msg)
{
	enum gen_role role = cfg->mode == GEN_MODE_CLIENT ? GEN_ROLE_CLIENT : GEN_ROLE_SERVER;
	struct rte_eth_rss_reta_entry64 reta_conf[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	static uint16_t reta[RTE_ETH_RSS_RETA_SIZE_512];
	static uint8_t key[64];
	struct rte_eth_rss_conf rss = { .rss_key = key, .rss_key_len = sizeof(key) };
	struct rte_eth_dev_info info;
	struct engine_conf ec;
	struct port_conf pc;
	struct tcp_conf tc;
	struct engine *eng = NULL;
	struct gen_worker *ws = NULL;
	struct gen_run_clock clk;
	struct gen_results total;
	struct gen_live live;
	struct side sd;
	uint16_t port = (uint16_t)cfg->port;
	unsigned lc, n = 0;
	size_t next_live = 0;
	uint64_t live_check = 0;
	bool use_rss = false;
	double secs;
	int rc = 1;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, PROG ": --port: DPDK port %u does not exist (%u ports found)\n",
			port, rte_eth_dev_count_avail());
		return 2;
	}
	if (cfg->ip.n == 0) {
		fprintf(stderr, PROG ": --ip is required when running on a port\n");
		return 2;
	}
	memset(&pc, 0, sizeof(pc));
	for (unsigned i = 0; i < cfg->ip.n; i++) {
		pc.addrs[i].ip = htonl(cfg->ip.a[i].ip);
		pc.addrs[i].prefix = cfg->ip.a[i].prefix;
	}
	pc.nb_addrs = (uint16_t)cfg->ip.n;
	pc.gateway = htonl(cfg->gateway);
	pc.mtu = (uint16_t)cfg->mtu;
	pc.vlan_id = (uint16_t)cfg->vlan;
	if (gen_config_given(cfg, "mac")) {
		pc.mac_set = true;
		memcpy(pc.mac.addr_bytes, cfg->mac, 6);
	}
	/* One shard per lcore given to the EAL (or --shards of them). */
	engine_conf_init(&ec, "gen");
	RTE_LCORE_FOREACH(lc) {
		if (n < WSKDP_MAX_SHARDS &&
		    (!gen_config_given(cfg, "shards") || n < cfg->shards))
			ec.lcores[n++] = lc;
	}
	if (gen_config_given(cfg, "shards") && n < cfg->shards) {
		fprintf(stderr, PROG ": --shards %" PRIu64 " needs as many lcores (the EAL has %u)\n",
			cfg->shards, rte_lcore_count());
		return 2;
	}
	ec.nb_shards = n;
	eng = engine_create(&ec);
	if (eng == NULL) {
		fprintf(stderr, PROG ": cannot create the engine: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	tcp_conf_from(&tc, cfg);
	rc = engine_add_ethdev_port(eng, port, &pc);
	if (rc >= 0)
		rc = tcp_engine_enable(eng, &tc);
	if (rc >= 0 && cfg->capture_path[0] != '\0')
		rc = capture_attach(eng, cfg->capture_path);
	if (rc >= 0)
		rc = engine_start(eng);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot start port %u: %s\n", port, strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (role == GEN_ROLE_CLIENT && n > 1) {
		/* Each client shard must receive its own connections' answers:
		 * its source ports are chosen by the port's RSS hash. */
		if (!eng->ports[0].rss || rte_eth_dev_info_get(port, &info) != 0 ||
		    info.reta_size == 0 || info.reta_size > RTE_ETH_RSS_RETA_SIZE_512 ||
		    rte_eth_dev_rss_hash_conf_get(port, &rss) != 0 || rss.rss_key_len < 40) {
			fprintf(stderr, PROG ": port %u has no RSS to steer answers to %u client shards: run one lcore (or --shards 1)\n",
				port, n);
			rc = 2;
			goto out;
		}
		memset(reta_conf, 0, sizeof(reta_conf));
		for (unsigned i = 0; i < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; i++)
			reta_conf[i].mask = UINT64_MAX;
		if (rte_eth_dev_rss_reta_query(port, reta_conf, info.reta_size) != 0) {
			fprintf(stderr, PROG ": port %u: cannot read its RSS table\n", port);
			goto out;
		}
		for (unsigned i = 0; i < info.reta_size; i++)
			reta[i] = reta_conf[i / RTE_ETH_RETA_GROUP_SIZE]
				  .reta[i % RTE_ETH_RETA_GROUP_SIZE];
		use_rss = true;
	}
	ws = calloc(n, sizeof(*ws));
	if (ws == NULL)
		goto out;
	gen_run_clock_init(&clk);
	for (unsigned i = 0; i < n; i++) {
		if (gen_worker_init(&ws[i], role, cfg, eng->shards[i], 0, i, n, msg, &clk) != 0)
			goto out;
		ws[i].default_laddr = cfg->ip.a[0].ip;
		if (use_rss)
			gen_worker_set_rss(&ws[i], key, reta, info.reta_size, (uint16_t)i);
	}
	sd = (struct side){ eng, ws, n, role };
	gen_live_init(&live, stdout, cfg->quiet);
	if (!cfg->quiet) {
		char ipbuf[INET_ADDRSTRLEN];
		struct in_addr a = { .s_addr = pc.addrs[0].ip };

		inet_ntop(AF_INET, &a, ipbuf, sizeof(ipbuf));
		printf(PROG ": %s %s/%u on port %u with %u shard%s\n",
		       role == GEN_ROLE_CLIENT ? "client on" : "serving", ipbuf,
		       pc.addrs[0].prefix, port, n, n > 1 ? "s" : "");
		fflush(stdout);
	}
	for (unsigned i = 1; i < n; i++) {
		if (rte_eal_remote_launch(role == GEN_ROLE_CLIENT ? client_loop : server_loop,
					  &ws[i], eng->shards[i]->lcore) != 0) {
			fprintf(stderr, PROG ": cannot launch lcore %u\n", eng->shards[i]->lcore);
			servers_stop = stop_requested = true;
			n = i;
			sd.nb = n;
			break;
		}
	}
	if (role == GEN_ROLE_CLIENT) {
		while (gen_worker_poll(&ws[0])) {
			if (stop_requested)
				gen_worker_stop(&ws[0]);
			if (ws[0].now_us >= live_check) {
				live_update(&live, &sd, &next_live);
				live_check = ws[0].now_us + 50000;
			}
		}
		secs = ws[0].now_us / 1e6;
		gen_worker_finish(&ws[0]);
	} else {
		uint64_t end = cfg->duration_ms * 1000;

		while (!stop_requested && (end == 0 || ws[0].now_us < end)) {
			gen_worker_poll(&ws[0]);
			if (ws[0].now_us >= live_check) {
				live_update(&live, &sd, &next_live);
				live_check = ws[0].now_us + 50000;
			}
		}
		secs = ws[0].now_us / 1e6;
		servers_stop = true;
		gen_worker_finish(&ws[0]);
	}
	for (unsigned i = 1; i < n; i++) {
		rte_eal_wait_lcore(eng->shards[i]->lcore);
		secs = RTE_MAX(secs, ws[i].now_us / 1e6);
	}
	live_update(&live, &sd, &next_live);
	if (gen_results_init(&total, ws[0].res.timeline_len + 1) != 0)
		goto out;
	side_results(&sd, &total, secs);
	rc = write_outputs(cfg, &total);
	if (!cfg->quiet) {
		gen_results_print(&total, stdout);
		print_counters(eng);
	}
	gen_results_fini(&total);
out:
	if (ws != NULL) {
		for (unsigned i = 0; i < n; i++)
			gen_worker_fini(&ws[i]);
		free(ws);
	}
	report_capture(cfg, capture_detach(eng));
	tcp_engine_disable(eng);
	engine_destroy(eng);
	return rc;
}

/* Two lcores for the embedded run when CPUs 0 and 1 are ours. */
static unsigned
default_lcores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_ISSET(0, &set) && CPU_ISSET(1, &set) ? 2 : 1;
}

int
main(int argc, char **argv)
{
	struct app_args args;
	struct gen_config cfg;
	struct gen_msg req, ans;
	uint8_t *req_file = NULL, *ans_file = NULL;
	uint64_t req_len = 0, ans_len = 0;
	char err[512];
	int rc;

	if (app_split_args(argc, argv, default_lcores(), &args) != 0)
		return 2;
	gen_config_defaults(&cfg);
	rc = gen_config_parse_args(&cfg, args.app_argc, args.app_argv, err, sizeof(err));
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	/* On a port without --mode: serve (answer ARP, ping and TCP). */
	if (!gen_config_given(&cfg, "mode") && !args.eal_defaulted)
		cfg.mode = GEN_MODE_SERVER;
	if (gen_config_validate(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	if (cfg.client.request_file[0] != '\0' &&
	    load_file("request-file", cfg.client.request_file, &req_file, &req_len) != 0)
		return 2;
	if (cfg.server.reply_file[0] != '\0' &&
	    load_file("reply-file", cfg.server.reply_file, &ans_file, &ans_len) != 0) {
		free(req_file);
		return 2;
	}
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)('a' + i % 26);
	if (req_file != NULL)
		req = (struct gen_msg){ req_file, req_len, req_len };
	else
		msg_pattern(&req, cfg.client.bulk ? UINT64_MAX : cfg.client.request_size);
	if (ans_file != NULL)
		ans = (struct gen_msg){ ans_file, ans_len, ans_len };
	else
		msg_pattern(&ans, cfg.server.reply_size);
	if (cfg.mode == GEN_MODE_EMBEDDED && req_file != NULL &&
	    !gen_config_given(&cfg, "request-bytes"))
		cfg.server.request_bytes = req_len;
	if (cfg.mode == GEN_MODE_EMBEDDED && ans_file != NULL &&
	    !gen_config_given(&cfg, "response-size"))
		cfg.client.response_size = ans_len;

	if (rte_eal_init(args.eal_argc, args.eal_argv) < 0) {
		fprintf(stderr, PROG ": EAL initialisation failed (check the EAL options)\n");
		free(req_file);
		free(ans_file);
		return 1;
	}
	engine_telemetry_register();
	app_on_signal(&stop_requested);
	if (cfg.mode == GEN_MODE_EMBEDDED)
		rc = run_embedded(&cfg, &req, &ans);
	else
		rc = run_port(&cfg, cfg.mode == GEN_MODE_CLIENT ? &req : &ans);
	{
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		app_remove_runtime_dir(&args, dir);
	}
	free(req_file);
	free(ans_file);
	return rc;
}
