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
        "vrrp_instance B: virtual_rules names iproute2's files do not know: table custom (the rule is left out)",
        "static_rules: names iproute2's files do not know: table elsewhere (the rule is left out)",
    ]
    assert not any("vrrp_instance C" in line for line in lines)
    assert not any("notify" in line for line in lines), "notify_master runs (tests/vrrp/test_netns)"
    assert not any("vrrp_sync_group" in line for line in lines), "a plain sync group runs (tests/vrrp/test_netns)"
    assert not any("garp" in line for line in lines), "GARP pacing runs (tests/vrrp/test_netns_features)"
