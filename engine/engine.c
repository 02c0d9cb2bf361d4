/* Engine life cycle: shards, ports, start, run, stop, and the registry
 * that telemetry reads. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_telemetry.h>

#include "engine.h"
#include "net.h"

#define ENGINE_REGISTRY 16

/* Create/destroy and the telemetry thread meet here; never the fast path. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct engine *registry[ENGINE_REGISTRY];

void
engine_conf_init(struct engine_conf *conf, const char *name)
{
	memset(conf, 0, sizeof(*conf));
	conf->name = name;
	conf->nb_shards = 1;
	conf->lcores[0] = rte_lcore_id() == LCORE_ID_ANY ? 0 : rte_lcore_id();
	conf->clock_mode = ENGINE_CLOCK_TSC;
	conf->gratuitous_arp = true;
}

static struct engine *
registry_find_locked(const char *name)
{
	for (int i = 0; i < ENGINE_REGISTRY; i++)
		if (registry[i] != NULL && strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

struct engine *
engine_lookup(const char *name)
{
	struct engine *e;

	pthread_mutex_lock(&registry_lock);
	e = registry_find_locked(name);
	pthread_mutex_unlock(&registry_lock);
	return e;
}

static int
registry_add(struct engine *eng)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&registry_lock);
	if (registry_find_locked(eng->name) != NULL) {
		rc = -EEXIST;
	} else {
		for (int i = 0; i < ENGINE_REGISTRY; i++) {
			if (registry[i] == NULL) {
				registry[i] = eng;
				rc = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

static void
registry_remove(struct engine *eng)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < ENGINE_REGISTRY; i++)
		if (registry[i] == eng)
			registry[i] = NULL;
	pthread_mutex_unlock(&registry_lock);
}

static int
socket_of(unsigned lcore)
{
	int sid = (int)rte_lcore_to_socket_id(lcore);

	return sid < 0 ? SOCKET_ID_ANY : sid;
}

/* A shard's mbufs on a stack (LIFO) unless the EAL was told otherwise
 * (--mbuf-pool-ops-name) or the platform has its own pool ops. Between
 * shards, or between a shard and a PMD, one lcore frees what the other
 * allocates, so the pool's common store, not the lcore caches, carries
 * every mbuf: a ring (FIFO) would hand back the one freed longest ago,
 * its lines long evicted (32,768 mbufs are 75 MB), and a stack hands back
 * one freed moments ago, still in cache. Engine to engine over net_ring
 * that was 12-14% more connections/s. The ring is the fallback when the
 * stack driver is missing. */
static struct rte_mempool *
mbuf_pool_create(const char *name, unsigned n, int sid)
{
	const char *ops = rte_mbuf_user_mempool_ops();
	unsigned cache = RTE_MIN((unsigned)WSKDP_MBUF_CACHE, n / 8);
	struct rte_mempool *mp;

	if (ops == NULL)
		ops = rte_mbuf_platform_mempool_ops();
	if (ops == NULL)
		ops = "stack";
	mp = rte_pktmbuf_pool_create_by_ops(name, n, cache, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, sid, ops);
	if (mp == NULL)
		mp = rte_pktmbuf_pool_create(name, n, cache, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, sid);
	return mp;
}

static struct shard *
shard_create(struct engine *eng, unsigned id)
{
	const struct engine_conf *c = &eng->conf;
	unsigned lcore = c->lcores[id];
	int sid = socket_of(lcore);
	/* Engine names are at most 12 characters and ids below 64, so the
	 * names fit DPDK's limits; the buffer is larger only to keep the
	 * compiler's truncation analysis quiet. */
	char name[64];
	struct shard *s;
	unsigned mbufs = c->mbufs_per_shard ? c->mbufs_per_shard
					    : WSKDP_DEFAULT_MBUFS;

	s = rte_zmalloc_socket("shard", sizeof(*s), RTE_CACHE_LINE_SIZE, sid);
	if (s == NULL)
		return NULL;
	s->id = id;
	s->lcore = lcore;
	s->eng = eng;
	engine_clock_init(&s->clock, c->clock_mode);
	snprintf(name, sizeof(name), "%.12s_mb%u", eng->name, id);
	s->pool = mbuf_pool_create(name, mbufs, sid);
	if (s->pool == NULL)
		goto fail;
	if (c->nb_shards > 1) {
		snprintf(name, sizeof(name), "%.12s_arp%u", eng->name, id);
		s->arp_inbox = rte_ring_create(name, 1024, sid, RING_F_SC_DEQ);
		if (s->arp_inbox == NULL)
			goto fail;
	}
	return s;
fail:
	rte_mempool_free(s->pool);
	rte_free(s);
	return NULL;
}

static void
shard_destroy(struct shard *s)
{
	if (s == NULL)
		return;
	for (uint16_t i = 0; i < s->nb_ports; i++) {
		struct shard_port *sp = &s->ports[i];

		rte_pktmbuf_free_bulk(sp->tx, sp->tx_n);
		sp->tx_n = 0;
		arp_table_free(&sp->arp);
	}
	if (s->arp_inbox != NULL) {
		void *m;

		while (rte_ring_dequeue(s->arp_inbox, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(s->arp_inbox);
	}
	rte_mempool_free(s->pool);
	rte_free(s);
}

struct engine *
engine_create(const struct engine_conf *conf)
{
	struct engine *eng;
	int rc;

	if (conf == NULL || conf->name == NULL || conf->name[0] == '\0' ||
	    strlen(conf->name) > 12 || conf->nb_shards == 0 ||
	    conf->nb_shards > WSKDP_MAX_SHARDS) {
		rte_errno = EINVAL;
		return NULL;
	}
	eng = rte_zmalloc("engine", sizeof(*eng), RTE_CACHE_LINE_SIZE);
	if (eng == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	eng->conf = *conf;
	snprintf(eng->name, sizeof(eng->name), "%s", conf->name);
	eng->conf.name = eng->name;
	rc = registry_add(eng);
	if (rc != 0) {
		rte_free(eng);
		rte_errno = -rc == EEXIST ? EEXIST : ENOSPC;
		return NULL;
	}
	for (unsigned i = 0; i < conf->nb_shards; i++) {
		eng->shards[i] = shard_create(eng, i);
		if (eng->shards[i] == NULL) {
			engine_destroy(eng);
			rte_errno = ENOMEM;
			return NULL;
		}
		eng->nb_shards++;
	}
	return eng;
}

static int
conf_valid(const struct port_conf *pc)
{
	if (pc == NULL || pc->nb_addrs == 0 ||
	    pc->nb_addrs > WSKDP_PORT_MAX_ADDRS || pc->vlan_id > 4094)
		return 0;
	for (uint16_t i = 0; i < pc->nb_addrs; i++)
		if (pc->addrs[i].prefix > 32 || pc->addrs[i].ip == 0)
			return 0;
	return 1;
}

static int
port_attach(struct engine *eng, struct port *p)
{
	p->index = eng->nb_ports;
	p->nb_queues = eng->nb_shards;
	p->mtu = p->conf.mtu ? p->conf.mtu : WSKDP_DEFAULT_MTU;
	for (unsigned i = 0; i < eng->nb_shards; i++) {
		struct shard *s = eng->shards[i];
		struct shard_port *sp = &s->ports[p->index];
		char name[64];	/* <= 24 characters used, see shard_create */

		sp->port = p;
		sp->queue = (uint16_t)i;
		snprintf(name, sizeof(name), "%.12s_arp%u_%u", eng->name,
			 p->index, i);
		if (arp_table_init(&sp->arp, name, socket_of(s->lcore)) != 0) {
			for (unsigned k = 0; k < i; k++) {
				arp_table_free(&eng->shards[k]->ports[p->index].arp);
				eng->shards[k]->nb_ports = p->index;
			}
			return -ENOMEM;
		}
		s->nb_ports = p->index + 1;
	}
	eng->nb_ports++;
	return p->index;
}

/* The next free port slot, cleared and holding 'pc'; NULL with *rc set
 * when the engine cannot take another port. */
static struct port *
port_slot(struct engine *eng, const struct port_conf *pc, int *rc)
{
	struct port *p;

	*rc = eng->started ? -EBUSY :
	      eng->nb_ports == WSKDP_MAX_PORTS ? -ENOSPC : 0;
	if (*rc != 0)
		return NULL;
	p = &eng->ports[eng->nb_ports];
	memset(p, 0, sizeof(*p));
	p->conf = *pc;
	return p;
}

int
engine_add_ethdev_port(struct engine *eng, uint16_t ethdev_id,
		       const struct port_conf *pc)
{
	struct port *p;
	int rc;

	if (eng == NULL || !rte_eth_dev_is_valid_port(ethdev_id) ||
	    !conf_valid(pc))
		return -EINVAL;
	p = port_slot(eng, pc, &rc);
	if (p == NULL)
		return rc;
	p->ethdev_id = ethdev_id;
	p->ops = &port_ethdev_ops;
	if (pc->mac_set)
		p->mac = pc->mac;
	else if (rte_eth_macaddr_get(ethdev_id, &p->mac) != 0)
		return -EINVAL;
	return port_attach(eng, p);
}

int
engine_add_custom_port(struct engine *eng, const struct port_ops *ops,
		       void *ctx, const struct rte_ether_addr *mac,
		       const struct port_conf *pc)
{
	struct port *p;
	int rc;

	if (eng == NULL || ops == NULL || ops->rx_burst == NULL ||
	    ops->tx_burst == NULL || mac == NULL || !conf_valid(pc))
		return -EINVAL;
	p = port_slot(eng, pc, &rc);
	if (p == NULL)
		return rc;
	p->ethdev_id = UINT16_MAX;
	p->ops = ops;
	p->ops_ctx = ctx;
	p->mac = *mac;
	return port_attach(eng, p);
}

static int
ethdev_start(struct engine *eng, struct port *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	uint16_t id = p->ethdev_id, rxd = WSKDP_RX_DESC, txd = WSKDP_TX_DESC;
	int rc;

	memset(&ec, 0, sizeof(ec));
	rc = rte_eth_dev_info_get(id, &info);
	if (rc != 0)
		return rc;
	if (info.max_rx_queues < eng->nb_shards ||
	    info.max_tx_queues < eng->nb_shards)
		return -EINVAL;
	if (eng->nb_shards > 1) {
		uint64_t hf = info.flow_type_rss_offloads &
			      (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP);

		if (hf != 0) {
			ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			ec.rx_adv_conf.rss_conf.rss_hf = hf;
			p->rss = true;
		}
	}
	if (p->conf.mem_link && strcmp(info.driver_name, "net_ring") == 0) {
		/* net_ring hands the mbufs themselves to the peer, flags and
		 * all: "offloading" is leaving the sums to a receiver that
		 * trusts the flags (port_mem_link_rx()). No ethdev offload
		 * is configured, since net_ring advertises none. */
		p->mem_link = true;
		p->tx_ip_cksum = p->tx_tcp_cksum = true;
	}
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) &&
	    (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
				      RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->tx_ip_cksum = p->tx_tcp_cksum = true;
	}
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) ==
	    RTE_ETH_RX_OFFLOAD_CHECKSUM) {
		ec.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
		p->rx_cksum = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(id, eng->nb_shards, eng->nb_shards, &ec);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
	if (rc != 0)
		return rc;
	/* Virtual ports (rings, af_packet) have no MTU to set; that is fine,
	 * the engine still sizes its segments from conf.mtu. */
	rc = rte_eth_dev_set_mtu(id, p->mtu);
	if (rc != 0 && rc != -ENOTSUP && rc != -EINVAL)
		return rc;
	for (unsigned q = 0; q < eng->nb_shards; q++) {
		struct shard *s = eng->shards[q];
		int sid = socket_of(s->lcore);

		rc = rte_eth_rx_queue_setup(id, q, rxd, sid, NULL, s->pool);
		if (rc != 0)
			return rc;
		rc = rte_eth_tx_queue_setup(id, q, txd, sid, NULL);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_start(id);
	if (rc != 0)
		return rc;
	return 0;
}

int
engine_start(struct engine *eng)
{
	if (eng == NULL)
		return -EINVAL;
	if (eng->started)
		return -EBUSY;
	for (uint16_t i = 0; i < eng->nb_ports; i++) {
		struct port *p = &eng->ports[i];

		if (p->ethdev_id != UINT16_MAX) {
			int rc = ethdev_start(eng, p);

			if (rc != 0)
				return rc;
		}
	}
	eng->started = true;
	if (eng->conf.gratuitous_arp) {
		struct shard *s = eng->shards[0];

		s->now_us = engine_clock_now_us(&s->clock);
		for (uint16_t i = 0; i < s->nb_ports; i++)
			arp_announce(s, &s->ports[i]);
		shard_tx_flush(s);
	}
	return 0;
}

static int
shard_loop(void *arg)
{
	struct shard *s = arg;
	struct engine *eng = s->eng;

	uint64_t end = eng->run_duration_us ?
		engine_clock_now_us(&s->clock) + eng->run_duration_us : UINT64_MAX;

	/* Reading the clock costs an rdtsc per pass; shard_poll reads it
	 * anyway, so compare against the value it cached. */
	while (!eng->stop && s->now_us < end)
		shard_poll(s);
	shard_tx_flush(s);
	return 0;
}

int
engine_run(struct engine *eng, uint64_t duration_us)
{
	struct shard *mine = NULL;
	unsigned self = rte_lcore_id();
	int rc = 0;

	eng->run_duration_us = duration_us;
	for (unsigned i = 0; i < eng->nb_shards; i++) {
		struct shard *s = eng->shards[i];

		if (s->lcore == self) {
			mine = s;
			continue;
		}
		if (rte_eal_remote_launch(shard_loop, s, s->lcore) != 0) {
			eng->stop = true;
			rc = -EBUSY;
			break;
		}
	}
	if (mine != NULL && rc == 0)
		shard_loop(mine);
	for (unsigned i = 0; i < eng->nb_shards; i++)
		if (eng->shards[i]->lcore != self)
			rte_eal_wait_lcore(eng->shards[i]->lcore);
	return rc;
}

void
engine_stop(struct engine *eng)
{
	eng->stop = true;
}

void
engine_destroy(struct engine *eng)
{
	if (eng == NULL)
		return;
	registry_remove(eng);
	for (uint16_t i = 0; i < eng->nb_ports; i++) {
		struct port *p = &eng->ports[i];

		if (p->ethdev_id != UINT16_MAX && eng->started) {
			rte_eth_dev_stop(p->ethdev_id);
		}
	}
	for (unsigned i = 0; i < eng->nb_shards; i++)
		shard_destroy(eng->shards[i]);
	rte_free(eng);
}

uint64_t
engine_stat(const struct engine *eng, enum shard_stat stat)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < eng->nb_shards; i++)
		sum += __atomic_load_n(&eng->shards[i]->stats.v[stat],
				       __ATOMIC_RELAXED);
	return sum;
}

void
engine_stats(const struct engine *eng, struct shard_stats *out)
{
	for (int k = 0; k < SHARD_STAT_MAX; k++)
		out->v[k] = engine_stat(eng, (enum shard_stat)k);
}

/* Telemetry: /wskdp/engines, /wskdp/stats[,engine],
 * /wskdp/shard_stats,engine,shard. */
static int
tel_engines(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < ENGINE_REGISTRY; i++)
		if (registry[i] != NULL)
			rte_tel_data_add_array_string(d, registry[i]->name);
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t sum[SHARD_STAT_MAX] = { 0 };
	int found = 0;

	(void)cmd;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < ENGINE_REGISTRY; i++) {
		struct engine *e = registry[i];

		if (e == NULL || (params != NULL && params[0] != '\0' &&
				  strcmp(params, e->name) != 0))
			continue;
		found = 1;
		for (int k = 0; k < SHARD_STAT_MAX; k++)
			sum[k] += engine_stat(e, (enum shard_stat)k);
	}
	pthread_mutex_unlock(&registry_lock);
	if (!found && params != NULL && params[0] != '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	for (int k = 0; k < SHARD_STAT_MAX; k++)
		rte_tel_data_add_dict_u64(d, shard_stat_names[k], sum[k]);
	return 0;
}

static int
tel_shard_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char name[32];
	unsigned shard;
	struct engine *e;
	int rc = -EINVAL;

	(void)cmd;
	if (params == NULL || sscanf(params, "%31[^,],%u", name, &shard) != 2)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	e = registry_find_locked(name);
	if (e != NULL && shard < e->nb_shards) {
		rte_tel_data_start_dict(d);
		for (int k = 0; k < SHARD_STAT_MAX; k++)
			rte_tel_data_add_dict_u64(d, shard_stat_names[k],
				__atomic_load_n(&e->shards[shard]->stats.v[k],
						__ATOMIC_RELAXED));
		rc = 0;
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

int
engine_telemetry_register(void)
{
	static bool done;
	int rc;

	if (done)
		return 0;
	rc = rte_telemetry_register_cmd("/wskdp/engines", tel_engines,
		"Lists the wskdp engines of this process. No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/wskdp/stats", tel_stats,
			"Counters summed over shards. Parameter: engine name (optional, default all)");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/wskdp/shard_stats",
			tel_shard_stats,
			"Counters of one shard. Parameters: engine,shard");
	done = rc == 0;
	return rc;
}
