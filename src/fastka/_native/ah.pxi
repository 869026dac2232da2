# VRRPv2 IP AH (auth type 2) over csrc/ah.c; fastka.wire.ah documents the API, the
# pure-Python twin is fastka.pure.ah. Shares advert.pxi's helpers and reason table.

from libc.stdint cimport uint32_t

from fastka._native.csrc cimport (
    FK_AH_IP4_HDR_LEN,
    FK_AH_LEN,
    FK_AH_OK,
    fk_ah_build,
    fk_ah_parse,
)

cdef object _ah_packet_cls = None


cdef int _ah_key(object auth_data, uint8_t *key) except -1:
    if not isinstance(auth_data, (bytes, bytearray)):
        raise TypeError(f"auth_data must be bytes, not {type(auth_data).__name__}")
    cdef Py_ssize_t n = len(auth_data)
    if n < 1 or n > 8:
        raise ValueError("auth_data (the AH key, auth_pass) is 1..8 bytes")
    cdef bytes b = bytes(auth_data)
    memset(key, 0, 8)
    memcpy(key, PyBytes_AS_STRING(b), n)
    return 0


cdef inline long long _ah_ranged(object value, long long hi, str what) except? -1:
    cdef long long v = _advert_int(value, -1)
    if v < 0 or v > hi:
        raise ValueError(f"{what} must be 0..{hi}, got {value!r}")
    return v


def build_ah_packet(*, message, src, dst, seq, auth_data, ip_id=0, tos=0xC0, unicast=False):
    """IPv4 header + AH + message, ICV and header checksum filled."""
    cdef uint8_t s[16]
    cdef uint8_t d[16]
    cdef uint8_t key[8]
    cdef bytes msg, out
    cdef long long c_seq, c_id, c_tos
    cdef Py_ssize_t total
    if not isinstance(message, (bytes, bytearray)):
        raise TypeError(f"message must be bytes, not {type(message).__name__}")
    _advert_pton("src", 0, src, FK_VRRP_IPV4, s)
    _advert_pton("dst", 0, dst, FK_VRRP_IPV4, d)
    c_seq = _ah_ranged(seq, 0xFFFFFFFF, "seq")
    c_id = _ah_ranged(ip_id, 0xFFFF, "ip_id")
    c_tos = _ah_ranged(tos, 0xFF, "tos")
    _ah_key(auth_data, key)
    msg = bytes(message)
    total = FK_AH_IP4_HDR_LEN + FK_AH_LEN + PyBytes_GET_SIZE(msg)
    if total > 0xFFFF:
        raise ValueError("message too long for an IPv4 datagram")
    out = PyBytes_FromStringAndSize(NULL, total)
    r = fk_ah_build(<uint8_t *>PyBytes_AS_STRING(out), <size_t>total, <const uint8_t *>PyBytes_AS_STRING(msg),
                    <size_t>PyBytes_GET_SIZE(msg), s, d, <uint16_t>c_id, <uint8_t>c_tos, <uint32_t>c_seq, key,
                    1 if unicast else 0)
    if r != total:
        raise SystemError(f"fk_ah_build returned {r}")
    return out


def parse_ah_packet(packet, *, auth_data, last_seq=None, unicast=False):
    """Check an IPv4 datagram carrying AH + VRRP; see fastka.wire.ah."""
    global _ah_packet_cls
    cdef uint8_t key[8]
    cdef uint32_t last = 0, seq = 0
    cdef size_t off = 0
    cdef Py_buffer view
    cdef const uint8_t *p
    cdef int r
    if _ah_packet_cls is None:
        from fastka.wire.ah import AhPacket
        _ah_packet_cls = AhPacket
    if _advert_cls is None:
        _advert_load_types()
    _ah_key(auth_data, key)
    if last_seq is not None:
        last = <uint32_t>_ah_ranged(last_seq, 0xFFFFFFFF, "last_seq")
    PyObject_GetBuffer(packet, &view, PyBUF_SIMPLE)
    try:
        p = <const uint8_t *>view.buf
        r = fk_ah_parse(p, <size_t>view.len, key, 1 if unicast else 0,
                        &last if last_seq is not None else NULL, &seq, &off)
        if r != FK_AH_OK:
            raise _advert_error_cls(_ADVERT_REASONS[r])
        return _ah_packet_cls(seq, _advert_ntop4(p + 12), _advert_ntop4(p + 16), p[8],
                              PyBytes_FromStringAndSize(<const char *>p + off, view.len - <Py_ssize_t>off))
    finally:
        PyBuffer_Release(&view)
