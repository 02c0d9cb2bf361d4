/*
 * Zero-copy transmit: registered memory regions, and sends whose
 * completion waits until no mbuf references their memory.
 *
 * Regions. A client keeps WSK_MEMORY_REGIONS_MAX slots. A send notes at
 * acceptance which regions its segments lie in (a bit per slot) and counts
 * itself among their users until its completion is posted, so a region in
 * use cannot be deregistered. At push time (wsk_socket.c push_req) a
 * segment inside one of those regions goes to tcp_send_ext(), the rest to
 * tcp_send().
 *
 * References. Each request that attaches memory uses one record: the
 * rte_mbuf_ext_shared_info every mbuf attached for it (and every clone
 * output makes of those) references, plus a 'released' flag. The request
 * holds one reference of its own while it may attach more, so the count
 * cannot touch zero between two pushes; it drops it when every byte is
 * handed over or the send fails. When the last reference goes, DPDK calls
 * zc_free_cb() on whatever lcore freed that mbuf (a PMD's tx completion,
 * a peer shard reading a net_ring): the callback only sets the flag with
 * release order. The shard notices the flag in wsk_client_poll(), which
 * looks only at the requests on zc_wait: those whose bytes are all
 * acknowledged (or that failed) but whose memory is still referenced.
 *
 * Order. Sends complete in submission order, so a send waiting for its
 * release holds up the sends behind it (they stay on the socket's queue)
 * and a graceful disconnect (wsk_disconnect_progress() waits for the
 * queue to empty). When the socket fails or is closed, its sends leave
 * the socket: those that can complete at once do, until the first that
 * must wait; it and everything after it (later sends, the disconnect,
 * and the close or abortive disconnect that caused it, as then_cq) form a
 * chain through 'next' that wsk_client_poll() posts in order as the
 * releases come. The socket itself may be gone by then.
 *
 * Lifetime. The records live in a block separate from the client, with its
 * own atomic count: one for the client and one per armed record. A free
 * callback that comes after wsk_client_destroy() (an mbuf still in a
 * port) drops the block's last count and frees it, so no callback ever
 * writes to freed memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "port.h"
#include "shard.h"
#include "tcp.h"
#include "wsk.h"
#include "wsk_internal.h"

struct wsk_zc_rec {
	struct rte_mbuf_ext_shared_info shinfo;
	uint32_t released;		/* set by zc_free_cb (any lcore) */
	struct wsk_zc_block *block;
} __rte_cache_aligned;			/* written by other lcores */

struct wsk_zc_block {
	uint32_t refs;			/* the client's, plus armed records */
	struct wsk_zc_rec rec[];	/* one per request record */
};

static inline struct wsk_zc_rec *
rec_of(const struct wsk_client *c, const struct wsk_req *r)
{
	return &c->zc_block->rec[r - c->reqs];
}

/* The last reference to a record's memory is gone. May run on any lcore,
 * after the client is destroyed too. */
static void
zc_free_cb(void *addr, void *opaque)
{
	struct wsk_zc_rec *z = opaque;
	struct wsk_zc_block *b = z->block;

	(void)addr;
	/* After this store the shard may reuse the record: touch only the
	 * block, which our count keeps alive. */
	__atomic_store_n(&z->released, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

/* --- regions ------------------------------------------------------------- */

static bool
region_holds(const struct wsk_region *g, const void *va, size_t len)
{
	const uint8_t *p = va;

	return g->handle != 0 && p >= g->va && len <= g->len &&
	       (size_t)(p - g->va) <= g->len - len;
}

void
wsk_zc_send_accept(struct wsk_client *c, struct wsk_req *r, const WSK_BUF *b)
{
	const struct wsk_mdl *m = b->mdl;
	size_t need = b->offset + b->length;

	r->zc_regions = 0;
	if (c->nb_regions == 0)
		return;
	/* The segments the buffer covers (buf_valid() walked them). */
	for (; m != NULL && need > 0; m = m->next) {
		if (m->len >= WSK_ZEROCOPY_MIN_SEGMENT) {
			for (unsigned i = 0; i < WSK_MEMORY_REGIONS_MAX; i++) {
				if (region_holds(&c->regions[i], m->va, m->len)) {
					r->zc_regions |= 1u << i;
					break;
				}
			}
		}
		need -= RTE_MIN(need, m->len);
	}
	for (uint32_t bits = r->zc_regions; bits != 0; bits &= bits - 1)
		c->regions[__builtin_ctz(bits)].users++;
}

const struct wsk_region *
wsk_zc_region_for(const struct wsk_client *c, const struct wsk_req *r,
		  const struct wsk_mdl *mdl)
{
	if (mdl->len < WSK_ZEROCOPY_MIN_SEGMENT)
		return NULL;
	for (uint32_t bits = r->zc_regions; bits != 0; bits &= bits - 1) {
		const struct wsk_region *g = &c->regions[__builtin_ctz(bits)];

		if (region_holds(g, mdl->va, mdl->len))
			return g;
	}
	return NULL;
}

/*
 * What the client's port needs to read the region: nothing for a custom
 * port or a virtual device (they read through the virtual address), DPDK
 * registration plus a DMA mapping for a real device.
 */
static NTSTATUS
region_dma_map(struct wsk_client *c, struct wsk_region *g)
{
	const struct port *p = c->shard->ports[c->port_index].port;
	struct rte_eth_dev_info info;
	const struct rte_bus *bus;
	long page = sysconf(_SC_PAGESIZE);

	if (p->ethdev_id == UINT16_MAX)
		return STATUS_SUCCESS;
	if (rte_eth_dev_info_get(p->ethdev_id, &info) != 0 ||
	    info.device == NULL)
		return STATUS_NOT_SUPPORTED;
	bus = rte_dev_bus(info.device);
	if (bus != NULL && strcmp(rte_bus_name(bus), "vdev") == 0)
		return STATUS_SUCCESS;
	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		return STATUS_NOT_SUPPORTED;
	if (page <= 0 || (uintptr_t)g->va % (size_t)page != 0 ||
	    g->len % (size_t)page != 0)
		return STATUS_INVALID_PARAMETER;
	if (rte_extmem_register(g->va, g->len, NULL, 0, (size_t)page) != 0)
		return rte_errno == EEXIST ? STATUS_INVALID_PARAMETER
					   : STATUS_INSUFFICIENT_RESOURCES;
	if (rte_dev_dma_map(info.device, g->va, (uint64_t)(uintptr_t)g->va,
			    g->len) != 0) {
		int err = rte_errno;

		rte_extmem_unregister(g->va, g->len);
		return err == ENOTSUP ? STATUS_NOT_SUPPORTED
				      : STATUS_INSUFFICIENT_RESOURCES;
	}
	g->dma_dev = info.device;
	return STATUS_SUCCESS;
}

static void
region_clear(struct wsk_client *c, struct wsk_region *g)
{
	if (g->dma_dev != NULL) {
		rte_dev_dma_unmap(g->dma_dev, g->va,
				  (uint64_t)(uintptr_t)g->va, g->len);
		rte_extmem_unregister(g->va, g->len);
	}
	memset(g, 0, sizeof(*g));
	c->nb_regions--;
}

/* The records, made once: one per request, cache-line aligned. */
static bool
block_make(struct wsk_client *c)
{
	size_t size = sizeof(struct wsk_zc_block) +
		      (size_t)c->nb_reqs * sizeof(struct wsk_zc_rec);
	void *mem;

	if (c->zc_block != NULL)
		return true;
	if (posix_memalign(&mem, RTE_CACHE_LINE_SIZE, size) != 0)
		return false;
	memset(mem, 0, size);
	c->zc_block = mem;
	c->zc_block->refs = 1;
	for (unsigned i = 0; i < c->nb_reqs; i++)
		c->zc_block->rec[i].block = c->zc_block;
	return true;
}

NTSTATUS
wsk_register_memory(struct wsk_client *c, void *va, size_t len,
		    uint32_t *handle)
{
	struct wsk_region *g = NULL;
	uintptr_t lo = (uintptr_t)va;
	NTSTATUS st;
	unsigned slot = 0;

	if (c == NULL || va == NULL || len == 0 || handle == NULL ||
	    lo + len < lo)
		return STATUS_INVALID_PARAMETER;
	for (unsigned i = 0; i < WSK_MEMORY_REGIONS_MAX; i++) {
		struct wsk_region *o = &c->regions[i];

		if (o->handle == 0) {
			if (g == NULL) {
				g = o;
				slot = i;
			}
		} else if (lo < (uintptr_t)o->va + o->len &&
			   (uintptr_t)o->va < lo + len) {
			return STATUS_INVALID_PARAMETER;
		}
	}
	if (g == NULL || !block_make(c))
		return STATUS_INSUFFICIENT_RESOURCES;
	g->va = va;
	g->len = len;
	st = region_dma_map(c, g);
	if (st != STATUS_SUCCESS) {
		memset(g, 0, sizeof(*g));
		return st;
	}
	/* In IOVA-as-VA mode the IO address is the address (a device's
	 * mapping above says so too); otherwise only ports that never DMA
	 * got here, and they never read it. */
	g->iova = rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)lo
						     : RTE_BAD_IOVA;
	/* Handles: the slot below, a generation above, so a stale handle
	 * of a reused slot is told apart. Never 0. */
	if (++c->region_gen >= (UINT32_MAX / WSK_MEMORY_REGIONS_MAX))
		c->region_gen = 1;
	g->handle = c->region_gen * WSK_MEMORY_REGIONS_MAX + slot;
	c->nb_regions++;
	*handle = g->handle;
	return STATUS_SUCCESS;
}

NTSTATUS
wsk_deregister_memory(struct wsk_client *c, uint32_t handle)
{
	struct wsk_region *g;

	if (c == NULL || handle == 0)
		return STATUS_INVALID_PARAMETER;
	g = &c->regions[handle % WSK_MEMORY_REGIONS_MAX];
	if (g->handle != handle)
		return STATUS_INVALID_PARAMETER;
	if (g->users > 0)
		return STATUS_DEVICE_BUSY;
	region_clear(c, g);
	return STATUS_SUCCESS;
}

/* --- records ------------------------------------------------------------- */

struct rte_mbuf_ext_shared_info *
wsk_zc_arm(struct wsk_client *c, struct wsk_req *r)
{
	struct wsk_zc_rec *z = rec_of(c, r);

	if (!r->zc_used) {
		z->shinfo.free_cb = zc_free_cb;
		z->shinfo.fcb_opaque = z;
		rte_mbuf_ext_refcnt_set(&z->shinfo, 1);
		__atomic_store_n(&z->released, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&c->zc_block->refs, 1, __ATOMIC_RELAXED);
		r->zc_used = true;
		r->zc_armed = true;
	}
	return &z->shinfo;
}

void
wsk_zc_unarm(struct wsk_client *c, struct wsk_req *r)
{
	struct wsk_zc_rec *z;

	if (!r->zc_armed)
		return;
	r->zc_armed = false;
	z = rec_of(c, r);
	/* Reaching 0 here means no mbuf is left: DPDK will not call the
	 * callback, so do its work. */
	if (rte_mbuf_ext_refcnt_update(&z->shinfo, -1) == 0)
		zc_free_cb(NULL, z);
}

bool
wsk_zc_released(const struct wsk_client *c, const struct wsk_req *r)
{
	return !r->zc_used ||
	       (!r->zc_armed &&
		__atomic_load_n(&rec_of(c, r)->released, __ATOMIC_ACQUIRE));
}

/* --- the wait list -------------------------------------------------------- */

static void
wait_add(struct wsk_client *c, struct wsk_req *r)
{
	TAILQ_INSERT_TAIL(&c->zc_wait, r, zc_link);
	r->zc_listed = true;
	c->zc_wait_count++;
}

static void
wait_remove(struct wsk_client *c, struct wsk_req *r)
{
	if (!r->zc_listed)
		return;
	TAILQ_REMOVE(&c->zc_wait, r, zc_link);
	r->zc_listed = false;
	c->zc_wait_count--;
}

void
wsk_zc_wait_head(struct wsk_sock *so, struct wsk_req *r)
{
	if (r->zc_listed)
		return;
	r->zc_sock = so;
	so->client->counters.send_release_waits++;
	wait_add(so->client, r);
}

void
wsk_send_complete(struct wsk_client *c, struct wsk_req *r, NTSTATUS status,
		  uint64_t information)
{
	struct wsk_cq *then_cq = r->then_cq;
	uint64_t then_ud = r->then_user_data;

	wait_remove(c, r);
	for (uint32_t bits = r->zc_regions; bits != 0; bits &= bits - 1)
		c->regions[__builtin_ctz(bits)].users--;
	req_complete(c, r, status, information);
	/* Its slot was reserved when the close or disconnect was called. */
	if (then_cq != NULL)
		wsk_cq_post(then_cq, then_ud, STATUS_SUCCESS, 0, 0);
}

/* Post r now if nothing before it in the chain waits and its memory is
 * free; else queue it with its outcome. */
static void
chain_add(struct wsk_client *c, struct req_queue *chain, struct wsk_req *r,
	  NTSTATUS status, uint64_t information)
{
	bool counted = r->zc_listed;

	wait_remove(c, r);
	wsk_zc_unarm(c, r);
	if (chain->head == NULL && wsk_zc_released(c, r)) {
		wsk_send_complete(c, r, status, information);
		return;
	}
	if (r->zc_used && !counted)
		c->counters.send_release_waits++;
	r->zc_sock = NULL;
	r->zc_status = status;
	r->zc_info = information;
	rq_push(chain, r);
}

void
wsk_sends_fail(struct wsk_sock *so, NTSTATUS status, struct req_queue *chain)
{
	struct wsk_req *r;

	while ((r = rq_pop(&so->sends)) != NULL) {
		bool done = r->left == 0 && r->end <= so->snd_acked;

		chain_add(so->client, chain, r, done ? STATUS_SUCCESS : status,
			  done ? r->length : 0);
	}
	so->push_cursor = NULL;
}

void
wsk_disconnect_fail(struct wsk_sock *so, NTSTATUS status,
		    struct req_queue *chain)
{
	struct wsk_req *r = so->disconnect_req;

	if (r == NULL)
		return;
	so->disconnect_req = NULL;
	chain_add(so->client, chain, r, so->fin_acked ? STATUS_SUCCESS : status,
		  so->fin_acked ? r->length : 0);
}

struct wsk_req *
wsk_zc_chain_commit(struct wsk_client *c, struct req_queue *chain)
{
	if (chain->head == NULL)
		return NULL;
	wait_add(c, chain->head);
	return chain->tail;
}

/* --- poll and teardown ---------------------------------------------------- */

/* Post a chain from r on while released; returns what is left, or NULL. */
static struct wsk_req *
chain_flush(struct wsk_client *c, struct wsk_req *r, bool force)
{
	while (r != NULL && (force || wsk_zc_released(c, r))) {
		struct wsk_req *next = r->next;

		wsk_send_complete(c, r, r->zc_status, r->zc_info);
		r = next;
	}
	return r;
}

void
wsk_zc_poll(struct wsk_client *c)
{
	struct wsk_req *r;
	unsigned n;

	/* Only what was listed when the pass began; each entry is taken
	 * from the head and, if still waiting, put back at the tail. */
	for (n = c->zc_wait_count; n > 0 && (r = TAILQ_FIRST(&c->zc_wait)) != NULL;
	     n--) {
		struct wsk_sock *so = r->zc_sock;

		wait_remove(c, r);
		if (!wsk_zc_released(c, r)) {
			wait_add(c, r);
			continue;
		}
		if (so != NULL) {
			/* It heads its socket's sends: complete it and what
			 * follows, as an acknowledgment would have. */
			r->zc_sock = NULL;
			wsk_sock_complete_acked(so);
			if (so->state == SOCK_CONNECTED)
				wsk_disconnect_progress(so);
			continue;
		}
		r = chain_flush(c, r, false);
		if (r != NULL)
			wait_add(c, r);
	}
}

void
wsk_zc_fini(struct wsk_client *c)
{
	struct wsk_req *r;

	/* wsk_sock_fail_pending() made every socket's waiters chains. */
	while ((r = TAILQ_FIRST(&c->zc_wait)) != NULL) {
		wait_remove(c, r);
		chain_flush(c, r, true);
	}
	for (unsigned i = 0; i < WSK_MEMORY_REGIONS_MAX; i++)
		if (c->regions[i].handle != 0)
			region_clear(c, &c->regions[i]);
	if (c->zc_block != NULL &&
	    __atomic_sub_fetch(&c->zc_block->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(c->zc_block);
	c->zc_block = NULL;
}
