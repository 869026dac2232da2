"""Value types: how the arguments of a keyword become typed Python values and back.

Each type parses a list of argument tokens and formats a value back into
keepalived syntax, so the same table drives parsing, error messages (`expected`)
and `fastka -d`. A type reports a bad argument by raising `BadValue` naming the
offending token; the loader turns that into a positioned diagnostic.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from decimal import Decimal
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from .source import Token

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class BadValue(Exception):
    def __init__(self, message: str, token: Optional[Token] = None, expected: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.token = token
        self.expected = expected


def quote(word: str) -> str:
    """Quote a word for keepalived syntax when it would not survive as a bare word."""
    if word and not re.search(r"[\s\"'#!{}\\]", word):
        return word
    esc = word.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{esc}"'


class ValueType:
    expected: str = "a value"
    min_args = 1
    max_args: Optional[int] = 1  # None: any number

    def parse(self, args: Sequence[Token]) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> list[str]:
        return [quote(str(value))]

    # helpers
    def check_count(self, args: Sequence[Token], at: Optional[Token]) -> None:
        n = len(args)
        if n < self.min_args:
            raise BadValue("missing value", at, self.expected)
        if self.max_args is not None and n > self.max_args:
            extra = args[self.max_args]
            raise BadValue(f"unexpected extra argument '{extra.text}'", extra, self.expected)


BOOL_WORDS = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}


def parse_bool(tok: Token) -> bool:
    v = BOOL_WORDS.get(tok.text.lower())
    if v is None:
        raise BadValue(f"'{tok.text}' is not a boolean", tok, "one of on|off|true|false|yes|no")
    return v


class Flag(ValueType):
    """A keyword alone means true; keepalived also accepts an explicit BOOL after it."""

    expected = "no argument, or one of on|off|true|false|yes|no"
    min_args = 0

    def parse(self, args: Sequence[Token]) -> bool:
        if not args:
            return True
        return parse_bool(args[0])

    def format(self, value: Any) -> list[str]:
        return [] if value else ["false"]


class Bare(ValueType):
    """A keyword keepalived.conf(5) shows without an argument: written means on.

    keepalived 2.2.7 ignores an argument after such a keyword and turns the option on
    anyway ('nopreempt false' means nopreempt), so an argument is refused rather than
    read the other way round. Keywords documented with ``[<BOOL>]`` use `Flag`. The
    dump leaves an unset Bare keyword out (it has no way to say false)."""

    expected = "no argument (keepalived would ignore it and turn the option on)"
    min_args = 0
    max_args = 0

    def parse(self, args: Sequence[Token]) -> bool:
        return True

    def format(self, value: Any) -> list[str]:
        return []


class Bool(ValueType):
    expected = "one of on|off|true|false|yes|no"

    def parse(self, args: Sequence[Token]) -> bool:
        return parse_bool(args[0])

    def format(self, value: Any) -> list[str]:
        return ["true" if value else "false"]


@dataclass
class Int(ValueType):
    lo: Optional[int] = None
    hi: Optional[int] = None
    base0: bool = False  # accept 0x.. / 0.. like strtol(,,0)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return _int_range_text(self.lo, self.hi)

    def parse(self, args: Sequence[Token]) -> int:
        return parse_int(args[0], self.lo, self.hi, self.base0)


def _int_range_text(lo: Optional[int], hi: Optional[int]) -> str:
    if lo is not None and hi is not None:
        return f"an integer from {lo} to {hi}"
    if lo is not None:
        return f"an integer >= {lo}"
    return "an integer"


def _int0(text: str) -> int:
    """strtol(, , 0) without octal surprises: 0x.. is hex, anything else decimal."""
    neg = text.startswith("-")
    body = text[1:] if neg else text
    v = int(body, 16) if body[:2] in ("0x", "0X") else int(body)
    return -v if neg else v


_INTS: dict[str, int] = {}  # decimal text -> its value: configurations repeat their numbers


def parse_int(tok: Token, lo: Optional[int], hi: Optional[int], base0: bool = False,
              expected: Optional[str] = None) -> int:
    """An integer as keepalived reads it, in [lo, hi]; ``expected`` (default: the range)
    is only built for an error, so the common case costs one dict lookup (a regex
    match and int() the first time a text is seen: under emulation those cost 20 us)."""
    text = tok.text
    v = _INTS.get(text)
    if v is None:
        if not (_INTEGER0 if base0 else _INTEGER).match(text):
            raise BadValue(f"'{text}' is not an integer", tok, expected or _int_range_text(lo, hi))
        v = _int0(text) if base0 else int(text)
        if not base0 or _INTEGER.match(text):  # the same value either way: shared
            if len(_INTS) >= 65536:
                _INTS.clear()
            _INTS[text] = v
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise BadValue(f"{v} is out of range", tok, expected or _int_range_text(lo, hi))
    return v


# what keepalived's number readers take: ASCII digits, an optional sign, no exponent,
# no '_' separators; decimals to the microsecond
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]{0,6})?\Z|-?\.[0-9]{1,6}\Z")
_DECIMAL_ANY = re.compile(r"-?[0-9]*\.[0-9]+\Z")
_INTEGER = re.compile(r"-?[0-9]+\Z")
_INTEGER0 = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z")


@dataclass
class Float(ValueType):
    """A TIMER or other decimal; seconds unless the keyword says otherwise."""

    lo: Optional[float] = None
    hi: Optional[float] = None
    unit: str = "seconds"

    @property
    def expected(self) -> str:  # type: ignore[override]
        if self.lo is not None and self.hi is not None:
            return f"a number of {self.unit} from {self.lo:g} to {self.hi:g}"
        if self.lo is not None:
            return f"a number of {self.unit} >= {self.lo:g}"
        return f"a number of {self.unit}"

    def parse(self, args: Sequence[Token]) -> float:
        tok = args[0]
        if not _DECIMAL.match(tok.text):
            if _DECIMAL_ANY.match(tok.text):
                raise BadValue(f"'{tok.text}' has more than 6 decimal places (keepalived's resolution is 1 us)",
                               tok, self.expected)
            raise BadValue(f"'{tok.text}' is not a number", tok, self.expected)
        v = float(tok.text)
        if v != v or v in (float("inf"), float("-inf")):
            raise BadValue(f"'{tok.text}' is not a finite number", tok, self.expected)
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise BadValue(f"{tok.text} is out of range", tok, self.expected)
        return v

    def format(self, value: Any) -> list[str]:
        # the shortest text that reads back as the same float, never an exponent
        # (`:g` keeps 6 digits: 4.1234567 -> 4.12346, 999999999999 -> 1e+12)
        text = format(Decimal(repr(float(value))), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return [text]


class Timer(Float):
    """A TIMER: seconds with a fractional part (keepalived.conf(5), PARAMETER SYNTAX)."""


class Str(ValueType):
    expected = "a word"

    def parse(self, args: Sequence[Token]) -> str:
        return args[0].text


class Words(ValueType):
    """The rest of the line as a list of words (e.g. a script with arguments)."""

    expected = "one or more words"
    max_args = None

    def __init__(self, min_args: int = 1):
        self.min_args = min_args

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(w) for w in value]


@dataclass
class Choice(ValueType):
    choices: tuple[str, ...]
    case: bool = False  # case sensitive?

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "one of " + "|".join(self.choices)

    def parse(self, args: Sequence[Token]) -> str:
        t = args[0].text
        for c in self.choices:
            if t == c or (not self.case and t.lower() == c.lower()):
                return c
        raise BadValue(f"'{t}' is not a valid choice", args[0], self.expected)


@dataclass
class IP(ValueType):
    family: Optional[int] = None  # 4, 6 or None for either

    @property
    def expected(self) -> str:  # type: ignore[override]
        return {4: "an IPv4 address", 6: "an IPv6 address"}.get(self.family or 0, "an IP address")

    def parse(self, args: Sequence[Token]) -> IPAddress:
        return parse_ip(args[0], self.family, self.expected)


# a dotted quad in the canonical form (no leading zeros): what ipaddress would print back
IPV4_TEXT = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(IPV4_TEXT + r"\Z")


def parse_ip(tok: Token, family: Optional[int] = None, expected: str = "an IP address") -> IPAddress:
    text = tok.text
    if "%" in text:  # fe80::1%eth0: the scope belongs to the interface, keep the address
        text = text.split("%", 1)[0]
    if _IPV4.match(text):  # the common case, without ipaddress's per-octet parsing
        a: IPAddress = ipaddress.IPv4Address(int.from_bytes(socket.inet_aton(text), "big"))
        if family == 6:
            raise BadValue(f"'{tok.text}' is an IPv4 address", tok, expected)
        return a
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        raise BadValue(f"'{tok.text}' is not an IP address", tok, expected) from None
    if family and a.version != family:
        raise BadValue(f"'{tok.text}' is an IPv{a.version} address", tok, expected)
    return a


_IP_TEXT: dict[str, str] = {}  # text as written -> canonical text, for addresses that parsed


def ip_text(tok: Token, family: Optional[int] = None, expected: str = "an IP address") -> str:
    """The canonical text of the address tok holds (what ``str(parse_ip(tok))`` gives).

    Large configurations repeat their addresses (the same real servers behind many
    virtual servers), so each text is parsed once per process."""
    text = tok.text
    canon = _IP_TEXT.get(text)
    if canon is None:
        canon = text if "%" not in text and _IPV4.match(text) else str(parse_ip(tok))
        if len(_IP_TEXT) < 1 << 20:
            _IP_TEXT[text] = canon
    if family is not None and (6 if ":" in canon else 4) != family:
        parse_ip(tok, family, expected)  # raises with the message parse_ip gives
    return canon


def parse_prefix(tok: Token, expected: str = "an address with optional /prefix") -> tuple[IPAddress, int]:
    """ADDR[/LEN]: returns the address as written (host bits kept) and the length."""
    text = tok.text
    addr, _, plen = text.partition("/")
    a = parse_ip(Token(addr, tok.pos, tok.quoted), None, expected)
    maxlen = 32 if a.version == 4 else 128
    if not plen:
        return a, maxlen
    try:
        n = int(plen)
    except ValueError:
        raise BadValue(f"'{plen}' is not a prefix length", tok, expected) from None
    if not 0 <= n <= maxlen:
        raise BadValue(f"prefix length {n} is out of range for IPv{a.version}", tok, f"0 to {maxlen}")
    return a, n


class Prefix(ValueType):
    expected = "an address with optional /prefix"

    def parse(self, args: Sequence[Token]) -> str:
        a, n = parse_prefix(args[0])
        return f"{a}/{n}"


class Port(Int):
    def __init__(self) -> None:
        super().__init__(0, 65535)


class Command(ValueType):
    """A command line given as one word (``misc_path "/x.sh arg"``).

    keepalived takes the first word and silently ignores the rest, so
    ``misc_path /x.sh arg`` would run /x.sh without its argument: refused."""

    expected = "the command, quoted if it has arguments: \"/path/script arg ...\""
    max_args = None

    def parse(self, args: Sequence[Token]) -> str:
        if len(args) > 1:
            whole = " ".join(t.text for t in args)
            raise BadValue(f"keepalived would run only '{args[0].text}' and ignore '{args[1].text}'",
                           args[1], f'the whole command in quotes: "{whole}"')
        return args[0].text

    def format(self, value: Any) -> list[str]:
        return [quote(value)]


class Script(ValueType):
    """A script to run: ``"command args" [username [groupname]]``."""

    expected = "a script (quoted if it has arguments), optionally followed by username [groupname]"
    max_args = 3

    def parse(self, args: Sequence[Token]) -> tuple[str, ...]:
        return tuple(t.text for t in args)

    def format(self, value: Any) -> list[str]:
        return [quote(w) for w in value]
