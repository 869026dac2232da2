"""The keyword table of the whole model, for `fastka keywords` and the docs."""

from __future__ import annotations

from typing import Any, Iterator

from .model import Config
from .schema import specs


def keyword_rows(root: Any = Config) -> Iterator[tuple[str, str, str, str]]:
    """(block, keyword, support, note) for every keyword, aliases as 'name (alias of x)'."""
    seen: set[tuple[Any, str]] = set()

    def walk(cls: Any, label: str) -> Iterator[tuple[str, str, str, str]]:
        if (cls, label) in seen:
            return
        seen.add((cls, label))
        for _, s in specs(cls):
            blocks = s.block if isinstance(s.block, dict) else ({s.keyword: s.block} if s.kind == "sub" else {})
            if s.kind == "items":  # the block's own lines: show their syntax
                yield label, f"<{s.type.expected if s.type else 'line'}>", s.support.value, s.note
                continue
            names = tuple(blocks) if blocks else (s.keyword,)
            for name in names:
                yield label, name, s.support.value, s.note
            for alias in s.aliases:
                yield label, alias, s.support.value, f"alias of {s.keyword}"
            for name, sub_cls in blocks.items():
                yield from walk(sub_cls, name)

    yield from walk(root, "top-level")
