"""The QEMU guest harness on a real IPVS kernel: the host tests here boot a guest each
(few: a boot costs seconds); the `guest` tests all run together in one boot."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import fastka

from . import guest

ROOT = Path(__file__).resolve().parents[2]

# --- on the host, driving guest.run() ------------------------------------------------


def test_ipvsadm_programs_the_guest_kernel_and_output_streams(vm_kernel):
    arrivals: list[tuple[float, str]] = []
    script = """
        set -e
        test -e /proc/net/ip_vs
        ipvsadm -A -t 10.0.0.1:80 -s rr
        ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m
        ipvsadm -Ln
        echo before-pause
        sleep 2
        echo after-pause
    """
    result = guest.run(script, timeout=180, output=lambda text: arrivals.append((time.monotonic(), text)))
    assert result.returncode == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["TCP", "10.0.0.1:80", "rr"] in lines
    assert ["->", "10.0.0.2:80", "Masq", "1", "0", "0"] in lines
    # streamed: the first line reached the host while the guest was still sleeping
    seen = {}
    text = ""
    for at, chunk in arrivals:
        text += chunk
        for marker in ("before-pause", "after-pause"):
            if marker in text and marker not in seen:
                seen[marker] = at
    assert seen["after-pause"] - seen["before-pause"] > 1.5
    assert 0 < result.boot_seconds < result.seconds


def test_the_exit_code_of_a_failing_command_comes_back(vm_kernel):
    result = guest.run(["ipvsadm", "-D", "-t", "10.9.9.9:80"], timeout=180)
    assert "No such service" in result.output
    assert result.returncode == 255  # what ipvsadm exits with when the kernel refuses a request


def test_a_guest_that_overruns_its_timeout_is_stopped(vm_kernel):
    start = time.monotonic()
    with pytest.raises(guest.GuestTimeout):
        guest.run("sleep 600", timeout=15)
    assert time.monotonic() - start < 30


def test_each_guest_outcome_reaches_its_host_test(vm_kernel, tmp_path):
    """A host pytest over tests/vm/selftest: one boot, and each deliberate outcome there
    (pass, fail, skip, xfail, setup error, a skipif true only on the host) shows up as
    that test's outcome on the host."""
    junit = tmp_path / "junit.xml"
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                        "tests/vm/selftest"], cwd=ROOT, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "FASTKA_VM_SELFTEST": "1"})
    assert junit.exists(), p.stdout[-3000:] + p.stderr[-3000:]
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}

    def outcome(name):
        kids = [k.tag for k in cases[name]]
        return kids[0] if kids else "passed"

    assert outcome("test_passes") == "passed"
    assert outcome("test_skipif_is_judged_in_the_guest") == "passed"
    assert outcome("test_fails") == "failure"
    assert "a failure inside the guest" in cases["test_fails"].find("failure").text
    assert outcome("test_skips") == "skipped"
    assert "skipped inside the guest" in cases["test_skips"].find("skipped").get("message")
    assert outcome("test_xfails") == "skipped"  # junit's form of xfailed
    assert outcome("test_setup_error") == "error"  # a setup failure in the guest is an error here too
    assert "a fixture that fails in the guest" in cases["test_setup_error"].find("error").text
    assert p.returncode == 1, p.stdout[-3000:]


def test_the_prepared_kernel_is_cached(vm_kernel):
    again = guest.prepare()
    assert again == vm_kernel
    assert vm_kernel.vmlinux.read_bytes()[:4] == b"\x7fELF"
    assert {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq"} <= set(vm_kernel.schedulers)


# --- in the guest, in one boot ---------------------------------------------------------


@pytest.mark.guest
def test_in_the_guest_as_root_on_debians_kernel_with_ipvs_and_its_schedulers():
    assert os.geteuid() == 0
    assert platform.release().endswith("-amd64")
    assert Path("/proc/net/ip_vs").exists()
    loaded = {line.split()[0] for line in Path("/proc/modules").read_text().splitlines()}
    assert {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_wlc", "ip_vs_sh", "ip_vs_mh"} <= loaded


@pytest.mark.guest
def test_in_the_guest_the_projects_venv_runs_fastka():
    built = list(Path(fastka.__file__).parent.glob("_native/native*.so"))
    assert fastka.backend == ("native" if built and not os.environ.get("FASTKA_NO_EXTENSIONS") else "python"), \
        fastka.backend_reason
    # PATH starts with the interpreter's own bin: `python` is this venv's
    out = subprocess.run(["python", "-c", "import sys, fastka; print(sys.executable, fastka.backend)"],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [sys.executable, fastka.backend]


@pytest.mark.guest
def test_in_the_guest_ipvsadm_sees_a_table_written_by_ipvsadm():
    def ipvsadm(*args):
        return subprocess.run(["ipvsadm", *args], capture_output=True, text=True, check=True, timeout=60).stdout

    ipvsadm("-C")
    ipvsadm("-A", "-u", "10.1.0.1:53", "-s", "wlc")
    ipvsadm("-a", "-u", "10.1.0.1:53", "-r", "10.1.0.2:53", "-g", "-w", "3")
    rows = [line.split() for line in ipvsadm("-Ln").splitlines()]
    assert ["UDP", "10.1.0.1:53", "wlc"] in rows
    assert ["->", "10.1.0.2:53", "Route", "3", "0", "0"] in rows
    ipvsadm("-C")
    assert "10.1.0.1" not in ipvsadm("-Ln")
