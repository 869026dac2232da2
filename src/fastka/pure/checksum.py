"""Internet checksum (RFC 1071, RFC 1624), pure Python: the twin of csrc/checksum.c."""

from __future__ import annotations

import sys

_SWAP = sys.byteorder == "little"


def sum16(data: bytes | bytearray | memoryview, acc: int = 0) -> int:
    """Partial sum of data's 16-bit big-endian words, added to acc.

    Unfolded partial sums are only comparable after `fold` (the C kernel adds
    32-bit words, which folds to the same value)."""
    b = bytes(data)
    if len(b) % 2:
        b += b"\0"
    if not b:
        return acc
    words = memoryview(b).cast("H")
    if _SWAP:
        return acc + sum(((w & 0xFF) << 8) | (w >> 8) for w in words)
    return acc + sum(words)


def fold(acc: int) -> int:
    """Fold a partial sum to 16 bits and complement it."""
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return ~acc & 0xFFFF


def checksum(data: bytes | bytearray | memoryview) -> int:
    return fold(sum16(data, 0))


def checksum_update16(checksum: int, old_word: int, new_word: int) -> int:
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')."""
    return fold((~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word)
