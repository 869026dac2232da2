"""Semantic checks of the VRRP and global part of the model.

Runs after :func:`model_vrrp.apply_defaults`, so effective values are filled;
whether the user wrote a keyword is ``obj.given(name)`` (true also when its value
was refused, so a refused value is not reported again as missing). Every problem
is reported (never only the first), positioned at the keyword -- or the list
item -- it is about. Errors are configurations keepalived refuses, drops or silently
rewrites into something else; warnings are what keepalived corrects or ignores
with a log line, or what is legal but almost certainly not meant.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import socket
from typing import Any, Callable, Iterable, Iterator, Optional

from .model_vrrp import PosStr, TrackRef, VirtualIP, VrrpInstance, VrrpSyncGroup, effective_strict
from .source import Diagnostics, Pos

def host_interfaces() -> set[str]:
    """The interface names of the current network namespace (sysfs would show the
    namespace it was mounted in, not the one fastka -s entered)."""
    try:
        return {n for _, n in socket.if_nameindex()}
    except OSError:
        return set()


def validate_vrrp(config: Any, diags: Diagnostics, *, check_system: bool = False) -> None:
    v = _Validator(config, diags, check_system)
    v.run()


def _repeats(items: Iterable[Any], key: Callable[[Any], Any]) -> Iterator[Any]:
    """The items whose key an earlier item already had."""
    seen: set[Any] = set()
    for item in items:
        k = key(item)
        if k in seen:
            yield item
        seen.add(k)


def _item_pos(item: Any, owner: Any, name: str) -> Optional[Pos]:
    p = getattr(item, "pos", None)
    return p if p is not None else owner.pos_of(name)


def _hint(name: str, known: Iterable[str]) -> Optional[str]:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class _Validator:
    def __init__(self, config: Any, diags: Diagnostics, check_system: bool):
        self.c = config
        self.d = diags
        self.check_system = check_system
        self.gd = getattr(config, "global_defs", None)
        self._ifaces: Optional[set[str]] = None

    # -- driver -----------------------------------------------------------
    def run(self) -> None:
        c = self.c
        self.instances = self._unique("vrrp_instance", c.vrrp_instances)
        self.scripts = self._unique("vrrp_script", c.vrrp_scripts)
        self.files = self._unique("track_file", c.track_files)
        self.processes = self._unique("vrrp_track_process", c.vrrp_track_processes)
        self.bfds = self._unique("bfd_instance", c.bfd_instances)
        self.track_groups = self._unique("track_group", c.track_groups)
        self._unique("vrrp_sync_group", c.vrrp_sync_groups)
        self.member_of: dict[str, VrrpSyncGroup] = {}

        self.global_defs()
        for s in c.vrrp_scripts:
            if s.script is None and not s.given("script"):
                self.d.error(f"vrrp_script '{s.name}' has no script", s.pos_of(), expected="script <STRING>")
        for f in c.track_files:
            if f.file is None and not f.given("file"):
                self.d.error(f"track_file '{f.name}' has no file", f.pos_of(), expected="file <QUOTED_STRING>")
        for p in c.vrrp_track_processes:
            self.track_process(p)
        for tg in c.track_groups:
            self.members(tg.group, f"track_group '{tg.name}'", tg)
        for sg in c.vrrp_sync_groups:
            self.sync_group(sg)
        for inst in c.vrrp_instances:
            self.instance(inst)
        self.duplicate_vrids()
        self.link_names()
        self.statics()
        self.garp_groups()
        self.up_down_delays()
        if self.check_system:
            self.system_interfaces()

    def _unique(self, kind: str, blocks: Iterable[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for b in blocks:
            if b.name in out:
                self.d.error(f"{kind} '{b.name}' is defined again; the first is at {out[b.name].pos_of()}",
                             b.pos_of())
                continue
            out[b.name] = b
        return out

    # -- global_defs ------------------------------------------------------
    def global_defs(self) -> None:
        gd = self.gd
        if gd is None:
            return
        for name, fam in (("vrrp_mcast_group4", 4), ("vrrp_mcast_group6", 6)):
            a = getattr(gd, name)
            if a is not None and not a.is_multicast:
                self.d.error(f"{name} {a} is not a multicast address", gd.pos_of(name),
                             expected=f"an IPv{fam} multicast address")
        fifos: dict[str, str] = {}
        for name in ("notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"):
            v = getattr(gd, name)
            if v is None:
                continue
            if v[0] in fifos:
                self.d.error(f"{name} uses the same FIFO '{v[0]}' as {fifos[v[0]]}; the FIFO names must all differ",
                             gd.pos_of(name))
            else:
                fifos[v[0]] = name
        for name in ("notify_fifo_script", "vrrp_notify_fifo_script", "lvs_notify_fifo_script"):
            fifo = name[: -len("_script")]
            if getattr(gd, name) is not None and getattr(gd, fifo) is None:
                self.d.warning(f"{name} is given without {fifo}, so it is never run", gd.pos_of(name),
                               expected=f"{fifo} FIFO_NAME")
        sd = gd.lvs_sync_daemon
        if sd is not None and sd.instance is not None and sd.instance not in self.instances:
            self.d.error(f"lvs_sync_daemon refers to vrrp_instance '{sd.instance}', which is not defined",
                         gd.pos_of("lvs_sync_daemon"), hint=_hint(sd.instance, self.instances))

    # -- tracked things ---------------------------------------------------
    def track_process(self, p: Any) -> None:
        if p.process is None and not p.given("process"):
            self.d.error(f"vrrp_track_process '{p.name}' has no process", p.pos_of(),
                         expected="process <STRING> [<STRING> ...]")
        if p.quorum is not None and p.quorum_max is not None and p.quorum_max < p.quorum:
            self.d.error(f"vrrp_track_process '{p.name}': quorum_max {p.quorum_max} is below quorum {p.quorum}, "
                         "so the process can never be up", p.pos_of("quorum_max"))

    def track_refs(self, owner: Any, what: str) -> None:
        """The track_script / track_file / track_process / track_bfd lists of an instance or sync group."""
        for field, table, kind in (("track_script", self.scripts, "vrrp_script"),
                                   ("track_file", self.files, "track_file"),
                                   ("track_process", self.processes, "vrrp_track_process"),
                                   ("track_bfd", self.bfds, "bfd_instance")):
            seen: set[str] = set()
            for ref in getattr(owner, field):
                pos = _item_pos(ref, owner, field)
                if ref.name not in table:
                    self.d.error(f"{what}: {field} '{ref.name}' refers to no {kind}", pos,
                                 hint=_hint(ref.name, table))
                if ref.name in seen:
                    self.d.warning(f"{what}: {field} '{ref.name}' is given twice; keepalived ignores the repeat",
                                   pos)
                seen.add(ref.name)
        for ref in _repeats(owner.track_interface, lambda r: r.name):
            self.d.warning(f"{what}: track_interface '{ref.name}' is given twice; keepalived ignores the repeat",
                           _item_pos(ref, owner, "track_interface"))

    def weighted_refs(self, owner: Any) -> Iterable[tuple[str, TrackRef, int]]:
        """(field, ref, effective weight) of every tracked item with a non-zero weight."""
        for field, table in (("track_interface", None), ("track_script", self.scripts),
                             ("track_file", self.files), ("track_process", self.processes),
                             ("track_bfd", self.bfds)):
            for ref in getattr(owner, field):
                w = ref.weight
                if w is None and table is not None and ref.name in table:
                    dw = table[ref.name].weight
                    w = dw.value if dw is not None else 0
                if w:
                    yield field, ref, w

    # -- sync groups ------------------------------------------------------
    def members(self, names: list[str], what: str, owner: Any) -> None:
        seen: set[str] = set()
        for name in names:
            pos = name.pos if isinstance(name, PosStr) and name.pos else owner.pos_of("group")
            if name not in self.instances:
                self.d.error(f"{what}: member '{name}' is not a vrrp_instance", pos, hint=_hint(name, self.instances))
            if name in seen:
                self.d.warning(f"{what}: member '{name}' is listed twice", pos)
            seen.add(name)

    def sync_group(self, sg: VrrpSyncGroup) -> None:
        what = f"vrrp_sync_group '{sg.name}'"
        self.members(sg.group, what, sg)
        for name in dict.fromkeys(sg.group):
            first = self.member_of.get(name)
            pos = name.pos if isinstance(name, PosStr) and name.pos else sg.pos_of("group")
            if first is not None and first is not sg:
                self.d.error(f"{what}: vrrp_instance '{name}' is already in vrrp_sync_group '{first.name}' "
                             f"(at {first.pos_of()}); an instance can be in one sync group only", pos)
            elif name in self.instances:
                self.member_of[name] = sg
        n = len(set(sg.group))
        if n == 0:
            self.d.warning(f"{what} has no members; keepalived removes it", sg.pos_of("group"),
                           expected="group { VRRP_INSTANCE ... }")
        elif n == 1:
            self.d.warning(f"{what} has only one vrrp_instance; a sync group is meant to tie several together",
                           sg.pos_of("group"))
        self.track_refs(sg, what)
        if sg.global_tracking:
            self.d.warning(f"{what}: global_tracking is deprecated in keepalived; use track_interface, "
                           "track_script and track_file on the sync group", sg.pos_of("global_tracking"))

    # -- vrrp_instance ----------------------------------------------------
    def instance(self, inst: VrrpInstance) -> None:
        what = f"vrrp_instance '{inst.name}'"
        fam = inst.family
        strict = effective_strict(inst, self.gd)

        if inst.virtual_router_id is None and not inst.given("virtual_router_id"):
            self.d.error(f"{what} has no virtual_router_id", inst.pos_of(), expected="virtual_router_id <1..255>")
        if inst.interface == "lo":
            self.d.error(f"{what}: VRRP cannot run on the loopback interface", inst.pos_of("interface"),
                         expected="interface <a broadcast interface>", hint="keepalived ignores the instance")
        if inst.interface is None and not inst.given("interface"):
            ll = [a for a in self._unicast_addrs(inst) if a.version == 6 and a.is_link_local]
            if not inst.unicast_peer:
                self.d.error(f"{what} has no interface", inst.pos_of(), expected="interface <STRING>",
                             hint="only an instance using unicast_peer may omit its interface")
            elif ll:
                self.d.error(f"{what} has no interface, but its unicast address {ll[0]} is IPv6 link-local, which "
                             "needs one", inst.pos_of(), expected="interface <STRING>")
            else:
                self.d.warning(f"{what} has no interface: fastka sends its adverts where routing takes them and "
                               "puts VIPs without a dev on default_interface, as keepalived.conf(5) says; "
                               "keepalived 2.2.7 refuses such an instance ('Unknown interface!')", inst.pos_of())

        self.version_and_advert(inst, what, fam)
        self.addresses(inst, what, fam)
        self.authentication(inst, what, fam, strict)
        self.unicast(inst, what, fam)
        self.track_refs(inst, what)
        self.tracking_weights(inst, what)

        if inst.nopreempt and inst.state == "MASTER":
            self.d.warning(f"{what}: nopreempt has no effect with state MASTER; the initial state must be BACKUP",
                           inst.pos_of("nopreempt"))
        if inst.preempt_delay and inst.state == "MASTER" and inst.given("preempt_delay"):
            self.d.warning(f"{what}: preempt_delay has no effect with state MASTER; the initial state must be "
                           "BACKUP", inst.pos_of("preempt_delay"))
        if inst.given("accept") and inst.accept and inst.no_accept:
            self.d.error(f"{what}: both accept and no_accept are given", inst.pos_of("no_accept"),
                         hint="keep one of them")
        if inst.interface is not None:
            for ref in inst.track_interface:
                if ref.name == inst.interface:
                    self.d.warning(f"{what}: track_interface '{ref.name}' is the instance's own interface, which "
                                   "is always tracked; keepalived ignores it",
                                   _item_pos(ref, inst, "track_interface"))
        if inst.lvs_sync_daemon_interface is not None:
            self.d.warning(f"{what}: lvs_sync_daemon_interface is deprecated in keepalived; use global_defs "
                           "lvs_sync_daemon", inst.pos_of("lvs_sync_daemon_interface"),
                           expected=f"lvs_sync_daemon {inst.lvs_sync_daemon_interface} inst {inst.name}")
        if inst.vrf is not None and inst.interface is not None:
            self.d.error(f"{what}: vrf is for an instance without an interface (unicast); this one has interface "
                         f"{inst.interface}", inst.pos_of("vrf"),
                         hint="keepalived ignores vrf here; the interface's own VRF applies")
        if inst.use_ipvlan is not None and inst.use_ipvlan.address is not None:
            a = ipaddress.ip_address(inst.use_ipvlan.address.split("/")[0])
            if a.version != fam:
                self.d.error(f"{what}: the use_ipvlan address {a} is IPv{a.version}, but the instance is IPv{fam}",
                             inst.pos_of("use_ipvlan"), expected=f"an IPv{fam} address")
        elif inst.use_ipvlan is not None and fam == 4:
            self.d.error(f"{what}: use_ipvlan needs an address for an IPv4 instance", inst.pos_of("use_ipvlan"),
                         expected="use_ipvlan [NAME] <IPADDR>[/<MASK>] [bridge|private|vepa]")
        if inst.linkbeat_use_polling:
            self.d.warning(f"{what}: linkbeat_use_polling in a vrrp_instance is deprecated in keepalived; use the "
                           "linkbeat_interfaces block", inst.pos_of("linkbeat_use_polling"))
        if inst.native_ipv6:
            self.d.warning(f"{what}: native_ipv6 is deprecated in keepalived; the addresses decide the family",
                           inst.pos_of("native_ipv6"))
        if inst.vmac_protodown and inst.use_vmac is None:
            self.d.error(f"{what}: vmac_protodown needs use_vmac (it flips the VMAC the VIPs live on)",
                         inst.pos_of("vmac_protodown"), expected="use_vmac [NAME] [MAC]")
        if inst.use_vmac is not None and inst.use_vmac.mac is not None:
            m = inst.use_vmac.mac.split(":")
            if [int(x, 16) for x in m[:5]] in ([0, 0, 0x5E, 0, 1], [0, 0, 0x5E, 0, 2]) and len(m) == 5:
                self.d.error(f"{what}: the use_vmac MAC {inst.use_vmac.mac} is the RFC 5798 prefix, which is "
                             "the default anyway; keepalived rejects it", inst.pos_of("use_vmac"))
        if strict:
            self.strict(inst, what, fam)

    def version_and_advert(self, inst: VrrpInstance, what: str, fam: int) -> None:
        written = inst.given("version")
        if written and inst.version == 2 and fam == 6:
            self.d.error(f"{what}: VRRP version 2 is IPv4 only, and this instance's addresses are IPv6",
                         inst.pos_of("version"), expected="version 3",
                         hint="keepalived switches IPv6 instances to version 3; write 'version 3' or remove it")
        adv = inst.advert_int
        if adv is None:
            return
        if written:
            why = f"'version {inst.version}' in the instance"
        elif fam == 6:
            why = "IPv6 instances always use VRRPv3"
        elif self.gd is not None and self.gd.vrrp_version is not None:
            why = f"global_defs vrrp_version {self.gd.vrrp_version}"
        else:
            why = "VRRPv2 is the default (global_defs vrrp_version)"
        pos = inst.pos_of("advert_int")
        if inst.version == 2:
            if adv < 1 or adv != math.floor(adv):
                self.d.error(f"{what}: advert_int {adv:g} is not valid for VRRPv2 ({why}), which advertises whole "
                             "seconds", pos, expected="a whole number of seconds from 1 to 255",
                             hint="use 'version 3' for sub-second intervals")
        else:
            cs = adv * 100
            if not 0.01 - 1e-9 <= adv <= 40.95 + 1e-9:
                self.d.error(f"{what}: advert_int {adv:g} is out of range for VRRPv3 ({why})", pos,
                             expected="from 0.01 to 40.95 seconds, in steps of 0.01")
            elif abs(cs - round(cs)) > 1e-6:
                self.d.error(f"{what}: advert_int {adv:g} is not a multiple of 10 ms, the VRRPv3 resolution ({why})",
                             pos, expected="from 0.01 to 40.95 seconds, in steps of 0.01")

    def addresses(self, inst: VrrpInstance, what: str, fam: int) -> None:
        vips = inst.virtual_ipaddress
        if vips:
            first = vips[0]
            for vip in vips[1:]:
                if vip.family != first.family:
                    self.d.error(f"{what}: virtual_ipaddress {vip.address} is IPv{vip.family}, but the first, "
                                 f"{first.address} (at {_item_pos(first, inst, 'virtual_ipaddress')}), is "
                                 f"IPv{first.family}; one instance advertises one family",
                                 _item_pos(vip, inst, "virtual_ipaddress"),
                                 hint="put addresses of the other family in virtual_ipaddress_excluded, or in "
                                      "another vrrp_instance")
            self._dup_addresses(vips, inst, "virtual_ipaddress", what)
        elif not inst.virtual_ipaddress_excluded and not inst.given("virtual_ipaddress"):
            self.d.warning(f"{what} has no virtual_ipaddress", inst.pos_of(), expected="virtual_ipaddress { ... }",
                           hint="keepalived runs it, but an instance without addresses moves nothing")
        self._dup_addresses(inst.virtual_ipaddress_excluded, inst, "virtual_ipaddress_excluded", what)
        if fam == 4 and len(vips) > 255:
            self.d.warning(f"{what}: {len(vips)} virtual_ipaddress entries, but an advert carries at most 255; "
                           "keepalived moves the rest to virtual_ipaddress_excluded",
                           inst.pos_of("virtual_ipaddress"))
        elif fam == 6 and len(vips) > 90:
            self.d.warning(f"{what}: {len(vips)} IPv6 virtual_ipaddress entries do not fit one advert on a "
                           "1500-byte MTU (90 do); keepalived moves the rest to virtual_ipaddress_excluded",
                           inst.pos_of("virtual_ipaddress"))
        for name in ("virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules"):
            for item in getattr(inst, name):
                if item.track_group is not None:
                    self.d.warning(f"{what}: track_group in {name} is ignored; it only applies to static "
                                   "addresses, routes and rules", _item_pos(item, inst, name))
        self._routes_rules(inst, "virtual_routes", "virtual_rules", f"{what}: ")

    def _dup_addresses(self, vips: list[VirtualIP], owner: Any, name: str, what: str) -> None:
        for vip in _repeats(vips, lambda v: (v.address, v.dev)):
            self.d.warning(f"{what}: {name} {vip.address} is given twice", _item_pos(vip, owner, name))

    def _routes_rules(self, owner: Any, routes: str, rules: str, what: str) -> None:
        for r in getattr(owner, routes):
            pos = _item_pos(r, owner, routes)
            if r.or_via is not None:
                self.d.warning(f"{what}{routes}: 'or' in a route is deprecated in keepalived; use nexthop", pos)
            if r.dev is None and not r.no_track and not any(nh.dev for nh in r.nexthops):
                self.d.warning(f"{what}{routes}: route {r.dest} has no dev, so keepalived cannot track it", pos,
                               hint="give it a dev, or add no_track to say it is not tracked")
            if r.protocol is not None and r.protocol not in (18, "keepalived") and not r.no_track:
                self.d.warning(f"{what}{routes}: route {r.dest} has protocol {r.protocol}, but a tracked route "
                               "must have protocol keepalived (18); keepalived and fastka reset it", pos,
                               hint="add no_track to keep the protocol")
            if r.ttl_propagate is not None:
                self.d.warning(f"{what}{routes}: route {r.dest}: ttl-propagate has no effect on an IPv{r.family} "
                               "route (the kernel reads it for MPLS routes only)", pos)
            if r.vrf is not None and r.table is not None:
                self.d.warning(f"{what}{routes}: route {r.dest} names both vrf {r.vrf} and table {r.table}; the "
                               "VRF's table is used", pos)
        for r in getattr(owner, rules):
            pos = _item_pos(r, owner, rules)
            if r.preference is None:
                self.d.warning(f"{what}{rules}: the rule has no preference; keepalived picks one, probably not the "
                               "one you want", pos, expected="preference <N>")
            if r.protocol is not None and r.protocol != 18 and not r.no_track:
                self.d.warning(f"{what}{rules}: the rule has protocol {r.protocol}, but a tracked rule must have "
                               "protocol 18 (keepalived); keepalived and fastka reset it", pos,
                               hint="add no_track to keep the protocol")

    def authentication(self, inst: VrrpInstance, what: str, fam: int, strict: bool) -> None:
        auth = inst.authentication
        if auth is None:
            return
        pos = inst.pos_of("authentication")
        if auth.auth_type is None and not auth.given("auth_type"):
            self.d.error(f"{what}: authentication has no auth_type", pos, expected="auth_type PASS|AH")
        if auth.auth_pass is None:
            if not auth.given("auth_pass"):
                self.d.error(f"{what}: authentication has no auth_pass", pos, expected="auth_pass <STRING>")
        elif len(auth.auth_pass) > 8:
            self.d.warning(f"{what}: auth_pass is longer than 8 characters; only the first 8 "
                           f"('{auth.auth_pass[:8]}') are used", auth.pos_of("auth_pass"))
        if auth.auth_type == "AH" and fam == 6:
            self.d.error(f"{what}: auth_type AH is IPv4 only (it is a VRRPv2 feature), and this instance is IPv6",
                         auth.pos_of("auth_type"), expected="no authentication for IPv6 instances")
        elif inst.version == 3:
            self.d.error(f"{what}: VRRPv3 has no authentication (RFC 5798); keepalived ignores the block",
                         pos, hint="remove the authentication block, or use 'version 2' (IPv4 only)")
        if strict:
            self.d.error(f"{what}: vrrp_strict does not allow authentication", pos,
                         hint="authentication was removed from VRRPv2 by RFC 3768")

    def _unicast_addrs(self, inst: VrrpInstance) -> list[Any]:
        out = [ipaddress.ip_address(p.address) for p in inst.unicast_peer]
        if inst.unicast_src_ip is not None:
            out.append(inst.unicast_src_ip)
        return out

    def unicast(self, inst: VrrpInstance, what: str, fam: int) -> None:
        for name in ("unicast_src_ip", "mcast_src_ip"):
            a = getattr(inst, name)
            if a is not None and a.version != fam:
                self.d.error(f"{what}: {name} {a} is IPv{a.version}, but the instance is IPv{fam}",
                             inst.pos_of(name), expected=f"an IPv{fam} address")
        for p in inst.unicast_peer:
            pos = _item_pos(p, inst, "unicast_peer")
            if p.family != fam:
                self.d.error(f"{what}: unicast_peer {p.address} is IPv{p.family}, but the instance is IPv{fam}",
                             pos, expected=f"an IPv{fam} address")
            if p.min_ttl is not None and p.max_ttl is not None and p.min_ttl > p.max_ttl:
                self.d.warning(f"{what}: unicast_peer {p.address} has min_ttl {p.min_ttl} > max_ttl {p.max_ttl}; "
                               "every advert from it is dropped", pos)
        for p in _repeats(inst.unicast_peer, lambda q: q.address):
            self.d.warning(f"{what}: unicast_peer {p.address} is given twice", _item_pos(p, inst, "unicast_peer"))
        m = inst.mcast_dst_ip
        if m is not None and inst.given("mcast_dst_ip"):
            if m.version != fam:
                self.d.error(f"{what}: mcast_dst_ip {m} is IPv{m.version}, but the instance is IPv{fam}",
                             inst.pos_of("mcast_dst_ip"), expected=f"an IPv{fam} multicast address")
            elif not m.is_multicast:
                self.d.error(f"{what}: mcast_dst_ip {m} is not a multicast address", inst.pos_of("mcast_dst_ip"),
                             expected=f"an IPv{fam} multicast address")
            elif m.version == 6 and (m.packed[1] & 0x0F) != 2:
                self.d.error(f"{what}: mcast_dst_ip {m} is not link-local scope", inst.pos_of("mcast_dst_ip"),
                             expected="an IPv6 multicast address of the form ffX2::...")
        for name in ("use_vmac", "use_ipvlan"):
            if getattr(inst, name) is not None and inst.unicast_peer and not inst.given("vmac_xmit_base"):
                self.d.warning(f"{what}: {name} with unicast_peer needs vmac_xmit_base, which is set for you",
                               inst.pos_of(name), expected="vmac_xmit_base")
        if inst.interface is None and inst.unicast_peer:
            for name in ("use_vmac", "use_ipvlan"):
                if getattr(inst, name) is not None:
                    self.d.error(f"{what}: {name} needs an interface to create it on", inst.pos_of(name),
                                 expected="interface <STRING>", hint="keepalived drops it")
        if inst.unicast_ttl is not None and not inst.unicast_peer:
            self.d.warning(f"{what}: unicast_ttl has no effect without unicast_peer", inst.pos_of("unicast_ttl"))

    def tracking_weights(self, inst: VrrpInstance, what: str) -> None:
        sg = self.member_of.get(inst.name)
        weighted = list(self.weighted_refs(inst))
        if inst.priority == 255:
            for field, ref, w in weighted:
                self.d.warning(f"{what}: {field} '{ref.name}' has weight {w}, but priority 255 (address owner) "
                               "cannot be changed by tracking; give it weight 0", _item_pos(ref, inst, field))
        elif sg is not None and not sg.sync_group_tracking_weight:
            for field, ref, w in weighted:
                if field == "track_interface":
                    # keepalived 2.2.7 logs "ignoring eth1 tracked interface weight due to SYNC
                    # group", yet the weight changes the priority (observed); fastka does the same
                    self.d.warning(f"{what}: track_interface '{ref.name}' has weight {w} in vrrp_sync_group "
                                   f"'{sg.name}': keepalived says it ignores the weight but applies it, and so "
                                   "does fastka", _item_pos(ref, inst, field),
                                   hint="track the interface in the sync group, or set sync_group_tracking_weight")
                    continue
                self.d.warning(f"{what}: {field} '{ref.name}' has weight {w}, but the instance is in "
                               f"vrrp_sync_group '{sg.name}', where keepalived ignores weighted tracking (so "
                               "does fastka)", _item_pos(ref, inst, field),
                               hint="set sync_group_tracking_weight in the sync group to keep the weights")

    def strict(self, inst: VrrpInstance, what: str, fam: int) -> None:
        why = "vrrp_strict" if not inst.given("strict_mode") else "strict_mode"
        d = self.d
        if not inst.virtual_ipaddress:
            d.error(f"{what}: {why} needs at least one virtual_ipaddress", inst.pos_of(),
                    expected="virtual_ipaddress { ... }")
        if inst.unicast_peer:
            d.error(f"{what}: {why} does not allow unicast_peer", inst.pos_of("unicast_peer"),
                    hint="VRRP is multicast; remove unicast_peer or vrrp_strict")
        if fam == 6 and inst.virtual_ipaddress:
            first = inst.virtual_ipaddress[0]
            if not ipaddress.ip_address(first.address).is_link_local:
                d.error(f"{what}: {why} needs the first IPv6 virtual_ipaddress to be link-local, and "
                        f"{first.address} is not", _item_pos(first, inst, "virtual_ipaddress"),
                        expected="a fe80::/10 address first")
        if (inst.state == "MASTER") != (inst.priority == 255):
            which = "state" if inst.given("state") else "priority"
            d.error(f"{what}: {why} allows state MASTER if and only if priority is 255 (state {inst.state}, "
                    f"priority {inst.priority})", inst.pos_of(which),
                    hint="the address owner (priority 255) starts as MASTER, every other router as BACKUP")
        if inst.preempt_delay:
            d.error(f"{what}: {why} does not allow preempt_delay", inst.pos_of("preempt_delay"))
        if inst.version == 2 and inst.accept and inst.priority != 255:
            d.error(f"{what}: {why} does not allow accept mode with VRRPv2 (RFC 3768 has none)",
                    inst.pos_of("accept"))
        for name in ("garp_lower_prio_repeat", "garp_lower_prio_delay"):
            if getattr(inst, name):
                d.error(f"{what}: {why} does not allow repeated gratuitous ARPs ({name} "
                        f"{getattr(inst, name)})", inst.pos_of(name), expected=f"{name} 0, or nothing")
        if inst.lower_prio_no_advert is False:
            d.error(f"{what}: {why} does not allow clearing lower_prio_no_advert", inst.pos_of("lower_prio_no_advert"))
        if inst.higher_prio_send_advert:
            d.error(f"{what}: {why} does not allow higher_prio_send_advert", inst.pos_of("higher_prio_send_advert"))
        if inst.vmac_xmit_base:
            d.error(f"{what}: {why} does not allow vmac_xmit_base", inst.pos_of("vmac_xmit_base"))

    # -- across instances -------------------------------------------------
    def duplicate_vrids(self) -> None:
        """Same VRID on the same interface and family, sharing a socket (keepalived's rule):
        multicast to the same group, or unicast with a peer in common."""
        seen: dict[tuple[Any, ...], VrrpInstance] = {}
        for inst in self.c.vrrp_instances:
            if inst.virtual_router_id is None:
                continue
            fam = inst.family
            base = (inst.interface or inst.vrf, fam, inst.virtual_router_id)
            if inst.unicast_peer:
                keys = [(*base, "u", p.address) for p in inst.unicast_peer]
            else:
                keys = [(*base, "m", inst.mcast_dst_ip)]
            other = next((seen[k] for k in keys if k in seen and seen[k] is not inst), None)
            if other is not None:
                where = f"interface {inst.interface}" if inst.interface else "the default interface"
                self.d.error(f"vrrp_instance '{inst.name}': virtual_router_id {inst.virtual_router_id} is already "
                             f"used on {where} (IPv{fam}) by vrrp_instance '{other.name}' at "
                             f"{other.pos_of('virtual_router_id')}", inst.pos_of("virtual_router_id"),
                             hint="each VRID must be unique per interface and address family")
            for k in keys:
                seen.setdefault(k, inst)
        # fastka takes an instance without an interface its adverts from any interface
        # no other instance's (interface, family, VRID) names: the two would share them
        by_vrid: dict[tuple[int, Any], list[VrrpInstance]] = {}
        for inst in self.c.vrrp_instances:
            if inst.virtual_router_id is not None:
                by_vrid.setdefault((inst.family, inst.virtual_router_id), []).append(inst)
        for insts in by_vrid.values():
            loose = [i for i in insts if i.interface is None]
            if loose and len(insts) > 1:
                inst = loose[0]
                other = next(i for i in insts if i is not inst)
                self.d.error(f"vrrp_instance '{inst.name}' has no interface, and its virtual_router_id "
                             f"{inst.virtual_router_id} (IPv{inst.family}) is vrrp_instance '{other.name}''s too "
                             f"({other.pos_of('virtual_router_id')})", inst.pos_of("virtual_router_id"),
                             hint="fastka takes the adverts of an instance without an interface from every "
                                  "interface: give it a VRID of its own in its address family")

    def link_names(self) -> None:
        """The VMACs and ipvlans the instances ask for (their own and use_vmac_addr's) need
        names of their own."""
        from ..vrrp.vmac import link_specs

        seen: dict[str, VrrpInstance] = {}
        for inst in self.c.vrrp_instances:
            if inst.virtual_router_id is None or (inst.interface is None and inst.use_vmac is not None):
                continue
            for spec in link_specs(self.c, inst):
                other = seen.get(spec.name)
                if other is not None:
                    self.d.error(f"vrrp_instance '{inst.name}': the interface {spec.name} it would make (on "
                                 f"{spec.parent_name}) is also vrrp_instance '{other.name}''s",
                                 inst.pos_of("use_vmac_addr" if spec.extra else
                                             ("use_vmac" if inst.use_vmac is not None else "use_ipvlan")),
                                 hint="name the instance's own (use_vmac NAME / use_ipvlan NAME); an extra "
                                      "VMAC (use_vmac_addr) takes its name from vmac_prefix and the VRID")
                seen[spec.name] = inst

    def statics(self) -> None:
        c = self.c
        for name in ("static_ipaddress", "static_routes", "static_rules"):
            for item in getattr(c, name):
                tg = item.track_group
                if tg is not None and tg not in self.track_groups:
                    self.d.error(f"{name}: track_group '{tg}' is not defined", _item_pos(item, c, name),
                                 hint=_hint(tg, self.track_groups))
        self._routes_rules(c, "static_routes", "static_rules", "")
        for r in c.static_routes:
            if r.track_group is not None and r.dev is None and not any(nh.dev for nh in r.nexthops):
                self.d.warning(f"static_routes: route {r.dest} has a track_group but no dev; keepalived cannot "
                               "track it", _item_pos(r, c, "static_routes"), expected="dev <STRING>")
        for r in c.static_rules:
            if r.track_group is not None and r.iif is None:
                self.d.error("static_rules: a rule with a track_group needs iif; keepalived refuses it",
                             _item_pos(r, c, "static_rules"), expected="iif <STRING>")
        self._dup_addresses(c.static_ipaddress, c, "static_ipaddress", "top level")

    def garp_groups(self) -> None:
        owner: dict[str, Any] = {}
        for gg in self.c.garp_groups:
            if gg.interface is not None and gg.interfaces:
                self.d.error("garp_group: give either interface or interfaces, not both", gg.pos_of("interfaces"))
            elif gg.interface is None and not gg.interfaces:
                self.d.error("garp_group has no interface", gg.pos_of(), expected="interface <STRING> or "
                                                                                    "interfaces { ... }")
            if gg.garp_interval is None and gg.gna_interval is None:
                self.d.warning("garp_group sets neither garp_interval nor gna_interval", gg.pos_of())
            ifs = ([gg.interface] if gg.interface is not None else []) + list(gg.interfaces)
            for name in ifs:
                pos = name.pos if isinstance(name, PosStr) and name.pos else gg.pos_of()
                first = owner.get(name)
                if first is not None and first is not gg:
                    self.d.error(f"garp_group: interface '{name}' is already in the garp_group at {first.pos_of()}",
                                 pos)
                owner[name] = gg

    def up_down_delays(self) -> None:
        c = self.c
        by_if: dict[str, list[VrrpInstance]] = {}
        for inst in c.vrrp_instances:
            if inst.interface is not None:
                by_if.setdefault(inst.interface, []).append(inst)
        for ud in _repeats(c.interface_up_down_delays, lambda u: u.interface):
            self.d.warning(f"interface_up_down_delays: '{ud.interface}' is given twice",
                           _item_pos(ud, c, "interface_up_down_delays"))
        for ud in c.interface_up_down_delays:
            delay = max(ud.down, ud.up if ud.up is not None else ud.down)
            for inst in by_if.get(ud.interface, ()):
                if inst.advert_int is None or inst.down_timer_adverts is None:
                    continue
                limit = (inst.down_timer_adverts - 1) * inst.advert_int
                if delay >= limit:
                    self.d.warning(f"interface_up_down_delays: the {delay:g}s delay on {ud.interface} is not below "
                                   f"{limit:g}s ((down_timer_adverts - 1) x advert_int of vrrp_instance "
                                   f"'{inst.name}'); a backup may take over before this instance goes to FAULT",
                                   _item_pos(ud, c, "interface_up_down_delays"))
                    break

    # -- this host --------------------------------------------------------
    def exists(self, name: str) -> bool:
        if self._ifaces is None:
            self._ifaces = host_interfaces()
        return name in self._ifaces

    def missing(self, name: Optional[str], pos: Optional[Pos], what: str) -> None:
        if name is not None and not self.exists(name):
            self.d.warning(f"{what}: interface '{name}' does not exist on this host", pos,
                           hint="fine if it is created later (global_defs dynamic_interfaces)")

    def system_interfaces(self) -> None:
        c = self.c
        gd = self.gd
        if gd is not None:
            self.missing(gd.default_interface, gd.pos_of("default_interface"), "global_defs default_interface")
            if gd.lvs_sync_daemon is not None:
                self.missing(gd.lvs_sync_daemon.interface, gd.pos_of("lvs_sync_daemon"), "lvs_sync_daemon")
        for lb in c.linkbeat_interfaces:
            self.missing(lb.name, _item_pos(lb, c, "linkbeat_interfaces"), "linkbeat_interfaces")
        for ud in c.interface_up_down_delays:
            self.missing(ud.interface, _item_pos(ud, c, "interface_up_down_delays"), "interface_up_down_delays")
        for gg in c.garp_groups:
            for name in ([gg.interface] if gg.interface is not None else []) + list(gg.interfaces):
                self.missing(name, name.pos if isinstance(name, PosStr) else gg.pos_of(), "garp_group")
        for vip in c.static_ipaddress:
            self.missing(vip.dev, _item_pos(vip, c, "static_ipaddress"), "static_ipaddress")
        for r in c.static_routes:
            self.missing(r.dev, _item_pos(r, c, "static_routes"), "static_routes")
        for inst in c.vrrp_instances:
            what = f"vrrp_instance '{inst.name}'"
            self.missing(inst.interface, inst.pos_of("interface"), what)
            for ref in inst.track_interface:
                self.missing(ref.name, _item_pos(ref, inst, "track_interface"), f"{what} track_interface")
            for name in ("virtual_ipaddress", "virtual_ipaddress_excluded"):
                for vip in getattr(inst, name):
                    self.missing(vip.dev, _item_pos(vip, inst, name), f"{what} {name}")
            for r in inst.virtual_routes:
                self.missing(r.dev, _item_pos(r, inst, "virtual_routes"), f"{what} virtual_routes")
        for sg in c.vrrp_sync_groups:
            for ref in sg.track_interface:
                self.missing(ref.name, _item_pos(ref, sg, "track_interface"),
                             f"vrrp_sync_group '{sg.name}' track_interface")
