"""Batched raw-socket I/O (csrc/mmsg.c through Cython, and its twin) with real VRRP
packets between two namespaces of the test's own joined by a veth pair."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from typing import Iterator

import pytest

import fastka
import fastka.batchio
from fastka.pure import batchio as pure_batchio
from fastka.wire import build_advert, parse_advert

from ..netns import ifindex, in_netns, ip, netns, skip_unless_netns, wait_link_local
from .conftest import twin_and_native

VRRP = 112
MCAST4, MCAST6 = "224.0.0.18", "ff02::12"
A4, B4 = "198.18.0.1", "198.18.0.2"
A_MAC = "02:00:00:00:01:0a"
A_LL = "fe80::ff:fe00:10a"


@pytest.fixture(params=twin_and_native(pure_batchio.Batch, "Batch"))
def batch_cls(request):
    return request.param


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[str, str, int, int]]:
    """Namespaces A and B joined by veth va (A) - vb (B): (a, b, ifindex va, ifindex vb)."""
    skip_unless_netns()
    with netns("fk-mma") as a, netns("fk-mmb") as b:
        ip("link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b)
        for ns, dev, addr in ((a, "va", A4), (b, "vb", B4)):
            ip("netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_dad=0")
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
        ip("-n", a, "link", "set", "va", "address", A_MAC)
        for ns, dev in ((a, "va"), (b, "vb")):
            ip("-n", ns, "link", "set", dev, "up")
        assert wait_link_local(a, "va") == A_LL
        wait_link_local(b, "vb")
        yield a, b, ifindex(a, "va"), ifindex(b, "vb")


def sender(ns: str, family: int) -> socket.socket:
    def make() -> socket.socket:
        s = socket.socket(family, socket.SOCK_RAW, VRRP)
        if family == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        return s
    return in_netns(ns, make)


def receiver(ns: str, family: int, ifidx: int) -> socket.socket:
    def make() -> socket.socket:
        s = socket.socket(family, socket.SOCK_RAW, VRRP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        if family == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, fastka.batchio.IP_PKTINFO, 1)
            s.setsockopt(socket.IPPROTO_IP, fastka.batchio.IP_RECVTTL, 1)
            mreq = socket.inet_aton(MCAST4) + struct.pack("=4si", bytes(4), ifidx)  # ip_mreqn
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
            mreq = socket.inet_pton(socket.AF_INET6, MCAST6) + struct.pack("=I", ifidx)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        s.setblocking(False)
        return s
    return in_netns(ns, make)


def drain(batch, sock, want: int, timeout: float = 5.0):
    got: list = []
    end = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < end:
        more = batch.recv(sock)
        if not more:
            time.sleep(0.005)
        got += more
    return got


def adverts(n: int, family: int) -> list[bytes]:
    if family == socket.AF_INET:
        return [build_advert(version=3, vrid=1 + i % 255, priority=100, advert_int_cs=10,
                             addresses=[f"10.{i // 250}.{i % 250}.1"], src=A4, dst=MCAST4) for i in range(n)]
    return [build_advert(version=3, vrid=1 + i % 255, priority=100, advert_int_cs=10,
                         addresses=[f"2001:db8::{i:x}"], src=A_LL, dst=MCAST6) for i in range(n)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def test_multicast_batch_between_namespaces(pair, batch_cls, family):
    a, b, va, vb = pair
    with contextlib.closing(sender(a, family)) as tx, contextlib.closing(receiver(b, family, vb)) as rx:
        msgs = adverts(600, family)
        dst = MCAST4 if family == socket.AF_INET else MCAST6
        batch = batch_cls(256)
        assert batch.send(tx, [(m, dst, va) for m in msgs]) == 600  # three sendmmsg batches
        got = drain(batch_cls(512), rx, 600)
        assert len(got) == 600
        for m, d in zip(msgs, got, strict=True):
            assert (d.dst, d.ifindex, d.ttl, d.truncated) == (dst, vb, 255, False)
            if family == socket.AF_INET:
                assert d.src == A4 and d.data[9] == VRRP
                payload = d.data[(d.data[0] & 15) * 4:]
            else:
                assert d.src == A_LL
                payload = d.data
            assert payload == m
            assert parse_advert(payload, src=d.src, dst=d.dst, ttl=d.ttl).priority == 100


@pytest.mark.timeout(60)
def test_unicast_with_source_and_truncation(pair, batch_cls):
    a, b, va, vb = pair
    with contextlib.closing(sender(a, socket.AF_INET)) as tx, \
            contextlib.closing(receiver(b, socket.AF_INET, vb)) as rx:
        msg = adverts(1, socket.AF_INET)[0]
        assert batch_cls(4).send(tx, [(msg, B4, 0, A4), (msg + bytes(100), B4, va)]) == 2
        got = drain(batch_cls(4, slot_size=60), rx, 2)
        assert [(d.src, d.dst, d.ifindex, d.ttl) for d in got] == [(A4, B4, vb, 255)] * 2
        assert [len(d.data) for d in got] == [20 + len(msg), 60]
        assert [d.truncated for d in got] == [False, True]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def test_receive_time_is_the_kernels(pair, batch_cls, family):
    """With SO_TIMESTAMPNS, rx_ns is when the kernel received each datagram (in
    time.monotonic_ns), not when it was read; without it, 0."""
    a, b, va, vb = pair
    dst = MCAST4 if family == socket.AF_INET else MCAST6
    with contextlib.closing(sender(a, family)) as tx, contextlib.closing(receiver(b, family, vb)) as rx, \
            contextlib.closing(receiver(b, family, vb)) as plain:
        rx.setsockopt(socket.SOL_SOCKET, fastka.batchio.SO_TIMESTAMPNS, 1)
        time.sleep(0.05)  # the kernel turns receive stamping on from a work item, a moment later
        msgs = adverts(2, family)
        before = time.monotonic_ns()
        assert batch_cls(4).send(tx, [(msgs[0], dst, va)]) == 1
        sent = time.monotonic_ns()
        time.sleep(0.2)  # read well after the first arrived
        assert batch_cls(4).send(tx, [(msgs[1], dst, va)]) == 1
        time.sleep(0.05)
        read = time.monotonic_ns()
        got = drain(batch_cls(8), rx, 2)
        assert len(got) == 2
        first, second = got
        assert before <= first.rx_ns <= sent + 20_000_000  # delivered within the send (veth), give or take
        assert second.rx_ns - first.rx_ns >= 150_000_000
        assert second.rx_ns <= read
        assert [d.rx_ns for d in drain(batch_cls(8), plain, 2)] == [0, 0]


def test_nothing_waiting_gives_empty_list(pair, batch_cls):
    a, b, va, vb = pair
    with contextlib.closing(receiver(b, socket.AF_INET, vb)) as rx:
        assert batch_cls(8).recv(rx) == []
        assert batch_cls(8).recv(rx, max_count=0) == []


def test_errors(batch_cls):
    with pytest.raises(ValueError):
        batch_cls(0)
    with pytest.raises(ValueError):
        batch_cls(4, slot_size=0)
    b = batch_cls(4)
    assert (b.capacity, b.slot_size) == (4, 4096)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(ValueError, match="dst"):
            b.send(s, [(b"x", "1.2.3", 0)])
        with pytest.raises(OSError):  # dst None: a frame for a packet socket; this is a UDP one
            b.send(s, [(b"x", None, 1)])
        with pytest.raises(TypeError):
            b.send(s, [(b"x", 12, 0)])
        with pytest.raises(ValueError):
            b.send(s, [(bytes(70000), "127.0.0.1", 0)])
        with pytest.raises(ValueError):
            b.recv(s, max_count=-1)
    if batch_cls is not pure_batchio.Batch:
        with pytest.raises(OSError):
            b.send(10**6, [(b"x", "127.0.0.1", 0)])  # no such descriptor: EBADF


def test_a_refused_packet_says_how_many_went_before_it(pair, batch_cls):
    """A frame for an interface that is gone fails (ENXIO, ENODEV) after the ones before
    it went: the OSError's ``sent`` counts those (the GARP sender skips just the bad one),
    in a batch split over several sendmmsg calls too."""
    a, _, va, _ = pair
    frame = bytes.fromhex("ffffffffffff") + bytes.fromhex(A_MAC.replace(":", "")) + b"\x08\x06" + bytes(28)

    def run() -> list[int]:
        out = []
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
            s.setblocking(False)
            for cap, before in ((8, 3), (2, 5)):  # in one sendmmsg; over three
                packets = [(frame, None, va)] * before + [(frame, None, 99999), (frame, None, va)]
                with pytest.raises(OSError) as e:
                    batch_cls(cap).send(s, packets, socket.MSG_DONTWAIT)
                out.append(e.value.sent)
        return out

    assert in_netns(a, run) == [3, 5]


@pytest.mark.skipif(fastka.native is None, reason="no native core")
def test_public_api_is_native():
    assert fastka.batchio.Batch is fastka.native.Batch


@pytest.mark.timeout(60)
def test_frames_on_a_packet_socket(pair, batch_cls):
    """dst None: whole Ethernet frames out of ifindex (gratuitous ARP is sent this way)."""
    from fastka.vrrp.gratuitous import ETH_P_ARP, arp_frame

    a, b, va, vb = pair

    def packet_socket():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        s.settimeout(5)
        return s

    mac = bytes.fromhex("02000000010a")
    frames = [arp_frame(mac, f"198.18.0.{100 + i}") for i in range(5)]
    with contextlib.closing(in_netns(a, packet_socket)) as tx, contextlib.closing(in_netns(b, packet_socket)) as rx:
        rx.bind(("vb", 0))
        assert batch_cls(8).send(tx, [(f, None, va) for f in frames]) == 5
        got = []
        while len(got) < 5:
            d = rx.recv(2048)
            if d[12:14] == b"\x08\x06" and d[6:12] == mac:
                got.append(d[:42])
        assert got == frames
