"""Tree -> model: every loader error class carries file, line, column and what was expected;
all errors of a file are reported in one run."""

from __future__ import annotations

from fastka.config import dump, load_text
from fastka.config.source import Pos


def errors(text: str):
    r = load_text(text, filename="k.conf")
    return r, [(e.pos, e.message, e.expected, e.hint) for e in r.diagnostics.errors]


def test_unknown_keyword_with_did_you_mean():
    _, errs = errors("vrrp_instance V {\n    interface vrrp0\n    virtual_router_id 1\n    priorty 100\n}\n")
    assert errs == [(Pos("k.conf", 4, 5), "unknown keyword 'priorty' in vrrp_instance", None,
                     "did you mean 'priority'?")]


def test_unknown_keyword_that_belongs_elsewhere():
    _, errs = errors("global_defs {\n  lb_algo rr\n}\n")
    ((pos, msg, _, hint),) = errs
    assert pos == Pos("k.conf", 2, 3) and msg == "unknown keyword 'lb_algo' in global_defs"
    assert hint == "'lb_algo' belongs in virtual_server"


def test_bad_value_points_at_the_value():
    _, errs = errors("vrrp_instance V {\n  interface vrrp0\n  virtual_router_id abc\n}\n")
    assert (Pos("k.conf", 3, 21), "virtual_router_id: 'abc' is not an integer", "an integer from 1 to 255",
            None) in errs
    # refused, not also reported as missing
    assert not any("no virtual_router_id" in e[1] for e in errs)


def test_missing_value():
    _, errs = errors("vrrp_instance V {\n  interface vrrp0\n  virtual_router_id\n}\n")
    assert (Pos("k.conf", 3, 3), "virtual_router_id: missing value", "an integer from 1 to 255", None) in errs


def test_extra_argument():
    _, errs = errors("vrrp_instance V {\n  interface vrrp0\n  virtual_router_id 5 6\n}\n")
    assert (Pos("k.conf", 3, 23), "virtual_router_id: unexpected extra argument '6'", "an integer from 1 to 255",
            None) in errs


def test_block_where_value_expected_and_value_where_block_expected():
    _, errs = errors("vrrp_instance V {\n  interface vrrp0\n  virtual_router_id 5\n  priority { 1 }\n"
                     "  authentication PASS\n}\n")
    msgs = {(e[0].line, e[0].col): e[1] for e in errs}
    assert msgs[(4, 3)] == "'priority' does not take a block"
    assert msgs[(5, 3)] == "'authentication' needs a block"


def test_block_header_errors():
    _, errs = errors("virtual_server 10.0.0.300 80 {\n  lb_algo rr\n}\nvrrp_instance {\n}\n")
    msgs = {(e[0].line, e[0].col): e[1] for e in errs}
    assert msgs[(1, 16)] == "virtual_server: '10.0.0.300' is not an IP address"
    assert msgs[(4, 1)] == "vrrp_instance: missing value"


def test_repeated_keyword_warns_and_last_wins():
    r = load_text("vrrp_instance V {\n  interface vrrp0\n  virtual_router_id 5\n  priority 10\n  priority 20\n}\n",
                  filename="k.conf")
    assert r.config.vrrp_instances[0].priority == 20
    (w,) = [w for w in r.diagnostics.warnings if "given again" in w.message]
    assert w.pos == Pos("k.conf", 5, 3) and "k.conf:4:3" in w.message


def test_parsed_not_acted_on_is_reported():
    r = load_text("global_defs {\n  enable_snmp_vrrp\n}\n", filename="k.conf")
    assert not r.diagnostics.has_errors
    (w,) = [w for w in r.diagnostics.warnings if "enable_snmp_vrrp" in w.message]
    assert w.pos == Pos("k.conf", 2, 3)
    assert w.message.startswith("'enable_snmp_vrrp' is accepted but fastka does not act on it")


def test_all_errors_in_one_run():
    text = ("bogus 1\n"
            "vrrp_instance A {\n  interface vrrp0\n  virtual_router_id 999\n  priority 0\n}\n"
            "global_defs {\n  router_idd x\n}\n"
            "}\n")
    _, errs = errors(text)
    lines = sorted(e[0].line for e in errs)
    assert lines == [1, 4, 5, 8, 10]


def test_every_diagnostic_quotes_its_line():
    r = load_text("vrrp_instance A {\n  interface vrrp0\n  virtual_router_id 999\n}\n", filename="k.conf")
    (e,) = r.diagnostics.errors
    assert e.source == "  virtual_router_id 999"
    assert e.format().splitlines()[1:3] == ["      virtual_router_id 999", "                        ^"]


def test_numbers_read_as_keepalived_reads_them():
    """ASCII digits only, no '+', '_' or exponent; TIMERs to the microsecond."""
    def errs(vrid="1", delay="1"):
        return [e[1] for e in errors("global_defs {\n  vrrp_startup_delay %s\n}\n"
                                          "vrrp_instance V {\n  interface vrrp0\n  virtual_router_id %s\n"
                                          "  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n" % (delay, vrid))[1]]
    assert errs() == []
    for bad in ("5_0", "\u0661\u0660", "+1", "0x10", "1e1"):
        assert errs(vrid=bad) == [f"virtual_router_id: '{bad}' is not an integer"]
    assert errs(delay="1e-3") == ["vrrp_startup_delay: '1e-3' is not a number"]
    assert errs(delay="1.2345678") == [
        "vrrp_startup_delay: '1.2345678' has more than 6 decimal places (keepalived's resolution is 1 us)"]
    assert errs(delay="1.234567") == []


def test_state_and_auth_type_are_case_sensitive_as_in_keepalived():
    _, errs = errors("vrrp_instance V {\n  state master\n  interface vrrp0\n  virtual_router_id 1\n"
                     "  authentication {\n    auth_type pass\n  }\n}\n")
    msgs = [(e[0].line, e[1]) for e in errs]
    assert (2, "state: 'master' is not a valid choice") in msgs
    assert (6, "auth_type: 'pass' is not a valid choice") in msgs


def test_misc_path_with_unquoted_arguments_is_refused():
    _, errs = errors("virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n"
                     "    MISC_CHECK {\n      misc_path /bin/check.sh a b\n    }\n  }\n}\n")
    assert errs == [(Pos("k.conf", 5, 31), "misc_path: keepalived would run only '/bin/check.sh' and ignore 'a'",
                     'the whole command in quotes: "/bin/check.sh a b"', None)]
    _, errs = errors("virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n"
                     "    MISC_CHECK {\n      misc_path \"/bin/check.sh a b\"\n    }\n  }\n}\n")
    assert errs == []


def test_script_user_that_does_not_exist_is_an_error_on_this_host():
    text = ("global_defs {\n  enable_script_security\n}\n"
            "vrrp_instance V {\n  interface vrrp0\n  virtual_router_id 1\n  virtual_ipaddress {\n    192.0.2.1\n  }\n"
            "  notify_master /bin/echo master\n  notify_backup \"/bin/echo backup\" root\n}\n")
    r = load_text(text, filename="k.conf", check_system=True)
    (e,) = r.diagnostics.errors
    assert e.pos == Pos("k.conf", 10, 3)
    assert e.message == "notify_master: user 'master' does not exist, so keepalived would not run '/bin/echo'"
    assert e.hint == 'if it is an argument of the script, quote the whole command: "/bin/echo master"'
    assert not load_text(text, filename="k.conf").diagnostics.has_errors  # a host check only


def test_repeated_keywords_follow_keepalived():
    """status_code and regex_options add up, digest and DNS name keep the first,
    lvs_timeouts lines combine, everything else: the last wins (with a warning)."""
    text = ("global_defs {\n  lvs_timeouts tcp 100\n  lvs_timeouts udp 50\n}\n"
            "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    HTTP_GET {\n"
            "      url {\n        path /\n        status_code 200\n        status_code 301-302\n"
            "        digest 0123456789abcdef0123456789abcdef\n        digest ffffffffffffffffffffffffffffffff\n"
            "      }\n    }\n  }\n}\n")
    r = load_text(text, filename="k.conf")
    assert not r.diagnostics.has_errors
    t = r.config.global_defs.lvs_timeouts
    assert (t.tcp, t.tcpfin, t.udp) == (100, None, 50)
    url = r.config.virtual_servers[0].real_servers[0].checkers[0].urls[0]
    assert url.status_code == ((200, 200), (301, 302))
    assert url.digest == "0123456789abcdef0123456789abcdef"
    (w,) = [w for w in r.diagnostics.warnings if "digest" in w.message]
    assert w.pos == Pos("k.conf", 14, 9) and "keepalived keeps the value at k.conf:13:9" in w.message
    assert load_text(dump(r.config)).config == r.config


def test_scripts_without_script_security_warn_once():
    body = ("vrrp_script a {\n  script /bin/true\n}\nvrrp_script b {\n  script /bin/false\n}\n")
    r = load_text(body, filename="k.conf")
    (w,) = [w for w in r.diagnostics.warnings if "enable_script_security" in w.message]
    assert w.pos == Pos("k.conf", 2, 3)
    assert w.message == ("script: scripts are configured but global_defs has no enable_script_security; "
                         "keepalived reports a security violation")
    r = load_text("global_defs {\n  enable_script_security\n}\n" + body, filename="k.conf")
    assert not [w for w in r.diagnostics.warnings if "enable_script_security" in w.message]


def test_a_refused_address_is_not_also_reported_as_no_addresses():
    head = "vrrp_instance V {\n  interface vrrp0\n  virtual_router_id 1\n"
    r = load_text(head + "  virtual_ipaddress {\n    192.0.2.300\n  }\n}\n", filename="k.conf")
    assert [e.pos.line for e in r.diagnostics.errors] == [5]
    assert not [w for w in r.diagnostics.warnings if "has no virtual_ipaddress" in w.message]
    r = load_text(head + "  virtual_ipaddress {\n  }\n}\n", filename="k.conf")
    assert [w.message for w in r.diagnostics.warnings if "has no virtual_ipaddress" in w.message] == [
        "vrrp_instance 'V' has no virtual_ipaddress"]
