"""SMTP alerts against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import logging
import socket
import time

from aiosmtpd.controller import Controller

from fastka.config import load_text
from fastka.core.alerts import SmtpAlerts


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alerts_for(port: int, extra: str = "") -> SmtpAlerts:
    r = load_text(f"""
global_defs {{
  notification_email {{
    ops@example.com
    oncall@example.com
  }}
  notification_email_from lb@example.com
  smtp_server 127.0.0.1 {port}
  smtp_helo_name lb1.example.com
  smtp_connect_timeout 3
  router_id LB1
  {extra}
}}
""")
    assert r.ok, [str(d) for d in r.diagnostics]
    return SmtpAlerts(r.config.global_defs, hostname="testhost")


def wait(cond, timeout=10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_alerts_reach_a_real_smtp_server_with_keepalived_subjects():
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        a = alerts_for(port)
        assert a.enabled
        a.realserver("[10.0.0.2]:tcp:80", False, "connection refused")
        a.virtual_server("[10.0.0.1]:tcp:80", True)
        a.vrrp("VRRP Instance", "VI_1", "MASTER")
        a.close()
        wait(lambda: len(inbox.messages) == 3)
    finally:
        ctl.stop()
    subjects = [m["Subject"] for _, _, m in inbox.messages]
    assert subjects == ["[LB1] Realserver [10.0.0.2]:tcp:80 - DOWN", "[LB1] Virtual Server [10.0.0.1]:tcp:80 - UP",
                        "[LB1] VRRP Instance VI_1 - Entering MASTER state"]
    sender, rcpts, first = inbox.messages[0]
    assert sender == "lb@example.com" and rcpts == ["ops@example.com", "oncall@example.com"]
    assert "connection refused" in first.get_payload() and first["Date"]
    assert a.sent == 3 and a.failed == 0


def test_a_server_that_is_down_is_logged_and_survived(caplog):
    port = free_port()  # nothing listens there
    a = alerts_for(port)
    with caplog.at_level(logging.ERROR, logger="fastka"):
        a.realserver("[10.0.0.2]:tcp:80", True, "ok")
        a.close()
    assert a.failed == 1 and a.sent == 0
    assert any("SMTP alert to 127.0.0.1" in r.getMessage() and "not sent" in r.getMessage() for r in caplog.records)


def test_without_server_or_recipients_nothing_is_sent():
    r = load_text("global_defs {\n  router_id X\n}\n")
    a = SmtpAlerts(r.config.global_defs, hostname="h")
    assert not a.enabled
    a.realserver("x", True, "y")
    assert a._thread is None and a.sent == 0
    assert a.sender == "keepalived@h" and a.helo == "h"
