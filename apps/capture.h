/*
 * Packet capture for the wskdp programs: every frame an engine receives and
 * sends, with its time, into a pcap file that tcpdump and Wireshark read.
 *
 * Model. capture_attach() wraps the port ops of every port the engine has
 * (struct port_ops: one rx and one tx function per burst) with functions
 * that copy each frame into the file and then call the port's own ops, so
 * neither the engine nor the ports know about it. Received frames are
 * written as the port hands them over; frames to send are copied before the
 * port's tx_burst and written only if the port took them, so the file holds
 * exactly what left and what arrived, never frames the port refused.
 *
 * File. Classic pcap, Ethernet link type, nanosecond timestamps from the TSC
 * (anchored to the wall clock at attach), frames cut at CAPTURE_SNAPLEN.
 * Records are buffered by stdio and reach the disk at capture_detach(),
 * which the program must call before it exits.
 *
 * Cost. Capturing is a diagnostic mode: it copies every frame and writes a
 * file (stdio, which makes a system call when its buffer fills), and
 * several shards writing one file take a spinlock per burst. Programs run
 * without it at full speed.
 *
 * DPDK's own capture. capture_pdump_init() starts DPDK's packet-capture
 * server (rte_pdump) so that `dpdk-dumpcap` (or dpdk-pdump) attached as a
 * secondary process can copy the ethdev ports' traffic. It needs the EAL's
 * multi-process support: not with --no-shconf or --in-memory, and
 * dpdk-dumpcap must use the primary's --file-prefix. It sees ethdev ports
 * only, not custom ports.
 */
#ifndef WSKDP_CAPTURE_H
#define WSKDP_CAPTURE_H

#include <stdint.h>

struct engine;

/* Longest frame kept whole; longer ones are cut (the record keeps the
 * original length). Jumbo frames up to 9000 bytes of MTU fit. */
#define CAPTURE_SNAPLEN 10240

/* Most engines that capture at once in one process. */
#define CAPTURE_MAX_ENGINES 8

/*
 * Start writing every frame of every port of 'eng' to the pcap 'path'
 * (created or truncated). Call after the ports are added and before the
 * shards poll (before engine_run() or the first shard_poll()); ports added
 * later are not captured.
 * @return 0; -EINVAL (eng or path NULL, or the engine has no port);
 *         -EEXIST (this engine is captured already); -ENOSPC (more than
 *         CAPTURE_MAX_ENGINES engines capture); -ENOMEM; -EIO (the file
 *         cannot be created; a message naming it is printed).
 */
int capture_attach(struct engine *eng, const char *path);

/*
 * Stop capturing 'eng': restore its ports' ops, write out and close the
 * file. Call with the shards stopped, before engine_destroy(). An engine
 * not captured is ignored.
 * @return the number of frames written (received and sent).
 */
uint64_t capture_detach(struct engine *eng);

/*
 * Frames written so far for 'eng' (0 when not captured). Reads counters
 * the shards update: exact only with the shards stopped.
 */
uint64_t capture_frames(const struct engine *eng);

/*
 * Start DPDK's packet-capture server (rte_pdump_init()) so dpdk-dumpcap
 * can attach. Call once, after rte_eal_init().
 * @return 0; -ENOTSUP (the EAL runs without multi-process support:
 *         --no-shconf or --in-memory); another negative errno from
 *         rte_pdump_init().
 */
int capture_pdump_init(void);

/* Undo capture_pdump_init() before rte_eal_cleanup(); harmless when it
 * was not started. */
void capture_pdump_uninit(void);

#endif
