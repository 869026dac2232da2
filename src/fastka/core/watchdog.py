"""The parent process: starts the VRRP and checker children, restarts a crashed one,
passes signals on (keepalived's process model).

- Each child is a fork of the parent after the configuration is loaded and checked;
  it writes its own pidfile (``-r`` / ``-c``), asks the kernel to kill it if the parent
  dies (PR_SET_PDEATHSIG: a SIGKILLed fastka leaves no orphan holding VIPs or IPVS
  entries half-owned), and runs its subsystem until SIGTERM.
- SIGTERM / SIGINT on the parent: passed to every child as SIGTERM; the parent waits
  for them (the VRRP child sends priority 0 and removes its VIPs, the checker child
  removes its IPVS services) and exits.
- SIGHUP, SIGUSR1: passed to every child (each reloads itself). The parent reads the
  file again only when it restarts a child after a SIGHUP (and keeps it when it has
  no errors): parsing at the SIGHUP itself would take a CPU from the reloading children.
  The exception: a subsystem the flags allow but the file did not need at start (no
  vrrp_instance, or no virtual_server) has no child yet. Then the parent reads the file
  at the SIGHUP and, when it now names that subsystem, starts its child with the new
  configuration, as keepalived 2.2.7 does ("Starting Healthcheck child process" at a
  reload that added the first virtual_server, observed).
  SIGUSR2 (stats): to the VRRP child. The JSON signal: to both (each writes its
  JSON state file, fastka.core.state).
- A child that dies while fastka is not stopping is started again ("restarted after a
  crash", as keepalived) unless it died within ``QUICK_DEATH`` seconds of its start: a
  child that cannot start (its sockets, the kernel's IPVS) would only die again, so the
  parent stops the others and exits with that child's status.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .daemon import _pid_alive, remove_pidfiles, write_pidfiles
from .state import JSON_SIGNAL

log = logging.getLogger("fastka")

PR_SET_PDEATHSIG = 1
QUICK_DEATH = 5.0
RESTART_DELAY = 1.0


HELD = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, JSON_SIGNAL}


def handlers_ready() -> None:
    """A child's subsystem calls this once its signal handlers are installed: signals
    held since the fork are delivered now."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)


@dataclass
class Child:
    name: str
    main: Callable[[Any, dict], int]
    pidfile: str
    pid: int = 0
    started: float = 0.0
    restarts: int = 0
    # a subsystem the flags allow but the configuration did not need at start: started
    # by a reload whose file needs(config) (see the module notes)
    idle: bool = False
    needs: Optional[Callable[[Any], bool]] = None


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.WEXITSTATUS(status)}"


class Watchdog:
    def __init__(self, config: Any, opts: dict, children: list[Child]) -> None:
        self.config = config
        self.stale = False  # a SIGHUP came since self.config was read
        self.opts = opts
        self.children = children
        self.stopping = False
        self.status = 0
        self._woken = False  # a SIGHUP came while a child is idle: read the file in the loop
        self._wake_r, self._wake_w = -1, -1

    # --- children ----------------------------------------------------------------------------

    def _start(self, c: Child) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid:
            c.pid, c.started = pid, time.monotonic()
            return
        rc = 1
        try:
            # held until the subsystem's own handlers are in place (handlers_ready()): a
            # SIGTERM that arrives while it starts must still make it clean up
            signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, JSON_SIGNAL,
                      signal.SIGCHLD):
                signal.signal(s, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)  # the parent's; the child's subsystem sets its own
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    os.close(fd)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl
                os._exit(1)
            write_pidfiles([c.pidfile])  # the parent checked that no other fastka owns it
            try:
                rc = c.main(self.config, self.opts)
            finally:
                remove_pidfiles([c.pidfile])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        except BaseException:
            log.exception("%s child crashed", c.name)
            rc = 1
        finally:
            logging.shutdown()
            os._exit(rc)

    def _reload(self) -> None:
        """The newest good configuration, read when a child is restarted after a SIGHUP
        (the children reload themselves on SIGHUP; the parent does not parse then: on a
        large file that would take a CPU from them while they reload)."""
        if not self.stale:
            return
        self.stale = False
        from ..config import load_file

        path = str(self.opts.get("use_file") or "/etc/keepalived/keepalived.conf")
        try:
            result = load_file(path, config_id=self.opts.get("config_id"), check_system=True,
                               all_config=bool(self.opts.get("all_config")))
        except OSError as e:
            log.error("reload: cannot read %s: %s", path, e)
            return
        if not result.diagnostics.has_errors:
            self.config = result.config  # frozen, as at start (a daemon's load: fastka.gcpause)

    def _start_needed(self) -> None:
        """After a SIGHUP while some subsystem has no child: read the file; start the child
        of each subsystem it now names (a file with errors starts nothing: the running
        children log the errors and keep their configuration)."""
        idle = [c for c in self.children if c.idle]
        if not idle or self.stopping:
            return
        self._reload()  # the SIGHUP marked the configuration stale
        for c in idle:
            if c.needs is None or not c.needs(self.config):
                continue
            other = _pid_alive(c.pidfile)
            if other is not None:
                log.error("reload: not starting the %s child: pid %d owns %s", c.name, other, c.pidfile)
                continue
            log.info("reload: the configuration now needs the %s child; starting it", c.name)
            c.idle = False
            self.opts = {**self.opts, "vrrp_child": True, "checker_child": True}
            self._start(c)

    def _forward(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGHUP:
            self.stale = True
            if any(c.idle for c in self.children):
                self._woken = True
        if signum in (signal.SIGTERM, signal.SIGINT):
            if not self.stopping:
                log.info("received %s, stopping", signal.Signals(signum).name)
            self.stopping = True
            targets, send = self.children, int(signal.SIGTERM)
        elif signum == signal.SIGUSR2:
            targets, send = [c for c in self.children if c.name == "VRRP"], signum
        else:
            targets, send = self.children, signum
        for t in targets:
            if t.pid:
                try:
                    os.kill(t.pid, send)
                except ProcessLookupError:
                    pass

    def run(self) -> int:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, JSON_SIGNAL):
            signal.signal(s, self._forward)
        if any(c.idle for c in self.children):
            # a SIGHUP must wake the loop (waitpid would just go on waiting): the signal's
            # byte on a pipe, and SIGCHLD's for the children
            self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.set_wakeup_fd(self._wake_w)
            signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        try:
            return self._run()
        finally:
            if self._wake_w >= 0:
                signal.set_wakeup_fd(-1)
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1

    def _wait(self) -> tuple[int, int]:
        """The next child to end: (pid, status); starts a reload's new children meanwhile."""
        if self._wake_r < 0:
            return os.waitpid(-1, 0)
        while True:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                return pid, status
            if self._woken:
                self._woken = False
                self._start_needed()
                continue
            select.select([self._wake_r], [], [])
            try:
                while os.read(self._wake_r, 512):
                    pass
            except BlockingIOError:
                pass

    def _run(self) -> int:
        for c in self.children:
            if not c.idle:
                self._start(c)
        while any(c.pid for c in self.children):
            try:
                pid, status = self._wait()
            except ChildProcessError:
                break
            found = self._child(pid)
            if found is None:
                continue
            c = found
            c.pid = 0
            if self.stopping:
                if status:
                    log.warning("%s child %s", c.name, _describe(status))
                continue
            lived = time.monotonic() - c.started
            if lived < QUICK_DEATH or not status:
                if status:
                    log.error("%s child %s %.1f s after its start; stopping", c.name, _describe(status), lived)
                    self.status = 1
                self._stop_all()
                continue
            log.error("%s child %s; restarting it", c.name, _describe(status))
            time.sleep(RESTART_DELAY)
            if not self.stopping:
                c.restarts += 1
                self._reload()
                self._start(c)
        return self.status

    def _child(self, pid: int) -> Optional[Child]:
        return next((c for c in self.children if c.pid == pid), None)

    def _stop_all(self) -> None:
        self.stopping = True
        for c in self.children:
            if c.pid:
                try:
                    os.kill(c.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

