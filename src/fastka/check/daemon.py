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
import logging
import os
import signal
from typing import Any, Optional

from ..vrrp.notify import Notifier, command
from ..wire.ipvs import IpvsSocket, IpvsUnavailable
from .checker import CheckerTask, combined_weight
from .probes import ProbeEnv
from .ipvs_manager import IpvsManager
from .virtual_server import Event

log = logging.getLogger("fastka.check")


class CheckerProcess:
    def __init__(self, config: Any, opts: dict) -> None:
        self.config = config
        self.opts = opts
        self.notifier = Notifier()
        gd = getattr(config, "global_defs", None)
        self.script_user: Optional[tuple[str, ...]] = getattr(gd, "script_user", None) if gd else None
        self.manager: Optional[IpvsManager] = None
        self.tasks: list[CheckerTask] = []
        self.where: dict[int, tuple[int, int]] = {}  # id(task) -> (pool, real server)
        self.of_server: dict[tuple[int, int], list[CheckerTask]] = {}
        self._flush_due = False
        self._stop: Optional[asyncio.Event] = None

    # --- events ----------------------------------------------------------------------------

    def _events(self, events: list[Event]) -> None:
        for e in events:
            log.info("%s", e.message)
            if e.script:
                argv, user, group = command(e.script, self.script_user)
                self.notifier.run(argv, user, group, e.what.replace("_", " "))

    def _changed(self, task: CheckerTask, up: bool) -> None:
        assert self.manager is not None
        pool, server = self.where[id(task)]
        rs = self.manager.pools[pool].servers[server].model
        weight = combined_weight(rs.weight, self.of_server[(pool, server)])
        self._events(self.manager.checker_changed(pool, server, id(task), up, weight))
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

    # --- life cycle ------------------------------------------------------------------------------

    async def main(self) -> int:
        try:
            sock = IpvsSocket()
        except IpvsUnavailable as e:
            log.error("cannot start the checkers: %s", e)
            return 1
        with sock:
            self.manager = m = IpvsManager(self.config, sock)
            env = ProbeEnv.of(self.config)
            for p, vs in enumerate(getattr(self.config, "virtual_servers", [])):
                for r, rs in enumerate(vs.real_servers):
                    mine = self.of_server[(p, r)] = []
                    for ch in rs.checkers:
                        try:
                            t = CheckerTask(ch, rs, vs, self._changed, env=env)
                        except (ValueError, OSError) as e:  # nothing to connect to, ...
                            log.error("virtual server %s, real server %s: %s not run: %s", vs.label,
                                      m.pools[p].servers[r].label, getattr(ch, "KEYWORD", type(ch).__name__), e)
                            continue
                        mine.append(t)
                        self.where[id(t)] = (p, r)
                        m.pools[p].add_checker(r, id(t), t.up)
                    if mine:
                        m.pools[p].servers[r].dynamic_weight = combined_weight(rs.weight, mine)
                    self.tasks.extend(mine)
            try:
                self._events(m.start())
            except OSError as e:
                log.error("IPVS: cannot program the kernel: %s", e)
                return 1
            loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            for s in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(s, self._request_stop, s)
            log.info("Starting the checkers, pid=%d (%d virtual servers, %d checkers)", os.getpid(),
                     len(m.pools), len(self.tasks))
            for t in self.tasks:
                t.start()
            reaper = asyncio.ensure_future(self._reap())
            await self._stop.wait()
            reaper.cancel()
            await asyncio.gather(*(t.stop() for t in self.tasks), return_exceptions=True)
            if self._flush_due:
                self._flush()
            self._events(m.stop(release=not self.opts.get("dont_release_ipvs")))
            self.notifier.reap()
        log.info("Stopped the checkers")
        return 0

    def _request_stop(self, signum: int) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        assert self._stop is not None
        self._stop.set()


def run_checkers(config: Any, opts: dict) -> int:
    return asyncio.run(CheckerProcess(config, opts).main())
