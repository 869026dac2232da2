"""Wire formats: checksums, the VRRP advert codec, IPVS generic netlink messages.

Every function here is served by the native core when ``fastka.backend == "native"``
and by its pure-Python twin otherwise; both behave identically (tests run both).
"""

from __future__ import annotations

from .. import native as _native
from ..pure import checksum as _pure_checksum

_impl = _native if _native is not None else _pure_checksum

checksum = _impl.checksum
sum16 = _impl.sum16
fold = _impl.fold
checksum_update16 = _impl.checksum_update16

from .advert import (  # noqa: E402
    Advert,
    AdvertError,
    build_advert,
    link_local_first,
    parse_advert,
    set_advert_priority,
)
from .ah import AhPacket, build_ah_packet, parse_ah_packet  # noqa: E402
from . import ipvs  # noqa: E402  (IPVS messages: fastka.wire.ipvs.Batch, parse_replies, ...)
from .ipvs import IpvsSocket, IpvsUnavailable  # noqa: E402

__all__ = [
    "Advert",
    "AdvertError",
    "AhPacket",
    "build_advert",
    "build_ah_packet",
    "checksum",
    "checksum_update16",
    "fold",
    "link_local_first",
    "ipvs",
    "IpvsSocket",
    "IpvsUnavailable",
    "parse_advert",
    "parse_ah_packet",
    "set_advert_priority",
    "sum16",
]
