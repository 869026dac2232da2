"""What the engine reports beyond an instance's own notify scripts: keepalived's notify
FIFOs, the sync groups' states and notify scripts, notify_master_rx_lower_pri and
priority changes. Everything here runs after the loop's batch (the VIPs and adverts
never wait for it) and never blocks.

Notify FIFOs (global_defs ``vrrp_notify_fifo`` or, without it, ``notify_fifo``; each
``FIFO [user [group]]``): one line per event, as keepalived 2.2.7 writes them
(observed)::

    INSTANCE "VI_1" MASTER 200          (BACKUP, FAULT, STOP; the priority)
    INSTANCE "VI_1" MASTER_PRIORITY 220 (BACKUP_PRIORITY; notify_priority_changes)
    INSTANCE "VI_1" MASTER_RX_LOWER_PRI 220
    GROUP "G" MASTER 0                  (BACKUP, FAULT, STOP; priority always 0)

The FIFO is created (mode 0600, owned by user / group when given) if missing, and
removed at exit if fastka created it; a path that exists and is not a FIFO is an
error logged at start. It is opened read-write and non-blocking, as keepalived does
(a reader that starts late finds what was written since; none is ever waited for):
a line that does not fit (no reader, pipe full) is dropped and counted. The
``..._fifo_script`` runs at start with the FIFO path appended to its arguments, and
gets SIGTERM at stop before the STOP lines are written (keepalived's order).
When both notify_fifo and vrrp_notify_fifo are set, VRRP writes only to the second
(the first is keepalived's checker FIFO): both are created and their scripts run.

Sync groups: the group's state follows its members (any in FAULT: FAULT; all
MASTER: MASTER; all BACKUP: BACKUP; all stopped: STOP); each change runs the
group's notify_master / backup / fault / stop and ``notify`` with "GROUP name STATE
0" appended, and writes the GROUP line, after the members' own scripts and lines.

notify_master_rx_lower_pri runs (without arguments added, like keepalived) each time
a master receives an advert that loses to it; ``notify`` is not called for it.

smtp_alert (instance / sync group, with global_defs' SMTP settings): one mail per
transition ("[router_id] VRRP Instance VI_1 - Entering MASTER state"), sent by
fastka.core.alerts' thread. Followers (:meth:`Events.follow`) hear an instance's
transitions: the lvs_sync_daemon switches master / backup with them.

notify_deleted is keepalived's word for an instance removed by a reload (carried out by
fastka.vrrp.reload); at stop keepalived reports STOP and does not run notify_deleted
(observed); neither does fastka.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..core.alerts import SmtpAlerts
from .notify import Notifier, command, state_scripts
from .state_machine import State

log = logging.getLogger("fastka.vrrp")

GROUP_WORD = {State.MASTER: "MASTER", State.BACKUP: "BACKUP", State.FAULT: "FAULT", State.INITIALIZE: "STOP"}


def group_state(states: list[State]) -> Optional[State]:
    """A sync group's state from its members', or None while they disagree."""
    if not states:
        return None
    if State.FAULT in states:
        return State.FAULT
    first = states[0]
    return first if all(s == first for s in states) else None


class Fifo:
    """One notify FIFO: created if missing, written without ever blocking."""

    def __init__(self, spec: tuple[str, ...], script: Optional[tuple[str, ...]],
                 script_user: Optional[tuple[str, ...]]) -> None:
        self.path = spec[0]
        self.owner = spec[1:]
        self.script = command(script, script_user) if script else None
        self.fd = -1
        self.created = False
        self.proc: Optional[subprocess.Popen] = None
        self.written = 0
        self.dropped = 0

    def open(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            try:
                os.mkfifo(self.path, 0o600)
            except OSError as e:
                log.error("notify FIFO %s: cannot create it: %s", self.path, e.strerror)
                return
            self.created = True
            self._chown()
        except OSError as e:
            log.error("notify FIFO %s: %s", self.path, e.strerror)
            return
        else:
            if not stat.S_ISFIFO(st.st_mode):
                log.error("notify FIFO %s exists and is not a FIFO; nothing is written to it", self.path)
                return
        try:
            # read-write: never ENXIO for want of a reader, never SIGPIPE; non-blocking
            self.fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            log.error("notify FIFO %s: cannot open it: %s", self.path, e.strerror)
            return
        if self.script is not None:
            argv, user, group = self.script
            try:
                self.proc = subprocess.Popen([*argv, self.path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
                                             user=user, group=group, cwd="/")
            except (OSError, KeyError, ValueError) as e:
                log.error("notify FIFO script %s: cannot run it: %s", " ".join(argv),
                          getattr(e, "strerror", None) or e)

    def _chown(self) -> None:
        if not self.owner:
            return
        import grp
        import pwd

        try:
            pw = pwd.getpwnam(self.owner[0])
            gid = grp.getgrnam(self.owner[1]).gr_gid if len(self.owner) > 1 else pw.pw_gid
            os.chown(self.path, pw.pw_uid, gid)
        except (KeyError, OSError) as e:
            log.error("notify FIFO %s: cannot give it to %s: %s", self.path, " ".join(self.owner),
                      getattr(e, "strerror", None) or e)

    def write(self, line: str) -> None:
        if self.fd < 0:
            return
        try:
            os.write(self.fd, line.encode() + b"\n")  # < PIPE_BUF: all of it or nothing
            self.written += 1
        except OSError as e:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("notify FIFO %s: %d lines dropped (%s)", self.path, self.dropped,
                            "full: nobody reads it" if e.errno == errno.EAGAIN else e.strerror)

    def terminate_script(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.created:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.created = False
        if self.proc is not None:
            self.proc.poll()  # reaped if it is done; otherwise it finishes on its own


@dataclass
class Group:
    name: str
    members: list  # Instance
    notify_state: dict = field(default_factory=dict)  # MASTER/BACKUP/FAULT/STOP -> (argv, user, group)
    notify_any: Optional[tuple] = None
    state: Optional[State] = None
    smtp_alert: bool = False


class Events:
    """FIFO lines, sync-group state and scripts, rx-lower-priority and priority reports."""

    def __init__(self, config: Any, groups: dict[str, list], notifier: Notifier) -> None:
        gd = getattr(config, "global_defs", None)
        script_user = gd.script_user if gd is not None else None
        self.notifier = notifier
        self.fifos: list[Fifo] = []
        self.fifo: Optional[Fifo] = None  # the one VRRP writes to
        if gd is not None:
            if gd.notify_fifo:
                self.fifos.append(Fifo(gd.notify_fifo, gd.notify_fifo_script, script_user))
            if gd.vrrp_notify_fifo:
                self.fifos.append(Fifo(gd.vrrp_notify_fifo, gd.vrrp_notify_fifo_script, script_user))
            self.fifo = self.fifos[-1] if self.fifos else None
        self.groups: list[Group] = []
        by_name = {g.name: g for g in getattr(config, "vrrp_sync_groups", ())}
        for name, members in groups.items():
            g = Group(name, members)
            cfg = by_name.get(name)
            if cfg is not None:
                g.notify_state, g.notify_any = state_scripts(cfg, script_user)
                g.smtp_alert = bool(cfg.smtp_alert)
            if members:
                self.groups.append(g)
        self.alerts = SmtpAlerts(gd)
        self.smtp: set[int] = set()  # indexes of instances with smtp_alert
        self.followers: dict[str, list[Callable[[str], None]]] = {}  # instance name -> callbacks
        self.rx_lower: dict[int, tuple] = {}  # instance index -> notify_master_rx_lower_pri command
        self.priority_changes: set[int] = set()  # indexes of instances with notify_priority_changes
        self._script_user = script_user

    @property
    def wants_transitions(self) -> bool:
        return self.fifo is not None or bool(self.groups) or bool(self.followers) or bool(self.smtp)

    def follow(self, name: str, fn: Callable[[str], None]) -> None:
        """Call fn(state word) after each transition of instance name (lvs_sync_daemon)."""
        self.followers.setdefault(name, []).append(fn)

    def instance_config(self, i: Any, inst: Any) -> None:
        """Take what an instance's configuration asks of this module."""
        if inst.notify_master_rx_lower_pri:
            self.rx_lower[i.index] = command(inst.notify_master_rx_lower_pri, self._script_user)
        if inst.notify_priority_changes and self.fifo is not None:
            self.priority_changes.add(i.index)
        if inst.smtp_alert and self.alerts.enabled:
            self.smtp.add(i.index)

    def start(self) -> None:
        for f in self.fifos:
            f.open()

    def transitions(self, moved: list[tuple[Any, str]]) -> None:
        """After a flush: the instances that moved (instance, state word)."""
        for i, word in moved:
            if self.fifo is not None:
                self.fifo.write(f'INSTANCE "{i.name}" {word} {i.sm.priority}')
            if i.index in self.smtp:
                self.alerts.vrrp("VRRP Instance", i.name, word)
            for fn in self.followers.get(i.name, ()):
                try:
                    fn(word)
                except Exception:  # a follower's failure must not stop the loop
                    log.exception("(%s) following the transition to %s failed", i.name, word)
        for g in self.groups:
            st = group_state([m.state for m in g.members])
            if st is None or st == g.state:
                continue
            g.state = st
            word = GROUP_WORD[st]
            log.info("VRRP_Group(%s) Entering %s state", g.name, word)
            if word in g.notify_state:
                argv, user, group = g.notify_state[word]
                self.notifier.run(argv, user, group, f"(group {g.name}) notify_{word.lower()}")
            if g.notify_any is not None:
                argv, user, group = g.notify_any
                self.notifier.run([*argv, "GROUP", g.name, word, "0"], user, group, f"(group {g.name}) notify")
            if self.fifo is not None:
                self.fifo.write(f'GROUP "{g.name}" {word} 0')
            if g.smtp_alert:
                self.alerts.vrrp("VRRP Group", g.name, word)

    def master_rx_lower(self, i: Any) -> None:
        i.counters["rx_lower_priority"] += 1
        if self.fifo is not None:
            self.fifo.write(f'INSTANCE "{i.name}" MASTER_RX_LOWER_PRI {i.sm.priority}')
        cmd = self.rx_lower.get(i.index)
        if cmd is not None:
            argv, user, group = cmd
            self.notifier.run(argv, user, group, f"({i.name}) notify_master_rx_lower_pri")

    def priority_changed(self, i: Any, priority: int) -> None:
        if self.fifo is not None and i.index in self.priority_changes and i.state in (State.MASTER, State.BACKUP):
            self.fifo.write(f'INSTANCE "{i.name}" {i.state.name}_PRIORITY {priority}')

    def stopping(self) -> None:
        """Before the STOP transitions: the FIFO scripts get SIGTERM (keepalived's order)."""
        for f in self.fifos:
            f.terminate_script()

    def close(self) -> None:
        for f in self.fifos:
            f.close()
        self.alerts.close()

    def counters(self) -> dict[str, int]:
        out = {}
        if self.fifo is not None:
            out["fifo_lines_written"] = self.fifo.written
            out["fifo_lines_dropped"] = self.fifo.dropped
        return out
