"""The native loop's advert predicate (csrc/vloop.c fk_vloop_classify) is exactly the
state machine's (state_machine.classify_advert), on every input."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastka
from fastka.vrrp.state_machine import FastPathView, State, classify_advert

pytestmark = pytest.mark.skipif(fastka.native is None, reason="no native core")

ADDRS4 = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
ADDRS6 = ["fe80::1", "fe80::2", "fe80::3"]


@st.composite
def cases(draw):
    v6 = draw(st.booleans())
    addrs = ADDRS6 if v6 else ADDRS4
    delay = draw(st.sampled_from([0, 0, 1_000_000]))
    view = FastPathView(
        state=draw(st.sampled_from(list(State))),
        version=3 if v6 else draw(st.sampled_from([2, 3])),
        priority=draw(st.sampled_from([1, 50, 100, 200, 254, 255])),
        address=int(ipaddress.ip_address(draw(st.sampled_from(addrs)))),
        preempt=draw(st.booleans()),
        preempt_delay=delay,
        preempt_until=draw(st.sampled_from([-1, 500_000, 2_000_000])) if delay else -1,
        master_adver_int_cs=draw(st.sampled_from([10, 100])),
        master_down_interval=draw(st.sampled_from([360_000, 3_600_000])),
    )
    now = draw(st.sampled_from([0, 1_000_000, 3_000_000]))
    prio = draw(st.sampled_from([0, 1, 50, 100, 200, 254, 255]))
    src = draw(st.sampled_from(addrs))
    aint = draw(st.sampled_from([10, 100, 50]))
    return view, now, prio, src, aint


@settings(max_examples=1500, deadline=None)
@given(cases())
def test_native_predicate_is_the_state_machines(case):
    view, now, prio, src, aint = case
    want = classify_advert(view, now, prio, int(ipaddress.ip_address(src)), aint)
    address = str(ipaddress.ip_address(view.address) if ":" not in src
                  else ipaddress.IPv6Address(view.address))
    got = fastka.native.vloop_classify(int(view.state), view.version, view.priority, view.preempt,
                                       view.master_adver_int_cs, address, view.preempt_delay, view.preempt_until,
                                       view.master_down_interval, now, prio, src, aint)
    assert got == int(want)


def test_a_full_event_array_leaves_datagrams_in_the_socket():
    """The native loop reads no more datagrams than it has event slots for: with room for
    two events, ten priority-0 adverts (each one an event) all come out, two per poll,
    none read and dropped. In a namespace of the test's own, on its loopback."""
    import socket
    import time

    from fastka.wire import build_advert

    from ..netns import in_netns, ip, netns, skip_unless_netns

    skip_unless_netns()
    native = fastka.native
    with netns("fk-fpe") as ns:
        ip("-n", ns, "link", "set", "lo", "up")

        def run() -> tuple[int, int, list[int]]:
            rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
            try:
                rx.setsockopt(socket.IPPROTO_IP, 8, 1)  # IP_PKTINFO
                tx.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
                rx.setblocking(False)
                wheel = native.TimerWheel(3, start_ns=native.vloop_now_ns())
                loop = native.VrrpLoop(1, wheel, max_events=2)
                loop.set_socket(0, rx.fileno())
                loop.set_instance(0, socket.if_nametoindex("lo"), 4, 51, 0, 0, b"", False, 0)
                loop.set_view(0, int(State.BACKUP), 3, 100, True, 100, ipaddress.ip_address("127.0.0.2").packed,
                              0, -1, 3_600_000)
                advert = build_advert(version=3, vrid=51, priority=0, advert_int_cs=100, addresses=["10.0.0.1"],
                                      src="127.0.0.1", dst="127.0.0.1")
                for _ in range(10):
                    tx.sendto(advert, ("127.0.0.1", 0))
                time.sleep(0.05)
                sizes = []
                end = time.monotonic() + 5
                while sum(sizes) < 10 and time.monotonic() < end:
                    events = loop.poll(native.vloop_now_ns() + 50_000_000)
                    sizes.append(len(events))
                return sum(sizes), loop.stats()["datagrams"], sizes
            finally:
                rx.close()
                tx.close()

        events, datagrams, sizes = in_netns(ns, run)
    assert events == datagrams == 10, (events, datagrams, sizes)
    assert max(sizes) == 2
