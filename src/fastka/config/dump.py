"""Typed model -> normalised keepalived.conf text (``fastka -d``).

The output uses canonical keyword names (never aliases), one keyword per line,
four-space indentation, and only values that differ from the default; parsing
it gives back an equal model (tests check the round trip).
"""

from __future__ import annotations

from typing import Any

from .schema import HeaderType, Spec, specs
from .values import Bare

INDENT = "    "


def dump(config: Any) -> str:
    out: list[str] = []
    _fields(config, 0, out)
    return "\n".join(out) + "\n"


def _line(depth: int, words: list[str]) -> str:
    return INDENT * depth + " ".join(w for w in words)


def _fields(obj: Any, depth: int, out: list[str]) -> None:
    for f, spec in specs(type(obj)):
        v = getattr(obj, f.name)
        if spec.kind == "value":
            _value(spec, f, v, depth, out)
        elif spec.kind == "sub":
            for item in (v if spec.multi else [v] if v is not None else []):
                _sub(spec, item, depth, out)
        elif spec.kind == "items":
            assert spec.type is not None
            for item in v:
                out.append(_line(depth, spec.type.format(item)))
        else:
            if not v:
                continue
            out.append(_line(depth, [spec.keyword, "{"]))
            assert spec.type is not None
            for item in v:
                out.append(_line(depth + 1, spec.type.format(item)))
            out.append(_line(depth, ["}"]))


def _value(spec: Spec, f: Any, v: Any, depth: int, out: list[str]) -> None:
    assert spec.type is not None
    if spec.multi:
        for item in v:
            out.append(_line(depth, [spec.keyword, *spec.type.format(item)]))
        return
    if v is None or v == f.default:
        return
    if v is False and isinstance(spec.type, Bare):
        return  # a no-argument keyword has no way to say false: leave it out
    out.append(_line(depth, [spec.keyword, *spec.type.format(v)]))


def _sub(spec: Spec, item: Any, depth: int, out: list[str]) -> None:
    keyword = spec.keyword
    if isinstance(spec.block, dict):
        keyword = next(k for k, c in spec.block.items() if type(item) is c)
    head = [keyword]
    if isinstance(spec.header, HeaderType):
        head += spec.header.format(item)
    out.append(_line(depth, [*head, "{"]))
    _fields(item, depth + 1, out)
    out.append(_line(depth, ["}"]))
