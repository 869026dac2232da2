"""CheckerTask: one checker run forever on keepalived's schedule, reporting up/down.

    tasks = build_checkers(config, on_change)   # config: fastka.config.load_*(...).config
    for t in tasks: t.start()                   # inside a running event loop
    ...
    await stop_all(tasks)

The schedule (keepalived.conf(5), LVS CONFIGURATION):

- the first check comes after a random delay in [0, warmup] (warmup defaults to
  delay_loop; 0 disables it), then one check every delay_loop (fixed rate: a check
  starts delay_loop after the previous one started, or at once when that one took
  longer; keepalived waits delay_loop after the end - the same for checks that
  take milliseconds, and a fixed rate keeps thousands of checkers spread out instead
  of drifting into bursts);
- ``alpha``: the checker starts down and the first passing check brings it up;
  otherwise it starts up;
- while up, a failed check is retried ``retry`` times, ``delay_before_retry`` apart;
  the checker goes down only when all of them fail. While down, one passing check
  brings it up;
- HTTP_GET / SSL_GET with several urls: while down (alpha or after a failure) one url
  is checked per delay_loop and the checker comes up once all have passed in a row,
  unless ``fast_recovery`` (then all urls in one go);
- ``log_all_failures``: every failed attempt while up is logged (retries included);
  otherwise only the transitions are;
- FILE_CHECK has no schedule options: its file is read at construction and
  re-read whenever it changes, told by inotify (a watch on its directory, shared by
  the checkers of one loop: written in place, replaced by rename, created, removed).
  A file whose directory cannot be watched (missing at start, no inotify) or that is
  a symbolic link (the change happens elsewhere) is polled instead: stat every
  ``file_poll_interval`` seconds.

``on_change(task, up)`` is called on every up/down transition and when a dynamic
weight (MISC_CHECK misc_dynamic, FILE_CHECK dynamic) changes while up; never for the
initial state, which is ``task.up`` right after construction.

A checker is loop callbacks, not a task: a timer starts each attempt; TCP_CHECK runs
on socket callbacks alone, the other types run each attempt as a short-lived task.
Thousands run concurrently and a hanging server costs only its own checker's
timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import weakref
from typing import Any, Callable, Iterable, Optional

from ..config import model_lvs as m
from ..inotify import DirWatch
from .engine import Engine, Timer, engine
from .probes import FileProbe, HttpProbe, Probe, ProbeEnv, ProbeResult, hostport, make_probe

log = logging.getLogger("fastka.check")

OnChange = Callable[["CheckerTask", bool], None]

FILE_POLL_INTERVAL = 1.0


class CheckerTask:
    """One checker of one real server of one virtual server."""

    # slots: tens of thousands of these, and with more than 30 attributes an instance
    # dict stops sharing its keys (made per instance: a quarter of the build's time)
    __slots__ = ("checker", "real_server", "virtual_server", "on_change", "probe", "kind", "file_poll_interval",
                 "is_file", "delay_loop", "retry", "delay_before_retry", "warmup", "alpha", "log_all_failures",
                 "fast_recovery", "stepwise", "up", "weight", "last", "checks", "failures", "transitions", "_tries",
                 "_due", "_step", "_engine", "_timer", "_inflight", "_callback_probe", "_file_sig", "_watching",
                 "__weakref__")

    def __init__(self, checker: Any, real_server: m.RealServer, virtual_server: Optional[m.VirtualServer],
                 on_change: OnChange, *, env: Optional[ProbeEnv] = None, probe: Optional[Probe] = None,
                 file_poll_interval: float = FILE_POLL_INTERVAL) -> None:
        self.checker = checker
        self.real_server = real_server
        self.virtual_server = virtual_server
        self.on_change = on_change
        self.probe = probe if probe is not None else make_probe(checker, real_server, env)
        self.kind = self.probe.kind
        self.file_poll_interval = file_poll_interval
        self.is_file = isinstance(self.probe, FileProbe)
        if isinstance(checker, m.Checker):
            self.delay_loop = float(_val(checker.delay_loop, m.DEFAULT_DELAY_LOOP))
            self.retry = int(_val(checker.retry, type(checker).DEFAULT_RETRY))
            dbr = type(checker).DEFAULT_DELAY_BEFORE_RETRY
            self.delay_before_retry = float(_val(checker.delay_before_retry,
                                                 dbr if dbr is not None else self.delay_loop))
            self.warmup = float(_val(checker.warmup, self.delay_loop))
            self.alpha = bool(checker.alpha)
            self.log_all_failures = bool(checker.log_all_failures)
        else:  # FILE_CHECK: none of the standard options
            self.delay_loop, self.retry, self.delay_before_retry, self.warmup = 0.0, 0, 0.0, 0.0
            self.alpha = self.log_all_failures = False
        self.fast_recovery = bool(getattr(checker, "fast_recovery", False))
        self.stepwise = isinstance(self.probe, HttpProbe) and self.probe.steps > 1 and not self.fast_recovery
        self.up: bool = not self.alpha
        self.weight: Optional[int] = None
        self.last: Optional[ProbeResult] = None
        self.checks = 0  # attempts made
        self.failures = 0  # attempts failed
        self.transitions = 0
        self._tries = 0  # retries made since the failure that started them
        self._due = 0.0  # loop time the attempt in flight was due to start
        self._step = 0  # urls passed in a row while recovering stepwise
        self._engine: Optional[Engine] = None
        self._timer: Optional[Timer] = None
        self._inflight: Optional[asyncio.Task[None]] = None
        self._callback_probe = self.probe.callbacks
        self._file_sig: Optional[tuple[int, int, int, int]] = None
        self._watching = False  # told of the file's changes by inotify (else polled)
        if isinstance(self.probe, FileProbe):
            self._file_sig = _stat_sig(self.probe.path)
            r = self.probe.read()
            self.last = r
            self.up = r.ok
            self.weight = r.weight if r.ok else None
            if not r.ok:
                log.warning("%s: %s", self.describe(), r.reason)

    # --- public -----------------------------------------------------------------------------

    def describe(self) -> str:
        """``TCP_CHECK [10.0.0.2]:tcp:80 of real server 10.0.0.2:80 in virtual server 10.0.0.1 80``."""
        rs = self.real_server
        where = f"real server {hostport(rs.ip, rs.port)}"
        if self.virtual_server is not None:
            where += f" in virtual server {self.virtual_server.label}"
        return f"{self.kind} {self.probe.label} of {where}"

    def start(self) -> None:
        """Start checking (needs a running event loop); a second call does nothing."""
        if self._engine is not None:
            return
        self._engine = engine()
        if self.is_file:
            assert isinstance(self.probe, FileProbe)
            self._watching = _FileWatches.of(self._engine.loop).subscribe(self.probe.path, self._file_event)
            if not self._watching:
                self._timer = self._engine.call_later(self.file_poll_interval, self._poll_file)
        else:
            self._timer = self._engine.call_later(random.uniform(0, self.warmup) if self.warmup > 0 else 0,
                                                  self._begin)

    def halt(self) -> Optional[asyncio.Task[None]]:
        """Stop checking now (stop() without the wait): the attempt in flight, cancelled,
        is returned; the verdict stays."""
        if self._watching and self._engine is not None:
            assert isinstance(self.probe, FileProbe)
            _FileWatches.of(self._engine.loop).unsubscribe(self.probe.path, self._file_event)
        self._watching = False
        self._engine = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._callback_probe:
            self.probe.cancel()
        t, self._inflight = self._inflight, None
        if t is not None and not t.done():
            t.cancel()
            return t
        return None

    async def stop(self) -> None:
        """Stop checking; an attempt in flight is abandoned (a MISC script is killed)."""
        t = self.halt()
        if t is not None:
            try:
                await t
            except asyncio.CancelledError:
                pass

    @property
    def running(self) -> bool:
        return self._engine is not None

    # --- the schedule: loop callbacks, no task per checker -----------------------------------

    def _begin(self) -> None:
        """Timer expired: one attempt (a url while recovering stepwise)."""
        t, self._timer = self._timer, None
        if self._engine is None:
            return
        self._due = t.when if t is not None else self._engine.loop.time()
        self.checks += 1
        step = self._step if (self.stepwise and not self.up) else None
        if self._callback_probe:
            self.probe.start(self._result, step)
        else:
            self._inflight = self._engine.loop.create_task(self._attempt(step))

    async def _attempt(self, step: Optional[int]) -> None:
        try:
            r = await (self.probe() if step is None else self.probe.step(step))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a probe must not take the loop down
            log.exception("%s: the check itself failed", self.describe())
            r = ProbeResult(False, f"internal error: {type(e).__name__}: {e}")
        self._inflight = None
        self._result(r)

    def _result(self, r: ProbeResult) -> None:
        """An attempt's outcome: the state machine, then the next timer."""
        if self._engine is None:
            return
        self.last = r
        delay = self.delay_loop
        if not r.ok:
            self.failures += 1
        try:
            if self.up:
                if r.ok:
                    self._tries = 0
                    self._passed(r)
                elif self._tries < self.retry:
                    self._tries += 1
                    self._log_failure(r, f"retry {self._tries} of {self.retry} in {self.delay_before_retry:g} s")
                    delay = self.delay_before_retry
                else:
                    if self._tries == 0:
                        self._log_failure(r, "no retries")
                    tries, self._tries, self._step = self._tries, 0, 0
                    self._set(False, r, tries)
            elif self.stepwise:
                if not r.ok:
                    self._step = 0
                else:
                    self._step += 1
                    if self._step >= self.probe.steps:
                        self._step = 0
                        self._passed(r)
            elif r.ok:
                self._passed(r)
        finally:
            eng = self._engine
            if eng is not None:
                now = eng.loop.time()
                if delay is self.delay_loop:
                    # fixed rate: starts stay delay_loop apart (warmup's spread is kept, and
                    # checkers never drift into bursts); a longer attempt starts the next now
                    self._timer = eng.call_at(max(self._due + delay, now), self._begin)
                else:
                    self._timer = eng.call_at(now + delay, self._begin)

    def _poll_file(self) -> None:
        assert isinstance(self.probe, FileProbe)
        if self._engine is None:
            return
        try:
            sig = _stat_sig(self.probe.path)
            if sig != self._file_sig:
                self._file_sig = sig
                self._reread()
        finally:
            if self._engine is not None:
                self._timer = self._engine.call_later(self.file_poll_interval, self._poll_file)

    def _file_event(self) -> None:
        """inotify named the file (or lost events): read it again."""
        if self._engine is not None:
            self._reread()

    def _reread(self) -> None:
        assert isinstance(self.probe, FileProbe)
        self.checks += 1
        r = self.probe.read()
        self.last = r
        if r.ok:
            self._passed(r)
        else:
            self.failures += 1
            self._set(False, r, 0)

    def _log_failure(self, r: ProbeResult, what: str) -> None:
        if self.log_all_failures:
            log.warning("%s: check failed (%s): %s", self.describe(), what, r.reason)
        elif log.isEnabledFor(logging.DEBUG):
            log.debug("%s: check failed (%s): %s", self.describe(), what, r.reason)

    def _passed(self, r: ProbeResult) -> None:
        if not self.up:
            if r.weight is not None:
                self.weight = r.weight
            self._set(True, r, 0)
        elif r.weight is not None and r.weight != self.weight:
            old, self.weight = self.weight, r.weight
            log.info("%s: weight %s -> %d (%s)", self.describe(), "as configured" if old is None else old,
                     r.weight, r.reason)
            self._fire(True)

    def _set(self, up: bool, r: ProbeResult, retries: int) -> None:
        if up == self.up:
            return
        self.up = up
        self.transitions += 1
        if up:
            extra = f", weight {self.weight}" if self.weight is not None else ""
            log.info("%s: success%s", self.describe(), extra)
        else:
            after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
            log.warning("%s: failed%s: %s", self.describe(), after, r.reason)
        self._fire(up)

    def _fire(self, up: bool) -> None:
        try:
            self.on_change(self, up)
        except Exception:
            log.exception("%s: the on_change callback failed", self.describe())


class _FileWatches:
    """The inotify watches of one event loop's FILE_CHECKs: one descriptor, a watch
    per directory, the checkers to tell per file. Made at the first subscriber, closed
    after the last one leaves."""

    _of: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _FileWatches]" = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> "_FileWatches":
        w = cls._of.get(loop)
        if w is None:
            w = cls._of[loop] = cls(loop)
        return w

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.watch: Optional[DirWatch] = None
        self.failed = False  # no inotify here: every file is polled
        self.tell: dict[str, list[Callable[[], None]]] = {}  # absolute path -> callbacks
        self.dirs: dict[str, int] = {}  # directory -> files watched in it

    def subscribe(self, path: str, callback: Callable[[], None]) -> bool:
        """Call callback when path may have changed. False: it cannot be watched (the
        caller polls it)."""
        full = os.path.abspath(path)
        if self.failed or os.path.islink(full):
            return False
        if self.watch is None:
            try:
                self.watch = DirWatch()
            except OSError as e:
                log.warning("FILE_CHECK: %s; the files are polled", e.strerror)
                self.failed = True
                return False
            self.loop.add_reader(self.watch.fd, self._events)
        d = os.path.dirname(full)
        if d not in self.dirs:
            try:
                self.watch.add(d)
            except OSError as e:
                log.warning("FILE_CHECK: cannot watch directory %s (%s): %s is polled", d, e.strerror, full)
                self._close_if_unused()
                return False
            self.dirs[d] = 0
        self.dirs[d] += 1
        self.tell.setdefault(full, []).append(callback)
        return True

    def unsubscribe(self, path: str, callback: Callable[[], None]) -> None:
        full = os.path.abspath(path)
        calls = self.tell.get(full)
        if not calls or callback not in calls:
            return
        calls.remove(callback)
        if not calls:
            del self.tell[full]
        d = os.path.dirname(full)
        self.dirs[d] -= 1
        if not self.dirs[d]:
            del self.dirs[d]
            if self.watch is not None:
                self.watch.remove(d)
        self._close_if_unused()

    def _close_if_unused(self) -> None:
        if not self.tell and self.watch is not None:
            self.loop.remove_reader(self.watch.fd)
            self.watch.close()
            self.watch = None
            self.dirs.clear()
            type(self)._of.pop(self.loop, None)

    def _events(self) -> None:
        assert self.watch is not None
        try:
            paths, overflow = self.watch.touched()
        except OSError as e:
            log.error("FILE_CHECK: reading inotify events: %s", e.strerror)
            return
        for path in (list(self.tell) if overflow else [p for p in paths if p in self.tell]):
            for callback in list(self.tell.get(path, ())):
                try:
                    callback()
                except Exception:
                    log.exception("FILE_CHECK %s: handling a change failed", path)


def _val(v: Any, default: Any) -> Any:
    return default if v is None else v


def _stat_sig(path: str) -> Optional[tuple[int, int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# --- a whole configuration ---------------------------------------------------------------------


def build_checkers(config: Any, on_change: OnChange, *, env: Optional[ProbeEnv] = None,
                   file_poll_interval: float = FILE_POLL_INTERVAL) -> list[CheckerTask]:
    """A CheckerTask for every checker of every real server of every virtual server of a
    loaded configuration (defaults applied, as ``fastka.config.load_file`` leaves it). A
    checker that cannot run (no port to connect to, unknown track_file, ...) is logged
    and left out; BFD_CHECK is not a checker here (fastka has no BFD)."""
    env = env or ProbeEnv.of(config)
    tasks = []
    for vs in getattr(config, "virtual_servers", []):
        for rs in vs.real_servers:
            for ch in rs.checkers:
                try:
                    tasks.append(CheckerTask(ch, rs, vs, on_change, env=env, file_poll_interval=file_poll_interval))
                except (ValueError, OSError) as e:
                    log.error("virtual server %s, real server %s: %s not run: %s", vs.label,
                              hostport(rs.ip, rs.port), getattr(ch, "KEYWORD", type(ch).__name__), e)
    return tasks


def start_all(tasks: Iterable[CheckerTask]) -> None:
    for t in tasks:
        t.start()


async def stop_all(tasks: Iterable[CheckerTask]) -> None:
    """Stop every task: halted at once, then the abandoned attempts awaited together
    (only those: a coroutine per checker cost 10 s at 40,000 TCP_CHECKs in the guest)."""
    inflight = [t for t in (task.halt() for task in tasks) if t is not None]
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)


def combined_weight(configured: int, tasks: Iterable[CheckerTask]) -> int:
    """A real server's weight with its checkers' dynamic weights folded in as
    keepalived.conf(5) describes for MISC_CHECK: each checker that asks for weight W
    adds (W - configured), so with one dynamic checker the weight is W. Down checkers
    and checkers without a dynamic weight add nothing."""
    total = configured
    for t in tasks:
        if t.up and t.weight is not None:
            total += t.weight - configured
    return total
