"""Build the native core: Cython over the plain-C kernels in csrc/.

Environment switches (build time):
  FASTKA_NO_EXTENSIONS=1  build no extension (the pure-Python twins run)
  FASTKA_DEBUG=1          -O0 -g3 and Cython line tracing
  FASTKA_SANITIZE=1       AddressSanitizer + UndefinedBehaviorSanitizer (run with
                          LD_PRELOAD=$(gcc -print-file-name=libasan.so))
"""

import glob
import os

from setuptools import Extension, setup


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "no", "false")


def extensions():
    if flag("FASTKA_NO_EXTENSIONS"):
        return []
    from Cython.Build import cythonize

    cflags = ["-std=c99", "-Wall", "-Wno-unused-function"]
    ldflags = []
    macros = []
    directives = {"language_level": "3", "embedsignature": True}
    if flag("FASTKA_DEBUG"):
        cflags += ["-O0", "-g3", "-UNDEBUG"]
        macros += [("CYTHON_TRACE_NOGIL", "1")]
        directives["linetrace"] = True
    else:
        cflags += ["-O2"]
    if flag("FASTKA_SANITIZE"):
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
        cflags += san + ["-O1", "-g"]
        ldflags += san
    csrc = sorted(glob.glob("csrc/*.c"))
    ext = Extension(
        "fastka._native.native",
        ["src/fastka/_native/native.pyx", *csrc],
        include_dirs=["csrc"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        define_macros=macros,
    )
    return cythonize([ext], compiler_directives=directives, include_path=["src"])


setup(ext_modules=extensions())
