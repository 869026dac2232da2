"""Notify FIFOs and sync-group states without the network."""

from __future__ import annotations

import os

from fastka.vrrp.events import Fifo, group_state
from fastka.vrrp.state_machine import State


def test_group_state_follows_the_members():
    M, B, F, I = State.MASTER, State.BACKUP, State.FAULT, State.INITIALIZE
    assert group_state([M, M]) == M
    assert group_state([B, B]) == B
    assert group_state([M, B]) is None, "members on their way: no change yet"
    assert group_state([M, F]) == F
    assert group_state([I, I]) == I
    assert group_state([]) is None


def test_fifo_without_a_reader_drops_and_counts(tmp_path):
    """Nobody reads: the pipe fills, later lines are dropped and counted, nothing blocks."""
    path = tmp_path / "fifo"
    f = Fifo((str(path),), None, None)
    f.open()
    try:
        assert path.is_fifo() and f.created
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        line = 'INSTANCE "VI_1" MASTER 100'
        for _ in range(10000):  # 270 KB: four times the default pipe buffer
            f.write(line)
        assert f.dropped > 0 and f.written > 0 and f.written + f.dropped == 10000
        # a reader that comes now gets whole lines, in order
        r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            data = os.read(r, 1 << 20)
        finally:
            os.close(r)
        assert data.splitlines()[:3] == [line.encode()] * 3 and data.endswith(b"\n")
        assert len(data) == f.written * (len(line) + 1)
    finally:
        f.close()
    assert not path.exists(), "a FIFO fastka made is removed"


def test_existing_fifo_is_kept_and_a_regular_file_is_refused(tmp_path, caplog):
    path = tmp_path / "mine"
    os.mkfifo(path)
    f = Fifo((str(path),), None, None)
    f.open()
    f.write("x")
    f.close()
    assert path.is_fifo() and f.written == 1, "the user's FIFO is used and left in place"
    plain = tmp_path / "plain"
    plain.write_text("keep me")
    g = Fifo((str(plain),), None, None)
    g.open()
    g.write("x")
    g.close()
    assert plain.read_text() == "keep me" and g.written == 0
    assert "is not a FIFO" in caplog.text
