/*
 * wskdp-replay's report (see replay_report.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "replay_report.h"

void
replay_report_count(struct replay_live_summary *s)
{
	memset(s->totals, 0, sizeof(s->totals));
	for (uint32_t i = 0; i < s->nb_results; i++)
		if ((unsigned)s->results[i].result < REPLAY_RESULT_MAX)
			s->totals[s->results[i].result]++;
}

static void
byte_str(int b, char *buf, size_t len)
{
	if (b < 0)
		snprintf(buf, len, "none");
	else if (b >= 0x20 && b < 0x7f && b != '\'')
		snprintf(buf, len, "0x%02x '%c'", b, b);
	else
		snprintf(buf, len, "0x%02x", b);
}

static void
target_str(const struct sockaddr_in *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
}

void
replay_report_session_str(const struct replay_session_result *r, char *buf,
			  size_t len)
{
	char target[32], e[16], g[16];

	target_str(&r->target, target, sizeof(target));
	switch (r->result) {
	case REPLAY_DIFFERED:
		byte_str(r->expected, e, sizeof(e));
		byte_str(r->got, g, sizeof(g));
		snprintf(buf, len,
			 "flow %u round %u -> %s: differed at %s byte %" PRIu64
			 ": expected %s, got %s%s",
			 r->flow, r->round, target,
			 r->dir == REPLAY_SERVER ? "server" : "client", r->offset,
			 e, g, r->got < 0 ? " (server closed)" : "");
		break;
	case REPLAY_MATCHED:
		snprintf(buf, len, "flow %u round %u -> %s: matched (%" PRIu64
			 " bytes sent, %" PRIu64 " received%s)", r->flow, r->round,
			 target, r->sent, r->received, r->tfo ? ", fast open" : "");
		break;
	default:
		snprintf(buf, len, "flow %u round %u -> %s: %s (%s) after %" PRIu64
			 " bytes sent, %" PRIu64 " received", r->flow, r->round,
			 target, replay_result_str(r->result),
			 wsk_status_str(r->status), r->sent, r->received);
		break;
	}
}

void
replay_report_live_print(FILE *f, const struct replay_live_summary *s,
			 bool verbose)
{
	uint32_t shown = 0;
	char line[256];

	if (s->truncated)
		fprintf(f, "capture truncated at file offset %" PRIu64
			": replayed the flows before it\n", s->truncated_offset);
	for (uint32_t i = 0; i < s->nb_left_out; i++)
		fprintf(f, "flow %u left out: cut by the truncation\n", s->left_out[i]);
	for (uint32_t i = 0; i < s->nb_results; i++) {
		const struct replay_session_result *r = &s->results[i];

		if (!verbose && r->result == REPLAY_MATCHED)
			continue;
		if (!verbose && shown == 100) {
			fprintf(f, "(more sessions not shown; see --json)\n");
			break;
		}
		replay_report_session_str(r, line, sizeof(line));
		fprintf(f, "%s\n", line);
		shown++;
	}
	fprintf(f, "sessions %u: matched %" PRIu64 ", differed %" PRIu64
		", reset %" PRIu64 ", refused %" PRIu64 ", timed out %" PRIu64
		", failed %" PRIu64 "; %.3f s, %.0f sessions/s\n",
		s->nb_results, s->totals[REPLAY_MATCHED],
		s->totals[REPLAY_DIFFERED], s->totals[REPLAY_RESET],
		s->totals[REPLAY_REFUSED], s->totals[REPLAY_TIMED_OUT],
		s->totals[REPLAY_FAILED], s->duration_s,
		s->duration_s > 0 ? s->nb_results / s->duration_s : 0.0);
}

static json_t *
byte_json(int b)
{
	return b < 0 ? json_null() : json_integer(b);
}

static int
dump(json_t *root, const char *path)
{
	int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);

	json_decref(root);
	if (rc != 0) {
		fprintf(stderr, "wskdp-replay: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

int
replay_report_live_json(const char *path, const struct replay_live_summary *s)
{
	json_t *root = json_object(), *totals = json_object();
	json_t *sessions = json_array(), *left = json_array();
	char target[32];

	for (int k = 0; k < REPLAY_RESULT_MAX; k++)
		json_object_set_new(totals, replay_result_str(k),
				    json_integer((json_int_t)s->totals[k]));
	json_object_set_new(totals, "sessions", json_integer(s->nb_results));
	for (uint32_t i = 0; i < s->nb_left_out; i++)
		json_array_append_new(left, json_integer(s->left_out[i]));
	for (uint32_t i = 0; i < s->nb_results; i++) {
		const struct replay_session_result *r = &s->results[i];
		json_t *o = json_object();

		target_str(&r->target, target, sizeof(target));
		json_object_set_new(o, "flow", json_integer(r->flow));
		json_object_set_new(o, "round", json_integer(r->round));
		json_object_set_new(o, "result", json_string(replay_result_str(r->result)));
		json_object_set_new(o, "target", json_string(target));
		json_object_set_new(o, "tfo", json_boolean(r->tfo));
		json_object_set_new(o, "sent", json_integer((json_int_t)r->sent));
		json_object_set_new(o, "received", json_integer((json_int_t)r->received));
		json_object_set_new(o, "duration_us", json_integer((json_int_t)r->duration_us));
		if (r->result == REPLAY_DIFFERED) {
			json_object_set_new(o, "direction", json_string(
				r->dir == REPLAY_SERVER ? "server" : "client"));
			json_object_set_new(o, "offset", json_integer((json_int_t)r->offset));
			json_object_set_new(o, "expected", byte_json(r->expected));
			json_object_set_new(o, "got", byte_json(r->got));
		} else if (r->result != REPLAY_MATCHED) {
			json_object_set_new(o, "status", json_string(wsk_status_str(r->status)));
		}
		json_array_append_new(sessions, o);
	}
	json_object_set_new(root, "mode", json_string("live"));
	json_object_set_new(root, "pcap", json_string(s->pcap));
	json_object_set_new(root, "truncated", json_boolean(s->truncated));
	if (s->truncated)
		json_object_set_new(root, "truncated_offset",
				    json_integer((json_int_t)s->truncated_offset));
	json_object_set_new(root, "left_out", left);
	json_object_set_new(root, "duration_s", json_real(s->duration_s));
	json_object_set_new(root, "sessions_per_s", json_real(
		s->duration_s > 0 ? s->nb_results / s->duration_s : 0.0));
	json_object_set_new(root, "totals", totals);
	json_object_set_new(root, "sessions", sessions);
	return dump(root, path);
}

int
replay_report_raw_json(const char *path, const char *pcap,
		       const struct replay_raw_report *r, bool truncated,
		       uint64_t truncated_offset)
{
	json_t *root = json_object();

	json_object_set_new(root, "mode", json_string("raw"));
	json_object_set_new(root, "pcap", json_string(pcap));
	json_object_set_new(root, "truncated", json_boolean(truncated));
	if (truncated)
		json_object_set_new(root, "truncated_offset",
				    json_integer((json_int_t)truncated_offset));
	json_object_set_new(root, "frames", json_integer((json_int_t)r->frames));
	json_object_set_new(root, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(root, "rewritten", json_integer((json_int_t)r->rewritten));
	json_object_set_new(root, "duration_s", json_real(r->duration_ns / 1e9));
	json_object_set_new(root, "pps", json_real(r->pps));
	json_object_set_new(root, "gbps", json_real(r->gbps));
	return dump(root, path);
}
