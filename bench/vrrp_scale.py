"""VRRP at scale, fastka and keepalived side by side on the same topology.

Two nodes, each in its own network namespace, joined by bridges in a third: one veth
pair and one bridge per 250 instances (IFACES = ceil(N / 250); --per-iface sets another
number, 1 to 255). N VRRPv3 instances
with V /32 VIPs each, master priority 200, backup 100, both started as BACKUP. For
each daemon, in the same run:

- converge: seconds from start until the master holds every VIP and the backup none;
- CPU % of the master and of the backup (all their processes) over a steady window;
- adverts per second on the wire: packets the backup's interfaces received over the
  window, against N / advert_int;
- spurious transitions: state changes either node logged during the window;
- failover: SIGKILL of every master process, then the time until the backup holds its
  first VIP and all VIPs (timestamps from the backup's own rtnetlink address events);
- kernel_add_all_vips_ms (without --vmac protodown): with the backup daemon stopped,
  how long the kernel takes to add the same VIPs on the same interfaces, all in one
  unacknowledged netlink send (fastka's own takeover path, with the address watch
  listening as during the failover). No daemon can hold all VIPs sooner than its
  first Master_Down (Master_Down_Interval - advert_int after the kill, at best) plus
  this: the kernel walks the interface's address list (twice) and its nexthops once
  per address added, so the cost grows with the VIPs per interface.

    python bench/vrrp_scale.py --instances 1000 --vips 1 --advert-int 0.1
    python bench/vrrp_scale.py --instances 1000 --vips 10 --daemons fastka,keepalived
    python bench/vrrp_scale.py --instances 1000 --vips 10 --vmac protodown
    python bench/vrrp_scale.py --instances 1000 --vips 10 --per-iface 25

--vmac vmac gives every instance a VMAC (use_vmac NAME, both daemons); --vmac protodown
adds fastka's vmac_protodown (keepalived, which has no such mode, runs plain use_vmac):
there both nodes hold every VIP on their VMACs, "holds" means "its VMAC carries", and
the failover is timed by the backup's rtnetlink link events (carrier on).

Needs root, iproute2 and (for the comparison) Debian's keepalived. Everything it
creates is removed at the end. Prints one table; --json writes the numbers too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Optional

PER_IFACE = 250
DETAIL = bool(os.environ.get("FASTKA_BENCH_DETAIL"))  # fastka -D: per-step timings in the kept logs
RTMGRP_IPV4_IFADDR = 0x10
RTM_NEWADDR = 20
RTMGRP_LINK, RTM_NEWLINK, IFF_LOWER_UP = 0x1, 16, 0x10000
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ip(*args: str, ns: Optional[str] = None) -> str:
    cmd = ["ip", *(("-n", ns) if ns else ()), *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout


def batch(ns: str, lines: list[str]) -> None:
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", check=True, text=True,
                   capture_output=True, timeout=300)


def vip(k: int, j: int) -> str:
    """VIP j of instance k: 10.(100 + k // 250).(k % 250).(10 + j)"""
    return f"10.{100 + k // 256}.{k % 256}.{10 + j}"


def iface(k: int) -> str:
    """The interface instance k runs on (PER_IFACE instances each)."""
    return f"eth{k // PER_IFACE}"


def config(n: int, v: int, advert_int: float, priority: int, vmac: str = "none") -> str:
    out = ["global_defs {", "    vrrp_garp_master_delay 0", "    vrrp_garp_master_repeat 1", "}"]
    for k in range(n):
        vips = "\n".join(f"        {vip(k, j)}/32" for j in range(v))
        extra = "" if vmac == "none" else f"    use_vmac vm{k}\n"
        if vmac == "protodown":
            extra += "    vmac_protodown\n"
        out.append(f"""vrrp_instance VI_{k} {{
{extra}    state BACKUP
    interface {iface(k)}
    virtual_router_id {1 + k % PER_IFACE}
    priority {priority}
    advert_int {advert_int}
    version 3
    virtual_ipaddress {{
{vips}
    }}
}}""")
    return "\n".join(out) + "\n"


class Topology:
    def __init__(self, n: int) -> None:
        tag = uuid.uuid4().hex[:6]
        self.ifaces = math.ceil(n / PER_IFACE)
        self.br, self.a, self.b = f"fkb-br-{tag}", f"fkb-m-{tag}", f"fkb-s-{tag}"
        self.made: list[str] = []

    def __enter__(self) -> Topology:
        for ns in (self.br, self.a, self.b):
            ip("netns", "add", ns)
            self.made.append(ns)
        for i in range(self.ifaces):
            ip("link", "add", f"br{i}", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0", ns=self.br)
            ip("link", "set", f"br{i}", "up", ns=self.br)
            for node, ns in ((1, self.a), (2, self.b)):
                ip("link", "add", f"eth{i}", "netns", ns, "type", "veth", "peer", "name", f"n{node}e{i}",
                   "netns", self.br)
                ip("link", "set", f"n{node}e{i}", "master", f"br{i}", ns=self.br)
                ip("link", "set", f"n{node}e{i}", "up", ns=self.br)
                ip("addr", "add", f"172.{16 + i}.0.{node}/24", "dev", f"eth{i}", ns=ns)
                ip("link", "set", f"eth{i}", "up", ns=ns)
        return self

    def __exit__(self, *exc: object) -> None:
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)

    def vip_count(self, ns: str) -> int:
        out = ip("-o", "-4", "addr", "show", ns=ns)
        return sum(1 for line in out.splitlines() if " 10.1" in line and "/32" in line)

    def carrying(self, ns: str) -> int:
        """VMACs (vm*) with carrier: vmac_protodown's "holds its VIPs"."""
        data = json.loads(ip("-j", "link", "show", ns=ns))
        return sum(1 for d in data if d["ifname"].startswith("vm") and "LOWER_UP" in d["flags"])

    def rx_packets(self, ns: str) -> int:
        data = json.loads(ip("-s", "-j", "link", "show", ns=ns))
        return sum(d["stats64"]["rx"]["packets"] for d in data if d["ifname"].startswith("eth"))


class Daemon:
    def __init__(self, kind: str, ns: str, conf: Path, workdir: Path, name: str) -> None:
        self.kind, self.ns, self.conf, self.workdir, self.name = kind, ns, conf, workdir, name
        self.log = workdir / f"{name}.{kind}.log"
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        pid = self.workdir / f"{self.name}.{self.kind}.pid"
        if self.kind == "fastka":
            cmd = [sys.executable, "-m", "fastka", "-s", self.ns, "-n", "-l", "-G", "-P", "-f", str(self.conf),
                   "-p", str(pid), "-r", f"{pid}.vrrp", *(["-D"] if DETAIL else [])]
        else:
            cmd = ["ip", "netns", "exec", self.ns, "keepalived", "-n", "-l", "-P", "--no-syslog", "-f",
                   str(self.conf), "-p", str(pid), "-r", f"{pid}.vrrp"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                         env=dict(os.environ, FASTKA_STATE_DIR=str(self.workdir)))

    def pids(self) -> list[int]:
        assert self.proc is not None
        out = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == self.proc.pid or int(p.name) == self.proc.pid:  # pgid
                    out.append(int(p.name))
        return out

    def cpu_ticks(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime
            except OSError:
                pass
        return total

    def transitions(self) -> int:
        return self.log.read_text(errors="replace").count("Entering") if self.log.exists() else 0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


class AddrWatch:
    """Timestamps of RTM_NEWADDR events in a namespace (a thread that joined it); with
    links=True, of the first carrier-on RTM_NEWLINK of each link instead."""

    def __init__(self, ns: str, links: bool = False) -> None:
        self.ns = ns
        self.links = links
        self._up: set[int] = set()
        self.times: list[float] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        self._ready.wait(10)

    def _run(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        libc.setns(fd, 0x40000000)
        os.close(fd)
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        s.bind((0, RTMGRP_LINK if self.links else RTMGRP_IPV4_IFADDR))
        self._ready.set()
        while not self._stop.is_set():
            r, _, _ = select.select([s], [], [], 0.1)
            if not r:
                continue
            data = s.recv(1 << 20)
            now = time.monotonic()
            off = 0
            while off + 16 <= len(data):
                n, kind = struct.unpack_from("=IH", data, off)
                if n < 16:
                    break
                if kind == RTM_NEWADDR and not self.links:
                    self.times.append(now)
                elif kind == RTM_NEWLINK and self.links and off + 32 <= len(data):
                    index, flags = struct.unpack_from("=iI", data, off + 20)
                    if flags & IFF_LOWER_UP and index not in self._up:
                        self._up.add(index)
                        self.times.append(now)
                off += (n + 3) & ~3
        s.close()

    def stop(self) -> None:
        self._stop.set()
        self._t.join(5)


_ADD_ALL = """
import json, sys, time
from fastka.vrrp import netlink
pairs = json.load(sys.stdin)  # [interface, address] of every VIP, as config() lays them out
index = {name: netlink.ifindex(name) for name in {dev for dev, _ in pairs}}
addrs = [netlink.Address(index[dev], addr, 32) for dev, addr in pairs]
data = netlink.without_ack(netlink.pack_addresses(netlink.RTM_NEWADDR, addrs, 1)[0])
sender = netlink.UnackedSender()
t = time.perf_counter()
errors = sender.send(data)
took = time.perf_counter() - t
assert not errors, errors[:3]
print(round(1000 * took))
"""


def kernel_add_ms(ns: str, n: int, v: int) -> Optional[int]:
    """Milliseconds the kernel takes to add every VIP of the backup in one unacknowledged
    send, with an address watch listening (as during the failover): the floor under
    any daemon's failover_all_vips_ms once its first Master_Down has fallen due."""
    watch = AddrWatch(ns)
    try:
        pairs = [(iface(k), vip(k, j)) for k in range(n) for j in range(v)]
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", _ADD_ALL], input=json.dumps(pairs),
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            print(f"kernel_add_all_vips_ms: {out.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        wait(lambda: len(watch.times) >= n * v, 10, step=0.01)
        return int(out.stdout.strip())
    finally:
        watch.stop()


def wait(pred: Any, timeout: float, step: float = 0.05) -> Optional[float]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None


def run_one(kind: str, n: int, v: int, advert_int: float, window: float, converge_timeout: float,
            keep: Optional[Path] = None, vmac: str = "none") -> dict:
    if vmac == "protodown" and kind != "fastka":
        vmac = "vmac"  # keepalived has no protodown mode: its closest is use_vmac
    res: dict[str, Any] = {"daemon": kind, "instances": n, "vips": v, "advert_int": advert_int, "vmac": vmac}
    protodown = vmac == "protodown"
    with tempfile.TemporaryDirectory(prefix="fastka-bench-") as tmp, Topology(n) as topo:
        work = Path(tmp)
        if keep is not None:
            work = keep / kind
            work.mkdir(parents=True, exist_ok=True)
        (work / "m.conf").write_text(config(n, v, advert_int, 200, vmac))
        (work / "s.conf").write_text(config(n, v, advert_int, 100, vmac))
        m = Daemon(kind, topo.a, work / "m.conf", work, "m")
        s = Daemon(kind, topo.b, work / "s.conf", work, "s")
        total = n * v
        try:
            t0 = time.monotonic()
            s.start()
            m.start()
            if protodown:
                took = wait(lambda: topo.carrying(topo.a) == n and topo.carrying(topo.b) == 0
                            and topo.vip_count(topo.b) == total, converge_timeout, step=0.2)
            else:
                took = wait(lambda: topo.vip_count(topo.a) == total and topo.vip_count(topo.b) == 0,
                            converge_timeout, step=0.2)
            res["converge_s"] = None if took is None else round(time.monotonic() - t0, 2)
            if took is None:
                res["note"] = f"did not converge in {converge_timeout} s"
                return res
            time.sleep(2)
            trans0 = m.transitions() + s.transitions()
            c0m, c0s, rx0, w0 = m.cpu_ticks(), s.cpu_ticks(), topo.rx_packets(topo.b), time.monotonic()
            time.sleep(window)
            c1m, c1s, rx1, w1 = m.cpu_ticks(), s.cpu_ticks(), topo.rx_packets(topo.b), time.monotonic()
            el = w1 - w0
            res["master_cpu_pct"] = round(100 * (c1m - c0m) / CLK_TCK / el, 1)
            res["backup_cpu_pct"] = round(100 * (c1s - c0s) / CLK_TCK / el, 1)
            expected = n / advert_int
            res["adverts_per_s"] = round((rx1 - rx0) / el)
            res["adverts_pct_of_expected"] = round(100 * (rx1 - rx0) / el / expected, 1)
            res["spurious_transitions"] = m.transitions() + s.transitions() - trans0
            watch = AddrWatch(topo.b, links=protodown)
            if protodown:
                total = n  # one carrier-on per instance
            try:
                k0 = time.monotonic()
                m.kill()
                got = wait(lambda: len(watch.times) >= total, 60, step=0.01)
                if watch.times:
                    res["failover_first_vip_ms"] = round(1000 * (watch.times[0] - k0))
                if got is not None and len(watch.times) >= total:
                    res["failover_all_vips_ms"] = round(1000 * (watch.times[total - 1] - k0))
                else:
                    res["note"] = (f"backup held {len(watch.times)} of {total} {'VMACs' if protodown else 'VIPs'} "
                                   "60 s after the kill")
            finally:
                watch.stop()
            mdi = 3 * advert_int + (256 - 100) * advert_int / 256
            res["master_down_interval_ms"] = round(1000 * mdi)
            if not protodown and vmac == "none":
                s.stop()  # takes its VIPs away
                res["kernel_add_all_vips_ms"] = kernel_add_ms(topo.b, n, v)
        finally:
            s.stop()
            m.kill()
    return res


def main(argv: Optional[list[str]] = None) -> int:
    global PER_IFACE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--instances", "-n", type=int, default=1000, help="VRRP instances per node (default 1000)")
    ap.add_argument("--vips", "-v", type=int, default=1, help="/32 VIPs per instance (default 1)")
    ap.add_argument("--advert-int", type=float, default=0.1, help="advert_int in seconds (default 0.1)")
    ap.add_argument("--window", type=float, default=10.0, help="steady window for CPU and adverts, s (default 10)")
    ap.add_argument("--converge-timeout", type=float, default=90.0, help="give up converging after this many s")
    ap.add_argument("--daemons", default="fastka,keepalived", help="comma list: fastka, keepalived")
    ap.add_argument("--per-iface", type=int, default=250, choices=range(1, 256), metavar="1..255",
                    help="instances per interface (default 250): the kernel's cost of adding an address "
                         "grows with the addresses its interface has")
    ap.add_argument("--vmac", choices=("none", "vmac", "protodown"), default="none",
                    help="use_vmac for every instance (vmac), with fastka's vmac_protodown (protodown)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", metavar="DIR", help="keep configurations and logs in DIR/<daemon>/")
    a = ap.parse_args(argv)
    PER_IFACE = a.per_iface  # iface(), config() and Topology read it
    if os.geteuid() != 0:
        print("vrrp_scale: needs root (network namespaces)", file=sys.stderr)
        return 2
    results = []
    for kind in a.daemons.split(","):
        if kind == "keepalived" and shutil.which("keepalived") is None:
            print("keepalived is not installed: skipped", file=sys.stderr)
            continue
        print(f"-- {kind}: {a.instances} instances x {a.vips} VIPs @ {a.advert_int} s ...", file=sys.stderr, flush=True)
        results.append(run_one(kind, a.instances, a.vips, a.advert_int, a.window, a.converge_timeout,
                               Path(a.keep) if a.keep else None, a.vmac))
    keys = ["vmac", "converge_s", "master_cpu_pct", "backup_cpu_pct", "adverts_per_s", "adverts_pct_of_expected",
            "spurious_transitions", "master_down_interval_ms", "failover_first_vip_ms", "failover_all_vips_ms",
            "kernel_add_all_vips_ms", "note"]
    print(f"\n{a.instances} instances x {a.vips} VIPs, VRRPv3 @ {a.advert_int} s, {PER_IFACE} instances per "
          f"interface (expected {a.instances / a.advert_int:.0f} adverts/s)")
    print(f"{'':28}" + "".join(f"{r['daemon']:>14}" for r in results))
    for k in keys:
        if any(k in r for r in results):
            print(f"{k:28}" + "".join(f"{str(r.get(k, '-')):>14}" for r in results))
    if len(results) == 2 and results[0].get("master_cpu_pct") and results[1].get("master_cpu_pct"):
        ratio = results[0]["master_cpu_pct"] / results[1]["master_cpu_pct"]
        print(f"{'master CPU fastka/keepalived':28}{ratio:>14.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
