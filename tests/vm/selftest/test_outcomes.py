"""Guest tests with known outcomes, run only by test_guest.py (FASTKA_VM_SELFTEST=1) to
check that each outcome in the guest reaches its stand-in on the host."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.guest


def test_passes():
    assert Path("/proc/net/ip_vs").exists()


def test_fails():
    assert 1 + 1 == 3, "a failure inside the guest"


def test_skips():
    pytest.skip("skipped inside the guest")


@pytest.mark.skipif(not Path("/proc/net/ip_vs").exists(), reason="no IPVS here")
def test_skipif_is_judged_in_the_guest():
    pass  # skipped on the host (no IPVS), passes in the guest


@pytest.mark.xfail(reason="expected to fail", strict=True)
def test_xfails():
    assert 1 + 1 == 3


@pytest.fixture
def broken():
    raise RuntimeError("a fixture that fails in the guest")


def test_setup_error(broken):
    pass
