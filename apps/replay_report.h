/*
 * wskdp-replay's report: per-session lines and totals on a terminal, and
 * the same as JSON (jansson) for pipelines.
 *
 * JSON of a live run:
 *   { "mode": "live", "pcap": FILE, "truncated": bool,
 *     "truncated_offset": N (when truncated), "left_out": [flow, ...],
 *     "duration_s": S, "sessions_per_s": R,
 *     "totals": { "sessions": N, "matched": N, "differed": N, "reset": N,
 *                 "refused": N, "timed_out": N, "failed": N },
 *     "sessions": [ { "flow", "round", "result", "target", "tfo", "sent",
 *                     "received", "duration_us", and for "differed":
 *                     "direction", "offset", "expected", "got" (a byte
 *                     value or null for none), for failures: "status" } ] }
 * JSON of a raw run:
 *   { "mode": "raw", "pcap": FILE, "truncated": bool, "truncated_offset",
 *     "frames", "bytes", "rewritten", "duration_s", "pps", "gbps" }
 */
#ifndef WSKDP_REPLAY_REPORT_H
#define WSKDP_REPLAY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "replay_live.h"
#include "replay_raw.h"

struct replay_live_summary {
	const char *pcap;
	bool truncated;
	uint64_t truncated_offset;
	const uint32_t *left_out;	/* flows not replayed (cut by truncation) */
	uint32_t nb_left_out;
	const struct replay_session_result *results;
	uint32_t nb_results;
	double duration_s;
	uint64_t totals[REPLAY_RESULT_MAX];
};

/* Count results by kind into s->totals. */
void replay_report_count(struct replay_live_summary *s);

/* Print session lines (all when verbose, else only the ones not matched,
 * at most 100) and the totals. */
void replay_report_live_print(FILE *f, const struct replay_live_summary *s,
			      bool verbose);

/* One line describing a session's outcome into buf. */
void replay_report_session_str(const struct replay_session_result *r,
			       char *buf, size_t len);

/* Write the live JSON to path. Returns 0 or -1 (message printed). */
int replay_report_live_json(const char *path, const struct replay_live_summary *s);

/* Write the raw JSON to path. Returns 0 or -1 (message printed). */
int replay_report_raw_json(const char *path, const char *pcap,
			   const struct replay_raw_report *r, bool truncated,
			   uint64_t truncated_offset);

#endif
