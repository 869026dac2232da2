"""Property tests for the keepalived.conf lexer: it never raises, always terminates,
and every token and diagnostic it produces has a usable position."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastka.config import lexer as lexer_module
from fastka.config import tree as tree_module
from fastka.config.lexer import lex_text
from fastka.config.source import Diagnostics, Line, Pos, Token

# an empty directory, so an "include *" that hypothesis might write reads nothing
_EMPTY_DIR = tempfile.mkdtemp(prefix="fastka-lexer-props-")

# characters that matter to the lexer, weighted in next to arbitrary text
_SYNTAX = list('{}"\'$@~\\#!=(),^ \t\n\x00') + ["${", "$X", "${X}", "$X=", "@main ", "@^main ", "~SEQ(", "~SEQx(",
                                                 "~LST(", "~LST({A,B},", "include ", "includea ", "\\\n", "_RANDOM",
                                                 "_HASH", "_PWD", "0x1f", "-1", "X", "A", "B"]

config_text = st.lists(
    st.one_of(st.sampled_from(_SYNTAX), st.text(max_size=8), st.text(alphabet="ab {}$X=\n", max_size=6)),
    max_size=60,
).map("".join)

# a small, self-consistent macro language exercise: definitions, uses, sequences
_LINES = [
    "$X=1", "$X=", "$Y=${X}${X}", "$X=${Y}", "$M= \\", "a ${X} \\", "b $X", "$M", "${M}", "~SEQ(X, 3) $M",
    "~LST({A,B}, {1,2}, {3,4}) k ${A}.${B}", "@main $X=2", "@^main q", "k { \"v w\" }", "}", "include none",
    "~SEQx(X, 0x10, -3, 1) $Y", "v ${_RANDOM 1 ${X}}", "x ${_HASH} ${_BANG}", "$Y=$Y", "$Y",
]
macro_text = st.lists(st.sampled_from(_LINES), max_size=25).map("\n".join)


def check_lines(lines: list[Line], diags: Diagnostics, filename: str) -> None:
    for line in lines:
        assert isinstance(line.source, str)
        assert line.tokens, "a Line always has tokens"
        for tok in line.tokens:
            assert isinstance(tok.text, str)
            assert tok.pos.file == filename
            assert tok.pos.line >= 1 and tok.pos.col >= 1
            assert diags.source_line(tok.pos.file, tok.pos.line) is not None
    for d in diags:
        assert d.pos is not None and d.pos.line >= 1 and d.pos.col >= 1 and d.pos.file
        assert d.message
        d.format()  # formatting with the quoted source line works too


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_text, config_id=st.sampled_from(["main", "backup", ""]))
def test_lexer_never_raises_and_positions_are_valid(text: str, config_id: str) -> None:
    diags = Diagnostics()
    lines = lex_text(text, diags, filename="p.conf", config_id=config_id, base_dir=_EMPTY_DIR)
    check_lines(lines, diags, "p.conf")


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_arbitrary_unicode_text(text: str) -> None:
    diags = Diagnostics()
    lines = lex_text(text, diags, filename="u.conf", config_id="main", base_dir=_EMPTY_DIR)
    check_lines(lines, diags, "u.conf")


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(text=macro_text)
def test_macros_and_sequences_terminate_with_valid_positions(text: str) -> None:
    # self-using macros inside sequences grow exponentially until the generated-line
    # limit stops them; a smaller limit keeps each example fast (the real one, 1M,
    # is what the man page's 65024-instance example needs)
    with mock.patch.object(lexer_module, "MAX_GENERATED_LINES", 20_000):
        diags = Diagnostics()
        lines = lex_text(text, diags, filename="m.conf", config_id="main", base_dir=_EMPTY_DIR)
    check_lines(lines, diags, "m.conf")
    assert len(lines) <= 20_000 + 25


# words without anything the lexer treats specially
_WORD_CHARS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters='{}"\'$@~\\#!',
).filter(lambda c: not c.isspace())
plain_word = st.text(alphabet=_WORD_CHARS, min_size=1, max_size=10)
ascii_space = st.text(alphabet=" \t\x0b\x0c\r", min_size=1, max_size=3)


@settings(max_examples=300, deadline=2000)
@given(
    lead=st.text(alphabet=" \t", max_size=4),
    words=st.lists(st.tuples(plain_word, ascii_space), min_size=1, max_size=8),
)
def test_plain_words_split_like_str_split(lead: str, words: list[tuple[str, str]]) -> None:
    line = lead + "".join(w + sep for w, sep in words)
    diags = Diagnostics()
    lines = lex_text(line + "\n", diags, config_id="main")
    assert not diags.items
    assert [t.text for t in lines[0].tokens] == line.split()
    # columns point at the words in the line
    for tok in lines[0].tokens:
        assert line[tok.pos.col - 1 :].startswith(tok.text)


def reference_words(line: str) -> list[tuple[str, int]]:
    """A plain character loop: comment at # or !, split at ASCII whitespace, braces alone."""
    out: list[tuple[str, int]] = []
    word, start = "", 0
    for i, ch in enumerate(line):
        if ch in "#!":
            break
        if ch in " \t\n\r\f\v{}":
            if word:
                out.append((word, start + 1))
                word = ""
            if ch in "{}":
                out.append((ch, i + 1))
            continue
        if not word:
            start = i
        word += ch
    if word:
        out.append((word, start + 1))
    return out


ordinary_line = st.text(
    alphabet=st.one_of(st.sampled_from(list("{}#! \t\x0b\x0cab")), st.characters(exclude_categories=["Cs"])),
    max_size=60,
).filter(lambda s: "\n" not in s and "\r" not in s)


@settings(max_examples=300, deadline=2000)
@given(text=ordinary_line)
def test_fast_path_and_full_tokenizer_agree_with_reference(text: str) -> None:
    code = text.split("#")[0].split("!")[0]
    if any(c in code for c in "\"'$@~\\"):
        return
    expected = reference_words(text)
    if expected and expected[0][0] in lexer_module._WATCHED:
        return
    # fast path (no special characters)
    diags = Diagnostics()
    lines = lex_text(text, diags, config_id="main")
    assert [(t.text, t.pos.col) for line in lines for t in line.tokens] == expected
    # the general tokenizer, forced by a trailing lone "$" (a word, never a reference)
    diags = Diagnostics()
    lines = lex_text(code + " $", diags, config_id="main")
    got = [(t.text, t.pos.col) for line in lines for t in line.tokens]
    assert got[:-1] == expected and got[-1] == ("$", len(code) + 2)


def _lexed_with(plain, text: str, config_id: str, filename: str = "p.conf",
                base_dir: str = _EMPTY_DIR) -> tuple[list[Line], list[str]]:
    with mock.patch.object(lexer_module, "_lex_plain", plain):
        diags = Diagnostics()
        lines = lex_text(text, diags, filename=filename, config_id=config_id, base_dir=base_dir)
    return lines, [d.format() for d in diags]


_compiled = pytest.mark.skipif(lexer_module._lex_plain is None, reason="the native core is not built")


@_compiled
@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(config_text, macro_text, st.text()), config_id=st.sampled_from(["main", "backup"]))
def test_the_compiled_fast_path_lexes_as_the_python_one(text: str, config_id: str) -> None:
    """Same lines, tokens, positions and diagnostics with the compiled runs of ordinary
    lines as with the Python loop alone (_RANDOM draws differ run to run: left out)."""
    assume("_RANDOM" not in text)
    compiled = _lexed_with(lexer_module._lex_plain, text, config_id)
    assert compiled == _lexed_with(None, text, config_id)
    for line in compiled[0]:
        assert type(line) is Line
        for tok in line.tokens:
            assert type(tok) is Token and type(tok.pos) is Pos and tok.pos.file == "p.conf"


@_compiled
def test_the_compiled_fast_path_on_the_corpus_and_a_large_generated_file() -> None:
    corpus = Path(__file__).parent / "corpus"
    texts = [(p.read_text(), str(p)) for p in sorted(corpus.rglob("*.conf"))]  # include.conf: conf.d's too
    examples = Path(__file__).parents[2] / "examples"
    texts += [(p.read_text(), str(p)) for p in sorted(examples.glob("*.conf"))]
    big = ["global_defs {\n  router_id big # a comment\n}\n"]
    for v in range(50):
        big.append(f"virtual_server 10.0.0.{v} 80 {{\n\tlb_algo wrr ! another\n  protocol TCP\n")
        for r in range(20):
            big.append(f"  real_server 192.168.0.{r} 80 {{ weight {r}\n    TCP_CHECK {{\n connect_timeout 3\n}}\n"
                       "  }\n")
        big.append("}\n")
    texts.append(("".join(big), "big.conf"))
    assert len(texts) >= 8
    for text, name in texts:
        where = str(Path(name).parent)
        compiled = _lexed_with(lexer_module._lex_plain, text, "main", name, where)
        assert compiled == _lexed_with(None, text, "main", name, where), name
        assert compiled[0], name


def _tree_dump(nodes) -> list:
    return [(n.keyword, n.args, n.source, n.close, None if n.children is None else _tree_dump(n.children))
            for n in nodes]


_compiled_tree = pytest.mark.skipif(tree_module._tree_plain is None, reason="the native core is not built")


@_compiled_tree
@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(config_text, macro_text, st.text(alphabet="ab {}$~\"#\n", max_size=40)))
def test_the_compiled_tree_fast_path_builds_the_python_tree(text: str) -> None:
    """Same nodes (keyword, arguments, source, closing brace, children) and diagnostics
    with build_tree's compiled runs of common lines as with its Python loop alone."""
    assume("_RANDOM" not in text)
    lines, _ = _lexed_with(lexer_module._lex_plain, text, "main")
    out = []
    for plain in (tree_module._tree_plain, None):
        with mock.patch.object(tree_module, "_tree_plain", plain):
            diags = Diagnostics()
            out.append((_tree_dump(tree_module.build_tree(lines, diags)), [d.format() for d in diags]))
    assert out[0] == out[1]
