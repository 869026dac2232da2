"""The VRRP engine's keepalived features beyond election, with real namespaces:
virtual_rules, track_file, notify FIFOs, sync-group scripts and tracking,
notify_master_rx_lower_pri, GARP pacing, track_process."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest

from ..netns import in_netns, ip
from .cluster import instance, lan, wait_for

pytestmark = pytest.mark.timeout(120)


VIP = "10.99.0.100"


def rules(node) -> str:
    return ip("-n", node.ns, "rule", "show") + ip("-n", node.ns, "-6", "rule", "show")


def test_virtual_rules_move_with_the_vips(tmp_path):
    conf = "\n".join(["virtual_rules {", "from 10.99.0.100/32 table 100 preference 100",
                      "to 10.210.0.0/16 lookup 101 priority 101",
                      "not from 10.211.0.0/16 iif eth0 blackhole preference 102",
                      "fwmark 0x7/0xff table 103 preference 103", "from fd00:99::100/128 table 104 preference 104",
                      "from all ipproto tcp dport 80-81 table 105 preference 105", "from 10.99.0.101 table 106", "}"])
    want = ["100:\tfrom 10.99.0.100 lookup 100 proto keepalived",
            "101:\tfrom all to 10.210.0.0/16 lookup 101 proto keepalived",
            "102:\tnot from 10.211.0.0/16 iif eth0 blackhole proto keepalived",
            "103:\tfrom all fwmark 0x7/0xff lookup 103 proto keepalived",
            "104:\tfrom fd00:99::100 lookup 104 proto keepalived",
            "105:\tfrom all ipproto tcp dport 80-81 lookup 105 proto keepalived",
            "16384:\tfrom 10.99.0.101 lookup 106 proto keepalived"]  # keepalived's first assigned preference

    def has_rules(node) -> bool:
        out = rules(node)
        return all(w in out for w in want)

    def no_rules(node) -> bool:
        return "keepalived" not in rules(node)

    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, extra=conf))
        b.start(instance(priority=100, extra=conf))
        wait_for(lambda: net.holders(VIP) == ["a"] and has_rules(a) and no_rules(b), 10, "a's rules")
        a.kill()
        wait_for(lambda: has_rules(b), 5, "the rules to move to b")
        a.start(instance(priority=200, extra=conf))
        wait_for(lambda: has_rules(a) and no_rules(b), 10, "the rules back on a only")
        assert "netlink" not in a.log_text() + b.log_text(), "no netlink error"
        assert a.stop() == 0
        assert no_rules(a)


def test_track_file_weights_fault_and_init_file(tmp_path, loop_kind):
    """a tracks f (weight -60 on its line: value 2 makes 200 - 120 = 80 < b's 100) and
    ok (block weight 0: a non-zero value is a FAULT); init_file creates ok with 0."""
    f = tmp_path / "f"
    f.write_text("0\n")
    ok = tmp_path / "sub" / "ok"
    ok.parent.mkdir()
    top = (f'track_file f {{\n    file "{f}"\n}}\n'
           f'track_file ok {{\n    file "{ok}"\n    weight 0\n    init_file\n}}\n')
    track = "track_file {\n    f weight -60\n    ok\n}"
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(top + instance(priority=200, extra=track))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        assert ok.read_text().strip() == "0", "init_file wrote 0"
        f.write_text("2\n")
        wait_for(lambda: net.holders(VIP) == ["b"], 5, "b to take over when a's priority drops to 80")
        tmp = tmp_path / "f.new"
        tmp.write_text("1\n")
        tmp.rename(f)  # replaced by rename: 200 - 60 = 140
        wait_for(lambda: net.holders(VIP) == ["a"], 5, "a to preempt at 140")
        ok.write_text("7\n")
        wait_for(lambda: "Entering FAULT STATE (tracked file ok failed)" in a.log_text(), 5, "a FAULT")
        wait_for(lambda: net.holders(VIP) == ["b"], 5, "b to take over from the faulted a")
        ok.unlink()  # a missing file reads as 0, as in keepalived
        wait_for(lambda: net.holders(VIP) == ["a"], 5, "a to recover")
        assert "not implemented" not in a.log_text()


def inject(node, messages: list[bytes]) -> None:
    """Send VRRP messages to 224.0.0.18 from node's eth0 address (TTL 255)."""
    import socket

    from ..netns import in_netns

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, 112) as s:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(node.ipv4))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
            for m in messages:
                s.sendto(m, ("224.0.0.18", 0))
    in_netns(node.ns, send)


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_notify_fifo_group_scripts_and_rx_lower_priority(tmp_path):
    """keepalived's FIFO lines (as keepalived 2.2.7 writes them for the same events),
    the FIFO script run with the FIFO's path, the sync group's own notify scripts, and
    notify_master_rx_lower_pri on a lower-priority advert (injected from x)."""
    from fastka.wire import build_advert

    fifo = tmp_path / "vfifo"
    out = tmp_path / "fifo.out"
    ran = tmp_path / "ran"
    reader = _script(tmp_path / "reader.sh", f'echo "args: $@" >> {ran}\ntrap "" TERM\neval last=\\${{$#}}\n'
                     f'exec cat "$last" >> {out}\n')
    log = _script(tmp_path / "log.sh", f'echo "$@" >> {ran}\n')
    tf = tmp_path / "tf"
    tf.write_text("0\n")
    top = (f'global_defs {{\n    vrrp_notify_fifo {fifo}\n    vrrp_notify_fifo_script "{reader} first"\n}}\n'
           f'track_file t {{\n    file "{tf}"\n    weight 10\n}}\n'
           f'vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_2\n    }}\n'
           f'    notify_master "{log} g-master"\n    notify "{log} g-notify"\n    notify_stop "{log} g-stop"\n}}\n')
    # notify_deleted is for an instance a reload deletes: at stop keepalived reports STOP
    extra = f'notify_master_rx_lower_pri "{log} rx-lower"\nnotify_deleted "{log} deleted"'
    with lan(tmp_path, ["a", "x"]) as net:
        a, x = net.nodes
        a.start(top + instance(priority=200, extra=extra)
                + instance(name="VI_2", vrid=52, priority=200, vips=("10.99.0.101/24",))
                + instance(name="VI_3", vrid=53, priority=100, vips=("10.99.0.102/24",),
                           extra="notify_priority_changes\ntrack_file {\n    t\n}"))
        wait_for(lambda: a.has(VIP) and a.has("10.99.0.101") and a.has("10.99.0.102"), 10, "a to be master")
        assert fifo.is_fifo()
        tf.write_text("2\n")
        lower = build_advert(version=3, vrid=51, priority=50, advert_int_cs=10, addresses=[VIP], src="10.99.0.2",
                             dst="224.0.0.18")
        inject(x, [lower])
        wait_for(lambda: out.exists() and "MASTER_RX_LOWER_PRI" in out.read_text(), 5, "the rx-lower line")
        wait_for(lambda: "MASTER_PRIORITY" in out.read_text(), 5, "the priority line")
        assert a.stop() == 0
        wait_for(lambda: 'GROUP "G" STOP 0' in out.read_text(), 5, "the STOP lines")
        assert not fifo.exists(), "the FIFO fastka made is removed at exit"
    lines = out.read_text().splitlines()
    # the members' lines, then the group's; the order within one batch of transitions is free
    assert set(lines[:4]) == {'INSTANCE "VI_1" BACKUP 200', 'INSTANCE "VI_2" BACKUP 200',
                              'INSTANCE "VI_3" BACKUP 100', 'GROUP "G" BACKUP 0'}
    for want in ('INSTANCE "VI_1" MASTER 200', 'INSTANCE "VI_2" MASTER 200', 'GROUP "G" MASTER 0',
                 'INSTANCE "VI_3" MASTER 100', 'INSTANCE "VI_3" MASTER_PRIORITY 120',
                 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 200', 'INSTANCE "VI_1" STOP 200', 'INSTANCE "VI_3" STOP 120'):
        assert want in lines, (want, lines)
    assert lines.index('GROUP "G" MASTER 0') > max(lines.index('INSTANCE "VI_1" MASTER 200'),
                                                    lines.index('INSTANCE "VI_2" MASTER 200'))
    assert lines[-1] == 'GROUP "G" STOP 0'
    scripts = ran.read_text().splitlines()
    assert f"args: first {fifo}" in scripts, "the FIFO script gets the FIFO's path last"
    for want in ("g-master", "g-notify GROUP G BACKUP 0", "g-notify GROUP G MASTER 0", "g-stop",
                 "g-notify GROUP G STOP 0", "rx-lower"):
        assert want in scripts, (want, scripts)
    assert not any("deleted" in line or "DELETED" in line for line in scripts + lines)
    assert "not implemented" not in a.log_text()


def test_sync_group_tracking_applies_to_every_member(tmp_path):
    """The group's track_file (weight -60) lowers both members' priority: b takes both
    VIPs. A member's own weighted tracking is ignored in a sync group (keepalived)."""
    f = tmp_path / "f"
    f.write_text("0\n")
    own = tmp_path / "own"
    own.write_text("0\n")
    top = (f'track_file f {{\n    file "{f}"\n    weight -60\n}}\ntrack_file own {{\n    file "{own}"\n}}\n'
           'vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n'
           '    track_file {\n        f\n    }\n}\n')
    vip2 = "10.99.0.101"

    def conf(p, extra=""):
        return instance(priority=p, extra=extra) + instance(name="VI_2", vrid=52, priority=p, vips=(f"{vip2}/24",))

    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(top + conf(200, extra="track_file {\n    own weight -150\n}"))
        b.start(conf(100))
        wait_for(lambda: net.holders(VIP) == ["a"] and net.holders(vip2) == ["a"], 10, "a to hold both VIPs")
        assert "ignoring tracked file own with weight -150" in a.log_text()
        own.write_text("1\n")  # ignored: 200 - 150 would lose to b
        f.write_text("2\n")  # 200 - 120 = 80 on both members
        wait_for(lambda: net.holders(VIP) == ["b"] and net.holders(vip2) == ["b"], 5, "b to take both VIPs")
        f.write_text("0\n")
        wait_for(lambda: net.holders(VIP) == ["a"] and net.holders(vip2) == ["a"], 5, "a to take both back")
        assert "not implemented" not in a.log_text()


def _capture(ns: str, proto: int):
    """A packet socket in namespace ns that timestamps frames in the kernel."""
    import socket

    from ..netns import in_netns

    def make():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
        s.settimeout(0.2)
        return s
    return in_netns(ns, make)


def _frames(sock, want: int, timeout: float, keep) -> list[tuple[float, bytes]]:
    """(kernel receive time, frame) of the first `want` frames keep() accepts."""
    import struct

    out: list[tuple[float, bytes]] = []
    end = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < end:
        try:
            data, anc, _, _ = sock.recvmsg(2048, 64)
        except TimeoutError:
            continue
        ts = next((struct.unpack("=qq", d[:16]) for lvl, typ, d in anc if typ == 35), None)
        if ts is not None and keep(data):
            out.append((ts[0] + ts[1] / 1e9, data))
    return out


def test_garp_and_na_are_paced_per_interface(tmp_path):
    """vrrp_garp_interval 0.05 / vrrp_gna_interval 0.03: the 5 gratuitous ARPs and
    5 NAs of a new master leave at least that far apart (seen by b's kernel)."""
    import socket

    v4 = tuple(f"10.99.0.{100 + k}/24" for k in range(5))
    v6 = tuple(f"fd00:99::{100 + k}/64" for k in range(5))
    top = "global_defs {\n    vrrp_garp_interval 0.05\n    vrrp_gna_interval 0.03\n}\n"
    once = "garp_master_delay 0\ngarp_master_repeat 1"
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        arp = _capture(b.ns, 0x0806)
        na = _capture(b.ns, 0x86DD)
        try:
            a.start(top + instance(priority=200, vips=v4, extra=once)
                    + instance(name="VI_6", vrid=52, priority=200, vips=v6, extra=once))
            vips4 = {socket.inet_aton(v.split("/")[0]) for v in v4}
            vips6 = {socket.inet_pton(socket.AF_INET6, v.split("/")[0]) for v in v6}
            got4 = _frames(arp, 5, 10, lambda f: f[28:32] in vips4 and f[38:42] == f[28:32])
            got6 = _frames(na, 5, 10, lambda f: f[20] == 58 and f[54] == 136 and f[62:78] in vips6)
        finally:
            arp.close()
            na.close()
        assert {f[28:32] for _, f in got4} == vips4, "one gratuitous ARP per VIP"
        assert {f[62:78] for _, f in got6} == vips6, "one NA per VIP"
        for got, interval in ((got4, 0.05), (got6, 0.03)):
            gaps = [t2 - t1 for (t1, _), (t2, _) in zip(got, got[1:], strict=False)]
            assert min(gaps) > 0.6 * interval, gaps  # unpaced, they leave within a millisecond
        st = a.stats()
        assert st["counters"]["garp_paced_sent"] == 10
        assert "not implemented" not in a.log_text()


@pytest.mark.parametrize("seen_by", ["events", "scan"])
def test_track_process_moves_the_master(tmp_path, loop_kind, seen_by, monkeypatch):
    """a tracks a process (weight -150: none running makes 200 - 150 = 50 < b's 100),
    seen through process events (the proc connector, opened in the namespace fastka
    started in: it runs in a), or by the /proc scan (its timer drives the change)."""
    import shutil
    import uuid

    from fastka.vrrp.track_process import MODE_ENV

    if seen_by == "scan":
        monkeypatch.setenv(MODE_ENV, "scan")

    prog = tmp_path / f"fk{uuid.uuid4().hex[:10]}"
    shutil.copy("/bin/sleep", prog)
    top = f"vrrp_track_process daemon {{\n    process {prog.name}\n    weight -150\n}}\n"
    track = "track_process {\n    daemon\n}"
    proc = subprocess.Popen([str(prog), "60"])
    try:
        with lan(tmp_path, ["a", "b"]) as net:
            a, b = net.nodes
            a.start(top + instance(priority=200, extra=track))
            b.start(instance(priority=100))
            wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
            how = "process events" if seen_by == "events" else "/proc every 1.0 s"
            assert f"track_process: daemon up (1) ({how})" in a.log_text()
            proc.kill()
            proc.wait()
            wait_for(lambda: net.holders(VIP) == ["b"], 5, "b to take over when the process is gone")
            proc = subprocess.Popen([str(prog), "60"])
            wait_for(lambda: net.holders(VIP) == ["a"], 5, "a to preempt when it runs again")
            assert "not implemented" not in a.log_text()
    finally:
        proc.kill()
        proc.wait()


def test_static_rules_for_as_long_as_fastka_runs(tmp_path):
    """static_rules are added at start and removed at stop, as keepalived does: only
    fastka's (proto keepalived); the same rule added by someone else stays."""
    top = "static_rules {\n    from 10.5.0.0/16 table 100\n    to 10.6.0.0/16 table 101 preference 50\n}\n"
    with lan(tmp_path, ["a"]) as net:
        a, = net.nodes
        ip("-n", a.ns, "rule", "add", "from", "10.5.0.0/16", "table", "100", "pref", "16384")
        a.start(top + instance(priority=200, extra="virtual_rules {\n    from 10.7.0.0/16 table 102\n}"))
        wait_for(lambda: a.has(VIP), 10, "a to be master")
        out = rules(a)
        assert "50:\tfrom all to 10.6.0.0/16 lookup 101 proto keepalived" in out
        # no preference: keepalived's 16384 (static rules first), then 16383 for the instance's
        assert "16384:\tfrom 10.5.0.0/16 lookup 100 proto keepalived" in out
        assert "16383:\tfrom 10.7.0.0/16 lookup 102 proto keepalived" in out
        assert "rule without a preference: preference 16384" in a.log_text()
        assert a.stop() == 0
        out = rules(a)
        assert "keepalived" not in out
        assert "16384:\tfrom 10.5.0.0/16 lookup 100\n" in out, "the rule someone else added stays"


def test_static_addresses_and_routes_for_as_long_as_fastka_runs(tmp_path):
    """static_ipaddress / static_routes: set up at start (an address without dev on
    default_interface, eth0 by default), never moved by failover, removed at stop."""
    top = ("static_ipaddress {\n    10.99.5.1/24 dev eth0\n    10.99.6.1/32\n}\n"
           "static_routes {\n    10.50.0.0/16 via 10.99.0.254 dev eth0\n}\n")
    with lan(tmp_path, ["a"]) as net:
        a, = net.nodes
        a.start(top + instance(priority=200))
        wait_for(lambda: a.has(VIP), 10, "a to be master")
        assert {"10.99.5.1", "10.99.6.1"} <= a.addresses()
        assert "10.50.0.0/16 via 10.99.0.254 dev eth0" in ip("-n", a.ns, "route", "show")
        assert "not set up" not in a.log_text()
        assert a.stop() == 0
        assert not {"10.99.5.1", "10.99.6.1"} & a.addresses()
        assert "10.50.0.0/16" not in ip("-n", a.ns, "route", "show")


@pytest.mark.parametrize("kind", ["fastka", "keepalived"])
def test_static_track_group_faults_its_instances_while_a_static_link_is_down(tmp_path, kind):
    """track_group on static lines (keepalived 2.2.7, observed): the group's instances
    track the statics' interfaces (an address's dev, a route's dev, a rule's iif) and
    are in FAULT while one is down; when it comes back the statics are added again
    (the kernel dropped the route with the link) and the instance leaves FAULT. An
    instance outside the group does not care. The same file runs on keepalived."""
    if kind == "keepalived":
        from .cluster import need_keepalived

        need_keepalived()
    top = ("track_group TG {\n    group {\n        VI_1\n    }\n}\n"
           "static_ipaddress {\n    10.98.7.1/32 dev eth1 track_group TG\n}\n"
           "static_routes {\n    10.51.0.0/16 via 10.98.0.254 dev eth1 track_group TG\n"
           "    10.52.0.0/16 via 10.98.0.254 dev eth1\n}\n"
           "static_rules {\n    from 10.88.0.0/24 table 100 iif eth1 priority 100 track_group TG\n}\n")
    with lan(tmp_path, ["a"], links=2) as net:
        a, = net.nodes
        a.kind = kind
        a.start(top + instance(priority=200) + instance(name="VI_2", vrid=52, priority=200,
                                                         vips=("10.99.0.102/24",)))
        wait_for(lambda: a.has(VIP) and a.has("10.99.0.102"), 15, "a to be master of both")
        assert "10.51.0.0/16 via 10.98.0.254 dev eth1" in ip("-n", a.ns, "route", "show")
        # deleted by hand: with a track group in the file, every static route or rule is added
        # again at once, tracked or not (keepalived 2.2.7, observed)
        ip("-n", a.ns, "route", "del", "10.51.0.0/16")
        ip("-n", a.ns, "route", "del", "10.52.0.0/16")
        ip("-n", a.ns, "rule", "del", "priority", "100")
        wait_for(lambda: "10.51.0.0/16 via" in ip("-n", a.ns, "route", "show")
                 and "10.52.0.0/16 via" in ip("-n", a.ns, "route", "show")
                 and "100:\tfrom 10.88.0.0/24 iif eth1 lookup 100" in ip("-n", a.ns, "rule", "show"), 3,
                 "the static routes and rule to be added again")
        assert a.has(VIP), "VI_1 stays master"
        a.link(False, "eth1")
        wait_for(lambda: not a.has(VIP), 5, "VI_1 to leave MASTER (FAULT) with eth1 down")
        assert a.has("10.99.0.102"), "VI_2 is in no track group"
        assert "10.51.0.0/16" not in ip("-n", a.ns, "route", "show")
        a.link(True, "eth1")
        wait_for(lambda: "10.51.0.0/16 via 10.98.0.254 dev eth1" in ip("-n", a.ns, "route", "show"), 5,
                 "the static route to be added again with eth1 up")
        wait_for(lambda: a.has(VIP), 10, "VI_1 to be master again")
        assert "10.98.7.1" in a.addresses("eth1")
        assert a.stop() == 0


def test_a_masters_deleted_virtual_routes_and_rules_are_added_again(tmp_path, loop_kind):
    """A master's virtual route or rule someone deletes is added again (keepalived goes
    BACKUP and MASTER to do it; fastka, as for a VIP, without a transition); one with
    no_track is not; a backup's routes are not its to restore."""
    routes = ("virtual_routes {\n    10.55.0.0/16 via 10.99.0.254 dev eth0\n"
              "    10.56.0.0/16 via 10.99.0.254 dev eth0 no_track\n}\n"
              "virtual_rules {\n    from 10.99.0.100 table 100 preference 100\n}")
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200, extra=routes))
        b.start(instance(priority=100, extra=routes))
        wait_for(lambda: a.has(VIP) and "10.56.0.0/16" in ip("-n", a.ns, "route", "show"), 10, "a to be master")
        ip("-n", a.ns, "route", "del", "10.55.0.0/16")
        ip("-n", a.ns, "route", "del", "10.56.0.0/16")
        ip("-n", a.ns, "rule", "del", "priority", "100")
        wait_for(lambda: "10.55.0.0/16 via 10.99.0.254" in ip("-n", a.ns, "route", "show")
                 and "100:\tfrom 10.99.0.100 lookup 100" in ip("-n", a.ns, "rule", "show"), 3,
                 "the tracked route and the rule to be added again")
        assert "10.56.0.0/16" not in ip("-n", a.ns, "route", "show"), "no_track: left deleted"
        st = a.stats()["instances"][0]["counters"]
        assert st.get("routes_restored") == 1 and st.get("rules_restored") == 1, st
        assert "Entering BACKUP" not in a.log_text().split("Entering MASTER")[-1]
        # a reload that changes the route in place: deleted, it comes back as it is now
        changed = routes.replace("10.55.0.0/16 via 10.99.0.254", "10.55.0.0/16 via 10.99.0.253")
        a.reload(instance(priority=200, extra=changed))
        assert "changed in place" in a.log_text().split("reload: ")[-1]
        wait_for(lambda: "10.55.0.0/16 via 10.99.0.253" in ip("-n", a.ns, "route", "show"), 3, "the changed route")
        ip("-n", a.ns, "route", "del", "10.55.0.0/16")
        wait_for(lambda: "10.55.0.0/16 via" in ip("-n", a.ns, "route", "show"), 3, "the route to be added again")
        time.sleep(0.3)
        assert "10.55.0.0/16 via 10.99.0.253" in ip("-n", a.ns, "route", "show"), "the reloaded route, not the old one"
        a.signal(signal.SIGTERM)  # b takes over; a removes its routes on the way out
        wait_for(lambda: b.has(VIP) and "10.55.0.0/16" in ip("-n", b.ns, "route", "show"), 5, "b to take over")
        assert "10.55.0.0/16" not in ip("-n", a.ns, "route", "show")


def listener(node) -> socket.socket:
    """A TCP listener on every address of node's namespace."""
    def make() -> socket.socket:
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        s.listen(8)
        return s
    return in_netns(node.ns, make)


def connects(node, addr: str, port: int) -> bool:
    """Whether a TCP connection from node's namespace to addr:port is accepted."""
    def attempt() -> bool:
        with socket.socket() as c:
            c.settimeout(1.0)
            try:
                c.connect((addr, port))
            except OSError:
                return False
            return True
    return in_netns(node.ns, attempt)


def test_no_accept_drops_packets_to_the_vips_on_the_master(tmp_path):
    """vrrp_strict's no_accept: the master drops packets to its VIPs (an nftables table,
    as keepalived); with accept they answer; the table goes with fastka."""
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start("global_defs {\n    vrrp_strict\n}\n" + instance(priority=200))
        b.start(instance(priority=100))
        wait_for(lambda: net.holders(VIP) == ["a"], 10, "a to be master")
        srv_a, srv_b = listener(a), listener(b)
        port_a, port_b = srv_a.getsockname()[1], srv_b.getsockname()[1]
        wait_for(lambda: connects(b, a.ipv4, port_a), 5, "a's own address to accept")
        assert not connects(b, VIP, port_a), "no_accept: the VIP does not"
        out = ip("-n", a.ns, "-j", "addr")  # the VIP is there all the same
        assert VIP in out
        table = subprocess.run(["ip", "netns", "exec", a.ns, "nft", "list", "table", "inet", "fastka"],
                               capture_output=True, text=True, timeout=10).stdout
        assert "ip daddr @vips4 drop" in table and VIP in table
        assert a.stop() == 0
        gone = subprocess.run(["ip", "netns", "exec", a.ns, "nft", "list", "tables"], capture_output=True,
                              text=True, timeout=10).stdout
        assert "fastka" not in gone
        wait_for(lambda: b.has(VIP), 5, "b to take over")
        wait_for(lambda: connects(a, VIP, port_b), 5, "b to accept (the default without vrrp_strict)")
        srv_a.close()
        srv_b.close()


def test_unicast_instance_without_an_interface(tmp_path, loop_kind):
    """keepalived.conf(5) lets a unicast instance omit its interface: routing picks the
    way to the peers and the source address, adverts are taken from any interface, a VIP
    without a dev goes on default_interface (eth0 here). Each VIP's gratuitous ARP
    carries its own interface's MAC. Debian's keepalived 2.2.7 refuses such an instance
    ("Unknown interface!"), so its peer here names eth0."""
    from .cluster import need_keepalived

    need_keepalived()
    vips = ("10.99.0.100/24", "10.98.0.100/24 dev eth1")
    with lan(tmp_path, ["a", "b", "k"], links=2) as net:
        a, b, k = net.nodes
        k.kind = "keepalived"
        for n in (a, b, k):  # learn a neighbour from a gratuitous ARP: its sender MAC shows
            subprocess.run(["ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.conf.eth1.arp_accept=1"],
                           check=True, timeout=10)

        def conf(n, priority, interface=None) -> str:
            peers = [p.ipv4 for p in (a, b, k) if p is not n]
            return instance(priority=priority, interface=interface, vips=vips, unicast=(n.ipv4, peers)).replace(
                f"    unicast_src_ip {n.ipv4}\n", "" if interface is None else f"    unicast_src_ip {n.ipv4}\n")

        def holds(n) -> bool:
            return n.has(VIP) and "10.98.0.100" in n.addresses("eth1")

        def eth1_mac(n) -> str:
            return ip("-n", n.ns, "-br", "link", "show", "dev", "eth1").split()[2]

        a.start(conf(a, 200))
        b.start(conf(b, 150))
        k.start(conf(k, 100, "eth0"))
        wait_for(lambda: holds(a) and not b.has(VIP) and not k.has(VIP), 10, "a to be the only master")
        wait_for(lambda: eth1_mac(a) in ip("-n", b.ns, "neigh", "show", "10.98.0.100"), 5,
                 "a's gratuitous ARP for its eth1 VIP, from eth1's MAC")
        assert "on any interface (unicast)" in a.log_text()
        a.kill()  # its VIPs stay behind (SIGKILL)
        wait_for(lambda: holds(b), 5, "b to take over from the killed a")
        wait_for(lambda: eth1_mac(b) in ip("-n", k.ns, "neigh", "show", "10.98.0.100"), 5,
                 "b's gratuitous ARP on eth1")
        assert not k.has(VIP)
        assert b.stop() == 0  # priority 0: keepalived takes over at once
        assert not b.has(VIP)
        wait_for(lambda: k.has(VIP), 3, "keepalived to take over from b's priority 0")
        b.start(conf(b, 150))
        wait_for(lambda: holds(b) and not k.has(VIP), 10, "b to preempt keepalived")
