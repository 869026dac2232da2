"""VMACs: keepalived's ``use_vmac``, and fastka's ``vmac_protodown``.

An instance with ``use_vmac`` gets a macvlan (mode private, as keepalived makes it)
on its interface, named NAME or ``<vmac_prefix>.<VRID>`` (keepalived's default,
``vrrp.51``, for IPv4 and IPv6 instances alike), with the RFC 9568 virtual MAC
00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), or the configured one (five
octets: the VRID is the sixth). The instance's VIPs of its own family that name no
other interface go on the macvlan; adverts go out of it (from the base interface
with ``vmac_xmit_base``) and are received on the base interface, where the group is
joined. Gratuitous ARP / NA carry the virtual MAC. fastka removes the VMACs it
created when it stops (not with ``-V``, which keeps the VIPs).

What is set, as keepalived 2.2.7 does it (measured in a namespace):

- the base interface: ``arp_ignore 1`` and ``arp_filter 1``, so that it does not
  answer ARP for the VIPs with its own MAC, and (fastka's addition) ``arp_announce 2``,
  so that its own ARP requests never give a VIP as their sender (restored on stop);
- every VMAC: ``arp_ignore 1`` (keepalived leaves an IPv6 VMAC at 0, and it then
  answers ARP for an IPv4 VMAC's VIPs with the IPv6 virtual MAC);
- an IPv4 VMAC: ``accept_local 1``, ``rp_filter 0``,
  ``promote_secondaries 1``, and IPv6 off (``disable_ipv6 1``: no link-local, no MLD
  from the virtual MAC); when ``all.rp_filter`` is set, every interface gets the
  larger of its own and ``all``'s value and ``all`` is set to 0 (restored on stop);
- an IPv6 VMAC: address generation off (``addrgenmode none``) and the base
  interface's link-local address copied onto it (nodad, deprecated), since an IPv6
  advert's link-local source must be an address of the interface it leaves by.

``use_ipvlan [NAME] [ADDRESS] [bridge|private|vepa]`` (keepalived 2.2.7, observed in the
QEMU guest; this host's kernel has no ipvlan) makes an ipvlan in mode l2 with those
flags (bridge by default) on the instance's interface, named as a VMAC would be. It
has its parent's MAC. Its address (an IPv4 instance must give one) goes on it and is
the adverts' source; an IPv6 instance without one gets a link-local of its own, the
parent's MAC with 00:01 between its halves (fe80::MMMM:MM00:01MM:MMMM, as keepalived
makes it; the kernel's EUI-64 one would be the parent's address again). Adverts go out
of the ipvlan and are received on it. The VIPs stay on the parent (keepalived 2.2.7
puts them there too), and no sysctl is set but ``disable_ipv6`` on an IPv4 ipvlan.
In this module an ipvlan is a ``Vmac`` of kind ``ipvlan``: made, followed, made again
and removed the same way.

``vmac_protodown`` (fastka's, not keepalived's; like FRR's vrrpd): the VIPs are put on
the macvlan once, at start, and never removed while fastka runs; the state is the
macvlan's. A master's macvlan carries; a backup's is held with IFLA_PROTO_DOWN (the
carrier is off while IFF_UP stays: nothing leaves it, ARP / ND for its addresses are
not answered). A failover is one netlink batch of 40-byte RTM_NEWLINK messages, one
per instance. Where the kernel refuses IFLA_PROTO_DOWN on a macvlan (EOPNOTSUPP), the
macvlans are taken down and up instead (IFF_UP, with IPv6 ``keep_addr_on_down``),
which the kernel does far more slowly (see docs/design.md).
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import netlink

log = logging.getLogger("fastka.vrrp")

VRRP_MAC_PREFIX = {4: bytes((0, 0, 0x5E, 0, 1)), 6: bytes((0, 0, 0x5E, 0, 2))}
DEFAULT_PREFIX = "vrrp"
SEQ_BASE = 0x4000_0000  # sequence numbers of VMAC requests (the VIPs' count up from 1000)
PROC = "/proc/sys/net"


@dataclass(frozen=True)
class LinkSpec:
    """The link an instance asks for: use_vmac's macvlan or use_ipvlan's ipvlan."""

    name: str
    parent_name: str
    mac: bytes  # a macvlan's; an ipvlan has its parent's (b"" here)
    family: int
    protodown: bool
    kind: str = "macvlan"  # or "ipvlan"
    flags: str = "private"  # a macvlan's mode (keepalived: private); an ipvlan's bridge | private | vepa
    address: Optional[str] = None  # an ipvlan's own address, ADDR[/LEN]
    extra: bool = False  # use_vmac_addr / a VIP's use_vmac: for VIPs of another interface or family


def link_specs(config: Any, inst: Any) -> list[LinkSpec]:
    """Every link a vrrp_instance asks for: its own VMAC or ipvlan first, then its extra
    VMACs."""
    own = link_spec(config, inst)
    return ([own] if own is not None else []) + extra_specs(config, inst)


def extra_specs(config: Any, inst: Any) -> list[LinkSpec]:
    """use_vmac_addr, or ``use_vmac`` on a VIP line (keepalived 2.2.7, observed): a VMAC
    with the family's virtual MAC on each (interface, family) of those VIPs that is not
    the instance's own interface and family. Named as keepalived names them: the prefix,
    ``6`` for IPv6, the other interface's number (1, 2, ... in the order the VIPs name
    them; none on the instance's own interface), ``.VRID`` - vrrp1.51 on a second
    interface, vrrp6.51 for IPv6 on the instance's own (an IPv4 one there, for an IPv6
    instance: vrrp4.51, fastka's name; the validator refuses names two instances share)."""
    gd = getattr(config, "global_defs", None)
    prefix = (gd.vmac_prefix if gd is not None else None) or DEFAULT_PREFIX
    vrid = inst.virtual_router_id
    out: dict[tuple[str, int], LinkSpec] = {}
    others: list[str] = []
    for v in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded]:
        dev, fam = v.dev or inst.interface, family_of(v.address)
        if not (inst.use_vmac_addr or v.use_vmac) or dev is None or (dev == inst.interface and fam == inst.family):
            continue
        if dev != inst.interface and dev not in others:
            others.append(dev)
        if (dev, fam) not in out:
            # an IPv4 one on an IPv6 instance's own interface: vrrp4.51 (vrrp.51 is the instance's own)
            number = str(others.index(dev) + 1) if dev != inst.interface else ("" if fam == 6 else "4")
            out[(dev, fam)] = LinkSpec(f"{prefix}{'6' if fam == 6 else ''}{number}.{vrid}", dev,
                                       VRRP_MAC_PREFIX[fam] + bytes((vrid,)), fam, False, extra=True)
    return list(out.values())


def extra_for(vip: Any, inst: Any, extras: list["Vmac"]) -> Optional["Vmac"]:
    """The extra VMAC a VIP goes on, if any."""
    if not (inst.use_vmac_addr or vip.use_vmac):
        return None
    dev, fam = vip.dev or inst.interface, family_of(vip.address)
    return next((x for x in extras if x.parent_name == dev and x.family == fam), None)


def link_spec(config: Any, inst: Any) -> Optional[LinkSpec]:
    """The VMAC or ipvlan a vrrp_instance asks for, or None."""
    gd = getattr(config, "global_defs", None)
    prefix = gd.vmac_prefix if gd is not None else None
    if inst.use_vmac is not None:
        return LinkSpec(vmac_name(inst.use_vmac, inst.virtual_router_id, prefix), inst.interface,
                        vmac_mac(inst.use_vmac, inst.virtual_router_id, inst.family), inst.family,
                        bool(inst.vmac_protodown))
    if inst.use_ipvlan is not None:
        return LinkSpec(vmac_name(inst.use_ipvlan, inst.virtual_router_id, prefix), inst.interface, b"",
                        inst.family, False, "ipvlan", inst.use_ipvlan.mode or "bridge", inst.use_ipvlan.address)
    return None


def ipvlan_link_local(mac: bytes) -> str:
    """An IPv6 ipvlan's own link-local (keepalived's form): the MAC with 00:01 inserted."""
    import ipaddress

    return str(ipaddress.IPv6Address(bytes((0xFE, 0x80)) + bytes(6) + mac[:3] + bytes((0, 1)) + mac[3:6]))


class VmacError(Exception):
    """A VMAC cannot be made (its name is taken by another interface, ...)."""


def vmac_mac(spec: Any, vrid: int, family: int) -> bytes:
    """The MAC of a ``use_vmac [NAME] [MAC]``: as given (five octets: the VRID is the sixth),
    else the RFC 9568 virtual router MAC of the family."""
    text = getattr(spec, "mac", None)
    if not text:
        return VRRP_MAC_PREFIX[family] + bytes((vrid,))
    octets = bytes(int(x, 16) for x in text.split(":"))
    return octets + bytes((vrid,)) if len(octets) == 5 else octets


def vmac_name(spec: Any, vrid: int, prefix: Optional[str] = None) -> str:
    return getattr(spec, "name", None) or f"{prefix or DEFAULT_PREFIX}.{vrid}"


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


@dataclass
class Vmac:
    """One macvlan and the requests that flip it (prebuilt once its index is known)."""

    name: str
    parent: int  # the base interface's index
    parent_name: str
    mac: bytes
    family: int
    protodown: bool  # vmac_protodown: the state is the link's, the VIPs stay
    owner: str  # the instance, for messages
    ifindex: int = 0
    up: tuple[int, bytes, list[int]] = (0, b"", [])  # master: carrier on
    down: tuple[int, bytes, list[int]] = (0, b"", [])  # backup: carrier off
    link_local: Optional[netlink.Address] = None  # IPv6: the base's link-local, copied; an ipvlan's own address
    lost: bool = False  # deleted by someone else, not made again yet (Vmacs.recreate)
    kind: str = "macvlan"  # or "ipvlan"
    flags: str = "private"  # LinkSpec.flags
    address: Optional[str] = None  # an ipvlan's configured address, ADDR[/LEN]
    extra: bool = False  # LinkSpec.extra

    @property
    def what(self) -> str:
        return "VMAC" if self.kind == "macvlan" else "ipvlan"

    def pack(self, seq: int, index: int = 0) -> bytes:
        if self.kind == "ipvlan":
            return netlink.pack_ipvlan(self.name, self.parent, self.flags, seq, index=index)
        return netlink.pack_macvlan(self.name, self.parent, self.mac, self.flags, seq, index=index)


@dataclass
class Vmacs:
    """Every VMAC of an engine: made at start, flipped by failovers (vmac_protodown),
    removed at stop."""

    rtnl: netlink.Rtnl
    links: list[Vmac] = field(default_factory=list)
    by_name: dict[str, Vmac] = field(default_factory=dict)
    proto_down: bool = True  # False: the kernel refused IFLA_PROTO_DOWN, flips use IFF_UP
    _restore: list[tuple[str, str]] = field(default_factory=list)  # sysctls to put back
    _seq: int = SEQ_BASE
    # called with the VMACs about to come up (made, still down): the IGMP / MLD rules
    # (vmac_filter.py) must be in before a VMAC sends its first report
    before_up: Optional[Callable[[list[Vmac]], None]] = None
    on_removed: Optional[Callable[[list[Vmac]], None]] = None  # after remove(): a reload's, dropped

    def add(self, spec: LinkSpec, owner: str) -> Vmac:
        """The link spec asks for, of instance owner (made by create)."""
        name = spec.name
        if name in self.by_name:
            other = self.by_name[name]
            raise VmacError(f"vrrp_instance {owner}: VMAC {name} is already {other.owner}'s; give use_vmac a name")
        if len(name.encode()) > 15:
            raise VmacError(f"vrrp_instance {owner}: VMAC name {name} is longer than 15 bytes")
        try:
            parent = netlink.ifindex(spec.parent_name)
        except OSError:
            raise VmacError(f"vrrp_instance {owner}: interface {spec.parent_name} does not exist") from None
        v = Vmac(name=name, parent=parent, parent_name=spec.parent_name, family=spec.family,
                 protodown=spec.protodown, owner=owner, kind=spec.kind, flags=spec.flags, address=spec.address,
                 extra=spec.extra,
                 mac=netlink.mac_address(spec.parent_name) if spec.kind == "ipvlan" else spec.mac)
        self.links.append(v)
        self.by_name[name] = v
        return v

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _run(self, op: int, msgs: list[tuple[bytes, int]]) -> list[tuple[int, int]]:
        if not msgs:
            return []
        return self.rtnl.execute([(op, b"".join(m for m, _ in msgs), [s for _, s in msgs])])

    def create(self, addrs: list[tuple[int, int, str, int, int]]) -> None:
        """Make every VMAC (a leftover of ours - same kind, parent and MAC - is taken over),
        set its sysctls, bring it up (vmac_protodown: held down first). ``addrs`` is the
        address dump the IPv6 link-locals are copied from."""
        if not self.links:
            return
        made: list[tuple[bytes, int]] = []
        mine: dict[int, Vmac] = {}  # request seq -> the VMAC it makes
        what: dict[int, str] = {}
        for v in self.links:
            info = netlink.get_link(v.name)
            if info is not None:
                if info.kind != v.kind or info.parent != v.parent or info.mac != v.mac:
                    raise VmacError(f"vrrp_instance {v.owner}: interface {v.name} exists and is not a {v.what} of "
                                    f"{v.parent_name} with MAC {mac_text(v.mac)} ({info.kind or 'no ' + v.kind}, "
                                    f"MAC {mac_text(info.mac)})")
                log.info("(%s) taking over the existing %s %s", v.owner, v.what, v.name)
                continue
            seq = self._next()
            made.append((v.pack(seq), seq))
            mine[seq] = v
            what[seq] = f"creating {v.what} {v.name} on {v.parent_name}"
        errors = self._run(netlink.RTM_NEWLINK, made)
        if errors:  # those made learn their index: remove() takes them away again
            failed = {seq for seq, _ in errors}
            for seq, v in mine.items():
                if seq not in failed:
                    v.ifindex = netlink.ifindex(v.name)
        self._check(errors, what)
        for v in self.links:
            v.ifindex = netlink.ifindex(v.name)
        self._sysctls()
        if self.before_up is not None:
            self.before_up(self.links)
        self._bring_up(self.links, what)
        for v in self.links:
            if v.kind == "ipvlan":
                v.link_local = _ipvlan_address(v)
            elif v.family == 6:
                ll = next((a for index, fam, a, _, scope in addrs
                           if index == v.parent and fam == 6 and scope == netlink.SCOPES["link"]), None)
                if ll is not None:
                    v.link_local = netlink.Address(ifindex=v.ifindex, address=ll, prefixlen=64,
                                                   scope=netlink.SCOPES["link"], flags=netlink.IFA_F_NODAD,
                                                   preferred_lft=0)
        self._copy_link_locals(self.links)
        for v in self.links:
            seq_up, seq_down = self._next(), self._next()
            if self.proto_down:
                v.up = (netlink.RTM_NEWLINK, netlink.pack_proto_down(v.ifindex, False, seq_up), [seq_up])
                v.down = (netlink.RTM_NEWLINK, netlink.pack_proto_down(v.ifindex, True, seq_down), [seq_down])
            else:
                v.up = (netlink.RTM_NEWLINK, netlink.pack_link_up(v.ifindex, True, seq_up), [seq_up])
                v.down = (netlink.RTM_NEWLINK, netlink.pack_link_up(v.ifindex, False, seq_down), [seq_down])

    def _bring_up(self, links: list[Vmac], what: dict[int, str]) -> None:
        """Held down first (vmac_protodown), then up; in the IFF_UP fallback a protodown
        VMAC is left down until it is master."""
        hold: list[tuple[bytes, int]] = []
        for v in links:
            if v.protodown and self.proto_down:
                seq = self._next()
                hold.append((netlink.pack_proto_down(v.ifindex, True, seq), seq))
                what[seq] = f"holding VMAC {v.name} down"
        if hold:
            errors = self._run(netlink.RTM_NEWLINK, hold)
            if errors and all(e == errno.EOPNOTSUPP for _, e in errors):
                log.warning("the kernel does not support protodown on macvlans: vmac_protodown flips IFF_UP instead")
                self.proto_down = False
            elif errors:
                self._check(errors, what)
        up: list[tuple[bytes, int]] = []
        for v in links:
            if v.protodown and not self.proto_down:
                self._write(f"ipv6/conf/{v.name}/keep_addr_on_down", "1")
                continue  # left down until it is master
            seq = self._next()
            up.append((netlink.pack_link_up(v.ifindex, True, seq), seq))
            what[seq] = f"bringing {v.what} {v.name} up"
        self._check(self._run(netlink.RTM_NEWLINK, up), what)

    def _copy_link_locals(self, links: list[Vmac]) -> None:
        """The base's link-local onto each IPv6 VMAC that has one to copy; each ipvlan's
        own address onto it."""
        lls = [v.link_local for v in links if v.link_local is not None]
        if lls:
            data, seqs = netlink.pack_addresses(netlink.RTM_NEWADDR, lls, self._seq + 1)
            self._seq += len(seqs)
            self._check(self.rtnl.execute([(netlink.RTM_NEWADDR, data, seqs)]),
                        {s: f"adding {a.address} to {v.what} {v.name}"
                         for s, a, v in zip(seqs, lls, [v for v in links if v.link_local is not None], strict=True)})

    def _check(self, errors: list[tuple[int, int]], what: dict[int, str]) -> None:
        if errors:
            seq, err = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise VmacError(f"{what.get(seq, f'request {seq}')}: {os.strerror(err)}{more}")

    # -- sysctls -----------------------------------------------------------------------

    def _read(self, path: str) -> Optional[str]:
        try:
            with open(f"{PROC}/{path}") as f:
                return f.read().strip()
        except OSError:
            return None

    def _write(self, path: str, value: str, restore: bool = False) -> None:
        old = self._read(path) if restore else None
        try:
            with open(f"{PROC}/{path}", "w") as f:
                f.write(value)
        except OSError as e:
            log.warning("cannot set %s to %s: %s", path.replace("/", "."), value, e.strerror)
            return
        if restore and old is not None and old != value:
            self._restore.append((path, old))

    def _sysctls(self) -> None:
        v4 = [v for v in self.links if v.family == 4 and v.kind == "macvlan"]
        if v4:
            all_rp = self._read("ipv4/conf/all/rp_filter")
            if all_rp not in (None, "0"):
                # the effective rp_filter is max(all, interface): push all's value into each
                # interface and clear all, so that the VMACs can have 0
                vmacs = {v.name for v in self.links}
                for name in sorted(os.listdir(f"{PROC}/ipv4/conf")):
                    if name != "all" and name not in vmacs:
                        own = self._read(f"ipv4/conf/{name}/rp_filter") or "0"
                        if int(own) < int(all_rp):
                            self._write(f"ipv4/conf/{name}/rp_filter", all_rp, restore=True)
                self._write("ipv4/conf/all/rp_filter", "0", restore=True)
        for base in sorted({v.parent_name for v in self.links if v.kind == "macvlan"}):
            # as keepalived: the base answers no ARP for addresses on its VMACs; and fastka's
            # own: its ARP requests name its own address, never a VIP (arp_announce 2), or
            # neighbours would learn a VIP at the base's MAC
            self._write(f"ipv4/conf/{base}/arp_ignore", "1", restore=True)
            self._write(f"ipv4/conf/{base}/arp_filter", "1", restore=True)
            self._write(f"ipv4/conf/{base}/arp_announce", "2", restore=True)
        self._own_sysctls(self.links)

    def _own_sysctls(self, links: list[Vmac]) -> None:
        """What each VMAC itself is set to."""
        for v in links:
            if v.kind == "ipvlan":  # as keepalived: only an IPv4 ipvlan's IPv6 is turned off
                if v.family == 4:
                    self._write(f"ipv6/conf/{v.name}/disable_ipv6", "1")
                continue
            # every VMAC answers ARP only for its own addresses (an IPv6 VMAC has none: with
            # the default it would answer for an IPv4 VMAC's VIPs, with its own MAC)
            self._write(f"ipv4/conf/{v.name}/arp_ignore", "1")
            if v.family == 4:
                for key, value in (("accept_local", "1"), ("rp_filter", "0"), ("promote_secondaries", "1")):
                    self._write(f"ipv4/conf/{v.name}/{key}", value)
                self._write(f"ipv6/conf/{v.name}/disable_ipv6", "1")
        six = [v for v in links if v.family == 6]
        if six:
            msgs = []
            for v in six:
                seq = self._next()
                msgs.append((netlink.pack_addr_gen_none(v.ifindex, seq), seq))
            errors = self._run(netlink.RTM_NEWLINK, msgs)
            for _, err in errors:
                log.warning("VMAC: cannot turn IPv6 address generation off: %s", os.strerror(err))

    def recreate(self, v: Vmac) -> None:
        """Make a VMAC someone deleted again, as create() made it, with the interface index
        it had: the instance's prebuilt requests, its advert and GARP paths and the native
        loop's tables all name that index, so nothing else is rebuilt. The VIPs and group
        memberships it held are the caller's (Engine._remake_vmac). Raises VmacError
        (the parent is gone, the index or the name is taken). A parent made again has a
        new index: the VMAC goes on it, found by its name."""
        try:
            v.parent = netlink.ifindex(v.parent_name)
        except OSError:
            raise VmacError(f"its interface {v.parent_name} does not exist") from None
        seq = self._next()
        if v.kind == "ipvlan":
            # a parent made again may have another MAC; the ipvlan keeps the address it had
            # (the instance's adverts come from it)
            v.mac = netlink.mac_address(v.parent_name)
        self._check(self._run(netlink.RTM_NEWLINK, [(v.pack(seq, index=v.ifindex), seq)]),
                    {seq: f"making {v.what} {v.name} on {v.parent_name} again"})
        self._own_sysctls([v])
        if self.before_up is not None:
            self.before_up([v])
        self._bring_up([v], {})
        self._copy_link_locals([v])
        v.lost = False

    # -- a reload's -----------------------------------------------------------------------

    def take(self, other: "Vmacs") -> None:
        """Take in the VMACs another Vmacs made (a reload's, on its own socket): they are
        flipped, made again and removed with these from now on."""
        for v in other.links:
            self.links.append(v)
            self.by_name[v.name] = v
        self._restore.extend(other._restore)
        self._seq = max(self._seq, other._seq)

    def drop(self, links: list[Vmac]) -> None:
        """Delete these VMACs (their instances are gone)."""
        msgs = []
        for v in links:
            if v.ifindex:
                seq = self._next()
                msgs.append((netlink.pack_dellink(v.ifindex, seq), seq))
            self.links.remove(v)
            del self.by_name[v.name]
            v.ifindex = 0
        try:
            for _, err in self._run(netlink.RTM_DELLINK, msgs):
                if err != errno.ENODEV:  # already gone
                    log.error("removing a VMAC: %s", os.strerror(err))
        except OSError as e:
            log.error("removing VMACs failed: %s", e)

    # -- stopping ----------------------------------------------------------------------

    def remove(self) -> None:
        """Delete every VMAC (their addresses go with them) and put the sysctls back."""
        msgs = []
        for v in self.links:
            if v.ifindex:
                seq = self._next()
                msgs.append((netlink.pack_dellink(v.ifindex, seq), seq))
        try:
            for _, err in self._run(netlink.RTM_DELLINK, msgs):
                log.error("removing a VMAC: %s", os.strerror(err))
        except OSError as e:
            log.error("removing the VMACs failed: %s", e)
        for v in self.links:
            v.ifindex = 0
        for path, old in reversed(self._restore):
            self._write(path, old)
        self._restore.clear()


def _ipvlan_address(v: Vmac) -> netlink.Address:
    """An ipvlan's own address: the configured one (no prefix: /32 or /128), else (IPv6)
    its link-local."""
    if v.address is not None:
        addr, _, plen = v.address.partition("/")
        v6 = ":" in addr
        return netlink.Address(ifindex=v.ifindex, address=addr, prefixlen=int(plen) if plen else (128 if v6 else 32),
                               flags=netlink.IFA_F_NODAD if v6 else 0)
    return netlink.Address(ifindex=v.ifindex, address=ipvlan_link_local(v.mac), prefixlen=64,
                           scope=netlink.SCOPES["link"], flags=netlink.IFA_F_NODAD)


def family_of(address: str) -> int:
    return 6 if ":" in address else 4


def on_vmac(vip: Any, inst: Any, family: int) -> bool:
    """Does this VIP go on the instance's VMAC? keepalived: the VIPs of the instance's family
    that name no other interface; never on an ipvlan (keepalived 2.2.7, observed)."""
    return (inst.use_vmac is not None and family_of(vip.address) == family
            and (vip.dev is None or vip.dev == inst.interface))

