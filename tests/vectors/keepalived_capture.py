"""Adverts from a real keepalived, captured on the wire: the test vectors of the codec.

Debian's keepalived runs in a namespace of its own with one veth whose peer sits in a
second namespace, where a packet socket records every frame to a pcap file. The
configuration (CONFIG) holds one instance per wire format fastka must read: VRRPv2
without authentication, with PASS, with AH (multicast and unicast), VRRPv3 over IPv4
(multicast and unicast) and over IPv6 (multicast and unicast). Each starts as BACKUP,
becomes master when no peer answers, sends adverts, and sends priority 0 when
keepalived is stopped.

    python -m tests.vectors.keepalived_capture [OUT.pcap]

regenerates the stored capture (needs root and keepalived); the tests read the stored
file and also take a fresh capture when they can.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..netns import ip, netns

HERE = Path(__file__).resolve().parent
STORED = HERE / "keepalived-2.2.7.pcap"

# Addresses on the wire (the peer namespace holds .2 / ::2 so unicast adverts resolve).
KA_MAC = "02:00:00:00:00:0a"
KA_LL = "fe80::ff:fe00:a"  # from KA_MAC, EUI-64
KA4, PEER4 = "192.0.2.1", "192.0.2.2"
KA6, PEER6 = "2001:db8::1", "2001:db8::2"
PASSWORD = b"secret12"

# vrid -> what the instance is; the tests check each fact against what was captured.
INSTANCES = {
    10: dict(version=2, family=4, auth="none", unicast=False, vips=("192.0.2.100",)),
    11: dict(version=2, family=4, auth="pass", unicast=False, vips=("192.0.2.110", "192.0.2.111")),
    12: dict(version=2, family=4, auth="ah", unicast=False, vips=("192.0.2.120", "192.0.2.121")),
    13: dict(version=2, family=4, auth="ah", unicast=True, vips=("192.0.2.130",)),
    20: dict(version=3, family=4, auth="none", unicast=False, vips=("192.0.2.200", "192.0.2.201")),
    21: dict(version=3, family=4, auth="none", unicast=True, vips=("192.0.2.210",)),
    30: dict(version=3, family=6, auth="none", unicast=False, vips=("2001:db8::30", "2001:db8::31")),
    31: dict(version=3, family=6, auth="none", unicast=True, vips=("2001:db8::40",)),
}
PRIORITY = 150
V3_INTERVAL = "0.5"  # v3 instances; v2 has whole seconds only


def config() -> str:
    out = ["global_defs {", "    router_id fastka-vectors", "}"]
    for vrid, i in INSTANCES.items():
        v2 = i["version"] == 2
        body = [
            "    state BACKUP",
            "    interface va",
            f"    virtual_router_id {vrid}",
            f"    priority {PRIORITY}",
            f"    advert_int {1 if v2 else V3_INTERVAL}",
        ]
        if not v2:
            body.append("    version 3")
        if i["auth"] != "none":
            body += ["    authentication {", f"        auth_type {i['auth'].upper()}",
                     f"        auth_pass {PASSWORD.decode()}", "    }"]
        if i["unicast"]:
            src, peer = (KA4, PEER4) if i["family"] == 4 else (KA6, PEER6)
            body += [f"    unicast_src_ip {src}", "    unicast_peer {", f"        {peer}", "    }"]
        body += ["    virtual_ipaddress {", *(f"        {v}" for v in i["vips"]), "    }"]
        out += [f"vrrp_instance VI_{vrid} {{", *body, "}"]
    return "\n".join(out) + "\n"


# --- pcap ------------------------------------------------------------------------

_PCAP_HDR = struct.Struct("<IHHiIII")
_REC = struct.Struct("<IIII")


def write_pcap(path: Path, frames: list[tuple[float, bytes]]) -> None:
    with open(path, "wb") as f:
        f.write(_PCAP_HDR.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for t, d in frames:
            f.write(_REC.pack(int(t), int((t % 1) * 1e6), len(d), len(d)) + d)


def read_pcap(path: Path) -> list[tuple[float, bytes]]:
    data = path.read_bytes()
    magic, _, _, _, _, _, link = _PCAP_HDR.unpack_from(data)
    if magic != 0xA1B2C3D4 or link != 1:
        raise ValueError(f"{path}: not a little-endian Ethernet pcap")
    frames, off = [], _PCAP_HDR.size
    while off + _REC.size <= len(data):
        sec, usec, n, _ = _REC.unpack_from(data, off)
        off += _REC.size
        frames.append((sec + usec / 1e6, data[off:off + n]))
        off += n
    return frames


# --- capture -----------------------------------------------------------------------

_RECORDER = """
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("vb", 0))
s.settimeout(0.2)
end = time.monotonic() + float(sys.argv[2])
out = open(sys.argv[1], "wb")
print("ready", flush=True)
while time.monotonic() < end:
    try:
        d = s.recv(65535)
    except socket.timeout:
        continue
    if len(d) > 23 and ((d[12:14] == b"\\x08\\x00" and d[23] in (51, 112))
                        or (d[12:14] == b"\\x86\\xdd" and d[20] == 112)):
        t = time.time()
        out.write(struct.pack("<dI", t, len(d)) + d)
        out.flush()
"""


def capture(seconds: float = 6.0, stop_after: float = 4.5) -> list[tuple[float, bytes]]:
    """Run keepalived with config() for stop_after seconds, then stop it (SIGTERM: the
    priority-0 adverts); return the VRRP / AH frames seen in `seconds`."""
    with tempfile.TemporaryDirectory() as tmp, netns("fk-kav") as ka, netns("fk-kap") as peer:
        t = Path(tmp)
        ip("link", "add", "va", "netns", ka, "type", "veth", "peer", "name", "vb", "netns", peer)
        for ns, dev, mac, a4, a6 in ((ka, "va", KA_MAC, KA4, KA6), (peer, "vb", None, PEER4, PEER6)):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_dad=0"],
                           check=True, timeout=10)
            if mac:
                ip("-n", ns, "link", "set", dev, "address", mac)
            ip("-n", ns, "addr", "add", f"{a4}/24", "dev", dev)
            ip("-n", ns, "addr", "add", f"{a6}/64", "dev", dev, "nodad")
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        (t / "keepalived.conf").write_text(config())
        raw = t / "frames"
        rec = subprocess.Popen(["ip", "netns", "exec", peer, sys.executable, "-c", _RECORDER, str(raw), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert rec.stdout is not None and rec.stdout.readline().strip() == "ready"
            ka_proc = subprocess.Popen(
                ["ip", "netns", "exec", ka, "keepalived", "-n", "-l", "-P", "-f", str(t / "keepalived.conf"),
                 "-p", str(t / "ka.pid"), "-r", str(t / "vrrp.pid"), "--no-syslog"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                time.sleep(stop_after)
            finally:
                ka_proc.send_signal(signal.SIGTERM)
                try:
                    ka_proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(ka_proc.pid, signal.SIGKILL)
                    ka_proc.wait(5)
            rec.wait(seconds + 10)
        finally:
            if rec.poll() is None:
                rec.kill()
                rec.wait(5)
        data, frames, off = raw.read_bytes(), [], 0
        while off + 12 <= len(data):
            ts, n = struct.unpack_from("<dI", data, off)
            frames.append((ts, data[off + 12:off + 12 + n]))
            off += 12 + n
        return frames


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else STORED
    frames = capture()
    write_pcap(out, frames)
    print(f"{out}: {len(frames)} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
