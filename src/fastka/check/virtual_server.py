"""What a virtual server's pool should be, given which real servers are alive.

keepalived.conf(5) is the spec:

- a real server is alive when every one of its checkers is up (one with no checker
  is always alive); a checker with ``alpha`` starts down, the others up;
- an alive real server is in the pool with its weight (a dynamic weight from
  ``misc_dynamic`` or a dynamic ``FILE_CHECK`` replaces the configured one); a dead
  one leaves the pool, or stays with weight 0 under ``inhibit_on_failure``;
- quorum: the sum of the alive servers' weights against ``quorum``, with
  ``hysteresis`` as a flap dampener: quorum is lost when the sum falls below
  ``quorum - hysteresis`` and gained when it reaches ``quorum + hysteresis``; at
  start it is up when the sum reaches ``quorum``. ``quorum_up`` / ``quorum_down``
  run on the change;
- with a ``sorry_server``, losing quorum brings every real server down (removed, or
  weight 0 under ``inhibit_on_failure``) and puts the sorry server (weight 1) in the
  pool; regaining it reverses that (``sorry_server_inhibit``: the sorry server stays
  with weight 0 instead of leaving);
- ``notify_up`` / ``notify_down`` run when a real server changes; with ``omega`` the
  down notifiers also run at shutdown.

:class:`VirtualServerState` holds that state for one ``virtual_server`` block and
answers :meth:`~VirtualServerState.wanted` (the destinations of each kernel service);
the IPVS manager turns the difference into netlink requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Hashable, Optional

from .ipvs_table import DestKey, Service, Dest, dest_key, real_dest, services_of, sorry_dest

log = logging.getLogger("fastka.check")


@dataclass
class RealServerState:
    model: Any
    checkers: dict[Hashable, bool] = field(default_factory=dict)
    dynamic_weight: Optional[int] = None

    @property
    def alive(self) -> bool:
        return all(self.checkers.values())

    @property
    def weight(self) -> int:
        return self.dynamic_weight if self.dynamic_weight is not None else self.model.weight

    @property
    def label(self) -> str:
        ip = self.model.ip
        host = f"[{ip}]" if ":" in ip else ip
        return f"{host}:{self.model.port or 0}"


@dataclass
class Event:
    """Something an operator hears about: a script to run and a line to log."""

    what: str  # "rs_up", "rs_down", "rs_weight", "quorum_up", "quorum_down"
    message: str
    script: Optional[tuple[str, ...]] = None
    smtp: bool = False  # an SMTP alert is wanted (smtp_alert of the real / virtual server)
    subject: str = ""  # what the alert is about: "[10.0.0.2]:tcp:80"
    reason: str = ""


class VirtualServerState:
    def __init__(self, vs: Any, groups: dict[str, Any]) -> None:
        self.vs = vs
        self.services: list[Service] = services_of(vs, groups)
        self.servers = [RealServerState(rs) for rs in vs.real_servers]
        self.quorum_up = True
        #: the same virtual server in two configurations (a reload); made once (asked
        #: for per checker, and formatting the label is not free)
        self.vs_key: tuple = (vs.label, vs.protocol)

    @property
    def label(self) -> str:
        return f"virtual server {self.vs.label}"

    def add_checker(self, index: int, key: Hashable, up: bool) -> None:
        """Register checker key of real server index, starting up (or down, with alpha)."""
        self.servers[index].checkers[key] = up

    def start(self) -> list[Event]:
        """Decide the starting quorum (no hysteresis at start)."""
        self.quorum_up = self.alive_weight() >= self.vs.quorum
        if not self.quorum_up:
            return [Event("quorum_down", f"{self.label}: quorum not reached at start "
                          f"({self.alive_weight()} < {self.vs.quorum})", self.vs.quorum_down)]
        return []

    def alive_weight(self) -> int:
        return sum(s.weight for s in self.servers if s.alive)

    def checker_changed(self, index: int, key: Hashable, up: bool,
                        weight: Optional[int] = None, reason: str = "") -> list[Event]:
        """A checker of real server index went up or down (or its dynamic weight
        changed). Returns what happened; the pool to apply is :meth:`wanted`."""
        rs = self.servers[index]
        was_alive, was_weight = rs.alive, rs.weight
        rs.checkers[key] = up
        if weight is not None:
            rs.dynamic_weight = weight
        events: list[Event] = []
        if rs.alive != was_alive:
            alert: dict[str, Any] = dict(smtp=bool(rs.model.smtp_alert),
                                         subject=self.service_text(rs.model.ip, rs.model.port), reason=reason)
            if rs.alive:
                events.append(Event("rs_up", f"Adding service {rs.label} to VS {self.vs.label}",
                                    rs.model.notify_up, **alert))
            else:
                verb = "Inhibiting" if rs.model.inhibit_on_failure else "Removing"
                events.append(Event("rs_down", f"{verb} service {rs.label} from VS {self.vs.label}",
                                    rs.model.notify_down, **alert))
        elif rs.alive and rs.weight != was_weight:
            events.append(Event("rs_weight", f"Weight of {rs.label} in VS {self.vs.label} "
                                f"{was_weight} -> {rs.weight}"))
        events.extend(self.update_quorum())
        return events

    def update_quorum(self) -> list[Event]:
        """Quorum gained or lost with the current alive weight."""
        total, q, h = self.alive_weight(), self.vs.quorum, self.vs.hysteresis
        if self.quorum_up and total < q - h:
            self.quorum_up = False
            sorry = ", adding sorry server" if self.vs.sorry_server is not None else ""
            return [Event("quorum_down", f"{self.label}: lost quorum {total}-{h} < {q}{sorry}",
                          self.vs.quorum_down, **self._vs_alert())]
        if not self.quorum_up and total >= q + h:
            self.quorum_up = True
            sorry = ", removing sorry server" if self.vs.sorry_server is not None else ""
            return [Event("quorum_up", f"{self.label}: gained quorum {total}+{h} >= {q}{sorry}",
                          self.vs.quorum_up, **self._vs_alert())]
        return []

    def service_text(self, ip: Optional[str], port: Optional[int]) -> str:
        """keepalived's way of naming a service in alerts: ``[10.0.0.2]:tcp:80``."""
        proto = (self.vs.protocol or "tcp").lower()
        if ip is None:
            return f"FWM {self.vs.fwmark}" if self.vs.fwmark is not None else f"group {self.vs.group}"
        return f"[{ip}]:{proto}:{port or 0}"

    def _vs_alert(self) -> dict:
        return dict(smtp=bool(self.vs.smtp_alert), subject=self.service_text(self.vs.ip, self.vs.port))

    def wanted(self, svc: Service) -> dict[DestKey, Dest]:
        """The destinations service svc (one of self.services) should have now."""
        out: dict[DestKey, Dest] = {}
        sorry_mode = self.vs.sorry_server is not None and not self.quorum_up
        for s in self.servers:
            if s.alive and not sorry_mode:
                d = real_dest(s.model, svc, s.weight)
            elif s.model.inhibit_on_failure:
                d = real_dest(s.model, svc, 0)
            else:
                continue
            out[dest_key(d)] = d
        if self.vs.sorry_server is not None:
            if sorry_mode:
                d = sorry_dest(self.vs, svc)
            elif self.vs.sorry_server_inhibit:
                d = sorry_dest(self.vs, svc, 0)
            else:
                return out
            out[dest_key(d)] = d  # a sorry server that is also a real server: the sorry role wins
        return out

    def shutdown_events(self) -> list[Event]:
        """With omega: the down notifiers of alive servers and, if quorum was up, quorum_down."""
        if not self.vs.omega:
            return []
        out = [Event("rs_down", f"Removing service {s.label} from VS {self.vs.label} (shutdown)",
                     s.model.notify_down) for s in self.servers if s.alive]
        if self.quorum_up:
            out.append(Event("quorum_down", f"{self.label}: shutting down", self.vs.quorum_down))
        return out
