"""``fastka demo``: a live VRRP failover on this machine, in namespaces it creates.

Two fastka nodes, each in its own network namespace, joined by a bridge in a third;
four VRRPv3 instances at advert_int 0.1 s, node-a at priority 200, node-b at 100.
The demo shows the election, kills node-a (SIGKILL: no goodbye), times node-b taking
over every VIP, brings node-a back (preemption), stops both cleanly, and removes
everything it created, whatever happens. Needs root (namespaces) and iproute2.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

N_INSTANCES = 4
NET = "192.168.77"


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10).stdout


def _config(priority: int) -> str:
    out = []
    for k in range(1, N_INSTANCES + 1):
        out.append(f"""vrrp_instance VI_{k} {{
    state BACKUP
    interface eth0
    virtual_router_id {k}
    priority {priority}
    advert_int 0.1
    version 3
    virtual_ipaddress {{
        {NET}.{100 + k}/24
    }}
}}
""")
    return "".join(out)


class _Node:
    def __init__(self, name: str, ns: str, priority: int, workdir: Path) -> None:
        self.name, self.ns, self.priority, self.workdir = name, ns, priority, workdir
        self.conf = workdir / f"{name}.conf"
        self.conf.write_text(_config(priority))
        self.log = workdir / f"{name}.log"
        self.proc: Optional[subprocess.Popen] = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        pid = self.workdir / f"{self.name}.{self.runs}.pid"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fastka", "-s", self.ns, "-n", "-l", "-G", "-P", "-f", str(self.conf),
                 "-p", str(pid), "-r", f"{pid}.vrrp"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, FASTKA_STATE_DIR=str(self.workdir)))

    def send(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def vips(self) -> set[str]:
        out = _ip("-n", self.ns, "-o", "-4", "addr", "show", "dev", "eth0")
        have = {line.split()[3].split("/")[0] for line in out.splitlines()}
        return {f"{NET}.{100 + k}" for k in range(1, N_INSTANCES + 1)} & have


def _wait(pred: Callable[[], bool], timeout: float) -> Optional[float]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def _show(a: _Node, b: _Node) -> None:
    for n in (a, b):
        v = sorted(n.vips(), key=lambda s: int(s.rsplit(".", 1)[1]))
        print(f"    {n.name} (priority {n.priority}): {len(v)} VIPs {' '.join(v)}")


def run() -> int:
    if os.geteuid() != 0:
        print("fastka demo: needs root (it creates network namespaces)", file=sys.stderr)
        return 2
    if shutil.which("ip") is None:
        print("fastka demo: needs iproute2's ip", file=sys.stderr)
        return 2
    tag = uuid.uuid4().hex[:6]
    names = {"br": f"fkdemo-br-{tag}", "a": f"fkdemo-a-{tag}", "b": f"fkdemo-b-{tag}"}
    made: list[str] = []
    nodes: list[_Node] = []
    workdir = Path(tempfile.mkdtemp(prefix="fastka-demo-"))
    status = 1
    try:
        for ns in names.values():
            _ip("netns", "add", ns)
            made.append(ns)
        br = names["br"]
        _ip("-n", br, "link", "add", "br0", "type", "bridge", "forward_delay", "0")
        _ip("-n", br, "link", "set", "br0", "up")
        for k, key in enumerate(("a", "b"), start=1):
            ns = names[key]
            _ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"p{k}", "netns", br)
            _ip("-n", br, "link", "set", f"p{k}", "master", "br0")
            _ip("-n", br, "link", "set", f"p{k}", "up")
            _ip("-n", ns, "addr", "add", f"{NET}.{k}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        a = _Node("node-a", names["a"], 200, workdir)
        b = _Node("node-b", names["b"], 100, workdir)
        nodes = [a, b]
        everything = N_INSTANCES
        print(f"== two fastka nodes on one bridge, {N_INSTANCES} VRRPv3 instances each, advert_int 0.1 s")
        print(f"   namespaces {', '.join(made)}; logs in {workdir}")
        b.start()
        a.start()
        t = _wait(lambda: len(a.vips()) == everything and not b.vips(), 15)
        print(f"== election: node-a (priority 200) holds every VIP after {t:.2f} s" if t is not None
              else "== election did not settle in 15 s")
        _show(a, b)
        if t is None:
            return 1
        print("== SIGKILL node-a (no priority-0 goodbye): node-b must notice the silence")
        a.send(signal.SIGKILL)
        t0 = time.monotonic()
        first = _wait(lambda: bool(b.vips()), 10)
        every = _wait(lambda: len(b.vips()) == everything, 10)
        if first is None or every is None:
            print("== node-b did not take over in 10 s")
            return 1
        print(f"   node-b holds its first VIP {first * 1000:.0f} ms and all {everything} VIPs "
              f"{(time.monotonic() - t0) * 1000:.0f} ms after the kill (Master_Down_Interval at priority 100: "
              "3 x 0.1 s + skew 0.06 s = 0.36 s from node-a's last advert)")
        _show(a, b)
        print("   (a killed node cannot remove its VIPs; node-b's gratuitous ARPs move the traffic, and node-a\n"
              "    clears them when it starts again - as keepalived)")
        print("== node-a comes back: it preempts node-b (higher priority)")
        a.start()
        t = _wait(lambda: len(a.vips()) == everything and not b.vips(), 15)
        print(f"   node-a holds every VIP again after {t:.2f} s" if t is not None else "   preemption did not happen")
        _show(a, b)
        print("== SIGTERM both: masters send priority 0 and remove their VIPs")
        for n in nodes:
            n.send(signal.SIGTERM)
        _show(a, b)
        print("== what node-a logged:")
        for line in a.log.read_text().splitlines():
            if "Entering" in line or "sent 0 priority" in line:
                print("   " + line)
        status = 0 if t is not None else 1
        return status
    finally:
        for n in nodes:
            n.send(signal.SIGKILL)
        for ns in reversed(made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        print(f"== removed namespaces {', '.join(made)}")
        shutil.rmtree(workdir, ignore_errors=True)
