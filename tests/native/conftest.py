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
