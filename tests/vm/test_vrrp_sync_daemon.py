"""lvs_sync_daemon following a VRRP instance, in the QEMU guest (IPVS): one fastka
node alone on a veth becomes master; the kernel runs the backup sync daemon first,
then only the master one; SIGTERM stops them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from .links import veth

CONF = """
global_defs {
  lvs_sync_daemon %(dev)s VI_1 maxlen 1400
}
vrrp_instance VI_1 {
  state BACKUP
  interface %(dev)s
  virtual_router_id 51
  priority 100
  advert_int 0.2
  version 3
  virtual_ipaddress {
    10.6.0.100/24
  }
}
"""


def daemons() -> str:
    return subprocess.run(["ipvsadm", "-L", "--daemon"], capture_output=True, text=True, check=True,
                          timeout=30).stdout


@pytest.mark.guest
def test_sync_daemons_follow_the_vrrp_instance(tmp_path):
    with veth("fs", "10.6.0.1/24") as dev:
        conf = tmp_path / "k.conf"
        conf.write_text(CONF % {"dev": dev})
        exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
        proc = subprocess.Popen([exe, "-P", "-n", "-l", "-G", "-f", str(conf), "-p", str(tmp_path / "p.pid"),
                                 "-r", str(tmp_path / "r.pid")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        try:
            end = time.monotonic() + 90
            out = ""
            while time.monotonic() < end:
                out = daemons()
                if "master sync daemon" in out:
                    break
                time.sleep(0.2)
            assert f"master sync daemon (mcast={dev}, syncid=51, maxlen=1400," in out, out
            assert "backup sync daemon" not in out
        finally:
            proc.send_signal(signal.SIGTERM)
            log, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, log
        assert daemons().strip() == "", "stopped with fastka"
        started_backup = log.index("started backup sync daemon")
        assert started_backup < log.index("Entering MASTER STATE") < log.index("started master sync daemon"), log
