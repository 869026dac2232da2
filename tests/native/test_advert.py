"""VRRP advert codec (csrc/vrrp.c + _native/advert.pxi, and the pure twin
fastka/pure/advert.py): hand-checked RFC 3768 / RFC 9568 vectors, scapy's VRRP layers
and Wireshark's tshark as oracles we did not write, every rejection reason, and
property tests (round trips, native == twin, no crash on arbitrary bytes)."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastka
from fastka.pure import advert as pure_advert
from fastka.pure import checksum as pure_csum
from fastka.wire import Advert, AdvertError

V4 = ("10.0.0.1", "224.0.0.18")
V6 = ("fe80::1", "ff02::12")
REASONS = ("ttl", "length", "version", "type", "count", "checksum", "interval", "auth")


def packed(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def pseudo_header(src: str, dst: str, length: int) -> bytes:
    """The pseudo-header, laid out as the RFCs draw it (not as our code sums it)."""
    s, d = packed(src), packed(dst)
    if len(s) == 4:  # IPv4: src, dst, zero, protocol, length (RFC 768 / RFC 793 style)
        return s + d + struct.pack("!BBH", 0, 112, length)
    # IPv6, RFC 8200 8.1: src, dst, 32-bit upper-layer length, 3 zero bytes, next header
    return s + d + struct.pack("!I3xB", length, 112)


def with_checksum(msg: bytes | bytearray, form: str, src: str = V4[0], dst: str = V4[1]) -> bytes:
    """msg with its checksum recomputed in the given form (pure checksum, independent code)."""
    m = bytearray(msg)
    m[6:8] = b"\0\0"
    data = bytes(m) if form != "pseudo" else pseudo_header(src, dst, len(m)) + bytes(m)
    m[6:8] = struct.pack("!H", pure_csum.checksum(data))
    return bytes(m)


def kw(version=3, vrid=51, priority=100, advert_int_cs=100, addresses=("192.168.0.1",), src=V4[0], dst=V4[1],
       **more):
    return dict(version=version, vrid=vrid, priority=priority, advert_int_cs=advert_int_cs,
                addresses=list(addresses), src=src, dst=dst, **more)


# --- hand-checked vectors ---------------------------------------------------------


def test_v2_vector_exact_bytes(advert_impl):
    msg = advert_impl.build_advert(**kw(version=2, advert_int_cs=100, addresses=["192.168.0.1", "10.0.0.254"],
                                        auth_type=1, auth_data=b"secret"))
    # RFC 3768 5.1, word by word:
    #   2133  version 2, type 1 | VRID 0x33 = 51
    #   6402  priority 100 | count 2
    #   0101  auth type 1 | adver int 1 s
    #   71d5  checksum: words 2133+6402+0101+c0a8+0001+0a00+00fe+7365+6372+6574+0000
    #         = 0x28e28 -> end-around carry 0x8e2a -> complement 0x71d5
    #   c0a80001 0a0000fe  the addresses; 7365637265740000  "secret" zero padded
    assert msg.hex() == "21336402" "010171d5" "c0a80001" "0a0000fe" "7365637265740000"
    assert msg[0] >> 4 == 2 and msg[0] & 0xF == 1
    assert (msg[1], msg[2], msg[3], msg[4], msg[5]) == (51, 100, 2, 1, 1)
    assert msg[8:16] == packed("192.168.0.1") + packed("10.0.0.254")
    assert msg[16:] == b"secret\0\0"
    assert len(msg) == 8 + 2 * 4 + 8
    # the checksum, recomputed independently over the message with a zero checksum field
    assert struct.unpack("!H", msg[6:8])[0] == pure_csum.checksum(msg[:6] + b"\0\0" + msg[8:]) == 0x71D5


def test_v2_no_auth_is_zero_filled(advert_impl):
    msg = advert_impl.build_advert(**kw(version=2, advert_int_cs=300, vrid=1, priority=255))
    assert msg[:6] == bytes([0x21, 1, 255, 1, 0, 3])
    assert msg[-8:] == b"\0" * 8
    assert pure_csum.checksum(msg) == 0


def test_v3_ipv4_layout_both_checksum_forms(advert_impl):
    k = kw(version=3, vrid=7, priority=200, advert_int_cs=0xABC, addresses=["10.1.2.3", "10.1.2.4"])
    msg = advert_impl.build_advert(**k)
    plain = advert_impl.build_advert(**k, v3_checksum_as_v2=True)
    # RFC 9568 5.1: version 3 type 1, VRID, priority, count, 4 reserved bits + 12-bit interval
    assert msg[:6] == bytes([0x31, 7, 200, 2, 0x0A, 0xBC])
    assert msg[8:] == packed("10.1.2.3") + packed("10.1.2.4")
    assert len(msg) == 8 + 2 * 4
    assert msg[:6] == plain[:6] and msg[8:] == plain[8:]
    zeroed = msg[:6] + b"\0\0" + msg[8:]
    assert struct.unpack("!H", msg[6:8])[0] == pure_csum.checksum(pseudo_header(*V4, len(msg)) + zeroed)
    assert struct.unpack("!H", plain[6:8])[0] == pure_csum.checksum(zeroed)


def test_v3_ipv6_layout_and_pseudo_header(advert_impl):
    msg = advert_impl.build_advert(**kw(version=3, addresses=["2001:db8::1", "fe80::abcd"], src=V6[0], dst=V6[1],
                                        advert_int_cs=50))
    assert msg[:6] == bytes([0x31, 51, 100, 2, 0, 50])
    assert msg[8:] == packed("2001:db8::1") + packed("fe80::abcd")
    assert len(msg) == 8 + 2 * 16
    zeroed = msg[:6] + b"\0\0" + msg[8:]
    assert struct.unpack("!H", msg[6:8])[0] == pure_csum.checksum(pseudo_header(*V6, len(msg)) + zeroed)
    # v3_checksum_as_v2 does not apply to IPv6
    assert advert_impl.build_advert(**kw(version=3, addresses=["2001:db8::1", "fe80::abcd"], src=V6[0], dst=V6[1],
                                         advert_int_cs=50, v3_checksum_as_v2=True)) == msg


def test_parse_fields(advert_impl):
    msg = advert_impl.build_advert(**kw(version=2, advert_int_cs=200, addresses=["1.2.3.4", "5.6.7.8"],
                                        auth_type=1, auth_data=b"pw"))
    adv = advert_impl.parse_advert(msg, src=V4[0], dst=V4[1])
    assert isinstance(adv, Advert)
    assert adv == Advert(2, 1, 51, 100, 200, 1, ("1.2.3.4", "5.6.7.8"), "v2")
    assert adv.addresses == ("1.2.3.4", "5.6.7.8") and adv.checksum_form == "v2"
    for form, flag in (("pseudo", False), ("plain", True)):
        m = advert_impl.build_advert(**kw(advert_int_cs=25, v3_checksum_as_v2=flag))
        assert advert_impl.parse_advert(m, src=V4[0], dst=V4[1]) == Advert(3, 1, 51, 100, 25, 0, ("192.168.0.1",), form)
    m = advert_impl.build_advert(**kw(addresses=["2001:db8::1"], src=V6[0], dst=V6[1]))
    want = Advert(3, 1, 51, 100, 100, 0, ("2001:db8::1",), "pseudo")
    assert advert_impl.parse_advert(m, src=V6[0], dst=V6[1]) == want


def test_parse_accepts_buffers(advert_impl):
    msg = advert_impl.build_advert(**kw())
    want = advert_impl.parse_advert(msg, src=V4[0], dst=V4[1])
    for buf in (bytearray(msg), memoryview(msg), memoryview(bytearray(msg))):
        assert advert_impl.parse_advert(buf, src=V4[0], dst=V4[1]) == want


def test_wire_serves_the_loaded_backend():
    import fastka.wire as wire

    impl = fastka.native if fastka.native is not None else pure_advert
    assert wire.build_advert is impl.build_advert
    assert wire.parse_advert is impl.parse_advert
    assert wire.set_advert_priority is impl.set_advert_priority
    assert issubclass(AdvertError, ValueError)


# --- every rejection reason -------------------------------------------------------


def reason(impl, msg, src=V4[0], dst=V4[1], **more) -> str:
    with pytest.raises(AdvertError) as e:
        impl.parse_advert(msg, src=src, dst=dst, **more)
    assert e.value.reason in REASONS
    assert e.value.reason in str(e.value)
    return e.value.reason


def test_reject_ttl(advert_impl):
    msg = advert_impl.build_advert(**kw())
    for ttl in (0, 1, 64, 254, 256):
        assert reason(advert_impl, msg, ttl=ttl) == "ttl"
    assert reason(advert_impl, b"", ttl=64) == "ttl"  # ttl is the first check


def test_reject_length(advert_impl):
    msg = advert_impl.build_advert(**kw(addresses=["1.1.1.1", "2.2.2.2"]))
    assert reason(advert_impl, b"") == "length"
    assert reason(advert_impl, msg[:7]) == "length"
    for bad in (msg[:-1], msg[:-4], msg + b"\0", msg + b"\0" * 4):
        assert reason(advert_impl, with_checksum(bad, "pseudo")) == "length"
    v2 = advert_impl.build_advert(**kw(version=2))
    assert reason(advert_impl, with_checksum(v2[:-8], "v2")) == "length"  # no auth data
    # the address size follows src: an IPv4-sized v3 message from an IPv6 source
    assert reason(advert_impl, msg, src=V6[0], dst=V6[1]) == "length"


@pytest.mark.parametrize("version", [0, 1, 4, 15])
def test_reject_version(advert_impl, version):
    msg = bytearray(advert_impl.build_advert(**kw()))
    msg[0] = (version << 4) | 1
    assert reason(advert_impl, with_checksum(msg, "pseudo")) == "version"


def test_reject_v2_over_ipv6(advert_impl):
    msg = bytearray(8 + 16 + 8)
    msg[:6] = bytes([0x21, 1, 100, 1, 0, 1])
    assert reason(advert_impl, with_checksum(msg, "v2"), src=V6[0], dst=V6[1]) == "version"


@pytest.mark.parametrize("typ", [0, 2, 3, 15])
def test_reject_type(advert_impl, typ):
    msg = bytearray(advert_impl.build_advert(**kw()))
    msg[0] = 0x30 | typ
    assert reason(advert_impl, with_checksum(msg, "pseudo")) == "type"


def test_reject_count(advert_impl):
    msg = bytes([0x31, 1, 100, 0, 0, 100, 0, 0])
    assert reason(advert_impl, with_checksum(msg, "pseudo")) == "count"
    v2 = bytes([0x21, 1, 100, 0, 0, 1, 0, 0]) + b"\0" * 8
    assert reason(advert_impl, with_checksum(v2, "v2")) == "count"


def test_reject_checksum(advert_impl):
    for k, src, dst in ((kw(), *V4), (kw(version=2), *V4), (kw(v3_checksum_as_v2=True), *V4),
                        (kw(addresses=["2001:db8::1"], src=V6[0], dst=V6[1]), *V6)):
        msg = bytearray(advert_impl.build_advert(**k))
        msg[-1] ^= 0x01
        assert reason(advert_impl, msg, src=src, dst=dst) == "checksum"
    # the pseudo form binds src and dst: another source fails
    msg = advert_impl.build_advert(**kw())
    assert reason(advert_impl, msg, src="10.0.0.2", dst=V4[1]) == "checksum"
    # a v2-style checksum is not accepted for v3 over IPv6
    m6 = with_checksum(advert_impl.build_advert(**kw(addresses=["2001:db8::1"], src=V6[0], dst=V6[1])), "plain")
    assert reason(advert_impl, m6, src=V6[0], dst=V6[1]) == "checksum"


def test_reject_interval(advert_impl):
    v3 = bytearray(advert_impl.build_advert(**kw()))
    v3[4], v3[5] = 0xF0, 0  # reserved bits set (ignored on receipt), interval 0
    assert reason(advert_impl, with_checksum(v3, "pseudo")) == "interval"
    assert reason(advert_impl, with_checksum(v3, "plain")) == "interval"
    v2 = bytearray(advert_impl.build_advert(**kw(version=2)))
    v2[5] = 0
    assert reason(advert_impl, with_checksum(v2, "v2")) == "interval"


def test_reserved_bits_are_ignored(advert_impl):
    v3 = bytearray(advert_impl.build_advert(**kw(advert_int_cs=100)))
    v3[4] |= 0xF0
    adv = advert_impl.parse_advert(with_checksum(v3, "pseudo"), src=V4[0], dst=V4[1])
    assert adv.advert_int_cs == 100


def test_reject_auth(advert_impl):
    none = advert_impl.build_advert(**kw(version=2))
    text = advert_impl.build_advert(**kw(version=2, auth_type=1, auth_data=b"secret"))
    assert reason(advert_impl, none, auth_data=b"secret") == "auth"  # type 0, type 1 expected
    assert reason(advert_impl, text, auth_data=b"") == "auth"  # type 1, none expected
    assert reason(advert_impl, text, auth_data=b"secreT") == "auth"
    assert reason(advert_impl, text, auth_data=b"secre") == "auth"
    ah = bytearray(none)
    ah[4] = 2
    assert reason(advert_impl, with_checksum(ah, "v2"), auth_data=b"") == "auth"
    # accepted: matching expectations, the zero padding, or no expectation at all
    assert advert_impl.parse_advert(text, src=V4[0], dst=V4[1], auth_data=b"secret").auth_type == 1
    assert advert_impl.parse_advert(text, src=V4[0], dst=V4[1], auth_data=bytearray(b"secret\0")).auth_type == 1
    assert advert_impl.parse_advert(none, src=V4[0], dst=V4[1], auth_data=b"").auth_type == 0
    assert advert_impl.parse_advert(text, src=V4[0], dst=V4[1]).auth_type == 1
    assert advert_impl.parse_advert(with_checksum(ah, "v2"), src=V4[0], dst=V4[1]).auth_type == 2
    # v3 carries no authentication: auth_data is not checked there
    v3 = advert_impl.build_advert(**kw())
    assert advert_impl.parse_advert(v3, src=V4[0], dst=V4[1], auth_data=b"secret").auth_type == 0


def test_check_order(advert_impl):
    # each message fails two checks; the earlier one (fastka.wire.advert's order) is reported
    bad_version_and_sum = bytes([0x41, 1, 1, 1, 0, 1, 0, 0, 1, 2, 3, 4])
    assert reason(advert_impl, bad_version_and_sum) == "version"
    bad_type_and_count = with_checksum(bytes([0x32, 1, 1, 0, 0, 1, 0, 0]), "pseudo")
    assert reason(advert_impl, bad_type_and_count) == "type"
    count0_short = bytes([0x31, 1, 1, 0, 0, 1, 0, 0])
    assert reason(advert_impl, count0_short) == "count"
    bad_sum_and_interval = bytes([0x31, 1, 1, 1, 0, 0, 0, 0, 1, 2, 3, 4])
    assert reason(advert_impl, bad_sum_and_interval) == "checksum"
    v2 = bytearray(advert_impl.build_advert(**kw(version=2, auth_type=1, auth_data=b"a")))
    v2[5] = 0
    assert reason(advert_impl, with_checksum(v2, "v2"), auth_data=b"b") == "interval"


# --- argument errors: identical in both implementations ----------------------------

BAD_BUILDS = [
    (ValueError, dict(version=1)),
    (ValueError, dict(version=4)),
    (ValueError, dict(version=2**70)),
    (ValueError, dict(vrid=0)),
    (ValueError, dict(vrid=256)),
    (ValueError, dict(vrid=-1)),
    (ValueError, dict(priority=256)),
    (ValueError, dict(priority=-2**80)),
    (ValueError, dict(advert_int_cs=0)),
    (ValueError, dict(advert_int_cs=4096)),
    (ValueError, dict(version=2, advert_int_cs=150)),
    (ValueError, dict(version=2, advert_int_cs=25600)),
    (ValueError, dict(version=2, advert_int_cs=0)),
    (ValueError, dict(addresses=[])),
    (ValueError, dict(addresses=["1.2.3.4"] * 256)),
    (ValueError, dict(addresses=["1.2.3"])),
    (ValueError, dict(addresses=["1.2.3.4", "01.2.3.4"])),
    (ValueError, dict(addresses=["1.2.3.4\x00"])),
    (ValueError, dict(addresses=["\udcff"])),
    (ValueError, dict(addresses=["fe80::1"])),
    (ValueError, dict(addresses=["1.2.3.4"], src=V6[0], dst=V6[1])),
    (ValueError, dict(src="10.0.0.256")),
    (ValueError, dict(src="fe80::1%eth0", dst=V6[1])),
    (ValueError, dict(dst=V6[1])),
    (ValueError, dict(version=2, src=V6[0], dst=V6[1], addresses=["fe80::1"])),
    (ValueError, dict(auth_type=1, auth_data=b"x")),
    (ValueError, dict(auth_data=b"x")),
    (ValueError, dict(version=2, auth_type=2, auth_data=b"x")),
    (ValueError, dict(version=3, auth_type=2)),
    (ValueError, dict(version=2, auth_type=3)),
    (ValueError, dict(version=2, auth_type=2**65)),
    (ValueError, dict(version=2, auth_type=1, auth_data=b"123456789")),
    (ValueError, dict(version=2, auth_type=0, auth_data=b"x")),
    (ValueError, dict(version=2, auth_type=1, auth_data=b"")),
    (ValueError, dict(version=2, auth_type=1, auth_data=None)),
    (TypeError, dict(version=2, auth_type=1, auth_data="text")),
    (TypeError, dict(addresses="1.2.3.4")),
    (TypeError, dict(addresses=[1])),
    (TypeError, dict(src=None)),
    (TypeError, dict(dst=b"\xe0\0\0\x12")),
    (TypeError, dict(vrid=1.0)),
]


@pytest.mark.parametrize("exc,bad", BAD_BUILDS, ids=[str(i) for i in range(len(BAD_BUILDS))])
def test_build_argument_errors(advert_impl, exc, bad):
    with pytest.raises(exc):
        advert_impl.build_advert(**{**kw(), **bad})


@pytest.mark.skipif(fastka.native is None, reason="no native core")
@pytest.mark.parametrize("exc,bad", BAD_BUILDS, ids=[str(i) for i in range(len(BAD_BUILDS))])
def test_build_argument_errors_same_message(exc, bad):
    errors = []
    for impl in (pure_advert, fastka.native):
        with pytest.raises(exc) as e:
            impl.build_advert(**{**kw(), **bad})
        errors.append(str(e.value))
    if exc is ValueError:
        assert errors[0] == errors[1]


def test_ah_message_carries_no_auth_data(advert_impl):
    """auth_type 2: the VRRP message says AH and carries zeros; the key goes to the AH."""
    with pytest.raises(ValueError, match=r"^auth_type 2 \(IP AH\).*build_ah_packet"):
        advert_impl.build_advert(**kw(version=2, auth_type=2, auth_data=b"x"))
    m = advert_impl.build_advert(**kw(version=2, auth_type=2))
    assert m[4] == 2 and m[-8:] == bytes(8)
    a = advert_impl.parse_advert(m, src=kw()["src"], dst=kw()["dst"])
    assert a.auth_type == 2


def test_build_accepts_iterables(advert_impl):
    want = advert_impl.build_advert(**kw(addresses=["1.1.1.1", "2.2.2.2"]))
    assert advert_impl.build_advert(**{**kw(), "addresses": ("1.1.1.1", "2.2.2.2")}) == want
    assert advert_impl.build_advert(**{**kw(), "addresses": iter(["1.1.1.1", "2.2.2.2"])}) == want
    assert advert_impl.build_advert(**kw(addresses=["1.1.1.1"] * 255))[3] == 255


BAD_PARSES = [
    (ValueError, dict(src="nope")),
    (ValueError, dict(dst="ff02::12")),
    (ValueError, dict(auth_data=b"123456789")),
    (TypeError, dict(auth_data="pw")),
    (TypeError, dict(src=1)),
    (TypeError, dict(message="text")),
    (TypeError, dict(message=12)),
]


@pytest.mark.parametrize("exc,bad", BAD_PARSES, ids=[str(i) for i in range(len(BAD_PARSES))])
def test_parse_argument_errors(advert_impl, exc, bad):
    args = {"message": advert_impl.build_advert(**kw()), "src": V4[0], "dst": V4[1], **bad}
    message = args.pop("message")
    with pytest.raises(exc) as e:
        advert_impl.parse_advert(message, **args)
    assert not isinstance(e.value, AdvertError)


# --- RFC 1624 priority change -------------------------------------------------------

FORMS = {
    "v2": (kw(version=2, auth_type=1, auth_data=b"k"), V4),
    "v3-pseudo": (kw(addresses=["10.9.8.7", "10.9.8.6"]), V4),
    "v3-plain": (kw(v3_checksum_as_v2=True), V4),
    "v3-ipv6": (kw(addresses=["2001:db8::7"], src=V6[0], dst=V6[1]), V6),
}


@pytest.mark.parametrize("form", list(FORMS))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p1=st.integers(0, 255), p2=st.integers(0, 255))
def test_set_priority_matches_rebuild(advert_impl, form, p1, p2):
    k, (src, dst) = FORMS[form]
    msg = bytearray(advert_impl.build_advert(**{**k, "priority": p1}))
    advert_impl.set_advert_priority(msg, p2)
    assert bytes(msg) == advert_impl.build_advert(**{**k, "priority": p2})
    assert advert_impl.parse_advert(msg, src=src, dst=dst).priority == p2


def test_set_priority_errors(advert_impl):
    msg = advert_impl.build_advert(**kw())
    with pytest.raises(TypeError):
        advert_impl.set_advert_priority(msg, 1)  # bytes are read-only
    with pytest.raises(ValueError):
        advert_impl.set_advert_priority(bytearray(msg), 256)
    with pytest.raises(ValueError):
        advert_impl.set_advert_priority(bytearray(7), 1)
    m = memoryview(bytearray(msg))
    advert_impl.set_advert_priority(m, 9)
    assert m[2] == 9


def test_cffi_set_priority(cffi_vrrp):
    ffi, lib = cffi_vrrp
    msg = pure_advert.build_advert(**kw(priority=10))
    buf = ffi.new("uint8_t[]", msg)
    assert lib.fk_vrrp_set_priority(buf, len(msg), 250) == 0
    assert ffi.buffer(buf, len(msg))[:] == pure_advert.build_advert(**kw(priority=250))
    assert lib.fk_vrrp_set_priority(buf, 7, 1) == -1


# --- the C kernel through cffi --------------------------------------------------------


def test_cffi_build_errors(cffi_vrrp):
    ffi, lib = cffi_vrrp
    a = ffi.new("struct fk_vrrp_advert *")
    a.version, a.vrid, a.priority, a.count, a.family, a.advert_int_cs = 2, 1, 100, 1, lib.FK_VRRP_IPV4, 100
    out = ffi.new("uint8_t[]", lib.FK_VRRP_MAX_LEN)
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == 20
    assert lib.fk_vrrp_build(out, 19, a, ffi.NULL, ffi.NULL) == lib.FK_VRRP_EBUF
    a.auth_type = 2
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == 20  # AH: zero auth data
    assert ffi.buffer(out, 20)[4] == b"\x02" and ffi.buffer(out, 20)[12:20] == bytes(8)
    a.auth_type = 3
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == lib.FK_VRRP_EINVAL
    a.auth_type = 0
    a.advert_int_cs = 150
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == lib.FK_VRRP_EINVAL
    a.version, a.advert_int_cs = 3, 150
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == lib.FK_VRRP_EINVAL  # pseudo form needs src, dst
    a.checksum_form = lib.FK_VRRP_CSUM_PLAIN
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == 12
    a.count = 0
    assert lib.fk_vrrp_build(out, 20, a, ffi.NULL, ffi.NULL) == lib.FK_VRRP_EINVAL
    assert lib.fk_vrrp_length(2, 4, 255) == 8 + 255 * 4 + 8
    assert lib.fk_vrrp_length(3, 6, 255) == lib.FK_VRRP_MAX_LEN - 8
    assert lib.fk_vrrp_length(3, 5, 1) == 0


@settings(max_examples=400)
@given(st.one_of(st.ip_addresses(v=4).map(str), st.text(alphabet="0123456789.", max_size=20),
                 st.text(max_size=20)))
def test_cffi_pton4_is_inet_pton(cffi_vrrp, text):
    ffi, lib = cffi_vrrp
    raw = text.encode("utf-8", "surrogatepass")
    out = ffi.new("uint8_t[4]")
    try:
        want = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        want = None
    got = bytes(out) if lib.fk_vrrp_pton4(raw, len(raw), out) else None
    assert got == want


@given(st.binary(min_size=4, max_size=4))
def test_cffi_ntop4_is_inet_ntop(cffi_vrrp, addr):
    ffi, lib = cffi_vrrp
    out = ffi.new("char[16]")
    n = lib.fk_vrrp_ntop4(addr, out)
    assert ffi.buffer(out, n)[:].decode() == socket.inet_ntop(socket.AF_INET, addr)


@settings(max_examples=500)
@given(st.one_of(
    st.binary(min_size=16, max_size=16),
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x12, 0xABC, 0x1234]), min_size=8, max_size=8).map(
        lambda ws: b"".join(w.to_bytes(2, "big") for w in ws)),
    st.binary(min_size=4, max_size=4).map(lambda v4: bytes(12) + v4),
    st.binary(min_size=4, max_size=4).map(lambda v4: bytes(10) + b"\xff\xff" + v4),
))
def test_cffi_ntop6_is_inet_ntop(cffi_vrrp, addr):
    ffi, lib = cffi_vrrp
    out = ffi.new("char[48]")
    n = lib.fk_vrrp_ntop6(addr, out)
    assert ffi.buffer(out, n)[:].decode() == socket.inet_ntop(socket.AF_INET6, addr)


# --- properties ------------------------------------------------------------------------


@st.composite
def advert_args(draw):
    version = draw(st.sampled_from([2, 3]))
    family = 4 if version == 2 else draw(st.sampled_from([4, 6]))
    ip = st.ip_addresses(v=family).map(str)
    args = dict(
        version=version,
        vrid=draw(st.integers(1, 255)),
        priority=draw(st.integers(0, 255)),
        advert_int_cs=draw(st.integers(1, 255)) * 100 if version == 2 else draw(st.integers(1, 4095)),
        addresses=draw(st.lists(ip, min_size=1, max_size=255)),
        src=draw(ip),
        dst=draw(ip),
    )
    if version == 2 and draw(st.booleans()):
        args.update(auth_type=1, auth_data=draw(st.binary(min_size=1, max_size=8)))
    if version == 3 and family == 4:
        args["v3_checksum_as_v2"] = draw(st.booleans())
    return args


def expected_form(args: dict, length: int) -> str:
    if args["version"] == 2:
        return "v2"
    if ":" in args["src"] or not args.get("v3_checksum_as_v2"):
        return "pseudo"
    # a plain-form message also passes the pseudo check when the pseudo-header sums to
    # zero (mod 0xffff); parse reports "pseudo" first then
    p = pure_csum.sum16(pseudo_header(args["src"], args["dst"], length))
    return "pseudo" if p % 0xFFFF == 0 else "plain"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(advert_args())
def test_round_trip(advert_impl, args):
    msg = advert_impl.build_advert(**args)
    auth = args.get("auth_data", b"") if args["version"] == 2 else None
    adv = advert_impl.parse_advert(msg, src=args["src"], dst=args["dst"], auth_data=auth)
    assert (adv.version, adv.type, adv.vrid, adv.priority, adv.advert_int_cs) == (
        args["version"], 1, args["vrid"], args["priority"], args["advert_int_cs"])
    assert adv.auth_type == args.get("auth_type", 0)
    assert [packed(a) for a in adv.addresses] == [packed(a) for a in args["addresses"]]
    assert adv.checksum_form == expected_form(args, len(msg))


@pytest.mark.skipif(fastka.native is None, reason="no native core")
@settings(max_examples=150)
@given(advert_args())
def test_native_builds_what_twin_builds(args):
    msg = fastka.native.build_advert(**args)
    assert msg == pure_advert.build_advert(**args)
    k = dict(src=args["src"], dst=args["dst"])
    assert fastka.native.parse_advert(msg, **k) == pure_advert.parse_advert(msg, **k)


def outcome(impl, msg, **k):
    try:
        return impl.parse_advert(msg, **k)
    except AdvertError as e:
        return e.reason


ENDPOINTS = st.sampled_from([V4, V6, ("192.0.2.1", "192.0.2.2"), ("2001:db8::1", "2001:db8::2")])
PARSE_KW = st.fixed_dictionaries({
    "ttl": st.sampled_from([255, 255, 255, 64]),
    "auth_data": st.one_of(st.none(), st.binary(max_size=8)),
})


@st.composite
def mutated_adverts(draw):
    """A valid advert, then byte edits / truncation / extension, checksum often re-fixed,
    so that the later checks (interval, auth, addresses) are reached too."""
    args = draw(advert_args())
    msg = bytearray(pure_advert.build_advert(**args))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(msg) - 1))
        msg[i] = draw(st.integers(0, 255))
    cut = draw(st.integers(-3, 3))
    msg = msg[:cut] if cut < 0 else msg + bytes(cut)
    if len(msg) >= 8 and draw(st.booleans()):
        msg = bytearray(with_checksum(msg, draw(st.sampled_from(["v2", "pseudo"])), args["src"], args["dst"]))
    return bytes(msg), (args["src"], args["dst"])


@pytest.mark.skipif(fastka.native is None, reason="no native core")
@settings(max_examples=400)
@given(st.one_of(st.tuples(st.binary(max_size=80), ENDPOINTS), mutated_adverts()), PARSE_KW)
def test_native_equals_twin_on_any_bytes(case, k):
    msg, (src, dst) = case
    want = outcome(pure_advert, msg, src=src, dst=dst, **k)
    got = outcome(fastka.native, msg, src=src, dst=dst, **k)
    assert got == want
    if isinstance(want, Advert):
        assert type(got) is Advert


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), ENDPOINTS, PARSE_KW)
def test_parse_never_crashes(advert_impl, msg, ends, k):
    res = outcome(advert_impl, msg, src=ends[0], dst=ends[1], **k)
    assert isinstance(res, Advert) or res in REASONS


@settings(max_examples=300)
@given(st.one_of(st.tuples(st.binary(max_size=80), ENDPOINTS), mutated_adverts()), PARSE_KW)
def test_cffi_parse_agrees(cffi_vrrp, case, k):
    """The C kernel bound a second way (cffi, an exact-size buffer) gives the twin's reason."""
    ffi, lib = cffi_vrrp
    msg, (src, dst) = case
    want = outcome(pure_advert, msg, src=src, dst=dst, **k)
    out = ffi.new("struct fk_vrrp_advert *")
    buf = ffi.new("uint8_t[]", max(len(msg), 1))
    ffi.memmove(buf, msg, len(msg))
    auth = k["auth_data"]
    expect = -1 if auth is None else (1 if auth else 0)
    family = 6 if ":" in src else 4
    r = lib.fk_vrrp_parse(out, buf, len(msg), family, packed(src), packed(dst), k["ttl"], expect,
                          (auth or b"").ljust(8, b"\0"))
    if isinstance(want, Advert):
        assert r == lib.FK_VRRP_OK
        alen = 4 if family == 4 else 16
        assert (out.version, out.vrid, out.priority, out.advert_int_cs, out.auth_type, out.count) == (
            want.version, want.vrid, want.priority, want.advert_int_cs, want.auth_type, len(want.addresses))
        assert ffi.buffer(out.addrs, out.count * alen)[:] == b"".join(packed(a) for a in want.addresses)
    else:
        assert r == REASONS.index(want) + 1


# --- scapy: an oracle we did not write ---------------------------------------------------


@pytest.fixture(scope="module")
def scapy_vrrp():
    pytest.importorskip("scapy.layers.vrrp", reason="scapy is not installed (pip install -e .[test])")
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.vrrp import VRRP, VRRPv3

    return IP, IPv6, VRRP, VRRPv3


def under_ip(scapy_vrrp, src, dst, payload):
    IP, IPv6, _, _ = scapy_vrrp
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=255, nh=112) / payload
    return IP(src=src, dst=dst, ttl=255, proto=112) / payload


def ip_payload(pkt) -> bytes:
    raw = bytes(pkt)
    return raw[40:] if raw[0] >> 4 == 6 else raw[(raw[0] & 0xF) * 4:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(advert_args())
def test_scapy_decodes_what_we_build(advert_impl, scapy_vrrp, args):
    from scapy.packet import Raw
    from scapy.utils import checksum as scapy_checksum

    IP, IPv6, VRRP, VRRPv3 = scapy_vrrp
    src, dst = args["src"], args["dst"]
    msg = advert_impl.build_advert(**args)
    wire = bytes(under_ip(scapy_vrrp, src, dst, Raw(msg)))
    pkt = IPv6(wire) if ":" in src else IP(wire)
    layer = pkt[VRRP] if args["version"] == 2 else pkt[VRRPv3]
    assert (layer.version, layer.type, layer.vrid, layer.priority, layer.ipcount) == (
        args["version"], 1, args["vrid"], args["priority"], len(args["addresses"]))
    assert [packed(a) for a in layer.addrlist] == [packed(a) for a in args["addresses"]]
    if args["version"] == 2:
        assert layer.adv * 100 == args["advert_int_cs"]
        assert layer.authtype == args.get("auth_type", 0)
        auth = struct.pack("!II", layer.auth1, layer.auth2)
        assert auth == args.get("auth_data", b"").ljust(8, b"\0")
    else:
        assert layer.adv == args["advert_int_cs"] and layer.res == 0
    # scapy's own checksum: the same packet rebuilt with chksum=None
    if args.get("v3_checksum_as_v2"):
        assert scapy_checksum(msg[:6] + b"\0\0" + msg[8:]) == layer.chksum
    else:
        layer.chksum = None
        assert ip_payload(pkt) == msg


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(advert_args())
def test_we_parse_what_scapy_builds(advert_impl, scapy_vrrp, args):
    IP, IPv6, VRRP, VRRPv3 = scapy_vrrp
    src, dst = args["src"], args["dst"]
    assume(not args.get("v3_checksum_as_v2"))  # scapy builds only the pseudo form for v3
    if args["version"] == 2:
        auth = args.get("auth_data", b"").ljust(8, b"\0")
        a1, a2 = struct.unpack("!II", auth)
        layer = VRRP(vrid=args["vrid"], priority=args["priority"], adv=args["advert_int_cs"] // 100,
                     authtype=args.get("auth_type", 0), auth1=a1, auth2=a2, addrlist=args["addresses"])
    else:
        layer = VRRPv3(vrid=args["vrid"], priority=args["priority"], adv=args["advert_int_cs"],
                       addrlist=args["addresses"])
    msg = ip_payload(under_ip(scapy_vrrp, src, dst, layer))
    adv = advert_impl.parse_advert(msg, src=src, dst=dst,
                                   auth_data=args.get("auth_data", b"") if args["version"] == 2 else None)
    assert (adv.version, adv.vrid, adv.priority, adv.advert_int_cs, adv.auth_type) == (
        args["version"], args["vrid"], args["priority"], args["advert_int_cs"], args.get("auth_type", 0))
    assert [packed(a) for a in adv.addresses] == [packed(a) for a in args["addresses"]]
    assert adv.checksum_form == ("v2" if args["version"] == 2 else "pseudo")
    assert msg == advert_impl.build_advert(**args)


# --- tshark: Wireshark's VRRP dissector checks our checksums ----------------------------------


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (apt-get install tshark)")
def test_tshark_checksums_good(advert_impl, scapy_vrrp, tmp_path):
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    cases = [  # (build args, v3_checksum_as_in_v2 preference, expected status: 1 good, 0 bad)
        (kw(version=2, addresses=["10.0.0.10", "10.0.0.11"]), "FALSE", "1"),
        (kw(version=2, auth_type=1, auth_data=b"secret"), "FALSE", "1"),
        (kw(addresses=["10.0.0.10", "10.0.0.11"], advert_int_cs=25), "FALSE", "1"),
        (kw(addresses=["10.0.0.10"], v3_checksum_as_v2=True), "TRUE", "1"),
        (kw(addresses=["2001:db8::10", "2001:db8::11"], src=V6[0], dst=V6[1]), "FALSE", "1"),
        (kw(addresses=["10.0.0.10"], v3_checksum_as_v2=True), "FALSE", "0"),  # the dissector does check
    ]
    results = []
    for pref in ("FALSE", "TRUE"):
        pcap = tmp_path / f"adverts-{pref}.pcap"
        pkts = []
        for args, _, _ in (c for c in cases if c[1] == pref):
            msg = advert_impl.build_advert(**args)
            v6 = ":" in args["src"]
            eth = Ether(src="00:00:5e:00:%02x:%02x" % (2 if v6 else 1, args["vrid"]),
                        dst="33:33:00:00:00:12" if v6 else "01:00:5e:00:00:12")
            pkts.append(eth / under_ip(scapy_vrrp, args["src"], args["dst"], Raw(msg)))
        wrpcap(str(pcap), pkts)
        out = subprocess.run(
            [TSHARK, "-n", "-r", str(pcap), "-o", f"vrrp.v3_checksum_as_in_v2:{pref}", "-T", "fields",
             "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.checksum.status"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.split("\n")
        results += [line.split("\t") for line in out if line.strip()]
    want = [[str(a["version"]), str(a["priority"]), status] for pref in ("FALSE", "TRUE")
            for a, p, status in cases if p == pref]
    assert results == want


def test_cffi_link_local_first(cffi_vrrp):
    ffi, lib = cffi_vrrp
    a = ffi.new("struct fk_vrrp_advert *")
    a.family, a.count = lib.FK_VRRP_IPV6, 2
    for first, want in ((b"\xfe\x80", 1), (b"\xfe\xbf", 1), (b"\xfe\xc0", 0), (b"\x20\x01", 0)):
        a.addrs[0:2] = list(first)
        assert lib.fk_vrrp_ll_first(a) == want
    a.family = lib.FK_VRRP_IPV4
    assert lib.fk_vrrp_ll_first(a) == 1
