/*
 * Proves that the hashed timer wheel fires every armed timer exactly once,
 * never before its expiry and at most a tick after it, in expiry-tick order,
 * within the per-call cap, while callbacks arm and cancel timers freely, and
 * that jumping the clock by hours costs at most one revolution of slots.
 * Pure module: no EAL.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_eal.h"
#include "test_rand.h"
#include "timer_wheel.h"

struct timer_node {
	struct timer_entry timer;
	unsigned id;
};

static struct timer_node *
node_of(struct timer_entry *e)
{
	return (struct timer_node *)((char *)e - offsetof(struct timer_node, timer));
}

static void
nodes_init(struct timer_node *nodes, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		timer_entry_init(&nodes[i].timer, (uint16_t)(i % 7));
		nodes[i].id = i;
	}
}

#define RECORD_MAX 8192

/* Captures every callback: which node, at what wheel time, whether the
 * entry still looked armed; an optional action runs after recording. */
struct recorder {
	struct timer_wheel *w;
	struct timer_node *nodes;
	unsigned n;
	unsigned ids[RECORD_MAX];
	uint64_t when[RECORD_MAX];
	bool armed_in_callback;
	void (*action)(struct recorder *r, struct timer_node *fired);
	uint64_t period_us;
};

static void
recorder_init(struct recorder *r, struct timer_wheel *w,
	      struct timer_node *nodes)
{
	r->w = w;
	r->nodes = nodes;
	r->n = 0;
	r->armed_in_callback = false;
	r->action = NULL;
	r->period_us = 0;
}

static void
record_fire(struct timer_entry *e, void *arg)
{
	struct recorder *r = arg;
	struct timer_node *n = node_of(e);

	ck_assert_uint_lt(r->n, RECORD_MAX);
	r->ids[r->n] = n->id;
	r->when[r->n] = r->w->now_us;
	r->n++;
	if (timer_entry_armed(e))
		r->armed_in_callback = true;
	if (r->action != NULL)
		r->action(r, n);
}

START_TEST(test_timer_wheel_init_rejects_bad_arguments)
{
	struct timer_wheel w;

	ck_assert_int_eq(timer_wheel_init(&w, 0, 10, 0), -EINVAL);
	ck_assert_int_eq(timer_wheel_init(&w, 3, 10, 0), -EINVAL);
	ck_assert_int_eq(timer_wheel_init(&w, 1000, 10, 0), -EINVAL);
	ck_assert_int_eq(timer_wheel_init(&w, 64, 0, 0), -EINVAL);
	timer_wheel_free(&w);
	ck_assert_int_eq(timer_wheel_init(&w, 1, 1, 0), 0);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
	timer_wheel_free(&w);
}
END_TEST

/* Steps of 7 us (finer than a tick), exactly a tick, and just under one:
 * each timer must fire in the first advance whose time reaches it. */
START_TEST(test_timer_fires_not_early_and_not_more_than_a_tick_late)
{
	static const uint64_t steps[] = { 7, 100, 99 };
	enum { N = 200 };
	struct timer_node nodes[N];
	struct timer_wheel w;
	struct recorder r;
	unsigned s, i;

	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		uint64_t now, step = steps[s];
		unsigned seen[N] = { 0 };

		ck_assert_int_eq(timer_wheel_init(&w, 16, 100, 0), 0);
		nodes_init(nodes, N);
		recorder_init(&r, &w, nodes);
		for (i = 0; i < N; i++)
			timer_wheel_arm(&w, &nodes[i].timer, 37 + i * 53);
		for (now = 0; now <= 12000; now += step)
			timer_wheel_advance(&w, now, UINT_MAX, record_fire, &r);
		ck_assert_uint_eq(r.n, N);
		for (i = 0; i < r.n; i++) {
			uint64_t expiry = 37 + r.ids[i] * 53;

			seen[r.ids[i]]++;
			ck_assert_uint_ge(r.when[i], expiry);
			ck_assert_uint_lt(r.when[i], expiry + step);
			ck_assert_uint_lt(r.when[i], expiry + 100);
		}
		for (i = 0; i < N; i++)
			ck_assert_uint_eq(seen[i], 1);
		ck_assert_uint_eq(timer_wheel_count(&w), 0);
		ck_assert(!r.armed_in_callback);
		timer_wheel_free(&w);
	}
}
END_TEST

/* Five timers in the same slot, one to four revolutions apart. */
START_TEST(test_timer_beyond_one_revolution_waits_for_its_round)
{
	struct timer_node nodes[5];
	struct timer_wheel w;
	struct recorder r;
	uint64_t now;
	unsigned k;

	ck_assert_int_eq(timer_wheel_init(&w, 8, 10, 0), 0);
	nodes_init(nodes, 5);
	recorder_init(&r, &w, nodes);
	for (k = 0; k < 5; k++)
		timer_wheel_arm(&w, &nodes[4 - k].timer, 35 + (4 - k) * 80);
	for (now = 0; now <= 500; now += 10) {
		unsigned before = r.n;

		timer_wheel_advance(&w, now, UINT_MAX, record_fire, &r);
		if (now >= 40 && now <= 360 && (now - 40) % 80 == 0)
			ck_assert_uint_eq(r.n, before + 1);
		else
			ck_assert_uint_eq(r.n, before);
	}
	ck_assert_uint_eq(r.n, 5);
	for (k = 0; k < 5; k++) {
		ck_assert_uint_eq(r.ids[k], k);
		ck_assert_uint_eq(r.when[k], 40 + k * 80);
	}
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_cancel_prevents_fire_and_is_a_noop_when_not_armed)
{
	struct timer_node nodes[4];
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 0), 0);
	nodes_init(nodes, 4);
	recorder_init(&r, &w, nodes);
	timer_wheel_arm(&w, &nodes[0].timer, 50);
	timer_wheel_arm(&w, &nodes[1].timer, 50);
	timer_wheel_arm(&w, &nodes[2].timer, 50);
	timer_wheel_cancel(&w, &nodes[1].timer);
	ck_assert(!timer_entry_armed(&nodes[1].timer));
	timer_wheel_cancel(&w, &nodes[1].timer);
	timer_wheel_cancel(&w, &nodes[3].timer);
	ck_assert_uint_eq(timer_wheel_count(&w), 2);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1000, UINT_MAX, record_fire, &r), 2);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_ne(r.ids[0], 1);
	ck_assert_uint_ne(r.ids[1], 1);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_rearm_later_moves_the_entry)
{
	struct timer_node node;
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 0), 0);
	nodes_init(&node, 1);
	recorder_init(&r, &w, &node);
	timer_wheel_arm(&w, &node.timer, 100);
	timer_wheel_arm(&w, &node.timer, 500);
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	ck_assert_uint_eq(timer_entry_expiry(&node.timer), 500);
	ck_assert_uint_eq(timer_wheel_advance(&w, 499, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 500, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5000, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_rearm_earlier_moves_the_entry)
{
	struct timer_node node;
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 0), 0);
	nodes_init(&node, 1);
	recorder_init(&r, &w, &node);
	timer_wheel_arm(&w, &node.timer, 5000);
	timer_wheel_arm(&w, &node.timer, 50);
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 49, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 50, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 6000, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_armed_at_or_before_now_fires_on_next_advance)
{
	struct timer_node nodes[5];
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 1000), 0);
	nodes_init(nodes, 5);
	recorder_init(&r, &w, nodes);
	timer_wheel_arm(&w, &nodes[0].timer, 200);
	timer_wheel_arm(&w, &nodes[1].timer, 1000);
	timer_wheel_arm(&w, &nodes[2].timer, 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1000, UINT_MAX, record_fire, &r), 3);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);

	/* Same tick as the wheel's time, on either side of it. */
	ck_assert_uint_eq(timer_wheel_advance(&w, 1005, UINT_MAX, record_fire, &r), 0);
	timer_wheel_arm(&w, &nodes[3].timer, 1003);
	timer_wheel_arm(&w, &nodes[4].timer, 1007);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1005, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[3], 3);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1006, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1007, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[4], 4);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_older_time_is_a_noop)
{
	struct timer_node nodes[2];
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 0), 0);
	nodes_init(nodes, 2);
	recorder_init(&r, &w, nodes);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1000, UINT_MAX, record_fire, &r), 0);
	timer_wheel_arm(&w, &nodes[0].timer, 900);
	timer_wheel_arm(&w, &nodes[1].timer, 1200);
	ck_assert_uint_eq(timer_wheel_advance(&w, 999, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(w.now_us, 1000);
	ck_assert_uint_eq(timer_wheel_count(&w), 2);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1000, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[0], 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 500, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 1200, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[1], 1);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_count_tracks_armed_entries)
{
	struct timer_node nodes[3];
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 16, 10, 0), 0);
	nodes_init(nodes, 3);
	recorder_init(&r, &w, nodes);
	timer_wheel_arm(&w, &nodes[0].timer, 10);
	timer_wheel_arm(&w, &nodes[1].timer, 20);
	timer_wheel_arm(&w, &nodes[2].timer, 30);
	ck_assert_uint_eq(timer_wheel_count(&w), 3);
	timer_wheel_arm(&w, &nodes[2].timer, 40);
	ck_assert_uint_eq(timer_wheel_count(&w), 3);
	timer_wheel_cancel(&w, &nodes[1].timer);
	ck_assert_uint_eq(timer_wheel_count(&w), 2);
	timer_wheel_advance(&w, 10, UINT_MAX, record_fire, &r);
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	ck_assert(timer_entry_armed(&nodes[2].timer));
	ck_assert(!timer_entry_armed(&nodes[0].timer));
	timer_wheel_free(&w);
}
END_TEST

/* Ten timers in distinct ticks, armed out of order, all due at once. With
 * 256 slots the wheel walks tick by tick; with 8 the same calls cross more
 * than a revolution and take the sweep-and-sort path. */
START_TEST(test_timer_cap_per_pass_carries_over_in_order)
{
	static const unsigned order[10] = { 7, 2, 9, 0, 4, 8, 1, 6, 3, 5 };
	static const unsigned per_call[] = { 3, 3, 3, 1, 0 };
	static const uint32_t slot_counts[] = { 256, 8 };
	struct timer_node nodes[12];
	struct timer_wheel w;
	struct recorder r;
	unsigned i, s;

	for (s = 0; s < 2; s++) {
		ck_assert_int_eq(timer_wheel_init(&w, slot_counts[s], 10, 0), 0);
		nodes_init(nodes, 12);
		recorder_init(&r, &w, nodes);
		for (i = 0; i < 10; i++)
			timer_wheel_arm(&w, &nodes[order[i]].timer,
					10 * (order[i] + 1) + order[i] % 3);
		ck_assert_uint_eq(timer_wheel_advance(&w, 1000, 0, record_fire, &r), 0);
		for (i = 0; i < 5; i++)
			ck_assert_uint_eq(timer_wheel_advance(&w, 1000, 3, record_fire, &r),
					  per_call[i]);
		ck_assert_uint_eq(r.n, 10);
		for (i = 0; i < 10; i++)
			ck_assert_uint_eq(r.ids[i], i);

		/* Leftovers fire before timers that expire later, even when
		 * those are due in the same call. */
		r.n = 0;
		timer_wheel_arm(&w, &nodes[0].timer, 1100);
		timer_wheel_arm(&w, &nodes[1].timer, 1110);
		timer_wheel_arm(&w, &nodes[2].timer, 1120);
		ck_assert_uint_eq(timer_wheel_advance(&w, 1200, 1, record_fire, &r), 1);
		timer_wheel_arm(&w, &nodes[10].timer, 1500);
		timer_wheel_arm(&w, &nodes[11].timer, 1130);
		ck_assert_uint_eq(timer_wheel_advance(&w, 2000, 100, record_fire, &r), 4);
		ck_assert_uint_eq(r.ids[0], 0);
		ck_assert_uint_eq(r.ids[1], 1);
		ck_assert_uint_eq(r.ids[2], 2);
		ck_assert_uint_eq(r.ids[3], 11);
		ck_assert_uint_eq(r.ids[4], 10);
		ck_assert_uint_eq(timer_wheel_count(&w), 0);
		timer_wheel_free(&w);
	}
}
END_TEST

static void
rearm_one_period_later(struct recorder *r, struct timer_node *fired)
{
	timer_wheel_arm(r->w, &fired->timer,
			timer_entry_expiry(&fired->timer) + r->period_us);
}

/* The period (100 us) is longer than a revolution (80 us). */
START_TEST(test_timer_callback_rearms_itself)
{
	struct timer_node node;
	struct timer_wheel w;
	struct recorder r;
	uint64_t now;
	unsigned k;

	ck_assert_int_eq(timer_wheel_init(&w, 8, 10, 0), 0);
	nodes_init(&node, 1);
	recorder_init(&r, &w, &node);
	r.action = rearm_one_period_later;
	r.period_us = 100;
	timer_wheel_arm(&w, &node.timer, 100);
	for (now = 0; now <= 1000; now += 10)
		timer_wheel_advance(&w, now, UINT_MAX, record_fire, &r);
	ck_assert_uint_eq(r.n, 10);
	for (k = 0; k < 10; k++)
		ck_assert_uint_eq(r.when[k], 100 * (k + 1));
	ck_assert(!r.armed_in_callback);
	ck_assert(timer_entry_armed(&node.timer));
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	timer_wheel_free(&w);
}
END_TEST

static void
rearm_for_now(struct recorder *r, struct timer_node *fired)
{
	timer_wheel_arm(r->w, &fired->timer, r->w->now_us);
}

/* As documented: a re-arm for "now" fires again in the same call only if
 * now lies in a later tick than the one being fired, so never more than
 * twice per call. */
START_TEST(test_timer_callback_rearming_for_now_does_not_spin)
{
	struct timer_node node;
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 64, 10, 0), 0);
	nodes_init(&node, 1);
	recorder_init(&r, &w, &node);
	r.action = rearm_for_now;
	timer_wheel_arm(&w, &node.timer, 105);
	ck_assert_uint_eq(timer_wheel_advance(&w, 259, 1000, record_fire, &r), 2);
	ck_assert_uint_eq(timer_wheel_advance(&w, 259, 1000, record_fire, &r), 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 259, 1000, record_fire, &r), 1);
	ck_assert(timer_entry_armed(&node.timer));
	timer_wheel_free(&w);
}
END_TEST

static void
cancel_the_rest_of_the_group(struct recorder *r, struct timer_node *fired)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (i != fired->id)
			timer_wheel_cancel(r->w, &r->nodes[i].timer);
}

/* Nodes 0-3 expire in the same tick, node 4 a revolution later in the same
 * slot: whichever fires first cancels the other three. */
START_TEST(test_timer_callback_cancels_next_entry_in_same_slot)
{
	struct timer_node nodes[5];
	struct timer_wheel w;
	struct recorder r;
	unsigned i;

	ck_assert_int_eq(timer_wheel_init(&w, 8, 10, 0), 0);
	nodes_init(nodes, 5);
	recorder_init(&r, &w, nodes);
	r.action = cancel_the_rest_of_the_group;
	for (i = 0; i < 4; i++)
		timer_wheel_arm(&w, &nodes[i].timer, 55);
	timer_wheel_arm(&w, &nodes[4].timer, 55 + 80);
	ck_assert_uint_eq(timer_wheel_advance(&w, 60, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	for (i = 0; i < 4; i++)
		ck_assert(!timer_entry_armed(&nodes[i].timer));
	r.action = NULL;
	ck_assert_uint_eq(timer_wheel_advance(&w, 200, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[1], 4);
	timer_wheel_free(&w);
}
END_TEST

static void
move_the_rest_of_the_group(struct recorder *r, struct timer_node *fired)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (i != fired->id && timer_entry_armed(&r->nodes[i].timer))
			timer_wheel_arm(r->w, &r->nodes[i].timer, 500);
}

START_TEST(test_timer_callback_moves_next_entry_in_same_slot)
{
	struct timer_node nodes[4];
	struct timer_wheel w;
	struct recorder r;
	unsigned i;

	ck_assert_int_eq(timer_wheel_init(&w, 8, 10, 0), 0);
	nodes_init(nodes, 4);
	recorder_init(&r, &w, nodes);
	r.action = move_the_rest_of_the_group;
	for (i = 0; i < 4; i++)
		timer_wheel_arm(&w, &nodes[i].timer, 55);
	ck_assert_uint_eq(timer_wheel_advance(&w, 60, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(timer_wheel_count(&w), 3);
	r.action = NULL;
	ck_assert_uint_eq(timer_wheel_advance(&w, 499, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 500, UINT_MAX, record_fire, &r), 3);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

static void
arm_two_due_entries(struct recorder *r, struct timer_node *fired)
{
	if (fired->id != 0)
		return;
	/* Node 1: due, in a tick before the one being fired. Node 2: due, in
	 * a later tick this call still reaches. */
	timer_wheel_arm(r->w, &r->nodes[1].timer, 30);
	timer_wheel_arm(r->w, &r->nodes[2].timer, 75);
}

START_TEST(test_timer_callback_arms_new_entry_already_due)
{
	struct timer_node nodes[3];
	struct timer_wheel w;
	struct recorder r;

	ck_assert_int_eq(timer_wheel_init(&w, 64, 10, 0), 0);
	nodes_init(nodes, 3);
	recorder_init(&r, &w, nodes);
	r.action = arm_two_due_entries;
	timer_wheel_arm(&w, &nodes[0].timer, 55);
	ck_assert_uint_eq(timer_wheel_advance(&w, 100, UINT_MAX, record_fire, &r), 2);
	ck_assert_uint_eq(r.ids[0], 0);
	ck_assert_uint_eq(r.ids[1], 2);
	ck_assert_uint_eq(timer_wheel_count(&w), 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 100, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[2], 1);
	ck_assert_uint_eq(timer_wheel_advance(&w, 100000, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

/* 2000 timers spread over ten hours on a 256-slot, 1 ms wheel (a
 * revolution is 0.256 s), then two jumps of five hours. */
START_TEST(test_timer_long_idle_jump_fires_everything_due_in_order)
{
	enum { N = 2000 };
	static const uint64_t hour = 3600ULL * 1000000ULL;
	static struct timer_node nodes[N];
	static struct recorder r;
	uint64_t expiry[N], seed = 42, visits;
	unsigned seen[N] = { 0 };
	struct timer_wheel w;
	unsigned i, due = 0;

	ck_assert_int_eq(timer_wheel_init(&w, 256, 1000, 0), 0);
	nodes_init(nodes, N);
	recorder_init(&r, &w, nodes);
	for (i = 0; i < N; i++) {
		expiry[i] = 1 + test_splitmix64(&seed) % (10 * hour);
		due += expiry[i] <= 5 * hour;
		timer_wheel_arm(&w, &nodes[i].timer, expiry[i]);
	}
	visits = w.slot_visits;
	ck_assert_uint_eq(timer_wheel_advance(&w, 5 * hour, UINT_MAX, record_fire, &r),
			  due);
	ck_assert_uint_le(w.slot_visits - visits, 256);
	for (i = 0; i < r.n; i++) {
		ck_assert_uint_le(expiry[r.ids[i]], 5 * hour);
		if (i > 0)
			ck_assert_uint_le(expiry[r.ids[i - 1]] / 1000,
					  expiry[r.ids[i]] / 1000);
		seen[r.ids[i]]++;
	}
	visits = w.slot_visits;
	ck_assert_uint_eq(timer_wheel_advance(&w, 10 * hour, UINT_MAX, record_fire, &r),
			  N - due);
	ck_assert_uint_le(w.slot_visits - visits, 256);
	for (i = due; i < r.n; i++) {
		ck_assert_uint_gt(expiry[r.ids[i]], 5 * hour);
		if (i > due)
			ck_assert_uint_le(expiry[r.ids[i - 1]] / 1000,
					  expiry[r.ids[i]] / 1000);
		seen[r.ids[i]]++;
	}
	for (i = 0; i < N; i++)
		ck_assert_uint_eq(seen[i], 1);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

START_TEST(test_timer_huge_gap_visits_at_most_one_revolution_of_slots)
{
	enum { SLOTS = 1024, N = 64 };
	struct timer_node nodes[N];
	struct timer_wheel w;
	struct recorder r;
	uint64_t visits, now = 0;
	unsigned i, jump;

	ck_assert_int_eq(timer_wheel_init(&w, SLOTS, 100, 0), 0);
	nodes_init(nodes, N);
	recorder_init(&r, &w, nodes);

	/* Empty wheel: nothing to look at. */
	ck_assert_uint_eq(timer_wheel_advance(&w, 1000000000000ULL, UINT_MAX,
					      record_fire, &r), 0);
	ck_assert_uint_eq(w.slot_visits, 0);
	now = 1000000000000ULL;

	/* Timers far beyond every jump: five jumps of 10^12 us each. */
	for (i = 0; i < N; i++)
		timer_wheel_arm(&w, &nodes[i].timer, 100000000000000ULL + i * 977);
	for (jump = 0; jump < 5; jump++) {
		now += 1000000000000ULL;
		visits = w.slot_visits;
		ck_assert_uint_eq(timer_wheel_advance(&w, now, UINT_MAX, record_fire, &r), 0);
		ck_assert_uint_le(w.slot_visits - visits, SLOTS);
	}

	/* Just under a revolution: the ordinary walk, still bounded. */
	now += (SLOTS - 1) * 100ULL;
	visits = w.slot_visits;
	timer_wheel_advance(&w, now, UINT_MAX, record_fire, &r);
	ck_assert_uint_le(w.slot_visits - visits, SLOTS);

	visits = w.slot_visits;
	ck_assert_uint_eq(timer_wheel_advance(&w, 200000000000000ULL, UINT_MAX,
					      record_fire, &r), N);
	ck_assert_uint_le(w.slot_visits - visits, SLOTS);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

/*
 * Polls come far more often than ticks. Within one tick the position's
 * slot is walked again only once one of its entries is due: a busy slot
 * costs nothing per poll until then, and still fires on time.
 */
START_TEST(test_timer_polls_within_a_tick_walk_the_slot_only_when_due)
{
	struct timer_wheel w;
	struct timer_node nodes[3];
	struct recorder r;
	uint64_t visits;

	ck_assert_int_eq(timer_wheel_init(&w, 64, 1000, 5000), 0);
	nodes_init(nodes, 3);
	recorder_init(&r, &w, nodes);
	/* All three in the tick of 5000..5999. */
	timer_wheel_arm(&w, &nodes[0].timer, 5900);
	timer_wheel_arm(&w, &nodes[1].timer, 5500);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5001, UINT_MAX, record_fire, &r), 0);
	visits = w.slot_visits;
	for (uint64_t t = 5002; t < 5200; t++)
		ck_assert_uint_eq(timer_wheel_advance(&w, t, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(w.slot_visits, visits);
	/* An entry armed earlier than the rest lowers the bar. */
	timer_wheel_arm(&w, &nodes[2].timer, 5300);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5299, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5300, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[0], 2);
	visits = w.slot_visits;
	ck_assert_uint_eq(timer_wheel_advance(&w, 5499, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(w.slot_visits, visits);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5500, UINT_MAX, record_fire, &r), 1);
	ck_assert_uint_eq(r.ids[1], 1);
	/* A cancelled entry leaves the bar low: one harmless walk. */
	timer_wheel_cancel(&w, &nodes[0].timer);
	ck_assert_uint_eq(timer_wheel_advance(&w, 5950, UINT_MAX, record_fire, &r), 0);
	ck_assert_uint_eq(timer_wheel_count(&w), 0);
	timer_wheel_free(&w);
}
END_TEST

/*
 * Randomized against a reference model: an array of what should be armed,
 * scanned in full at every step.
 *
 * The model marks an entry "late" when it was armed with an expiry at or
 * before the wheel's time; the wheel only promises such entries fire on the
 * next advance, ahead of anything waiting, so they are exempt from the tick
 * order between themselves. For every other pair the check is strict: when
 * an entry fires, no entry still armed, due and not late may have an
 * earlier expiry tick.
 */
enum { MODEL_NODES = 256, MODEL_SLOTS = 64, MODEL_TICK = 10 };

struct model {
	struct timer_wheel w;
	struct timer_node nodes[MODEL_NODES];
	bool armed[MODEL_NODES];
	uint64_t expiry[MODEL_NODES];
	bool late[MODEL_NODES];
	bool armed_this_call[MODEL_NODES];
	uint64_t armed_count;
	uint64_t now;
	uint64_t seed;
	unsigned fired_this_call;
	bool callbacks_act;
	unsigned op;
	const char *failure;	/* first broken expectation, NULL if none */
	int failure_line;
	unsigned failure_op;
};

/* Check's assertions log every pass to a file, which across millions of
 * checks costs more than the test itself: the model records the first
 * broken expectation and the test asserts once per operation. */
#define MODEL_EXPECT(m, cond)						\
	do {								\
		if (!(cond) && (m)->failure == NULL) {			\
			(m)->failure = #cond;				\
			(m)->failure_line = __LINE__;			\
			(m)->failure_op = (m)->op;			\
		}							\
	} while (0)

static uint64_t
model_random_expiry(struct model *m)
{
	uint64_t r = test_splitmix64(&m->seed), back;

	switch (r % 10) {
	case 0:
		back = (r >> 8) % 2000;
		return m->now > back ? m->now - back : 0;
	case 1:
		return m->now;
	case 2: case 3: case 4: case 5: case 6:
		return m->now + (r >> 8) % 200;
	case 7: case 8:
		return m->now + (r >> 8) % 3000;
	default:
		return m->now + (r >> 8) % 100000;
	}
}

static void
model_arm(struct model *m, unsigned i, uint64_t expiry, bool in_callback)
{
	timer_wheel_arm(&m->w, &m->nodes[i].timer, expiry);
	if (!m->armed[i])
		m->armed_count++;
	m->armed[i] = true;
	m->expiry[i] = expiry;
	m->late[i] = expiry <= m->now;
	m->armed_this_call[i] = in_callback;
}

static void
model_cancel(struct model *m, unsigned i)
{
	timer_wheel_cancel(&m->w, &m->nodes[i].timer);
	if (m->armed[i])
		m->armed_count--;
	m->armed[i] = false;
}

static void
model_fire(struct timer_entry *e, void *arg)
{
	struct model *m = arg;
	unsigned i = node_of(e)->id, j;
	uint64_t r;

	MODEL_EXPECT(m, m->armed[i]);
	MODEL_EXPECT(m, !timer_entry_armed(e));
	MODEL_EXPECT(m, timer_entry_expiry(e) == m->expiry[i]);
	MODEL_EXPECT(m, m->expiry[i] <= m->now);
	for (j = 0; j < MODEL_NODES; j++)
		if (j != i && m->armed[j] && !m->late[j] && m->expiry[j] <= m->now)
			MODEL_EXPECT(m, m->expiry[i] / MODEL_TICK <=
				     m->expiry[j] / MODEL_TICK);
	m->armed[i] = false;
	m->armed_count--;
	m->fired_this_call++;
	if (!m->callbacks_act)
		return;
	r = test_splitmix64(&m->seed);
	switch (r % 8) {
	case 0:
		model_arm(m, i, model_random_expiry(m), true);
		break;
	case 1:
		model_arm(m, (unsigned)((r >> 8) % MODEL_NODES),
			  model_random_expiry(m), true);
		break;
	case 2:
		model_cancel(m, (unsigned)((r >> 8) % MODEL_NODES));
		break;
	default:
		break;
	}
}

static void
model_check_armed(struct model *m)
{
	unsigned i;

	MODEL_EXPECT(m, timer_wheel_count(&m->w) == m->armed_count);
	for (i = 0; i < MODEL_NODES; i++)
		MODEL_EXPECT(m, timer_entry_armed(&m->nodes[i].timer) == m->armed[i]);
}

static unsigned
model_random_cap(struct model *m)
{
	uint64_t r = test_splitmix64(&m->seed);

	switch (r % 6) {
	case 0:
		return (unsigned)((r >> 8) % 3);
	case 1:
	case 2:
		return UINT_MAX;
	default:
		return 1 + (unsigned)((r >> 8) % 32);
	}
}

static void
model_advance(struct model *m)
{
	uint64_t r = test_splitmix64(&m->seed), now = m->now, visits;
	unsigned cap = model_random_cap(m), fired, i;

	switch (r % 20) {
	case 0:
		break;
	case 1:
		/* Older time: nothing may happen. */
		if (now == 0)
			break;
		visits = m->w.slot_visits;
		MODEL_EXPECT(m, timer_wheel_advance(&m->w, now - 1 - (r >> 8) % now,
						    UINT_MAX, model_fire, m) == 0);
		MODEL_EXPECT(m, m->w.slot_visits == visits);
		MODEL_EXPECT(m, m->w.now_us == now);
		return;
	case 2:
		now += MODEL_SLOTS * MODEL_TICK + (r >> 8) % 200000;
		break;
	case 3:
		now += MODEL_SLOTS * MODEL_TICK - 10 + (r >> 8) % 20;
		break;
	default:
		now += (r >> 8) % 40;
		break;
	}
	m->now = now;
	m->fired_this_call = 0;
	for (i = 0; i < MODEL_NODES; i++)
		m->armed_this_call[i] = false;
	visits = m->w.slot_visits;
	fired = timer_wheel_advance(&m->w, now, cap, model_fire, m);
	MODEL_EXPECT(m, fired == m->fired_this_call);
	MODEL_EXPECT(m, fired <= cap);
	MODEL_EXPECT(m, m->w.slot_visits - visits <= MODEL_SLOTS);
	/* Below the cap, only entries armed late by this call's callbacks may
	 * still be due: everything else due must have fired. */
	if (fired < cap)
		for (i = 0; i < MODEL_NODES; i++)
			if (m->armed[i] && m->expiry[i] <= now)
				MODEL_EXPECT(m, m->armed_this_call[i] && m->late[i]);
}

START_TEST(test_timer_random_operations_match_reference_model)
{
	static struct model m;
	unsigned op, i;

	memset(&m, 0, sizeof(m));
	m.seed = 0x5eed1234abcdULL;
	m.callbacks_act = true;
	ck_assert_int_eq(timer_wheel_init(&m.w, MODEL_SLOTS, MODEL_TICK, 0), 0);
	nodes_init(m.nodes, MODEL_NODES);
	for (op = 0; op < 100000; op++) {
		uint64_t r = test_splitmix64(&m.seed);
		unsigned pick = (unsigned)((r >> 8) % MODEL_NODES);

		m.op = op;

		if (r % 100 < 45)
			model_arm(&m, pick, model_random_expiry(&m), false);
		else if (r % 100 < 60)
			model_cancel(&m, pick);
		else
			model_advance(&m);
		model_check_armed(&m);
		if (m.failure != NULL)
			break;
	}
	ck_assert_msg(m.failure == NULL, "op %u, line %d: %s", m.failure_op,
		      m.failure_line, m.failure);
	/* Nothing is lost: a last jump past every expiry fires all that is
	 * left, each exactly once (the callback asserts it was armed). */
	m.callbacks_act = false;
	m.now += 1000000;
	m.fired_this_call = 0;
	i = (unsigned)m.armed_count;
	ck_assert_uint_eq(timer_wheel_advance(&m.w, m.now, UINT_MAX, model_fire, &m), i);
	model_check_armed(&m);
	ck_assert_msg(m.failure == NULL, "final drain, line %d: %s",
		      m.failure_line, m.failure);
	ck_assert_uint_eq(m.armed_count, 0);
	timer_wheel_free(&m.w);
}
END_TEST

static Suite *
timer_wheel_suite(void)
{
	Suite *s = suite_create("timer_wheel");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_timer_wheel_init_rejects_bad_arguments);
	tcase_add_test(tc, test_timer_fires_not_early_and_not_more_than_a_tick_late);
	tcase_add_test(tc, test_timer_beyond_one_revolution_waits_for_its_round);
	tcase_add_test(tc, test_timer_cancel_prevents_fire_and_is_a_noop_when_not_armed);
	tcase_add_test(tc, test_timer_rearm_later_moves_the_entry);
	tcase_add_test(tc, test_timer_rearm_earlier_moves_the_entry);
	tcase_add_test(tc, test_timer_armed_at_or_before_now_fires_on_next_advance);
	tcase_add_test(tc, test_timer_older_time_is_a_noop);
	tcase_add_test(tc, test_timer_count_tracks_armed_entries);
	tcase_add_test(tc, test_timer_cap_per_pass_carries_over_in_order);
	tcase_add_test(tc, test_timer_callback_rearms_itself);
	tcase_add_test(tc, test_timer_callback_rearming_for_now_does_not_spin);
	tcase_add_test(tc, test_timer_callback_cancels_next_entry_in_same_slot);
	tcase_add_test(tc, test_timer_callback_moves_next_entry_in_same_slot);
	tcase_add_test(tc, test_timer_callback_arms_new_entry_already_due);
	tcase_add_test(tc, test_timer_long_idle_jump_fires_everything_due_in_order);
	tcase_add_test(tc, test_timer_huge_gap_visits_at_most_one_revolution_of_slots);
	tcase_add_test(tc, test_timer_random_operations_match_reference_model);
	tcase_add_test(tc, test_timer_polls_within_a_tick_walk_the_slot_only_when_due);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(timer_wheel_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
