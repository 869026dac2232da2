"""GARP / unsolicited NA pacing: global_defs vrrp_garp_interval / vrrp_gna_interval
and garp_group (keepalived.conf(5): "Delay between gratuitous ARP messages sent on an
interface"; a garp_group's ``interface`` gets its own intervals, its ``interfaces``
share one pace, for when they reach the same switch).

Frames for an interface without an interval go out at once, in the engine's batch,
as before. Frames for a paced interface join that interface's (or garp_group's)
queue; a one-shot loop timer sends them: one at a time, each at least an interval
after the one before, or, when the interval is shorter than the loop's timer
granularity (1 ms), as many as the elapsed time allows in one sendmmsg (the
configured average rate). The loop never waits for a queue. When an instance leaves MASTER,
its frames still queued are dropped (a backup must not announce the VIPs).

A garp_group's interval that is not written means no pacing of that kind for its
interfaces; interfaces in no garp_group take the global values.
"""

from __future__ import annotations

import collections
import logging
import socket
from collections.abc import Sequence
from typing import Any, Callable, Optional

log = logging.getLogger("fastka.vrrp")

GRANULARITY_NS = 1_000_000  # the loop's timers are not finer than this


class Pace:
    """One queue: the interfaces that share one pace, for ARP or for NA."""

    def __init__(self, interval_ns: int, name: str) -> None:
        self.interval_ns = interval_ns
        self.name = name
        self.queue: collections.deque = collections.deque()  # (frame, ifindex) items, shared with the instances
        self.next_ns = 0  # when the next frame may go
        self.armed = False
        self.sent = 0


class Pacer:
    """Sends GARP / NA frames through the announcer, paced where configured."""

    def __init__(self, config: Any, announcer: Any, call_at: Callable[[int, Callable[[int], None]], None],
                 clock: Callable[[], int]) -> None:
        self.announcer = announcer
        self.call_at = call_at
        self.clock = clock
        self.arp: dict[int, Pace] = {}  # ifindex -> its pace
        self.na: dict[int, Pace] = {}
        gd = getattr(config, "global_defs", None)
        g_arp = (gd.vrrp_garp_interval or 0.0) if gd is not None else 0.0
        g_na = (gd.vrrp_gna_interval or 0.0) if gd is not None else 0.0
        self.global_ns = (round(g_arp * 1e9), round(g_na * 1e9))  # for interfaces in no garp_group
        self.grouped: set[int] = set()
        for gg in getattr(config, "garp_groups", ()):
            names = ([gg.interface] if gg.interface else []) + list(gg.interfaces)
            label = f"garp_group {' '.join(names)}"
            self.grouped.update(self._add(self.arp, names, gg.garp_interval or 0.0, label))
            self.grouped.update(self._add(self.na, names, gg.gna_interval or 0.0, label))
            for name in names:
                try:
                    self.grouped.add(socket.if_nametoindex(name))
                except OSError:
                    pass

    @staticmethod
    def _add(table: dict[int, Pace], names: list[str], interval_s: float, label: str) -> list[int]:
        if interval_s <= 0:
            return []
        pace = Pace(round(interval_s * 1e9), label)
        out = []
        for name in names:
            try:
                index = socket.if_nametoindex(name)
            except OSError:
                log.warning("%s: interface %s does not exist; its GARP / NA are not paced", label, name)
                continue
            table[index] = pace
            out.append(index)
        return out

    @property
    def active(self) -> bool:
        return bool(self.arp or self.na or any(self.global_ns))

    def _pace(self, table: dict[int, Pace], ifindex: int, interval_ns: int) -> Optional[Pace]:
        pace = table.get(ifindex)
        if pace is None and interval_ns and ifindex not in self.grouped:
            try:
                label = socket.if_indextoname(ifindex)
            except OSError:
                label = f"interface {ifindex}"
            pace = table[ifindex] = Pace(interval_ns, label)
        return pace

    def send(self, arp: Sequence[tuple[bytes, int]], na: Sequence[tuple[bytes, int]]) -> None:
        """Send what is not paced now; queue the rest."""
        if not self.active:
            self.announcer.send(arp, na)
            return
        now_arp = self._split(arp, self.arp, self.global_ns[0])
        now_na = self._split(na, self.na, self.global_ns[1])
        if now_arp or now_na:
            self.announcer.send(now_arp, now_na)
        now = self.clock()
        for table in (self.arp, self.na):
            for pace in set(table.values()):
                if pace.queue and not pace.armed:
                    if pace.next_ns <= now:
                        self._due(pace)  # the first of a failover's frames does not wait
                    else:
                        self._arm(pace, pace.next_ns)

    def _split(self, items: Sequence[tuple[bytes, int]], table: dict[int, Pace],
               interval_ns: int) -> list[tuple[bytes, int]]:
        out = []
        for item in items:
            pace = self._pace(table, item[1], interval_ns)
            if pace is None:
                out.append(item)
            else:
                pace.queue.append(item)
        return out

    def _arm(self, pace: Pace, at_ns: int) -> None:
        pace.armed = True
        self.call_at(at_ns, lambda now_us: self._due(pace))

    def _due(self, pace: Pace) -> None:
        pace.armed = False
        if not pace.queue:
            return
        now = self.clock()
        if pace.interval_ns >= GRANULARITY_NS:
            # one frame, and the next at least an interval after it (a late timer does
            # not make the next gap shorter)
            batch = [pace.queue.popleft()]
            pace.next_ns = now + pace.interval_ns
        else:
            # shorter than the timers can wait: as many as the time since the last batch
            # allows, in one sendmmsg (the average rate is the configured one)
            start = max(pace.next_ns, now - GRANULARITY_NS)
            n = (now - start) // pace.interval_ns + 1
            batch = [pace.queue.popleft() for _ in range(min(n, len(pace.queue)))]
            pace.next_ns = start + len(batch) * pace.interval_ns
        pace.sent += len(batch)
        is_na = pace in self.na.values()
        self.announcer.send([] if is_na else batch, batch if is_na else [])
        if pace.queue:
            self._arm(pace, max(pace.next_ns, now + min(pace.interval_ns, GRANULARITY_NS)))

    def cancel(self, arp: Sequence[tuple[bytes, int]], na: Sequence[tuple[bytes, int]]) -> None:
        """Drop the queued frames among these (an instance's, as it leaves MASTER)."""
        if not self.active:
            return
        mine = {id(x) for x in arp} | {id(x) for x in na}
        for table in (self.arp, self.na):
            for pace in set(table.values()):
                if pace.queue:
                    pace.queue = collections.deque(x for x in pace.queue if id(x) not in mine)

    def counters(self) -> dict[str, int]:
        return {"garp_paced_sent": sum(p.sent for p in set(self.arp.values()) | set(self.na.values()))}
