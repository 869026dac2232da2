"""Address text to bytes for the pure-Python twins, with the native core's messages."""

from __future__ import annotations

from socket import AF_INET, AF_INET6, inet_pton


def _pton(what: str, addr: object, family: int) -> bytes:
    """Packed address of family (4 or 6); family 0 means: take it from the string."""
    if not isinstance(addr, str):
        raise TypeError(f"{what} must be an address string, not {type(addr).__name__}")
    if family == 0:
        family = 6 if ":" in addr else 4
    try:
        return inet_pton(AF_INET6 if family == 6 else AF_INET, addr)
    except (OSError, ValueError):
        raise ValueError(f"{what}: invalid IPv{family} address {addr!r}") from None
