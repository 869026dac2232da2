"""Corpora: keepalived's own sample configurations (Debian's keepalived package) and
fastka's corpus of syntax features (tests/config/corpus).

- every file loads, with exactly the errors it really has;
- the normalised dump re-parses to an equal model (round trip);
- fastka's corpus dumps exactly as its reviewed golden file;
- keepalived itself (`keepalived -t`, in a namespace of the test's own with the
  interface the files name) accepts both the corpus and fastka's dump of it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fastka.config import dump, load_file, load_text

from ..netns import ip, netns, skip_unless_netns

SAMPLES = Path("/usr/share/doc/keepalived/samples")
CORPUS = Path(__file__).parent / "corpus"

# Mistakes in keepalived's own samples, which `keepalived -t` reports too.
SAMPLE_ERRORS = {
    "keepalived.conf.vrrp.lvs_syncd": [
        (4, 3, "unknown keyword 'VI_2' in vrrp_sync_group"),
        (5, 3, "unknown keyword 'VI_3' in vrrp_sync_group"),
    ],
    "keepalived.conf.vrrp.rules": [
        (11, 8, "static_rules: '192.168.100.' is not an IP address"),
        (26, 12, "virtual_rules: '192.168.200.' is not an IP address"),
    ],
}
SAMPLE_CONFIG_ID = {"keepalived.conf.conditional_conf": "high"}


def sample_files() -> list:
    files = sorted(SAMPLES.glob("keepalived.conf.*")) if SAMPLES.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"keepalived's samples are not installed ({SAMPLES}); scripts/setup installs Debian's keepalived"))]
    return [pytest.param(f, id=f.name) for f in files]


@pytest.mark.parametrize("path", sample_files())
def test_keepalived_samples_load_and_round_trip(path):
    r = load_file(path, config_id=SAMPLE_CONFIG_ID.get(path.name, "fastka-test"), check_system=False)
    got = [(e.pos.line, e.pos.col, e.message) for e in r.diagnostics.errors]
    assert got == SAMPLE_ERRORS.get(path.name, [])
    assert all(e.pos.file == str(path) for e in r.diagnostics.errors)
    text = dump(r.config)
    again = load_text(text, filename="dump")
    assert not again.diagnostics.has_errors, [str(e) for e in again.diagnostics.errors]
    assert again.config == r.config
    assert dump(again.config) == text


CORPUS_CASES = [("syntax", None), ("include", None), ("macros", None), ("sequences", None), ("aliases", None),
                ("conditionals", "lb1"), ("conditionals", "lb2")]


def golden_path(name: str, cid) -> Path:
    return CORPUS / (f"{name}.{cid}.dump" if cid else f"{name}.dump")


@pytest.mark.parametrize("name,cid", CORPUS_CASES)
def test_corpus_matches_golden_dump(name, cid):
    r = load_file(CORPUS / f"{name}.conf", config_id=cid or "lb1", check_system=False)
    assert not r.diagnostics.has_errors, [str(e) for e in r.diagnostics.errors]
    text = dump(r.config)
    assert text == golden_path(name, cid).read_text()
    again = load_text(text, filename="dump")
    assert again.config == r.config and not again.diagnostics.has_errors


# keepalived's own complaints that are not about fastka's output
KEEPALIVED_NOISE = re.compile(r"nb_get_retry is deprecated|^\s*$")


def keepalived_t(ns: str, path: Path, cid: str) -> tuple[int, list[str]]:
    p = subprocess.run(["ip", "netns", "exec", ns, "keepalived", "-t", "-f", str(path), "-i", cid],
                       capture_output=True, text=True, timeout=60)
    msgs = [re.sub(r"^\(.*?: Line \d+\) ", "", m) for m in (p.stdout + p.stderr).splitlines()]
    return p.returncode, [m for m in msgs if not KEEPALIVED_NOISE.search(m)]


@pytest.mark.parametrize("name,cid", CORPUS_CASES)
def test_keepalived_accepts_corpus_and_fastka_dump(name, cid, tmp_path):
    """Oracle: the syntax fastka accepts, and what it writes, is keepalived's."""
    skip_unless_netns()
    if shutil.which("keepalived") is None:
        pytest.skip("Debian's keepalived is not installed (scripts/setup installs it)")
    dumped = tmp_path / f"{name}.conf"
    dumped.write_text(golden_path(name, cid).read_text())
    with netns("fk-corpus") as ns:
        ip("-n", ns, "link", "add", "vrrp0", "type", "veth", "peer", "name", "vrrp1")
        ip("-n", ns, "link", "set", "vrrp0", "up")
        rc, msgs = keepalived_t(ns, CORPUS / f"{name}.conf", cid or "lb1")
        assert msgs == [], msgs
        rc2, msgs2 = keepalived_t(ns, dumped, cid or "lb1")
        assert msgs2 == [], msgs2
        assert rc2 == 0, "keepalived -t must accept what fastka writes"
