"""A VRRP network in memory, for tests: each node is a VrrpStateMachine driven the way the
engine drives it, on a fake clock, joined by an ideal link (every advert a node sends
reaches every other node whose link is up, after a fixed delay; nothing is lost or
reordered).

The engine here carries out every action (timers, VIP ownership, adverts). With
``fast_path=True`` it also plays the native loop: a master's periodic advert goes out
from the "prebuilt" advert without calling the state machine, and received adverts go
through ``classify_advert`` first, so only CALL verdicts reach ``advert_received``; with
``check_fast_path`` every REARM / IGNORE verdict is also checked against a copy of the
state machine. After every event the engine's invariants are checked: VIPs are held
exactly in MASTER, a master runs only its advert timer, a backup only its Master_Down
timer, and the prebuilt advert carries the state machine's priority.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass, field
from typing import Callable, Optional

from fastka.vrrp import (
    Action,
    FastPathView,
    ArmAdvertTimer,
    ArmMasterDown,
    BecomeBackup,
    BecomeMaster,
    CancelTimers,
    EnterFault,
    EnterInitialize,
    Params,
    PriorityChanged,
    RxLowerPriority,
    SendAdvert,
    SendShutdownAdvert,
    State,
    Transition,
    Verdict,
    VrrpStateMachine,
    classify_advert,
)

# order of events at the same instant: packets first, then disturbances, then timers
_DELIVER, _CALL = 0, 1


@dataclass
class Node:
    name: str
    sm: VrrpStateMachine
    link_up: bool = True
    advert_timer: Optional[list[int]] = None  # [next deadline, interval]
    master_down: Optional[int] = None
    vips: bool = False
    advert_priority: int = 0
    transitions: list[Transition] = field(default_factory=list)
    sent: list[tuple[int, int]] = field(default_factory=list)  # (time, priority)
    rx_lower: int = 0
    calls: int = 0  # advert_received calls
    view: Optional[FastPathView] = None  # the native loop's copy of fast_path_view()

    @property
    def address(self) -> int:
        return self.sm.params.address

    @property
    def state(self) -> State:
        return self.sm.state


class Network:
    def __init__(self, params: list[Params], *, delay: int = 0, fast_path: bool = True,
                 check_fast_path: bool = True) -> None:
        self.nodes = [Node(f"n{i}", VrrpStateMachine(p)) for i, p in enumerate(params)]
        for n in self.nodes:
            n.advert_priority = n.sm.priority
            n.view = n.sm.fast_path_view()
        self.delay = delay
        self.fast_path = fast_path
        self.check_fast_path = check_fast_path
        self.now = 0
        self._queue: list[tuple[int, int, int, object]] = []
        self._seq = 0
        self.masters_log: list[tuple[int, frozenset[int]]] = [(0, frozenset())]

    # -- scheduling ---------------------------------------------------------------------

    def at(self, when: int, node: int, call: Callable[[VrrpStateMachine, int], list[Action]],
           link: Optional[bool] = None) -> None:
        """At ``when``, call ``call(sm, now)`` on node ``node`` (and set its link state)."""
        self._push(when, _CALL, (node, call, link))

    def _push(self, when: int, kind: int, payload: object) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, kind, self._seq, payload))

    def _next_timer(self) -> Optional[int]:
        best: Optional[int] = None
        for n in self.nodes:
            for d in (n.advert_timer[0] if n.advert_timer else None, n.master_down):
                if d is not None and (best is None or d < best):
                    best = d
        return best

    # -- running ---------------------------------------------------------------------------

    def run_until(self, end: int) -> None:
        while True:
            t_timer = self._next_timer()
            t_queue = self._queue[0][0] if self._queue else None
            candidates = [t for t in (t_timer, t_queue) if t is not None]
            if not candidates or min(candidates) > end:
                break
            t = min(candidates)
            assert t >= self.now, "time went backwards"
            self.now = t
            if t_queue == t:
                _, kind, _, payload = heapq.heappop(self._queue)
                if kind == _DELIVER:
                    self._deliver(*payload)  # type: ignore[misc]
                else:
                    self._disturb(*payload)  # type: ignore[misc]
            else:
                self._fire_timers(t)
            self._check()
        self.now = end

    def _fire_timers(self, t: int) -> None:
        for i, n in enumerate(self.nodes):
            if n.master_down == t:
                n.master_down = None
                self._apply(i, n.sm.master_down_expired(t))
                return
            if n.advert_timer and n.advert_timer[0] == t:
                n.advert_timer[0] += n.advert_timer[1]  # periodic, from the deadline: no drift
                if self.fast_path:
                    self._send(i, n.advert_priority)  # the native loop sends the prebuilt advert
                else:
                    self._apply(i, n.sm.advert_timer_expired(t))
                return
        raise AssertionError("no timer at that time")

    def _disturb(self, i: int, call: Callable[[VrrpStateMachine, int], list[Action]], link: Optional[bool]) -> None:
        if link is not None:
            self.nodes[i].link_up = link
        self._apply(i, call(self.nodes[i].sm, self.now))

    def _deliver(self, i: int, priority: int, src: int, advert_int_cs: int) -> None:
        n = self.nodes[i]
        if not n.link_up:
            return
        if self.fast_path:
            view = n.view
            assert view is not None
            verdict = classify_advert(view, self.now, priority, src, advert_int_cs)
            if verdict != Verdict.CALL:
                if self.check_fast_path:
                    twin = copy.deepcopy(n.sm)
                    got = twin.advert_received(self.now, priority, src, advert_int_cs)
                    want = [ArmMasterDown(self.now + view.master_down_interval)] if verdict == Verdict.REARM else []
                    assert got == want, (verdict, got)
                    assert twin.fast_path_view() == view
                if verdict == Verdict.REARM:
                    n.master_down = self.now + view.master_down_interval
                return
        n.calls += 1
        self._apply(i, n.sm.advert_received(self.now, priority, src, advert_int_cs))

    def _send(self, i: int, priority: int) -> None:
        n = self.nodes[i]
        n.sent.append((self.now, priority))
        if not n.link_up:
            return
        for j in range(len(self.nodes)):
            if j != i:
                self._push(self.now + self.delay, _DELIVER, (j, priority, n.address, n.sm.params.advert_int_cs))

    def _apply(self, i: int, actions: list[Action]) -> None:
        n = self.nodes[i]
        for a in actions:
            if isinstance(a, Transition):
                assert a.at == self.now and a.from_state != a.to_state
                n.transitions.append(a)
            elif isinstance(a, CancelTimers):
                n.advert_timer = None
                n.master_down = None
            elif isinstance(a, ArmAdvertTimer):
                assert a.first_deadline > self.now and a.interval > 0
                n.advert_timer = [a.first_deadline, a.interval]
            elif isinstance(a, ArmMasterDown):
                assert a.deadline >= self.now
                n.master_down = a.deadline
            elif isinstance(a, SendAdvert):
                assert a.priority == n.advert_priority == n.sm.priority, "the prebuilt advert is stale"
                self._send(i, a.priority)
            elif isinstance(a, SendShutdownAdvert):
                self._send(i, 0)
            elif isinstance(a, BecomeMaster):
                n.vips = True
            elif isinstance(a, (BecomeBackup, EnterFault, EnterInitialize)):
                n.vips = False
            elif isinstance(a, PriorityChanged):
                n.advert_priority = a.priority
            elif isinstance(a, RxLowerPriority):
                n.rx_lower += 1
            else:
                raise AssertionError(f"unknown action {a!r}")
        n.view = n.sm.fast_path_view()

    def _check(self) -> None:
        for n in self.nodes:
            st = n.sm.state
            assert n.vips == (st == State.MASTER), (n.name, st, n.vips)
            if st == State.MASTER:
                assert n.advert_timer is not None and n.master_down is None, n.name
                assert n.advert_priority == n.sm.priority, n.name
            elif st == State.BACKUP:
                assert n.master_down is not None and n.advert_timer is None, n.name
            else:
                assert n.master_down is None and n.advert_timer is None, n.name
        masters = frozenset(i for i, n in enumerate(self.nodes) if n.sm.state == State.MASTER)
        last_t, last = self.masters_log[-1]
        if masters != last:
            if last_t == self.now:
                self.masters_log[-1] = (self.now, masters)
            else:
                self.masters_log.append((self.now, masters))

    # -- reading the outcome ---------------------------------------------------------------

    def masters(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if n.sm.state == State.MASTER]

    def spans(self, start: int, end: int) -> list[tuple[int, int, frozenset[int]]]:
        """Who was master over [start, end), as (from, until, masters) spans of non-zero
        length; changes that were undone at the same instant do not show."""
        log = self.masters_log
        out = []
        for k, (t, m) in enumerate(log):
            t_next = log[k + 1][0] if k + 1 < len(log) else end
            lo, hi = max(t, start), min(t_next, end)
            if lo < hi:
                out.append((lo, hi, m))
        return out
