"""virtual_rules: policy routing rules (``ip rule``) that move with an instance's VIPs.

Each configured rule becomes one prebuilt RTM_NEWRULE and one RTM_DELRULE request
(packed once when the instance is built, like the VIPs and virtual_routes) that ride
in the instance's netlink batches: added after the VIPs and routes when it becomes
master, removed before them when it leaves MASTER or stops.

A rule is what ``ip rule add`` makes of the same words: no action means ``table
main``; ``from``/``to`` prefixes, ``not``, ``iif``/``oif``, ``tos``, ``fwmark[/mask]``,
``realms``, ``preference``, ``table``/``goto``/``blackhole``/``unreachable``/
``prohibit``/``nop``, ``suppress_prefixlength``, ``suppress_ifgroup``,
``l3mdev``, ``uidrange``, ``protocol``, ``ipproto``, ``sport``/``dport``. Rules are
added with protocol keepalived (18) unless ``protocol`` says otherwise on a
``no_track`` rule (a tracked one keeps keepalived's, as keepalived resets it), and a
rule without ``preference`` gets one as keepalived gives it (16384 down, in
configuration order: :class:`Preferences`). Adding a rule that is already there (a previous run's) and deleting
one that is gone are not errors.

A table, realm or interface group may be a name from iproute2's files (``names``:
rt_tables, rt_realms, group under /etc/iproute2 and /usr/share/iproute2); a name they
do not know is reported at start (``unsupported``) and the rule left out.

static_rules are added when the engine starts and removed when it stops (unless
--dont-release-vrrp), as keepalived 2.2.7 does (observed; only its own rules, proto
keepalived, go: an identical rule someone else added stays). Preferences are
assigned to static rules first, then to the instances' rules in order (keepalived
assigns them in file order).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional, cast

from . import names, netlink

log = logging.getLogger("fastka.vrrp")

RTM_NEWRULE, RTM_DELRULE = netlink.RTM_NEWRULE, netlink.RTM_DELRULE
FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_GOTO, FRA_PRIORITY = 1, 2, 3, 4, 6
FRA_FWMARK, FRA_FLOW, FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN, FRA_TABLE = 10, 11, 13, 14, 15
FRA_FWMASK, FRA_OIFNAME, FRA_L3MDEV, FRA_UID_RANGE, FRA_PROTOCOL = 16, 17, 19, 20, 21
FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE = 22, 23, 24
FR_ACT_TO_TBL, FR_ACT_GOTO, FR_ACT_NOP = 1, 2, 3
ACTIONS = {"blackhole": 6, "unreachable": 7, "prohibit": 8, "nop": FR_ACT_NOP}
FIB_RULE_INVERT = 0x2
NLM_F_EXCL = 0x200
_FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, res1, res2, action, flags


@dataclass(frozen=True)
class FibRule:
    """One rule, as rtnetlink wants it (a virtual_rules line, resolved)."""

    family: int  # socket.AF_INET / AF_INET6
    src: Optional[str] = None
    src_len: int = 0
    dst: Optional[str] = None
    dst_len: int = 0
    invert: bool = False
    action: int = FR_ACT_TO_TBL
    table: int = 254
    goto: Optional[int] = None
    priority: Optional[int] = None
    tos: int = 0
    fwmark: Optional[int] = None
    fwmask: Optional[int] = None
    realms: Optional[int] = None
    iif: Optional[str] = None
    oif: Optional[str] = None
    suppress_prefixlen: Optional[int] = None
    suppress_ifgroup: Optional[int] = None
    l3mdev: bool = False
    uidrange: Optional[tuple[int, int]] = None
    protocol: int = netlink.RTPROT_KEEPALIVED
    ipproto: Optional[int] = None
    sport: Optional[tuple[int, int]] = None
    dport: Optional[tuple[int, int]] = None

    def describe(self) -> str:
        out = ["not"] if self.invert else []
        out += ["from", f"{self.src}/{self.src_len}" if self.src else "all"]
        if self.dst:
            out += ["to", f"{self.dst}/{self.dst_len}"]
        if self.priority is not None:
            out += ["pref", str(self.priority)]
        if self.action == FR_ACT_TO_TBL:
            out += ["table", str(self.table)]
        elif self.action == FR_ACT_GOTO:
            out += ["goto", str(self.goto)]
        else:
            out.append({v: k for k, v in ACTIONS.items()}[self.action])
        return " ".join(out)


def _realm(text: str) -> int:
    n = names.number("rt_realms", text)
    if n is None:
        raise ValueError(f"realm {text}")
    return n


def unsupported(rule: Any) -> list[str]:
    """What of a config Rule cannot be carried out (names iproute2's files do not know)."""
    out = []
    if rule.table is not None and names.number("rt_tables", rule.table) is None:
        out.append(f"table {rule.table}")
    if rule.realms is not None:
        try:
            for part in rule.realms.split("/"):
                _realm(part)
        except ValueError:
            out.append(f"realms {rule.realms}")
    if rule.suppress_ifgroup is not None and names.number("group", rule.suppress_ifgroup) is None:
        out.append(f"suppress_ifgroup {rule.suppress_ifgroup}")
    if rule.ipproto is not None and not rule.ipproto.isdigit():
        try:
            socket.getprotobyname(rule.ipproto)
        except OSError:
            out.append(f"ipproto {rule.ipproto}")
    return out


class Preferences:
    """Preferences for rules written without one, as keepalived 2.2.7 assigns them (observed:
    16384 for the first such rule of the configuration, one less for each next one, across
    instances): the rule then has a fixed place and its RTM_DELRULE names exactly it."""

    def __init__(self, first: int = 16384) -> None:
        self.next = first

    def take(self) -> int:
        pref = self.next
        self.next = max(1, self.next - 1)
        return pref


def rule_of(rule: Any, prefs: Optional[Preferences] = None) -> FibRule:
    """A config Rule (ip rule syntax) as a FibRule; the rule must have no unsupported().
    Without a preference it takes the next of prefs (else the kernel picks one)."""
    fam = socket.AF_INET6 if rule.family == 6 else socket.AF_INET

    def prefix(text: Optional[str]) -> tuple[Optional[str], int]:
        if text is None or text == "all":
            return None, 0
        net = ipaddress.ip_network(text, strict=False)
        return str(net.network_address), net.prefixlen

    src, src_len = prefix(rule.from_)
    dst, dst_len = prefix(rule.to)
    if rule.action is not None:
        action, table = ACTIONS[rule.action], 0
    elif rule.goto is not None:
        action, table = FR_ACT_GOTO, 0
    else:
        t = rule.table if rule.table is not None else "main"
        action, table = FR_ACT_TO_TBL, cast(int, names.number("rt_tables", t))
    realms = None
    if rule.realms is not None:
        parts = [_realm(p) for p in rule.realms.split("/")]
        realms = parts[-1] | (parts[0] << 16 if len(parts) == 2 else 0)
    ipproto = None
    if rule.ipproto is not None:
        ipproto = int(rule.ipproto) if rule.ipproto.isdigit() else socket.getprotobyname(rule.ipproto)
    pref = rule.preference
    if pref is None and prefs is not None:
        pref = prefs.take()
        log.info("%srule without a preference: preference %d, as keepalived assigns it",
                 f"{rule.pos}: " if getattr(rule, "pos", None) else "", pref)
    return FibRule(
        family=fam, src=src, src_len=src_len, dst=dst, dst_len=dst_len, invert=rule.invert, action=action,
        table=table, goto=rule.goto, priority=pref, tos=rule.tos or 0, fwmark=rule.fwmark,
        fwmask=rule.fwmask, realms=realms, iif=rule.iif, oif=rule.oif, suppress_prefixlen=rule.suppress_prefixlength,
        suppress_ifgroup=names.number("group", rule.suppress_ifgroup) if rule.suppress_ifgroup is not None else None,
        l3mdev=rule.l3mdev, uidrange=rule.uidrange,
        # a tracked rule's protocol is keepalived's whatever it says (keepalived 2.2.7, observed for routes)
        protocol=rule.protocol if rule.protocol is not None and rule.no_track else netlink.RTPROT_KEEPALIVED,
        ipproto=ipproto,
        sport=rule.sport, dport=rule.dport)


def pack_rule(op: int, r: FibRule, seq: int) -> bytes:
    """One RTM_NEWRULE / RTM_DELRULE request with NLM_F_ACK."""
    a = netlink._attr
    attrs = []
    if r.src is not None:
        attrs.append(a(FRA_SRC, socket.inet_pton(r.family, r.src)))
    if r.dst is not None:
        attrs.append(a(FRA_DST, socket.inet_pton(r.family, r.dst)))
    if r.iif is not None:
        attrs.append(a(FRA_IIFNAME, r.iif.encode() + b"\0"))
    if r.oif is not None:
        attrs.append(a(FRA_OIFNAME, r.oif.encode() + b"\0"))
    if r.priority is not None:
        attrs.append(a(FRA_PRIORITY, struct.pack("=I", r.priority)))
    if r.fwmark is not None:
        attrs.append(a(FRA_FWMARK, struct.pack("=I", r.fwmark)))
    if r.fwmask is not None:
        attrs.append(a(FRA_FWMASK, struct.pack("=I", r.fwmask)))
    if r.realms is not None:
        attrs.append(a(FRA_FLOW, struct.pack("=I", r.realms)))
    if r.action == FR_ACT_TO_TBL:
        attrs.append(a(FRA_TABLE, struct.pack("=I", r.table)))
    if r.goto is not None:
        attrs.append(a(FRA_GOTO, struct.pack("=I", r.goto)))
    if r.suppress_prefixlen is not None:
        attrs.append(a(FRA_SUPPRESS_PREFIXLEN, struct.pack("=I", r.suppress_prefixlen)))
    if r.suppress_ifgroup is not None:
        attrs.append(a(FRA_SUPPRESS_IFGROUP, struct.pack("=I", r.suppress_ifgroup)))
    if r.l3mdev:
        attrs.append(a(FRA_L3MDEV, b"\x01"))
    if r.uidrange is not None:
        attrs.append(a(FRA_UID_RANGE, struct.pack("=II", *r.uidrange)))
    attrs.append(a(FRA_PROTOCOL, struct.pack("=B", r.protocol)))
    if r.ipproto is not None:
        attrs.append(a(FRA_IP_PROTO, struct.pack("=B", r.ipproto)))
    if r.sport is not None:
        attrs.append(a(FRA_SPORT_RANGE, struct.pack("=HH", *r.sport)))
    if r.dport is not None:
        attrs.append(a(FRA_DPORT_RANGE, struct.pack("=HH", *r.dport)))
    flags = netlink.NLM_F_REQUEST | netlink.NLM_F_ACK
    if op == RTM_NEWRULE:
        flags |= netlink.NLM_F_CREATE | NLM_F_EXCL  # as ip rule add: an identical rule is EEXIST
    hdr = _FIB_RULE_HDR.pack(r.family, r.dst_len, r.src_len, r.tos,
                             r.table if r.action == FR_ACT_TO_TBL and r.table < 256 else 0, 0, 0, r.action,
                             FIB_RULE_INVERT if r.invert else 0)
    body = hdr + b"".join(attrs)
    return netlink._NLMSG.pack(netlink._NLMSG.size + len(body), op, flags, seq, 0) + body


def pack_rules(op: int, rules: Iterable[FibRule], first_seq: int) -> tuple[bytes, list[int]]:
    """The requests for every rule, back to back; and their sequence numbers."""
    return netlink._pack_each(pack_rule, op, rules, first_seq)
