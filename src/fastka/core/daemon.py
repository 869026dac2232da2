"""Running fastka as a daemon, with keepalived's flags.

This version runs the VRRP subsystem in one process (keepalived runs a watchdog parent
and a VRRP child; fastka's parent/child split comes with the checker subsystem). The
steps, each with keepalived's meaning:

- ``-s NAME``: enter network namespace NAME (/run/netns/NAME) first;
- the configuration is loaded and checked; any error stops here, before anything is
  applied (keepalived would start on a wrong file);
- ``-p FILE`` / ``-r FILE``: pidfiles (defaults /run/fastka.pid, /run/fastka_vrrp.pid);
  a pidfile naming a live process means fastka is already running: refuse;
- without ``-n`` the process detaches (double fork, new session, stdio on /dev/null);
- logging: syslog (``-S`` facility) unless ``-G``; the console with ``-l``; a file
  with ``-g``; ``-D`` adds detail;
- SIGTERM / SIGINT: every master sends priority 0 and the VIPs are removed (kept with
  ``-V``); then the pidfiles are removed.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import logging.handlers
import os
import sys
from typing import Any, Optional

log = logging.getLogger("fastka")

DEFAULT_PID = "/run/fastka.pid"
DEFAULT_VRRP_PID = "/run/fastka_vrrp.pid"
_CLONE_NEWNET = 0x40000000


class DaemonError(Exception):
    pass


_started_in: Optional[int] = None  # an fd of the network namespace fastka started in, once it left it


def started_in_netns() -> Optional[int]:
    """The network namespace fastka started in (an fd), if -s moved it to another; what
    only exists in the initial namespace (the proc connector) can be reached from there."""
    return _started_in


def enter_namespace(name: str) -> None:
    global _started_in
    libc = ctypes.CDLL(None, use_errno=True)
    path = name if "/" in name else f"/run/netns/{name}"
    if _started_in is None:
        try:
            _started_in = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise DaemonError(f"network namespace {name}: {e.strerror}") from None
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise DaemonError(f"network namespace {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


def setup_logging(*, console: bool, detail: bool, facility: Optional[str], log_file: Optional[str],
                  no_syslog: bool) -> None:
    root = logging.getLogger("fastka")
    root.setLevel(logging.DEBUG if detail else logging.INFO)
    root.propagate = False
    for h in list(root.handlers):
        root.removeHandler(h)
    fmt = logging.Formatter("%(asctime)s: %(message)s", "%a %b %d %H:%M:%S %Y")
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    if not no_syslog and os.path.exists("/dev/log"):
        fac = facility or "daemon"
        code = (logging.handlers.SysLogHandler.facility_names.get(fac)
                if not fac.isdigit() else logging.handlers.SysLogHandler.LOG_LOCAL0 + int(fac))
        try:
            sys_h = logging.handlers.SysLogHandler(address="/dev/log", facility=code or 3)
            sys_h.setFormatter(logging.Formatter("fastka[%(process)d]: %(message)s"))
            root.addHandler(sys_h)
        except OSError:
            pass


def _pid_alive(path: str) -> Optional[int]:
    try:
        with open(path) as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except OSError as e:
        return pid if e.errno == errno.EPERM else None
    return pid


def write_pidfiles(paths: list[str]) -> None:
    for p in paths:
        other = _pid_alive(p)
        if other is not None:
            raise DaemonError(f"daemon is already running (pid {other} in {p})")
    for p in paths:
        try:
            with open(p, "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError as e:
            raise DaemonError(f"cannot write pidfile {p}: {e.strerror}") from None


def remove_pidfiles(paths: list[str]) -> None:
    for p in paths:
        try:
            with open(p) as f:
                if f.read().strip() != str(os.getpid()):
                    continue
            os.unlink(p)
        except OSError:
            pass


def detach() -> None:
    """Double fork into a new session; stdio on /dev/null."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def run_vrrp(config: Any, opts: dict) -> int:
    """Run the VRRP engine on a loaded, checked configuration until SIGTERM / SIGINT."""
    from ..vrrp.engine import ConfigError, Engine, install_signal_handlers, not_implemented_uses

    pidfiles = [str(opts.get("pid_file") or DEFAULT_PID), str(opts.get("vrrp_pid_file") or DEFAULT_VRRP_PID)]
    if not opts.get("dont_fork"):
        detach()
    try:
        write_pidfiles(pidfiles)
    except DaemonError as e:
        log.error("%s", e)
        return 1
    try:
        try:
            engine = Engine(config, release_vips=not opts.get("dont_release_vrrp"))
        except (ConfigError, OSError) as e:
            log.error("cannot start VRRP: %s", e)
            return 1
        for line in not_implemented_uses(config):
            log.warning("not implemented yet, not acted on: %s", line)
        install_signal_handlers(engine)
        log.info("Starting VRRP child process, pid=%d (%d instances)", os.getpid(), len(engine.instances))
        try:
            engine.run()
        finally:
            engine.close()
        log.info("Stopped")
        return 0
    finally:
        remove_pidfiles(pidfiles)
