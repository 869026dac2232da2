"""One check attempt per checker type, against a real server.

Each probe is built once from the configuration model (a checker of
``fastka.config.model_lvs`` with ``apply_defaults`` applied) and awaited once per
attempt: ``await probe()`` -> :class:`ProbeResult`. A probe never blocks the event
loop (non-blocking sockets driven by the loop, subprocesses through asyncio), never
raises for anything a server or script does (that is a failed result with an
operator-readable reason), and is bounded in time by its own timeout
(``connect_timeout`` for network checks, ``misc_timeout`` for MISC_CHECK).

The semantics follow keepalived.conf(5), LVS CONFIGURATION; where the manual is
silent or contradicts itself, the choice is written at the probe and in
docs/design.md ("Health checkers").
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import ipaddress
import logging
import os
import re
import shlex
import signal
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from ..config import model_lvs as m
from .engine import EPOLLIN, EPOLLOUT, Engine, Timer, engine

log = logging.getLogger("fastka.check")

MAX_BODY = 16 * 1024 * 1024  # an HTTP body larger than this fails the check (memory bound)
MAX_SCRIPT_OUTPUT = 4096  # bytes of a MISC_CHECK script's stdout / stderr kept for the log
_LINGER_RST = struct.pack("ii", 1, 0)  # close with RST: no TIME_WAIT per check on our side
SO_MARK = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one attempt. ``weight``: the real server's weight this checker
    asks for (MISC_CHECK misc_dynamic, FILE_CHECK dynamic), None for "as configured"."""

    ok: bool
    reason: str
    weight: Optional[int] = None


OK = ProbeResult(True, "ok")


class ProbeError(Exception):
    """A failed attempt; the message is the operator-readable reason."""


# --- addresses and sockets ------------------------------------------------------------


def hostport(ip: str, port: Optional[int]) -> str:
    """``10.0.0.2:80``, ``[fe80::1]:80``; the address alone without a port."""
    if port is None:
        return ip
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def service_label(ip: str, port: Optional[int], proto: str = "tcp") -> str:
    """keepalived's way of naming a checked service: ``[10.0.0.2]:tcp:80``."""
    return f"[{ip}]:{proto}:{port}" if port is not None else f"[{ip}]"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how a network probe connects (the generic connection options)."""

    ip: str
    port: Optional[int]
    timeout: float
    bindto: Optional[str] = None
    bind_port: Optional[int] = None
    bind_if: Optional[str] = None
    fwmark: Optional[int] = None

    @classmethod
    def of(cls, co: Any) -> "Endpoint":
        """From a checker (or SMTP host block) whose defaults are applied."""
        if co.connect_ip is None:
            raise ValueError("the checker has no address to connect to")
        timeout = co.connect_timeout if co.connect_timeout is not None else m.DEFAULT_CONNECT_TIMEOUT
        return cls(co.connect_ip, co.connect_port, float(timeout), co.bindto, co.bind_port, co.bind_if, co.fwmark)

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.ip else socket.AF_INET

    @property
    def text(self) -> str:
        return hostport(self.ip, self.port)

    def sockaddr(self, port: Optional[int] = None) -> tuple:
        p = self.port if port is None else port
        if self.family == socket.AF_INET6:
            return (self.ip, p or 0, 0, self._scope())
        return (self.ip, p or 0)

    def _scope(self) -> int:
        if self.bind_if and ipaddress.ip_address(self.ip).is_link_local:
            try:
                return socket.if_nametoindex(self.bind_if)
            except OSError:
                return 0
        return 0

    def socket(self, kind: int, proto: int = 0) -> socket.socket:
        """A non-blocking socket with fwmark, bind_if, bindto and bind_port applied."""
        try:
            s = socket.socket(self.family, kind, proto)
        except OSError as e:
            raise ProbeError(f"cannot open a socket for {self.text}: {_err(e)}") from None
        try:
            s.setblocking(False)
            if self.fwmark:
                s.setsockopt(socket.SOL_SOCKET, SO_MARK, self.fwmark)
            if self.bind_if:
                s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, self.bind_if.encode())
            if self.bindto is not None or self.bind_port:
                src = self.bindto or ("::" if self.family == socket.AF_INET6 else "0.0.0.0")
                if self.family == socket.AF_INET6:
                    scope = socket.if_nametoindex(self.bind_if) if (
                        self.bind_if and ipaddress.ip_address(src).is_link_local) else 0
                    s.bind((src, self.bind_port or 0, 0, scope))
                else:
                    s.bind((src, self.bind_port or 0))
        except OSError as e:
            s.close()
            raise ProbeError(f"cannot set up a socket to {self.text}: {_err(e)}") from None
        return s


def _err(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):  # an OSError with errno 1: not "operation not permitted"
        return f"certificate verify failed: {e.verify_message} ({e.reason})"
    if isinstance(e, ssl.SSLError):
        return str(e.reason or e)
    if isinstance(e, OSError) and e.errno is not None:
        return _ERRNO_WORDS.get(e.errno, e.strerror or os.strerror(e.errno))
    return str(e) or type(e).__name__


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "refused",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ECONNRESET: "reset by peer",
    errno.EADDRNOTAVAIL: "source address not available",
    errno.EADDRINUSE: "source address/port in use",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def _errno_text(code: int) -> str:
    return _ERRNO_WORDS.get(code, os.strerror(code))


async def connect(sock: socket.socket, addr: tuple, timeout: float) -> int:
    """Connect a non-blocking socket: 0, or the errno it failed with (ETIMEDOUT when
    ``timeout`` passed first). Lower level than ``loop.sock_connect`` (no wait_for, one
    timer), because TCP_CHECK does this thousands of times a second."""
    code = sock.connect_ex(addr)
    if code != errno.EINPROGRESS:
        return code
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()
    fd = sock.fileno()

    def writable() -> None:
        if not fut.done():
            fut.set_result(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

    def expired() -> None:
        if not fut.done():
            fut.set_result(errno.ETIMEDOUT)

    loop.add_writer(fd, writable)
    timer = loop.call_later(timeout, expired)
    try:
        return await fut
    finally:
        timer.cancel()
        loop.remove_writer(fd)


def close_rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    except OSError:
        pass
    sock.close()


# --- the probes ---------------------------------------------------------------------------


class Probe:
    """One checker's attempt. ``steps`` > 1 (HTTP_GET with several URLs) lets the
    scheduler check one step per delay_loop while recovering (keepalived's behaviour
    without fast_recovery)."""

    kind = "CHECK"
    noun = "check"  # "TCP connection", "HTTP request", ... in transition logs
    steps = 1
    callbacks = False  # True: start(done, step) / cancel() run an attempt on loop callbacks

    def start(self, done: Callable[[ProbeResult], None], step: Optional[int] = None) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        raise NotImplementedError

    def __init__(self, label: str) -> None:
        self.label = label  # [10.0.0.2]:tcp:80, or what the checker looks at

    async def __call__(self) -> ProbeResult:
        try:
            return await self.attempt()
        except ProbeError as e:
            return ProbeResult(False, str(e))

    async def step(self, index: int) -> ProbeResult:
        return await self()

    async def attempt(self) -> ProbeResult:
        raise NotImplementedError


class TcpProbe(Probe):
    """TCP_CHECK: the connection is made (then reset: no TIME_WAIT per check here).

    Besides ``await probe()``, ``start(done)`` runs an attempt on loop callbacks alone
    (no coroutine, no task, one writer callback and one timer), which is how
    CheckerTask drives it: this is the check thousands of servers get every second."""

    kind = "TCP_CHECK"
    noun = "TCP connection"
    callbacks = True

    def __init__(self, ep: Endpoint) -> None:
        super().__init__(service_label(ep.ip, ep.port))
        if ep.port is None:
            raise ValueError("TCP_CHECK needs a port (connect_port or the real server's)")
        self.ep = ep
        self.addr = ep.sockaddr()
        self.fail_text = f"connect to {ep.text} "
        self._plain = not (ep.fwmark or ep.bind_if or ep.bindto is not None or ep.bind_port)
        self._sock: Optional[socket.socket] = None
        self._done: Optional[Callable[[ProbeResult], None]] = None
        self._timer: Optional[Timer] = None
        self._engine: Optional[Engine] = None
        self._fd = -1

    def start(self, done: Callable[[ProbeResult], None], step: Optional[int] = None) -> None:
        """Begin one attempt (one at a time per probe); ``done(result)`` is called once,
        from the loop, unless :meth:`cancel` comes first."""
        eng = self._engine = engine()
        try:
            if self._plain:
                s = socket.socket(self.ep.family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            else:
                s = self.ep.socket(socket.SOCK_STREAM)
        except (OSError, ProbeError) as e:
            eng.loop.call_soon(done, ProbeResult(False, str(e) if isinstance(e, ProbeError)
                                                 else f"cannot open a socket for {self.ep.text}: {_err(e)}"))
            return
        code = s.connect_ex(self.addr)
        if code != errno.EINPROGRESS:
            close_rst(s)
            eng.loop.call_soon(done, self._result(code))
            return
        self._sock, self._done, self._fd = s, done, s.fileno()
        eng.watch(self._fd, EPOLLOUT, self._writable)
        self._timer = eng.call_later(self.ep.timeout, self._expired)

    def _writable(self, events: int) -> None:
        if self._sock is not None:
            self._finish(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

    def _expired(self) -> None:
        self._timer = None
        self._finish(errno.ETIMEDOUT)

    def _finish(self, code: int) -> None:
        done = self._done
        self.cancel()
        if done is not None:
            done(self._result(code))

    def cancel(self) -> None:
        """Abandon the attempt in flight (its ``done`` is not called)."""
        s, self._sock, self._done = self._sock, None, None
        if s is None:
            return
        assert self._engine is not None
        self._engine.forget(self._fd)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        close_rst(s)

    def _result(self, code: int) -> ProbeResult:
        return OK if code == 0 else ProbeResult(False, self.fail_text + _errno_text(code))

    async def __call__(self) -> ProbeResult:
        fut: asyncio.Future[ProbeResult] = asyncio.get_running_loop().create_future()

        def done(r: ProbeResult) -> None:
            if not fut.done():
                fut.set_result(r)
        self.start(done)
        try:
            return await fut
        finally:
            if not fut.done():
                self.cancel()


# --- HTTP_GET / SSL_GET ---------------------------------------------------------------------


def ssl_context(cfg: Optional[m.SslConfig]) -> ssl.SSLContext:
    """The client context SSL_GET uses. keepalived verifies nothing unless told: without
    ``ca`` the server's certificate is not checked (a health check asks "does it
    answer", not "is it who it says"); with ``ca`` the chain must verify against it (the
    host name is not checked: checks go to addresses). ``certificate``/``key``/
    ``password`` give a client certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cfg is not None:
        if cfg.ca:
            ctx.load_verify_locations(cafile=cfg.ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        if cfg.certificate:
            ctx.load_cert_chain(cfg.certificate, cfg.key or None, cfg.password or None)
    return ctx


_REGEX_FLAGS = {"caseless": re.IGNORECASE, "multiline": re.MULTILINE, "dotall": re.DOTALL,
                "extended": re.VERBOSE}


@dataclass
class UrlCheck:
    """One ``url { }``: what to send and how to judge the answer."""

    path: str
    request: bytes
    status: tuple[tuple[int, int], ...]
    digest: Optional[str]
    regex: Optional["re.Pattern[bytes]"]
    regex_no_match: bool
    min_offset: int
    max_offset: Optional[int]

    @property
    def needs_body(self) -> bool:
        return self.digest is not None or self.regex is not None


def build_request(path: str, host: str, protocol: str) -> bytes:
    """The GET keepalived and genhash send (same header lines, same order)."""
    version = "1.1" if protocol == "1.1" else "1.0"
    lines = [f"GET {path} HTTP/{version}", "User-Agent: KeepAliveClient"]
    if protocol in ("1.1", "1.0C"):
        lines.append("Connection: close")
    lines.append(f"Host: {host}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def url_check(url: m.Url, ep: Endpoint, protocol: str) -> UrlCheck:
    path = url.path or "/"
    host = url.virtualhost or hostport(ep.ip, ep.port)
    regex = None
    if url.regex is not None:
        flags = 0
        for opt in url.regex_options or ():
            flags |= _REGEX_FLAGS.get(opt, 0)
        regex = re.compile(url.regex.encode(), flags)
    return UrlCheck(path, build_request(path, host, protocol), url.status_code or m.DEFAULT_STATUS_CODES,
                    url.digest.lower() if url.digest else None, regex, url.regex_no_match,
                    url.regex_min_offset or 0, url.regex_max_offset)


class HttpResponse(asyncio.Protocol):
    """Collects one response: the header, then the body until the server closes (as
    keepalived and genhash: no chunked decoding, Content-Length not trusted), or only
    the header when nothing looks at the body. Inactivity longer than ``timeout``
    fails."""

    def __init__(self, request: bytes, need_body: bool, timeout: float) -> None:
        self.request = request
        self.need_body = need_body
        self.timeout = timeout
        self.buf = bytearray()
        self.header_end = -1
        self.done: asyncio.Future[Optional[str]] = asyncio.get_running_loop().create_future()
        self.transport: Optional[asyncio.Transport] = None
        self.timer: Optional[asyncio.TimerHandle] = None

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._finish,
                                                           "timed out waiting for the response")

    def _finish(self, error: Optional[str]) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if not self.done.done():
            self.done.set_result(error)
        if self.transport is not None:
            self.transport.abort()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.header_end < 0:
            self.header_end = self.buf.find(b"\r\n\r\n")
            if self.header_end >= 0 and not self.need_body:
                self._finish(None)
                return
        if len(self.buf) > MAX_BODY:
            self._finish(f"response longer than {MAX_BODY} bytes")
            return
        self._arm()

    def eof_received(self) -> Optional[bool]:
        self._finish(None)
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._finish(None if exc is None else f"connection lost: {_err(exc)}")


class HttpProbe(Probe):
    """HTTP_GET / SSL_GET: each url in turn; a url passes when its status is in
    status_code, its body's MD5 is digest (when given) and regex matches (or, with
    regex_no_match, does not)."""

    kind = "HTTP_GET"
    noun = "HTTP check"

    def __init__(self, ep: Endpoint, urls: Sequence[m.Url], protocol: str,
                 tls: Optional[ssl.SSLContext] = None, sni: Optional[str] = None) -> None:
        super().__init__(service_label(ep.ip, ep.port))
        if ep.port is None:
            raise ValueError("HTTP_GET needs a port (connect_port or the real server's)")
        self.ep = ep
        self.tls = tls
        self.sni = sni
        if tls is not None:
            self.kind, self.noun = "SSL_GET", "SSL check"
        self.urls = [url_check(u, ep, protocol) for u in urls]
        self.steps = max(1, len(self.urls))
        # no url block: keepalived checks "/" for a 2xx
        self.root = UrlCheck("/", build_request("/", hostport(ep.ip, ep.port), "1.0"), m.DEFAULT_STATUS_CODES,
                             None, None, False, 0, None)
        self.addr = ep.sockaddr()
        self.plain = not (ep.fwmark or ep.bind_if or ep.bindto is not None or ep.bind_port)
        self.callbacks = tls is None  # SSL_GET goes through asyncio's TLS transport
        self._pending: list[int] = []
        self._done: Optional[Callable[[ProbeResult], None]] = None
        self._get_cb: Optional[_Get] = None

    async def __call__(self) -> ProbeResult:
        if self.tls is None:
            return await self._via_callbacks(None)
        return await super().__call__()

    async def attempt(self) -> ProbeResult:
        if not self.urls:
            return await self.step(0)
        for i in range(len(self.urls)):
            r = await self.step(i)
            if not r.ok:
                return r
        return OK

    async def step(self, index: int) -> ProbeResult:
        if self.tls is None:
            return await self._via_callbacks(index if self.urls else None)
        try:
            return await self._get(self.urls[index] if self.urls else None)
        except ProbeError as e:
            return ProbeResult(False, str(e))

    async def fetch(self, request: bytes, need_body: bool) -> tuple[bytes, int]:
        """(raw response, offset of the body) of one GET; ProbeError when it fails."""
        s = self.ep.socket(socket.SOCK_STREAM)
        try:
            code = await connect(s, self.ep.sockaddr(), self.ep.timeout)
            if code:
                raise ProbeError(f"connect to {self.ep.text} {_errno_text(code)}")
            loop = asyncio.get_running_loop()
            proto = HttpResponse(request, need_body, self.ep.timeout)
            try:
                if self.tls is not None:
                    await loop.create_connection(lambda: proto, sock=s, ssl=self.tls,
                                                 server_hostname=self.sni or "",  # "": no SNI
                                                 ssl_handshake_timeout=self.ep.timeout)
                else:
                    await loop.create_connection(lambda: proto, sock=s)
            except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError) as e:
                raise ProbeError(f"{'TLS handshake' if self.tls else 'connection'} with {self.ep.text} "
                                 f"failed: {_err(e) if not isinstance(e, asyncio.TimeoutError) else 'timed out'}"
                                 ) from None
            s = None  # type: ignore[assignment]  # the transport owns it now
            try:
                error = await proto.done
            finally:
                if proto.transport is not None:
                    proto.transport.abort()
            if error is not None:
                raise ProbeError(f"HTTP request to {self.ep.text}: {error}")
            buf = bytes(proto.buf)
            if proto.header_end < 0:
                raise ProbeError(f"HTTP request to {self.ep.text}: "
                                 + ("no response" if not buf else "incomplete response header"))
            return buf, proto.header_end + 4
        finally:
            if s is not None:
                close_rst(s)

    async def _get(self, url: Optional[UrlCheck]) -> ProbeResult:
        url = url or self.root
        buf, body_at = await self.fetch(url.request, url.needs_body)
        return self.judge(url, buf, body_at)

    def judge(self, url: UrlCheck, buf: bytes, body_at: int) -> ProbeResult:
        """A whole response against one url's expectations."""
        status = parse_status(buf[:body_at])
        if status is None:
            line = buf.split(b"\r\n", 1)[0][:80].decode("latin-1")
            return ProbeResult(False, f"bad HTTP status line from {self.ep.text}{url.path}: {line!r}")
        if not any(lo <= status <= hi for lo, hi in url.status):
            codes = " ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in url.status)
            return ProbeResult(False, f"HTTP status {status} not in {codes} for {url.path}")
        body = memoryview(buf)[body_at:]
        if url.digest is not None:
            got = hashlib.md5(body).hexdigest()
            if got != url.digest:
                return ProbeResult(False, f"digest mismatch for {url.path}: got {got}, expected {url.digest}")
        if url.regex is not None:
            matched = _regex_found(url, bytes(body))
            if matched == url.regex_no_match:
                how = "matches (regex_no_match)" if matched else "does not match"
                return ProbeResult(False, f"body of {url.path} {how} regex {url.regex.pattern.decode()!r}")
        return OK

    # --- plain HTTP on loop callbacks (what CheckerTask uses; SSL_GET goes through asyncio's TLS)

    def start(self, done: Callable[[ProbeResult], None], step: Optional[int] = None) -> None:
        """Begin one attempt (every url, or only url ``step``); ``done(result)`` is
        called once, from the loop, unless :meth:`cancel` comes first. Plain HTTP only."""
        assert self.tls is None
        self._pending = [step] if step is not None else list(range(len(self.urls))) if self.urls else [-1]
        self._done = done
        self._next(OK)

    def _next(self, r: ProbeResult) -> None:
        self._get_cb = None
        if not r.ok or not self._pending:
            done, self._done = self._done, None
            if done is not None:
                done(r)
            return
        i = self._pending.pop(0)
        self._get_cb = _Get(self, self.urls[i] if i >= 0 else self.root, self._next)

    def cancel(self) -> None:
        self._done = None
        g, self._get_cb = self._get_cb, None
        if g is not None:
            g.abort()

    async def _via_callbacks(self, step: Optional[int]) -> ProbeResult:
        fut: asyncio.Future[ProbeResult] = asyncio.get_running_loop().create_future()

        def done(r: ProbeResult) -> None:
            if not fut.done():
                fut.set_result(r)
        self.start(done, step)
        try:
            return await fut
        finally:
            if not fut.done():
                self.cancel()


class _Get:
    """One plain GET on loop callbacks: non-blocking connect, send, read until the
    server closes (or the header, when nothing looks at the body), then judge."""

    __slots__ = ("probe", "url", "done", "eng", "sock", "fd", "out", "buf", "header_end", "timer", "connecting",
                 "reading", "last")

    def __init__(self, probe: HttpProbe, url: UrlCheck, done: Callable[[ProbeResult], None]) -> None:
        self.probe, self.url, self.done = probe, url, done
        eng = self.eng = engine()
        self.sock: Optional[socket.socket] = None
        self.fd = -1
        self.out = url.request
        self.buf = bytearray()
        self.header_end = -1
        self.timer: Optional[Timer] = None
        self.connecting = True
        self.reading = False
        self.last = 0.0  # loop time of the last data received
        ep = probe.ep
        try:
            if probe.plain:
                s = socket.socket(ep.family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            else:
                s = ep.socket(socket.SOCK_STREAM)
        except (OSError, ProbeError) as e:
            eng.loop.call_soon(done, ProbeResult(False, str(e) if isinstance(e, ProbeError)
                                                 else f"cannot open a socket for {ep.text}: {_err(e)}"))
            return
        code = s.connect_ex(probe.addr)
        if code != errno.EINPROGRESS and code != 0:
            close_rst(s)
            eng.loop.call_soon(done, ProbeResult(False, f"connect to {ep.text} {_errno_text(code)}"))
            return
        self.sock, self.fd = s, s.fileno()
        eng.watch(self.fd, EPOLLOUT, self._writable)
        self.timer = eng.call_later(ep.timeout, self._expired)

    def _expired(self) -> None:
        self.timer = None
        if self.reading:
            idle_until = self.last + self.probe.ep.timeout
            if idle_until > self.eng.loop.time() + 0.001:  # data came since: the limit is on silence
                self.timer = self.eng.call_at(idle_until, self._expired)
                return
        if self.connecting:
            self._fail(f"connect to {self.probe.ep.text} timed out")
        else:
            self._fail(f"HTTP request to {self.probe.ep.text}: timed out waiting for the response")

    def _writable(self, events: int) -> None:
        s = self.sock
        if s is None:
            return
        if self.connecting:
            code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self._fail(f"connect to {self.probe.ep.text} {_errno_text(code)}")
                return
            self.connecting = False
        try:
            n = s.send(self.out)
        except BlockingIOError:
            n = 0
        except OSError as e:
            self._fail(f"HTTP request to {self.probe.ep.text}: connection lost: {_err(e)}")
            return
        self.out = self.out[n:]
        if self.out:
            self.eng.rewatch(self.fd, EPOLLOUT, self._writable)
            return
        self.eng.rewatch(self.fd, EPOLLIN, self._readable)
        self.reading = True
        self.last = self.eng.loop.time()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.eng.call_at(self.last + self.probe.ep.timeout, self._expired)

    def _readable(self, events: int) -> None:
        s = self.sock
        if s is None:
            return
        try:
            data = s.recv(262144)
        except BlockingIOError:
            self.eng.rewatch(self.fd, EPOLLIN, self._readable)
            return
        except OSError as e:
            self._fail(f"HTTP request to {self.probe.ep.text}: connection lost: {_err(e)}")
            return
        if not data:
            self._complete()
            return
        self.buf += data
        self.last = self.eng.loop.time()  # the timer checks it when it fires: no re-arm per read
        if self.header_end < 0:
            self.header_end = self.buf.find(b"\r\n\r\n")
            if self.header_end >= 0 and not self.url.needs_body:
                self._complete()
                return
        if len(self.buf) > MAX_BODY:
            self._fail(f"HTTP request to {self.probe.ep.text}: response longer than {MAX_BODY} bytes")
            return
        self.eng.rewatch(self.fd, EPOLLIN, self._readable)

    def _complete(self) -> None:
        if self.header_end < 0:
            self._fail(f"HTTP request to {self.probe.ep.text}: "
                       + ("no response" if not self.buf else "incomplete response header"))
            return
        buf = bytes(self.buf)
        self.abort()
        self.done(self.probe.judge(self.url, buf, self.header_end + 4))

    def _fail(self, reason: str) -> None:
        self.abort()
        self.done(ProbeResult(False, reason))

    def abort(self) -> None:
        s, self.sock = self.sock, None
        if s is None:
            return
        self.eng.forget(self.fd)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        close_rst(s)


def _regex_found(url: UrlCheck, body: bytes) -> bool:
    assert url.regex is not None
    mt = url.regex.search(body, url.min_offset)
    if mt is None:
        return False
    return url.max_offset is None or mt.start() <= url.max_offset


_STATUS = re.compile(rb"HTTP/\d\.\d (\d{3})")


def parse_status(header: bytes) -> Optional[int]:
    mt = _STATUS.match(header)
    return int(mt.group(1)) if mt else None


# --- SMTP_CHECK -------------------------------------------------------------------------------


class SmtpProbe(Probe):
    """SMTP_CHECK: greeting 220, ``HELO helo_name`` answered 250, then QUIT; with host
    blocks every host is checked and all must pass."""

    kind = "SMTP_CHECK"
    noun = "SMTP check"

    def __init__(self, eps: Sequence[Endpoint], helo_name: Optional[str]) -> None:
        super().__init__(", ".join(service_label(e.ip, e.port) for e in eps))
        if not eps or any(e.port is None for e in eps):
            raise ValueError("SMTP_CHECK needs a port (connect_port or the real server's)")
        self.eps = list(eps)
        self.helo = (helo_name or socket.gethostname()).encode()

    async def attempt(self) -> ProbeResult:
        for ep in self.eps:
            await self._one(ep)
        return OK

    async def _one(self, ep: Endpoint) -> None:
        s = ep.socket(socket.SOCK_STREAM)
        writer = None
        try:
            code = await connect(s, ep.sockaddr(), ep.timeout)
            if code:
                raise ProbeError(f"connect to {ep.text} {_errno_text(code)}")
            reader, writer = await asyncio.open_connection(sock=s)
            s = None  # type: ignore[assignment]
            await self._expect(reader, ep, 220, "greeting")
            writer.write(b"HELO " + self.helo + b"\r\n")
            await self._expect(reader, ep, 250, "HELO")
            writer.write(b"QUIT\r\n")
            try:
                await asyncio.wait_for(reader.readline(), ep.timeout)
            except (OSError, asyncio.TimeoutError):
                pass  # the QUIT answer is courtesy; the check has passed
        finally:
            if writer is not None:
                writer.transport.abort()
            if s is not None:
                close_rst(s)

    async def _expect(self, reader: asyncio.StreamReader, ep: Endpoint, want: int, what: str) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), ep.timeout)
            except asyncio.TimeoutError:
                raise ProbeError(f"SMTP {what} from {ep.text} timed out") from None
            except (OSError, ValueError) as e:
                raise ProbeError(f"SMTP {what} from {ep.text} failed: {_err(e)}") from None
            if not line:
                raise ProbeError(f"SMTP server {ep.text} closed the connection before its {what} reply")
            text = line.decode("latin-1").rstrip()
            if len(text) < 3 or not text[:3].isdigit():
                raise ProbeError(f"SMTP {what} from {ep.text}: not a reply: {text[:80]!r}")
            if int(text[:3]) != want:
                raise ProbeError(f"SMTP {what} from {ep.text}: {text[:80]!r}, expected {want}")
            if text[3:4] != "-":  # "250-..." continues, "250 ..." ends the reply
                return


# --- DNS_CHECK ----------------------------------------------------------------------------------

DNS_TYPE_CODES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "RRSIG": 46,
                  "DNSKEY": 48}
DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_name(name: str) -> bytes:
    out = bytearray()
    for label in name.strip(".").split(".") if name.strip(".") else []:
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad DNS label in {name!r}")
        out += bytes([len(raw)]) + raw
    return bytes(out + b"\0")


def dns_query(qid: int, name: str, qtype: str) -> bytes:
    """A standard query, recursion desired, one question (class IN)."""
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        "!HH", DNS_TYPE_CODES[qtype], 1)


def dns_judge(reply: bytes, qid: int) -> Optional[str]:
    """None when the reply passes, else why not. Passes: our id, a response (QR),
    RCODE NOERROR, and at least one answer record: a NOERROR reply without answers
    means the server does not hold what the check asks for, which is the failure an
    operator wants to see (keepalived.conf(5) does not say; fastka's choice)."""
    if len(reply) < 12:
        return f"short DNS reply ({len(reply)} bytes)"
    rid, flags, _qd, an, _ns, _ar = struct.unpack_from("!HHHHHH", reply)
    if rid != qid:
        return "DNS reply id does not match the query"
    if not flags & 0x8000:
        return "DNS packet is not a response"
    rcode = flags & 0xF
    if rcode:
        return f"DNS rcode {DNS_RCODES.get(rcode, str(rcode))}"
    if an == 0:
        return "DNS reply has no answer"
    return None


class DnsProbe(Probe):
    kind = "DNS_CHECK"
    noun = "DNS check"

    def __init__(self, ep: Endpoint, qtype: str, name: str) -> None:
        super().__init__(service_label(ep.ip, ep.port, "udp"))
        if ep.port is None:
            raise ValueError("DNS_CHECK needs a port (connect_port or the real server's)")
        self.ep, self.qtype, self.name = ep, qtype, name
        dns_name(name)  # refuse a bad name when built, not at every check

    async def attempt(self) -> ProbeResult:
        qid = int.from_bytes(os.urandom(2), "big")
        query = dns_query(qid, self.name, self.qtype)
        what = f"DNS {self.qtype} {self.name} query to {self.ep.text}"
        deadline = time.monotonic() + self.ep.timeout
        last = "timed out"
        async with Datagram(self.ep) as dg:
            await dg.send(query)
            while True:
                reply = await dg.recv(deadline - time.monotonic(), what)
                if reply is None:
                    return ProbeResult(False, f"{what}: {last}")
                why = dns_judge(reply, qid)
                if why is None:
                    return OK
                if why.startswith("DNS reply id"):
                    last = why + " (and no matching reply came)"
                    continue  # a stray reply: keep waiting for ours
                return ProbeResult(False, f"{what}: {why}")


class Datagram:
    """A connected UDP (or ICMP) socket driven by the loop; ICMP errors for it arrive
    as errors of recv."""

    def __init__(self, ep: Endpoint, kind: int = socket.SOCK_DGRAM, proto: int = 0,
                 port: Optional[int] = None) -> None:
        self.ep = ep
        self.sock = ep.socket(kind, proto)
        self.kind, self.port = kind, port

    async def __aenter__(self) -> "Datagram":
        try:
            self.sock.connect(self.ep.sockaddr(self.port))
        except OSError as e:
            self.sock.close()
            raise ProbeError(f"cannot reach {self.ep.ip}: {_err(e)}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sock.close()

    async def send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except OSError as e:
            raise ProbeError(f"send to {self.ep.text} failed: {_err(e)}") from None

    async def recv(self, timeout: float, what: str) -> Optional[bytes]:
        """A datagram, None when ``timeout`` passes; ProbeError on an ICMP error."""
        if timeout <= 0:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.sock_recv(self.sock, 65536), timeout)
        except asyncio.TimeoutError:
            return None
        except OSError as e:
            raise ProbeError(f"{what}: {_err(e)}") from None


# --- UDP_CHECK -------------------------------------------------------------------------------------


def parse_hex(words: Sequence[str], mask: bool = False) -> tuple[bytes, bytes]:
    """keepalived's free-format hex: each word read in pairs from its start, a last odd
    digit standing alone ("Ab12f 3 456" -> AB 12 0F 03 45 06). Returns (value, mask);
    with ``mask``, an X nibble is 0 in both."""
    val, msk = bytearray(), bytearray()
    for w in words:
        for i in range(0, len(w), 2):
            pair = w[i:i + 2]
            if len(pair) == 1:
                pair = "0" + pair
            v = mk = 0
            for ch in pair:
                v <<= 4
                mk <<= 4
                if mask and ch in "xX":
                    continue
                v |= int(ch, 16)
                mk |= 0xF
            if len(w[i:i + 2]) == 1:
                mk |= 0xF0  # the implied leading 0 of a lone digit is part of the value
            val.append(v)
            msk.append(mk)
    return bytes(val), bytes(msk)


class UdpProbe(Probe):
    """UDP_CHECK: send payload (random when none). With require_reply a reply must come
    within connect_timeout, its length within min/max_reply_length and, when a hex
    string is given, its bytes equal to it (X nibbles ignored) over the shorter of the
    two. Without require_reply the check fails only on an ICMP error (port or host
    unreachable) within connect_timeout; silence passes, as keepalived.conf(5) says."""

    kind = "UDP_CHECK"
    noun = "UDP check"

    def __init__(self, ep: Endpoint, payload: Optional[Sequence[str]], require: Optional[Sequence[str]],
                 min_len: int, max_len: int) -> None:
        super().__init__(service_label(ep.ip, ep.port, "udp"))
        if ep.port is None:
            raise ValueError("UDP_CHECK needs a port (connect_port or the real server's)")
        self.ep = ep
        self.payload = parse_hex(payload)[0] if payload else None
        self.require = require is not None
        self.want, self.mask = parse_hex(require or (), mask=True)
        self.min_len, self.max_len = min_len, max_len

    async def attempt(self) -> ProbeResult:
        what = f"UDP check of {self.ep.text}"
        async with Datagram(self.ep) as dg:
            await dg.send(self.payload if self.payload is not None else os.urandom(16))
            reply = await dg.recv(self.ep.timeout, what)
        if reply is None:
            if self.require:
                return ProbeResult(False, f"{what}: no reply within {self.ep.timeout:g} s")
            return OK
        if not self.require:
            return OK
        if not self.min_len <= len(reply) <= self.max_len:
            return ProbeResult(False, f"{what}: reply of {len(reply)} bytes, not {self.min_len}-{self.max_len}")
        for i in range(min(len(reply), len(self.want))):
            if reply[i] & self.mask[i] != self.want[i]:
                return ProbeResult(False, f"{what}: reply differs from require_reply at byte {i}")
        return OK


# --- PING_CHECK -----------------------------------------------------------------------------------

class PingProbe(Probe):
    """PING_CHECK: one ICMP / ICMPv6 echo, answered within connect_timeout. An
    unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) when net.ipv4.ping_group_range
    allows it (the kernel then matches replies to us); else a raw socket (root), whose
    replies are matched by identifier and sequence here. fastka does not change
    ping_group_range (keepalived may)."""

    kind = "PING_CHECK"
    noun = "ping"

    def __init__(self, ep: Endpoint) -> None:
        super().__init__(f"[{ep.ip}]")
        self.ep = ep
        self.seq = 0
        self.mode = ""  # "dgram" or "raw": the socket the last attempt used

    async def attempt(self) -> ProbeResult:
        v6 = self.ep.family == socket.AF_INET6
        proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
        req_type, rep_type = (128, 129) if v6 else (8, 0)
        self.seq = (self.seq + 1) & 0xFFFF
        ident = int.from_bytes(os.urandom(2), "big")
        payload = os.urandom(16)
        what = f"ping {self.ep.ip}"
        try:  # tried each time: ping_group_range may change, and a refused socket() is cheap
            dg = Datagram(self.ep, socket.SOCK_DGRAM, proto, port=0)
            dgram = True
        except ProbeError:
            dg = Datagram(self.ep, socket.SOCK_RAW, proto, port=0)
            dgram = False
        self.mode = "dgram" if dgram else "raw"
        header = struct.pack("!BBHHH", req_type, 0, 0, ident, self.seq)
        packet = header + payload
        if not v6:  # the kernel fills the ICMPv6 checksum; for ICMPv4 raw we must
            packet = struct.pack("!BBHHH", req_type, 0, _icmp_checksum(packet), ident, self.seq) + payload
        deadline = time.monotonic() + self.ep.timeout
        async with dg:
            await dg.send(packet)
            while True:
                reply = await dg.recv(deadline - time.monotonic(), what)
                if reply is None:
                    return ProbeResult(False, f"{what}: no echo reply within {self.ep.timeout:g} s")
                if not v6 and not dgram and len(reply) >= 20 and reply[0] >> 4 == 4:
                    reply = reply[(reply[0] & 0xF) * 4:]  # raw IPv4 delivers the IP header
                if len(reply) < 8:
                    continue
                typ, _code, _ck, rid, rseq = struct.unpack_from("!BBHHH", reply)
                if typ != rep_type or rseq != self.seq or reply[8:] != payload:
                    continue
                if not dgram and rid != ident:
                    continue
                return OK


def _icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# --- MISC_CHECK ----------------------------------------------------------------------------------


class MiscProbe(Probe):
    """MISC_CHECK: run misc_path (split like a shell word list, run without a shell) as
    user [group], within misc_timeout (default: delay_loop); the process group is
    killed when it overruns. Exit 0 passes and leaves the weight where it was
    ("weight unchanged"); 1 fails; with misc_dynamic 2..255 pass and
    ask for weight exit-2 (keepalived.conf(5)'s formula; its "exit 10 sets weight 10"
    example contradicts the formula). Without misc_dynamic any non-zero exit fails.
    stdout and stderr are logged (first MAX_SCRIPT_OUTPUT bytes)."""

    kind = "MISC_CHECK"
    noun = "MISC check"

    def __init__(self, command: str, timeout: float, dynamic: bool, user: Optional[Sequence[str]] = None) -> None:
        super().__init__(command)
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("MISC_CHECK has an empty misc_path")
        self.timeout = timeout
        self.dynamic = dynamic
        who = list(user or ())
        self.user = who[0] if who else None
        self.group = who[1] if len(who) > 1 else None
        self.name = os.path.basename(self.argv[0])

    def _credentials(self) -> dict[str, Any]:
        """user (and group: given, else the user's own, as keepalived.conf(5) says), and
        no supplementary groups of ours; nothing when no user is configured."""
        if self.user is None:
            return {}
        import pwd

        group: Any = self.group if self.group is not None else pwd.getpwnam(self.user).pw_gid
        return {"user": self.user, "group": group, "extra_groups": []}

    async def attempt(self) -> ProbeResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True, close_fds=True, cwd="/",
                **self._credentials())
        except (KeyError, ValueError) as e:  # from pwd / grp
            return ProbeResult(False, f"cannot run {shlex.join(self.argv)}: unknown user or group "
                                      f"({e.args[0] if e.args else e})")
        except OSError as e:
            return ProbeResult(False, f"cannot run {shlex.join(self.argv)}: {_err(e)}")
        assert proc.stdout is not None and proc.stderr is not None
        readers = [asyncio.ensure_future(_read_capped(proc.stdout)), asyncio.ensure_future(_read_capped(proc.stderr))]
        timed_out = False
        try:
            rc = await asyncio.wait_for(proc.wait(), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            _killpg(proc.pid)
            rc = await proc.wait()
        finally:
            if proc.returncode is None:  # cancelled: do not leave the script behind
                _killpg(proc.pid)
        _, pending = await asyncio.wait(readers, timeout=0.2)  # a daemonised grandchild may hold the pipes
        for t in pending:
            t.cancel()
        out = [t.result() if t.done() and not t.cancelled() else b"" for t in readers]
        if timed_out:
            result = ProbeResult(False, f"{self.name} timed out after {self.timeout:g} s (killed)")
        elif rc < 0:
            result = ProbeResult(False, f"{self.name} was killed by signal {-rc}")
        elif rc == 0:
            result = OK
        elif rc >= 2 and self.dynamic:
            result = ProbeResult(True, f"{self.name} exited {rc}", weight=rc - 2)
        else:
            result = ProbeResult(False, f"{self.name} exited with status {rc}")
        for stream, data in zip(("stdout", "stderr"), out, strict=True):
            if data.strip():
                text = data.decode("utf-8", "replace").rstrip()
                log.log(logging.DEBUG if result.ok else logging.INFO, "MISC_CHECK %s %s: %s",
                        self.name, stream, text)
        return result


async def _read_capped(stream: asyncio.StreamReader) -> bytes:
    kept = bytearray()
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return bytes(kept)
        if len(kept) < MAX_SCRIPT_OUTPUT:
            kept += chunk[: MAX_SCRIPT_OUTPUT - len(kept)]


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


# --- FILE_CHECK ------------------------------------------------------------------------------------


class FileProbe(Probe):
    """FILE_CHECK: the integer in the track_file's file. Weight W (the FILE_CHECK's
    ``weight``, else the track_file's, default 1; ``reverse`` negates it):

    - W == 0: a zero value passes, anything else fails (keepalived.conf(5)).
    - otherwise the value times W is added to the real server's weight; a total
      above 0 passes, 0 or less fails (keepalived's "FAULT"). With ``dynamic`` a pass
      asks for that total as the real server's weight (the IPVS manager clamps it to
      what the kernel takes).

    A missing or unreadable file, or text that is not an integer, fails with its
    reason; an empty file reads as 0 (keepalived reads with strtol)."""

    kind = "FILE_CHECK"
    noun = "file check"

    def __init__(self, path: str, weight: int, reverse: bool, dynamic: bool, rs_weight: int) -> None:
        super().__init__(path)
        self.path = path
        self.mult = -weight if reverse else weight
        self.dynamic = dynamic
        self.rs_weight = rs_weight

    async def attempt(self) -> ProbeResult:
        return self.read()

    def read(self) -> ProbeResult:
        """Synchronous: one small read of a local file."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not hang the loop
            try:
                text = os.read(fd, 64).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
        except BlockingIOError:
            text = ""
        except OSError as e:
            return ProbeResult(False, f"cannot read {self.path}: {_err(e)}")
        try:
            value = int(text) if text else 0
        except ValueError:
            return ProbeResult(False, f"{self.path} holds {text[:20]!r}, not an integer")
        if self.mult == 0:
            return OK if value == 0 else ProbeResult(False, f"{self.path} holds {value} (non-zero: failed)")
        total = self.rs_weight + value * self.mult
        if total <= 0:
            return ProbeResult(False, f"{self.path} holds {value}: weight {self.rs_weight} + {value * self.mult} "
                                      f"= {total}, not above 0")
        return ProbeResult(True, f"{self.path} holds {value}",
                           weight=min(total, 2**31 - 1) if self.dynamic else None)


# --- building probes from the model -----------------------------------------------------------


@dataclass
class ProbeEnv:
    """What probes need from outside their checker block."""

    ssl_config: Optional[m.SslConfig] = None  # the top-level SSL { } block
    track_files: Optional[dict[str, Any]] = None  # name -> TrackFile model
    script_user: Optional[Sequence[str]] = None  # global_defs script_user
    _tls: Optional[ssl.SSLContext] = None

    @classmethod
    def of(cls, config: Any) -> "ProbeEnv":
        gd = getattr(config, "global_defs", None)
        return cls(ssl_config=getattr(config, "ssl", None),
                   track_files={f.name: f for f in getattr(config, "track_files", [])},
                   script_user=getattr(gd, "script_user", None) if gd is not None else None)

    def tls(self) -> ssl.SSLContext:
        """One client context for every SSL_GET (built on first use)."""
        if self._tls is None:
            self._tls = ssl_context(self.ssl_config)
        return self._tls


def make_probe(ch: Any, rs: m.RealServer, env: Optional[ProbeEnv] = None) -> Probe:
    """The probe of checker model ``ch`` of real server ``rs``. ValueError when the
    checker cannot run (no port, unknown track_file, ...)."""
    env = env or ProbeEnv()
    if isinstance(ch, m.SslGetCheck):
        ep = Endpoint.of(ch)
        sni = None
        if ch.enable_sni:
            sni = next((u.virtualhost for u in ch.urls if u.virtualhost), None) or ch.virtualhost or rs.virtualhost
        return HttpProbe(ep, ch.urls, ch.http_protocol or "1.0", tls=env.tls(), sni=sni)
    if isinstance(ch, m.HttpGetCheck):
        return HttpProbe(Endpoint.of(ch), ch.urls, ch.http_protocol or "1.0")
    if isinstance(ch, m.TcpCheck):
        return TcpProbe(Endpoint.of(ch))
    if isinstance(ch, m.SmtpCheck):
        eps = [Endpoint.of(h) for h in ch.hosts] if ch.hosts else [Endpoint.of(ch)]
        return SmtpProbe(eps, ch.helo_name)
    if isinstance(ch, m.DnsCheck):
        return DnsProbe(Endpoint.of(ch), ch.type or m.DEFAULT_DNS_TYPE, ch.name or m.DEFAULT_DNS_NAME)
    if isinstance(ch, m.UdpCheck):
        return UdpProbe(Endpoint.of(ch), ch.payload, ch.require_reply,
                        ch.min_reply_length if ch.min_reply_length is not None else m.DEFAULT_MIN_REPLY_LENGTH,
                        ch.max_reply_length if ch.max_reply_length is not None else m.DEFAULT_MAX_REPLY_LENGTH)
    if isinstance(ch, m.PingCheck):
        return PingProbe(Endpoint.of(ch))
    if isinstance(ch, m.MiscCheck):
        if not ch.misc_path:
            raise ValueError("MISC_CHECK has no misc_path")
        delay = ch.delay_loop if ch.delay_loop is not None else m.DEFAULT_DELAY_LOOP
        timeout = float(ch.misc_timeout) if ch.misc_timeout else float(delay)
        return MiscProbe(ch.misc_path, timeout, ch.misc_dynamic, ch.user or env.script_user)
    if isinstance(ch, m.FileCheck):
        tf = (env.track_files or {}).get(ch.track_file or "")
        if tf is None or not tf.file:
            raise ValueError(f"FILE_CHECK: no track_file '{ch.track_file}' with a file")
        if ch.weight is not None:
            w, rev = ch.weight.weight, ch.weight.reverse
        elif tf.weight is not None:
            w, rev = tf.weight.value, tf.weight.reverse
        else:
            w, rev = 1, False
        return FileProbe(tf.file, w, rev, ch.dynamic, rs.weight if rs.weight is not None else m.DEFAULT_WEIGHT)
    raise ValueError(f"no probe for {type(ch).__name__}")
