"""Parse time of a generated 10,000-instance keepalived.conf, and of the IPVS bench's
2,000 virtual servers x 20 real servers (130,000 lines; with --checkers-sized TCP_CHECKs
too): fastka's whole front end (lex, tree, typed model, defaults, semantic checks)
against `keepalived -t` on the same file, measured in the same run.

Run: .venv/bin/python -m pytest bench/test_config_parse.py --benchmark-only -s
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from fastka.config import load_file

from .generate import vrrp_config

N = 10_000


@pytest.fixture(scope="module")
def big_conf(tmp_path_factory):
    p = tmp_path_factory.mktemp("bench") / "keepalived.conf"
    p.write_text(vrrp_config(N))
    return p


def keepalived_t(path, report, mean: float) -> None:
    """keepalived -t on the same file, best of three, reported against fastka's mean."""
    kd = shutil.which("keepalived")
    if not kd:
        return
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([kd, "-t", "-f", str(path)], capture_output=True)
        times.append(time.perf_counter() - t0)
    best = min(times)
    report(f"keepalived -t on the same file: {best * 1000:.0f} ms; fastka / keepalived = {mean / best:.2f}")


@pytest.mark.parametrize("checkers", [False, True], ids=["plain", "tcp_check"])
def test_parse_2000_virtual_servers_x_20(benchmark, tmp_path, report, checkers):
    from .ipvs_load import config_text

    path = tmp_path / "keepalived.conf"
    path.write_text(config_text(2000, 20, 9 if checkers else None))
    result = benchmark.pedantic(load_file, args=(path,), kwargs={"check_system": False},
                                rounds=5, iterations=1, warmup_rounds=1)
    assert not result.diagnostics.has_errors, result.diagnostics.errors[:3]
    assert sum(len(vs.real_servers) for vs in result.config.virtual_servers) == 40_000
    lines = path.read_text().count("\n")
    mean = benchmark.stats.stats.mean
    report(f"fastka parse of 2000 x 20 real servers{' with TCP_CHECKs' if checkers else ''} ({lines} lines): "
           f"{mean * 1000:.0f} ms")
    keepalived_t(path, report, mean)


def test_parse_10k_instances(benchmark, big_conf, report):
    result = benchmark.pedantic(load_file, args=(big_conf,), kwargs={"check_system": False},
                                rounds=5, iterations=1, warmup_rounds=1)
    assert not result.diagnostics.has_errors, result.diagnostics.errors[:3]
    assert len(result.config.vrrp_instances) == N
    lines = big_conf.read_text().count("\n")
    mean = benchmark.stats.stats.mean
    report(f"fastka parse of {N} instances ({lines} lines): {mean * 1000:.0f} ms "
           f"({lines / mean / 1000:.0f}k lines/s)")
    keepalived_t(big_conf, report, mean)
