"""keepalived's command line: -t exit statuses and diagnostics, -d, -i, -v, --signum,
flags that need the daemon, and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastka.cli import main

GOOD = """\
global_defs {
    router_id r1
}
vrrp_instance VI_1 {
    interface vrrp0
    virtual_router_id 7
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.1/32
    }
}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_config_test_clean_exits_0(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    r = run("-t", "-f", str(f))
    assert r.exit_code == 0, r.output
    assert f"{f}: configuration OK" in r.stderr


def test_config_test_reports_every_error_with_position_and_exits_3(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD.replace("priority 150", "priorty 150").replace("virtual_router_id 7", "virtual_router_id 300"))
    r = run("-t", "-f", str(f))
    assert r.exit_code == 3
    err = r.stderr
    assert f"{f}:6:23: error: virtual_router_id: 300 is out of range" in err
    assert "expected: an integer from 1 to 255" in err
    assert f"{f}:7:5: error: unknown keyword 'priorty' in vrrp_instance" in err
    assert "hint: did you mean 'priority'?" in err
    assert "2 errors" in err and "nothing would be applied" in err


def test_config_test_to_file(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text("bogus_keyword 1\n")
    out = tmp_path / "diag.txt"
    r = run(f"--config-test={out}", "-f", str(f))
    assert r.exit_code == 3
    text = out.read_text()
    assert f"{f}:1:1: error: unknown keyword 'bogus_keyword' in top level" in text


def test_missing_file_is_an_error(tmp_path):
    r = run("-t", "-f", str(tmp_path / "nope.conf"))
    assert r.exit_code == 3
    assert "nope.conf" in r.stderr


def test_dump_is_normalised_and_reparses(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    r = run("-t", "-d", "-f", str(f))
    assert r.exit_code == 0, r.stderr
    assert "vrrp_instance VI_1 {" in r.stdout and "    priority 150" in r.stdout
    g = tmp_path / "dumped.conf"
    g.write_text(r.stdout)
    r2 = run("-t", "-d", "-f", str(g))
    assert r2.exit_code == 0 and r2.stdout == r.stdout


def test_config_id_selects_conditional_lines(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD.replace("priority 150", "@a priority 200\n    @^a priority 100"))
    assert "priority 200" in run("-t", "-d", "-f", str(f), "-i", "a").stdout
    assert "priority 100" in run("-t", "-d", "-f", str(f), "--config-id", "b").stdout


def test_version_names_backend():
    r = run("-v")
    assert r.exit_code == 0
    import fastka

    assert r.stdout.startswith(f"fastka {fastka.__version__}")
    assert f"native core: {fastka.backend}" in r.stdout


@pytest.mark.parametrize("name,num", [("STOP", 15), ("RELOAD", 1), ("DATA", 10), ("STATS", 12), ("JSON", 36),
                                      ("STATS_CLEAR", 63)])
def test_signum(name, num):
    r = run(f"--signum={name}")
    assert r.exit_code == 0 and r.stdout.strip() == str(num)


def test_signum_unknown():
    r = CliRunner().invoke(main, ["--signum=BOGUS"])
    assert r.exit_code == 2 and "unknown signal function 'BOGUS'" in r.output


def fastka_exe() -> str:
    exe = shutil.which("fastka", path=os.path.dirname(sys.executable)) or shutil.which("fastka")
    assert exe, "the fastka console script is not installed"
    return exe


def test_daemon_flags_accepted_and_a_missing_interface_stops_it(tmp_path):
    """The daemon runs (tests/vrrp run it for real); here its interface does not exist:
    the VRRP child says so and the watchdog stops (a child that cannot start is not
    restarted). A real process: the watchdog forks."""
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    p = subprocess.run([fastka_exe(), "-n", "-l", "-D", "-G", "-P", "-f", str(f), "-p", str(tmp_path / "p.pid"),
                        "-r", str(tmp_path / "r.pid"), "-c", str(tmp_path / "c.pid"), "-V", "-I", "-R", "-S",
                        "local3"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert "cannot start VRRP: vrrp_instance VI_1: interface vrrp0 does not exist" in p.stderr
    assert "VRRP child exited with status 1" in p.stderr and "stopping" in p.stderr
    assert not (tmp_path / "p.pid").exists() and not (tmp_path / "r.pid").exists(), "pidfiles removed"


def test_daemon_refuses_a_config_with_errors(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD.replace("priority 150", "priority 300"))
    r = run("-n", "-l", "-G", "-f", str(f), "-p", str(tmp_path / "p.pid"))
    assert r.exit_code == 3
    assert "nothing is applied, fastka does not start" in r.stderr and not (tmp_path / "p.pid").exists()


def test_genhash_mode_wants_its_server(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    r = run("-T")  # genhash mode now: it wants its server
    assert r.exit_code == 2 and "Missing option '-s'" in r.stderr


def test_unknown_flag_is_a_usage_error():
    r = CliRunner().invoke(main, ["--no-such-flag"])
    assert r.exit_code == 2 and "No such option" in r.output


def test_keywords_lists_unsupported():
    r = run("keywords", "--unsupported")
    assert r.exit_code == 0
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows and all(row[2] in ("parsed", "ignored") for row in rows)
    assert any(row[1] == "enable_snmp_vrrp" for row in rows)
    full = run("keywords").stdout
    assert "vrrp_instance" in full and "virtual_router_id" in full and "lb_algo" in full


def test_console_script_installed(tmp_path):
    """The `fastka` entry point of the installed package, as a user runs it."""
    exe = fastka_exe()
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    p = subprocess.run([exe, "-t", "-f", str(f)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([exe, "-t", "-f", str(Path(__file__).parent.parent / "examples" / "broken.conf")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3


def test_all_config_makes_a_missing_include_an_error(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(GOOD + "include conf.d/*.conf\n")
    r = run("-t", "-f", str(f))
    assert r.exit_code == 0 and "warning" in r.stderr and "conf.d/*.conf" in r.stderr
    r = run("-t", "-e", "-f", str(f))
    assert r.exit_code == 3
    assert f"{f}:13:9: error: no file matches 'conf.d/*.conf'" in r.stderr


def test_dump_alone_dumps_then_runs_the_daemon(tmp_path):
    """keepalived -d runs the daemon after dumping the configuration (here it stops at
    the missing interface)."""
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    p = subprocess.run([fastka_exe(), "-d", "-n", "-G", "-l", "-f", str(f), "-p", str(tmp_path / "p.pid"),
                        "-r", str(tmp_path / "r.pid")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "vrrp_instance VI_1 {" in p.stdout
    assert "interface vrrp0 does not exist" in p.stderr


def test_config_test_file_appends_and_refuses_links(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text("bogus_keyword 1\n")
    log = tmp_path / "diag.txt"
    log.write_text("earlier line\n")
    assert run(f"--config-test={log}", "-f", str(f)).exit_code == 3
    text = log.read_text()
    assert text.startswith("earlier line\n") and "unknown keyword 'bogus_keyword'" in text
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    r = run(f"--config-test={link}", "-f", str(f))
    assert r.exit_code == 2 and "unable to open config-test log file" in r.stderr
    assert target.read_text() == "keep me\n"
    r = run(f"--config-test={tmp_path}/no/such/dir/x", "-f", str(f))
    assert r.exit_code == 2 and "unable to open config-test log file" in r.stderr


def test_long_lines_and_many_errors_stay_readable(tmp_path):
    f = tmp_path / "k.conf"
    f.write_text(" ".join(f"bogus{i} {{ }}" for i in range(2000)) + "\n")
    r = run("-t", "-f", str(f))
    assert r.exit_code == 3
    lines = r.stderr.splitlines()
    assert max(len(x) for x in lines) < 200
    assert "... and 1500 more diagnostics" in r.stderr
    assert "2000 errors" in lines[-1]


@pytest.mark.parametrize("args,message", [(["-S", "9"], "invalid log facility '9'"),
                                          (["-S", "local8"], "invalid log facility 'local8'"),
                                          (["-u", "abc"], "invalid umask 'abc'")])
def test_bad_flag_values_are_refused(args, message):
    r = CliRunner().invoke(main, [*args, "-t", "-f", "/nonexistent"])
    assert r.exit_code == 2 and message in r.output


def test_config_test_in_a_namespace_checks_its_interfaces(tmp_path):
    """-s NAME is entered first: -t looks for the interfaces in that namespace."""
    import subprocess
    import sys

    from .netns import ip, netns, skip_unless_netns

    skip_unless_netns()
    f = tmp_path / "k.conf"
    f.write_text(GOOD)
    with netns("fk-clins") as ns:
        ip("-n", ns, "link", "add", "vrrp0", "type", "veth", "peer", "name", "vrrp1")
        inside = subprocess.run([sys.executable, "-m", "fastka", "-s", ns, "-t", "-f", str(f)], capture_output=True,
                                text=True, timeout=60)
        outside = subprocess.run([sys.executable, "-m", "fastka", "-t", "-f", str(f)], capture_output=True,
                                 text=True, timeout=60)
    assert inside.returncode == 0 and "does not exist" not in inside.stderr, inside.stderr
    assert outside.returncode == 0 and "interface 'vrrp0' does not exist on this host" in outside.stderr
    bad = subprocess.run([sys.executable, "-m", "fastka", "-s", "fk-no-such-ns", "-t", "-f", str(f)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "network namespace fk-no-such-ns" in bad.stderr
