"""Positions, tokens and diagnostics shared by every stage of the config front end.

Every value that comes out of a keepalived.conf carries the place it came from
(file, line, column, 1-based), so that any stage -- lexer, tree builder, schema
conversion, semantic validation -- can report an error the way a user reads it:
the file, the line, a caret under the column, and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple, Optional

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"

_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, NOTICE: 2}

SOURCE_WIDTH = 120  # the widest slice of a source line a diagnostic quotes


class Pos(NamedTuple):
    """A place in a configuration file. Lines and columns count from 1.

    NamedTuples, not dataclasses: a 10,000-instance file makes ~500k of these.
    """

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Token(NamedTuple):
    """One word of a configuration line, after quoting, macros and escapes.

    ``quoted`` is true when any part of the word came from a quoted string; a
    quoted ``{`` or ``}`` is a plain word, not a block delimiter.
    """

    text: str
    pos: Pos
    quoted: bool = False

    @property
    def is_open(self) -> bool:
        return self.text == "{" and not self.quoted

    @property
    def is_close(self) -> bool:
        return self.text == "}" and not self.quoted


class Line(NamedTuple):
    """One logical configuration line: its tokens and the source text to show in errors."""

    tokens: tuple[Token, ...]
    source: str

    @property
    def pos(self) -> Pos:
        return self.tokens[0].pos


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    message: str
    pos: Optional[Pos] = None
    source: Optional[str] = None
    expected: Optional[str] = None
    hint: Optional[str] = None

    def format(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        out = [f"{where}{self.severity}: {self.message}"]
        if self.source is not None and self.pos is not None:
            text = self.source.rstrip("\n").expandtabs(1)
            col = max(self.pos.col - 1, 0)
            if len(text) > SOURCE_WIDTH:  # show a window around the column, not a 100 KB line
                start = max(0, min(col - SOURCE_WIDTH // 2, len(text) - SOURCE_WIDTH))
                text = ("..." if start else "") + text[start:start + SOURCE_WIDTH] + \
                    ("..." if start + SOURCE_WIDTH < len(text) else "")
                col = col - start + (3 if start else 0)
            out.append(f"    {text}")
            out.append("    " + " " * col + "^")
        if self.expected:
            out.append(f"    expected: {self.expected}")
        if self.hint:
            out.append(f"    hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.format()


@dataclass
class Diagnostics:
    """Collects every problem found in a run, so all are reported at once."""

    items: list[Diagnostic] = field(default_factory=list)
    # the physical lines of each file read, filled by the lexer so later stages can
    # quote a line without re-reading the file (see source_line)
    sources: dict[str, list[str]] = field(default_factory=dict)

    def source_line(self, file: str, line: int) -> Optional[str]:
        lines = self.sources.get(file)
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1]

    def add(
        self,
        severity: str,
        message: str,
        pos: Optional[Pos] = None,
        *,
        source: Optional[str] = None,
        expected: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> Diagnostic:
        if source is None and pos is not None:
            source = self.source_line(pos.file, pos.line)
        d = Diagnostic(severity, message, pos, source, expected, hint)
        self.items.append(d)
        return d

    def error(self, message: str, pos: Optional[Pos] = None, **kw: Optional[str]) -> Diagnostic:
        return self.add(ERROR, message, pos, **kw)

    def warning(self, message: str, pos: Optional[Pos] = None, **kw: Optional[str]) -> Diagnostic:
        return self.add(WARNING, message, pos, **kw)

    def notice(self, message: str, pos: Optional[Pos] = None, **kw: Optional[str]) -> Diagnostic:
        return self.add(NOTICE, message, pos, **kw)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == WARNING]

    @property
    def notices(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == NOTICE]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic) -> tuple[int, str, int, int]:
            p = d.pos or Pos("", 0, 0)
            return (_SEVERITY_ORDER[d.severity], p.file, p.line, p.col)

        return sorted(self.items, key=key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)



class ConfigError(Exception):
    """Raised when a configuration has errors; carries every diagnostic of the run."""

    def __init__(self, diagnostics: Diagnostics):
        self.diagnostics = diagnostics
        errs = diagnostics.errors
        first = errs[0].format() if errs else "configuration error"
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        super().__init__(first + more)
