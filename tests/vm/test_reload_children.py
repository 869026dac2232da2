"""A reload that needs a subsystem fastka did not start, in the QEMU guest (IPVS): fastka
starts with only a vrrp_instance (no checker child: nothing for it to do); a SIGHUP with a
virtual_server added starts the checker child, as keepalived 2.2.7 does, and it programs
the kernel's table (ipvsadm the witness); the VRRP child runs on; SIGTERM stops both."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from .links import veth

VRRP = """
vrrp_instance VI_1 {
  state BACKUP
  interface %(dev)s
  virtual_router_id 52
  priority 100
  advert_int 0.2
  version 3
  virtual_ipaddress {
    10.7.0.100/24
  }
}
"""

LVS = """
virtual_server 10.7.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.7.0.2 80 {
    weight 3
  }
}
"""


def sh(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=30).stdout


def wait(what: str, cond, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.guest
def test_a_reload_starts_the_checker_child_a_new_virtual_server_needs(tmp_path):
    with veth("fr", "10.7.0.1/24") as dev:
        conf, log = tmp_path / "k.conf", tmp_path / "fastka.log"
        conf.write_text(VRRP % {"dev": dev})
        exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
        cpid = tmp_path / "c.pid"
        with open(log, "w") as out:
            proc = subprocess.Popen([exe, "-n", "-l", "-G", "-f", str(conf), "-p", str(tmp_path / "p.pid"),
                                     "-r", str(tmp_path / "r.pid"), "-c", str(cpid)], stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
        try:
            wait("the VIP", lambda: "10.7.0.100/24" in sh("ip", "-o", "addr", "show", "dev", dev))
            assert not cpid.exists(), "no checker child without a virtual_server"
            assert "10.7.0.100:80" not in sh("ipvsadm", "-Ln")
            vrrp_pid = int((tmp_path / "r.pid").read_text())
            conf.write_text(VRRP % {"dev": dev} + LVS)
            proc.send_signal(signal.SIGHUP)
            wait("the checker child's table",
                 lambda: "10.7.0.2:80" in sh("ipvsadm", "-Ln", "-t", "10.7.0.100:80") if "10.7.0.100:80" in
                 sh("ipvsadm", "-Ln") else False)
            text = log.read_text()
            assert "reload: the configuration now needs the checker child; starting it" in text, text
            assert cpid.exists() and int(cpid.read_text()) > 0
            assert int((tmp_path / "r.pid").read_text()) == vrrp_pid, "the VRRP child ran on (reloaded)"
            assert "10.7.0.100/24" in sh("ip", "-o", "addr", "show", "dev", dev)
            assert proc.poll() is None
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        text = log.read_text()
        assert proc.returncode == 0, text
        assert "10.7.0.100:80" not in sh("ipvsadm", "-Ln"), "the checker child removed its service at stop"
        assert "10.7.0.100" not in sh("ip", "-o", "addr", "show", "dev", dev), "the VRRP child released the VIP"


def daemons() -> str:
    return sh("ipvsadm", "-L", "--daemon")


def start(tmp_path, conf, log, *flags: str) -> subprocess.Popen:
    exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
    with open(log, "w") as out:
        return subprocess.Popen([exe, *flags, "-n", "-l", "-G", "-f", str(conf), "-p", str(tmp_path / "p.pid"),
                                 "-r", str(tmp_path / "r.pid"), "-c", str(tmp_path / "c.pid")], stdout=out,
                                stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen, log) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    text = log.read_text()
    assert proc.returncode == 0, text
    return text


@pytest.mark.guest
def test_the_checker_child_a_reload_starts_takes_over_the_sync_daemons(tmp_path):
    """lvs_sync_daemon without an instance runs in the checker child; with none, the VRRP
    child runs it. The reload that starts a checker child hands the daemons over: the
    kernel's daemons run on, and the checker child now owns them (a later reload that
    drops lvs_sync_daemon stops them there)."""
    with veth("fh", "10.7.1.1/24") as dev:
        conf, log = tmp_path / "k.conf", tmp_path / "fastka.log"
        sync = "global_defs {\n  lvs_sync_daemon %(dev)s id 7\n}\n" % {"dev": dev}
        vrrp = VRRP.replace("10.7.0.", "10.7.1.") % {"dev": dev}
        conf.write_text(sync + vrrp)
        proc = start(tmp_path, conf, log)
        try:
            wait("both sync daemons", lambda: "master sync daemon" in daemons() and "backup sync daemon" in daemons())
            assert not (tmp_path / "c.pid").exists()
            conf.write_text(sync + vrrp + LVS.replace("10.7.0.", "10.7.1."))
            proc.send_signal(signal.SIGHUP)
            wait("the hand-over", lambda: "handed over to the checker child" in log.read_text()
                 and "sync daemon already runs; taken over" in log.read_text())
            out = daemons()
            assert "master sync daemon" in out and "backup sync daemon" in out and "syncid=7" in out, out
            conf.write_text(vrrp + LVS.replace("10.7.0.", "10.7.1."))  # lvs_sync_daemon dropped
            proc.send_signal(signal.SIGHUP)
            wait("the checker child stopping them", lambda: "sync daemon" not in daemons())
        finally:
            text = stop(proc, log)
        assert "cannot start" not in text and "cannot stop" not in text, text
        assert "sync daemon" not in daemons()

