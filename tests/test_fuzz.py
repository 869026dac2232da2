"""A short coverage-guided fuzzing run of each harness in fuzz/, bounded in runs and
time: the atheris harnesses (Python edge, native vs twin), and the libFuzzer harness
over csrc/ itself built with ASan + UBSan. Longer runs:
`.venv/bin/python fuzz/<harness>.py -max_total_time=600`; for fuzz/csrc see its header."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"

RUNS = {"fuzz_advert": ("advert", 50_000), "fuzz_config": ("config", 2_000), "fuzz_ipvs": ("ipvs", 30_000)}


@pytest.mark.parametrize("harness", sorted(RUNS))
def test_fuzz_harness_short_run(harness, tmp_path):
    pytest.importorskip("atheris", reason="atheris is not installed (it is in the test extra)")
    seeds, runs = RUNS[harness]
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus" / seeds, corpus)  # the fuzzer adds to its corpus: keep ours clean
    p = subprocess.run([sys.executable, str(FUZZ / f"{harness}.py"), f"-runs={runs}", "-max_total_time=120",
                        "-rss_limit_mb=2048", f"-artifact_prefix={tmp_path}/", str(corpus)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Done" in p.stderr, p.stderr[-2000:]


def test_libfuzzer_asan_ubsan_short_run(tmp_path):
    """csrc/ parsers under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer."""
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed (scripts/setup installs clang and libclang-rt-14-dev)")
    root = FUZZ.parent
    exe = tmp_path / "fuzz_csrc"
    build = subprocess.run([clang, "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                            "-fno-sanitize-recover=undefined", f"-I{root / 'csrc'}",
                            str(FUZZ / "csrc" / "fuzz_csrc.c"), *map(str, sorted((root / "csrc").glob("*.c"))),
                            "-o", str(exe)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus" / "csrc", corpus)
    p = subprocess.run([str(exe), "-runs=300000", "-max_total_time=60", f"-artifact_prefix={tmp_path}/",
                        str(corpus)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Done 300000 runs" in p.stderr, p.stderr[-2000:]
