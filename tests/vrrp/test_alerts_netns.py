"""VRRP smtp_alert: a real SMTP server (aiosmtpd) in a node's namespace receives a
mail per transition of an instance and of a sync group with smtp_alert."""

from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller

from ..netns import in_netns
from .cluster import instance, lan, wait_for

pytestmark = pytest.mark.root


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.subjects.append(email.message_from_bytes(envelope.content)["Subject"])
        return "250 OK"


def free_port(ns: str, addr: str) -> int:
    def pick() -> int:
        with socket.socket() as s:
            s.bind((addr, 0))
            return s.getsockname()[1]
    return in_netns(ns, pick)


def test_transitions_are_mailed(tmp_path):
    with lan(tmp_path, ["a", "b"]) as net:
        a, b = net.nodes
        inbox = Inbox()
        port = free_port(a.ns, a.ipv4)
        # the controller's server thread is started from a thread inside a's namespace,
        # so its socket lives there (new threads inherit their creator's namespace)
        ctl = Controller(inbox, hostname=a.ipv4, port=port)
        in_netns(a.ns, ctl.start)
        try:
            def conf(rid: str, prio: int) -> str:
                return (f"global_defs {{\n  router_id {rid}\n  notification_email {{\n    ops@example.com\n  }}\n"
                        f"  smtp_server {a.ipv4} {port}\n}}\n"
                        "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  smtp_alert\n}\n"
                        + instance(priority=prio, extra="smtp_alert"))
            a.start(conf("r1", 200))
            b.start(conf("r2", 100))
            wait_for(lambda: net.holders("10.99.0.100") == ["a"], 10, "a to be master")
            wait_for(lambda: {"[r1] VRRP Instance VI_1 - Entering MASTER state",
                              "[r1] VRRP Group G - Entering MASTER state",
                              "[r2] VRRP Instance VI_1 - Entering BACKUP state",
                              "[r2] VRRP Group G - Entering BACKUP state"} <= set(inbox.subjects), 10,
                     f"the transition mails (got {inbox.subjects})")
            a.kill()
            wait_for(lambda: "[r2] VRRP Instance VI_1 - Entering MASTER state" in inbox.subjects, 10,
                     "b's MASTER mail")
            assert b.stop() == 0
        finally:
            ctl.stop()
