"""IPVS generic netlink messages: native core vs the pure-Python twin vs pyroute2, in
the same run (the issue's bar: NEW_DEST packing >= 100x pyroute2).

- new_dest: one NEW_DEST request (an IPv4 TCP service and a NAT real server) to bytes:
  a fresh batch, the message, its bytes; pyroute2 builds an ipvsmsg and encodes it.
- batch: 1,000 NEW_DEST requests into one buffer, then its bytes; pyroute2 encodes
  1,000 messages and joins them.
- dump: parse a dump reply of 1,000 dests as the kernel lays them out (every dest
  attribute, stats and stats64, NLMSG_DONE) into objects; pyroute2 parses it with its
  Marshal and its IPVS message class, then reads every attribute (pyroute2 decodes
  attribute values lazily: its parse alone does not give them).

Ratios use each benchmark's fastest round (min): on a shared machine, noise only adds.
Rounds have fixed iteration counts (pedantic mode)."""

import pytest

import fastka
from fastka.pure import ipvs as pure
from fastka.wire.ipvs import Cmd, Dest, Service, Stats

FAMILY = 0x1E
SVC = Service(protocol=6, addr="10.0.0.1", port=80)
DEST = Dest(addr="10.0.1.1", port=8080, fwd_method=0, weight=1, addr_family=2)
N = 1000
_results: dict[tuple[str, str], float] = {}
# (rounds, iterations per round) by operation and implementation: each ~0.1-0.5 s
PLAN = {
    "new_dest": {"native": (1000, 200), "python": (200, 10), "pyroute2": (20, 1)},
    "batch": {"native": (100, 1), "python": (5, 1), "pyroute2": (1, 1)},
    "dump": {"native": (30, 1), "python": (5, 1), "pyroute2": (2, 1)},
}


def _pyroute2():
    try:
        from pyroute2.netlink.generic import ipvs
        from pyroute2.netlink.marshal import Marshal
    except ImportError:
        pytest.skip("pyroute2 is not installed (the test extra)")
    return ipvs, Marshal


def _impl(name):
    mod = pure if name == "python" else fastka.native
    if mod is None:
        pytest.skip(f"no native core: {fastka.backend_reason}")
    return mod


def run(benchmark, op, impl, fn, *args):
    rounds, iterations = PLAN[op][impl]
    benchmark.pedantic(fn, args=args, rounds=rounds, iterations=iterations, warmup_rounds=1)


def _record(op: str, impl: str, best: float, report, per: int = 1) -> None:
    _results[(op, impl)] = best
    native = _results.get((op, "native"))
    for base in ("python", "pyroute2"):
        other = _results.get((op, base))
        if native and other and impl in ("native", base):
            report(f"ipvs {op}: native is {other / native:.0f}x {base}"
                   f" ({native / per * 1e9:.0f} ns vs {other / per * 1e9:.0f} ns per message)")


def pr_new_dest(ipvs, seq, dest=DEST):
    m = ipvs.ipvsmsg()
    m["cmd"] = ipvs.IPVS_CMD_NEW_DEST
    m["version"] = 1
    m["header"]["type"] = FAMILY
    m["header"]["flags"] = 5
    m["header"]["sequence_number"] = seq
    m["attrs"] = [
        ("IPVS_CMD_ATTR_SERVICE", {"attrs": [("IPVS_SVC_ATTR_AF", 2), ("IPVS_SVC_ATTR_PROTOCOL", SVC.protocol),
                                             ("IPVS_SVC_ATTR_ADDR", SVC.addr), ("IPVS_SVC_ATTR_PORT", SVC.port)]}),
        ("IPVS_CMD_ATTR_DEST", {"attrs": [("IPVS_DEST_ATTR_ADDR_FAMILY", 2),  # pyroute2 needs it for ADDR
                                          ("IPVS_DEST_ATTR_ADDR", dest.addr), ("IPVS_DEST_ATTR_PORT", dest.port),
                                          ("IPVS_DEST_ATTR_FWD_METHOD", dest.fwd_method),
                                          ("IPVS_DEST_ATTR_WEIGHT", dest.weight), ("IPVS_DEST_ATTR_U_THRESH", 0),
                                          ("IPVS_DEST_ATTR_L_THRESH", 0)]}),
    ]
    m.encode()
    return m.data


@pytest.mark.parametrize("impl", ["python", "pyroute2", "native"])
def test_new_dest(benchmark, impl, report):
    if impl == "pyroute2":
        ipvs, _ = _pyroute2()
        want = pure.parse_ipvs_replies(pr_new_dest(ipvs, 1), FAMILY)
        run(benchmark, "new_dest", impl, pr_new_dest, ipvs, 1)
    else:
        mod = _impl(impl)

        def one():
            b = mod.IpvsBatch(FAMILY)
            b.new_dest(SVC, DEST)
            return b.data

        want = pure.parse_ipvs_replies(one(), FAMILY)
        run(benchmark, "new_dest", impl, one)
    assert want[0].dest == DEST._replace(u_threshold=0, l_threshold=0)
    _record("new_dest", impl, benchmark.stats.stats.min, report)


DESTS = [DEST._replace(addr=f"10.{1 + i // 250}.{i % 250}.1", port=8000 + i) for i in range(N)]


@pytest.mark.parametrize("impl", ["python", "pyroute2", "native"])
def test_batch_1000_new_dest(benchmark, impl, report):
    if impl == "pyroute2":
        ipvs, _ = _pyroute2()

        def batch():
            return b"".join(pr_new_dest(ipvs, i + 1, d) for i, d in enumerate(DESTS))
    else:
        mod = _impl(impl)

        def batch():
            b = mod.IpvsBatch(FAMILY)
            for d in DESTS:
                b.new_dest(SVC, d)
            return b.data

    got = pure.parse_ipvs_replies(batch(), FAMILY)
    assert [m.dest.addr for m in got] == [d.addr for d in DESTS]
    run(benchmark, "batch", impl, batch)
    _record("batch", impl, benchmark.stats.stats.min, report, per=N)


def pr_values(node) -> dict:
    from pyroute2.netlink import nlmsg_base

    return {name: pr_values(v) if isinstance(v, nlmsg_base) else v for name, v in node.get("attrs") or ()}


def dump_reply() -> bytes:
    """1,000 dests as ip_vs_genl_fill_dest lays them out, then NLMSG_DONE."""
    b = pure.IpvsBatch(FAMILY, seq=9)
    st = Stats(12, 345, 300, 45678, 40000, 1, 2, 3, 4, 5)
    st64 = st._replace(inbytes=1 << 40)
    for i, d in enumerate(DESTS):
        b.message(Cmd.NEW_DEST, flags=2, dest=d._replace(u_threshold=0, l_threshold=0, addr_family=2, tun_type=0,
                                                         tun_port=0, tun_flags=0, active_conns=i, inact_conns=2,
                                                         persist_conns=0, stats=st, stats64=st64))
    return b.data + bytes.fromhex("14000000" "0300" "0200" "09000000" "00000000" "00000000")


@pytest.mark.parametrize("impl", ["python", "pyroute2", "native"])
def test_parse_dump_1000_dests(benchmark, impl, report):
    data = dump_reply()
    if impl == "pyroute2":
        ipvs, Marshal = _pyroute2()
        marshal = Marshal()
        marshal.msg_map[FAMILY] = ipvs.ipvsmsg

        def parse():
            return [pr_values(m) for m in marshal.parse(data)]

        msgs = parse()
        assert [m["IPVS_CMD_ATTR_DEST"]["IPVS_DEST_ATTR_ADDR"] for m in msgs[:-1]] == [d.addr for d in DESTS]
        assert msgs[0]["IPVS_CMD_ATTR_DEST"]["IPVS_DEST_ATTR_STATS64"]["IPVS_STATS_ATTR_INBYTES"] == 1 << 40
        run(benchmark, "dump", impl, parse)
    else:
        mod = _impl(impl)
        got = mod.parse_ipvs_replies(data, FAMILY)
        assert [m.dest.addr for m in got[:-1]] == [d.addr for d in DESTS] and got[-1].seq == 9
        run(benchmark, "dump", impl, mod.parse_ipvs_replies, data, FAMILY)
    _record("dump", impl, benchmark.stats.stats.min, report, per=N)
