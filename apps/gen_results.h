/*
 * What a wskdp-gen run measured, and the ways it is written out.
 *
 * Each shard owns one struct gen_results and counts into it on its own
 * lcore: plain counter increments and gen_hist_record(), nothing shared.
 * Once a second the shard calls gen_results_tick() to append one timeline
 * sample (the change of its counters since the previous tick). When the run
 * ends, the shards' results are added into a total with gen_results_add()
 * (counters summed, histograms merged, timeline samples summed position by
 * position) and gen_results_finish() derives the rates from the summed
 * counters and the measured duration. Nothing is estimated or sampled.
 *
 * Counting conventions, so that every connection is accounted for:
 *  - attempted: connects issued; established: handshakes completed;
 *  - completed: connections that did all their work and closed as asked;
 *  - failed: connections that ended any other way; reset and timed_out
 *    are the failures by those two causes (so reset + timed_out <= failed);
 *  - attempted == completed + failed + connections still open at the end.
 *  - bytes are application payload (what wsk_send accepted and wsk_receive
 *    returned), so the Gb/s figures are goodput, not wire rate.
 *  - latencies in microseconds: connect from the connect request to the
 *    connection established; first_byte from the request sent to the
 *    first byte of the response; complete from the connect request to the
 *    last byte of the (last) response.
 *
 * The JSON document (gen_results_write_json) holds, in this order:
 *   duration_s, connections.{attempted,established,completed,failed,reset,
 *   timed_out}, rate.{cps,tx_gbps,rx_gbps}, bytes.{sent,received},
 *   tfo.{cookies_requested,cookies_received,syn_data_sent,syn_data_acked,
 *   fallbacks}, tcp.{retransmits,rx_bad_segments},
 *   latency_us.{connect,first_byte,complete}.{p50,p90,p99,p999,max,min,
 *   mean,count}, and timeline: [{t,cps,active,tx_gbps,rx_gbps,retransmits,
 *   errors}, ...]. Counters and latencies are JSON integers, rates, t and
 *   duration_s JSON reals.
 */
#ifndef WSKDP_GEN_RESULTS_H
#define WSKDP_GEN_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gen_hist.h"

/* One second of a run (or of one shard of it). */
struct gen_timeline_sample {
	double t;		/* seconds since the start, at the sample's end */
	double cps;		/* connections completed per second */
	uint64_t active;	/* connections open at the sample */
	double tx_gbps;		/* payload sent, 10^9 bits per second */
	double rx_gbps;		/* payload received */
	uint64_t retransmits;	/* segments retransmitted during the second */
	uint64_t errors;	/* connections failed during the second */
};

struct gen_results {
	double duration_s;	/* measured, set by gen_results_finish */
	struct {
		uint64_t attempted;
		uint64_t established;
		uint64_t completed;
		uint64_t failed;
		uint64_t reset;
		uint64_t timed_out;
	} connections;
	struct {
		double cps;	/* completed / duration_s */
		double tx_gbps;	/* bytes.sent * 8 / duration_s / 10^9 */
		double rx_gbps;
	} rate;
	struct {
		uint64_t sent;
		uint64_t received;
	} bytes;
	struct {
		uint64_t cookies_requested;
		uint64_t cookies_received;
		uint64_t syn_data_sent;
		uint64_t syn_data_acked;
		uint64_t fallbacks;	/* data sent again after the SYN */
	} tfo;
	struct {
		uint64_t retransmits;
		uint64_t rx_bad_segments;
	} tcp;
	struct {
		struct gen_hist connect;
		struct gen_hist first_byte;
		struct gen_hist complete;
	} latency_us;

	/* Per-second samples: timeline[0 .. timeline_len), room for
	 * timeline_cap (fixed at init; a tick beyond it is dropped and
	 * counted in timeline_dropped). */
	struct gen_timeline_sample *timeline;
	size_t timeline_len;
	size_t timeline_cap;
	uint64_t timeline_dropped;

	/* Counters at the previous tick, to turn totals into per-second
	 * figures (private to gen_results_tick). */
	struct {
		double t;
		uint64_t completed;
		uint64_t failed;
		uint64_t sent;
		uint64_t received;
		uint64_t retransmits;
	} last_tick;
};

/* Zero r and allocate room for 'timeline_cap' per-second samples (a run of
 * D seconds needs D + 1; 0 keeps no timeline). Returns 0, or -ENOMEM. */
int gen_results_init(struct gen_results *r, size_t timeline_cap);

/* Free what gen_results_init allocated; r may be initialised again. */
void gen_results_fini(struct gen_results *r);

/* Append one timeline sample for time t (seconds since the start, greater
 * than the previous tick's) with 'active' connections open: the change of
 * r's counters since the previous tick divided by the time elapsed. No
 * allocation. Returns 0, -ENOSPC when the timeline is full (the sample is
 * dropped and counted), or -EINVAL when t does not advance. */
int gen_results_tick(struct gen_results *r, double t, uint64_t active);

/* Add shard results 'src' into 'total': every counter summed, every
 * histogram merged, timeline samples summed position by position (sample i
 * of the total is the sum of the shards' samples i, at the latest of their
 * times). Samples beyond total's capacity are counted in timeline_dropped.
 * Rates and duration_s are not added: call gen_results_finish after the
 * last shard. Cannot fail. */
void gen_results_add(struct gen_results *total, const struct gen_results *src);

/* Set duration_s and derive the rates from the counters. A duration of 0
 * or less gives rates of 0. Cannot fail. */
void gen_results_finish(struct gen_results *r, double duration_s);

/* Write r as one JSON document (see above) to 'path', or to standard
 * output when path is "-". Returns 0, -ENOMEM (building the document) or
 * -EIO (the file could not be written; errno has the cause). */
int gen_results_write_json(const struct gen_results *r, const char *path);

/* Write the timeline as CSV: the header line
 *   t,cps,active,tx_gbps,rx_gbps,retransmits,errors
 * then one line per sample. "-" is standard output. Returns 0 or -EIO. */
int gen_results_write_csv(const struct gen_results *r, const char *path);

/* Print a human summary of r to f. Cannot fail (output errors are f's). */
void gen_results_print(const struct gen_results *r, FILE *f);

/*
 * The live line printed once a second during a run, vmstat style: a header
 * every GEN_LIVE_HEADER_EVERY lines, then one line per sample.
 */
#define GEN_LIVE_HEADER_EVERY 20

struct gen_live {
	FILE *out;
	bool enabled;	/* false: gen_live_print prints nothing */
	unsigned lines;	/* sample lines printed so far */
};

/* Prepare live printing to 'out': enabled only when 'out' is a terminal
 * and 'quiet' is false, so runs piped to a file or CI log stay clean.
 * Cannot fail. */
void gen_live_init(struct gen_live *live, FILE *out, bool quiet);

/* Format one live line (no newline) for sample s and the latency so far
 * ('latency' may be NULL: dashes are printed) into buf of size len.
 * Returns what snprintf returns. */
int gen_live_format(char *buf, size_t len, const struct gen_timeline_sample *s,
		    const struct gen_hist_summary *latency);

/* The header line matching gen_live_format's columns (no newline). */
const char *gen_live_header(void);

/* Print the line for s (and the header when due) if live printing is
 * enabled; flushes so a terminal sees it at once. Cannot fail. */
void gen_live_print(struct gen_live *live, const struct gen_timeline_sample *s,
		    const struct gen_hist_summary *latency);

#endif
