/*
 * wskdp-replay's plans, masks and comparison (apps/replay_plan.h): the step
 * lists built from a flow's turns say who may send what after how many
 * bytes of the other side; masks load with line-numbered errors and select
 * the right ranges (byte ranges, HTTP header values, per flow or all);
 * replay_compare() finds the first differing offset in every mode and
 * treats bytes past the recording as different. Flows are built by hand:
 * no capture, no EAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "replay_plan.h"
#include "test_eal.h"

/* A flow with the given turns over client and server streams. */
static struct replay_flow flow;
static struct replay_turn turns[8];

static void
make_flow(uint32_t index, const char *client, const char *server)
{
	memset(&flow, 0, sizeof(flow));
	flow.index = index;
	flow.stream[REPLAY_CLIENT].data = (const uint8_t *)client;
	flow.stream[REPLAY_CLIENT].length = strlen(client);
	flow.stream[REPLAY_SERVER].data = (const uint8_t *)server;
	flow.stream[REPLAY_SERVER].length = strlen(server);
	flow.turns = turns;
	flow.first_timestamp_ns = 1000;
}

static void
add_turn(enum replay_dir dir, uint64_t offset, uint64_t length, uint64_t ts)
{
	turns[flow.turn_count++] = (struct replay_turn){ dir, offset, length, ts };
}

static const char *
write_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_replay_plan_%d", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_plan_client_first_alternates_need_and_upto)
{
	struct replay_plan p;

	make_flow(0, "GET1GET22", "answer1answer22");
	add_turn(REPLAY_CLIENT, 0, 4, 1000);
	add_turn(REPLAY_SERVER, 0, 7, 1500);
	add_turn(REPLAY_CLIENT, 4, 5, 3000);
	add_turn(REPLAY_SERVER, 7, 8, 3500);
	ck_assert_int_eq(replay_plan_build(&flow, &p), 0);
	ck_assert_uint_eq(p.client_steps, 2);
	ck_assert_uint_eq(p.server_steps, 2);
	ck_assert_uint_eq(p.client[0].need, 0);
	ck_assert_uint_eq(p.client[0].upto, 4);
	ck_assert_uint_eq(p.client[0].ts_ns, 0);
	ck_assert_uint_eq(p.client[1].need, 7);
	ck_assert_uint_eq(p.client[1].upto, 9);
	ck_assert_uint_eq(p.client[1].ts_ns, 2000);
	ck_assert_uint_eq(p.server[0].need, 4);
	ck_assert_uint_eq(p.server[0].upto, 7);
	ck_assert_uint_eq(p.server[1].need, 9);
	ck_assert_uint_eq(p.server[1].upto, 15);
	ck_assert_uint_eq(p.client_bytes, 9);
	ck_assert_uint_eq(p.server_bytes, 15);
	ck_assert(!p.client_fin_first);
	replay_plan_free(&p);
}
END_TEST

START_TEST(test_plan_server_first_makes_client_wait_for_banner)
{
	struct replay_plan p;

	make_flow(0, "HELO", "220 hi");
	add_turn(REPLAY_SERVER, 0, 6, 1000);
	add_turn(REPLAY_CLIENT, 0, 4, 2000);
	ck_assert_int_eq(replay_plan_build(&flow, &p), 0);
	ck_assert_uint_eq(p.server[0].need, 0);
	ck_assert_uint_eq(p.client[0].need, 6);
	ck_assert_uint_eq(p.client[0].upto, 4);
	replay_plan_free(&p);
}
END_TEST

START_TEST(test_plan_client_fin_before_last_answer_is_flagged)
{
	struct replay_plan p;

	make_flow(0, "data", "got 4\n");
	add_turn(REPLAY_CLIENT, 0, 4, 1000);
	add_turn(REPLAY_SERVER, 0, 6, 3000);
	flow.stream[REPLAY_CLIENT].fin_seen = true;
	flow.stream[REPLAY_CLIENT].fin_timestamp_ns = 2000;
	ck_assert_int_eq(replay_plan_build(&flow, &p), 0);
	ck_assert(p.client_fin_first);
	replay_plan_free(&p);
	flow.stream[REPLAY_CLIENT].fin_timestamp_ns = 4000;
	ck_assert_int_eq(replay_plan_build(&flow, &p), 0);
	ck_assert(!p.client_fin_first);
	replay_plan_free(&p);
}
END_TEST

START_TEST(test_compare_exact_gives_first_differing_offset)
{
	const uint8_t *exp = (const uint8_t *)"0123456789";
	uint64_t diff = 99;

	ck_assert(replay_compare(REPLAY_COMPARE_EXACT, exp, 10, NULL, 0, 2,
				 (const uint8_t *)"2345", 4, &diff));
	ck_assert(!replay_compare(REPLAY_COMPARE_EXACT, exp, 10, NULL, 0, 2,
				  (const uint8_t *)"23x5", 4, &diff));
	ck_assert_uint_eq(diff, 4);
}
END_TEST

START_TEST(test_compare_bytes_past_the_recording_differ_in_every_mode)
{
	const uint8_t *exp = (const uint8_t *)"abc";
	uint64_t diff = 0;

	ck_assert(!replay_compare(REPLAY_COMPARE_EXACT, exp, 3, NULL, 0, 1,
				  (const uint8_t *)"bcd", 3, &diff));
	ck_assert_uint_eq(diff, 3);
	ck_assert(!replay_compare(REPLAY_COMPARE_LENGTH, exp, 3, NULL, 0, 0,
				  (const uint8_t *)"xyzw", 4, &diff));
	ck_assert_uint_eq(diff, 3);
	ck_assert(!replay_compare(REPLAY_COMPARE_LENGTH, exp, 3, NULL, 0, 5,
				  (const uint8_t *)"q", 1, &diff));
	ck_assert_uint_eq(diff, 5);
}
END_TEST

START_TEST(test_compare_length_ignores_values)
{
	uint64_t diff = 0;

	ck_assert(replay_compare(REPLAY_COMPARE_LENGTH, (const uint8_t *)"abc", 3,
				 NULL, 0, 0, (const uint8_t *)"xyz", 3, &diff));
}
END_TEST

START_TEST(test_compare_mask_skips_ranges_only)
{
	const uint8_t *exp = (const uint8_t *)"0123456789";
	struct replay_range r[] = { { 2, 4 }, { 7, 8 } };
	uint64_t diff = 0;

	ck_assert(replay_compare(REPLAY_COMPARE_MASK, exp, 10, r, 2, 0,
				 (const uint8_t *)"01xx456x89", 10, &diff));
	ck_assert(!replay_compare(REPLAY_COMPARE_MASK, exp, 10, r, 2, 0,
				  (const uint8_t *)"01xx4x6x89", 10, &diff));
	ck_assert_uint_eq(diff, 5);
	/* A chunk starting inside a range. */
	ck_assert(!replay_compare(REPLAY_COMPARE_MASK, exp, 10, r, 2, 3,
				  (const uint8_t *)"x4y", 3, &diff));
	ck_assert_uint_eq(diff, 5);
}
END_TEST

START_TEST(test_mask_header_and_ranges_select_per_flow)
{
	static const char server[] =
		"HTTP/1.1 200 OK\r\nDate: Sat, 28 Nov\r\nServer: x\r\n\r\nbody"
		"HTTP/1.1 200 OK\r\ndate:  Sun\r\n\r\n";
	struct replay_mask *m;
	struct replay_range *r;
	uint32_t n;
	char err[256];
	const char *path = write_file("# comment\n* header Date\n1 0-5\n0 60-62  # trailing\n");

	m = replay_mask_load(path, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	make_flow(0, "", server);
	ck_assert_int_eq(replay_mask_ranges(m, &flow, &r, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* "Sat, 28 Nov" after "Date: " */
	ck_assert_uint_eq(r[0].start, 23);
	ck_assert_uint_eq(r[0].end, 34);
	ck_assert_uint_eq(r[1].start, 60);
	ck_assert_uint_eq(r[1].end, 62);
	ck_assert_int_eq(memcmp(server + r[2].start, "Sun", 3), 0);
	ck_assert_uint_eq(r[2].end - r[2].start, 3);
	free(r);
	make_flow(1, "", "x");
	ck_assert_int_eq(replay_mask_ranges(m, &flow, &r, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].start, 0);
	ck_assert_uint_eq(r[0].end, 5);
	free(r);
	replay_mask_free(m);
	unlink(path);
}
END_TEST

START_TEST(test_mask_overlapping_ranges_merge)
{
	struct replay_mask *m;
	struct replay_range *r;
	uint32_t n;
	char err[256];
	const char *path = write_file("* 10-20\n* 5-12\n* 20-25\n* 40-41\n");

	m = replay_mask_load(path, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	make_flow(3, "", "");
	ck_assert_int_eq(replay_mask_ranges(m, &flow, &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r[0].start, 5);
	ck_assert_uint_eq(r[0].end, 25);
	ck_assert_uint_eq(r[1].start, 40);
	free(r);
	replay_mask_free(m);
	unlink(path);
}
END_TEST

START_TEST(test_mask_bad_line_is_named_with_its_number)
{
	static const char *const bad[] = {
		"* 5-5\n", "x 1-2\n", "* 3-\n", "0 header\n", "0 header A B\n",
		"* -1-4\n", "0 heder Date\n",
	};
	char err[256], want[128];	/* a path of up to 63 bytes and ":3:" */

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64];
		const char *path;

		snprintf(text, sizeof(text), "# ok\n* 1-2\n%s", bad[i]);
		path = write_file(text);
		ck_assert_msg(replay_mask_load(path, err, sizeof(err)) == NULL,
			      "accepted %s", bad[i]);
		snprintf(want, sizeof(want), "%s:3:", path);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
		unlink(path);
	}
	ck_assert_ptr_null(replay_mask_load("/nonexistent/mask", err, sizeof(err)));
}
END_TEST

static Suite *
replay_plan_suite(void)
{
	Suite *s = suite_create("replay_plan");
	TCase *t = tcase_create("plan");

	tcase_add_test(t, test_plan_client_first_alternates_need_and_upto);
	tcase_add_test(t, test_plan_server_first_makes_client_wait_for_banner);
	tcase_add_test(t, test_plan_client_fin_before_last_answer_is_flagged);
	tcase_add_test(t, test_compare_exact_gives_first_differing_offset);
	tcase_add_test(t, test_compare_bytes_past_the_recording_differ_in_every_mode);
	tcase_add_test(t, test_compare_length_ignores_values);
	tcase_add_test(t, test_compare_mask_skips_ranges_only);
	tcase_add_test(t, test_mask_header_and_ranges_select_per_flow);
	tcase_add_test(t, test_mask_overlapping_ranges_merge);
	tcase_add_test(t, test_mask_bad_line_is_named_with_its_number);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return test_run_suite(replay_plan_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
