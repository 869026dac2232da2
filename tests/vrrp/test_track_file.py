"""track_file without the network: the values keepalived reads, the weight rules, and
the inotify watch (a real inotify descriptor on a temporary directory)."""

from __future__ import annotations

import os
import select

from fastka.config import load_text
from fastka.vrrp.track import Tracked, effective
from fastka.vrrp.track_file import FileTracker, effect, read_value


def test_values_as_keepalived_reads_them(tmp_path):
    f = tmp_path / "v"
    for text, want in (("3\n", 3), ("  -12 trailing", -12), ("+4", 4), ("abc", 0), ("", 0), ("99999999999", 2**31 - 1)):
        f.write_text(text)
        assert read_value(str(f)) == want, text
    assert read_value(str(tmp_path / "missing")) == 0


def test_weight_rules():
    assert effect(0, 0, False) == (0, False)
    assert effect(5, 0, False) == (0, True), "weight 0: non-zero is a FAULT"
    assert effect(-1, 0, True) == (0, True)
    assert effect(3, 10, False) == (30, False)
    assert effect(3, 10, True) == (-30, False), "reverse negates"
    assert effect(-2, 10, False) == (-20, False)
    assert effect(-254, 1, False) == (0, True), "below -253: FAULT"
    assert effect(-253, 1, False) == (-253, False)
    t = [Tracked("file", "a", 10, False), Tracked("file", "b", 0, False), Tracked("script", "s", -5, False)]
    assert effective(100, t, {("file", "a"): 2, ("file", "b"): 0, ("script", "s"): False}) == (115, [])
    assert effective(100, t, {("file", "a"): 2, ("file", "b"): 1, ("script", "s"): True}) == (120, ["file b"])


def _wait_changed(tr: FileTracker) -> list:
    r, _, _ = select.select([tr.fileno()], [], [], 5)
    assert r, "no inotify event within 5 s"
    return tr.changed()


def test_inotify_sees_writes_renames_and_removals(tmp_path):
    a, b = tmp_path / "a", tmp_path / "d" / "b"
    conf = (f'track_file A {{\n file "{a}"\n weight 2 reverse\n init_file 5\n}}\n'
            f'track_file B {{\n file "{b}"\n init_file 1 overwrite\n}}\n'
            f'track_file UNUSED {{\n file "{tmp_path / "u"}"\n}}\n')
    b.parent.mkdir()
    b.write_text("9\n")
    r = load_text(conf, filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    tr = FileTracker(r.config, {"A", "B"})
    assert set(tr.files) == {"A", "B"}
    assert (tr.files["A"].weight, tr.files["A"].reverse, tr.files["B"].weight) == (2, True, 1)
    tr.start()
    try:
        assert a.read_text() == "5\n" and b.read_text() == "1\n", "init_file (overwrite replaces)"
        assert (tr.files["A"].value, tr.files["B"].value) == (5, 1)
        assert not (tmp_path / "u").exists()
        assert tr.changed() == [], "nothing pending"
        a.write_text("7\n")
        assert [t.name for t in _wait_changed(tr)] == ["A"] and tr.files["A"].value == 7
        tmp = tmp_path / "x"
        tmp.write_text("-3\n")
        os.rename(tmp, b)
        got = _wait_changed(tr)
        while not got:  # the write of x itself comes first (a file nobody tracks)
            got = _wait_changed(tr)
        assert [t.name for t in got] == ["B"] and tr.files["B"].value == -3
        b.unlink()
        assert [t.name for t in _wait_changed(tr)] == ["B"] and tr.files["B"].value == 0
        (tmp_path / "other").write_text("1")
        assert _wait_changed(tr) == [], "another file in the directory changes nothing"
    finally:
        tr.close()


def test_missing_directory_is_logged_and_reads_0(tmp_path, caplog):
    conf = f'track_file A {{\n file "{tmp_path / "no" / "a"}"\n}}\n'
    r = load_text(conf, filename="k.conf")
    tr = FileTracker(r.config, {"A"})
    tr.start()
    try:
        assert tr.files["A"].value == 0
        assert "cannot watch directory" in caplog.text
    finally:
        tr.close()
