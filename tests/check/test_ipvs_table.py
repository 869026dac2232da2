"""The wanted IPVS table from keepalived.conf, pool logic (alive, inhibit, quorum,
hysteresis, sorry server) and the difference against a table (no kernel needed: the
kernel side is tests/vm/test_ipvs_manager.py)."""

from __future__ import annotations

import socket

import pytest

from fastka.check import ipvs_table as tbl
from fastka.check.virtual_server import VirtualServerState
from fastka.config import load_text
from fastka.wire import ipvs
from fastka.wire.ipvs import Dest, Service


def config(text: str):
    r = load_text(text)
    assert r.ok, [str(d) for d in r.diagnostics]
    return r.config


def pools(text: str) -> list[VirtualServerState]:
    c = config(text)
    groups = {g.name: g for g in c.virtual_server_groups}
    return [VirtualServerState(vs, groups) for vs in c.virtual_servers]


def test_services_carry_keepalived_meanings():
    (p,) = pools("""
virtual_server 10.0.0.1 80 {
  lb_algo sh
  sh-port
  sh-fallback
  lb_kind DR
  persistence_timeout 120
  persistence_granularity 255.255.255.0
  protocol TCP
  real_server 10.0.1.1 80 { weight 3 }
}""")
    (svc,) = p.services
    assert svc == Service(af=socket.AF_INET, protocol=socket.IPPROTO_TCP, addr="10.0.0.1", port=80,
                          sched_name="sh", flags=ipvs.IP_VS_SVC_F_PERSISTENT | tbl.SCHED1 | tbl.SCHED2,
                          timeout=120, netmask=0xFFFFFF00)
    assert p.wanted(svc) == {("10.0.1.1", 80): Dest(addr="10.0.1.1", port=80, fwd_method=ipvs.FwdMethod.DROUTE,
                                                    weight=3, u_threshold=0, l_threshold=0)}


def test_fwmark_udp_ops_ipv6_and_tunnel():
    ps = pools("""
virtual_server fwmark 7 {
  ip_family inet6
  lvs_sched rr
  real_server fd00::5 { lvs_method TUN type gue port 6080 csum
    uthreshold 100
    lthreshold 10 }
}
virtual_server fd00::1 53 {
  protocol UDP
  ops
  real_server fd00::2 53 { }
}""")
    fw, = ps[0].services
    assert (fw.af, fw.fwmark, fw.protocol, fw.addr, fw.flags, fw.sched_name) == (
        socket.AF_INET6, 7, None, None, 0, "rr")
    (d,) = ps[0].wanted(fw).values()
    assert (d.fwd_method, d.tun_type, d.tun_port, d.tun_flags, d.u_threshold, d.l_threshold, d.port) == (
        ipvs.FwdMethod.TUNNEL, ipvs.TunType.GUE, 6080, ipvs.IP_VS_TUNNEL_ENCAP_FLAG_CSUM, 100, 10, 0)
    udp, = ps[1].services
    assert (udp.protocol, udp.flags, udp.sched_name) == (socket.IPPROTO_UDP, ipvs.IP_VS_SVC_F_ONEPACKET, "wlc")


def test_group_ranges_prefixes_and_fwmarks_are_one_service_each():
    (p,) = pools("""
virtual_server_group G {
  10.1.0.1-3 80
  10.2.0.0/30 443
  fwmark 9
}
virtual_server group G {
  protocol TCP
  real_server 10.0.1.1 8080 { }
}""")
    keys = [tbl.svc_key(s) for s in p.services]
    assert keys == [(socket.AF_INET, 6, "10.1.0.1", 80), (socket.AF_INET, 6, "10.1.0.2", 80),
                    (socket.AF_INET, 6, "10.1.0.3", 80)] + [
        (socket.AF_INET, 6, f"10.2.0.{i}", 443) for i in range(4)] + [(socket.AF_INET, 9)]
    for s in p.services:
        assert list(p.wanted(s)) == [("10.0.1.1", 8080)]


POOL = """
virtual_server 10.0.0.1 80 {
  protocol TCP
  quorum 4
  hysteresis 1
  quorum_up "/bin/true up"
  quorum_down "/bin/true down"
  %s
  real_server 10.0.1.1 80 { weight 2 }
  real_server 10.0.1.2 80 { weight 2 }
  real_server 10.0.1.3 80 {
    weight 2
    inhibit_on_failure
  }
}"""


def test_dead_servers_leave_or_are_inhibited_and_quorum_has_hysteresis():
    (p,) = pools(POOL % "")
    for i in range(3):
        p.add_checker(i, "c", True)
    assert p.start() == []
    (svc,) = p.services

    def weights():
        return {k[0]: d.weight for k, d in p.wanted(svc).items()}

    assert weights() == {"10.0.1.1": 2, "10.0.1.2": 2, "10.0.1.3": 2}
    ev = p.checker_changed(2, "c", False)
    assert [e.what for e in ev] == ["rs_down"] and "Inhibiting" in ev[0].message
    assert weights() == {"10.0.1.1": 2, "10.0.1.2": 2, "10.0.1.3": 0}
    # total 4 >= quorum - hysteresis (3): still up
    ev = p.checker_changed(1, "c", False)
    assert [e.what for e in ev] == ["rs_down", "quorum_down"]  # 2 < 3
    assert ev[1].script == ("/bin/true down",)
    assert weights() == {"10.0.1.1": 2, "10.0.1.3": 0}  # no sorry server: the living stay
    ev = p.checker_changed(1, "c", True)  # 4 < quorum + hysteresis (5): still down
    assert [e.what for e in ev] == ["rs_up"]
    ev = p.checker_changed(2, "c", True)  # 6 >= 5
    assert [e.what for e in ev] == ["rs_up", "quorum_up"]


def test_sorry_server_replaces_the_pool_without_quorum():
    (p,) = pools(POOL % "sorry_server 10.9.9.9 8080")
    for i in range(3):
        p.add_checker(i, "c", True)
    p.start()
    (svc,) = p.services
    assert ("10.9.9.9", 8080) not in p.wanted(svc)
    p.checker_changed(0, "c", False)
    p.checker_changed(1, "c", False)
    w = {k: d.weight for k, d in p.wanted(svc).items()}
    # every real server down (the inhibited one at 0), the sorry server in with weight 1
    assert w == {("10.0.1.3", 80): 0, ("10.9.9.9", 8080): 1}


def test_sorry_server_inhibit_keeps_it_at_weight_zero_and_takes_the_vs_port():
    (p,) = pools(POOL % "sorry_server 10.9.9.9\n  sorry_server_inhibit")
    for i in range(3):
        p.add_checker(i, "c", True)
    p.start()
    (svc,) = p.services
    assert p.wanted(svc)[("10.9.9.9", 80)].weight == 0


def test_alpha_checkers_start_down_and_quorum_at_start():
    (p,) = pools(POOL % "")
    for i in range(3):
        p.add_checker(i, "c", False)
    ev = p.start()
    assert [e.what for e in ev] == ["quorum_down"]
    (svc,) = p.services
    assert {k[0] for k in p.wanted(svc)} == {"10.0.1.3"}


def test_dynamic_weight_replaces_the_configured_one():
    (p,) = pools(POOL % "")
    for i in range(3):
        p.add_checker(i, "c", True)
    p.start()
    ev = p.checker_changed(0, "c", True, weight=7)
    assert [e.what for e in ev] == ["rs_weight"]
    (svc,) = p.services
    assert p.wanted(svc)[("10.0.1.1", 80)].weight == 7


def test_server_with_two_checkers_is_alive_only_when_both_are_up():
    (p,) = pools(POOL % "")
    p.add_checker(0, "a", True)
    p.add_checker(0, "b", True)
    p.start()
    assert p.checker_changed(0, "a", False)[0].what == "rs_down"
    assert p.checker_changed(0, "b", False) == []  # already down
    assert p.checker_changed(0, "a", True) == []  # b still down
    assert p.checker_changed(0, "b", True)[0].what == "rs_up"


def svc(addr="10.0.0.1", **kw):
    base = dict(af=socket.AF_INET, protocol=6, addr=addr, port=80, sched_name="wlc", flags=0, timeout=0)
    base.update(kw)
    return Service(**base)


def dest(addr, weight=1, **kw):
    return Dest(addr=addr, port=80, fwd_method=ipvs.FwdMethod.MASQ, weight=weight, **kw)


def table(*entries):
    t = tbl.Table()
    for s, ds in entries:
        k = t.add_service(s)
        t.dests[k] = {tbl.dest_key(d): d for d in ds}
    return t


def test_diff_changes_only_the_difference():
    kernel_svc = svc(flags=ipvs.IP_VS_SVC_F_HASHED, netmask=0xFFFFFFFF, stats=ipvs.Stats())  # as the kernel dumps
    have = table((kernel_svc, [dest("10.0.1.1", u_threshold=0, l_threshold=0), dest("10.0.1.2", 5),
                               dest("10.0.1.9")]),
                 (svc("10.0.0.99"), []))  # not ours: untouched
    want = table((svc(), [dest("10.0.1.1"), dest("10.0.1.2", 6), dest("10.0.1.3")]),
                 (svc("10.0.0.2", sched_name="rr"), [dest("10.0.2.1")]))
    ops = [(name, tbl.svc_key(s)[2], d.addr if d else None) for name, s, d in tbl.diff(want, have)]
    assert sorted(ops) == sorted([
        ("del_dest", "10.0.0.1", "10.0.1.9"), ("set_dest", "10.0.0.1", "10.0.1.2"),
        ("new_dest", "10.0.0.1", "10.0.1.3"), ("new_service", "10.0.0.2", None),
        ("new_dest", "10.0.0.2", "10.0.2.1")])
    # a changed scheduler is a set_service
    want2 = table((svc(sched_name="rr"), [dest("10.0.1.1"), dest("10.0.1.2", 5), dest("10.0.1.9")]))
    assert [o[0] for o in tbl.diff(want2, have)] == ["set_service"]
    # applying the ops to the shadow makes the difference empty
    tbl.apply_to(have, tbl.diff(want, have))
    assert tbl.diff(want, have) == []


@pytest.mark.parametrize("native", [True, False])
def test_pack_produces_the_requests_in_order(native):
    from fastka.pure import ipvs as pure_ipvs

    batch = ipvs.Batch(99) if native else pure_ipvs.IpvsBatch(99)
    want = table((svc(), [dest("10.0.1.1"), dest("10.0.1.2")]))
    seqs = tbl.pack(batch, tbl.diff(want, tbl.Table()))
    msgs = [m for m in ipvs.parse_replies(batch.data, 99) if isinstance(m, ipvs.IpvsMessage)]
    assert [m.seq for m in msgs] == seqs
    assert [m.cmd for m in msgs] == [ipvs.Cmd.NEW_SERVICE, ipvs.Cmd.NEW_DEST, ipvs.Cmd.NEW_DEST]
    assert msgs[2].dest.addr == "10.0.1.2" and msgs[0].service.addr == "10.0.0.1"


def test_a_local_dest_reported_as_localnode_matches_any_method():
    """The kernel reports a dest whose address is the director's own as LOCALNODE."""
    have = table((svc(), [dest("10.0.1.1")._replace(fwd_method=ipvs.FwdMethod.LOCALNODE)]))
    want = table((svc(), [dest("10.0.1.1")]))
    assert tbl.diff(want, have) == []
    want = table((svc(), [dest("10.0.1.1", 2)]))
    assert [o[0] for o in tbl.diff(want, have)] == ["set_dest"]
