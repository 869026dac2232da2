"""The load-balancing half of the model: virtual_server(_group), real_server, checkers.

Field order is the order ``fastka -d`` writes keywords in.

keepalived.conf(5), "LVS CONFIGURATION": "Where an option can be configured for a
virtual server, real server, and possibly checker, the virtual server setting is the
default for real servers, and the real server setting is the default for checkers."
Fields are None when the user did not write them; :func:`apply_defaults` then fills
the effective values (the cascade and keepalived's documented defaults), so code
that runs the configuration reads one value per field.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Optional, Sequence

from .schema import Block, HeaderType, Support, items, kw, positions, sub
from .source import Pos, Token
from .values import (
    Command,
    BadValue,
    Choice,
    Flag,
    Float,
    Int,
    Script,
    Str,
    ValueType,
    parse_int,
    ip_text,
    parse_ip,
    parse_prefix,
    quote,
)

UINT32_MAX = 2**32 - 1

# keepalived's documented defaults (keepalived.conf(5), LVS CONFIGURATION)
DEFAULT_SCHED = "wlc"  # "no scheduler set, setting default 'wlc'"; ipvsadm(8): "This is the default."
DEFAULT_METHOD = "NAT"  # "Override default LVS forwarding method (default is NAT)."
DEFAULT_PROTOCOL = "UDP"  # keepalived 2.2.7: "no protocol set - defaulting to UDP" (validate_lvs warns)
DEFAULT_PERSISTENCE_TIMEOUT = 360  # "LVS persistence timeout in seconds, default 6 minutes"
DEFAULT_QUORUM = 1  # "Defaults to 1."
DEFAULT_HYSTERESIS = 0  # "Defaults to 0."
DEFAULT_WEIGHT = 1  # "relative weight to use, default: 1"
DEFAULT_CONNECT_TIMEOUT = 5.0  # "The default is 5 seconds"
DEFAULT_DELAY_LOOP = 60.0  # "delay timer for checker polling (60 seconds if not specified)"
DEFAULT_STATUS_CODES = ((200, 299),)  # "Default is 200-299"
DEFAULT_DNS_TYPE = "SOA"  # "The default is SOA"
DEFAULT_DNS_NAME = "."  # "The default is . (dot)"
DEFAULT_MIN_REPLY_LENGTH = 0  # "default 0"
DEFAULT_MAX_REPLY_LENGTH = 255  # "default is 255"

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos")
REGEX_OPTIONS = (
    "allow_empty_class", "alt_bsux", "auto_callout", "caseless", "dollar_endonly", "dotall", "dupnames",
    "extended", "firstline", "match_unset_backref", "multiline", "never_ucp", "never_utf", "no_auto_capture",
    "no_auto_possess", "no_dotstar_anchor", "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c",
    "alt_circumflex", "alt_verbnames", "use_offset_limit",
)
DNS_TYPES = ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY")

def family_of(ip: str) -> int:
    """4 or 6 for an address the model holds (already checked and normalised)."""
    return 6 if ":" in ip else 4


# --- value types -------------------------------------------------------------------


class IPText(ValueType):
    """An IP address, kept as its normalised text (``ae00::0001`` -> ``ae00::1``)."""

    expected = "an IP address"

    def parse(self, args: Sequence[Token]) -> str:
        return ip_text(args[0], None, self.expected)




class Text(ValueType):
    """``<STRING>|<QUOTED-STRING>``: the rest of the line as one string (keepalived
    joins unquoted words with a space)."""

    expected = "a string (quote it if it has spaces)"
    max_args = None

    def parse(self, args: Sequence[Token]) -> str:
        return " ".join(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(value)]


@dataclass
class OptionalInt(ValueType):
    """``keyword [<INTEGER>]``: the keyword alone means ``absent``."""

    lo: int
    hi: int
    absent: int

    min_args = 0

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"nothing (meaning {self.absent}), or an integer from {self.lo} to {self.hi}"

    def parse(self, args: Sequence[Token]) -> int:
        if not args:
            return self.absent
        return parse_int(args[0], self.lo, self.hi, expected=self.expected)


@dataclass
class LvsMethod:
    """``NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]``."""

    method: str
    tun_type: Optional[str] = None
    tun_port: Optional[int] = None
    tun_csum: Optional[str] = None


class LvsMethodType(ValueType):
    expected = "NAT|DR|TUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]"
    max_args = 6

    def parse(self, args: Sequence[Token]) -> LvsMethod:
        m = args[0].text
        if m not in ("NAT", "DR", "TUN"):
            raise BadValue(f"'{m}' is not a forwarding method", args[0], self.expected)
        if m != "TUN":
            if len(args) > 1:
                raise BadValue(f"'{args[1].text}': only TUN takes options", args[1], self.expected)
            return LvsMethod(m)
        out = LvsMethod("TUN")
        i = 1
        if i < len(args) and args[i].text == "type":
            if i + 1 >= len(args):
                raise BadValue("'type' needs a tunnel type", args[i], self.expected)
            t = args[i + 1]
            if t.text not in ("ipip", "gue", "gre"):
                raise BadValue(f"'{t.text}' is not a tunnel type", t, "one of ipip|gue|gre")
            out.tun_type = t.text
            i += 2
            if t.text == "gue":
                if i + 1 >= len(args) or args[i].text != "port":
                    raise BadValue("a gue tunnel needs 'port NUM'", t, "type gue port NUM")
                out.tun_port = parse_int(args[i + 1], 1, 65535, expected="a port from 1 to 65535")
                i += 2
        if i < len(args) and args[i].text in ("nocsum", "csum", "remcsum"):
            c = args[i]
            if out.tun_type in (None, "ipip"):
                raise BadValue("ipip tunnels do not support a checksum option", c,
                               "type gue port NUM|gre before the checksum option")
            if out.tun_type == "gre" and c.text == "remcsum":
                raise BadValue("gre tunnels do not support remcsum", c, "nocsum|csum")
            out.tun_csum = c.text
            i += 1
        if i < len(args):
            raise BadValue(f"unexpected '{args[i].text}'", args[i], self.expected)
        return out

    def format(self, value: Any) -> list[str]:
        v: LvsMethod = value
        out = [v.method]
        if v.tun_type:
            out += ["type", v.tun_type]
            if v.tun_port is not None:
                out += ["port", str(v.tun_port)]
        if v.tun_csum:
            out.append(v.tun_csum)
        return out


@dataclass
class Server:
    """``<IPADDR> [<PORT>]`` (sorry_server)."""

    ip: str
    port: Optional[int] = None

    @property
    def family(self) -> int:
        return family_of(self.ip)


class ServerType(ValueType):
    expected = "<IPADDR> [<PORT>]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> Server:
        ip = ip_text(args[0], None, self.expected)
        port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535") if len(args) > 1 else None
        return Server(ip, port)

    def format(self, value: Any) -> list[str]:
        return [value.ip] + ([str(value.port)] if value.port is not None else [])


class StatusCodes(ValueType):
    """``<INTEGER|RANGE> ...``: each code or ``LO-HI`` range becomes a (lo, hi) pair."""

    expected = "HTTP status codes or ranges, e.g. 200 or 200-299"
    max_args = None

    def parse(self, args: Sequence[Token]) -> tuple[tuple[int, int], ...]:
        out = []
        for t in args:
            lo_s, dash, hi_s = t.text.partition("-")
            lo = parse_int(Token(lo_s, t.pos, t.quoted), 0, 999, expected=self.expected)
            hi = parse_int(Token(hi_s, t.pos, t.quoted), 0, 999, expected=self.expected) if dash else lo
            if hi < lo:
                raise BadValue(f"range '{t.text}' ends before it starts", t, self.expected)
            out.append((lo, hi))
        return tuple(out)

    def format(self, value: Any) -> list[str]:
        return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in value]


class RegexOptions(ValueType):
    expected = "pcre2 options: " + " ".join(REGEX_OPTIONS)
    max_args = None

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        for t in args:
            if t.text not in REGEX_OPTIONS:
                raise BadValue(f"'{t.text}' is not a supported regex option", t, self.expected)
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return list(value)


class RegexStack(ValueType):
    expected = "<START> <MAX> (bytes, MAX >= START)"
    min_args = 2
    max_args = 2

    def parse(self, args: Sequence[Token]) -> tuple[int, int]:
        start = parse_int(args[0], 0, UINT32_MAX, expected=self.expected)
        mx = parse_int(args[1], 0, UINT32_MAX, expected=self.expected)
        if mx < start:
            raise BadValue(f"regex_stack maximum {mx} is below the start size {start}", args[1], self.expected)
        return (start, mx)

    def format(self, value: Any) -> list[str]:
        return [str(value[0]), str(value[1])]


_HEX = re.compile(r"[0-9A-Fa-f]+\Z")
_HEX_MASK = re.compile(r"[0-9A-Fa-fXx]+\Z")


@dataclass
class HexString(ValueType):
    """``<HEX_STR>``: hex digits in free format (``Ab12f 3 456``), kept as the words written.
    ``mask`` also allows X/x (a nibble whose value is ignored); ``min_args`` 0 allows none."""

    mask: bool = False
    min_args: int = 1  # type: ignore[assignment]

    max_args = None

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "hexadecimal digits" + (" (X for any)" if self.mask else "")

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        pat = _HEX_MASK if self.mask else _HEX
        for t in args:
            if not pat.match(t.text):
                raise BadValue(f"'{t.text}' is not a hex string", t, self.expected)
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return list(value)


class UserGroup(ValueType):
    expected = "USERNAME [GROUPNAME]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(w) for w in value]


@dataclass
class TrackWeight:
    weight: int
    reverse: bool = False


class TrackWeightType(ValueType):
    expected = "<-2147483647..2147483647> [reverse]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> TrackWeight:
        w = parse_int(args[0], -2147483647, 2147483647, expected=self.expected)
        rev = False
        if len(args) > 1:
            if args[1].text not in ("reverse", "noreverse"):
                raise BadValue(f"unexpected '{args[1].text}'", args[1], self.expected)
            rev = args[1].text == "reverse"
        return TrackWeight(w, rev)

    def format(self, value: Any) -> list[str]:
        return [str(value.weight)] + (["reverse"] if value.reverse else [])


# --- headers -------------------------------------------------------------------------


class AddrPortHeader(HeaderType):
    """``real_server <IPADDR> [<PORT>]``."""

    expected = "<IPADDR> [<PORT>]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        ip = ip_text(args[0], None, self.expected)
        port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535") if len(args) > 1 else None
        return {"ip": ip, "port": port}

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
            return {"fwmark": parse_int(args[1], 1, UINT32_MAX, base0=True, expected="a mark from 1 to 4294967295")}
        if first == "group":
            if len(args) < 2:
                raise BadValue("'group' needs a name", args[0], "group <STRING>")
            return {"group": args[1].text}
        ip = ip_text(args[0], expected=self.expected)
        port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535") if len(args) > 1 else None
        return {"ip": ip, "port": port}

    def format(self, value: Any) -> list[str]:
        if value.fwmark is not None:
            return ["fwmark", str(value.fwmark)]
        if value.group is not None:
            return ["group", quote(value.group)]
        return [value.ip] + ([str(value.port)] if value.port is not None else [])


# --- virtual_server_group ------------------------------------------------------------


@dataclass
class VsgEntry:
    """One line of a virtual_server_group: an address, a range or a prefix with an
    optional port, or ``fwmark <INTEGER> [inet|inet6]``."""

    ip: Optional[str] = None  # the (first) address
    last: Optional[str] = None  # the last address of an ``A-B`` range
    prefixlen: Optional[int] = None  # ``A/nn``
    port: Optional[int] = None
    fwmark: Optional[int] = None
    family: Optional[str] = None  # inet|inet6, fwmark entries only
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)

    @property
    def version(self) -> Optional[int]:
        """4 or 6: the entry's address family, None for a fwmark without family."""
        if self.ip is not None:
            return family_of(self.ip)
        return {"inet": 4, "inet6": 6}.get(self.family or "")


class VsgLine(ValueType):
    """A whole line of a virtual_server_group (its first word included)."""

    expected = "<IPADDR>[-<END>|/<LEN>] [<PORT>] | fwmark <INTEGER> [inet|inet6]"
    max_args = 3

    def parse(self, args: Sequence[Token]) -> VsgEntry:
        head = args[0]
        pos = head.pos
        if head.text == "fwmark":
            fexp = "fwmark <INTEGER> [inet|inet6]"
            if len(args) < 2:
                raise BadValue("'fwmark' needs a mark", head, fexp)
            mark = parse_int(args[1], 0, UINT32_MAX, base0=True, expected="a mark from 0 to 4294967295")
            fam = None
            if len(args) > 2:
                if args[2].text not in ("inet", "inet6"):
                    raise BadValue(f"'{args[2].text}' is not an address family", args[2], "inet|inet6")
                fam = args[2].text
            return VsgEntry(fwmark=mark, family=fam, pos=pos)
        if len(args) > 2:
            raise BadValue(f"unexpected extra argument '{args[2].text}'", args[2], self.expected)
        entry = self._address(head)
        entry.pos = pos
        if len(args) > 1:
            entry.port = parse_int(args[1], 0, 65535, expected="a port from 0 to 65535")
        return entry

    def _address(self, tok: Token) -> VsgEntry:
        text = tok.text
        if "/" in text:
            a, n = parse_prefix(tok, "an address range such as 192.168.1.8/29")
            return VsgEntry(ip=str(a), prefixlen=n)
        if "-" not in text:
            return VsgEntry(ip=ip_text(tok, None, self.expected))
        first_s, _, end_s = text.partition("-")
        first = parse_ip(Token(first_s, tok.pos, tok.quoted), None, self.expected)
        range_exp = ("a range such as 192.168.200.3-10 or 192.168.200.250-192.168.201.10"
                     if first.version == 4 else "a range such as ae00::2-9")
        if ("." in end_s) if first.version == 4 else (":" in end_s):
            last = parse_ip(Token(end_s, tok.pos, tok.quoted), first.version, range_exp)
        else:
            base, bits, hi = (10, 8, 255) if first.version == 4 else (16, 16, 0xFFFF)
            try:
                comp = int(end_s, base)
            except ValueError:
                raise BadValue(f"'{end_s}' is not a range end", tok, range_exp) from None
            if comp > hi or not end_s:
                raise BadValue(f"'{end_s}' is not a range end", tok, range_exp)
            last = ipaddress.ip_address((int(first) >> bits << bits) | comp)
        if int(last) < int(first):
            raise BadValue(f"range '{text}' ends before it starts", tok, range_exp)
        return VsgEntry(ip=str(first), last=str(last))

    def format(self, value: Any) -> list[str]:
        v: VsgEntry = value
        if v.fwmark is not None:
            return ["fwmark", str(v.fwmark)] + ([v.family] if v.family else [])
        assert v.ip is not None
        if v.prefixlen is not None:
            addr = f"{v.ip}/{v.prefixlen}"
        elif v.last is not None:
            a, b = ipaddress.ip_address(v.ip), ipaddress.ip_address(v.last)
            bits = 8 if a.version == 4 else 16
            if int(a) >> bits == int(b) >> bits:
                low = int(b) & ((1 << bits) - 1)
                addr = f"{v.ip}-{low}" if a.version == 4 else f"{v.ip}-{low:x}"
            else:
                addr = f"{v.ip}-{v.last}"
        else:
            addr = v.ip
        return [addr] + ([str(v.port)] if v.port is not None else [])


@dataclass
class VirtualServerGroup(Block):
    name: str
    entries: list[VsgEntry] = items(VsgLine())
    _pos: dict = positions()

    HEADER = ("name",)

    @property
    def families(self) -> set[int]:
        return {v for v in (e.version for e in self.entries) if v is not None}

    @property
    def has_addresses(self) -> bool:
        return any(e.ip is not None for e in self.entries)


# --- SSL ------------------------------------------------------------------------------


@dataclass
class SslConfig(Block):
    """Top-level ``SSL { }``: the context SSL_GET uses (generated when none is given)."""

    password: Optional[str] = kw("password", Text())
    ca: Optional[str] = kw("ca", Text())
    certificate: Optional[str] = kw("certificate", Text())
    key: Optional[str] = kw("key", Text())
    _pos: dict = positions()


# --- checkers ---------------------------------------------------------------------------


@dataclass
class _ConnOpts(Block):
    """The generic connection options of a checker."""

    connect_ip: Optional[str] = kw("connect_ip", IPText())
    connect_port: Optional[int] = kw("connect_port", Int(0, 65535))
    bindto: Optional[str] = kw("bindto", IPText())
    bind_port: Optional[int] = kw("bind_port", Int(0, 65535))
    bind_if: Optional[str] = kw("bind_if", Str())
    connect_timeout: Optional[float] = kw("connect_timeout", Float(0.0))
    fwmark: Optional[int] = kw("fwmark", Int(0, UINT32_MAX, base0=True))
    _pos: dict = positions()


@dataclass
class Checker(Block):
    """Options every checker with the standard options has (MISC_CHECK has only these)."""

    alpha: Optional[bool] = kw("alpha", Flag())
    retry: Optional[int] = kw("retry", Int(0, UINT32_MAX), aliases=("nb_get_retry",))
    delay_before_retry: Optional[float] = kw("delay_before_retry", Float(0.0))
    warmup: Optional[float] = kw("warmup", Float(0.0))
    delay_loop: Optional[float] = kw("delay_loop", Float(0.0))
    log_all_failures: Optional[bool] = kw("log_all_failures", Flag())
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = ""
    DEFAULT_RETRY: ClassVar[int] = 1  # "Default: 1 unless specified below"
    # "Defaults to delay_loop for DNS_CHECK, 3 seconds for HTTP_GET and SSL_GET, and 1 second otherwise."
    DEFAULT_DELAY_BEFORE_RETRY: ClassVar[Optional[float]] = 1.0
    NEEDS_PORT: ClassVar[bool] = False


@dataclass
class ConnChecker(Checker, _ConnOpts):
    """A checker with the connection options too (all but MISC, FILE and BFD)."""

    _pos: dict = positions()

    NEEDS_PORT: ClassVar[bool] = True


@dataclass
class TcpCheck(ConnChecker):
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "TCP_CHECK"


@dataclass
class Url(Block):
    path: Optional[str] = kw("path", Text())
    digest: Optional[str] = kw("digest", Str(), repeat="first")
    status_code: Optional[tuple[tuple[int, int], ...]] = kw("status_code", StatusCodes(), repeat="merge")
    virtualhost: Optional[str] = kw("virtualhost", Str())
    regex: Optional[str] = kw("regex", Text())
    regex_no_match: bool = kw("regex_no_match", Flag(), False)
    regex_options: Optional[tuple[str, ...]] = kw("regex_options", RegexOptions(), repeat="merge")
    regex_stack: Optional[tuple[int, int]] = kw("regex_stack", RegexStack())
    regex_min_offset: Optional[int] = kw("regex_min_offset", Int(0, UINT32_MAX))
    regex_max_offset: Optional[int] = kw("regex_max_offset", Int(0, UINT32_MAX))
    _pos: dict = positions()


@dataclass
class HttpGetCheck(ConnChecker):
    http_protocol: Optional[str] = kw("http_protocol", Choice(("1.0", "1.0C", "1.1")))
    virtualhost: Optional[str] = kw("virtualhost", Str())
    fast_recovery: bool = kw("fast_recovery", Flag(), False)
    urls: list[Url] = sub("url", Url, multi=True)
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "HTTP_GET"
    DEFAULT_DELAY_BEFORE_RETRY: ClassVar[Optional[float]] = 3.0


@dataclass
class SslGetCheck(HttpGetCheck):
    enable_sni: bool = kw("enable_sni", Flag(), False)
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "SSL_GET"


@dataclass
class SmtpHost(ConnChecker):
    """``host { }`` in SMTP_CHECK: deprecated in keepalived ("Please define additional
    checkers"), still honoured."""

    _pos: dict = positions()


@dataclass
class SmtpCheck(ConnChecker):
    helo_name: Optional[str] = kw("helo_name", Text())
    hosts: list[SmtpHost] = sub("host", SmtpHost, multi=True)
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "SMTP_CHECK"


@dataclass
class DnsCheck(ConnChecker):
    type: Optional[str] = kw("type", Choice(DNS_TYPES))
    name: Optional[str] = kw("name", Str(), repeat="first")  # keepalived: "already specified - ignoring"
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "DNS_CHECK"
    DEFAULT_RETRY: ClassVar[int] = 3  # "The retry default is 3."
    DEFAULT_DELAY_BEFORE_RETRY: ClassVar[Optional[float]] = None  # delay_loop


@dataclass
class MiscCheck(Checker):
    misc_path: Optional[str] = kw("misc_path", Command())
    misc_timeout: Optional[int] = kw("misc_timeout", Int(0, UINT32_MAX))
    misc_dynamic: bool = kw("misc_dynamic", Flag(), False)
    user: Optional[tuple[str, ...]] = kw("user", UserGroup())
    connect_timeout: Optional[float] = kw(
        "connect_timeout", Float(0.0), support=Support.PARSED,
        note="the script's time limit is misc_timeout; MISC_CHECK makes no connection")
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "MISC_CHECK"
    DEFAULT_RETRY: ClassVar[int] = 0  # "The retry default is 0."


@dataclass
class UdpCheck(ConnChecker):
    payload: Optional[tuple[str, ...]] = kw("payload", HexString())
    require_reply: Optional[tuple[str, ...]] = kw("require_reply", HexString(mask=True, min_args=0))
    min_reply_length: Optional[int] = kw("min_reply_length", Int(0, 65535))
    max_reply_length: Optional[int] = kw("max_reply_length", Int(0, 65535))
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "UDP_CHECK"


@dataclass
class PingCheck(ConnChecker):
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "PING_CHECK"
    NEEDS_PORT: ClassVar[bool] = False


@dataclass
class FileCheck(Block):
    """FILE_CHECK has none of the standard options."""

    track_file: Optional[str] = kw("track_file", Str())
    dynamic: bool = kw("dynamic", Flag(), False)
    weight: Optional[TrackWeight] = kw("weight", TrackWeightType())
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "FILE_CHECK"


@dataclass
class BfdCheck(Block):
    name: Optional[str] = kw("name", Str())
    _pos: dict = positions()

    KEYWORD: ClassVar[str] = "BFD_CHECK"


CHECKERS: dict[str, Any] = {
    c.KEYWORD: c
    for c in (TcpCheck, HttpGetCheck, SslGetCheck, SmtpCheck, DnsCheck, MiscCheck, UdpCheck, PingCheck, FileCheck)
}

_SNMP_NOTE = "fastka has no SNMP agent"


# --- real_server / virtual_server ------------------------------------------------------


@dataclass
class RealServer(Block):
    ip: str
    port: Optional[int] = None
    weight: Optional[int] = kw("weight", Int(0, 65535))
    lvs_method: Optional[LvsMethod] = kw("lvs_method", LvsMethodType())
    notify_up: Optional[tuple[str, ...]] = kw("notify_up", Script())
    notify_down: Optional[tuple[str, ...]] = kw("notify_down", Script())
    uthreshold: Optional[int] = kw("uthreshold", Int(0, UINT32_MAX))
    lthreshold: Optional[int] = kw("lthreshold", Int(0, UINT32_MAX))
    smtp_alert: Optional[bool] = kw("smtp_alert", Flag())
    virtualhost: Optional[str] = kw("virtualhost", Str())
    snmp_name: Optional[str] = kw("snmp_name", Text(), support=Support.PARSED, note=_SNMP_NOTE)
    alpha: Optional[bool] = kw("alpha", Flag())
    connect_timeout: Optional[float] = kw("connect_timeout", Float(0.0))
    retry: Optional[int] = kw("retry", Int(1, UINT32_MAX))
    delay_before_retry: Optional[float] = kw("delay_before_retry", Float(0.0))
    warmup: Optional[float] = kw("warmup", Float(0.0))
    delay_loop: Optional[float] = kw("delay_loop", Float(0.0))
    inhibit_on_failure: Optional[bool] = kw("inhibit_on_failure", Flag())
    checkers: list[Any] = sub("checker", CHECKERS, multi=True)
    bfd_checks: list[BfdCheck] = sub("BFD_CHECK", BfdCheck, multi=True, support=Support.PARSED,
                                     note="fastka has no BFD")
    _pos: dict = positions()

    HEADER = ("ip", "port")

    @property
    def family(self) -> int:
        return family_of(self.ip)


@dataclass
class VirtualServer(Block):
    ip: Optional[str] = None
    port: Optional[int] = None
    fwmark: Optional[int] = None
    group: Optional[str] = None
    ip_family: Optional[str] = kw("ip_family", Choice(("inet", "inet6"), case=True))
    lvs_sched: Optional[str] = kw("lvs_sched", Str(), aliases=("lb_algo",))
    hashed: bool = kw("hashed", Flag(), False, support=Support.IGNORED,
                      note="IPVS's internal 'hashed' service flag; ipvsadm has no option for it")
    flag_1: bool = kw("flag-1", Flag(), False)
    flag_2: bool = kw("flag-2", Flag(), False)
    flag_3: bool = kw("flag-3", Flag(), False)
    sh_port: bool = kw("sh-port", Flag(), False)
    sh_fallback: bool = kw("sh-fallback", Flag(), False)
    mh_port: bool = kw("mh-port", Flag(), False)
    mh_fallback: bool = kw("mh-fallback", Flag(), False)
    ops: bool = kw("ops", Flag(), False)
    lvs_method: Optional[LvsMethod] = kw("lvs_method", LvsMethodType(), aliases=("lb_kind",))
    persistence_engine: Optional[str] = kw("persistence_engine", Str())
    persistence_timeout: Optional[int] = kw("persistence_timeout",
                                            OptionalInt(1, UINT32_MAX, DEFAULT_PERSISTENCE_TIMEOUT))
    persistence_granularity: Optional[str] = kw("persistence_granularity", Str())
    protocol: Optional[str] = kw("protocol", Choice(("TCP", "UDP", "SCTP")))
    ha_suspend: bool = kw("ha_suspend", Flag(), False)
    smtp_alert: Optional[bool] = kw("smtp_alert", Flag())
    virtualhost: Optional[str] = kw("virtualhost", Str())
    snmp_name: Optional[str] = kw("snmp_name", Text(), support=Support.PARSED, note=_SNMP_NOTE)
    alpha: bool = kw("alpha", Flag(), False)
    omega: bool = kw("omega", Flag(), False)
    quorum: Optional[int] = kw("quorum", Int(1, UINT32_MAX))
    hysteresis: Optional[int] = kw("hysteresis", Int(0, UINT32_MAX))
    quorum_up: Optional[tuple[str, ...]] = kw("quorum_up", Script())
    quorum_down: Optional[tuple[str, ...]] = kw("quorum_down", Script())
    weight: Optional[int] = kw("weight", Int(1, 65535))  # default weight of its real servers
    sorry_server: Optional[Server] = kw("sorry_server", ServerType())
    sorry_server_inhibit: bool = kw("sorry_server_inhibit", Flag(), False)
    sorry_server_lvs_method: Optional[LvsMethod] = kw("sorry_server_lvs_method", LvsMethodType())
    connect_timeout: Optional[float] = kw("connect_timeout", Float(0.0))
    retry: Optional[int] = kw("retry", Int(1, UINT32_MAX))
    delay_before_retry: Optional[float] = kw("delay_before_retry", Float(0.0))
    warmup: Optional[float] = kw("warmup", Float(0.0))
    delay_loop: Optional[float] = kw("delay_loop", Float(0.0))
    inhibit_on_failure: bool = kw("inhibit_on_failure", Flag(), False)
    real_servers: list[RealServer] = sub("real_server", RealServer, header=AddrPortHeader(), multi=True)
    _pos: dict = positions()

    HEADER = ("ip", "port", "fwmark", "group")

    @property
    def label(self) -> str:
        """How the virtual server is written: ``10.0.0.1 80``, ``fwmark 1``, ``group G``."""
        return " ".join(VirtualServerHeader().format(self))


# --- defaults ----------------------------------------------------------------------------


def _global_smtp_alert(config: Any) -> Optional[bool]:
    """global_defs smtp_alert_checker, else smtp_alert, when the user set one."""
    gd = getattr(config, "global_defs", None)
    if gd is None:
        return None
    written = getattr(gd, "_pos", {})
    for name in ("smtp_alert_checker", "smtp_alert"):
        v = getattr(gd, name, None)
        if isinstance(v, bool) and (name in written or v):
            return v
    return None


def _fwmark_only(vs: VirtualServer, groups: dict[str, VirtualServerGroup]) -> bool:
    if vs.fwmark is not None:
        return True
    g = groups.get(vs.group or "") if vs.group is not None else None
    return g is not None and not g.has_addresses and bool(g.entries)


def drop_ignored(config: Any, diags: Any) -> None:
    """Values keepalived reads and then ignores, keeping its default, with a warning:
    fastka does the same (before apply_defaults, so the default flows down). Today:
    ``delay_loop 0`` (keepalived's range starts at 0.000001 s; a checker without
    a delay would probe back to back)."""
    def check(block: Any, what: str) -> None:
        if getattr(block, "delay_loop", None) == 0:
            block.delay_loop = None
            diags.warning(f"{what}: delay_loop 0 is out of keepalived's range (from 0.000001 s); keepalived "
                          "ignores it, and so does fastka: the default applies", block.pos_of("delay_loop"))

    for vs in getattr(config, "virtual_servers", []):
        check(vs, f"virtual_server {vs.label}")
        for rs in vs.real_servers:
            check(rs, f"real_server {rs.ip}")
            for ch in rs.checkers:
                check(ch, getattr(ch, "KEYWORD", type(ch).__name__))


def apply_defaults(config: Any) -> None:
    """Fill effective values: keepalived's defaults and the virtual_server -> real_server
    -> checker cascade. A value the user wrote is never changed, so applying this to a
    model re-read from its dump changes nothing."""
    alert = _global_smtp_alert(config)
    groups = {g.name: g for g in getattr(config, "virtual_server_groups", [])}
    for vs in getattr(config, "virtual_servers", []):
        _vs_defaults(vs, groups, alert)


def _vs_defaults(vs: VirtualServer, groups: dict[str, VirtualServerGroup], alert: Optional[bool]) -> None:
    if vs.lvs_sched is None:
        vs.lvs_sched = DEFAULT_SCHED
    if vs.lvs_method is None:
        vs.lvs_method = LvsMethod(DEFAULT_METHOD)
    if vs.protocol is None and not _fwmark_only(vs, groups):
        vs.protocol = DEFAULT_PROTOCOL  # a fwmark service has no protocol
    if vs.persistence_timeout is None:
        g = groups.get(vs.group) if vs.group is not None else None
        if (vs.persistence_granularity is not None  # granularity makes the service persistent
                or (vs.ip is not None and not vs.port)  # "port ... can only be omitted if ... persistent"
                or (g is not None and any(e.ip is not None and not e.port for e in g.entries))):
            vs.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT
    if vs.quorum is None:
        vs.quorum = DEFAULT_QUORUM
    if vs.hysteresis is None:
        vs.hysteresis = DEFAULT_HYSTERESIS
    if vs.delay_loop is None:
        vs.delay_loop = DEFAULT_DELAY_LOOP
    if vs.connect_timeout is None:
        vs.connect_timeout = DEFAULT_CONNECT_TIMEOUT
    if vs.smtp_alert is None:
        # "default no, unless global smtp_alert/smtp_alert_checker set"
        vs.smtp_alert = alert if alert is not None else False
    if vs.sorry_server is not None:
        if vs.sorry_server_lvs_method is None:
            vs.sorry_server_lvs_method = replace(vs.lvs_method)  # "Default is the virtual server's default."
        if vs.sorry_server.port is None and vs.ip is not None and vs.port:
            vs.sorry_server = Server(vs.sorry_server.ip, vs.port)
    for rs in vs.real_servers:
        _rs_defaults(vs, rs, alert)


def _rs_defaults(vs: VirtualServer, rs: RealServer, alert: Optional[bool]) -> None:
    if rs.port is None and vs.ip is not None and vs.port:
        rs.port = vs.port  # keepalived gives a port-less real server the virtual server's port
    if rs.weight is None:
        rs.weight = vs.weight if vs.weight is not None else DEFAULT_WEIGHT
    if rs.lvs_method is None:
        assert vs.lvs_method is not None
        # "The default setting is taken from the virtual_server's"; one object, shared
        # (a loaded model is not changed in place)
        rs.lvs_method = vs.lvs_method
    if rs.smtp_alert is None:
        # "default yes, unless global smtp_alert/smtp_alert_checker set" (not the virtual server's)
        rs.smtp_alert = alert if alert is not None else True
    if rs.virtualhost is None:
        rs.virtualhost = vs.virtualhost
    if rs.alpha is None:
        rs.alpha = vs.alpha
    if rs.inhibit_on_failure is None:
        rs.inhibit_on_failure = vs.inhibit_on_failure
    if rs.connect_timeout is None:
        rs.connect_timeout = vs.connect_timeout
    if rs.delay_loop is None:
        rs.delay_loop = vs.delay_loop
    # these have per-checker defaults, so only a value written on the virtual server flows down
    if rs.retry is None:
        rs.retry = vs.retry
    if rs.delay_before_retry is None:
        rs.delay_before_retry = vs.delay_before_retry
    if rs.warmup is None:
        rs.warmup = vs.warmup
    for ch in rs.checkers:
        _checker_defaults(rs, ch)


def _checker_defaults(rs: RealServer, ch: Any) -> None:
    if isinstance(ch, Checker):
        if ch.alpha is None:
            ch.alpha = rs.alpha
        if ch.delay_loop is None:
            ch.delay_loop = rs.delay_loop
        if ch.retry is None:
            ch.retry = rs.retry if rs.retry is not None else type(ch).DEFAULT_RETRY
        if ch.warmup is None:
            # "Enabled by default, with the maximum at delay_loop."
            ch.warmup = rs.warmup if rs.warmup is not None else ch.delay_loop
        if ch.delay_before_retry is None:
            dflt = type(ch).DEFAULT_DELAY_BEFORE_RETRY
            ch.delay_before_retry = (rs.delay_before_retry if rs.delay_before_retry is not None
                                     else dflt if dflt is not None else ch.delay_loop)
    if isinstance(ch, SmtpCheck) and ch.hosts:
        # with host blocks, the hosts are what is checked (the sample config: "the main ip
        # of the real_server ... must explicitly be checked by a host directive"); the
        # checker's own connection options are defaults for its hosts
        for h in ch.hosts:
            for name in ("bindto", "bind_port", "bind_if", "fwmark"):
                if getattr(h, name) is None:
                    setattr(h, name, getattr(ch, name))
            _conn_defaults(h, ch.connect_ip or rs.ip,
                           ch.connect_port if ch.connect_port is not None else rs.port,
                           ch.connect_timeout if ch.connect_timeout is not None else rs.connect_timeout)
    elif isinstance(ch, ConnChecker):
        _conn_defaults(ch, rs.ip, rs.port, rs.connect_timeout)
    if isinstance(ch, HttpGetCheck):
        if ch.virtualhost is None:
            ch.virtualhost = rs.virtualhost
        for url in ch.urls:
            if url.virtualhost is None:
                url.virtualhost = ch.virtualhost
            if url.status_code is None:
                url.status_code = DEFAULT_STATUS_CODES
    elif isinstance(ch, DnsCheck):
        if ch.type is None:
            ch.type = DEFAULT_DNS_TYPE
        if ch.name is None:
            ch.name = DEFAULT_DNS_NAME
    elif isinstance(ch, UdpCheck):
        if ch.min_reply_length is None:
            ch.min_reply_length = DEFAULT_MIN_REPLY_LENGTH
        if ch.max_reply_length is None:
            ch.max_reply_length = DEFAULT_MAX_REPLY_LENGTH


def _conn_defaults(co: _ConnOpts, ip: Optional[str], port: Optional[int], timeout: Optional[float]) -> None:
    if co.connect_ip is None:
        co.connect_ip = ip  # "The default is the realserver IP"
    if co.connect_port is None and port:  # port 0: none (keepalived refuses connect_port 0)
        co.connect_port = port  # "The default is the realserver port"
    if co.connect_timeout is None:
        co.connect_timeout = timeout
