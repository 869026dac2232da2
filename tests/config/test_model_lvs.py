"""LVS model: every virtual_server_group / virtual_server / real_server / checker keyword
parses into its typed value, aliases land on the canonical field, keepalived's defaults
and the virtual_server -> real_server -> checker cascade, and the dump round trip."""

import dataclasses

import pytest

from fastka.config import dump, load_text
from fastka.config import model_lvs as m
from fastka.config.lexer import lex_text
from fastka.config.loader import Loader
from fastka.config.model import Config
from fastka.config.source import Diagnostics, Pos
from fastka.config.tree import build_tree


def parse(text, root=Config, fn="t.conf"):
    """Keyword tree -> model, without defaults or validation."""
    d = Diagnostics()
    lines = lex_text(text, d, filename=fn)
    cfg = Loader(d, root).load(build_tree(lines, d), Pos(fn, 1, 1))
    return cfg, d


def msgs(d, severity=None):
    return [x.message for x in d.items if severity is None or x.severity == severity]


def entry_error(word, message):
    """A virtual_server_group line error: reported as the entry's own message."""
    return message


RICH = """\
virtual_server_group VSG {
    10.0.0.1 80
    10.0.0.2-9 80
    10.0.1.250-10.0.2.5 80
    10.0.3.0/29 80
    10.0.4.1
    fwmark 7
}
virtual_server_group VSG6 {
    ae00::2-1f 443
    fwmark 0x10 inet6
}
virtual_server 192.168.1.1 80 {
    ip_family inet
    lvs_sched sh
    hashed
    flag-1
    flag-2
    flag-3
    sh-port
    sh-fallback
    mh-port
    mh-fallback
    ops
    lvs_method TUN type gue port 6080 csum
    persistence_engine sip
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    protocol udp
    ha_suspend
    smtp_alert true
    virtualhost www.example.com
    snmp_name "virtual one"
    alpha
    omega
    quorum 2
    hysteresis 1
    quorum_up "/bin/up.sh arg" nobody nogroup
    quorum_down /bin/down.sh
    weight 3
    sorry_server 192.168.2.1 80
    sorry_server_inhibit
    sorry_server_lvs_method DR
    connect_timeout 4
    retry 2
    delay_before_retry 2.5
    warmup 10
    delay_loop 30
    inhibit_on_failure
    real_server 192.168.1.10 80 {
        weight 5
        lvs_method TUN type gre nocsum
        notify_up /bin/rs_up.sh
        notify_down "/bin/rs_down.sh x" root
        uthreshold 1000
        lthreshold 10
        smtp_alert false
        virtualhost rs.example.com
        snmp_name rs1
        alpha false
        connect_timeout 3
        retry 4
        delay_before_retry 1.5
        warmup 5
        delay_loop 20
        inhibit_on_failure false
        TCP_CHECK {
            connect_ip 192.168.1.11
            connect_port 8080
            bindto 192.168.1.2
            bind_port 5000
            bind_if eth0
            connect_timeout 2
            fwmark 5
            alpha
            retry 0
            delay_before_retry 1
            warmup 0
            delay_loop 10
            log_all_failures
        }
        HTTP_GET {
            http_protocol 1.0c
            virtualhost chk.example.com
            fast_recovery
            url {
                path /health
                digest 9b3a0c85a887a256d6939da88aabd8cd
                status_code 200-299 301 400-404
                virtualhost url.example.com
                regex "^OK( now)?"
                regex_no_match
                regex_options caseless multiline
                regex_stack 32768 65536
                regex_min_offset 0
                regex_max_offset 100
            }
        }
        SSL_GET {
            enable_sni
            nb_get_retry 2
            url {
                path /
                status_code 200
            }
        }
        SMTP_CHECK {
            helo_name "mail.example.com"
            connect_port 25
            host {
                connect_ip 192.168.1.12
                connect_port 587
                bindto 192.168.1.2
            }
        }
        DNS_CHECK {
            connect_port 53
            type aaaa
            name example.com
        }
        MISC_CHECK {
            misc_path "/bin/check.sh 192.168.1.10"
            misc_timeout 5
            misc_dynamic
            user nobody nogroup
            connect_timeout 3
            alpha
        }
        UDP_CHECK {
            connect_port 53
            payload Ab12f 3 456
            require_reply 01xX
            min_reply_length 2
            max_reply_length 100
        }
        PING_CHECK {
            retry 2
        }
        FILE_CHECK {
            track_file tf1
            dynamic
            weight -10 reverse
        }
        BFD_CHECK {
            name bfd1
        }
    }
}
virtual_server fwmark 7 {
    ip_family inet6
    lb_algo rr
    lb_kind DR
    persistence_timeout
    real_server 2001:db8::10 {
        UDP_CHECK {
            connect_port 53
            require_reply
        }
        PING_CHECK {
        }
    }
}
virtual_server group VSG {
    protocol SCTP
    real_server 10.1.1.1 80 {
        TCP_CHECK {
        }
    }
}
"""


@pytest.fixture(scope="module")
def rich():
    cfg, d = parse(RICH)
    assert msgs(d, "error") == []
    return cfg


# --- virtual_server_group ------------------------------------------------------------------


def test_group_entries(rich):
    g, g6 = rich.virtual_server_groups
    assert g.name == "VSG"
    assert g.entries == [
        m.VsgEntry(ip="10.0.0.1", port=80),
        m.VsgEntry(ip="10.0.0.2", last="10.0.0.9", port=80),
        m.VsgEntry(ip="10.0.1.250", last="10.0.2.5", port=80),
        m.VsgEntry(ip="10.0.3.0", prefixlen=29, port=80),
        m.VsgEntry(ip="10.0.4.1"),
        m.VsgEntry(fwmark=7),
    ]
    assert g6.entries == [m.VsgEntry(ip="ae00::2", last="ae00::1f", port=443), m.VsgEntry(fwmark=16, family="inet6")]
    assert g.families == {4} and g6.families == {6}
    assert g.has_addresses


@pytest.mark.parametrize("line,word,message,col", [
    ("10.0.0.300 80", "10.0.0.300", "'10.0.0.300' is not an IP address", 5),
    ("10.0.0.9-3 80", "10.0.0.9-3", "range '10.0.0.9-3' ends before it starts", 5),
    ("10.0.0.1-256", "10.0.0.1-256", "'256' is not a range end", 5),
    ("10.0.0.1 80 90", "10.0.0.1", "unexpected extra argument '90'", 17),
    ("fwmark 1 inet5", "fwmark", "'inet5' is not an address family", 14),
    ("fwmark", "fwmark", "'fwmark' needs a mark", 5),
])
def test_group_entry_errors(line, word, message, col):
    _, d = parse(f"virtual_server_group G {{\n    {line}\n}}\n")
    [e] = [x for x in d.items if x.severity == "error"]
    assert e.message == entry_error(word, message)
    assert (e.pos.file, e.pos.line, e.pos.col) == ("t.conf", 2, col)


def test_group_dump_writes_short_and_long_ranges(rich):
    text = dump(rich)
    body = text[text.index("virtual_server_group VSG {"):text.index("virtual_server_group VSG6")]
    assert [ln.strip() for ln in body.splitlines()[1:-1]] == [
        "10.0.0.1 80", "10.0.0.2-9 80", "10.0.1.250-10.0.2.5 80", "10.0.3.0/29 80", "10.0.4.1", "fwmark 7"]
    assert "ae00::2-1f 443" in text and "fwmark 16 inet6" in text


# --- virtual_server -----------------------------------------------------------------------------


def test_virtual_server_headers(rich):
    vs1, vs2, vs3 = rich.virtual_servers
    assert (vs1.ip, vs1.port, vs1.fwmark, vs1.group) == ("192.168.1.1", 80, None, None)
    assert (vs2.ip, vs2.port, vs2.fwmark, vs2.group) == (None, None, 7, None)
    assert (vs3.ip, vs3.port, vs3.fwmark, vs3.group) == (None, None, None, "VSG")
    assert [v.label for v in rich.virtual_servers] == ["192.168.1.1 80", "fwmark 7", "group VSG"]


def test_virtual_server_keywords(rich):
    vs = rich.virtual_servers[0]
    assert vs.ip_family == "inet"
    assert vs.lvs_sched == "sh"
    assert vs.hashed is True
    assert (vs.flag_1, vs.flag_2, vs.flag_3) == (True, True, True)
    assert (vs.sh_port, vs.sh_fallback, vs.mh_port, vs.mh_fallback, vs.ops) == (True, True, True, True, True)
    assert vs.lvs_method == m.LvsMethod("TUN", "gue", 6080, "csum")
    assert vs.persistence_engine == "sip"
    assert vs.persistence_timeout == 600
    assert vs.persistence_granularity == "255.255.255.0"
    assert vs.protocol == "UDP"
    assert vs.ha_suspend is True
    assert vs.smtp_alert is True
    assert vs.virtualhost == "www.example.com"
    assert vs.snmp_name == "virtual one"
    assert (vs.alpha, vs.omega) == (True, True)
    assert (vs.quorum, vs.hysteresis) == (2, 1)
    assert vs.quorum_up == ("/bin/up.sh arg", "nobody", "nogroup")
    assert vs.quorum_down == ("/bin/down.sh",)
    assert vs.weight == 3
    assert vs.sorry_server == m.Server("192.168.2.1", 80)
    assert vs.sorry_server_inhibit is True
    assert vs.sorry_server_lvs_method == m.LvsMethod("DR")
    assert (vs.connect_timeout, vs.retry, vs.delay_before_retry, vs.warmup, vs.delay_loop) == (4.0, 2, 2.5, 10.0, 30.0)
    assert vs.inhibit_on_failure is True
    assert len(vs.real_servers) == 1


def test_aliases_map_to_canonical_fields(rich):
    vs = rich.virtual_servers[1]
    assert vs.lvs_sched == "rr"  # lb_algo
    assert vs.lvs_method == m.LvsMethod("DR")  # lb_kind
    ssl = rich.virtual_servers[0].real_servers[0].checkers[2]
    assert type(ssl) is m.SslGetCheck and ssl.retry == 2  # nb_get_retry
    text = dump(rich)
    assert "lb_algo" not in text and "lb_kind" not in text and "nb_get_retry" not in text
    assert "    lvs_sched rr\n    lvs_method DR\n" in text


def test_persistence_timeout_alone_means_six_minutes(rich):
    assert rich.virtual_servers[1].persistence_timeout == 360


@pytest.mark.parametrize("text,value", [
    ("NAT", m.LvsMethod("NAT")),
    ("DR", m.LvsMethod("DR")),
    ("TUN", m.LvsMethod("TUN")),
    ("TUN type ipip", m.LvsMethod("TUN", "ipip")),
    ("TUN type gue port 5555", m.LvsMethod("TUN", "gue", 5555)),
    ("TUN type gue port 5555 remcsum", m.LvsMethod("TUN", "gue", 5555, "remcsum")),
    ("TUN type gre csum", m.LvsMethod("TUN", "gre", None, "csum")),
])
def test_lvs_method_forms(text, value):
    cfg, d = parse(f"virtual_server 10.0.0.1 80 {{\n    lvs_method {text}\n}}\n")
    assert d.items == []
    assert cfg.virtual_servers[0].lvs_method == value
    assert f"lvs_method {text}\n" in dump(cfg)


@pytest.mark.parametrize("text,message,col", [
    ("nat", "lvs_method: 'nat' is not a forwarding method", 16),
    ("DR type ipip", "lvs_method: 'type': only TUN takes options", 19),
    ("TUN type gue", "lvs_method: a gue tunnel needs 'port NUM'", 25),
    ("TUN type ipip csum", "lvs_method: ipip tunnels do not support a checksum option", 30),
    ("TUN nocsum", "lvs_method: ipip tunnels do not support a checksum option", 20),
    ("TUN type gre remcsum", "lvs_method: gre tunnels do not support remcsum", 29),
    ("TUN type vxlan", "lvs_method: 'vxlan' is not a tunnel type", 25),
    ("TUN type gue port 0", "lvs_method: 0 is out of range", 34),
])
def test_lvs_method_errors(text, message, col):
    _, d = parse(f"virtual_server 10.0.0.1 80 {{\n    lvs_method {text}\n}}\n")
    [e] = d.errors
    assert e.message == message
    assert (e.pos.line, e.pos.col) == (2, col)


def test_persistence_timeout_zero_is_an_error():
    _, d = parse("virtual_server 10.0.0.1 80 {\n    persistence_timeout 0\n}\n")
    [e] = d.errors
    assert e.message == "persistence_timeout: 0 is out of range"
    assert e.expected == "nothing (meaning 360), or an integer from 1 to 4294967295"
    assert (e.pos.line, e.pos.col) == (2, 25)


# --- real_server and checkers --------------------------------------------------------------------


def test_real_server_keywords(rich):
    rs = rich.virtual_servers[0].real_servers[0]
    assert (rs.ip, rs.port, rs.weight) == ("192.168.1.10", 80, 5)
    assert rs.lvs_method == m.LvsMethod("TUN", "gre", None, "nocsum")
    assert rs.notify_up == ("/bin/rs_up.sh",)
    assert rs.notify_down == ("/bin/rs_down.sh x", "root")
    assert (rs.uthreshold, rs.lthreshold) == (1000, 10)
    assert rs.smtp_alert is False
    assert rs.virtualhost == "rs.example.com"
    assert rs.snmp_name == "rs1"
    assert rs.alpha is False
    assert (rs.connect_timeout, rs.retry, rs.delay_before_retry, rs.warmup, rs.delay_loop) == (3.0, 4, 1.5, 5.0, 20.0)
    assert rs.inhibit_on_failure is False
    assert [type(c).KEYWORD for c in rs.checkers] == [
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK",
        "FILE_CHECK"]
    assert rs.bfd_checks == [m.BfdCheck(name="bfd1")]


def test_common_checker_options(rich):
    tcp = rich.virtual_servers[0].real_servers[0].checkers[0]
    assert tcp == m.TcpCheck(connect_ip="192.168.1.11", connect_port=8080, bindto="192.168.1.2", bind_port=5000,
                             bind_if="eth0", connect_timeout=2.0, fwmark=5, alpha=True, retry=0,
                             delay_before_retry=1.0, warmup=0.0, delay_loop=10.0, log_all_failures=True)


def test_http_and_ssl_get(rich):
    http, ssl = rich.virtual_servers[0].real_servers[0].checkers[1:3]
    assert type(http) is m.HttpGetCheck
    assert (http.http_protocol, http.virtualhost, http.fast_recovery) == ("1.0C", "chk.example.com", True)
    assert http.urls == [m.Url(path="/health", digest="9b3a0c85a887a256d6939da88aabd8cd",
                               status_code=((200, 299), (301, 301), (400, 404)), virtualhost="url.example.com",
                               regex="^OK( now)?", regex_no_match=True, regex_options=("caseless", "multiline"),
                               regex_stack=(32768, 65536), regex_min_offset=0, regex_max_offset=100)]
    assert ssl.enable_sni is True
    assert ssl.urls == [m.Url(path="/", status_code=((200, 200),))]


def test_smtp_dns_misc_udp_ping_file(rich):
    smtp, dns, misc, udp, ping, fc = rich.virtual_servers[0].real_servers[0].checkers[3:]
    assert (smtp.helo_name, smtp.connect_port) == ("mail.example.com", 25)
    assert smtp.hosts == [m.SmtpHost(connect_ip="192.168.1.12", connect_port=587, bindto="192.168.1.2")]
    assert (dns.connect_port, dns.type, dns.name) == (53, "AAAA", "example.com")
    assert misc == m.MiscCheck(alpha=True, misc_path="/bin/check.sh 192.168.1.10", misc_timeout=5,
                               misc_dynamic=True, user=("nobody", "nogroup"), connect_timeout=3.0)
    assert udp == m.UdpCheck(connect_port=53, payload=("Ab12f", "3", "456"), require_reply=("01xX",),
                             min_reply_length=2, max_reply_length=100)
    assert ping == m.PingCheck(retry=2)
    assert fc == m.FileCheck(track_file="tf1", dynamic=True, weight=m.TrackWeight(-10, True))
    udp2 = rich.virtual_servers[1].real_servers[0].checkers[0]
    assert udp2.require_reply == ()  # require_reply alone: a reply is needed, its content is not checked


@pytest.mark.parametrize("block,body,message,line,col", [
    ("HTTP_GET", "url {\n status_code 299-200\n}", "status_code: range '299-200' ends before it starts", 5, 14),
    ("HTTP_GET", "url {\n regex_options caseless bogus\n}", "regex_options: 'bogus' is not a supported regex option",
     5, 25),
    ("HTTP_GET", "url {\n regex_stack 100 10\n}", "regex_stack: regex_stack maximum 10 is below the start size 100",
     5, 18),
    ("HTTP_GET", "http_protocol 2.0", "http_protocol: '2.0' is not a valid choice", 4, 15),
    ("SSL_GET", "connect_ip 300.1.1.1", "connect_ip: '300.1.1.1' is not an IP address", 4, 12),
    ("UDP_CHECK", "payload 12 zz", "payload: 'zz' is not a hex string", 4, 12),
    ("UDP_CHECK", "payload", "payload: missing value", 4, 1),
    ("DNS_CHECK", "type ANY", "type: 'ANY' is not a valid choice", 4, 6),
    ("FILE_CHECK", "weight 5 sideways", "weight: unexpected 'sideways'", 4, 10),
    ("MISC_CHECK", "user a b c", "user: unexpected extra argument 'c'", 4, 10),
    ("TCP_CHECK", "enable_sni", "unknown keyword 'enable_sni' in TCP_CHECK", 4, 1),
])
def test_checker_value_errors(block, body, message, line, col):
    text = f"virtual_server 10.0.0.1 80 {{\nreal_server 10.0.0.2 80 {{\n{block} {{\n{body}\n}}\n}}\n}}\n"
    _, d = parse(text)
    [e] = d.errors
    assert e.message == message
    assert (e.pos.file, e.pos.line, e.pos.col) == ("t.conf", line, col)


def test_unknown_keyword_in_real_server_hints_where_it_belongs():
    _, d = parse("virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  lvs_sched rr\n }\n}\n")
    [e] = d.errors
    assert e.message == "unknown keyword 'lvs_sched' in real_server"
    assert e.hint == "'lvs_sched' belongs in virtual_server"
    assert (e.pos.line, e.pos.col) == (3, 3)


def test_keywords_fastka_does_not_act_on_are_reported():
    text = ("virtual_server 10.0.0.1 80 {\n hashed\n snmp_name v\n real_server 10.0.0.2 80 {\n"
            "  snmp_name r\n  BFD_CHECK {\n   name b\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n"
            "   connect_timeout 3\n  }\n }\n}\n")
    _, d = parse(text)
    assert [(w.message, w.pos.line, w.pos.col) for w in d.warnings] == [
        ("'hashed' is obsolete and ignored (IPVS's internal 'hashed' service flag; ipvsadm has no option for it)",
         2, 2),
        ("'snmp_name' is accepted but fastka does not act on it (fastka has no SNMP agent)", 3, 2),
        ("'snmp_name' is accepted but fastka does not act on it (fastka has no SNMP agent)", 5, 3),
        ("'BFD_CHECK' is accepted but fastka does not act on it (fastka has no BFD)", 6, 3),
        ("'connect_timeout' is accepted but fastka does not act on it (the script's time limit is misc_timeout; "
         "MISC_CHECK makes no connection)", 11, 4),
    ]
    assert d.errors == []


def test_ssl_block():
    cfg, d = parse('password "s3cret pass"\nca /etc/ca.pem\ncertificate /etc/c.pem\nkey /etc/k.pem\n',
                   root=m.SslConfig)
    assert d.items == []
    assert cfg == m.SslConfig(password="s3cret pass", ca="/etc/ca.pem", certificate="/etc/c.pem", key="/etc/k.pem")
    assert dump(cfg) == 'password "s3cret pass"\nca /etc/ca.pem\ncertificate /etc/c.pem\nkey /etc/k.pem\n'


# --- defaults and cascade ------------------------------------------------------------------------

CASCADE = """\
virtual_server 10.0.0.1 80 {
    delay_loop 20
    retry 2
    virtualhost vs.example
    alpha
    inhibit_on_failure
    real_server 10.0.0.2 {
        HTTP_GET {
            url {
                path /
            }
        }
        DNS_CHECK {
        }
        MISC_CHECK {
            misc_path /bin/true
        }
    }
    real_server 10.0.0.3 8080 {
        delay_loop 5
        retry 7
        alpha false
        connect_timeout 2
        TCP_CHECK {
            delay_before_retry 9
        }
        DNS_CHECK {
        }
    }
}
virtual_server 10.0.0.9 443 {
    sorry_server 10.0.0.99
    lvs_method DR
    weight 4
    real_server 10.0.0.10 443 {
        SSL_GET {
            url {
                path /
            }
        }
        TCP_CHECK {
        }
        DNS_CHECK {
        }
        MISC_CHECK {
            misc_path /bin/true
        }
        UDP_CHECK {
        }
        SMTP_CHECK {
            connect_timeout 7
            bindto 10.0.0.250
            host {
                connect_ip 10.0.0.11
            }
            host {
                connect_port 2525
            }
        }
        FILE_CHECK {
            track_file f
        }
    }
}
virtual_server 10.0.0.20 {
    real_server 10.0.0.21 {
        PING_CHECK {
        }
    }
}
virtual_server fwmark 3 {
    persistence_granularity 255.255.255.0
    real_server 10.0.0.30 {
    }
}
"""


@pytest.fixture(scope="module")
def cascade():
    r = load_text(CASCADE, filename="c.conf")
    assert [d.message for d in r.diagnostics.errors] == []
    return r.config


def test_virtual_server_defaults(cascade):
    vs = cascade.virtual_servers[0]
    assert vs.lvs_sched == "wlc"
    assert vs.lvs_method == m.LvsMethod("NAT")
    assert vs.protocol == "UDP"  # keepalived 2.2.7 defaults to UDP
    assert (vs.quorum, vs.hysteresis) == (1, 0)
    assert (vs.connect_timeout, vs.delay_loop) == (5.0, 20.0)
    assert (vs.retry, vs.delay_before_retry, vs.warmup) == (2, None, None)  # no virtual-server-wide default
    assert vs.smtp_alert is False
    assert vs.persistence_timeout is None
    assert (vs.alpha, vs.omega, vs.inhibit_on_failure) == (True, False, True)


def test_real_server_inherits_from_virtual_server(cascade):
    rs1, rs2 = cascade.virtual_servers[0].real_servers
    assert (rs1.port, rs1.weight, rs1.lvs_method) == (80, 1, m.LvsMethod("NAT"))
    assert (rs1.alpha, rs1.inhibit_on_failure, rs1.virtualhost) == (True, True, "vs.example")
    assert (rs1.connect_timeout, rs1.delay_loop, rs1.retry, rs1.delay_before_retry, rs1.warmup) == \
        (5.0, 20.0, 2, None, None)
    assert rs1.smtp_alert is True  # the real server default is yes, not the virtual server's
    assert (rs2.port, rs2.alpha, rs2.inhibit_on_failure) == (8080, False, True)
    assert (rs2.connect_timeout, rs2.delay_loop, rs2.retry) == (2.0, 5.0, 7)


def test_checkers_inherit_from_real_server(cascade):
    rs1, rs2 = cascade.virtual_servers[0].real_servers
    http, dns, misc = rs1.checkers
    assert (http.connect_ip, http.connect_port, http.connect_timeout) == ("10.0.0.2", 80, 5.0)
    assert (http.alpha, http.retry, http.delay_loop, http.warmup, http.delay_before_retry) == (True, 2, 20.0, 20.0, 3.0)
    assert http.virtualhost == "vs.example" and http.urls[0].virtualhost == "vs.example"
    assert http.urls[0].status_code == ((200, 299),)
    assert (dns.retry, dns.delay_before_retry, dns.type, dns.name) == (2, 20.0, "SOA", ".")
    assert (misc.retry, misc.delay_before_retry, misc.warmup, misc.alpha) == (2, 1.0, 20.0, True)
    tcp, dns2 = rs2.checkers
    assert (tcp.connect_ip, tcp.connect_port, tcp.connect_timeout) == ("10.0.0.3", 8080, 2.0)
    assert (tcp.alpha, tcp.retry, tcp.delay_loop, tcp.warmup, tcp.delay_before_retry) == (False, 7, 5.0, 5.0, 9.0)
    assert (dns2.retry, dns2.delay_before_retry) == (7, 5.0)


def test_checker_type_defaults(cascade):
    vs = cascade.virtual_servers[1]
    assert vs.sorry_server == m.Server("10.0.0.99", 443)
    assert vs.sorry_server_lvs_method == m.LvsMethod("DR")
    rs = vs.real_servers[0]
    assert (rs.weight, rs.lvs_method) == (4, m.LvsMethod("DR"))
    ssl, tcp, dns, misc, udp, smtp, fc = rs.checkers
    assert [(c.retry, c.delay_before_retry) for c in (ssl, tcp, dns, misc, udp, smtp)] == [
        (1, 3.0), (1, 1.0), (3, 60.0), (0, 1.0), (1, 1.0), (1, 1.0)]
    assert all(c.delay_loop == 60.0 and c.warmup == 60.0 and c.alpha is False
               for c in (ssl, tcp, dns, misc, udp, smtp))
    assert (udp.min_reply_length, udp.max_reply_length) == (0, 255)
    assert misc.connect_timeout is None
    assert fc == m.FileCheck(track_file="f")  # FILE_CHECK has none of the standard options
    # SMTP_CHECK with hosts: the hosts are checked; the checker's options are their defaults
    assert (smtp.connect_ip, smtp.connect_port, smtp.connect_timeout, smtp.bindto) == (None, None, 7.0, "10.0.0.250")
    assert [(h.connect_ip, h.connect_port, h.connect_timeout, h.bindto) for h in smtp.hosts] == [
        ("10.0.0.11", 443, 7.0, "10.0.0.250"), ("10.0.0.10", 2525, 7.0, "10.0.0.250")]


def test_portless_and_granularity_make_persistent(cascade):
    vs3, vs4 = cascade.virtual_servers[2:]
    assert vs3.persistence_timeout == 360 and vs3.protocol == "UDP"
    assert vs3.real_servers[0].port is None
    assert vs3.real_servers[0].checkers[0].connect_port is None  # PING_CHECK needs none
    assert vs4.persistence_timeout == 360
    assert vs4.protocol is None  # a fwmark service has no protocol
    assert vs4.real_servers[0].port is None


def test_global_smtp_alert_sets_both_defaults():
    servers = "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n }\n}\n"
    vs = load_text("global_defs {\n smtp_alert_checker false\n}\n" + servers).config.virtual_servers[0]
    assert (vs.smtp_alert, vs.real_servers[0].smtp_alert) == (False, False)
    vs = load_text("global_defs {\n smtp_alert\n}\n" + servers).config.virtual_servers[0]
    assert (vs.smtp_alert, vs.real_servers[0].smtp_alert) == (True, True)


def test_written_values_are_kept():
    cfg = load_text(RICH).config
    vs = cfg.virtual_servers[0]
    rs = vs.real_servers[0]
    assert (vs.lvs_sched, vs.quorum, vs.hysteresis, vs.smtp_alert) == ("sh", 2, 1, True)
    assert (rs.weight, rs.alpha, rs.smtp_alert, rs.inhibit_on_failure) == (5, False, False, False)
    tcp = rs.checkers[0]
    assert (tcp.retry, tcp.warmup, tcp.connect_ip, tcp.connect_port) == (0, 0.0, "192.168.1.11", 8080)


# --- dump round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [RICH, CASCADE], ids=["rich", "cascade"])
def test_round_trip(text):
    first = load_text(text, filename="a.conf")
    assert [d.message for d in first.diagnostics.errors] == []
    again = load_text(dump(first.config), filename="b.conf")
    assert [d.message for d in again.diagnostics.errors] == []
    assert again.config == first.config
    assert dump(again.config) == dump(first.config)


def test_apply_defaults_is_idempotent():
    cfg = load_text(CASCADE).config
    snapshot = dump(cfg)
    m.apply_defaults(cfg)
    assert dump(cfg) == snapshot


def _keywords(cls, seen=None):
    """Every keyword (and block keyword) declared under a block class."""
    seen = set() if seen is None else seen
    if cls in seen:
        return set()
    seen.add(cls)
    out = set()
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("spec")
        if spec is None or not spec.keyword and spec.kind != "sub":
            continue
        if spec.kind == "sub":
            blocks = spec.block if isinstance(spec.block, dict) else {spec.keyword: spec.block}
            for name, c in blocks.items():
                out.add(name)
                out |= _keywords(c, seen)
        else:
            out.add(spec.keyword)
    return out


def _written(text):
    """Every keyword that starts a line of a config text."""
    return {ln.split()[0] for ln in text.splitlines() if ln.strip() and ln.split()[0] not in ("}",)}


def test_every_lvs_keyword_is_in_the_rich_config():
    """The round trip above covers every LVS keyword (aliases and the SSL block aside)."""
    declared = _keywords(m.VirtualServer) | _keywords(m.VirtualServerGroup)
    assert declared - _written(RICH) == set()
    assert {"lb_algo", "lb_kind", "nb_get_retry"} <= _written(RICH)
    assert len(declared) == 85  # distinct keyword names (many are shared by several blocks)


def test_top_level_ssl_block():
    r = load_text('SSL {\n    password "s3 cret"\n    ca /etc/ssl/ca.pem\n    certificate /etc/ssl/c.pem\n'
                  '    key /etc/ssl/k.pem\n}\n', filename="t.conf")
    assert not r.diagnostics.has_errors, [str(d) for d in r.diagnostics]
    ssl = r.config.ssl
    assert (ssl.password, ssl.ca, ssl.certificate, ssl.key) == ("s3 cret", "/etc/ssl/ca.pem", "/etc/ssl/c.pem",
                                                                "/etc/ssl/k.pem")
    assert load_text(dump(r.config)).config == r.config
