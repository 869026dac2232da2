"""The VRRP engine with real packets between real network namespaces: fastka nodes on
one bridged LAN, and Debian's keepalived as the peer (interop).

VRRPv3 runs at advert_int 0.1 s (Master_Down_Interval about 0.35 s at priority 100),
VRRPv2 at its minimum of 1 s (about 3.6 s), so waits are bounded generously; they
check that something happens, never how fast (bench/ measures that)."""

from __future__ import annotations

import signal

import time

import pytest

from ..netns import ip
from .cluster import instance, lan, need_keepalived, wait_for

pytestmark = pytest.mark.timeout(120)

VIP = "10.99.0.100"
VIP6 = "fd00:99::100"


def one_holder(net, vip: str) -> bool:
    return len(net.holders(vip)) == 1


def test_election_failover_and_preemption_v3(tmp_path, loop_kind):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a (priority 200) to hold the VIP alone")
        assert "Entering MASTER STATE" in a.log_text()
        # SIGKILL: no priority 0; b takes over after Master_Down_Interval
        a.kill()
        wait_for(lambda: b.has(VIP), 5, "b to take over after the master was killed")
        assert "Entering MASTER STATE" in b.log_text()
        # a comes back: preemption (a sees b's lower adverts, and a's adverts make b yield)
        a.start(instance(priority=200))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to preempt b")
        assert b.stop() == 0


def test_clean_stop_sends_priority_0_and_releases_vips(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, advert_int="1"))  # Master_Down 3.6 s; priority 0 makes it Skew_Time
        b.start(instance(priority=100, advert_int="1"))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        assert a.stop() == 0
        assert not a.has(VIP), "a removed its VIP on SIGTERM"
        took = wait_for(lambda: b.has(VIP), 3, "b to take over on a's priority-0 advert")
        assert took < 2.5, "priority 0 made b take over at Skew_Time, not after Master_Down_Interval (3.6 s)"
        assert "sent 0 priority" in a.log_text()


def test_nopreempt_keeps_the_current_master(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        b.start(instance(priority=100, extra="nopreempt"))
        wait_for(lambda: b.has(VIP), 5, "b to become master alone")
        a.start(instance(priority=200, extra="nopreempt"))
        wait_for(lambda: "Entering BACKUP STATE" in a.log_text(), 5, "a to start as backup")
        # a hears b's lower-priority adverts and, with nopreempt, accepts b as master
        import time
        time.sleep(1.5)
        assert net.holders(VIP) == ["b"]
        assert "Entering MASTER STATE" not in a.log_text()


def test_preempt_delay(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        b.start(instance(priority=100))
        wait_for(lambda: b.has(VIP), 5, "b to become master alone")
        a.start(instance(priority=200, extra="preempt_delay 1.5"))
        wait_for(lambda: "Entering BACKUP STATE" in a.log_text(), 5, "a to start")
        import time
        time.sleep(0.8)
        assert net.holders(VIP) == ["b"], "a waits preempt_delay before preempting"
        wait_for(lambda: net.holders(VIP) == ["a"], 5, "a to preempt after its delay")


def test_link_down_fault_and_recovery(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        a.link(False)
        wait_for(lambda: "Entering FAULT STATE" in a.log_text(), 5, "a to enter FAULT")
        wait_for(lambda: b.has(VIP), 5, "b to take over")
        assert not a.has(VIP)
        a.link(True)
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to recover and preempt")


def test_dont_track_primary_ignores_the_link_going_down(tmp_path):
    """keepalived: with dont_track_primary the instance's own interface going down is
    no fault; the master stays master (and keeps its VIPs)."""
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, extra="dont_track_primary"))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        a.link(False)
        time.sleep(1.0)  # the plain instance enters FAULT within milliseconds (the test above)
        assert "FAULT" not in a.log_text()
        assert a.has(VIP)
        a.link(True)
        time.sleep(0.5)
        assert net.holders(VIP) in (["a"], ["a", "b"])  # b may have taken over while a's adverts were lost
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a alone master again")


def test_partition_and_heal_leave_exactly_one_master(tmp_path):
    with lan(tmp_path, ["a", "b", "c"]) as net:
        a, b, c = net.nodes
        for n, p in ((a, 200), (b, 150), (c, 100)):
            n.start(instance(priority=p))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        net.port(a, False)  # a is cut off: a stays master of its island, b takes the rest
        wait_for(lambda: net.holders(VIP) == ["a", "b"], 5, "a split brain across the partition")
        net.port(a, True)
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "exactly one master after healing")


def test_v2_pass_and_v3_ipv6(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        v2 = dict(version=2, advert_int="1", auth=("PASS", "s3cret"))
        v6 = dict(name="VI_6", vrid=52, vips=(f"{VIP6}/64",))
        a.start(instance(priority=200, **v2) + instance(priority=200, **v6))
        b.start(instance(priority=100, **v2) + instance(priority=100, **v6))
        wait_for(lambda: net.holders(VIP6) == ["a"], 10, "a to be the IPv6 master")
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be the VRRPv2 master")
        a.kill()
        wait_for(lambda: b.has(VIP6), 5, "b to take over IPv6")
        wait_for(lambda: b.has(VIP), 8, "b to take over VRRPv2")


def test_wrong_password_is_not_a_peer(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, version=2, advert_int="1", auth=("PASS", "right")))
        b.start(instance(priority=100, version=2, advert_int="1", auth=("PASS", "wrong")))
        wait_for(lambda: net.holders(VIP) == ["a", "b"], 10, "both to be master: they do not authenticate")


def test_unicast_and_ah(tmp_path, loop_kind):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        uni_a = ("10.99.0.1", ["10.99.0.2"])
        uni_b = ("10.99.0.2", ["10.99.0.1"])
        ah = dict(name="VI_AH", vrid=60, version=2, advert_int="1", auth=("AH", "k3y"), vips=("10.99.0.160/24",))
        a.start(instance(priority=200, unicast=uni_a) + instance(priority=200, **ah))
        b.start(instance(priority=100, unicast=uni_b) + instance(priority=100, **ah))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be the unicast master")
        wait_for(lambda: net.holders("10.99.0.160") == ["a"], 10, "a to be the AH master")
        a.kill()
        wait_for(lambda: b.has(VIP), 5, "b to take over (unicast)")
        wait_for(lambda: b.has("10.99.0.160"), 8, "b to take over (AH)")


def test_notify_scripts_run_on_transitions(tmp_path):
    """notify_master / notify_backup / notify_stop, and notify with keepalived's
    arguments, run (without a shell) after each transition; a failing one is logged."""
    out = tmp_path / "notify.out"
    script = tmp_path / "notify.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {out}\n')
    script.chmod(0o755)
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        scripts = "\n".join([f'notify_master "{script} a-master"', f'notify_backup "{script} a-backup"',
                              f'notify_stop "{script} a-stop"', f'notify "{script} a-notify"',
                              'notify_fault "/bin/false"'])
        a.start(instance(priority=200, extra=scripts))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        wait_for(lambda: out.exists() and "a-master" in out.read_text(), 5, "notify_master to run")
        a.link(False)  # FAULT: notify_fault is /bin/false, which fails
        wait_for(lambda: "notify_fault" in a.log_text() and "exited with status 1" in a.log_text(), 5,
                 "the failing notify_fault to be logged")
        a.link(True)
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master again")
        assert a.stop() == 0
        wait_for(lambda: "a-stop" in out.read_text(), 5, "notify_stop to run")
        # the two scripts of one transition run concurrently: their order within a pair is free
        lines = out.read_text().splitlines()
        assert set(lines[:2]) == {"a-backup", "a-notify INSTANCE VI_1 BACKUP 200"}
        assert set(lines[2:4]) == {"a-master", "a-notify INSTANCE VI_1 MASTER 200"}
        assert "a-notify INSTANCE VI_1 FAULT 200" in lines
        assert set(lines[-2:]) == {"a-stop", "a-notify INSTANCE VI_1 STOP 200"}


@pytest.mark.parametrize("grouped", [True, False], ids=["sync_group", "independent"])
def test_sync_group_members_move_together(tmp_path, grouped):
    """VI_1 on eth0, VI_2 on eth1; a is master of both. a's eth1 goes down: VI_2 goes to
    FAULT, and in a vrrp_sync_group VI_1 follows, so b takes both VIPs; without the
    group b takes VI_2 only. When eth1 comes back, a takes both back."""
    vip2 = "10.98.0.102"
    group = "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n" if grouped else ""

    def conf(p):
        return group + instance(priority=p) + instance(name="VI_2", vrid=52, priority=p, vips=(f"{vip2}/24",),
                                                       interface="eth1")

    def holders2():
        return [n.name for n in net.nodes if vip2 in n.addresses("eth1")]

    with lan(tmp_path, ["a", "b"], links=2) as net:
        a, b = net.nodes
        a.start(conf(200))
        b.start(conf(100))
        wait_for(lambda: net.holders(VIP) == ["a"] and holders2() == ["a"], 10, "a to hold both VIPs")
        a.link(False, "eth1")
        if grouped:
            wait_for(lambda: net.holders(VIP) == ["b"] and holders2() == ["b"], 10, "b to take both VIPs")
            assert "sync group G has a member in FAULT" in a.log_text()
        else:
            wait_for(lambda: holders2() == ["b"], 10, "b to take VI_2")
            import time
            time.sleep(1)
            assert net.holders(VIP) == ["a"], "VI_1 stays on a"
        a.link(True, "eth1")
        wait_for(lambda: net.holders(VIP) == ["a"] and holders2() == ["a"], 10, "a to take both back")


def test_track_script_weights_and_fault(tmp_path, loop_kind):
    """vrrp_script: a's check fails -> weight -150 makes a 50 < b's 100, b takes over;
    it succeeds again -> a preempts. A weight-0 script failing is a FAULT."""
    flag = tmp_path / "healthy"
    flag.write_text("1")
    fatal = tmp_path / "alive"
    fatal.write_text("1")
    scripts = (f'vrrp_script chk {{\n    script "/bin/test -e {flag}"\n    interval 1\n    fall 1\n    rise 1\n'
               f'    weight -150\n}}\nvrrp_script must {{\n    script "/bin/test -e {fatal}"\n    interval 1\n}}\n')
    track = "track_script {\n    chk\n    must weight 0\n}"
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(scripts + instance(priority=200, extra=track))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        flag.unlink()
        wait_for(lambda: net.holders(VIP) == ["b"], 10, "b to take over when a's priority drops to 50")
        assert "VRRP_Script(chk) failed" in a.log_text()
        flag.write_text("1")
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to preempt once its check succeeds")
        fatal.unlink()
        wait_for(lambda: "Entering FAULT STATE (tracked script must failed)" in a.log_text(), 10,
                 "a weight-0 script failing to be a FAULT")
        wait_for(lambda: net.holders(VIP) == ["b"], 10, "b to take over from the faulted a")
        fatal.write_text("1")
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to recover")


def test_track_interface(tmp_path):
    """a tracks eth1 (weight 0): eth1 down is a FAULT on VI_1 (which lives on eth0)."""
    with lan(tmp_path, ["a", "b"], links=2) as net:
        a, b = net.nodes
        a.start(instance(priority=200, extra="track_interface {\n    eth1\n}"))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        a.link(False, "eth1")
        wait_for(lambda: net.holders(VIP) == ["b"], 10, "b to take over")
        assert "Entering FAULT STATE (tracked interface eth1 failed)" in a.log_text()
        a.link(True, "eth1")
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to come back")


def test_virtual_routes_move_with_the_vips(tmp_path):
    routes = ("virtual_routes {\n    10.200.0.0/16 via 10.99.0.254\n    10.201.0.0/16 dev eth0 metric 7\n"
              "    blackhole 10.202.0.0/16\n    10.203.0.0/16 via 10.99.0.254 table 100\n}")

    def has_routes(node) -> bool:
        main = ip_("-n", node.ns, "route", "show")
        import subprocess  # a table nobody has used yet does not exist: empty
        t100 = subprocess.run(["ip", "-n", node.ns, "route", "show", "table", "100"], capture_output=True,
                              text=True, timeout=10).stdout
        return ("10.200.0.0/16 via 10.99.0.254 dev eth0 proto keepalived" in main
                and "10.201.0.0/16 dev eth0 proto keepalived metric 7" in main  # scope global, as keepalived
                and "blackhole 10.202.0.0/16 proto keepalived" in main
                and "10.203.0.0/16 via 10.99.0.254 dev eth0 proto keepalived" in t100)

    def no_routes(node) -> bool:
        return "proto keepalived" not in ip_("-n", node.ns, "route", "show", "table", "all")

    from ..netns import ip as ip_
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, extra=routes))
        b.start(instance(priority=100, extra=routes))
        wait_for(lambda: net.holders(VIP) == ["a"] and has_routes(a) and no_routes(b), 10, "a's routes")
        a.kill()
        wait_for(lambda: has_routes(b), 5, "the routes to move to b")
        a.start(instance(priority=200, extra=routes))
        wait_for(lambda: has_routes(a) and no_routes(b), 10, "the routes back on a only")
        assert a.stop() == 0
        assert no_routes(a)


# --- interop with Debian's keepalived ------------------------------------------------

INTEROP = {
    "v2": dict(version=2, advert_int="1"),
    "v2-pass": dict(version=2, advert_int="1", auth=("PASS", "s3cret")),
    "v2-ah": dict(version=2, advert_int="1", auth=("AH", "k3y")),
    "v3-ipv4": dict(version=3, advert_int="0.1"),
    "v3-ipv6": dict(version=3, advert_int="0.1", vips=(f"{VIP6}/64",)),
}


@pytest.mark.parametrize("fmt", list(INTEROP))
@pytest.mark.parametrize("master", ["fastka", "keepalived"])
def test_interop_with_keepalived(tmp_path, fmt, master):
    """One node fastka, the other keepalived; the higher priority is master, and when it
    is killed the other takes over; then it comes back and preempts."""
    need_keepalived()
    kw = INTEROP[fmt]
    vip = kw.get("vips", (f"{VIP}/24",))[0].split("/")[0]
    with lan(tmp_path, ["m", "s"]) as net:
        m, s = net.nodes
        m.kind = master
        s.kind = "keepalived" if master == "fastka" else "fastka"
        m.start(instance(priority=200, **kw))
        s.start(instance(priority=100, **kw))
        wait_for(lambda: net.holders(vip) == ["m"], 15, f"{master} (priority 200) to be master")
        m.kill()
        wait_for(lambda: s.has(vip), 10, f"{s.kind} to take over")
        m.start(instance(priority=200, **kw))
        wait_for(lambda: net.holders(vip) == ["m"], 15, f"{master} to preempt")
        assert s.stop() == 0
        assert m.stop() == 0


@pytest.mark.parametrize("master", ["fastka", "keepalived"])
def test_interop_unicast(tmp_path, master):
    need_keepalived()
    with lan(tmp_path, ["m", "s"]) as net:
        m, s = net.nodes
        m.kind = master
        s.kind = "keepalived" if master == "fastka" else "fastka"
        m.start(instance(priority=200, unicast=("10.99.0.1", ["10.99.0.2"])))
        s.start(instance(priority=100, unicast=("10.99.0.2", ["10.99.0.1"])))
        wait_for(lambda: net.holders(VIP) == ["m"], 15, f"{master} to be master")
        m.signal(signal.SIGTERM)
        wait_for(lambda: s.has(VIP), 5, f"{s.kind} to take over on priority 0")


# --- malformed adverts on the wire ----------------------------------------------------


def _inject(ns: str, packets: list[tuple[bytes, int]]) -> None:
    """Send (VRRP message, ttl) to 224.0.0.18 from a raw socket in namespace ns."""
    import socket

    from ..netns import in_netns

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, 112) as s:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.99.0.3"))
            for msg, ttl in packets:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
                s.sendto(msg, ("224.0.0.18", 0))
    in_netns(ns, send)


def test_malformed_adverts_are_dropped_and_counted(tmp_path, loop_kind):
    """Priority-255 adverts for the VRID that are wrong in one way each: were any taken,
    the master would yield. Nothing changes; every one shows in a counter."""
    from fastka.wire import build_advert, checksum_update16

    with lan(tmp_path, ["a", "b", "x"]) as net:
        a, b, x = net.nodes
        a.start(instance(priority=200))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        import time
        time.sleep(0.5)  # settled: both may have been master for a moment at startup
        before = {n.name: n.log_text().count("Entering") for n in (a, b)}
        good = build_advert(version=3, vrid=51, priority=255, advert_int_cs=10, addresses=[VIP],
                            src="10.99.0.3", dst="224.0.0.18")

        def patched(offset: int, value: int) -> bytes:
            m = bytearray(good)
            old = int.from_bytes(m[offset & ~1:(offset & ~1) + 2], "big")
            m[offset] = value
            new = int.from_bytes(m[offset & ~1:(offset & ~1) + 2], "big")
            csum = checksum_update16(int.from_bytes(m[6:8], "big"), old, new)
            m[6:8] = csum.to_bytes(2, "big")
            return bytes(m)

        bad_checksum = bytearray(good)
        bad_checksum[7] ^= 0xFF
        cases = {
            "ttl": (good, 64),
            "checksum": (bytes(bad_checksum), 255),
            "version": (patched(0, 0x41), 255),
            "type": (patched(0, 0x32), 255),
            "interval": (patched(5, 0) if good[4] == 0 else patched(4, 0), 255),
            "count": (good[:3] + b"\0" + good[4:8], 255),
            "length": (good + b"\0\0\0\0", 255),
        }
        for _ in range(3):
            _inject(x.ns, list(cases.values()))
        time.sleep(0.5)
        assert net.holders(VIP) == ["a"]
        for node in (a, b):
            full = node.stats()
            assert full["loop"] == loop_kind
            st = full["instances"][0]
            for reason in cases:
                assert st["counters"].get(f"rx_drop_{reason}", 0) == 3, (node.name, reason, st["counters"])
        assert {n.name: n.log_text().count("Entering") for n in (a, b)} == before, "no state changed"
        # a short datagram cannot even name its VRID: counted by the engine
        _inject(x.ns, [(good[:7], 255)])
        wait_for(lambda: b.stats()["counters"].get("rx_short", 0) == 1, 5, "the short datagram to be counted")


def test_more_interfaces_than_one_socket_can_join(tmp_path):
    """A socket holds 20 IPv4 group memberships (igmp_max_memberships); 25 interfaces
    with an instance each must still start (this stopped 10,000 instances on 40
    interfaces with ENOBUFS)."""
    from ..netns import ip as ip_
    from ..netns import netns

    from .cluster import Node
    n = 25
    with netns("fk-many") as ns:
        cmds = []
        for k in range(n):
            cmds += [f"link add v{k} type veth peer name w{k}", f"addr add 10.{k}.0.1/24 dev v{k}",
                     f"link set v{k} up", f"link set w{k} up"]
        import subprocess
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(cmds) + "\n", text=True, check=True,
                       timeout=60)
        conf = "".join(instance(name=f"VI_{k}", vrid=1 + k, priority=200, interface=f"v{k}",
                                vips=(f"10.{k}.0.100/24",)) for k in range(n))
        node = Node("many", ns, 1, tmp_path)
        node.start(conf)
        try:
            wait_for(lambda: node.log_text().count("Entering MASTER STATE") == n, 15, "every instance to start")
            out = ip_("-n", ns, "-o", "-4", "addr", "show")
            assert sum(f"10.{k}.0.100/24" in out for k in range(n)) == n
        finally:
            assert node.stop() == 0


def test_ipv6_vip_flags_as_keepalived_sets_them(tmp_path):
    """keepalived.conf(5): an IPv6 VIP is added without DAD, and a /128 deprecated
    (preferred_lft 0: never picked as a source) unless preferred_lft forever. fastka's
    addresses carry the flags Debian's keepalived gives the same lines."""
    need_keepalived()

    def vips(base: int) -> tuple[str, ...]:
        return (f"fd00:99::{base}/128", f"fd00:99::{base + 1}/128 preferred_lft forever", f"fd00:99::{base + 2}/64",
                f"fd00:99::{base + 3}/64 preferred_lft 0")

    def flags(node, base: int) -> list[str]:
        out = ip("-n", node.ns, "-6", "-o", "addr", "show", "dev", "eth0")
        got = []
        for k in range(4):
            line = next((x for x in out.splitlines() if f" fd00:99::{base + k}/" in x), None)
            got.append(" ".join(w for w in ("nodad", "deprecated") if line and f" {w}" in line) if line else "none")
        return got

    with lan(tmp_path, ["f", "k"]) as net:
        f, k = net.nodes
        k.kind = "keepalived"
        f.start(instance(vrid=61, priority=255, state="MASTER", vips=vips(0x100), name="VI_F"))
        k.start(instance(vrid=62, priority=255, state="MASTER", vips=vips(0x200), name="VI_K"))
        wait_for(lambda: "none" not in flags(f, 0x100) and "none" not in flags(k, 0x200), 15, "both masters")
        assert flags(f, 0x100) == flags(k, 0x200) == ["nodad deprecated", "nodad", "nodad", "nodad deprecated"]
