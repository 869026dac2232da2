"""Tests marked `guest` (under tests/vm/) run inside the QEMU guest, all in one boot.

On the host, each `guest` test is replaced by a stand-in with the same node id. The
first stand-in to run boots the guest once and runs one pytest there over every
selected `guest` test; each stand-in then reports its own test's outcome from the
guest (passed, failed with the guest's traceback, skipped with its reason). Fixtures
of a `guest` test are set up in the guest only.

    @pytest.mark.guest
    def test_rr_service(tmp_path):          # runs as root on Debian's kernel, ip_vs loaded
        subprocess.run(["ipvsadm", "-A", "-t", "10.0.0.1:80", "-s", "rr"], check=True)

Where QEMU or busybox-static is missing, they skip with the reason; FASTKA_VM=0 skips
them on purpose. FASTKA_VM_TIMEOUT bounds the guest run (seconds, default 1800).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import guest

IN_GUEST = os.environ.get("FASTKA_IN_GUEST") == "1"
SELECT = "FASTKA_GUEST_SELECT"  # file of node ids the guest pytest runs
REPORT = "FASTKA_GUEST_REPORT"  # file the guest pytest writes its reports to (JSON lines)


def guest_timeout() -> float:
    return float(os.environ.get("FASTKA_VM_TIMEOUT", "1800"))


def pytest_ignore_collect(collection_path, config):
    # tests/vm/selftest holds deliberately failing guest tests for test_guest.py's run
    if collection_path.name == "selftest" and not os.environ.get("FASTKA_VM_SELFTEST"):
        return True
    return None


def skip_reason() -> str | None:
    if os.environ.get("FASTKA_VM") == "0":
        return "guest tests disabled by FASTKA_VM=0"
    return guest.missing()


@pytest.fixture(scope="session")
def vm_kernel() -> guest.Kernel:
    """The prepared guest kernel (host tests that call guest.run() directly)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    return guest.prepare()


# --- in the guest: run the selected tests, report each phase to a file ----------------


def pytest_collection_modifyitems(session, config, items):
    if IN_GUEST:
        if os.environ.get(SELECT):
            wanted = set(Path(os.environ[SELECT]).read_text().splitlines())
            keep = [i for i in items if i.nodeid in wanted]
            config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in wanted])
            items[:] = keep
        return
    for n, item in enumerate(items):
        if item.get_closest_marker("guest") is not None and not isinstance(item, GuestItem):
            items[n] = GuestItem.from_parent(item.parent, name=item.name, original=item)


def pytest_runtest_logreport(report):
    if IN_GUEST and os.environ.get(REPORT):
        reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else None
        crash = getattr(report.longrepr, "reprcrash", None)
        line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                "duration": report.duration, "longrepr": report.longreprtext, "reason": reason,
                "crash": crash.message.splitlines()[0] if crash is not None and crash.message else None,
                "wasxfail": getattr(report, "wasxfail", None)}
        with open(os.environ[REPORT], "a") as f:
            f.write(json.dumps(line) + "\n")


# --- on the host: one guest run for every guest test -------------------------------------


@dataclass
class Outcome:
    outcome: str = "passed"  # passed, failed, skipped, xfailed
    when: str = "call"  # the phase that failed or skipped
    text: str = ""
    duration: float = 0.0


@dataclass
class GuestRun:
    """The one guest run of a host session: its outcomes by node id."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    error: str | None = None  # the run failed as a whole
    skip: str | None = None  # the run cannot happen here
    seconds: float = 0.0
    boot_seconds: float = 0.0


RUN_KEY = pytest.StashKey[GuestRun]()


def guest_run(session: pytest.Session) -> GuestRun:
    stash = session.config.stash
    if RUN_KEY not in stash:
        nodeids = [i.nodeid for i in session.items if isinstance(i, GuestItem)]
        stash[RUN_KEY] = _run_in_guest(session.config.rootpath, nodeids)
    return stash[RUN_KEY]


def _run_in_guest(root: Path, nodeids: list[str]) -> GuestRun:
    reason = skip_reason()
    if reason:
        return GuestRun(skip=reason)
    files = list(dict.fromkeys(n.split("::")[0] for n in nodeids))
    with tempfile.TemporaryDirectory(prefix="fastka-guest-tests-") as exchange:
        select, report = Path(exchange, "select"), Path(exchange, "report.jsonl")
        select.write_text("\n".join(nodeids) + "\n")
        command = [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "--rootdir", str(root),
                   *files]
        try:
            result = guest.run(command, shares=[root, exchange], cwd=root, timeout=guest_timeout(),
                               env={SELECT: str(select), REPORT: str(report)},
                               output=lambda text: (sys.stdout.write(text), sys.stdout.flush()))
        except guest.GuestError as e:
            return GuestRun(error=str(e))
        lines = report.read_text().splitlines() if report.exists() else []
    run = GuestRun(seconds=result.seconds, boot_seconds=result.boot_seconds)
    if result.returncode not in (0, 1):  # 1: some tests failed; anything else: pytest itself did
        run.error = f"pytest in the guest exited with {result.returncode}\n{result.output[-4000:]}"
    for line in lines:
        r = json.loads(line)
        o = run.outcomes.setdefault(r["nodeid"], Outcome())
        o.duration += r["duration"]
        if o.outcome == "failed":
            continue
        o.when = r["when"]
        if r["outcome"] == "failed":
            o.outcome = "failed"
            o.text = f"{r['crash'] or 'failed'} (in the guest, {r['when']})\n\n{r['longrepr']}"
        elif r["outcome"] == "skipped":
            o.outcome, o.text = ("xfailed", r["wasxfail"]) if r["wasxfail"] is not None else ("skipped", r["reason"])
    if not run.error:
        missing = [n for n in nodeids if n not in run.outcomes]
        if missing:
            run.error = (f"the guest reported nothing for {len(missing)} test(s), e.g. {missing[0]}\n"
                         f"{result.output[-4000:]}")
    return run


#: marks the guest evaluates: the host must not skip, xfail or time out a stand-in by them
GUEST_ONLY_MARKS = {"skip", "skipif", "xfail", "timeout"}


class GuestItem(pytest.Item):
    """Stands in on the host for a `guest` test and reports its outcome in the guest."""

    def __init__(self, *, original: pytest.Item, **kw):
        super().__init__(**kw)
        self.own_markers = list(original.own_markers)
        self.keywords.update(original.keywords)
        # the whole guest run happens inside the first stand-in's call
        self._timeout = pytest.mark.timeout(guest_timeout() + 120).mark
        self.own_markers.append(self._timeout)
        self._reportinfo = original.reportinfo()

    def iter_markers_with_node(self, name=None):
        for node, mark in super().iter_markers_with_node(name):
            if mark.name not in GUEST_ONLY_MARKS or mark is self._timeout:
                yield node, mark

    def reportinfo(self):
        return self._reportinfo

    def _outcome(self) -> Outcome:
        run = guest_run(self.session)
        if run.skip:
            pytest.skip(run.skip)
        if run.error:
            pytest.fail(f"the guest run failed: {run.error}", pytrace=False)
        return run.outcomes[self.nodeid]

    def setup(self) -> None:
        # a failure in the guest's setup or teardown is an error here too; the rest is the call's
        o = self._outcome()
        if o.when == "setup" and o.outcome == "failed":
            pytest.fail(o.text, pytrace=False)

    def runtest(self) -> None:
        o = self._outcome()
        if o.outcome == "failed" and o.when == "call":
            pytest.fail(o.text, pytrace=False)
        if o.outcome == "skipped":
            pytest.skip(o.text)
        if o.outcome == "xfailed":
            pytest.xfail(o.text)

    def teardown(self) -> None:
        run = guest_run(self.session)
        o = run.outcomes.get(self.nodeid)
        if o is not None and o.when == "teardown" and o.outcome == "failed":
            pytest.fail(o.text, pytrace=False)
