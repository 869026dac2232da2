"""``ha_suspend``: a virtual server's checkers run only while its address is local.

keepalived.conf(5): "If VS IP address is not set, suspend healthchecker's activity".
A director that is VRRP backup does not hold the virtual address, so its checks of
the real servers would be wasted; they resume when the address arrives (VRRP master,
or anyone adding it). A suspended checker keeps its last verdict, so the kernel's
table does not change while the checks are off.

The checker process subscribes to rtnetlink's address groups (only when a virtual
server asks for ha_suspend, as keepalived does), and after each burst of events
re-reads the namespace's addresses once: a failover that adds 10,000 VIPs costs one
dump, not 10,000 parses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Callable, Iterable, Optional

from ..sockbuf import grow
from ..vrrp.netlink import NETLINK_ROUTE, dump_addresses

log = logging.getLogger("fastka.check")

RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100


def canonical(addr: str) -> str:
    """One spelling per address (``fd00::0001`` and ``fd00::1`` are the same)."""
    return str(ipaddress.ip_address(addr))


class LocalAddresses:
    """The addresses of this network namespace, kept current from rtnetlink events.

    ``on_change`` runs (in the loop) after the set changed; bursts of events are
    coalesced into one re-read."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                                  NETLINK_ROUTE)
        self.sock.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))  # subscribed before the dump: nothing missed
        grow(self.sock, 1 << 20)
        self.addresses: frozenset[str] = self._read()
        self.refreshes = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._due = False

    @staticmethod
    def _read() -> frozenset[str]:
        return frozenset(canonical(a[2]) for a in dump_addresses())

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._readable)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._loop = None
        self.sock.close()

    def _readable(self) -> None:
        while True:  # drain: the events only say "look again"
            try:
                if not self.sock.recv(1 << 16):
                    break
            except BlockingIOError:
                break
            except OSError:  # ENOBUFS: events were lost, the re-read below covers them
                break
        if not self._due and self._loop is not None:
            self._due = True
            self._loop.call_soon(self._refresh)

    def _refresh(self) -> None:
        self._due = False
        try:
            now = self._read()
        except OSError as e:
            log.error("ha_suspend: cannot read this host's addresses: %s", e)
            return
        self.refreshes += 1
        if now != self.addresses:
            self.addresses = now
            self.on_change()


def suspended(addresses: Iterable[Optional[str]], local: frozenset[str]) -> bool:
    """A virtual server with these service addresses is suspended when none of them is
    local. A service without an address (fwmark) is never suspended: keepalived clears
    ha_suspend there."""
    wanted = [canonical(a) for a in addresses if a]
    return bool(wanted) and not any(a in local for a in wanted)
