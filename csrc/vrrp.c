#include "vrrp.h"

#include <string.h>

#include "checksum.h"

static size_t addr_len(int family)
{
    return family == FK_VRRP_IPV4 ? 4 : family == FK_VRRP_IPV6 ? 16 : 0;
}

size_t fk_vrrp_length(int version, int family, int count)
{
    size_t alen = addr_len(family);
    if (!alen || (version != 2 && version != 3) || count < 0 || count > FK_VRRP_MAX_ADDRS)
        return 0;
    return FK_VRRP_HDR_LEN + (size_t)count * alen + (version == 2 ? FK_VRRP_V2_AUTH_LEN : 0);
}

uint64_t fk_vrrp_pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t len)
{
    /* IPv4: src, dst, zero, protocol, 16-bit length. IPv6: src, dst, 32-bit
     * length, three zero bytes, next header. Both sum to src + dst + 112 + len
     * (len < 65536, so the IPv6 length's high word is zero). */
    size_t alen = addr_len(family);
    uint64_t acc = fk_sum16(src, alen, 0);
    acc = fk_sum16(dst, alen, acc);
    return acc + FK_VRRP_PROTO + (uint64_t)len;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int fk_vrrp_build(uint8_t *out, size_t cap, const struct fk_vrrp_advert *a,
                  const uint8_t *src, const uint8_t *dst)
{
    size_t alen = addr_len(a->family);
    size_t n, abytes;
    int pseudo = 0;
    uint64_t acc = 0;

    if (!alen || (a->version != 2 && a->version != 3) || a->vrid == 0 || a->count == 0)
        return FK_VRRP_EINVAL;
    if (a->version == 2) {
        if (a->family != FK_VRRP_IPV4)
            return FK_VRRP_EINVAL;
        if (a->advert_int_cs % 100 || a->advert_int_cs < 100 || a->advert_int_cs > 25500)
            return FK_VRRP_EINVAL;
        if (a->auth_type > 2)
            return FK_VRRP_EINVAL;
    } else {
        if (a->advert_int_cs < 1 || a->advert_int_cs > FK_VRRP_V3_MAX_INTERVAL || a->auth_type)
            return FK_VRRP_EINVAL;
        pseudo = a->family == FK_VRRP_IPV6 || a->checksum_form != FK_VRRP_CSUM_PLAIN;
        if (pseudo && (!src || !dst))
            return FK_VRRP_EINVAL;
    }
    n = fk_vrrp_length(a->version, a->family, a->count);
    if (cap < n)
        return FK_VRRP_EBUF;

    abytes = (size_t)a->count * alen;
    out[0] = (uint8_t)((a->version << 4) | FK_VRRP_TYPE_ADVERT);
    out[1] = a->vrid;
    out[2] = a->priority;
    out[3] = a->count;
    if (a->version == 2) {
        out[4] = a->auth_type;
        out[5] = (uint8_t)(a->advert_int_cs / 100);
    } else {
        put16(out + 4, a->advert_int_cs); /* 4 reserved bits stay zero */
    }
    out[6] = out[7] = 0;
    memcpy(out + FK_VRRP_HDR_LEN, a->addrs, abytes);
    if (a->version == 2) {
        if (a->auth_type == 1)
            memcpy(out + FK_VRRP_HDR_LEN + abytes, a->auth_data, FK_VRRP_V2_AUTH_LEN);
        else
            memset(out + FK_VRRP_HDR_LEN + abytes, 0, FK_VRRP_V2_AUTH_LEN);
    }
    if (pseudo)
        acc = fk_vrrp_pseudo_sum(a->family, src, dst, n);
    put16(out + 6, fk_fold(fk_sum16(out, n, acc)));
    return (int)n;
}

int fk_vrrp_parse(struct fk_vrrp_advert *out, const uint8_t *msg, size_t len,
                  int family, const uint8_t *src, const uint8_t *dst, int ttl,
                  int expect_auth_type, const uint8_t *expect_auth_data)
{
    size_t alen = addr_len(family);
    size_t abytes;
    uint64_t body;
    unsigned version;

    if (ttl != FK_VRRP_TTL)
        return FK_VRRP_ETTL;
    if (len < FK_VRRP_HDR_LEN)
        return FK_VRRP_ELENGTH;
    version = msg[0] >> 4;
    out->version = (uint8_t)version;
    out->type = msg[0] & 0x0f;
    out->vrid = msg[1];
    out->priority = msg[2];
    out->count = msg[3];
    out->family = (uint8_t)family;
    out->checksum = (uint16_t)((msg[6] << 8) | msg[7]);
    if (!alen || (version != 2 && version != 3) || (version == 2 && family != FK_VRRP_IPV4))
        return FK_VRRP_EVERSION;
    if (out->type != FK_VRRP_TYPE_ADVERT)
        return FK_VRRP_ETYPE;
    if (out->count == 0)
        return FK_VRRP_ECOUNT;
    abytes = (size_t)out->count * alen;
    if (len != fk_vrrp_length((int)version, family, out->count))
        return FK_VRRP_ELENGTH;

    body = fk_sum16(msg, len, 0);
    if (version == 2) {
        if (fk_fold(body))
            return FK_VRRP_ECHECKSUM;
        out->checksum_form = FK_VRRP_CSUM_V2;
        out->auth_type = msg[4];
        out->advert_int_cs = (uint16_t)(msg[5] * 100);
        memcpy(out->auth_data, msg + FK_VRRP_HDR_LEN + abytes, FK_VRRP_V2_AUTH_LEN);
    } else {
        if (fk_fold(body + fk_vrrp_pseudo_sum(family, src, dst, len)) == 0)
            out->checksum_form = FK_VRRP_CSUM_PSEUDO;
        else if (family == FK_VRRP_IPV4 && fk_fold(body) == 0)
            out->checksum_form = FK_VRRP_CSUM_PLAIN;
        else
            return FK_VRRP_ECHECKSUM;
        out->auth_type = 0;
        out->advert_int_cs = (uint16_t)(((msg[4] & 0x0f) << 8) | msg[5]);
        memset(out->auth_data, 0, FK_VRRP_V2_AUTH_LEN);
    }
    if (out->advert_int_cs == 0)
        return FK_VRRP_EINTERVAL;
    if (version == 2 && expect_auth_type >= 0) {
        if (out->auth_type != expect_auth_type)
            return FK_VRRP_EAUTH;
        if (expect_auth_type == 1
            && memcmp(out->auth_data, expect_auth_data, FK_VRRP_V2_AUTH_LEN) != 0)
            return FK_VRRP_EAUTH;
    }
    memcpy(out->addrs, msg + FK_VRRP_HDR_LEN, abytes);
    return FK_VRRP_OK;
}

int fk_vrrp_set_priority(uint8_t *msg, size_t len, uint8_t priority)
{
    uint16_t old_word, new_word, csum;

    if (len < FK_VRRP_HDR_LEN)
        return -1;
    old_word = (uint16_t)((msg[2] << 8) | msg[3]);
    new_word = (uint16_t)((priority << 8) | msg[3]);
    csum = (uint16_t)((msg[6] << 8) | msg[7]);
    put16(msg + 6, fk_checksum_update16(csum, old_word, new_word));
    msg[2] = priority;
    return 0;
}

static int digit(char c)
{
    return (unsigned char)(c - '0') <= 9;
}

int fk_vrrp_pton4(const char *text, size_t len, uint8_t *out)
{
    /* A NUL-padded copy: the padding ends every scan, so no bounds checks below. */
    char buf[20] = {0};
    const char *s = buf;
    uint32_t addr = 0; /* built in a register: byte stores then a wide load would stall */
    int part;

    if (len < 7 || len > 15) /* "0.0.0.0" .. "255.255.255.255" */
        return 0;
    memcpy(buf, text, len);
    for (part = 0; part < 4; part++) {
        unsigned v;
        if (part && *s++ != '.')
            return 0;
        if (!digit(s[0]))
            return 0;
        v = (unsigned)(s[0] - '0');
        if (digit(s[1])) {
            if (v == 0) /* a leading zero */
                return 0;
            v = v * 10 + (unsigned)(s[1] - '0');
            if (digit(s[2])) {
                v = v * 10 + (unsigned)(s[2] - '0');
                if (v > 255 || digit(s[3]))
                    return 0;
                s++;
            }
            s++;
        }
        s++;
        addr = (addr << 8) | v;
    }
    if ((size_t)(s - buf) != len) /* trailing text, or a NUL inside */
        return 0;
    out[0] = (uint8_t)(addr >> 24);
    out[1] = (uint8_t)(addr >> 16);
    out[2] = (uint8_t)(addr >> 8);
    out[3] = (uint8_t)addr;
    return 1;
}

size_t fk_vrrp_ntop4(const uint8_t *addr, char *out)
{
    size_t n = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned v = addr[i];
        if (i)
            out[n++] = '.';
        if (v >= 100)
            out[n++] = (char)('0' + v / 100);
        if (v >= 10)
            out[n++] = (char)('0' + v / 10 % 10);
        out[n++] = (char)('0' + v % 10);
    }
    return n;
}

size_t fk_vrrp_ntop6(const uint8_t *addr, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned words[8];
    int i, run = -1, run_len = 0, cur = -1, cur_len = 0;
    size_t n = 0;

    for (i = 0; i < 8; i++) {
        words[i] = ((unsigned)addr[2 * i] << 8) | addr[2 * i + 1];
        if (words[i] == 0) {
            if (cur < 0)
                cur = i, cur_len = 0;
            if (++cur_len > run_len)
                run = cur, run_len = cur_len;
        } else {
            cur = -1;
        }
    }
    if (run_len < 2)
        run = -1;
    for (i = 0; i < 8; i++) {
        unsigned w = words[i];
        if (i == run) {
            out[n++] = ':';
            i += run_len - 1;
            if (i == 7)
                out[n++] = ':';
            continue;
        }
        if (i)
            out[n++] = ':';
        if (i == 6 && run == 0 && (run_len == 6 || (run_len == 5 && words[5] == 0xffff)))
            return n + fk_vrrp_ntop4(addr + 12, out + n);
        if (w >= 0x1000)
            out[n++] = hex[w >> 12];
        if (w >= 0x100)
            out[n++] = hex[(w >> 8) & 0xf];
        if (w >= 0x10)
            out[n++] = hex[(w >> 4) & 0xf];
        out[n++] = hex[w & 0xf];
    }
    return n;
}

int fk_vrrp_ll_first(const struct fk_vrrp_advert *a)
{
    if (a->family != FK_VRRP_IPV6)
        return 1;
    return a->count > 0 && a->addrs[0] == 0xfe && (a->addrs[1] & 0xc0) == 0x80;
}
