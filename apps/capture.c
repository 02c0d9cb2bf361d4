/*
 * Packet capture: a port_ops wrapper writing a pcap (see capture.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_spinlock.h>

#include "capture.h"
#include "engine.h"

/* Frames one tx wrapper call copies before handing them to the port; a
 * longer burst is sent in pieces of this size. */
#define CAPTURE_TX_CHUNK 64

/* Copies of the frames of one tx call, per queue (one queue per shard, so
 * shards never share one). */
struct capture_stage {
	uint32_t len[CAPTURE_TX_CHUNK];	/* original frame lengths */
	uint32_t caplen[CAPTURE_TX_CHUNK];
	uint64_t ts_ns[CAPTURE_TX_CHUNK];
	uint8_t data[CAPTURE_TX_CHUNK][CAPTURE_SNAPLEN];
};

struct capture {
	struct engine *eng;
	const struct port_ops *orig[WSKDP_MAX_PORTS];
	uint16_t nb_ports;
	pcap_t *dead;
	pcap_dumper_t *dumper;
	rte_spinlock_t lock;		/* one writer of the file at a time */
	_Atomic uint64_t frames;
	uint64_t base_ns;		/* wall clock at base_tsc */
	uint64_t base_tsc;
	uint64_t tsc_hz;
	struct capture_stage *stage[WSKDP_MAX_SHARDS];
	uint8_t rx_buf[WSKDP_MAX_SHARDS][CAPTURE_SNAPLEN];
};

/* The captures in use. Written only by attach/detach, with no shard
 * polling, so the wrappers read it without a lock. */
static struct capture *captures[CAPTURE_MAX_ENGINES];

static uint16_t cap_rx(struct port *p, uint16_t queue, struct rte_mbuf **pkts,
		       uint16_t n);
static uint16_t cap_tx(struct port *p, uint16_t queue, struct rte_mbuf **pkts,
		       uint16_t n);

static const struct port_ops capture_ops = {
	.rx_burst = cap_rx,
	.tx_burst = cap_tx,
};

/* The capture a port belongs to: ports live inside their engine's struct,
 * so a range check finds it. A handful of compares per burst. */
static struct capture *
capture_of(const struct port *p, uint16_t *index)
{
	for (unsigned i = 0; i < CAPTURE_MAX_ENGINES; i++) {
		struct capture *c = captures[i];

		if (c != NULL && p >= &c->eng->ports[0] &&
		    p < &c->eng->ports[c->nb_ports]) {
			*index = (uint16_t)(p - &c->eng->ports[0]);
			return c;
		}
	}
	return NULL;
}

static uint64_t
capture_now_ns(const struct capture *c)
{
	uint64_t d = rte_rdtsc() - c->base_tsc;

	/* Split so that the product does not overflow for long runs. */
	return c->base_ns + (d / c->tsc_hz) * 1000000000ull +
	       (d % c->tsc_hz) * 1000000000ull / c->tsc_hz;
}

/* Copy a frame (possibly segmented) into buf; returns the bytes copied. */
static uint32_t
capture_copy(const struct rte_mbuf *m, uint8_t *buf)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t caplen = len < CAPTURE_SNAPLEN ? len : CAPTURE_SNAPLEN;
	const void *d = rte_pktmbuf_read(m, 0, caplen, buf);

	if (d == NULL)
		return 0;
	if (d != buf)
		memcpy(buf, d, caplen);
	port_mem_link_finish_cksums(m, buf, caplen);
	return caplen;
}

/* Append one record; the caller holds c->lock. */
static void
capture_write(struct capture *c, uint64_t ts_ns, const uint8_t *data,
	      uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
	/* The dumper was opened with nanosecond precision: this field holds
	 * nanoseconds. */
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull);
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)c->dumper, &h, data);
}

static uint16_t
cap_rx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t index = 0;
	struct capture *c = capture_of(p, &index);
	uint16_t got;
	uint64_t ts;

	if (c == NULL)
		return 0;
	got = c->orig[index]->rx_burst(p, queue, pkts, n);
	if (got == 0)
		return 0;
	ts = capture_now_ns(c);
	rte_spinlock_lock(&c->lock);
	for (uint16_t i = 0; i < got; i++) {
		uint8_t *buf = c->rx_buf[queue % WSKDP_MAX_SHARDS];
		uint32_t caplen = capture_copy(pkts[i], buf);

		capture_write(c, ts, buf, caplen, rte_pktmbuf_pkt_len(pkts[i]));
	}
	rte_spinlock_unlock(&c->lock);
	atomic_fetch_add_explicit(&c->frames, got, memory_order_relaxed);
	return got;
}

static uint16_t
cap_tx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t index = 0;
	struct capture *c = capture_of(p, &index);
	struct capture_stage *st;
	uint16_t done = 0;

	if (c == NULL)
		return 0;
	st = c->stage[queue % WSKDP_MAX_SHARDS];
	while (done < n) {
		uint16_t k = n - done < CAPTURE_TX_CHUNK ? n - done : CAPTURE_TX_CHUNK;
		uint64_t ts = capture_now_ns(c);
		uint16_t taken;

		/* Copy first: once the port has a frame it may be sent and
		 * freed (a ring port's peer may even be reading it). */
		for (uint16_t i = 0; i < k; i++) {
			st->len[i] = rte_pktmbuf_pkt_len(pkts[done + i]);
			st->caplen[i] = capture_copy(pkts[done + i], st->data[i]);
			st->ts_ns[i] = ts;
		}
		taken = c->orig[index]->tx_burst(p, queue, pkts + done, k);
		rte_spinlock_lock(&c->lock);
		for (uint16_t i = 0; i < taken; i++)
			capture_write(c, st->ts_ns[i], st->data[i], st->caplen[i],
				      st->len[i]);
		rte_spinlock_unlock(&c->lock);
		atomic_fetch_add_explicit(&c->frames, taken, memory_order_relaxed);
		done += taken;
		if (taken < k)
			break;
	}
	return done;
}

static void
capture_free(struct capture *c)
{
	if (c == NULL)
		return;
	for (unsigned q = 0; q < WSKDP_MAX_SHARDS; q++)
		rte_free(c->stage[q]);
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	if (c->dead != NULL)
		pcap_close(c->dead);
	rte_free(c);
}

int
capture_attach(struct engine *eng, const char *path)
{
	struct capture *c;
	struct timespec now;
	int slot = -1;

	if (eng == NULL || path == NULL || eng->nb_ports == 0)
		return -EINVAL;
	for (int i = 0; i < CAPTURE_MAX_ENGINES; i++) {
		if (captures[i] != NULL && captures[i]->eng == eng)
			return -EEXIST;
		if (captures[i] == NULL && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOSPC;
	c = rte_zmalloc("capture", sizeof(*c), 0);
	if (c == NULL)
		return -ENOMEM;
	c->eng = eng;
	c->nb_ports = eng->nb_ports;
	rte_spinlock_init(&c->lock);
	for (unsigned q = 0; q < eng->nb_shards && q < WSKDP_MAX_SHARDS; q++) {
		c->stage[q] = rte_malloc("capture_stage", sizeof(*c->stage[q]), 0);
		if (c->stage[q] == NULL) {
			capture_free(c);
			return -ENOMEM;
		}
	}
	c->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
			CAPTURE_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (c->dead == NULL) {
		capture_free(c);
		return -ENOMEM;
	}
	c->dumper = pcap_dump_open(c->dead, path);
	if (c->dumper == NULL) {
		fprintf(stderr, "capture: cannot write %s: %s\n", path,
			pcap_geterr(c->dead));
		capture_free(c);
		return -EIO;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	c->base_tsc = rte_rdtsc();
	c->base_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	c->tsc_hz = rte_get_tsc_hz();
	for (uint16_t i = 0; i < c->nb_ports; i++) {
		c->orig[i] = eng->ports[i].ops;
		eng->ports[i].ops = &capture_ops;
	}
	captures[slot] = c;
	return 0;
}

uint64_t
capture_detach(struct engine *eng)
{
	uint64_t frames;

	for (int i = 0; i < CAPTURE_MAX_ENGINES; i++) {
		struct capture *c = captures[i];

		if (c == NULL || c->eng != eng)
			continue;
		for (uint16_t p = 0; p < c->nb_ports; p++)
			eng->ports[p].ops = c->orig[p];
		captures[i] = NULL;
		frames = atomic_load(&c->frames);
		pcap_dump_flush(c->dumper);
		capture_free(c);
		return frames;
	}
	return 0;
}

uint64_t
capture_frames(const struct engine *eng)
{
	for (int i = 0; i < CAPTURE_MAX_ENGINES; i++)
		if (captures[i] != NULL && captures[i]->eng == eng)
			return atomic_load_explicit(&captures[i]->frames,
						    memory_order_relaxed);
	return 0;
}

int
capture_pdump_init(void)
{
	if (rte_pdump_init() != 0)
		return rte_errno != 0 ? -rte_errno : -ENOTSUP;
	return 0;
}

void
capture_pdump_uninit(void)
{
	rte_pdump_uninit();
}
