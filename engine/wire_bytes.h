/*
 * Reading and writing big-endian integers at unaligned byte positions:
 * TCP options and the inputs of keyed hashes are byte strings, not
 * structs, so neither alignment nor host order can be assumed.
 */
#ifndef WSKDP_WIRE_BYTES_H
#define WSKDP_WIRE_BYTES_H

#include <stdint.h>

static inline uint16_t
wire_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
wire_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Each writer returns the position just past what it wrote. */
static inline uint8_t *
wire_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return p + 2;
}

static inline uint8_t *
wire_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
	return p + 4;
}

static inline uint8_t *
wire_put_be64(uint8_t *p, uint64_t v)
{
	p = wire_put_be32(p, (uint32_t)(v >> 32));
	return wire_put_be32(p, (uint32_t)v);
}

#endif
