"""vrrp_track_process: is a quorum of some process running?

keepalived.conf(5), "VRRP track processes":

- ``process NAME`` alone matches the process name (/proc/PID/comm, the Name: line
  of /proc/PID/status; the kernel keeps its first 15 characters, so NAME is
  compared on those); an exact match, not a pattern (``sshd`` is not ``ssh``);
- with parameters (``process NAME P1 P2``), with ``param_match``, or with
  ``full_command``, the command line is matched instead: argv[0] must be NAME and
  the parameters must be P1 P2 exactly (``param_match`` alone: no parameters at
  all), ``partial``: the first n parameters are P1..Pn, ``initial``: as exact, but
  the last parameter may be longer. ``full_command`` without parameters or
  param_match compares argv[0] only;
- zombies do not count; threads are not processes;
- the tracked object is up while ``quorum`` <= matching processes (<=
  ``quorum_max`` when set); ``fork_delay`` delays going up, ``terminate_delay``
  going down (a process restarted within the delay changes nothing); weights as
  for scripts (0: down is a FAULT, ``0 reverse``: up is a FAULT).

How processes are seen (measured on this machine's kernel, 6.18): the proc
connector (NETLINK_CONNECTOR, CN_IDX_PROC: fork, exec, comm change, exit events)
works in the initial network namespace only - in any other, sending the
PROC_CN_MCAST_LISTEN subscription fails with ECONNREFUSED. fastka runs in a
namespace with ``-s NAME``, so it opens the connector socket where it runs, else
from a thread that joins the namespace fastka started in before ``-s`` (else
/proc/1/ns/net, which a container may not let it open); the socket stays in that
namespace and the loop polls it like any other. If neither works (fastka started in
a namespace that is not the initial one, or without CAP_NET_ADMIN), it falls back to
scanning /proc every SCAN_INTERVAL_S seconds. /proc is scanned once at start in every case, and
again whenever the connector reports lost events (ENOBUFS). On events: a fork
copies the parent's match (no /proc read), exec and comm changes re-read the
process, exit removes it.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from .. import sockbuf

log = logging.getLogger("fastka.vrrp")

NETLINK_CONNECTOR = 11
CN_IDX_PROC, CN_VAL_PROC = 1, 1
PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE = 1, 2
PROC_EVENT_FORK, PROC_EVENT_EXEC, PROC_EVENT_COMM, PROC_EVENT_EXIT = 0x1, 0x2, 0x200, 0x80000000
NLMSG_DONE = 3
_NLMSG = struct.Struct("=IHHII")
_CN_MSG = struct.Struct("=IIIIHH")  # idx, val, seq, ack, len, flags
_EVENT_HDR = struct.Struct("=IIQ")  # what, cpu, timestamp_ns
_EVENT_AT = _NLMSG.size + _CN_MSG.size
_DATA_AT = _EVENT_AT + _EVENT_HDR.size
SCAN_INTERVAL_S = 1.0
MODE_ENV = "FASTKA_TRACK_PROCESS"  # "scan" forces the /proc scan (tests)
COMM_LEN = 15


@dataclass
class ProcSpec:
    """One vrrp_track_process, resolved."""

    name: str
    command: str
    params: Optional[tuple[str, ...]]  # None: not matched on the command line
    match: str  # exact | partial | initial (with params)
    quorum: int
    quorum_max: Optional[int]
    fork_delay_ns: int
    terminate_delay_ns: int
    cmdline: bool  # matched on the command line (else on the name)
    count: int = 0
    up: bool = False
    pending: Optional[bool] = None  # the state a delay timer will set
    pending_seq: int = 0
    changes: int = 0

    def matches(self, comm: Optional[str], argv: Optional[list[str]]) -> bool:
        if not self.cmdline:
            return comm is not None and comm == self.command[:COMM_LEN]
        if not argv or argv[0] != self.command:
            return False
        if self.params is None:
            return True
        got, want = argv[1:], list(self.params)
        if self.match == "partial":
            return got[:len(want)] == want
        if len(got) != len(want):
            return False
        if self.match == "initial" and want:
            return got[:-1] == want[:-1] and got[-1].startswith(want[-1])
        return got == want

    def quorate(self) -> bool:
        return self.count >= self.quorum and (self.quorum_max is None or self.count <= self.quorum_max)


def spec_of(p: Any) -> ProcSpec:
    words = list(p.process or ())
    params: Optional[tuple[str, ...]] = tuple(words[1:]) if len(words) > 1 or p.param_match is not None else None
    return ProcSpec(name=p.name, command=words[0] if words else "", params=params,
                    match=p.param_match or "exact", quorum=p.quorum if p.quorum is not None else 1,
                    quorum_max=p.quorum_max, fork_delay_ns=round((p.fork_delay or 0) * 1e9),
                    terminate_delay_ns=round((p.terminate_delay or 0) * 1e9),
                    cmdline=params is not None or bool(p.full_command))


def read_process(pid: int, want_cmdline: bool) -> Optional[tuple[str, Optional[list[str]]]]:
    """(comm, argv or None) of a live, non-zombie process; None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # comm is in parentheses and may contain anything: the state follows the last ')'
        end = stat.rindex(b")")
        if stat[end + 2:end + 3] in (b"Z", b"X"):
            return None
        comm = stat[stat.index(b"(") + 1:end].decode(errors="replace")
        argv = None
        if want_cmdline:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                raw = f.read()
            argv = [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]] if raw else []
        return comm, argv
    except (OSError, ValueError):
        return None


def _listen(sock: socket.socket, op: int) -> None:
    payload = struct.pack("=I", op)
    cn = _CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
    sock.send(_NLMSG.pack(_NLMSG.size + len(cn), NLMSG_DONE, 0, 0, 0) + cn)


def open_connector() -> socket.socket:
    """A proc connector socket subscribed to process events (OSError if the connector
    cannot be used from this network namespace)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, NETLINK_CONNECTOR)
    try:
        s.bind((0, CN_IDX_PROC))
        sockbuf.grow(s, 4 << 20)
        _listen(s, PROC_CN_MCAST_LISTEN)
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def open_connector_in_init_netns() -> socket.socket:
    """open_connector() from a thread that joins the network namespace fastka started
    in (before -s), else the initial one (/proc/1/ns/net): the connector exists only
    in the initial namespace; the socket keeps working from any namespace."""
    from ..core.daemon import started_in_netns

    box: dict[str, Any] = {}

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            start = started_in_netns()
            fd = os.dup(start) if start is not None else os.open("/proc/1/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            box["sock"] = open_connector()
        except OSError as e:
            box["error"] = e

    t = threading.Thread(target=run, name="proc-connector", daemon=True)
    t.start()
    t.join(10)
    if "sock" not in box:
        raise box.get("error") or OSError(errno.ETIMEDOUT, "timed out")
    sock: socket.socket = box["sock"]
    return sock


@dataclass
class ProcessTracker:
    """Every vrrp_track_process some instance uses; calls on_change(name, up, now_us)."""

    specs: dict[str, ProcSpec] = field(default_factory=dict)
    pids: dict[int, set[str]] = field(default_factory=dict)  # pid -> names of the specs it matches
    sock: Optional[socket.socket] = None
    mode: str = "off"  # connector | connector-init-netns | scan
    scans: int = 0
    events: int = 0

    @classmethod
    def from_config(cls, config: Any, used: set[str]) -> "ProcessTracker":
        t = cls()
        for p in getattr(config, "vrrp_track_processes", ()):
            if p.name in used and p.process:
                t.specs[p.name] = spec_of(p)
        return t

    def start(self, watch: Callable[[int, Callable[[int], None]], Any], call_at: Callable[[int, Callable[[int], None]],
                                                                                            None],
              clock: Callable[[], int], on_change: Callable[[str, bool, int], None]) -> None:
        if not self.specs:
            return
        self._call_at, self._clock, self._on_change = call_at, clock, on_change
        self._cmdline = any(s.cmdline for s in self.specs.values())
        if os.environ.get(MODE_ENV) != "scan":
            for mode, opener in (("connector", open_connector), ("connector-init-netns",
                                                                  open_connector_in_init_netns)):
                try:
                    self.sock = opener()
                    self.mode = mode
                    break
                except OSError as e:
                    log.debug("track_process: proc connector (%s): %s", mode, e)
        self._scan(clock() // 1000, initial=True)
        if self.sock is not None:
            watch(self.sock.fileno(), self._readable)
        else:
            self.mode = "scan"
            self._call_at(clock() + round(SCAN_INTERVAL_S * 1e9), self._periodic)
        log.info("track_process: %s (%s)", ", ".join(f"{s.name} {'up' if s.up else 'down'} ({s.count})"
                                                      for s in self.specs.values()),
                 "process events" if self.mode != "scan" else f"/proc every {SCAN_INTERVAL_S} s")

    # -- what matches --------------------------------------------------------------------

    def _names_for(self, pid: int, info: Optional[tuple[str, Optional[list[str]]]] = None) -> set[str]:
        if info is None:
            info = read_process(pid, self._cmdline)
        if info is None:
            return set()
        comm, argv = info
        return {s.name for s in self.specs.values() if s.matches(comm, argv)}

    def _scan(self, now_us: int, initial: bool = False) -> None:
        self.scans += 1
        pids: dict[int, set[str]] = {}
        try:
            entries = os.listdir("/proc")
        except OSError as e:
            log.error("track_process: cannot list /proc: %s", e.strerror)
            return
        for entry in entries:
            if entry.isdigit():
                names = self._names_for(int(entry))
                if names:
                    pids[int(entry)] = names
        self.pids = pids
        self._recount(now_us, initial)

    def _periodic(self, now_us: int) -> None:
        self._scan(now_us)
        self._call_at(self._clock() + round(SCAN_INTERVAL_S * 1e9), self._periodic)

    def _set(self, pid: int, names: set[str]) -> bool:
        old = self.pids.get(pid, set())
        if names:
            self.pids[pid] = names
        else:
            self.pids.pop(pid, None)
        return old != names

    def _readable(self, now_us: int) -> None:
        assert self.sock is not None
        changed = False
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # events were lost: look again
                    log.warning("track_process: process events lost (ENOBUFS); rescanning /proc")
                    self._scan(now_us)
                    continue
                log.error("track_process: reading process events: %s", e.strerror)
                break
            off = 0
            while off + _DATA_AT <= len(data):
                n = _NLMSG.unpack_from(data, off)[0]
                if n < _NLMSG.size:
                    break
                if off + _DATA_AT <= len(data):
                    changed |= self._event(data, off)
                off += (n + 3) & ~3
        if changed:
            self._recount(now_us)

    def _event(self, data: bytes, off: int) -> bool:
        what = _EVENT_HDR.unpack_from(data, off + _EVENT_AT)[0]
        at = off + _DATA_AT
        self.events += 1
        if what == PROC_EVENT_FORK:
            _, ptgid, cpid, ctgid = struct.unpack_from("=IIII", data, at)
            if cpid != ctgid:
                return False  # a new thread
            names = self.pids.get(ptgid)
            return self._set(ctgid, set(names)) if names else False
        if what == PROC_EVENT_EXEC:
            pid, tgid = struct.unpack_from("=II", data, at)
            return self._set(tgid, self._names_for(tgid))
        if what == PROC_EVENT_COMM:
            pid, tgid = struct.unpack_from("=II", data, at)
            if pid != tgid:
                return False
            return self._set(tgid, self._names_for(tgid))
        if what == PROC_EVENT_EXIT:
            pid, tgid = struct.unpack_from("=II", data, at)
            if pid != tgid:
                return False
            return self.pids.pop(tgid, None) is not None
        return False

    # -- quorum and delays -------------------------------------------------------------------

    def _recount(self, now_us: int, initial: bool = False) -> None:
        counts = dict.fromkeys(self.specs, 0)
        for names in self.pids.values():
            for name in names:
                counts[name] += 1
        for s in self.specs.values():
            s.count = counts[s.name]
            ok = s.quorate()
            if initial:
                s.up = ok
                continue
            if ok == s.up:
                s.pending = None  # back before the delay ran out: nothing changes
                continue
            if s.pending == ok:
                continue  # already waiting for this
            delay = s.fork_delay_ns if ok else s.terminate_delay_ns
            if delay <= 0:
                self._flip(s, ok, now_us)
                continue
            s.pending = ok
            s.pending_seq += 1
            seq = s.pending_seq
            self._call_at(now_us * 1000 + delay, self._delay_cb(s, seq))

    def _delay_cb(self, s: ProcSpec, seq: int) -> Callable[[int], None]:
        return lambda now_us: self._delayed(s, seq, now_us)

    def _delayed(self, s: ProcSpec, seq: int, now_us: int) -> None:
        if s.pending is None or s.pending_seq != seq:
            return
        ok, s.pending = s.pending, None
        if ok == s.quorate() and ok != s.up:
            self._flip(s, ok, now_us)

    def _flip(self, s: ProcSpec, ok: bool, now_us: int) -> None:
        s.up = ok
        s.changes += 1
        log.info("track_process %s: %s (%d running)", s.name, "quorum gained" if ok else "quorum lost", s.count)
        self._on_change(s.name, ok, now_us)

    def close(self) -> None:
        if self.sock is not None:
            try:
                _listen(self.sock, PROC_CN_MCAST_IGNORE)
            except OSError:
                pass
            self.sock.close()
            self.sock = None
