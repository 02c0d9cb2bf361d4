/*
 * Live replay through wskapi (see replay_live.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <rte_malloc.h>

#include "engine.h"
#include "replay_live.h"

/* Sends one session keeps in flight; each needs its own mdl until its
 * completion. */
#define SEND_SLOTS 4
/* Largest piece one send (and connect_ex) takes. */
#define SEND_MAX 65535u
/* Receive buffer of a session. */
#define RECV_BYTES 16384u

/* What a completion belongs to: user_data = slot << 8 | op. */
enum live_op {
	OP_IGNORE,		/* socket, bind, get_local_address */
	OP_CONNECT,
	OP_SEND,
	OP_RECV,
	OP_DISCONNECT,
	OP_CLOSE,
};

enum session_state {
	S_FREE,
	S_CONNECTING,
	S_OPEN,
	S_CLOSING,		/* close_socket issued */
};

/* Per listed flow, built once. */
struct flow_ctx {
	const struct replay_flow *f;
	struct replay_plan plan;
	struct replay_range *ranges;
	uint32_t nb_ranges;
	bool tfo;
	struct sockaddr_in target;
};

struct session {
	enum session_state state;
	uint32_t slot;
	WSK_SOCKET *sock;
	const struct flow_ctx *fc;
	uint32_t flow_pos;
	uint64_t start_us;
	uint64_t deadline_us;
	uint64_t linger_until_us;	/* 0: not lingering */
	uint32_t step;			/* next client step to release */
	uint64_t allowed;		/* client bytes released */
	uint64_t issued;		/* client bytes handed to connect_ex/send */
	uint32_t sends_inflight;
	uint32_t send_seq;
	struct wsk_mdl send_mdl[SEND_SLOTS];
	struct wsk_mdl recv_mdl;
	uint8_t *recv_buf;
	bool recv_pending;
	bool fin_issued;
	bool fin_acked;
	bool eof;
	bool decided;
	struct replay_session_result res;
};

struct replay_live {
	struct replay_live_conf conf;
	struct shard *s;
	struct wsk_client *client;
	struct wsk_cq *cq;
	struct flow_ctx *flows;
	struct session *sessions;	/* conf.parallel */
	uint8_t *recv_bufs;
	uint64_t total;			/* sessions to run */
	uint64_t started;
	uint32_t active;
	uint64_t first_start_us;
	bool cancelled;
	struct replay_session_result *results;
	uint32_t nb_results;
};

static const char *const result_names[REPLAY_RESULT_MAX] = {
	[REPLAY_MATCHED] = "matched",
	[REPLAY_DIFFERED] = "differed",
	[REPLAY_RESET] = "reset",
	[REPLAY_REFUSED] = "refused",
	[REPLAY_TIMED_OUT] = "timed_out",
	[REPLAY_FAILED] = "failed",
};

const char *
replay_result_str(enum replay_result r)
{
	return (unsigned)r < REPLAY_RESULT_MAX ? result_names[r] : "unknown";
}

static struct wsk_request
live_req(const struct replay_live *rl, const struct session *ss, enum live_op op)
{
	return (struct wsk_request){ .cq = rl->cq,
				     .user_data = (uint64_t)ss->slot << 8 | op };
}

static uint64_t
live_now(const struct replay_live *rl)
{
	return engine_clock_now_us(&rl->s->clock);
}

/* The first rule that matches the recorded server, else the server. */
static void
pick_target(const struct replay_live_conf *c, const struct replay_flow *f,
	    struct sockaddr_in *out)
{
	uint32_t addr = f->tuple.server_addr;
	uint16_t port = f->tuple.server_port;

	for (uint32_t i = 0; i < c->nb_rules; i++) {
		const struct replay_target_rule *r = &c->rules[i];

		if ((r->match_addr == 0 || r->match_addr == f->tuple.server_addr) &&
		    (r->match_port == 0 || r->match_port == f->tuple.server_port)) {
			if (r->addr != 0)
				addr = r->addr;
			if (r->port != 0)
				port = r->port;
			break;
		}
	}
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_addr.s_addr = htonl(addr);
	out->sin_port = htons(port);
}

/* Settle the outcome once; later events cannot change it. */
static void
decide(struct replay_live *rl, struct session *ss, enum replay_result r,
       NTSTATUS status)
{
	if (ss->decided)
		return;
	ss->decided = true;
	ss->res.result = r;
	ss->res.status = status;
	ss->res.duration_us = live_now(rl) - ss->start_us;
}

static void
decide_differed(struct replay_live *rl, struct session *ss, uint64_t offset,
		int got)
{
	const struct replay_stream *st = &ss->fc->f->stream[REPLAY_SERVER];

	if (ss->decided)
		return;
	ss->res.dir = REPLAY_SERVER;
	ss->res.offset = offset;
	ss->res.expected = offset < st->length ? st->data[offset] : -1;
	ss->res.got = got;
	decide(rl, ss, REPLAY_DIFFERED, STATUS_SUCCESS);
}

static enum replay_result
failure_of(NTSTATUS st)
{
	if (st == STATUS_CONNECTION_REFUSED)
		return REPLAY_REFUSED;
	if (st == STATUS_IO_TIMEOUT)
		return REPLAY_TIMED_OUT;
	if (st == STATUS_CONNECTION_RESET || st == STATUS_CONNECTION_DISCONNECTED)
		return REPLAY_RESET;
	return REPLAY_FAILED;
}

static void
session_close(struct replay_live *rl, struct session *ss)
{
	struct wsk_request req;
	NTSTATUS st;

	if (ss->state == S_CLOSING || ss->state == S_FREE)
		return;
	req = live_req(rl, ss, OP_CLOSE);
	st = ss->sock->basic->close_socket(ss->sock, &req);
	if (st == STATUS_SUCCESS || st == STATUS_PENDING) {
		ss->state = S_CLOSING;
		return;
	}
	/* No room for the completion yet: tried again on the next poll,
	 * whose expiry scan closes every decided session. */
	if (!ss->decided)
		decide(rl, ss, REPLAY_FAILED, st);
}

/* The session's own outcome is known and the socket is gone. */
static void
session_free(struct replay_live *rl, struct session *ss)
{
	if (!ss->decided)
		decide(rl, ss, REPLAY_FAILED, STATUS_CANCELLED);
	rl->results[rl->nb_results++] = ss->res;
	ss->state = S_FREE;
	ss->sock = NULL;
	rl->active--;
}

static void
post_receive(struct replay_live *rl, struct session *ss)
{
	WSK_BUF buf = { .mdl = &ss->recv_mdl, .offset = 0, .length = RECV_BYTES };
	struct wsk_request req = live_req(rl, ss, OP_RECV);
	NTSTATUS st;

	if (ss->recv_pending || ss->eof || ss->state != S_OPEN)
		return;
	ss->recv_mdl = (struct wsk_mdl){ .va = ss->recv_buf, .len = RECV_BYTES };
	st = ss->sock->connection->receive(ss->sock, &buf, 0, &req);
	if (st == STATUS_SUCCESS || st == STATUS_PENDING ||
	    st == STATUS_FILE_FORCED_CLOSED) {
		ss->recv_pending = true;
		return;
	}
	decide(rl, ss, REPLAY_FAILED, st);
	session_close(rl, ss);
}

/* Release client steps whose condition holds. */
static void
release_steps(struct replay_live *rl, struct session *ss)
{
	const struct replay_plan *p = &ss->fc->plan;

	while (ss->step < p->client_steps) {
		const struct replay_step *st = &p->client[ss->step];

		if (rl->conf.pace == REPLAY_PACE_ANSWER) {
			if (ss->res.received < st->need)
				break;
		} else if (live_now(rl) < ss->start_us +
			   (uint64_t)(st->ts_ns / 1000.0 / rl->conf.speed)) {
			break;
		}
		ss->allowed = st->upto;
		ss->step++;
	}
}

/* Send what is released, then close our side when the recording says so. */
static void
pump(struct replay_live *rl, struct session *ss)
{
	const struct flow_ctx *fc = ss->fc;
	const uint8_t *data = fc->f->stream[REPLAY_CLIENT].data;

	if (ss->state != S_OPEN || ss->fin_issued)
		return;
	release_steps(rl, ss);
	while (ss->issued < ss->allowed && ss->sends_inflight < SEND_SLOTS) {
		uint64_t n = ss->allowed - ss->issued;
		struct wsk_mdl *m = &ss->send_mdl[ss->send_seq % SEND_SLOTS];
		struct wsk_request req = live_req(rl, ss, OP_SEND);
		WSK_BUF buf = { .mdl = m, .offset = 0 };
		NTSTATUS st;

		if (n > SEND_MAX)
			n = SEND_MAX;
		/* wskapi only reads send buffers; the recording stays
		 * untouched. */
		*m = (struct wsk_mdl){ .va = (void *)(uintptr_t)(data + ss->issued),
				       .len = n };
		buf.length = n;
		st = ss->sock->connection->send(ss->sock, &buf, 0, &req);
		if (st != STATUS_PENDING && st != STATUS_SUCCESS &&
		    st != STATUS_FILE_FORCED_CLOSED) {
			decide(rl, ss, REPLAY_FAILED, st);
			session_close(rl, ss);
			return;
		}
		ss->send_seq++;
		ss->sends_inflight++;
		ss->issued += n;
		ss->res.sent = ss->issued;
	}
	if (ss->issued == fc->plan.client_bytes &&
	    ss->step == fc->plan.client_steps &&
	    (ss->res.received == fc->plan.server_bytes ||
	     fc->plan.client_fin_first || ss->eof)) {
		struct wsk_request req = live_req(rl, ss, OP_DISCONNECT);
		NTSTATUS st = ss->sock->connection->disconnect(ss->sock, NULL, 0, &req);

		if (st != STATUS_PENDING && st != STATUS_SUCCESS &&
		    st != STATUS_FILE_FORCED_CLOSED) {
			decide(rl, ss, REPLAY_FAILED, st);
			session_close(rl, ss);
			return;
		}
		ss->fin_issued = true;
	}
}

/* All recorded server bytes are here and ours are sent: matched. Linger
 * for the server's FIN before closing. */
static void
check_complete(struct replay_live *rl, struct session *ss)
{
	const struct replay_plan *p = &ss->fc->plan;

	if (!ss->decided && ss->res.received == p->server_bytes &&
	    ss->issued == p->client_bytes && ss->step == p->client_steps) {
		decide(rl, ss, REPLAY_MATCHED, STATUS_SUCCESS);
		ss->linger_until_us = live_now(rl) + rl->conf.linger_us;
	}
	if (ss->eof && (ss->fin_acked || (ss->decided &&
					  ss->res.result != REPLAY_MATCHED)))
		session_close(rl, ss);
}

static void
on_receive(struct replay_live *rl, struct session *ss, NTSTATUS st, uint64_t n)
{
	const struct flow_ctx *fc = ss->fc;
	const struct replay_stream *srv = &fc->f->stream[REPLAY_SERVER];
	uint64_t diff;

	ss->recv_pending = false;
	if (ss->state != S_OPEN)
		return;
	if (st != STATUS_SUCCESS) {
		decide(rl, ss, failure_of(st), st);
		session_close(rl, ss);
		return;
	}
	if (n == 0) {
		ss->eof = true;
		if (ss->res.received < srv->length)
			decide_differed(rl, ss, ss->res.received, -1);
	} else {
		if (!ss->decided &&
		    !replay_compare(rl->conf.compare, srv->data, srv->length,
				    fc->ranges, fc->nb_ranges, ss->res.received,
				    ss->recv_buf, n, &diff))
			decide_differed(rl, ss, diff,
					ss->recv_buf[diff - ss->res.received]);
		ss->res.received += n;
		if (ss->decided && ss->res.result == REPLAY_DIFFERED) {
			session_close(rl, ss);
			return;
		}
	}
	pump(rl, ss);
	check_complete(rl, ss);
	post_receive(rl, ss);
}

static void
on_completion(struct replay_live *rl, const struct wsk_completion *e)
{
	struct session *ss = &rl->sessions[e->user_data >> 8];
	enum live_op op = (enum live_op)(e->user_data & 0xff);

	switch (op) {
	case OP_IGNORE:
		break;
	case OP_CONNECT:
		if (ss->state != S_CONNECTING)
			break;
		if (e->status != STATUS_SUCCESS) {
			decide(rl, ss, failure_of(e->status), e->status);
			session_close(rl, ss);
			break;
		}
		ss->state = S_OPEN;
		post_receive(rl, ss);
		pump(rl, ss);
		check_complete(rl, ss);
		break;
	case OP_SEND:
		ss->sends_inflight--;
		if (e->status != STATUS_SUCCESS && ss->state == S_OPEN) {
			decide(rl, ss, failure_of(e->status), e->status);
			session_close(rl, ss);
			break;
		}
		pump(rl, ss);
		break;
	case OP_RECV:
		on_receive(rl, ss, e->status, e->information);
		break;
	case OP_DISCONNECT:
		if (e->status == STATUS_SUCCESS)
			ss->fin_acked = true;
		else if (ss->state == S_OPEN)
			decide(rl, ss, failure_of(e->status), e->status);
		check_complete(rl, ss);
		break;
	case OP_CLOSE:
		session_free(rl, ss);
		break;
	}
}

/* Open the socket and connect; Fast Open carries the first client step
 * when it needs nothing from the server. */
static void
session_start(struct replay_live *rl, struct session *ss, uint64_t seq)
{
	uint32_t pos = (uint32_t)(seq % rl->conf.nb_flows);
	const struct flow_ctx *fc = &rl->flows[pos];
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct wsk_request req;
	struct wsk_mdl m;
	WSK_BUF buf = { .mdl = &m, .offset = 0, .length = 0 };
	uint8_t *recv_buf = ss->recv_buf;
	NTSTATUS st;

	memset(ss, 0, sizeof(*ss));
	ss->recv_buf = recv_buf;
	ss->slot = (uint32_t)(ss - rl->sessions);
	ss->fc = fc;
	ss->flow_pos = pos;
	ss->start_us = live_now(rl);
	ss->deadline_us = ss->start_us + rl->conf.timeout_us;
	ss->res.flow = fc->f->index;
	ss->res.round = (uint32_t)(seq / rl->conf.nb_flows);
	ss->res.tfo = fc->tfo;
	ss->res.target = fc->target;
	ss->res.expected = ss->res.got = -1;
	ss->state = S_CONNECTING;
	rl->active++;
	req = live_req(rl, ss, OP_IGNORE);
	st = wsk_socket(rl->client, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			WSK_FLAG_CONNECTION_SOCKET, ss, &ss->sock, &req);
	if (st != STATUS_SUCCESS) {
		decide(rl, ss, REPLAY_FAILED, st);
		ss->state = S_FREE;
		rl->active--;
		rl->results[rl->nb_results++] = ss->res;
		return;
	}
	if (fc->tfo) {
		uint32_t one = 1;

		st = ss->sock->basic->control_socket(ss->sock, WskSetOption,
			WSK_TCP_FASTOPEN, WSK_IPPROTO_TCP, sizeof(one), &one,
			0, NULL, NULL, NULL);
		if (st != STATUS_SUCCESS)
			goto fail;
	}
	st = ss->sock->connection->bind(ss->sock, (struct sockaddr *)&any, 0, &req);
	if (st != STATUS_SUCCESS)
		goto fail;
	if (rl->conf.on_bind != NULL) {
		struct sockaddr_in local;

		st = ss->sock->connection->get_local_address(ss->sock,
				(struct sockaddr *)&local, &req);
		if (st != STATUS_SUCCESS)
			goto fail;
		rl->conf.on_bind(rl->conf.on_bind_ctx, ntohs(local.sin_port),
				 fc->f->index);
	}
	if (fc->tfo && fc->plan.client_steps > 0 && fc->plan.client[0].need == 0) {
		uint64_t n = fc->plan.client[0].upto;

		if (n > SEND_MAX)
			n = SEND_MAX;
		m = (struct wsk_mdl){
			.va = (void *)(uintptr_t)fc->f->stream[REPLAY_CLIENT].data,
			.len = n };
		buf.length = n;
		ss->allowed = fc->plan.client[0].upto;
		ss->step = 1;
		ss->issued = n;
		ss->res.sent = n;
	}
	req = live_req(rl, ss, OP_CONNECT);
	st = ss->sock->connection->connect_ex(ss->sock,
			(const struct sockaddr *)&fc->target,
			buf.length > 0 ? &buf : NULL, 0, &req);
	if (st == STATUS_PENDING || st == STATUS_SUCCESS)
		return;
fail:
	decide(rl, ss, REPLAY_FAILED, st);
	session_close(rl, ss);
}

bool
replay_live_poll(struct replay_live *rl)
{
	struct wsk_completion *e;
	uint64_t now;
	unsigned head, n = 0;

	wsk_client_poll(rl->client);
	wsk_cq_for_each(rl->cq, head, e) {
		struct wsk_completion copy = *e;

		on_completion(rl, &copy);
		n++;
	}
	wsk_cq_advance(rl->cq, n);
	now = live_now(rl);
	/* Expiry, timed pacing and retried closes: one scan of the open
	 * sessions per pass, not per packet. */
	for (uint32_t i = 0; i < rl->conf.parallel && rl->active > 0; i++) {
		struct session *ss = &rl->sessions[i];

		if (ss->state == S_FREE || ss->state == S_CLOSING)
			continue;
		if (now >= ss->deadline_us && !ss->decided)
			decide(rl, ss, REPLAY_TIMED_OUT, STATUS_IO_TIMEOUT);
		if (ss->decided && (ss->res.result != REPLAY_MATCHED ||
				    now >= ss->linger_until_us ||
				    now >= ss->deadline_us)) {
			session_close(rl, ss);
			continue;
		}
		if (rl->conf.pace == REPLAY_PACE_RECORDED)
			pump(rl, ss);
	}
	if (rl->cancelled)
		return rl->active > 0;
	for (uint32_t i = 0; i < rl->conf.parallel && rl->started < rl->total; i++) {
		struct session *ss = &rl->sessions[i];

		if (ss->state != S_FREE)
			continue;
		if (rl->conf.rate_cps > 0) {
			if (rl->started == 0)
				rl->first_start_us = now;
			else if (now < rl->first_start_us +
				 rl->started * 1000000 / rl->conf.rate_cps)
				break;
		}
		session_start(rl, ss, rl->started++);
	}
	return rl->started < rl->total || rl->active > 0;
}

void
replay_live_cancel(struct replay_live *rl)
{
	rl->cancelled = true;
	for (uint32_t i = 0; i < rl->conf.parallel; i++) {
		struct session *ss = &rl->sessions[i];

		if (ss->state == S_FREE || ss->state == S_CLOSING)
			continue;
		decide(rl, ss, REPLAY_TIMED_OUT, STATUS_CANCELLED);
		session_close(rl, ss);
	}
}

const struct replay_session_result *
replay_live_results(const struct replay_live *rl, uint32_t *count)
{
	*count = rl->nb_results;
	return rl->results;
}

void
replay_live_destroy(struct replay_live *rl)
{
	if (rl == NULL)
		return;
	wsk_client_destroy(rl->client);
	wsk_cq_free(rl->cq);
	if (rl->flows != NULL) {
		for (uint32_t i = 0; i < rl->conf.nb_flows; i++) {
			replay_plan_free(&rl->flows[i].plan);
			free(rl->flows[i].ranges);
		}
	}
	free(rl->flows);
	free(rl->sessions);
	free(rl->recv_bufs);
	free(rl->results);
	free(rl);
}

struct replay_live *
replay_live_create(struct shard *s, const struct replay_live_conf *conf,
		   char *err, size_t errlen)
{
	struct replay_live *rl;
	unsigned ring;

	if (s == NULL || conf == NULL || conf->cap == NULL || conf->nb_flows == 0 ||
	    conf->repeat == 0 || conf->parallel == 0 || conf->parallel > 65536 ||
	    conf->timeout_us == 0 || (conf->pace == REPLAY_PACE_RECORDED &&
				      !(conf->speed > 0))) {
		snprintf(err, errlen, "bad live replay settings");
		return NULL;
	}
	if ((uint64_t)conf->nb_flows * conf->repeat > UINT32_MAX) {
		snprintf(err, errlen, "flows times repeat exceeds %u", UINT32_MAX);
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		goto nomem;
	rl->conf = *conf;
	rl->s = s;
	rl->total = (uint64_t)conf->nb_flows * conf->repeat;
	rl->flows = calloc(conf->nb_flows, sizeof(*rl->flows));
	rl->sessions = calloc(conf->parallel, sizeof(*rl->sessions));
	rl->recv_bufs = malloc((size_t)conf->parallel * RECV_BYTES);
	rl->results = calloc(rl->total, sizeof(*rl->results));
	if (rl->flows == NULL || rl->sessions == NULL || rl->recv_bufs == NULL ||
	    rl->results == NULL)
		goto nomem;
	for (uint32_t i = 0; i < conf->parallel; i++)
		rl->sessions[i].recv_buf = rl->recv_bufs + (size_t)i * RECV_BYTES;
	for (uint32_t i = 0; i < conf->nb_flows; i++) {
		struct flow_ctx *fc = &rl->flows[i];

		fc->f = replay_capture_flow(conf->cap, conf->flows[i]);
		if (fc->f == NULL) {
			snprintf(err, errlen, "no flow %u in the capture", conf->flows[i]);
			replay_live_destroy(rl);
			return NULL;
		}
		if (replay_plan_build(fc->f, &fc->plan) != 0)
			goto nomem;
		if (conf->compare == REPLAY_COMPARE_MASK &&
		    replay_mask_ranges(conf->mask, fc->f, &fc->ranges,
				       &fc->nb_ranges) != 0)
			goto nomem;
		fc->tfo = !conf->no_tfo && (fc->f->flags & REPLAY_FLOW_SYN_DATA);
		pick_target(conf, fc->f, &fc->target);
	}
	/* Room for every completion a session can have outstanding: its
	 * setup calls, connect, sends, receive, disconnect and close. */
	ring = conf->parallel * (SEND_SLOTS + 8);
	rl->cq = wsk_cq_create(NULL, ring, ring, SOCKET_ID_ANY);
	rl->client = wsk_client_create(s, conf->parallel < 65536 ? conf->parallel : 65536,
				       conf->parallel * (SEND_SLOTS + 8));
	if (rl->cq == NULL || rl->client == NULL) {
		snprintf(err, errlen, "cannot create the wskapi client for %u sessions",
			 conf->parallel);
		replay_live_destroy(rl);
		return NULL;
	}
	return rl;
nomem:
	snprintf(err, errlen, "out of memory");
	replay_live_destroy(rl);
	return NULL;
}
