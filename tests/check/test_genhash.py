"""fastka genhash / fastka -T against real HTTP and HTTPS servers, checked against
hashlib and against Debian's genhash (keepalived 2.2.7) when it is installed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from fastka.cli import main

from .servers import free_port, self_signed

GENHASH = "/usr/bin/genhash"
BODY = b"<html><body>" + bytes(range(256)) + b"\n" * 3 + b"</body></html>\n"


class Page(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Page.requests.append(f"{self.command} {self.path} {self.request_version} host={self.headers.get('Host')}")
        body = BODY if self.path == "/page" else b"missing\n"
        self.send_response_only(200 if self.path == "/page" else 404)  # no Date: two fetches stay identical
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(tls: ssl.SSLContext | None = None):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


def fastka(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def reference(*args: str) -> str:
    return subprocess.run([GENHASH, *args], capture_output=True, text=True, timeout=20).stdout


def comparable(text: str) -> str:
    """genhash -v output without the timing line, and without the HTML Buffer banner:
    keepalived prints that only when the body starts in the same read as the header
    (a read-size artefact fastka does not copy)."""
    return "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith("Global response time") and "[        HTML Buffer        ]" not in ln)


def test_genhash_http_digest_and_forms():
    want = hashlib.md5(BODY).hexdigest()
    with serve() as port:
        r = fastka("genhash", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")
        assert r.exit_code == 0 and r.stdout == want + "\n"
        r = fastka("-T", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")  # keepalived's spelling
        assert r.exit_code == 0 and r.stdout == want + "\n"
        r = fastka("-l", "-D", "-T", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")  # after daemon flags
        assert r.exit_code == 0 and r.stdout == want + "\n"
        r = fastka("--genhash", "-s", "127.0.0.1", "-p", str(port), "-u", "/page", "-V", "www.test", "-P", "1.1")
        assert r.exit_code == 0 and r.stdout == want + "\n"
        assert Page.requests[-1] == "GET /page HTTP/1.1 host=www.test"
        r = fastka("-T", "-v", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")
        assert r.exit_code == 0
        out = r.stdout.splitlines()
        assert out[0] == "-----------------------[    HTTP Header Buffer    ]-----------------------"
        assert out[1].startswith("0000  48 54 54 50 2f 31 2e 30 - 20 32 30 30 20 4f 4b 0d   HTTP/1.0 200 OK.")
        assert want in out and out[-1].startswith("Global response time for [/page] = ")
        if os.path.exists(GENHASH):
            assert reference("-s", "127.0.0.1", "-p", str(port), "-u", "/page").strip() == want
            assert comparable(reference("-v", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")) == \
                comparable(r.stdout)
    r = fastka("-T", "-s", "127.0.0.1", "-p", str(free_port()), "-u", "/page")
    assert r.exit_code == 1 and r.stderr.startswith("Connection failed: connect to 127.0.0.1:")


def test_genhash_https(tmp_path):
    cert, key = self_signed(tmp_path, "gh.test")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(cert), str(key))
    want = hashlib.md5(BODY).hexdigest()
    with serve(tls) as port:
        r = fastka("-T", "-S", "-s", "127.0.0.1", "-p", str(port), "-u", "/page")
        assert r.exit_code == 0 and r.stdout == want + "\n", r.output
        r = fastka("-T", "-S", "-I", "-V", "gh.test", "-s", "127.0.0.1", "-p", str(port), "-u", "/other")
        assert r.exit_code == 0 and r.stdout == hashlib.md5(b"missing\n").hexdigest() + "\n"
        if os.path.exists(GENHASH):
            assert reference("-S", "-s", "127.0.0.1", "-p", str(port), "-u", "/page").strip() == want


def test_genhash_bad_arguments():
    r = fastka("-T", "-s", "not-an-address")
    assert r.exit_code == 2 and "'not-an-address' is not an IP address" in r.stderr
    r = fastka("-T")
    assert r.exit_code == 2 and "Missing option '-s'" in r.stderr


@pytest.mark.parametrize("argv0", ["-T", "--genhash"])
def test_genhash_words_after_t_are_not_daemon_flags(argv0):
    # -s would be the daemon's namespace, -p its pidfile, -v its version: genhash owns them after -T
    r = fastka(argv0, "-s", "127.0.0.1", "-p", str(free_port()), "-v")
    assert r.exit_code == 1 and "Connection failed" in r.stderr
