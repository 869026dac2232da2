"""An interface an instance runs on is deleted and made again (a VLAN or bond re-created,
a veth re-plugged): it comes back with a new index. As keepalived 2.2.7 does (observed:
FAULT while it is gone, then BACKUP and MASTER on the new one), the instance follows the
interface by its name: fastka rebuilds its instances from the running configuration
(reload.refresh) and its VIP goes on the new interface; a VMAC, deleted with its parent,
is made again on the new parent. Both loops; an engine in a namespace of the test's own."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fastka.config import load_text

from ..netns import in_netns, ip, netns, skip_unless_netns

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

VIP = "10.66.0.100"


def config(extra: str = "") -> str:
    return f"""
vrrp_instance VI_1 {{
    state BACKUP
    interface vA
    virtual_router_id 51
    priority 100
    advert_int 0.1
    version 3
{extra}    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"""


def make(ns: str) -> int:
    ip("-n", ns, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
    for dev in ("vA", "vB"):
        ip("-n", ns, "link", "set", dev, "up")
    ip("-n", ns, "addr", "add", "10.66.0.1/24", "dev", "vA")
    out = ip("-n", ns, "-o", "link", "show", "vA")
    return int(out.split(":", 1)[0])


@contextlib.contextmanager
def running(text: str, loop_kind: str) -> Iterator[Any]:
    """An Engine on this configuration, started, on the loop the test asked for;
    stopped and closed at the end."""
    from fastka.vrrp.engine import Engine

    engine = Engine(load_text(text).config)
    try:
        assert engine.loop_kind == loop_kind
        engine.start()
        yield engine
    finally:
        engine.stop()
        engine.close()


def run_until(engine, pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, what
        engine.step(0.01)


@pytest.mark.parametrize("vmac", [False, True], ids=["plain", "vmac"])
def test_an_interface_made_again_is_followed_by_name(loop_kind, vmac):
    skip_unless_netns()
    with netns("fk-mka") as ns:
        first = make(ns)
        holder = "vrrp.51" if vmac else "vA"

        def has_vip() -> bool:
            return f"{VIP}/24" in ip("-n", ns, "addr", "show")

        def run() -> tuple[list[str], int, str]:
            with running(config("    use_vmac\n" if vmac else ""), loop_kind) as engine:
                i = engine.instances[0]
                run_until(engine, lambda: i.state.name == "MASTER" and has_vip(), 5, "first MASTER")
                ip("-n", ns, "link", "del", "vA")
                run_until(engine, lambda: engine.instances[0].state.name == "FAULT", 5, "FAULT while vA is gone")
                for _ in range(20):  # a while without vA: it stays in FAULT
                    engine.step(0.01)
                assert engine.instances[0].state.name == "FAULT"
                second = make(ns)
                assert second != first
                run_until(engine, lambda: engine.instances[0].state.name == "MASTER" and has_vip(), 5,
                          "MASTER again on the new vA")
                states = [engine.instances[0].state.name]
                for _ in range(30):  # and stays there
                    engine.step(0.01)
                states.append(engine.instances[0].state.name)
                link = ip("-n", ns, "-d", "link", "show", holder)
                return states, second, ip("-n", ns, "-o", "addr", "show", "dev", holder) + link

        states, second, addrs = in_netns(ns, run)  # addrs: the holder's addresses and link
        assert states == ["MASTER", "MASTER"]
        assert f"{VIP}/24" in addrs, addrs
        if vmac:  # made again on the new vA, with the virtual MAC
            assert "vrrp.51@vA" in addrs and "00:00:5e:00:01:33" in addrs, addrs
        assert f"{VIP}/24" not in ip("-n", ns, "addr", "show"), "the VIP went at stop"


def test_a_vips_interface_made_again_gets_the_vip_back(loop_kind):
    """VI_1 runs on vA (master throughout); its second VIP lives on vC (dev vC). vC is
    deleted and made again: the VIP goes on the new vC."""
    skip_unless_netns()
    with netns("fk-mkc") as ns:
        make(ns)
        ip("-n", ns, "link", "add", "vC", "type", "veth", "peer", "name", "vD")

        def up_c() -> None:
            for dev in ("vC", "vD"):
                ip("-n", ns, "link", "set", dev, "up")

        up_c()
        text = config().replace(f"        {VIP}/24\n", f"        {VIP}/24\n        10.67.0.100/24 dev vC\n")

        def on_c() -> bool:
            return "10.67.0.100/24" in ip("-n", ns, "addr", "show", "dev", "vC")

        def run() -> list[str]:
            with running(text, loop_kind) as engine:
                i = engine.instances[0]
                run_until(engine, lambda: i.state.name == "MASTER" and on_c(), 5, "MASTER with the VIP on vC")
                ip("-n", ns, "link", "del", "vC")
                for _ in range(20):
                    engine.step(0.01)
                ip("-n", ns, "link", "add", "vC", "type", "veth", "peer", "name", "vD")
                up_c()
                run_until(engine, on_c, 5, "the VIP on the new vC")
                states = []
                for _ in range(30):
                    engine.step(0.01)
                    states.append(engine.instances[0].state.name)
                return states

        states = in_netns(ns, run)
        assert set(states) == {"MASTER"}, "VI_1 stayed master on vA"


@pytest.mark.parametrize("mode", ["plain", "protodown"])
def test_a_vip_deleted_by_someone_else_is_added_again(loop_kind, mode):
    """A master's VIP deleted with `ip addr del` is added again (keepalived 2.2.7 does it
    by going BACKUP and MASTER again; fastka without a transition), and counted; so is
    a vmac_protodown VIP on its VMAC. The VIPs fastka deletes itself (at stop) stay
    deleted."""
    skip_unless_netns()
    extra = "    use_vmac\n    vmac_protodown\n" if mode == "protodown" else ""
    holder = "vrrp.51" if mode == "protodown" else "vA"
    with netns("fk-mkd") as ns:
        make(ns)

        def has_vip() -> bool:
            return f"{VIP}/24" in ip("-n", ns, "addr", "show", "dev", holder)

        def run() -> tuple[list[str], dict]:
            with running(config(extra), loop_kind) as engine:
                i = engine.instances[0]
                run_until(engine, lambda: i.state.name == "MASTER" and has_vip(), 5, "MASTER with its VIP")
                for _ in range(2):
                    ip("-n", ns, "addr", "del", f"{VIP}/24", "dev", holder)
                    assert not has_vip()
                    run_until(engine, has_vip, 5, "the VIP added again")
                states = []
                for _ in range(20):
                    engine.step(0.01)
                    states.append(i.state.name)
                return states, engine.instance_counters(i)

        states, counters = in_netns(ns, run)
        assert set(states) == {"MASTER"}, "no transition"
        assert counters.get("vips_restored") == 2, counters
        assert counters.get("became_master") == 1, counters
        assert f"{VIP}/24" not in ip("-n", ns, "addr", "show")


def _queued(s, parse) -> tuple[list[int], list]:
    """What a non-blocking netlink socket holds: each datagram's first message type, and
    what parse makes of them all."""
    kinds, out = [], []
    while True:
        try:
            data = s.recv(1 << 16)
        except BlockingIOError:
            return kinds, out
        kinds.append(int.from_bytes(data[4:6], "little"))
        out += list(parse(data))


def test_the_deleted_addresses_socket_passes_only_deletes():
    """Its socket filter keeps RTM_NEWADDR out: a failover's added VIPs queue nothing."""
    skip_unless_netns()
    from fastka.vrrp import netlink

    with netns("fk-mke") as ns:
        make(ns)

        def run() -> list[tuple[int, bytes]]:
            s = netlink.deleted_addresses_socket()
            try:
                for k in range(3):
                    ip("-n", ns, "addr", "add", f"10.66.1.{k + 1}/32", "dev", "vA")
                ip("-n", ns, "addr", "del", "10.66.1.2/32", "dev", "vA")
                time.sleep(0.1)
                kinds, got = _queued(s, netlink.deleted_addresses)
                assert kinds == [netlink.RTM_DELADDR], kinds
                return got
            finally:
                s.close()

        got = in_netns(ns, run)
        index = int(ip("-n", ns, "-o", "link", "show", "vA").split(":", 1)[0])
        assert got == [(index, bytes([10, 66, 1, 2]))]


def test_a_static_address_deleted_by_someone_else_is_added_again(loop_kind):
    """static_ipaddress stays for as long as fastka runs: deleted, it is added again
    (keepalived 2.2.7, observed, does the same); at stop it goes."""
    skip_unless_netns()
    static = "static_ipaddress {\n    10.66.5.5/24 dev vA\n}\n"
    with netns("fk-mks") as ns:
        make(ns)

        def has_static() -> bool:
            return "10.66.5.5/24" in ip("-n", ns, "addr", "show", "dev", "vA")

        def run() -> dict:
            with running(static + config(), loop_kind) as engine:
                run_until(engine, has_static, 5, "the static address")
                ip("-n", ns, "addr", "del", "10.66.5.5/24", "dev", "vA")
                assert not has_static()
                run_until(engine, has_static, 5, "the static address added again")
                return engine.loop_counters()

        counters = in_netns(ns, run)
        assert counters.get("static_addresses_restored") == 1, counters
        assert "10.66.5.5" not in ip("-n", ns, "addr", "show")


def test_an_interface_made_again_without_its_address_yet(loop_kind):
    """The new vA comes up before its address is added (as a network manager may do it):
    the first rebuild is refused (no address to send adverts from) and tried again until
    it goes; the instance then leaves FAULT."""
    skip_unless_netns()
    with netns("fk-mkf") as ns:
        make(ns)

        def has_vip() -> bool:
            return f"{VIP}/24" in ip("-n", ns, "addr", "show", "dev", "vA")

        def run() -> str:
            with running(config(), loop_kind) as engine:
                run_until(engine, lambda: engine.instances[0].state.name == "MASTER" and has_vip(), 5, "MASTER")
                ip("-n", ns, "link", "del", "vA")
                run_until(engine, lambda: engine.instances[0].state.name == "FAULT", 5, "FAULT")
                ip("-n", ns, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
                for dev in ("vA", "vB"):
                    ip("-n", ns, "link", "set", dev, "up")
                end = time.monotonic() + 0.5
                while time.monotonic() < end:  # the rebuild is tried, and refused, meanwhile
                    engine.step(0.01)
                assert engine.instances[0].state.name == "FAULT"
                ip("-n", ns, "addr", "add", "10.66.0.1/24", "dev", "vA")
                run_until(engine, lambda: engine.instances[0].state.name == "MASTER" and has_vip(), 8,
                          "MASTER once vA has its address")
                return engine.instances[0].state.name

        assert in_netns(ns, run) == "MASTER"


def test_the_deletions_socket_passes_keepalived_route_and_rule_deletes_only():
    """Once it follows routes and rules: a deleted route of protocol keepalived and a
    deleted rule pass, each read back by its key; a deleted address's local route (the
    kernel's) and every add stay out."""
    skip_unless_netns()
    from fastka.vrrp import netlink

    with netns("fk-mkr") as ns:
        make(ns)

        def run() -> tuple[list[int], list[tuple]]:
            s = netlink.deleted_addresses_socket()
            try:
                netlink.follow_route_deletes(s)
                ip("-n", ns, "addr", "add", "10.66.2.1/32", "dev", "vA")
                ip("-n", ns, "route", "add", "10.67.0.0/16", "dev", "vA", "protocol", "keepalived", "table", "7")
                ip("-n", ns, "route", "add", "10.68.0.0/16", "dev", "vA")
                ip("-n", ns, "rule", "add", "from", "10.66.2.1", "table", "7", "priority", "77")
                ip("-n", ns, "route", "del", "10.68.0.0/16")
                ip("-n", ns, "route", "del", "10.67.0.0/16", "table", "7")
                ip("-n", ns, "rule", "del", "priority", "77")
                ip("-n", ns, "addr", "del", "10.66.2.1/32", "dev", "vA")
                time.sleep(0.1)
                return _queued(s, netlink.deleted_routes)
            finally:
                s.close()

        kinds, keys = in_netns(ns, run)
        assert kinds == [netlink.RTM_DELROUTE, netlink.RTM_DELRULE, netlink.RTM_DELADDR], kinds
        assert keys == [("route", socket.AF_INET, socket.inet_aton("10.67.0.0"), 16, 7), ("rule", socket.AF_INET, 77)]
