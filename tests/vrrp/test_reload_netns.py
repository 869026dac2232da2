"""VRRP reload on SIGHUP between two fastka nodes in network namespaces: unchanged
instances keep their state and VIPs, removed ones stop (priority 0, notify DELETED),
new ones start, a priority change is applied in place, a file with errors changes
nothing (fastka.vrrp.reload).

VRRPv3 at advert_int 0.1 s: Master_Down_Interval about 0.35 s, so a reload that paused
the master's adverts for longer would show as a transition on the backup."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from ..netns import in_netns, ip
from .cluster import instance, lan, need_keepalived, wait_for

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

VIP1, VIP2, VIP3 = "10.99.0.101", "10.99.0.102", "10.99.0.103"


def conf(tmp_path, node: str, *insts: str) -> str:
    return (f"global_defs {{\n    vrrp_notify_fifo {tmp_path}/{node}.fifo\n    script_user root\n}}\n"
            + "".join(insts))


def inst(name: str, vrid: int, prio: int, vip: str, extra: str = "", notify: str = "") -> str:
    more = f"notify {notify}\n" if notify else ""
    return instance(name=name, vrid=vrid, priority=prio, vips=(f"{vip}/24",), extra=more + extra)


def states(node) -> dict[str, tuple[str, dict]]:
    return {i["name"]: (i["state"], i["counters"]) for i in node.stats()["instances"]}


def entering(node) -> int:
    return node.log_text().count("Entering ")


def fifo_lines(path) -> list[str]:
    """What fastka wrote to its notify FIFO so far (it holds it open read-write; the
    lines wait in the pipe)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    return data.decode().splitlines()


class GarpCounter:
    """Gratuitous ARP frames for an address, as a node's eth0 receives them (an
    AF_PACKET socket made in its namespace)."""

    def __init__(self, ns: str, address: str) -> None:
        def make() -> socket.socket:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
            s.bind(("eth0", 0x0806))
            s.setblocking(False)
            return s

        self.sock = in_netns(ns, make)
        self.address = socket.inet_aton(address)
        self.seen = 0

    def count(self) -> int:
        while True:
            try:
                frame = self.sock.recv(2048)
            except BlockingIOError:
                return self.seen
            if frame[28:32] == self.address:  # the ARP sender's protocol address
                self.seen += 1


def two_nodes(net, tmp_path, a_insts, b_insts):
    a, b = net.nodes
    a.start(conf(tmp_path, "a", *a_insts))
    b.start(conf(tmp_path, "b", *b_insts))
    wait_for(lambda: a.has(VIP1) and a.has(VIP2), 10, "a to be master of VI_1 and VI_2")
    wait_for(lambda: all(s == "BACKUP" for s, _ in states(b).values()), 5, "b to be backup of both")
    time.sleep(0.5)  # settled: b has heard a for more than a Master_Down_Interval
    return a, b


def test_unchanged_file_changes_nothing(tmp_path, loop_kind):
    """SIGHUP with the same file on both nodes: no transition anywhere, the master's
    VIPs never leave (watched with `ip monitor`), the backup never sees Master_Down."""
    with lan(tmp_path, ["a", "b"]) as net:
        quiet = "garp_master_delay 0"  # no second GARP burst 5 s after becoming master
        a_cfg = conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1, quiet), inst("VI_2", 52, 200, VIP2, quiet))
        b_cfg = conf(tmp_path, "b", inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2))
        a, b = net.nodes
        garps = GarpCounter(b.ns, VIP1)
        a.start(a_cfg)
        b.start(b_cfg)
        wait_for(lambda: a.has(VIP1) and a.has(VIP2), 10, "a to be master")
        wait_for(lambda: all(s == "BACKUP" for s, _ in states(b).values()), 5, "b to be backup")
        time.sleep(0.5)
        before_a, before_b = states(a), states(b)
        moves_a, moves_b = entering(a), entering(b)
        sent = garps.count()
        assert sent >= 1, "b saw a's gratuitous ARP when it became master"
        mon = subprocess.Popen(["ip", "-n", a.ns, "monitor", "address"], stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.2)
            for _ in range(3):
                a.reload(a_cfg)
                b.reload(b_cfg)
            time.sleep(1.0)  # three Master_Down_Intervals after the last reload
        finally:
            mon.terminate()
            watched = mon.communicate(timeout=5)[0]
        assert "Deleted" not in watched, f"a VIP left the master during the reload:\n{watched}"
        assert garps.count() == sent, "no gratuitous ARP for an unchanged master's VIP"
        garps.sock.close()
        after_a, after_b = states(a), states(b)
        assert {n: s for n, (s, _) in after_a.items()} == {"VI_1": "MASTER", "VI_2": "MASTER"}
        assert {n: s for n, (s, _) in after_b.items()} == {"VI_1": "BACKUP", "VI_2": "BACKUP"}
        for name in ("VI_1", "VI_2"):
            # (b may have been master for a moment at startup, before it heard a)
            assert after_b[name][1].get("became_master", 0) == before_b[name][1].get("became_master", 0)
            assert after_a[name][1].get("became_backup", 0) == before_a[name][1].get("became_backup", 0)
            assert after_a[name][1].get("became_master") == before_a[name][1].get("became_master") == 1
            assert after_a[name][1].get("priority_zero_sent", 0) == 0
            # counters carried through the reload: they only grew
            assert after_a[name][1]["adverts_sent"] > before_a[name][1]["adverts_sent"]
            assert after_b[name][1]["rx"] > before_b[name][1]["rx"]
        assert entering(a) == moves_a and entering(b) == moves_b, "no state transition on either node"
        assert a.log_text().count("2 instances kept (0 of them changed), 0 added, 0 removed") == 3
        assert a.log_text().count("the VRRP configuration is unchanged, nothing to rebuild") == 3
        assert a.has(VIP1) and a.has(VIP2) and not b.has(VIP1) and not b.has(VIP2)


def test_a_reload_for_the_checkers_leaves_vrrp_as_it_is(tmp_path):
    """A virtual_server added (the checkers' part of the file): the VRRP child keeps its
    instances, timers and loop (nothing rebuilt); a later priority change is still
    applied, in place (the other instance, its timers and the loop left as they are)."""
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = two_nodes(net, tmp_path, [inst("VI_1", 51, 200, VIP1), inst("VI_2", 52, 200, VIP2)],
                         [inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        moves_b = entering(b)
        lvs = "virtual_server 10.99.0.101 80 {\n    protocol TCP\n    real_server 10.99.0.9 80 {\n    }\n}\n"
        a_cfg = conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1), inst("VI_2", 52, 200, VIP2))
        a.reload(a_cfg + lvs)
        assert "the VRRP configuration is unchanged, nothing to rebuild" in a.log_text(), a.log_text()
        b.reload(conf(tmp_path, "b", inst("VI_1", 51, 250, VIP1), inst("VI_2", 52, 100, VIP2)) + lvs)
        assert "2 instances kept (1 of them changed), 0 added, 0 removed; changed in place" in b.log_text(), \
            b.log_text()
        wait_for(lambda: b.has(VIP1) and not a.has(VIP1), 5, "b, now priority 250, to preempt VI_1")
        assert states(b)["VI_2"][0] == "BACKUP" and a.has(VIP2)
        assert entering(b) > moves_b


def test_instance_added_and_removed(tmp_path, loop_kind):
    """a drops VI_2 and gets VI_3: VI_2 sends priority 0 and releases its VIP (b takes
    it over), notify reports DELETED (notify_deleted), VI_3 starts and becomes master,
    VI_1 is untouched; stats and JSON name the new set."""
    notify = tmp_path / "notify.sh"
    out = tmp_path / "notify.out"
    notify.write_text(f"#!/bin/sh\necho \"$*\" >> {out}\n")
    notify.chmod(0o755)
    with lan(tmp_path, ["a", "b"]) as net:
        vi1 = inst("VI_1", 51, 200, VIP1)
        a, b = two_nodes(net, tmp_path, [vi1, inst("VI_2", 52, 200, VIP2, "notify_deleted", str(notify))],
                         [inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        moves = a.log_text().count("(VI_1) Entering")
        a.reload(conf(tmp_path, "a", vi1, inst("VI_3", 53, 200, VIP3)))
        assert not a.has(VIP2), "the removed instance's VIP went with the reload"
        wait_for(lambda: b.has(VIP2), 3, "b to take VI_2 over")
        wait_for(lambda: a.has(VIP3), 5, "the new VI_3 to become master on a")
        text = a.log_text()
        assert "(VI_2) sent 0 priority" in text
        assert "(VI_2) removed by the reload" in text
        assert "1 instances kept (0 of them changed), 1 added, 1 removed" in text
        assert "(VI_3) Entering BACKUP STATE" in text and "(VI_3) Entering MASTER STATE" in text
        assert text.count("(VI_1) Entering") == moves, "VI_1 had no transition"
        assert a.has(VIP1) and not b.has(VIP1)
        wait_for(lambda: out.exists() and "INSTANCE VI_2 DELETED 200" in out.read_text(), 3, "notify DELETED")
        assert "INSTANCE VI_2 STOP" not in out.read_text(), "a removed instance reports DELETED, not STOP"
        assert 'INSTANCE "VI_2" DELETED 200' in fifo_lines(tmp_path / "a.fifo")
        st = states(a)
        assert {n: s for n, (s, _) in st.items()} == {"VI_1": "MASTER", "VI_3": "MASTER"}
        assert st["VI_1"][1]["became_master"] == 1
        stats = a.state_dir / "fastka.stats"
        stats.unlink(missing_ok=True)
        a.signal(signal.SIGUSR2)
        wait_for(stats.exists, 5, "the stats file")
        assert "VRRP Instance: VI_3" in stats.read_text() and "VI_2" not in stats.read_text()


@pytest.mark.parametrize("nopreempt", [False, True])
def test_priority_change_in_place(tmp_path, nopreempt):
    """b's VI_1 priority goes from 100 to 250: b takes over (it ignores the master's
    lower adverts until Master_Down), or, with nopreempt, stays backup; VI_2 is untouched."""
    extra = "nopreempt" if nopreempt else ""
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = two_nodes(net, tmp_path, [inst("VI_1", 51, 200, VIP1), inst("VI_2", 52, 200, VIP2)],
                         [inst("VI_1", 51, 100, VIP1, extra), inst("VI_2", 52, 100, VIP2)])
        # (either node may have been master for a moment at startup: count from here)
        b1, b2 = b.log_text().count("(VI_1) Entering MASTER"), b.log_text().count("(VI_2) Entering MASTER")
        b.reload(conf(tmp_path, "b", inst("VI_1", 51, 250, VIP1, extra), inst("VI_2", 52, 100, VIP2)))
        assert "1 of them changed" in b.log_text()
        if nopreempt:
            time.sleep(1.5)  # four Master_Down_Intervals
            assert a.has(VIP1) and not b.has(VIP1)
            assert b.log_text().count("(VI_1) Entering MASTER") == b1
        else:
            wait_for(lambda: b.has(VIP1) and not a.has(VIP1), 3, "b (now 250) to preempt VI_1")
            st = states(b)
            assert st["VI_1"][0] == "MASTER" and st["VI_2"][0] == "BACKUP"
        assert {i["name"]: i["priority"] for i in b.stats()["instances"]} == {"VI_1": 250, "VI_2": 100}
        assert a.has(VIP2) and not b.has(VIP2)
        assert b.log_text().count("(VI_2) Entering MASTER") == b2


def test_file_with_errors_changes_nothing(tmp_path, loop_kind):
    """A file with an error: logged with its line, nothing changes, the node runs on."""
    with lan(tmp_path, ["a", "b"]) as net:
        a_insts = [inst("VI_1", 51, 200, VIP1), inst("VI_2", 52, 200, VIP2)]
        a, b = two_nodes(net, tmp_path, a_insts, [inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        moves = entering(a), entering(b)
        good = conf(tmp_path, "a", *a_insts)
        bad = good + "vrrp_instance VI_3 {\n    interface eth0\n    virtual_router_id 53\n    priority abc\n}\n"
        line = len(good.splitlines()) + 4
        a.reload(bad)
        text = a.log_text()
        assert f"a.conf:{line}:" in text, text[-2000:]
        assert "errors; nothing changed" in text
        time.sleep(0.5)
        assert {i["name"]: i["state"] for i in a.stats()["instances"]} == {"VI_1": "MASTER", "VI_2": "MASTER"}
        assert a.has(VIP1) and a.has(VIP2)
        assert (entering(a), entering(b)) == moves
        # the node still reloads a good file afterwards
        a.reload(good)
        assert "2 instances kept (0 of them changed), 0 added, 0 removed" in a.log_text()


def test_a_new_password_changed_in_place(tmp_path, loop_kind):
    """VRRPv2 with PASS: both nodes reload a new auth_pass (in place: the native loop's
    slot takes the new key). The backup keeps accepting the master's adverts (with the
    old key it would drop them and take over): no transition either side."""
    def v2(name, vrid, prio, vip, password):
        return instance(name=name, vrid=vrid, priority=prio, version=2, advert_int="1", vips=(f"{vip}/24",),
                        auth=("PASS", password))

    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(conf(tmp_path, "a", v2("VI_1", 51, 200, VIP1, "old")))
        b.start(conf(tmp_path, "b", v2("VI_1", 51, 100, VIP1, "old")))
        wait_for(lambda: a.has(VIP1) and states(b)["VI_1"][0] == "BACKUP", 10, "a master, b backup")
        time.sleep(1.5)
        moves = (entering(a), entering(b))
        a.reload(conf(tmp_path, "a", v2("VI_1", 51, 200, VIP1, "new")))
        b.reload(conf(tmp_path, "b", v2("VI_1", 51, 100, VIP1, "new")))
        for node in (a, b):
            assert "1 instances kept (1 of them changed), 0 added, 0 removed; changed in place" in node.log_text()
        rx = states(b)["VI_1"][1]["rx"]
        time.sleep(4.5)  # more than a Master_Down_Interval of advert_int 1
        assert (entering(a), entering(b)) == moves, "no transition: b accepts the new password"
        assert states(b)["VI_1"][1]["rx"] >= rx + 3 and a.has(VIP1) and not b.has(VIP1)


def test_sync_group_members_changed_in_place(tmp_path):
    """b's sync group {VI_1, VI_2}: a reload raises both priorities to 250 (changed in
    place: the group then holds the new instances); b takes both over together, a gives
    both up. (Raising VI_1 alone leaves the group as it is, in fastka as in keepalived: a
    group goes master only when all its members would.)"""
    group = "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = two_nodes(net, tmp_path, [group, inst("VI_1", 51, 200, VIP1), inst("VI_2", 52, 200, VIP2)],
                         [group, inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        b.reload(conf(tmp_path, "b", group, inst("VI_1", 51, 250, VIP1), inst("VI_2", 52, 250, VIP2)))
        assert "2 instances kept (2 of them changed), 0 added, 0 removed; changed in place" in b.log_text()
        wait_for(lambda: b.has(VIP1) and b.has(VIP2), 5, "b master of both")
        wait_for(lambda: not a.has(VIP1) and not a.has(VIP2), 5, "a to give both up")
        wait_for(lambda: "VRRP_Group(G) Entering MASTER state" in b.log_text(), 5, "b's group to report MASTER")
        assert {i["name"]: i["priority"] for i in b.stats()["instances"]} == {"VI_1": 250, "VI_2": 250}


def test_unchanged_sync_group_and_script_untouched(tmp_path):
    """A sync group and a vrrp_script survive an unchanged reload: the script keeps its
    state (it is not run from init_fail again: one "succeeded" only), the priority it
    adds stays, the group reports no new state."""
    script = ('vrrp_script chk {\n    script "/bin/true"\n    interval 1\n    weight 10\n    init_fail\n}\n'
              'vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n'
              '    sync_group_tracking_weight\n}\n')
    track = "track_script {\n    chk\n}"
    with lan(tmp_path, ["a", "b"]) as net:
        a_cfg = conf(tmp_path, "a", script, inst("VI_1", 51, 200, VIP1, track), inst("VI_2", 52, 200, VIP2))
        a, b = two_nodes(net, tmp_path, [script, inst("VI_1", 51, 200, VIP1, track), inst("VI_2", 52, 200, VIP2)],
                         [inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        wait_for(lambda: "VRRP_Script(chk) succeeded" in a.log_text(), 5, "the script to succeed")
        wait_for(lambda: {i["name"]: i["priority"] for i in a.stats()["instances"]}["VI_1"] == 210, 3, "210")
        groups, moves = a.log_text().count("VRRP_Group(G)"), entering(a)
        a.reload(a_cfg)
        a.reload(a_cfg)
        time.sleep(1.5)  # a script run or more after the reloads
        text = a.log_text()
        assert text.count("VRRP_Script(chk) succeeded") == 1
        assert text.count("VRRP_Group(G)") == groups and entering(a) == moves
        assert {i["name"]: i["priority"] for i in a.stats()["instances"]} == {"VI_1": 210, "VI_2": 200}
        assert a.has(VIP1) and a.has(VIP2)


def test_vip_change_and_vrid_change(tmp_path, loop_kind):
    """A master's VIP list changes: only the difference is added / removed (the kept
    VIP never leaves); a VRID change is a removal and an addition (FAULT reported
    without notify_deleted)."""
    notify = tmp_path / "notify.sh"
    out = tmp_path / "notify.out"
    notify.write_text(f"#!/bin/sh\necho \"$*\" >> {out}\n")
    notify.chmod(0o755)
    vi2 = inst("VI_2", 52, 200, VIP2, notify=str(notify))
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = two_nodes(net, tmp_path, [inst("VI_1", 51, 200, VIP1), vi2],
                         [inst("VI_1", 51, 100, VIP1), inst("VI_2", 52, 100, VIP2)])
        two = instance(name="VI_1", vrid=51, priority=200, vips=(f"{VIP1}/24", "10.99.0.104/24"))
        moves = a.log_text().count("(VI_1) Entering")
        mon = subprocess.Popen(["ip", "-n", a.ns, "monitor", "address"], stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.2)
            a.reload(conf(tmp_path, "a", two, vi2))
            wait_for(lambda: a.has("10.99.0.104"), 2, "the added VIP")
            a.reload(conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1), vi2))
            wait_for(lambda: not a.has("10.99.0.104"), 2, "the removed VIP to go")
            time.sleep(0.3)
        finally:
            mon.terminate()
            watched = mon.communicate(timeout=5)[0]
        deleted = [line for line in watched.splitlines() if line.startswith("Deleted")]
        assert len(deleted) == 1 and "10.99.0.104" in deleted[0], watched
        assert a.log_text().count("(VI_1) Entering") == moves
        assert "(VI_1) reload: 1 addresses added, 0 removed" in a.log_text()
        # VI_2 moves to VRID 62: removed (priority 0: b takes 52 over) and added (alone on 62)
        a.reload(conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1), inst("VI_2", 62, 200, "10.99.0.106",
                                                                         notify=str(notify))))
        assert "1 instances kept (0 of them changed), 1 added, 1 removed" in a.log_text()
        wait_for(lambda: b.has(VIP2) and a.has("10.99.0.106"), 3, "b to take VRID 52, a to hold VRID 62")
        wait_for(lambda: out.exists() and "INSTANCE VI_2 FAULT 200" in out.read_text(), 3, "notify FAULT")


def test_ah_sequence_carried(tmp_path, loop_kind):
    """VRRPv2 with AH: the master's sequence number goes on through a reload that
    rebuilds (an instance added in front renumbers VI_1: a new native loop starting
    again from 0 would make the backup drop every advert as a replay), and so do its
    counters."""
    def v2(prio: int) -> str:
        return instance(name="VI_1", vrid=51, priority=prio, version=2, advert_int="1", vips=(f"{VIP1}/24",),
                        auth=("AH", "secret"))

    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(conf(tmp_path, "a", v2(200)))
        b.start(conf(tmp_path, "b", v2(100)))
        wait_for(lambda: a.has(VIP1) and states(b)["VI_1"][0] == "BACKUP", 10, "a master, b backup")
        rx = states(b)["VI_1"][1].get("rx", 0)
        sent = states(a)["VI_1"][1]["adverts_sent"]
        a.reload(conf(tmp_path, "a", inst("VI_0", 50, 200, VIP2), v2(200)))
        assert "1 instances kept (0 of them changed), 1 added, 0 removed" in a.log_text(), a.log_text()
        wait_for(lambda: states(b)["VI_1"][1].get("rx", 0) >= rx + 2, 5, "two more adverts at b")
        counters = states(b)["VI_1"][1]
        assert counters.get("rx_drop_replay", 0) == 0 and counters.get("rx_drop_auth", 0) == 0, counters
        assert states(b)["VI_1"][0] == "BACKUP" and a.has(VIP1)
        assert states(a)["VI_1"][1]["adverts_sent"] >= sent + 2, "the counters went on from where they were"


def test_tracked_priority_carried_through_a_rebuild(tmp_path, loop_kind):
    """a's VI_1 is configured at 100 and a track_file adds 150: a (250) is master over b
    (200). A reload that adds an instance (everything renumbered and rebuilt, the
    adverts made again from the configuration) keeps the effective priority in a's
    adverts: b, which would preempt a master at 100, stays backup."""
    track = tmp_path / "track"
    track.write_text("150\n")
    top = f'track_file t {{\n    file "{track}"\n}}\n'
    vi1_a = inst("VI_1", 51, 100, VIP1, "track_file {\n    t\n}")
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(top + conf(tmp_path, "a", vi1_a))
        b.start(conf(tmp_path, "b", inst("VI_1", 51, 200, VIP1)))
        wait_for(lambda: a.has(VIP1) and states(b)["VI_1"][0] == "BACKUP", 10, "a master at 250 over b's 200")
        moves_b = entering(b)
        a.reload(top + conf(tmp_path, "a", inst("VI_0", 50, 200, VIP2), vi1_a))
        assert "1 instances kept (0 of them changed), 1 added, 0 removed" in a.log_text(), a.log_text()
        wait_for(lambda: a.has(VIP2), 5, "the added VI_0 to become master on a")
        time.sleep(1.0)  # Master_Down_Interval three times over
        assert a.has(VIP1) and not b.has(VIP1)
        assert entering(b) == moves_b, "b stayed backup: a's adverts still carry 250"
        track.write_text("0\n")  # the track lifted: b (200) preempts a (100), so the tracking went on
        wait_for(lambda: b.has(VIP1) and not a.has(VIP1), 5, "b to preempt a at 100")


def test_vmacs_kept_made_and_removed_by_reloads(tmp_path):
    """An unchanged use_vmac instance keeps its VMAC (the same link, its VIP on it); an
    added use_vmac instance gets its VMAC made (with vmac_protodown too: its VIP on it
    from the start, the carrier its state); a removed one's VMAC goes; a renamed
    instance takes its VMAC on (the same link)."""
    with lan(tmp_path, ["a"]) as net:
        (a,) = net.nodes
        vm = inst("VI_1", 51, 200, VIP1, "use_vmac")

        def on(dev: str, vip: str) -> bool:
            try:
                return vip in a.addresses(dev)
            except subprocess.CalledProcessError:  # not made yet
                return False

        def index(dev: str) -> str:
            return ip("-n", a.ns, "-o", "link", "show", dev).split(":")[0]

        def exists(dev: str) -> bool:
            return subprocess.run(["ip", "-n", a.ns, "link", "show", dev], capture_output=True).returncode == 0

        a.start(conf(tmp_path, "a", vm))
        wait_for(lambda: on("vrrp.51", VIP1), 10, "the VIP on the VMAC")
        link = index("vrrp.51")
        a.reload(conf(tmp_path, "a", vm))
        two = inst("VI_2", 52, 200, VIP2, "use_vmac")
        three = inst("VI_3", 53, 200, VIP3, "use_vmac\nvmac_protodown")
        a.reload(conf(tmp_path, "a", vm, two, three))
        text = a.log_text()
        assert "1 instances kept (0 of them changed), 2 added, 0 removed" in text, text
        assert "(VI_2) VMAC vrrp.52 made on eth0" in text and "(VI_3) VMAC vrrp.53 made on eth0 (protodown)" in text
        wait_for(lambda: on("vrrp.52", VIP2), 10, "VI_2's VIP on its new VMAC")
        assert on("vrrp.53", VIP3), "vmac_protodown: the VIP is on the VMAC"
        wait_for(lambda: "LOWER_UP" in ip("-n", a.ns, "link", "show", "vrrp.53"), 10, "VI_3 master: carrier on")
        assert index("vrrp.51") == link and on("vrrp.51", VIP1)
        assert [i["name"] for i in a.stats()["instances"]] == ["VI_1", "VI_2", "VI_3"]
        a.reload(conf(tmp_path, "a", vm, three))
        assert "(VI_2) VMAC vrrp.52 removed with its instance" in a.log_text()
        assert not exists("vrrp.52") and not a.has(VIP2)
        assert on("vrrp.53", VIP3) and on("vrrp.51", VIP1)
        a.reload(conf(tmp_path, "a", inst("VI_9", 51, 200, VIP1, "use_vmac"), three))
        assert "(VI_9) takes on VMAC vrrp.51" in a.log_text()
        assert index("vrrp.51") == link
        wait_for(lambda: on("vrrp.51", VIP1), 10, "VI_9 master, its VIP on the VMAC")
        assert [i["name"] for i in a.stats()["instances"]] == ["VI_9", "VI_3"]
        assert "taking over the existing VMAC" not in a.log_text()
        text = a.log_text()
        assert "Traceback" not in text and "removing a VMAC" not in text and "nothing changed" not in text, text
        a.stop()
        assert not exists("vrrp.51") and not exists("vrrp.53"), "the VMACs go at stop"


def test_keepalived_backup_sees_no_gap(tmp_path):
    """Debian's keepalived as the backup peer: fastka's master reloads (unchanged file,
    then a priority change that keeps it master) and keepalived never takes over."""
    need_keepalived()
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        b.kind = "keepalived"
        a_cfg = conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1))
        a.start(a_cfg)
        b.start(instance(name="VI_1", vrid=51, priority=100, vips=(f"{VIP1}/24",)))
        wait_for(lambda: "Entering BACKUP STATE" in b.log_text() and a.has(VIP1), 10, "a master, keepalived backup")
        time.sleep(0.5)
        masters = b.log_text().count("Entering MASTER STATE")
        for _ in range(3):
            a.reload(a_cfg)
        a.reload(conf(tmp_path, "a", inst("VI_1", 51, 150, VIP1)))
        time.sleep(1.0)
        assert b.log_text().count("Entering MASTER STATE") == masters, b.log_text()[-1500:]
        assert a.has(VIP1) and not b.has(VIP1)
        assert {i["name"]: i["priority"] for i in a.stats()["instances"]} == {"VI_1": 150}


def test_no_accept_sets_follow_a_reload(tmp_path):
    """vrrp_strict's no_accept: a VIP added by a reload is in the nftables set, one
    removed by a reload leaves it."""
    def table(node) -> str:
        return subprocess.run(["ip", "netns", "exec", node.ns, "nft", "list", "table", "inet", "fastka"],
                              capture_output=True, text=True, timeout=10).stdout

    strict = "global_defs {\n    vrrp_strict\n}\n"
    with lan(tmp_path, ["a"]) as net:
        (a,) = net.nodes
        a.start(strict + instance(name="VI_1", vrid=51, priority=200, vips=(f"{VIP1}/24",)))
        wait_for(lambda: a.has(VIP1), 10, "a to be master")
        assert VIP1 in table(a) and VIP2 not in table(a)
        a.reload(strict + instance(name="VI_1", vrid=51, priority=200, vips=(f"{VIP1}/24", f"{VIP2}/24")))
        wait_for(lambda: a.has(VIP2), 3, "the added VIP")
        assert VIP1 in table(a) and VIP2 in table(a)
        a.reload(strict + instance(name="VI_1", vrid=51, priority=200, vips=(f"{VIP2}/24",)))
        wait_for(lambda: not a.has(VIP1), 3, "the removed VIP to go")
        assert VIP1 not in table(a) and VIP2 in table(a)


def test_missing_interface_changes_nothing(tmp_path):
    """A new instance on an interface this host does not have: the reload is refused
    as a whole (the other changes in the file are not applied either)."""
    with lan(tmp_path, ["a"]) as net:
        (a,) = net.nodes
        a.start(conf(tmp_path, "a", inst("VI_1", 51, 200, VIP1)))
        wait_for(lambda: a.has(VIP1), 10, "a to be master")
        a.reload(conf(tmp_path, "a", inst("VI_1", 51, 150, VIP1),
                      instance(name="VI_9", vrid=59, priority=200, vips=(f"{VIP2}/24",), interface="eth9")))
        text = a.log_text()
        assert "eth9" in text and "nothing changed" in text
        assert {i["name"]: i["priority"] for i in a.stats()["instances"]} == {"VI_1": 200}
        assert a.has(VIP1) and not a.has(VIP2)
