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
    int fk_wheel_advance(fk_wheel *w, int64_t now_ns, uint32_t *out, uint32_t max)
    int64_t fk_wheel_next_expiry(const fk_wheel *w)


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
