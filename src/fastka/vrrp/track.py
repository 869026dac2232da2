"""Tracking: vrrp_script checks and tracked interfaces, and the effective priority.

keepalived's rules (keepalived.conf(5)), for each tracked object of an instance with
weight w (the instance's ``weight`` on the track line, else the vrrp_script's own):

- w == 0: the object down puts the instance in FAULT (until it is up again);
- w > 0: the object up adds w to the priority;
- w < 0: the object down adds w (lowers it);
- ``reverse``: "the priority is decreased when up and increased when down": the
  adjustment changes sign (w > 0 takes w away while up, w < 0 gives |w| back while
  down), and ``weight 0 reverse`` is a FAULT while the object is up;

the effective priority is clamped to 1..254 by the state machine (an address owner's
never changes).

A vrrp_script runs every ``interval`` seconds (keepalived starts them all at once),
without a shell, killed after ``timeout`` (default: interval); exit 0 is success.
``rise`` successes in a row make it up, ``fall`` failures down; it starts up, or down
with ``init_fail``. Scripts run in the background: the loop never waits for one.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .track_file import effect as file_effect

log = logging.getLogger("fastka.vrrp")


@dataclass
class ScriptCheck:
    name: str
    argv: list[str]
    interval_s: float
    timeout_s: float
    rise: int
    fall: int
    user: Optional[str]
    group: Optional[str]
    weight: int
    reverse: bool
    up: bool = True
    streak: int = 0  # consecutive results against the current state
    next_run: float = 0.0  # monotonic seconds
    proc: Optional[subprocess.Popen] = None
    started: float = 0.0
    runs: int = 0
    failures: int = 0


@dataclass
class Tracked:
    """One tracked object of one instance: what it is, its weight there."""

    kind: str  # "script", "interface", "file" or "process"
    name: str
    weight: int
    reverse: bool


@dataclass
class InstanceTracking:
    tracked: list[Tracked] = field(default_factory=list)


class ScriptRunner:
    """Every vrrp_script any instance tracks; run on schedule, results folded into
    up / down with rise and fall."""

    def __init__(self, config: Any, used: set[str], default_user: Optional[tuple[str, ...]]) -> None:
        self.checks: dict[str, ScriptCheck] = {}
        now = time.monotonic()
        for s in getattr(config, "vrrp_scripts", ()):
            if s.name not in used or not s.script:
                continue
            who = list(s.user or default_user or ())
            weight = s.weight.value if s.weight is not None else 0
            self.checks[s.name] = ScriptCheck(
                name=s.name, argv=shlex.split(s.script), interval_s=float(s.interval or 1),
                timeout_s=float(s.timeout or s.interval or 1), rise=s.rise or 1, fall=s.fall or 1,
                user=who[0] if who else None, group=who[1] if len(who) > 1 else None, weight=weight,
                reverse=bool(s.weight.reverse) if s.weight is not None else False, up=not s.init_fail,
                next_run=now)

    def next_due(self) -> Optional[float]:
        """The monotonic time something needs attention (a run, or a timeout)."""
        times = [c.started + c.timeout_s if c.proc is not None else c.next_run for c in self.checks.values()]
        return min(times) if times else None

    def poll(self) -> list[ScriptCheck]:
        """Reap finished runs, kill overdue ones, start due ones; the checks whose
        up / down state changed."""
        now = time.monotonic()
        changed = []
        for c in self.checks.values():
            if c.proc is not None:
                rc = c.proc.poll()
                if rc is None and now - c.started >= c.timeout_s:
                    try:
                        os.killpg(c.proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    c.proc.wait()
                    log.warning("vrrp_script %s timed out after %.1f s", c.name, c.timeout_s)
                    rc = -1
                if rc is not None:
                    c.proc = None
                    if self._result(c, rc == 0):
                        changed.append(c)
            if c.proc is None and now >= c.next_run:
                c.next_run = now + c.interval_s
                c.runs += 1
                try:
                    c.proc = subprocess.Popen(c.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
                                              cwd="/", user=c.user, group=c.group)
                    c.started = now
                except (OSError, KeyError, ValueError) as e:
                    log.error("vrrp_script %s: cannot run %s: %s", c.name, shlex.join(c.argv),
                              getattr(e, "strerror", None) or e)
                    if self._result(c, False):
                        changed.append(c)
        return changed

    def _result(self, c: ScriptCheck, ok: bool) -> bool:
        if not ok:
            c.failures += 1
        if ok == c.up:
            c.streak = 0
            return False
        c.streak += 1
        if c.streak >= (c.rise if ok else c.fall):
            c.up, c.streak = ok, 0
            log.info("VRRP_Script(%s) %s", c.name, "succeeded" if ok else "failed")
            return True
        return False

    def stop(self) -> None:
        for c in self.checks.values():
            if c.proc is not None and c.proc.poll() is None:
                try:
                    os.killpg(c.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                c.proc.wait()


def effective(base: int, tracked: list[Tracked], is_up: dict[tuple[str, str], int]) -> tuple[int, list[str]]:
    """(priority, names of the objects that are a fault: weight-0 ones down, track_files
    per their rule). is_up holds up / down, or a track_file's value."""
    prio, faults = base, []
    for t in tracked:
        if t.kind == "file":
            delta, fault = file_effect(is_up.get((t.kind, t.name), 0), t.weight, t.reverse)
            prio += delta
            if fault:
                faults.append(f"{t.kind} {t.name}")
            continue
        up = bool(is_up.get((t.kind, t.name), True))
        sign = -1 if t.reverse else 1
        if t.weight == 0:
            if up == t.reverse:
                faults.append(f"{t.kind} {t.name}")
        elif t.weight > 0 and up:
            prio += sign * t.weight
        elif t.weight < 0 and not up:
            prio += sign * t.weight
    return prio, faults
