"""The shipped examples the demo runs: the good one is clean for both hosts, the broken
one reports exactly its mistakes."""

from pathlib import Path

import pytest

from fastka.config import load_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("cid,prio,router_id", [("lb1", 200, "lb1"), ("lb2", 100, "lb2")])
def test_example_is_clean_for_each_host(cid, prio, router_id):
    r = load_file(EXAMPLES / "keepalived.conf", config_id=cid, check_system=False)
    assert [str(d) for d in r.diagnostics] == []
    c = r.config
    assert c.global_defs.router_id == router_id
    assert [i.priority for i in c.vrrp_instances] == [prio, prio]
    assert [v.address for v in c.vrrp_instances[0].virtual_ipaddress] == [f"192.0.2.{n}" for n in range(10, 14)]
    assert c.vrrp_instances[0].advert_int == 0.5 and c.vrrp_instances[0].version == 3
    vs = c.virtual_servers[0]
    assert (vs.lvs_sched, vs.protocol, [rs.ip for rs in vs.real_servers]) == \
        ("wlc", "TCP", ["198.51.100.11", "198.51.100.12"])


def test_broken_example_reports_each_mistake():
    path = EXAMPLES / "broken.conf"
    r = load_file(path, check_system=False)
    got = sorted((e.pos.line, e.pos.col) for e in r.diagnostics.errors)
    assert got == [(11, 23), (12, 5), (13, 5), (15, 9), (24, 9), (30, 5), (39, 9)]
    assert all(e.pos.file == str(path) for e in r.diagnostics.errors)


@pytest.mark.timeout(120)
def test_live_demo_runs_and_cleans_up():
    """`fastka demo` (the README's run command, through scripts/demo): election,
    failover, preemption, clean stop; and no namespace of its own is left behind."""
    import subprocess
    import sys

    from .netns import skip_unless_netns

    skip_unless_netns()
    p = subprocess.run([sys.executable, "-m", "fastka", "demo"], capture_output=True, text=True, timeout=100)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout
    assert "election: node-a (priority 200) holds every VIP" in out
    assert "node-b holds its first VIP" in out and "node-a holds every VIP again" in out
    after_stop = out.split("SIGTERM both")[1]
    assert "node-a (priority 200): 0 VIPs" in after_stop and "node-b (priority 100): 0 VIPs" in after_stop
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    tag = out.split("namespaces fkdemo-br-")[1][:6]
    assert tag not in left
