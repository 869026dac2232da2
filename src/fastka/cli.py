"""``fastka``: keepalived's command line, same flags, same meaning.

Existing units and ``KEEPALIVED_OPTIONS`` work unchanged: ``fastka -t -f FILE``
checks a file, ``fastka -t -d`` also prints the normalised configuration. fastka's own
tools sit beside the flags as subcommands (``fastka keywords``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Optional, TextIO

import click

from . import __version__, backend, backend_reason

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"

# keepalived -t exit statuses (keepalived(8), "Exit status")
EXIT_OK = 0
EXIT_CANNOT_INIT = 2
EXIT_CONFIG_ERRORS = 3

MAX_SHOWN = 500  # diagnostics printed by one run; the summary line counts them all

# the signal functions of --signum (keepalived(8), SIGNALS), with keepalived 2.2.7's
# numbers for the real-time ones (36 and 63 on Linux), which fastka's daemon will honour
SIGNUMS = {
    "STOP": int(signal.SIGTERM),
    "RELOAD": int(signal.SIGHUP),
    "DATA": int(signal.SIGUSR1),
    "STATS": int(signal.SIGUSR2),
    "JSON": int(signal.SIGRTMIN) + 2,
    "STATS_CLEAR": int(signal.SIGRTMAX) - 1,
}

LOG_FACILITIES = {str(i) for i in range(8)} | {f"local{i}" for i in range(8)} | {"user", "daemon"}


def _check_facility(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value is not None and value not in LOG_FACILITIES:
        raise click.BadParameter(f"invalid log facility '{value}' (0-7, local0-local7, user or daemon)")
    return value


def _check_umask(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value is not None:
        try:
            ok = 0 <= int(value, 0 if value.lower().startswith("0x") else 8) <= 0o777
        except ValueError:
            ok = False
        if not ok:
            raise click.BadParameter(f"invalid umask '{value}' (an octal number up to 0777)")
    return value


GENHASH_FLAGS = ("-T", "--genhash")


def _optional_value(*decls: str, flag_value: str, help: str) -> click.Option:
    """An option that may stand alone or take =VALUE (keepalived's getopt '::')."""
    return click.Option(decls, is_flag=False, flag_value=flag_value, default=None, help=help,
                        metavar="[VALUE]")


def _version_text() -> str:
    why = f" ({backend_reason})" if backend_reason else ""
    return (f"fastka {__version__} (keepalived 2.2.7 configuration and command line)\n"
            f"native core: {backend}{why}\n"
            f"Python {sys.version.split()[0]}")


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Main(click.Group):
    """keepalived's ``-T`` / ``--genhash`` switches to genhash mode, where the words after
    it are genhash's options (``-s`` server, ``-p`` port, ... clash with the daemon's
    flags), so the rest of the line goes to the ``genhash`` subcommand as it is."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for i, a in enumerate(args):
            if a == "--":
                break
            if a in GENHASH_FLAGS:
                args = ["genhash", *args[i + 1:]]
                break
        return super().parse_args(ctx, args)


@click.group(cls=Main, context_settings=CONTEXT, invoke_without_command=True,
             help="keepalived-compatible high-availability daemon (VRRP, health checks, IPVS).")
@click.option("-f", "--use-file", "use_file", default=DEFAULT_CONFIG, show_default=True, metavar="FILE",
              help="Use the specified configuration file.")
@click.option("-P", "--vrrp", is_flag=True, help="Only run the VRRP subsystem.")
@click.option("-C", "--check", is_flag=True, help="Only run the healthcheck subsystem.")
@click.option("-B", "--no_bfd", "no_bfd", is_flag=True, help="Don't run the BFD subsystem (fastka has none).")
@click.option("--all", "run_all", is_flag=True, help="Run all subsystems, even if they have no configuration.")
@click.option("-l", "--log-console", is_flag=True, help="Log messages to the local console.")
@click.option("-D", "--log-detail", is_flag=True, help="Detailed log messages.")
@click.option("-S", "--log-facility", metavar="{0-7|local{0-7}|user|daemon}", callback=_check_facility,
              help="Set syslog facility.")
@click.option("-g", "--log-file", metavar="FILE", help="Write log entries to FILE.")
@click.option("--flush-log-file", is_flag=True, help="Flush the log file after each write.")
@click.option("-G", "--no-syslog", is_flag=True, help="Do not write log entries to syslog.")
@click.option("-X", "--release-vips", is_flag=True, help="Drop VIP on transition from signal.")
@click.option("-V", "--dont-release-vrrp", is_flag=True, help="Don't remove VRRP VIPs and VROUTEs on daemon stop.")
@click.option("-I", "--dont-release-ipvs", is_flag=True, help="Don't remove IPVS topology on daemon stop.")
@click.option("-R", "--dont-respawn", is_flag=True, help="Don't respawn child processes.")
@click.option("-n", "--dont-fork", is_flag=True, help="Don't fork the daemon process.")
@click.option("-d", "--dump-conf", is_flag=True,
              help="Dump the normalised configuration to stdout (with -t: check, dump and exit).")
@click.option("-p", "--pid", "pid_file", metavar="FILE", help="pidfile of the parent process.")
@click.option("-r", "--vrrp_pid", "vrrp_pid_file", metavar="FILE", help="pidfile of the VRRP child process.")
@click.option("-T", "--genhash", is_flag=True, help="Enter genhash utility mode.")
@click.option("-c", "--checkers_pid", "checkers_pid_file", metavar="FILE",
              help="pidfile of the checkers child process.")
@click.option("-a", "--address-monitoring", is_flag=True, help="Log address changes reported by netlink.")
@click.option("-b", "--bfd_pid", "bfd_pid_file", metavar="FILE", help="pidfile of the BFD child (fastka has none).")
@click.option("-s", "--namespace", metavar="NAME", help="Run in network namespace NAME.")
@click.option("-e", "--all-config", is_flag=True,
              help="Don't load if any configuration file is missing or cannot be read.")
@click.option("-i", "--config-id", metavar="ID",
              help="Configuration id for @ID conditional lines (default: host name).")
@click.option("-x", "--snmp", is_flag=True, help="Enable the SNMP subsystem (fastka has none).")
@click.option("-A", "--snmp-agent-socket", metavar="FILE", help="SNMP master agent socket (fastka has none).")
@click.option("-u", "--umask", metavar="NUMBER", callback=_check_umask, help="umask, in the usual numeric way.")
@click.option("-m", "--core-dump", is_flag=True, help="Enable core dumps.")
@click.option("--signum", metavar="SIGFUNC",
              help="Print the signal number of STOP, RELOAD, DATA, STATS, JSON or STATS_CLEAR.")
@click.option("--no-mem-check", is_flag=True, help="Accepted for compatibility (no effect).")
@click.option("-v", "--version", "show_version", is_flag=True, help="Display the version and exit.")
@click.pass_context
def main(ctx: click.Context, **opts: object) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if opts["show_version"]:
        click.echo(_version_text())
        ctx.exit(EXIT_OK)
    if opts["signum"]:
        name = str(opts["signum"]).upper()
        if name not in SIGNUMS:
            raise click.UsageError(f"--signum: unknown signal function '{opts['signum']}' "
                                   f"(fastka knows {', '.join(SIGNUMS)})")
        click.echo(int(SIGNUMS[name]))
        ctx.exit(EXIT_OK)

    if opts["namespace"]:  # first: -t checks interfaces in the namespace fastka will run in
        from .core.daemon import DaemonError, enter_namespace

        try:
            enter_namespace(str(opts["namespace"]))
        except DaemonError as e:
            click.echo(f"fastka: {e}", err=True)
            ctx.exit(EXIT_CANNOT_INIT)
    test_target = opts.get("config_test")
    assert test_target is None or isinstance(test_target, str)
    if test_target is not None:
        ctx.exit(_check_and_dump(opts, test_target))
    if opts["dump_conf"]:  # keepalived -d dumps the configuration, then runs the daemon
        status = _check_and_dump(opts, None)
        if status != EXIT_OK:
            ctx.exit(status)
    ctx.exit(_run_daemon(ctx, opts))


# keepalived's optional-value options (-t[=FILE], -M[=PATTERN], --perf[=..], --debug[=..])
main.params.append(_optional_value("-t", "--config-test", flag_value="-",
                                   help="Check the configuration and exit (0: clean, 3: errors); "
                                        "diagnostics go to stderr, or to FILE if given as --config-test=FILE."))
main.params.append(_optional_value("-M", "--core-dump-pattern", flag_value="core",
                                   help="Enable core dumps and set the kernel's core_pattern."))
main.params.append(_optional_value("--perf", flag_value="run", help="Accepted for compatibility (no effect)."))
main.params.append(_optional_value("--debug", flag_value="", help="Accepted for compatibility (no effect)."))


def _run_daemon(ctx: click.Context, opts: dict) -> int:
    from .config import load_file
    from .core import daemon

    result = load_file(str(opts["use_file"]), config_id=opts["config_id"], check_system=True,
                       all_config=bool(opts["all_config"]))
    diags = result.diagnostics
    for d in diags.sorted()[:MAX_SHOWN]:
        click.echo(d.format(), err=True)
    if diags.has_errors:
        click.echo(f"{opts['use_file']}: {len(diags.errors)} errors; nothing is applied, fastka does not start",
                   err=True)
        return EXIT_CONFIG_ERRORS
    daemon.setup_logging(console=bool(opts["log_console"]), detail=bool(opts["log_detail"]),
                         facility=opts["log_facility"], log_file=opts["log_file"],
                         no_syslog=bool(opts["no_syslog"]))
    config = result.config
    allow_vrrp, allow_checkers = daemon.allowed(opts)
    vrrp = allow_vrrp and daemon.needs_vrrp(config)
    checkers = allow_checkers and daemon.needs_checkers(config)
    if not vrrp and not checkers:
        daemon.log.warning("nothing to run: no %s in %s", "vrrp_instance" if not allow_checkers else
                           "virtual_server" if not allow_vrrp else "vrrp_instance or virtual_server",
                           opts["use_file"])
        return EXIT_OK
    return daemon.run(config, opts, vrrp=vrrp, checkers=checkers)


def _check_and_dump(opts: dict, test_target: Optional[str]) -> int:
    from .config import dump, load_file

    path = str(opts["use_file"])
    result = load_file(path, config_id=opts["config_id"], check_system=True, all_config=bool(opts["all_config"]))
    diags = result.diagnostics

    out: TextIO
    close = False
    if test_target not in (None, "-"):
        # as keepalived: append, and never through a symbolic link
        try:
            fd = os.open(str(test_target), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as e:
            click.echo(f"fastka: unable to open config-test log file {test_target}: {e.strerror}", err=True)
            return EXIT_CANNOT_INIT
        out = os.fdopen(fd, "w", encoding="utf-8")
        close = True
    else:
        out = sys.stderr
    try:
        shown = diags.sorted()
        for d in shown[:MAX_SHOWN]:
            print(d.format(), file=out)
        if len(shown) > MAX_SHOWN:
            print(f"... and {len(shown) - MAX_SHOWN} more diagnostics", file=out)
        n_err, n_warn = len(diags.errors), len(diags.warnings)
        if test_target is not None or diags.has_errors:
            if diags.has_errors:
                print(f"{path}: {n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}; "
                      "nothing would be applied", file=out)
            else:
                print(f"{path}: configuration OK ({n_warn} warning{'s' * (n_warn != 1)})", file=out)
    finally:
        if close:
            out.close()
    if diags.has_errors:
        return EXIT_CONFIG_ERRORS
    if opts["dump_conf"]:
        sys.stdout.write(dump(result.config))
    return EXIT_OK


@main.command()
def demo() -> None:
    """A live failover: two fastka nodes in network namespaces (needs root)."""
    from .demo import run

    sys.exit(run())


@main.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-s", "--server", required=True, metavar="ADDRESS", help="Use the specified remote server address.")
@click.option("-p", "--port", type=click.IntRange(1, 65535), metavar="PORT",
              help="Use the specified remote server port (default 80, 443 with -S).")
@click.option("-u", "--url", default="/", show_default=True, help="Use the specified remote server url.")
@click.option("-S", "--use-ssl", is_flag=True, help="Use SSL connection to remote server.")
@click.option("-I", "--use-sni", is_flag=True, help="Use SNI during SSL handshake (uses the -V virtualhost).")
@click.option("-V", "--use-virtualhost", "virtualhost", metavar="HOST", help="Use the virtualhost in the GET query.")
@click.option("-P", "--protocol", type=click.Choice(["1.0", "1.0c", "1.0C", "1.1"]), default="1.0",
              show_default=True, help="HTTP protocol; 1.0c means 1.0 with 'Connection: close'.")
@click.option("-t", "--timeout", type=click.FloatRange(0, min_open=True), default=5.0, show_default=True,
              help="Timeout in seconds.")
@click.option("-m", "--fwmark", type=click.IntRange(0, 2**32 - 1), help="Use the specified FW mark.")
@click.option("-v", "--verbose", is_flag=True, help="Show the header and body as hex dumps, and the time.")
def genhash(server: str, port: Optional[int], url: str, use_ssl: bool, use_sni: bool, virtualhost: Optional[str],
            protocol: str, timeout: float, fwmark: Optional[int], verbose: bool) -> None:
    """Print the MD5 digest of a web page's body, for HTTP_GET/SSL_GET digest (keepalived -T)."""
    import ipaddress

    from .check.genhash import run

    try:
        ipaddress.ip_address(server)
    except ValueError:
        raise click.BadParameter(f"'{server}' is not an IP address", param_hint="-s/--server") from None
    status, text = run(server, port or (443 if use_ssl else 80), url, verbose=verbose, use_ssl=use_ssl,
                       sni=use_sni, virtualhost=virtualhost, protocol=protocol.upper(), timeout=timeout,
                       fwmark=fwmark)
    click.echo(text, err=status != 0)
    sys.exit(status)


@main.command()
@click.option("-p", "--pid", "pid_file", metavar="FILE", help="The running fastka's pidfile (default /run/fastka.pid).")
@click.option("--json", "as_json", is_flag=True, help="Print the state as one JSON document.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=5.0, show_default=True,
              help="Seconds to wait for the answer.")
def status(pid_file: Optional[str], as_json: bool, timeout: float) -> None:
    """Show the running fastka's VRRP instances and virtual servers (it answers
    keepalived's JSON signal; FASTKA_STATE_DIR must match the daemon's)."""
    import json

    from .core.status import StatusError, collect, render

    try:
        state = collect(pid_file, timeout)
    except StatusError as e:
        click.echo(f"fastka status: {e}", err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps(state, indent=1, sort_keys=True) if as_json else render(state))


@main.command()
@click.option("--unsupported", is_flag=True, help="Only the keywords fastka accepts but does not act on.")
def keywords(unsupported: bool) -> None:
    """List every keyword fastka understands, by block, with its support status."""
    from .config.keywords import keyword_rows

    for block, keyword, support, note in keyword_rows():
        if unsupported and support == "yes":
            continue
        extra = f"  ({note})" if note else ""
        click.echo(f"{block:24} {keyword:36} {support}{extra}")


if __name__ == "__main__":  # pragma: no cover
    main()
