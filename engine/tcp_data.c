/*
 * TCP data queues: the send queue (copied bytes, or user memory attached
 * as external buffers) and the receive queue, and the user calls that
 * fill and drain them and size them. Split from tcp_subr.c, which keeps
 * the shard, the connections, the listeners and the rest of the user calls.
 */
#include <errno.h>
#include <string.h>
#include <rte_malloc.h>

#include "engine.h"
#include "net.h"
#include "tcp_var.h"

/* --- queues ------------------------------------------------------------ */

void
tcp_sq_drop(struct tcp_conn *c, uint32_t bytes)
{
	c->sq_seq += bytes;
	c->sq_bytes -= bytes;
	while (bytes > 0 && c->sq_head != NULL) {
		struct rte_mbuf *h = c->sq_head;
		uint32_t k = RTE_MIN((uint32_t)h->data_len, bytes);

		h->data_off += k;
		h->data_len -= k;
		bytes -= k;
		if (h->data_len == 0) {
			c->sq_head = h->next;
			if (c->sq_head == NULL)
				c->sq_tail = NULL;
			if (c->sq_cur == h)
				c->sq_cur = NULL;
			h->next = NULL;
			/* Clones in flight keep the buffer until they go. */
			rte_pktmbuf_free_seg(h);
		} else if (c->sq_cur == h) {
			c->sq_cur = NULL;
		}
	}
}

void
tcp_rq_append(struct tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (c->rq_tail != NULL)
		c->rq_tail->next = m;
	else
		c->rq_head = m;
	c->rq_tail = rte_pktmbuf_lastseg(m);
	c->rq_bytes += len;
}

/* --- user calls on the queues ---------------------------------------- */

uint32_t
tcp_sq_append(struct tcp_conn *c, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	uint32_t done = 0, room;

	room = c->snd_buf > c->sq_bytes ? c->snd_buf - c->sq_bytes : 0;
	if (len > room)
		len = room;
	while (done < len) {
		struct rte_mbuf *t = c->sq_tail;
		uint32_t k;

		/* Bytes after the range a clone covers are private to the
		 * send queue, so appending to a cloned tail is safe. */
		if (t == NULL || tcp_sq_tail_room(c, t) == 0) {
			t = shard_alloc(c->ts->s);
			if (t == NULL)
				break;	/* counted by shard_alloc */
			t->data_off = 0;
			if (c->sq_tail != NULL)
				c->sq_tail->next = t;
			else
				c->sq_head = t;
			c->sq_tail = t;
		}
		k = RTE_MIN(len - done, tcp_sq_tail_room(c, t));
		memcpy(rte_pktmbuf_mtod_offset(t, uint8_t *, t->data_len),
		       p + done, k);
		t->data_len += k;
		t->pkt_len = t->data_len;
		done += k;
	}
	c->sq_bytes += done;
	return done;
}

/* Attach up to len bytes of user memory at va (IO address iova) to new
 * mbufs at the tail of the send queue, within the send buffer; returns
 * the bytes taken (fewer when mbufs ran out or shinfo holds
 * TCP_EXT_REFS_MAX references).
 *
 * Each mbuf holds at most one segment and ends where a segment will, as
 * counted from SND.MAX in t_maxseg steps: RACK keeps one transmit mark
 * per send-queue mbuf and retransmits lost mbufs a segment at a time
 * (tcp_recovery.c), so an mbuf must not straddle segments. The mbufs have
 * no tail room, so sq_append never copies bytes into user memory. */
static uint32_t
sq_append_ext(struct tcp_conn *c, uint8_t *va, rte_iova_t iova, uint32_t len,
	      struct rte_mbuf_ext_shared_info *shinfo)
{
	uint32_t seg = c->t_maxseg > 0 ? c->t_maxseg : 536;
	uint32_t done = 0, room;

	room = c->snd_buf > c->sq_bytes ? c->snd_buf - c->sq_bytes : 0;
	if (len > room)
		len = room;
	while (done < len) {
		uint32_t end = tcp_sq_end(c);
		uint32_t unsent = tcp_seq_gt(end, c->snd_max) ? end - c->snd_max : 0;
		uint32_t k = RTE_MIN(seg - unsent % seg, len - done);
		struct rte_mbuf *m;

		/* The refcount is 16 bits: leave the other half for the
		 * clones output makes of these mbufs. */
		if (rte_mbuf_ext_refcnt_read(shinfo) >= TCP_EXT_REFS_MAX)
			break;
		m = shard_alloc(c->ts->s);
		if (m == NULL)
			break;	/* counted by shard_alloc */
		/* attach_extbuf takes no reference itself. */
		rte_mbuf_ext_refcnt_update(shinfo, 1);
		rte_pktmbuf_attach_extbuf(m, va + done,
					  iova == RTE_BAD_IOVA ? RTE_BAD_IOVA
							       : iova + done,
					  (uint16_t)k, shinfo);
		m->data_len = (uint16_t)k;
		m->pkt_len = k;
		if (c->sq_tail != NULL)
			c->sq_tail->next = m;
		else
			c->sq_head = m;
		c->sq_tail = m;
		c->sq_bytes += k;
		done += k;
	}
	return done;
}

int32_t
tcp_send(struct tcp_conn *c, const void *data, uint32_t len)
{
	uint32_t done;

	if (c->t_flags & TF_SHUT_WR)
		return -EPIPE;
	/* A Fast Open connection is handed to the user at its SYN: what it
	 * answers leaves before the third ACK (tcp_output()). */
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT &&
	    !(c->state == TCPS_SYN_RECEIVED && (c->t_flags & TF_TFO_PENDING)))
		return -ENOTCONN;
	done = tcp_sq_append(c, data, len);
	if (done > 0)
		tcp_output(c);
	tcp_dispatch(c);
	return (int32_t)done;
}

int32_t
tcp_send_ext(struct tcp_conn *c, void *va, rte_iova_t iova, uint32_t len,
	     struct rte_mbuf_ext_shared_info *shinfo)
{
	uint32_t done;

	if (len > 0 && (va == NULL || shinfo == NULL))
		return -EINVAL;
	if (c->t_flags & TF_SHUT_WR)
		return -EPIPE;
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT &&
	    !(c->state == TCPS_SYN_RECEIVED && (c->t_flags & TF_TFO_PENDING)))
		return -ENOTCONN;
	done = sq_append_ext(c, va, iova, len, shinfo);
	if (done > 0)
		tcp_output(c);
	tcp_dispatch(c);
	return (int32_t)done;
}

/* 'done' bytes left the receive queue (tcp_recv, tcp_recv_mbufs). */
static void
rcv_consumed(struct tcp_conn *c, uint32_t done)
{
	c->rq_bytes -= done;
	/* tcp_output decides whether the reopened window is worth a
	 * segment (two segments or half the buffer). */
	if (done > 0 && c->state >= TCPS_ESTABLISHED &&
	    c->state != TCPS_TIME_WAIT)
		tcp_output(c);
	tcp_dispatch(c);
}

uint32_t
tcp_recv(struct tcp_conn *c, void *buf, uint32_t len)
{
	uint8_t *p = buf;
	uint32_t done = 0;

	while (done < len && c->rq_head != NULL) {
		struct rte_mbuf *h = c->rq_head;
		uint32_t k = RTE_MIN((uint32_t)h->data_len, len - done);

		memcpy(p + done, rte_pktmbuf_mtod(h, uint8_t *), k);
		h->data_off += k;
		h->data_len -= k;
		done += k;
		if (h->data_len == 0) {
			c->rq_head = h->next;
			if (c->rq_head == NULL)
				c->rq_tail = NULL;
			h->next = NULL;
			h->nb_segs = 1;
			rte_pktmbuf_free_seg(h);
		}
	}
	rcv_consumed(c, done);
	return done;
}

uint32_t
tcp_recv_mbufs(struct tcp_conn *c, struct rte_mbuf **head, uint32_t max_bytes)
{
	struct rte_mbuf *first = NULL, *last = NULL;
	uint32_t done = 0, nb = 0;

	if (head == NULL)
		return 0;
	while (done < max_bytes && c->rq_head != NULL &&
	       nb < RTE_MBUF_MAX_NB_SEGS) {
		struct rte_mbuf *h = c->rq_head, *m;
		uint32_t want = max_bytes - done;

		if (h->data_len <= want) {
			/* The whole segment changes hands. */
			c->rq_head = h->next;
			if (c->rq_head == NULL)
				c->rq_tail = NULL;
			m = h;
			if (m->data_len == 0) {
				m->next = NULL;
				m->nb_segs = 1;
				rte_pktmbuf_free_seg(m);
				continue;
			}
		} else {
			/* Cut: the front goes out as a clone sharing the
			 * buffer. rte_pktmbuf_attach() finds the buffer's
			 * owner for an indirect segment and takes a reference
			 * on the shared info of an external one, so the
			 * bytes stay valid whichever half is freed first. */
			m = rte_pktmbuf_alloc(c->ts->s->pool);
			if (m == NULL)
				break;
			rte_pktmbuf_attach(m, h);
			m->data_len = (uint16_t)want;
			h->data_off += want;
			h->data_len -= want;
		}
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (last != NULL)
			last->next = m;
		else
			first = m;
		last = m;
		done += m->data_len;
		nb++;
	}
	if (first != NULL) {
		first->nb_segs = (uint16_t)nb;
		first->pkt_len = done;
	}
	*head = first;
	rcv_consumed(c, done);
	return done;
}

uint32_t
tcp_rcv_bytes(const struct tcp_conn *c)
{
	return c->rq_bytes;
}

uint32_t
tcp_snd_space(const struct tcp_conn *c)
{
	return c->snd_buf > c->sq_bytes ? c->snd_buf - c->sq_bytes : 0;
}

uint32_t
tcp_snd_queued(const struct tcp_conn *c)
{
	return c->sq_bytes;
}

int
tcp_set_snd_buf(struct tcp_conn *c, uint32_t bytes)
{
	if (!tcp_buf_ok(bytes))
		return -EINVAL;
	/* sq_append() and tcp_snd_space() compare against it each time:
	 * nothing queued is touched. */
	c->snd_buf = bytes;
	return 0;
}

int
tcp_set_rcv_buf(struct tcp_conn *c, uint32_t bytes)
{
	if (!tcp_buf_ok(bytes))
		return -EINVAL;
	c->rcv_buf = bytes;
	/* tcp_output() announces a window that grew by two segments or half
	 * the buffer, as after tcp_recv(); rcv_window() keeps any edge
	 * already offered. */
	if (tcp_state_synchronized(c->state) && c->state != TCPS_TIME_WAIT) {
		tcp_output(c);
		tcp_dispatch(c);
	}
	return 0;
}

uint32_t
tcp_snd_buf(const struct tcp_conn *c)
{
	return c->snd_buf;
}

uint32_t
tcp_rcv_buf(const struct tcp_conn *c)
{
	return c->rcv_buf;
}

uint16_t
tcp_maxseg(const struct tcp_conn *c)
{
	return c->peer_mss != 0 ? c->t_maxseg
				: tcp_mss_clamp(c->sp, c->user_mss);
}

uint32_t
tcp_default_snd_buf(const struct shard *s)
{
	return tcp_shard_of(s)->conf.snd_buf;
}

uint32_t
tcp_default_rcv_buf(const struct shard *s)
{
	return tcp_shard_of(s)->conf.rcv_buf;
}

uint16_t
tcp_port_mss(const struct shard *s, uint16_t port_index)
{
	return port_index < s->nb_ports ? tcp_mss_for_port(&s->ports[port_index])
					: 0;
}

