"""genhash: the MD5 digest of a web page's body, for HTTP_GET / SSL_GET ``digest``.

``fastka genhash -s ADDR -p PORT -u URL`` (or keepalived's spelling, ``fastka -T ...``)
sends the request HTTP_GET sends and prints the digest as keepalived's genhash does:
the hex digest alone, or with ``-v`` the header and body as hex dumps, the digest and
the response time. The body is everything after the header up to the server's close
(no chunked decoding, Content-Length not trusted), exactly what HTTP_GET hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Optional

from .probes import Endpoint, HttpProbe, ProbeError, build_request, hostport, ssl_context


@dataclass
class Page:
    header: bytes  # status line and header lines, with the blank line
    body: bytes
    usecs: int  # request to last byte

    @property
    def digest(self) -> str:
        return hashlib.md5(self.body).hexdigest()


async def fetch(server: str, port: int, url: str, *, use_ssl: bool = False, sni: bool = False,
                virtualhost: Optional[str] = None, protocol: str = "1.0", timeout: float = 5.0,
                fwmark: Optional[int] = None) -> Page:
    """GET ``url`` from server:port; ProbeError (with the reason) when it fails."""
    ep = Endpoint(server, port, timeout, fwmark=fwmark)
    probe = HttpProbe(ep, [], protocol, tls=ssl_context(None) if use_ssl else None,
                      sni=(virtualhost or None) if sni else None)
    request = build_request(url, virtualhost or hostport(server, port), protocol)
    t0 = time.monotonic()
    raw, body_at = await probe.fetch(request, True)
    return Page(raw[:body_at], raw[body_at:], int((time.monotonic() - t0) * 1e6))


def hexdump(data: bytes) -> str:
    """keepalived's dump: decimal offset, 8 + 8 bytes in hex, the printable ASCII."""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hx = [f"{b:02x}" for b in chunk]
        left = " ".join(hx[:8])
        right = " ".join(hx[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{off:04d}  {left:<23} - {right:<23}   {text:<16}")
    return "\n".join(out)


_BANNERS = {  # keepalived's titles, spacing included
    "header": "    HTTP Header Buffer    ",
    "ascii": " HTTP Header Ascii Buffer ",
    "body": "        HTML Buffer        ",
    "hash": "    HTML hash resulting    ",
    "final": " HTML hash final resulting ",
}


def banner(which: str) -> str:
    return f"-----------------------[{_BANNERS[which]}]-----------------------"


def render(page: Page, url: str, verbose: bool) -> str:
    if not verbose:
        return page.digest
    digest = hashlib.md5(page.body).digest()
    parts = [
        banner("header"), hexdump(page.header),
        banner("ascii"), page.header.decode("latin-1"),
        banner("body"), hexdump(page.body), "",
        banner("hash"), hexdump(digest),
        banner("final"), page.digest, "",
        f"Global response time for [{url}] = {page.usecs} usecs",
    ]
    return "\n".join(parts)


def run(server: str, port: int, url: str, *, verbose: bool = False, **kw: object) -> tuple[int, str]:
    """(exit status, text to print): 0 and the digest, or 1 and why it failed."""
    try:
        page = asyncio.run(fetch(server, port, url, **kw))  # type: ignore[arg-type]
    except ProbeError as e:
        return 1, f"Connection failed: {e}"
    return 0, render(page, url, verbose)
