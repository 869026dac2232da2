"""What the engine reports about a configuration it cannot carry out in full (no root)."""

from fastka.config import load_text
from fastka.vrrp.engine import not_implemented_uses

CONF = """
global_defs {
    vrrp_garp_interval 0.01
}
vrrp_script chk {
    script "/bin/true"
}
vrrp_sync_group G {
    group {
        A
        B
    }
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    track_script {
        chk
    }
    notify_master "/bin/true"
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    use_vmac
    use_vmac_addr
    virtual_ipaddress {
        10.0.0.2
    }
    virtual_routes {
        10.1.0.0/16 via 10.0.0.254
        10.2.0.0/16 via 10.0.0.254 mtu 1400 vrf blue
        10.3.0.0/16 via 10.0.0.254 table nowhere
    }
    virtual_rules {
        from 10.0.0.2 table 7
        from 10.0.0.3 table custom
    }
}
static_rules {
    from 10.9.0.0/16 table 9 preference 9
    from 10.8.0.0/16 table elsewhere
}
static_routes {
    10.9.0.0/16 via 10.0.0.254
    10.7.0.0/16 via 10.0.0.254 table nowhere
}
vrrp_instance C {
    interface eth0
    virtual_router_id 3
    virtual_ipaddress {
        10.0.0.3
    }
}
vrrp_instance D {
    vrf blue
    virtual_router_id 4
    unicast_peer {
        10.0.0.9
    }
    virtual_ipaddress {
        10.0.0.4 dev eth0
    }
}
"""


def test_every_unimplemented_use_is_reported_with_its_owner():
    r = load_text(CONF, filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    lines = not_implemented_uses(r.config)
    assert lines == [
        "vrrp_instance B: virtual_routes names iproute2's files do not know: table nowhere (route 10.3.0.0/16 is "
        "left out)",
        "vrrp_instance B: virtual_rules names iproute2's files do not know: table custom (the rule is left out)",
        "static_routes: names iproute2's files do not know: table nowhere (route 10.7.0.0/16 is left out)",
        "static_rules: names iproute2's files do not know: table elsewhere (the rule is left out)",
    ]
    assert not any("vrrp_instance C" in line for line in lines)
    assert not any("notify" in line for line in lines), "notify_master runs (tests/vrrp/test_netns)"
    assert not any("vrrp_sync_group" in line for line in lines), "a plain sync group runs (tests/vrrp/test_netns)"
    assert not any("garp" in line for line in lines), "GARP pacing runs (tests/vrrp/test_netns_features)"


def test_a_default_route_marked_inet6_is_ipv6():
    """'default ... inet6' is an IPv6 default route (keepalived.conf(5): a route that
    could be either family is IPv4 unless inet6 is given)."""
    import socket

    from fastka.vrrp.instance import route_of

    r = load_text("static_routes {\n    default dev lo inet6\n    default dev lo\n}\n", filename="k.conf")
    assert not r.diagnostics.has_errors, [d.format() for d in r.diagnostics.errors]
    six, four = (route_of(x) for x in r.config.static_routes)
    assert six.family == socket.AF_INET6 and six.dst is None and six.dst_len == 0
    assert four.family == socket.AF_INET
