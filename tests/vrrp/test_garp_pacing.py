"""GARP / NA pacing arithmetic, on a manual clock: which frames wait, how many leave
per timer, that a released instance's frames are dropped. (The real frames and their
spacing on the wire: tests/vrrp/test_netns_features.py.) The announcer here records
what it is asked to send; the timers are the loop's LoopExtras, run by hand."""

from __future__ import annotations

import socket

from fastka.config import load_text
from fastka.vrrp.garp_pacing import Pacer
from fastka.vrrp.loopext import LoopExtras


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, list, list]] = []
        self.now = 0

    def send(self, arp, na) -> int:
        self.sent.append((self.now, list(arp), list(na)))
        return len(arp) + len(na)


def make(conf: str):
    r = load_text(conf, filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    rec, extras = Recorder(), LoopExtras()
    return Pacer(r.config, rec, extras.call_at, lambda: rec.now), rec, extras


def run(rec: Recorder, extras: LoopExtras, until_ns: int, step_ns: int) -> None:
    while rec.now < until_ns:
        rec.now += step_ns
        extras.run_due(rec.now)


LO = socket.if_nametoindex("lo")


def test_no_interval_sends_at_once():
    p, rec, _ = make("global_defs {\n router_id x\n}\n")
    assert not p.active
    frames = [(b"f%d" % k, LO) for k in range(3)]
    p.send(frames, [])
    assert rec.sent == [(0, frames, [])]


def test_garp_group_paces_one_frame_per_interval_and_na_stays_unpaced():
    p, rec, extras = make("garp_group {\n garp_interval 0.01\n interface lo\n}\n")
    frames = [(b"f%d" % k, LO) for k in range(4)]
    na = [(b"n", LO)]
    p.send(frames, na)
    assert rec.sent[0] == (0, [], na), "the NA is not paced (no gna_interval in the group)"
    run(rec, extras, 100_000_000, 1_000_000)
    sends = [(t, a) for t, a, _ in rec.sent[1:]]
    assert [a for _, a in sends] == [[f] for f in frames]
    assert [t for t, _ in sends] == [0, 10_000_000, 20_000_000, 30_000_000]


def test_short_interval_goes_in_batches_at_the_configured_rate():
    p, rec, extras = make("global_defs {\n vrrp_garp_interval 0.0001\n}\n")  # 100 us: 10 per ms
    frames = [(b"f%d" % k, LO) for k in range(25)]
    p.send(frames, [])
    run(rec, extras, 5_000_000, 1_000_000)
    sizes = [len(a) for _, a, _ in rec.sent]
    assert sum(sizes) == 25 and sizes[0] == 1 and max(sizes) <= 11, sizes


def test_a_released_instance_frames_are_dropped():
    p, rec, extras = make("global_defs {\n vrrp_garp_interval 0.01\n}\n")
    mine = [(b"m%d" % k, LO) for k in range(3)]
    other = [(b"o", LO)]
    p.send(mine + other, [])
    p.cancel(mine, [])
    run(rec, extras, 50_000_000, 1_000_000)
    assert [a for _, a, _ in rec.sent] == [[mine[0]], [other[0]]], "the first went at once, the rest dropped"
