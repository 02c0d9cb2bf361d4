/*
 * Live replay: the client side of recorded TCP conversations played
 * through wskapi against a server, and the answers checked.
 *
 * Model. A run replays a list of flows 'repeat' times, at most 'parallel'
 * at once and at most 'rate' new connections a second. Each replay of a
 * flow (a session) opens a wskapi connection socket to the flow's target,
 * with TCP Fast Open and the first client turn in connect_ex when the
 * recorded SYN carried data, then sends the client stream step by step
 * (replay_plan.h): each step once the server has sent as many bytes as the
 * recording shows before it (REPLAY_PACE_ANSWER), or at the step's
 * recorded time divided by 'speed' (REPLAY_PACE_RECORDED). Everything the
 * server sends is compared as it arrives. Once every recorded server byte
 * has come, the session closes gracefully (FIN), waits for the server's
 * FIN (up to linger_us) and closes the socket.
 *
 * Outcome of a session, first decided wins:
 *  REPLAY_DIFFERED   a received byte differs from the recording (or is one
 *                    too many), or the server closed before sending all;
 *                    offset, expected and got say where and what.
 *  REPLAY_RESET      the server reset the connection before all was
 *                    received.
 *  REPLAY_REFUSED    the SYN was answered by a reset.
 *  REPLAY_TIMED_OUT  not finished within timeout_us (or the SYN went
 *                    unanswered).
 *  REPLAY_FAILED     a local error (no socket, no memory, a refused call).
 *  REPLAY_MATCHED    all recorded server bytes came, equal as the compare
 *                    mode defines, before any of the above.
 *
 * Threads. Everything runs on the shard's thread: call replay_live_poll()
 * after each shard_poll() of the shard the client was created on.
 */
#ifndef WSKDP_REPLAY_LIVE_H
#define WSKDP_REPLAY_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "replay_flows.h"
#include "replay_plan.h"
#include "wsk.h"

enum replay_result {
	REPLAY_MATCHED,
	REPLAY_DIFFERED,
	REPLAY_RESET,
	REPLAY_REFUSED,
	REPLAY_TIMED_OUT,
	REPLAY_FAILED,
	REPLAY_RESULT_MAX
};

enum replay_pace {
	REPLAY_PACE_ANSWER,	/* each client step after the server's answer */
	REPLAY_PACE_RECORDED,	/* each client step at its recorded time / speed */
};

/* Where a flow goes: recorded server (address, port; 0 = any) to target. */
struct replay_target_rule {
	uint32_t match_addr;	/* host order; 0 matches any */
	uint16_t match_port;	/* 0 matches any */
	uint32_t addr;		/* host order; 0 keeps the recorded address */
	uint16_t port;		/* 0 keeps the recorded port */
};

#define REPLAY_MAX_TARGET_RULES 32

struct replay_live_conf {
	const struct replay_capture *cap;
	const uint32_t *flows;		/* flow indices to replay, in order */
	uint32_t nb_flows;
	uint32_t repeat;		/* rounds over the list, >= 1 */
	uint32_t parallel;		/* sessions at once, >= 1 */
	uint64_t rate_cps;		/* new connections per second, 0: no limit */
	uint64_t timeout_us;		/* per session, > 0 */
	uint64_t linger_us;		/* wait for the server's FIN after a match */
	enum replay_pace pace;
	double speed;			/* REPLAY_PACE_RECORDED: time divisor, > 0 */
	enum replay_compare_mode compare;
	const struct replay_mask *mask;	/* REPLAY_COMPARE_MASK */
	bool no_tfo;			/* never use Fast Open */
	/* Rules tried in order; the first match gives the target. None
	 * matching: the recorded server. */
	struct replay_target_rule rules[REPLAY_MAX_TARGET_RULES];
	uint32_t nb_rules;
	/* Called with the local port a session bound, before it connects
	 * (the engine's own replay server uses it to know the flow). May be
	 * NULL. */
	void (*on_bind)(void *ctx, uint16_t local_port, uint32_t flow);
	void *on_bind_ctx;
};

/* The outcome of one session. */
struct replay_session_result {
	uint32_t flow;			/* flow index */
	uint32_t round;			/* 0..repeat-1 */
	enum replay_result result;
	enum replay_dir dir;		/* REPLAY_DIFFERED: the stream that differed */
	uint64_t offset;		/* REPLAY_DIFFERED: stream offset */
	int expected;			/* recorded byte there, -1: none (end) */
	int got;			/* received byte, -1: none (FIN) */
	NTSTATUS status;		/* the failing call's status, or 0 */
	bool tfo;			/* Fast Open was asked for */
	uint64_t sent;			/* client bytes handed to send */
	uint64_t received;		/* server bytes received */
	uint64_t duration_us;		/* connect call to result */
	struct sockaddr_in target;
};

struct replay_live;

/*
 * Create a live replay on one shard (its TCP enabled): a wskapi client,
 * a completion ring, the plans and masks of every listed flow.
 * @return the replay; NULL with a message in err (bad conf, no memory,
 *         wsk_client_create() failed, a listed flow does not exist).
 */
struct replay_live *replay_live_create(struct shard *s,
				       const struct replay_live_conf *conf,
				       char *err, size_t errlen);

/*
 * Advance: run the client's submissions, reap completions, judge,
 * start sessions as parallel and rate allow, expire timed-out sessions.
 * Call after every shard_poll() of the shard.
 * @return true while sessions remain to run or to close.
 */
bool replay_live_poll(struct replay_live *rl);

/* Stop starting sessions; open ones are aborted and count as timed out
 * (the user interrupted). replay_live_poll() then finishes the closes. */
void replay_live_cancel(struct replay_live *rl);

/* Results in the order sessions finished; *count receives their number. */
const struct replay_session_result *replay_live_results(const struct replay_live *rl,
							uint32_t *count);

/* Destroy: aborts what is open (without waiting), frees everything.
 * NULL is ignored. */
void replay_live_destroy(struct replay_live *rl);

/* "matched", "differed", "reset", "refused", "timed_out", "failed";
 * "unknown" out of range. */
const char *replay_result_str(enum replay_result r);

#endif
