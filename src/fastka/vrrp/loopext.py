"""What the engine's loop polls besides its VRRP sockets, link events and wake socket:
more descriptors (inotify for track_file, the proc connector for track_process), each
with a handler, and one-shot timers in Python (GARP pacing, track_process delays).

Both loops use it: the Python loop adds the descriptors to its select(), the native
loop (csrc/vloop.c) polls them with fk_vloop_add_fd and hands them back as FK_EV_FD
events with the tag given here; the next timer bounds how long either loop waits.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any, Optional

log = logging.getLogger("fastka.vrrp")

FIRST_TAG = 16  # the engine's own tags are below (link events, wake socket)


class LoopExtras:
    def __init__(self) -> None:
        self.handlers: dict[int, tuple[int, Callable[[int], None]]] = {}  # tag -> (fd, handler(now_us))
        self._timers: list[tuple[int, int, Callable[[int], None]]] = []  # (deadline ns, seq, fn(now_us))
        self._seq = itertools.count()
        self.loop: Any = None  # the native loop, once there is one

    def watch(self, fd: int, handler: Callable[[int], None]) -> int:
        """Call handler(now_us) whenever fd is readable (it must drain fd). The tag."""
        tag = FIRST_TAG + len(self.handlers)
        self.handlers[tag] = (fd, handler)
        if self.loop is not None:
            self.loop.add_fd(fd, tag)
        return tag

    def attach(self, loop: Any) -> None:
        """The native loop polls the watched descriptors from now on."""
        self.loop = loop
        for tag, (fd, _) in self.handlers.items():
            loop.add_fd(fd, tag)

    def fds(self) -> list[int]:
        return [fd for fd, _ in self.handlers.values()]

    def readable(self, ready: list[int], now_us: int) -> None:
        for fd, handler in list(self.handlers.values()):
            if fd in ready:
                self._call(handler, now_us)

    def event(self, tag: int, now_us: int) -> bool:
        """A native FK_EV_FD event: handled here if the tag is one of ours."""
        h = self.handlers.get(tag)
        if h is None:
            return False
        self._call(h[1], now_us)
        return True

    def call_at(self, deadline_ns: int, fn: Callable[[int], None]) -> None:
        """Run fn(now_us) once the clock reaches deadline_ns (between loop iterations)."""
        heapq.heappush(self._timers, (deadline_ns, next(self._seq), fn))

    def run_due(self, now_ns: int) -> Optional[int]:
        """Run the timers that are due; the deadline of the next one (ns) or None."""
        while self._timers and self._timers[0][0] <= now_ns:
            _, _, fn = heapq.heappop(self._timers)
            self._call(fn, now_ns // 1000)
        return self._timers[0][0] if self._timers else None

    @staticmethod
    def _call(fn: Callable[[int], None], now_us: int) -> None:
        try:
            fn(now_us)
        except Exception:  # a bug in one handler must not stop VRRP
            log.exception("loop handler %r failed", fn)
