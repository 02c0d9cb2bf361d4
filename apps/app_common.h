/*
 * What every wskdp program shares: splitting "[EAL options] -- [app
 * options]", choosing EAL defaults when the user gave none, strict number
 * parsing with messages that name the option and its range, the
 * in-memory net_ring link for self-contained runs, and an engine with TCP
 * on one port.
 */
#ifndef WSKDP_APP_COMMON_H
#define WSKDP_APP_COMMON_H

#include <stdbool.h>
#include <stdint.h>

struct engine;
struct port_conf;
struct tcp_conf;

#define APP_MAX_ARGS 64

struct app_args {
	int eal_argc;
	char *eal_argv[APP_MAX_ARGS];
	int app_argc;
	char **app_argv;	/* app_argv[0] is the program name */
	bool eal_defaulted;	/* the user gave no EAL options */
};

/* Split argv at "--". With no EAL options the program supplies its own:
 * hugepages in memory when enough are free, else --no-huge; always
 * --no-pci (no PCI scan in a VM without a NIC meant for us) and a unique
 * file prefix so several programs can run at once. Returns 0 or -1 (too
 * many arguments, message printed). */
int app_split_args(int argc, char **argv, unsigned lcores, struct app_args *out);

/* Parse an unsigned integer option value in [min, max]; on error print
 * "prog: --name: VALUE is not a number between MIN and MAX" and return -1. */
int app_parse_u64(const char *prog, const char *name, const char *value,
		  uint64_t min, uint64_t max, uint64_t *out);

/* Create a connected pair of net_ring ports (in-memory link), each with
 * 'queues' queues. Returns 0 and the two ethdev ids, or -1. Ring ports have
 * an all-zero MAC that cannot be changed: give each end its own through
 * port_conf.mac. */
int app_ring_pair(const char *name, unsigned queues, uint16_t *a, uint16_t *b);

/* After rte_eal_cleanup(): remove the EAL runtime directory that the
 * program's own default options created (unique per process), so repeated
 * runs leave nothing in /var/run/dpdk. No-op when the user chose the EAL
 * options. 'dir' is rte_eal_get_runtime_dir() copied before cleanup. */
void app_remove_runtime_dir(const struct app_args *a, const char *dir);

/* Install SIGINT/SIGTERM handlers that set *flag. */
void app_on_signal(volatile bool *flag);

/*
 * One engine, one shard on the calling lcore, TCP on with 'tc', and the
 * ethdev 'ethdev' as its port, started. Failures are printed as
 * "PROG: cannot create engine NAME: ..." or "PROG: cannot start engine
 * NAME on port N: ...".
 * @return the engine; NULL on failure (nothing left behind).
 */
struct engine *app_engine_open(const char *prog, const char *name,
			       uint16_t ethdev, const struct port_conf *pc,
			       const struct tcp_conf *tc);

/* TCP off and the engine destroyed. NULL: nothing happens. */
void app_engine_close(struct engine *eng);

#endif
