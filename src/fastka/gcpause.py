"""The cyclic garbage collector paused while a large, acyclic, long-lived structure is
made (a configuration's parse, the checker child's 40,000 checkers)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The lexer allocates ~1M small tuples for a large config and none of them form
    cycles; the collector's repeated passes over the growing heap would otherwise cost
    about as much as the lexing itself (and half the build of 40,000 checkers)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # The allocations counted while paused would make the next one run a
            # young-generation pass over everything made here (~175 ms for a 130,000-line
            # file). Freezing resets that count. A process that keeps its long-lived
            # objects frozen (the daemons) keeps these frozen too: unfreezing would thaw
            # its others. Elsewhere they go to the oldest generation, collected by its
            # own, rarer, rule. (The model has no reference cycles: what is dropped is
            # freed by its count, frozen or not.)
            frozen_before = gc.get_freeze_count()
            gc.freeze()
            if not frozen_before:
                gc.unfreeze()
            gc.enable()
