"""IPVS (LVS) over generic netlink: request packing, reply parsing, a small socket.

The kernel's uapi is the spec: ``linux/ip_vs.h`` (commands and attributes),
``linux/genetlink.h`` and ``linux/netlink.h``. :class:`Batch` packs any number of
IPVS requests into one buffer (``batch.data``, one ``send``); :func:`parse_replies`
decodes what the kernel sends back (ACKs and errors, dump parts, ``NLMSG_DONE``).
Both are the native core's when it is loaded (``fastka.backend == "native"``) and the
pure-Python twin's otherwise; the two give identical bytes, objects and errors.

Values. A :class:`Service`, :class:`Dest`, :class:`Daemon`, :class:`Timeouts` or
:class:`Info` field that is ``None`` is an attribute that is absent (not sent / not
received). Addresses are strings; ports, counters and flags are ints in host order
(the codec does the kernel's byte orders: be16 ports, the be32 IPv4 netmask).
Field names follow the uapi attribute names (``IPVS_SVC_ATTR_AF`` -> ``Service.af``,
``IPVS_DEST_ATTR_ADDR_FAMILY`` -> ``Dest.addr_family``).

Requests. Every :class:`Batch` method appends one message and returns its sequence
number; ``batch.seqs`` lists them in order. Commands and single GETs carry
``NLM_F_REQUEST | NLM_F_ACK`` (the kernel answers each with an ACK, or an error, after
any reply), dumps ``NLM_F_REQUEST | NLM_F_DUMP`` (the parts, then ``NLMSG_DONE``), so
every sequence number gets exactly one :class:`Ack` or :class:`Done`.

- A service is identified by ``fwmark``, or by ``protocol``, ``addr`` and ``port``;
  ``af`` is sent always, taken from ``addr`` when ``None`` (``":"`` in it means
  AF_INET6, otherwise and without an address AF_INET). Deleting, getting, zeroing a
  service and every dest command send only the identifying attributes.
- ``new_service`` / ``set_service`` send the whole service, as the kernel requires:
  ``sched_name`` must be given; ``flags`` defaults to 0 (with ``flags_mask``, default
  all ones: the kernel sets ``(old & ~mask) | (flags & mask)``), ``timeout`` to 0,
  ``netmask`` to ``0xffffffff`` (AF_INET) or 128 (AF_INET6); ``pe_name`` if given.
- A dest is identified by ``addr`` and ``port`` (plus ``addr_family`` when given:
  without it the kernel takes the service's family). ``new_dest`` / ``set_dest`` also
  need ``fwd_method`` and ``weight``; thresholds default to 0 (no limit); tunnel
  fields are sent when given.
- ``new_daemon`` needs ``state``, ``mcast_ifn`` and ``sync_id``; ``del_daemon``
  sends only ``state``.
- ``message()`` packs any command with exactly the fields given (no defaults, no
  checks of what the kernel requires): kernel-style replies for tests, and commands
  this class has no method for.

Byte orders and sizes as the kernel has them: the IPv4 ``netmask`` is the mask as an
int (``0xffffff00`` is /24) and goes big-endian; the AF_INET6 ``netmask`` is a prefix
length in host order; ``Daemon.mcast_port`` is host order (the kernel's NLA_U16)
where the other ports are big-endian.

Replies (:func:`parse_replies`): :class:`Ack` (``NLMSG_ERROR``: errno 0 is success),
:class:`Done`, :class:`IpvsMessage` (a message of the IPVS family: a dump part, a GET
reply, or a request), :class:`Family` (nlctrl), :class:`Other`. Reading is strict and
bounds-checked: a malformed buffer raises :class:`NetlinkFormatError` with a reason
and the byte offset of the offending header; it never reads outside the buffer.

:class:`GenlSocket` / :class:`IpvsSocket`: a blocking ``NETLINK_GENERIC`` socket that
resolves family ids and sends a batch, collecting replies until every sequence number
is answered. On a kernel without IPVS, ``IpvsSocket()`` raises :class:`IpvsUnavailable`.
One dump per :meth:`GenlSocket.transact`: while a dump runs, the kernel answers another
dump request on the same socket with EBUSY (measured on Debian's 6.1).
"""

from __future__ import annotations

import errno as _errno
import os
import socket
import struct
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple, Union

if TYPE_CHECKING:
    from collections.abc import Iterable

AF_INET = 2
AF_INET6 = 10
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_SCTP = 132

# linux/netlink.h
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200
GENL_ID_CTRL = 16
CTRL_CMD_NEWFAMILY = 1
CTRL_CMD_GETFAMILY = 3
IPVS_GENL_NAME = "IPVS"
IPVS_GENL_VERSION = 1

# linux/ip_vs.h: service flags
IP_VS_SVC_F_PERSISTENT = 0x0001
IP_VS_SVC_F_HASHED = 0x0002
IP_VS_SVC_F_ONEPACKET = 0x0004
IP_VS_SVC_F_SCHED1 = 0x0008
IP_VS_SVC_F_SCHED2 = 0x0010
IP_VS_SVC_F_SCHED3 = 0x0020
IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1
IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2
IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0
IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1
IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 2


class Cmd(IntEnum):
    """IPVS_CMD_*: the genetlink command of an IPVS message."""

    NEW_SERVICE = 1
    SET_SERVICE = 2
    DEL_SERVICE = 3
    GET_SERVICE = 4
    NEW_DEST = 5
    SET_DEST = 6
    DEL_DEST = 7
    GET_DEST = 8
    NEW_DAEMON = 9
    DEL_DAEMON = 10
    GET_DAEMON = 11
    SET_CONFIG = 12
    GET_CONFIG = 13
    SET_INFO = 14
    GET_INFO = 15
    ZERO = 16
    FLUSH = 17


class FwdMethod(IntEnum):
    """IP_VS_CONN_F_* forwarding methods (Dest.fwd_method)."""

    MASQ = 0
    LOCALNODE = 1
    TUNNEL = 2
    DROUTE = 3
    BYPASS = 4


class TunType(IntEnum):
    """IP_VS_CONN_F_TUNNEL_TYPE_* (Dest.tun_type)."""

    IPIP = 0
    GUE = 1
    GRE = 2


class DaemonState(IntEnum):
    """IP_VS_STATE_* (Daemon.state)."""

    MASTER = 1
    BACKUP = 2


class Stats(NamedTuple):
    """IPVS_STATS_ATTR_* counters (a counter absent from a reply reads 0). In
    ``stats`` the packet / connection counters and rates are 32-bit (bytes 64-bit);
    in ``stats64`` all are 64-bit."""

    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0
    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0


class Service(NamedTuple):
    """A virtual service (IPVS_CMD_ATTR_SERVICE)."""

    af: int | None = None
    protocol: int | None = None
    addr: str | None = None
    port: int | None = None
    fwmark: int | None = None
    sched_name: str | None = None
    flags: int | None = None
    flags_mask: int = 0xFFFFFFFF
    """Sent with ``flags``; read from the kernel's ``struct ip_vs_flags`` (the kernel
    reports all ones)."""
    timeout: int | None = None
    """Persistence timeout, seconds."""
    netmask: int | None = None
    """Persistence granularity: AF_INET the mask as an int, AF_INET6 a prefix length."""
    pe_name: str | None = None
    stats: Stats | None = None
    stats64: Stats | None = None


class Dest(NamedTuple):
    """A real server of a service (IPVS_CMD_ATTR_DEST)."""

    addr: str | None = None
    port: int | None = None
    fwd_method: int | None = None
    weight: int | None = None
    u_threshold: int | None = None
    l_threshold: int | None = None
    addr_family: int | None = None
    tun_type: int | None = None
    tun_port: int | None = None
    tun_flags: int | None = None
    active_conns: int | None = None
    inact_conns: int | None = None
    persist_conns: int | None = None
    stats: Stats | None = None
    stats64: Stats | None = None


class Daemon(NamedTuple):
    """A connection sync daemon (IPVS_CMD_ATTR_DAEMON)."""

    state: int | None = None
    mcast_ifn: str | None = None
    sync_id: int | None = None
    sync_maxlen: int | None = None
    mcast_group: str | None = None
    mcast_group6: str | None = None
    mcast_port: int | None = None
    mcast_ttl: int | None = None


class Timeouts(NamedTuple):
    """IPVS_CMD_ATTR_TIMEOUT_*: connection timeouts in seconds (SET_CONFIG / GET_CONFIG)."""

    tcp: int | None = None
    tcp_fin: int | None = None
    udp: int | None = None


class Info(NamedTuple):
    """IPVS_INFO_ATTR_* (the reply to GET_INFO, command SET_INFO)."""

    version: int | None = None
    conn_tab_size: int | None = None


class IpvsMessage(NamedTuple):
    """A message of the IPVS family: a dump part or GET reply from the kernel (or a
    request, read back). ``cmd`` is an IPVS_CMD_* (:class:`Cmd`); the parts present in
    the message are set, the others ``None``."""

    seq: int
    flags: int
    cmd: int
    service: Service | None = None
    dest: Dest | None = None
    daemon: Daemon | None = None
    timeouts: Timeouts | None = None
    info: Info | None = None


class Ack(NamedTuple):
    """NLMSG_ERROR: the answer to request ``seq``; ``errno`` 0 is success. ``message``
    is the kernel's extended-ACK text, when it sent one."""

    seq: int
    errno: int
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.errno == 0

    def exception(self) -> NetlinkError | None:
        """The error as an OSError (None for success)."""
        return NetlinkError(self.errno, self.seq, self.message) if self.errno else None


class Done(NamedTuple):
    """NLMSG_DONE: the end of the dump answering ``seq``; a nonzero ``errno`` means the
    dump failed part way."""

    seq: int
    errno: int = 0
    message: str | None = None


class Family(NamedTuple):
    """An nlctrl message: the CTRL_CMD_NEWFAMILY reply to CTRL_CMD_GETFAMILY (or the
    request, read back)."""

    seq: int
    cmd: int
    id: int | None = None
    name: str | None = None
    version: int | None = None
    hdrsize: int | None = None
    maxattr: int | None = None


class Other(NamedTuple):
    """A message of any other type (NLMSG_NOOP, NLMSG_OVERRUN, another family)."""

    seq: int
    type: int
    flags: int


Reply = Union[Ack, Done, IpvsMessage, Family, Other]


class NetlinkFormatError(ValueError):
    """A reply buffer is malformed; ``offset`` is where the offending header starts."""

    REASONS = {
        "truncated": "fewer bytes left than a netlink header",
        "length": "nlmsg_len below 16 or past the end of the buffer",
        "genl": "payload shorter than the generic netlink header",
        "attr": "attribute header cut short, or its length below 4 or past its container",
        "size": "an attribute of the wrong size for its type",
        "string": "a name longer than its limit",
        "errmsg": "NLMSG_ERROR shorter than struct nlmsgerr, or its TLVs past the end",
    }

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason, offset)
        self.reason = reason
        self.offset = offset

    def __str__(self) -> str:
        return f"malformed netlink reply at byte {self.offset}: {self.reason} ({self.REASONS.get(self.reason, '?')})"


class NetlinkError(OSError):
    """The kernel refused request ``seq`` (an NLMSG_ERROR with a nonzero errno)."""

    def __init__(self, errno: int, seq: int, message: str | None = None) -> None:
        text = os.strerror(errno) + (f": {message}" if message else "")
        super().__init__(errno, text)
        self.seq = seq
        self.message = message


class FamilyNotFound(LookupError):
    """The kernel has no generic netlink family of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the kernel has no generic netlink family {name!r}")
        self.name = name


class IpvsUnavailable(FamilyNotFound):
    """The kernel has no IPVS (the ip_vs module is not loaded or not built)."""

    def __init__(self) -> None:
        LookupError.__init__(
            self,
            "the kernel has no IPVS: generic netlink family 'IPVS' not found "
            "(load the ip_vs module: modprobe ip_vs)",
        )
        self.name = IPVS_GENL_NAME


from .. import native as _native  # noqa: E402  (the classes above must exist first)
from .. import sockbuf  # noqa: E402
from ..pure import ipvs as _pure  # noqa: E402

_impl = _native if _native is not None else _pure

if TYPE_CHECKING:  # the twin declares the API both implementations have
    from ..pure.ipvs import IpvsBatch as Batch
    from ..pure.ipvs import parse_ipvs_replies as parse_replies
else:
    Batch = _impl.IpvsBatch
    parse_replies = _impl.parse_ipvs_replies


# --- the socket ---------------------------------------------------------------------------

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
_LEN = struct.Struct("=I")


class GenlSocket:
    """A blocking NETLINK_GENERIC socket: resolve family ids, send batches, collect replies.

    Requests of one :meth:`transact` are sent in chunks of at most ``chunk`` messages
    (and 64 KiB), each chunk's answers read before the next is sent, so that the
    kernel's ACKs never overflow the receive buffer. Extended ACKs are asked for (the
    kernel's error text lands in :attr:`Ack.message`) and ACKs are capped (an error
    does not echo the whole request).
    """

    def __init__(self, *, timeout: float = 5.0, rcvbuf: int = 1 << 20, chunk: int = 256) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        try:
            for opt in (NETLINK_CAP_ACK, NETLINK_EXT_ACK):
                try:
                    self._sock.setsockopt(SOL_NETLINK, opt, 1)
                except OSError:  # older kernels: plain ACKs
                    pass
            sockbuf.grow(self._sock, rcvbuf)
            self._sock.bind((0, 0))
            self._sock.settimeout(timeout)
        except BaseException:
            self._sock.close()
            raise
        self.chunk = chunk
        self._next_seq = 1
        self._buf = bytearray(1 << 18)

    @property
    def portid(self) -> int:
        return self._sock.getsockname()[0]

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def batch(self, family: int, *, acks: bool = True) -> Batch:
        """An empty batch whose sequence numbers continue this socket's; acks=False
        for a batch of changes whose successes need no answer (see transact)."""
        return Batch(family, self._next_seq, acks)

    def transact(self, batch: Batch, *, check: bool = True) -> list[Reply]:
        """Send every message of batch and return the replies to them, in order, once
        each sequence number has its Ack or Done. With check, the first refused
        request raises NetlinkError (after all replies are read).

        A batch made with acks=False holds changes only, sent without NLM_F_ACK: the
        kernel answers just the refused ones. Generic netlink runs a request in the
        sender's sendmsg(), so when send() returns each refusal of that chunk is
        already queued on this socket; they are read without waiting. (40,000
        destinations: 40,000 fewer ACKs built by the kernel and read here, one
        recv each.)"""
        seqs = batch.seqs
        self._next_seq = batch.seq
        data = batch.data
        replies: list[Reply] = []
        acked = batch.acks
        for part, part_seqs in self._chunks(data, seqs):
            self._sock.send(part)
            if acked:
                self._collect(set(part_seqs), batch.family, replies)
            else:
                self._drain(set(part_seqs), batch.family, replies)
        if check:
            for r in replies:
                if isinstance(r, Ack) and r.errno:
                    raise NetlinkError(r.errno, r.seq, r.message)
                if isinstance(r, Done) and r.errno:
                    raise NetlinkError(r.errno, r.seq, r.message)
        return replies

    def _chunks(self, data: bytes, seqs: list[int]) -> Iterable[tuple[bytes, list[int]]]:
        if len(seqs) <= self.chunk and len(data) <= 1 << 16:
            yield data, seqs
            return
        off = start = first = 0
        for i in range(len(seqs)):
            n = (_LEN.unpack_from(data, off)[0] + 3) & ~3
            if i > first and (i - first >= self.chunk or off + n - start > 1 << 16):
                yield data[start:off], seqs[first:i]
                start, first = off, i
            off += n
        yield data[start:], seqs[first:]

    def _collect(self, seqs: set[int], family: int, out: list[Reply]) -> None:
        pending = set(seqs)
        buf = self._buf
        while pending:
            n = self._sock.recv_into(buf)
            for r in parse_replies(memoryview(buf)[:n], family):
                if r.seq not in seqs:
                    continue  # a late answer to an earlier, abandoned request
                out.append(r)
                if isinstance(r, (Ack, Done)):
                    pending.discard(r.seq)

    def _drain(self, seqs: set[int], family: int, out: list[Reply]) -> None:
        """Read what is queued now (the refusals of an unacknowledged chunk)."""
        buf = self._buf
        timeout = self._sock.gettimeout()
        self._sock.setblocking(False)
        try:
            while True:
                try:
                    n = self._sock.recv_into(buf)
                except BlockingIOError:
                    return
                for r in parse_replies(memoryview(buf)[:n], family):
                    if r.seq in seqs:
                        out.append(r)
        finally:
            self._sock.settimeout(timeout)

    def resolve(self, name: str) -> Family:
        """The generic netlink family called name (CTRL_CMD_GETFAMILY), or FamilyNotFound."""
        b = Batch(GENL_ID_CTRL, self._next_seq)
        seq = b.get_family(name)
        for r in self.transact(b, check=False):
            if isinstance(r, Family) and r.seq == seq and r.id is not None:
                return r
            if isinstance(r, Ack) and r.errno and r.seq == seq:
                if r.errno == _errno.ENOENT:
                    raise FamilyNotFound(name)
                raise NetlinkError(r.errno, r.seq, r.message)
        raise FamilyNotFound(name)


class IpvsSocket(GenlSocket):
    """A GenlSocket bound to the kernel's IPVS family; IpvsUnavailable without one.

    ``sock.batch()`` starts a batch of IPVS requests; ``sock.transact(batch)`` sends it.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        try:
            self.family = self.resolve(IPVS_GENL_NAME)
        except FamilyNotFound:
            self.close()
            raise IpvsUnavailable() from None
        except BaseException:
            self.close()
            raise
        assert self.family.id is not None
        self.family_id: int = self.family.id

    def batch(self, family: int | None = None, *, acks: bool = True) -> Batch:
        """An empty batch of IPVS requests (family: another id, for tests)."""
        return super().batch(self.family_id if family is None else family, acks=acks)


__all__ = [
    "AF_INET",
    "AF_INET6",
    "Ack",
    "Batch",
    "Cmd",
    "Daemon",
    "DaemonState",
    "Dest",
    "Done",
    "Family",
    "FamilyNotFound",
    "FwdMethod",
    "GenlSocket",
    "Info",
    "IpvsMessage",
    "IpvsSocket",
    "IpvsUnavailable",
    "NetlinkError",
    "NetlinkFormatError",
    "Other",
    "Reply",
    "Service",
    "Stats",
    "Timeouts",
    "TunType",
    "parse_replies",
]
