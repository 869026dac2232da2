"""Sending 1,000 VRRPv3 adverts from a raw socket: one Python loop of socket.sendto
(the baseline), the pure-Python twin (a loop of sendmsg with IP_PKTINFO), and the
native Batch (sendmmsg, 1,024 slots pointing at the adverts: one system call).
Also 1,000 received: Batch.recv (recvmmsg) vs a loop of socket.recvfrom.

The sockets live in namespaces this benchmark creates (veth va -> vb); needs root.
Ratios use each benchmark's fastest round (min)."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

import fastka
import fastka.batchio
from fastka.pure import batchio as pure_batchio
from fastka.wire import build_advert

from tests.netns import ifindex, in_netns, ip, netns, skip_unless_netns

N = 1000
MCAST = "224.0.0.18"
A4, B4 = "198.18.1.1", "198.18.1.2"
_results: dict[str, float] = {}


@pytest.fixture(scope="module")
def link():
    skip_unless_netns()
    with netns("fk-bma") as a, netns("fk-bmb") as b:
        ip("link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b)
        ip("-n", a, "addr", "add", f"{A4}/24", "dev", "va")
        ip("-n", b, "addr", "add", f"{B4}/24", "dev", "vb")
        ip("-n", a, "link", "set", "va", "up")
        ip("-n", b, "link", "set", "vb", "up")
        va = ifindex(a, "va")

        def make():
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(A4))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
            return s

        def make_rx():
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
            s.setsockopt(socket.IPPROTO_IP, fastka.batchio.IP_PKTINFO, 1)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(MCAST) + socket.inet_aton(B4))
            s.setblocking(False)
            return s

        tx = in_netns(a, make)
        rx = in_netns(b, make_rx)
        with contextlib.closing(tx), contextlib.closing(rx):
            yield tx, rx, va


def adverts():
    return [build_advert(version=3, vrid=1 + i % 255, priority=100, advert_int_cs=10,
                         addresses=[f"10.{i // 250}.{i % 250}.1"], src=A4, dst=MCAST) for i in range(N)]


def _record(op: str, impl: str, best: float, report) -> None:
    _results[f"{op}/{impl}"] = best
    native, base = _results.get(f"{op}/native"), _results.get(f"{op}/python loop")
    if native and base and impl in ("native", "python loop"):
        twin = _results.get(f"{op}/twin")
        report(f"{op} of {N} adverts: native Batch is {base / native:.1f}x a Python loop of "
               f"{'sendto' if op == 'send' else 'recvfrom'} ({native * 1e6:.0f} us vs {base * 1e6:.0f} us)"
               + (f"; twin {twin * 1e6:.0f} us" if twin else ""))


@pytest.mark.parametrize("impl", ["python loop", "twin", "native"])
def test_send_1000(benchmark, link, impl, report):
    tx, rx, va = link
    msgs = adverts()
    if impl == "python loop":
        dst = (MCAST, 0)

        def send():
            for m in msgs:
                tx.sendto(m, dst)
    else:
        if impl == "native" and fastka.native is None:
            pytest.skip("no native core")
        batch = (fastka.native.Batch if impl == "native" else pure_batchio.Batch)(1024)
        packets = [(m, MCAST, va) for m in msgs]

        def send():
            assert batch.send(tx, packets) == N

    def fresh():  # the receiver's queue never fills: drop what arrived
        while True:
            try:
                rx.recv(65535)
            except BlockingIOError:
                return (), {}
    benchmark.pedantic(send, setup=fresh, rounds=30, iterations=1, warmup_rounds=1)
    _record("send", impl, benchmark.stats.stats.min, report)


@pytest.mark.parametrize("impl", ["python loop", "native"])
def test_recv_1000(benchmark, link, impl, report):
    tx, rx, va = link
    if impl == "native" and fastka.native is None:
        pytest.skip("no native core")
    msgs = adverts()
    sender = fastka.batchio.Batch(1024)
    packets = [(m, MCAST, va) for m in msgs]
    batch = fastka.batchio.Batch(1024, slot_size=256)

    def fill():
        while True:
            try:
                rx.recv(65535)
            except BlockingIOError:
                break
        assert sender.send(tx, packets) == N
        time.sleep(0.01)
        return (), {}

    if impl == "native":
        def recv():
            got = 0
            while got < N:
                more = batch.recv(rx)
                assert more
                got += len(more)
    else:
        def recv():
            for _ in range(N):
                rx.recvfrom(256)
    benchmark.pedantic(recv, setup=fill, rounds=20, iterations=1, warmup_rounds=1)
    _record("recv", impl, benchmark.stats.stats.min, report)
