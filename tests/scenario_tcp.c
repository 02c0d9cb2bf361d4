/* wskdp-scenario: the TCP application model, input rewriting against the
 * engine's ISN and TSval, and the [expect_tcp] checks. */
#include "scenario.h"
#include "wire_bytes.h"

/* Walk the options, noting each well-formed one until the end, an EOL or
 * the first malformed option. */
static void
tcp_view_options(const uint8_t *d, uint32_t off, uint32_t end,
		 struct tcp_view *v)
{
	while (off < end) {
		uint8_t kind = d[off], len;

		if (kind == 0)
			return;
		if (kind == 1) {
			off++;
			continue;
		}
		if (off + 1 >= end)
			return;
		len = d[off + 1];
		if (len < 2 || off + len > end)
			return;
		switch (kind) {
		case 2:
			if (len == 4)
				v->opts |= OPT_MSS;
			break;
		case 3:
			if (len == 3)
				v->opts |= OPT_WS;
			break;
		case 4:
			if (len == 2)
				v->opts |= OPT_SACKOK;
			break;
		case 5:
			if ((len - 2) % 8 == 0 && len > 2 &&
			    (len - 2) / 8 <= MAX_SACK_BLOCKS) {
				v->opts |= OPT_SACK;
				v->nb_sack = (len - 2) / 8u;
				v->sack_off = off + 2;
				for (unsigned i = 0; i < v->nb_sack; i++) {
					v->sack[i][0] = wire_get_be32(d + off + 2 + 8 * i);
					v->sack[i][1] = wire_get_be32(d + off + 6 + 8 * i);
				}
			}
			break;
		case 8:
			if (len == 10) {
				v->opts |= OPT_TS;
				v->has_ts = true;
				v->ts_off = off + 2;
				v->tsval = wire_get_be32(d + off + 2);
			}
			break;
		case 34:	/* RFC 7413 */
			v->opts |= OPT_TFO;
			break;
		case 254:	/* RFC 6994 experimental, TFO's magic 0xF989 */
			if (len >= 4 && d[off + 2] == 0xF9 && d[off + 3] == 0x89)
				v->opts |= OPT_TFO;
			break;
		default:
			break;
		}
		off += len;
	}
}

/* Parse Ethernet (optionally 802.1Q), IPv4 and TCP headers, all inside
 * the captured bytes. Returns false for anything else or anything that
 * does not parse. */
static bool
tcp_view_parse(const uint8_t *d, uint32_t caplen, struct tcp_view *v)
{
	uint32_t off = 12, ihl, total, doff;
	uint16_t type;

	memset(v, 0, sizeof(*v));
	if (caplen < 14)
		return false;
	type = (uint16_t)(d[12] << 8 | d[13]);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (caplen < 18)
			return false;
		type = (uint16_t)(d[16] << 8 | d[17]);
		off += 4;
	}
	off += 2;
	if (type != RTE_ETHER_TYPE_IPV4 || caplen < off + 20 ||
	    (d[off] >> 4) != 4 || d[off + 9] != IPPROTO_TCP)
		return false;
	ihl = (uint32_t)(d[off] & 0xf) * 4;
	total = (uint32_t)(d[off + 2] << 8 | d[off + 3]);
	if (ihl < 20 || total < ihl + 20 || off + total > caplen)
		return false;
	v->ip_off = off;
	v->tcp_off = off + ihl;
	v->tcp_len = total - ihl;
	doff = (uint32_t)(d[v->tcp_off + 12] >> 4) * 4;
	if (doff < 20 || doff > v->tcp_len)
		return false;
	v->seq = wire_get_be32(d + v->tcp_off + 4);
	v->ack = wire_get_be32(d + v->tcp_off + 8);
	v->flags = d[v->tcp_off + 13];
	v->win = (uint16_t)(d[v->tcp_off + 14] << 8 | d[v->tcp_off + 15]);
	v->len = v->tcp_len - doff;
	tcp_view_options(d, v->tcp_off + 20, v->tcp_off + doff, v);
	return true;
}

/* Correct TCP checksum of a parsed frame, with the field taken as 0. */
static uint16_t
tcp_checksum(uint8_t *d, const struct tcp_view *v)
{
	uint8_t saved[2] = { d[v->tcp_off + 16], d[v->tcp_off + 17] };
	uint16_t ck;

	d[v->tcp_off + 16] = d[v->tcp_off + 17] = 0;
	ck = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)(d + v->ip_off),
				   d + v->tcp_off);
	d[v->tcp_off + 16] = saved[0];
	d[v->tcp_off + 17] = saved[1];
	return ck;
}

/*
 * Turn an input segment written against ISN 0 into one against the
 * engine's real ISN (see the header comment). 'd' is a private copy.
 * Returns 0, or -EINVAL for an ACK before the engine's SYN.
 */
int
tcp_rewrite_input(struct run *r, uint8_t *d, uint32_t caplen)
{
	struct tcp_view v;
	uint16_t old_ck, good_ck, new_ck;

	if (!tcp_view_parse(d, caplen, &v) || !(v.flags & RTE_TCP_ACK_FLAG))
		return 0;
	if (!r->have_isn)
		return -EINVAL;
	old_ck = (uint16_t)(d[v.tcp_off + 16] << 8 | d[v.tcp_off + 17]);
	good_ck = rte_be_to_cpu_16(tcp_checksum(d, &v));
	wire_put_be32(d + v.tcp_off + 8, v.ack + r->isn);
	for (unsigned i = 0; i < v.nb_sack; i++) {
		wire_put_be32(d + v.sack_off + 8 * i, v.sack[i][0] + r->isn);
		wire_put_be32(d + v.sack_off + 8 * i + 4, v.sack[i][1] + r->isn);
	}
	if (v.has_ts && r->have_tsval)
		wire_put_be32(d + v.ts_off + 4, r->tsval);
	/* A capture's wrong checksum stays wrong by the same bits. */
	new_ck = (uint16_t)(rte_be_to_cpu_16(tcp_checksum(d, &v)) ^
			    (old_ck ^ good_ck));
	d[v.tcp_off + 16] = (uint8_t)(new_ck >> 8);
	d[v.tcp_off + 17] = (uint8_t)new_ck;
	return 0;
}

/* Learn the engine's ISN (its first SYN) and latest TSval from a frame it
 * sent. */
void
tcp_learn(struct run *r, const uint8_t *d, uint32_t len)
{
	struct tcp_view v;

	if (r->tcp == NULL || !tcp_view_parse(d, len, &v))
		return;
	if ((v.flags & RTE_TCP_SYN_FLAG) && !r->have_isn) {
		r->have_isn = true;
		r->isn = v.seq;
	}
	if (v.has_ts) {
		r->have_tsval = true;
		r->tsval = v.tsval;
	}
}

/* Queue more of the app's 'send' bytes (byte i is i mod 251), in calls
 * of up to 64 KiB: one call per scenario-sized write, so segment
 * boundaries come from the engine, not from the app's chunking. */
static void
app_send(struct run *r, struct app_conn *a)
{
	static uint8_t buf[65536];

	while (a->sent < r->tcp->send) {
		uint32_t n = (uint32_t)RTE_MIN((uint64_t)sizeof(buf),
					       r->tcp->send - a->sent);
		int32_t k;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((a->sent + i) % 251);
		k = tcp_send(a->c, buf, n);
		if (k <= 0)
			return;
		a->sent += (uint32_t)k;
	}
}

/* Received bytes: echo or drop them; hold reads nothing until read_at. */
static void
app_read(struct run *r, struct app_conn *a)
{
	const struct tcp_spec *t = r->tcp;
	uint8_t buf[4096];

	if (t->app == TCP_APP_HOLD &&
	    (!t->has_read_at || r->now_us < t->read_at_us))
		return;
	for (;;) {
		uint32_t want = sizeof(buf), n;

		/* Echo reads no more than it can send back, so nothing has to
		 * wait in the app. */
		if (t->app == TCP_APP_ECHO)
			want = RTE_MIN(want, tcp_snd_space(a->c));
		if (want == 0 || tcp_rcv_bytes(a->c) == 0)
			return;
		n = tcp_recv(a->c, buf, want);
		if (n == 0)
			return;
		if (t->app == TCP_APP_ECHO && tcp_send(a->c, buf, n) != (int32_t)n)
			return;
	}
}

/* The app's turn after each poll: accept, send, read, shut down. */
void
app_step(struct run *r)
{
	const struct tcp_spec *t = r->tcp;
	struct tcp_conn *c;

	while (r->listener != NULL && r->nb_conns < APP_MAX_CONNS &&
	       (c = tcp_accept(r->listener)) != NULL)
		r->conns[r->nb_conns++].c = c;
	for (unsigned i = 0; i < r->nb_conns; i++) {
		struct app_conn *a = &r->conns[i];
		enum tcp_state st = tcp_conn_state(a->c);

		if (st < TCPS_ESTABLISHED)
			continue;
		app_send(r, a);
		app_read(r, a);
		if (t->has_shutdown_at && !a->shut &&
		    r->now_us >= t->shutdown_at_us && a->sent == t->send) {
			a->shut = true;
			tcp_shutdown(a->c);
		}
	}
}

/* Turn TCP on with the scenario's settings; connect opens its connection
 * at time 0. Returns 0 or a negative errno. */
int
tcp_start(struct run *r, const struct tcp_spec *t)
{
	int rc = tcp_engine_enable(r->eng, &t->conf);

	if (rc != 0)
		return rc;
	r->tcp = t;
	if (t->listen_port != 0)
		return tcp_listen(r->shard, 0, rte_cpu_to_be_16(t->listen_port),
				  APP_MAX_CONNS, NULL, &r->listener);
	{
		struct tcp_conn_opts o = { .nodelay = t->nodelay };

		rc = tcp_connect(r->shard, 0, 0, rte_cpu_to_be_16(t->lport),
				 t->connect_ip,
				 rte_cpu_to_be_16(t->connect_port), &o, NULL,
				 &r->conns[0].c);
		if (rc != 0)
			return rc;
	}
	r->nb_conns = 1;
	shard_tx_flush(r->shard);
	capture(r);
	return 0;
}

static void
flags_text(uint8_t flags, char *out)
{
	static const struct {
		uint8_t bit;
		char letter;
	} order[] = {
		{ RTE_TCP_SYN_FLAG, 'S' }, { RTE_TCP_FIN_FLAG, 'F' },
		{ RTE_TCP_RST_FLAG, 'R' }, { RTE_TCP_PSH_FLAG, 'P' },
		{ RTE_TCP_ACK_FLAG, 'A' },
	};
	char *p = out;

	for (size_t i = 0; i < RTE_DIM(order); i++)
		if (flags & order[i].bit)
			*p++ = order[i].letter;
	if (flags & ~(RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG |
		      RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG))
		p += sprintf(p, "(0x%02x)", flags);
	if (p == out)
		*p++ = '-';
	*p = '\0';
}

static void
opts_text(uint32_t opts, char *out, size_t size)
{
	static const char *const names[] = { "mss", "ws", "sackok", "ts",
					     "sack", "tfo" };
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < RTE_DIM(names); i++)
		if (opts & (1u << i))
			used += (size_t)snprintf(out + used, size - used, "%s%s",
						 used ? "," : "", names[i]);
	if (used == 0)
		snprintf(out, size, "none");
}

static void
sack_text(const uint32_t (*b)[2], unsigned n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%" PRIu32
					 "-%" PRIu32, i ? "," : "", b[i][0],
					 b[i][1]);
	if (n == 0)
		snprintf(out, size, "none");
}

#define TCP_FAIL(k, tok, fmt, ...) \
	printf("FAIL: tcp frame %u: %s: sent " fmt "\n", (k)->frame, tok, \
	       __VA_ARGS__)

/* One frameK line against the frame. Returns the number of failed
 * tokens. */
static unsigned
check_tcp_frame(const struct run *r, const struct tcp_check *k,
		const struct frame *f)
{
	uint32_t isn = r->have_isn ? r->isn : 0;
	uint64_t ms = f->us / 1000;
	struct tcp_view v;
	unsigned failed = 0;
	char a[128], b[128];

	tcp_view_parse(f->data, f->len, &v);
	if ((k->given & CHK_FLAGS) &&
	    (v.flags & ~k->flags_opt) != k->flags_req) {
		flags_text(v.flags, a);
		flags_text(k->flags_req, b);
		if (k->flags_opt) {
			size_t l = strlen(b);

			b[l] = '[';
			flags_text(k->flags_opt, b + l + 1);
			strcat(b, "]");
		}
		TCP_FAIL(k, "flags", "%s, expected %s", a, b);
		failed++;
	}
	if ((k->given & CHK_SEQ) && v.seq - isn != k->seq) {
		TCP_FAIL(k, "seq", "%" PRIu32 ", expected %" PRIu32,
			 v.seq - isn, k->seq);
		failed++;
	}
	if ((k->given & CHK_ACK) && v.ack != k->ack) {
		TCP_FAIL(k, "ack", "%" PRIu32 ", expected %" PRIu32, v.ack,
			 k->ack);
		failed++;
	}
	if ((k->given & CHK_LEN) && v.len != k->len) {
		TCP_FAIL(k, "len", "%" PRIu32 ", expected %" PRIu32, v.len,
			 k->len);
		failed++;
	}
	if ((k->given & CHK_WIN) && v.win != k->win) {
		TCP_FAIL(k, "win", "%u, expected %" PRIu32, v.win, k->win);
		failed++;
	}
	if ((k->given & CHK_WIN_OPEN) && v.win == 0) {
		TCP_FAIL(k, "win", "%u, expected >0", v.win);
		failed++;
	}
	if ((k->given & CHK_OPTS) && (v.opts & k->opts) != k->opts) {
		opts_text(v.opts, a, sizeof(a));
		opts_text(k->opts, b, sizeof(b));
		TCP_FAIL(k, "opts", "%s, expected at least %s", a, b);
		failed++;
	}
	if ((k->given & CHK_NOOPTS) && (v.opts & k->noopts) != 0) {
		opts_text(v.opts, a, sizeof(a));
		opts_text(k->noopts, b, sizeof(b));
		TCP_FAIL(k, "noopts", "%s, expected none of %s", a, b);
		failed++;
	}
	if ((k->given & CHK_SACK) &&
	    (v.nb_sack != k->nb_sack ||
	     memcmp(v.sack, k->sack, k->nb_sack * sizeof(k->sack[0])) != 0)) {
		sack_text((const uint32_t (*)[2])v.sack, v.nb_sack, a, sizeof(a));
		sack_text((const uint32_t (*)[2])k->sack, k->nb_sack, b,
			  sizeof(b));
		TCP_FAIL(k, "sack", "%s, expected %s", a, b);
		failed++;
	}
	if ((k->given & CHK_AT) && ms != k->at_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected %"
			 PRIu64, ms, f->us, k->at_ms);
		failed++;
	}
	if ((k->given & CHK_AT_GE) && ms < k->at_ge_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected >= %"
			 PRIu64, ms, f->us, k->at_ge_ms);
		failed++;
	}
	if ((k->given & CHK_AT_LE) && ms > k->at_le_ms) {
		TCP_FAIL(k, "at_ms", "%" PRIu64 " (%" PRIu64 " us), expected <= %"
			 PRIu64, ms, f->us, k->at_le_ms);
		failed++;
	}
	return failed;
}

/* [expect_tcp]: number the TCP frames the engine sent and check them. */
unsigned
check_tcp(const struct scenario *sc, const struct run *r)
{
	const struct frame **tcp = calloc(r->sent.n + 1, sizeof(*tcp));
	unsigned failed = 0;
	size_t n = 0;

	if (tcp == NULL) {
		printf("FAIL: out of memory checking TCP frames\n");
		return 1;
	}
	for (size_t i = 0; i < r->sent.n; i++) {
		struct tcp_view v;

		if (tcp_view_parse(r->sent.v[i].data, r->sent.v[i].len, &v))
			tcp[n++] = &r->sent.v[i];
	}
	if (sc->has_tcp_frames && n != sc->tcp_frames) {
		printf("FAIL: tcp_frames: sent %zu, expected %" PRIu64 "\n", n,
		       sc->tcp_frames);
		failed++;
	}
	for (unsigned i = 0; i < sc->nb_tcp_checks; i++) {
		const struct tcp_check *k = &sc->tcp_checks[i];

		if (k->frame > n) {
			printf("FAIL: tcp frame %u: not sent (%zu TCP frames "
			       "sent)\n", k->frame, n);
			failed++;
			continue;
		}
		failed += check_tcp_frame(r, k, tcp[k->frame - 1]);
	}
	free(tcp);
	return failed;
}

