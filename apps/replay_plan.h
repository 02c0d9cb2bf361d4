/*
 * What a replayed flow sends when, and how what comes back is judged.
 *
 * Plan. A flow's turns (replay_flows.h) alternate between client and
 * server. replay_plan_build() turns them into two step lists, one per side
 * of the replay:
 *  - client steps: "once the server has sent need bytes, the client may
 *    send its stream up to upto" (and, for timed replay, at ts_ns after
 *    the flow's first packet);
 *  - server steps: "once the client has sent need bytes, the server may
 *    send up to upto" (used by the engine's own replay server).
 * A flow whose server speaks first has a client step 0 that needs those
 * server bytes; a flow whose client speaks first has need 0.
 *
 * Mask. A mask file names bytes of the recorded server streams to ignore
 * when comparing (a Date header, a session id). One rule a line, '#'
 * starts a comment:
 *	FLOW START-END		bytes [START, END) of FLOW's server stream
 *	FLOW header NAME	the value of every "NAME:" line of FLOW's
 *				server stream (HTTP-style, name case-
 *				insensitive, value up to its CR or LF)
 * FLOW is a flow index or '*' for every flow. Lengths are still compared:
 * a masked byte must be there, only its value is free.
 *
 * Compare. replay_compare() checks received bytes against the recorded
 * server stream at an offset, in one of three modes, and gives the first
 * stream offset where they differ.
 */
#ifndef WSKDP_REPLAY_PLAN_H
#define WSKDP_REPLAY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay_flows.h"

struct replay_step {
	uint64_t need;		/* bytes the other side must have sent first */
	uint64_t upto;		/* then this side may send its stream up to here */
	uint64_t ts_ns;		/* recorded time of the turn, from the flow's start */
};

struct replay_plan {
	struct replay_step *client;	/* in order; upto strictly increasing */
	uint32_t client_steps;
	struct replay_step *server;
	uint32_t server_steps;
	uint64_t client_bytes;		/* stream lengths */
	uint64_t server_bytes;
	/* The recorded client sent its FIN before the server's last turn (a
	 * request ended by half-close): the replay must close its side after
	 * its last byte, not wait for the whole answer first. */
	bool client_fin_first;
};

/*
 * Build the plan of flow f into *plan (arrays allocated here).
 * @return 0; -ENOMEM.
 */
int replay_plan_build(const struct replay_flow *f, struct replay_plan *plan);

/* Free a plan's arrays (the struct itself is the caller's). */
void replay_plan_free(struct replay_plan *plan);

enum replay_compare_mode {
	REPLAY_COMPARE_EXACT,	/* every byte equal */
	REPLAY_COMPARE_LENGTH,	/* only the number of bytes */
	REPLAY_COMPARE_MASK,	/* every byte outside the mask equal */
};

/* A half-open range of a server stream. */
struct replay_range {
	uint64_t start;
	uint64_t end;
};

struct replay_mask;

/*
 * Read a mask file (format above).
 * @return the mask; NULL with a message "FILE:LINE: what" in err when the
 *         file cannot be read or a line is not a rule.
 */
struct replay_mask *replay_mask_load(const char *path, char *err, size_t errlen);

/* Free a mask; NULL is ignored. */
void replay_mask_free(struct replay_mask *m);

/*
 * The byte ranges of flow f's server stream that mask m ignores, sorted and
 * merged, in a new array (*out, *count); m NULL gives none.
 * @return 0; -ENOMEM.
 */
int replay_mask_ranges(const struct replay_mask *m, const struct replay_flow *f,
		       struct replay_range **out, uint32_t *count);

/*
 * Compare 'len' received bytes 'got' with the recorded stream 'expected'
 * (of length expected_len) from stream offset 'offset'.
 * @param ranges, count  the ignored ranges (REPLAY_COMPARE_MASK only),
 *                       sorted; may be NULL with count 0.
 * @param diff           receives the first differing stream offset.
 * @return true when they agree: every byte is within the recording and
 *         equal (outside the ranges); false otherwise, with *diff set (a
 *         byte past expected_len differs by being there).
 */
bool replay_compare(enum replay_compare_mode mode, const uint8_t *expected,
		    uint64_t expected_len, const struct replay_range *ranges,
		    uint32_t count, uint64_t offset, const uint8_t *got,
		    uint64_t len, uint64_t *diff);

#endif
