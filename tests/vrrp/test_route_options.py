"""static_routes / virtual_routes options in the kernel: what fastka adds is what
``ip route add`` (iproute2, the syntax's own reference) makes of the same words, and
what keepalived 2.2.7 makes of the same file. Each case runs fastka in a namespace of
the test's own and reads the kernel's routes back with ``ip -d route show``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..netns import ip, netns, skip_unless_netns
from .cluster import need_keepalived

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

# (the config's route, the same route for ip route add); a TIME with a unit is kept by
# the kernel as ip-route(8) says (rtt in 1/8 ms, rttvar in 1/4 ms)
CASES = [
    ("10.77.1.0/24 via 10.77.0.2 dev v0 mtu 1400 advmss 1360", None),
    ("10.77.2.0/24 via 10.77.0.2 dev v0 rtt 10ms rttvar 5ms rto_min 20ms", None),
    ("10.77.3.0/24 via 10.77.0.2 dev v0 mtu lock 1300 window 65535 cwnd 10 initcwnd 20 initrwnd 30 ssthresh 100 "
     "reordering 5 hoplimit 32 quickack 1 fastopen_no_cookie 1 features ecn congctl reno", None),
    ("10.77.4.0/24 via 10.77.0.2 dev v0 protocol bird realms 3/4 no_track",
     "10.77.4.0/24 via 10.77.0.2 dev v0 protocol bird realms 3/4"),
    ("10.77.5.0/24 nexthop via 10.77.0.2 dev v0 weight 2 nexthop via 10.77.0.3 dev v0 weight 3", None),
    ("10.77.6.0/24 via 10.77.0.2 or 10.77.0.3 dev v0",
     "10.77.6.0/24 nexthop via 10.77.0.2 dev v0 nexthop via 10.77.0.3 dev v0"),
    ("10.77.7.0/24 via 10.77.0.2 dev v0 table 100 metric 7 rtt 3", None),
    # no gateway and no scope: scope global, as keepalived makes it (ip route: link)
    ("10.77.8.0/24 dev v0 realms cosmos/5 protocol 99", "10.77.8.0/24 dev v0 realms cosmos/5 scope global"),
    ("2001:db8:77:1::/64 via 2001:db8:77::2 dev v0 pref high expires 300", None),
    ("10.77.9.0/24 via 10.77.0.2 dev v0 ttl-propagate enabled", None),  # the kernel ignores it, as for ip
]


def _topology(ns: str) -> None:
    ip("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    for dev in ("v0", "v1"):
        ip("-n", ns, "link", "set", dev, "up")
    ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "v0")
    ip("-n", ns, "addr", "add", "2001:db8:77::1/64", "dev", "v0", "nodad")


def _routes(ns: str) -> list[str]:
    """Our routes as the kernel has them, one string each (nexthop lines joined), the
    IPv6 route's remaining lifetime left out."""
    out = []
    for fam in ("-4", "-6"):
        text = subprocess.run(["ip", "-n", ns, fam, "-d", "route", "show", "table", "all"], check=True,
                              capture_output=True, text=True, timeout=30).stdout
        for block in re.split(r"\n(?=\S)", text):
            if re.search(r"10\.77\.[1-9]|2001:db8:77:1", block):
                out.append(re.sub(r"expires \d+sec", "expires", " ".join(block.split())))
    return sorted(out)


def _config(tmp_path: Path, cases: list[tuple[str, object]]) -> Path:
    routes = "\n".join(f"    {r}" for r, _ in cases)
    conf = tmp_path / "routes.conf"
    conf.write_text(f"static_routes {{\n{routes}\n}}\n"
                    "vrrp_instance VI_1 {\n    state BACKUP\n    interface v0\n    virtual_router_id 51\n"
                    "    priority 100\n    advert_int 1\n    virtual_ipaddress {\n        10.77.0.100/24\n    }\n}\n")
    return conf


def _run(cmd: list[str], ns: str, log: Path, want: int) -> list[str]:
    """Start a daemon, wait until want routes of ours are in, read them, stop it."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.monotonic() + 20
        while len(_routes(ns)) < want and time.monotonic() < end:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        time.sleep(0.3)
        return _routes(ns)
    finally:
        proc.terminate()
        proc.wait(20)


def _fastka(ns: str, conf: Path, tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "fastka", "-s", ns, "-n", "-l", "-P", "-f", str(conf), "-p",
            str(tmp_path / "f.pid"), "-r", str(tmp_path / "f.vrrp.pid")]


def test_route_options_as_ip_route_makes_them(tmp_path):
    """Every case; protocol bird and realm cosmos are names from iproute2's files."""
    skip_unless_netns()
    with netns("fk-rto") as a, netns("fk-rtp") as b:
        for ns in (a, b):
            _topology(ns)
        got = _run(_fastka(a, _config(tmp_path, CASES), tmp_path), a, tmp_path / "fastka.log", len(CASES))
        log = (tmp_path / "fastka.log").read_text()
        assert "not implemented" not in log, log
        for route, as_ip in CASES:
            words = (as_ip or route).split()
            if "protocol" not in words:
                words[1:1] = ["protocol", "keepalived"]  # before any nexthop
            ip("-n", b, "route", "add", *words)
        assert len(got) == len(CASES)
        assert got == _routes(b)


def test_route_options_as_keepalived_makes_them(tmp_path):
    """The same file under keepalived 2.2.7, but for what it gets wrong: its rtt,
    rttvar and rto_min all come out as 200 ms, and its 'or' route fails (EINVAL)."""
    need_keepalived()
    skip_unless_netns()
    cases = [(r, a) for r, a in CASES if not re.search(r"\brtt|\bor\b|rto_min", r)]
    with netns("fk-rtk") as a, netns("fk-rtl") as b:
        for ns in (a, b):
            _topology(ns)
        conf = _config(tmp_path, cases)
        got = _run(_fastka(a, conf, tmp_path), a, tmp_path / "fastka.log", len(cases))
        theirs = _run(["ip", "netns", "exec", b, "keepalived", "-n", "-l", "-P", "--no-syslog", "-f", str(conf),
                       "-p", str(tmp_path / "k.pid"), "-r", str(tmp_path / "k.vrrp.pid")], b,
                      tmp_path / "keepalived.log", len(cases))
    assert len(got) == len(cases)
    assert got == theirs


def test_names_from_iproute2_files(tmp_path, monkeypatch):
    """Names are read from each directory's file and its .d/*.conf, later directories
    over earlier ones; numbers may be hexadecimal; comments and junk lines are skipped;
    a number is its own name; an unknown name is None; forget() reads them again."""
    from fastka.vrrp import names

    low, high = tmp_path / "usr", tmp_path / "etc"
    (low / "rt_tables.d").mkdir(parents=True)
    (high / "rt_tables.d").mkdir(parents=True)
    (low / "rt_tables").write_text("# tables\n100 green\n101\tblue # a comment\nnot-a-number red\n"
                                   "010 octal\n0x1F hexa\n08 bad-octal\n\u00b2 sup\n")
    (low / "rt_tables.d" / "extra.conf").write_text("0x66 cyan\n")
    (low / "rt_tables.d" / "ignored.txt").write_text("103 ignored\n")
    (high / "rt_tables").write_text("200 green\n")
    monkeypatch.setattr(names, "DIRS", (str(low), str(high)))
    names.forget()
    try:
        assert names.number("rt_tables", "green") == 200  # /etc over /usr
        assert names.number("rt_tables", "blue") == 101
        assert names.number("rt_tables", "cyan") == 102
        assert names.number("rt_tables", "main") == 254  # iproute2's own, without a file
        assert names.number("rt_tables", "ignored") is None
        assert names.number("rt_tables", "red") is None
        # as ip reads them (measured): in a file 010 is ten and 08 eight; a realm written
        # as a number is read as ip reads an argument, strtoul's base 0: 010 is eight
        assert names.number("rt_tables", "octal") == 10 and names.number("rt_tables", "hexa") == 31
        assert names.number("rt_tables", "bad-octal") == 8 and names.number("rt_tables", "sup") is None
        assert names.number("rt_realms", "010") == 8 and names.number("rt_realms", "0x14") == 20
        assert names.number("rt_realms", "08") is None
        assert names.number("rt_tables", "42") == 42 and names.number("rt_tables", 7) == 7
        assert names.number("group", "default") == 0
        (high / "rt_tables.d" / "late.conf").write_text("300 late\n")
        assert names.number("rt_tables", "late") is None  # read once ...
        names.forget()
        assert names.number("rt_tables", "late") == 300  # ... until forgotten (each load)
    finally:
        names.forget()
