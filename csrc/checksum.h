/* Internet checksum (RFC 1071) with partial sums, so callers can add a
 * pseudo-header, and RFC 1624 incremental update.
 *
 * Plain C99, no Python headers: bound by Cython (src/fastka/_native) for the
 * daemon and by cffi (tests/native) for tests.
 */
#ifndef FASTKA_CHECKSUM_H
#define FASTKA_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add the 16-bit big-endian words of data[0..len) to acc (an odd last byte is
 * padded with zero, as RFC 1071 says). The result is an unfolded partial sum:
 * feed it back as acc to continue over another buffer, which must then start on
 * an even offset of the checksummed stream. */
uint64_t fk_sum16(const uint8_t *data, size_t len, uint64_t acc);

/* Fold a partial sum to 16 bits and complement it: the value to store. */
uint16_t fk_fold(uint64_t acc);

/* fk_fold(fk_sum16(data, len, 0)). */
uint16_t fk_checksum(const uint8_t *data, size_t len);

/* RFC 1624 eqn. 3: the new checksum after one 16-bit word changes from
 * old_word to new_word (HC' = ~(~HC + ~m + m')). */
uint16_t fk_checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word);

#endif
