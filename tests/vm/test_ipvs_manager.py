"""fastka's IPVS manager against a real IPVS kernel (in the QEMU guest): a configuration
becomes the table ipvsadm reads, only the difference is sent when entries are already
there, other services are left alone, checker verdicts move weights and entries, the
sorry server takes over without quorum, and stop removes what fastka made."""

from __future__ import annotations

import subprocess

import pytest

from fastka.check.ipvs_manager import IpvsManager
from fastka.config import load_text
from fastka.wire import ipvs

CONF = """
global_defs {
  lvs_timeouts tcp 901 tcpfin 31 udp 301
}
virtual_server 10.3.0.1 80 {
  protocol TCP
  lb_algo wrr
  lb_kind NAT
  quorum 2
  sorry_server 10.3.9.9 8080
  real_server 10.3.1.1 80 {
    weight 2
  }
  real_server 10.3.1.2 80 {
    weight 2
    inhibit_on_failure
  }
}
virtual_server fwmark 12 {
  lb_algo sh
  sh-port
  lb_kind DR
  persistence_timeout 600
  real_server 10.3.2.1 0 {
    weight 1
  }
}
virtual_server_group WEB {
  10.3.5.1-2 443
}
virtual_server group WEB {
  protocol TCP
  lb_algo rr
  real_server 10.3.6.1 443 {
    weight 1
  }
}
"""


def ipvsadm(*args: str) -> str:
    return subprocess.run(["ipvsadm", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def table() -> list[list[str]]:
    return [line.split() for line in ipvsadm("-Ln").splitlines()[3:]]


def dests_of(rows: list[list[str]], service: list[str]) -> list[list[str]]:
    out, inside = [], False
    for r in rows:
        if r[0] != "->":
            inside = r[:len(service)] == service
        elif inside:
            out.append(r[1:4])
    return out


def manager(sock: ipvs.IpvsSocket) -> IpvsManager:
    r = load_text(CONF)
    assert r.ok, [str(d) for d in r.diagnostics]
    m = IpvsManager(r.config, sock)
    for pool in m.pools:
        for i in range(len(pool.servers)):
            pool.add_checker(i, "check", True)
    return m


@pytest.mark.guest
def test_manager_programs_reconciles_follows_checkers_and_cleans_up():
    ipvsadm("-C")
    # already in the kernel: one of our services with a wrong weight and a stray dest,
    # and a service fastka does not own
    ipvsadm("-A", "-t", "10.3.0.1:80", "-s", "wrr")
    ipvsadm("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.1:80", "-m", "-w", "7")
    ipvsadm("-a", "-t", "10.3.0.1:80", "-r", "10.3.1.77:80", "-m", "-w", "1")
    ipvsadm("-A", "-u", "10.3.7.7:53", "-s", "rr")
    ipvsadm("-Z", "-t", "10.3.0.1:80")
    with ipvs.IpvsSocket() as sock:
        m = manager(sock)
        assert m.start() == []
        rows = table()
        assert ["TCP", "10.3.0.1:80", "wrr"] in rows
        assert sorted(dests_of(rows, ["TCP", "10.3.0.1:80"])) == [["10.3.1.1:80", "Masq", "2"],
                                                                 ["10.3.1.2:80", "Masq", "2"]]
        assert ["FWM", "12", "sh", "(sh-port)", "persistent", "600"] in rows or \
            ["FWM", "12", "sh", "persistent", "600"] in rows, rows
        assert dests_of(rows, ["FWM", "12"]) == [["10.3.2.1:0", "Route", "1"]]
        for a in ("10.3.5.1", "10.3.5.2"):
            assert ["TCP", f"{a}:443", "rr"] in rows
            assert dests_of(rows, ["TCP", f"{a}:443"]) == [["10.3.6.1:443", "Masq", "1"]]
        assert ["UDP", "10.3.7.7:53", "rr"] in rows  # not ours: untouched
        # the service was kept (changed in place), not re-created: set a weight, delete
        # the stray, add the second real server; the fwmark service and its dest; two
        # group services and their dests; and the lvs_timeouts
        assert m.counters["requests"] == 3 + 2 + 4 + 1
        assert "901" in ipvsadm("-L", "--timeout") and "301" in ipvsadm("-L", "--timeout")

        # a real server fails: removed; the inhibited one fails: weight 0 -> quorum lost,
        # the sorry server replaces the pool
        m.checker_changed(0, 0, "check", False)
        assert m.flush() == 1
        assert dests_of(table(), ["TCP", "10.3.0.1:80"]) == [["10.3.1.2:80", "Masq", "2"]]
        events = m.checker_changed(0, 1, "check", False)
        assert [e.what for e in events] == ["rs_down", "quorum_down"]
        m.flush()
        assert sorted(dests_of(table(), ["TCP", "10.3.0.1:80"])) == [["10.3.1.2:80", "Masq", "0"],
                                                                    ["10.3.9.9:8080", "Masq", "1"]]
        # both back in one flush: quorum again, the sorry server leaves
        events = m.checker_changed(0, 0, "check", True)
        assert [e.what for e in events] == ["rs_up", "quorum_up"]
        assert [e.what for e in m.checker_changed(0, 1, "check", True)] == ["rs_up"]
        m.flush()
        assert sorted(dests_of(table(), ["TCP", "10.3.0.1:80"])) == [["10.3.1.1:80", "Masq", "2"],
                                                                    ["10.3.1.2:80", "Masq", "2"]]
        assert m.counters["refused"] == 0

        # a second manager on the same table has nothing to do
        m2 = manager(sock)
        before = m2.counters["requests"]
        m2.start()
        assert m2.counters["requests"] - before == 1  # only the lvs_timeouts

        m.stop()
        rows = table()
        assert [r for r in rows if r[0] != "->"] == [["UDP", "10.3.7.7:53", "rr"]]
    ipvsadm("-C")


@pytest.mark.guest
def test_refused_request_is_logged_and_the_rest_applies(caplog):
    ipvsadm("-C")
    bad = CONF.replace("lb_algo rr", "lb_algo nosuchsched")
    r = load_text(bad)
    with ipvs.IpvsSocket() as sock:
        m = IpvsManager(r.config, sock)
        m.start()
        assert m.counters["refused"] >= 2  # the two group services (and their dests)
        assert any("new service TCP 10.3.5.1:443" in rec.getMessage() for rec in caplog.records)
        rows = table()
        assert ["TCP", "10.3.0.1:80", "wrr"] in rows and not any("10.3.5.1:443" in " ".join(x) for x in rows)
        m.stop()
        assert [x for x in table() if x[0] != "->"] == []


def daemons() -> str:
    return ipvsadm("-L", "--daemon")


@pytest.mark.guest
def test_sync_daemons_follow_the_instance_state():
    from fastka.check.sync_daemon import SyncDaemons
    from fastka.config.model_global import LvsSyncDaemon

    subprocess.run(["ip", "link", "add", "fksync0", "type", "dummy"], check=True)
    subprocess.run(["ip", "link", "set", "fksync0", "up"], check=True)
    try:
        with ipvs.IpvsSocket() as sock:
            # with an instance: the backup daemon at start, the master one as MASTER
            d = SyncDaemons(LvsSyncDaemon("fksync0", instance="VI_1", port=8849, ttl=3), sock, vrid=51)
            d.start()
            out = daemons()
            assert "backup sync daemon (mcast=fksync0, syncid=51, maxlen=1472, group=224.0.0.81, port=8849, ttl=3)" \
                in out, out  # the options given reach the kernel (maxlen and group: its defaults)
            assert "master sync daemon" not in out
            d.follow("MASTER")
            out = daemons()
            assert "master sync daemon (mcast=fksync0, syncid=51," in out and "backup" not in out
            d.follow("FAULT")
            out = daemons()
            assert "backup sync daemon (mcast=fksync0, syncid=51," in out and "master" not in out
            d.stop()
            assert daemons().strip() == ""
            # without: both, with the sync id given
            d = SyncDaemons(LvsSyncDaemon("fksync0", syncid=9), sock)
            d.start()
            out = daemons()
            assert "master sync daemon (mcast=fksync0, syncid=9," in out
            assert "backup sync daemon (mcast=fksync0, syncid=9," in out
            d.stop()
            assert daemons().strip() == ""
            # a refusal (no such interface) is logged, not raised
            d = SyncDaemons(LvsSyncDaemon("nosuchif0"), sock)
            d.start()
            assert d.running == set()
    finally:
        subprocess.run(["ip", "link", "del", "fksync0"], check=False)
