import pytest

import fastka
from fastka.pure import checksum as pure_checksum

from .cffi_kernels import build


@pytest.fixture(scope="session")
def cffi_checksum(tmp_path_factory):
    return build(["checksum"], tmp_path_factory.mktemp("cffi"))


def _impls():
    params = [pytest.param(pure_checksum, id="python")]
    if fastka.native is not None:
        params.append(pytest.param(fastka.native, id="native"))
    else:
        skip = pytest.mark.skip(reason=f"no native core: {fastka.backend_reason}")
        params.append(pytest.param(None, id="native", marks=skip))
    return params


@pytest.fixture(scope="session", params=_impls())
def checksum_impl(request):
    """The same tests run against the native core and its pure-Python twin."""
    return request.param


# --- timer wheel ---------------------------------------------------------------


@pytest.fixture(scope="session")
def cffi_timerwheel(tmp_path_factory):
    """csrc/timerwheel.c bound through cffi straight from its header: (ffi, lib)."""
    return build(["timerwheel"], tmp_path_factory.mktemp("cffi_timerwheel"))


def _wheel_impls():
    from fastka.pure import timerwheel as pure_timerwheel

    params = [pytest.param(pure_timerwheel.TimerWheel, id="python")]
    if fastka.native is not None:
        params.append(pytest.param(fastka.native.TimerWheel, id="native"))
    else:
        skip = pytest.mark.skip(reason=f"no native core: {fastka.backend_reason}")
        params.append(pytest.param(None, id="native", marks=skip))
    return params


@pytest.fixture(scope="session", params=_wheel_impls())
def wheel_cls(request):
    """The TimerWheel class: the native one and its pure-Python twin."""
    return request.param


# --- VRRP advert codec ---------------------------------------------------------


@pytest.fixture(scope="session")
def cffi_vrrp(tmp_path_factory):
    """csrc/vrrp.c (with checksum.c) bound through cffi straight from its header: (ffi, lib)."""
    return build(["checksum", "vrrp"], tmp_path_factory.mktemp("cffi_vrrp"))


def _advert_impls():
    from fastka.pure import advert as pure_advert

    params = [pytest.param(pure_advert, id="python")]
    if fastka.native is not None:
        params.append(pytest.param(fastka.native, id="native"))
    else:
        skip = pytest.mark.skip(reason=f"no native core: {fastka.backend_reason}")
        params.append(pytest.param(None, id="native", marks=skip))
    return params


@pytest.fixture(scope="session", params=_advert_impls())
def advert_impl(request):
    """A module with build_advert / parse_advert / set_advert_priority: the native core
    and its pure-Python twin."""
    return request.param
