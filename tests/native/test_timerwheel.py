"""Timer wheel: the native class, the same C bound through cffi, and the heapq twin.

Unit tests run against all three; the model-based tests drive the native class and
the cffi-bound C beside the twin and require identical expiries at every step.
"""

from __future__ import annotations

import random
from array import array

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

import fastka
from fastka.pure.timerwheel import TimerWheel as PureWheel

INT64_MAX = (1 << 63) - 1
T = 100_000  # 100 us ticks
S = 1_000_000_007  # the wheel's origin, off any round number


class CWheel:
    """csrc/timerwheel.c through cffi, with the Python API of TimerWheel."""

    def __init__(self, ffi, lib, capacity, start_ns=0, tick_ns=T):
        self.ffi, self.lib = ffi, lib
        w = lib.fk_wheel_new(capacity, start_ns, tick_ns)
        if w == ffi.NULL:
            raise ValueError("fk_wheel_new refused")
        self.w = ffi.gc(w, lib.fk_wheel_free)
        self.buf = ffi.new("uint32_t[]", 4096)

    def _check(self, rc):
        lib = self.lib
        if rc == lib.FK_WHEEL_EBADID:
            raise IndexError(rc)
        if rc == lib.FK_WHEEL_EINVAL:
            raise ValueError(rc)
        if rc == lib.FK_WHEEL_ERANGE:
            raise OverflowError(rc)
        return rc

    def __len__(self):
        return self.lib.fk_wheel_count(self.w)

    def arm(self, id, d):
        self._check(self.lib.fk_wheel_arm(self.w, id, d))

    def arm_periodic(self, id, d, p):
        self._check(self.lib.fk_wheel_arm_periodic(self.w, id, d, p))

    def rearm(self, id, p):
        self._check(self.lib.fk_wheel_rearm(self.w, id, p))
        return self.lib.fk_wheel_deadline(self.w, id)

    def cancel(self, id):
        return self._check(self.lib.fk_wheel_cancel(self.w, id)) == 1

    def is_armed(self, id):
        return self._check(self.lib.fk_wheel_is_armed(self.w, id)) == 1

    def deadline(self, id):
        d = self.lib.fk_wheel_deadline(self.w, id)
        return None if d == self.lib.FK_WHEEL_NONE else self._check(d)

    def period(self, id):
        return self._check(self.lib.fk_wheel_period(self.w, id))

    def advance(self, now):
        ids = []
        while True:
            n = self.lib.fk_wheel_advance(self.w, now, self.buf, len(self.buf))
            ids += self.ffi.unpack(self.buf, n)
            if n < len(self.buf):
                return array("I", ids)

    def advance_into(self, now, out):
        n = self.lib.fk_wheel_advance(self.w, now, self.buf, len(out))
        out[:n] = array("I", self.ffi.unpack(self.buf, n))
        return n

    def next_expiry(self):
        return self.lib.fk_wheel_next_expiry(self.w)

    def carry(self, src, index_map, per, not_before):
        m = self.ffi.new("int32_t[]", list(index_map) or [0])
        return self._check(self.lib.fk_wheel_carry(self.w, src.w, m, len(index_map), per, not_before))


@pytest.fixture(params=["python", "native", "cffi"])
def make_wheel(request):
    """A TimerWheel factory: the twin, the native class, the C through cffi."""
    if request.param == "python":
        return PureWheel
    if request.param == "native":
        if fastka.native is None:
            pytest.skip(f"no native core: {fastka.backend_reason}")
        return fastka.native.TimerWheel
    ffi, lib = request.getfixturevalue("cffi_timerwheel")
    return lambda capacity, start_ns=0, tick_ns=T: CWheel(ffi, lib, capacity, start_ns, tick_ns)


def tick_start(tick: int) -> int:
    return S + tick * T


# Offsets (in ticks) on both sides of every level boundary and far beyond the top level.
OFFSETS = [1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 2**24 - 1, 2**24, 2**24 + 1,
           2**32 - 1, 2**32, 2**32 + 1, 2**32 + 255, 2**33 + 12345, 2**40 + 7]
# Where the wheel's clock stands when they are armed.
PHASES = [0, 1, 254, 255, 256, 65535, 65536 + 17, 2**24 - 1, 2**24 + 300, 2**32 - 2]


@pytest.mark.parametrize("phase", PHASES)
def test_fires_in_the_tick_of_its_deadline(make_wheel, phase):
    """Each timer comes out at the start of its deadline's tick: not a nanosecond before."""
    w = make_wheel(2 * len(OFFSETS), S, T)
    assert list(w.advance(tick_start(phase))) == []
    want = {}
    for i, off in enumerate(OFFSETS):
        w.arm(2 * i, tick_start(phase + off))  # exactly on a tick start
        w.arm(2 * i + 1, tick_start(phase + off) - T + 1)  # just after the previous tick start
        want[2 * i] = want[2 * i + 1] = tick_start(phase + off)
    assert len(w) == len(want)
    while want:
        n = w.next_expiry()
        assert n == min(want.values())
        assert list(w.advance(n - 1)) == []
        got = sorted(w.advance(n))
        assert got == sorted(i for i, t in want.items() if t == n)
        for i in got:
            del want[i]
            assert not w.is_armed(i)
        assert len(w) == len(want)
    assert w.next_expiry() == -1


@pytest.mark.parametrize("seed", [1, 2])
def test_every_tick_walk(make_wheel, seed):
    """2,000 timers over 140,000 ticks (levels 0-2, two level-2 cascades), advanced tick by tick at
    a random instant inside each tick: each advance returns exactly the timers of ticks reached."""
    rnd = random.Random(seed)
    phase = rnd.randrange(65536)
    w = make_wheel(2000, S, T)
    w.advance(tick_start(phase))
    by_tick: dict[int, set[int]] = {}
    for i in range(2000):
        k = phase + 1 + rnd.randrange(140_000)
        w.arm(i, tick_start(k) - rnd.randrange(T))
        by_tick.setdefault(k, set()).add(i)
    for k in range(phase + 1, phase + 140_002):
        got = w.advance(tick_start(k) + rnd.randrange(T))
        assert set(got) == by_tick.get(k, set()), k
        assert len(got) == len(by_tick.get(k, ()))
    assert len(w) == 0


def test_past_deadlines_fire_on_the_next_advance(make_wheel):
    w = make_wheel(4, S, T)
    now = tick_start(1000) + 5
    w.advance(now)
    w.arm(0, tick_start(10))  # long past
    w.arm(1, tick_start(1000))  # the tick just processed
    w.arm(2, 7)  # before the wheel's origin
    w.arm(3, tick_start(1001))  # the next tick: not yet
    assert w.next_expiry() <= now
    assert sorted(w.advance(now)) == [0, 1, 2]
    assert w.next_expiry() == tick_start(1001)
    assert list(w.advance(now - 10**6)) == []  # the clock going back processes nothing
    assert list(w.advance(tick_start(1001))) == [3]


def test_nothing_before_the_origin(make_wheel):
    w = make_wheel(2, S, T)
    w.arm(0, S)
    w.arm(1, S + 1)
    assert list(w.advance(0)) == []
    assert list(w.advance(S - 1)) == []
    assert list(w.advance(S)) == [0]
    assert w.next_expiry() == S + T
    assert list(w.advance(S + T)) == [1]


def test_cancel_and_rearm(make_wheel):
    w = make_wheel(8, S, T)
    assert w.deadline(0) is None and not w.is_armed(0) and w.period(0) == 0
    w.arm(0, tick_start(300))
    w.arm(1, tick_start(70_000))
    assert w.is_armed(0) and len(w) == 2
    assert w.cancel(0) is True
    assert w.cancel(0) is False
    assert not w.is_armed(0) and len(w) == 1
    assert w.deadline(0) == tick_start(300)  # kept after cancel
    # re-arm an armed timer: from level 2 to level 0 and back out
    w.arm(1, tick_start(5))
    w.arm(1, tick_start(70_001))
    w.arm(2, tick_start(5))
    assert len(w) == 2
    assert list(w.advance(tick_start(300))) == [2]  # 0 cancelled, 1 moved away
    assert list(w.advance(tick_start(70_000))) == []
    assert list(w.advance(tick_start(70_001))) == [1]
    assert w.deadline(1) == tick_start(70_001)  # kept after expiry
    assert w.rearm(1, 5 * T) == tick_start(70_006)  # from the expired deadline, not from now
    assert w.is_armed(1) and w.period(1) == 0
    assert list(w.advance(tick_start(70_006))) == [1]
    assert len(w) == 0 and w.next_expiry() == -1


def test_batches_larger_than_the_buffer(make_wheel):
    w = make_wheel(5000, S, T)
    for i in range(3000):
        w.arm(i, tick_start(400))  # all in one tick
    for i in range(3000, 5000):
        w.arm(i, tick_start(1 + i % 70_000))  # spread over levels 0-2
    out = array("I", bytes(4 * 64))
    seen: list[int] = []
    now = tick_start(70_000)
    while True:
        n = w.advance_into(now, out)
        seen += out[:n]
        if n < len(out):
            break
    assert sorted(seen) == list(range(5000))
    assert len(w) == 0
    assert w.advance_into(now, out) == 0
    # and the unbounded advance drains more than its internal batch in one call
    for i in range(5000):
        w.arm(i, tick_start(80_000 + i % 3))
    assert sorted(w.advance(tick_start(80_002))) == list(range(5000))
    assert w.advance_into(now, out[:0]) == 0


def test_periodic_never_drifts(make_wheel):
    """100,000 periods of an interval that is no multiple of the tick: the deadline is exactly
    first + k * interval and each expiry comes within one tick of it; rearm() from the expired
    deadline does the same."""
    p0, p1 = 1_000_333, 3 * T + 17
    d0, d1 = S + 12_345, S + 999
    w = make_wheel(2, S, T)
    w.arm_periodic(0, d0, p0)
    w.arm(1, d1)
    k0 = k1 = 0
    while k0 < 100_000:
        n = w.next_expiry()
        got = sorted(w.advance(n))
        assert got
        if 0 in got:
            assert 0 <= n - (d0 + k0 * p0) < T
            k0 += 1
            assert w.deadline(0) == d0 + k0 * p0 and w.is_armed(0)
        if 1 in got:
            assert 0 <= n - (d1 + k1 * p1) < T
            k1 += 1
            assert w.rearm(1, p1) == d1 + k1 * p1
    assert w.deadline(0) == d0 + 100_000 * p0
    assert w.period(0) == p0
    assert abs(k1 - ((d0 + 99_999 * p0 - d1) // p1 + 1)) <= 1


def test_periodic_after_a_stall_fires_once_and_keeps_phase(make_wheel):
    p = 1_000_000_000
    w = make_wheel(1, S, T)
    w.arm_periodic(0, S + p, p)
    assert list(w.advance(S + 10 * p + p // 2)) == [0]  # ten periods late: one expiry, no burst
    assert list(w.advance(S + 10 * p + p // 2)) == []
    assert w.deadline(0) == S + 11 * p
    assert w.next_expiry() == S + 11 * p
    w.arm_periodic(0, S + 12 * p, p)
    assert list(w.advance(S + 13 * p)) == [0]  # the tick of 13p is processed: next is 14p
    assert w.deadline(0) == S + 14 * p


def test_next_expiry(make_wheel):
    w = make_wheel(6, S, T)
    assert w.next_expiry() == -1
    w.advance(tick_start(200))  # mid rotation: the next 56 ticks, then 256 more on level 0 wrapped
    w.arm(0, tick_start(256 + 100))  # level 0, a slot before the clock's (next rotation)
    w.arm(1, tick_start(256 + 60) - 1)  # level 1 but earlier than timer 0
    assert w.next_expiry() == tick_start(256 + 60)
    w.arm(2, tick_start(230) + 1)  # rounded up to the next tick start
    assert w.next_expiry() == tick_start(231)
    w.cancel(2)
    w.cancel(1)
    assert w.next_expiry() == tick_start(356)
    w.cancel(0)
    w.arm(3, tick_start(2**35))  # beyond the top level alone
    w.arm(4, tick_start(2**34 + 5))
    assert w.next_expiry() == tick_start(2**34 + 5)
    w.arm(5, tick_start(2**28))  # level 3
    assert w.next_expiry() == tick_start(2**28)
    assert sorted(w.advance(tick_start(2**35))) == [3, 4, 5]
    assert w.next_expiry() == -1


def test_carry(make_wheel):
    """A reload's new wheel takes the running one's timers, renumbered: deadlines and
    periods as they were (none earlier than not_before), unarmed ones left unarmed,
    -1 carrying nothing; an index past either wheel is refused."""
    old = make_wheel(12, S, T)
    old.arm_periodic(0, tick_start(50), 10 * T)  # instance 0: advert timer
    old.arm(1, tick_start(5))  # instance 0: Master_Down, already past at not_before
    old.arm(5, tick_start(70))  # instance 1: its gratuitous ARP timer
    old.arm(7, tick_start(80))  # instance 2: Master_Down, then cancelled
    old.cancel(7)
    old.arm(10, tick_start(90))  # instance 3: removed by the reload (no index maps to it)
    new = make_wheel(9, S, T)
    index_map = array("i", [1, -1, 0])  # new 0 <- old 1, new 1 is added, new 2 <- old 0
    assert new.carry(old, index_map, 3, tick_start(20)) == 3
    assert len(new) == 3
    assert new.deadline(2) == tick_start(70) and new.period(2) == 0
    assert new.deadline(6) == tick_start(50) and new.period(6) == 10 * T
    assert new.deadline(7) == tick_start(20)  # was past: not before not_before
    assert not any(new.is_armed(t) for t in (0, 1, 3, 4, 5, 8))
    assert new.next_expiry() == tick_start(20)
    assert sorted(new.advance(tick_start(50))) == [6, 7]
    assert new.deadline(6) == tick_start(60) and new.is_armed(6)  # still periodic
    assert len(old) == 4  # the running wheel is left as it was
    with pytest.raises(IndexError):
        new.carry(old, array("i", [4, -1, -1]), 3, 0)  # old timers 12..14 do not exist
    with pytest.raises(IndexError):
        new.carry(old, array("i", [-1, -1, -1, -1]), 3, 0)  # 12 timers do not fit in 9


def test_int64_extremes(make_wheel):
    w = make_wheel(4, 0, 1)  # 1 ns ticks: 2^63 ticks of range
    w.arm(0, INT64_MAX)
    w.arm(1, 2**62)
    w.arm_periodic(2, INT64_MAX - 10, 7)
    assert w.next_expiry() == 2**62
    assert list(w.advance(2**62 - 1)) == []
    assert list(w.advance(2**62)) == [1]
    assert list(w.advance(INT64_MAX - 10)) == [2]
    assert w.deadline(2) == INT64_MAX - 3
    assert sorted(w.advance(INT64_MAX)) == [0, 2]
    assert not w.is_armed(2)  # its next deadline would not fit in int64
    assert len(w) == 0
    with pytest.raises(OverflowError):
        w.rearm(0, 1)
    w2 = make_wheel(1, 10**18, 10**9)  # coarse ticks: the last tick start saturates
    w2.arm(0, INT64_MAX)
    assert w2.next_expiry() == INT64_MAX


def test_python_errors(wheel_cls):
    with pytest.raises(ValueError):
        wheel_cls(0, 0)
    with pytest.raises(ValueError):
        wheel_cls(2**28 + 1, 0)
    with pytest.raises(ValueError):
        wheel_cls(4, -1)
    with pytest.raises(ValueError):
        wheel_cls(4, 0, 0)
    w = wheel_cls(4, S, T)
    assert w.capacity == 4 and w.start_ns == S and w.tick_ns == T
    for bad in (-1, 4, 2**32 + 1):
        for method, args in (("arm", (S,)), ("arm_periodic", (S, T)), ("rearm", (T,)), ("cancel", ()),
                             ("is_armed", ()), ("deadline", ()), ("period", ())):
            with pytest.raises(IndexError):
                getattr(w, method)(bad, *args)
    with pytest.raises(ValueError):
        w.arm(0, -1)
    with pytest.raises(ValueError):
        w.arm_periodic(0, S, 0)
    with pytest.raises(ValueError):
        w.arm_periodic(0, -5, T)
    with pytest.raises(ValueError):
        w.rearm(0, T)  # never armed
    w.arm(0, S)
    with pytest.raises(ValueError):
        w.rearm(0, -T)
    with pytest.raises(OverflowError):
        w.arm(0, 2**63)
    w.arm(1, INT64_MAX - 5)
    with pytest.raises(OverflowError):
        w.rearm(1, 6)
    with pytest.raises(TypeError):
        w.arm(0, "5")  # type: ignore[arg-type]
    assert len(w) == 2 and w.deadline(1) == INT64_MAX - 5
    assert wheel_cls(1).start_ns > 0  # defaults to the monotonic clock now


def test_c_error_codes(cffi_timerwheel):
    ffi, lib = cffi_timerwheel
    assert lib.fk_wheel_new(0, 0, 1) == ffi.NULL
    assert lib.fk_wheel_new(2**28 + 1, 0, 1) == ffi.NULL
    assert lib.fk_wheel_new(1, -1, 1) == ffi.NULL
    assert lib.fk_wheel_new(1, 0, 0) == ffi.NULL
    assert lib.fk_wheel_new(1, 0, -5) == ffi.NULL
    w = ffi.gc(lib.fk_wheel_new(3, 0, 1000), lib.fk_wheel_free)
    assert lib.fk_wheel_capacity(w) == 3 and lib.fk_wheel_tick_ns(w) == 1000 and lib.fk_wheel_start_ns(w) == 0
    assert lib.fk_wheel_next_expiry(w) == lib.FK_WHEEL_NONE == -1
    for bad in (3, 2**32 - 1):
        assert lib.fk_wheel_arm(w, bad, 0) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_arm_periodic(w, bad, 0, 1) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_rearm(w, bad, 1) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_cancel(w, bad) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_is_armed(w, bad) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_deadline(w, bad) == lib.FK_WHEEL_EBADID
        assert lib.fk_wheel_period(w, bad) == lib.FK_WHEEL_EBADID
    assert lib.fk_wheel_deadline(w, 0) == lib.FK_WHEEL_NONE
    assert lib.fk_wheel_arm(w, 0, -1) == lib.FK_WHEEL_EINVAL
    assert lib.fk_wheel_arm_periodic(w, 0, 0, 0) == lib.FK_WHEEL_EINVAL
    assert lib.fk_wheel_rearm(w, 0, 10) == lib.FK_WHEEL_EINVAL
    assert lib.fk_wheel_arm(w, 0, INT64_MAX - 1) == 0
    assert lib.fk_wheel_rearm(w, 0, 2) == lib.FK_WHEEL_ERANGE
    assert lib.fk_wheel_rearm(w, 0, 0) == lib.FK_WHEEL_EINVAL
    assert lib.fk_wheel_count(w) == 1
    assert lib.fk_wheel_advance(w, 10, ffi.NULL, 1) == lib.FK_WHEEL_EINVAL
    assert lib.fk_wheel_advance(w, 10, ffi.NULL, 0) == 0
    assert lib.fk_wheel_cancel(w, 0) == 1 and lib.fk_wheel_cancel(w, 0) == 0
    assert lib.fk_wheel_is_armed(w, 0) == 0
    lib.fk_wheel_free(ffi.NULL)  # like free(NULL)


# -- model-based: the native class and the cffi-bound C against the heapq twin ------------

CAP = 12
BOUNDARY_TICKS = [0, 1, 255, 256, 257, 65535, 65536, 65537, 2**24 - 1, 2**24, 2**24 + 1,
                  2**32 - 1, 2**32, 2**32 + 1, 2**33 + 5]
ticks_st = st.one_of(st.integers(-3, 600), st.sampled_from(BOUNDARY_TICKS), st.integers(0, 2**26))
jitter_st = st.one_of(st.just(0), st.integers(-1, 1), st.integers(-(10**6), 10**6))


def model_machine(impl_factories):
    class WheelModel(RuleBasedStateMachine):
        @initialize(start=st.integers(0, 10**12), tick=st.sampled_from([1, 3, 1000, T]))
        def setup(self, start, tick):
            self.tick = tick
            self.ref = PureWheel(CAP, start, tick)
            self.impls = [f(CAP, start, tick) for f in impl_factories]
            self.now = start + tick * 5

        def _time(self, ticks, jitter):
            return max(0, min(self.now + ticks * self.tick + jitter, 2**62))

        def _all(self, method, *args):
            want = got = None
            try:
                want = getattr(self.ref, method)(*args)
            except (ValueError, OverflowError) as e:
                want = type(e)
            for impl in self.impls:
                try:
                    got = getattr(impl, method)(*args)
                except (ValueError, OverflowError) as e:
                    got = type(e)
                assert got == want, (method, args, impl)
            return want

        @rule(id=st.integers(0, CAP - 1), ticks=ticks_st, jitter=jitter_st)
        def arm(self, id, ticks, jitter):
            self._all("arm", id, self._time(ticks, jitter))

        @rule(id=st.integers(0, CAP - 1), ticks=ticks_st, jitter=jitter_st,
              interval=st.one_of(st.integers(1, 10**6), st.integers(1, 2**40)))
        def arm_periodic(self, id, ticks, jitter, interval):
            self._all("arm_periodic", id, self._time(ticks, jitter), interval)

        @rule(id=st.integers(0, CAP - 1), interval=st.one_of(st.integers(1, 10**7), st.integers(1, 2**45)))
        def rearm(self, id, interval):
            self._all("rearm", id, interval)

        @rule(id=st.integers(0, CAP - 1))
        def cancel(self, id):
            self._all("cancel", id)

        def _advance(self, now):
            want = sorted(self.ref.advance(now))
            for impl in self.impls:
                assert sorted(impl.advance(now)) == want, (now, impl)

        @rule(ticks=st.one_of(st.integers(-2, 300), st.sampled_from(BOUNDARY_TICKS)), jitter=jitter_st)
        def advance(self, ticks, jitter):
            self.now = self._time(ticks, jitter)  # may step back a little: must process nothing
            self._advance(self.now)

        @precondition(lambda self: 0 <= self.ref.next_expiry() < 2**62)
        @rule(extra=st.sampled_from([0, 0, 1, -1]))
        def advance_to_next_expiry(self, extra):
            self.now = max(self.now, self.ref.next_expiry() + extra)
            self._advance(self.now)

        @rule(ticks=st.integers(0, 70_000), size=st.integers(1, 4))
        def advance_in_small_batches(self, ticks, size):
            self.now = self._time(ticks, 0)
            for w in [self.ref, *self.impls]:
                out, seen = array("I", [0] * size), []
                while True:
                    n = w.advance_into(self.now, out)
                    seen += out[:n]
                    if n < size:
                        break
                seen.sort()
                if w is self.ref:
                    want = seen
                assert seen == want

        @invariant()
        def same_state(self):
            if not hasattr(self, "ref"):
                return
            want = (len(self.ref), self.ref.next_expiry(),
                    [(self.ref.is_armed(i), self.ref.deadline(i), self.ref.period(i)) for i in range(CAP)])
            for impl in self.impls:
                got = (len(impl), impl.next_expiry(),
                       [(impl.is_armed(i), impl.deadline(i), impl.period(i)) for i in range(CAP)])
                assert got == want, impl

    return WheelModel


def _model_impls(cffi_timerwheel):
    ffi, lib = cffi_timerwheel
    impls = [lambda cap, start, tick: CWheel(ffi, lib, cap, start, tick)]
    if fastka.native is not None:
        impls.append(fastka.native.TimerWheel)
    return impls


def test_model_against_the_twin(cffi_timerwheel):
    run_state_machine_as_test(
        model_machine(_model_impls(cffi_timerwheel)),
        settings=settings(max_examples=300, stateful_step_count=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )


@pytest.mark.parametrize("seed", range(4))
def test_random_sequences_against_the_twin(cffi_timerwheel, seed):
    """Long random runs with many timers per slot: 500 timers, 30,000 operations."""
    rnd = random.Random(seed)
    start, tick = rnd.randrange(10**12), rnd.choice([1000, T])
    ref = PureWheel(500, start, tick)
    impls = [f(500, start, tick) for f in _model_impls(cffi_timerwheel)]
    now = start
    for step in range(30_000):
        op = rnd.random()
        id = rnd.randrange(500)
        if op < 0.45:
            span = rnd.choice([300, 70_000, 2**25])
            d = max(0, now + rnd.randrange(-5, span) * tick + rnd.randrange(-tick, tick))
            for w in [ref, *impls]:
                w.arm(id, d)
        elif op < 0.55:
            d, p = now + rnd.randrange(10**9), rnd.randrange(1, 10**9)
            for w in [ref, *impls]:
                w.arm_periodic(id, d, p)
        elif op < 0.7:
            want = ref.cancel(id)
            assert [w.cancel(id) for w in impls] == [want] * len(impls)
        else:
            if op < 0.8 and ref.next_expiry() >= 0:
                now = max(now, ref.next_expiry())
            else:
                now += rnd.choice([0, tick // 2, tick, 37 * tick, 300 * tick])
            want = sorted(ref.advance(now))
            for w in impls:
                assert sorted(w.advance(now)) == want, step
            want_next = ref.next_expiry()
            assert [w.next_expiry() for w in impls] == [want_next] * len(impls)
        assert all(len(w) == len(ref) for w in impls)


def test_public_module_serves_the_loaded_backend():
    import os
    import subprocess
    import sys

    import fastka.timers

    want = fastka.native.TimerWheel if fastka.backend == "native" else PureWheel
    assert fastka.timers.TimerWheel is want
    code = "import fastka, fastka.timers as t; print(fastka.backend, t.TimerWheel.__module__)"
    env = dict(os.environ, FASTKA_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd="/").stdout.split()
    assert out == ["python", "fastka.pure.timerwheel"]
