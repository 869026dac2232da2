"""Which objects an instance tracks, with which weights, in and out of sync groups."""

from fastka.config import load_text
from fastka.vrrp.track import Tracked
from fastka.vrrp.tracking import Resolver

CONF = """
vrrp_script s {
    script "/bin/true"
    weight -20 reverse
}
track_file f {
    file "/tmp/f"
}
vrrp_track_process p {
    process sshd
    weight 4
}
vrrp_sync_group G {
    group {
        A
        B
    }
    track_file {
        f weight 3
    }
    track_interface {
        eth2
    }
    %s
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    track_script {
        s
        s weight 0
    }
    track_file {
        f
    }
    track_interface {
        eth1 weight 7
    }
    track_process {
        p
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        10.0.0.2
    }
}
vrrp_instance C {
    interface eth0
    virtual_router_id 3
    track_script {
        s weight 5
    }
    virtual_ipaddress {
        10.0.0.3
    }
}
"""


def resolve(extra: str = ""):
    r = load_text(CONF % extra, filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    res = Resolver(r.config)
    by = {i.name: i for i in r.config.vrrp_instances}
    return res, {n: res.for_instance(by[n], "G" if n in ("A", "B") else None) for n in "ABC"}


def test_group_lines_apply_to_every_member_and_weighted_own_lines_are_dropped(caplog):
    res, t = resolve()
    group = [Tracked("interface", "eth2", 0, False), Tracked("file", "f", 3, False)]
    # A keeps its weight-0 script and its weighted interface (as keepalived), loses the
    # weighted script, file and process
    assert t["A"] == [Tracked("script", "s", 0, False), Tracked("interface", "eth1", 7, False), *group]
    assert t["B"] == group
    assert t["C"] == [Tracked("script", "s", 5, False)], "the line's weight, without the block's reverse"
    assert "(A) ignoring tracked script s with weight -20" in caplog.text
    assert "(A) ignoring tracked process p with weight 4" in caplog.text
    assert res.used.scripts == {"s"} and res.used.files == {"f"} and res.used.processes == {"p"}


def test_sync_group_tracking_weight_keeps_the_members_weights():
    _, t = resolve("sync_group_tracking_weight")
    assert t["A"][:5] == [Tracked("script", "s", -20, True), Tracked("script", "s", 0, False),
                          Tracked("interface", "eth1", 7, False), Tracked("file", "f", 1, False),
                          Tracked("process", "p", 4, False)]
