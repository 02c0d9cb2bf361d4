/*
 * Proves that a completion ring never loses, duplicates or reorders a
 * completion: admission by reservation refuses exactly at capacity, a full
 * ring overflows into a list that drains in order, later posts queue behind
 * overflowed ones, multishot entries pause instead of overflowing, and a
 * producer and a consumer on two threads agree on 2,000,000 completions.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdlib.h>
#include <check.h>
#include <rte_malloc.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "test_eal.h"
#include "wsk_cq.h"

static size_t heap_at_start;

static size_t
heap_allocated(void)
{
	struct rte_malloc_socket_stats stats;
	size_t total = 0;
	unsigned i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i),
						&stats) == 0)
			total += stats.heap_allocsz_bytes;
	return total;
}

static void
setup(void)
{
	heap_at_start = heap_allocated();
}

static void
teardown(void)
{
	ck_assert_uint_eq(heap_allocated(), heap_at_start);
}

static struct wsk_cq *
make_cq(unsigned entries, unsigned overflow)
{
	struct wsk_cq *cq = wsk_cq_create("test_cq", entries, overflow,
					  SOCKET_ID_ANY);

	ck_assert_ptr_nonnull(cq);
	return cq;
}

/* The fields a test posts for sequence number seq, so a reaped entry can
 * be checked as a whole. */
static NTSTATUS
status_of(uint64_t seq)
{
	return seq % 3 == 0 ? STATUS_CANCELLED : STATUS_SUCCESS;
}

static uint64_t
information_of(uint64_t seq)
{
	return seq * 7 + 1;
}

static void
reserve_and_post(struct wsk_cq *cq, uint64_t seq)
{
	ck_assert(wsk_cq_reserve(cq));
	wsk_cq_post(cq, seq, status_of(seq), information_of(seq), 0);
}

static void
check_entry(const struct wsk_completion *c, uint64_t seq, uint32_t flags)
{
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->user_data, seq);
	ck_assert_int_eq(c->status, status_of(seq));
	ck_assert_uint_eq(c->information, information_of(seq));
	ck_assert_uint_eq(c->flags, flags);
}

/* Reap exactly n completions, expecting *next, *next + 1, ... */
static void
reap_expect(struct wsk_cq *cq, unsigned n, uint64_t *next)
{
	struct wsk_completion *c;
	unsigned i;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
		check_entry(c, (*next)++, 0);
		wsk_cq_seen(cq, c);
	}
}

START_TEST(test_cq_completions_come_out_in_post_order_over_many_laps)
{
	struct wsk_cq *cq = make_cq(8, 0);
	uint64_t posted = 0, reaped = 0;
	unsigned lap, i;

	/* Batch sizes 1..8 never divide the laps evenly, so every slot is
	 * both written and read at every offset. */
	for (lap = 0; lap < 1000; lap++) {
		unsigned batch = lap % 8 + 1;

		for (i = 0; i < batch; i++)
			reserve_and_post(cq, posted++);
		ck_assert_uint_eq(wsk_cq_ready(cq), batch);
		reap_expect(cq, batch, &reaped);
		ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	}
	ck_assert_uint_eq(reaped, posted);
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 0);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_keeps_order_when_head_and_tail_wrap_past_2_pow_32)
{
	struct wsk_cq *cq = make_cq(4, 2);
	uint64_t posted = 0, reaped = 0;
	unsigned lap;

	/* White box: start the free-running counters just below 2^32 rather
	 * than posting four billion entries to get there. */
	atomic_store(&cq->head, UINT32_MAX - 5);
	atomic_store(&cq->tail, UINT32_MAX - 5);
	cq->head_cache = UINT32_MAX - 5;

	for (lap = 0; lap < 20; lap++) {
		unsigned i;

		for (i = 0; i < 6; i++)		/* 4 in the ring, 2 overflow */
			reserve_and_post(cq, posted++);
		ck_assert(!wsk_cq_reserve(cq));
		ck_assert_uint_eq(wsk_cq_ready(cq), 4);
		reap_expect(cq, 4, &reaped);
		ck_assert_uint_eq(wsk_cq_flush_overflow(cq), 2);
		reap_expect(cq, 2, &reaped);
	}
	ck_assert_uint_eq(reaped, posted);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_reserve_refused_exactly_at_capacity)
{
	struct wsk_cq *cq = make_cq(8, 4);
	unsigned i;

	for (i = 0; i < 12; i++)
		ck_assert_msg(wsk_cq_reserve(cq), "reservation %u refused", i);
	ck_assert(!wsk_cq_reserve(cq));
	wsk_cq_unreserve(cq);
	ck_assert(wsk_cq_reserve(cq));
	ck_assert(!wsk_cq_reserve(cq));
	for (i = 0; i < 12; i++)
		wsk_cq_unreserve(cq);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_reserve_recovers_after_reaping)
{
	struct wsk_cq *cq = make_cq(8, 4);
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < 12; i++)
		reserve_and_post(cq, i);
	ck_assert_uint_eq(wsk_cq_ready(cq), 8);
	ck_assert(wsk_cq_overflowed(cq));
	ck_assert(!wsk_cq_reserve(cq));

	reap_expect(cq, 3, &next);
	for (i = 0; i < 3; i++)
		ck_assert_msg(wsk_cq_reserve(cq), "reservation %u refused", i);
	ck_assert(!wsk_cq_reserve(cq));

	for (i = 12; i < 15; i++)
		wsk_cq_post(cq, i, status_of(i), information_of(i), 0);
	while (next < 15) {
		reap_expect(cq, wsk_cq_ready(cq), &next);
		wsk_cq_flush_overflow(cq);
	}
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	ck_assert(!wsk_cq_overflowed(cq));
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_overflow_then_flush_preserves_order_and_loses_nothing)
{
	struct wsk_cq *cq = make_cq(4, 8);
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < 12; i++)
		reserve_and_post(cq, i);
	ck_assert_uint_eq(wsk_cq_ready(cq), 4);
	ck_assert(wsk_cq_overflowed(cq));
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 8);
	ck_assert_uint_eq(wsk_cq_flush_overflow(cq), 0);

	reap_expect(cq, 1, &next);
	ck_assert_uint_eq(wsk_cq_flush_overflow(cq), 1);
	reap_expect(cq, 4, &next);
	ck_assert_uint_eq(wsk_cq_flush_overflow(cq), 4);
	reap_expect(cq, 4, &next);
	ck_assert_uint_eq(wsk_cq_flush_overflow(cq), 3);
	ck_assert(!wsk_cq_overflowed(cq));
	reap_expect(cq, 3, &next);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 8);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_post_while_overflowed_goes_behind_overflowed_entries)
{
	struct wsk_cq *cq = make_cq(4, 4);
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < 6; i++)		/* 0..3 in the ring, 4 and 5 wait */
		reserve_and_post(cq, i);
	reap_expect(cq, 3, &next);	/* three free slots, no flush yet */
	ck_assert(wsk_cq_overflowed(cq));

	reserve_and_post(cq, 6);	/* must not jump ahead of 4 and 5 */
	ck_assert(!wsk_cq_overflowed(cq));
	ck_assert_uint_eq(wsk_cq_ready(cq), 4);
	reap_expect(cq, 4, &next);
	ck_assert_uint_eq(next, 7);

	/* The same with the ring still full: the post joins the list. */
	for (i = 7; i < 11; i++)
		reserve_and_post(cq, i);
	reserve_and_post(cq, 11);
	reserve_and_post(cq, 12);
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 4);
	while (next < 13) {
		reap_expect(cq, wsk_cq_ready(cq), &next);
		wsk_cq_flush_overflow(cq);
	}
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_post_more_refused_when_ring_full)
{
	struct wsk_cq *cq = make_cq(4, 0);
	struct wsk_completion *c;
	uint64_t i;

	for (i = 0; i < 4; i++)
		ck_assert(wsk_cq_post_more(cq, i, status_of(i),
					   information_of(i), 0));
	ck_assert(!wsk_cq_post_more(cq, 4, status_of(4), information_of(4),
				    0));
	ck_assert_uint_eq(wsk_cq_ready(cq), 4);
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 0);

	ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
	check_entry(c, 0, WSK_CQE_F_MORE);
	wsk_cq_seen(cq, c);
	ck_assert(wsk_cq_post_more(cq, 4, status_of(4), information_of(4), 0));
	for (i = 1; i < 5; i++) {
		ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
		check_entry(c, i, WSK_CQE_F_MORE);
		wsk_cq_seen(cq, c);
	}
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_post_more_leaves_room_for_reservations)
{
	struct wsk_cq *cq = make_cq(4, 0);
	struct wsk_completion *c;
	uint64_t i;

	ck_assert(wsk_cq_reserve(cq));
	for (i = 0; i < 3; i++)
		ck_assert(wsk_cq_post_more(cq, 9, status_of(i),
					   information_of(i), 0));
	/* One slot is free, but it belongs to the reservation. */
	ck_assert(!wsk_cq_post_more(cq, 9, status_of(3), information_of(3),
				    0));
	wsk_cq_post(cq, 9, STATUS_CONNECTION_RESET, 0, 0);
	ck_assert_uint_eq(wsk_cq_ready(cq), 4);
	ck_assert_uint_eq(wsk_cq_overflow_count(cq), 0);

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
		ck_assert_uint_eq(c->flags, WSK_CQE_F_MORE);
		ck_assert_uint_eq(c->information, information_of(i));
		wsk_cq_seen(cq, c);
	}
	ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
	ck_assert_uint_eq(c->flags, 0);
	ck_assert_int_eq(c->status, STATUS_CONNECTION_RESET);
	wsk_cq_seen(cq, c);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_post_more_never_overtakes_overflowed_entries)
{
	struct wsk_cq *cq = make_cq(2, 2);
	struct wsk_completion *c;
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < 4; i++)		/* 0, 1 in the ring; 2, 3 wait */
		reserve_and_post(cq, i);
	ck_assert(!wsk_cq_post_more(cq, 4, status_of(4), information_of(4),
				    0));
	reap_expect(cq, 2, &next);
	/* The free slots go to the overflowed 2 and 3 first. */
	ck_assert(!wsk_cq_post_more(cq, 4, status_of(4), information_of(4),
				    0));
	ck_assert(!wsk_cq_overflowed(cq));
	reap_expect(cq, 2, &next);
	ck_assert(wsk_cq_post_more(cq, 4, status_of(4), information_of(4), 0));
	ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
	check_entry(c, 4, WSK_CQE_F_MORE);
	wsk_cq_seen(cq, c);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_peek_on_empty_ring_returns_eagain)
{
	struct wsk_cq *cq = make_cq(4, 0);
	struct wsk_completion *c = (struct wsk_completion *)&c;

	ck_assert_int_eq(wsk_cq_peek(cq, &c), -EAGAIN);
	ck_assert_ptr_null(c);
	wsk_cq_seen(cq, c);		/* NULL: consumes nothing */
	reserve_and_post(cq, 42);
	ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
	check_entry(c, 42, 0);
	/* Peeking again without seen() shows the same entry. */
	ck_assert_int_eq(wsk_cq_peek(cq, &c), 0);
	check_entry(c, 42, 0);
	wsk_cq_seen(cq, c);
	ck_assert_int_eq(wsk_cq_peek(cq, &c), -EAGAIN);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_peek_batch_returns_oldest_first_up_to_max)
{
	struct wsk_cq *cq = make_cq(8, 0);
	struct wsk_completion *cqes[8];
	unsigned i, n;

	for (i = 0; i < 5; i++)
		reserve_and_post(cq, i);
	n = wsk_cq_peek_batch(cq, cqes, 3);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		check_entry(cqes[i], i, 0);
	ck_assert_uint_eq(wsk_cq_ready(cq), 5);	/* peeking consumes nothing */
	wsk_cq_advance(cq, n);

	n = wsk_cq_peek_batch(cq, cqes, 8);
	ck_assert_uint_eq(n, 2);
	check_entry(cqes[0], 3, 0);
	check_entry(cqes[1], 4, 0);
	wsk_cq_advance(cq, n);
	ck_assert_uint_eq(wsk_cq_peek_batch(cq, cqes, 8), 0);
	wsk_cq_advance(cq, 0);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_for_each_visits_ready_entries_and_advance_consumes_them)
{
	struct wsk_cq *cq = make_cq(4, 0);
	struct wsk_completion *cqe;
	unsigned head, count = 0, i;

	for (i = 0; i < 3; i++)		/* wrap the ring once first */
		reserve_and_post(cq, 100 + i);
	wsk_cq_advance(cq, 3);
	for (i = 0; i < 4; i++)
		reserve_and_post(cq, i);

	wsk_cq_for_each(cq, head, cqe) {
		check_entry(cqe, count, 0);
		ck_assert_uint_eq(head, 3 + count);
		count++;
	}
	ck_assert_uint_eq(count, 4);
	ck_assert_uint_eq(wsk_cq_ready(cq), 4);
	wsk_cq_advance(cq, count);
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);

	count = 0;
	wsk_cq_for_each(cq, head, cqe)
		count++;
	ck_assert_uint_eq(count, 0);
	wsk_cq_free(cq);
}
END_TEST

START_TEST(test_cq_create_rejects_bad_sizes)
{
	ck_assert_ptr_null(wsk_cq_create("bad", 0, 0, SOCKET_ID_ANY));
	ck_assert_ptr_null(wsk_cq_create("bad", WSK_CQ_MAX_ENTRIES + 1, 0,
					 SOCKET_ID_ANY));
	ck_assert_ptr_null(wsk_cq_create("bad", UINT32_MAX, 0,
					 SOCKET_ID_ANY));
	ck_assert_ptr_null(wsk_cq_create("bad", 8, WSK_CQ_MAX_OVERFLOW + 1,
					 SOCKET_ID_ANY));
}
END_TEST

START_TEST(test_cq_create_rounds_entries_up_to_power_of_two)
{
	static const unsigned asked[] = { 1, 3, 5, 8, 9 };
	static const unsigned slots[] = { 1, 4, 8, 8, 16 };
	unsigned t;

	for (t = 0; t < RTE_DIM(asked); t++) {
		struct wsk_cq *cq = make_cq(asked[t], 0);
		unsigned i;

		/* Unreserved multishot posts fill exactly the ring. */
		for (i = 0; i < slots[t]; i++)
			ck_assert(wsk_cq_post_more(cq, i, 0, 0, 0));
		ck_assert(!wsk_cq_post_more(cq, i, 0, 0, 0));
		wsk_cq_free(cq);
	}
}
END_TEST

START_TEST(test_cq_free_accepts_null)
{
	wsk_cq_free(NULL);
}
END_TEST

/*
 * Randomized: every producer and consumer operation, checked step by step
 * against a reference model that counts ring and overflow entries and keeps
 * the expected order in a plain queue.
 */
struct cq_model {
	unsigned entries, overflow_cap;
	unsigned ring, overflow, reserved;
};

static void
model_flush(struct cq_model *m)
{
	unsigned n = RTE_MIN(m->overflow, m->entries - m->ring);

	m->ring += n;
	m->overflow -= n;
}

static bool
model_has_room(const struct cq_model *m)
{
	return m->reserved + m->ring + m->overflow <
	       m->entries + m->overflow_cap;
}

/* xorshift64*: fixed seed, so a failure replays. */
static uint64_t
prng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Check's assertions record a location on every call, which makes them
 * slow in a loop of a million steps: test plainly, report on failure. */
#define REQUIRE(cond)							\
	do {								\
		if (!(cond))						\
			ck_abort_msg("seed %" PRIx64 " step %u: %s",	\
				     seed0, step, #cond);		\
	} while (0)

static void
run_model(unsigned entries, unsigned overflow_cap, uint64_t seed)
{
	enum { STEPS = 200000 };
	struct wsk_cq *cq = make_cq(entries, overflow_cap);
	struct cq_model m = { .entries = entries, .overflow_cap = overflow_cap };
	uint64_t *expect = malloc(STEPS * sizeof(*expect));
	bool *expect_more = malloc(STEPS * sizeof(*expect_more));
	uint64_t exp_head = 0, exp_tail = 0, seq = 0;
	const uint64_t seed0 = seed;
	unsigned step, overflowed_steps = 0, refusals = 0;

	ck_assert_ptr_nonnull(expect);
	ck_assert_ptr_nonnull(expect_more);
	for (step = 0; step < STEPS; step++) {
		uint64_t r = prng_next(&seed);
		/* Alternate fast and slow consumer phases so the ring spends
		 * time both empty and full with entries overflowed. */
		bool slow_consumer = (step / 2000) % 2 == 1;
		unsigned op = r % 8;
		bool ok;

		if (op >= 5 && slow_consumer && (r >> 32) % 8 != 0)
			op = 4;
		switch (op) {
		case 0:
		case 1:
			ok = wsk_cq_reserve(cq);
			REQUIRE(ok == model_has_room(&m));
			if (ok)
				m.reserved++;
			else
				refusals++;
			break;
		case 2:
			if (m.reserved == 0)
				break;
			if ((r >> 8) % 4 == 0) {
				wsk_cq_unreserve(cq);
				m.reserved--;
				break;
			}
			wsk_cq_post(cq, seq, status_of(seq),
				    information_of(seq), 0);
			m.reserved--;
			model_flush(&m);
			if (m.overflow == 0 && m.ring < m.entries)
				m.ring++;
			else
				m.overflow++;
			REQUIRE(m.overflow <= m.overflow_cap);
			expect_more[exp_tail] = false;
			expect[exp_tail++] = seq++;
			break;
		case 3:
			ok = wsk_cq_post_more(cq, seq, status_of(seq),
					      information_of(seq), 0);
			model_flush(&m);
			REQUIRE(ok == (m.overflow == 0 && m.ring < m.entries &&
				       model_has_room(&m)));
			if (ok) {
				m.ring++;
				expect_more[exp_tail] = true;
				expect[exp_tail++] = seq++;
			}
			break;
		case 4:
			model_flush(&m);
			wsk_cq_flush_overflow(cq);
			break;
		default: {
			struct wsk_completion *cqes[64];
			unsigned want = (r >> 8) % 6;
			unsigned n = wsk_cq_peek_batch(cq, cqes, want);
			unsigned i;

			REQUIRE(n == RTE_MIN(want, m.ring));
			for (i = 0; i < n; i++) {
				bool more = expect_more[exp_head];
				uint64_t s = expect[exp_head++];

				REQUIRE(cqes[i]->user_data == s);
				REQUIRE(cqes[i]->flags ==
					(more ? WSK_CQE_F_MORE : 0u));
				REQUIRE(cqes[i]->status == status_of(s));
				REQUIRE(cqes[i]->information ==
					information_of(s));
			}
			wsk_cq_advance(cq, n);
			m.ring -= n;
			break;
		}
		}
		REQUIRE(wsk_cq_ready(cq) == m.ring);
		REQUIRE(wsk_cq_overflowed(cq) == (m.overflow != 0));
		if (m.overflow != 0)
			overflowed_steps++;
	}
	/* The run must have reached the states it is meant to test. */
	if (overflow_cap > 0)
		ck_assert_uint_gt(overflowed_steps, 0);
	ck_assert_uint_gt(refusals, 0);
	while (m.reserved > 0) {
		wsk_cq_unreserve(cq);
		m.reserved--;
	}
	free(expect_more);
	free(expect);
	wsk_cq_free(cq);
}

START_TEST(test_cq_random_operations_match_reference_model)
{
	run_model(8, 4, 0x9E3779B97F4A7C15ULL);
	run_model(4, 0, 0x0123456789ABCDEFULL);
	run_model(2, 16, 0xDEADBEEFCAFEF00DULL);
	run_model(1, 1, 0x5EED5EED5EED5EEDULL);
}
END_TEST

/*
 * Two threads. The producer never calls Check (its longjmp is not
 * thread-safe); the consumer, on the test's thread, checks everything.
 */
enum { THREAD_COMPLETIONS = 2000000 };

struct producer_arg {
	struct wsk_cq *cq;
	_Atomic bool done;
};

/* Every fifth completion is a multishot entry, to race both paths. */
static bool
is_multishot(uint64_t seq)
{
	return seq % 5 == 0;
}

/* Busy-wait step. EAL pins the test's thread to one CPU; on a machine
 * with a single usable CPU the producer shares it, and pure spinning would
 * then only progress at scheduler ticks, so yield now and then. */
static void
spin(unsigned *spins)
{
	rte_pause();
	if (++*spins % 1024 == 0)
		sched_yield();
}

/* Run the producer on every CPU except the consumer's, so both really run
 * at once when the machine has more than one CPU. */
static int
start_producer(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	unsigned main_cpu = rte_lcore_to_cpu_id(rte_get_main_lcore());
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_attr_t attr;
	cpu_set_t cpus;
	long cpu;
	int rc;

	CPU_ZERO(&cpus);
	for (cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++)
		if ((unsigned)cpu != main_cpu)
			CPU_SET(cpu, &cpus);
	if (CPU_COUNT(&cpus) > 0 && pthread_attr_init(&attr) == 0) {
		rc = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
		if (rc == 0)
			rc = pthread_create(thread, &attr, fn, arg);
		pthread_attr_destroy(&attr);
		if (rc == 0)
			return 0;
	}
	return pthread_create(thread, NULL, fn, arg);
}

static void *
producer_main(void *p)
{
	struct producer_arg *arg = p;
	struct wsk_cq *cq = arg->cq;
	unsigned spins = 0;
	uint64_t seq;

	for (seq = 0; seq < THREAD_COMPLETIONS; seq++) {
		if (is_multishot(seq)) {
			while (!wsk_cq_post_more(cq, seq, status_of(seq),
						 information_of(seq), 0))
				spin(&spins);
			continue;
		}
		while (!wsk_cq_reserve(cq)) {
			wsk_cq_flush_overflow(cq);
			spin(&spins);
		}
		wsk_cq_post(cq, seq, status_of(seq), information_of(seq), 0);
	}
	while (wsk_cq_overflowed(cq)) {
		wsk_cq_flush_overflow(cq);
		spin(&spins);
	}
	atomic_store_explicit(&arg->done, true, memory_order_release);
	return NULL;
}

START_TEST(test_cq_two_threads_keep_order_without_loss_or_duplicates)
{
	struct producer_arg arg = { .cq = make_cq(256, 64) };
	struct wsk_completion *cqes[32];
	uint64_t received = 0, first_bad = UINT64_MAX;
	unsigned spins = 0;
	pthread_t producer;

	atomic_init(&arg.done, false);
	ck_assert_int_eq(start_producer(&producer, producer_main, &arg), 0);
	for (;;) {
		unsigned n = wsk_cq_peek_batch(arg.cq, cqes, RTE_DIM(cqes));
		unsigned i;

		if (n == 0) {
			/* Stop only once the producer has finished and the
			 * ring is still empty afterwards: a lost entry then
			 * shows as a short count, not as a hang. */
			if (atomic_load_explicit(&arg.done,
						 memory_order_acquire) &&
			    wsk_cq_ready(arg.cq) == 0)
				break;
			spin(&spins);
			continue;
		}
		/* On a bad entry keep reaping (so the producer can finish
		 * and be joined) and report the first one at the end. */
		for (i = 0; i < n; i++, received++) {
			const struct wsk_completion *c = cqes[i];
			uint32_t flags = is_multishot(received) ?
					 WSK_CQE_F_MORE : 0;

			if (first_bad == UINT64_MAX &&
			    (c->user_data != received ||
			     c->status != status_of(received) ||
			     c->information != information_of(received) ||
			     c->flags != flags))
				first_bad = received;
		}
		wsk_cq_advance(arg.cq, n);
	}
	ck_assert_int_eq(pthread_join(producer, NULL), 0);
	ck_assert_msg(first_bad == UINT64_MAX,
		      "completion %" PRIu64 " is wrong", first_bad);
	ck_assert_uint_eq(received, THREAD_COMPLETIONS);
	ck_assert(!wsk_cq_overflowed(arg.cq));
	wsk_cq_free(arg.cq);
}
END_TEST

static Suite *
wsk_cq_suite(void)
{
	Suite *s = suite_create("wsk_cq");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		test_cq_completions_come_out_in_post_order_over_many_laps);
	tcase_add_test(tc,
		test_cq_keeps_order_when_head_and_tail_wrap_past_2_pow_32);
	tcase_add_test(tc, test_cq_reserve_refused_exactly_at_capacity);
	tcase_add_test(tc, test_cq_reserve_recovers_after_reaping);
	tcase_add_test(tc,
		test_cq_overflow_then_flush_preserves_order_and_loses_nothing);
	tcase_add_test(tc,
		test_cq_post_while_overflowed_goes_behind_overflowed_entries);
	tcase_add_test(tc, test_cq_post_more_refused_when_ring_full);
	tcase_add_test(tc, test_cq_post_more_leaves_room_for_reservations);
	tcase_add_test(tc,
		test_cq_post_more_never_overtakes_overflowed_entries);
	tcase_add_test(tc, test_cq_peek_on_empty_ring_returns_eagain);
	tcase_add_test(tc, test_cq_peek_batch_returns_oldest_first_up_to_max);
	tcase_add_test(tc,
		test_cq_for_each_visits_ready_entries_and_advance_consumes_them);
	tcase_add_test(tc, test_cq_create_rejects_bad_sizes);
	tcase_add_test(tc, test_cq_create_rounds_entries_up_to_power_of_two);
	tcase_add_test(tc, test_cq_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cq_random_operations_match_reference_model);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		test_cq_two_threads_keep_order_without_loss_or_duplicates);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	test_eal_init();
	return test_run_suite(wsk_cq_suite()) == 0 ? EXIT_SUCCESS
						   : EXIT_FAILURE;
}
