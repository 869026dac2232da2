/* Batched datagram I/O over raw sockets: sendmmsg / recvmmsg into preallocated
 * buffers, with the ancillary data VRRP needs (RFC 9568 7.1: TTL / hop limit; the
 * receiving interface and destination from IP_PKTINFO / IPV6_PKTINFO; the outgoing
 * interface and source on send).
 *
 * A struct fk_mmsg holds cap slots; each slot has a data buffer of slot_size bytes, a
 * struct fk_mmsg_meta, and the kernel-facing headers (msghdr, iovec, sockaddr, cmsg
 * space), all allocated once. Sending reads each slot's meta (family, dst, ifindex,
 * src, len) and data (the slot buffer, or memory the caller points it at, such as a
 * prebuilt advert); receiving fills the slot buffers and metas.
 *
 * Socket options are the caller's: the receive socket needs IP_PKTINFO + IP_RECVTTL
 * (IPv4) or IPV6_RECVPKTINFO + IPV6_RECVHOPLIMIT (IPv6) for ifindex, dst and ttl to be
 * filled (otherwise ifindex is 0, dst zero, ttl -1; for IPv4 raw sockets the TTL is
 * also read from the IP header the kernel passes up), and SO_TIMESTAMPNS for rx_ns
 * (otherwise 0).
 *
 * Plain C99 + POSIX/Linux; declarations only, so cffi can cdef this header.
 */
#ifndef FASTKA_MMSG_H
#define FASTKA_MMSG_H

#include <stddef.h>
#include <stdint.h>

/* One datagram's addressing. family: 4 or 6, or FK_MMSG_PACKET for a packet socket
 * (AF_PACKET, SOCK_RAW: the data is a whole frame, sent out of interface ifindex).
 * Addresses are network-order bytes (4 or 16). On send: dst and ifindex are used
 * (ifindex 0: the routing decides); src, when not all zero, is the source through
 * PKTINFO. On receive: all are filled. */
enum fk_mmsg_family {
    FK_MMSG_PACKET = 17
};

struct fk_mmsg_meta {
    uint32_t len;            /* bytes of data */
    uint32_t ifindex;
    int32_t ttl;             /* received TTL / hop limit; -1 if unknown; ignored on send */
    uint8_t family;
    uint8_t truncated;       /* receive: the datagram was longer than the slot */
    uint8_t reserved[2];
    uint8_t src[16];
    uint8_t dst[16];
    int64_t rx_ns;           /* receive: when the kernel received it (SO_TIMESTAMPNS),
                              * in CLOCK_MONOTONIC ns, never later than the recv; 0 unknown */
};

struct fk_mmsg;

/* cap slots of slot_size bytes each; NULL on allocation failure or cap/slot_size 0. */
struct fk_mmsg *fk_mmsg_new(uint32_t cap, uint32_t slot_size);
void fk_mmsg_free(struct fk_mmsg *m);
uint32_t fk_mmsg_capacity(const struct fk_mmsg *m);
uint32_t fk_mmsg_slot_size(const struct fk_mmsg *m);

/* Slot i's buffer and meta (i < capacity; no check). */
uint8_t *fk_mmsg_slot(struct fk_mmsg *m, uint32_t i);
struct fk_mmsg_meta *fk_mmsg_meta_at(struct fk_mmsg *m, uint32_t i);

/* Send slot i's data from data[0..meta.len) instead of the slot buffer, until
 * fk_mmsg_point(m, i, NULL) gives it its buffer back. The memory must stay valid
 * until the send. */
void fk_mmsg_point(struct fk_mmsg *m, uint32_t i, const uint8_t *data);

/* sendmmsg of slots first..first+n-1 on fd (flags as for sendmmsg, e.g.
 * MSG_DONTWAIT). Returns how many were sent (the kernel may take fewer than n), or
 * -errno if none was. */
int fk_mmsg_send(int fd, struct fk_mmsg *m, uint32_t first, uint32_t n, int flags);

/* recvmmsg of up to n datagrams into slots 0..n-1 (flags e.g. MSG_DONTWAIT), filling
 * each slot's meta. Returns the count, or -errno (-EAGAIN: nothing waiting). */
int fk_mmsg_recv(int fd, struct fk_mmsg *m, uint32_t n, int flags);

#endif
