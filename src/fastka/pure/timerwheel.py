"""Timer wheel, pure Python: the twin of csrc/timerwheel.c, on a heap.

Same API and same results as the native ``TimerWheel``: deadlines are absolute
monotonic nanoseconds, a deadline belongs to tick ``ceil((d - start_ns) / tick_ns)``
and a timer is returned by the first ``advance(now_ns)`` whose ``now_ns`` reaches the
start of that tick. Cancel and re-arm are lazy: the heap keeps stale entries, which
a generation number per timer recognizes and skips (and a rebuild drops when they
outnumber the live ones).
"""

from __future__ import annotations

import heapq
import operator
import time
from array import array
from typing import Any, Optional

INT64_MAX = (1 << 63) - 1
MAX_CAPACITY = 1 << 28
DEFAULT_TICK_NS = 100_000


class TimerWheel:
    """Preallocated timers 0..capacity-1, each one-shot or periodic, expiring in batches."""

    __slots__ = ("_cap", "_start", "_tick", "_next_tick", "_heap", "_gen", "_armed", "_deadline", "_period",
                 "_count", "_seq")

    def __init__(self, capacity: int, start_ns: Optional[int] = None, tick_ns: int = DEFAULT_TICK_NS) -> None:
        if start_ns is None:
            start_ns = time.monotonic_ns()
        capacity, start_ns, tick_ns = _i64(capacity), _i64(start_ns), _i64(tick_ns)
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be 1..{MAX_CAPACITY}, not {capacity}")
        if start_ns < 0:
            raise ValueError("start_ns must be >= 0")
        if tick_ns < 1:
            raise ValueError("tick_ns must be >= 1")
        self._cap = capacity
        self._start = start_ns
        self._tick = tick_ns
        self._next_tick = 0  # every tick before this one is processed
        self._heap: list[tuple[int, int, int, int]] = []  # (deadline, seq, id, generation)
        self._gen = [0] * capacity
        self._armed = bytearray(capacity)
        self._deadline = [-1] * capacity
        self._period = [0] * capacity
        self._count = 0
        self._seq = 0

    # -- properties --------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._cap

    @property
    def start_ns(self) -> int:
        return self._start

    @property
    def tick_ns(self) -> int:
        return self._tick

    def __len__(self) -> int:
        return self._count

    # -- arming ------------------------------------------------------------------

    def _id(self, id: int) -> int:
        id = _i64(id)
        if not 0 <= id < self._cap:
            raise IndexError(f"timer id {id} out of range 0..{self._cap - 1}")
        return id

    def _tick_of(self, d: int) -> int:
        return -((self._start - d) // self._tick)  # ceil((d - start) / tick)

    def _arm(self, id: int, deadline: int, period: int) -> None:
        if not self._armed[id]:
            self._armed[id] = 1
            self._count += 1
        gen = self._gen[id] + 1
        self._gen[id] = gen
        self._deadline[id] = deadline
        self._period[id] = period
        self._seq += 1
        heapq.heappush(self._heap, (deadline, self._seq, id, gen))
        if len(self._heap) > 2 * self._count + 64:
            self._compact()

    def _compact(self) -> None:
        gen, armed = self._gen, self._armed
        self._heap = [e for e in self._heap if armed[e[2]] and gen[e[2]] == e[3]]
        heapq.heapify(self._heap)

    def arm(self, id: int, deadline_ns: int) -> None:
        """Arm timer id as a one-shot at deadline_ns (re-arms an armed timer)."""
        id = self._id(id)
        deadline_ns = _i64(deadline_ns)
        if deadline_ns < 0:
            raise ValueError("deadline_ns must be >= 0")
        self._arm(id, deadline_ns, 0)

    def arm_periodic(self, id: int, first_deadline_ns: int, interval_ns: int) -> None:
        """Arm timer id at first_deadline_ns, then every interval_ns after each expiry's deadline."""
        id = self._id(id)
        first_deadline_ns, interval_ns = _i64(first_deadline_ns), _i64(interval_ns)
        if first_deadline_ns < 0:
            raise ValueError("first_deadline_ns must be >= 0")
        if interval_ns <= 0:
            raise ValueError("interval_ns must be > 0")
        self._arm(id, first_deadline_ns, interval_ns)

    def rearm(self, id: int, interval_ns: int) -> int:
        """Arm timer id as a one-shot at its last deadline plus interval_ns; return that deadline."""
        id = self._id(id)
        interval_ns = _i64(interval_ns)
        d = self._deadline[id]
        if d < 0:
            raise ValueError(f"timer {id} was never armed")
        if interval_ns <= 0:
            raise ValueError("interval_ns must be > 0")
        if d + interval_ns > INT64_MAX:
            raise OverflowError("deadline + interval_ns beyond int64")
        self._arm(id, d + interval_ns, 0)
        return d + interval_ns

    def carry(self, src: "TimerWheel", index_map: Any, per: int, not_before_ns: int) -> int:
        """Arm timers as copies of src's (a reload's new wheel takes the running one's): for
        each j with index_map[j] >= 0, timers j*per.. take src's armed timers index_map[j]*per..,
        deadline (at least not_before_ns) and period. How many were armed."""
        if len(index_map) * per > self._cap:
            raise IndexError(f"{len(index_map)} x {per} timers do not fit in {self._cap}")
        armed = 0
        for j, k in enumerate(index_map):
            if k < 0:
                continue
            for w in range(per):
                old = src._id(k * per + w)
                if src._armed[old]:
                    self._arm(j * per + w, max(src._deadline[old], not_before_ns), src._period[old])
                    armed += 1
        return armed

    def cancel(self, id: int) -> bool:
        """Disarm timer id; True if it was armed."""
        id = self._id(id)
        if not self._armed[id]:
            return False
        self._armed[id] = 0
        self._gen[id] += 1
        self._count -= 1
        return True

    def is_armed(self, id: int) -> bool:
        return bool(self._armed[self._id(id)])

    def deadline(self, id: int) -> Optional[int]:
        """The last deadline timer id was armed at (kept after expiry and cancel), None if never armed."""
        d = self._deadline[self._id(id)]
        return None if d < 0 else d

    def period(self, id: int) -> int:
        """The interval of a periodic timer, 0 for a one-shot."""
        return self._period[self._id(id)]

    # -- expiry ------------------------------------------------------------------

    def _run(self, now_ns: int, max: int) -> list[int]:
        now_ns = _i64(now_ns)
        if now_ns >= self._start:
            target = (now_ns - self._start) // self._tick
            if target >= self._next_tick:
                self._next_tick = target + 1
        # a deadline is due when its tick starts at or before the last processed tick
        last = self._start + (self._next_tick - 1) * self._tick
        heap, gen, armed = self._heap, self._gen, self._armed
        out: list[int] = []
        while heap and len(out) < max:
            d, _, id, g = heap[0]
            if not armed[id] or gen[id] != g:
                heapq.heappop(heap)
                continue
            if d > last:
                break
            heapq.heappop(heap)
            out.append(id)
            p = self._period[id]
            if p:
                self._next_periodic(id, d, p, last)
            else:
                armed[id] = 0
                gen[id] += 1
                self._count -= 1
        return out

    def _next_periodic(self, id: int, d: int, p: int, last: int) -> None:
        nd = d + p
        if nd <= last:  # behind: skip to the first deadline after the last processed tick
            nd = d + ((last - d) // p + 1) * p
        if nd > INT64_MAX:
            self._armed[id] = 0
            self._gen[id] += 1
            self._count -= 1
            return
        gen = self._gen[id] + 1
        self._gen[id] = gen
        self._deadline[id] = nd
        self._seq += 1
        heapq.heappush(self._heap, (nd, self._seq, id, gen))

    def advance(self, now_ns: int) -> array:
        """Process every tick starting at or before now_ns; return all expired ids as array('I')."""
        return array("I", self._run(now_ns, 1 << 62))

    def advance_into(self, now_ns: int, out) -> int:
        """Like advance, but write at most len(out) ids into out (a writable 'I' buffer) and return
        how many; expired timers that did not fit come out of the next call."""
        ids = self._run(now_ns, len(out))
        for i, id in enumerate(ids):
            out[i] = id
        return len(ids)

    def next_expiry(self) -> int:
        """The start of the tick of the earliest armed deadline (when advance returns it), or -1."""
        heap, gen, armed = self._heap, self._gen, self._armed
        while heap:
            d, _, id, g = heap[0]
            if armed[id] and gen[id] == g:
                return min(self._start + self._tick_of(d) * self._tick, INT64_MAX)
            heapq.heappop(heap)
        return -1


def _i64(x: int) -> int:
    x = operator.index(x)
    if not -(1 << 63) <= x <= INT64_MAX:
        raise OverflowError(f"{x} does not fit in int64")
    return x
