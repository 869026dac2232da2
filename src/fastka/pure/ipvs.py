"""IPVS generic netlink messages, pure Python: the twin of csrc/ipvs.c + _native/ipvs.pxi.

Same classes, functions, bytes, results and errors (messages included, in the same
order of checks) as the native core; fastka.wire.ipvs documents the API.

Checks of a part run in the order of its attributes' types, except that the family
that decides how an address is packed (Dest.addr_family) is checked first.
"""

from __future__ import annotations

import operator
import struct
from socket import AF_INET as _AF_INET
from socket import AF_INET6 as _AF_INET6
from socket import inet_ntop

from .addr import _pton

_NLMSGHDR = struct.Struct("=IHHII")
_NLA = struct.Struct("=HH")
_U16 = struct.Struct("=H")
_BE16 = struct.Struct("!H")
_U32 = struct.Struct("=I")
_BE32 = struct.Struct("!I")
_U64 = struct.Struct("=Q")
_S32 = struct.Struct("=i")
_FLAGS = struct.Struct("=II")

AF_INET, AF_INET6 = 2, 10
_REQUEST_ACK = 0x1 | 0x4
_REQUEST = 0x1
_REQUEST_DUMP = 0x1 | 0x300
_CAPPED, _ACK_TLVS = 0x100, 0x200
_GENL_ID_CTRL = 16
_SET_INFO = 14
_U16_MAX, _U32_MAX, _U64_MAX = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
_NAME_MAX = 15
_IDENT, _FULL, _RAW = 0, 1, 2            # what a service / dest part carries
_D_NEW, _D_DEL, _D_RAW = 0, 1, 2         # what a daemon part carries

_REASONS = {-3: "truncated", -4: "length", -5: "genl", -6: "attr", -7: "size", -8: "string", -9: "errmsg"}


# --- packing ---------------------------------------------------------------------------


def _uint(value: object, hi: int, what: str) -> int:
    v = operator.index(value)  # type: ignore[arg-type]
    if not 0 <= v <= hi:
        raise ValueError(f"{what} must be 0..{hi}, got {value!r}")
    return v


def _name(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    b = value.encode("utf-8", "surrogateescape")
    if len(b) > _NAME_MAX or b"\0" in b:
        raise ValueError(f"{what} must be at most {_NAME_MAX} bytes (UTF-8) without NUL, got {value!r}")
    return b + b"\0"


def _check(value: object, cls: type, what: str) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{what} must be a {cls.__name__}, not {type(value).__name__}")
    size = len(cls._fields)  # type: ignore[attr-defined]
    if len(value) != size:  # type: ignore[arg-type]  # a NamedTuple subclass with more fields
        raise TypeError(f"{what} must be a {cls.__name__} of {size} fields")


def _attr(out: bytearray, type_: int, payload: bytes | bytearray) -> None:
    n = 4 + len(payload)
    out += _NLA.pack(n, type_)
    out += payload
    out += b"\0" * (-n & 3)


def _stats(st: object, wide: bool, what: str) -> bytearray:
    _check(st, Stats, what)
    out = bytearray()
    for i, (field, v) in enumerate(zip(Stats._fields, st, strict=True), 1):  # type: ignore[call-overload]
        if wide or i in (4, 5):
            _attr(out, i, _U64.pack(_uint(v, _U64_MAX, f"{what}.{field}")))
        else:
            _attr(out, i, _U32.pack(_uint(v, _U32_MAX, f"{what}.{field}")))
    return out


def _service(s: object, mode: int) -> bytearray:
    _check(s, Service, "service")
    assert isinstance(s, Service)
    af, protocol, addr, port, fwmark, sched_name, flags, flags_mask, timeout, netmask, pe_name, stats, stats64 = s
    if mode != _RAW:
        if fwmark is None and (protocol is None or addr is None or port is None):
            raise ValueError("a service is identified by fwmark, or by protocol, addr and port")
        if mode == _FULL and sched_name is None:
            raise ValueError("service.sched_name is required to add or change a service")
    out = bytearray()
    if af is not None:
        af_v = _uint(af, _U16_MAX, "service.af")
    else:
        af_v = AF_INET6 if isinstance(addr, str) and ":" in addr else AF_INET
    send_af = af is not None or mode != _RAW
    if send_af:
        _attr(out, 1, _U16.pack(af_v))
    if protocol is not None:
        _attr(out, 2, _U16.pack(_uint(protocol, _U16_MAX, "service.protocol")))
    if addr is not None:
        _attr(out, 3, _pton("service.addr", addr, 6 if af_v == AF_INET6 else 4 if af_v == AF_INET else 0))
    if port is not None:
        _attr(out, 4, _BE16.pack(_uint(port, _U16_MAX, "service.port")))
    if fwmark is not None:
        _attr(out, 5, _U32.pack(_uint(fwmark, _U32_MAX, "service.fwmark")))
    if mode == _IDENT:
        return out
    if sched_name is not None:
        _attr(out, 6, _name(sched_name, "service.sched_name"))
    if flags is not None or mode == _FULL:
        f = 0 if flags is None else _uint(flags, _U32_MAX, "service.flags")
        _attr(out, 7, _FLAGS.pack(f, _uint(flags_mask, _U32_MAX, "service.flags_mask")))
    if timeout is not None or mode == _FULL:
        _attr(out, 8, _U32.pack(0 if timeout is None else _uint(timeout, _U32_MAX, "service.timeout")))
    if netmask is not None or mode == _FULL:
        if netmask is None:
            nm = 128 if af_v == AF_INET6 else _U32_MAX
        else:
            nm = _uint(netmask, _U32_MAX, "service.netmask")
        _attr(out, 9, (_U32 if send_af and af_v == AF_INET6 else _BE32).pack(nm))
    if stats is not None and mode == _RAW:
        _attr(out, 10, _stats(stats, False, "service.stats"))
    if pe_name is not None:
        _attr(out, 11, _name(pe_name, "service.pe_name"))
    if stats64 is not None and mode == _RAW:
        _attr(out, 12, _stats(stats64, True, "service.stats64"))
    return out


def _dest(d: object, mode: int) -> bytearray:
    _check(d, Dest, "dest")
    assert isinstance(d, Dest)
    (addr, port, fwd_method, weight, u_threshold, l_threshold, addr_family, tun_type, tun_port, tun_flags,
     active_conns, inact_conns, persist_conns, stats, stats64) = d
    if mode != _RAW:
        if addr is None or port is None:
            raise ValueError("a dest is identified by addr and port")
        if mode == _FULL and (fwd_method is None or weight is None):
            raise ValueError("dest.fwd_method and dest.weight are required to add or change a dest")
    fam = None if addr_family is None else _uint(addr_family, _U16_MAX, "dest.addr_family")
    out = bytearray()
    if addr is not None:
        _attr(out, 1, _pton("dest.addr", addr, 6 if fam == AF_INET6 else 4 if fam == AF_INET else 0))
    if port is not None:
        _attr(out, 2, _BE16.pack(_uint(port, _U16_MAX, "dest.port")))
    if mode != _IDENT:
        full = mode == _FULL
        for t, v, what in ((3, fwd_method, "dest.fwd_method"), (4, weight, "dest.weight"),
                           (5, 0 if full and u_threshold is None else u_threshold, "dest.u_threshold"),
                           (6, 0 if full and l_threshold is None else l_threshold, "dest.l_threshold")):
            if v is not None:
                _attr(out, t, _U32.pack(_uint(v, _U32_MAX, what)))
        if not full:
            for t, v, what in ((7, active_conns, "dest.active_conns"), (8, inact_conns, "dest.inact_conns"),
                               (9, persist_conns, "dest.persist_conns")):
                if v is not None:
                    _attr(out, t, _U32.pack(_uint(v, _U32_MAX, what)))
            if stats is not None:
                _attr(out, 10, _stats(stats, False, "dest.stats"))
    if fam is not None:
        _attr(out, 11, _U16.pack(fam))
    if mode == _IDENT:
        return out
    if stats64 is not None and mode == _RAW:
        _attr(out, 12, _stats(stats64, True, "dest.stats64"))
    if tun_type is not None:
        _attr(out, 13, bytes((_uint(tun_type, 0xFF, "dest.tun_type"),)))
    if tun_port is not None:
        _attr(out, 14, _BE16.pack(_uint(tun_port, _U16_MAX, "dest.tun_port")))
    if tun_flags is not None:
        _attr(out, 15, _U16.pack(_uint(tun_flags, _U16_MAX, "dest.tun_flags")))
    return out


def _daemon(d: object, mode: int) -> bytearray:
    _check(d, Daemon, "daemon")
    assert isinstance(d, Daemon)
    state, mcast_ifn, sync_id, sync_maxlen, mcast_group, mcast_group6, mcast_port, mcast_ttl = d
    if mode == _D_NEW and (state is None or mcast_ifn is None or sync_id is None):
        raise ValueError("daemon.state, daemon.mcast_ifn and daemon.sync_id are required to start a sync daemon")
    if mode == _D_DEL and state is None:
        raise ValueError("daemon.state is required to stop a sync daemon")
    out = bytearray()
    if state is not None:
        _attr(out, 1, _U32.pack(_uint(state, _U32_MAX, "daemon.state")))
    if mode == _D_DEL:
        return out
    if mcast_ifn is not None:
        _attr(out, 2, _name(mcast_ifn, "daemon.mcast_ifn"))
    if sync_id is not None:
        _attr(out, 3, _U32.pack(_uint(sync_id, _U32_MAX, "daemon.sync_id")))
    if sync_maxlen is not None:
        _attr(out, 4, _U16.pack(_uint(sync_maxlen, _U16_MAX, "daemon.sync_maxlen")))
    if mcast_group is not None:
        _attr(out, 5, _pton("daemon.mcast_group", mcast_group, 4))
    if mcast_group6 is not None:
        _attr(out, 6, _pton("daemon.mcast_group6", mcast_group6, 6))
    if mcast_port is not None:
        _attr(out, 7, _U16.pack(_uint(mcast_port, _U16_MAX, "daemon.mcast_port")))
    if mcast_ttl is not None:
        _attr(out, 8, bytes((_uint(mcast_ttl, 0xFF, "daemon.mcast_ttl"),)))
    return out


def _timeouts(t: object, out: bytearray) -> None:
    _check(t, Timeouts, "timeouts")
    names = ("timeouts.tcp", "timeouts.tcp_fin", "timeouts.udp")
    for typ, v, what in zip((4, 5, 6), t, names, strict=True):  # type: ignore[call-overload]
        if v is not None:
            _attr(out, typ, _U32.pack(_uint(v, _U32_MAX, what)))


def _info(i: object, out: bytearray) -> None:
    _check(i, Info, "info")
    for typ, v, what in zip((1, 2), i, ("info.version", "info.conn_tab_size"), strict=True):  # type: ignore[call-overload]
        if v is not None:
            _attr(out, typ, _U32.pack(_uint(v, _U32_MAX, what)))


class IpvsBatch:
    """IPVS requests appended to one buffer; each method returns the message's seq."""

    __slots__ = ("_family", "_seq", "_buf", "_seqs", "_change")

    def __init__(self, family: int, seq: int = 1, acks: bool = True) -> None:
        self._family = _uint(family, _U16_MAX, "family")
        self._change = _REQUEST_ACK if acks else _REQUEST  # the flags of a change request
        self._seq = _uint(seq, _U32_MAX, "seq")
        self._buf = bytearray()
        self._seqs: list[int] = []

    @property
    def family(self) -> int:
        return self._family

    @property
    def acks(self) -> bool:
        """False: change requests go without NLM_F_ACK (only refusals are answered)."""
        return self._change == _REQUEST_ACK

    @property
    def seq(self) -> int:
        """The sequence number the next message gets."""
        return self._seq

    @property
    def data(self) -> bytes:
        return bytes(self._buf)

    @property
    def seqs(self) -> list[int]:
        return list(self._seqs)

    def __len__(self) -> int:
        return len(self._seqs)

    def clear(self) -> None:
        """Forget the messages (sequence numbers go on)."""
        self._buf.clear()
        self._seqs.clear()

    def _emit(self, type_: int, flags: int, cmd: int, body: bytes | bytearray) -> int:
        seq = self._seq
        buf = self._buf
        buf += _NLMSGHDR.pack(20 + len(body), type_, flags, seq, 0)
        buf += bytes((cmd, 1, 0, 0))
        buf += body
        self._seqs.append(seq)
        self._seq = (seq + 1) & _U32_MAX
        return seq

    def _svc(self, cmd: int, service: Service, mode: int, flags: int = _REQUEST_ACK) -> int:
        body = bytearray()
        _attr(body, 1, _service(service, mode))
        return self._emit(self._family, flags, cmd, body)

    def _svc_dest(self, cmd: int, service: Service, dest: Dest, mode: int) -> int:
        body = bytearray()
        _attr(body, 1, _service(service, _IDENT))
        _attr(body, 2, _dest(dest, mode))
        return self._emit(self._family, self._change, cmd, body)

    def new_service(self, service: Service) -> int:
        return self._svc(1, service, _FULL, self._change)

    def set_service(self, service: Service) -> int:
        return self._svc(2, service, _FULL, self._change)

    def del_service(self, service: Service) -> int:
        return self._svc(3, service, _IDENT, self._change)

    def get_service(self, service: Service) -> int:
        return self._svc(4, service, _IDENT)

    def dump_services(self) -> int:
        return self._emit(self._family, _REQUEST_DUMP, 4, b"")

    def new_dest(self, service: Service, dest: Dest) -> int:
        return self._svc_dest(5, service, dest, _FULL)

    def set_dest(self, service: Service, dest: Dest) -> int:
        return self._svc_dest(6, service, dest, _FULL)

    def del_dest(self, service: Service, dest: Dest) -> int:
        return self._svc_dest(7, service, dest, _IDENT)

    def dump_dests(self, service: Service) -> int:
        return self._svc(8, service, _IDENT, _REQUEST_DUMP)

    def new_daemon(self, daemon: Daemon) -> int:
        body = bytearray()
        _attr(body, 3, _daemon(daemon, _D_NEW))
        return self._emit(self._family, self._change, 9, body)

    def del_daemon(self, daemon: Daemon) -> int:
        body = bytearray()
        _attr(body, 3, _daemon(daemon, _D_DEL))
        return self._emit(self._family, self._change, 10, body)

    def dump_daemons(self) -> int:
        return self._emit(self._family, _REQUEST_DUMP, 11, b"")

    def set_config(self, timeouts: Timeouts) -> int:
        body = bytearray()
        _timeouts(timeouts, body)
        return self._emit(self._family, self._change, 12, body)

    def get_config(self) -> int:
        return self._emit(self._family, _REQUEST_ACK, 13, b"")

    def get_info(self) -> int:
        return self._emit(self._family, _REQUEST_ACK, 15, b"")

    def zero(self, service: Service | None = None) -> int:
        if service is None:
            return self._emit(self._family, self._change, 16, b"")
        return self._svc(16, service, _IDENT, self._change)

    def flush(self) -> int:
        return self._emit(self._family, self._change, 17, b"")

    def get_family(self, name: str) -> int:
        """nlctrl CTRL_CMD_GETFAMILY for a family name (the message's type is nlctrl's)."""
        body = bytearray()
        _attr(body, 2, _name(name, "family name"))
        return self._emit(_GENL_ID_CTRL, _REQUEST_ACK, 3, body)

    def message(self, cmd: int, *, service: Service | None = None, dest: Dest | None = None,
                daemon: Daemon | None = None, timeouts: Timeouts | None = None, info: Info | None = None,
                flags: int = _REQUEST_ACK) -> int:
        """Any IPVS message with exactly the given fields (every one that is not None)."""
        c = _uint(cmd, 0xFF, "cmd")
        f = _uint(flags, _U16_MAX, "flags")
        if c == _SET_INFO:
            if service is not None or dest is not None or daemon is not None or timeouts is not None:
                raise ValueError("cmd SET_INFO carries only info")
        elif info is not None:
            raise ValueError("info goes only with cmd SET_INFO (14)")
        body = bytearray()
        if service is not None:
            _attr(body, 1, _service(service, _RAW))
        if dest is not None:
            _attr(body, 2, _dest(dest, _RAW))
        if daemon is not None:
            _attr(body, 3, _daemon(daemon, _D_RAW))
        if timeouts is not None:
            _timeouts(timeouts, body)
        if info is not None:
            _info(info, body)
        return self._emit(self._family, f, c, body)


# --- parsing -----------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, code: int, at: int) -> None:
        self.code = code
        self.at = at


def _attrs(m: bytes, pos: int, end: int):
    """(type, header offset, value offset, value length) of each attribute in m[pos:end]."""
    while pos < end:
        left = end - pos
        if left < 4:
            raise _Bad(-6, pos)
        n, t = _NLA.unpack_from(m, pos)
        if n < 4 or n > left:
            raise _Bad(-6, pos)
        yield t & 0x3FFF, pos, pos + 4, n - 4
        pos += min((n + 3) & ~3, left)


def _want(at: int, vlen: int, size: int) -> None:
    if vlen != size:
        raise _Bad(-7, at)


def _text(m: bytes, at: int, val: int, vlen: int, limit: int | None) -> str:
    raw = m[val : val + vlen]
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    if limit is not None and len(raw) > limit:
        raise _Bad(-8, at)
    return raw.decode("utf-8", "surrogateescape")


def _addr_text(raw: bytes, family: int) -> str:
    """raw (at most 16 bytes) as the kernel's zero-filled union nf_inet_addr, in family."""
    full = raw.ljust(16, b"\0")
    return inet_ntop(_AF_INET, full[:4]) if family == AF_INET else inet_ntop(_AF_INET6, full)


def _addr_family(af: int | None, raw: bytes) -> int:
    if af == AF_INET or af == AF_INET6:
        return af
    return AF_INET if len(raw) <= 4 else AF_INET6


def _parse_stats(m: bytes, val: int, vlen: int, wide: bool) -> Stats:
    v = [0] * 11
    for t, at, p, n in _attrs(m, val, val + vlen):
        if 1 <= t <= 10:
            if wide or t in (4, 5):
                _want(at, n, 8)
                v[t] = _U64.unpack_from(m, p)[0]
            else:
                _want(at, n, 4)
                v[t] = _U32.unpack_from(m, p)[0]
    return Stats(*v[1:])


def _parse_service(m: bytes, val: int, vlen: int) -> tuple[Service, int | None]:
    af = protocol = port = fwmark = flags = timeout = None
    addr: bytes | None = None
    sched = pe = None
    mask = _U32_MAX
    netmask: bytes | None = None
    stats = stats64 = None
    for t, at, p, n in _attrs(m, val, val + vlen):
        if t == 1:
            _want(at, n, 2)
            af = _U16.unpack_from(m, p)[0]
        elif t == 2:
            _want(at, n, 2)
            protocol = _U16.unpack_from(m, p)[0]
        elif t == 3:
            if n > 16:
                raise _Bad(-7, at)
            addr = m[p : p + n]
        elif t == 4:
            _want(at, n, 2)
            port = _BE16.unpack_from(m, p)[0]
        elif t == 5:
            _want(at, n, 4)
            fwmark = _U32.unpack_from(m, p)[0]
        elif t == 6:
            sched = _text(m, at, p, n, _NAME_MAX)
        elif t == 7:
            _want(at, n, 8)
            flags, mask = _FLAGS.unpack_from(m, p)
        elif t == 8:
            _want(at, n, 4)
            timeout = _U32.unpack_from(m, p)[0]
        elif t == 9:
            _want(at, n, 4)
            netmask = m[p : p + 4]
        elif t == 10:
            stats = _parse_stats(m, p, n, False)
        elif t == 11:
            pe = _text(m, at, p, n, _NAME_MAX)
        elif t == 12:
            stats64 = _parse_stats(m, p, n, True)
    nm = None
    if netmask is not None:
        nm = (_U32 if af == AF_INET6 else _BE32).unpack(netmask)[0]
    text = None if addr is None else _addr_text(addr, _addr_family(af, addr))
    svc = Service(af, protocol, text, port, fwmark, sched, flags, mask, timeout, nm, pe, stats, stats64)
    return svc, af


def _parse_dest(m: bytes, val: int, vlen: int) -> tuple[list, bytes | None]:
    v: list = [None] * 15  # Dest's fields; addr (0) holds the raw bytes until the family is known
    addr = None
    for t, at, p, n in _attrs(m, val, val + vlen):
        if t == 1:
            if n > 16:
                raise _Bad(-7, at)
            addr = m[p : p + n]
        elif t == 2:
            _want(at, n, 2)
            v[1] = _BE16.unpack_from(m, p)[0]
        elif 3 <= t <= 9:
            _want(at, n, 4)
            v[(0, 0, 0, 2, 3, 4, 5, 10, 11, 12)[t]] = _U32.unpack_from(m, p)[0]
        elif t == 10:
            v[13] = _parse_stats(m, p, n, False)
        elif t == 11:
            _want(at, n, 2)
            v[6] = _U16.unpack_from(m, p)[0]
        elif t == 12:
            v[14] = _parse_stats(m, p, n, True)
        elif t == 13:
            _want(at, n, 1)
            v[7] = m[p]
        elif t == 14:
            _want(at, n, 2)
            v[8] = _BE16.unpack_from(m, p)[0]
        elif t == 15:
            _want(at, n, 2)
            v[9] = _U16.unpack_from(m, p)[0]
    return v, addr


def _parse_daemon(m: bytes, val: int, vlen: int) -> Daemon:
    v: list = [None] * 8
    for t, at, p, n in _attrs(m, val, val + vlen):
        if t == 1:
            _want(at, n, 4)
            v[0] = _U32.unpack_from(m, p)[0]
        elif t == 2:
            v[1] = _text(m, at, p, n, _NAME_MAX)
        elif t == 3:
            _want(at, n, 4)
            v[2] = _U32.unpack_from(m, p)[0]
        elif t == 4:
            _want(at, n, 2)
            v[3] = _U16.unpack_from(m, p)[0]
        elif t == 5:
            _want(at, n, 4)
            v[4] = inet_ntop(_AF_INET, m[p : p + 4])
        elif t == 6:
            _want(at, n, 16)
            v[5] = inet_ntop(_AF_INET6, m[p : p + 16])
        elif t == 7:
            _want(at, n, 2)
            v[6] = _U16.unpack_from(m, p)[0]
        elif t == 8:
            _want(at, n, 1)
            v[7] = m[p]
    return Daemon(*v)


def _genl(m: bytes, off: int, length: int) -> tuple[int, int]:
    if length < 20:
        raise _Bad(-5, off)
    return m[off + 16], off + 20


def _parse_ipvs(m: bytes, off: int, length: int, flags: int, seq: int) -> IpvsMessage:
    cmd, start = _genl(m, off, length)
    service = dest = daemon = timeouts = info = None
    svc_af = None
    dest_raw = None
    u32: list = [None] * 7
    seen = 0
    for t, at, p, n in _attrs(m, start, off + length):
        if cmd == _SET_INFO:
            if t in (1, 2):
                _want(at, n, 4)
                u32[t] = _U32.unpack_from(m, p)[0]
                seen |= 1 << t
        elif t == 1:
            service, svc_af = _parse_service(m, p, n)
        elif t == 2:
            dest_raw = _parse_dest(m, p, n)
        elif t == 3:
            daemon = _parse_daemon(m, p, n)
        elif 4 <= t <= 6:
            _want(at, n, 4)
            u32[t] = _U32.unpack_from(m, p)[0]
            seen |= 1 << t
    if dest_raw is not None:
        v, raw = dest_raw
        if raw is not None:
            fam = v[6] if v[6] in (AF_INET, AF_INET6) else svc_af
            v[0] = _addr_text(raw, _addr_family(fam, raw))
        dest = Dest(*v)
    if cmd == _SET_INFO:
        if seen:
            info = Info(u32[1], u32[2])
    elif seen:
        timeouts = Timeouts(u32[4], u32[5], u32[6])
    return IpvsMessage(seq, flags, cmd, service, dest, daemon, timeouts, info)


def _parse_family(m: bytes, off: int, length: int, seq: int) -> Family:
    cmd, start = _genl(m, off, length)
    v: list = [None] * 5
    for t, at, p, n in _attrs(m, start, off + length):
        if t == 1:
            _want(at, n, 2)
            v[0] = _U16.unpack_from(m, p)[0]
        elif t == 2:
            v[1] = _text(m, at, p, n, 15)
        elif 3 <= t <= 5:
            _want(at, n, 4)
            v[t - 1] = _U32.unpack_from(m, p)[0]
    return Family(seq, cmd, *v)


def _parse_status(m: bytes, off: int, length: int, typ: int, flags: int, seq: int) -> Ack | Done:
    payload = length - 16
    error = 0
    tlvs = -1
    if typ == 2:
        if payload < 20:
            raise _Bad(-9, off)
        error = _S32.unpack_from(m, off + 16)[0]
        if flags & _ACK_TLVS:
            if flags & _CAPPED:
                tlvs = 20
            else:
                req = _U32.unpack_from(m, off + 20)[0]
                if req < 16 or req + 4 > payload:
                    raise _Bad(-9, off)
                tlvs = min(4 + ((req + 3) & ~3), payload)
    elif payload >= 4:
        error = _S32.unpack_from(m, off + 16)[0]
        if flags & _ACK_TLVS:
            tlvs = 4
    text = None
    if tlvs >= 0:
        for t, at, p, n in _attrs(m, off + 16 + tlvs, off + length):
            if t == 1:
                text = _text(m, at, p, n, None)
    return (Ack if typ == 2 else Done)(seq, -error, text)


def parse_ipvs_replies(data: bytes | bytearray | memoryview, family: int | None = None) -> list[Reply]:
    """Every netlink message in data: Ack, Done, IpvsMessage (type == family),
    Family (nlctrl), Other; NetlinkFormatError on a malformed buffer."""
    if family is not None:
        family = _uint(family, _U16_MAX, "family")
    mv = memoryview(data)
    if not mv.c_contiguous:
        raise BufferError("data must be a contiguous buffer")
    m = mv.tobytes()
    out: list[Reply] = []
    off, end = 0, len(m)
    try:
        while off < end:
            left = end - off
            if left < 16:
                raise _Bad(-3, off)
            length, typ, flags, seq, _pid = _NLMSGHDR.unpack_from(m, off)
            if length < 16 or length > left:
                raise _Bad(-4, off)
            if typ == 2 or typ == 3:
                out.append(_parse_status(m, off, length, typ, flags, seq))
            elif typ == _GENL_ID_CTRL:
                out.append(_parse_family(m, off, length, seq))
            elif typ == family:
                out.append(_parse_ipvs(m, off, length, flags, seq))
            else:
                out.append(Other(seq, typ, flags))
            off += min((length + 3) & ~3, left)
    except _Bad as e:
        raise NetlinkFormatError(_REASONS[e.code], e.at) from None
    return out


# At the bottom, so that fastka.wire.ipvs (which imports this module) finds the
# functions above even when this module is imported first.
from fastka.wire.ipvs import (  # noqa: E402
    Ack,
    Daemon,
    Dest,
    Done,
    Family,
    Info,
    IpvsMessage,
    NetlinkFormatError,
    Other,
    Reply,
    Service,
    Stats,
    Timeouts,
)
