"""use_vmac and vmac_protodown with real namespaces: the link requests against the kernel,
two fastka nodes on one LAN and a third namespace as the client that reaches the VIPs
(ICMP echo, with the ARP replies it gets counted), and Debian's keepalived as a peer."""

from __future__ import annotations

import json
import select
import socket
import struct
import subprocess
import time

import pytest

from fastka.vrrp import netlink

from ..netns import in_netns, ip, netns, skip_unless_netns
from .cluster import instance, lan, need_keepalived, wait_for

pytestmark = pytest.mark.timeout(120)

VIP, VIP2, VIP6 = "10.99.0.100", "10.99.0.101", "fd00:99::100"
MAC4, MAC6 = "00:00:5e:00:01:33", "00:00:5e:00:02:34"  # VRID 51 (IPv4), 52 (IPv6)


def config(priority: int, protodown: bool = False, extra: str = "") -> str:
    more = "use_vmac\n" + ("vmac_protodown\n" if protodown else "") + extra
    return (instance(name="V4", vrid=51, priority=priority, vips=(f"{VIP}/24", f"{VIP2}/24"), extra=more)
            + instance(name="V6", vrid=52, priority=priority, vips=(f"{VIP6}/64",), extra=more))


def link(ns: str, dev: str) -> dict | None:
    """`ip -d -j link show dev` as a dict, or None if there is no such link."""
    try:
        out = ip("-n", ns, "-d", "-j", "link", "show", "dev", dev)
    except Exception:
        return None
    return json.loads(out)[0]


def addrs(ns: str, dev: str) -> set[str]:
    """The addresses on dev (none while it does not exist)."""
    try:
        out = ip("-n", ns, "-o", "addr", "show", "dev", dev)
    except Exception:
        return set()
    return {line.split()[3].split("/")[0] for line in out.splitlines()}


def carrier(ns: str, dev: str) -> bool:
    info = link(ns, dev)
    return info is not None and "LOWER_UP" in info["flags"]


def sysctl(ns: str, key: str) -> str:
    return ip("netns", "exec", ns, "sysctl", "-n", key).strip()


def probe(ns: str, vip: str, timeout: float = 2.0) -> tuple[bool, list[str]]:
    """From namespace ns (neighbours flushed first): an ICMP echo to vip. Whether it was
    answered, and the sender MAC of every ARP reply for vip seen meanwhile on eth0."""
    ip("-n", ns, "neigh", "flush", "all")

    def run() -> tuple[bool, list[str]]:
        arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
        arp.bind(("eth0", 0x0806))
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        try:
            body = b"fastka-probe"
            hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1)
            csum = sum(struct.unpack("!%dH" % ((len(hdr) + len(body)) // 2), hdr + body))
            csum = (csum >> 16) + (csum & 0xFFFF)
            csum = ~(csum + (csum >> 16)) & 0xFFFF
            icmp.sendto(struct.pack("!BBHHH", 8, 0, csum, 0x4242, 1) + body, (vip, 0))
            answered, macs = False, []
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                r, _, _ = select.select([arp, icmp], [], [], max(0.0, end - time.monotonic()))
                if arp in r:
                    f = arp.recv(100)
                    op, sha, spa = struct.unpack_from("!H6s4s", f, 20)
                    if op == 2 and socket.inet_ntoa(spa) == vip:
                        macs.append(":".join(f"{b:02x}" for b in sha))
                if icmp in r:
                    d = icmp.recv(200)
                    ihl = (d[0] & 15) * 4
                    if d[ihl] == 0 and d[12:16] == socket.inet_aton(vip) and d[ihl + 4:ihl + 6] == b"\x42\x42":
                        answered = True
                        end = min(end, time.monotonic() + 0.3)  # a late second ARP reply is still counted
            return answered, macs
        finally:
            arp.close()
            icmp.close()

    return in_netns(ns, run)


def probe6(ns: str, vip: str, timeout: float = 2.0) -> bool:
    ip("-n", ns, "neigh", "flush", "all")

    def run() -> bool:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        try:
            s.settimeout(timeout)
            s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x4343, 1) + b"p6", (vip, 0))
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    d, src = s.recvfrom(200)
                except socket.timeout:
                    return False
                if d[0] == 129 and d[4:6] == b"\x43\x43":
                    return True
            return False
        finally:
            s.close()

    return in_netns(ns, run)


def neigh_mac(ns: str, addr: str) -> str:
    out = ip("-n", ns, "neigh", "show", addr).split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else ""


# --- the link requests against the kernel --------------------------------------------


def test_macvlan_requests_against_the_kernel():
    skip_unless_netns()
    with netns("fk-vmac") as ns:
        ip("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        base = json.loads(ip("-n", ns, "-j", "link", "show", "v0"))[0]["ifindex"]
        mac = bytes((0, 0, 0x5E, 0, 1, 7))

        def work() -> dict:
            rtnl = netlink.Rtnl()
            out: dict = {}
            try:
                out["create"] = rtnl.execute([(netlink.RTM_NEWLINK, netlink.pack_macvlan("vrrp.7", base, mac,
                                                                                          "private", 1), [1])])
                out["again"] = rtnl.execute([(netlink.RTM_NEWLINK, netlink.pack_macvlan("vrrp.7", base, mac,
                                                                                         "private", 2), [2])])
                info = netlink.get_link("vrrp.7")
                assert info is not None
                out["info"] = info
                out["missing"] = netlink.get_link("nosuch0")
                out["pd"] = rtnl.execute([(netlink.RTM_NEWLINK, netlink.pack_proto_down(info.index, True, 3), [3]),
                                          (netlink.RTM_NEWLINK, netlink.pack_link_up(info.index, True, 4), [4])])
                out["info_pd"] = netlink.get_link("vrrp.7")
                out["ipd"] = ip("-n", ns, "-d", "-j", "link", "show", "vrrp.7")
                out["up"] = rtnl.execute([(netlink.RTM_NEWLINK, netlink.pack_proto_down(info.index, False, 5), [5])])
                out["ipu"] = ip("-n", ns, "-d", "-j", "link", "show", "vrrp.7")
                out["del"] = rtnl.execute([(netlink.RTM_DELLINK, netlink.pack_dellink(info.index, 6), [6])])
                out["del_again"] = rtnl.execute([(netlink.RTM_DELLINK, netlink.pack_dellink(info.index, 7), [7])])
                out["gone"] = netlink.get_link("vrrp.7")
            finally:
                rtnl.close()
            return out

        out = in_netns(ns, work)
        assert out["create"] == []
        assert out["again"] == [(2, 17)], "creating an existing link is EEXIST, reported"
        info = out["info"]
        assert (info.kind, info.parent, info.mac, info.mode) == ("macvlan", base, mac, netlink.MACVLAN_MODES["private"])
        assert out["missing"] is None
        assert out["pd"] == [] and out["info_pd"].proto_down
        d = json.loads(out["ipd"])[0]
        assert d["linkinfo"]["info_kind"] == "macvlan" and d["linkinfo"]["info_data"]["mode"] == "private"
        assert d["address"] == "00:00:5e:00:01:07" and d.get("proto_down") is True
        assert "UP" in d["flags"] and "LOWER_UP" not in d["flags"], "protodown: up, no carrier"
        u = json.loads(out["ipu"])[0]
        assert out["up"] == [] and not u.get("proto_down") and "LOWER_UP" in u["flags"]
        assert out["del"] == [] and out["del_again"] == [], "deleting a missing link is not an error"
        assert out["gone"] is None


# --- use_vmac: two fastka nodes ------------------------------------------------------


def test_use_vmac_failover_and_removal(tmp_path, loop_kind):
    with lan(tmp_path, ["a", "b", "c"]) as net:
        a, b, c = net.nodes
        a.start(config(200))
        b.start(config(100))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51") and VIP6 in addrs(a.ns, "vrrp.52"), 10,
                 "a to hold its VIPs on its VMACs")
        wait_for(lambda: "Entering BACKUP STATE" in b.log_text(), 5, "b to be backup")
        time.sleep(0.5)  # b hears a's adverts (sent from the VMAC, received on b's VMAC)
        for n, holds in ((a, True), (b, False)):
            v4, v6 = link(n.ns, "vrrp.51"), link(n.ns, "vrrp.52")
            assert v4 and v6, f"{n.name} made both VMACs"
            assert v4["address"] == MAC4 and v6["address"] == MAC6
            assert v4["linkinfo"]["info_data"]["mode"] == "private" and v4["link"] == "eth0"
            assert "LOWER_UP" in v4["flags"], "a backup's VMAC is up too, as keepalived's"
            assert (VIP in addrs(n.ns, "vrrp.51")) == holds and (VIP6 in addrs(n.ns, "vrrp.52")) == holds
            assert VIP not in n.addresses("eth0") and VIP6 not in n.addresses("eth0")
            # IPv6: the base's link-local is on the VMAC (adverts leave by it from that address)
            ll = [x for x in n.addresses("eth0") if x.startswith("fe80:")]
            assert ll and ll[0] in addrs(n.ns, "vrrp.52")
            assert sysctl(n.ns, "net.ipv4.conf.eth0.arp_ignore") == "1"
            assert sysctl(n.ns, "net.ipv4.conf.vrrp/51.arp_ignore") == "1"
            assert sysctl(n.ns, "net.ipv6.conf.vrrp/51.disable_ipv6") == "1"
        assert "Entering MASTER STATE" not in b.log_text().split("Entering BACKUP STATE")[-1]
        answered, macs = probe(c.ns, VIP)
        assert answered and macs and set(macs) == {MAC4}, "only the VMAC answers ARP for the VIP"
        assert probe6(c.ns, VIP6) and neigh_mac(c.ns, VIP6) == MAC6
        a.kill()
        net.port(a, False)  # the node is gone, not just its daemon
        wait_for(lambda: VIP in addrs(b.ns, "vrrp.51") and VIP6 in addrs(b.ns, "vrrp.52"), 5, "b to take over")
        answered, macs = probe(c.ns, VIP)
        assert answered and set(macs) == {MAC4}
        assert probe6(c.ns, VIP6)
        assert b.stop() == 0
        assert link(b.ns, "vrrp.51") is None and link(b.ns, "vrrp.52") is None, "stop removes the VMACs"
        assert sysctl(b.ns, "net.ipv4.conf.eth0.arp_ignore") == "0", "the base's sysctls are put back"
        assert sysctl(b.ns, "net.ipv4.conf.eth0.arp_announce") == "0"


def test_vmac_xmit_base_and_leftover_vmac(tmp_path):
    """vmac_xmit_base: adverts from the base interface; an existing VMAC of ours (a
    SIGKILLed run's) is taken over; a foreign link with the name refuses to start."""
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        ip("-n", b.ns, "link", "add", "vrrp.51", "link", "eth0", "address", MAC4, "type", "macvlan", "mode",
           "private")
        a.start(instance(name="V4", vrid=51, priority=200, vips=(f"{VIP}/24",), extra="use_vmac\nvmac_xmit_base"))
        b.start(instance(name="V4", vrid=51, priority=100, vips=(f"{VIP}/24",), extra="use_vmac\nvmac_xmit_base"))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51"), 10, "a to be master")
        time.sleep(0.5)
        assert VIP not in addrs(b.ns, "vrrp.51") and "taking over the existing VMAC vrrp.51" in b.log_text()
        assert b.stats()["instances"][0]["state"] == "BACKUP"
        assert b.stop() == 0 and link(b.ns, "vrrp.51") is None
        ip("-n", b.ns, "link", "add", "vrrp.51", "type", "veth", "peer", "name", "vx0")
        b.start(instance(name="V4", vrid=51, priority=100, vips=(f"{VIP}/24",), extra="use_vmac"))
        assert b.proc is not None and b.proc.wait(10) != 0
        assert "interface vrrp.51 exists and is not a VMAC" in b.log_text()
        assert link(b.ns, "vrrp.51")["linkinfo"]["info_kind"] == "veth", "the foreign link is left alone"
        assert a.stop() == 0




# --- vmac_protodown ------------------------------------------------------------------


def held_down(ns: str, dev: str) -> bool:
    info = link(ns, dev)
    return info is not None and bool(info.get("proto_down")) and "LOWER_UP" not in info["flags"]


def carrying(ns: str, dev: str) -> bool:
    info = link(ns, dev)
    return info is not None and not info.get("proto_down") and "LOWER_UP" in info["flags"]


def test_vmac_protodown_flips_the_vmacs(tmp_path, loop_kind):
    with lan(tmp_path, ["a", "b", "c"]) as net:
        a, b, c = net.nodes
        a.start(config(200, protodown=True))
        b.start(config(100, protodown=True))
        wait_for(lambda: carrying(a.ns, "vrrp.51") and carrying(a.ns, "vrrp.52"), 10, "a's VMACs to carry")
        wait_for(lambda: "Entering BACKUP STATE" in b.log_text(), 5, "b to be backup")
        time.sleep(0.5)
        assert held_down(b.ns, "vrrp.51") and held_down(b.ns, "vrrp.52"), "the backup's VMACs are held down"
        for n in (a, b):  # the VIPs are on both nodes' VMACs
            assert {VIP, VIP2} <= addrs(n.ns, "vrrp.51") and VIP6 in addrs(n.ns, "vrrp.52")
        answered, macs = probe(c.ns, VIP2)
        assert answered and macs == [MAC4], "one ARP reply, the master's VMAC's: the backup does not answer"
        assert probe6(c.ns, VIP6) and neigh_mac(c.ns, VIP6) == MAC6
        # the master dies (daemon and node): b lets its VMACs carry, the VIPs answer from b
        a.kill()
        net.port(a, False)
        wait_for(lambda: carrying(b.ns, "vrrp.51") and carrying(b.ns, "vrrp.52"), 5, "b's VMACs to carry")
        answered, macs = probe(c.ns, VIP)
        assert answered and macs == [MAC4]
        assert probe6(c.ns, VIP6)
        assert {VIP, VIP2} <= addrs(b.ns, "vrrp.51"), "the VIPs never moved"
        # a comes back and preempts: b's VMACs are held down again, its VIPs stay
        net.port(a, True)
        a.start(config(200, protodown=True))
        wait_for(lambda: held_down(b.ns, "vrrp.51") and held_down(b.ns, "vrrp.52"), 10, "b to yield")
        wait_for(lambda: carrying(a.ns, "vrrp.51"), 5, "a to carry again")
        assert {VIP, VIP2} <= addrs(b.ns, "vrrp.51")
        answered, macs = probe(c.ns, VIP)
        assert answered and macs == [MAC4]
        assert b.stop() == 0 and link(b.ns, "vrrp.51") is None and link(b.ns, "vrrp.52") is None
        assert a.stop() == 0 and link(a.ns, "vrrp.51") is None


# --- a VMAC taken down or deleted ----------------------------------------------------


def state_of(n, name: str) -> str:
    return next(i["state"] for i in n.stats()["instances"] if i["name"] == name)


def test_vmac_down_is_a_fault_and_a_deleted_vmac_is_made_again(tmp_path, loop_kind):
    """As keepalived 2.2.7 (observed): a VMAC taken down puts its instance in FAULT (priority
    0 sent, VIPs released) until it is up again; a deleted one puts it in FAULT and is made
    again (fastka: with its old index, its group memberships joined again), after which the
    instance runs on: a backup keeps hearing the master on it (no second master)."""
    with lan(tmp_path, ["a", "b", "c"]) as net:
        a, b, c = net.nodes
        a.start(config(200))
        b.start(config(100))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51") and VIP6 in addrs(a.ns, "vrrp.52"), 10, "a to be master")
        wait_for(lambda: "Entering BACKUP STATE" in b.log_text(), 5, "b to be backup")
        # the master's IPv4 VMAC goes down: that instance is in FAULT, b takes over at once
        ip("-n", a.ns, "link", "set", "vrrp.51", "down")
        wait_for(lambda: VIP in addrs(b.ns, "vrrp.51"), 2, "b to take V4 over")
        assert "(V4) Entering FAULT STATE (interface vrrp.51 down)" in a.log_text()
        assert VIP not in addrs(a.ns, "vrrp.51") and VIP6 in addrs(a.ns, "vrrp.52"), "V6 is untouched"
        ip("-n", a.ns, "link", "set", "vrrp.51", "up")
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51") and VIP not in addrs(b.ns, "vrrp.51"), 5,
                 "a to be master of V4 again (preemption)")
        # the backup's VMACs are deleted under it: made again, and b stays backup, hearing a
        index4, index6 = link(b.ns, "vrrp.51")["ifindex"], link(b.ns, "vrrp.52")["ifindex"]
        ip("-n", b.ns, "link", "del", "vrrp.51")
        ip("-n", b.ns, "link", "del", "vrrp.52")
        wait_for(lambda: b.log_text().count("made again") == 2, 5, "b to make its VMACs again")
        for dev, index, mac in (("vrrp.51", index4, MAC4), ("vrrp.52", index6, MAC6)):
            info = link(b.ns, dev)
            assert info is not None and info["ifindex"] == index and info["address"] == mac
            assert info["linkinfo"]["info_data"]["mode"] == "private" and "LOWER_UP" in info["flags"]
        assert sysctl(b.ns, "net.ipv4.conf.vrrp/51.arp_ignore") == "1"
        ll = [x for x in b.addresses("eth0") if x.startswith("fe80:")]
        assert ll and ll[0] in addrs(b.ns, "vrrp.52"), "the link-local is copied again"
        wait_for(lambda: state_of(b, "V4") == "BACKUP" and state_of(b, "V6") == "BACKUP", 5, "b to be backup")
        time.sleep(1.0)  # ten advert intervals: a b that heard nothing would be master by now
        assert state_of(b, "V4") == "BACKUP" and state_of(b, "V6") == "BACKUP"
        assert VIP not in addrs(b.ns, "vrrp.51") and VIP6 not in addrs(b.ns, "vrrp.52")
        assert "netlink" not in b.log_text(), "no error for the VIPs that went with the VMACs"
        # the master's VMAC is deleted: b takes over, a makes it again and takes it back
        ip("-n", a.ns, "link", "del", "vrrp.51")
        wait_for(lambda: "(V4) VMAC vrrp.51 made again" in a.log_text(), 5, "a to make vrrp.51 again")
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51") and VIP not in addrs(b.ns, "vrrp.51"), 5,
                 "a to be master of V4 again")
        answered, macs = probe(c.ns, VIP)
        assert answered and set(macs) == {MAC4}
        # b takes both over when a goes: it receives and sends on the VMACs it made again
        a.kill()
        net.port(a, False)
        wait_for(lambda: VIP in addrs(b.ns, "vrrp.51") and VIP6 in addrs(b.ns, "vrrp.52"), 5, "b to take over")
        assert probe6(c.ns, VIP6)
        assert b.stop() == 0 and link(b.ns, "vrrp.51") is None and link(b.ns, "vrrp.52") is None


def test_vmac_protodown_deleted_vmac_is_made_again_held_down(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(config(200, protodown=True))
        b.start(config(100, protodown=True))
        wait_for(lambda: carrying(a.ns, "vrrp.51"), 10, "a's VMAC to carry")
        wait_for(lambda: held_down(b.ns, "vrrp.51"), 5, "b's VMAC to be held down")
        ip("-n", b.ns, "link", "del", "vrrp.51")
        wait_for(lambda: "(V4) VMAC vrrp.51 made again" in b.log_text(), 5, "b to make vrrp.51 again")
        wait_for(lambda: held_down(b.ns, "vrrp.51") and {VIP, VIP2} <= addrs(b.ns, "vrrp.51"), 5,
                 "the VMAC held down again, with its VIPs")
        time.sleep(1.0)
        assert state_of(b, "V4") == "BACKUP" and held_down(b.ns, "vrrp.51")
        # a held-down VMAC is no fault: b still takes over
        a.kill()
        net.port(a, False)
        wait_for(lambda: carrying(b.ns, "vrrp.51"), 5, "b's VMAC to carry")
        assert b.stop() == 0


# --- interop -------------------------------------------------------------------------


@pytest.mark.parametrize("master", ["fastka", "keepalived"])
def test_use_vmac_interop_with_keepalived(tmp_path, master):
    need_keepalived()
    with lan(tmp_path, ["m", "s", "c"]) as net:
        m, s, c = net.nodes
        m.kind = master
        s.kind = "keepalived" if master == "fastka" else "fastka"
        m.start(config(200))
        s.start(config(100))
        wait_for(lambda: VIP in addrs(m.ns, "vrrp.51") and VIP6 in addrs(m.ns, "vrrp.52"), 15,
                 f"{master} (priority 200) to be master")
        wait_for(lambda: link(s.ns, "vrrp.51") is not None, 5, "the backup's VMAC")
        time.sleep(1)
        assert VIP not in addrs(s.ns, "vrrp.51") and VIP6 not in addrs(s.ns, "vrrp.52")
        answered, macs = probe(c.ns, VIP)
        # keepalived leaves its IPv6 VMAC at arp_ignore 0, and it was seen answering ARP for
        # the IPv4 VIP with the IPv6 virtual MAC (gone with arp_ignore 1, as fastka sets it)
        assert answered and MAC4 in macs, macs
        m.kill()
        net.port(m, False)
        wait_for(lambda: VIP in addrs(s.ns, "vrrp.51") and VIP6 in addrs(s.ns, "vrrp.52"), 10,
                 f"{s.kind} to take over")
        answered, macs = probe(c.ns, VIP)
        assert answered and MAC4 in macs, macs
        assert s.stop() == 0
        assert link(s.ns, "vrrp.51") is None


# --- the configuration ---------------------------------------------------------------


def test_fastka_t_accepts_vmac_protodown(tmp_path):
    import subprocess
    import sys

    conf = tmp_path / "k.conf"
    conf.write_text(config(200, protodown=True))
    r = subprocess.run([sys.executable, "-m", "fastka", "-t", "-d", "-f", str(conf)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("vmac_protodown") == 2 and r.stdout.count("use_vmac") == 2
    conf.write_text(instance(name="V4", vrid=51, vips=(f"{VIP}/24",), extra="vmac_protodown"))
    r = subprocess.run([sys.executable, "-m", "fastka", "-t", "-f", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 3 and "vmac_protodown needs use_vmac" in r.stderr


def _reports(ns: str, seconds: float) -> list[tuple[str, str]]:
    """(source MAC, "igmp" | "mld" | "rs") of the IGMP, MLDv2 report and router
    solicitation frames namespace ns's eth0 receives for a while."""

    def capture() -> list[tuple[str, str]]:
        out = []
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)) as s:
            s.bind(("eth0", 0))
            s.settimeout(0.2)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    f = s.recv(2048)
                except TimeoutError:
                    continue
                src, kind = ":".join(f"{b:02x}" for b in f[6:12]), struct.unpack("!H", f[12:14])[0]
                if kind == 0x0800 and f[14 + 9] == 2:
                    out.append((src, "igmp"))
                elif kind == 0x86DD:
                    nxt, off = f[14 + 6], 14 + 40
                    if nxt == 0:  # hop-by-hop options (router alert)
                        nxt, off = f[off], off + 8 * (f[off + 1] + 1)
                    if nxt == 58 and f[off] in (143, 133):
                        out.append((src, "mld" if f[off] == 143 else "rs"))
        return out

    return in_netns(ns, capture, timeout=seconds + 30)


@pytest.mark.parametrize("local_igmp", ["reported", "disable_local_igmp"])
def test_igmp_and_mld_leave_by_the_parent_not_the_vmac(tmp_path, local_igmp):
    """A VMAC joins the VRRP group: its membership reports must not carry the virtual MAC
    (a switch would send the VIPs' traffic to a backup). As keepalived: nftables send the
    IGMP / MLD reports of a VMAC by its parent, with the parent's MAC, and drop its router
    solicitations; disable_local_igmp stops IGMP reports for 224.0.0.0/24 altogether
    while fastka runs."""
    import threading

    with lan(tmp_path, ["a", "c"]) as net:
        a, c = net.nodes
        before = sysctl(a.ns, "net.ipv4.igmp_link_local_mcast_reports")
        got: list[tuple[str, str]] = []
        t = threading.Thread(target=lambda: got.extend(_reports(c.ns, 6)))
        t.start()
        time.sleep(0.3)
        extra = "global_defs {\n    disable_local_igmp\n}\n" if local_igmp == "disable_local_igmp" else ""
        a.start(extra + config(200))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51"), 15, "a to be master on its VMAC")
        tables = ip("netns", "exec", a.ns, "nft", "list", "tables")
        if local_igmp == "disable_local_igmp":
            assert sysctl(a.ns, "net.ipv4.igmp_link_local_mcast_reports") == "0"
            assert "table ip6 fastka" in tables and "table ip fastka" not in tables
        else:
            assert "table ip fastka" in tables and "table ip6 fastka" in tables
        t.join()
        parent = "02:00:00:99:00:01"
        assert not [g for g in got if g[0].startswith("00:00:5e")], got
        kinds = {k for src, k in got if src == parent}
        assert "mld" in kinds, got
        assert ("igmp" in kinds) == (local_igmp == "reported"), got
        assert a.stop() == 0
        assert "fastka" not in ip("netns", "exec", a.ns, "nft", "list", "tables")
        assert sysctl(a.ns, "net.ipv4.igmp_link_local_mcast_reports") == before


@pytest.mark.parametrize("kind", ["fastka", "keepalived"])
@pytest.mark.parametrize("how", ["use_vmac_addr", "vip_use_vmac"])
def test_extra_vmacs_for_vips_on_other_interfaces_and_families(tmp_path, kind, how):
    """use_vmac_addr (or use_vmac on a VIP line): a VIP on another interface, or an eVIP
    of the other family, goes on a VMAC of its own there, with the family's virtual MAC,
    and its gratuitous ARP carries that MAC. fastka makes what keepalived 2.2.7 makes of
    the same file: the same links, names and MACs, the addresses in the same places."""
    if kind == "keepalived":
        need_keepalived()
    other = "10.98.0.100/24 dev eth1" + (" use_vmac" if how == "vip_use_vmac" else "")
    extra = "use_vmac\n" + ("use_vmac_addr\n" if how == "use_vmac_addr" else "") + \
        "virtual_ipaddress_excluded {\n    fd00:99::100/64 dev eth0\n}"
    with lan(tmp_path, ["a", "c"], links=2) as net:
        a, c = net.nodes
        a.kind = kind
        subprocess.run(["ip", "netns", "exec", c.ns, "sysctl", "-qw", "net.ipv4.conf.eth1.arp_accept=1"],
                       check=True, timeout=10)
        a.start(instance(priority=200, vips=(f"{VIP}/24", other), extra=extra))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51") and "10.98.0.100" in addrs(a.ns, "vrrp1.51"), 15,
                 "a to be master with its VIPs on its VMACs")
        v4, v4b = link(a.ns, "vrrp.51"), link(a.ns, "vrrp1.51")
        assert v4["link"] == "eth0" and v4b["link"] == "eth1" and v4["address"] == v4b["address"] == MAC4
        v6 = link(a.ns, "vrrp6.51")
        if how == "use_vmac_addr":
            assert v6 is not None and v6["link"] == "eth0" and v6["address"] == "00:00:5e:00:02:33"
            wait_for(lambda: VIP6 in addrs(a.ns, "vrrp6.51"), 5, "the eVIP on the IPv6 VMAC")
        else:
            assert v6 is None
            wait_for(lambda: VIP6 in a.addresses("eth0"), 5, "the eVIP on eth0 itself")
        assert "10.98.0.100" not in a.addresses("eth1")
        wait_for(lambda: MAC4 in ip("-n", c.ns, "neigh", "show", "10.98.0.100"), 5,
                 "the gratuitous ARP for the eth1 VIP, from the virtual MAC")
        assert a.stop() == 0
        assert link(a.ns, "vrrp1.51") is None and link(a.ns, "vrrp6.51") is None


def test_reload_adds_and_removes_extra_vmacs(tmp_path):
    """A reload that gives an instance use_vmac_addr makes its extra VMAC and moves the
    VIP onto it; one that takes use_vmac_addr away deletes it, and the VIP is on its
    interface again."""
    with lan(tmp_path, ["a"], links=2) as net:
        a, = net.nodes
        vips = (f"{VIP}/24", "10.98.0.100/24 dev eth1")
        a.start(instance(priority=200, vips=vips, extra="use_vmac"))
        wait_for(lambda: "10.98.0.100" in a.addresses("eth1"), 15, "a to be master, the eth1 VIP on eth1")
        a.reload(instance(priority=200, vips=vips, extra="use_vmac\nuse_vmac_addr"))
        wait_for(lambda: "10.98.0.100" in addrs(a.ns, "vrrp1.51"), 10, "the VIP on the new extra VMAC")
        assert "10.98.0.100" not in a.addresses("eth1")
        a.reload(instance(priority=200, vips=vips, extra="use_vmac"))
        wait_for(lambda: link(a.ns, "vrrp1.51") is None and "10.98.0.100" in a.addresses("eth1"), 10,
                 "the extra VMAC gone, the VIP on eth1 again")
        assert a.stop() == 0


def test_a_deleted_extra_vmac_is_made_again_with_its_vips(tmp_path, loop_kind):
    """An extra VMAC someone deletes is made again, with the same index, and a master's
    VIPs go back on it (announced); its instance stays master: the extras' link state is
    not the instance's."""
    with lan(tmp_path, ["a"], links=2) as net:
        a, = net.nodes
        a.start(instance(priority=200, vips=(f"{VIP}/24", "10.98.0.100/24 dev eth1"),
                         extra="use_vmac\nuse_vmac_addr"))
        wait_for(lambda: "10.98.0.100" in addrs(a.ns, "vrrp1.51"), 15, "a to be master, the VIP on vrrp1.51")
        index = link(a.ns, "vrrp1.51")["ifindex"]
        ip("-n", a.ns, "link", "del", "vrrp1.51")
        wait_for(lambda: "10.98.0.100" in addrs(a.ns, "vrrp1.51"), 5, "vrrp1.51 made again with its VIP")
        assert link(a.ns, "vrrp1.51")["ifindex"] == index
        assert "Entering FAULT" not in a.log_text() and a.stats()["instances"][0]["state"] == "MASTER"
        # and its IGMP / MLD reports still leave by its parent
        assert '"vrrp1.51" : "eth1"' in ip("netns", "exec", a.ns, "nft", "list", "map", "ip", "fastka", "vmacs")
        assert a.stop() == 0
        assert link(a.ns, "vrrp1.51") is None


def test_dont_track_primary_vmac_deleted_gets_its_vips_back(tmp_path):
    """With dont_track_primary a deleted VMAC is no FAULT: the master stays master, so the
    VMAC is made again with its VIPs back on it."""
    with lan(tmp_path, ["a"]) as net:
        a, = net.nodes
        a.start(instance(priority=200, extra="use_vmac\ndont_track_primary"))
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51"), 15, "a to be master on its VMAC")
        ip("-n", a.ns, "link", "del", "vrrp.51")
        wait_for(lambda: VIP in addrs(a.ns, "vrrp.51"), 5, "vrrp.51 made again with the VIP")
        assert a.stats()["instances"][0]["state"] == "MASTER"
        assert a.stop() == 0
