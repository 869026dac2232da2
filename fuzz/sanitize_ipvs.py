"""csrc/ipvs.c under AddressSanitizer + UndefinedBehaviorSanitizer, through cffi: every
parser entry point is fed the seed corpus (and any extra corpus directories given) plus
random mutations, each from a malloc'd buffer of exactly its length (a redzone right
after the last byte), and the writer packs the largest message at every capacity.

    LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \\
        .venv/bin/python fuzz/sanitize_ipvs.py [more corpus dirs]
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.native.cffi_kernels import _declarations  # noqa: E402


def build(tmp: str):
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(_declarations(ROOT / "csrc" / "ipvs.h") + "void *malloc(size_t); void free(void *);")
    ffi.set_source("_fastka_ipvs_asan", '#include "ipvs.h"\n#include <stdlib.h>\n',
                   sources=[str(ROOT / "csrc" / "ipvs.c")], include_dirs=[str(ROOT / "csrc")],
                   extra_compile_args=["-std=c99", "-O1", "-g", "-fsanitize=address,undefined",
                                       "-fno-sanitize-recover=undefined"],
                   extra_link_args=["-fsanitize=address,undefined"])
    spec = importlib.util.spec_from_file_location("_fastka_ipvs_asan", ffi.compile(tmpdir=tmp))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ffi, mod.lib


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ffi, lib = build(tmp)
        alloc = ffi.new_allocator(lib.malloc, lib.free, should_clear_after_alloc=False)
        r = ffi.new("struct fk_nl_reader *")
        m = ffi.new("struct fk_nl_msg *")
        err = ffi.new("size_t *")
        status = ffi.new("struct fk_nl_status_msg *")
        msg = ffi.new("struct fk_ipvs_msg *")
        fam = ffi.new("struct fk_genl_family *")

        def walk(data: bytes) -> None:
            buf = alloc("uint8_t[]", len(data)) if data else ffi.NULL
            if data:
                ffi.memmove(buf, data, len(data))
            lib.fk_nl_reader_init(r, buf, len(data))
            while lib.fk_nl_next(r, m) == 1:  # every parser on every message, whatever its type
                lib.fk_ipvs_parse(m, msg, err)
                lib.fk_genl_parse_family(m, fam, err)
                for t in (2, 3):
                    m.type = t
                    lib.fk_nl_parse_status(m, status, err)

        dirs = [ROOT / "fuzz" / "corpus" / "ipvs", *map(Path, sys.argv[1:])]
        seeds = [f.read_bytes()[1:] for d in dirs for f in sorted(d.iterdir()) if f.is_file()]
        rng = random.Random(1)
        count = 0
        for seed in seeds:
            walk(seed)
            for _ in range(300):
                d = bytearray(seed)
                for _ in range(rng.randint(1, 6)):
                    if d:
                        d[rng.randrange(len(d))] = rng.randrange(256)
                walk(bytes(d[: rng.randint(0, len(d))]))
                walk(bytes(d))
            count += 601

        full = ffi.new("struct fk_ipvs_msg *")  # every attribute of every part
        full.cmd, full.attrs = 5, 0x7E
        full.svc.attrs, full.svc.addr_len = 0x1FFE, 16
        full.svc.sched_name = b"x" * 15
        full.svc.pe_name = b"y" * 15
        full.svc.stats.attrs = full.svc.stats64.attrs = 0x7FE
        full.dest.attrs, full.dest.addr_len = 0xFFFE, 16
        full.dest.stats.attrs = full.dest.stats64.attrs = 0x7FE
        full.daemon.attrs = 0x1FE
        full.daemon.mcast_ifn = b"z" * 15
        largest = 0
        for cap in range(0, lib.FK_IPVS_MSG_MAX + 64):
            buf = alloc("uint8_t[]", cap) if cap else ffi.NULL
            w = ffi.new("struct fk_nl_writer *")
            lib.fk_nl_writer_init(w, buf, cap)
            largest = max(largest, lib.fk_ipvs_pack(w, 0x1E, 5, 1, full))
            lib.fk_genl_pack_getfamily(w, 2, b"nlctrl")
        assert 0 < largest <= lib.FK_IPVS_MSG_MAX
        print(f"clean: {count} buffers parsed; the largest message ({largest} bytes) packed at every capacity")


if __name__ == "__main__":
    main()
