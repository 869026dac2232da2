"""The IPVS table fastka wants, and the requests that make the kernel's table match it.

A :class:`Table` is a set of services (``fastka.wire.ipvs.Service``) each with its
destinations (``Dest``), keyed the way the kernel identifies them: a service by
``(af, fwmark)`` or ``(af, protocol, addr, port)``, a destination by ``(addr, port)``.

- :func:`services_of` turns one ``virtual_server`` block into the kernel services it
  stands for (one per address of a ``virtual_server_group`` range or prefix, one per
  group fwmark line) with keepalived's meaning of each keyword;
- :func:`real_dest` / :func:`sorry_dest` are the destinations of real and sorry
  servers;
- :func:`diff` compares a wanted table with the one in the kernel (or the one fastka
  last applied) and returns the requests that change only the difference, which
  :func:`pack` appends to one generic-netlink batch;
- :func:`read_kernel` dumps the kernel's table (services, then the dests of those
  asked for) in one batch.

Ownership: fastka changes only services its configuration names. A service in the
kernel that the configuration does not name is left alone (``lvs_flush`` at start
flushes everything first, as keepalived); a destination in a service fastka owns that
the configuration does not name is removed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ..wire import ipvs
from ..wire.ipvs import Dest, Service

SvcKey = tuple  # (af, fwmark) or (af, protocol, addr, port)
DestKey = tuple  # (addr, port)

PROTOCOLS = {"TCP": socket.IPPROTO_TCP, "UDP": socket.IPPROTO_UDP, "SCTP": 132}
METHODS = {"NAT": ipvs.FwdMethod.MASQ, "DR": ipvs.FwdMethod.DROUTE, "TUN": ipvs.FwdMethod.TUNNEL}
TUN_TYPES = {"ipip": ipvs.TunType.IPIP, "gue": ipvs.TunType.GUE, "gre": ipvs.TunType.GRE}
TUN_CSUM = {"nocsum": ipvs.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, "csum": ipvs.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
            "remcsum": ipvs.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM}
SCHED1 = ipvs.IP_VS_SVC_F_SCHED_SH_FALLBACK  # sh-fallback / mh-fallback
SCHED2 = ipvs.IP_VS_SVC_F_SCHED_SH_PORT  # sh-port / mh-port
SORRY_WEIGHT = 1  # keepalived gives the sorry server weight 1


def svc_key(s: Service) -> SvcKey:
    af = s.af if s.af is not None else (socket.AF_INET6 if s.addr and ":" in s.addr else socket.AF_INET)
    if s.fwmark:
        return (af, s.fwmark)
    return (af, s.protocol, s.addr, s.port)


def dest_key(d: Dest) -> DestKey:
    return (d.addr, d.port or 0)


def describe_service(s: Service) -> str:
    """As ipvsadm writes it: ``TCP 10.0.0.1:80``, ``FWM 7``, ``UDP [fd00::1]:53``."""
    if s.fwmark:
        return f"FWM {s.fwmark}" + (" IPv6" if s.af == socket.AF_INET6 else "")
    proto = {socket.IPPROTO_TCP: "TCP", socket.IPPROTO_UDP: "UDP", 132: "SCTP"}.get(s.protocol or 0, "?")
    return f"{proto} {_hostport(s.addr, s.port)}"


def describe_dest(d: Dest) -> str:
    return _hostport(d.addr, d.port)


def _hostport(addr: Optional[str], port: Optional[int]) -> str:
    a = addr or "?"
    return f"[{a}]:{port or 0}" if ":" in a else f"{a}:{port or 0}"


# --- from the configuration -----------------------------------------------------------------


def _af(version: int) -> int:
    return socket.AF_INET6 if version == 6 else socket.AF_INET


def _netmask(granularity: Optional[str], af: int) -> Optional[int]:
    if granularity is None:
        return None
    if af == socket.AF_INET6:
        return int(granularity)
    if granularity.isdigit():  # a prefix length
        return (0xFFFFFFFF << (32 - int(granularity))) & 0xFFFFFFFF
    return int(ipaddress.IPv4Address(granularity))


def _flags(vs: Any) -> int:
    flags = 0
    if vs.persistence_timeout:
        flags |= ipvs.IP_VS_SVC_F_PERSISTENT
    if vs.ops:
        flags |= ipvs.IP_VS_SVC_F_ONEPACKET
    if vs.lvs_sched == "sh":
        flags |= (SCHED1 if vs.sh_fallback else 0) | (SCHED2 if vs.sh_port else 0)
    elif vs.lvs_sched == "mh":
        flags |= (SCHED1 if vs.mh_fallback else 0) | (SCHED2 if vs.mh_port else 0)
    return flags


def fwmark_family(vs: Any, group: Any = None) -> int:
    """The family of a fwmark service: ``ip_family``, else the group's addresses, else its
    real servers', else IPv4 (keepalived's default)."""
    if vs.ip_family is not None:
        return 6 if vs.ip_family == "inet6" else 4
    if group is not None:
        fams = {e.version for e in group.entries if e.version is not None}
        if len(fams) == 1:
            return fams.pop()
    for rs in vs.real_servers:
        if rs.lvs_method is None or rs.lvs_method.method != "TUN":
            return 6 if ":" in rs.ip else 4
    return 4


def _expand(entry: Any) -> list[str]:
    """The addresses of one group line: one, an ``A-B`` range, or every address of ``A/nn``."""
    first = ipaddress.ip_address(entry.ip)
    if entry.prefixlen is not None:
        net = ipaddress.ip_network(f"{entry.ip}/{entry.prefixlen}", strict=False)
        return [str(a) for a in net]
    if entry.last is None:
        return [str(first)]
    last = ipaddress.ip_address(entry.last)
    return [str(ipaddress.ip_address(n)) for n in range(int(first), int(last) + 1)]


def services_of(vs: Any, groups: dict[str, Any]) -> list[Service]:
    """The kernel services one ``virtual_server`` block stands for."""
    def make(af: int, *, addr: Optional[str] = None, port: Optional[int] = None,
             fwmark: Optional[int] = None) -> Service:
        return Service(
            af=af,
            protocol=None if fwmark else PROTOCOLS.get(vs.protocol or "", socket.IPPROTO_TCP),
            addr=addr, port=port if not fwmark else None, fwmark=fwmark,
            sched_name=vs.lvs_sched, flags=_flags(vs), timeout=vs.persistence_timeout or 0,
            netmask=_netmask(vs.persistence_granularity, af) if vs.persistence_timeout else None,
            pe_name=vs.persistence_engine)

    if vs.fwmark is not None:
        return [make(_af(fwmark_family(vs)), fwmark=vs.fwmark)]
    if vs.ip is not None:
        return [make(_af(6 if ":" in vs.ip else 4), addr=vs.ip, port=vs.port or 0)]
    group = groups[vs.group]
    out: list[Service] = []
    for e in group.entries:
        if e.fwmark is not None:
            fam = e.version or fwmark_family(vs, group)
            out.append(make(_af(fam), fwmark=e.fwmark))
            continue
        for addr in _expand(e):
            out.append(make(_af(6 if ":" in addr else 4), addr=addr, port=e.port or 0))
    return out


def _method_fields(method: Any) -> dict:
    """The Dest fields of an lvs_method (shared: never changed by a caller)."""
    key = (method.method, method.tun_type, method.tun_port, method.tun_csum)
    out = _METHOD_FIELDS.get(key)
    if out is None:
        out = {"fwd_method": METHODS[method.method]}
        if method.method == "TUN":
            out["tun_type"] = TUN_TYPES[method.tun_type or "ipip"]
            if method.tun_port is not None:
                out["tun_port"] = method.tun_port
            if method.tun_csum is not None:
                out["tun_flags"] = TUN_CSUM[method.tun_csum]
        _METHOD_FIELDS[key] = out
    return out


_METHOD_FIELDS: dict[tuple, dict] = {}


def real_dest(rs: Any, svc: Service, weight: int) -> Dest:
    """The destination of real server rs in service svc, with the given weight."""
    fam = socket.AF_INET6 if ":" in rs.ip else socket.AF_INET
    return Dest(addr=rs.ip, port=rs.port or 0, weight=weight,
                u_threshold=rs.uthreshold or 0, l_threshold=rs.lthreshold or 0,
                addr_family=fam if fam != svc.af else None, **_method_fields(rs.lvs_method))


def sorry_dest(vs: Any, svc: Service, weight: int = SORRY_WEIGHT) -> Dest:
    s = vs.sorry_server
    fam = socket.AF_INET6 if ":" in s.ip else socket.AF_INET
    port = s.port if s.port is not None else (svc.port or 0)
    return Dest(addr=s.ip, port=port, weight=weight, u_threshold=0, l_threshold=0,
                addr_family=fam if fam != svc.af else None, **_method_fields(vs.sorry_server_lvs_method))


# --- tables and their difference ---------------------------------------------------------------


@dataclass
class Table:
    services: dict[SvcKey, Service] = field(default_factory=dict)
    dests: dict[SvcKey, dict[DestKey, Dest]] = field(default_factory=dict)

    def add_service(self, s: Service) -> SvcKey:
        k = svc_key(s)
        self.services[k] = s
        self.dests.setdefault(k, {})
        return k

    def __len__(self) -> int:
        return len(self.services)


def _svc_same(a: Service, b: Service) -> bool:
    def norm(s: Service) -> tuple:
        af = svc_key(s)[0]
        netmask = s.netmask if s.netmask is not None else (128 if af == socket.AF_INET6 else 0xFFFFFFFF)
        return (s.sched_name, (s.flags or 0) & ~ipvs.IP_VS_SVC_F_HASHED, s.timeout or 0, netmask, s.pe_name or None)
    return norm(a) == norm(b)


def _dest_same(want: Dest, have: Dest) -> bool:
    """Whether the kernel's (or the shadow's) dest have already is want. The kernel
    reports a dest whose address is local to the director as LOCALNODE whatever
    method it was given: that matches any wanted method."""
    def norm(d: Dest, method: Optional[int]) -> tuple:
        tun = ((d.tun_type or 0, d.tun_port or 0, d.tun_flags or 0) if d.fwd_method == ipvs.FwdMethod.TUNNEL
               else None) if method == ipvs.FwdMethod.TUNNEL else None
        return (method, d.weight, d.u_threshold or 0, d.l_threshold or 0, tun)
    method = want.fwd_method if have.fwd_method == ipvs.FwdMethod.LOCALNODE else have.fwd_method
    return norm(want, want.fwd_method) == norm(have, method)


Op = tuple  # (batch method name, service, dest or None)


def diff_dests(svc: Service, want: dict[DestKey, Dest], have: dict[DestKey, Dest]) -> list[Op]:
    ops: list[Op] = []
    for k, d in have.items():
        if k not in want:
            ops.append(("del_dest", svc, d))
    for k, d in want.items():
        old = have.get(k)
        if old is None:
            ops.append(("new_dest", svc, d))
        elif not _dest_same(d, old):
            ops.append(("set_dest", svc, d))
    return ops


def diff(want: Table, have: Table) -> list[Op]:
    """The requests that turn have into want, for the services want names (services only
    in have are not touched: see the module's note on ownership)."""
    ops: list[Op] = []
    for k, s in want.services.items():
        old = have.services.get(k)
        if old is None:
            ops.append(("new_service", s, None))
            ops.extend(("new_dest", s, d) for d in want.dests.get(k, {}).values())
            continue
        if not _svc_same(s, old):
            ops.append(("set_service", s, None))
        ops.extend(diff_dests(s, want.dests.get(k, {}), have.dests.get(k, {})))
    return ops


def removal(table: Table) -> list[Op]:
    """Delete every service of table (their destinations go with them)."""
    return [("del_service", s, None) for s in table.services.values()]


def pack(batch: Any, ops: Iterable[Op]) -> list[int]:
    """Append ops to a fastka.wire.ipvs Batch; the sequence numbers, in op order."""
    seqs = []
    for name, svc, dest in ops:
        method = getattr(batch, name)
        seqs.append(method(svc) if dest is None else method(svc, dest))
    return seqs


def apply_to(table: Table, ops: Iterable[Op]) -> None:
    """Change table as ops change the kernel's (the shadow of what was applied)."""
    last: Optional[Service] = None
    k: SvcKey = ()
    for name, svc, dest in ops:
        if svc is not last:  # ops come grouped by service: one key per run of them
            k, last = svc_key(svc), svc
        if name in ("new_service", "set_service"):
            table.services[k] = svc
            table.dests.setdefault(k, {})
        elif name == "del_service":
            table.services.pop(k, None)
            table.dests.pop(k, None)
        elif name in ("new_dest", "set_dest"):
            table.dests.setdefault(k, {})[dest_key(dest)] = dest
        elif name == "del_dest":
            table.dests.get(k, {}).pop(dest_key(dest), None)


def read_kernel(sock: Any, only: Optional[Iterable[SvcKey]] = None) -> Table:
    """The kernel's IPVS table (the services of only, when given), dests included."""
    b = sock.batch()
    b.dump_services()
    table = Table()
    for m in sock.transact(b):
        if isinstance(m, ipvs.IpvsMessage) and m.service is not None:
            table.add_service(m.service)
    if only is not None:
        wanted = set(only)
        for k in [k for k in table.services if k not in wanted]:
            del table.services[k]
            del table.dests[k]
    keys = list(table.services)
    # one dump at a time: the kernel answers a second dump on a socket whose first is
    # still running with EBUSY
    for k in keys:
        b = sock.batch()
        b.dump_dests(table.services[k])
        for m in sock.transact(b):
            if isinstance(m, ipvs.IpvsMessage) and m.dest is not None:
                table.dests[k][dest_key(m.dest)] = m.dest
    return table
