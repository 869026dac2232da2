/* Batched raw-socket I/O (see mmsg.h). */
#define _GNU_SOURCE
#include "mmsg.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#ifndef SCM_TIMESTAMPNS
#define SCM_TIMESTAMPNS 35  /* SO_TIMESTAMPNS (_OLD on 64-bit: a struct timespec) */
#endif

/* Room for the ancillary data of one datagram: pktinfo + ttl / hop limit, either
 * family, and the receive timestamp. */
#define FK_CMSG_ROOM (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + \
                      CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int)) + \
                      CMSG_SPACE(sizeof(struct timespec)))

struct fk_mmsg {
    uint32_t cap;
    uint32_t slot_size;
    uint8_t *data;                    /* cap * slot_size */
    const uint8_t **point;            /* per slot: external data, or NULL */
    struct fk_mmsg_meta *meta;
    struct mmsghdr *hdr;
    struct iovec *iov;
    struct sockaddr_in6 *name;        /* big enough for either family and sockaddr_ll */
    uint8_t *ctrl;                    /* cap * FK_CMSG_ROOM, aligned per slot */
};

struct fk_mmsg *fk_mmsg_new(uint32_t cap, uint32_t slot_size)
{
    if (!cap || !slot_size)
        return NULL;
    struct fk_mmsg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = cap;
    m->slot_size = slot_size;
    m->data = calloc(cap, slot_size);
    m->point = calloc(cap, sizeof *m->point);
    m->meta = calloc(cap, sizeof *m->meta);
    m->hdr = calloc(cap, sizeof *m->hdr);
    m->iov = calloc(cap, sizeof *m->iov);
    m->name = calloc(cap, sizeof *m->name);
    m->ctrl = calloc(cap, FK_CMSG_ROOM);
    if (!m->data || !m->point || !m->meta || !m->hdr || !m->iov || !m->name || !m->ctrl) {
        fk_mmsg_free(m);
        return NULL;
    }
    return m;
}

void fk_mmsg_free(struct fk_mmsg *m)
{
    if (!m)
        return;
    free(m->data);
    free(m->point);
    free(m->meta);
    free(m->hdr);
    free(m->iov);
    free(m->name);
    free(m->ctrl);
    free(m);
}

uint32_t fk_mmsg_capacity(const struct fk_mmsg *m) { return m->cap; }
uint32_t fk_mmsg_slot_size(const struct fk_mmsg *m) { return m->slot_size; }
uint8_t *fk_mmsg_slot(struct fk_mmsg *m, uint32_t i) { return m->data + (size_t)i * m->slot_size; }
struct fk_mmsg_meta *fk_mmsg_meta_at(struct fk_mmsg *m, uint32_t i) { return &m->meta[i]; }
void fk_mmsg_point(struct fk_mmsg *m, uint32_t i, const uint8_t *data) { m->point[i] = data; }

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Fill the kernel headers of slot i for sending. */
static void prepare_send(struct fk_mmsg *m, uint32_t i)
{
    struct fk_mmsg_meta *md = &m->meta[i];
    struct msghdr *h = &m->hdr[i].msg_hdr;
    uint8_t *ctrl = m->ctrl + (size_t)i * FK_CMSG_ROOM;
    size_t clen = 0;

    m->iov[i].iov_base = (void *)(m->point[i] ? m->point[i] : fk_mmsg_slot(m, i));
    m->iov[i].iov_len = md->len;
    memset(h, 0, sizeof *h);
    h->msg_iov = &m->iov[i];
    h->msg_iovlen = 1;
    h->msg_name = &m->name[i];
    if (md->family == FK_MMSG_PACKET) {
        struct sockaddr_ll *sa = (struct sockaddr_ll *)&m->name[i];
        memset(sa, 0, sizeof *sa);
        sa->sll_family = AF_PACKET;
        sa->sll_ifindex = (int)md->ifindex;
        h->msg_namelen = sizeof *sa;
    } else if (md->family == 6) {
        struct sockaddr_in6 *sa = &m->name[i];
        memset(sa, 0, sizeof *sa);
        sa->sin6_family = AF_INET6;
        memcpy(&sa->sin6_addr, md->dst, 16);
        sa->sin6_scope_id = md->ifindex;
        h->msg_namelen = sizeof *sa;
        if (md->ifindex || !all_zero(md->src, 16)) {
            struct cmsghdr *c = (struct cmsghdr *)ctrl;
            struct in6_pktinfo pi;
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof pi);
            memset(&pi, 0, sizeof pi);
            memcpy(&pi.ipi6_addr, md->src, 16);
            pi.ipi6_ifindex = md->ifindex;
            memcpy(CMSG_DATA(c), &pi, sizeof pi);
            clen = CMSG_SPACE(sizeof pi);
        }
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)&m->name[i];
        memset(sa, 0, sizeof *sa);
        sa->sin_family = AF_INET;
        memcpy(&sa->sin_addr, md->dst, 4);
        h->msg_namelen = sizeof *sa;
        if (md->ifindex || !all_zero(md->src, 4)) {
            struct cmsghdr *c = (struct cmsghdr *)ctrl;
            struct in_pktinfo pi;
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof pi);
            memset(&pi, 0, sizeof pi);
            pi.ipi_ifindex = (int)md->ifindex;
            memcpy(&pi.ipi_spec_dst, md->src, 4);
            memcpy(CMSG_DATA(c), &pi, sizeof pi);
            clen = CMSG_SPACE(sizeof pi);
        }
    }
    h->msg_control = clen ? ctrl : NULL;
    h->msg_controllen = clen;
}

int fk_mmsg_send(int fd, struct fk_mmsg *m, uint32_t first, uint32_t n, int flags)
{
    if (first > m->cap || n > m->cap - first)
        return -EINVAL;
    if (!n)
        return 0;
    for (uint32_t i = first; i < first + n; i++)
        prepare_send(m, i);
    int r = sendmmsg(fd, m->hdr + first, n, flags);
    return r < 0 ? -errno : r;
}

int fk_mmsg_recv(int fd, struct fk_mmsg *m, uint32_t n, int flags)
{
    if (n > m->cap)
        n = m->cap;
    if (!n)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        struct msghdr *h = &m->hdr[i].msg_hdr;
        memset(h, 0, sizeof *h);
        m->iov[i].iov_base = fk_mmsg_slot(m, i);
        m->iov[i].iov_len = m->slot_size;
        h->msg_iov = &m->iov[i];
        h->msg_iovlen = 1;
        h->msg_name = &m->name[i];
        h->msg_namelen = sizeof m->name[i];
        h->msg_control = m->ctrl + (size_t)i * FK_CMSG_ROOM;
        h->msg_controllen = FK_CMSG_ROOM;
    }
    int r = recvmmsg(fd, m->hdr, n, flags, NULL);
    if (r < 0)
        return -errno;
    /* the kernel stamps with CLOCK_REALTIME: carried over to CLOCK_MONOTONIC by the
     * clocks' difference now (a stamp that would lie after now is now) */
    struct timespec rt, mt;
    clock_gettime(CLOCK_MONOTONIC, &mt);
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t mono_now = (int64_t)mt.tv_sec * 1000000000LL + mt.tv_nsec;
    int64_t real_minus_mono = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - mono_now;
    for (int i = 0; i < r; i++) {
        struct msghdr *h = &m->hdr[i].msg_hdr;
        struct fk_mmsg_meta *md = &m->meta[i];
        memset(md, 0, sizeof *md);
        md->len = m->hdr[i].msg_len;
        md->ttl = -1;
        md->truncated = (h->msg_flags & MSG_TRUNC) ? 1 : 0;
        if (md->len > m->slot_size)
            md->len = m->slot_size;
        if (((struct sockaddr *)h->msg_name)->sa_family == AF_INET6) {
            md->family = 6;
            memcpy(md->src, &m->name[i].sin6_addr, 16);
        } else {
            md->family = 4;
            memcpy(md->src, &((struct sockaddr_in *)&m->name[i])->sin_addr, 4);
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                memcpy(md->dst, &pi.ipi6_addr, 16);
                md->ifindex = pi.ipi6_ifindex;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
                int v;
                memcpy(&v, CMSG_DATA(c), sizeof v);
                md->ttl = v;
            } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                memcpy(md->dst, &pi.ipi_addr, 4);
                md->ifindex = (uint32_t)pi.ipi_ifindex;
            } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
                int v;
                memcpy(&v, CMSG_DATA(c), sizeof v);
                md->ttl = v;
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                int64_t at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec - real_minus_mono;
                md->rx_ns = at > mono_now ? mono_now : (at > 0 ? at : 1);
            }
        }
        /* a raw IPv4 socket passes the IP header up: its TTL is there too */
        if (md->family == 4 && md->ttl < 0 && md->len >= 20 && (fk_mmsg_slot(m, (uint32_t)i)[0] >> 4) == 4)
            md->ttl = fk_mmsg_slot(m, (uint32_t)i)[8];
    }
    return r;
}
