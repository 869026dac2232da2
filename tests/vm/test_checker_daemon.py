"""`fastka -C` as a user runs it, in the QEMU guest (Debian's kernel, IPVS): real
servers are HTTP servers in a network namespace of the guest (reached over a veth),
TCP_CHECK and HTTP_GET watch them; ipvsadm is the witness. A server that stops
leaves the table (or drops to weight 0 with inhibit_on_failure), comes back when it
returns; SIGTERM empties the table, -I keeps it."""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

CONF = """
global_defs {{
  router_id guestlb
  notification_email {{
    ops@example.com
  }}
  smtp_server 127.0.0.1 {smtp_port}
  smtp_connect_timeout 5
}}
virtual_server 10.5.0.100 80 {{
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 0.5
  quorum 3
  quorum_up "{notify} quorum_up"
  quorum_down "{notify} quorum_down"
  real_server 10.5.0.2 8080 {{
    weight 3
    notify_up "{notify} rs2_up"
    notify_down "{notify} rs2_down"
    TCP_CHECK {{
      connect_timeout 1
      retry 1
      delay_before_retry 0.2
      warmup 0
    }}
  }}
  real_server 10.5.0.3 8080 {{
    weight 2
    inhibit_on_failure
    HTTP_GET {{
      url {{
        path /
        status_code 200
      }}
      connect_timeout 1
      retry 1
      delay_before_retry 0.2
      warmup 0
    }}
  }}
}}
"""


def sh(*args: str, check: bool = True) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=60).stdout


def dests(service: str = "10.5.0.100:80") -> dict[str, str]:
    """address:port -> weight of the service's destinations, per ipvsadm."""
    out = {}
    for line in sh("ipvsadm", "-Ln", "-t", service, check=False).splitlines():
        f = line.split()
        if f and f[0] == "->" and f[1] != "RemoteAddress:Port":
            out[f[1]] = f[3]
    return out


def events_in(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except FileNotFoundError:
        return []


def wait_for(what, want, timeout: float = 90.0):
    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        got = what()
        if got == want:
            return got
        time.sleep(0.25)
    raise AssertionError(f"waited {timeout:.0f} s for {want}, last saw {got}")


class Inbox:
    """A real SMTP server's (aiosmtpd) received subjects."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """HTTP servers on 10.5.0.2 and 10.5.0.3 (port 8080) in namespace ns."""

    def __init__(self, ns: str, workdir: Path) -> None:
        self.ns, self.workdir, self.procs = ns, workdir, {}

    def start(self, addr: str) -> None:
        d = self.workdir / addr
        d.mkdir(exist_ok=True)
        (d / "index.html").write_text("ok\n")
        self.procs[addr] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, "-m", "http.server", "--bind", addr, "8080"],
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, addr: str) -> None:
        p = self.procs.pop(addr)
        p.kill()
        p.wait()

    def close(self) -> None:
        for a in list(self.procs):
            self.stop(a)


@pytest.fixture
def rig(tmp_path):
    ns = f"fkrs-{uuid.uuid4().hex[:8]}"
    sh("ipvsadm", "-C")
    sh("ip", "netns", "add", ns)
    veth = f"v{uuid.uuid4().hex[:8]}"
    servers = Servers(ns, tmp_path)
    try:
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "rs0", "netns", ns)
        sh("ip", "addr", "add", "10.5.0.1/24", "dev", veth)
        sh("ip", "link", "set", veth, "up")
        for a in ("10.5.0.2/24", "10.5.0.3/24"):
            sh("ip", "-n", ns, "addr", "add", a, "dev", "rs0")
        sh("ip", "-n", ns, "link", "set", "rs0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        servers.start("10.5.0.2")
        servers.start("10.5.0.3")
        conf = tmp_path / "keepalived.conf"
        notify = tmp_path / "notify.sh"
        notify.write_text(f"#!/bin/sh\necho \"$1\" >> {tmp_path}/events\n")
        notify.chmod(0o755)
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        conf.write_text(CONF.format(notify=notify, smtp_port=smtp.port))
        yield servers, conf, inbox
        smtp.stop()
    finally:
        servers.close()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", veth], capture_output=True, timeout=30)
        sh("ipvsadm", "-C")


def fastka(conf: Path, tmp: Path, *extra: str) -> subprocess.Popen:
    exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
    return subprocess.Popen([exe, "-C", "-n", "-l", "-G", "-f", str(conf), "-p", str(tmp / "f.pid"),
                             "-c", str(tmp / "c.pid"), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=90)
    return out


@pytest.mark.guest
def test_checkers_drive_the_table_and_stop_empties_it(rig, tmp_path):
    servers, conf, inbox = rig

    def events() -> list[str]:  # the two scripts of one change run concurrently: any order
        return sorted(events_in(tmp_path / "events"))

    proc = fastka(conf, tmp_path)
    try:
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
        assert (tmp_path / "c.pid").exists()
        servers.stop("10.5.0.2")  # TCP_CHECK fails: removed; weight 2 left < quorum 3
        wait_for(dests, {"10.5.0.3:8080": "2"})
        wait_for(events, ["quorum_down", "rs2_down"])
        servers.stop("10.5.0.3")  # HTTP_GET fails: inhibited (weight 0)
        wait_for(dests, {"10.5.0.3:8080": "0"})
        # fastka status: the pool as the checker child sees it
        exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
        st = subprocess.run([exe, "status", "-p", str(tmp_path / "f.pid")], capture_output=True, text=True,
                            timeout=60)
        assert st.returncode == 0, st.stderr
        assert "virtual server 10.5.0.100 80: quorum DOWN (alive weight 0, quorum 3)" in st.stdout, st.stdout
        assert "10.5.0.3:8080" in st.stdout and "down (inhibited)" in st.stdout
        assert "DOWN HTTP_GET" in st.stdout
        servers.start("10.5.0.2")
        servers.start("10.5.0.3")
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
        wait_for(events, ["quorum_down", "quorum_up", "rs2_down", "rs2_up"])
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert dests() == {}, "SIGTERM removed fastka's service"
    assert "Removing service 10.5.0.2:8080 from VS 10.5.0.100 80" in out, out
    assert "Inhibiting service 10.5.0.3:8080" in out, out
    # smtp_alert: real servers default to yes, virtual servers to no
    wait_for(lambda: inbox.subjects()[:2], ["[guestlb] Realserver [10.5.0.2]:tcp:8080 - DOWN",
                                            "[guestlb] Realserver [10.5.0.3]:tcp:8080 - DOWN"], timeout=30)
    assert sorted(inbox.subjects()[2:]) == ["[guestlb] Realserver [10.5.0.2]:tcp:8080 - UP",
                                            "[guestlb] Realserver [10.5.0.3]:tcp:8080 - UP"]
    assert not (tmp_path / "c.pid").exists() and not (tmp_path / "f.pid").exists()


@pytest.mark.guest
def test_dont_release_ipvs_keeps_the_table(rig, tmp_path):
    servers, conf, _ = rig
    proc = fastka(conf, tmp_path, "-I")
    try:
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert dests() == {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"}


EXTRA_VS = """
virtual_server 10.5.0.101 80 {
  protocol TCP
  real_server 10.5.0.2 8080 {
    weight 4
  }
}
"""


@pytest.mark.guest
def test_sighup_reloads_keeping_checker_state_and_a_bad_file_changes_nothing(rig, tmp_path):
    servers, conf, _ = rig
    original = conf.read_text()
    proc = fastka(conf, tmp_path)
    try:
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
        servers.stop("10.5.0.3")
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "0"})
        # a weight changes, a virtual server is added; 10.5.0.3's checker is unchanged and
        # keeps its verdict (still down: weight 0, not back to 2 until a check passes)
        conf.write_text(original.replace("weight 3", "weight 5") + EXTRA_VS)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: dests("10.5.0.101:80"), {"10.5.0.2:8080": "4"})
        assert dests() == {"10.5.0.2:8080": "5", "10.5.0.3:8080": "0"}
        # a file with an error: nothing changes
        conf.write_text(original.replace("lb_algo rr", "lb_algo rr\n  quorum 0"))
        proc.send_signal(signal.SIGHUP)
        time.sleep(3)
        assert dests() == {"10.5.0.2:8080": "5", "10.5.0.3:8080": "0"}
        assert dests("10.5.0.101:80") == {"10.5.0.2:8080": "4"}
        # the added virtual server goes again; 10.5.0.3 comes back by its check
        conf.write_text(original)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: dests("10.5.0.101:80"), {})
        servers.start("10.5.0.3")
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "nothing changed" in out and "reload: 3 checkers kept" not in out, out
    assert "reload: 2 checkers kept, 0 new, 0 stopped" in out, out
    assert dests() == {}


def status(tmp: Path) -> dict:
    exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
    st = subprocess.run([exe, "status", "--json", "-p", str(tmp / "f.pid")], capture_output=True, text=True,
                        timeout=60)
    assert st.returncode == 0, st.stderr
    return json.loads(st.stdout)["checkers"]["virtual_servers"][0]


@pytest.mark.guest
def test_ha_suspend_runs_the_checkers_only_while_the_virtual_address_is_here(rig, tmp_path):
    servers, conf, _ = rig
    conf.write_text(conf.read_text().replace("lb_kind NAT\n", "lb_kind NAT\n  ha_suspend\n", 1))
    vip = "10.5.0.100/32"
    proc = fastka(conf, tmp_path)
    try:
        wait_for(dests, {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"})
        vs = status(tmp_path)
        assert vs["suspended"] is True, vs
        # suspended: no check runs, so a server that stops keeps its place
        checks = [c["checks"] for rs in vs["real_servers"] for c in rs["checkers"]]
        assert checks == [0, 0], vs
        servers.stop("10.5.0.2")
        time.sleep(2)  # four delay_loops
        assert dests() == {"10.5.0.2:8080": "3", "10.5.0.3:8080": "2"}
        # the address arrives (as VRRP master would add it): the checks run and see it
        sh("ip", "addr", "add", vip, "dev", "lo")
        wait_for(dests, {"10.5.0.3:8080": "2"})
        assert status(tmp_path)["suspended"] is False
        # and leaves: suspended again, the verdicts stay
        sh("ip", "addr", "del", vip, "dev", "lo")
        wait_for(lambda: status(tmp_path)["suspended"], True, timeout=30)
        servers.start("10.5.0.2")
        time.sleep(2)
        assert dests() == {"10.5.0.3:8080": "2"}
    finally:
        subprocess.run(["ip", "addr", "del", vip, "dev", "lo"], capture_output=True, timeout=30)
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "checkers suspended (ha_suspend)" in out and "checkers resumed" in out, out
