#include "checksum.h"

#include <string.h>

uint64_t fk_sum16(const uint8_t *data, size_t len, uint64_t acc)
{
    /* Sum 32-bit big-endian words into a 64-bit accumulator: the carries
     * stay in the high half and fold out at the end (RFC 1071 sec. 2(C)),
     * and 64 bits cannot overflow below 2^32 words. */
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, data, 4);
        acc += (uint32_t)((w >> 24) | ((w >> 8) & 0xff00u) | ((w << 8) & 0xff0000u) | (w << 24));
        data += 4;
        len -= 4;
    }
    if (len >= 2) {
        acc += ((uint32_t)data[0] << 8) | data[1];
        data += 2;
        len -= 2;
    }
    if (len)
        acc += (uint32_t)data[0] << 8;
    return acc;
}

uint16_t fk_fold(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

uint16_t fk_checksum(const uint8_t *data, size_t len)
{
    return fk_fold(fk_sum16(data, len, 0));
}

uint16_t fk_checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)
{
    uint64_t acc = (uint16_t)~checksum;
    acc += (uint16_t)~old_word;
    acc += new_word;
    return fk_fold(acc);
}
