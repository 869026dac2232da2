/* VRRP advertisement codec: VRRPv2 (RFC 3768 sec. 5) and VRRPv3 (RFC 9568 sec. 5),
 * IPv4 and IPv6. Builds the VRRP message (the IP payload) into a caller's buffer
 * and parses + validates a received one into a caller's struct; no allocation.
 *
 * Checksums (RFC 1071, through checksum.h):
 *   v2            over the VRRP message only;
 *   v3 over IPv6  with the IPv6 pseudo-header (RFC 8200 sec. 8.1: src, dst,
 *                 upper-layer length, next header 112);
 *   v3 over IPv4  split in the field: keepalived, FRR and Wireshark add the IPv4
 *                 pseudo-header (src, dst, 0, 112, length) -- the "pseudo" form;
 *                 RFC 9568, Cisco and Juniper sum the message only -- the "plain"
 *                 form (keepalived's v3_checksum_as_v2). Parse accepts both and
 *                 reports which matched (pseudo is tried first).
 *
 * Addresses (src, dst, and the advertised ones) are raw network-order bytes:
 * 4 bytes for FK_VRRP_IPV4, 16 for FK_VRRP_IPV6.
 *
 * Plain C99, no Python headers; declarations only (no macros), so cffi can cdef
 * this header as it is.
 */
#ifndef FASTKA_VRRP_H
#define FASTKA_VRRP_H

#include <stddef.h>
#include <stdint.h>

enum fk_vrrp_limits {
    FK_VRRP_PROTO = 112,          /* IP protocol / IPv6 next header */
    FK_VRRP_TTL = 255,            /* the only TTL / hop limit accepted (RFC 9568 7.1) */
    FK_VRRP_TYPE_ADVERT = 1,
    FK_VRRP_HDR_LEN = 8,          /* fixed header of v2 and v3 */
    FK_VRRP_V2_AUTH_LEN = 8,      /* v2 trailing authentication data */
    FK_VRRP_MAX_ADDRS = 255,      /* the count field is 8 bits */
    FK_VRRP_ADDR_MAX_LEN = 16,
    FK_VRRP_ADDRS_CAP = 4080,     /* FK_VRRP_MAX_ADDRS * FK_VRRP_ADDR_MAX_LEN */
    FK_VRRP_MAX_LEN = 4096,       /* 8 + 255 * 16 + 8: no message is longer */
    FK_VRRP_V3_MAX_INTERVAL = 4095 /* 12-bit Max Advertise Interval, centiseconds */
};

/* Address family of src/dst and of the advertised addresses (its address size). */
enum fk_vrrp_family {
    FK_VRRP_IPV4 = 4,
    FK_VRRP_IPV6 = 6
};

enum fk_vrrp_checksum_form {
    FK_VRRP_CSUM_V2 = 1,      /* VRRPv2: the message only */
    FK_VRRP_CSUM_PSEUDO = 2,  /* VRRPv3 with the IP pseudo-header */
    FK_VRRP_CSUM_PLAIN = 3    /* VRRPv3 over IPv4, the message only */
};

/* Parse results, in the order parse checks them. */
enum fk_vrrp_reason {
    FK_VRRP_OK = 0,
    FK_VRRP_ETTL = 1,        /* ttl / hop limit != 255 */
    FK_VRRP_ELENGTH = 2,     /* shorter than the header, or != what count implies */
    FK_VRRP_EVERSION = 3,    /* not 2 or 3, or v2 over IPv6 */
    FK_VRRP_ETYPE = 4,       /* not ADVERTISEMENT */
    FK_VRRP_ECOUNT = 5,      /* no addresses */
    FK_VRRP_ECHECKSUM = 6,
    FK_VRRP_EINTERVAL = 7,   /* advertisement interval 0 */
    FK_VRRP_EAUTH = 8        /* v2 auth type or text differs from what is expected */
};

/* fk_vrrp_build errors (negative returns). */
enum fk_vrrp_build_error {
    FK_VRRP_EBUF = -1,       /* cap too small: fk_vrrp_length() bytes are needed */
    FK_VRRP_EINVAL = -2      /* a field is out of range (see fk_vrrp_build) */
};

/* One advertisement: what fk_vrrp_build reads and fk_vrrp_parse fills. */
struct fk_vrrp_advert {
    uint8_t version;         /* 2 or 3 */
    uint8_t type;            /* parse: as received; build always writes 1 */
    uint8_t vrid;
    uint8_t priority;
    uint8_t count;           /* number of addresses in addrs */
    uint8_t family;          /* enum fk_vrrp_family: address size of addrs */
    uint8_t auth_type;       /* v2 only (0 none, 1 simple text); 0 for v3 */
    uint8_t checksum_form;   /* enum fk_vrrp_checksum_form */
    uint16_t advert_int_cs;  /* centiseconds (v2: 100 x the seconds field) */
    uint16_t checksum;       /* as received / as built (host order) */
    uint8_t auth_data[8];    /* v2 only, as received / to send (zero padded) */
    uint8_t addrs[4080];     /* count addresses of family's size, back to back */
};

/* Length of a message: 8 + count * address size (+ 8 for v2); 0 if the version
 * or family is unknown. */
size_t fk_vrrp_length(int version, int family, int count);

/* Sum of the pseudo-header (src, dst, protocol 112, length) as a partial sum for
 * fk_sum16; the same arithmetic serves IPv4 (RFC 768 style) and IPv6 (RFC 8200). */
uint64_t fk_vrrp_pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t len);

/* Build the message described by a into out[0..cap). src and dst (family's size)
 * enter the v3 pseudo-header; v2 and the v3 "plain" form ignore them (may be NULL).
 * For v3 over IPv4, a->checksum_form == FK_VRRP_CSUM_PLAIN selects the plain form,
 * anything else the pseudo form. Checks: version 2 or 3; family 4 or 6 (v2: 4);
 * vrid >= 1; count >= 1; v2: advert_int_cs a multiple of 100 in 100..25500 and
 * auth_type 0, 1 or 2 (IP AH: the message carries zero auth data, ah.h adds the
 * AH around it); v3: advert_int_cs 1..4095 and
 * auth_type 0. Returns the length written, or a negative enum fk_vrrp_build_error. */
int fk_vrrp_build(uint8_t *out, size_t cap, const struct fk_vrrp_advert *a,
                  const uint8_t *src, const uint8_t *dst);

/* Parse and validate msg[0..len) received from src to dst (family's size) with
 * the given ttl / hop limit. expect_auth_type < 0 skips the v2 authentication
 * check; otherwise a v2 message must carry that auth type and, for type 1, the
 * 8 bytes at expect_auth_data (zero padded). v3 messages carry no authentication.
 * Returns FK_VRRP_OK with out filled, or the enum fk_vrrp_reason of the first
 * failed check (out is then partly filled). Bounds-checked; never reads past len. */
int fk_vrrp_parse(struct fk_vrrp_advert *out, const uint8_t *msg, size_t len,
                  int family, const uint8_t *src, const uint8_t *dst, int ttl,
                  int expect_auth_type, const uint8_t *expect_auth_data);

/* RFC 1624: set the priority of a built message in place and update its checksum
 * incrementally (valid for every checksum form: the pseudo-header does not change).
 * Returns 0, or -1 if len < 8. */
int fk_vrrp_set_priority(uint8_t *msg, size_t len, uint8_t priority);

/* RFC 9568 sec. 7.1 has an IPv6 advertisement list the virtual router's link-local
 * address first; keepalived 2.2.7 lists only the configured VIPs, so the installed
 * base deviates. Returns 1 if a (parsed, IPv6) starts with a link-local address
 * (fe80::/10), 0 if not; 1 for IPv4 (the rule does not apply). Receivers accept
 * either and count the 0s. */
int fk_vrrp_ll_first(const struct fk_vrrp_advert *a);

/* IPv4 text <-> bytes, exactly as inet_pton / inet_ntop (AF_INET) do it, without
 * the locale and NUL-terminator handling: text[0..len) must be four decimal numbers
 * 0..255 without leading zeros, joined by dots, and nothing else. Returns 1 and fills
 * out[0..4), or 0. */
int fk_vrrp_pton4(const char *text, size_t len, uint8_t *out);

/* Dotted decimal of addr[0..4) into out (at least 16 bytes, not NUL terminated);
 * returns its length. */
size_t fk_vrrp_ntop4(const uint8_t *addr, char *out);

/* IPv6 text of addr[0..16) into out (at least 46 bytes, not NUL terminated), the
 * same text as glibc's inet_ntop (RFC 5952 style: lower-case hex without leading
 * zeros, the first longest run of two or more zero words as "::", and the dotted
 * IPv4 tail of ::a.b.c.d and ::ffff:a.b.c.d); returns its length. */
size_t fk_vrrp_ntop6(const uint8_t *addr, char *out);

#endif
