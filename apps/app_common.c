#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "app_common.h"
#include "engine.h"
#include "tcp.h"

/* Free 2 MB hugepages in the system pool (0 when unknown). */
static unsigned long
hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

int
app_split_args(int argc, char **argv, unsigned lcores, struct app_args *out)
{
	static char prefix[64], lcore_list[32], mem[16];
	int sep = -1;

	memset(out, 0, sizeof(*out));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	out->eal_argv[out->eal_argc++] = argv[0];
	if (sep > 1) {
		if (sep > APP_MAX_ARGS - 1) {
			fprintf(stderr, "%s: too many EAL options\n", argv[0]);
			return -1;
		}
		for (int i = 1; i < sep; i++)
			out->eal_argv[out->eal_argc++] = argv[i];
	} else {
		/* The program's own defaults: enough for the embedded run. */
		out->eal_defaulted = true;
		snprintf(prefix, sizeof(prefix), "--file-prefix=wskdp%d", (int)getpid());
		snprintf(lcore_list, sizeof(lcore_list), "-l0-%u", lcores ? lcores - 1 : 0);
		if (hugepages_free() >= 256) {
			snprintf(mem, sizeof(mem), "-m512");
			out->eal_argv[out->eal_argc++] = "--in-memory";
		} else {
			snprintf(mem, sizeof(mem), "-m512");
			out->eal_argv[out->eal_argc++] = "--no-huge";
		}
		out->eal_argv[out->eal_argc++] = mem;
		out->eal_argv[out->eal_argc++] = "--no-pci";
		out->eal_argv[out->eal_argc++] = prefix;
		out->eal_argv[out->eal_argc++] = lcore_list;
		out->eal_argv[out->eal_argc++] = "--log-level=lib.eal:error";
	}
	if (sep >= 0) {
		out->app_argc = argc - sep;
		out->app_argv = argv + sep;	/* "--" stands in for argv[0] */
	} else if (sep < 0 && argc > 1) {
		/* No "--": everything is an app option (DPDK's convention
		 * needs "--", but a user who gives none means the app). */
		out->app_argc = argc;
		out->app_argv = argv;
	} else {
		out->app_argc = 1;
		out->app_argv = argv;
	}
	return 0;
}

int
app_parse_u64(const char *prog, const char *name, const char *value,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (value == NULL || value[0] == '\0' || value[0] == '-')
		goto bad;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "%s: --%s: '%s' is not a number between %" PRIu64
		" and %" PRIu64 "\n", prog, name, value ? value : "", min, max);
	return -1;
}

int
app_ring_pair(const char *name, unsigned queues, uint16_t *a, uint16_t *b)
{
	struct rte_ring *ab[16], *ba[16];
	char n[64];
	int pa, pb;

	if (queues == 0 || queues > 16)
		return -1;
	for (unsigned q = 0; q < queues; q++) {
		snprintf(n, sizeof(n), "%s_ab%u", name, q);
		ab[q] = rte_ring_create(n, 4096, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(n, sizeof(n), "%s_ba%u", name, q);
		ba[q] = rte_ring_create(n, 4096, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (ab[q] == NULL || ba[q] == NULL)
			return -1;
	}
	snprintf(n, sizeof(n), "%s_a", name);
	pa = rte_eth_from_rings(n, ba, queues, ab, queues, SOCKET_ID_ANY);
	snprintf(n, sizeof(n), "%s_b", name);
	pb = rte_eth_from_rings(n, ab, queues, ba, queues, SOCKET_ID_ANY);
	if (pa < 0 || pb < 0)
		return -1;
	*a = (uint16_t)pa;
	*b = (uint16_t)pb;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
app_remove_runtime_dir(const struct app_args *a, const char *dir)
{
	if (!a->eal_defaulted || dir == NULL || strstr(dir, "/wskdp") == NULL)
		return;
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static volatile bool *signal_flag;

static void
on_signal(int sig)
{
	(void)sig;
	if (signal_flag != NULL)
		*signal_flag = true;
}

void
app_on_signal(volatile bool *flag)
{
	struct sigaction sa;

	signal_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct engine *
app_engine_open(const char *prog, const char *name, uint16_t ethdev,
		const struct port_conf *pc, const struct tcp_conf *tc)
{
	struct engine_conf ec;
	struct engine *eng;
	int rc;

	engine_conf_init(&ec, name);
	ec.lcores[0] = rte_lcore_id();
	eng = engine_create(&ec);
	if (eng == NULL) {
		fprintf(stderr, "%s: cannot create engine %s: %s\n", prog, name,
			rte_strerror(rte_errno));
		return NULL;
	}
	rc = tcp_engine_enable(eng, tc);
	if (rc == 0)
		rc = engine_add_ethdev_port(eng, ethdev, pc);
	if (rc >= 0)
		rc = engine_start(eng);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start engine %s on port %u: %s\n",
			prog, name, ethdev, strerror(-rc));
		tcp_engine_disable(eng);
		engine_destroy(eng);
		return NULL;
	}
	return eng;
}

void
app_engine_close(struct engine *eng)
{
	if (eng == NULL)
		return;
	tcp_engine_disable(eng);
	engine_destroy(eng);
}
