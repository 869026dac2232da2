# Batched raw-socket I/O over csrc/mmsg.c (contract in csrc/mmsg.h); the API is
# fastka.batchio's, the twin fastka/pure/batchio.py. Names carry a _mm prefix.
from libc.errno cimport EAGAIN
from libc.stdint cimport uint32_t

from fastka._native.csrc cimport (
    fk_mmsg,
    fk_mmsg_capacity,
    fk_mmsg_free,
    fk_mmsg_meta,
    fk_mmsg_meta_at,
    fk_mmsg_new,
    fk_mmsg_point,
    fk_mmsg_recv,
    fk_mmsg_send,
    fk_mmsg_slot,
    fk_mmsg_slot_size,
)

import os as _mm_os
import socket as _mm_socket

cdef object _mm_datagram_cls = None


cdef int _mm_fd(object sock) except -1:
    return sock if isinstance(sock, int) else sock.fileno()


cdef class Batch:
    """capacity preallocated slots of slot_size bytes for sendmmsg / recvmmsg."""

    cdef fk_mmsg *_m
    cdef list _keep  # the bytes the slots point at, alive until the send returns
    cdef uint32_t _partial  # what _flush had sent when it raised

    def __cinit__(self, capacity, slot_size=4096):
        if capacity < 1 or capacity > 1 << 20:
            raise ValueError(f"capacity must be 1..{1 << 20}, got {capacity!r}")
        if slot_size < 1 or slot_size > 65535:
            raise ValueError(f"slot_size must be 1..65535, got {slot_size!r}")
        self._m = fk_mmsg_new(<uint32_t>capacity, <uint32_t>slot_size)
        if self._m == NULL:
            raise MemoryError()
        self._keep = []

    def __dealloc__(self):
        fk_mmsg_free(self._m)

    @property
    def capacity(self):
        return fk_mmsg_capacity(self._m)

    @property
    def slot_size(self):
        return fk_mmsg_slot_size(self._m)

    def send(self, sock, packets, flags=0):
        """Send (data, dst, ifindex[, src]) tuples with as few sendmmsg calls as the
        kernel allows; the count sent. data is not copied: the slots point at it.
        dst None: data is a whole frame for a packet socket, sent out of ifindex. A
        packet the kernel refuses raises OSError, whose ``sent`` says how many packets
        before it went (EAGAIN after some went: the count, no error)."""
        cdef int fd = _mm_fd(sock)
        cdef uint32_t n = 0, cap = fk_mmsg_capacity(self._m)
        cdef int family
        cdef fk_mmsg_meta *md
        cdef bytes b
        cdef Py_ssize_t blen
        total = 0
        self._keep.clear()
        for p in packets:
            if n == cap:
                total += self._flush_counted(fd, n, flags, total)
                n = 0
            data, dst, ifindex = p[0], p[1], p[2]
            src = p[3] if len(p) > 3 else None
            b = data if type(data) is bytes else bytes(data)
            blen = len(b)
            if blen > 65535:
                raise ValueError("a datagram is at most 65535 bytes")
            md = fk_mmsg_meta_at(self._m, n)
            memset(md.src, 0, 16)
            if dst is None:  # a whole frame for a packet socket
                md.family = 17
            else:
                family = _advert_pton("dst", 0, dst, 0, md.dst)
                md.family = <uint8_t>family
                if src is not None:
                    _advert_pton("src", 0, src, family, md.src)
            md.ifindex = <uint32_t>ifindex
            md.len = <uint32_t>blen
            fk_mmsg_point(self._m, n, <const uint8_t *>PyBytes_AS_STRING(b))
            self._keep.append(b)
            n += 1
        if n:
            total += self._flush_counted(fd, n, flags, total)
        self._keep.clear()
        return total

    cdef int _flush_counted(self, int fd, uint32_t n, int flags, object total) except -1:
        try:
            return self._flush(fd, n, flags)
        except OSError as e:
            e.sent = total + self._partial
            self._keep.clear()
            raise

    cdef int _flush(self, int fd, uint32_t n, int flags) except -1:
        cdef uint32_t first = 0
        cdef int r
        while first < n:
            with nogil:
                r = fk_mmsg_send(fd, self._m, first, n - first, flags)
            if r < 0:
                if first and -r == EAGAIN:
                    return first
                self._partial = first
                raise OSError(-r, _mm_os.strerror(-r))
            first += <uint32_t>r
        return <int>n

    def recv(self, sock, max_count=None, flags=_mm_socket.MSG_DONTWAIT):
        """Up to max_count (default: capacity) waiting datagrams as Datagram tuples;
        [] when none is waiting. Without MSG_DONTWAIT in flags it waits for the first
        datagram, then takes what is waiting (MSG_WAITFORONE)."""
        global _mm_datagram_cls
        cdef int fd = _mm_fd(sock)
        cdef uint32_t n = fk_mmsg_capacity(self._m)
        cdef int r, i, c_flags
        cdef fk_mmsg_meta *md
        if _mm_datagram_cls is None:
            from fastka.batchio import Datagram
            _mm_datagram_cls = Datagram
        if not flags & _mm_socket.MSG_DONTWAIT:
            flags |= _mm_socket.MSG_WAITFORONE  # wait for the first, then take what is there
        if max_count is not None:
            if max_count < 0:
                raise ValueError("max_count must be >= 0")
            n = min(n, <uint32_t>max_count)
        c_flags = flags
        with nogil:
            r = fk_mmsg_recv(fd, self._m, n, c_flags)
        if r < 0:
            if -r == EAGAIN:
                return []
            raise OSError(-r, _mm_os.strerror(-r))
        out = []
        for i in range(r):
            md = fk_mmsg_meta_at(self._m, i)
            if md.family == 6:
                src = _advert_ntop6(md.src)
                dst = _advert_ntop6(md.dst)
            else:
                src = _advert_ntop4(md.src)
                dst = _advert_ntop4(md.dst)
            out.append(_mm_datagram_cls(
                PyBytes_FromStringAndSize(<const char *>fk_mmsg_slot(self._m, i), md.len),
                src, dst, md.ifindex, md.ttl, bool(md.truncated), md.rx_ns))
        return out
