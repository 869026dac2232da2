"""Batched rtnetlink address work (fastka.vrrp.netlink) against the kernel, in a
namespace of the test's own: thousands of VIPs in one batch, added and removed, the
expected failures silent, the unexpected ones reported with their request."""

from __future__ import annotations

import errno
import socket

import pytest

from fastka.vrrp import netlink

from ..netns import ifindex, in_netns, ip, netns, skip_unless_netns

pytestmark = pytest.mark.timeout(60)


def addresses(ns: str) -> set[str]:
    out = ip("-n", ns, "-o", "addr", "show", "dev", "v0")
    return {line.split()[3] for line in out.splitlines()}


@pytest.fixture
def ns():
    skip_unless_netns()
    with netns("fk-nl") as name:
        ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        ip("-n", name, "link", "set", "v0", "up")
        yield name


def test_thousands_of_vips_in_one_batch(ns):
    index = ifindex(ns, "v0")
    vips = [netlink.Address(index, f"10.{i // 250}.{i % 250}.1", 32) for i in range(3000)]
    vips += [netlink.Address(index, f"fd00::{i:x}", 128, flags=netlink.IFA_F_NODAD) for i in range(1, 501)]
    add = (netlink.RTM_NEWADDR, *netlink.pack_addresses(netlink.RTM_NEWADDR, vips, 1))
    delete = (netlink.RTM_DELADDR, *netlink.pack_addresses(netlink.RTM_DELADDR, vips, 10_000))
    assert len(add[1]) > 3 * netlink.CHUNK, "the batch spans several sends"
    rtnl = in_netns(ns, netlink.Rtnl)
    try:
        assert rtnl.execute([add]) == []
        have = addresses(ns)
        assert {f"{v.address}/{v.prefixlen}" for v in vips} <= have
        assert rtnl.execute([add]) == [], "adding what is there replaces it: no error"
        assert rtnl.execute([delete]) == []
        assert not any(a.startswith("10.") or a.startswith("fd00::") for a in addresses(ns))
        assert rtnl.execute([delete]) == [], "deleting what is gone is not an error"
    finally:
        rtnl.close()


def test_unexpected_errors_name_their_request(ns):
    index = ifindex(ns, "v0")
    good = netlink.Address(index, "192.0.2.1", 32, label="v0:vip")
    bad = netlink.Address(index + 100, "192.0.2.2", 32)  # no such interface
    data, seqs = netlink.pack_addresses(netlink.RTM_NEWADDR, [good, bad], 7)
    rtnl = in_netns(ns, netlink.Rtnl)
    try:
        assert rtnl.execute([(netlink.RTM_NEWADDR, data, seqs)]) == [(8, errno.ENODEV)]
    finally:
        rtnl.close()
    assert "192.0.2.1/32" in addresses(ns)
    assert "v0:vip" in ip("-n", ns, "addr", "show", "dev", "v0")


def test_unacked_requests_in_one_send_report_only_failures(ns):
    index = ifindex(ns, "v0")
    vips = [netlink.Address(index, f"10.{i // 250}.{i % 250}.1", 32) for i in range(3000)]
    add, _ = netlink.pack_addresses(netlink.RTM_NEWADDR, vips, 1)
    delete, _ = netlink.pack_addresses(netlink.RTM_DELADDR, vips, 10_000)
    bad, _ = netlink.pack_addresses(netlink.RTM_NEWADDR, [netlink.Address(index + 100, "192.0.2.2", 32)], 20_000)
    assert len(add) > 3 * netlink.CHUNK
    sender = in_netns(ns, netlink.UnackedSender)
    try:
        # without NLM_F_ACK nothing answers success; the requests are done when the send returns
        assert sender.send(netlink.without_ack(add)) == []
        assert {f"{v.address}/32" for v in vips} <= addresses(ns)
        assert sender.send(netlink.without_ack(add)) == [], "adding what is there replaces it: no error"
        # a failure in the middle is reported with its seq, the requests after it are carried out
        mixed = netlink.without_ack(delete[: len(delete) // 2] + bad + delete[len(delete) // 2:])
        assert sender.send(mixed) == [(20_000, errno.ENODEV)]
        assert not any(a.startswith("10.") for a in addresses(ns))
        assert sender.send(netlink.without_ack(delete)) == [], "deleting what is gone is not an error"
        assert sender.send(b"") == []
    finally:
        sender.close()


def test_without_ack_clears_only_the_ack_flag():
    data, _ = netlink.pack_addresses(netlink.RTM_NEWADDR, [netlink.Address(1, "192.0.2.1", 32),
                                                           netlink.Address(1, "2001:db8::1", 128)], 5)
    out = netlink.without_ack(data)
    assert len(out) == len(data)
    off = 0
    while off < len(data):
        n, kind, flags, seq, pid = netlink._NLMSG.unpack_from(data, off)
        assert netlink._NLMSG.unpack_from(out, off) == (n, kind, flags & ~netlink.NLM_F_ACK, seq, pid)
        assert flags & netlink.NLM_F_ACK and out[off + 16:off + n] == data[off + 16:off + n]
        off += n
    with pytest.raises(ValueError):
        netlink.without_ack(bytes(20))


def test_options_reach_the_kernel(ns):
    index = ifindex(ns, "v0")
    a = netlink.Address(index, "198.51.100.7", 24, scope=netlink.SCOPES["link"], broadcast="198.51.100.255",
                        label="v0:x")
    b = netlink.Address(index, "fd01::7", 64, flags=netlink.IFA_F_NODAD | netlink.IFA_F_NOPREFIXROUTE,
                        preferred_lft=0)
    rtnl = in_netns(ns, netlink.Rtnl)
    try:
        for v in (a, b):
            assert rtnl.execute([(netlink.RTM_NEWADDR, *netlink.pack_addresses(netlink.RTM_NEWADDR, [v], 1))]) == []
    finally:
        rtnl.close()
    out = ip("-n", ns, "addr", "show", "dev", "v0")
    assert "inet 198.51.100.7/24 brd 198.51.100.255 scope link v0:x" in out
    line6 = next(line for line in out.splitlines() if "fd01::7/64" in line)
    assert "noprefixroute" in line6 and "deprecated" in line6
    dumped = in_netns(ns, netlink.dump_addresses)
    assert (index, 4, "198.51.100.7", 24, netlink.SCOPES["link"]) in dumped
    assert any(d[2] == "fd01::7" and d[1] == 6 for d in dumped)
    assert in_netns(ns, lambda: netlink.mac_address("v0")) == bytes.fromhex(
        ip("-n", ns, "-o", "link", "show", "v0").split("link/ether ")[1].split()[0].replace(":", ""))
    assert b.family == socket.AF_INET6


def test_link_is_up_means_up_with_carrier(ns):
    assert in_netns(ns, lambda: netlink.link_is_up("v0")) is False, "v0 is up, but its peer v1 is down: no carrier"
    ip("-n", ns, "link", "set", "v1", "up")
    assert in_netns(ns, lambda: netlink.link_is_up("v0")) is True
    ip("-n", ns, "link", "set", "v0", "down")
    assert in_netns(ns, lambda: netlink.link_is_up("v0")) is False
    assert in_netns(ns, lambda: netlink.link_is_up("nonexistent0")) is False
