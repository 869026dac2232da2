"""Semantic checks of the LVS part of the model.

Runs after :func:`model_lvs.apply_defaults`, so effective values are filled; whether
the user wrote a keyword is ``name in obj._pos``. Every problem is reported, with the
position of the keyword (or of the block) it is about. Errors are what keepalived
refuses or silently drops (a real server of the wrong family, a checker with nothing
to connect to); warnings are what keepalived corrects or ignores with a log line.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import socket
from typing import Any, Iterable, Optional

from .model_lvs import (
    SCHEDULERS,
    Checker,
    ConnChecker,
    FileCheck,
    HttpGetCheck,
    MiscCheck,
    RealServer,
    SmtpCheck,
    UdpCheck,
    VirtualServer,
    VirtualServerGroup,
    _ConnOpts,
    family_of,
)
from .source import Diagnostics

_MD5 = re.compile(r"[0-9A-Fa-f]{32}\Z")


def validate_lvs(config: Any, diags: Diagnostics, *, check_system: bool = False) -> None:
    groups = _check_groups(getattr(config, "virtual_server_groups", []), diags)
    seen: dict[tuple[Any, ...], VirtualServer] = {}
    for vs in getattr(config, "virtual_servers", []):
        group = None
        if vs.group is not None:
            group = groups.get(vs.group)
            if group is None:
                close = difflib.get_close_matches(vs.group, list(groups), n=1, cutoff=0.6)
                diags.error(f"virtual_server group '{vs.group}': no virtual_server_group '{vs.group}' is defined",
                            vs.pos_of(), hint=f"did you mean '{close[0]}'?" if close else None)
        key = _vs_key(vs)
        first = seen.get(key)
        if first is not None:
            diags.error(f"virtual_server {vs.label} is defined again{_proto(vs)}; the first is at {first.pos_of()}",
                        vs.pos_of())
        else:
            seen[key] = vs
        _check_vs(vs, group, diags, check_system)


# --- virtual_server_group -----------------------------------------------------------------


def _check_groups(groups: Iterable[VirtualServerGroup], diags: Diagnostics) -> dict[str, VirtualServerGroup]:
    out: dict[str, VirtualServerGroup] = {}
    for g in groups:
        if g.name in out:
            diags.error(f"virtual_server_group '{g.name}' is defined again; the first is at {out[g.name].pos_of()}",
                        g.pos_of())
            continue
        out[g.name] = g
        if not g.entries:
            diags.warning(f"virtual_server_group '{g.name}' has no entries; keepalived removes it", g.pos_of())
            continue
        fams = {e.version for e in g.entries if e.ip is not None}
        if len(fams) > 1 and any(e.fwmark is not None and e.family is None for e in g.entries):
            e = next(e for e in g.entries if e.fwmark is not None and e.family is None)
            diags.error(f"virtual_server_group '{g.name}' has IPv4 and IPv6 addresses, so its fwmark "
                        f"{e.fwmark} needs a family", e.pos or g.pos_of(), expected="fwmark <INTEGER> inet|inet6")
        seen: dict[tuple[Any, ...], Any] = {}
        for e in g.entries:
            k = (e.ip, e.last, e.prefixlen, e.port, e.fwmark, e.family)
            if k in seen:
                diags.warning(f"virtual_server_group '{g.name}': entry is given twice", e.pos or g.pos_of())
            seen[k] = e
    return out


# --- virtual_server -------------------------------------------------------------------------


def _vs_key(vs: VirtualServer) -> tuple[Any, ...]:
    if vs.fwmark is not None:
        return ("fwmark", vs.fwmark, vs.ip_family)
    if vs.group is not None:
        return ("group", vs.group, vs.protocol)
    return ("ip", vs.ip, vs.port, vs.protocol)


def _proto(vs: VirtualServer) -> str:
    return f" (protocol {vs.protocol})" if vs.protocol and vs.fwmark is None else ""


def _family_name(v: int) -> str:
    return f"IPv{v}"


def _is_tun(obj: Any) -> bool:
    m = getattr(obj, "lvs_method", None)
    return m is not None and m.method == "TUN"


def _vs_family(vs: VirtualServer, group: Optional[VirtualServerGroup]) -> Optional[int]:
    """The family real/sorry servers that are not tunnelled must have, when one is fixed."""
    if vs.ip is not None:
        return family_of(vs.ip)
    if vs.ip_family is not None:
        return 6 if vs.ip_family == "inet6" else 4
    if group is not None:
        fams = group.families
        return next(iter(fams)) if len(fams) == 1 else None
    return None


def _check_vs(vs: VirtualServer, group: Optional[VirtualServerGroup], diags: Diagnostics,
              check_system: bool) -> None:
    label = f"virtual_server {vs.label}"
    fam = _vs_family(vs, group)

    if vs.protocol is not None and not vs.given("protocol"):
        diags.warning(f"{label} has no protocol; keepalived defaults to {vs.protocol}, and so does fastka",
                      vs.pos_of(), hint="add 'protocol TCP' for a TCP service")

    if vs.ip is not None and vs.ip_family is not None:
        want = 6 if vs.ip_family == "inet6" else 4
        if want != fam:
            diags.error(f"ip_family {vs.ip_family} conflicts with the {_family_name(fam or 4)} address "
                        f"of {label}", vs.pos_of("ip_family"))

    # families of the servers: only tunnelled servers may differ (keepalived.conf(5))
    mixed_group = group is not None and len(group.families) > 1
    # (keyword, server): the label and position are made only for a server reported
    servers: list[tuple[str, Any]] = [("real_server", rs) for rs in vs.real_servers]
    if vs.sorry_server is not None:
        servers.insert(0, ("sorry_server", _SorryView(vs)))
    if fam is None and vs.fwmark is not None:  # fwmark: the first non-tunnelled server fixes it
        fam = next((family_of(o.ip) for _, o in servers if not _is_tun(o)), None)
    for kind, obj in servers:
        if _is_tun(obj):
            continue
        if not mixed_group and (fam is None or family_of(obj.ip) == fam):
            continue
        what = f"{kind} {obj.ip}"
        pos = vs.pos_of("sorry_server") if kind == "sorry_server" else obj.pos_of()
        if mixed_group:
            assert group is not None
            diags.error(f"{what} is not tunnelled, but virtual_server_group '{group.name}' mixes IPv4 and "
                        f"IPv6 addresses", pos, hint="only tunnelled (lvs_method TUN) servers can serve both")
        else:
            assert fam is not None
            diags.error(f"{what} is {_family_name(family_of(obj.ip))} but {label} is {_family_name(fam)}", pos,
                        hint="only tunnelled (lvs_method TUN) servers may differ in address family")

    _check_granularity(vs, fam, diags)
    _check_sched(vs, diags)
    _check_flags(vs, group, diags)
    _check_quorum(vs, diags)
    _check_sorry(vs, diags)

    seen: dict[tuple[str, Optional[int]], RealServer] = {}
    for rs in vs.real_servers:
        k = (rs.ip, rs.port)
        if k in seen:
            port = f" {rs.port}" if rs.port is not None else ""
            diags.error(f"real_server {rs.ip}{port} is given twice in {label}; the first is at "
                        f"{seen[k].pos_of()}", rs.pos_of())
        else:
            seen[k] = rs
        _check_rs_port(vs, rs, diags)
        for ch in rs.checkers:
            _check_checker(rs, ch, diags, check_system)
        for b in rs.bfd_checks:
            if b.name is None:
                diags.error("BFD_CHECK has no name", b.pos_of(), expected="name <STRING>")


class _SorryView:
    def __init__(self, vs: VirtualServer):
        assert vs.sorry_server is not None
        self.ip = vs.sorry_server.ip
        self.lvs_method = vs.sorry_server_lvs_method or vs.lvs_method


def _check_granularity(vs: VirtualServer, fam: Optional[int], diags: Diagnostics) -> None:
    g = vs.persistence_granularity
    if g is None:
        return
    pos = vs.pos_of("persistence_granularity")
    if fam is None:
        fam = 4 if "." in g else 6  # keepalived decides the same way
    if fam == 6:
        if not (g.isdigit() and 1 <= int(g) <= 128):
            diags.error(f"persistence_granularity '{g}' is not a valid IPv6 prefix length", pos,
                        expected="an integer from 1 to 128")
        return
    try:
        mask = int(ipaddress.IPv4Address(g))
    except ValueError:
        mask = -1
    # a netmask is ones then zeros: its complement + 1 is a power of two
    inv = ~mask & 0xFFFFFFFF
    if mask <= 0 or inv & (inv + 1):
        diags.error(f"persistence_granularity '{g}' is not a valid IPv4 netmask", pos,
                    expected="a contiguous netmask such as 255.255.255.0")


def _check_sched(vs: VirtualServer, diags: Diagnostics) -> None:
    if vs.lvs_sched is not None and vs.lvs_sched not in SCHEDULERS:
        diags.warning(f"lvs_sched '{vs.lvs_sched}' is not a known IPVS scheduler", vs.pos_of("lvs_sched"),
                      expected="one of " + "|".join(SCHEDULERS),
                      hint="the kernel needs an ip_vs_<name> module for it")


def _check_flags(vs: VirtualServer, group: Optional[VirtualServerGroup], diags: Diagnostics) -> None:
    for name, word, sched in (("sh_port", "sh-port", "sh"), ("sh_fallback", "sh-fallback", "sh"),
                              ("mh_port", "mh-port", "mh"), ("mh_fallback", "mh-fallback", "mh")):
        if getattr(vs, name) and vs.lvs_sched != sched:
            diags.warning(f"'{word}' only applies to the {sched} scheduler; keepalived ignores it with "
                          f"lvs_sched {vs.lvs_sched}", vs.pos_of(name))
    fwmark_only = vs.fwmark is not None or (group is not None and not group.has_addresses and bool(group.entries))
    if vs.ha_suspend and vs.fwmark is not None:
        diags.warning("ha_suspend cannot be used with a fwmark virtual_server; keepalived clears it",
                      vs.pos_of("ha_suspend"))
    if fwmark_only and "protocol" in vs._pos:
        diags.warning("protocol is ignored for a fwmark virtual_server", vs.pos_of("protocol"))
    if vs.ops and vs.protocol != "UDP":
        diags.warning("ops (one-packet scheduling) needs protocol UDP; keepalived turns it off",
                      vs.pos_of("ops"))
    if vs.ip is not None and not vs.port and "persistence_timeout" not in vs._pos \
            and "persistence_granularity" not in vs._pos:
        diags.warning(f"virtual_server {vs.label} has no port, which is only valid for a persistent service; "
                      f"keepalived makes it persistent (persistence_timeout {vs.persistence_timeout})",
                      vs.pos_of())


def _check_quorum(vs: VirtualServer, diags: Diagnostics) -> None:
    quorum = vs.quorum if vs.quorum is not None else 1
    total = sum(rs.weight or 0 for rs in vs.real_servers)
    if quorum > total:
        diags.warning(f"quorum {quorum} exceeds the total weight {total} of the real servers of "
                      f"virtual_server {vs.label}; keepalived lowers the quorum to {total}", vs.pos_of("quorum"))
        quorum = total
    if vs.hysteresis is not None and vs.hysteresis and vs.hysteresis >= quorum:
        diags.warning(f"hysteresis {vs.hysteresis} is not below quorum {quorum}; keepalived uses hysteresis "
                      f"{max(quorum - 1, 0)}", vs.pos_of("hysteresis"))


def _check_sorry(vs: VirtualServer, diags: Diagnostics) -> None:
    if vs.sorry_server is None:
        for name, word in (("sorry_server_inhibit", "sorry_server_inhibit"),
                           ("sorry_server_lvs_method", "sorry_server_lvs_method")):
            if name in vs._pos:
                diags.warning(f"{word} without sorry_server is ignored", vs.pos_of(name))
        return
    p_inh, p_srv = vs._pos.get("sorry_server_inhibit"), vs._pos.get("sorry_server")
    if p_inh is not None and p_srv is not None and p_inh.file == p_srv.file and p_inh.line < p_srv.line:
        diags.warning("sorry_server_inhibit before sorry_server is ignored by keepalived", p_inh,
                      hint="move it after sorry_server")


def _check_rs_port(vs: VirtualServer, rs: RealServer, diags: Diagnostics) -> None:
    if rs.lvs_method is None or rs.lvs_method.method == "NAT" or not rs.port:
        return
    if vs.fwmark is not None:
        diags.warning(f"real_server {rs.ip} has a port, which is ignored with lvs_method "
                      f"{rs.lvs_method.method} on a fwmark virtual_server", rs.pos_of())
    elif vs.ip is not None and vs.port and rs.port != vs.port:
        diags.warning(f"real_server {rs.ip} port {rs.port} differs from virtual_server port {vs.port}; "
                      f"with lvs_method {rs.lvs_method.method} keepalived uses port {vs.port}", rs.pos_of())


# --- checkers ---------------------------------------------------------------------------------


def _check_checker(rs: RealServer, ch: Any, diags: Diagnostics, check_system: bool) -> None:
    kind = type(ch).KEYWORD
    if isinstance(ch, Checker):
        _deprecated_alias(ch, "retry", "nb_get_retry", "retry", diags)
    if isinstance(ch, SmtpCheck) and ch.hosts:
        diags.warning("the SMTP_CHECK host block is deprecated in keepalived", ch.pos_of("hosts"),
                      hint="define one SMTP_CHECK per host instead")
        for h in ch.hosts:
            _check_conn(rs, h, kind, diags, check_system)
    elif isinstance(ch, ConnChecker):
        _check_conn(rs, ch, kind, diags, check_system)
    if isinstance(ch, HttpGetCheck):
        if not ch.urls:
            diags.error(f"{kind} has no url", ch.pos_of(), expected="url { path <STRING> ... }")
        for url in ch.urls:
            if url.path is None:
                diags.error("url has no path", url.pos_of(), expected="path <STRING>")
            if url.digest is not None and not _MD5.match(url.digest):
                diags.error(f"digest '{url.digest}' is not an MD5 digest", url.pos_of("digest"),
                            expected="32 hexadecimal digits, as genhash prints")
            for lo, hi in url.status_code or ():
                bad = lo if not 100 <= lo <= 599 else hi if not 100 <= hi <= 599 else None
                if bad is not None:
                    diags.error(f"status_code {bad} is not an HTTP status code", url.pos_of("status_code"),
                                expected="codes or ranges from 100 to 599")
                    break
            if (url.regex_min_offset is not None and url.regex_max_offset is not None
                    and url.regex_min_offset > url.regex_max_offset):
                diags.error(f"regex_min_offset {url.regex_min_offset} is beyond regex_max_offset "
                            f"{url.regex_max_offset}", url.pos_of("regex_min_offset"))
    elif isinstance(ch, MiscCheck):
        if ch.misc_path is None and not ch.given("misc_path"):
            diags.error("MISC_CHECK has no misc_path", ch.pos_of(), expected="misc_path <STRING>|<QUOTED-STRING>")
    elif isinstance(ch, UdpCheck):
        rmin, rmax = ch.min_reply_length, ch.max_reply_length
        if rmin is not None and rmax is not None and rmin > rmax:
            diags.warning(f"min_reply_length {rmin} > max_reply_length {rmax}: the check will always fail",
                          ch.pos_of("min_reply_length"))
    elif isinstance(ch, FileCheck):
        if ch.track_file is None:
            diags.error("FILE_CHECK has no track_file", ch.pos_of(), expected="track_file <STRING>")


def _check_conn(rs: RealServer, co: _ConnOpts, kind: str, diags: Diagnostics, check_system: bool) -> None:
    if getattr(type(co), "NEEDS_PORT", False) and not co.connect_port:
        what = "host" if kind == "SMTP_CHECK" and type(co).__name__ == "SmtpHost" else kind
        diags.error(f"{what} of real_server {rs.ip} has no port to connect to", co.pos_of(),
                    hint="set connect_port, or give the real_server a port")
    ip, src = co.connect_ip, co.bindto
    if ip is not None and src is not None and family_of(ip) != family_of(src):
        diags.error(f"bindto {co.bindto} is not the same address family as connect_ip {co.connect_ip}",
                    co.pos_of("bindto"))
    if ip is not None and ":" in ip and ipaddress.IPv6Address(ip).is_link_local and not co.bind_if:
        diags.error(f"connect_ip {co.connect_ip} is link-local, which needs bind_if",
                    co.pos_of("connect_ip"), expected="bind_if <IFNAME>")
    if check_system and co.bind_if:
        try:
            socket.if_nametoindex(co.bind_if)
        except OSError:
            diags.error(f"bind_if: no interface '{co.bind_if}' on this system", co.pos_of("bind_if"))


def _deprecated_alias(obj: Any, name: str, alias: str, canonical: str, diags: Diagnostics) -> None:
    """Warn when ``name`` was written with a deprecated alias (found from the source line)."""
    pos = obj._pos.get(name)
    if pos is None:
        return
    src = diags.source_line(pos.file, pos.line)
    if src is None:
        return
    word = src[pos.col - 1:].split(None, 1)
    if word and word[0] == alias:
        diags.warning(f"'{alias}' is deprecated in keepalived; use '{canonical}'", pos)
