"""VRRPv2 IP AH (auth type 2), pure Python: the twin of csrc/ah.c + _native/ah.pxi.

Same functions, arguments, results, reasons and error messages as the native core
(fastka.wire.ah documents the API).
"""

from __future__ import annotations

import hashlib
import hmac
import operator
import struct
from socket import inet_ntoa

from .addr import _pton
from .checksum import checksum

AH_PROTO = 51
AH_LEN = 24
IP4_HDR_LEN = 20
_IP = struct.Struct("!BBHHHBBH4s4s")
_AH = struct.Struct("!BBH4sI")


def _key(auth_data: object) -> bytes:
    if not isinstance(auth_data, (bytes, bytearray)):
        raise TypeError(f"auth_data must be bytes, not {type(auth_data).__name__}")
    if not 1 <= len(auth_data) <= 8:
        raise ValueError("auth_data (the AH key, auth_pass) is 1..8 bytes")
    return bytes(auth_data).ljust(8, b"\0")


def _ranged(value: object, hi: int, what: str) -> int:
    v = operator.index(value)  # type: ignore[arg-type]
    if not 0 <= v <= hi:
        raise ValueError(f"{what} must be 0..{hi}, got {value!r}")
    return v


def _icv(headers: bytearray, ihl: int, rest: bytes | memoryview, key: bytes, unicast: bool) -> bytes:
    headers[1] = 0  # TOS
    headers[6:8] = b"\0\0"  # flags + fragment offset
    headers[10:12] = b"\0\0"  # header checksum
    if unicast:
        headers[8] = 0  # TTL
    headers[ihl + 12 : ihl + 24] = bytes(12)
    mac = hmac.new(key, headers, hashlib.md5)
    mac.update(rest)
    return mac.digest()[:12]


def build_ah_packet(
    *,
    message: bytes | bytearray,
    src: str,
    dst: str,
    seq: int,
    auth_data: bytes | bytearray,
    ip_id: int = 0,
    tos: int = 0xC0,
    unicast: bool = False,
) -> bytes:
    """IPv4 header + AH + message, ICV and header checksum filled."""
    if not isinstance(message, (bytes, bytearray)):
        raise TypeError(f"message must be bytes, not {type(message).__name__}")
    s = _pton("src", src, 4)
    d = _pton("dst", dst, 4)
    seq = _ranged(seq, 0xFFFFFFFF, "seq")
    ip_id = _ranged(ip_id, 0xFFFF, "ip_id")
    tos = _ranged(tos, 0xFF, "tos")
    key = _key(auth_data)
    total = IP4_HDR_LEN + AH_LEN + len(message)
    if total > 0xFFFF:
        raise ValueError("message too long for an IPv4 datagram")
    head = bytearray(IP4_HDR_LEN + AH_LEN)
    _IP.pack_into(head, 0, 0x45, tos, total, ip_id, 0, 255, AH_PROTO, 0, s, d)
    _AH.pack_into(head, IP4_HDR_LEN, 112, AH_LEN // 4 - 2, 0, s, seq)
    icv = _icv(bytearray(head), IP4_HDR_LEN, bytes(message), key, bool(unicast))
    head[IP4_HDR_LEN + 12 :] = icv
    head[10:12] = checksum(bytes(head[:IP4_HDR_LEN])).to_bytes(2, "big")
    return bytes(head) + bytes(message)


def parse_ah_packet(
    packet: bytes | bytearray | memoryview,
    *,
    auth_data: bytes | bytearray,
    last_seq: int | None = None,
    unicast: bool = False,
) -> AhPacket:
    """Check an IPv4 datagram carrying AH + VRRP; see fastka.wire.ah."""
    key = _key(auth_data)
    if last_seq is not None:
        last_seq = _ranged(last_seq, 0xFFFFFFFF, "last_seq")
    p = bytes(packet)
    n = len(p)
    if n < IP4_HDR_LEN or p[0] >> 4 != 4:
        raise AdvertError("length")
    ihl = (p[0] & 15) * 4
    if ihl < IP4_HDR_LEN or n < ihl + AH_LEN or int.from_bytes(p[2:4], "big") != n:
        raise AdvertError("length")
    if p[9] != AH_PROTO or p[ihl] != 112 or p[ihl + 1] != AH_LEN // 4 - 2:
        raise AdvertError("auth")
    icv = _icv(bytearray(p[: ihl + AH_LEN]), ihl, p[ihl + AH_LEN :], key, bool(unicast))
    ok = hmac.compare_digest(icv, p[ihl + 12 : ihl + 24])
    if not ok or p[ihl + 4 : ihl + 8] != p[12:16]:
        raise AdvertError("auth")
    seq = int.from_bytes(p[ihl + 8 : ihl + 12], "big")
    if last_seq is not None and seq <= last_seq:
        raise AdvertError("replay")
    return AhPacket(seq, inet_ntoa(p[12:16]), inet_ntoa(p[16:20]), p[8], p[ihl + AH_LEN :])


# At the bottom, so that fastka.wire.ah (which imports this module) finds the
# functions above even when this module is imported first.
from fastka.wire.advert import AdvertError  # noqa: E402
from fastka.wire.ah import AhPacket  # noqa: E402
