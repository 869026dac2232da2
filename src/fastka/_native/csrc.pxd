# C declarations of csrc/, in one place (every .pyx cimports them from here).
from libc.stdint cimport uint8_t, uint16_t, uint64_t


cdef extern from "checksum.h" nogil:
    uint64_t fk_sum16(const uint8_t *data, size_t len, uint64_t acc)
    uint16_t fk_fold(uint64_t acc)
    uint16_t fk_checksum(const uint8_t *data, size_t len)
    uint16_t fk_checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)
