"""The VRRP engine: every configured instance, its sockets, timers and address work,
run by one event loop.

This is the loop in Python over the native kernels (advert codec, AH, timer wheel,
batched socket I/O): the reference the native steady-state loop mirrors. Per
iteration it

1. expires timers (one TimerWheel: per instance an advert timer, a Master_Down timer
   and a gratuitous-ARP timer); an expired advert timer sends the prebuilt advert, the
   others call the state machine;
2. waits (epoll) until the next deadline, a socket or a signal;
3. drains each VRRP socket with recvmmsg, checks every datagram (TTL, length, version,
   type, count, checksum, interval, authentication - dropped and counted by reason,
   never raised) and hands valid adverts of a known (interface, family, VRID) to that
   instance's state machine;
4. carries out what the state machines asked for, batched: adverts with one
   sendmmsg per socket, every VIP added or removed by every instance that changed
   state in one netlink batch, gratuitous ARP / NA with one sendmmsg per socket.

Sockets: one raw socket per family (and one for IP AH when an instance uses it) for
all instances and interfaces, joined to the VRRP group on every interface in use;
the receiving interface comes from IP_PKTINFO / IPV6_PKTINFO, the TTL / hop limit
from IP_RECVTTL / IPV6_RECVHOPLIMIT.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import select
import signal
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any, Optional

from .. import batchio, sockbuf
from .. import native as _native
from ..timers import TimerWheel
from ..wire import AdvertError, link_local_first, parse_advert, parse_ah_packet
from ..core.state import JSON_SIGNAL, VRRP_JSON, state_file, write_atomic
from . import names, netlink, static
from .gratuitous import Announcer, arp_frame, na_message
from .rules import Preferences, pack_rules, rule_of
from .rules import unsupported as rule_unsupported
from .notify import STATE_WORD, Notifier, state_scripts
from .events import Events
from .garp_pacing import Pacer
from .loopext import LoopExtras
from .track import ScriptRunner, effective
from .track_file import FileTracker
from .track_process import ProcessTracker
from .tracking import Resolver, static_devs
from .vmac import Vmacs, VmacError, extra_for, link_specs, on_vmac
from .vmac_filter import VmacFilter
from .instance import (
    AUTH_AH,
    AUTH_NONE,
    AUTH_PASS,
    Instance,
    addr_int,
    make_params,
    route_of,
    route_left_out,
    route_unsupported,
    vip_address,
)
from .state_machine import (
    ArmAdvertTimer,
    ArmMasterDown,
    BecomeBackup,
    BecomeMaster,
    CancelTimers,
    EnterFault,
    EnterInitialize,
    PriorityChanged,
    RxLowerPriority,
    SendAdvert,
    SendShutdownAdvert,
    State,
    Transition,
    VrrpStateMachine,
)

log = logging.getLogger("fastka.vrrp")

PROTO_VRRP, PROTO_AH = 112, 51
IPTOS_PREC_INTERNETCONTROL = 0xC0
RTMGRP_LINK = 1
RTM_NEWLINK, RTM_DELLINK = 16, 17
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000
_IFINFOMSG = struct.Struct("=BxHiII")
TIMERS_PER_INSTANCE = 3  # advert, Master_Down, gratuitous ARP
SLOTS = {"v4": 0, "v6": 1, "ah": 2}  # socket slots of the native loop (csrc/vloop.h)
TAG_LINK, TAG_WAKE, TAG_ADDR = 1, 2, 3
RX_INTERVAL_MAX_NS = 5_000_000
GARP_SLICE = 512  # gratuitous ARP / NA sent between two looks for due takeovers (_flush_garps)
LATE_NS = 1_000_000  # the Python loop's timers this overdue: it reads the sockets before firing them
TAKEOVER_REQUEST_US = 25  # kernel time per takeover request, about (VIP add, VMAC flip; measured here)
LOOP_ENV = "FASTKA_VRRP_LOOP"  # "python" runs the Python loop (the native loop's twin)
# the native loop's per-instance counters (csrc/vloop.h), by index, as the Python loop names them
NATIVE_COUNTERS = {1: "rx_drop_ttl", 2: "rx_drop_length", 3: "rx_drop_version", 4: "rx_drop_type",
                   5: "rx_drop_count", 6: "rx_drop_checksum", 7: "rx_drop_interval", 8: "rx_drop_auth",
                   9: "rx_drop_replay", 10: "rx_drop_unknown_peer", 11: "rx_v6_ll_not_first", 12: "rx",
                   13: "adverts_sent", 14: "send_errors"}


class ConfigError(Exception):
    """The configuration cannot run on this host (an interface is missing, ...)."""




def not_implemented_uses(config: Any) -> list[str]:
    """One line per configured feature the engine does not carry out yet."""
    out = []
    for i in config.vrrp_instances:
        for r in i.virtual_routes:
            extra = route_unsupported(r)
            if extra:
                out.append(f"vrrp_instance {i.name}: virtual_routes options {', '.join(extra)} "
                           f"(route {r.dest} is set up without them)")
            why = route_left_out(r)
            if why:
                out.append(f"vrrp_instance {i.name}: virtual_routes names iproute2's files do not know: {why} "
                           f"(route {r.dest} is left out)")
        for r in i.virtual_rules:
            extra = rule_unsupported(r)
            if extra:
                out.append(f"vrrp_instance {i.name}: virtual_rules names iproute2's files do not know: "
                           f"{', '.join(extra)} (the rule is left out)")
    out.extend(static.unsupported(config))
    return out


def _now_us() -> int:
    return time.monotonic_ns() // 1000


def _advert_source(inst: Any, addrs: list[tuple[int, int, str, int, int]], index: int, dsts: tuple[str, ...],
                   vmac: Any, vrf: Optional[str]) -> str:
    """The address an instance's adverts come from: unicast_src_ip / mcast_src_ip; an
    ipvlan's own; the interface's link-local (IPv6 multicast) or primary address; for
    an instance without an interface, routing's choice towards its first peer."""
    family = inst.family
    given = inst.unicast_src_ip or inst.mcast_src_ip
    src = str(given) if given is not None else None
    if src is None and vmac is not None and vmac.kind == "ipvlan":
        src = vmac.link_local.address  # use_ipvlan: its own address, or its own link-local
    elif family == 6 and not inst.unicast_peer:
        src = _primary(addrs, index, 6)  # adverts come from the link-local address
    if src is None:
        src = _primary(addrs, index, family) if index else _route_source(dsts[0], family, vrf)
    if src is None:
        raise ConfigError(f"vrrp_instance {inst.name}: " + (
            f"interface {inst.interface} has no {'IPv6 link-local' if family == 6 else 'IPv4'} address to send "
            "adverts from" if index else f"no route to its unicast peer {dsts[0]} to send adverts by"))
    return src


def _route_source(peer: str, family: int, vrf: Optional[str] = None) -> Optional[str]:
    """The source address routing (in VRF, if given) picks for packets to PEER (a
    connected UDP socket sends nothing), or None when there is no route."""
    with socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            if vrf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, vrf.encode())
            s.connect((peer, 9))
        except OSError:
            return None
        return str(s.getsockname()[0])


def _primary(addrs: list[tuple[int, int, str, int, int]], ifindex: int, family: int) -> Optional[str]:
    for index, fam, addr, _, scope in addrs:
        if index == ifindex and fam == family:
            if family == 4 or scope == netlink.SCOPES["link"]:
                return addr
    return None


def _datagrams(sock: socket.socket) -> Iterator[Optional[bytes]]:
    """What a non-blocking netlink event socket holds, datagram by datagram; None where
    the kernel dropped some (ENOBUFS: its buffer was full)."""
    while True:
        try:
            yield sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            yield None


def _address_key(a: netlink.Address) -> tuple[int, bytes]:
    """(interface, packed address), as RTM_DELADDR names an address."""
    return a.ifindex, socket.inet_pton(socket.AF_INET6 if ":" in a.address else socket.AF_INET, a.address)


def _vip_keys(i: Instance) -> list[tuple[int, bytes]]:
    return [_address_key(a) for a in (*i.vips, *i.fixed)]


def _link_exists(index: int) -> bool:
    try:
        socket.if_indextoname(index)
    except OSError:
        return False
    return True


def _gone(vmac: Any) -> bool:
    """Is the VMAC deleted (seen, or not yet: its down event comes before its delete)?"""
    if vmac.lost:
        return True
    try:
        socket.if_indextoname(vmac.ifindex)
    except OSError:
        return True
    return False


class Engine:
    """Runs the VRRP instances of a loaded, validated configuration."""

    def __init__(self, config: Any, *, release_vips: bool = True, clock: Callable[[], int] = time.monotonic_ns):
        self.clock = clock
        self.release_vips = release_vips
        self.instances: list[Instance] = []
        self.by_key: dict[tuple[int, int, int], Instance] = {}
        self.counters: Counter = Counter()  # drops before an instance is known
        self._nl_owner: dict[int, Instance] = {}  # netlink seq -> the instance whose VIP it is
        self._once: list[int] = []  # seqs of _nl_owner dropped after the next netlink flush (_own_once)
        self.config = config  # the configuration running (a reload replaces it: fastka.vrrp.reload)
        self._seq_next = 1000  # the next free netlink sequence number of prebuilt requests
        self._joined: set[tuple[str, str, int]] = set()  # (socket, group, ifindex) memberships
        self._reloading = False
        self.rtnl = netlink.Rtnl()
        self.vmacs = Vmacs(self.rtnl)
        self.vmac_filter = VmacFilter(config, lambda: self.vmacs.links)  # IGMP / MLD off the VMACs
        self.vmacs.before_up = self.vmac_filter.sync
        self.vmac_filter.start()  # disable_local_igmp: before a VMAC joins a group (it would report)
        self.sockets: dict[str, socket.socket] = {}
        self._holders: list[socket.socket] = []  # IPv4 group memberships beyond a socket's limit
        try:
            self._build(config)
            self._setup(config)
        except BaseException:
            self.vmacs.remove()  # the VMACs made before the failure, and their rules
            self.vmac_filter.stop()
            for sock in [*self.sockets.values(), *self._holders,
                         *(getattr(self, n, None) for n in ("_link", "_addr_gone", "_wake_r", "_wake_w"))]:
                if sock is not None:
                    sock.close()
            self.rtnl.close()
            raise

    def _setup(self, config: Any) -> None:
        """The rest of __init__, after the instances are built: trackers, sockets, the loop."""
        clock = self.clock
        gd = getattr(config, "global_defs", None)
        self.scripts = ScriptRunner(config, self._used.scripts, gd.script_user if gd is not None else None)
        self.files = FileTracker(config, self._used.files)
        self.processes = ProcessTracker.from_config(config, self._used.processes)
        self.extras = LoopExtras()
        self.track_state: dict[tuple[str, str], int] = {}  # up / down (bool); a track_file's value
        self._tracked_ifaces: set[str] = set()
        self._ifnames: dict[int, str] = {}
        self._static_up: dict[str, bool] = {}  # the statics' interfaces: up? (start, _links)
        self.wheel = TimerWheel(max(1, TIMERS_PER_INSTANCE * len(self.instances)), start_ns=clock(), tick_ns=100_000)
        self.batch = batchio.Batch(1024, slot_size=4096)
        self.announcer = Announcer()
        self.pacer = Pacer(config, self.announcer, self.extras.call_at, clock)
        self._out: dict[str, list[tuple[bytes, Optional[str], int, Optional[str]]]] = {}
        self._nl: list[tuple[int, bytes, list[int]]] = []
        self._arp: list[tuple[bytes, int]] = []
        self._na: list[tuple[bytes, int]] = []
        self._stopping = False
        self._refreshing = False  # an interface was made again: reload.refresh is due
        self._refresh_tries = 0  # refreshes refused in a row (reload._refresh_later)
        self._marks: Optional[list[tuple[str, int]]] = None  # -D: when each flush step ended
        self._sender: Optional[netlink.UnackedSender] = None  # takeovers' kernel work (_take_early)
        self._unacked: dict[bytes, bytes] = {}  # prebuilt requests -> the same without NLM_F_ACK
        self._drained: dict[str, int] = {}  # socket -> start of its last complete drain (us)
        self._open_sockets()
        self._link = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, netlink.NETLINK_ROUTE)
        self._link.bind((0, RTMGRP_LINK))
        self._link.setblocking(False)
        sockbuf.grow(self._link, 4 << 20)  # a failover's VMAC flips come back as events
        self._addr_gone = netlink.deleted_addresses_socket()  # VIPs someone else deletes (_addresses_gone)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._deferred: list[Callable[[Engine], None]] = []
        self._log: list[tuple[Any, ...]] = []  # transitions, logged after each flush
        self.notifier = Notifier()
        self.events = Events(config, self.groups, self.notifier)
        for i, inst in zip(self.instances, config.vrrp_instances, strict=True):
            self.events.instance_config(i, inst)
        self._notify: list[tuple[Instance, str]] = []  # (instance, state word) to notify after the flush
        self._syncing = False
        self.loop: Any = None
        if _native is not None and os.environ.get(LOOP_ENV, "native") != "python":
            self._native_setup()

    @property
    def loop_kind(self) -> str:
        return "python" if self.loop is None else "native"

    def _native_setup(self) -> None:
        self._native_attach(self._native_loop(self.instances, self.wheel))
        for i in self.instances:
            self._sync_view(i)

    def _native_loop(self, instances: list[Instance], wheel: Any) -> Any:
        """A native loop for these instances, their settings and adverts set: nothing of
        the engine's running state is read (a reload builds one in its loader thread)."""
        assert _native is not None
        loop = _native.VrrpLoop(max(1, len(instances)), wheel)
        for i in instances:
            loop.set_instance(i.index, i.tx_ifindex, i.family, i.vrid, SLOTS[self._sock_name(i)], i.auth_type,
                              i.auth_key, i.unicast, i.advert_int_cs if i.version == 2 else 0)
            self._native_adverts(loop, i)
        return loop

    def _native_attach(self, loop: Any, shortest_cs: Optional[int] = None) -> None:
        """loop becomes the engine's: its sockets, descriptors and receive period (from
        shortest_cs, the shortest advert interval, if known already)."""
        for name, sock in self.sockets.items():
            loop.set_socket(SLOTS[name], sock.fileno())
        loop.add_fd(self._link.fileno(), TAG_LINK)
        loop.add_fd(self._addr_gone.fileno(), TAG_ADDR)
        loop.add_fd(self._wake_r.fileno(), TAG_WAKE)
        self.extras.attach(loop)
        # receive by period (no kernel wakeup per advert): a quarter of the shortest
        # advert interval, at most 5 ms - a received advert waits at most that long
        if shortest_cs is None:
            shortest_cs = min((i.advert_int_cs for i in self.instances), default=100)
        loop.set_rx_interval(min(RX_INTERVAL_MAX_NS, shortest_cs * 10_000_000 // 4))
        self.loop = loop

    def _native_adverts(self, loop: Any, i: Instance) -> None:
        loop.set_adverts(i.index, [(bytes(m), d, i.src, i.send_ifindex)
                                   for m, d in zip(i.adverts, i.dsts, strict=True)])

    def _sync_view(self, i: Instance) -> None:
        """Copy the state machine's fast-path view to the native loop (after every call)."""
        v = i.sm.fast_path_view()
        self.loop.set_view(i.index, int(v.state), v.version, v.priority, v.preempt, v.master_adver_int_cs,
                           i.src_packed, v.preempt_delay, v.preempt_until, v.master_down_interval)

    # -- building ----------------------------------------------------------------------

    def _build(self, config: Any, vmacs: Optional[dict[str, list[Any]]] = None) -> None:
        """The instances of config, resolved against this host. ``vmacs`` (a reload): the
        VMACs (and ipvlans) of the instances that have some, by instance, made already;
        none is made here then."""
        names.forget()  # iproute2's name files as they are now
        addrs = netlink.dump_addresses()
        gd = getattr(config, "global_defs", None)
        script_user = gd.script_user if gd is not None else None
        groups: dict[str, str] = {}
        self.groups: dict[str, list[Instance]] = {}
        tracking = Resolver(config)
        self._used = tracking.used  # the vrrp_scripts, track_files, track_processes some instance tracks
        for g in getattr(config, "vrrp_sync_groups", ()):
            for member in g.group:
                groups[str(member)] = g.name
            self.groups[g.name] = []
        seq = self._seq_next
        self._by_ifindex: dict[int, list[Instance]] = {}
        # a VMAC's index -> its instance, and whether its link state counts (not with
        # dont_track_primary)
        self._by_vmac: dict[int, tuple[Instance, bool]] = {}
        links_of: dict[str, list[Any]] = dict(vmacs or {})
        try:
            for inst in config.vrrp_instances if vmacs is None else ():
                links_of[inst.name] = [self.vmacs.add(spec, inst.name) for spec in link_specs(config, inst)]
            if vmacs is None:
                self.vmacs.create(addrs)
        except (VmacError, OSError) as e:
            raise ConfigError(str(e)) from None
        prefs = Preferences()
        # netlink.route_key / ("rule", family, priority) -> (instance index, its Route / FibRule)
        route_owner: dict[tuple, tuple[int, Any]] = {}
        vip_devs: set[str] = set()  # default_interface, where it takes instances' VIPs
        try:
            self._static, seq = static.build(config, seq, prefs)
            # the statics' interfaces: one coming up gets them all again (the kernel drops a
            # route through a link that went down, and IPv6 addresses with the link)
            self._static_devs = set().union(*static_devs(config, tracked_only=False).values())
        except OSError as e:  # an interface named by a static address or route is missing
            raise ConfigError(f"static addresses / routes: {e}") from None
        for inst in config.vrrp_instances:
            family = inst.family
            # unicast without an interface (keepalived): routing takes the adverts to the
            # peers, they are taken from any interface, VIPs without a dev go on
            # default_interface, and no link is tracked
            ifname = inst.interface or ""
            if inst.unicast_peer:
                dsts = tuple(str(p.address) for p in inst.unicast_peer)
            else:
                dsts = (str(inst.mcast_dst_ip),)
            try:
                index = netlink.ifindex(ifname) if ifname else 0
            except OSError:
                raise ConfigError(f"vrrp_instance {inst.name}: interface {ifname} does not exist") from None
            vrf = inst.vrf if not ifname else None  # unicast without an interface, in this VRF
            try:
                vrf_index = netlink.ifindex(vrf) if vrf else 0
            except OSError:
                raise ConfigError(f"vrrp_instance {inst.name}: vrf {vrf} does not exist") from None
            vmac = next((v for v in links_of.get(inst.name, ()) if not v.extra), None)
            extras = [v for v in links_of.get(inst.name, ()) if v.extra]
            src = _advert_source(inst, addrs, index, dsts, vmac, vrf)
            vip_dev, vip_index = ifname, index
            if not index and any(v.dev is None for v in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded]):
                vip_dev = (gd.default_interface if gd is not None else None) or static.DEFAULT_INTERFACE
                vip_devs.add(vip_dev)  # followed by its name, as an instance's own interface (_made_again)
                try:
                    vip_index = netlink.ifindex(vip_dev)
                except OSError:
                    raise ConfigError(f"vrrp_instance {inst.name} has no interface, and the default_interface "
                                      f"{vip_dev} its VIPs without a dev go on does not exist") from None
            auth_type, key = AUTH_NONE, b""
            if inst.version == 2 and inst.authentication is not None and inst.authentication.auth_type:
                auth_type = AUTH_AH if inst.authentication.auth_type == "AH" else AUTH_PASS
                key = (inst.authentication.auth_pass or "").encode()[:8]
            vips: list[netlink.Address] = []
            fixed: list[netlink.Address] = []
            for v in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded]:
                x = extra_for(v, inst, extras)
                if vmac is not None and on_vmac(v, inst, family):
                    (fixed if vmac.protodown else vips).append(vip_address(replace(v, dev=None), vmac.ifindex,
                                                                           vmac.name))
                elif x is not None:  # use_vmac_addr / the VIP's use_vmac
                    vips.append(vip_address(replace(v, dev=None), x.ifindex, x.name))
                else:
                    vips.append(vip_address(v, vip_index, vip_dev))
            advertised = tuple(v.address for v in inst.virtual_ipaddress if (":" in v.address) == (family == 6))
            sm = VrrpStateMachine(make_params(inst, addr_int(src), family))
            i = Instance(
                index=len(self.instances), name=inst.name, vrid=inst.virtual_router_id, version=inst.version,
                family=family, ifname=ifname, ifindex=index, src=src, dsts=dsts, unicast=bool(inst.unicast_peer),
                priority=inst.priority, advert_int_cs=round(inst.advert_int * 100), auth_type=auth_type,
                auth_key=key, vips=vips, advert_addresses=advertised or (src,),
                mac=netlink.mac_address(ifname) if index else b"",
                garp_master_delay=inst.garp_master_delay or 0, garp_master_repeat=inst.garp_master_repeat or 1,
                garp_master_refresh=inst.garp_master_refresh or 0,
                garp_master_refresh_repeat=inst.garp_master_refresh_repeat or 1,
                release_vips=self.release_vips, sm=sm, fixed=fixed)
            if vmac is not None:
                i.vmac = vmac
                self._by_vmac[vmac.ifindex] = (i, not inst.dont_track_primary)
                i.macs[vmac.ifindex] = vmac.mac
                if not inst.vmac_xmit_base:
                    i.tx_ifindex = vmac.ifindex
            i.extra_vmacs = extras
            for x in extras:  # followed for deletion (made again), not for their link state
                self._by_vmac[x.ifindex] = (i, False)
            i.vrf_ifindex = vrf_index
            for x in extras:  # their VIPs' gratuitous ARP / NA carry the virtual MAC
                i.macs[x.ifindex] = x.mac
            for a in [*vips, *fixed]:  # each VIP's GARP carries its own interface's MAC
                if a.ifindex != index and a.ifindex not in i.macs:
                    i.macs[a.ifindex] = netlink.mac_address(socket.if_indextoname(a.ifindex))
            i.notify_state, i.notify_any = state_scripts(inst, script_user)
            route_lines = [r for r in inst.virtual_routes if not route_left_out(r)]
            i.routes = [route_of(r) for r in route_lines]
            rule_lines = [r for r in inst.virtual_rules if not rule_unsupported(r)]
            i.rules = [rule_of(r, prefs) for r in rule_lines]
            # a master's routes and rules someone deletes are added again, unless no_track
            route_owner.update({netlink.route_key(x): (len(self.instances), x)
                                for x, r in zip(i.routes, route_lines, strict=True) if not r.no_track})
            route_owner.update({("rule", x.family, x.priority): (len(self.instances), x)
                                for x, r in zip(i.rules, rule_lines, strict=True) if not r.no_track})
            i.build_adverts(sm.priority)
            i.group = groups.get(inst.name)
            i.tracked = tracking.for_instance(inst, i.group)
            seq = i.prepare_addresses(seq)
            key3 = (i.tx_ifindex, family, i.vrid)  # where adverts are sent and received
            if key3 in self.by_key:
                raise ConfigError(f"vrrp_instance {inst.name}: VRID {i.vrid} is already used on {ifname} by "
                                  f"{self.by_key[key3].name}")
            self.by_key[key3] = i
            self.instances.append(i)
            if index and not inst.dont_track_primary:  # keepalived: its interface going down is no fault then
                self._by_ifindex.setdefault(index, []).append(i)
            if i.group is not None:
                self.groups[i.group].append(i)
            flips = (vmac.up, vmac.down) if vmac is not None else ()
            for _, _, seqs in (i.add_batch, i.del_batch, i.route_add, i.route_del, i.rule_add, i.rule_del,
                               i.fixed_batch, *flips):
                for s in seqs:
                    self._nl_owner[s] = i
        self._seq_next = seq
        # every VIP by (interface, packed address) -> its instance's index, and the static
        # addresses: _addresses_gone
        self._vip_owner: dict[tuple[int, bytes], int] = {k: i.index for i in self.instances for k in _vip_keys(i)}
        self._route_owner = route_owner
        self._static_keys = {_address_key(a): a for a in (self._static.addresses if self._static else ())}
        # every interface the instances name, by its index now (_made_again)
        devs = {i.ifname for i in self.instances if i.ifname} | vip_devs
        for inst in config.vrrp_instances:
            devs.update(v.dev for v in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded] if v.dev)
            for r in inst.virtual_routes:
                devs.update(d for d in (r.dev, *(nh.dev for nh in r.nexthops)) if d)
        self._dev_index: dict[str, int] = {}
        for d in devs:
            try:
                self._dev_index[d] = netlink.ifindex(d)
            except OSError:
                pass

    def _open_sockets(self) -> None:
        """The VRRP sockets the instances need, joined to their groups; what is open and
        joined already (a reload) is kept."""
        want: dict[str, set[tuple[str, int]]] = {}
        for i in self.instances:
            name = "ah" if i.auth_type == AUTH_AH else ("v6" if i.family == 6 else "v4")
            groups = want.setdefault(name, set())
            if not i.unicast:
                groups.add((i.dsts[0], i.tx_ifindex))
        for name, groups in want.items():
            if name in self.sockets:
                s = self.sockets[name]
                for group, index in groups - {(g, x) for n, g, x in self._joined if n == name}:
                    try:  # a reload's: the interface may have gone meanwhile (a later refresh joins)
                        if name == "v6":
                            mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", index)
                            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
                        else:
                            self._join4(s, socket.inet_aton(group) + struct.pack("=4si", bytes(4), index))
                    except OSError as e:
                        log.warning("joining %s on interface %d: %s", group, index, e.strerror)
                        continue
                    self._joined.add((name, group, index))
                continue
            self._joined.update((name, g, x) for g, x in groups)
            if name == "v6":
                s = socket.socket(socket.AF_INET6, socket.SOCK_RAW | socket.SOCK_CLOEXEC, PROTO_VRRP)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
                for group, index in groups:
                    mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", index)
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                  PROTO_AH if name == "ah" else PROTO_VRRP)
                s.setsockopt(socket.IPPROTO_IP, batchio.IP_PKTINFO, 1)
                s.setsockopt(socket.IPPROTO_IP, batchio.IP_RECVTTL, 1)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, IPTOS_PREC_INTERNETCONTROL)
                if name == "ah":
                    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
                for group, index in groups:
                    mreq = socket.inet_aton(group) + struct.pack("=4si", bytes(4), index)  # ip_mreqn
                    self._join4(s, mreq)
            sockbuf.grow(s, 8 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            # the kernel's receive time of each advert: Master_Down re-arms from it
            s.setsockopt(socket.SOL_SOCKET, batchio.SO_TIMESTAMPNS, 1)
            s.setblocking(False)
            self.sockets[name] = s
            self._out[name] = []

    def _join4(self, s: socket.socket, mreq: bytes) -> None:
        """Join a group on an interface. A socket holds at most igmp_max_memberships
        (20 by default) groups; membership is per interface, and a raw socket receives
        what any socket joined (IP_MULTICAST_ALL), so the rest go on holder sockets."""
        for holder in [s, *self._holders]:
            try:
                holder.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                return
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
        holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._holders.append(holder)
        holder.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)

    # -- timers ------------------------------------------------------------------------

    def _tid(self, i: Instance, which: int) -> int:
        return TIMERS_PER_INSTANCE * i.index + which

    def _us_to_ns(self, us: int) -> int:
        return us * 1000

    # -- actions -----------------------------------------------------------------------

    def _sock_name(self, i: Instance) -> str:
        return "ah" if i.auth_type == AUTH_AH else ("v6" if i.family == 6 else "v4")

    def _send_advert(self, i: Instance, priority: Optional[int] = None) -> None:
        if self.loop is not None:
            self.loop.queue_advert(i.index, -1 if priority is None else priority)
            if priority == 0:
                i.counters["priority_zero_sent"] += 1
            return
        self._out[self._sock_name(i)].extend(i.packets(priority))
        i.counters["adverts_sent"] += len(i.dsts)
        if priority == 0:
            i.counters["priority_zero_sent"] += 1

    def _apply(self, i: Instance, actions: Iterable[Any], now_us: int) -> None:
        moved: Optional[Transition] = None
        for a in actions:
            if isinstance(a, Transition):
                i.counters[f"became_{a.to_state.name.lower()}"] += 1
                # logged after the flush: the VIPs and adverts must not wait for the log
                self._log.append(("(%s) Entering %s STATE (%s)", i.name, a.to_state.name, a.reason))
                if i.notify_state or i.notify_any or self.events.wants_transitions:
                    self._notify.append((i, STATE_WORD[a.to_state.name]))
                moved = a
                if a.to_state == State.BACKUP:
                    i.backup_since_us = now_us
            elif isinstance(a, CancelTimers):
                self.wheel.cancel(self._tid(i, 0))
                self.wheel.cancel(self._tid(i, 1))
            elif isinstance(a, ArmAdvertTimer):
                self.wheel.arm_periodic(self._tid(i, 0), self._us_to_ns(a.first_deadline), self._us_to_ns(a.interval))
            elif isinstance(a, ArmMasterDown):
                self.wheel.arm(self._tid(i, 1), self._us_to_ns(a.deadline))
            elif isinstance(a, SendAdvert):
                if not i.taken_early:  # else sent already, before the state machine ran (_take_early)
                    self._send_advert(i, a.priority if a.priority != i.sm.priority else None)
            elif isinstance(a, SendShutdownAdvert):
                self._send_advert(i, 0)
                self._log.append(("(%s) sent 0 priority", i.name))
            elif isinstance(a, PriorityChanged):
                i.set_priority(a.priority)
                if self.loop is not None:
                    self.loop.set_priority(i.index, a.priority)
                self.events.priority_changed(i, a.priority)
            elif isinstance(a, RxLowerPriority):
                self.events.master_rx_lower(i)
            elif isinstance(a, BecomeMaster):
                self._take_vips(i, now_us)
            elif isinstance(a, (BecomeBackup, EnterFault)):
                self._release_vips(i)
            elif isinstance(a, EnterInitialize):
                if i.release_vips:
                    self._release_vips(i)
        if self.loop is not None:
            self._sync_view(i)
        if moved is not None and i.group is not None and not self._syncing:
            self._sync_group(i, moved, now_us)

    def _retrack(self, i: Instance, now_us: int) -> None:
        """Fold the tracked objects' state into i's priority and faults."""
        if not i.tracked:
            return
        prio, faults = effective(i.priority, i.tracked, self.track_state)
        self._apply(i, i.sm.set_priority(now_us, prio), now_us)
        for name in sorted(set(faults) - i.track_faults):
            self._apply(i, i.sm.track_down(now_us, name), now_us)
        for name in sorted(i.track_faults - set(faults)):
            self._apply(i, i.sm.track_up(now_us, name), now_us)
        i.track_faults = set(faults)

    def _track_changed(self, kind: str, name: str, up: int, now_us: int) -> None:
        if self.track_state.get((kind, name)) == up:
            return
        self.track_state[(kind, name)] = up
        for i in self.instances:
            if any(t.kind == kind and t.name == name for t in i.tracked):
                self._retrack(i, now_us)

    def _files_changed(self, now_us: int) -> None:
        for f in self.files.changed():
            log.info("track_file %s: value %d", f.name, f.value)
            self._track_changed("file", f.name, f.value, now_us)

    def _scripts(self, now_us: int) -> None:
        for c in self.scripts.poll():
            self._track_changed("script", c.name, c.up, now_us)

    def _master_down(self, i: Instance, now_us: int) -> None:
        """Master_Down expired. In a sync group a member goes master only if no other
        member still hears a master (keepalived's rule: one lost advert must not
        split the group); otherwise it waits another Master_Down_Interval."""
        if i.group is not None:
            for j in self.groups[i.group]:
                if j is i or j.state != State.BACKUP:
                    continue
                # j's Master_Down was last armed at deadline - interval: later than it
                # entered BACKUP or was last held back itself, only an advert armed it
                deadline = self.wheel.deadline(self._tid(j, 1))
                if deadline is not None and deadline // 1000 - j.sm.master_down_interval > max(j.backup_since_us,
                                                                                                j.held_back_us):
                    i.counters["sync_group_held_back"] += 1
                    i.held_back_us = now_us
                    self.wheel.arm(self._tid(i, 1), (now_us + i.sm.master_down_interval) * 1000)
                    return
        self._apply(i, i.sm.master_down_expired(now_us), now_us)

    def _sync_group(self, i: Instance, t: Transition, now_us: int) -> None:
        """keepalived's vrrp_sync_group: the other members follow i's transition (to
        MASTER, BACKUP or FAULT; out of FAULT when no member is left in it)."""
        assert i.group is not None
        group = i.group
        self._syncing = True
        try:
            for j in self.groups[group]:
                if j is i:
                    continue
                why = f"sync group {group}: {i.name} became {t.to_state.name}"
                if t.to_state == State.MASTER:
                    self._apply(j, j.sm.sync_master(now_us, why), now_us)
                elif t.to_state == State.BACKUP and t.from_state == State.MASTER:
                    self._apply(j, j.sm.sync_backup(now_us, why), now_us)
                elif t.to_state == State.FAULT:
                    self._apply(j, j.sm.sync_fault(now_us, group), now_us)
            if t.from_state == State.FAULT:
                others_faulty = [j for j in self.groups[group] if j is not i and j.sm.has_own_fault]
                for j in self.groups[group]:
                    if j is i:
                        continue
                    if others_faulty:
                        self._apply(i, i.sm.sync_fault(now_us, group), now_us)
                        break
                    self._apply(j, j.sm.sync_recovered(now_us, group), now_us)
        finally:
            self._syncing = False

    def _take_batches(self, i: Instance) -> list[tuple[int, bytes, list[int]]]:
        out = []
        if i.vmac is not None and i.vmac.protodown:
            out.append(i.vmac.up)  # vmac_protodown: its VIPs are on it already
        if i.vips:
            out.append(i.add_batch)
        if i.routes:
            out.append(i.route_add)  # after the addresses: a route's src may be a VIP
        if i.rules:
            out.append(i.rule_add)
        return out

    def _take_early(self, due: Iterable[Instance]) -> list[Instance]:
        """Master_Down of a backup outside a sync group always makes it master (RFC
        9568 6.4.2; the state machine has no other answer), so a failover's kernel
        work - VMAC flips, VIPs, routes, rules - is done before the state machines run
        (about 25 us of Python each): the new masters' adverts and one unacknowledged
        netlink send (netlink.UnackedSender) with every takeover's requests. The
        adverts go first unless the requests are few enough to delay them by at most a
        quarter of the shortest advert interval (at TAKEOVER_REQUEST_US each, as
        measured here): a long takeover (10,000 VIPs: about 0.27 s of kernel time)
        must not keep other backups from hearing the new master. _apply then leaves
        out the advert and _take_vips the requests; _take_early_done checks that each
        of these instances did become master."""
        taken = [i for i in due if i.state == State.BACKUP and i.group is None and not i.taken_early]
        if not taken:
            return taken
        timed = log.isEnabledFor(logging.DEBUG)
        t0 = self.clock() if timed else 0
        parts: list[bytes] = []
        requests = 0
        for i in taken:
            i.taken_early = True
            for _, data, seqs in self._take_batches(i):
                fast = self._unacked.get(data)
                if fast is None:
                    fast = self._unacked[data] = netlink.without_ack(data)
                parts.append(fast)
                requests += len(seqs)
        adverts_first = requests * TAKEOVER_REQUEST_US > min(i.advert_int_cs for i in taken) * 10_000 // 4
        steps = []
        for step in ("adverts", "netlink") if adverts_first else ("netlink", "adverts"):
            if step == "adverts":
                for i in taken:
                    self._send_advert(i)
                self._flush_adverts()
            elif parts:
                if self._sender is None:
                    self._sender = netlink.UnackedSender()
                try:
                    self._netlink_errors(self._sender.send(b"".join(parts)))
                except OSError as e:
                    log.error("netlink batch failed: %s", e)
            if timed:
                t1 = self.clock()
                steps.append(f"{step} {(t1 - t0) / 1e6:.2f} ms")
                t0 = t1
        if timed:
            log.debug("takeover of %d instances before their state machines: %s (%d requests)", len(taken),
                      ", ".join(steps), requests)
        return taken

    def _take_early_done(self, taken: list[Instance]) -> None:
        for i in taken:
            if i.taken_early:  # not consumed by _take_vips: the state machine did not make it master
                i.taken_early = False
                if i.state != State.MASTER:
                    self._release_vips(i)

    def _take_vips(self, i: Instance, now_us: int) -> None:
        if i.taken_early:
            i.taken_early = False  # done already (_take_early)
        else:
            self._nl.extend(self._take_batches(i))
        i.holds_vips = True
        self._arp.extend(i.arp * i.garp_master_repeat)
        self._na.extend(i.na * i.garp_master_repeat)
        self.wheel.cancel(self._tid(i, 2))
        if i.garp_master_delay:
            i.garp_left = 1
            self.wheel.arm(self._tid(i, 2), self._us_to_ns(now_us + i.garp_master_delay * 1_000_000))
        elif i.garp_master_refresh:
            i.garp_left = 0
            self.wheel.arm(self._tid(i, 2), self._us_to_ns(now_us + i.garp_master_refresh * 1_000_000))

    def _release_vips(self, i: Instance) -> None:
        """Make sure the VIPs are absent: always asked of the kernel, since a previous run
        may have left them (deleting a missing address is not an error)."""
        self.wheel.cancel(self._tid(i, 2))
        if i.rules:
            self._nl.append(i.rule_del)
        if i.routes:
            self._nl.append(i.route_del)
        if i.vips:
            self._nl.append(i.del_batch)
        if i.vmac is not None and i.vmac.protodown:
            self._nl.append(i.vmac.down)
        i.holds_vips = False
        self.pacer.cancel(i.arp, i.na)

    def _garp_timer(self, i: Instance, now_us: int) -> None:
        if i.state != State.MASTER:
            return
        if i.garp_left:
            i.garp_left = 0
            self._arp.extend(i.arp * i.garp_master_repeat)
            self._na.extend(i.na * i.garp_master_repeat)
        else:
            self._arp.extend(i.arp * i.garp_master_refresh_repeat)
            self._na.extend(i.na * i.garp_master_refresh_repeat)
        if i.garp_master_refresh:
            self.wheel.arm(self._tid(i, 2), self._us_to_ns(now_us + i.garp_master_refresh * 1_000_000))

    def _flush_adverts(self) -> None:
        for name, packets in self._out.items():
            if packets:
                try:
                    self.batch.send(self.sockets[name], packets, socket.MSG_DONTWAIT)
                except OSError as e:
                    self.counters[f"send_error_{errno.errorcode.get(e.errno or 0, e.errno)}"] += 1
                    log.warning("sending %d adverts failed: %s", len(packets), e.strerror)
                packets.clear()
        if self.loop is not None:
            self.loop.flush()

    def _flush_netlink(self) -> None:
        if not self._nl:
            return
        batches, self._nl = self._nl, []
        try:
            self._netlink_errors(self.rtnl.execute(batches))
        except OSError as e:
            log.error("netlink batch failed: %s", e)
        for seq in self._once:
            self._nl_owner.pop(seq, None)
        self._once.clear()

    def _own_once(self, i: Instance, seqs: list[int]) -> None:
        """Requests made once (a restore): their errors are i's, and then they are forgotten."""
        for seq in seqs:
            self._nl_owner[seq] = i
        self._once.extend(seqs)

    def _queue_once(self, op: int, pack: Callable[..., tuple[bytes, list[int]]], items: list,
                    owner: Optional[Instance] = None) -> None:
        """Pack these items' requests now (a restore, not prebuilt), numbered after the
        prebuilt ones, for the next netlink flush; their errors are owner's."""
        data, seqs = pack(op, items, self._seq_next)
        self._seq_next += len(seqs)
        if owner is not None:
            self._own_once(owner, seqs)
        self._nl.append((op, data, seqs))

    def _netlink_errors(self, errors: Iterable[tuple[int, int]]) -> None:
        for seq, err in errors:
            owner = self._nl_owner.get(seq)
            if err == errno.ENODEV and owner is not None and owner.vmac is not None and _gone(owner.vmac):
                owner.counters["vip_errors_vmac_lost"] += 1  # its VIPs went with the deleted VMAC
                continue
            what = self._static.words.get(seq, f"request {seq}") if self._static else f"request {seq}"
            if seq == 0 and err == errno.ENOBUFS:
                what = "some requests' errors were lost (receive buffer full)"
            log.error("(%s) netlink: %s: %s", owner.name if owner else "static",
                      owner.describe_seq(seq) if owner else what, os.strerror(err))
            if owner:
                owner.counters["vip_errors"] += 1

    def flush(self) -> None:
        """Carry out what the state machines asked for, in batches: adverts, then the
        VIPs (one netlink batch), then gratuitous ARP / NA."""
        marks = self._marks
        self._flush_adverts()
        if marks is not None:
            marks.append(("adverts", self.clock()))
        self._flush_netlink()
        if marks is not None:
            marks.append(("netlink", self.clock()))
        for _ in range(8):  # the GARPs wait for the VIPs of every instance due by now
            if not (self._arp or self._na):
                break
            late = self._catch_up()
            if not late:
                break
            if marks is not None:
                marks.append((f"{late} late events", self.clock()))
            self._flush_adverts()
            self._flush_netlink()
            if marks is not None:
                marks.append(("late netlink", self.clock()))
        self._flush_garps()
        if marks is not None:
            marks.append(("garp", self.clock()))
        if self.loop is not None:
            self.loop.flush()
        for args in self._log:
            log.info(*args)
        self._log.clear()
        for i, word in self._notify:
            if word in i.notify_state:
                argv, user, group = i.notify_state[word]
                self.notifier.run(argv, user, group, f"({i.name}) notify_{word.lower()}")
            if i.notify_any:
                argv, user, group = i.notify_any
                self.notifier.run([*argv, "INSTANCE", i.name, word, str(i.sm.priority)], user, group,
                                  f"({i.name}) notify")
        if self._notify and self.events.wants_transitions:
            self.events.transitions(self._notify)
        self._notify.clear()
        self.notifier.reap()

    def _flush_garps(self) -> None:
        """The gratuitous ARP / NA, GARP_SLICE at a time: between two slices, the
        instances whose Master_Down fell due meanwhile take over first (their adverts and
        VIPs go out, their GARPs join the queue). 10,000 GARPs take about 220 ms here (the
        kernel carries each through the bridge in the sender's time); a backup whose
        Master_Down came in that time used to wait for all of them."""
        arp, na = self._arp, self._na
        self._arp, self._na = [], []
        while arp or na:
            part_arp, arp = arp[:GARP_SLICE], arp[GARP_SLICE:]
            part_na, na = na[:GARP_SLICE - len(part_arp)], na[GARP_SLICE - len(part_arp):]
            self.pacer.send(part_arp, part_na)
            if (arp or na) and self._catch_up():
                self._flush_adverts()
                self._flush_netlink()
                arp, na = arp + self._arp, na + self._na
                self._arp, self._na = [], []

    # -- receive -----------------------------------------------------------------------

    def _receive(self, name: str, now_us: int) -> None:
        sock = self.sockets[name]
        start, floor = self.clock() // 1000, self._drained.get(name, 0)
        for _ in range(64):  # bounded: timers must run too
            got = self.batch.recv(sock)
            now = max(now_us, self.clock() // 1000)
            for d in got:
                # an advert counts from when the kernel received it, as in the native loop
                # (csrc/vloop.c drain): not believed if older than a second, never earlier
                # than the last complete drain
                at = d.rx_ns // 1000
                if at <= 0 or at > now or now - at > 1_000_000:
                    self.counters["rx_unstamped"] += 1
                    self._datagram(name, d, now)
                else:
                    self._datagram(name, d, max(at, floor))
            if len(got) < self.batch.capacity:
                self._drained[name] = start
                return

    def _datagram(self, name: str, d: Any, now_us: int) -> None:
        data = d.data
        family = 6 if name == "v6" else 4
        ttl = d.ttl
        if family == 4:
            if len(data) < 20:
                self.counters["rx_short"] += 1
                return
            ihl = (data[0] & 15) * 4
            msg = data[ihl + 24:] if name == "ah" else data[ihl:]
        else:
            msg = data
        if len(msg) < 8:
            self.counters["rx_short"] += 1
            return
        i = self.by_key.get((d.ifindex, family, msg[1])) or self.by_key.get((0, family, msg[1]))
        if i is None:
            self.counters["rx_unknown_vrid"] += 1
            return
        i.counters["rx"] += 1
        try:
            if i.auth_type == AUTH_AH:
                pkt = parse_ah_packet(data, auth_data=i.auth_key, last_seq=i.ah_seq, unicast=i.unicast)
                i.ah_seq = pkt.seq
                auth = None
            elif i.version == 2:
                auth = i.auth_key if i.auth_type == AUTH_PASS else b""
            else:
                auth = None
            a = parse_advert(msg, src=d.src, dst=d.dst, ttl=255 if i.unicast else ttl, auth_data=auth)
            if i.auth_type == AUTH_AH and a.auth_type != AUTH_AH:
                raise AdvertError("auth")
            if a.version != i.version:
                raise AdvertError("version")
            if i.version == 2 and a.advert_int_cs != i.advert_int_cs:
                raise AdvertError("interval")  # RFC 3768 7.1: the interval must match
        except AdvertError as e:
            i.counters[f"rx_drop_{e.reason}"] += 1
            return
        if family == 6 and not link_local_first(a):
            i.counters["rx_v6_ll_not_first"] += 1
        if i.unicast and d.src not in i.dsts:
            i.counters["rx_drop_unknown_peer"] += 1
            return
        self._apply(i, i.sm.advert_received(now_us, a.priority, addr_int(d.src), a.advert_int_cs), now_us)

    def _links(self, now_us: int) -> None:
        statics_up: set[str] = set()  # static interfaces that came up (their statics re-added once)
        for data in _datagrams(self._link):
            if data is None:
                self.counters["link_events_lost"] += 1
                self._resync_links(now_us)  # events were dropped: ask for the state instead
                continue
            off = 0
            while off + 16 <= len(data):
                n, kind = struct.unpack_from("=IH", data, off)
                if n < 16:
                    break
                if kind in (RTM_NEWLINK, RTM_DELLINK) and off + 16 + _IFINFOMSG.size <= len(data):
                    _, _, index, flags, _ = _IFINFOMSG.unpack_from(data, off + 16)
                    if index in self._by_vmac:
                        self._vmac_event(*self._by_vmac[index], kind == RTM_DELLINK, flags, now_us, index)
                    elif kind == RTM_NEWLINK and index not in self._by_ifindex and not self._refreshing \
                            and index not in self._dev_index.values():
                        self._made_again(index)
                    up = kind == RTM_NEWLINK and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
                    if self._tracked_ifaces or self._static_devs:
                        try:
                            name = socket.if_indextoname(index)
                        except OSError:
                            name = self._ifnames.get(index, "")
                        else:
                            self._ifnames[index] = name
                        if name in self._tracked_ifaces:
                            self._track_changed("interface", name, up, now_us)
                        if name in self._static_devs:
                            was_up = self._static_up.get(name, False)  # one a reload added: re-add
                            self._static_up[name] = up
                            if up and not was_up and self._static and name not in statics_up:
                                statics_up.add(name)
                                self._nl.extend(self._static.adds)  # what is there already is replaced
                    for i in self._by_ifindex.get(index, ()):
                        if up and i.state == State.FAULT:
                            self._apply(i, i.sm.interface_up(now_us, i.ifname), now_us)
                        elif not up and i.state != State.FAULT:
                            self._apply(i, i.sm.interface_down(now_us, i.ifname), now_us)
                off += (n + 3) & ~3

    def _link_followed(self) -> set[Instance]:
        """Every instance its interface's link state puts in FAULT (not with
        dont_track_primary): a set, for the lists are long at scale."""
        return {x for insts in self._by_ifindex.values() for x in insts}

    def _follow_statics(self) -> None:
        """Route and rule deletions are heard too (at start and after a reload) when an
        instance has virtual routes or rules, or a static line a track_group."""
        if self._route_owner or (self._static and self._static.restore_keys):
            netlink.follow_route_deletes(self._addr_gone)

    def _addresses_gone(self) -> None:
        """Deletions (the socket passes RTM_DELADDR, and RTM_DELROUTE of protocol
        keepalived and RTM_DELRULE once it follows them): a VIP of an instance
        that holds its VIPs (a master), or a vmac_protodown VIP (on its VMAC in every
        state), deleted by someone else is added again, its gratuitous ARP / NA sent,
        and a master's routes replaced (those through the address went with it).
        keepalived 2.2.7 (observed) goes BACKUP and MASTER again to do the same; fastka
        restores without a transition. fastka's own deletes come for instances that no
        longer hold their VIPs and are let be; so are addresses whose interface went
        (the link events say what follows). Routes and rules: _routes_gone."""
        gone: dict[int, list[tuple[int, bytes]]] = {}  # instance index -> deleted VIP keys
        statics: list[netlink.Address] = []  # static_ipaddress deleted
        routes_gone: dict[str, int] = {}  # "route" / "rule" -> how many static ones were deleted
        virtual_gone: dict[int, dict[tuple, Any]] = {}  # instance index -> its tracked routes / rules deleted
        lost = False
        for data in _datagrams(self._addr_gone):
            if data is None:
                lost = True  # some deletes were not seen: every master's VIPs are added again
                continue
            for key in netlink.deleted_addresses(data):
                k = self._vip_owner.get(key)
                if k is not None:
                    gone.setdefault(k, []).append(key)
                elif self._static is not None and key in self._static_keys:
                    statics.append(self._static_keys[key])
            if self._route_owner or (self._static is not None and self._static.restore_keys):
                for rkey in netlink.deleted_routes(data):
                    kind = self._static.restore_keys.get(rkey) if self._static is not None else None
                    if kind is not None:
                        routes_gone[kind] = routes_gone.get(kind, 0) + 1
                    owner = self._route_owner.get(rkey)
                    if owner is not None:
                        virtual_gone.setdefault(owner[0], {})[rkey] = owner[1]
        if lost:  # some deletes were not seen: what is missing now, by a dump
            self.counters["address_events_lost"] += 1
            present = {(x, socket.inet_pton(socket.AF_INET6 if fam == 6 else socket.AF_INET, addr))
                       for x, fam, addr, _, _ in netlink.dump_addresses()}
            for i in self.instances:
                if i.holds_vips or i.fixed:
                    keys = [k for k in _vip_keys(i) if k not in present]
                    if keys:
                        gone[i.index] = keys
            statics = [a for k, a in self._static_keys.items() if k not in present]
            if self._static is not None:  # routes and rules are not dumped: the followed ones are put back
                routes_gone = {kind: 0 for kind in self._static.restore_adds}
        if self._stopping:
            return
        self._routes_gone(virtual_gone, routes_gone)
        statics = [a for a in statics if _link_exists(a.ifindex)]
        if statics:  # put back as keepalived 2.2.7 does (observed); the add replaces one that is there
            self._queue_once(netlink.RTM_NEWADDR, netlink.pack_addresses, statics)
            self.counters["static_addresses_restored"] += len(statics)
            log.warning("static address %s deleted by someone else: added again",
                        ", ".join(f"{a.address}/{a.prefixlen}" for a in statics))
        for k, keys in gone.items():
            i = self.instances[k]
            master = i.holds_vips and i.state == State.MASTER
            wanted = set(keys)
            addrs = [a for a, key in zip([*i.vips, *i.fixed], _vip_keys(i), strict=True)
                     if key in wanted and (master or a in i.fixed) and _link_exists(a.ifindex)]
            if not addrs:
                continue
            self._queue_once(netlink.RTM_NEWADDR, netlink.pack_addresses, addrs, i)
            if master and i.routes:
                self._nl.append(i.route_add)
            i.counters["vips_restored"] += len(addrs)
            log.warning("(%s) %s deleted by someone else: added again", i.name,
                        ", ".join(f"{a.address}/{a.prefixlen}" for a in addrs))
            if i.holds_vips:  # not a vmac_protodown backup's: its VMAC is held down
                self.announce(i, addrs)

    def _routes_gone(self, virtual: dict[int, dict[tuple, Any]], static: dict[str, int]) -> None:
        """Routes and rules deleted by someone else, put back: a master's own (virtual,
        by instance index: only those), the statics (by kind: all of that kind, what is
        there already replaced)."""
        for k, items in virtual.items():  # keepalived: as for a VIP (fastka: without a transition)
            i = self.instances[k]
            if not (i.holds_vips and i.state == State.MASTER):
                continue  # fastka's own deletes as it left MASTER
            for kind, op, pack in (("route", netlink.RTM_NEWROUTE, netlink.pack_routes),
                                   ("rule", netlink.RTM_NEWRULE, pack_rules)):
                these = [x for key, x in items.items() if key[0] == kind]
                if these:
                    self._queue_once(op, pack, these, i)
                    i.counters[f"{kind}s_restored"] += len(these)
                    log.warning("(%s) virtual %s %s deleted by someone else: added again", i.name, kind,
                                ", ".join(x.describe() if kind == "rule" else f"{x.dst or 'default'}/{x.dst_len}"
                                          for x in these))
        for kind, n in static.items():
            assert self._static is not None
            self._nl.append(self._static.restore_adds[kind])
            self.counters[f"static_{kind}s_restored"] += n
            log.warning("static %s%s deleted by someone else: the static %ss added again", kind,
                        "s" if n != 1 else "", kind)

    def announce(self, i: Instance, addrs: list[netlink.Address]) -> None:
        """Gratuitous ARP / unsolicited NA for these addresses of i (garp_master_repeat
        of each), from the MAC of the interface they are on."""
        for a in addrs:
            mac = i.macs.get(a.ifindex, i.mac)
            if ":" in a.address:
                self._na.extend([(na_message(mac, a.address), a.ifindex)] * i.garp_master_repeat)
            else:
                self._arp.extend([(arp_frame(mac, a.address), a.ifindex)] * i.garp_master_repeat)

    def _stale_devs(self) -> list[str]:
        """The interfaces the instances name that now have another index (made again)."""
        out = []
        for name, x in self._dev_index.items():
            try:
                if netlink.ifindex(name) != x:
                    out.append(name)
            except OSError:
                pass  # gone: a later link event tells
        return out

    def _made_again(self, index: int) -> None:
        """A link the instances do not know by its index: if it bears the name of an
        interface they use (an instance's, a VIP's or a route's dev), that one was
        deleted and made again with a new index, and the instances are rebuilt from the
        running configuration after this iteration (reload.refresh): as keepalived
        2.2.7 follows an interface by its name (observed: FAULT while it is gone, then
        BACKUP and MASTER on the new one)."""
        try:
            name = socket.if_indextoname(index)
        except OSError:
            return
        if name not in self._dev_index:
            return
        from . import reload

        self._refreshing = True
        log.info("interface %s was made again (index %d, was %d): rebuilding the instances", name, index,
                 self._dev_index[name])
        self.defer(reload.refresh)

    # -- VMACs: as keepalived 2.2.7 (observed), a VMAC taken down puts its instance in FAULT
    # until it is up again; one deleted puts it in FAULT and is made again

    def _vmac_event(self, i: Instance, tracked: bool, deleted: bool, flags: int, now_us: int, index: int) -> None:
        v = next((x for x in i.links if x.ifindex == index), i.vmac)  # its own, or an extra VMAC
        if deleted:
            if v.lost or self._stopping:
                return
            v.lost = True
            log.error("(%s) %s %s was deleted; making it again", i.name, v.what, v.name)
            if tracked:
                self._apply(i, i.sm.interface_down(now_us, v.name), now_us)
            # after this iteration's flush (the VIPs it held went with it)
            self.extras.call_at(self.clock(), functools.partial(self._remake_vmac, v))
            return
        if v.lost or not tracked or (v.protodown and not self.vmacs.proto_down):
            return  # without protodown fastka flips IFF_UP itself: its state is the instance's
        # a held-down VMAC (vmac_protodown's backup) has no carrier: only IFF_UP counts there
        up = bool(flags & IFF_UP) and (v.protodown or bool(flags & IFF_LOWER_UP))
        actions = i.sm.interface_up(now_us, v.name) if up else i.sm.interface_down(now_us, v.name)
        if actions:  # a failover's flips come back as events: nothing to do for them
            self._apply(i, actions, now_us)

    def _remake_vmac(self, v: Any, now_us: int) -> None:
        """Make a lost VMAC (or ipvlan) again, for the instance that has it now."""
        if not v.lost or self._stopping:
            return
        owner = self._by_vmac.get(v.ifindex)
        if owner is None or not any(x is v for x in owner[0].links):
            return  # a reload came between (its instances and VMACs are others now)
        i = owner[0]
        try:
            self.vmacs.recreate(v)
        except (VmacError, OSError) as e:
            log.error("(%s) cannot make VMAC %s again: %s; the instance stays in FAULT until %s is back", i.name,
                      v.name, e, v.parent_name)
            return
        try:
            self._rejoin(v.ifindex)
        except OSError as e:
            log.error("(%s) VMAC %s made again, but joining its multicast group failed: %s", i.name, v.name,
                      e.strerror)
        if i.fixed and v is i.vmac:
            self._nl.append(i.fixed_batch)  # vmac_protodown: the VIPs went with the link
        if not self._by_vmac[v.ifindex][1] and i.holds_vips:
            # no FAULT came of it (an extra VMAC, or dont_track_primary): a master's VIPs
            # and routes that went with it are put back, the VIPs announced
            back = [a for a in i.vips if a.ifindex == v.ifindex]
            if back:
                self._queue_once(netlink.RTM_NEWADDR, netlink.pack_addresses, back, i)
                self.announce(i, back)
            for batch in (i.route_add, i.rule_add):
                if batch[2]:
                    self._nl.append(batch)
        log.info("(%s) %s %s made again", i.name, v.what, v.name)
        if self._by_vmac[v.ifindex][1]:
            self._apply(i, i.sm.interface_up(now_us, v.name), now_us)  # flushed by this step

    def _rejoin(self, index: int) -> None:
        """Join the groups on interface index again: a deleted interface's memberships stay
        on the sockets (a join would fail with EADDRINUSE) but not on the new interface."""
        for name, group, x in self._joined:
            if x != index:
                continue
            s = self.sockets[name]
            if name == "v6":
                mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", index)
                try:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq)
                except OSError:
                    pass
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
                continue
            mreq = socket.inet_aton(group) + struct.pack("=4si", bytes(4), index)
            for holder in [s, *self._holders]:
                try:
                    holder.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq)
                    break
                except OSError:
                    continue
            self._join4(s, mreq)

    def _resync_links(self, now_us: int) -> None:
        if self._static:  # a lost "down" would hide the next "up": the statics are put back now
            self._static_up = {name: netlink.link_is_up(name) for name in self._static_devs}
            self._nl.extend(self._static.adds)
        for index, (i, tracked) in list(self._by_vmac.items()):
            v = next((x for x in i.links if x.ifindex == index), i.vmac)
            info = netlink.get_link(v.name)
            if info is None or info.index != index:
                self._vmac_event(i, tracked, True, 0, now_us, index)
            else:
                self._vmac_event(i, tracked, False, info.flags, now_us, index)
        for name in self._tracked_ifaces:
            self._track_changed("interface", name, netlink.link_is_up(name), now_us)
        for insts in self._by_ifindex.values():
            up = netlink.link_is_up(insts[0].ifname)
            for i in insts:
                if up and i.state == State.FAULT:
                    self._apply(i, i.sm.interface_up(now_us, i.ifname), now_us)
                elif not up and i.state != State.FAULT:
                    self._apply(i, i.sm.interface_down(now_us, i.ifname), now_us)

    # -- running -----------------------------------------------------------------------

    def start(self) -> None:
        now_us = self.clock() // 1000
        self.events.start()
        self.vmac_filter.sync()
        if self._static:
            self._nl.extend(self._static.adds)  # static addresses, routes, rules: for as long as fastka runs
        self._follow_statics()
        self._static_up = {name: netlink.link_is_up(name) for name in self._static_devs}  # _links: down -> up
        self._tracked_ifaces = {t.name for i in self.instances for t in i.tracked if t.kind == "interface"}
        for name in self._tracked_ifaces:
            self.track_state[("interface", name)] = netlink.link_is_up(name)
        for c in self.scripts.checks.values():
            self.track_state[("script", c.name)] = c.up
        self.files.start()
        for f in self.files.files.values():
            self.track_state[("file", f.name)] = f.value
        if self.files.fileno() >= 0:
            self.extras.watch(self.files.fileno(), self._files_changed)
        self.processes.start(self.extras.watch, self.extras.call_at, self.clock,
                             lambda name, up, now_us: self._track_changed("process", name, up, now_us))
        for p in self.processes.specs.values():
            self.track_state[("process", p.name)] = p.up
        link_followed = self._link_followed()
        for i in self.instances:
            log.info("(%s) VRID %d on %s, IPv%d, VRRPv%d, priority %d, advert_int %s s%s%s", i.name, i.vrid,
                     i.ifname or "any interface (unicast)", i.family, i.version, i.priority, i.advert_int_cs / 100,
                     ", unicast" if i.unicast else "",
                     f", {i.vmac.what} {i.vmac.name}{' (protodown)' if i.vmac.protodown else ''}" if i.vmac else "")
            if i.fixed:
                self._nl.append(i.fixed_batch)  # vmac_protodown: the VIPs, on the held-down VMAC, once
            self._apply(i, i.sm.start(now_us), now_us)
            if i in link_followed and not netlink.link_is_up(i.ifname):
                self._apply(i, i.sm.interface_down(now_us, i.ifname), now_us)
            self._retrack(i, now_us)
        self.flush()

    def step(self, max_wait: float = 1.0) -> None:
        """One loop iteration: expire timers, wait for input (at most max_wait s), handle it."""
        if self.scripts.checks:
            self._scripts(self.clock() // 1000)
            due = self.scripts.next_due()
            if due is not None:
                max_wait = max(0.0, min(max_wait, due - time.monotonic()))
        due = self.extras.run_due(self.clock())
        if due is not None:
            max_wait = max(0.0, min(max_wait, (due - self.clock()) / 1e9))
        if self._nl or self._log or self._arp or self._na or any(self._out.values()):
            max_wait = 0.0  # what a script result or a timer asked for goes out now, not after the wait
        if self.loop is not None:
            self._native_step(max_wait)
            return
        now_ns = self.clock()
        nxt = self.wheel.next_expiry()
        if 0 <= nxt < now_ns - LATE_NS:  # held up: what came meanwhile first, as the native loop does
            for name in self.sockets:
                self._receive(name, now_ns // 1000)
        self._expire(now_ns)
        nxt = self.wheel.next_expiry()
        wait = max_wait if nxt < 0 else min(max_wait, max(0.0, (nxt - self.clock()) / 1e9))
        fds = [s.fileno() for s in self.sockets.values()] + [self._link.fileno(), self._addr_gone.fileno(),
                                                             self._wake_r.fileno(),
                                                             *self.extras.fds()]
        readable, _, _ = select.select(fds, [], [], wait)
        now_us = self.clock() // 1000
        for name, s in self.sockets.items():
            if s.fileno() in readable:
                self._receive(name, now_us)
        if self._link.fileno() in readable:
            self._links(now_us)
        if self._addr_gone.fileno() in readable:
            self._addresses_gone()
        self.extras.readable(readable, now_us)
        if self._wake_r.fileno() in readable:
            self._drain_wake()
        self._expire(self.clock())
        self.flush()
        while self._deferred:
            self._deferred.pop(0)(self)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def _native_step(self, max_wait: float) -> None:
        """The native loop runs until something needs Python; handle that, flush, return."""
        events = self.loop.poll(self.clock() + int(max_wait * 1e9))
        timed = bool(events) and log.isEnabledFor(logging.DEBUG)  # the clock only when -D asks for timings
        t0 = self.clock() if timed else 0
        self._native_events(events)
        t1 = self.clock() if timed else 0
        self._marks = [] if timed else None
        self.flush()
        if timed:
            t2 = self.clock()
            steps, last = [], t1
            for what, at in self._marks or ():
                steps.append(f"{what} {(at - last) / 1e6:.2f}")
                last = at
            self._marks = None
            log.debug("%d events: state machines %.2f ms, flush %.2f ms (%s), %.2f ms after the first was seen",
                      len(events), (t1 - t0) / 1e6, (t2 - t1) / 1e6, ", ".join(steps), (t2 - events[0][2]) / 1e6)
        while self._deferred:
            self._deferred.pop(0)(self)

    def _native_events(self, events: list[tuple[Any, ...]]) -> None:
        taken = self._take_early(self._master_downs(events))
        # a failover: the Master_Downs that fell due meanwhile (their adverts had come
        # a little later) go to the kernel too, before any state machine runs
        for _ in range(16 if taken else 0):
            more = self.loop.poll(self.clock())  # one pass, no wait
            events = events + more
            more_taken = self._take_early(self._master_downs(more))
            if not more_taken:
                break
            taken += more_taken
        try:
            self._native_handle(events)
        finally:
            self._take_early_done(taken)

    def _master_downs(self, events: list[tuple[Any, ...]]) -> list[Instance]:
        """The instances whose Master_Down is among events, but for those with an advert
        among them too (read late, it may re-arm the timer: the state machine decides)."""
        heard = {e[1] for e in events if e[0] == 1}
        return [self.instances[e[1]] for e in events
                if e[0] == 2 and e[3] % TIMERS_PER_INSTANCE == 1 and e[1] not in heard]

    def _native_handle(self, events: list[tuple[Any, ...]]) -> None:
        for kind, idx, now_ns, tid, tag, prio, aint, src in events:
            now_us = now_ns // 1000
            if kind == 1:
                i = self.instances[idx]
                self._apply(i, i.sm.advert_received(now_us, prio, addr_int(src), aint), now_us)
            elif kind == 2:
                if self.wheel.is_armed(tid):
                    continue  # armed again since it fell due, by an event before it (an advert read late)
                i = self.instances[idx]
                if tid % TIMERS_PER_INSTANCE == 1:
                    self._master_down(i, now_us)
                else:
                    self._garp_timer(i, now_us)
            elif tag == TAG_LINK:
                self._links(now_us)
            elif tag == TAG_ADDR:
                self._addresses_gone()
            elif not self.extras.event(tag, now_us):
                self._drain_wake()

    def _catch_up(self) -> int:
        """What fell due while this flush ran (Master_Down timers of instances whose
        adverts came a little later than the others'): handled now, so that their VIPs
        go before anyone's gratuitous ARPs. How many events (or timers) that was."""
        if self.loop is not None:
            events = self.loop.poll(self.clock())  # one pass, no wait
            self._native_events(events)
            return len(events)
        return self._expire(self.clock())

    def _expire(self, now_ns: int) -> int:
        now_us = now_ns // 1000
        due = list(self.wheel.advance(now_ns))
        early = self._take_early(self.instances[tid // TIMERS_PER_INSTANCE] for tid in due
                                 if tid % TIMERS_PER_INSTANCE == 1)
        for _ in range(16 if early else 0):  # as _native_events: what fell due meanwhile goes too
            more = self.wheel.advance(self.clock())
            due += more
            more_taken = self._take_early(self.instances[tid // TIMERS_PER_INSTANCE] for tid in more
                                          if tid % TIMERS_PER_INSTANCE == 1)
            if not more_taken:
                break
            early += more_taken
        try:
            for tid in due:
                i = self.instances[tid // TIMERS_PER_INSTANCE]
                which = tid % TIMERS_PER_INSTANCE
                if which and self.wheel.is_armed(tid):
                    continue  # armed again since it fell due (as in _native_handle)
                if which == 0:
                    self._send_advert(i)
                elif which == 1:
                    self._master_down(i, now_us)
                else:
                    self._garp_timer(i, now_us)
        finally:
            self._take_early_done(early)
        return len(due)

    def stop(self) -> None:
        now_us = self.clock() // 1000
        self.events.stopping()
        for i in self.instances:
            self._apply(i, i.sm.shutdown(now_us), now_us)
        if self._static and self.release_vips:
            self._nl.extend(self._static.removes)
        self.flush()

    def defer(self, fn: Callable[[Engine], None]) -> None:
        """Run fn(engine) after the current loop iteration (from a signal handler)."""
        self._deferred.append(fn)
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def request_stop(self) -> None:
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def run(self) -> None:
        """start(), loop until request_stop() (SIGTERM / SIGINT), stop()."""
        self.start()
        while not self._stopping:
            self.step()
        self.stop()

    def close(self) -> None:
        if self.release_vips:
            self.vmacs.remove()  # keepalived removes the VMACs it made (-V keeps them, with the VIPs)
        self.vmac_filter.stop(keep_rules=not self.release_vips)
        self.scripts.stop()
        self.files.close()
        self.processes.close()
        self.events.close()
        for s in [*self.sockets.values(), *self._holders, self._link, self._addr_gone, self._wake_r, self._wake_w]:
            s.close()
        self.rtnl.close()
        if self._sender is not None:
            self._sender.close()
        self.announcer.close()

    def instance_counters(self, i: Instance) -> dict[str, int]:
        out = dict(i.counters)
        if self.loop is not None:
            for k, v in enumerate(self.loop.counters(i.index)):
                if v and k in NATIVE_COUNTERS:
                    out[NATIVE_COUNTERS[k]] = out.get(NATIVE_COUNTERS[k], 0) + v
        return out

    def loop_counters(self) -> dict[str, int]:
        out = dict(self.counters)
        out.update(self.events.counters())
        if self.pacer.active:
            out.update(self.pacer.counters())
        if self.announcer.failed:
            out["garp_send_errors"] = self.announcer.failed
        if self.loop is not None:
            for k, v in self.loop.stats().items():
                if v and k in ("rx_short", "rx_unknown_vrid", "rx_unstamped"):
                    out[k] = out.get(k, 0) + v
        return out

    def status(self) -> list[dict[str, Any]]:
        return [dict(name=i.name, state=i.state.name, priority=i.sm.priority, vrid=i.vrid, interface=i.ifname,
                     family=i.family, version=i.version, holds_vips=i.holds_vips,
                     counters=self.instance_counters(i)) for i in self.instances]




def write_stats(engine: Engine) -> None:
    """SIGUSR2, as keepalived: per-instance counters to /tmp/fastka.stats."""
    lines = []
    for st in engine.status():
        lines.append(f"VRRP Instance: {st['name']}")
        lines.append(f"  State: {st['state']}  Priority: {st['priority']}  VRID: {st['vrid']}"
                     f"  Interface: {st['interface']}")
        for k, v in sorted(st["counters"].items()):
            lines.append(f"  {k}: {v}")
    for k, v in sorted(engine.loop_counters().items()):
        lines.append(f"{k}: {v}")
    write_atomic(state_file("fastka.stats"), "\n".join(lines) + "\n")


def write_json(engine: Engine) -> None:
    """The JSON signal, as keepalived: every instance's state and counters to /tmp/fastka.json."""
    import json

    data = {"instances": engine.status(), "counters": engine.loop_counters(), "loop": engine.loop_kind}
    write_atomic(state_file(VRRP_JSON), json.dumps(data, indent=1, sort_keys=True) + "\n")


def install_signal_handlers(engine: Engine) -> None:
    """SIGTERM / SIGINT stop; SIGUSR2 writes the stats file, the JSON signal the JSON
    file (handled between loop iterations, never inside one)."""
    def stop(signum: int, frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        engine.request_stop()

    def later(signum: int, frame: Any) -> None:
        engine.defer(write_stats if signum == signal.SIGUSR2 else write_json)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR2, later)
    signal.signal(JSON_SIGNAL, later)
    # a finished script (vrrp_script, notify) wakes the loop to reap it now
    signal.signal(signal.SIGCHLD, lambda signum, frame: engine.defer(lambda e: None))
