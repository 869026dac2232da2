"""ha_suspend's view of the host: the addresses of a namespace the test made, followed
through rtnetlink while `ip` adds and removes them."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from fastka.check.suspend import LocalAddresses, suspended
from tests.netns import in_netns, ip, netns, skip_unless_netns


def test_suspended_needs_one_local_service_address():
    local = frozenset({"10.0.0.1", "fd00::1"})
    assert suspended(["10.0.0.9"], local)
    assert not suspended(["10.0.0.9", "10.0.0.1"], local)  # a group: one address here is enough
    assert not suspended(["fd00:0:0::0001"], local)  # spelled differently, same address
    assert not suspended([None], local)  # fwmark: never suspended
    assert not suspended([], local)


@pytest.mark.root
def test_local_addresses_follow_adds_and_deletes():
    skip_unless_netns()
    with netns("fksus") as ns:
        ip("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        ip("-n", ns, "link", "set", "v0", "up")

        async def scenario() -> list[bool]:
            changed = asyncio.Event()
            watch = LocalAddresses(changed.set)
            watch.start()
            seen = ["10.9.0.1" in watch.addresses]

            async def step(*args: str, want: bool) -> None:
                changed.clear()
                await asyncio.to_thread(subprocess.run, ["ip", "-n", ns, *args], check=True, timeout=10)
                await asyncio.wait_for(changed.wait(), 10)
                seen.append("10.9.0.1" in watch.addresses)

            try:
                await step("addr", "add", "10.9.0.1/32", "dev", "v0", want=True)
                # a burst: 200 addresses come as events; the set is read again, not per event
                before = watch.refreshes
                args = "\n".join(f"addr add 10.9.1.{i}/32 dev v0" for i in range(1, 201))
                await asyncio.to_thread(subprocess.run, ["ip", "-n", ns, "-batch", "-"], input=args,
                                        text=True, check=True, timeout=10)
                for _ in range(100):
                    if "10.9.1.200" in watch.addresses:
                        break
                    await asyncio.sleep(0.05)
                seen.append("10.9.1.200" in watch.addresses)
                seen.append(watch.refreshes - before < 200)
                await step("addr", "del", "10.9.0.1/32", "dev", "v0", want=False)
            finally:
                watch.close()
            return seen

        assert in_netns(ns, lambda: asyncio.run(scenario())) == [False, True, True, True, False]
