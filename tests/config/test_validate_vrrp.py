"""Semantic checks of the VRRP / global model: each problem is reported at the keyword
(or list item) it is about, with file, line and column, and every problem is reported."""

from __future__ import annotations


import pytest

from fastka.config import load_text
from fastka.config import validate_vrrp as vv

BASE = "    interface eth0\n    virtual_router_id {vrid}\n    virtual_ipaddress {{\n        {vip}\n    }}\n"


def inst(name: str = "V", body: str = "", vrid: int = 1, vip: str = "10.0.0.1", base: bool = True) -> str:
    return f"vrrp_instance {name} {{\n" + (BASE.format(vrid=vrid, vip=vip) if base else "") + body + "}\n"


def diags(text: str, severity: str = "error", check_system: bool = False) -> list[tuple[str, int, int, str]]:
    r = load_text(text, filename="v.conf", check_system=check_system)
    return [(d.pos.file, d.pos.line, d.pos.col, d.message) for d in r.diagnostics
            if d.severity == severity and "fastka does not act on it" not in d.message
            and "enable_script_security" not in d.message]  # tested in test_loader


def one(text: str, severity: str = "error", **kw: bool) -> tuple[str, int, int, str]:
    got = diags(text, severity, **kw)
    assert len(got) == 1, got
    return got[0]


def test_clean_instance_has_no_diagnostics():
    assert diags(inst()) == []
    assert diags(inst(), "warning") == []


# --- required keywords ----------------------------------------------------------------


def test_missing_virtual_router_id():
    text = "vrrp_instance V {\n    interface eth0\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n"
    assert one(text) == ("v.conf", 1, 1, "vrrp_instance 'V' has no virtual_router_id")


def test_missing_interface():
    text = "vrrp_instance V {\n    virtual_router_id 3\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n"
    assert one(text) == ("v.conf", 1, 1, "vrrp_instance 'V' has no interface")
    r = load_text(text)
    assert r.diagnostics.errors[0].hint == "only an instance using unicast_peer may omit its interface"


def test_unicast_instance_may_omit_interface_unless_link_local():
    ok = ("vrrp_instance V {\n    virtual_router_id 3\n    unicast_peer {\n        10.0.0.2\n    }\n"
          "    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n")
    assert diags(ok) == []
    ll = ("vrrp_instance V {\n    virtual_router_id 3\n    unicast_peer {\n        fe80::2\n    }\n"
          "    virtual_ipaddress {\n        fe80::1\n    }\n}\n")
    assert one(ll) == ("v.conf", 1, 1, "vrrp_instance 'V' has no interface, but its unicast address fe80::2 is "
                                       "IPv6 link-local, which needs one")


def test_ranges_of_vrid_and_priority_come_from_the_types():
    text = inst(body="    priority 0\n", vrid=256)
    assert diags(text) == [("v.conf", 3, 23, "virtual_router_id: 256 is out of range"),
                           ("v.conf", 7, 14, "priority: 0 is out of range")]  # not also "no virtual_router_id"


# --- advert_int and version ----------------------------------------------------------


def test_advert_int_v2_must_be_whole_seconds_and_says_why():
    assert one(inst(body="    advert_int 0.5\n")) == (
        "v.conf", 7, 5, "vrrp_instance 'V': advert_int 0.5 is not valid for VRRPv2 (VRRPv2 is the default "
                        "(global_defs vrrp_version)), which advertises whole seconds")
    text = "global_defs {\n    vrrp_version 2\n}\n" + inst(body="    advert_int 1.5\n")
    assert one(text)[1:] == (10, 5, "vrrp_instance 'V': advert_int 1.5 is not valid for VRRPv2 (global_defs "
                                    "vrrp_version 2), which advertises whole seconds")
    assert one(inst(body="    version 2\n    advert_int 2.25\n"))[1:] == (
        8, 5, "vrrp_instance 'V': advert_int 2.25 is not valid for VRRPv2 ('version 2' in the instance), which "
              "advertises whole seconds")


def test_advert_int_v3_range_and_10ms_steps():
    assert diags(inst(body="    version 3\n    advert_int 0.05\n")) == []
    assert one(inst(body="    version 3\n    advert_int 41\n"))[1:] == (
        8, 5, "vrrp_instance 'V': advert_int 41 is out of range for VRRPv3 ('version 3' in the instance)")
    assert one(inst(body="    advert_int 0.005\n", vip="fe80::1"))[1:] == (
        7, 5, "vrrp_instance 'V': advert_int 0.005 is out of range for VRRPv3 (IPv6 instances always use VRRPv3)")
    assert one(inst(body="    version 3\n    advert_int 0.015\n"))[1:] == (
        8, 5, "vrrp_instance 'V': advert_int 0.015 is not a multiple of 10 ms, the VRRPv3 resolution ('version 3' "
              "in the instance)")


def test_version_2_with_ipv6_addresses():
    assert one(inst(body="    version 2\n", vip="fe80::1")) == (
        "v.conf", 7, 5, "vrrp_instance 'V': VRRP version 2 is IPv4 only, and this instance's addresses are IPv6")


# --- addresses --------------------------------------------------------------------------


def test_mixed_families_in_virtual_ipaddress():
    text = inst(body="    virtual_ipaddress_excluded {\n        fe80::9\n        10.0.0.9\n    }\n") + \
        inst("W", "    virtual_ipaddress {\n        fe80::1\n    }\n", vrid=2)
    assert one(text) == ("v.conf", 19, 9, "vrrp_instance 'W': virtual_ipaddress fe80::1 is IPv6, but the first, "
                                          "10.0.0.1 (at v.conf:16:9), is IPv4; one instance advertises one family")


def test_no_virtual_ipaddress_is_a_warning():
    text = "vrrp_instance V {\n    interface eth0\n    virtual_router_id 4\n}\n"
    assert diags(text) == []
    assert one(text, "warning") == ("v.conf", 1, 1, "vrrp_instance 'V' has no virtual_ipaddress")


def test_too_many_ipv4_addresses_for_one_advert():
    vips = "".join(f"        10.1.{i // 250}.{i % 250 + 1}\n" for i in range(256))
    text = inst(body="    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n" + vips + "    }\n",
                base=False)
    assert one(text, "warning")[1:] == (
        4, 5, "vrrp_instance 'V': 256 virtual_ipaddress entries, but an advert carries at most 255; keepalived "
              "moves the rest to virtual_ipaddress_excluded")


# --- duplicate VRIDs ---------------------------------------------------------------------


def test_duplicate_vrid_same_interface_and_family():
    text = inst("A", vrid=7) + inst("B", vrid=7, vip="10.0.0.2")
    assert one(text) == ("v.conf", 10, 5, "vrrp_instance 'B': virtual_router_id 7 is already used on interface "
                                         "eth0 (IPv4) by vrrp_instance 'A' at v.conf:3:5")


def test_same_vrid_is_fine_on_another_family_interface_group_or_peer_set():
    other_family = inst("A", vrid=7) + inst("B", vrid=7, vip="fe80::1")
    assert diags(other_family) == []
    other_if = inst("A", vrid=7) + inst("B", vrid=7, vip="10.0.0.2").replace("eth0", "eth1")
    assert diags(other_if) == []
    other_group = inst("A", vrid=7) + inst("B", "    mcast_dst_ip 224.0.0.99\n", vrid=7, vip="10.0.0.2")
    assert diags(other_group) == []
    peers = lambda p: f"    unicast_peer {{\n        {p}\n    }}\n"  # noqa: E731
    disjoint = inst("A", peers("10.0.0.8"), vrid=7) + inst("B", peers("10.0.0.9"), vrid=7, vip="10.0.0.2")
    assert diags(disjoint) == []
    overlap = inst("A", peers("10.0.0.8"), vrid=7) + inst("B", peers("10.0.0.8"), vrid=7, vip="10.0.0.2")
    assert one(overlap)[1:3] == (13, 5)


def test_duplicate_names():
    text = inst("A") + inst("A", vrid=2)
    assert one(text) == ("v.conf", 8, 1, "vrrp_instance 'A' is defined again; the first is at v.conf:1:1")


# --- sync groups and references ----------------------------------------------------------


def test_sync_group_member_that_does_not_exist():
    text = "vrrp_sync_group G {\n    group {\n        A\n        V11\n    }\n}\n" + inst("A") + inst("V1", vrid=2)
    assert one(text) == ("v.conf", 4, 9, "vrrp_sync_group 'G': member 'V11' is not a vrrp_instance")
    r = load_text(text)
    assert r.diagnostics.errors[0].hint == "did you mean 'V1'?"


def test_instance_in_two_sync_groups():
    text = ("vrrp_sync_group G1 {\n    group {\n        A B\n    }\n}\n"
            "vrrp_sync_group G2 {\n    group {\n        B A\n    }\n}\n") + inst("A") + inst("B", vrid=2)
    assert diags(text) == [
        ("v.conf", 8, 9, "vrrp_sync_group 'G2': vrrp_instance 'B' is already in vrrp_sync_group 'G1' (at "
                         "v.conf:1:1); an instance can be in one sync group only"),
        ("v.conf", 8, 11, "vrrp_sync_group 'G2': vrrp_instance 'A' is already in vrrp_sync_group 'G1' (at "
                          "v.conf:1:1); an instance can be in one sync group only"),
    ]


def test_sync_group_with_one_member_is_a_warning():
    text = "vrrp_sync_group G {\n    group {\n        A\n    }\n}\n" + inst("A")
    assert one(text, "warning") == ("v.conf", 2, 5, "vrrp_sync_group 'G' has only one vrrp_instance; a sync group "
                                                    "is meant to tie several together")


def test_undefined_track_references():
    body = ("    track_script {\n        chk_x\n    }\n    track_file {\n        tf_x weight 2\n    }\n"
            "    track_process {\n        tp_x\n    }\n    track_bfd {\n        bfd_x\n    }\n")
    text = "vrrp_script chk_y {\n    script /bin/true\n}\n" + inst(body=body)
    assert diags(text) == [
        ("v.conf", 11, 9, "vrrp_instance 'V': track_script 'chk_x' refers to no vrrp_script"),
        ("v.conf", 14, 9, "vrrp_instance 'V': track_file 'tf_x' refers to no track_file"),
        ("v.conf", 17, 9, "vrrp_instance 'V': track_process 'tp_x' refers to no vrrp_track_process"),
        ("v.conf", 20, 9, "vrrp_instance 'V': track_bfd 'bfd_x' refers to no bfd_instance"),
    ]
    r = load_text(text)
    assert r.diagnostics.errors[0].hint == "did you mean 'chk_y'?"


def test_undefined_reference_in_a_sync_group():
    text = ("vrrp_sync_group G {\n    group {\n        A B\n    }\n    track_script {\n        nope\n    }\n}\n"
            + inst("A") + inst("B", vrid=2))
    assert one(text) == ("v.conf", 6, 9, "vrrp_sync_group 'G': track_script 'nope' refers to no vrrp_script")


def test_tracked_block_without_its_main_keyword():
    text = ("vrrp_script S {\n    interval 2\n}\ntrack_file F {\n    weight 3\n}\n"
            "vrrp_track_process P {\n    quorum 3\n    quorum_max 2\n}\n")
    assert diags(text) == [
        ("v.conf", 1, 1, "vrrp_script 'S' has no script"),
        ("v.conf", 4, 1, "track_file 'F' has no file"),
        ("v.conf", 7, 1, "vrrp_track_process 'P' has no process"),
        ("v.conf", 9, 5, "vrrp_track_process 'P': quorum_max 2 is below quorum 3, so the process can never be up"),
    ]


def test_weights_on_an_address_owner_and_in_a_sync_group():
    scripts = "vrrp_script S {\n    script /bin/true\n    weight 5\n}\n"
    owner = scripts + inst(body="    priority 255\n    track_script {\n        S\n    }\n")
    assert one(owner, "warning") == ("v.conf", 13, 9, "vrrp_instance 'V': track_script 'S' has weight 5, but "
                                                      "priority 255 (address owner) cannot be changed by tracking; "
                                                      "give it weight 0")
    grouped = (scripts + "vrrp_sync_group G {\n    group {\n        V W\n    }\n}\n"
               + inst(body="    track_interface {\n        eth1 weight -3\n    }\n") + inst("W", vrid=2))
    assert one(grouped, "warning")[1:] == (17, 9, "vrrp_instance 'V': track_interface 'eth1' has weight -3 in "
                                                  "vrrp_sync_group 'G': keepalived says it ignores the weight but "
                                                  "applies it, and so does fastka")
    grouped = (scripts + "vrrp_sync_group G {\n    group {\n        V W\n    }\n}\n"
               + inst(body="    track_script {\n        S\n    }\n") + inst("W", vrid=2))
    assert one(grouped, "warning")[1:] == (17, 9, "vrrp_instance 'V': track_script 'S' has weight 5, but the "
                                                  "instance is in vrrp_sync_group 'G', where keepalived ignores "
                                                  "weighted tracking (so does fastka)")


# --- authentication ------------------------------------------------------------------------


def auth(t: str, p: str = "1234") -> str:
    return f"    authentication {{\n        auth_type {t}\n        auth_pass {p}\n    }}\n"


def test_authentication_with_vrrp_v3():
    assert one(inst(body="    version 3\n" + auth("PASS"))) == (
        "v.conf", 8, 5, "vrrp_instance 'V': VRRPv3 has no authentication (RFC 5798); keepalived ignores the block")


def test_auth_pass_longer_than_8_is_truncated():
    assert diags(inst(body=auth("PASS", "123456789"))) == []
    assert one(inst(body=auth("PASS", "123456789")), "warning") == (
        "v.conf", 9, 9, "vrrp_instance 'V': auth_pass is longer than 8 characters; only the first 8 ('12345678') "
                        "are used")


def test_ah_with_ipv6():
    assert one(inst(body=auth("AH"), vip="fe80::1")) == (
        "v.conf", 8, 9, "vrrp_instance 'V': auth_type AH is IPv4 only (it is a VRRPv2 feature), and this instance "
                        "is IPv6")


def test_authentication_without_type_or_pass():
    text = inst(body="    authentication {\n    }\n")
    assert diags(text) == [("v.conf", 7, 5, "vrrp_instance 'V': authentication has no auth_type"),
                           ("v.conf", 7, 5, "vrrp_instance 'V': authentication has no auth_pass")]


# --- unicast, multicast -------------------------------------------------------------------


def test_unicast_peer_of_another_family():
    text = inst(body="    unicast_src_ip fe80::5\n    unicast_peer {\n        10.0.0.2\n        fe80::2\n    }\n",
                vip="fe80::1")
    assert diags(text) == [("v.conf", 9, 9, "vrrp_instance 'V': unicast_peer 10.0.0.2 is IPv4, but the instance "
                                            "is IPv6")]


def test_unicast_src_ip_of_another_family():
    assert one(inst(body="    unicast_src_ip 10.0.0.5\n", vip="fe80::1")) == (
        "v.conf", 7, 5, "vrrp_instance 'V': unicast_src_ip 10.0.0.5 is IPv4, but the instance is IPv6")


def test_unicast_peer_ttl_window_that_drops_everything():
    text = inst(body="    unicast_peer {\n        10.0.0.2 min_ttl 200 max_ttl 100\n    }\n")
    assert one(text, "warning") == ("v.conf", 8, 9, "vrrp_instance 'V': unicast_peer 10.0.0.2 has min_ttl 200 > "
                                                    "max_ttl 100; every advert from it is dropped")


@pytest.mark.parametrize("addr, vip, message", [
    ("224.0.0.18", "fe80::1", "mcast_dst_ip 224.0.0.18 is IPv4, but the instance is IPv6"),
    ("10.0.0.9", "10.0.0.1", "mcast_dst_ip 10.0.0.9 is not a multicast address"),
    ("ff05::12", "fe80::1", "mcast_dst_ip ff05::12 is not link-local scope"),
])
def test_mcast_dst_ip(addr, vip, message):
    assert one(inst(body=f"    mcast_dst_ip {addr}\n", vip=vip)) == ("v.conf", 7, 5, f"vrrp_instance 'V': {message}")


def test_vrf_with_an_interface_and_vmac_without_one():
    assert one(inst(body="    vrf blue\n")) == (
        "v.conf", 7, 5, "vrrp_instance 'V': vrf is for an instance without an interface (unicast); this one has "
                        "interface eth0")
    text = ("vrrp_instance V {\n    virtual_router_id 3\n    use_vmac\n    unicast_peer {\n        10.0.0.2\n"
            "    }\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n")
    assert one(text) == ("v.conf", 3, 5, "vrrp_instance 'V': use_vmac needs an interface to create it on")


# --- preemption -----------------------------------------------------------------------------


def test_nopreempt_with_state_master():
    assert one(inst(body="    state MASTER\n    nopreempt\n"), "warning") == (
        "v.conf", 8, 5, "vrrp_instance 'V': nopreempt has no effect with state MASTER; the initial state must be "
                        "BACKUP")


def test_accept_and_no_accept_together():
    assert one(inst(body="    accept\n    no_accept\n")) == ("v.conf", 8, 5, "vrrp_instance 'V': both accept and "
                                                                           "no_accept are given")


# --- vrrp_strict ------------------------------------------------------------------------------

STRICT = "global_defs {\n    vrrp_strict\n}\n"


def test_strict_clean_instance():
    assert diags(STRICT + inst()) == []


@pytest.mark.parametrize("body, line, col, message", [
    ("    unicast_peer {\n        10.0.0.2\n    }\n", 10, 5, "vrrp_strict does not allow unicast_peer"),
    ("    state MASTER\n    priority 100\n", 10, 5,
     "vrrp_strict allows state MASTER if and only if priority is 255 (state MASTER, priority 100)"),
    ("    priority 255\n    state BACKUP\n", 11, 5, "vrrp_strict allows state MASTER if and only if priority is 255 "
                                                     "(state BACKUP, priority 255)"),
    ("    preempt_delay 5\n", 10, 5, "vrrp_strict does not allow preempt_delay"),
    ("    accept\n", 10, 5, "vrrp_strict does not allow accept mode with VRRPv2 (RFC 3768 has none)"),
    ("    garp_lower_prio_repeat 2\n", 10, 5, "vrrp_strict does not allow repeated gratuitous ARPs "
                                              "(garp_lower_prio_repeat 2)"),
    ("    garp_lower_prio_delay 3\n", 10, 5, "vrrp_strict does not allow repeated gratuitous ARPs "
                                             "(garp_lower_prio_delay 3)"),
    ("    lower_prio_no_advert false\n", 10, 5, "vrrp_strict does not allow clearing lower_prio_no_advert"),
    ("    higher_prio_send_advert\n", 10, 5, "vrrp_strict does not allow higher_prio_send_advert"),
    ("    vmac_xmit_base\n", 10, 5, "vrrp_strict does not allow vmac_xmit_base"),
    (auth("PASS"), 10, 5, "vrrp_strict does not allow authentication"),
])
def test_strict_constraints(body, line, col, message):
    assert one(STRICT + inst(body=body)) == ("v.conf", line, col, f"vrrp_instance 'V': {message}")


def test_strict_accept_is_fine_for_v3_and_for_the_owner():
    assert diags(STRICT + inst(body="    version 3\n    accept\n")) == []
    assert diags(STRICT + inst(body="    priority 255\n    accept\n")) == []


def test_strict_needs_a_vip_and_a_link_local_first_ipv6_vip():
    text = STRICT + "vrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n}\n"
    assert one(text) == ("v.conf", 4, 1, "vrrp_instance 'V': vrrp_strict needs at least one virtual_ipaddress")
    assert one(STRICT + inst(vip="2001:db8::1")) == (
        "v.conf", 8, 9, "vrrp_instance 'V': vrrp_strict needs the first IPv6 virtual_ipaddress to be link-local, and "
                        "2001:db8::1 is not")


def test_strict_mode_in_the_instance_names_itself():
    assert one(inst(body="    strict_mode\n    preempt_delay 5\n")) == (
        "v.conf", 8, 5, "vrrp_instance 'V': strict_mode does not allow preempt_delay")
    assert diags(STRICT + inst(body="    strict_mode off\n    preempt_delay 5\n")) == []


# --- global and static parts ------------------------------------------------------------------


def test_global_defs_checks():
    text = ("global_defs {\n    vrrp_mcast_group4 10.0.0.1\n    notify_fifo /run/f\n    vrrp_notify_fifo /run/f\n"
            "    lvs_notify_fifo_script /bin/x\n    lvs_sync_daemon eth0 inst VI_X\n}\n") + inst()
    assert diags(text) == [
        ("v.conf", 2, 5, "vrrp_mcast_group4 10.0.0.1 is not a multicast address"),
        ("v.conf", 4, 5, "vrrp_notify_fifo uses the same FIFO '/run/f' as notify_fifo; the FIFO names must all differ"),
        ("v.conf", 6, 5, "lvs_sync_daemon refers to vrrp_instance 'VI_X', which is not defined"),
    ]
    # keepalived -t accepts a FIFO script without its FIFO: a warning
    (w,) = [d for d in load_text(text, filename="v.conf").diagnostics.warnings if "notify_fifo_script" in d.message]
    assert (w.pos.line, w.pos.col, w.message) == (
        5, 5, "lvs_notify_fifo_script is given without lvs_notify_fifo, so it is never run")


def test_track_groups_and_static_references():
    text = ("track_group TG {\n    group {\n        V NOPE\n    }\n}\n"
            "static_ipaddress {\n    10.9.0.1/24 dev eth0 track_group TG\n    10.9.0.2/24 dev eth0 track_group TX\n}\n"
            "static_rules {\n    from 10.8.0.0/16 table 4 preference 9 track_group TG\n}\n") + inst()
    assert diags(text) == [
        ("v.conf", 3, 11, "track_group 'TG': member 'NOPE' is not a vrrp_instance"),
        ("v.conf", 8, 5, "static_ipaddress: track_group 'TX' is not defined"),
        ("v.conf", 11, 5, "static_rules: a rule with a track_group needs iif; keepalived refuses it"),
    ]


def test_rules_without_preference_and_untrackable_routes_warn():
    text = inst(body="    virtual_rules {\n        from 10.8.0.0/16 table 4\n    }\n"
                     "    virtual_routes {\n        10.7.0.0/16 via 10.0.0.254\n"
                     "        10.6.0.0/16 dev eth0 protocol 4\n    }\n")
    assert diags(text, "warning") == [
        ("v.conf", 11, 9, "vrrp_instance 'V': virtual_routes: route 10.7.0.0/16 has no dev, so keepalived cannot "
                          "track it"),
        ("v.conf", 12, 9, "vrrp_instance 'V': virtual_routes: route 10.6.0.0/16 has protocol 4, but a tracked route "
                          "must have protocol keepalived (18); keepalived and fastka reset it"),
        ("v.conf", 8, 9, "vrrp_instance 'V': virtual_rules: the rule has no preference; keepalived picks one, "
                         "probably not the one you want"),
    ]


def test_garp_groups():
    text = ("garp_group {\n    garp_interval 0.1\n    interface eth0\n    interfaces {\n        eth1\n    }\n}\n"
            "garp_group {\n    gna_interval 0.1\n}\n"
            "garp_group {\n    garp_interval 0.2\n    interfaces {\n        eth2 eth0\n    }\n}\n")
    assert diags(text) == [
        ("v.conf", 4, 5, "garp_group: give either interface or interfaces, not both"),
        ("v.conf", 8, 1, "garp_group has no interface"),
        ("v.conf", 14, 14, "garp_group: interface 'eth0' is already in the garp_group at v.conf:1:1"),
    ]


def test_up_down_delay_longer_than_the_down_timer():
    text = "interface_up_down_delays {\n    eth0 2.5\n}\n" + inst()
    assert one(text, "warning") == ("v.conf", 2, 5, "interface_up_down_delays: the 2.5s delay on eth0 is not below "
                                                    "2s ((down_timer_adverts - 1) x advert_int of vrrp_instance 'V'); "
                                                    "a backup may take over before this instance goes to FAULT")


# --- every problem in one run ---------------------------------------------------------------


def test_all_problems_are_reported_in_one_run():
    text = ("vrrp_sync_group G {\n    group {\n        A NOPE\n    }\n}\n"
            "vrrp_instance A {\n    virtual_ipaddress {\n        10.0.0.1\n        fe80::1\n    }\n"
            "    advert_int 0.5\n    track_script {\n        missing\n    }\n}\n")
    assert [m[1:3] for m in diags(text)] == [(3, 11), (6, 1), (6, 1), (11, 5), (9, 9), (13, 9)]


# --- this host's interfaces ------------------------------------------------------------------


def test_missing_interfaces_only_with_check_system(monkeypatch):
    monkeypatch.setattr(vv, "host_interfaces", lambda: {"lo", "eth0"})
    text = inst(body="    track_interface {\n        eth7\n    }\n", vip="10.0.0.1 dev eth0")
    text = text.replace("interface eth0", "interface eth9")
    assert diags(text, "warning") == []
    got = diags(text, "warning", check_system=True)
    assert got == [("v.conf", 2, 5, "vrrp_instance 'V': interface 'eth9' does not exist on this host"),
                   ("v.conf", 8, 9, "vrrp_instance 'V' track_interface: interface 'eth7' does not exist on this host")]
    assert diags(text, "error", check_system=True) == []


def test_the_current_namespace_has_lo():
    text = inst().replace("interface eth0", "interface lo")
    assert [m for m in diags(text, "warning", check_system=True) if "does not exist" in m[3]] == []


def test_loopback_interface_is_refused():
    r = load_text("vrrp_instance V {\n    interface lo\n    virtual_router_id 5\n    virtual_ipaddress {\n"
                  "        192.0.2.1/32\n    }\n}\n", filename="v.conf")
    (e,) = r.diagnostics.errors
    assert e.message == "vrrp_instance 'V': VRRP cannot run on the loopback interface"
    assert (e.pos.file, e.pos.line, e.pos.col) == ("v.conf", 2, 5)


def test_vmac_protodown_needs_use_vmac():
    _, line, _, msg = one(inst(body="    vmac_protodown\n"))
    assert "vmac_protodown needs use_vmac" in msg and line == 7
    assert diags(inst(body="    use_vmac\n    vmac_protodown\n")) == []
    assert diags(inst(body="    use_vmac vrrp.x 02:00:5e:00:09\n    vmac_protodown\n")) == []


def test_an_instance_without_interface_needs_a_vrid_of_its_own():
    """Its adverts are taken from any interface: no other instance of its family may use
    its VRID (the check used to pass and the engine refused, or both went master)."""
    loose = ("vrrp_instance V {\n    virtual_router_id 3\n    unicast_peer {\n        10.0.0.2\n    }\n"
             "    virtual_ipaddress {\n        10.0.0.1 dev eth0\n    }\n}\n")
    got = one(loose + inst("W", vrid=3, vip="10.0.0.9"))
    assert got[1:3] == (2, 5)
    assert "has no interface, and its virtual_router_id 3 (IPv4) is vrrp_instance 'W''s" in got[3]
    assert diags(loose + inst("W", vrid=4, vip="10.0.0.9")) == []


def test_vmac_names_two_instances_would_share_are_refused():
    """use_vmac's default name and use_vmac_addr's extra VMACs (vrrp1.52 on a second
    interface) must not be two instances' at once: refused by the check, not at start."""
    body = "    use_vmac\n    use_vmac_addr\n    virtual_ipaddress_excluded {\n        10.9.0.1 dev eth2\n    }\n"
    a = inst("A", body=body, vrid=52, vip="10.0.0.1")
    b = inst("B", body=body, vrid=52, vip="10.0.0.2").replace("interface eth0", "interface eth1")
    got = diags(a + b)
    assert [m for *_, m in got] == [
        "vrrp_instance 'B': the interface vrrp.52 it would make (on eth1) is also vrrp_instance 'A''s",
        "vrrp_instance 'B': the interface vrrp1.52 it would make (on eth2) is also vrrp_instance 'A''s"], got
    named = a + b.replace("    use_vmac\n", "    use_vmac vb52\n")
    assert [m for *_, m in diags(named)] == [
        "vrrp_instance 'B': the interface vrrp1.52 it would make (on eth2) is also vrrp_instance 'A''s"]
