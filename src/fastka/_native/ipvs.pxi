# IPVS generic netlink messages over csrc/ipvs.c: IpvsBatch (packing into one growing
# buffer through fk_ipvs_pack) and parse_ipvs_replies (fk_nl_next / fk_ipvs_parse /
# fk_nl_parse_status / fk_genl_parse_family into fastka.wire.ipvs's NamedTuples).
# The pure twin is fastka/pure/ipvs.py: same arguments, bytes, objects and error
# messages, checked in the same order. fastka.wire.ipvs documents the API.
# Module-level names carry an _ipvs_ prefix: every .pxi shares one namespace.
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.number cimport PyNumber_Index
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_AsEncodedString, PyUnicode_DecodeUTF8
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memchr, memcpy, strlen

from fastka._native.csrc cimport (
    AF_INET6,
    FK_AF_INET,
    FK_AF_INET6,
    FK_CTRL_ATTR_FAMILY_ID,
    FK_CTRL_ATTR_FAMILY_NAME,
    FK_CTRL_ATTR_HDRSIZE,
    FK_CTRL_ATTR_MAXATTR,
    FK_CTRL_ATTR_VERSION,
    FK_GENL_ID_CTRL,
    FK_IPVS_CMD_ATTR_DAEMON,
    FK_IPVS_CMD_ATTR_DEST,
    FK_IPVS_CMD_ATTR_SERVICE,
    FK_IPVS_CMD_ATTR_TIMEOUT_TCP,
    FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
    FK_IPVS_CMD_ATTR_TIMEOUT_UDP,
    FK_IPVS_CMD_SET_INFO,
    FK_IPVS_DAEMON_ATTR_MCAST_GROUP,
    FK_IPVS_DAEMON_ATTR_MCAST_GROUP6,
    FK_IPVS_DAEMON_ATTR_MCAST_IFN,
    FK_IPVS_DAEMON_ATTR_MCAST_PORT,
    FK_IPVS_DAEMON_ATTR_MCAST_TTL,
    FK_IPVS_DAEMON_ATTR_STATE,
    FK_IPVS_DAEMON_ATTR_SYNC_ID,
    FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN,
    FK_IPVS_DEST_ATTR_ACTIVE_CONNS,
    FK_IPVS_DEST_ATTR_ADDR,
    FK_IPVS_DEST_ATTR_ADDR_FAMILY,
    FK_IPVS_DEST_ATTR_FWD_METHOD,
    FK_IPVS_DEST_ATTR_INACT_CONNS,
    FK_IPVS_DEST_ATTR_L_THRESH,
    FK_IPVS_DEST_ATTR_PERSIST_CONNS,
    FK_IPVS_DEST_ATTR_PORT,
    FK_IPVS_DEST_ATTR_STATS,
    FK_IPVS_DEST_ATTR_STATS64,
    FK_IPVS_DEST_ATTR_TUN_FLAGS,
    FK_IPVS_DEST_ATTR_TUN_PORT,
    FK_IPVS_DEST_ATTR_TUN_TYPE,
    FK_IPVS_DEST_ATTR_U_THRESH,
    FK_IPVS_DEST_ATTR_WEIGHT,
    FK_IPVS_GENL_VERSION,
    FK_IPVS_INFO_ATTR_CONN_TAB_SIZE,
    FK_IPVS_INFO_ATTR_VERSION,
    FK_IPVS_MSG_MAX,
    FK_IPVS_NAME_MAX,
    FK_IPVS_SVC_ATTR_ADDR,
    FK_IPVS_SVC_ATTR_AF,
    FK_IPVS_SVC_ATTR_FLAGS,
    FK_IPVS_SVC_ATTR_FWMARK,
    FK_IPVS_SVC_ATTR_NETMASK,
    FK_IPVS_SVC_ATTR_PE_NAME,
    FK_IPVS_SVC_ATTR_PORT,
    FK_IPVS_SVC_ATTR_PROTOCOL,
    FK_IPVS_SVC_ATTR_SCHED_NAME,
    FK_IPVS_SVC_ATTR_STATS,
    FK_IPVS_SVC_ATTR_STATS64,
    FK_IPVS_SVC_ATTR_TIMEOUT,
    FK_NLMSG_DONE,
    FK_NLMSG_ERROR,
    fk_genl_family,
    fk_genl_pack_getfamily,
    fk_genl_parse_family,
    fk_ipvs_daemon,
    fk_ipvs_dest,
    fk_ipvs_msg,
    fk_ipvs_pack,
    fk_ipvs_parse,
    fk_ipvs_service,
    fk_ipvs_stats,
    fk_nl_msg,
    fk_nl_next,
    fk_nl_parse_status,
    fk_nl_reader,
    fk_nl_reader_init,
    fk_nl_status_msg,
    fk_nl_writer,
    fk_nl_writer_init,
    fk_vrrp_ntop4,
    fk_vrrp_ntop6,
    fk_vrrp_pton4,
    inet_pton,
)


cdef extern from "Python.h":
    const char *_ipvs_utf8 "PyUnicode_AsUTF8AndSize" (object s, Py_ssize_t *size) except NULL
    object _ipvs_unicode_new "PyUnicode_New" (Py_ssize_t size, Py_UCS4 maxchar)
    void *_ipvs_unicode_data "PyUnicode_DATA" (object s)
    long long _ipvs_as_ll "PyLong_AsLongLongAndOverflow" (object o, int *overflow) except? -1
    unsigned long long _ipvs_as_ull "PyLong_AsUnsignedLongLong" (object o) except? 0xFFFFFFFFFFFFFFFF

cdef extern from *:
    """
    /* An instance of a tuple subclass with n empty items, as tuple.__new__ makes it. */
    static PyObject *fk_ipvs_tuple_alloc(PyObject *type, Py_ssize_t n)
    {
        return ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, n);
    }
    """
    object _ipvs_alloc "fk_ipvs_tuple_alloc" (object type, Py_ssize_t n)


cdef enum:
    _IPVS_IDENT = 0       # a service / dest part: its identifying attributes
    _IPVS_FULL = 1        # ... everything a NEW / SET command carries
    _IPVS_RAW = 2         # ... every field that is not None
    _IPVS_D_NEW = 0       # a daemon part: NEW_DAEMON / DEL_DAEMON / every field
    _IPVS_D_DEL = 1
    _IPVS_D_RAW = 2
    _IPVS_REQUEST_ACK = 0x5
    _IPVS_REQUEST = 0x1
    _IPVS_REQUEST_DUMP = 0x301
    _IPVS_FIRST_CAP = 4096

cdef unsigned long long _IPVS_U16 = 0xFFFF
cdef unsigned long long _IPVS_U32 = 0xFFFFFFFF
cdef unsigned long long _IPVS_U64 = 0xFFFFFFFFFFFFFFFF

# The NamedTuples of fastka.wire.ipvs (which imports this module through fastka):
# looked up on first use.
cdef object _ipvs_Service = None
cdef object _ipvs_Dest = None
cdef object _ipvs_Daemon = None
cdef object _ipvs_Timeouts = None
cdef object _ipvs_Info = None
cdef object _ipvs_Stats = None
cdef object _ipvs_Message = None
cdef object _ipvs_Ack = None
cdef object _ipvs_Done = None
cdef object _ipvs_Family = None
cdef object _ipvs_Other = None
cdef object _ipvs_FormatError = None
cdef tuple _IPVS_REASONS = (None, None, None, "truncated", "length", "genl", "attr", "size", "string", "errmsg")
cdef tuple _IPVS_STATS_FIELDS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes",
                                 "cps", "inpps", "outpps", "inbps", "outbps")
cdef object _IPVS_ALL_ONES = 0xFFFFFFFF


cdef int _ipvs_load_types() except -1:
    global _ipvs_Service, _ipvs_Dest, _ipvs_Daemon, _ipvs_Timeouts, _ipvs_Info, _ipvs_Stats
    global _ipvs_Message, _ipvs_Ack, _ipvs_Done, _ipvs_Family, _ipvs_Other, _ipvs_FormatError
    from fastka.wire import ipvs as m
    for cls in (m.Service, m.Dest, m.Daemon, m.Timeouts, m.Info, m.Stats, m.IpvsMessage, m.Ack, m.Done,
                m.Family, m.Other):
        # filled in place below: each must be a tuple subclass adding no slots
        if not (issubclass(cls, tuple) and cls.__basicsize__ == tuple.__basicsize__
                and cls.__itemsize__ == tuple.__itemsize__):
            raise TypeError(f"{cls.__name__} must be a plain NamedTuple")
    _ipvs_Dest = m.Dest
    _ipvs_Daemon = m.Daemon
    _ipvs_Timeouts = m.Timeouts
    _ipvs_Info = m.Info
    _ipvs_Stats = m.Stats
    _ipvs_Message = m.IpvsMessage
    _ipvs_Ack = m.Ack
    _ipvs_Done = m.Done
    _ipvs_Family = m.Family
    _ipvs_Other = m.Other
    _ipvs_FormatError = m.NetlinkFormatError
    _ipvs_Service = m.Service  # last: the others are set once this one is
    return 0


# --- Python values -> C ----------------------------------------------------------------


cdef unsigned long long _ipvs_uint(object value, unsigned long long hi, str what,
                                   str sub) except? 0xFFFFFFFFFFFFFFFF:
    """value (operator.index semantics) in 0..hi, or ValueError naming what(.sub)."""
    cdef int overflow = 0
    cdef long long v
    cdef object o = value
    if type(o) is not int:
        o = PyNumber_Index(o)
    v = _ipvs_as_ll(o, &overflow)
    if overflow == 0:
        if v >= 0 and <unsigned long long>v <= hi:
            return <unsigned long long>v
    elif overflow > 0 and hi == _IPVS_U64 and o <= 0xFFFFFFFFFFFFFFFF:
        return _ipvs_as_ull(o)
    if sub is not None:
        what = f"{what}.{sub}"
    raise ValueError(f"{what} must be 0..{hi}, got {value!r}")


cdef inline int _ipvs_check(object value, object cls, Py_ssize_t size, str what) except -1:
    if type(value) is not cls and not isinstance(value, cls):
        raise TypeError(f"{what} must be a {cls.__name__}, not {type(value).__name__}")
    if PyTuple_GET_SIZE(value) != size:  # a NamedTuple subclass with more fields
        raise TypeError(f"{what} must be a {cls.__name__} of {size} fields")
    return 0


cdef int _ipvs_name(object value, char *out, str what) except -1:
    """value, UTF-8 (surrogateescape), at most 15 bytes without NUL, into out with a NUL."""
    cdef Py_ssize_t n = 0
    cdef const char *p = NULL
    cdef bytes b
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    try:
        p = _ipvs_utf8(value, &n)
    except UnicodeError:
        b = PyUnicode_AsEncodedString(value, "utf-8", "surrogateescape")
        p = PyBytes_AS_STRING(b)
        n = PyBytes_GET_SIZE(b)
    if n > FK_IPVS_NAME_MAX or memchr(p, 0, <size_t>n) != NULL:
        raise ValueError(f"{what} must be at most {FK_IPVS_NAME_MAX} bytes (UTF-8) without NUL, got {value!r}")
    memcpy(out, p, <size_t>n)
    out[n] = 0
    return 0


cdef int _ipvs_pton(object addr, int family, uint8_t *out, str what) except -1:
    """Pack addr into out; family 4 or 6, or 0: from the string (':' means IPv6).
    Returns the length (4 or 16)."""
    cdef Py_ssize_t size = 0
    cdef const char *p
    if not isinstance(addr, str):
        raise TypeError(f"{what} must be an address string, not {type(addr).__name__}")
    try:
        p = _ipvs_utf8(addr, &size)
    except UnicodeError:
        p = NULL
    if family == 0:
        if p != NULL:
            family = 6 if memchr(p, 58, <size_t>size) != NULL else 4  # 58: ':'
        else:
            family = 6 if ":" in <str>addr else 4
    if family == 4:
        if p != NULL and fk_vrrp_pton4(p, <size_t>size, out):
            return 4
    elif p != NULL and <size_t>size == strlen(p) and inet_pton(AF_INET6, p, out) == 1:
        return 16
    raise ValueError(f"{what}: invalid IPv{family} address {addr!r}")


cdef inline object _ipvs_item(object t, Py_ssize_t i):
    return <object>PyTuple_GET_ITEM(t, i)


cdef int _ipvs_stats(fk_ipvs_stats *st, object stats, bint wide, str what) except -1:
    cdef int i
    _ipvs_check(stats, _ipvs_Stats, 10, what)
    st.attrs = 0
    for i in range(10):
        if wide or i == 3 or i == 4:
            st.value[i + 1] = _ipvs_uint(_ipvs_item(stats, i), _IPVS_U64, what, _IPVS_STATS_FIELDS[i])
        else:
            st.value[i + 1] = _ipvs_uint(_ipvs_item(stats, i), _IPVS_U32, what, _IPVS_STATS_FIELDS[i])
        st.attrs |= 1u << (i + 1)
    return 0


cdef int _ipvs_service(fk_ipvs_service *s, object service, int mode) except -1:
    cdef object af, protocol, addr, port, fwmark, sched, flags, timeout, netmask, pe
    cdef unsigned long long af_v
    cdef bint send_af
    cdef int fam
    cdef uint32_t a = 0
    _ipvs_check(service, _ipvs_Service, 13, "service")
    af = _ipvs_item(service, 0)
    protocol = _ipvs_item(service, 1)
    addr = _ipvs_item(service, 2)
    port = _ipvs_item(service, 3)
    fwmark = _ipvs_item(service, 4)
    sched = _ipvs_item(service, 5)
    if mode != _IPVS_RAW:
        if fwmark is None and (protocol is None or addr is None or port is None):
            raise ValueError("a service is identified by fwmark, or by protocol, addr and port")
        if mode == _IPVS_FULL and sched is None:
            raise ValueError("service.sched_name is required to add or change a service")
    if af is not None:
        af_v = _ipvs_uint(af, _IPVS_U16, "service.af", None)
    elif isinstance(addr, str) and ":" in <str>addr:
        af_v = FK_AF_INET6
    else:
        af_v = FK_AF_INET
    send_af = af is not None or mode != _IPVS_RAW
    if send_af:
        s.af = <uint16_t>af_v
        a |= 1u << FK_IPVS_SVC_ATTR_AF
    if protocol is not None:
        s.protocol = <uint16_t>_ipvs_uint(protocol, _IPVS_U16, "service.protocol", None)
        a |= 1u << FK_IPVS_SVC_ATTR_PROTOCOL
    if addr is not None:
        fam = 6 if af_v == FK_AF_INET6 else 4 if af_v == FK_AF_INET else 0
        s.addr_len = <uint8_t>_ipvs_pton(addr, fam, s.addr, "service.addr")
        a |= 1u << FK_IPVS_SVC_ATTR_ADDR
    if port is not None:
        s.port = <uint16_t>_ipvs_uint(port, _IPVS_U16, "service.port", None)
        a |= 1u << FK_IPVS_SVC_ATTR_PORT
    if fwmark is not None:
        s.fwmark = <uint32_t>_ipvs_uint(fwmark, _IPVS_U32, "service.fwmark", None)
        a |= 1u << FK_IPVS_SVC_ATTR_FWMARK
    s.attrs = a
    if mode == _IPVS_IDENT:
        return 0
    flags = _ipvs_item(service, 6)
    timeout = _ipvs_item(service, 8)
    netmask = _ipvs_item(service, 9)
    pe = _ipvs_item(service, 10)
    if sched is not None:
        _ipvs_name(sched, s.sched_name, "service.sched_name")
        a |= 1u << FK_IPVS_SVC_ATTR_SCHED_NAME
    if flags is not None or mode == _IPVS_FULL:
        s.flags = 0 if flags is None else <uint32_t>_ipvs_uint(flags, _IPVS_U32, "service.flags", None)
        s.flags_mask = <uint32_t>_ipvs_uint(_ipvs_item(service, 7), _IPVS_U32, "service.flags_mask", None)
        a |= 1u << FK_IPVS_SVC_ATTR_FLAGS
    if timeout is not None or mode == _IPVS_FULL:
        s.timeout = 0 if timeout is None else <uint32_t>_ipvs_uint(timeout, _IPVS_U32, "service.timeout", None)
        a |= 1u << FK_IPVS_SVC_ATTR_TIMEOUT
    if netmask is not None or mode == _IPVS_FULL:
        if netmask is None:
            s.netmask = 128 if af_v == FK_AF_INET6 else 0xFFFFFFFF
        else:
            s.netmask = <uint32_t>_ipvs_uint(netmask, _IPVS_U32, "service.netmask", None)
        a |= 1u << FK_IPVS_SVC_ATTR_NETMASK
    if mode == _IPVS_RAW and _ipvs_item(service, 11) is not None:
        _ipvs_stats(&s.stats, _ipvs_item(service, 11), False, "service.stats")
        a |= 1u << FK_IPVS_SVC_ATTR_STATS
    if pe is not None:
        _ipvs_name(pe, s.pe_name, "service.pe_name")
        a |= 1u << FK_IPVS_SVC_ATTR_PE_NAME
    if mode == _IPVS_RAW and _ipvs_item(service, 12) is not None:
        _ipvs_stats(&s.stats64, _ipvs_item(service, 12), True, "service.stats64")
        a |= 1u << FK_IPVS_SVC_ATTR_STATS64
    s.attrs = a
    return 0


cdef int _ipvs_dest(fk_ipvs_dest *d, object dest, int mode) except -1:
    cdef object addr, port, fwd, weight, fam_o, v
    cdef uint32_t a = 0
    cdef int fam = 0
    cdef bint full = mode == _IPVS_FULL
    _ipvs_check(dest, _ipvs_Dest, 15, "dest")
    addr = _ipvs_item(dest, 0)
    port = _ipvs_item(dest, 1)
    fwd = _ipvs_item(dest, 2)
    weight = _ipvs_item(dest, 3)
    if mode != _IPVS_RAW:
        if addr is None or port is None:
            raise ValueError("a dest is identified by addr and port")
        if full and (fwd is None or weight is None):
            raise ValueError("dest.fwd_method and dest.weight are required to add or change a dest")
    fam_o = _ipvs_item(dest, 6)
    if fam_o is not None:
        d.addr_family = <uint16_t>_ipvs_uint(fam_o, _IPVS_U16, "dest.addr_family", None)
        fam = 6 if d.addr_family == FK_AF_INET6 else 4 if d.addr_family == FK_AF_INET else 0
    if addr is not None:
        d.addr_len = <uint8_t>_ipvs_pton(addr, fam, d.addr, "dest.addr")
        a |= 1u << FK_IPVS_DEST_ATTR_ADDR
    if port is not None:
        d.port = <uint16_t>_ipvs_uint(port, _IPVS_U16, "dest.port", None)
        a |= 1u << FK_IPVS_DEST_ATTR_PORT
    if mode != _IPVS_IDENT:
        if fwd is not None:
            d.fwd_method = <uint32_t>_ipvs_uint(fwd, _IPVS_U32, "dest.fwd_method", None)
            a |= 1u << FK_IPVS_DEST_ATTR_FWD_METHOD
        if weight is not None:
            d.weight = <uint32_t>_ipvs_uint(weight, _IPVS_U32, "dest.weight", None)
            a |= 1u << FK_IPVS_DEST_ATTR_WEIGHT
        v = _ipvs_item(dest, 4)
        if v is not None or full:
            d.u_threshold = 0 if v is None else <uint32_t>_ipvs_uint(v, _IPVS_U32, "dest.u_threshold", None)
            a |= 1u << FK_IPVS_DEST_ATTR_U_THRESH
        v = _ipvs_item(dest, 5)
        if v is not None or full:
            d.l_threshold = 0 if v is None else <uint32_t>_ipvs_uint(v, _IPVS_U32, "dest.l_threshold", None)
            a |= 1u << FK_IPVS_DEST_ATTR_L_THRESH
        if not full:
            v = _ipvs_item(dest, 10)
            if v is not None:
                d.active_conns = <uint32_t>_ipvs_uint(v, _IPVS_U32, "dest.active_conns", None)
                a |= 1u << FK_IPVS_DEST_ATTR_ACTIVE_CONNS
            v = _ipvs_item(dest, 11)
            if v is not None:
                d.inact_conns = <uint32_t>_ipvs_uint(v, _IPVS_U32, "dest.inact_conns", None)
                a |= 1u << FK_IPVS_DEST_ATTR_INACT_CONNS
            v = _ipvs_item(dest, 12)
            if v is not None:
                d.persist_conns = <uint32_t>_ipvs_uint(v, _IPVS_U32, "dest.persist_conns", None)
                a |= 1u << FK_IPVS_DEST_ATTR_PERSIST_CONNS
            v = _ipvs_item(dest, 13)
            if v is not None:
                _ipvs_stats(&d.stats, v, False, "dest.stats")
                a |= 1u << FK_IPVS_DEST_ATTR_STATS
    if fam_o is not None:
        a |= 1u << FK_IPVS_DEST_ATTR_ADDR_FAMILY
    if mode != _IPVS_IDENT:
        v = _ipvs_item(dest, 14)
        if v is not None and mode == _IPVS_RAW:
            _ipvs_stats(&d.stats64, v, True, "dest.stats64")
            a |= 1u << FK_IPVS_DEST_ATTR_STATS64
        v = _ipvs_item(dest, 7)
        if v is not None:
            d.tun_type = <uint8_t>_ipvs_uint(v, 0xFF, "dest.tun_type", None)
            a |= 1u << FK_IPVS_DEST_ATTR_TUN_TYPE
        v = _ipvs_item(dest, 8)
        if v is not None:
            d.tun_port = <uint16_t>_ipvs_uint(v, _IPVS_U16, "dest.tun_port", None)
            a |= 1u << FK_IPVS_DEST_ATTR_TUN_PORT
        v = _ipvs_item(dest, 9)
        if v is not None:
            d.tun_flags = <uint16_t>_ipvs_uint(v, _IPVS_U16, "dest.tun_flags", None)
            a |= 1u << FK_IPVS_DEST_ATTR_TUN_FLAGS
    d.attrs = a
    return 0


cdef int _ipvs_daemon(fk_ipvs_daemon *d, object daemon, int mode) except -1:
    cdef object state, ifn, sync_id, v
    cdef uint32_t a = 0
    _ipvs_check(daemon, _ipvs_Daemon, 8, "daemon")
    state = _ipvs_item(daemon, 0)
    ifn = _ipvs_item(daemon, 1)
    sync_id = _ipvs_item(daemon, 2)
    if mode == _IPVS_D_NEW and (state is None or ifn is None or sync_id is None):
        raise ValueError("daemon.state, daemon.mcast_ifn and daemon.sync_id are required to start a sync daemon")
    if mode == _IPVS_D_DEL and state is None:
        raise ValueError("daemon.state is required to stop a sync daemon")
    if state is not None:
        d.state = <uint32_t>_ipvs_uint(state, _IPVS_U32, "daemon.state", None)
        a |= 1u << FK_IPVS_DAEMON_ATTR_STATE
    if mode != _IPVS_D_DEL:
        if ifn is not None:
            _ipvs_name(ifn, d.mcast_ifn, "daemon.mcast_ifn")
            a |= 1u << FK_IPVS_DAEMON_ATTR_MCAST_IFN
        if sync_id is not None:
            d.sync_id = <uint32_t>_ipvs_uint(sync_id, _IPVS_U32, "daemon.sync_id", None)
            a |= 1u << FK_IPVS_DAEMON_ATTR_SYNC_ID
        v = _ipvs_item(daemon, 3)
        if v is not None:
            d.sync_maxlen = <uint16_t>_ipvs_uint(v, _IPVS_U16, "daemon.sync_maxlen", None)
            a |= 1u << FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN
        v = _ipvs_item(daemon, 4)
        if v is not None:
            _ipvs_pton(v, 4, d.mcast_group, "daemon.mcast_group")
            a |= 1u << FK_IPVS_DAEMON_ATTR_MCAST_GROUP
        v = _ipvs_item(daemon, 5)
        if v is not None:
            _ipvs_pton(v, 6, d.mcast_group6, "daemon.mcast_group6")
            a |= 1u << FK_IPVS_DAEMON_ATTR_MCAST_GROUP6
        v = _ipvs_item(daemon, 6)
        if v is not None:
            d.mcast_port = <uint16_t>_ipvs_uint(v, _IPVS_U16, "daemon.mcast_port", None)
            a |= 1u << FK_IPVS_DAEMON_ATTR_MCAST_PORT
        v = _ipvs_item(daemon, 7)
        if v is not None:
            d.mcast_ttl = <uint8_t>_ipvs_uint(v, 0xFF, "daemon.mcast_ttl", None)
            a |= 1u << FK_IPVS_DAEMON_ATTR_MCAST_TTL
    d.attrs = a
    return 0


cdef int _ipvs_timeouts(fk_ipvs_msg *m, object timeouts) except -1:
    cdef object v
    _ipvs_check(timeouts, _ipvs_Timeouts, 3, "timeouts")
    v = _ipvs_item(timeouts, 0)
    if v is not None:
        m.timeout_tcp = <uint32_t>_ipvs_uint(v, _IPVS_U32, "timeouts.tcp", None)
        m.attrs |= 1u << FK_IPVS_CMD_ATTR_TIMEOUT_TCP
    v = _ipvs_item(timeouts, 1)
    if v is not None:
        m.timeout_tcp_fin = <uint32_t>_ipvs_uint(v, _IPVS_U32, "timeouts.tcp_fin", None)
        m.attrs |= 1u << FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN
    v = _ipvs_item(timeouts, 2)
    if v is not None:
        m.timeout_udp = <uint32_t>_ipvs_uint(v, _IPVS_U32, "timeouts.udp", None)
        m.attrs |= 1u << FK_IPVS_CMD_ATTR_TIMEOUT_UDP
    return 0


cdef int _ipvs_info(fk_ipvs_msg *m, object info) except -1:
    cdef object v
    _ipvs_check(info, _ipvs_Info, 2, "info")
    v = _ipvs_item(info, 0)
    if v is not None:
        m.info_version = <uint32_t>_ipvs_uint(v, _IPVS_U32, "info.version", None)
        m.attrs |= 1u << FK_IPVS_INFO_ATTR_VERSION
    v = _ipvs_item(info, 1)
    if v is not None:
        m.info_conn_tab_size = <uint32_t>_ipvs_uint(v, _IPVS_U32, "info.conn_tab_size", None)
        m.attrs |= 1u << FK_IPVS_INFO_ATTR_CONN_TAB_SIZE
    return 0


cdef class IpvsBatch:
    """IPVS requests appended to one buffer; each method returns the message's seq."""

    cdef fk_nl_writer _w
    cdef uint8_t *_mem
    cdef uint16_t _family
    cdef uint32_t _first      # seq of the first message held
    cdef uint32_t _seq        # seq of the next message
    cdef Py_ssize_t _count
    cdef fk_ipvs_msg _m
    cdef uint16_t _change     # the flags of a change request: acked, or not (acks=False)

    def __cinit__(self, family, seq=1, acks=True):
        if _ipvs_Service is None:
            _ipvs_load_types()
        self._change = _IPVS_REQUEST_ACK if acks else _IPVS_REQUEST
        self._family = <uint16_t>_ipvs_uint(family, _IPVS_U16, "family", None)
        self._seq = self._first = <uint32_t>_ipvs_uint(seq, _IPVS_U32, "seq", None)
        self._mem = <uint8_t *>PyMem_Malloc(_IPVS_FIRST_CAP)
        if self._mem is NULL:
            raise MemoryError()
        fk_nl_writer_init(&self._w, self._mem, _IPVS_FIRST_CAP)
        self._m.version = FK_IPVS_GENL_VERSION

    def __dealloc__(self):
        PyMem_Free(self._mem)

    @property
    def family(self):
        return self._family

    @property
    def acks(self):
        """False: change requests go without NLM_F_ACK (only refusals are answered)."""
        return self._change == _IPVS_REQUEST_ACK

    @property
    def seq(self):
        """The sequence number the next message gets."""
        return self._seq

    @property
    def data(self):
        return PyBytes_FromStringAndSize(<const char *>self._mem, <Py_ssize_t>self._w.len)

    @property
    def seqs(self):
        cdef uint32_t first = self._first
        return [(first + i) & 0xFFFFFFFF for i in range(self._count)]

    def __len__(self):
        return self._count

    def clear(self):
        """Forget the messages (sequence numbers go on)."""
        self._w.len = 0
        self._count = 0
        self._first = self._seq

    cdef int _room(self) except -1:
        cdef size_t cap = self._w.cap
        cdef uint8_t *p
        if cap - self._w.len >= FK_IPVS_MSG_MAX:
            return 0
        while cap - self._w.len < FK_IPVS_MSG_MAX:
            cap *= 2
        p = <uint8_t *>PyMem_Realloc(self._mem, cap)
        if p is NULL:
            raise MemoryError()
        self._mem = self._w.buf = p
        self._w.cap = cap
        return 0

    cdef object _emit(self, uint16_t type, uint16_t flags, uint8_t cmd):
        cdef int r
        cdef uint32_t seq = self._seq
        self._room()
        self._m.cmd = cmd
        r = fk_ipvs_pack(&self._w, type, flags, seq, &self._m)
        if r < 0:
            raise SystemError(f"fk_ipvs_pack returned {r}")
        self._seq = seq + 1
        self._count += 1
        return seq

    cdef object _svc(self, uint8_t cmd, object service, int mode, uint16_t flags):
        self._m.attrs = 1u << FK_IPVS_CMD_ATTR_SERVICE
        _ipvs_service(&self._m.svc, service, mode)
        return self._emit(self._family, flags, cmd)

    cdef object _svc_dest(self, uint8_t cmd, object service, object dest, int mode):
        self._m.attrs = (1u << FK_IPVS_CMD_ATTR_SERVICE) | (1u << FK_IPVS_CMD_ATTR_DEST)
        _ipvs_service(&self._m.svc, service, _IPVS_IDENT)
        _ipvs_dest(&self._m.dest, dest, mode)
        return self._emit(self._family, self._change, cmd)

    cdef object _bare(self, uint8_t cmd, uint16_t flags):
        self._m.attrs = 0
        return self._emit(self._family, flags, cmd)

    def new_service(self, service):
        return self._svc(1, service, _IPVS_FULL, self._change)

    def set_service(self, service):
        return self._svc(2, service, _IPVS_FULL, self._change)

    def del_service(self, service):
        return self._svc(3, service, _IPVS_IDENT, self._change)

    def get_service(self, service):
        return self._svc(4, service, _IPVS_IDENT, _IPVS_REQUEST_ACK)

    def dump_services(self):
        return self._bare(4, _IPVS_REQUEST_DUMP)

    def new_dest(self, service, dest):
        return self._svc_dest(5, service, dest, _IPVS_FULL)

    def set_dest(self, service, dest):
        return self._svc_dest(6, service, dest, _IPVS_FULL)

    def del_dest(self, service, dest):
        return self._svc_dest(7, service, dest, _IPVS_IDENT)

    def dump_dests(self, service):
        return self._svc(8, service, _IPVS_IDENT, _IPVS_REQUEST_DUMP)

    def new_daemon(self, daemon):
        self._m.attrs = 1u << FK_IPVS_CMD_ATTR_DAEMON
        _ipvs_daemon(&self._m.daemon, daemon, _IPVS_D_NEW)
        return self._emit(self._family, self._change, 9)

    def del_daemon(self, daemon):
        self._m.attrs = 1u << FK_IPVS_CMD_ATTR_DAEMON
        _ipvs_daemon(&self._m.daemon, daemon, _IPVS_D_DEL)
        return self._emit(self._family, self._change, 10)

    def dump_daemons(self):
        return self._bare(11, _IPVS_REQUEST_DUMP)

    def set_config(self, timeouts):
        self._m.attrs = 0
        _ipvs_timeouts(&self._m, timeouts)
        return self._emit(self._family, self._change, 12)

    def get_config(self):
        return self._bare(13, _IPVS_REQUEST_ACK)

    def get_info(self):
        return self._bare(15, _IPVS_REQUEST_ACK)

    def zero(self, service=None):
        if service is None:
            return self._bare(16, self._change)
        return self._svc(16, service, _IPVS_IDENT, self._change)

    def flush(self):
        return self._bare(17, self._change)

    def get_family(self, name):
        """nlctrl CTRL_CMD_GETFAMILY for a family name (the message's type is nlctrl's)."""
        cdef char cname[16]
        cdef int r
        cdef uint32_t seq = self._seq
        _ipvs_name(name, cname, "family name")
        self._room()
        r = fk_genl_pack_getfamily(&self._w, seq, cname)
        if r < 0:
            raise SystemError(f"fk_genl_pack_getfamily returned {r}")
        self._seq = seq + 1
        self._count += 1
        return seq

    def message(self, cmd, *, service=None, dest=None, daemon=None, timeouts=None, info=None,
                flags=_IPVS_REQUEST_ACK):
        """Any IPVS message with exactly the given fields (every one that is not None)."""
        cdef uint8_t c = <uint8_t>_ipvs_uint(cmd, 0xFF, "cmd", None)
        cdef uint16_t f = <uint16_t>_ipvs_uint(flags, _IPVS_U16, "flags", None)
        if c == FK_IPVS_CMD_SET_INFO:
            if service is not None or dest is not None or daemon is not None or timeouts is not None:
                raise ValueError("cmd SET_INFO carries only info")
        elif info is not None:
            raise ValueError("info goes only with cmd SET_INFO (14)")
        self._m.attrs = 0
        if service is not None:
            _ipvs_service(&self._m.svc, service, _IPVS_RAW)
            self._m.attrs |= 1u << FK_IPVS_CMD_ATTR_SERVICE
        if dest is not None:
            _ipvs_dest(&self._m.dest, dest, _IPVS_RAW)
            self._m.attrs |= 1u << FK_IPVS_CMD_ATTR_DEST
        if daemon is not None:
            _ipvs_daemon(&self._m.daemon, daemon, _IPVS_D_RAW)
            self._m.attrs |= 1u << FK_IPVS_CMD_ATTR_DAEMON
        if timeouts is not None:
            _ipvs_timeouts(&self._m, timeouts)
        if info is not None:
            _ipvs_info(&self._m, info)
        return self._emit(self._family, f, c)


# --- C -> Python objects -------------------------------------------------------------------


cdef inline void _ipvs_set(object t, Py_ssize_t i, object x):
    Py_INCREF(x)
    PyTuple_SET_ITEM(t, i, x)


cdef inline object _ipvs_opt(uint32_t attrs, int bit, unsigned long long v):
    return v if attrs & (1u << bit) else None


cdef inline str _ipvs_ascii(const char *text, size_t n):
    cdef str s = _ipvs_unicode_new(<Py_ssize_t>n, 127)
    memcpy(_ipvs_unicode_data(s), text, n)
    return s


cdef str _ipvs_ntop(const uint8_t *addr, int family):
    cdef char buf[48]
    if family == FK_AF_INET:
        return _ipvs_ascii(buf, fk_vrrp_ntop4(addr, buf))
    return _ipvs_ascii(buf, fk_vrrp_ntop6(addr, buf))


cdef inline str _ipvs_text(const char *p, size_t n):
    return PyUnicode_DecodeUTF8(p, <Py_ssize_t>n, "surrogateescape")


cdef inline int _ipvs_addr_family(int af, uint8_t addr_len):
    if af == FK_AF_INET or af == FK_AF_INET6:
        return af
    return FK_AF_INET if addr_len <= 4 else FK_AF_INET6


cdef object _ipvs_stats_obj(const fk_ipvs_stats *st):
    cdef object t = _ipvs_alloc(_ipvs_Stats, 10)
    cdef int i
    for i in range(10):
        _ipvs_set(t, i, st.value[i + 1])
    return t


cdef object _ipvs_service_obj(const fk_ipvs_service *s):
    cdef uint32_t a = s.attrs
    cdef object t = _ipvs_alloc(_ipvs_Service, 13)
    cdef int af = s.af if a & (1u << FK_IPVS_SVC_ATTR_AF) else -1
    _ipvs_set(t, 0, _ipvs_opt(a, FK_IPVS_SVC_ATTR_AF, s.af))
    _ipvs_set(t, 1, _ipvs_opt(a, FK_IPVS_SVC_ATTR_PROTOCOL, s.protocol))
    if a & (1u << FK_IPVS_SVC_ATTR_ADDR):
        _ipvs_set(t, 2, _ipvs_ntop(s.addr, _ipvs_addr_family(af, s.addr_len)))
    else:
        _ipvs_set(t, 2, None)
    _ipvs_set(t, 3, _ipvs_opt(a, FK_IPVS_SVC_ATTR_PORT, s.port))
    _ipvs_set(t, 4, _ipvs_opt(a, FK_IPVS_SVC_ATTR_FWMARK, s.fwmark))
    if a & (1u << FK_IPVS_SVC_ATTR_SCHED_NAME):
        _ipvs_set(t, 5, _ipvs_text(s.sched_name, strlen(s.sched_name)))
    else:
        _ipvs_set(t, 5, None)
    if a & (1u << FK_IPVS_SVC_ATTR_FLAGS):
        _ipvs_set(t, 6, s.flags)
        _ipvs_set(t, 7, s.flags_mask)
    else:
        _ipvs_set(t, 6, None)
        _ipvs_set(t, 7, _IPVS_ALL_ONES)
    _ipvs_set(t, 8, _ipvs_opt(a, FK_IPVS_SVC_ATTR_TIMEOUT, s.timeout))
    _ipvs_set(t, 9, _ipvs_opt(a, FK_IPVS_SVC_ATTR_NETMASK, s.netmask))
    if a & (1u << FK_IPVS_SVC_ATTR_PE_NAME):
        _ipvs_set(t, 10, _ipvs_text(s.pe_name, strlen(s.pe_name)))
    else:
        _ipvs_set(t, 10, None)
    _ipvs_set(t, 11, _ipvs_stats_obj(&s.stats) if a & (1u << FK_IPVS_SVC_ATTR_STATS) else None)
    _ipvs_set(t, 12, _ipvs_stats_obj(&s.stats64) if a & (1u << FK_IPVS_SVC_ATTR_STATS64) else None)
    return t


cdef object _ipvs_dest_obj(const fk_ipvs_dest *d, int svc_af):
    cdef uint32_t a = d.attrs
    cdef object t = _ipvs_alloc(_ipvs_Dest, 15)
    cdef int af = svc_af
    if a & (1u << FK_IPVS_DEST_ATTR_ADDR_FAMILY) and (d.addr_family == FK_AF_INET or d.addr_family == FK_AF_INET6):
        af = d.addr_family
    if a & (1u << FK_IPVS_DEST_ATTR_ADDR):
        _ipvs_set(t, 0, _ipvs_ntop(d.addr, _ipvs_addr_family(af, d.addr_len)))
    else:
        _ipvs_set(t, 0, None)
    _ipvs_set(t, 1, _ipvs_opt(a, FK_IPVS_DEST_ATTR_PORT, d.port))
    _ipvs_set(t, 2, _ipvs_opt(a, FK_IPVS_DEST_ATTR_FWD_METHOD, d.fwd_method))
    _ipvs_set(t, 3, _ipvs_opt(a, FK_IPVS_DEST_ATTR_WEIGHT, d.weight))
    _ipvs_set(t, 4, _ipvs_opt(a, FK_IPVS_DEST_ATTR_U_THRESH, d.u_threshold))
    _ipvs_set(t, 5, _ipvs_opt(a, FK_IPVS_DEST_ATTR_L_THRESH, d.l_threshold))
    _ipvs_set(t, 6, _ipvs_opt(a, FK_IPVS_DEST_ATTR_ADDR_FAMILY, d.addr_family))
    _ipvs_set(t, 7, _ipvs_opt(a, FK_IPVS_DEST_ATTR_TUN_TYPE, d.tun_type))
    _ipvs_set(t, 8, _ipvs_opt(a, FK_IPVS_DEST_ATTR_TUN_PORT, d.tun_port))
    _ipvs_set(t, 9, _ipvs_opt(a, FK_IPVS_DEST_ATTR_TUN_FLAGS, d.tun_flags))
    _ipvs_set(t, 10, _ipvs_opt(a, FK_IPVS_DEST_ATTR_ACTIVE_CONNS, d.active_conns))
    _ipvs_set(t, 11, _ipvs_opt(a, FK_IPVS_DEST_ATTR_INACT_CONNS, d.inact_conns))
    _ipvs_set(t, 12, _ipvs_opt(a, FK_IPVS_DEST_ATTR_PERSIST_CONNS, d.persist_conns))
    _ipvs_set(t, 13, _ipvs_stats_obj(&d.stats) if a & (1u << FK_IPVS_DEST_ATTR_STATS) else None)
    _ipvs_set(t, 14, _ipvs_stats_obj(&d.stats64) if a & (1u << FK_IPVS_DEST_ATTR_STATS64) else None)
    return t


cdef object _ipvs_daemon_obj(const fk_ipvs_daemon *d):
    cdef uint32_t a = d.attrs
    cdef object t = _ipvs_alloc(_ipvs_Daemon, 8)
    _ipvs_set(t, 0, _ipvs_opt(a, FK_IPVS_DAEMON_ATTR_STATE, d.state))
    if a & (1u << FK_IPVS_DAEMON_ATTR_MCAST_IFN):
        _ipvs_set(t, 1, _ipvs_text(d.mcast_ifn, strlen(d.mcast_ifn)))
    else:
        _ipvs_set(t, 1, None)
    _ipvs_set(t, 2, _ipvs_opt(a, FK_IPVS_DAEMON_ATTR_SYNC_ID, d.sync_id))
    _ipvs_set(t, 3, _ipvs_opt(a, FK_IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.sync_maxlen))
    _ipvs_set(t, 4, _ipvs_ntop(d.mcast_group, FK_AF_INET) if a & (1u << FK_IPVS_DAEMON_ATTR_MCAST_GROUP) else None)
    _ipvs_set(t, 5, _ipvs_ntop(d.mcast_group6, FK_AF_INET6) if a & (1u << FK_IPVS_DAEMON_ATTR_MCAST_GROUP6)
              else None)
    _ipvs_set(t, 6, _ipvs_opt(a, FK_IPVS_DAEMON_ATTR_MCAST_PORT, d.mcast_port))
    _ipvs_set(t, 7, _ipvs_opt(a, FK_IPVS_DAEMON_ATTR_MCAST_TTL, d.mcast_ttl))
    return t


cdef object _ipvs_message_obj(const fk_nl_msg *nm, const fk_ipvs_msg *m):
    cdef uint32_t a = m.attrs
    cdef object t = _ipvs_alloc(_ipvs_Message, 8)
    cdef object info, to
    cdef int svc_af = -1
    cdef int i
    cdef uint32_t timeouts = ((1u << FK_IPVS_CMD_ATTR_TIMEOUT_TCP) | (1u << FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)
                              | (1u << FK_IPVS_CMD_ATTR_TIMEOUT_UDP))
    _ipvs_set(t, 0, nm.seq)
    _ipvs_set(t, 1, nm.flags)
    _ipvs_set(t, 2, m.cmd)
    if m.cmd == FK_IPVS_CMD_SET_INFO:
        for i in range(3, 7):
            _ipvs_set(t, i, None)
        if a:
            info = _ipvs_alloc(_ipvs_Info, 2)
            _ipvs_set(info, 0, _ipvs_opt(a, FK_IPVS_INFO_ATTR_VERSION, m.info_version))
            _ipvs_set(info, 1, _ipvs_opt(a, FK_IPVS_INFO_ATTR_CONN_TAB_SIZE, m.info_conn_tab_size))
            _ipvs_set(t, 7, info)
        else:
            _ipvs_set(t, 7, None)
        return t
    if a & (1u << FK_IPVS_CMD_ATTR_SERVICE):
        _ipvs_set(t, 3, _ipvs_service_obj(&m.svc))
        if m.svc.attrs & (1u << FK_IPVS_SVC_ATTR_AF):
            svc_af = m.svc.af
    else:
        _ipvs_set(t, 3, None)
    _ipvs_set(t, 4, _ipvs_dest_obj(&m.dest, svc_af) if a & (1u << FK_IPVS_CMD_ATTR_DEST) else None)
    _ipvs_set(t, 5, _ipvs_daemon_obj(&m.daemon) if a & (1u << FK_IPVS_CMD_ATTR_DAEMON) else None)
    if a & timeouts:
        to = _ipvs_alloc(_ipvs_Timeouts, 3)
        _ipvs_set(to, 0, _ipvs_opt(a, FK_IPVS_CMD_ATTR_TIMEOUT_TCP, m.timeout_tcp))
        _ipvs_set(to, 1, _ipvs_opt(a, FK_IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, m.timeout_tcp_fin))
        _ipvs_set(to, 2, _ipvs_opt(a, FK_IPVS_CMD_ATTR_TIMEOUT_UDP, m.timeout_udp))
        _ipvs_set(t, 6, to)
    else:
        _ipvs_set(t, 6, None)
    _ipvs_set(t, 7, None)
    return t


cdef object _ipvs_family_obj(const fk_nl_msg *nm, const fk_genl_family *f):
    cdef uint32_t a = f.attrs
    cdef object t = _ipvs_alloc(_ipvs_Family, 7)
    _ipvs_set(t, 0, nm.seq)
    _ipvs_set(t, 1, f.cmd)
    _ipvs_set(t, 2, _ipvs_opt(a, FK_CTRL_ATTR_FAMILY_ID, f.id))
    _ipvs_set(t, 3, _ipvs_text(f.name, strlen(f.name)) if a & (1u << FK_CTRL_ATTR_FAMILY_NAME) else None)
    _ipvs_set(t, 4, _ipvs_opt(a, FK_CTRL_ATTR_VERSION, f.family_version))
    _ipvs_set(t, 5, _ipvs_opt(a, FK_CTRL_ATTR_HDRSIZE, f.hdrsize))
    _ipvs_set(t, 6, _ipvs_opt(a, FK_CTRL_ATTR_MAXATTR, f.maxattr))
    return t


cdef object _ipvs_bad(int code, size_t offset):
    return _ipvs_FormatError(_IPVS_REASONS[-code], offset)


cdef list _ipvs_parse_all(const uint8_t *buf, size_t n, long family):
    cdef fk_nl_reader r
    cdef fk_nl_msg nm
    cdef fk_nl_status_msg st
    cdef fk_ipvs_msg m
    cdef fk_genl_family f
    cdef size_t err_off = 0
    cdef int rc
    cdef list out = []
    fk_nl_reader_init(&r, buf, n)
    while True:
        rc = fk_nl_next(&r, &nm)
        if rc == 0:
            return out
        if rc < 0:
            raise _ipvs_bad(rc, r.off)
        if nm.type == FK_NLMSG_ERROR or nm.type == FK_NLMSG_DONE:
            rc = fk_nl_parse_status(&nm, &st, &err_off)
            if rc < 0:
                raise _ipvs_bad(rc, err_off)
            t = _ipvs_alloc(_ipvs_Ack if nm.type == FK_NLMSG_ERROR else _ipvs_Done, 3)
            _ipvs_set(t, 0, nm.seq)
            _ipvs_set(t, 1, -<int64_t>st.error)
            _ipvs_set(t, 2, _ipvs_text(<const char *>st.text, st.text_len) if st.has_text else None)
            out.append(t)
        elif nm.type == FK_GENL_ID_CTRL:
            rc = fk_genl_parse_family(&nm, &f, &err_off)
            if rc < 0:
                raise _ipvs_bad(rc, err_off)
            out.append(_ipvs_family_obj(&nm, &f))
        elif nm.type == family:
            rc = fk_ipvs_parse(&nm, &m, &err_off)
            if rc < 0:
                raise _ipvs_bad(rc, err_off)
            out.append(_ipvs_message_obj(&nm, &m))
        else:
            t = _ipvs_alloc(_ipvs_Other, 3)
            _ipvs_set(t, 0, nm.seq)
            _ipvs_set(t, 1, nm.type)
            _ipvs_set(t, 2, nm.flags)
            out.append(t)


def parse_ipvs_replies(data, family=None):
    """Every netlink message in data: Ack, Done, IpvsMessage (type == family),
    Family (nlctrl), Other; NetlinkFormatError on a malformed buffer."""
    cdef long fam = -1
    cdef Py_buffer view
    if _ipvs_Service is None:
        _ipvs_load_types()
    if family is not None:
        fam = <long>_ipvs_uint(family, _IPVS_U16, "family", None)
    if type(data) is bytes:
        return _ipvs_parse_all(<const uint8_t *>PyBytes_AS_STRING(data), <size_t>PyBytes_GET_SIZE(data), fam)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        return _ipvs_parse_all(<const uint8_t *>view.buf, <size_t>view.len, fam)
    finally:
        PyBuffer_Release(&view)
