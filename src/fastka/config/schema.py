"""Declaring keywords on model dataclasses.

A block of keepalived.conf is a dataclass; each keyword it accepts is a field
declared with :func:`kw` (a scalar keyword, a flag, a repeated keyword), :func:`sub`
(a nested block such as ``authentication { }`` or ``real_server IP PORT { }``)
or :func:`lines` (a block whose every line is one item, such as
``virtual_ipaddress { }``). The field's metadata is the single source of truth
for the keyword's name, aliases, value type, whether it repeats, and whether
fastka acts on it; the loader (`loader.py`) and the dumper (`dump.py`) read it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from enum import Enum
from typing import Any, Callable, ClassVar, Optional, Sequence

from .source import Pos, Token
from .values import ValueType


class Support(Enum):
    YES = "yes"  # fastka implements it (or an open issue will, see docs/config.md)
    PARSED = "parsed"  # accepted and kept, but fastka does not act on it: reported
    IGNORED = "ignored"  # obsolete in keepalived too; accepted for compatibility, reported


@dataclass(frozen=True)
class Spec:
    """What the loader needs to know about one field."""

    keyword: str
    kind: str  # "value" | "sub" | "lines" | "items"
    type: Optional[ValueType] = None  # value: the args; lines: each line
    aliases: tuple[str, ...] = ()
    multi: bool = False  # repeated keyword -> list (value), several blocks (sub)
    support: Support = Support.YES
    block: Any = None  # sub: the dataclass (or a dict keyword -> dataclass)
    header: Optional[ValueType] = None  # sub: the args after the keyword
    per_word: bool = False  # lines: every word of every line is one item
    note: str = ""  # why it is PARSED / IGNORED, for the report
    # a keyword given twice, as keepalived treats it: "last" replaces, "first" keeps the
    # first, "merge" adds the values up (tuples are concatenated)
    repeat: str = "last"
    key: Optional[Callable[[Any], Any]] = None  # multi sub: identity for duplicates

    @property
    def names(self) -> tuple[str, ...]:
        if isinstance(self.block, dict):
            return tuple(self.block)
        if self.kind == "items":
            return ()
        return (self.keyword, *self.aliases)


def _field(spec: Spec, default: Any, default_factory: Any) -> Any:
    md = {"spec": spec}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=md)
    return field(default=default, metadata=md)


def kw(
    keyword: str,
    type: ValueType,
    default: Any = None,
    *,
    aliases: Sequence[str] = (),
    multi: bool = False,
    support: Support = Support.YES,
    note: str = "",
    repeat: str = "last",
) -> Any:
    """A keyword with arguments on its line. ``multi`` collects repeats into a list;
    ``repeat`` says what a second occurrence does (see Spec.repeat)."""
    spec = Spec(keyword, "value", type, tuple(aliases), multi, support, note=note, repeat=repeat)
    if multi:
        return _field(spec, MISSING, list)
    return _field(spec, default, MISSING)


def sub(
    keyword: str,
    block: Any,
    *,
    header: Optional[ValueType] = None,
    aliases: Sequence[str] = (),
    multi: bool = False,
    support: Support = Support.YES,
    note: str = "",
    key: Optional[Callable[[Any], Any]] = None,
) -> Any:
    """A nested block. ``block`` may be a dict {keyword: dataclass} for a field that
    collects several block kinds (the checkers of a real_server)."""
    spec = Spec(keyword, "sub", None, tuple(aliases), multi, support, block, header, note=note, key=key)
    if multi:
        return _field(spec, MISSING, list)
    return _field(spec, None, MISSING)


def lines(
    keyword: str,
    type: ValueType,
    *,
    aliases: Sequence[str] = (),
    per_word: bool = False,
    support: Support = Support.YES,
    note: str = "",
) -> Any:
    """A block whose lines (or words, with ``per_word``) are each one list item."""
    spec = Spec(keyword, "lines", type, tuple(aliases), False, support, per_word=per_word, note=note)
    return _field(spec, MISSING, list)


def items(type: ValueType, *, support: Support = Support.YES, note: str = "") -> Any:
    """The block's own lines: every line of the block that is none of its keywords is
    one list item, parsed whole (first word included) by ``type``, as the entries of
    ``virtual_server_group NAME { 10.0.0.1 80 ... }``."""
    spec = Spec("", "items", type, (), False, support, note=note)
    return _field(spec, MISSING, list)


def items_field(cls: Any) -> Optional[tuple[dataclasses.Field, Spec]]:
    """The ``items`` field of a block class, if it has one."""
    try:
        return _ITEMS[cls]
    except KeyError:
        found = next(((f, s) for f, s in specs(cls) if s.kind == "items"), None)
        _ITEMS[cls] = found
        return found


_ITEMS: dict[Any, Optional[tuple[dataclasses.Field, Spec]]] = {}


def positions() -> Any:
    """Where each keyword of a block was written; not part of equality or repr."""
    return field(default_factory=dict, compare=False, repr=False)


class Block:
    """Base of every block dataclass.

    ``_pos`` maps field name -> Pos of the keyword (``""`` -> the block itself).
    ``HEADER`` names the fields filled from the block's header arguments.
    """

    HEADER: ClassVar[tuple[str, ...]] = ()
    _pos: dict[str, Pos]

    def pos_of(self, name: str = "") -> Optional[Pos]:
        return self._pos.get(name) or self._pos.get("")

    def given(self, name: str) -> bool:
        """Was the keyword of field ``name`` written (even with a value that was refused)?

        Checks for a missing keyword use this so that a refused value is reported
        once, as the bad value it is, not a second time as missing."""
        return name in self._pos


def specs(cls: Any) -> list[tuple[dataclasses.Field, Spec]]:
    out = _SPECS.get(cls)
    if out is None:
        out = [(f, f.metadata["spec"]) for f in dataclasses.fields(cls) if "spec" in f.metadata]
        _SPECS[cls] = out
    return out


def keyword_table(cls: Any) -> dict[str, tuple[dataclasses.Field, Spec]]:
    """keyword or alias -> (field, spec) for a block class."""
    table = _TABLES.get(cls)
    if table is None:
        table = {}
        for f, s in specs(cls):
            for name in s.names:
                table[name] = (f, s)
        _TABLES[cls] = table
    return table


_SPECS: dict[Any, list[tuple[dataclasses.Field, Spec]]] = {}
_TABLES: dict[Any, dict[str, tuple[dataclasses.Field, Spec]]] = {}


class HeaderType(ValueType):
    """Header of a block: fills several fields of the block from the keyword's args.

    Subclasses return a dict field-name -> value from ``parse``.
    """

    def parse(self, args: Sequence[Token]) -> dict[str, Any]:
        raise NotImplementedError

    def format(self, value: Any) -> list[str]:  # value: the block
        raise NotImplementedError
