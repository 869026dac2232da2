"""Keyword tree -> typed model, driven by the field specs of the model dataclasses.

Every problem becomes a positioned diagnostic and loading goes on, so one run
reports every error in the file. Keywords fastka accepts but does not act on
are reported, never silently taken.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Optional

from .schema import Spec, Support, items_field, keyword_table
from .source import Diagnostics, Pos
from .tree import Node
from .values import BadValue


class Loader:
    def __init__(self, diags: Diagnostics, root_cls: Any):
        self.diags = diags
        self.root_cls = root_cls
        self._where: Optional[dict[str, list[str]]] = None

    # -- public -------------------------------------------------------------
    def load(self, nodes: list[Node], pos: Pos) -> Any:
        return self.block(self.root_cls, nodes, {}, pos, "top level")

    # -- blocks -------------------------------------------------------------
    def block(self, cls: Any, nodes: list[Node], header: dict[str, Any], pos: Pos, ctx: str) -> Any:
        table = keyword_table(cls)
        every_line = items_field(cls)
        values: dict[str, Any] = dict(header)
        where: dict[str, Pos] = {"": pos}
        for node in nodes:
            hit = table.get(node.name)
            if hit is None:
                if every_line is not None:
                    self.item(node, every_line[0].name, every_line[1], values, where)
                else:
                    self.unknown(node, table, ctx)
                continue
            f, spec = hit
            if spec.support is not Support.YES:
                self.report_support(node, spec)
            kind = spec.kind
            if kind == "value":
                name = f.name
                if node.children is None and not spec.multi and name not in values:
                    # the common case, inlined: a single keyword with valid arguments
                    t = spec.type
                    args = node.args
                    if (t.min_args <= len(args) and (t.max_args is None or len(args) <= t.max_args)):  # type: ignore[union-attr]
                        try:
                            values[name] = t.parse(args)  # type: ignore[union-attr]
                            where[name] = node.keyword.pos
                            continue
                        except BadValue:
                            pass  # the general path reports it
                self.value(node, name, spec, values, where)
            elif kind == "sub":
                self.sub(node, f.name, spec, values, where)
            else:
                self.lines(node, f.name, spec, values, where)
        try:
            obj = cls(**values)
        except TypeError as e:  # a required header field is missing: already reported
            missing = [f.name for f in dataclasses.fields(cls) if f.name not in values
                       and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
            for name in missing:
                values[name] = None
            try:
                obj = cls(**values)
            except TypeError:
                raise e from None
        obj._pos = where
        return obj

    def value(self, node: Node, name: str, spec: Spec, values: dict[str, Any], where: dict[str, Pos]) -> None:
        if node.children is not None:
            self.diags.error(f"'{node.name}' does not take a block", node.pos,
                             expected=f"{node.name} {spec.type.expected if spec.type else ''}".strip())
            return
        v = self.convert(node, spec)
        if v is _BAD:
            where.setdefault(name, node.pos)  # given, but refused (see Block.given)
            return
        if spec.multi:
            values.setdefault(name, []).append(v)
            where.setdefault(name, node.pos)
            return
        if name in values:
            if spec.repeat == "merge":
                old = values[name]  # keepalived adds them up
                values[name] = old.merge(v) if hasattr(old, "merge") else tuple(old) + tuple(v)
                return
            if spec.repeat == "first":
                self.diags.warning(f"'{node.name}' is given again; keepalived keeps the value at {where[name]}",
                                   node.pos)
                return
            self.diags.warning(f"'{node.name}' is given again; the value at {where[name]} is replaced", node.pos)
        values[name] = v
        where[name] = node.pos

    def convert(self, node: Node, spec: Spec) -> Any:
        t = spec.type
        assert t is not None
        try:
            t.check_count(node.args, node.keyword)
            return t.parse(node.args)
        except BadValue as e:
            tok = e.token or node.keyword
            self.diags.error(f"{node.name}: {e.message}", tok.pos, expected=e.expected or t.expected)
            return _BAD

    def item(self, node: Node, name: str, spec: Spec, values: dict[str, Any], where: dict[str, Pos]) -> None:
        """A line of a block whose lines are its items (``items``)."""
        t = spec.type
        assert t is not None
        if spec.support is not Support.YES:
            self.report_support(node, spec)
        if node.children is not None:
            self.diags.error(f"'{node.name}' cannot open a block here", node.pos, expected=t.expected)
            return
        toks = node.tokens
        try:
            t.check_count(toks, node.keyword)
            v = t.parse(toks)
        except BadValue as e:
            tok = e.token or node.keyword
            self.diags.error(e.message, tok.pos, expected=e.expected or t.expected)
            return
        values.setdefault(name, []).append(v)
        where.setdefault(name, node.pos)

    def sub(self, node: Node, name: str, spec: Spec, values: dict[str, Any], where: dict[str, Pos]) -> None:
        cls = spec.block[node.name] if isinstance(spec.block, dict) else spec.block
        if node.children is None:
            self.diags.error(f"'{node.name}' needs a block", node.pos,
                             expected=f"{node.name} {'... ' if spec.header else ''}{{ ... }}")
            return
        header: dict[str, Any] = {}
        if spec.header is not None:
            h = spec.header
            try:
                h.check_count(node.args, node.keyword)
                header = h.parse(node.args)
            except BadValue as e:
                tok = e.token or node.keyword
                self.diags.error(f"{node.name}: {e.message}", tok.pos, expected=e.expected or h.expected)
                header = {"_bad_header": True}
        elif node.args:
            self.diags.error(f"'{node.name}' takes no argument before its block", node.args[0].pos,
                             expected=f"{node.name} {{ ... }}")
        bad = header.pop("_bad_header", False)
        obj = self.block(cls, node.children, header, node.pos, node.name)
        if bad:
            return  # the errors are reported; do not let a half-built block be used
        if spec.multi:
            values.setdefault(name, []).append(obj)
            where.setdefault(name, node.pos)
            return
        if name in values:
            self.diags.warning(f"block '{node.name}' is given again; the one at {where[name]} is replaced",
                               node.pos)
        values[name] = obj
        where[name] = node.pos

    def lines(self, node: Node, name: str, spec: Spec, values: dict[str, Any], where: dict[str, Pos]) -> None:
        t = spec.type
        assert t is not None
        if node.children is None:
            # keepalived accepts a few list keywords with their items on the same line
            if node.args:
                items = [[a] for a in node.args] if spec.per_word else [node.args]
            else:
                self.diags.error(f"'{node.name}' needs a block", node.pos, expected=f"{node.name} {{ ... }}")
                return
        else:
            if node.args:
                self.diags.error(f"'{node.name}' takes no argument before its block", node.args[0].pos,
                                 expected=f"{node.name} {{ ... }}")
            items = []
            for child in node.children:
                if child.children is not None:
                    self.diags.error(f"'{child.name}' in '{node.name}' cannot open a block", child.pos,
                                     expected=t.expected)
                    continue
                if spec.per_word:
                    items.extend([tok] for tok in child.tokens)
                else:
                    items.append(child.tokens)
        out = values.setdefault(name, [])
        if name in where:
            self.diags.warning(f"'{node.name}' is given again; its items are added to those at {where[name]}",
                               node.pos)
        if items:  # an empty block counts as not given (Block.given), a refused item as given
            where.setdefault(name, node.pos)
        for toks in items:
            try:
                t.check_count(toks, toks[0])
                out.append(t.parse(toks))
            except BadValue as e:
                tok = e.token or toks[0]
                self.diags.error(f"{node.name}: {e.message}", tok.pos, expected=e.expected or t.expected)

    # -- reporting ----------------------------------------------------------
    def report_support(self, node: Node, spec: Spec) -> None:
        why = f" ({spec.note})" if spec.note else ""
        if spec.support is Support.PARSED:
            self.diags.warning(f"'{node.name}' is accepted but fastka does not act on it{why}", node.pos)
        else:
            self.diags.warning(f"'{node.name}' is obsolete and ignored{why}", node.pos)

    def unknown(self, node: Node, table: dict[str, Any], ctx: str) -> None:
        close = difflib.get_close_matches(node.name, list(table), n=1, cutoff=0.75)
        hint = None
        if close:
            hint = f"did you mean '{close[0]}'?"
        else:
            elsewhere = self.where_valid().get(node.name)
            if elsewhere:
                hint = f"'{node.name}' belongs in {' or '.join(sorted(set(elsewhere))[:3])}"
            else:
                lower = {k.lower(): k for k in table}
                if node.name.lower() in lower:
                    hint = f"did you mean '{lower[node.name.lower()]}'?"
        self.diags.error(f"unknown keyword '{node.name}' in {ctx}", node.pos, hint=hint)

    def where_valid(self) -> dict[str, list[str]]:
        """keyword -> the blocks it is valid in, over the whole model."""
        if self._where is None:
            from .keywords import keyword_rows  # the one walk over the model's classes

            out: dict[str, list[str]] = {}
            for block, keyword, _, _ in keyword_rows(self.root_cls):
                out.setdefault(keyword, []).append("the top level" if block == "top-level" else block)
            self._where = out
        return self._where


class _Bad:
    pass


_BAD = _Bad()
