"""no_accept (RFC 9568 Accept_Mode false; keepalived's default under vrrp_strict): a
master that does not own its addresses must not accept packets sent to them.

Linux delivers a packet to any local address, so keepalived adds firewall rules; with
nftables (2.2.7, observed in a namespace) a table ``keepalived`` whose input chain
drops packets to a set of VIPs and whose output chain drops packets from them, hooked
just before the filter priority. fastka does the same in its own table ``fastka``
(family inet: IPv4 and IPv6 in one table), made at start by ``nft -f -`` and deleted
at stop. The sets hold every VIP of the instances with no_accept (not the owners,
priority 255, which accept by definition) for as long as fastka runs: a backup does
not have the addresses, so the rules only bite on the master, and a failover changes
no firewall state (nothing to do on the hot path).

Without the ``nft`` tool (Debian: nftables) the error is logged at start and the VIPs
accept traffic, as the rest of fastka runs on.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from typing import Any, Optional

log = logging.getLogger("fastka.vrrp")

TABLE = "fastka"
MISSING = "the nft tool (nftables) is missing"


def run_nft(script: str) -> Optional[str]:
    """``nft -f -`` with script: None if it went in (one transaction), else why not
    (MISSING, or nft's complaint)."""
    nft = shutil.which("nft")
    if nft is None:
        return MISSING
    p = subprocess.run([nft, "-f", "-"], input=script, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return p.stderr.strip() or f"exit status {p.returncode}"
    return None


def vips(config: Any) -> tuple[list[str], list[str]]:
    """The IPv4 and IPv6 VIPs of the instances that must not accept."""
    v4: list[str] = []
    v6: list[str] = []
    for inst in getattr(config, "vrrp_instances", []):
        if not inst.no_accept or inst.priority == 255:
            continue
        for v in [*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded]:
            (v6 if ":" in v.address else v4).append(v.address)
    return sorted(set(v4)), sorted(set(v6))


def ruleset(v4: list[str], v6: list[str]) -> str:
    def one_set(name: str, kind: str, addrs: list[str]) -> str:
        elements = f" elements = {{ {', '.join(addrs)} }};" if addrs else ""
        return f"  set {name} {{ type {kind};{elements} }}\n"

    return (f"table inet {TABLE} {{\n"
            + one_set("vips4", "ipv4_addr", v4) + one_set("vips6", "ipv6_addr", v6)
            + "  chain in { type filter hook input priority filter - 1; policy accept;\n"
              "    ip daddr @vips4 drop\n    ip6 daddr @vips6 drop\n  }\n"
            + "  chain out { type filter hook output priority filter - 1; policy accept;\n"
              "    ip saddr @vips4 drop\n    ip6 saddr @vips6 drop\n  }\n}\n")


class NoAccept:
    def __init__(self, config: Any) -> None:
        self.v4, self.v6 = vips(config)
        self.active = False

    @property
    def wanted(self) -> bool:
        return bool(self.v4 or self.v6)

    def _nft(self, script: str) -> bool:
        err = run_nft(script)
        if err == MISSING:
            log.error("no_accept: %s: the VIPs of no_accept instances accept packets", err)
        elif err is not None:
            log.error("no_accept: nft refused the rules: %s", err)
        return err is None

    def start(self) -> None:
        """Make the table (replacing one a killed fastka left behind)."""
        if not self.wanted:
            return
        script = f"table inet {TABLE}\ndelete table inet {TABLE}\n" + ruleset(self.v4, self.v6)
        self.active = self._nft(script)
        if self.active:
            log.info("no_accept: packets to and from %d VIPs dropped on this node (nftables table inet %s)",
                     len(self.v4) + len(self.v6), TABLE)

    def update(self, v4: list[str], v6: list[str]) -> None:
        """A reload: the sets become v4 / v6 (the table made, replaced or deleted)."""
        if (v4, v6) == (self.v4, self.v6):
            return
        self.v4, self.v6 = v4, v6
        if self.wanted:
            self.start()
        else:
            self.stop()

    def stop(self) -> None:
        if self.active:
            self._nft(f"delete table inet {TABLE}\n")
            self.active = False
