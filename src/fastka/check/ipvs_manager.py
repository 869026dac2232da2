"""The owner of fastka's part of the kernel's IPVS table.

It holds one :class:`~fastka.check.virtual_server.VirtualServerState` per
``virtual_server`` block and a shadow of what it has applied, and turns every change
into the smallest set of generic-netlink requests, sent as one batch:

- :meth:`IpvsManager.start`: ``lvs_flush`` (flush first), ``lvs_timeouts``; then the
  kernel's table is read (only the services the configuration names) and only the
  difference is sent: a service already there with the same scheduler, flags and
  persistence stays as it is, with its connections;
- :meth:`IpvsManager.checker_changed`: a checker's verdict; the virtual servers it
  touches are marked, and :meth:`IpvsManager.flush` sends what changed for all of them
  at once (the daemon calls it once per loop iteration);
- :meth:`IpvsManager.stop`: every service fastka made is removed (nothing with ``-I``);
  ``lvs_flush_on_stop`` flushes the whole table (``all``) or removes the services
  without touching their destinations one by one (``VS``; the same here, as a service
  delete takes its destinations with it).

A request the kernel refuses is logged with what it was and the kernel's reason, and
the shadow keeps the kernel's view: the next change of that pool retries it (a
refused service with its destinations).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Hashable, Iterable, Optional

from ..wire import ipvs
from . import ipvs_table as tbl
from .virtual_server import Event, VirtualServerState

log = logging.getLogger("fastka.check")


def _describe(op: tbl.Op) -> str:
    name, svc, dest = op
    what = name.replace("_", " ")
    s = tbl.describe_service(svc)
    if dest is None:
        return f"{what} {s}"
    w = f" weight {dest.weight}" if dest.weight is not None and name != "del_dest" else ""
    return f"{what} {tbl.describe_dest(dest)} in {s}{w}"


class IpvsManager:
    def __init__(self, config: Any, sock: Any) -> None:
        self.config = config
        self.sock = sock
        groups = {g.name: g for g in getattr(config, "virtual_server_groups", [])}
        self.pools = [VirtualServerState(vs, groups) for vs in getattr(config, "virtual_servers", [])]
        self.applied = tbl.Table()
        self._dirty: set[int] = set()
        self.counters = {"requests": 0, "refused": 0, "batches": 0}

    # --- the wanted table ---------------------------------------------------------------

    def wanted(self) -> tbl.Table:
        t = tbl.Table()
        for pool in self.pools:
            for svc in pool.services:
                k = t.add_service(svc)
                t.dests[k] = pool.wanted(svc)
        return t

    # --- sending ---------------------------------------------------------------------------

    def send(self, ops: list[tbl.Op], *, extra: Optional[Iterable[tuple[str, tuple]]] = None) -> int:
        """Send ops (and extra raw batch calls) in one batch; apply the accepted ones to
        the shadow; log the refused ones. Returns how many were refused."""
        if not ops and not extra:
            return 0
        b = self.sock.batch(acks=False)  # changes only: the kernel answers the refused ones
        labels: dict[int, str] = {}
        for name, args in extra or ():
            labels[getattr(b, name)(*args)] = name.replace("_", " ")
        seqs = tbl.pack(b, ops)
        by_seq = dict(zip(seqs, ops, strict=True))
        refused: set[int] = set()
        for r in self.sock.transact(b, check=False):
            if isinstance(r, ipvs.Ack) and r.errno:
                refused.add(r.seq)
                op = by_seq.get(r.seq)
                what = _describe(op) if op is not None else labels.get(r.seq, f"request {r.seq}")
                reason = r.message or os.strerror(r.errno)
                log.error("IPVS: %s: %s", what, reason)
        self.counters["requests"] += len(seqs) + len(labels)
        self.counters["refused"] += len(refused)
        self.counters["batches"] += 1
        tbl.apply_to(self.applied, (op for seq, op in by_seq.items() if seq not in refused))
        return len(refused)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Bring the kernel's table to the configuration; the quorum events of the start."""
        events: list[Event] = []
        for pool in self.pools:
            events.extend(pool.start())
        gd = getattr(self.config, "global_defs", None)
        extra: list[tuple[str, tuple]] = []
        if gd is not None and gd.lvs_flush:
            extra.append(("flush", ()))
        if gd is not None and gd.lvs_timeouts is not None:
            t = gd.lvs_timeouts
            extra.append(("set_config", (ipvs.Timeouts(tcp=t.tcp, tcp_fin=t.tcpfin, udp=t.udp),)))
        if extra:
            self.send([], extra=extra)
        want = self.wanted()
        have = tbl.read_kernel(self.sock, only=want.services)
        self.applied = have
        kept = sum(1 for k in want.services if k in have.services)
        ops = tbl.diff(want, have)
        refused = self.send(ops)
        log.info("IPVS: %d services (%d already in the kernel), %d destinations; %d requests sent%s",
                 len(want), kept, sum(len(d) for d in want.dests.values()), len(ops),
                 f", {refused} refused" if refused else "")
        return events

    def take_over(self, old: "IpvsManager") -> list[Event]:
        """Reload: this manager (of the new configuration) takes over old's kernel state.
        A virtual server that is in both keeps its quorum state; services only old had
        are removed; the rest is the difference, in one batch."""
        self.applied = old.applied
        self.counters = old.counters
        before = {pool.vs_key: pool for pool in old.pools}
        events: list[Event] = []
        for pool in self.pools:
            prev = before.get(pool.vs_key)
            if prev is not None:
                pool.quorum_up = prev.quorum_up
                events.extend(pool.update_quorum())
            else:
                events.extend(pool.start())
        want = self.wanted()
        gone = [op for op in tbl.removal(self.applied) if tbl.svc_key(op[1]) not in want.services]
        ops = gone + tbl.diff(want, self.applied)
        refused = self.send(ops)
        log.info("IPVS: reload: %d services removed, %d requests in all%s", len(gone), len(ops),
                 f", {refused} refused" if refused else "")
        return events

    def checker_changed(self, pool: int, server: int, key: Hashable, up: bool,
                        weight: Optional[int] = None, reason: str = "") -> list[Event]:
        events = self.pools[pool].checker_changed(server, key, up, weight, reason)
        self._dirty.add(pool)
        return events

    def flush(self) -> int:
        """Send the changes of every pool marked since the last flush, in one batch."""
        if not self._dirty:
            return 0
        ops: list[tbl.Op] = []
        for i in sorted(self._dirty):
            pool = self.pools[i]
            for svc in pool.services:
                k = tbl.svc_key(svc)
                if k not in self.applied.services:  # refused before: try again, with its dests
                    ops.append(("new_service", svc, None))
                    ops.extend(("new_dest", svc, d) for d in pool.wanted(svc).values())
                    continue
                ops.extend(tbl.diff_dests(svc, pool.wanted(svc), self.applied.dests.get(k, {})))
        self._dirty.clear()
        self.send(ops)
        return len(ops)

    def stop(self, *, release: bool = True) -> list[Event]:
        """Remove what fastka made (unless not release); the omega events."""
        events = [e for pool in self.pools for e in pool.shutdown_events()]
        if not release:
            log.info("IPVS: leaving %d services in the kernel (-I)", len(self.applied))
            return events
        gd = getattr(self.config, "global_defs", None)
        if gd is not None and gd.lvs_flush_on_stop == "all":
            self.send([], extra=[("flush", ())])
            self.applied = tbl.Table()
        else:
            n = len(self.applied)
            self.send(tbl.removal(self.applied))
            log.info("IPVS: removed %d services", n)
        return events

