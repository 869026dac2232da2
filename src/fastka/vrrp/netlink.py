"""rtnetlink for the VRRP engine: virtual addresses added and removed in batches.

Every request an instance will ever make for its addresses (add all VIPs, delete all
VIPs) is packed once, when the instance is built (:func:`pack_addresses`); a failover
sends the prebuilt bytes of every instance that changes state in as few ``sendto``
calls as the socket buffer allows (:meth:`Rtnl.execute`), then reads the kernel's
acknowledgements. No round trip per address, no fork of ``ip``.

Errors a failover expects are not errors: adding an address that is already there
(the request replaces it) and deleting one that is already gone (EADDRNOTAVAIL /
ESRCH) succeed silently; anything else is returned with the request's sequence number
so the caller can say which VIP failed and why.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import select
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .. import sockbuf

NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWADDR, RTM_DELADDR = 20, 21
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 4, 6, 8
IFA_F_NODAD, IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_NOPREFIXROUTE = 0x02, 0x10, 0x100, 0x200
SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}

_NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_NLA = struct.Struct("=HH")
_ERR = struct.Struct("=i")
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWRULE, RTM_DELRULE = 32, 33
_IGNORED = {RTM_NEWADDR: (), RTM_DELADDR: (_errno.EADDRNOTAVAIL, _errno.ESRCH, _errno.ENOENT),
            RTM_NEWROUTE: (), RTM_DELROUTE: (_errno.ESRCH, _errno.ENOENT),
            RTM_NEWLINK: (), RTM_DELLINK: (_errno.ENODEV,),
            RTM_NEWRULE: (_errno.EEXIST,), RTM_DELRULE: (_errno.ESRCH, _errno.ENOENT)}
CHUNK = 32 * 1024  # bytes per sendto: well under the default socket send buffer


@dataclass(frozen=True)
class Address:
    """One address on one interface, as rtnetlink wants it."""

    ifindex: int
    address: str
    prefixlen: int
    scope: int = 0
    broadcast: Optional[str] = None
    label: Optional[str] = None
    peer: Optional[str] = None
    flags: int = 0
    preferred_lft: Optional[int] = None  # seconds; 0 makes an IPv6 address deprecated

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.address else socket.AF_INET


def _attr(kind: int, payload: bytes) -> bytes:
    n = _NLA.size + len(payload)
    return _NLA.pack(n, kind) + payload + bytes(-n % 4)


def pack_address(op: int, a: Address, seq: int) -> bytes:
    """One RTM_NEWADDR / RTM_DELADDR request with NLM_F_ACK."""
    fam = a.family
    addr = socket.inet_pton(fam, a.address)
    attrs = [_attr(IFA_LOCAL, addr)]
    attrs.append(_attr(IFA_ADDRESS, socket.inet_pton(fam, a.peer) if a.peer else addr))
    if op == RTM_NEWADDR:
        if a.broadcast and fam == socket.AF_INET:
            attrs.append(_attr(IFA_BROADCAST, socket.inet_pton(fam, a.broadcast)))
        if a.label and fam == socket.AF_INET:
            attrs.append(_attr(IFA_LABEL, a.label.encode() + b"\0"))
        if a.flags:
            attrs.append(_attr(IFA_FLAGS, struct.pack("=I", a.flags)))
        if a.preferred_lft is not None:
            # ifa_cacheinfo: preferred, valid (0xFFFFFFFF: forever), cstamp, tstamp
            attrs.append(_attr(IFA_CACHEINFO, struct.pack("=IIII", a.preferred_lft, 0xFFFFFFFF, 0, 0)))
    flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_CREATE | NLM_F_REPLACE if op == RTM_NEWADDR else 0)
    body = _IFADDRMSG.pack(fam, a.prefixlen, a.flags & 0xFF, a.scope, a.ifindex) + b"".join(attrs)
    return _NLMSG.pack(_NLMSG.size + len(body), op, flags, seq, 0) + body


RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_TABLE = 1, 4, 5, 6, 7, 15
RTA_METRICS, RTA_MULTIPATH, RTA_FLOW, RTA_PREF, RTA_EXPIRES, RTA_TTL_PROPAGATE = 8, 9, 11, 20, 23, 26
RTAX_LOCK, RTAX_CC_ALGO = 1, 16
# ip-route(8)'s metrics by their RTAX_ number (linux/rtnetlink.h)
RTAX = {"mtu": 2, "window": 3, "rtt": 4, "rttvar": 5, "ssthresh": 6, "cwnd": 7, "advmss": 8, "reordering": 9,
        "hoplimit": 10, "initcwnd": 11, "features": 12, "rto_min": 13, "initrwnd": 14, "quickack": 15,
        "congctl": RTAX_CC_ALGO, "fastopen_no_cookie": 17}
NLM_F_APPEND = 0x800
_RTNH = struct.Struct("=HBBi")  # struct rtnexthop: len, flags, hops (weight - 1), ifindex
RTPROT_KEEPALIVED = 18  # rtnetlink's protocol number for keepalived's routes (rt_protos)
RTN_TYPES = {"unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5, "blackhole": 6,
             "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10}
RTNH_F_ONLINK = 0x4
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags


@dataclass(frozen=True)
class Route:
    """One route, as rtnetlink wants it (a virtual_routes line, resolved)."""

    family: int  # socket.AF_INET / AF_INET6
    dst: Optional[str]  # None: default
    dst_len: int
    type: int = 1
    via: Optional[str] = None
    oif: int = 0
    src: Optional[str] = None
    metric: Optional[int] = None
    table: int = 254
    scope: Optional[int] = None
    onlink: bool = False
    tos: int = 0
    protocol: int = 18  # RTPROT_KEEPALIVED
    metrics: tuple[tuple[int, "int | bytes"], ...] = ()  # (RTAX_..., u32 value or CC algorithm name)
    pref: Optional[int] = None  # IPv6 router preference (RTA_PREF)
    expires: Optional[int] = None  # IPv6: seconds
    realms: Optional[int] = None  # RTA_FLOW: from << 16 | to
    nexthops: tuple[tuple[Optional[str], int, int, bool], ...] = ()  # multipath: (via, oif, weight, onlink)
    append: bool = False  # ip route append: NLM_F_APPEND, not NLM_F_REPLACE
    # sent as ip route sends it; the kernel reads it only for MPLS routes (the check warns)
    ttl_propagate: Optional[bool] = None


def _nexthops(r: Route) -> bytes:
    out = []
    for via, oif, weight, onlink in r.nexthops:
        gw = _attr(RTA_GATEWAY, socket.inet_pton(r.family, via)) if via is not None else b""
        out.append(_RTNH.pack(_RTNH.size + len(gw), RTNH_F_ONLINK if onlink else 0, max(0, weight - 1), oif) + gw)
    return b"".join(out)


def _metrics(r: Route) -> bytes:
    out = []
    for kind, value in r.metrics:
        out.append(_attr(kind, value + b"\0" if isinstance(value, bytes) else struct.pack("=I", value)))
    return b"".join(out)


def pack_route(op: int, r: Route, seq: int) -> bytes:
    """One RTM_NEWROUTE / RTM_DELROUTE request with NLM_F_ACK (protocol keepalived unless
    the route names another)."""
    # no scope given: universe, also for a route without a gateway (keepalived 2.2.7,
    # observed; ip route would make that one scope link)
    scope = r.scope if r.scope is not None else 0
    attrs = []
    if r.dst is not None:
        attrs.append(_attr(RTA_DST, socket.inet_pton(r.family, r.dst)))
    if r.oif:
        attrs.append(_attr(RTA_OIF, struct.pack("=I", r.oif)))
    if r.via is not None:
        attrs.append(_attr(RTA_GATEWAY, socket.inet_pton(r.family, r.via)))
    if r.src is not None:
        attrs.append(_attr(RTA_PREFSRC, socket.inet_pton(r.family, r.src)))
    if r.metric is not None:
        attrs.append(_attr(RTA_PRIORITY, struct.pack("=I", r.metric)))
    attrs.append(_attr(RTA_TABLE, struct.pack("=I", r.table)))
    if r.realms is not None:
        attrs.append(_attr(RTA_FLOW, struct.pack("=I", r.realms)))
    if r.nexthops:
        attrs.append(_attr(RTA_MULTIPATH, _nexthops(r)))
    if op == RTM_NEWROUTE:
        if r.metrics:
            attrs.append(_attr(RTA_METRICS, _metrics(r)))
        if r.pref is not None:
            attrs.append(_attr(RTA_PREF, struct.pack("=B", r.pref)))
        if r.expires is not None:
            attrs.append(_attr(RTA_EXPIRES, struct.pack("=I", r.expires)))
        if r.ttl_propagate is not None:
            attrs.append(_attr(RTA_TTL_PROPAGATE, struct.pack("=B", r.ttl_propagate)))
    flags = NLM_F_REQUEST | NLM_F_ACK
    if op == RTM_NEWROUTE:
        flags |= NLM_F_CREATE | (NLM_F_APPEND if r.append else NLM_F_REPLACE)
    body = _RTMSG.pack(r.family, r.dst_len, 0, r.tos, r.table if r.table < 256 else 0, r.protocol,
                       scope, r.type, RTNH_F_ONLINK if r.onlink else 0) + b"".join(attrs)
    return _NLMSG.pack(_NLMSG.size + len(body), op, flags, seq, 0) + body


def _pack_each(pack: Callable[[int, Any, int], bytes], op: int, items: Iterable[Any],
               first_seq: int) -> tuple[bytes, list[int]]:
    out, seqs = [], []
    for i, item in enumerate(items):
        seq = (first_seq + i) & 0xFFFFFFFF
        out.append(pack(op, item, seq))
        seqs.append(seq)
    return b"".join(out), seqs


def pack_routes(op: int, routes: Iterable[Route], first_seq: int) -> tuple[bytes, list[int]]:
    """The requests for every route, back to back; and their sequence numbers."""
    return _pack_each(pack_route, op, routes, first_seq)


def pack_addresses(op: int, addresses: Iterable[Address], first_seq: int) -> tuple[bytes, list[int]]:
    """The requests for every address, back to back; and their sequence numbers."""
    return _pack_each(pack_address, op, addresses, first_seq)


# links: macvlan creation (use_vmac), up / down and protodown flips, deletion
IFLA_ADDRESS, IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO, IFLA_AF_SPEC, IFLA_PROTO_DOWN = 1, 3, 5, 18, 26, 39
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_MACVLAN_MODE = 1
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}
IFLA_INET6_ADDR_GEN_MODE = 8
IN6_ADDR_GEN_MODE_NONE = 1
NLA_F_NESTED = 0x8000
NLM_F_EXCL = 0x200
IFF_UP_FLAG = 0x1
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change


def _link_msg(op: int, flags: int, index: int, ifi_flags: int, change: int, attrs: list[bytes], seq: int) -> bytes:
    body = _IFINFOMSG.pack(0, 0, index, ifi_flags, change) + b"".join(attrs)
    return _NLMSG.pack(_NLMSG.size + len(body), op, NLM_F_REQUEST | NLM_F_ACK | flags, seq, 0) + body


def pack_macvlan(name: str, parent: int, mac: bytes, mode: str, seq: int, index: int = 0) -> bytes:
    """RTM_NEWLINK creating a macvlan NAME on interface index PARENT with MAC (left down;
    fails with EEXIST if NAME exists). ``index``: the interface index it must have (the
    kernel refuses one in use), else the kernel picks one."""
    data = _attr(IFLA_MACVLAN_MODE, struct.pack("=I", MACVLAN_MODES[mode]))
    info = _attr(IFLA_INFO_KIND, b"macvlan") + _attr(IFLA_INFO_DATA | NLA_F_NESTED, data)
    attrs = [_attr(IFLA_IFNAME, name.encode() + b"\0"), _attr(IFLA_ADDRESS, mac),
             _attr(IFLA_LINK, struct.pack("=I", parent)), _attr(IFLA_LINKINFO | NLA_F_NESTED, info)]
    return _link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, index, 0, 0, attrs, seq)


IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS = 1, 2
IPVLAN_MODE_L2 = 0
IPVLAN_FLAGS = {"bridge": 0, "private": 1, "vepa": 2}


def pack_ipvlan(name: str, parent: int, flags: str, seq: int, index: int = 0) -> bytes:
    """RTM_NEWLINK creating an ipvlan NAME in mode l2 on interface index PARENT, with
    FLAGS bridge | private | vepa (left down; EEXIST if NAME exists); ``index`` as for
    pack_macvlan. An ipvlan has its parent's MAC."""
    data = (_attr(IFLA_IPVLAN_MODE, struct.pack("=H", IPVLAN_MODE_L2))
            + _attr(IFLA_IPVLAN_FLAGS, struct.pack("=H", IPVLAN_FLAGS[flags])))
    info = _attr(IFLA_INFO_KIND, b"ipvlan") + _attr(IFLA_INFO_DATA | NLA_F_NESTED, data)
    attrs = [_attr(IFLA_IFNAME, name.encode() + b"\0"), _attr(IFLA_LINK, struct.pack("=I", parent)),
             _attr(IFLA_LINKINFO | NLA_F_NESTED, info)]
    return _link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, index, 0, 0, attrs, seq)


def pack_addr_gen_none(index: int, seq: int) -> bytes:
    """RTM_NEWLINK setting IPv6 address generation to none (no link-local of its own)."""
    inet6 = _attr(IFLA_INET6_ADDR_GEN_MODE, struct.pack("=B", IN6_ADDR_GEN_MODE_NONE))
    spec = _attr(socket.AF_INET6 | NLA_F_NESTED, inet6)
    return _link_msg(RTM_NEWLINK, 0, index, 0, 0, [_attr(IFLA_AF_SPEC | NLA_F_NESTED, spec)], seq)


def pack_link_up(index: int, up: bool, seq: int) -> bytes:
    """RTM_NEWLINK setting (or clearing) IFF_UP and nothing else: 32 bytes."""
    return _link_msg(RTM_NEWLINK, 0, index, IFF_UP_FLAG if up else 0, IFF_UP_FLAG, [], seq)


def pack_proto_down(index: int, down: bool, seq: int) -> bytes:
    """RTM_NEWLINK setting IFLA_PROTO_DOWN (carrier off while set, IFF_UP unchanged)."""
    return _link_msg(RTM_NEWLINK, 0, index, 0, 0, [_attr(IFLA_PROTO_DOWN, struct.pack("=B", down))], seq)


def pack_dellink(index: int, seq: int) -> bytes:
    return _link_msg(RTM_DELLINK, 0, index, 0, 0, [], seq)


@dataclass(frozen=True)
class LinkInfo:
    index: int
    name: str
    flags: int
    mac: bytes
    parent: int  # IFLA_LINK, 0 if none
    kind: str  # IFLA_INFO_KIND, "" if none
    mode: int  # IFLA_MACVLAN_MODE, 0 if none
    proto_down: bool
    table: int = 0  # a VRF's IFLA_VRF_TABLE


def _attrs(data: bytes, off: int, end: int) -> dict[int, bytes]:
    out = {}
    while off + _NLA.size <= end:
        alen, atype = _NLA.unpack_from(data, off)
        if alen < _NLA.size:
            break
        out[atype & 0x3FFF] = data[off + _NLA.size:off + alen]
        off += (alen + 3) & ~3
    return out


def get_link(name: str) -> Optional[LinkInfo]:
    """RTM_GETLINK by name in this namespace: what the link is, or None if there is none."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE) as s:
        s.bind((0, 0))
        s.settimeout(10)
        body = _IFINFOMSG.pack(0, 0, 0, 0, 0) + _attr(IFLA_IFNAME, name.encode() + b"\0")
        s.send(_NLMSG.pack(_NLMSG.size + len(body), RTM_GETLINK, NLM_F_REQUEST, 1, 0) + body)
        data = s.recv(1 << 16)
    n, kind, _, _, _ = _NLMSG.unpack_from(data, 0)
    if kind == NLMSG_ERROR:
        err = -_ERR.unpack_from(data, _NLMSG.size)[0]
        if err in (_errno.ENODEV, _errno.ENOENT):
            return None
        raise NetlinkError(err, f"link {name}: {os.strerror(err)}")
    _, _, index, flags, _ = _IFINFOMSG.unpack_from(data, _NLMSG.size)
    a = _attrs(data, _NLMSG.size + _IFINFOMSG.size, n)
    info = _attrs(a.get(IFLA_LINKINFO, b""), 0, len(a.get(IFLA_LINKINFO, b"")))
    idata = info.get(IFLA_INFO_DATA, b"")
    kind = info.get(IFLA_INFO_KIND, b"").rstrip(b"\0").decode(errors="replace")
    # attribute 1 of the kind's data: a macvlan's IFLA_MACVLAN_MODE, a VRF's IFLA_VRF_TABLE
    first = _attrs(idata, 0, len(idata)).get(IFLA_MACVLAN_MODE, b"")
    value = struct.unpack("=I", first)[0] if len(first) == 4 else 0
    return LinkInfo(index=index, name=name, flags=flags, mac=a.get(IFLA_ADDRESS, b""),
                    parent=struct.unpack("=I", a[IFLA_LINK])[0] if IFLA_LINK in a else 0, kind=kind,
                    mode=value if kind == "macvlan" else 0, proto_down=bool(a.get(IFLA_PROTO_DOWN, b"\0")[0]),
                    table=value if kind == "vrf" else 0)


def vrf_table(name: str) -> int:
    """The routing table of VRF device NAME (ip route's ``vrf NAME``); OSError if there is
    no such device or it is no VRF."""
    info = get_link(name)
    if info is None:
        raise NetlinkError(_errno.ENODEV, f"vrf {name}: no such device")
    if info.kind != "vrf" or not info.table:
        raise NetlinkError(_errno.EINVAL, f"vrf {name}: the device is no VRF")
    return info.table


class NetlinkError(OSError):
    pass


class Rtnl:
    """A NETLINK_ROUTE socket that executes batches of prebuilt requests."""

    def __init__(self, rcvbuf: int = 8 << 20) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        sockbuf.grow(self.sock, rcvbuf)
        self.sock.bind((0, 0))
        self.sock.setblocking(False)
        self.timeout = 10.0  # seconds without any acknowledgement before giving up

    def close(self) -> None:
        self.sock.close()

    def execute(self, batches: Iterable[tuple[int, bytes, list[int]]]) -> list[tuple[int, int]]:
        """Send each (op, requests, seqs) batch and wait for every acknowledgement; the
        (seq, errno) of the requests that failed (expected failures left out)."""
        pending: dict[int, int] = {}
        buf = bytearray()
        errors: list[tuple[int, int]] = []
        for op, data, seqs in batches:
            for s in seqs:
                pending[s] = op
            buf += data
            if len(buf) >= CHUNK:
                self._send(buf, pending, errors)
                buf = bytearray()
        if buf:
            self._send(buf, pending, errors)
        self._drain(pending, errors, until_empty=True)
        return errors

    def _send(self, buf: bytearray, pending: dict[int, int], errors: list[tuple[int, int]]) -> None:
        for part in _chunks(buf, CHUNK):
            self.sock.send(part)
            self._drain(pending, errors, until_empty=False)

    def _drain(self, pending: dict[int, int], errors: list[tuple[int, int]], until_empty: bool) -> None:
        """Read acknowledgements: those already there, or (until_empty) until none is pending."""
        while pending:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                if not until_empty:
                    return
                readable, _, _ = select.select([self.sock], [], [], self.timeout)
                if not readable:
                    raise NetlinkError(_errno.ETIMEDOUT, f"no acknowledgement for {len(pending)} requests") from None
                continue
            for seq, err, _ in _acks(data):
                if seq in pending:
                    op = pending.pop(seq)
                    if err and err not in _IGNORED[op]:
                        errors.append((seq, err))


def _chunks(data: "bytes | bytearray", limit: int) -> Iterator[memoryview]:
    """data split on message boundaries into parts of at most limit bytes (a message
    longer than limit is a part of its own)."""
    view, off = memoryview(data), 0
    while off < len(data):
        end = off
        while end < len(data) and (end == off or end - off + _NLMSG.unpack_from(data, end)[0] <= limit):
            end += _NLMSG.unpack_from(data, end)[0]
        yield view[off:end]
        off = end


def _acks(data: bytes) -> Iterator[tuple[int, int, Optional[int]]]:
    """(seq, errno, the request's message type when the kernel echoed its header) of
    every NLMSG_ERROR (an acknowledgement when errno is 0) in data."""
    off = 0
    while off + _NLMSG.size <= len(data):
        n, kind, _, seq, _ = _NLMSG.unpack_from(data, off)
        if n < _NLMSG.size:
            return
        if kind == NLMSG_ERROR and n >= _NLMSG.size + _ERR.size:
            err = -_ERR.unpack_from(data, off + _NLMSG.size)[0]
            echoed = n >= _NLMSG.size + _ERR.size + _NLMSG.size
            yield seq, err, _NLMSG.unpack_from(data, off + _NLMSG.size + _ERR.size)[1] if echoed else None
        off += (n + 3) & ~3


def without_ack(data: bytes) -> bytes:
    """The same requests without NLM_F_ACK: the kernel then answers only those that
    fail (see :meth:`Rtnl.send_unacked`)."""
    out, off = bytearray(data), 0
    while off + _NLMSG.size <= len(out):
        n, kind, flags, seq, pid = _NLMSG.unpack_from(out, off)
        if n < _NLMSG.size:
            raise ValueError(f"malformed netlink message at {off}")
        _NLMSG.pack_into(out, off, n, kind, flags & ~NLM_F_ACK, seq, pid)
        off += (n + 3) & ~3
    return bytes(out)


class UnackedSender:
    """Requests without NLM_F_ACK on a socket of their own, in one sendto.

    rtnetlink carries out every request of a datagram inside the sendto that passes it
    (the kernel runs them in the sender's system call), so when the call returns they
    are all done, and the only answers are the errors, already queued on the socket:
    no acknowledgement is built, queued, read and matched per request (10,000 VIPs: 12 %
    of the kernel's time measured here), and one call suffices (the send buffer is
    sized for the whole batch). The call releases the GIL, so a thread can run it
    while the caller does its Python work."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        sockbuf.grow(self.sock, 16 << 20)  # room for every request's error
        self.sock.bind((0, 0))
        self.sock.setblocking(False)
        self._sndbuf = 0

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> list[tuple[int, int]]:
        """Carry out the requests (built by :func:`without_ack`); the (seq, errno) of
        those that failed, the expected failures left out. A lost error report (the
        receive buffer overflowed) is (0, ENOBUFS)."""
        if not data:
            return []
        if len(data) + 64 > self._sndbuf:
            sockbuf.grow(self.sock, len(data) + 64, send=True)
            self._sndbuf = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - 32  # the kernel doubled it
        limit = max(self._sndbuf, CHUNK)
        if len(data) <= limit:
            self.sock.send(data)  # the usual case: no walk over the messages in Python
        else:
            for part in _chunks(data, limit):  # one sendto unless the buffer could not grow
                self.sock.send(part)
        errors: list[tuple[int, int]] = []
        while True:
            try:
                got = self.sock.recv(1 << 20)
            except BlockingIOError:
                return errors
            except OSError as e:
                if e.errno != _errno.ENOBUFS:
                    raise
                errors.append((0, _errno.ENOBUFS))
                continue
            for seq, err, op in _acks(got):
                if op is not None and err and err not in _IGNORED.get(op, ()):
                    errors.append((seq, err))


RTM_GETADDR = 22
NLM_F_DUMP = 0x300


def dump_addresses(family: int = 0) -> list[tuple[int, int, str, int, int]]:
    """Every address of this namespace: (ifindex, family, address, prefixlen, scope), in
    the kernel's order (an interface's primary IPv4 address comes first)."""
    out: list[tuple[int, int, str, int, int]] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE) as s:
        s.bind((0, 0))
        s.settimeout(10)
        req = _IFADDRMSG.pack(family, 0, 0, 0, 0)
        s.send(_NLMSG.pack(_NLMSG.size + len(req), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req)
        while True:
            data = s.recv(1 << 20)
            off = 0
            while off + _NLMSG.size <= len(data):
                n, kind, _, _, _ = _NLMSG.unpack_from(data, off)
                if n < _NLMSG.size or kind == NLMSG_DONE:
                    return out
                if kind == NLMSG_ERROR:
                    err = -_ERR.unpack_from(data, off + _NLMSG.size)[0]
                    raise NetlinkError(err, f"address dump: {os.strerror(err)}")
                if kind == RTM_NEWADDR:
                    fam, plen, _, scope, index = _IFADDRMSG.unpack_from(data, off + _NLMSG.size)
                    raw = _ifaddr_raw(data, off, n)
                    if raw is not None:
                        af = socket.AF_INET6 if fam == socket.AF_INET6 else socket.AF_INET
                        out.append((index, 6 if fam == socket.AF_INET6 else 4, socket.inet_ntop(af, raw), plen, scope))
                off += (n + 3) & ~3


def _ifaddr_raw(data: bytes, off: int, n: int) -> Optional[bytes]:
    """The address of the RTM_*ADDR message at off (n bytes): IFA_LOCAL, else IFA_ADDRESS."""
    a = off + _NLMSG.size + _IFADDRMSG.size
    local = address = None
    while a + _NLA.size <= off + n:
        alen, atype = _NLA.unpack_from(data, a)
        if alen < _NLA.size:
            break
        if atype == IFA_LOCAL:
            local = bytes(data[a + _NLA.size:a + alen])
        elif atype == IFA_ADDRESS:
            address = bytes(data[a + _NLA.size:a + alen])
        a += (alen + 3) & ~3
    return local or address


RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR = 0x10, 0x100
SO_ATTACH_FILTER = 26


def deleted_addresses_socket() -> socket.socket:
    """A non-blocking socket on the address groups that receives only deletions
    (RTM_DELADDR, and RTM_DELROUTE / RTM_DELRULE once follow_route_deletes joined their
    groups): a socket filter (classic BPF on the message type) drops the rest in the
    kernel, so a failover's thousands of added VIPs queue nothing and wake no one."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    s.setblocking(False)
    def be(kind: int) -> int:  # BPF loads halfwords in network order; nlmsg_type is in host order
        return kind if sys.byteorder == "big" else ((kind & 0xFF) << 8) | (kind >> 8)

    prog = [(0x28, 0, 0, 4),  # 0 ld h [4]: nlmsg_type
            (0x15, 5, 0, be(RTM_DELADDR)),  # 1 jeq ? keep
            (0x15, 4, 0, be(RTM_DELRULE)),  # 2 jeq ? keep
            (0x15, 0, 2, be(RTM_DELROUTE)),  # 3 jeq ? 4 : drop
            # 4 ld b [16 + 5]: rtm_protocol - a deleted address's local route (kernel's) is
            # no one's business here, a failover's 10,000 of them would wake the loop
            (0x30, 0, 0, _NLMSG.size + 5),
            (0x15, 1, 0, RTPROT_KEEPALIVED),  # 5 jeq keepalived ? keep : drop
            (0x06, 0, 0, 0),  # 6 ret 0: dropped
            (0x06, 0, 0, 0xFFFFFFFF)]  # 7 keep: all of it
    code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *ins) for ins in prog))
    fprog = struct.pack("=HxxxxxxQ" if struct.calcsize("P") == 8 else "=HxxI", len(prog), ctypes.addressof(code))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError:
        pass  # the reader skips the other messages itself
    sockbuf.grow(s, 16 << 20)  # a node leaving MASTER hears its own 10,000 deletes (about 8 MB)
    s.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
    return s


SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
ROUTE_RULE_GROUPS = (7, 11, 8, 19)  # RTNLGRP_IPV4_ROUTE, _IPV6_ROUTE, _IPV4_RULE, _IPV6_RULE


def follow_route_deletes(s: socket.socket) -> None:
    """deleted_addresses_socket hears route and rule deletions too (joining twice is no
    error)."""
    for group in ROUTE_RULE_GROUPS:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)


def route_key(r: Route) -> tuple:
    """What identifies a route in an RTM_DELROUTE: family, destination, length, table."""
    # the kernel leaves RTA_DST out of a /0's notification
    dst = socket.inet_pton(r.family, r.dst) if r.dst is not None and r.dst_len else b""
    return ("route", r.family, dst, r.dst_len, r.table)


def deleted_routes(data: bytes) -> Iterator[tuple]:
    """route_key()-shaped keys of each RTM_DELROUTE in data, ("rule", family, priority)
    of each RTM_DELRULE."""
    off = 0
    while off + _NLMSG.size <= len(data):
        n, kind, _, _, _ = _NLMSG.unpack_from(data, off)
        if n < _NLMSG.size or off + n > len(data):
            return
        body = off + _NLMSG.size
        if kind in (RTM_DELROUTE, RTM_DELRULE) and body + _RTMSG.size <= off + n:
            fam, dst_len, _, _, table = _RTMSG.unpack_from(data, body)[:5]
            a = _attrs(data, body + _RTMSG.size, off + n)  # a rule's header has the same size
            if kind == RTM_DELROUTE:
                if RTA_TABLE in a and len(a[RTA_TABLE]) == 4:
                    table = struct.unpack("=I", a[RTA_TABLE])[0]
                yield ("route", fam, a.get(RTA_DST, b""), dst_len, table)
            elif 6 in a and len(a[6]) == 4:  # FRA_PRIORITY
                yield ("rule", fam, struct.unpack("=I", a[6])[0])
        off += (n + 3) & ~3


def deleted_addresses(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(ifindex, packed address) of each RTM_DELADDR in data."""
    off = 0
    while off + _NLMSG.size <= len(data):
        n, kind, _, _, _ = _NLMSG.unpack_from(data, off)
        if n < _NLMSG.size:
            return
        if kind == RTM_DELADDR and off + _NLMSG.size + _IFADDRMSG.size <= len(data):
            index = _IFADDRMSG.unpack_from(data, off + _NLMSG.size)[4]
            raw = _ifaddr_raw(data, off, n)
            if raw is not None:
                yield index, raw
        off += (n + 3) & ~3


def ifindex(name: str) -> int:
    return socket.if_nametoindex(name)


SIOCGIFFLAGS, SIOCGIFHWADDR = 0x8913, 0x8927
IFF_UP, IFF_RUNNING = 0x1, 0x40


def _ifreq(name: str, request: int) -> bytes:
    """An interface ioctl on a socket of the current network namespace (sysfs would show
    the namespace it was mounted in)."""
    import fcntl

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        return fcntl.ioctl(s.fileno(), request, struct.pack("16s24x", name.encode()[:15]))


def mac_address(name: str) -> bytes:
    return _ifreq(name, SIOCGIFHWADDR)[18:24]


def link_is_up(name: str) -> bool:
    """Administratively up and running (carrier): what keepalived calls the interface up."""
    try:
        flags = struct.unpack_from("=H", _ifreq(name, SIOCGIFFLAGS), 16)[0]
    except OSError:
        return False
    return bool(flags & IFF_UP) and bool(flags & IFF_RUNNING)


def strerror(err: int) -> str:
    return os.strerror(err)
