"""What many checkers share in one event loop: one epoll for their sockets, one heap
for their timers.

asyncio's ``add_writer``/``remove_writer`` and ``call_later`` cost tens of
microseconds of Python each (selector keys, Handle objects, a ``TimerHandle.__lt__``
in Python for every heap comparison), and a checker needs two of each per attempt.
Here a socket is one ``epoll_ctl`` into a private epoll (ONESHOT: no removal call;
closing the fd drops it) whose fd the asyncio loop watches like any reader, and a
timer is one tuple on a heap compared in C, behind a single asyncio timer for the
earliest deadline. Everything still runs in the asyncio loop's thread, between its
other callbacks.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import select
import weakref
from typing import Callable, Optional

log = logging.getLogger("fastka.check")

EPOLLIN = select.EPOLLIN
EPOLLOUT = select.EPOLLOUT
_ONESHOT = select.EPOLLONESHOT
_EARLY = 0.0005  # a timer may fire this much early (asyncio's own clock resolution slack)
_BATCH = 4096  # events taken per wakeup (level-triggered: the rest come next iteration)


class Timer:
    __slots__ = ("cb", "when")

    def __init__(self, cb: Callable[[], None], when: float) -> None:
        self.cb: Optional[Callable[[], None]] = cb
        self.when = when

    def cancel(self) -> None:
        self.cb = None


class Engine:
    """One per event loop (``engine()``): sockets and timers for every checker in it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ep = select.epoll()
        self.waiters: dict[int, Callable[[int], None]] = {}
        self.heap: list[tuple[float, int, Timer]] = []
        self.seq = itertools.count()
        self.handle: Optional[asyncio.TimerHandle] = None
        self.handle_when = math.inf
        loop.add_reader(self.ep.fileno(), self._ready)

    # --- sockets -------------------------------------------------------------------------

    def watch(self, fd: int, events: int, cb: Callable[[int], None]) -> None:
        """Call ``cb(events)`` once when fd is ready for ``events`` (EPOLLIN/EPOLLOUT)."""
        self.waiters[fd] = cb
        self.ep.register(fd, events | _ONESHOT)

    def rewatch(self, fd: int, events: int, cb: Callable[[int], None]) -> None:
        """Watch a fd again (or for other events) after its callback ran."""
        self.waiters[fd] = cb
        self.ep.modify(fd, events | _ONESHOT)

    def forget(self, fd: int) -> None:
        """Before closing a watched fd (closing removes it from the epoll)."""
        self.waiters.pop(fd, None)

    def _ready(self) -> None:
        waiters = self.waiters
        for fd, ev in self.ep.poll(0, _BATCH):
            cb = waiters.pop(fd, None)
            if cb is not None:
                try:
                    cb(ev)
                except Exception:
                    log.exception("checker socket callback failed")

    # --- timers --------------------------------------------------------------------------

    def call_at(self, when: float, cb: Callable[[], None]) -> Timer:
        """``cb()`` at loop time ``when``; ``.cancel()`` the returned Timer to drop it."""
        t = Timer(cb, when)
        heapq.heappush(self.heap, (when, next(self.seq), t))
        if when < self.handle_when:
            self._arm(when)
        return t

    def call_later(self, delay: float, cb: Callable[[], None]) -> Timer:
        return self.call_at(self.loop.time() + delay, cb)

    def _arm(self, when: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.handle_when = when
        self.handle = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self.handle, self.handle_when = None, math.inf
        heap = self.heap
        now = self.loop.time() + _EARLY
        while heap and heap[0][0] <= now:
            t = heapq.heappop(heap)[2]
            cb = t.cb
            if cb is not None:
                t.cb = None
                try:
                    cb()
                except Exception:
                    log.exception("checker timer callback failed")
        while heap and heap[0][2].cb is None:  # cancelled ones at the top
            heapq.heappop(heap)
        if heap and heap[0][0] < self.handle_when:  # callbacks may have armed a later one
            self._arm(heap[0][0])

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        if not self.loop.is_closed():
            self.loop.remove_reader(self.ep.fileno())
        self.ep.close()


_engines: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Engine]" = weakref.WeakKeyDictionary()


_last: Optional[Engine] = None  # the one asked for last: a weak-dict lookup costs 10 us per attempt


def engine() -> Engine:
    """The running loop's engine (made on first use)."""
    global _last
    loop = asyncio.get_running_loop()
    e = _last
    if e is not None and e.loop is loop:
        return e
    e = _engines.get(loop)
    if e is None:
        e = _engines[loop] = Engine(loop)
    _last = e
    return e
