#include "ipvs.h"

#include <string.h>

#define BIT(n) (1u << (n))

/* --- byte access (unaligned, explicit order) ------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint16_t get16be(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* --- writer ------------------------------------------------------------------------------ */

void fk_nl_writer_init(struct fk_nl_writer *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

static void fail(struct fk_nl_writer *w, int error)
{
    if (!w->error)
        w->error = error;
}

/* n bytes at the end of the open message, or NULL (and the error set). */
static uint8_t *room(struct fk_nl_writer *w, size_t n)
{
    uint8_t *p;
    if (!w->open || w->error)
        return NULL;
    if (w->len > w->cap || w->cap - w->len < n) {
        fail(w, FK_NL_EBUF);
        return NULL;
    }
    p = w->buf + w->len;
    w->len += n;
    return p;
}

void fk_nl_begin(struct fk_nl_writer *w, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid)
{
    uint8_t *p;
    uint32_t zero = 0;
    if (w->open)
        fk_nl_cancel(w);
    w->open = 1;
    w->error = 0;
    w->depth = 0;
    w->msg = w->len;
    p = room(w, FK_NLMSG_HDRLEN);
    if (!p)
        return;
    memcpy(p, &zero, 4); /* nlmsg_len, patched by fk_nl_end */
    memcpy(p + 4, &type, 2);
    memcpy(p + 6, &flags, 2);
    memcpy(p + 8, &seq, 4);
    memcpy(p + 12, &pid, 4);
}

void fk_nl_cancel(struct fk_nl_writer *w)
{
    if (w->open)
        w->len = w->msg;
    w->open = 0;
    w->depth = 0;
    w->error = 0;
}

int fk_nl_end(struct fk_nl_writer *w)
{
    uint32_t n;
    int error;
    if (!w->open)
        return FK_NL_EINVAL;
    if (w->depth)
        fail(w, FK_NL_EINVAL);
    if (!w->error && w->len - w->msg > 0x7fffffff)
        fail(w, FK_NL_EINVAL);
    error = w->error;
    if (error) {
        fk_nl_cancel(w);
        return error;
    }
    n = (uint32_t)(w->len - w->msg);
    memcpy(w->buf + w->msg, &n, 4);
    w->open = 0;
    return (int)n;
}

void fk_genl_put_header(struct fk_nl_writer *w, uint8_t cmd, uint8_t version)
{
    uint8_t *p = room(w, FK_GENL_HDRLEN);
    if (!p)
        return;
    p[0] = cmd;
    p[1] = version;
    p[2] = p[3] = 0;
}

void fk_nla_put(struct fk_nl_writer *w, uint16_t type, const void *data, size_t len)
{
    size_t total = FK_NLA_HDRLEN + len;
    uint16_t nla_len = (uint16_t)total;
    uint8_t *p;
    if (len > 0xffff - FK_NLA_HDRLEN) {
        fail(w, FK_NL_EINVAL);
        return;
    }
    p = room(w, align4(total));
    if (!p)
        return;
    memcpy(p, &nla_len, 2);
    memcpy(p + 2, &type, 2);
    if (len)
        memcpy(p + FK_NLA_HDRLEN, data, len);
    memset(p + total, 0, align4(total) - total);
}

void fk_nla_put_u8(struct fk_nl_writer *w, uint16_t type, uint8_t v)
{
    fk_nla_put(w, type, &v, 1);
}

void fk_nla_put_u16(struct fk_nl_writer *w, uint16_t type, uint16_t v)
{
    fk_nla_put(w, type, &v, 2);
}

void fk_nla_put_be16(struct fk_nl_writer *w, uint16_t type, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    fk_nla_put(w, type, b, 2);
}

void fk_nla_put_u32(struct fk_nl_writer *w, uint16_t type, uint32_t v)
{
    fk_nla_put(w, type, &v, 4);
}

void fk_nla_put_be32(struct fk_nl_writer *w, uint16_t type, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    fk_nla_put(w, type, b, 4);
}

void fk_nla_put_u64(struct fk_nl_writer *w, uint16_t type, uint64_t v)
{
    fk_nla_put(w, type, &v, 8);
}

void fk_nla_put_name(struct fk_nl_writer *w, uint16_t type, const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    if (n > max) {
        fail(w, FK_NL_EINVAL);
        return;
    }
    fk_nla_put(w, type, s, n + 1);
}

void fk_nla_nest_begin(struct fk_nl_writer *w, uint16_t type)
{
    uint8_t *p;
    uint16_t zero = 0;
    if (w->depth >= FK_NL_NEST_MAX) {
        fail(w, FK_NL_EINVAL);
        return;
    }
    p = room(w, FK_NLA_HDRLEN);
    if (!p)
        return;
    w->nest[w->depth++] = (size_t)(p - w->buf);
    memcpy(p, &zero, 2);
    memcpy(p + 2, &type, 2);
}

void fk_nla_nest_end(struct fk_nl_writer *w)
{
    size_t n;
    uint16_t nla_len;
    if (!w->open || w->error)
        return;
    if (!w->depth) {
        fail(w, FK_NL_EINVAL);
        return;
    }
    n = w->len - w->nest[--w->depth];
    if (n > 0xffff) {
        fail(w, FK_NL_EINVAL);
        return;
    }
    nla_len = (uint16_t)n;
    memcpy(w->buf + w->nest[w->depth], &nla_len, 2);
}

/* --- IPVS packing ---------------------------------------------------------------------- */

static void put_stats(struct fk_nl_writer *w, uint16_t type, const struct fk_ipvs_stats *st, int wide)
{
    int i;
    fk_nla_nest_begin(w, type);
    for (i = 1; i <= FK_IPVS_STATS_COUNT; i++) {
        if (!(st->attrs & BIT(i)))
            continue;
        if (wide || i == FK_IPVS_STATS_ATTR_INBYTES || i == FK_IPVS_STATS_ATTR_OUTBYTES) {
            fk_nla_put_u64(w, (uint16_t)i, st->value[i]);
        } else if (st->value[i] > 0xffffffffu) {
            fail(w, FK_NL_EINVAL);
        } else {
            fk_nla_put_u32(w, (uint16_t)i, (uint32_t)st->value[i]);
        }
    }
    fk_nla_nest_end(w);
}

static void put_addr(struct fk_nl_writer *w, uint16_t type, const uint8_t *addr, uint8_t len)
{
    if (len > 16)
        fail(w, FK_NL_EINVAL);
    else
        fk_nla_put(w, type, addr, len);
}

static void put_service(struct fk_nl_writer *w, const struct fk_ipvs_service *s)
{
    uint32_t a = s->attrs;
    uint32_t f[2];
    fk_nla_nest_begin(w, FK_IPVS_CMD_ATTR_SERVICE);
    if (a & BIT(FK_IPVS_SVC_ATTR_AF))
        fk_nla_put_u16(w, FK_IPVS_SVC_ATTR_AF, s->af);
    if (a & BIT(FK_IPVS_SVC_ATTR_PROTOCOL))
        fk_nla_put_u16(w, FK_IPVS_SVC_ATTR_PROTOCOL, s->protocol);
    if (a & BIT(FK_IPVS_SVC_ATTR_ADDR))
        put_addr(w, FK_IPVS_SVC_ATTR_ADDR, s->addr, s->addr_len);
    if (a & BIT(FK_IPVS_SVC_ATTR_PORT))
        fk_nla_put_be16(w, FK_IPVS_SVC_ATTR_PORT, s->port);
    if (a & BIT(FK_IPVS_SVC_ATTR_FWMARK))
        fk_nla_put_u32(w, FK_IPVS_SVC_ATTR_FWMARK, s->fwmark);
    if (a & BIT(FK_IPVS_SVC_ATTR_SCHED_NAME))
        fk_nla_put_name(w, FK_IPVS_SVC_ATTR_SCHED_NAME, s->sched_name, FK_IPVS_NAME_MAX);
    if (a & BIT(FK_IPVS_SVC_ATTR_FLAGS)) {
        f[0] = s->flags;
        f[1] = s->flags_mask;
        fk_nla_put(w, FK_IPVS_SVC_ATTR_FLAGS, f, 8);
    }
    if (a & BIT(FK_IPVS_SVC_ATTR_TIMEOUT))
        fk_nla_put_u32(w, FK_IPVS_SVC_ATTR_TIMEOUT, s->timeout);
    if (a & BIT(FK_IPVS_SVC_ATTR_NETMASK)) {
        if ((a & BIT(FK_IPVS_SVC_ATTR_AF)) && s->af == FK_AF_INET6)
            fk_nla_put_u32(w, FK_IPVS_SVC_ATTR_NETMASK, s->netmask);
        else
            fk_nla_put_be32(w, FK_IPVS_SVC_ATTR_NETMASK, s->netmask);
    }
    if (a & BIT(FK_IPVS_SVC_ATTR_STATS))
        put_stats(w, FK_IPVS_SVC_ATTR_STATS, &s->stats, 0);
    if (a & BIT(FK_IPVS_SVC_ATTR_PE_NAME))
        fk_nla_put_name(w, FK_IPVS_SVC_ATTR_PE_NAME, s->pe_name, FK_IPVS_NAME_MAX);
    if (a & BIT(FK_IPVS_SVC_ATTR_STATS64))
        put_stats(w, FK_IPVS_SVC_ATTR_STATS64, &s->stats64, 1);
    fk_nla_nest_end(w);
}

static void put_dest(struct fk_nl_writer *w, const struct fk_ipvs_dest *d)
{
    uint32_t a = d->attrs;
    fk_nla_nest_begin(w, FK_IPVS_CMD_ATTR_DEST);
    if (a & BIT(FK_IPVS_DEST_ATTR_ADDR))
        put_addr(w, FK_IPVS_DEST_ATTR_ADDR, d->addr, d->addr_len);
    if (a & BIT(FK_IPVS_DEST_ATTR_PORT))
        fk_nla_put_be16(w, FK_IPVS_DEST_ATTR_PORT, d->port);
    if (a & BIT(FK_IPVS_DEST_ATTR_FWD_METHOD))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_FWD_METHOD, d->fwd_method);
    if (a & BIT(FK_IPVS_DEST_ATTR_WEIGHT))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_WEIGHT, d->weight);
    if (a & BIT(FK_IPVS_DEST_ATTR_U_THRESH))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_U_THRESH, d->u_threshold);
    if (a & BIT(FK_IPVS_DEST_ATTR_L_THRESH))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_L_THRESH, d->l_threshold);
    if (a & BIT(FK_IPVS_DEST_ATTR_ACTIVE_CONNS))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_ACTIVE_CONNS, d->active_conns);
    if (a & BIT(FK_IPVS_DEST_ATTR_INACT_CONNS))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_INACT_CONNS, d->inact_conns);
    if (a & BIT(FK_IPVS_DEST_ATTR_PERSIST_CONNS))
        fk_nla_put_u32(w, FK_IPVS_DEST_ATTR_PERSIST_CONNS, d->persist_conns);
    if (a & BIT(FK_IPVS_DEST_ATTR_STATS))
        put_stats(w, FK_IPVS_DEST_ATTR_STATS, &d->stats, 0);
    if (a & BIT(FK_IPVS_DEST_ATTR_ADDR_FAMILY))
        fk_nla_put_u16(w, FK_IPVS_DEST_ATTR_ADDR_FAMILY, d->addr_family);
    if (a & BIT(FK_IPVS_DEST_ATTR_STATS64))
        put_stats(w, FK_IPVS_DEST_ATTR_STATS64, &d->stats64, 1);
    if (a & BIT(FK_IPVS_DEST_ATTR_TUN_TYPE))
        fk_nla_put_u8(w, FK_IPVS_DEST_ATTR_TUN_TYPE, d->tun_type);
    if (a & BIT(FK_IPVS_DEST_ATTR_TUN_PORT))
        fk_nla_put_be16(w, FK_IPVS_DEST_ATTR_TUN_PORT, d->tun_port);
    if (a & BIT(FK_IPVS_DEST_ATTR_TUN_FLAGS))
        fk_nla_put_u16(w, FK_IPVS_DEST_ATTR_TUN_FLAGS, d->tun_flags);
    fk_nla_nest_end(w);
}

static void put_daemon(struct fk_nl_writer *w, const struct fk_ipvs_daemon *d)
{
    uint32_t a = d->attrs;
    fk_nla_nest_begin(w, FK_IPVS_CMD_ATTR_DAEMON);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_STATE))
        fk_nla_put_u32(w, FK_IPVS_DAEMON_ATTR_STATE, d->state);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_MCAST_IFN))
        fk_nla_put_name(w, FK_IPVS_DAEMON_ATTR_MCAST_IFN, d->mcast_ifn, FK_IPVS_NAME_MAX);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_SYNC_ID))
        fk_nla_put_u32(w, FK_IPVS_DAEMON_ATTR_SYNC_ID, d->sync_id);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN))
        fk_nla_put_u16(w, FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN, d->sync_maxlen);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_MCAST_GROUP))
        fk_nla_put(w, FK_IPVS_DAEMON_ATTR_MCAST_GROUP, d->mcast_group, 4);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_MCAST_GROUP6))
        fk_nla_put(w, FK_IPVS_DAEMON_ATTR_MCAST_GROUP6, d->mcast_group6, 16);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_MCAST_PORT))
        fk_nla_put_u16(w, FK_IPVS_DAEMON_ATTR_MCAST_PORT, d->mcast_port);
    if (a & BIT(FK_IPVS_DAEMON_ATTR_MCAST_TTL))
        fk_nla_put_u8(w, FK_IPVS_DAEMON_ATTR_MCAST_TTL, d->mcast_ttl);
    fk_nla_nest_end(w);
}

int fk_ipvs_pack(struct fk_nl_writer *w, uint16_t family, uint16_t flags, uint32_t seq,
                 const struct fk_ipvs_msg *m)
{
    uint32_t a = m->attrs;
    fk_nl_begin(w, family, flags, seq, 0);
    fk_genl_put_header(w, m->cmd, m->version);
    if (m->cmd == FK_IPVS_CMD_SET_INFO) {
        if (a & BIT(FK_IPVS_INFO_ATTR_VERSION))
            fk_nla_put_u32(w, FK_IPVS_INFO_ATTR_VERSION, m->info_version);
        if (a & BIT(FK_IPVS_INFO_ATTR_CONN_TAB_SIZE))
            fk_nla_put_u32(w, FK_IPVS_INFO_ATTR_CONN_TAB_SIZE, m->info_conn_tab_size);
        return fk_nl_end(w);
    }
    if (a & BIT(FK_IPVS_CMD_ATTR_SERVICE))
        put_service(w, &m->svc);
    if (a & BIT(FK_IPVS_CMD_ATTR_DEST))
        put_dest(w, &m->dest);
    if (a & BIT(FK_IPVS_CMD_ATTR_DAEMON))
        put_daemon(w, &m->daemon);
    if (a & BIT(FK_IPVS_CMD_ATTR_TIMEOUT_TCP))
        fk_nla_put_u32(w, FK_IPVS_CMD_ATTR_TIMEOUT_TCP, m->timeout_tcp);
    if (a & BIT(FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN))
        fk_nla_put_u32(w, FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, m->timeout_tcp_fin);
    if (a & BIT(FK_IPVS_CMD_ATTR_TIMEOUT_UDP))
        fk_nla_put_u32(w, FK_IPVS_CMD_ATTR_TIMEOUT_UDP, m->timeout_udp);
    return fk_nl_end(w);
}

int fk_genl_pack_getfamily(struct fk_nl_writer *w, uint32_t seq, const char *name)
{
    fk_nl_begin(w, FK_GENL_ID_CTRL, FK_NLM_F_REQUEST | FK_NLM_F_ACK, seq, 0);
    fk_genl_put_header(w, FK_CTRL_CMD_GETFAMILY, 1);
    fk_nla_put_name(w, FK_CTRL_ATTR_FAMILY_NAME, name, FK_GENL_NAMSIZ - 1);
    return fk_nl_end(w);
}

/* --- reader ------------------------------------------------------------------------------ */

void fk_nl_reader_init(struct fk_nl_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->off = 0;
}

int fk_nl_next(struct fk_nl_reader *r, struct fk_nl_msg *m)
{
    size_t left = r->len - r->off;
    const uint8_t *p = r->buf + r->off;
    uint32_t len;
    size_t step;

    if (left == 0)
        return 0;
    if (left < FK_NLMSG_HDRLEN)
        return FK_NL_ETRUNC;
    len = get32(p);
    if (len < FK_NLMSG_HDRLEN || len > left)
        return FK_NL_ELENGTH;
    m->offset = r->off;
    m->data = p;
    m->len = len;
    m->type = get16(p + 4);
    m->flags = get16(p + 6);
    m->seq = get32(p + 8);
    m->pid = get32(p + 12);
    step = align4(len); /* len <= left, so no overflow */
    r->off += step < left ? step : left;
    return 1;
}

/* Attributes of d[pos..end): each call yields one (1), or the end (0), or FK_NL_EATTR
 * with *pos still at the bad header. */
struct attr {
    unsigned type;
    size_t at;            /* header offset (relative to d) */
    size_t val;           /* value offset */
    size_t len;           /* value length */
};

static int next_attr(const uint8_t *d, size_t *pos, size_t end, struct attr *a)
{
    size_t left = end - *pos;
    size_t nla_len, step;
    if (left == 0)
        return 0;
    if (left < FK_NLA_HDRLEN)
        return FK_NL_EATTR;
    nla_len = get16(d + *pos);
    if (nla_len < FK_NLA_HDRLEN || nla_len > left)
        return FK_NL_EATTR;
    a->type = get16(d + *pos + 2) & FK_NLA_TYPE_MASK;
    a->at = *pos;
    a->val = *pos + FK_NLA_HDRLEN;
    a->len = nla_len - FK_NLA_HDRLEN;
    step = align4(nla_len);
    *pos += step < left ? step : left;
    return 1;
}

/* A parse in progress: the message and where errors are reported. */
struct ctx {
    const uint8_t *d;     /* the message (its nlmsghdr) */
    size_t base;          /* its offset in the reader's buffer */
    size_t *err_off;
};

static int error_at(const struct ctx *c, size_t rel, int error)
{
    *c->err_off = c->base + rel;
    return error;
}

static int want(const struct ctx *c, const struct attr *a, size_t size)
{
    return a->len == size ? 0 : error_at(c, a->at, FK_NL_ESIZE);
}

static int name(const struct ctx *c, const struct attr *a, char *out, size_t max)
{
    const uint8_t *v = c->d + a->val;
    size_t n = 0;
    while (n < a->len && v[n])
        n++;
    if (n > max)
        return error_at(c, a->at, FK_NL_ESTRING);
    memcpy(out, v, n);
    out[n] = 0;
    return 0;
}

static int address(const struct ctx *c, const struct attr *a, uint8_t *addr, uint8_t *addr_len)
{
    if (a->len > 16)
        return error_at(c, a->at, FK_NL_ESIZE);
    memset(addr, 0, 16);
    memcpy(addr, c->d + a->val, a->len);
    *addr_len = (uint8_t)a->len;
    return 0;
}

/* Iterate the attributes of a container [start, end): sets rc on a malformed one. */
#define EACH_ATTR(c, start, end, a, rc)                                              \
    for (size_t pos_ = (start); ((rc) = next_attr((c)->d, &pos_, (end), &(a))) == 1 \
                                || ((rc) < 0 && (error_at((c), pos_, (rc)), 0));)

static int parse_stats(const struct ctx *c, const struct attr *outer, struct fk_ipvs_stats *st, int wide)
{
    struct attr a;
    int rc, e;
    memset(st, 0, sizeof(*st));
    EACH_ATTR(c, outer->val, outer->val + outer->len, a, rc) {
        if (a.type < 1 || a.type > FK_IPVS_STATS_COUNT)
            continue; /* PAD and unknown */
        if (wide || a.type == FK_IPVS_STATS_ATTR_INBYTES || a.type == FK_IPVS_STATS_ATTR_OUTBYTES) {
            if ((e = want(c, &a, 8)))
                return e;
            st->value[a.type] = get64(c->d + a.val);
        } else {
            if ((e = want(c, &a, 4)))
                return e;
            st->value[a.type] = get32(c->d + a.val);
        }
        st->attrs |= BIT(a.type);
    }
    return rc;
}

static int parse_service(const struct ctx *c, const struct attr *outer, struct fk_ipvs_service *s)
{
    struct attr a;
    const uint8_t *v;
    uint8_t netmask[4] = {0};
    int rc, e = 0;
    memset(s, 0, sizeof(*s));
    EACH_ATTR(c, outer->val, outer->val + outer->len, a, rc) {
        v = c->d + a.val;
        switch (a.type) {
        case FK_IPVS_SVC_ATTR_AF:
            if (!(e = want(c, &a, 2)))
                s->af = get16(v);
            break;
        case FK_IPVS_SVC_ATTR_PROTOCOL:
            if (!(e = want(c, &a, 2)))
                s->protocol = get16(v);
            break;
        case FK_IPVS_SVC_ATTR_ADDR:
            e = address(c, &a, s->addr, &s->addr_len);
            break;
        case FK_IPVS_SVC_ATTR_PORT:
            if (!(e = want(c, &a, 2)))
                s->port = get16be(v);
            break;
        case FK_IPVS_SVC_ATTR_FWMARK:
            if (!(e = want(c, &a, 4)))
                s->fwmark = get32(v);
            break;
        case FK_IPVS_SVC_ATTR_SCHED_NAME:
            e = name(c, &a, s->sched_name, FK_IPVS_NAME_MAX);
            break;
        case FK_IPVS_SVC_ATTR_FLAGS:
            if (!(e = want(c, &a, 8))) {
                s->flags = get32(v);
                s->flags_mask = get32(v + 4);
            }
            break;
        case FK_IPVS_SVC_ATTR_TIMEOUT:
            if (!(e = want(c, &a, 4)))
                s->timeout = get32(v);
            break;
        case FK_IPVS_SVC_ATTR_NETMASK:
            if (!(e = want(c, &a, 4)))
                memcpy(netmask, v, 4);
            break;
        case FK_IPVS_SVC_ATTR_STATS:
            e = parse_stats(c, &a, &s->stats, 0);
            break;
        case FK_IPVS_SVC_ATTR_PE_NAME:
            e = name(c, &a, s->pe_name, FK_IPVS_NAME_MAX);
            break;
        case FK_IPVS_SVC_ATTR_STATS64:
            e = parse_stats(c, &a, &s->stats64, 1);
            break;
        default:
            continue;
        }
        if (e)
            return e;
        s->attrs |= BIT(a.type);
    }
    if (rc)
        return rc;
    if ((s->attrs & BIT(FK_IPVS_SVC_ATTR_AF)) && s->af == FK_AF_INET6)
        s->netmask = get32(netmask);
    else
        s->netmask = get32be(netmask);
    return 0;
}

static int parse_dest(const struct ctx *c, const struct attr *outer, struct fk_ipvs_dest *d)
{
    struct attr a;
    const uint8_t *v;
    uint32_t *u32 = NULL;
    int rc, e = 0;
    memset(d, 0, sizeof(*d));
    EACH_ATTR(c, outer->val, outer->val + outer->len, a, rc) {
        v = c->d + a.val;
        switch (a.type) {
        case FK_IPVS_DEST_ATTR_ADDR:
            e = address(c, &a, d->addr, &d->addr_len);
            break;
        case FK_IPVS_DEST_ATTR_PORT:
            if (!(e = want(c, &a, 2)))
                d->port = get16be(v);
            break;
        case FK_IPVS_DEST_ATTR_FWD_METHOD:
            u32 = &d->fwd_method;
            break;
        case FK_IPVS_DEST_ATTR_WEIGHT:
            u32 = &d->weight;
            break;
        case FK_IPVS_DEST_ATTR_U_THRESH:
            u32 = &d->u_threshold;
            break;
        case FK_IPVS_DEST_ATTR_L_THRESH:
            u32 = &d->l_threshold;
            break;
        case FK_IPVS_DEST_ATTR_ACTIVE_CONNS:
            u32 = &d->active_conns;
            break;
        case FK_IPVS_DEST_ATTR_INACT_CONNS:
            u32 = &d->inact_conns;
            break;
        case FK_IPVS_DEST_ATTR_PERSIST_CONNS:
            u32 = &d->persist_conns;
            break;
        case FK_IPVS_DEST_ATTR_STATS:
            e = parse_stats(c, &a, &d->stats, 0);
            break;
        case FK_IPVS_DEST_ATTR_ADDR_FAMILY:
            if (!(e = want(c, &a, 2)))
                d->addr_family = get16(v);
            break;
        case FK_IPVS_DEST_ATTR_STATS64:
            e = parse_stats(c, &a, &d->stats64, 1);
            break;
        case FK_IPVS_DEST_ATTR_TUN_TYPE:
            if (!(e = want(c, &a, 1)))
                d->tun_type = v[0];
            break;
        case FK_IPVS_DEST_ATTR_TUN_PORT:
            if (!(e = want(c, &a, 2)))
                d->tun_port = get16be(v);
            break;
        case FK_IPVS_DEST_ATTR_TUN_FLAGS:
            if (!(e = want(c, &a, 2)))
                d->tun_flags = get16(v);
            break;
        default:
            continue;
        }
        if (u32) {
            if (!(e = want(c, &a, 4)))
                *u32 = get32(v);
            u32 = NULL;
        }
        if (e)
            return e;
        d->attrs |= BIT(a.type);
    }
    return rc;
}

static int parse_daemon(const struct ctx *c, const struct attr *outer, struct fk_ipvs_daemon *d)
{
    struct attr a;
    const uint8_t *v;
    int rc, e = 0;
    memset(d, 0, sizeof(*d));
    EACH_ATTR(c, outer->val, outer->val + outer->len, a, rc) {
        v = c->d + a.val;
        switch (a.type) {
        case FK_IPVS_DAEMON_ATTR_STATE:
            if (!(e = want(c, &a, 4)))
                d->state = get32(v);
            break;
        case FK_IPVS_DAEMON_ATTR_MCAST_IFN:
            e = name(c, &a, d->mcast_ifn, FK_IPVS_NAME_MAX);
            break;
        case FK_IPVS_DAEMON_ATTR_SYNC_ID:
            if (!(e = want(c, &a, 4)))
                d->sync_id = get32(v);
            break;
        case FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN:
            if (!(e = want(c, &a, 2)))
                d->sync_maxlen = get16(v);
            break;
        case FK_IPVS_DAEMON_ATTR_MCAST_GROUP:
            if (!(e = want(c, &a, 4)))
                memcpy(d->mcast_group, v, 4);
            break;
        case FK_IPVS_DAEMON_ATTR_MCAST_GROUP6:
            if (!(e = want(c, &a, 16)))
                memcpy(d->mcast_group6, v, 16);
            break;
        case FK_IPVS_DAEMON_ATTR_MCAST_PORT:
            if (!(e = want(c, &a, 2)))
                d->mcast_port = get16(v);
            break;
        case FK_IPVS_DAEMON_ATTR_MCAST_TTL:
            if (!(e = want(c, &a, 1)))
                d->mcast_ttl = v[0];
            break;
        default:
            continue;
        }
        if (e)
            return e;
        d->attrs |= BIT(a.type);
    }
    return rc;
}

static int genl_header(const struct fk_nl_msg *m, const struct ctx *c)
{
    if (m->len < FK_NLMSG_HDRLEN + FK_GENL_HDRLEN)
        return error_at(c, 0, FK_NL_EGENL);
    return 0;
}

int fk_ipvs_parse(const struct fk_nl_msg *m, struct fk_ipvs_msg *out, size_t *err_off)
{
    struct ctx c = {m->data, m->offset, err_off};
    struct attr a;
    const uint8_t *v;
    uint32_t *u32;
    int rc, e;

    memset(out, 0, sizeof(*out));
    if ((e = genl_header(m, &c)))
        return e;
    out->cmd = m->data[FK_NLMSG_HDRLEN];
    out->version = m->data[FK_NLMSG_HDRLEN + 1];
    EACH_ATTR(&c, FK_NLMSG_HDRLEN + FK_GENL_HDRLEN, m->len, a, rc) {
        v = c.d + a.val;
        u32 = NULL;
        e = 0;
        if (out->cmd == FK_IPVS_CMD_SET_INFO) {
            if (a.type == FK_IPVS_INFO_ATTR_VERSION)
                u32 = &out->info_version;
            else if (a.type == FK_IPVS_INFO_ATTR_CONN_TAB_SIZE)
                u32 = &out->info_conn_tab_size;
            else
                continue;
        } else {
            switch (a.type) {
            case FK_IPVS_CMD_ATTR_SERVICE:
                e = parse_service(&c, &a, &out->svc);
                break;
            case FK_IPVS_CMD_ATTR_DEST:
                e = parse_dest(&c, &a, &out->dest);
                break;
            case FK_IPVS_CMD_ATTR_DAEMON:
                e = parse_daemon(&c, &a, &out->daemon);
                break;
            case FK_IPVS_CMD_ATTR_TIMEOUT_TCP:
                u32 = &out->timeout_tcp;
                break;
            case FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN:
                u32 = &out->timeout_tcp_fin;
                break;
            case FK_IPVS_CMD_ATTR_TIMEOUT_UDP:
                u32 = &out->timeout_udp;
                break;
            default:
                continue;
            }
        }
        if (u32 && !(e = want(&c, &a, 4)))
            *u32 = get32(v);
        if (e)
            return e;
        out->attrs |= BIT(a.type);
    }
    return rc;
}

int fk_nl_parse_status(const struct fk_nl_msg *m, struct fk_nl_status_msg *out, size_t *err_off)
{
    struct ctx c = {m->data, m->offset, err_off};
    struct attr a;
    size_t payload = m->len - FK_NLMSG_HDRLEN;
    size_t tlvs;
    int rc;

    memset(out, 0, sizeof(*out));
    if (m->type == FK_NLMSG_ERROR) {
        if (payload < FK_NLMSGERR_LEN)
            return error_at(&c, 0, FK_NL_EERRMSG);
        out->error = (int32_t)get32(m->data + FK_NLMSG_HDRLEN);
        if (!(m->flags & FK_NLM_F_ACK_TLVS))
            return 0;
        if (m->flags & FK_NLM_F_CAPPED) {
            tlvs = 4 + FK_NLMSG_HDRLEN;
        } else {
            uint32_t req = get32(m->data + FK_NLMSG_HDRLEN + 4);
            if (req < FK_NLMSG_HDRLEN || (uint64_t)req + 4 > payload)
                return error_at(&c, 0, FK_NL_EERRMSG);
            tlvs = 4 + align4(req);
            if (tlvs > payload)
                tlvs = payload;
        }
    } else if (m->type == FK_NLMSG_DONE) {
        if (payload < 4)
            return 0;
        out->error = (int32_t)get32(m->data + FK_NLMSG_HDRLEN);
        if (!(m->flags & FK_NLM_F_ACK_TLVS))
            return 0;
        tlvs = 4;
    } else {
        return FK_NL_EINVAL;
    }
    EACH_ATTR(&c, FK_NLMSG_HDRLEN + tlvs, m->len, a, rc) {
        if (a.type == FK_NLMSGERR_ATTR_MSG) {
            const uint8_t *v = c.d + a.val;
            size_t n = 0;
            while (n < a.len && v[n])
                n++;
            out->text = v;
            out->text_len = n;
            out->has_text = 1;
        }
    }
    return rc;
}

int fk_genl_parse_family(const struct fk_nl_msg *m, struct fk_genl_family *out, size_t *err_off)
{
    struct ctx c = {m->data, m->offset, err_off};
    struct attr a;
    const uint8_t *v;
    int rc, e;

    memset(out, 0, sizeof(*out));
    if ((e = genl_header(m, &c)))
        return e;
    out->cmd = m->data[FK_NLMSG_HDRLEN];
    out->version = m->data[FK_NLMSG_HDRLEN + 1];
    EACH_ATTR(&c, FK_NLMSG_HDRLEN + FK_GENL_HDRLEN, m->len, a, rc) {
        v = c.d + a.val;
        e = 0;
        switch (a.type) {
        case FK_CTRL_ATTR_FAMILY_ID:
            if (!(e = want(&c, &a, 2)))
                out->id = get16(v);
            break;
        case FK_CTRL_ATTR_FAMILY_NAME:
            e = name(&c, &a, out->name, FK_GENL_NAMSIZ - 1);
            break;
        case FK_CTRL_ATTR_VERSION:
            if (!(e = want(&c, &a, 4)))
                out->family_version = get32(v);
            break;
        case FK_CTRL_ATTR_HDRSIZE:
            if (!(e = want(&c, &a, 4)))
                out->hdrsize = get32(v);
            break;
        case FK_CTRL_ATTR_MAXATTR:
            if (!(e = want(&c, &a, 4)))
                out->maxattr = get32(v);
            break;
        default:
            continue;
        }
        if (e)
            return e;
        out->attrs |= BIT(a.type);
    }
    return rc;
}
