"""Socket buffer sizes beyond net.core.{r,w}mem_max.

Netlink sockets that receive a failover's acknowledgements or events, and the VRRP
sockets that receive thousands of adverts per drain, need more than the default cap:
SO_RCVBUFFORCE / SO_SNDBUFFORCE (CAP_NET_ADMIN) set it whatever the cap; without the
capability the plain option gets what the cap allows.
"""

from __future__ import annotations

import socket

SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33


def grow(sock: socket.socket, size: int, *, send: bool = False) -> None:
    """Ask for a receive (or send) buffer of size bytes, forced where allowed."""
    forced, plain = (SO_SNDBUFFORCE, socket.SO_SNDBUF) if send else (SO_RCVBUFFORCE, socket.SO_RCVBUF)
    try:
        sock.setsockopt(socket.SOL_SOCKET, forced, size)
    except OSError:  # not CAP_NET_ADMIN: capped by net.core.{r,w}mem_max
        sock.setsockopt(socket.SOL_SOCKET, plain, size)
