"""track_file: integers read from files, folded into priorities, watched with inotify.

keepalived.conf(5), "Track files", and keepalived 2.2.7 as observed:

- the file holds a number in text; a file that is missing, unreadable or does not
  start with an integer reads as 0 (keepalived: a deleted file or "abc" is 0);
- an instance's (or sync group's) ``track_file NAME [weight W [reverse]]`` line
  takes W from the line, else the block's ``weight`` (default 1) and its reverse;
- W == 0: a non-zero value is a FAULT, zero is OK;
- otherwise value x W (negated by ``reverse``) is the effect: below -253 it is a
  FAULT, else it is added to the priority (clamped 1..254 by the state machine);
- ``init_file [VALUE] [overwrite]`` writes VALUE (default 0) at start if the file
  does not exist, or always with ``overwrite``.

The files are watched, not polled: one inotify descriptor (non-blocking, polled by
the engine's loop like its other descriptors) with a watch on each directory that
holds a tracked file (IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE,
IN_CREATE): a file written in place, replaced by rename, or removed is re-read at
once. A directory that does not exist cannot be watched: that is logged at start and
the file reads as 0 until fastka is restarted.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Optional

from ..inotify import DirWatch

log = logging.getLogger("fastka.vrrp")

FAULT_BELOW = -253
_NUMBER = re.compile(rb"\s*([+-]?\d+)")


def read_value(path: str) -> int:
    """The integer at the start of the file; 0 if there is none or the file cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(64)
    except OSError:
        return 0
    m = _NUMBER.match(data)
    if m is None:
        return 0
    v = int(m.group(1))
    return max(-2**31, min(2**31 - 1, v))  # keepalived reads it as a C int


def effect(value: int, weight: int, reverse: bool) -> tuple[int, bool]:
    """(priority change, fault) of one tracked file's value for one instance."""
    if weight == 0:
        return 0, value != 0
    r = value * weight * (-1 if reverse else 1)
    if r < FAULT_BELOW:
        return 0, True
    return r, False


@dataclass
class TrackedFile:
    name: str
    path: str
    weight: int  # the block's default weight
    reverse: bool
    init: Optional[tuple[Optional[int], bool]]  # init_file (value, overwrite)
    value: int = 0


def line_weight(ref: Any, block: Any) -> tuple[int, bool]:
    """(weight, reverse) of an instance's / group's track_file line for block."""
    if ref.weight is not None:
        return ref.weight, ref.reverse
    if block is not None and block.weight is not None:
        return block.weight.value, block.weight.reverse
    return 1, False


class FileTracker:
    """Every track_file some instance or sync group uses: values, and the inotify fd."""

    def __init__(self, config: Any, used: set[str]) -> None:
        self.files: dict[str, TrackedFile] = {}
        for f in getattr(config, "track_files", ()):
            if f.name in used and f.file:
                w = f.weight
                self.files[f.name] = TrackedFile(f.name, os.path.abspath(f.file), w.value if w else 1,
                                                 bool(w and w.reverse), f.init_file)
        self.watch: Optional[DirWatch] = None
        self._by_dir: dict[str, list[TrackedFile]] = {}
        self.reads = 0  # how many times a file was (re-)read after start

    def start(self) -> None:
        """init_file, first read, inotify watches."""
        for t in self.files.values():
            if t.init is not None:
                self._init(t)
            t.value = read_value(t.path)
            self._by_dir.setdefault(os.path.dirname(t.path), []).append(t)
        if not self.files:
            return
        try:
            self.watch = DirWatch()
        except OSError as e:
            log.error("track_file: %s; tracked files are read at start only", e.strerror)
            return
        for d in self._by_dir:
            try:
                self.watch.add(d)
            except OSError as e:
                log.error("track_file: cannot watch directory %s: %s; %s read as 0 until restart", d,
                          e.strerror, ", ".join(t.name for t in self._by_dir[d]))

    def _init(self, t: TrackedFile) -> None:
        value, overwrite = t.init or (None, False)
        if os.path.exists(t.path) and not overwrite:
            return
        try:
            tmp = f"{t.path}.fastka.{os.getpid()}"
            with open(tmp, "w") as f:
                f.write(f"{value or 0}\n")
            os.replace(tmp, t.path)
        except OSError as e:
            log.error("track_file %s: cannot initialise %s: %s", t.name, t.path, e.strerror)

    def fileno(self) -> int:
        return self.watch.fd if self.watch is not None else -1

    def changed(self) -> list[TrackedFile]:
        """Drain the inotify events; re-read the files they touch; those whose value changed."""
        if self.watch is None:
            return []
        try:
            touched, rescan = self.watch.touched()
        except OSError as e:
            log.error("track_file: reading inotify events: %s", e.strerror)
            return []
        out = []
        for t in self.files.values():
            if rescan or t.path in touched:
                self.reads += 1
                v = read_value(t.path)
                if v != t.value:
                    t.value = v
                    out.append(t)
        return out

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None
