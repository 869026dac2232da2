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
