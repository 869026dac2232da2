"""The GLOBAL CONFIGURATION part of the model: ``global_defs`` and the top-level
blocks beside it (linkbeat_interfaces, interface_up_down_delays, track_group,
static_ipaddress / static_routes / static_rules are fields of `Config`).

Field order is the order ``fastka -d`` writes keywords in (the man page's order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from .model_vrrp import (
    UINT32,
    GarpExtraIf,
    GarpExtraIfType,
    IfName,
    IntList,
    Name,
    OptChoice,
    OptInt,
    OptWords,
    check_ifname,
    parse_c_int,
)
from .schema import Block, Support, kw, lines, positions
from .values import Bare, Flag, Timer
from .source import Pos, Token
from .values import IP, BadValue, Int, Script, Str, ValueType, parse_int, parse_ip, quote

SNMP_NOTE = "fastka has no SNMP agent; see `fastka status` (--json for machines)"
DBUS_NOTE = "fastka has no DBus interface; see `fastka status`"
FIREWALL_NOTE = "fastka does not manage nftables/iptables/ipsets"
BFD_PROC_NOTE = "BFD is not implemented"
NAMESPACE_NOTE = "fastka does not switch network namespaces; run it inside the namespace (ip netns exec)"


# ---------------------------------------------------------------------------
# Value types of global_defs


@dataclass
class SmtpServer:
    """``smtp_server HOST [PORT]`` (an IP address or a host name)."""

    host: str
    port: Optional[int] = None


class SmtpServerType(ValueType):
    expected = "<IPADDR|HOSTNAME> [<PORT>]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> SmtpServer:
        host = args[0].text
        try:
            host = str(parse_ip(args[0]))
        except BadValue:
            if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?",
                                host) or len(host) > 253:
                raise BadValue(f"'{host}' is neither an IP address nor a host name", args[0], self.expected) from None
        port = parse_int(args[1], 1, 65535, expected="a port from 1 to 65535") if len(args) > 1 else None
        return SmtpServer(host, port)

    def format(self, value: Any) -> list[str]:
        return [value.host] + ([str(value.port)] if value.port is not None else [])


@dataclass
class LvsSyncDaemon:
    """``lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]``."""

    interface: str
    instance: Optional[str] = None
    syncid: Optional[int] = None
    maxlen: Optional[int] = None
    port: Optional[int] = None
    ttl: Optional[int] = None
    group: Optional[str] = None


_SYNCD_OPTS = {"id": ("syncid", 0, 255), "maxlen": ("maxlen", 1, 65507), "port": ("port", 1, 65535),
               "ttl": ("ttl", 1, 255)}


class LvsSyncDaemonType(ValueType):
    expected = ("<INTERFACE> [[inst] <VRRP_INSTANCE>] [id <0..255>] [maxlen <1..65507>] [port <1..65535>] "
                "[ttl <1..255>] [group <IPADDR>]")
    max_args = 13

    def parse(self, args: Sequence[Token]) -> LvsSyncDaemon:
        d = LvsSyncDaemon(check_ifname(args[0]))
        seen: set[str] = set()
        i = 1
        while i < len(args):
            w = args[i].text
            key = w if w in _SYNCD_OPTS or w in ("inst", "group") else None
            if key is None and d.instance is None and "inst" not in seen and i == 1:
                d.instance = w  # 'inst' may be omitted (backward compatibility)
                seen.add("inst")
                i += 1
                continue
            if key is None:
                raise BadValue(f"unexpected '{w}'", args[i], self.expected)
            if key in seen:
                raise BadValue(f"'{w}' is given twice", args[i], self.expected)
            seen.add(key)
            if i + 1 >= len(args):
                raise BadValue(f"'{w}' needs a value", args[i], self.expected)
            val = args[i + 1]
            if key == "inst":
                d.instance = val.text
            elif key == "group":
                d.group = str(parse_ip(val))
            else:
                attr, lo, hi = _SYNCD_OPTS[key]
                setattr(d, attr, parse_int(val, lo, hi, expected=f"an integer from {lo} to {hi}"))
            i += 2
        return d

    def format(self, value: Any) -> list[str]:
        d: LvsSyncDaemon = value
        out = [d.interface]
        if d.instance is not None:
            out += ["inst", quote(d.instance)]
        for word, (attr, _, _) in _SYNCD_OPTS.items():
            v = getattr(d, attr)
            if v is not None:
                out += [word, str(v)]
        if d.group is not None:
            out += ["group", d.group]
        return out


@dataclass
class LvsTimeouts:
    """``lvs_timeouts [tcp SECS] [tcpfin SECS] [udp SECS]``."""

    tcp: Optional[int] = None
    tcpfin: Optional[int] = None
    udp: Optional[int] = None

    def merge(self, later: "LvsTimeouts") -> "LvsTimeouts":
        """A second lvs_timeouts line sets its timeouts and keeps the others (as keepalived)."""
        return LvsTimeouts(*(b if b is not None else a for a, b in
                             ((self.tcp, later.tcp), (self.tcpfin, later.tcpfin), (self.udp, later.udp))))


class LvsTimeoutsType(ValueType):
    expected = "[tcp SECS] [tcpfin SECS] [udp SECS] (at least one)"
    max_args = 6

    def parse(self, args: Sequence[Token]) -> LvsTimeouts:
        t = LvsTimeouts()
        i = 0
        while i < len(args):
            w = args[i].text
            if w not in ("tcp", "tcpfin", "udp") or getattr(t, w) is not None:
                raise BadValue(f"unexpected '{w}'", args[i], self.expected)
            if i + 1 >= len(args):
                raise BadValue(f"'{w}' needs a value", args[i], self.expected)
            setattr(t, w, parse_int(args[i + 1], 1, 86400 * 31, expected="a number of seconds from 1 to 2678400"))
            i += 2
        return t

    def format(self, value: Any) -> list[str]:
        out: list[str] = []
        for w in ("tcp", "tcpfin", "udp"):
            if getattr(value, w) is not None:
                out += [w, str(getattr(value, w))]
        return out


UMASK_BITS = {"IRUSR": 0o400, "IWUSR": 0o200, "IXUSR": 0o100, "IRGRP": 0o40, "IWGRP": 0o20, "IXGRP": 0o10,
              "IROTH": 0o4, "IWOTH": 0o2, "IXOTH": 0o1}


class UmaskType(ValueType):
    """``umask NUMBER|BITS``: decimal, 0x hex or 0 octal, or I{R|W|X}{USR|GRP|OTH} joined by '|'."""

    expected = "a number (decimal, 0x hex, 0 octal) or bits such as IWGRP|IWOTH"
    max_args = None

    def parse(self, args: Sequence[Token]) -> int:
        text = "".join(t.text for t in args)
        if text[:1].isdigit():
            if len(args) > 1:
                raise BadValue(f"unexpected '{args[1].text}'", args[1], self.expected)
            return parse_c_int(args[0], 0, 0o777, self.expected)
        mask = 0
        for bit in text.split("|"):
            if bit not in UMASK_BITS:
                raise BadValue(f"'{bit}' is not a umask bit", args[0], "bits among " + "|".join(UMASK_BITS))
            mask |= UMASK_BITS[bit]
        return mask

    def format(self, value: Any) -> list[str]:
        return [f"0{value:03o}"]


class RxBufsPolicyType(ValueType):
    """``vrrp_rx_bufs_policy MTU|ADVERT|NUMBER``."""

    expected = "MTU, ADVERT or a buffer size in bytes"

    def parse(self, args: Sequence[Token]) -> Union[str, int]:
        t = args[0].text
        if t.upper() in ("MTU", "ADVERT"):
            return t.upper()
        return parse_int(args[0], 1, UINT32, expected=self.expected)


# ---------------------------------------------------------------------------
# global_defs


@dataclass
class GlobalDefs(Block):
    tmp_config_directory: Optional[str] = kw("tmp_config_directory", Str(), support=Support.PARSED,
                                             note="fastka does not copy the configuration to a temporary file")
    config_save_dir: Optional[str] = kw("config_save_dir", Str())
    process_names: bool = kw("process_names", Bare(), False)
    process_name: Optional[str] = kw("process_name", Str())
    vrrp_process_name: Optional[str] = kw("vrrp_process_name", Str())
    checker_process_name: Optional[str] = kw("checker_process_name", Str())
    bfd_process_name: Optional[str] = kw("bfd_process_name", Str(), support=Support.PARSED, note=BFD_PROC_NOTE)
    startup_script: Optional[tuple[str, ...]] = kw("startup_script", Script())
    startup_script_timeout: Optional[int] = kw("startup_script_timeout", Int(1, 1000))
    shutdown_script: Optional[tuple[str, ...]] = kw("shutdown_script", Script())
    shutdown_script_timeout: Optional[int] = kw("shutdown_script_timeout", Int(1, 1000))
    notification_email: list[str] = lines("notification_email", Str(), per_word=True)
    notification_email_from: Optional[str] = kw("notification_email_from", Str())
    smtp_server: Optional[SmtpServer] = kw("smtp_server", SmtpServerType())
    smtp_helo_name: Optional[str] = kw("smtp_helo_name", Str())
    smtp_connect_timeout: Optional[int] = kw("smtp_connect_timeout", Int(1, UINT32))
    smtp_alert: Optional[bool] = kw("smtp_alert", Flag())
    smtp_alert_vrrp: Optional[bool] = kw("smtp_alert_vrrp", Flag())
    smtp_alert_checker: Optional[bool] = kw("smtp_alert_checker", Flag())
    checker_log_all_failures: Optional[bool] = kw("checker_log_all_failures", Flag())
    no_email_faults: bool = kw("no_email_faults", Bare(), False)
    router_id: Optional[str] = kw("router_id", Str())
    vrrp_mcast_group4: Optional[Any] = kw("vrrp_mcast_group4", IP(4))
    vrrp_mcast_group6: Optional[Any] = kw("vrrp_mcast_group6", IP(6))
    default_interface: Optional[str] = kw("default_interface", IfName())
    lvs_sync_daemon: Optional[LvsSyncDaemon] = kw("lvs_sync_daemon", LvsSyncDaemonType())
    lvs_timeouts: Optional[LvsTimeouts] = kw("lvs_timeouts", LvsTimeoutsType(), repeat="merge")
    lvs_flush: bool = kw("lvs_flush", Bare(), False)
    lvs_flush_on_stop: Optional[str] = kw("lvs_flush_on_stop", OptChoice(("VS",), bare="all"))
    vrrp_garp_master_delay: Optional[int] = kw("vrrp_garp_master_delay", Int(0, 4294))
    vrrp_garp_master_repeat: Optional[int] = kw("vrrp_garp_master_repeat", Int(1, UINT32))
    vrrp_garp_lower_prio_delay: Optional[int] = kw("vrrp_garp_lower_prio_delay", Int(0, 4294))
    vrrp_down_timer_adverts: Optional[int] = kw("vrrp_down_timer_adverts", Int(1, 100))
    vrrp_garp_lower_prio_repeat: Optional[int] = kw("vrrp_garp_lower_prio_repeat", Int(0, UINT32))
    vrrp_garp_master_refresh: Optional[int] = kw("vrrp_garp_master_refresh", Int(0, UINT32))
    vrrp_garp_master_refresh_repeat: Optional[int] = kw("vrrp_garp_master_refresh_repeat", Int(1, UINT32))
    vrrp_garp_interval: Optional[float] = kw("vrrp_garp_interval", Timer(0.0))
    vrrp_gna_interval: Optional[float] = kw("vrrp_gna_interval", Timer(0.0))
    vrrp_min_garp: Optional[bool] = kw("vrrp_min_garp", Flag())
    vrrp_garp_extra_if: Optional[GarpExtraIf] = kw("vrrp_garp_extra_if", GarpExtraIfType())
    vrrp_lower_prio_no_advert: Optional[bool] = kw("vrrp_lower_prio_no_advert", Flag())
    vrrp_higher_prio_send_advert: Optional[bool] = kw("vrrp_higher_prio_send_advert", Flag())
    vrrp_version: Optional[int] = kw("vrrp_version", Int(2, 3))
    nftables: Optional[tuple[str, ...]] = kw("nftables", OptWords(1, "[TABLENAME]"), support=Support.PARSED,
                                             note=FIREWALL_NOTE)
    nftables_priority: Optional[int] = kw("nftables_priority", Int(-2**31, 2**31 - 1), support=Support.PARSED,
                                          note=FIREWALL_NOTE)
    nftables_counters: bool = kw("nftables_counters", Bare(), False, support=Support.PARSED, note=FIREWALL_NOTE)
    nftables_ifindex: bool = kw("nftables_ifindex", Bare(), False, support=Support.PARSED, note=FIREWALL_NOTE)
    nftables_ipvs: Optional[tuple[str, ...]] = kw("nftables_ipvs", OptWords(1, "[TABLENAME]"),
                                                  support=Support.PARSED, note=FIREWALL_NOTE)
    nftables_ipvs_priority: Optional[int] = kw("nftables_ipvs_priority", Int(-2**31, 2**31 - 1),
                                               support=Support.PARSED, note=FIREWALL_NOTE)
    nftables_ipvs_start_fwmark: Optional[int] = kw("nftables_ipvs_start_fwmark", Int(1, UINT32),
                                                   support=Support.PARSED, note=FIREWALL_NOTE)
    vrrp_iptables: Optional[tuple[str, ...]] = kw("vrrp_iptables", OptWords(2, "[IN_CHAIN [OUT_CHAIN]]"),
                                                  support=Support.PARSED, note=FIREWALL_NOTE)
    vrrp_ipsets: Optional[tuple[str, ...]] = kw("vrrp_ipsets", OptWords(5, "[NAME [NAME6 [NAME_IF6 [IGMP [MLD]]]]]"),
                                                support=Support.PARSED, note=FIREWALL_NOTE)
    disable_local_igmp: bool = kw("disable_local_igmp", Bare(), False)
    vrrp_check_unicast_src: bool = kw("vrrp_check_unicast_src", Bare(), False)
    vrrp_skip_check_adv_addr: bool = kw("vrrp_skip_check_adv_addr", Bare(), False)
    vrrp_strict: bool = kw("vrrp_strict", Bare(), False)
    vrrp_notify_priority_changes: Optional[bool] = kw("vrrp_notify_priority_changes", Flag())
    max_auto_priority: Optional[int] = kw("max_auto_priority", OptInt(-1, 99, bare=99))
    min_auto_priority_delay: Optional[int] = kw("min_auto_priority_delay", Int(1, 10_000_000))
    vrrp_priority: Optional[int] = kw("vrrp_priority", Int(-20, 19))
    checker_priority: Optional[int] = kw("checker_priority", Int(-20, 19))
    bfd_priority: Optional[int] = kw("bfd_priority", Int(-20, 19), support=Support.PARSED, note=BFD_PROC_NOTE)
    vrrp_no_swap: bool = kw("vrrp_no_swap", Bare(), False)
    checker_no_swap: bool = kw("checker_no_swap", Bare(), False)
    bfd_no_swap: bool = kw("bfd_no_swap", Bare(), False, support=Support.PARSED, note=BFD_PROC_NOTE)
    vrrp_cpu_affinity: Optional[tuple[int, ...]] = kw("vrrp_cpu_affinity", IntList(0, 8191, "CPU numbers"))
    checker_cpu_affinity: Optional[tuple[int, ...]] = kw("checker_cpu_affinity", IntList(0, 8191, "CPU numbers"))
    bfd_cpu_affinity: Optional[tuple[int, ...]] = kw("bfd_cpu_affinity", IntList(0, 8191, "CPU numbers"),
                                                     support=Support.PARSED, note=BFD_PROC_NOTE)
    vrrp_rt_priority: Optional[int] = kw("vrrp_rt_priority", Int(1, 99))
    checker_rt_priority: Optional[int] = kw("checker_rt_priority", Int(1, 99))
    bfd_rt_priority: Optional[int] = kw("bfd_rt_priority", Int(1, 99), support=Support.PARSED, note=BFD_PROC_NOTE)
    vrrp_rlimit_rttime: Optional[int] = kw("vrrp_rlimit_rttime", Int(2, UINT32))
    checker_rlimit_rttime: Optional[int] = kw("checker_rlimit_rttime", Int(2, UINT32))
    bfd_rlimit_rttime: Optional[int] = kw("bfd_rlimit_rttime", Int(2, UINT32), support=Support.PARSED,
                                          note=BFD_PROC_NOTE)
    snmp_socket: Optional[str] = kw("snmp_socket", Str(), support=Support.PARSED, note=SNMP_NOTE)
    enable_snmp_vrrp: bool = kw("enable_snmp_vrrp", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_snmp_checker: bool = kw("enable_snmp_checker", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_snmp_rfc: bool = kw("enable_snmp_rfc", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_snmp_rfcv2: bool = kw("enable_snmp_rfcv2", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_snmp_rfcv3: bool = kw("enable_snmp_rfcv3", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_traps: bool = kw("enable_traps", Bare(), False, support=Support.PARSED, note=SNMP_NOTE)
    enable_dbus: bool = kw("enable_dbus", Bare(), False, support=Support.PARSED, note=DBUS_NOTE)
    dbus_service_name: Optional[str] = kw("dbus_service_name", Str(), support=Support.PARSED, note=DBUS_NOTE)
    script_user: Optional[tuple[str, ...]] = kw("script_user", OptWords(2, "USERNAME [GROUPNAME]", min_args=1))
    enable_script_security: bool = kw("enable_script_security", Bare(), False)
    notify_fifo: Optional[tuple[str, ...]] = kw("notify_fifo", Script())
    notify_fifo_script: Optional[tuple[str, ...]] = kw("notify_fifo_script", Script())
    vrrp_notify_fifo: Optional[tuple[str, ...]] = kw("vrrp_notify_fifo", Script())
    vrrp_notify_fifo_script: Optional[tuple[str, ...]] = kw("vrrp_notify_fifo_script", Script())
    lvs_notify_fifo: Optional[tuple[str, ...]] = kw("lvs_notify_fifo", Script())
    lvs_notify_fifo_script: Optional[tuple[str, ...]] = kw("lvs_notify_fifo_script", Script())
    fifo_write_vrrp_states_on_reload: bool = kw("fifo_write_vrrp_states_on_reload", Bare(), False)
    dynamic_interfaces: Optional[str] = kw("dynamic_interfaces", OptChoice(("allow_if_changes",), bare="on"))
    vrrp_netlink_cmd_rcv_bufs: Optional[int] = kw("vrrp_netlink_cmd_rcv_bufs", Int(0, UINT32))
    vrrp_netlink_cmd_rcv_bufs_force: Optional[bool] = kw("vrrp_netlink_cmd_rcv_bufs_force", Flag())
    vrrp_netlink_monitor_rcv_bufs: Optional[int] = kw("vrrp_netlink_monitor_rcv_bufs", Int(0, UINT32))
    vrrp_netlink_monitor_rcv_bufs_force: Optional[bool] = kw("vrrp_netlink_monitor_rcv_bufs_force", Flag())
    lvs_netlink_cmd_rcv_bufs: Optional[int] = kw("lvs_netlink_cmd_rcv_bufs", Int(0, UINT32))
    lvs_netlink_cmd_rcv_bufs_force: Optional[bool] = kw("lvs_netlink_cmd_rcv_bufs_force", Flag())
    lvs_netlink_monitor_rcv_bufs: Optional[int] = kw("lvs_netlink_monitor_rcv_bufs", Int(0, UINT32))
    lvs_netlink_monitor_rcv_bufs_force: Optional[bool] = kw("lvs_netlink_monitor_rcv_bufs_force", Flag())
    process_monitor_rcv_bufs: Optional[int] = kw("process_monitor_rcv_bufs", Int(0, UINT32))
    process_monitor_rcv_bufs_force: Optional[bool] = kw("process_monitor_rcv_bufs_force", Flag())
    vrrp_rx_bufs_policy: Optional[Union[str, int]] = kw("vrrp_rx_bufs_policy", RxBufsPolicyType())
    vrrp_rx_bufs_multiplier: Optional[int] = kw("vrrp_rx_bufs_multiplier", Int(1, UINT32))
    rs_init_notifies: bool = kw("rs_init_notifies", Flag(), False)
    no_checker_emails: bool = kw("no_checker_emails", Flag(), False)
    umask: Optional[int] = kw("umask", UmaskType())
    vrrp_startup_delay: Optional[float] = kw("vrrp_startup_delay", Timer(0.001, 4294.967295))
    log_unknown_vrids: bool = kw("log_unknown_vrids", Bare(), False)
    vmac_prefix: Optional[str] = kw("vmac_prefix", Str())
    vmac_addr_prefix: Optional[str] = kw("vmac_addr_prefix", Str())
    random_seed: Optional[int] = kw("random_seed", Int(0, UINT32))
    reload_check_config: Optional[tuple[str, ...]] = kw("reload_check_config", OptWords(1, "[LOG_FILE]"))
    include_check: Optional[tuple[str, ...]] = kw("include_check", OptWords(None, "[+|-]readable|match|"
                                                                                  "wildcard_match|brace_match ..."))
    reload_time_file: Optional[str] = kw("reload_time_file", Str())
    reload_repeat: bool = kw("reload_repeat", Bare(), False)
    reload_file: Optional[tuple[str, ...]] = kw("reload_file", OptWords(1, "[ABSOLUTE-PATHNAME-OF-FILE]"))
    data_use_instance: Optional[bool] = kw("data_use_instance", Flag())
    _pos: dict = positions()


# ---------------------------------------------------------------------------
# Top-level blocks beside global_defs


@dataclass
class LinkbeatInterface:
    """A line of linkbeat_interfaces: ``IFNAME [MII|ETHTOOL|IOCTL]``."""

    name: str
    type: Optional[str] = None
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)


class LinkbeatLine(ValueType):
    expected = "<IFNAME> [MII|ETHTOOL|IOCTL]"
    max_args = 2

    def parse(self, args: Sequence[Token]) -> LinkbeatInterface:
        lb = LinkbeatInterface(check_ifname(args[0]), pos=args[0].pos)
        if len(args) > 1:
            t = args[1].text.upper()
            if t not in ("MII", "ETHTOOL", "IOCTL"):
                raise BadValue(f"'{args[1].text}' is not a polling type", args[1], "one of MII|ETHTOOL|IOCTL")
            lb.type = t
        return lb

    def format(self, value: Any) -> list[str]:
        return [value.name] + ([value.type] if value.type else [])


@dataclass
class UpDownDelay:
    """A line of interface_up_down_delays: ``IFNAME DOWN_DELAY [UP_DELAY]`` (seconds, <= 255)."""

    interface: str
    down: float
    up: Optional[float] = None
    pos: Optional[Pos] = field(default=None, compare=False, repr=False)


class UpDownDelayLine(ValueType):
    expected = "<IFNAME> <DOWN_DELAY> [<UP_DELAY>] (seconds from 0 to 255)"
    min_args = 2
    max_args = 3

    def parse(self, args: Sequence[Token]) -> UpDownDelay:
        t = Timer(0.0, 255.0)
        d = UpDownDelay(check_ifname(args[0]), t.parse(args[1:2]), pos=args[0].pos)
        if len(args) > 2:
            d.up = t.parse(args[2:3])
        return d

    def format(self, value: Any) -> list[str]:
        f = Timer().format
        return [value.interface, *f(value.down)] + (f(value.up) if value.up is not None else [])


@dataclass
class TrackGroup(Block):
    """``track_group NAME { group { INSTANCE ... } }``."""

    name: str
    group: list[str] = lines("group", Name(), per_word=True)
    _pos: dict = positions()

    HEADER = ("name",)


