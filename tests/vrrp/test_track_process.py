"""vrrp_track_process without the network: matching (keepalived.conf(5)), the /proc
reads, and the tracker on real processes - through the proc connector and through
the /proc scan - with quorum, quorum_max and the fork / terminate delays."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
import uuid

import pytest

from fastka.config import load_text
from fastka.vrrp import track_process
from fastka.vrrp.loopext import LoopExtras
from fastka.vrrp.track_process import MODE_ENV, ProcessTracker, ProcSpec, read_process


def spec(command: str, params=None, match="exact", cmdline=False) -> ProcSpec:
    return ProcSpec(name="p", command=command, params=params, match=match, quorum=1, quorum_max=None,
                    fork_delay_ns=0, terminate_delay_ns=0, cmdline=cmdline or params is not None)


def test_matching_rules():
    assert spec("sshd").matches("sshd", None)
    assert not spec("ssh").matches("sshd", None), "exact, not a pattern"
    assert spec("a-very-long-process-name").matches("a-very-long-pro", None), "the kernel keeps 15 characters"
    argv = ["/usr/sbin/haproxy", "-f", "/etc/haproxy.cfg", "-p", "/run/haproxy.pid"]
    assert spec("/usr/sbin/haproxy", ("-f", "/etc/haproxy.cfg", "-p", "/run/haproxy.pid")).matches("haproxy", argv)
    assert not spec("/usr/sbin/haproxy", ("-f", "/etc/haproxy.cfg")).matches("haproxy", argv), "exact: all of them"
    assert spec("/usr/sbin/haproxy", ("-f", "/etc/haproxy.cfg"), "partial").matches("haproxy", argv)
    assert spec("/usr/sbin/haproxy", ("-f", "/etc/haproxy.cfg", "-p", "/run/ha"), "initial").matches("haproxy", argv)
    assert not spec("/usr/sbin/haproxy", ("-f", "/etc/h"), "initial").matches("haproxy", argv)
    assert spec("/usr/sbin/haproxy", ()).matches("haproxy", ["/usr/sbin/haproxy"]), "param_match alone: none"
    assert not spec("/usr/sbin/haproxy", ()).matches("haproxy", argv)
    assert spec("/usr/sbin/haproxy", cmdline=True).matches("haproxy", argv), "full_command: argv[0]"
    assert not spec("haproxy", cmdline=True).matches("haproxy", argv)
    assert not spec("x", ()).matches("x", []), "a kernel thread has no command line"


def test_config_to_spec():
    conf = ('vrrp_track_process a {\n process sleep\n quorum 2\n quorum_max 3\n delay 0.5\n}\n'
            'vrrp_track_process b {\n process "/bin/sleep" 100\n param_match partial\n fork_delay 1\n}\n'
            'vrrp_track_process c {\n process /bin/sleep\n full_command\n}\n')
    r = load_text(conf, filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    t = ProcessTracker.from_config(r.config, {"a", "b", "c"})
    a, b, c = t.specs["a"], t.specs["b"], t.specs["c"]
    assert (a.command, a.params, a.cmdline, a.quorum, a.quorum_max) == ("sleep", None, False, 2, 3)
    assert (a.fork_delay_ns, a.terminate_delay_ns) == (500_000_000, 500_000_000)
    assert (b.command, b.params, b.match, b.cmdline, b.fork_delay_ns, b.terminate_delay_ns) == (
        "/bin/sleep", ("100",), "partial", True, 1_000_000_000, 0)
    assert (c.params, c.cmdline) == (None, True)


def test_read_process_skips_zombies():
    me = read_process(os.getpid(), True)
    assert me is not None and me[1] and me[1][0]
    p = subprocess.Popen(["/bin/true"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # exited, not reaped: a zombie
        st = read_process(p.pid, False)
        if st is None:
            break
        time.sleep(0.01)
    assert read_process(p.pid, False) is None
    p.wait()
    assert read_process(p.pid, False) is None


@pytest.fixture
def program(tmp_path):
    """A copy of sleep under a name no other process has (the process name is its basename)."""
    path = tmp_path / f"fk{uuid.uuid4().hex[:10]}"
    shutil.copy("/bin/sleep", path)
    return path


def drive(t: ProcessTracker, extras: LoopExtras, until, timeout: float = 5.0) -> None:
    """The loop, by hand: timers, and the connector socket when there is one."""
    end = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < end, "timed out"
        extras.run_due(time.monotonic_ns())
        if t.sock is not None:
            r, _, _ = select.select([t.sock], [], [], 0.02)
            if r:
                extras.readable([t.sock.fileno()], time.monotonic_ns() // 1000)
        else:
            time.sleep(0.02)


@pytest.mark.root
@pytest.mark.parametrize("mode", ["events", "scan"])
def test_tracker_on_real_processes(program, monkeypatch, mode):
    if os.geteuid() != 0:
        pytest.skip("the proc connector needs CAP_NET_ADMIN")
    if mode == "scan":
        monkeypatch.setenv(MODE_ENV, "scan")
        monkeypatch.setattr(track_process, "SCAN_INTERVAL_S", 0.1)  # shorter than terminate_delay
    name = program.name
    conf = (f'vrrp_track_process two {{\n process {name}\n quorum 2\n quorum_max 2\n}}\n'
            f'vrrp_track_process slow {{\n process {program} 30\n terminate_delay 0.5\n}}\n')
    r = load_text(conf, filename="k.conf")
    t = ProcessTracker.from_config(r.config, {"two", "slow"})
    extras = LoopExtras()
    seen: list[tuple[str, bool]] = []
    procs = [subprocess.Popen([str(program), "30"])]
    try:
        t.start(extras.watch, extras.call_at, time.monotonic_ns, lambda n, up, now: seen.append((n, up)))
        assert t.mode == ("connector" if mode == "events" else "scan")
        drive(t, extras, lambda: t.specs["slow"].up)  # the exec may come after start's scan
        assert not t.specs["two"].up and t.specs["two"].count == 1
        procs.append(subprocess.Popen([str(program), "31"]))
        drive(t, extras, lambda: ("two", True) in seen)
        procs.append(subprocess.Popen([str(program), "32"]))
        drive(t, extras, lambda: ("two", False) in seen)  # three: above quorum_max
        procs[2].kill()
        procs[2].wait()
        drive(t, extras, lambda: seen.count(("two", True)) == 2)
        procs[0].kill()
        procs[0].wait()
        drive(t, extras, lambda: seen.count(("two", False)) == 2)
        # slow: the one with parameter 30 is gone, but terminate_delay holds it up for 0.5 s
        assert t.specs["slow"].up and t.specs["slow"].pending is False
        procs[0] = subprocess.Popen([str(program), "30"])  # back within the delay: no change
        drive(t, extras, lambda: t.specs["slow"].count == 1 and t.specs["slow"].pending is None)
        time.sleep(0.6)
        drive(t, extras, lambda: True)
        assert ("slow", False) not in seen
        procs[0].kill()
        procs[0].wait()
        drive(t, extras, lambda: ("slow", False) in seen)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        t.close()
