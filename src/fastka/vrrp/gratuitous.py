"""Gratuitous ARP (IPv4) and unsolicited Neighbour Advertisements (IPv6) for the VIPs
of a new master, in batches.

Frames are built once per VIP (they never change while the MAC stays) and sent with
one ``sendmmsg`` per socket per burst through :class:`fastka.batchio.Batch`:

- ARP: a broadcast ARP request whose sender and target protocol address are the VIP
  and whose target hardware address is the broadcast address - byte for byte what
  keepalived 2.2.7 sends - on a packet socket, out of the VIP's interface;
- NA (RFC 4861 sec. 7.2.6): ICMPv6 type 136 to ff02::1 with the Override flag (and
  the Router flag when the interface forwards), the VIP as target and the interface's
  MAC as target link-layer address option, hop limit 255, on a raw ICMPv6 socket (the
  kernel fills the checksum and picks the link-local source).
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Iterable, Sequence

from ..batchio import Batch

log = logging.getLogger("fastka.vrrp")

ETH_P_ARP = 0x0806
ALL_NODES = "ff02::1"
_ARP = struct.Struct("!6s6sHHHBBH6s4s6s4s")


def arp_frame(mac: bytes, vip: str) -> bytes:
    ip = socket.inet_aton(vip)
    bcast = b"\xff" * 6
    return _ARP.pack(bcast, mac, ETH_P_ARP, 1, 0x0800, 6, 4, 1, mac, ip, bcast, ip)


def na_message(mac: bytes, vip: str, router: bool = False) -> bytes:
    """ICMPv6 Neighbour Advertisement (checksum left 0 for the kernel)."""
    flags = 0x20000000 | (0x80000000 if router else 0)  # Override, Router
    target = socket.inet_pton(socket.AF_INET6, vip)
    return struct.pack("!BBHI16sBB6s", 136, 0, 0, flags, target, 2, 1, mac)


class Announcer:
    """Sockets and a batch for sending GARP / NA bursts."""

    def __init__(self, capacity: int = 4096) -> None:
        self._arp: socket.socket | None = None
        self._na: socket.socket | None = None
        self._batch = Batch(capacity, slot_size=128)
        self.failed = 0  # packets the kernel refused (their interface gone)

    def _arp_sock(self) -> socket.socket:
        if self._arp is None:
            self._arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.htons(ETH_P_ARP))
            self._arp.setblocking(False)
        return self._arp

    def _na_sock(self) -> socket.socket:
        if self._na is None:
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_ICMPV6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            s.setblocking(False)
            self._na = s
        return self._na

    def send(self, arp: Sequence[tuple[bytes, int]], na: Sequence[tuple[bytes, int]]) -> int:
        """arp: (frame, ifindex) pairs; na: (ICMPv6 message, ifindex) pairs. Returns how
        many went out (a full socket buffer drops the rest of a burst: the next one
        repeats it)."""
        sent = 0
        if arp:
            sent += self._send(self._arp_sock(), ((f, None, i) for f, i in arp))
        if na:
            sent += self._send(self._na_sock(), ((m, ALL_NODES, i) for m, i in na))
        return sent

    def _send(self, sock: socket.socket, packets: Iterable[tuple]) -> int:
        """Send all it can: a packet the kernel refuses (its interface is gone: ENXIO,
        ENODEV) is counted, logged once per burst and skipped, the rest still go."""
        todo, sent, k, failed = list(packets), 0, 0, 0
        error: OSError | None = None
        while k < len(todo):
            try:
                n = self._batch.send(sock, todo[k:], socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as e:  # the packet after e.sent sent ones failed
                went = getattr(e, "sent", 0)
                sent, failed, error, k = sent + went, failed + 1, e, k + went + 1
                continue
            if n <= 0:
                break
            sent, k = sent + n, k + n
        if failed:
            self.failed += failed
            log.warning("%d gratuitous ARP / NA not sent: %s", failed, error.strerror if error else "")
        return sent

    def close(self) -> None:
        for s in (self._arp, self._na):
            if s is not None:
                s.close()
        self._arp = self._na = None
