"""VRRP nodes in network namespaces for tests: fastka or Debian's keepalived, on one
LAN (a bridge in a namespace of its own), each node its own namespace with eth0.

Every namespace has a unique name and is removed on exit, whatever happens; every
process is killed; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from ..netns import ip, netns, skip_unless_netns, wait_link_local

FASTKA = [sys.executable, "-m", "fastka"]


def wait_for(pred: Callable[[], bool], timeout: float, what: str, step: float = 0.02) -> float:
    """Poll pred until it holds; the seconds it took. AssertionError after timeout."""
    start = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


@dataclass
class Node:
    name: str
    ns: str
    index: int  # 1-based: eth0 has 10.99.0.<index>/24 and fd00:99::<index>/64
    workdir: Path
    kind: str = "fastka"
    proc: Optional[subprocess.Popen] = None
    log: Optional[Path] = None
    extra_args: list[str] = field(default_factory=list)
    starts: int = 0

    @property
    def ipv4(self) -> str:
        return f"10.99.0.{self.index}"

    @property
    def ipv6(self) -> str:
        return f"fd00:99::{self.index}"

    def start(self, config: str, *args: str) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        conf = self.workdir / f"{self.name}.conf"
        conf.write_text(config)
        self.log = self.workdir / f"{self.name}.{self.kind}.log"
        # fresh pidfiles per start: a SIGKILLed keepalived leaves its own behind
        self.starts += 1
        pid = self.workdir / f"{self.name}.{self.starts}.pid"
        vpid = self.workdir / f"{self.name}.{self.starts}.vrrp.pid"
        if self.kind == "fastka":
            cmd = [*FASTKA, "-s", self.ns, "-n", "-l", "-G", "-P", "-f", str(conf), "-p", str(pid), "-r", str(vpid)]
        else:
            cmd = ["ip", "netns", "exec", self.ns, "keepalived", "-n", "-l", "-P", "--no-syslog", "-f", str(conf),
                   "-p", str(pid), "-r", str(vpid)]
        env = dict(os.environ, FASTKA_STATE_DIR=str(self.state_dir))
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([*cmd, *args, *self.extra_args], stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env)

    @property
    def state_dir(self) -> Path:
        d = self.workdir / f"{self.name}.state"
        d.mkdir(exist_ok=True)
        return d

    def stats(self) -> dict:
        """fastka's JSON state (the JSON signal, as keepalived's), once it is written."""
        import json

        path = self.state_dir / "fastka.json"
        path.unlink(missing_ok=True)
        self.signal(signal.SIGRTMIN + 2)
        wait_for(path.exists, 5, f"{self.name} to write {path.name}")
        return json.loads(path.read_text())

    def reload(self, config: str) -> None:
        """Write config over the node's file and send SIGHUP to the parent only (as
        `kill -HUP $(cat pidfile)` would); returns once the node's VRRP child logged the
        end of its reload (applied or refused)."""
        assert self.proc is not None
        done = self.log_text().count("reload: ")
        (self.workdir / f"{self.name}.conf").write_text(config)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.log_text().count("reload: ") > done, 10, f"{self.name} to reload")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM and wait; the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(5)
            raise AssertionError(f"{self.name} did not stop on SIGTERM within {timeout} s") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait(5)

    def addresses(self, dev: str = "eth0") -> set[str]:
        out = ip("-n", self.ns, "-o", "addr", "show", "dev", dev)
        return {w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]}

    def has(self, vip: str) -> bool:
        return vip in self.addresses()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def link(self, up: bool, dev: str = "eth0") -> None:
        ip("-n", self.ns, "link", "set", dev, "up" if up else "down")


@dataclass
class Lan:
    bridge_ns: str
    nodes: list[Node]

    def port(self, node: Node, connected: bool) -> None:
        """Take node's port out of the bridge or put it back: a partition in which node's
        link stays up (its cable is plugged into nothing)."""
        if connected:
            ip("-n", self.bridge_ns, "link", "set", f"p{node.index}", "master", "br0")
        else:
            ip("-n", self.bridge_ns, "link", "set", f"p{node.index}", "nomaster")

    def holders(self, vip: str) -> list[str]:
        return [n.name for n in self.nodes if n.has(vip)]


@contextlib.contextmanager
def lan(tmp_path: Path, names: list[str], prefix: str = "fkv", links: int = 1) -> Iterator[Lan]:
    """Namespaces for names, joined by a bridge (eth0, 10.99.0.k/24); with links=2 also
    by a second one (eth1, 10.98.0.k/24); torn down on exit."""
    skip_unless_netns()
    with contextlib.ExitStack() as stack:
        br = stack.enter_context(netns(f"{prefix}br"))
        for b in range(links):
            ip("-n", br, "link", "add", f"br{b}", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0")
            ip("-n", br, "link", "set", f"br{b}", "up")
        nodes = []
        for k, name in enumerate(names, start=1):
            ns = stack.enter_context(netns(f"{prefix}{k}"))
            ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"p{k}", "netns", br)
            ip("-n", br, "link", "set", f"p{k}", "master", "br0")
            ip("-n", br, "link", "set", f"p{k}", "up")
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0",
                            "net.ipv6.conf.all.accept_dad=0"], check=True, timeout=10)
            ip("-n", ns, "link", "set", "eth0", "address", f"02:00:00:99:00:{k:02x}")
            ip("-n", ns, "addr", "add", f"10.99.0.{k}/24", "dev", "eth0")
            ip("-n", ns, "addr", "add", f"fd00:99::{k}/64", "dev", "eth0", "nodad")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            if links > 1:
                ip("link", "add", "eth1", "netns", ns, "type", "veth", "peer", "name", f"q{k}", "netns", br)
                ip("-n", br, "link", "set", f"q{k}", "master", "br1")
                ip("-n", br, "link", "set", f"q{k}", "up")
                ip("-n", ns, "addr", "add", f"10.98.0.{k}/24", "dev", "eth1")
                ip("-n", ns, "link", "set", "eth1", "up")
            nodes.append(Node(name, ns, k, tmp_path))
        for n in nodes:
            wait_link_local(n.ns, "eth0")
        try:
            yield Lan(br, nodes)
        finally:
            for n in nodes:
                n.kill()


def need_keepalived() -> None:
    if shutil.which("keepalived") is None:
        pytest.skip("Debian's keepalived is not installed (scripts/setup installs it)")


def instance(*, name: str = "VI_1", vrid: int = 51, priority: int = 100, version: int = 3,
             advert_int: str = "0.1", vips: tuple[str, ...] = ("10.99.0.100/24",), state: str = "BACKUP",
             extra: str = "", auth: Optional[tuple[str, str]] = None, unicast: Optional[tuple[str, list[str]]] = None,
             interface: Optional[str] = "eth0") -> str:
    lines = [f"vrrp_instance {name} {{", f"    state {state}", *([f"    interface {interface}"] if interface else []),
             f"    virtual_router_id {vrid}", f"    priority {priority}", f"    advert_int {advert_int}",
             f"    version {version}"]
    if auth:
        lines += ["    authentication {", f"        auth_type {auth[0]}", f"        auth_pass {auth[1]}", "    }"]
    if unicast:
        peers = [f"        {p}" for p in unicast[1]]
        lines += [f"    unicast_src_ip {unicast[0]}", "    unicast_peer {", *peers, "    }"]
    lines += ["    virtual_ipaddress {", *(f"        {v}" for v in vips), "    }"]
    if extra:
        lines += [f"    {x}" for x in extra.strip().splitlines()]
    lines.append("}")
    return "\n".join(lines) + "\n"
