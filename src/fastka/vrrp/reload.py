"""VRRP reload (SIGHUP): the running engine takes a new configuration, keeping the
state of what did not change.

The new file is loaded and checked first (as at start); a file with errors changes
nothing: each error is logged with its file, line and column, and the engine runs on.
Then, by instance name:

- an instance whose interface, family, VRID, VMAC settings and address ownership
  (priority 255 or not) are the same *continues*: a new Instance is built from its new
  configuration and takes over the running one's state machine state (state, effective
  priority, faults, the master's advertised interval), its timers (deadlines as they
  were: no advert sent early, no Master_Down re-armed), its counters, its AH sequence
  number and whether it holds its VIPs. With an unchanged configuration nothing at all
  is sent or changed. A changed one is changed in place:

  - priority: the new effective priority (tracking applied) goes into the adverts from
    the next one on; preemption then follows the protocol (a backup that now outranks
    the master ignores its adverts and takes over when Master_Down expires, unless
    nopreempt; a master that now ranks lower keeps sending until the better backup
    takes over) - what keepalived 2.2.7 does;
  - VIPs, virtual_routes, virtual_rules of a master: only the difference is removed
    and added (gratuitous ARP / NA for the added addresses);
  - anything else (advert_int, authentication, preempt settings, notify scripts,
    tracking, garp settings, ...): used from now on;

- an instance no longer configured (or whose identity changed) is *removed*: a master
  sends priority 0 and releases its VIPs (also with -V: the instance is gone), then
  ``notify`` runs with ``INSTANCE NAME DELETED PRIO`` when the instance has
  ``notify_deleted`` and ``INSTANCE NAME FAULT PRIO`` otherwise, and the
  notify_deleted script runs if one is given (keepalived 2.2.7's behaviour, observed;
  notify_stop / notify_fault do not run); the notify FIFO gets the same line
  (inferred: keepalived's FIFO line could not be observed);
- a new instance starts as at start (Initialize, then Backup or Master).

The file is loaded, the plan worked out and the new instances built (prepare) in the
VRRP child's loader thread while the loop runs on; commit carries it out in the loop.
A file whose VRRP part (everything but SSL, virtual_server_group and virtual_server)
is equal to the running one changes nothing at all: instances, timers and the native
loop stay (a SIGHUP meant for the checkers costs VRRP no pause). A file that changes
only some instances (the same ones, in the same order, nothing else VRRP reads)
swaps each changed one in at its place (_commit_in_place). Otherwise sockets
stay open (new multicast memberships are joined), the engine's timer wheel and the
native loop are rebuilt with the instances renumbered - made in the loader thread
too (Rebuilt), the commit carrying the timers and native state into them in one
native call each (_commit_rebuilt); vrrp_scripts whose
definition is unchanged keep running with their state; notify FIFOs are reopened only
if their settings changed; sync groups keep their reported state; static addresses,
routes and rules are replaced only if they changed.

An added instance with use_vmac gets its VMAC made in the loader thread (its own
netlink socket), as at start; the VMAC of a removed instance is deleted at commit,
unless an added instance asks for the same one (same name, parent, MAC, family,
protodown: a renamed instance), which takes it on. A reload that is not carried out
removes the VMACs it made.

The same machinery rebuilds everything from the running configuration when an
interface the instances name is deleted and made again with a new index (refresh,
started by Engine._made_again).

What a reload refuses (logged, nothing changed; restart fastka to apply): changing
which track_file / vrrp_track_process blocks are used or how they are defined, and an
added instance asking for a VMAC name another instance holds otherwise.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from array import array
from dataclasses import dataclass
from typing import Any, Optional, cast

from ..timers import TimerWheel
from . import netlink
from .events import Events
from .garp_pacing import Pacer
from .instance import Instance
from .notify import command
from .rules import pack_rules
from .state_machine import Transition
from .track import ScriptRunner
from .vmac import LinkSpec, Vmac, Vmacs, VmacError, extra_specs, link_specs
from ..gcpause import gc_paused

log = logging.getLogger("fastka.vrrp")

# what _build sets on the engine: saved, replaced, restored by a reload
BUILT = ("instances", "by_key", "groups", "_by_ifindex", "_by_vmac", "_nl_owner", "_used", "_static", "_static_devs",
         "_seq_next", "_dev_index", "_vip_owner", "_route_owner", "_static_keys")
CARRIED = ("counters", "ah_seq", "ip_id", "holds_vips", "garp_left", "backup_since_us", "held_back_us")


class Refused(Exception):
    """The new configuration cannot be applied; nothing was changed. ``restart``: a
    restart would apply it (what a reload does not do), else it cannot run here."""

    def __init__(self, message: str, restart: bool = True) -> None:
        super().__init__(message)
        self.restart = restart


def identity(inst: Any) -> tuple:
    """What an instance must keep to continue through a reload (else: removed + added)."""
    return (str(inst.interface), inst.vrf, inst.family, inst.virtual_router_id, inst.use_vmac, inst.use_ipvlan,
            bool(inst.vmac_protodown), bool(inst.vmac_xmit_base), inst.priority == 255, bool(inst.dont_track_primary),
            tuple((x.parent_name, x.family) for x in extra_specs(None, inst)))


def load(opts: dict) -> Optional[Any]:
    """Load and check opts' file (-f, --config-id, --all-config): the configuration, or
    None after logging its errors (file:line:col). Touches no engine state: the VRRP
    child runs it in a thread while the loop goes on (the native loop waits without the
    GIL), so a long parse delays no advert."""
    from ..config import load_file

    path = str(opts.get("use_file") or "/etc/keepalived/keepalived.conf")
    log.info("Reloading %s", path)
    result = load_file(path, config_id=opts.get("config_id"), check_system=True,
                       all_config=bool(opts.get("all_config")))
    if result.diagnostics.has_errors:
        for d in result.diagnostics.sorted()[:20]:
            log.error("%s", d.format())
        log.error("reload: %s has %d errors; nothing changed", path, len(result.diagnostics.errors))
        return None
    return result.config


def apply(engine: Any, plan: "Plan") -> bool:
    """commit(), then the not-implemented report of the new configuration."""
    from .engine import not_implemented_uses

    ok = commit(engine, plan)
    if ok:
        for line in not_implemented_uses(plan.config):
            log.warning("not implemented yet, not acted on: %s", line)
    return ok


@dataclass
class Plan:
    """A reload worked out (prepare) and not yet carried out (commit)."""

    config: Any
    going_on: set[str]  # the instances that continue, by name
    added: list[str]
    built: dict[str, Any]  # the engine's fields for the new configuration (BUILT)
    changed: set[str]  # the continuing instances whose configuration changed
    old_config: Any  # the configuration it was worked out against
    same: bool = False  # the VRRP part of the file is as it was: nothing to rebuild
    # the same instances in the same order, nothing else VRRP reads changed: the changed
    # ones are swapped in at their places, the rest and the loop stay (_commit_in_place)
    swaps: "Optional[list[Swap]]" = None
    new_vmacs: Optional[Vmacs] = None  # made for the added instances (prepare), the engine's at commit
    handed_on: dict[str, str] = dataclasses.field(default_factory=dict)  # VMAC name -> its new owner
    rebuilt: "Optional[Rebuilt]" = None  # neither same nor swaps: the new wheel and loop, made in prepare
    force: bool = False  # refresh: interfaces looked up again, everything built anew (statics added again)


@dataclass
class Rebuilt:
    """A rebuild's parts that read nothing of the running state, made in the loader
    thread: commit only carries the state into them (natively, in one call each)."""

    index_map: array  # new index -> the continuing instance's old index, or -1 ('i')
    removed: list[int]  # the old indexes no new instance continues
    wheel: Any  # the new timer wheel, empty
    loop: Any  # the new native loop (settings and adverts set), or None for the Python loop
    shortest_cs: int  # the shortest advert interval of the new instances
    tracked_ifaces: set[str]  # the interfaces some new instance tracks
    events: Events  # for the new instances and groups (FIFOs not opened: commit decides)


class _Shadow:
    """What Engine._build reads and fills, apart from the running engine: a reload
    builds the new instances on it (in the loader thread) while the loop runs on."""

    def __init__(self, engine: Any) -> None:
        self.release_vips = engine.release_vips
        self.vmacs = engine.vmacs  # not used: a reload passes the VMACs in
        self._seq_next = engine._seq_next
        self.instances: list[Instance] = []
        self.by_key: dict = {}
        self._nl_owner: dict = {}


REFRESH_RETRY_S = (1, 2, 4, 8, 16, 30, 60)  # a refused refresh is tried again after these, then every 60 s


def refresh(engine: Any) -> None:
    """Rebuild every instance from the running configuration, looking its interfaces up
    again by name: one was deleted and made again with a new index (Engine._made_again).
    It is a reload that keeps every instance's state and rebuilds all the rest, static
    addresses, routes and rules added again: worked out in a thread while the loop runs
    on (at 10,000 instances that takes seconds), carried out in the loop (_refreshed)."""
    import threading

    base = engine.config  # what the plan is worked out against, read here in the loop
    config = copy.copy(base)  # a new identity: a reload prepared meanwhile is not carried out

    def work() -> None:
        plan = None
        try:
            plan = prepare(engine, config, force=True, base=base)
        except Exception:
            log.exception("rebuilding the instances failed; nothing changed")
        engine.defer(lambda e: _refreshed(e, plan))

    threading.Thread(target=work, name="refresh", daemon=True).start()


def _refreshed(engine: Any, plan: Optional[Plan]) -> None:
    """refresh's plan carried out; then lost VMACs are made again on their new parents,
    a master re-adds (and announces) what it had on an interface made again, and every
    instance takes its links' state (a FAULT ends). A refused refresh (the interface
    has no address yet, ...) is tried again later; so is one a reload overtook, and one
    that left an interface behind that was made again meanwhile."""
    engine._refreshing = False
    try:
        if plan is None or engine.config is not plan.old_config:
            if plan is not None:
                _unmake(plan.new_vmacs)
            _refresh_later(engine)
            return
        before = dict(engine._dev_index)
        if not commit(engine, plan):
            _refresh_later(engine)
            return
        engine._refresh_tries = 0
        moved = {x for name, x in engine._dev_index.items() if before.get(name) != x}
        now_us = engine.clock() // 1000
        for i in engine.instances:
            # its own VMAC lost and followed: the instance is in FAULT, its VIPs wait for MASTER
            own_lost = i.vmac is not None and i.vmac.lost and engine._by_vmac.get(i.vmac.ifindex, (i, False))[1]
            for v in [v for v in i.links if v.lost]:
                engine._remake_vmac(v, now_us)
            if not own_lost and i.holds_vips and (any(a.ifindex in moved for a in i.vips)
                                                  or any(r.oif in moved for r in i.routes)):
                engine._nl.extend(engine._take_batches(i))  # what went with the old interface comes back
                engine.announce(i, [a for a in i.vips if a.ifindex in moved])
        engine._resync_links(now_us)
        engine.flush()
        if engine._stale_devs():
            engine._refreshing = True
            refresh(engine)
    except Exception:  # a bug, or an interface gone again half-way: VRRP goes on
        log.exception("rebuilding the instances failed")
        _refresh_later(engine)


def _refresh_later(engine: Any) -> None:
    """Another refresh after a while (longer each time), if an interface the instances
    name still has another index than they know."""
    tries = engine._refresh_tries
    engine._refresh_tries = tries + 1
    delay = REFRESH_RETRY_S[min(tries, len(REFRESH_RETRY_S) - 1)]

    def again(now_us: int) -> None:
        if not engine._refreshing and engine._stale_devs():
            engine._refreshing = True
            refresh(engine)

    engine.extras.call_at(engine.clock() + delay * 1_000_000_000, again)


def reload(engine: Any, config: Any) -> bool:
    """Apply a loaded, checked configuration to a running engine (see the module notes)."""
    plan = prepare(engine, config)
    return plan is not None and commit(engine, plan)


def prepare(engine: Any, config: Any, force: bool = False, base: Any = None) -> Optional[Plan]:
    """Work out a reload: which instances continue, the new Instance objects (built by
    the engine's own _build, on the side), what is refused (logged: None). Reads the
    running engine and changes nothing in it, so it may run in another thread than
    the loop (reloads are never run two at a time)."""
    from .engine import ConfigError, Engine

    old_cfg = engine.config if base is None else base  # base: read by the caller, in the loop
    if not force and vrrp_part(old_cfg) == vrrp_part(config):
        return Plan(config, {i.name for i in engine.instances}, [], {}, set(), old_cfg, same=True)
    old_by_name: dict[str, Instance] = {i.name: i for i in list(engine.instances)}
    old_models = {m.name: m for m in old_cfg.vrrp_instances}
    new_models = {m.name: m for m in config.vrrp_instances}
    going_on = {n for n, m in new_models.items() if n in old_models and identity(old_models[n]) == identity(m)}
    added = [n for n in new_models if n not in going_on]
    new_vmacs: Optional[Vmacs] = None
    try:
        vmacs: dict[str, list[Vmac]] = {n: old_by_name[n].links for n in going_on if old_by_name[n].links}
        given = _handed_on(engine, config, [new_models[n] for n in added], going_on)
        for owner, v in given:
            vmacs.setdefault(owner, []).append(v)
        taken = {v.name for _, v in given}
        wanted = [(new_models[n], spec) for n in added for spec in link_specs(config, new_models[n])
                  if spec.name not in taken]
        if wanted:
            new_vmacs = _make_vmacs(engine, wanted)  # the loop goes on: a socket of its own
            for v in new_vmacs.links:
                vmacs.setdefault(v.owner, []).append(v)
        shadow = _Shadow(engine)
        try:
            Engine._build(cast(Any, shadow), config, vmacs=vmacs)
        except (ConfigError, OSError, ValueError) as e:
            raise Refused(str(e), restart=False) from None
        built = {k: getattr(shadow, k) for k in BUILT}
        for key, used in (("track_files", "files"), ("vrrp_track_processes", "processes")):
            before, after = getattr(engine._used, used), getattr(built["_used"], used)
            if before != after or _defs(old_cfg, key, before) != _defs(config, key, after):
                raise Refused(f"the {key.replace('vrrp_', '')} in use, or their definitions, changed")
    except Refused as e:
        _unmake(new_vmacs)
        log.error("reload: %s; nothing changed%s", e, " (restart fastka to apply this configuration)" if e.restart
                  else "")
        return None
    except BaseException:  # a bug: the caller logs it; the VMACs made for this reload go
        _unmake(new_vmacs)
        raise
    changed = {n for n in going_on if old_models[n] != new_models[n]}
    in_place = (not force and not added and len(going_on) == len(old_by_name)
                and [m.name for m in config.vrrp_instances] == [i.name for i in engine.instances]
                and vrrp_part(old_cfg, "vrrp_instances") == vrrp_part(config, "vrrp_instances")
                and built["_used"] == engine._used)
    rebuilt = None
    if not in_place:
        new = built["instances"]
        try:
            index_map = array("i", [old_by_name[i.name].index if i.name in going_on else -1 for i in new])
            kept = set(index_map)
            wheel = TimerWheel(max(1, 3 * len(new)), start_ns=engine.clock(), tick_ns=100_000)
            events = Events(config, built["groups"], engine.notifier)
            for i, inst in zip(new, config.vrrp_instances, strict=True):
                events.instance_config(i, inst)
            rebuilt = Rebuilt(index_map, [o.index for o in old_by_name.values() if o.index not in kept], wheel,
                              engine._native_loop(new, wheel) if engine.loop is not None else None,
                              min((i.advert_int_cs for i in new), default=100),
                              set().union(*(_interfaces(i) for i in new)), events)
        except BaseException:  # a bug, as above
            _unmake(new_vmacs)
            raise
    return Plan(config, going_on, added, built, changed, old_cfg, new_vmacs=new_vmacs,
                handed_on={v.name: owner for owner, v in given},
                swaps=_swaps(engine, config, built, changed) if in_place else None, rebuilt=rebuilt, force=force)


@dataclass
class Swap:
    """One instance a reload changes in place: the running object, its new one, and
    where the engine's tables name it (worked out in the loader thread)."""

    old: Instance
    new: Instance
    by_key: list  # keys of engine.by_key
    by_ifindex: list[int]  # keys of engine._by_ifindex (lists holding it)
    by_vmac: list[int]
    groups: list[str]
    old_seqs: list[int]  # netlink sequence numbers owned by the old object (_nl_owner)
    new_seqs: list[int]  # ... by the new one
    sockets_same: bool  # what _open_sockets reads of it is unchanged
    interfaces_same: bool  # so are the interfaces it tracks
    model: Any  # its vrrp_instance block


def _swaps(engine: Any, config: Any, built: dict[str, Any], changed: set[str]) -> list[Swap]:
    """The in-place plan: for each changed instance, its entries in the engine's tables.
    Only the loader thread's scans of them; commit then touches the changed ones only."""
    new_by_name = {i.name: i for i in built["instances"]}
    models = {m.name: m for m in config.vrrp_instances}
    swaps = []
    for o in engine.instances:
        if o.name in changed:
            i = new_by_name[o.name]
            swaps.append(Swap(o, i, [], [], [], [], [], [], _socket_view(o) == _socket_view(i),
                              _interfaces(o) == _interfaces(i), models[o.name]))
    by_new = {id(w.new): w for w in swaps}
    tables: list[tuple[str, Any]] = [
        ("by_key", built["by_key"].items()),
        ("by_ifindex", ((k, v) for k, lst in built["_by_ifindex"].items() for v in lst)),
        ("by_vmac", ((k, v) for k, (v, _) in built["_by_vmac"].items())),
        ("groups", ((k, v) for k, lst in built["groups"].items() for v in lst)),
        ("new_seqs", built["_nl_owner"].items())]
    for name, entries in tables:
        for k, v in entries:
            w = by_new.get(id(v))
            if w is not None:
                getattr(w, name).append(k)
    by_old = {id(w.old): w for w in swaps}
    for seq, v in list(engine._nl_owner.items()):
        w = by_old.get(id(v))
        if w is not None:
            w.old_seqs.append(seq)
    return swaps


def _interfaces(i: Instance) -> set[str]:
    """The interfaces an instance tracks."""
    return {t.name for t in i.tracked if t.kind == "interface"}


def _socket_view(i: Instance) -> tuple:
    """What Engine._open_sockets reads of an instance."""
    return (i.auth_type, i.family, i.ifindex, i.tx_ifindex, i.vrf_ifindex, tuple(i.dsts), i.unicast)


def _handed_on(engine: Any, config: Any, added: list[Any], going_on: set[str]) -> list[tuple[str, Vmac]]:
    """The VMACs of instances the reload removes that an added instance asks for as they
    are (same name, parent, MAC, family, protodown: an instance renamed, say): kept for
    it, owner changed at commit. A name still used by an instance that goes on, or one
    asked for differently, is refused (restart)."""
    out: list[tuple[str, Vmac]] = []
    for inst, spec in [(m, spec) for m in added for spec in link_specs(config, m)]:
        v = engine.vmacs.by_name.get(spec.name)
        if v is None:
            continue
        try:
            parent = netlink.ifindex(spec.parent_name)
        except OSError:
            raise Refused(f"vrrp_instance {inst.name}: interface {spec.parent_name} does not exist",
                          restart=False) from None
        if v.owner in going_on or any(w is v for _, w in out) or (
                v.parent, v.mac if v.kind == "macvlan" else b"", v.family, v.protodown, v.kind, v.flags,
                v.address, v.extra) != (parent, spec.mac, spec.family, spec.protodown, spec.kind, spec.flags,
                                        spec.address, spec.extra):
            raise Refused(f"vrrp_instance {inst.name} asks for {v.what} {spec.name}, which is {v.owner}'s and made "
                          "otherwise")
        out.append((inst.name, v))
    return out


def _make_vmacs(engine: Any, wanted: list[tuple[Any, LinkSpec]]) -> Vmacs:
    """The VMACs of the instances a reload adds, made (as at start: sysctls, brought up
    or held down, IPv6 link-locals copied) on a netlink socket of the loader thread's
    own; merged into the engine's at commit, removed if the reload does not happen."""
    vm = Vmacs(netlink.Rtnl())
    vm._seq = engine.vmacs._seq + 0x10_0000  # apart from what the loop's own may number meanwhile
    vm.proto_down = engine.vmacs.proto_down
    vm.before_up = engine.vmac_filter.pending
    vm.on_removed = engine.vmac_filter.settled
    try:
        for inst, spec in wanted:
            other = engine.vmacs.by_name.get(spec.name)
            if other is not None:
                raise VmacError(f"vrrp_instance {inst.name}: {other.what} {spec.name} is already {other.owner}'s")
            vm.add(spec, inst.name)
        vm.create(netlink.dump_addresses())
    except (VmacError, OSError) as e:
        _unmake(vm)
        raise Refused(str(e), restart=False) from None
    return vm


def _unmake(vm: Optional[Vmacs]) -> None:
    """Remove the VMACs a reload made for nothing (and close their socket)."""
    if vm is not None:
        vm.remove()
        vm.rtnl.close()
        if vm.on_removed is not None:
            vm.on_removed(vm.links)


def commit(engine: Any, plan: Plan) -> bool:
    """Carry out a prepared reload, in the loop (between two iterations)."""
    config = plan.config
    if engine.config is not plan.old_config:
        _unmake(plan.new_vmacs)
        log.error("reload: the configuration changed while this reload was prepared; nothing changed")
        return False
    t0 = engine.clock()
    if plan.same:
        # a SIGHUP for the checkers' part (or none): the instances, their timers and
        # the native loop stay as they are (rebuilding them held the loop for 150-225
        # ms at 10,000 instances: longer than a backup's Master_Down_Interval at
        # advert_int 0.05). The new configuration is equal in everything VRRP reads.
        engine.config = config
        engine.counters["reloads"] += 1
        log.info("reload: %d instances kept (0 of them changed), 0 added, 0 removed; the VRRP configuration is "
                 "unchanged, nothing to rebuild (applied in %.1f ms)", len(engine.instances),
                 (engine.clock() - t0) / 1e6)
        return True
    if plan.swaps is not None:
        return _commit_in_place(engine, plan, plan.swaps, t0)
    assert plan.rebuilt is not None
    with gc_paused():  # thousands of objects go and come: no collector pass in the middle
        return _commit_rebuilt(engine, plan, plan.rebuilt, t0)


def _commit_rebuilt(engine: Any, plan: Plan, rebuilt: Rebuilt, t0: int) -> bool:
    """The instances renumbered: the new ones (built in prepare) take the state of the
    ones they continue, the new wheel and loop (made in prepare) their timers and
    native state."""
    config, going_on, added, built = plan.config, plan.going_on, plan.added, plan.built
    now_us = t0 // 1000
    old_cfg = engine.config
    old_instances: list[Instance] = engine.instances  # by index
    old_models = {m.name: m for m in old_cfg.vrrp_instances}
    removed = [old_instances[k] for k in sorted(rebuilt.removed)]
    # 1. the removed instances stop, with the running engine's timers, loop and sockets
    priorities = {i.name: i.sm.priority for i in removed}
    for i in removed:
        engine._apply(i, [a for a in i.sm.shutdown(now_us) if not isinstance(a, Transition)], now_us)
        if i.holds_vips:
            engine._release_vips(i)  # with -V too: the instance is gone
        engine._log.append(("(%s) removed by the reload", i.name))
    if removed:
        engine.flush()  # priority 0 adverts, then the VIPs, in one batch each
    for i in removed:
        _deleted(engine, i, old_models[i.name], priorities[i.name])
    _vmacs_changed(engine, plan, removed)
    old_loop = engine.loop
    if old_loop is not None:  # the loop-wide counters start again in the new loop (the instances' carry over)
        for k, v in old_loop.stats().items():
            if v and k in ("rx_short", "rx_unknown_vrid"):
                engine.counters[k] += v

    # 2. the new instances and what they carry over
    old_wheel, old_static = engine.wheel, engine._static
    for k, v in built.items():
        setattr(engine, k, v)
    if not plan.force and _statics(old_cfg) == _statics(config):
        engine._static = old_static
    else:  # all the old ones go, all the new ones come (one batch; rare)
        if old_static and not plan.force:  # a refresh: the old name indexes that may be gone
            engine._nl.extend(old_static.removes)
        if engine._static:
            engine._nl.extend(engine._static.adds)
    engine.config = config
    wheel, index_map = rebuilt.wheel, rebuilt.index_map
    # the timers as they were (deadlines in the past: now), one native call
    wheel.carry(old_wheel, index_map, 3, engine.clock())
    synced = vrrp_part(old_cfg, "vrrp_instances") == vrrp_part(config, "vrrp_instances")
    resync: list[Instance] = []  # whose native view is not the running one's
    reprioritised: list[Instance] = []  # whose adverts (built with the configured priority) need another
    for i, k in zip(engine.instances, index_map, strict=True):
        if k < 0:
            resync.append(i)
            continue
        o = old_instances[k]
        _carry(o, i)
        if i.sm.priority != i.priority:
            reprioritised.append(i)
        if i.name in plan.changed:
            tid = 3 * i.index
            period = i.advert_int_cs * 10_000_000
            if wheel.is_armed(tid) and wheel.period(tid) and wheel.period(tid) != period:
                wheel.arm_periodic(tid, wheel.deadline(tid), period)
            _difference(engine, o, i)
            resync.append(i)
        elif not synced or i.src_packed != o.src_packed:
            resync.append(i)
    engine.wheel = wheel
    engine._open_sockets()
    _trackers(engine, old_cfg, config, rebuilt.tracked_ifaces)
    _events(engine, old_cfg, config, rebuilt.events)
    if getattr(old_cfg, "global_defs", None) != getattr(config, "global_defs", None):
        engine.pacer = Pacer(config, engine.announcer, engine.extras.call_at, engine.clock)
    if rebuilt.loop is not None:
        engine._native_attach(rebuilt.loop, rebuilt.shortest_cs)
        rebuilt.loop.carry(old_loop, index_map)  # views, counters, AH sequence numbers: one native call
        for i in reprioritised:
            rebuilt.loop.set_priority(i.index, i.sm.priority)
        for i in resync:
            engine._sync_view(i)

    # 3. the new effective priorities, the new instances started
    link_followed = engine._link_followed()
    for i, k in zip(engine.instances, index_map, strict=True):
        if k >= 0:
            if i.tracked or i.name in plan.changed:  # else its priority is the configured one, as it was
                _reprioritise(engine, i, now_us)
            continue
        log.info("(%s) VRID %d on %s, IPv%d, VRRPv%d, priority %d, advert_int %s s%s (added by the reload)", i.name,
                 i.vrid, i.ifname or "any interface (unicast)", i.family, i.version, i.priority, i.advert_int_cs / 100,
                 f", {i.vmac.what} {i.vmac.name}{' (protodown)' if i.vmac.protodown else ''}" if i.vmac else "")
        if i.fixed:
            engine._nl.append(i.fixed_batch)  # vmac_protodown: the VIPs, on the held-down VMAC, once
        engine._apply(i, i.sm.start(now_us), now_us)
        if i in link_followed and not netlink.link_is_up(i.ifname):
            engine._apply(i, i.sm.interface_down(now_us, i.ifname), now_us)
        engine._retrack(i, now_us)
    engine._follow_statics()
    engine.flush()
    engine.counters["reloads"] += 1
    log.info("reload: %d instances kept (%d of them changed), %d added, %d removed (applied in %.1f ms)",
             len(going_on), len(plan.changed), len(added), len(removed), (engine.clock() - t0) / 1e6)
    return True


#: the top-level parts of a configuration VRRP never reads (the checkers' and IPVS's)
NOT_VRRP = frozenset({"ssl", "virtual_server_groups", "virtual_servers"})


def vrrp_part(config: Any, *leaving_out: str) -> tuple:
    """Everything of a configuration the VRRP child reads (but leaving_out): two
    configurations with equal parts run the same (positions are not compared)."""
    return tuple(getattr(config, f.name) for f in dataclasses.fields(config)
                 if f.name not in NOT_VRRP and f.name not in leaving_out and f.compare)


def _carry(o: Instance, i: Instance) -> None:
    """A continuing instance's new object takes the running one's state: the state
    machine, counters and the rest of CARRIED, its tracking faults, its priority."""
    i.sm.carry_from(o.sm)
    for k in CARRIED:
        setattr(i, k, getattr(o, k))
    i.track_faults = set(o.track_faults)
    if i.sm.priority != i.priority:
        i.set_priority(i.sm.priority)  # built with the configured priority


def _reprioritise(engine: Any, i: Instance, now_us: int) -> None:
    """A continuing instance's effective priority from its new configuration (tracking
    included)."""
    if i.tracked:
        engine._retrack(i, now_us)
    else:
        acts = i.sm.set_priority(now_us, i.priority)
        if acts:
            engine._apply(i, acts, now_us)


def _commit_in_place(engine: Any, plan: Plan, swaps: list[Swap], t0: int) -> bool:
    """A reload that changes some instances and nothing else: each changed instance's
    new object takes its old one's place (index, timers, native loop slot and counters,
    the entries of the engine's tables: the lists the sync groups' state shares among
    them), carrying its state; the unchanged ones, the timer wheel and the native loop
    stay. The loop is held for the changed instances, not for all of them."""
    from .engine import RX_INTERVAL_MAX_NS, SLOTS, _vip_keys

    now_us = t0 // 1000
    engine._seq_next = max(engine._seq_next, plan.built["_seq_next"])  # the new objects' requests are numbered
    wheel, now_ns, loop, ev = engine.wheel, engine.clock(), engine.loop, engine.events
    engine.config = plan.config
    # the routes and rules a master puts back when deleted: the new objects' (same indices);
    # the old table would restore a route the reload changed or removed
    engine._route_owner = plan.built["_route_owner"]
    for w in swaps:
        o, i = w.old, w.new
        engine.instances[i.index] = i
        for k in w.by_key:
            engine.by_key[k] = i
        for k in w.by_ifindex:
            lst = engine._by_ifindex[k]
            lst[lst.index(o)] = i
        for k in w.by_vmac:
            engine._by_vmac[k] = (i, engine._by_vmac[k][1])
        for name in w.groups:
            lst = engine.groups[name]
            lst[lst.index(o)] = i
        for seq in w.old_seqs:
            engine._nl_owner.pop(seq, None)
        for seq in w.new_seqs:
            engine._nl_owner[seq] = i
        for key in _vip_keys(o):
            engine._vip_owner.pop(key, None)
        engine._vip_owner.update((key, i.index) for key in _vip_keys(i))
        engine._dev_index = plan.built["_dev_index"]  # the interfaces the new configuration names
        _carry(o, i)
        tid = 3 * i.index
        if wheel.is_armed(tid) and wheel.period(tid):  # the advert timer, at the new interval
            wheel.arm_periodic(tid, max(wheel.deadline(tid), now_ns), i.advert_int_cs * 10_000_000)
        _difference(engine, o, i)
        ev.rx_lower.pop(i.index, None)  # what Events took from o's model, then from i's
        ev.priority_changes.discard(i.index)
        ev.smtp.discard(i.index)
        ev.instance_config(i, w.model)
        if loop is not None:
            loop.update_instance(i.index, i.tx_ifindex, i.family, i.vrid, SLOTS[engine._sock_name(i)], i.auth_type,
                                 i.auth_key, i.unicast, i.advert_int_cs if i.version == 2 else 0)
            engine._native_adverts(loop, i)
            engine._sync_view(i)
    if loop is not None and any(w.old.advert_int_cs != w.new.advert_int_cs for w in swaps):
        shortest_cs = min((i.advert_int_cs for i in engine.instances), default=100)
        loop.set_rx_interval(min(RX_INTERVAL_MAX_NS, shortest_cs * 10_000_000 // 4))
    if not all(w.sockets_same for w in swaps):
        engine._open_sockets()
    if not all(w.interfaces_same for w in swaps):  # the scripts, files, processes are the same
        _tracked_interfaces(engine)
    for w in swaps:
        _reprioritise(engine, w.new, now_us)
    engine._follow_statics()
    engine.flush()
    engine.counters["reloads"] += 1
    log.info("reload: %d instances kept (%d of them changed), 0 added, 0 removed; changed in place "
             "(applied in %.1f ms)", len(engine.instances), len(swaps), (engine.clock() - t0) / 1e6)
    return True


def _vmacs_changed(engine: Any, plan: Plan, removed: list[Instance]) -> None:
    """The engine's VMACs after a reload: those of removed instances deleted (unless an
    added instance takes one on), those made for added ones taken in."""
    gone = [v for i in removed for v in i.links if v.name not in plan.handed_on]
    if gone:
        engine.vmacs.drop(gone)
        for v in gone:
            log.info("(%s) %s %s removed with its instance", v.owner, v.what, v.name)
    for name, owner in plan.handed_on.items():
        engine.vmacs.by_name[name].owner = owner
        log.info("(%s) takes on VMAC %s", owner, name)
    if plan.new_vmacs is not None:
        engine.vmacs.take(plan.new_vmacs)
        for v in plan.new_vmacs.links:
            log.info("(%s) %s %s made on %s%s", v.owner, v.what, v.name, v.parent_name,
                     " (protodown)" if v.protodown else "")
        plan.new_vmacs.rtnl.close()
    if plan.new_vmacs is not None:
        engine.vmac_filter.settled(plan.new_vmacs.links)  # the engine's now
    engine.vmac_filter.sync()


def _defs(config: Any, key: str, used: set[str]) -> dict[str, Any]:
    return {b.name: b for b in getattr(config, key, ()) if b.name in used}


def _statics(config: Any) -> tuple:
    return tuple(list(getattr(config, k, ())) for k in ("static_ipaddress", "static_routes", "static_rules"))


def _deleted(engine: Any, i: Instance, model: Any, prio: int) -> None:
    """keepalived's report of an instance removed by a reload."""
    gd = getattr(engine.config, "global_defs", None)
    user = gd.script_user if gd is not None else None
    word = "DELETED" if model.notify_deleted is not None else "FAULT"
    if model.notify_deleted:
        argv, u, g = command(model.notify_deleted, user)
        engine.notifier.run(argv, u, g, f"({i.name}) notify_deleted")
    if i.notify_any:
        argv, u, g = i.notify_any
        engine.notifier.run([*argv, "INSTANCE", i.name, word, str(prio)], u, g, f"({i.name}) notify")
    if engine.events.fifo is not None:
        engine.events.fifo.write(f'INSTANCE "{i.name}" {word} {prio}')


def _difference(engine: Any, o: Instance, i: Instance) -> None:
    """A master's VIPs, routes and rules, and vmac_protodown's VIPs (on the VMAC in
    every state): what o had and i has not goes, what i has new comes."""
    batches: list[tuple[int, bytes, list[int]]] = []
    held = i.holds_vips

    def add(op: int, pack: Any, items: list) -> None:
        if items:
            data, seqs = pack(op, items, engine._seq_next)
            engine._seq_next += len(seqs)
            engine._own_once(i, seqs)  # made once: forgotten after their flush
            batches.append((op, data, seqs))

    gone = [a for a in o.vips if a not in i.vips] if held else []
    new = [a for a in i.vips if a not in o.vips] if held else []
    gone_fixed = [a for a in o.fixed if a not in i.fixed]
    new_fixed = [a for a in i.fixed if a not in o.fixed]
    if held:
        add(netlink.RTM_DELRULE, pack_rules, [r for r in o.rules if r not in i.rules])
        add(netlink.RTM_DELROUTE, netlink.pack_routes, [r for r in o.routes if r not in i.routes])
    add(netlink.RTM_DELADDR, netlink.pack_addresses, gone + gone_fixed)
    add(netlink.RTM_NEWADDR, netlink.pack_addresses, new + new_fixed)
    if held:
        add(netlink.RTM_NEWROUTE, netlink.pack_routes, [r for r in i.routes if r not in o.routes])
        add(netlink.RTM_NEWRULE, pack_rules, [r for r in i.rules if r not in o.rules])
    engine._nl.extend(batches)
    engine.announce(i, new + (new_fixed if held else []))  # a master's VMAC carries the fixed ones
    if batches:
        log.info("(%s) reload: %d addresses added, %d removed", i.name, len(new) + len(new_fixed),
                 len(gone) + len(gone_fixed))


def _same_script(a: Any, b: Any) -> bool:
    return all(getattr(a, k) == getattr(b, k) for k in ("argv", "interval_s", "timeout_s", "rise", "fall", "user",
                                                       "group", "weight", "reverse"))


def _trackers(engine: Any, old_cfg: Any, config: Any, tracked_ifaces: set[str]) -> None:
    """vrrp_scripts: an unchanged one keeps running (its state, its run in progress);
    track_file / track_process are unchanged (a reload that changes them is refused);
    tracked interfaces: the new set."""
    gd = getattr(config, "global_defs", None)
    old = engine.scripts
    scripts = ScriptRunner(config, engine._used.scripts, gd.script_user if gd is not None else None)
    for name, c in list(scripts.checks.items()):
        oc = old.checks.get(name)
        if oc is not None and _same_script(oc, c):
            scripts.checks[name] = oc
            del old.checks[name]
        else:
            engine.track_state[("script", name)] = c.up
    old.stop()  # the scripts no longer configured, or redefined
    engine.scripts = scripts
    _tracked_interfaces(engine, tracked_ifaces)


def _tracked_interfaces(engine: Any, names: Optional[set[str]] = None) -> None:
    """The interfaces some instance tracks (names, if worked out already), each with its
    state."""
    engine._tracked_ifaces = set().union(*(_interfaces(i) for i in engine.instances)) if names is None else names
    for name in engine._tracked_ifaces:
        if ("interface", name) not in engine.track_state:
            engine.track_state[("interface", name)] = netlink.link_is_up(name)


def _fifo_settings(config: Any) -> Optional[tuple]:
    gd = getattr(config, "global_defs", None)
    if gd is None:
        return None
    return (gd.notify_fifo, gd.notify_fifo_script, gd.vrrp_notify_fifo, gd.vrrp_notify_fifo_script, gd.script_user)


def _events(engine: Any, old_cfg: Any, config: Any, ev: Events) -> None:
    """ev (made in prepare for the new instances and groups) takes over: the FIFOs kept
    if their settings did not change, followers (lvs_sync_daemon) and the groups'
    reported state kept."""
    old: Events = engine.events
    ev.followers = old.followers
    states = {g.name: g.state for g in old.groups}
    for g in ev.groups:
        g.state = states.get(g.name)
    if _fifo_settings(old_cfg) == _fifo_settings(config):
        ev.fifos, ev.fifo = old.fifos, old.fifo
        old.fifos, old.fifo = [], None
    else:
        old.stopping()
        ev.start()
    old.close()
    engine.events = ev
