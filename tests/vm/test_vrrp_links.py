"""VRRP features that need kernel modules this host lacks, in the QEMU guest (Debian's
kernel): use_ipvlan (ipvlan) and routes in a VRF (vrf). Namespaces as in tests/vrrp,
with Debian's keepalived as the peer where it runs the same configuration."""

from __future__ import annotations

import ipaddress
import socket
import struct
import time

import pytest

from ..netns import in_netns, ip
from ..vrrp.cluster import instance, lan, need_keepalived, wait_for

pytestmark = [pytest.mark.guest, pytest.mark.timeout(600)]

VIP = "10.99.0.100"
SLOW = 60  # the guest runs under TCG: Python starts in seconds there


def advert_sources(ns: str, family: int, seconds: float = 3.0) -> set[str]:
    """The sources of the VRRP packets namespace ns receives for a while."""

    def listen() -> set[str]:
        fam = socket.AF_INET6 if family == 6 else socket.AF_INET
        with socket.socket(fam, socket.SOCK_RAW, 112) as s:
            if family == 4:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                             socket.inet_aton("224.0.0.18") + struct.pack("=4si", bytes(4),
                                                                          socket.if_nametoindex("eth0")))
            else:
                group = socket.inet_pton(socket.AF_INET6, "ff02::12")
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                             group + struct.pack("=I", socket.if_nametoindex("eth0")))
            s.settimeout(0.5)
            out, end = set(), time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    _, addr = s.recvfrom(2048)
                except TimeoutError:
                    continue
                out.add(addr[0].split("%")[0])
            return out

    return in_netns(ns, listen, timeout=seconds + 30)


def link(ns: str, name: str) -> str:
    return ip("-n", ns, "-d", "-o", "link", "show", "dev", name)


def test_use_ipvlan_ipv4_with_keepalived_as_the_peer(tmp_path):
    """fastka's ipvlan is what keepalived makes of the same line: mode l2 with the flags
    asked for, the address on it and the adverts from it, the VIPs on the parent; the
    two fail over both ways; at stop the ipvlan is gone."""
    need_keepalived()
    with lan(tmp_path, ["a", "k"]) as net:
        a, k = net.nodes
        k.kind = "keepalived"
        a.start(instance(priority=200, extra="use_ipvlan ipv51 10.99.0.51/24 private"))
        k.start(instance(priority=100, extra="use_ipvlan ipk51 10.99.0.52/24 private"))
        wait_for(lambda: net.holders(VIP) == ["a"], SLOW, "fastka to be master")
        mine, theirs = link(a.ns, "ipv51"), link(k.ns, "ipk51")
        for text in (mine, theirs):
            assert "ipvlan" in text and "mode l2 private" in text, text
        assert "10.99.0.51/24" in ip("-n", a.ns, "-o", "addr", "show", "dev", "ipv51")
        assert advert_sources(k.ns, 4) == {"10.99.0.51"}
        assert VIP in a.addresses("eth0")
        a.kill()
        wait_for(lambda: k.has(VIP), SLOW, "keepalived to take over")
        assert advert_sources(a.ns, 4) == {"10.99.0.52"}
        ip("-n", a.ns, "addr", "del", f"{VIP}/24", "dev", "eth0")  # left behind by the SIGKILL
        a.start(instance(priority=200, extra="use_ipvlan ipv51 10.99.0.51/24 private"))
        wait_for(lambda: a.has(VIP) and not k.has(VIP), SLOW, "fastka to preempt")
        assert a.stop(timeout=60) == 0
        assert "ipv51" not in ip("-n", a.ns, "-o", "link", "show")


def test_use_ipvlan_ipv6_without_an_address(tmp_path):
    """An IPv6 instance's ipvlan without an address gets a link-local of its own (the
    parent's MAC with 00:01 between its halves, as keepalived makes it): the adverts
    come from it, and keepalived's backup takes them."""
    need_keepalived()
    v6 = dict(vips=("fd00:99::100/64",), extra="use_ipvlan")
    with lan(tmp_path, ["a", "k"]) as net:
        a, k = net.nodes
        k.kind = "keepalived"
        a.start(instance(priority=200, **v6))
        k.start(instance(priority=100, **v6))
        wait_for(lambda: net.holders("fd00:99::100") == ["a"], SLOW, "fastka to be the IPv6 master")
        for n, name in ((a, "vrrp.51"), (k, "vrrp.51")):
            mac = bytes.fromhex(ip("-n", n.ns, "-br", "link", "show", "dev", "eth0").split()[2].replace(":", ""))
            want = str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + mac[:3] + b"\x00\x01" + mac[3:]))
            got = ip("-n", n.ns, "-6", "-o", "addr", "show", "dev", name)
            assert f"{want}/64 scope link" in got, (n.kind, want, got)
            if n is a:
                assert advert_sources(k.ns, 6) == {want}
        a.kill()
        wait_for(lambda: k.has("fd00:99::100"), SLOW, "keepalived to take over")


def test_route_in_a_vrf_goes_in_the_vrfs_table(tmp_path):
    """static_routes / virtual_routes ``vrf NAME``: the route goes in the VRF's table, as
    ``ip route add ... vrf NAME`` puts it (the VRF device made with table 1010)."""
    with lan(tmp_path, ["a"]) as net:
        a, = net.nodes
        ip("-n", a.ns, "link", "add", "blue", "type", "vrf", "table", "1010")
        ip("-n", a.ns, "link", "set", "blue", "up")
        virtual = "virtual_routes {\n    10.61.0.0/24 via 10.99.0.254 dev eth0 vrf blue\n}"
        a.start("static_routes {\n    10.60.0.0/24 via 10.99.0.254 dev eth0 vrf blue\n}\n"
                + instance(priority=200, extra=virtual))
        wait_for(lambda: a.has(VIP), SLOW, "a to be master")
        wait_for(lambda: "10.61.0.0/24" in ip("-n", a.ns, "route", "show", "table", "1010"), 10, "the virtual route")
        got = ip("-n", a.ns, "route", "show", "table", "1010")
        assert "10.60.0.0/24 via 10.99.0.254 dev eth0 proto keepalived" in got, got
        assert "10.61.0.0/24 via 10.99.0.254 dev eth0 proto keepalived" in got, got
        assert "10.60.0.0" not in ip("-n", a.ns, "route", "show")  # not in main
        ip("-n", a.ns, "route", "add", "10.62.0.0/24", "via", "10.99.0.254", "dev", "eth0", "vrf", "blue")
        assert "10.62.0.0/24 via 10.99.0.254 dev eth0" in ip("-n", a.ns, "route", "show", "table", "1010")
        assert a.stop(timeout=60) == 0
        assert "10.60.0.0" not in ip("-n", a.ns, "route", "show", "table", "1010")


def test_unicast_instance_without_an_interface_in_a_vrf(tmp_path):
    """keepalived.conf(5): a unicast instance without an interface may name the VRF it
    runs in: its adverts go by the VRF's routes (none in the default table reach the
    peer), from the address routing picks there; those of its peer arrive on the VRF's
    interface. Two fastka nodes, each with its eth0 in a VRF: election, failover."""
    with lan(tmp_path, ["a", "b"]) as net:
        for n in net.nodes:
            ip("-n", n.ns, "link", "add", "blue", "type", "vrf", "table", "10")
            ip("-n", n.ns, "link", "set", "blue", "up")
            ip("-n", n.ns, "link", "set", "eth0", "master", "blue")  # its routes move to table 10
        a, b = net.nodes
        assert "10.99.0.0/24" not in ip("-n", a.ns, "route", "show")

        def conf(n, priority) -> str:
            peer = b if n is a else a
            return instance(priority=priority, interface=None, vips=("10.99.0.100/24 dev eth0",),
                            unicast=(n.ipv4, [peer.ipv4]), extra="vrf blue").replace(
                f"    unicast_src_ip {n.ipv4}\n", "")

        a.start(conf(a, 200))
        b.start(conf(b, 100))
        wait_for(lambda: a.has(VIP), SLOW, "a to be master")
        time.sleep(3)
        assert not b.has(VIP), "b hears a's adverts through the VRF"
        st = b.stats()["instances"][0]
        assert st["state"] == "BACKUP" and st["counters"].get("rx", 0) > 0, st
        a.kill()
        wait_for(lambda: b.has(VIP), SLOW, "b to take over")
        assert b.stop(timeout=60) == 0
