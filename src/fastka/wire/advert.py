"""VRRP advertisements (RFC 3768 VRRPv2, RFC 9568 VRRPv3): build and parse + validate.

``build_advert`` returns the VRRP message (the IP payload, checksum included);
``parse_advert`` validates a received one and returns an :class:`Advert`, or raises
:class:`AdvertError` naming the check that failed. Both are the native core's when it
is loaded (``fastka.backend == "native"``) and the pure-Python twin's otherwise; the two
give identical bytes, fields and reasons.

Addresses are strings. The address family is taken from ``src``: a ``":"`` in it means
IPv6, otherwise IPv4; ``dst`` and the advertised addresses must be of the same family.

Checksums: v2 over the message; v3 over IPv6 with the IPv6 pseudo-header; v3 over IPv4
with the IPv4 pseudo-header by default (keepalived's form, reported as ``"pseudo"``) or
over the message only (``v3_checksum_as_v2=True``, RFC 9568's text, reported as
``"plain"``). ``parse_advert`` accepts both v3 IPv4 forms.

``parse_advert(..., auth_data=...)``: ``None`` (default) checks no v2 authentication;
``b""`` expects auth type 0; non-empty bytes (at most 8) expect auth type 1 (simple
text) with that text, zero padded. VRRPv3 carries no authentication: ignored there.

Checks run in this order, the first failure is reported (``AdvertError.reason``):
``ttl`` (ttl / hop limit != 255, RFC 9568 7.1), ``length`` (under 8 bytes),
``version`` (not 2 or 3, or v2 over IPv6), ``type`` (not 1 = ADVERTISEMENT),
``count`` (no addresses), ``length`` (not what the count implies), ``checksum``,
``interval`` (advertisement interval 0), ``auth`` (v2, when auth_data is given).
Bad arguments (an unparsable ``src``, ``auth_data`` over 8 bytes, ...) raise
``ValueError`` / ``TypeError`` before any check.

``set_advert_priority(message, priority)`` changes the priority of a built message in
place (a writable buffer) with an RFC 1624 incremental checksum update.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple


class AdvertError(ValueError):
    """A received advertisement failed validation; ``reason`` names the check."""

    REASONS = {
        "ttl": "TTL / hop limit is not 255",
        "length": "length does not match the header and address count",
        "version": "not VRRP version 2 or 3 (or version 2 over IPv6)",
        "type": "not an ADVERTISEMENT (type 1)",
        "count": "no addresses",
        "checksum": "bad checksum",
        "interval": "advertisement interval is 0",
        "auth": "authentication type or data mismatch",
        "replay": "IP AH sequence number not above the last one accepted",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid VRRP advertisement: {self.reason} ({self.REASONS.get(self.reason, '?')})"


class Advert(NamedTuple):
    """A parsed, validated advertisement."""

    version: int
    type: int
    vrid: int
    priority: int
    advert_int_cs: int
    """Advertisement interval in centiseconds (v2: 100 x the seconds field)."""
    auth_type: int
    """v2 auth type (0 none, 1 simple text, 2 IP AH); always 0 for v3."""
    addresses: tuple[str, ...]
    checksum_form: str
    """``"v2"``, ``"pseudo"`` (v3 with the IP pseudo-header) or ``"plain"`` (v3 over
    IPv4, the message only)."""


def link_local_first(advert: Advert) -> bool:
    """Whether an IPv6 advertisement lists a link-local address (fe80::/10) first, as
    RFC 9568 sec. 7.1 asks; always True for IPv4. keepalived 2.2.7 lists only its VIPs,
    so receivers accept both and count the deviation (csrc/vrrp.h: fk_vrrp_ll_first)."""
    first = advert.addresses[0] if advert.addresses else ""
    if ":" not in first:
        return True
    return ipaddress.IPv6Address(first).is_link_local


from .. import native as _native  # noqa: E402  (the classes above must exist first)
from ..pure import advert as _pure  # noqa: E402

_impl = _native if _native is not None else _pure

build_advert = _impl.build_advert
parse_advert = _impl.parse_advert
set_advert_priority = _impl.set_advert_priority

__all__ = ["Advert", "AdvertError", "build_advert", "link_local_first", "parse_advert", "set_advert_priority"]
