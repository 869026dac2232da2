# VRRP advertisement codec over csrc/vrrp.c: the Python edge of fk_vrrp_build /
# fk_vrrp_parse (address strings, argument checks, Advert / AdvertError). The pure
# twin is fastka/pure/advert.py: same arguments, results, reasons and messages, in the
# same order of checks. fastka.wire.advert documents the API.
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.number cimport PyNumber_Index
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memchr, memcpy, memset, strlen

from fastka._native.csrc cimport (
    AF_INET,
    AF_INET6,
    FK_VRRP_CSUM_PLAIN,
    FK_VRRP_CSUM_PSEUDO,
    FK_VRRP_CSUM_V2,
    FK_VRRP_IPV4,
    FK_VRRP_IPV6,
    FK_VRRP_OK,
    fk_vrrp_advert,
    fk_vrrp_build,
    fk_vrrp_length,
    fk_vrrp_parse,
    fk_vrrp_ntop4,
    fk_vrrp_ntop6,
    fk_vrrp_pton4,
    fk_vrrp_set_priority,
    inet_pton,
)


cdef extern from "Python.h":
    const char *_adv_utf8 "PyUnicode_AsUTF8AndSize" (object s, Py_ssize_t *size) except NULL
    object _adv_unicode_new "PyUnicode_New" (Py_ssize_t size, Py_UCS4 maxchar)
    void *_adv_unicode_data "PyUnicode_DATA" (object s)
    long long _adv_as_ll "PyLong_AsLongLongAndOverflow" (object o, int *overflow) except? -1

cdef extern from *:
    """
    /* An instance of a tuple subclass with n empty items, as tuple.__new__ makes it. */
    static PyObject *fk_advert_tuple_alloc(PyObject *type, Py_ssize_t n)
    {
        return ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, n);
    }
    """
    object _advert_tuple_alloc "fk_advert_tuple_alloc" (object type, Py_ssize_t n)


# Advert and AdvertError live in fastka.wire.advert, which imports this module (through
# fastka), so they are looked up on first use.
cdef object _advert_cls = None
cdef object _advert_error_cls = None
cdef bint _advert_plain_tuple = False  # Advert adds no slots to tuple: fill it in place
cdef tuple _ADVERT_REASONS = (None, "ttl", "length", "version", "type", "count", "checksum", "interval", "auth",
                                "replay")  # 9: FK_AH_EREPLAY (ah.pxi shares this table)
cdef str _AH_KEY_ELSEWHERE = "auth_type 2 (IP AH): the message carries no auth data; the key goes to build_ah_packet"
cdef tuple _ADVERT_FORMS = (None, "v2", "pseudo", "plain")
cdef tuple _ADVERT_BYTES = tuple(range(256))  # the ints of one-byte fields, looked up


cdef int _advert_load_types() except -1:
    global _advert_cls, _advert_error_cls, _advert_plain_tuple
    from fastka.wire.advert import Advert, AdvertError
    _advert_plain_tuple = (issubclass(Advert, tuple) and Advert.__basicsize__ == tuple.__basicsize__
                           and Advert.__itemsize__ == tuple.__itemsize__ and len(Advert._fields) == 8)
    _advert_cls = Advert
    _advert_error_cls = AdvertError
    return 0


cdef inline long long _advert_int(object value, long long too_big) except? -1:
    """value as a C integer with operator.index semantics (floats are refused);
    too_big when it does not fit."""
    cdef int overflow = 0
    cdef long long v
    if type(value) is not int:
        value = PyNumber_Index(value)
    v = _adv_as_ll(value, &overflow)
    return too_big if overflow else v


cdef inline long long _advert_ranged(object value, long long lo, long long hi, str what) except? -1:
    cdef long long v = _advert_int(value, lo - 1)
    if v < lo or v > hi:
        raise ValueError(f"{what} must be {lo}..{hi}, got {value!r}")
    return v


cdef int _advert_pton(str what, Py_ssize_t index, object addr, int family, uint8_t *out) except -1:
    """Pack addr into out (4 or 16 bytes); family 0 takes it from the string (':' means
    IPv6). Returns the family (4 or 6). what=None names the address addresses[index]."""
    cdef Py_ssize_t size = 0
    cdef const char *p
    if not isinstance(addr, str):
        if what is None:
            what = f"addresses[{index}]"
        raise TypeError(f"{what} must be an address string, not {type(addr).__name__}")
    try:
        p = _adv_utf8(addr, &size)
    except UnicodeError:
        p = NULL
    if family == 0:
        if p != NULL:
            family = FK_VRRP_IPV6 if memchr(p, 58, <size_t>size) != NULL else FK_VRRP_IPV4  # 58: ':'
        else:
            family = FK_VRRP_IPV6 if ":" in <str>addr else FK_VRRP_IPV4
    if family == FK_VRRP_IPV4:
        if p != NULL and fk_vrrp_pton4(p, <size_t>size, out):
            return family
    elif p != NULL and <size_t>size == strlen(p) and inet_pton(AF_INET6, p, out) == 1:
        return family
    if what is None:
        what = f"addresses[{index}]"
    raise ValueError(f"{what}: invalid IPv{family} address {addr!r}")


cdef inline void _advert_set(object t, Py_ssize_t i, object x):
    Py_INCREF(x)
    PyTuple_SET_ITEM(t, i, x)


cdef inline str _advert_ascii(const char *text, size_t n):
    cdef str s = _adv_unicode_new(<Py_ssize_t>n, 127)
    memcpy(_adv_unicode_data(s), text, n)
    return s


# IPv4 text of recently seen addresses: a backup sees the same master's same VIPs in
# every advert, so parse returns the same (immutable) str objects instead of new ones.
# Direct-mapped, 1024 entries, keyed by the address; a miss makes the string as before.
cdef PyObject *_n4_text[1024]
cdef uint32_t _n4_key[1024]


cdef inline str _advert_ntop4(const uint8_t *p):
    cdef char buf[16]
    cdef uint32_t key = (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]
    cdef uint32_t slot = (key * 2654435761u) >> 22
    cdef PyObject *hit = _n4_text[slot]
    if hit != NULL and _n4_key[slot] == key:
        return <str>hit
    text = _advert_ascii(buf, fk_vrrp_ntop4(p, buf))
    Py_INCREF(text)
    if hit != NULL:
        Py_DECREF(<object>hit)
    _n4_text[slot] = <PyObject *>text
    _n4_key[slot] = key
    return text


cdef inline str _advert_ntop6(const uint8_t *p):
    cdef char buf[48]
    return _advert_ascii(buf, fk_vrrp_ntop6(p, buf))


def build_advert(*, version, vrid, priority, advert_int_cs, addresses, src, dst,
                 auth_type=0, auth_data=b"", v3_checksum_as_v2=False):
    """The VRRP message (IP payload), checksum included."""
    cdef fk_vrrp_advert a
    cdef uint8_t s[16]
    cdef uint8_t d[16]
    cdef long long v, interval, at
    cdef int family, alen, n, r
    cdef Py_ssize_t count, i
    cdef bytes auth, out

    v = _advert_int(version, 0)
    if v != 2 and v != 3:
        raise ValueError(f"version must be 2 or 3, got {version!r}")
    a.version = <uint8_t>v
    a.vrid = <uint8_t>_advert_ranged(vrid, 1, 255, "vrid")
    a.priority = <uint8_t>_advert_ranged(priority, 0, 255, "priority")
    if v == 2:
        interval = _advert_ranged(advert_int_cs, 100, 25500, "VRRPv2 advert_int_cs")
        if interval % 100:
            raise ValueError(
                f"VRRPv2 advert_int_cs must be whole seconds (a multiple of 100), got {advert_int_cs!r}")
    else:
        interval = _advert_ranged(advert_int_cs, 1, 4095, "VRRPv3 advert_int_cs")
    a.advert_int_cs = <uint16_t>interval
    family = _advert_pton("src", 0, src, 0, s)
    _advert_pton("dst", 0, dst, family, d)
    if v == 2 and family == FK_VRRP_IPV6:
        raise ValueError("VRRPv2 is IPv4 only (use version 3 for IPv6)")
    if isinstance(addresses, str):
        raise TypeError("addresses must be a sequence of address strings, not a str")
    if type(addresses) is not list and type(addresses) is not tuple:
        addresses = tuple(addresses)
    count = len(addresses)
    if count < 1 or count > 255:
        raise ValueError(f"a VRRP advertisement carries 1..255 addresses, got {count}")
    a.count = <uint8_t>count
    at = _advert_int(auth_type, 3)
    if auth_data is None:
        auth_data = b""
    a.auth_type = 0
    if v == 3:
        if at != 0 or auth_data:
            raise ValueError("VRRPv3 carries no authentication (auth_type 0, no auth_data)")
    elif at == 2:
        if auth_data:
            raise ValueError(_AH_KEY_ELSEWHERE)
        a.auth_type = 2
        memset(a.auth_data, 0, 8)
    elif at != 0 and at != 1:
        raise ValueError(f"auth_type must be 0 (none), 1 (simple text) or 2 (IP AH), got {auth_type!r}")
    else:
        if not isinstance(auth_data, (bytes, bytearray)):
            raise TypeError(f"auth_data must be bytes, not {type(auth_data).__name__}")
        if len(auth_data) > 8:
            raise ValueError("auth_data is at most 8 bytes")
        if at == 0 and auth_data:
            raise ValueError("auth_data needs auth_type 1 (simple text)")
        if at == 1 and not auth_data:
            raise ValueError("auth_type 1 (simple text) needs auth_data (1..8 bytes)")
        a.auth_type = <uint8_t>at
        auth = bytes(auth_data)
        memset(a.auth_data, 0, 8)
        memcpy(a.auth_data, PyBytes_AS_STRING(auth), len(auth))

    alen = 16 if family == FK_VRRP_IPV6 else 4
    i = 0
    for addr in addresses:
        if i >= count:  # cannot happen with a list or tuple; a.addrs holds 255 at most
            break
        _advert_pton(None, i, addr, family, a.addrs + i * alen)
        i += 1
    a.family = <uint8_t>family
    if v == 2:
        a.checksum_form = FK_VRRP_CSUM_V2
    elif v3_checksum_as_v2:
        a.checksum_form = FK_VRRP_CSUM_PLAIN
    else:
        a.checksum_form = FK_VRRP_CSUM_PSEUDO
    n = <int>fk_vrrp_length(<int>v, family, <int>count)
    out = PyBytes_FromStringAndSize(NULL, n)
    r = fk_vrrp_build(<uint8_t *>PyBytes_AS_STRING(out), n, &a, s, d)
    if r != n:
        raise SystemError(f"fk_vrrp_build returned {r}")
    return out


def parse_advert(message, *, src, dst, ttl=255, auth_data=None):
    """Validate a received VRRP message; the Advert, or AdvertError(reason)."""
    cdef fk_vrrp_advert a
    cdef uint8_t s[16]
    cdef uint8_t d[16]
    cdef uint8_t expect[8]
    cdef int family, r, expect_type = -1, c_ttl, i, alen
    cdef Py_buffer view
    cdef bytes auth
    cdef tuple addrs
    cdef const uint8_t *p

    if _advert_cls is None:
        _advert_load_types()
    family = _advert_pton("src", 0, src, 0, s)
    _advert_pton("dst", 0, dst, family, d)
    if auth_data is not None:
        if not isinstance(auth_data, (bytes, bytearray)):
            raise TypeError(f"auth_data must be bytes, not {type(auth_data).__name__}")
        if len(auth_data) > 8:
            raise ValueError("auth_data is at most 8 bytes")
        auth = bytes(auth_data)
        memset(expect, 0, 8)
        memcpy(expect, PyBytes_AS_STRING(auth), len(auth))
        expect_type = 1 if len(auth) else 0

    if type(message) is bytes:  # the common case, without the buffer protocol
        c_ttl = -1 if ttl != 255 else 255
        r = fk_vrrp_parse(&a, <const uint8_t *>PyBytes_AS_STRING(message), <size_t>PyBytes_GET_SIZE(message),
                          family, s, d, c_ttl, expect_type, expect)
    else:
        PyObject_GetBuffer(message, &view, PyBUF_SIMPLE)
        try:
            c_ttl = -1 if ttl != 255 else 255
            r = fk_vrrp_parse(&a, <const uint8_t *>view.buf, <size_t>view.len, family, s, d, c_ttl,
                              expect_type, expect)
        finally:
            PyBuffer_Release(&view)
    if r != FK_VRRP_OK:
        raise _advert_error_cls(_ADVERT_REASONS[r])

    addrs = PyTuple_New(a.count)
    p = a.addrs
    if family == FK_VRRP_IPV4:
        for i in range(a.count):
            x = _advert_ntop4(p)
            Py_INCREF(x)
            PyTuple_SET_ITEM(addrs, i, x)
            p += 4
    else:
        for i in range(a.count):
            x = _advert_ntop6(p)
            Py_INCREF(x)
            PyTuple_SET_ITEM(addrs, i, x)
            p += 16
    form = _ADVERT_FORMS[a.checksum_form]
    if not _advert_plain_tuple:
        return tuple.__new__(_advert_cls, (a.version, a.type, a.vrid, a.priority, a.advert_int_cs,
                                           a.auth_type, addrs, form))
    result = _advert_tuple_alloc(_advert_cls, 8)
    _advert_set(result, 0, <object>PyTuple_GET_ITEM(_ADVERT_BYTES, a.version))
    _advert_set(result, 1, <object>PyTuple_GET_ITEM(_ADVERT_BYTES, a.type))
    _advert_set(result, 2, <object>PyTuple_GET_ITEM(_ADVERT_BYTES, a.vrid))
    _advert_set(result, 3, <object>PyTuple_GET_ITEM(_ADVERT_BYTES, a.priority))
    _advert_set(result, 4, a.advert_int_cs)
    _advert_set(result, 5, <object>PyTuple_GET_ITEM(_ADVERT_BYTES, a.auth_type))
    _advert_set(result, 6, addrs)
    _advert_set(result, 7, form)
    return result


def set_advert_priority(message, priority):
    """Set the priority of a built message in place, updating its checksum (RFC 1624)."""
    cdef Py_buffer view
    cdef long long prio
    PyObject_GetBuffer(message, &view, PyBUF_SIMPLE)
    try:
        if view.readonly:
            raise TypeError("message must be a writable buffer (bytearray)")
        prio = _advert_ranged(priority, 0, 255, "priority")
        if view.len < 8:
            raise ValueError("message is shorter than a VRRP header")
        fk_vrrp_set_priority(<uint8_t *>view.buf, <size_t>view.len, <uint8_t>prio)
    finally:
        PyBuffer_Release(&view)
