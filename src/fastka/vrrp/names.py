"""iproute2's names for numbers, as ``ip`` reads them: routing tables (rt_tables), route
protocols (rt_protos), realms (rt_realms) and interface groups (group).

A configuration line written in ``ip route`` / ``ip rule`` syntax may name a table,
protocol, realm or group instead of giving its number; keepalived looks the name up in
iproute2's files, and so does fastka. Each kind is read from ``KIND`` and ``KIND.d/*.conf``
in the directories of DIRS, later ones overriding earlier ones (the distribution's
defaults under /usr, the administrator's under /etc), over the names iproute2 itself
knows without a file (BUILTIN). A line is ``NUMBER NAME``; ``#`` starts a comment;
a number there is 0x... hexadecimal, else decimal, leading zeros and all (ip reads
"010 name" as 10, measured); a number written in place of a name where the
configuration keeps it as text (a realm, an interface group) is read as ip reads its
arguments, with strtoul's base 0 (``ip route ... table 010`` is table 8, measured; the
configuration reads a table number as decimal itself).
The files are read once per load (``forget`` clears
what was read: a reload reads them again).
"""

from __future__ import annotations

import functools
import glob
import os
from typing import Optional

DIRS = ("/usr/lib/iproute2", "/usr/share/iproute2", "/etc/iproute2")
KINDS = ("rt_tables", "rt_protos", "rt_realms", "group")
BUILTIN: dict[str, dict[str, int]] = {
    "rt_tables": {"unspec": 0, "default": 253, "main": 254, "local": 255},
    "rt_protos": {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4},
    "rt_realms": {"cosmos": 0},
    "group": {"default": 0},
}


def _read(path: str, into: dict[str, int]) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        w = words[0].lower()
        if w.startswith("0x") and len(w) > 2 and all(c in "0123456789abcdef" for c in w[2:]):
            into[words[1]] = int(w[2:], 16)
        elif w.isascii() and w.isdigit():
            into[words[1]] = int(w)


def c_number(text: str) -> Optional[int]:
    """An unsigned number as strtoul(text, &end, 0) reads a whole word (ip's arguments):
    0x1f hexadecimal, 010 octal (8), 10 decimal; None otherwise."""
    t = text.lower()
    if not t.isascii():
        return None
    try:
        if t.startswith("0x"):
            return int(t[2:], 16) if t[2:] and not t[2:].startswith(("+", "-")) else None
        if len(t) > 1 and t.startswith("0"):
            return int(t[1:], 8) if t[1:].isdigit() else None
        return int(t) if t.isdigit() else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=None)
def table(kind: str) -> dict[str, int]:
    """Every name of kind (one of KINDS) and its number."""
    if kind not in KINDS:
        raise ValueError(f"unknown iproute2 name kind {kind!r}")
    out = dict(BUILTIN[kind])
    for d in DIRS:
        _read(os.path.join(d, kind), out)
        for path in sorted(glob.glob(os.path.join(d, f"{kind}.d", "*.conf"))):
            _read(path, out)
    return out


def number(kind: str, name: "str | int") -> Optional[int]:
    """The number a name (or a number, as text or int) stands for; None if unknown."""
    if isinstance(name, int):
        return name
    n = c_number(name)
    return n if n is not None else table(kind).get(name)


def forget() -> None:
    """Read the files again at the next lookup."""
    table.cache_clear()
