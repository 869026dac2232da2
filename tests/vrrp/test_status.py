"""`fastka status` against a running fastka: the parent passes keepalived's JSON
signal on, the VRRP child writes its state, status prints it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .cluster import instance, lan, wait_for

pytestmark = pytest.mark.root


def status(node, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
    pid = node.workdir / f"{node.name}.{node.starts}.pid"
    return subprocess.run([exe, "status", "-p", str(pid), *args], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, FASTKA_STATE_DIR=str(node.state_dir)))


def test_status_shows_each_instance(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        a.start(instance(priority=200) + instance(name="VI_2", vrid=52, priority=50, vips=("10.99.0.101/24",)))
        b.start(instance(priority=100) + instance(name="VI_2", vrid=52, priority=150, vips=("10.99.0.101/24",)))
        wait_for(lambda: net.holders("10.99.0.100") == ["a"] and net.holders("10.99.0.101") == ["b"], 10,
                 "a to be master of VI_1, b of VI_2")
        p = status(a)
        assert p.returncode == 0, p.stderr
        rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()[1:]}
        assert rows["VI_1"][1:3] == ["MASTER", "priority"] and rows["VI_1"][3] == "200"
        assert rows["VI_2"][1] == "BACKUP" and "held" not in " ".join(rows["VI_2"])
        assert p.stdout.startswith("VRRP (2 instances, native loop)")
        doc = json.loads(status(b, "--json").stdout)
        assert {i["name"]: i["state"] for i in doc["vrrp"]["instances"]} == {"VI_1": "BACKUP", "VI_2": "MASTER"}
        assert "checkers" not in doc  # no checker child
        assert a.stop() == 0
        p = status(a)
        assert p.returncode == 1 and "not running" in p.stderr
