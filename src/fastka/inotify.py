"""Files watched with inotify: one descriptor, a watch per directory.

A watch on a file's directory (not on the file) sees it written in place, replaced by
a rename (how most tools write files atomically), created and removed; a watch on the
file itself would be lost with its inode at the first rename. The descriptor is
non-blocking: the owner polls it in its own loop (the VRRP engine's native loop for
track_file, asyncio for the checkers' FILE_CHECK) and drains it with `touched()`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from typing import Optional

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x8, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_Q_OVERFLOW, IN_IGNORED = 0x100, 0x200, 0x400, 0x4000, 0x8000
IN_ONLYDIR = 0x01000000
WATCH_MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR
_EVENT = struct.Struct("=iIII")  # wd, mask, cookie, len

_libc: Optional[ctypes.CDLL] = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


class DirWatch:
    """An inotify descriptor with watches on directories. Raises OSError when the
    kernel gives no descriptor."""

    def __init__(self) -> None:
        fd = _c().inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self.fd = fd
        self._wd: dict[int, str] = {}  # watch descriptor -> directory
        self._dirs: dict[str, int] = {}

    def add(self, directory: str) -> None:
        """Watch a directory (again: nothing new). Raises OSError (it does not exist, ...)."""
        if directory in self._dirs:
            return
        wd = _c().inotify_add_watch(self.fd, os.fsencode(directory), WATCH_MASK)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), directory)
        self._wd[wd] = directory
        self._dirs[directory] = wd

    def remove(self, directory: str) -> None:
        wd = self._dirs.pop(directory, None)
        if wd is not None:
            del self._wd[wd]
            _c().inotify_rm_watch(self.fd, wd)

    def fileno(self) -> int:
        return self.fd

    def touched(self) -> tuple[set[str], bool]:
        """Drain the events: (paths named by them, whether the kernel's queue overflowed,
        in which case any watched file may have changed)."""
        paths: set[str] = set()
        overflow = False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                raise
            if not data:
                break
            off = 0
            while off + _EVENT.size <= len(data):
                wd, mask, _, n = _EVENT.unpack_from(data, off)
                name = data[off + _EVENT.size:off + _EVENT.size + n].split(b"\0", 1)[0]
                off += _EVENT.size + n
                if mask & IN_Q_OVERFLOW:
                    overflow = True
                    continue
                d = self._wd.get(wd)
                if d is not None and name:
                    paths.add(os.path.join(d, os.fsdecode(name)))
        return paths, overflow

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
