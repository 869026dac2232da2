"""The VRRP half of the model: vrrp_script, vrrp_sync_group, vrrp_instance and friends.

Field order is the order ``fastka -d`` writes keywords in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .schema import Block, HeaderType, Support, kw, lines, positions, sub
from .source import Token
from .values import (
    IP,
    BadValue,
    Choice,
    Flag,
    Float,
    Int,
    Script,
    Str,
    ValueType,
    Words,
    parse_int,
    parse_ip,
    parse_prefix,
    quote,
)


class NameHeader(HeaderType):
    """``keyword NAME {``: the block's name."""

    expected = "a name"

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        return {"name": args[0].text}

    def format(self, value: Any) -> list[str]:
        return [quote(value.name)]


# --- virtual_ipaddress lines ---------------------------------------------------


@dataclass
class VirtualIP:
    """One line of virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress."""

    address: str  # the address as written, without prefix
    prefixlen: int
    brd: Optional[str] = None
    dev: Optional[str] = None
    scope: Optional[str] = None
    label: Optional[str] = None
    peer: Optional[str] = None
    home: bool = False
    nodad: bool = False
    mngtmpaddr: bool = False
    noprefixroute: bool = False
    autojoin: bool = False
    no_track: bool = False
    use_vmac: bool = False
    preferred_lft: Optional[str] = None
    track_group: Optional[str] = None

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4


SCOPES = ("site", "link", "host", "nowhere", "global")
_VIP_FLAGS = {"home": "home", "-nodad": "nodad", "mngtmpaddr": "mngtmpaddr", "noprefixroute": "noprefixroute",
              "autojoin": "autojoin", "no_track": "no_track", "use_vmac": "use_vmac"}
_VIP_OPTS = {"brd": "brd", "broadcast": "brd", "dev": "dev", "scope": "scope", "label": "label", "peer": "peer",
             "preferred_lft": "preferred_lft", "track_group": "track_group"}


class VirtualIPLine(ValueType):
    expected = ("<IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] "
                "[peer <IPADDR>] [home] [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] "
                "[use_vmac] [preferred_lft nn|forever] [track_group <NAME>]")
    max_args = None

    def parse(self, args: Sequence[Token]) -> VirtualIP:
        addr, plen = parse_prefix(args[0], "an IP address with optional /prefix")
        vip = VirtualIP(str(addr), plen)
        i = 1
        while i < len(args):
            word = args[i].text
            if word in _VIP_FLAGS:
                setattr(vip, _VIP_FLAGS[word], True)
                i += 1
                continue
            name = _VIP_OPTS.get(word)
            if name is None:
                raise BadValue(f"unknown virtual_ipaddress option '{word}'", args[i], self.expected)
            if i + 1 >= len(args):
                raise BadValue(f"'{word}' needs a value", args[i], self.expected)
            val = args[i + 1]
            if name in ("brd", "peer"):
                if name == "brd" and val.text == "+":
                    setattr(vip, name, "+")
                else:
                    setattr(vip, name, str(parse_ip(val)))
            elif name == "scope":
                if val.text not in SCOPES and not val.text.isdigit():
                    raise BadValue(f"'{val.text}' is not a scope", val, "one of " + "|".join(SCOPES))
                vip.scope = val.text
            elif name == "preferred_lft":
                if val.text != "forever":
                    parse_int(val, 0, 2**32 - 1, expected="a number of seconds or 'forever'")
                vip.preferred_lft = val.text
            else:
                setattr(vip, name, val.text)
            i += 2
        return vip

    def format(self, value: Any) -> list[str]:
        v: VirtualIP = value
        out = [f"{v.address}/{v.prefixlen}"]
        for opt in ("brd", "dev", "scope", "label", "peer", "preferred_lft", "track_group"):
            x = getattr(v, opt)
            if x is not None:
                out += [opt, quote(x)]
        for word, attr in _VIP_FLAGS.items():
            if getattr(v, attr):
                out.append(word)
        return out


# --- authentication ------------------------------------------------------------


@dataclass
class Authentication(Block):
    auth_type: Optional[str] = kw("auth_type", Choice(("PASS", "AH")))
    auth_pass: Optional[str] = kw("auth_pass", Str())
    _pos: dict = positions()


# --- track_script lines ---------------------------------------------------------


@dataclass
class TrackRef:
    """``NAME [weight N [reverse]]`` in track_script / track_interface / track_file ..."""

    name: str
    weight: Optional[int] = None
    reverse: bool = False


class TrackLine(ValueType):
    expected = "<NAME> [weight <-254..254> [reverse]]"
    max_args = 4

    def parse(self, args: Sequence[Token]) -> TrackRef:
        ref = TrackRef(args[0].text)
        i = 1
        while i < len(args):
            w = args[i].text
            if w == "weight" and i + 1 < len(args):
                ref.weight = parse_int(args[i + 1], -254, 254, expected="a weight from -254 to 254")
                i += 2
            elif w == "reverse":
                ref.reverse = True
                i += 1
            else:
                raise BadValue(f"unexpected '{w}'", args[i], self.expected)
        return ref

    def format(self, value: Any) -> list[str]:
        out = [quote(value.name)]
        if value.weight is not None:
            out += ["weight", str(value.weight)]
        if value.reverse:
            out.append("reverse")
        return out


# --- vrrp_instance ----------------------------------------------------------------


@dataclass
class VrrpInstance(Block):
    name: str
    state: Optional[str] = kw("state", Choice(("MASTER", "BACKUP")))
    interface: Optional[str] = kw("interface", Str())
    virtual_router_id: Optional[int] = kw("virtual_router_id", Int(1, 255))
    priority: Optional[int] = kw("priority", Int(1, 255))
    advert_int: Optional[float] = kw("advert_int", Float(0.0, 255.0))
    version: Optional[int] = kw("version", Int(2, 3))
    nopreempt: bool = kw("nopreempt", Flag(), False)
    preempt_delay: Optional[float] = kw("preempt_delay", Float(0.0, 1000.0))
    authentication: Optional[Authentication] = sub("authentication", Authentication)
    virtual_ipaddress: list[VirtualIP] = lines("virtual_ipaddress", VirtualIPLine())
    virtual_ipaddress_excluded: list[VirtualIP] = lines("virtual_ipaddress_excluded", VirtualIPLine())
    track_script: list[TrackRef] = lines("track_script", TrackLine())
    notify_master: Optional[tuple[str, ...]] = kw("notify_master", Script())
    unicast_src_ip: Optional[Any] = kw("unicast_src_ip", IP())
    _pos: dict = positions()

    HEADER = ("name",)


@dataclass
class VrrpSyncGroup(Block):
    name: str
    group: list[str] = lines("group", Str(), per_word=True)
    smtp_alert: bool = kw("smtp_alert", Flag(), False)
    _pos: dict = positions()


@dataclass
class VrrpScript(Block):
    name: str
    script: Optional[tuple[str, ...]] = kw("script", Script())
    interval: Optional[float] = kw("interval", Float(0.0))
    weight: Optional[tuple[str, ...]] = kw("weight", Words())
    _pos: dict = positions()


@dataclass
class GlobalDefs(Block):
    router_id: Optional[str] = kw("router_id", Str())
    notification_email: list[str] = lines("notification_email", Str(), per_word=True)
    notification_email_from: Optional[str] = kw("notification_email_from", Str())
    smtp_server: Optional[tuple[str, ...]] = kw("smtp_server", Words())
    smtp_connect_timeout: Optional[int] = kw("smtp_connect_timeout", Int(1))
    vrrp_strict: bool = kw("vrrp_strict", Flag(), False)
    enable_snmp_vrrp: bool = kw("enable_snmp_vrrp", Flag(), False, support=Support.PARSED,
                                note="fastka has no SNMP agent; see `fastka status` and metrics")
    _pos: dict = positions()


def apply_defaults(config: Any) -> None:
    """Fill effective values where keepalived documents a default."""
