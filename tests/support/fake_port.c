#include <errno.h>
#include <string.h>

#include "fake_port.h"

static uint16_t
fake_rx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct fake_port *fp = p->ops_ctx;
	uint16_t k = 0;

	(void)queue;
	fp->tx_tail_at_rx = fp->tx_tail;
	while (k < n && fp->rx_head != fp->rx_tail) {
		pkts[k++] = fp->rx[fp->rx_head % FAKE_PORT_QLEN];
		fp->rx_head++;
	}
	return k;
}

static uint16_t
fake_tx(struct port *p, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct fake_port *fp = p->ops_ctx;
	uint16_t k;

	(void)queue;
	if (fp->tx_accept_limit != 0 && n > fp->tx_accept_limit)
		n = (uint16_t)fp->tx_accept_limit;
	for (k = 0; k < n; k++) {
		if (fp->peer != NULL) {
			fp->wire_sent++;
			if ((fp->drop_every_nth != 0 &&
			     fp->wire_sent % fp->drop_every_nth == 0) ||
			    (fp->wire_filter != NULL &&
			     fp->wire_filter(fp->wire_filter_arg, pkts[k]))) {
				fp->wire_dropped++;
				rte_pktmbuf_free(pkts[k]);
				continue;
			}
			if (fake_port_inject(fp->peer, pkts[k]) != 0)
				fp->tx_refused++; /* freed by inject, like a lossy wire */
			continue;
		}
		if (fp->tx_tail - fp->tx_head == FAKE_PORT_QLEN)
			break;
		fp->tx[fp->tx_tail % FAKE_PORT_QLEN] = pkts[k];
		fp->tx_tail++;
	}
	return k;
}

const struct port_ops fake_port_ops = {
	.rx_burst = fake_rx,
	.tx_burst = fake_tx,
};

void
fake_port_init(struct fake_port *fp)
{
	memset(fp, 0, sizeof(*fp));
}

int
fake_port_inject(struct fake_port *fp, struct rte_mbuf *m)
{
	if (fp->rx_tail - fp->rx_head == FAKE_PORT_QLEN) {
		rte_pktmbuf_free(m);
		return -ENOSPC;
	}
	fp->rx[fp->rx_tail % FAKE_PORT_QLEN] = m;
	fp->rx_tail++;
	return 0;
}

static struct rte_mbuf *
mbuf_of(struct rte_mempool *pool, const void *frame, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	if (m == NULL)
		return NULL;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL || len > UINT16_MAX) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, frame, len);
	return m;
}

int
fake_port_inject_bytes(struct fake_port *fp, struct rte_mempool *pool,
		       const void *frame, unsigned len)
{
	struct rte_mbuf *m = mbuf_of(pool, frame, len);

	return m == NULL ? -ENOMEM : fake_port_inject(fp, m);
}

int
fake_port_inject_stale(struct fake_port *fp, struct rte_mempool *pool,
		       const void *frame, unsigned len, uint8_t l2_len,
		       uint16_t l3_len)
{
	struct rte_mbuf *m = mbuf_of(pool, frame, len);

	if (m == NULL)
		return -ENOMEM;
	m->l2_len = l2_len;
	m->l3_len = l3_len;
	return fake_port_inject(fp, m);
}

unsigned
fake_port_tx_count(const struct fake_port *fp)
{
	return fp->tx_tail - fp->tx_head;
}

struct rte_mbuf *
fake_port_pop_tx(struct fake_port *fp)
{
	struct rte_mbuf *m;

	if (fp->tx_head == fp->tx_tail)
		return NULL;
	m = fp->tx[fp->tx_head % FAKE_PORT_QLEN];
	fp->tx_head++;
	return m;
}

void
fake_port_drain(struct fake_port *fp)
{
	while (fp->rx_head != fp->rx_tail)
		rte_pktmbuf_free(fp->rx[fp->rx_head++ % FAKE_PORT_QLEN]);
	while (fp->tx_head != fp->tx_tail)
		rte_pktmbuf_free(fp->tx[fp->tx_head++ % FAKE_PORT_QLEN]);
}

void
fake_port_link(struct fake_port *a, struct fake_port *b)
{
	a->peer = b;
	b->peer = a;
}

struct engine *
test_engine_create(const char *name, struct fake_port *fp, const char *cidr,
		   const char *gateway, uint8_t mac_last,
		   const struct engine_conf *base)
{
	struct engine_conf ec;
	struct port_conf pc;
	struct rte_ether_addr mac = {{ 0x02, 0, 0, 0, 0, mac_last }};
	struct engine *eng;

	if (base != NULL) {
		ec = *base;
		ec.name = name;
	} else {
		engine_conf_init(&ec, name);
		ec.gratuitous_arp = false;
	}
	ec.clock_mode = ENGINE_CLOCK_VIRTUAL;
	memset(&pc, 0, sizeof(pc));
	pc.nb_addrs = 1;
	if (port_parse_ipv4(cidr, &pc.addrs[0].ip, &pc.addrs[0].prefix) != 0)
		return NULL;
	if (gateway != NULL && port_parse_ipv4(gateway, &pc.gateway, NULL) != 0)
		return NULL;
	eng = engine_create(&ec);
	if (eng == NULL)
		return NULL;
	if (engine_add_custom_port(eng, &fake_port_ops, fp, &mac, &pc) < 0 ||
	    engine_start(eng) != 0) {
		engine_destroy(eng);
		return NULL;
	}
	return eng;
}

void
test_engine_poll(struct engine *eng, unsigned passes)
{
	for (unsigned k = 0; k < passes; k++)
		for (unsigned i = 0; i < eng->nb_shards; i++)
			shard_poll(eng->shards[i]);
}

void
test_engine_advance(struct engine *eng, uint64_t us)
{
	for (unsigned i = 0; i < eng->nb_shards; i++)
		engine_clock_advance(&eng->shards[i]->clock, us);
	test_engine_poll(eng, 1);
}
