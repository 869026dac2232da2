"""The VRRP loop's timer wheel: every instance's advert and Master_Down timer.

``TimerWheel`` is the native wheel (csrc/timerwheel.c through Cython) when
``fastka.backend == "native"`` and its heap-based pure-Python twin otherwise; both
have the same API and return the same expiries (tests run both).

Deadlines are absolute monotonic nanoseconds. Re-arm periodic timers from the
expired deadline (``arm_periodic``, or ``rearm(id, interval)``), never from "now",
so they do not drift. The event loop sleeps until ``next_expiry()`` and collects
expired ids in batches with ``advance(now)`` / ``advance_into(now, buffer)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import native as _native
from .pure import timerwheel as _pure_timerwheel

DEFAULT_TICK_NS = _pure_timerwheel.DEFAULT_TICK_NS

if TYPE_CHECKING:
    from .pure.timerwheel import TimerWheel as TimerWheel
else:
    TimerWheel = _native.TimerWheel if _native is not None else _pure_timerwheel.TimerWheel

__all__ = ["DEFAULT_TICK_NS", "TimerWheel"]
