"""Internet checksum over a VRRP-advert-sized buffer and a 1500-byte packet:
native core vs the pure-Python twin, in the same run."""

import pytest

import fastka
from fastka.pure import checksum as pure

SIZES = {"advert_40B": 40, "packet_1500B": 1500}
_results: dict[tuple[str, str], float] = {}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("impl", ["python", "native"])
def test_checksum(benchmark, impl, size, report):
    mod = pure if impl == "python" else fastka.native
    if mod is None:
        pytest.skip(f"no native core: {fastka.backend_reason}")
    data = bytes(range(256)) * (SIZES[size] // 256 + 1)
    data = data[: SIZES[size]]
    benchmark(mod.checksum, data)
    _results[(impl, size)] = benchmark.stats.stats.mean
    if ("python", size) in _results and ("native", size) in _results:
        r = _results[("python", size)] / _results[("native", size)]
        report(f"checksum {size}: native is {r:.0f}x the pure-Python twin")
