/*
 * wskdp-scenario internals shared by its three files:
 * scenario_runner.c (the run loop, frame checks, main), scenario_parse.c
 * (the .scn file and its pcaps), scenario_tcp.c (the TCP application
 * model, packetdrill-style sequence rewriting and [expect_tcp] checks).
 * The file format is documented at the top of scenario_runner.c.
 */
#ifndef WSKDP_SCENARIO_H
#define WSKDP_SCENARIO_H
#include <errno.h>
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

int frame_list_add(struct frame_list *fl, uint64_t us, const uint8_t *data, uint32_t len);
void frame_list_free(struct frame_list *fl);
int scenario_load(struct scenario *sc, const char *path);
void app_step(struct run *r);
unsigned check_tcp(const struct scenario *sc, const struct run *r);
void tcp_learn(struct run *r, const uint8_t *d, uint32_t len);
int tcp_rewrite_input(struct run *r, uint8_t *d, uint32_t caplen);
int tcp_start(struct run *r, const struct tcp_spec *t);
void capture(struct run *r);

#endif
