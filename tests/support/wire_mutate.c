/*
 * Hostile frames: the recording wire filter and the seeded mutations
 * (wire_mutate.h). The mutations lean towards the fields parsers trust
 * least; checksum repair lets most mutants past the checksum checks.
 */
#include <string.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "test_rand.h"
#include "wire_mutate.h"

bool
wire_corpus_record(void *arg, const struct rte_mbuf *m)
{
	struct wire_corpus *cp = arg;
	unsigned len = rte_pktmbuf_pkt_len(m);
	const void *f;

	if (cp->n >= WIRE_CORPUS_MAX || len > WIRE_FRAME_MAX)
		return false;
	/* rte_pktmbuf_read() copies only a chained frame; a flat one it
	 * returns in place. */
	f = rte_pktmbuf_read(m, 0, len, cp->frame[cp->n]);
	if (f == NULL)
		return false;
	if (cp->ip_only && (len < RTE_ETHER_HDR_LEN ||
			    ((const struct rte_ether_hdr *)f)->ether_type !=
			    rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)))
		return false;
	if (f != cp->frame[cp->n])
		memcpy(cp->frame[cp->n], f, len);
	cp->len[cp->n] = (uint16_t)len;
	cp->n++;
	return false;
}

/* Seeded, so a failing run replays. */
static uint64_t
rnd(uint64_t *s)
{
	return test_splitmix64(s);
}

unsigned
wire_rnd_below(uint64_t *s, unsigned n)
{
	return n == 0 ? 0 : (unsigned)(rnd(s) % n);
}

void
wire_fix_checksums(uint8_t *f, unsigned len)
{
	unsigned ihl, total, l4;
	uint32_t sum;
	uint16_t c;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	ihl = (f[14] & 0x0f) * 4u;
	if (ihl < 20 || 14 + ihl > len)
		return;
	f[24] = f[25] = 0;
	c = (uint16_t)~rte_raw_cksum(f + 14, ihl);
	memcpy(f + 24, &c, sizeof(c));
	if (f[23] != IPPROTO_TCP)
		return;
	total = (unsigned)(f[16] << 8 | f[17]);
	if (total < ihl || 14 + total > len)
		total = len - 14;
	l4 = total - ihl;
	if (l4 < 18)
		return;
	f[14 + ihl + 16] = f[14 + ihl + 17] = 0;
	/* Pseudo-header: addresses, protocol, TCP length (RFC 9293 §3.1). */
	sum = __rte_raw_cksum(f + 26, 8, 0) +
	      rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)l4);
	sum = __rte_raw_cksum(f + 14 + ihl, l4, sum);
	c = (uint16_t)~__rte_raw_cksum_reduce(sum);
	memcpy(f + 14 + ihl + 16, &c, sizeof(c));
}

/* One mutation of f (length *len, room WIRE_FRAME_MAX). The targeted ones
 * aim at the fields the parsers trust least. */
static void
mutate_once(uint64_t *s, uint8_t *f, unsigned *len)
{
	unsigned tcp = 14 + 20;	/* where TCP starts in an unmutated frame */
	static const uint8_t ip_fields[] = { 14, 16, 17, 20, 21, 22, 23 };
	static const uint8_t tcp_fields[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	switch (wire_rnd_below(s, 10)) {
	case 0:		/* one bit */
		f[wire_rnd_below(s, *len)] ^= (uint8_t)(1u << wire_rnd_below(s, 8));
		break;
	case 1:		/* one byte */
		f[wire_rnd_below(s, *len)] = (uint8_t)rnd(s);
		break;
	case 2:		/* cut short, down to nothing */
		*len = wire_rnd_below(s, *len + 1);
		break;
	case 3: {	/* padded with junk */
		unsigned add = wire_rnd_below(s, WIRE_FRAME_MAX - *len + 1);

		for (unsigned i = 0; i < add; i++)
			f[*len + i] = (uint8_t)rnd(s);
		*len += add;
		break;
	}
	case 4:		/* an IPv4 header field */
		if (*len > 24)
			f[ip_fields[wire_rnd_below(s, sizeof(ip_fields))]] = (uint8_t)rnd(s);
		break;
	case 5:		/* a TCP header field: seq, ack, offset, flags */
		if (*len > tcp + 16)
			f[tcp + tcp_fields[wire_rnd_below(s, sizeof(tcp_fields))]] = (uint8_t)rnd(s);
		break;
	case 6:		/* an option's kind or length byte */
		if (*len > tcp + 20 + 2) {
			unsigned olen = ((f[tcp + 12] >> 4) * 4u);

			if (olen > 20 && tcp + olen <= *len)
				f[tcp + 20 + wire_rnd_below(s, olen - 20)] =
					(uint8_t)(wire_rnd_below(s, 2) ? wire_rnd_below(s, 41) : rnd(s));
		}
		break;
	case 7:		/* data offset past the segment, or below 5 */
		if (*len > tcp + 12)
			f[tcp + 12] = (uint8_t)(wire_rnd_below(s, 16) << 4);
		break;
	case 8:		/* flags: any combination, SYN|RST and SYN|FIN included */
		if (*len > tcp + 13)
			f[tcp + 13] = (uint8_t)rnd(s);
		break;
	default:	/* IPv4 total length against the frame */
		if (*len > 17) {
			unsigned t = wire_rnd_below(s, 3) == 0 ? wire_rnd_below(s, 65536)
							  : (*len - 14) + wire_rnd_below(s, 41) - 20;

			f[16] = (uint8_t)(t >> 8);
			f[17] = (uint8_t)t;
		}
		break;
	}
}

int
wire_inject_mutant(const struct wire_corpus *cp, uint64_t *s,
		   struct fake_port *to, struct rte_mempool *pool)
{
	static uint8_t f[WIRE_FRAME_MAX];
	unsigned k = wire_rnd_below(s, cp->n), len = cp->len[k];
	unsigned times = 1 + wire_rnd_below(s, 4);

	memcpy(f, cp->frame[k], len);
	for (unsigned i = 0; i < times; i++)
		mutate_once(s, f, &len);
	if (wire_rnd_below(s, 4) != 0)
		wire_fix_checksums(f, len);
	if (len == 0)
		len = 1;	/* a port never delivers an empty frame */
	return fake_port_inject_bytes(to, pool, f, len);
}

bool
wire_drain(const struct fake_port *a, const struct fake_port *b,
	   void (*pass)(void *arg), void *arg, unsigned max_passes)
{
	for (unsigned i = 0; i < max_passes; i++) {
		if (a->rx_tail == a->rx_head && b->rx_tail == b->rx_head)
			return true;
		pass(arg);
	}
	return a->rx_tail == a->rx_head && b->rx_tail == b->rx_head;
}
