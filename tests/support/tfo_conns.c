#include <string.h>
#include <arpa/inet.h>
#include <check.h>
#include <rte_tcp.h>

#include "tfo_conns.h"

struct tfo_conn scon[8];
unsigned nscon;
bool reply_on_accept;
uint8_t out_data[CONN_BUF];

static void
drain(struct tfo_conn *t)
{
	uint32_t n;

	do {
		n = tcp_recv(t->c, t->data + t->got, CONN_BUF - t->got);
		if (n > 0 && t->got == 0)
			t->state_at_first_read = tcp_conn_state(t->c);
		t->got += n;
	} while (n > 0 && t->got < CONN_BUF);
}

static void
up_connected(struct tcp_conn *c)
{
	((struct tfo_conn *)tcp_conn_user(c))->connected++;
}

static void
up_accept_ready(struct tcp_listener *l)
{
	struct tlisten *t = tcp_listener_user(l);
	struct tcp_conn *c;

	t->ready++;
	while ((c = tcp_accept(l)) != NULL) {
		struct tfo_conn *x;

		ck_assert_uint_lt(nscon, RTE_DIM(scon));
		x = &scon[nscon++];
		memset(x, 0, sizeof(*x));
		x->c = c;
		x->state_at_accept = tcp_conn_state(c);
		tcp_conn_set_user(c, x);
		drain(x);
		if (reply_on_accept)
			x->reply_rc = tcp_send(c, "ok", 2);
	}
}

static void
up_readable(struct tcp_conn *c)
{
	drain(tcp_conn_user(c));
}

static void
up_acked(struct tcp_conn *c, uint32_t n)
{
	((struct tfo_conn *)tcp_conn_user(c))->acked += n;
}

static void
up_closed(struct tcp_conn *c, enum tcp_close_reason r)
{
	(void)r;
	((struct tfo_conn *)tcp_conn_user(c))->closed++;
}

static const struct tcp_upcalls upcalls = {
	.connected = up_connected,
	.accept_ready = up_accept_ready,
	.readable = up_readable,
	.acked = up_acked,
	.closed = up_closed,
};

void
tfo_conns_start(void)
{
	memset(&tl, 0, sizeof(tl));
	memset(scon, 0, sizeof(scon));
	nscon = 0;
	reply_on_accept = false;
	if (cs != NULL)
		tcp_set_upcalls(cs, &upcalls);
	tcp_set_upcalls(ss, &upcalls);
}

void
tfo_teardown(void)
{
	if (tl.l != NULL)
		tcp_listener_close(tl.l);
	teardown_common();
}

bool
is_tcp(const uint8_t *f)
{
	return f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == IPPROTO_TCP;
}

void
parse_frame(const uint8_t *f, uint32_t pkt_len, struct wire_seg *w)
{
	const struct rte_tcp_hdr *th = (const void *)(f + 34);
	unsigned off = (th->data_off >> 4) * 4;

	memset(w, 0, sizeof(*w));
	w->seq = ntohl(th->sent_seq);
	w->ack = ntohl(th->recv_ack);
	w->flags = th->tcp_flags;
	w->olen = off - 20;
	w->len = pkt_len - 34 - off;
	ck_assert_int_eq(tcp_options_parse((const uint8_t *)(th + 1), off - 20,
		(th->tcp_flags & RTE_TCP_SYN_FLAG) != 0, &w->opts), TCP_OPT_OK);
	memcpy(w->payload, f + 34 + off, RTE_MIN(w->len, (uint32_t)LOG_PAYLOAD));
}

const uint8_t *
fill(uint32_t len, uint8_t salt)
{
	for (uint32_t i = 0; i < len; i++)
		out_data[i] = pattern(i, salt);
	return out_data;
}

void
check_data(const struct tfo_conn *t, uint32_t len, uint8_t salt)
{
	ck_assert_uint_eq(t->got, len);
	for (uint32_t i = 0; i < len; i++)
		if (t->data[i] != pattern(i, salt))
			ck_abort_msg("byte %u differs", i);
}

void
listen_tfo(uint32_t max_pending)
{
	ck_assert_int_eq(tcp_listen(ss, 0, htons(SERVER_PORT), 16, &tl, &tl.l), 0);
	tcp_listener_set_tfo(tl.l, max_pending);
}
