"""`fastka status`: ask a running fastka for its state and print it.

The parent (pidfile ``-p``, default /run/fastka.pid) gets keepalived's JSON signal and
passes it to its children; the VRRP child writes fastka.json, the checker child
fastka_checkers.json, into FASTKA_STATE_DIR (default /tmp: the daemon's and this
command's must agree). This waits for the files to be rewritten and prints them as a
table, or as one JSON document with ``--json``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Optional

from .daemon import DEFAULT_PID
from .state import CHECKERS_JSON, JSON_SIGNAL, VRRP_JSON, state_file

GRACE = 0.5  # after the first file, how long the other child gets


class StatusError(Exception):
    pass


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime_ns / 1e9
    except FileNotFoundError:
        return 0.0


def collect(pid_file: Optional[str] = None, timeout: float = 5.0) -> dict[str, Any]:
    """{"vrrp": ..., "checkers": ...} of the fastka whose parent pid is in pid_file."""
    path = pid_file or DEFAULT_PID
    try:
        with open(path) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        raise StatusError(f"fastka is not running (no pid in {path})") from None
    files = {"vrrp": state_file(VRRP_JSON), "checkers": state_file(CHECKERS_JSON)}
    before = {k: _mtime(p) for k, p in files.items()}
    try:
        os.kill(pid, JSON_SIGNAL)
    except ProcessLookupError:
        raise StatusError(f"fastka is not running (pid {pid} in {path} is gone)") from None
    end = time.monotonic() + timeout
    first: Optional[float] = None
    while time.monotonic() < end:
        fresh = [k for k, p in files.items() if _mtime(p) > before[k]]
        if len(fresh) == len(files) or (first is not None and time.monotonic() - first > GRACE):
            break
        if fresh and first is None:
            first = time.monotonic()
        time.sleep(0.02)
    out: dict[str, Any] = {}
    for k, p in files.items():
        if _mtime(p) > before[k]:
            with open(p) as f:
                out[k] = json.load(f)
    if not out:
        raise StatusError(f"fastka (pid {pid}) did not answer within {timeout:g} s "
                          f"(state files are looked for in {os.path.dirname(files['vrrp'])})")
    return out


def render(state: dict[str, Any]) -> str:
    lines = []
    vrrp = state.get("vrrp")
    if vrrp is not None:
        lines.append(f"VRRP ({len(vrrp['instances'])} instances, {vrrp.get('loop', '?')} loop)")
        for i in vrrp["instances"]:
            held = "VIPs held" if i.get("holds_vips") else ""
            lines.append(f"  {i['name']:<20} {i['state']:<7} priority {i['priority']:<3} VRID {i['vrid']:<3} "
                         f"{i['interface']:<10} IPv{i['family']} v{i['version']}  {held}".rstrip())
    checkers = state.get("checkers")
    if checkers is not None:
        vss = checkers["virtual_servers"]
        lines.append(f"Checkers and IPVS ({len(vss)} virtual servers)")
        for vs in vss:
            q = "up" if vs["quorum_up"] else "DOWN"
            lines.append(f"  virtual server {vs['virtual_server']}: quorum {q} "
                         f"(alive weight {vs['alive_weight']}, quorum {vs['quorum']})"
                         + (", checkers suspended (ha_suspend: address not here)" if vs.get("suspended") else ""))
            for rs in vs["real_servers"]:
                alive = "alive" if rs["alive"] else ("down (inhibited)" if rs["inhibit_on_failure"] else "down")
                lines.append(f"    {rs['address']:<24} {alive:<16} weight {rs['weight']}")
                for c in rs["checkers"]:
                    last = f": {c['last']}" if c.get("last") and not c["up"] else ""
                    lines.append(f"      {'up  ' if c['up'] else 'DOWN'} {c['what'].split(' of ')[0]} "
                                 f"({c['checks']} checks, {c['failures']} failed){last}")
    return "\n".join(lines)
