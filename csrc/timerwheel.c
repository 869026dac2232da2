/* Hierarchical timer wheel: see timerwheel.h for the contract.
 *
 * Layout. One array of nodes: the capacity timers first, then one list head
 * per slot (4 levels x 256), then the head of the "due" list (expired timers
 * not yet handed out) and of the "far" list (deadlines beyond the top level). Lists are circular and doubly linked by uint32 index;
 * an idle timer is linked to itself, so unlinking needs no knowledge of the
 * list, and a head whose neighbours meet after an unlink is empty.
 *
 * Time. w->t is the next tick to process: every tick before it is done, and
 * every cascade at a level boundary <= w->t is done too (cascades happen as
 * soon as the clock reaches a boundary). A timer expiring at tick e is placed
 * relative to t as in the classic wheel:
 *   e < t                 the due list
 *   e - t < 2^8           level 0, slot e & 255 (so a level-0 slot holds one tick)
 *   e - t < 2^16          level 1, slot (e >> 8) & 255
 *   e - t < 2^24          level 2, slot (e >> 16) & 255
 *   e - t < 2^32          level 3, slot (e >> 24) & 255
 *   otherwise             the far list
 * A level-k slot is cascaded at the first multiple of 256^k that starts its
 * range; its timers then fall to lower levels, so each reaches level 0 before
 * its tick and fires exactly in it. Far timers move to level 3 at the first
 * boundary from which the earliest of them is within 2^32 - 1 ticks (the list
 * is walked then; it is empty unless deadlines lie days ahead).
 */
#include "timerwheel.h"

#include <stdlib.h>

#define LVL_BITS 8
#define LVL_SIZE 256u
#define LVL_MASK 255u
#define NLEVELS 4
#define NSLOTS (NLEVELS * LVL_SIZE)
#define BM_WORDS (LVL_SIZE / 64)
#define MAX_CAPACITY (1u << 28)
#define TOP_SPAN 0xffffffffull /* the farthest tick offset the top level takes */
#define NO_TICK UINT64_MAX
#define CHAIN_END UINT32_MAX    /* ends a slot list detached for redistribution */

struct fk_node {
    uint32_t next, prev;
    int64_t expires;  /* tick */
    int64_t deadline; /* ns; FK_WHEEL_NONE when never armed */
    int64_t period;   /* ns; 0 for a one-shot */
};

struct fk_wheel {
    struct fk_node *n; /* cap timers, NSLOTS slot heads, the due head, the far head */
    uint32_t cap;
    uint32_t count; /* armed timers */
    uint32_t due;   /* index of the due list head */
    uint32_t far;   /* index of the far list head */
    uint64_t far_move; /* a tick from which a far timer fits in the wheel (may be early), or NO_TICK */
    int64_t start_ns;
    int64_t tick_ns;
    uint64_t t; /* next tick to process */
    int64_t next_ns; /* fk_wheel_next_expiry's last answer, or NEXT_STALE once a timer was armed, cancelled or expired */
    uint64_t bm[NLEVELS][BM_WORDS];
};

/* The loop asks for the next expiry on every wakeup, and the answer may walk a slot's
 * whole list (a thousand masters' advert timers share one): it is kept until the set
 * of armed timers changes. */
#define NEXT_STALE INT64_MIN

/* ---- bitmaps ---------------------------------------------------------------- */

static inline unsigned ctz64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned c = 0;
    while (!(x & 1)) {
        x >>= 1;
        c++;
    }
    return c;
#endif
}

/* The first set bit >= from (< 256) in a 256-bit map, or -1. */
static inline int bm_next(const uint64_t *bm, unsigned from)
{
    unsigned wi = from >> 6;
    uint64_t x = bm[wi] & (~0ull << (from & 63));
    for (;;) {
        if (x)
            return (int)(wi * 64 + ctz64(x));
        if (++wi == BM_WORDS)
            return -1;
        x = bm[wi];
    }
}

static inline int bm_empty(const uint64_t *bm)
{
    return !(bm[0] | bm[1] | bm[2] | bm[3]);
}

static inline int bm_test(const uint64_t *bm, unsigned i)
{
    return (int)((bm[i >> 6] >> (i & 63)) & 1);
}

static inline void bm_set(uint64_t *bm, unsigned i)
{
    bm[i >> 6] |= 1ull << (i & 63);
}

static inline void bm_clear(uint64_t *bm, unsigned i)
{
    bm[i >> 6] &= ~(1ull << (i & 63));
}

/* ---- lists ------------------------------------------------------------------- */

static inline uint32_t head_of(const struct fk_wheel *w, unsigned lvl, unsigned slot)
{
    return w->cap + lvl * LVL_SIZE + slot;
}

static inline void link_tail(struct fk_node *n, uint32_t head, uint32_t id)
{
    uint32_t last = n[head].prev;
    n[id].prev = last;
    n[id].next = head;
    n[last].next = id;
    n[head].prev = id;
}

static inline void unlink_node(struct fk_wheel *w, uint32_t id)
{
    struct fk_node *n = w->n;
    uint32_t nx = n[id].next, pv = n[id].prev;
    n[pv].next = nx;
    n[nx].prev = pv;
    n[id].next = n[id].prev = id;
    if (nx == pv && nx >= w->cap) { /* a list became empty */
        uint32_t s = nx - w->cap;
        if (s < NSLOTS)
            bm_clear(w->bm[s >> LVL_BITS], s & LVL_MASK);
        else if (nx == w->far)
            w->far_move = NO_TICK;
    }
}

/* Put an armed, unlinked timer where its expiry tick belongs relative to w->t. */
static void place(struct fk_wheel *w, uint32_t id)
{
    struct fk_node *n = w->n;
    int64_t e = n[id].expires;
    uint64_t t = w->t, ue, d;
    unsigned lvl, slot;

    if (e < 0 || (uint64_t)e < t) {
        link_tail(n, w->due, id);
        return;
    }
    ue = (uint64_t)e;
    d = ue - t;
    if (d < (1ull << 8)) {
        lvl = 0;
        slot = (unsigned)(ue & LVL_MASK);
    } else if (d < (1ull << 16)) {
        lvl = 1;
        slot = (unsigned)((ue >> 8) & LVL_MASK);
    } else if (d < (1ull << 24)) {
        lvl = 2;
        slot = (unsigned)((ue >> 16) & LVL_MASK);
    } else if (d <= TOP_SPAN) {
        lvl = 3;
        slot = (unsigned)((ue >> 24) & LVL_MASK);
    } else {
        link_tail(n, w->far, id);
        if (ue - TOP_SPAN < w->far_move)
            w->far_move = ue - TOP_SPAN;
        return;
    }
    link_tail(n, head_of(w, lvl, slot), id);
    bm_set(w->bm[lvl], slot);
}

/* Move every timer of a level-k slot to where it belongs now. */
static void redistribute(struct fk_wheel *w, unsigned lvl, unsigned slot)
{
    struct fk_node *n = w->n;
    uint32_t head = head_of(w, lvl, slot);
    uint32_t id = n[head].next;

    n[n[head].prev].next = CHAIN_END;
    n[head].next = n[head].prev = head;
    bm_clear(w->bm[lvl], slot);
    while (id != CHAIN_END) {
        uint32_t nx = n[id].next;
        place(w, id);
        id = nx;
    }
}

/* Move the far timers now within reach of the top level into the wheel. */
static void move_far(struct fk_wheel *w)
{
    struct fk_node *n = w->n;
    uint32_t id = n[w->far].next;
    uint64_t t = w->t, next = NO_TICK;

    while (id != w->far) {
        uint32_t nx = n[id].next;
        uint64_t ue = (uint64_t)n[id].expires; /* far timers expire after t >= 0 */
        if (ue - t <= TOP_SPAN) {
            unlink_node(w, id);
            place(w, id);
        } else if (ue - TOP_SPAN < next) {
            next = ue - TOP_SPAN;
        }
        id = nx;
    }
    w->far_move = n[w->far].next == w->far ? NO_TICK : next;
}

/* The clock reached boundary t (a multiple of 256): cascade the slots that
 * start here, level 1 first, higher levels while their index wraps to 0. */
static void cascade(struct fk_wheel *w, uint64_t t)
{
    unsigned k;
    for (k = 1; k < NLEVELS; k++) {
        unsigned idx = (unsigned)((t >> (LVL_BITS * k)) & LVL_MASK);
        if (bm_test(w->bm[k], idx))
            redistribute(w, k, idx);
        if (idx)
            break;
    }
    if (t >= w->far_move)
        move_far(w);
}

static int cascade_has_work(const struct fk_wheel *w, uint64_t b)
{
    unsigned k;
    if (b >= w->far_move)
        return 1;
    for (k = 1; k < NLEVELS; k++) {
        unsigned idx = (unsigned)((b >> (LVL_BITS * k)) & LVL_MASK);
        if (bm_test(w->bm[k], idx))
            return 1;
        if (idx)
            break;
    }
    return 0;
}

/* With level 0 empty: the first boundary >= b (a multiple of 256) whose
 * cascade moves something, or any value > limit if there is none up to limit. */
static uint64_t next_work(const struct fk_wheel *w, uint64_t b, uint64_t limit)
{
    /* the boundary at or after far_move (which is <= 2^63 when set) */
    uint64_t far_b = w->far_move == NO_TICK ? NO_TICK : ((w->far_move + LVL_MASK) & ~(uint64_t)LVL_MASK);

    for (;; b = b < far_b ? b : far_b) {
        unsigned k, idx, shift;
        uint64_t unit;
        int s;

        if (b > limit || cascade_has_work(w, b))
            return b;
        for (k = 1; k < NLEVELS && bm_empty(w->bm[k]); k++)
            ;
        if (k == NLEVELS)
            return far_b == NO_TICK ? limit + 1 : far_b;
        /* levels below k are empty: only multiples of 256^k can matter */
        shift = LVL_BITS * k;
        unit = 1ull << shift;
        if (b & (unit - 1)) {
            b = (b | (unit - 1)) + 1;
            continue;
        }
        idx = (unsigned)((b >> shift) & LVL_MASK);
        s = idx < LVL_MASK ? bm_next(w->bm[k], idx + 1) : -1;
        if (s >= 0)
            b = (b & ~((unit << LVL_BITS) - 1)) + ((uint64_t)s << shift);
        else
            b = (b | ((unit << LVL_BITS) - 1)) + 1; /* this level wraps: a higher boundary */
    }
}

static void splice_to_due(struct fk_wheel *w, unsigned slot)
{
    struct fk_node *n = w->n;
    uint32_t head = head_of(w, 0, slot);
    uint32_t first = n[head].next, last = n[head].prev, dlast = n[w->due].prev;

    n[dlast].next = first;
    n[first].prev = dlast;
    n[last].next = w->due;
    n[w->due].prev = last;
    n[head].next = n[head].prev = head;
    bm_clear(w->bm[0], slot);
}

/* Process ticks w->t .. target: their level-0 slots go to the due list. */
static void run_until(struct fk_wheel *w, uint64_t target)
{
    uint64_t t = w->t, limit = target + 1;

    while (t < limit) {
        uint64_t base = t & ~(uint64_t)LVL_MASK, b;
        int j = bm_next(w->bm[0], (unsigned)(t & LVL_MASK));

        if (j >= 0) {
            uint64_t tj = base + (unsigned)j;
            if (tj > target) {
                t = limit;
                break;
            }
            splice_to_due(w, (unsigned)j);
            t = tj + 1;
            if ((t & LVL_MASK) == 0) {
                w->t = t;
                cascade(w, t);
            }
            continue;
        }
        b = base + LVL_SIZE;
        if (b > limit) {
            t = limit;
            break;
        }
        if (bm_empty(w->bm[0])) {
            b = next_work(w, b, limit);
            if (b > limit) {
                t = limit;
                break;
            }
        }
        t = b;
        w->t = t;
        cascade(w, t);
    }
    w->t = t;
}

/* ---- time ---------------------------------------------------------------------- */

/* ceil((d - start) / tick) for d >= 0, start >= 0. */
static inline int64_t tick_of(const struct fk_wheel *w, int64_t d)
{
    int64_t diff = d - w->start_ns;
    if (diff <= 0)
        return -((-diff) / w->tick_ns);
    return (diff - 1) / w->tick_ns + 1;
}

static int64_t tick_start_ns(const struct fk_wheel *w, int64_t e)
{
    if (e > 0 && e > (INT64_MAX - w->start_ns) / w->tick_ns)
        return INT64_MAX;
    return w->start_ns + e * w->tick_ns;
}

/* ---- API ------------------------------------------------------------------------- */

struct fk_wheel *fk_wheel_new(uint32_t capacity, int64_t start_ns, int64_t tick_ns)
{
    struct fk_wheel *w;
    uint32_t i, total;

    if (capacity < 1 || capacity > MAX_CAPACITY || start_ns < 0 || tick_ns < 1)
        return NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    total = capacity + NSLOTS + 2;
    w->n = malloc((size_t)total * sizeof(*w->n));
    if (!w->n) {
        free(w);
        return NULL;
    }
    for (i = 0; i < total; i++) {
        w->n[i].next = w->n[i].prev = i;
        w->n[i].expires = 0;
        w->n[i].deadline = FK_WHEEL_NONE;
        w->n[i].period = 0;
    }
    w->cap = capacity;
    w->due = capacity + NSLOTS;
    w->far = capacity + NSLOTS + 1;
    w->far_move = NO_TICK;
    w->start_ns = start_ns;
    w->tick_ns = tick_ns;
    w->next_ns = NEXT_STALE;
    return w;
}

void fk_wheel_free(struct fk_wheel *w)
{
    if (w) {
        free(w->n);
        free(w);
    }
}

uint32_t fk_wheel_capacity(const struct fk_wheel *w) { return w->cap; }
int64_t fk_wheel_start_ns(const struct fk_wheel *w) { return w->start_ns; }
int64_t fk_wheel_tick_ns(const struct fk_wheel *w) { return w->tick_ns; }
uint32_t fk_wheel_count(const struct fk_wheel *w) { return w->count; }

static void arm_at(struct fk_wheel *w, uint32_t id, int64_t deadline_ns, int64_t period)
{
    struct fk_node *x = &w->n[id];
    if (x->next != id)
        unlink_node(w, id);
    else
        w->count++;
    x->deadline = deadline_ns;
    x->period = period;
    x->expires = tick_of(w, deadline_ns);
    place(w, id);
    w->next_ns = NEXT_STALE;
}

int fk_wheel_arm(struct fk_wheel *w, uint32_t id, int64_t deadline_ns)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    if (deadline_ns < 0)
        return FK_WHEEL_EINVAL;
    arm_at(w, id, deadline_ns, 0);
    return 0;
}

int fk_wheel_arm_periodic(struct fk_wheel *w, uint32_t id, int64_t first_deadline_ns, int64_t interval_ns)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    if (first_deadline_ns < 0 || interval_ns <= 0)
        return FK_WHEEL_EINVAL;
    arm_at(w, id, first_deadline_ns, interval_ns);
    return 0;
}

int fk_wheel_rearm(struct fk_wheel *w, uint32_t id, int64_t interval_ns)
{
    int64_t d;
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    d = w->n[id].deadline;
    if (d < 0 || interval_ns <= 0)
        return FK_WHEEL_EINVAL;
    if (d > INT64_MAX - interval_ns)
        return FK_WHEEL_ERANGE;
    arm_at(w, id, d + interval_ns, 0);
    return 0;
}

int fk_wheel_cancel(struct fk_wheel *w, uint32_t id)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    if (w->n[id].next == id)
        return 0;
    unlink_node(w, id);
    w->count--;
    w->next_ns = NEXT_STALE;
    return 1;
}

int fk_wheel_is_armed(const struct fk_wheel *w, uint32_t id)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    return w->n[id].next != id;
}

int64_t fk_wheel_deadline(const struct fk_wheel *w, uint32_t id)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    return w->n[id].deadline;
}

int64_t fk_wheel_period(const struct fk_wheel *w, uint32_t id)
{
    if (id >= w->cap)
        return FK_WHEEL_EBADID;
    return w->n[id].period;
}

int fk_wheel_carry(struct fk_wheel *w, const struct fk_wheel *from, const int32_t *map, uint32_t n, uint32_t per,
                   int64_t not_before_ns)
{
    int armed = 0;
    if ((uint64_t)n * per > w->cap)
        return FK_WHEEL_EBADID;
    for (uint32_t j = 0; j < n; j++) {
        if (map[j] < 0)
            continue;
        if ((uint64_t)(uint32_t)map[j] * per + per > from->cap)
            return FK_WHEEL_EBADID;
        for (uint32_t k = 0; k < per; k++) {
            const struct fk_node *x = &from->n[(uint32_t)map[j] * per + k];
            if (x->next == (uint32_t)map[j] * per + k)
                continue; /* not armed */
            arm_at(w, j * per + k, x->deadline > not_before_ns ? x->deadline : not_before_ns, x->period);
            armed++;
        }
    }
    return armed;
}

/* A periodic timer was handed out: arm its next deadline in a tick not yet
 * processed (deadline + m * period, the smallest m >= 1 that gets there). */
static void rearm_periodic(struct fk_wheel *w, uint32_t id)
{
    struct fk_node *x = &w->n[id];
    int64_t d = x->deadline, p = x->period, nd, e;

    if (d > INT64_MAX - p)
        goto idle;
    nd = d + p;
    e = tick_of(w, nd);
    if (e < 0 || (uint64_t)e < w->t) {
        /* behind: the last processed tick starts at last; the next deadline must be after it */
        int64_t last = w->t ? (int64_t)((uint64_t)w->start_ns + (w->t - 1) * (uint64_t)w->tick_ns)
                            : w->start_ns - w->tick_ns;
        uint64_t m = (uint64_t)((last - d) / p) + 1;
        uint64_t step = m * (uint64_t)p; /* <= (last - d) + p < 2^64 */
        if (step > (uint64_t)(INT64_MAX - d))
            goto idle;
        nd = d + (int64_t)step;
    }
    x->deadline = nd;
    x->expires = tick_of(w, nd);
    place(w, id);
    return;
idle:
    w->count--; /* already unlinked */
}

int fk_wheel_advance(struct fk_wheel *w, int64_t now_ns, uint32_t *out, uint32_t max)
{
    struct fk_node *n = w->n;
    uint32_t c = 0;

    if (!out && max)
        return FK_WHEEL_EINVAL;
    if (max > (uint32_t)INT32_MAX)
        max = (uint32_t)INT32_MAX;
    if (now_ns >= w->start_ns) {
        uint64_t target = (uint64_t)((now_ns - w->start_ns) / w->tick_ns);
        if (target >= w->t)
            run_until(w, target);
    }
    while (c < max) {
        uint32_t id = n[w->due].next;
        if (id == w->due)
            break;
        unlink_node(w, id);
        out[c++] = id;
        if (n[id].period > 0)
            rearm_periodic(w, id);
        else
            w->count--;
    }
    if (c)
        w->next_ns = NEXT_STALE;
    return (int)c;
}

/* The smallest expiry tick in a list. */
static int64_t list_min(const struct fk_wheel *w, uint32_t head, int64_t best)
{
    const struct fk_node *n = w->n;
    uint32_t id;
    for (id = n[head].next; id != head; id = n[id].next)
        if (n[id].expires < best)
            best = n[id].expires;
    return best;
}

static int64_t next_expiry(const struct fk_wheel *w);

int64_t fk_wheel_next_expiry(struct fk_wheel *w)
{
    if (w->next_ns == NEXT_STALE)
        w->next_ns = next_expiry(w);
    return w->next_ns;
}

static int64_t next_expiry(const struct fk_wheel *w)
{
    uint64_t t = w->t, base = t & ~(uint64_t)LVL_MASK;
    int64_t best = INT64_MAX;
    unsigned k;
    int j;

    if (w->count == 0)
        return FK_WHEEL_NONE;
    best = list_min(w, w->due, best);
    /* level 0: this rotation first, then the slots before t (the next rotation) */
    j = bm_next(w->bm[0], (unsigned)(t & LVL_MASK));
    if (j >= 0) {
        if ((int64_t)(base + (unsigned)j) < best)
            best = (int64_t)(base + (unsigned)j);
    } else {
        j = bm_next(w->bm[0], 0);
        if (j >= 0 && (int64_t)(base + LVL_SIZE + (unsigned)j) < best)
            best = (int64_t)(base + LVL_SIZE + (unsigned)j);
    }
    for (k = 1; k < NLEVELS; k++) {
        unsigned shift = LVL_BITS * k, idx;
        /* every timer of level k expires at or after the next level-k boundary */
        uint64_t lower = ((t >> shift) + 1) << shift;
        int s;
        if (best < 0 || (uint64_t)best <= lower)
            break;
        /* the slot after the current index comes first; the current one (refilled
         * a whole rotation ahead) comes last */
        idx = (unsigned)((t >> shift) & LVL_MASK);
        s = idx < LVL_MASK ? bm_next(w->bm[k], idx + 1) : -1;
        if (s < 0)
            s = bm_next(w->bm[k], 0);
        if (s >= 0)
            best = list_min(w, head_of(w, k, (unsigned)s), best);
    }
    if (best == INT64_MAX) /* only far timers */
        best = list_min(w, w->far, best);
    return tick_start_ns(w, best);
}
