"""A small QEMU guest, booted from Debian's kernel (which has IPVS), that runs one
command as root and hands back its output and exit code.

The host kernel has no IPVS; Debian's kernel package ships it as modules. `prepare()`
fetches that package with `apt-get download` (never installs it), unpacks it into a
cache directory, runs `depmod -b`, takes the uncompressed ELF kernel out of vmlinuz
(it has a PVH entry, so QEMU's microvm machine boots it directly) and builds a busybox
initramfs that loads virtio, 9p, overlay and IPVS with its schedulers. `run()` boots
that under software emulation (TCG), with the host's root shared read-only over
virtio-9p under a tmpfs overlay, and chosen host directories (the project) shared
read-write at the same paths, then runs the command with a plain PATH: the running
interpreter's bin first, then the host's usual directories (busybox stays inside the
initramfs and shadows nothing).

Environment: FASTKA_VM_CACHE (cache directory, default ~/.cache/fastka-vm),
FASTKA_VM_DEBUG=1 (kernel messages on the console).
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import lzma
import os
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

META_PACKAGE = "linux-image-amd64"
QEMU = "qemu-system-x86_64"

#: loaded at boot, with their dependencies, in this order; missing ones are skipped
BOOT_MODULES = ("virtio_mmio", "virtio_rng", "9pnet_virtio", "9p", "overlay", "ip_vs")
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos")

#: a guest path that never exists on the host: where the per-run control share goes
CONTROL = "/fastka-vm"


class GuestError(RuntimeError):
    """The guest could not be prepared, or did not run the command to its end."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message + (f"\n--- guest output (tail) ---\n{output[-4000:]}" if output else ""))
        self.output = output


class GuestTimeout(GuestError):
    pass


@dataclass(frozen=True)
class Kernel:
    """A prepared kernel: the ELF to boot, its initramfs, its module tree."""

    version: str  # uname -r of the guest, e.g. 6.1.0-56-amd64
    package: str  # the Debian package and version it came from
    vmlinux: Path
    initramfs: Path
    modules: Path  # .../lib/modules/<version>, depmod'ed
    schedulers: tuple[str, ...]  # IPVS schedulers the initramfs loads


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str  # the command's stdout and stderr, interleaved as the console saw them
    seconds: float  # wall time from starting QEMU to its exit
    boot_seconds: float  # guest uptime when the command started


def cache_dir() -> Path:
    return Path(os.environ.get("FASTKA_VM_CACHE") or Path.home() / ".cache" / "fastka-vm")


def missing() -> str | None:
    """Why a guest cannot run here, or None when it can."""
    for tool, package in ((QEMU, "qemu-system-x86"), ("busybox", "busybox-static"), ("depmod", "kmod"),
                          ("modprobe", "kmod"), ("apt-get", "apt"), ("apt-cache", "apt"), ("dpkg", "dpkg")):
        if _find(tool) is None:
            return f"needs {tool} (Debian package {package}; scripts/setup installs it)"
    with open(_which("busybox"), "rb") as f:
        if b"/ld-linux" in f.read(4096):  # it has an ELF interpreter: dynamically linked
            return "busybox is dynamically linked; the initramfs needs Debian's busybox-static"
    return None


def _find(tool: str) -> str | None:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _which(tool: str) -> str:
    found = _find(tool)
    if found is None:
        raise GuestError(f"{tool} not found")
    return found


# --- preparing the kernel ---------------------------------------------------------------


def _kernel_package() -> tuple[str, str]:
    """(package, version) that linux-image-amd64's candidate depends on."""
    out = subprocess.run(["apt-cache", "show", "--no-all-versions", META_PACKAGE],
                         capture_output=True, text=True, timeout=60)
    m = re.search(r"^Depends:\s*(linux-image-[^\s,(]+)\s*\(=\s*([^)\s]+)\)", out.stdout, re.M)
    if out.returncode != 0 or m is None:
        raise GuestError(f"apt-cache does not know {META_PACKAGE} (run apt-get update?): {out.stderr.strip()}")
    return m.group(1), m.group(2)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def prepare(cache: Path | None = None, log: Callable[[str], None] = lambda s: None) -> Kernel:
    """The prepared kernel for the current linux-image-amd64, built once and cached.

    Without apt lists (no `apt-get update` yet) the newest kernel already in the cache
    is used."""
    cache = cache or cache_dir()
    if cache in _prepared:
        return _prepared[cache]
    kernel = _prepared[cache] = _prepare(cache, log)
    return kernel


_prepared: dict[Path, Kernel] = {}


def _prepare(cache: Path, log: Callable[[str], None]) -> Kernel:
    with _locked(cache / ".lock"):
        try:
            package, version = _kernel_package()
        except GuestError:
            ready = sorted(cache.glob("*/ready"), key=lambda p: p.stat().st_mtime)
            if not ready:
                raise
            return _load(ready[-1].parent)
        target = cache / f"{package}_{version}"
        if (target / "ready").exists():
            return _load(target)
        log(f"preparing {package} {version} in {target}")
        if target.exists():
            shutil.rmtree(target)
        work = Path(tempfile.mkdtemp(prefix=".prepare-", dir=cache))
        try:
            _build(work, package, version, log)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for other in cache.iterdir():  # one kernel at a time: each is ~400 MB unpacked
            if other.is_dir() and other != target and not other.name.startswith("."):
                shutil.rmtree(other, ignore_errors=True)
        return _load(target)


def _load(target: Path) -> Kernel:
    fields = dict(line.split("=", 1) for line in (target / "ready").read_text().splitlines() if "=" in line)
    return Kernel(version=fields["version"], package=fields["package"], vmlinux=target / "vmlinux",
                  initramfs=target / "initramfs.cpio", modules=target / "root" / "lib" / "modules" / fields["version"],
                  schedulers=tuple(fields["schedulers"].split()))


def _run(cmd: Sequence[str], **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)
    if p.returncode != 0:
        raise GuestError(f"{shlex.join(cmd)} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return p


def _build(work: Path, package: str, version: str, log: Callable[[str], None]) -> None:
    t0 = time.monotonic()
    # -o APT::Sandbox::User=root: the _apt user may not write into the cache
    _run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", f"{package}={version}"], cwd=work)
    (deb,) = work.glob("*.deb")
    root = work / "root"
    _run(["dpkg", "-x", str(deb), str(root)])
    deb.unlink()
    (kver,) = [d.name for d in (root / "lib" / "modules").iterdir()]
    _run([_which("depmod"), "-b", str(root), kver])
    (work / "vmlinux").write_bytes(extract_elf((root / "boot" / f"vmlinuz-{kver}").read_bytes()))
    shutil.rmtree(root / "usr", ignore_errors=True)
    for f in (root / "boot").iterdir():
        if not f.name.startswith("config-"):
            f.unlink()
    modules, schedulers = _boot_modules(root, kver)
    (work / "initramfs.cpio").write_bytes(_initramfs(modules))
    (work / "ready").write_text(f"package={package} {version}\nversion={kver}\nschedulers={' '.join(schedulers)}\n")
    log(f"prepared kernel {kver} in {time.monotonic() - t0:.1f}s")


def extract_elf(bzimage: bytes) -> bytes:
    """The uncompressed ELF kernel inside a bzImage (x86 boot protocol >= 2.08)."""
    if bzimage[0x202:0x206] != b"HdrS" or struct.unpack_from("<H", bzimage, 0x206)[0] < 0x208:
        raise GuestError("not a bzImage with boot protocol 2.08 or later")
    setup_sects = bzimage[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bzimage, 0x248)
    start = (setup_sects + 1) * 512 + offset
    payload = bzimage[start:start + length]
    if payload.startswith(b"\xfd7zXZ\x00"):
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        elf = zlib.decompressobj(wbits=31).decompress(payload)
    elif payload.startswith(b"\x5d\x00\x00"):
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(payload)
    else:
        raise GuestError(f"kernel payload compressed in a way this harness cannot read: {payload[:6].hex()}")
    if not elf.startswith(b"\x7fELF"):
        raise GuestError("the bzImage payload is not an ELF kernel")
    return elf


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".gz":
        return zlib.decompress(data, wbits=31)
    if path.suffix == ".zst":
        raise GuestError(f"{path.name}: zstd-compressed modules are not supported yet")
    return data


def _boot_modules(root: Path, kver: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(initramfs file name, module bytes) in load order, and the schedulers found."""
    wanted = list(BOOT_MODULES) + [f"ip_vs_{s}" for s in SCHEDULERS]
    order: list[Path] = []
    schedulers = []
    for name in wanted:
        p = subprocess.run([_which("modprobe"), "-d", str(root), "-S", kver, "--show-depends", name],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            continue  # not in this kernel (ip_vs_twos in 6.1, say)
        if name.startswith("ip_vs_"):
            schedulers.append(name.removeprefix("ip_vs_"))
        for line in p.stdout.splitlines():
            words = line.split()
            if words and words[0] == "insmod" and Path(words[1]) not in order:
                order.append(Path(words[1]))
    out = []
    for i, path in enumerate(order):
        stem = path.name.split(".ko")[0]
        out.append((f"{i:03d}-{stem}.ko", _module_bytes(path)))
    return out, schedulers


# The guest's /init: load the modules, mount the control share, run its stage2 script.
INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /proc /sys /dev
/bin/busybox --install -s
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
stty -F /dev/console -onlcr 2>/dev/null
for m in $(ls /modules); do
  insmod /modules/$m 2>/dev/null || echo "fastka-vm: insmod $m failed" >&2
done
mkdir -p /fastka-vm
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 control /fastka-vm; then
  sh /fastka-vm/stage2
fi
echo "fastka-vm: the guest could not be set up (see above)" >&2
reboot -f
"""


def _initramfs(modules: list[tuple[str, bytes]]) -> bytes:
    busybox = Path(_which("busybox")).read_bytes()
    files: list[tuple[str, int, bytes]] = [
        ("bin", 0o040755, b""), ("modules", 0o040755, b""),
        ("bin/busybox", 0o100755, busybox), ("init", 0o100755, INIT.encode()),
    ]
    files += [(f"modules/{name}", 0o100644, data) for name, data in modules]
    return _cpio(files)


def _cpio(files: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive (what the kernel unpacks as initramfs)."""
    out = bytearray()

    def entry(ino: int, name: str, mode: int, data: bytes) -> None:
        raw = name.encode() + b"\0"
        out.extend(b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0)))
        out.extend(raw + b"\0" * (-(110 + len(raw)) % 4))
        out.extend(data + b"\0" * (-len(data) % 4))

    for ino, (name, mode, data) in enumerate(files, 1):
        entry(ino, name, mode, data)
    entry(0, "TRAILER!!!", 0, b"")
    return bytes(out)


# --- running a command ------------------------------------------------------------------


def host_tsc_khz() -> int:
    """The host's TSC rate: under TCG the guest reads the host's TSC, and telling the
    guest kernel its rate avoids a calibration that hangs about one boot in six."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        log = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
        for pattern in (r"Refined TSC clocksource calibration: ([\d.]+) MHz", r"tsc: Detected ([\d.]+) MHz"):
            found = re.findall(pattern, log)
            if found:
                return round(float(found[-1]) * 1000)
    m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text(), re.M)
    if m is None:
        raise GuestError("cannot tell the host's TSC rate")
    return round(float(m.group(1)) * 1000)


def guest_path(python: str | None = None) -> str:
    """PATH in the guest: the interpreter's own bin (a venv's), the real interpreter's
    bin (never a pyenv shim), then the usual directories."""
    python = python or sys.executable
    dirs = [os.path.dirname(os.path.abspath(python)), os.path.dirname(os.path.realpath(python)),
            "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    return ":".join(dict.fromkeys(dirs))


STAGE2 = r"""# stage 2, run by the initramfs's busybox sh
set -u
mkdir -p /host /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 host /host || exit
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot || exit
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/lib/modules/{kver}
mount --bind /host{modules} /newroot/lib/modules/{kver}
{shares}
mkdir -p /newroot{control}
mount --bind /fastka-vm /newroot{control}
# modules the kernel asks for load with the host's kmod from the guest's module tree
printf '#!/bin/sh\nexec chroot /newroot /sbin/modprobe "$@"\n' > /modprobe-helper
chmod +x /modprobe-helper
echo /modprobe-helper > /proc/sys/kernel/modprobe
hostname fastka-vm
ip link set lo up
cut -d' ' -f1 /proc/uptime > /fastka-vm/booted
chroot /newroot /bin/sh {control}/command </dev/null
echo $? > /fastka-vm/rc
echo 0 > /proc/sys/kernel/printk  # no "reboot: Restarting system" after the output
sync
reboot -f
"""

SHARE = ("mkdir -p /newroot{path}\n"
         "mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144 {tag} /newroot{path} || exit")


GUEST_TMPFS = ("/tmp", "/run", "/dev")  # fresh in the guest: host paths under them are not there


def _default_cwd(shares: Sequence[os.PathLike | str]) -> Path:
    """Here, if the guest can see it (under a share, or outside the guest's own tmpfs
    mounts - a clean clone in /tmp is not visible unless shared); else /."""
    here = Path.cwd().resolve()
    for share in shares:
        if here.is_relative_to(Path(share).resolve()):
            return here
    if any(here.is_relative_to(p) for p in GUEST_TMPFS):
        return Path("/")
    return here


def run(command: str | Sequence[str], *, shares: Sequence[os.PathLike | str] = (), cwd: os.PathLike | str | None = None,
        env: Mapping[str, str] | None = None, timeout: float = 600, memory_mb: int = 1024,
        output: Callable[[str], None] | None = None, kernel: Kernel | None = None) -> Result:
    """Boot a guest, run `command` (a shell string, or an argv) in it as root, return
    its exit code and output.

    `shares` are host directories mounted read-write at the same paths in the guest
    (everything else is the host's root, read-only, under a tmpfs overlay). The
    command sees PATH (guest_path()), HOME, LANG, the host's FASTKA_* and PYTHON*
    variables, FASTKA_IN_GUEST=1, and `env`; it starts in `cwd` (default: here). `output`
    receives the console text as it arrives (default: nothing but the result).
    Raises GuestTimeout after `timeout` seconds, GuestError when the guest dies
    before the command finishes."""
    reason = missing()
    if reason:
        raise GuestError(reason)
    kernel = kernel or prepare()
    if not isinstance(command, str):
        command = shlex.join(command)
    shares = [Path(s).resolve() for s in shares]
    inherited = {k: v for k, v in os.environ.items() if k.startswith(("FASTKA_", "PYTHON"))}
    variables = {**inherited, "PATH": guest_path(), "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb",
                 "FASTKA_IN_GUEST": "1", **(env or {})}
    with tempfile.TemporaryDirectory(prefix="fastka-vm-") as control:
        ctl = Path(control)
        (ctl / "command").write_text(
            "".join(f"export {k}={shlex.quote(v)}\n" for k, v in variables.items())
            + f"cd {shlex.quote(str(Path(cwd).resolve() if cwd else _default_cwd(shares)))} || exit 125\n"
            + f"{command}\n")
        (ctl / "stage2").write_text(STAGE2.format(
            kver=kernel.version, modules=shlex.quote(str(kernel.modules.resolve())), control=CONTROL,
            shares="\n".join(SHARE.format(path=shlex.quote(str(p)), tag=f"share{i}") for i, p in enumerate(shares))))
        security = "passthrough" if os.geteuid() == 0 else "none"
        argv = [
            _which(QEMU), "-M", "microvm,pit=on,pic=off,rtc=on", "-accel", "tcg", "-cpu", "max",
            "-m", str(memory_mb), "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-monitor", "none",
            "-kernel", str(kernel.vmlinux), "-initrd", str(kernel.initramfs),
            "-append", " ".join(kernel_args()),
            "-device", "virtio-rng-device",
        ]
        fs = [("host", "/", True), ("control", str(ctl), False)]
        fs += [(f"share{i}", str(p), False) for i, p in enumerate(shares)]
        for tag, path, readonly in fs:
            path = path.replace(",", ",,")  # QEMU's option syntax
            argv += ["-fsdev", f"local,id={tag},path={path},security_model={security},multidevs=remap"
                     + (",readonly=on" if readonly else ""),
                     "-device", f"virtio-9p-device,fsdev={tag},mount_tag={tag}"]
        started = time.monotonic()
        text = _boot(argv, timeout, output)
        seconds = time.monotonic() - started
        rc = ctl / "rc"
        if not rc.exists():
            raise GuestError("the guest stopped before the command finished", text)
        return Result(int(rc.read_text()), text, seconds, float((ctl / "booted").read_text()))


def kernel_args() -> list[str]:
    args = ["console=ttyS0", "rdinit=/init", "panic=-1", "reboot=t",
            f"tsc_early_khz={host_tsc_khz()}", "tsc=reliable"]
    if not os.environ.get("FASTKA_VM_DEBUG"):
        args.append("loglevel=1")
    return args


def _boot(argv: list[str], timeout: float, output: Callable[[str], None] | None) -> str:
    """Run QEMU to its end, feeding the console to `output`; the console text."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None
    chunks: list[bytes] = []
    errors: list[bytes] = []
    deadline = time.monotonic() + timeout
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    streams = {proc.stdout.fileno(): chunks, proc.stderr.fileno(): errors}
    try:
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestTimeout(f"the guest did not finish within {timeout:g}s",
                                   b"".join(chunks).decode(errors="replace"))
            ready, _, _ = select.select(list(streams), [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    del streams[fd]
                    continue
                streams[fd].append(data)
                if output is not None and fd == proc.stdout.fileno():
                    output(decoder.decode(data))
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise GuestTimeout(f"QEMU did not exit within {timeout:g}s",
                           b"".join(chunks).decode(errors="replace")) from None
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    text = b"".join(chunks).decode(errors="replace")
    if proc.returncode != 0:
        raise GuestError(f"QEMU exited with {proc.returncode}: {b''.join(errors).decode(errors='replace').strip()}",
                         text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """python -m tests.vm.guest [--boots N] [--timeout S] [COMMAND...]: run COMMAND in
    a guest (the project shared read-write), or time N boots of it."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(prog="python -m tests.vm.guest", description=main.__doc__)
    parser.add_argument("--boots", type=int, default=0, help="boot N times and report times and failures")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    kernel = prepare(log=lambda s: print(s, file=sys.stderr))
    project = Path(__file__).resolve().parents[2]
    command = (args.command[0] if len(args.command) == 1 else args.command) or "true"
    if not args.boots:
        return run(command, shares=[project], timeout=args.timeout, kernel=kernel,
                   output=lambda s: (sys.stdout.write(s), sys.stdout.flush())).returncode
    walls, boots, failures = [], [], []
    for i in range(args.boots):
        try:
            r = run(command, shares=[project], timeout=args.timeout, kernel=kernel)
        except GuestError as e:
            failures.append(f"boot {i + 1}: {str(e).splitlines()[0]}")
            print(failures[-1], file=sys.stderr)
            continue
        walls.append(r.seconds)
        boots.append(r.boot_seconds)
        print(f"boot {i + 1}: rc {r.returncode}, {r.seconds:.2f}s wall, command started at {r.boot_seconds:.2f}s",
              file=sys.stderr)
    if walls:
        print(f"{len(walls)}/{args.boots} boots ran the command; wall median {statistics.median(walls):.2f}s "
              f"max {max(walls):.2f}s; guest uptime at the command median {statistics.median(boots):.2f}s "
              f"max {max(boots):.2f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
