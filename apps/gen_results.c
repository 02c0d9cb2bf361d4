#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "gen_results.h"

int
gen_results_init(struct gen_results *r, size_t timeline_cap)
{
	memset(r, 0, sizeof(*r));
	gen_hist_init(&r->latency_us.connect);
	gen_hist_init(&r->latency_us.first_byte);
	gen_hist_init(&r->latency_us.complete);
	if (timeline_cap > 0) {
		r->timeline = calloc(timeline_cap, sizeof(*r->timeline));
		if (r->timeline == NULL)
			return -ENOMEM;
	}
	r->timeline_cap = timeline_cap;
	return 0;
}

void
gen_results_fini(struct gen_results *r)
{
	free(r->timeline);
	r->timeline = NULL;
	r->timeline_len = 0;
	r->timeline_cap = 0;
}

/* Bytes over seconds as 10^9 bits per second. */
static double
gbps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes * 8.0 / seconds / 1e9 : 0.0;
}

int
gen_results_tick(struct gen_results *r, double t, uint64_t active)
{
	struct gen_timeline_sample *s;
	double dt = t - r->last_tick.t;
	int rc = 0;

	if (!(dt > 0))
		return -EINVAL;
	if (r->timeline_len == r->timeline_cap) {
		r->timeline_dropped++;
		rc = -ENOSPC;
	} else {
		s = &r->timeline[r->timeline_len++];
		s->t = t;
		s->cps = (double)(r->connections.completed - r->last_tick.completed) / dt;
		s->active = active;
		s->tx_gbps = gbps(r->bytes.sent - r->last_tick.sent, dt);
		s->rx_gbps = gbps(r->bytes.received - r->last_tick.received, dt);
		s->retransmits = r->tcp.retransmits - r->last_tick.retransmits;
		s->errors = r->connections.failed - r->last_tick.failed;
	}
	/* Advance even when the sample is dropped: the next one must cover
	 * its own second only. */
	r->last_tick.t = t;
	r->last_tick.completed = r->connections.completed;
	r->last_tick.failed = r->connections.failed;
	r->last_tick.sent = r->bytes.sent;
	r->last_tick.received = r->bytes.received;
	r->last_tick.retransmits = r->tcp.retransmits;
	return rc;
}

void
gen_results_add(struct gen_results *total, const struct gen_results *src)
{
	total->connections.attempted += src->connections.attempted;
	total->connections.established += src->connections.established;
	total->connections.completed += src->connections.completed;
	total->connections.failed += src->connections.failed;
	total->connections.reset += src->connections.reset;
	total->connections.timed_out += src->connections.timed_out;
	total->bytes.sent += src->bytes.sent;
	total->bytes.received += src->bytes.received;
	total->tfo.cookies_requested += src->tfo.cookies_requested;
	total->tfo.cookies_received += src->tfo.cookies_received;
	total->tfo.syn_data_sent += src->tfo.syn_data_sent;
	total->tfo.syn_data_acked += src->tfo.syn_data_acked;
	total->tfo.fallbacks += src->tfo.fallbacks;
	total->tcp.retransmits += src->tcp.retransmits;
	total->tcp.rx_bad_segments += src->tcp.rx_bad_segments;
	gen_hist_merge(&total->latency_us.connect, &src->latency_us.connect);
	gen_hist_merge(&total->latency_us.first_byte, &src->latency_us.first_byte);
	gen_hist_merge(&total->latency_us.complete, &src->latency_us.complete);

	total->timeline_dropped += src->timeline_dropped;
	for (size_t i = 0; i < src->timeline_len; i++) {
		const struct gen_timeline_sample *s = &src->timeline[i];
		struct gen_timeline_sample *d;

		if (i >= total->timeline_cap) {
			total->timeline_dropped++;
			continue;
		}
		if (i >= total->timeline_len) {
			total->timeline[i] = *s;
			total->timeline_len = i + 1;
			continue;
		}
		d = &total->timeline[i];
		if (s->t > d->t)
			d->t = s->t;
		d->cps += s->cps;
		d->active += s->active;
		d->tx_gbps += s->tx_gbps;
		d->rx_gbps += s->rx_gbps;
		d->retransmits += s->retransmits;
		d->errors += s->errors;
	}
}

void
gen_results_finish(struct gen_results *r, double duration_s)
{
	r->duration_s = duration_s;
	r->rate.cps = duration_s > 0 ? (double)r->connections.completed / duration_s : 0.0;
	r->rate.tx_gbps = gbps(r->bytes.sent, duration_s);
	r->rate.rx_gbps = gbps(r->bytes.received, duration_s);
}

/* Add key = integer v to obj; returns false when out of memory. JSON
 * integers are signed 64-bit: no counter of a run comes near 2^63. */
static bool
put_u64(json_t *obj, const char *key, uint64_t v)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)v)) == 0;
}

static bool
put_real(json_t *obj, const char *key, double v)
{
	return json_object_set_new(obj, key, json_real(v)) == 0;
}

/* Attach a new empty object under key; NULL when out of memory. */
static json_t *
put_object(json_t *parent, const char *key)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(parent, key, o) != 0)
		return NULL;
	return o;
}

static bool
put_latency(json_t *parent, const char *key, const struct gen_hist *h)
{
	struct gen_hist_summary s;
	json_t *o = put_object(parent, key);

	gen_hist_summarize(h, &s);
	return o != NULL && put_u64(o, "p50", s.p50) && put_u64(o, "p90", s.p90) &&
	       put_u64(o, "p99", s.p99) && put_u64(o, "p999", s.p999) &&
	       put_u64(o, "max", s.max) && put_u64(o, "min", s.min) &&
	       put_real(o, "mean", s.mean) && put_u64(o, "count", s.count);
}

static bool
put_timeline(json_t *root, const struct gen_results *r)
{
	json_t *a = json_array();

	if (a == NULL || json_object_set_new(root, "timeline", a) != 0)
		return false;
	for (size_t i = 0; i < r->timeline_len; i++) {
		const struct gen_timeline_sample *s = &r->timeline[i];
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(a, o) != 0)
			return false;
		if (!put_real(o, "t", s->t) || !put_real(o, "cps", s->cps) ||
		    !put_u64(o, "active", s->active) ||
		    !put_real(o, "tx_gbps", s->tx_gbps) ||
		    !put_real(o, "rx_gbps", s->rx_gbps) ||
		    !put_u64(o, "retransmits", s->retransmits) ||
		    !put_u64(o, "errors", s->errors))
			return false;
	}
	return true;
}

/* The whole document, or NULL when out of memory. */
static json_t *
results_to_json(const struct gen_results *r)
{
	json_t *root = json_object(), *o;
	bool ok;

	if (root == NULL)
		return NULL;
	ok = put_real(root, "duration_s", r->duration_s);
	ok = ok && (o = put_object(root, "connections")) != NULL &&
	     put_u64(o, "attempted", r->connections.attempted) &&
	     put_u64(o, "established", r->connections.established) &&
	     put_u64(o, "completed", r->connections.completed) &&
	     put_u64(o, "failed", r->connections.failed) &&
	     put_u64(o, "reset", r->connections.reset) &&
	     put_u64(o, "timed_out", r->connections.timed_out);
	ok = ok && (o = put_object(root, "rate")) != NULL &&
	     put_real(o, "cps", r->rate.cps) &&
	     put_real(o, "tx_gbps", r->rate.tx_gbps) &&
	     put_real(o, "rx_gbps", r->rate.rx_gbps);
	ok = ok && (o = put_object(root, "bytes")) != NULL &&
	     put_u64(o, "sent", r->bytes.sent) &&
	     put_u64(o, "received", r->bytes.received);
	ok = ok && (o = put_object(root, "tfo")) != NULL &&
	     put_u64(o, "cookies_requested", r->tfo.cookies_requested) &&
	     put_u64(o, "cookies_received", r->tfo.cookies_received) &&
	     put_u64(o, "syn_data_sent", r->tfo.syn_data_sent) &&
	     put_u64(o, "syn_data_acked", r->tfo.syn_data_acked) &&
	     put_u64(o, "fallbacks", r->tfo.fallbacks);
	ok = ok && (o = put_object(root, "tcp")) != NULL &&
	     put_u64(o, "retransmits", r->tcp.retransmits) &&
	     put_u64(o, "rx_bad_segments", r->tcp.rx_bad_segments);
	ok = ok && (o = put_object(root, "latency_us")) != NULL &&
	     put_latency(o, "connect", &r->latency_us.connect) &&
	     put_latency(o, "first_byte", &r->latency_us.first_byte) &&
	     put_latency(o, "complete", &r->latency_us.complete);
	ok = ok && put_timeline(root, r);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int
gen_results_write_json(const struct gen_results *r, const char *path)
{
	json_t *root = results_to_json(r);
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
	int rc;

	if (root == NULL)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		rc = json_dumpf(root, stdout, flags);
		if (rc == 0 && (fputc('\n', stdout) == EOF || fflush(stdout) != 0))
			rc = -1;
	} else {
		rc = json_dump_file(root, path, flags);
	}
	json_decref(root);
	return rc == 0 ? 0 : -EIO;
}

int
gen_results_write_csv(const struct gen_results *r, const char *path)
{
	bool to_stdout = strcmp(path, "-") == 0;
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	int failed;

	if (f == NULL)
		return -EIO;
	fprintf(f, "t,cps,active,tx_gbps,rx_gbps,retransmits,errors\n");
	for (size_t i = 0; i < r->timeline_len; i++) {
		const struct gen_timeline_sample *s = &r->timeline[i];

		fprintf(f, "%.3f,%.1f,%" PRIu64 ",%.6f,%.6f,%" PRIu64 ",%" PRIu64 "\n",
			s->t, s->cps, s->active, s->tx_gbps, s->rx_gbps,
			s->retransmits, s->errors);
	}
	failed = ferror(f) || fflush(f) != 0;
	if (!to_stdout && fclose(f) != 0)
		failed = 1;
	return failed ? -EIO : 0;
}

static void
print_latency(FILE *f, const char *name, const struct gen_hist *h)
{
	struct gen_hist_summary s;

	gen_hist_summarize(h, &s);
	if (s.count == 0) {
		fprintf(f, "  %-11s (none)\n", name);
		return;
	}
	fprintf(f, "  %-11s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %9" PRIu64 " %11.1f %12" PRIu64 "\n", name, s.p50, s.p90, s.p99,
		s.p999, s.max, s.mean, s.count);
}

void
gen_results_print(const struct gen_results *r, FILE *f)
{
	fprintf(f, "duration     %.3f s\n", r->duration_s);
	fprintf(f, "connections  attempted %" PRIu64 ", established %" PRIu64
		", completed %" PRIu64 ", failed %" PRIu64 " (reset %" PRIu64
		", timed out %" PRIu64 ")\n", r->connections.attempted,
		r->connections.established, r->connections.completed,
		r->connections.failed, r->connections.reset,
		r->connections.timed_out);
	fprintf(f, "rate         %.1f conn/s, tx %.3f Gb/s, rx %.3f Gb/s\n",
		r->rate.cps, r->rate.tx_gbps, r->rate.rx_gbps);
	fprintf(f, "bytes        sent %" PRIu64 ", received %" PRIu64 "\n",
		r->bytes.sent, r->bytes.received);
	fprintf(f, "tfo          cookies requested %" PRIu64 ", received %" PRIu64
		", SYN data sent %" PRIu64 ", acked %" PRIu64 ", fallbacks %"
		PRIu64 "\n", r->tfo.cookies_requested, r->tfo.cookies_received,
		r->tfo.syn_data_sent, r->tfo.syn_data_acked, r->tfo.fallbacks);
	fprintf(f, "tcp          retransmits %" PRIu64 ", bad segments received %"
		PRIu64 "\n", r->tcp.retransmits, r->tcp.rx_bad_segments);
	fprintf(f, "latency (us)      p50       p90       p99     p99.9       max"
		"        mean        count\n");
	print_latency(f, "connect", &r->latency_us.connect);
	print_latency(f, "first byte", &r->latency_us.first_byte);
	print_latency(f, "complete", &r->latency_us.complete);
	if (r->timeline_dropped > 0)
		fprintf(f, "timeline     %" PRIu64 " samples dropped (no room)\n",
			r->timeline_dropped);
}

void
gen_live_init(struct gen_live *live, FILE *out, bool quiet)
{
	live->out = out;
	live->lines = 0;
	live->enabled = !quiet && out != NULL && isatty(fileno(out));
}

const char *
gen_live_header(void)
{
	return "      t     conn/s    active  tx Gb/s  rx Gb/s  retrans   errors"
	       "   p50 us   p99 us";
}

int
gen_live_format(char *buf, size_t len, const struct gen_timeline_sample *s,
		const struct gen_hist_summary *latency)
{
	if (latency == NULL || latency->count == 0)
		return snprintf(buf, len, "%7.1f %10.0f %9" PRIu64 " %8.3f %8.3f %8"
				PRIu64 " %8" PRIu64 " %8s %8s", s->t, s->cps,
				s->active, s->tx_gbps, s->rx_gbps,
				s->retransmits, s->errors, "-", "-");
	return snprintf(buf, len, "%7.1f %10.0f %9" PRIu64 " %8.3f %8.3f %8"
			PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64, s->t,
			s->cps, s->active, s->tx_gbps, s->rx_gbps,
			s->retransmits, s->errors, latency->p50, latency->p99);
}

void
gen_live_print(struct gen_live *live, const struct gen_timeline_sample *s,
	       const struct gen_hist_summary *latency)
{
	char line[160];

	if (!live->enabled)
		return;
	if (live->lines % GEN_LIVE_HEADER_EVERY == 0)
		fprintf(live->out, "%s\n", gen_live_header());
	gen_live_format(line, sizeof(line), s, latency);
	fprintf(live->out, "%s\n", line);
	fflush(live->out);
	live->lines++;
}
