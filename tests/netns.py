"""Network namespaces for tests: unique names, always removed, bounded in time."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from typing import Iterator

import pytest


def skip_unless_netns() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2's ip")


def ip(*args: str, timeout: float = 10) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=timeout).stdout


@contextlib.contextmanager
def netns(prefix: str = "fk") -> Iterator[str]:
    """A fresh namespace named <prefix>-<random>, deleted on exit whatever happens."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
