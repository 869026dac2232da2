"""Links the guest tests make: a veth pair with an address, removed afterwards."""

from __future__ import annotations

import subprocess
import uuid
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def veth(prefix: str, address: str) -> Iterator[str]:
    """A veth pair, both ends up, ``address`` on the first; its name (unique)."""
    dev = f"{prefix}{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", address, "dev", dev], check=True)
        for d in (dev, dev + "p"):
            subprocess.run(["ip", "link", "set", d, "up"], check=True)
        yield dev
    finally:
        subprocess.run(["ip", "link", "del", dev], check=False)
