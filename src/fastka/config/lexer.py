"""Lexer for keepalived.conf: physical text -> logical lines of positioned tokens.

Implements the keepalived 2.2.x file syntax described in keepalived.conf(5):

* comments (``#`` and ``!`` anywhere outside quotes, to the end of the line);
* words separated by whitespace, ``{`` and ``}`` always separate tokens;
* quoted strings (``"`` or ``'``) with shell-like escapes, joined with adjacent text;
* ``include`` and its checking variants (``includer``, ``includem``, ``includew``,
  ``includeb``, ``includea``) with globs and csh brace expansion;
* conditional lines (``@id`` / ``@^id``) against the config id;
* parameters: ``$NAME=VALUE`` definitions (also multi-line with ``\\``),
  ``$NAME`` / ``${NAME}`` substitution at use time, the predefined ``${_PWD}``,
  ``${_INSTANCE}``, ``${_RANDOM [MIN [MAX]]}``, ``${_HASH}`` and ``${_BANG}``;
* sequence and list blocks: ``~SEQ(...)``, ``~SEQx(...)`` and ``~LST(...)``.

The lexer never raises on bad input: every problem goes to the
:class:`~fastka.config.source.Diagnostics` with a position.  Every resource that
input can make grow -- substitution depth, line length, generated lines, include
depth, brace expansions -- is bounded, so no input hangs it.

Where the man page leaves room, this lexer chooses:

* whitespace is the C locale's (space, tab, CR, LF, VT, FF), as in keepalived;
* backslash escapes apply inside quotes only; elsewhere a backslash is literal;
* substitution is textual and comes before word splitting (quotes in a value
  pair up with quotes around the reference); an unresolved unquoted ``${NAME}``
  stays one word, and gets a notice;
* ``include`` is recognised on the literal line only (as the man page says);
  one that appears after a conditional or substitution is an error.  Missing or
  unreadable files follow include_check: warnings for plain ``include``, errors
  for what the variant's checks (or an earlier ``include_check`` line) demand.
  ``include_check`` and ``random_seed`` lines act when read (and are still
  passed on as lines for the parser);
* blank lines inside a multi-line definition are skipped, and a conditional
  that excludes a definition's first line excludes its continuation lines too;
* a line whose substitution hits a limit is dropped (after the error);
* ``~SEQ`` numbers are decimal or ``0x`` hex and may use parameters, so an inner
  block can depend on an outer one; ``~SEQ(X, 0)`` is empty; the block variable
  gets its previous value (or none) back after the block.

Speed: ordinary lines (no quote, ``$``, ``@``, ``~`` or backslash) take a fast
path: strip the comment, split with one regex, build the tuples directly.  The
words of every line whose meaning cannot change (no parameters, sequences,
includes...) are cached by text, so a repeated line only costs the tuples.
"""

from __future__ import annotations

import glob
import os
import random
import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import native as _native
from ..gcpause import gc_paused
from .source import ERROR, NOTICE, WARNING, Diagnostics, Line, Pos, Token

__all__ = [
    "INCLUDE_CHECKS",
    "INCLUDE_KEYWORDS",
    "MAX_BRACE_EXPANSIONS",
    "MAX_EXPANSION_DEPTH",
    "MAX_GENERATED_LINES",
    "MAX_INCLUDE_DEPTH",
    "MAX_LINE_LENGTH",
    "MAX_SUBSTITUTIONS",
    "MAX_SUBSTITUTION_DEPTH",
    "default_config_id",
    "expand_braces",
    "lex_file",
    "lex_text",
]

# --------------------------------------------------------------------------
# Limits: anything the input can make grow without bound is capped here.

MAX_INCLUDE_DEPTH = 32  # nested include files
MAX_EXPANSION_DEPTH = 32  # nested multi-line parameter / ~SEQ / ~LST expansions
MAX_SUBSTITUTION_DEPTH = 32  # a parameter's value referring to a parameter ...
MAX_SUBSTITUTIONS = 1000  # parameter references replaced in one logical line
MAX_LINE_LENGTH = 256 * 1024  # characters in one line after substitution
MAX_GENERATED_LINES = 1_000_000  # lines made by ~SEQ / ~LST / multi-line parameters
MAX_BRACE_EXPANSIONS = 10_000  # file names one include's {a,b} may expand to

# --------------------------------------------------------------------------
# Character classes and patterns.  Whitespace is the C locale's isspace() set,
# as in keepalived: a no-break space or other Unicode space is part of a word.

WS = " \t\n\r\f\v"

# lines with none of the special characters before the first # or ! take the fast path
_SPECIAL_OR_COMMENT = re.compile(r"[\"'$\\~@#!]")
_FAST_SPACED_WORD = re.compile(r"([ \t\n\r\f\v]*)([^ \t\n\r\f\v{}]+|[{}])")

# the code part of a line: everything up to the first # or ! outside quotes.  (The
# patterns here never need to backtrack: every alternative ends in an optional part.
# No possessive quantifiers: Python 3.10 is supported.)
_CODE = re.compile(r"""(?:[^#!"']+|"(?:[^"\\]+|\\.?)*"?|'(?:[^'\\]+|\\.?)*'?)*""", re.DOTALL)

# the pieces of a line for the full tokenizer; m.lastgroup tells which.  A quoted
# string runs to its closing quote (group *_end is empty if there is none); an
# unquoted "${...}" that was not substituted stays inside its word
_PIECE = re.compile(
    r"""(?P<ws>[ \t\n\r\f\v]+)
      | (?P<brace>[{}])
      | "(?P<dq>(?:[^"\\]+|\\.?)*)(?P<dq_end>"?)
      | '(?P<sq>(?:[^'\\]+|\\.?)*)(?P<sq_end>'?)
      | (?P<word>(?:[^ \t\n\r\f\v{}"'$]+|\$\{[^{}"' \t\n\r\f\v]*\}|\$)+)""",
    re.DOTALL | re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]+)|c(.)|(.)|$)", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# ${NAME} or ${_RANDOM ...}, or $NAME followed by whitespace or the end of the line
_REF = re.compile(r"\$(?:\{([^{}]*)\}|([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_])(?=[ \t\n\r\f\v]|$))")
_DEFINITION = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
_CONDITION = re.compile(r"@(\^?)([^ \t\n\r\f\v]*)[ \t\n\r\f\v]*")
_SEQUENCE_HEAD = re.compile(r"~(SEQx|SEQ|LST)\(")
_INTEGER = re.compile(r"[+-]?(?:0[xX][0-9A-Fa-f]+|[0-9]+)")
_INCLUDE_START = re.compile(r"[ \t\r\f\v]*include[rmwba]?(?![^ \t\n\r\f\v{}])")
_GLOB_MAGIC = re.compile(r"[*?[]")

# --------------------------------------------------------------------------
# include and include_check

INCLUDE_CHECKS = frozenset({"readable", "match", "wildcard_match", "brace_match"})

#: the include keywords and the include_check options each adds (keepalived.conf(5))
INCLUDE_KEYWORDS: dict[str, frozenset[str]] = {
    "include": frozenset(),
    "includer": frozenset({"readable"}),
    "includem": frozenset({"match"}),
    "includew": frozenset({"wildcard_match"}),
    "includeb": frozenset({"brace_match"}),
    "includea": INCLUDE_CHECKS,
}

# first words the lexer acts on besides emitting the line
_WATCHED = frozenset(INCLUDE_KEYWORDS) | {"include_check", "random_seed"}

_RANDOM_MAX = 32767

_tuple_new = tuple.__new__

#: the compiled twin of _lex_lines' per-line fast path (None: the pure-Python one runs)
_lex_plain = getattr(_native, "lex_plain", None)

#: column (1-based) of each character of a text being processed; a range for
#: text straight from the file, a list once substitution has moved things
Cols = Sequence[int]


def default_config_id() -> str:
    """The default config id: the first part of the host name (keepalived's ``-i``)."""
    return socket.gethostname().split(".")[0]


# --------------------------------------------------------------------------
# small pure helpers


def _strip_comment(raw: str) -> str:
    """The part of a physical line before a ``#`` or ``!`` that is not inside quotes."""
    m = _CODE.match(raw)
    return raw[: m.end()] if m else raw


#: a cached line's words: (text, column, quoted) for each token
_Words = list[tuple[str, int, bool]]

_UNSEEN: _Words = []  # cache marker: line not seen yet


def _fast_words(raw: str) -> _Words | None:
    """(word, column, False) for each word of an ordinary line, or None if it needs the full treatment.

    Ordinary: no quote, ``$``, ``@``, ``~`` or backslash before the comment, and not
    starting with a word the lexer acts on (include...).  The result depends only
    on the text, so it is cached per distinct line: generated configs repeat most
    of their lines.
    """
    m = _SPECIAL_OR_COMMENT.search(raw)
    if m is not None:
        if m[0] != "#" and m[0] != "!":
            return None
        raw = raw[: m.start()]
    words = []
    col = 1
    for space, word in _FAST_SPACED_WORD.findall(raw):
        col += len(space)
        words.append((word, col, False))
        col += len(word)
    if words and words[0][0] in _WATCHED:
        return None
    return words


def _plain_tokens(text: str, cols: Cols, start: int, file: str, line: int) -> list[Token]:
    """Tokens of text without quotes or ``$``: split at whitespace and braces."""
    new = _tuple_new
    tokens = []
    i = start
    for space, word in _FAST_SPACED_WORD.findall(text, start):
        i += len(space)
        tokens.append(new(Token, (word, new(Pos, (file, line, cols[i])), False)))
        i += len(word)
    return tokens


def _escape_repl(m: re.Match[str]) -> str:
    octal, hexa, control, other = m.groups()
    if octal is not None:
        return chr(int(octal, 8) & 0xFF)
    if hexa is not None:
        return chr(int(hexa, 16) & 0xFF)
    if control is not None:
        return chr((ord(control.upper()) ^ 0x40) & 0x7F)
    if other is not None:
        return _SIMPLE_ESCAPES.get(other, other)
    return "\\"  # a backslash at the very end


def _unescape(s: str) -> str:
    """Apply the escapes of a quoted string (``\\n``, ``\\x41``, ``\\101``, ``\\cA``, ``\\"``...)."""
    return _ESCAPE.sub(_escape_repl, s) if "\\" in s else s


def _parse_int(s: str) -> int | None:
    """A decimal or 0x-prefixed hexadecimal integer with optional sign, else None."""
    s = s.strip(WS)
    if not _INTEGER.fullmatch(s):
        return None
    return int(s, 16 if "x" in s.lower() else 10)


def _find_brace_group(p: str, start: int) -> tuple[int, int, list[str]] | None:
    """The first expandable ``{a,b}`` group at or after ``start``: (open, close, alternatives).

    An unmatched ``{`` and an empty ``{}`` are literal, as in glob(GLOB_BRACE).
    """
    i = p.find("{", start)
    while i >= 0:
        depth = 0
        alts: list[str] = []
        last = i + 1
        for j in range(i, len(p)):
            ch = p[j]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    if j > i + 1:
                        alts.append(p[last:j])
                        return i, j, alts
                    break  # "{}" is literal
            elif ch == "," and depth == 1:
                alts.append(p[last:j])
                last = j + 1
        i = p.find("{", i + 1)
    return None


def expand_braces(pattern: str, limit: int = MAX_BRACE_EXPANSIONS) -> list[str]:
    """csh-style brace expansion: ``a{b,c{d,e}}f`` -> ``abf acdf acef``, in order.

    Raises ValueError if the pattern expands to more than ``limit`` strings.
    """
    out: list[str] = []
    stack: list[tuple[str, int]] = [(pattern, 0)]
    while stack:
        p, start = stack.pop()
        group = _find_brace_group(p, start)
        if group is None:
            out.append(p)
            if len(out) > limit:
                raise ValueError(f"brace expansion makes more than {limit} names")
            continue
        i, j, alts = group
        stack.extend((p[:i] + alt + p[j + 1 :], i) for alt in reversed(alts))
        if len(stack) > limit:
            raise ValueError(f"brace expansion makes more than {limit} names")
    return out


def _apply_include_check(current: frozenset[str], words: Sequence[str]) -> frozenset[str]:
    """The include_check level after an ``include_check [OPTIONS]`` line.

    No option means all checks; bare options replace the level; ``+opt`` / ``-opt``
    (the sign applies to the following options too) adjust it.  Unknown options are
    left for the keyword parser to report.
    """
    if not words:
        return INCLUDE_CHECKS
    result = set(current) if words[0][:1] in ("+", "-") else set()
    adding = True
    for word in words:
        if word[:1] in ("+", "-"):
            adding = word[0] == "+"
            word = word[1:]
        if word in INCLUDE_CHECKS:
            if adding:
                result.add(word)
            else:
                result.discard(word)
    return frozenset(result)


def _split_args(text: str, offset: int) -> list[tuple[str, int]]:
    """Split ``a, {b,c}, d`` at top-level commas: [(stripped item, index of item in line)]."""
    items: list[tuple[str, int]] = []
    depth = 0
    start = 0
    for k, ch in enumerate(text + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif ch == "," and (depth == 0 or k == len(text)):
            raw = text[start:k]
            lead = len(raw) - len(raw.lstrip(WS))
            items.append((raw.strip(WS), offset + start + lead))
            start = k + 1
    return items


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return f.read()


# --------------------------------------------------------------------------
# lexer state


class _SubstitutionFailed(Exception):
    """Parameter substitution hit a limit (already reported); the line is dropped."""


@dataclass
class _FileState:
    """One file being read; the include stack is a list of these."""

    name: str  # as given or joined: what positions show
    directory: str  # base for relative includes ("" = the current directory)
    pwd: str  # absolute directory, for ${_PWD}
    checks: frozenset[str]  # include_check level, saved/restored per file
    real: str | None = None  # resolved path, for include cycle detection


class _Origin(NamedTuple):
    """The physical line a logical line comes from (also for macro expansions)."""

    file: str
    line: int
    source: str


@dataclass
class _PendingDefinition:
    """A multi-line ``$NAME= \\`` definition still collecting lines."""

    name: str
    pos: Pos
    lines: list[str] = field(default_factory=list)
    discard: bool = False  # the definition line was excluded by a conditional


class _Lexer:
    def __init__(self, diags: Diagnostics, config_id: str) -> None:
        self.diags = diags
        self.config_id = config_id
        self.params: dict[str, str] = {}
        self.out: list[Line] = []
        self.rng = random.Random()
        self.files: list[_FileState] = []
        self.pending: _PendingDefinition | None = None
        self.generated = 0
        self.expansion_stopped = False
        self._reported: set[tuple[str, str, Pos]] = set()
        self.problems = 0  # diagnostics raised, including repeats not reported again
        # physical line text -> its words if it always lexes the same (None: lex it
        # each time); see _fast_words and _slow_line_cacheable
        self.line_cache: dict[str, _Words | None] = {}

    # ---------------------------------------------------------------- files

    def lex(self, text: str, state: _FileState) -> None:
        """Lex one file's text, splicing includes in place."""
        self.files.append(state)
        saved_pending, self.pending = self.pending, None
        try:
            self._lex_lines(text, state.name)
            self._finish_pending(at_end_of=state.name)
        finally:
            self.pending = saved_pending
            self.files.pop()

    def _lex_lines(self, text: str, name: str) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if "\r" in text:
            lines = [raw.removesuffix("\r") for raw in lines]
        self.diags.sources[name] = lines
        out_append = self.out.append
        cache = self.line_cache
        cache_get = cache.get
        pending = self.pending
        new = _tuple_new  # NamedTuple constructors without their Python-level __new__
        plain = _lex_plain
        i, count = 0, len(lines)
        while i < count:
            if pending is None and plain is not None:
                # the runs of ordinary (or cached) lines in compiled code; it stops at a
                # line that needs the rest of this loop
                i = plain(lines, i, name, self.out, cache, _WATCHED, _UNSEEN, Token, Pos, Line)
                if i >= count:
                    break
            raw = lines[i]
            i += 1
            n = i
            if pending is None:
                words = cache_get(raw, _UNSEEN)
                if words is _UNSEEN:
                    words = _fast_words(raw)
                    if words is None:
                        cache[raw] = self._slow_line_cacheable(raw, n, name)
                        pending = self.pending
                        continue
                    cache[raw] = words
                if words is not None:
                    # unrolled for the common one- and two-word lines: a third faster
                    k = len(words)
                    toks: tuple[Token, ...]
                    if k == 1:
                        ((w, c, q),) = words
                        toks = (new(Token, (w, new(Pos, (name, n, c)), q)),)
                    elif k == 2:
                        (w, c, q), (w2, c2, q2) = words
                        toks = (new(Token, (w, new(Pos, (name, n, c)), q)),
                                new(Token, (w2, new(Pos, (name, n, c2)), q2)))
                    elif k:
                        toks = tuple([new(Token, (w, new(Pos, (name, n, c)), q)) for w, c, q in words])
                    else:
                        continue
                    out_append(new(Line, (toks, raw)))
                    continue
            self._slow_line(raw, n, name)
            pending = self.pending

    def _slow_line_cacheable(self, raw: str, n: int, name: str) -> _Words | None:
        """Lex a line the fast path cannot take; return its words if every later
        occurrence of the same text must give the same tokens, else None.

        Lines with quotes or conditionals qualify; lines with parameters or sequences
        (whose meaning changes as parameters change), includes and include_check /
        random_seed (side effects), continuations, and lines with diagnostics do not.
        """
        out_before, problems_before = len(self.out), self.problems
        self._slow_line(raw, n, name)
        if ("$" in raw or "~" in raw or self.pending is not None or self.problems != problems_before
                or _INCLUDE_START.match(raw)):
            return None
        emitted = self.out[out_before:]
        if not emitted:
            return []
        if len(emitted) > 1 or emitted[0].tokens[0].text in _WATCHED:
            return None
        return [(t.text, t.pos.col, t.quoted) for t in emitted[0].tokens]

    def _slow_line(self, raw: str, n: int, name: str) -> None:
        body = _strip_comment(raw)
        origin = _Origin(name, n, raw)
        cols = range(1, len(body) + 1)
        if self.pending is not None:
            self._continue_definition(body)
            return
        if _INCLUDE_START.match(body):
            self._emit(self._tokenize(body, cols, 0, origin, braces=False), origin, raw_line=True)
            return
        self._process(body, cols, origin, 0)

    # ------------------------------------------------------- logical lines

    def _feed(self, text: str, cols: Cols, origin: _Origin, depth: int) -> None:
        """One line of an expansion: it may continue a multi-line definition."""
        if self.pending is not None:
            self._continue_definition(text)
        else:
            self._process(text, cols, origin, depth)

    def _process(self, text: str, cols: Cols, origin: _Origin, depth: int, substituted: bool = False) -> None:
        """Conditionals, definitions, sequences, substitution, then tokens."""
        n = len(text)
        i = n - len(text.lstrip(WS))
        while i < n and text[i] == "@":
            m = _CONDITION.match(text, i)
            assert m is not None
            negate, ident = m.group(1), m.group(2)
            if not ident:
                self._warning("conditional '@' without a config id", self._pos(origin, cols, i),
                              expected="@ID or @^ID directly followed by the id")
            if (ident == self.config_id) == bool(negate):
                self._skip_conditional_definition(text[m.end() :], self._pos(origin, cols, i))
                return
            i = m.end()
        if i >= n:
            return
        ch = text[i]
        if ch == "$":
            d = _DEFINITION.match(text, i)
            if d is not None:
                self._define(d.group(1), d.group(2), self._pos(origin, cols, i))
                return
        elif ch == "~":
            self._sequence(text, cols, i, origin, depth)
            return
        if not substituted and "$" in text:
            try:
                result = self._substitute(text[i:], cols[i:], origin)
            except _SubstitutionFailed:
                return
            if result is not None:
                new_text, new_cols = result
                if "\n" in new_text:
                    self._expand_lines(new_text, new_cols, origin, depth)
                else:
                    self._process(new_text, new_cols, origin, depth, substituted=True)
                return
        self._emit(self._tokenize(text, cols, i, origin), origin)

    def _emit(self, tokens: list[Token], origin: _Origin, raw_line: bool = False) -> None:
        """Append a line; act on include, include_check and random_seed."""
        if not tokens:
            return
        first = tokens[0]
        if not first.quoted and first.text in _WATCHED:
            if first.text in INCLUDE_KEYWORDS:
                if raw_line:
                    self._include(tokens)
                else:
                    self._error(
                        f"'{first.text}' cannot be used with conditional configuration, "
                        "parameters or sequences",
                        first.pos,
                        hint="keepalived recognises include lines before conditionals and parameter "
                        "substitution; write the include line literally",
                    )
                return
            self._watch(tokens)
        self.out.append(Line(tuple(tokens), origin.source))

    def _watch(self, tokens: list[Token]) -> None:
        """Global settings that change how the rest of the file is read."""
        keyword = tokens[0].text
        args = [t.text for t in tokens[1:]]
        if keyword == "include_check":
            state = self.files[-1]
            state.checks = _apply_include_check(state.checks, args)
        elif keyword == "random_seed" and len(args) == 1 and args[0].isdigit():
            self.rng.seed(int(args[0]))

    @staticmethod
    def _pos(origin: _Origin, cols: Cols, i: int) -> Pos:
        col = cols[i] if i < len(cols) else (cols[-1] + 1 if cols else 1)
        return Pos(origin.file, origin.line, col)

    # ------------------------------------------------------------ tokens

    def _tokenize(self, text: str, cols: Cols, start: int, origin: _Origin, braces: bool = True) -> list[Token]:
        """Split into words: quotes joined and unescaped, braces separate tokens.

        An unresolved ``${NAME}`` stays one word rather than splitting at its braces.
        With ``braces=False`` (include lines: ``include {a,b}.conf``) braces are
        ordinary word characters.
        """
        file, line = origin.file, origin.line
        if braces and '"' not in text and "'" not in text and "$" not in text:
            return _plain_tokens(text, cols, start, file, line)
        new = _tuple_new
        tokens: list[Token] = []
        parts: list[str] = []
        word_start = 0
        quoted = False
        for m in _PIECE.finditer(text, start):
            kind = m.lastgroup or ""
            if kind == "word" or (kind == "brace" and not braces):
                if not parts:
                    word_start = m.start()
                parts.append(m[0])
                continue
            if kind == "ws" or kind == "brace":
                if parts:
                    tokens.append(new(Token, ("".join(parts), new(Pos, (file, line, cols[word_start])), quoted)))
                    parts, quoted = [], False
                if kind == "brace":
                    tokens.append(new(Token, (m[0], new(Pos, (file, line, cols[m.start()])), False)))
                continue
            # a quoted string
            if not parts:
                word_start = m.start()
            double = kind == "dq_end"
            parts.append(_unescape(m["dq" if double else "sq"]))
            quoted = True
            if not m[kind]:
                q = '"' if double else "'"
                self._error(f"unterminated quoted string (missing closing {q})",
                            Pos(file, line, cols[m.start()]), expected=f"a closing {q} before the end of the line")
        if parts:
            tokens.append(new(Token, ("".join(parts), new(Pos, (file, line, cols[word_start])), quoted)))
        return tokens

    # -------------------------------------------------------- parameters

    def _define(self, name: str, value: str, pos: Pos) -> None:
        """``$NAME=VALUE``; a value ending in ``\\`` starts a multi-line definition."""
        if name.startswith("_"):
            self._warning(f"parameter names starting with '_' are reserved: ${name}", pos)
        value = value.strip(WS)
        if value.endswith("\\"):
            first = value[:-1].rstrip(WS)
            self.pending = _PendingDefinition(name, pos, [first] if first else [])
            return
        self.params[name] = value

    def _skip_conditional_definition(self, rest: str, pos: Pos) -> None:
        """A conditional excluded this line: if it starts a multi-line definition,
        its continuation lines are excluded with it (not read as configuration)."""
        while rest.startswith("@"):
            m = _CONDITION.match(rest)
            assert m is not None
            rest = rest[m.end() :]
        d = _DEFINITION.match(rest)
        if d is not None and d.group(2).rstrip(WS).endswith("\\"):
            self.pending = _PendingDefinition(d.group(1), pos, discard=True)

    def _continue_definition(self, text: str) -> None:
        """A line of a multi-line definition: ends at the first line without ``\\``.

        Blank lines inside the definition are skipped (the man page's $RS example has them).
        """
        pending = self.pending
        assert pending is not None
        s = text.strip(WS)
        if not s:
            return
        if s.endswith("\\"):
            s = s[:-1].rstrip(WS)
            if s:
                pending.lines.append(s)
            return
        pending.lines.append(s)
        if not pending.discard:
            self.params[pending.name] = "\n".join(pending.lines)
        self.pending = None

    def _finish_pending(self, at_end_of: str) -> None:
        pending = self.pending
        if pending is None:
            return
        self._warning(f"multi-line definition of ${pending.name} continues to the end of {at_end_of}",
                      pending.pos, hint="the last line of a multi-line definition must not end with '\\'")
        if not pending.discard:
            self.params[pending.name] = "\n".join(pending.lines)
        self.pending = None

    def _value(self, name: str) -> str | None:
        """A parameter's value: user definitions first, then the predefined ones."""
        value = self.params.get(name)
        if value is not None:
            return value
        if name == "_PWD":
            return self.files[-1].pwd
        if name == "_INSTANCE":
            return self.config_id
        if name == "_HASH":
            return "#"
        if name == "_BANG":
            return "!"
        if name == "_RANDOM":
            return str(self.rng.randint(0, _RANDOM_MAX))
        return None

    def _random(self, args: str, pos: Pos) -> str | None:
        """``${_RANDOM [MIN [MAX]]}``: a random integer in [MIN, MAX]."""
        words = args.split()
        bounds = [0, _RANDOM_MAX]
        if len(words) > 2 or not all(w.isdigit() for w in words):
            self._error("bad ${_RANDOM} arguments", pos, expected="${_RANDOM [MIN [MAX]]} with non-negative integers")
            return None
        for k, w in enumerate(words):
            bounds[k] = int(w)
        if bounds[0] > bounds[1]:
            self._error(f"${{_RANDOM}} minimum {bounds[0]} is greater than maximum {bounds[1]}", pos)
            return None
        return str(self.rng.randint(bounds[0], bounds[1]))

    def _lookup(self, m: re.Match[str], pos: Pos) -> str | None:
        """The replacement for one ``$NAME`` / ``${...}`` reference, or None to leave it."""
        braced, bare = m.group(1), m.group(2)
        if bare is not None:
            return self._value(bare)
        if _NAME.fullmatch(braced):
            value = self._value(braced)
            if value is None:
                self._notice(f"parameter ${{{braced}}} is not defined and is left unchanged", pos)
            return value
        if braced.startswith("_RANDOM") and braced[7:8] in WS:
            return self._random(braced[7:], pos)
        return None

    def _substitute(self, text: str, cols: Cols, origin: _Origin) -> tuple[str, Cols] | None:
        """Replace parameter references, re-scanning each replacement in place.

        Returns None when nothing was replaced.  Replaced text takes the column of
        the reference.  A multi-line value is inserted as is (its lines are processed
        one by one later, so definitions inside it take effect in order).
        Raises _SubstitutionFailed (after reporting) when a limit is hit: the line is dropped.
        """
        pos = 0
        ends: list[int] = []  # end index of each replacement enclosing the scan point
        count = 0
        work = list(cols)  # columns of the text as it changes
        while True:
            m = _REF.search(text, pos)
            if m is None:
                break
            s, e = m.span()
            while ends and ends[-1] <= s:
                ends.pop()
            where = Pos(origin.file, origin.line, work[s])
            value = self._lookup(m, where)
            if value is None:
                pos = e
                continue
            if len(ends) >= MAX_SUBSTITUTION_DEPTH:
                self._error(f"parameter substitution nested more than {MAX_SUBSTITUTION_DEPTH} deep at "
                            f"'{m.group()}' (does a parameter refer to itself?)", where)
                raise _SubstitutionFailed
            if count >= MAX_SUBSTITUTIONS:
                self._error(f"more than {MAX_SUBSTITUTIONS} parameter substitutions in one line", where)
                raise _SubstitutionFailed
            if len(text) - (e - s) + len(value) > MAX_LINE_LENGTH:
                self._error(f"parameter substitution makes a line longer than {MAX_LINE_LENGTH} characters",
                            where)
                raise _SubstitutionFailed
            count += 1
            delta = len(value) - (e - s)
            text = text[:s] + value + text[e:]
            work[s:e] = [work[s]] * len(value)
            new_end = s + len(value)
            ends = [max(x + delta, new_end) for x in ends]
            if "\n" in value:
                pos = new_end
            else:
                ends.append(new_end)
                pos = s
        if count == 0:
            return None
        return text, work

    def _expand_lines(self, text: str, cols: Cols, origin: _Origin, depth: int) -> None:
        """Process each line of a substituted multi-line value in turn."""
        if not self._enter_expansion(origin, cols[0] if cols else 1, depth):
            return
        start = 0
        for piece in text.split("\n"):
            end = start + len(piece)
            if piece.strip(WS):
                if not self._count_generated(1, origin, cols[start] if start < len(cols) else 1):
                    return
                self._feed(piece, cols[start:end], origin, depth + 1)
            start = end + 1

    def _enter_expansion(self, origin: _Origin, col: int, depth: int) -> bool:
        if self.expansion_stopped:
            return False
        if depth >= MAX_EXPANSION_DEPTH:
            self._error(f"parameter or sequence expansion nested more than {MAX_EXPANSION_DEPTH} deep "
                        "(does a multi-line parameter use itself?)", Pos(origin.file, origin.line, col))
            return False
        return True

    def _count_generated(self, count: int, origin: _Origin, col: int) -> bool:
        """Account for generated lines; False (after one error) once over the limit."""
        if self.expansion_stopped:
            return False
        self.generated += count
        if self.generated > MAX_GENERATED_LINES:
            self.expansion_stopped = True
            self._error(f"sequences and parameters generate more than {MAX_GENERATED_LINES} lines; "
                        "expansion stopped", Pos(origin.file, origin.line, col))
            return False
        return True

    # --------------------------------------------------------- sequences

    def _sequence(self, text: str, cols: Cols, i: int, origin: _Origin, depth: int) -> None:
        """``~SEQ(var, ...)``, ``~SEQx(var, ...)`` or ``~LST(...)`` then the rest of the line."""
        pos = self._pos(origin, cols, i)
        head = _SEQUENCE_HEAD.match(text, i)
        if head is None:
            self._error("unknown sequence block", pos, expected="~SEQ(...), ~SEQx(...) or ~LST(...)")
            return
        close = text.find(")", head.end())
        if close < 0:
            self._error(f"~{head.group(1)}( without a closing ')'", pos)
            return
        kind = head.group(1)
        items = _split_args(text[head.end() : close], head.end())
        if kind == "LST":
            plan = self._list_plan(items, cols, origin, pos)
        else:
            plan = self._seq_plan(items, cols, origin, pos, hexadecimal=kind == "SEQx")
        if plan is None:
            return
        names, rows = plan
        if len(rows) == 0:
            self._warning(f"~{kind} produces no values", pos)
            return
        if not self._enter_expansion(origin, pos.col, depth) or not self._count_generated(len(rows), origin, pos.col):
            return
        rest = len(text) - len(text[close + 1 :].lstrip(WS))
        body, body_cols = text[rest:], cols[rest:]
        saved = {name: self.params.get(name) for name in names}
        try:
            for row in rows:
                if self.expansion_stopped:
                    return
                for name, value in zip(names, row, strict=False):
                    self.params[name] = value
                self._process(body, body_cols, origin, depth + 1)
        finally:
            for name, old in saved.items():
                if old is None:
                    self.params.pop(name, None)
                else:
                    self.params[name] = old

    def _seq_plan(self, items: list[tuple[str, int]], cols: Cols, origin: _Origin, pos: Pos,
                  hexadecimal: bool) -> tuple[list[str], _FormattedRange] | None:
        """``~SEQ(var, [start, [step,]] end)``; start defaults to +-1, step to +-1."""
        if not 2 <= len(items) <= 4:
            self._error("wrong number of ~SEQ arguments", pos, expected="~SEQ(var, end), ~SEQ(var, start, end) "
                        "or ~SEQ(var, start, step, end)")
            return None
        name, name_at = items[0]
        if not _NAME.fullmatch(name):
            self._error(f"bad ~SEQ variable name {name!r}", self._pos(origin, cols, name_at),
                        expected="a name of letters, digits and '_', not starting with a digit")
            return None
        numbers: list[int] = []
        for arg, at in items[1:]:
            value = self._seq_number(arg, cols, at, origin)
            if value is None:
                return None
            numbers.append(value)
        if len(numbers) == 1:
            end = numbers[0]
            start = 1 if end > 0 else -1 if end < 0 else 0
            if end == 0:
                return [name], _FormattedRange(range(0), hexadecimal)
            step = 1 if end >= start else -1
        elif len(numbers) == 2:
            start, end = numbers
            step = 1 if end >= start else -1
        else:
            start, step, end = numbers
            if step == 0:
                self._error("~SEQ step must not be 0", self._pos(origin, cols, items[2][1]))
                return None
        stop = end + 1 if step > 0 else end - 1
        return [name], _FormattedRange(range(start, stop, step), hexadecimal)

    def _seq_number(self, arg: str, cols: Cols, at: int, origin: _Origin) -> int | None:
        """A ~SEQ bound, after substituting parameters in it (so nested sequences can use outer ones)."""
        text = arg
        if "$" in arg:
            try:
                result = self._substitute(arg, [cols[at]] * len(arg) if at < len(cols) else [1] * len(arg), origin)
            except _SubstitutionFailed:
                return None
            if result is not None:
                text = result[0]
        value = _parse_int(text) if "\n" not in text else None
        if value is None:
            self._error(f"bad ~SEQ number {arg!r}", self._pos(origin, cols, at),
                        expected="an integer, decimal or 0x hexadecimal")
        return value

    def _list_plan(self, items: list[tuple[str, int]], cols: Cols, origin: _Origin,
                   pos: Pos) -> tuple[list[str], _Rows] | None:
        """``~LST(var, v1, v2...)`` or ``~LST({A,B}, {a1,b1}, {a2,b2}...)``."""
        if len(items) < 2:
            self._error("~LST needs a variable and at least one value", pos,
                        expected="~LST(var, value, ...) or ~LST({var1, var2}, {v1, v2}, ...)")
            return None
        spec, spec_at = items[0]
        names = [n.strip(WS) for n in _unbrace(spec).split(",")]
        for name in names:
            if not _NAME.fullmatch(name):
                self._error(f"bad ~LST variable name {name!r}", self._pos(origin, cols, spec_at),
                            expected="a name of letters, digits and '_', not starting with a digit")
                return None
        rows: list[tuple[str, ...]] = []
        for item, at in items[1:]:
            values = tuple(v.strip(WS) for v in _unbrace(item).split(",")) if item.startswith("{") else (item,)
            if len(values) != len(names):
                self._error(f"~LST value {item!r} has {len(values)} element(s) for {len(names)} variable(s)",
                            self._pos(origin, cols, at), expected="{" + ", ".join(names) + "} values in braces")
                return None
            rows.append(values)
        return names, rows

    # ---------------------------------------------------------- includes

    def _include(self, tokens: list[Token]) -> None:
        """``include FILE`` and variants: glob + brace expansion, checks, cycles, depth."""
        keyword = tokens[0]
        if len(tokens) < 2 or tokens[1].is_open or tokens[1].is_close:
            self._error(f"'{keyword.text}' needs a file name", keyword.pos, expected=f"{keyword.text} FILENAME")
            return
        name = tokens[1]
        if len(tokens) > 2:
            self._error(f"unexpected '{tokens[2].text}' after the file name", tokens[2].pos,
                        hint="quote a file name that contains spaces")
        state = self.files[-1]
        checks = state.checks | INCLUDE_KEYWORDS[keyword.text]
        if len(self.files) >= MAX_INCLUDE_DEPTH:
            self._error(f"includes nested more than {MAX_INCLUDE_DEPTH} deep", name.pos)
            return
        pattern = os.path.join(state.directory, name.text)
        try:
            alternatives = expand_braces(pattern)
        except ValueError as e:
            self._error(f"{e}: {name.text}", name.pos)
            return
        for path in self._matching_files(name, alternatives, checks):
            self._include_file(path, name.pos, checks)

    def _matching_files(self, name: Token, alternatives: list[str], checks: frozenset[str]) -> list[str]:
        """Glob each brace alternative (sorted); report what does not match per include_check."""
        found: list[str] = []
        unmatched: list[str] = []
        for alt in alternatives:
            matches = sorted(glob.glob(alt)) if _GLOB_MAGIC.search(alt) else ([alt] if os.path.lexists(alt) else [])
            if not matches:
                unmatched.append(alt)
            found.extend(matches)
        wildcard = any(_GLOB_MAGIC.search(a) for a in alternatives)
        if not found:
            fatal = "wildcard_match" in checks or ("match" in checks and not wildcard)
            fatal = fatal or ("brace_match" in checks and len(alternatives) > 1)
            self._report(fatal, f"no file matches {name.text!r}", name.pos)
        elif "brace_match" in checks:
            for alt in unmatched:
                self._error(f"no file matches {alt!r} (from {name.text!r})", name.pos)
        return found

    def _include_file(self, path: str, pos: Pos, checks: frozenset[str]) -> None:
        readable_required = bool(checks)  # every check implies 'readable'
        real = os.path.realpath(path)
        chain = [s.name for s in self.files]
        if any(s.real == real for s in self.files):
            self._error(f"include cycle: {path} is already being read ({' -> '.join(chain + [path])})", pos)
            return
        if not os.path.isfile(path):
            self._report(readable_required, f"cannot read included file {path}: not a regular file", pos)
            return
        try:
            text = _read_text(path)
        except OSError as e:
            self._report(readable_required, f"cannot read included file {path}: {e.strerror or e}", pos)
            return
        parent = self.files[-1]
        directory = os.path.dirname(path)
        state = _FileState(path, directory, os.path.abspath(directory or "."), parent.checks, real)
        self.lex(text, state)

    # ------------------------------------------------------- diagnostics

    def _report(self, fatal: bool, message: str, pos: Pos) -> None:
        if fatal:
            self._error(message, pos)
        else:
            self._warning(message, pos)

    def _error(self, message: str, pos: Pos, **kw: str | None) -> None:
        self._diagnose(ERROR, message, pos, kw)

    def _warning(self, message: str, pos: Pos, **kw: str | None) -> None:
        self._diagnose(WARNING, message, pos, kw)

    def _notice(self, message: str, pos: Pos, **kw: str | None) -> None:
        self._diagnose(NOTICE, message, pos, kw)

    def _diagnose(self, severity: str, message: str, pos: Pos, kw: dict[str, str | None]) -> None:
        """Report once per place: an expansion repeats its lines, not its problems."""
        self.problems += 1
        key = (severity, message, pos)
        if key not in self._reported:
            self._reported.add(key)
            self.diags.add(severity, message, pos, **kw)


class _FormattedRange:
    """A ~SEQ's values as 1-tuples of strings (like ~LST rows), made lazily:
    len() of a million-value sequence does not build the list."""

    def __init__(self, values: range, hexadecimal: bool) -> None:
        self.values = values
        self.hexadecimal = hexadecimal

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[tuple[str]]:
        fmt = "x" if self.hexadecimal else "d"
        return ((format(v, fmt),) for v in self.values)


#: the values a ~SEQ or ~LST block assigns, one tuple (one value per variable) per round
_Rows = list[tuple[str, ...]] | _FormattedRange


def _unbrace(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == "{" and s[-1] == "}" else s


# --------------------------------------------------------------------------
# public API


def lex_file(path: str | os.PathLike[str], diags: Diagnostics, *, config_id: str | None = None,
             all_config: bool = False) -> list[Line]:
    """Lex a configuration file and everything it includes.

    An unreadable file is reported in ``diags`` (not raised) and gives no lines.
    """
    name = os.fspath(path)
    try:
        text = _read_text(name)
    except OSError as e:
        diags.error(f"cannot read configuration file {name}: {e.strerror or e}", Pos(name, 1, 1))
        return []
    directory = os.path.dirname(name)
    # keepalived -e / --all-config: every include is checked as by includea
    checks = INCLUDE_CHECKS if all_config else frozenset()
    state = _FileState(name, directory, os.path.abspath(directory or "."), checks, os.path.realpath(name))
    lexer = _Lexer(diags, default_config_id() if config_id is None else config_id)
    with gc_paused():
        lexer.lex(text, state)
    return lexer.out


def lex_text(text: str, diags: Diagnostics, *, filename: str = "<string>", config_id: str | None = None,
             base_dir: str | None = None) -> list[Line]:
    """Lex configuration text; relative includes and ${_PWD} use ``base_dir``
    (default: the directory of ``filename``, else the current directory)."""
    directory = base_dir if base_dir is not None else os.path.dirname(filename)
    real = os.path.realpath(filename) if os.path.isfile(filename) else None
    state = _FileState(filename, directory, os.path.abspath(directory or "."), frozenset(), real)
    lexer = _Lexer(diags, default_config_id() if config_id is None else config_id)
    with gc_paused():
        lexer.lex(text, state)
    return lexer.out
