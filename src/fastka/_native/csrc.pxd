# C declarations of csrc/, in one place (every .pxi cimports them from here).
# One section per kernel header; each section is owned by that kernel.
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t


# --- checksum.h ----------------------------------------------------------------
cdef extern from "checksum.h" nogil:
    uint64_t fk_sum16(const uint8_t *data, size_t len, uint64_t acc)
    uint16_t fk_fold(uint64_t acc)
    uint16_t fk_checksum(const uint8_t *data, size_t len)
    uint16_t fk_checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)


# --- vrrp.h (advert codec) -------------------------------------------------------


# --- timerwheel.h ----------------------------------------------------------------
