"""Notify scripts: keepalived's notify_master / notify_backup / notify_fault /
notify_stop, and notify (called with "INSTANCE <name> <MASTER|BACKUP|FAULT|STOP>
<priority>" appended).

A script line is split like a shell word list (quotes respected) and executed
directly, without a shell, as keepalived does; ``user [group]`` after it (or
global_defs script_user) sets who runs it. Scripts run in the background, after the
VIPs of the transition are in place; they are never waited for in the loop: finished
ones are reaped each iteration and a failure (exit status, signal, cannot start) is
logged. A script still running at shutdown is left to finish on its own.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Sequence
from typing import Any, Optional

log = logging.getLogger("fastka.vrrp")

STATE_WORD = {"MASTER": "MASTER", "BACKUP": "BACKUP", "FAULT": "FAULT", "INITIALIZE": "STOP"}


def command(script: Sequence[str], default_user: Optional[Sequence[str]] = None) -> tuple[list[str], Optional[str],
                                                                                          Optional[str]]:
    """(argv, user, group) of a configured script value ("cmd args" [user [group]])."""
    argv = shlex.split(script[0])
    who = list(script[1:]) or list(default_user or ())
    return argv, (who[0] if who else None), (who[1] if len(who) > 1 else None)


def state_scripts(cfg: Any, default_user: Optional[Sequence[str]] = None) -> tuple[dict[str, tuple], Optional[tuple]]:
    """An instance's or sync group's notify_master / backup / fault / stop, by state word,
    and its ``notify`` script: each as (argv, user, group), None / absent when not set."""
    by_state = {word: command(getattr(cfg, kw), default_user)
                for word, kw in (("MASTER", "notify_master"), ("BACKUP", "notify_backup"),
                                 ("FAULT", "notify_fault"), ("STOP", "notify_stop")) if getattr(cfg, kw)}
    return by_state, (command(cfg.notify, default_user) if cfg.notify else None)


class Notifier:
    def __init__(self) -> None:
        self.running: list[tuple[subprocess.Popen, str]] = []
        self.started = 0
        self.failed = 0

    def run(self, argv: list[str], user: Optional[str], group: Optional[str], what: str) -> None:
        if not argv:
            return
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
                                 user=user, group=group, cwd="/", env=dict(os.environ))
        except (OSError, KeyError, ValueError) as e:  # KeyError / ValueError: unknown user or group
            self.failed += 1
            log.error("%s: cannot run %s: %s", what, shlex.join(argv), getattr(e, "strerror", None) or e)
            return
        self.started += 1
        self.running.append((p, what))

    def reap(self) -> None:
        still = []
        for p, what in self.running:
            rc = p.poll()
            if rc is None:
                still.append((p, what))
            elif rc != 0:
                self.failed += 1
                how = f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
                log.warning("%s: %s %s", what, shlex.join(p.args if isinstance(p.args, list) else [str(p.args)]),
                            how)
        self.running = still
