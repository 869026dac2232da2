import pytest

import fastka
from fastka.pure import advert as pure_advert
from fastka.pure import ah as pure_ah
from fastka.pure import checksum as pure_checksum
from fastka.pure import ipvs as pure_ipvs
from fastka.pure import timerwheel as pure_timerwheel

from .cffi_kernels import build


@pytest.fixture(scope="session")
def cffi_checksum(tmp_path_factory):
    return build(["checksum"], tmp_path_factory.mktemp("cffi"))


def twin_and_native(twin, native_attr=None):
    """Params for a fixture: the pure-Python twin, and the native core (or its
    attribute `native_attr`), skipped with the reason when the core is not loaded."""
    params = [pytest.param(twin, id="python")]
    if fastka.native is not None:
        native = getattr(fastka.native, native_attr) if native_attr else fastka.native
        params.append(pytest.param(native, id="native"))
    else:
        skip = pytest.mark.skip(reason=f"no native core: {fastka.backend_reason}")
        params.append(pytest.param(None, id="native", marks=skip))
    return params


@pytest.fixture(scope="session", params=twin_and_native(pure_checksum))
def checksum_impl(request):
    """The same tests run against the native core and its pure-Python twin."""
    return request.param


# --- timer wheel ---------------------------------------------------------------


@pytest.fixture(scope="session")
def cffi_timerwheel(tmp_path_factory):
    """csrc/timerwheel.c bound through cffi straight from its header: (ffi, lib)."""
    return build(["timerwheel"], tmp_path_factory.mktemp("cffi_timerwheel"))


@pytest.fixture(scope="session", params=twin_and_native(pure_timerwheel.TimerWheel, "TimerWheel"))
def wheel_cls(request):
    """The TimerWheel class: the native one and its pure-Python twin."""
    return request.param


# --- VRRP advert codec ---------------------------------------------------------


@pytest.fixture(scope="session")
def cffi_vrrp(tmp_path_factory):
    """csrc/vrrp.c (with checksum.c) bound through cffi straight from its header: (ffi, lib)."""
    return build(["checksum", "vrrp"], tmp_path_factory.mktemp("cffi_vrrp"))


@pytest.fixture(scope="session", params=twin_and_native(pure_advert))
def advert_impl(request):
    """A module with build_advert / parse_advert / set_advert_priority: the native core
    and its pure-Python twin."""
    return request.param


@pytest.fixture(scope="session", params=twin_and_native(pure_ah))
def ah_impl(request):
    """A module with build_ah_packet / parse_ah_packet: the native core and its twin."""
    return request.param


@pytest.fixture(scope="session")
def cffi_ah(tmp_path_factory):
    """csrc/ah.c (with checksum.c) bound through cffi straight from its header: (ffi, lib)."""
    return build(["checksum", "ah"], tmp_path_factory.mktemp("cffi_ah"))

# --- IPVS generic netlink messages -----------------------------------------------


@pytest.fixture(scope="session")
def cffi_ipvs(tmp_path_factory):
    """csrc/ipvs.c bound through cffi straight from its header: (ffi, lib)."""
    return build(["ipvs"], tmp_path_factory.mktemp("cffi_ipvs"))


@pytest.fixture(scope="session", params=twin_and_native(pure_ipvs))
def ipvs_impl(request):
    """A module with IpvsBatch / parse_ipvs_replies: the native core and its pure-Python twin."""
    return request.param
