"""VRRP advertisement codec, pure Python: the twin of csrc/vrrp.c + _native/advert.pxi.

Same functions, arguments, results, reasons and error messages as the native core
(fastka.wire.advert documents the API and the order of the checks).
"""

from __future__ import annotations

import operator
import struct
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton
from typing import TYPE_CHECKING

from .addr import _pton
from .checksum import checksum_update16, fold, sum16

if TYPE_CHECKING:
    from collections.abc import Iterable

PROTO = 112
AH_KEY_ELSEWHERE = (
    "auth_type 2 (IP AH): the message carries no auth data; the key goes to build_ah_packet"
)
_HDR = struct.Struct("!BBBBBBH")  # ver|type, vrid, priority, count, (v2) auth type, (v2) interval, checksum
_CSUM = struct.Struct("!H")


def _ranged(value: object, lo: int, hi: int, what: str) -> int:
    v = operator.index(value)  # type: ignore[arg-type]
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be {lo}..{hi}, got {value!r}")
    return v


def _endpoints(src: object, dst: object) -> tuple[int, bytes, bytes]:
    s = _pton("src", src, 0)
    family = 4 if len(s) == 4 else 6
    return family, s, _pton("dst", dst, family)


def _auth_bytes(auth_data: object) -> bytes:
    if not isinstance(auth_data, (bytes, bytearray)):
        raise TypeError(f"auth_data must be bytes, not {type(auth_data).__name__}")
    if len(auth_data) > 8:
        raise ValueError("auth_data is at most 8 bytes")
    return bytes(auth_data).ljust(8, b"\0")


def _pseudo_sum(s: bytes, d: bytes, length: int) -> int:
    # IPv4 (src, dst, 0, 112, length) and IPv6 (src, dst, 32-bit length, 0, 0, 0, 112)
    # pseudo-headers have the same sum: src + dst + 112 + length.
    return sum16(d, sum16(s, 0)) + PROTO + length


def build_advert(
    *,
    version: int,
    vrid: int,
    priority: int,
    advert_int_cs: int,
    addresses: Iterable[str],
    src: str,
    dst: str,
    auth_type: int = 0,
    auth_data: bytes | bytearray | None = b"",
    v3_checksum_as_v2: bool = False,
) -> bytes:
    """The VRRP message (IP payload), checksum included."""
    v = operator.index(version)
    if v not in (2, 3):
        raise ValueError(f"version must be 2 or 3, got {version!r}")
    version = v
    vrid = _ranged(vrid, 1, 255, "vrid")
    priority = _ranged(priority, 0, 255, "priority")
    if version == 2:
        interval = _ranged(advert_int_cs, 100, 25500, "VRRPv2 advert_int_cs")
        if interval % 100:
            raise ValueError(f"VRRPv2 advert_int_cs must be whole seconds (a multiple of 100), got {advert_int_cs!r}")
    else:
        interval = _ranged(advert_int_cs, 1, 4095, "VRRPv3 advert_int_cs")
    family, s, d = _endpoints(src, dst)
    if version == 2 and family == 6:
        raise ValueError("VRRPv2 is IPv4 only (use version 3 for IPv6)")
    if isinstance(addresses, str):
        raise TypeError("addresses must be a sequence of address strings, not a str")
    if type(addresses) is not list and type(addresses) is not tuple:
        addresses = tuple(addresses)
    count = len(addresses)
    if not 1 <= count <= 255:
        raise ValueError(f"a VRRP advertisement carries 1..255 addresses, got {count}")
    auth_type = operator.index(auth_type)
    if auth_data is None:
        auth_data = b""
    if version == 3:
        if auth_type or auth_data:
            raise ValueError("VRRPv3 carries no authentication (auth_type 0, no auth_data)")
    elif auth_type == 2:
        if auth_data:
            raise ValueError(AH_KEY_ELSEWHERE)
        auth = bytes(8)
    elif auth_type not in (0, 1):
        raise ValueError(f"auth_type must be 0 (none), 1 (simple text) or 2 (IP AH), got {auth_type!r}")
    else:
        auth = _auth_bytes(auth_data)
        if auth_type == 0 and auth_data:
            raise ValueError("auth_data needs auth_type 1 (simple text)")
        if auth_type == 1 and not auth_data:
            raise ValueError("auth_type 1 (simple text) needs auth_data (1..8 bytes)")

    alen = len(s)
    body = 8 + count * alen
    n = body + 8 if version == 2 else body
    buf = bytearray(n)
    if version == 2:
        _HDR.pack_into(buf, 0, 0x21, vrid, priority, count, auth_type, interval // 100, 0)
        buf[body:] = auth
    else:
        _HDR.pack_into(buf, 0, 0x31, vrid, priority, count, interval >> 8, interval & 0xFF, 0)
    af = AF_INET6 if family == 6 else AF_INET
    o = 8
    for i, a in enumerate(addresses):
        if not isinstance(a, str):
            raise TypeError(f"addresses[{i}] must be an address string, not {type(a).__name__}")
        try:
            buf[o : o + alen] = inet_pton(af, a)
        except (OSError, ValueError):
            raise ValueError(f"addresses[{i}]: invalid IPv{family} address {a!r}") from None
        o += alen
    acc = 0
    if version == 3 and (family == 6 or not v3_checksum_as_v2):
        acc = _pseudo_sum(s, d, n)
    _CSUM.pack_into(buf, 6, fold(sum16(buf, acc)))
    return bytes(buf)


def parse_advert(
    message: bytes | bytearray | memoryview,
    *,
    src: str,
    dst: str,
    ttl: int = 255,
    auth_data: bytes | bytearray | None = None,
) -> Advert:
    """Validate a received VRRP message; the Advert, or AdvertError(reason)."""
    family, s, d = _endpoints(src, dst)
    expect = -1
    if auth_data is not None:
        auth = _auth_bytes(auth_data)
        expect = 1 if auth_data else 0
    mv = memoryview(message)
    if not mv.c_contiguous:
        raise BufferError("message must be a contiguous buffer")
    m = mv.tobytes()

    if ttl != 255:
        raise AdvertError("ttl")
    n = len(m)
    if n < 8:
        raise AdvertError("length")
    vt, vrid, priority, count, b4, b5, _ = _HDR.unpack_from(m)
    version = vt >> 4
    if version not in (2, 3) or (version == 2 and family == 6):
        raise AdvertError("version")
    if vt & 0x0F != 1:
        raise AdvertError("type")
    if count == 0:
        raise AdvertError("count")
    alen = len(s)
    body = 8 + count * alen
    if n != (body + 8 if version == 2 else body):
        raise AdvertError("length")
    acc = sum16(m, 0)
    if version == 2:
        if fold(acc):
            raise AdvertError("checksum")
        form = "v2"
        auth_type = b4
        interval = b5 * 100
    else:
        if fold(acc + _pseudo_sum(s, d, n)) == 0:
            form = "pseudo"
        elif family == 4 and fold(acc) == 0:
            form = "plain"
        else:
            raise AdvertError("checksum")
        auth_type = 0
        interval = ((b4 & 0x0F) << 8) | b5
    if interval == 0:
        raise AdvertError("interval")
    if version == 2 and expect >= 0:
        if auth_type != expect or (expect == 1 and m[body:] != auth):
            raise AdvertError("auth")
    af = AF_INET6 if family == 6 else AF_INET
    addresses = tuple([inet_ntop(af, m[o : o + alen]) for o in range(8, body, alen)])
    return Advert(version, 1, vrid, priority, interval, auth_type, addresses, form)


def set_advert_priority(message: bytearray | memoryview, priority: int) -> None:
    """Set the priority of a built message in place, updating its checksum (RFC 1624)."""
    mv = memoryview(message)
    if not mv.c_contiguous:
        raise BufferError("message must be a contiguous buffer")
    if mv.readonly:
        raise TypeError("message must be a writable buffer (bytearray)")
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    prio = _ranged(priority, 0, 255, "priority")
    if mv.nbytes < 8:
        raise ValueError("message is shorter than a VRRP header")
    old = (mv[2] << 8) | mv[3]
    csum = (mv[6] << 8) | mv[7]
    csum = checksum_update16(csum, old, (prio << 8) | mv[3])
    mv[6] = csum >> 8
    mv[7] = csum & 0xFF
    mv[2] = prio


# At the bottom, so that fastka.wire.advert (which imports this module) finds the
# functions above even when this module is imported first.
from fastka.wire.advert import Advert, AdvertError  # noqa: E402
