"""Generate large keepalived.conf files for benchmarks."""

from __future__ import annotations


def vrrp_config(instances: int, vips: int = 1, *, per_interface: int = 250, advert_int: float = 1) -> str:
    out = ["global_defs {", "    router_id bench", "    vrrp_version 3", "}", ""]
    for i in range(instances):
        ifn = i // per_interface
        vrid = i % per_interface + 1
        out += [
            f"vrrp_instance VI_{i} {{",
            "    state BACKUP",
            f"    interface veth{ifn}",
            f"    virtual_router_id {vrid}",
            "    priority 100",
            f"    advert_int {advert_int}",
            "    virtual_ipaddress {",
        ]
        for v in range(vips):
            n = i * vips + v
            out.append(f"        10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/32 dev veth{ifn}")
        out += ["    }", "}", ""]
    return "\n".join(out)
