/*
 * Proves that replay_capture_open() turns real captures (pcaps/replay/,
 * made by make_fixtures.sh) into the conversations the programs had: byte
 * counts equal to what curl and fixture_peer.py counted themselves
 * (expected.ini), request/response turns, TFO SYN data, retransmissions
 * reassembled to exactly the pattern sent, pcapng, SLL and SLL2, VLAN/QinQ
 * and raw IP link types, a truncated file reported at its offset with the
 * whole flows before it kept; and that hostile packets (conflicting
 * overlaps, bogus IHL, TCP data offset past the packet) are counted and
 * skipped. Synthetic captures are written with pcap_dump to temp files.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include <pcap/pcap.h>

#include "test_eal.h"
#include "replay_flows.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* ---- fixtures and expected.ini ------------------------------------ */

static char fixture_dir[PATH_MAX];

/* The fixtures sit next to this source file's tree; REPLAY_FIXTURES
 * overrides. __FILE__ is relative to the build root, where meson runs the
 * compiler and the tests. */
static void
find_fixture_dir(void)
{
	const char *env = getenv("REPLAY_FIXTURES");
	char *slash;

	if (env != NULL) {
		snprintf(fixture_dir, sizeof(fixture_dir), "%s", env);
		return;
	}
	snprintf(fixture_dir, sizeof(fixture_dir), "%s", __FILE__);
	slash = strrchr(fixture_dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(fixture_dir, sizeof(fixture_dir), ".");
	strncat(fixture_dir, "/../pcaps/replay",
		sizeof(fixture_dir) - strlen(fixture_dir) - 1);
}

static void
fixture_path(char *out, size_t n, const char *name)
{
	int r = snprintf(out, n, "%s/%s", fixture_dir, name);

	ck_assert(r > 0 && (size_t)r < n);
}

/* Value of key in [section] of expected.ini; fails the test if absent. */
static long long
expected(const char *section, const char *key)
{
	char path[PATH_MAX], line[256], want[64], current[256] = "";
	FILE *f;
	size_t klen = strlen(key);

	fixture_path(path, sizeof(path), "expected.ini");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	snprintf(want, sizeof(want), "[%s]", section);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			memcpy(current, line, sizeof(current));
			continue;
		}
		if (strcmp(current, want) == 0 && strncmp(line, key, klen) == 0 &&
		    line[klen] == '=') {
			fclose(f);
			return strtoll(line + klen + 1, NULL, 10);
		}
	}
	fclose(f);
	ck_abort_msg("expected.ini has no %s in %s", key, want);
	return -1;
}

static struct replay_capture *
open_fixture(const char *name)
{
	char path[PATH_MAX], err[256];
	struct replay_capture *cap;

	fixture_path(path, sizeof(path), name);
	cap = replay_capture_open(path, err, sizeof(err));
	ck_assert_msg(cap != NULL, "%s: %s", name, err);
	return cap;
}

static uint8_t
pattern_byte(uint64_t i)
{
	return (uint8_t)((i * 31 + 7) % 251);
}

/* Turns alternate sides, start with the client, and partition each
 * stream in order. */
static void
assert_turns_partition_streams(const struct replay_flow *f)
{
	uint64_t next[2] = { 0, 0 };
	uint32_t i;

	for (i = 0; i < f->turn_count; i++) {
		const struct replay_turn *t = &f->turns[i];

		ck_assert_int_eq(t->dir, i % 2 == 0 ? REPLAY_CLIENT : REPLAY_SERVER);
		ck_assert_uint_eq(t->offset, next[t->dir]);
		ck_assert_uint_gt(t->length, 0);
		next[t->dir] += t->length;
		if (i > 0)
			ck_assert_uint_ge(t->timestamp_ns, f->turns[i - 1].timestamp_ns);
	}
	ck_assert_uint_eq(next[REPLAY_CLIENT], f->stream[REPLAY_CLIENT].length);
	ck_assert_uint_eq(next[REPLAY_SERVER], f->stream[REPLAY_SERVER].length);
}

static void
assert_whole(const struct replay_flow *f)
{
	ck_assert_uint_eq(f->stream[REPLAY_CLIENT].gap_count, 0);
	ck_assert_uint_eq(f->stream[REPLAY_SERVER].gap_count, 0);
	ck_assert_uint_eq(f->stream[REPLAY_CLIENT].conflict_count, 0);
	ck_assert_uint_eq(f->stream[REPLAY_SERVER].conflict_count, 0);
	ck_assert(f->flags & REPLAY_FLOW_HANDSHAKE);
	ck_assert(!(f->flags & REPLAY_FLOW_CLIENT_GUESSED));
}

/* The turns protocol of fixture_peer.py: frames of a 4-byte length and a
 * body whose bytes follow the pattern at their stream offsets. */
static void
assert_turn_frames(const struct replay_stream *s)
{
	uint64_t off = 0, n, i;

	while (off < s->length) {
		ck_assert_uint_le(off + 4, s->length);
		n = (uint64_t)s->data[off] << 24 | (uint64_t)s->data[off + 1] << 16 |
		    (uint64_t)s->data[off + 2] << 8 | s->data[off + 3];
		ck_assert_uint_le(off + 4 + n, s->length);
		for (i = off + 4; i < off + 4 + n; i++)
			ck_assert_msg(s->data[i] == pattern_byte(i),
				      "byte %llu is %u", (unsigned long long)i,
				      s->data[i]);
		off += 4 + n;
	}
}

static void
assert_counts(const char *section, const struct replay_flow *f)
{
	ck_assert_uint_eq(f->stream[REPLAY_CLIENT].length,
			  expected(section, "client_bytes"));
	ck_assert_uint_eq(f->stream[REPLAY_SERVER].length,
			  expected(section, "server_bytes"));
	ck_assert_uint_eq(f->turn_count, expected(section, "turns"));
}

/* ---- the real captures -------------------------------------------- */

START_TEST(test_http_keepalive_holds_three_request_response_pairs_on_one_flow)
{
	struct replay_capture *cap = open_fixture("http_keepalive.pcap");
	const struct replay_flow *f;
	uint32_t i;

	ck_assert_uint_eq(expected("http_keepalive", "connections"), 1);
	ck_assert_uint_eq(replay_capture_flow_count(cap),
			  expected("http_keepalive", "flows"));
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	assert_counts("http_keepalive", f);
	ck_assert_uint_eq(f->turn_count, 2 * expected("http_keepalive", "requests"));
	assert_turns_partition_streams(f);
	ck_assert_uint_eq(f->tuple.server_port, 80);
	for (i = 0; i < f->turn_count; i++) {
		const struct replay_turn *t = &f->turns[i];
		const char *want = t->dir == REPLAY_CLIENT ? "GET /" : "HTTP/1.1 200 OK";

		ck_assert(memcmp(f->stream[t->dir].data + t->offset, want,
				 strlen(want)) == 0);
	}
	ck_assert(f->stream[REPLAY_CLIENT].fin_seen);
	ck_assert(!replay_capture_stats(cap)->truncated);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_multi_turn_reassembles_every_frame_of_every_turn)
{
	struct replay_capture *cap = open_fixture("multi_turn.pcap");
	const struct replay_flow *f;

	ck_assert_uint_eq(replay_capture_flow_count(cap),
			  expected("multi_turn", "flows"));
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	assert_counts("multi_turn", f);
	assert_turns_partition_streams(f);
	assert_turn_frames(&f->stream[REPLAY_CLIENT]);
	assert_turn_frames(&f->stream[REPLAY_SERVER]);
	ck_assert_uint_eq(f->tuple.server_port, 7000);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_tfo_second_connection_carries_data_in_its_syn)
{
	struct replay_capture *cap = open_fixture("tfo.pcap");
	const struct replay_flow *f0, *f1;

	ck_assert_uint_eq(replay_capture_flow_count(cap), expected("tfo", "flows"));
	f0 = replay_capture_flow(cap, 0);
	f1 = replay_capture_flow(cap, expected("tfo", "syn_data_flow"));
	ck_assert(f0 != f1);
	ck_assert(!(f0->flags & REPLAY_FLOW_SYN_DATA));
	ck_assert(f1->flags & REPLAY_FLOW_SYN_DATA);
	assert_whole(f0);
	assert_whole(f1);
	assert_counts("tfo", f0);
	assert_counts("tfo", f1);
	assert_turns_partition_streams(f1);
	assert_turn_frames(&f1->stream[REPLAY_CLIENT]);
	/* The SYN's data is the first turn and starts at its timestamp. */
	ck_assert_uint_eq(f1->turns[0].timestamp_ns, f1->syn_timestamp_ns);
	ck_assert_uint_gt(f1->syn_timestamp_ns, f0->syn_timestamp_ns);
	ck_assert_uint_ge(f1->synack_timestamp_ns, f1->syn_timestamp_ns);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_retransmissions_reassemble_to_exactly_the_pattern_sent)
{
	struct replay_capture *cap = open_fixture("retransmissions.pcap");
	const struct replay_flow *f;
	const struct replay_stream *c;
	uint64_t i;

	ck_assert_uint_eq(replay_capture_flow_count(cap),
			  expected("retransmissions", "flows"));
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	c = &f->stream[REPLAY_CLIENT];
	ck_assert_uint_eq(c->length, expected("retransmissions", "client_bytes"));
	for (i = 0; i < c->length; i++)
		ck_assert_msg(c->data[i] == pattern_byte(i), "byte %llu is %u",
			      (unsigned long long)i, c->data[i]);
	/* Every dropped data segment was captured and sent again. */
	ck_assert_uint_gt(expected("retransmissions", "dropped_packets"), 0);
	ck_assert_uint_ge(c->duplicate_bytes,
			  expected("retransmissions", "dropped_packets"));
	ck_assert_uint_eq(f->stream[REPLAY_SERVER].length,
			  expected("retransmissions", "server_bytes"));
	ck_assert(memcmp(f->stream[REPLAY_SERVER].data, "got 80000\n", 10) == 0);
	ck_assert_uint_eq(f->turn_count, 2);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_pcapng_file_reads_like_pcap)
{
	struct replay_capture *cap = open_fixture("pcapng.pcapng");
	const struct replay_flow *f;

	ck_assert_int_eq(replay_capture_link_type(cap), DLT_EN10MB);
	ck_assert_uint_eq(replay_capture_flow_count(cap), expected("pcapng", "flows"));
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	assert_counts("pcapng", f);
	assert_turns_partition_streams(f);
	replay_capture_free(cap);
}
END_TEST

static void
check_cooked(const char *file, const char *section)
{
	struct replay_capture *cap = open_fixture(file);
	const struct replay_flow *f;

	ck_assert_int_eq(replay_capture_link_type(cap), expected(section, "link_type"));
	ck_assert_uint_eq(replay_capture_flow_count(cap), expected(section, "flows"));
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	assert_counts(section, f);
	assert_turns_partition_streams(f);
	assert_turn_frames(&f->stream[REPLAY_CLIENT]);
	assert_turn_frames(&f->stream[REPLAY_SERVER]);
	replay_capture_free(cap);
}

START_TEST(test_linux_cooked_sll_capture_is_read)
{
	check_cooked("sll.pcap", "sll");
}
END_TEST

START_TEST(test_linux_cooked_sll2_capture_is_read)
{
	check_cooked("sll2.pcap", "sll2");
}
END_TEST

START_TEST(test_truncated_file_reports_offset_and_keeps_whole_flows_before_it)
{
	struct replay_capture *cap = open_fixture("truncated.pcap");
	const struct replay_stats *st = replay_capture_stats(cap);
	const struct replay_flow *f;

	ck_assert(st->truncated);
	ck_assert_uint_eq(st->truncated_offset,
			  expected("truncated", "truncated_offset"));
	ck_assert_str_ne(st->truncated_reason, "");
	ck_assert_uint_eq(replay_capture_flow_count(cap),
			  expected("truncated", "flows"));
	ck_assert_uint_eq(expected("truncated", "whole_flows"), 1);
	f = replay_capture_flow(cap, 0);
	assert_whole(f);
	assert_counts("truncated", f);
	ck_assert(f->stream[REPLAY_CLIENT].fin_seen);
	ck_assert(f->stream[REPLAY_SERVER].fin_seen);
	/* The second flow ends before its client sent anything whole. */
	f = replay_capture_flow(cap, 1);
	ck_assert_uint_eq(f->stream[REPLAY_CLIENT].length, 0);
	replay_capture_free(cap);
}
END_TEST

/* ---- synthetic captures ------------------------------------------- */

#define CLIENT_ADDR 0x0a000002u
#define SERVER_ADDR 0x0a000001u

struct pkt_spec {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	const char *payload;
	uint32_t ihl_words;	/* 0: 5 */
	uint32_t doff_words;	/* 0: 5 */
	uint8_t proto;		/* 0: TCP */
	uint32_t cut;		/* bytes of the frame left out of the capture */
};

struct writer {
	char path[64];
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint64_t ns;
};

static void
writer_open(struct writer *w, int link_type)
{
	int fd;

	snprintf(w->path, sizeof(w->path), "/tmp/replay_flows_XXXXXX");
	fd = mkstemp(w->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	w->dead = pcap_open_dead_with_tstamp_precision(link_type, 65535,
			PCAP_TSTAMP_PRECISION_NANO);
	ck_assert(w->dead != NULL);
	w->dumper = pcap_dump_open(w->dead, w->path);
	ck_assert(w->dumper != NULL);
	w->ns = 1000000000ull;
}

static void
writer_raw(struct writer *w, const uint8_t *frame, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;

	w->ns += 1000;
	h.ts.tv_sec = (time_t)(w->ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(w->ns % 1000000000ull);
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)w->dumper, &h, frame);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* An Ethernet/IPv4/TCP frame as the spec says, header lies included. */
static void
writer_packet(struct writer *w, const struct pkt_spec *s)
{
	uint8_t frame[2048] = { 0 };
	uint32_t plen = s->payload ? (uint32_t)strlen(s->payload) : 0;
	uint32_t l4 = 14 + 20, total = 20 + 20 + plen, len = 14 + total;

	put16(frame + 12, 0x0800);
	frame[14] = (uint8_t)(0x40 | (s->ihl_words ? s->ihl_words : 5));
	put16(frame + 16, total);
	frame[22] = 64;
	frame[23] = s->proto ? s->proto : 6;
	put32(frame + 26, s->src);
	put32(frame + 30, s->dst);
	put16(frame + l4, s->sport);
	put16(frame + l4 + 2, s->dport);
	put32(frame + l4 + 4, s->seq);
	frame[l4 + 12] = (uint8_t)((s->doff_words ? s->doff_words : 5) << 4);
	frame[l4 + 13] = s->flags;
	memcpy(frame + l4 + 20, s->payload ? s->payload : "", plen);
	writer_raw(w, frame, len - s->cut, len);
}

static struct replay_capture *
writer_load(struct writer *w)
{
	struct replay_capture *cap;
	char err[256];

	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	cap = replay_capture_open(w->path, err, sizeof(err));
	ck_assert_msg(cap != NULL, "%s", err);
	unlink(w->path);
	return cap;
}

#define C2S(seq_, flags_, data_) \
	{ .src = CLIENT_ADDR, .dst = SERVER_ADDR, .sport = 40000, .dport = 80, \
	  .seq = (seq_), .flags = (flags_), .payload = (data_) }
#define S2C(seq_, flags_, data_) \
	{ .src = SERVER_ADDR, .dst = CLIENT_ADDR, .sport = 80, .dport = 40000, \
	  .seq = (seq_), .flags = (flags_), .payload = (data_) }

static void
write_handshake(struct writer *w, uint32_t cisn, uint32_t sisn)
{
	struct pkt_spec syn = C2S(cisn, 0x02, NULL), synack = S2C(sisn, 0x12, NULL);

	writer_packet(w, &syn);
	writer_packet(w, &synack);
}

START_TEST(test_conflicting_overlap_keeps_first_copy_and_reports_conflict)
{
	struct writer w;
	struct replay_capture *cap;
	const struct replay_stream *c;
	/* Sequence numbers wrap inside the stream on purpose. */
	uint32_t isn = 0xfffffffa;
	struct pkt_spec first = C2S(isn + 1, 0x18, "AAAAAAAAAA");
	struct pkt_spec again = C2S(isn + 5, 0x18, "BBBBBBBBBB");

	writer_open(&w, DLT_EN10MB);
	write_handshake(&w, isn, 7);
	writer_packet(&w, &first);
	writer_packet(&w, &again);
	cap = writer_load(&w);
	ck_assert_uint_eq(replay_capture_flow_count(cap), 1);
	c = &replay_capture_flow(cap, 0)->stream[REPLAY_CLIENT];
	ck_assert_uint_eq(c->length, 14);
	ck_assert(memcmp(c->data, "AAAAAAAAAABBBB", 14) == 0);
	ck_assert_uint_eq(c->conflict_count, 1);
	ck_assert_uint_eq(c->conflicts[0].offset, 4);
	ck_assert_uint_eq(c->conflicts[0].length, 6);
	ck_assert_uint_eq(c->conflict_bytes, 6);
	ck_assert_uint_eq(c->duplicate_bytes, 6);
	ck_assert_uint_eq(replay_capture_flow(cap, 0)->turn_count, 1);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_out_of_order_segments_are_placed_and_holes_reported)
{
	struct writer w;
	struct replay_capture *cap;
	const struct replay_flow *f;
	const struct replay_stream *c;
	struct pkt_spec a = C2S(101, 0x18, "01234"), b = C2S(111, 0x18, "abcde"),
		late = C2S(106, 0x18, "567");

	writer_open(&w, DLT_EN10MB);
	write_handshake(&w, 100, 500);
	writer_packet(&w, &a);
	writer_packet(&w, &b);
	writer_packet(&w, &late);
	cap = writer_load(&w);
	f = replay_capture_flow(cap, 0);
	c = &f->stream[REPLAY_CLIENT];
	ck_assert_uint_eq(c->length, 15);
	ck_assert(memcmp(c->data, "01234567\0\0abcde", 15) == 0);
	ck_assert_uint_eq(c->gap_count, 1);
	ck_assert_uint_eq(c->gaps[0].offset, 8);
	ck_assert_uint_eq(c->gaps[0].length, 2);
	/* The hole fill began no turn. */
	ck_assert_uint_eq(f->turn_count, 1);
	ck_assert_uint_eq(f->turns[0].length, 15);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_bogus_headers_are_counted_and_skipped)
{
	struct writer w;
	struct replay_capture *cap;
	const struct replay_stats *st;
	struct pkt_spec ihl_short = C2S(101, 0x18, "x"),
		ihl_long = C2S(101, 0x18, "x"),
		doff_past = C2S(101, 0x18, "x"),
		doff_short = C2S(101, 0x18, "x"),
		udp = C2S(101, 0x18, "x"),
		good = C2S(101, 0x18, "ok");

	ihl_short.ihl_words = 3;
	ihl_long.ihl_words = 15;	/* 60 bytes > total length 41 */
	doff_past.doff_words = 15;	/* 60 bytes > 21 bytes of TCP */
	doff_short.doff_words = 2;
	udp.proto = 17;
	writer_open(&w, DLT_EN10MB);
	write_handshake(&w, 100, 500);
	writer_packet(&w, &ihl_short);
	writer_packet(&w, &ihl_long);
	writer_packet(&w, &doff_past);
	writer_packet(&w, &doff_short);
	writer_packet(&w, &udp);
	writer_packet(&w, &good);
	cap = writer_load(&w);
	st = replay_capture_stats(cap);
	ck_assert_uint_eq(st->packets, 8);
	ck_assert_uint_eq(st->skipped[REPLAY_SKIP_BAD_IP_HEADER], 2);
	ck_assert_uint_eq(st->skipped[REPLAY_SKIP_BAD_TCP_HEADER], 2);
	ck_assert_uint_eq(st->skipped[REPLAY_SKIP_NOT_TCP], 1);
	ck_assert_uint_eq(st->tcp_packets, 3);
	ck_assert_uint_eq(replay_capture_flow(cap, 0)->stream[REPLAY_CLIENT].length, 2);
	ck_assert_str_eq(replay_skip_str(REPLAY_SKIP_BAD_TCP_HEADER), "bad_tcp_header");
	ck_assert_str_eq(replay_skip_str(REPLAY_SKIP_MAX), "unknown");
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_snaplen_cut_payload_is_a_gap_and_cut_headers_are_short)
{
	struct writer w;
	struct replay_capture *cap;
	const struct replay_stream *c;
	struct pkt_spec cut = C2S(101, 0x18, "0123456789"),
		headers_cut = C2S(111, 0x18, "abc");

	cut.cut = 4;
	headers_cut.cut = 3 + 10;	/* ends inside the TCP header */
	writer_open(&w, DLT_EN10MB);
	write_handshake(&w, 100, 500);
	writer_packet(&w, &cut);
	writer_packet(&w, &headers_cut);
	cap = writer_load(&w);
	c = &replay_capture_flow(cap, 0)->stream[REPLAY_CLIENT];
	ck_assert_uint_eq(c->length, 10);
	ck_assert(memcmp(c->data, "012345", 6) == 0);
	ck_assert_uint_eq(c->gap_count, 1);
	ck_assert_uint_eq(c->gaps[0].offset, 6);
	ck_assert_uint_eq(c->gaps[0].length, 4);
	ck_assert_uint_eq(replay_capture_stats(cap)->skipped[REPLAY_SKIP_SHORT_CAPTURE], 1);
	/* 24-byte pcap header, 3 records of 16 + 54, 16 + 54, 16 + 60. */
	ck_assert_uint_eq(replay_capture_stats(cap)->first_short_capture_offset,
			  24 + 70 + 70 + 76);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_without_handshake_client_is_the_side_sending_to_the_low_port)
{
	struct writer w;
	struct replay_capture *cap;
	const struct replay_flow *f;
	/* The capture starts with the server's response. */
	struct pkt_spec resp = S2C(9001, 0x18, "HTTP/1.1 200"),
		req = C2S(5001, 0x18, "GET /");

	writer_open(&w, DLT_EN10MB);
	writer_packet(&w, &resp);
	writer_packet(&w, &req);
	cap = writer_load(&w);
	f = replay_capture_flow(cap, 0);
	ck_assert(f->flags & REPLAY_FLOW_CLIENT_GUESSED);
	ck_assert(!(f->flags & REPLAY_FLOW_HANDSHAKE));
	ck_assert_uint_eq(f->tuple.client_port, 40000);
	ck_assert_uint_eq(f->tuple.server_port, 80);
	ck_assert_uint_eq(f->tuple.client_addr, CLIENT_ADDR);
	ck_assert(memcmp(f->stream[REPLAY_CLIENT].data, "GET /", 5) == 0);
	ck_assert_uint_eq(f->turn_count, 2);
	ck_assert_int_eq(f->turns[0].dir, REPLAY_SERVER);
	replay_capture_free(cap);
}
END_TEST

START_TEST(test_new_syn_after_finished_flow_starts_a_new_flow)
{
	struct writer w;
	struct replay_capture *cap;
	struct pkt_spec d1 = C2S(101, 0x18, "one"), fin_c = C2S(104, 0x11, NULL),
		fin_s = S2C(501, 0x11, NULL), d2 = C2S(9001, 0x18, "two!"),
		syn_again = C2S(100, 0x02, NULL);

	writer_open(&w, DLT_EN10MB);
	write_handshake(&w, 100, 500);
	writer_packet(&w, &syn_again);	/* a retransmitted SYN: same flow */
	writer_packet(&w, &d1);
	writer_packet(&w, &fin_c);
	writer_packet(&w, &fin_s);
	write_handshake(&w, 9000, 7000);
	writer_packet(&w, &d2);
	cap = writer_load(&w);
	ck_assert_uint_eq(replay_capture_flow_count(cap), 2);
	ck_assert_uint_eq(replay_capture_flow(cap, 0)->stream[REPLAY_CLIENT].length, 3);
	ck_assert_uint_eq(replay_capture_flow(cap, 1)->stream[REPLAY_CLIENT].length, 4);
	ck_assert_uint_eq(replay_capture_flow(cap, 1)->stream[REPLAY_CLIENT].isn, 9000);
	replay_capture_free(cap);
}
END_TEST

/* Rewrite a fixture's Ethernet frames as QinQ-tagged or raw IP frames. */
static void
reencapsulate(const char *fixture, struct writer *w, int link_type)
{
	char path[PATH_MAX], err[PCAP_ERRBUF_SIZE];
	static const uint8_t tags[8] = { 0x88, 0xa8, 0x00, 0x64,
					 0x81, 0x00, 0x00, 0xc8 };
	struct pcap_pkthdr *h;
	const u_char *p;
	uint8_t frame[70000];
	pcap_t *in;

	fixture_path(path, sizeof(path), fixture);
	in = pcap_open_offline(path, err);
	ck_assert_msg(in != NULL, "%s", err);
	writer_open(w, link_type);
	while (pcap_next_ex(in, &h, &p) == 1) {
		if (link_type == DLT_RAW) {
			writer_raw(w, p + 14, h->caplen - 14, h->len - 14);
			continue;
		}
		memcpy(frame, p, 12);
		memcpy(frame + 12, tags, sizeof(tags));
		memcpy(frame + 20, p + 12, h->caplen - 12);
		writer_raw(w, frame, h->caplen + 8, h->len + 8);
	}
	pcap_close(in);
}

static void
assert_same_streams(struct replay_capture *a, struct replay_capture *b)
{
	const struct replay_flow *fa = replay_capture_flow(a, 0);
	const struct replay_flow *fb = replay_capture_flow(b, 0);
	int d;

	ck_assert_uint_eq(replay_capture_flow_count(a), replay_capture_flow_count(b));
	ck_assert_uint_eq(fa->turn_count, fb->turn_count);
	for (d = 0; d < 2; d++) {
		ck_assert_uint_eq(fa->stream[d].length, fb->stream[d].length);
		ck_assert(memcmp(fa->stream[d].data, fb->stream[d].data,
				 fa->stream[d].length) == 0);
	}
}

START_TEST(test_qinq_tagged_and_raw_ip_copies_read_like_the_original)
{
	struct replay_capture *orig = open_fixture("http_keepalive.pcap");
	struct replay_capture *cap;
	struct writer w;

	reencapsulate("http_keepalive.pcap", &w, DLT_EN10MB);
	cap = writer_load(&w);
	assert_same_streams(orig, cap);
	ck_assert_uint_eq(replay_capture_flow(cap, 0)->stream[REPLAY_SERVER].length,
			  expected("http_keepalive", "server_bytes"));
	replay_capture_free(cap);

	reencapsulate("http_keepalive.pcap", &w, DLT_RAW);
	cap = writer_load(&w);
	ck_assert_int_eq(replay_capture_link_type(cap), DLT_RAW);
	assert_same_streams(orig, cap);
	replay_capture_free(cap);
	replay_capture_free(orig);
}
END_TEST

START_TEST(test_unsupported_link_type_and_oversized_file_are_refused)
{
	struct replay_limits limits;
	struct writer w;
	char err[256], path[PATH_MAX];

	writer_open(&w, DLT_PPP);
	pcap_dump_close(w.dumper);
	pcap_close(w.dead);
	ck_assert(replay_capture_open(w.path, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "not supported") != NULL, "%s", err);
	unlink(w.path);

	replay_limits_default(&limits);
	limits.max_file_bytes = 1000;
	fixture_path(path, sizeof(path), "http_keepalive.pcap");
	ck_assert(replay_capture_open_limits(path, &limits, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "limit") != NULL, "%s", err);

	ck_assert(replay_capture_open("/nonexistent.pcap", err, sizeof(err)) == NULL);
	ck_assert_str_ne(err, "");
}
END_TEST

static Suite *
replay_flows_suite(void)
{
	Suite *s = suite_create("replay_flows");
	TCase *real = tcase_create("captures");
	TCase *synthetic = tcase_create("synthetic");

	tcase_add_test(real, test_http_keepalive_holds_three_request_response_pairs_on_one_flow);
	tcase_add_test(real, test_multi_turn_reassembles_every_frame_of_every_turn);
	tcase_add_test(real, test_tfo_second_connection_carries_data_in_its_syn);
	tcase_add_test(real, test_retransmissions_reassemble_to_exactly_the_pattern_sent);
	tcase_add_test(real, test_pcapng_file_reads_like_pcap);
	tcase_add_test(real, test_linux_cooked_sll_capture_is_read);
	tcase_add_test(real, test_linux_cooked_sll2_capture_is_read);
	tcase_add_test(real, test_truncated_file_reports_offset_and_keeps_whole_flows_before_it);
	tcase_add_test(real, test_qinq_tagged_and_raw_ip_copies_read_like_the_original);
	tcase_add_test(synthetic, test_conflicting_overlap_keeps_first_copy_and_reports_conflict);
	tcase_add_test(synthetic, test_out_of_order_segments_are_placed_and_holes_reported);
	tcase_add_test(synthetic, test_bogus_headers_are_counted_and_skipped);
	tcase_add_test(synthetic, test_snaplen_cut_payload_is_a_gap_and_cut_headers_are_short);
	tcase_add_test(synthetic, test_without_handshake_client_is_the_side_sending_to_the_low_port);
	tcase_add_test(synthetic, test_new_syn_after_finished_flow_starts_a_new_flow);
	tcase_add_test(synthetic, test_unsupported_link_type_and_oversized_file_are_refused);
	suite_add_tcase(s, real);
	suite_add_tcase(s, synthetic);
	return s;
}

int
main(void)
{
	find_fixture_dir();
	return test_run_suite(replay_flows_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
