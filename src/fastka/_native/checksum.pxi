# Internet checksum (RFC 1071 / RFC 1624) over csrc/checksum.c.
from libc.stdint cimport uint16_t, uint64_t

from fastka._native.csrc cimport fk_checksum, fk_checksum_update16, fk_fold, fk_sum16


def checksum(const unsigned char[::1] data not None):
    """RFC 1071 checksum of data: the 16-bit value to store in the header."""
    cdef size_t n = data.shape[0]
    if n == 0:
        return 0xFFFF
    return fk_checksum(&data[0], n)


def sum16(const unsigned char[::1] data not None, uint64_t acc=0):
    """Unfolded partial sum of data's 16-bit words, added to acc."""
    cdef size_t n = data.shape[0]
    if n == 0:
        return acc
    return fk_sum16(&data[0], n, acc)


def fold(uint64_t acc):
    """Fold and complement a partial sum into the 16-bit checksum."""
    return fk_fold(acc)


def checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word):
    """RFC 1624: the checksum after one 16-bit word changed from old_word to new_word."""
    return fk_checksum_update16(checksum, old_word, new_word)
