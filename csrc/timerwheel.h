/* Hierarchical timer wheel for the VRRP loop: every instance's advert and
 * Master_Down timer in one structure, O(1) arm and cancel, expiry in batches.
 *
 * Timers are preallocated and named by an id in 0..capacity-1. Deadlines are
 * absolute monotonic times in nanoseconds (int64, >= 0). The wheel counts
 * ticks of tick_ns from start_ns; a deadline d belongs to tick
 * ceil((d - start_ns) / tick_ns), and a timer is returned by the first
 * fk_wheel_advance() whose now_ns reaches the start of that tick: never before
 * its deadline, less than one tick after it. A deadline already passed when it
 * is armed is returned by the next advance.
 *
 * Four levels of 256 slots (8 bits of tick each) as the classic cascading
 * wheel: level 0 holds the next 256 ticks exactly; a timer on a higher level
 * is cascaded down at the level boundary that starts its range, so it still
 * fires in its own tick. Deadlines beyond 2^32 ticks wait on a side list and
 * join the top level once within its reach. Occupancy bitmaps let
 * advance() skip empty stretches; next_expiry() looks at one slot per level.
 *
 * Plain C99, no Python headers: bound by Cython (src/fastka/_native) and by
 * cffi (tests/native), so this header holds only plain declarations.
 */
#ifndef FASTKA_TIMERWHEEL_H
#define FASTKA_TIMERWHEEL_H

#include <stdint.h>

/* Return values: >= 0 is success (a count, a boolean, a time); these are the
 * failures. FK_WHEEL_NONE is "no value": a timer never armed, an empty wheel. */
enum fk_wheel_status {
    FK_WHEEL_NONE = -1,
    FK_WHEEL_EBADID = -2,   /* id >= capacity */
    FK_WHEEL_EINVAL = -3,   /* negative deadline, interval <= 0, rearm of a never-armed timer */
    FK_WHEEL_ERANGE = -4    /* deadline + interval beyond INT64_MAX */
};

struct fk_wheel;

/* A wheel of capacity timers (1 .. 2^28), all idle, whose tick 0 starts at
 * start_ns (>= 0), ticking every tick_ns (>= 1). NULL on bad arguments or
 * when memory runs out. */
struct fk_wheel *fk_wheel_new(uint32_t capacity, int64_t start_ns, int64_t tick_ns);
void fk_wheel_free(struct fk_wheel *w);

uint32_t fk_wheel_capacity(const struct fk_wheel *w);
int64_t fk_wheel_start_ns(const struct fk_wheel *w);
int64_t fk_wheel_tick_ns(const struct fk_wheel *w);
/* Armed timers (including expired ones not yet returned by advance). */
uint32_t fk_wheel_count(const struct fk_wheel *w);

/* Arm timer id as a one-shot at deadline_ns; an armed timer is re-armed.
 * 0, FK_WHEEL_EBADID or FK_WHEEL_EINVAL. */
int fk_wheel_arm(struct fk_wheel *w, uint32_t id, int64_t deadline_ns);

/* Arm timer id at first_deadline_ns, then every interval_ns: when advance()
 * returns it, it is re-armed at its deadline plus interval_ns (plus as many
 * more intervals as needed to reach a tick not yet processed, so a stalled
 * loop gets one expiry, not a burst, and the phase never drifts). A next
 * deadline beyond INT64_MAX leaves the timer idle. */
int fk_wheel_arm_periodic(struct fk_wheel *w, uint32_t id, int64_t first_deadline_ns, int64_t interval_ns);

/* Arm timer id as a one-shot at its last deadline plus interval_ns (not now
 * plus interval_ns: periodic re-arming from the expired deadline never
 * drifts). 0, FK_WHEEL_EBADID, FK_WHEEL_EINVAL (never armed, interval <= 0)
 * or FK_WHEEL_ERANGE (overflow). */
int fk_wheel_rearm(struct fk_wheel *w, uint32_t id, int64_t interval_ns);

/* Disarm timer id: 1 if it was armed, 0 if it was idle, or FK_WHEEL_EBADID. */
int fk_wheel_cancel(struct fk_wheel *w, uint32_t id);

/* 1 if armed, 0 if idle, or FK_WHEEL_EBADID. */
int fk_wheel_is_armed(const struct fk_wheel *w, uint32_t id);

/* The last deadline timer id was armed at (kept after expiry and cancel), or
 * FK_WHEEL_NONE if it was never armed, or FK_WHEEL_EBADID. */
int64_t fk_wheel_deadline(const struct fk_wheel *w, uint32_t id);

/* The interval of a periodic timer, 0 for a one-shot, or FK_WHEEL_EBADID. */
int64_t fk_wheel_period(const struct fk_wheel *w, uint32_t id);

/* Process every tick that starts at or before now_ns, then write up to max
 * expired ids into out and return how many (or FK_WHEEL_EINVAL if out is NULL
 * and max > 0). Returned one-shot timers become idle, periodic ones are
 * re-armed. Expired timers that did not fit stay pending: call again (with
 * the same now_ns) while the count equals max. now_ns earlier than a previous
 * call processes nothing new. */
int fk_wheel_advance(struct fk_wheel *w, int64_t now_ns, uint32_t *out, uint32_t max);

/* Arm timers of w as copies of from's (a reload's new wheel takes the running one's):
 * for each j < n with map[j] >= 0, timers j*per .. j*per+per-1 of w take the armed
 * ones of map[j]*per .. of from, with their deadline (at least not_before_ns) and
 * period. The number armed, or FK_WHEEL_EBADID if an id is out of range (nothing
 * after it is carried). */
int fk_wheel_carry(struct fk_wheel *w, const struct fk_wheel *from, const int32_t *map, uint32_t n, uint32_t per,
                   int64_t not_before_ns);

/* The start of the tick of the earliest armed deadline: the time at which
 * advance() returns it (>= the deadline, less than one tick later; in the past
 * if it is already due), or FK_WHEEL_NONE if no timer is armed. */
int64_t fk_wheel_next_expiry(struct fk_wheel *w);

#endif
