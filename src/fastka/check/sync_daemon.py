"""The kernel's IPVS connection-sync daemons, as global_defs ``lvs_sync_daemon`` asks.

keepalived.conf(5): the kernel runs at most one master and one backup sync daemon.
Without a VRRP instance named, both run as long as fastka runs; with one, they track
its state: MASTER runs only the master daemon, any other state only the backup one.
``id`` (the sync id) defaults to the instance's VRID, or 0 without an instance;
``maxlen``, ``port``, ``ttl`` and ``group`` (IPv4 or IPv6) are passed to the kernel
when given (its defaults otherwise: port 8848, group 224.0.0.81).

:class:`SyncDaemons` sends the start / stop requests through an IpvsSocket; a request
the kernel refuses is logged and survived (the rest of fastka goes on).
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any, Optional

from ..wire import ipvs
from ..wire.ipvs import Daemon, DaemonState

log = logging.getLogger("fastka")

NAMES = {DaemonState.MASTER: "master", DaemonState.BACKUP: "backup"}


def instance_vrid(config: Any, name: Optional[str]) -> Optional[int]:
    for inst in getattr(config, "vrrp_instances", []):
        if inst.name == name:
            return inst.virtual_router_id
    return None


class SyncDaemons:
    def __init__(self, spec: Any, sock: Any, *, vrid: Optional[int] = None) -> None:
        self.spec = spec
        self.sock = sock
        self.sync_id = spec.syncid if spec.syncid is not None else (vrid if vrid is not None else 0)
        self.running: set[DaemonState] = set()

    @property
    def instance(self) -> Optional[str]:
        return self.spec.instance

    def _daemon(self, state: DaemonState) -> Daemon:
        g = self.spec.group
        return Daemon(state=int(state), mcast_ifn=self.spec.interface, sync_id=self.sync_id,
                      sync_maxlen=self.spec.maxlen, mcast_port=self.spec.port, mcast_ttl=self.spec.ttl,
                      mcast_group=g if g is not None and ":" not in g else None,
                      mcast_group6=g if g is not None and ":" in g else None)

    def want(self, states: set[DaemonState]) -> None:
        """Run exactly the daemons in states: stop the others first, then start these."""
        b = self.sock.batch()
        what: dict[int, tuple[str, DaemonState]] = {}
        for s in sorted(self.running - states):
            what[b.del_daemon(Daemon(state=int(s)))] = ("stop", s)
        for s in sorted(states - self.running):
            what[b.new_daemon(self._daemon(s))] = ("start", s)
        if not what:
            return
        for r in self.sock.transact(b, check=False):
            if not isinstance(r, ipvs.Ack) or r.seq not in what:
                continue
            verb, s = what[r.seq]
            ok = not r.errno or (verb == "stop" and r.errno == errno.ESRCH)
            if verb == "start" and r.errno == errno.EEXIST:
                # one left running for us: by the other child, handing it over at a reload
                # that started this one (release), or by a fastka that did not stop it
                self.running.add(s)
                log.info("IPVS: the %s sync daemon already runs; taken over", NAMES[s])
            elif ok:
                (self.running.discard if verb == "stop" else self.running.add)(s)
                log.info("IPVS: %s %s sync daemon (interface %s, sync id %d)", "stopped" if verb == "stop"
                         else "started", NAMES[s], self.spec.interface, self.sync_id)
            else:
                log.error("IPVS: cannot %s the %s sync daemon on %s: %s", verb, NAMES[s], self.spec.interface,
                          r.message or os.strerror(r.errno))

    def start(self) -> None:
        """At start: both daemons without an instance; the backup one with (the instance
        starts as BACKUP, or says otherwise through follow())."""
        self.want({DaemonState.MASTER, DaemonState.BACKUP} if self.instance is None else {DaemonState.BACKUP})

    def follow(self, state: str) -> None:
        """The tracked instance's new state (MASTER, BACKUP, FAULT, ...)."""
        self.want({DaemonState.MASTER} if state == "MASTER" else {DaemonState.BACKUP})

    def stop(self) -> None:
        self.want(set())

    def release(self, to: str) -> None:
        """Leave the daemons running for the process named by to, which takes them over."""
        if self.running:
            log.info("IPVS: lvs_sync_daemon handed over to the %s", to)
        self.running.clear()
