/* IPVS over generic netlink: message packing and reply parsing.
 *
 * The spec is the kernel's uapi: linux/netlink.h (nlmsghdr, nlattr, NLMSG_ERROR /
 * NLMSG_DONE, extended ACK TLVs), linux/genetlink.h (genlmsghdr, the nlctrl family)
 * and linux/ip_vs.h (IPVS_CMD_*, the service / dest / daemon / stats attributes).
 * The constants below repeat those values under an FK_ prefix (this header is also
 * read by cffi, which takes no #include); tests check them against an independent
 * table (pyroute2's).
 *
 * Writing: struct fk_nl_writer appends netlink messages to memory the caller owns.
 * Each message starts with fk_nl_begin (nlmsghdr, length back-patched by fk_nl_end),
 * attributes are 4-byte aligned, nests (fk_nla_nest_begin/_end) back-patch their
 * length. Running out of room makes the writer's error sticky until fk_nl_end, which
 * then drops the partial message (the buffer keeps only whole messages) and returns
 * FK_NL_EBUF: the caller may grow the buffer and write the message again.
 * fk_ipvs_pack writes one whole IPVS message from a struct fk_ipvs_msg;
 * fk_genl_pack_getfamily the nlctrl CTRL_CMD_GETFAMILY request.
 *
 * Reading: struct fk_nl_reader walks a buffer of netlink messages (a recv() of
 * replies or dumps) with bounds checks everywhere. fk_nl_next yields one message
 * header at a time; fk_nl_parse_status decodes NLMSG_ERROR / NLMSG_DONE;
 * fk_ipvs_parse an IPVS message into the same struct fk_ipvs_msg that packing reads;
 * fk_genl_parse_family an nlctrl reply. A malformed input gives a negative
 * enum fk_nl_status and the offset of the offending header in the buffer; nothing
 * is read outside [buf, buf + len).
 *
 * Attribute rules (parsing): an attribute needs a whole 4-byte header and
 * 4 <= nla_len <= what is left of its container; the type is nla_type & 0x3fff (the
 * NLA_F_NESTED / NLA_F_NET_BYTEORDER bits are ignored); the last of repeated
 * attributes wins; unknown types are skipped. Fixed-size attributes must have exactly
 * their size (u8 1, u16 / be16 2, u32 / be32 4, u64 8, flags 8, in6_addr 16), an
 * address at most 16 bytes (the rest of addr[] is zero), a name at most 15 bytes
 * before its NUL (IPVS names) or 15 (genl family name); a name without a NUL ends at
 * its attribute's end.
 *
 * Byte order: netlink headers and attribute values are host order, except the ports
 * (IPVS_SVC_ATTR_PORT, IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_TUN_PORT: be16), addresses
 * (raw network bytes), IPVS_DAEMON_ATTR_MCAST_GROUP (raw in_addr) and
 * IPVS_SVC_ATTR_NETMASK: the kernel reads it as a be32 mask for AF_INET and as a
 * host-order prefix length (1..128) for AF_INET6. The structs hold every number in
 * host order; fk_ipvs_pack / fk_ipvs_parse convert (the netmask by the service's af:
 * AF_INET6 host order, anything else big-endian).
 *
 * Plain C99, no Python headers; declarations only (no macros), so cffi can cdef this
 * header as it is.
 */
#ifndef FASTKA_IPVS_H
#define FASTKA_IPVS_H

#include <stddef.h>
#include <stdint.h>

/* linux/netlink.h and linux/genetlink.h */
enum fk_nl_const {
    FK_NLMSG_HDRLEN = 16,         /* struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32 */
    FK_GENL_HDRLEN = 4,           /* struct genlmsghdr: cmd u8, version u8, reserved u16 */
    FK_NLA_HDRLEN = 4,            /* struct nlattr: len u16, type u16 */
    FK_NLMSGERR_LEN = 20,         /* struct nlmsgerr: error s32, the request's nlmsghdr */
    FK_NLA_TYPE_MASK = 0x3fff,
    FK_NLA_F_NESTED = 0x8000,

    FK_NLMSG_NOOP = 1,
    FK_NLMSG_ERROR = 2,
    FK_NLMSG_DONE = 3,
    FK_NLMSG_OVERRUN = 4,
    FK_NLMSG_MIN_TYPE = 16,

    FK_NLM_F_REQUEST = 0x1,
    FK_NLM_F_MULTI = 0x2,
    FK_NLM_F_ACK = 0x4,
    FK_NLM_F_DUMP = 0x300,
    FK_NLM_F_CAPPED = 0x100,      /* NLMSG_ERROR: the request is cut to its header */
    FK_NLM_F_ACK_TLVS = 0x200,    /* NLMSG_ERROR / NLMSG_DONE: extended ACK TLVs follow */

    FK_NLMSGERR_ATTR_MSG = 1,

    FK_GENL_ID_CTRL = 16,
    FK_GENL_NAMSIZ = 16,
    FK_CTRL_CMD_NEWFAMILY = 1,
    FK_CTRL_CMD_GETFAMILY = 3,
    FK_CTRL_ATTR_FAMILY_ID = 1,
    FK_CTRL_ATTR_FAMILY_NAME = 2,
    FK_CTRL_ATTR_VERSION = 3,
    FK_CTRL_ATTR_HDRSIZE = 4,
    FK_CTRL_ATTR_MAXATTR = 5,

    FK_NL_NEST_MAX = 4            /* nesting depth of fk_nl_writer */
};

/* linux/ip_vs.h */
enum fk_ipvs_const {
    FK_IPVS_GENL_VERSION = 1,
    FK_IPVS_NAME_MAX = 15,        /* sched / pe / ifname: IP_VS_*_MAXLEN - 1 bytes + NUL */
    FK_IPVS_MSG_MAX = 1024,       /* no message fk_ipvs_pack writes is longer */

    FK_IPVS_CMD_NEW_SERVICE = 1,
    FK_IPVS_CMD_SET_SERVICE = 2,
    FK_IPVS_CMD_DEL_SERVICE = 3,
    FK_IPVS_CMD_GET_SERVICE = 4,
    FK_IPVS_CMD_NEW_DEST = 5,
    FK_IPVS_CMD_SET_DEST = 6,
    FK_IPVS_CMD_DEL_DEST = 7,
    FK_IPVS_CMD_GET_DEST = 8,
    FK_IPVS_CMD_NEW_DAEMON = 9,
    FK_IPVS_CMD_DEL_DAEMON = 10,
    FK_IPVS_CMD_GET_DAEMON = 11,
    FK_IPVS_CMD_SET_CONFIG = 12,
    FK_IPVS_CMD_GET_CONFIG = 13,
    FK_IPVS_CMD_SET_INFO = 14,
    FK_IPVS_CMD_GET_INFO = 15,
    FK_IPVS_CMD_ZERO = 16,
    FK_IPVS_CMD_FLUSH = 17,

    FK_IPVS_CMD_ATTR_SERVICE = 1,
    FK_IPVS_CMD_ATTR_DEST = 2,
    FK_IPVS_CMD_ATTR_DAEMON = 3,
    FK_IPVS_CMD_ATTR_TIMEOUT_TCP = 4,
    FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5,
    FK_IPVS_CMD_ATTR_TIMEOUT_UDP = 6,

    FK_IPVS_SVC_ATTR_AF = 1,
    FK_IPVS_SVC_ATTR_PROTOCOL = 2,
    FK_IPVS_SVC_ATTR_ADDR = 3,
    FK_IPVS_SVC_ATTR_PORT = 4,
    FK_IPVS_SVC_ATTR_FWMARK = 5,
    FK_IPVS_SVC_ATTR_SCHED_NAME = 6,
    FK_IPVS_SVC_ATTR_FLAGS = 7,
    FK_IPVS_SVC_ATTR_TIMEOUT = 8,
    FK_IPVS_SVC_ATTR_NETMASK = 9,
    FK_IPVS_SVC_ATTR_STATS = 10,
    FK_IPVS_SVC_ATTR_PE_NAME = 11,
    FK_IPVS_SVC_ATTR_STATS64 = 12,

    FK_IPVS_DEST_ATTR_ADDR = 1,
    FK_IPVS_DEST_ATTR_PORT = 2,
    FK_IPVS_DEST_ATTR_FWD_METHOD = 3,
    FK_IPVS_DEST_ATTR_WEIGHT = 4,
    FK_IPVS_DEST_ATTR_U_THRESH = 5,
    FK_IPVS_DEST_ATTR_L_THRESH = 6,
    FK_IPVS_DEST_ATTR_ACTIVE_CONNS = 7,
    FK_IPVS_DEST_ATTR_INACT_CONNS = 8,
    FK_IPVS_DEST_ATTR_PERSIST_CONNS = 9,
    FK_IPVS_DEST_ATTR_STATS = 10,
    FK_IPVS_DEST_ATTR_ADDR_FAMILY = 11,
    FK_IPVS_DEST_ATTR_STATS64 = 12,
    FK_IPVS_DEST_ATTR_TUN_TYPE = 13,
    FK_IPVS_DEST_ATTR_TUN_PORT = 14,
    FK_IPVS_DEST_ATTR_TUN_FLAGS = 15,

    FK_IPVS_DAEMON_ATTR_STATE = 1,
    FK_IPVS_DAEMON_ATTR_MCAST_IFN = 2,
    FK_IPVS_DAEMON_ATTR_SYNC_ID = 3,
    FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4,
    FK_IPVS_DAEMON_ATTR_MCAST_GROUP = 5,
    FK_IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6,
    FK_IPVS_DAEMON_ATTR_MCAST_PORT = 7,
    FK_IPVS_DAEMON_ATTR_MCAST_TTL = 8,

    FK_IPVS_STATS_ATTR_CONNS = 1,
    FK_IPVS_STATS_ATTR_INPKTS = 2,
    FK_IPVS_STATS_ATTR_OUTPKTS = 3,
    FK_IPVS_STATS_ATTR_INBYTES = 4,
    FK_IPVS_STATS_ATTR_OUTBYTES = 5,
    FK_IPVS_STATS_ATTR_CPS = 6,
    FK_IPVS_STATS_ATTR_INPPS = 7,
    FK_IPVS_STATS_ATTR_OUTPPS = 8,
    FK_IPVS_STATS_ATTR_INBPS = 9,
    FK_IPVS_STATS_ATTR_OUTBPS = 10,
    FK_IPVS_STATS_ATTR_PAD = 11,
    FK_IPVS_STATS_COUNT = 10,     /* counters 1..10 */

    FK_IPVS_INFO_ATTR_VERSION = 1,
    FK_IPVS_INFO_ATTR_CONN_TAB_SIZE = 2,

    FK_AF_INET = 2,
    FK_AF_INET6 = 10
};

/* Results: 0 or a positive length for success, these for failure. */
enum fk_nl_status {
    FK_NL_OK = 0,
    FK_NL_EBUF = -1,      /* writer: the message does not fit in the buffer */
    FK_NL_EINVAL = -2,    /* writer: bad argument (name too long, addr_len > 16, nest depth) */
    FK_NL_ETRUNC = -3,    /* reader: bytes left, but fewer than a netlink header */
    FK_NL_ELENGTH = -4,   /* reader: nlmsg_len < 16 or past the end of the buffer */
    FK_NL_EGENL = -5,     /* reader: payload shorter than the genetlink header */
    FK_NL_EATTR = -6,     /* reader: attribute header cut, nla_len < 4 or past its container */
    FK_NL_ESIZE = -7,     /* reader: a fixed-size attribute of another size */
    FK_NL_ESTRING = -8,   /* reader: a name longer than its limit */
    FK_NL_EERRMSG = -9    /* reader: NLMSG_ERROR shorter than struct nlmsgerr, or its TLVs past the end */
};

/* --- writing ------------------------------------------------------------------------ */

struct fk_nl_writer {
    uint8_t *buf;         /* the caller's memory; buf and cap may be changed between messages */
    size_t cap;
    size_t len;           /* bytes written: whole messages, then the open one */
    size_t msg;           /* offset of the open message's header */
    size_t nest[4];       /* offsets of the open nests' headers (FK_NL_NEST_MAX) */
    unsigned depth;
    int open;             /* a message is open (between fk_nl_begin and fk_nl_end) */
    int error;            /* first error in the open message, or 0 */
};

void fk_nl_writer_init(struct fk_nl_writer *w, uint8_t *buf, size_t cap);

/* Open a message: nlmsghdr with the given type, flags, seq and port id (length
 * back-patched by fk_nl_end). An open message is dropped first. */
void fk_nl_begin(struct fk_nl_writer *w, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid);

/* Close the open message: patch nlmsg_len, close nothing else. Returns its length,
 * or the first error (the message is then dropped: w->len is back at its start). */
int fk_nl_end(struct fk_nl_writer *w);

/* Drop the open message. */
void fk_nl_cancel(struct fk_nl_writer *w);

/* Append to the open message (each a no-op once the message has an error). */
void fk_genl_put_header(struct fk_nl_writer *w, uint8_t cmd, uint8_t version);
void fk_nla_put(struct fk_nl_writer *w, uint16_t type, const void *data, size_t len);
void fk_nla_put_u8(struct fk_nl_writer *w, uint16_t type, uint8_t v);
void fk_nla_put_u16(struct fk_nl_writer *w, uint16_t type, uint16_t v);
void fk_nla_put_be16(struct fk_nl_writer *w, uint16_t type, uint16_t v);
void fk_nla_put_u32(struct fk_nl_writer *w, uint16_t type, uint32_t v);
void fk_nla_put_be32(struct fk_nl_writer *w, uint16_t type, uint32_t v);
void fk_nla_put_u64(struct fk_nl_writer *w, uint16_t type, uint64_t v);
/* s[0..strlen(s)] with its NUL; at most max bytes before the NUL (else FK_NL_EINVAL). */
void fk_nla_put_name(struct fk_nl_writer *w, uint16_t type, const char *s, size_t max);
void fk_nla_nest_begin(struct fk_nl_writer *w, uint16_t type);
void fk_nla_nest_end(struct fk_nl_writer *w);

/* --- IPVS message contents -------------------------------------------------------------
 * Every struct has an `attrs` mask: bit (1 << attribute type) set for each attribute
 * present. Packing writes exactly the attributes whose bits are set, in the order of
 * their types; parsing sets the bits of those it found and fills their fields. */

struct fk_ipvs_stats {
    uint32_t attrs;       /* 1 << FK_IPVS_STATS_ATTR_* */
    uint64_t value[11];   /* indexed by FK_IPVS_STATS_ATTR_* (1..10; [0] unused) */
};

struct fk_ipvs_service {
    uint32_t attrs;       /* 1 << FK_IPVS_SVC_ATTR_* */
    uint16_t af;
    uint16_t protocol;
    uint8_t addr_len;     /* bytes of addr on the wire (pack: 0..16; parse: as received) */
    uint8_t addr[16];     /* parse: zero past addr_len */
    uint16_t port;
    uint32_t fwmark;
    char sched_name[16];  /* NUL-terminated */
    uint32_t flags;       /* struct ip_vs_flags { flags, mask } */
    uint32_t flags_mask;
    uint32_t timeout;
    uint32_t netmask;     /* AF_INET: the mask (0xffffff00 is /24); AF_INET6: prefix length */
    char pe_name[16];
    struct fk_ipvs_stats stats;    /* IPVS_SVC_ATTR_STATS: 32-bit counters, bytes 64 */
    struct fk_ipvs_stats stats64;  /* IPVS_SVC_ATTR_STATS64: every counter 64-bit */
};

struct fk_ipvs_dest {
    uint32_t attrs;       /* 1 << FK_IPVS_DEST_ATTR_* */
    uint8_t addr_len;
    uint8_t addr[16];
    uint16_t port;
    uint32_t fwd_method;  /* IP_VS_CONN_F_MASQ 0, LOCALNODE 1, TUNNEL 2, DROUTE 3, BYPASS 4 */
    uint32_t weight;
    uint32_t u_threshold;
    uint32_t l_threshold;
    uint32_t active_conns;
    uint32_t inact_conns;
    uint32_t persist_conns;
    uint16_t addr_family;
    uint8_t tun_type;     /* IP_VS_CONN_F_TUNNEL_TYPE_IPIP 0, GUE 1, GRE 2 */
    uint16_t tun_port;
    uint16_t tun_flags;   /* IP_VS_TUNNEL_ENCAP_FLAG_* */
    struct fk_ipvs_stats stats;
    struct fk_ipvs_stats stats64;
};

struct fk_ipvs_daemon {
    uint32_t attrs;       /* 1 << FK_IPVS_DAEMON_ATTR_* */
    uint32_t state;       /* IP_VS_STATE_MASTER 1, IP_VS_STATE_BACKUP 2 */
    char mcast_ifn[16];
    uint32_t sync_id;
    uint16_t sync_maxlen;
    uint8_t mcast_group[4];
    uint8_t mcast_group6[16];
    uint16_t mcast_port;  /* host order on the wire too (NLA_U16), unlike the other ports */
    uint8_t mcast_ttl;
};

/* One IPVS message: what fk_ipvs_pack reads and fk_ipvs_parse fills. */
struct fk_ipvs_msg {
    uint8_t cmd;          /* FK_IPVS_CMD_* */
    uint8_t version;      /* genetlink version (FK_IPVS_GENL_VERSION) */
    uint32_t attrs;       /* top level: 1 << FK_IPVS_CMD_ATTR_*; for cmd SET_INFO, 1 << FK_IPVS_INFO_ATTR_* */
    struct fk_ipvs_service svc;
    struct fk_ipvs_dest dest;
    struct fk_ipvs_daemon daemon;
    uint32_t timeout_tcp;
    uint32_t timeout_tcp_fin;
    uint32_t timeout_udp;
    uint32_t info_version;         /* SET_INFO (the GET_INFO reply) */
    uint32_t info_conn_tab_size;
};

/* Append one IPVS message (type = the IPVS family id) to w. Returns its length, or
 * FK_NL_EBUF (w unchanged; FK_IPVS_MSG_MAX free bytes always suffice) or FK_NL_EINVAL
 * (an addr_len over 16, a name over FK_IPVS_NAME_MAX bytes or not NUL-terminated). */
int fk_ipvs_pack(struct fk_nl_writer *w, uint16_t family, uint16_t flags, uint32_t seq,
                 const struct fk_ipvs_msg *m);

/* Append the nlctrl request CTRL_CMD_GETFAMILY for a family name (at most 15 bytes,
 * NUL-terminated), flags NLM_F_REQUEST | NLM_F_ACK. Returns its length or an error. */
int fk_genl_pack_getfamily(struct fk_nl_writer *w, uint32_t seq, const char *name);

/* --- reading ------------------------------------------------------------------------ */

struct fk_nl_reader {
    const uint8_t *buf;
    size_t len;
    size_t off;           /* the next message's offset */
};

/* One netlink message as found by fk_nl_next. */
struct fk_nl_msg {
    size_t offset;        /* of its header in the reader's buffer */
    const uint8_t *data;  /* its header; len bytes, all inside the buffer */
    uint32_t len;         /* nlmsg_len */
    uint16_t type;
    uint16_t flags;
    uint32_t seq;
    uint32_t pid;
};

void fk_nl_reader_init(struct fk_nl_reader *r, const uint8_t *buf, size_t len);

/* The next message: 1 (m filled, the reader moves past it and its padding), 0 at the
 * end of the buffer, or FK_NL_ETRUNC / FK_NL_ELENGTH (the reader stays at the bad
 * header, r->off). */
int fk_nl_next(struct fk_nl_reader *r, struct fk_nl_msg *m);

/* NLMSG_ERROR or NLMSG_DONE, decoded. */
struct fk_nl_status_msg {
    int32_t error;        /* 0 or a negative errno (DONE: 0 if the payload has no int) */
    const uint8_t *text;  /* NLMSGERR_ATTR_MSG, when the extended ACK carries one */
    size_t text_len;      /* up to its first NUL */
    int has_text;
};

/* Decode an NLMSG_ERROR or NLMSG_DONE message. Returns 0, or FK_NL_EERRMSG / FK_NL_EATTR
 * / FK_NL_EGENL (a message of another type) with *err_off the offending offset in the
 * buffer. The extended ACK TLVs (NLM_F_ACK_TLVS) are read after the request (its
 * header only with NLM_F_CAPPED, else its nlmsg_len, 4-byte aligned, at least 16). */
int fk_nl_parse_status(const struct fk_nl_msg *m, struct fk_nl_status_msg *out, size_t *err_off);

/* Decode an IPVS message (genlmsghdr + attributes) into out (fully reset first).
 * Returns 0 or a negative enum fk_nl_status with *err_off the offset in the buffer of
 * the offending header. */
int fk_ipvs_parse(const struct fk_nl_msg *m, struct fk_ipvs_msg *out, size_t *err_off);

/* An nlctrl message (CTRL_CMD_NEWFAMILY reply, or a GETFAMILY request). */
struct fk_genl_family {
    uint32_t attrs;       /* 1 << FK_CTRL_ATTR_* of those read below */
    uint8_t cmd;
    uint8_t version;      /* genetlink header version */
    uint16_t id;
    char name[16];
    uint32_t family_version;
    uint32_t hdrsize;
    uint32_t maxattr;
};

int fk_genl_parse_family(const struct fk_nl_msg *m, struct fk_genl_family *out, size_t *err_off);

#endif
