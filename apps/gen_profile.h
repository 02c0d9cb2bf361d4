/*
 * The run configuration of wskdp-gen, from the command line and from a
 * profile file, through one table of options.
 *
 * Every option is a row of one table (name, section, type, range, default,
 * help, field offset). The command line spells it "--name VALUE" (or
 * "--name=VALUE"; a yes/no option alone means yes); a profile file, in
 * DPDK's rte_cfgfile INI format, spells it "name = VALUE" in the option's
 * section: [common], [client] or [server]; '#' starts a comment. Both go
 * through the same parser into the same struct gen_config, so every option
 * exists in both forms and a bad value gets the same message naming the
 * option and what it accepts:
 *   --rate: '0' is not a number between 1 and 10000000
 *   prof.ini: [client] rate: '0' is not a number between 1 and 10000000
 *
 * Value types:
 *   number    decimal, within the option's range
 *   size      bytes, with an optional K, M or G suffix (powers of 1024)
 *   duration  a whole number with an ms, s, m or h suffix; seconds if none
 *   addresses comma-separated IPv4 addresses, ranges 10.0.0.1-10.0.0.50
 *             and prefixes 10.0.0.0/24 (hosts only: .1 to .254 there)
 *   ports     a port or a range 1024-65535, within 1..65535
 *   choice    one of the option's words (graceful|abortive)
 *   yes/no    yes, no, true, false, on, off, 1, 0
 *   path      1 to 255 characters
 *   ifaddrs   comma-separated ADDR/PREFIX (prefix 0..32, /32 if none),
 *             up to GEN_MAX_IFADDRS
 *   ipv4      one IPv4 address, not 0.0.0.0
 *   mac       a unicast MAC address xx:xx:xx:xx:xx:xx, not all zero
 *
 * Use: gen_config_defaults(), then gen_config_parse_args() (which loads a
 * --profile where it appears, so later options override the file), or
 * gen_config_load_file() and gen_config_set() one by one, then
 * gen_config_validate() for what no single option can check and to resolve
 * the choices that depend on several options.
 *
 * Errors are returned as -EINVAL (or -ENOENT/-EIO for a profile that cannot
 * be read) with one line of text in the caller's buffer, without the
 * program name or newline.
 */
#ifndef WSKDP_GEN_PROFILE_H
#define WSKDP_GEN_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_MAX_ADDR_RANGES 8
#define GEN_MAX_IFADDRS 64	/* the engine's WSKDP_PORT_MAX_ADDRS */
#define GEN_PATH_LEN 256	/* a path holds up to GEN_PATH_LEN - 1 chars */
/* Defaults that depend on the mode (applied by gen_config_validate). */
#define GEN_EMBEDDED_DURATION_MS 3000

enum gen_mode {
	GEN_MODE_EMBEDDED,	/* client and server shards over net_ring */
	GEN_MODE_CLIENT,
	GEN_MODE_SERVER,
};

enum gen_close {
	GEN_CLOSE_GRACEFUL,	/* FIN */
	GEN_CLOSE_ABORTIVE,	/* RST */
};

/* How the client loads the servers (resolved by gen_config_validate). */
enum gen_load {
	GEN_LOAD_CONCURRENCY,	/* keep client.concurrency connections open */
	GEN_LOAD_RATE,		/* open client.rate_cps connections a second */
};

/* When the run ends (resolved by gen_config_validate). */
enum gen_stop {
	GEN_STOP_DURATION,	/* after duration_ms; 0: at SIGINT/SIGTERM */
	GEN_STOP_CONNECTIONS,	/* after client.connections completed or failed */
};

/* Inclusive, host byte order. */
struct gen_addr_range {
	uint32_t first;
	uint32_t last;
};

struct gen_addr_ranges {
	unsigned n;
	struct gen_addr_range r[GEN_MAX_ADDR_RANGES];
};

struct gen_port_range {
	uint16_t first;
	uint16_t last;
};

/* An address of the port with its prefix, host byte order. */
struct gen_ifaddr {
	uint32_t ip;
	uint8_t prefix;
};

struct gen_ifaddrs {
	unsigned n;
	struct gen_ifaddr a[GEN_MAX_IFADDRS];
};

struct gen_config {
	/* [common] */
	enum gen_mode mode;
	uint64_t duration_ms;
	uint64_t shards;
	bool tfo;		/* client: data in the SYN; server: accept it */
	bool quiet;
	bool verify_checksums;	/* embedded: check sums on the in-memory link */
	bool zero_copy;		/* send messages from registered memory */
	char json_path[GEN_PATH_LEN];	/* "" when not given */
	char csv_path[GEN_PATH_LEN];
	char capture_path[GEN_PATH_LEN];
	uint64_t time_wait_ms;	/* TCP TIME_WAIT length */
	uint64_t min_rto_ms;	/* TCP's lower bound on the retransmission timeout */
	uint64_t max_conns;	/* TCP connections per shard, TIME_WAIT included */

	/* [common]: the port (not in embedded mode, which makes its own) */
	struct gen_ifaddrs ip;
	uint32_t gateway;	/* host order; 0: none */
	uint64_t mtu;
	uint64_t vlan;		/* 0: untagged */
	uint8_t mac[6];		/* used when given */
	uint64_t port;		/* DPDK port id */

	/* [client] */
	struct {
		struct gen_addr_ranges local_addrs;	/* n == 0: the port's */
		struct gen_port_range local_ports;
		struct gen_addr_ranges servers;
		struct gen_port_range server_ports;
		uint64_t rate_cps;
		uint64_t concurrency;
		uint64_t connections;
		uint64_t request_size;
		char request_file[GEN_PATH_LEN];
		uint64_t response_size;		/* expected */
		bool until_close;		/* read until the server closes */
		enum gen_close close;
		uint64_t requests_per_connection;	/* keep-alive */
		bool bulk;
	} client;

	/* [server] */
	struct {
		struct gen_port_range listen_ports;
		uint64_t request_bytes;	/* a request is this many bytes */
		uint64_t reply_size;
		char reply_file[GEN_PATH_LEN];
		bool close_first;
	} server;

	/* Resolved by gen_config_validate. */
	enum gen_load load;
	enum gen_stop stop;

	/* Bit i: option i of the table was given (not defaulted). */
	uint64_t given;
};

/* Fill cfg with every option's default (as listed by gen_config_usage),
 * nothing given. Cannot fail. */
void gen_config_defaults(struct gen_config *cfg);

/* Set option 'name' (without the leading "--") from the text 'value'.
 * value may be NULL for a yes/no option (meaning yes). Returns 0, or
 * -EINVAL with err holding "--name: 'VALUE' is not ...", "--name needs a
 * value" or "unknown option '--name'". cfg is unchanged on error. */
int gen_config_set(struct gen_config *cfg, const char *name, const char *value,
		   char *err, size_t errlen);

/* Set every option of the profile file at 'path', as gen_config_set would.
 * Returns 0; -ENOENT or -EIO when the file cannot be opened or is not INI
 * ("PATH: reason"); -EINVAL for a line that is neither "[section]" nor
 * "name = value" ("PATH:LINE: ..."), an unknown section, an option outside
 * its section, an option given twice or a bad value ("PATH: [section]
 * name: ..."). On error cfg may hold the options set before the bad one. */
int gen_config_load_file(struct gen_config *cfg, const char *path,
			 char *err, size_t errlen);

/* Parse app options argv[1 .. argc): "--name VALUE", "--name=VALUE", a
 * yes/no option alone, "--profile FILE" (loaded where it appears) and
 * "--help". Returns 0, 1 when --help was given (nothing after it is
 * parsed), or a negative errno with err set as by gen_config_set and
 * gen_config_load_file, or "unexpected argument 'X'". */
int gen_config_parse_args(struct gen_config *cfg, int argc, char **argv,
			  char *err, size_t errlen);

/* Whether option 'name' was given (on the command line or in a profile).
 * False for an unknown name. */
bool gen_config_given(const struct gen_config *cfg, const char *name);

/* Check what no single option can (rate or concurrency, not both;
 * duration or connections, not both; client mode needs servers; options
 * of the other mode; enough address/port pairs for the concurrency; ...)
 * and resolve cfg->load, cfg->stop and the mode-dependent defaults (the
 * embedded run lasts GEN_EMBEDDED_DURATION_MS and its server replies what
 * the client expects unless told otherwise). Returns 0 or -EINVAL with one
 * line in err. */
int gen_config_validate(struct gen_config *cfg, char *err, size_t errlen);

/* Print the options, by section, with their values, ranges, defaults and
 * help, generated from the table. Cannot fail. */
void gen_config_usage(FILE *f);

/* The number of addresses in ranges (0 when empty). */
uint64_t gen_addr_ranges_count(const struct gen_addr_ranges *ranges);

#endif
