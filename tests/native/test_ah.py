"""VRRPv2 IP AH (HMAC-MD5-96): csrc/ah.c through Cython and cffi, and its twin.

Oracles: Python's hashlib / hmac for MD5 and HMAC-MD5 (RFC 1321 / RFC 2104 test
vectors too); keepalived's own AH packets are checked in test_keepalived_vectors.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastka
from fastka.pure import ah as pure_ah
from fastka.wire import AdvertError, build_advert

SRC, DST = "192.0.2.1", "224.0.0.18"


def message(priority=100, addresses=("192.0.2.100",)):
    return build_advert(version=2, vrid=7, priority=priority, advert_int_cs=100, addresses=list(addresses),
                        src=SRC, dst=DST, auth_type=2)


# --- MD5 / HMAC-MD5 of csrc/ah.c, straight through cffi ------------------------------

RFC1321 = [b"", b"a", b"abc", b"message digest", b"abcdefghijklmnopqrstuvwxyz",
           b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", b"1234567890" * 8]


def c_md5(cffi_ah, chunks):
    ffi, lib = cffi_ah
    ctx = ffi.new("struct fk_md5 *")
    lib.fk_md5_init(ctx)
    for c in chunks:
        lib.fk_md5_update(ctx, c, len(c))
    out = ffi.new("uint8_t[16]")
    lib.fk_md5_final(ctx, out)
    return bytes(out)


@pytest.mark.parametrize("text", RFC1321)
def test_md5_rfc1321_suite(cffi_ah, text):
    assert c_md5(cffi_ah, [text]) == hashlib.md5(text).digest()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=150), max_size=6))
def test_md5_streaming_matches_hashlib(cffi_ah, chunks):
    """Any split of the input (block boundaries, 55/56/63/64-byte tails) gives hashlib's digest."""
    assert c_md5(cffi_ah, chunks) == hashlib.md5(b"".join(chunks)).digest()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=200), st.binary(max_size=200))
def test_hmac_md5_matches_hmac_module(cffi_ah, key, a, b):
    ffi, lib = cffi_ah
    out = ffi.new("uint8_t[16]")
    lib.fk_hmac_md5(key, len(key), a, len(a), b, len(b), out)
    assert bytes(out) == hmac.new(key, a + b, hashlib.md5).digest()


def test_hmac_md5_rfc2104_vector(cffi_ah):
    """RFC 2104 appendix / RFC 2202 test case 2."""
    ffi, lib = cffi_ah
    out = ffi.new("uint8_t[16]")
    lib.fk_hmac_md5(b"Jefe", 4, b"what do ya want ", 16, b"for nothing?", 12, out)
    assert bytes(out).hex() == "750c783e6ab0b503eaa86e310a5db738"


# --- the packet: twin and native -----------------------------------------------------


def test_layout(ah_impl):
    m = message()
    p = ah_impl.build_ah_packet(message=m, src=SRC, dst=DST, seq=0x01020304, auth_data=b"pw", ip_id=0x0a0b)
    assert len(p) == 20 + 24 + len(m)
    assert p[0] == 0x45 and p[1] == 0xC0 and p[2:4] == len(p).to_bytes(2, "big") and p[4:6] == b"\x0a\x0b"
    assert p[6:8] == b"\0\0" and p[8] == 255 and p[9] == 51
    assert fastka.wire.checksum(p[:20]) == 0, "header checksum filled"
    assert p[20] == 112 and p[21] == 4 and p[22:24] == b"\0\0"
    assert p[24:28] == bytes([192, 0, 2, 1]), "SPI = source address"
    assert p[28:32] == b"\x01\x02\x03\x04"
    assert p[44:] == m
    zeroed = bytearray(p[:44])
    zeroed[1] = 0
    zeroed[10:12] = b"\0\0"
    zeroed[32:44] = bytes(12)
    want = hmac.new(b"pw".ljust(8, b"\0"), bytes(zeroed) + m, hashlib.md5).digest()[:12]
    assert p[32:44] == want


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(0, 2**32 - 1), ip_id=st.integers(0, 65535), tos=st.integers(0, 255),
       key=st.binary(min_size=1, max_size=8), unicast=st.booleans(), prio=st.integers(0, 255),
       n=st.integers(1, 20))
def test_round_trip_and_twins_agree(seq, ip_id, tos, key, unicast, prio, n):
    m = message(prio, [f"10.0.0.{i}" for i in range(n)])
    impls = [pure_ah] + ([fastka.native] if fastka.native is not None else [])
    built = {impl.build_ah_packet(message=m, src=SRC, dst="192.0.2.9", seq=seq, auth_data=key, ip_id=ip_id,
                                  tos=tos, unicast=unicast) for impl in impls}
    assert len(built) == 1
    p = built.pop()
    for impl in impls:
        got = impl.parse_ah_packet(p, auth_data=key, unicast=unicast, last_seq=seq - 1 if seq else None)
        assert got == (seq, SRC, "192.0.2.9", 255, m)
        if seq:
            with pytest.raises(AdvertError) as e:
                impl.parse_ah_packet(p, auth_data=key, unicast=unicast, last_seq=seq)
            assert e.value.reason == "replay"


def test_unicast_ttl_is_not_covered(ah_impl):
    """A router may lower a unicast advert's TTL: the ICV must not depend on it."""
    p = bytearray(ah_impl.build_ah_packet(message=message(), src=SRC, dst="198.51.100.7", seq=5,
                                          auth_data=b"k", unicast=True))
    p[8] = 61
    assert ah_impl.parse_ah_packet(bytes(p), auth_data=b"k", unicast=True).ttl == 61
    with pytest.raises(AdvertError) as e:
        ah_impl.parse_ah_packet(bytes(p), auth_data=b"k")
    assert e.value.reason == "auth"


def test_ip_options_are_covered(ah_impl):
    """A received header may carry options (IHL > 5); the ICV covers them and the
    message is found after them."""
    m = message()
    p = ah_impl.build_ah_packet(message=m, src=SRC, dst=DST, seq=3, auth_data=b"k")
    opt = bytearray(p[:20]) + b"\x01\x01\x01\x00"  # NOP NOP NOP EOL
    opt[0] = 0x46
    opt[2:4] = (len(p) + 4).to_bytes(2, "big")
    body = bytearray(opt + p[20:])
    z = bytearray(body[:48])  # 24 header bytes + AH; the ICV is AH bytes 12..24
    z[36:48] = bytes(12)
    z[1] = 0
    z[10:12] = b"\0\0"
    body[36:48] = hmac.new(b"k".ljust(8, b"\0"), bytes(z) + m, hashlib.md5).digest()[:12]
    assert ah_impl.parse_ah_packet(bytes(body), auth_data=b"k").message == m


@pytest.mark.parametrize("mutate,reason", [
    (lambda p: p.__setitem__(9, 112), "auth"),            # not AH
    (lambda p: p.__setitem__(20, 6), "auth"),             # AH over something else
    (lambda p: p.__setitem__(21, 5), "auth"),             # AH length
    (lambda p: p.__setitem__(24, 10), "auth"),            # SPI != source
    (lambda p: p.__setitem__(0, 0x65), "length"),         # not IPv4
    (lambda p: p.__setitem__(0, 0x44), "length"),         # IHL < 5
    (lambda p: p.__setitem__(3, p[3] + 1), "length"),     # total length != received
])
def test_rejections(ah_impl, mutate, reason):
    p = bytearray(ah_impl.build_ah_packet(message=message(), src=SRC, dst=DST, seq=1, auth_data=b"k"))
    mutate(p)
    with pytest.raises(AdvertError) as e:
        ah_impl.parse_ah_packet(bytes(p), auth_data=b"k")
    assert e.value.reason == reason


@pytest.mark.parametrize("exc,bad", [
    (ValueError, dict(auth_data=b"")),
    (ValueError, dict(auth_data=b"123456789")),
    (TypeError, dict(auth_data="text")),
    (ValueError, dict(seq=-1)),
    (ValueError, dict(seq=2**32)),
    (ValueError, dict(ip_id=65536)),
    (ValueError, dict(tos=256)),
    (ValueError, dict(src="fe80::1")),
    (ValueError, dict(dst="224.0.0")),
    (TypeError, dict(message="text")),
    (ValueError, dict(message=bytes(65536))),
])
def test_build_argument_errors(ah_impl, exc, bad):
    args = dict(message=message(), src=SRC, dst=DST, seq=1, auth_data=b"k")
    with pytest.raises(exc):
        ah_impl.build_ah_packet(**{**args, **bad})


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([None, 0, 7]), st.booleans())
def test_arbitrary_bytes_twins_agree(data, last_seq, unicast):
    def run(impl):
        try:
            return impl.parse_ah_packet(data, auth_data=b"k", last_seq=last_seq, unicast=unicast)
        except AdvertError as e:
            return e.reason
    want = run(pure_ah)
    if fastka.native is not None:
        assert run(fastka.native) == want
