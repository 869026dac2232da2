"""Timer wheel: arm 100,000 timers at random deadlines (10 ms .. 255 s ahead), cancel
half, then advance through all of them; the native wheel vs the heapq twin, in the
same run. Two ways of advancing: as the event loop does (sleep until next_expiry(),
then advance to it) and in fixed 10 ms steps."""

import random

import pytest

import fastka
from fastka.pure.timerwheel import TimerWheel as PureWheel

N = 100_000
TICK = 100_000  # 100 us
START = 10**12
_rnd = random.Random(1)
DEADLINES = [START + _rnd.randrange(10_000_000, 255_000_000_000) for _ in range(N)]
CANCELS = _rnd.sample(range(N), N // 2)
_results: dict[tuple[str, str], float] = {}


def workload(cls, mode):
    w = cls(N, START, TICK)
    arm = w.arm
    for i, d in enumerate(DEADLINES):
        arm(i, d)
    cancel = w.cancel
    for i in CANCELS:
        cancel(i)
    advance, next_expiry = w.advance, w.next_expiry
    fired = 0
    if mode == "next_expiry":
        while (t := next_expiry()) >= 0:
            fired += len(advance(t))
    else:
        now = START
        while len(w):
            now += 10_000_000
            fired += len(advance(now))
    assert fired == N - len(CANCELS)


@pytest.mark.parametrize("mode", ["next_expiry", "step_10ms"])
@pytest.mark.parametrize("impl", ["python", "native"])
def test_timerwheel(benchmark, impl, mode, report):
    if impl == "python":
        cls = PureWheel
    elif fastka.native is None:
        pytest.skip(f"no native core: {fastka.backend_reason}")
    else:
        cls = fastka.native.TimerWheel
    benchmark.pedantic(workload, args=(cls, mode), rounds=3, iterations=1, warmup_rounds=0)
    _results[(impl, mode)] = benchmark.stats.stats.min
    if ("python", mode) in _results and ("native", mode) in _results:
        r = _results[("python", mode)] / _results[("native", mode)]
        report(f"timer wheel 100k arm / 50k cancel / advance ({mode}): native is {r:.1f}x the heapq twin")
