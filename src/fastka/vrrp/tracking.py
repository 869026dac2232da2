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
