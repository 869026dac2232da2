"""Semantic checks of virtual_server(_group), real_server and checkers: every problem is
reported with its file, line and column, and one run reports them all."""

import pytest

from fastka.config import load_text
from fastka.config import model_lvs as m


def load(text, *, keep_protocol_warning=False):
    """Diagnostics of text; the 'no protocol' and script-security warnings (most
    snippets here leave those out) are tested on their own."""
    diags = load_text(text, filename="v.conf").diagnostics
    if keep_protocol_warning:
        return diags
    return [d for d in diags if "has no protocol" not in d.message and "enable_script_security" not in d.message]


def where(d):
    return (d.pos.file, d.pos.line, d.pos.col)


def one(diags, severity="error"):
    found = [d for d in diags if d.severity == severity]
    assert len(found) == 1, [str(x) for x in diags]
    return found[0]


def vs(body, head="10.0.0.1 80", rs="real_server 10.0.0.2 80 {\n    }"):
    """A virtual_server: line 1 is the header, the body starts on line 2 (4 spaces in)."""
    return f"virtual_server {head} {{\n    {body}\n    {rs}\n}}\n"


def test_a_clean_config_has_no_diagnostics():
    text = ("virtual_server_group G {\n    10.0.0.1 80\n}\n"
            "virtual_server group G {\n    real_server 10.0.0.2 80 {\n        TCP_CHECK {\n        }\n    }\n}\n")
    assert [str(d) for d in load(text)] == []


# --- references and duplicates ----------------------------------------------------------------


def test_undefined_group():
    d = load("virtual_server_group web {\n    10.0.0.1 80\n}\nvirtual_server group wbe {\n"
             "    real_server 10.0.0.2 80 {\n    }\n}\n")
    e = one(d)
    assert e.message == "virtual_server group 'wbe': no virtual_server_group 'wbe' is defined"
    assert e.hint == "did you mean 'web'?"
    assert where(e) == ("v.conf", 4, 1)


def test_duplicate_group():
    d = load("virtual_server_group G {\n    10.0.0.1 80\n}\nvirtual_server_group G {\n    10.0.0.2 80\n}\n")
    e = one(d)
    assert e.message == "virtual_server_group 'G' is defined again; the first is at v.conf:1:1"
    assert where(e) == ("v.conf", 4, 1)


def test_duplicate_virtual_server():
    text = vs("delay_loop 5") + vs("delay_loop 6") + vs("protocol TCP")  # the TCP one is another service
    e = one(load(text))
    assert e.message == "virtual_server 10.0.0.1 80 is defined again (protocol UDP); the first is at v.conf:1:1"
    assert where(e) == ("v.conf", 6, 1)


def test_duplicate_fwmark_virtual_server():
    text = vs("ip_family inet", head="fwmark 1") + vs("ip_family inet", head="fwmark 1")
    e = one(load(text))
    assert e.message == "virtual_server fwmark 1 is defined again; the first is at v.conf:1:1"
    assert where(e) == ("v.conf", 6, 1)


def test_duplicate_real_server():
    text = ("virtual_server 10.0.0.1 80 {\n    real_server 10.0.0.2 80 {\n    }\n"
            "    real_server 10.0.0.3 80 {\n    }\n    real_server 10.0.0.2 {\n    }\n}\n")
    e = one(load(text))  # the port-less one gets the virtual server's port: the same server
    assert e.message == ("real_server 10.0.0.2 80 is given twice in virtual_server 10.0.0.1 80; "
                         "the first is at v.conf:2:5")
    assert where(e) == ("v.conf", 6, 5)


# --- address families -----------------------------------------------------------------------------


def test_real_server_family_must_match_unless_tunnelled():
    text = ("virtual_server 10.0.0.1 80 {\n    real_server 2001:db8::1 80 {\n    }\n"
            "    real_server 2001:db8::2 80 {\n        lvs_method TUN\n    }\n}\n")
    e = one(load(text))
    assert e.message == "real_server 2001:db8::1 is IPv6 but virtual_server 10.0.0.1 80 is IPv4"
    assert e.hint == "only tunnelled (lvs_method TUN) servers may differ in address family"
    assert where(e) == ("v.conf", 2, 5)


def test_tunnel_method_inherited_from_virtual_server_allows_mixing():
    text = "virtual_server 10.0.0.1 80 {\n    lvs_method TUN\n    real_server 2001:db8::1 80 {\n    }\n}\n"
    assert [d for d in load(text) if d.severity == "error"] == []


def test_sorry_server_family():
    e = one(load(vs("sorry_server 2001:db8::9 80")))
    assert e.message == "sorry_server 2001:db8::9 is IPv6 but virtual_server 10.0.0.1 80 is IPv4"
    assert where(e) == ("v.conf", 2, 5)


def test_fwmark_family_comes_from_first_untunnelled_server():
    text = ("virtual_server fwmark 1 {\n    real_server 10.0.0.2 {\n    }\n"
            "    real_server 2001:db8::2 {\n    }\n}\n")
    e = one(load(text))
    assert e.message == "real_server 2001:db8::2 is IPv6 but virtual_server fwmark 1 is IPv4"
    assert where(e) == ("v.conf", 4, 5)


def test_fwmark_ip_family_fixes_the_family():
    e = one(load(vs("ip_family inet6", head="fwmark 1", rs="real_server 10.0.0.2 {\n    }")))
    assert e.message == "real_server 10.0.0.2 is IPv4 but virtual_server fwmark 1 is IPv6"
    assert where(e) == ("v.conf", 3, 5)


def test_ip_family_conflicting_with_address():
    e = one(load(vs("ip_family inet6")))
    assert e.message == "ip_family inet6 conflicts with the IPv4 address of virtual_server 10.0.0.1 80"
    assert where(e) == ("v.conf", 2, 5)


def test_group_family_against_real_servers():
    text = ("virtual_server_group G {\n    2001:db8::1 80\n}\n"
            "virtual_server group G {\n    real_server 10.0.0.2 80 {\n    }\n}\n")
    e = one(load(text))
    assert e.message == "real_server 10.0.0.2 is IPv4 but virtual_server group G is IPv6"
    assert where(e) == ("v.conf", 5, 5)


def test_mixed_family_group_needs_tunnelled_servers():
    text = ("virtual_server_group G {\n    10.0.0.1 80\n    2001:db8::1 80\n}\n"
            "virtual_server group G {\n    real_server 10.0.0.2 80 {\n    }\n"
            "    real_server 10.0.0.3 80 {\n        lvs_method TUN\n    }\n}\n")
    e = one(load(text))
    assert e.message == ("real_server 10.0.0.2 is not tunnelled, but virtual_server_group 'G' mixes IPv4 and "
                         "IPv6 addresses")
    assert where(e) == ("v.conf", 6, 5)


def test_mixed_family_group_fwmark_needs_family():
    text = "virtual_server_group G {\n    10.0.0.1 80\n    2001:db8::1 80\n    fwmark 5\n    fwmark 6 inet\n}\n"
    e = one(load(text))
    assert e.message == "virtual_server_group 'G' has IPv4 and IPv6 addresses, so its fwmark 5 needs a family"
    assert e.expected == "fwmark <INTEGER> inet|inet6"
    assert where(e) == ("v.conf", 4, 5)


# --- values that depend on others ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["255.0.255.0", "0.0.0.0", "24", "255.255.255.256"])
def test_ipv4_granularity(value):
    e = one(load(vs(f"persistence_granularity {value}")))
    assert e.message == f"persistence_granularity '{value}' is not a valid IPv4 netmask"
    assert e.expected == "a contiguous netmask such as 255.255.255.0"
    assert where(e) == ("v.conf", 2, 5)


@pytest.mark.parametrize("value", ["255.255.255.0", "255.255.255.255", "128.0.0.0"])
def test_ipv4_granularity_ok(value):
    assert [d for d in load(vs(f"persistence_granularity {value}")) if d.severity == "error"] == []


@pytest.mark.parametrize("value", ["0", "129", "ffff::", "64"])
def test_ipv6_granularity(value):
    d = load(vs(f"persistence_granularity {value}", head="2001:db8::1 80",
                rs="real_server 2001:db8::2 80 {\n    }"))
    errs = [x for x in d if x.severity == "error"]
    if value == "64":
        assert errs == []
        return
    [e] = errs
    assert e.message == f"persistence_granularity '{value}' is not a valid IPv6 prefix length"
    assert e.expected == "an integer from 1 to 128"
    assert where(e) == ("v.conf", 2, 5)


def test_unknown_scheduler_is_a_warning():
    e = one(load(vs("lvs_sched wrrr")), "warning")
    assert e.message == "lvs_sched 'wrrr' is not a known IPVS scheduler"
    assert e.expected == "one of " + "|".join(m.SCHEDULERS)
    assert where(e) == ("v.conf", 2, 5)


def test_scheduler_flags_need_their_scheduler():
    e = one(load(vs("lvs_sched rr\n    mh-port")), "warning")
    assert e.message == "'mh-port' only applies to the mh scheduler; keepalived ignores it with lvs_sched rr"
    assert where(e) == ("v.conf", 3, 5)
    assert [x for x in load(vs("lvs_sched sh\n    sh-port\n    sh-fallback"))] == []


def test_hysteresis_not_below_quorum():
    rs = "real_server 10.0.0.2 80 {\n        weight 5\n    }"
    e = one(load(vs("quorum 3\n    hysteresis 3", rs=rs)), "warning")
    assert e.message == "hysteresis 3 is not below quorum 3; keepalived uses hysteresis 2"
    assert where(e) == ("v.conf", 3, 5)


def test_quorum_above_total_weight():
    rs = "real_server 10.0.0.2 80 {\n        weight 2\n    }\n    real_server 10.0.0.3 80 {\n    }"
    e = one(load(vs("quorum 7", rs=rs)), "warning")
    assert e.message == ("quorum 7 exceeds the total weight 3 of the real servers of virtual_server 10.0.0.1 80; "
                         "keepalived lowers the quorum to 3")
    assert where(e) == ("v.conf", 2, 5)


def test_fwmark_service_warnings():
    d = load(vs("protocol TCP\n    ha_suspend", head="fwmark 9", rs="real_server 10.0.0.2 {\n    }"))
    assert [(x.severity, x.message, where(x)) for x in d] == [
        ("warning", "ha_suspend cannot be used with a fwmark virtual_server; keepalived clears it", ("v.conf", 3, 5)),
        ("warning", "protocol is ignored for a fwmark virtual_server", ("v.conf", 2, 5)),
    ]


def test_ops_needs_udp():
    e = one(load(vs("ops\n    protocol TCP")), "warning")
    assert e.message == "ops (one-packet scheduling) needs protocol UDP; keepalived turns it off"
    assert where(e) == ("v.conf", 2, 5)
    assert list(load(vs("ops\n    protocol UDP"))) == []


def test_no_protocol_warns_that_keepalived_defaults_to_udp():
    diags = load(vs("delay_loop 3"), keep_protocol_warning=True)
    w = one(diags, "warning")
    assert w.message == "virtual_server 10.0.0.1 80 has no protocol; keepalived defaults to UDP, and so does fastka"
    assert w.hint == "add 'protocol TCP' for a TCP service"
    assert where(w) == ("v.conf", 1, 1)
    assert list(load(vs("protocol TCP"), keep_protocol_warning=True)) == []


def test_portless_service_becomes_persistent():
    e = one(load(vs("delay_loop 3", head="10.0.0.1", rs="real_server 10.0.0.2 {\n    }")), "warning")
    assert e.message == ("virtual_server 10.0.0.1 has no port, which is only valid for a persistent service; "
                         "keepalived makes it persistent (persistence_timeout 360)")
    assert where(e) == ("v.conf", 1, 1)
    assert list(load(vs("persistence_timeout", head="10.0.0.1", rs="real_server 10.0.0.2 {\n    }"))) == []


def test_sorry_server_options_without_sorry_server():
    d = load(vs("sorry_server_inhibit\n    sorry_server_lvs_method DR"))
    assert [(x.severity, x.message, where(x)) for x in d] == [
        ("warning", "sorry_server_inhibit without sorry_server is ignored", ("v.conf", 2, 5)),
        ("warning", "sorry_server_lvs_method without sorry_server is ignored", ("v.conf", 3, 5)),
    ]


def test_sorry_server_inhibit_before_sorry_server():
    e = one(load(vs("sorry_server_inhibit\n    sorry_server 10.0.0.9 80")), "warning")
    assert e.message == "sorry_server_inhibit before sorry_server is ignored by keepalived"
    assert e.hint == "move it after sorry_server"
    assert where(e) == ("v.conf", 2, 5)


def test_direct_routing_real_server_ports():
    rs = "real_server 10.0.0.2 8080 {\n    }"
    e = one(load(vs("lvs_method DR", rs=rs)), "warning")
    assert e.message == ("real_server 10.0.0.2 port 8080 differs from virtual_server port 80; "
                         "with lvs_method DR keepalived uses port 80")
    assert where(e) == ("v.conf", 3, 5)
    assert list(load(vs("lvs_method NAT", rs=rs))) == []  # NAT may change the port
    e = one(load(vs("lvs_method DR", head="fwmark 2", rs=rs)), "warning")
    assert e.message == ("real_server 10.0.0.2 has a port, which is ignored with lvs_method DR on a fwmark "
                         "virtual_server")
    assert where(e) == ("v.conf", 3, 5)


# --- checkers ---------------------------------------------------------------------------------------


def rs_with(checker, head="10.0.0.2 80"):
    """A real server whose checker block starts on line 4, column 9; its body on line 5, column 13."""
    return vs("delay_loop 5", rs=f"real_server {head} {{\n        {checker}\n    }}")


@pytest.mark.parametrize("kind", ["TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK"])
def test_checker_without_port(kind):
    body = "    url {\n                path /\n            }\n" if kind in ("HTTP_GET", "SSL_GET") else ""
    text = rs_with(f"{kind} {{\n        {body}        }}", head="10.0.0.2")
    e = one(load(text.replace("virtual_server 10.0.0.1 80", "virtual_server fwmark 1")))
    assert e.message == f"{kind} of real_server 10.0.0.2 has no port to connect to"
    assert e.hint == "set connect_port, or give the real_server a port"
    assert where(e) == ("v.conf", 4, 9)


def test_connect_port_or_virtual_server_port_is_enough():
    text = rs_with("TCP_CHECK {\n            connect_port 22\n        }", head="10.0.0.2")
    assert list(load(text.replace("virtual_server 10.0.0.1 80", "virtual_server fwmark 1"))) == []
    assert list(load(rs_with("TCP_CHECK {\n        }", head="10.0.0.2"))) == []  # gets port 80


def test_port_not_needed_for_ping_misc_file():
    text = rs_with("PING_CHECK {\n        }\n        MISC_CHECK {\n            misc_path /bin/true\n        }\n"
                   "        FILE_CHECK {\n            track_file f\n        }", head="10.0.0.2")
    assert list(load(text.replace("virtual_server 10.0.0.1 80", "virtual_server fwmark 1"))) == []


def test_smtp_host_without_port():
    text = rs_with("SMTP_CHECK {\n            host {\n                connect_ip 10.0.0.7\n            }\n        }",
                   head="10.0.0.2").replace("virtual_server 10.0.0.1 80", "virtual_server fwmark 1")
    d = load(text)
    assert [(x.severity, x.message, where(x)) for x in d] == [
        ("warning", "the SMTP_CHECK host block is deprecated in keepalived", ("v.conf", 5, 13)),
        ("error", "host of real_server 10.0.0.2 has no port to connect to", ("v.conf", 5, 13)),
    ]


@pytest.mark.parametrize("codes,bad", [("99", 99), ("200-600", 600), ("200 700-800", 700)])
def test_status_code_range(codes, bad):
    e = one(load(rs_with(f"HTTP_GET {{\n            url {{\n                path /\n"
                         f"                status_code {codes}\n            }}\n        }}")))
    assert e.message == f"status_code {bad} is not an HTTP status code"
    assert e.expected == "codes or ranges from 100 to 599"
    assert where(e) == ("v.conf", 7, 17)


@pytest.mark.parametrize("digest", ["9b3a0c85a887a256d6939da88aabd8c", "9b3a0c85a887a256d6939da88aabd8cg",
                                    "9b3a0c85a887a256d6939da88aabd8cd0"])
def test_digest(digest):
    e = one(load(rs_with(f"SSL_GET {{\n            url {{\n                path /\n"
                         f"                digest {digest}\n            }}\n        }}")))
    assert e.message == f"digest '{digest}' is not an MD5 digest"
    assert e.expected == "32 hexadecimal digits, as genhash prints"
    assert where(e) == ("v.conf", 7, 17)


def test_http_get_needs_url_with_path():
    d = load(rs_with("HTTP_GET {\n        }\n        HTTP_GET {\n            url {\n                digest "
                     "9b3a0c85a887a256d6939da88aabd8cd\n            }\n        }"))
    assert [(x.message, where(x)) for x in d] == [
        ("HTTP_GET has no url", ("v.conf", 4, 9)),
        ("url has no path", ("v.conf", 7, 13)),
    ]


def test_regex_offsets():
    e = one(load(rs_with("HTTP_GET {\n            url {\n                path /\n                regex OK\n"
                         "                regex_min_offset 10\n                regex_max_offset 5\n"
                         "            }\n        }")))
    assert e.message == "regex_min_offset 10 is beyond regex_max_offset 5"
    assert where(e) == ("v.conf", 8, 17)


def test_misc_check_needs_path():
    e = one(load(rs_with("MISC_CHECK {\n            misc_timeout 5\n        }")))
    assert e.message == "MISC_CHECK has no misc_path"
    assert e.expected == "misc_path <STRING>|<QUOTED-STRING>"
    assert where(e) == ("v.conf", 4, 9)


def test_file_and_bfd_checks_need_names():
    d = load(rs_with("FILE_CHECK {\n            dynamic\n        }\n        BFD_CHECK {\n        }"))
    assert [(x.severity, x.message, where(x)) for x in d] == [
        ("warning", "'BFD_CHECK' is accepted but fastka does not act on it (fastka has no BFD)", ("v.conf", 7, 9)),
        ("error", "FILE_CHECK has no track_file", ("v.conf", 4, 9)),
        ("error", "BFD_CHECK has no name", ("v.conf", 7, 9)),
    ]


def test_udp_reply_lengths():
    e = one(load(rs_with("UDP_CHECK {\n            min_reply_length 10\n            max_reply_length 4\n        }")),
            "warning")
    assert e.message == "min_reply_length 10 > max_reply_length 4: the check will always fail"
    assert where(e) == ("v.conf", 5, 13)


def test_bindto_family():
    e = one(load(rs_with("TCP_CHECK {\n            bindto 2001:db8::1\n        }")))
    assert e.message == "bindto 2001:db8::1 is not the same address family as connect_ip 10.0.0.2"
    assert where(e) == ("v.conf", 5, 13)


def test_link_local_needs_bind_if():
    e = one(load(rs_with("TCP_CHECK {\n            connect_ip fe80::1\n            bindto fe80::2\n        }")))
    assert e.message == "connect_ip fe80::1 is link-local, which needs bind_if"
    assert e.expected == "bind_if <IFNAME>"
    assert where(e) == ("v.conf", 5, 13)


def test_bind_if_checked_on_the_system_only_when_asked():
    text = rs_with("TCP_CHECK {\n            bind_if no-such-if0\n        }")
    assert list(load(text)) == []
    r = load_text(text, filename="v.conf", check_system=True)
    e = one(r.diagnostics)
    assert e.message == "bind_if: no interface 'no-such-if0' on this system"
    assert where(e) == ("v.conf", 5, 13)


def test_nb_get_retry_is_deprecated():
    e = one(load(rs_with("TCP_CHECK {\n            nb_get_retry 3\n        }")), "warning")
    assert e.message == "'nb_get_retry' is deprecated in keepalived; use 'retry'"
    assert where(e) == ("v.conf", 5, 13)
    assert list(load(rs_with("TCP_CHECK {\n            retry 3\n        }"))) == []


def test_empty_group_and_repeated_entry():
    d = load("virtual_server_group E {\n}\nvirtual_server_group G {\n    10.0.0.1 80\n    10.0.0.1 80\n}\n")
    assert [(x.severity, x.message, where(x)) for x in d] == [
        ("warning", "virtual_server_group 'E' has no entries; keepalived removes it", ("v.conf", 1, 1)),
        ("warning", "virtual_server_group 'G': entry is given twice",
         ("v.conf", 5, 5)),
    ]


def test_every_problem_is_reported():
    text = ("virtual_server group nope {\n    persistence_granularity 255.0.255.0\n"
            "    real_server 2001:db8::1 80 {\n        MISC_CHECK {\n        }\n"
            "        HTTP_GET {\n            url {\n                path /\n                status_code 700\n"
            "                digest xyz\n            }\n        }\n    }\n}\n")
    assert [(x.severity, x.message, where(x)) for x in load(text)] == [
        ("error", "virtual_server group 'nope': no virtual_server_group 'nope' is defined", ("v.conf", 1, 1)),
        ("error", "persistence_granularity '255.0.255.0' is not a valid IPv4 netmask", ("v.conf", 2, 5)),
        ("error", "MISC_CHECK has no misc_path", ("v.conf", 4, 9)),
        ("error", "digest 'xyz' is not an MD5 digest", ("v.conf", 10, 17)),
        ("error", "status_code 700 is not an HTTP status code", ("v.conf", 9, 17)),
    ]


def test_delay_loop_0_is_ignored_as_keepalived_does():
    text = vs("delay_loop 0", rs="real_server 10.0.0.2 80 {\n      TCP_CHECK {\n        delay_loop 0\n      }\n    }")
    result = load_text(text, filename="v.conf")
    warns = [(d.message, where(d)) for d in result.diagnostics if "delay_loop 0" in d.message]
    assert warns == [
        ("virtual_server 10.0.0.1 80: delay_loop 0 is out of keepalived's range (from 0.000001 s); keepalived "
         "ignores it, and so does fastka: the default applies", ("v.conf", 2, 5)),
        ("TCP_CHECK: delay_loop 0 is out of keepalived's range (from 0.000001 s); keepalived ignores it, and so "
         "does fastka: the default applies", ("v.conf", 5, 9)),
    ]
    v = result.config.virtual_servers[0]
    assert v.delay_loop == m.DEFAULT_DELAY_LOOP
    assert v.real_servers[0].checkers[0].delay_loop == m.DEFAULT_DELAY_LOOP  # the virtual server's, flowed down
