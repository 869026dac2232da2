"""Batched datagram I/O on raw sockets: many datagrams per system call.

``Batch(capacity, slot_size=4096)`` preallocates ``capacity`` slots;
``batch.send(sock, packets)`` sends ``(data, dst, ifindex[, src])`` tuples with
``sendmmsg`` (as few calls as the kernel allows; ``ifindex`` chooses the outgoing
interface and ``src`` the source address through IP_PKTINFO / IPV6_PKTINFO, 0 / None
leave both to routing; ``dst`` None sends ``data`` as a whole frame on a packet
socket out of ``ifindex``) and returns how many were sent; ``batch.recv(sock)`` drains up
to ``capacity`` waiting datagrams with ``recvmmsg`` into :class:`Datagram` tuples
(``[]`` when nothing waits; with ``flags=0`` it waits for the first datagram, then
takes what is waiting). The VRRP loop's fast path uses csrc/mmsg.h directly; this
module is its Python face (tests, tools, benchmarks).

What recv fills depends on the socket's options, which are the caller's: IPv4 needs
IP_PKTINFO (ifindex, dst) and IP_RECVTTL (ttl; a raw IPv4 socket's datagrams carry the
IP header, whose TTL is used otherwise); IPv6 needs IPV6_RECVPKTINFO and
IPV6_RECVHOPLIMIT; rx_ns (the kernel's receive time) SO_TIMESTAMPNS. Unknown fields
are 0 / "0.0.0.0" / "::" / ttl -1.

The native core's Batch when it is loaded; otherwise the pure-Python twin, which loops
over ``socket.sendmsg`` / ``recvmsg`` with the same arguments and results.
"""

from __future__ import annotations

import socket
from typing import NamedTuple

# Linux socket options some Python versions do not name (values from <linux/in.h>).
IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
IP_RECVTTL: int = getattr(socket, "IP_RECVTTL", 12)
SO_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)


class Datagram(NamedTuple):
    data: bytes
    """The datagram as the socket returns it (a raw IPv4 socket includes the IP header)."""
    src: str
    dst: str
    ifindex: int
    ttl: int
    """TTL / hop limit as received, -1 if unknown."""
    truncated: bool
    """Longer than the slot: data holds its first slot_size bytes."""
    rx_ns: int = 0
    """When the kernel received it (SO_TIMESTAMPNS on the socket), in CLOCK_MONOTONIC
    nanoseconds (time.monotonic_ns), never later than the recv; 0 if unknown."""


from . import native as _native  # noqa: E402  (Datagram must exist first)
from .pure import batchio as _pure  # noqa: E402

Batch = _native.Batch if _native is not None else _pure.Batch

__all__ = ["IP_PKTINFO", "IP_RECVTTL", "SO_TIMESTAMPNS", "Batch", "Datagram"]
