/*
 * The recorded server side, played by the engine itself through wskapi:
 * what wskdp-replay --self-test replays against (in one process, over an
 * in-memory net_ring link), so live replay can be measured and tested
 * without another TCP stack.
 *
 * Model. The server listens on every server port the capture holds. A
 * connection is tied to a flow by its client port, which the live replay
 * announces before connecting (replay_server_expect(), the on_bind hook of
 * struct replay_live_conf); a connection from an unannounced port is
 * reset. It then plays the flow's server steps (replay_plan.h): each once
 * the client has sent as many bytes as the recording shows before it. When
 * the client closes, it sends what is left and closes too; a flow whose
 * recorded server closed first is closed after its last byte. Client bytes
 * are counted, not checked: judging is the client's job.
 *
 * Event-driven: accept, receive and disconnect events of wskapi, sends from
 * replay_server_poll(). Runs on the shard's thread.
 */
#ifndef WSKDP_REPLAY_SERVER_H
#define WSKDP_REPLAY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "replay_flows.h"

struct shard;
struct replay_server;

/*
 * Create the server on a shard (TCP enabled) for every flow of cap.
 * @param max_conns  connections at once (1..65535).
 * @param corrupt_flow, corrupt_offset  when corrupt_flow >= 0, that flow's
 *        server byte at corrupt_offset is sent changed (x ^ 0xff): a server
 *        that answers differently, for tests.
 * @return the server; NULL with a message in err (more server ports than
 *         listeners, no memory, a listener refused).
 */
struct replay_server *replay_server_create(struct shard *s,
		const struct replay_capture *cap, unsigned max_conns,
		int64_t corrupt_flow, uint64_t corrupt_offset,
		char *err, size_t errlen);

/* Announce that a connection from client port 'port' replays flow 'flow'
 * (flow index). Matches replay_live_conf.on_bind; ctx is the server. */
void replay_server_expect(void *ctx, uint16_t port, uint32_t flow);

/* Reap completions and send what became due. Call after every
 * shard_poll() of the server's shard. */
void replay_server_poll(struct replay_server *srv);

/* Connections accepted so far. */
uint64_t replay_server_accepted(const struct replay_server *srv);

/* Close everything and free. NULL is ignored. */
void replay_server_destroy(struct replay_server *srv);

#endif
