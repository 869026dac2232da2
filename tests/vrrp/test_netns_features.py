"""The VRRP engine's keepalived features beyond election, with real namespaces:
virtual_rules, track_file, notify FIFOs, sync-group scripts and tracking,
notify_master_rx_lower_pri, GARP pacing, track_process."""

from __future__ import annotations

import pytest

from ..netns import ip
from .cluster import instance, lan, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["native", "python"])
def loop_kind(request, monkeypatch):
    """The engine's loop: the native one (the default), or its Python twin."""
    import fastka

    if request.param == "native" and fastka.native is None:
        pytest.skip("no native core")
    monkeypatch.setenv("FASTKA_VRRP_LOOP", request.param)
    return request.param

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
