"""static_ipaddress, static_routes and static_rules: set up for as long as fastka runs.

keepalived.conf(5): "These addresses, routes and rules are NOT moved by vrrpd, they
stay on the machine." fastka adds them at start (addresses, then routes, then rules,
in one netlink batch with the first VIP work) and removes them at stop in the reverse
order (kept with ``--dont-release-vrrp``, as keepalived 2.2.7 does for its rules;
observed by the engineer who added static_rules). An address without ``dev`` goes on
global_defs ``default_interface`` (keepalived's default: eth0). An address that is
already there, a route that already exists are not errors (EEXIST is ignored for
them as for VIPs); the delete of one that is gone is quiet.

A static address someone else deletes is added again (``Engine._addresses_gone``), as
keepalived 2.2.7 does (observed); so is a static route (of protocol keepalived) or rule
when some static line has a ``track_group`` (then ``restore_keys`` / ``restore_adds``).
All of them are added again when one of their interfaces comes up. A track group's
instances follow its statics' interfaces (``tracking.static_devs``). A route whose table
name iproute2's files do not know is left out (reported at start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import netlink
from .instance import route_left_out, route_of, route_unsupported, vip_address
from .rules import Preferences, pack_rules, rule_of
from .rules import unsupported as rule_unsupported

DEFAULT_INTERFACE = "eth0"

Batch = tuple  # (netlink op, bytes, seqs)


@dataclass
class Static:
    adds: list[Batch] = field(default_factory=list)
    removes: list[Batch] = field(default_factory=list)  # in removal order
    words: dict[int, str] = field(default_factory=dict)  # seq -> what the request does
    addresses: list[netlink.Address] = field(default_factory=list)  # static_ipaddress, resolved
    # the routes and rules added again when deleted (when some static line has a
    # track_group: build): netlink.route_key / ("rule", family, priority) -> kind
    restore_keys: dict[tuple, str] = field(default_factory=dict)
    restore_adds: dict[str, Batch] = field(default_factory=dict)  # "route" / "rule" -> their add requests

    def __bool__(self) -> bool:
        return bool(self.adds)


def unsupported(config: Any) -> list[str]:
    """Lines for engine.not_implemented_uses."""
    out = []
    for r in getattr(config, "static_routes", ()):
        extra = route_unsupported(r)
        if extra:
            out.append(f"static_routes: options {', '.join(extra)} (route {r.dest} is set up without them)")
        why = route_left_out(r)
        if why:
            out.append(f"static_routes: names iproute2's files do not know: {why} (route {r.dest} is left out)")
    for r in getattr(config, "static_rules", ()):
        extra = rule_unsupported(r)
        if extra:
            out.append(f"static_rules: names iproute2's files do not know: {', '.join(extra)} (the rule is left out)")
    return out


def build(config: Any, first_seq: int, prefs: Preferences) -> tuple[Optional[Static], int]:
    """The prebuilt requests of the configuration's static entries, and the next free seq."""
    gd = getattr(config, "global_defs", None)
    default_dev = (gd.default_interface if gd is not None else None) or DEFAULT_INTERFACE
    addrs = list(getattr(config, "static_ipaddress", ()))
    routes = [r for r in getattr(config, "static_routes", ()) if not route_left_out(r)]
    default_index = netlink.ifindex(default_dev) if any(a.dev is None for a in addrs) else 0
    addresses = [vip_address(a, default_index, default_dev) for a in addrs]
    groups: list[tuple[str, int, int, Callable[..., tuple[bytes, list[int]]], list, list[str]]] = [
        ("address", netlink.RTM_NEWADDR, netlink.RTM_DELADDR, netlink.pack_addresses, addresses,
         [a.address for a in addrs]),
        ("route", netlink.RTM_NEWROUTE, netlink.RTM_DELROUTE, netlink.pack_routes, [route_of(r) for r in routes],
         [r.dest for r in routes]),
    ]
    rule_lines = [r for r in getattr(config, "static_rules", ()) if not rule_unsupported(r)]
    rules = [rule_of(r, prefs) for r in rule_lines]
    groups.append(("rule", netlink.RTM_NEWRULE, netlink.RTM_DELRULE, pack_rules, rules,
                   [r.describe() for r in rules]))
    out = Static(addresses=addresses)
    seq = first_seq
    # keepalived 2.2.7 (observed): with a track_group on some static line, every static
    # route or rule deleted is added again; with none, none is
    followed = any(x.track_group for x in [*addrs, *routes, *rule_lines])
    for kind, add_op, del_op, pack, items, names in groups:
        if not items:
            continue
        add, seqs_add = pack(add_op, items, seq)
        seq += len(seqs_add)
        rm, seqs_rm = pack(del_op, items, seq)
        seq += len(seqs_rm)
        out.adds.append((add_op, add, seqs_add))
        out.removes.insert(0, (del_op, rm, seqs_rm))
        out.words.update({s: f"adding static {kind} {n}" for s, n in zip(seqs_add, names, strict=True)})
        out.words.update({s: f"removing static {kind} {n}" for s, n in zip(seqs_rm, names, strict=True)})
        if kind != "address" and followed:
            out.restore_adds[kind] = (add_op, add, seqs_add)
            # a deleted route is heard only if its protocol is keepalived (the socket's filter)
            out.restore_keys.update({(netlink.route_key(x) if kind == "route" else ("rule", x.family, x.priority)):
                                     kind for x in items
                                     if kind == "rule" or x.protocol == netlink.RTPROT_KEEPALIVED})
    return (out if out else None), seq
