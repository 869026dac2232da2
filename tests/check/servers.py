"""Real servers on loopback for the checker tests, and configs loaded from text."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from fastka.config import load_file


# --- configuration ------------------------------------------------------------------------


def load_config(tmp_path: Path, text: str) -> Any:
    """keepalived.conf text -> the model, through the project's loader (defaults applied)."""
    f = tmp_path / "keepalived.conf"
    f.write_text(text)
    r = load_file(f, check_system=False)
    assert r.ok, "\n".join(d.format() for d in r.diagnostics.sorted())
    return r.config


_KEYWORDS = ("connect_ip", "connect_port", "connect_timeout", "bindto", "bind_port", "bind_if", "fwmark",
             "misc_timeout", "misc_dynamic", "delay_loop", "helo_name", "type", "name", "payload", "require_reply",
             "min_reply_length", "max_reply_length", "dynamic", "weight", "enable_sni", "url", "virtualhost",
             "user", "status_code", "path", "retry", "delay_before_retry", "warmup", "alpha", "log_all_failures",
             "http_protocol", "fast_recovery", "digest", "regex", "host")
_SPLIT = re.compile(r"(?<=\S) +(?=(?:" + "|".join(_KEYWORDS) + r")\b(?![-./]))")


def lines(block: str) -> str:
    """keepalived takes one keyword per line: the tests write compact blocks
    (``TCP_CHECK { connect_port 80 connect_timeout 1 }``) and this puts each keyword on
    its own line."""
    return "\n".join(_SPLIT.sub("\n", ln) if '"' not in ln else ln for ln in block.splitlines())


def one_checker(tmp_path: Path, block: str, *, ip: str = "127.0.0.1", port: Optional[int] = None,
                rs_extra: str = "", vs_extra: str = "", top: str = "") -> tuple[Any, Any, Any, Any]:
    """(checker, real_server, virtual_server, config) of a config with one checker."""
    vs_ip = "fd00::1" if ":" in ip else "10.10.10.1"
    text = f"""{top}
virtual_server {vs_ip} 80 {{
    protocol TCP
    {vs_extra}
    real_server {ip} {port if port is not None else ''} {{
        {rs_extra}
        {lines(block)}
    }}
}}
"""
    config = load_config(tmp_path, text)
    vs = config.virtual_servers[0]
    rs = vs.real_servers[0]
    return rs.checkers[0], rs, vs, config


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on (bound then released)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- TCP / HTTP -----------------------------------------------------------------------------


@dataclass
class Http:
    """An HTTP/1.x server on 127.0.0.1 (or HTTPS with ``tls``): answers every request
    with ``status`` and ``body`` after ``delay`` seconds, then closes. ``hang``: reads the
    request and never answers. ``close_early``: closes without a response. Requests and
    the peers they came from are recorded."""

    status: int = 200
    body: bytes = b"<html>fine</html>\n"
    delay: float = 0.0
    hang: bool = False
    close_early: bool = False
    tls: Optional[ssl.SSLContext] = None
    host: str = "127.0.0.1"
    requests: list[bytes] = field(default_factory=list)
    peers: list[tuple] = field(default_factory=list)
    server: Optional[asyncio.Server] = None

    async def start(self) -> "Http":
        self.server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.tls)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.peers.append(writer.get_extra_info("peername"))
            req = await reader.readuntil(b"\r\n\r\n")
            self.requests.append(req)
            if self.hang:
                await asyncio.sleep(3600)
            if self.close_early:
                return
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(f"HTTP/1.0 {self.status} X\r\nContent-Type: text/html\r\n"
                         f"Content-Length: {len(self.body)}\r\n\r\n".encode() + self.body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()


async def listener(host: str = "127.0.0.1") -> asyncio.Server:
    """A TCP server that accepts and closes."""
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()
    return await asyncio.start_server(handle, host, 0)


def port_of(server: asyncio.Server) -> int:
    return server.sockets[0].getsockname()[1]


# --- TLS ------------------------------------------------------------------------------------


def self_signed(tmp_path: Path, cn: str = "check.test") -> tuple[Path, Path]:
    """(certificate, key) PEM files of a fresh self-signed certificate."""
    cert, key = tmp_path / f"{cn}.crt", tmp_path / f"{cn}.key"
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        assert shutil.which("openssl"), "needs the cryptography package or openssl"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30)
        return cert, key
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
         .sign(k, hashes.SHA256()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert, key


def server_tls(cert: Path, key: Path, sni_seen: Optional[list] = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    if sni_seen is not None:
        def record(sock: Any, name: Optional[str], c: Any) -> None:
            sni_seen.append(name)
        ctx.sni_callback = record
    return ctx


# --- UDP: DNS and echo ---------------------------------------------------------------------------


class Dns(asyncio.DatagramProtocol):
    """A tiny DNS responder: answers each query with ``rcode``, ``answers`` A records
    (for whatever was asked) and, with ``stray_first``, a reply with a wrong id before
    the right one. ``silent``: answers nothing."""

    def __init__(self, rcode: int = 0, answers: int = 1, stray_first: bool = False, silent: bool = False) -> None:
        self.rcode, self.answers, self.stray_first, self.silent = rcode, answers, stray_first, silent
        self.queries: list[bytes] = []
        self.transport: Optional[asyncio.DatagramTransport] = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queries.append(data)
        if self.silent or len(data) < 12 or self.transport is None:
            return
        qid = struct.unpack_from("!H", data)[0]
        end = data.index(b"\0", 12) + 5  # the question: name, type, class
        question = data[12:end]
        flags = 0x8180 | self.rcode  # QR, RD, RA
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 7])
        reply = struct.pack("!HHHHHH", qid, flags, 1, self.answers, 0, 0) + question + answer * self.answers
        if self.stray_first:
            self.transport.sendto(struct.pack("!H", (qid + 1) & 0xFFFF) + reply[2:], addr)
        self.transport.sendto(reply, addr)


class UdpEcho(asyncio.DatagramProtocol):
    """Replies ``reply`` (or echoes) to every datagram; ``silent`` replies nothing."""

    def __init__(self, reply: Optional[bytes] = None, silent: bool = False) -> None:
        self.reply, self.silent = reply, silent
        self.got: list[bytes] = []
        self.transport: Optional[asyncio.DatagramTransport] = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got.append(data)
        if not self.silent and self.transport is not None:
            self.transport.sendto(self.reply if self.reply is not None else data, addr)


async def udp_server(proto: asyncio.DatagramProtocol, host: str = "127.0.0.1") -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=(host, 0))
    return transport, transport.get_extra_info("sockname")[1]


def script(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return p


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    st = Path(f"/proc/{pid}/stat")
    try:
        return st.read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
