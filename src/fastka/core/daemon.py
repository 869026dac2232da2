"""Running fastka as a daemon, with keepalived's flags.

A watchdog parent (fastka.core.watchdog) runs the VRRP child and the checker child
(``-P`` / ``-C`` choose one), as keepalived does. The steps, each with keepalived's
meaning:

- ``-s NAME``: enter network namespace NAME (/run/netns/NAME) first;
- the configuration is loaded and checked; any error stops here, before anything is
  applied (keepalived would start on a wrong file);
- ``-p FILE`` / ``-r FILE`` / ``-c FILE``: pidfiles of the parent and of the VRRP and
  checker children (defaults /run/fastka.pid, /run/fastka_vrrp.pid,
  /run/fastka_checkers.pid); a pidfile naming a live process means fastka is already
  running: refuse;
- without ``-n`` the process detaches (double fork, new session, stdio on /dev/null);
- logging: syslog (``-S`` facility) unless ``-G``; the console with ``-l``; a file
  with ``-g``; ``-D`` adds detail;
- SIGHUP: the file is read again and, if it has no errors, applied; unchanged VRRP
  instances keep their state and VIPs (fastka.vrrp.reload), the checker child keeps
  its unchanged checkers (fastka.check.daemon); a file with errors is logged with its
  line numbers and changes nothing;
- SIGTERM / SIGINT: every master sends priority 0 and the VIPs are removed (kept with
  ``-V``), the checker child removes its IPVS services (kept with ``-I``); then the
  pidfiles are removed.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import logging
import logging.handlers
import os
import signal
import sys
from typing import Any, Optional

log = logging.getLogger("fastka")

DEFAULT_PID = "/run/fastka.pid"
DEFAULT_VRRP_PID = "/run/fastka_vrrp.pid"
DEFAULT_CHECKERS_PID = "/run/fastka_checkers.pid"
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
    """The VRRP child: run the engine on a loaded, checked configuration until SIGTERM / SIGINT."""
    from ..vrrp.engine import ConfigError, Engine, install_signal_handlers, not_implemented_uses
    from ..vrrp.no_accept import NoAccept
    from .watchdog import handlers_ready

    try:
        engine = Engine(config, release_vips=not opts.get("dont_release_vrrp"))
    except (ConfigError, OSError) as e:
        log.error("cannot start VRRP: %s", e)
        return 1
    for line in not_implemented_uses(config):
        log.warning("not implemented yet, not acted on: %s", line)
    no_accept = NoAccept(config)
    install_signal_handlers(engine)
    held: dict[str, Any] = {"syncd": None, "opts": opts}
    _reload_on_hup(engine, opts, no_accept, held)
    handlers_ready()
    log.info("Starting VRRP child process, pid=%d (%d instances)", os.getpid(), len(engine.instances))
    held["syncd"] = _sync_daemons(config, opts, engine)
    no_accept.start()  # before the first VIP is added
    try:
        engine.run()
    finally:
        engine.close()
        if not opts.get("dont_release_vrrp"):
            no_accept.stop()
        syncd = held["syncd"]
        if syncd is not None:
            syncd.stop()
            syncd.sock.close()
    log.info("Stopped")
    return 0


def _reload_on_hup(engine: Any, opts: dict, no_accept: Any, held: dict[str, Any]) -> None:
    """SIGHUP: the file is loaded and checked, and the new instances built, in a thread
    while the loop runs on; then the reload is carried out between two loop iterations
    (fastka.vrrp.reload). A SIGHUP that arrives while a reload is under way makes one
    more once it is done. no_accept's nftables sets: grown to the old and new VIPs
    before the reload (no VIP ever accepts that should not), shrunk after it. An
    lvs_sync_daemon without an instance, run here for want of a checker child, is
    handed over to the checker child the reload starts (held: the sync daemons and the
    options as the reloads leave them)."""
    import threading

    from ..vrrp import no_accept as na
    from ..vrrp import reload

    state = {"busy": False, "again": False}

    def done(e: Any, plan: Any) -> None:
        try:
            if plan is not None and e.config is not plan.old_config:
                state["again"] = True  # something else changed the engine first (a refresh): read it again
            if plan is not None and reload.apply(e, plan):
                no_accept.update(*na.vips(plan.config))
                held["opts"] = after_reload(held["opts"], plan.config)
                syncd = held["syncd"]
                if syncd is not None and syncd.instance is None and held["opts"]["checker_child"]:
                    syncd.release("checker child")
                    syncd.sock.close()
                    held["syncd"] = None
        except Exception:  # a bug in the reload must not stop VRRP
            log.exception("reload failed")
        state["busy"] = False
        if state["again"]:
            state["again"] = False
            start()

    def read() -> None:
        plan = None
        try:
            config = reload.load(opts)
            if config is not None:
                plan = reload.prepare(engine, config)
            if plan is not None:
                v4, v6 = na.vips(plan.config)
                no_accept.update(sorted(set(v4) | set(no_accept.v4)), sorted(set(v6) | set(no_accept.v6)))
        except Exception:
            log.exception("reading the configuration failed; nothing changed")
        engine.defer(lambda e: done(e, plan))

    def start() -> None:
        state["busy"] = True
        threading.Thread(target=read, name="reload", daemon=True).start()

    def hup(signum: int, frame: Any) -> None:
        if state["busy"]:
            state["again"] = True
        else:
            start()

    signal.signal(signal.SIGHUP, hup)


def _sync_daemons(config: Any, opts: dict, engine: Any) -> Any:
    """lvs_sync_daemon following a vrrp_instance, or without one when there is no checker
    child to run it: the sync daemons, started, their instance followed."""
    gd = getattr(config, "global_defs", None)
    spec = getattr(gd, "lvs_sync_daemon", None) if gd is not None else None
    if spec is None or (spec.instance is None and opts.get("checker_child")):
        return None
    from ..check.sync_daemon import SyncDaemons, instance_vrid
    from ..wire.ipvs import IpvsSocket, IpvsUnavailable

    if spec.instance is not None and not any(i.name == spec.instance for i in engine.instances):
        log.error("lvs_sync_daemon: no vrrp_instance %s; the sync daemons are not started", spec.instance)
        return None
    try:
        sock = IpvsSocket()
    except (IpvsUnavailable, OSError) as e:
        log.error("lvs_sync_daemon: %s", e)
        return None
    syncd = SyncDaemons(spec, sock, vrid=instance_vrid(config, spec.instance))
    syncd.start()
    if spec.instance is not None:
        engine.events.follow(spec.instance, syncd.follow)
    return syncd


def run_checkers(config: Any, opts: dict) -> int:
    """The checker child: health checkers and the IPVS manager."""
    from ..check.daemon import run_checkers as run

    return run(config, opts)


def allowed(opts: dict) -> tuple[bool, bool]:
    """(VRRP, checkers): the subsystems keepalived's flags allow. -P only VRRP, -C only the
    checkers, neither (or both) both."""
    vrrp, check = bool(opts.get("vrrp")), bool(opts.get("check"))
    return not check or vrrp, not vrrp or check


def after_reload(opts: dict, config: Any) -> dict:
    """opts with vrrp_child / checker_child as they stand once a reload has read config:
    the watchdog starts an idle child the flags allow when the file comes to need it
    (fastka.core.watchdog), and never stops one. The VRRP child works this out for
    itself at each reload, to know whether a checker child now runs lvs_sync_daemon."""
    allow_vrrp, allow_checkers = allowed(opts)
    return {**opts, "vrrp_child": bool(opts.get("vrrp_child")) or (allow_vrrp and needs_vrrp(config)),
            "checker_child": bool(opts.get("checker_child")) or (allow_checkers and needs_checkers(config))}


def needs_vrrp(config: Any) -> bool:
    return bool(getattr(config, "vrrp_instances", None))


def needs_checkers(config: Any) -> bool:
    return bool(getattr(config, "virtual_servers", None))


def run(config: Any, opts: dict, *, vrrp: bool, checkers: bool) -> int:
    """Detach (unless -n), write the parent's pidfile and run the wanted subsystems as
    children of a watchdog (fastka.core.watchdog)."""
    from .watchdog import Child, Watchdog

    opts = {**opts, "vrrp_child": vrrp, "checker_child": checkers}  # who runs lvs_sync_daemon
    # the subsystems the flags allow (-P: VRRP only, -C: checkers only); one the file does
    # not need yet is idle, started by a reload that names it (fastka.core.watchdog)
    allow_vrrp, allow_checkers = allowed(opts)
    children = []
    if vrrp or allow_vrrp:
        children.append(Child("VRRP", run_vrrp, str(opts.get("vrrp_pid_file") or DEFAULT_VRRP_PID), idle=not vrrp,
                              needs=needs_vrrp))
    if checkers or allow_checkers:
        children.append(Child("checker", run_checkers, str(opts.get("checkers_pid_file") or DEFAULT_CHECKERS_PID),
                              idle=not checkers, needs=needs_checkers))
    pidfiles = [str(opts.get("pid_file") or DEFAULT_PID)] + [c.pidfile for c in children if not c.idle]
    if not opts.get("dont_fork"):
        detach()
    for p in pidfiles:
        other = _pid_alive(p)
        if other is not None:
            log.error("daemon is already running (pid %d in %s)", other, p)
            return 1
    try:
        write_pidfiles(pidfiles[:1])
    except DaemonError as e:
        log.error("%s", e)
        return 1
    # the model is long-lived: the collector need not walk its ~20 objects per real
    # server again (measured: the checker child's table build for 40,000 destinations
    # 0.53 s -> 0.20 s), and the children's copies stay shared (no GC writes to them)
    gc.freeze()
    try:
        return Watchdog(config, opts, children).run()
    finally:
        remove_pidfiles(pidfiles[:1])
