"""Batched datagram I/O, pure Python: the twin of csrc/mmsg.c + _native/mmsg.pxi.

One ``sendmsg`` / ``recvmsg`` per datagram, with the same ancillary data, arguments and
results as the native Batch (fastka.batchio documents the API).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterable, Sequence
from typing import Any

from .addr import _pton

IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)  # as fastka.batchio (imports this module)

_IN_PKTINFO = struct.Struct("=i4s4s")  # ifindex, spec_dst, addr
_IN6_PKTINFO = struct.Struct("=16sI")  # addr, ifindex
_INT = struct.Struct("=i")
_TIMESPEC = struct.Struct("=qq")
SCM_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)
_CMSG_ROOM = socket.CMSG_SPACE(_IN6_PKTINFO.size) + socket.CMSG_SPACE(4) + \
    socket.CMSG_SPACE(_IN_PKTINFO.size) + socket.CMSG_SPACE(4) + socket.CMSG_SPACE(_TIMESPEC.size)


def _ifname(sock: socket.socket, ifindex: int) -> str:
    """The name of interface ifindex in the socket's network namespace (SIOCGIFNAME on
    the socket itself; socket.if_indextoname would ask the caller's namespace)."""
    import fcntl

    req = fcntl.ioctl(sock.fileno(), 0x8910, struct.pack("16si20x", b"", ifindex))
    return req[:16].split(b"\0", 1)[0].decode()


class Batch:
    """capacity preallocated slots of slot_size bytes for sendmmsg / recvmmsg."""

    def __init__(self, capacity: int, slot_size: int = 4096) -> None:
        if not 1 <= capacity <= 1 << 20:
            raise ValueError(f"capacity must be 1..{1 << 20}, got {capacity!r}")
        if not 1 <= slot_size <= 65535:
            raise ValueError(f"slot_size must be 1..65535, got {slot_size!r}")
        self._capacity = capacity
        self._slot_size = slot_size

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def slot_size(self) -> int:
        return self._slot_size

    def send(self, sock: socket.socket, packets: Iterable[Sequence[Any]], flags: int = 0) -> int:
        sent = 0
        for p in packets:
            data, dst, ifindex = p[0], p[1], p[2]
            src = p[3] if len(p) > 3 else None
            data = bytes(data)
            if len(data) > 65535:
                raise ValueError("a datagram is at most 65535 bytes")
            if dst is None:  # a whole frame for a packet socket
                try:
                    sock.sendto(data, (_ifname(sock, ifindex), 0))
                except BlockingIOError:
                    if sent:
                        return sent
                    raise
                except OSError as e:
                    e.sent = sent  # type: ignore[attr-defined]  # the native Batch's contract
                    raise
                sent += 1
                continue
            d = _pton("dst", dst, 0)
            family = 6 if len(d) == 16 else 4
            s = _pton("src", src, family) if src is not None else bytes(len(d))
            anc = []
            if family == 6:
                addr: tuple[Any, ...] = (socket.inet_ntop(socket.AF_INET6, d), 0, 0, ifindex)
                if ifindex or any(s):
                    anc.append((socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, _IN6_PKTINFO.pack(s, ifindex)))
            else:
                addr = (socket.inet_ntoa(d), 0)
                if ifindex or any(s):
                    anc.append((socket.IPPROTO_IP, IP_PKTINFO, _IN_PKTINFO.pack(ifindex, s, bytes(4))))
            try:
                sock.sendmsg([data], anc, flags, addr)
            except BlockingIOError:
                if sent:
                    return sent
                raise
            except OSError as e:
                e.sent = sent  # type: ignore[attr-defined]  # the native Batch's contract
                raise
            sent += 1
        return sent

    def recv(self, sock: socket.socket, max_count: int | None = None,
             flags: int = socket.MSG_DONTWAIT) -> list[Any]:
        from fastka.batchio import Datagram

        n = self._capacity
        if max_count is not None:
            if max_count < 0:
                raise ValueError("max_count must be >= 0")
            n = min(n, max_count)
        out: list[Any] = []
        while len(out) < n:
            try:
                data, anc, mflags, addr = sock.recvmsg(self._slot_size, _CMSG_ROOM, flags)
            except BlockingIOError:
                break
            family = 6 if sock.family == socket.AF_INET6 else 4
            src = addr[0].split("%")[0] if addr else ("::" if family == 6 else "0.0.0.0")
            dst, ifindex, ttl, rx_ns = ("::" if family == 6 else "0.0.0.0"), 0, -1, 0
            for level, kind, value in anc:
                if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                    a, ifindex = _IN6_PKTINFO.unpack_from(value)
                    dst = socket.inet_ntop(socket.AF_INET6, a)
                elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
                    ttl = _INT.unpack_from(value)[0]
                elif level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    ifindex, _, a = _IN_PKTINFO.unpack_from(value)
                    dst = socket.inet_ntoa(a)
                elif level == socket.IPPROTO_IP and kind == socket.IP_TTL:
                    ttl = _INT.unpack_from(value)[0]
                elif level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                    # the stamp is CLOCK_REALTIME: moved to CLOCK_MONOTONIC by the clocks' difference
                    mono_now = time.monotonic_ns()
                    real_minus_mono = time.clock_gettime_ns(time.CLOCK_REALTIME) - mono_now
                    sec, nsec = _TIMESPEC.unpack_from(value)
                    rx_ns = min(mono_now, max(1, sec * 1_000_000_000 + nsec - real_minus_mono))
            if family == 4 and ttl < 0 and len(data) >= 20 and data[0] >> 4 == 4:
                ttl = data[8]
            out.append(Datagram(data, src, dst, ifindex, ttl, bool(mflags & socket.MSG_TRUNC), rx_ns))
            flags |= socket.MSG_DONTWAIT  # waited for the first one at most (MSG_WAITFORONE)
        return out
