"""The csrc/ kernels bound through cffi (API mode), straight from their headers.

Tests use this as a second binding of the same C beside the Cython one, so a
binding bug cannot hide behind the kernel, and fuzzers can drive the C directly.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

CSRC = Path(__file__).resolve().parents[2] / "csrc"


def _declarations(header: Path) -> str:
    """The prototypes of a header, in the subset of C that cffi's cdef accepts."""
    text = header.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    return text


def build(kernels: list[str], tmpdir: Path):
    """Compile csrc/<kernel>.c for each kernel into a cffi module in tmpdir; return (ffi, lib)."""
    from cffi import FFI

    ffi = FFI()
    for k in kernels:
        ffi.cdef(_declarations(CSRC / f"{k}.h"))
    name = "_fastka_cffi_" + "_".join(kernels)
    ffi.set_source(
        name,
        "".join(f'#include "{k}.h"\n' for k in kernels),
        sources=[str(CSRC / f"{k}.c") for k in kernels],
        include_dirs=[str(CSRC)],
        extra_compile_args=["-std=c99", "-O2"],
    )
    so = ffi.compile(tmpdir=str(tmpdir), verbose=False)
    spec = importlib.util.spec_from_file_location(name, so)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.ffi, mod.lib
