"""The watchdog parent: a VRRP child that crashes later than QUICK_DEATH after its
start is started again and takes its instances back; one that cannot start stops
fastka (tests/test_cli.py); SIGKILL of the parent takes the child with it."""

from __future__ import annotations

import os
import signal
import time

import pytest

from fastka.core.watchdog import QUICK_DEATH

from .cluster import instance, lan, wait_for

pytestmark = pytest.mark.root

VIP = "10.99.0.100"


def child_pid(node) -> int:
    path = node.workdir / f"{node.name}.{node.starts}.vrrp.pid"
    wait_for(path.exists, 10, "the VRRP child's pidfile")
    return int(path.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_crashed_vrrp_child_is_restarted_and_a_killed_parent_leaves_no_orphan(tmp_path):
    with lan(tmp_path, ["a"]) as net:
        (a,) = net.nodes
        a.start(instance(priority=200))
        wait_for(lambda: a.has(VIP), 10, "a to be master")
        first = child_pid(a)
        time.sleep(QUICK_DEATH + 0.5)  # a child dying sooner is not restarted
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: "VRRP child killed by signal 9; restarting it" in a.log_text(), 10, "the restart")
        wait_for(lambda: child_pid(a) != first, 10, "the new child's pidfile")
        second = child_pid(a)
        assert alive(second)
        wait_for(lambda: a.log_text().count("Entering MASTER STATE") == 2, 10, "the new child to be master")
        assert a.has(VIP)
        # SIGKILL of the parent alone: PR_SET_PDEATHSIG takes the child too
        assert a.proc is not None
        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait(5)
        wait_for(lambda: not alive(second), 5, "the child to die with its parent")


LVS = """
virtual_server 10.99.0.100 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.99.0.2 80 {
        weight 1
    }
}
"""


def test_a_reload_reads_the_file_for_a_subsystem_without_a_child(tmp_path):
    """Neither -P nor -C and only a vrrp_instance: no checker child. A SIGHUP makes the
    parent read the file: without a virtual_server nothing starts (the VRRP child reloads);
    with one the checker child starts, as keepalived 2.2.7's does. On this kernel (no
    IPVS) it cannot start, and fastka stops as a whole, as keepalived does then ("exited
    with permanent error FATAL. Terminating"): the VIP is released. The start of a working
    checker child is tested against IPVS in the guest (tests/vm/test_reload_children.py)."""
    import subprocess

    from .cluster import FASTKA

    with lan(tmp_path, ["a"]) as net:
        (a,) = net.nodes
        conf, log = tmp_path / "a.conf", tmp_path / "a.log"
        conf.write_text(instance(priority=200))
        pids = [str(tmp_path / f"{n}.pid") for n in ("p", "r", "c")]
        with open(log, "w") as out:
            proc = subprocess.Popen([*FASTKA, "-s", a.ns, "-n", "-l", "-G", "-f", str(conf), "-p", pids[0],
                                     "-r", pids[1], "-c", pids[2]], stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: a.has(VIP), 10, "a to be master")
            conf.write_text(instance(priority=210))
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reload: " in log.read_text(), 10, "the VRRP child to reload")
            time.sleep(0.5)
            assert proc.poll() is None and a.has(VIP)
            assert "checker child" not in log.read_text() and not os.path.exists(pids[2])
            conf.write_text(instance(priority=210) + LVS)
            proc.send_signal(signal.SIGHUP)
            assert proc.wait(20) != 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        text = log.read_text()
        assert "reload: the configuration now needs the checker child; starting it" in text, text
        assert "cannot start the checkers" in text and "stopping" in text, text
        assert not a.has(VIP), "the VRRP child released the VIP when fastka stopped"
