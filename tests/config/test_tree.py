"""Lines -> keyword tree: blocks, braces sharing lines, and brace errors with positions."""

from fastka.config.source import Diagnostics, Line, Pos, Token
from fastka.config.tree import build_tree


def lines_of(text: str, fn: str = "t.conf") -> list[Line]:
    """A minimal word splitter (the real lexer has its own tests)."""
    import re

    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        toks = tuple(Token(m.group(), Pos(fn, n, m.start() + 1)) for m in re.finditer(r"[^\s{}]+|[{}]", raw))
        if toks:
            out.append(Line(toks, raw))
    return out


def shape(nodes):
    return [(n.name, [a.text for a in n.args], None if n.children is None else shape(n.children)) for n in nodes]


def test_nested_blocks_and_same_line_braces():
    d = Diagnostics()
    tree = build_tree(lines_of("vrrp_instance VI_1 {\n  priority 100\n  authentication { auth_type PASS }\n}\n"), d)
    assert not d.items
    assert shape(tree) == [("vrrp_instance", ["VI_1"], [("priority", ["100"], None),
                                                        ("authentication", [], [("auth_type", ["PASS"], None)])])]
    assert tree[0].close == Pos("t.conf", 4, 1)


def test_open_brace_on_next_line_belongs_to_previous_keyword():
    d = Diagnostics()
    tree = build_tree(lines_of("global_defs\n{\n  router_id a\n}\n"), d)
    assert not d.items
    assert shape(tree) == [("global_defs", [], [("router_id", ["a"], None)])]


def test_attached_braces_and_one_line_block():
    d = Diagnostics()
    tree = build_tree(lines_of("virtual_ipaddress {10.0.0.1/32 dev eth0}"), d)
    assert not d.items
    assert shape(tree) == [("virtual_ipaddress", [], [("10.0.0.1/32", ["dev", "eth0"], None)])]


def test_unclosed_block_names_its_opening_line():
    d = Diagnostics()
    build_tree(lines_of("a {\n  b {\n  c 1\n}\n"), d)
    (e,) = d.errors
    assert e.pos == Pos("t.conf", 1, 1)
    assert e.message == "block 'a' is never closed"
    assert e.expected == "a matching '}'"
    assert e.source == "a {"


def test_stray_close_brace_reported_and_parsing_goes_on():
    d = Diagnostics()
    tree = build_tree(lines_of("a 1\n}\nb 2\n"), d)
    (e,) = d.errors
    assert (e.pos, e.message) == (Pos("t.conf", 2, 1), "'}' closes no block")
    assert shape(tree) == [("a", ["1"], None), ("b", ["2"], None)]


def test_brace_without_keyword():
    d = Diagnostics()
    build_tree(lines_of("a {\n}\n{\n}\n"), d)
    (e,) = d.errors
    assert (e.pos, e.message) == (Pos("t.conf", 3, 1), "'{' does not follow a keyword")


def test_quoted_braces_are_words():
    d = Diagnostics()
    line = Line((Token("script", Pos("f", 1, 1)), Token("{", Pos("f", 1, 8), quoted=True)), 'script "{"')
    tree = build_tree([line], d)
    assert not d.items and shape(tree) == [("script", ["{"], None)]


def test_diagnostic_format_shows_line_and_caret():
    d = Diagnostics()
    build_tree(lines_of("a 1\n  }\n"), d)
    assert d.errors[0].format() == "t.conf:2:3: error: '}' closes no block\n      }\n      ^\n" \
        "    hint: remove it, or check the '{' above"
