/*
 * TCP options: parsing what arrives, writing what we send.
 *
 * The model. A segment's options area (at most 40 bytes) is decoded into a
 * struct tcp_opts: a bit set saying which options were seen, the values of
 * those options, and a second bit set of notes about options the parser
 * ignored or adjusted (for the drop/anomaly counters). The same struct,
 * filled in by the output path, describes what to write.
 *
 * Parsing follows Linux (tcp_parse_options) so the engine accepts what a
 * Linux peer accepts:
 * - EOL ends the list, NOP is skipped, an unknown kind is skipped by its
 *   length.
 * - An option whose length byte is missing, is 0 or 1, or reaches past the
 *   end of the area makes the whole segment MALFORMED: there is no safe way
 *   to find the next option, so the caller drops the segment and counts it.
 * - MSS, window scale, SACK-permitted and Fast Open are honoured on SYN
 *   segments only; elsewhere they are ignored without complaint (RFC 9293
 *   §3.7.1, RFC 7323 §2.2, RFC 2018 §2, RFC 7413 §4.1.1). Timestamps are
 *   honoured on any segment; SACK blocks on non-SYN segments only.
 * - A known option with the wrong length is skipped by that length, as if
 *   unknown, and noted (TCP_OPT_NOTE_BAD_LEN, or TCP_OPT_NOTE_SACK_BAD_LEN
 *   for a SACK option that is not 2 + 8n bytes with n in 1..4).
 * - A window-scale shift above 14 is used as 14 (RFC 7323 §2.3) and noted.
 * - An MSS of 0 is ignored, as Linux does: it would leave no room for data.
 * - When an option appears twice, the later one wins.
 *
 * Fast Open (RFC 7413) comes in two encodings: kind 34 ("22 LL cookie")
 * and the pre-RFC experimental kind 254 with magic 0xF989
 * ("FE LL F9 89 cookie"). Both mean the same: no cookie bytes is a cookie
 * request, 4 to 16 bytes (even) is a cookie; other lengths are ignored and
 * noted. Other kind-254 options belong to other experiments and are skipped.
 */
#ifndef WSKDP_TCP_OPTIONS_H
#define WSKDP_TCP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

/* Option kinds (IANA "TCP Option Kind Numbers"). */
#define TCP_OPT_EOL		0
#define TCP_OPT_NOP		1
#define TCP_OPT_MSS		2
#define TCP_OPT_WSCALE		3
#define TCP_OPT_SACK_PERMITTED	4
#define TCP_OPT_SACK		5
#define TCP_OPT_TIMESTAMPS	8
#define TCP_OPT_FASTOPEN	34
#define TCP_OPT_EXPERIMENTAL	254

/* Magic that marks an experimental (kind 254) option as Fast Open (RFC 6994). */
#define TCP_OPT_FASTOPEN_MAGIC	0xF989

/* The options area of a TCP header: data offset is at most 15 words. */
#define TCP_OPT_MAX_LEN		40
/* RFC 7323 §2.3: larger shifts would let the window exceed 2^30. */
#define TCP_OPT_WSCALE_MAX	14
/* 2 + 4 * 8 = 34 bytes: four blocks are all that fit in 40 bytes. */
#define TCP_OPT_SACK_MAX_BLOCKS	4
/* RFC 7413 §4.1.1: a cookie is 4 to 16 bytes. */
#define TCP_OPT_TFO_COOKIE_MIN	4
#define TCP_OPT_TFO_COOKIE_MAX	16

/* Which options a struct tcp_opts holds (tcp_opts.present). */
enum tcp_opt_present {
	TCP_OPT_HAS_MSS		= 1u << 0, /* mss */
	TCP_OPT_HAS_WSCALE	= 1u << 1, /* wscale */
	TCP_OPT_HAS_SACK_PERMITTED = 1u << 2,
	TCP_OPT_HAS_TIMESTAMPS	= 1u << 3, /* tsval, tsecr */
	TCP_OPT_HAS_SACK	= 1u << 4, /* sack_count, sack[] */
	TCP_OPT_HAS_TFO		= 1u << 5, /* tfo_cookie_len, tfo_cookie, tfo_experimental */
};

/* What the parser ignored or adjusted (tcp_opts.notes); never set by, nor
 * read by, tcp_options_write(). */
enum tcp_opt_note {
	/* A window-scale shift above 14 was used as 14. */
	TCP_OPT_NOTE_WSCALE_CLAMPED	= 1u << 0,
	/* A SACK option whose length is not 2 + 8n (n 1..4) was skipped. */
	TCP_OPT_NOTE_SACK_BAD_LEN	= 1u << 1,
	/* MSS, window scale, SACK-permitted, timestamps or Fast Open with a
	 * length their definition does not allow was skipped. */
	TCP_OPT_NOTE_BAD_LEN		= 1u << 2,
};

enum tcp_opt_status {
	TCP_OPT_OK = 0,		/* options decoded (some may have been ignored) */
	TCP_OPT_MALFORMED,	/* length byte missing, 0, 1 or past the end: drop */
};

/* One SACK block: [start, end) in sequence space (RFC 2018 §3). */
struct tcp_sack_block {
	uint32_t start;
	uint32_t end;
};

struct tcp_opts {
	uint32_t present;	/* enum tcp_opt_present bits */
	uint32_t notes;		/* enum tcp_opt_note bits, from the parser */
	uint16_t mss;
	uint8_t wscale;		/* shift, already at most TCP_OPT_WSCALE_MAX */
	uint8_t sack_count;	/* valid entries in sack[], 1..4 when present */
	uint32_t tsval;
	uint32_t tsecr;
	struct tcp_sack_block sack[TCP_OPT_SACK_MAX_BLOCKS];
	/* Fast Open: a length of 0 is a cookie request, 4..16 (even) a
	 * cookie. The experimental flag picks kind 254 + magic over kind 34:
	 * the parser reports which one arrived, the writer uses it so a
	 * reply matches what the peer spoke. */
	uint8_t tfo_cookie_len;
	bool tfo_experimental;
	uint8_t tfo_cookie[TCP_OPT_TFO_COOKIE_MAX];
};

/* True when o holds a Fast Open cookie request (no cookie bytes). */
static inline bool
tcp_opts_tfo_is_request(const struct tcp_opts *o)
{
	return (o->present & TCP_OPT_HAS_TFO) && o->tfo_cookie_len == 0;
}

/*
 * Decode a segment's options.
 *
 * @param opt  the options area: the bytes after the fixed 20-byte header
 * @param len  its length in bytes (data offset * 4 - 20), at most 40 in a
 *             valid header; longer areas are parsed all the same
 * @param syn  the segment has SYN set (SYN or SYN-ACK)
 * @param out  filled in: cleared first, then present, notes and the values
 *             of present options are set; on MALFORMED its contents are
 *             unspecified
 * @return TCP_OPT_OK: out describes the options honoured;
 *         TCP_OPT_MALFORMED: an option's length byte is missing, is 0 or 1,
 *         or runs past len; the segment must be dropped.
 */
enum tcp_opt_status tcp_options_parse(const uint8_t *opt, unsigned len,
				      bool syn, struct tcp_opts *out);

/*
 * Encode options in the order and padding Linux uses, so captures of the
 * engine look like captures of Linux:
 *   SYN:     02 04 mss | 04 02 08 0a tsval tsecr | 01 03 03 ws | fastopen
 *            (without timestamps: 02 04 mss | 01 01 04 02 | 01 03 03 ws;
 *             timestamps without SACK-permitted: 01 01 08 0a tsval tsecr)
 *   non-SYN: 01 01 08 0a tsval tsecr | 01 01 05 LL blocks
 *   fastopen: 22 LL cookie, or FE LL F9 89 cookie when tfo_experimental,
 *            followed by 01 01 when its length is not a multiple of 4
 *            (a request is 22 02 01 01 or FE 04 F9 89).
 * Only options valid for the segment type are written: MSS, window scale,
 * SACK-permitted and Fast Open on SYN, SACK blocks on non-SYN, timestamps
 * on both; the others in o are left out.
 *
 * Precedence when space runs short. SACK blocks are the only thing this
 * function shortens: it writes as many of o->sack[] (from the first, which
 * RFC 2018 says must be the most recent) as fit in what is left, and leaves
 * the SACK option out if not even one block fits. Everything else is
 * written whole or not at all: dropping a timestamp would break PAWS and
 * dropping a Fast Open cookie would silently turn a TFO SYN into a plain
 * one. With room >= 40 every valid set fits (a SYN with every option and a
 * 16-byte cookie is exactly 40 bytes); a caller that offers less room asks
 * tcp_options_len() first.
 *
 * @param buf   where to write; needs min(room, 40) bytes
 * @param room  space available in buf
 * @param o     what to write: present bits and values (notes are ignored)
 * @param syn   the segment carries SYN
 * @return bytes written, a multiple of 4 and at most min(room, 40) rounded
 *         down to 4; 0 when nothing applies to this segment type, or when
 *         nothing was written because the options other than SACK blocks
 *         do not fit in that space, or because tfo_cookie_len is not 0 or
 *         an even 4..16 (both are caller bugs; tcp_options_len() returns 0
 *         for them too).
 */
unsigned tcp_options_write(uint8_t *buf, unsigned room,
			   const struct tcp_opts *o, bool syn);

/* Bytes of the options of a segment that carries timestamps and nothing
 * else: NOP, NOP, kind 8, length 10, TSval, TSecr (RFC 7323 Appendix A),
 * what every segment after the handshake carries when no SACK block is
 * due. */
#define TCP_OPT_TS_ONLY_LEN 12
/* Its first word, host order: NOP, NOP, kind 8, length 10. */
#define TCP_OPT_TS_ONLY_WORD \
	((uint32_t)TCP_OPT_NOP << 24 | TCP_OPT_NOP << 16 | \
	 TCP_OPT_TIMESTAMPS << 8 | 10)

/*
 * Write that block: the same bytes tcp_options_write() writes for a
 * non-SYN o whose only present bit is TCP_OPT_HAS_TIMESTAMPS, without
 * building o.
 *
 * @param buf    where to write; needs TCP_OPT_TS_ONLY_LEN bytes
 * @param tsval  TSval, host order
 * @param tsecr  TSecr, host order
 */
static inline void
tcp_options_write_ts(uint8_t *buf, uint32_t tsval, uint32_t tsecr)
{
	uint32_t w[3] = {
		rte_cpu_to_be_32(TCP_OPT_TS_ONLY_WORD),
		rte_cpu_to_be_32(tsval),
		rte_cpu_to_be_32(tsecr),
	};

	memcpy(buf, w, sizeof(w));
}

/*
 * The number of bytes tcp_options_write() would write with the same
 * arguments, without writing: lets the output path size the header (and
 * so the payload) before it has a buffer.
 * @return as tcp_options_write().
 */
unsigned tcp_options_len(unsigned room, const struct tcp_opts *o, bool syn);

#endif
