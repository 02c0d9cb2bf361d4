/*
 * Capture → TCP conversations: a pass over the file that parses each packet
 * and files its payload under its flow and side (segments in arrival
 * order), then a pass per flow that picks the client, places every segment
 * in its stream and derives gaps, conflicts and turns. Payload bytes are
 * copied once into an arena while reading, because libpcap reuses its
 * packet buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "replay_flows.h"

/* Link types libpcap may not define on every version. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100	/* pre-802.1ad QinQ, still seen */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Power of two; chains make any flow count work, this only sets speed. */
#define FLOW_BUCKETS 65536u

/* One packet's payload, in arrival order within its flow. */
struct segment {
	int64_t offset;		/* unwrapped sequence offset from the side's first seq */
	uint64_t arena_offset;	/* captured bytes in capture->arena */
	uint64_t timestamp_ns;
	uint32_t captured;	/* payload bytes in the capture */
	uint32_t wire;		/* payload bytes on the wire (>= captured) */
	uint8_t side;		/* 0: the sender of the flow's first packet */
};

/* What one endpoint of a flow did, before client/server is known. */
struct side_state {
	bool have_reference;
	uint32_t last_seq;
	int64_t last_offset;
	bool syn;		/* sent SYN without ACK */
	bool synack;		/* sent SYN with ACK */
	bool syn_data;		/* its SYN (without ACK) carried payload */
	uint32_t isn;
	int64_t isn_offset;
	uint64_t syn_timestamp_ns;
	bool fin;
	uint64_t fin_timestamp_ns;	/* first FIN */
	bool rst;
	uint64_t packets;
	uint64_t data_packets;
};

struct flow {
	struct replay_flow pub;
	/* Side 0 sent the flow's first packet. */
	uint32_t addr[2];
	uint16_t port[2];
	struct side_state side[2];
	struct segment *segments;
	uint32_t segment_count;
	uint32_t segment_capacity;
	uint32_t next_in_bucket;	/* flow index + 1; 0 ends the chain */
	/* Owned arrays the public struct points into. */
	uint8_t *data[2];
	struct replay_gap *gaps[2];
	struct replay_conflict *conflicts[2];
	struct replay_turn *turns;
};

struct replay_capture {
	struct replay_limits limits;
	struct replay_stats stats;
	int link_type;
	struct flow **flows;
	uint32_t flow_count;
	uint32_t flow_capacity;
	uint32_t *buckets;		/* flow index + 1 of the newest flow */
	uint8_t *arena;
	uint64_t arena_used;
	uint64_t arena_capacity;
	uint64_t stream_bytes;		/* all stream buffers, against max_total_bytes */
};

/* A parsed IPv4 TCP packet. */
struct packet {
	uint32_t src_addr, dst_addr;
	uint16_t src_port, dst_port;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *payload;
	uint32_t captured;
	uint32_t wire;
	uint64_t timestamp_ns;
};

static const char *const skip_names[REPLAY_SKIP_MAX] = {
	[REPLAY_SKIP_NOT_IP] = "not_ip",
	[REPLAY_SKIP_IPV6] = "ipv6",
	[REPLAY_SKIP_NOT_TCP] = "not_tcp",
	[REPLAY_SKIP_FRAGMENT] = "fragment",
	[REPLAY_SKIP_SHORT_CAPTURE] = "short_capture",
	[REPLAY_SKIP_BAD_IP_HEADER] = "bad_ip_header",
	[REPLAY_SKIP_BAD_TCP_HEADER] = "bad_tcp_header",
	[REPLAY_SKIP_OUT_OF_RANGE] = "out_of_range",
};

const char *
replay_skip_str(enum replay_skip reason)
{
	if ((unsigned)reason >= REPLAY_SKIP_MAX)
		return "unknown";
	return skip_names[reason];
}

void
replay_limits_default(struct replay_limits *limits)
{
	limits->max_file_bytes = 1ull << 30;
	limits->max_stream_bytes = 256ull << 20;
	limits->max_total_bytes = 2ull << 30;
	limits->max_flows = 1u << 20;
}

static void
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Grow *array (of 'size'-byte elements) so that index 'count' fits.
 * Returns 0, or -1 with the array unchanged when memory ran out. */
static int
grow(void **array, uint32_t *capacity, uint32_t count, size_t size)
{
	uint32_t n;
	void *p;

	if (count < *capacity)
		return 0;
	n = *capacity ? *capacity * 2 : 16;
	p = realloc(*array, (size_t)n * size);
	if (p == NULL)
		return -1;
	*array = p;
	*capacity = n;
	return 0;
}

/*
 * Find where the IP header starts. Returns -1 and *ethertype (the L3
 * protocol) when found, or the skip reason. VLAN tags are peeled whatever
 * link type carries them (SLL keeps them when the kernel did not strip).
 */
static int
find_l3(int link_type, const uint8_t *p, uint32_t caplen, uint32_t *l3,
	uint16_t *ethertype)
{
	uint32_t off;
	uint16_t type;
	int tags;

	switch (link_type) {
	case DLT_RAW:
	case DLT_IPV4:
		if (caplen < 1)
			return REPLAY_SKIP_SHORT_CAPTURE;
		*l3 = 0;
		*ethertype = (p[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
		return -1;
	case DLT_EN10MB:
		if (caplen < 14)
			return REPLAY_SKIP_SHORT_CAPTURE;
		type = get_be16(p + 12);
		off = 14;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return REPLAY_SKIP_SHORT_CAPTURE;
		type = get_be16(p + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return REPLAY_SKIP_SHORT_CAPTURE;
		type = get_be16(p);
		off = 20;
		break;
	default:
		return REPLAY_SKIP_NOT_IP;
	}
	for (tags = 0; tags < REPLAY_MAX_VLAN_TAGS &&
	     (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	      type == ETHERTYPE_QINQ_OLD); tags++) {
		if (caplen < off + 4)
			return REPLAY_SKIP_SHORT_CAPTURE;
		type = get_be16(p + off + 2);
		off += 4;
	}
	*l3 = off;
	*ethertype = type;
	return -1;
}

/*
 * Parse one record into *pkt. Returns -1 when it is an IPv4 TCP packet we
 * can use, else the skip reason. Header fields are checked against what the
 * headers claim before against what was captured, so a lying header is
 * "bad", and only an honest one cut by the snap length is "short".
 */
static int
parse_packet(int link_type, const struct pcap_pkthdr *h, const uint8_t *p,
	     struct packet *pkt)
{
	uint32_t l3, l4, ihl, total, doff, wire_l3;
	uint16_t ethertype;
	int r;

	r = find_l3(link_type, p, h->caplen, &l3, &ethertype);
	if (r >= 0)
		return r;
	if (ethertype == ETHERTYPE_IPV6)
		return REPLAY_SKIP_IPV6;
	if (ethertype != ETHERTYPE_IPV4)
		return REPLAY_SKIP_NOT_IP;
	if (h->caplen < l3 + 20)
		return REPLAY_SKIP_SHORT_CAPTURE;
	if ((p[l3] >> 4) != 4)
		return REPLAY_SKIP_BAD_IP_HEADER;
	ihl = (uint32_t)(p[l3] & 0x0f) * 4;
	total = get_be16(p + l3 + 2);
	wire_l3 = h->len > l3 ? h->len - l3 : 0;
	if (ihl < 20 || total < ihl || total > wire_l3)
		return REPLAY_SKIP_BAD_IP_HEADER;
	if (h->caplen < l3 + ihl)
		return REPLAY_SKIP_SHORT_CAPTURE;
	if ((get_be16(p + l3 + 6) & 0x3fff) != 0)
		return REPLAY_SKIP_FRAGMENT;
	if (p[l3 + 9] != 6)
		return REPLAY_SKIP_NOT_TCP;
	l4 = l3 + ihl;
	if (total < ihl + 20)
		return REPLAY_SKIP_BAD_TCP_HEADER;
	if (h->caplen < l4 + 20)
		return REPLAY_SKIP_SHORT_CAPTURE;
	doff = (uint32_t)(p[l4 + 12] >> 4) * 4;
	if (doff < 20 || doff > total - ihl)
		return REPLAY_SKIP_BAD_TCP_HEADER;
	if (h->caplen < l4 + doff)
		return REPLAY_SKIP_SHORT_CAPTURE;

	pkt->src_addr = get_be32(p + l3 + 12);
	pkt->dst_addr = get_be32(p + l3 + 16);
	pkt->src_port = get_be16(p + l4);
	pkt->dst_port = get_be16(p + l4 + 2);
	pkt->seq = get_be32(p + l4 + 4);
	pkt->flags = p[l4 + 13];
	pkt->payload = p + l4 + doff;
	pkt->wire = total - ihl - doff;
	/* Ethernet padding lies past 'total': never take it as payload. */
	pkt->captured = h->caplen - (l4 + doff);
	if (pkt->captured > pkt->wire)
		pkt->captured = pkt->wire;
	return -1;
}

static uint32_t
bucket_of(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
	uint64_t lo, hi, x;

	/* Order-independent, so both directions land in one bucket. */
	lo = (uint64_t)a1 << 16 | p1;
	hi = (uint64_t)a2 << 16 | p2;
	if (lo > hi) {
		x = lo;
		lo = hi;
		hi = x;
	}
	x = lo * 0x9e3779b97f4a7c15ull ^ hi * 0xc2b2ae3d27d4eb4full;
	x ^= x >> 29;
	return (uint32_t)(x * 0xbf58476d1ce4e5b9ull >> 40) & (FLOW_BUCKETS - 1);
}

/* Newest flow on the packet's tuple and the packet's side in it, or NULL. */
static struct flow *
flow_lookup(struct replay_capture *cap, const struct packet *pkt, int *side)
{
	uint32_t i;
	struct flow *f;

	i = cap->buckets[bucket_of(pkt->src_addr, pkt->src_port,
				   pkt->dst_addr, pkt->dst_port)];
	for (; i != 0; i = f->next_in_bucket) {
		f = cap->flows[i - 1];
		if (f->addr[0] == pkt->src_addr && f->port[0] == pkt->src_port &&
		    f->addr[1] == pkt->dst_addr && f->port[1] == pkt->dst_port) {
			*side = 0;
			return f;
		}
		if (f->addr[1] == pkt->src_addr && f->port[1] == pkt->src_port &&
		    f->addr[0] == pkt->dst_addr && f->port[0] == pkt->dst_port) {
			*side = 1;
			return f;
		}
	}
	return NULL;
}

static struct flow *
flow_create(struct replay_capture *cap, const struct packet *pkt,
	    char *err, size_t errlen)
{
	struct flow *f;
	uint32_t b;

	if (cap->flow_count >= cap->limits.max_flows) {
		set_error(err, errlen, "more than %u flows (limit)",
			  cap->limits.max_flows);
		return NULL;
	}
	if (grow((void **)&cap->flows, &cap->flow_capacity, cap->flow_count,
		 sizeof(cap->flows[0])) != 0)
		goto nomem;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto nomem;
	f->addr[0] = pkt->src_addr;
	f->port[0] = pkt->src_port;
	f->addr[1] = pkt->dst_addr;
	f->port[1] = pkt->dst_port;
	f->pub.index = cap->flow_count;
	f->pub.first_timestamp_ns = pkt->timestamp_ns;
	b = bucket_of(pkt->src_addr, pkt->src_port, pkt->dst_addr, pkt->dst_port);
	f->next_in_bucket = cap->buckets[b];
	cap->flows[cap->flow_count++] = f;
	cap->buckets[b] = cap->flow_count;
	return f;
nomem:
	set_error(err, errlen, "out of memory after %u flows", cap->flow_count);
	return NULL;
}

/* A SYN on a tuple in use: is it a new connection rather than a
 * retransmitted SYN of the current one? */
static bool
syn_starts_new_flow(const struct flow *f, int side, const struct packet *pkt)
{
	const struct side_state *s = &f->side[side];

	if (f->side[0].rst || f->side[1].rst)
		return true;
	if (f->side[0].fin && f->side[1].fin)
		return true;
	return s->syn && s->isn != pkt->seq &&
	       (f->segment_count > 0 || f->side[0].fin || f->side[1].fin);
}

/* Sequence number → offset from the side's first sequence number seen,
 * unwrapped across 2^32 by stepping from the previous packet's. */
static int64_t
side_offset(struct side_state *s, uint32_t seq)
{
	if (!s->have_reference) {
		s->have_reference = true;
		s->last_seq = seq;
		s->last_offset = 0;
		return 0;
	}
	s->last_offset += (int32_t)(seq - s->last_seq);
	s->last_seq = seq;
	return s->last_offset;
}

static int
add_segment(struct replay_capture *cap, struct flow *f, int side,
	    int64_t offset, const struct packet *pkt, char *err, size_t errlen)
{
	struct segment *seg;
	uint64_t need;
	uint8_t *p;

	if (grow((void **)&f->segments, &f->segment_capacity, f->segment_count,
		 sizeof(*seg)) != 0)
		goto nomem;
	need = cap->arena_used + pkt->captured;
	if (need > cap->arena_capacity) {
		uint64_t n = cap->arena_capacity ? cap->arena_capacity : 65536;

		while (n < need)
			n *= 2;
		p = realloc(cap->arena, n);
		if (p == NULL)
			goto nomem;
		cap->arena = p;
		cap->arena_capacity = n;
	}
	memcpy(cap->arena + cap->arena_used, pkt->payload, pkt->captured);
	seg = &f->segments[f->segment_count++];
	seg->offset = offset;
	seg->arena_offset = cap->arena_used;
	seg->timestamp_ns = pkt->timestamp_ns;
	seg->captured = pkt->captured;
	seg->wire = pkt->wire;
	seg->side = (uint8_t)side;
	cap->arena_used = need;
	return 0;
nomem:
	set_error(err, errlen, "out of memory reading packet %llu",
		  (unsigned long long)cap->stats.packets);
	return -1;
}

/* File one parsed packet under its flow. Returns 0 or -1 (message set). */
static int
add_packet(struct replay_capture *cap, const struct packet *pkt,
	   char *err, size_t errlen)
{
	struct side_state *s;
	struct flow *f;
	int64_t offset;
	int side = 0;
	bool syn_only = (pkt->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;

	f = flow_lookup(cap, pkt, &side);
	if (f != NULL && syn_only && syn_starts_new_flow(f, side, pkt))
		f = NULL;
	if (f == NULL) {
		f = flow_create(cap, pkt, err, errlen);
		if (f == NULL)
			return -1;
		side = 0;
	}
	cap->stats.tcp_packets++;
	f->pub.last_timestamp_ns = pkt->timestamp_ns;
	s = &f->side[side];
	s->packets++;
	offset = side_offset(s, pkt->seq);
	if (pkt->flags & TCP_RST) {
		/* A RST's payload is a diagnostic, not stream data. */
		s->rst = true;
		return 0;
	}
	if (pkt->flags & TCP_SYN) {
		if (!s->syn && !s->synack) {
			s->isn = pkt->seq;
			s->isn_offset = offset;
			s->syn_timestamp_ns = pkt->timestamp_ns;
		}
		if (syn_only)
			s->syn = true;
		else
			s->synack = true;
		if (syn_only && pkt->wire > 0)
			s->syn_data = true;
		/* SYN data starts after the SYN's own sequence number. */
		offset++;
	}
	if ((pkt->flags & TCP_FIN) && !s->fin) {
		s->fin = true;
		s->fin_timestamp_ns = pkt->timestamp_ns;
	}
	if (pkt->wire == 0)
		return 0;
	s->data_packets++;
	return add_segment(cap, f, side, offset, pkt, err, errlen);
}

/* Which side (0/1) is the client; see the header for the rules. */
static int
pick_client(struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++)
		if (f->side[i].syn)
			return i;
	for (i = 0; i < 2; i++)
		if (f->side[i].synack)
			return 1 - i;
	f->pub.flags |= REPLAY_FLOW_CLIENT_GUESSED;
	if ((f->port[0] < 1024) != (f->port[1] < 1024))
		return f->port[1] < 1024 ? 0 : 1;
	return 0;
}

/* Append [offset, offset+1) to a run list, extending the last run. */
static int
add_run(struct replay_conflict **runs, uint32_t *count, uint32_t *capacity,
	uint64_t offset)
{
	if (*count > 0 &&
	    (*runs)[*count - 1].offset + (*runs)[*count - 1].length == offset) {
		(*runs)[*count - 1].length++;
		return 0;
	}
	if (grow((void **)runs, capacity, *count, sizeof(**runs)) != 0)
		return -1;
	(*runs)[*count].offset = offset;
	(*runs)[*count].length = 1;
	(*count)++;
	return 0;
}

static int
compare_runs(const void *a, const void *b)
{
	const struct replay_conflict *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sort runs collected from several segments and merge touching ones. */
static void
merge_runs(struct replay_conflict *runs, uint32_t *count)
{
	uint32_t i, n = 0;

	if (*count == 0)
		return;
	qsort(runs, *count, sizeof(*runs), compare_runs);
	for (i = 1; i < *count; i++) {
		struct replay_conflict *last = &runs[n];

		if (runs[i].offset <= last->offset + last->length) {
			uint64_t end = runs[i].offset + runs[i].length;

			if (end > last->offset + last->length)
				last->length = end - last->offset;
		} else {
			runs[++n] = runs[i];
		}
	}
	*count = n + 1;
}

static bool
bit_get(const uint64_t *bits, uint64_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static void
bit_set(uint64_t *bits, uint64_t i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

/* Unfilled runs of [0, length) become the gap list of stream 'dir'. */
static int
collect_gaps(struct flow *f, int dir, const uint64_t *filled, uint64_t length)
{
	struct replay_stream *st = &f->pub.stream[dir];
	uint32_t capacity = 0;
	uint64_t i = 0, start;

	while (i < length) {
		if (i % 64 == 0 && filled[i / 64] == ~0ull && i + 64 <= length) {
			i += 64;
			continue;
		}
		if (bit_get(filled, i)) {
			i++;
			continue;
		}
		start = i;
		while (i < length && !bit_get(filled, i))
			i++;
		if (grow((void **)&f->gaps[dir], &capacity, st->gap_count,
			 sizeof(struct replay_gap)) != 0)
			return -1;
		f->gaps[dir][st->gap_count].offset = start;
		f->gaps[dir][st->gap_count].length = i - start;
		st->gap_count++;
		st->gap_bytes += i - start;
	}
	st->gaps = f->gaps[dir];
	return 0;
}

/*
 * Place every segment into its stream (first copy wins), then derive gaps,
 * conflicts and turns. Segments are taken in arrival order across both
 * sides, which is what makes "first copy" and "turn" mean what the capture
 * shows.
 */
static int
flow_finish(struct replay_capture *cap, struct flow *f, char *err,
	    size_t errlen)
{
	struct replay_flow *pub = &f->pub;
	uint64_t *filled[2] = { NULL, NULL };
	int64_t base[2];
	uint64_t high[2] = { 0, 0 };
	uint32_t conflict_capacity[2] = { 0, 0 }, turn_capacity = 0;
	int client, side, dir;
	uint32_t i;

	client = pick_client(f);
	for (side = 0; side < 2; side++) {
		const struct side_state *s = &f->side[side];
		struct replay_stream *st;

		dir = side == client ? REPLAY_CLIENT : REPLAY_SERVER;
		st = &pub->stream[dir];
		st->syn_seen = s->syn || s->synack;
		st->isn = s->isn;
		st->fin_seen = s->fin;
		st->fin_timestamp_ns = s->fin_timestamp_ns;
		st->rst_seen = s->rst;
		st->packets = s->packets;
		st->data_packets = s->data_packets;
		if (st->syn_seen) {
			base[side] = s->isn_offset + 1;
		} else {
			base[side] = INT64_MAX;
			for (i = 0; i < f->segment_count; i++)
				if (f->segments[i].side == side &&
				    f->segments[i].offset < base[side])
					base[side] = f->segments[i].offset;
		}
	}
	pub->tuple.client_addr = f->addr[client];
	pub->tuple.client_port = f->port[client];
	pub->tuple.server_addr = f->addr[1 - client];
	pub->tuple.server_port = f->port[1 - client];
	if (f->side[client].syn && f->side[1 - client].synack)
		pub->flags |= REPLAY_FLOW_HANDSHAKE;
	if (f->side[client].syn && f->side[client].syn_data)
		pub->flags |= REPLAY_FLOW_SYN_DATA;
	if (f->side[client].syn)
		pub->syn_timestamp_ns = f->side[client].syn_timestamp_ns;
	if (f->side[1 - client].synack)
		pub->synack_timestamp_ns = f->side[1 - client].syn_timestamp_ns;

	/* Rebase offsets; drop what lies before the ISN or past the limit. */
	for (i = 0; i < f->segment_count; i++) {
		struct segment *seg = &f->segments[i];
		int64_t rel = seg->offset - base[seg->side];

		if (rel < 0 && rel + seg->wire > 0) {
			uint32_t cut = (uint32_t)-rel;

			seg->arena_offset += cut < seg->captured ? cut : seg->captured;
			seg->captured = cut < seg->captured ? seg->captured - cut : 0;
			seg->wire -= cut;
			rel = 0;
		}
		if (rel < 0 || (uint64_t)rel + seg->wire > cap->limits.max_stream_bytes) {
			cap->stats.skipped[REPLAY_SKIP_OUT_OF_RANGE]++;
			seg->wire = 0;
			seg->captured = 0;
			continue;
		}
		seg->offset = rel;
		if ((uint64_t)rel + seg->wire > high[seg->side])
			high[seg->side] = (uint64_t)rel + seg->wire;
	}
	for (side = 0; side < 2; side++) {
		dir = side == client ? REPLAY_CLIENT : REPLAY_SERVER;
		cap->stream_bytes += high[side];
		if (cap->stream_bytes > cap->limits.max_total_bytes) {
			set_error(err, errlen,
				  "streams need more than %llu bytes (limit)",
				  (unsigned long long)cap->limits.max_total_bytes);
			return -1;
		}
		/* +1: calloc(0) may return NULL, and an empty stream is valid. */
		f->data[dir] = calloc(1, high[side] + 1);
		filled[dir] = calloc(high[side] / 64 + 1, sizeof(uint64_t));
		if (f->data[dir] == NULL || filled[dir] == NULL)
			goto nomem;
		pub->stream[dir].data = f->data[dir];
		pub->stream[dir].length = high[side];
		high[side] = 0;		/* reused below as "highest byte so far" */
	}

	for (i = 0; i < f->segment_count; i++) {
		const struct segment *seg = &f->segments[i];
		const uint8_t *src = cap->arena + seg->arena_offset;
		struct replay_stream *st;
		uint64_t off = (uint64_t)seg->offset, j;
		uint8_t *dst;

		if (seg->wire == 0)
			continue;
		dir = seg->side == client ? REPLAY_CLIENT : REPLAY_SERVER;
		st = &pub->stream[dir];
		dst = f->data[dir];
		for (j = 0; j < seg->captured; j++) {
			if (!bit_get(filled[dir], off + j)) {
				bit_set(filled[dir], off + j);
				dst[off + j] = src[j];
				continue;
			}
			st->duplicate_bytes++;
			if (dst[off + j] == src[j])
				continue;
			st->conflict_bytes++;
			if (add_run(&f->conflicts[dir], &st->conflict_count,
				    &conflict_capacity[dir], off + j) != 0)
				goto nomem;
		}
		if (off + seg->wire <= high[seg->side])
			continue;
		/* New bytes: the same side continues its turn, or a turn begins. */
		if (pub->turn_count == 0 || f->turns[pub->turn_count - 1].dir != (enum replay_dir)dir) {
			if (grow((void **)&f->turns, &turn_capacity,
				 pub->turn_count, sizeof(*f->turns)) != 0)
				goto nomem;
			f->turns[pub->turn_count].dir = dir;
			f->turns[pub->turn_count].offset = high[seg->side];
			f->turns[pub->turn_count].timestamp_ns = seg->timestamp_ns;
			pub->turn_count++;
		}
		high[seg->side] = off + seg->wire;
		f->turns[pub->turn_count - 1].length =
			high[seg->side] - f->turns[pub->turn_count - 1].offset;
	}
	pub->turns = f->turns;
	for (dir = 0; dir < 2; dir++) {
		merge_runs(f->conflicts[dir], &pub->stream[dir].conflict_count);
		pub->stream[dir].conflicts = f->conflicts[dir];
		if (collect_gaps(f, dir, filled[dir], pub->stream[dir].length) != 0)
			goto nomem;
		free(filled[dir]);
		filled[dir] = NULL;
	}
	free(f->segments);
	f->segments = NULL;
	return 0;
nomem:
	free(filled[0]);
	free(filled[1]);
	set_error(err, errlen, "out of memory assembling flow %u", pub->index);
	return -1;
}

static void
flow_free(struct flow *f)
{
	int d;

	for (d = 0; d < 2; d++) {
		free(f->data[d]);
		free(f->gaps[d]);
		free(f->conflicts[d]);
	}
	free(f->turns);
	free(f->segments);
	free(f);
}

void
replay_capture_free(struct replay_capture *cap)
{
	uint32_t i;

	if (cap == NULL)
		return;
	for (i = 0; i < cap->flow_count; i++)
		flow_free(cap->flows[i]);
	free(cap->flows);
	free(cap->buckets);
	free(cap->arena);
	free(cap);
}

static bool
link_type_supported(int link_type)
{
	return link_type == DLT_EN10MB || link_type == DLT_LINUX_SLL ||
	       link_type == DLT_LINUX_SLL2 || link_type == DLT_RAW ||
	       link_type == DLT_IPV4;
}

/* Read every record; stop at the first one libpcap cannot read. */
static int
read_packets(struct replay_capture *cap, pcap_t *pc, char *err, size_t errlen)
{
	FILE *file = pcap_file(pc);
	struct pcap_pkthdr *h;
	const u_char *p;
	struct packet pkt;
	long record;
	int r;

	for (;;) {
		record = file ? ftell(file) : -1;
		r = pcap_next_ex(pc, &h, &p);
		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r != 1) {
			cap->stats.truncated = true;
			cap->stats.truncated_offset = record < 0 ? 0 : (uint64_t)record;
			snprintf(cap->stats.truncated_reason,
				 sizeof(cap->stats.truncated_reason), "%s",
				 pcap_geterr(pc));
			return 0;
		}
		cap->stats.packets++;
		r = parse_packet(cap->link_type, h, p, &pkt);
		if (r >= 0) {
			if (r == REPLAY_SKIP_SHORT_CAPTURE &&
			    cap->stats.skipped[r] == 0)
				cap->stats.first_short_capture_offset =
					record < 0 ? 0 : (uint64_t)record;
			cap->stats.skipped[r]++;
			continue;
		}
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		pkt.timestamp_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
				   (uint64_t)h->ts.tv_usec;
		if (add_packet(cap, &pkt, err, errlen) != 0)
			return -1;
	}
}

struct replay_capture *
replay_capture_open_limits(const char *path, const struct replay_limits *limits,
			   char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE];
	struct replay_capture *cap;
	struct stat st;
	pcap_t *pc;
	uint32_t i;

	if (stat(path, &st) != 0) {
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	cap = calloc(1, sizeof(*cap));
	if (cap == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	if (limits != NULL)
		cap->limits = *limits;
	else
		replay_limits_default(&cap->limits);
	if ((uint64_t)st.st_size > cap->limits.max_file_bytes) {
		set_error(err, errlen, "%s: %llu bytes, more than the limit of %llu",
			  path, (unsigned long long)st.st_size,
			  (unsigned long long)cap->limits.max_file_bytes);
		goto fail;
	}
	cap->buckets = calloc(FLOW_BUCKETS, sizeof(*cap->buckets));
	if (cap->buckets == NULL) {
		set_error(err, errlen, "out of memory");
		goto fail;
	}
	pc = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (pc == NULL) {
		set_error(err, errlen, "%s: %s", path, pcap_err);
		goto fail;
	}
	cap->link_type = pcap_datalink(pc);
	if (!link_type_supported(cap->link_type)) {
		const char *name = pcap_datalink_val_to_name(cap->link_type);

		set_error(err, errlen,
			  "%s: link type %d (%s) not supported; Ethernet, Linux SLL/SLL2 and raw IPv4 are",
			  path, cap->link_type, name ? name : "unknown");
		pcap_close(pc);
		goto fail;
	}
	if (read_packets(cap, pc, err, errlen) != 0) {
		pcap_close(pc);
		goto fail;
	}
	pcap_close(pc);
	for (i = 0; i < cap->flow_count; i++)
		if (flow_finish(cap, cap->flows[i], err, errlen) != 0)
			goto fail;
	/* Segments pointed into the arena; nothing does any more. */
	free(cap->arena);
	cap->arena = NULL;
	free(cap->buckets);
	cap->buckets = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return cap;
fail:
	replay_capture_free(cap);
	return NULL;
}

struct replay_capture *
replay_capture_open(const char *path, char *err, size_t errlen)
{
	return replay_capture_open_limits(path, NULL, err, errlen);
}

uint32_t
replay_capture_flow_count(const struct replay_capture *cap)
{
	return cap->flow_count;
}

const struct replay_flow *
replay_capture_flow(const struct replay_capture *cap, uint32_t i)
{
	if (i >= cap->flow_count)
		return NULL;
	return &cap->flows[i]->pub;
}

const struct replay_stats *
replay_capture_stats(const struct replay_capture *cap)
{
	return &cap->stats;
}

int
replay_capture_link_type(const struct replay_capture *cap)
{
	return cap->link_type;
}
