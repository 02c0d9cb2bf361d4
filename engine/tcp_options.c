#include "tcp_options.h"
#include "wire_bytes.h"

#include <stddef.h>
#include <string.h>

/* Fixed lengths of the options that have one. */
#define LEN_MSS			4
#define LEN_WSCALE		3
#define LEN_SACK_PERMITTED	2
#define LEN_TIMESTAMPS		10
#define LEN_SACK_BASE		2
#define LEN_SACK_BLOCK		8
#define LEN_FASTOPEN_BASE	2
#define LEN_EXP_FASTOPEN_BASE	4

static inline uint8_t *
put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* Shared by both Fast Open encodings once their header is stripped
 * (Linux tcp_parse_fastopen_option). */
static void
parse_fastopen(const uint8_t *cookie, unsigned cookie_len, bool experimental,
	       struct tcp_opts *out)
{
	if (cookie_len != 0 &&
	    (cookie_len < TCP_OPT_TFO_COOKIE_MIN ||
	     cookie_len > TCP_OPT_TFO_COOKIE_MAX || (cookie_len & 1))) {
		out->notes |= TCP_OPT_NOTE_BAD_LEN;
		return;
	}
	out->present |= TCP_OPT_HAS_TFO;
	out->tfo_cookie_len = cookie_len;
	out->tfo_experimental = experimental;
	memcpy(out->tfo_cookie, cookie, cookie_len);
}

static void
parse_sack(const uint8_t *body, unsigned olen, struct tcp_opts *out)
{
	unsigned n = (olen - LEN_SACK_BASE) / LEN_SACK_BLOCK;

	if (olen < LEN_SACK_BASE + LEN_SACK_BLOCK ||
	    (olen - LEN_SACK_BASE) % LEN_SACK_BLOCK != 0 ||
	    n > TCP_OPT_SACK_MAX_BLOCKS) {
		out->notes |= TCP_OPT_NOTE_SACK_BAD_LEN;
		return;
	}
	out->present |= TCP_OPT_HAS_SACK;
	out->sack_count = n;
	for (unsigned i = 0; i < n; i++) {
		out->sack[i].start = wire_get_be32(body + i * LEN_SACK_BLOCK);
		out->sack[i].end = wire_get_be32(body + i * LEN_SACK_BLOCK + 4);
	}
}

enum tcp_opt_status
tcp_options_parse(const uint8_t *opt, unsigned len, bool syn,
		  struct tcp_opts *out)
{
	unsigned i = 0;

	/* The fixed fields only: sack[] and tfo_cookie[] are read only up
	 * to sack_count and tfo_cookie_len, which start at 0. */
	memset(out, 0, offsetof(struct tcp_opts, sack));
	out->tfo_cookie_len = 0;
	out->tfo_experimental = false;
	/* What nearly every segment after the handshake carries: NOP, NOP,
	 * timestamps (RFC 7323 Appendix A), read in one go. */
	if (len == TCP_OPT_TS_ONLY_LEN &&
	    wire_get_be32(opt) == TCP_OPT_TS_ONLY_WORD) {
		out->present = TCP_OPT_HAS_TIMESTAMPS;
		out->tsval = wire_get_be32(opt + 4);
		out->tsecr = wire_get_be32(opt + 8);
		return TCP_OPT_OK;
	}
	while (i < len) {
		uint8_t kind = opt[i];
		unsigned olen;
		const uint8_t *body;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return TCP_OPT_MALFORMED;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return TCP_OPT_MALFORMED;
		body = opt + i + 2;

		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != LEN_MSS) {
				out->notes |= TCP_OPT_NOTE_BAD_LEN;
			} else if (syn && wire_get_be16(body) != 0) {
				out->present |= TCP_OPT_HAS_MSS;
				out->mss = wire_get_be16(body);
			}
			break;
		case TCP_OPT_WSCALE:
			if (olen != LEN_WSCALE) {
				out->notes |= TCP_OPT_NOTE_BAD_LEN;
			} else if (syn) {
				out->present |= TCP_OPT_HAS_WSCALE;
				out->wscale = body[0];
				if (out->wscale > TCP_OPT_WSCALE_MAX) {
					out->wscale = TCP_OPT_WSCALE_MAX;
					out->notes |= TCP_OPT_NOTE_WSCALE_CLAMPED;
				}
			}
			break;
		case TCP_OPT_SACK_PERMITTED:
			if (olen != LEN_SACK_PERMITTED)
				out->notes |= TCP_OPT_NOTE_BAD_LEN;
			else if (syn)
				out->present |= TCP_OPT_HAS_SACK_PERMITTED;
			break;
		case TCP_OPT_TIMESTAMPS:
			if (olen != LEN_TIMESTAMPS) {
				out->notes |= TCP_OPT_NOTE_BAD_LEN;
			} else {
				out->present |= TCP_OPT_HAS_TIMESTAMPS;
				out->tsval = wire_get_be32(body);
				out->tsecr = wire_get_be32(body + 4);
			}
			break;
		case TCP_OPT_SACK:
			if (!syn)
				parse_sack(body, olen, out);
			break;
		case TCP_OPT_FASTOPEN:
			if (syn)
				parse_fastopen(body, olen - LEN_FASTOPEN_BASE,
					       false, out);
			break;
		case TCP_OPT_EXPERIMENTAL:
			/* Shorter ones cannot carry the magic: another
			 * experiment's option, skipped like any unknown. */
			if (syn && olen >= LEN_EXP_FASTOPEN_BASE &&
			    wire_get_be16(body) == TCP_OPT_FASTOPEN_MAGIC)
				parse_fastopen(body + 2,
					       olen - LEN_EXP_FASTOPEN_BASE,
					       true, out);
			break;
		default:
			break;
		}
		i += olen;
	}
	return TCP_OPT_OK;
}

static bool
tfo_cookie_len_ok(unsigned n)
{
	return n == 0 || (n >= TCP_OPT_TFO_COOKIE_MIN &&
			  n <= TCP_OPT_TFO_COOKIE_MAX && (n & 1) == 0);
}

/* Fast Open option with its padding, rounded up to whole words. */
static unsigned
fastopen_len(const struct tcp_opts *o)
{
	unsigned base = o->tfo_experimental ? LEN_EXP_FASTOPEN_BASE
					    : LEN_FASTOPEN_BASE;

	return (base + o->tfo_cookie_len + 3) & ~3u;
}

/* Bytes of everything except SACK blocks, or 0 with *bad set when o asks
 * for something that cannot be encoded. */
static unsigned
fixed_len(const struct tcp_opts *o, bool syn, bool *bad)
{
	uint32_t p = o->present;
	unsigned n = 0;

	*bad = false;
	if (p & TCP_OPT_HAS_TIMESTAMPS)
		n += 12;
	if (!syn)
		return n;
	if (p & TCP_OPT_HAS_MSS)
		n += 4;
	/* Shares the timestamps' word when both are there. */
	if ((p & TCP_OPT_HAS_SACK_PERMITTED) && !(p & TCP_OPT_HAS_TIMESTAMPS))
		n += 4;
	if (p & TCP_OPT_HAS_WSCALE)
		n += 4;
	if (p & TCP_OPT_HAS_TFO) {
		if (!tfo_cookie_len_ok(o->tfo_cookie_len)) {
			*bad = true;
			return 0;
		}
		n += fastopen_len(o);
	}
	return n;
}

/* SACK blocks to write in 'left' bytes: those asked for, as many as fit. */
static unsigned
sack_blocks_that_fit(const struct tcp_opts *o, bool syn, unsigned left)
{
	unsigned n;

	if (syn || !(o->present & TCP_OPT_HAS_SACK))
		return 0;
	n = o->sack_count;
	if (n > TCP_OPT_SACK_MAX_BLOCKS)
		n = TCP_OPT_SACK_MAX_BLOCKS;
	/* Each option word is NOP NOP 05 LL, then 8 bytes per block. */
	if (left < 4 + LEN_SACK_BLOCK)
		return 0;
	if (n > (left - 4) / LEN_SACK_BLOCK)
		n = (left - 4) / LEN_SACK_BLOCK;
	return n;
}

static unsigned
usable_room(unsigned room)
{
	if (room > TCP_OPT_MAX_LEN)
		room = TCP_OPT_MAX_LEN;
	return room & ~3u;
}

unsigned
tcp_options_len(unsigned room, const struct tcp_opts *o, bool syn)
{
	unsigned limit = usable_room(room);
	bool bad;
	unsigned n = fixed_len(o, syn, &bad);
	unsigned blocks;

	if (bad || n > limit)
		return 0;
	blocks = sack_blocks_that_fit(o, syn, limit - n);
	if (blocks)
		n += 4 + blocks * LEN_SACK_BLOCK;
	return n;
}

unsigned
tcp_options_write(uint8_t *buf, unsigned room, const struct tcp_opts *o,
		  bool syn)
{
	unsigned limit = usable_room(room);
	uint32_t p = o->present;
	bool bad;
	unsigned n = fixed_len(o, syn, &bad);
	unsigned blocks;
	uint8_t *w = buf;

	if (bad || n > limit)
		return 0;
	blocks = sack_blocks_that_fit(o, syn, limit - n);

	if (syn && (p & TCP_OPT_HAS_MSS)) {
		w = put4(w, TCP_OPT_MSS, LEN_MSS, 0, 0);
		wire_put_be16(w - 2, o->mss);
	}
	if (p & TCP_OPT_HAS_TIMESTAMPS) {
		if (syn && (p & TCP_OPT_HAS_SACK_PERMITTED))
			w = put4(w, TCP_OPT_SACK_PERMITTED, LEN_SACK_PERMITTED,
				 TCP_OPT_TIMESTAMPS, LEN_TIMESTAMPS);
		else
			w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP,
				 TCP_OPT_TIMESTAMPS, LEN_TIMESTAMPS);
		w = wire_put_be32(w, o->tsval);
		w = wire_put_be32(w, o->tsecr);
	} else if (syn && (p & TCP_OPT_HAS_SACK_PERMITTED)) {
		w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP,
			 TCP_OPT_SACK_PERMITTED, LEN_SACK_PERMITTED);
	}
	if (syn && (p & TCP_OPT_HAS_WSCALE)) {
		uint8_t ws = o->wscale > TCP_OPT_WSCALE_MAX ?
			     TCP_OPT_WSCALE_MAX : o->wscale;

		w = put4(w, TCP_OPT_NOP, TCP_OPT_WSCALE, LEN_WSCALE, ws);
	}
	if (blocks) {
		w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK,
			 LEN_SACK_BASE + blocks * LEN_SACK_BLOCK);
		for (unsigned i = 0; i < blocks; i++) {
			w = wire_put_be32(w, o->sack[i].start);
			w = wire_put_be32(w, o->sack[i].end);
		}
	}
	if (syn && (p & TCP_OPT_HAS_TFO)) {
		unsigned olen;

		if (o->tfo_experimental) {
			olen = LEN_EXP_FASTOPEN_BASE + o->tfo_cookie_len;
			w[0] = TCP_OPT_EXPERIMENTAL;
			w[1] = olen;
			wire_put_be16(w + 2, TCP_OPT_FASTOPEN_MAGIC);
		} else {
			olen = LEN_FASTOPEN_BASE + o->tfo_cookie_len;
			w[0] = TCP_OPT_FASTOPEN;
			w[1] = olen;
		}
		memcpy(w + olen - o->tfo_cookie_len, o->tfo_cookie,
		       o->tfo_cookie_len);
		/* Even cookies leave the option 0 or 2 short of a word. */
		if (olen & 3) {
			w[olen] = TCP_OPT_NOP;
			w[olen + 1] = TCP_OPT_NOP;
		}
		w += fastopen_len(o);
	}
	return (unsigned)(w - buf);
}
