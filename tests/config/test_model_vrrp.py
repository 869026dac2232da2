"""The VRRP / global model: every keyword of keepalived.conf(5)'s GLOBAL, BFD and VRRPD
sections parses into typed values, aliases land on the canonical field, line formats
(addresses, routes, rules, unicast peers, track lists) parse and format back, the
dump of a configuration using every keyword re-parses into an equal model, and
apply_defaults fills keepalived's effective values idempotently."""

from __future__ import annotations

import copy
import ipaddress
import os
from typing import Any

import pytest

from fastka.config import dump, load_text
from fastka.config.model import Config
from fastka.config.model_global import (
    GlobalDefs,
    LinkbeatInterface,
    LvsSyncDaemon,
    LvsTimeouts,
    SmtpServer,
    TrackGroup,
    UpDownDelay,
)
from fastka.config.model_vrrp import (
    Authentication,
    BfdInstance,
    GarpExtraIf,
    GarpGroup,
    Nexthop,
    Route,
    RouteLine,
    Rule,
    RuleLine,
    TrackFile,
    TrackRef,
    UnicastPeer,
    UseIpvlan,
    UseVmac,
    VirtualIP,
    VirtualIPLine,
    VrrpInstance,
    VrrpScript,
    VrrpSyncGroup,
    VrrpTrackProcess,
    Weight,
    _ROUTE_WORDS,
    _RULE_WORDS,
    apply_defaults,
)
from fastka.config.schema import Support, specs
from fastka.config.source import Pos, Token
from fastka.config.values import BadValue

IP = ipaddress.ip_address

# ---------------------------------------------------------------------------
# A configuration that uses every keyword of the VRRP / global model, each with a
# valid value (the round trip and the coverage tests below read it).

RICH = r"""
net_namespace blue
net_namespace_ipvs red
namespace_with_ipsets
instance lb1
use_pid_dir
linkbeat_use_polling
child_wait_time 7
global_defs {
    tmp_config_directory /var/tmp
    config_save_dir /var/lib/keepalived/saved
    process_names
    process_name ka
    vrrp_process_name ka_vrrp
    checker_process_name ka_checker
    bfd_process_name ka_bfd
    startup_script "/usr/local/bin/start.sh arg" root root
    startup_script_timeout 20
    shutdown_script /usr/local/bin/stop.sh nobody
    shutdown_script_timeout 30
    notification_email {
        admin@example.com ops@example.com
        root@example.com
    }
    notification_email_from keepalived@example.com
    smtp_server 192.0.2.25 2525
    smtp_helo_name lb1.example.com
    smtp_connect_timeout 30
    smtp_alert
    smtp_alert_vrrp off
    smtp_alert_checker on
    checker_log_all_failures yes
    no_email_faults
    router_id LB1
    vrrp_mcast_group4 224.0.0.19
    vrrp_mcast_group6 ff02::13
    default_interface eth1
    lvs_sync_daemon eth1 inst VI_1 id 10 maxlen 1400 port 8849 ttl 2 group 224.0.0.82
    lvs_timeouts tcp 900 tcpfin 120 udp 300
    lvs_flush
    lvs_flush_on_stop VS
    vrrp_garp_master_delay 6
    vrrp_garp_master_repeat 3
    vrrp_garp_lower_prio_delay 7
    vrrp_down_timer_adverts 4
    vrrp_garp_lower_prio_repeat 2
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 2
    vrrp_garp_interval 0.001
    vrrp_gna_interval 0.002
    vrrp_min_garp false
    vrrp_garp_extra_if all 100
    vrrp_lower_prio_no_advert
    vrrp_higher_prio_send_advert false
    vrrp_version 3
    nftables keepalived_fw
    nftables_priority -2
    nftables_counters
    nftables_ifindex
    nftables_ipvs ka_ipvs
    nftables_ipvs_priority -3
    nftables_ipvs_start_fwmark 2000
    vrrp_iptables ka_in ka_out
    vrrp_ipsets ka ka6 ka_if6 ka_igmp ka_mld
    disable_local_igmp
    vrrp_check_unicast_src
    vrrp_skip_check_adv_addr
    vrrp_strict
    vrrp_notify_priority_changes true
    max_auto_priority 50
    min_auto_priority_delay 500000
    vrrp_priority -5
    checker_priority 5
    bfd_priority 1
    vrrp_no_swap
    checker_no_swap
    bfd_no_swap
    vrrp_cpu_affinity 0 1
    checker_cpu_affinity 2
    bfd_cpu_affinity 3
    vrrp_rt_priority 50
    checker_rt_priority 40
    bfd_rt_priority 30
    vrrp_rlimit_rttime 20000
    checker_rlimit_rttime 30000
    bfd_rlimit_rttime 40000
    snmp_socket udp:127.0.0.1:705
    enable_snmp_vrrp
    enable_snmp_checker
    enable_snmp_rfc
    enable_snmp_rfcv2
    enable_snmp_rfcv3
    enable_traps
    enable_dbus
    dbus_service_name org.keepalived.Vrrp2
    script_user keepalived_script keepalived
    enable_script_security
    notify_fifo /run/ka/notify.fifo
    notify_fifo_script /usr/local/bin/fifo.sh
    vrrp_notify_fifo /run/ka/vrrp.fifo root
    vrrp_notify_fifo_script "/usr/local/bin/vfifo.sh -v"
    lvs_notify_fifo /run/ka/lvs.fifo
    lvs_notify_fifo_script /usr/local/bin/lfifo.sh
    fifo_write_vrrp_states_on_reload
    dynamic_interfaces allow_if_changes
    vrrp_netlink_cmd_rcv_bufs 1048576
    vrrp_netlink_cmd_rcv_bufs_force true
    vrrp_netlink_monitor_rcv_bufs 2097152
    vrrp_netlink_monitor_rcv_bufs_force false
    lvs_netlink_cmd_rcv_bufs 1048577
    lvs_netlink_cmd_rcv_bufs_force yes
    lvs_netlink_monitor_rcv_bufs 2097153
    lvs_netlink_monitor_rcv_bufs_force no
    process_monitor_rcv_bufs 500000
    process_monitor_rcv_bufs_force on
    vrrp_rx_bufs_policy ADVERT
    vrrp_rx_bufs_multiplier 4
    rs_init_notifies
    no_checker_emails
    umask IWGRP|IWOTH
    vrrp_startup_delay 5.5
    log_unknown_vrids
    vmac_prefix vr
    vmac_addr_prefix va
    random_seed 42
    reload_check_config /var/log/ka_check.log
    include_check +match -wildcard_match
    reload_time_file /run/ka/reload_time
    reload_repeat
    reload_file /run/ka/reload
    data_use_instance
}
linkbeat_interfaces {
    eth1
    eth2 ETHTOOL
}
interface_up_down_delays {
    eth1 0.5
    eth2 0.25 0.75
}
track_group TG1 {
    group {
        VI_1 VI_2
    }
}
static_ipaddress {
    192.168.1.1 dev eth1 scope global label eth1:st peer 192.168.1.254 home -nodad track_group TG1
    192.168.1.2 dev eth1 noprefixroute autojoin preferred_lft forever
    2001:db8:1::1/64 dev eth1 mngtmpaddr preferred_lft 0
    192.168.3.1/24 brd + dev eth1
    192.168.4.1/24 broadcast 192.168.4.255 dev eth1
}
static_routes {
    192.168.2.0/24 via 192.168.1.100 dev eth1 track_group TG1
    10.100.0.0/16 table 6909 no_track nexthop via 10.1.0.1 dev eth1 onlink weight 1 nexthop via 10.1.0.2 weight 2
    10.200.0.0/16 dev eth1 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 no_track
    10.201.0.0/16 dev eth1 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107
    10.202.0.0/16 dev eth1 realms 3/20 rto_min 108 initcwnd 109 initrwnd 110 vrf blue features ecn quickack 1
    10.203.0.0/16 dev eth1 congctl lock cubic fastopen_no_cookie 1 ttl-propagate enabled no_track
    2001:470:69e9:1:2::4 dev eth1 table 6909 pref high expires 600 append inet6
    unreachable 10.99.0.0/16 metric 5 no_track
    default via 192.168.1.254 dev eth1 onlink
}
static_rules {
    from 192.168.2.0/24 table 1 preference 100 track_group TG1 iif eth1 realms 30/20
    not from 192.168.28.0/24 to 192.168.29.0/26 iif eth1 oif eth2 tos 22 fwmark 24/12 preference 39 goto 40
    to 1:2:3:4:5:6:7:0/112 from 7:6:5:4:3:2::/96 table 6908 uidrange 10000-19999 preference 41
    to 1:2:3:4:6:6:7:0/112 from 8::/96 l3mdev protocol 12 no_track ip_proto UDP sport 10-20 dport 20-30 preference 42
    from all lookup main suppress_prefixlength 0 suppress_ifgroup 5 preference 43 no_track iif eth1
    from 10.5.0.0/16 blackhole preference 44
    preference 45 table 5 inet6
}
track_file TF1 {
    file "/run/ka/tf1"
    weight -10 reverse
    init_file 5 overwrite
}
vrrp_track_file TF2 {
    file /run/ka/tf2
}
vrrp_track_process TP1 {
    process haproxy -f "/etc/haproxy/haproxy.cfg"
    param_match partial
    weight 20 reverse
    quorum 1
    quorum_max 4
    fork_delay 0.5
    terminate_delay 1.5
    full_command
}
vrrp_track_process TP2 {
    process nginx
    param_match
    delay 2
}
bfd_instance BFD1 {
    neighbor_ip 192.168.1.2
    source_ip 192.168.1.1
    min_rx 10.5
    min_tx 20
    idle_tx 1000
    multiplier 5
    passive
    ttl 250
    hoplimit 64
    max_hops 3
    weight -20 reverse
    vrrp
    checker
}
bfd_instance BFD2 {
    neighbour_ip 2001:db8::2
}
vrrp_script CHK1 {
    script "/usr/local/bin/check.sh arg1 arg2"
    interval 2
    timeout 3
    weight -4 reverse
    rise 2
    fall 3
    user nobody nogroup
    init_fail
}
vrrp_sync_group SG1 {
    group {
        VI_1
        VI_2
    }
    track_interface {
        eth1
        eth2 weight 10 reverse
    }
    track_script {
        CHK1
        CHK1b weight -5 noreverse
    }
    track_file {
        TF1 weight 3 reverse
    }
    track_process {
        TP1 weight -3
    }
    track_bfd {
        BFD1 weight 5
    }
    notify_master /usr/local/bin/master.sh
    notify_backup "/usr/local/bin/backup.sh SG1" root
    notify_fault "/usr/local/bin/fault.sh" root wheel
    notify_stop /usr/local/bin/stop.sh
    notify_deleted
    notify /usr/local/bin/notify.sh
    notify_priority_changes on
    smtp_alert yes
    global_tracking
    sync_group_tracking_weight
}
vrrp_script CHK1b {
    script /bin/true
}
garp_group {
    garp_interval 0.01
    gna_interval 0.02
    interface eth1
}
garp_group {
    garp_interval 0.03
    interfaces {
        eth2
        eth3 eth4
    }
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    use_vmac vrrp1 02:00:5e:00:11
    use_vmac_addr
    vmac_xmit_base
    vmac_protodown
    dont_track_primary
    track_interface {
        eth2 weight 5
        eth3 weight -5 reverse
        eth4
    }
    track_script {
        CHK1 weight 7 reverse
        CHK1b
    }
    track_file {
        TF2 weight 4 noreverse
    }
    track_process {
        TP2
    }
    track_bfd {
        BFD1
    }
    mcast_src_ip 192.168.1.1
    mcast_dst_ip 224.0.0.20
    track_src_ip
    version 2
    check_unicast_src
    old_unicast_checksum never
    garp_master_delay 3
    garp_master_repeat 2
    garp_lower_prio_delay 4
    garp_lower_prio_repeat 1
    garp_master_refresh 30
    garp_master_refresh_repeat 3
    garp_extra_if 50
    down_timer_adverts 5
    lower_prio_no_advert false
    higher_prio_send_advert
    virtual_router_id 51
    priority 150
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass secret12
    }
    virtual_ipaddress {
        192.168.200.17/24 dev eth1
        192.168.200.18/24 dev eth2 label eth2:1 use_vmac no_track scope link brd 192.168.200.255
    }
    virtual_ipaddress_excluded {
        2001:db8::17/64 dev eth1 -nodad
        192.168.201.1
    }
    promote_secondaries
    virtual_routes {
        src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
        192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1
        blackhole 192.168.114.0/24 no_track
        0.0.0.0/0 gw 192.168.0.1 table 100 no_track
    }
    virtual_rules {
        from 192.168.2.0/24 table 1 preference 200
        to 192.168.2.0/24 table 1 no_track priority 201
    }
    accept
    preempt
    preempt_delay 30
    skip_check_adv_addr off
    strict_mode false
    debug 2
    notify_master "/usr/local/bin/vrrp.sh MASTER VI_1"
    notify_backup "/usr/local/bin/vrrp.sh BACKUP VI_1"
    notify_fault "/usr/local/bin/vrrp.sh FAULT VI_1"
    notify_stop "/usr/local/bin/vrrp.sh STOP VI_1"
    notify_deleted /usr/local/bin/deleted.sh
    notify /usr/local/bin/notify.sh root
    notify_master_rx_lower_pri /usr/local/bin/lower.sh
    notify_priority_changes false
    smtp_alert
    kernel_rx_buf_size 262144
    linkbeat_use_polling
    lvs_sync_daemon_interface eth1
}
vrrp_instance VI_2 {
    state MASTER
    interface eth2
    use_ipvlan ipvl2 2001:db8:50::2/64 private
    native_ipv6
    unicast_src_ip 2001:db8::1
    unicast_peer {
        2001:db8::2 min_ttl 250 max_ttl 255
        2001:db8::3
    }
    unicast_fault_no_peer
    unicast_ttl 255
    virtual_router_id 52
    priority 255
    advert_int 0.05
    virtual_ipaddress {
        2001:db8::100/64
    }
    no_accept
    no_preempt
    strict_mode off
}
vrrp_instance VI_3 {
    vrf blue
    unicast_src_ip 10.0.0.1
    unicast_peer {
        10.0.0.2
    }
    virtual_router_id 53
    virtual_ipaddress {
        10.0.0.100/24 dev eth1
    }
    strict_mode no
}
"""

# the blocks of this side of the model; Config's LVS fields belong to model_lvs
MY_CLASSES = (Config, GlobalDefs, TrackGroup, TrackFile, VrrpTrackProcess, BfdInstance, VrrpScript, VrrpSyncGroup,
              GarpGroup, VrrpInstance, Authentication)
LVS_FIELDS = {"virtual_server_groups", "virtual_servers", "ssl"}  # the LVS side has its own rich config


def load(text: str, **kw: Any):
    return load_text(text, filename="t.conf", **kw)


def ok(text: str):
    r = load(text)
    assert r.diagnostics.errors == [], [d.format() for d in r.diagnostics.errors]
    return r.config


def errors(text: str) -> list[str]:
    return [d.message for d in load(text).diagnostics.errors]


def blocks_of(obj: Any, out: dict[type, list[Any]]) -> dict[type, list[Any]]:
    """Every Block instance reachable from obj, by class."""
    out.setdefault(type(obj), []).append(obj)
    for f, s in specs(type(obj)):
        if s.kind != "sub":
            continue
        v = getattr(obj, f.name)
        for item in (v if s.multi else [v] if v is not None else []):
            blocks_of(item, out)
    return out


@pytest.fixture(scope="module")
def rich():
    return load(RICH)


# ---------------------------------------------------------------------------
# The rich configuration: no errors, every keyword written, round trip


def test_rich_config_has_no_errors(rich):
    assert [d.format() for d in rich.diagnostics.errors] == []


def test_rich_config_writes_every_keyword_of_every_block(rich):
    found = blocks_of(rich.config, {})
    for cls in MY_CLASSES:
        assert cls in found, cls
        written = set().union(*(set(b._pos) for b in found[cls]))
        fields = {f.name for f, _ in specs(cls)} - (LVS_FIELDS if cls is Config else set())
        assert fields - written == set(), f"{cls.__name__}: keywords never written: {sorted(fields - written)}"


def test_rich_config_round_trips_through_dump(rich):
    text = dump(rich.config)
    again = load(text)
    assert again.diagnostics.errors == []
    assert again.config == rich.config
    assert dump(again.config) == text


def test_rich_config_uses_every_route_rule_and_address_option(rich):
    text = dump(rich.config)
    section = lambda name: text.split(f"\n{name} {{\n", 1)[1].split("\n}\n", 1)[0]  # noqa: E731
    vroutes = text.split("virtual_routes {", 1)[1].split("}")[0]
    route_words = set(section("static_routes").split()) | set(vroutes.split())
    assert (_ROUTE_WORDS - {"to"}) - route_words == set()  # the destination is written first, without 'to'
    rule_words = set(section("static_rules").split())
    assert _RULE_WORDS - {"unreachable", "prohibit", "nop"} - rule_words == set()
    addr_words = set(section("static_ipaddress").split()) | set(
        text.split("virtual_ipaddress {", 1)[1].split("}")[0].split())
    assert {"brd", "dev", "scope", "label", "peer", "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin",
            "no_track", "use_vmac", "preferred_lft", "track_group"} - addr_words == set()


def test_apply_defaults_is_idempotent_on_the_rich_config(rich):
    again = load(dump(rich.config)).config
    before = copy.deepcopy(again)
    apply_defaults(again)
    assert again == before


def test_keywords_marked_parsed_or_ignored(rich):
    msgs = {(d.pos.line, d.message.split("'")[1]) for d in rich.diagnostics.warnings
            if "fastka does not act on it" in d.message or "obsolete and ignored" in d.message}
    names = {n for _, n in msgs}
    assert {"net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "tmp_config_directory",
            "bfd_process_name", "nftables", "nftables_priority", "nftables_counters", "nftables_ifindex",
            "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "vrrp_iptables", "vrrp_ipsets",
            "bfd_priority", "bfd_no_swap", "bfd_cpu_affinity", "bfd_rt_priority", "bfd_rlimit_rttime",
            "snmp_socket", "enable_snmp_vrrp", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2",
            "enable_snmp_rfcv3", "enable_traps", "enable_dbus", "dbus_service_name", "bfd_instance", "track_bfd",
            "preempt", "debug"} == names


def test_every_parsed_or_ignored_keyword_has_a_note():
    for cls in MY_CLASSES:
        for f, s in specs(cls):
            if s.support is not Support.YES:
                assert s.note, f"{cls.__name__}.{f.name}"


# ---------------------------------------------------------------------------
# Typed values, block by block


def test_top_level_keywords(rich):
    c = rich.config
    assert (c.net_namespace, c.net_namespace_ipvs, c.namespace_with_ipsets) == ("blue", ("red",), True)
    assert (c.instance, c.use_pid_dir, c.linkbeat_use_polling, c.child_wait_time) == ("lb1", True, True, 7)
    assert c.linkbeat_interfaces == [LinkbeatInterface("eth1"), LinkbeatInterface("eth2", "ETHTOOL")]
    assert c.interface_up_down_delays == [UpDownDelay("eth1", 0.5, 0.5), UpDownDelay("eth2", 0.25, 0.75)]
    assert c.track_groups[0].name == "TG1" and c.track_groups[0].group == ["VI_1", "VI_2"]


def test_global_defs_values(rich):
    g = rich.config.global_defs
    assert g.startup_script == ("/usr/local/bin/start.sh arg", "root", "root")
    assert g.startup_script_timeout == 20
    assert g.notification_email == ["admin@example.com", "ops@example.com", "root@example.com"]
    assert g.smtp_server == SmtpServer("192.0.2.25", 2525)
    assert (g.smtp_alert, g.smtp_alert_vrrp, g.smtp_alert_checker) == (True, False, True)
    assert g.vrrp_mcast_group4 == IP("224.0.0.19") and g.vrrp_mcast_group6 == IP("ff02::13")
    assert g.lvs_sync_daemon == LvsSyncDaemon("eth1", "VI_1", 10, 1400, 8849, 2, "224.0.0.82")
    assert g.lvs_timeouts == LvsTimeouts(900, 120, 300)
    assert g.lvs_flush_on_stop == "VS"
    assert (g.vrrp_garp_master_delay, g.vrrp_garp_master_repeat, g.vrrp_garp_lower_prio_delay) == (6, 3, 7)
    assert (g.vrrp_garp_interval, g.vrrp_gna_interval) == (0.001, 0.002)
    assert g.vrrp_min_garp is False
    assert g.vrrp_garp_extra_if == GarpExtraIf(100, all=True)
    assert (g.vrrp_lower_prio_no_advert, g.vrrp_higher_prio_send_advert, g.vrrp_version) == (True, False, 3)
    assert g.nftables == ("keepalived_fw",) and g.nftables_priority == -2
    assert g.vrrp_iptables == ("ka_in", "ka_out")
    assert g.vrrp_ipsets == ("ka", "ka6", "ka_if6", "ka_igmp", "ka_mld")
    assert (g.max_auto_priority, g.min_auto_priority_delay, g.vrrp_priority) == (50, 500000, -5)
    assert g.vrrp_cpu_affinity == (0, 1)
    assert g.script_user == ("keepalived_script", "keepalived")
    assert g.vrrp_notify_fifo_script == ("/usr/local/bin/vfifo.sh -v",)
    assert g.dynamic_interfaces == "allow_if_changes"
    assert g.vrrp_netlink_cmd_rcv_bufs_force is True and g.vrrp_netlink_monitor_rcv_bufs_force is False
    assert g.vrrp_rx_bufs_policy == "ADVERT"
    assert g.umask == 0o22
    assert g.vrrp_startup_delay == 5.5
    assert g.include_check == ("+match", "-wildcard_match")
    assert g.reload_check_config == ("/var/log/ka_check.log",) and g.reload_file == ("/run/ka/reload",)
    assert g.data_use_instance is True


@pytest.mark.parametrize("line, field, value", [
    ("umask 0177", "umask", 0o177),
    ("umask 0x1f", "umask", 0x1F),
    ("umask 18", "umask", 18),
    ("umask IWGRP | IWOTH", "umask", 0o22),
    ("max_auto_priority", "max_auto_priority", 99),
    ("max_auto_priority -1", "max_auto_priority", -1),
    ("lvs_flush_on_stop", "lvs_flush_on_stop", "all"),
    ("dynamic_interfaces", "dynamic_interfaces", "on"),
    ("vrrp_rx_bufs_policy mtu", "vrrp_rx_bufs_policy", "MTU"),
    ("vrrp_rx_bufs_policy 65536", "vrrp_rx_bufs_policy", 65536),
    ("smtp_server mail.example.com", "smtp_server", SmtpServer("mail.example.com")),
    ("smtp_server 2001:db8::25 25", "smtp_server", SmtpServer("2001:db8::25", 25)),
    ("lvs_sync_daemon eth0 VI_1", "lvs_sync_daemon", LvsSyncDaemon("eth0", "VI_1")),
    ("lvs_sync_daemon eth0 id 3", "lvs_sync_daemon", LvsSyncDaemon("eth0", syncid=3)),
    ("vrrp_iptables", "vrrp_iptables", ()),
    ("reload_file", "reload_file", ()),
    ("vrrp_garp_extra_if 300", "vrrp_garp_extra_if", GarpExtraIf(300)),
    ("vrrp_min_garp", "vrrp_min_garp", True),
])
def test_global_defs_value_forms(line, field, value):
    r = load(f"global_defs {{\n  {line}\n}}\n")
    assert [d.message for d in r.diagnostics.errors if d.message.startswith(field + ":")] == []
    assert getattr(r.config.global_defs, field) == value


@pytest.mark.parametrize("line, message", [
    ("startup_script_timeout 1001", "startup_script_timeout: 1001 is out of range"),
    ("vrrp_version 4", "vrrp_version: 4 is out of range"),
    ("vrrp_priority -21", "vrrp_priority: -21 is out of range"),
    ("vrrp_rt_priority 100", "vrrp_rt_priority: 100 is out of range"),
    ("vrrp_rlimit_rttime 1", "vrrp_rlimit_rttime: 1 is out of range"),
    ("min_auto_priority_delay 10000001", "min_auto_priority_delay: 10000001 is out of range"),
    ("max_auto_priority 100", "max_auto_priority: 100 is out of range"),
    ("vrrp_down_timer_adverts 0", "vrrp_down_timer_adverts: 0 is out of range"),
    ("vrrp_garp_master_delay 4295", "vrrp_garp_master_delay: 4295 is out of range"),
    ("vrrp_garp_extra_if all 86401", "vrrp_garp_extra_if: 86401 is out of range"),
    ("vrrp_mcast_group4 ff02::12", "vrrp_mcast_group4: 'ff02::12' is an IPv6 address"),
    ("umask IWGRP|IWXYZ", "umask: 'IWXYZ' is not a umask bit"),
    ("lvs_sync_daemon eth0 id 300", "lvs_sync_daemon: 300 is out of range"),
    ("lvs_timeouts tcp", "lvs_timeouts: 'tcp' needs a value"),
    ("smtp_server bad_host", "smtp_server: 'bad_host' is neither an IP address nor a host name"),
    ("vrrp_rx_bufs_policy SOMETIMES", "vrrp_rx_bufs_policy: 'SOMETIMES' is not an integer"),
    ("smtp_connect_timeout 0", "smtp_connect_timeout: 0 is out of range"),
])
def test_global_defs_bad_values(line, message):
    assert errors(f"global_defs {{\n  {line}\n}}\n") == [message]


def test_track_file_process_script_bfd_values(rich):
    c = rich.config
    tf1, tf2 = c.track_files
    assert (tf1.name, tf1.file, tf1.weight, tf1.init_file) == ("TF1", "/run/ka/tf1", Weight(-10, True), (5, True))
    assert (tf2.name, tf2.file, tf2.weight) == ("TF2", "/run/ka/tf2", Weight(1))  # weight defaults to 1
    tp1, tp2 = c.vrrp_track_processes
    assert tp1.process == ("haproxy", "-f", "/etc/haproxy/haproxy.cfg")
    assert (tp1.param_match, tp1.weight, tp1.quorum, tp1.quorum_max) == ("partial", Weight(20, True), 1, 4)
    assert (tp1.fork_delay, tp1.terminate_delay, tp1.full_command) == (0.5, 1.5, True)
    assert (tp2.param_match, tp2.delay, tp2.fork_delay, tp2.terminate_delay) == ("exact", 2.0, 2.0, 2.0)
    assert (tp2.weight, tp2.quorum) == (Weight(0), 1)
    b1, b2 = c.bfd_instances
    assert (b1.neighbor_ip, b1.source_ip, b1.min_rx, b1.min_tx, b1.idle_tx) == (
        IP("192.168.1.2"), IP("192.168.1.1"), 10.5, 20.0, 1000.0)
    assert (b1.multiplier, b1.passive, b1.ttl, b1.hoplimit, b1.max_hops) == (5, True, 250, 64, 3)
    assert (b1.weight, b1.vrrp, b1.checker) == (Weight(-20, True), True, True)
    assert b2.neighbor_ip == IP("2001:db8::2")
    s = c.vrrp_scripts[0]
    assert s.script == "/usr/local/bin/check.sh arg1 arg2"
    assert (s.interval, s.timeout, s.weight, s.rise, s.fall) == (2, 3, Weight(-4, True), 2, 3)
    assert (s.user, s.init_fail) == (("nobody", "nogroup"), True)


def test_sync_group_values(rich):
    sg = rich.config.vrrp_sync_groups[0]
    assert sg.group == ["VI_1", "VI_2"]
    assert sg.track_interface == [TrackRef("eth1"), TrackRef("eth2", 10, True)]
    assert sg.track_script == [TrackRef("CHK1"), TrackRef("CHK1b", -5, False)]
    assert sg.track_file == [TrackRef("TF1", 3, True)]
    assert sg.track_process == [TrackRef("TP1", -3)]
    assert sg.track_bfd == [TrackRef("BFD1", 5)]
    assert sg.notify_backup == ("/usr/local/bin/backup.sh SG1", "root")
    assert sg.notify_fault == ("/usr/local/bin/fault.sh", "root", "wheel")
    assert sg.notify_deleted == ()
    assert (sg.notify_priority_changes, sg.smtp_alert, sg.global_tracking, sg.sync_group_tracking_weight) == (
        True, True, True, True)


def test_garp_groups(rich):
    g1, g2 = rich.config.garp_groups
    assert (g1.garp_interval, g1.gna_interval, g1.interface, g1.interfaces) == (0.01, 0.02, "eth1", [])
    assert (g2.garp_interval, g2.interface, g2.interfaces) == (0.03, None, ["eth2", "eth3", "eth4"])


def test_vrrp_instance_values(rich):
    i1, i2, i3 = rich.config.vrrp_instances
    assert (i1.name, i1.state, i1.interface) == ("VI_1", "BACKUP", "eth1")
    assert i1.use_vmac == UseVmac("vrrp1", "02:00:5e:00:11")
    assert (i1.use_vmac_addr, i1.vmac_xmit_base, i1.dont_track_primary) == (True, True, True)
    assert i1.track_interface == [TrackRef("eth2", 5), TrackRef("eth3", -5, True), TrackRef("eth4")]
    assert i1.track_script == [TrackRef("CHK1", 7, True), TrackRef("CHK1b")]
    assert i1.track_file == [TrackRef("TF2", 4)]
    assert (i1.mcast_src_ip, i1.mcast_dst_ip, i1.track_src_ip) == (IP("192.168.1.1"), IP("224.0.0.20"), True)
    assert (i1.version, i1.check_unicast_src, i1.old_unicast_checksum) == (2, True, "never")
    assert (i1.garp_master_delay, i1.garp_master_repeat, i1.garp_lower_prio_delay, i1.garp_lower_prio_repeat,
            i1.garp_master_refresh, i1.garp_master_refresh_repeat) == (3, 2, 4, 1, 30, 3)
    assert (i1.garp_extra_if, i1.down_timer_adverts) == (GarpExtraIf(50), 5)
    assert (i1.lower_prio_no_advert, i1.higher_prio_send_advert) == (False, True)
    assert (i1.virtual_router_id, i1.priority, i1.advert_int) == (51, 150, 2.0)
    assert i1.authentication == Authentication("PASS", "secret12")
    assert i1.virtual_ipaddress == [
        VirtualIP("192.168.200.17", 24, dev="eth1"),
        VirtualIP("192.168.200.18", 24, brd="192.168.200.255", dev="eth2", scope="link", label="eth2:1",
                  no_track=True, use_vmac=True)]
    assert i1.virtual_ipaddress_excluded == [VirtualIP("2001:db8::17", 64, dev="eth1", nodad=True),
                                             VirtualIP("192.168.201.1", 32)]
    assert i1.virtual_routes[0] == Route("192.168.109.0/24", src="192.168.100.1", via="192.168.200.254", dev="eth1")
    assert i1.virtual_routes[3] == Route("0.0.0.0/0", via="192.168.0.1", table=100, no_track=True)
    assert i1.virtual_rules == [Rule(from_="192.168.2.0/24", table=1, preference=200),
                                Rule(to="192.168.2.0/24", table=1, no_track=True, preference=201)]
    assert (i1.accept, i1.no_accept, i1.preempt, i1.preempt_delay, i1.debug) == (True, False, True, 30.0, 2)
    assert (i1.skip_check_adv_addr, i1.strict_mode) == (False, False)
    assert i1.notify_master == ("/usr/local/bin/vrrp.sh MASTER VI_1",)
    assert i1.notify == ("/usr/local/bin/notify.sh", "root")
    assert i1.notify_deleted == ("/usr/local/bin/deleted.sh",)
    assert (i1.notify_priority_changes, i1.smtp_alert, i1.kernel_rx_buf_size) == (False, True, 262144)
    # moved into global_defs lvs_sync_daemon (the dump says it once)
    assert (i1.linkbeat_use_polling, i1.lvs_sync_daemon_interface) == (True, None)
    assert i2.use_ipvlan == UseIpvlan("ipvl2", "2001:db8:50::2/64", "private")
    assert (i2.native_ipv6, i2.unicast_src_ip, i2.unicast_fault_no_peer, i2.unicast_ttl) == (
        True, IP("2001:db8::1"), True, 255)
    assert i2.unicast_peer == [UnicastPeer("2001:db8::2", 250, 255), UnicastPeer("2001:db8::3")]
    assert (i2.advert_int, i2.accept, i2.no_accept, i2.nopreempt) == (0.05, False, True, True)
    assert (i3.vrf, i3.interface, i3.family) == ("blue", None, 4)


# ---------------------------------------------------------------------------
# Aliases


@pytest.mark.parametrize("text, path, value", [
    ("vrrp_track_file F {\n file /x\n}\n", ("track_files", 0, "file"), "/x"),
    ("bfd_instance B {\n neighbour_ip 10.0.0.1\n}\n", ("bfd_instances", 0, "neighbor_ip"), IP("10.0.0.1")),
    ("vrrp_instance V {\n no_preempt\n}\n", ("vrrp_instances", 0, "nopreempt"), True),
    ("vrrp_instance V {\n virtual_routes {\n  10.1.0.0/16 gw 10.0.0.1 priority 4 dsfield 8\n }\n}\n",
     ("vrrp_instances", 0, "virtual_routes", 0), Route("10.1.0.0/16", via="10.0.0.1", metric=4, tos=8)),
    ("vrrp_instance V {\n virtual_routes {\n  10.1.0.0/16 via 10.0.0.1 preference 4\n }\n}\n",
     ("vrrp_instances", 0, "virtual_routes", 0), Route("10.1.0.0/16", via="10.0.0.1", metric=4)),
    ("vrrp_instance V {\n virtual_rules {\n  from 10.1.0.0/16 lookup 7 order 9 dsfield 4 ip_proto tcp\n }\n}\n",
     ("vrrp_instances", 0, "virtual_rules", 0),
     Rule(from_="10.1.0.0/16", table=7, preference=9, tos=4, ipproto="tcp")),
    ("vrrp_instance V {\n virtual_rules {\n  from 10.1.0.0/16 table 7 priority 9\n }\n}\n",
     ("vrrp_instances", 0, "virtual_rules", 0), Rule(from_="10.1.0.0/16", table=7, preference=9)),
    ("vrrp_instance V {\n virtual_ipaddress {\n  10.0.0.1/24 broadcast 10.0.0.255\n }\n}\n",
     ("vrrp_instances", 0, "virtual_ipaddress", 0), VirtualIP("10.0.0.1", 24, brd="10.0.0.255")),
    ("vrrp_instance V {\n track_script {\n  S weight 2 no_reverse\n }\n}\n",
     ("vrrp_instances", 0, "track_script", 0), TrackRef("S", 2)),
])
def test_aliases_map_to_the_canonical_field(text, path, value):
    c = load(text).config
    obj: Any = c
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    assert obj == value


def test_aliases_dump_under_the_canonical_keyword():
    text = dump(load("vrrp_track_file F {\n file /x\n}\nbfd_instance B {\n neighbour_ip 10.0.0.1\n}\n"
                     "vrrp_instance V {\n no_preempt\n}\n").config)
    assert "track_file F {" in text and "vrrp_track_file" not in text
    assert "    neighbor_ip 10.0.0.1" in text and "neighbour_ip" not in text
    assert "    nopreempt\n" in text and "no_preempt" not in text


# ---------------------------------------------------------------------------
# Line formats


def toks(line: str) -> list[Token]:
    out, col = [], 1
    for word in line.split(" "):
        if word:
            out.append(Token(word, Pos("l", 1, col)))
        col += len(word) + 1
    return out


def parse(t: Any, line: str) -> Any:
    return t.parse(toks(line))


def bad(t: Any, line: str) -> tuple[str, int]:
    with pytest.raises(BadValue) as e:
        parse(t, line)
    return e.value.message, e.value.token.pos.col


@pytest.mark.parametrize("line, vip", [
    ("10.0.0.1", VirtualIP("10.0.0.1", 32)),
    ("10.0.0.1/24 brd - dev eth0", VirtualIP("10.0.0.1", 24, brd="-", dev="eth0")),
    ("fe80::1/64 dev eth0 scope link preferred_lft 0", VirtualIP("fe80::1", 64, dev="eth0", scope="link",
                                                                 preferred_lft="0")),
    ("10.0.0.1 peer 10.0.0.2 dev eth0", VirtualIP("10.0.0.1", 32, peer="10.0.0.2", dev="eth0")),
    ("10.0.0.1 scope 200", VirtualIP("10.0.0.1", 32, scope="200")),
])
def test_virtual_ip_lines(line, vip):
    t = VirtualIPLine()
    assert parse(t, line) == vip
    assert t.parse(toks(" ".join(t.format(vip)))) == vip


@pytest.mark.parametrize("line, message, col", [
    ("10.0.0.1 bogus", "unknown address option 'bogus'", 10),
    ("10.0.0.1 dev", "'dev' needs a value", 10),
    ("10.0.0.1 dev eth0 dev eth1", "'dev' is given twice", 19),
    ("10.0.0.1 scope galaxy", "'galaxy' is not a scope", 16),
    ("10.0.0.1/24 peer 10.0.0.2", "an address with a peer takes no prefix length", 1),
    ("10.0.0.1 peer fe80::1", "'fe80::1' is an IPv6 address", 15),
    ("fe80::1/64 brd +", "IPv6 addresses have no broadcast address", 12),
    ("10.0.0.1 preferred_lft soon", "'soon' is not an integer", 24),
    ("10.0.0.1 dev averyveryverylongname", "'averyveryverylongname' is not a valid interface name", 14),
])
def test_virtual_ip_line_errors(line, message, col):
    assert bad(VirtualIPLine(), line) == (message, col)


@pytest.mark.parametrize("line, route", [
    ("src 192.168.100.1 192.168.109.0/24 via 192.168.200.254 dev eth0",
     Route("192.168.109.0/24", src="192.168.100.1", via="192.168.200.254", dev="eth0")),
    ("blackhole 192.168.113.1", Route("192.168.113.1/32", type="blackhole")),
    ("default via inet6 fe80::1 dev eth0 inet6", Route("default", via="fe80::1", dev="eth0", inet6=True)),
    ("10.0.0.0/8 via 10.1.1.1 or 10.1.1.2", Route("10.0.0.0/8", via="10.1.1.1", or_via="10.1.1.2")),
    ("10.0.0.0/8 mtu lock 1400 rtt 3s rto_min 30ms congctl cubic",
     Route("10.0.0.0/8", mtu=1400, rtt="3s", rto_min="30ms", congctl="cubic", locked=("mtu",))),
    ("10.0.0.0/8 table main protocol 18 scope 253 realms blue",
     Route("10.0.0.0/8", table="main", protocol=18, scope="253", realms="blue")),
    ("10.0.0.0/8 nexthop via 10.1.1.1 weight 3 nexthop dev eth1",
     Route("10.0.0.0/8", nexthops=[Nexthop(via="10.1.1.1", weight=3), Nexthop(dev="eth1")])),
])
def test_route_lines(line, route):
    t = RouteLine()
    assert parse(t, line) == route
    assert t.parse(toks(" ".join(t.format(route)))) == route


@pytest.mark.parametrize("line, message, col", [
    ("10.0.0.0/8 via", "'via' needs a value", 12),
    ("10.0.0.0/8 encap mpls 100", "unknown route option 'encap'", 12),
    ("10.0.0.0/8 dev eth0 dev eth1", "'dev' is given twice", 21),
    ("via 10.0.0.1", "the route has no destination", 1),
    ("10.0.0.0/8 11.0.0.0/8", "unknown route option '11.0.0.0/8'", 12),
    ("10.0.0.0/8 pref high", "'pref' is only valid for IPv6 routes", 12),
    ("10.0.0.0/8 inet6", "inet6 is given for an IPv4 route", 12),
    ("10.0.0.0/8 src fe80::1", "src fe80::1 is not an IPv4 address like the destination", 12),
    ("blackhole 10.0.0.0/8 via 10.0.0.1", "a blackhole route has no gateway", 22),
    ("10.0.0.0/8 nexthop via 10.0.0.1 dev eth0 table 5", "'table' after the nexthops: route options come before them",
     42),
    ("10.0.0.0/8 nexthop", "'nexthop' needs a gateway or device", 12),
    ("10.0.0.0/8 features fast", "unknown route feature 'fast'", 21),
    ("10.0.0.0/8 rtt soon", "'soon' is not a time", 16),
    ("10.0.0.0/8 quickack 2", "2 is out of range", 21),
    ("10.0.0.0/8 tos 256", "256 is out of range", 16),
    ("10.0.0.0/8 nexthop via 10.0.0.1 weight 0", "0 is out of range", 40),
])
def test_route_line_errors(line, message, col):
    assert bad(RouteLine(), line) == (message, col)


@pytest.mark.parametrize("line, rule", [
    ("from 192.168.28.0/24 to 192.168.29.0/26 table small iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39",
     Rule(from_="192.168.28.0/24", to="192.168.29.0/26", table="small", iif="p33p1", oif="wlan0", tos=22,
          fwmark=24, fwmask=12, preference=39)),
    ("not from all fwmark 0x10 unreachable", Rule(from_="all", invert=True, fwmark=16, action="unreachable")),
    ("to 1::/112 from 7::/96 table 6908 uidrange 10000-19999",
     Rule(from_="7::/96", to="1::/112", table=6908, uidrange=(10000, 19999))),
    ("from 10.0.0.0/8 sport 80 dport 1000-2000 ipproto 6 protocol 18 l3mdev",
     Rule(from_="10.0.0.0/8", sport=(80, 80), dport=(1000, 2000), ipproto="6", protocol=18, l3mdev=True)),
    ("from 10.0.0.0/8 goto 50 preference 10", Rule(from_="10.0.0.0/8", goto=50, preference=10)),
    ("table 5 inet6 preference 2", Rule(table=5, inet6=True, preference=2)),
])
def test_rule_lines(line, rule):
    t = RuleLine()
    assert parse(t, line) == rule
    assert t.parse(toks(" ".join(t.format(rule)))) == rule
    assert rule.family == (6 if ":" in line or "inet6" in line else 4)


@pytest.mark.parametrize("line, message, col", [
    ("from 10.0.0.0/8 table", "'table' needs a value", 17),
    ("from 10.0.0.0/8 pref 5", "unknown rule option 'pref'", 17),
    ("from 10.0.0.0/8 from 11.0.0.0/8", "'from' is given twice", 17),
    ("from 10.0.0.0/8 to fe80::/64", "'from' and 'to' are of different address families", 17),
    ("from 10.0.0.0/8 inet6", "inet6 is given for an IPv4 rule", 17),
    ("from 10.0.0.0/8 table 1 blackhole", "a rule has one action: table, goto, or blackhole|unreachable|prohibit|nop",
     1),
    ("from 10.0.0.0/8 goto 10 preference 10", "goto 10 must jump forward, past the rule's preference 10", 17),
    ("from 10.0.0.0/8 goto 40 realms 3", "'realms' only goes with a table lookup", 25),
    ("from 10.0.0.0/8 uidrange 5", "'5' is not a uid range", 26),
    ("from 10.0.0.0/8 sport 20-10", "'20-10': the start of the range is above its end", 23),
    ("from 10.0.0.0/8 dport 70000", "70000 is out of range", 23),
    ("from 10.0.0.0/8 fwmark 0x1/bad", "'bad' is not an integer", 24),
    ("from 10.0.0.0/8 blackhole nop", "'nop' is given twice", 27),
])
def test_rule_line_errors(line, message, col):
    assert bad(RuleLine(), line) == (message, col)


@pytest.mark.parametrize("line", ["nopreempt false", "accept off", "check_unicast_src no", "promote_secondaries 0"])
def test_bare_keywords_refuse_an_argument(line):
    # keepalived 2.2.7 ignores the argument and turns the option on: refuse it instead
    r = load(f"vrrp_instance V {{\n    {line}\n}}\n")
    [d] = [d for d in r.diagnostics.errors if d.pos.line == 2]
    word, arg = line.split()
    assert (d.pos.col, d.message) == (6 + len(word), f"{word}: unexpected extra argument '{arg}'")
    assert d.expected == "no argument (keepalived would ignore it and turn the option on)"


def test_bool_keywords_take_an_argument():
    i = inst_of("vrrp_instance V {\n    smtp_alert false\n    lower_prio_no_advert off\n    strict_mode no\n}\n")
    assert (i.smtp_alert, i.lower_prio_no_advert, i.strict_mode) == (False, False, False)


def test_timers_dump_exactly():
    c = ok("vrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    preempt_delay 4.123456\n"
           "    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n"
           "global_defs {\n    vrrp_gna_interval 0.000001\n    vrrp_startup_delay 4294.967295\n}\n")
    text = dump(c)
    assert "    preempt_delay 4.123456\n" in text
    assert "    vrrp_gna_interval 0.000001\n" in text and "    vrrp_startup_delay 4294.967295\n" in text
    assert load(text).config == c


def test_track_and_peer_line_errors():
    c = load("vrrp_instance V {\n track_interface {\n  eth0 weight 254\n  eth1 weight 2 noreverse\n  eth2 reverse\n }\n"
             " track_file {\n  F weight -254 reverse\n }\n unicast_peer {\n  10.0.0.2 min_ttl 256\n"
             "  10.0.0.3 ttl 3\n }\n}\n")
    got = [(d.pos.line, d.pos.col, d.message) for d in c.diagnostics.errors
           if d.message.startswith(("track_interface:", "unicast_peer:"))]
    assert got == [
        (3, 15, "track_interface: 254 is out of range"),
        (4, 17, "track_interface: unexpected 'noreverse'"),
        (5, 8, "track_interface: unexpected 'reverse'"),
        (11, 20, "unicast_peer: 256 is out of range"),
        (12, 12, "unicast_peer: unexpected 'ttl'"),
    ]
    assert c.config.vrrp_instances[0].track_file == [TrackRef("F", -254, True)]


@pytest.mark.parametrize("line, value", [
    ("use_vmac", UseVmac()),
    ("use_vmac vrrp.51", UseVmac("vrrp.51")),
    ("use_vmac 02:00:5E:00:10", UseVmac(mac="02:00:5e:00:10")),
    ("use_ipvlan", UseIpvlan()),
    ("use_ipvlan 10.0.0.5/24", UseIpvlan(address="10.0.0.5/24")),
    ("use_ipvlan ipv1 vepa", UseIpvlan("ipv1", mode="vepa")),
])
def test_vmac_ipvlan_forms(line, value):
    inst = load(f"vrrp_instance V {{\n {line}\n}}\n").config.vrrp_instances[0]
    assert getattr(inst, line.split()[0]) == value


# ---------------------------------------------------------------------------
# Unknown keywords, misplaced keywords


def test_unknown_keyword_gets_did_you_mean():
    r = load("vrrp_instance V {\n    virtual_router_idd 5\n}\n")
    [d] = [d for d in r.diagnostics.errors if d.message.startswith("unknown")]
    assert (d.pos.file, d.pos.line, d.pos.col) == ("t.conf", 2, 5)
    assert d.message == "unknown keyword 'virtual_router_idd' in vrrp_instance"
    assert d.hint == "did you mean 'virtual_router_id'?"


def test_unknown_global_keyword_gets_did_you_mean():
    [d] = load("global_defs {\n  vrrp_garp_master_dealy 5\n}\n").diagnostics.errors
    assert (d.pos.line, d.pos.col, d.hint) == (2, 3, "did you mean 'vrrp_garp_master_delay'?")


def test_keyword_in_the_wrong_block_says_where_it_belongs():
    [d] = load("global_defs {\n  unicast_fault_no_peer\n}\n").diagnostics.errors
    assert d.message == "unknown keyword 'unicast_fault_no_peer' in global_defs"
    assert d.hint == "'unicast_fault_no_peer' belongs in vrrp_instance"


# ---------------------------------------------------------------------------
# apply_defaults: keepalived 2.2.7's effective values


def inst_of(text: str) -> VrrpInstance:
    return load(text).config.vrrp_instances[0]


def test_defaults_of_a_plain_instance():
    i = inst_of("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n")
    assert (i.state, i.priority, i.advert_int, i.version, i.accept, i.preempt_delay) == ("BACKUP", 100, 1.0, 2, True,
                                                                                        0.0)
    assert (i.garp_master_delay, i.garp_master_repeat) == (5, 5)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (5, 5)
    assert (i.garp_master_refresh, i.garp_master_refresh_repeat, i.down_timer_adverts) == (0, 1, 3)
    assert (i.lower_prio_no_advert, i.higher_prio_send_advert, i.skip_check_adv_addr) == (False, False, False)
    assert (i.strict_mode, i.check_unicast_src, i.smtp_alert, i.notify_priority_changes) == (False, False, False,
                                                                                             False)
    assert i.mcast_dst_ip == IP("224.0.0.18") and i.garp_extra_if is None


def test_state_master_without_priority_is_the_address_owner():
    i = inst_of("vrrp_instance V {\n state MASTER\n}\n")
    assert (i.state, i.priority) == ("MASTER", 255)


def test_priority_255_without_state_starts_master_but_explicit_backup_stays():
    assert inst_of("vrrp_instance V {\n priority 255\n}\n").state == "MASTER"
    assert inst_of("vrrp_instance V {\n priority 255\n state BACKUP\n}\n").state == "BACKUP"


def test_ipv6_instances_use_version_3_and_ff02_12():
    i = inst_of("global_defs {\n vrrp_version 2\n}\nvrrp_instance V {\n virtual_ipaddress {\n  fe80::1\n }\n}\n")
    assert (i.version, i.mcast_dst_ip) == (3, IP("ff02::12"))


def test_global_defs_feed_instance_defaults():
    i = inst_of("global_defs {\n vrrp_version 3\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 4\n"
                " vrrp_garp_master_refresh 9\n vrrp_garp_master_refresh_repeat 3\n vrrp_down_timer_adverts 6\n"
                " vrrp_lower_prio_no_advert\n vrrp_higher_prio_send_advert\n vrrp_skip_check_adv_addr\n"
                " vrrp_check_unicast_src\n vrrp_mcast_group4 224.0.0.99\n vrrp_garp_extra_if 60\n"
                " smtp_alert\n vrrp_notify_priority_changes\n}\nvrrp_instance V {\n}\n")
    assert (i.version, i.garp_master_delay, i.garp_master_repeat) == (3, 2, 4)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (2, 4)  # default to the global master values
    assert (i.garp_master_refresh, i.garp_master_refresh_repeat, i.down_timer_adverts) == (9, 3, 6)
    assert (i.lower_prio_no_advert, i.higher_prio_send_advert, i.skip_check_adv_addr) == (True, True, True)
    assert (i.check_unicast_src, i.mcast_dst_ip, i.garp_extra_if) == (True, IP("224.0.0.99"), GarpExtraIf(60))
    assert (i.smtp_alert, i.notify_priority_changes) == (True, True)


def test_lower_prio_garp_defaults_follow_the_global_not_the_instance_master_values():
    i = inst_of("vrrp_instance V {\n garp_master_delay 3\n garp_master_repeat 2\n}\n")
    assert (i.garp_master_delay, i.garp_master_repeat) == (3, 2)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (5, 5)


def test_smtp_alert_vrrp_beats_smtp_alert():
    i = inst_of("global_defs {\n smtp_alert\n smtp_alert_vrrp false\n}\nvrrp_instance V {\n}\n")
    assert i.smtp_alert is False


def test_vrrp_min_garp_sends_one_garp_without_a_second_set():
    i = inst_of("global_defs {\n vrrp_min_garp\n}\nvrrp_instance V {\n}\n")
    assert (i.garp_master_delay, i.garp_master_repeat) == (0, 1)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (0, 1)


def test_strict_mode_defaults():
    i = inst_of("global_defs {\n vrrp_strict\n vrrp_garp_lower_prio_repeat 4\n}\n"
                "vrrp_instance V {\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n")
    assert (i.strict_mode, i.accept, i.lower_prio_no_advert, i.higher_prio_send_advert) == (True, False, True, False)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (0, 0)
    owner = inst_of("global_defs {\n vrrp_strict\n}\nvrrp_instance V {\n priority 255\n}\n")
    assert (owner.state, owner.accept) == ("MASTER", True)


def test_no_accept_and_unicast_defaults():
    i = inst_of("vrrp_instance V {\n no_accept\n use_vmac\n unicast_peer {\n  10.0.0.2 min_ttl 3\n }\n}\n")
    assert (i.accept, i.vmac_xmit_base, i.check_unicast_src, i.mcast_dst_ip) == (False, True, True, None)


def test_lvs_sync_daemon_interface_becomes_the_global_lvs_sync_daemon():
    c = load("global_defs {\n}\nvrrp_instance VI_9 {\n lvs_sync_daemon_interface eth3\n}\n").config
    assert c.global_defs.lvs_sync_daemon == LvsSyncDaemon("eth3", "VI_9")


def test_defaults_survive_dump_and_reload_unchanged():
    text = ("global_defs {\n vrrp_strict\n}\nvrrp_script S {\n script /bin/true\n}\nvrrp_track_process P {\n"
            " process x\n delay 3\n}\ninterface_up_down_delays {\n eth0 2\n}\nvrrp_instance V {\n interface eth0\n"
            " virtual_router_id 9\n priority 255\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n")
    first = load(text)
    second = load(dump(first.config))
    assert second.config == first.config
    assert second.diagnostics.errors == []


# ---------------------------------------------------------------------------
# keepalived's sample configurations: the VRRP / global parts have no unknown keyword

SAMPLES = "/usr/share/doc/keepalived/samples"  # Debian's keepalived (scripts/setup installs it)


@pytest.mark.skipif(not os.path.isdir(SAMPLES), reason="keepalived samples not unpacked")
@pytest.mark.parametrize("name", sorted(n for n in os.listdir(SAMPLES) if n.startswith("keepalived.conf"))
                         if os.path.isdir(SAMPLES) else [])
def test_samples_have_no_unknown_vrrp_or_global_keywords(name):
    r = load_text(open(os.path.join(SAMPLES, name)).read(), filename=name)
    unknown = [d for d in r.diagnostics.errors if d.message.startswith("unknown keyword")
               and not any(b in d.message for b in ("virtual_server", "real_server", "_CHECK", "url", "SSL"))]
    if name == "keepalived.conf.vrrp.lvs_syncd":
        # the sample lists instances directly in vrrp_sync_group, without 'group { }':
        # keepalived 2.2.7 reports the same two unknown keywords
        assert [(d.pos.line, d.message) for d in unknown] == [
            (4, "unknown keyword 'VI_2' in vrrp_sync_group"), (5, "unknown keyword 'VI_3' in vrrp_sync_group")]
    else:
        assert unknown == []
    again = load_text(dump(r.config))
    assert again.config == r.config


# the IPv4 fast path of virtual_ipaddress lines agrees with the general address parser
from hypothesis import given as _given  # noqa: E402
from hypothesis import strategies as _st  # noqa: E402


@_given(_st.one_of(
    _st.ip_addresses(v=4).map(str),
    _st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){2,4}(/[0-9]{1,3})?\Z"),
), _st.one_of(_st.none(), _st.integers(0, 40)))
def test_vip_ipv4_fast_path_matches_general_parser(addr, plen):
    from fastka.config.model_vrrp import VirtualIPLine
    from fastka.config.source import Pos, Token
    from fastka.config.values import BadValue, parse_prefix

    text = addr if plen is None or "/" in addr else f"{addr}/{plen}"
    tok = Token(text, Pos("f", 1, 1))
    try:
        a, n = parse_prefix(tok)
        want = (str(a), n)
    except BadValue:
        want = None
    try:
        vip = VirtualIPLine().parse([tok])
        got = (vip.address, vip.prefixlen)
    except BadValue:
        got = None
    assert got == want
