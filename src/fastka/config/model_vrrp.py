"""The VRRP half of the model: vrrp_script, track_file, vrrp_track_process,
bfd_instance, garp_group, vrrp_sync_group, vrrp_instance, and the value types of
their line formats (virtual_ipaddress, virtual_routes, virtual_rules, unicast_peer,
track_* lists), which the static_* blocks of `model_global.py` share.

Field order is the order ``fastka -d`` writes keywords in (the man page's order).
Fields are ``None`` (flags ``False``) unless written, so the dump shows what the
user wrote; :func:`apply_defaults` then fills the effective values the VRRP daemon
needs, the way keepalived 2.2.7 derives them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from .schema import Block, HeaderType, Support, kw, lines, positions, sub
from .source import Pos, Token
from .values import (
    IP,
    IPV4_TEXT,
    BadValue,
    Bare,
    Command,
    Choice,
    Flag,
    Int,
    Script,
    Str,
    Timer,
    ValueType,
    Words,
    parse_int,
    parse_ip,
    parse_prefix,
    quote,
)

UINT32 = 2**32 - 1
IFNAMSIZ = 15  # longest Linux interface name

# ---------------------------------------------------------------------------
# Value types shared by the VRRP and global model


class PosStr(str):
    """A name as written (an instance, script or interface name) that remembers where
    it was written; it compares, hashes and dumps as the plain string."""

    pos: Optional[Pos]

    def __new__(cls, text: str, pos: Optional[Pos] = None) -> "PosStr":
        s = super().__new__(cls, text)
        s.pos = pos
        return s


class NameHeader(HeaderType):
    """``keyword NAME {``: the block's name."""

    expected = "a name"

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        return {"name": PosStr(args[0].text, args[0].pos)}

    def format(self, value: Any) -> list[str]:
        return [quote(value.name)]


class Name(ValueType):
    """One word naming something defined elsewhere (an instance, an interface)."""

    expected = "a name"

    def parse(self, args: Sequence[Token]) -> PosStr:
        return PosStr(args[0].text, args[0].pos)


class IfName(Name):
    expected = f"an interface name (at most {IFNAMSIZ} characters)"

    def parse(self, args: Sequence[Token]) -> PosStr:
        return PosStr(check_ifname(args[0]), args[0].pos)


def check_ifname(tok: Token) -> str:
    t = tok.text
    if not t or len(t) > IFNAMSIZ or "/" in t or t in (".", ".."):
        raise BadValue(f"'{t}' is not a valid interface name", tok, f"an interface name of 1 to {IFNAMSIZ} characters")
    return t








class OptChoice(ValueType):
    """``keyword [CHOICE]``: the keyword alone gives ``bare`` (dumped as the bare keyword)."""

    min_args = 0

    def __init__(self, choices: tuple[str, ...], bare: str):
        self.choices = choices
        self.bare = bare

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "nothing, or one of " + "|".join(self.choices)

    def parse(self, args: Sequence[Token]) -> str:
        if not args:
            return self.bare
        return Choice(self.choices).parse(args)

    def format(self, value: Any) -> list[str]:
        return [] if value == self.bare else [value]


class OptWords(ValueType):
    """``keyword [WORD ...]`` with ``min_args`` to ``max_args`` words: a tuple (``()`` when bare)."""

    def __init__(self, max_args: Optional[int], expected: str, min_args: int = 0):
        self.min_args = min_args
        self.max_args = max_args
        self.expected = expected

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(w) for w in value]


class OptInt(ValueType):
    """``keyword [N]``: the keyword alone gives ``bare``."""

    min_args = 0

    def __init__(self, lo: int, hi: int, bare: int):
        self.lo, self.hi, self.bare = lo, hi, bare
        self.expected = f"nothing, or an integer from {lo} to {hi}"

    def parse(self, args: Sequence[Token]) -> int:
        if not args:
            return self.bare
        return parse_int(args[0], self.lo, self.hi, expected=self.expected)


class IntList(ValueType):
    """``keyword N [N ...]`` (a CPU list): a tuple of integers."""

    max_args = None

    def __init__(self, lo: int, hi: Optional[int], expected: str):
        self.lo, self.hi, self.expected = lo, hi, expected

    def parse(self, args: Sequence[Token]) -> tuple[int, ...]:
        return tuple(parse_int(t, self.lo, self.hi, expected=self.expected) for t in args)

    def format(self, value: Any) -> list[str]:
        return [str(v) for v in value]


def parse_c_int(tok: Token, lo: int, hi: int, expected: str) -> int:
    """An integer the way C's strtoul(s, NULL, 0) reads it: 0x.. hex, 0.. octal."""
    t = tok.text
    try:
        if re.fullmatch(r"[+-]?0[0-7]+", t):
            v = int(t, 8)
        else:
            v = int(t, 0)
    except ValueError:
        raise BadValue(f"'{t}' is not an integer", tok, expected) from None
    if not lo <= v <= hi:
        raise BadValue(f"{t} is out of range", tok, expected)
    return v


@dataclass
class Weight:
    """``weight N [reverse]`` of a vrrp_script, track_file, vrrp_track_process, bfd_instance."""

    value: int
    reverse: bool = False


class WeightType(ValueType):
    max_args = 2

    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.expected = f"<{lo}..{hi}> [reverse]"

    def parse(self, args: Sequence[Token]) -> Weight:
        w = Weight(parse_int(args[0], self.lo, self.hi, expected=self.expected))
        if len(args) > 1:
            if args[1].text != "reverse":
                raise BadValue(f"unexpected '{args[1].text}'", args[1], self.expected)
            w.reverse = True
        return w

    def format(self, value: Any) -> list[str]:
        return [str(value.value)] + (["reverse"] if value.reverse else [])


def _take(args: Sequence[Token], i: int, expected: str) -> Token:
    """The value after option ``args[i]``."""
    if i + 1 >= len(args):
        raise BadValue(f"'{args[i].text}' needs a value", args[i], expected)
    return args[i + 1]


# ---------------------------------------------------------------------------
# virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress lines


@dataclass
class VirtualIP:
    """One line of virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress."""

    address: str  # the address as written, without prefix
    prefixlen: int
    brd: Optional[str] = None  # an address, or '+' / '-' (set / clear the host bits)
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
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4


SCOPES = ("site", "link", "host", "nowhere", "global")
_IPV4_PREFIX = re.compile(rf"({IPV4_TEXT})(?:/([0-9]{{1,2}}))?\Z")
_VIP_FLAGS = {"home": "home", "-nodad": "nodad", "mngtmpaddr": "mngtmpaddr", "noprefixroute": "noprefixroute",
              "autojoin": "autojoin", "no_track": "no_track", "use_vmac": "use_vmac"}
_VIP_OPTS = {"brd": "brd", "broadcast": "brd", "dev": "dev", "scope": "scope", "label": "label", "peer": "peer",
             "preferred_lft": "preferred_lft", "track_group": "track_group"}


def parse_scope(tok: Token) -> str:
    t = tok.text
    if t in SCOPES:
        return t
    if t.isdigit() and int(t) <= 255:
        return t
    raise BadValue(f"'{t}' is not a scope", tok, "one of " + "|".join(SCOPES) + " or a number from 0 to 255")


class VirtualIPLine(ValueType):
    expected = ("<IPADDR>[/<MASK>] [brd <IPADDR>|+|-] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] "
                "[peer <IPADDR>] [home] [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] "
                "[use_vmac] [preferred_lft nn|forever] [track_group <NAME>]")
    max_args = None

    def parse(self, args: Sequence[Token]) -> VirtualIP:
        head = args[0]
        m = _IPV4_PREFIX.match(head.text)
        if m is not None and (m[2] is None or int(m[2]) <= 32):
            # the common case: dotted quad (canonical as written), optional /len
            version = 4
            vip = VirtualIP(m[1], int(m[2]) if m[2] is not None else 32, pos=head.pos)
        else:
            addr, plen = parse_prefix(head, "an IP address with optional /prefix")
            version = addr.version
            vip = VirtualIP(str(addr), plen, pos=head.pos)
        if len(args) == 1:
            return vip
        return self._options(args, vip, version)

    def _options(self, args: Sequence[Token], vip: VirtualIP, version: int) -> VirtualIP:
        plen = vip.prefixlen
        seen: set[str] = set()
        i = 1
        while i < len(args):
            word = args[i].text
            attr = _VIP_FLAGS.get(word) or _VIP_OPTS.get(word)
            if attr is None:
                raise BadValue(f"unknown address option '{word}'", args[i], self.expected)
            if attr in seen:
                raise BadValue(f"'{word}' is given twice", args[i], self.expected)
            seen.add(attr)
            if word in _VIP_FLAGS:
                setattr(vip, attr, True)
                i += 1
                continue
            val = _take(args, i, self.expected)
            if attr == "brd":
                if val.text in ("+", "-"):
                    vip.brd = val.text
                else:
                    vip.brd = str(parse_ip(val, version, f"an IPv{version} address, '+' or '-'"))
                if version == 6:
                    raise BadValue("IPv6 addresses have no broadcast address", args[i], self.expected)
            elif attr == "peer":
                vip.peer = str(parse_ip(val, version, f"an IPv{version} address"))
            elif attr == "scope":
                vip.scope = parse_scope(val)
            elif attr == "preferred_lft":
                if val.text != "forever":
                    parse_int(val, 0, UINT32, expected="a number of seconds or 'forever'")
                vip.preferred_lft = val.text
            elif attr == "dev":
                vip.dev = check_ifname(val)
            else:
                setattr(vip, attr, val.text)
            i += 2
        if vip.peer is not None:
            if plen != (32 if version == 4 else 128):
                raise BadValue("an address with a peer takes no prefix length", args[0],
                               "<IPADDR> peer <IPADDR> (the prefix is implied by the peer)")
            if vip.brd is not None:
                raise BadValue("an address with a peer has no broadcast address", args[0], self.expected)
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


# ---------------------------------------------------------------------------
# virtual_routes / static_routes lines

ROUTE_TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole",
               "nat", "anycast")
# metrics that take an optional 'lock' before their value: name -> "int" | "time" | "word"
ROUTE_METRICS = {"mtu": "int", "advmss": "int", "rtt": "time", "rttvar": "time", "reordering": "int",
                 "window": "int", "cwnd": "int", "ssthresh": "int", "rto_min": "time", "initcwnd": "int",
                 "initrwnd": "int", "hoplimit": "int", "congctl": "word"}
_TIME_RE = re.compile(r"\d+(\.\d+)?(s|sec|secs|ms|msec|msecs)?")


@dataclass
class Nexthop:
    """``nexthop [via ADDR] [dev IF] [weight N] [onlink]`` of a multipath route."""

    via: Optional[str] = None
    dev: Optional[str] = None
    weight: Optional[int] = None
    onlink: bool = False

    def words(self) -> list[str]:
        out = ["nexthop"]
        if self.via is not None:
            out += ["via", self.via]
        if self.dev is not None:
            out += ["dev", quote(self.dev)]
        if self.weight is not None:
            out += ["weight", str(self.weight)]
        if self.onlink:
            out.append("onlink")
        return out


@dataclass
class Route:
    """One line of virtual_routes / static_routes (the ``ip route add`` syntax)."""

    dest: str  # "ADDR/LEN" or "default"
    type: Optional[str] = None  # blackhole, unreachable, prohibit, throw, ... (None: unicast)
    src: Optional[str] = None
    via: Optional[str] = None
    or_via: Optional[str] = None  # 'or ADDR': deprecated in keepalived for nexthop
    dev: Optional[str] = None
    onlink: bool = False
    scope: Optional[str] = None
    table: Optional[Union[int, str]] = None
    metric: Optional[int] = None  # also written priority / preference
    tos: Optional[int] = None  # also written dsfield
    protocol: Optional[Union[int, str]] = None
    mtu: Optional[int] = None
    advmss: Optional[int] = None
    rtt: Optional[str] = None  # TIME, as ip-route(8): N, Ns, Nms
    rttvar: Optional[str] = None
    reordering: Optional[int] = None
    window: Optional[int] = None
    cwnd: Optional[int] = None
    ssthresh: Optional[int] = None
    rto_min: Optional[str] = None
    initcwnd: Optional[int] = None
    initrwnd: Optional[int] = None
    hoplimit: Optional[int] = None
    congctl: Optional[str] = None
    locked: tuple[str, ...] = ()  # the metrics written with 'lock', in ROUTE_METRICS order
    features_ecn: bool = False
    quickack: Optional[int] = None
    fastopen_no_cookie: Optional[int] = None
    pref: Optional[str] = None  # IPv6 only: low|medium|high
    expires: Optional[int] = None  # IPv6 only
    realms: Optional[str] = None  # [FROM/]TO
    vrf: Optional[str] = None
    ttl_propagate: Optional[str] = None  # enabled|disabled
    nexthops: list[Nexthop] = field(default_factory=list)
    append: bool = False
    no_track: bool = False
    track_group: Optional[str] = None
    inet6: bool = False
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> int:
        if self.dest == "default":
            return 6 if self.inet6 else 4
        return 6 if ":" in self.dest else 4


def parse_table(tok: Token) -> Union[int, str]:
    t = tok.text
    if t.isdigit():
        return parse_int(tok, 0, UINT32, expected="a table number or name")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", t):
        raise BadValue(f"'{t}' is not a routing table", tok, "a table number (0 to 4294967295) or name")
    return t


def parse_proto_name(tok: Token, what: str) -> Union[int, str]:
    t = tok.text
    if t.isdigit():
        return parse_int(tok, 0, 255, expected=f"a {what} number from 0 to 255 or name")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", t):
        raise BadValue(f"'{t}' is not a {what}", tok, f"a {what} number from 0 to 255 or name")
    return t


def parse_realms(tok: Token) -> str:
    parts = tok.text.split("/")
    if len(parts) > 2 or not all(re.fullmatch(r"[A-Za-z0-9_.-]+", p) for p in parts):
        raise BadValue(f"'{tok.text}' is not a realm", tok, "[FROM/]TO, each a realm number or name")
    for p in parts:
        if p[:1].isdigit():
            parse_c_int(Token(p, tok.pos), 0, 255, "a realm number from 0 to 255")
    return tok.text


def _dest(tok: Token, expected: str) -> str:
    if tok.text == "default":
        return "default"
    a, n = parse_prefix(tok, expected)
    return f"{a}/{n}"


class RouteLine(ValueType):
    expected = ("[TYPE] [src <IPADDR>] [to] <IPADDR>[/<MASK>] [via|gw <IPADDR>] [or <IPADDR>] [dev <STRING>] "
                "[onlink] [scope <SCOPE>] [table <TABLE>] [metric N] [tos N] [protocol P] [mtu|advmss|rtt|... "
                "[lock] V] [features ecn] [quickack 0|1] [fastopen_no_cookie 0|1] [pref low|medium|high] "
                "[expires N] [realms [FROM/]TO] [vrf NAME] [ttl-propagate enabled|disabled] "
                "[nexthop via <IPADDR> dev <STRING> weight N onlink ...] [append] [no_track] "
                "[track_group NAME] [inet6]")
    max_args = None

    def parse(self, args: Sequence[Token]) -> Route:
        exp = self.expected
        r = Route("", pos=args[0].pos)
        dest: Optional[Token] = None
        seen: dict[str, Token] = {}
        locked: set[str] = set()
        i = 0
        if args[0].text in ROUTE_TYPES:
            r.type = args[0].text
            i = 1
        while i < len(args):
            tok = args[i]
            w = tok.text
            key = {"gw": "via", "priority": "metric", "preference": "metric", "dsfield": "tos"}.get(w, w)
            if key in seen and key not in ("nexthop",):
                raise BadValue(f"'{w}' is given twice", tok, exp)
            if key in ("to",) or (key not in _ROUTE_WORDS and dest is None and key != "nexthop"):
                if dest is not None:
                    raise BadValue(f"a second destination '{w}'", tok, exp)
                if key == "to":
                    tok = _take(args, i, exp)
                    i += 1
                dest = tok
                r.dest = _dest(tok, "a destination ADDR[/LEN] or 'default'")
                seen["to"] = tok
                i += 1
                continue
            if key not in _ROUTE_WORDS:
                raise BadValue(f"unknown route option '{w}'", tok, exp)
            seen[key] = tok
            if key in ("onlink", "append", "no_track", "inet6"):
                setattr(r, key, True)
                i += 1
                continue
            if key == "features":
                val = _take(args, i, exp)
                if val.text != "ecn":
                    raise BadValue(f"unknown route feature '{val.text}'", val, "ecn")
                r.features_ecn = True
                i += 2
                continue
            if key == "nexthop":
                i = self._nexthop(args, i + 1, r)
                if i < len(args) and args[i].text != "nexthop":
                    raise BadValue(f"'{args[i].text}' after the nexthops: route options come before them",
                                   args[i], "<ROUTE> [options] nexthop ... [nexthop ...]")
                continue
            if key in ROUTE_METRICS:
                val = _take(args, i, exp)
                if val.text == "lock":
                    locked.add(key)
                    i += 1
                    val = _take(args, i, exp)
                setattr(r, key, self._metric(key, val))
                i += 2
                continue
            val = _take(args, i, exp)
            if key in ("src", "via", "or"):
                j = i + 1
                if key == "via" and val.text in ("inet", "inet6"):
                    j += 1
                    val = _take(args, i + 1, exp)
                a = str(parse_ip(val))
                setattr(r, "or_via" if key == "or" else key, a)
                i = j + 1
                continue
            if key == "dev":
                r.dev = check_ifname(val)
            elif key == "scope":
                r.scope = parse_scope(val)
            elif key == "table":
                r.table = parse_table(val)
            elif key == "metric":
                r.metric = parse_int(val, 0, UINT32, expected="a metric from 0 to 4294967295")
            elif key == "tos":
                r.tos = parse_c_int(val, 0, 255, "a TOS from 0 to 255")
            elif key == "protocol":
                r.protocol = parse_proto_name(val, "protocol")
            elif key in ("quickack", "fastopen_no_cookie"):
                setattr(r, key, parse_int(val, 0, 1, expected="0 or 1"))
            elif key == "pref":
                if val.text not in ("low", "medium", "high"):
                    raise BadValue(f"'{val.text}' is not a route preference", val, "one of low|medium|high")
                r.pref = val.text
            elif key == "expires":
                r.expires = parse_int(val, 0, UINT32, expected="a number of seconds")
            elif key == "realms":
                r.realms = parse_realms(val)
            elif key == "vrf":
                r.vrf = check_ifname(val)
            elif key == "ttl-propagate":
                if val.text not in ("enabled", "disabled"):
                    raise BadValue(f"'{val.text}' is not valid here", val, "enabled|disabled")
                r.ttl_propagate = val.text
            elif key == "track_group":
                r.track_group = val.text
            i += 2
        if dest is None:
            raise BadValue("the route has no destination", args[0], exp)
        r.locked = tuple(m for m in ROUTE_METRICS if m in locked)
        fam = r.family
        if r.inet6 and r.dest != "default" and fam == 4:
            raise BadValue("inet6 is given for an IPv4 route", seen["inet6"], "an IPv6 destination with inet6")
        if r.dest == "default" and r.inet6:
            fam = 6
        if r.src is not None and ipaddress.ip_address(r.src).version != fam:
            raise BadValue(f"src {r.src} is not an IPv{fam} address like the destination", seen["src"],
                           f"an IPv{fam} address")
        for opt in ("pref", "expires"):
            if getattr(r, opt) is not None and fam != 6:
                raise BadValue(f"'{opt}' is only valid for IPv6 routes", seen[opt], exp)
        if r.type in ("blackhole", "unreachable", "prohibit", "throw") and (r.via or r.nexthops or r.or_via):
            raise BadValue(f"a {r.type} route has no gateway", seen.get("via") or seen.get("nexthop") or args[0],
                           f"{r.type} <IPADDR>/<MASK> without via/nexthop")
        return r

    @staticmethod
    def _metric(key: str, val: Token) -> Any:
        kind = ROUTE_METRICS[key]
        if kind == "int":
            return parse_int(val, 0, UINT32, expected=f"a {key} value (integer)")
        if kind == "time":
            if not _TIME_RE.fullmatch(val.text):
                raise BadValue(f"'{val.text}' is not a time", val, "a time: N (raw), Ns or Nms")
            return val.text
        return val.text

    def _nexthop(self, args: Sequence[Token], i: int, r: Route) -> int:
        nh = Nexthop()
        exp = "nexthop [via <IPADDR>] [dev <STRING>] [weight 1..256] [onlink]"
        start = i
        while i < len(args):
            w = args[i].text
            if w == "via" or w == "gw":
                val = _take(args, i, exp)
                if val.text in ("inet", "inet6"):
                    i += 1
                    val = _take(args, i, exp)
                nh.via = str(parse_ip(val))
                i += 2
            elif w == "dev":
                nh.dev = check_ifname(_take(args, i, exp))
                i += 2
            elif w == "weight":
                nh.weight = parse_int(_take(args, i, exp), 1, 256, expected="a weight from 1 to 256")
                i += 2
            elif w == "onlink":
                nh.onlink = True
                i += 1
            else:
                break
        if i == start:
            raise BadValue("'nexthop' needs a gateway or device", args[start - 1], exp)
        r.nexthops.append(nh)
        return i

    def format(self, value: Any) -> list[str]:
        r: Route = value
        out: list[str] = []
        if r.type:
            out.append(r.type)
        out.append(r.dest)
        for opt, word in (("src", "src"), ("via", "via"), ("or_via", "or"), ("dev", "dev")):
            v = getattr(r, opt)
            if v is not None:
                out += [word, quote(v)]
        if r.onlink:
            out.append("onlink")
        for opt in ("scope", "table", "metric", "tos", "protocol"):
            v = getattr(r, opt)
            if v is not None:
                out += [opt, quote(str(v))]
        for m in ROUTE_METRICS:
            v = getattr(r, m)
            if v is not None:
                out += [m] + (["lock"] if m in r.locked else []) + [quote(str(v))]
        if r.features_ecn:
            out += ["features", "ecn"]
        for opt, word in (("quickack", "quickack"), ("fastopen_no_cookie", "fastopen_no_cookie"),
                          ("pref", "pref"), ("expires", "expires"), ("realms", "realms"), ("vrf", "vrf"),
                          ("ttl_propagate", "ttl-propagate")):
            v = getattr(r, opt)
            if v is not None:
                out += [word, quote(str(v))]
        for flag in ("append", "no_track"):
            if getattr(r, flag):
                out.append(flag)
        if r.track_group is not None:
            out += ["track_group", quote(r.track_group)]
        if r.inet6:
            out.append("inet6")
        for nh in r.nexthops:
            out += nh.words()
        return out


_ROUTE_WORDS = {"src", "to", "via", "or", "dev", "onlink", "scope", "table", "metric", "tos", "protocol",
                *ROUTE_METRICS, "features", "quickack", "fastopen_no_cookie", "pref", "expires", "realms", "vrf",
                "ttl-propagate", "nexthop", "append", "no_track", "track_group", "inet6"}


# ---------------------------------------------------------------------------
# virtual_rules / static_rules lines

RULE_ACTIONS = ("blackhole", "unreachable", "prohibit", "nop")


@dataclass
class Rule:
    """One line of virtual_rules / static_rules (the ``ip rule add`` syntax)."""

    from_: Optional[str] = None  # "ADDR/LEN" or "all"
    to: Optional[str] = None
    invert: bool = False  # 'not'
    table: Optional[Union[int, str]] = None  # also written lookup
    goto: Optional[int] = None
    action: Optional[str] = None  # blackhole|unreachable|prohibit|nop
    preference: Optional[int] = None  # also written priority / order
    tos: Optional[int] = None  # also written dsfield
    fwmark: Optional[int] = None
    fwmask: Optional[int] = None
    realms: Optional[str] = None
    iif: Optional[str] = None
    oif: Optional[str] = None
    suppress_prefixlength: Optional[int] = None
    suppress_ifgroup: Optional[str] = None
    l3mdev: bool = False
    uidrange: Optional[tuple[int, int]] = None
    protocol: Optional[int] = None
    ipproto: Optional[str] = None  # also written ip_proto
    sport: Optional[tuple[int, int]] = None
    dport: Optional[tuple[int, int]] = None
    no_track: bool = False
    track_group: Optional[str] = None
    inet6: bool = False
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> int:
        for a in (self.from_, self.to):
            if a and a != "all" and ":" in a:
                return 6
        return 6 if self.inet6 else 4


_RULE_ALIASES = {"lookup": "table", "priority": "preference", "order": "preference", "dsfield": "tos",
                 "ip_proto": "ipproto"}
_RULE_WORDS = {"from", "to", "not", "table", "goto", "preference", "tos", "fwmark", "realms", "iif", "oif",
               "suppress_prefixlength", "suppress_ifgroup", "l3mdev", "uidrange", "protocol", "ipproto", "sport",
               "dport", "no_track", "track_group", "inet6", *RULE_ACTIONS}


def parse_range(tok: Token, lo: int, hi: int, what: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", tok.text)
    expected = f"a {what} N or N-M, from {lo} to {hi}"
    if not m:
        raise BadValue(f"'{tok.text}' is not a {what}", tok, expected)
    a = int(m.group(1))
    b = int(m.group(2)) if m.group(2) is not None else a
    if not (lo <= a <= hi and lo <= b <= hi):
        raise BadValue(f"{tok.text} is out of range", tok, expected)
    if a > b:
        raise BadValue(f"'{tok.text}': the start of the range is above its end", tok, expected)
    return a, b


class RuleLine(ValueType):
    expected = ("[not] [from <PREFIX>|all] [to <PREFIX>|all] [iif <IF>] [oif <IF>] [tos N] [fwmark N[/MASK]] "
                "[realms [FROM/]TO] [preference N] [table <TABLE>|goto N|blackhole|unreachable|prohibit|nop] "
                "[suppress_prefixlength N] [suppress_ifgroup G] [l3mdev] [uidrange A-B] [protocol N] "
                "[ipproto P] [sport A[-B]] [dport A[-B]] [no_track] [track_group NAME] [inet6]")
    max_args = None

    def parse(self, args: Sequence[Token]) -> Rule:
        exp = self.expected
        r = Rule(pos=args[0].pos)
        seen: dict[str, Token] = {}
        i = 0
        while i < len(args):
            tok = args[i]
            key = _RULE_ALIASES.get(tok.text, tok.text)
            if key not in _RULE_WORDS:
                raise BadValue(f"unknown rule option '{tok.text}'", tok, exp)
            slot = "action" if key in RULE_ACTIONS else key
            if slot in seen:
                raise BadValue(f"'{tok.text}' is given twice", tok, exp)
            seen[slot] = tok
            if key in RULE_ACTIONS:
                r.action = key
                i += 1
                continue
            if key in ("not", "l3mdev", "no_track", "inet6"):
                setattr(r, "invert" if key == "not" else key, True)
                i += 1
                continue
            val = _take(args, i, exp)
            if key in ("from", "to"):
                v = "all" if val.text == "all" else _dest_prefix(val)
                setattr(r, "from_" if key == "from" else "to", v)
            elif key in ("iif", "oif"):
                setattr(r, key, check_ifname(val))
            elif key == "table":
                r.table = parse_table(val)
            elif key == "goto":
                r.goto = parse_int(val, 1, UINT32, expected="a rule preference to go to")
            elif key == "preference":
                r.preference = parse_int(val, 0, UINT32, expected="a preference from 0 to 4294967295")
            elif key == "tos":
                r.tos = parse_c_int(val, 0, 255, "a TOS from 0 to 255")
            elif key == "fwmark":
                mark, _, mask = val.text.partition("/")
                r.fwmark = parse_c_int(Token(mark, val.pos), 0, UINT32, "MARK[/MASK], each up to 0xffffffff")
                if mask:
                    r.fwmask = parse_c_int(Token(mask, val.pos), 0, UINT32, "MARK[/MASK], each up to 0xffffffff")
            elif key == "realms":
                r.realms = parse_realms(val)
            elif key == "suppress_prefixlength":
                r.suppress_prefixlength = parse_int(val, 0, 128, expected="a prefix length from 0 to 128")
            elif key == "suppress_ifgroup":
                r.suppress_ifgroup = val.text
            elif key == "uidrange":
                m = re.fullmatch(r"(\d+)-(\d+)", val.text)
                if not m:
                    raise BadValue(f"'{val.text}' is not a uid range", val, "START-END")
                r.uidrange = parse_range(val, 0, UINT32, "uid range")
            elif key == "protocol":
                r.protocol = parse_int(val, 0, 255, expected="a protocol number from 0 to 255")
            elif key == "ipproto":
                if not re.fullmatch(r"[A-Za-z0-9_-]+", val.text):
                    raise BadValue(f"'{val.text}' is not an IP protocol", val, "an IP protocol name or number")
                if val.text.isdigit():
                    parse_int(val, 0, 255, expected="an IP protocol number from 0 to 255")
                r.ipproto = val.text
            elif key in ("sport", "dport"):
                setattr(r, key, parse_range(val, 0, 65535, "port range"))
            elif key == "track_group":
                r.track_group = val.text
            i += 2
        fams = {a.version for a in (_addr(r.from_), _addr(r.to)) if a is not None}
        if len(fams) > 1:
            raise BadValue("'from' and 'to' are of different address families", seen["to"], exp)
        if r.inet6 and fams == {4}:
            raise BadValue("inet6 is given for an IPv4 rule", seen["inet6"], "IPv6 addresses with inet6")
        for opt in ("suppress_prefixlength", "suppress_ifgroup", "realms"):
            if opt in seen and (r.goto is not None or r.action is not None):
                raise BadValue(f"'{opt}' only goes with a table lookup", seen[opt], exp)
        n_actions = sum(x is not None for x in (r.table, r.goto, r.action))
        if n_actions > 1:
            raise BadValue("a rule has one action: table, goto, or blackhole|unreachable|prohibit|nop", args[0], exp)
        if r.goto is not None and r.preference is not None and r.preference >= r.goto:
            raise BadValue(f"goto {r.goto} must jump forward, past the rule's preference {r.preference}",
                           seen["goto"], f"goto N with N > {r.preference}")
        return r

    def format(self, value: Any) -> list[str]:
        r: Rule = value
        out: list[str] = []
        if r.invert:
            out.append("not")
        for opt, word in (("from_", "from"), ("to", "to"), ("iif", "iif"), ("oif", "oif")):
            v = getattr(r, opt)
            if v is not None:
                out += [word, quote(v)]
        if r.tos is not None:
            out += ["tos", str(r.tos)]
        if r.fwmark is not None:
            out += ["fwmark", f"{r.fwmark:#x}" + (f"/{r.fwmask:#x}" if r.fwmask is not None else "")]
        if r.realms is not None:
            out += ["realms", r.realms]
        if r.preference is not None:
            out += ["preference", str(r.preference)]
        if r.table is not None:
            out += ["table", quote(str(r.table))]
        if r.goto is not None:
            out += ["goto", str(r.goto)]
        if r.action is not None:
            out.append(r.action)
        if r.suppress_prefixlength is not None:
            out += ["suppress_prefixlength", str(r.suppress_prefixlength)]
        if r.suppress_ifgroup is not None:
            out += ["suppress_ifgroup", quote(r.suppress_ifgroup)]
        if r.l3mdev:
            out.append("l3mdev")
        if r.uidrange is not None:
            out += ["uidrange", f"{r.uidrange[0]}-{r.uidrange[1]}"]
        if r.protocol is not None:
            out += ["protocol", str(r.protocol)]
        if r.ipproto is not None:
            out += ["ipproto", r.ipproto]
        for opt in ("sport", "dport"):
            v = getattr(r, opt)
            if v is not None:
                out += [opt, f"{v[0]}-{v[1]}"]
        if r.no_track:
            out.append("no_track")
        if r.track_group is not None:
            out += ["track_group", quote(r.track_group)]
        if r.inet6:
            out.append("inet6")
        return out


def _dest_prefix(tok: Token) -> str:
    a, n = parse_prefix(tok, "an address with optional /prefix, or 'all'")
    return f"{a}/{n}"


def _addr(v: Optional[str]) -> Any:
    if v is None or v == "all":
        return None
    return ipaddress.ip_address(v.split("/")[0])


# ---------------------------------------------------------------------------
# track_* lists, unicast_peer


@dataclass
class TrackRef:
    """``NAME [weight N [reverse]]`` in track_interface / track_script / track_file / ..."""

    name: str
    weight: Optional[int] = None
    reverse: bool = False
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)


class TrackLine(ValueType):
    """A track_* line. ``noreverse`` lists the words accepted for "not reversed"."""

    max_args = 4

    def __init__(self, lo: int = -253, hi: int = 253, noreverse: tuple[str, ...] = ("noreverse", "no_reverse")):
        self.lo, self.hi, self.noreverse = lo, hi, noreverse
        rev = "|".join(("reverse", *noreverse))
        self.expected = f"<NAME> [weight <{lo}..{hi}> [{rev}]]"

    def parse(self, args: Sequence[Token]) -> TrackRef:
        ref = TrackRef(PosStr(args[0].text, args[0].pos), pos=args[0].pos)
        i = 1
        while i < len(args):
            w = args[i].text
            if w == "weight" and i == 1:
                val = _take(args, i, self.expected)
                ref.weight = parse_int(val, self.lo, self.hi, expected=f"a weight from {self.lo} to {self.hi}")
                i += 2
            elif i == 3 and w == "reverse":
                ref.reverse = True
                i += 1
            elif i == 3 and w in self.noreverse:
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


@dataclass
class UnicastPeer:
    """``<IPADDR> [min_ttl N] [max_ttl N]`` in unicast_peer."""

    address: str
    min_ttl: Optional[int] = None
    max_ttl: Optional[int] = None
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4


class UnicastPeerLine(ValueType):
    expected = "<IPADDR> [min_ttl 0..255] [max_ttl 0..255]"
    max_args = 5

    def parse(self, args: Sequence[Token]) -> UnicastPeer:
        p = UnicastPeer(str(parse_ip(args[0])), pos=args[0].pos)
        i = 1
        while i < len(args):
            w = args[i].text
            if w not in ("min_ttl", "max_ttl") or getattr(p, w) is not None:
                raise BadValue(f"unexpected '{w}'", args[i], self.expected)
            setattr(p, w, parse_int(_take(args, i, self.expected), 0, 255, expected="a TTL from 0 to 255"))
            i += 2
        return p

    def format(self, value: Any) -> list[str]:
        out = [value.address]
        for opt in ("min_ttl", "max_ttl"):
            if getattr(value, opt) is not None:
                out += [opt, str(getattr(value, opt))]
        return out


# ---------------------------------------------------------------------------
# use_vmac, use_ipvlan, garp_extra_if

_MAC_RE = re.compile(r"[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){4,5}")


@dataclass
class UseVmac:
    """``use_vmac [NAME] [MAC]`` (MAC of 5 octets: the VRID is the sixth)."""

    name: Optional[str] = None
    mac: Optional[str] = None


class UseVmacType(ValueType):
    expected = "[<VMAC_INTERFACE_NAME>] [MAC_ADDRESS]"
    min_args = 0
    max_args = 2

    def parse(self, args: Sequence[Token]) -> UseVmac:
        v = UseVmac()
        for tok in args:
            if _MAC_RE.fullmatch(tok.text) and v.mac is None:
                v.mac = tok.text.lower()
            elif v.name is None and v.mac is None:
                v.name = check_ifname(tok)
            else:
                raise BadValue(f"unexpected '{tok.text}'", tok, self.expected)
        return v

    def format(self, value: Any) -> list[str]:
        return [x for x in (value.name, value.mac) if x is not None]


IPVLAN_MODES = ("bridge", "private", "vepa")


@dataclass
class UseIpvlan:
    """``use_ipvlan [NAME] [ADDR[/LEN]] [bridge|private|vepa]``."""

    name: Optional[str] = None
    address: Optional[str] = None
    mode: Optional[str] = None


class UseIpvlanType(ValueType):
    expected = "[<INTERFACE_NAME>] [IP_ADDRESS] [bridge|private|vepa]"
    min_args = 0
    max_args = 3

    def parse(self, args: Sequence[Token]) -> UseIpvlan:
        v = UseIpvlan()
        for tok in args:
            if tok.text in IPVLAN_MODES and v.mode is None:
                v.mode = tok.text
                continue
            if v.mode is None and v.address is None:
                try:
                    a, n = parse_prefix(tok)
                except BadValue:
                    pass
                else:
                    v.address = f"{a}/{n}"
                    continue
            if v.name is None and v.address is None and v.mode is None:
                v.name = check_ifname(tok)
            else:
                raise BadValue(f"unexpected '{tok.text}'", tok, self.expected)
        return v

    def format(self, value: Any) -> list[str]:
        return [x for x in (value.name, value.address, value.mode) if x is not None]


@dataclass
class GarpExtraIf:
    """``garp_extra_if [all] SECONDS``."""

    interval: int
    all: bool = False


class GarpExtraIfType(ValueType):
    expected = "[all] <0..86400 seconds>"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> GarpExtraIf:
        all_ = args[0].text == "all"
        rest = args[1:] if all_ else args
        if len(rest) != 1:
            raise BadValue("missing the interval" if not rest else f"unexpected '{rest[1].text}'",
                           rest[1] if len(rest) > 1 else args[0], self.expected)
        return GarpExtraIf(parse_int(rest[0], 0, 86400, expected="a number of seconds from 0 to 86400"), all_)

    def format(self, value: Any) -> list[str]:
        return (["all"] if value.all else []) + [str(value.interval)]


class InitFileType(ValueType):
    """``init_file [VALUE] [overwrite]`` of a track_file: (value or None, overwrite)."""

    expected = "[VALUE] [overwrite]"
    min_args = 0
    max_args = 2

    def parse(self, args: Sequence[Token]) -> tuple[Optional[int], bool]:
        value: Optional[int] = None
        overwrite = False
        for n, tok in enumerate(args):
            if tok.text == "overwrite":
                overwrite = True
            elif n == 0:
                value = parse_int(tok, -2**31, 2**31 - 1, expected="an integer value")
            else:
                raise BadValue(f"unexpected '{tok.text}'", tok, self.expected)
        return (value, overwrite)

    def format(self, value: Any) -> list[str]:
        return ([str(value[0])] if value[0] is not None else []) + (["overwrite"] if value[1] else [])


# ---------------------------------------------------------------------------
# Blocks


@dataclass
class Authentication(Block):
    auth_type: Optional[str] = kw("auth_type", Choice(("PASS", "AH"), case=True))  # keepalived: exact match
    auth_pass: Optional[str] = kw("auth_pass", Str())
    _pos: dict = positions()


@dataclass
class VrrpScript(Block):
    """``vrrp_script NAME { }``."""

    name: str
    script: Optional[str] = kw("script", Command())  # keepalived runs the first word only: quote a command line
    interval: Optional[int] = kw("interval", Int(1, 4294))
    timeout: Optional[int] = kw("timeout", Int(1, 4294))
    weight: Optional[Weight] = kw("weight", WeightType(-253, 253))
    rise: Optional[int] = kw("rise", Int(1, UINT32))
    fall: Optional[int] = kw("fall", Int(1, UINT32))
    user: Optional[tuple[str, ...]] = kw("user", OptWords(2, "USERNAME [GROUPNAME]", min_args=1))
    init_fail: bool = kw("init_fail", Bare(), False)
    _pos: dict = positions()

    HEADER = ("name",)


@dataclass
class TrackFile(Block):
    """``track_file NAME { }`` (``vrrp_track_file`` is keepalived's deprecated synonym)."""

    name: str
    file: Optional[str] = kw("file", Str())
    weight: Optional[Weight] = kw("weight", WeightType(-2147483647, 2147483647))
    init_file: Optional[tuple[Optional[int], bool]] = kw("init_file", InitFileType())
    _pos: dict = positions()

    HEADER = ("name",)


@dataclass
class VrrpTrackProcess(Block):
    """``vrrp_track_process NAME { }``."""

    name: str
    process: Optional[tuple[str, ...]] = kw("process", Words())
    param_match: Optional[str] = kw("param_match", OptChoice(("initial", "partial"), bare="exact"))
    weight: Optional[Weight] = kw("weight", WeightType(-254, 254))
    quorum: Optional[int] = kw("quorum", Int(0, 65535))
    quorum_max: Optional[int] = kw("quorum_max", Int(0, 65535))
    fork_delay: Optional[float] = kw("fork_delay", Timer(0.0))
    terminate_delay: Optional[float] = kw("terminate_delay", Timer(0.0))
    delay: Optional[float] = kw("delay", Timer(0.0))
    full_command: bool = kw("full_command", Bare(), False)
    _pos: dict = positions()

    HEADER = ("name",)


@dataclass
class BfdInstance(Block):
    """``bfd_instance NAME { }``: parsed and kept, BFD itself is not implemented."""

    name: str
    neighbor_ip: Optional[Any] = kw("neighbor_ip", IP(), aliases=("neighbour_ip",))
    source_ip: Optional[Any] = kw("source_ip", IP())
    min_rx: Optional[float] = kw("min_rx", Timer(0.0, unit="milliseconds"))
    min_tx: Optional[float] = kw("min_tx", Timer(0.0, unit="milliseconds"))
    idle_tx: Optional[float] = kw("idle_tx", Timer(0.0, unit="milliseconds"))
    multiplier: Optional[int] = kw("multiplier", Int(1, 255))
    passive: bool = kw("passive", Bare(), False)
    ttl: Optional[int] = kw("ttl", Int(1, 255))
    hoplimit: Optional[int] = kw("hoplimit", Int(1, 255))
    max_hops: Optional[int] = kw("max_hops", Int(0, 255))
    weight: Optional[Weight] = kw("weight", WeightType(-253, 253))
    vrrp: bool = kw("vrrp", Bare(), False)
    checker: bool = kw("checker", Bare(), False)
    _pos: dict = positions()

    HEADER = ("name",)


BFD_NOTE = "BFD is not implemented"


class NotifyDeletedType(ValueType):
    """``notify_deleted [SCRIPT [username [groupname]]]``: () when bare."""

    expected = "nothing, or a script (quoted if it has arguments), optionally followed by username [groupname]"
    min_args = 0
    max_args = 3

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(w) for w in value]


@dataclass
class VrrpSyncGroup(Block):
    """``vrrp_sync_group NAME { }``."""

    name: str
    group: list[str] = lines("group", Name(), per_word=True)
    track_interface: list[TrackRef] = lines("track_interface", TrackLine(-253, 253, noreverse=()))
    track_script: list[TrackRef] = lines("track_script", TrackLine(-253, 253))
    track_file: list[TrackRef] = lines("track_file", TrackLine(-254, 254))
    track_process: list[TrackRef] = lines("track_process", TrackLine(-254, 254))
    track_bfd: list[TrackRef] = lines("track_bfd", TrackLine(-253, 253), support=Support.PARSED, note=BFD_NOTE)
    notify_master: Optional[tuple[str, ...]] = kw("notify_master", Script())
    notify_backup: Optional[tuple[str, ...]] = kw("notify_backup", Script())
    notify_fault: Optional[tuple[str, ...]] = kw("notify_fault", Script())
    notify_stop: Optional[tuple[str, ...]] = kw("notify_stop", Script())
    notify_deleted: Optional[tuple[str, ...]] = kw("notify_deleted", NotifyDeletedType())
    notify: Optional[tuple[str, ...]] = kw("notify", Script())
    notify_priority_changes: Optional[bool] = kw("notify_priority_changes", Flag())
    smtp_alert: Optional[bool] = kw("smtp_alert", Flag())
    global_tracking: bool = kw("global_tracking", Bare(), False)
    sync_group_tracking_weight: bool = kw("sync_group_tracking_weight", Bare(), False)
    _pos: dict = positions()

    HEADER = ("name",)


@dataclass
class GarpGroup(Block):
    """``garp_group { }``: GARP / unsolicited NA pacing per interface or group of interfaces."""

    garp_interval: Optional[float] = kw("garp_interval", Timer(0.0))
    gna_interval: Optional[float] = kw("gna_interval", Timer(0.0))
    interface: Optional[str] = kw("interface", IfName())
    interfaces: list[str] = lines("interfaces", IfName(), per_word=True)
    _pos: dict = positions()


STATES = ("MASTER", "BACKUP")


@dataclass
class VrrpInstance(Block):
    """``vrrp_instance NAME { }``."""

    name: str
    state: Optional[str] = kw("state", Choice(STATES, case=True))  # keepalived: exact, else BACKUP
    interface: Optional[str] = kw("interface", IfName())
    vrf: Optional[str] = kw("vrf", IfName())
    use_vmac: Optional[UseVmac] = kw("use_vmac", UseVmacType())
    use_vmac_addr: bool = kw("use_vmac_addr", Bare(), False)
    vmac_xmit_base: bool = kw("vmac_xmit_base", Bare(), False)
    # fastka's own (not keepalived's): the VIPs stay on the VMAC, failover flips its protodown
    vmac_protodown: bool = kw("vmac_protodown", Bare(), False)
    use_ipvlan: Optional[UseIpvlan] = kw("use_ipvlan", UseIpvlanType())
    native_ipv6: bool = kw("native_ipv6", Bare(), False)
    dont_track_primary: bool = kw("dont_track_primary", Bare(), False)
    track_interface: list[TrackRef] = lines("track_interface", TrackLine(-253, 253, noreverse=()))
    track_script: list[TrackRef] = lines("track_script", TrackLine(-253, 253))
    track_file: list[TrackRef] = lines("track_file", TrackLine(-254, 254))
    track_process: list[TrackRef] = lines("track_process", TrackLine(-254, 254))
    track_bfd: list[TrackRef] = lines("track_bfd", TrackLine(-253, 253), support=Support.PARSED, note=BFD_NOTE)
    mcast_src_ip: Optional[Any] = kw("mcast_src_ip", IP())
    unicast_src_ip: Optional[Any] = kw("unicast_src_ip", IP())
    mcast_dst_ip: Optional[Any] = kw("mcast_dst_ip", IP())
    track_src_ip: bool = kw("track_src_ip", Bare(), False)
    version: Optional[int] = kw("version", Int(2, 3))
    check_unicast_src: bool = kw("check_unicast_src", Bare(), False)
    unicast_peer: list[UnicastPeer] = lines("unicast_peer", UnicastPeerLine())
    unicast_fault_no_peer: bool = kw("unicast_fault_no_peer", Bare(), False)
    unicast_ttl: Optional[int] = kw("unicast_ttl", Int(0, 255))
    old_unicast_checksum: Optional[str] = kw("old_unicast_checksum", OptChoice(("never",), bare="on"))
    garp_master_delay: Optional[int] = kw("garp_master_delay", Int(0, 4294))
    garp_master_repeat: Optional[int] = kw("garp_master_repeat", Int(1, UINT32))
    garp_lower_prio_delay: Optional[int] = kw("garp_lower_prio_delay", Int(0, 4294))
    garp_lower_prio_repeat: Optional[int] = kw("garp_lower_prio_repeat", Int(0, UINT32))
    garp_master_refresh: Optional[int] = kw("garp_master_refresh", Int(0, UINT32))
    garp_master_refresh_repeat: Optional[int] = kw("garp_master_refresh_repeat", Int(1, UINT32))
    garp_extra_if: Optional[GarpExtraIf] = kw("garp_extra_if", GarpExtraIfType())
    down_timer_adverts: Optional[int] = kw("down_timer_adverts", Int(1, 100))
    lower_prio_no_advert: Optional[bool] = kw("lower_prio_no_advert", Flag())
    higher_prio_send_advert: Optional[bool] = kw("higher_prio_send_advert", Flag())
    virtual_router_id: Optional[int] = kw("virtual_router_id", Int(1, 255))
    priority: Optional[int] = kw("priority", Int(1, 255))
    advert_int: Optional[float] = kw("advert_int", Timer(0.0, 255.0))
    authentication: Optional[Authentication] = sub("authentication", Authentication)
    virtual_ipaddress: list[VirtualIP] = lines("virtual_ipaddress", VirtualIPLine())
    virtual_ipaddress_excluded: list[VirtualIP] = lines("virtual_ipaddress_excluded", VirtualIPLine())
    promote_secondaries: bool = kw("promote_secondaries", Bare(), False)
    virtual_routes: list[Route] = lines("virtual_routes", RouteLine())
    virtual_rules: list[Rule] = lines("virtual_rules", RuleLine())
    accept: bool = kw("accept", Bare(), False)
    no_accept: bool = kw("no_accept", Bare(), False)
    nopreempt: bool = kw("nopreempt", Bare(), False, aliases=("no_preempt",))
    preempt: bool = kw("preempt", Bare(), False, support=Support.IGNORED,
                       note="preempting is the default; keepalived keeps it for backwards compatibility")
    preempt_delay: Optional[float] = kw("preempt_delay", Timer(0.0, 1000.0))
    skip_check_adv_addr: Optional[bool] = kw("skip_check_adv_addr", Flag())
    strict_mode: Optional[bool] = kw("strict_mode", Flag())
    debug: Optional[int] = kw("debug", Int(0, 4), support=Support.IGNORED,
                              note="keepalived does not implement the debug level either")
    notify_master: Optional[tuple[str, ...]] = kw("notify_master", Script())
    notify_backup: Optional[tuple[str, ...]] = kw("notify_backup", Script())
    notify_fault: Optional[tuple[str, ...]] = kw("notify_fault", Script())
    notify_stop: Optional[tuple[str, ...]] = kw("notify_stop", Script())
    notify_deleted: Optional[tuple[str, ...]] = kw("notify_deleted", NotifyDeletedType())
    notify: Optional[tuple[str, ...]] = kw("notify", Script())
    notify_master_rx_lower_pri: Optional[tuple[str, ...]] = kw("notify_master_rx_lower_pri", Script())
    notify_priority_changes: Optional[bool] = kw("notify_priority_changes", Flag())
    smtp_alert: Optional[bool] = kw("smtp_alert", Flag())
    kernel_rx_buf_size: Optional[int] = kw("kernel_rx_buf_size", Int(0, UINT32))
    linkbeat_use_polling: bool = kw("linkbeat_use_polling", Bare(), False)
    lvs_sync_daemon_interface: Optional[str] = kw("lvs_sync_daemon_interface", IfName())
    _pos: dict = positions()

    HEADER = ("name",)

    @property
    def family(self) -> int:
        """The instance's address family, as keepalived settles it: the first VIP's,
        else native_ipv6, else the source / peer addresses', else IPv4."""
        if self.virtual_ipaddress:
            return self.virtual_ipaddress[0].family
        if self.native_ipv6:
            return 6
        for a in (self.unicast_src_ip, self.mcast_src_ip):
            if a is not None:
                return a.version
        if self.unicast_peer:
            return self.unicast_peer[0].family
        return 4

    @property
    def unicast(self) -> bool:
        return bool(self.unicast_peer)


# ---------------------------------------------------------------------------
# Effective values

DEFAULT_MCAST = {4: ipaddress.ip_address("224.0.0.18"), 6: ipaddress.ip_address("ff02::12")}


def effective_strict(inst: VrrpInstance, gd: Any) -> bool:
    if inst.strict_mode is not None:
        return inst.strict_mode
    return bool(gd is not None and gd.vrrp_strict)


def apply_defaults(config: Any) -> None:
    """Fill the effective values where keepalived has a default, as keepalived 2.2.7 does.

    Only ``None`` fields are filled, so a model re-parsed from ``dump()`` of a
    defaulted model comes out equal (idempotent).
    """
    gd = getattr(config, "global_defs", None)

    def g(name: str, default: Any = None) -> Any:
        v = getattr(gd, name, None) if gd is not None else None
        return default if v is None else v

    for s in getattr(config, "vrrp_scripts", ()):
        if s.interval is None:
            s.interval = 1
        if s.weight is None:
            s.weight = Weight(0)
        if s.rise is None:
            s.rise = 1
        if s.fall is None:
            s.fall = 1
    for f in getattr(config, "track_files", ()):
        if f.weight is None:
            f.weight = Weight(1)
    for p in getattr(config, "vrrp_track_processes", ()):
        if p.weight is None:
            # the man page says 1, keepalived 2.2.7 uses 0 (fault when the quorum is lost)
            p.weight = Weight(0)
        if p.quorum is None:
            p.quorum = 1
        if p.delay is not None:
            if p.fork_delay is None:
                p.fork_delay = p.delay
            if p.terminate_delay is None:
                p.terminate_delay = p.delay
    for ud in getattr(config, "interface_up_down_delays", ()):
        if ud.up is None:
            ud.up = ud.down

    min_garp = bool(g("vrrp_min_garp", False))
    master_delay = g("vrrp_garp_master_delay", 0 if min_garp else 5)
    master_repeat = g("vrrp_garp_master_repeat", 1 if min_garp else 5)
    smtp_default = g("smtp_alert_vrrp", g("smtp_alert", False))
    notify_prio = g("vrrp_notify_priority_changes", False)

    for sg in getattr(config, "vrrp_sync_groups", ()):
        if sg.smtp_alert is None:
            sg.smtp_alert = smtp_default
        if sg.notify_priority_changes is None:
            sg.notify_priority_changes = notify_prio

    for inst in getattr(config, "vrrp_instances", ()):
        strict = effective_strict(inst, gd)
        if inst.strict_mode is None:
            inst.strict_mode = strict
        if inst.state is None:
            inst.state = "MASTER" if inst.priority == 255 else "BACKUP"
        if inst.priority is None:
            inst.priority = 255 if inst.state == "MASTER" else 100
        if inst.advert_int is None:
            inst.advert_int = 1.0
        if inst.version is None:
            inst.version = 3 if inst.family == 6 else g("vrrp_version", 2)
        if not inst.accept and not inst.no_accept:
            # afterwards exactly one of accept / no_accept is set (both: an error, left as written)
            inst.accept = inst.priority == 255 if strict else True
            inst.no_accept = not inst.accept
        if inst.preempt_delay is None:
            inst.preempt_delay = 0.0
        if inst.garp_master_delay is None:
            inst.garp_master_delay = master_delay
        if inst.garp_master_repeat is None:
            inst.garp_master_repeat = master_repeat
        if inst.garp_lower_prio_delay is None:
            # from the global values, not this instance's garp_master_* (as keepalived 2.2.7)
            inst.garp_lower_prio_delay = 0 if strict else g("vrrp_garp_lower_prio_delay", master_delay)
        if inst.garp_lower_prio_repeat is None:
            inst.garp_lower_prio_repeat = 0 if strict else g("vrrp_garp_lower_prio_repeat", master_repeat)
        if inst.garp_master_refresh is None:
            inst.garp_master_refresh = g("vrrp_garp_master_refresh", 0)
        if inst.garp_master_refresh_repeat is None:
            inst.garp_master_refresh_repeat = g("vrrp_garp_master_refresh_repeat", 1)
        if inst.garp_extra_if is None and g("vrrp_garp_extra_if") is not None:
            x = g("vrrp_garp_extra_if")
            inst.garp_extra_if = GarpExtraIf(x.interval, x.all)
        if inst.down_timer_adverts is None:
            inst.down_timer_adverts = g("vrrp_down_timer_adverts", 3)
        if inst.lower_prio_no_advert is None:
            inst.lower_prio_no_advert = True if strict else g("vrrp_lower_prio_no_advert", False)
        if inst.higher_prio_send_advert is None:
            inst.higher_prio_send_advert = False if strict else g("vrrp_higher_prio_send_advert", False)
        if inst.skip_check_adv_addr is None:
            inst.skip_check_adv_addr = g("vrrp_skip_check_adv_addr", False)
        if not inst.check_unicast_src:
            inst.check_unicast_src = g("vrrp_check_unicast_src", False) or any(
                p.min_ttl is not None or p.max_ttl is not None for p in inst.unicast_peer)
        if inst.mcast_dst_ip is None and not inst.unicast_peer:
            fam = inst.family
            inst.mcast_dst_ip = g("vrrp_mcast_group6" if fam == 6 else "vrrp_mcast_group4", DEFAULT_MCAST[fam])
        if (inst.use_vmac is not None or inst.use_ipvlan is not None) and inst.unicast_peer:
            inst.vmac_xmit_base = True  # keepalived requires (and sets) it for unicast over a VMAC / ipvlan
        if inst.notify_priority_changes is None:
            inst.notify_priority_changes = notify_prio
        if inst.smtp_alert is None:
            inst.smtp_alert = smtp_default

    # keepalived turns the deprecated vrrp_instance lvs_sync_daemon_interface into the
    # global lvs_sync_daemon tracking that instance, unless that is already set
    if gd is None or gd.lvs_sync_daemon is None:
        for inst in getattr(config, "vrrp_instances", ()):
            if inst.lvs_sync_daemon_interface is not None:
                from .model_global import GlobalDefs, LvsSyncDaemon

                if gd is None:
                    gd = config.global_defs = GlobalDefs()
                gd.lvs_sync_daemon = LvsSyncDaemon(inst.lvs_sync_daemon_interface, inst.name)
                break
    # moved, not copied: the dump must not say it twice (keepalived warns on that)
    if gd is not None and gd.lvs_sync_daemon is not None:
        for inst in getattr(config, "vrrp_instances", ()):
            inst.lvs_sync_daemon_interface = None

