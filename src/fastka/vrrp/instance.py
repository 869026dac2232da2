"""A vrrp_instance as the engine runs it: the configuration resolved against this
host (interface index and addresses), the adverts and netlink requests prebuilt, the
state machine, and the counters an operator reads."""

from __future__ import annotations

import ipaddress
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional, cast

from ..wire import build_advert, build_ah_packet, set_advert_priority
from . import names, netlink
from .gratuitous import arp_frame, na_message
from .rules import FibRule, pack_rules
from .state_machine import Params, State, VrrpStateMachine

AUTH_NONE, AUTH_PASS, AUTH_AH = 0, 1, 2


def addr_int(addr: str) -> int:
    return int(ipaddress.ip_address(addr))


def vip_address(vip: Any, default_ifindex: int, default_dev: str) -> netlink.Address:
    """A config VirtualIP as a netlink Address (keepalived's defaults: /32 or /128,
    scope global, IPv6 VIPs without duplicate address detection, a /128 deprecated)."""
    v6 = ":" in vip.address
    dev = vip.dev or default_dev
    index = default_ifindex if dev == default_dev else netlink.ifindex(dev)
    flags = 0
    if v6:
        flags |= netlink.IFA_F_NODAD
    if vip.home:
        flags |= netlink.IFA_F_HOMEADDRESS
    if vip.mngtmpaddr:
        flags |= netlink.IFA_F_MANAGETEMPADDR
    if vip.noprefixroute:
        flags |= netlink.IFA_F_NOPREFIXROUTE
    brd = vip.brd
    if brd in ("+", "-") and not v6:
        net = ipaddress.ip_network(f"{vip.address}/{vip.prefixlen}", strict=False)
        brd = str(net.broadcast_address) if brd == "+" else str(net.network_address)
    lft = None
    if vip.preferred_lft is not None and vip.preferred_lft != "forever":
        lft = int(vip.preferred_lft)
    elif vip.preferred_lft is None and v6 and vip.prefixlen == 128:
        lft = 0  # keepalived: a /128 is deprecated (never a source address) unless preferred_lft forever
    return netlink.Address(ifindex=index, address=vip.address, prefixlen=vip.prefixlen,
                           scope=netlink.SCOPES.get(vip.scope or "global", 0), broadcast=brd if not v6 else None,
                           label=vip.label, peer=vip.peer, flags=flags, preferred_lft=lft)


# virtual_routes options the engine carries out; any other set on a route is reported
ROUTE_FIELDS_DONE = {"dest", "type", "src", "via", "or_via", "dev", "onlink", "scope", "table", "metric", "tos",
                     "pos", "no_track", "track_group", "protocol", "mtu", "advmss", "rtt", "rttvar", "reordering",
                     "window", "cwnd", "ssthresh", "rto_min", "initcwnd", "initrwnd", "hoplimit", "congctl", "locked",
                     "features_ecn", "quickack", "fastopen_no_cookie", "pref", "expires", "realms", "nexthops",
                     "append", "vrf", "ttl_propagate", "inet6"}
# ip-route(8): a TIME with a unit is milliseconds, kept by the kernel in these units
_TIME_SCALE = {"rtt": 8, "rttvar": 4, "rto_min": 1}
_PREF = {"low": 3, "medium": 0, "high": 1}  # ICMPV6_ROUTER_PREF_*
_INT_METRICS = ("mtu", "window", "ssthresh", "cwnd", "advmss", "reordering", "hoplimit", "initcwnd", "initrwnd",
                "quickack", "fastopen_no_cookie")


def route_unsupported(route: Any) -> list[str]:
    """The options of a config Route the engine does not act on (yet), and the names
    iproute2's files do not know."""
    out = []
    for name, value in vars(route).items():
        if name not in ROUTE_FIELDS_DONE and value not in (None, False, (), []):
            out.append(name)
    if route.protocol is not None and names.number("rt_protos", route.protocol) is None:
        out.append(f"protocol {route.protocol}")
    if route.realms is not None and _realms(route.realms) is None:
        out.append(f"realms {route.realms}")
    return out


def _realms(text: str) -> Optional[int]:
    """[FROM/]TO, each a number or an rt_realms name: RTA_FLOW's from << 16 | to."""
    parts = [names.number("rt_realms", p) for p in text.split("/")]
    if any(p is None for p in parts):
        return None
    return (cast(int, parts[0]) << 16 if len(parts) == 2 else 0) | cast(int, parts[-1])


def _time_ms(key: str, text: str) -> int:
    """ip-route(8)'s TIME: without a unit the kernel's own value, else Ns / Nms."""
    for unit, scale in (("msecs", 1), ("msec", 1), ("ms", 1), ("secs", 1000), ("sec", 1000), ("s", 1000)):
        if text.endswith(unit):
            return int(float(text[:-len(unit)]) * scale) * _TIME_SCALE[key]
    return int(float(text))


def _route_metrics(route: Any) -> tuple[tuple[int, "int | bytes"], ...]:
    out: list[tuple[int, "int | bytes"]] = []
    for key in _INT_METRICS:
        value = getattr(route, key)
        if value is not None:
            out.append((netlink.RTAX[key], value))
    for key in _TIME_SCALE:
        value = getattr(route, key)
        if value is not None:
            out.append((netlink.RTAX[key], _time_ms(key, value)))
    if route.features_ecn:
        out.append((netlink.RTAX["features"], 1))  # RTAX_FEATURE_ECN
    if route.congctl is not None:
        out.append((netlink.RTAX_CC_ALGO, route.congctl.encode()))
    lock = 0
    for key in route.locked:
        lock |= 1 << netlink.RTAX[key]
    if route.rto_min is not None:  # TCP heeds a route's rto_min only locked: ip route locks it too
        lock |= 1 << netlink.RTAX["rto_min"]
    if lock:
        out.append((netlink.RTAX_LOCK, lock))
    return tuple(sorted(out, key=lambda m: m[0]))


def route_left_out(route: Any) -> Optional[str]:
    """Why a config Route cannot be set up at all (a table name iproute2's files do not
    know: main would be the wrong table), or None."""
    if route.vrf is None and route.table is not None and names.number("rt_tables", route.table) is None:
        return f"table {route.table}"
    return None


def route_of(route: Any) -> netlink.Route:
    """A config Route (ip route syntax) as a netlink Route; the route must have no
    route_unsupported()."""
    v6 = route.family == 6 or any(a is not None and ":" in a for a in (route.via, route.or_via, route.src,
                                                                         *(nh.via for nh in route.nexthops)))
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    if route.dest == "default":
        dst, plen = None, 0
    else:
        net = ipaddress.ip_network(route.dest, strict=False)
        dst, plen = str(net.network_address), net.prefixlen
    if route.vrf is not None:  # ip route: the VRF's own table (the check warns if table is given too)
        table: Optional[int] = netlink.vrf_table(route.vrf)
    else:
        table = names.number("rt_tables", route.table if route.table is not None else "main")
    # keepalived 2.2.7 (observed) resets a tracked route's protocol to its own: it finds
    # its routes by it (the config check warns)
    protocol = names.number("rt_protos", route.protocol) if route.protocol is not None and route.no_track else None
    nexthops = tuple((nh.via, _dev_index(nh.dev) if nh.dev else 0, nh.weight or 1, nh.onlink)
                     for nh in route.nexthops)
    via, dev = route.via, _dev_index(route.dev) if route.dev else 0
    if route.or_via is not None:  # 'via A or B': two equal nexthops (keepalived's deprecated form)
        nexthops = ((via, dev, 1, route.onlink), (route.or_via, dev, 1, route.onlink), *nexthops)
        via = None
    return netlink.Route(family=fam, dst=dst, dst_len=plen, type=netlink.RTN_TYPES.get(route.type or "unicast", 1),
                         via=via, oif=0 if nexthops else dev,
                         src=route.src, metric=route.metric, table=table if table is not None else 254,
                         scope=netlink.SCOPES.get(route.scope) if route.scope else None,
                         onlink=route.onlink and not nexthops, tos=route.tos or 0,
                         protocol=protocol if protocol is not None else netlink.RTPROT_KEEPALIVED,
                         metrics=_route_metrics(route), pref=_PREF[route.pref] if route.pref else None,
                         expires=route.expires,
                         realms=_realms(route.realms) if route.realms is not None else None,
                         nexthops=nexthops, append=route.append,
                         ttl_propagate=None if route.ttl_propagate is None else route.ttl_propagate == "enabled")


def _dev_index(name: str) -> int:
    try:
        return netlink.ifindex(name)
    except OSError as e:
        raise OSError(e.errno, f"route dev {name}: {e.strerror}") from None


@dataclass(eq=False)  # one running instance is itself: identity, not a comparison of every field
class Instance:
    """One running vrrp_instance. ``index`` numbers it in the engine (timer ids)."""

    index: int
    name: str
    vrid: int
    version: int
    family: int  # 4 or 6
    ifname: str
    ifindex: int
    src: str  # the primary address adverts come from (IPv6: link-local)
    dsts: tuple[str, ...]  # the multicast group, or the unicast peers
    unicast: bool
    priority: int
    advert_int_cs: int
    auth_type: int
    auth_key: bytes
    vips: list[netlink.Address]  # virtual_ipaddress then virtual_ipaddress_excluded
    advert_addresses: tuple[str, ...]  # what adverts list: virtual_ipaddress of the family
    mac: bytes
    garp_master_delay: int
    garp_master_repeat: int
    garp_master_refresh: int
    garp_master_refresh_repeat: int
    release_vips: bool
    sm: VrrpStateMachine
    counters: Counter = field(default_factory=Counter)
    adverts: list[bytearray] = field(default_factory=list)  # one per dst (v2/v3 message)
    ah_seq: int = 0
    ip_id: int = 0
    holds_vips: bool = False
    taken_early: bool = False  # its VIPs went to the kernel before its state machine ran (engine)
    add_batch: tuple[int, bytes, list[int]] = (0, b"", [])
    del_batch: tuple[int, bytes, list[int]] = (0, b"", [])
    arp: list[tuple[bytes, int]] = field(default_factory=list)
    na: list[tuple[bytes, int]] = field(default_factory=list)
    garp_left: int = 0  # bursts still to send after the first (garp_master_repeat)
    # notify scripts: state word (MASTER, BACKUP, FAULT, STOP) -> (argv, user, group); and notify's
    notify_state: dict = field(default_factory=dict)
    notify_any: Optional[tuple] = None
    group: Optional[str] = None  # the vrrp_sync_group it belongs to
    backup_since_us: int = 0  # when it last entered BACKUP (sync groups: has it heard a master since?)
    held_back_us: int = 0  # when its group last kept it from going master
    tracked: list = field(default_factory=list)  # track.Tracked: scripts and interfaces, with weights
    routes: list = field(default_factory=list)  # netlink.Route: virtual_routes
    route_add: tuple[int, bytes, list[int]] = (0, b"", [])
    route_del: tuple[int, bytes, list[int]] = (0, b"", [])
    rules: list = field(default_factory=list)  # rules.FibRule: virtual_rules
    rule_add: tuple[int, bytes, list[int]] = (0, b"", [])
    rule_del: tuple[int, bytes, list[int]] = (0, b"", [])
    track_faults: set = field(default_factory=set)  # the weight-0 tracked objects now down
    # use_vmac: adverts leave by tx_ifindex (the VMAC, unless vmac_xmit_base); macs has the
    # MAC of each VIP interface other than ifname (GARP); fixed are vmac_protodown's VIPs,
    # added once at start (fixed_batch) and kept, the VMAC's state flipped instead
    vmac: Any = None
    extra_vmacs: list = field(default_factory=list)  # use_vmac_addr / a VIP's use_vmac: vmac.Vmac
    tx_ifindex: int = 0
    vrf_ifindex: int = 0  # an instance without an interface, in a VRF: its device (routing in its table)
    macs: dict = field(default_factory=dict)
    fixed: list = field(default_factory=list)
    fixed_batch: tuple[int, bytes, list[int]] = (0, b"", [])

    src_packed: bytes = b""  # src as network-order bytes (the native loop's view takes them)

    def __post_init__(self) -> None:
        self.src_packed = ipaddress.ip_address(self.src).packed
        self.tx_ifindex = self.tx_ifindex or self.ifindex

    @property
    def links(self) -> list:
        """Its VMAC or ipvlan, then its extra VMACs."""
        return ([self.vmac] if self.vmac is not None else []) + self.extra_vmacs

    @property
    def state(self) -> State:
        return self.sm.state

    def build_adverts(self, priority: int) -> None:
        self.adverts = [bytearray(build_advert(
            version=self.version, vrid=self.vrid, priority=priority, advert_int_cs=self.advert_int_cs,
            addresses=self.advert_addresses,
            src=self.src, dst=d, auth_type=self.auth_type,
            auth_data=self.auth_key if self.auth_type == AUTH_PASS else b"")) for d in self.dsts]

    def set_priority(self, priority: int) -> None:
        for a in self.adverts:
            set_advert_priority(a, priority)

    def packets(self, priority: Optional[int] = None) -> list[tuple[bytes, str, int, str]]:
        """What one advert round sends: (data, dst, ifindex, src) for Batch.send; for AH
        a whole IPv4 datagram per destination (sequence number counted up)."""
        out = []
        for msg, dst in zip(self.adverts, self.dsts, strict=True):
            data = bytes(msg)
            if priority is not None:
                tmp = bytearray(data)
                set_advert_priority(tmp, priority)
                data = bytes(tmp)
            if self.auth_type == AUTH_AH:
                self.ah_seq = (self.ah_seq + 1) & 0xFFFFFFFF
                self.ip_id = self.ip_id % 0xFFFF + 1
                data = build_ah_packet(message=data, src=self.src, dst=dst, seq=self.ah_seq,
                                       auth_data=self.auth_key, ip_id=self.ip_id, unicast=self.unicast)
            out.append((data, dst, self.send_ifindex, self.src))
        return out

    @property
    def send_ifindex(self) -> int:
        """The interface adverts leave by (their IP_PKTINFO): an instance's vrf; routing's
        choice (0) for unicast but AH; else tx_ifindex."""
        if self.vrf_ifindex:
            return self.vrf_ifindex
        return 0 if self.unicast and self.auth_type != AUTH_AH else self.tx_ifindex

    def prepare_addresses(self, first_seq: int) -> int:
        """Prebuild the netlink requests and the GARP / NA frames; returns the next free seq."""
        def batch(op: int, pack: Any, items: list) -> tuple[int, bytes, list[int]]:
            nonlocal first_seq
            data, seqs = pack(op, items, first_seq)
            first_seq += len(seqs)
            return op, data, seqs

        self.add_batch = batch(netlink.RTM_NEWADDR, netlink.pack_addresses, self.vips)
        self.del_batch = batch(netlink.RTM_DELADDR, netlink.pack_addresses, self.vips)
        if self.fixed:
            self.fixed_batch = batch(netlink.RTM_NEWADDR, netlink.pack_addresses, self.fixed)
        if self.routes:
            self.route_add = batch(netlink.RTM_NEWROUTE, netlink.pack_routes, self.routes)
            self.route_del = batch(netlink.RTM_DELROUTE, netlink.pack_routes, self.routes)
        if self.rules:
            self.rule_add = batch(netlink.RTM_NEWRULE, pack_rules, self.rules)
            self.rule_del = batch(netlink.RTM_DELRULE, pack_rules, self.rules)
        every = [*self.fixed, *self.vips]
        self.arp = [(arp_frame(self.macs.get(a.ifindex, self.mac), a.address), a.ifindex) for a in every
                    if a.family == socket.AF_INET]
        self.na = [(na_message(self.macs.get(a.ifindex, self.mac), a.address), a.ifindex) for a in every
                   if a.family == socket.AF_INET6]
        return first_seq

    def describe_seq(self, seq: int) -> str:
        """What the netlink request with this sequence number does, in words."""
        for verb, (_, _, seqs), items in (("adding", self.add_batch, self.vips),
                                          ("removing", self.del_batch, self.vips),
                                          ("adding", self.fixed_batch, self.fixed),
                                          ("adding route", self.route_add, self.routes),
                                          ("removing route", self.route_del, self.routes),
                                          ("adding rule", self.rule_add, self.rules),
                                          ("removing rule", self.rule_del, self.rules)):
            if seq in seqs:
                x = items[seqs.index(seq)]
                if isinstance(x, netlink.Address):
                    return f"{verb} {x.address}/{x.prefixlen}"
                if isinstance(x, FibRule):
                    return f"{verb} {x.describe()}"
                return f"{verb} {x.dst or 'default'}/{x.dst_len}" + (f" via {x.via}" if x.via else "")
        if self.vmac is not None and seq in self.vmac.up[2]:
            return f"letting VMAC {self.vmac.name} carry"
        if self.vmac is not None and seq in self.vmac.down[2]:
            return f"holding VMAC {self.vmac.name} down"
        return f"request {seq}"


def make_params(inst: Any, address: int, family: int) -> Params:
    return Params(
        priority=inst.priority, address=address, family=family, version=inst.version,
        advert_int_cs=round(inst.advert_int * 100), initial_state=inst.state or "BACKUP",
        preempt=not inst.nopreempt, preempt_delay_us=round((inst.preempt_delay or 0) * 1_000_000),
        down_timer_adverts=inst.down_timer_adverts or 3,
        lower_prio_no_advert=bool(inst.lower_prio_no_advert),
        higher_prio_send_advert=bool(inst.higher_prio_send_advert))
