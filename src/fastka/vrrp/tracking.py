"""Which objects each instance tracks, with which weight: its own track_* lines and
its sync group's.

keepalived 2.2.7, as observed (and keepalived.conf(5), vrrp_sync_group):

- a sync group's track_interface / track_script / track_file / track_process lines
  apply to every member, with their weights (a weighted group line changes every
  member's priority; an unweighted one puts every member in FAULT);
- a member's own track_script / track_file / track_process with a non-zero weight
  is ignored unless the group sets ``sync_group_tracking_weight`` ("ignoring
  tracked file ti with weight 5 due to SYNC group"); its weight-0 tracking still
  applies. A member's weighted track_interface keeps its weight: keepalived logs
  "ignoring eth1 tracked interface weight due to SYNC group" but still changes the
  priority by it (observed: 207 -> 200 with eth1 weight 7 going down); fastka does
  the same, without the misleading line.

Static track groups (keepalived.conf(5), and keepalived 2.2.7 observed): a
static_ipaddress / static_routes / static_rules line with ``track_group NAME`` makes
every instance that group lists track the line's interfaces (an address's dev, else
default_interface; a route's dev and nexthop devs; a rule's iif) with weight 0: FAULT
while one is down or gone, out of FAULT when it is back. A re-add that fails puts no
instance in FAULT.

A line's weight is the line's, else the tracked block's (vrrp_script: 0, track_file:
1, vrrp_track_process: as apply_defaults filled it), with that block's reverse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Optional

from .track import Tracked
from .track_file import line_weight as file_weight

log = logging.getLogger("fastka.vrrp")


@dataclass
class Used:
    """The tracked objects some instance uses, by kind."""

    scripts: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    processes: set[str] = field(default_factory=set)


def _block_weight(ref: Any, block: Any, default: int) -> tuple[int, bool]:
    if ref.weight is not None:
        return ref.weight, ref.reverse
    if block is not None and block.weight is not None:
        return block.weight.value, block.weight.reverse
    return default, False


class Resolver:
    """Tracked entries for the track_* lines of an instance or a sync group."""

    def __init__(self, config: Any) -> None:
        self.scripts = {s.name: s for s in getattr(config, "vrrp_scripts", ())}
        self.files = {f.name: f for f in getattr(config, "track_files", ())}
        self.processes = {p.name: p for p in getattr(config, "vrrp_track_processes", ())}
        self.groups = {g.name: g for g in getattr(config, "vrrp_sync_groups", ())}
        self.used = Used()
        self.static_devs = static_devs(config)
        self.track_groups: dict[str, list[str]] = {}  # instance -> the track groups listing it
        for tg in getattr(config, "track_groups", ()):
            for member in tg.group:
                self.track_groups.setdefault(str(member), []).append(tg.name)

    def of(self, owner: Any) -> list[Tracked]:
        out = []
        for ref in getattr(owner, "track_script", ()):
            out.append(Tracked("script", ref.name, *_block_weight(ref, self.scripts.get(ref.name), 0)))
            self.used.scripts.add(ref.name)
        for ref in getattr(owner, "track_interface", ()):
            out.append(Tracked("interface", ref.name, ref.weight or 0, ref.reverse))
        for ref in getattr(owner, "track_file", ()):
            out.append(Tracked("file", ref.name, *file_weight(ref, self.files.get(ref.name))))
            self.used.files.add(ref.name)
        for ref in getattr(owner, "track_process", ()):
            out.append(Tracked("process", ref.name, *_block_weight(ref, self.processes.get(ref.name), 0)))
            self.used.processes.add(ref.name)
        return out

    def for_instance(self, inst: Any, group: Optional[str]) -> list[Tracked]:
        """An instance's tracking: its own lines (weighted ones dropped in a sync group
        without sync_group_tracking_weight, as keepalived), then its group's."""
        own = self.of(inst)
        for tg in self.track_groups.get(inst.name, ()):
            own.extend(Tracked("interface", dev, 0, False) for dev in sorted(self.static_devs.get(tg, ())))
        g = self.groups.get(group) if group is not None else None
        if g is None:
            return own
        if not g.sync_group_tracking_weight:
            kept = []
            for t in own:
                if t.weight != 0 and t.kind != "interface":
                    log.warning("(%s) ignoring tracked %s %s with weight %d: it is in sync group %s (set "
                                "sync_group_tracking_weight there to keep it)", inst.name, t.kind, t.name, t.weight,
                                g.name)
                else:
                    kept.append(t)
            own = kept
        return own + self.of(g)


def static_devs(config: Any, tracked_only: bool = True) -> dict[Optional[str], set[str]]:
    """The interfaces of the static addresses, routes and rules, by their track_group
    (None: without one; left out when tracked_only)."""
    gd = getattr(config, "global_defs", None)
    default = (gd.default_interface if gd is not None else None) or "eth0"
    out: dict[Optional[str], set[str]] = {}

    def add(group: Optional[str], *devs: Optional[str]) -> None:
        if group is not None or not tracked_only:
            out.setdefault(group, set()).update(d for d in devs if d)

    for a in getattr(config, "static_ipaddress", ()):
        add(a.track_group, a.dev or default)
    for r in getattr(config, "static_routes", ()):
        add(r.track_group, r.dev, *(nh.dev for nh in r.nexthops))
    for r in getattr(config, "static_rules", ()):
        add(r.track_group, r.iif)
    return out
