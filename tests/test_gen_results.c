/*
 * Proves that the results model adds shards up exactly (every counter
 * summed, histograms merged as one, timelines summed sample by sample),
 * that ticks turn counters into per-second samples and respect the
 * timeline's fixed room, that the JSON document read back with jansson has
 * every key the issue requires with the right type and value, that the CSV
 * timeline has its header and one row per sample, and that live printing
 * stays quiet unless writing to a terminal and not asked to be quiet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include <jansson.h>

#include "test_eal.h"
#include "gen_results.h"

static struct gen_results a, b, total;
static char tmp_path[64];

static void
setup(void)
{
	int fd;

	ck_assert_int_eq(gen_results_init(&a, 8), 0);
	ck_assert_int_eq(gen_results_init(&b, 8), 0);
	ck_assert_int_eq(gen_results_init(&total, 8), 0);
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_gen_results.XXXXXX");
	fd = mkstemp(tmp_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	gen_results_fini(&a);
	gen_results_fini(&b);
	gen_results_fini(&total);
	unlink(tmp_path);
}

/* Distinct counter values so that a key read from the wrong field shows. */
static void
fill(struct gen_results *r, uint64_t base)
{
	r->connections.attempted = base + 1;
	r->connections.established = base + 2;
	r->connections.completed = base + 3;
	r->connections.failed = base + 4;
	r->connections.reset = base + 5;
	r->connections.timed_out = base + 6;
	r->bytes.sent = base + 7;
	r->bytes.received = base + 8;
	r->tfo.cookies_requested = base + 9;
	r->tfo.cookies_received = base + 10;
	r->tfo.syn_data_sent = base + 11;
	r->tfo.syn_data_acked = base + 12;
	r->tfo.fallbacks = base + 13;
	r->tcp.retransmits = base + 14;
	r->tcp.rx_bad_segments = base + 15;
	for (uint64_t v = 1; v <= 100; v++) {
		gen_hist_record(&r->latency_us.connect, base + v);
		gen_hist_record(&r->latency_us.first_byte, base + 2 * v);
		gen_hist_record(&r->latency_us.complete, base + 3 * v);
	}
}

START_TEST(test_results_add_sums_every_counter_of_two_shards)
{
	fill(&a, 1000);
	fill(&b, 50);
	gen_results_add(&total, &a);
	gen_results_add(&total, &b);
	ck_assert_uint_eq(total.connections.attempted, 1001 + 51);
	ck_assert_uint_eq(total.connections.established, 1002 + 52);
	ck_assert_uint_eq(total.connections.completed, 1003 + 53);
	ck_assert_uint_eq(total.connections.failed, 1004 + 54);
	ck_assert_uint_eq(total.connections.reset, 1005 + 55);
	ck_assert_uint_eq(total.connections.timed_out, 1006 + 56);
	ck_assert_uint_eq(total.bytes.sent, 1007 + 57);
	ck_assert_uint_eq(total.bytes.received, 1008 + 58);
	ck_assert_uint_eq(total.tfo.cookies_requested, 1009 + 59);
	ck_assert_uint_eq(total.tfo.cookies_received, 1010 + 60);
	ck_assert_uint_eq(total.tfo.syn_data_sent, 1011 + 61);
	ck_assert_uint_eq(total.tfo.syn_data_acked, 1012 + 62);
	ck_assert_uint_eq(total.tfo.fallbacks, 1013 + 63);
	ck_assert_uint_eq(total.tcp.retransmits, 1014 + 64);
	ck_assert_uint_eq(total.tcp.rx_bad_segments, 1015 + 65);
}
END_TEST

START_TEST(test_results_add_merges_histograms_as_if_recorded_in_one)
{
	struct gen_hist *one = malloc(sizeof(*one));

	ck_assert_ptr_nonnull(one);
	fill(&a, 1000);
	fill(&b, 50);
	gen_hist_init(one);
	for (uint64_t v = 1; v <= 100; v++) {
		gen_hist_record(one, 1000 + 3 * v);
		gen_hist_record(one, 50 + 3 * v);
	}
	gen_results_add(&total, &a);
	gen_results_add(&total, &b);
	ck_assert(memcmp(&total.latency_us.complete, one, sizeof(*one)) == 0);
	ck_assert_uint_eq(total.latency_us.connect.count, 200);
	ck_assert_uint_eq(total.latency_us.first_byte.count, 200);
	free(one);
}
END_TEST

START_TEST(test_results_add_sums_timelines_sample_by_sample)
{
	a.connections.completed = 10;
	a.bytes.sent = 1000;
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 3), 0);
	a.connections.completed = 30;
	a.connections.failed = 2;
	ck_assert_int_eq(gen_results_tick(&a, 2.0, 4), 0);
	b.connections.completed = 5;
	b.tcp.retransmits = 7;
	ck_assert_int_eq(gen_results_tick(&b, 1.1, 1), 0);

	gen_results_add(&total, &a);
	gen_results_add(&total, &b);
	ck_assert_uint_eq(total.timeline_len, 2);
	ck_assert(total.timeline[0].t == 1.1);
	ck_assert(total.timeline[0].cps == 10.0 + 5.0 / 1.1);
	ck_assert_uint_eq(total.timeline[0].active, 4);
	ck_assert_uint_eq(total.timeline[0].retransmits, 7);
	ck_assert(total.timeline[0].tx_gbps == 1000 * 8 / 1e9);
	ck_assert(total.timeline[1].t == 2.0);
	ck_assert(total.timeline[1].cps == 20.0);
	ck_assert_uint_eq(total.timeline[1].errors, 2);
	ck_assert_uint_eq(total.timeline[1].active, 4);
}
END_TEST

START_TEST(test_results_tick_gives_changes_since_previous_tick)
{
	a.connections.completed = 100;
	a.bytes.received = 125000000;	/* 1 Gb */
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 9), 0);
	a.connections.completed = 150;
	a.connections.failed = 3;
	a.tcp.retransmits = 4;
	a.bytes.received += 62500000;
	ck_assert_int_eq(gen_results_tick(&a, 1.5, 8), 0);
	ck_assert_uint_eq(a.timeline_len, 2);
	ck_assert(a.timeline[0].cps == 100.0);
	ck_assert(a.timeline[0].rx_gbps == 1.0);
	ck_assert_uint_eq(a.timeline[0].active, 9);
	ck_assert(a.timeline[1].cps == 100.0);
	ck_assert(a.timeline[1].rx_gbps == 1.0);
	ck_assert_uint_eq(a.timeline[1].errors, 3);
	ck_assert_uint_eq(a.timeline[1].retransmits, 4);
}
END_TEST

START_TEST(test_results_tick_refuses_time_that_does_not_advance)
{
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 0), 0);
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 0), -EINVAL);
	ck_assert_int_eq(gen_results_tick(&a, 0.5, 0), -EINVAL);
	ck_assert_uint_eq(a.timeline_len, 1);
}
END_TEST

START_TEST(test_results_tick_beyond_room_is_dropped_and_counted)
{
	struct gen_results small;

	ck_assert_int_eq(gen_results_init(&small, 1), 0);
	small.connections.completed = 1;
	ck_assert_int_eq(gen_results_tick(&small, 1.0, 0), 0);
	small.connections.completed = 3;
	ck_assert_int_eq(gen_results_tick(&small, 2.0, 0), -ENOSPC);
	ck_assert_uint_eq(small.timeline_len, 1);
	ck_assert_uint_eq(small.timeline_dropped, 1);
	ck_assert(small.timeline[0].cps == 1.0);
	/* The next tick covers its own second only, not the dropped one. */
	small.timeline_len = 0;
	small.connections.completed = 4;
	ck_assert_int_eq(gen_results_tick(&small, 3.0, 0), 0);
	ck_assert(small.timeline[0].cps == 1.0);
	gen_results_fini(&small);
}
END_TEST

START_TEST(test_results_finish_derives_rates_from_counters)
{
	a.connections.completed = 1000;
	a.bytes.sent = 250000000;
	a.bytes.received = 500000000;
	gen_results_finish(&a, 2.0);
	ck_assert(a.duration_s == 2.0);
	ck_assert(a.rate.cps == 500.0);
	ck_assert(a.rate.tx_gbps == 1.0);
	ck_assert(a.rate.rx_gbps == 2.0);
	gen_results_finish(&a, 0.0);
	ck_assert(a.rate.cps == 0.0);
	ck_assert(a.rate.tx_gbps == 0.0);
}
END_TEST

/* root[path] (dotted) must exist with type 'type'; returns it. */
static json_t *
need(json_t *root, const char *path, json_type type)
{
	char buf[128], *save = NULL, *part;
	json_t *j = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL; part = strtok_r(NULL, ".", &save)) {
		ck_assert_msg(json_is_object(j), "%s: parent of %s is not an object", path, part);
		j = json_object_get(j, part);
		ck_assert_msg(j != NULL, "%s: missing", path);
	}
	ck_assert_msg(json_typeof(j) == type, "%s: type %d, want %d", path,
		      (int)json_typeof(j), (int)type);
	return j;
}

static void
need_u64(json_t *root, const char *path, uint64_t want)
{
	ck_assert_msg((uint64_t)json_integer_value(need(root, path, JSON_INTEGER)) == want,
		      "%s is not %lu", path, (unsigned long)want);
}

static void
need_real(json_t *root, const char *path, double want)
{
	double got = json_real_value(need(root, path, JSON_REAL));

	ck_assert_msg(got == want, "%s is %.17g, not %.17g", path, got, want);
}

START_TEST(test_results_json_round_trip_has_every_required_key)
{
	static const char *const latency[] = { "connect", "first_byte", "complete" };
	struct gen_hist_summary s;
	json_error_t jerr;
	json_t *root, *tl;
	char path[64];

	fill(&a, 0);
	a.bytes.sent = 125000000;
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 5), 0);
	ck_assert_int_eq(gen_results_tick(&a, 2.0, 6), 0);
	gen_results_finish(&a, 2.0);
	ck_assert_int_eq(gen_results_write_json(&a, tmp_path), 0);

	root = json_load_file(tmp_path, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	need_real(root, "duration_s", 2.0);
	need_u64(root, "connections.attempted", 1);
	need_u64(root, "connections.established", 2);
	need_u64(root, "connections.completed", 3);
	need_u64(root, "connections.failed", 4);
	need_u64(root, "connections.reset", 5);
	need_u64(root, "connections.timed_out", 6);
	need_real(root, "rate.cps", 1.5);
	need_real(root, "rate.tx_gbps", 0.5);
	need_real(root, "rate.rx_gbps", 8 * 8 / 2.0 / 1e9);
	need_u64(root, "bytes.sent", 125000000);
	need_u64(root, "bytes.received", 8);
	need_u64(root, "tfo.cookies_requested", 9);
	need_u64(root, "tfo.cookies_received", 10);
	need_u64(root, "tfo.syn_data_sent", 11);
	need_u64(root, "tfo.syn_data_acked", 12);
	need_u64(root, "tfo.fallbacks", 13);
	need_u64(root, "tcp.retransmits", 14);
	need_u64(root, "tcp.rx_bad_segments", 15);
	for (int i = 0; i < 3; i++) {
		const struct gen_hist *h = i == 0 ? &a.latency_us.connect :
			i == 1 ? &a.latency_us.first_byte : &a.latency_us.complete;

		gen_hist_summarize(h, &s);
		ck_assert_uint_ne(s.p50, 0);
#define KEY(k) (snprintf(path, sizeof(path), "latency_us.%s.%s", latency[i], k), path)
		need_u64(root, KEY("p50"), s.p50);
		need_u64(root, KEY("p90"), s.p90);
		need_u64(root, KEY("p99"), s.p99);
		need_u64(root, KEY("p999"), s.p999);
		need_u64(root, KEY("max"), s.max);
		need_u64(root, KEY("min"), s.min);
		need_u64(root, KEY("count"), s.count);
		need_real(root, KEY("mean"), s.mean);
#undef KEY
	}
	tl = need(root, "timeline", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(tl), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(tl, i);

		need_real(e, "t", a.timeline[i].t);
		need_real(e, "cps", a.timeline[i].cps);
		need_u64(e, "active", a.timeline[i].active);
		need_real(e, "tx_gbps", a.timeline[i].tx_gbps);
		need_real(e, "rx_gbps", a.timeline[i].rx_gbps);
		need_u64(e, "retransmits", a.timeline[i].retransmits);
		need_u64(e, "errors", a.timeline[i].errors);
	}
	json_decref(root);
}
END_TEST

START_TEST(test_results_json_to_unwritable_path_fails)
{
	ck_assert_int_eq(gen_results_write_json(&a, "/nonexistent-dir/x.json"), -EIO);
}
END_TEST

static char *
read_all(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_results_csv_has_header_and_one_row_per_sample)
{
	a.connections.completed = 12;
	a.bytes.sent = 250000000;
	a.connections.failed = 1;
	ck_assert_int_eq(gen_results_tick(&a, 1.0, 7), 0);
	a.tcp.retransmits = 3;
	ck_assert_int_eq(gen_results_tick(&a, 2.0, 0), 0);
	ck_assert_int_eq(gen_results_write_csv(&a, tmp_path), 0);
	ck_assert_str_eq(read_all(tmp_path),
			 "t,cps,active,tx_gbps,rx_gbps,retransmits,errors\n"
			 "1.000,12.0,7,2.000000,0.000000,0,1\n"
			 "2.000,0.0,0,0.000000,0.000000,3,0\n");
}
END_TEST

START_TEST(test_results_csv_of_empty_timeline_is_header_only)
{
	ck_assert_int_eq(gen_results_write_csv(&a, tmp_path), 0);
	ck_assert_str_eq(read_all(tmp_path),
			 "t,cps,active,tx_gbps,rx_gbps,retransmits,errors\n");
}
END_TEST

START_TEST(test_results_print_shows_the_counters)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	fill(&a, 0);
	gen_results_finish(&a, 1.0);
	gen_results_print(&a, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "attempted 1, established 2, completed 3, failed 4 (reset 5, timed out 6)"));
	ck_assert_ptr_nonnull(strstr(text, "sent 7, received 8"));
	ck_assert_ptr_nonnull(strstr(text, "retransmits 14"));
	ck_assert_ptr_nonnull(strstr(text, "3.0 conn/s"));
	free(text);
}
END_TEST

START_TEST(test_live_is_quiet_when_not_a_terminal)
{
	struct gen_timeline_sample s = { .t = 1.0, .cps = 5 };
	struct gen_live live;
	FILE *f = fopen(tmp_path, "w");

	ck_assert_ptr_nonnull(f);
	gen_live_init(&live, f, false);
	ck_assert(!live.enabled);
	gen_live_print(&live, &s, NULL);
	fclose(f);
	ck_assert_str_eq(read_all(tmp_path), "");
}
END_TEST

START_TEST(test_live_is_on_for_a_terminal_unless_quiet)
{
	struct gen_live live;
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	FILE *f;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	f = fdopen(slave, "w");
	ck_assert_ptr_nonnull(f);
	gen_live_init(&live, f, false);
	ck_assert(live.enabled);
	gen_live_init(&live, f, true);
	ck_assert(!live.enabled);
	fclose(f);
	close(master);
}
END_TEST

START_TEST(test_live_line_has_every_column)
{
	struct gen_timeline_sample s = {
		.t = 3.0, .cps = 123456, .active = 789, .tx_gbps = 1.5,
		.rx_gbps = 0.25, .retransmits = 11, .errors = 2,
	};
	struct gen_hist_summary lat = { .count = 1, .p50 = 42, .p99 = 977 };
	char line[160];

	gen_live_format(line, sizeof(line), &s, &lat);
	ck_assert_str_eq(line, "    3.0     123456       789    1.500    0.250       11        2       42      977");
	ck_assert_uint_eq(strlen(line), strlen(gen_live_header()));
	gen_live_format(line, sizeof(line), &s, NULL);
	ck_assert_str_eq(line, "    3.0     123456       789    1.500    0.250       11        2        -        -");
}
END_TEST

static Suite *
gen_results_suite(void)
{
	Suite *s = suite_create("gen_results");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_results_add_sums_every_counter_of_two_shards);
	tcase_add_test(tc, test_results_add_merges_histograms_as_if_recorded_in_one);
	tcase_add_test(tc, test_results_add_sums_timelines_sample_by_sample);
	tcase_add_test(tc, test_results_tick_gives_changes_since_previous_tick);
	tcase_add_test(tc, test_results_tick_refuses_time_that_does_not_advance);
	tcase_add_test(tc, test_results_tick_beyond_room_is_dropped_and_counted);
	tcase_add_test(tc, test_results_finish_derives_rates_from_counters);
	tcase_add_test(tc, test_results_json_round_trip_has_every_required_key);
	tcase_add_test(tc, test_results_json_to_unwritable_path_fails);
	tcase_add_test(tc, test_results_csv_has_header_and_one_row_per_sample);
	tcase_add_test(tc, test_results_csv_of_empty_timeline_is_header_only);
	tcase_add_test(tc, test_results_print_shows_the_counters);
	tcase_add_test(tc, test_live_is_quiet_when_not_a_terminal);
	tcase_add_test(tc, test_live_is_on_for_a_terminal_unless_quiet);
	tcase_add_test(tc, test_live_line_has_every_column);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(gen_results_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
