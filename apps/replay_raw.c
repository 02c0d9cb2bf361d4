/*
 * Raw replay (see replay_raw.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "replay_raw.h"

#define RAW_BURST 32
#define RAW_POOL_MBUFS 8191
#define RAW_RING 1024

struct raw_frame {
	uint64_t ts_ns;
	uint32_t caplen;
	uint64_t off;			/* into data */
};

struct replay_raw_capture {
	struct raw_frame *frames;
	uint64_t count;
	uint8_t *data;
	uint64_t data_len;
	bool truncated;
	uint64_t truncated_offset;
	char reason[PCAP_ERRBUF_SIZE + 64];
};

uint64_t
replay_raw_frames(const struct replay_raw_capture *rc)
{
	return rc->count;
}

bool
replay_raw_truncated(const struct replay_raw_capture *rc, uint64_t *offset,
		     const char **reason)
{
	if (rc->truncated) {
		*offset = rc->truncated_offset;
		*reason = rc->reason;
	}
	return rc->truncated;
}

void
replay_raw_free(struct replay_raw_capture *rc)
{
	if (rc == NULL)
		return;
	free(rc->frames);
	free(rc->data);
	free(rc);
}

/* Grow an array to hold at least 'need' elements of 'size' bytes. */
static int
grow(void **v, uint64_t *cap, uint64_t need, size_t size)
{
	void *g;
	uint64_t c = *cap ? *cap : 256;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	g = realloc(*v, c * size);
	if (g == NULL)
		return -1;
	*v = g;
	*cap = c;
	return 0;
}

struct replay_raw_capture *
replay_raw_load(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct replay_raw_capture *rc;
	uint64_t frame_cap = 0, data_cap = 0;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;
	int r;

	p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (p == NULL) {
		snprintf(err, errlen, "%s", ebuf);
		return NULL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "%s: link type %s: raw replay sends Ethernet frames only",
			 path, pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		return NULL;
	}
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		goto nomem;
	for (;;) {
		/* libpcap reads the file with stdio, record by record: the
		 * position now is where the next record starts. */
		long pos = ftell(pcap_file(p));

		r = pcap_next_ex(p, &h, &d);
		if (r == -2)
			break;
		if (r != 1) {
			rc->truncated = true;
			rc->truncated_offset = pos < 0 ? 0 : (uint64_t)pos;
			snprintf(rc->reason, sizeof(rc->reason), "%s", pcap_geterr(p));
			break;
		}
		if (grow((void **)&rc->frames, &frame_cap, rc->count + 1,
			 sizeof(*rc->frames)) != 0 ||
		    grow((void **)&rc->data, &data_cap, rc->data_len + h->caplen, 1) != 0)
			goto nomem;
		rc->frames[rc->count] = (struct raw_frame){
			.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
				 (uint64_t)h->ts.tv_usec,
			.caplen = h->caplen,
			.off = rc->data_len,
		};
		memcpy(rc->data + rc->data_len, d, h->caplen);
		rc->data_len += h->caplen;
		rc->count++;
	}
	pcap_close(p);
	return rc;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	pcap_close(p);
	replay_raw_free(rc);
	return NULL;
}

/* Apply the IPv4 rules; true when the frame changed. */
static bool
rewrite_ip(const struct replay_raw_conf *c, uint8_t *f, uint32_t len)
{
	uint32_t l3 = RTE_ETHER_HDR_LEN;
	uint16_t type;
	struct rte_ipv4_hdr *ip;
	uint32_t ihl, total;
	bool changed = false;

	if (len < l3)
		return false;
	type = rte_be_to_cpu_16(((struct rte_ether_hdr *)f)->ether_type);
	while ((type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) &&
	       len >= l3 + 4) {
		type = rte_be_to_cpu_16(*(rte_be16_t *)(f + l3 + 2));
		l3 += 4;
	}
	if (type != RTE_ETHER_TYPE_IPV4 || len < l3 + sizeof(*ip))
		return false;
	ip = (struct rte_ipv4_hdr *)(f + l3);
	ihl = (ip->version_ihl & 0xf) * 4u;
	total = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || len < l3 + ihl)
		return false;
	for (uint32_t i = 0; i < c->nb_ip_rules; i++) {
		if (ip->src_addr == c->ip_rules[i].old_addr) {
			ip->src_addr = c->ip_rules[i].new_addr;
			changed = true;
			break;
		}
	}
	for (uint32_t i = 0; i < c->nb_ip_rules; i++) {
		if (ip->dst_addr == c->ip_rules[i].old_addr) {
			ip->dst_addr = c->ip_rules[i].new_addr;
			changed = true;
			break;
		}
	}
	if (!changed)
		return false;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* The L4 checksum covers the pseudo-header: only a whole, first-and-
	 * only fragment can be summed again. */
	if (len >= l3 + total && total >= ihl &&
	    (rte_be_to_cpu_16(ip->fragment_offset) &
	     (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0) {
		uint8_t *l4 = f + l3 + ihl;
		uint32_t l4len = total - ihl;

		if (ip->next_proto_id == IPPROTO_TCP && l4len >= sizeof(struct rte_tcp_hdr)) {
			struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)l4;

			t->cksum = 0;
			t->cksum = rte_ipv4_udptcp_cksum(ip, t);
		} else if (ip->next_proto_id == IPPROTO_UDP &&
			   l4len >= sizeof(struct rte_udp_hdr)) {
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

			/* Zero means "no checksum" in UDP over IPv4: keep it. */
			if (u->dgram_cksum != 0) {
				u->dgram_cksum = 0;
				u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
			}
		}
	}
	return true;
}

static int
raw_port_start(uint16_t port, struct rte_mempool *mp, char *err, size_t errlen)
{
	struct rte_eth_conf ec;
	int rc;

	memset(&ec, 0, sizeof(ec));
	rc = rte_eth_dev_configure(port, 1, 1, &ec);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, RAW_RING,
					    rte_eth_dev_socket_id(port), NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, RAW_RING,
					    rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start DPDK port %u: %s", port,
			 strerror(-rc));
		return -1;
	}
	return 0;
}

/* Write one frame the port took to the --capture file, stamped with the
 * wall clock (this is a diagnostic path: a syscall now and then is fine). */
static void
raw_capture_write(const struct replay_raw_conf *conf,
		  struct replay_raw_report *report, const struct rte_mbuf *m)
{
	static uint8_t frame[UINT16_MAX];
	struct pcap_pkthdr h;
	struct timespec ts;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *d = rte_pktmbuf_read(m, 0, len, frame);

	if (d == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.caplen = h.len = len;
	pcap_dump(conf->capture, &h, d);
	report->captured++;
}

int
replay_raw_run(const struct replay_raw_capture *rc,
	       const struct replay_raw_conf *conf,
	       struct replay_raw_report *report, char *err, size_t errlen)
{
	struct rte_mempool *mp;
	struct rte_mbuf *burst[RAW_BURST];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t t0, last_taken = 0, base_ns, loop_ns, i = 0, total;
	uint32_t nb = 0;
	char name[32];

	memset(report, 0, sizeof(*report));
	if (!rte_eth_dev_is_valid_port(conf->port_id)) {
		snprintf(err, errlen, "DPDK port %u does not exist (%u ports found)",
			 conf->port_id, rte_eth_dev_count_avail());
		return -1;
	}
	snprintf(name, sizeof(name), "raw_pool_%u", conf->port_id);
	mp = rte_pktmbuf_pool_create(name, RAW_POOL_MBUFS, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_eth_dev_socket_id(conf->port_id));
	if (mp == NULL) {
		snprintf(err, errlen, "cannot create the mbuf pool");
		return -1;
	}
	if (raw_port_start(conf->port_id, mp, err, errlen) != 0) {
		rte_mempool_free(mp);
		return -1;
	}
	if (rc->count == 0)
		goto done;
	base_ns = rc->frames[0].ts_ns;
	/* A loop lasts from the first frame to the last, plus one mean gap so
	 * that the next loop's first frame does not land on the last one. */
	loop_ns = rc->frames[rc->count - 1].ts_ns - base_ns;
	if (rc->count > 1)
		loop_ns += loop_ns / (rc->count - 1);
	total = rc->count * conf->loop;
	t0 = rte_rdtsc();
	while (i < total || nb > 0) {
		uint64_t now = rte_rdtsc();
		uint16_t taken;

		if (conf->stop != NULL && *conf->stop)
			break;
		/* Gather what is due into the burst. */
		while (i < total && nb < RAW_BURST) {
			const struct raw_frame *fr = &rc->frames[i % rc->count];
			uint64_t due;
			struct rte_mbuf *m;
			uint8_t *d;

			if (conf->pace == REPLAY_RAW_RECORDED) {
				double ns = ((double)(i / rc->count) * loop_ns +
					     (fr->ts_ns - base_ns)) / conf->speed;

				due = t0 + (uint64_t)(ns * hz / 1e9);
			} else if (conf->pace == REPLAY_RAW_PPS) {
				due = t0 + (uint64_t)((double)i * hz / conf->pps);
			} else {
				due = 0;
			}
			if (due > now)
				break;
			m = rte_pktmbuf_alloc(mp);
			if (m == NULL)
				break;
			d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)fr->caplen);
			if (d == NULL || fr->caplen > UINT16_MAX) {
				/* Longer than an mbuf holds: skip it. */
				rte_pktmbuf_free(m);
				i++;
				continue;
			}
			memcpy(d, rc->data + fr->off, fr->caplen);
			if (conf->rewrite_mac && fr->caplen >= RTE_ETHER_HDR_LEN) {
				struct rte_ether_hdr *eh = (struct rte_ether_hdr *)d;

				eh->src_addr = conf->mac_src;
				eh->dst_addr = conf->mac_dst;
			}
			if (conf->nb_ip_rules > 0 && rewrite_ip(conf, d, fr->caplen))
				report->rewritten++;
			burst[nb++] = m;
			i++;
		}
		if (nb == 0)
			continue;
		/* With --capture, hold a reference across the burst: the port
		 * may free what it took before we get to write it, and only
		 * frames it took belong in the capture. */
		if (conf->capture != NULL)
			for (uint32_t k = 0; k < nb; k++)
				rte_pktmbuf_refcnt_update(burst[k], 1);
		taken = rte_eth_tx_burst(conf->port_id, 0, burst, (uint16_t)nb);
		if (conf->capture != NULL) {
			for (uint32_t k = 0; k < nb; k++) {
				if (k < taken) {
					raw_capture_write(conf, report, burst[k]);
					rte_pktmbuf_free(burst[k]);
				} else {
					rte_pktmbuf_refcnt_update(burst[k], -1);
				}
			}
		}
		for (uint16_t k = 0; k < taken; k++)
			report->bytes += rte_pktmbuf_pkt_len(burst[k]);
		report->frames += taken;
		if (taken > 0)
			last_taken = rte_rdtsc();
		/* Refused frames stay for the next try, in order. */
		memmove(burst, burst + taken, (nb - taken) * sizeof(burst[0]));
		nb -= taken;
	}
	for (uint32_t k = 0; k < nb; k++)
		rte_pktmbuf_free(burst[k]);
	if (last_taken > t0) {
		report->duration_ns = (uint64_t)((double)(last_taken - t0) * 1e9 / hz);
		report->pps = report->frames * 1e9 / report->duration_ns;
		report->gbps = report->bytes * 8.0 / report->duration_ns;
	}
done:
	/* Closing the port also finishes its output (net_pcap closes its
	 * dump file) and gives back every mbuf it held, so the pool can go. */
	rte_eth_dev_stop(conf->port_id);
	rte_eth_dev_close(conf->port_id);
	rte_mempool_free(mp);
	return 0;
}
