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

from .advert import Advert, AdvertError, build_advert, parse_advert, set_advert_priority  # noqa: E402
from . import ipvs  # noqa: E402  (IPVS messages: fastka.wire.ipvs.Batch, parse_replies, ...)
from .ipvs import IpvsSocket, IpvsUnavailable  # noqa: E402

__all__ = [
    "Advert",
    "AdvertError",
    "build_advert",
    "checksum",
    "checksum_update16",
    "fold",
    "ipvs",
    "IpvsSocket",
    "IpvsUnavailable",
    "parse_advert",
    "set_advert_priority",
    "sum16",
]
