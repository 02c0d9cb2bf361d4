#include "tcp_secret.h"
#include "wire_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

_Static_assert(TCP_SECRET_KEY_LEN == crypto_shorthash_KEYBYTES,
	       "tcp_secret keys are SipHash keys");
_Static_assert(TCP_TFO_COOKIE_LEN == crypto_shorthash_BYTES,
	       "a TFO cookie is one whole SipHash output");

/* SYN cookie layout after h1 is taken off: counter | index | MAC. */
#define SYNCOOKIE_COUNT_SHIFT	24
#define SYNCOOKIE_INDEX_SHIFT	21
#define SYNCOOKIE_INDEX_MASK	0x7u
#define SYNCOOKIE_MAC_MASK	((1u << SYNCOOKIE_INDEX_SHIFT) - 1)
/* Ticks a cookie stays valid: the one it was made in and the next. */
#define SYNCOOKIE_MAX_AGE	2

/* Domain tags that keep the two SYN-cookie hashes apart. */
#define SYNCOOKIE_TAG_H1	1
#define SYNCOOKIE_TAG_MAC	2

static const uint16_t syncookie_mss_table[] = { 536, 1300, 1440, 1460, 8960 };
#define SYNCOOKIE_MSS_COUNT \
	(sizeof(syncookie_mss_table) / sizeof(syncookie_mss_table[0]))
_Static_assert(SYNCOOKIE_MSS_COUNT <= SYNCOOKIE_INDEX_MASK + 1,
	       "the MSS index has 3 bits");

static void
sodium_start(void)
{
	/* Without libsodium there are no keys, and no connection may be
	 * opened with guessable sequence numbers: stop here, at start-up. */
	if (sodium_init() < 0) {
		fprintf(stderr, "tcp_secret: libsodium failed to initialise\n");
		abort();
	}
}

void
tcp_secret_init_random(struct tcp_secret *s)
{
	sodium_start();
	randombytes_buf(s->isn_key, sizeof(s->isn_key));
	randombytes_buf(s->tfo_key, sizeof(s->tfo_key));
	randombytes_buf(s->syncookie_key, sizeof(s->syncookie_key));
}

/* BLAKE2b(label | seed as 8 little-endian bytes): the byte order is fixed
 * so a seed names the same keys on every host. */
static void
derive_key(uint8_t key[TCP_SECRET_KEY_LEN], const char *label, uint64_t seed)
{
	uint8_t in[32];
	size_t n = strlen(label);

	memcpy(in, label, n);
	for (unsigned i = 0; i < 8; i++)
		in[n + i] = (uint8_t)(seed >> (8 * i));
	crypto_generichash(key, TCP_SECRET_KEY_LEN, in, n + 8, NULL, 0);
}

void
tcp_secret_init_seed(struct tcp_secret *s, uint64_t seed)
{
	sodium_start();
	derive_key(s->isn_key, "wskdp isn", seed);
	derive_key(s->tfo_key, "wskdp tfo", seed);
	derive_key(s->syncookie_key, "wskdp syncookie", seed);
}

/* SipHash-2-4 of msg, as a number (first output byte least significant,
 * as SipHash defines its output). */
static uint64_t
siphash(const uint8_t key[TCP_SECRET_KEY_LEN], const uint8_t *msg, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(out, msg, len, key);
	for (unsigned i = 0; i < sizeof(out); i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v;
}

/* The 4-tuple as 12 bytes; returns the end of what was written. */
static uint8_t *
put_tuple(uint8_t *p, uint32_t saddr, uint32_t daddr, uint16_t sport,
	  uint16_t dport)
{
	p = wire_put_be32(p, saddr);
	p = wire_put_be32(p, daddr);
	p = wire_put_be16(p, sport);
	return wire_put_be16(p, dport);
}

uint32_t
tcp_isn_ts(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
	   uint16_t sport, uint16_t dport, uint64_t now_us, uint32_t *ts_offset)
{
	uint8_t msg[12];
	uint64_t h;

	put_tuple(msg, saddr, daddr, sport, dport);
	h = siphash(s->isn_key, msg, sizeof(msg));
	*ts_offset = (uint32_t)(h >> 32);
	return (uint32_t)(now_us / 4) + (uint32_t)h;
}

uint32_t
tcp_isn(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
	uint16_t sport, uint16_t dport, uint64_t now_us)
{
	uint32_t ts_offset;

	return tcp_isn_ts(s, saddr, daddr, sport, dport, now_us, &ts_offset);
}

void
tcp_tfo_cookie(const struct tcp_secret *s, uint32_t client_ip,
	       uint32_t server_ip, uint8_t cookie[TCP_TFO_COOKIE_LEN])
{
	uint8_t msg[8];

	wire_put_be32(wire_put_be32(msg, client_ip), server_ip);
	crypto_shorthash(cookie, msg, sizeof(msg), s->tfo_key);
}

bool
tcp_tfo_cookie_valid(const struct tcp_secret *s, uint32_t client_ip,
		     uint32_t server_ip, const uint8_t *cookie, unsigned len)
{
	uint8_t expect[TCP_TFO_COOKIE_LEN];

	if (len != TCP_TFO_COOKIE_LEN)
		return false;
	tcp_tfo_cookie(s, client_ip, server_ip, expect);
	/* Constant time: a timing difference would let a client find a
	 * valid cookie byte by byte. */
	return sodium_memcmp(expect, cookie, TCP_TFO_COOKIE_LEN) == 0;
}

static uint32_t
syncookie_h1(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
	     uint16_t sport, uint16_t dport, uint32_t peer_isn)
{
	uint8_t msg[1 + 12 + 4];
	uint8_t *p = msg;

	*p++ = SYNCOOKIE_TAG_H1;
	p = put_tuple(p, saddr, daddr, sport, dport);
	wire_put_be32(p, peer_isn);
	return (uint32_t)siphash(s->syncookie_key, msg, sizeof(msg));
}

static uint32_t
syncookie_mac(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
	      uint16_t sport, uint16_t dport, uint32_t peer_isn, uint64_t count,
	      uint32_t index)
{
	uint8_t msg[1 + 12 + 4 + 8 + 1];
	uint8_t *p = msg;

	*p++ = SYNCOOKIE_TAG_MAC;
	p = put_tuple(p, saddr, daddr, sport, dport);
	p = wire_put_be32(p, peer_isn);
	p = wire_put_be64(p, count);
	*p = (uint8_t)index;
	return (uint32_t)siphash(s->syncookie_key, msg, sizeof(msg)) &
	       SYNCOOKIE_MAC_MASK;
}

uint32_t
tcp_syncookie_make(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
		   uint16_t sport, uint16_t dport, uint32_t peer_isn,
		   uint16_t mss, uint64_t now_us)
{
	uint64_t count = now_us / TCP_SYNCOOKIE_PERIOD_US;
	uint32_t index = SYNCOOKIE_MSS_COUNT - 1;

	while (index > 0 && mss < syncookie_mss_table[index])
		index--;
	return syncookie_h1(s, saddr, daddr, sport, dport, peer_isn) +
	       ((uint32_t)count << SYNCOOKIE_COUNT_SHIFT |
		index << SYNCOOKIE_INDEX_SHIFT |
		syncookie_mac(s, saddr, daddr, sport, dport, peer_isn, count,
			      index));
}

uint16_t
tcp_syncookie_check(const struct tcp_secret *s, uint32_t saddr,
		    uint32_t daddr, uint16_t sport, uint16_t dport,
		    uint32_t peer_isn, uint32_t cookie, uint64_t now_us)
{
	uint64_t now_count = now_us / TCP_SYNCOOKIE_PERIOD_US;
	uint32_t v = cookie - syncookie_h1(s, saddr, daddr, sport, dport,
					   peer_isn);
	uint32_t age = ((uint32_t)now_count - (v >> SYNCOOKIE_COUNT_SHIFT)) &
		       0xff;
	uint32_t index = (v >> SYNCOOKIE_INDEX_SHIFT) & SYNCOOKIE_INDEX_MASK;

	if (age >= SYNCOOKIE_MAX_AGE || index >= SYNCOOKIE_MSS_COUNT)
		return 0;
	/* A cookie from 256 ticks ago shows the same low byte; the full
	 * counter in the MAC is what rejects it. */
	if ((v & SYNCOOKIE_MAC_MASK) !=
	    syncookie_mac(s, saddr, daddr, sport, dport, peer_isn,
			  now_count - age, index))
		return 0;
	return syncookie_mss_table[index];
}
