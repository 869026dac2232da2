"""Every keyword keepalived.conf(5) documents is known to fastka.

The man page of Debian's keepalived 2.2.7 is rendered with man(1); every word that
opens an indented line of its configuration examples and looks like a keyword
(has an underscore, or is upper case like TCP_CHECK) must be in fastka's keyword
table, but for the few placeholders the page uses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fastka.config.keywords import keyword_rows

MAN_PAGE = Path("/usr/share/man/man5/keepalived.conf.5.gz")

# words of the page's examples that are not keywords: placeholders and example names,
# and `ip_proto`, a virtual_rules option (keepalived 2.2.7 itself reads `ipproto`;
# fastka reads both, as options of the rule line)
PLACEHOLDERS = {"CHECKER_TYPE", "VI_1", "VI_2", "ip_address", "ip_proto"}


def rendered() -> str:
    if not MAN_PAGE.exists():
        pytest.skip(f"{MAN_PAGE} is not installed (scripts/setup installs Debian's keepalived)")
    if shutil.which("man") is None:
        pytest.skip("man(1) is not installed (scripts/setup installs man-db)")
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0")
    out = subprocess.run(["man", "-l", str(MAN_PAGE)], capture_output=True, text=True, env=env, timeout=60,
                         check=True).stdout
    return re.sub(r".\x08", "", out)  # overstrike bold/underline


def test_every_documented_keyword_is_known():
    text = rendered()
    known = {row[1] for row in keyword_rows()}
    documented = set()
    for line in text.splitlines():
        m = re.match(r"^ {11,}([A-Za-z][A-Za-z0-9_-]*)(\s|$)", line)
        if m and ("_" in m[1] or m[1].isupper()):
            documented.add(m[1])
    assert len(documented) > 200, "the man page did not render as expected"
    assert sorted(documented - known - PLACEHOLDERS) == []
