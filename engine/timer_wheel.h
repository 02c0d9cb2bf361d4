/*
 * Per-shard hashed timer wheel (Varghese & Lauck, scheme 6).
 *
 * A shard keeps retransmit, delayed-ACK, persist, keepalive, TIME_WAIT and
 * connect timers for up to millions of connections, so nothing may scan all
 * connections per tick. Time is cut into ticks of tick_us microseconds and
 * an entry expiring in tick T waits in slot T mod nslots. Entries further
 * away than one revolution (nslots ticks) share a slot with nearer ones and
 * are skipped, by comparing their absolute expiry, until their round comes.
 *
 * Entries are intrusive: callers embed a struct timer_entry in the object
 * that owns the timer (a connection embeds one per timer kind) and find the
 * object again with container_of. Lists are doubly linked, so arm, re-arm
 * and cancel are O(1) and never allocate. 'kind' is free for the caller,
 * typically an index into a designated-initializer table of handlers; the
 * wheel never reads it.
 *
 * The wheel keeps a position, the tick it is currently firing. Every entry
 * still waiting in a slot expires at or after that tick; an entry armed
 * with an expiry that is already due and in that tick or an earlier one
 * waits on a short "due" list that fires first on the next advance.
 *
 * Precision: an entry never fires before its expiry. It fires in the first
 * call of timer_wheel_advance() whose now_us is at or after its expiry,
 * unless that call's max_fires runs out first (it then fires in a later
 * call, ahead of every entry that expires in a later tick) or it was armed
 * by a callback during that call (see timer_wheel_advance()). So when
 * advance is called at least once per tick and the cap is not reached, an
 * entry fires no later than one tick after its expiry.
 *
 * Order: of two entries armed at the same moment, the one in the earlier
 * expiry tick fires first; within one tick the order is unspecified. An
 * entry that went to the due list counts as expiring at the position it was
 * armed at: due-list entries fire in the order they were armed, ahead of
 * everything still waiting in a slot.
 *
 * Cost: arm and cancel are O(1). An advance visits at most nslots slots,
 * however much time passed: across a gap of a revolution or more it sweeps
 * every slot once, takes out the k entries that are due and sorts them by
 * expiry (O(armed entries + k log k), no allocation), so a virtual clock
 * may jump hours at once. Advancing an empty wheel visits no slot at all.
 *
 * One wheel belongs to one shard: nothing here is thread-safe.
 */
#ifndef WSKDP_TIMER_WHEEL_H
#define WSKDP_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_reciprocal.h>

/* Links of a circular doubly linked list; a list head is a link whose
 * neighbours point back at itself when the list is empty. */
struct timer_link {
	struct timer_link *prev;
	struct timer_link *next;
};

/* A timer, embedded in the object it belongs to. Treat the fields as
 * read-only outside the wheel: use the functions below. */
struct timer_entry {
	struct timer_link link;	/* in a slot or the due list while armed */
	uint64_t expire_us;	/* absolute expiry of the last arm */
	uint16_t kind;		/* caller's handler selector, never interpreted */
	bool armed;
};

struct timer_wheel {
	struct timer_link *slots;	/* nslots slot heads, then the due list head */
	uint32_t nslots;
	uint32_t slot_mask;		/* nslots - 1 */
	uint64_t tick_us;
	/* tick_us as a multiply and shift: every arm and every poll turns
	 * microseconds into ticks, and a 64-bit divide costs tens of cycles. */
	struct rte_reciprocal_u64 tick_div;
	uint64_t now_us;		/* latest time given to init or advance */
	uint64_t position_tick;		/* tick being fired; no slot holds an earlier one */
	uint64_t count;			/* armed entries */
	uint64_t slot_visits;		/* debug: slots examined by advance, ever */
	/* No entry of the position's slot expires before this (0: not
	 * known). Polls come far more often than ticks: within one tick,
	 * advance walks that slot again only once something in it is due. */
	uint64_t pos_min_us;
};

/*
 * Prepare an entry that is not armed.
 *   e:    the entry.
 *   kind: caller's handler selector, returned untouched in e->kind.
 * Must be called once before the entry is first armed, and again only when
 * the entry is known not to be armed on any wheel.
 */
static inline void
timer_entry_init(struct timer_entry *e, uint16_t kind)
{
	e->link.prev = NULL;
	e->link.next = NULL;
	e->expire_us = 0;
	e->kind = kind;
	e->armed = false;
}

/* True while the entry waits on a wheel; false before its callback runs. */
static inline bool
timer_entry_armed(const struct timer_entry *e)
{
	return e->armed;
}

/* Absolute expiry given to the entry's last timer_wheel_arm(). */
static inline uint64_t
timer_entry_expiry(const struct timer_entry *e)
{
	return e->expire_us;
}

/*
 * Set up an empty wheel.
 *   w:       the wheel.
 *   nslots:  number of slots, a power of two; one revolution is
 *            nslots * tick_us. Timers further away cost a slot skip per
 *            revolution, nothing more.
 *   tick_us: length of one tick in microseconds, > 0; the wheel's
 *            resolution.
 *   now_us:  the current time; the wheel starts there.
 * Allocates the slot array (not for the fast path).
 * Returns 0 on success, -EINVAL if nslots is not a power of two or tick_us
 * is 0, -ENOMEM if the slot array cannot be allocated.
 */
int timer_wheel_init(struct timer_wheel *w, uint32_t nslots, uint64_t tick_us,
		     uint64_t now_us);

/*
 * Release the slot array. Entries still armed are abandoned, not fired:
 * their owners must timer_entry_init() them before arming them again.
 * Safe on a wheel whose init failed or that was already freed.
 */
void timer_wheel_free(struct timer_wheel *w);

/*
 * Arm an entry to fire at an absolute time. O(1), no allocation.
 *   w:         the wheel.
 *   e:         an initialised entry; if already armed it is moved.
 *   expire_us: absolute expiry in microseconds. An expiry at or before the
 *              wheel's current time fires on the next advance.
 */
void timer_wheel_arm(struct timer_wheel *w, struct timer_entry *e,
		     uint64_t expire_us);

/*
 * Disarm an entry. O(1); does nothing if the entry is not armed.
 *   w: the wheel the entry was armed on.
 *   e: the entry.
 */
void timer_wheel_cancel(struct timer_wheel *w, struct timer_entry *e);

/*
 * Move the wheel's time forward and fire what is due.
 *   w:         the wheel.
 *   now_us:    the current time. A time older than the wheel's current
 *              time makes the call a no-op (time never goes backwards).
 *   max_fires: most callbacks to run in this call, so one loop pass cannot
 *              stall the shard. Due entries beyond the cap stay armed and
 *              fire on the next call, in order, before anything later.
 *   fire:      called once per due entry, with the entry already disarmed.
 *              It may re-arm that entry and arm or cancel any other entry of
 *              the wheel, including ones due in this same call. An entry it
 *              arms with an expiry already due fires later in this call if
 *              that expiry's tick lies after the wheel's position (the tick
 *              being walked; a jump of a revolution or more moves the
 *              position to now before anything fires), otherwise on the
 *              next call. So a timer re-armed for "now" fires at most twice
 *              per call and cannot spin.
 *              It must not call timer_wheel_advance() or timer_wheel_free().
 *   arg:       passed through to fire.
 * Entries whose expiry <= now_us fire in expiry-tick order (see the file
 * comment for entries armed in the past).
 * Returns the number of callbacks run, at most max_fires.
 */
unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now_us,
			     unsigned max_fires,
			     void (*fire)(struct timer_entry *e, void *arg),
			     void *arg);

/* Number of armed entries, including due ones not fired yet. */
static inline uint64_t
timer_wheel_count(const struct timer_wheel *w)
{
	return w->count;
}

#endif
