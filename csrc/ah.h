/* VRRPv2 authentication type 2, IP Authentication Header, the way keepalived does it
 * (RFC 2402 AH carrying HMAC-MD5-96, RFC 2403), over IPv4 only.
 *
 * Packet: IPv4 header (20 bytes, protocol 51) | AH (24 bytes) | VRRP message.
 *   AH:   next header 112, payload length 4 (= 24 / 4 - 2), reserved 0,
 *         SPI = the IPv4 source address, sequence number, ICV (12 bytes).
 *   ICV:  the first 12 bytes of HMAC-MD5 (RFC 2104) keyed with the 8-byte zero-padded
 *         auth_pass, over the IP header with its mutable fields zeroed (TOS, flags +
 *         fragment offset, header checksum; and TTL when the instance is unicast,
 *         since routers may decrement it), then the AH with its ICV zeroed, then the
 *         VRRP message. (Measured against keepalived 2.2.7's packets: TTL 255 is
 *         covered for multicast.)
 *   Anti-replay: a receiver keeps the highest sequence number it accepted and drops
 *         a packet whose number is not higher; a sender counts on from the highest
 *         number it has sent or accepted (so a new master continues the sequence).
 *
 * MD5 is RFC 1321, written here so the extension needs no crypto library; MD5 is
 * what the protocol fixes, not a choice.
 *
 * Plain C99, no Python headers; declarations only, so cffi can cdef this header.
 */
#ifndef FASTKA_AH_H
#define FASTKA_AH_H

#include <stddef.h>
#include <stdint.h>

enum fk_ah_limits {
    FK_AH_PROTO = 51,        /* IP protocol number of AH */
    FK_AH_LEN = 24,          /* AH with a 96-bit ICV */
    FK_AH_ICV_LEN = 12,
    FK_AH_KEY_LEN = 8,       /* VRRPv2 auth data: auth_pass zero padded */
    FK_AH_IP4_HDR_LEN = 20,  /* the IPv4 header fastka sends (no options) */
    FK_AH_MD5_LEN = 16
};

/* fk_ah_parse results (the numbers of the matching enum fk_vrrp_reason where one
 * exists, so callers can report both with one table). */
enum fk_ah_reason {
    FK_AH_OK = 0,
    FK_AH_ELENGTH = 2,       /* too short, bad IHL, total length != received length */
    FK_AH_EAUTH = 8,         /* not AH, next header not VRRP, bad AH length, ICV or SPI */
    FK_AH_EREPLAY = 9        /* sequence number not above the last one accepted */
};

/* MD5, streaming. */
struct fk_md5 {
    uint32_t state[4];
    uint64_t length;         /* bytes hashed so far */
    uint8_t block[64];
};

void fk_md5_init(struct fk_md5 *ctx);
void fk_md5_update(struct fk_md5 *ctx, const uint8_t *data, size_t len);
void fk_md5_final(struct fk_md5 *ctx, uint8_t *digest);

/* HMAC-MD5 (RFC 2104) of the concatenation a[0..alen) b[0..blen) with key[0..keylen);
 * keylen at most 64. digest receives 16 bytes. */
void fk_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen, uint8_t *digest);

/* Build IPv4 header + AH + msg[0..msg_len) into out[0..cap): version 4, IHL 5, the
 * given TOS and ID, no fragmentation, TTL 255, protocol 51, header checksum filled,
 * src/dst 4 bytes each, SPI = src, the given sequence number, ICV over the packet
 * keyed with key[0..8) (zero_ttl: 1 for unicast instances). Returns the length, or
 * -1 if cap is too small or the packet would exceed 65535 bytes. */
int fk_ah_build(uint8_t *out, size_t cap, const uint8_t *msg, size_t msg_len,
                const uint8_t *src, const uint8_t *dst, uint16_t ip_id, uint8_t tos,
                uint32_t seq, const uint8_t *key, int zero_ttl);

/* Check a received IPv4 datagram pkt[0..len) (IP header included, any IHL): IPv4,
 * total length == len, protocol 51, AH next header 112 and payload length 4, ICV
 * (keyed with key[0..8), zero_ttl as above), SPI == source address, then the
 * sequence number against *last_seq (if last_seq is not NULL: must be above it;
 * *last_seq is raised on success). On FK_AH_OK, *seq_out and *msg_off (where the
 * VRRP message starts) are set when not NULL. Never reads past len. */
int fk_ah_parse(const uint8_t *pkt, size_t len, const uint8_t *key, int zero_ttl,
                uint32_t *last_seq, uint32_t *seq_out, size_t *msg_off);

#endif
