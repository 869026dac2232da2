"""IGMP, MLD and router solicitations off the VMACs, as keepalived 2.2.7 does it (observed
in a namespace).

A VMAC joins the VRRP group, so the kernel sends IGMP / MLD membership reports from it,
with the virtual MAC as their source, on the backup as well: a learning switch then sends
the virtual MAC's traffic to the backup. keepalived keeps those reports off the VMACs
with nftables, and fastka does the same: tables ``ip fastka`` and ``ip6 fastka`` (the
``dup`` statement has no inet form; the no_accept table is ``inet fastka``) hold a map
from each VMAC to its parent and an output chain just before the filter priority:

- IGMP leaving by a VMAC is sent by its parent instead (``dup to <daddr> device <parent>``,
  the original dropped): the reports carry the parent's MAC;
- MLD version 2 reports likewise;
- router solicitations from a VMAC are dropped.

``disable_local_igmp`` (global_defs) sets ``net.ipv4.igmp_link_local_mcast_reports`` to
0 while fastka runs (no reports at all for 224.0.0.0/24 groups; restored at stop), and
then, as keepalived, no IGMP rule is made.

The tables are written again (``nft -f -``) only when the set of VMACs or a parent's
index changes: at start, after a reload or a refresh that changes them, after a VMAC is
made again. ipvlans share their parent's MAC and get no rules. Without the ``nft`` tool
the error is logged once and fastka runs on without the rules.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Sequence

from .no_accept import MISSING, run_nft

log = logging.getLogger("fastka.vrrp")

TABLE = "fastka"
SYSCTL = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports"
# both tables deleted, whether they are there or not (one nft transaction: all or nothing)
_DELETE = "".join(f"table {f} {TABLE}\ndelete table {f} {TABLE}\n" for f in ("ip", "ip6"))


def ruleset(pairs: list[tuple[str, str]], igmp: bool) -> str:
    """The two tables for (VMAC, parent) name pairs."""
    elements = ", ".join(f'"{v}" : "{p}"' for v, p in pairs)
    names = ", ".join(f'"{v}"' for v, _ in pairs)
    out = []
    for fam, rules in (("ip", ['ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmacs drop']
                        if igmp else []),
                       ("ip6", ['icmpv6 type mld2-listener-report meta oifkind "macvlan" '
                                'dup to ip6 daddr device oif map @vmacs drop',
                                'icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop'])):
        if not rules:
            continue
        out.append(f"table {fam} {TABLE} {{\n"
                   f"  map vmacs {{ type iface_index : iface_index; elements = {{ {elements} }}; }}\n"
                   + (f"  set vmac_set {{ type iface_index; elements = {{ {names} }}; }}\n" if fam == "ip6" else "")
                   + "  chain out { type filter hook output priority filter - 1; policy accept;\n"
                   + "".join(f"    {r}\n" for r in rules) + "  }\n}\n")
    return "".join(out)


class VmacFilter:
    """The tables for the engine's VMACs (``links`` says which they are now) and those a
    reload in preparation has made (``pending`` until it commits or is dropped:
    ``settled``). A reload's loader thread and the loop both write: one lock."""

    def __init__(self, config: Any, links: Callable[[], list[Any]]) -> None:
        gd = getattr(config, "global_defs", None)
        self.local_igmp_off = bool(gd is not None and gd.disable_local_igmp)
        self._links = links
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._made: tuple = ()  # what the tables were last written for
        self._old_sysctl: Optional[str] = None
        self._no_nft = False
        self._stopped = False  # stop(): no more writes (a reload's loader thread may still try)

    def start(self) -> None:
        if not self.local_igmp_off:
            return
        try:
            with open(SYSCTL) as f:
                self._old_sysctl = f.read().strip()
            with open(SYSCTL, "w") as f:
                f.write("0")
            log.info("disable_local_igmp: no IGMP reports for 224.0.0.0/24 groups while fastka runs")
        except OSError as e:
            log.warning("disable_local_igmp: cannot set %s: %s", SYSCTL, e.strerror)

    def pending(self, links: list[Any]) -> None:
        """A reload made these (still down): in the tables until settled."""
        with self._lock:
            self._pending.update((v.name, v) for v in links)
        self.sync(links)

    def settled(self, links: list[Any]) -> None:
        """A reload committed these (the engine's now) or removed them."""
        with self._lock:
            for v in links:
                self._pending.pop(v.name, None)
        self.sync()

    def sync(self, coming: Sequence[Any] = ()) -> None:
        """Write the tables for the VMACs there are (and ``coming``, about to come up), if
        they changed since the last write that went in. A VMAC deleted and not made
        again yet is left out (nft resolves each name when it loads the table)."""
        with self._lock:
            if self._stopped:
                return
            every = {v.name: v for v in [*self._links(), *self._pending.values(), *coming]}
            now = {v.name for v in coming}  # made again: still marked lost until it is up
            made = tuple(sorted((v.name, v.ifindex, v.parent_name, v.parent) for v in every.values()
                                if v.kind == "macvlan" and v.ifindex and (not v.lost or v.name in now)))
            if made == self._made:
                return
            pairs = [(v, p) for v, _, p, _ in made]
            script = _DELETE + (ruleset(pairs, igmp=not self.local_igmp_off) if pairs else "")
            if not self._nft(script):
                return  # tried again at the next sync
            self._made = made
        if pairs:
            log.info("VMACs: IGMP / MLD reports of %d VMACs leave by their parents (nftables tables ip / ip6 %s)",
                     len(pairs), TABLE)

    def _nft(self, script: str) -> bool:
        err = run_nft(script)
        if err == MISSING and not self._no_nft:
            log.error("VMACs: %s: IGMP / MLD reports leave the VMACs with the virtual MAC", err)
        elif err is not None and err != MISSING:
            log.error("VMACs: nft refused the IGMP / MLD rules: %s", err)
        self._no_nft = err == MISSING
        return err is None

    def stop(self, keep_rules: bool = False) -> None:
        """Delete the tables (kept with the VMACs under -V) and put the sysctl back."""
        with self._lock:
            self._stopped = True
            if self._made and not keep_rules:
                self._nft(_DELETE)
                self._made = ()
        if self._old_sysctl is not None:
            try:
                with open(SYSCTL, "w") as f:
                    f.write(self._old_sysctl)
            except OSError as e:
                log.warning("disable_local_igmp: cannot restore %s: %s", SYSCTL, e.strerror)
            self._old_sysctl = None
