"""Lines -> a tree of keyword nodes.

keepalived.conf is line oriented: a statement is a keyword and its arguments up
to the end of the line; `{` opens a block that belongs to the statement before
it (on the same line or, as keepalived also accepts, alone on the next line)
and `}` closes it. Braces may share a line with content:
``authentication { auth_type PASS }``.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .. import native as _native
from .source import Diagnostics, Line, Pos, Token


class Node:
    """One statement: keyword, arguments, and its block's children (None: no block).

    A plain __slots__ class: a large file makes hundreds of thousands of these. With
    the native core, its compiled twin (fastka._native, tree.pxi) is used instead."""

    __slots__ = ("keyword", "args", "source", "children", "close")

    def __init__(self, keyword: Token, args: list[Token], source: str,
                 children: Optional[list["Node"]] = None, close: Optional[Pos] = None):
        self.keyword = keyword
        self.args = args
        self.source = source
        self.children = children
        self.close = close

    @property
    def name(self) -> str:
        return self.keyword.text

    @property
    def pos(self) -> Pos:
        return self.keyword.pos

    @property
    def tokens(self) -> list[Token]:
        return [self.keyword, *self.args]

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {[a.text for a in self.args]!r}, children={self.children!r})"


#: the compiled fast path of build_tree and its Node (None: the Python ones run)
_tree_plain = getattr(_native, "tree_plain", None)
if _tree_plain is not None:
    Node = _native.Node  # type: ignore[misc, assignment, union-attr]  # noqa: F811


def build_tree(lines: Sequence[Line], diags: Diagnostics) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node, list[Node]]] = []  # open blocks: (owner, its children)
    level = root
    plain = _tree_plain if isinstance(lines, list) else None
    i, count = 0, len(lines)
    while i < count:
        if plain is not None:
            # the common shapes below, in compiled code, up to a line that needs the rest
            i, level = plain(lines, i, level, stack)
            if i >= count:
                break
        line = lines[i]
        i += 1
        toks = line.tokens
        src = line.source
        # Every token's text comes from the source line unless a parameter or a
        # sequence was substituted, so a source without braces, `$` or `~` cannot
        # hold a block delimiter: one statement (the common case, decided in C).
        if "$" not in src and "~" not in src:
            opens, closes = src.count("{"), src.count("}")
            if not opens and not closes:
                level.append(Node(toks[0], list(toks[1:]), src))
                continue
            # the other common shapes: `keyword args {` and a lone `}` (quoted braces
            # are words, so the last / only token must be the delimiter itself)
            last = toks[-1]
            if opens == 1 and not closes and len(toks) > 1 and last.text == "{" and not last.quoted:
                node = Node(toks[0], list(toks[1:-1]), src, [])
                level.append(node)
                stack.append((node, level))
                level = node.children  # type: ignore[assignment]
                continue
            if closes == 1 and not opens and len(toks) == 1 and last.text == "}" and not last.quoted and stack:
                owner, level = stack.pop()
                owner.close = last.pos
                continue
        stmt: list[Token] = []
        for tok in toks:
            if tok.is_open:
                if stmt:
                    node = Node(stmt[0], stmt[1:], line.source, [])
                    level.append(node)
                    stmt = []
                elif level and level[-1].children is None:
                    node = level[-1]  # `{` alone on the line after its keyword
                    node.children = []
                else:
                    diags.error(
                        "'{' does not follow a keyword",
                        tok.pos,
                        source=line.source,
                        expected="a keyword before '{'",
                    )
                    node = Node(tok, [], line.source, [])  # parse its contents anyway
                stack.append((node, level))
                level = node.children  # type: ignore[assignment]
            elif tok.is_close:
                if stmt:
                    level.append(Node(stmt[0], stmt[1:], line.source))
                    stmt = []
                if not stack:
                    diags.error(
                        "'}' closes no block",
                        tok.pos,
                        source=line.source,
                        hint="remove it, or check the '{' above",
                    )
                    continue
                owner, level = stack.pop()
                owner.close = tok.pos
            else:
                stmt.append(tok)
        if stmt:
            level.append(Node(stmt[0], stmt[1:], line.source))

    for owner, _ in reversed(stack):
        diags.error(
            f"block '{owner.name}' is never closed",
            owner.pos,
            source=owner.source,
            expected="a matching '}'",
        )
    return root
