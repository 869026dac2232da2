"""A backup re-arms Master_Down from the kernel's receive time of the advert
(SO_TIMESTAMPNS), not from when its loop got round to reading it: the deadline is
arrival + Master_Down_Interval however late the read. Both loops (the native one and
its Python twin), an engine in a namespace of the test's own, real adverts from a
second namespace over a veth pair."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from fastka.config import load_text
from fastka.wire import build_advert

from ..netns import in_netns, ip, netns, skip_unless_netns

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

A4, B4, MCAST4 = "198.18.1.1", "198.18.1.2", "224.0.0.18"
MDI_US = 3 * 100_000 + (256 - 100) * 100_000 // 256  # Master_Down_Interval at priority 100, 0.1 s

CONFIG = """
vrrp_instance VI_1 {
    state BACKUP
    interface vb
    virtual_router_id 51
    priority 100
    advert_int 0.1
    version 3
    virtual_ipaddress {
        10.98.0.1/32
    }
}
"""


ADVERT = build_advert(version=3, vrid=51, priority=200, advert_int_cs=10, addresses=["10.98.0.1"], src=A4,
                      dst=MCAST4)  # a master's, from a


def pair(a: str, b: str) -> None:
    """va in a, vb in b, addressed and up; back once vb has carrier (else the instance
    starts in FAULT)."""
    ip("link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b)
    for ns, dev, addr in ((a, "va", A4), (b, "vb", B4)):
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
        ip("-n", ns, "link", "set", dev, "up")
    end = time.monotonic() + 10
    while "LOWER_UP" not in ip("-n", b, "link", "show", "vb"):
        assert time.monotonic() < end, "vb has no carrier"
        time.sleep(0.02)


def sender() -> socket.socket:
    """A raw VRRP socket sending from A4 (made in a's namespace: in_netns)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(A4))
    return s


def test_master_down_counts_from_the_adverts_arrival(loop_kind):
    skip_unless_netns()
    from fastka.vrrp.engine import TIMERS_PER_INSTANCE, Engine

    with netns("fk-rma") as a, netns("fk-rmb") as b:
        pair(a, b)
        config = load_text(CONFIG).config
        advert = ADVERT

        def run() -> tuple[int, int, int, dict]:
            engine = Engine(config)
            try:
                assert engine.loop_kind == loop_kind
                engine.start()
                time.sleep(0.05)  # the kernel turns receive stamping on from a work item
                with contextlib.closing(in_netns(a, sender)) as tx:
                    engine.step(0)  # whatever start left to do
                    sent_before = time.monotonic_ns()
                    tx.sendto(advert, (MCAST4, 0))
                    sent_after = time.monotonic_ns()
                    time.sleep(0.15)  # read late: 150 ms after it arrived
                    engine.step(0)
                i = engine.instances[0]
                assert i.state.name == "BACKUP"
                deadline = engine.wheel.deadline(TIMERS_PER_INSTANCE * i.index + 1)
                assert deadline is not None
                return sent_before, sent_after, deadline, {**engine.instance_counters(i), **engine.loop_counters()}
            finally:
                engine.stop()
                engine.close()

        sent_before, sent_after, deadline, counters = in_netns(b, run)
        assert counters.get("rx") == 1, counters
        assert "rx_unstamped" not in counters, counters
        # armed at arrival (within the send, on a veth) + Master_Down_Interval, to the
        # wheel's 0.1 ms tick; reading it 150 ms later would have put it 150 ms later
        assert sent_before + MDI_US * 1000 - 200_000 <= deadline <= sent_after + MDI_US * 1000 + 20_000_000


def test_takeover_goes_to_the_kernel_before_the_state_machine(loop_kind):
    """With no master, Master_Down makes the backup master: its advert and VIP are
    sent ahead of its state machine (engine._take_early), once each, and the state
    machine's own advert and VIP requests are left out."""
    skip_unless_netns()
    from fastka.vrrp.engine import Engine

    with netns("fk-rmc") as c:
        ip("link", "add", "vb", "netns", c, "type", "veth", "peer", "name", "vp", "netns", c)
        ip("-n", c, "addr", "add", f"{B4}/24", "dev", "vb")
        for dev in ("vb", "vp"):
            ip("-n", c, "link", "set", dev, "up")
        end = time.monotonic() + 10
        while "LOWER_UP" not in ip("-n", c, "link", "show", "vb"):
            assert time.monotonic() < end, "vb has no carrier"
            time.sleep(0.02)
        config = load_text(CONFIG).config

        def run() -> tuple[dict, list, bool, str]:
            engine = Engine(config)
            try:
                engine.start()
                i = engine.instances[0]
                end = time.monotonic() + 5
                while i.state.name != "MASTER":
                    assert time.monotonic() < end, "no takeover"
                    engine.step(0.01)
                nl_left = list(engine._nl)  # nothing left for the flush: done before the state machine
                held = ip("-n", c, "addr", "show", "dev", "vb")
                return engine.instance_counters(i), nl_left, i.taken_early, held
            finally:
                engine.stop()
                engine.close()

        counters, nl_left, flag, held = in_netns(c, run)
        assert "10.98.0.1/32" in held
        assert counters.get("became_master") == 1, counters
        assert counters.get("adverts_sent") == 1, counters  # the early one; the state machine's left out
        assert nl_left == [] and flag is False
        assert "10.98.0.1" not in ip("-n", c, "addr", "show", "dev", "vb")


def test_a_held_up_loop_reads_the_adverts_before_its_timers(loop_kind):
    """A backup's loop held up for longer than Master_Down_Interval while its master
    kept sending (a slow step, a reload, the CPU taken): when it runs again, the adverts
    that came meanwhile are read before Master_Down fires, and it stays backup. Before,
    the timers fired first and every instance of such a backup took over."""
    skip_unless_netns()
    import threading

    from fastka.vrrp.engine import Engine

    with netns("fk-rms") as a, netns("fk-rmt") as b:
        pair(a, b)
        config = load_text(CONFIG).config
        advert = ADVERT
        stop = threading.Event()
        sent = [0]

        def master(tx: socket.socket) -> None:
            while not stop.wait(0.1):
                tx.sendto(advert, (MCAST4, 0))
                sent[0] += 1

        def run() -> tuple[str, dict, int]:
            engine = Engine(config)
            try:
                assert engine.loop_kind == loop_kind
                engine.start()
                i = engine.instances[0]
                end = time.monotonic() + 1.0
                while time.monotonic() < end:
                    engine.step(0.01)
                assert i.state.name == "BACKUP"
                before = engine.instance_counters(i).get("rx", 0)
                time.sleep(1.0)  # held up: about 10 adverts queue on the socket, Master_Down is long due
                end = time.monotonic() + 0.5
                while time.monotonic() < end:
                    engine.step(0.01)
                counters = {**engine.instance_counters(i), **engine.loop_counters()}
                return i.state.name, counters, counters.get("rx", 0) - before
            finally:
                engine.stop()
                engine.close()

        with contextlib.closing(in_netns(a, sender)) as tx:
            t = threading.Thread(target=master, args=(tx,), daemon=True)
            t.start()
            try:
                state, counters, read = in_netns(b, run)
            finally:
                stop.set()
                t.join(5)
        assert sent[0] >= 20
        assert state == "BACKUP", counters
        assert "became_master" not in counters, counters
        assert read >= 12, counters  # the queued ones and those after
