"""Coverage-guided fuzzing (atheris) of the IPVS reply parser: the native core and its
pure-Python twin must agree on every input (the same replies, or the same malformation
reason at the same offset), and neither may fail other than with NetlinkFormatError.

The first byte picks the IPVS family id the parser is told (0x1e, none, or nlctrl's 16);
the rest is the buffer as a recv() would return it.

    .venv/bin/python fuzz/fuzz_ipvs.py fuzz/corpus/ipvs -runs=100000   # or -max_total_time=600
"""

import sys

import atheris

with atheris.instrument_imports():
    import fastka
    from fastka.pure import ipvs as twin
    from fastka.wire.ipvs import NetlinkFormatError

native = fastka.native

FAMILIES = [0x1E, None, 16]


def parse(impl, data, family):
    try:
        return impl.parse_ipvs_replies(data, family)
    except NetlinkFormatError as e:
        return ("error", e.reason, e.offset)


def one(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    family = FAMILIES[fdp.ConsumeIntInRange(0, len(FAMILIES) - 1)]
    data = fdp.ConsumeBytes(fdp.remaining_bytes())
    want = parse(twin, data, family)
    if native is not None:
        got = parse(native, data, family)
        assert got == want, (data.hex(), family, got, want)
        if isinstance(want, list):
            assert [type(x) for x in got] == [type(x) for x in want], (data.hex(), family)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
