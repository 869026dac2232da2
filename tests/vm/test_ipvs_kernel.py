"""fastka's IPVS generic netlink messages (fastka.wire.ipvs) against a real IPVS
kernel, in the QEMU guest: what we pack the kernel accepts (ipvsadm, an independent
reader, sees it), and what the kernel dumps we parse. One boot for all guest tests."""

from __future__ import annotations

import socket
import subprocess

import pytest

from fastka.wire import ipvs


def ipvsadm(*args: str) -> str:
    return subprocess.run(["ipvsadm", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def rows() -> list[list[str]]:
    return [line.split() for line in ipvsadm("-Ln").splitlines()]


@pytest.mark.guest
def test_services_and_dests_packed_by_fastka_reach_the_kernel_and_dump_back():
    ipvsadm("-C")
    tcp = ipvs.Service(af=socket.AF_INET, protocol=socket.IPPROTO_TCP, addr="10.2.0.1", port=80, sched_name="wlc")
    fw = ipvs.Service(af=socket.AF_INET, fwmark=7, sched_name="rr", timeout=300, flags=1)  # persistent
    v6 = ipvs.Service(af=socket.AF_INET6, protocol=socket.IPPROTO_UDP, addr="fd00::1", port=53, sched_name="sh")
    with ipvs.IpvsSocket() as sock:
        b = sock.batch()
        for s in (tcp, fw, v6):
            b.new_service(s)
        for k in range(1, 51):  # many changes in one batch
            b.new_dest(tcp, ipvs.Dest(addr=f"10.2.1.{k}", port=8080, fwd_method=ipvs.FwdMethod.MASQ, weight=k,
                                      u_threshold=100, l_threshold=10))
        b.new_dest(fw, ipvs.Dest(addr="10.2.2.1", port=0, fwd_method=ipvs.FwdMethod.DROUTE, weight=1))
        b.new_dest(v6, ipvs.Dest(addr="fd00::2", port=53, fwd_method=ipvs.FwdMethod.TUNNEL, weight=2))
        sock.transact(b)

        table = rows()
        assert ["TCP", "10.2.0.1:80", "wlc"] in table
        assert ["FWM", "7", "rr", "persistent", "300"] in table
        assert ["UDP", "[fd00::1]:53", "sh"] in table
        assert ["->", "10.2.1.7:8080", "Masq", "7", "0", "0"] in table
        assert ["->", "10.2.2.1:0", "Route", "1", "0", "0"] in table
        assert ["->", "[fd00::2]:53", "Tunnel", "2", "0", "0"] in table
        assert sum(1 for r in table if r[:1] == ["->"] and r[1].startswith("10.2.1.")) == 50

        # what the kernel dumps, our reader reads
        b = sock.batch()
        b.dump_services()
        services = [m.service for m in sock.transact(b) if isinstance(m, ipvs.IpvsMessage)]
        # the kernel sends an address service without fwmark, a fwmark one without address
        by_key = {(s.protocol or 0, s.addr, s.port or 0, s.fwmark or 0): s for s in services}
        assert len(by_key) == 3, services
        got = by_key[(socket.IPPROTO_TCP, "10.2.0.1", 80, 0)]
        assert got.sched_name == "wlc" and got.af == socket.AF_INET and got.stats64 is not None
        (fwm,) = [s for s in services if s.fwmark == 7]
        assert fwm.timeout == 300 and fwm.sched_name == "rr"
        assert by_key[(socket.IPPROTO_UDP, "fd00::1", 53, 0)].sched_name == "sh"
        b = sock.batch()
        b.dump_dests(tcp)
        dests = {m.dest.addr: m.dest for m in sock.transact(b) if isinstance(m, ipvs.IpvsMessage)}
        assert len(dests) == 50
        d = dests["10.2.1.42"]
        assert (d.port, d.weight, d.fwd_method, d.u_threshold, d.l_threshold) == (8080, 42, ipvs.FwdMethod.MASQ,
                                                                                  100, 10)

        # changes and removals
        b = sock.batch()
        b.set_dest(tcp, ipvs.Dest(addr="10.2.1.1", port=8080, fwd_method=ipvs.FwdMethod.MASQ, weight=0))
        b.del_dest(tcp, ipvs.Dest(addr="10.2.1.2", port=8080))
        b.del_service(v6)
        sock.transact(b)
        table = rows()
        assert ["->", "10.2.1.1:8080", "Masq", "0", "0", "0"] in table
        assert not any(r[:2] == ["->", "10.2.1.2:8080"] for r in table)
        assert not any("[fd00::1]:53" in r for r in table)

        # an error names its request
        b = sock.batch()
        seq = b.del_service(ipvs.Service(af=socket.AF_INET, protocol=socket.IPPROTO_TCP, addr="10.9.9.9", port=1))
        replies = sock.transact(b, check=False)
        (ack,) = [r for r in replies if isinstance(r, ipvs.Ack) and r.seq == seq]
        assert not ack.ok and ack.errno > 0

        b = sock.batch()
        b.flush()
        sock.transact(b)
    assert [r for r in rows() if r and r[0] in ("TCP", "UDP", "SCTP", "FWM")] == [], "flushed"
