/*
 * Keyed values TCP needs: initial sequence numbers, Fast Open cookies and
 * SYN cookies.
 *
 * The model. One struct tcp_secret holds three independent 128-bit keys,
 * one per use, so that what a peer learns from one (a cookie it was given,
 * ISNs it observed) tells it nothing about the others. Every value is a
 * SipHash-2-4 (libsodium crypto_shorthash) of the fields it binds, in a
 * fixed byte order, so a run with a seeded secret repeats bit for bit on
 * any host. The keys come from the system's random source in normal runs
 * and from a 64-bit seed in virtual-clock runs that must repeat exactly.
 *
 * Addresses and ports are taken as the caller holds them (host or network
 * order, as long as the same order is used for making and for checking);
 * only equality of inputs matters.
 *
 * Nothing here allocates, locks or makes a system call once initialised;
 * the functions are safe to call on the fast path and from several lcores
 * on a shared, read-only struct tcp_secret.
 */
#ifndef WSKDP_TCP_SECRET_H
#define WSKDP_TCP_SECRET_H

#include <stdbool.h>
#include <stdint.h>

/* crypto_shorthash_KEYBYTES; checked against libsodium in tcp_secret.c so
 * this header need not include sodium.h. */
#define TCP_SECRET_KEY_LEN	16

/* Fast Open cookies the engine issues: 8 bytes, as Linux does. */
#define TCP_TFO_COOKIE_LEN	8

/* SYN-cookie time counter period: one tick every 64 s. */
#define TCP_SYNCOOKIE_PERIOD_US	(64ULL * 1000 * 1000)

struct tcp_secret {
	uint8_t isn_key[TCP_SECRET_KEY_LEN];
	uint8_t tfo_key[TCP_SECRET_KEY_LEN];
	uint8_t syncookie_key[TCP_SECRET_KEY_LEN];
};

/*
 * Fill s with keys from the system's random source (libsodium
 * randombytes_buf). Initialises libsodium; aborts the process if libsodium
 * cannot start, since no connection could be opened safely without keys.
 */
void tcp_secret_init_random(struct tcp_secret *s);

/*
 * Fill s with keys derived from seed (BLAKE2b of a per-key label and the
 * seed): the same seed gives the same keys on every host and run, for
 * virtual-clock runs that must repeat bit for bit. Not secret: use only
 * where predictability is wanted. Initialises libsodium; aborts as
 * tcp_secret_init_random() does.
 */
void tcp_secret_init_seed(struct tcp_secret *s, uint64_t seed);

/*
 * Initial sequence number for a new connection, RFC 6528:
 * ISN = M + F(saddr, daddr, sport, dport, key), with M a timer ticking
 * every 4 microseconds (now_us / 4, modulo 2^32) and F a keyed hash of the
 * 4-tuple. Successive connections on one 4-tuple get increasing ISNs (the
 * property TIME_WAIT reuse relies on) while off-path attackers cannot
 * predict any of them.
 *
 * @param saddr, sport  local address and port
 * @param daddr, dport  remote address and port
 * @param now_us        engine time in microseconds
 * @return the ISN; cannot fail.
 */
uint32_t tcp_isn(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
		 uint16_t sport, uint16_t dport, uint64_t now_us);

/*
 * tcp_isn() and, from the other 32 bits of the same keyed hash, the
 * per-connection timestamp offset of RFC 7323 §5.4 (a keyed value of the
 * 4-tuple that hides the host clock and stays the same for every
 * incarnation of the 4-tuple): one SipHash per connection instead of two.
 *
 * @param ts_offset  receives the offset; must not be NULL
 * @return the ISN, equal to tcp_isn()'s for the same arguments; cannot fail.
 */
uint32_t tcp_isn_ts(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr,
		    uint16_t sport, uint16_t dport, uint64_t now_us,
		    uint32_t *ts_offset);

/*
 * The Fast Open cookie a server gives a client (RFC 7413 §4.1.2): a MAC of
 * the client and server addresses (no ports, as Linux, so one cookie serves
 * every connection between the two hosts).
 *
 * @param client_ip  source address of the client's SYN
 * @param server_ip  destination address of the client's SYN
 * @param cookie     receives TCP_TFO_COOKIE_LEN bytes
 */
void tcp_tfo_cookie(const struct tcp_secret *s, uint32_t client_ip,
		    uint32_t server_ip, uint8_t cookie[TCP_TFO_COOKIE_LEN]);

/*
 * Check a cookie received in a SYN, in constant time.
 *
 * @param cookie  the cookie bytes from the option
 * @param len     their count
 * @return true if len is TCP_TFO_COOKIE_LEN and the cookie is the one
 *         tcp_tfo_cookie() gives for this client and server under s;
 *         false otherwise (including a cookie issued under another key).
 */
bool tcp_tfo_cookie_valid(const struct tcp_secret *s, uint32_t client_ip,
			  uint32_t server_ip, const uint8_t *cookie,
			  unsigned len);

/*
 * SYN cookies (RFC 4987 §3.6): the server answers a SYN without keeping
 * state, encoding what it must remember in its own ISN, and rebuilds the
 * connection from the ACK that echoes ISN + 1.
 *
 * Encoding (after Linux net/ipv4/syncookies.c, with the MSS index inside
 * the MAC so that no bit of a cookie can be changed undetected). With
 *   tuple = saddr, daddr, sport, dport, peer_isn
 *   count = now_us / TCP_SYNCOOKIE_PERIOD_US (64 s ticks)
 *   m     = index of the MSS in the table below (3 bits)
 *   h1    = SipHash(key, 1 | tuple)                low 32 bits
 *   mac   = SipHash(key, 2 | tuple | count | m)    low 21 bits
 * the cookie is
 *   h1 + ((count mod 256) << 24 | m << 21 | mac)     (mod 2^32)
 * h1 hides the counter and index and makes the cookie look like any other
 * ISN. Checking subtracts h1, reads the counter's low byte and accepts it
 * only if it is the current tick or the one before (so a cookie lives
 * between 64 and 128 s), reads m, and recomputes the MAC with the full
 * counter. A forged or altered cookie passes with probability 2^-21 at
 * most. Only the MSS survives: window scale, SACK-permitted and timestamps
 * from the SYN are lost, as RFC 4987 warns.
 *
 * MSS table: 536, 1300, 1440, 1460, 8960 (the IPv4 default, common tunnel
 * and PPPoE paths, Ethernet, 9000-byte jumbo frames). An MSS is encoded as
 * the largest entry not above it; one below 536 as 536, the size every
 * IPv4 host must accept (RFC 9293 §3.7.1).
 */

/*
 * Make the cookie to use as the server's ISN in a SYN-ACK.
 *
 * @param saddr, sport  the client's address and port (source of its SYN)
 * @param daddr, dport  the server's address and port
 * @param peer_isn      the sequence number of the client's SYN
 * @param mss           the MSS the client advertised (or the default)
 * @param now_us        engine time in microseconds
 * @return the cookie; cannot fail.
 */
uint32_t tcp_syncookie_make(const struct tcp_secret *s, uint32_t saddr,
			    uint32_t daddr, uint16_t sport, uint16_t dport,
			    uint32_t peer_isn, uint16_t mss, uint64_t now_us);

/*
 * Check the cookie echoed by a client's ACK.
 *
 * @param saddr, daddr, sport, dport  as for tcp_syncookie_make(), read
 *                      from the ACK (client to server)
 * @param peer_isn      the ACK's sequence number minus 1
 * @param cookie        the ACK's acknowledgment number minus 1
 * @param now_us        engine time in microseconds
 * @return the MSS encoded (a table entry, never 0) if the cookie was made
 *         for this tuple under s in the current or previous 64 s tick;
 *         0 if it is forged, altered, for another tuple, or expired.
 */
uint16_t tcp_syncookie_check(const struct tcp_secret *s, uint32_t saddr,
			     uint32_t daddr, uint16_t sport, uint16_t dport,
			     uint32_t peer_isn, uint32_t cookie,
			     uint64_t now_us);

#endif
