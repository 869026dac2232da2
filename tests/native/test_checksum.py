"""RFC 1071 / RFC 1624 checksum: native and pure twins against hand vectors, each
other, and the C kernel bound independently through cffi."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastka.pure import checksum as pure

# An IPv4 header from the RFC 1071 style worked examples: the stored checksum
# makes the whole header sum to 0xffff (checksum of the header with it is 0).
IPV4_HEADER = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
IPV4_HEADER_CSUM = 0xB861


def test_known_ipv4_header(checksum_impl):
    assert checksum_impl.checksum(IPV4_HEADER) == IPV4_HEADER_CSUM
    filled = IPV4_HEADER[:10] + struct.pack("!H", IPV4_HEADER_CSUM) + IPV4_HEADER[12:]
    assert checksum_impl.checksum(filled) == 0


def test_rfc1071_example_words(checksum_impl):
    # RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum (with end-around carry) to ddf2
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert checksum_impl.checksum(data) == (~0xDDF2 & 0xFFFF)


def test_odd_length_pads_with_zero(checksum_impl):
    assert checksum_impl.checksum(b"\x12\x34\x56") == checksum_impl.checksum(b"\x12\x34\x56\x00")


def test_empty(checksum_impl):
    assert checksum_impl.checksum(b"") == 0xFFFF


def test_partial_sums_chain(checksum_impl):
    a, b = bytes(range(64)), bytes(range(64, 200))
    acc = checksum_impl.sum16(a, 0)
    assert checksum_impl.fold(checksum_impl.sum16(b, acc)) == checksum_impl.checksum(a + b)


def test_accepts_bytearray_and_memoryview(checksum_impl):
    data = bytes(range(33))
    assert checksum_impl.checksum(bytearray(data)) == checksum_impl.checksum(memoryview(data)) \
        == checksum_impl.checksum(data)


def test_incremental_update_vrrp_priority(checksum_impl):
    # A VRRPv2 advert; priority (byte 2) changes 100 -> 200: RFC 1624 must give the
    # same checksum as recomputing.
    msg = bytearray(bytes.fromhex("2132640101010000c0a80001") + b"\0" * 8)
    c = checksum_impl.checksum(msg)
    old_word = (msg[2] << 8) | msg[3]
    msg[2] = 200
    new_word = (msg[2] << 8) | msg[3]
    assert checksum_impl.checksum_update16(c, old_word, new_word) == checksum_impl.checksum(bytes(msg))


@settings(max_examples=500)
@given(st.binary(max_size=2048))
def test_twins_agree_with_cffi_c(cffi_checksum, data):
    import fastka

    ffi, lib = cffi_checksum
    want = lib.fk_checksum(data, len(data)) if data else 0xFFFF
    assert pure.checksum(data) == want
    if fastka.native is not None:
        assert fastka.native.checksum(data) == want


@settings(max_examples=300)
@given(st.binary(min_size=2, max_size=256), st.data())
def test_incremental_update_matches_recompute(checksum_impl, data, d):
    if len(data) % 2:
        data += b"\0"
    i = d.draw(st.integers(0, len(data) // 2 - 1)) * 2
    new = d.draw(st.integers(0, 0xFFFF))
    before = checksum_impl.checksum(data)
    old = (data[i] << 8) | data[i + 1]
    changed = data[:i] + struct.pack("!H", new) + data[i + 2:]
    got = checksum_impl.checksum_update16(before, old, new)
    want = checksum_impl.checksum(changed)
    # 0x0000 and 0xffff are the same value in one's complement (RFC 1624 section 3)
    assert got == want or {got, want} == {0, 0xFFFF}


def test_backend_switch_env(root):
    """FASTKA_NO_EXTENSIONS=1 forces the twins; without it the installed package is native."""
    import os
    import subprocess
    import sys

    code = "import fastka, fastka.wire as w; print(fastka.backend, w.checksum.__module__)"
    env = dict(os.environ, FASTKA_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd="/").stdout.split()
    assert out == ["python", "fastka.pure.checksum"]
    env.pop("FASTKA_NO_EXTENSIONS")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd="/").stdout.split()
    assert out[0] == "native", "the installed package must carry its native core"


def test_wire_serves_the_loaded_backend():
    import fastka
    import fastka.wire

    want = "fastka._native.native" if fastka.backend == "native" else "fastka.pure.checksum"
    assert fastka.wire.checksum.__module__ == want
    assert fastka.wire.checksum(IPV4_HEADER) == IPV4_HEADER_CSUM
    with pytest.raises(TypeError):
        fastka.wire.checksum("not bytes")  # type: ignore[arg-type]
