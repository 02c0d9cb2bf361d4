#include <string.h>
#include <check.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_options.h"
#include "wire_log.h"

static bool
wire_log_filter(void *arg, const struct rte_mbuf *m)
{
	const struct wire_log_side *side = arg;
	struct wire_log *w = side->log;
	uint8_t buf[14 + 60 + 60];
	const uint8_t *f;
	const struct rte_ipv4_hdr *ih;
	const struct rte_tcp_hdr *th;
	struct wire_frame *x;
	unsigned ihl, doff, need;

	f = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len, (uint32_t)sizeof(buf)),
			     buf);
	if (m->pkt_len < 14 + 20 + 20 ||
	    ((const struct rte_ether_hdr *)f)->ether_type !=
	    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return false;
	ih = (const struct rte_ipv4_hdr *)(f + 14);
	if (ih->next_proto_id != IPPROTO_TCP)
		return false;
	ihl = rte_ipv4_hdr_len(ih);
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ih + ihl);
	doff = (unsigned)(th->data_off >> 4) * 4;
	need = 14 + ihl + doff;
	ck_assert_uint_le(need, m->pkt_len);
	ck_assert_uint_le(need, sizeof(buf));
	if (w->n == WIRE_LOG_MAX) {
		w->overflow++;
		return false;
	}
	x = &w->f[w->n++];
	memset(x, 0, sizeof(*x));
	x->from_b = side->b;
	x->flags = th->tcp_flags;
	x->win = rte_be_to_cpu_16(th->rx_win);
	x->seq = rte_be_to_cpu_32(th->sent_seq);
	x->ack = rte_be_to_cpu_32(th->recv_ack);
	x->len = rte_be_to_cpu_16(ih->total_length) - ihl - doff;
	x->olen = (uint8_t)(doff - 20);
	x->sport = rte_be_to_cpu_16(th->src_port);
	x->dport = rte_be_to_cpu_16(th->dst_port);
	if (th->tcp_flags & RTE_TCP_SYN_FLAG) {
		struct tcp_opts o;

		ck_assert_int_eq(tcp_options_parse((const uint8_t *)(th + 1),
						   doff - 20, true, &o),
				 TCP_OPT_OK);
		if (o.present & TCP_OPT_HAS_MSS)
			x->mss = o.mss;
	}
	x->dropped = w->drop != NULL && w->drop(x);
	return x->dropped;
}

void
wire_log_start(struct wire_log *w, struct fake_port *a, struct fake_port *b)
{
	w->n = 0;
	w->overflow = 0;
	w->drop = NULL;
	w->side[0] = (struct wire_log_side){ .log = w, .b = false };
	w->side[1] = (struct wire_log_side){ .log = w, .b = true };
	a->wire_filter = wire_log_filter;
	a->wire_filter_arg = &w->side[0];
	b->wire_filter = wire_log_filter;
	b->wire_filter_arg = &w->side[1];
}

void
wire_log_stop(struct fake_port *a, struct fake_port *b)
{
	a->wire_filter = NULL;
	a->wire_filter_arg = NULL;
	b->wire_filter = NULL;
	b->wire_filter_arg = NULL;
}
