"""SMTP alerts (keepalived's ``smtp_alert``): an e-mail per real-server, quorum or VRRP
state change, to every ``notification_email`` through ``smtp_server``.

global_defs gives the server (``smtp_server HOST [PORT]``, port 25 by default), the
recipients, ``notification_email_from`` (default ``keepalived@<host name>``, as
keepalived, so existing mail filters keep matching), ``smtp_helo_name`` (default the
host name), ``smtp_connect_timeout`` (default 30 s) and ``router_id`` (the subject's
prefix, default the host name). Subjects read as keepalived's:

    [lb1] Realserver [10.0.0.2]:tcp:80 - DOWN
    [lb1] Virtual Server [10.0.0.1]:tcp:80 - UP
    [lb1] VRRP Instance VI_1 - Entering MASTER state

Mail never delays the loops: :meth:`SmtpAlerts.alert` queues the message and one
background thread talks SMTP (stdlib smtplib). A server that is down or refuses is
logged and the message dropped; a full queue (``QUEUE``) drops and counts.
"""

from __future__ import annotations

import email.message
import email.utils
import logging
import queue
import smtplib
import socket
import threading
from typing import Any, Optional

log = logging.getLogger("fastka")

QUEUE = 1000
DEFAULT_PORT = 25
DEFAULT_TIMEOUT = 30


class SmtpAlerts:
    def __init__(self, global_defs: Any, *, hostname: Optional[str] = None) -> None:
        host = hostname or socket.gethostname()
        gd = global_defs
        self.server = getattr(gd, "smtp_server", None)
        self.to: list[str] = list(getattr(gd, "notification_email", None) or [])
        self.sender = getattr(gd, "notification_email_from", None) or f"keepalived@{host}"
        self.helo = getattr(gd, "smtp_helo_name", None) or host
        self.timeout = getattr(gd, "smtp_connect_timeout", None) or DEFAULT_TIMEOUT
        self.router_id = getattr(gd, "router_id", None) or host
        self.sent = self.failed = self.dropped = 0
        self._queue: queue.Queue[Optional[email.message.EmailMessage]] = queue.Queue(QUEUE)
        self._thread: Optional[threading.Thread] = None

    @property
    def enabled(self) -> bool:
        """A server and at least one recipient are configured."""
        return self.server is not None and bool(self.to)

    def alert(self, subject: str, body: str) -> None:
        """Queue one alert (``[router_id] subject``); returns at once."""
        if not self.enabled:
            return
        msg = email.message.EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = f"[{self.router_id}] {subject}"
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg["Message-ID"] = email.utils.make_msgid(domain=self.helo)
        msg.set_content(body + "\n")
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            self.dropped += 1
            log.warning("SMTP alert dropped (%d queued): %s", QUEUE, subject)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="smtp-alerts", daemon=True)
            self._thread.start()

    def realserver(self, label: str, up: bool, reason: str) -> None:
        self.alert(f"Realserver {label} - {'UP' if up else 'DOWN'}",
                   f"=> {'CHECK succeed' if up else 'CHECK failed'} on service : {reason} <=")

    def virtual_server(self, label: str, up: bool) -> None:
        self.alert(f"Virtual Server {label} - {'UP' if up else 'DOWN'}",
                   f"=> {'gained' if up else 'lost'} quorum <=")

    def vrrp(self, what: str, name: str, state: str) -> None:
        """what: "VRRP Instance" or "VRRP Group"."""
        self.alert(f"{what} {name} - Entering {state} state", f"=> {what} is now {state} <=")

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (waiting at most timeout seconds), then stop the thread."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        assert self.server is not None
        while True:
            msg = self._queue.get()
            if msg is None:
                return
            try:
                with smtplib.SMTP(self.server.host, self.server.port or DEFAULT_PORT, local_hostname=self.helo,
                                  timeout=self.timeout) as smtp:
                    smtp.send_message(msg, from_addr=self.sender, to_addrs=self.to)
                self.sent += 1
            except (OSError, smtplib.SMTPException) as e:
                self.failed += 1
                log.error("SMTP alert to %s:%d not sent (%s): %s", self.server.host,
                          self.server.port or DEFAULT_PORT, msg["Subject"], e)
