"""Programming a large IPVS table from empty, inside the QEMU guest (Debian's kernel with
IPVS): fastka vs `ipvsadm --restore` of the same table vs keepalived loading the same
configuration, all in one guest boot, so the ratios compare like with like.

    python bench/ipvs_load.py                      # 2,000 services x 20 destinations
    python bench/ipvs_load.py --services 200 --dests 10 --skip-keepalived

Contenders, each starting from an empty table:
- ipvsadm: `ipvsadm --restore` of the table's rules (one process, one request per line);
- fastka (library): the configuration loaded by fastka.config, then
  IpvsManager.start() (read the kernel's table, send the difference in batches);
  reported as load and program times;
- fastka -C: the whole daemon (watchdog + checker child) from exec until the kernel
  table holds every destination, polled from /proc/net/ip_vs;
- keepalived -C: the same for Debian's keepalived (`keepalived -C -n -f CONF`);
- for both daemons then: a reload (SIGHUP) of the configuration with every weight
  changed, timed until the kernel has every new weight; and SIGTERM until the table
  is empty.

Under software emulation absolute times mean little (Python runs ~25x slower than on
the host); the ratios in the same boot are the result. Real servers have no checker,
so both daemons put every one in at start; with --checkers each has a TCP_CHECK
(connect_ip 127.0.0.1 and the port of a listener in the guest that accepts and
closes, delay_loop 600 s so the checks themselves cost little), as a real table
has: a reload then also carries each checker over.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def addresses(services: int, dests: int) -> tuple[list[str], list[str]]:
    vips = [f"10.{100 + i // 250}.{i % 250}.1" for i in range(services)]
    rips = [f"192.168.{j // 250}.{j % 250 + 1}" for j in range(dests)]
    return vips, rips


def config_text(services: int, dests: int, check_port: int | None = None) -> str:
    vips, rips = addresses(services, dests)
    out = ["global_defs {\n  router_id bench\n}\n"]
    check = "" if check_port is None else ("    TCP_CHECK {\n      connect_ip 127.0.0.1\n"
                                           f"      connect_port {check_port}\n      connect_timeout 5\n    }}\n")
    for v in vips:
        out.append(f"virtual_server {v} 80 {{\n  lb_algo wrr\n  lb_kind DR\n  protocol TCP\n")
        if check_port is not None:
            out.append("  delay_loop 600\n")
        for r in rips:
            out.append(f"  real_server {r} 80 {{\n    weight 1\n{check}  }}\n")
        out.append("}\n")
    return "".join(out)


def check_listener() -> tuple[subprocess.Popen, int]:
    """A process that accepts on 127.0.0.1 and closes: what every TCP_CHECK connects to."""
    code = ("import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(4096)\n"
            "print(s.getsockname()[1],flush=True)\nwhile True:\n c,_=s.accept()\n c.close()\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    return p, int(p.stdout.readline())


def restore_text(services: int, dests: int) -> str:
    vips, rips = addresses(services, dests)
    out = []
    for v in vips:
        out.append(f"-A -t {v}:80 -s wrr\n")
        out.extend(f"-a -t {v}:80 -r {r}:80 -g -w 1\n" for r in rips)
    return "".join(out)


def dest_count(weight: int | None = None) -> int:
    """Destinations in the kernel's table (with that weight, when given). Cheap: the
    poll must not steal the guest's one CPU from the daemon it watches."""
    with open("/proc/net/ip_vs", "rb") as f:
        data = f.read()
    if weight is None:
        return data.count(b"  -> ") - data.count(b"  -> RemoteAddress")
    # counted by bytes.count over the kernel's fixed columns ("%-7s %-6d": forward, weight):
    # a Python loop over 40,000 lines took about a second of the guest's one CPU per poll,
    # and a regex over them about half of one, from the daemon being timed
    return sum(data.count(b"%-7s %-6d " % (kind, weight)) for kind in (b"Masq", b"Local", b"Route", b"Tunnel"))


def clear() -> None:
    subprocess.run(["ipvsadm", "-C"], check=True)


def fresh_ipvs() -> None:
    """Reload the IPVS modules: a clean kernel for the next contender. Destinations of
    deleted services wait in the kernel's trash list (ip_vs_ctl.c) and every new
    destination is looked up there first, so a contender that follows another's
    40,000 deletes pays a scan of them per add (measured: fastka -C 21 s on a fresh
    module, 51-71 s after the others)."""
    with open("/proc/modules") as f:
        mods = [line.split()[0] for line in f if line.startswith("ip_vs_")]
    subprocess.run(["rmmod", *mods, "ip_vs"], check=True)
    subprocess.run(["modprobe", "-a", "ip_vs", *mods], check=True)


def wait_full(want: int, proc: subprocess.Popen, timeout: float, weight: int | None = None) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if dest_count(weight) >= want:
            return time.monotonic()
        if proc.poll() is not None:
            return None
        time.sleep(0.5)
    return None


def daemon_run(argv: list[str], conf: Path, want: int, timeout: float
               ) -> tuple[float | None, float | None, float | None]:
    """(seconds until the table is full, seconds from SIGHUP with every weight changed
    until the kernel has them, seconds from SIGTERM until the table is empty)."""
    fresh_ipvs()
    original = conf.read_text()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    full = wait_full(want, proc, timeout)
    reload = None
    if full is not None:
        conf.write_text(original.replace("weight 1", "weight 2"))
        t1 = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        done = wait_full(want, proc, timeout, weight=2)
        reload = done - t1 if done is not None else None
        conf.write_text(original)
    t1 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 60  # a child may still be removing after the parent exits
    while dest_count() and time.monotonic() < deadline:
        time.sleep(0.5)
    empty = time.monotonic() - t1 if dest_count() == 0 else None
    clear()
    return (full - t0 if full is not None else None), reload, empty


def library(conf: str, want: int) -> int:
    """fastka as a library, phase by phase: import, load the configuration, build the
    wanted table, program it; then a reload's phases (the file with every weight changed:
    load, then take_over: the difference sent); remove it. The times as JSON on stdout."""
    t0 = time.monotonic()
    from fastka.check import daemon  # noqa: F401  (what the checker child imports)
    from fastka.check import ipvs_table as tbl
    from fastka.check.ipvs_manager import IpvsManager
    from fastka.config import load_file
    from fastka.wire.ipvs import IpvsSocket

    out: dict[str, float] = {"import": time.monotonic() - t0}

    def manager(path: str, sock: IpvsSocket) -> IpvsManager:
        t = time.monotonic()
        cfg = load_file(path, check_system=False).raise_for_errors()
        gc.freeze()  # as the daemon does after loading (fastka.core.daemon.run)
        out["load" if "load" not in out else "reload load"] = time.monotonic() - t
        t = time.monotonic()
        mgr = IpvsManager(cfg, sock)
        for pool in mgr.pools:
            for i in range(len(pool.servers)):
                pool.add_checker(i, "x", True)
        out["manager" if "manager" not in out else "reload manager"] = time.monotonic() - t
        return mgr

    with IpvsSocket() as sock:
        mgr = manager(conf, sock)
        t = time.monotonic()
        want_table = mgr.wanted()
        tbl.diff(want_table, tbl.Table())
        out["table and diff"] = time.monotonic() - t
        t = time.monotonic()
        mgr.start()
        out["program"] = time.monotonic() - t
        assert dest_count() == want, "fastka did not load the whole table"
        changed = Path(conf).with_suffix(".weights")
        changed.write_text(Path(conf).read_text().replace("weight 1", "weight 2"))
        new = manager(str(changed), sock)
        t = time.monotonic()
        new.take_over(mgr)
        out["reload take_over"] = time.monotonic() - t
        assert dest_count(2) == want, "the reload did not change every weight"
        t = time.monotonic()
        new.stop()
        out["remove"] = time.monotonic() - t
    print(json.dumps(out))
    return 0


def inside(args: argparse.Namespace) -> int:
    n, m = args.services, args.dests
    want = n * m
    work = Path(tempfile.mkdtemp(prefix="ipvs-bench-"))
    conf = work / "keepalived.conf"
    listener, port = check_listener() if args.checkers else (None, None)
    conf.write_text(config_text(n, m, port))
    rules = restore_text(n, m)
    results: dict[str, str] = {}
    times: dict[str, float] = {}
    reloads: dict[str, float] = {}

    fresh_ipvs()
    t0 = time.monotonic()
    subprocess.run(["ipvsadm", "--restore"], input=rules, text=True, check=True)
    times["ipvsadm --restore"] = time.monotonic() - t0
    assert dest_count() == want, "ipvsadm did not load the whole table"
    clear()

    # the library run in a process of its own: its memory (the model of 40,000 real
    # servers) is given back before the daemons run
    if args.checkers:
        # the library run makes no checkers: it measures the same file without them
        (work / "plain.conf").write_text(config_text(n, m))
    fresh_ipvs()
    lib_conf = work / "plain.conf" if args.checkers else conf
    lib = subprocess.run([sys.executable, __file__, "--library", str(lib_conf), "--services", str(n),
                          "--dests", str(m)], capture_output=True, text=True, check=True)
    lib_times = json.loads(lib.stdout)
    times["fastka program (library)"] = lib_times["program"]
    times["fastka load config (library)"] = lib_times["load"]
    for k, v in lib_times.items():
        results[f"fastka library: {k}"] = f"{v:.2f} s"
    clear()

    fastka = shutil.which("fastka", path=os.path.dirname(sys.executable)) or "fastka"
    daemons = [("fastka", [fastka, "-C", "-n", "-G", "-f", str(conf), "-p", str(work / "f.pid"),
                           "-c", str(work / "fc.pid")])]
    if not args.skip_keepalived and shutil.which("keepalived"):
        daemons.append(("keepalived", ["keepalived", "-C", "-n", "-G", "-f", str(conf), "-p", str(work / "k.pid"),
                                       "-c", str(work / "kc.pid")]))
    for name, argv in daemons:
        full, reload, empty = daemon_run(argv, conf, want, args.timeout)
        if reload is not None:
            reloads[name] = reload
        if full is not None:
            times[f"{name} -C (daemon, to full table)"] = full
            results[f"{name} -C stop, to empty"] = f"{empty:.2f} s" if empty is not None else "not empty"
        else:
            results[f"{name} -C"] = f"did not fill the table in {args.timeout:.0f} s"

    if listener is not None:
        listener.kill()
        listener.wait()
    base = times["ipvsadm --restore"]
    print(f"\n{n} services x {m} destinations = {want} destinations, in the guest (TCG emulation)"
          + (", a TCP_CHECK on each real server (the daemons)" if args.checkers else ""))
    for k, v in times.items():
        print(f"  {k:42s} {v:8.2f} s   {base / v:6.2f}x ipvsadm --restore")
    kd = times.get("keepalived -C (daemon, to full table)")
    fd = times.get("fastka -C (daemon, to full table)")
    if kd and fd:
        print(f"  fastka -C vs keepalived -C: {kd / fd:.2f}x faster")
    for k, v in reloads.items():
        print(f"  {k + ' reload (SIGHUP, every weight changed)':42s} {v:8.2f} s")
    if len(reloads) == 2:
        print(f"  fastka reload vs keepalived reload: {reloads['keepalived'] / reloads['fastka']:.2f}x faster")
    for k, v in results.items():
        print(f"  {k:42s} {v}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--services", type=int, default=2000)
    p.add_argument("--dests", type=int, default=20)
    p.add_argument("--timeout", type=float, default=600, help="per daemon run, seconds")
    p.add_argument("--skip-keepalived", action="store_true")
    p.add_argument("--checkers", action="store_true", help="a TCP_CHECK on every real server (daemon runs)")
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--library", metavar="CONF", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.library:
        return library(args.library, args.services * args.dests)
    if args.inside:
        return inside(args)
    sys.path.insert(0, str(ROOT))
    from tests.vm import guest

    reason = guest.missing()
    if reason:
        print(f"cannot run the guest: {reason}", file=sys.stderr)
        return 2
    argv = [sys.executable, str(Path(__file__).resolve()), "--inside", "--services", str(args.services),
            "--dests", str(args.dests), "--timeout", str(args.timeout)]
    if args.skip_keepalived:
        argv.append("--skip-keepalived")
    if args.checkers:
        argv.append("--checkers")
    r = guest.run(argv, shares=[ROOT], timeout=args.timeout * 4 + 600, memory_mb=2048,
                  output=lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
