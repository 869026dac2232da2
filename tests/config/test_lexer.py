"""Tests for the keepalived.conf lexer (keepalived.conf(5) syntax)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fastka.config import lexer as lexer_module
from fastka.config.lexer import default_config_id, expand_braces, lex_file, lex_text
from fastka.config.source import ERROR, NOTICE, WARNING, Diagnostic, Diagnostics, Line, Pos, Token

# ---------------------------------------------------------------- helpers


def lex(text: str, **kw: object) -> tuple[list[Line], Diagnostics]:
    diags = Diagnostics()
    kw.setdefault("config_id", "main")
    lines = lex_text(text, diags, **kw)  # type: ignore[arg-type]
    return lines, diags


def words(lines: list[Line]) -> list[list[str]]:
    return [[t.text for t in line.tokens] for line in lines]


def flat(lines: list[Line]) -> list[str]:
    """Each line's words joined by one space."""
    return [" ".join(w) for w in words(lines)]


def located(lines: list[Line]) -> list[list[tuple[str, int, int]]]:
    return [[(t.text, t.pos.line, t.pos.col) for t in line.tokens] for line in lines]


def only(diags: Diagnostics, severity: str = ERROR) -> Diagnostic:
    found = [d for d in diags if d.severity == severity]
    assert len(found) == 1, [str(d) for d in diags]
    return found[0]


def no_problems(diags: Diagnostics) -> None:
    assert [str(d) for d in diags if d.severity in (ERROR, WARNING)] == []


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------- words, comments, braces


def test_words_have_file_line_and_column() -> None:
    lines, diags = lex("global_defs {\n  router_id\tlb1   extra\n}\n", filename="ka.conf")
    no_problems(diags)
    assert located(lines) == [
        [("global_defs", 1, 1), ("{", 1, 13)],
        [("router_id", 2, 3), ("lb1", 2, 13), ("extra", 2, 19)],
        [("}", 3, 1)],
    ]
    assert all(t.pos.file == "ka.conf" for line in lines for t in line.tokens)
    assert lines[1].tokens[0] == Token("router_id", Pos("ka.conf", 2, 3), False)


def test_blank_and_comment_only_lines_give_no_line() -> None:
    lines, diags = lex("\n   \n# comment\n  ! bang comment\n\t\nword\n")
    no_problems(diags)
    assert located(lines) == [[("word", 6, 1)]]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a b # comment", ["a", "b"]),
        ("a b ! comment", ["a", "b"]),
        ("a#b", ["a"]),
        ("a!b c", ["a"]),
        ("key value#trailing", ["key", "value"]),
        ("x { # }", ["x", "{"]),
    ],
)
def test_comments_start_anywhere_outside_quotes(text: str, expected: list[str]) -> None:
    lines, _ = lex(text)
    assert words(lines) == [expected]


def test_braces_are_separate_tokens_even_when_attached() -> None:
    lines, _ = lex("global_defs{\n}}\nvirtual_ipaddress {10.0.0.1}\n{a}b{\n")
    assert located(lines) == [
        [("global_defs", 1, 1), ("{", 1, 12)],
        [("}", 2, 1), ("}", 2, 2)],
        [("virtual_ipaddress", 3, 1), ("{", 3, 19), ("10.0.0.1", 3, 20), ("}", 3, 28)],
        [("{", 4, 1), ("a", 4, 2), ("}", 4, 3), ("b", 4, 4), ("{", 4, 5)],
    ]
    assert lines[0].tokens[1].is_open and lines[1].tokens[0].is_close


def test_sources_hold_every_physical_line() -> None:
    text = "a {\n\n  # c\n  b \"x\"\n}"
    lines, diags = lex(text, filename="f.conf")
    assert [diags.source_line("f.conf", n) for n in range(1, 6)] == ["a {", "", "  # c", '  b "x"', "}"]
    assert [line.source for line in lines] == ["a {", '  b "x"', "}"]


def test_crlf_line_ends() -> None:
    lines, diags = lex("a b\r\nc\r\n", filename="w.conf")
    assert located(lines) == [[("a", 1, 1), ("b", 1, 3)], [("c", 2, 1)]]
    assert diags.source_line("w.conf", 1) == "a b"


def test_only_ascii_whitespace_separates_words() -> None:
    # keepalived uses the C locale's isspace(): a no-break space is part of a word
    lines, _ = lex("a\u00a0b c\x0bd\x0ce\n")
    assert words(lines) == [["a\u00a0b", "c", "d", "e"]]


def test_tabs_count_as_one_column() -> None:
    lines, _ = lex("\t\tkey\tvalue")
    assert located(lines) == [[("key", 1, 3), ("value", 1, 7)]]


# ---------------------------------------------------------------- quoted strings


def test_man_page_quoting_examples() -> None:
    lines, diags = lex('abcd" efg h jkl "mnop\nabcd "efg h jkl" mnop\n')
    no_problems(diags)
    assert words(lines) == [["abcd efg h jkl mnop"], ["abcd", "efg h jkl", "mnop"]]
    assert [t.quoted for t in lines[0].tokens] == [True]
    assert [(t.pos.col, t.quoted) for t in lines[1].tokens] == [(1, False), (6, True), (18, False)]


def test_quotes_protect_comment_characters_and_braces() -> None:
    lines, _ = lex("script \"/bin/x # not ! a comment\" # comment\nv '{' \"}\"\n")
    assert words(lines) == [["script", "/bin/x # not ! a comment"], ["v", "{", "}"]]
    assert not lines[1].tokens[1].is_open and not lines[1].tokens[2].is_close
    assert lines[1].tokens[1].quoted


def test_single_and_double_quotes_nest_each_other() -> None:
    lines, _ = lex("""a 'say "hi"' "it's" '' ""\n""")
    assert words(lines) == [["a", 'say "hi"', "it's", "", ""]]
    assert [t.quoted for t in lines[0].tokens] == [False, True, True, True, True]


@pytest.mark.parametrize(
    "escaped, value",
    [
        (r"\a\b\E\f\n\r\t\v", "\a\b\x1b\f\n\r\t\v"),
        (r"\101\60\0", "A0\x00"),
        (r"\1017", "A7"),  # at most three octal digits
        (r"\x41\x4a\x7e", "AJ~"),
        (r"\cA\cz\c[", "\x01\x1a\x1b"),
        (r"\\ \" \' \q \#", "\\ \" ' q #"),
    ],
)
def test_escapes_inside_quotes(escaped: str, value: str) -> None:
    lines, diags = lex(f'k "{escaped}"\n')
    no_problems(diags)
    assert words(lines) == [["k", value]]


def test_escaped_quote_does_not_end_the_string() -> None:
    lines, diags = lex(r'''notify "/bin/sh -c \"echo a b\"" x''')
    no_problems(diags)
    assert words(lines) == [["notify", '/bin/sh -c "echo a b"', "x"]]


def test_backslash_outside_quotes_is_literal() -> None:
    lines, _ = lex(r"path C:\dir\n x")
    assert words(lines) == [["path", r"C:\dir\n", "x"]]


def test_unterminated_quote_is_an_error_at_the_quote() -> None:
    lines, diags = lex('a b\nscript "/bin/x arg # more\nnext\n', filename="q.conf")
    d = only(diags)
    assert d.pos == Pos("q.conf", 2, 8)
    assert "unterminated quoted string" in d.message
    assert d.source == 'script "/bin/x arg # more'
    assert words(lines) == [["a", "b"], ["script", "/bin/x arg # more"], ["next"]]


# ---------------------------------------------------------------- conditionals


MAN_CONDITIONAL = """\
global_defs {
    @main   router_id main_router
    @backup router_id backup_router
}
vrrp_instance VRRP {
    @main    unicast_src_ip 1.2.3.4
    @backup  unicast_src_ip 1.2.3.5
    @backup2 unicast_src_ip 1.2.3.6
    unicast_peer {
        @^main    1.2.3.4
        @^backup  1.2.3.5
        @^backup2 1.2.3.6
    }
}
"""


def test_man_page_conditional_example_for_main() -> None:
    lines, diags = lex(MAN_CONDITIONAL, config_id="main")
    no_problems(diags)
    assert flat(lines) == [
        "global_defs {", "router_id main_router", "}", "vrrp_instance VRRP {", "unicast_src_ip 1.2.3.4",
        "unicast_peer {", "1.2.3.5", "1.2.3.6", "}", "}",
    ]
    # the tokens keep their real columns after the @id prefix
    assert located(lines)[1] == [("router_id", 2, 13), ("main_router", 2, 23)]


def test_man_page_conditional_example_for_other_ids() -> None:
    lines, _ = lex(MAN_CONDITIONAL, config_id="backup")
    assert "router_id backup_router" in flat(lines)
    assert [w for w in flat(lines) if w.startswith("1.2.3")] == ["1.2.3.4", "1.2.3.6"]
    lines, _ = lex(MAN_CONDITIONAL, config_id="other")
    assert not any(w.startswith("router_id") for w in flat(lines))
    assert [w for w in flat(lines) if w.startswith("1.2.3")] == ["1.2.3.4", "1.2.3.5", "1.2.3.6"]


def test_default_config_id_is_first_part_of_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexer_module.socket, "gethostname", lambda: "lb1.example.com")
    assert default_config_id() == "lb1"
    diags = Diagnostics()
    lines = lex_text("@lb1 a\n@lb2 b\n@^lb1 c\n", diags)
    assert flat(lines) == ["a"]


def test_conditional_without_id_warns() -> None:
    lines, diags = lex("@ x\n")
    assert lines == []
    d = only(diags, WARNING)
    assert d.pos == Pos("<string>", 1, 1) and "without a config id" in d.message


# ---------------------------------------------------------------- parameters


def test_definition_and_use() -> None:
    lines, diags = lex("$IFACE=eth0\n  interface $IFACE\n  dev ${IFACE}.10 ${IFACE}\n")
    no_problems(diags)
    assert located(lines) == [
        [("interface", 2, 3), ("eth0", 2, 13)],
        [("dev", 3, 3), ("eth0.10", 3, 7), ("eth0", 3, 19)],
    ]
    assert lines[0].source == "  interface $IFACE"


def test_bare_reference_needs_whitespace_or_line_end_after_it() -> None:
    lines, _ = lex("$X=1\na $X.5 $X\tb $X\n")
    assert words(lines) == [["a", "$X.5", "1", "b", "1"]]


def test_definition_syntax_rules() -> None:
    lines, _ = lex("$EMPTY=\n$A = 1\n  $B=two words\nx${EMPTY}y $B\n$1X=3\n")
    # "$A = 1" has a space before '=': not a definition, and $A is undefined
    assert words(lines) == [["$A", "=", "1"], ["xy", "two", "words"], ["$1X=3"]]


def test_undefined_parameter_is_left_unchanged_with_a_notice() -> None:
    lines, diags = lex("script ${UNDEF} $UNDEF {\n", filename="u.conf")
    assert words(lines) == [["script", "${UNDEF}", "$UNDEF", "{"]]
    d = only(diags, NOTICE)
    assert d.pos == Pos("u.conf", 1, 8) and "${UNDEF}" in d.message
    assert not diags.has_errors


def test_man_page_address_base_example_substitutes_at_use_time() -> None:
    lines, diags = lex(
        "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n"
        "$ADDRESS_BASE_SUB=0\n"
        "${ADDRESS_BASE}.100/32\n"
        "$ADDRESS_BASE_SUB=10\n"
        "${ADDRESS_BASE}.100/32\n"
    )
    no_problems(diags)
    assert located(lines) == [[("10.2.0.100/32", 3, 1)], [("10.2.10.100/32", 5, 1)]]


def test_replacement_is_rescanned_in_its_context() -> None:
    # after ${A} becomes "$B", the $B is followed by ".y", so it is not a reference
    lines, _ = lex("$A=$B\n$B=x\n${A}.y\n${A} z\n")
    assert words(lines) == [["$B.y"], ["x", "z"]]


def test_man_page_priority_conditional_definitions() -> None:
    text = "@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance VI_0 {\n    priority $PRIORITY\n}\n"
    lines, _ = lex(text, config_id="main")
    assert flat(lines) == ["vrrp_instance VI_0 {", "priority 240", "}"]
    lines, _ = lex(text, config_id="backup")
    assert flat(lines)[1] == "priority 200"


def test_man_page_conditional_inside_parameter_value() -> None:
    text = "$IF_MAIN=@main\n$IF_MAIN priority 240\n"
    lines, _ = lex(text, config_id="main")
    assert located(lines) == [[("priority", 2, 10), ("240", 2, 19)]]
    lines, _ = lex(text, config_id="backup")
    assert lines == []


def test_quoted_parameter_value_is_split_after_substitution() -> None:
    lines, _ = lex("$S=\"a b\" c\nx $S\nscript \"run ${S}\"\n")
    # substitution is textual and happens before splitting, so quotes in the value
    # pair up with the quotes around the reference
    assert words(lines) == [["x", "a b", "c"], ["script", "run a", "b c"]]


def test_predefined_hash_and_bang_do_not_start_comments() -> None:
    lines, diags = lex("a ${_HASH} b ${_BANG}c # real comment\n$H=${_HASH}x\nv $H\n")
    no_problems(diags)
    assert located(lines) == [[("a", 1, 1), ("#", 1, 3), ("b", 1, 12), ("!c", 1, 14)], [("v", 3, 1), ("#x", 3, 3)]]


def test_predefined_pwd_and_instance(tmp_path: Path) -> None:
    lines, _ = lex("x ${_PWD}/s.sh ${_INSTANCE}\n", base_dir=str(tmp_path), config_id="lb7")
    assert words(lines) == [["x", f"{tmp_path}/s.sh", "lb7"]]
    conf = write(tmp_path / "etc" / "ka.conf", "p ${_PWD}\n")
    diags = Diagnostics()
    assert words(lex_file(str(conf), diags, config_id="x")) == [["p", str(tmp_path / "etc")]]


def test_random_in_range_and_repeatable_with_random_seed() -> None:
    text = "random_seed 42\n" + "r ${_RANDOM} ${_RANDOM 5} ${_RANDOM 10 12} ${_RANDOM 3 3}\n" * 50
    lines, diags = lex(text)
    no_problems(diags)
    assert flat(lines)[0] == "random_seed 42"
    for w in words(lines)[1:]:
        assert 0 <= int(w[1]) <= 32767 and 5 <= int(w[2]) <= 32767 and 10 <= int(w[3]) <= 12 and w[4] == "3"
    assert len({w[3] for w in words(lines)[1:]}) == 3
    again, _ = lex(text)
    assert words(again) == words(lines)


@pytest.mark.parametrize("args", ["x", "1 2 3", "9 2", "-1 4"])
def test_random_with_bad_arguments_is_an_error(args: str) -> None:
    lines, diags = lex(f"r  ${{_RANDOM {args}}}\n")
    d = only(diags)
    assert d.pos == Pos("<string>", 1, 4) and "_RANDOM" in d.message
    assert words(lines) == [["r", "$", "{", "_RANDOM", *args.split(), "}"]]


def test_reserved_parameter_name_warns() -> None:
    lines, diags = lex("$_MINE=1\nv $_MINE\n")
    assert words(lines) == [["v", "1"]]
    assert "reserved" in only(diags, WARNING).message


def test_self_referencing_parameter_is_an_error_not_a_hang() -> None:
    start = time.monotonic()
    lines, diags = lex("$A=x${A}\n$B=${C}\n$C=${B}\nkey ${A}\nk2 $B\n", filename="r.conf")
    assert time.monotonic() - start < 2
    errors = diags.errors
    assert [e.pos for e in errors] == [Pos("r.conf", 4, 5), Pos("r.conf", 5, 4)]
    assert all("nested more than 32 deep" in e.message for e in errors)
    assert lines == []  # a line whose substitution fails is dropped


def test_exponential_parameter_growth_is_bounded() -> None:
    defs = "".join(f"$P{i}=${{P{i + 1}}}${{P{i + 1}}}\n" for i in range(30)) + "$P30=x\n"
    start = time.monotonic()
    _, diags = lex(defs + "v ${P0}\n")
    assert time.monotonic() - start < 5
    assert "more than 1000 parameter substitutions" in only(diags).message


INSTANCE_MACRO = r"""$INSTANCE= \
vrrp_instance VI_${NUM} { \
    interface eth0.${NUM} \
    use_vmac vrrp${NUM}.1 \
    virtual_router_id 1 \
    @high priority 130 \
    @low priority 120 \
    advert_int 1 \
    virtual_ipaddress { \
        10.0.${NUM}.254/24 \
    } \
    track_script { \
        offset_instance_${NUM} \
    } \
}

$NUM=0
$INSTANCE

$NUM=1
$INSTANCE
"""


def test_man_page_multiline_instance_example() -> None:
    lines, diags = lex(INSTANCE_MACRO, config_id="low", filename="m.conf")
    no_problems(diags)
    block = [
        "vrrp_instance VI_{n} {", "interface eth0.{n}", "use_vmac vrrp{n}.1", "virtual_router_id 1", "priority 120",
        "advert_int 1", "virtual_ipaddress {", "10.0.{n}.254/24", "}", "track_script {", "offset_instance_{n}", "}",
        "}",
    ]
    assert flat(lines) == [s.replace("{n}", "0") for s in block] + [s.replace("{n}", "1") for s in block]
    # every expanded token is placed at the use of the macro
    assert {(t.pos.file, t.pos.line, t.pos.col) for line in lines[:13] for t in line.tokens} == {("m.conf", 18, 1)}
    assert {t.pos.line for line in lines[13:] for t in line.tokens} == {21}
    assert lines[0].source == "$INSTANCE"


def man_page_vs_rs_example() -> str:
    """The man page text, with its long address written as @ADDR@ to keep lines short."""
    return r"""$RS= \
real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \
    weight 1 \
    inhibit_on_failure \
    smtp_alert \
    MISC_CHECK { \
        misc_path "${_PWD}/scripts/vs.sh RS_misc.${INST}.${VS_NUM}.${RS_NUM}.0 @ADDR@" \
    } \

    MISC_CHECK { \
        misc_path "${_PWD}/scripts/vs.sh RS_misc.${INST}.${VS_NUM}.${RS_NUM}.1 @ADDR@" \
    } \

    notify_up "${_PWD}/scripts/notify.sh RS_notify.${INST}.${VS_NUM}.${RS_NUM} UP @ADDR@" \

    notify_down "${_PWD}/scripts/notify.sh RS_notify.${INST}.${VS_NUM}.${RS_NUM} DOWN @ADDR@" \

}

$VS= \
virtual_server 10.0.${VS_NUM}.4 80 { \
    quorum 2 \
    quorum_up "${_PWD}/scripts/notify.sh VS_notify.${INST} UP 10.0.${VS_NUM}.4:80" \
    quorum_down "${_PWD}/scripts/notify.sh VS_notify.${INST} DOWN 10.0.${VS_NUM}.4:80" \
    $RS_NUM=1 \
    $RS \
    $RS_NUM=2 \
    $RS \
    $RS_NUM=3 \
    $RS \
}

$INST=i1
$VS_NUM=0
$ALPHA=alpha
$VS

$VS_NUM=1
$ALPHA=
$VS
""".replace("@ADDR@", "10.0.${VS_NUM}.4:80->192.168.${VS_NUM}.${RS_NUM}:80")


def test_man_page_nested_multiline_vs_rs_example() -> None:
    lines, diags = lex(man_page_vs_rs_example(), base_dir="/etc/keepalived")
    no_problems(diags)
    out = flat(lines)
    assert len(out) == 2 * (4 + 3 * 13 + 1)
    assert out[:6] == [
        "virtual_server 10.0.0.4 80 {",
        "quorum 2",
        "quorum_up /etc/keepalived/scripts/notify.sh VS_notify.i1 UP 10.0.0.4:80",
        "quorum_down /etc/keepalived/scripts/notify.sh VS_notify.i1 DOWN 10.0.0.4:80",
        "real_server 192.168.0.1 80 {",
        "weight 1",
    ]
    assert [w for w in out if w.startswith("real_server")] == [
        f"real_server 192.168.{v}.{r} 80 {{" for v in (0, 1) for r in (1, 2, 3)
    ]
    assert out[out.index("real_server 192.168.1.2 80 {") + 5] == (
        "misc_path /etc/keepalived/scripts/vs.sh RS_misc.i1.1.2.0 10.0.1.4:80->192.168.1.2:80"
    )
    misc = lines[out.index("real_server 192.168.1.2 80 {") + 5]
    assert misc.tokens[1].quoted
    assert out.count("}") == 2 * (1 + 3 * 3)
    # positions: the lines where $VS is used
    assert {line.tokens[0].pos.line for line in lines} == {36, 40}


def test_multiline_definition_with_conditional_and_first_value_line() -> None:
    lines, _ = lex("@main $M= first \\\n  second \\\n\n  third\nuse\n$M\n", config_id="main")
    assert flat(lines) == ["use", "first", "second", "third"]
    lines, diags = lex("@main $M= first \\\n  second \\\n\n  third\nuse\n$M\n", config_id="other")
    # the whole definition, continuation lines included, is excluded
    assert flat(lines) == ["use", "$M"]
    no_problems(diags)


def test_multiline_definition_running_to_end_of_file_warns() -> None:
    lines, diags = lex("$M= \\\na \\\nb \\\n", filename="e.conf")
    assert lines == []
    d = only(diags, WARNING)
    assert d.pos == Pos("e.conf", 1, 1) and "$M" in d.message


def test_multiline_parameter_using_itself_is_an_error_not_a_hang() -> None:
    start = time.monotonic()
    lines, diags = lex("$M= \\\n$M \\\nx\n$M\n")
    assert time.monotonic() - start < 5
    assert "nested more than 32 deep" in only(diags).message
    assert flat(lines) == ["x"] * 32


def test_multiline_value_used_inside_a_line_splits_into_lines() -> None:
    lines, _ = lex("$M= \\\na \\\nb\nx ${M} y\n")
    assert flat(lines) == ["x a", "b y"]


def test_substituted_tokens_take_the_column_of_the_reference() -> None:
    lines, _ = lex("$V=a  b\n  k ${V}z  q $V\n")
    assert located(lines) == [[("k", 2, 3), ("a", 2, 5), ("bz", 2, 5), ("q", 2, 12), ("a", 2, 14), ("b", 2, 14)]]


# ---------------------------------------------------------------- sequences and lists


def test_man_page_seq_example() -> None:
    lines, diags = lex("~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n")
    no_problems(diags)
    assert flat(lines) == [f"ip_address 10.0.{i}.1" for i in range(4)]
    assert located(lines)[0] == [("ip_address", 1, 20), ("10.0.0.1", 1, 31)]


@pytest.mark.parametrize(
    "spec", ["~SEQx(SUBNET, 144, 16, 192)", "~SEQx(SUBNET, 0x90, 0x10, 0xc0)"]
)
def test_man_page_seqx_examples(spec: str) -> None:
    lines, _ = lex(f"{spec} ip_address fe80::20:${{SUBNET}}:1\n")
    assert flat(lines) == [f"ip_address fe80::20:{x}:1" for x in ("90", "a0", "b0", "c0")]


def test_man_page_nested_seqx_example() -> None:
    seq = "~SEQx(AD2, 0x90, 0x10, 0xc0) ~SEQx(AD1, 0x12, -1, 0x0c) fe81::10:${AD2}:${AD1}"
    lines, _ = lex(f"virtual_ipaddress {{\n    {seq}\n}}\n")
    out = flat(lines)
    assert out[1:-1] == [f"fe81::10:{a:x}:{b:x}" for a in range(0x90, 0xC1, 0x10) for b in range(0x12, 0x0B, -1)]
    assert len(out) == 2 + 4 * 7


@pytest.mark.parametrize(
    "args, values",
    [
        ("X, 3", ["1", "2", "3"]),
        ("X, -3", ["-1", "-2", "-3"]),
        ("X, 5, 3", ["5", "4", "3"]),
        ("X, 2, 4", ["2", "3", "4"]),
        ("X, 0, 2, 5", ["0", "2", "4"]),
        ("X, 10, -4, 1", ["10", "6", "2"]),
        ("X, 7, 7", ["7"]),
    ],
)
def test_seq_defaults_for_start_and_step(args: str, values: list[str]) -> None:
    lines, diags = lex(f"~SEQ({args}) v ${{X}}\n")
    no_problems(diags)
    assert [w[1] for w in words(lines)] == values


def test_seq_that_produces_nothing_warns() -> None:
    lines, diags = lex("~SEQ(X, 5, 1, 3) v\n")
    assert lines == [] and "produces no values" in only(diags, WARNING).message


def test_man_page_list_examples() -> None:
    lines, _ = lex("~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}\n")
    assert flat(lines) == ["192.168.10.1", "192.168.20.4", "192.168.5.6", "192.168.12.8"]
    lines, _ = lex("~LST(IP, 1, 2, 3, 4) ~LST(IP1, 5,6,7) 192.169.${IP}.${IP1}\n")
    assert flat(lines) == [f"192.169.{a}.{b}" for a in (1, 2, 3, 4) for b in (5, 6, 7)]
    lines, _ = lex("~LST({IP,   IP1},  {10,1},{20,4},{5,6},{12,8})  ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}\n")
    assert flat(lines) == [
        f"192.{c}.{a}.{b}" for a, b in ((10, 1), (20, 4), (5, 6), (12, 8)) for c in (168, 170, 172)
    ]


def test_seq_over_a_multiline_parameter() -> None:
    text = r"""$VI4= \
vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \
    virtual_router_id ${ID} \
}

~SEQ(IF,0,1) ~SEQ(NUM,0,2) ~SEQ(ID,1,3) $VI4
"""
    lines, diags = lex(text)
    no_problems(diags)
    heads = [w for w in flat(lines) if w.startswith("vrrp_instance")]
    assert heads == [f"vrrp_instance vrrp4.{i}.{n}.{d} {{" for i in range(2) for n in range(3) for d in range(1, 4)]
    assert len(lines) == 18 * 3
    assert {line.tokens[0].pos.line for line in lines} == {6}


def test_sequence_variable_does_not_outlive_its_block() -> None:
    lines, _ = lex("$X=before\n~SEQ(X, 2) a $X\nb $X\n~SEQ(Y, 1) c\nd ${Y}\n")
    assert flat(lines) == ["a 1", "a 2", "b before", "c", "d ${Y}"]


def test_inner_sequence_bounds_may_use_outer_variables() -> None:
    lines, _ = lex("~SEQ(A, 3) ~SEQ(B, ${A}) p ${A}.${B}\n")
    assert flat(lines) == ["p 1.1", "p 2.1", "p 2.2", "p 3.1", "p 3.2", "p 3.3"]


@pytest.mark.parametrize(
    "line, col, message",
    [
        ("  ~FOO(X, 1) a", 3, "unknown sequence block"),
        ("~SEQ(X, 1 a", 1, "without a closing ')'"),
        ("~SEQ(X, 1, z) a", 12, "bad ~SEQ number 'z'"),
        ("~SEQ(X, 1, 0, 5) a", 12, "step must not be 0"),
        ("~SEQ(X) a", 1, "wrong number of ~SEQ arguments"),
        ("~SEQ(X, 1, 2, 3, 4) a", 1, "wrong number of ~SEQ arguments"),
        ("~SEQ( 9X , 3) a", 7, "bad ~SEQ variable name '9X'"),
        ("~LST(X) a", 1, "~LST needs a variable and at least one value"),
        ("~LST({A,B}, {1,2}, {3}) a", 20, "has 1 element(s) for 2 variable(s)"),
        ("~LST({A,-}, {1,2}) a", 6, "bad ~LST variable name '-'"),
    ],
)
def test_sequence_errors_have_positions(line: str, col: int, message: str) -> None:
    lines, diags = lex(line + "\nok\n", filename="s.conf")
    d = only(diags)
    assert d.pos == Pos("s.conf", 1, col)
    assert message in d.message
    assert flat(lines) == ["ok"]


def test_huge_sequence_is_refused_without_expanding() -> None:
    start = time.monotonic()
    lines, diags = lex("~SEQ(X, 0, 2000000) a ${X}\n")
    assert time.monotonic() - start < 2
    assert lines == [] and "more than 1000000 lines" in only(diags).message


def test_generated_line_limit_stops_nested_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexer_module, "MAX_GENERATED_LINES", 1000)
    lines, diags = lex("~SEQ(A, 100) ~SEQ(B, 100) x\nafter\n")
    d = only(diags)
    assert d.pos == Pos("<string>", 1, 14) and "more than 1000 lines" in d.message
    assert len(lines) < 1000 and flat(lines)[-1] == "after"


# ---------------------------------------------------------------- includes


def lex_path(path: Path, config_id: str = "main") -> tuple[list[Line], Diagnostics]:
    diags = Diagnostics()
    return lex_file(str(path), diags, config_id=config_id), diags


def test_include_splices_lines_with_their_own_positions(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "a\ninclude sub/part.conf\nz\n")
    write(tmp_path / "sub" / "part.conf", "  b\ninclude more.conf\n")
    write(tmp_path / "sub" / "more.conf", "c {\n")
    lines, diags = lex_path(main)
    no_problems(diags)
    assert flat(lines) == ["a", "b", "c {", "z"]
    positions = [line.tokens[0].pos for line in lines]
    assert positions == [
        Pos(str(main), 1, 1),
        Pos(str(tmp_path / "sub" / "part.conf"), 1, 3),
        Pos(str(tmp_path / "sub" / "more.conf"), 1, 1),
        Pos(str(main), 3, 1),
    ]
    assert diags.source_line(str(tmp_path / "sub" / "part.conf"), 1) == "  b"


def test_include_paths_are_shown_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "main.conf", "include sub/x.conf\n")
    write(tmp_path / "sub" / "x.conf", "x\n")
    monkeypatch.chdir(tmp_path)
    diags = Diagnostics()
    lines = lex_file("main.conf", diags, config_id="a")
    assert lines[0].tokens[0].pos == Pos(os.path.join("sub", "x.conf"), 1, 1)


def test_include_glob_is_sorted(tmp_path: Path) -> None:
    for name in ("b", "c", "a"):
        write(tmp_path / "conf.d" / f"{name}.conf", f"{name}\n")
    write(tmp_path / "conf.d" / "skip.txt", "no\n")
    main = write(tmp_path / "main.conf", "include conf.d/*.conf\n")
    lines, diags = lex_path(main)
    no_problems(diags)
    assert flat(lines) == ["a", "b", "c"]


def test_include_brace_expansion_keeps_alternative_order(tmp_path: Path) -> None:
    for name in ("x1", "x2", "y1", "z"):
        write(tmp_path / f"{name}.conf", f"{name}\n")
    main = write(tmp_path / "main.conf", "include {z,x*}.conf\ninclude '{y1,x2}.conf'\n")
    lines, diags = lex_path(main)
    no_problems(diags)
    assert flat(lines) == ["z", "x1", "x2", "y1", "x2"]


def test_expand_braces() -> None:
    assert expand_braces("{foo/{,cat,dog},bar}") == ["foo/", "foo/cat", "foo/dog", "bar"]
    assert expand_braces("a{b,c}d{e,f}") == ["abde", "abdf", "acde", "acdf"]
    assert expand_braces("plain") == ["plain"]
    assert expand_braces("a{}b") == ["a{}b"]
    assert expand_braces("{x}") == ["x"]
    assert expand_braces("{a{b,c}") == ["{ab", "{ac"]
    assert expand_braces("a}{b") == ["a}{b"]
    with pytest.raises(ValueError):
        expand_braces("{a,b}" * 20)


def test_include_of_missing_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "a\ninclude   missing.conf\nb\n")
    lines, diags = lex_path(main)
    d = only(diags, WARNING)
    assert not diags.has_errors
    assert d.pos == Pos(str(main), 2, 11) and "no file matches 'missing.conf'" in d.message
    assert flat(lines) == ["a", "b"]
    main.write_text("a\nincludea missing.conf\nb\n")
    lines, diags = lex_path(main)
    d = only(diags)
    assert d.pos == Pos(str(main), 2, 10) and "missing.conf" in d.message
    assert flat(lines) == ["a", "b"]


@pytest.mark.parametrize(
    "keyword, pattern, severity",
    [
        ("include", "none/*.conf", WARNING),
        ("include", "none.conf", WARNING),
        ("includer", "none/*.conf", WARNING),  # man page: includer for optional conf.d/*
        ("includer", "none.conf", WARNING),
        ("includem", "none.conf", ERROR),
        ("includem", "none/*.conf", WARNING),
        ("includew", "none/*.conf", ERROR),
        ("includew", "none.conf", ERROR),
        ("includeb", "{a,b}.conf", ERROR),
        ("includea", "none/*.conf", ERROR),
        ("includea", "none.conf", ERROR),
    ],
)
def test_include_variants_on_no_match(tmp_path: Path, keyword: str, pattern: str, severity: str) -> None:
    main = write(tmp_path / "main.conf", f"{keyword} {pattern}\n")
    lines, diags = lex_path(main)
    assert lines == []
    d = only(diags, severity)
    assert len(diags) == 1 and d.pos == Pos(str(main), 1, len(keyword) + 2)


def test_includeb_requires_every_brace_alternative_to_match(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", "a\n")
    main = write(tmp_path / "main.conf", "includeb {a,b}.conf\ninclude {a,b}.conf\n")
    lines, diags = lex_path(main)
    assert flat(lines) == ["a", "a"]
    d = only(diags)
    assert d.pos == Pos(str(main), 1, 10) and f"{tmp_path}/b.conf" in d.message


def test_unreadable_include(tmp_path: Path) -> None:
    (tmp_path / "dir.conf").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.conf")
    main = write(tmp_path / "main.conf", "include dir.conf\nincluder dangling.conf\n")
    lines, diags = lex_path(main)
    assert lines == []
    warning, error = only(diags, WARNING), only(diags, ERROR)
    assert warning.pos == Pos(str(main), 1, 9) and f"cannot read included file {tmp_path}/dir.conf" in warning.message
    assert error.pos == Pos(str(main), 2, 10) and "dangling.conf" in error.message


def test_include_cycle_is_detected(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "m\ninclude a.conf\n")
    write(tmp_path / "a.conf", "a\ninclude b.conf\n")
    b = write(tmp_path / "b.conf", "b\n  include main.conf\n")
    lines, diags = lex_path(main)
    d = only(diags)
    assert d.pos == Pos(str(b), 2, 11)
    assert "include cycle" in d.message and str(main) in d.message
    assert flat(lines) == ["m", "a", "b"]


def test_self_include_and_repeated_include(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "include main.conf\ninclude x.conf\ninclude x.conf\n")
    write(tmp_path / "x.conf", "x\n")
    lines, diags = lex_path(main)
    assert only(diags).pos == Pos(str(main), 1, 9)
    assert flat(lines) == ["x", "x"]  # a file may be included twice, just not recursively


def test_include_depth_is_limited(tmp_path: Path) -> None:
    for i in range(40):
        write(tmp_path / f"f{i}.conf", f"l{i}\ninclude f{i + 1}.conf\n")
    write(tmp_path / "f40.conf", "end\n")
    lines, diags = lex_path(tmp_path / "f0.conf")
    d = only(diags)
    assert "nested more than 32 deep" in d.message and d.pos == Pos(str(tmp_path / "f31.conf"), 2, 9)
    assert len(lines) == 32


def test_include_quoted_name_with_spaces_and_syntax_errors(tmp_path: Path) -> None:
    write(tmp_path / "my file.conf", "spaced\n")
    main = write(tmp_path / "main.conf", 'include "my file.conf"\ninclude\ninclude my file.conf\n')
    lines, diags = lex_path(main)
    assert flat(lines) == ["spaced"]
    msgs = [(d.pos, d.message) for d in diags.errors]
    assert msgs[0] == (Pos(str(main), 2, 1), "'include' needs a file name")
    assert msgs[1][0] == Pos(str(main), 3, 12) and "unexpected 'file.conf'" in msgs[1][1]


def test_include_after_conditional_or_parameter_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "x.conf", "x\n")
    lines, diags = lex("@main include x.conf\n$I=include x.conf\n$I\n", base_dir=str(tmp_path))
    assert lines == []
    assert [d.pos for d in diags.errors] == [Pos("<string>", 1, 7), Pos("<string>", 3, 1)]
    assert "cannot be used with conditional configuration" in diags.errors[0].message


def test_include_check_setting_applies_to_later_includes(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "include a.conf\ninclude_check\ninclude b.conf\n")
    lines, diags = lex_path(main)
    assert flat(lines) == ["include_check"]
    assert only(diags, WARNING).pos.line == 1
    assert only(diags, ERROR).pos.line == 3


def test_include_check_is_restored_after_an_included_file(tmp_path: Path) -> None:
    write(tmp_path / "strict.conf", "include_check match\ninclude inner-missing.conf\n")
    main = write(tmp_path / "main.conf", "include strict.conf\ninclude outer-missing.conf\n")
    _, diags = lex_path(main)
    assert "inner-missing" in only(diags, ERROR).message
    assert "outer-missing" in only(diags, WARNING).message


@pytest.mark.parametrize(
    "words_, expected",
    [
        ([], {"readable", "match", "wildcard_match", "brace_match"}),
        (["readable"], {"readable"}),
        (["match", "brace_match"], {"match", "brace_match"}),
        (["+match", "-readable"], {"match", "wildcard_match"}),
        (["+", "brace_match"], {"readable", "wildcard_match", "brace_match"}),
    ],
)
def test_apply_include_check(words_: list[str], expected: set[str]) -> None:
    current = frozenset({"readable", "wildcard_match"})
    assert lexer_module._apply_include_check(current, words_) == expected


def test_pwd_follows_included_file(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "x.conf", "p ${_PWD}\n")
    main = write(tmp_path / "main.conf", "include sub/x.conf\np ${_PWD}\n")
    lines, _ = lex_path(main)
    assert words(lines) == [["p", str(tmp_path / "sub")], ["p", str(tmp_path)]]


def test_parameters_defined_in_an_include_are_visible_after_it(tmp_path: Path) -> None:
    write(tmp_path / "defs.conf", "$IF=eth3\n")
    main = write(tmp_path / "main.conf", "include defs.conf\ninterface $IF\n")
    lines, _ = lex_path(main)
    assert words(lines) == [["interface", "eth3"]]


def test_lex_text_relative_includes_use_base_dir(tmp_path: Path) -> None:
    write(tmp_path / "x.conf", "x\n")
    lines, diags = lex("include x.conf\n", base_dir=str(tmp_path))
    no_problems(diags)
    assert lines[0].tokens[0].pos == Pos(str(tmp_path / "x.conf"), 1, 1)


def test_lex_file_reports_unreadable_top_level_file(tmp_path: Path) -> None:
    diags = Diagnostics()
    missing = tmp_path / "nope.conf"
    assert lex_file(missing, diags, config_id="a") == []
    d = only(diags)
    assert d.pos == Pos(str(missing), 1, 1) and "cannot read configuration file" in d.message
    diags = Diagnostics()
    assert lex_file(tmp_path, diags, config_id="a") == []
    assert diags.has_errors


def test_samples_lex_without_errors() -> None:
    samples = Path("/usr/share/doc/keepalived/samples")  # Debian's keepalived
    if not samples.is_dir():
        pytest.skip("keepalived sample configs not available")
    for path in sorted(samples.glob("keepalived.conf.*")):
        diags = Diagnostics()
        lines = lex_file(path, diags, config_id="high")
        assert lines, path
        assert not diags.has_errors, [str(d) for d in diags]


def test_large_generated_config_lexes_completely(tmp_path: Path) -> None:
    """Every line of a large file comes through (speed is measured in bench/, not here)."""
    block = (
        "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {r}\n"
        "    priority 100\n    virtual_ipaddress {{\n        10.0.{r}.1/24\n    }}\n}}\n"
    )
    path = write(tmp_path / "big.conf", "".join(block.format(i=i, r=i % 255) for i in range(2000)))
    lines, diags = lex_path(path)
    assert len(lines) == 18000 and not diags.items
    assert [t.text for t in lines[-6].tokens] == ["virtual_router_id", str(1999 % 255)]
    assert lines[-6].tokens[0].pos.line == 2000 * 9 - 5


# ---------------------------------------------------------------- the per-text line cache


def test_repeated_lines_keep_their_own_positions_and_meaning() -> None:
    text = '  notify "/bin/n.sh x"\n@main  a b\n  notify "/bin/n.sh x"\n@main  a b\n$V=1\nv $V\n$V=2\nv $V\n'
    lines, diags = lex(text, filename="c.conf")
    no_problems(diags)
    assert located(lines) == [
        [("notify", 1, 3), ("/bin/n.sh x", 1, 10)],
        [("a", 2, 8), ("b", 2, 10)],
        [("notify", 3, 3), ("/bin/n.sh x", 3, 10)],
        [("a", 4, 8), ("b", 4, 10)],
        [("v", 6, 1), ("1", 6, 3)],
        [("v", 8, 1), ("2", 8, 3)],
    ]
    assert [t.quoted for t in lines[2].tokens] == [False, True]


def test_repeated_lines_with_problems_report_each_time(tmp_path: Path) -> None:
    write(tmp_path / "bad.conf", 'x "open\n')
    main = write(tmp_path / "main.conf", 'include bad.conf\ninclude bad.conf\nx "open\n')
    lines, diags = lex_path(main)
    assert [d.pos for d in diags.errors] == [Pos(str(tmp_path / "bad.conf"), 1, 3), Pos(str(main), 3, 3)]
    assert flat(lines) == ["x open"] * 3


def test_repeated_include_check_lines_act_in_each_file(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", "include_check\ninclude none-a.conf\n")
    write(tmp_path / "b.conf", "include_check\ninclude none-b.conf\n")
    main = write(tmp_path / "main.conf", "include a.conf\ninclude b.conf\n")
    _, diags = lex_path(main)
    assert len(diags.errors) == 2 and not diags.warnings
