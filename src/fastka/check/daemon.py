"""The checker process (``fastka -C``, or the checker child of the watchdog).

One asyncio loop runs every checker of the configuration (fastka.check.checker) and
the IPVS manager (fastka.check.ipvs_manager). A checker's verdict changes its real
server's pool; the changes of one loop iteration go to the kernel in one netlink
batch. Real-server and quorum notify scripts run in the background (never waited
for in the loop), their failures logged.

SIGTERM / SIGINT: the checkers stop, fastka's services leave the kernel (kept with
``-I``), ``omega`` notifiers run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from typing import Any, Optional

from ..core.alerts import SmtpAlerts
from ..core.state import CHECKERS_JSON, JSON_SIGNAL, state_file, write_atomic
from ..core.watchdog import handlers_ready
from ..gcpause import gc_paused
from ..vrrp.notify import Notifier, command
from ..wire.ipvs import IpvsSocket, IpvsUnavailable
from .checker import CheckerTask, combined_weight, stop_all
from .probes import ProbeEnv
from .sync_daemon import SyncDaemons, instance_vrid
from .ipvs_manager import IpvsManager
from .suspend import LocalAddresses, suspended
from .ipvs_table import describe_service
from .virtual_server import Event

log = logging.getLogger("fastka.check")


class CheckerProcess:
    def __init__(self, config: Any, opts: dict) -> None:
        self.config = config
        self.opts = opts
        self.notifier = Notifier()
        gd = getattr(config, "global_defs", None)
        self.alerts = SmtpAlerts(gd)
        self.script_user: Optional[tuple[str, ...]] = getattr(gd, "script_user", None) if gd else None
        self.manager: Optional[IpvsManager] = None
        self.tasks: list[CheckerTask] = []
        self.where: dict[int, tuple[int, int]] = {}  # id(task) -> (pool, real server)
        self.of_server: dict[tuple[int, int], list[CheckerTask]] = {}
        # id(task) -> (virtual server key, real server ip and port, index, checker type): where
        # a reload looks for it; it is kept if its checker model compares equal
        self.keys: dict[int, tuple] = {}
        self._flush_due = False
        self._stop: Optional[asyncio.Event] = None
        self.sock: Any = None
        self.syncd: Optional[SyncDaemons] = None
        self.local: Optional[LocalAddresses] = None  # only with an ha_suspend virtual server
        self.suspended: set[tuple] = set()  # vs_key of the pools whose checkers are off

    # --- events ----------------------------------------------------------------------------

    def _events(self, events: list[Event]) -> None:
        for e in events:
            log.info("%s", e.message)
            if e.smtp and e.what in ("rs_up", "rs_down"):
                self.alerts.realserver(e.subject, e.what == "rs_up", e.reason)
            elif e.smtp and e.what in ("quorum_up", "quorum_down"):
                self.alerts.virtual_server(e.subject, e.what == "quorum_up")
            if e.script:
                argv, user, group = command(e.script, self.script_user)
                self.notifier.run(argv, user, group, e.what.replace("_", " "))

    def _changed(self, task: CheckerTask, up: bool) -> None:
        assert self.manager is not None
        pool, server = self.where[id(task)]
        rs = self.manager.pools[pool].servers[server].model
        weight = combined_weight(rs.weight, self.of_server[(pool, server)])
        reason = task.last.reason if task.last is not None else ""
        self._events(self.manager.checker_changed(pool, server, id(task), up, weight, reason))
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        assert self.manager is not None
        try:
            self.manager.flush()
        except OSError as e:
            log.error("IPVS: cannot send changes: %s", e)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.notifier.reap()

    # --- building -------------------------------------------------------------------------------

    def _build(self, config: Any, m: IpvsManager, reuse: dict[tuple, CheckerTask]) -> list[CheckerTask]:
        """Make (or take from reuse, by where they are and what they were configured
        with) the checker tasks of config and register them with m's pools. Returns the
        new tasks, not started."""
        env = ProbeEnv.of(config)
        self.tasks, self.where, self.of_server, self.keys = [], {}, {}, {}
        fresh: list[CheckerTask] = []
        for p, vs in enumerate(getattr(config, "virtual_servers", [])):
            vs_key = m.pools[p].vs_key
            for r, rs in enumerate(vs.real_servers):
                mine = self.of_server[(p, r)] = []
                for k, ch in enumerate(rs.checkers):
                    key = (vs_key, rs.ip, rs.port, k, type(ch))
                    old = reuse.get(key)
                    if old is not None and old.checker == ch:  # configured the same (positions aside)
                        t = reuse.pop(key)
                    else:
                        try:
                            t = CheckerTask(ch, rs, vs, self._changed, env=env)
                        except (ValueError, OSError) as e:  # nothing to connect to, ...
                            log.error("virtual server %s, real server %s: %s not run: %s", vs.label,
                                      m.pools[p].servers[r].label, getattr(ch, "KEYWORD", type(ch).__name__), e)
                            continue
                        fresh.append(t)
                    mine.append(t)
                    self.where[id(t)] = (p, r)
                    self.keys[id(t)] = key
                    m.pools[p].add_checker(r, id(t), t.up)
                if mine:
                    m.pools[p].servers[r].dynamic_weight = combined_weight(rs.weight, mine)
                self.tasks.extend(mine)
        return fresh

    # --- life cycle ------------------------------------------------------------------------------

    async def main(self) -> int:
        try:
            sock = IpvsSocket()
        except IpvsUnavailable as e:
            log.error("cannot start the checkers: %s", e)
            return 1
        with sock:
            self.sock = sock
            # first: a SIGTERM while the table is being programmed must still clean up
            loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            for s in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(s, self._request_stop, s)
            loop.add_signal_handler(signal.SIGHUP, self._request_reload)
            loop.add_signal_handler(JSON_SIGNAL, self.write_json)
            handlers_ready()
            # the manager, its shadow of the kernel's table and the checkers are
            # long-lived: made with the collector paused (its passes over them took half
            # the build of 40,000 checkers) and kept out of its reach (gc_paused)
            with gc_paused():
                self.manager = m = IpvsManager(self.config, sock)
                self._build(self.config, m, {})
                try:
                    self._events(m.start())
                except OSError as e:
                    log.error("IPVS: cannot program the kernel: %s", e)
                    return 1
            self.syncd = self._sync_daemons(self.config)
            if self.syncd is not None:
                self.syncd.start()
            log.info("Starting the checkers, pid=%d (%d virtual servers, %d checkers)", os.getpid(),
                     len(m.pools), len(self.tasks))
            self._watch_addresses(self.config)
            self._run_wanted()
            reaper = asyncio.ensure_future(self._reap())
            await self._stop.wait()
            reaper.cancel()
            await stop_all(self.tasks)
            if self._flush_due:
                self._flush()
            self._events(self.manager.stop(release=not self.opts.get("dont_release_ipvs")))
            if self.syncd is not None:
                self.syncd.stop()
            if self.local is not None:
                self.local.close()
            self.notifier.reap()
        self.alerts.close()
        log.info("Stopped the checkers")
        return 0

    def status(self) -> dict:
        """Every virtual server's pool, its real servers and their checkers."""
        assert self.manager is not None
        by_server: dict[tuple[int, int], list[CheckerTask]] = self.of_server
        out = []
        for p, pool in enumerate(self.manager.pools):
            servers = []
            for r, rs in enumerate(pool.servers):
                servers.append(dict(
                    address=rs.label, alive=rs.alive, weight=rs.weight,
                    inhibit_on_failure=bool(rs.model.inhibit_on_failure),
                    checkers=[dict(what=t.describe(), up=t.up, checks=t.checks, failures=t.failures,
                                   last=t.last.reason if t.last is not None else None)
                              for t in by_server.get((p, r), [])]))
            out.append(dict(virtual_server=pool.vs.label, services=[describe_service(s) for s in pool.services],
                            suspended=pool.vs_key in self.suspended, quorum_up=pool.quorum_up,
                            alive_weight=pool.alive_weight(), quorum=pool.vs.quorum,
                            real_servers=servers))
        return {"virtual_servers": out, "ipvs": dict(self.manager.counters)}

    def write_json(self) -> None:
        """The JSON signal: fastka_checkers.json in the state directory."""
        write_atomic(state_file(CHECKERS_JSON), json.dumps(self.status(), indent=1, sort_keys=True) + "\n")

    def _request_reload(self) -> None:
        log.info("received SIGHUP, reloading %s", self.opts.get("use_file"))
        asyncio.get_running_loop().call_soon(self.reload)

    def reload(self) -> bool:
        """Re-read the configuration; a file with errors changes nothing. Unchanged
        checkers keep running with their state, virtual servers keep their quorum, the
        kernel gets only the difference."""
        from ..config import load_file

        path = str(self.opts.get("use_file") or "/etc/keepalived/keepalived.conf")
        started = time.monotonic()
        result = load_file(path, config_id=self.opts.get("config_id"), check_system=True,
                           all_config=bool(self.opts.get("all_config")))
        if result.diagnostics.has_errors:
            for d in result.diagnostics.sorted()[:20]:
                log.error("%s", d.format())
            log.error("reload: %s has %d errors; nothing changed", path, len(result.diagnostics.errors))
            return False
        read = time.monotonic()  # the new model is frozen, as at start (a daemon's load: fastka.gcpause)
        assert self.manager is not None
        old_m, old_tasks = self.manager, self.tasks
        reuse = {self.keys[id(t)]: t for t in old_tasks}
        if self._flush_due:
            self._flush()
        with gc_paused():  # as at start
            new_m = IpvsManager(result.config, self.sock)
            fresh = self._build(result.config, new_m, reuse)
        for t in self.tasks:  # reused tasks report to the new real-server models
            p, r = self.where[id(t)]
            t.real_server = new_m.pools[p].servers[r].model
            t.virtual_server = new_m.pools[p].vs
        if reuse:  # not in the new configuration
            asyncio.ensure_future(stop_all(list(reuse.values())))
        self.manager, self.config = new_m, result.config
        self.alerts.close()
        self.alerts = SmtpAlerts(getattr(result.config, "global_defs", None))
        with gc_paused():
            self._events(new_m.take_over(old_m))
        old_syncd, self.syncd = self.syncd, self._sync_daemons(result.config)
        if old_syncd is not None and (self.syncd is None or old_syncd.spec != self.syncd.spec):
            old_syncd.stop()
        if self.syncd is not None and (old_syncd is None or old_syncd.spec != self.syncd.spec):
            self.syncd.start()
        elif self.syncd is not None and old_syncd is not None:
            self.syncd.running = old_syncd.running
        self._watch_addresses(result.config)
        self._run_wanted()
        log.info("reload: %d checkers kept, %d new, %d stopped (configuration read in %.2f s, applied in %.2f s)",
                 len(self.tasks) - len(fresh), len(fresh), len(reuse), read - started, time.monotonic() - read)
        return True

    # --- ha_suspend --------------------------------------------------------------------------

    def _watch_addresses(self, config: Any) -> None:
        """Follow this host's addresses while a virtual server has ha_suspend."""
        want = any(getattr(vs, "ha_suspend", False) for vs in getattr(config, "virtual_servers", []))
        if want and self.local is None:
            try:
                self.local = LocalAddresses(self._run_wanted)
            except OSError as e:
                log.error("ha_suspend: cannot follow this host's addresses (%s): checkers run regardless", e)
                return
            self.local.start()
        elif not want and self.local is not None:
            self.local.close()
            self.local = None

    def _run_wanted(self) -> None:
        """Start the checkers that should run and stop those of suspended virtual servers
        (ha_suspend without the virtual address here); a stopped checker keeps its verdict."""
        assert self.manager is not None
        now: set[tuple] = set()
        if self.local is not None or self.suspended:
            for pool in self.manager.pools:
                if self.local is not None and getattr(pool.vs, "ha_suspend", False) and suspended(
                        (s.addr for s in pool.services), self.local.addresses):
                    now.add(pool.vs_key)
            for pool in self.manager.pools:
                key = pool.vs_key
                if key in now and key not in self.suspended:
                    log.info("virtual server %s: its address is not on this host, checkers suspended (ha_suspend)",
                             pool.vs.label)
                elif key not in now and key in self.suspended:
                    log.info("virtual server %s: its address is on this host, checkers resumed", pool.vs.label)
        self.suspended = now
        for (p, _), tasks in self.of_server.items():
            if not tasks:
                continue
            off = self.manager.pools[p].vs_key in now
            for t in tasks:
                if off and t.running:
                    t.halt()
                elif not off and not t.running:
                    t.start()

    def _sync_daemons(self, config: Any) -> Optional[SyncDaemons]:
        """lvs_sync_daemon, when this process runs it: without an instance to follow, or
        when there is no VRRP child to follow it (the VRRP child runs it otherwise)."""
        gd = getattr(config, "global_defs", None)
        spec = getattr(gd, "lvs_sync_daemon", None) if gd is not None else None
        if spec is None or (spec.instance is not None and self.opts.get("vrrp_child")):
            return None
        if spec.instance is not None:
            log.warning("lvs_sync_daemon follows vrrp_instance %s, but VRRP does not run here: "
                        "running the backup sync daemon", spec.instance)
        return SyncDaemons(spec, self.sock, vrid=instance_vrid(config, spec.instance))

    def _request_stop(self, signum: int) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        assert self._stop is not None
        self._stop.set()


def run_checkers(config: Any, opts: dict) -> int:
    return asyncio.run(CheckerProcess(config, opts).main())
