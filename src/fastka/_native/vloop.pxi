# The VRRP steady-state loop over csrc/vloop.c (contract in csrc/vloop.h); driven by
# fastka.vrrp.engine, whose Python loop is its twin. Names carry a _vl prefix.
from libc.stdlib cimport free, malloc

from fastka._native.csrc cimport (
    FK_EV_ADVERT,
    FK_EV_FD,
    FK_EV_TIMER,
    FK_VLOOP_MAX_DSTS,
    FK_VLOOP_REASONS,
    fk_vloop,
    fk_vloop_add_fd,
    fk_vloop_ah_seq,
    fk_vloop_set_ah_seq,
    fk_vloop_classify,
    fk_vloop_counters,
    fk_vloop_event,
    fk_vloop_flush,
    fk_vloop_free,
    fk_vloop_new,
    fk_vloop_now_ns,
    fk_vloop_poll,
    fk_vloop_queue_advert,
    fk_vloop_set_advert,
    fk_vloop_set_advert_count,
    fk_vloop_set_instance,
    fk_vloop_update_instance,
    fk_vloop_set_priority,
    fk_vloop_set_rx_interval,
    fk_vloop_set_slack,
    fk_vloop_set_socket,
    fk_vloop_set_view,
    fk_vloop_get_stats,
    fk_vloop_carry,
    fk_vloop_stats,
    fk_vloop_view,
)


cdef int _vl_addr(object text, uint8_t *out) except -1:
    """text (an address string) into out[0..16), zero padded; its family."""
    memset(out, 0, 16)
    return _advert_pton("address", 0, text, 0, out)


cdef class VrrpLoop:
    """The native VRRP loop over `instances` instances and a TimerWheel (see csrc/vloop.h)."""

    cdef fk_vloop *_L
    cdef TimerWheel _wheel
    cdef fk_vloop_event *_ev
    cdef int _max_ev

    def __cinit__(self, uint32_t instances, TimerWheel wheel, int max_events=4096):
        self._L = fk_vloop_new(instances)
        self._ev = <fk_vloop_event *>malloc(sizeof(fk_vloop_event) * max_events)
        if self._L == NULL or self._ev == NULL:
            raise MemoryError()
        self._wheel = wheel
        self._max_ev = max_events

    def __dealloc__(self):
        fk_vloop_free(self._L)
        free(self._ev)

    def set_socket(self, int slot, int fd):
        r = fk_vloop_set_socket(self._L, slot, fd)
        if r < 0:
            raise OSError(-r, _mm_os.strerror(-r))

    def add_fd(self, int fd, int tag):
        r = fk_vloop_add_fd(self._L, fd, tag)
        if r < 0:
            raise OSError(-r, _mm_os.strerror(-r))

    def set_instance(self, uint32_t i, uint32_t ifindex, int family, int vrid, int slot, int auth_type,
                     bytes key, bint unicast, int v2_interval_cs):
        cdef uint8_t k[8]
        memset(k, 0, 8)
        memcpy(k, PyBytes_AS_STRING(key), min(len(key), 8))
        if fk_vloop_set_instance(self._L, i, ifindex, family, vrid, slot, auth_type, k, unicast,
                                 v2_interval_cs) < 0:
            raise ValueError(f"instance {i}: bad arguments, or (interface {ifindex}, IPv{family}, VRID {vrid}) "
                             "is already taken")

    def update_instance(self, uint32_t i, uint32_t ifindex, int family, int vrid, int slot, int auth_type,
                        bytes key, bint unicast, int v2_interval_cs):
        """Instance i (set already, the same ifindex, family, VRID) takes new settings;
        its counters, adverts and view stay."""
        cdef uint8_t k[8]
        memset(k, 0, 8)
        memcpy(k, PyBytes_AS_STRING(key), min(len(key), 8))
        if fk_vloop_update_instance(self._L, i, ifindex, family, vrid, slot, auth_type, k, unicast,
                                    v2_interval_cs) < 0:
            raise ValueError(f"instance {i}: bad arguments, not set, or not (interface {ifindex}, IPv{family}, "
                             f"VRID {vrid})")

    def set_adverts(self, uint32_t i, list adverts):
        """adverts: (message bytes, dst, src, ifindex) per destination."""
        cdef uint8_t d[16]
        cdef uint8_t s[16]
        cdef bytes m
        if len(adverts) > FK_VLOOP_MAX_DSTS:
            raise ValueError(f"at most {FK_VLOOP_MAX_DSTS} destinations per instance")
        for k, (msg, dst, src, ifindex) in enumerate(adverts):
            m = bytes(msg)
            _vl_addr(dst, d)
            _vl_addr(src, s)
            if fk_vloop_set_advert(self._L, i, k, <const uint8_t *>PyBytes_AS_STRING(m), len(m), d, s,
                                   ifindex) < 0:
                raise ValueError(f"instance {i}: advert {k} refused")
        fk_vloop_set_advert_count(self._L, i, len(adverts))

    def set_priority(self, uint32_t i, int priority):
        fk_vloop_set_priority(self._L, i, <uint8_t>priority)

    def set_view(self, uint32_t i, int state, int version, int priority, bint preempt, int master_adver_int_cs,
                 bytes address, int64_t preempt_delay_us, int64_t preempt_until_us, int64_t master_down_us):
        """address: this router's primary address, packed (4 or 16 bytes)."""
        cdef fk_vloop_view v
        if len(address) not in (4, 16):
            raise ValueError("address must be 4 or 16 bytes")
        v.state = <uint8_t>state
        v.version = <uint8_t>version
        v.priority = <uint8_t>priority
        v.preempt = preempt
        v.master_adver_int_cs = <uint16_t>master_adver_int_cs
        memset(v.address, 0, 16)
        memcpy(v.address, PyBytes_AS_STRING(address), len(address))
        v.preempt_delay_us = preempt_delay_us
        v.preempt_until_us = preempt_until_us
        v.master_down_us = master_down_us
        fk_vloop_set_view(self._L, i, &v)

    def carry(self, VrrpLoop src not None, const int32_t[::1] index_map not None):
        """Instance j takes src's instance index_map[j] (if >= 0): view, counters, AH
        sequence, IP id (a reload's new loop, after set_socket)."""
        cdef Py_ssize_t n = index_map.shape[0]
        if n > 0xFFFFFFFF:
            raise ValueError("index_map too long")
        cdef int r = fk_vloop_carry(self._L, src._L, &index_map[0] if n else NULL, <uint32_t>n)
        if r < 0:
            raise IndexError(f"an instance index is out of range (of {n})")

    def set_slack(self, int64_t slack_ns):
        fk_vloop_set_slack(self._L, slack_ns)

    def set_rx_interval(self, int64_t interval_ns):
        r = fk_vloop_set_rx_interval(self._L, interval_ns)
        if r < 0:
            raise OSError(-r, _mm_os.strerror(-r))

    def queue_advert(self, uint32_t i, int priority=-1):
        return fk_vloop_queue_advert(self._L, i, priority)

    def flush(self):
        return fk_vloop_flush(self._L)

    def poll(self, int64_t deadline_ns):
        """Run until events or deadline_ns (CLOCK_MONOTONIC); the events as tuples
        (kind, instance, now_ns, timer_id, fd_tag, priority, advert_int_cs, src):
        kind 1 advert, 2 timer, 3 descriptor."""
        cdef int n, j
        cdef fk_vloop_event *e
        with nogil:
            n = fk_vloop_poll(self._L, self._wheel._w, deadline_ns, self._ev, self._max_ev)
        if n < 0:
            raise OSError(-n, _mm_os.strerror(-n))
        out = []
        for j in range(n):
            e = &self._ev[j]
            if e.kind == FK_EV_ADVERT:
                src = _advert_ntop6(e.src) if e.family == 6 else _advert_ntop4(e.src)
            else:
                src = None
            out.append((e.kind, e.instance, e.now_ns, e.timer_id, e.fd_tag, e.priority, e.advert_int_cs, src))
        return out

    def counters(self, uint32_t i):
        cdef const uint64_t *c = fk_vloop_counters(self._L, i)
        cdef int j
        return tuple([c[j] for j in range(<int>FK_VLOOP_REASONS)])

    def ah_seq(self, uint32_t i):
        return fk_vloop_ah_seq(self._L, i)

    def set_ah_seq(self, uint32_t i, uint32_t seq):
        fk_vloop_set_ah_seq(self._L, i, seq)

    def stats(self):
        cdef const fk_vloop_stats *s = fk_vloop_get_stats(self._L)
        return {"rx_short": s.rx_short, "rx_unknown_vrid": s.rx_unknown, "polls": s.polls, "wakeups": s.wakeups,
                "rx_unstamped": s.rx_unstamped, "datagrams": s.datagrams}


def vloop_now_ns():
    """CLOCK_MONOTONIC in nanoseconds, as the native loop reads it."""
    return fk_vloop_now_ns()


def vloop_classify(state, version, priority, preempt, master_adver_int_cs, address, preempt_delay_us,
                   preempt_until_us, master_down_us, int64_t now_us, int adv_priority, src, int advert_int_cs):
    """fk_vloop_classify, for tests against state_machine.classify_advert."""
    cdef fk_vloop_view v
    cdef uint8_t s[16]
    v.state = state
    v.version = version
    v.priority = priority
    v.preempt = preempt
    v.master_adver_int_cs = master_adver_int_cs
    fam = _vl_addr(address, v.address)
    v.preempt_delay_us = preempt_delay_us
    v.preempt_until_us = preempt_until_us
    v.master_down_us = master_down_us
    _vl_addr(src, s)
    return fk_vloop_classify(&v, now_us, <uint8_t>adv_priority, s, 16 if fam == 6 else 4, <uint16_t>advert_int_cs)
