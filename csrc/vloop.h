/* The VRRP steady-state loop: what runs without Python.
 *
 * A struct fk_vloop holds every instance's receive key (ifindex, family, VRID; ifindex
 * 0 for an instance without an interface, which takes adverts for its VRID from any
 * interface no other instance's key names), its prebuilt adverts, its authentication, and the part of its state machine that
 * decides received adverts (the "fast-path view", fastka.vrrp.state_machine's
 * FastPathView, mirrored by fk_vloop_classify). fk_vloop_poll runs the loop:
 *
 *   expire timers due within the slack (the caller's fk_wheel; instance i owns ids 3i advert, 3i+1
 *   Master_Down, 3i+2 gratuitous ARP): an advert timer of a MASTER queues its
 *   prebuilt adverts; the others become events;
 *   wait (epoll) for the VRRP sockets, the caller's other descriptors, the next timer;
 *   drain each VRRP socket with recvmmsg; check each datagram (IP / AH / VRRP
 *   codec, the instance's auth, interval, peers): a bad one is dropped and counted;
 *   a good one is classified: REARM re-arms Master_Down, IGNORE drops it, CALL
 *   becomes an event - all at the time the kernel received it (SO_TIMESTAMPNS on
 *   the sockets, else the drain's time), so a backup's Master_Down deadline is
 *   arrival + Master_Down_Interval however late the drain;
 *   send what is queued with one sendmmsg per socket;
 *
 * and returns only when there are events for Python (a CALL advert, a Master_Down or
 * GARP timer, another descriptor readable) or the caller's deadline passed.
 *
 * Times: the wheel and deadlines in nanoseconds of CLOCK_MONOTONIC; the view in
 * microseconds (the state machine's unit). Addresses are network-order bytes.
 * Plain C99 + Linux; declarations only, so cffi can cdef this header.
 */
#ifndef FASTKA_VLOOP_H
#define FASTKA_VLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "timerwheel.h"

enum fk_vloop_limits {
    FK_VLOOP_SOCKETS = 3,       /* 0: IPv4 VRRP, 1: IPv6 VRRP, 2: IPv4 AH (IP_HDRINCL) */
    FK_VLOOP_MAX_DSTS = 16,     /* adverts per instance: one per unicast peer, or the group */
    FK_VLOOP_TIMERS = 3,        /* timer ids per instance */
    FK_VLOOP_REASONS = 16       /* drop counters per instance */
};

/* States, as fastka.vrrp.state_machine.State. */
enum fk_vloop_state {
    FK_VS_INITIALIZE = 0,
    FK_VS_BACKUP = 1,
    FK_VS_MASTER = 2,
    FK_VS_FAULT = 3
};

/* What fk_vloop_classify decides, as state_machine.Verdict. */
enum fk_vloop_verdict {
    FK_V_CALL = 0,
    FK_V_REARM = 1,
    FK_V_IGNORE = 2
};

enum fk_vloop_event_kind {
    FK_EV_ADVERT = 1,           /* an advert the state machine must see */
    FK_EV_TIMER = 2,            /* a Master_Down or GARP timer expired */
    FK_EV_FD = 3                /* one of the caller's descriptors is readable */
};

/* Drop reasons counted per instance: the enum fk_vrrp_reason numbers 1..9 (ttl,
 * length, version, type, count, checksum, interval, auth, replay), then these. */
enum fk_vloop_reason {
    FK_R_PEER = 10,             /* unicast advert from an address that is not a peer */
    FK_R_LL_NOT_FIRST = 11,     /* accepted, counted: IPv6 advert without its link-local first */
    FK_R_RX = 12,               /* every datagram that reached the instance */
    FK_R_TX = 13,               /* adverts sent */
    FK_R_TX_ERROR = 14          /* adverts the kernel refused */
};

struct fk_vloop_event {
    int64_t now_ns;
    uint32_t kind;
    uint32_t instance;
    uint32_t timer_id;          /* FK_EV_TIMER */
    int32_t fd_tag;             /* FK_EV_FD */
    uint16_t advert_int_cs;     /* FK_EV_ADVERT */
    uint8_t priority;
    uint8_t family;
    uint8_t src[16];
};

/* The fast-path view of one instance (state_machine.FastPathView). */
struct fk_vloop_view {
    uint8_t state;
    uint8_t version;
    uint8_t priority;
    uint8_t preempt;
    uint16_t master_adver_int_cs;
    uint8_t address[16];        /* this router's primary address (family's size) */
    int64_t preempt_delay_us;   /* 0: no delay applies */
    int64_t preempt_until_us;   /* -1: none running */
    int64_t master_down_us;     /* Master_Down_Interval */
};

struct fk_vloop;

/* Loop-wide counters. */
struct fk_vloop_stats {
    uint64_t rx_short;          /* too short to name a VRID */
    uint64_t rx_unknown;        /* no instance has that (interface, family, VRID) */
    uint64_t polls;
    uint64_t wakeups;
    uint64_t rx_unstamped;      /* datagrams without a usable kernel receive time (SO_TIMESTAMPNS):
                                 * these count from the drain instead */
    uint64_t datagrams;         /* read from the VRRP sockets */
};

struct fk_vloop *fk_vloop_new(uint32_t instances);
void fk_vloop_free(struct fk_vloop *L);

/* The VRRP socket of slot 0..2 (-1: none); it is polled and drained by the loop. */
int fk_vloop_set_socket(struct fk_vloop *L, int slot, int fd);
/* Another descriptor to poll: its readability becomes an FK_EV_FD event with tag. */
int fk_vloop_add_fd(struct fk_vloop *L, int fd, int32_t tag);

/* Instance i: receive key and socket slot, auth (0 none, 1 PASS, 2 AH; key zero
 * padded to 8), unicast (TTL not checked, sources limited to the peers). Returns 0,
 * -1 for a bad argument or a key another instance has. */
int fk_vloop_set_instance(struct fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                          int auth_type, const uint8_t *key, int unicast, int v2_interval_cs);
/* Instance i, set already, takes new settings (a reload that changed it in place):
 * the same receive key (ifindex, family, vrid); slot, auth, key, unicast and the v2
 * interval may change. Its counters, adverts and view are kept (set those apart).
 * Returns 0, -1 for a bad argument, an unset instance or another key. */
int fk_vloop_update_instance(struct fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                             int auth_type, const uint8_t *key, int unicast, int v2_interval_cs);
/* Instance i's adverts, one per destination: msg[0..len) to dst from src out of
 * ifindex (0 for routing to decide). For AH the message is the VRRP part; the loop
 * wraps it (sequence number, ICV) at each send. n 0 clears them. */
int fk_vloop_set_advert(struct fk_vloop *L, uint32_t i, uint32_t k, const uint8_t *msg, size_t len,
                        const uint8_t *dst, const uint8_t *src, uint32_t ifindex);
int fk_vloop_set_advert_count(struct fk_vloop *L, uint32_t i, uint32_t n);
/* Patch the priority of every prebuilt advert of instance i (RFC 1624 checksum update). */
void fk_vloop_set_priority(struct fk_vloop *L, uint32_t i, uint8_t priority);
/* The fast-path view of instance i, to copy after every state machine call. */
void fk_vloop_set_view(struct fk_vloop *L, uint32_t i, const struct fk_vloop_view *v);

/* Queue instance i's adverts now (priority_override < 0: as prebuilt); sent at the
 * next flush. Returns how many were queued. */
int fk_vloop_queue_advert(struct fk_vloop *L, uint32_t i, int priority_override);
/* Send everything queued; returns how many went out. */
int fk_vloop_flush(struct fk_vloop *L);

/* The pure predicate (state_machine.classify_advert). */
int fk_vloop_classify(const struct fk_vloop_view *v, int64_t now_us, uint8_t priority, const uint8_t *src,
                      int alen, uint16_t advert_int_cs);

/* Timer slack (default 1 ms): each wakeup expires every timer due within slack_ns,
 * so adverts of many instances go out in one sendmmsg instead of one wakeup each
 * (periodic timers re-arm from their deadline: sending early never drifts). */
void fk_vloop_set_slack(struct fk_vloop *L, int64_t slack_ns);

/* Receive by period instead of by wakeup: interval_ns > 0 takes the VRRP sockets out of
 * epoll and drains them every interval_ns. Nobody sleeps on the sockets then, so the
 * kernel wakes no one per advert (measured: that wakeup, paid by whoever delivers the
 * packet, was most of the system time at 10k adverts/s); a received advert is acted
 * on at most interval_ns later. A drain that finds the sockets empty puts them back in
 * epoll until a datagram comes (which drains and resumes the period): a master, which
 * hears nothing, then wakes only for its timers instead of every interval_ns, and a
 * backup whose masters send in bursts sleeps between them. 0 (the default) wakes on
 * every datagram. */
int fk_vloop_set_rx_interval(struct fk_vloop *L, int64_t interval_ns);

/* Run until there are events or deadline_ns (CLOCK_MONOTONIC) passes; events go to
 * ev[0..max_ev). Returns the number of events (0: deadline), or -errno. */
int fk_vloop_poll(struct fk_vloop *L, struct fk_wheel *W, int64_t deadline_ns, struct fk_vloop_event *ev,
                  int max_ev);

/* Counters: instance i's array of FK_VLOOP_REASONS, the AH sequence counter, the
 * loop's. */
const uint64_t *fk_vloop_counters(const struct fk_vloop *L, uint32_t i);
uint32_t fk_vloop_ah_seq(const struct fk_vloop *L, uint32_t i);
/* Set instance i's AH sequence number (a reload carries it over to a new loop). */
void fk_vloop_set_ah_seq(struct fk_vloop *L, uint32_t i, uint32_t seq);
/* A reload's new loop takes the running one's state: for each j < n with map[j] >= 0,
 * instance j takes instance map[j] of from's view, counters, AH sequence and IP id
 * (its settings, key and adverts are its own, set for the new configuration); a
 * socket slot on the same descriptor keeps its last drain time. Call it after
 * set_socket. 0, or -EINVAL if an index is out of range. */
int fk_vloop_carry(struct fk_vloop *L, const struct fk_vloop *from, const int32_t *map, uint32_t n);

const struct fk_vloop_stats *fk_vloop_get_stats(const struct fk_vloop *L);

/* CLOCK_MONOTONIC in nanoseconds (the loop's clock). */
int64_t fk_vloop_now_ns(void);

#endif
