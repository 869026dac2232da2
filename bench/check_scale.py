"""Health checkers at scale: N real servers checked every delay_loop, one process.

N real servers on loopback addresses 127.10.x.y (one listening socket per check type
in a separate listener process accepts for all of them), each with a TCP_CHECK (and,
in a second phase, an HTTP_GET with a digest; in a third, asked for with --checks ssl,
an SSL_GET with a digest against a TLS listener with a self-signed P-256 certificate
made for the run by openssl, in a listener process of its own) at delay_loop 1 s. The configuration is
real keepalived.conf text loaded by fastka's loader; the checkers are
``fastka.check.build_checkers``. For each phase, after a settling period:

- checks/s achieved over the window (against the N / delay_loop asked for), failures;
- CPU % of the checker process (getrusage, user + system) and of the listener;
- event-loop lag: how late a 10 ms ticker fires (p99, max) - what one checker's
  work costs the others.

Baseline, same run, same servers: the plain asyncio way (``asyncio.open_connection``
inside ``wait_for``, a task per server) - what the low-level loop work in
``fastka.check.probes`` buys. keepalived 2.2.7's checker cannot run on this host
(it exits when IPVS cannot be initialised: the host kernel has no ip_vs), so it is
not measured; --keepalived tries anyway and reports what happened.

    python bench/check_scale.py --servers 2000
    python bench/check_scale.py --servers 10000 --window 10 --profile

Raises RLIMIT_NOFILE to its hard limit. Prints one table; --json writes the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import ipaddress
import json
import multiprocessing
import os
import pstats
import random
import resource
import select
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

CLK_TCK = os.sysconf("SC_CLK_TCK")
BODY = b"<html>ok</html>\n"
RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
BASE = int(ipaddress.ip_address("127.10.0.1"))


def address(i: int) -> str:
    return str(ipaddress.ip_address(BASE + i))


# --- the listener process -----------------------------------------------------------------


def listener_main(tcp_port: int, http_port: int, ready: Any) -> None:
    """Accept-and-close on tcp_port, a fixed HTTP/1.0 answer on http_port, for every
    127.x address (bound to the wildcard address; nothing else reaches loopback)."""
    sel = selectors.DefaultSelector()
    for port, kind in ((tcp_port, "tcp"), (http_port, "http")):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(65535)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, kind)
    ready.send(os.getpid())
    while True:
        for key, _ in sel.select():
            kind = key.data
            sock = key.fileobj
            if kind in ("tcp", "http"):
                while True:
                    try:
                        conn, _ = sock.accept()  # type: ignore[union-attr]
                    except (BlockingIOError, ConnectionAbortedError):
                        break
                    except OSError:
                        break
                    if kind == "tcp":
                        conn.close()
                    else:
                        conn.setblocking(False)
                        sel.register(conn, selectors.EVENT_READ, "req")
            else:
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                    if data:
                        sock.send(RESPONSE)  # type: ignore[union-attr]
                except OSError:
                    pass
                sel.unregister(sock)
                sock.close()  # type: ignore[union-attr]


def tls_listener_main(port: int, cert: str, key: str, ready: Any) -> None:
    """The same fixed HTTP/1.0 answer over TLS on port (asyncio's TLS server)."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            await r.readuntil(b"\r\n\r\n")
            w.write(RESPONSE)
            await w.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            w.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "0.0.0.0", port, ssl=ctx, backlog=65535)
        ready.send(os.getpid())
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def self_signed(directory: str) -> tuple[str, str]:
    cert, key = os.path.join(directory, "bench.crt"), os.path.join(directory, "bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=bench.test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu() -> tuple[float, float]:
    """(user, system) CPU seconds of this process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# --- configurations ---------------------------------------------------------------------------


def config_text(n: int, kind: str, port: int, delay_loop: float) -> str:
    if kind == "tcp":
        check = "        TCP_CHECK {\n            connect_timeout 2\n        }\n"
    else:
        digest = hashlib.md5(BODY).hexdigest()
        name = "SSL_GET" if kind == "ssl" else "HTTP_GET"
        check = (f"        {name} {{\n            connect_timeout 2\n            url {{\n                path /\n"
                 f"                digest {digest}\n            }}\n        }}\n")
    out = []
    per_vs = 1000
    for v in range((n + per_vs - 1) // per_vs):
        out.append(f"virtual_server 10.0.{v // 250}.{v % 250 + 1} 80 {{\n    protocol TCP\n"
                   f"    delay_loop {delay_loop}\n    warmup {delay_loop}\n")
        for i in range(v * per_vs, min(n, (v + 1) * per_vs)):
            out.append(f"    real_server {address(i)} {port} {{\n{check}    }}\n")
        out.append("}\n")
    return "".join(out)


# --- the measured phases -------------------------------------------------------------------


class Lag:
    """A 10 ms ticker; how late each tick fires."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.task: Optional[asyncio.Task] = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.01)
            self.late.append(loop.time() - t - 0.01)

    def summary(self) -> tuple[float, float]:
        if not self.late:
            return 0.0, 0.0
        xs = sorted(self.late)
        return xs[int(len(xs) * 0.99) - 1 if len(xs) > 1 else 0] * 1e3, xs[-1] * 1e3


async def measure(counter: Callable[[], tuple[int, int]], listener_pid: int, settle: float, window: float,
                  profile: bool) -> dict[str, Any]:
    await asyncio.sleep(settle)
    lag = Lag()
    lag_task = asyncio.ensure_future(lag.run())
    checks0, fails0 = counter()
    cpu0, lcpu0, t0 = self_cpu(), proc_cpu(listener_pid), time.monotonic()
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    await asyncio.sleep(window)
    if prof:
        prof.disable()
    checks1, fails1 = counter()
    cpu1, lcpu1, t1 = self_cpu(), proc_cpu(listener_pid), time.monotonic()
    lag_task.cancel()
    wall = t1 - t0
    p99, mx = lag.summary()
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    out = {"checks_per_s": (checks1 - checks0) / wall, "failures": fails1 - fails0,
           "cpu_pct": 100 * (user + system) / wall, "user_pct": 100 * user / wall, "system_pct": 100 * system / wall,
           "us_per_check": 1e6 * (user + system) / max(1, checks1 - checks0),
           "listener_cpu_pct": 100 * (lcpu1 - lcpu0) / wall,
           "lag_p99_ms": p99, "lag_max_ms": mx, "window_s": wall}
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(25)
        out["profile"] = s.getvalue()
    return out


async def fastka_phase(n: int, kind: str, port: int, delay_loop: float, listener_pid: int, settle: float,
                       window: float, profile: bool) -> dict[str, Any]:
    from fastka.check.checker import build_checkers, start_all, stop_all
    from fastka.config import load_text

    t = time.monotonic()
    res = load_text(config_text(n, kind, port, delay_loop))
    config = res.raise_for_errors()
    load_s = time.monotonic() - t
    changes = [0]

    def on_change(task: Any, up: bool) -> None:
        changes[0] += 1
    tasks = build_checkers(config, on_change)
    assert len(tasks) == n, len(tasks)
    start_all(tasks)

    def counter() -> tuple[int, int]:
        return sum(x.checks for x in tasks), sum(x.failures for x in tasks)
    out = await measure(counter, listener_pid, settle, window, profile)
    out["down"] = sum(not x.up for x in tasks)
    out["transitions"] = changes[0]
    out["config_load_s"] = load_s
    await stop_all(tasks)
    return out


async def naive_phase(n: int, kind: str, port: int, delay_loop: float, listener_pid: int, settle: float,
                      window: float, profile: bool) -> dict[str, Any]:
    """The straightforward asyncio checker: open_connection in wait_for, a task each."""
    counts = [0, 0]
    request = b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: x\r\n\r\n"
    digest = hashlib.md5(BODY).hexdigest()

    tls = None
    if kind == "ssl":
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE

    async def one(ip: str) -> bool:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(ip, port, ssl=tls), 2)
        except (OSError, asyncio.TimeoutError):
            return False
        try:
            if kind == "tcp":
                return True
            w.write(request)
            data = await asyncio.wait_for(r.read(), 2)
            head, _, body = data.partition(b"\r\n\r\n")
            return head.startswith(b"HTTP/1.0 200") and hashlib.md5(body).hexdigest() == digest
        except (OSError, asyncio.TimeoutError):
            return False
        finally:
            w.close()

    stop = [False]

    async def loop(ip: str) -> None:
        await asyncio.sleep(random.uniform(0, delay_loop))
        while not stop[0]:  # Python 3.11's wait_for can swallow a cancel: the flag ends it anyway
            counts[0] += 1
            if not await one(ip):
                counts[1] += 1
            await asyncio.sleep(delay_loop)

    tasks = [asyncio.ensure_future(loop(address(i))) for i in range(n)]
    out = await measure(lambda: (counts[0], counts[1]), listener_pid, settle, window, profile)
    stop[0] = True
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return out


def floor(n: int, port: int, count: int = 20000) -> dict[str, Any]:
    """The same TCP check with nothing around it: a tight loop of non-blocking socket,
    connect, poll, SO_ERROR, RST close. What the kernel (both ends: loopback runs the
    listener's half in our context too) and the minimal syscalls cost per check."""
    import struct

    linger = struct.pack("ii", 1, 0)
    u0, s0 = self_cpu()
    t0 = time.monotonic()
    ok = 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        s.connect_ex((address(i % n), port))
        p = select.poll()
        p.register(s, select.POLLOUT)
        p.poll(2000)
        ok += s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
    u1, s1 = self_cpu()
    wall = time.monotonic() - t0
    return {"connects": count, "ok": ok, "us_user": 1e6 * (u1 - u0) / count, "us_sys": 1e6 * (s1 - s0) / count,
            "connects_per_s": count / wall}


def try_keepalived(n: int, port: int) -> str:
    """keepalived -C on this host: what happens (it needs IPVS)."""
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "k.conf")
        with open(conf, "w") as f:
            f.write(config_text(min(n, 10), "tcp", port, 1.0))
        try:
            p = subprocess.run(["keepalived", "-C", "-n", "-l", "-f", conf, "-p", f"{d}/p", "-c", f"{d}/c"],
                               capture_output=True, text=True, timeout=10)
        except FileNotFoundError:
            return "keepalived is not installed"
        except subprocess.TimeoutExpired:
            return "keepalived -C kept running (IPVS available?): not measured by this script"
        lines = [ln.split(": ", 1)[-1] for ln in (p.stdout + p.stderr).splitlines() if "ipvs" in ln.lower()]
        return "keepalived -C exited: " + ("; ".join(lines[:3]) or f"status {p.returncode}")


# --- main -------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", type=int, default=10000, help="real servers (default 10000)")
    ap.add_argument("--delay-loop", type=float, default=1.0, help="delay_loop in seconds (default 1)")
    ap.add_argument("--checks", default="tcp,http", help="phases, comma-separated: tcp, http, ssl (default tcp,http)")
    ap.add_argument("--settle", type=float, default=None, help="seconds before measuring (default 2 x delay_loop + 1)")
    ap.add_argument("--window", type=float, default=10.0, help="measured window in seconds (default 10)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain-asyncio baseline")
    ap.add_argument("--keepalived", action="store_true", help="try keepalived -C too (needs IPVS)")
    ap.add_argument("--profile", action="store_true", help="cProfile fastka's checker over the window")
    ap.add_argument("--json", metavar="FILE", help="write the numbers as JSON")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    settle = args.settle if args.settle is not None else 2 * args.delay_loop + 1
    tcp_port, http_port = free_port(), free_port()
    parent, child = multiprocessing.Pipe()
    lp = multiprocessing.Process(target=listener_main, args=(tcp_port, http_port, child), daemon=True)
    lp.start()
    listener_pid = parent.recv()
    kinds = [k.strip() for k in args.checks.split(",") if k.strip()]
    tls_port, tls_pid, tls_dir = free_port(), None, tempfile.TemporaryDirectory()
    tp = None
    if "ssl" in kinds:
        cert, key = self_signed(tls_dir.name)
        parent2, child2 = multiprocessing.Pipe()
        tp = multiprocessing.Process(target=tls_listener_main, args=(tls_port, cert, key, child2), daemon=True)
        tp.start()
        tls_pid = parent2.recv()
    results: dict[str, Any] = {"servers": args.servers, "delay_loop": args.delay_loop,
                               "asked_checks_per_s": args.servers / args.delay_loop, "nofile": hard,
                               "python": sys.version.split()[0], "phases": {}}
    try:
        for kind in kinds:
            port = {"tcp": tcp_port, "http": http_port, "ssl": tls_port}[kind]
            server_pid = tls_pid if kind == "ssl" else listener_pid
            impls: list[tuple[str, Any]] = [("fastka", fastka_phase)]
            if not args.no_baseline:
                impls.append(("plain asyncio", naive_phase))
            for name, fn in impls:
                r = asyncio.run(fn(args.servers, kind, port, args.delay_loop, server_pid, settle, args.window,
                                   args.profile and name == "fastka"))
                results["phases"][f"{kind} {name}"] = r
                print(f"{kind:5} {name:14} {r['checks_per_s']:9.0f} checks/s  failures {r['failures']:6}  "
                      f"checker CPU {r['cpu_pct']:5.1f} % (user {r['user_pct']:4.1f} sys {r['system_pct']:4.1f}, "
                      f"{r['us_per_check']:4.0f} us/check)  listener CPU {r['listener_cpu_pct']:5.1f} %  "
                      f"loop lag p99 {r['lag_p99_ms']:6.1f} ms max {r['lag_max_ms']:6.1f} ms", flush=True)
                if "profile" in r:
                    print(r["profile"])
        if "tcp" in args.checks:
            f = floor(args.servers, tcp_port)
            results["floor"] = f
            print(f"tcp   floor          {f['connects_per_s']:9.0f} connects/s, one at a time: "
                  f"{f['us_user']:4.0f} us user + {f['us_sys']:4.0f} us sys per check ({f['ok']}/{f['connects']} ok)")
        if args.keepalived:
            results["keepalived"] = try_keepalived(args.servers, tcp_port)
            print(results["keepalived"])
    finally:
        for proc in (lp, tp):
            if proc is not None:
                proc.kill()
                proc.join()
        tls_dir.cleanup()
    print(f"\n{args.servers} real servers, delay_loop {args.delay_loop:g} s: "
          f"{results['asked_checks_per_s']:.0f} checks/s asked; window {args.window:g} s; {os.cpu_count()} CPUs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
