/* libFuzzer harness for the parsers in csrc/, built with ASan + UBSan:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *         -Icsrc fuzz/csrc/fuzz_csrc.c csrc/(every .c) -o fuzz_csrc
 *   ./fuzz_csrc -max_total_time=600 fuzz/corpus/csrc
 *
 * (tests/test_fuzz.py builds and runs it briefly.) The first input byte chooses the
 * parser and its options; the rest is the packet:
 *   bit 0..1  target: 0/1 VRRP advert (IPv4 / IPv6), 2 IP AH datagram, 3 both in turn
 *   bit 2     ttl 255 or 64;  bit 3  expect auth (type 1, "secret") or none
 *   bit 4     AH unicast (TTL zeroed in the ICV);  bit 5  AH anti-replay counter
 *   bit 6     instead: a netlink reply buffer for the IPVS reader (every message
 *             decoded as status, IPVS or nlctrl; a decoded IPVS message must pack
 *             again and decode to the same command and attribute set)
 * Beyond "no memory error, no undefined behaviour", each accepted advert that fastka
 * could send (VRID 1..255, v2 auth type 0..2: parse without an auth expectation lets
 * others through)
 * must build back (fk_vrrp_build) into a message that parses to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ah.h"
#include "checksum.h"
#include "ipvs.h"
#include "vrrp.h"

static const uint8_t SRC4[4] = {192, 0, 2, 1}, DST4[4] = {224, 0, 0, 18};
static const uint8_t SRC6[16] = {0xfe, 0x80, [15] = 1}, DST6[16] = {0xff, 0x02, [15] = 0x12};

static void check_advert(const uint8_t *msg, size_t len, int family, int ttl, int auth)
{
    static struct fk_vrrp_advert a, b;
    static uint8_t out[FK_VRRP_MAX_LEN];
    const uint8_t *src = family == FK_VRRP_IPV4 ? SRC4 : SRC6;
    const uint8_t *dst = family == FK_VRRP_IPV4 ? DST4 : DST6;
    uint8_t pw[8] = "secret";

    if (fk_vrrp_parse(&a, msg, len, family, src, dst, ttl, auth ? 1 : -1, pw) != FK_VRRP_OK)
        return;
    (void)fk_vrrp_ll_first(&a);
    if (a.auth_type > 2 || a.vrid == 0)  /* VRID 0: no instance has it, the loop drops it */
        return;
    int n = fk_vrrp_build(out, sizeof out, &a, src, dst);
    if (n != (int)len)
        abort();  /* an accepted advert must build back to its own length */
    if (fk_vrrp_parse(&b, out, (size_t)n, family, src, dst, 255, auth ? 1 : -1, pw) != FK_VRRP_OK)
        abort();
    if (a.version != b.version || a.vrid != b.vrid || a.priority != b.priority || a.count != b.count
        || a.advert_int_cs != b.advert_int_cs || a.auth_type != b.auth_type
        || memcmp(a.addrs, b.addrs, (size_t)a.count * (family == FK_VRRP_IPV4 ? 4 : 16)) != 0)
        abort();
    if (fk_vrrp_set_priority(out, (size_t)n, (uint8_t)(a.priority + 1)) != 0)
        abort();
    if (fk_vrrp_parse(&b, out, (size_t)n, family, src, dst, 255, auth ? 1 : -1, pw) != FK_VRRP_OK
        || b.priority != (uint8_t)(a.priority + 1))
        abort();  /* the incremental checksum update must keep the message valid */
}

static void check_ah(const uint8_t *pkt, size_t len, int unicast, int replay)
{
    uint8_t key[8] = "secret12";
    uint32_t last = 5, seq = 0;
    size_t off = 0;
    if (fk_ah_parse(pkt, len, key, unicast, replay ? &last : NULL, &seq, &off) == FK_AH_OK) {
        if (off > len || off < FK_AH_IP4_HDR_LEN + FK_AH_LEN)
            abort();
        check_advert(pkt + off, len - off, FK_VRRP_IPV4, 255, 0);
    }
}

static void check_netlink(const uint8_t *buf, size_t len)
{
    static struct fk_ipvs_msg im, again;
    static uint8_t out[4 * FK_IPVS_MSG_MAX];
    struct fk_nl_reader r;
    struct fk_nl_msg m;
    struct fk_nl_status_msg st;
    struct fk_genl_family fam;
    size_t off;
    fk_nl_reader_init(&r, buf, len);
    while (fk_nl_next(&r, &m) == 1) {
        (void)fk_nl_parse_status(&m, &st, &off);
        (void)fk_genl_parse_family(&m, &fam, &off);
        if (fk_ipvs_parse(&m, &im, &off) != 0)
            continue;
        struct fk_nl_writer w;
        fk_nl_writer_init(&w, out, sizeof out);
        int n = fk_ipvs_pack(&w, m.type, m.flags, m.seq, &im);
        if (n < 0)
            continue;  /* e.g. a name without its NUL: refused on the way out, fine */
        struct fk_nl_reader r2;
        struct fk_nl_msg m2;
        fk_nl_reader_init(&r2, out, (size_t)n);
        if (fk_nl_next(&r2, &m2) != 1 || fk_ipvs_parse(&m2, &again, &off) != 0)
            abort();  /* what we pack, we must read */
        if (again.cmd != im.cmd || again.attrs != im.attrs)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    /* a copy of exactly the packet's size, so ASan sees any read past its end */
    uint8_t *pkt = malloc(size - 1 ? size - 1 : 1);
    memcpy(pkt, data + 1, size - 1);
    size_t len = size - 1;
    int ttl = (sel & 4) ? 64 : 255, auth = (sel & 8) != 0;
    if (sel & 64) {
        check_netlink(pkt, len);
        free(pkt);
        return 0;
    }
    switch (sel & 3) {
    case 0: check_advert(pkt, len, FK_VRRP_IPV4, ttl, auth); break;
    case 1: check_advert(pkt, len, FK_VRRP_IPV6, ttl, auth); break;
    case 2: check_ah(pkt, len, (sel & 16) != 0, (sel & 32) != 0); break;
    default:
        check_advert(pkt, len, FK_VRRP_IPV4, ttl, auth);
        check_ah(pkt, len, (sel & 16) != 0, (sel & 32) != 0);
        (void)fk_checksum(pkt, len);
        break;
    }
    free(pkt);
    return 0;
}
