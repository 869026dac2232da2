# C declarations of csrc/, in one place (every .pxi cimports them from here).
# One section per kernel header; each section is owned by that kernel.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


# --- checksum.h ----------------------------------------------------------------
cdef extern from "checksum.h" nogil:
    uint64_t fk_sum16(const uint8_t *data, size_t len, uint64_t acc)
    uint16_t fk_fold(uint64_t acc)
    uint16_t fk_checksum(const uint8_t *data, size_t len)
    uint16_t fk_checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)


# --- vrrp.h (advert codec) -------------------------------------------------------
cdef extern from "vrrp.h" nogil:
    enum fk_vrrp_limits:
        FK_VRRP_PROTO
        FK_VRRP_TTL
        FK_VRRP_TYPE_ADVERT
        FK_VRRP_HDR_LEN
        FK_VRRP_V2_AUTH_LEN
        FK_VRRP_MAX_ADDRS
        FK_VRRP_ADDR_MAX_LEN
        FK_VRRP_ADDRS_CAP
        FK_VRRP_MAX_LEN
        FK_VRRP_V3_MAX_INTERVAL

    enum fk_vrrp_family:
        FK_VRRP_IPV4
        FK_VRRP_IPV6

    enum fk_vrrp_checksum_form:
        FK_VRRP_CSUM_V2
        FK_VRRP_CSUM_PSEUDO
        FK_VRRP_CSUM_PLAIN

    enum fk_vrrp_reason:
        FK_VRRP_OK
        FK_VRRP_ETTL
        FK_VRRP_ELENGTH
        FK_VRRP_EVERSION
        FK_VRRP_ETYPE
        FK_VRRP_ECOUNT
        FK_VRRP_ECHECKSUM
        FK_VRRP_EINTERVAL
        FK_VRRP_EAUTH

    enum fk_vrrp_build_error:
        FK_VRRP_EBUF
        FK_VRRP_EINVAL

    struct fk_vrrp_advert:
        uint8_t version
        uint8_t type
        uint8_t vrid
        uint8_t priority
        uint8_t count
        uint8_t family
        uint8_t auth_type
        uint8_t checksum_form
        uint16_t advert_int_cs
        uint16_t checksum
        uint8_t auth_data[8]
        uint8_t addrs[4080]

    size_t fk_vrrp_length(int version, int family, int count)
    uint64_t fk_vrrp_pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t len)
    int fk_vrrp_build(uint8_t *out, size_t cap, const fk_vrrp_advert *a,
                      const uint8_t *src, const uint8_t *dst)
    int fk_vrrp_parse(fk_vrrp_advert *out, const uint8_t *msg, size_t len,
                      int family, const uint8_t *src, const uint8_t *dst, int ttl,
                      int expect_auth_type, const uint8_t *expect_auth_data)
    int fk_vrrp_set_priority(uint8_t *msg, size_t len, uint8_t priority)
    int fk_vrrp_ll_first(const fk_vrrp_advert *a)
    int fk_vrrp_pton4(const char *text, size_t len, uint8_t *out)
    size_t fk_vrrp_ntop4(const uint8_t *addr, char *out)
    size_t fk_vrrp_ntop6(const uint8_t *addr, char *out)


# libc address conversion, used by the advert codec's Python edge (advert.pxi).
cdef extern from "<arpa/inet.h>" nogil:
    int AF_INET
    int AF_INET6
    int inet_pton(int af, const char *src, void *dst)


# --- timerwheel.h ----------------------------------------------------------------
cdef extern from "timerwheel.h" nogil:
    enum fk_wheel_status:
        FK_WHEEL_NONE
        FK_WHEEL_EBADID
        FK_WHEEL_EINVAL
        FK_WHEEL_ERANGE

    struct fk_wheel

    fk_wheel *fk_wheel_new(uint32_t capacity, int64_t start_ns, int64_t tick_ns)
    void fk_wheel_free(fk_wheel *w)
    uint32_t fk_wheel_capacity(const fk_wheel *w)
    int64_t fk_wheel_start_ns(const fk_wheel *w)
    int64_t fk_wheel_tick_ns(const fk_wheel *w)
    uint32_t fk_wheel_count(const fk_wheel *w)
    int fk_wheel_arm(fk_wheel *w, uint32_t id, int64_t deadline_ns)
    int fk_wheel_arm_periodic(fk_wheel *w, uint32_t id, int64_t first_deadline_ns, int64_t interval_ns)
    int fk_wheel_rearm(fk_wheel *w, uint32_t id, int64_t interval_ns)
    int fk_wheel_cancel(fk_wheel *w, uint32_t id)
    int fk_wheel_is_armed(const fk_wheel *w, uint32_t id)
    int64_t fk_wheel_deadline(const fk_wheel *w, uint32_t id)
    int64_t fk_wheel_period(const fk_wheel *w, uint32_t id)
    int fk_wheel_carry(fk_wheel *w, const fk_wheel *src, const int32_t *map, uint32_t n, uint32_t per,
                       int64_t not_before_ns)
    int fk_wheel_advance(fk_wheel *w, int64_t now_ns, uint32_t *out, uint32_t max)
    int64_t fk_wheel_next_expiry(fk_wheel *w)


# --- ah.h (VRRPv2 IP AH, HMAC-MD5-96) ---------------------------------------------
cdef extern from "ah.h" nogil:
    enum fk_ah_limits:
        FK_AH_PROTO
        FK_AH_LEN
        FK_AH_ICV_LEN
        FK_AH_KEY_LEN
        FK_AH_IP4_HDR_LEN
        FK_AH_MD5_LEN

    enum fk_ah_reason:
        FK_AH_OK
        FK_AH_ELENGTH
        FK_AH_EAUTH
        FK_AH_EREPLAY

    struct fk_md5:
        pass

    void fk_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen, uint8_t *digest)
    int fk_ah_build(uint8_t *out, size_t cap, const uint8_t *msg, size_t msg_len,
                    const uint8_t *src, const uint8_t *dst, uint16_t ip_id, uint8_t tos,
                    uint32_t seq, const uint8_t *key, int zero_ttl)
    int fk_ah_parse(const uint8_t *pkt, size_t len, const uint8_t *key, int zero_ttl,
                    uint32_t *last_seq, uint32_t *seq_out, size_t *msg_off)


# --- mmsg.h (batched raw-socket I/O) ---------------------------------------------
cdef extern from "mmsg.h" nogil:
    struct fk_mmsg_meta:
        uint32_t len
        uint32_t ifindex
        int32_t ttl
        uint8_t family
        uint8_t truncated
        uint8_t src[16]
        uint8_t dst[16]
        int64_t rx_ns

    struct fk_mmsg

    fk_mmsg *fk_mmsg_new(uint32_t cap, uint32_t slot_size)
    void fk_mmsg_free(fk_mmsg *m)
    uint32_t fk_mmsg_capacity(const fk_mmsg *m)
    uint32_t fk_mmsg_slot_size(const fk_mmsg *m)
    uint8_t *fk_mmsg_slot(fk_mmsg *m, uint32_t i)
    fk_mmsg_meta *fk_mmsg_meta_at(fk_mmsg *m, uint32_t i)
    void fk_mmsg_point(fk_mmsg *m, uint32_t i, const uint8_t *data)
    int fk_mmsg_send(int fd, fk_mmsg *m, uint32_t first, uint32_t n, int flags)
    int fk_mmsg_recv(int fd, fk_mmsg *m, uint32_t n, int flags)

# --- ipvs.h (IPVS generic netlink messages) -------------------------------------------
cdef extern from "ipvs.h" nogil:
    enum fk_nl_const:
        FK_NLMSG_HDRLEN
        FK_GENL_HDRLEN
        FK_NLA_HDRLEN
        FK_NLMSGERR_LEN
        FK_NLMSG_NOOP
        FK_NLMSG_ERROR
        FK_NLMSG_DONE
        FK_NLMSG_OVERRUN
        FK_NLM_F_REQUEST
        FK_NLM_F_MULTI
        FK_NLM_F_ACK
        FK_NLM_F_DUMP
        FK_NLM_F_CAPPED
        FK_NLM_F_ACK_TLVS
        FK_GENL_ID_CTRL
        FK_GENL_NAMSIZ
        FK_CTRL_CMD_GETFAMILY
        FK_CTRL_ATTR_FAMILY_ID
        FK_CTRL_ATTR_FAMILY_NAME
        FK_CTRL_ATTR_VERSION
        FK_CTRL_ATTR_HDRSIZE
        FK_CTRL_ATTR_MAXATTR

    enum fk_ipvs_const:
        FK_IPVS_GENL_VERSION
        FK_IPVS_NAME_MAX
        FK_IPVS_MSG_MAX
        FK_IPVS_CMD_SET_INFO
        FK_IPVS_CMD_ATTR_SERVICE
        FK_IPVS_CMD_ATTR_DEST
        FK_IPVS_CMD_ATTR_DAEMON
        FK_IPVS_CMD_ATTR_TIMEOUT_TCP
        FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN
        FK_IPVS_CMD_ATTR_TIMEOUT_UDP
        FK_IPVS_SVC_ATTR_AF
        FK_IPVS_SVC_ATTR_PROTOCOL
        FK_IPVS_SVC_ATTR_ADDR
        FK_IPVS_SVC_ATTR_PORT
        FK_IPVS_SVC_ATTR_FWMARK
        FK_IPVS_SVC_ATTR_SCHED_NAME
        FK_IPVS_SVC_ATTR_FLAGS
        FK_IPVS_SVC_ATTR_TIMEOUT
        FK_IPVS_SVC_ATTR_NETMASK
        FK_IPVS_SVC_ATTR_STATS
        FK_IPVS_SVC_ATTR_PE_NAME
        FK_IPVS_SVC_ATTR_STATS64
        FK_IPVS_DEST_ATTR_ADDR
        FK_IPVS_DEST_ATTR_PORT
        FK_IPVS_DEST_ATTR_FWD_METHOD
        FK_IPVS_DEST_ATTR_WEIGHT
        FK_IPVS_DEST_ATTR_U_THRESH
        FK_IPVS_DEST_ATTR_L_THRESH
        FK_IPVS_DEST_ATTR_ACTIVE_CONNS
        FK_IPVS_DEST_ATTR_INACT_CONNS
        FK_IPVS_DEST_ATTR_PERSIST_CONNS
        FK_IPVS_DEST_ATTR_STATS
        FK_IPVS_DEST_ATTR_ADDR_FAMILY
        FK_IPVS_DEST_ATTR_STATS64
        FK_IPVS_DEST_ATTR_TUN_TYPE
        FK_IPVS_DEST_ATTR_TUN_PORT
        FK_IPVS_DEST_ATTR_TUN_FLAGS
        FK_IPVS_DAEMON_ATTR_STATE
        FK_IPVS_DAEMON_ATTR_MCAST_IFN
        FK_IPVS_DAEMON_ATTR_SYNC_ID
        FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN
        FK_IPVS_DAEMON_ATTR_MCAST_GROUP
        FK_IPVS_DAEMON_ATTR_MCAST_GROUP6
        FK_IPVS_DAEMON_ATTR_MCAST_PORT
        FK_IPVS_DAEMON_ATTR_MCAST_TTL
        FK_IPVS_STATS_ATTR_INBYTES
        FK_IPVS_STATS_ATTR_OUTBYTES
        FK_IPVS_STATS_COUNT
        FK_IPVS_INFO_ATTR_VERSION
        FK_IPVS_INFO_ATTR_CONN_TAB_SIZE
        FK_AF_INET
        FK_AF_INET6

    enum fk_nl_status:
        FK_NL_OK
        FK_NL_EBUF
        FK_NL_EINVAL
        FK_NL_ETRUNC
        FK_NL_ELENGTH
        FK_NL_EGENL
        FK_NL_EATTR
        FK_NL_ESIZE
        FK_NL_ESTRING
        FK_NL_EERRMSG

    struct fk_nl_writer:
        uint8_t *buf
        size_t cap
        size_t len
        size_t msg
        size_t nest[4]
        unsigned depth
        int open
        int error

    void fk_nl_writer_init(fk_nl_writer *w, uint8_t *buf, size_t cap)
    void fk_nl_begin(fk_nl_writer *w, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid)
    int fk_nl_end(fk_nl_writer *w)
    void fk_nl_cancel(fk_nl_writer *w)
    void fk_genl_put_header(fk_nl_writer *w, uint8_t cmd, uint8_t version)
    void fk_nla_put(fk_nl_writer *w, uint16_t type, const void *data, size_t len)
    void fk_nla_put_u8(fk_nl_writer *w, uint16_t type, uint8_t v)
    void fk_nla_put_u16(fk_nl_writer *w, uint16_t type, uint16_t v)
    void fk_nla_put_be16(fk_nl_writer *w, uint16_t type, uint16_t v)
    void fk_nla_put_u32(fk_nl_writer *w, uint16_t type, uint32_t v)
    void fk_nla_put_be32(fk_nl_writer *w, uint16_t type, uint32_t v)
    void fk_nla_put_u64(fk_nl_writer *w, uint16_t type, uint64_t v)
    void fk_nla_put_name(fk_nl_writer *w, uint16_t type, const char *s, size_t max)
    void fk_nla_nest_begin(fk_nl_writer *w, uint16_t type)
    void fk_nla_nest_end(fk_nl_writer *w)

    struct fk_ipvs_stats:
        uint32_t attrs
        uint64_t value[11]

    struct fk_ipvs_service:
        uint32_t attrs
        uint16_t af
        uint16_t protocol
        uint8_t addr_len
        uint8_t addr[16]
        uint16_t port
        uint32_t fwmark
        char sched_name[16]
        uint32_t flags
        uint32_t flags_mask
        uint32_t timeout
        uint32_t netmask
        char pe_name[16]
        fk_ipvs_stats stats
        fk_ipvs_stats stats64

    struct fk_ipvs_dest:
        uint32_t attrs
        uint8_t addr_len
        uint8_t addr[16]
        uint16_t port
        uint32_t fwd_method
        uint32_t weight
        uint32_t u_threshold
        uint32_t l_threshold
        uint32_t active_conns
        uint32_t inact_conns
        uint32_t persist_conns
        uint16_t addr_family
        uint8_t tun_type
        uint16_t tun_port
        uint16_t tun_flags
        fk_ipvs_stats stats
        fk_ipvs_stats stats64

    struct fk_ipvs_daemon:
        uint32_t attrs
        uint32_t state
        char mcast_ifn[16]
        uint32_t sync_id
        uint16_t sync_maxlen
        uint8_t mcast_group[4]
        uint8_t mcast_group6[16]
        uint16_t mcast_port
        uint8_t mcast_ttl

    struct fk_ipvs_msg:
        uint8_t cmd
        uint8_t version
        uint32_t attrs
        fk_ipvs_service svc
        fk_ipvs_dest dest
        fk_ipvs_daemon daemon
        uint32_t timeout_tcp
        uint32_t timeout_tcp_fin
        uint32_t timeout_udp
        uint32_t info_version
        uint32_t info_conn_tab_size

    int fk_ipvs_pack(fk_nl_writer *w, uint16_t family, uint16_t flags, uint32_t seq, const fk_ipvs_msg *m)
    int fk_genl_pack_getfamily(fk_nl_writer *w, uint32_t seq, const char *name)

    struct fk_nl_reader:
        const uint8_t *buf
        size_t len
        size_t off

    struct fk_nl_msg:
        size_t offset
        const uint8_t *data
        uint32_t len
        uint16_t type
        uint16_t flags
        uint32_t seq
        uint32_t pid

    void fk_nl_reader_init(fk_nl_reader *r, const uint8_t *buf, size_t len)
    int fk_nl_next(fk_nl_reader *r, fk_nl_msg *m)

    struct fk_nl_status_msg:
        int32_t error
        const uint8_t *text
        size_t text_len
        int has_text

    int fk_nl_parse_status(const fk_nl_msg *m, fk_nl_status_msg *out, size_t *err_off)
    int fk_ipvs_parse(const fk_nl_msg *m, fk_ipvs_msg *out, size_t *err_off)

    struct fk_genl_family:
        uint32_t attrs
        uint8_t cmd
        uint8_t version
        uint16_t id
        char name[16]
        uint32_t family_version
        uint32_t hdrsize
        uint32_t maxattr

    int fk_genl_parse_family(const fk_nl_msg *m, fk_genl_family *out, size_t *err_off)


# --- vloop.h (the VRRP steady-state loop) --------------------------------------------
cdef extern from "vloop.h" nogil:
    enum fk_vloop_limits:
        FK_VLOOP_SOCKETS
        FK_VLOOP_MAX_DSTS
        FK_VLOOP_TIMERS
        FK_VLOOP_REASONS

    enum fk_vloop_event_kind:
        FK_EV_ADVERT
        FK_EV_TIMER
        FK_EV_FD

    struct fk_vloop_event:
        int64_t now_ns
        uint32_t kind
        uint32_t instance
        uint32_t timer_id
        int32_t fd_tag
        uint16_t advert_int_cs
        uint8_t priority
        uint8_t family
        uint8_t src[16]

    struct fk_vloop_view:
        uint8_t state
        uint8_t version
        uint8_t priority
        uint8_t preempt
        uint16_t master_adver_int_cs
        uint8_t address[16]
        int64_t preempt_delay_us
        int64_t preempt_until_us
        int64_t master_down_us

    struct fk_vloop_stats:
        uint64_t rx_short
        uint64_t rx_unknown
        uint64_t polls
        uint64_t wakeups
        uint64_t rx_unstamped
        uint64_t datagrams

    struct fk_vloop

    fk_vloop *fk_vloop_new(uint32_t instances)
    void fk_vloop_free(fk_vloop *L)
    int fk_vloop_set_socket(fk_vloop *L, int slot, int fd)
    int fk_vloop_add_fd(fk_vloop *L, int fd, int32_t tag)
    int fk_vloop_set_instance(fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                              int auth_type, const uint8_t *key, int unicast, int v2_interval_cs)
    int fk_vloop_update_instance(fk_vloop *L, uint32_t i, uint32_t ifindex, int family, int vrid, int slot,
                                 int auth_type, const uint8_t *key, int unicast, int v2_interval_cs)
    int fk_vloop_set_advert(fk_vloop *L, uint32_t i, uint32_t k, const uint8_t *msg, size_t len,
                            const uint8_t *dst, const uint8_t *src, uint32_t ifindex)
    int fk_vloop_set_advert_count(fk_vloop *L, uint32_t i, uint32_t n)
    void fk_vloop_set_priority(fk_vloop *L, uint32_t i, uint8_t priority)
    void fk_vloop_set_view(fk_vloop *L, uint32_t i, const fk_vloop_view *v)
    int fk_vloop_queue_advert(fk_vloop *L, uint32_t i, int priority_override)
    int fk_vloop_flush(fk_vloop *L)
    void fk_vloop_set_slack(fk_vloop *L, int64_t slack_ns)
    int fk_vloop_set_rx_interval(fk_vloop *L, int64_t interval_ns)
    int fk_vloop_classify(const fk_vloop_view *v, int64_t now_us, uint8_t priority, const uint8_t *src,
                          int alen, uint16_t advert_int_cs)
    int fk_vloop_poll(fk_vloop *L, fk_wheel *W, int64_t deadline_ns, fk_vloop_event *ev, int max_ev)
    const uint64_t *fk_vloop_counters(const fk_vloop *L, uint32_t i)
    uint32_t fk_vloop_ah_seq(const fk_vloop *L, uint32_t i)
    void fk_vloop_set_ah_seq(fk_vloop *L, uint32_t i, uint32_t seq)
    const fk_vloop_stats *fk_vloop_get_stats(const fk_vloop *L)
    int fk_vloop_carry(fk_vloop *L, const fk_vloop *src, const int32_t *map, uint32_t n)
    int64_t fk_vloop_now_ns()
