"""VRRPv2 authentication type 2: IP Authentication Header with HMAC-MD5-96, as
keepalived sends and checks it (IPv4 only; VRRPv3 has no authentication).

``build_ah_packet`` wraps a VRRP message built with ``build_advert(auth_type=2)`` into
a whole IPv4 datagram (for a raw socket with IP_HDRINCL): IPv4 header (TOS, ID as
given, TTL 255, protocol 51, header checksum filled), AH (next header 112, SPI = the
source address, the sequence number, the 96-bit ICV), the message. The ICV is
HMAC-MD5 keyed with ``auth_data`` (auth_pass, 1..8 bytes, zero padded to 8) over the IP
header with TOS, flags/fragment offset and checksum zeroed (and TTL too when
``unicast``), the AH with its ICV zeroed, and the message.

``parse_ah_packet`` checks a received datagram (IP header included, as a raw IPv4
socket returns it) and returns an :class:`AhPacket`; the VRRP message in it still goes
through ``parse_advert`` (with ``ttl=AhPacket.ttl``). Failures raise
``fastka.wire.AdvertError`` with reason ``length`` (short, bad header length, total
length differs from what was received), ``auth`` (not AH, next header not VRRP, ICV
mismatch - a wrong key or a changed packet -, SPI not the source address) or
``replay`` (``last_seq`` given and the sequence number is not above it).

Anti-replay, as keepalived does it: an instance keeps one counter; it raises it to
each accepted sequence number and sends counter + 1, so a backup that becomes master
continues the sequence its peers already accept.
"""

from __future__ import annotations

from typing import NamedTuple


class AhPacket(NamedTuple):
    """A received AH datagram whose ICV, SPI and sequence number checked out."""

    seq: int
    src: str
    dst: str
    ttl: int
    message: bytes
    """The VRRP message after the AH."""


from .. import native as _native  # noqa: E402  (AhPacket must exist first)
from ..pure import ah as _pure  # noqa: E402

_impl = _native if _native is not None else _pure

build_ah_packet = _impl.build_ah_packet
parse_ah_packet = _impl.parse_ah_packet

__all__ = ["AhPacket", "build_ah_packet", "parse_ah_packet"]
