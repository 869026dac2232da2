"""The load-balancing half of the model: virtual_server(_group), real_server, checkers.

Field order is the order ``fastka -d`` writes keywords in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .schema import Block, HeaderType, kw, positions, sub
from .source import Token
from .values import BadValue, Flag, Float, Int, Script, Str, parse_int, parse_ip


class AddrPortHeader(HeaderType):
    """``real_server <IPADDR> [<PORT>]``."""

    expected = "<IPADDR> [<PORT>]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        ip = parse_ip(args[0])
        port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535") if len(args) > 1 else None
        return {"ip": str(ip), "port": port}

    def format(self, value: Any) -> list[str]:
        return [value.ip] + ([str(value.port)] if value.port is not None else [])


class VirtualServerHeader(HeaderType):
    """``virtual_server <IPADDR> [<PORT>] | fwmark <INTEGER> | group <STRING>``."""

    expected = "<IPADDR> [<PORT>] | fwmark <INTEGER> | group <STRING>"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        first = args[0].text
        if first == "fwmark":
            if len(args) < 2:
                raise BadValue("'fwmark' needs a mark", args[0], "fwmark <INTEGER>")
            return {"fwmark": parse_int(args[1], 1, 2**32 - 1, base0=True, expected="a mark from 1 to 4294967295")}
        if first == "group":
            if len(args) < 2:
                raise BadValue("'group' needs a name", args[0], "group <STRING>")
            return {"group": args[1].text}
        ip = parse_ip(args[0], expected=self.expected)
        port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535") if len(args) > 1 else None
        return {"ip": str(ip), "port": port}

    def format(self, value: Any) -> list[str]:
        if value.fwmark is not None:
            return ["fwmark", str(value.fwmark)]
        if value.group is not None:
            return ["group", value.group]
        return [value.ip] + ([str(value.port)] if value.port is not None else [])


@dataclass
class Checker(Block):
    """Options every checker shares."""

    connect_ip: Optional[str] = kw("connect_ip", Str())
    connect_port: Optional[int] = kw("connect_port", Int(0, 65535))
    connect_timeout: Optional[float] = kw("connect_timeout", Float(0.0))
    retry: Optional[int] = kw("retry", Int(0), aliases=("nb_get_retry",))
    delay_before_retry: Optional[float] = kw("delay_before_retry", Float(0.0))
    delay_loop: Optional[float] = kw("delay_loop", Float(0.0))
    _pos: dict = positions()


@dataclass
class TcpCheck(Checker):
    pass


CHECKERS: dict[str, Any] = {"TCP_CHECK": TcpCheck}


@dataclass
class RealServer(Block):
    ip: str
    port: Optional[int] = None
    weight: Optional[int] = kw("weight", Int(0, 65535))
    inhibit_on_failure: Optional[bool] = kw("inhibit_on_failure", Flag())
    notify_up: Optional[tuple[str, ...]] = kw("notify_up", Script())
    notify_down: Optional[tuple[str, ...]] = kw("notify_down", Script())
    checkers: list[Checker] = sub("checker", CHECKERS, multi=True)
    _pos: dict = positions()

    HEADER = ("ip", "port")


@dataclass
class VirtualServer(Block):
    ip: Optional[str] = None
    port: Optional[int] = None
    fwmark: Optional[int] = None
    group: Optional[str] = None
    lvs_sched: Optional[str] = kw("lvs_sched", Str(), aliases=("lb_algo",))
    delay_loop: Optional[float] = kw("delay_loop", Float(0.0))
    real_servers: list[RealServer] = sub("real_server", RealServer, header=AddrPortHeader(), multi=True)
    _pos: dict = positions()

    HEADER = ("ip", "port", "fwmark", "group")


@dataclass
class VirtualServerGroup(Block):
    name: str
    _pos: dict = positions()


def apply_defaults(config: Any) -> None:
    """Fill effective values: keepalived's defaults and the virtual_server -> real_server
    -> checker cascade."""
