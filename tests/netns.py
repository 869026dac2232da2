"""Network namespaces for tests: unique names, always removed, bounded in time."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import threading
import time
import uuid
from typing import Any, Callable, Iterator, TypeVar

import pytest

T = TypeVar("T")


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


_CLONE_NEWNET = 0x40000000


def in_netns(name: str, fn: Callable[[], T], timeout: float = 30) -> T:
    """fn() run by a thread that has joined namespace `name` (setns affects only the
    calling thread); sockets it creates stay in that namespace wherever they are used."""
    libc = ctypes.CDLL(None, use_errno=True)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({name}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e

    t = threading.Thread(target=run, name=f"netns-{name}", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"in_netns({name}) did not finish in {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def ifindex(ns: str, dev: str) -> int:
    return int(subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/ifindex"],
                              check=True, capture_output=True, text=True, timeout=10).stdout)


def wait_link_local(ns: str, dev: str, timeout: float = 10) -> str:
    """The IPv6 link-local address of dev once it has one (IPv6 does not deliver on an
    interface before it has); TimeoutError after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        out = ip("-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link")
        for word in out.split():
            if word.startswith("fe80:"):
                return word.split("/")[0]
        if time.monotonic() > end:
            raise TimeoutError(f"{ns}/{dev} has no IPv6 link-local address after {timeout} s")
        time.sleep(0.05)
