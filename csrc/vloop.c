/* The VRRP steady-state loop (see vloop.h). */
#define _GNU_SOURCE
#include "vloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ah.h"
#include "checksum.h"
#include "mmsg.h"
#include "vrrp.h"

#define RECV_BATCH 256
#define SEND_BATCH 256
#define SLOT 4096
#define TX_SLOT (FK_VRRP_MAX_LEN + FK_AH_IP4_HDR_LEN + FK_AH_LEN)  /* the largest advert, with AH */
#define TAG_SOCKET (1LL << 40)

struct dst {
    uint8_t dst[16];
    uint8_t src[16];
    uint32_t ifindex;
    uint16_t len;
    uint8_t *msg;               /* malloc'ed, len bytes */
};

struct inst {
    uint32_t ifindex;
    uint8_t family, vrid, slot, auth_type, unicast, used;
    uint16_t v2_interval_cs;
    uint8_t key[8];
    struct fk_vloop_view view;
    uint32_t ndst;
    struct dst dsts[FK_VLOOP_MAX_DSTS];
    uint32_t ah_seq;
    uint16_t ip_id;
    uint64_t counters[FK_VLOOP_REASONS];
};

struct fk_vloop {
    uint32_t n;
    struct inst *inst;
    int fd[FK_VLOOP_SOCKETS];
    int epfd;
    /* open addressing: key (ifindex, family, vrid) -> instance + 1 */
    uint32_t hcap;
    uint64_t *hkey;
    uint32_t *hval;
    struct fk_mmsg *rx;
    struct fk_mmsg *tx[FK_VLOOP_SOCKETS];
    uint32_t ntx[FK_VLOOP_SOCKETS];
    uint32_t timer_ids[1024];
    int64_t slack_ns;
    int64_t rx_interval_ns;         /* 0: sockets wake the loop; else drained on this period, until
                                     * a drain finds nothing: then they wake it again (idle()) */
    int watching;                   /* the sockets are in the epoll set */
    int64_t next_rx_ns;
    int64_t drained_ns[FK_VLOOP_SOCKETS];   /* start of the socket's last complete drain */
    struct fk_vloop_stats stats;
};

int64_t fk_vloop_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t hkey(uint32_t ifindex, int family, int vrid)
{
    return ((uint64_t)ifindex << 16) | ((uint64_t)(family & 0xff) << 8) | (uint64_t)(vrid & 0xff);
}

static uint32_t hslot(const struct fk_vloop *L, uint64_t k)
{
    uint64_t h = k * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32) & (L->hcap - 1);
}

static int hfind(const struct fk_vloop *L, uint64_t k)
{
    for (uint32_t s = hslot(L, k);; s = (s + 1) & (L->hcap - 1)) {
        if (!L->hval[s])
            return -1;
        if (L->hkey[s] == k)
            return (int)L->hval[s] - 1;
    }
}

struct fk_vloop *fk_vloop_new(uint32_t instances)
{
    struct fk_vloop *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->n = instances;
    L->watching = 1;  /* rx_interval_ns 0: the sockets wake the loop */
    L->inst = calloc(instances ? instances : 1, sizeof *L->inst);
    L->hcap = 16;
    while (L->hcap < 2 * instances + 2)
        L->hcap <<= 1;
    L->hkey = calloc(L->hcap, sizeof *L->hkey);
    L->hval = calloc(L->hcap, sizeof *L->hval);
    L->rx = fk_mmsg_new(RECV_BATCH, SLOT);
    for (int s = 0; s < FK_VLOOP_SOCKETS; s++) {
        L->fd[s] = -1;
        L->tx[s] = fk_mmsg_new(SEND_BATCH, TX_SLOT);
    }
    L->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!L->inst || !L->hkey || !L->hval || !L->rx || !L->tx[0] || !L->tx[1] || !L->tx[2] || L->epfd < 0) {
        fk_vloop_free(L);
        return NULL;
    }
    for (uint32_t i = 0; i < instances; i++)
        L->inst[i].view.preempt_until_us = -1;
    L->slack_ns = 1000000;
    return L;
}

void fk_vloop_free(struct fk_vloop *L)
{
    if (!L)
        return;
    if (L->inst)
        for (uint32_t i = 0; i < L->n; i++)
            for (uint32_t k = 0; k < FK_VLOOP_MAX_DSTS; k++)
                free(L->inst[i].dsts[k].msg);
    free(L->inst);
    free(L->hkey);
    free(L->hval);
    fk_mmsg_free(L->rx);
    for (int s = 0; s < FK_VLOOP_SOCKETS; s++)
        fk_mmsg_free(L->tx[s]);
    if (L->epfd >= 0)
        close(L->epfd);
    free(L);
}

int fk_vloop_set_socket(struct fk_vloop *L, int slot, int fd)
{
    if (slot < 0 || slot >= FK_VLOOP_SOCKETS)
        return -EINVAL;
    if (L->fd[slot] >= 0)
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, L->fd[slot], NULL);
    L->fd[slot] = fd;
    if (fd < 0 || !L->watching)
        return 0;
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)(TAG_SOCKET | (uint64_t)slot)};
    return epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* Put the VRRP sockets in the epoll set (on) or take them out. */
static int watch_sockets(struct fk_vloop *L, int on)
{
    if (L->watching == on)
        return 0;
    for (int s = 0; s < FK_VLOOP_SOCKETS; s++) {
        if (L->fd[s] < 0)
            continue;
        if (!on) {
            epoll_ctl(L->epfd, EPOLL_CTL_DEL, L->fd[s], NULL);
        } else {
            struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)(TAG_SOCKET | (uint64_t)s)};
            if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->fd[s], &e) < 0) {
                int err = errno;
                for (int t = 0; t < s; t++)  /* all out again: the period drains them */
                    if (L->fd[t] >= 0)
                        epoll_ctl(L->epfd, EPOLL_CTL_DEL, L->fd[t], NULL);
                return -err;
            }
        }
    }
    L->watching = on;
    return 0;
}

/* Receiving by period, and the last drain found nothing: the sockets wake the loop. */
static inline int idle(const struct fk_vloop *L)
{
    return L->rx_interval_ns > 0 && L->watching;
}

int fk_vloop_add_fd(struct fk_vloop *L, int fd, int32_t tag)
{
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)(uint32_t)tag};
    return epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* What an instance's settings are apart from its receive key (set_instance, update_instance). */
static void inst_settings(struct inst *in, int slot, int auth_type, const uint8_t *key, int unicast,
                          int v2_interval_cs)
{
    in->slot = (uint8_t)slot;
    in->auth_type = (uint8_t)auth_type;
    in->unicast = unicast ? 1 : 0;
    in->v2_interval_cs = (uint16_t)v2_interval_cs;
    memset(in->key, 0, 8);
    if (key)
        memcpy(in->key, key, 8);
}

int fk_vloop_set_instance(struct fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                          int auth_type, const uint8_t *key, int unicast, int v2_interval_cs)
{
    if (i >= L->n || (family != 4 && family != 6) || vrid < 1 || vrid > 255 || slot < 0
        || slot >= FK_VLOOP_SOCKETS || auth_type < 0 || auth_type > 2 || L->inst[i].used)
        return -1;
    uint64_t k = hkey(ifindex, family, vrid);
    if (hfind(L, k) >= 0)
        return -1;
    uint32_t s = hslot(L, k);
    while (L->hval[s])
        s = (s + 1) & (L->hcap - 1);
    L->hkey[s] = k;
    L->hval[s] = i + 1;
    struct inst *in = &L->inst[i];
    in->used = 1;
    in->ifindex = ifindex;
    in->family = (uint8_t)family;
    in->vrid = (uint8_t)vrid;
    inst_settings(in, slot, auth_type, key, unicast, v2_interval_cs);
    return 0;
}

int fk_vloop_update_instance(struct fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                             int auth_type, const uint8_t *key, int unicast, int v2_interval_cs)
{
    if (i >= L->n || !L->inst[i].used || slot < 0 || slot >= FK_VLOOP_SOCKETS || auth_type < 0 || auth_type > 2)
        return -1;
    struct inst *in = &L->inst[i];
    if (in->ifindex != ifindex || in->family != family || in->vrid != vrid)
        return -1;
    inst_settings(in, slot, auth_type, key, unicast, v2_interval_cs);
    return 0;
}

int fk_vloop_set_advert(struct fk_vloop *L, uint32_t i, uint32_t k, const uint8_t *msg, size_t len,
                        const uint8_t *dst, const uint8_t *src, uint32_t ifindex)
{
    if (i >= L->n || k >= FK_VLOOP_MAX_DSTS || len > FK_VRRP_MAX_LEN)
        return -1;
    struct dst *d = &L->inst[i].dsts[k];
    uint8_t *m = realloc(d->msg, len ? len : 1);
    if (!m)
        return -1;
    d->msg = m;
    memcpy(d->msg, msg, len);
    d->len = (uint16_t)len;
    memcpy(d->dst, dst, 16);
    memcpy(d->src, src, 16);
    d->ifindex = ifindex;
    return 0;
}

int fk_vloop_set_advert_count(struct fk_vloop *L, uint32_t i, uint32_t n)
{
    if (i >= L->n || n > FK_VLOOP_MAX_DSTS)
        return -1;
    L->inst[i].ndst = n;
    return 0;
}

void fk_vloop_set_priority(struct fk_vloop *L, uint32_t i, uint8_t priority)
{
    struct inst *in = &L->inst[i];
    for (uint32_t k = 0; k < in->ndst; k++)
        fk_vrrp_set_priority(in->dsts[k].msg, in->dsts[k].len, priority);
}

void fk_vloop_set_view(struct fk_vloop *L, uint32_t i, const struct fk_vloop_view *v)
{
    L->inst[i].view = *v;
}

/* ---- sending ----------------------------------------------------------------------- */

static int flush_slot(struct fk_vloop *L, int s)
{
    uint32_t n = L->ntx[s], first = 0;
    int sent = 0;
    while (first < n && L->fd[s] >= 0) {
        int r = fk_mmsg_send(L->fd[s], L->tx[s], first, n - first, MSG_DONTWAIT);
        if (r <= 0)
            break;  /* a full buffer drops the rest of this round; the next one repeats it */
        first += (uint32_t)r;
        sent += r;
    }
    L->ntx[s] = 0;
    return sent;
}

int fk_vloop_flush(struct fk_vloop *L)
{
    int sent = 0;
    for (int s = 0; s < FK_VLOOP_SOCKETS; s++)
        if (L->ntx[s])
            sent += flush_slot(L, s);
    return sent;
}

int fk_vloop_queue_advert(struct fk_vloop *L, uint32_t i, int priority_override)
{
    struct inst *in = &L->inst[i];
    int s = in->slot, queued = 0;
    for (uint32_t k = 0; k < in->ndst; k++) {
        struct dst *d = &in->dsts[k];
        if (L->ntx[s] == SEND_BATCH)
            flush_slot(L, s);
        uint32_t j = L->ntx[s];
        struct fk_mmsg_meta *md = fk_mmsg_meta_at(L->tx[s], j);
        uint8_t *slot = fk_mmsg_slot(L->tx[s], j);
        const uint8_t *msg = d->msg;
        uint8_t tmp[FK_VRRP_MAX_LEN];
        if (priority_override >= 0) {
            memcpy(tmp, d->msg, d->len);
            fk_vrrp_set_priority(tmp, d->len, (uint8_t)priority_override);
            msg = tmp;
        }
        memset(md, 0, sizeof *md);
        md->family = in->family;
        memcpy(md->dst, d->dst, 16);
        memcpy(md->src, d->src, 16);
        md->ifindex = d->ifindex;
        if (in->auth_type == 2) {
            in->ah_seq++;
            in->ip_id = (uint16_t)(in->ip_id % 0xFFFF + 1);
            int n = fk_ah_build(slot, TX_SLOT, msg, d->len, d->src, d->dst, in->ip_id, 0xC0, in->ah_seq, in->key,
                                in->unicast);
            if (n < 0)
                continue;
            md->len = (uint32_t)n;
            fk_mmsg_point(L->tx[s], j, NULL);
        } else if (msg == tmp) {
            memcpy(slot, tmp, d->len);
            md->len = d->len;
            fk_mmsg_point(L->tx[s], j, NULL);
        } else {
            md->len = d->len;
            fk_mmsg_point(L->tx[s], j, d->msg);
        }
        L->ntx[s]++;
        in->counters[FK_R_TX]++;
        queued++;
    }
    return queued;
}

/* ---- receiving ---------------------------------------------------------------------- */

int fk_vloop_classify(const struct fk_vloop_view *v, int64_t now_us, uint8_t priority, const uint8_t *src,
                      int alen, uint16_t advert_int_cs)
{
    if (v->state == FK_VS_BACKUP) {
        if (priority == 0)
            return FK_V_CALL;
        if (v->preempt && priority < v->priority) {
            if (v->preempt_delay_us == 0)
                return FK_V_IGNORE;
            if (v->preempt_until_us < 0)
                return FK_V_CALL;
            if (now_us >= v->preempt_until_us)
                return FK_V_IGNORE;
        } else if (v->preempt_delay_us && v->preempt_until_us >= 0) {
            return FK_V_CALL;
        }
        if (v->version == 3 && advert_int_cs != v->master_adver_int_cs)
            return FK_V_CALL;
        return FK_V_REARM;
    }
    if (v->state == FK_VS_MASTER) {
        if (priority == v->priority && memcmp(src, v->address, (size_t)alen) == 0)
            return FK_V_IGNORE;
        return FK_V_CALL;
    }
    return FK_V_IGNORE;
}

static int is_peer(const struct inst *in, const uint8_t *src, int alen)
{
    for (uint32_t k = 0; k < in->ndst; k++)
        if (memcmp(in->dsts[k].dst, src, (size_t)alen) == 0)
            return 1;
    return 0;
}

/* One received datagram; returns 1 if it became an event. */
static int datagram(struct fk_vloop *L, struct fk_wheel *W, int slot, const uint8_t *data,
                    const struct fk_mmsg_meta *md, int64_t now_ns, struct fk_vloop_event *ev)
{
    static struct fk_vrrp_advert a;
    int family = slot == 1 ? 6 : 4, alen = family == 6 ? 16 : 4;
    const uint8_t *msg = data;
    size_t len = md->len;
    if (family == 4) {
        if (len < 20) {
            L->stats.rx_short++;
            return 0;
        }
        size_t ihl = (size_t)(data[0] & 15) * 4;
        size_t skip = ihl + (slot == 2 ? FK_AH_LEN : 0);
        if (len < skip) {
            L->stats.rx_short++;
            return 0;
        }
        msg = data + skip;
        len -= skip;
    }
    if (len < 8) {
        L->stats.rx_short++;
        return 0;
    }
    int idx = hfind(L, hkey(md->ifindex, family, msg[1]));
    if (idx < 0) /* an instance without an interface takes its VRID from any */
        idx = hfind(L, hkey(0, family, msg[1]));
    if (idx < 0) {
        L->stats.rx_unknown++;
        return 0;
    }
    struct inst *in = &L->inst[idx];
    in->counters[FK_R_RX]++;
    int expect = -1;
    if (in->auth_type == 2) {
        uint32_t seq;
        size_t off;
        int r = fk_ah_parse(data, md->len, in->key, in->unicast, &in->ah_seq, &seq, &off);
        if (r != FK_AH_OK) {
            in->counters[r]++;
            return 0;
        }
    } else if (in->view.version == 2) {
        expect = in->auth_type;
    }
    int r = fk_vrrp_parse(&a, msg, len, family, md->src, md->dst, in->unicast ? 255 : md->ttl, expect, in->key);
    if (r == FK_VRRP_OK) {
        if (in->auth_type == 2 && a.auth_type != 2)
            r = FK_VRRP_EAUTH;
        else if (a.version != in->view.version)
            r = FK_VRRP_EVERSION;
        else if (a.version == 2 && a.advert_int_cs != in->v2_interval_cs)
            r = FK_VRRP_EINTERVAL;
    }
    if (r != FK_VRRP_OK) {
        in->counters[r]++;
        return 0;
    }
    if (family == 6 && !fk_vrrp_ll_first(&a))
        in->counters[FK_R_LL_NOT_FIRST]++;
    if (in->unicast && !is_peer(in, md->src, alen)) {
        in->counters[FK_R_PEER]++;
        return 0;
    }
    int64_t now_us = now_ns / 1000;
    switch (fk_vloop_classify(&in->view, now_us, a.priority, md->src, alen, a.advert_int_cs)) {
    case FK_V_IGNORE:
        return 0;
    case FK_V_REARM:
        fk_wheel_arm(W, (uint32_t)idx * FK_VLOOP_TIMERS + 1, (now_us + in->view.master_down_us) * 1000);
        return 0;
    default:
        memset(ev, 0, sizeof *ev);
        ev->now_ns = now_ns;
        ev->kind = FK_EV_ADVERT;
        ev->instance = (uint32_t)idx;
        ev->priority = a.priority;
        ev->advert_int_cs = a.advert_int_cs;
        ev->family = (uint8_t)family;
        memcpy(ev->src, md->src, 16);
        /* the state machine will decide: until it has, this advert's REARM is what a
         * backup would do, and Python refreshes the view after the call */
        return 1;
    }
}

static int drain(struct fk_vloop *L, struct fk_wheel *W, int slot, struct fk_vloop_event *ev, int max_ev)
{
    int nev = 0, complete = 0;
    int64_t start = fk_vloop_now_ns(), floor = L->drained_ns[slot];
    for (int round = 0; round < 64 && nev < max_ev; round++) {
        /* a datagram makes at most one event: read no more than there is room for, so
         * none is read and then dropped; the rest wait in the socket for the next poll */
        uint32_t want = RECV_BATCH;
        if ((uint32_t)(max_ev - nev) < want)
            want = (uint32_t)(max_ev - nev);
        int r = fk_mmsg_recv(L->fd[slot], L->rx, want, MSG_DONTWAIT);
        if (r <= 0) {
            complete = 1;
            break;
        }
        int64_t now = fk_vloop_now_ns();
        L->stats.datagrams += (uint64_t)r;
        for (int j = 0; j < r; j++) {
            const struct fk_mmsg_meta *md = fk_mmsg_meta_at(L->rx, (uint32_t)j);
            /* an advert counts from when the kernel received it, not from this drain: a
             * backup's Master_Down deadline is exactly arrival + Master_Down_Interval.
             * A stamp older than a second is not believed; and none is taken as earlier
             * than the last complete drain, which left the socket empty (the stamp
             * goes through CLOCK_REALTIME: a step of that clock between the arrival
             * and now moves it by the step) */
            int64_t at = md->rx_ns;
            if (at <= 0 || at > now || now - at > 1000000000LL) {
                at = now;
                L->stats.rx_unstamped++;
            } else if (at < floor) {
                at = floor;
            }
            nev += datagram(L, W, slot, fk_mmsg_slot(L->rx, (uint32_t)j), md, at, &ev[nev]);
        }
        if ((uint32_t)r < want) {
            complete = 1;
            break;
        }
    }
    if (complete)
        L->drained_ns[slot] = start;
    return nev;
}

/* ---- the loop ----------------------------------------------------------------------- */

static int expire(struct fk_vloop *L, struct fk_wheel *W, int64_t now, struct fk_vloop_event *ev, int max_ev)
{
    int nev = 0;
    for (;;) {
        uint32_t cap = sizeof L->timer_ids / sizeof L->timer_ids[0];
        if ((uint32_t)(max_ev - nev) < cap)
            cap = (uint32_t)(max_ev - nev);
        if (cap == 0)
            break;
        int n = fk_wheel_advance(W, now, L->timer_ids, cap);
        if (n <= 0)
            break;
        for (int j = 0; j < n; j++) {
            uint32_t id = L->timer_ids[j], i = id / FK_VLOOP_TIMERS;
            if (i >= L->n)
                continue;
            if (id % FK_VLOOP_TIMERS == 0) {
                if (L->inst[i].view.state == FK_VS_MASTER)
                    fk_vloop_queue_advert(L, i, -1);
            } else {
                struct fk_vloop_event *e = &ev[nev++];
                memset(e, 0, sizeof *e);
                e->now_ns = now;
                e->kind = FK_EV_TIMER;
                e->instance = i;
                e->timer_id = id;
            }
        }
        if ((uint32_t)n < cap)
            break;
    }
    return nev;
}

void fk_vloop_set_slack(struct fk_vloop *L, int64_t slack_ns)
{
    L->slack_ns = slack_ns < 0 ? 0 : slack_ns;
}

int fk_vloop_set_rx_interval(struct fk_vloop *L, int64_t interval_ns)
{
    L->rx_interval_ns = interval_ns < 0 ? 0 : interval_ns;
    return watch_sockets(L, L->rx_interval_ns == 0);
}

int fk_vloop_poll(struct fk_vloop *L, struct fk_wheel *W, int64_t deadline_ns, struct fk_vloop_event *ev,
                  int max_ev)
{
    struct epoll_event ready[8];
    if (max_ev <= 0)
        return -EINVAL;
    for (;;) {
        int64_t now = fk_vloop_now_ns(), due = fk_wheel_next_expiry(W);
        int nev = 0;
        int period = L->rx_interval_ns > 0 && !idle(L) && now >= L->next_rx_ns;
        /* timers overdue by more than the receive period: the loop was held up (a slow
         * step, a reload, the CPU taken). The adverts that came meanwhile are read
         * before the timers fire: they carry their arrival time, and a backup whose
         * master kept sending must not take over for having read them late. */
        int late = due >= 0 && now - due > (L->rx_interval_ns > L->slack_ns ? L->rx_interval_ns : L->slack_ns);
        if (period || late) {
            uint64_t before = L->stats.datagrams;
            for (int s = 0; s < FK_VLOOP_SOCKETS && nev < max_ev; s++)
                if (L->fd[s] >= 0)
                    nev += drain(L, W, s, ev + nev, max_ev - nev);
            if (period) {
                L->next_rx_ns = now + L->rx_interval_ns;
                /* nothing came (a master, or the gap between a burst of adverts and the
                 * next): let the sockets wake the loop rather than polling them empty */
                if (L->stats.datagrams == before)
                    watch_sockets(L, 1);  /* on failure it stays out: the period goes on */
            }
        }
        nev += expire(L, W, now + L->slack_ns, ev + nev, max_ev - nev);
        fk_vloop_flush(L);
        if (nev)
            return nev;
        /* past the deadline: one look at the descriptors (the sockets among them, when
         * they wake the loop), without waiting */
        int last = now >= deadline_ns;
        int64_t until = deadline_ns, next = fk_wheel_next_expiry(W);
        if (next >= 0 && next - L->slack_ns < until)
            until = next - L->slack_ns;
        if (L->rx_interval_ns > 0 && !idle(L) && L->next_rx_ns < until)
            until = L->next_rx_ns;
        int64_t wait_ns = until - now;
        int timeout_ms = wait_ns <= 0 || last ? 0 : (int)((wait_ns + 999999) / 1000000);
        L->stats.polls++;
        int n = epoll_wait(L->epfd, ready, 8, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                return 0;  /* a signal: let Python run its handler */
            return -errno;
        }
        L->stats.wakeups += n > 0;
        for (int j = 0; j < n && nev < max_ev; j++) {
            uint64_t tag = ready[j].data.u64;
            if (tag & TAG_SOCKET) {
                nev += drain(L, W, (int)(tag & 0xff), ev + nev, max_ev - nev);
                if (idle(L)) {
                    /* traffic again: back to draining on the period, the first drain
                     * one period from now (the rest of a burst comes in one batch) */
                    L->next_rx_ns = fk_vloop_now_ns() + L->rx_interval_ns;
                    watch_sockets(L, 0);
                }
            } else {
                struct fk_vloop_event *e = &ev[nev++];
                memset(e, 0, sizeof *e);
                e->now_ns = fk_vloop_now_ns();
                e->kind = FK_EV_FD;
                e->fd_tag = (int32_t)(uint32_t)tag;
            }
        }
        fk_vloop_flush(L);
        if (nev || last)
            return nev;
    }
}

int fk_vloop_carry(struct fk_vloop *L, const struct fk_vloop *from, const int32_t *map, uint32_t n)
{
    if (n > L->n)
        return -EINVAL;
    for (uint32_t j = 0; j < n; j++) {
        if (map[j] < 0)
            continue;
        if ((uint32_t)map[j] >= from->n)
            return -EINVAL;
        const struct inst *o = &from->inst[map[j]];
        struct inst *in = &L->inst[j];
        in->view = o->view;
        in->ah_seq = o->ah_seq;
        in->ip_id = o->ip_id;
        memcpy(in->counters, o->counters, sizeof in->counters);
    }
    for (int s = 0; s < FK_VLOOP_SOCKETS; s++)
        if (L->fd[s] >= 0 && L->fd[s] == from->fd[s])
            L->drained_ns[s] = from->drained_ns[s];
    return 0;
}

const uint64_t *fk_vloop_counters(const struct fk_vloop *L, uint32_t i) { return L->inst[i].counters; }
uint32_t fk_vloop_ah_seq(const struct fk_vloop *L, uint32_t i) { return L->inst[i].ah_seq; }

void fk_vloop_set_ah_seq(struct fk_vloop *L, uint32_t i, uint32_t seq)
{
    if (i < L->n)
        L->inst[i].ah_seq = seq;
}
const struct fk_vloop_stats *fk_vloop_get_stats(const struct fk_vloop *L) { return &L->stats; }
