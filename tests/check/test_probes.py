"""Each checker type, one attempt, against real servers on loopback (configs loaded
from keepalived.conf text, so the model and its defaults cascade are what runs)."""

from __future__ import annotations

import asyncio
import grp
import hashlib
import logging
import os
import pwd
import socket
import ssl
from pathlib import Path

import pytest

from fastka.check.probes import (
    FileProbe,
    HttpProbe,
    MiscProbe,
    PingProbe,
    ProbeEnv,
    ProbeResult,
    TcpProbe,
    make_probe,
    parse_hex,
)

from .servers import (
    Dns,
    Http,
    UdpEcho,
    free_port,
    listener,
    one_checker,
    pid_alive,
    port_of,
    script,
    self_signed,
    server_tls,
    udp_server,
)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def probe_of(tmp_path, block, **kw):
    ch, rs, vs, config = one_checker(tmp_path, block, **kw)
    return make_probe(ch, rs, ProbeEnv.of(config))


# --- TCP_CHECK ------------------------------------------------------------------------------


def test_tcp_up_refused_and_timeout(tmp_path):
    async def main():
        srv = await listener()
        up = probe_of(tmp_path, "TCP_CHECK { connect_timeout 1 }", port=port_of(srv))
        assert isinstance(up, TcpProbe)
        assert await up() == ProbeResult(True, "ok")

        closed = free_port()
        down = probe_of(tmp_path, f"TCP_CHECK {{ connect_port {closed} connect_timeout 1 }}", port=port_of(srv))
        r = await down()
        assert not r.ok and r.reason == f"connect to 127.0.0.1:{closed} refused"

        # a listener whose accept queue is full drops SYNs: the connect hangs until the timeout
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(full.getsockname())
            fillers.append(c)
        await asyncio.sleep(0.1)
        hang = probe_of(tmp_path, "TCP_CHECK { connect_timeout 0.3 }", port=full.getsockname()[1])
        r = await hang()
        assert not r.ok and r.reason.endswith("timed out"), r
        for c in fillers + [full]:
            c.close()
        srv.close()
    run(main())


def test_tcp_bindto_bind_port_bind_if_fwmark(tmp_path):
    async def main():
        seen = []

        async def handle(r, w):
            seen.append(w.get_extra_info("peername"))
            w.close()
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        src_port = free_port()
        p = probe_of(tmp_path, f"TCP_CHECK {{ bindto 127.0.0.2 bind_port {src_port} bind_if lo fwmark 7 "
                               "connect_timeout 1 }", port=port_of(srv))
        r = await p()
        assert r.ok, r
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen and seen[0][0] == "127.0.0.2" and seen[0][1] == src_port
        srv.close()
    run(main())


def test_tcp_ipv6(tmp_path):
    async def main():
        srv = await listener("::1")
        p = probe_of(tmp_path, "TCP_CHECK { connect_timeout 1 }", ip="::1", port=port_of(srv))
        assert (await p()).ok
        assert p.label == f"[::1]:tcp:{port_of(srv)}"
        srv.close()
    run(main())


# --- HTTP_GET ----------------------------------------------------------------------------------


def http_block(path="/health", extra="", url_extra=""):
    return f"""HTTP_GET {{
        connect_timeout 0.5
        {extra}
        url {{
            path {path}
            {url_extra}
        }}
    }}"""


def test_http_status_digest_regex(tmp_path):
    async def main():
        body = b"<html>service ok, version 42</html>\n"
        srv = await Http(body=body).start()
        good = hashlib.md5(body).hexdigest()
        cases = [
            ("", True, "ok"),
            (f"digest {good}", True, "ok"),
            (f"digest {good.upper()}", True, "ok"),
            ("digest 00000000000000000000000000000000", False,
             f"digest mismatch for /health: got {good}, expected 00000000000000000000000000000000"),
            ("status_code 300-399 500", False, "HTTP status 200 not in 300-399 500 for /health"),
            ('regex "version [0-9]+"', True, "ok"),
            ('regex "VERSION"', False, "body of /health does not match regex 'VERSION'"),
            ('regex "VERSION"\n regex_options caseless', True, "ok"),
            ('regex "version"\n regex_no_match', False, "body of /health matches (regex_no_match) regex 'version'"),
            ('regex "maintenance"\n regex_no_match', True, "ok"),
            ('regex "service"\n regex_min_offset 10', False, "body of /health does not match regex 'service'"),
            ('regex "version"\n regex_max_offset 5', False, "body of /health does not match regex 'version'"),
        ]
        for url_extra, ok, reason in cases:
            p = probe_of(tmp_path, http_block(url_extra=url_extra), port=srv.port)
            assert isinstance(p, HttpProbe)
            r = await p()
            assert (r.ok, r.reason) == (ok, reason), url_extra
        await srv.stop()
    run(main())


def test_http_wrong_status_and_request_form(tmp_path):
    async def main():
        srv = await Http(status=500).start()
        p = probe_of(tmp_path, http_block(), port=srv.port)
        r = await p()
        assert not r.ok and r.reason == "HTTP status 500 not in 200-299 for /health"
        assert srv.requests[-1] == (f"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n"
                                    f"Host: 127.0.0.1:{srv.port}\r\n\r\n").encode()
        # 500 accepted when listed; virtualhost from the real server; HTTP/1.1 says Connection: close
        p = probe_of(tmp_path, http_block(extra="http_protocol 1.1", url_extra="status_code 200 500"),
                     port=srv.port, rs_extra="virtualhost www.example.test")
        assert (await p()).ok
        assert srv.requests[-1] == (b"GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
                                    b"Host: www.example.test\r\n\r\n")
        p = probe_of(tmp_path, http_block(extra="http_protocol 1.0C", url_extra="virtualhost u.test\n status_code 500"),
                     port=srv.port)
        assert (await p()).ok
        assert srv.requests[-1].startswith(b"GET /health HTTP/1.0\r\n") and b"Connection: close\r\n" in \
            srv.requests[-1] and b"Host: u.test\r\n" in srv.requests[-1]
        await srv.stop()
    run(main())


def test_http_hanging_slow_closing_and_down(tmp_path):
    async def main():
        hang = await Http(hang=True).start()
        p = probe_of(tmp_path, http_block(), port=hang.port)
        r = await p()
        assert not r.ok and r.reason == f"HTTP request to 127.0.0.1:{hang.port}: timed out waiting for the response"

        slow = await Http(delay=0.2).start()  # slower than nothing, well within connect_timeout 0.5
        assert (await probe_of(tmp_path, http_block(url_extra="digest " + hashlib.md5(slow.body).hexdigest()),
                               port=slow.port)()).ok

        early = await Http(close_early=True).start()
        r = await probe_of(tmp_path, http_block(), port=early.port)()
        assert not r.ok and r.reason == f"HTTP request to 127.0.0.1:{early.port}: no response"

        port = free_port()
        r = await probe_of(tmp_path, http_block(), port=port)()
        assert not r.ok and r.reason == f"connect to 127.0.0.1:{port} refused"
        for s in (hang, slow, early):
            await s.stop()
    run(main())


def test_http_dripped_and_large_bodies(tmp_path):
    async def main():
        big = bytes(range(256)) * 4096  # 1 MiB
        gaps = [0.0]

        async def drip(r, w):
            await r.readuntil(b"\r\n\r\n")
            head = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big)
            data = head + big
            parts = [data[:5], data[5:30], data[30:500000], data[500000:]]  # the header split too
            for part in parts:
                w.write(part)
                await w.drain()
                await asyncio.sleep(gaps[0])
            w.close()
        srv = await asyncio.start_server(drip, "127.0.0.1", 0)
        p = probe_of(tmp_path, http_block(url_extra="digest " + hashlib.md5(big).hexdigest()), port=port_of(srv))
        assert (await p()).ok
        # 4 x 0.2 s: longer than connect_timeout 0.5 in all, but never silent that long
        gaps[0] = 0.2
        r = await p()
        assert r.ok, r
        gaps[0] = 0.8  # silent longer than connect_timeout: fails
        r = await p()
        assert not r.ok and r.reason.endswith("timed out waiting for the response")
        srv.close()
    run(main())


def test_http_connection_options_and_ipv6(tmp_path):
    async def main():
        srv = await Http().start()
        p = probe_of(tmp_path, http_block(extra="bindto 127.0.0.3\n bind_if lo\n fwmark 9"), port=srv.port)
        assert (await p()).ok
        assert srv.peers[-1][0] == "127.0.0.3"
        v6 = await Http(host="::1").start()
        p = probe_of(tmp_path, http_block(url_extra="digest " + hashlib.md5(v6.body).hexdigest()), ip="::1",
                     port=v6.port)
        assert (await p()).ok
        assert v6.requests[-1].endswith(f"Host: [::1]:{v6.port}\r\n\r\n".encode())
        for s in (srv, v6):
            await s.stop()
    run(main())


def test_http_several_urls_each_checked(tmp_path):
    async def main():
        srv = await Http().start()
        block = """HTTP_GET {
            connect_timeout 0.5
            url { path /a }
            url { path /b }
            url { path /c
                  status_code 404 }
        }"""
        p = probe_of(tmp_path, block, port=srv.port)
        assert p.steps == 3
        r = await p()
        assert not r.ok and r.reason == "HTTP status 200 not in 404 for /c"
        assert [q.split(b" ")[1] for q in srv.requests] == [b"/a", b"/b", b"/c"]
        assert (await p.step(1)).ok
        await srv.stop()
    run(main())


# --- SSL_GET --------------------------------------------------------------------------------------


def test_ssl_get_self_signed_sni_and_ca(tmp_path):
    async def main():
        cert, key = self_signed(tmp_path, "rs.check.test")
        sni = []
        body = b"secure and sound\n"
        srv = await Http(body=body, tls=server_tls(cert, key, sni)).start()
        digest = hashlib.md5(body).hexdigest()
        # keepalived does not verify the server without a ca: self-signed passes
        p = probe_of(tmp_path, http_block(url_extra=f"digest {digest}").replace("HTTP_GET", "SSL_GET"),
                     port=srv.port)
        r = await p()
        assert r.ok, r
        assert sni == [None]
        # enable_sni sends the virtualhost
        p = probe_of(tmp_path, "SSL_GET { enable_sni\n connect_timeout 0.5\n url { path /\n virtualhost "
                               "rs.check.test } }", port=srv.port)
        assert (await p()).ok and sni[-1] == "rs.check.test"
        # with a ca the chain must verify: the server's own certificate is its ca
        p = probe_of(tmp_path, "SSL_GET { connect_timeout 0.5\n url { path / } }", port=srv.port,
                     top=f'SSL {{ ca "{cert}" }}')
        assert (await p()).ok
        other, _ = self_signed(tmp_path, "other.test")
        p = probe_of(tmp_path, "SSL_GET { connect_timeout 0.5\n url { path / } }", port=srv.port,
                     top=f'SSL {{ ca "{other}" }}')
        r = await p()
        assert not r.ok and r.reason.startswith(f"TLS handshake with 127.0.0.1:{srv.port} failed:") and \
            "CERTIFICATE_VERIFY_FAILED" in r.reason, r
        # plain HTTP to a TLS port: the server hangs up on garbage, the check fails
        r = await probe_of(tmp_path, http_block(path="/"), port=srv.port)()
        assert not r.ok
        await srv.stop()
    run(main())


# --- SMTP_CHECK --------------------------------------------------------------------------------------


def test_smtp_against_aiosmtpd(tmp_path):
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")

    class Handler:
        def __init__(self):
            self.helos = []

        async def handle_HELO(self, server, session, envelope, hostname):
            self.helos.append(hostname)
            session.host_name = hostname
            return "250 pleased to meet you"

    h = Handler()
    port = free_port()
    ctl = aiosmtpd.Controller(h, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        async def main():
            p = probe_of(tmp_path, 'SMTP_CHECK { connect_timeout 1\n helo_name "checker.test" }', port=port)
            r = await p()
            assert r.ok, r
            assert h.helos == ["checker.test"]
            # host blocks: each is checked; one closed port fails the checker
            closed = free_port()
            block = f"""SMTP_CHECK {{
                connect_timeout 1
                host {{ connect_ip 127.0.0.1
                        connect_port {port} }}
                host {{ connect_ip 127.0.0.1
                        connect_port {closed} }}
            }}"""
            r = await probe_of(tmp_path, block, port=port)()
            assert not r.ok and r.reason == f"connect to 127.0.0.1:{closed} refused"
            assert len(h.helos) == 2  # the first host was checked
        run(main())
    finally:
        ctl.stop()


def test_smtp_bad_greeting_and_silence(tmp_path):
    async def main():
        async def refuse(r, w):
            w.write(b"554 no service here\r\n")
            await w.drain()
            w.close()

        async def silent(r, w):
            await asyncio.sleep(5)
            w.close()

        async def multiline(r, w):
            w.write(b"220-first line\r\n220 ready\r\n")
            line = await r.readline()
            w.write(b"250-hello " + line[5:].strip() + b"\r\n250 SIZE 1000\r\n" if line.startswith(b"HELO ")
                    else b"500 what\r\n")
            await r.readline()
            w.write(b"221 bye\r\n")
            w.close()
        bad = await asyncio.start_server(refuse, "127.0.0.1", 0)
        quiet = await asyncio.start_server(silent, "127.0.0.1", 0)
        good = await asyncio.start_server(multiline, "127.0.0.1", 0)
        r = await probe_of(tmp_path, "SMTP_CHECK { connect_timeout 0.3 }", port=port_of(bad))()
        assert not r.ok
        assert r.reason == f"SMTP greeting from 127.0.0.1:{port_of(bad)}: '554 no service here', expected 220"
        r = await probe_of(tmp_path, "SMTP_CHECK { connect_timeout 0.3 }", port=port_of(quiet))()
        assert not r.ok and r.reason == f"SMTP greeting from 127.0.0.1:{port_of(quiet)} timed out"
        r = await probe_of(tmp_path, "SMTP_CHECK { connect_timeout 0.3 }", port=port_of(good))()
        assert r.ok, r
        for s in (bad, quiet, good):
            s.close()
    run(main())


# --- DNS_CHECK -------------------------------------------------------------------------------------


def test_dns(tmp_path):
    async def main():
        async def probe_against(dns, block="DNS_CHECK { connect_timeout 0.3\n type A\n name www.example.test }"):
            t, port = await udp_server(dns)
            try:
                return await probe_of(tmp_path, block, port=port)(), port
            finally:
                t.close()

        d = Dns()
        r, _ = await probe_against(d)
        assert r.ok, r
        q = d.queries[0]
        assert q[12:] == b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"  # A, IN
        r, _ = await probe_against(Dns(), "DNS_CHECK { connect_timeout 0.3 }")  # defaults: SOA for "."
        assert r.ok
        r, port = await probe_against(Dns(rcode=3))
        assert not r.ok and r.reason == f"DNS A www.example.test query to 127.0.0.1:{port}: DNS rcode NXDOMAIN"
        r, port = await probe_against(Dns(answers=0))
        assert not r.ok and r.reason.endswith("DNS reply has no answer")
        r, _ = await probe_against(Dns(stray_first=True))
        assert r.ok, r
        r, port = await probe_against(Dns(silent=True))
        assert not r.ok and r.reason == f"DNS A www.example.test query to 127.0.0.1:{port}: timed out"
        port = free_port(socket.SOCK_DGRAM)
        r = await probe_of(tmp_path, "DNS_CHECK { connect_timeout 0.3 }", port=port)()
        assert not r.ok and r.reason.endswith("refused"), r  # ICMP port unreachable
    run(main())


# --- UDP_CHECK --------------------------------------------------------------------------------------


def test_hex_strings_as_the_manual_reads_them():
    assert parse_hex(["Ab12f", "3", "456", "546443123"])[0] == bytes.fromhex("AB120F0345065464431203")
    val, mask = parse_hex(["4x", "X1", "2"], mask=True)
    assert val == bytes([0x40, 0x01, 0x02]) and mask == bytes([0xF0, 0x0F, 0xFF])


def test_udp(tmp_path):
    async def main():
        async def check(proto, block):
            t, port = await udp_server(proto)
            try:
                return await probe_of(tmp_path, block, port=port)()
            finally:
                t.close()
        echo = UdpEcho()
        r = await check(echo, "UDP_CHECK { connect_timeout 0.3\n payload 01020304 }")
        assert r.ok and echo.got == [bytes([1, 2, 3, 4])]
        r = await check(UdpEcho(), "UDP_CHECK { connect_timeout 0.3\n payload 0102 0304\n require_reply 0102 }")
        assert r.ok
        r = await check(UdpEcho(reply=bytes([0x17, 0x02, 0x99])),
                        "UDP_CHECK { connect_timeout 0.3\n payload 01\n require_reply 1x 02 }")
        assert r.ok, r  # X ignores the counter nibble; comparison stops at the reply's end
        r = await check(UdpEcho(reply=bytes([0x27, 0x02])),
                        "UDP_CHECK { connect_timeout 0.3\n payload 01\n require_reply 1x 02 }")
        assert not r.ok and r.reason.endswith("reply differs from require_reply at byte 0")
        r = await check(UdpEcho(reply=b"x" * 10),
                        "UDP_CHECK { connect_timeout 0.3\n require_reply\n min_reply_length 2\n max_reply_length 8 }")
        assert not r.ok and r.reason.endswith("reply of 10 bytes, not 2-8")
        r = await check(UdpEcho(silent=True), "UDP_CHECK { connect_timeout 0.3\n require_reply }")
        assert not r.ok and r.reason.endswith("no reply within 0.3 s")
        # without require_reply silence passes; an ICMP port unreachable fails
        silent = UdpEcho(silent=True)
        r = await check(silent, "UDP_CHECK { connect_timeout 0.2 }")
        assert r.ok and len(silent.got) == 1 and len(silent.got[0]) == 16  # a random payload
        port = free_port(socket.SOCK_DGRAM)
        r = await probe_of(tmp_path, "UDP_CHECK { connect_timeout 0.3 }", port=port)()
        assert not r.ok and r.reason == f"UDP check of 127.0.0.1:{port}: refused"
    run(main())


# --- PING_CHECK --------------------------------------------------------------------------------------


@pytest.mark.root
@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_ping_loopback(tmp_path, ip):
    if os.geteuid() != 0:
        pytest.skip("raw ICMP sockets need root here (ping_group_range excludes us)")

    async def main():
        p = probe_of(tmp_path, "PING_CHECK { connect_timeout 1 }", ip=ip)
        assert isinstance(p, PingProbe)
        for _ in range(3):
            r = await p()
            assert r.ok, r
    run(main())


@pytest.mark.root
def test_ping_in_a_namespace_dgram_socket_and_unreachable(tmp_path):
    from tests.netns import in_netns, ip, netns, skip_unless_netns

    skip_unless_netns()
    ch_ok = one_checker(tmp_path, "PING_CHECK { connect_timeout 0.5 }", ip="127.0.0.1")
    ch_bad = one_checker(tmp_path, "PING_CHECK { connect_timeout 0.5 }", ip="10.99.0.9")
    with netns("fkchk") as ns:
        ip("-n", ns, "link", "set", "lo", "up")
        # ping_group_range is per namespace: let root use an unprivileged ping socket here
        ip("netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0")

        def inside():
            async def main():
                p = make_probe(ch_ok[0], ch_ok[1])
                r1 = await p()
                bad = make_probe(ch_bad[0], ch_bad[1])
                r2 = await bad()
                return r1, p.mode, r2
            return asyncio.run(main())
        r1, mode, r2 = in_netns(ns, inside)
    assert r1.ok and mode == "dgram"
    assert not r2.ok and r2.reason == "cannot reach 10.99.0.9: network unreachable", r2


# --- MISC_CHECK ----------------------------------------------------------------------------------


def test_misc_exit_codes_dynamic_weights_and_output(tmp_path, caplog):
    async def main():
        for code, dynamic, want in [(0, False, ProbeResult(True, "ok")),
                                    (1, False, ProbeResult(False, "s.sh exited with status 1")),
                                    (3, False, ProbeResult(False, "s.sh exited with status 3")),
                                    (1, True, ProbeResult(False, "s.sh exited with status 1")),
                                    (2, True, ProbeResult(True, "s.sh exited 2", weight=0)),
                                    (12, True, ProbeResult(True, "s.sh exited 12", weight=10)),
                                    (255, True, ProbeResult(True, "s.sh exited 255", weight=253))]:
            s = script(tmp_path, "s.sh", f"echo out-{code}; echo err-{code} >&2; exit {code}")
            p = probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}"\n {"misc_dynamic" if dynamic else ""} }}')
            assert isinstance(p, MiscProbe)
            assert await p() == want, (code, dynamic)
        with caplog.at_level(logging.DEBUG, "fastka.check"):
            s = script(tmp_path, "s.sh", "echo hello from the check; echo trouble >&2; exit 1")
            await probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{s} arg" }}')()
        assert "MISC_CHECK s.sh stdout: hello from the check" in caplog.text
        assert "MISC_CHECK s.sh stderr: trouble" in caplog.text
        r = await probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{tmp_path}/missing.sh" }}')()
        assert not r.ok and r.reason.startswith(f"cannot run {tmp_path}/missing.sh:")
        from fastka.check.probes import MiscProbe as Misc  # the loader refuses unknown users itself

        r = await Misc(str(s), 5, False, ("no-such-user-fk",))()
        assert not r.ok and r.reason.startswith(f"cannot run {s}: unknown user or group (") and \
            "no-such-user-fk" in r.reason, r
    run(main())


def test_misc_arguments_without_a_shell(tmp_path):
    async def main():
        out = tmp_path / "args"
        s = script(tmp_path, "a.sh", f'printf "%s|" "$@" > {out}')
        r = await probe_of(tmp_path, f"MISC_CHECK {{ misc_path \"{s} 'two words' $HOME ;x\" }}")()
        assert r.ok
        assert out.read_text() == "two words|$HOME|;x|"
    run(main())


def test_misc_timeout_kills_the_script(tmp_path):
    async def main():
        pidfile = tmp_path / "pid"
        s = script(tmp_path, "hang.sh", f"echo $$ > {pidfile}; sleep 30 & echo $! >> {pidfile}; wait")
        p = probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}"\n misc_timeout 1 }}')
        r = await p()
        assert r == ProbeResult(False, "hang.sh timed out after 1 s (killed)")
        pids = [int(x) for x in pidfile.read_text().split()]
        for _ in range(100):
            if not any(pid_alive(x) for x in pids):
                break
            await asyncio.sleep(0.02)
        assert not any(pid_alive(x) for x in pids), "the script and its child were killed"
    run(main())


def test_misc_timeout_defaults_to_delay_loop_and_user(tmp_path):
    ch, rs, vs, config = one_checker(tmp_path, 'MISC_CHECK { misc_path "/bin/true"\n delay_loop 7 }')
    assert make_probe(ch, rs).timeout == 7.0
    if os.geteuid() != 0:
        return

    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="fk-misc-", dir="/tmp"))  # pytest's tmp_path is root-only
    shared.chmod(0o755)

    async def main():
        out = shared / "who"
        out.touch()
        out.chmod(0o666)
        s = script(shared, "who.sh", f"echo $(id -un) $(id -gn) $(id -G) > {out}")
        r = await probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}"\n user nobody }}')()
        assert r.ok, r
        nogroup = grp.getgrgid(pwd.getpwnam("nobody").pw_gid)
        # the user's own group, none of root's
        assert out.read_text().split() == ["nobody", nogroup.gr_name, str(nogroup.gr_gid)]
        r = await probe_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}" }}',
                           top="global_defs {\n script_user nobody\n enable_script_security\n}")()
        assert r.ok and out.read_text().split()[0] == "nobody"
    try:
        run(main())
    finally:
        shutil.rmtree(shared)


# --- FILE_CHECK ------------------------------------------------------------------------------------


def file_probe(tmp_path, content, check="FILE_CHECK { track_file tf }", tf_weight="", rs_weight=10):
    f = tmp_path / "state"
    if content is ...:
        pass  # leave the file as it is
    elif content is not None:
        f.write_text(content)
    elif f.exists():
        f.unlink()
    top = f'track_file tf {{\n file "{f}"\n {tf_weight}\n}}'
    p = probe_of(tmp_path, check, top=top, rs_extra=f"weight {rs_weight}", port=80)
    assert isinstance(p, FileProbe)
    return p.read()


def test_file_check_semantics(tmp_path):
    f = tmp_path / "state"
    # weight 0: zero passes, anything else fails
    assert file_probe(tmp_path, "0\n", tf_weight="weight 0") == ProbeResult(True, "ok")
    assert file_probe(tmp_path, "3\n", tf_weight="weight 0") == ProbeResult(False, f"{f} holds 3 (non-zero: failed)")
    # default weight 1: value added to the real server's 10
    assert file_probe(tmp_path, "5") == ProbeResult(True, f"{f} holds 5")
    assert file_probe(tmp_path, "-10") == ProbeResult(False, f"{f} holds -10: weight 10 + -10 = 0, not above 0")
    # dynamic: the total is the weight asked for; the checker's weight overrides the track_file's
    assert file_probe(tmp_path, "2", "FILE_CHECK { track_file tf\n dynamic }").weight == 12
    assert file_probe(tmp_path, "2", "FILE_CHECK { track_file tf\n dynamic\n weight 3 }",
                      tf_weight="weight 100").weight == 16
    assert file_probe(tmp_path, "2", "FILE_CHECK { track_file tf\n dynamic\n weight 3 reverse }").weight == 4
    assert file_probe(tmp_path, "2", "FILE_CHECK { track_file tf\n dynamic }", tf_weight="weight 2 reverse").weight == 6
    assert not file_probe(tmp_path, "4", "FILE_CHECK { track_file tf\n dynamic }", tf_weight="weight 5 reverse").ok
    assert file_probe(tmp_path, "").ok  # empty reads as 0
    r = file_probe(tmp_path, "lots")
    assert not r.ok and r.reason == f"{f} holds 'lots', not an integer"
    r = file_probe(tmp_path, None)
    assert not r.ok and r.reason.startswith(f"cannot read {f}:")
    os.mkfifo(f)  # nobody writes: read at once as empty (0), the loop is not held
    assert file_probe(tmp_path, ...) == ProbeResult(True, f"{f} holds 0")


def test_unrunnable_checkers_are_refused(tmp_path):
    ch, rs, vs, config = one_checker(tmp_path, "FILE_CHECK { track_file nosuch }", port=80,
                                     top='track_file other { file "/x" }')
    with pytest.raises(ValueError, match="no track_file 'nosuch'"):
        make_probe(ch, rs, ProbeEnv.of(config))


def test_tls_context_defaults_verify_nothing():
    from fastka.check.probes import ssl_context

    ctx = ssl_context(None)
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
