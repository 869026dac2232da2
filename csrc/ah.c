/* IP AH with HMAC-MD5-96 for VRRPv2 (see ah.h). */
#include "ah.h"

#include <string.h>

#include "checksum.h"

/* ---- MD5 (RFC 1321) ----------------------------------------------------------- */

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu,
    0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu,
    0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau,
    0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu,
    0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u,
    0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u,
    0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u,
    0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* Left-rotation amounts: four per round, cycled. */
static const uint8_t md5_s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void md5_block(uint32_t *state, const uint8_t *block)
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = le32(block + 4 * i);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        int round = i >> 4;
        uint32_t f;
        int k;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) & 15; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) & 15; break;
        default: f = c ^ (b | ~d); k = (7 * i) & 15; break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + md5_t[i] + x[k], md5_s[round][i & 3]);
        a = t;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void fk_md5_init(struct fk_md5 *ctx)
{
    ctx->state[0] = 0x67452301u;
    ctx->state[1] = 0xefcdab89u;
    ctx->state[2] = 0x98badcfeu;
    ctx->state[3] = 0x10325476u;
    ctx->length = 0;
}

void fk_md5_update(struct fk_md5 *ctx, const uint8_t *data, size_t len)
{
    size_t have = (size_t)(ctx->length & 63);
    ctx->length += len;
    if (have) {
        size_t take = 64 - have < len ? 64 - have : len;
        memcpy(ctx->block + have, data, take);
        data += take;
        len -= take;
        if (have + take < 64)
            return;
        md5_block(ctx->state, ctx->block);
    }
    for (; len >= 64; data += 64, len -= 64)
        md5_block(ctx->state, data);
    if (len)
        memcpy(ctx->block, data, len);
}

void fk_md5_final(struct fk_md5 *ctx, uint8_t *digest)
{
    uint64_t bits = ctx->length * 8;
    size_t have = (size_t)(ctx->length & 63);
    ctx->block[have++] = 0x80;
    if (have > 56) {
        memset(ctx->block + have, 0, 64 - have);
        md5_block(ctx->state, ctx->block);
        have = 0;
    }
    memset(ctx->block + have, 0, 56 - have);
    for (int i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (8 * i));
    md5_block(ctx->state, ctx->block);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            digest[4 * i + j] = (uint8_t)(ctx->state[i] >> (8 * j));
}

/* ---- HMAC-MD5 (RFC 2104) ------------------------------------------------------- */

void fk_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen, uint8_t *digest)
{
    uint8_t pad[64];
    uint8_t inner[FK_AH_MD5_LEN];
    struct fk_md5 ctx;

    if (keylen > 64)
        keylen = 64;
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < keylen; i++)
        pad[i] ^= key[i];
    fk_md5_init(&ctx);
    fk_md5_update(&ctx, pad, sizeof pad);
    fk_md5_update(&ctx, a, alen);
    fk_md5_update(&ctx, b, blen);
    fk_md5_final(&ctx, inner);

    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < keylen; i++)
        pad[i] ^= key[i];
    fk_md5_init(&ctx);
    fk_md5_update(&ctx, pad, sizeof pad);
    fk_md5_update(&ctx, inner, sizeof inner);
    fk_md5_final(&ctx, digest);
}

/* ---- AH ------------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The ICV of pkt[0..len) whose IP header is ihl bytes and AH follows it: HMAC over a
 * copy of the headers with the mutable fields and the ICV zeroed, then the rest. */
static void icv(const uint8_t *pkt, size_t len, size_t ihl, const uint8_t *key, int zero_ttl,
                uint8_t *digest)
{
    uint8_t hdr[60 + FK_AH_LEN];
    size_t hlen = ihl + FK_AH_LEN;

    memcpy(hdr, pkt, hlen);
    hdr[1] = 0;                          /* TOS */
    hdr[6] = hdr[7] = 0;                 /* flags + fragment offset */
    hdr[10] = hdr[11] = 0;               /* header checksum */
    if (zero_ttl)
        hdr[8] = 0;
    memset(hdr + ihl + 12, 0, FK_AH_ICV_LEN);
    fk_hmac_md5(key, FK_AH_KEY_LEN, hdr, hlen, pkt + hlen, len - hlen, digest);
}

int fk_ah_build(uint8_t *out, size_t cap, const uint8_t *msg, size_t msg_len,
                const uint8_t *src, const uint8_t *dst, uint16_t ip_id, uint8_t tos,
                uint32_t seq, const uint8_t *key, int zero_ttl)
{
    size_t total = FK_AH_IP4_HDR_LEN + FK_AH_LEN + msg_len;
    uint8_t digest[FK_AH_MD5_LEN];

    if (total > 65535 || cap < total)
        return -1;
    uint8_t *ip = out, *ah = out + FK_AH_IP4_HDR_LEN;
    ip[0] = 0x45;
    ip[1] = tos;
    put16(ip + 2, (uint16_t)total);
    put16(ip + 4, ip_id);
    ip[6] = ip[7] = 0;
    ip[8] = 255;
    ip[9] = FK_AH_PROTO;
    ip[10] = ip[11] = 0;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    ah[0] = 112;                         /* next header: VRRP */
    ah[1] = FK_AH_LEN / 4 - 2;
    ah[2] = ah[3] = 0;
    memcpy(ah + 4, src, 4);              /* SPI */
    put32(ah + 8, seq);
    memcpy(ah + FK_AH_LEN, msg, msg_len);
    icv(out, total, FK_AH_IP4_HDR_LEN, key, zero_ttl, digest);
    memcpy(ah + 12, digest, FK_AH_ICV_LEN);
    put16(ip + 10, fk_checksum(ip, FK_AH_IP4_HDR_LEN));
    return (int)total;
}

int fk_ah_parse(const uint8_t *pkt, size_t len, const uint8_t *key, int zero_ttl,
                uint32_t *last_seq, uint32_t *seq_out, size_t *msg_off)
{
    uint8_t digest[FK_AH_MD5_LEN];
    uint8_t diff = 0;

    if (len < FK_AH_IP4_HDR_LEN || (pkt[0] >> 4) != 4)
        return FK_AH_ELENGTH;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    if (ihl < FK_AH_IP4_HDR_LEN || len < ihl + FK_AH_LEN || (size_t)(pkt[2] << 8 | pkt[3]) != len)
        return FK_AH_ELENGTH;
    const uint8_t *ah = pkt + ihl;
    if (pkt[9] != FK_AH_PROTO || ah[0] != 112 || ah[1] != FK_AH_LEN / 4 - 2)
        return FK_AH_EAUTH;
    icv(pkt, len, ihl, key, zero_ttl, digest);
    for (int i = 0; i < FK_AH_ICV_LEN; i++)  /* constant time */
        diff |= (uint8_t)(digest[i] ^ ah[12 + i]);
    if (diff || memcmp(ah + 4, pkt + 12, 4) != 0)
        return FK_AH_EAUTH;
    uint32_t seq = get32(ah + 8);
    if (last_seq) {
        if (seq <= *last_seq)
            return FK_AH_EREPLAY;
        *last_seq = seq;
    }
    if (seq_out)
        *seq_out = seq;
    if (msg_off)
        *msg_off = ihl + FK_AH_LEN;
    return FK_AH_OK;
}
