#include <string.h>
#include <arpa/inet.h>

#include "frames.h"

uint16_t
frame_cksum(const void *data, unsigned len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void
put_eth(uint8_t *b, const struct rte_ether_addr *dst,
	const struct rte_ether_addr *src, uint16_t type)
{
	memcpy(b, dst->addr_bytes, 6);
	memcpy(b + 6, src->addr_bytes, 6);
	b[12] = type >> 8;
	b[13] = type & 0xff;
}

unsigned
frame_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *eth_dst,
	  const struct rte_ether_addr *sha, const char *sip,
	  const struct rte_ether_addr *tha, const char *tip)
{
	uint8_t *a = b + 14;

	put_eth(b, eth_dst, sha, 0x0806);
	a[0] = 0; a[1] = 1;		/* Ethernet */
	a[2] = 0x08; a[3] = 0x00;	/* IPv4 */
	a[4] = 6; a[5] = 4;
	a[6] = op >> 8; a[7] = op & 0xff;
	memcpy(a + 8, sha->addr_bytes, 6);
	inet_pton(AF_INET, sip, a + 14);
	memcpy(a + 18, tha->addr_bytes, 6);
	inet_pton(AF_INET, tip, a + 24);
	return 14 + 28;
}

void
frame_fix_ip_checksum(uint8_t *frame)
{
	uint8_t *ip = frame + 14;
	unsigned hl = (ip[0] & 0xf) * 4;
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = frame_cksum(ip, hl);
	memcpy(ip + 10, &c, 2);
}

unsigned
frame_icmp_echo(uint8_t *b, const struct rte_ether_addr *dst,
		const struct rte_ether_addr *src, const char *sip,
		const char *dip, uint8_t type, uint16_t id, uint16_t seq,
		const void *payload, unsigned plen)
{
	uint8_t *ip = b + 14, *ic = ip + 20;
	unsigned total = 20 + 8 + plen;
	uint16_t c;

	put_eth(b, dst, src, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = total >> 8; ip[3] = total & 0xff;
	ip[4] = 0x12; ip[5] = 0x34;	/* an ID the engine should not copy */
	ip[6] = 0x40;			/* DF */
	ip[8] = 64;
	ip[9] = 1;
	inet_pton(AF_INET, sip, ip + 12);
	inet_pton(AF_INET, dip, ip + 16);
	ic[0] = type; ic[1] = 0; ic[2] = ic[3] = 0;
	ic[4] = id >> 8; ic[5] = id & 0xff;
	ic[6] = seq >> 8; ic[7] = seq & 0xff;
	memcpy(ic + 8, payload, plen);
	c = frame_cksum(ic, 8 + plen);
	memcpy(ic + 2, &c, 2);
	frame_fix_ip_checksum(b);
	return 14 + total;
}
