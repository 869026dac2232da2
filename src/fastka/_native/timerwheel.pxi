# Timer wheel over csrc/timerwheel.c (contract in csrc/timerwheel.h); the twin is
# fastka/pure/timerwheel.py. Module-level names here carry a _tw_ prefix: every .pxi
# shares one module namespace.
from cpython cimport array as _tw_carray
from libc.stdint cimport int32_t, int64_t, uint32_t
from libc.string cimport memcpy

from fastka._native.csrc cimport (
    FK_WHEEL_EBADID,
    FK_WHEEL_EINVAL,
    FK_WHEEL_ERANGE,
    FK_WHEEL_NONE,
    fk_wheel,
    fk_wheel_advance,
    fk_wheel_arm,
    fk_wheel_arm_periodic,
    fk_wheel_cancel,
    fk_wheel_count,
    fk_wheel_deadline,
    fk_wheel_free,
    fk_wheel_is_armed,
    fk_wheel_new,
    fk_wheel_next_expiry,
    fk_wheel_carry,
    fk_wheel_period,
    fk_wheel_rearm,
    fk_wheel_start_ns,
    fk_wheel_tick_ns,
)

import array as _tw_array
import time as _tw_time

cdef enum:
    _TW_BATCH = 1024              # ids drained per C call by advance()
    _TW_MAX_CAPACITY = 1 << 28

cdef _tw_carray.array _TW_IDS = _tw_array.array("I")


cdef int _tw_check(int rc, const char *what) except -1:
    if rc >= 0:
        return rc
    if rc == FK_WHEEL_EBADID:
        raise IndexError(f"timer id out of range ({what.decode()})")
    if rc == FK_WHEEL_ERANGE:
        raise OverflowError(f"deadline + interval_ns beyond int64 ({what.decode()})")
    raise ValueError(f"invalid argument to {what.decode()}")


cdef class TimerWheel:
    """Preallocated timers 0..capacity-1, each one-shot or periodic, expiring in batches.

    Deadlines are absolute monotonic nanoseconds (>= 0). The wheel ticks every tick_ns
    from start_ns (default: now); a timer is returned by the first advance(now_ns)
    whose now_ns reaches the start of its deadline's tick: never early, less than one
    tick late. Four levels of 256 slots; arm, cancel and re-arm are O(1).
    """

    cdef fk_wheel *_w
    cdef long long _cap
    cdef uint32_t _buf[_TW_BATCH]

    def __cinit__(self, long long capacity, start_ns=None, int64_t tick_ns=100_000):
        cdef int64_t start = _tw_time.monotonic_ns() if start_ns is None else start_ns
        if not 1 <= capacity <= _TW_MAX_CAPACITY:
            raise ValueError(f"capacity must be 1..{_TW_MAX_CAPACITY}, not {capacity}")
        if start < 0:
            raise ValueError("start_ns must be >= 0")
        if tick_ns < 1:
            raise ValueError("tick_ns must be >= 1")
        self._w = fk_wheel_new(<uint32_t>capacity, start, tick_ns)
        if self._w is NULL:
            raise MemoryError()
        self._cap = capacity

    def __dealloc__(self):
        fk_wheel_free(self._w)

    cdef inline uint32_t _id(self, long long id) except? 0xFFFFFFFF:
        if id < 0 or id >= self._cap:
            raise IndexError(f"timer id {id} out of range 0..{self._cap - 1}")
        return <uint32_t>id

    @property
    def capacity(self):
        return self._cap

    @property
    def start_ns(self):
        return fk_wheel_start_ns(self._w)

    @property
    def tick_ns(self):
        return fk_wheel_tick_ns(self._w)

    def __len__(self):
        return fk_wheel_count(self._w)

    def arm(self, long long id, int64_t deadline_ns):
        """Arm timer id as a one-shot at deadline_ns (re-arms an armed timer)."""
        _tw_check(fk_wheel_arm(self._w, self._id(id), deadline_ns), b"arm")

    def arm_periodic(self, long long id, int64_t first_deadline_ns, int64_t interval_ns):
        """Arm timer id at first_deadline_ns, then every interval_ns after each expiry's deadline
        (skipping whole intervals already past, so the phase never drifts)."""
        _tw_check(fk_wheel_arm_periodic(self._w, self._id(id), first_deadline_ns, interval_ns), b"arm_periodic")

    def rearm(self, long long id, int64_t interval_ns):
        """Arm timer id as a one-shot at its last deadline plus interval_ns; return that deadline."""
        cdef uint32_t i = self._id(id)
        _tw_check(fk_wheel_rearm(self._w, i, interval_ns), b"rearm")
        return fk_wheel_deadline(self._w, i)

    def cancel(self, long long id):
        """Disarm timer id; True if it was armed."""
        return fk_wheel_cancel(self._w, self._id(id)) == 1

    def is_armed(self, long long id):
        return fk_wheel_is_armed(self._w, self._id(id)) == 1

    def deadline(self, long long id):
        """The last deadline timer id was armed at (kept after expiry and cancel), None if never armed."""
        cdef int64_t d = fk_wheel_deadline(self._w, self._id(id))
        return None if d == FK_WHEEL_NONE else d

    def period(self, long long id):
        """The interval of a periodic timer, 0 for a one-shot."""
        return fk_wheel_period(self._w, self._id(id))

    def carry(self, TimerWheel src not None, const int32_t[::1] index_map not None, uint32_t per,
              int64_t not_before_ns):
        """Arm timers as copies of src's (a reload's new wheel takes the running one's): for
        each j with index_map[j] >= 0, timers j*per.. take src's armed timers index_map[j]*per..,
        deadline (at least not_before_ns) and period. How many were armed."""
        cdef Py_ssize_t n = index_map.shape[0]
        if n * <Py_ssize_t>per > self._cap:
            raise IndexError(f"{n} x {per} timers do not fit in {self._cap}")
        cdef int r = fk_wheel_carry(self._w, src._w, &index_map[0] if n else NULL, <uint32_t>n, per,
                                    not_before_ns)
        _tw_check(r, b"carry")
        return r

    def advance(self, int64_t now_ns):
        """Process every tick starting at or before now_ns; return all expired ids as array('I')."""
        cdef int n = fk_wheel_advance(self._w, now_ns, self._buf, _TW_BATCH)
        cdef _tw_carray.array res = _tw_carray.clone(_TW_IDS, n, False)
        if n:
            memcpy(res.data.as_uints, self._buf, n * sizeof(uint32_t))
        while n == _TW_BATCH:
            n = fk_wheel_advance(self._w, now_ns, self._buf, _TW_BATCH)
            if n:
                _tw_carray.extend_buffer(res, <char *>self._buf, n)
        return res

    def advance_into(self, int64_t now_ns, uint32_t[::1] out not None):
        """Like advance, but write at most len(out) ids into out (a writable 'I' buffer) and return
        how many; expired timers that did not fit come out of the next call."""
        cdef Py_ssize_t m = out.shape[0]
        if m > 0x7FFFFFFF:
            m = 0x7FFFFFFF
        return fk_wheel_advance(self._w, now_ns, &out[0] if m else NULL, <uint32_t>m)

    def next_expiry(self):
        """The start of the tick of the earliest armed deadline (when advance returns it), or -1."""
        return fk_wheel_next_expiry(self._w)
