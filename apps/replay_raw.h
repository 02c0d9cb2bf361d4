/*
 * Raw replay: a capture's frames sent out of a DPDK port as they are, like
 * tcpreplay, with no TCP state.
 *
 * Model. replay_raw_load() reads every record of an Ethernet pcap or pcapng
 * into memory (stopping, with the file offset, at a truncated or corrupt
 * record, and keeping what came before). replay_raw_run() sends the frames
 * in order, 'loop' times, at one of three paces: the recorded gaps divided
 * by 'speed', a fixed rate in frames per second, or as fast as the port
 * takes them (a frame the port refuses is offered again, never dropped).
 * Each frame is copied into an mbuf and optionally rewritten: source and
 * destination MAC, and IPv4 addresses (source or destination equal to an
 * old address become the new one), after which the IPv4 header checksum
 * and, for a whole unfragmented TCP or UDP packet, the L4 checksum are
 * computed again (rte_ipv4_cksum(), rte_ipv4_udptcp_cksum()). Without a
 * rewrite the bytes are untouched, so a net_pcap port writes back the
 * capture's frames exactly. A record cut by the capture's snap length is
 * sent as captured (its captured bytes only).
 *
 * The port is configured by replay_raw_run() itself (one rx and one tx
 * queue) and stopped afterwards. Runs on the calling thread.
 */
#ifndef WSKDP_REPLAY_RAW_H
#define WSKDP_REPLAY_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_ether.h>

#define REPLAY_RAW_MAX_IP_RULES 16

enum replay_raw_pace {
	REPLAY_RAW_RECORDED,	/* recorded gaps / speed */
	REPLAY_RAW_PPS,		/* fixed frames per second */
	REPLAY_RAW_TOPSPEED,	/* as fast as the port takes them */
};

struct replay_raw_conf {
	uint16_t port_id;		/* DPDK port */
	enum replay_raw_pace pace;
	double speed;			/* REPLAY_RAW_RECORDED, > 0 */
	uint64_t pps;			/* REPLAY_RAW_PPS, > 0 */
	uint32_t loop;			/* times through the capture, >= 1 */
	bool rewrite_mac;
	struct rte_ether_addr mac_src, mac_dst;
	struct {
		uint32_t old_addr, new_addr;	/* network order */
	} ip_rules[REPLAY_RAW_MAX_IP_RULES];
	uint32_t nb_ip_rules;
	volatile bool *stop;		/* set to stop early; may be NULL */
	/* --capture: a pcap_dumper_t * (libpcap) that receives every frame
	 * the port took, as sent (after rewrites); NULL for none. */
	void *capture;
};

struct replay_raw_report {
	uint64_t frames;		/* frames sent (all loops) */
	uint64_t bytes;			/* their bytes (Ethernet header to end) */
	uint64_t rewritten;		/* frames changed by an IP rule */
	uint64_t captured;		/* frames written to conf->capture */
	uint64_t duration_ns;		/* first frame offered to last taken */
	double pps;
	double gbps;			/* bytes * 8 / duration (no preamble, FCS) */
};

struct replay_raw_capture;

/*
 * Read the capture at 'path'.
 * @return the frames; NULL with a message in err (cannot open, not
 *         Ethernet, no memory). A damaged file is not an error: see
 *         replay_raw_truncated().
 */
struct replay_raw_capture *replay_raw_load(const char *path, char *err,
					   size_t errlen);

/* Frames loaded. */
uint64_t replay_raw_frames(const struct replay_raw_capture *rc);

/* True when reading stopped early; *offset receives the file offset of the
 * record that could not be read and *reason libpcap's message. */
bool replay_raw_truncated(const struct replay_raw_capture *rc, uint64_t *offset,
			  const char **reason);

/* Free; NULL is ignored. */
void replay_raw_free(struct replay_raw_capture *rc);

/*
 * Send the frames (see the model above).
 * @return 0 with *report filled; -1 with a message in err (port cannot be
 *         configured or started, no mbuf pool).
 */
int replay_raw_run(const struct replay_raw_capture *rc,
		   const struct replay_raw_conf *conf,
		   struct replay_raw_report *report, char *err, size_t errlen);

#endif
